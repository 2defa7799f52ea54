"""Stepping a network in chunks with its state kept (sim.stepping, EngineNetwork.step)."""
from __future__ import annotations

import numpy as np
import pytest
from brian2 import Hz, mV, ms

import connectomes
import sim
from models import get_model
from models.plasticity import DopaminePlasticity
from sim.backends import BackendError
from sim.stimuli import InputEvents


@pytest.fixture
def toyc(toy, fresh_cache):
    return connectomes.load("winding2023", data_dir=toy.path, verify=False)


def _chunks(ev, bounds):
    """The events of [a, b) for each chunk, steps counted from the chunk's start."""
    out = []
    for a, b in zip(bounds[:-1], bounds[1:]):
        m = (ev.steps >= a) & (ev.steps < b)
        out.append(InputEvents(ev.neurons[m], ev.steps[m] - a, ev.dt_ms))
    return out


@pytest.mark.parametrize("model, timing", [("larval_lif", False), ("larval_lif_adapting", False),
                                           ("current_lif", False), ("conductance_lif", False), ("larval_lif", True)])
def test_chunked_run_has_exactly_the_spikes_of_one_run(toyc, model, timing):
    """Chunks of 1 s, 250 + 1 + 1749 + 1000 steps, and 7 steps (shorter than the synaptic delay, so
    spikes are in flight across chunk borders), with plasticity on: same spikes, same final weights.
    (``larval_lif_adapting``: the larval model with a rising threshold, carried across chunks; ``timing``: the
    timing-dependent rule, whose dopamine traces are carried too.)"""
    rule = DopaminePlasticity("names", eta=0.05, record="mbon",
                              **(dict(eta_b=0.05, tau_d=100 * ms, w_max=1.5) if timing else {}))
    m = (get_model("larval_lif", adapt_increment=3 * mV, tau_adapt=50 * ms) if model == "larval_lif_adapting"
         else model)
    net = sim.Network(toyc, model=m, signs="literature", plasticity=rule, device="numba")
    stim = [sim.PoissonDrive(toyc.select(modality="olfactory"), 150 * Hz),
            sim.PoissonDrive(toyc.select(celltype="KC"), 30 * Hz),
            sim.Activation(toyc.select(name="DAN-*"), 60 * Hz, start=100 * ms)]
    n = 3000
    ev = net.draw_inputs(stim, n * net.dt, trials=2, seed=3)
    ref = net.run(stim, duration=n * net.dt, trials=2, inputs=ev)
    w_final = net.engine_network(n * net.dt).run(ev).plastic.final      # per plastic synapse, per larva
    assert ref.n_spikes > 100 and np.any(w_final < net.engine_network(n * net.dt).plastic_w0)
    for bounds in ([0, n], [0, 250, 251, 2000, n], list(range(0, n, 7)) + [n]):
        st = net.stepper(larvae=2)
        for a, b in zip(bounds[:-1], bounds[1:]):
            st.step((b - a) * net.dt, events=[_chunks(e, [a, b])[0] for e in ev])
        res = st.results()
        assert res.spikes.equals(ref.spikes), (model, len(bounds) - 1)
        assert st.n_steps == n and float(st.t / ms) == pytest.approx(300.0)
        np.testing.assert_array_equal(st.plastic_weights, w_final)


def test_rates_and_stimuli_inputs_are_seeded_per_larva(toyc):
    net = sim.Network(toyc, device="numba")
    olf = toyc.select(modality="olfactory").indices
    rates = np.zeros(toyc.n_neurons)
    rates[olf] = 120.0

    def run(seed):
        st = net.stepper(larvae=3, seed=seed)
        spikes = [st.step(20 * ms, rates=rates * Hz) for _ in range(5)]
        return st, spikes

    a, sa = run(1)
    b, sb = run(1)
    c, _ = run(2)
    ra, rb, rc = a.results(), b.results(), c.results()
    assert ra.spikes.equals(rb.spikes) and not ra.spikes.equals(rc.spikes)
    assert ra.n_trials == 3 and float(ra.duration / ms) == pytest.approx(100.0)
    # larvae differ from each other, and the driven neurons fire near their rate
    per = ra.rates().loc[olf]
    assert not per[0].equals(per[1])
    assert 80 < per.to_numpy().mean() < 160
    # each chunk's spikes are returned with times from the start of the run
    times = np.concatenate([s[0][1] for s in sa])
    assert times.min() >= 0 and times.max() < 100
    # per-larva rates: larva 0 driven, larva 1 not
    st = net.stepper(larvae=2, seed=0)
    r2 = np.zeros((2, toyc.n_neurons))
    r2[0, olf] = 150.0
    out = st.step(50 * ms, rates=r2)
    assert len(out[0][0]) > 0 and len(out[1][0]) == 0
    # stimuli with times from the chunk's start
    st = net.stepper(larvae=1, seed=0)
    st.step(10 * ms)
    out = st.step(30 * ms, stimuli=[sim.PoissonDrive(toyc.select(modality="olfactory"), 150 * Hz, start=10 * ms)])
    assert out[0][1].min() >= 20.0
    assert st.state("v").shape == (1, toyc.n_neurons)


def test_stepping_refuses_bad_input_and_devices(toyc):
    with pytest.raises(BackendError, match="device 'numpy' cannot step"):
        sim.Network(toyc, device="numpy").stepper()
    net = sim.Network(toyc, device="numba")
    st = net.stepper(larvae=2)
    with pytest.raises(ValueError, match="whole number of steps"):
        st.step(0.05 * ms)
    with pytest.raises(ValueError, match=r"rates must have shape"):
        st.step(10 * ms, rates=np.zeros(3))
    with pytest.raises(ValueError, match="finite and >= 0"):
        st.step(10 * ms, rates=np.full(toyc.n_neurons, np.nan))
    with pytest.raises(ValueError, match="give one of"):
        st.step(10 * ms, rates=np.zeros(toyc.n_neurons), events=[])
    with pytest.raises(ValueError, match="events: 1 sets for 2 larvae"):
        st.step(10 * ms, events=[InputEvents([], [])])
    with pytest.raises(ValueError, match="unknown state variable 'w'"):
        st.state("w")
    with pytest.raises(ValueError, match="larvae must be >= 1"):
        net.stepper(larvae=0)
    assert st.n_steps == 0   # nothing ran


@pytest.mark.realdata
def test_whole_brain_chunks_across_a_silence_equal_one_run(real_connectome):
    """Odour, 2 s of silence (the engine puts neurons to sleep), odour again, on the default larval
    model: chunks of 37 steps -- shorter than the engine's sleep scan, so every chunk starts with one --
    give the spikes and the final state (v, g, theta) of one run."""
    from sim.engine_numba import state_variables

    c = real_connectome
    net = sim.Network(c, device="numba")
    olf = c.select(modality="olfactory")
    stim = [sim.PoissonDrive(olf, 100 * Hz, start=0 * ms, stop=300 * ms),
            sim.PoissonDrive(olf, 100 * Hz, start=2300 * ms, stop=2500 * ms)]
    n = 25900  # 700 chunks of 37 steps
    ev = net.draw_inputs(stim, n * net.dt, trials=1, seed=2)
    ref = net.run(stim, duration=n * net.dt, trials=1, inputs=ev)
    eng = net.engine_network(n * net.dt)
    one = eng.initial_state()
    eng.step([one], [ev[0]], n)
    st = net.stepper(larvae=1)
    for a in range(0, n, 37):
        st.step(37 * net.dt, events=[_chunks(ev[0], [a, a + 37])[0]])
    late = ref.spikes["t_ms"].to_numpy() > 2300
    assert (~ref.spikes["node_id"].isin(olf.indices).to_numpy() & late).sum() > 1000  # the brain answers again
    assert st.results().spikes.equals(ref.spikes)
    for k, var in enumerate(state_variables(net.model)):
        assert np.array_equal(st.state(var)[0], one.state[k]), var


@pytest.mark.realdata
def test_whole_brain_chunks_of_20_ms_equal_one_run(real_connectome):
    """The default larval model on the whole connectome, odour + DAN-i1 with the learning rule:
    ten 20-ms chunks give the spikes and plastic weights of one 200-ms run."""
    c = real_connectome
    rule = DopaminePlasticity(record=None)
    net = sim.Network(c, plasticity=rule, device="numba")
    stim = [sim.PoissonDrive(c.select(modality="olfactory"), 100 * Hz),
            sim.Activation(c.select(name="DAN-i1"), 50 * Hz, start=50 * ms)]
    n = 2000
    ev = net.draw_inputs(stim, n * net.dt, trials=2, seed=1)
    ref = net.run(stim, duration=n * net.dt, trials=2, inputs=ev)
    w_final = net.engine_network(n * net.dt).run(ev).plastic.final
    st = net.stepper(larvae=2)
    for a in range(0, n, 200):
        st.step(20 * ms, events=[_chunks(e, [a, a + 200])[0] for e in ev])
    assert ref.n_spikes > 1000 and st.results().spikes.equals(ref.spikes)
    np.testing.assert_array_equal(st.plastic_weights, w_final)
