"""experiments.edge_threshold: the best threshold and the decision fixed before the run follow from the records;
the report is its JSON's, and its searches' best points rerun on the real data."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from experiments import edge_threshold as et

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "edge_threshold.md"


def _rec(j, modalities=12, rho=0.7, hot=0.002, quiet=0.0):
    return {"J": j, "sanity": {"modalities_reaching": modalities, "rho": rho, "all_frac_hot": hot,
                               "quiet_hz": quiet}}


def test_the_grid_starts_at_the_default_and_doubles():
    assert et.GRID[0] == 0 and et.GRID[1] == 0.005
    assert [b / a for a, b in zip(et.GRID[1:], et.GRID[2:])] == pytest.approx([2.0] * (len(et.GRID) - 2))


def test_the_best_threshold_is_the_best_j_and_a_tie_goes_to_the_smaller():
    step1 = {"0": {"best": _rec(1.6)}, "0.005": {"best": _rec(1.7)}, "0.01": {"best": _rec(1.7)}}
    assert et.best_threshold(step1) == 0.005
    step1["0"] = {"best": _rec(1.7000001)}  # equal to 6 decimals: the smaller threshold, the default
    assert et.best_threshold(step1) == 0.0
    assert et.best_threshold({"0": {"best": _rec(1.0)}, "0.04": {"best": _rec(1.2)}}) == 0.04


def test_the_decision_rule():
    assert et.decide(2.0, _rec(2.1))["adopt"]
    tie = et.decide(2.0, _rec(2.0))
    assert not tie["adopt"] and "a tie keeps the default" in tie["why"]
    assert not et.decide(2.0, _rec(1.9))["adopt"]
    for bad, name in ((_rec(2.2, modalities=11), "modalities"), (_rec(2.2, rho=0.49), "rho"),
                      (_rec(2.2, hot=0.06), "frac_hot"), (_rec(2.2, quiet=0.2), "quiet")):
        d = et.decide(2.0, bad)
        assert not d["adopt"] and name in d["why"] and not d["must_shows"][name]


@pytest.mark.realdata
def test_the_report_is_its_store_and_its_best_points_rerun(real_connectome):
    """docs/edge_threshold.md is written from its JSON; the best threshold and the decision are the design's; the
    default's stage-1 point reproduces the record's J; the best point of the best threshold's search reruns to its
    stored J and hits; the connection counts are the connectome's."""
    from experiments import biology, calibrate, sanity
    from experiments.regenerate import fingerprint

    data = json.loads(DOC.with_suffix(".json").read_text())
    assert DOC.read_text() == et._write(data)
    assert set(data["stage1"]) == {et._k(f) for f in et.GRID}
    assert data["best"] == et.best_threshold(data["stage1"])
    if "decision" in data:
        assert data["decision"] == json.loads(json.dumps(et.decide(data["default_J3"], data["stage2"])))
    assert et.reading(data) in DOC.read_text()
    if data["fingerprint"] == fingerprint():  # scored on the default model and findings of today
        assert data["stage1"]["0"]["best"]["J"] == pytest.approx(et.stage1_point()["J"], abs=1e-9)
    assert et.connections(real_connectome, et.stage1_point()["synapse_types"]) == data["connections"]
    f = data["best"] or max((g for g in et.GRID if g), key=lambda g: data["stage1"][et._k(g)]["best"]["J"])
    stored = data["stage1"][et._k(f)]["best"]
    findings = biology.load_findings()
    again = calibrate.evaluate(real_connectome, {**stored["values"], "min_input_fraction": float(f)},
                               findings=findings, split=biology.load_split(findings=findings),
                               cascades=sanity.cascade_hits(real_connectome, [m for m in real_connectome.modalities
                                                                              if m != "unknown"]),
                               seed=data["seed"], synapse_types=et.stage1_point()["synapse_types"])
    assert again["J"] == pytest.approx(stored["J"], abs=1e-9) and again["hits"] == stored["hits"]


def test_adopt_writes_the_record_the_decision_asks_for():
    """adopt() turns the report's decision into the calibration record: the threshold among the stage-1 parameters
    (its search's best point, whose other values must be the record's), stage 2 the refit (the replaced point kept
    as ``previous``), and how it was chosen; a report that does not adopt, or a stage-1 point that moved, is an
    error, not a record."""
    import copy

    from models.neurons import larval_calibration

    data = json.loads(DOC.with_suffix(".json").read_text())
    cal = larval_calibration()
    if cal.get("edge_threshold"):  # already adopted: the record is what adopt() wrote from this report
        assert cal["parameters"]["min_input_fraction"]["value"] == data["best"]
        assert cal["mushroom_body"]["parameters"] == data["stage2"]["parameters"]
        cal = copy.deepcopy(cal)
        del cal["parameters"]["min_input_fraction"]
        del cal["edge_threshold"]
        cal["mushroom_body"] = {**cal["mushroom_body"]["previous"], "date": cal["mushroom_body"]["previous"]["date"]}
    if not data.get("decision", {}).get("adopt"):
        with pytest.raises(ValueError, match="does not adopt"):
            et.adopt(data, cal)
        return
    new = et.adopt(data, cal)
    assert new["parameters"]["min_input_fraction"] == {"value": data["best"], "unit": "1"}
    assert new["J"] == data["stage1"][et._k(data["best"])]["best"]["J"]
    assert new["mushroom_body"]["parameters"] == data["stage2"]["parameters"]
    assert new["mushroom_body"]["previous"]["parameters"] == cal["mushroom_body"]["parameters"]
    assert new["edge_threshold"]["value"] == data["best"] and set(new["edge_threshold"]["J_by_threshold"]) == set(
        data["stage1"])
    assert {k: v for k, v in new.items() if k not in ("parameters", "J", "calibration_accuracy", "sanity",
                                                       "edge_threshold", "mushroom_body")} == {
        k: v for k, v in cal.items() if k not in ("parameters", "J", "calibration_accuracy", "sanity",
                                                  "edge_threshold", "mushroom_body")}
    text = et.adopted_text(new, data)
    assert f"less than {et._pct(data['best'])} of its target's input synapses" in text
    assert et.adopted_text(cal, data) == ""
    moved = copy.deepcopy(cal)
    moved["parameters"]["w_syn"]["value"] *= 1.01
    with pytest.raises(ValueError, match="stage 1 itself would change"):
        et.adopt(data, moved)
    with pytest.raises(ValueError, match="does not adopt"):
        et.adopt({**data, "decision": {**data["decision"], "adopt": False}}, cal)


def test_biology_md_says_whether_the_threshold_is_adopted(tmp_path):
    """docs/biology.md's candidate section quotes the report's reading, and while the record does not carry an
    adopted threshold it says so."""
    from experiments.biology_report import candidates_section
    from models.neurons import larval_calibration

    data = json.loads(DOC.with_suffix(".json").read_text())
    (tmp_path / "edge_threshold.json").write_text(json.dumps(data))
    lines = "\n".join(candidates_section(tmp_path))
    from experiments.runs import default_model_key

    if data["model"] == default_model_key():
        assert et.reading(data) in lines
    pending = data["decision"]["adopt"] and not larval_calibration().get("edge_threshold")
    assert ("Not adopted yet" in lines) == pending
    # once adopted from this report, biology.md quotes it (scored on the model before it) and says so
    adopted = (larval_calibration().get("edge_threshold") or {}).get("value") == data["best"]
    assert ("Adopted on" in lines and et.reading(data) in lines) == adopted


def test_the_adopt_command_writes_the_packaged_record(tmp_path, capsys):
    """``python -m experiments.edge_threshold --adopt --record R`` rewrites the record R it was decided on into the
    packaged one, byte for byte; run again it refuses (already adopted) and leaves R as it is; a report that
    does not adopt, or a missing report, is a one-line error and nothing is written."""
    import copy

    from models.neurons import larval_calibration

    data = json.loads(DOC.with_suffix(".json").read_text())
    cal = larval_calibration()
    if not (data.get("decision") or {}).get("adopt") or not cal.get("edge_threshold"):
        pytest.skip("the packaged record carries no threshold adopted from docs/edge_threshold.json")
    packaged = (Path(et.__file__).parents[1] / "models" / "data" / "larval_calibration.json").read_text()
    before = copy.deepcopy(cal)  # the record as it was before the adoption (adopt() keeps what it replaces)
    del before["parameters"]["min_input_fraction"], before["edge_threshold"]
    before["mushroom_body"] = {k: v for k, v in cal["mushroom_body"]["previous"].items() if k != "note"}
    rec = tmp_path / "record.json"
    # adopt() replaces J, accuracy, sanity and stage 2 wholesale, so what stood there before does not matter
    rec.write_text(json.dumps({**before, "mushroom_body": {**before["mushroom_body"],
                                                           "depression_only": cal["mushroom_body"]["depression_only"]}},
                              indent=1))
    assert et.main(["--adopt", "--record", str(rec), "--out", str(DOC)]) == 0
    assert rec.read_text() == packaged
    assert et.main(["--adopt", "--record", str(rec), "--out", str(DOC)]) == 2
    assert "already carries a weak-connection threshold" in capsys.readouterr().err
    assert rec.read_text() == packaged
    no = tmp_path / "no.json"
    no.write_text(json.dumps({**data, "decision": {**data["decision"], "adopt": False}}))
    rec.write_text(json.dumps(before))
    assert et.main(["--adopt", "--record", str(rec), "--out", str(tmp_path / "no.md")]) == 2
    assert "does not adopt" in capsys.readouterr().err and rec.read_text() == json.dumps(before)
    assert et.main(["--adopt", "--record", str(rec), "--out", str(tmp_path / "missing.md")]) == 2
    assert "missing.json" in capsys.readouterr().err
