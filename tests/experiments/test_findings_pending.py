"""experiments/data/findings_pending.toml: rows read but not yet scored meet the table's admission rules, so they
can join findings.toml as they stand (the design is the file's header); merge_pending moves them there, marked with
the day they join, and the report counts them apart."""
from __future__ import annotations

import shutil

import pandas as pd
import pytest

from experiments import biology

PENDING = biology.PENDING


@pytest.fixture(scope="module")
def pending():
    """The pending rows; none once they have been merged (the file then holds its header only)."""
    text = PENDING.read_text(encoding="utf-8")
    assert text.startswith("# Findings read but not yet scored") and "Design (fixed 2026-12-05" in text
    return biology.load_findings(PENDING) if "[[finding]]" in text else []


def test_pending_rows_are_new_findings_of_papers_in_the_split(pending):
    table = biology.load_findings()
    split = biology.load_split(findings=table)
    known = {f.id for f in table}
    assert not ({f.id for f in pending} & known)
    by_paper = {f.paper: f for f in table}
    rounds = biology.load_rounds()
    for f in pending:
        assert f.paper in split, f.id                        # its paper's half is fixed already
        old = by_paper.get(f.paper)
        if old is not None:                                  # a paper of the table: the same citation
            assert (f.citation, f.doi) == (old.citation, old.doi), f.id
        else:                                                # a new paper: a later round, held out
            assert rounds[f.paper] > 1 and split[f.paper] == "heldout", f.id
        if f.testable:                                       # the table's admission rule: full text, quoted
            assert f.extra.get("quote") and f.figure and f.figure != "unverified", f.id
            assert "abstract only" not in f.extra.get("source_read", "abstract only").lower(), f.id
        else:
            assert f.untestable_reason, f.id


@pytest.mark.realdata
def test_pending_selections_resolve_on_the_connectome(pending, real_connectome):
    """Every selection of a testable pending row names neurons the data have (resolving a selection runs no
    model)."""
    for f in pending:
        if not f.testable:
            continue
        for key, spec in f.selections.items():
            sel = biology._select(real_connectome, spec, f"{f.where}, field {key!r}")
            assert len(sel.indices) > 0, (f.id, key)


ROW = '''[[finding]]
id = "mb-esc21-90"
circuit = "mushroom_body"
paper = "Eschbach 2021"
citation = "Eschbach C, Fushiki A, Winding M, et al. (2021) Circuits for integrating learned and innate valences in the insect brain. eLife 10:e62567"
doi = "10.7554/eLife.62567"
figure = "Fig. 6b"
finding = "a test row"
quote = "q"
source_read = "eLife XML"
test = "response"
stimulus = {{ modality = "olfactory" }}
readout = {{ name = "{readout}" }}
expect = "increase"
testable = true
untestable_reason = ""
'''


def test_merge_pending_moves_the_rows_marked_with_their_day(tmp_path):
    table, pend = tmp_path / "findings.toml", tmp_path / "pending.toml"
    shutil.copy(biology.FINDINGS, table)
    before = table.read_text()
    head = "# Findings read but not yet scored: a header\n# kept after the merge\n"
    pend.write_text(head + "\n" + ROW.format(readout="CN-33"))
    assert biology.merge_pending("2026-12-06", pend, table) == ["mb-esc21-90"]
    assert pend.read_text() == head and table.read_text().startswith(before.rstrip("\n"))
    merged = {f.id: f for f in biology.load_findings(table)}
    assert merged["mb-esc21-90"].extra["added"] == "2026-12-06" and len(merged) == len(biology.load_findings()) + 1
    assert biology.merge_pending("2026-12-06", pend, table) == []        # nothing left to move
    # a fit made before the day did not have the row; one made on it did
    assert "mb-esc21-90" not in {f.id for f in biology.findings_as_of(merged.values(), "2026-12-05")}
    assert "mb-esc21-90" in {f.id for f in biology.findings_as_of(merged.values(), "2026-12-06")}
    # an id already in the table, a paper outside the split, a bad day: both files unchanged
    text = table.read_text()
    for row, msg in ((ROW.format(readout="CN-33"), "already in"),
                     (ROW.format(readout="CN-33").replace('"mb-esc21-90"', '"x-01"').replace(
                         '"Eschbach 2021"', '"Nobody 2030"'), "not in the split")):
        pend.write_text(head + "\n" + row)
        with pytest.raises(biology.FindingsError, match=msg):
            biology.merge_pending("2026-12-07", pend, table)
        assert table.read_text() == text and pend.read_text() == head + "\n" + row
    with pytest.raises(ValueError):
        biology.merge_pending("6 Dec", pend, table)
    # a comment directly above the first row introduces the rows: it moves with them, the header stays
    shutil.copy(biology.FINDINGS, table)
    pend.write_text(head + "\n# --- the rows of reader X ---\n" + ROW.format(readout="CN-33"))
    assert biology.merge_pending("2026-12-06", pend, table) == ["mb-esc21-90"]
    assert pend.read_text() == head
    assert "\n# --- the rows of reader X ---\n[[finding]]\nid = \"mb-esc21-90\"\nadded" in table.read_text()
    bad = tmp_path / "bad.toml"
    bad.write_text(ROW.format(readout="CN-33").replace('added', 'x').replace('expect = "increase"',
                                                                             'expect = "up"'))
    with pytest.raises(biology.FindingsError, match="expect"):
        biology.merge_pending("2026-12-07", bad, table)


def test_the_report_counts_added_findings_apart():
    from experiments.biology_report import added_reading

    rows = [("a", "heldout", "hit"), ("b", "heldout", "miss"), ("c", "heldout", "hit"), ("d", "calibration", "hit"),
            ("e", "heldout", "untestable")]
    larval = {"table": [{"id": i, "half": h, "status": s} for i, h, s in rows]}
    findings = [{"id": "b", "paper": "P", "added": "2026-12-06"}, {"id": "e", "paper": "P", "added": "2026-12-06"},
                {"id": "a", "paper": "P"}, {"id": "c", "paper": "Q"}]
    text = added_reading(larval, findings)
    assert "1 testable findings read on 2026-12-06" in text and "b (heldout, miss)" in text
    assert "Held-out half: 0 of 1 of them hit (0 %); without them 2 of 2 (100 %)." in text
    assert added_reading(larval, [{"id": "a", "paper": "P"}]) == ""
    # a new paper's rows (all of its first day: a new round of the split) are not rows added to a known paper
    assert added_reading(larval, [{"id": "b", "paper": "N", "added": "2026-12-06"},
                                  {"id": "c", "paper": "N", "added": "2026-12-06"}]) == ""
    later = added_reading(larval, [{"id": "b", "paper": "N", "added": "2026-12-07"},
                                   {"id": "c", "paper": "N", "added": "2026-12-06"}])
    assert "1 testable findings read on 2026-12-07" in later and "b (heldout, miss)" in later
    assert pd.DataFrame(larval["table"]).shape[0] == 5
