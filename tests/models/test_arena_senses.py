"""The arena (models.arena) and sensory transduction (models.senses)."""
from __future__ import annotations

import numpy as np
import pytest
from brian2 import mm, second

import connectomes
from models.arena import Arena, ArenaError, LightField, OdourSource, TemperatureGradient
from models.body import Bodies
from models.senses import SENSE_PARAMETERS, SenseError, Senses


@pytest.fixture
def toyc(toy, fresh_cache):
    return connectomes.load("winding2023", data_dir=toy.path, verify=False)


# -- arena -----------------------------------------------------------------------------
def test_gaussian_source_profile_and_sum_of_sources():
    a = Arena(40 * mm, odours=(OdourSource("A", 10 * mm, 0 * mm, 0.5, 5 * mm), OdourSource("A", -10, 0, 0.5, 5)))
    c = a.concentration("A", np.array([10.0, 15.0, 0.0]), np.zeros(3))
    np.testing.assert_allclose(c[0], 0.5 + 0.5 * np.exp(-0.5 * 20 ** 2 / 25))
    np.testing.assert_allclose(c[1], 0.5 * np.exp(-0.5) + 0.5 * np.exp(-0.5 * 25 ** 2 / 25))
    np.testing.assert_allclose(c[2], 2 * 0.5 * np.exp(-0.5 * 4))


def test_light_and_temperature_fields():
    a = Arena(40, light=LightField("half", dark_side="left"), temperature=TemperatureGradient(20.0, 0.1))
    s = a.sample(np.array([-5.0, 5.0]), np.zeros(2))
    np.testing.assert_array_equal(s["light"], [0.0, 1.0])
    np.testing.assert_allclose(s["temperature"], [19.5, 20.5])
    disc = LightField("disc", radius=10)
    np.testing.assert_array_equal(disc.level(np.array([0.0, 20.0]), np.zeros(2)), [1.0, 0.0])


def test_wall_puts_larvae_back_heading_along_it():
    a = Arena(10.0)
    b = Bodies(2, rng=np.random.default_rng(0), x=np.array([12.0, 0.0]), y=np.array([0.0, 3.0]), heading=0.0)
    hit = a.confine(b)
    np.testing.assert_array_equal(hit, [True, False])
    np.testing.assert_allclose([b.x[0], b.y[0]], [10.0, 0.0])
    assert abs(np.cos(b.heading[0])) < 1e-12  # tangent to the wall


@pytest.mark.parametrize("make,match", [
    (lambda: Arena(0.5), "radius"),
    (lambda: Arena(10, odours=(OdourSource("A", 20, 0),)), "outside the arena"),
    (lambda: OdourSource("A", 0, 0, peak=-1), "peak"),
    (lambda: OdourSource("A", 0, 0, sigma=0), "sigma"),
    (lambda: OdourSource("A", 1 * second, 0), "length"),
    (lambda: LightField("stripes"), "light kind"),
    (lambda: TemperatureGradient(centre=80), "temperature centre"),
])
def test_bad_arena_parameters_are_named(make, match):
    with pytest.raises(ArenaError, match=match):
        make()


def test_nan_position_is_an_error_naming_the_larva():
    with pytest.raises(ArenaError, match="larva 1"):
        Arena(10).sample(np.array([0.0, np.nan]), np.zeros(2))


# -- senses ----------------------------------------------------------------------------
def _orns(c):
    n = c.neurons
    return np.flatnonzero((n.celltype == "sensory") & n.modality.fillna("").str.contains("olfactory"))


def test_orn_dose_response_adaptation_and_sides(toyc):
    """Steady state spont + peak (1 - a) x; a step up overshoots, then decays with tau_adapt; left ORNs read
    the left organ."""
    orn = _orns(toyc)
    tuning = {int(i): (100.0, 0.2) for i in orn}
    s = Senses(toyc, odours={"A": tuning}, senses=["olfaction"])
    p = {k: float(SENSE_PARAMETERS[k].magnitude) for k in SENSE_PARAMETERS}
    s.reset(1)
    zero = {"odour:A": np.array([0.0])}
    for _ in range(100):
        r = s.rates(zero, zero, 0.1)
    np.testing.assert_allclose(r[0, orn], p["orn_spont"])
    c = 0.2
    x = c ** p["orn_hill"] / (c ** p["orn_hill"] + 0.2 ** p["orn_hill"])
    step = {"odour:A": np.array([c])}
    first = s.rates(step, step, 0.05)[0, orn]
    for _ in range(400):
        late = s.rates(step, step, 0.1)[0, orn]
    np.testing.assert_allclose(late, p["orn_spont"] + 100 * x * (1 - p["orn_adapt"]), rtol=1e-4)
    assert (first > late + 10).all()
    # left organ only
    side = toyc.neurons.hemisphere.to_numpy()[orn]
    s.reset(1)
    r = s.rates({"odour:A": np.array([c])}, {"odour:A": np.array([0.0])}, 0.05)[0, orn]
    assert (r[side == "left"] > r[side == "right"] + 10).all()


def test_adaptation_time_constant(toyc):
    orn = _orns(toyc)
    s = Senses(toyc, odours={"A": {int(i): (100.0, 1.0) for i in orn}}, senses=["olfaction"])
    tau = float(SENSE_PARAMETERS["orn_tau_adapt"].magnitude)
    s.reset(1)
    z = {"odour:A": np.array([0.0])}
    s.rates(z, z, 0.01)
    on = {"odour:A": np.array([1.0])}
    r0 = s.rates(on, on, 1e-6)[0, orn[0]]
    r_inf = s.rates(on, on, 100 * tau)[0, orn[0]]
    s.reset(1)
    s.rates(z, z, 0.01)
    s.rates(on, on, 1e-6)
    r_tau = s.rates(on, on, tau)[0, orn[0]]
    np.testing.assert_allclose((r_tau - r_inf) / (r0 - r_inf), np.exp(-1), rtol=1e-3)


def test_senses_errors(toyc):
    with pytest.raises(SenseError, match="unknown sense"):
        Senses(toyc, senses=["smell"])
    with pytest.raises(SenseError, match="no neurons for sense"):
        Senses(toyc, senses=["vision"])  # the toy brain has no photoreceptors
    kc = int(toyc.select(celltype="KC").indices[0])
    with pytest.raises(SenseError, match="not olfactory sensory"):
        Senses(toyc, odours={"A": {kc: 50.0}})
    s = Senses(toyc, odours={"B": {int(i): 50.0 for i in _orns(toyc)}})
    s.reset(1)
    with pytest.raises(SenseError, match="not in the arena"):
        s.rates({"odour:A": np.zeros(1)}, {"odour:A": np.zeros(1)}, 0.05)


def test_photoreceptors_and_thermosensors_on_the_real_brain(real_connectome):
    s = Senses(real_connectome, senses=["vision", "thermosensation"])
    names = real_connectome.neurons["name"].fillna("")
    for kind in ("Rh5", "Rh6"):
        idx = s.photoreceptors[kind]
        assert len(idx) and names.iloc[idx].str.startswith(f"{kind}PR").all()
    assert len(s.warm) == 4 and len(s.cold) == 6  # the data's thermo-warm / thermo-cold sensory neurons
    s.reset(1)
    half = {"light": np.array([1.0]), "temperature": np.array([20.0])}
    dark = {"light": np.array([0.0]), "temperature": np.array([20.0])}
    r = s.rates(half, dark, 0.05)[0]
    side = real_connectome.neurons.hemisphere.to_numpy()
    pr = np.concatenate(list(s.photoreceptors.values()))
    assert r[pr[side[pr] == "left"]].min() > r[pr[side[pr] == "right"]].max()
    warmer = {"light": np.array([0.0]), "temperature": np.array([20.1])}
    r = s.rates(warmer, warmer, 0.05)[0]
    assert r[s.warm].min() > r[s.cold].max()


@pytest.mark.parametrize("name, value", [("orn_max", float("inf")), ("orn_max", 0.0), ("orn_spont", float("nan")),
                                         ("thermo_gain", float("inf")), ("orn_adapt", 1.5)])
def test_sense_parameters_out_of_range_are_named(name, value):
    from brian2 import Hz

    from models.senses import sense_parameters

    q = value if name == "orn_adapt" else value * Hz
    with pytest.raises(ValueError, match=name):   # SenseError, or the parameter set's own check (NaN)
        sense_parameters(**{name: q})
