"""A blind second reading of every testable finding's expected outcome (double extraction).

Every number of the biology benchmark rests on one reader's translation of a paper into a row of
``experiments/data/findings.toml``: which test, which neurons, and above all which outcome counts as published
(``expect``). Systematic reviews guard that step with a second, independent extraction; this module holds ours
(``experiments/data/findings_second_reading.csv``) and compares it with the table.

The design, fixed before any second reading was made (2026-12-05, session 37)
-----------------------------------------------------------------------------
* Scope: every finding the table marks testable (44), of both halves, hits and misses alike.
* Blind: the second reader gets for each finding the citation, DOI, figure, where the first reader read it, the
  test type and its selections (what was stimulated, silenced or paired, and what was read out), and the
  benchmark's definition of each test type and outcome (:mod:`experiments.biology`); not the first reading's
  ``expect``, ``finding``, ``quote``, ``size`` or ``note``, and no model result. The reader finds the passage
  and states the published outcome in the benchmark's terms (``increase``, ``decrease``, ``no_change``;
  ``greater`` / ``less`` for a compare test), or ``undetermined`` where the text that can be read does not
  decide it, with a quote and what was read.
* Compared per finding: ``agree`` (same outcome), ``disagree`` or ``undetermined``.
* What it decides: nothing in the table by itself. The report gives the agreement, every disagreement with both
  readings, and, as a sensitivity analysis, the default model's accuracy per half on the findings both readings
  agree on (the statuses of ``docs/biology.json``; no model is run). A row changes only in a later, separate
  commit, after the passage has been read again, and such a change is reported with its effect on the score,
  whichever way it goes.
"""
from __future__ import annotations

import csv
from pathlib import Path

__all__ = ["COLUMNS", "OUTCOMES", "READING", "SecondReadingError", "compare", "load", "reading", "section",
           "summary"]

#: The second reading shipped with larvasim.
READING = Path(__file__).parent / "data" / "findings_second_reading.csv"
#: Columns of the second reading's CSV, in order.
COLUMNS = ("id", "second_expect", "source", "quote", "note", "reader", "date")
#: What a second reader may answer (``less`` for a compare test whose readout A is below B).
OUTCOMES = ("increase", "decrease", "no_change", "greater", "less", "undetermined")


class SecondReadingError(ValueError):
    """A second-reading CSV that cannot be used: the message names the file, row and column."""


def load(path=READING, findings=None) -> list[dict]:
    """The second reading's rows (one per finding id), checked against the findings table.

    Parameters
    ----------
    path : path-like
        The CSV (:data:`COLUMNS`); default the shipped one.
    findings : list of experiments.biology.Finding, optional
        Default the shipped table and its pending rows (``experiments/data/findings_pending.toml``: a reading may
        precede a row's merge; :func:`compare` counts it once the row is in the table); every row's id must be one
        of them.

    Raises
    ------
    SecondReadingError
        A missing column, an unknown or repeated id, or an outcome not in :data:`OUTCOMES`, with the file, row
        (1 = the first row after the header) and column.
    """
    from . import biology

    path = Path(path)
    if findings is None:
        findings = biology.load_findings()
        if "[[finding]]" in biology.PENDING.read_text(encoding="utf-8"):
            findings = findings + biology.load_findings(biology.PENDING)
    known = {f.id for f in findings}
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            header = list(reader.fieldnames or [])
            rows = list(reader)
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise SecondReadingError(f"{path}: cannot read ({getattr(e, 'strerror', None) or e})") from None
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise SecondReadingError(f"{path}: missing column(s) {', '.join(missing)} (expected {', '.join(COLUMNS)})")
    if not rows:
        raise SecondReadingError(f"{path}: no rows")
    seen = set()
    for i, r in enumerate(rows, start=1):
        if r["id"] not in known:
            raise SecondReadingError(f"{path}, row {i}, column id: {r['id']!r} is not a finding of the table")
        if r["id"] in seen:
            raise SecondReadingError(f"{path}, row {i}, column id: {r['id']!r} is read twice")
        seen.add(r["id"])
        if r["second_expect"] not in OUTCOMES:
            raise SecondReadingError(f"{path}, row {i}, column second_expect: {r['second_expect']!r} is not one of "
                                     f"{', '.join(OUTCOMES)}")
    return rows


def compare(findings, rows) -> list[dict]:
    """Per testable finding: the table's ``expect``, the second reading's, and ``agree`` / ``disagree`` /
    ``undetermined`` (``unread`` for a testable finding without a second reading); ``was``: the row's earlier
    ``expect`` where it was revised (its ``revised`` field), else empty."""
    second = {r["id"]: r for r in rows}
    out = []
    for f in findings:
        if not f.testable:
            continue
        r = second.get(f.id)
        if r is None:
            verdict, other = "unread", ""
        else:
            other = r["second_expect"]
            verdict = ("undetermined" if other == "undetermined" else "agree" if other == f.expect else "disagree")
        was = (f.extra.get("revised") or {}).get("was", "")
        out.append({"id": f.id, "paper": f.paper, "test": f.test, "expect": f.expect, "second_expect": other,
                    "verdict": verdict, "was": was, "quote": (r or {}).get("quote", ""), "note": (r or {}).get("note", "")})
    return out


def summary(compared: list[dict], table: list[dict]) -> dict:
    """The agreement, and the model's hits per half on all scored findings and on those both readings agree on
    (``table``: the rows of ``docs/biology.json``'s larval model, with ``id``, ``half``, ``predicted`` and
    ``status``), and each revised row's status under its earlier and its present ``expect``."""
    verdicts = {c["id"]: c["verdict"] for c in compared}
    counts = {v: sum(1 for x in verdicts.values() if x == v) for v in ("agree", "disagree", "undetermined", "unread")}
    halves = {}
    for half in ("calibration", "heldout"):
        scored = [r for r in table if r["half"] == half and r["status"] in ("hit", "miss")]
        agreed = [r for r in scored if verdicts.get(r["id"]) == "agree"]
        halves[half] = {"hits": sum(r["status"] == "hit" for r in scored), "n": len(scored),
                        "agreed_hits": sum(r["status"] == "hit" for r in agreed), "agreed_n": len(agreed)}
    rows = {r["id"]: r for r in table}
    revised = []
    for c in compared:
        if not c["was"]:
            continue
        r = rows.get(c["id"], {})
        status = r.get("status", "-")
        before = (("hit" if r.get("predicted") == c["was"] else "miss") if status in ("hit", "miss") else status)
        revised.append({"id": c["id"], "was": c["was"], "expect": c["expect"], "status_was": before,
                        "status": status})
    return {"counts": counts, "n": len(compared), "halves": halves, "revised": revised,
            "disagree": [c["id"] for c in compared if c["verdict"] == "disagree"],
            "undetermined": [c["id"] for c in compared if c["verdict"] == "undetermined"]}


def _frac(h: int, n: int) -> str:
    return f"{h} of {n} ({100 * h / n:.0f} %)" if n else "none"


def reading(s: dict) -> str:
    """The summary in one sentence (the line docs/biology.md and the README quote)."""
    c, cal, held = s["counts"], s["halves"]["calibration"], s["halves"]["heldout"]
    text = (f"A blind second reading of the {s['n']} testable findings' published outcomes "
            f"(`experiments/data/findings_second_reading.csv`, design in `experiments/second_reading.py`) agrees "
            f"with the table on {c['agree']}, disagrees on {c['disagree']}"
            + (f" ({', '.join(s['disagree'])})" if s["disagree"] else "")
            + f" and cannot decide {c['undetermined']}"
            + (f" ({', '.join(s['undetermined'])})" if s["undetermined"] else "")
            + (f"; {c['unread']} are not read yet" if c["unread"] else "")
            + f". On the findings both readings agree on, the default model hits {_frac(cal['agreed_hits'], cal['agreed_n'])}"
            f" of the calibration half and {_frac(held['agreed_hits'], held['agreed_n'])} of the held-out half "
            f"(all scored findings: {_frac(cal['hits'], cal['n'])} and {_frac(held['hits'], held['n'])}). "
            + _revisions(s.get("revised", [])))
    return text


def _revisions(revised: list[dict]) -> str:
    if not revised:
        return "The table is not changed by the second reading (a sensitivity analysis)."
    items = "; ".join(f"{r['id']}, {r['was']} to {r['expect']}, which turns the model's {r['status_was']} into a "
                      f"{r['status']}" if r["status_was"] != r["status"] else
                      f"{r['id']}, {r['was']} to {r['expect']}, the model's {r['status']} either way"
                      for r in revised)
    n = len(revised)
    return (f"{'One row was' if n == 1 else f'{n} rows were'} changed afterwards, in a separate commit after the "
            f"passage was read again (the row's `revised` field): {items}; no other row is changed by the second "
            "reading.")


def section(findings, table: list[dict], path=READING) -> list[str]:
    """docs/biology.md's lines on the second reading: the summary and a table of the findings the readings do not
    agree on and of those revised after it (empty when there is no second reading at ``path``)."""
    if not Path(path).is_file():
        return []
    compared = compare(findings, load(path))
    s = summary(compared, table)
    status = {r["id"]: r["status"] for r in table}
    lines = ["### A second reading of the published outcomes", "", reading(s) + " The readers' notes (the CSV's "
             "`note` column) also name rows whose selections may not match the experiment (a driver line that labels "
             "more or fewer neurons than the selection, an optogenetic stimulus standing for a sensory one); they "
             "are not acted on here.", ""]
    odd = [c for c in compared if c["verdict"] in ("disagree", "undetermined") or c["was"]]
    if odd:
        lines += ["| finding | test | table | second reading | model | second reader's quote and note |",
                  "| --- | --- | --- | --- | --- | --- |"]
        for c in odd:
            text = " ".join(t for t in (f'"{c["quote"]}"' if c["quote"] else "", c["note"]) if t)
            table_expect = f"{c['expect']} (was {c['was']})" if c["was"] else c["expect"]
            lines.append(f"| {c['id']} | {c['test']} | {table_expect} | {c['second_expect']} | "
                         f"{status.get(c['id'], '-')} | {text.replace('|', '/')} |")
        lines.append("")
    return lines
