"""experiments.timing_rule: the fit's choice and reading (hand-made rows), the resumable store, and
docs/timing_rule.md reproduced at one point on the backward-timing finding (real data)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from experiments import timing_rule as tr

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "timing_rule.md"


def _row(factor, tau, fid, half, status, effect=0.0):
    return {"factor": factor, "tau_d_s": tau, "id": fid, "half": half, "expect": "decrease", "predicted": "x",
            "effect": effect, "se": 0.01, "status": status}


def _rows():
    rows = []
    grid = {(0.0, 1.0): ("hit", "miss", "miss"), (1.0, 1.0): ("hit", "hit", "hit"),
            (4.0, 1.0): ("miss", "hit", "hit"), (1.0, 10.0): ("hit", "hit", "miss")}
    for (k, t), (a, b, h) in grid.items():
        rows += [_row(k, t, "f-a", "calibration", a), _row(k, t, "f-b", "calibration", b),
                 _row(k, t, "f-h", "heldout", h), _row(k, t, "f-u", "heldout", "untestable")]
    return rows


def test_choose_takes_most_calibration_hits_then_the_rule_closest_to_the_default():
    rows = _rows()
    assert tr.choose(rows) == {"factor": 1.0, "tau_d_s": 1.0, "dopamine_trace": "set", "calibration_hits": 2,
                               "calibration_n": 2, "heldout_hits": 1, "heldout_n": 1}
    # an added dopamine trace at the same eta_b and tau_d ties: the set trace (the simpler rule) is chosen
    added = rows + [dict(r, dopamine_trace="add") for r in rows if r["factor"] == 1.0 and r["tau_d_s"] == 1.0]
    assert tr.choose(added)["dopamine_trace"] == "set"
    assert tr.choose([dict(r, dopamine_trace="add") if r["factor"] == 1.0 and r["tau_d_s"] == 1.0 else r
                      for r in rows])["dopamine_trace"] == "add"
    # the held-out half chooses nothing: a point that only gains held-out hits is not chosen
    more = [dict(r, status="hit") if r["id"] == "f-h" and r["factor"] == 0 else r for r in rows]
    more = [dict(r, status="miss") if r["id"] == "f-h" and r["factor"] == 1.0 else r for r in more]
    assert tr.choose(more)["factor"] == 1.0
    text = tr.reading(rows)
    assert "hits 1 of 2 calibration-half and 0 of 1 held-out" in text
    assert "eta_b = 1 x eta, tau_d = 1 s, the dopamine trace set" in text and "gains f-b (calibration), f-h (heldout)" in text
    assert "loses none" in text
    same = [dict(r, status=("hit" if r["id"] == "f-a" else "miss")) for r in rows]
    assert "keeps the default rule" in tr.reading(same)


def test_options_of_a_point():
    from brian2 import second

    from experiments.learning import EXPERIMENT_PARAMETERS

    eta = float(EXPERIMENT_PARAMETERS["eta"].value)
    assert tr.options(0.0, 1.0) == {"eta": eta}
    o = tr.options(4.0, 10.0, "add")
    assert o["eta_b"] == pytest.approx(4 * eta) and o["tau_d"] == 10 * second and o["w_max"] == tr.W_MAX
    assert o["dopamine_trace"] == "add" and tr.options(1.0, 1.0)["dopamine_trace"] == "set"


@pytest.mark.realdata
def test_the_report_is_reproduced_and_a_rerun_resumes(real_connectome, tmp_path):
    """One point besides the default, on the backward-timing finding, equals the stored rows of docs/timing_rule.json;
    a second report with one more point scores only that point (the first point's rows are kept as stored)."""
    doc = json.loads(DOC.with_suffix(".json").read_text())
    rows = doc["rows"]
    assert DOC.read_text().count(tr.reading(rows)) == 1
    assert doc["chosen"] == tr.choose(rows)
    readme = " ".join((ROOT / "README.md").read_text().split())  # the reading itself: tests/test_readme.py
    # the README's word on the held-out half: the chosen variant scores it as the default rule does
    base = tr.per_point(rows).iloc[0]
    assert "leaves the held-out score where it was" in readme
    assert doc["chosen"]["heldout_hits"] == base["heldout_hits"] and base["factor"] == 0
    # the Limits' word on a large eta_b: at eta_b = eta with an added trace the paired findings are lost
    status = {(r["id"], tr._point(r)): r["status"] for r in rows}
    for fid in ("learn-sch20-01", "learn-tho22-01", "learn-esc20-02"):
        assert status[(fid, (0.0, 1.0, "set"))] == "hit" and status[(fid, (1.0, 1.0, "add"))] == "miss", fid
    assert "at eta_b = eta with an added trace the paired findings are lost" in DOC.read_text()
    fid = "learn-tho22-02"
    out = tmp_path / "t.md"
    first = tr.report(out, real_connectome, grid=[(0.0, 1.0)], ids=[fid], curve=False)
    kept = json.loads(out.with_suffix(".json").read_text())["rows"]
    kept[0]["effect"] = 123.0  # marks the stored row: a resumed run must not rescore it
    data = json.loads(out.with_suffix(".json").read_text())
    data["rows"] = kept
    out.with_suffix(".json").write_text(json.dumps(data))
    chosen = doc["chosen"]
    point = (chosen["factor"], chosen["tau_d_s"], chosen["dopamine_trace"]) if chosen["factor"] else tr.GRID[-1]
    second = tr.report(out, real_connectome, grid=[(0.0, 1.0), point], ids=[fid], curve=False)
    assert len(first["rows"]) == 1 and len(second["rows"]) == 2 and second["rows"][0]["effect"] == 123.0
    # a stored timing curve of the same point is kept (only --rerun-curve reruns it)
    data = json.loads(out.with_suffix(".json").read_text())
    data["curve"] = [dict(r, lvi_mean=99.0) for r in doc["curve"]]
    data["curve_point"] = tr.curve_point(data["chosen"])
    out.with_suffix(".json").write_text(json.dumps(data))
    kept = tr.report(out, real_connectome, grid=[(0.0, 1.0), point], ids=[fid])
    assert all(r["lvi_mean"] == 99.0 for r in kept["curve"]) and "+99.000" in out.read_text()
    for new in [first["rows"][0], second["rows"][1]]:
        old = [r for r in rows if r["id"] == fid and tr._point(r) == tr._point(new)]
        assert len(old) == 1
        assert new["status"] == old[0]["status"]
        assert new["effect"] == pytest.approx(old[0]["effect"], rel=1e-9, abs=1e-12)


@pytest.mark.realdata
def test_the_timing_curve_is_reproduced(real_connectome):
    """The backward interval of docs/timing_rule.md's timing curve, both rules, rerun: the same rows; the
    figure exists; the reading is the document's; the variant's backward larvae move towards avoidance."""
    doc = json.loads(DOC.with_suffix(".json").read_text())
    curve, pt = doc["curve"], doc["curve_point"]
    assert DOC.read_text().count(tr.curve_reading(curve)) == 1
    assert (ROOT / "docs" / "figures" / "timing_rule" / "curve.png").stat().st_size > 10_000
    assert [r["interval_s"] for r in curve if r["rule"] == "default"] == [c[0] for c in tr.CURVE]
    fresh = tr.timing_curve(real_connectome, tr.options(pt["factor"], pt["tau_d_s"], pt["dopamine_trace"]),
                            intervals=[-1.0])
    old = [r for r in curve if r["interval_s"] == -1.0]
    assert [r["rule"] for r in fresh] == [r["rule"] for r in old] == ["default", "variant"]
    for a, b in zip(fresh, old):
        for k in ("lvi_mean", "lvi_sem", "lvi_p", "mbon_mean", "mbon_p"):
            assert a[k] == pytest.approx(b[k], rel=1e-9, abs=1e-12), (a["rule"], k)
    variant = fresh[1]
    assert variant["lvi_mean"] < 0 and variant["mbon_mean"] > 0  # the documented direction of the backward point
