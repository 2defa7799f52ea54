"""Fast engine: the larvasim neuron models simulated with numba, spike for spike as Brian2.

:func:`simulate` runs independent trials of one network -- neurons of a
:class:`~models.neurons.NeuronModel`, recurrent synapses ``(pre, post, w)``,
a drive of pre-generated :class:`~sim.stimuli.InputEvents` -- and returns, per
trial, the spikes (neuron, time step) that Brian2's runtime (``numpy``
target) produces for the same network built by :class:`sim.Network`. Not
statistically similar: the same spikes, because every floating-point
operation of Brian2's generated code is done in the same order.

What is reproduced (each point checked against Brian2 2.9 by
``tests/sim/test_engine_numba.py``)
---------------------------------------------------------------------------
Per time step ``k`` (``t = k dt``), in Brian2's schedule order:

1. **State update** (``groups``). ``not_refractory = timestep(t - lastspike)
   >= timestep(t_ref)``, i.e. ``k - k_spike >= R`` with ``R = int((t_ref +
   1e-3 dt) / dt)`` (22 steps for 2.2 ms). Variables marked ``(unless
   refractory)`` are integrated only when not refractory.

   * ``CurrentLIF``, method ``"linear"``: Brian2's exact update, with the
     loop-invariant constants computed in NumPy exactly as Brian2's numpy
     target does (``np.exp`` of the same float64 expressions)::

         g <- e2 g
         v <- v_rest + (((c8 g + u_ext) + e9 v) + e9 (-v_rest - u_ext))
         e2 = exp(-dt/tau_syn), e9 = exp(-dt/tau_m),
         c8 = tau_syn/(tau_m - tau_syn) (exp(dt/tau_syn) - exp(dt/tau_m)) e9 e2

   * ``ConductanceAdaptiveLIF``, method ``"euler"``: ``x <- (-dt/tau_x) x + x``
     for ``g_e, g_i, g_a`` (always), and (unless refractory)
     ``v <- v + dt (I_ext + g_L (E_L - v) + g_a (E_a - v) + g_e (E_e - v)
     + g_i (E_i - v)) / C_m`` with the conductances of the previous step.

2. **Threshold** (``thresholds``): ``v > v_th`` and not refractory; the spike
   is labelled ``t = k dt``; the neuron becomes refractory at once.
3. **Synaptic propagation** (``synapses``). A pathway with a delay of ``D =
   int(delay / dt + 0.5)`` steps (Brian2's C++ ``SpikeQueue``, used by the
   runtime and standalone devices: halves round up) pushes the spikes of step
   ``k`` and applies, in step ``k + D``, those pushed ``D`` steps earlier (so
   ``D = 0`` acts in the spike's own step; effects are seen from step ``k + D
   + 1``, i.e. ``delay + dt`` after the spike label): for each spiking neuron
   in increasing index, for each of its synapses in the order given
   (Brian2's synapse order), ``g[post] += w``, skipped when ``post`` is
   refractory and ``g`` is an ``(unless refractory)`` variable (Brian2
   write-protects it) -- ``CurrentLIF``'s ``g``, not the conductance model's
   ``g_e``/``g_i``. The additions are done one by one in that order (as
   ``numpy.add.at``), so sums round the same. The drive: an event ``(i, k)``
   adds ``drive_weight`` to ``v[i]`` in step ``k`` unless ``i`` is
   refractory (``v`` is write-protected too), so ``i`` spikes in step ``k +
   1``.
4. **Reset** (``resets``): ``CurrentLIF`` ``v = v_reset; g = 0``;
   ``ConductanceAdaptiveLIF`` ``v = V_reset; g_a += delta_g_a``.

State variables are recorded at the start of a step (Brian2's
``StateMonitor`` default, ``when="start"``). A synapse of weight 0 (e.g. a
silenced one) adds 0 and is skipped: the sums are unchanged.

How it is fast
--------------
One kernel call runs one trial. The update of all active neurons is one
vectorised loop (float64, no fast-math: the same roundings as NumPy); spikes
are found from a byte flag per neuron, 64 at a time; the delay line is a ring
of the last ``D + 1`` steps' spike lists; inputs go through a CSR table of
the synapses by presynaptic neuron. Two exact shortcuts for ``CurrentLIF``:
a refractory neuron sits at ``(v_reset, 0)``, which the update leaves
unchanged when ``v_reset = v_rest`` and ``u_ext = 0`` (the default), so it
needs no special handling; and a neuron that has had no input yet sits at
``(v_rest, 0)`` and is not integrated at all until its first input (it is
"dormant"; see :func:`_current_lif_trial`).

Parallelism
-----------
Trials are independent. Each trial is one call of a compiled kernel that
releases the GIL (``nogil=True``); a thread pool runs ``threads`` of them at
once (default: one per core, at most one per trial). Threads share the
network's read-only arrays and need no process start-up or pickling; a trial
gives the same spikes whatever the number of threads. The kernels are
compiled once (about 10 s each) and cached on disk (``cache=True``, in
``sim/__pycache__`` or ``$NUMBA_CACHE_DIR``); a new process loads them in
well under a second.

Plasticity
----------
With ``plasticity`` (a :class:`models.plasticity.PlasticPlan`), the plastic
KC -> MBON synapses, the MBIN modulation and the MBON homeostasis run as
Brian2 runs the objects of :meth:`models.plasticity.DopaminePlasticity.build`
(its scheduling: ``when``, then ``order``, then name): in the synapse slot of
a step, the plastic pathway (``g += w`` unless refractory, then the KC trace
``elig``/``t_elig``; its name sorts before ``synapses_excitatory``), the static
pathways, the modulation (order 0: for each MBIN spike, ascending, for each of
its synapses in order, ``w = clip(w - eta_g ((w0 elig) exp((1/tau_e) (-(t -
t_elig)))), 0, w_max)``, the expression Brian2 generates) and the homeostasis
(order 1, no delay: ``w += rho_g ((-w) + w0)`` for the MBONs spiking in this
step); ``eta_g``/``rho_g`` are 0 outside the plastic windows. Weights are
sampled at the start of every ``record_dt``. Spikes equal Brian2's; weights
agree with Brian2's to the last bits (tests: within 1e-9 relative; of the
sampled weights of the toy network 99 % are bit for bit those of the numpy
target, 88 % those of C++ standalone): NumPy's own ``exp``
(AVX-512) and libm's, which the engine uses, differ in the last bit for about
1 argument in 20, and Brian2 compiles C++ with ``-ffast-math``, which may
reorder the arithmetic of the update.

Seam with :class:`sim.Network`
------------------------------
``Network(device="numba")`` prepares (:func:`prepare`, ``Network._engine``;
the last two are kept) what it already holds: the static connections (edges
with a sign, minus the plastic ones), their weights
(``model.synaptic_weights``, silenced ones 0, times ``weight_scale``), the
fully silenced neurons (their drive events are dropped), the drive weight, the
cell classes, the recorded neurons and state variables and the rule's
:class:`~models.plasticity.PlasticPlan` with the trial's starting plastic
weights; then runs the trial inputs on it (:meth:`EngineNetwork.run`).
:meth:`sim.Network.engine_network` hands the prepared network out, for
worker processes that do not import Brian2.

Examples
--------
>>> out = simulate(get_model("current_lif"), 3, [0], [1], [0.01], [InputEvents([0], [5])], 100,
...                drive_weight=0.06875)                                  # doctest: +SKIP
>>> out.spikes[0]                                                         # doctest: +SKIP
(array([0]), array([6]))

Module size: over 600 lines because the two model kernels, their inlined plasticity and
bookkeeping helpers and the stepping state must stay in one module that worker processes import
without Brian2 (numba inlines the helpers into each kernel).
"""
from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
from numba import njit

__all__ = ["SUPPORTED", "EngineNetwork", "EngineOutput", "EngineState", "PlasticOutput", "prepare", "simulate",
           "state_variables"]

#: Engine kernels (a model's ``engine_kernel`` -> integration method) that the engine reproduces.
SUPPORTED = {"current_lif": "linear", "conductance_lif": "euler"}

#: State variables of each model, in the order of the kernels' state arrays.
_STATE_VARS = {"current_lif": ("v", "g"), "conductance_lif": ("v", "g_e", "g_i", "g_a")}

#: Brian2 initialises ``lastspike`` to -1e4 s (neurons that never spiked).
_LASTSPIKE0_S = -1e4


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


# --------------------------------------------------------------------------- helpers
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


def _si(x) -> np.ndarray:
    """Plain float64 SI values of a Brian2 quantity (or of numbers already in SI units)."""
    return np.asarray(x, dtype=np.float64)


def _timestep(t, dt):
    """Brian2's ``timestep(t, dt)``: ``int64((t + 1e-3 dt) / dt)``."""
    return np.array((np.asarray(t, dtype=np.float64) + 1e-3 * dt) / dt, dtype=np.int64)


def _delay_steps(delay, dt) -> int:
    """Brian2's C++ SpikeQueue (runtime and standalone): ``(int)(delay / dt + 0.5)``, halves rounded up.

    (Brian2's pure-Python fallback queue, used only when the compiled one is
    missing, rounds halves to even: it differs for delays of ``(m + 1/2) dt``.)
    """
    if delay < 0:
        raise ValueError(f"the synaptic delay must be >= 0, got {delay} s")
    return int(np.float64(delay) / np.float64(dt) + 0.5)


def _csr(n, pre, post, w):
    """Synapses grouped by presynaptic neuron, keeping the given order within a neuron."""
    keep = w != 0.0
    pre, post, w = pre[keep], post[keep], w[keep]
    order = np.argsort(pre, kind="stable")  # Brian2's SpikeQueue: mergesort of the synapse sources
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(pre, minlength=n), out=indptr[1:])
    return indptr, np.ascontiguousarray(post[order], dtype=np.int64), np.ascontiguousarray(w[order])


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
    keep = (steps >= 0) & (steps < n_steps)
    if blocked is not None:
        keep &= ~blocked[neurons]
    key = steps[keep] * n + neurons[keep]
    if key.size > 1 and not (key[1:] > key[:-1]).all():  # cleaned events are sorted and unique already
        key = np.unique(key)
    ptr = np.searchsorted(key // n, np.arange(n_steps + 1)).astype(np.int64)
    return ptr, np.ascontiguousarray(key % n, dtype=np.int64)


# --------------------------------------------------------------------------- kernels
@njit(cache=True, nogil=True, inline="always")
def _push_record(spk_n, spk_k, m, i, k):
    """Append spike (i, k) to the growable output buffers; return them and the new count."""
    if m == spk_n.shape[0]:
        bigger_n = np.empty(2 * m, dtype=np.int64)
        bigger_k = np.empty(2 * m, dtype=np.int64)
        bigger_n[:m] = spk_n
        bigger_k[:m] = spk_k
        spk_n = bigger_n
        spk_k = bigger_k
    spk_n[m] = i
    spk_k[m] = k
    return spk_n, spk_k, m + 1


@njit(cache=True, nogil=True, inline="always")
def _collect(flag, flag64, n, spikes):
    """Indices ``< n`` of the set flags, ascending, into ``spikes``; return their number.

    ``flag`` is padded to a multiple of 64 bytes; a block of 64 flags is
    skipped when the OR of its eight 64-bit words is 0.
    """
    ns = 0
    for b in range(0, (n + 63) // 64 * 8, 8):
        if (flag64[b] | flag64[b + 1] | flag64[b + 2] | flag64[b + 3] | flag64[b + 4] | flag64[b + 5]
                | flag64[b + 6] | flag64[b + 7]) != 0:
            for i in range(b * 8, min(b * 8 + 64, n)):
                if flag[i] != 0:
                    spikes[ns] = i
                    ns += 1
    return ns


@njit(cache=True, nogil=True, inline="always")
def _wake(j, slot, who, n_act):
    """Move dormant neuron ``j`` into the active prefix of the state arrays; return the new ``n_act``.

    Dormant neurons all hold the same state, so only the maps change.
    """
    p = slot[j]
    if p >= n_act:
        o = who[n_act]
        slot[j] = n_act
        who[n_act] = j
        slot[o] = p
        who[p] = o
        n_act += 1
    return n_act


@njit(cache=True, nogil=True, inline="always")
def _refractory_begin(k, until, refr, n_refr):
    """Drop the neurons whose refractoriness has ended at step ``k`` from ``refr``."""
    m = 0
    for x in range(n_refr):
        j = refr[x]
        if until[j] > k:
            refr[m] = j
            m += 1
    return m


# --------------------------------------------------------------------------- plasticity (shared by the kernels)
@njit(cache=True, nogil=True, inline="always")
def _plastic_on(t, ints, win):
    """Brian2's gate ``int((t >= a) & (t < b) or ...)`` of the plasticity windows (``ints[1]``: always)."""
    if ints[1] != 0:
        return True
    for r in range(win.shape[0]):
        if t >= win[r, 0] and t < win[r, 1]:
            return True
    return False


@njit(cache=True, nogil=True, inline="always")
def _record_weights(k, ints, pw, w_rec):
    """Sample the plastic weights at the start of step ``k`` (a StateMonitor with its own clock)."""
    every = ints[2]
    if every > 0 and k % every == 0:
        s = k // every
        if s < w_rec.shape[1]:
            for x in range(pw.shape[0]):
                w_rec[x, s] = pw[x]


@njit(cache=True, nogil=True, inline="always")
def _trace(s, t, elig, t_elig, ints, inv_tau):
    """A KC spike reaches plastic synapse ``s``: ``elig = 1`` or ``elig = 1 + elig exp(-(t - t_elig)/tau_e)``."""
    if ints[0] != 0:
        elig[s] = 1.0 + (elig[s] * np.exp(inv_tau * (-(t - t_elig[s]))))
    else:
        elig[s] = 1.0
    t_elig[s] = t


@njit(cache=True, nogil=True, inline="always")
def _modulate(t, row, n_src, pl, pw, elig, t_elig):
    """MBIN spikes ``row[:n_src]`` reach their plastic synapses: Brian2's generated update, one by one::

        w = clip(w - (eta_gated * ((w0 * elig) * exp((1/tau_e) * (-(t - t_elig))))), 0.0, w_max)
    """
    m_ptr, m_syn, p_w0, p_wmax, win, par, ints = pl[3], pl[4], pl[7], pl[8], pl[9], pl[10], pl[11]
    eg = -1.0
    for a in range(n_src):
        src = row[a]
        lo = m_ptr[src]
        hi = m_ptr[src + 1]
        if lo == hi:
            continue
        if eg < 0.0:
            eg = par[0] if _plastic_on(t, ints, win) else 0.0
        for e in range(lo, hi):
            x = m_syn[e]
            y = pw[x] - (eg * ((p_w0[x] * elig[x]) * np.exp(par[1] * (-(t - t_elig[x])))))
            if y < 0.0:
                y = 0.0
            if y > p_wmax[x]:
                y = p_wmax[x]
            pw[x] = y


@njit(cache=True, nogil=True, inline="always")
def _homeostasis(t, row, n_src, pl, pw):
    """MBON spikes ``row[:n_src]`` of this step (no delay): ``w += (rho gated) * ((-w) + w0)``."""
    h_ptr, h_syn, p_w0, win, par, ints = pl[5], pl[6], pl[7], pl[9], pl[10], pl[11]
    if par[2] == 0.0:  # rho = 0: Brian2 builds no post pathway
        return
    rg = -1.0
    for a in range(n_src):
        src = row[a]
        lo = h_ptr[src]
        hi = h_ptr[src + 1]
        if lo == hi:
            continue
        if rg < 0.0:
            rg = par[2] if _plastic_on(t, ints, win) else 0.0
        for e in range(lo, hi):
            x = h_syn[e]
            pw[x] = pw[x] + (rg * ((-pw[x]) + p_w0[x]))


@njit(cache=True, nogil=True)
def _current_lif_trial(n_steps, v0, g0, R, until0, u_ext, cst, e2, c8, e9, v_rest, v_th, v_reset,
                       indptr, post, w, D, ev_ptr, ev_nrn, w_drive, rec_var, rec_nrn, rec_out, cap,
                       pl, pw, w_rec, dt_, k0, ring, ring_n, cur0, elig, t_elig, state_out, until_out):
    """Steps ``k0 .. k0 + n_steps - 1`` of CurrentLIF (method "linear"); returns (neurons, steps, cur).

    A whole trial starts at ``k0 = 0`` with an empty delay ring; a chunk of a
    longer run (:meth:`EngineNetwork.step`) starts where the last one ended,
    with its state: ``v0``/``g0``/``until0`` and the ring of spikes in flight
    (``ring``, ``ring_n``, ``cur0``), the eligibility traces and the plastic
    weights ``pw`` (updated in place). The final ``v``, ``g`` (by neuron) and
    ``until`` go to ``state_out``/``until_out`` when these are not empty.
    Events, recordings: indexed from ``k0``; spike steps: absolute.

    ``until[i]``: first step at which ``i`` is not refractory (``k_spike +
    max(R, 1)``: a neuron is refractory in its own spike step even for
    ``t_ref = 0``, as Brian2 sets ``not_refractory = False`` at the
    threshold). A refractory neuron's state is exactly ``(v_reset, 0)``: the
    reset set it, integration is off and its input is dropped. The dense
    update integrates every neuron; the refractory ones (listed in ``refr``)
    are then put back to ``(v_reset, 0)`` and cannot spike -- unless one
    update step leaves ``(v_reset, 0)`` unchanged and below threshold for
    every neuron (``v_reset = v_rest``, ``u_ext = 0``: the default), when
    nothing needs to be done for them. ``u_ext``/``cst`` of length 1 mean
    the same value for every neuron.

    Dormant neurons: a neuron that has had no input yet sits at ``(v_rest,
    0)``, which one update leaves exactly unchanged when ``u_ext = 0`` (and
    ``v_rest <= v_th``), so it need not be integrated. ``v`` and ``g`` are
    stored by slot (``slot[i]``, ``who[p]``): the active neurons in slots
    ``0 .. n_act-1``, integrated each step; a neuron's first input moves it
    there (:func:`_wake`). Everything else (spikes, delays, ``until``) uses
    neuron indices; each step's spikes are sorted by neuron index, so inputs
    are summed in Brian2's order.

    (Over 80 lines: the time-step loop of a numba kernel is one function (its helpers are inlined);
    splitting it would cost speed.)
    """
    n = v0.shape[0]
    uniform = u_ext.shape[0] == 1
    u0 = u_ext[0]
    c0 = cst[0]
    # is the refractory state (v_reset, 0) a fixed point of the update, below threshold?
    fixed = not (v_reset > v_th)
    for i in range(n):
        ui = u0 if uniform else u_ext[i]
        ci = c0 if uniform else cst[i]
        if v_rest + (((c8 * 0.0 + ui) + e9 * v_reset) + ci) != v_reset:
            fixed = False
        if until0[i] > k0:  # refractory at the start: only when resuming a run
            fixed = False
    # may neurons at rest stay dormant? (the default: v0 = v_rest, g0 = 0, u_ext = 0)
    rest_fixed = (uniform and u0 == 0.0 and not np.signbit(u0) and not (v_rest > v_th)
                  and v_rest + ((c8 * 0.0 + e9 * v_rest) + c0) == v_rest)
    slot = np.empty(n, dtype=np.int64)
    who = np.empty(n, dtype=np.int64)
    n_act = 0
    for i in range(n):  # active neurons first, in index order, then the dormant ones
        if not (rest_fixed and v0[i] == v_rest and g0[i] == 0.0 and until0[i] <= k0):
            slot[i] = n_act
            n_act += 1
    p = n_act
    for i in range(n):
        if rest_fixed and v0[i] == v_rest and g0[i] == 0.0 and until0[i] <= k0:
            slot[i] = p
            p += 1
    v = np.empty(n)
    g = np.empty(n)
    for i in range(n):
        who[slot[i]] = i
        v[slot[i]] = v0[i]
        g[slot[i]] = g0[i]
    until = until0.copy()
    n8 = (n + 63) // 64 * 64
    flag = np.zeros(n8, dtype=np.uint8)
    flag64 = flag.view(np.uint64)
    refr = np.empty(n, dtype=np.int64)
    n_refr = 0
    if not fixed:
        for i in range(n):  # refractory at the start (resuming a run)
            if until[i] > k0:
                refr[n_refr] = i
                n_refr += 1
    L = D + 1  # ring: spikes (neuron indices) of the last D + 1 steps
    spk_n = np.empty(cap, dtype=np.int64)
    spk_k = np.empty(cap, dtype=np.int64)
    m = 0
    cur = cur0
    n_rec = rec_nrn.shape[0]
    p_ptr, p_syn, p_post, ints = pl[0], pl[1], pl[2], pl[11]
    inv_tau = pl[10][1]
    plastic = pw.shape[0] > 0
    for k in range(k0, k0 + n_steps):
        for r in range(n_rec):
            q = slot[rec_nrn[r]]
            rec_out[r, k - k0] = v[q] if rec_var[r] == 0 else g[q]
        if plastic:
            _record_weights(k, ints, pw, w_rec)
        if not fixed:
            n_refr = _refractory_begin(k, until, refr, n_refr)
        # state update and threshold of the active neurons (vectorised)
        cnt = 0
        if uniform and u0 == 0.0 and not np.signbit(u0):
            # c8 g + 0.0 differs from c8 g only in the sign of a zero, which cannot change v
            for q in range(n_act):
                gq = g[q]
                vn = v_rest + ((c8 * gq + e9 * v[q]) + c0)
                v[q] = vn
                g[q] = e2 * gq
                sp = vn > v_th
                flag[q] = sp
                cnt += sp
        elif uniform:
            for q in range(n_act):
                gq = g[q]
                vn = v_rest + (((c8 * gq + u0) + e9 * v[q]) + c0)
                v[q] = vn
                g[q] = e2 * gq
                sp = vn > v_th
                flag[q] = sp
                cnt += sp
        else:  # n_act == n and slot[i] == i
            for q in range(n_act):
                gq = g[q]
                vn = v_rest + (((c8 * gq + u_ext[q]) + e9 * v[q]) + cst[q])
                v[q] = vn
                g[q] = e2 * gq
                sp = vn > v_th
                flag[q] = sp
                cnt += sp
        # refractory neurons: not integrated, cannot spike
        for x in range(n_refr):
            q = slot[refr[x]]
            v[q] = v_reset
            g[q] = 0.0
            cnt -= flag[q]
            flag[q] = 0
        # spikes of this step (neuron indices, ascending) go into the delay ring
        slot_in = (cur + D) % L
        ns = 0
        if cnt:
            row = ring[slot_in]
            ns = _collect(flag, flag64, n_act, row)
            for a in range(ns):
                row[a] = who[row[a]]
            if ns > 1:
                row[:ns].sort()
            for a in range(ns):
                i = row[a]
                until[i] = k + max(R[i], 1)
                if not fixed:
                    refr[n_refr] = i
                    n_refr += 1
                spk_n, spk_k, m = _push_record(spk_n, spk_k, m, i, k)
        ring_n[slot_in] = ns
        # synaptic effects whose delay has elapsed (g is write-protected while refractory), in
        # Brian2's order: plastic KC -> MBON pathway, static pathway, modulation, homeostasis
        t = k * dt_
        if plastic:
            for a in range(ring_n[cur]):
                src = ring[cur, a]
                for e in range(p_ptr[src], p_ptr[src + 1]):
                    x = p_syn[e]
                    j = p_post[x]
                    if k >= until[j]:
                        if slot[j] >= n_act:
                            n_act = _wake(j, slot, who, n_act)
                        g[slot[j]] += pw[x]
                    _trace(x, t, elig, t_elig, ints, inv_tau)
        for a in range(ring_n[cur]):
            src = ring[cur, a]
            for e in range(indptr[src], indptr[src + 1]):
                j = post[e]
                if k >= until[j]:
                    if slot[j] >= n_act:
                        n_act = _wake(j, slot, who, n_act)
                    g[slot[j]] += w[e]
        if plastic:
            _modulate(t, ring[cur], ring_n[cur], pl, pw, elig, t_elig)
            _homeostasis(t, ring[slot_in], ns, pl, pw)
        ring_n[cur] = 0
        cur = (cur + 1) % L
        # drive events of this step (v is write-protected while refractory)
        for e in range(ev_ptr[k - k0], ev_ptr[k - k0 + 1]):
            j = ev_nrn[e]
            if k >= until[j]:
                if slot[j] >= n_act:
                    n_act = _wake(j, slot, who, n_act)
                v[slot[j]] += w_drive
        # reset
        for a in range(ns):
            q = slot[ring[slot_in, a]]
            v[q] = v_reset
            g[q] = 0.0
    if state_out.shape[1] == n:
        for i in range(n):
            state_out[0, i] = v[slot[i]]
            state_out[1, i] = g[slot[i]]
    if until_out.shape[0] == n:
        until_out[:] = until
    return spk_n[:m].copy(), spk_k[:m].copy(), cur


@njit(cache=True, nogil=True, error_model="numpy")
def _conductance_lif_trial(n_steps, v0, ge0, gi0, ga0, R, until0, I_ext, C_m, g_L, E_L, V_th, V_reset,
                           delta_g_a, E_e, E_i, E_a, dt, l_a, l_e, l_i,
                           indptr_e, post_e, w_e, indptr_i, post_i, w_i, D, ev_ptr, ev_nrn, w_drive,
                           rec_var, rec_nrn, rec_out, cap, pl, pw, w_rec, k0, ring, ring_n, cur0, elig, t_elig,
                           state_out, until_out):
    """Steps ``k0 .. k0 + n_steps - 1`` of ConductanceAdaptiveLIF (method "euler"); returns (neurons, steps, cur).

    As :func:`_current_lif_trial`; only ``v`` is frozen (at ``V_reset``)
    while refractory (the conductances always decay and always take input). ``error_model="numpy"``
    lets the division by ``C_m`` vectorise (no Python zero-division check).

    (Over 80 lines: the time-step loop of a numba kernel is one function (its helpers are inlined).)
    """
    n = v0.shape[0]
    v = v0.copy()
    ge = ge0.copy()
    gi_ = gi0.copy()
    ga = ga0.copy()
    until = until0.copy()
    n8 = (n + 63) // 64 * 64
    flag = np.zeros(n8, dtype=np.uint8)
    flag64 = flag.view(np.uint64)
    refr = np.empty(n, dtype=np.int64)
    n_refr = 0
    for i in range(n):
        if until[i] > k0:  # refractory at the start: only when resuming a run
            refr[n_refr] = i
            n_refr += 1
    L = D + 1
    spk_n = np.empty(cap, dtype=np.int64)
    spk_k = np.empty(cap, dtype=np.int64)
    m = 0
    cur = cur0
    n_rec = rec_nrn.shape[0]
    p_ptr, p_syn, p_post, ints = pl[0], pl[1], pl[2], pl[11]
    inv_tau = pl[10][1]
    plastic = pw.shape[0] > 0
    for k in range(k0, k0 + n_steps):
        for r in range(n_rec):
            j = rec_nrn[r]
            rv = rec_var[r]
            rec_out[r, k - k0] = v[j] if rv == 0 else (ge[j] if rv == 1 else (gi_[j] if rv == 2 else ga[j]))
        if plastic:
            _record_weights(k, ints, pw, w_rec)
        n_refr = _refractory_begin(k, until, refr, n_refr)
        cnt = 0
        for i in range(n):
            vi = v[i]
            a_ = ga[i]
            e_ = ge[i]
            h_ = gi_[i]
            vn = vi + ((dt * ((((I_ext[i] + (g_L[i] * (E_L[i] - vi))) + (a_ * (E_a - vi)))
                               + (e_ * (E_e - vi))) + (h_ * (E_i - vi)))) / C_m[i])
            ga[i] = (l_a * a_) + a_
            ge[i] = (l_e * e_) + e_
            gi_[i] = (l_i * h_) + h_
            v[i] = vn
            s = vn > V_th[i]
            flag[i] = s
            cnt += s
        for x in range(n_refr):  # v of a refractory neuron stays V_reset (frozen, drive dropped)
            j = refr[x]
            v[j] = V_reset[j]
            cnt -= flag[j]
            flag[j] = 0
        slot_in = (cur + D) % L
        ns = 0
        if cnt:
            ns = _collect(flag, flag64, n, ring[slot_in])
            for a in range(ns):
                i = ring[slot_in, a]
                until[i] = k + max(R[i], 1)
                refr[n_refr] = i
                n_refr += 1
                spk_n, spk_k, m = _push_record(spk_n, spk_k, m, i, k)
        ring_n[slot_in] = ns
        # conductances are not (unless refractory): input is never dropped. Brian2's order: plastic
        # KC -> MBON pathway, static excitatory, static inhibitory, modulation, homeostasis
        t = k * dt
        if plastic:
            for a in range(ring_n[cur]):
                src = ring[cur, a]
                for e in range(p_ptr[src], p_ptr[src + 1]):
                    x = p_syn[e]
                    ge[p_post[x]] += pw[x]
                    _trace(x, t, elig, t_elig, ints, inv_tau)
        for a in range(ring_n[cur]):
            src = ring[cur, a]
            for e in range(indptr_e[src], indptr_e[src + 1]):
                ge[post_e[e]] += w_e[e]
        for a in range(ring_n[cur]):
            src = ring[cur, a]
            for e in range(indptr_i[src], indptr_i[src + 1]):
                gi_[post_i[e]] += w_i[e]
        if plastic:
            _modulate(t, ring[cur], ring_n[cur], pl, pw, elig, t_elig)
            _homeostasis(t, ring[slot_in], ns, pl, pw)
        ring_n[cur] = 0
        cur = (cur + 1) % L
        for e in range(ev_ptr[k - k0], ev_ptr[k - k0 + 1]):
            j = ev_nrn[e]
            if k >= until[j]:
                v[j] += w_drive
        for a in range(ns):
            i = ring[slot_in, a]
            v[i] = V_reset[i]
            ga[i] += delta_g_a[i]
    if state_out.shape[1] == n:
        for i in range(n):
            state_out[0, i] = v[i]
            state_out[1, i] = ge[i]
            state_out[2, i] = gi_[i]
            state_out[3, i] = ga[i]
    if until_out.shape[0] == n:
        until_out[:] = until
    return spk_n[:m].copy(), spk_k[:m].copy(), cur


# --------------------------------------------------------------------------- preparation
def _prepare_current_lif(model, n, dt, init, csr, D, w_drive):
    """The fixed arguments of :func:`_current_lif_trial` (plain arrays and floats, SI)."""
    p = model.parameters
    f64 = np.float64
    tau_m, tau_syn = f64(_si(p["tau_m"].value)), f64(_si(p["tau_syn"].value))
    v_rest = f64(_si(p["v_rest"].value))
    if tau_m == tau_syn:
        raise NotImplementedError("tau_m == tau_syn: Brian2's 'linear' solution has another form")
    dt = f64(dt)
    # Brian2's numpy target: the loop-invariant constants of the generated code, same expressions
    lio_1 = (-dt) / tau_syn
    lio_3 = tau_syn / (tau_m - tau_syn)
    lio_4 = dt / tau_m
    lio_5 = dt / tau_syn
    lio_6 = (-dt) / tau_m
    lio_7 = f64(0.0) - v_rest
    e2 = np.exp(lio_1)
    c8 = ((lio_3 * ((-np.exp(lio_4)) + np.exp(lio_5))) * np.exp(lio_6)) * np.exp(lio_1)
    e9 = np.exp(lio_6)
    u_ext = np.ascontiguousarray(_si(init["u_ext"]))
    cst = e9 * (lio_7 + (-u_ext))
    if np.all(u_ext == u_ext[:1]) and np.all(np.signbit(u_ext) == np.signbit(u_ext[:1])):
        u_ext, cst = u_ext[:1].copy(), cst[:1].copy()  # one value for all: the kernel's scalar loop
    indptr, post, w = csr[0]
    head = (np.ascontiguousarray(_si(init["v"])), np.ascontiguousarray(_si(init["g"])))
    mid = (u_ext, cst, float(e2), float(c8), float(e9), float(v_rest), float(_si(p["v_th"].value)),
           float(_si(p["v_reset"].value)), indptr, post, w, int(D))
    return head, mid, (float(w_drive),), (float(dt),)


def _prepare_conductance_lif(model, n, dt, init, csr, D, w_drive):
    """The fixed arguments of :func:`_conductance_lif_trial` (plain arrays and floats, SI)."""
    p = model.parameters
    f64 = np.float64
    dt = f64(dt)
    l_a = (-dt) / f64(_si(p["tau_a"].value))
    l_e = (-dt) / f64(_si(p["tau_e"].value))
    l_i = (-dt) / f64(_si(p["tau_i"].value))
    arr = {k: np.ascontiguousarray(_si(init[k])) for k in
           ("v", "g_e", "g_i", "g_a", "I_ext", "C_m", "g_L", "E_L", "V_th", "V_reset", "delta_g_a")}
    (ip_e, po_e, w_e), (ip_i, po_i, w_i) = csr
    head = (arr["v"], arr["g_e"], arr["g_i"], arr["g_a"])
    mid = (arr["I_ext"], arr["C_m"], arr["g_L"], arr["E_L"], arr["V_th"], arr["V_reset"], arr["delta_g_a"],
           float(_si(p["E_e"].value)), float(_si(p["E_i"].value)), float(_si(p["E_a"].value)), float(dt),
           float(l_a), float(l_e), float(l_i), ip_e, po_e, w_e, ip_i, po_i, w_i, int(D))
    return head, mid, (float(w_drive),), ()


_KERNELS = {"current_lif": _current_lif_trial, "conductance_lif": _conductance_lif_trial}


def _trial(kind, fixed, R, until0, ev_ptr, ev_nrn, rec_var, rec_nrn, rec_out, cap, n_steps, pl, pw, w_rec,
           carry=None):
    """One trial of model ``kind`` with the fixed arguments from ``_prepare_*``; returns (neurons, steps).

    ``carry``: an :class:`EngineState` to continue from (and update); ``None``
    runs a whole trial from the prepared initial state.
    """
    head, mid, drive, tail = fixed
    if carry is None:
        n, D = len(R), mid[-1] if kind == "current_lif" else mid[-1]
        ring = np.empty((int(D) + 1, n), dtype=np.int64)
        args = (0, ring, np.zeros(int(D) + 1, np.int64), 0, np.zeros(pw.shape[0]), np.zeros(pw.shape[0]),
                np.zeros((0, 0)), np.zeros(0, np.int64))
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


def _by_source(n, src):
    """CSR over neurons: for each neuron, the positions ``x`` with ``src[x]`` equal to it, in order."""
    order = np.argsort(src, kind="stable")
    ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(src, minlength=n), out=ptr[1:])
    return ptr, np.ascontiguousarray(order, dtype=np.int64)


def _calc_timestep(t, dt):
    """Brian2's ``Clock._calc_timestep``: steps of ``dt`` to ``t``, exact within 1e-4 dt, else rounded up."""
    i = np.int64(np.round(t / dt))
    if i * dt == t or abs(i * dt - t) / dt <= 1e-4:
        return int(i)
    return int(np.ceil(t / dt))



def _plastic_tables(plan, n, dt, n_steps):
    """The kernels' plasticity tuple from a :class:`models.plasticity.PlasticPlan` (or none).

    Returns ``(pl, n_samples, t_ms)``: ``pl = (p_ptr, p_syn, p_post, m_ptr, m_syn, h_ptr,
    h_syn, w0, w_max, windows, [eta, 1/tau_e, rho], [trace_add, always, record_every])``.
    """
    i64 = np.int64
    if plan is None:
        empty = np.zeros(0, i64)
        zptr = np.zeros(n + 1, i64)
        pl = (zptr, empty, empty, zptr, empty, zptr, empty, np.zeros(0), np.zeros(0), np.zeros((0, 2)),
              np.zeros(3), np.zeros(3, i64))
        return pl, 0, np.zeros(0)
    pre = np.asarray(plan.pre, dtype=i64).ravel()
    post = np.asarray(plan.post, dtype=i64).ravel()
    w0 = np.ascontiguousarray(_si(plan.w0), dtype=np.float64).ravel()
    w_max = np.ascontiguousarray(_si(plan.w_max), dtype=np.float64).ravel()
    mod_pre = np.asarray(plan.mod_pre, dtype=i64).ravel()
    mod_syn = np.asarray(plan.mod_syn, dtype=i64).ravel()
    if not (pre.shape == post.shape == w0.shape == w_max.shape) or mod_pre.shape != mod_syn.shape:
        raise ValueError("plasticity: pre, post, w0, w_max (and mod_pre, mod_syn) must have equal lengths")
    for name, a, hi in (("pre", pre, n), ("post", post, n), ("mod_pre", mod_pre, n), ("mod_syn", mod_syn, len(pre))):
        if a.size and (a.min() < 0 or a.max() >= hi):
            raise IndexError(f"plasticity: {name} must lie in [0, {hi})")
    if plan.trace not in ("set", "add"):
        raise ValueError(f"plasticity: trace must be 'set' or 'add', got {plan.trace!r}")
    if not plan.tau_e > 0:
        raise ValueError("plasticity: tau_e must be positive")
    p_ptr, p_syn = _by_source(n, pre)  # Brian2's SpikeQueue: synapses by source, stable
    m_ptr, m_ord = _by_source(n, mod_pre)
    h_ptr, h_syn = _by_source(n, post)  # the post pathway (homeostasis): synapses by MBON
    win = np.zeros((0, 2)) if plan.windows is None else np.asarray(plan.windows, dtype=np.float64).reshape(-1, 2)
    every = n_samples = 0
    t_ms = np.zeros(0)
    if plan.record_dt is not None:
        rdt = float(plan.record_dt)
        every = int(round(rdt / dt))
        if every < 1 or abs(every * dt - rdt) > 1e-4 * dt:
            raise NotImplementedError(f"the numba engine samples plastic weights every whole number of steps; "
                                      f"record_dt = {rdt} s is not a multiple of dt = {dt} s")
        n_samples = _calc_timestep(n_steps * dt, rdt)
        t_ms = (np.arange(n_samples) * rdt) / 1e-3  # StateMonitor.t / ms
    par = np.array([float(plan.eta), 1.0 / float(plan.tau_e), float(plan.rho)])
    ints = np.array([plan.trace == "add", plan.windows is None, every], dtype=i64)
    pl = (p_ptr, p_syn, post, m_ptr, np.ascontiguousarray(mod_syn[m_ord]), h_ptr, h_syn, w0, w_max, win, par, ints)
    return pl, n_samples, t_ms


# --------------------------------------------------------------------------- public API
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
    prep = _prepare_current_lif if name == "current_lif" else _prepare_conductance_lif
    fixed = prep(model, n, dt, init, csr, D, float(_si(drive_weight))) if n else None
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
    eligibility traces and weights of the plastic synapses; ``k``: the next
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

    @property
    def t(self) -> float:
        """Steps run so far (multiply by ``dt`` for the time)."""
        return self.k


@dataclass
class EngineNetwork:
    """A network prepared for the numba engine: plain arrays and numbers (SI units), nothing else.

    Made by :func:`prepare` (or :meth:`sim.Network.engine_network`). Running
    it needs numpy and numba only -- not Brian2, the models or the
    connectome -- so it can be saved (:meth:`save`) and run in worker
    processes that import just :mod:`sim.engine_numba` (a new process starts
    in about 0.5 s and peaks at about 275 MB for the whole brain, against
    1.9 s and 340 MB with Brian2 and the rest of larvasim;
    ``docs/benchmarks.md``). Same trials, same spikes as :func:`simulate`.

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
            ``(neurons, steps)`` of integer arrays.
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
                           ring_n=np.zeros(D + 1, np.int64), cur=0, elig=np.zeros(len(pw0)),
                           t_elig=np.zeros(len(pw0)), pw=pw0.copy(), k=0, state_out=np.empty_like(state),
                           until_out=np.empty_like(self.until0))

    def step(self, states, inputs, n_steps: int, threads: int | None = None) -> list:
        """Advance each larva's :class:`EngineState` by ``n_steps`` with its input events.

        Parameters
        ----------
        states : sequence of EngineState
            One per larva (updated in place).
        inputs : sequence
            Per larva, the chunk's drive events: an :class:`~sim.stimuli.InputEvents`
            or ``(neurons, steps)`` with steps counted from the chunk's start.
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
        with ThreadPoolExecutor(max_workers=threads) as pool:
            return list(pool.map(one, zip(states, inputs)))

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
        return net
