"""docs/biology_learning_rate.md: the benchmark's conditioning findings across learning rates.

Its numbers come back from a rerun at a size CI can afford (two factors, the DAN-i1 findings); its
sentences are the functions of its JSON; its factor-1 column is docs/biology.json's (the default model).
"""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from experiments import biology_learning_rate as blr

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "biology_learning_rate.md"
DATA = json.loads(DOC.with_suffix(".json").read_text())
IDS = ("learn-sch20-01", "learn-tho22-01")  # one conditioning run (US DAN-i1) per factor


def test_the_document_is_the_render_of_its_data():
    text = DOC.read_text()
    df = pd.DataFrame(DATA["rows"])
    for sentence in (blr.reading(df), blr.peaks_reading(df), blr.tied_reading(DATA["tied"]["rows"]),
                     blr.mechanism_reading(DATA["specificity"], DATA["odour_drive"]),
                     blr.counterfactual_reading(DATA["counterfactuals"]),
                     blr.measured_pair_reading(DATA["measured_pair"], DATA["specificity"]),
                     blr.bound_reading(DATA["bound"], DATA["min_valence_change"])):
        assert sentence in text
    assert sorted(df["factor"].unique()) == sorted(blr.FACTORS) and 1.0 in blr.FACTORS
    assert {r["id"] for r in DATA["rows"]} == {f.id for f in blr.pairing_findings()}
    # the counterfactuals' first row (the default model) is the same run as the specificity at factor 1
    cf0, sp1 = DATA["counterfactuals"][0], next(r for r in DATA["specificity"] if r["factor"] == 1.0)
    for key in ("fall_cs_plus", "fall_cs_minus", "delta_lvi"):
        assert cf0[key] == sp1[key], key


def test_the_calibrated_rate_is_the_default_models_benchmark():
    """Factor 1 is the default model: every pairing finding's effect and verdict is docs/biology.json's."""
    bio = pd.DataFrame(json.loads((ROOT / "docs" / "biology.json").read_text())["models"]["larval"]["table"])
    bio = bio.set_index("id")
    one = pd.DataFrame(DATA["rows"]).query("factor == 1.0").set_index("id")
    for fid, r in one.iterrows():
        assert r["status"] == bio.loc[fid, "status"], fid
        assert r["effect"] == pytest.approx(bio.loc[fid, "effect_hz"], abs=1e-9), fid
    first = DATA["specificity"][0]
    assert first["factor"] == 1.0 and first["dan"] == "DAN-i1"
    assert first["delta_lvi"] == pytest.approx(bio.loc["learn-sch20-01", "effect_hz"], abs=1e-12)
    # the counterfactuals' first row is the default model itself
    base = DATA["counterfactuals"][0]
    assert base["case"] == "the default model"
    for key in ("fall_cs_plus", "fall_cs_minus", "delta_lvi"):
        assert base[key] == pytest.approx(first[key], abs=1e-12), key


def test_the_tied_points_are_the_calibration_records():
    """The equally good stage-2 points are the record's (default first), and the default's rows are factor 1's."""
    pts = blr.tied_points()
    assert DATA["tied"]["points"] == pts and pts[0]["rank"] == 0 and len(pts) >= 1
    from experiments.learning import EXPERIMENT_PARAMETERS

    assert pts[0]["values"]["eta"] == pytest.approx(float(EXPERIMENT_PARAMETERS["eta"].value), rel=1e-12)
    tied = pd.DataFrame(DATA["tied"]["rows"])
    one = pd.DataFrame(DATA["rows"]).query("factor == 1.0").set_index("id")
    for r in tied[tied["rank"] == 0].to_dict("records"):
        assert r["status"] == one.loc[r["id"], "status"] and r["effect"] == pytest.approx(one.loc[r["id"], "effect"])
    assert set(tied["rank"]) == {p["rank"] for p in pts}
    assert all(set(g["id"]) == set(one.index) for _, g in tied.groupby("rank"))


def test_tied_points_and_their_reading_on_hand_made_records():
    top = [{"values": {"mbon_gain": 1.0, "mbin_gain": 0.5, "eta": 0.01}, "J": 1.5, "accuracy": 0.7,
            "accuracy_by_seed": {"1": 0.7, "2": 0.7}},
           {"values": {"mbon_gain": 2.0, "mbin_gain": 0.4, "eta": 0.02}, "J": 1.49, "accuracy": 0.7,
            "accuracy_by_seed": {"1": 0.7, "2": 0.7}},
           {"values": {"mbon_gain": 3.0, "mbin_gain": 0.3, "eta": 0.03}, "J": 1.48, "accuracy": 0.7,
            "accuracy_by_seed": {"1": 0.8, "2": 0.6}}]  # same mean, not the same at every seed: not tied
    pts = blr.tied_points({"mushroom_body": {"top": top}})
    assert [p["rank"] for p in pts] == [0, 1] and pts[1]["values"]["eta"] == 0.02
    rows = [{"rank": k, "id": i, "half": h, "expect": "increase", "effect": 0.0, "status": st}
            for k, i, h, st in ((0, "a", "heldout", "miss"), (0, "b", "heldout", "hit"), (0, "c", "calibration", "hit"),
                                (1, "a", "heldout", "hit"), (1, "b", "heldout", "hit"), (1, "c", "calibration", "miss"))]
    text = blr.tied_reading(rows)
    assert text.startswith("The 2 stage-2 points") and "get 1 to 2 of 2 held-out pairing findings (the default model 1)" \
        in text and "0 to 1 of 1 calibration ones" in text and text.endswith("by 1 finding, and none gets more than 2 of 2.")
    # no point ties with the default: the reading says so, with the default's own hits
    one = blr.tied_reading([r for r in rows if r["rank"] == 0])
    assert one.startswith("No other stage-2 point scores exactly as well") and "gets 1 of 2 held-out pairing" in one
    assert blr.tied_points({"mushroom_body": {"top": top[:1] + top[2:]}}) == [
        {"rank": 0, "values": top[0]["values"], "J": 1.5}]


def test_a_reused_scan_keeps_the_rows_of_findings_still_in_the_table_in_table_order():
    """--reuse-scan: stored rows of findings still testable are kept, those of dropped findings go, and the
    findings the store lacks are named for scanning; merged rows follow the findings table's order."""
    old = pd.DataFrame([{"factor": k, "id": i, "effect": e} for i, e in (("b", 1.0), ("gone", 2.0), ("a", 3.0))
                        for k in (1.0, 2.0)])
    kept, new = blr._reuse_rows(old, ["a", "new", "b"])
    assert set(kept["id"]) == {"a", "b"} and new == ["new"] and len(kept) == 4
    merged = blr._in_table_order(pd.concat([kept, pd.DataFrame([{"factor": 1.0, "id": "new", "effect": 0.0}])]),
                                 ["a", "new", "b"])
    assert list(merged["id"]) == ["a", "a", "new", "b", "b"] and list(merged["factor"][:2]) == [1.0, 2.0]
    assert blr._reuse_rows(old, ["a", "b", "gone"])[1] == []


def test_per_factor_and_peaks_count_as_documented():
    """Hand-made rows: hits per half and factor; where a finding's effect in its published direction peaks."""
    rows = []
    for k, eff in ((1.0, 0.03), (2.0, 0.05), (8.0, 0.01)):
        rows.append({"factor": k, "id": "a", "half": "heldout", "expect": "increase", "effect": eff,
                     "status": "hit" if eff >= 0.02 else "miss"})
        rows.append({"factor": k, "id": "b", "half": "calibration", "expect": "decrease", "effect": -0.01 * k,
                     "status": "hit"})
    pf = blr.per_factor(pd.DataFrame(rows)).set_index("factor")
    assert pf.loc[2.0, "heldout_hits"] == 1 and pf.loc[8.0, "heldout_hits"] == 0 and pf.loc[8.0, "heldout_n"] == 1
    text = blr.peaks_reading(pd.DataFrame(rows))
    assert "For 1 of the 2 findings" in text and "for 1 it is largest at the highest rate tried (8 times)" in text


def test_the_bound_is_the_index_change_of_a_complete_specific_depression():
    """The learned valence index on hand-made rates, and the bound reading's counts."""
    import numpy as np

    v = np.array([1, -1, 1])
    plus, minus = np.array([10.0, 10.0, 20.0]), np.array([10.0, 10.0, 20.0])
    assert blr._lvi(v, plus, minus) == 0.0
    # removing 10 Hz of an approach MBON's response to the CS+: (-10) / (80 - 10)
    assert blr._lvi(v, plus - np.array([10.0, 0, 0]), minus) == pytest.approx(-10 / 70)
    assert np.isnan(blr._lvi(v, np.zeros(3), np.zeros(3)))
    rc = {"uses": [{"us": "DAN-x", "bound": 0.05}, {"us": "DAN-y", "bound": -0.01}, {"us": "DAN-z", "bound": 0.0}],
          "mbons": [{"mbon": "MBON-y", "sign": 1, "rate_hz": 12.0, "kc_driven_share": 0.2, "kc_input_share": 0.3},
                    {"mbon": "MBON-x", "sign": -1, "rate_hz": 8.0, "kc_driven_share": 0.9, "kc_input_share": 0.8}],
          "denominator_hz": 40.0}
    rc["uses"][1]["mbons"] = ["MBON-y"]
    rc["uses"][0]["mbons"] = ["MBON-x"]
    rc["uses"][2]["mbons"] = []
    text = blr.bound_reading(rc, 0.02)
    assert ("2 of 3 stay below the benchmark's floor of 0.02 even then (DAN-y: MBON-y 12 Hz, 20 % of it KC-driven "
            "(30 % of its input synapses from KCs); DAN-z: no MBON of known sign in its compartment)") in text
    # only strong (>= 5 Hz) MBONs driven mostly without KCs are named as diluting the index
    assert text.endswith("dilute every pairing's effect on the index: MBON-y (12 Hz, 20 % KC-driven), of 40 Hz summed "
                         "over the 2 MBON types of known sign and both odours.")


@pytest.mark.realdata
def test_the_scan_is_reproduced(real_connectome):
    """Rerun on two factors and the DAN-i1 findings, the specificity of one pairing, and the odour drive: each
    number is the document's (deterministic from the seed)."""
    df = blr.scan(real_connectome, (1.0, 8.0), seed=DATA["seed"], ids=IDS)
    doc = pd.DataFrame(DATA["rows"]).set_index(["factor", "id"])
    assert len(df) == 4
    for r in df.to_dict("records"):
        d = doc.loc[(r["factor"], r["id"])]
        assert r["status"] == d["status"] and r["effect"] == pytest.approx(d["effect"], abs=1e-9), r  # JSON: 10 digits
    spec = blr.specificity(real_connectome, blr.SPECIFICITY_FACTORS, seed=DATA["seed"])
    for got, want in zip(spec, DATA["specificity"]):
        for key in ("fall_cs_plus", "fall_cs_minus", "delta_lvi"):
            assert got[key] == pytest.approx(want[key], abs=1e-12), key
        assert got["mbons"] == want["mbons"]
    # the pairing is partly odour-specific: the CS+ falls more than the CS- at the calibrated rate
    assert spec[0]["fall_cs_plus"] > spec[0]["fall_cs_minus"] > 0
    assert blr.odour_drive(real_connectome, seed=DATA["seed"]) == pytest.approx(DATA["odour_drive"])
    # each removed cause lowers the CS-'s fall, as documented (rerun: the three counterfactual runs; the first
    # row, the default model, is the specificity at factor 1 just rerun)
    assert blr.SPECIFICITY_FACTORS[0] == 1.0 and DATA["counterfactuals"][0]["case"] == "the default model"
    cf = [{"case": "the default model", **{k: spec[0][k] for k in ("fall_cs_plus", "fall_cs_minus", "delta_lvi")}},
          *blr.counterfactuals(real_connectome, seed=DATA["seed"], cases=(1, 2, 3))]
    for got, want in zip(cf, DATA["counterfactuals"], strict=True):
        assert got["case"] == want["case"]
        for key in ("fall_cs_plus", "fall_cs_minus", "delta_lvi"):
            assert got[key] == pytest.approx(want[key], abs=1e-12), (got["case"], key)
    assert cf[1]["fall_cs_minus"] < cf[0]["fall_cs_minus"] and cf[2]["fall_cs_minus"] < cf[0]["fall_cs_minus"]
    # removing both causes makes the pairing more specific than removing either, and doubles the index change
    assert cf[3]["fall_cs_minus"] < min(cf[1]["fall_cs_minus"], cf[2]["fall_cs_minus"])
    assert cf[3]["delta_lvi"] > max(cf[1]["delta_lvi"], cf[2]["delta_lvi"])
    # the measured pair of Weber et al. 2025 as CS+ and CS- (rerun: the DAN-i1 pairing)
    mp = blr.measured_pair(real_connectome, ("DAN-i1",), seed=DATA["seed"])[0]
    want = DATA["measured_pair"][0]
    assert mp["dan"] == want["dan"] == "DAN-i1" and mp["odours"] == list(blr.MEASURED_PAIR)
    for key in ("fall_cs_plus", "fall_cs_minus", "delta_lvi"):
        assert mp[key] == pytest.approx(want[key], abs=1e-12), key
    # an equally good stage-2 point (the last; the default itself when none ties with it) scores the DAN-i1
    # findings as documented (rerun: one conditioning run)
    pt = DATA["tied"]["points"][-1:]
    got = blr.tied_scan(real_connectome, pt, seed=DATA["seed"], ids=IDS)
    doc = pd.DataFrame(DATA["tied"]["rows"]).set_index(["rank", "id"])
    assert len(got) == len(IDS)
    for r in got.to_dict("records"):
        d = doc.loc[(pt[0]["rank"], r["id"])]
        assert r["status"] == d["status"] and r["effect"] == pytest.approx(d["effect"], abs=1e-9), r
    # the bound of each single-DAN pairing (rerun: four one-odour runs, with and without KC output)
    rc = blr.pairing_bound(real_connectome, seed=DATA["seed"])
    assert [u["us"] for u in rc["uses"]] == [u["us"] for u in DATA["bound"]["uses"]]
    for got, want in zip(rc["uses"], DATA["bound"]["uses"]):
        assert got["mbons"] == want["mbons"] and got["bound"] == pytest.approx(want["bound"], abs=1e-12), got["us"]
    assert [m["mbon"] for m in rc["mbons"]] == [m["mbon"] for m in DATA["bound"]["mbons"]]
    for got, want in zip(rc["mbons"], DATA["bound"]["mbons"]):
        for key in ("sign", "rate_hz", "kc_driven_share", "kc_input_share"):
            assert got[key] == pytest.approx(want[key], abs=1e-12), (got["mbon"], key)
