"""experiments/data/findings_pending.toml: rows read but not yet scored meet the table's admission rules, so they
can join findings.toml as they stand (the design is the file's header)."""
from __future__ import annotations

from pathlib import Path

import pytest

from experiments import biology

PENDING = Path(biology.__file__).parent / "data" / "findings_pending.toml"


@pytest.fixture(scope="module")
def pending():
    return biology.load_findings(PENDING)


def test_pending_rows_are_new_findings_of_papers_in_the_split(pending):
    table = biology.load_findings()
    split = biology.load_split(findings=table)
    known = {f.id for f in table}
    assert pending and not ({f.id for f in pending} & known)
    by_paper = {f.paper: f for f in table}
    for f in pending:
        assert f.paper in split, f.id                        # its paper's half is fixed already
        old = by_paper[f.paper]
        assert (f.citation, f.doi) == (old.citation, old.doi), f.id
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
