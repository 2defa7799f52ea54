"""Property tests of the run-file parsers (sim.workflows.config): any quantity text, stimulus spec,
``--set`` value or run file gives a valid object or larvasim's own error naming the input."""
from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import connectomes
from brian2 import Quantity
from connectomes.synthetic import write_winding_format
from sim.workflows.config import (
    RUN_KEYS,
    _whole,
    load_run_file,
    model_from_config,
    parse_quantity,
    parse_stimulus,
    plasticity_from_config,
    split_spec,
    stimuli_from_config,
)
from sim.stimuli import PoissonDrive, Silence
from tests._props import check_own_error, mutate, quantity_text, texts, toml_dumps, toml_values

SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@pytest.fixture(scope="module")
def toyc(tmp_path_factory):
    truth = write_winding_format(tmp_path_factory.mktemp("toy") / "toy", seed=1)
    return connectomes.load("winding2023", data_dir=truth.path, verify=False)


# -- quantities -------------------------------------------------------------------------------
@SETTINGS
@given(st.one_of(quantity_text, texts, toml_values(3)))
def test_parse_quantity_gives_a_finite_quantity_or_names_the_value(text):
    try:
        q = parse_quantity(text, "drive.rate")
    except Exception as exc:  # noqa: BLE001 -- the property: only larvasim's own error
        check_own_error(exc, "drive.rate")
    else:
        assert isinstance(q, Quantity) and math.isfinite(float(q))


# -- command-line stimulus specs ---------------------------------------------------------------
_SPEC_KEYS = st.sampled_from(["rate", "start", "stop", "mode", "dead_time", "celltype", "modality", "hemisphere",
                              "name", "ids", "pair_of", "class2", "dVNCs", "nonsense", "", " "])
_SPEC_VALUES = st.one_of(quantity_text, texts,
                         st.sampled_from(["80Hz", "200 ms", "KC|MBON", "olfactory", "left", "all", "outgoing",
                                          "DAN-*", "", "|", "1|2", "true", "x=y"]))
_specs = st.one_of(
    st.lists(st.tuples(_SPEC_KEYS, _SPEC_VALUES), max_size=5).map(
        lambda kv: ",".join(f"{k}={v}" for k, v in kv)),
    st.text(max_size=40),
)


@SETTINGS
@given(kind=st.sampled_from(["drive", "activate", "silence"]), spec=_specs)
def test_stimulus_spec_gives_a_stimulus_or_names_the_spec(toyc, kind, spec):
    try:
        s = parse_stimulus(toyc, kind, spec)
    except Exception as exc:  # noqa: BLE001
        check_own_error(exc, f"--{kind}", "stimulus")
    else:
        assert isinstance(s, Silence if kind == "silence" else PoissonDrive)
        assert len(s.target.indices) > 0


# -- --set NAME=VALUE and [model_parameters] ----------------------------------------------------
@SETTINGS
@given(model=st.sampled_from(["larval_lif", "current_lif", "conductance_lif"]),
       name=st.sampled_from(["w_syn", "tau_m", "v_th", "poisson_weight_factor", "t_ref", "w_syn_e", "g_L", "KC",
                             "nonsense", ""]),
       value=st.one_of(quantity_text, texts, toml_values(3)))
def test_model_parameters_give_a_model_or_name_the_parameter(model, name, value):
    cfg = {"_path": "run.toml", "model": model, "model_parameters": {name: value}}
    try:
        model_from_config(cfg)
    except Exception as exc:  # noqa: BLE001
        check_own_error(exc, "run.toml")


# -- run files ----------------------------------------------------------------------------------
_stim_table = st.dictionaries(st.sampled_from(["select", "name", "rate", "start", "stop", "mode", "dead_time",
                                               "celltype", "modality", "hemisphere", "ids", "junk"]),
                              st.one_of(_SPEC_VALUES, toml_values(4)), max_size=5)
_plasticity = st.dictionaries(st.sampled_from(["mbins", "eta", "windows", "tau_e", "rho", "w_max", "record",
                                               "record_dt", "compartments", "enabled", "side_fraction",
                                               "trace", "junk"]),
                              st.one_of(_SPEC_VALUES, toml_values(4),
                                        st.just([["200 ms", "700 ms"]]), st.just(["DAN-i1"])), max_size=4)
_run_files = st.fixed_dictionaries({}, optional={
    "duration": st.one_of(quantity_text, toml_values(2)),
    "trials": toml_values(2), "seed": toml_values(2), "sign_seed": toml_values(2),
    "model": st.one_of(st.sampled_from(["larval_lif", "current_lif", "conductance_lif"]), toml_values(2)),
    "signs": st.one_of(st.sampled_from(["literature", "excitatory", "random"]), toml_values(2)),
    "device": toml_values(2), "synapse_types": toml_values(3), "weight_mode": toml_values(2),
    "model_parameters": st.one_of(st.dictionaries(st.sampled_from(["w_syn", "tau_m", "junk"]),
                                                  st.one_of(quantity_text, toml_values(2)), max_size=2),
                                  toml_values(2)),
    "sign_options": toml_values(3),
    "drive": st.one_of(st.lists(_stim_table, min_size=1, max_size=2), toml_values(2)),
    "activate": st.lists(_stim_table, min_size=1, max_size=2),
    "silence": st.one_of(st.lists(_stim_table, min_size=1, max_size=2), toml_values(2)),
    "plasticity": st.one_of(_plasticity, toml_values(2)),
})

#: A valid run file (the module docstring's example); the property tests edit copies of it.
VALID_RUN = {
    "duration": "1 s", "trials": 2, "seed": 1, "model": "larval_lif", "signs": "literature",
    "model_parameters": {"w_syn": "0.3 mV"},
    "drive": [{"select": {"modality": "olfactory", "hemisphere": "left"}, "rate": "80 Hz", "start": "200 ms",
               "stop": "700 ms"}, {"celltype": "KC", "rate": "20 Hz"}],
    "activate": [{"name": "APL", "rate": "50 Hz", "dead_time": "2 ms"}],
    "silence": [{"select": {"name": "APL"}, "mode": "all"}],
    "plasticity": {"mbins": ["DAN-i1"], "eta": 0.01, "windows": [["200 ms", "700 ms"]], "tau_e": "1 s"},
}


def _check_run_file(toyc, path, doc):
    try:
        cfg = load_run_file(path)
        stimuli_from_config(toyc, cfg)
        plasticity_from_config(cfg)
        model_from_config(cfg)
        parse_quantity(cfg.get("duration", "1 s"), f"{path}: duration")
        for key, default, minimum in (("trials", 1, 1), ("seed", 0, 0)):
            _whole(cfg, key, default, str(path), minimum=minimum)
    except Exception as exc:  # noqa: BLE001
        event(str(exc).split(":")[1][:40] if ":" in str(exc) else "error")
        check_own_error(exc, str(path))
    else:
        event("valid")
        assert set(cfg) <= set(RUN_KEYS) | {"_path"}


def test_the_valid_run_file_is_valid(toyc, tmp_path):
    path = tmp_path / "run.toml"
    path.write_text(toml_dumps(VALID_RUN), encoding="utf-8")
    cfg = load_run_file(path)
    assert len(stimuli_from_config(toyc, cfg)) == 4 and plasticity_from_config(cfg) is not None
    assert model_from_config(cfg).parameters["w_syn"].value == parse_quantity("0.3 mV")


@SETTINGS
@given(doc=_run_files)
def test_generated_run_file_reads_or_names_the_file(toyc, tmp_path_factory, doc):
    path = tmp_path_factory.mktemp("run") / "run.toml"
    path.write_text(toml_dumps(doc), encoding="utf-8")
    _check_run_file(toyc, path, doc)


@SETTINGS
@given(data=st.data())
def test_edited_run_file_reads_or_names_the_file(toyc, tmp_path_factory, data):
    doc = mutate(VALID_RUN, data)
    path = tmp_path_factory.mktemp("run") / "run.toml"
    path.write_text(toml_dumps(doc), encoding="utf-8")
    _check_run_file(toyc, path, doc)


@SETTINGS
@given(raw=st.one_of(st.binary(max_size=200), st.text(max_size=200).map(str.encode)))
def test_any_bytes_as_run_file(tmp_path_factory, raw):
    path = tmp_path_factory.mktemp("raw") / "run.toml"
    path.write_bytes(raw)
    try:
        load_run_file(path)
    except Exception as exc:  # noqa: BLE001
        check_own_error(exc, str(path))


def test_a_run_file_that_is_a_folder_is_named(tmp_path):
    (tmp_path / "run.toml").mkdir()
    with pytest.raises(ValueError, match="run.toml"):
        load_run_file(tmp_path / "run.toml")


@SETTINGS
@given(spec=st.text(max_size=40))
def test_split_spec_never_leaks(spec):
    try:
        split_spec(spec)
    except Exception as exc:  # noqa: BLE001
        check_own_error(exc, "stimulus")
