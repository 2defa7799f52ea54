"""experiments.glu_inhibition: the screen's choice and the decision fixed before the run follow from the records;
the report is its JSON's and its screen reruns on the real data."""
from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from experiments import glu_inhibition as gi

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "glu_inhibition.md"


def _rec(j, modalities=12, rho=0.7, hot=0.002, quiet=0.0):
    return {"J": j, "sanity": {"modalities_reaching": modalities, "rho": rho, "all_frac_hot": hot,
                               "quiet_hz": quiet}}


def test_the_grid_brackets_the_default_from_zero_to_eight():
    assert gi.GRID[0] == 0 and 1.0 in gi.GRID and min(g for g in gi.GRID if g) == 0.125 and max(gi.GRID) == 8
    steps = [b / a for a, b in zip(gi.GRID[1:], gi.GRID[2:])]
    assert steps == pytest.approx([math.sqrt(2)] * len(steps), rel=1e-5)


def test_the_screen_chooses_the_best_j_and_breaks_ties_towards_the_default():
    screen = {"0": _rec(1.7), "0.5": _rec(1.6), "1": _rec(1.6), "2": _rec(1.5)}
    assert gi.best_screened(screen) == 0.0
    screen["0"] = _rec(1.6)  # a tie: the value nearest 1 (on a log scale; 0 farthest)
    assert gi.best_screened(screen) == 1.0
    del screen["1"]
    screen["2"] = _rec(1.6)
    assert gi.best_screened(screen) in (0.5, 2.0)  # equally near on a log scale: either
    assert gi.best_screened({"0": _rec(1.6), "8": _rec(1.6)}) == 8.0


def test_the_decision_rule():
    assert gi.decide(_rec(2.0), _rec(2.1))["adopt"]
    tie = gi.decide(_rec(2.0), _rec(2.0))
    assert not tie["adopt"] and "a tie keeps the default" in tie["why"]
    assert not gi.decide(_rec(2.0), _rec(1.99))["adopt"]
    for bad, name in ((_rec(2.2, modalities=11), "modalities"), (_rec(2.2, rho=0.49), "rho"),
                      (_rec(2.2, hot=0.06), "frac_hot"), (_rec(2.2, quiet=0.2), "quiet")):
        d = gi.decide(_rec(2.0), bad)
        assert not d["adopt"] and name in d["why"] and not d["must_shows"][name]


@pytest.mark.realdata
def test_the_report_is_its_store_and_its_screen_reruns(real_connectome):
    """docs/glu_inhibition.md is written from its JSON; the best value and the decision are the design's; glu_scale
    1 is the record's stage-1 point (its J reproduced); the screen's best value and 0 rerun to the stored J."""
    from experiments.regenerate import fingerprint

    data = json.loads(DOC.with_suffix(".json").read_text())
    assert DOC.read_text() == gi._write(data)
    assert data["best"] == gi.best_screened(data["screen"])
    assert set(data["screen"]) == {f"{g:g}" for g in gi.GRID}
    if "decision" in data:
        assert data["decision"] == json.loads(json.dumps(gi.decide(data["variants"]["default"],
                                                                   data["variants"]["candidate"])))
    assert gi.reading(data) in DOC.read_text()
    if data["fingerprint"] == fingerprint():  # scored on the default model and findings of today
        assert data["screen"]["1"]["J"] == pytest.approx(gi.stage1_point()["J"], abs=1e-9)
        if "variants" in data:
            from models.neurons import larval_calibration

            assert data["variants"]["default"]["J"] == pytest.approx(larval_calibration()["mushroom_body"]["J"],
                                                                     abs=1e-9)
    for g in {data["best"], 0.0}:
        again = gi.screen_point(real_connectome, g)
        stored = data["screen"][f"{g:g}"]
        assert again["J"] == pytest.approx(stored["J"], abs=1e-9) and again["hits"] == stored["hits"], g
    counts = gi.glutamatergic(real_connectome)
    assert counts == data["glutamatergic"] and 0 < counts["glutamate"]["neurons"] < 68


def test_biology_md_lists_the_candidate(tmp_path):
    """docs/biology.md's candidate section quotes the report's reading; one scored on another default model is
    called stale."""
    from experiments.biology_report import candidates_section

    data = json.loads(DOC.with_suffix(".json").read_text())
    lines = "\n".join(candidates_section(ROOT / "docs"))
    assert gi.reading(data) in lines and lines in (ROOT / "docs" / "biology.md").read_text()
    data["model"] = "another"
    (tmp_path / "glu_inhibition.json").write_text(json.dumps(data))
    assert "`glu_inhibition.json` was scored on another default model" in "\n".join(candidates_section(tmp_path))


def test_a_report_of_other_findings_is_flagged(tmp_path):
    """A candidate scored on an earlier findings table (rows added or changed since) says so in docs/biology.md."""
    from experiments.biology_report import candidates_section
    from experiments.regenerate import fingerprint

    data = json.loads(DOC.with_suffix(".json").read_text())
    data["findings"] = "0000beef"
    (tmp_path / "glu_inhibition.json").write_text(json.dumps(data))
    text = "\n".join(candidates_section(tmp_path))
    assert f"Scored on the findings table `0000beef`, today's is `{fingerprint().split('-')[-1]}`" in text
    data["findings"] = fingerprint().split("-")[-1]
    (tmp_path / "glu_inhibition.json").write_text(json.dumps(data))
    assert "Scored on the findings table" not in "\n".join(candidates_section(tmp_path))


def test_a_report_older_than_a_table_change_says_so(tmp_path):
    """A candidate report scored before findings were added or revised (``added`` / ``revised.date`` after its
    ``date``) says that its held-out figures are of that day's table; one scored after says nothing."""
    from experiments.biology_report import _table_note

    assert _table_note({"date": "2099-01-01"}, "x") == ""
    text = _table_note({"date": "2026-12-04"}, "timing_rule")
    assert "Scored on 2026-12-04;" in text and "python -m experiments.timing_rule" in text
    assert _table_note({}, "x") == ""
