"""experiments.receptor_rules: the decision fixed before the run follows from the two variants' records; the
report is its JSON's and reproduces on the real data."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from experiments import receptor_rules as rr

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "receptor_rules.md"


def _rec(j, modalities=12, rho=0.7, hot=0.002, quiet=0.0):
    return {"J": j, "sanity": {"modalities_reaching": modalities, "rho": rho, "all_frac_hot": hot,
                               "quiet_hz": quiet}}


def test_the_decision_rule():
    assert rr.decide(_rec(2.0), _rec(2.1))["adopt"]
    tie = rr.decide(_rec(2.0), _rec(2.0))
    assert tie["adopt"] and "tie goes to the better-sourced signs" in tie["why"]
    worse = rr.decide(_rec(2.0), _rec(1.99))
    assert not worse["adopt"] and "below the default's 2.000" in worse["why"]
    for bad, name in ((_rec(2.2, modalities=11), "modalities"), (_rec(2.2, rho=0.49), "rho"),
                      (_rec(2.2, hot=0.06), "frac_hot"), (_rec(2.2, quiet=0.2), "quiet")):
        d = rr.decide(_rec(2.0), bad)
        assert not d["adopt"] and name in d["why"] and not d["must_shows"][name]


def test_the_variants_are_the_record_with_and_without_the_rules():
    import models

    cal = models.larval_calibration()
    p = rr.default_point()
    assert p["values"]["w_syn"] == cal["parameters"]["w_syn"]["value"]
    assert p["values"]["eta"] == cal["mushroom_body"]["parameters"]["eta"]["value"]
    assert p["rule"] == cal["mushroom_body"].get("rule") and p["seeds"] == cal["mushroom_body"]["seeds"]
    assert rr.VARIANTS == {"default": {}, "receptors": {"receptors": "literature"}}
    with pytest.raises(ValueError, match="unknown variant 'x'"):
        rr.score_variant(None, "x")


@pytest.mark.realdata
def test_the_report_is_its_store_and_reproduces(real_connectome):
    """docs/receptor_rules.md is written from its JSON; the decision is the design's; the default variant is the
    calibration record's point (its J3 reproduced); the probe of vis-01 / vis-02 reruns to the stored numbers."""
    from experiments.regenerate import fingerprint
    from models.neurons import larval_calibration

    data = json.loads(DOC.with_suffix(".json").read_text())
    assert DOC.read_text() == rr._write(data)
    assert data["decision"] == json.loads(json.dumps(rr.decide(data["variants"]["default"],
                                                               data["variants"]["receptors"])))
    assert rr.reading(data) in DOC.read_text() and rr.probe_reading(data) in DOC.read_text()
    if data["fingerprint"] == fingerprint():  # scored on the default model and findings of today
        mb = larval_calibration()["mushroom_body"]
        assert data["variants"]["default"]["J"] == pytest.approx(mb["J"], abs=1e-9)
    again = rr.probe(real_connectome, seed=data["probe"]["seed"])
    for v, rows in data["probe"]["findings"].items():
        for i, r in rows.items():
            assert again["findings"][v][i]["predicted"] == r["predicted"], (v, i)
            assert again["findings"][v][i]["effect_hz"] == pytest.approx(r["effect_hz"], abs=1e-9), (v, i)
    # the rule silences glu-lOLP's drive: no rate left to fall from (the documented reason vis-02 stays a miss)
    assert data["probe"]["findings"]["receptors"]["vis-02"]["reference_hz"] == 0
    assert data["probe"]["findings"]["default"]["vis-02"]["predicted"] == "increase"


def test_biology_md_lists_the_receptor_rules_among_the_candidates(tmp_path):
    """docs/biology.md's candidate section quotes the report's reading; one scored on another default model is
    called stale."""
    from experiments.biology_report import candidates_section

    data = json.loads(DOC.with_suffix(".json").read_text())
    lines = "\n".join(candidates_section(ROOT / "docs"))
    assert rr.reading(data) in lines and lines in (ROOT / "docs" / "biology.md").read_text()
    data["model"] = "another"
    (tmp_path / "receptor_rules.json").write_text(json.dumps(data))
    assert "`receptor_rules.json` was scored on another default model" in "\n".join(candidates_section(tmp_path))
