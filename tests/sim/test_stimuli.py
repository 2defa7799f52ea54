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


def _reference_inputs(drives, n_steps, dt_ms, dead_ms, rng):
    """draw_inputs by its definition: every drive's rate over the whole trial, one uniform per step and neuron."""
    t_ms = np.arange(n_steps) * dt_ms
    neurons, steps = [], []
    for stim in drives:
        dead_steps = int(round((dead_ms if stim.dead_time is None else float(stim.dead_time / ms)) / dt_ms))
        r = stim.rates_hz(t_ms) * dt_ms * 1e-3
        with np.errstate(divide="ignore", over="ignore"):
            p = np.where(r > 0, 1.0 / np.maximum(1.0 / np.where(r > 0, r, 1.0) - dead_steps, 1.0), 0.0)
        for idx in stimuli.as_indices(stim.target):
            k = _reference(rng, p, dead_steps)
            neurons.append(np.full(len(k), idx, dtype=np.int64))
            steps.append(k)
    neurons, steps = np.concatenate(neurons), np.concatenate(steps)
    order = np.lexsort((neurons, steps))
    return neurons[order], steps[order]


drive = st.tuples(st.integers(0, 3000), st.one_of(st.none(), st.integers(0, 3000)), st.floats(0, 400),
                  st.sampled_from([None, 0.0, 0.3, 2.0]), st.booleans())


@settings(max_examples=100, deadline=None)
@given(drives=st.lists(drive, min_size=1, max_size=4), seed=st.integers(0, 2 ** 32 - 1),
       bitgen=st.sampled_from([np.random.PCG64, np.random.MT19937]))
def test_draw_inputs_equal_the_whole_trial_definition(drives, seed, bitgen):
    """Constant drives in a window (drawn window by window) and rates that are functions of time give the
    events of the whole-trial definition, and leave the generator where it would."""
    ds = []
    for k, (start, length, rate, dead, fn) in enumerate(drives):
        stop = None if length is None else (start + length) * 0.1 * ms
        r = (lambda t, rate=rate: rate * Hz * (t > 100 * ms)) if fn else rate * Hz
        ds.append(stimuli.PoissonDrive([k, k + 10], r, start=start * 0.1 * ms, stop=stop,
                                       dead_time=None if dead is None else dead * ms))
    a, b = np.random.Generator(bitgen(seed)), np.random.Generator(bitgen(seed))
    ev = stimuli.draw_inputs(ds, 2500, 0.1, 1.0, a)
    neurons, steps = _reference_inputs(ds, 2500, 0.1, 1.0, b)
    assert np.array_equal(ev.neurons, neurons) and np.array_equal(ev.steps, steps)
    assert a.random() == b.random()


@pytest.mark.parametrize("block", [2500, 3 * 2500, 10 ** 7])
def test_drives_on_every_step_are_drawn_in_blocks_of_rows_as_defined(monkeypatch, block):
    """A drive on for the whole trial draws its neurons' uniforms a block of rows at a time (``_BLOCK``
    uniforms at most): one row per block, three, or all ten neurons at once give the definition's events,
    in neuron order as the target lists them (here not ascending), and leave the generator where it would."""
    monkeypatch.setattr(stimuli, "_BLOCK", block)
    ds = [stimuli.PoissonDrive([7, 3, 9, 0, 5, 1, 8, 2, 6, 4], 300 * Hz),
          stimuli.PoissonDrive([3, 11], 40 * Hz, dead_time=0 * ms)]
    a, b = np.random.default_rng(11), np.random.default_rng(11)
    ev = stimuli.draw_inputs(ds, 2500, 0.1, 1.0, a)
    neurons, steps = _reference_inputs(ds, 2500, 0.1, 1.0, b)
    assert len(ev) > 500 and np.array_equal(ev.neurons, neurons) and np.array_equal(ev.steps, steps)
    assert a.random() == b.random()


@settings(max_examples=200, deadline=None)
@given(events=st.lists(st.tuples(st.integers(0, 20), st.integers(0, 49)), max_size=300))
def test_event_order_is_numpys_lexsort(events):
    """Events sorted by step, then neuron, exact ties in their order: the compiled counting sort gives
    ``np.lexsort((neurons, steps))``'s order (tried with repeated steps, neurons and whole events)."""
    from sim import _trains

    neurons = np.array([n for n, _ in events], dtype=np.int64)
    steps = np.array([s for _, s in events], dtype=np.int64)
    got_n, got_s = _trains.order(neurons, steps, 50)
    ref = np.lexsort((neurons, steps))
    assert np.array_equal(got_n, neurons[ref]) and np.array_equal(got_s, steps[ref])
