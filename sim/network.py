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

import os
import platform
from pathlib import Path
import sys
import time
import warnings
from typing import Sequence

import brian2
import numpy as np
from brian2 import Hz, mV, ms, second
from tqdm.auto import tqdm

from larvasim.util import larvasim_version
from connectomes.winding2023 import (KC_CELLTYPE, LN_CELLTYPE, MBIN_CELLTYPE, MBON_CELLTYPE, PN_CELLTYPE,
                                     SENSORY_CELLTYPE, SYNAPSE_TYPES)
from models import DEFAULT_MODEL, DEFAULT_SIGNS, get_model
from models.neurons import NeuronModel

from .backends.base import DEFAULT_DEVICE, DEVICES, RUNTIME_DEVICES, backend_class
from .results import Results
from .stimuli import InputEvents, PoissonDrive, Silence, TrialInputs, as_indices, draw_inputs

__all__ = ["Network", "DEVICES", "DEFAULT_DEVICE", "RUNTIME_DEVICES", "WEIGHT_MODES", "cell_classes", "versions"]

#: How synapse counts become weights (see :class:`Network`).
WEIGHT_MODES = ("count", "binary")

#: Cell classes of the conductance model (Jürgensen et al. 2024) by the dataset's cell types.
_CLASS_OF_CELLTYPE = {PN_CELLTYPE: "PN", LN_CELLTYPE: "LN", KC_CELLTYPE: "KC", MBON_CELLTYPE: "MBON",
                      MBIN_CELLTYPE: "MBIN"}


def cell_classes(connectome) -> np.ndarray:
    """Cell-class label per neuron for models with class parameters.

    Olfactory sensory neurons -> ``"ORN"``; PN, LN, KC, MBON, MBIN by cell
    type; the APL (by name) -> ``"APL"``; everyone else ``None`` (the model's
    default class).
    """
    n = connectome.neurons
    labels = np.array([_CLASS_OF_CELLTYPE.get(ct) for ct in n["celltype"]], dtype=object)
    olf = (n["modality"].str.split(";").apply(lambda m: "olfactory" in m).to_numpy()
           & (n["celltype"] == SENSORY_CELLTYPE).to_numpy())
    labels[olf] = "ORN"
    labels[(n["mb_name"] == "APL").to_numpy()] = "APL"
    return labels


_VERSIONS: dict = {}


def versions() -> dict:
    """Versions of larvasim and the libraries a run depends on (looked up once per process: reading the
    installed package's metadata takes several ms, as long as a short trial, issue 16)."""
    if not _VERSIONS:
        import h5py
        import numba
        import scipy

        _VERSIONS.update({"larvasim": larvasim_version(), "brian2": brian2.__version__, "numpy": np.__version__,
                          "scipy": scipy.__version__, "numba": numba.__version__, "h5py": h5py.__version__,
                          "python": sys.version.split()[0], "platform": platform.platform()})
    return dict(_VERSIONS)


def _resolve_signs(connectome, signs, seed, sign_options):
    """Signs per neuron, their description and the :class:`models.signs.SignAssignment` behind them (None for
    an array), from a policy name, a CSV path, an assignment or an array."""
    if isinstance(signs, np.ndarray) or isinstance(signs, (list, tuple)):
        arr = np.asarray(signs, dtype=float)
        if arr.shape != (connectome.n_neurons,):
            raise ValueError(f"signs array must have one entry per neuron ({connectome.n_neurons}), got {arr.shape}")
        if not np.isin(arr, (-1, 0, 1)).all():
            raise ValueError("signs must be +1, -1 or 0")
        return arr, {"policy": "array", "n_excitatory": int((arr > 0).sum()),
                     "n_inhibitory": int((arr < 0).sum()), "n_no_fast_synapses": int((arr == 0).sum())}, None
    if hasattr(signs, "signs") and hasattr(signs, "to_dict"):
        return np.asarray(signs.signs, dtype=float), signs.to_dict(), signs
    from models.signs import assign_signs

    opts = dict(sign_options)
    if signs == "random":
        opts.setdefault("seed", seed)
    a = assign_signs(connectome, signs, **opts)
    return np.asarray(a.signs, dtype=float), a.to_dict(), a


def _check_memory(drives, duration, trials: int, n_neurons: int, n_steps: int) -> None:
    """Refuse a run whose pre-drawn input events alone would not fit in half the machine's memory."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # pragma: no cover - not POSIX
        return
    events = 0.0
    for d in drives:
        rate = d.rate if not callable(d.rate) else 1000 * Hz  # a time-varying drive: a generous bound
        events += float(rate / Hz) * len(as_indices(d.target)) * float(duration / second)
    need = trials * (events * 16 + n_steps * 8)  # neuron + step per event, one pointer per step
    if need > total / 2:
        raise ValueError(f"{trials} trial(s) of {float(duration / second):g} s would need about {need / 1e9:.1f} GB for their input "
                         f"events alone (this machine has {total / 1e9:.1f} GB): run fewer trials per call, or shorter ones")


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
        synapses. A policy's options go in ``**sign_options``, e.g.
        ``receptors="literature"``: receptor rules that override the presynaptic
        sign for some synapses (:mod:`models.receptors`; not the default).
    synapse_types : sequence of str, optional
        Which synapse types count (``ad``, ``aa``, ``dd``, ``da``); default: the
        model's own (:attr:`models.NeuronModel.synapse_types`; the larval model's
        calibrated choice), else all four.
    weight_mode : {"count", "binary"}
        ``"count"``: a connection of ``n`` synapses has weight ``n x w_syn``
        (Shiu et al. 2024); ``"binary"``: every connection has weight ``w_syn``.
    device : {"numba", "numpy", "cython", "cpp_standalone"}, optional
        Which backend simulates the network (:mod:`sim.backends`; default
        :data:`sim.backends.DEFAULT_DEVICE`, ``"numba"``, as everywhere in
        larvasim). ``"numba"``: larvasim's own engine (:mod:`sim.engine_numba`),
        spike for spike identical to Brian2 for the same input events
        (plasticity included), the fastest, no compiler needed; ``"numpy"``:
        Brian2 runtime without a compiler; ``"cython"``: runtime with
        compiled code objects (about a minute to compile the first time,
        cached); ``"cpp_standalone"``: Brian2 compiles the whole network into a
        C++ program at the first :meth:`run`, then every trial, stimulus and
        silencing with the same duration and drive targets re-runs that
        program with new ``run_args`` without recompiling (project in
        ``<cache>/standalone/<key>``; one standalone project per process at a
        time). A device that cannot run the model, the plasticity rule or the
        state recording asked for refuses at construction
        (:class:`sim.backends.BackendError`). Timings: ``docs/benchmarks.md``.
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
    sign_seed : int
        Seed of the ``random`` sign policy only; the input noise of every trial
        comes from the ``seed`` given to :meth:`run`. (``seed=`` here is the
        old name of ``sign_seed``: it still works, with a warning.)
    drive_targets : Selection or array of int, optional
        C++ standalone only: neurons that any later run may drive, compiled in
        at the first run, so that runs driving different subsets of them
        (e.g. one modality after another) reuse one build.
    standalone_root : path, optional
        Folder of the C++ standalone projects (default ``<cache>/standalone``).
        Processes that run the same network at once need one folder each (the
        compiled program writes its results into its project);
        :mod:`sim.workflows.sweep` gives every worker process its own.
    threads : int, optional
        ``device="numba"`` only: trials simulated at once, one thread each
        (default: one per core; 1 in processes that already run one per core,
        e.g. the workers of a sweep). A trial's spikes do not depend on it.
    **sign_options
        Passed to the sign policy (e.g. ``fraction=0.3``, ``modulatory="none"``).
    """

    def __init__(self, connectome, model=DEFAULT_MODEL, signs=DEFAULT_SIGNS, *,
                 synapse_types: Sequence[str] | None = None, weight_mode: str = "count",
                 device: str | None = None, drive_weight=None, record="all", record_states=None,
                 plasticity=None, sign_seed: int = 0, standalone_root=None, drive_targets=None,
                 seed: int | None = None,
                 threads: int | None = None, **sign_options):
        t0 = time.perf_counter()
        device = DEFAULT_DEVICE if device is None else device
        backend_cls = backend_class(device)  # an unknown device: ValueError listing the known ones
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
        if seed is not None:
            warnings.warn("Network(seed=) is now Network(sign_seed=) (the seed of the random sign policy; "
                          "the input noise is seeded by run(seed=))", DeprecationWarning, stacklevel=2)
            sign_seed = seed
        self.sign_seed = int(sign_seed)
        self.signs, self.sign_info, self.sign_assignment = _resolve_signs(connectome, signs, self.sign_seed,
                                                                           sign_options)
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
        rules = getattr(self.sign_assignment, "edge_rules", ())
        self._edges = (pre, post, count, self.sign_assignment.edge_signs(pre, post) if rules else self.signs[pre])
        #: per neuron, the model's factor on its incoming weights (from its number of input synapses)
        n_inputs = np.bincount(post, weights=count, minlength=n)
        self.input_scale = np.asarray(self.model.input_scale(n_inputs, celltypes=connectome.neurons["celltype"].to_numpy()),
                                      dtype=float)
        #: per neuron, the synapse count a connection onto it needs to be kept (the model's share of its input)
        self._min_fraction = float(getattr(self.model, "min_input_fraction", lambda: 0.0)())
        self.min_count = self._min_fraction * n_inputs * (1 - 1e-12)  # "at least the share", robust to rounding
        if self._min_fraction > 0:  # a connection left out has no synapse on any device (sign 0: no fast effect,
            # not plastic, not counted, not in an input breakdown); the share is of every input synapse above
            e = self._edges
            self._edges = (e[0], e[1], e[2], np.where(e[2] >= self.min_count[e[1]], e[3], 0).astype(e[3].dtype))
        tx = (self.sign_assignment.transmitters if self.sign_assignment is not None
              else np.full(n, None, dtype=object))
        #: per neuron, the model's factor on its inhibitory synapses (from its transmitter); None for none
        self.presynaptic_scale = self.model.presynaptic_scale(tx)
        if self.presynaptic_scale is not None:
            self.presynaptic_scale = np.asarray(self.presynaptic_scale, dtype=float)
            if self.sign_assignment is None:
                raise ValueError("the model scales inhibitory synapses by transmitter (glu_scale), but the signs "
                                 "were given as an array, without transmitters: give a sign policy instead")
        self.n_synapses = int((self._edges[3] != 0).sum())
        self.recorded = np.arange(n) if isinstance(record, str) and record == "all" else as_indices(record, n)
        self._record_states = {var: as_indices(sel, n) for var, sel in (record_states or {}).items()}
        self.standalone_root = Path(standalone_root) if standalone_root else None
        self.drive_targets = (np.zeros(0, np.int64) if drive_targets is None
                              else as_indices(drive_targets, n))
        #: The backend that simulates this network on its device (:mod:`sim.backends`).
        self.backend = backend_cls(self, device)
        self.backend.check()
        self.backend.prepare()
        self.build_time = time.perf_counter() - t0

    def synaptic_weights(self, post, count, sign, pre=None):
        """Weights of connections onto ``post``: the model's weights times the postsynaptic input scale, and on
        inhibitory connections the presynaptic scale of the model (if it has one: :attr:`presynaptic_scale`).

        Parameters
        ----------
        post : array of int
            Postsynaptic neuron of each connection.
        count, sign : arrays
            Synapse counts and presynaptic signs (+1/-1).
        pre : array of int, optional
            Presynaptic neuron of each connection; needed for inhibitory connections when the model has a
            presynaptic scale.

        Returns
        -------
        brian2.Quantity
        """
        post = np.asarray(post, dtype=np.int64)
        w = self.model.synaptic_weights(count, sign) * self.input_scale[post]
        if self._min_fraction > 0:  # connections below the model's share of their target's input
            w = w * (np.asarray(count, dtype=float) >= self.min_count[post])
        if self.presynaptic_scale is not None and np.any(np.asarray(sign) < 0):
            if pre is None:
                raise ValueError("Network.synaptic_weights: this model scales inhibitory synapses by their "
                                 "presynaptic neuron's transmitter; pass pre=")
            factor = self.presynaptic_scale[np.asarray(pre, dtype=np.int64)]
            w = w * np.where(np.asarray(sign) < 0, factor, 1.0)
        return w

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

    @property
    def _standalone(self):
        """C++ standalone: (device, project folder, n_steps, drive targets) once built, else None."""
        return getattr(self.backend, "built", None)

    @property
    def compile_time(self):
        """C++ standalone: seconds the last build took (None before it, and on other devices)."""
        return getattr(self.backend, "compile_time", None)

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

    @property
    def sign_spec(self):
        """What gives another network this one's synapse signs: its :class:`models.signs.SignAssignment`
        (receptor rules included), or its per-neuron array when it was given one."""
        return self.sign_assignment if self.sign_assignment is not None else self.signs

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

    def _numba(self):
        """The numba backend of this network (its own on device ``"numba"``, else one made for it)."""
        from .backends.numba import NumbaBackend

        if isinstance(self.backend, NumbaBackend):
            return self.backend
        if getattr(self, "_numba_backend", None) is None:
            self._numba_backend = NumbaBackend(self)
            self._numba_backend.check()
        return self._numba_backend

    @property
    def _engine_cache(self) -> dict:
        return self._numba().cache

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
        return self._numba().engine(silences, int(round(float(duration / self.dt))), weight_scale)[0]

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

    def stepper(self, larvae: int = 1, seed: int = 0, silences=(), threads: int | None = None, keep="all"):
        """A :class:`sim.stepping.Stepper`: this network advanced in chunks, state kept (closed loop).

        Parameters
        ----------
        larvae : int
            Independent copies, each with its own state and input.
        seed : int
            Seed of the input noise (larva ``k``: ``SeedSequence([seed, k])``).
        silences : sequence of Silence
            Silencing for the whole run.
        threads : int, optional
            Larvae stepped at once.
        keep : "all", None or array of int, optional
            Neurons whose spikes :meth:`Stepper.results` keeps (default all).

        Raises
        ------
        sim.backends.BackendError
            On a device that cannot step (only ``"numba"`` can).
        """
        from .stepping import Stepper

        return Stepper(self, larvae=larvae, seed=seed, silences=silences, threads=threads, keep=keep)

    def draw_inputs(self, stimuli, duration, trials: int = 1, seed: int = 0) -> list[InputEvents]:
        """The input events :meth:`run` would use (one :class:`InputEvents` per trial)."""
        return list(self._trial_inputs(stimuli, duration, trials, seed))

    def _trial_inputs(self, stimuli, duration, trials: int, seed: int) -> TrialInputs:
        """:meth:`draw_inputs`'s trials, each drawn when first read (by the thread that simulates it)."""
        drives, _ = self._split(stimuli)
        n_steps = int(round(float(duration / self.dt)))
        dead_ms = float(self.model.parameters["t_ref"].value / ms) + self.dt_ms if "t_ref" in self.model.parameters else self.dt_ms
        return TrialInputs(drives, n_steps, self.dt_ms, dead_ms, seed, trials)

    def run(self, stimuli: Sequence = (), duration=1 * second, trials: int = 1, seed: int = 0,
            inputs: Sequence[InputEvents] | None = None, progress: bool | None = None,
            weight_scale=None) -> Results:
        """Run ``trials`` trials of ``duration`` with ``stimuli``; return :class:`~sim.results.Results`.

        Parameters
        ----------
        stimuli : sequence of PoissonDrive, Activation, Silence
            (or one of them alone).
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
            rounding) but keeps the drive weight of the build (:mod:`sim.workflows.sweep`).
        """
        if not isinstance(duration, brian2.Quantity) or duration.dim != second.dim:
            raise ValueError(f"duration must be a time, e.g. 1*second; got {duration!r}")
        if isinstance(trials, bool) or int(trials) != trials or trials < 1:
            raise ValueError(f"trials must be a whole number >= 1, got {trials!r}")
        trials = int(trials)
        if not np.isfinite(float(duration / second)) or float(duration / second) <= 0:
            raise ValueError(f"duration must be a finite time > 0, got {duration!r}")
        if isinstance(stimuli, (PoissonDrive, Silence)):  # one stimulus alone
            stimuli = [stimuli]
        drives, silences = self._split(stimuli)
        for d in drives:
            if d.start is not None and float(d.start / second) >= float(duration / second):
                raise ValueError(f"drive {getattr(d, 'name', '') or d!r} starts at {d.start}, at or after the end of "
                                 f"the trial ({duration}): it would never act")
        self._scale_of(weight_scale)  # a bad weight_scale fails before anything runs
        n_steps = int(round(float(duration / self.dt)))
        given = inputs is not None
        if not given:
            _check_memory(drives, duration, trials, self.n_neurons, n_steps)
        if not given:
            inputs = self._trial_inputs(stimuli, duration, trials, seed)
        elif len(inputs) != trials:
            raise ValueError(f"inputs has {len(inputs)} trials, expected {trials}")
        show = trials > 1 if progress is None else progress
        bar = tqdm(total=trials, desc="trials", disable=not show, leave=False)
        t0 = time.perf_counter()
        try:
            raw = self.backend.run(inputs if isinstance(inputs, TrialInputs) else list(inputs), silences, n_steps,
                                   weight_scale, progress=bar.update)
        finally:
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
            "compile_time_s": raw.info.get("compile_time_s"),
            "run_time_s": t_run,
        }
        state_data = dict(raw.states) if raw.states else None
        if raw.plastic_states:
            state_data = dict(state_data or {})
            state_data.update({var: (idx, t_ms, np.stack(vals), unit)
                               for var, (idx, t_ms, vals, unit) in raw.plastic_states.items()})
        spikes_i = [np.asarray(i, dtype=np.int64) for i, _ in raw.spikes]
        spikes_t = [np.asarray(t, dtype=float) for _, t in raw.spikes]
        spikes_k = [np.full(len(i), k, dtype=np.int32) for k, i in enumerate(spikes_i)]
        return Results(np.concatenate(spikes_k), np.concatenate(spikes_i), np.concatenate(spikes_t),
                       neurons=self.connectome.neurons, n_trials=trials, duration=duration, dt=self.dt,
                       metadata=metadata, population=self.connectome.name, recorded=self.recorded,
                       states=state_data)
