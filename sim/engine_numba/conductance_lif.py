"""The numba kernel of the conductance-based adaptive LIF (Jürgensen et al. 2024), method "euler"."""
from __future__ import annotations

import numpy as np
from numba import njit

from ._shared import _collect_row, _grown, _refractory_begin, _si
from .plastic import _homeostasis, _modulate, _record_weights, _trace

#: Steps between two scans for stationary neurons (:func:`_still_scan`); 0: never.
SLEEP_SCAN = 64


@njit(cache=True, nogil=True, inline="always")
def _same(x, y):
    """``x`` and ``y`` are the same double, sign of zero included (neither is NaN here)."""
    return x == y and np.signbit(x) == np.signbit(y)


@njit(cache=True, nogil=True, inline="always")
def _v_next(vi, a_, e_, h_, I, gL, EL, C, E_e, E_i, E_a, dt):
    """One forward-Euler step of ``v`` (Brian2's operations, in its order): the time loop and
    :func:`_still_scan` share it, so the stillness test computes exactly what the loop would."""
    return vi + ((dt * ((((I + (gL * (EL - vi))) + (a_ * (E_a - vi))) + (e_ * (E_e - vi))) + (h_ * (E_i - vi))))
                 / C)


@njit(cache=True, nogil=True, inline="always")
def _swap_cond(p, q, slot, who, v, ge, gi_, ga, cI, cC, cgL, cEL, cVth, cVr, cdga):
    """Exchange the neurons in slots ``p`` and ``q``, with their state and constants."""
    if p != q:
        i, j = who[p], who[q]
        who[p], who[q] = j, i
        slot[i], slot[j] = q, p
        for arr in (v, ge, gi_, ga, cI, cC, cgL, cEL, cVth, cVr, cdga):
            arr[p], arr[q] = arr[q], arr[p]


@njit(cache=True, nogil=True, inline="always")
def _still_scan(k, n_act, slot, who, v, ge, gi_, ga, cI, cC, cgL, cEL, cVth, cVr, cdga, until, E_e, E_i, E_a,
                dt, l_a, l_e, l_i):
    """At the end of step ``k``: make dormant the active neurons that one Euler step leaves exactly as they
    are; return the new ``n_act``.

    A neuron is *still* when it is not refractory at ``k + 1``, lies at or below ``V_th``, and the update of
    the kernel's time loop (the same operations in the same order) gives back its ``v``, ``g_e``, ``g_i``
    and ``g_a`` bit for bit (sign of zero included). Until its next input every later step would do the
    same, so it is not integrated: it joins the dormant slots with its state, and its next input wakes it
    (:func:`_wake_cond`). Such neurons are common after a stimulus: ``v`` stops moving near ``E_L`` and
    each conductance that has decayed into the subnormal numbers ends at one that the Euler step rounds
    back to itself (``l g`` rounds to zero), some 3.5 s after the last input with tau_e = 5 ms; without
    the scan they were integrated every step, through subnormal multiplies, for the rest of the run.
    """
    for q in range(n_act - 1, -1, -1):  # downwards: the neuron swapped into q was checked already
        vi = v[q]
        a_ = ga[q]
        e_ = ge[q]
        h_ = gi_[q]
        vn = _v_next(vi, a_, e_, h_, cI[q], cgL[q], cEL[q], cC[q], E_e, E_i, E_a, dt)
        if (_same(vn, vi) and _same((l_a * a_) + a_, a_) and _same((l_e * e_) + e_, e_)
                and _same((l_i * h_) + h_, h_) and not (vi > cVth[q]) and until[who[q]] <= k + 1):
            n_act -= 1
            _swap_cond(q, n_act, slot, who, v, ge, gi_, ga, cI, cC, cgL, cEL, cVth, cVr, cdga)
    return n_act


@njit(cache=True, nogil=True, error_model="numpy")
def _conductance_lif_trial(n_steps, v0, ge0, gi0, ga0, R, until0, I_ext, C_m, g_L, E_L, V_th, V_reset,
                           delta_g_a, E_e, E_i, E_a, dt, l_a, l_e, l_i,
                           indptr_e, post_e, w_e, indptr_i, post_i, w_i, D, ev_ptr, ev_nrn, w_drive,
                           rec_var, rec_nrn, rec_out, cap, pl, pw, w_rec, scan, k0, ring, ring_n, cur0, elig,
                           t_elig, state_out, until_out):
    """Steps ``k0 .. k0 + n_steps - 1`` of ConductanceAdaptiveLIF (method "euler"); returns (neurons, steps, cur).

    As :func:`_current_lif_adapt_trial`; only ``v`` is frozen (at ``V_reset``)
    while refractory (the conductances always decay and always take input). ``error_model="numpy"``
    lets the division by ``C_m`` vectorise (no Python zero-division check).

    Dormant neurons, as in the current-based kernel: a neuron at rest (``v = E_L``,
    every conductance and ``I_ext`` exactly ``+0``, ``E_L <= V_th``, not refractory)
    is left exactly unchanged by an Euler step, so it is not integrated until its
    first input. State and per-neuron constants are stored by slot (the active
    neurons in slots ``0 .. n_act-1``); a neuron's first input swaps it into the
    active prefix (:func:`_wake_cond`: dormant neurons differ in their constants,
    so those move with it). Every ``scan`` steps (:data:`SLEEP_SCAN`; 0: never)
    a neuron that one step would leave exactly as it is goes back to the dormant
    slots with its state (:func:`_still_scan`); a chunk of a longer run starts
    with such a scan. Spikes and states stay Brian2's, bit for bit.

    (Over 80 lines: the time-step loop of a numba kernel is one function (its helpers are inlined).)
    """
    n = v0.shape[0]
    rest = np.empty(n, dtype=np.bool_)
    for i in range(n):
        rest[i] = (v0[i] == E_L[i] and not (E_L[i] > V_th[i]) and until0[i] <= k0
                   and ge0[i] == 0.0 and not np.signbit(ge0[i]) and gi0[i] == 0.0 and not np.signbit(gi0[i])
                   and ga0[i] == 0.0 and not np.signbit(ga0[i]) and I_ext[i] == 0.0 and not np.signbit(I_ext[i]))
    who = np.argsort(rest, kind="mergesort")  # active neurons first, in index order, then the dormant ones
    slot = np.empty(n, dtype=np.int64)
    slot[who] = np.arange(n)
    n_act = n - int(rest.sum())
    v, ge, gi_, ga = v0[who], ge0[who], gi0[who], ga0[who]
    cI, cC, cgL, cEL = I_ext[who], C_m[who], g_L[who], E_L[who]
    cVth, cVr, cdga = V_th[who], V_reset[who], delta_g_a[who]
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
    if scan > 0 and k0 > 0 and n_act > 0:  # resuming a run: neurons left still by the last chunk sleep at once
        n_act = _still_scan(k0 - 1, n_act, slot, who, v, ge, gi_, ga, cI, cC, cgL, cEL, cVth, cVr, cdga, until,
                            E_e, E_i, E_a, dt, l_a, l_e, l_i)
    for k in range(k0, k0 + n_steps):
        for r in range(n_rec):
            q = slot[rec_nrn[r]]
            rv = rec_var[r]
            rec_out[r, k - k0] = v[q] if rv == 0 else (ge[q] if rv == 1 else (gi_[q] if rv == 2 else ga[q]))
        if plastic:
            _record_weights(k, ints, pw, w_rec)
        n_refr = _refractory_begin(k, until, refr, n_refr)
        cnt = 0
        for q in range(n_act):
            vi = v[q]
            a_ = ga[q]
            e_ = ge[q]
            h_ = gi_[q]
            vn = _v_next(vi, a_, e_, h_, cI[q], cgL[q], cEL[q], cC[q], E_e, E_i, E_a, dt)
            ga[q] = (l_a * a_) + a_
            ge[q] = (l_e * e_) + e_
            gi_[q] = (l_i * h_) + h_
            v[q] = vn
            s = vn > cVth[q]
            flag[q] = s
            cnt += s
        for x in range(n_refr):  # v of a refractory neuron stays V_reset (frozen, drive dropped)
            q = slot[refr[x]]
            v[q] = cVr[q]
            cnt -= flag[q]
            flag[q] = 0
        slot_in = (cur + D) % L
        ns = 0
        if cnt:
            ns = _collect_row(flag, flag64, n_act, ring, slot_in, who)
            if m + ns > spk_n.shape[0]:
                spk_n, spk_k = _grown(spk_n, spk_k, m, m + ns)
            for a in range(ns):
                i = ring[slot_in, a]
                until[i] = k + max(R[i], 1)
                refr[n_refr] = i
                n_refr += 1
                spk_n[m] = i
                spk_k[m] = k
                m += 1
        ring_n[slot_in] = ns
        # conductances are not (unless refractory): input is never dropped. Brian2's order: plastic
        # KC -> MBON pathway, static excitatory, static inhibitory, modulation, homeostasis
        t = k * dt
        if plastic:
            for a in range(ring_n[cur]):
                src = ring[cur, a]
                for e in range(p_ptr[src], p_ptr[src + 1]):
                    x = p_syn[e]
                    j = p_post[x]
                    if slot[j] >= n_act:
                        n_act = _wake_cond(j, slot, who, n_act, v, ge, gi_, ga, cI, cC, cgL, cEL, cVth, cVr, cdga)
                    ge[slot[j]] += pw[x]
                    _trace(x, t, elig, t_elig, ints, inv_tau, pl, pw)
        for a in range(ring_n[cur]):
            src = ring[cur, a]
            for e in range(indptr_e[src], indptr_e[src + 1]):
                j = post_e[e]
                if slot[j] >= n_act:
                    n_act = _wake_cond(j, slot, who, n_act, v, ge, gi_, ga, cI, cC, cgL, cEL, cVth, cVr, cdga)
                ge[slot[j]] += w_e[e]
        for a in range(ring_n[cur]):
            src = ring[cur, a]
            for e in range(indptr_i[src], indptr_i[src + 1]):
                j = post_i[e]
                if slot[j] >= n_act:
                    n_act = _wake_cond(j, slot, who, n_act, v, ge, gi_, ga, cI, cC, cgL, cEL, cVth, cVr, cdga)
                gi_[slot[j]] += w_i[e]
        if plastic:
            _modulate(t, ring, cur, ring_n[cur], pl, pw, elig, t_elig)
            _homeostasis(t, ring, slot_in, ns, pl, pw)
        ring_n[cur] = 0
        cur = (cur + 1) % L
        for e in range(ev_ptr[k - k0], ev_ptr[k - k0 + 1]):
            j = ev_nrn[e]
            if k >= until[j]:
                if slot[j] >= n_act:
                    n_act = _wake_cond(j, slot, who, n_act, v, ge, gi_, ga, cI, cC, cgL, cEL, cVth, cVr, cdga)
                v[slot[j]] += w_drive
        for a in range(ns):
            q = slot[ring[slot_in, a]]
            v[q] = cVr[q]
            ga[q] += cdga[q]
        if scan > 0 and (k - k0) % scan == scan - 1:
            n_act = _still_scan(k, n_act, slot, who, v, ge, gi_, ga, cI, cC, cgL, cEL, cVth, cVr, cdga, until,
                                E_e, E_i, E_a, dt, l_a, l_e, l_i)
    if state_out.shape[1] == n:
        for i in range(n):
            q = slot[i]
            state_out[0, i] = v[q]
            state_out[1, i] = ge[q]
            state_out[2, i] = gi_[q]
            state_out[3, i] = ga[q]
    if until_out.shape[0] == n:
        until_out[:] = until
    return spk_n[:m].copy(), spk_k[:m].copy(), cur


@njit(cache=True, nogil=True, inline="always")
def _wake_cond(j, slot, who, n_act, v, ge, gi_, ga, cI, cC, cgL, cEL, cVth, cVr, cdga):
    """Wake dormant neuron ``j`` (move it into the active slots); its state and constants move with it."""
    if slot[j] >= n_act:
        _swap_cond(slot[j], n_act, slot, who, v, ge, gi_, ga, cI, cC, cgL, cEL, cVth, cVr, cdga)
        n_act += 1
    return n_act


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
    return head, mid, (float(w_drive),), (SLEEP_SCAN,)
