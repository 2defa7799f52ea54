"""Motor decoders (models.decoders): the registry and what each hypothesis commands."""
from __future__ import annotations

import numpy as np
import pytest
from brian2 import Hz

import connectomes
from models.body import CAST, RUN, BODY_PARAMETERS, MotorCommands
from models.decoders import (DECODERS, Decoder, DecoderError, available_decoders, get_decoder,
                             register_decoder)


@pytest.fixture
def toyc(toy, fresh_cache):
    return connectomes.load("winding2023", data_dir=toy.path, verify=False)


BASE = float(BODY_PARAMETERS["turn_rate"].magnitude)


def test_registry_names_and_errors():
    assert {"random_walk", "cast_sampling", "lr_asymmetry"} <= set(available_decoders())
    with pytest.raises(DecoderError, match="did you mean cast_sampling"):
        get_decoder("cast_sampler")
    with pytest.raises(DecoderError, match="floor"):
        get_decoder("cast_sampling", floor=-1 * Hz)
    with pytest.raises(DecoderError, match="tau_slow"):
        get_decoder("lr_asymmetry", tau_slow=0.1 * __import__("brian2").second)
    with pytest.raises(DecoderError, match="unknown|no_such"):
        get_decoder("cast_sampling", no_such=1.0)


def test_a_registered_decoder_is_used_by_name():
    @register_decoder
    class Always(Decoder):
        name = "always_left"
        rationale = "test"
        uses_brain = False

        def command(self, counts, dt, modes=None):
            c = MotorCommands.free(self.larvae, 1.0)
            c.turn_bias[:] = 1.0
            return c

    try:
        d = get_decoder("always_left")
        d.reset(3, np.random.default_rng(0))
        assert (d.command(None, 0.05).turn_bias == 1).all()
        assert d.describe()["name"] == "always_left"
    finally:
        DECODERS.pop("always_left")
    with pytest.raises(DecoderError):
        register_decoder(int)


def _counts(dec, left_hz, right_hz, dt=0.05, larvae=1):
    s = dec._slices
    c = np.zeros((larvae, len(dec.readout)))
    nl = s["left"].stop - s["left"].start
    nr = s["right"].stop - s["right"].start
    c[:, s["left"]] = left_hz * dt / nl
    c[:, s["right"]] = right_hz * dt / nr
    return c


def test_cast_sampling_turns_less_while_output_rises_and_rejects_falling_casts(toyc):
    d = get_decoder("cast_sampling")
    d.bind(toyc)
    d.reset(1, np.random.default_rng(0))
    run = np.array([RUN])
    for _ in range(100):
        cmd = d.command(_counts(d, 10, 10), 0.05, run)
    np.testing.assert_allclose(cmd.turn_rate, BASE, rtol=1e-3)  # steady: the free rate
    for _ in range(10):
        up = d.command(_counts(d, 30, 30), 0.05, run)
    assert up.turn_rate[0] < 0.5 * BASE
    for _ in range(200):
        d.command(_counts(d, 30, 30), 0.05, run)
    for _ in range(10):
        down = d.command(_counts(d, 5, 5), 0.05, run)
    assert down.turn_rate[0] > 2 * BASE
    # a cast during which output falls is rejected; one during which it rises is kept
    d.reset(2, np.random.default_rng(0))
    for _ in range(100):
        d.command(_counts(d, 20, 20, larvae=2), 0.05, np.array([RUN, RUN]))
    c = _counts(d, 20, 20, larvae=2)
    c[0] *= 0.2
    c[1] *= 3.0
    for _ in range(10):
        cmd = d.command(c, 0.05, np.array([CAST, CAST]))
    np.testing.assert_array_equal(cmd.reject, [True, False])


def test_lr_asymmetry_turns_to_the_side_with_more_output(toyc):
    d = get_decoder("lr_asymmetry")
    d.bind(toyc)
    d.reset(1, np.random.default_rng(0))
    for _ in range(50):
        left = d.command(_counts(d, 40, 5), 0.05)
    assert left.turn_bias[0] > 0.5 and left.steer[0] > 0
    d.reset(1, np.random.default_rng(0))
    for _ in range(50):
        right = d.command(_counts(d, 5, 40), 0.05)
    assert right.turn_bias[0] < -0.5


def test_named_descending_neurons_stop_and_back_up(real_connectome):
    d = get_decoder("cast_sampling")
    d.bind(real_connectome)
    assert len(d.pdm) == 2 and len(d.mdn) == 4  # PDM-DN left/right, MDNa/b left/right
    d.reset(1, np.random.default_rng(0))
    c = np.zeros((1, len(d.readout)))
    c[0, d._slices["pdm"]] = 50 * 0.05
    assert d.command(c, 0.05).stop[0]
    c = np.zeros((1, len(d.readout)))
    c[0, d._slices["mdn"]] = 50 * 0.05
    cmd = d.command(c, 0.05)
    assert cmd.back[0] and not cmd.stop[0]


def test_a_brain_decoder_needs_descending_neurons(tmp_path, fresh_cache):
    from connectomes.synthetic import write_winding_format

    layout = (("sensory", "olfactory", 2, 0), ("PN", "1a PN", 2, 0), ("KC", "KC", 2, 0))
    c = connectomes.load("winding2023", data_dir=write_winding_format(tmp_path / "t", layout=layout).path,
                         verify=False)
    with pytest.raises(DecoderError, match="descending"):
        get_decoder("cast_sampling").bind(c)
