"""Signal cascades: probabilistic signal propagation through the connectome.

The signal cascade of Winding et al. 2023 (Science 379:eadd9330, methods of
the signal cascades; the authors' implementation is ``Cascade`` /
``TraverseDispatcher`` with ``allow_loops=False`` in the ``contools`` package of
``mwinding/connectome_tools``), re-implemented with numba:

* The graph is the axo-dendritic synapse-count matrix ``W`` (row =
  presynaptic). Edge ``i -> j`` transmits with probability
  ``1 - (1 - p) ** W[i, j]`` (``p = 0.05`` per synapse): each synapse passes
  the signal independently with probability ``p``.
* Hop 0: the source neurons are active. At each hop every neuron activated at
  the previous hop that is not a stop node tries each of its targets once; a
  target is activated if any try succeeds. A neuron is activated at most once
  per cascade (the sources at hop 0 included), so it is counted at the first
  hop that reaches it. Stop nodes (the brain's outputs: DN-VNC, DN-SEZ, RGN)
  are recorded when reached but do not pass the signal on.
* Up to ``hops = 8`` hops, ``n = 1000`` independent cascades per source set;
  the result is the number of cascades in which each neuron was activated at
  each hop (``hits``, ``N x (hops + 1)``).
* A neuron "receives signal" from a source when the hits summed over hops
  ``1..H``, averaged over the neuron and its left/right homolog (unpaired
  neurons as they are), reach half of the cascades (500 of 1000).

Every cascade draws from its own counter-based random stream (SplitMix64,
keyed by the seed, the source set's key and the cascade's number), so the
result depends on the seed only: not on the number of threads, on the order
in which source sets are run, or on which other source sets are run with it.

Examples
--------
>>> import connectomes                                          # doctest: +SKIP
>>> from sim.analysis.cascade import run_cascades, modality_cascades    # doctest: +SKIP
>>> c = connectomes.load("winding2023")                         # doctest: +SKIP
>>> casc = modality_cascades(c)                                 # doctest: +SKIP
>>> casc["olfactory"].receives_signal().sum()                   # doctest: +SKIP

Module size: just over 600 lines: the numba cascade kernels, the NumPy reference they are
checked against, and the per-modality helpers.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numba
import numpy as np
import scipy.sparse as sp
from numba import njit, prange

from connectomes.winding2023 import OUTPUT_CELLTYPES

__all__ = [
    "P_SYNAPSE", "N_HOPS", "N_CASCADES", "THRESHOLD", "OUTPUT_TYPES", "MODALITY_KEYS",
    "Cascade", "transmission_probabilities", "run_cascades", "run_cascades_many",
    "reference_cascades",
    "modality_cascades", "modality_sources", "output_neurons", "stop_mask", "pair_average",
]

#: Probability that one synapse passes the signal (Winding et al. 2023, signal-cascade methods).
P_SYNAPSE = 0.05
#: Maximum number of hops of a cascade (Winding et al. 2023: 8-hop cascades; ``max_hops = 8``).
N_HOPS = 8
#: Independent cascades per source set (Winding et al. 2023: ``n_init = 1000``).
N_CASCADES = 1000
#: Fraction of cascades a neuron (pair-averaged) must be reached in to "receive signal"
#: (Winding et al. 2023: ``threshold = n_init / 2``).
THRESHOLD = 0.5
#: The brain's outputs, used as stop nodes (Winding et al. 2023: annotation "mw brain outputs").
OUTPUT_TYPES = OUTPUT_CELLTYPES
# Pedigo et al. 2023 node-table flags of the same three output classes.
_OUTPUT_FLAGS = {"DN-VNC": "dVNCs", "DN-SEZ": "dSEZs", "RGN": "RGNs"}
#: Modalities in the paper's order; a modality's position is its random-stream key,
#: so a modality's cascade does not depend on which other modalities are run.
MODALITY_KEYS = (
    "olfactory", "gustatory-external", "gustatory-pharyngeal", "gut", "visual",
    "respiratory", "thermo-cold", "thermo-warm", "noci", "mechano-Ch", "proprio",
    "mechano-II/III",
)

_U64 = np.uint64
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_KEY_MUL = np.uint64(0xD1B54A32D192ED03)
_CASCADE_MUL = np.uint64(0xAEF17502108EF2D9)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_TWO53 = 1.0 / 9007199254740992.0


# --------------------------------------------------------------------------- kernels
@njit(inline="always", cache=True)
def _mix64(z):
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


@njit(inline="always", cache=True)
def _stream_start(seed, key, cascade):
    return _mix64(_mix64(seed ^ (key * _KEY_MUL)) ^ (cascade * _CASCADE_MUL))


@njit(cache=True)
def _one_cascade(indptr, indices, thresh, src, stop, hops, state, stamp, cur, front, nxt, hits):
    """Run one cascade; add its activations to ``hits``; return the RNG state."""
    nf = 0
    for k in range(src.shape[0]):
        s = src[k]
        if stamp[s] != cur:
            stamp[s] = cur
            front[nf] = s
            nf += 1
            hits[s, 0] += 1
    for h in range(1, hops + 1):
        nn = 0
        for a in range(nf):
            u = front[a]
            if stop[u]:
                continue
            for e in range(indptr[u], indptr[u + 1]):
                v = indices[e]
                if stamp[v] == cur:
                    continue  # already active: a neuron is activated at most once
                state += _GOLDEN
                r = _mix64(state) >> np.uint64(11)  # 53 random bits
                if r < thresh[e]:
                    stamp[v] = cur
                    nxt[nn] = v
                    nn += 1
                    hits[v, h] += 1
        if nn == 0:
            break
        for a in range(nn):
            front[a] = nxt[a]
        nf = nn
    return state


@njit(parallel=True, cache=True)
def _by_chunk(indptr, indices, thresh, src, stop, hops, n, seed, key, chunk, out):
    """One source set, cascades split into chunks run in parallel; ``out`` (N, hops+1)."""
    n_nodes = indptr.shape[0] - 1
    n_chunks = (n + chunk - 1) // chunk
    part = np.zeros((n_chunks, n_nodes, hops + 1), dtype=np.int32)
    for c in prange(n_chunks):
        stamp = np.zeros(n_nodes, dtype=np.int64)
        front = np.empty(n_nodes, dtype=np.int64)
        nxt = np.empty(n_nodes, dtype=np.int64)
        hits = part[c]
        for i in range(c * chunk, min(n, (c + 1) * chunk)):
            state = _stream_start(seed, key, np.uint64(i))
            _one_cascade(indptr, indices, thresh, src, stop, hops, state, stamp, i + 1,
                         front, nxt, hits)
    for c in range(n_chunks):
        out += part[c]


@njit(parallel=True, cache=True)
def _by_source(indptr, indices, thresh, src_ptr, src_idx, keys, stop, hops, n, seed, out):
    """Many source sets run in parallel, each one's cascades in series; ``out`` (S, N, hops+1)."""
    n_nodes = indptr.shape[0] - 1
    n_sets = src_ptr.shape[0] - 1
    for b in prange(n_sets):
        stamp = np.zeros(n_nodes, dtype=np.int64)
        front = np.empty(n_nodes, dtype=np.int64)
        nxt = np.empty(n_nodes, dtype=np.int64)
        src = src_idx[src_ptr[b]:src_ptr[b + 1]]
        hits = out[b]
        for i in range(n):
            state = _stream_start(seed, keys[b], np.uint64(i))
            _one_cascade(indptr, indices, thresh, src, stop, hops, state, stamp, i + 1,
                         front, nxt, hits)


# --------------------------------------------------------------------------- helpers
def transmission_probabilities(W, p: float = P_SYNAPSE) -> sp.csr_matrix:
    """Per-edge transmission probabilities ``1 - (1 - p) ** W``.

    Parameters
    ----------
    W : scipy.sparse matrix or ndarray, shape (N, N)
        Synapse counts, row = presynaptic (``Connectome.weights(types=("ad",))``).
    p : float
        Probability that one synapse passes the signal; 0.05 in Winding et al.
        2023 (signal-cascade methods).

    Returns
    -------
    scipy.sparse.csr_matrix of float64
        Same sparsity as ``W`` (explicit zeros and negative counts removed).
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p must lie in [0, 1], got {p}")
    W = sp.csr_matrix(W, dtype=np.float64)
    W.eliminate_zeros()
    if W.nnz and W.data.min() < 0:
        raise ValueError("synapse counts must be non-negative")
    W.sort_indices()
    P = W.copy()
    P.data = -np.expm1(P.data * math.log1p(-p)) if p < 1.0 else np.ones_like(P.data)
    return P


def _prepare(W, p):
    if W.shape[0] != W.shape[1]:
        raise ValueError(f"W must be square, got shape {W.shape}")
    P = transmission_probabilities(W, p)
    # compare 53 random bits with round(prob * 2**53): exact for prob = 0 and 1
    thresh = np.round(P.data * 9007199254740992.0).astype(np.uint64)
    return (P.indptr.astype(np.int64), P.indices.astype(np.int64), thresh, P.shape[0])


def _as_indices(x, n_nodes, what) -> np.ndarray:
    a = np.asarray(getattr(x, "indices", x))
    if a.dtype == bool:
        if a.shape != (n_nodes,):
            raise ValueError(f"{what}: boolean mask must have length {n_nodes}")
        a = np.flatnonzero(a)
    a = np.unique(np.atleast_1d(a).astype(np.int64))
    if a.size and (a[0] < 0 or a[-1] >= n_nodes):
        raise ValueError(f"{what}: indices must lie in [0, {n_nodes})")
    return a


def _stop_array(stop, n_nodes) -> np.ndarray:
    mask = np.zeros(n_nodes, dtype=np.bool_)
    if stop is not None:
        mask[_as_indices(stop, n_nodes, "stop")] = True
    return mask


def _check_run_args(hops, n, seed):
    if int(hops) < 0:
        raise ValueError(f"hops must be >= 0, got {hops}")
    if int(n) < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    if int(n) >= 2**31 - 1:
        raise ValueError("n too large")
    if int(seed) < 0:
        raise ValueError("seed must be a non-negative integer")


def run_cascades(W, sources, stop=None, p: float = P_SYNAPSE, hops: int = N_HOPS,
                 n: int = N_CASCADES, seed: int = 0, *, key: int = 0,
                 chunk: int | None = None) -> np.ndarray:
    """Run ``n`` independent signal cascades from one source set.

    Parameters
    ----------
    W : scipy.sparse matrix or ndarray, shape (N, N)
        Synapse counts, row = presynaptic. Winding et al. 2023 used the
        axo-dendritic counts (``Connectome.weights(types=("ad",))``).
    sources : array of int, boolean mask or Selection
        Neurons active at hop 0 (all at once, e.g. every sensory neuron of a
        modality or one left/right pair).
    stop : array of int, boolean mask or Selection, optional
        Stop nodes: recorded when reached, never pass the signal on (a source
        that is a stop node does not propagate either). Winding et al. 2023
        used the brain's outputs (DN-VNC, DN-SEZ, RGN), see :func:`stop_mask`.
    p : float
        Per-synapse transmission probability, 0.05 (Winding et al. 2023).
    hops : int
        Maximum number of hops after hop 0, 8 (Winding et al. 2023).
    n : int
        Number of independent cascades, 1000 (Winding et al. 2023).
    seed : int
        Seed of the random streams; equal seeds give identical hits.
    key : int
        Key of this source set's random streams (two source sets run with the
        same seed and key see the same random numbers). :func:`run_cascades_many`
        gives the ``b``-th source set key ``b`` unless told otherwise.
    chunk : int, optional
        Cascades per parallel task (default: ``n`` split over the numba
        threads). Does not change the result.

    Returns
    -------
    ndarray of int64, shape (N, hops + 1)
        ``hits[i, h]`` = number of cascades in which neuron ``i`` was activated
        at hop ``h`` (hop 0 = the sources).
    """
    _check_run_args(hops, n, seed)
    indptr, indices, thresh, n_nodes = _prepare(W, p)
    src = _as_indices(sources, n_nodes, "sources")
    stopm = _stop_array(stop, n_nodes)
    if chunk is None:
        chunk = max(1, -(-int(n) // (4 * numba.get_num_threads())))
    out = np.zeros((n_nodes, int(hops) + 1), dtype=np.int32)
    _by_chunk(indptr, indices, thresh, src, stopm, int(hops), int(n), _U64(int(seed)),
              _U64(int(key)), int(chunk), out)
    return out.astype(np.int64)


def run_cascades_many(W, source_sets: Sequence, stop=None, p: float = P_SYNAPSE,
                      hops: int = N_HOPS, n: int = N_CASCADES, seed: int = 0, *,
                      keys: Sequence[int] | None = None, batch: int = 256):
    """Run ``n`` cascades from each of many source sets (in parallel over sets).

    Parameters
    ----------
    W : scipy.sparse matrix or ndarray, shape (N, N)
        Synapse counts, row = presynaptic (see :func:`run_cascades`).
    source_sets : sequence of (array of int, mask or Selection)
        One source set per entry (e.g. every left/right pair of the brain).
    stop : array of int, boolean mask or Selection, optional
        Stop nodes, shared by all source sets (see :func:`run_cascades`).
    p, hops, n, seed
        As in :func:`run_cascades` (0.05, 8, 1000 from Winding et al. 2023).
    keys : sequence of int, optional
        Random-stream key of each source set; default ``0, 1, 2, ...``.
        ``run_cascades_many(W, S, keys=[k])[0]`` equals
        ``run_cascades(W, S[0], key=k)``.
    batch : int
        Source sets per parallel call, to bound memory (does not change results).

    Returns
    -------
    ndarray of int32, shape (len(source_sets), N, hops + 1)
        Hits per source set (see :func:`run_cascades`).
    """
    _check_run_args(hops, n, seed)
    indptr, indices, thresh, n_nodes = _prepare(W, p)
    sets = [_as_indices(s, n_nodes, f"source_sets[{i}]") for i, s in enumerate(source_sets)]
    keys = np.arange(len(sets), dtype=np.uint64) if keys is None else np.asarray(keys, dtype=np.uint64)
    if keys.shape != (len(sets),):
        raise ValueError("keys must have one entry per source set")
    stopm = _stop_array(stop, n_nodes)
    out = np.zeros((len(sets), n_nodes, int(hops) + 1), dtype=np.int32)
    for b0 in range(0, len(sets), batch):
        part = sets[b0:b0 + batch]
        ptr = np.zeros(len(part) + 1, dtype=np.int64)
        ptr[1:] = np.cumsum([len(s) for s in part])
        idx = np.concatenate(part) if part else np.zeros(0, np.int64)
        _by_source(indptr, indices, thresh, ptr, idx.astype(np.int64), keys[b0:b0 + batch],
                   stopm, int(hops), int(n), _U64(int(seed)), out[b0:b0 + batch])
    return out


def reference_cascades(W, sources, stop=None, p: float = P_SYNAPSE, hops: int = N_HOPS,
                       n: int = N_CASCADES, seed: int = 0) -> np.ndarray:
    """Straightforward NumPy/SciPy cascade: the benchmark's baseline and the tests' cross-check.

    Same model and arguments as :func:`run_cascades` (its random numbers come
    from :func:`numpy.random.default_rng` instead, so results agree in
    distribution, not draw for draw). Each hop slices the active rows of the
    sparse probability matrix and draws one uniform number per edge, like the
    authors' ``Cascade._choose_next`` on a dense matrix. About 10x slower than
    :func:`run_cascades` on one core.

    Returns
    -------
    ndarray of int64, shape (N, hops + 1)
    """
    _check_run_args(hops, n, seed)
    P = transmission_probabilities(W, p)
    N = P.shape[0]
    src = _as_indices(sources, N, "sources")
    stopm = _stop_array(stop, N)
    rng = np.random.default_rng(seed)
    hits = np.zeros((N, int(hops) + 1), np.int64)
    hits[src, 0] += n
    for _ in range(int(n)):
        visited = np.zeros(N, bool)
        visited[src] = True
        active = src[~stopm[src]]
        for h in range(1, int(hops) + 1):
            if active.size == 0:
                break
            rows = P[active]
            fired = np.unique(rows.indices[rng.random(rows.nnz) < rows.data])
            new = fired[~visited[fired]]
            visited[new] = True
            hits[new, h] += 1
            active = new[~stopm[new]]
    return hits


def pair_average(values: np.ndarray, pairs: np.ndarray | None, axis: int = 0) -> np.ndarray:
    """Average each row of ``values`` with its left/right homolog's row.

    Parameters
    ----------
    values : ndarray
        Per-neuron values (e.g. hits), neurons along ``axis``.
    pairs : ndarray of int, shape (N,), or None
        Index of each neuron's homolog, -1 for none (``neurons["pair_index"]``).
        ``None`` returns ``values`` as float unchanged.
    axis : int
        The neuron axis of ``values``.

    Returns
    -------
    ndarray of float64
        Same shape; paired neurons hold the mean of the two, unpaired
        neurons their own value (Winding et al. 2023, ``hh_pairwise``).
    """
    v = np.asarray(values, dtype=np.float64)
    if pairs is None:
        return v.copy()
    pairs = np.asarray(pairs, dtype=np.int64)
    if pairs.shape != (v.shape[axis],):
        raise ValueError(f"pairs must have one entry per neuron ({v.shape[axis]})")
    has = pairs >= 0
    partner = np.where(has, pairs, np.arange(pairs.size))
    if (has & (pairs[partner] != np.arange(pairs.size))).any():
        raise ValueError("pairs is not symmetric (pairs[pairs[i]] != i)")
    other = np.take(v, partner, axis=axis)
    return 0.5 * (v + other)


# --------------------------------------------------------------------------- result
@dataclass
class Cascade:
    """Hits of ``n`` cascades from one source set, with the paper's read-outs.

    Attributes
    ----------
    hits : ndarray of int, shape (N, hops + 1)
        Cascades in which each neuron was activated at each hop.
    n : int
        Number of cascades.
    sources : ndarray of int
        Neurons active at hop 0.
    pairs : ndarray of int or None
        Homolog index per neuron (-1: none), for pair-averaged read-outs.
    name : str
        Label of the source set (e.g. the modality).
    params : dict
        ``p``, ``hops``, ``seed``, ``n_stop`` and the graph used.
    """

    hits: np.ndarray
    n: int
    sources: np.ndarray
    pairs: np.ndarray | None = None
    name: str = ""
    params: dict = field(default_factory=dict)

    @property
    def hops(self) -> int:
        """Maximum hop of the cascades."""
        return self.hits.shape[1] - 1

    @property
    def hit_probability(self) -> np.ndarray:
        """``hits / n``: probability of activation at each hop, shape (N, hops + 1)."""
        return self.hits / float(self.n)

    def _hops_arg(self, hops):
        H = self.hops if hops is None else int(hops)
        if not 1 <= H <= self.hops:
            raise ValueError(f"hops must lie in [1, {self.hops}], got {hops}")
        return H

    def _pairs_arg(self, pairs):
        return self.pairs if pairs is True or pairs is None else (None if pairs is False else pairs)

    def visits(self, hops: int | None = None, pairs=True) -> np.ndarray:
        """Hits summed over hops ``1..hops`` (pair-averaged by default).

        Parameters
        ----------
        hops : int, optional
            Last hop counted (default: all, i.e. 8 in the paper's setting).
        pairs : bool or ndarray
            ``True``: average with the homolog using :attr:`pairs`; ``False``:
            per neuron; an array: these homolog indices.

        Returns
        -------
        ndarray of float64, shape (N,)
        """
        H = self._hops_arg(hops)
        return pair_average(self.hits[:, 1:H + 1].sum(axis=1), self._pairs_arg(pairs))

    def receives_signal(self, threshold: float = THRESHOLD, hops: int | None = None,
                        pairs=True) -> np.ndarray:
        """Neurons that receive signal from the sources.

        Parameters
        ----------
        threshold : float
            Fraction of cascades; 0.5 in Winding et al. 2023 (``n_init / 2``).
        hops : int, optional
            Count hops ``1..hops`` (default: all; the paper used 8, and 5 for
            its shorter-range variant).
        pairs : bool or ndarray
            Pair-average the hits first (the paper's ``hh_pairwise``), see
            :meth:`visits`.

        Returns
        -------
        ndarray of bool, shape (N,)
            ``visits >= threshold * n``. Sources are excluded (they are active
            at hop 0 only).
        """
        return self.visits(hops, pairs) >= threshold * self.n

    def first_hop(self, threshold: float = THRESHOLD, pairs=True) -> np.ndarray:
        """First hop at which the cumulative (pair-averaged) hits reach ``threshold * n``.

        Returns
        -------
        ndarray of int, shape (N,)
            Hop in ``1..hops``, or -1 for neurons that never reach it.
        """
        cum = pair_average(np.cumsum(self.hits[:, 1:], axis=1), self._pairs_arg(pairs))
        ok = cum >= threshold * self.n
        return np.where(ok.any(axis=1), ok.argmax(axis=1) + 1, -1)

    def mean_hop(self, neurons=None, hops: int | None = None) -> float:
        """Hit-weighted mean hop of the activations of ``neurons`` (hops 1..hops).

        This is the authors' "mean hop" from a source to a group of neurons
        (``downstream_sensories_cascades.py``: every activation of any neuron
        of the group counts once at its hop).

        Parameters
        ----------
        neurons : array of int, mask or Selection, optional
            The group (default: all neurons).
        hops : int, optional
            Last hop counted (default: all).

        Returns
        -------
        float
            NaN when the group is never reached.
        """
        H = self._hops_arg(hops)
        idx = slice(None) if neurons is None else _as_indices(neurons, self.hits.shape[0], "neurons")
        per_hop = self.hits[idx, 1:H + 1].sum(axis=0).astype(np.float64)
        tot = per_hop.sum()
        return float(np.dot(np.arange(1, H + 1), per_hop) / tot) if tot else float("nan")


# --------------------------------------------------------------------------- connectome helpers
def output_neurons(connectome) -> dict:
    """Indices of the brain's outputs by class: ``{"DN-VNC": ..., "DN-SEZ": ..., "RGN": ...}``.

    Uses the Pedigo et al. 2023 flags (``dVNCs``, ``dSEZs``, ``RGNs``; these
    match the paper's 182 / 184 / 56 output neurons and allow a neuron to be in
    two classes) when the node table is present, else the Data S1 ``celltype``.
    """
    nt = connectome.neurons
    out = {}
    for ct in OUTPUT_TYPES:
        flag = _OUTPUT_FLAGS[ct]
        mask = nt[flag].to_numpy(bool).copy() if flag in nt else np.zeros(len(nt), bool)
        mask |= (nt["celltype"] == ct).to_numpy()
        out[ct] = np.flatnonzero(mask)
    return out


def stop_mask(connectome) -> np.ndarray:
    """Boolean mask of the stop nodes: every output neuron (DN-VNC, DN-SEZ, RGN)."""
    m = np.zeros(connectome.n_neurons, bool)
    for idx in output_neurons(connectome).values():
        m[idx] = True
    return m


def modality_sources(connectome, modalities: Sequence[str] | None = None) -> dict:
    """Sensory and ascending neurons of each modality (the ``modality`` column).

    Parameters
    ----------
    connectome : connectomes.Connectome
    modalities : sequence of str, optional
        Default: the 12 modalities of Winding et al. 2023 (:data:`MODALITY_KEYS`)
        present in the data; ascending neurons of unknown modality are left out.

    Returns
    -------
    dict
        ``{modality: ndarray of int}`` in the paper's order.

    Raises
    ------
    ValueError
        A requested modality has no neurons.
    """
    present = connectome.modalities
    mods = [m for m in MODALITY_KEYS if m in present] if modalities is None else list(modalities)
    col = connectome.neurons["modality"].str.split(";")
    out = {}
    for m in [m for m in MODALITY_KEYS if m in mods] + [m for m in mods if m not in MODALITY_KEYS]:
        idx = np.flatnonzero(col.apply(lambda x, m=m: m in x).to_numpy())
        if idx.size:
            out[m] = idx
    unknown = set(mods) - set(out)
    if unknown and modalities is not None:
        raise ValueError(f"no neurons of modality {sorted(unknown)}; present: {connectome.modalities}")
    return out


def modality_cascades(connectome, modalities: Sequence[str] | None = None, *,
                      p: float = P_SYNAPSE, hops: int = N_HOPS, n: int = N_CASCADES,
                      seed: int = 0, stop="outputs", types=("ad",)) -> Mapping[str, Cascade]:
    """Cascades from all sensory/ascending neurons of each modality at once.

    Parameters
    ----------
    connectome : connectomes.Connectome
    modalities : sequence of str, optional
        Default: every modality present (12 in Winding et al. 2023).
    p, hops, n, seed
        As in :func:`run_cascades` (0.05, 8, 1000 from Winding et al. 2023).
    stop : "outputs", None or indices/mask
        Stop nodes; ``"outputs"`` = DN-VNC, DN-SEZ and RGN (the paper).
    types : tuple of str
        Synapse types of the graph; ``("ad",)`` as in the paper.

    Returns
    -------
    dict of str -> Cascade
        In the paper's modality order. Each modality's random streams are keyed
        by its position in :data:`MODALITY_KEYS`, so its result does not
        depend on which other modalities are run.
    """
    W = connectome.weights(types=types)
    stopm = stop_mask(connectome) if isinstance(stop, str) and stop == "outputs" else stop
    srcs = modality_sources(connectome, modalities)
    names = list(srcs)
    keys = [MODALITY_KEYS.index(m) if m in MODALITY_KEYS else len(MODALITY_KEYS) + i
            for i, m in enumerate(names)]
    hits = run_cascades_many(W, [srcs[m] for m in names], stop=stopm, p=p, hops=hops, n=n,
                             seed=seed, keys=keys)
    pairs = connectome.neurons["pair_index"].to_numpy()
    n_stop = int(np.count_nonzero(_stop_array(stopm, W.shape[0]))) if stopm is not None else 0
    params = {"p": p, "hops": hops, "seed": seed, "n_stop": n_stop, "types": tuple(types)}
    return {m: Cascade(hits[i].astype(np.int64), n, srcs[m], pairs, m, dict(params, key=keys[i]))
            for i, m in enumerate(names)}
