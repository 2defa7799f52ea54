"""Tests for the receptor rules (models/receptors.py): synapse-level exceptions to the presynaptic sign."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from brian2 import Hz, ms

import connectomes
import sim
from models import receptors as rc
from models import signs as sg


@pytest.fixture
def c(toy):
    return connectomes.load("winding2023", data_dir=toy.path, verify=False)


def _write(tmp_path, text, name="receptors.csv") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


HEAD = "post,pre_transmitter,sign,receptor,source\n"


def _synapses(c, a, pre_sel, post_sel):
    """Signs of every (ad) synapse from ``pre_sel`` onto ``post_sel`` under assignment ``a``."""
    W = c.weights(("ad",)).tocoo()
    keep = np.isin(W.row, pre_sel) & np.isin(W.col, post_sel)
    return a.edge_signs(W.row[keep], W.col[keep]), W.row[keep]


def test_a_rule_sets_the_sign_of_exactly_its_synapses(c, tmp_path):
    """Cholinergic synapses onto the MBONs made inhibitory; every other synapse keeps its presynaptic sign."""
    p = _write(tmp_path, HEAD + "MBON-*,acetylcholine,-1,a receptor,a paper\n")
    base = sg.assign_signs(c, "literature")
    a = sg.assign_signs(c, "literature", receptors=p)
    assert np.array_equal(a.signs, base.signs)  # neurons keep their signs
    W = c.weights().tocoo()
    e = a.edge_signs(W.row, W.col)
    ach = np.array([t == "acetylcholine" for t in a.transmitters])
    mbon = np.isin(np.arange(c.n_neurons), c.select(name="MBON-*").indices)
    hit = ach[W.row] & mbon[W.col]
    assert hit.sum() > 5 and (e[hit] == -1).all() and (base.signs[W.row[hit]] == 1).all()
    assert np.array_equal(e[~hit], base.signs[W.row[~hit]].astype(float))
    (rule,) = a.edge_rules
    assert rule.sign == -1 and rule.pre_transmitter == "acetylcholine"
    assert set(rule.post) == set(c.select(name="MBON-*").indices) and set(rule.pre) == set(np.flatnonzero(ach))
    d = a.to_dict()
    assert json.loads(json.dumps(d)) == d
    assert d["receptor_rules"][0]["n_post"] == len(rule.post) and d["options"]["receptor_rules"] == 1
    assert "receptor_rules" not in base.to_dict()


def test_later_rules_override_earlier_ones(c, tmp_path):
    p = _write(tmp_path, HEAD + "MBON-*,acetylcholine,-1,r1,s1\nMBON-i1,acetylcholine,0,r2,s2\n")
    a = sg.assign_signs(c, "literature", receptors=p)
    kc = c.select(celltype="KC").indices
    e_i1, _ = _synapses(c, a, kc, c.select(name="MBON-i1").indices)
    e_d1, _ = _synapses(c, a, kc, c.select(name="MBON-d1").indices)
    assert len(e_i1) and (e_i1 == 0).all()
    assert len(e_d1) and (e_d1 == -1).all()


def test_a_network_uses_the_rules_and_passes_them_on(c, tmp_path):
    """sim.Network takes receptors= as a sign option; its synapse signs follow the rule, a network built from
    its sign_spec has the same, and the engine and Brian2 give the same spikes with it."""
    p = _write(tmp_path, HEAD + "MBON-*,acetylcholine,-1,r,s\n")
    plain = sim.Network(c, device="numba")
    net = sim.Network(c, device="numba", receptors=p)
    again = sim.Network(c, device="numba", signs=net.sign_spec)
    pre, post, _, s0 = plain._edges
    s1, s2 = net._edges[3], again._edges[3]
    mbon = np.isin(post, c.select(name="MBON-*").indices)
    changed = s0 != s1
    assert changed.any() and mbon[changed].all() and (s1[changed] == -1).all()
    assert np.array_equal(s1, s2)
    assert net.sign_info["receptor_rules"][0]["post"] == "MBON-*"
    stim = [sim.PoissonDrive(c.select(celltype="KC"), 80 * Hz)]
    mb = c.select(celltype="MBON").indices
    rates = {}
    for name, n in (("plain", plain), ("rules", net)):
        r = n.run(stim, duration=300 * ms, trials=2, seed=3, progress=False)
        rates[name] = np.isin(r.spikes["node_id"], mb).sum()
    assert rates["rules"] < rates["plain"]  # the KC input to the MBONs now inhibits
    brian = sim.Network(c, device="numpy", receptors=p)
    a = net.run(stim, duration=100 * ms, trials=1, seed=3, progress=False).spikes
    b = brian.run(stim, duration=100 * ms, trials=1, seed=3, progress=False).spikes
    assert len(a) > 10
    assert np.array_equal(a["node_id"].to_numpy(), b["node_id"].to_numpy())
    assert np.array_equal(a["t_ms"].to_numpy(), b["t_ms"].to_numpy())


@pytest.mark.parametrize("text,needle", [
    (HEAD + "MBON-*,nicotine,-1,r,s\n", "row 1 (line 2), column 'pre_transmitter'"),
    (HEAD + "MBON-*,acetylcholine,2,r,s\n", "row 1 (line 2), column 'sign'"),
    (HEAD + "MBON-*,acetylcholine,-1,,s\n", "row 1 (line 2), column 'receptor'"),
    (HEAD + "MBON-*,acetylcholine,-1,r,s\nMBON-*,GABA,1,r,\n", "row 2 (line 3), column 'source'"),
    (HEAD + "MBON-z9,acetylcholine,-1,r,s\n", "row 1 (line 2), column 'post'"),
    ("post,pre_transmitter,sign,receptor\nMBON-*,acetylcholine,-1,r\n", "column 'source'"),
    ("post,pre,pre_transmitter,sign,receptor,source\nMBON-*,x,acetylcholine,-1,r,s\n", "column 'pre'"),
])
def test_bad_receptor_csv_names_file_row_column(c, tmp_path, text, needle):
    p = _write(tmp_path, text, name="bad_receptors.csv")
    with pytest.raises(sg.SignCSVError) as ei:
        sg.assign_signs(c, "literature", receptors=p)
    assert "bad_receptors.csv" in str(ei.value) and needle in str(ei.value)


def test_receptor_rules_need_transmitters(c, tmp_path):
    with pytest.raises(sg.SignPolicyError, match="excitatory policy"):
        sg.assign_signs(c, "excitatory", receptors="literature")
    with pytest.raises(FileNotFoundError, match="nope.csv"):
        sg.assign_signs(c, "literature", receptors=tmp_path / "nope.csv")


def test_the_packaged_rules_are_sourced():
    rules = rc.read_rules()
    assert rules and all(r["source"] and r["receptor"] for r in rules)
    assert all("doi:" in r["source"] for r in rules)


@pytest.mark.realdata
def test_real_light_inhibits_glu_lolp_through_its_muscarinic_receptor(real_connectome):
    """Qin et al. 2019 (Nat Commun 10:4093, abstract): light-elicited cholinergic signalling depolarises cha-lOLP
    and, through mAChR/Galpha-o, hyperpolarises glu-lOLP. With literature signs alone light drives glu-lOLP (the
    photoreceptors are cholinergic); with the packaged receptor rules the photoreceptors' synapses onto it are
    inhibitory and it stays silent, while cha-lOLP still responds."""
    c = real_connectome
    a = sg.assign_signs(c, "literature", receptors="literature")
    glu, cha = c.select(name="GlulOLP*").indices, c.select(name="ChalOLP*").indices
    pr = c.select(name="Rh[56]PR-*").indices
    e, _ = _synapses(c, a, pr, glu)
    assert len(e) > 10 and (e == -1).all()
    e_cha, _ = _synapses(c, a, pr, cha)
    assert len(e_cha) > 0 and (e_cha == 1).all()
    vis = [sim.PoissonDrive(c.select(modality="visual"), 50 * Hz)]
    out = {}
    for name, kw in (("literature", {}), ("receptors", {"receptors": "literature"})):
        r = sim.Network(c, device="numba", **kw).run(vis, duration=500 * ms, trials=4, seed=1, progress=False)
        ids = r.spikes["node_id"].to_numpy()
        out[name] = (np.isin(ids, glu).sum() / (len(glu) * 4 * 0.5), np.isin(ids, cha).sum() / (len(cha) * 4 * 0.5))
    assert out["literature"][0] > 10 and out["receptors"][0] == 0  # Hz: glu-lOLP driven, then silenced
    assert out["receptors"][1] > 10  # cha-lOLP still responds to light
