"""Model registry: names, defaults, overrides and errors."""

import pytest
from brian2 import mV, ms, nS, pF

from models import (ConductanceAdaptiveLIF, CurrentLIF, LarvalLIF, NeuronModel, available_models, get_model,
                    register_model)


def test_available_models_default_first():
    assert available_models() == ("larval_lif", "conductance_lif", "current_lif")
    assert isinstance(get_model(), LarvalLIF) and isinstance(get_model(), CurrentLIF)   # same equations
    assert type(get_model("current_lif")) is CurrentLIF
    assert isinstance(get_model("conductance_lif"), ConductanceAdaptiveLIF)


def test_get_model_applies_overrides():
    m = get_model("current_lif", w_syn=0.3 * mV, tau_syn=10 * ms)
    assert m.parameters.value("w_syn") == 0.3 * mV and m.parameters.value("tau_syn") == 10 * ms
    assert m.namespace()["tau_syn"] == 10 * ms
    c = get_model("conductance_lif", w_syn_e=0.1 * nS, APL={"C_m": 150 * pF})
    assert c.synaptic_weights(2, 1)[()] == 0.2 * nS
    assert c.class_parameter_arrays(["APL", None])["C_m"][0] == 150 * pF


def test_get_model_errors():
    with pytest.raises(ValueError, match=r"unknown neuron model 'current_lf'.*did you mean 'current_lif'"):
        get_model("current_lf")
    with pytest.raises(ValueError, match=r"'w_sin'.*did you mean 'w_syn'"):
        get_model(w_sin=1 * mV)
    with pytest.raises(ValueError, match=r"'tau_m' expects a value in 'ms'"):
        get_model(tau_m=20)


def test_register_model_rejects_name_clash():
    class Other(CurrentLIF):
        pass

    with pytest.raises(ValueError, match="already registered"):
        register_model(Other)
    with pytest.raises(TypeError):
        register_model(dict)
    assert register_model(CurrentLIF) is CurrentLIF
    assert issubclass(CurrentLIF, NeuronModel)


@pytest.mark.parametrize("name,overrides,message", [
    ("larval_lif", {"w_syn": float("inf") * mV}, "w_syn must be finite"),
    ("larval_lif", {"w_syn": -1 * mV}, "w_syn must be >= 0"),
    ("current_lif", {"tau_m": 0 * ms}, "tau_m must be > 0"),
    ("current_lif", {"v_th": -80 * mV}, "must be above v_reset"),
    ("conductance_lif", {"tau_e": -1 * ms}, "tau_e must be > 0"),
])
def test_non_physical_parameters_are_refused(name, overrides, message):
    with pytest.raises(ValueError, match=message):
        get_model(name, **overrides)


def test_larval_drive_weight_clears_the_highest_adapted_threshold():
    """drive_weight = (v_th - v_rest) + adapt_increment / (1 - exp(-t_ref / tau_adapt)), rounded up to
    10 mV, at least 40 mV; it follows overrides of those parameters unless set by the user."""
    import numpy as np
    from brian2 import mV, ms

    def expected(m):
        p = m.parameters
        gap = float((p["v_th"].value - p["v_rest"].value) / mV)
        inc = float(p["adapt_increment"].value / mV)
        theta = inc / (1 - np.exp(-float(p["t_ref"].value / ms) / float(p["tau_adapt"].value / ms)))
        return max(40.0, 10 * np.ceil((gap + theta) / 10))

    m = get_model("larval_lif")
    assert float(m.parameters["drive_weight"].value / mV) == expected(m) > 100
    assert m.parameters["drive_weight"].source.startswith("derived:")
    slow = get_model("larval_lif", adapt_increment=1 * mV, tau_adapt=50 * ms)
    assert float(slow.parameters["drive_weight"].value / mV) == expected(slow)
    assert float(get_model("larval_lif", adapt_increment=0 * mV).parameters["drive_weight"].value / mV) == 40.0
    fixed = get_model("larval_lif", drive_weight=50 * mV).with_overrides(adapt_increment=9 * mV)
    assert float(fixed.parameters["drive_weight"].value / mV) == 50.0
    assert fixed.parameters["drive_weight"].source.startswith("user override")
