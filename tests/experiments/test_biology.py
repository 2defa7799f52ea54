"""Biology benchmark: the findings table, the scorer, the split, the calibration and the report."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from brian2 import mV

import connectomes
import models
import sim
from experiments import biology, calibrate
from models.parameters import parse_unit

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def toyc(tmp_path, fresh_cache):
    """The toy brain without unannotated neurons (they connect to everything): its wiring is known."""
    from connectomes.synthetic import write_winding_format

    toy = write_winding_format(tmp_path / "toy", seed=1, n_unannotated=0)
    return connectomes.load("winding2023", data_dir=toy.path, verify=False)


def _write(tmp_path, text: str, name="findings.toml") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


ROW = '''
[[finding]]
id = "{id}"
circuit = "{circuit}"
paper = "{paper}"
citation = "Someone A (2020) A paper. J Test 1:1"
doi = "10.0000/test"
figure = "Fig. 1"
finding = "what was measured"
test = "{test}"
{sel}
expect = "{expect}"
testable = true
'''


def _row(id, test, sel, expect, paper="P1 2020", circuit="olfactory"):
    return ROW.format(id=id, test=test, sel=sel, expect=expect, paper=paper, circuit=circuit)


TOY_FINDINGS = "".join([
    # sensory drive excites the PNs (toy wiring: sensory -> PN)
    _row("t-up", "response", 'stimulus = { modality = "olfactory" }\nreadout = { celltype = "PN" }', "increase",
         paper="P1 2020"),
    # the opposite claim must be scored a miss
    _row("t-wrong", "response", 'stimulus = { modality = "olfactory" }\nreadout = { celltype = "PN" }', "decrease",
         paper="P2 2021"),
    # silencing the PNs removes the KCs' odour response (PN -> KC is their only sensory path)
    _row("t-silence", "silencing", 'stimulus = { modality = "olfactory" }\nsilence = { celltype = "PN" }\n'
         'readout = { celltype = "KC" }', "decrease", paper="P3 2022", circuit="mushroom_body"),
    # ascending neurons get no input in the toy brain: no change when the olfactory neurons are driven
    _row("t-none", "response", 'stimulus = { modality = "olfactory" }\nreadout = { celltype = "ascending" }',
         "no_change", paper="P4 2023", circuit="gustatory"),
    _row("t-cmp", "compare", 'stimulus = { modality = "olfactory" }\nreadout = { celltype = "PN" }\n'
         'readout_b = { celltype = "ascending" }', "greater", paper="P4 2023", circuit="gustatory"),
    # a neuron the data do not have: untestable, not a crash
    _row("t-absent", "response", 'stimulus = { name = "Basin-*" }\nreadout = { celltype = "PN" }', "increase",
         paper="P5 2024", circuit="nociceptive"),
])


# --------------------------------------------------------------------------------- table
def test_findings_table_errors_name_file_finding_and_field(tmp_path):
    good = _row("a", "response", 'stimulus = { modality = "olfactory" }\nreadout = { celltype = "PN" }', "increase")
    cases = [
        (good.replace('figure = "Fig. 1"\n', ""), r"finding 1 \(id 'a'\): missing field\(s\) figure"),
        (good.replace('testable = true', 'testable = true\ncolour = "red"'), r"unknown field\(s\) colour"),
        (good.replace('test = "response"', 'test = "tickle"'), r"field 'test': 'tickle' is not one of"),
        (good.replace('expect = "increase"', 'expect = "greater"'), r"field 'expect': 'greater'.*response test"),
        (good.replace('readout = { celltype = "PN" }\n', ""), r"a response test needs the field\(s\) readout"),
        (good.replace('expect = "increase"', 'expect = "increase"\nrate = "fast"'), r"field 'rate'"),
        (good.replace('expect = "increase"', 'expect = "increase"\nrate = "20 ms"'), r"must be a positive rate"),
        (good + good, r"finding 2 \(id 'a'\): id 'a' is used by finding 1"),
        (good.replace('testable = true', 'testable = false'), r"untestable finding must say why"),
        (good.replace('expect = "increase"', 'expect = "increase"\nprotocol = "backward"'),
         r"field 'protocol': 'backward' is not one of .*pairing tests only"),
        (good.replace('test = "response"', 'test = "pairing"').replace(
            'expect = "increase"', 'expect = "increase"\nus = { name = "DAN-i1" }\nprotocol = "forward"'),
         r"field 'protocol': 'forward' is not one of paired, unpaired, trace, backward"),
        (good.replace('testable = true', 'testable = true\ntestable_since = "4 Dec 2026"'),
         r"field 'testable_since': must be a date written YYYY-MM-DD"),
        ("[[finding]\nid = 1", r"not valid TOML"),
    ]
    for k, (text, pattern) in enumerate(cases):
        path = _write(tmp_path, text, f"f{k}.toml")
        with pytest.raises(biology.FindingsError, match=pattern) as err:
            biology.load_findings(path)
        assert str(path) in str(err.value)


def test_findings_that_became_testable_after_the_fit_are_named_with_the_accuracy_without_them():
    """A finding whose testable_since is later than the calibration record is one no fit ran: the summary names
    it, with its half's accuracy without it; one testable since before the record, or none, gives no line."""
    from experiments.biology_report import late_testable_reading

    table = [{"id": i, "half": h, "status": st} for i, h, st in
             (("a", "calibration", "hit"), ("b", "calibration", "miss"), ("c", "calibration", "hit"),
              ("d", "heldout", "hit"), ("e", "calibration", "untestable"))]
    cal = {"date": "2026-12-01", "mushroom_body": {"date": "2026-12-02"}}
    fs = [{"id": "a"}, {"id": "b", "testable_since": "2026-12-04"}, {"id": "c", "testable_since": "2026-12-02"},
          {"id": "d"}, {"id": "e", "testable_since": "2026-12-05"}]
    line = late_testable_reading({"table": table}, fs, cal)
    assert line.startswith("* **Findings the fit never ran:** b (calibration, miss) became testable on 2026-12-04")
    assert "record of 2026-12-02" in line and "Calibration half without them: 2 of 2 (100 %)." in line
    assert "Held-out" not in line
    assert late_testable_reading({"table": table}, [{"id": "b", "testable_since": "2026-12-02"}], cal) == ""


def test_unknown_selection_key_is_an_error_naming_the_field(toyc, tmp_path):
    text = _row("k", "response", 'stimulus = { colour = "blue" }\nreadout = { celltype = "PN" }', "increase")
    fs = biology.load_findings(_write(tmp_path, text))
    net = sim.Network(toyc, device="numba")
    with pytest.raises(biology.FindingsError, match=r"id 'k'.*field 'stimulus'.*unknown selection key\(s\) colour"):
        biology.score(net, fs, split={"P1 2020": "calibration"})


def test_unknown_cell_type_or_modality_is_an_error_with_close_matches(toyc, tmp_path):
    """A value outside the dataset's vocabulary (cell type, modality, side) is a typo in the table:
    an error naming the finding, the field and the close matches; an unknown neuron *name* is a
    neuron absent from the data (untestable, test above)."""
    net = sim.Network(toyc, device="numba")
    for field, spec, close in (("readout", 'celltype = "PNs"', "PN"), ("stimulus", 'modality = "olfactroy"',
                                                                       "olfactory")):
        sel = {"stimulus": 'modality = "olfactory"', "readout": 'celltype = "PN"'}
        sel[field] = spec
        text = _row("typo", "response", "\n".join(f"{k} = {{ {v} }}" for k, v in sel.items()), "increase")
        fs = biology.load_findings(_write(tmp_path, text))
        with pytest.raises(biology.FindingsError, match=rf"id 'typo'.*field '{field}'.*Close matches: {close}"):
            biology.score(net, fs, split={"P1 2020": "calibration"})


def test_split_is_by_paper_deterministic_and_balanced(tmp_path):
    fs = biology.load_findings(_write(tmp_path, TOY_FINDINGS))
    s1, s2 = biology.make_split(fs, seed=3), biology.make_split(fs, seed=3)
    assert s1 == s2 and set(s1) == {f.paper for f in fs}
    assert set(s1.values()) == {"calibration", "heldout"}
    path = biology.write_split(s1, tmp_path / "split.csv")
    assert biology.load_split(path, findings=fs) == s1
    with pytest.raises(biology.FindingsError, match=r"no half for the paper\(s\) P5 2024"):
        biology.load_split(biology.write_split({p: h for p, h in s1.items() if p != "P5 2024"},
                                               tmp_path / "short.csv"), findings=fs)


def test_split_rounds_keep_later_papers_held_out(tmp_path):
    """Papers that join the split after round 1 (after the model was fitted) must be held out; the
    round of every paper is read back, a split without the column is round 1 throughout, and a bad
    round or a late paper in the calibration half is an error naming the file, row and column."""
    fs = biology.load_findings(_write(tmp_path, TOY_FINDINGS))
    s1 = biology.make_split(fs, seed=3)
    late = next(p for p, h in sorted(s1.items()) if h == "heldout")
    path = biology.write_split(s1, tmp_path / "split.csv", rounds={late: 2})
    assert biology.load_split(path, findings=fs) == s1
    assert biology.load_rounds(path) == {p: (2 if p == late else 1) for p in s1}
    assert set(biology.load_rounds(biology.write_split(s1, tmp_path / "plain.csv")).values()) == {1}
    cal = next(p for p, h in sorted(s1.items()) if h == "calibration")
    bad = biology.write_split(s1, tmp_path / "bad.csv", rounds={cal: 2})
    row = sorted(s1).index(cal) + 2
    with pytest.raises(biology.FindingsError, match=rf"bad.csv, row {row}: paper '{cal}' joined the split after round 1"):
        biology.load_split(bad)
    (tmp_path / "odd.csv").write_text("paper,half,round\nP1 2020,heldout,two\n")
    with pytest.raises(biology.FindingsError, match=r"odd.csv, row 2, column 'round': 'two' is not a positive"):
        biology.load_rounds(tmp_path / "odd.csv")
    # the shipped split: round 1 is the split made before any fitting; every later paper is held out
    shipped, halves = biology.load_rounds(), biology.load_split()
    assert set(shipped.values()) <= set(biology.ROUNDS) and 1 in shipped.values()
    assert all(halves[p] == "heldout" for p, r in shipped.items() if r > 1)


def test_report_counts_the_held_out_half_by_round():
    from experiments.biology_report import by_round, round_summary

    t = pd.DataFrame([
        {"id": "a", "paper": "A 2001", "half": "heldout", "status": "hit"},
        {"id": "b", "paper": "A 2001", "half": "heldout", "status": "miss"},
        {"id": "c", "paper": "B 2002", "half": "heldout", "status": "hit"},
        {"id": "d", "paper": "B 2002", "half": "heldout", "status": "untestable"},
        {"id": "e", "paper": "C 2003", "half": "calibration", "status": "miss"},
    ])
    r = by_round(t, {"A 2001": 1, "B 2002": 2, "C 2003": 1})
    assert r == {"1": {"papers": 1, "findings": 2, "testable": 2, "hits": 1, "accuracy": 0.5},
                 "2": {"papers": 1, "findings": 2, "testable": 1, "hits": 1, "accuracy": 1.0}}
    line = round_summary({"heldout_by_round": r})
    assert "round 2: 2 findings from 1 paper, 1 of them testable, 1 hit, **100 %**" in line
    assert "round 1 give 50 %" in line
    assert round_summary({"heldout_by_round": {"1": r["1"]}}) == ""
    assert "no round is unseen by every fit and model choice" in line  # rounds 1 and 2 only
    none = by_round(t.assign(status=t["status"].replace({"hit": "untestable", "miss": "untestable"})),
                    {"A 2001": 1, "B 2002": 2, "C 2003": 1})
    assert "round 2: 2 findings from 1 paper, none testable" in round_summary({"heldout_by_round": none})


def test_rounds_unseen_by_every_model_choice_are_counted_together():
    from experiments.biology import UNSEEN_FROM_ROUND
    from experiments.biology_report import unseen_rounds

    rounds = {str(k): {"papers": 1, "findings": 3, "testable": 2, "hits": k % 2, "accuracy": (k % 2) / 2}
              for k in range(1, UNSEEN_FROM_ROUND + 2)}
    text = unseen_rounds({"heldout_by_round": rounds})
    a, b = UNSEEN_FROM_ROUND, UNSEEN_FROM_ROUND + 1
    assert text == (f"rounds {a} and {b} are unseen by every fit and model choice, and the model gets "
                    f"{a % 2 + b % 2} of their 4 testable findings")
    none = {k: {**r, "hits": 0, "testable": 0} for k, r in rounds.items()}
    assert unseen_rounds({"heldout_by_round": none}) == (f"rounds {a} and {b} are unseen by every fit and model "
                                                         "choice, and none of their findings is testable")
    del rounds[str(b)]
    assert unseen_rounds({"heldout_by_round": rounds}) == (f"round {a} alone is unseen by every fit and model choice, "
                                                           f"and the model gets {a % 2} of its 2 testable findings")
    del none[str(b)]
    assert unseen_rounds({"heldout_by_round": none}) == (f"round {a} alone is unseen by every fit and model choice, "
                                                         "and none of its findings is testable")


def test_held_out_accuracy_without_the_findings_the_fit_has_seen():
    """The held-out findings a fit's objective ran are counted with and without; the shipped record names J3's,
    and they are held-out findings of the table."""
    from experiments.biology_report import seen_heldout, seen_reading

    t = pd.DataFrame([{"id": i, "half": h, "status": st} for i, h, st in (
        ("a", "heldout", "hit"), ("b", "heldout", "miss"), ("c", "heldout", "hit"), ("d", "calibration", "hit"),
        ("e", "heldout", "untestable"))])
    v = seen_heldout(t, ["a", "e"])
    assert v["with"] == (2, 3) and v["without"] == (1, 2) and v["seen"] == {"a": "hit", "e": "untestable"}
    assert seen_heldout(t, []) is None and seen_reading({"table": t.to_dict("records")}, {}) == ""
    assert "without them 1 of 2 (50 %)" in seen_reading({"table": t.to_dict("records")}, {"seen_heldout": ["a"]})
    mb = models.larval_calibration()["mushroom_body"]
    if "J3" in mb["objective_name"]:
        assert mb["seen_heldout"] == list(calibrate.J3_SEEN_HELDOUT)
        # J3 was fitted in session 19, after every round up to 6 had been scored, and refitted under the
        # timing-dependent rule in session 33, after round 7 (session 25) had been scored: no round is unseen
        assert "session 25" in biology.ROUNDS[7]
        if (mb.get("rule") or {}).get("rule_eta_b_factor", 0) > 0:
            # round 8 joined in session 41, after the last model change (the weak-connection threshold, session
            # 40): the first unseen round
            assert biology.UNSEEN_FROM_ROUND == 8 and "session 41" in biology.ROUNDS[8]
            assert "session 40" in biology.ROUNDS[8]
            assert models.larval_calibration()["parameters"]["min_input_fraction"]["value"] > 0
    fs = {f.id: f for f in biology.load_findings()}
    split = biology.load_split(findings=list(fs.values()))
    for i in calibrate.J3_SEEN_HELDOUT:
        assert split[fs[i].paper] == "heldout", i


def test_the_previous_point_is_compared_on_the_findings_neither_objective_ran():
    """The summary line against stage 2's previous point counts both models with and without the seen findings
    and says how many more or fewer the default gets on the rest; it is absent without a previous point."""
    from experiments.biology_report import previous_reading

    now = [{"id": i, "half": "heldout", "status": st} for i, st in (("a", "hit"), ("b", "miss"), ("c", "hit"))]
    prev = {"parameters": {"mbon_gain": 0.5, "mbin_gain": 0.6, "eta": 0.004}, "objective": "J2 = J with ...",
            "table": [{"id": "a", "status": "miss"}, {"id": "b", "status": "hit"}, {"id": "c", "status": "hit"}]}
    mb = {"seen_heldout": ["a"]}
    text = previous_reading({"table": now, "previous_point": prev}, mb)
    assert "(objective J2: mbon_gain = 0.5, mbin_gain = 0.6, eta = 0.004; same seed)" in text
    assert "it gets 2 of 3 held-out findings and 2 of 2 without the seen ones" in text
    assert "the default model 2 of 3 and 1 of 2, 1 fewer on the findings neither objective has run" in text
    prev["table"][1]["status"] = "miss"
    assert "the same number on the findings" in previous_reading({"table": now, "previous_point": prev}, mb)
    assert previous_reading({"table": now}, mb) == "" and previous_reading({"table": now, "previous_point": prev},
                                                                          {}) == ""


def test_statistics_of_the_held_out_number():
    """The Wilson interval (against its formula), the calibration-majority baseline and the paired comparison
    of two models (exact McNemar on the discordant findings); and docs/biology.md states them for its tables."""
    from scipy.stats import binomtest

    from experiments.biology_report import accuracy_interval, majority_baseline, statistics_reading, versus

    rows = [("c1", "calibration", "response", "increase", "hit"), ("c2", "calibration", "response", "increase", "miss"),
            ("c3", "calibration", "response", "decrease", "hit"), ("c4", "calibration", "pairing", "decrease", "hit"),
            ("h1", "heldout", "response", "increase", "hit"), ("h2", "heldout", "response", "no_change", "miss"),
            ("h3", "heldout", "pairing", "decrease", "hit"), ("h4", "heldout", "pairing", "increase", "miss"),
            ("h5", "heldout", "silencing", "decrease", "miss"), ("h6", "heldout", "response", "increase", "untestable")]
    a = pd.DataFrame(rows, columns=["id", "half", "test", "expect", "status"])
    k, n, lo, hi = accuracy_interval(a)
    assert (k, n) == (2, 5)
    z, p = 1.959963984540054, 2 / 5  # Wilson: (p + z²/2n -+ z sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n)
    centre, half = p + z * z / 10, z * np.sqrt(p * (1 - p) / 5 + z * z / 100)
    assert lo == pytest.approx((centre - half) / (1 + z * z / 5))
    assert hi == pytest.approx((centre + half) / (1 + z * z / 5))
    hits, total, rule = majority_baseline(a)
    assert rule == {"pairing": "decrease", "response": "increase"}  # silencing: no calibration finding
    assert (hits, total) == (2, 5)  # h1 (response increase) and h3 (pairing decrease)
    b = a.assign(status=["hit"] * 4 + ["miss", "hit", "miss", "hit", "hit", "untestable"])
    only_a, only_b, pv = versus(a, b)
    assert (only_a, only_b) == (2, 3) and pv == pytest.approx(binomtest(2, 5).pvalue)  # h1, h3 / h2, h4, h5
    doc = json.loads((ROOT / "docs" / "biology.json").read_text())
    line = statistics_reading(doc["models"]["larval"], doc["models"]["adult"])
    assert line in (ROOT / "docs" / "biology.md").read_text()


def test_rescoring_at_other_criteria():
    """``rescore`` with no overrides gives the stored statuses (docs/biology.json, both models); a looser
    criterion turns a near miss into a hit and a strict one turns a hit into a miss, as the effect and its
    standard error say; the valence floor applies to learned-valence findings only; the report shows the table."""
    from experiments.biology import direction
    from experiments.biology_report import CRITERIA, criterion_reading, criterion_table, rescore

    doc = json.loads((ROOT / "docs" / "biology.json").read_text())
    for name in ("larval", "adult"):
        t = pd.DataFrame(doc["models"][name]["table"]).set_index("id")
        st = rescore(doc["models"][name]["table"], doc["findings"])
        assert len(st) == t["status"].isin(["hit", "miss"]).sum()
        assert (t.loc[st.index, "status"] == st).all(), name
    assert direction(0.6, 0.2, 1.0, 0.5, 0.1, 2.0) == "increase"
    assert direction(0.6, 0.4, 1.0, 0.5, 0.1, 2.0) == "no_change"  # 0.6 < 2 SE
    assert direction(-0.6, 0.1, 10.0, 0.5, 0.1, 2.0) == "no_change"  # below 10 % of the reference
    assert direction(float("nan"), 0.1, 1.0, 0.0, 0.0, 0.0) == "no_change"
    rows = [{"id": "a", "half": "heldout", "test": "response", "expect": "increase", "effect_hz": 0.4,
             "se_hz": 0.1, "reference_hz": 1.0, "status": "miss"},
            {"id": "b", "half": "heldout", "test": "pairing", "expect": "decrease", "effect_hz": -0.015,
             "se_hz": 0.005, "reference_hz": 0.05, "status": "miss"},
            {"id": "c", "half": "calibration", "test": "compare", "expect": "greater", "effect_hz": 1.0,
             "se_hz": 0.4, "reference_hz": 2.0, "status": "hit"}]
    fs = [{"id": "a"}, {"id": "b", "measure": "learned_valence"}, {"id": "c"}]
    assert rescore(rows, fs).to_dict() == {"a": "miss", "b": "miss", "c": "hit"}
    assert rescore(rows, fs, min_effect_hz=0.25).to_dict() == {"a": "hit", "b": "miss", "c": "hit"}
    assert rescore(rows, fs, min_valence_change=0.01).to_dict() == {"a": "miss", "b": "hit", "c": "hit"}
    assert rescore(rows, fs, z=3.0)["c"] == "miss"  # 1.0 < 3 x 0.4
    with pytest.raises(ValueError, match="unknown criterion"):
        rescore(rows, fs, zz=1.0)
    table = criterion_table(doc)
    assert list(table["change criterion"]) == [label for label, _ in CRITERIA]
    lv = doc["models"]["larval"]["accuracy"]
    assert table.iloc[0]["larval, heldout"].startswith(f"{100 * lv['heldout']:.0f} %")
    assert criterion_reading(doc) in (ROOT / "docs" / "biology.md").read_text()


# --------------------------------------------------------------------------------- scoring
def test_scorer_predicts_the_toy_wiring(toyc, tmp_path):
    fs = biology.load_findings(_write(tmp_path, TOY_FINDINGS))
    # a fixed threshold and no class gains: the toy findings test the scorer, not the calibrated model
    model = models.get_model("larval_lif", w_syn=1.5 * mV, input_exponent=0.0, adapt_increment=0 * mV,
                             mbon_gain=1.0, mbin_gain=1.0, inh_scale=1.0)
    net = sim.Network(toyc, model=model, synapse_types=("ad", "aa", "dd", "da"), device="numba")
    split = {f.paper: "calibration" for f in fs}
    score = biology.score(net, fs, split=split, seed=3)
    t = score.table.set_index("id")
    assert t.loc["t-up", "predicted"] == "increase" and t.loc["t-up", "status"] == "hit"
    assert t.loc["t-up", "effect_hz"] > 5
    assert t.loc["t-wrong", "status"] == "miss"
    assert t.loc["t-silence", "predicted"] == "decrease" and t.loc["t-silence", "status"] == "hit"
    assert t.loc["t-none", "status"] == "hit" and t.loc["t-none", "effect_hz"] == 0
    assert t.loc["t-cmp", "status"] == "hit"
    assert t.loc["t-absent", "status"] == "untestable" and "Basin" in t.loc["t-absent", "reason"]
    acc = score.accuracy()
    assert acc["testable"].iloc[0] == 5 and acc["hits"].iloc[0] == 4 and acc["untestable"].iloc[0] == 1
    hits = score.hits()  # the scored findings only: the untestable one is in neither count
    assert hits["n"] == 5 and hits["hits"] == 4 and "t-wrong" not in hits["hit_ids"] and "t-absent" not in hits["hit_ids"]
    assert sorted(hits["hit_ids"]) == sorted(t.index[t["status"] == "hit"])
    # the same seed gives the same predictions; halves not asked for are skipped
    again = biology.score(net, fs, split=split, seed=3)
    assert np.allclose(again.table["effect_hz"].fillna(0), t["effect_hz"].fillna(0).to_numpy())
    none = biology.score(net, fs, split=split, halves=("heldout",))
    assert set(none.table["status"]) == {"skipped"}


def test_a_silent_model_predicts_no_change(toyc, tmp_path):
    fs = biology.load_findings(_write(tmp_path, TOY_FINDINGS))
    net = sim.Network(toyc, model=models.get_model("larval_lif", w_syn=0.0 * mV), device="numba")
    t = biology.score(net, fs, split={f.paper: "calibration" for f in fs}).table.set_index("id")
    assert (t.loc[["t-up", "t-silence", "t-none"], "predicted"] == "no_change").all()
    assert t.loc["t-up", "status"] == "miss"


# --------------------------------------------------------------------------------- calibration
def test_calibration_resumes_without_repeating_evaluations(toyc, tmp_path):
    fs = biology.load_findings(_write(tmp_path, TOY_FINDINGS))
    split = {f.paper: ("calibration" if k % 2 == 0 else "heldout") for k, f in enumerate(fs)}
    store = tmp_path / "cal"
    kw = dict(structures=("global",), connectome=toyc, findings=fs, split=split, points=(2, 2), progress=False)
    first = calibrate.calibrate(store, **kw)
    files = sorted((store / "evaluations").glob("*.json"))
    assert len(files) == 4
    stamps = {f.name: f.stat().st_mtime_ns for f in files}
    files[-1].unlink()                     # a run stopped before its last evaluation
    second = calibrate.calibrate(store, **kw)
    assert second["parameters"] == first["parameters"] and second["J"] == first["J"]
    after = {f.name: f.stat().st_mtime_ns for f in (store / "evaluations").glob("*.json")}
    assert len(after) == 4 and all(after[k] == v for k, v in stamps.items() if k != files[-1].name)
    assert first["structure"] == "global" and first["parameters"]["input_exponent"]["value"] == 0.0
    rec = json.loads(files[0].read_text())
    assert rec["J"] == pytest.approx(calibrate.objective(rec["accuracy"], rec["sanity"]))


def test_mushroom_body_stage_resumes_and_records_its_parameters(toyc, tmp_path):
    """Stage 2 searches mbon_gain and eta on top of a stage-1 record, stores every evaluation
    (a stopped run resumes) and returns a record the larval model can read."""
    fs = biology.load_findings(_write(tmp_path, TOY_FINDINGS))
    split = {f.paper: "calibration" for f in fs}
    store = tmp_path / "cal"
    kw = dict(connectome=toyc, findings=fs, split=split, progress=False)
    base = calibrate.calibrate(store, structures=("global",), points=(2, 1), **kw)
    mb = calibrate.calibrate_mushroom_body(store, base, points=(2, 2), **kw)
    files = sorted((store / "evaluations").glob("mushroom_body-*.json"))
    assert len(files) == 4 and mb["n_evaluations"] == 4
    assert set(mb["parameters"]) == {"mbon_gain", "mbin_gain", "eta"}
    lo, hi = calibrate.MB_SPACE["mbon_gain"][:2]
    assert lo <= mb["parameters"]["mbon_gain"]["value"] <= hi
    assert mb["fixed"]["w_syn"] == pytest.approx(base["parameters"]["w_syn"]["value"])
    # every point is scored at MB_SEEDS benchmark seeds; its accuracy (and so J2) is their mean
    assert mb["seeds"] == [1 + i for i in range(calibrate.MB_SEEDS)] and calibrate.MB_SEEDS > 1
    for f in files:
        rec = json.loads(f.read_text())
        assert list(rec["accuracy_by_seed"]) == [str(x) for x in mb["seeds"]]
        assert rec["accuracy"] == pytest.approx(np.nanmean(list(rec["accuracy_by_seed"].values())))
        assert rec["J"] == pytest.approx(calibrate.objective(rec["accuracy"], rec["sanity"]))
    with pytest.raises(ValueError, match="seeds = 0"):
        calibrate.calibrate_mushroom_body(store, base, points=(2, 2), seeds=0, **kw)
    files[-1].unlink()
    again = calibrate.calibrate_mushroom_body(store, base, points=(2, 2), **kw)
    assert again["parameters"] == mb["parameters"] and again["J"] == mb["J"]
    # the gain acts on the MBONs' input weights only
    m = models.get_model("larval_lif", mbon_gain=3.0)
    ct = np.array(["KC", "MBON", "PN"], dtype=object)
    plain = models.get_model("larval_lif", mbon_gain=1.0).input_scale([50, 50, 50], celltypes=ct)
    assert m.input_scale([50, 50, 50], celltypes=ct) == pytest.approx(plain * [1, 3, 1])
    with pytest.raises(ValueError, match="2 cell types for 3 neurons"):
        m.input_scale([50, 50, 50], celltypes=ct[:2])
    # and the MBIN gain on the MBINs' only
    ct2 = np.array(["KC", "MBIN", "MBON"], dtype=object)
    m2 = models.get_model("larval_lif", mbon_gain=1.0, mbin_gain=0.25)
    assert m2.input_scale([50, 50, 50], celltypes=ct2) == pytest.approx(
        models.get_model("larval_lif", mbon_gain=1.0, mbin_gain=1.0).input_scale([50, 50, 50], celltypes=ct2)
        * [1, 0.25, 1])


def test_stage_two_can_search_the_kenyon_cells_input_gain(toyc, tmp_path, capsys):
    """--mb-space kc: kc_gain is searched in its range beside the three stage-2 parameters and recorded; every
    evaluation's model has that KC gain (the points' KC input weights differ); a space that leaves out a stage-2
    parameter is an error; the command line refuses to write such a record as the default model."""
    fs = biology.load_findings(_write(tmp_path, TOY_FINDINGS))
    split = {f.paper: "calibration" for f in fs}
    store = tmp_path / "cal"
    kw = dict(connectome=toyc, findings=fs, split=split, progress=False)
    base = calibrate.calibrate(store, structures=("global",), points=(2, 1), **kw)
    mb = calibrate.calibrate_mushroom_body(store, base, points=(2, 2), seeds=1, space=calibrate.MB_SPACE_KC, **kw)
    assert set(mb["parameters"]) == {"mbon_gain", "mbin_gain", "eta", "kc_gain"}
    lo, hi = calibrate.MB_SPACE_KC["kc_gain"][:2]
    recs = [json.loads(f.read_text()) for f in sorted((store / "evaluations").glob("mushroom_body-*.json"))]
    gains = [r["values"]["kc_gain"] for r in recs]
    assert len(recs) == 4 and all(lo <= g <= hi for g in gains) and len(set(gains)) == 4
    best = max(r["J"] for r in recs)
    assert mb["J"] == best and mb["parameters"]["kc_gain"]["value"] in [r["values"]["kc_gain"] for r in recs
                                                                        if r["J"] == best]
    assert all("kc_gain" in t["values"] for t in mb["top"])
    # the searched gain reaches the model that scores the point
    kc = toyc.select(celltype="KC").indices
    scales = [sim.Network(toyc, model=models.LarvalLIF().with_kc_gain(g, "t"), device="numba").input_scale[kc]
              for g in gains[:2]]
    assert scales[0] / scales[1] == pytest.approx(np.full(len(kc), gains[0] / gains[1]))
    with pytest.raises(ValueError, match="it must search mbon_gain"):
        calibrate.calibrate_mushroom_body(store, base, space={"kc_gain": (0.3, 1.0, True, "1")}, **kw)
    with pytest.raises(SystemExit):
        calibrate.main(["--stage", "mushroom_body", "--mb-space", "kc", "--write", "--store", str(store)])
    assert "--write refuses it" in capsys.readouterr().err


def test_stage_two_with_the_learning_must_show(toyc, tmp_path, monkeypatch):
    """J3 = J2 + 0.5 x the share of the learning must-show pairings met (per seed, averaged); its evaluations are
    stored under their own keys, beside J2's."""
    assert calibrate.learning_term({"1": {"a": True, "b": False}, "2": {"a": True, "b": True}}) == pytest.approx(0.375)
    assert calibrate.learning_term({}) == 0.0
    assert [d for d, _ in calibrate.LEARNING_MUST_SHOW] == ["DAN-i1", "DAN-g1"]
    # the toy brain has too few receptors for the learning experiments' odour pair: here the must-show pairings
    # are a stand-in (their real run is tested on the real connectome below); J3's bookkeeping is what is tested
    calls = []

    def stand_in(network, eta, *, seed, n_larvae=None, rule=None):
        assert rule is None  # stage 2 of the default model: the default plasticity rule
        calls.append((eta, seed))
        return {"DAN-i1": {"mean": 0.03, "wilcoxon_p": 0.01, "met": True},
                "DAN-d1": {"mean": -0.01 if seed == 1 else 0.01, "wilcoxon_p": 0.04 if seed == 1 else 0.5,
                           "met": seed == 1}}

    monkeypatch.setattr(calibrate, "learning_must_show", stand_in)
    fs = biology.load_findings(_write(tmp_path, TOY_FINDINGS))
    split = {f.paper: "calibration" for f in fs}
    store = tmp_path / "cal"
    kw = dict(connectome=toyc, findings=fs, split=split, progress=False, seeds=2)
    base = calibrate.calibrate(store, structures=("global",), points=(2, 1), connectome=toyc, findings=fs,
                               split=split, progress=False)
    j2 = calibrate.calibrate_mushroom_body(store, base, points=(2, 1), **kw)
    j3 = calibrate.calibrate_mushroom_body(store, base, points=(2, 1), mb_objective="J3", **kw)
    files = sorted((store / "evaluations").glob("mushroom_body-*.json"))
    assert len(files) == 6 and j3["n_evaluations"] == 3  # J3's points are not J2's stored ones
    assert len(calls) == 3 * 2 and {s for _, s in calls} == {1, 2}  # once per point and benchmark seed
    assert "J3" in j3["objective_name"] and "learning term" in j3["objective"] and "J3" not in j2["objective_name"]
    assert "held-out" in j3["objective_defined"]
    for f in files:
        rec = json.loads(f.read_text())
        if rec.get("objective_j3") != 1:
            assert "learning_must_show_by_seed" not in rec
            continue
        met = {}
        for seed, ms in rec["learning_must_show_by_seed"].items():
            assert set(ms) == {"DAN-i1", "DAN-d1"}
            met[seed] = {d: v["met"] for d, v in ms.items()}
        assert rec["J2"] == pytest.approx(calibrate.objective(rec["accuracy"], rec["sanity"]))
        assert rec["J"] == pytest.approx(rec["J2"] + calibrate.learning_term(met))
        assert rec["J"] - rec["J2"] == pytest.approx(0.5 * (1.0 + 0.5) / 2)  # seed 1: both met; seed 2: one
    assert j3["J"] == max(r["J"] for r in map(lambda f: json.loads(f.read_text()), files) if r.get("objective_j3"))
    with pytest.raises(ValueError, match="mb_objective 'J4'"):
        calibrate.calibrate_mushroom_body(store, base, points=(2, 1), mb_objective="J4", **kw)


@pytest.mark.realdata
def test_learning_must_show_runs_the_two_pairings(real_connectome):
    """The must-show pairings on the default model at its calibrated rate and plasticity rule (4 larvae: the shape
    and the rule, not the effect, which needs the benchmark's 24)."""
    from experiments.learning import EXPERIMENT_PARAMETERS

    net = sim.Network(real_connectome, device="numba")
    out = calibrate.learning_must_show(net, float(EXPERIMENT_PARAMETERS["eta"].value), seed=1, n_larvae=4,
                                       rule=models.larval_calibration()["mushroom_body"].get("rule"))
    assert list(out) == ["DAN-i1", "DAN-g1"]
    for (dan, sign), v in zip(calibrate.LEARNING_MUST_SHOW, out.values()):
        assert np.isfinite(v["mean"]) and 0 <= v["wilcoxon_p"] <= 1
        assert v["met"] == (v["wilcoxon_p"] < 0.05 and sign * v["mean"] > 0)


def test_sharded_calibration_equals_one_process(toyc, tmp_path, monkeypatch):
    """Two shards on one store split the points between them, wait for each other, and end with the
    record of one unsharded run; stage 2 keys its evaluations by the benchmark's pairing_larvae."""
    import threading

    monkeypatch.setattr(calibrate, "POLL_S", 0.05)
    fs = biology.load_findings(_write(tmp_path, TOY_FINDINGS))
    split = {f.paper: "calibration" for f in fs}
    kw = dict(connectome=toyc, findings=fs, split=split, progress=False)
    one = calibrate.calibrate(tmp_path / "one", structures=("global",), points=(4, 2), **kw)
    mb_one = calibrate.calibrate_mushroom_body(tmp_path / "one", one, points=(2, 2), **kw)
    out, who = {}, {}
    real = calibrate.evaluate

    def counted(*a, **k):  # which thread evaluated how many points
        who[threading.current_thread().name] = who.get(threading.current_thread().name, 0) + 1
        return real(*a, **k)

    monkeypatch.setattr(calibrate, "evaluate", counted)

    def run(k):
        rec = calibrate.calibrate(tmp_path / "two", structures=("global",), points=(4, 2), shard=(k, 2), **kw)
        out[k] = (rec, calibrate.calibrate_mushroom_body(tmp_path / "two", rec, points=(2, 2), shard=(k, 2), **kw))

    threads = [threading.Thread(target=run, args=(k,), name=f"shard{k}") for k in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    for k in (0, 1):
        rec, mb = out[k]
        assert rec["parameters"] == one["parameters"] and rec["J"] == one["J"]
        assert mb["parameters"] == mb_one["parameters"] and mb["J"] == mb_one["J"]
    # (4 + 2) stage-1 points and (2 + 2) stage-2 points at MB_SEEDS benchmark seeds each, half each
    assert who == {f"shard{k}": (6 + 4 * calibrate.MB_SEEDS) // 2 for k in (0, 1)}
    assert mb_one["pairing_larvae"] == biology.BENCHMARK_PARAMETERS["pairing_larvae"].value
    stored = [json.loads(f.read_text()) for f in (tmp_path / "two" / "evaluations").glob("mushroom_body-*.json")]
    assert len(stored) == 4 and all(r["pairing_larvae"] == mb_one["pairing_larvae"] for r in stored)
    with pytest.raises(ValueError, match="shard 2/2"):
        calibrate.calibrate(tmp_path / "x", structures=("global",), shard=(2, 2), **kw)


def test_a_store_is_not_resumed_with_other_findings_or_split(toyc, tmp_path):
    """STORE/manifest.json records what the evaluations depend on beyond their keys; another split (or
    findings, signs, connectome) is refused with an error naming the store; a store without a manifest
    (made before it existed) gets one."""
    fs = biology.load_findings(_write(tmp_path, TOY_FINDINGS))
    split = {f.paper: "calibration" for f in fs}
    kw = dict(structures=("global",), connectome=toyc, findings=fs, points=(2, 1), progress=False)
    first = calibrate.calibrate(tmp_path / "s", split=split, **kw)
    manifest = json.loads((tmp_path / "s" / "manifest.json").read_text())
    assert set(manifest) == {"connectome", "signs", "findings", "split"}
    other = {p: "heldout" for p in split}
    with pytest.raises(ValueError, match=r"manifest.json: this store was made for another findings, split"):
        calibrate.calibrate(tmp_path / "s", split=other, **kw)
    with pytest.raises(ValueError, match=r"another findings"):
        calibrate.calibrate(tmp_path / "s", split=split, **{**kw, "findings": fs[:-1]})
    # a held-out paper added later (a new round of the split) does not touch the calibration half: resumed
    import dataclasses

    later = dataclasses.replace(fs[0], id="t-later", paper="Later 2026")
    resumed = calibrate.calibrate(tmp_path / "s", split={**split, "Later 2026": "heldout"},
                                  **{**kw, "findings": [*fs, later]})
    assert resumed["J"] == first["J"]
    with pytest.raises(ValueError, match=r"another findings, split"):  # but a calibration paper added is not
        calibrate.calibrate(tmp_path / "s", split={**split, "Later 2026": "calibration"},
                            **{**kw, "findings": [*fs, later]})
    (tmp_path / "s" / "manifest.json").unlink()  # a store from before manifests: resumed, manifest written
    again = calibrate.calibrate(tmp_path / "s", split=split, **kw)
    assert again["J"] == first["J"]
    assert json.loads((tmp_path / "s" / "manifest.json").read_text()) == manifest


def test_a_store_made_with_a_candidate_sign_table_resumes_only_with_those_signs(toyc, tmp_path):
    """--transmitters: a calibration with candidate rows (here: the KCs GABAergic) keeps their sign vector in
    the manifest; the packaged table is refused, an identical copy of the candidate table resumes the store."""
    from models.transmitters import DEFAULT_TABLE

    text = DEFAULT_TABLE.read_text()
    kc_row = next(line for line in text.splitlines() if line.startswith("KC,celltype,acetylcholine"))
    candidate = tmp_path / "candidate.csv"
    candidate.write_text(text.replace(kc_row, kc_row.replace("KC,celltype,acetylcholine", "KC,celltype,GABA")))
    copy = tmp_path / "copy.csv"
    copy.write_text(candidate.read_text())
    fs = biology.load_findings(_write(tmp_path, TOY_FINDINGS))
    split = {f.paper: "calibration" for f in fs}
    kw = dict(structures=("global",), connectome=toyc, findings=fs, split=split, points=(2, 1), progress=False)
    first = calibrate.calibrate(tmp_path / "s", sign_table=candidate, **kw)
    with pytest.raises(ValueError, match=r"made for another signs"):
        calibrate.calibrate(tmp_path / "s", **kw)
    again = calibrate.calibrate(tmp_path / "s", sign_table=copy, **kw)
    assert again["J"] == first["J"]


def test_calibrate_command_refuses_to_write_with_a_candidate_table(capsys):
    with pytest.raises(SystemExit) as e:
        calibrate.main(["--transmitters", __file__, "--write"])
    assert e.value.code == 2
    assert "put the rows of --transmitters into models/data/transmitters.csv first" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        calibrate.main(["--transmitters", "no-such-table.csv"])
    assert e.value.code == 2 and "--transmitters no-such-table.csv: no such file" in capsys.readouterr().err


def test_calibrate_command_rejects_a_bad_shard(capsys):
    with pytest.raises(SystemExit) as e:
        calibrate.main(["--shard", "2/2"])
    assert e.value.code == 2
    assert "--shard '2/2': expected K/N with 0 <= K < N" in capsys.readouterr().err


def test_calibration_keeps_an_earlier_records_structures(toyc, tmp_path):
    """Structures searched earlier compete with their recorded results; the best J wins."""
    fs = biology.load_findings(_write(tmp_path, TOY_FINDINGS))
    split = {f.paper: ("calibration" if k % 2 == 0 else "heldout") for k, f in enumerate(fs)}
    kw = dict(connectome=toyc, findings=fs, split=split, points=(2, 1), progress=False)
    first = calibrate.calibrate(tmp_path / "a", structures=("global",), **kw)
    both = calibrate.calibrate(tmp_path / "b", structures=("adaptive_ad",), previous=first, **kw)
    assert set(both["structures"]) == {"global", "adaptive_ad"}
    assert both["structures"]["global"]["J"] == first["J"]
    assert both["structures"]["global"]["evaluated"] == first["structures"]["global"]["evaluated"]
    best = max(both["structures"], key=lambda n: both["structures"][n]["J"])
    assert both["structure"] == best
    assert set(both["parameters"]) == set(both["structures"][best]["values"]) - set(calibrate.MB_SPACE)
    assert both["structures"]["adaptive_ad"]["values"]["adapt_increment"] > 0
    assert len(list((tmp_path / "b" / "evaluations").glob("global-*.json"))) == 0  # not rerun
    with pytest.raises(ValueError, match="another seed or objective"):
        calibrate.calibrate(tmp_path / "c", structures=("adaptive_ad",), previous={**first, "seed": 99}, **kw)


def test_stage_one_write_keeps_stage_two_only_on_the_shipped_point(toyc, tmp_path):
    """``--stage structure --write`` carries the shipped stage 2 over when stage 1 keeps the shipped structure and
    point, and refuses (naming the structure) when it does not: stage 2 was fitted on that point only."""
    fs = biology.load_findings(_write(tmp_path, TOY_FINDINGS))
    split = {f.paper: ("calibration" if k % 2 == 0 else "heldout") for k, f in enumerate(fs)}
    kw = dict(connectome=toyc, findings=fs, split=split, points=(2, 1), progress=False)
    shipped = {**calibrate.calibrate(tmp_path / "a", structures=("global",), **kw),
               "mushroom_body": {"parameters": {"eta": {"value": 0.01, "unit": "1"}}}}
    same = calibrate.calibrate(tmp_path / "a", structures=("global",), **kw)  # resumed: the same point
    kept = calibrate._keep_stage2(same, shipped)
    assert kept["mushroom_body"] == shipped["mushroom_body"] and kept["structure"] == "global"
    moved = {**same, "parameters": {**same["parameters"], "w_syn": {"value": 9.9, "unit": "mV"}}}
    with pytest.raises(ValueError, match="run stage 2 on it"):
        calibrate._keep_stage2(moved, shipped)
    with pytest.raises(ValueError, match="now chooses adaptive_ad"):
        calibrate._keep_stage2({**same, "structure": "adaptive_ad"}, shipped)


@pytest.mark.realdata
def test_explain_runs_a_findings_conditions_and_accounts_for_the_effect(real_connectome):
    """explain() runs a finding's conditions as the benchmark does (the documented effect, to the bit), and its
    input table is the change of the drive onto the readout: the silenced KCs' own drive falls to zero."""
    from experiments import biology_report
    from sim.analysis.pathways import pathways

    doc = json.loads((ROOT / "docs" / "biology.json").read_text())
    row = next(r for r in doc["models"]["larval"]["table"] if r["id"] == "mb-esc21-02")
    f = next(x for x in biology.load_findings() if x.id == "mb-esc21-02")
    e = biology.explain(biology_report.default_network(real_connectome), f, seed=doc["seed"])
    assert e["effect_hz"] == row["effect_hz"] and e["predicted"] == row["predicted"]
    assert e["rate_a_hz"] - e["rate_b_hz"] == pytest.approx(row["effect_hz"])
    t = e["table"].set_index(["group", "sign"])
    assert t.loc[("KC", "+"), "drive_after_mv"] == 0 and t.loc[("KC", "+"), "drive_before_mv"] > 0
    assert t["change_mv"].sum() == pytest.approx(e["table"].attrs["total_change_mv"])
    text = biology.explain_text(e, f)
    assert text.startswith("mb-esc21-02 (silencing; published: no_change): the model predicts ")
    # beside it, the wiring from the silenced KCs to MBON-m1: direct excitatory chains, and chains through other
    # MBONs of which some inhibit (the route whose drive the table shows outweighing the KCs' own)
    paths = e["paths"].set_index("chain")
    assert paths.loc["KC > MBON", "inhibitory"] == 0 and paths.loc["KC > MBON", "excitatory"] > 0
    assert paths.loc["KC > MBON > MBON", "inhibitory"] > 0
    assert paths["strength"].sum() == pytest.approx(
        pathways(real_connectome, {"celltype": "KC"}, "MBON-m1", synapse_types=("ad",),
                 **biology.WIRING_PATHS)["strength"].sum())
    assert "Chains in the wiring from the silenced neurons to the readout" in text and "KC > MBON > MBON" in text
    # a compare finding: the chains from the stimulus to each readout, per target neuron (readouts differ in size)
    f = next(x for x in biology.load_findings() if x.id == "endo-04")
    e = biology.explain(biology_report.default_network(real_connectome), f, seed=doc["seed"])
    assert set(e["paths"]) == {"readout A", "readout B"}
    assert [e["paths"][k].attrs["targets"] for k in ("readout A", "readout B")] == list(e["readouts"].values())
    text = biology.explain_text(e, f)
    assert "to readout A" in text and "to readout B" in text and text.count("per target neuron") == 2
    # a pairing finding: per MBON type; the shares add up to about the learned valence index's change, and the
    # US's own compartments move most (DAN-g1 depresses MBON-g1 and MBON-g2, approach MBONs: index falls)
    row = next(r for r in doc["models"]["larval"]["table"] if r["id"] == "learn-web25-07")
    f = next(x for x in biology.load_findings() if x.id == "learn-web25-07")
    e = biology.explain(biology_report.default_network(real_connectome), f, seed=doc["seed"])
    assert e["effect_hz"] == pytest.approx(row["effect_hz"], abs=1e-12) and e["predicted"] == row["predicted"]
    t = e["table"]
    assert set(t["mbon"].iloc[:2]) == {"MBON-g1", "MBON-g2"} and (t["index_change"].iloc[:2] < 0).all()
    assert t.attrs["index_change"] == pytest.approx(e["effect_hz"], rel=0.3)


def test_explain_command_refuses_what_it_cannot_explain(capsys):
    """--explain: an untestable finding, an unknown id, or both --table and --explain: one line, exit 2, before
    any network is built."""
    from larvasim import cli

    assert cli.main(["validate", "--biology", "--explain", "desc-01"]) == 2
    assert "desc-01 is not testable by a brain-only model" in capsys.readouterr().err
    assert cli.main(["validate", "--biology", "--explain", "nope"]) == 2
    assert "--explain nope: no finding with that id" in capsys.readouterr().err
    assert cli.main(["validate", "--biology", "--explain", "mb-esc21-02", "--table", "x.csv"]) == 2
    assert "give one of --table OUT.csv" in capsys.readouterr().err


def test_calibrate_command_defaults_refit_the_default_model():
    """A plain ``python -m experiments.calibrate`` runs stage 2 with the shipped record's objective and rule (J3 and
    the timing-dependent rule since 2026-12-05): its --write must not swap the default model for another fit."""
    args = calibrate._parser().parse_args([])
    mb = models.larval_calibration()["mushroom_body"]
    assert mb["objective_name"].startswith(f"objective {args.mb_objective} ")
    assert calibrate.named_rule(args.rule) == (mb.get("rule") or {})
    assert args.stage == "all" and args.structures == list(calibrate.STRUCTURES)


@pytest.mark.realdata
def test_added_structures_are_scored_in_the_record(real_connectome):
    """The structures added after the first fit are in the shipped record (searched as the first seven were), the
    record's choice is its best J, and every structure's best point, the first seven's and the added ones', scores
    what the record says (docs/biology.md says the first seven were rescored and reproduced)."""
    from experiments import sanity

    cal = models.larval_calibration()
    st = cal["structures"]
    assert set(st) == set(calibrate.STRUCTURES)
    assert cal["structure"] == max(st, key=lambda n: (round(st[n]["J"], 6), -list(calibrate.STRUCTURES).index(n)))
    for n in calibrate.ADDED_STRUCTURES:
        assert st[n]["n_evaluations"] == sum(calibrate.POINTS[len(calibrate.STRUCTURES[n][0])])
    cascades = sanity.cascade_hits(real_connectome, [m for m in real_connectome.modalities if m != "unknown"])
    fs = biology.load_findings()
    for n in st:
        rec = calibrate.evaluate(real_connectome, st[n]["values"], findings=fs, split=biology.load_split(findings=fs),
                                 cascades=cascades, seed=cal["seed"], synapse_types=tuple(st[n]["synapse_types"]))
        assert rec["J"] == pytest.approx(st[n]["J"], abs=1e-9), n


def test_objective_penalises_runaway_and_rewards_reach():
    base = {"modalities_reaching": 6, "n_modalities": 12, "rho": 0.2, "all_frac_hot": 0.0, "quiet_hz": 0.0}
    j0 = calibrate.objective(0.5, base)
    assert j0 == pytest.approx(0.5 + 0.25 + 0.1)
    assert calibrate.objective(0.5, {**base, "all_frac_hot": 0.25}) == pytest.approx(j0 - 1.0)
    assert calibrate.objective(0.5, {**base, "modalities_reaching": 12}) > j0


# --------------------------------------------------------------------------------- real data
@pytest.mark.realdata
def test_shipped_findings_are_complete_and_testable_on_the_data(real_connectome):
    fs = biology.load_findings()
    assert len(fs) >= 40
    split = biology.load_split(findings=fs)
    testable = [f for f in fs if f.testable]
    assert len(testable) >= 30
    for f in testable:  # every selection of a testable finding names neurons that exist
        for k, v in f.selections.items():
            biology._select(real_connectome, v, f"{f.where}, field {k!r}")
    halves = {h: {f.circuit for f in testable if split[f.paper] == h} for h in biology.HALVES}
    assert all(len(c) >= 3 for c in halves.values())
    papers = {}
    for f in fs:
        papers.setdefault(f.paper, set()).add(split[f.paper])
    assert all(len(h) == 1 for h in papers.values())       # a paper is never in both halves
    assert all(f.doi and f.citation and f.figure for f in fs)


@pytest.mark.realdata
def test_round_two_conflicts_with_round_one_are_counted_in_the_readme(real_connectome):
    """Round-2 findings that expect the opposite of a round-1 held-out finding under the same test (same
    stimulus, US and readout neurons, same measure) cannot both be hit by any model; the README says how
    many there are."""
    fs = [f for f in biology.load_findings() if f.testable]
    rounds, split = biology.load_rounds(), biology.load_split()

    def key(f):
        sel = tuple(sorted((k, tuple(biology._select(real_connectome, v, f.id).indices)) for k, v in
                           f.selections.items()))
        return f.test, f.extra.get("measure"), f.extra.get("protocol", "paired"), sel

    first = {}
    for f in fs:
        if split[f.paper] == "heldout" and rounds[f.paper] == 1:
            first.setdefault(key(f), set()).add(f.expect)
    conflicts = [f.id for f in fs if rounds[f.paper] > 1 and first.get(key(f), {f.expect}) - {f.expect}]
    words = {1: "One of them expects", 2: "Two of them expect", 3: "Three of them expect"}
    readme = " ".join((ROOT / "README.md").read_text().split())
    assert conflicts and f"{words[len(conflicts)]} the opposite of a round-1 held-out finding" in readme, conflicts


@pytest.mark.realdata
def test_default_model_everywhere_is_the_calibrated_larval_model(real_connectome):
    from experiments import learning

    cal = models.larval_calibration()
    m = models.get_model()
    assert m.name == "larval_lif" and models.DEFAULT_SIGNS == "literature"
    for name, rec in cal["parameters"].items():
        assert float(m.parameters[name].value / parse_unit(rec["unit"])) == pytest.approx(rec["value"])
        expected = ("calibrated: experiments/edge_threshold.py" if name == "min_input_fraction" and cal.get(
            "edge_threshold") else "calibrated: experiments/calibrate.py" if name in cal["searched"] else
            "not searched: fixed by")
        assert m.parameters[name].source.startswith(expected), name
    mb = cal["mushroom_body"]["parameters"]
    assert float(m.parameters["mbon_gain"].value) == pytest.approx(mb["mbon_gain"]["value"])
    assert m.parameters["mbon_gain"].source.startswith("calibrated: experiments/calibrate.py (stage 2")
    assert float(learning.EXPERIMENT_PARAMETERS["eta"].value) == pytest.approx(mb["eta"]["value"])
    assert learning.EXPERIMENT_PARAMETERS["eta"].source.startswith("calibrated: experiments/calibrate.py (stage 2")
    net = sim.Network(real_connectome, device="numba")
    assert net.model.name == "larval_lif" and net.sign_info["policy"] == "literature"
    mbon = (real_connectome.neurons["celltype"] == "MBON").to_numpy()
    mbin = (real_connectome.neurons["celltype"] == "MBIN").to_numpy()
    n_in = np.asarray(real_connectome.weights(net.synapse_types).sum(axis=0)).ravel()
    plain = m.with_overrides(mbon_gain=1.0, mbin_gain=1.0).input_scale(n_in)
    assert net.input_scale[mbon] == pytest.approx(plain[mbon] * mb["mbon_gain"]["value"])
    assert net.input_scale[mbin] == pytest.approx(plain[mbin] * mb["mbin_gain"]["value"])
    assert net.input_scale[~(mbon | mbin)] == pytest.approx(plain[~(mbon | mbin)])
    lnet = learning.make_network(real_connectome, learning.make_protocol("paired"))
    assert lnet.model.name == "larval_lif" and lnet.sign_info["policy"] == "literature"
    assert tuple(lnet.synapse_types) == tuple(net.synapse_types)
    # the adult model stays available by name, with Shiu et al.'s weight
    adult = models.get_model(models.ADULT_MODEL)
    assert adult.parameters["w_syn"].value == 0.275 * mV


@pytest.mark.realdata
def test_calibration_record_reproduces(real_connectome):
    """The recorded best point scores what the record says (same seed, same findings as on the record's date,
    same split)."""
    from experiments import sanity

    cal = models.larval_calibration()
    values = {k: v["value"] for k, v in cal["parameters"].items()}
    now = biology.load_findings()
    fs = biology.findings_as_of(now, cal["mushroom_body"]["date"])  # rows testable since then were never fitted
    assert sum(f.testable for f in fs) == sum(f.testable for f in now) - sum(
        f.extra.get("testable_since", "") > cal["mushroom_body"]["date"] for f in now if f.testable)
    cascades = sanity.cascade_hits(real_connectome, [m for m in real_connectome.modalities if m != "unknown"])
    rec = calibrate.evaluate(real_connectome, values, findings=fs, split=biology.load_split(findings=fs),
                             cascades=cascades, seed=cal["seed"], synapse_types=tuple(cal["synapse_types"]))
    assert rec["accuracy"] == pytest.approx(cal["calibration_accuracy"], abs=1e-9)
    assert rec["J"] == pytest.approx(cal["J"], abs=1e-9)
    # stage 2 (MBON gain and learning rate, pairing findings included) reproduces too
    mb = cal["mushroom_body"]
    rec2 = calibrate.evaluate(real_connectome, {**values, **{k: v["value"] for k, v in mb["parameters"].items()}},
                              findings=fs, split=biology.load_split(findings=fs), cascades=cascades,
                              seed=mb["seed"], synapse_types=tuple(cal["synapse_types"]), rule=mb.get("rule"))
    # at its first benchmark seed (the others cost a whole evaluation each); the record's accuracy is the mean
    # over its seeds, and J2 is the objective of that mean
    by_seed = mb.get("accuracy_by_seed", {str(mb["seed"]): mb["calibration_accuracy"]})
    assert list(by_seed) == [str(s) for s in mb.get("seeds", [mb["seed"]])]
    assert rec2["accuracy"] == pytest.approx(by_seed[str(mb["seed"])], abs=1e-9)
    assert mb["calibration_accuracy"] == pytest.approx(np.mean(list(by_seed.values())), abs=1e-9)
    j2 = calibrate.objective(mb["calibration_accuracy"], rec2["sanity"])
    if mb.get("seen_heldout"):  # objective J3: J2 plus the learning term, stored beside it in the best point
        assert mb["top"][0]["J2"] == pytest.approx(j2, abs=1e-9)
        assert mb["J"] - j2 in [pytest.approx(calibrate.LEARNING_WEIGHT * k / (2 * len(by_seed)), abs=1e-9)
                                for k in range(2 * len(by_seed) + 1)]
    else:
        assert mb["J"] == pytest.approx(j2, abs=1e-9)


@pytest.mark.realdata
def test_biology_report_numbers_are_reproduced(real_connectome, tmp_path):
    """docs/biology.md's numbers (docs/biology.json) come back from a fresh run of the report script."""
    from experiments import biology_report

    doc = json.loads((ROOT / "docs" / "biology.json").read_text())
    # the spread over benchmark seeds is rerun at the last of them only (each costs a held-out half)
    data = biology_report.report(tmp_path / "biology.md", connectome=real_connectome, seed=doc["seed"],
                                 spread_seeds=biology_report.SPREAD_SEEDS[-1:])
    for name in ("larval", "adult"):
        a, b = doc["models"][name], data["models"][name]
        for half in biology.HALVES:  # deterministic: same seed, same spikes
            assert b["accuracy"][half] == pytest.approx(a["accuracy"][half], abs=1e-9)
        for key in ("modalities_reaching", "rho", "all_frac_hot", "kc_fraction", "quiet_hz"):
            assert b["sanity"][key] == pytest.approx(a["sanity"][key], abs=1e-6)
        # the held-out half by round (round 2: papers added after the model was fixed), hit for hit
        assert {k: (v["testable"], v["hits"]) for k, v in b["heldout_by_round"].items()} == {
            k: (v["testable"], v["hits"]) for k, v in a["heldout_by_round"].items()}
    text = (tmp_path / "biology.md").read_text()
    assert f"held-out half {round(100 * doc['models']['larval']['accuracy']['heldout'])} %" in text
    # the held-out spread over benchmark seeds: the report's seed first, then SPREAD_SEEDS, each reproduced
    spread, documented = data["models"]["larval"]["heldout_by_seed"], doc["models"]["larval"]["heldout_by_seed"]
    assert list(documented) == [str(doc["seed"])] + [str(s) for s in biology_report.SPREAD_SEEDS if s != doc["seed"]]
    assert list(spread) == [str(doc["seed"]), str(biology_report.SPREAD_SEEDS[-1])]
    assert spread[str(doc["seed"])] == data["models"]["larval"]["accuracy"]["heldout"]
    for s, acc in spread.items():
        assert acc == pytest.approx(documented[s], abs=1e-9), s
    assert biology_report.heldout_spread(doc["models"]["larval"]) in (ROOT / "docs" / "biology.md").read_text()
    assert biology_report.heldout_spread(data["models"]["larval"]) in text
    assert biology_report.round_summary(data["models"]["larval"]) in text
    # stage 2's flatness, read from the calibration record's best points
    mb = models.larval_calibration()["mushroom_body"]
    assert mb["pairing_larvae"] == data["pairing_larvae"] == biology.BENCHMARK_PARAMETERS["pairing_larvae"].value
    assert [t["J"] for t in mb["top"]] == sorted((t["J"] for t in mb["top"]), reverse=True)
    assert mb["top"][0]["values"] == {k: v["value"] for k, v in mb["parameters"].items()}
    assert biology_report.stage2_flatness(mb) in text
    assert biology_report.seen_reading(data["models"]["larval"], mb) in text
    # stage 2's previous point on the held-out half, finding by finding as documented
    if mb.get("previous") and mb.get("seen_heldout"):
        assert data["models"]["larval"]["previous_point"]["table"] == doc["models"]["larval"]["previous_point"]["table"]
        assert biology_report.previous_reading(data["models"]["larval"], mb) in text
    assert f"A pairing finding runs {data['pairing_larvae']} virtual larvae" in text
    # the missed rate findings' synaptic input: the same findings, inputs and totals, and in the text
    ex, ex_doc = data["models"]["larval"]["explained"], doc["models"]["larval"]["explained"]
    assert list(ex) == list(ex_doc) and ex, list(ex)
    for fid, e in ex.items():
        if e["test"] == "pairing":  # the MBON types that moved most, and by how much (same seed, same larvae)
            assert e["index_change"] == pytest.approx(ex_doc[fid]["index_change"], abs=1e-9)
            assert [r["mbon"] for r in e["rows"]] == [r["mbon"] for r in ex_doc[fid]["rows"]]
            continue
        assert e["total_mv"] == pytest.approx(ex_doc[fid]["total_mv"], abs=1e-6)
        assert [(r["group"], r["sign"]) for r in e["rows"]] == [(r["group"], r["sign"]) for r in ex_doc[fid]["rows"]]
        w, w_doc = e["wiring"], ex_doc[fid]["wiring"]  # the graph alone: the same chains and strengths
        assert list(w) == list(w_doc), fid
        for k, v in w.items():
            assert v.keys() == w_doc[k].keys() and v.get("error") == w_doc[k].get("error"), (fid, k)
            if "error" not in v:
                assert v["per_target"] == pytest.approx(w_doc[k]["per_target"], rel=1e-9)
                assert v["inhibitory_share"] == pytest.approx(w_doc[k]["inhibitory_share"], rel=1e-9, abs=1e-12)
                assert [c["chain"] for c in v["chains"]] == [c["chain"] for c in w_doc[k]["chains"]]
                assert [x for c in v["chains"] for x in (c["excitatory"], c["inhibitory"])] == pytest.approx(
                    [x for c in w_doc[k]["chains"] for x in (c["excitatory"], c["inhibitory"])], rel=1e-9, abs=1e-12)
    # every miss is explained, rate and pairing findings alike
    assert set(ex) == {r["id"] for r in data["models"]["larval"]["table"] if r["status"] == "miss"}
    assert "\n".join(biology_report.explained_lines(data)) in text
    assert data["mbon_signs"] == doc["mbon_signs"] and biology_report.mbon_sign_reading(data["mbon_signs"]) in text


def test_near_misses_are_misses_leaning_the_published_way():
    """A miss predicted 'no_change' whose effect has the expected sign is a near miss; a wrong-way miss,
    a hit, or a 'no_change' expectation is not; the sentence counts misses, pairing misses and near misses."""
    import pandas as pd

    from experiments.biology_report import miss_reading, near_misses

    t = pd.DataFrame([
        {"id": "a", "half": "heldout", "test": "pairing", "expect": "decrease", "predicted": "no_change",
         "effect_hz": -0.02, "status": "miss"},
        {"id": "b", "half": "heldout", "test": "pairing", "expect": "decrease", "predicted": "no_change",
         "effect_hz": +0.02, "status": "miss"},
        {"id": "c", "half": "heldout", "test": "response", "expect": "no_change", "predicted": "increase",
         "effect_hz": 3.0, "status": "miss"},
        {"id": "d", "half": "heldout", "test": "response", "expect": "increase", "predicted": "increase",
         "effect_hz": 3.0, "status": "hit"},
        {"id": "e", "half": "calibration", "test": "response", "expect": "increase", "predicted": "no_change",
         "effect_hz": 0.3, "status": "miss"},
    ])
    assert list(near_misses(t, "heldout")["id"]) == ["a"]
    assert list(near_misses(t)["id"]) == ["a", "e"]
    text = miss_reading(t, "heldout")
    assert text.startswith("Of the 3 misses in the held-out half, 2 are conditioning (pairing) findings; 1 point")
    assert "(a)" in text


@pytest.mark.realdata
def test_pairing_reach_flags_a_us_whose_mbons_have_no_valence(real_connectome):
    """A US made of MBINs whose compartments hold only MBONs of valence 0 cannot move the learned valence
    index (DAN-c1 -> MBON-c1); one with signed MBONs can (DAN-g1); a US that is not all MBINs gets no verdict."""
    from experiments import biology_report
    from models import plasticity

    fs = biology.load_findings()
    reach = {r["id"]: r for r in biology_report.pairing_reach(real_connectome, fs)}
    signs = plasticity.mbon_valence(plasticity.derive_compartments(real_connectome))
    assert reach["learn-web25-04"]["us_mbins"] == ["DAN-c1"]
    assert reach["learn-web25-04"]["reachable"] is False and signs["MBON-c1"] == 0
    assert reach["learn-web25-07"]["reachable"] is True and reach["learn-web25-07"]["mbons"]["MBON-g1"] == 1
    assert reach["learn-man23-02"]["reachable"] is None  # APL: may act through the network
    table = pd.DataFrame([{"id": "learn-web25-04", "half": "heldout", "status": "miss"},
                          {"id": "learn-web25-07", "half": "heldout", "status": "miss"}])
    text = biology_report.reach_reading(table, list(reach.values()), "heldout")
    assert text.startswith("1 of the held-out misses") and "learn-web25-04: US DAN-c1 -> MBON-c1" in text
    # nor could measured MBON valences reach it: MBON-c1's activation had no significant effect (Eschbach 2021)
    assert "Nor would MBON valences measured by activation: activating MBON-c1 alone had no significant" in text
    assert "learn-web25-07" not in text
    hit = table.assign(status="hit")
    assert biology_report.reach_reading(hit, list(reach.values()), "heldout") == ""


def test_mbon_signs_against_activation_are_generated_and_documented():
    """docs/biology.md's paragraph on the index's MBON signs is the one generated from docs/biology.json and the
    activation table; with a table where one signed MBON has the opposite sign, the paragraph says so."""
    from experiments import biology_report
    from models.plasticity import mbon_activation

    doc = json.loads((ROOT / "docs" / "biology.json").read_text())
    text = biology_report.mbon_sign_reading(doc["mbon_signs"])
    assert text and text in (ROOT / "docs" / "biology.md").read_text()
    signs = {"MBON-i1": -1, "MBON-m1": 1, "MBON-j1": -1, "MBON-f1": 1, "MBON-e1": 0}
    got = biology_report.mbon_sign_reading(signs)
    assert ("tested 3 of them: 2 have the measured sign (MBON-i1 and MBON-m1); none has the opposite one; 1 had no "
            "significant effect when activated (MBON-j1); MBON-f1 was not tested.") in got
    assert "Activation had an effect for 1 MBON type the index leaves unsigned" in got and "MBON-e1 (approach)" in got
    act = mbon_activation()
    act.loc["MBON-m1", ["effect", "sign"]] = ["avoidance", -1]
    assert "1 the opposite one (MBON-m1)" in biology_report.mbon_sign_reading(signs, act)


def test_the_depression_only_stage_two_record_is_kept_and_found():
    """The candidate analyses run on the depression-only stage-2 record: the record itself while it has no rule,
    its depression_only entry once a rule is adopted; a rule without that entry is an error naming the file.
    Named rules: depression is None, timing is the variant docs/timing_rule.json chose; another name is an error."""
    from experiments import calibrate, timing_rule

    stage1 = {"parameters": {"w_syn": {"value": 2.0, "unit": "mV"}}}
    old = {"parameters": {"mbon_gain": {"value": 0.8, "unit": "1"}, "eta": {"value": 0.01, "unit": "1"}}}
    assert calibrate.depression_only_stage2({**stage1, "mushroom_body": old}) is old
    new = {"rule": {"rule_eta_b_factor": 0.5}, "parameters": {"eta": {"value": 0.02, "unit": "1"}},
           "depression_only": old}
    assert calibrate.depression_only_stage2({**stage1, "mushroom_body": new}) is old
    assert calibrate.depression_only_values({**stage1, "mushroom_body": new}) == {"w_syn": 2.0, "mbon_gain": 0.8,
                                                                                  "eta": 0.01}
    with pytest.raises(ValueError, match="larval_calibration.json.*depression_only"):
        calibrate.depression_only_stage2({**stage1, "mushroom_body": {k: v for k, v in new.items()
                                                                      if k != "depression_only"}})
    assert calibrate.named_rule("depression") is None
    assert calibrate.named_rule("timing") == timing_rule.chosen_rule()
    assert calibrate.rule_options(0.01, calibrate.named_rule("timing"))["eta_b"] > 0
    with pytest.raises(ValueError, match="rule 'hebbian'"):
        calibrate.named_rule("hebbian")
    with pytest.raises(SystemExit):
        calibrate.main(["--rule", "hebbian"])


def test_the_report_names_the_plasticity_rule_stage_two_was_searched_with():
    """docs/biology.md's stage-2 section says which rule the record was fitted with and keeps the depression-only
    record's values in view; a record without a rule says nothing of it."""
    from experiments.biology_report import stage2_previous, stage2_rule

    rule = {"rule_eta_b_factor": 0.015625, "rule_tau_d_s": 10.0, "rule_w_max": 2.0, "rule_trace_add": 1.0}
    old = {"parameters": {"mbon_gain": {"value": 0.837}, "eta": {"value": 0.0145}}}
    mb = {"rule": rule, "depression_only": old, "parameters": {"mbon_gain": {"value": 0.948}, "eta": {"value": 0.0251}},
          "previous": {**old, "seeds": [1, 2, 3]}}
    text = stage2_rule(mb)
    assert "eta_b = 0.015625 x eta, tau_d = 10 s, the dopamine trace added, w_max = 2" in text
    assert "--rule timing" in text and "(`depression_only`: mbon_gain = 0.837, eta = 0.0145)" in text
    assert stage2_rule({"parameters": {}}) == ""
    assert stage2_previous(mb) == ("Result: the point moved from mbon_gain = 0.837, eta = 0.0145 (the search on 3 "
                                   "seeds with the depression-only rule).")


def test_the_report_renders_from_its_stored_run(tmp_path, capsys):
    """``larvasim validate --biology --render`` runs no model: from docs/biology.json and the stores it quotes
    (copied beside it) it writes docs/biology.md exactly; without a stored run it is a one-line error."""
    import shutil

    from experiments import biology_report
    from larvasim.cli import main as cli

    for f in (ROOT / "docs").glob("*.json"):
        shutil.copy(f, tmp_path / f.name)
    assert cli(["validate", "--biology", "--render", "--out", str(tmp_path / "biology.md")]) == 0
    assert (tmp_path / "biology.md").read_text() == (ROOT / "docs" / "biology.md").read_text()
    assert (tmp_path / "figures" / "biology" / "accuracy_by_circuit.png").stat().st_size > 5_000
    assert cli(["validate", "--biology", "--render", "--out", str(tmp_path / "none" / "biology.md")]) == 2
    err = capsys.readouterr().err
    assert "none/biology.json: no stored run" in err and "Traceback" not in err
    assert biology_report.render(tmp_path / "biology.md")["models"]["larval"]["accuracy"]


def test_the_ceiling_counts_conflicts_once_and_unreachable_findings_for_the_family():
    from experiments.biology_report import ceiling, ceiling_reading

    t = pd.DataFrame([{"id": i, "half": "heldout", "status": st, "expect": e} for i, st, e in (
        ("a", "hit", "decrease"), ("b", "miss", "no_change"),        # a conflicting pair: one can be hit
        ("c", "miss", "increase"), ("d", "hit", "increase"), ("e", "hit", "no_change"),  # d, e, f conflict: 2 max
        ("f", "miss", "increase"), ("g", "miss", "decrease"), ("h", "hit", "no_change"),
        ("x", "untestable", "increase"))])
    groups = [{"half": "heldout", "ids": ["a", "b"], "expects": ["decrease", "no_change"]},
              {"half": "heldout", "ids": ["d", "e", "f"], "expects": ["increase", "no_change", "increase"]},
              {"half": "calibration", "ids": ["q", "r"], "expects": ["increase", "decrease"]}]
    reach = [{"id": "g", "reachable": False}, {"id": "h", "reachable": False},  # h expects no change: still hittable
             {"id": "f", "reachable": False}, {"id": "c", "reachable": None}]
    cl = ceiling(t, groups, reach)
    assert cl["n"] == 8 and cl["any"] == 3 + 1 + 2 and cl["conflicts"] == [["a", "b"], ["d", "e", "f"]]  # c, g, h
    # the family: g is out of reach; f too, so the d/e/f group can hit at most one of each outcome
    assert cl["unreachable"] == ["f", "g"] and cl["family"] == 2 + 1 + 1  # c, h + a (or b) + d (or e)
    data = {"conflicts": groups, "pairing_reach": reach, "models": {"larval": {"table": t.to_dict("records")}}}
    text = ceiling_reading(data)
    assert "none can score more than 6 of 8 (75 %)" in text and "f and g cannot be hit" in text
    assert "at most 4 of 8 (50 %)" in text and ceiling_reading({"models": {}}) == ""


@pytest.mark.realdata
def test_the_stored_conflicts_are_those_of_the_findings(real_connectome):
    """docs/biology.json's conflicting groups are conflicts() of today's findings on the real connectome, and
    docs/biology.md gives the ceiling they set."""
    from experiments.biology_report import ceiling_reading, conflicts

    doc = json.loads((ROOT / "docs" / "biology.json").read_text())
    fs = biology.load_findings()
    assert json.loads(json.dumps(conflicts(real_connectome, fs, biology.load_split(findings=fs)))) == doc["conflicts"]
    assert ceiling_reading(doc) and ceiling_reading(doc) in (ROOT / "docs" / "biology.md").read_text()


def test_wiring_column_of_the_missed_findings():
    """The report's wiring column: per readout, strength per target neuron, the inhibitory share and the two
    strongest chains; for compare findings one part per readout; 'no chain' and 'too many' said in words."""
    from experiments.biology_report import _wiring, _wiring_cell

    s = pd.DataFrame({"chain": ["KC > MBON", "KC > MBON > MBON", "KC > FBN > MBON"], "paths": [24, 257, 3],
                      "strength": [0.3, 0.08, 0.01], "share": [0.77, 0.2, 0.03], "excitatory": [0.3, 0.05, 0.01],
                      "inhibitory": [0.0, 0.03, 0.0], "strongest": ["a", "b", "c"]})
    s.attrs["targets"] = 2
    w = _wiring(s)
    assert w["readout"]["per_target"] == pytest.approx(0.39 / 2)
    assert w["readout"]["inhibitory_share"] == pytest.approx(0.03 / 0.39)
    assert [c["chain"] for c in w["readout"]["chains"]] == ["KC > MBON", "KC > MBON > MBON"]
    assert _wiring_cell(w) == "0.2 per neuron, 8% inhibitory (KC > MBON 0.3, KC > MBON > MBON 0.05 / -0.03)"
    empty = s.iloc[:0].copy()
    empty.attrs["targets"] = 4
    both = _wiring({"readout A": s, "readout B": empty})
    assert _wiring_cell(both).startswith("A: 0.2 per neuron") and _wiring_cell(both).endswith("; B: no chain")
    assert _wiring_cell(_wiring("pathways: more than 200000 paths ...")) == "too many chains to list"
