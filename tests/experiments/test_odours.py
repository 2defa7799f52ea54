"""Measured odours (experiments.odours.known_odour) and the odour-coding report (docs/odours.md)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments import odour_coding
from experiments.odours import ODOUR_TABLE, known_odour, known_odours, odour_drives, odour_table, spontaneous_activity

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "odours.md"


def _table(tmp_path, rows, header="receptor,odour,cas,response_hz"):
    p = tmp_path / "t.csv"
    p.write_text("# a comment line\n" + header + "\n" + "\n".join(rows) + "\n")
    return p


def test_the_packaged_table_is_whole():
    t = odour_table()
    assert not t.duplicated(["receptor", "odour"]).any()
    assert t["receptor"].str.match(r"^Or\d+[a-z]$").all()
    # every receptor has its spontaneous rate and the same odours (Kreher et al. 2008 tested every receptor with each)
    odours = known_odours()
    assert len(odours) >= 26 and "SFR" not in odours
    for rec, g in t.groupby("receptor"):
        assert (g["odour"] == "SFR").sum() == 1, rec
        assert len(set(g["odour"]) - {"SFR"}) >= len(odours) - 2, rec  # at most two missing per receptor
    # the file says where its numbers come from
    head = ODOUR_TABLE.read_text().splitlines()[:6]
    assert any("10.1016/j.neuron.2008.06.010" in ln for ln in head) and any("Kreher.2008.EN" in ln for ln in head)


def test_rules_of_a_measured_odour_on_a_hand_made_table(tmp_path, real_connectome):
    path = _table(tmp_path, ["Or42a,SFR,SFR,13", "Or42a,x ol,1,100", "Or47a,x ol,1,30", "Or33b,x ol,1,60",
                             "Or85c,x ol,1,-20", "Or42a,y al,2,5"])
    od = known_odour(real_connectome, "X OL", path=path)  # case-insensitive
    # the ORN that co-expresses Or47a and Or33b takes the larger response; an inhibitory response gives no drive
    assert od.name == "x ol" and od.rates_hz == {"42a": 100.0, "47a & 33b": 60.0}
    assert known_odour(real_connectome, "x ol", path=path, scale=0.5).rates_hz == {"42a": 50.0, "47a & 33b": 30.0}
    assert known_odours(path) == ["x ol", "y al"]
    with pytest.raises(ValueError, match=r"unknown odour 'x o'; did you mean x ol"):
        known_odour(real_connectome, "x o", path=path)
    with pytest.raises(ValueError, match="scale must be a finite number >= 0"):
        known_odour(real_connectome, "x ol", path=path, scale=-1)
    with pytest.raises(ValueError, match="scale must be a finite number >= 0"):
        known_odour(real_connectome, "x ol", path=path, scale=float("inf"))


def test_odours_on_the_measured_spontaneous_firing(tmp_path, real_connectome):
    """``spontaneous=True``: spontaneous rate + scale x response, at least 0; the background fills the rest."""
    from brian2 import ms, second

    path = _table(tmp_path, ["Or42a,SFR,SFR,13", "Or85c,SFR,SFR,8", "Or47a,SFR,SFR,2", "Or33b,SFR,SFR,5",
                             "Or42a,x ol,1,100", "Or85c,x ol,1,-20", "Or47a,x ol,1,30"])
    bg = spontaneous_activity(real_connectome, path=path)
    # the co-expressing ORN takes the larger spontaneous rate, as it does for responses
    assert bg.name == "spontaneous" and bg.rates_hz == {"42a": 13.0, "85c": 8.0, "47a & 33b": 5.0}
    od = known_odour(real_connectome, "x ol", path=path, spontaneous=True)
    # an inhibitory response now lowers the rate, here below zero -> 0 (85c: 8 - 20); 47a & 33b: max(2, 5) + 30
    assert od.rates_hz == {"42a": 113.0, "47a & 33b": 35.0}
    assert known_odour(real_connectome, "x ol", path=path, spontaneous=True, scale=0.5).rates_hz == \
        {"42a": 63.0, "47a & 33b": 20.0}
    # without the spontaneous rate the response alone, as before
    assert known_odour(real_connectome, "x ol", path=path).rates_hz == {"42a": 100.0, "47a & 33b": 30.0}
    drives = odour_drives(real_connectome, od, 200 * ms, 1200 * ms, 1.4 * second, background=bg)
    spans = sorted({(round(float(d.start / ms), 6), round(float(d.stop / ms), 6)) for d in drives})
    assert spans == [(0.0, 200.0), (200.0, 1200.0), (1200.0, 1400.0)]
    assert len(drives) == len(od.receptors) + 2 * len(bg.receptors)
    assert len(odour_drives(real_connectome, od, 200 * ms, 1200 * ms, 1.4 * second)) == len(od.receptors)


def test_bad_tables_are_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="missing column"):
        odour_table(_table(tmp_path, ["Or42a,x,1"], header="receptor,odour,cas"))
    with pytest.raises(ValueError, match=r"row 2, column 'response_hz': not a number"):
        odour_table(_table(tmp_path, ["Or42a,x,1,lots"]))
    with pytest.raises(ValueError, match="no such odour table"):
        odour_table(tmp_path / "absent.csv")


def test_measured_odours_on_the_real_connectome(real_connectome):
    t = odour_table().set_index(["receptor", "odour"])["response_hz"]
    ea = known_odour(real_connectome, "ethyl acetate")
    # the table's numbers reach the ORNs unchanged: Or42a's response to ethyl acetate
    assert ea.rates_hz["42a"] == t["Or42a", "ethyl acetate"] > 100
    # n-amyl acetate, as larval learning papers name it, is pentyl acetate
    assert known_odour(real_connectome, "n-amyl acetate") == known_odour(real_connectome, "pentyl acetate")
    # every receptor the odour drives is a receptor of the connectome and has a positive response in the table
    from experiments.odours import receptors

    rec = receptors(real_connectome)
    for name in known_odours():
        od = known_odour(real_connectome, name)
        assert set(od.rates_hz) <= set(rec)
        assert all(v > 0 for v in od.rates_hz.values())


def test_overlap_counts_as_documented():
    data = {"kcs": 10, "odours": [{"odour": "a", "kc_ids": [1, 2, 3, 4], "receptors": ["1a"], "kcs": 4},
                                  {"odour": "b", "kc_ids": [3, 4, 5], "receptors": ["2a"], "kcs": 3},
                                  {"odour": "c", "kc_ids": [], "receptors": [], "kcs": 0}]}
    ov = odour_coding.overlap(data)
    assert len(ov) == 1
    r = ov.iloc[0]
    assert (r["a"], r["b"], r["shared"]) == ("a", "b", 2)
    assert r["shared_share"] == pytest.approx(2 / 3) and r["jaccard"] == pytest.approx(2 / 5)
    # KCs by the number of odours they respond to: 5 to none, 3 to one (1, 2, 5), 2 to both (3, 4)
    assert odour_coding.breadth(data) == [5, 3, 2]
    sm = odour_coding.summary({**data, "scale": 0.5})
    # the odour that drives no receptor is left out of the sparseness figures
    assert sm["odours"] == 2 and sm["median_kc_fraction"] == pytest.approx(0.35)
    assert (sm["min_kc_fraction"], sm["max_kc_fraction"]) == (pytest.approx(0.3), pytest.approx(0.4))
    assert sm["median_shared_share"] == pytest.approx(2 / 3) and sm["pairs"] == {}
    assert np.isnan(sm["median_pn_shared_share"])  # no PN codes in these hand-made data
    pn = odour_coding.overlap({**data, "odours": [{**r, "pn_ids": r["kc_ids"][:2]} for r in data["odours"]]}, "pn")
    assert pn["shared"].tolist() == [0] and pn["shared_share"].tolist() == [0.0]


def test_the_document_is_the_render_of_its_data():
    data = json.loads(DOC.with_suffix(".json").read_text())
    text = DOC.read_text()
    assert odour_coding.reading(data) in text
    assert odour_coding._write(data).split("Run time")[0] == text.split("Run time")[0]
    assert {r["odour"] for r in data["odours"]} == set(known_odours())
    assert [sm["scale"] for sm in data["by_scale"]] == list(odour_coding.SCALES)
    assert data["by_scale"][0] == odour_coding.summary(data)  # the first scale is the report's own run
    # docs/biology_learning_rate.md says measured odours' KC codes overlap more than the learning experiments' pair
    drawn = json.loads((ROOT / "docs" / "biology_learning_rate.json").read_text())["odour_drive"]["shared_share"]
    assert "overlap even more than for the learning experiments' drawn pair" in (ROOT / "docs" /
                                                                               "biology_learning_rate.md").read_text()
    assert min(sm["median_shared_share"] for sm in data["by_scale"]) > drawn
    # with the ORNs' spontaneous firing: the same odours, fewer KCs and less overlap than from silent ORNs
    sp = data["with_spontaneous"]
    assert odour_coding.spontaneous_reading(data) in text
    assert sp["spontaneous"] and {r["odour"] for r in sp["odours"]} == set(known_odours())
    sm, sm0 = odour_coding.summary(sp), odour_coding.summary(data)
    assert sm["median_kc_fraction"] < sm0["median_kc_fraction"] and sm["median_shared_share"] < sm0["median_shared_share"]
    assert sp["rest"]["mean_hz"] > 0.1  # not quiet: the calibrated model's quiet-rate target assumes silent ORNs


@pytest.mark.realdata
def test_the_report_is_reproduced(real_connectome):
    """Rerun three odours (those of the pair of Weber et al. 2025 and one more): each count is the document's."""
    data = json.loads(DOC.with_suffix(".json").read_text())
    names = ["pentyl acetate", "benzaldehyde", "ethyl acetate"]
    got = odour_coding.coding(real_connectome, names, scale=data["scale"], seed=data["seed"], trials=data["trials"],
                              threshold_hz=data["threshold_hz"])
    doc = {r["odour"]: r for r in data["odours"]}
    for r in got["odours"]:
        assert r == doc[r["odour"]], r["odour"]
    assert pd.DataFrame(got["odours"])["kcs"].min() > 0
    # the same three odours on the ORNs' spontaneous firing, and the network's rates at rest
    sp = data["with_spontaneous"]
    got = odour_coding.coding(real_connectome, names, scale=sp["scale"], seed=sp["seed"], trials=sp["trials"],
                              threshold_hz=sp["threshold_hz"], spontaneous=True)
    doc = {r["odour"]: r for r in sp["odours"]}
    for r in got["odours"]:
        assert r == doc[r["odour"]], r["odour"]
    assert got["rest"] == pytest.approx(sp["rest"])
