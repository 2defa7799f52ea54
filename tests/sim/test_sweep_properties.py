"""Property tests of sweep files (sim.workflows.sweep.load_sweep_file): any ``[sweep]`` table (grid,
points, random, seeds, window, readouts, ...) gives a planned sweep or larvasim's own error naming the
file. Parsing and planning only: nothing is run."""
from __future__ import annotations

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from sim.workflows.sweep import Sweep, load_sweep_file
from tests._props import check_own_error, mutate, quantity_text, toml_dumps, toml_values

SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

#: A valid sweep file: a run file plus [sweep] with a grid (docs/sweeps.md).
VALID_SWEEP = {
    "duration": "500 ms", "trials": 1, "seed": 0,
    "drive": [{"select": {"modality": "olfactory"}, "rate": "80 Hz"}],
    "sweep": {"name": "wsyn", "seeds": 2, "window": ["100 ms", "400 ms"], "readouts": ["celltype"],
              "grid": {"w_syn": ["0.2 mV", "0.3 mV"], "drive.rate": ["20 Hz", "40 Hz"]}},
}
VALID_POINTS = {"sweep": {"points": [{"w_syn": "0.2 mV", "signs": "excitatory"}, {"tau_m": "10 ms"}],
                          "seeds": [1, 2]}}
VALID_RANDOM = {"drive": [{"celltype": "KC", "rate": "10 Hz"}],
                "sweep": {"random": {"n": 3, "seed": 1, "parameters": {
                    "w_syn": {"uniform": ["0.1 mV", "0.4 mV"]}, "drive.rate": {"loguniform": ["1 Hz", "50 Hz"]},
                    "trials": {"randint": [1, 3]}, "signs": ["literature", "excitatory"]}}}}

_sweep_tables = st.fixed_dictionaries({}, optional={
    "grid": st.one_of(st.dictionaries(st.sampled_from(["w_syn", "drive.rate", "drive.0.rate", "model", "trials",
                                                       "sign_options.fraction", "x.y", "", "tau_m", "drive.9.rate"]),
                                      st.one_of(st.lists(st.one_of(quantity_text, toml_values(2)), max_size=3),
                                                toml_values(2)), max_size=3),
                      toml_values(3)),
    "points": toml_values(4), "random": toml_values(5), "seeds": toml_values(3), "window": toml_values(3),
    "readouts": toml_values(3), "name": toml_values(2), "spikes": toml_values(2), "jobs": toml_values(2),
    "connectome": toml_values(2), "verify": toml_values(2),
})


def _check(path):
    try:
        sw = load_sweep_file(path)
    except Exception as exc:  # noqa: BLE001 -- the property: only larvasim's own error
        event(str(exc).split(":")[1][:40] if ":" in str(exc) else "error")
        check_own_error(exc, str(path))
    else:
        event("valid")
        assert isinstance(sw, Sweep) and len(sw.plan) >= 1
        sw.table_plan()


def test_the_valid_sweeps_are_valid(tmp_path):
    for k, doc in enumerate((VALID_SWEEP, VALID_POINTS, VALID_RANDOM)):
        path = tmp_path / f"s{k}.toml"
        path.write_text(toml_dumps(doc), encoding="utf-8")
        assert len(load_sweep_file(path).plan) in (8, 4, 3)


@SETTINGS
@given(sweep=_sweep_tables, base=st.sampled_from([{}, {"drive": VALID_SWEEP["drive"]}]))
def test_generated_sweep_file_plans_or_names_the_file(tmp_path_factory, sweep, base):
    path = tmp_path_factory.mktemp("sweep") / "sweep.toml"
    path.write_text(toml_dumps({**base, "sweep": sweep}), encoding="utf-8")
    _check(path)


@SETTINGS
@given(data=st.data(), doc=st.sampled_from([VALID_SWEEP, VALID_POINTS, VALID_RANDOM]))
def test_edited_sweep_file_plans_or_names_the_file(tmp_path_factory, data, doc):
    path = tmp_path_factory.mktemp("sweep") / "sweep.toml"
    path.write_text(toml_dumps(mutate(doc, data)), encoding="utf-8")
    _check(path)


@settings(max_examples=60, deadline=None)
@given(raw=st.binary(max_size=120))
def test_any_bytes_as_sweep_file(tmp_path_factory, raw):
    path = tmp_path_factory.mktemp("raw") / "sweep.toml"
    path.write_bytes(raw)
    _check(path)
