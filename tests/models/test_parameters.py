"""Parameter / ParameterSet behaviour: units, overrides, serialisation, errors."""

import json

import pytest
from brian2 import Hz, mV, ms, nS, pF, second, volt

from models import (
    CLASS_PARAMETERS,
    OVERRIDE_PREFIX,
    ConductanceAdaptiveLIF,
    CurrentLIF,
    Parameter,
    ParameterDimensionError,
    ParameterSet,
    UnknownParameterError,
    available_models,
    get_model,
    parse_unit,
)


@pytest.fixture
def pset():
    return ParameterSet(
        [
            Parameter("tau_m", 20 * ms, "ms", "Paper A 2020", "membrane time constant"),
            Parameter("tau_syn", 5 * ms, "ms", "Paper B 2021", "synaptic time constant"),
            Parameter("v_th", -45 * mV, "mV", "free parameter", "spike threshold"),
            Parameter("n_inputs", 250, "1", "Paper C", "number of inputs"),
        ],
        name="demo",
    )


# -- Parameter ------------------------------------------------------------------------


def test_parameter_stores_value_in_its_unit():
    p = Parameter("v_th", -0.045 * volt, "mV", "src", "threshold")
    assert p.magnitude == pytest.approx(-45.0)
    assert p.value == -45 * mV
    assert p.unit == "mV"
    assert p.format_value() == "-45 mV"


def test_parameter_rejects_wrong_dimension_and_plain_numbers():
    with pytest.raises(ParameterDimensionError, match=r"'tau_m'.*'ms'.*second.*got -45\. mV"):
        Parameter("tau_m", -45 * mV, "ms", "src", "d")
    with pytest.raises(ParameterDimensionError, match=r"'tau_m'.*plain number 20"):
        Parameter("tau_m", 20, "ms", "src", "d")


def test_parameter_dimensionless_accepts_numbers_keeps_int():
    p = Parameter("f", 250, "1", "src", "factor")
    assert p.value == 250 and isinstance(p.value, int)
    with pytest.raises(ParameterDimensionError):
        Parameter("f", 250 * mV, "1", "src", "factor")


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"name": "not valid"}, "identifier"),
        ({"source": ""}, "source"),
        ({"description": "two\nlines"}, "single line"),
        ({"unit": "mVolt"}, "unknown unit"),
        ({"value": float("nan") * ms}, "NaN"),
        ({"value": [1, 2] * ms}, "scalar"),
    ],
)
def test_parameter_validation(kwargs, match):
    args = {"name": "tau", "value": 1 * ms, "unit": "ms", "source": "s", "description": "d"}
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        Parameter(**args)


def test_parse_unit_compound_and_dimensionless():
    assert parse_unit("1") == 1
    assert 3 * parse_unit("mV/ms") == 3 * volt / second
    assert 2 * parse_unit("ms**-1") == 2000 * Hz
    with pytest.raises(ValueError, match="unknown unit 'mvolts'"):
        parse_unit("mvolts")
    with pytest.raises(ValueError):
        parse_unit("__import__('os')")


# -- ParameterSet -------------------------------------------------------------------


def test_set_is_ordered_mapping_and_rejects_duplicates(pset):
    assert list(pset) == ["tau_m", "tau_syn", "v_th", "n_inputs"]
    assert pset.value("tau_syn") == 5 * ms
    with pytest.raises(ValueError, match="duplicate"):
        ParameterSet([pset["tau_m"], pset["tau_m"]])


def test_override_returns_new_set_and_records_source(pset):
    new = pset.override(tau_m=10 * ms, n_inputs=3)
    assert new["tau_m"].value == 10 * ms and new["n_inputs"].value == 3
    assert new["tau_m"].source == "user override (was: Paper A 2020)"
    assert new["tau_syn"] == pset["tau_syn"]  # untouched entries keep their source
    assert pset["tau_m"].value == 20 * ms  # original unchanged
    assert list(new) == list(pset)
    # overriding twice keeps the original provenance
    assert new.override(tau_m=12 * ms)["tau_m"].source == f"{OVERRIDE_PREFIX}Paper A 2020)"


def test_override_unknown_name_names_parameter_and_close_matches(pset):
    with pytest.raises(ValueError, match=r"unknown parameter 'tau_sin'.*did you mean 'tau_syn'") as info:
        pset.override(tau_sin=1 * ms)
    assert isinstance(info.value, UnknownParameterError)
    with pytest.raises(KeyError, match="v_thr"):
        pset["v_thr"]


def test_override_wrong_dimension_names_parameter_and_unit(pset):
    with pytest.raises(ValueError, match=r"parameter 'v_th' expects a value in 'mV' \(volt\)"):
        pset.override(v_th=3 * ms)
    with pytest.raises(ParameterDimensionError, match=r"'tau_syn'.*'ms'"):
        pset.override(tau_syn=5)


def test_to_dict_is_json_and_round_trips_exactly(pset):
    data = pset.to_dict()
    assert data["v_th"] == {"value": -45.0, "unit": "mV", "source": "free parameter", "description": "spike threshold"}
    back = ParameterSet.from_dict(json.loads(json.dumps(data)), name="demo")
    assert back == pset
    assert list(back) == list(pset)
    with pytest.raises(ValueError, match="missing keys"):
        ParameterSet.from_dict({"x": {"value": 1, "unit": "ms"}})


@pytest.mark.parametrize("name", ["current_lif", "conductance_lif"])
def test_default_sets_round_trip_exactly(name):
    model = get_model(name)
    data = json.loads(json.dumps(model.to_dict()))
    assert ParameterSet.from_dict(data["parameters"]) == model.parameters
    if isinstance(model, ConductanceAdaptiveLIF):
        for label, ps in model.cell_classes.items():
            back = ParameterSet.from_dict(data["cell_classes"][label])
            assert all(back[k].value == ps[k].value for k in ps)


def test_table_lists_every_parameter(pset):
    text = str(pset)
    lines = text.splitlines()
    assert lines[0].startswith("ParameterSet 'demo'")
    assert lines[1].split()[:5] == ["name", "value", "unit", "source", "description"]
    assert len(lines) == 3 + len(pset)
    row = next(line for line in lines if line.startswith("v_th"))
    assert "-45" in row and "mV" in row and "free parameter" in row and "spike threshold" in row


def test_namespace_holds_brian2_quantities(pset):
    ns = pset.namespace()
    assert ns == {"tau_m": 20 * ms, "tau_syn": 5 * ms, "v_th": -45 * mV, "n_inputs": 250}
    assert pset.namespace(["v_th"]) == {"v_th": -45 * mV}


# -- published parameter values -----------------------------------------------------


def test_every_model_parameter_has_unit_and_source():
    for name in available_models():
        model = get_model(name)
        sets = [model.parameters]
        if isinstance(model, ConductanceAdaptiveLIF):
            sets += list(model.cell_classes.values())
        for ps in sets:
            for p in ps.values():
                assert p.unit and p.source.strip() and p.description.strip(), p


def test_current_lif_defaults_are_shiu_et_al():
    p = CurrentLIF.default_parameters()
    expected = {
        "v_rest": -52 * mV, "v_reset": -52 * mV, "v_th": -45 * mV, "tau_m": 20 * ms, "tau_syn": 5 * ms,
        "t_ref": 2.2 * ms, "delay": 1.8 * ms, "w_syn": 0.275 * mV, "dt": 0.1 * ms,
    }
    for key, value in expected.items():
        assert p[key].value == value, key
        assert "Shiu et al. 2024" in p[key].source or key == "dt"
    assert p["w_syn"].source.startswith("free parameter")


def test_conductance_defaults_are_juergensen_et_al():
    model = ConductanceAdaptiveLIF()
    p = model.parameters
    assert (p.value("E_e"), p.value("E_i"), p.value("E_a")) == (0 * mV, -75 * mV, -90 * mV)
    assert (p.value("tau_e"), p.value("tau_i"), p.value("tau_a")) == (5 * ms, 10 * ms, 1000 * ms)
    assert p.value("t_ref") == 2 * ms
    classes = model.cell_classes
    assert model.default_class == "default"
    expected = {  # label: (C_m, g_L, E_L, V_th, V_reset, delta_g_a)
        "default": (100 * pF, 5 * nS, -60 * mV, -35 * mV, -60 * mV, 0.1 * nS),
        "PN": (30 * pF, 2.5 * nS, -59 * mV, -30 * mV, -59 * mV, 0 * nS),
        "LN": (50 * pF, 2.5 * nS, -59 * mV, -30 * mV, -59 * mV, 0 * nS),
        "KC": (30 * pF, 0.5 * nS, -55 * mV, -35 * mV, -55 * mV, 0.02 * nS),
        "APL": (200 * pF, 5 * nS, -60 * mV, -30 * mV, -60 * mV, 0 * nS),
        "MBON": (100 * pF, 5 * nS, -60 * mV, -35 * mV, -60 * mV, 0.1 * nS),
    }
    for label, values in expected.items():
        got = tuple(classes[label].value(k) for k in CLASS_PARAMETERS)
        assert all(abs(g - e) <= 1e-9 * abs(e) for g, e in zip(got, values)), label
    for ps in [model.parameters, *classes.values()]:
        for param in ps.values():
            assert "Jürgensen et al. 2024" in param.source or param.source.startswith("free parameter")
