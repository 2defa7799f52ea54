"""The numba kernel of the current-based LIF (Shiu et al. 2024; larvasim's larval model), method "linear".

Two entry points share one kernel: :func:`_current_lif_trial` (state ``v, g``:
:class:`models.CurrentLIF`) and :func:`_current_lif_adapt_trial` (state ``v, g,
theta``: :class:`models.LarvalLIF`, whose threshold ``v_th + theta`` rises by
``adapt_increment`` at every spike and relaxes with ``tau_adapt``).
"""
from __future__ import annotations

import numpy as np
from numba import njit

from ._shared import _collect_row, _grown, _refractory_begin, _si
from .plastic import _homeostasis, _modulate, _record_weights, _trace

#: Every this many steps the kernel looks for active neurons whose v the update no longer moves and puts them
#: to sleep (:func:`_current_lif_adapt_trial`); the last value of a prepared network's ``fixed`` tail (0: never,
#: the plain dense update, for comparisons).
SLEEP_SCAN = 64
#: The smallest normal double. A sleeper's ``g`` below it is frozen (:func:`_sleep_scan`).
_TINY = 2.2250738585072014e-308
#: A weight at least this large absorbs a subnormal ``g`` exactly: ``g + w == w`` (``ulp(w) / 2 > |g|``).
_ABSORBS = 2.0 ** -960


@njit(cache=True, nogil=True, inline="always")
def _swap_slots(p, q, slot, who, v, g, th, adapt):
    """Exchange the neurons in slots ``p`` and ``q``, with their state."""
    if p != q:
        i, j = who[p], who[q]
        who[p], who[q] = j, i
        slot[i], slot[j] = q, p
        v[p], v[q] = v[q], v[p]
        g[p], g[q] = g[q], g[p]
        if adapt:
            th[p], th[q] = th[q], th[p]


@njit(cache=True, nogil=True, inline="always")
def _wake_slot(j, slot, who, n_act, n_g, n_slp, v, g, th, adapt):
    """Move a sleeping or dormant neuron ``j`` into the active slots; return ``(n_act, n_g, n_slp)``.

    Slots ``[0, n_act)``: active; ``[n_act, n_g)``: asleep, ``g`` and
    ``theta`` decaying; ``[n_g, n_slp)``: asleep, only ``theta`` decaying;
    ``[n_slp, n)``: dormant (the whole state a fixed point). Each move puts
    ``j`` at the front of the next region and that region's first neuron at
    the back of its own, so every region stays contiguous.
    """
    p = slot[j]
    if p < n_act:
        return n_act, n_g, n_slp
    if p >= n_slp:
        _swap_slots(p, n_slp, slot, who, v, g, th, adapt)
        p = n_slp
        n_slp += 1
    if p >= n_g:
        _swap_slots(p, n_g, slot, who, v, g, th, adapt)
        p = n_g
        n_g += 1
    _swap_slots(p, n_act, slot, who, v, g, th, adapt)
    return n_act + 1, n_g, n_slp


@njit(cache=True, nogil=True)
def _wake_for_input(j, k, thaw, slot, who, n_act, n_g, n_slp, v, g, th, adapt, frozen, e2):
    """Out of line (the rare path of the delivery loop): wake ``j``; thaw its frozen ``g`` when ``thaw``."""
    n_act, n_g, n_slp = _wake_slot(j, slot, who, n_act, n_g, n_slp, v, g, th, adapt)
    if frozen[j] >= 0:
        if thaw:
            g[slot[j]] = _thawed(g[slot[j]], k - frozen[j], e2)
        frozen[j] = -1
    return n_act, n_g, n_slp


@njit(cache=True, nogil=True, inline="always")
def _sleep_scan(k, n_act, n_g, n_slp, slot, who, v, g, th, adapt, until, e2, c8, e9, c0, u0, v_rest, v_th, ea,
                frozen):
    """At the end of step ``k``: put to sleep the active neurons whose ``v`` no longer moves, and move
    sleepers whose ``g`` (then ``theta``) is a fixed point on; return ``(n_act, n_g, n_slp)``.

    A neuron sleeps when it is not refractory at ``k + 1``, lies at or below ``v_th`` (``theta >= 0``)
    and one update leaves its ``v`` unchanged both with its ``g`` and with ``g = 0`` (so, rounding being
    monotonic, with every ``g`` in between: with every later one). See :func:`_current_lif_adapt_trial`.

    Frozen ``g``: a sleeper whose ``g`` has become subnormal (``|g|`` below the smallest normal double)
    and whose ``frozen`` entry is -1 (not -2: its states are recorded) stops decaying: ``frozen[i] = k``
    and it moves on as if ``g`` were at its fixed point (a chunk's final state gets the exact ``g``). Its ``g`` would otherwise decay for some 1,600
    more steps through subnormal numbers, each multiply of which costs an Intel CPU about 85 times a
    normal one. While it sleeps its ``g`` acts on nothing (its ``v`` stays put for every ``g`` from its
    own to 0). When it wakes, a synaptic weight of at least :data:`_ABSORBS` absorbs the true
    subnormal ``g`` exactly (``g + w == w``), so nothing is computed; any other wake (a drive event, a
    tiny or zero weight) first decays ``g`` the ``k_wake - k`` skipped steps (:func:`_thawed`). Every
    value the dense update would use is used.
    """
    for q in range(n_act - 1, -1, -1):  # downwards: the neuron swapped into q was checked already
        gq = g[q]
        vq = v[q]
        gz = 0.0 * gq  # (g's limit, with its sign)
        if (v_rest + (((c8 * gq + u0) + e9 * vq) + c0) == vq
                and v_rest + (((c8 * gz + u0) + e9 * vq) + c0) == vq
                and not (vq > v_th) and until[who[q]] <= k + 1 and (not adapt or th[q] >= 0.0)):
            n_act -= 1
            _swap_slots(q, n_act, slot, who, v, g, th, adapt)
    for q in range(n_g - 1, n_act - 1, -1):  # g at its fixed point (or frozen): only theta still decays
        gq = g[q]
        if e2 * gq == gq:
            n_g -= 1
            _swap_slots(q, n_g, slot, who, v, g, th, adapt)
        elif abs(gq) < _TINY and frozen[who[q]] == -1:  # subnormal: frozen until it wakes
            frozen[who[q]] = k
            n_g -= 1
            _swap_slots(q, n_g, slot, who, v, g, th, adapt)
    for q in range(n_slp - 1, n_g - 1, -1):  # theta at its fixed point too (or none): dormant
        if not adapt or ea * th[q] == th[q]:
            n_slp -= 1
            _swap_slots(q, n_slp, slot, who, v, g, th, adapt)
    return n_act, n_g, n_slp


@njit(cache=True, nogil=True, inline="always")
def _thawed(gq, steps, e2):
    """A frozen ``g`` after the ``steps`` decays it skipped (``g <- e2 g``, as the dense update; it stops
    at its fixed point)."""
    for _ in range(steps):
        gn = e2 * gq
        if gn == gq:
            break
        gq = gn
    return gq


@njit(cache=True, nogil=True)
def _current_lif_trial(n_steps, v0, g0, R, until0, u_ext, cst, e2, c8, e9, v_rest, v_th, v_reset,
                       indptr, post, w, D, ev_ptr, ev_nrn, w_drive, rec_var, rec_nrn, rec_out, cap,
                       pl, pw, w_rec, dt_, scan, k0, ring, ring_n, cur0, elig, t_elig, state_out, until_out):
    """CurrentLIF: :func:`_current_lif_adapt_trial` without the threshold variable ``theta``."""
    return _current_lif_adapt_trial(n_steps, v0, g0, np.zeros(0), R, until0, u_ext, cst, e2, c8, e9, v_rest, v_th,
                                    v_reset, 1.0, 0.0, indptr, post, w, D, ev_ptr, ev_nrn, w_drive, rec_var,
                                    rec_nrn, rec_out, cap, pl, pw, w_rec, dt_, scan, k0, ring, ring_n, cur0, elig,
                                    t_elig, state_out, until_out)


@njit(cache=True, nogil=True)
def _current_lif_adapt_trial(n_steps, v0, g0, th0, R, until0, u_ext, cst, e2, c8, e9, v_rest, v_th, v_reset,
                             ea, dth, indptr, post, w, D, ev_ptr, ev_nrn, w_drive, rec_var, rec_nrn, rec_out,
                             cap, pl, pw, w_rec, dt_, scan, k0, ring, ring_n, cur0, elig, t_elig, state_out, until_out):
    """Steps ``k0 .. k0 + n_steps - 1`` of CurrentLIF (method "linear"); returns (neurons, steps, cur).

    Adaptive threshold (``th0`` of length ``n``; empty: none): the threshold
    is ``v_th + theta``; each step ``theta <- ea * theta`` (Brian2's
    ``exp(-dt / tau_adapt) * theta``, also while refractory), and the reset
    adds ``dth``. With ``dth = 0`` and ``theta = 0`` it is skipped: the
    threshold is then exactly ``v_th``.

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
    there (:func:`_wake_slot`). Everything else (spikes, delays, ``until``) uses
    neuron indices; each step's spikes are sorted by neuron index, so inputs
    are summed in Brian2's order.

    Sleep: after a stimulus the state of a neuron without input decays, and
    soon ``v`` no longer moves: ``c8 g`` is below half an ulp of the sum it
    joins, so one update gives the same ``v`` -- a fixed point in floating
    point, not always ``v_rest`` -- while ``g`` still decays for seconds (it
    ends at a subnormal number such as ``1.24e-322``, which ``e2 g`` rounds
    back to itself, some 3.7 s after the last input with the default
    constants). Every ``scan`` steps (:data:`SLEEP_SCAN`; 0: never; only when ``u_ext`` is uniform),
    an active neuron that is not refractory, lies at or below ``v_th``
    (``theta >= 0``) and whose ``v`` one update leaves unchanged both with
    its ``g`` and with ``g = 0`` -- hence with every ``g`` in between, as
    rounding is monotonic, and so with every later ``g`` -- leaves the dense
    update. It is asleep: only ``g`` and ``theta`` still decay, one multiply
    each per step, as in the dense update (slots ``n_act .. n_g-1``; ``n_g ..
    n_slp-1`` once ``g`` is a fixed point: only ``theta``); once both are
    fixed points it is dormant (slots ``n_slp ..``). Its next input wakes it
    with its state (:func:`_wake_slot`). The spikes and recorded states are
    the dense update's, bit for bit; a quiet network costs a fraction of a
    dense update of every neuron that ever had input.
    A chunk of a longer run (``k0 > 0``) starts with such a scan, so sleepers
    stay asleep across chunks of any length.

    (Over 80 lines: the time-step loop of a numba kernel is one function (its helpers are inlined);
    splitting it would cost speed.)
    """
    n = v0.shape[0]
    has_th = th0.shape[0] == n
    adapt = has_th and (dth != 0.0 or np.any(th0 != 0.0))
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
        if not (rest_fixed and v0[i] == v_rest and g0[i] == 0.0 and until0[i] <= k0 and (not adapt or th0[i] == 0.0)):
            slot[i] = n_act
            n_act += 1
    n_g = n_slp = n_act  # no neuron is asleep at the start
    p = n_act
    for i in range(n):
        if rest_fixed and v0[i] == v_rest and g0[i] == 0.0 and until0[i] <= k0 and (not adapt or th0[i] == 0.0):
            slot[i] = p
            p += 1
    v = np.empty(n)
    g = np.empty(n)
    th = np.zeros(n if adapt else 0)
    for i in range(n):
        who[slot[i]] = i
        v[slot[i]] = v0[i]
        g[slot[i]] = g0[i]
        if adapt:
            th[slot[i]] = th0[i]
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
    # frozen g (see _sleep_scan): frozen[i] = the step its g stopped decaying; -1 none; -2 never (its states are
    # recorded); thawed when it wakes and before the final state is written
    frozen = np.full(n, -1, dtype=np.int64)
    for r in range(rec_nrn.shape[0]):
        frozen[rec_nrn[r]] = -2
    if scan > 0 and uniform and n_act > 0:  # resuming a run: neurons whose v stands still sleep at once
        n_act, n_g, n_slp = _sleep_scan(k0 - 1, n_act, n_g, n_slp, slot, who, v, g, th, adapt, until, e2, c8, e9,
                                        c0, u0, v_rest, v_th, ea, frozen)
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
            rec_out[r, k - k0] = v[q] if rec_var[r] == 0 else (g[q] if rec_var[r] == 1 else (th[q] if adapt else 0.0))
        if plastic:
            _record_weights(k, ints, pw, w_rec)
        if not fixed:
            n_refr = _refractory_begin(k, until, refr, n_refr)
        # state update and threshold of the active neurons (vectorised)
        cnt = 0
        if adapt and uniform:
            for q in range(n_act):
                gq = g[q]
                vn = v_rest + (((c8 * gq + u0) + e9 * v[q]) + c0)
                v[q] = vn
                g[q] = e2 * gq
                tq = ea * th[q]
                th[q] = tq
                sp = vn > v_th + tq
                flag[q] = sp
                cnt += sp
        elif adapt:  # n_act == n and slot[i] == i
            for q in range(n_act):
                gq = g[q]
                vn = v_rest + (((c8 * gq + u_ext[q]) + e9 * v[q]) + cst[q])
                v[q] = vn
                g[q] = e2 * gq
                tq = ea * th[q]
                th[q] = tq
                sp = vn > v_th + tq
                flag[q] = sp
                cnt += sp
        elif uniform and u0 == 0.0 and not np.signbit(u0):
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
        if n_slp > n_act:  # asleep: v stays; g (until it is a fixed point) and theta decay as in the dense update
            gs = g[n_act:n_g]  # (views indexed from 0: numba vectorises these loops, not ones from n_act)
            for q in range(gs.shape[0]):
                gs[q] = e2 * gs[q]
            if adapt:
                ths = th[n_act:n_slp]
                for q in range(ths.shape[0]):
                    ths[q] = ea * ths[q]
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
            ns = _collect_row(flag, flag64, n_act, ring, slot_in, who)
            if m + ns > spk_n.shape[0]:
                spk_n, spk_k = _grown(spk_n, spk_k, m, m + ns)
            for a in range(ns):
                i = ring[slot_in, a]
                until[i] = k + max(R[i], 1)
                if not fixed:
                    refr[n_refr] = i
                    n_refr += 1
                spk_n[m] = i
                spk_k[m] = k
                m += 1
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
                            n_act, n_g, n_slp = _wake_for_input(j, k, abs(pw[x]) < _ABSORBS, slot, who, n_act, n_g,
                                                                n_slp, v, g, th, adapt, frozen, e2)
                        g[slot[j]] += pw[x]
                    _trace(x, t, elig, t_elig, ints, inv_tau, pl, pw)
        for a in range(ring_n[cur]):
            src = ring[cur, a]
            for e in range(indptr[src], indptr[src + 1]):
                j = post[e]
                if k >= until[j]:
                    if slot[j] >= n_act:
                        n_act, n_g, n_slp = _wake_for_input(j, k, abs(w[e]) < _ABSORBS, slot, who, n_act, n_g,
                                                            n_slp, v, g, th, adapt, frozen, e2)
                    g[slot[j]] += w[e]
        if plastic:
            _modulate(t, ring, cur, ring_n[cur], pl, pw, elig, t_elig)
            _homeostasis(t, ring, slot_in, ns, pl, pw)
        ring_n[cur] = 0
        cur = (cur + 1) % L
        # drive events of this step (v is write-protected while refractory)
        for e in range(ev_ptr[k - k0], ev_ptr[k - k0 + 1]):
            j = ev_nrn[e]
            if k >= until[j]:
                if slot[j] >= n_act:  # a drive changes v, so a frozen g is thawed first
                    n_act, n_g, n_slp = _wake_for_input(j, k, True, slot, who, n_act, n_g, n_slp, v, g, th, adapt,
                                                        frozen, e2)
                v[slot[j]] += w_drive
        # reset
        for a in range(ns):
            q = slot[ring[slot_in, a]]
            v[q] = v_reset
            g[q] = 0.0
            if adapt:
                th[q] += dth
        # sleep: active neurons whose v no longer moves leave the active slots
        if scan > 0 and uniform and (k - k0) % scan == scan - 1:
            n_act, n_g, n_slp = _sleep_scan(k, n_act, n_g, n_slp, slot, who, v, g, th, adapt, until, e2, c8, e9,
                                            c0, u0, v_rest, v_th, ea, frozen)
    if state_out.shape[1] == n:
        for i in range(n):
            if frozen[i] >= 0:  # the decays it skipped (to the last step of this chunk)
                g[slot[i]] = _thawed(g[slot[i]], k0 + n_steps - 1 - frozen[i], e2)
            state_out[0, i] = v[slot[i]]
            state_out[1, i] = g[slot[i]]
            if state_out.shape[0] > 2:
                state_out[2, i] = th[slot[i]] if adapt else 0.0
    if until_out.shape[0] == n:
        until_out[:] = until
    return spk_n[:m].copy(), spk_k[:m].copy(), cur


def _prepare_current_lif(model, n, dt, init, csr, D, w_drive, adaptive=False):
    """The fixed arguments of :func:`_current_lif_trial` (``adaptive``: of :func:`_current_lif_adapt_trial`)."""
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
    consts = (float(v_rest), float(_si(p["v_th"].value)), float(_si(p["v_reset"].value)))
    if adaptive:  # Brian2: _lio = exp((-dt) / tau_adapt); theta <- _lio * theta; reset: theta += adapt_increment
        head += (np.ascontiguousarray(_si(init["theta"])),)
        consts += (float(np.exp((-dt) / f64(_si(p["tau_adapt"].value)))), float(_si(p["adapt_increment"].value)))
    mid = (u_ext, cst, float(e2), float(c8), float(e9), *consts, indptr, post, w, int(D))
    return head, mid, (float(w_drive),), (float(dt), SLEEP_SCAN)
