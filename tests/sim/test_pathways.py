"""sim.analysis.pathways: chains of strong connections, against hand-computed fractions, a brute-force
enumeration of every simple path, and the real connectome's synapse counts."""
from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest

from connectomes.edgelist import from_tables
from sim.analysis.pathways import input_fractions, pathway_summary, pathways


def _circuit():
    """s -> a -> t, s -> b -> t (b inhibitory), s -> t, a -> b, t2 beside t; x feeds a weakly and t strongly.

    Input synapses: a: s 8 + x 2 = 10; b: s 6 + a 4 = 10; t: s 2 + a 6 + b 2 + x 10 = 20.
    """
    nodes = pd.DataFrame({"id": [1, 2, 3, 4, 5, 6], "celltype": ["sensory", "PN", "LN", "MBON", "MBON", "LHN"],
                          "label": ["s", "a", "b", "t", "t2", "x"], "hemisphere": ["left"] * 6})
    edges = pd.DataFrame([(1, 2, 8), (6, 2, 2), (1, 3, 6), (2, 3, 4), (1, 4, 2), (2, 4, 6), (3, 4, 2), (6, 4, 10),
                          (4, 5, 3)], columns=["pre", "post", "count"])
    return from_tables(edges, nodes)


def test_input_fractions_are_shares_of_each_targets_input():
    c = _circuit()
    F = input_fractions(c).toarray()
    assert F[0, 1] == pytest.approx(0.8) and F[5, 1] == pytest.approx(0.2)
    assert F[1, 3] == pytest.approx(6 / 20) and F[5, 3] == pytest.approx(0.5)
    cols = F.sum(axis=0)
    assert np.allclose(cols[cols > 0], 1.0)


def test_every_path_with_its_strength_sign_and_synapses():
    c = _circuit()
    signs = np.array([1, 1, -1, 1, 1, 1], dtype=float)
    p = pathways(c, "s", "t", hops=3, threshold=0.05, signs=signs)
    got = {r.neurons: (r.strength, r.sign, r.synapses) for r in p.itertuples()}
    assert got == {
        "s L > a L > t L": (pytest.approx(0.8 * 0.3), 1.0, (8, 6)),
        "s L > a L > b L > t L": (pytest.approx(0.8 * 0.4 * 0.1), -1.0, (8, 4, 2)),
        "s L > b L > t L": (pytest.approx(0.6 * 0.1), -1.0, (6, 2)),
        "s L > t L": (pytest.approx(0.1), 1.0, (2,)),
    }
    assert list(p["strength"]) == sorted(p["strength"], reverse=True)
    assert p.loc[p["neurons"] == "s L > a L > b L > t L", "celltypes"].item() == "sensory > PN > LN > MBON"
    # the threshold drops the weak links (s -> t and b -> t are 10 % of t's input)
    strong = pathways(c, "s", "t", hops=3, threshold=0.2)
    assert set(strong["neurons"]) == {"s L > a L > t L"}
    # the hop limit
    assert set(pathways(c, "s", "t", hops=1, threshold=0.05)["neurons"]) == {"s L > t L"}
    # minimal paths: none runs on through a target (t -> t2), none starts before the last source (x -> a)
    both = pathways(c, "s", {"label": ["t", "t2"]}, hops=3, threshold=0.05)
    assert not any("t L >" in x for x in both["neurons"])
    from_two = pathways(c, {"label": ["s", "x"]}, "t", hops=3, threshold=0.05)
    assert "x L > a L > t L" in set(from_two["neurons"])
    inside = {int(k) for k in c.select(label=["s", "x"]).indices}
    assert all(not inside & set(path[1:]) for path in from_two["path"])
    # through: only the chains that pass b; avoid: none that pass a
    assert set(pathways(c, "s", "t", threshold=0.05, through="b")["neurons"]) == {"s L > a L > b L > t L",
                                                                                  "s L > b L > t L"}
    assert set(pathways(c, "s", "t", threshold=0.05, avoid="a")["neurons"]) == {"s L > b L > t L", "s L > t L"}
    with pytest.raises(ValueError, match="through selection selects no neuron"):
        pathways(c, "s", "t", through=np.array([], dtype=int))
    # without signs the column is NaN, and the summary says so
    assert pathways(c, "s", "t", threshold=0.05)["sign"].isna().all()


def _brute_force(F, src, tgt, hops, threshold):
    """Every simple path s -> ... -> t (no source or target inside) with all links >= threshold, by brute force."""
    n = F.shape[0]
    out = {}
    inner = [k for k in range(n) if k not in src and k not in tgt]
    for h in range(1, hops + 1):
        for s in src:
            for t in tgt:
                if s == t:
                    continue
                for mid in itertools.permutations(inner, h - 1):
                    path = (s, *mid, t)
                    f = [F[a, b] for a, b in zip(path[:-1], path[1:])]
                    if min(f) >= threshold:
                        out[path] = math.prod(f)
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_enumeration_equals_brute_force_on_random_graphs(seed):
    rng = np.random.default_rng(seed)
    n = 9
    dense = rng.integers(1, 9, size=(n, n)) * (rng.random((n, n)) < 0.45)
    np.fill_diagonal(dense, 0)
    pre, post = np.nonzero(dense)
    edges = pd.DataFrame({"pre": pre + 1, "post": post + 1, "count": dense[pre, post]})
    nodes = pd.DataFrame({"id": np.arange(1, n + 1), "label": [f"n{k}" for k in range(n)]})
    c = from_tables(edges, nodes)
    F = input_fractions(c).toarray()
    src, tgt = [0, 1], [7, 8]
    for hops, threshold in ((3, 0.05), (4, 0.1)):
        want = _brute_force(F, src, tgt, hops, threshold)
        p = pathways(c, np.array(src), np.array(tgt), hops=hops, threshold=threshold)
        got = dict(zip(p["path"], p["strength"]))
        assert set(got) == set(want)
        assert all(got[k] == pytest.approx(v) for k, v in want.items())
        # min_strength lists exactly the paths at least that strong (pruned, not filtered afterwards)
        cut = float(np.median(p["strength"])) if len(p) else 0.0
        q = pathways(c, np.array(src), np.array(tgt), hops=hops, threshold=threshold, min_strength=cut)
        assert set(q["path"]) == {k for k, v in want.items() if v >= cut}
        # through / avoid: the brute-force paths with / without a given inner neuron
        for node in (2, 5):
            via = pathways(c, np.array(src), np.array(tgt), hops=hops, threshold=threshold, through=np.array([node]))
            assert set(via["path"]) == {k for k in want if node in k[1:-1]}
            without = pathways(c, np.array(src), np.array(tgt), hops=hops, threshold=threshold, avoid=np.array([node]))
            assert set(without["path"]) == {k for k in want if node not in k}


def test_summary_adds_up_by_chain():
    c = _circuit()
    signs = np.array([1, 1, -1, 1, 1, 1], dtype=float)
    p = pathways(c, "s", "t", hops=3, threshold=0.05, signs=signs)
    s = pathway_summary(p)
    assert s["strength"].sum() == pytest.approx(p["strength"].sum())
    assert s["share"].sum() == pytest.approx(1.0)
    row = s.set_index("chain").loc["sensory > LN > MBON"]
    assert row["paths"] == 1 and row["inhibitory"] == pytest.approx(0.06) and row["excitatory"] == 0
    assert list(s["strength"]) == sorted(s["strength"], reverse=True)
    by_label = pathway_summary(p, by="label", connectome=c)
    assert "s > a > b > t" in set(by_label["chain"])
    assert set(pathway_summary(p, by="neurons")["chain"]) >= {"s > a > t", "s > t"}
    with pytest.raises(ValueError, match="by='nope'"):
        pathway_summary(p, by="nope", connectome=c)
    assert pathway_summary(p.iloc[:0]).empty


def test_bad_arguments_are_named():
    c = _circuit()
    with pytest.raises(ValueError, match="hops"):
        pathways(c, "s", "t", hops=0)
    with pytest.raises(ValueError, match="threshold"):
        pathways(c, "s", "t", threshold=1.5)
    with pytest.raises(ValueError, match="min_strength"):
        pathways(c, "s", "t", min_strength=-1)
    with pytest.raises(ValueError, match="signs"):
        pathways(c, "s", "t", signs=np.ones(3))
    with pytest.raises(ValueError, match="source selects no neuron"):
        pathways(c, np.array([], dtype=int), "t")
    with pytest.raises(ValueError, match="more than 1 paths"):
        pathways(c, "s", "t", threshold=0.05, limit=1)


@pytest.mark.realdata
def test_paths_on_the_real_connectome_follow_its_synapse_counts(real_connectome):
    """One hop: one path per presynaptic neuron with >= 1 % of the target's input, of strength W / column sum
    (counted here from the synapse matrix); three hops from the olfactory neurons to MBON-m1 run through the
    Kenyon cells and through the lateral horn, and the Kenyon cells also reach MBON-m1 through inhibitory MBONs."""
    from models.signs import assign_signs

    c = real_connectome
    tgt = c.select(name="MBON-m1").indices
    W = c.weights("ad").toarray().astype(float)
    one = pathways(c, {"celltype": "KC"}, "MBON-m1", hops=1)
    kc = c.select(celltype="KC").indices
    frac = W[np.ix_(kc, tgt)] / W[:, tgt].sum(axis=0)
    assert len(one) == int((frac >= 0.01).sum())
    for r in one.itertuples():
        i, j = r.path
        assert r.strength == pytest.approx(W[i, j] / W[:, j].sum()) and r.synapses == (int(W[i, j]),)
    signs = assign_signs(c, "literature").signs
    olf = pathway_summary(pathways(c, {"modality": "olfactory"}, "MBON-m1", hops=3, signs=signs)).set_index("chain")
    assert {"sensory > PN > KC > MBON", "sensory > PN > LHN > MBON"} <= set(olf.index)
    kc2 = pathway_summary(pathways(c, {"celltype": "KC"}, "MBON-m1", hops=2, signs=signs)).set_index("chain")
    assert kc2.loc["KC > MBON", "inhibitory"] == 0 and kc2.loc["KC > MBON > MBON", "inhibitory"] > 0
    # README: the inhibitory chains through other MBONs carry less than a fifth of the direct chains' strength
    assert kc2.loc["KC > MBON > MBON", "inhibitory"] < 0.2 * kc2.loc["KC > MBON", "strength"]
