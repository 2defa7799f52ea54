"""Tests of the signal cascade (sim.cascade).

Statistical checks use hit probabilities computed exactly on small graphs and
a tolerance of ``Z`` binomial standard deviations at the chosen number of
cascades; the runs are seeded, so a passing test stays passing.
"""
from __future__ import annotations

import math

import numba
import numpy as np
import pytest
import scipy.sparse as sp

from sim.cascade import (
    N_CASCADES,
    N_HOPS,
    P_SYNAPSE,
    THRESHOLD,
    Cascade,
    modality_cascades,
    modality_sources,
    output_neurons,
    pair_average,
    reference_cascades,
    run_cascades,
    run_cascades_many,
    stop_mask,
    transmission_probabilities,
)

Z = 4.5  # tolerance in binomial SDs: a false alarm has probability < 1e-5 per check
N_STAT = 40_000


def graph(n_nodes, edges):
    """CSR synapse-count matrix from ``{(pre, post): count}``."""
    W = np.zeros((n_nodes, n_nodes), np.int64)
    for (i, j), w in edges.items():
        W[i, j] = w
    return sp.csr_matrix(W)


def q(w, p=P_SYNAPSE):
    """Transmission probability of an edge of ``w`` synapses."""
    return 1.0 - (1.0 - p) ** w


def assert_binomial(count, n, prob, what=""):
    sd = math.sqrt(n * prob * (1.0 - prob))
    tol = Z * max(sd, 0.5)
    assert abs(count - n * prob) <= tol, (
        f"{what}: {count} of {n} hits, expected {n * prob:.1f} +- {tol:.1f} ({Z} SD)")


# --------------------------------------------------------------------------- parameters
def test_paper_parameters():
    assert (P_SYNAPSE, N_HOPS, N_CASCADES, THRESHOLD) == (0.05, 8, 1000, 0.5)


def test_transmission_probabilities():
    W = graph(3, {(0, 1): 1, (1, 2): 3, (2, 0): 20})
    P = transmission_probabilities(W, 0.05).toarray()
    assert P[0, 1] == pytest.approx(0.05)
    assert P[1, 2] == pytest.approx(1 - 0.95 ** 3)
    assert P[2, 0] == pytest.approx(1 - 0.95 ** 20)
    assert P[0, 2] == 0
    with pytest.raises(ValueError):
        transmission_probabilities(W, 1.5)
    with pytest.raises(ValueError):
        transmission_probabilities(sp.csr_matrix(-np.eye(2)), 0.05)


# --------------------------------------------------------------------------- exact probabilities
def test_chain_hit_probabilities():
    # a -> b (1 synapse) -> c (3 synapses): P(b) = 0.05, P(c) = 0.05 * (1 - 0.95^3)
    W = graph(3, {(0, 1): 1, (1, 2): 3})
    hits = run_cascades(W, [0], n=N_STAT, seed=11)
    assert hits.shape == (3, N_HOPS + 1)
    assert hits[0, 0] == N_STAT and hits[0, 1:].sum() == 0
    assert_binomial(hits[1, 1], N_STAT, q(1), "b at hop 1")
    assert_binomial(hits[2, 2], N_STAT, q(1) * q(3), "c at hop 2")
    # hop attribution: b only at hop 1, c only at hop 2
    assert hits[1].sum() == hits[1, 1] and hits[2].sum() == hits[2, 2]


def test_shortcut_hop_attribution_and_at_most_once():
    # a -> c directly (2 synapses) and a -> b -> c (4 then 2 synapses):
    # c at hop 1 with P(ac); at hop 2 only if not already active
    W = graph(3, {(0, 2): 2, (0, 1): 4, (1, 2): 2})
    hits = run_cascades(W, [0], n=N_STAT, seed=5)
    assert_binomial(hits[2, 1], N_STAT, q(2), "c at hop 1")
    assert_binomial(hits[2, 2], N_STAT, (1 - q(2)) * q(4) * q(2), "c at hop 2")
    assert (hits.sum(axis=1) <= N_STAT).all()


def test_convergent_targets_any_try_succeeds():
    # a -> b (1), a -> c (2), b -> d (5), c -> d (1): d at hop 2 if b or c passes it on
    W = graph(4, {(0, 1): 1, (0, 2): 2, (1, 3): 5, (2, 3): 1})
    hits = run_cascades(W, [0], n=N_STAT, seed=3)
    p_d = 1 - (1 - q(1) * q(5)) * (1 - q(2) * q(1))
    assert_binomial(hits[3, 2], N_STAT, p_d, "d at hop 2")


def test_multiple_sources_start_together():
    # sources a, b both at hop 0; each -> c with 1 synapse: P(c, hop 1) = 1 - 0.95^2
    W = graph(3, {(0, 2): 1, (1, 2): 1})
    hits = run_cascades(W, [0, 1], n=N_STAT, seed=9)
    assert (hits[[0, 1], 0] == N_STAT).all()
    assert_binomial(hits[2, 1], N_STAT, 1 - 0.95 ** 2, "c from two sources")


def test_matches_reference_implementation():
    rng = np.random.default_rng(0)
    n_nodes = 30
    dense = rng.poisson(0.6, (n_nodes, n_nodes)) * (rng.random((n_nodes, n_nodes)) < 0.3)
    np.fill_diagonal(dense, 0)
    W = sp.csr_matrix(dense)
    n = 4000
    stop = [25, 26]
    a = run_cascades(W, [0, 1], stop=stop, n=n, seed=1)
    b = reference_cascades(W, [0, 1], stop=stop, n=n, seed=2)
    pa, pb = a / n, b / n
    sd = np.sqrt(np.maximum(pa * (1 - pa) + pb * (1 - pb), 1e-9) / n)
    assert (np.abs(pa - pb) <= Z * sd + 1.0 / n).all()
    assert a[:, 1:].sum() > 0.1 * n  # the comparison is not vacuous


# --------------------------------------------------------------------------- deterministic rules (p = 1)
def test_stop_node_recorded_but_does_not_propagate():
    W = graph(4, {(0, 1): 1, (1, 2): 1, (0, 3): 1})
    hits = run_cascades(W, [0], stop=[1], p=1.0, n=10)
    assert hits[1, 1] == 10  # the stop node is reached and recorded
    assert hits[2].sum() == 0  # ... but passes nothing on
    assert hits[3, 1] == 10
    free = run_cascades(W, [0], p=1.0, n=10)
    assert free[2, 2] == 10
    # a source that is a stop node does not propagate either
    assert run_cascades(W, [1], stop=[1], p=1.0, n=5)[2].sum() == 0


def test_each_neuron_activated_once_and_loops_do_not_reactivate():
    # cycle a -> b -> c -> a plus b <-> c: every neuron is hit once, at its BFS depth
    W = graph(3, {(0, 1): 1, (1, 2): 1, (2, 0): 1, (2, 1): 1})
    hits = run_cascades(W, [0], p=1.0, n=7)
    np.testing.assert_array_equal(hits[:, :3], [[7, 0, 0], [0, 7, 0], [0, 0, 7]])
    assert hits[:, 3:].sum() == 0


def test_hop_limit():
    W = graph(6, {(i, i + 1): 1 for i in range(5)})
    hits = run_cascades(W, [0], p=1.0, hops=3, n=4)
    assert hits.shape == (6, 4)
    np.testing.assert_array_equal(np.diag(hits[:4, :4]), [4, 4, 4, 4])
    assert hits[4:].sum() == 0
    assert run_cascades(W, [0], p=0.0, n=4)[1:].sum() == 0


def test_input_validation():
    W = graph(3, {(0, 1): 1})
    with pytest.raises(ValueError):
        run_cascades(W, [5])
    with pytest.raises(ValueError):
        run_cascades(sp.csr_matrix(np.ones((2, 3))), [0])
    with pytest.raises(ValueError):
        run_cascades(W, [0], n=0)
    with pytest.raises(ValueError):
        run_cascades(W, [0], hops=-1)
    with pytest.raises(ValueError):
        run_cascades_many(W, [[0], [1]], keys=[1])
    mask = np.array([True, False, False])
    np.testing.assert_array_equal(run_cascades(W, mask, p=1.0, n=2), run_cascades(W, [0], p=1.0, n=2))


# --------------------------------------------------------------------------- reproducibility
def _random_graph(n_nodes=200, seed=0):
    rng = np.random.default_rng(seed)
    dense = rng.poisson(1.0, (n_nodes, n_nodes)) * (rng.random((n_nodes, n_nodes)) < 0.1)
    np.fill_diagonal(dense, 0)
    return sp.csr_matrix(dense)


def test_seeded_and_independent_of_threads_chunks_and_batching():
    W = _random_graph()
    base = run_cascades(W, [0, 1, 2], stop=[10, 11], n=300, seed=42)
    np.testing.assert_array_equal(base, run_cascades(W, [0, 1, 2], stop=[10, 11], n=300, seed=42))
    assert not np.array_equal(base, run_cascades(W, [0, 1, 2], stop=[10, 11], n=300, seed=43))
    old = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = run_cascades(W, [0, 1, 2], stop=[10, 11], n=300, seed=42, chunk=7)
        many1 = run_cascades_many(W, [[5], [0, 1, 2]], stop=[10, 11], n=300, seed=42, keys=[3, 0])
    finally:
        numba.set_num_threads(old)
    np.testing.assert_array_equal(base, one)
    np.testing.assert_array_equal(many1[1], base)
    many2 = run_cascades_many(W, [[0, 1, 2], [5]], stop=[10, 11], n=300, seed=42, keys=[0, 3], batch=1)
    np.testing.assert_array_equal(many2[0], base)
    np.testing.assert_array_equal(many2[1], many1[0])


# --------------------------------------------------------------------------- the Cascade read-outs
def test_pair_average():
    v = np.array([[2.0], [4.0], [10.0]])
    pairs = np.array([1, 0, -1])
    np.testing.assert_array_equal(pair_average(v, pairs), [[3.0], [3.0], [10.0]])
    np.testing.assert_array_equal(pair_average(v[:, 0][None, :], pairs, axis=1), [[3.0, 3.0, 10.0]])
    with pytest.raises(ValueError):
        pair_average(v, np.array([1, -1, -1]))  # not symmetric


def test_cascade_readouts():
    # neurons 0/1 a pair, 2 unpaired; n = 10, hops = 3
    hits = np.array([[0, 2, 2, 0],   # 4 visits
                     [0, 0, 5, 1],   # 6 visits -> pair mean 5
                     [0, 0, 0, 4],   # 4 visits
                     [10, 0, 0, 0]])  # source
    c = Cascade(hits, 10, np.array([3]), pairs=np.array([1, 0, -1, -1]))
    np.testing.assert_array_equal(c.visits(), [5, 5, 4, 0])
    np.testing.assert_array_equal(c.receives_signal(), [True, True, False, False])  # >= 5 of 10
    np.testing.assert_array_equal(c.receives_signal(pairs=False), [False, True, False, False])
    np.testing.assert_array_equal(c.receives_signal(hops=2), [False, False, False, False])
    np.testing.assert_array_equal(c.receives_signal(threshold=0.4), [True, True, True, False])
    # cumulative pair mean: hop1 1, hop2 4.5, hop3 5 -> first reaches 5 at hop 3
    np.testing.assert_array_equal(c.first_hop(), [3, 3, -1, -1])
    np.testing.assert_array_equal(c.first_hop(threshold=0.4), [2, 2, 3, -1])
    assert c.mean_hop([0]) == pytest.approx((1 * 2 + 2 * 2) / 4)
    assert c.mean_hop([0, 1, 2]) == pytest.approx((2 + 2 * 7 + 3 * 5) / 14)
    assert math.isnan(c.mean_hop([3]))
    assert c.hit_probability[3, 0] == 1.0
    with pytest.raises(ValueError):
        c.visits(hops=4)


# --------------------------------------------------------------------------- connectome helpers (toy data)
@pytest.fixture
def toy_connectome(toy):
    import connectomes
    return connectomes.load("winding2023", data_dir=toy.path, verify=False)


def test_modality_cascades_on_toy(toy_connectome):
    c = toy_connectome
    srcs = modality_sources(c)
    assert list(srcs) == ["olfactory", "gustatory-external", "noci"]
    outs = output_neurons(c)
    assert set(outs) == {"DN-VNC", "DN-SEZ", "RGN"}
    nt = c.neurons
    assert set(nt.loc[outs["DN-VNC"], "celltype"]) == {"DN-VNC"}
    assert stop_mask(c).sum() == sum(len(v) for v in outs.values())
    casc = modality_cascades(c, n=200, seed=1)
    assert list(casc) == list(srcs)
    olf = casc["olfactory"]
    assert olf.hits.shape == (c.n_neurons, N_HOPS + 1)
    assert (olf.hits[srcs["olfactory"], 0] == 200).all()
    # a modality's result does not depend on which others are run with it
    alone = modality_cascades(c, ["olfactory"], n=200, seed=1)["olfactory"]
    np.testing.assert_array_equal(alone.hits, olf.hits)
    # with p = 1 a cascade is a breadth-first search in which stop nodes have no out-edges:
    # every neuron is hit in every cascade exactly at its graph distance from the sources
    from scipy.sparse.csgraph import shortest_path
    seen = []
    others = np.ones(c.n_neurons, bool)
    others[srcs["olfactory"]] = False
    for stop, cut in (("outputs", stop_mask(c)), (None, np.zeros(c.n_neurons, bool)),
                      (others, others)):
        det = modality_cascades(c, ["olfactory"], n=3, p=1.0, stop=stop)["olfactory"]
        W = c.weights(types=("ad",)).tolil()
        W[np.flatnonzero(cut), :] = 0
        dist = shortest_path(W.tocsr(), unweighted=True, indices=srcs["olfactory"]).min(axis=0)
        expect = np.zeros_like(det.hits)
        for i, d in enumerate(dist):
            if np.isfinite(d) and d <= N_HOPS:
                expect[i, int(d)] = 3
        np.testing.assert_array_equal(det.hits, expect)
        seen.append(expect)
    assert not np.array_equal(seen[1], seen[2])  # stopping everything but the sources matters
    assert seen[2][:, 2:].sum() == 0
    assert (modality_cascades(c, ["olfactory"], n=3, p=1.0)["olfactory"].hits[outs["DN-VNC"]].sum()
            > 0)
    with pytest.raises(ValueError):
        modality_sources(c, ["visual"])


# --------------------------------------------------------------------------- real data
@pytest.mark.realdata
def test_real_modality_cascades_reach_outputs(real_connectome):
    casc = modality_cascades(real_connectome, ["olfactory"], n=200, seed=0)
    olf = casc["olfactory"]
    outs = output_neurons(real_connectome)
    assert [len(outs[k]) for k in ("DN-VNC", "DN-SEZ", "RGN")] == [182, 184, 56]
    assert len(olf.sources) == 42
    # the olfactory cascade reaches most DN-VNCs within 8 hops (Winding et al. 2023, Fig. 4)
    assert olf.receives_signal()[outs["DN-VNC"]].mean() > 0.5
