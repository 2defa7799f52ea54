"""The shuffled connectome keeps every neuron's degrees and synapse totals exactly."""
from __future__ import annotations

import numpy as np
import pytest

import connectomes
from connectomes.nullmodels import shuffle


def _stats(W):
    B = (W > 0).astype(np.int64)
    return (np.asarray(B.sum(1)).ravel(), np.asarray(B.sum(0)).ravel(),
            np.asarray(W.sum(1)).ravel(), np.asarray(W.sum(0)).ravel())


def _check(c, s):
    for t in connectomes.SYNAPSE_TYPES:
        for a, b in zip(_stats(c.weights(t)), _stats(s.weights(t))):
            assert np.array_equal(a, b), t
        assert (s.weights(t).diagonal() > 0).sum() <= (c.weights(t).diagonal() > 0).sum()  # no new autapses
        # counts of each connection size are kept
        assert np.array_equal(np.sort(c.weights(t).data), np.sort(s.weights(t).data))
    # and it is really rewired
    a, b = c.weights("ad"), s.weights("ad")
    same = a.multiply(b > 0)
    assert same.nnz < 0.5 * a.nnz


def test_shuffle_toy(toy, fresh_cache):
    c = connectomes.load("winding2023", data_dir=toy.path, verify=False)
    s = shuffle(c, seed=1)
    _check(c, s)
    assert s.provenance["null_model"]["seed"] == 1
    assert (shuffle(c, seed=1).weights() != s.weights()).nnz == 0
    assert (shuffle(c, seed=2).weights() != s.weights()).nnz > 0


@pytest.mark.realdata
def test_shuffle_real(real_connectome):
    s = shuffle(real_connectome, seed=0)
    _check(real_connectome, s)
    assert int(s.weights().sum()) == 352_611
