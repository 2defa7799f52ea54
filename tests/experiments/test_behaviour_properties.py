"""Property tests of behaviour files (experiments.behaviour.read_config): any ``[behaviour]``,
``[decoder]``, ``[body]``, ``[senses]`` or ``[sweep]`` table gives a checked configuration or an
AssayError naming the file. Parsing and checking only: no assay is run."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from experiments.behaviour import AssayError, read_config
from tests._props import check_own_error, mutate, quantity_text, texts, toml_dumps, toml_values

SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

#: A valid behaviour file (docs/behaviour.md): a chemotaxis assay, decoder, body and senses overrides, a sweep.
VALID = {
    "behaviour": {"assay": "chemotaxis", "larvae": 4, "duration": 30.0, "decoder": "cast_sampling", "seed": 1,
                  "batch": 2, "conditions": ["brain", "random_walk"], "out": "out", "dan": "DAN-i1"},
    "decoder": {"change_gain": 8, "tau_fast": "0.3 second"},
    "body": {"run_speed": "1.1 mm/second"},
    "senses": {"orn_adapt": 0.5},
    "sweep": {"decoder.change_gain": [4, 8], "body.turn_rate": ["0.1 Hz", "0.2 Hz"]},
}

_values = st.one_of(toml_values(4), quantity_text, st.sampled_from(
    ["free", "chemotaxis", "learning", "light", "lr_asymmetry", "random_walk", "1 mm/second", "0.3 * second",
     "2 parsecs", "nan", "-1", "1e999", "8"]))


def _check(path):
    try:
        cfg = read_config(path)
    except Exception as exc:  # noqa: BLE001 -- the property: only larvasim's own error
        event(str(exc).split(":")[1][:40] if ":" in str(exc) else "error")
        check_own_error(exc, str(path))
    else:
        event("valid")
        assert set(cfg) == {"behaviour", "decoder", "body", "senses", "sweep"}


def test_the_valid_file_reads(tmp_path):
    path = tmp_path / "b.toml"
    path.write_text(toml_dumps(VALID), encoding="utf-8")
    assert read_config(path)["behaviour"]["assay"] == "chemotaxis"


@SETTINGS
@given(data=st.data())
def test_edited_behaviour_file_reads_or_names_the_file(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("behaviour") / "b.toml"
    path.write_text(toml_dumps(mutate(VALID, data, values=_values)), encoding="utf-8")
    _check(path)


_tables = st.fixed_dictionaries({}, optional={
    "behaviour": st.dictionaries(st.sampled_from(["assay", "larvae", "duration", "decoder", "seed", "batch",
                                                  "threads", "conditions", "out", "dan"]), _values, max_size=4),
    "decoder": st.dictionaries(st.sampled_from(["change_gain", "tau_fast", "tau_slow", "turn_gain", "junk"]),
                               _values, max_size=3),
    "body": st.dictionaries(st.sampled_from(["run_speed", "turn_rate", "turn_angle_mean", "body_length", ""]),
                            _values, max_size=3),
    "senses": st.dictionaries(st.sampled_from(["orn_adapt", "orn_max", "pr_gain", "junk"]), _values, max_size=3),
    "sweep": st.dictionaries(st.one_of(texts, st.sampled_from(["decoder.change_gain", "body.run_speed",
                                                                "senses.orn_adapt", "body", "x.y"])),
                             st.one_of(st.lists(_values, max_size=3), _values), max_size=2),
    "arena": toml_values(2),
})


@SETTINGS
@given(doc=_tables)
def test_generated_behaviour_file_reads_or_names_the_file(tmp_path_factory, doc):
    path = tmp_path_factory.mktemp("behaviour") / "b.toml"
    path.write_text(toml_dumps(doc), encoding="utf-8")
    _check(path)


@settings(max_examples=60, deadline=None)
@given(raw=st.binary(max_size=120))
def test_any_bytes_as_behaviour_file(tmp_path_factory, raw):
    path = tmp_path_factory.mktemp("raw") / "b.toml"
    path.write_bytes(raw)
    _check(path)


def test_a_behaviour_file_that_is_a_folder_is_named(tmp_path):
    (tmp_path / "b.toml").mkdir()
    with pytest.raises(AssayError, match="b.toml"):
        read_config(tmp_path / "b.toml")
