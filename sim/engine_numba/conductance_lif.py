"""The numba kernel of the conductance-based adaptive LIF (Jürgensen et al. 2024), method "euler"."""
from __future__ import annotations

import numpy as np
from numba import njit

from ._shared import _collect, _push_record, _refractory_begin, _si
from .plastic import _homeostasis, _modulate, _record_weights, _trace


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
