"""Helpers every kernel of the numba engine inlines (spike buffers, dormant neurons, refractoriness) and unit conversion."""
from __future__ import annotations

import numpy as np
from numba import njit


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


@njit(cache=True, nogil=True, inline="always")
def _grown(spk_n, spk_k, m, need):
    """Output buffers holding their first ``m`` spikes, with room for at least ``need`` (grown in a branch
    taken rarely: an array variable reassigned on every spike costs numba's atomic reference counting)."""
    size = max(2 * spk_n.shape[0], need)
    bigger_n = np.empty(size, dtype=np.int64)
    bigger_k = np.empty(size, dtype=np.int64)
    bigger_n[:m] = spk_n[:m]
    bigger_k[:m] = spk_k[:m]
    return bigger_n, bigger_k


@njit(cache=True, nogil=True, inline="always")
def _collect_row(flag, flag64, n_act, ring, r, who):
    """The neurons whose slot flag is set, as neuron indices in ascending order, into ``ring[r]``; their number.

    Each step's spikes are sorted by neuron index, so their effects are summed in Brian2's order. ``flag``
    is padded to a multiple of 64 bytes; a block of 64 flags is skipped when the OR of its eight 64-bit
    words is 0. The row is written in place, not through a view: numba counts the references of every
    array view (and of every array variable reassigned) in the time loop, with an atomic operation each
    time; on the Intel Xeon of docs/benchmarks.md that cost the current LIF kernel 15-30 %.
    """
    ns = 0
    for b in range(0, (n_act + 63) // 64 * 8, 8):
        if (flag64[b] | flag64[b + 1] | flag64[b + 2] | flag64[b + 3] | flag64[b + 4] | flag64[b + 5]
                | flag64[b + 6] | flag64[b + 7]) != 0:
            for q in range(b * 8, min(b * 8 + 64, n_act)):
                if flag[q] != 0:
                    ring[r, ns] = who[q]
                    ns += 1
    if ns > 32:  # many spikes in one step: numpy's sort (a view, rarely)
        ring[r, :ns].sort()
    else:  # a step's few spikes: insertion sort in place
        for a in range(1, ns):
            x = ring[r, a]
            b = a - 1
            while b >= 0 and ring[r, b] > x:
                ring[r, b + 1] = ring[r, b]
                b -= 1
            ring[r, b + 1] = x
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


@njit(cache=True, nogil=True)
def _bin_events(neurons, steps, n, n_steps, blocked):
    """Drive events grouped by step when they come sorted by (step, neuron) without repeats (as drawn).

    Events outside ``[0, n_steps)`` and events to ``blocked`` neurons (``blocked``
    empty: none) are dropped. Returns ``(ok, ptr, neurons)``; ``ok`` is False
    (and the tables unusable) when the kept events are not strictly increasing
    in ``step n + neuron``: the caller then sorts and deduplicates them.
    """
    ptr = np.zeros(n_steps + 1, dtype=np.int64)
    out = np.empty(neurons.shape[0], dtype=np.int64)
    check = blocked.shape[0] > 0
    m = 0
    last = -1
    for e in range(neurons.shape[0]):
        s = steps[e]
        i = neurons[e]
        if s < 0 or s >= n_steps or (check and blocked[i]):
            continue
        key = s * n + i
        if key <= last:
            return False, ptr, out[:0]
        last = key
        out[m] = i
        ptr[s + 1] += 1
        m += 1
    for k in range(n_steps):
        ptr[k + 1] += ptr[k]
    return True, ptr, out[:m]
