"""Property tests of the findings loader (experiments.biology.load_findings): generated rows and edited
copies of the real rows of experiments/data/findings.toml give findings or a FindingsError naming the
file (and, for a bad row, the finding and the field)."""
from __future__ import annotations

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from experiments.biology import FINDINGS, OPTIONAL, REQUIRED, Finding, FindingsError, load_findings
from tests._props import check_own_error, mutate, quantity_text, texts, toml_dumps, toml_values

SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

#: Three real rows (a response, a silencing and an untestable finding), read once.
_ROWS = tomllib.loads(FINDINGS.read_text(encoding="utf-8"))["finding"]
REAL = [next(r for r in _ROWS if r["test"] == "response" and r["testable"]),
        next(r for r in _ROWS if r["test"] == "silencing" and r["testable"]),
        next(r for r in _ROWS if not r["testable"])]


def _check(path, n_rows=None):
    try:
        out = load_findings(path)
    except Exception as exc:  # noqa: BLE001 -- the property: only larvasim's own error
        event(str(exc).split(":")[1][:40] if ":" in str(exc) else "error")
        check_own_error(exc, str(path))
    else:
        event("valid")
        assert all(isinstance(f, Finding) for f in out)
        assert n_rows is None or len(out) == n_rows


def test_the_real_rows_load(tmp_path):
    path = tmp_path / "findings.toml"
    path.write_text(toml_dumps({"finding": REAL}), encoding="utf-8")
    assert [f.id for f in load_findings(path)] == [r["id"] for r in REAL]


@SETTINGS
@given(data=st.data())
def test_edited_real_rows_load_or_name_the_file(tmp_path_factory, data):
    doc = mutate({"finding": REAL}, data, values=st.one_of(toml_values(4), quantity_text,
                                                          st.sampled_from(["response", "silencing", "compare",
                                                                           "pairing", "increase", "greater"])))
    path = tmp_path_factory.mktemp("findings") / "findings.toml"
    path.write_text(toml_dumps(doc), encoding="utf-8")
    _check(path)


_row = st.fixed_dictionaries(
    {f: st.one_of(texts, toml_values(2)) for f in REQUIRED},
    optional={f: st.one_of(texts, quantity_text, toml_values(3), st.just({"name": "MBON-i1"}))
              for f in OPTIONAL + ("junk",)})


@SETTINGS
@given(rows=st.one_of(st.lists(_row, max_size=3), toml_values(3)))
def test_generated_rows_load_or_name_the_file(tmp_path_factory, rows):
    path = tmp_path_factory.mktemp("findings") / "findings.toml"
    path.write_text(toml_dumps({"finding": rows}), encoding="utf-8")
    _check(path)


@settings(max_examples=60, deadline=None)
@given(raw=st.binary(max_size=120))
def test_any_bytes_as_findings_file(tmp_path_factory, raw):
    path = tmp_path_factory.mktemp("raw") / "findings.toml"
    path.write_bytes(raw)
    _check(path)


def test_a_findings_file_that_is_a_folder_is_named(tmp_path):
    (tmp_path / "f.toml").mkdir()
    with pytest.raises(FindingsError, match="f.toml"):
        load_findings(tmp_path / "f.toml")
