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
    for sentence in (blr.reading(df), blr.peaks_reading(df),
                     blr.mechanism_reading(DATA["specificity"], DATA["odour_drive"]),
                     blr.counterfactual_reading(DATA["counterfactuals"]),
                     blr.bound_reading(DATA["bound"], DATA["min_valence_change"])):
        assert sentence in text
    assert sorted(df["factor"].unique()) == sorted(blr.FACTORS) and 1.0 in blr.FACTORS
    assert {r["id"] for r in DATA["rows"]} == {f.id for f in blr.pairing_findings()}


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
    # each removed cause lowers the CS-'s fall, as documented (rerun: the three counterfactual runs)
    cf = blr.counterfactuals(real_connectome, seed=DATA["seed"])
    for got, want in zip(cf, DATA["counterfactuals"]):
        assert got["case"] == want["case"]
        for key in ("fall_cs_plus", "fall_cs_minus", "delta_lvi"):
            assert got[key] == pytest.approx(want[key], abs=1e-12), (got["case"], key)
    assert cf[1]["fall_cs_minus"] < cf[0]["fall_cs_minus"] and cf[2]["fall_cs_minus"] < cf[0]["fall_cs_minus"]
    # removing both causes makes the pairing more specific than removing either, and doubles the index change
    assert cf[3]["fall_cs_minus"] < min(cf[1]["fall_cs_minus"], cf[2]["fall_cs_minus"])
    assert cf[3]["delta_lvi"] > max(cf[1]["delta_lvi"], cf[2]["delta_lvi"])
    # the bound of each single-DAN pairing (rerun: four one-odour runs, with and without KC output)
    rc = blr.pairing_bound(real_connectome, seed=DATA["seed"])
    assert [u["us"] for u in rc["uses"]] == [u["us"] for u in DATA["bound"]["uses"]]
    for got, want in zip(rc["uses"], DATA["bound"]["uses"]):
        assert got["mbons"] == want["mbons"] and got["bound"] == pytest.approx(want["bound"], abs=1e-12), got["us"]
    assert [m["mbon"] for m in rc["mbons"]] == [m["mbon"] for m in DATA["bound"]["mbons"]]
    for got, want in zip(rc["mbons"], DATA["bound"]["mbons"]):
        for key in ("sign", "rate_hz", "kc_driven_share", "kc_input_share"):
            assert got[key] == pytest.approx(want[key], abs=1e-12), (got["mbon"], key)
