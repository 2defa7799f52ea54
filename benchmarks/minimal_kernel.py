"""A minimal reference kernel of the engine's current LIF: the floor ``Network(device="numba")`` is measured against.

Issue 16. The model is the one :mod:`sim.engine_numba` runs for ``CurrentLIF``
(Shiu et al. 2024 as larvasim implements it, method ``"linear"``), written as
plainly and as fast as one can in numba, without anything the engine carries
for generality (dormant neurons, recording, plasticity, chunked stepping,
silencing, per-neuron constants). Per 0.1 ms step ``k``, in Brian2's order:

1. every neuron, branch-free: ``v' = v_rest + ((c8 g + e9 v) + c0)``, ``g' =
   e2 g`` (Brian2's exact linear update, the same operations in the same order,
   so the same roundings); kept only where not refractory (``k >= until``), a
   spike where not refractory and ``v' > v_th``. When the refractory state
   ``(v_reset, 0)`` is a fixed point of the update below threshold (``v_reset =
   v_rest``, ``u_ext = 0``: the benchmark's model, checked in the kernel), the
   refractory test is exactly a no-op and is left out;
2. the spikes (ascending neuron index) go into a ring buffer of the last ``D +
   1`` steps; a spiking neuron is reset (``v = v_reset``, ``g = 0``) and is
   refractory until step ``k + R`` (nothing can reach it before: Brian2
   write-protects ``v`` and ``g``, so the reset may be done at once);
3. the spikes of step ``k - D`` are delivered through a CSR table of the
   synapses by presynaptic neuron (``int32`` targets, ``float64`` weights, in
   Brian2's synapse order, so that sums round as Brian2's): ``g[post] += w``
   unless ``post`` is refractory;
4. the drive events of step ``k`` (the same pre-generated input events as the
   engine's): ``v[i] += w_drive`` unless ``i`` is refractory.

Its constants (``e2``, ``c8``, ``e9``, ``c0``, the CSR table, ``R``, ``D``,
the drive weight) are taken from the engine's prepared network
(:class:`sim.engine_numba.EngineNetwork`), i.e. from the constants Brian2's
numpy target computes; the kernel itself shares no code with the engine.
``benchmarks/bench_engine.py --engines numba,minimal`` runs it beside the
engine and checks that every spike is the same.

Run alone (``python benchmarks/minimal_kernel.py [--model conductance_lif]``) it
times the kernel and the engine in one process, interleaved, on the benchmark
problem (whole brain, all excitatory, 42 olfactory neurons at 150 Hz, 1 s,
seed 1) and compares their spikes. :func:`minimal_conductance_trial` does the
same for the conductance-based model (``ConductanceAdaptiveLIF``, forward
Euler, per-neuron constants), :func:`minimal_plastic_trial` for the current
LIF with the dopaminergic KC -> MBON plasticity; :func:`kernel_for` picks the
kernel of an engine network.

(Written once with an output buffer that doubled when full: reassigning an array variable
inside the time loop makes numba increment and decrement reference counts, atomically, on every
step, which made that version 3x slower; ``perf`` showed ``NRT_incref``/``NRT_decref`` in a
quarter of the samples. The buffer now has room for every possible spike from the start.)
"""
from __future__ import annotations


import numpy as np
from numba import njit


@njit(cache=True, nogil=True, boundscheck=False)
def _bin_events(neurons, steps, n_steps):
    """Drive events grouped by step (counting sort; in-range, one per neuron and step, as drawn)."""
    ptr = np.zeros(n_steps + 1, dtype=np.int64)
    for e in range(steps.shape[0]):
        ptr[steps[e] + 1] += 1
    for k in range(n_steps):
        ptr[k + 1] += ptr[k]
    fill = ptr[:-1].copy()
    nrn = np.empty(steps.shape[0], dtype=np.int32)
    for e in range(steps.shape[0]):
        k = steps[e]
        nrn[fill[k]] = neurons[e]
        fill[k] += 1
    return ptr, nrn


@njit(cache=True, nogil=True, boundscheck=False)
def _setup(n, n_steps, D, R, v0):
    """State, spike flags, delay ring and output buffers of a trial from ``v0`` (``g = 0``, none refractory)."""
    v = v0.copy()
    g = np.zeros(n)
    until = np.full(n, -(1 << 30), dtype=np.int32)  # first step at which a neuron is not refractory
    n64 = (n + 7) // 8
    flag = np.zeros(n64 * 8, dtype=np.uint8)
    ring = np.empty((D + 1, n), dtype=np.int32)
    ring_n = np.zeros(D + 1, dtype=np.int64)
    # a neuron spikes at most once every R steps: room for every spike, no growing (reassigning an array in
    # the loop would make numba count references on every step)
    cap = n * ((n_steps + R - 1) // R)
    return v, g, until, flag, ring, ring_n, np.empty(cap, dtype=np.int32), np.empty(cap, dtype=np.int32)


@njit(cache=True, nogil=True, boundscheck=False, inline="always")
def _update(k, n, v, g, until, flag, fixed, e2, c8, e9, c0, v_rest, v_th):
    """1. Update and threshold, every neuron, branch-free; the number of spikes."""
    cnt = 0
    if fixed:  # a refractory neuron sits at (v_reset, 0), which the update leaves unchanged, below threshold
        for i in range(n):
            gi = g[i]
            vn = v_rest + ((c8 * gi + e9 * v[i]) + c0)
            v[i] = vn
            g[i] = e2 * gi
            s = vn > v_th
            flag[i] = s
            cnt += s
    else:
        for i in range(n):
            gi = g[i]
            vi = v[i]
            vn = v_rest + ((c8 * gi + e9 * vi) + c0)
            nr = k >= until[i]
            v[i] = vn if nr else vi
            g[i] = e2 * gi if nr else gi
            s = nr & (vn > v_th)
            flag[i] = s
            cnt += s
    return cnt


@njit(cache=True, nogil=True, boundscheck=False, inline="always")
def _spikes(k, flag, flag64, ring, row, v, g, until, R, v_reset, out_n, out_k, m):
    """2. This step's spikes (ascending) into ``ring[row]`` and the output, reset and made refractory."""
    ns = 0
    for b in range(flag64.shape[0]):
        if flag64[b] != 0:
            for i in range(8 * b, 8 * b + 8):
                if flag[i]:
                    ring[row, ns] = i
                    ns += 1
                    v[i] = v_reset
                    g[i] = 0.0
                    until[i] = k + R
                    out_n[m] = i
                    out_k[m] = k
                    m += 1
    return ns, m


@njit(cache=True, nogil=True, boundscheck=False, inline="always")
def _deliver(k, ring, src_row, n_src, indptr, post, w, g, until):
    """3. The spikes of ``ring[src_row]`` through a CSR table: ``g[post] += w`` unless refractory."""
    for a in range(n_src):
        src = ring[src_row, a]
        for e in range(indptr[src], indptr[src + 1]):
            j = post[e]
            if k >= until[j]:
                g[j] += w[e]


@njit(cache=True, nogil=True, boundscheck=False, inline="always")
def _drive(k, ev_ptr, ev_nrn, until, v, w_drive):
    """4. The drive events of step ``k``: ``v += w_drive`` unless refractory."""
    for e in range(ev_ptr[k], ev_ptr[k + 1]):
        j = ev_nrn[e]
        if k >= until[j]:
            v[j] += w_drive


@njit(cache=True, nogil=True, boundscheck=False)
def minimal_trial(n_steps, n, e2, c8, e9, c0, v_rest, v_th, v_reset, R, D, indptr, post, w, w_drive,
                  ev_neurons, ev_steps):
    """One trial from rest; returns (neurons, steps) of every spike, sorted by step, then neuron."""
    ev_ptr, ev_nrn = _bin_events(ev_neurons, ev_steps, n_steps)
    fixed = v_rest + ((c8 * 0.0 + e9 * v_reset) + c0) == v_reset and not (v_reset > v_th)
    v, g, until, flag, ring, ring_n, out_n, out_k = _setup(n, n_steps, D, R, np.full(n, v_rest))
    flag64 = flag.view(np.uint64)
    L = D + 1
    m = 0
    for k in range(n_steps):
        cnt = _update(k, n, v, g, until, flag, fixed, e2, c8, e9, c0, v_rest, v_th)
        row = k % L
        ns = 0
        if cnt:
            ns, m = _spikes(k, flag, flag64, ring, row, v, g, until, R, v_reset, out_n, out_k, m)
        ring_n[row] = ns
        src_row = (k + 1) % L  # the spikes of step k - D
        _deliver(k, ring, src_row, ring_n[src_row], indptr, post, w, g, until)
        _drive(k, ev_ptr, ev_nrn, until, v, w_drive)
    return out_n[:m].astype(np.int64), out_k[:m].astype(np.int64)


class MinimalKernel:
    """The benchmark network for :func:`minimal_trial`, its constants taken from an ``EngineNetwork``.

    Only what the benchmark problem needs: ``CurrentLIF``, one uniform ``t_ref``,
    ``u_ext = 0``, every neuron at rest at the start, no plasticity, no silencing,
    no state recording, every neuron's spikes kept.
    """

    #: Whether the kernel runs the engine network's plasticity (subclasses that do set it).
    plastic_ok = False

    def __init__(self, engine):
        if engine.model != "current_lif":
            raise ValueError(f"the minimal kernel is the current LIF, not {engine.model!r}")
        head, mid, drive, tail = engine.fixed
        u_ext, cst, e2, c8, e9, v_rest, v_th, v_reset, indptr, post, w, D = mid
        v0, g0 = head
        R = np.unique(engine.R)
        if not (u_ext.shape == (1,) and u_ext[0] == 0.0 and not np.signbit(u_ext[0])):
            raise ValueError("the minimal kernel needs u_ext = 0 for every neuron")
        if len(R) != 1 or not (np.all(v0 == v_rest) and np.all(g0 == 0.0)):
            raise ValueError("the minimal kernel needs one t_ref and every neuron at rest")
        if (engine.has_plasticity and not self.plastic_ok) or engine.record_states or engine.keep is not None or (
                engine.blocked is not None and engine.blocked.any()):
            raise ValueError("the minimal kernel has no plasticity, recording, record subset or silencing")
        self.n, self.n_steps = engine.n, engine.n_steps
        self.consts = (float(e2), float(c8), float(e9), float(cst[0]), float(v_rest), float(v_th), float(v_reset))
        self.R, self.D = int(max(R[0], 1)), int(D)
        # (CSR by presynaptic neuron in Brian2's order; the engine's table holds no zero weights)
        self.indptr = np.ascontiguousarray(indptr, dtype=np.int64)
        self.post = np.ascontiguousarray(post, dtype=np.int32)
        self.w = np.ascontiguousarray(w, dtype=np.float64)
        self.w_drive = float(drive[0])

    def run_one(self, neurons, steps):
        """One trial; ``(neurons, steps)`` of its spikes."""
        neurons, steps = np.asarray(neurons), np.asarray(steps)
        if neurons.shape != steps.shape or (steps.size and (steps.min() < 0 or steps.max() >= self.n_steps
                                                             or neurons.min() < 0 or neurons.max() >= self.n)):
            raise ValueError("the minimal kernel takes drive events inside the trial and the network, as drawn")
        return self._trial(np.ascontiguousarray(neurons, dtype=np.int64), np.ascontiguousarray(steps, dtype=np.int64))

    def _trial(self, neurons, steps):
        return minimal_trial(self.n_steps, self.n, *self.consts, self.R, self.D, self.indptr, self.post, self.w,
                             self.w_drive, neurons, steps)

    def run(self, inputs):
        """One trial per ``(neurons, steps)`` pair (or ``InputEvents``); a list of ``(neurons, steps)``."""
        return [self.run_one(*((ev.neurons, ev.steps) if hasattr(ev, "steps") else ev)) for ev in inputs]


@njit(cache=True, nogil=True, boundscheck=False, error_model="numpy")
def minimal_conductance_trial(n_steps, v0, ge0, gi0, ga0, I_ext, C_m, g_L, E_L, V_th, V_reset, dga, E_e, E_i, E_a,
                              dt, l_a, l_e, l_i, R, D, ip_e, po_e, w_e, ip_i, po_i, w_i, w_drive, ev_neurons,
                              ev_steps):
    """One trial of the conductance-based adaptive LIF (Jürgensen et al. 2024, method "euler"); spikes as
    :func:`minimal_trial`.

    Per step, in Brian2's order: every neuron, branch-free, the forward-Euler step ``v' = v + dt (I_ext +
    g_L (E_L - v) + g_a (E_a - v) + g_e (E_e - v) + g_i (E_i - v)) / C_m`` and ``g' = (-dt/tau) g + g`` for
    the three conductances (the same operations in the same order as Brian2's generated code); ``v`` is
    kept only where not refractory (it stays at ``V_reset``, where the reset put it), a spike where not
    refractory and ``v' > V_th``. A spiking neuron is reset at once (``v = V_reset``, ``g_a += delta_g_a``)
    and is refractory until step ``k + R``; the spikes of step ``k - D`` are delivered through the
    excitatory and the inhibitory CSR tables (``g_e[post] += w``, ``g_i[post] += w``: conductances take
    input while refractory); the drive events add ``w_drive`` to ``v`` unless refractory. Per-neuron
    constants (cell classes) are arrays; no neuron is skipped.
    """
    ev_ptr, ev_nrn = _bin_events(ev_neurons, ev_steps, n_steps)
    n = v0.shape[0]
    v, _, until, flag, ring, ring_n, out_n, out_k = _setup(n, n_steps, D, max(R.min(), 1), v0)
    ge, gi, ga = ge0.copy(), gi0.copy(), ga0.copy()
    n64 = flag.shape[0] // 8
    flag64 = flag.view(np.uint64)
    L = D + 1
    m = 0
    for k in range(n_steps):
        # 1. update and threshold, every neuron, branch-free
        cnt = 0
        for i in range(n):
            vi = v[i]
            a = ga[i]
            e = ge[i]
            h = gi[i]
            vn = vi + ((dt * ((((I_ext[i] + (g_L[i] * (E_L[i] - vi))) + (a * (E_a - vi))) + (e * (E_e - vi)))
                              + (h * (E_i - vi)))) / C_m[i])
            ga[i] = (l_a * a) + a
            ge[i] = (l_e * e) + e
            gi[i] = (l_i * h) + h
            nr = k >= until[i]
            v[i] = vn if nr else vi
            s = nr & (vn > V_th[i])
            flag[i] = s
            cnt += s
        # 2. this step's spikes: ring, reset, refractoriness, output
        row = k % L
        ns = 0
        if cnt:
            for b in range(n64):
                if flag64[b] != 0:
                    for i in range(8 * b, 8 * b + 8):
                        if flag[i]:
                            ring[row, ns] = i
                            ns += 1
                            v[i] = V_reset[i]
                            ga[i] += dga[i]
                            until[i] = k + max(R[i], 1)
                            out_n[m] = i
                            out_k[m] = k
                            m += 1
        ring_n[row] = ns
        # 3. delivery of the spikes of step k - D: excitatory, then inhibitory conductances
        src_row = (k + 1) % L
        for a in range(ring_n[src_row]):
            src = ring[src_row, a]
            for x in range(ip_e[src], ip_e[src + 1]):
                ge[po_e[x]] += w_e[x]
        for a in range(ring_n[src_row]):
            src = ring[src_row, a]
            for x in range(ip_i[src], ip_i[src + 1]):
                gi[po_i[x]] += w_i[x]
        _drive(k, ev_ptr, ev_nrn, until, v, w_drive)  # 4.
    return out_n[:m].astype(np.int64), out_k[:m].astype(np.int64)


class MinimalConductanceKernel(MinimalKernel):
    """The benchmark network for :func:`minimal_conductance_trial`, its constants taken from an ``EngineNetwork``
    of ``ConductanceAdaptiveLIF`` (no plasticity, recording, record subset or silencing)."""

    def __init__(self, engine):
        if engine.model != "conductance_lif":
            raise ValueError(f"the minimal conductance kernel is the conductance LIF, not {engine.model!r}")
        if engine.has_plasticity or engine.record_states or engine.keep is not None or (
                engine.blocked is not None and engine.blocked.any()):
            raise ValueError("the minimal kernel has no plasticity, recording, record subset or silencing")
        head, mid, drive, _ = engine.fixed
        (I_ext, C_m, g_L, E_L, V_th, V_reset, dga, E_e, E_i, E_a, dt, l_a, l_e, l_i,
         ip_e, po_e, w_e, ip_i, po_i, w_i, D) = mid
        f = lambda x: np.ascontiguousarray(x, dtype=np.float64)  # noqa: E731
        self.n, self.n_steps = engine.n, engine.n_steps
        self.state = tuple(f(x) for x in head)
        self.consts = (*(f(x) for x in (I_ext, C_m, g_L, E_L, V_th, V_reset, dga)),
                       *(float(x) for x in (E_e, E_i, E_a, dt, l_a, l_e, l_i)))
        self.R = np.ascontiguousarray(engine.R, dtype=np.int64)
        self.D = int(D)
        self.tables = (np.ascontiguousarray(ip_e, dtype=np.int64), np.ascontiguousarray(po_e, dtype=np.int32), f(w_e),
                       np.ascontiguousarray(ip_i, dtype=np.int64), np.ascontiguousarray(po_i, dtype=np.int32), f(w_i))
        self.w_drive = float(drive[0])

    def _trial(self, neurons, steps):
        return minimal_conductance_trial(self.n_steps, *self.state, *self.consts, self.R, self.D, *self.tables,
                                         self.w_drive, neurons, steps)


@njit(cache=True, nogil=True, boundscheck=False)
def minimal_plastic_trial(n_steps, n, e2, c8, e9, c0, v_rest, v_th, v_reset, R, D, indptr, post, w, w_drive,
                          ev_neurons, ev_steps, p_ptr, p_syn, p_post, pw0, w0, w_max, m_ptr, m_syn, h_ptr, h_syn,
                          eta, inv_tau, rho, trace_add, dt):
    """:func:`minimal_trial` with the dopaminergic KC -> MBON plasticity (``DopaminePlasticity``, always on);
    returns (neurons, steps, final plastic weights).

    Per step ``k`` (time ``t = k dt``), in Brian2's order: the update and the spikes as in
    :func:`minimal_trial`; then the spikes of step ``k - D`` through the plastic pathway (``g[post] += w``
    unless refractory, and the synapse's eligibility trace set to 1, or ``1 + trace exp(-(t - t_last) /
    tau_e)`` with ``trace_add``), through the static table, then as MBIN spikes onto their modulated
    synapses (``w = clip(w - eta (w0 trace exp(-(t - t_last) / tau_e)), 0, w_max)``, one by one); then this
    step's MBON spikes pull their plastic weights back (``w += rho (w0 - w)``, when ``rho > 0``); then the
    drive. The expressions are Brian2's generated ones, so the roundings are the same.
    """
    ev_ptr, ev_nrn = _bin_events(ev_neurons, ev_steps, n_steps)
    fixed = v_rest + ((c8 * 0.0 + e9 * v_reset) + c0) == v_reset and not (v_reset > v_th)
    v, g, until, flag, ring, ring_n, out_n, out_k = _setup(n, n_steps, D, R, np.full(n, v_rest))
    flag64 = flag.view(np.uint64)
    L = D + 1
    pw = pw0.copy()
    elig = np.zeros(pw.shape[0])
    t_elig = np.zeros(pw.shape[0])
    m = 0
    for k in range(n_steps):
        t = k * dt
        cnt = _update(k, n, v, g, until, flag, fixed, e2, c8, e9, c0, v_rest, v_th)
        row = k % L
        ns = 0
        if cnt:
            ns, m = _spikes(k, flag, flag64, ring, row, v, g, until, R, v_reset, out_n, out_k, m)
        ring_n[row] = ns
        src_row = (k + 1) % L  # the spikes of step k - D
        for a in range(ring_n[src_row]):  # plastic KC -> MBON pathway, and the KCs' eligibility traces
            src = ring[src_row, a]
            for e in range(p_ptr[src], p_ptr[src + 1]):
                x = p_syn[e]
                j = p_post[x]
                if k >= until[j]:
                    g[j] += pw[x]
                elig[x] = 1.0 + (elig[x] * np.exp(inv_tau * (-(t - t_elig[x])))) if trace_add else 1.0
                t_elig[x] = t
        _deliver(k, ring, src_row, ring_n[src_row], indptr, post, w, g, until)  # static synapses
        for a in range(ring_n[src_row]):  # MBIN spikes: depression of their compartments' eligible synapses
            src = ring[src_row, a]
            for e in range(m_ptr[src], m_ptr[src + 1]):
                x = m_syn[e]
                y = pw[x] - (eta * ((w0[x] * elig[x]) * np.exp(inv_tau * (-(t - t_elig[x])))))
                pw[x] = min(max(y, 0.0), w_max[x])
        if rho != 0.0:  # this step's MBON spikes: homeostasis
            for a in range(ns):
                src = ring[row, a]
                for e in range(h_ptr[src], h_ptr[src + 1]):
                    x = h_syn[e]
                    pw[x] = pw[x] + (rho * ((-pw[x]) + w0[x]))
        _drive(k, ev_ptr, ev_nrn, until, v, w_drive)
    return out_n[:m].astype(np.int64), out_k[:m].astype(np.int64), pw


class MinimalPlasticKernel(MinimalKernel):
    """:class:`MinimalKernel` with the engine network's dopaminergic plasticity (always on, no weight
    recording); :attr:`final_weights` holds each trial's final plastic weights."""

    plastic_ok = True

    def __init__(self, engine):
        pl = engine.plastic
        par, ints, win = pl[10], pl[11], pl[9]
        if not engine.has_plasticity or ints[1] == 0 or win.shape[0] or ints[2] != 0:
            raise ValueError("the minimal plastic kernel needs plasticity always on, without weight recording")
        super().__init__(engine)
        i64 = lambda x: np.ascontiguousarray(x, dtype=np.int64)  # noqa: E731
        f64 = lambda x: np.ascontiguousarray(x, dtype=np.float64)  # noqa: E731
        self.plastic = (i64(pl[0]), i64(pl[1]), i64(pl[2]), f64(engine.plastic_w0), f64(pl[7]), f64(pl[8]),
                        i64(pl[3]), i64(pl[4]), i64(pl[5]), i64(pl[6]), float(par[0]), float(par[1]),
                        float(par[2]), bool(ints[0]), float(engine.fixed[3][0]))
        self.final_weights = []

    def _trial(self, neurons, steps):
        i, k, pw = minimal_plastic_trial(self.n_steps, self.n, *self.consts, self.R, self.D, self.indptr, self.post,
                                         self.w, self.w_drive, neurons, steps, *self.plastic)
        self.final_weights.append(pw)
        return i, k


def kernel_for(engine):
    """The minimal kernel of ``engine``: ``current_lif`` (with or without plasticity) or ``conductance_lif``."""
    if engine.model == "conductance_lif":
        return MinimalConductanceKernel(engine)
    return MinimalPlasticKernel(engine) if engine.has_plasticity else MinimalKernel(engine)


def _main() -> None:
    import argparse
    import os
    import time

    from brian2 import Hz, second

    import connectomes
    import sim

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=10)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--model", default="current_lif", choices=("current_lif", "conductance_lif"))
    args = ap.parse_args()
    c = connectomes.load("winding2023", data_dir=os.environ.get("LARVASIM_DATA"))
    stim = [sim.PoissonDrive(c.select(modality="olfactory"), 150 * Hz)]
    net = sim.Network(c, model=args.model, signs="excitatory", device="numba", threads=1)
    inputs = net.draw_inputs(stim, 1 * second, trials=args.trials, seed=1)
    events = [(e.neurons, e.steps) for e in inputs]
    eng = net.engine_network(1 * second)
    mk = kernel_for(eng)
    mine = mk.run(events)
    ref = eng.run(events, threads=1)
    same = all(np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1]) for a, b in zip(mine, ref.spikes))
    print(f"spikes per trial {sum(len(i) for i, _ in mine) / args.trials:,.0f}; identical to the engine: {same}")
    times = {"minimal": [], "Network.run": []}
    for _ in range(args.repeats):
        c0 = time.process_time()
        mk.run(events)
        times["minimal"].append((time.process_time() - c0) / args.trials)
        c0 = time.process_time()
        net.run(stim, duration=1 * second, trials=args.trials, inputs=inputs, progress=False)
        times["Network.run"].append((time.process_time() - c0) / args.trials)
    best = {k: min(v) for k, v in times.items()}
    print(f"CPU ms per trial-second (best of {args.repeats}): " +
          ", ".join(f"{k} {v * 1e3:.2f}" for k, v in best.items()) +
          f"; Network / minimal {best['Network.run'] / best['minimal']:.2f}; load {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    _main()
