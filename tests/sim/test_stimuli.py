"""sim.stimuli: input events are drawn only where a drive is on, with the same events and the same
generator state as one draw over the whole trial (so every seeded result stays what it was)."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from brian2 import Hz, ms
from sim import stimuli


def _reference(rng, p, dead_steps):
    """The plain definition: one uniform per step, an event where it falls below the hazard,
    none within ``dead_steps`` after an event."""
    hits = np.flatnonzero(rng.random(len(p)) < p)
    out, last = [], -(10 ** 9)
    for k in hits:
        if k - last > dead_steps:
            out.append(k)
            last = k
    return np.asarray(out, dtype=np.int64)


windows = st.lists(st.tuples(st.integers(0, 5000), st.integers(1, 800), st.floats(0.0, 0.5)), max_size=6)


@settings(max_examples=200, deadline=None)
@given(windows=windows, dead=st.integers(0, 3), seed=st.integers(0, 2 ** 32 - 1),
       bitgen=st.sampled_from([np.random.PCG64, np.random.PCG64DXSM, np.random.Philox, np.random.MT19937]))
def test_sparse_draw_equals_the_full_draw(windows, dead, seed, bitgen):
    p = np.zeros(5000)
    for start, length, hazard in windows:
        p[start:start + length] = hazard
    a, b = np.random.Generator(bitgen(seed)), np.random.Generator(bitgen(seed))
    assert np.array_equal(stimuli._draw_train(a, p, dead), _reference(b, p, dead))
    assert a.random() == b.random()  # the generator continues where the full draw leaves it


def test_many_separate_runs_fall_back_to_one_draw():
    p = np.zeros(10000)
    p[::50] = 0.5  # 200 runs of one step
    a, b = np.random.default_rng(1), np.random.default_rng(1)
    assert np.array_equal(stimuli._draw_train(a, p, 0), _reference(b, p, 0))
    assert a.random() == b.random()


def test_draw_inputs_of_a_windowed_drive_keep_rate_and_window():
    """150 Hz from 100 to 600 ms of a 2 s trial: events only in the window, at the rate (dead time 1 ms)."""
    rng = np.random.default_rng(0)
    ev = stimuli.draw_inputs([stimuli.PoissonDrive(list(range(200)), 150 * Hz, start=100 * ms, stop=600 * ms)],
                             20000, 0.1, 1.0, rng)
    assert ev.steps.min() >= 1000 and ev.steps.max() < 6000
    rate = len(ev) / 200 / 0.5
    assert rate == pytest.approx(150, rel=0.03)
    with pytest.raises(ValueError, match="rate above 909 Hz"):
        stimuli.draw_inputs([stimuli.PoissonDrive([0], 950 * Hz)], 100, 0.1, 1.0, rng)
