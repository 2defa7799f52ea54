"""The dopaminergic plasticity of the numba engine: the tables of a plan and the updates the kernels inline
(eligibility traces, modulation by MBIN spikes, homeostasis, weight samples), as Brian2 generates them."""
from __future__ import annotations

import numpy as np
from numba import njit

from ._shared import _si


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
def _trace(s, t, elig, t_elig, ints, inv_tau, pl, pw):
    """A KC spike reaches plastic synapse ``s``: ``elig = 1`` or ``elig = 1 + elig exp(-(t - t_elig)/tau_e)``.

    With the timing-dependent variant (``eta_b > 0``) it first potentiates the synapse by its dopamine trace
    (``elig[n + s]``, ``t_elig[n + s]`` for ``n`` plastic synapses)::

        w = clip(w + (eta_b_gated * ((w0 * dop) * exp((1/tau_d) * (-(t - t_dop))))), 0.0, w_max)
    """
    par = pl[10]
    if par[3] > 0.0:
        n = pw.shape[0]
        eb = par[3] if _plastic_on(t, ints, pl[9]) else 0.0
        y = pw[s] + (eb * ((pl[7][s] * elig[n + s]) * np.exp(par[4] * (-(t - t_elig[n + s])))))
        if y < 0.0:
            y = 0.0
        if y > pl[8][s]:
            y = pl[8][s]
        pw[s] = y
    if ints[0] != 0:
        elig[s] = 1.0 + (elig[s] * np.exp(inv_tau * (-(t - t_elig[s]))))
    else:
        elig[s] = 1.0
    t_elig[s] = t


@njit(cache=True, nogil=True, inline="always")
def _modulate(t, ring, r, n_src, pl, pw, elig, t_elig):
    """MBIN spikes ``ring[r, :n_src]`` reach their plastic synapses: Brian2's generated update, one by one::

        w = clip(w - (eta_gated * ((w0 * elig) * exp((1/tau_e) * (-(t - t_elig))))), 0.0, w_max)

    and, with the timing-dependent variant (``eta_b > 0``), the synapse's dopamine trace (ungated, as the
    KC trace): ``dop = 1`` or (``ints[3]``) ``dop = 1 + dop exp(-(t - t_dop)/tau_d)``; ``t_dop = t``.
    """
    m_ptr, m_syn, p_w0, p_wmax, win, par, ints = pl[3], pl[4], pl[7], pl[8], pl[9], pl[10], pl[11]
    timing = par[3] > 0.0
    n = pw.shape[0]
    eg = -1.0
    for a in range(n_src):
        src = ring[r, a]
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
            if timing:
                if ints[3] != 0:
                    elig[n + x] = 1.0 + (elig[n + x] * np.exp(par[4] * (-(t - t_elig[n + x]))))
                else:
                    elig[n + x] = 1.0
                t_elig[n + x] = t


@njit(cache=True, nogil=True, inline="always")
def _homeostasis(t, ring, r, n_src, pl, pw):
    """MBON spikes ``ring[r, :n_src]`` of this step (no delay): ``w += (rho gated) * ((-w) + w0)``."""
    h_ptr, h_syn, p_w0, win, par, ints = pl[5], pl[6], pl[7], pl[9], pl[10], pl[11]
    if par[2] == 0.0:  # rho = 0: Brian2 builds no post pathway
        return
    rg = -1.0
    for a in range(n_src):
        src = ring[r, a]
        lo = h_ptr[src]
        hi = h_ptr[src + 1]
        if lo == hi:
            continue
        if rg < 0.0:
            rg = par[2] if _plastic_on(t, ints, win) else 0.0
        for e in range(lo, hi):
            x = h_syn[e]
            pw[x] = pw[x] + (rg * ((-pw[x]) + p_w0[x]))


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
    h_syn, w0, w_max, windows, [eta, 1/tau_e, rho, eta_b, 1/tau_d], [trace_add, always, record_every,
    dopamine_trace_add])``.
    """
    i64 = np.int64
    if plan is None:
        empty = np.zeros(0, i64)
        zptr = np.zeros(n + 1, i64)
        pl = (zptr, empty, empty, zptr, empty, zptr, empty, np.zeros(0), np.zeros(0), np.zeros((0, 2)),
              np.zeros(5), np.zeros(4, i64))
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
    dtrace = getattr(plan, "dopamine_trace", "set")
    for name, v in (("trace", plan.trace), ("dopamine_trace", dtrace)):
        if v not in ("set", "add"):
            raise ValueError(f"plasticity: {name} must be 'set' or 'add', got {v!r}")
    if not plan.tau_e > 0:
        raise ValueError("plasticity: tau_e must be positive")
    eta_b, tau_d = float(getattr(plan, "eta_b", 0.0)), float(getattr(plan, "tau_d", 1.0))
    if eta_b < 0 or not tau_d > 0:
        raise ValueError(f"plasticity: eta_b must be >= 0 and tau_d positive, got {eta_b}, {tau_d}")
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
    par = np.array([float(plan.eta), 1.0 / float(plan.tau_e), float(plan.rho), eta_b, 1.0 / tau_d])
    ints = np.array([plan.trace == "add", plan.windows is None, every, dtrace == "add"], dtype=i64)
    pl = (p_ptr, p_syn, post, m_ptr, np.ascontiguousarray(mod_syn[m_ord]), h_ptr, h_syn, w0, w_max, win, par, ints)
    return pl, n_samples, t_ms
