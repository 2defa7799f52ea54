"""Null models: randomised connectomes that keep chosen statistics exactly.

:func:`shuffle` rewires a connectome by double-edge swaps *between
connections of equal synapse count*, separately for each synapse type:
connections ``a -> b`` and ``c -> d`` of the same count become ``a -> d`` and
``c -> b``. Every swap keeps each neuron's in- and out-degree and its input
and output synapse totals, per synapse type and therefore overall; no
self-connections or duplicate connections are created. Experiments re-run on
the shuffled brain tell wiring-specific results from generic ones (cf. the
degree-preserving null models used for connectomes, e.g. Maslov & Sneppen 2002).
"""
from __future__ import annotations

import numba
import numpy as np
import scipy.sparse as sp

from .connectome import Connectome
from .winding2023 import SYNAPSE_TYPES

__all__ = ["shuffle"]


@numba.njit(cache=True)
def _swap(pre, post, weight, n, n_attempts, seed):
    """Equal-weight double-edge swaps in place; returns the number of swaps done."""
    np.random.seed(seed)
    m = len(pre)
    present = set()
    for k in range(m):
        present.add(pre[k] * n + post[k])
    # edges grouped by weight: order and class boundaries
    order = np.argsort(weight, kind="mergesort")
    w_sorted = weight[order]
    starts = np.empty(m + 1, np.int64)
    n_cls = 0
    for k in range(m):
        if k == 0 or w_sorted[k] != w_sorted[k - 1]:
            starts[n_cls] = k
            n_cls += 1
    starts[n_cls] = m
    done = 0
    for _ in range(n_attempts):
        # pick an edge uniformly, then a partner of the same weight
        e1 = order[np.random.randint(m)]
        w = weight[e1]
        lo, hi = 0, n_cls
        while hi - lo > 1:  # class of w (binary search over class starts)
            mid = (lo + hi) // 2
            if w_sorted[starts[mid]] <= w:
                lo = mid
            else:
                hi = mid
        a0, a1 = starts[lo], starts[lo + 1]
        if a1 - a0 < 2:
            continue
        e2 = order[a0 + np.random.randint(a1 - a0)]
        a, b, c, d = pre[e1], post[e1], pre[e2], post[e2]
        if e1 == e2 or a == d or c == b or b == d or a == c:
            continue
        if (a * n + d) in present or (c * n + b) in present:
            continue
        present.remove(a * n + b)
        present.remove(c * n + d)
        present.add(a * n + d)
        present.add(c * n + b)
        post[e1] = d
        post[e2] = b
        done += 1
    return done


def shuffle(connectome: Connectome, seed: int = 0, swaps_per_connection: float = 10.0) -> Connectome:
    """A degree- and strength-preserving randomisation of ``connectome``.

    Parameters
    ----------
    connectome : Connectome
    seed : int
        Seed of the rewiring (same seed, same shuffled brain).
    swaps_per_connection : float
        Swap attempts per connection of each synapse type (10 mixes thoroughly).

    Returns
    -------
    Connectome
        Same neuron table; rewired synapse matrices; ``provenance["null_model"]``
        records the method, seed and the number of swaps per type.
    """
    n = connectome.n_neurons
    mats = {}
    done = {}
    for k, t in enumerate(SYNAPSE_TYPES):
        W = connectome.weights((t,)).tocoo()
        pre, post, w = W.row.astype(np.int64), W.col.astype(np.int64).copy(), W.data.astype(np.int64)
        attempts = int(swaps_per_connection * len(w))
        done[t] = int(_swap(pre, post, w, n, attempts, (int(seed) * 7919 + k) % (2**31 - 1))) if len(w) else 0
        mats[t] = sp.csr_matrix((w.astype(np.int32), (pre, post)), shape=(n, n))
    mats["all"] = mats["ad"] + mats["aa"] + mats["dd"] + mats["da"]
    prov = dict(connectome.provenance)
    prov["null_model"] = {"method": "equal-count double-edge swaps per synapse type (keeps in/out degree "
                                    "and synapse totals)", "seed": int(seed),
                          "swaps_per_connection": swaps_per_connection, "swaps_done": done}
    return Connectome(connectome.neurons.copy(), mats, prov, connectome.absent)
