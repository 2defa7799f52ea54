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
    assert "keeps the depression-only rule" in tr.reading(same)


def test_options_of_a_point():
    from brian2 import second

    from experiments.calibrate import depression_only_values

    eta = depression_only_values()["eta"]
    assert tr.options(0.0, 1.0)["eta"] == eta and tr.options(0.0, 1.0)["eta_b"] == 0.0
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


def test_stage_two_runs_the_variant_with_the_constants_of_the_grid():
    """The rule stage 2 is scored with (calibrate.rule_options of rule_of) is the grid point's plasticity constants
    (timing_rule.options) at the calibrated eta, and at another eta eta_b follows it; the default rule is eta
    spelled out (eta_b 0, ceiling 1); a rule with other constants is an error that names them."""
    from brian2 import second

    from experiments import calibrate

    eta = calibrate.depression_only_values()["eta"]
    for point in ({"factor": 1 / 64, "tau_d_s": 10.0, "dopamine_trace": "add"},
                  {"factor": 4.0, "tau_d_s": 1.0, "dopamine_trace": "set"}):
        rule = tr.rule_of(point)
        assert calibrate.rule_options(eta, rule) == tr.options(point["factor"], point["tau_d_s"],
                                                                point["dopamine_trace"])
        assert calibrate.rule_options(2 * eta, rule)["eta_b"] == pytest.approx(2 * eta * point["factor"])
    assert calibrate.rule_options(eta) == tr.options(0.0, 1.0) == {
        "eta": eta, "eta_b": 0.0, "tau_d": 1 * second, "w_max": 1.0, "dopamine_trace": "set"}
    with pytest.raises(ValueError, match="rule_eta_b_factor"):
        calibrate.rule_options(eta, {"eta_b": 0.1})


def _stage2(as_is, refit, control, default=2.0):
    met = {"DAN-i1": {"met": True}, "DAN-g1": {"met": False}}
    pt = lambda J, n: {"J": J, "J2": J - 0.25, "hits_by_seed": {"1": ["x"] * n, "2": ["x"] * n},  # noqa: E731
                       "learning_must_show_by_seed": {"1": met, "2": met}}
    best = {"mbon_gain": 1.5, "mbin_gain": 0.2, "eta": 0.02}
    better = "as_is" if as_is >= refit else "refit"
    adopt = as_is > default if better == "as_is" else (refit > default and refit > control)
    return {"stage2": {"rule": tr.rule_of({"factor": 1 / 64, "tau_d_s": 10.0, "dopamine_trace": "add"}),
                       "best": best, "record": {"J": refit, "n_evaluations": 24},
                       "points": [dict(pt(refit, 15), values=best, stage=2)], "default": pt(default, 14),
                       "as_is": pt(as_is, 15), "control": pt(control, 13), "better": better, "adopt": adopt,
                       "heldout": {"hits": 12, "n": 23, "hit_ids": ["mb-esc21-01"]}, "heldout_point": better}}


def test_the_stage_two_reading_follows_its_decision():
    """The reading gives the variant as it is, refitted, and its control against the default rule, and calls the
    variant a candidate only when the decision says so; the table lists the default, the variant, the control and
    every refit point; no result, no reading."""
    assert tr.stage2_reading({}) == "" and tr._stage2_lines({}) == []
    no = tr.stage2_reading(_stage2(1.95, 1.99, 1.9))
    assert "scores 1.950 at the depression-only model's stage-2 point (15.0 calibration findings" in no
    assert "against the depression-only rule's 2.000 (14.0)" in no and "reaches 1.990 (15.0; mbon_gain 1.5" in no
    assert "the default keeps the depression-only rule" in no and "refit's best point the model hits 12 of 23" in no
    s2 = _stage2(2.1, 2.0, 1.9)
    yes = tr.stage2_reading(s2)
    assert "the variant is a candidate for the default model" in yes and "the default's point the model" in yes
    # once the calibration record is the refit's (rule and stage-2 parameters), the reading says it was adopted
    cal = {"mushroom_body": {"rule": s2["stage2"]["rule"],
                             "parameters": {k: {"value": v} for k, v in s2["stage2"]["best"].items()}}}
    assert tr.adopted(s2["stage2"], cal) and not tr.adopted(s2["stage2"], {"mushroom_body": {}})
    assert tr.adopted(s2["stage2"]) == ("became the default model" in yes)
    assert "the variant became the default model at the refit's best point (" in tr.stage2_reading(s2, cal)
    # a later refit (same rule, other parameters) keeps the refit among the record's previous points
    later = {"mushroom_body": {"rule": s2["stage2"]["rule"],
                               "parameters": {k: {"value": 2 * v} for k, v in s2["stage2"]["best"].items()},
                               "previous": {"parameters": cal["mushroom_body"]["parameters"]}}}
    assert tr._adopted_point(s2["stage2"], later) == 1
    assert "have since been refitted" in tr.stage2_reading(s2, later)
    other_rule = {"mushroom_body": {**later["mushroom_body"], "rule": {"rule_tau_d_s": 99.0}}}
    assert not tr.adopted(s2["stage2"], other_rule) and "is a candidate" in tr.stage2_reading(s2, other_rule)
    assert "the default keeps" in tr.stage2_reading(_stage2(1.9, 2.2, 2.3))  # the control does better
    lines = "\n".join(tr._stage2_lines(_stage2(1.95, 1.99, 1.9)))
    assert "| its point, variant | default | default | default | 15.00 | 2, 0 | 1.700 | 1.950 |" in lines
    assert "| refit stage 2 | 1.5 | 0.2 | 0.02 | 15.00 | 2, 0 | 1.740 | 1.990 |" in lines
    # the held-out hits after the decision, against the default model of docs/biology.md
    assert "Held-out half after the decision, against the default model of docs/biology.md (" in lines
    assert "and gains none." in lines or "and gains mb-esc21-01." in lines


@pytest.mark.realdata
def test_the_variant_on_stage_twos_objective_is_reproduced(real_connectome):
    """docs/timing_rule.md's stage-2 section is its JSON's: the rule is the fit's choice; the default's J3 is that of
    docs/kc_sparseness.json's default point; the refit is the designed search and its best is the best of its
    points; the decision follows the rule fixed before. The variant's calibration hits at the default's point, at
    the first seed, are rerun and equal the stored ones."""
    from experiments import biology, calibrate
    from experiments.kc_sparseness import base_values, point_key

    doc = json.loads(DOC.with_suffix(".json").read_text())
    s2 = doc["stage2"]
    assert DOC.read_text().count(tr.stage2_reading(doc)) == 1
    assert s2["rule"] == tr.rule_of(doc["chosen"])
    kc = json.loads((ROOT / "docs" / "kc_sparseness.json").read_text())
    assert s2["default"]["J"] == kc["points"][point_key(1.0, 1.0)]["J"]
    rec = s2["record"]
    assert rec["n_evaluations"] == len(s2["points"]) == sum(calibrate.MB_POINTS) and rec["rule"] == s2["rule"]
    best = max(s2["points"], key=lambda p: p["J"])
    assert best["values"] == s2["best"] and best["J"] == pytest.approx(rec["J"])
    better = "as_is" if s2["as_is"]["J"] >= rec["J"] else "refit"
    d = s2["default"]["J"]
    assert s2["better"] == better and s2["adopt"] == bool(
        s2["as_is"]["J"] > d if better == "as_is" else rec["J"] > d and rec["J"] > s2["control"]["J"])
    base, types = base_values()
    findings = biology.load_findings()
    split = biology.load_split(findings=findings)
    again = calibrate.evaluate(real_connectome, base, findings=findings, split=split, cascades=None, seed=1,
                               synapse_types=types, sanity_summary=s2["as_is"]["sanity"], rule=s2["rule"])
    assert sorted(again["hits"]) == sorted(s2["as_is"]["hits_by_seed"]["1"])
