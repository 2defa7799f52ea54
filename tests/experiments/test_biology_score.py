"""``larvasim validate --biology --table``: a model of the user's choice scored on the findings benchmark.

The command must give, finding for finding, what the full benchmark of docs/biology.md gives for the same
model and seed (docs/biology.json), whichever subset of findings it runs; its comparison must be the report's
paired comparison on the same findings; and findings of the user's own are scored in their own half.
"""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from experiments import biology, biology_score
from experiments.biology_report import versus
from larvasim.cli import main as cli_main

ROOT = Path(__file__).resolve().parents[2]
DOC = json.loads((ROOT / "docs" / "biology.json").read_text())
#: Cheap response / compare / silencing findings of both halves (no conditioning run): 8 findings, ~10 s.
IDS = "olf-asa09-*,vis-*,mb-esc21-05,endo-0[12]"


def _doc_table(model: str) -> pd.DataFrame:
    return pd.DataFrame(DOC["models"][model]["table"]).set_index("id")


def _check_against_doc(table: pd.DataFrame, model: str) -> pd.DataFrame:
    doc = _doc_table(model)
    scored = table[table["status"].isin(["hit", "miss"])].set_index("id")
    assert len(scored) >= 6
    for fid, row in scored.iterrows():
        assert row["half"] == doc.loc[fid, "half"], fid
        assert row["predicted"] == doc.loc[fid, "predicted"], fid
        assert row["status"] == doc.loc[fid, "status"], fid
        assert row["effect_hz"] == pytest.approx(doc.loc[fid, "effect_hz"], abs=1e-9), fid
        assert row["se_hz"] == pytest.approx(doc.loc[fid, "se_hz"], abs=1e-9), fid
    return scored


@pytest.mark.realdata
def test_a_subset_scores_as_the_full_benchmark_and_compares_as_the_report(real_data_dir, tmp_path, capsys):
    """--ids on the default model and on the adult one (named by its options, as a user would): each finding's
    effect, SE and verdict are docs/biology.json's; --compare gives versus() of the two documented tables on
    the same findings; the metadata says what was run."""
    larval, adult = tmp_path / "larval.csv", tmp_path / "adult.csv"
    common = ["validate", "--biology", "--data-dir", str(real_data_dir), "--ids", IDS, "--no-pairing"]
    assert cli_main(common + ["--table", str(larval)]) == 0
    assert cli_main(common + ["--table", str(adult), "--model", "current_lif", "--signs", "excitatory",
                              "--compare", str(larval)]) == 0
    out = capsys.readouterr().out
    t_l = _check_against_doc(pd.read_csv(larval), "larval")
    t_a = _check_against_doc(pd.read_csv(adult), "adult")
    # the comparison line of each half is the report's paired comparison restricted to these findings
    for half in biology.HALVES:
        ids = t_l.index[t_l["half"] == half]
        only_adult, only_larval, p = versus(_doc_table("adult").loc[ids].reset_index(),
                                            _doc_table("larval").loc[ids].reset_index(), half)
        assert (f"{half}: {int((t_a.loc[ids, 'status'] == 'hit').sum())} vs "
                f"{int((t_l.loc[ids, 'status'] == 'hit').sum())} of {len(ids)} right; {only_adult} right only "
                f"with this model, {only_larval} only with {larval} (exact McNemar p = {p:.2g})") in out
    k = int((t_l["status"] == "hit").sum())
    assert f"all: {k} of {len(t_l)} findings right" in out
    meta = json.loads(larval.with_suffix(".json").read_text())
    assert meta["network"]["model"]["model"] == "larval_lif" and meta["seed"] == 0
    assert meta["network"]["model"]["parameters"]["w_syn"]["source"]  # every parameter carries its source
    assert meta["findings_sha256"] == biology_score._sha256(biology.FINDINGS)
    assert meta["network"]["connectome"]["dataset"] == DOC["models"]["larval"]["description"]["connectome"][
        "dataset"]
    assert meta["command"][:3] == ["larvasim", "validate", "--biology"] and "--ids" in meta["command"]
    assert json.loads(adult.with_suffix(".json").read_text())["network"]["signs"]["policy"] == "excitatory"


@pytest.mark.realdata
def test_a_pairing_finding_alone_scores_as_in_the_full_benchmark(real_data_dir, tmp_path):
    """One conditioning finding run alone (its US's conditioning run no longer shared with other findings)
    gives docs/biology.json's learned-valence effect; --learning reaches the plasticity rule (given here at
    the default learning rate, so the result must not move) and is recorded."""
    from experiments.learning import EXPERIMENT_PARAMETERS

    eta = float(EXPERIMENT_PARAMETERS["eta"].value)
    out = tmp_path / "p.csv"
    assert cli_main(["validate", "--biology", "--data-dir", str(real_data_dir), "--ids", "learn-sch20-01",
                     "--learning", f"eta={eta!r}", "--table", str(out)]) == 0
    t = pd.read_csv(out).set_index("id")
    doc = _doc_table("larval")
    assert t.loc["learn-sch20-01", "status"] == doc.loc["learn-sch20-01", "status"]
    assert t.loc["learn-sch20-01", "effect_hz"] == pytest.approx(doc.loc["learn-sch20-01", "effect_hz"], abs=1e-12)
    assert json.loads(out.with_suffix(".json").read_text())["learning_options"] == {"eta": eta}
    # and it does reach the rule: at four times the learning rate the effect is another one
    import connectomes
    import sim

    net = sim.Network(connectomes.load("winding2023", data_dir=real_data_dir), device="numba")
    faster = biology_score.score_model(net, ids=["learn-sch20-01"], learning_options={"eta": 4 * eta})
    # the same finding at 4 x the rate is docs/biology_learning_rate.json's row (the scan runs score_model alike),
    # and another effect than at the calibrated rate (the option reaches the rule)
    scan = json.loads((ROOT / "docs" / "biology_learning_rate.json").read_text())
    row = next(r for r in scan["rows"] if r["id"] == "learn-sch20-01" and r["factor"] == 4.0)
    got = float(faster.table["effect_hz"].iloc[0])
    assert got == pytest.approx(row["effect"], abs=1e-9)
    assert abs(got - doc.loc["learn-sch20-01", "effect_hz"]) > 1e-3


@pytest.mark.realdata
def test_findings_of_ones_own_are_scored_unsplit(real_connectome, tmp_path):
    """A findings file of the user's own: a shipped finding copied under a new paper is 'unsplit' and gets the
    shipped finding's prediction (same conditions, same seed); a row whose neurons the connectome lacks is
    untestable, not a crash."""
    import sim

    shipped = {f.id: f for f in biology.load_findings()}
    src = shipped["olf-asa09-02"]
    text = biology.FINDINGS.read_text()
    start = text.index('id = "olf-asa09-02"')
    block = text[text.rindex("[[finding]]", 0, start):text.index("[[finding]]", start)]
    mine = block.replace('id = "olf-asa09-02"', 'id = "mine-01"').replace(f'paper = "{src.paper}"',
                                                                          'paper = "Me 2026"')
    absent = mine.replace('id = "mine-01"', 'id = "mine-02"')
    for field in ("stimulus", "background", "readout"):
        absent = "\n".join(f'{field} = {{ name = "no such neuron*" }}' if ln.startswith(f"{field} =") else ln
                           for ln in absent.splitlines())
    path = tmp_path / "mine.toml"
    path.write_text(mine + "\n" + absent + "\n")
    net = sim.Network(real_connectome, device="numba")
    sc = biology_score.score_model(net, path)
    t = sc.table.set_index("id")
    assert t.loc["mine-01", "half"] == t.loc["mine-02", "half"] == biology_score.UNSPLIT
    doc = _doc_table("larval")
    assert t.loc["mine-01", "status"] == doc.loc["olf-asa09-02", "status"]
    assert t.loc["mine-01", "effect_hz"] == pytest.approx(doc.loc["olf-asa09-02", "effect_hz"], abs=1e-9)
    assert t.loc["mine-02", "status"] == "untestable" and "no such neuron" in t.loc["mine-02", "reason"]
    assert "unsplit: " in biology_score.summary(sc.table)


def test_id_patterns_select_and_a_typo_is_named():
    findings = biology.load_findings()
    chosen = biology_score.select_findings(findings, ["vis-*", "endo-01"])
    assert [f.id for f in chosen] == [f.id for f in findings if f.id.startswith("vis-") or f.id == "endo-01"]
    assert biology_score.select_findings(findings, []) == findings
    with pytest.raises(biology.FindingsError, match="'vis-99'"):
        biology_score.select_findings(findings, ["vis-*", "vis-99"])


def test_summary_and_comparison_count_hits_per_half():
    """Hand-made tables: accuracy per half with its Wilson interval; the comparison counts discordant findings."""
    a = pd.DataFrame({"id": list("abcde"), "half": ["calibration", "calibration", "heldout", "heldout", "heldout"],
                      "status": ["hit", "miss", "hit", "hit", "untestable"], "expect": ["increase"] * 5,
                      "predicted": ["increase", "no_change", "increase", "increase", ""]})
    b = a.assign(status=["hit", "hit", "miss", "miss", "untestable"])
    text = biology_score.summary(a)
    assert "calibration: 1 of 2 findings right (50 %" in text and "heldout: 2 of 2 findings right (100 %" in text
    assert "all: 3 of 4 findings right (75 %" in text and "1 untestable" in text
    assert "misses: b (expected increase, predicted no_change)" in text
    cmp = biology_score.compare_reading(a, b, "A", "B")
    assert "on the 4 findings both scored" in cmp
    assert "heldout: 2 vs 0 of 2 right; 2 right only with A, 0 only with B" in cmp
    assert "calibration: 1 vs 2 of 2 right; 0 right only with A, 1 only with B" in cmp
    assert "all: 3 vs 2 of 4 right; 2 right only with A, 1 only with B (exact McNemar p = 1)" in cmp
    assert "no finding was scored in both" in biology_score.compare_reading(a, b.assign(status="untestable"))


@pytest.mark.realdata
def test_a_shuffled_connectome_scores_as_the_null_control(real_data_dir, tmp_path, capsys):
    """--shuffle 0 scores on shuffle 0 of docs/biology_null.md: the same verdicts and effects finding for finding,
    and the metadata names the null model and its seed; a negative seed is a one-line error."""
    from experiments.biology_null import RERUN_IDS

    null = json.loads((ROOT / "docs" / "biology_null.json").read_text())
    stored = {r["id"]: r for r in null["brains"]["0"]["rows"]}
    out = tmp_path / "shuffled.csv"
    assert cli_main(["validate", "--biology", "--data-dir", str(real_data_dir), "--ids", ",".join(RERUN_IDS),
                     "--table", str(out), "--shuffle", "0"]) == 0
    assert "connectome shuffled (degree-preserving, seed 0)" in capsys.readouterr().out
    t = pd.read_csv(out).set_index("id")
    assert sorted(t.index) == sorted(RERUN_IDS)
    for fid, row in t.iterrows():
        assert row["status"] == stored[fid]["status"], fid
        assert row["effect_hz"] == pytest.approx(stored[fid]["effect_hz"], abs=1e-9), fid
    meta = json.loads(out.with_suffix(".json").read_text())
    assert meta["network"]["connectome"]["null_model"]["seed"] == 0
    assert "--shuffle" in meta["command"]
    assert cli_main(["validate", "--biology", "--table", str(tmp_path / "x.csv"), "--shuffle", "-1"]) != 0
    err = capsys.readouterr().err
    assert "--shuffle -1" in err and "Traceback" not in err


def test_the_printed_model_line_names_the_overrides_that_reach_the_run(toy, tmp_path, capsys):
    """``--set`` overrides are printed with the model and reach the network the run stores: a candidate factor
    (glu_scale) too, with its source."""
    from larvasim.cli import main as cli

    out = tmp_path / "t.csv"
    assert cli(["validate", "--biology", "--table", str(out), "--data-dir", str(toy.path), "--no-verify",
                "--no-pairing", "--ids", "olf-asa09-*", "--set", "glu_scale=0.5", "--set", "inh_scale=2"]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first.startswith("model: larval_lif (glu_scale=0.5, inh_scale=2), signs: literature")
    # the default model's weak-connection threshold is said too, when it has one
    import models

    p = models.get_model().parameters
    f = float(p["min_input_fraction"].value) if "min_input_fraction" in p else 0.0
    assert (f", connections < {100 * f:.3g} % of the target's input left out; seed 0" in first) == (f > 0), first
    params = json.loads(out.with_suffix(".json").read_text())["network"]["model"]["parameters"]
    assert params["glu_scale"]["value"] == 0.5 and "user override" in params["glu_scale"]["source"]
    assert params["inh_scale"]["value"] == 2
