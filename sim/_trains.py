"""Compiled loops of the input draw (:func:`sim.stimuli.draw_inputs`): event steps from a trial's uniforms.

Imported on the first draw, not with :mod:`sim.stimuli` (numba's import takes a fraction of a second).
Each gives exactly the steps (and order) of the definition written out in ``tests/sim/test_stimuli.py``;
they only move its loops out of the interpreter (timings: ``benchmarks/bench_inputs.py``).
"""
from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def train(u, p, dead, offset):
    """Steps ``offset + k`` (ascending) with ``u[k] < p[k]``, none within ``dead`` steps after a kept one.

    Parameters
    ----------
    u : ndarray of float64
        The uniforms of the steps, in step order.
    p : ndarray of float64
        The hazard of each step (same length; 0 where the drive is off).
    dead : int
        Dead time in steps (>= 0).
    offset : int
        Step of ``u[0]`` in the trial.
    """
    n = u.shape[0]
    out = np.empty(n // (dead + 1) + 1, dtype=np.int64)
    m = 0
    last = -(1 << 62)
    for k in range(n):
        if u[k] < p[k] and k - last > dead:
            out[m] = offset + k
            m += 1
            last = k
    return out[:m]


@njit(cache=True, nogil=True)
def dead_time(hits, dead):
    """The candidate steps ``hits`` (ascending) minus those within ``dead`` steps after a kept one."""
    out = np.empty(hits.shape[0], dtype=np.int64)
    m = 0
    last = -(1 << 62)
    for j in range(hits.shape[0]):
        k = hits[j]
        if k - last > dead:
            out[m] = k
            m += 1
            last = k
    return out[:m]


@njit(cache=True, nogil=True)
def trains(u, p, dead, idx, neurons, steps, m):
    """The trains of ``len(idx)`` neurons from their uniforms ``u`` (one row each, every step of the trial),
    appended to ``neurons``/``steps`` from position ``m``; returns the new ``m``. Row ``j`` is neuron
    ``idx[j]``'s :func:`train` with offset 0. The buffers hold ``m + len(idx) * (n // (dead + 1) + 1)``."""
    n = u.shape[1]
    for j in range(u.shape[0]):
        last = -(1 << 62)
        for k in range(n):
            if u[j, k] < p[k] and k - last > dead:
                neurons[m] = idx[j]
                steps[m] = k
                m += 1
                last = k
    return m


@njit(cache=True, nogil=True)
def order(neurons, steps, n_steps):
    """The events sorted by step, then neuron, ties kept in their order: ``numpy.lexsort((neurons, steps))``
    applied, by a counting sort over the steps and an insertion sort of each step's few events."""
    e = steps.shape[0]
    start = np.zeros(n_steps + 1, dtype=np.int64)
    for j in range(e):
        start[steps[j] + 1] += 1
    for s in range(n_steps):
        start[s + 1] += start[s]
    pos = start[:n_steps].copy()
    out_n = np.empty(e, dtype=np.int64)
    out_s = np.empty(e, dtype=np.int64)
    for j in range(e):
        q = pos[steps[j]]
        pos[steps[j]] = q + 1
        out_n[q] = neurons[j]
        out_s[q] = steps[j]
    for s in range(n_steps):
        for q in range(start[s] + 1, start[s + 1]):  # stable: shift only past larger neuron indices
            x = out_n[q]
            r = q
            while r > start[s] and out_n[r - 1] > x:
                out_n[r] = out_n[r - 1]
                r -= 1
            out_n[r] = x
    return out_n, out_s
