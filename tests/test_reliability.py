"""The reliability probe (issue #15): every bad input or fault of ``tests/reliability_cases.py`` ends as its
table says (a clear error, a correct behaviour, or a clean interruption), and ``docs/reliability.md`` is
the render of that table."""
from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from tests import reliability_cases as rc

DOC = Path(__file__).resolve().parents[1] / "docs" / "reliability.md"


@pytest.fixture(scope="module")
def probe(tmp_path_factory):
    base = tmp_path_factory.mktemp("reliability")
    shared = rc.make_context_base(base / "_shared")
    yield base, shared
    ro = base / "_shared" / "read-only"
    ro.chmod(ro.stat().st_mode | stat.S_IWUSR)


@pytest.mark.parametrize("case", rc.CASES, ids=[c.id for c in rc.CASES])
def test_case_outcome(case, probe):
    base, shared = probe
    outcome, detail = rc.run_case(case, base, shared)
    if outcome == "skipped":
        pytest.skip(detail)
    assert outcome == case.expect, f"{case.id} {case.what}: {outcome}: {detail}"


def test_table_is_well_formed():
    ids = [c.id for c in rc.CASES]
    assert len(ids) == len(set(ids)) and len(ids) >= 100
    for c in rc.CASES:
        assert c.category in rc.CATEGORIES, c.id
        assert c.expect in (rc.CLEAR, rc.CORRECT, rc.INTERRUPTED), c.id
        assert (c.check is not None) == (c.expect == rc.CORRECT), c.id
        assert c.expect != rc.CLEAR or c.names, f"{c.id}: a clear error must name something"


def test_classifier_can_fail():
    """The outcome classes are not all 'clear error': each bad ending is recognised."""
    case = rc.Case("X", "arguments", "x", [], names="--bogus", outputs=("o.h5",))
    ctx = rc.Context(tmp=Path("/nonexistent"), toy=Path("."), cache=Path("."), ro=None)
    assert rc.classify(case, ctx, 2, "", "larvasim: error: unrecognized --bogus\n", None)[0] == rc.CLEAR
    assert rc.classify(case, ctx, 0, "", "", None)[0] == "wrong result"
    assert rc.classify(case, ctx, None, "", "", ValueError("x"))[0] == "traceback"
    assert rc.classify(case, ctx, 2, "", "Traceback (most recent call last):\n  x\n", None)[0] == "traceback"
    assert rc.classify(case, ctx, 2, "", "larvasim: error: something is wrong\n", None)[0] == "vague message"
    assert rc.classify(case, ctx, 2, "", "larvasim: error: --bogus got 0. * second\n", None)[0] == "vague message"
    assert rc.classify(case, ctx, 1, "", "larvasim: error: --bogus\n", None)[0] == "other exit"


def test_doc_is_the_render_of_the_table():
    """docs/reliability.md lists every case with the outcome test_case_outcome checks it has (regenerate:
    python -m tests.reliability_cases --write docs/reliability.md)."""
    before = json.loads(rc.BEFORE_FILE.read_text()) if rc.BEFORE_FILE.is_file() else {}
    assert DOC.read_text() == rc.render({c.id: c.expect for c in rc.CASES}, before)
