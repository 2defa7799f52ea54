"""The numba engine's public API: preparing a network, running and stepping trials (see :mod:`sim.engine_numba`)."""
from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace

import numpy as np

from ._shared import _bin_events, _delay_steps, _si, _timestep
from .conductance_lif import SLEEP_SCAN as COND_SLEEP_SCAN, _conductance_lif_trial, _prepare_conductance_lif
from .current_lif import SLEEP_SCAN, _current_lif_adapt_trial, _current_lif_trial, _prepare_current_lif
from .plastic import _plastic_tables


#: Brian2 initialises ``lastspike`` to -1e4 s (neurons that never spiked).
_LASTSPIKE0_S = -1e4


#: Engine kernels (a model's ``engine_kernel`` -> integration method) that the engine reproduces.
SUPPORTED = {"current_lif": "linear", "current_lif_adapt": "linear", "conductance_lif": "euler"}


#: State variables of each model, in the order of the kernels' state arrays.
_STATE_VARS = {"current_lif": ("v", "g"), "current_lif_adapt": ("v", "g", "theta"),
               "conductance_lif": ("v", "g_e", "g_i", "g_a")}


def state_variables(model) -> tuple[str, ...]:
    """Names of the state variables the engine can record for ``model``."""
    return _STATE_VARS[_check_model(model)]


@dataclass
class PlasticOutput:
    """Plastic weights of the trials run by :func:`simulate` (SI units).

    Attributes
    ----------
    final : ndarray
        ``[trials, n_plastic]`` weights at the end of each trial.
    samples : ndarray
        ``[trials, n_plastic, n_samples]`` weights at the start of the steps
        ``0, every, 2 every, ...`` (``every = record_dt / dt``), as a Brian2
        ``StateMonitor`` with ``dt=record_dt`` samples them; empty without
        ``record_dt``.
    t_ms : ndarray
        Sample times (ms).
    """

    final: np.ndarray
    samples: np.ndarray
    t_ms: np.ndarray


@dataclass
class EngineOutput:
    """Spikes (and recorded states) of the trials run by :func:`simulate`.

    Attributes
    ----------
    spikes : list of (neurons, steps)
        Per trial, ``int64`` arrays of the spiking neuron and the time step of
        each spike, sorted by step and, within a step, by neuron (the order of
        Brian2's ``SpikeMonitor``). A spike in step ``k`` has the time ``k dt``.
    dt : float
        Time step (second).
    n_steps : int
        Steps per trial.
    states : dict
        ``{var: (indices, t_ms, values)}`` as :class:`sim.Results` takes them:
        ``values`` of shape ``(trials, len(indices), n_steps)`` in SI units,
        sampled at the start of each step (as ``StateMonitor``), ``t_ms`` the
        sampling times.
    plastic : PlasticOutput or None
        Plastic weights, when run with ``plasticity``.
    """

    spikes: list
    dt: float
    n_steps: int
    states: dict = field(default_factory=dict)
    plastic: PlasticOutput | None = None

    @property
    def n_trials(self) -> int:
        return len(self.spikes)

    def times_ms(self, trial: int) -> np.ndarray:
        """Spike times (ms) of ``trial``, as ``np.round(SpikeMonitor.t / ms, 6)`` gives them."""
        return np.round(self.spikes[trial][1] * self.dt / 1e-3, 6)

    def concatenated(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(trial, neuron, t_ms)`` of every spike, the arrays :class:`sim.Results` takes."""
        trials = [np.full(len(i), t, dtype=np.int32) for t, (i, _) in enumerate(self.spikes)]
        nodes = [i for i, _ in self.spikes]
        times = [self.times_ms(t) for t in range(self.n_trials)]
        if not self.spikes:
            return np.zeros(0, np.int32), np.zeros(0, np.int64), np.zeros(0)
        return np.concatenate(trials), np.concatenate(nodes), np.concatenate(times)


def _check_model(model) -> str:
    """The engine kernel of ``model`` (its class's ``engine_kernel``), or a clear error."""
    name = getattr(model, "engine_kernel", None)
    if name not in SUPPORTED:
        raise NotImplementedError(f"the numba engine supports the models {sorted(SUPPORTED)} (and models that keep "
                                  f"their equations), not {getattr(model, 'name', model)!r}")
    if model.method != SUPPORTED[name]:
        raise NotImplementedError(f"the numba engine integrates {name!r} with method {SUPPORTED[name]!r} only "
                                  f"(as Brian2 would with that method); got method={model.method!r}")
    # the kernel reproduces the equations of the class that introduced it (the first class in the
    # model's ancestry declaring this engine_kernel); a subclass may change parameters or weights, not them
    ref = next(k for k in reversed(type(model).__mro__) if k.__dict__.get("engine_kernel") == name)
    if model.equations != ref._EQUATIONS or model.reset != ref._RESET or model.threshold != ref._THRESHOLD:
        raise NotImplementedError(f"the numba engine reproduces the equations of {ref.__name__} (kernel {name!r}); "
                                  f"{type(model).__name__} changes them")
    return name


def _csr(n, pre, post, w):
    """Synapses grouped by presynaptic neuron, keeping the given order within a neuron."""
    keep = w != 0.0
    pre, post, w = pre[keep], post[keep], w[keep]
    order = np.argsort(pre, kind="stable")  # Brian2's SpikeQueue: mergesort of the synapse sources
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(pre, minlength=n), out=indptr[1:])
    return indptr, np.ascontiguousarray(post[order], dtype=np.int32), np.ascontiguousarray(w[order])


_NO_BLOCK = np.zeros(0, dtype=np.bool_)


def _events_csr(ev, n, n_steps, blocked=None):
    """A trial's drive events grouped by step (deduplicated; out-of-range events and events to
    ``blocked`` neurons dropped)."""
    neurons, steps = (ev.neurons, ev.steps) if hasattr(ev, "steps") else ev  # InputEvents or (neurons, steps)
    neurons = np.asarray(neurons, dtype=np.int64).ravel()
    steps = np.asarray(steps, dtype=np.int64).ravel()
    if neurons.shape != steps.shape:
        raise ValueError(f"input events: {neurons.size} neurons but {steps.size} steps")
    if neurons.size and (neurons.min() < 0 or neurons.max() >= n):
        raise IndexError(f"input events target neurons outside [0, {n})")
    ok, ptr, nrn = _bin_events(neurons, steps, n, n_steps, _NO_BLOCK if blocked is None else blocked)
    if ok:  # sorted and unique already (drawn events): binned in one pass
        return ptr, nrn
    keep = (steps >= 0) & (steps < n_steps)
    if blocked is not None:
        keep &= ~blocked[neurons]
    key = steps[keep] * n + neurons[keep]
    if key.size > 1 and not (key[1:] > key[:-1]).all():  # cleaned events are sorted and unique already
        key = np.unique(key)
    ptr = np.searchsorted(key // n, np.arange(n_steps + 1)).astype(np.int64)
    return ptr, np.ascontiguousarray(key % n, dtype=np.int64)


_KERNELS = {"current_lif": _current_lif_trial, "current_lif_adapt": _current_lif_adapt_trial,
            "conductance_lif": _conductance_lif_trial}


def _trial(kind, fixed, R, until0, ev_ptr, ev_nrn, rec_var, rec_nrn, rec_out, cap, n_steps, pl, pw, w_rec,
           carry=None):
    """One trial of model ``kind`` with the fixed arguments from ``_prepare_*``; returns (neurons, steps).

    ``carry``: an :class:`EngineState` to continue from (and update); ``None``
    runs a whole trial from the prepared initial state.
    """
    head, mid, drive, tail = fixed
    if carry is None:
        n, D = len(R), int(mid[-1])  # every kernel's set-up ends with the delay in steps
        args = (0, np.empty((D + 1, n), dtype=np.int64), np.zeros(D + 1, np.int64), 0, np.zeros(2 * pw.shape[0]),
                np.zeros(2 * pw.shape[0]), np.zeros((0, 0)), np.zeros(0, np.int64))  # start at step 0, nothing in flight
        i, k, _ = _KERNELS[kind](n_steps, *head, R, until0, *mid, ev_ptr, ev_nrn, *drive, rec_var, rec_nrn,
                                 rec_out, cap, pl, pw, w_rec, *tail, *args)
        return i, k
    st = carry
    head = tuple(st.state)
    i, k, cur = _KERNELS[kind](n_steps, *head, R, st.until, *mid, ev_ptr, ev_nrn, *drive, rec_var, rec_nrn,
                               rec_out, cap, pl, pw, w_rec, *tail, st.k, st.ring, st.ring_n, st.cur, st.elig,
                               st.t_elig, st.state_out, st.until_out)
    st.state, st.state_out = st.state_out, st.state    # the final state becomes the next chunk's start
    st.until, st.until_out = st.until_out, st.until
    st.cur = int(cur)
    st.k += n_steps
    return i, k


def simulate(model, n: int, pre, post, weights, inputs: Sequence, n_steps: int, *, drive_weight,
             inhibitory=None, cell_classes=None, initial: Mapping[str, object] | None = None, record=None,
             record_states: Mapping[str, Sequence[int]] | None = None,
             threads: int | None = None, plasticity=None, plastic_weights=None, blocked=None) -> EngineOutput:
    """Run one trial per element of ``inputs`` on the network; spikes as Brian2 gives them.

    Parameters
    ----------
    model : models.NeuronModel
        ``CurrentLIF`` (method ``"linear"``) or ``ConductanceAdaptiveLIF``
        (method ``"euler"``), with any parameter overrides. Its
        ``initial_values(n, cell_classes)`` give the initial state and the
        per-neuron constants (as :meth:`~models.neurons.NeuronModel.neuron_group`
        sets them); ``dt`` and ``synaptic_delay`` are the model's.
    n : int
        Number of neurons.
    pre, post : array of int
        Synapses (connections), in the order Brian2 holds them (the order
        passed to ``Synapses.connect``); the order fixes the order in which
        simultaneous inputs are summed, hence the last bits of ``g``.
    weights : array or Quantity
        ``model.synaptic_weights(count, sign)`` per synapse, in SI units
        (volt or siemens); 0 for a silenced synapse.
    inputs : sequence of InputEvents
        One per trial: drive events ``(neuron, step)``; an event in step
        ``k`` adds ``drive_weight`` to ``v`` in step ``k`` (only ``steps``
        count, not ``dt_ms``). Duplicates and events outside ``[0,
        n_steps)`` are ignored.
    n_steps : int
        Time steps per trial (``round(duration / dt)``).
    drive_weight : Quantity or float
        Jump of ``v`` per drive event (volt).
    inhibitory : array of bool, optional
        Per synapse, whether the presynaptic neuron is inhibitory. Required
        for models without a shared pathway (``ConductanceAdaptiveLIF``:
        inhibitory synapses act on ``g_i``); ignored by ``CurrentLIF``
        (signed weights).
    cell_classes : sequence, optional
        Cell-class label per neuron (see :func:`sim.cell_classes`).
    initial : mapping, optional
        Per-neuron values (arrays or Quantities of length ``n``, SI) that
        replace entries of ``model.initial_values`` (e.g. ``v``, ``u_ext``,
        ``t_ref``), as setting them on the ``NeuronGroup`` would.
    record : array of int, optional
        Neurons whose spikes are returned (default all).
    record_states : mapping, optional
        ``{var: neuron indices}``; ``var`` one of :func:`state_variables`.
    threads : int, optional
        Trials run at once (default: the number of cores).
    plasticity : models.plasticity.PlasticPlan, optional
        Plastic KC -> MBON synapses and the dopaminergic rule
        (:meth:`models.plasticity.DopaminePlasticity.plan`); they are not part
        of ``pre``/``post``/``weights``. Simulated as Brian2 runs the objects
        of :meth:`~models.plasticity.DopaminePlasticity.build`: within a step
        the plastic pathway's input (and trace update) comes before the static
        synapses' input, then the MBIN modulation, then the homeostasis of the
        MBONs spiking in that step; weights are sampled every ``record_dt``
        at the start of a step. Every trial starts from ``plastic_weights``.
    plastic_weights : array, optional
        Weights of the plastic synapses at the start of every trial (SI;
        default ``plasticity.w0``; silencing and ``weight_scale`` set them,
        leaving ``w0`` and ``w_max`` as built, as in Brian2).
    blocked : array of bool, optional
        Per neuron: drop its drive events (fully silenced neurons).

    Returns
    -------
    EngineOutput
    """
    return prepare(model, n, pre, post, weights, n_steps, drive_weight=drive_weight, inhibitory=inhibitory,
                   cell_classes=cell_classes, initial=initial, record=record, record_states=record_states,
                   plasticity=plasticity, plastic_weights=plastic_weights, blocked=blocked).run(inputs, threads)


def prepare(model, n: int, pre, post, weights, n_steps: int, *, drive_weight, inhibitory=None, cell_classes=None,
            initial: Mapping[str, object] | None = None, record=None,
            record_states: Mapping[str, Sequence[int]] | None = None, plasticity=None, plastic_weights=None,
            blocked=None) -> EngineNetwork:
    """The network of :func:`simulate` (same arguments, without ``inputs`` and ``threads``), ready to run.

    Returns an :class:`EngineNetwork`: plain arrays and numbers in SI units,
    which runs trials without Brian2 or the model objects and can be saved
    and run in another process (:meth:`EngineNetwork.save`).
    """
    name = _check_model(model)
    n = int(n)
    pre = np.asarray(pre, dtype=np.int64).ravel()
    post = np.asarray(post, dtype=np.int64).ravel()
    w = np.array(_si(weights), dtype=np.float64).ravel()
    if not (pre.shape == post.shape == w.shape):
        raise ValueError(f"pre, post and weights must have the same length, got {pre.shape}, {post.shape}, {w.shape}")
    if pre.size and (min(pre.min(), post.min()) < 0 or max(pre.max(), post.max()) >= n):
        raise IndexError(f"synapse indices must lie in [0, {n})")
    n_steps = int(n_steps)
    if n_steps < 0:
        raise ValueError("n_steps must be >= 0")
    dt = float(_si(model.dt))
    D = _delay_steps(float(_si(model.synaptic_delay)), dt)
    init = dict(model.initial_values(n, cell_classes))
    for var, values in (initial or {}).items():
        if var not in init:
            raise ValueError(f"unknown initial value {var!r}; {name!r} has {sorted(init)}")
        init[var] = np.broadcast_to(_si(values), (n,)).copy()
    R = np.ascontiguousarray(_timestep(_si(init["t_ref"]), dt))
    until0 = R - _timestep(-_LASTSPIKE0_S, dt)  # never spiked: lastspike = -1e4 s
    if model.shared_pathway:
        csr = [_csr(n, pre, post, w)]
    else:
        if inhibitory is None:
            raise ValueError(f"model {name!r} needs `inhibitory` (per synapse) to route inputs to g_e / g_i")
        inh = np.asarray(inhibitory, dtype=bool).ravel()
        if inh.shape != pre.shape:
            raise ValueError("inhibitory must have one entry per synapse")
        csr = [_csr(n, pre[~inh], post[~inh], w[~inh]), _csr(n, pre[inh], post[inh], w[inh])]

    names = _STATE_VARS[name]
    rec_idx = {}
    for var, idx in (record_states or {}).items():
        if var not in names:
            raise ValueError(f"the numba engine records {names} of {name!r}, not {var!r}")
        idx = np.asarray(getattr(idx, "indices", idx), dtype=np.int64).ravel()
        if idx.size and (idx.min() < 0 or idx.max() >= n):
            raise IndexError(f"recorded neurons must lie in [0, {n})")
        rec_idx[var] = idx
    if blocked is not None:
        blocked = np.asarray(blocked, dtype=bool).ravel()
        if blocked.shape != (n,):
            raise ValueError(f"blocked must have one entry per neuron ({n}), got {blocked.shape}")
    pl, n_samples, w_t_ms = _plastic_tables(plasticity, n, dt, n_steps)
    pw0 = pl[7] if plastic_weights is None else np.array(_si(plastic_weights), dtype=np.float64).ravel()
    if pw0.shape != pl[7].shape:
        raise ValueError(f"plastic_weights must have one value per plastic synapse ({len(pl[7])}), got {pw0.shape}")
    keep = None
    if record is not None:
        keep = np.zeros(n, dtype=bool)
        keep[np.asarray(getattr(record, "indices", record), dtype=np.int64)] = True
        if keep.all():
            keep = None  # everyone is recorded: nothing to filter
    if name == "conductance_lif":
        fixed = _prepare_conductance_lif(model, n, dt, init, csr, D, float(_si(drive_weight))) if n else None
    else:
        fixed = (_prepare_current_lif(model, n, dt, init, csr, D, float(_si(drive_weight)),
                                      adaptive=name == "current_lif_adapt") if n else None)
    return EngineNetwork(model=name, n=n, n_steps=n_steps, dt=dt, R=R, until0=until0, fixed=fixed,
                         record_states=rec_idx, blocked=blocked, keep=keep, plastic=pl, plastic_w0=pw0,
                         n_samples=n_samples, plastic_t_ms=w_t_ms, has_plasticity=plasticity is not None)


@dataclass
class EngineState:
    """Everything one larva's network carries from one chunk of steps to the next.

    Made by :meth:`EngineNetwork.initial_state`; :meth:`EngineNetwork.step`
    advances it in place. ``state``: the state variables by neuron
    (``[variable, neuron]``, the model's :func:`state_variables`, SI units);
    ``until``: first step at which each neuron is no longer refractory;
    ``ring``/``ring_n``/``cur``: the spikes of the last ``D + 1`` steps, still
    in flight within the synaptic delay; ``elig``/``t_elig``/``pw``: the
    eligibility traces (then the dopamine traces of the timing-dependent rule:
    two values per plastic synapse) and weights of the plastic synapses; ``k``: the next
    step (steps from the start of the run).
    """

    state: np.ndarray
    until: np.ndarray
    ring: np.ndarray
    ring_n: np.ndarray
    cur: int
    elig: np.ndarray
    t_elig: np.ndarray
    pw: np.ndarray
    k: int = 0
    state_out: np.ndarray = None
    until_out: np.ndarray = None


_POOLS: dict = {}


def _step_pool(threads: int) -> ThreadPoolExecutor:
    """A thread pool per thread count, kept for the life of the process (stepping runs many short chunks)."""
    pool = _POOLS.get(threads)
    if pool is None:
        pool = _POOLS[threads] = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="larvasim-step")
    return pool


@dataclass
class EngineNetwork:
    """A network prepared for the numba engine: plain arrays and numbers (SI units), nothing else.

    Made by :func:`prepare` (or :meth:`sim.Network.engine_network`). Running
    it needs numpy and numba only -- not Brian2, the models or the
    connectome -- so it can be saved (:meth:`save`) and run in worker
    processes that import just :mod:`sim.engine_numba` (start-up time and
    memory against Brian2's: ``docs/benchmarks.md``). Same trials, same
    spikes as :func:`simulate`.

    Examples
    --------
    >>> net.engine_network(1 * second).save("brain.engine")      # doctest: +SKIP
    >>> # in a worker:  from sim.engine_numba import EngineNetwork
    >>> out = EngineNetwork.load("brain.engine").run([(neurons, steps)])   # doctest: +SKIP
    """

    model: str
    n: int
    n_steps: int
    dt: float
    R: np.ndarray
    until0: np.ndarray
    fixed: tuple | None
    record_states: dict
    blocked: np.ndarray | None
    keep: np.ndarray | None
    plastic: tuple
    plastic_w0: np.ndarray
    n_samples: int
    plastic_t_ms: np.ndarray
    has_plasticity: bool = False

    def run(self, inputs: Sequence, threads: int | None = None, plastic_weights=None) -> EngineOutput:
        """Run one trial per element of ``inputs``.

        Parameters
        ----------
        inputs : sequence
            Per trial, an :class:`~sim.stimuli.InputEvents` or a pair
            ``(neurons, steps)`` of integer arrays, or a function of no
            arguments returning one (called in the thread that runs the trial).
        threads : int, optional
            Trials run at once (default: the number of cores).
        plastic_weights : array, optional
            Starting weights of the plastic synapses (default: as prepared).

        Returns
        -------
        EngineOutput
        """
        inputs = list(inputs)
        n, n_steps = self.n, self.n_steps
        names = _STATE_VARS[self.model]
        rec_var = np.concatenate([np.full(len(i), names.index(v), np.int64) for v, i in self.record_states.items()]
                                 + [np.zeros(0, np.int64)])
        rec_nrn = np.concatenate(list(self.record_states.values()) + [np.zeros(0, np.int64)])
        pw0 = self.plastic_w0 if plastic_weights is None else np.array(plastic_weights, dtype=np.float64).ravel()
        if pw0.shape != self.plastic_w0.shape:
            raise ValueError(f"plastic_weights must have {len(self.plastic_w0)} values, got {pw0.shape}")
        if n == 0:
            outs = [(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros((0, n_steps)), np.zeros(0),
                     np.zeros((0, 0))) for _ in inputs]
        else:
            cap = max(1024, n_steps * n // 200)  # spike buffer; the kernel doubles it when full

            def one(ev):
                if callable(ev):
                    ev = ev()
                ev_ptr, ev_nrn = _events_csr(ev, n, n_steps, self.blocked)
                rec_out = np.zeros((len(rec_nrn), n_steps))
                pw = pw0.copy()
                w_rec = np.zeros((len(pw), self.n_samples))
                i, k = _trial(self.model, self.fixed, self.R, self.until0, ev_ptr, ev_nrn, rec_var, rec_nrn, rec_out,
                              cap, n_steps, self.plastic, pw, w_rec)
                return i, k, rec_out, pw, w_rec

            threads = max(1, min(len(inputs), threads or os.cpu_count() or 1))
            if threads == 1:
                outs = [one(ev) for ev in inputs]
            else:
                with ThreadPoolExecutor(max_workers=threads) as pool:
                    outs = list(pool.map(one, inputs))

        keep = self.keep
        spikes = [(i, k) if keep is None else (i[keep[i]], k[keep[i]]) for i, k, *_ in outs]
        states, start = {}, 0
        t_ms = np.arange(n_steps) * self.dt / 1e-3
        for var, idx in self.record_states.items():
            values = (np.stack([o[2][start:start + len(idx)] for o in outs]) if outs
                      else np.zeros((0, len(idx), n_steps)))
            states[var] = (idx, t_ms, values)
            start += len(idx)
        plastic = None
        if self.has_plasticity:
            m = len(pw0)
            plastic = PlasticOutput(final=np.stack([o[3] for o in outs]) if outs else np.zeros((0, m)),
                                    samples=np.stack([o[4] for o in outs]) if outs else np.zeros((0, m, 0)),
                                    t_ms=self.plastic_t_ms)
        return EngineOutput(spikes, self.dt, n_steps, states, plastic)

    # -- stepping -----------------------------------------------------------------------
    def initial_state(self, plastic_weights=None) -> EngineState:
        """The state of a larva before its first step (what :meth:`run` starts every trial from)."""
        head = self.fixed[0]
        n = self.n
        D = int(self.fixed[1][-1])
        pw0 = self.plastic_w0 if plastic_weights is None else np.array(plastic_weights, dtype=np.float64).ravel()
        if pw0.shape != self.plastic_w0.shape:
            raise ValueError(f"plastic_weights must have {len(self.plastic_w0)} values, got {pw0.shape}")
        state = np.stack([np.broadcast_to(np.asarray(h, dtype=np.float64), (n,)) for h in head]).copy()
        return EngineState(state=state, until=self.until0.copy(), ring=np.zeros((D + 1, n), np.int64),
                           ring_n=np.zeros(D + 1, np.int64), cur=0, elig=np.zeros(2 * len(pw0)),
                           t_elig=np.zeros(2 * len(pw0)), pw=pw0.copy(), k=0, state_out=np.empty_like(state),
                           until_out=np.empty_like(self.until0))

    def step(self, states, inputs, n_steps: int, threads: int | None = None) -> list:
        """Advance each larva's :class:`EngineState` by ``n_steps`` with its input events.

        Parameters
        ----------
        states : sequence of EngineState
            One per larva (updated in place).
        inputs : sequence
            Per larva, the chunk's drive events: an :class:`~sim.stimuli.InputEvents`
            or ``(neurons, steps)`` with steps counted from the chunk's start, or a
            function of no arguments that returns them (called in the larva's task).
        n_steps : int
            Steps of this chunk (any number; chunks of a run may differ).
        threads : int, optional
            Larvae stepped at once (default: the number of cores).

        Returns
        -------
        list of (ndarray, ndarray)
            Per larva, the chunk's spikes: neuron indices and steps counted from
            the start of the run. Chunked runs give exactly the spikes of one
            uninterrupted :meth:`run` with the same events (tested).

        Notes
        -----
        Recorded state variables and sampled plastic weights are not kept while
        stepping; the state itself (:attr:`EngineState.state`,
        :attr:`EngineState.pw`) can be read after every chunk.
        """
        states, inputs = list(states), list(inputs)
        if len(states) != len(inputs):
            raise ValueError(f"{len(states)} states but {len(inputs)} input event sets")
        if int(n_steps) < 0:
            raise ValueError(f"n_steps must be >= 0, got {n_steps}")
        n_steps = int(n_steps)
        n = self.n
        none_i, none_f = np.zeros(0, np.int64), np.zeros((0, n_steps))
        cap = max(1024, n_steps * n // 200)

        def one(args):
            st, ev = args
            if callable(ev):  # drawn inside the task: larvae's inputs are drawn in parallel too
                ev = ev()
            ev_ptr, ev_nrn = _events_csr(ev, n, n_steps, self.blocked)
            i, k = _trial(self.model, self.fixed, self.R, st.until, ev_ptr, ev_nrn, none_i, none_i, none_f, cap,
                          n_steps, self.plastic, st.pw, np.zeros((len(st.pw), 0)), carry=st)
            return (i, k) if self.keep is None else (i[self.keep[i]], k[self.keep[i]])

        if n == 0 or n_steps == 0:
            for st in states:
                st.k += n_steps
            return [(np.zeros(0, np.int64), np.zeros(0, np.int64)) for _ in states]
        threads = max(1, min(len(states), threads or os.cpu_count() or 1))
        if threads == 1:
            return [one(a) for a in zip(states, inputs)]
        # a chunk is short: one task per thread (contiguous larvae) on a pool kept between chunks
        groups = np.array_split(np.arange(len(states)), threads)
        work = list(zip(states, inputs))
        parts = _step_pool(threads).map(lambda g: [one(work[j]) for j in g], groups)
        return [r for part in parts for r in part]

    def save(self, path) -> None:
        """Write the network to ``path`` (pickle; written to a temporary file, then renamed)."""
        import pickle

        from larvasim.util import atomic_path

        with atomic_path(path) as tmp, open(tmp, "wb") as f:
            pickle.dump(self, f, protocol=pickle.HIGHEST_PROTOCOL)

    @staticmethod
    def load(path) -> EngineNetwork:
        """Read a network written by :meth:`save` (only from a trusted source: it is a pickle)."""
        import pickle

        with open(path, "rb") as f:
            net = pickle.load(f)
        if not isinstance(net, EngineNetwork):
            raise TypeError(f"{os.fspath(path)} does not hold an EngineNetwork (got {type(net).__name__})")
        if net.fixed is not None and len(net.fixed[3]) == (0 if net.model == "conductance_lif" else 1):
            head, mid, drive, tail = net.fixed  # saved before neurons could sleep: the same network, with sleep
            scan = COND_SLEEP_SCAN if net.model == "conductance_lif" else SLEEP_SCAN
            net = replace(net, fixed=(head, mid, drive, (*tail, scan)))
        pl = net.plastic
        if pl is not None and len(pl[10]) == 3:  # saved before the timing-dependent rule: eta_b = 0 (off)
            net = replace(net, plastic=(*pl[:10], np.concatenate([pl[10], [0.0, 1.0]]),
                                        np.concatenate([pl[11], np.zeros(1, np.int64)])))
        return net
