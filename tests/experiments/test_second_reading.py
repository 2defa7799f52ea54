"""experiments.second_reading: the blind second reading is read with clear errors, compared finding by finding,
and docs/biology.md quotes its summary over the report's own statuses."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from experiments import biology
from experiments import second_reading as sr

ROOT = Path(__file__).resolve().parents[2]
HEADER = ",".join(sr.COLUMNS)


def _write(tmp_path, *rows, header=HEADER):
    p = tmp_path / "r.csv"
    p.write_text("\n".join([header, *rows]) + "\n")
    return p


@pytest.fixture(scope="module")
def findings():
    return biology.load_findings()


def test_every_testable_finding_has_a_second_reading(findings):
    """Every testable finding of the table has a second reading; a reading may precede its row's merge (a
    testable pending row), and counts only once the row is in the table."""
    rows = sr.load()
    testable = {f.id for f in findings if f.testable}
    text = biology.PENDING.read_text(encoding="utf-8")
    pending = {f.id for f in biology.load_findings(biology.PENDING) if f.testable} if "[[finding]]" in text else set()
    assert testable <= {r["id"] for r in rows} <= testable | pending
    compared = sr.compare(findings, rows)
    assert {c["id"] for c in compared} == testable and not any(c["verdict"] == "unread" for c in compared)
    assert all(r["source"] and r["reader"] and r["date"] for r in rows)
    # a decided reading quotes the text that decides it
    assert all(r["quote"] for r in rows if r["second_expect"] != "undetermined")


def test_bad_readings_are_clear_errors(tmp_path, findings):
    cases = [
        (("mb-esc21-01,increase,x,q,,me,2026-12-05",), "id,second_expect,source", "missing column(s) quote"),
        (("nope-01,increase,x,q,,me,2026-12-05",), HEADER, "row 1, column id: 'nope-01' is not a finding"),
        (("mb-esc21-01,increase,x,q,,me,d", "mb-esc21-01,decrease,x,q,,me,d"), HEADER, "row 2, column id: "
                                                                                      "'mb-esc21-01' is read twice"),
        (("mb-esc21-01,up,x,q,,me,d",), HEADER, "row 1, column second_expect: 'up' is not one of"),
        ((), HEADER, "no rows"),
    ]
    for rows, header, msg in cases:
        p = _write(tmp_path, *rows, header=header)
        with pytest.raises(sr.SecondReadingError, match=msg.replace("(", r"\(").replace(")", r"\)")) as e:
            sr.load(p, findings)
        assert str(p) in str(e.value)
    with pytest.raises(sr.SecondReadingError, match="cannot read"):
        sr.load(tmp_path / "none.csv", findings)


def test_compare_and_summary(tmp_path, findings):
    by = {f.id: f for f in findings}
    a, b, c = "mb-esc21-01", "mb-esc21-02", "mb-esc21-04"
    other = "decrease" if by[b].expect != "decrease" else "increase"
    p = _write(tmp_path, f"{a},{by[a].expect},x,q,,me,d", f"{b},{other},x,q,n,me,d", f"{c},undetermined,x,,,me,d")
    compared = sr.compare(findings, sr.load(p, findings))
    verdict = {x["id"]: x["verdict"] for x in compared}
    assert verdict[a] == "agree" and verdict[b] == "disagree" and verdict[c] == "undetermined"
    assert len(compared) == sum(f.testable for f in findings)  # every testable finding, read or not
    assert sum(v == "unread" for v in verdict.values()) == len(compared) - 3
    table = [{"id": a, "half": "heldout", "status": "hit"}, {"id": b, "half": "heldout", "status": "miss"},
             {"id": c, "half": "heldout", "status": "hit"}, {"id": "endo-01", "half": "calibration", "status": "hit"}]
    s = sr.summary(compared, table)
    assert s["halves"]["heldout"] == {"hits": 2, "n": 3, "agreed_hits": 1, "agreed_n": 1}
    assert s["halves"]["calibration"]["agreed_n"] == 0 and s["disagree"] == [b] and s["undetermined"] == [c]
    text = sr.reading(s)
    assert f"disagrees on 1 ({b})" in text and "not read yet" in text


def test_biology_md_quotes_the_second_reading(findings):
    data = json.loads((ROOT / "docs" / "biology.json").read_text())
    table = data["models"]["larval"]["table"]
    s = sr.summary(sr.compare(findings, sr.load()), table)
    doc = (ROOT / "docs" / "biology.md").read_text()
    assert sr.reading(s) in doc
    for line in sr.section(findings, table):
        assert line in doc


def test_a_revised_row_is_reported_with_its_effect(tmp_path, findings):
    """A row whose expect was changed after scoring carries its earlier expect (``revised.was``); the summary
    gives the model's status under both, and the sentence and the section name the row."""
    import dataclasses

    plain = [dataclasses.replace(f, extra={k: v for k, v in f.extra.items() if k != "revised"}) for f in findings]
    by = {f.id: f for f in plain}
    a = "mb-esc21-01"
    other = "decrease" if by[a].expect != "decrease" else "increase"
    rev = {"date": "2026-12-05", "was": other, "why": "read again"}
    changed = [dataclasses.replace(f, extra={**f.extra, "revised": rev}) if f.id == a else f for f in plain]
    p = _write(tmp_path, f"{a},{by[a].expect},x,q,,me,d")
    compared = sr.compare(changed, sr.load(p, changed))
    table = [{"id": a, "half": "heldout", "predicted": by[a].expect, "status": "hit"}]
    s = sr.summary(compared, table)
    assert s["revised"] == [{"id": a, "was": other, "expect": by[a].expect, "status_was": "miss", "status": "hit"}]
    text = sr.reading(s)
    assert f"{a}, {other} to {by[a].expect}, which turns the model's miss into a hit" in text
    assert "not changed by the second reading" not in text
    # without a revision the sentence says the table is unchanged
    assert "not changed by the second reading" in sr.reading(sr.summary(sr.compare(plain, sr.load(p, plain)), table))


@pytest.mark.parametrize("rev, msg", [
    ('"decrease"', "must be a table"),
    ('{ date = "2026-12-05", was = "decrease" }', "missing: why"),
    ('{ date = "5.12.2026", was = "decrease", why = "x" }', "key 'date'"),
    ('{ date = "2026-12-05", was = "no_change", why = "x" }', "key 'was'"),
    ('{ date = "2026-12-05", was = "greater", why = "x" }', "key 'was'"),
    ('{ date = "2026-12-05", was = "decrease", why = " " }', "key 'why'"),
])
def test_a_bad_revision_is_an_error_naming_the_file_row_and_field(tmp_path, rev, msg):
    text = biology.FINDINGS.read_text(encoding="utf-8")
    i = text.index('id = "learn-web25-04"')
    j = text.index("\nrevised = ", i)
    k = text.index("\n", j + 1)
    p = tmp_path / "findings.toml"
    p.write_text(text[:j] + f"\nrevised = {rev}" + text[k:], encoding="utf-8")
    with pytest.raises(biology.FindingsError) as e:
        biology.load_findings(p)
    assert str(p) in str(e.value) and "learn-web25-04" in str(e.value) and "'revised'" in str(e.value)
    assert msg in str(e.value)
