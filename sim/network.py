"""Build a Brian2 network from a connectome once; run trials with stimuli on it.

>>> import connectomes, sim
>>> from brian2 import Hz, ms, second
>>> c = connectomes.load("winding2023")                                   # doctest: +SKIP
>>> net = sim.Network(c, model="current_lif", signs="literature")        # doctest: +SKIP
>>> olf = c.select(modality="olfactory")                                 # doctest: +SKIP
>>> res = net.run([sim.PoissonDrive(olf, 150*Hz)], duration=1*second, trials=5, seed=1)  # doctest: +SKIP
>>> res.readout()                                                        # doctest: +SKIP

The network is built once (neurons, recurrent synapses from the connectome's
synapse counts and the presynaptic signs, a drive input, monitors) and its
initial state stored; every trial restores that state, applies the trial's
stimuli and silencing, and runs. Nothing is rebuilt between trials or when the
stimuli change.

Order of events within a time step (Brian2): state update, threshold,
synaptic propagation, reset. A drive event delivered in step ``k`` makes its
target spike in step ``k + 1``; a spike in step ``k`` reaches its targets
``delay`` later (their ``g`` changes at the end of step ``k + delay/dt``).
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import platform
import sys
import time
from pathlib import Path
from typing import Sequence

import brian2
import numpy as np
from brian2 import (Clock, NeuronGroup, SpikeGeneratorGroup, SpikeMonitor, StateMonitor, Synapses, TimedArray,
                    mV, ms, prefs, second)
from brian2 import Network as BrianNetwork
from brian2 import get_unit
from brian2.devices.device import all_devices, reset_device, set_device
from tqdm.auto import tqdm

from connectomes.connectome import larvasim_version
from connectomes.paths import cache_dir
from connectomes.winding2023 import SYNAPSE_TYPES
from models import DEFAULT_MODEL, DEFAULT_SIGNS, get_model
from models.neurons import NeuronModel

from .results import Results
from .stimuli import InputEvents, PoissonDrive, Silence, as_indices, draw_inputs

__all__ = ["Network", "DEVICES", "WEIGHT_MODES", "cell_classes", "versions"]

#: Brian2 code-generation targets of the runtime device.
RUNTIME_DEVICES = ("numpy", "cython")
#: All devices: the runtime targets, Brian2's C++ standalone device and larvasim's numba engine.
DEVICES = RUNTIME_DEVICES + ("cpp_standalone", "numba")

#: The network whose C++ standalone project is currently built (Brian2 has one
#: standalone device per process; building another network's project replaces it).
_STANDALONE_OWNER = None

#: How synapse counts become weights (see :class:`Network`).
WEIGHT_MODES = ("count", "binary")

#: Cell classes of the conductance model (Jürgensen et al. 2024) by Data S1 cell type.
_CLASS_OF_CELLTYPE = {"PN": "PN", "LN": "LN", "KC": "KC", "MBON": "MBON", "MBIN": "MBIN"}


def cell_classes(connectome) -> np.ndarray:
    """Cell-class label per neuron for models with class parameters.

    Olfactory sensory neurons -> ``"ORN"``; PN, LN, KC, MBON, MBIN by cell
    type; the APL (by name) -> ``"APL"``; everyone else ``None`` (the model's
    default class).
    """
    n = connectome.neurons
    labels = np.array([_CLASS_OF_CELLTYPE.get(ct) for ct in n["celltype"]], dtype=object)
    olf = n["modality"].str.split(";").apply(lambda m: "olfactory" in m).to_numpy() & (n["celltype"] == "sensory").to_numpy()
    labels[olf] = "ORN"
    labels[(n["mb_name"] == "APL").to_numpy()] = "APL"
    return labels


def versions() -> dict:
    """Versions of larvasim and the libraries a run depends on."""
    import h5py
    import numba
    import scipy

    return {"larvasim": larvasim_version(), "brian2": brian2.__version__, "numpy": np.__version__,
            "scipy": scipy.__version__, "numba": numba.__version__, "h5py": h5py.__version__,
            "python": sys.version.split()[0], "platform": platform.platform()}


@contextlib.contextmanager
def _codegen(target: str):
    old = prefs.codegen.target
    prefs.codegen.target = target
    try:
        yield
    finally:
        prefs.codegen.target = old


def _resolve_signs(connectome, signs, seed, sign_options):
    """Signs per neuron and their description, from a policy name, a CSV path or an array."""
    if isinstance(signs, np.ndarray) or isinstance(signs, (list, tuple)):
        arr = np.asarray(signs, dtype=float)
        if arr.shape != (connectome.n_neurons,):
            raise ValueError(f"signs array must have one entry per neuron ({connectome.n_neurons}), got {arr.shape}")
        if not np.isin(arr, (-1, 0, 1)).all():
            raise ValueError("signs must be +1, -1 or 0")
        return arr, {"policy": "array", "n_excitatory": int((arr > 0).sum()),
                     "n_inhibitory": int((arr < 0).sum()), "n_no_fast_synapses": int((arr == 0).sum())}
    if hasattr(signs, "signs") and hasattr(signs, "to_dict"):
        return np.asarray(signs.signs, dtype=float), signs.to_dict()
    from models.signs import assign_signs

    opts = dict(sign_options)
    if signs == "random":
        opts.setdefault("seed", seed)
    a = assign_signs(connectome, signs, **opts)
    return np.asarray(a.signs, dtype=float), a.to_dict()


class Network:
    """A whole-brain (or any connectome) spiking network, built once.

    Parameters
    ----------
    connectome : connectomes.Connectome
    model : str or models.NeuronModel
        ``"larval_lif"`` (default: the larval model, :class:`models.LarvalLIF`),
        ``"current_lif"`` (the adult model of Shiu et al. 2024; use it with
        ``signs="excitatory"`` as published), ``"conductance_lif"``
        (Jürgensen et al. 2024) or a model instance (with overrides).
    signs : str, path, array or SignAssignment
        Sign policy of the presynaptic neurons (``"literature"``, the default,
        ``"excitatory"``, ``"random"``, a CSV path; see :mod:`models.signs`),
        or an array of +1/-1/0 per neuron. Neurons with sign 0 have no fast
        synapses.
    synapse_types : sequence of str, optional
        Which synapse types count (``ad``, ``aa``, ``dd``, ``da``); default: the
        model's own (:attr:`models.NeuronModel.synapse_types`; the larval model's
        calibrated choice), else all four.
    weight_mode : {"count", "binary"}
        ``"count"``: a connection of ``n`` synapses has weight ``n x w_syn``
        (Shiu et al. 2024); ``"binary"``: every connection has weight ``w_syn``.
    device : {"numpy", "cython", "cpp_standalone"}
        ``"numpy"``: Brian2 runtime without a compiler (the teaching default);
        ``"cython"``: runtime with compiled code objects (about a minute to
        compile the first time, cached); ``"cpp_standalone"``: Brian2 compiles
        the whole network into a C++ program at the first :meth:`run` (about
        15 s), then every trial, stimulus and silencing with the same duration
        and drive targets re-runs that program with new ``run_args``
        (TimedArray drive, synaptic weights) without recompiling. The project
        lives in ``<cache>/standalone/<key>``; Brian2 allows one standalone
        project per process at a time, so running a second standalone network
        rebuilds when the first is used again. ``"numba"``: larvasim's own
        engine (:mod:`sim.engine_numba`), spike for spike identical to Brian2
        for the same input events (plasticity included) and about 7x faster
        than C++ standalone; no compiler needed.
    drive_weight : Quantity (volt), optional
        Jump of ``v`` per drive event; default ``poisson_weight_factor x w_syn``
        (68.75 mV, Shiu et al. 2024) for the current LIF, 100 mV otherwise --
        large enough that every event outside refractoriness forces a spike.
    record : "all" or Selection
        Neurons whose spikes are recorded.
    record_states : dict, optional
        ``{variable: selection}`` of state variables to record every step for
        a few neurons, e.g. ``{"v": c.select(name="MBON-i1")}``.
    plasticity : object, optional
        A plasticity rule (see :mod:`models.plasticity`): its
        ``plastic_edges(connectome, pre, post)`` picks the connections that
        become plastic and ``build(network, pre=, post=, count=, sign=, clock=)``
        returns ``[(synapses, pre, post, initial_weights), *other_brian_objects]``.
    seed : int
        Seed of the ``random`` sign policy (trial inputs use the seed given to
        :meth:`run`).
    drive_targets : Selection or array of int, optional
        C++ standalone only: neurons that any later run may drive, compiled in
        at the first run, so that runs driving different subsets of them
        (e.g. one modality after another) reuse one build.
    standalone_root : path, optional
        Folder of the C++ standalone projects (default ``<cache>/standalone``).
        Processes that run the same network at once need one folder each (the
        compiled program writes its results into its project);
        :mod:`sim.sweep` gives every worker process its own.
    threads : int, optional
        ``device="numba"`` only: trials simulated at once, one thread each
        (default: one per core; 1 in processes that already run one per core,
        e.g. the workers of a sweep). A trial's spikes do not depend on it.
    **sign_options
        Passed to the sign policy (e.g. ``fraction=0.3``, ``modulatory="none"``).
    """

    def __init__(self, connectome, model=DEFAULT_MODEL, signs=DEFAULT_SIGNS, *,
                 synapse_types: Sequence[str] | None = None, weight_mode: str = "count",
                 device: str = "numpy", drive_weight=None, record="all", record_states=None,
                 plasticity=None, seed: int = 0, standalone_root=None, drive_targets=None,
                 threads: int | None = None, **sign_options):
        t0 = time.perf_counter()
        if device not in DEVICES:
            raise ValueError(f"device must be one of {DEVICES}, got {device!r}")
        if weight_mode not in WEIGHT_MODES:
            raise ValueError(f"weight_mode must be one of {WEIGHT_MODES}, got {weight_mode!r}")
        if threads is not None and int(threads) < 1:
            raise ValueError(f"threads must be >= 1, got {threads!r}")
        self.threads = None if threads is None else int(threads)
        self.connectome = connectome
        self.plasticity = plasticity
        self.model: NeuronModel = get_model(model) if isinstance(model, str) else model
        self.device = device
        if synapse_types is None:  # the model's own choice (the larval model's calibrated one), else all four
            synapse_types = self.model.synapse_types or SYNAPSE_TYPES
        self.synapse_types = tuple(synapse_types)
        self.weight_mode = weight_mode
        self.signs, self.sign_info = _resolve_signs(connectome, signs, seed, sign_options)
        n = connectome.n_neurons
        self.n_neurons = n
        self.dt = self.model.dt
        self.dt_ms = float(self.dt / ms)
        p = self.model.parameters
        if drive_weight is None:
            if "drive_weight" in p:
                drive_weight = p["drive_weight"].value
            elif "poisson_weight_factor" in p and "w_syn" in p:
                drive_weight = p["poisson_weight_factor"].value * p["w_syn"].value
            else:
                drive_weight = 100 * mV
        self.drive_weight = drive_weight

        W = connectome.weights(self.synapse_types).tocoo()
        pre, post, count = W.row.astype(np.int64), W.col.astype(np.int64), W.data.astype(float)
        if weight_mode == "binary":
            count = np.ones_like(count)
        self._edges = (pre, post, count, self.signs[pre])
        #: per neuron, the model's factor on its incoming weights (from its number of input synapses)
        self.input_scale = np.asarray(self.model.input_scale(np.bincount(post, weights=count, minlength=n),
                                                             celltypes=connectome.neurons["celltype"].to_numpy()),
                                      dtype=float)
        self.n_synapses = int((self._edges[3] != 0).sum())
        self.recorded = np.arange(n) if isinstance(record, str) and record == "all" else as_indices(record, n)
        self._record_states = {var: as_indices(sel, n) for var, sel in (record_states or {}).items()}
        self._standalone = None  # (device, directory, n_steps, drive targets) once built
        self.standalone_root = Path(standalone_root) if standalone_root else None
        self.drive_targets = (np.zeros(0, np.int64) if drive_targets is None
                              else as_indices(drive_targets, n))
        if device in RUNTIME_DEVICES:
            with _codegen(device):
                self._build_objects(drive_targets=None)
                self.net.store("initial")
        self.build_time = time.perf_counter() - t0

    def _build_objects(self, drive_targets=None, n_steps=None):
        """Create the Brian2 objects.

        ``drive_targets=None``: the drive is a ``SpikeGeneratorGroup`` over all
        neurons whose spikes are set per trial (runtime devices). Otherwise a
        group of one input unit per target neuron fires when a ``TimedArray``
        of shape ``(n_steps, len(drive_targets))`` holds 1 (C++ standalone,
        whose TimedArray values change per trial through ``run_args``).
        """
        n = self.n_neurons
        pre, post, count, sgn = self._edges
        self.clock = Clock(self.dt, name="larvasim_clock")
        clk = {"clock": self.clock}
        self.group = self.model.neuron_group(n, cell_classes=self.cell_classes, name="brain", **clk)
        self.pathways = []
        # edges handed to a plasticity rule (e.g. KC -> MBON) form their own pathway
        plastic = self._plastic_mask()
        fast = (sgn != 0) & ~plastic
        kinds = [("excitatory", fast)] if self.model.shared_pathway else [
            ("excitatory", fast & (sgn > 0)), ("inhibitory", fast & (sgn < 0))]
        for kind, mask in kinds:
            if not mask.any():
                continue
            syn = Synapses(self.group, self.group, **self.model.synapses_kwargs(kind),
                           name=f"synapses_{kind}", **clk)
            syn.connect(i=pre[mask], j=post[mask])
            w = self.synaptic_weights(post[mask], count[mask], sgn[mask])
            syn.w = w
            self.pathways.append((syn, pre[mask], post[mask], np.asarray(w, dtype=float)))
        if drive_targets is None:
            self.drive = SpikeGeneratorGroup(n, np.zeros(0, dtype=int), np.zeros(0) * ms, name="drive", **clk)
            self.drive_input = None
            targets = "i"
        else:
            self.drive_input = TimedArray(np.zeros((n_steps, len(drive_targets))), dt=self.dt, name="drive_input")
            self.drive = NeuronGroup(len(drive_targets), "", threshold="drive_input(t, i) > 0.5",
                                     reset="", namespace={"drive_input": self.drive_input}, name="drive", **clk)
            targets = None
        self.drive_synapses = Synapses(self.drive, self.group, on_pre="v_post += w_drive",
                                       namespace={"w_drive": self.drive_weight}, name="drive_synapses", **clk)
        if targets == "i":
            self.drive_synapses.connect(j="i")
        else:
            self.drive_synapses.connect(i=np.arange(len(drive_targets)), j=np.asarray(drive_targets))
        # SpikeMonitor records all or nothing; a subset is kept when collecting
        self.spike_monitor = SpikeMonitor(self.group, name="spikes")
        self.plastic_objects = []
        if plastic.any():
            # the rule returns its Brian2 objects; the plastic Synapses comes first, as
            # (synapses, pre, post, initial weights) like the other pathways
            (syn, p_pre, p_post, w0), *extra = self.plasticity.build(
                self, pre=pre[plastic], post=post[plastic], count=count[plastic], sign=sgn[plastic], clock=self.clock)
            self.pathways.append((syn, p_pre, p_post, w0))
            self.plastic_objects = extra
        objs = ([self.group, self.drive, self.drive_synapses, self.spike_monitor] + [s for s, *_ in self.pathways]
                + list(self.plastic_objects))
        self.state_monitors = {}
        for var, idx in self._record_states.items():
            mon = StateMonitor(self.group, var, record=idx, name=f"state_{var}", **clk)
            self.state_monitors[var] = (mon, idx)
            objs.append(mon)
        self.net = BrianNetwork(*objs)

    def synaptic_weights(self, post, count, sign):
        """Weights of connections onto ``post``: the model's weights times the postsynaptic input scale.

        Parameters
        ----------
        post : array of int
            Postsynaptic neuron of each connection.
        count, sign : arrays
            Synapse counts and presynaptic signs (+1/-1).

        Returns
        -------
        brian2.Quantity
        """
        return self.model.synaptic_weights(count, sign) * self.input_scale[np.asarray(post, dtype=np.int64)]

    # -- C++ standalone ------------------------------------------------------------------
    @property
    def cell_classes(self) -> np.ndarray:
        """Cell-class label per neuron (:func:`cell_classes`), computed once."""
        if getattr(self, "_cell_classes", None) is None:
            self._cell_classes = cell_classes(self.connectome)
        return self._cell_classes

    def _plastic_mask(self) -> np.ndarray:
        """Which edges the plasticity rule takes (e.g. KC -> MBON); none without a rule."""
        pre, post, _, sgn = self._edges
        if self.plasticity is None:
            return np.zeros(len(pre), dtype=bool)
        return self.plasticity.plastic_edges(self.connectome, pre, post) & (sgn != 0)

    def _standalone_dir(self, n_steps, targets) -> Path:
        blob = json.dumps({"net": {k: v for k, v in self.describe().items() if k != "connectome"},
                           "key": self.connectome.provenance.get("cache_key"), "n_steps": n_steps,
                           "targets": hashlib.sha256(np.asarray(targets, np.int64).tobytes()).hexdigest(),
                           "recorded": hashlib.sha256(self.recorded.tobytes()).hexdigest(),
                           "states": {k: v.tolist() for k, v in self._record_states.items()},
                           "brian2": brian2.__version__}, sort_keys=True, default=str)
        root = Path(self.standalone_root) if self.standalone_root else cache_dir() / "standalone"
        return root / hashlib.sha256(blob.encode()).hexdigest()[:16]

    def _build_standalone(self, n_steps, targets):
        """Generate and compile the C++ project once for (duration, drive targets)."""
        global _STANDALONE_OWNER
        directory = self._standalone_dir(n_steps, targets)
        directory.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        sa = all_devices["cpp_standalone"]
        sa.reinit()
        set_device("cpp_standalone", build_on_run=False, directory=str(directory))
        try:
            self._build_objects(drive_targets=targets, n_steps=n_steps)
            self.net.run(n_steps * self.dt, namespace={})
            sa.build(directory=str(directory), compile=True, run=False, with_output=False)
        finally:
            reset_device()
        _STANDALONE_OWNER = self
        self._standalone = (sa, directory, n_steps, np.asarray(targets, dtype=np.int64))
        self.compile_time = time.perf_counter() - t0

    def _run_standalone(self, inputs, silences, n_steps, weight_scale=None):
        """Run the compiled project once per trial with the trial's drive and weights as run_args."""
        targets = np.unique(np.concatenate([e.neurons for e in inputs] + [self.drive_targets]))
        if not len(targets):
            targets = np.zeros(1, dtype=np.int64)  # one idle input unit
        st = self._standalone
        if (st is None or _STANDALONE_OWNER is not self or st[2] != n_steps
                or not np.isin(targets, st[3]).all()):
            self._build_standalone(n_steps, targets)
        sa, directory, _, built_targets = self._standalone
        pos = {int(t): k for k, t in enumerate(built_targets)}
        cut = self._silence_masks(silences)
        scales = self._weight_scales(weight_scale)  # pathways exist only once built
        run_args_w = {syn.w: np.where(c, 0.0, w0 * s) * get_unit(syn.w.dim)
                      for (syn, _, _, w0), c, s in zip(self.pathways, cut, scales) if c.any() or s != 1.0}
        for ev in inputs:
            values = np.zeros((n_steps, len(built_targets)))
            if len(ev):
                values[ev.steps, [pos[int(i)] for i in ev.neurons]] = 1.0
            sa.run(directory=str(directory), with_output=False,
                   run_args={self.drive_input: values, **run_args_w})
            yield

    # -- description -------------------------------------------------------------------
    def describe(self) -> dict:
        """JSON-serialisable description of the network (for results metadata)."""
        return {
            "model": self.model.to_dict(),
            "signs": self.sign_info,
            "synapse_types": list(self.synapse_types),
            "weight_mode": self.weight_mode,
            "device": self.device,
            "drive_weight_mV": float(self.drive_weight / mV),
            "n_neurons": self.n_neurons,
            "n_connections": self.n_synapses,
            "dt_ms": self.dt_ms,
            "plasticity": self.plasticity.to_dict() if self.plasticity is not None else None,
            "connectome": self.connectome.provenance,
        }

    def __repr__(self):
        return (f"<Network {self.connectome.name}: {self.n_neurons} neurons, {self.n_synapses} connections, "
                f"model={self.model.name}, signs={self.sign_info.get('policy')}, device={self.device}>")

    # -- running -------------------------------------------------------------------------
    def _split(self, stimuli):
        drives, silences = [], []
        for s in stimuli:
            if isinstance(s, PoissonDrive):
                drives.append(s)
            elif isinstance(s, Silence):
                silences.append(s)
            else:
                raise TypeError(f"unknown stimulus {s!r}; use PoissonDrive, Activation or Silence")
        return drives, silences

    def _engine(self, silences, n_steps, weight_scale):
        """The numba engine's network for these silences and weight scales, and the plasticity plan.

        The last few are kept (keyed by everything they depend on), so that runs
        repeating a condition -- a sweep's seeds, a protocol's larvae -- skip
        the preparation (about 6 ms for the whole brain).
        """
        out_off, all_off = self._silenced(silences)
        key = (n_steps, hashlib.sha1(np.packbits(out_off).tobytes() + np.packbits(all_off).tobytes()).hexdigest(),
               json.dumps(weight_scale, sort_keys=True, default=str),
               json.dumps(self.plasticity.to_dict(), sort_keys=True, default=str) if self.plasticity else None)
        cache = self.__dict__.setdefault("_engine_cache", {})
        if key not in cache:
            cache[key] = self._prepare_engine(out_off, all_off, n_steps, weight_scale)
            while len(cache) > 2:
                cache.pop(next(iter(cache)))
        return cache[key]

    def _prepare_engine(self, out_off, all_off, n_steps, weight_scale):
        """Build what :meth:`_engine` keeps (masks of the cut outgoing and fully silenced neurons)."""
        from .engine_numba import prepare

        pre, post, count, sgn = self._edges
        plastic = self._plastic_mask()
        fast = (sgn != 0) & ~plastic
        factor = self._scale_of(weight_scale)
        w = np.asarray(self.synaptic_weights(post[fast], count[fast], sgn[fast]), dtype=float)
        if weight_scale is not None:
            kind = (np.where(sgn[fast] < 0, "inhibitory", "excitatory") if not self.model.shared_pathway
                    else np.full(int(fast.sum()), "excitatory"))
            w = w * np.array([factor[k] for k in kind])
        w[out_off[pre[fast]] | all_off[post[fast]]] = 0.0
        plan = pw = None
        if plastic.any():
            plan = self.plasticity.plan(self, pre=pre[plastic], post=post[plastic], count=count[plastic],
                                        sign=sgn[plastic])
            pw = np.where(out_off[plan.pre] | all_off[plan.post], 0.0, plan.w0 * factor["plastic"])
        engine = prepare(self.model, self.n_neurons, pre[fast], post[fast], w, n_steps,
                         drive_weight=float(self.drive_weight), inhibitory=sgn[fast] < 0,
                         cell_classes=self.cell_classes, record=self.recorded, record_states=self._record_states,
                         plasticity=plan, plastic_weights=pw, blocked=all_off)
        return engine, plan

    def engine_network(self, duration, stimuli: Sequence = (), weight_scale=None):
        """This network as the numba engine runs it, for ``duration`` and the silencing in ``stimuli``.

        The result (:class:`sim.engine_numba.EngineNetwork`) holds plain arrays
        only; save it and run it in processes that import just
        :mod:`sim.engine_numba` (no Brian2), with input events drawn here
        (:meth:`draw_inputs`). Drives in ``stimuli`` are ignored: the events
        are given per trial.
        """
        if not isinstance(duration, brian2.Quantity) or duration.dim != second.dim:
            raise ValueError(f"duration must be a time, e.g. 1*second; got {duration!r}")
        _, silences = self._split(stimuli)
        return self._engine(silences, int(round(float(duration / self.dt))), weight_scale)[0]

    def _run_numba(self, inputs, silences, n_steps, weight_scale):
        """All trials on the numba engine (:mod:`sim.engine_numba`), same semantics as Brian2.

        Returns the engine's output and the plastic-weight states for the results.
        """
        engine, plan = self._engine(silences, n_steps, weight_scale)
        out = engine.run(inputs, threads=self.threads)
        plastic_states = {}
        if plan is not None:
            self.plasticity._start(plan)
            for trial in range(out.n_trials):
                samples = out.plastic.samples[trial] if plan.record_dt is not None else None
                for var, (idx, t_ms, vals, unit) in self.plasticity.summarise_trial(
                        samples, out.plastic.t_ms, trial, out.plastic.final[trial]).items():
                    plastic_states.setdefault(var, (idx, t_ms, [], unit))[2].append(vals)
        return out, plastic_states

    def _silenced(self, silences):
        """Boolean masks (outgoing cut, fully silenced) over neurons."""
        out_off = np.zeros(self.n_neurons, dtype=bool)
        all_off = np.zeros(self.n_neurons, dtype=bool)
        for s in silences:
            idx = as_indices(s.target, self.n_neurons)
            out_off[idx] = True
            if s.mode == "all":
                all_off[idx] = True
        return out_off, all_off

    @staticmethod
    def _scale_of(weight_scale) -> dict[str, float]:
        """Factor per pathway kind (excitatory, inhibitory, plastic) from ``weight_scale``."""
        kinds = ("excitatory", "inhibitory", "plastic")
        if weight_scale is None:
            return dict.fromkeys(kinds, 1.0)
        if isinstance(weight_scale, dict):
            unknown = set(weight_scale) - set(kinds)
            if unknown:
                raise ValueError(f"weight_scale keys must be pathway kinds (excitatory, inhibitory, plastic), "
                                 f"got {sorted(unknown)}")
            out = {k: float(weight_scale.get(k, 1.0)) for k in kinds}
        else:
            out = dict.fromkeys(kinds, float(weight_scale))
        if not all(np.isfinite(list(out.values()))):
            raise ValueError(f"weight_scale must be finite, got {weight_scale!r}")
        return out

    def _weight_scales(self, weight_scale) -> list[float]:
        """Factor per pathway from ``weight_scale`` (a number, or ``{pathway kind: number}``)."""
        factor = self._scale_of(weight_scale)
        return [factor[syn.name.removeprefix("synapses_")] if syn.name in ("synapses_excitatory",
                                                                           "synapses_inhibitory")
                else factor["plastic"] for syn, *_ in self.pathways]

    def _silence_masks(self, silences):
        """Per pathway, which synapses are cut by ``silences``."""
        out_off, all_off = self._silenced(silences)
        return [out_off[pre] | all_off[post] for _, pre, post, _ in self.pathways]

    def draw_inputs(self, stimuli, duration, trials: int = 1, seed: int = 0) -> list[InputEvents]:
        """The input events :meth:`run` would use (one :class:`InputEvents` per trial)."""
        drives, _ = self._split(stimuli)
        n_steps = int(round(float(duration / self.dt)))
        dead_ms = float(self.model.parameters["t_ref"].value / ms) + self.dt_ms if "t_ref" in self.model.parameters else self.dt_ms
        out = []
        for trial in range(trials):
            rng = np.random.default_rng(np.random.SeedSequence([int(seed), trial]))
            out.append(draw_inputs(drives, n_steps, self.dt_ms, dead_ms, rng))
        return out

    def run(self, stimuli: Sequence = (), duration=1 * second, trials: int = 1, seed: int = 0,
            inputs: Sequence[InputEvents] | None = None, progress: bool | None = None,
            weight_scale=None) -> Results:
        """Run ``trials`` trials of ``duration`` with ``stimuli``; return :class:`~sim.results.Results`.

        Parameters
        ----------
        stimuli : sequence of PoissonDrive, Activation, Silence
        duration : Quantity (time)
            Length of each trial.
        trials : int
            Number of trials; trial ``k`` draws its input from ``SeedSequence([seed, k])``.
        seed : int
            Seed of the run: the same seed gives the same spikes.
        inputs : sequence of InputEvents, optional
            Pre-generated input events per trial (overrides the drives' random
            draw; used to feed two engines identical input).
        progress : bool, optional
            Show a progress bar (default: when more than one trial).
        weight_scale : float or dict, optional
            Multiply the built synaptic weights for this run, like silencing,
            without rebuilding: a number scales every pathway, ``{"excitatory":
            a, "inhibitory": b, "plastic": c}`` each kind (``current_lif`` has one
            signed pathway, ``"excitatory"``). ``w_syn`` swept this way gives
            the weights of a network built with ``w_syn x scale`` (up to
            rounding) but keeps the drive weight of the build (:mod:`sim.sweep`).
        """
        if not isinstance(duration, brian2.Quantity) or duration.dim != second.dim:
            raise ValueError(f"duration must be a time, e.g. 1*second; got {duration!r}")
        if trials < 1:
            raise ValueError("trials must be >= 1")
        drives, silences = self._split(stimuli)
        scales = self._weight_scales(weight_scale) if self.device in RUNTIME_DEVICES else None
        n_steps = int(round(float(duration / self.dt)))
        given = inputs is not None
        if not given:
            inputs = self.draw_inputs(stimuli, duration, trials, seed)
        elif len(inputs) != trials:
            raise ValueError(f"inputs has {len(inputs)} trials, expected {trials}")
        # the trial's events, minus those to fully silenced neurons and beyond the end
        # (the numba engine does the same in its worker threads)
        _, all_off = self._silenced(silences)
        cleaned = []
        for ev in (inputs if self.device != "numba" else ()):
            keep = (ev.steps < n_steps) & (ev.steps >= 0) & ~all_off[ev.neurons]
            key = np.unique(ev.steps[keep].astype(np.int64) * self.n_neurons + ev.neurons[keep])  # one per
            cleaned.append(InputEvents(key % self.n_neurons, key // self.n_neurons, self.dt_ms))  # step, neuron
        spikes_t, spikes_i, spikes_k = [], [], []
        states = {var: [] for var in self._record_states}
        plastic_states = {}
        show = trials > 1 if progress is None else progress
        bar = tqdm(total=trials, desc="trials", disable=not show, leave=False)
        t0 = time.perf_counter()

        subset = len(self.recorded) < self.n_neurons

        def collect(trial):
            i = np.asarray(self.spike_monitor.i[:], dtype=np.int64)
            t = np.asarray(self.spike_monitor.t[:] / ms, dtype=float)
            if subset:
                keep = np.isin(i, self.recorded)
                i, t = i[keep], t[keep]
            spikes_i.append(i)
            spikes_t.append(np.round(t, 6))
            spikes_k.append(np.full(len(i), trial, dtype=np.int32))
            for var, (mon, idx) in self.state_monitors.items():
                states[var].append(np.asarray(getattr(mon, var)[:]))
            # a plasticity rule may record its weights: {var: (neuron ids, times_ms, values, unit)}
            if self.plasticity is not None and hasattr(self.plasticity, "collect"):
                for var, (idx, t_ms, vals, unit) in self.plasticity.collect(self, trial).items():
                    plastic_states.setdefault(var, (idx, t_ms, [], unit))[2].append(vals)
            bar.update()

        numba_states = None
        if self.device == "numba":
            out, plastic_states = self._run_numba(list(inputs), silences, n_steps, weight_scale)
            for trial in range(trials):
                nodes, _ = out.spikes[trial]
                t = out.times_ms(trial)
                keep = np.isin(nodes, self.recorded) if subset else slice(None)
                spikes_i.append(np.asarray(nodes, dtype=np.int64)[keep])
                spikes_t.append(t[keep])
                spikes_k.append(np.full(len(spikes_i[-1]), trial, dtype=np.int32))
                bar.update()
            numba_states = out.states or None
        elif self.device == "cpp_standalone":
            for trial, _ in enumerate(self._run_standalone(cleaned, silences, n_steps, weight_scale)):
                collect(trial)
        else:
            cut = self._silence_masks(silences)
            with _codegen(self.device):
                for trial, ev in enumerate(cleaned):
                    self.net.restore("initial")
                    for (syn, _, _, w0), c, s in zip(self.pathways, cut, scales):
                        if c.any() or s != 1.0:
                            syn.w_[:] = np.where(c, 0.0, w0 * s)
                    self.drive.set_spikes(ev.neurons, ev.steps * self.dt)
                    self.net.run(duration, namespace={})
                    collect(trial)
        bar.close()
        t_run = time.perf_counter() - t0
        metadata = {
            "network": self.describe(),
            "stimuli": [s.to_dict() for s in stimuli],
            "seed": int(seed),
            "trials": int(trials),
            "duration_ms": float(duration / ms),
            "inputs": "given" if given else "drawn from seed",
            "weight_scale": weight_scale,
            "n_input_events": [int(len(e)) for e in inputs],
            "versions": versions(),
            "build_time_s": self.build_time,
            "compile_time_s": getattr(self, "compile_time", None),
            "run_time_s": t_run,
        }
        state_data = numba_states
        if self.device != "numba" and self.state_monitors:
            state_data = {var: (idx, np.asarray(mon.t[:] / ms), np.stack(states[var]))
                          for var, (mon, idx) in self.state_monitors.items()}
        if plastic_states:
            state_data = dict(state_data or {})
            state_data.update({var: (idx, t_ms, np.stack(vals), unit)
                               for var, (idx, t_ms, vals, unit) in plastic_states.items()})
        return Results(np.concatenate(spikes_k), np.concatenate(spikes_i), np.concatenate(spikes_t),
                       neurons=self.connectome.neurons, n_trials=trials, duration=duration, dt=self.dt,
                       metadata=metadata, population=self.connectome.name, recorded=self.recorded,
                       states=state_data)
