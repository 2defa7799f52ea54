"""experiments.biology_null: the statistics on hand-made brains, and docs/biology_null.md reproduced (real data):
the real brain's rows are docs/biology.json's, shuffled brain 0 rerun on a few findings gives its stored rows, and
a rerun resumes from the store."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from experiments import biology
from experiments import biology_null as bn
from experiments.runs import finding_keys

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "biology_null.md"


def _rows(statuses: dict) -> list[dict]:
    """Rows of one brain from ``{id: (half, status)}``."""
    return [{"id": i, "circuit": "olfactory", "half": h, "test": "response", "expect": "increase",
             "predicted": "", "effect_hz": 0.0, "status": s} for i, (h, s) in statuses.items()]


def _data():
    real = {"a": ("heldout", "hit"), "b": ("heldout", "hit"), "c": ("heldout", "miss"),
            "d": ("calibration", "hit"), "u": ("heldout", "untestable")}
    shuffled = [{"a": ("heldout", "hit"), "b": ("heldout", "miss"), "c": ("heldout", "hit"),
                 "d": ("calibration", "miss")},
                {"a": ("heldout", "hit"), "b": ("heldout", "miss"), "c": ("heldout", "miss"),
                 "d": ("calibration", "untestable")},
                {"a": ("heldout", "hit"), "b": ("heldout", "miss"), "c": ("heldout", "hit"),
                 "d": ("calibration", "hit"), "u": ("heldout", "hit")}]
    brains = {"real": {"rows": _rows(real), "seconds": 1.0}}
    brains.update({str(k): {"rows": _rows(s), "seconds": 1.0} for k, s in enumerate(shuffled)})
    return {"brains": brains}


def test_hits_p_and_reading_of_hand_made_brains():
    """Only the findings the real brain scores count (an untestable one does not, even where a shuffled brain
    hits it; one a shuffled brain cannot run is its miss); p counts the real brain: (1 + k) / (1 + N)."""
    data = _data()
    hits = bn.brain_hits(data)
    assert list(hits.index) == ["real", "0", "1", "2"]
    assert hits["heldout"].tolist() == [2, 2, 1, 2] and hits["calibration"].tolist() == [1, 0, 0, 1]
    s = bn.summary(data)
    assert s["brains"] == 3 and s["heldout"]["n"] == 3 and s["calibration"]["n"] == 1
    assert s["heldout"]["p"] == pytest.approx((1 + 2) / 4) and s["heldout"]["null_at_least"] == 2
    assert s["calibration"]["p"] == pytest.approx((1 + 1) / 4)
    assert bn.p_value(5, [1, 2, 3]) == pytest.approx(0.25) and bn.p_value(0, [0, 0]) == pytest.approx(1.0)
    t = bn.by_finding(data).set_index("id")
    assert t.loc["a", "kind"] == "generic" and t.loc["a", "null_hit_share"] == pytest.approx(1.0)
    assert t.loc["b", "kind"] == "wiring-specific" and t.loc["b", "null_hit_share"] == 0.0
    assert t.loc["c", "kind"] == "missed; most shuffled brains hit it"
    assert "u" not in t.index
    text = bn.reading(data)
    assert "median 2 of 3 held-out findings (range 1 to 2) against the real brain's 2 (p = 0.750)" in text


def test_permuted_signs_keep_the_number_of_inhibitory_neurons_and_the_modulatory_ones():
    import numpy as np

    signs = np.array([1, -1, 0, 1, 1, -1, 1, 0, 1, 1], dtype=float)
    a, b, a2 = bn.permuted_signs(signs, 0), bn.permuted_signs(signs, 1), bn.permuted_signs(signs, 0)
    for p in (a, b):
        assert (p == -1).sum() == 2 and (p == 0).sum() == 2 and set(np.unique(p)) == {-1.0, 0.0, 1.0}
        assert (p[signs == 0] == 0).all()
    assert (a == a2).all()
    draws = {tuple(bn.permuted_signs(signs, k)) for k in range(20)}
    assert len(draws) > 5  # different seeds, different draws
    keep = np.zeros(10, dtype=bool)
    keep[[0, 3, 4]] = True  # e.g. the Kenyon cells: never drawn, sign kept
    for k in range(20):
        p = bn.permuted_signs(signs, k, keep=keep)
        assert (p[keep] == signs[keep]).all() and (p == -1).sum() == 2 and (p[signs == 0] == 0).all()


def test_the_two_nulls_are_summarised_apart():
    data = _data()
    data["brains"]["signs-0"] = {"rows": _rows({"a": ("heldout", "miss"), "b": ("heldout", "miss"),
                                                "c": ("heldout", "miss"), "d": ("calibration", "hit")}),
                                 "seconds": 1.0}
    assert [bn.family(k) for k in ("real", "3", "signs-3")] == [None, "wiring", "signs"]
    assert list(bn.brain_hits(data).index) == ["real", "0", "1", "2", "signs-0"]
    assert bn.summary(data)["brains"] == 3 and bn.summary(data)["heldout"]["p"] == pytest.approx(3 / 4)
    s = bn.summary(data, "signs")
    assert s["brains"] == 1 and s["heldout"]["null_max"] == 0 and s["heldout"]["p"] == pytest.approx(1 / 2)
    assert bn.by_finding(data, "signs").set_index("id").loc["b", "kind"] == "wiring-specific"
    assert "median 0 of 3 held-out findings (range 0 to 0) against the sourced signs' 2" in bn.signs_reading(data)


def test_bad_arguments_are_one_line_errors(capsys):
    assert bn.main(["--brains", "0"]) == 2
    assert "--brains and --jobs must be at least 1, --signs at least 0" in capsys.readouterr().err


@pytest.mark.realdata
def test_the_report_is_reproduced_and_a_rerun_resumes(real_connectome, tmp_path):
    """docs/biology_null.md is its JSON's; the real brain's statuses are docs/biology.json's (the default model);
    shuffled brain 0 and the real brain rerun on a few findings give their stored rows; a second report with one
    more brain scores only that brain; a third, after a finding was added to the table and another edited, scores
    only those two on each stored brain."""
    doc = json.loads(DOC.with_suffix(".json").read_text())
    assert DOC.read_text().count(bn.reading(doc)) == 1
    assert (ROOT / "docs" / "figures" / "biology_null" / "hits.png").stat().st_size > 5_000
    assert doc["summary"] == json.loads(json.dumps(bn.summary(doc)))
    bio = json.loads((ROOT / "docs" / "biology.json").read_text())
    main = {r["id"]: r["status"] for r in bio["models"]["larval"]["table"]}
    assert {r["id"]: r["status"] for r in doc["brains"]["real"]["rows"]} == main
    stored = {b: {r["id"]: r for r in doc["brains"][b]["rows"]} for b in ("real", "0", "signs-0")}
    # findings where shuffled brain 0 and the real brain differ, and one both hit (non-pairing: cheap)
    ids = bn.RERUN_IDS
    assert any(stored["real"][i]["status"] != stored["0"][i]["status"] for i in ids)
    out = tmp_path / "n.md"
    first = bn.report(out, real_connectome, brains=1, signs=1, ids=ids)
    kept = json.loads(out.with_suffix(".json").read_text())
    kept["brains"]["0"]["rows"][0]["effect_hz"] = 123.0  # marks the stored brain: a resumed run must not rescore it
    out.with_suffix(".json").write_text(json.dumps(kept))
    second = bn.report(out, real_connectome, brains=2, signs=1, ids=ids)
    assert list(first["brains"]) == ["real", "0", "signs-0"]
    assert list(second["brains"]) == ["real", "0", "1", "signs-0"]
    assert second["brains"]["0"]["rows"][0]["effect_hz"] == 123.0
    for b in ("real", "0", "signs-0"):
        for r in first["brains"][b]["rows"]:
            old = stored[b][r["id"]]
            assert r["status"] == old["status"], (b, r["id"])
            assert r["effect_hz"] == pytest.approx(old["effect_hz"], rel=1e-9, abs=1e-12), (b, r["id"])
    assert "p = " in out.read_text()
    # a finding added to the table since (here: its rows taken out of the store) and one whose row was edited
    # (its fingerprint changed) are scored on every stored brain; the other rows are kept
    kept = json.loads(out.with_suffix(".json").read_text())
    marked = second["brains"]["0"]["rows"][0]["id"]  # its effect set to 123 above
    added, edited = [i for i in ids if i != marked][:2]
    for b in kept["brains"]:
        kept["brains"][b]["rows"] = [r for r in kept["brains"][b]["rows"] if r["id"] != added]
    kept["finding_keys"][edited] = "edited"
    out.with_suffix(".json").write_text(json.dumps(kept))
    third = bn.report(out, real_connectome, brains=2, signs=1, ids=ids)
    keys = finding_keys(ids)
    for b in ("real", "0", "signs-0"):
        rows = {r["id"]: r for r in third["brains"][b]["rows"]}
        assert list(rows) == list(keys)
        for i in (added, edited):  # rescored: the stored verdicts again
            assert rows[i]["status"] == stored[b][i]["status"], (b, i)
            assert rows[i]["effect_hz"] == pytest.approx(stored[b][i]["effect_hz"], rel=1e-9, abs=1e-12), (b, i)
    assert {r["id"]: r for r in third["brains"]["0"]["rows"]}[marked]["effect_hz"] == 123.0  # not rescored
    assert third["finding_keys"] == keys



def test_the_readme_reading_of_the_control_is_the_documents():
    """The README's words around the quoted reading (tests/test_readme.py checks the reading itself): the real brain
    beats every shuffled brain on the calibration half but not the shuffles' median on the held-out half; its wiring-specific
    held-out hits are all conditioning findings; the shuffled brains get conditioning findings that expect no
    change, and hardly learn (each wiring-specific pairing moves at most a fifth as far)."""
    doc = json.loads(DOC.with_suffix(".json").read_text())
    readme = " ".join((ROOT / "README.md").read_text().split())
    # the held-out half's reading follows its p (quoted in tests/test_readme.py, "shuffled connectomes, held-out
    # reading"); the calibration half: above every shuffled brain
    s, c = bn.summary(doc)["heldout"], bn.summary(doc)["calibration"]
    assert ("The larva's wiring counts on both halves" in readme) == (s["p"] < 0.05)
    assert s["null_median"] < s["real"] and c["null_at_least"] == 0 and c["real"] > c["null_max"]
    t = bn.by_finding(doc)
    held = t[t["half"] == "heldout"]
    specific = held[held["kind"] == "wiring-specific"]
    others = list(specific.loc[specific["test"] != "pairing", "id"])
    assert others == ["learn-web25-09", "learn-web25-10"]
    added = {f.id for f in biology.load_findings() if f.extra.get("added")}
    assert set(others) <= added
    n = {2: "two", 3: "three", 4: "4", 5: "5", 6: "6"}
    assert (f"are {n.get(int((specific['test'] == 'pairing').sum()))} conditioning findings and two taste responses of "
            f"DAN-c1 ({', '.join(others)}), both among the findings added on 2026-12-05.") in readme
    lost = held[held["kind"] == "missed; most shuffled brains hit it"]
    assert ((lost["test"] == "pairing") & (lost["expect"] == "no_change")).any()
    specific = t.loc[(t["kind"] == "wiring-specific") & (t["test"] == "pairing"), "id"]
    assert max(bn.pairing_ratios(doc, specific).values()) < 0.2
    # "The sourced signs count more ...; with the signs moved, a pairing barely moves the learned valence any more."
    assert "The sourced signs count more." in readme
    signs = bn.summary(doc, "signs")["heldout"]
    # "count more": moving the signs costs more held-out hits than shuffling the wiring (medians), and no draw of
    # moved signs does as well as the sourced ones
    assert signs["null_median"] < bn.summary(doc)["heldout"]["null_median"] and signs["null_at_least"] == 0
    ts = bn.by_finding(doc, "signs")
    lost = ts.loc[(ts["kind"] == "wiring-specific") & (ts["test"] == "pairing"), "id"]
    assert len(lost) >= 5 and max(bn.pairing_ratios(doc, lost, "signs").values()) < 0.2


def test_biology_md_quotes_the_control_and_flags_a_stale_one(tmp_path):
    """docs/biology.md's summary line is null_reading of the two JSONs; a control scored on other statuses is
    called stale; without the file the line is left out."""
    from experiments.biology_report import null_reading

    larval = json.loads((ROOT / "docs" / "biology.json").read_text())["models"]["larval"]
    line = null_reading(larval, DOC.with_suffix(".json"))
    assert line.startswith("* **Against null models:** ") and bn.reading(
        json.loads(DOC.with_suffix(".json").read_text())) in line
    assert line in (ROOT / "docs" / "biology.md").read_text()
    assert null_reading(larval, tmp_path / "absent.json") is None
    stale = json.loads(DOC.with_suffix(".json").read_text())
    row = next(r for r in stale["brains"]["real"]["rows"] if r["status"] == "hit")
    row["status"] = "miss"
    (tmp_path / "biology_null.json").write_text(json.dumps(stale))
    assert "was scored on another model or other findings" in null_reading(larval, tmp_path / "biology_null.json")
    # the per-finding table's null columns: each finding's share, from the same JSON; none from a stale one
    from experiments.biology_report import null_shares

    assert null_shares(larval, tmp_path / "biology_null.json") is None
    shares = null_shares(larval, DOC.with_suffix(".json"))
    doc = json.loads(DOC.with_suffix(".json").read_text())
    assert shares["wiring"]["share"] == bn.by_finding(doc).set_index("id")["null_hit_share"].to_dict()
    text = (ROOT / "docs" / "biology.md").read_text()
    assert "| shuffled brains hitting it | permuted signs hitting it |" in text
    row = next(ln for ln in text.splitlines() if ln.startswith("| learn-web25-02 |"))
    assert row.rstrip(" |").endswith(f"{100 * shares['wiring']['share']['learn-web25-02']:.0f} % | "
                                     f"{100 * shares['signs']['share']['learn-web25-02']:.0f} %")


@pytest.mark.realdata
def test_the_sign_null_changes_only_the_signs(real_connectome):
    """The sign null's network is the default model given a signs array: with the literature signs themselves as
    that array it scores exactly as the default model (docs/biology_null.json's real rows)."""
    import sim
    from experiments import biology
    from experiments.biology_report import default_network

    doc = json.loads(DOC.with_suffix(".json").read_text())
    base = default_network(real_connectome)
    assert doc["n_inhibitory"] == int((base.signs < 0).sum())
    same = sim.Network(real_connectome, signs=base.signs.copy(), device=base.device)
    fs = [f for f in biology.load_findings() if f.id in bn.RERUN_IDS]
    table = biology.score(same, fs).table.set_index("id")
    real = {r["id"]: r for r in doc["brains"]["real"]["rows"]}
    for fid in bn.RERUN_IDS:
        assert table.loc[fid, "status"] == real[fid]["status"], fid
        assert table.loc[fid, "effect_hz"] == pytest.approx(real[fid]["effect_hz"], rel=1e-9, abs=1e-12), fid


@pytest.mark.realdata
def test_the_kenyon_cell_codes_of_the_sign_null_are_reproduced(real_connectome):
    """The sourced signs' code of the odour is docs/odours.json's; sign draw 0's is rerun; the report's claim that
    the code loses its sparseness (every draw drives more KCs than the sourced signs, the median over nine in
    ten of them) holds for the stored codes."""
    import numpy as np

    doc = json.loads(DOC.with_suffix(".json").read_text())
    kc = doc["kc_code"]
    odours = json.loads((ROOT / "docs" / "odours.json").read_text())
    assert kc["default"] == next(r["kcs"] for r in odours["odours"] if r["odour"] == kc["odour"])
    assert list(kc["draws"]) == [str(k) for k in range(bn.summary(doc, "signs")["brains"])]
    fresh = bn.kc_code(real_connectome, [0])
    assert fresh["default"] == kc["default"] and fresh["draws"]["0"] == kc["draws"]["0"]
    v = np.array(list(kc["draws"].values()))
    assert v.min() > kc["default"] and np.median(v) > 0.9 * kc["n_kcs"]
    assert "spreads to nearly every Kenyon cell" in DOC.read_text()
