"""Tests of the validation analyses (experiments.validation).

Real-data tests compare larvasim's numbers with the published ones of
Winding et al. 2023; the tolerance of each is explained where it is set.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from experiments.validation import (
    CHEMOSENSORY,
    PUBLISHED,
    SOMATOSENSORY,
    brain_neurons,
    hops_to_outputs,
    main,
    modality_counts,
    multisensory,
    recurrence,
    report,
    synapse_shares,
)
from sim.cascade import Cascade, modality_cascades


# --------------------------------------------------------------------------- synthetic
class FakeConnectome:
    """The least a connectome must offer to the analyses: a neuron table and weights."""

    def __init__(self, celltypes, pairs, edges):
        n = len(celltypes)
        self.neurons = pd.DataFrame({"celltype": celltypes, "pair_index": pairs,
                                     "modality": [""] * n})
        W = np.zeros((n, n), np.int64)
        for (i, j), w in edges.items():
            W[i, j] = w
        self._W = sp.csr_matrix(W)
        self.n_neurons = n

    def weights(self, types=("ad",)):
        return self._W.copy()


def _recurrence_toy():
    #  0 sensory (not a brain neuron)    1, 2 pair A (LN)    3 B    4 C    5 D    6 E (DN-VNC)    7 F
    celltypes = ["sensory", "LN", "LN", "LHN", "CN", "pre-DN-VNC", "DN-VNC", "MBON"]
    pairs = [-1, 2, 1, -1, -1, -1, -1, -1]
    edges = {(0, 1): 1,
             (1, 3): 1, (3, 2): 1,      # A_L -> B -> A_R: A and B recurrent (pair-averaged)
             (1, 4): 1,                 # A_L -> C: C downstream of A only
             (4, 6): 1,                 # C -> E (output: recorded, but stops cascades from A and C)
             (5, 6): 1, (6, 5): 1,      # D <-> E: recurrent, because cascades from outputs do not stop
             (6, 7): 1, (6, 3): 1}      # E -> F, E -> B
    return FakeConnectome(celltypes, pairs, edges)


def test_recurrence_rules_exact():
    c = _recurrence_toy()
    np.testing.assert_array_equal(brain_neurons(c), np.arange(1, 8))
    rec = recurrence(c, n=1, p=1.0, hops=(8, 1))
    t = rec.neurons
    assert list(t.index) == list(range(1, 8))
    # groups: A = {1, 2}, B, C, D, E, F
    assert [list(g) for g in rec.groups] == [[0, 1], [2], [3], [4], [5], [6]]
    # downstream: A -> {B, C, E}; B -> {A}; C -> {E}; D -> {E}; E -> {D, F, B, A}; F -> {}
    np.testing.assert_array_equal(t["ds_8"], [3, 3, 1, 1, 1, 4, 0])
    np.testing.assert_array_equal(t["us_8"], [2, 2, 2, 1, 1, 3, 1])
    # recurrent: A {B, E}; B {A}; C {}; D {E}; E {A, D}; F {}
    np.testing.assert_array_equal(t["rec_8"], [2, 2, 1, 0, 1, 2, 0])
    np.testing.assert_allclose(t["frac_rec_8"], [2 / 3, 2 / 3, 1.0, 0.0, 1.0, 0.5, 0.0])
    assert rec.share_recurrent(8) == pytest.approx(100 * 5 / 7)
    # with 1 hop, the cascade from E reaches D, F and B but not A (2 hops away)
    D1 = rec.downstream[1]
    assert D1[4].tolist() == [False, True, False, True, False, True]
    assert rec.downstream[8][4].tolist() == [True, True, False, True, False, True]
    bt = rec.by_celltype(8)
    assert bt.loc["LN", "recurrent_pct"] == 100.0 and bt.loc["CN", "recurrent_pct"] == 0.0


def test_recurrence_pair_average_threshold():
    # from B only A_R is hit: pair mean = n/2, which meets the inclusive 50 % threshold
    c = _recurrence_toy()
    rec = recurrence(c, n=4, p=1.0, hops=(8,))
    assert rec.downstream[8][1, 0]
    strict = recurrence(c, n=4, p=1.0, hops=(8,), threshold=0.51)
    assert not strict.downstream[8][1, 0]


def test_multisensory_and_hops_on_handmade_cascades():
    # 6 neurons: 0 brain, 1 brain, 2 DN-VNC, 3 DN-SEZ, 4 RGN, 5 sensory; n = 10, 2 hops
    celltypes = ["LN", "LHN", "DN-VNC", "DN-SEZ", "RGN", "sensory"]
    c = FakeConnectome(celltypes, [-1] * 6, {})
    a = np.zeros((6, 3), int)
    b = np.zeros((6, 3), int)
    a[0, 1], a[1, 2], a[2, 2] = 6, 9, 10     # modality a reaches 0, 1, DN-VNC (at hop 2)
    b[1, 1], b[2, 1], b[3, 2] = 7, 4, 2      # modality b reaches 1; DN-VNC and DN-SEZ below threshold
    casc = {"a": Cascade(a, 10, np.array([5])), "b": Cascade(b, 10, np.array([5]))}
    np.testing.assert_array_equal(modality_counts(casc, 2), [1, 2, 1, 0, 0, 0])
    ms = multisensory(casc, c, hops=(2,)).set_index("group")
    # brain neurons = all but sensory/ascending, outputs included: 0..4
    assert ms.loc["brain", ["n", "none", "unimodal", "multimodal"]].tolist() == [5, 2, 2, 1]
    assert ms.loc["brain", "unimodal_pct"] == 40.0
    assert ms.loc["brain", "unimodal_of_reached_pct"] == pytest.approx(200 / 3)
    assert ms.loc["DN-VNC", "unimodal"] == 1 and ms.loc["DN-SEZ", "none"] == 1
    h = hops_to_outputs(casc, c, hops=2).set_index(["modality", "output"])
    assert h.loc[("a", "DN-VNC"), "mean_hop"] == 2.0
    assert h.loc[("b", "DN-VNC"), "mean_hop"] == 1.0
    assert h.loc[("a", "DN-VNC"), "first_hop"] == 2.0
    assert np.isnan(h.loc[("b", "DN-VNC"), "first_hop"])
    assert h.loc[("a", "DN-VNC"), "receiving"] == 1.0 and h.loc[("b", "DN-VNC"), "receiving"] == 0.0
    assert np.isnan(h.loc[("a", "RGN"), "mean_hop"])


@pytest.fixture
def toy_connectome(toy):
    import connectomes
    return connectomes.load("winding2023", data_dir=toy.path, verify=False)


def test_report_on_toy(toy_connectome, tmp_path):
    out = tmp_path / "docs" / "validation.md"
    res = report(toy_connectome, out, n=50, seed=1, seeds_spread=2, log=lambda m: None)
    text = out.read_text()
    for section in ("## 1. Synapse shares by type", "## 2. Hops from each modality",
                    "## 3. Multisensory integration", "## 4. Recurrence",
                    "## Differences from the paper"):
        assert section in text
    figs = out.parent / "figures" / "validation"
    for name in ("synapse_shares", "hops_to_outputs", "multisensory", "recurrence"):
        png = figs / f"{name}.png"
        assert png.is_file() and 0 < png.stat().st_size < 200_000
        assert f"figures/validation/{name}.png" in text
    assert set(res) >= {"synapses", "hops", "multisensory", "recurrence", "timing"}
    shares = synapse_shares(toy_connectome)
    assert shares["share"].sum() == pytest.approx(100.0)


def test_main_cli(toy, tmp_path):
    out = tmp_path / "v.md"
    rc = main(["--out", str(out), "--data-dir", str(toy.path), "--no-verify", "--n", "20",
               "--seeds-spread", "1", "--skip-recurrence"])
    assert rc == 0
    text = out.read_text()
    assert "Not run in this report" in text
    assert (tmp_path / "figures" / "validation" / "multisensory.png").is_file()


# --------------------------------------------------------------------------- real data
@pytest.mark.realdata
def test_real_synapse_shares(real_connectome):
    df = synapse_shares(real_connectome)
    # Winding et al. 2023 report one decimal; Data S1 must agree to 0.1 percentage point
    assert (df["difference"].abs() <= 0.1).all(), df
    assert df["synapses"].sum() == 352_611


@pytest.fixture(scope="module")
def real_cascades(real_connectome):
    """The 12 modality cascades with the paper's parameters (1,000 x 8 hops)."""
    return modality_cascades(real_connectome, seed=0)


@pytest.mark.realdata
def test_real_hops_to_outputs_ordering(real_connectome, real_cascades):
    assert len(real_cascades) == 12
    h = hops_to_outputs(real_cascades, real_connectome)
    vnc = h[h["output"] == "DN-VNC"].set_index("modality")["mean_hop"]
    sez = h[h["output"] == "DN-SEZ"].set_index("modality")["mean_hop"]
    chem, som = list(CHEMOSENSORY), list(SOMATOSENSORY)
    # published: olfaction/gustation take the shortest paths, ascending somatosensory the longest.
    # Group means differ by far more than the Monte-Carlo SD of a mean hop (< 0.02 hop)
    assert vnc[chem].mean() < vnc[som].mean() - 0.5
    assert sez[chem].mean() < sez[som].mean() - 0.5
    # every chemosensory modality is closer to DN-SEZ than every somatosensory one, and closer to
    # DN-VNC than the two most distant somatosensory ones (noci ties olfaction to DN-VNC:
    # docs/validation.md)
    assert sez[chem].max() < sez[som].min()
    assert vnc[chem].max() < vnc[["proprio", "mechano-II/III"]].min()
    # published: DN-VNCs are generally reached within 3 to 6 hops
    assert ((vnc >= 3) & (vnc <= 6)).all(), vnc


@pytest.mark.realdata
def test_real_multisensory_within_bands(real_connectome, real_cascades):
    ms = multisensory(real_cascades, real_connectome).set_index(["hops", "group"])
    pub = PUBLISHED["labelled_line_brain"]["values"]
    # Brain neurons reached by one modality only, of those reached by any (the authors' UpSet
    # denominator). Band +-2 pp: the Monte-Carlo SD at 1,000 cascades is 0.1-0.3 pp; the rest
    # allows for the released matrices (2,952 of 3,016 neurons; 346 without homolog data) and
    # the brain-neuron set (2,476 here vs the authors' annotation), which move the value by
    # about 0.5 pp (docs/validation.md).
    for H in (8, 5):
        assert abs(ms.loc[(H, "brain"), "unimodal_of_reached_pct"] - pub[H]) <= 2.0
    # published trend: shorter cascades leave more neurons single-modality
    assert ms.loc[(5, "brain"), "unimodal_of_reached_pct"] > ms.loc[(8, "brain"), "unimodal_of_reached_pct"]
    # output classes (8 hops), percent of all neurons of the class. Bands of a few neurons:
    # one DN-VNC/DN-SEZ is 0.55 pp, one RGN 1.8 pp.
    out = PUBLISHED["outputs_8hop"]["values"]
    uni = {g: 100.0 * out[g][0] / out[g][2] for g in out}
    assert abs(ms.loc[(8, "DN-VNC"), "unimodal_pct"] - uni["DN-VNC"]) <= 3.0
    assert abs(ms.loc[(8, "DN-VNC"), "multimodal_pct"] - 100.0 * 166 / 182) <= 5.0
    assert abs(ms.loc[(8, "DN-SEZ"), "unimodal_pct"] - uni["DN-SEZ"]) <= 5.0
    assert abs(ms.loc[(8, "RGN"), "unimodal_pct"] - uni["RGN"]) <= 5.5


def _check_recurrence(rec, band):
    hops = rec.params["hops"]
    # 41 % published; it matches the 5-hop analysis (the preprint's cascade depth), while 8-hop
    # cascades find more recurrent neurons (docs/validation.md)
    assert abs(rec.share_recurrent(5) - PUBLISHED["recurrent_brain"]["value"]) <= band
    if 8 in hops:
        assert rec.share_recurrent(8) > rec.share_recurrent(5) + 10
    # published: the learning centre's input and output neurons are the most recurrent
    for H in hops:
        bt = rec.by_celltype(H)
        top = list(bt[bt["neurons"] >= 20].index[:3])
        assert "MBIN" in top and "MBON" in top, (H, top)


@pytest.mark.realdata
def test_real_recurrence_quick(real_connectome):
    """5-hop recurrence with 100 instead of 1,000 cascades per source (~5 s on 2 idle cores).

    With 100 cascades a neuron's call is noisier (binomial SD of 5 of 100 cascades at the
    threshold, against 16 of 1,000), so the band is wider than in the full test.
    """
    _check_recurrence(recurrence(real_connectome, n=100, hops=(5,), seed=0), band=6.0)


@pytest.mark.realdata
@pytest.mark.slow
def test_real_recurrence(real_connectome):
    """Recurrence of every brain group with 250 cascades per source (a quarter of the report's 1,000;
    about 45 s on 2 cores), against the published share and docs/validation.md's rows.

    docs/validation.md's rows come from ``python -m experiments.validation`` at 1,000 cascades. With
    250 a group's call at the 50 % threshold is noisier, which moves the shares by up to about 1.5 pp
    (measured: 61.6 and 61.9 % at 8 hops, 42.1 and 42.7 % at 5 hops, seeds 0 and 1 at 200 cascades,
    against 60.5 and 42.2 % at 1,000), so each documented row must be met within 2.5 pp.
    """
    rec = recurrence(real_connectome, n=250, seed=0)
    assert rec.params["neurons"] == len(brain_neurons(real_connectome)) == 2476
    # band +-4 pp: data differences as for the multisensory numbers (released matrices,
    # unpaired neurons without homolog data); the seed-to-seed SD is below 0.5 pp
    _check_recurrence(rec, band=4.0)
    doc = (Path(__file__).resolve().parents[2] / "docs" / "validation.md").read_text()
    for h in rec.params["hops"]:
        m = re.search(rf"^\| {h} \| ([0-9.]+) % \|", doc, re.M)
        assert m, f"docs/validation.md has no recurrence row for {h} hops (rerun python -m experiments.validation)"
        assert abs(rec.share_recurrent(h) - float(m.group(1))) <= 2.5, (h, rec.share_recurrent(h), m.group(1))


@pytest.mark.realdata
def test_validation_report_is_reproduced(real_connectome, tmp_path):
    """docs/validation.md at its documented settings (seed 0, 1,000 cascades, 3 spread seeds; about 30 s
    without the recurrence analysis): every line outside the header, the timing line and the recurrence
    section equals a fresh run's. The recurrence numbers are checked by test_real_recurrence (within its stated band)."""
    doc_path = Path(__file__).resolve().parents[2] / "docs" / "validation.md"
    out = tmp_path / "validation.md"
    report(real_connectome, out, tmp_path / "figures" / "validation", n=1000, seed=0, seeds_spread=3, with_recurrence=False,
           log=lambda m: None)

    def body(text):
        lines = text.splitlines()
        start = next(k for k, ln in enumerate(lines) if ln.startswith("## 4. Recurrence"))
        stop = next(k for k, ln in enumerate(lines) if ln.startswith("## ") and k > start)
        keep = lines[3:start] + lines[stop:]      # line 3: "Written by ... <date> ..."
        return [ln for ln in keep if not ln.startswith("Timing:")]

    fresh, doc = body(out.read_text()), body(doc_path.read_text())
    assert len(fresh) == len(doc), (len(fresh), len(doc))
    for a, b in zip(fresh, doc):
        assert a == b, f"docs/validation.md differs from a fresh run:\n  doc:   {b}\n  fresh: {a}"
