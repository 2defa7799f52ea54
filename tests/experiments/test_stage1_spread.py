"""experiments.stage1_spread: the report is its JSON's; its first point is the calibration record's; two of its
points rescore to the stored hits on the real data."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from experiments import stage1_spread as s1

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "stage1_spread.md"


def _data():
    return json.loads(DOC.with_suffix(".json").read_text())


def test_the_report_is_its_json_and_its_first_point_is_the_default():
    from models.neurons import larval_calibration

    data = _data()
    assert DOC.read_text() == s1._write(data)
    assert len(data["points"]) == s1.TOP
    cal = larval_calibration()
    first = data["points"][0]
    for k, v in first["values"].items():
        assert v == pytest.approx(cal["parameters"][k]["value"], rel=1e-12), k
    assert first["J"] == pytest.approx(cal["structures"][cal["structure"]]["J"], abs=1e-9)
    assert [p["J"] for p in data["points"]] == sorted((p["J"] for p in data["points"]), reverse=True)
    # the per-finding counts follow from the points' hits
    for fid, r in data["by_finding"].items():
        assert r["hits"] == sum(fid in p["scores"][r["half"]]["hit_ids"] for p in data["points"])
    assert data["robust"] == sum(r["hits"] in (0, len(data["points"])) for r in data["by_finding"].values())


def test_biology_md_quotes_it():
    assert s1.reading(_data()) in (ROOT / "docs" / "biology.md").read_text()


@pytest.mark.realdata
def test_two_points_rescore_to_the_stored_hits(real_connectome):
    """The default point (0) with its stage-2 gains hits what docs/biology.md's default model hits on the
    non-pairing findings; the last point rescores to its stored hits."""
    from models.neurons import larval_calibration

    data = _data()
    types = larval_calibration()["synapse_types"]
    bio = json.loads((ROOT / "docs" / "biology.json").read_text())["models"]["larval"]["table"]
    for i in (0, len(data["points"]) - 1):
        p = data["points"][i]
        again = s1.score_point(real_connectome, p["values"], types)
        for half in ("calibration", "heldout"):
            assert again[half]["hit_ids"] == p["scores"][half]["hit_ids"], (i, half)
    default_hits = {r["id"] for r in bio if r["status"] == "hit" and r["test"] != "pairing"}
    stored = {i for h in ("calibration", "heldout") for i in data["points"][0]["scores"][h]["hit_ids"]}
    assert stored == default_hits
