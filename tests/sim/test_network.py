"""The Brian2 network built from a connectome: wiring, weights, delays, drive, silencing, seeds."""
from __future__ import annotations

import numpy as np
import pytest
from brian2 import Hz, mV, ms, second

import connectomes
import sim
from models import get_model
from sim.stimuli import InputEvents


@pytest.fixture
def toyc(toy, fresh_cache):
    return connectomes.load("winding2023", data_dir=toy.path, verify=False)


def _strongest_edge(c, types=connectomes.SYNAPSE_TYPES):
    W = c.weights(types).tocoo()
    k = int(np.argmax(W.data))
    return int(W.row[k]), int(W.col[k]), int(W.data[k])


def test_single_event_psp_through_the_network(toyc):
    """One drive event to neuron A: A spikes one step later; every target j of A sees
    g jump by count(A->j) x w_syn exactly delay + dt after A's spike, and nothing else moves."""
    a, b, count = _strongest_edge(toyc)
    targets = np.flatnonzero(toyc.weights().toarray()[a])
    net = sim.Network(toyc, model="current_lif", signs="excitatory",
                      record_states={"g": np.arange(toyc.n_neurons)})
    ev = [InputEvents([a], [100])]
    res = net.run(duration=20 * ms, inputs=ev)
    trains = res.spike_trains(0)
    assert list(trains.get(a, [])) == [pytest.approx(10.1)]  # event in step 100 -> spike in step 101
    idx, t_ms, g = res.states["g"]
    g = g[0] * 1e3  # volt -> mV
    w = toyc.weights().toarray()[a]
    land = int(round((10.1 + 1.8 + 0.1) / 0.1))  # spike step + delay + one step (Brian2 timing)
    assert np.allclose(g[:, :land], 0.0)
    assert np.allclose(g[:, land], w * 0.275, atol=1e-9)
    assert set(np.flatnonzero(g[:, land])) == set(targets)


def test_inhibitory_sign_flips_the_input(toyc):
    a, b, count = _strongest_edge(toyc)
    signs = np.ones(toyc.n_neurons)
    signs[a] = -1
    net = sim.Network(toyc, model="current_lif", signs=signs, record_states={"g": [b]})
    res = net.run(duration=15 * ms, inputs=[InputEvents([a], [0])])
    g = res.states["g"][2][0, 0] * 1e3
    assert g.min() == pytest.approx(-count * 0.275, rel=1e-6) and g.max() <= 0


def test_zero_sign_means_no_fast_synapses(toyc):
    a, b, _ = _strongest_edge(toyc)
    signs = np.ones(toyc.n_neurons)
    signs[a] = 0
    net = sim.Network(toyc, model="current_lif", signs=signs, record_states={"g": [b]})
    res = net.run(duration=15 * ms, inputs=[InputEvents([a], [0])])
    assert np.all(res.states["g"][2] == 0)


def test_synapse_type_subset(toyc):
    a, b, _ = _strongest_edge(toyc, ("aa",))
    net = sim.Network(toyc, model="current_lif", signs="excitatory", synapse_types=("aa",),
                      record_states={"g": [b]})
    res = net.run(duration=15 * ms, inputs=[InputEvents([a], [0])])
    expect = toyc.weights(("aa",))[a, b] * 0.275
    assert res.states["g"][2][0, 0].max() * 1e3 == pytest.approx(expect, rel=1e-6)
    assert net.describe()["synapse_types"] == ["aa"]


def test_drive_rate(toyc):
    """Driven neurons fire at the drive rate (dead-time Poisson input, one spike per event)."""
    olf = toyc.select(modality="olfactory")
    net = sim.Network(toyc, model="current_lif", signs="excitatory")
    res = net.run([sim.PoissonDrive(olf, 100 * Hz, start=0 * ms, stop=2000 * ms)],
                  duration=2 * second, trials=2, seed=3)
    rates = res.mean_rates()
    mean = rates.loc[olf.indices, "mean_hz"].mean()
    # 6 neurons x 2 trials x ~200 spikes: the SD of the pooled rate is < 1 Hz
    assert mean == pytest.approx(100, rel=0.05)
    # every input event outside refractoriness makes exactly one spike
    ev = net.draw_inputs([sim.PoissonDrive(olf, 100 * Hz, start=0 * ms, stop=2000 * ms)], 2 * second,
                         trials=2, seed=3)
    n_events = sum(len(e) for e in ev)
    n_spikes = int(res.spikes["node_id"].isin(olf.indices).sum())
    assert n_spikes >= n_events


def test_adaptive_model_driven_neurons_fire_at_the_drive_rate(toyc):
    """LarvalLIF's derived drive weight clears the highest adapted threshold, so every drive event is a
    spike; a user-set 40 mV weight (below the adapted threshold) lets the driven neurons skip events."""
    olf = toyc.select(modality="olfactory")
    stim = [sim.PoissonDrive(olf, 150 * Hz)]
    model = sim.Network(toyc, signs="excitatory").model
    assert model.name == "larval_lif" and model.parameters["adapt_increment"].value > 0
    rates = {}
    for label, m in (("derived", model), ("40 mV", model.with_overrides(drive_weight=40 * mV))):
        net = sim.Network(toyc, model=m, signs="excitatory")
        res = net.run(stim, duration=1 * second, trials=2, seed=3)
        rates[label] = res.mean_rates().loc[olf.indices, "mean_hz"].mean()
    assert rates["derived"] == pytest.approx(150, rel=0.05)
    assert rates["40 mV"] < 0.8 * 150


def test_drive_window(toyc):
    olf = toyc.select(modality="olfactory", hemisphere="left")
    net = sim.Network(toyc, model="current_lif", signs="excitatory")
    res = net.run([sim.PoissonDrive(olf, 150 * Hz, start=200 * ms, stop=700 * ms)], duration=1 * second, seed=1)
    t = res.spikes
    driven = t[t["node_id"].isin(olf.indices)]["t_ms"]
    assert len(driven) > 100
    assert driven.min() >= 200.0 and driven.max() <= 700.1


def test_same_seed_same_spikes(toyc):
    olf = toyc.select(modality="olfactory")
    net = sim.Network(toyc, model="current_lif", signs="excitatory")
    stim = [sim.PoissonDrive(olf, 120 * Hz)]
    a = net.run(stim, duration=300 * ms, trials=2, seed=7)
    b = net.run(stim, duration=300 * ms, trials=2, seed=7)
    c = net.run(stim, duration=300 * ms, trials=2, seed=8)
    assert len(a.spikes) > 0
    assert a.spikes.equals(b.spikes)
    assert not a.spikes.equals(c.spikes)
    # a fresh network from the same inputs gives the same spikes too
    d = sim.Network(toyc, model="current_lif", signs="excitatory").run(stim, duration=300 * ms, trials=2, seed=7)
    assert a.spikes.equals(d.spikes)


def _targets_of(c, a):
    return np.flatnonzero(c.weights().toarray()[a])


def test_silence_outgoing_cuts_effect_on_targets(toyc):
    a, b, _ = _strongest_edge(toyc)
    sel = toyc.select(ids=[int(toyc.ids[a])])
    net = sim.Network(toyc, model="current_lif", signs="excitatory", record_states={"g": _targets_of(toyc, a)})
    drive = sim.Activation(sel, 200 * Hz)
    on = net.run([drive], duration=200 * ms, seed=2)
    off = net.run([drive, sim.Silence(sel, "outgoing")], duration=200 * ms, seed=2)
    assert np.abs(on.states["g"][2]).max() > 0
    assert np.all(off.states["g"][2] == 0)          # its targets receive nothing
    n_a_on = (on.spikes["node_id"] == a).sum()
    assert (off.spikes["node_id"] == a).sum() == n_a_on > 20   # it still fires
    assert off.metadata["stimuli"][1] == {"kind": "Silence", "mode": "outgoing",
                                          "target": sel.description + " (1 neurons)", "indices": [a]}


def test_silence_all_stops_the_neuron(toyc):
    olf = toyc.select(modality="olfactory")
    pn = toyc.select(celltype="PN")
    net = sim.Network(toyc, model="current_lif", signs="excitatory")
    drive = sim.PoissonDrive(olf, 150 * Hz)
    off = net.run([drive, sim.Silence(olf, "all")], duration=200 * ms, seed=2)
    assert not off.spikes["node_id"].isin(olf.indices).any()
    # silencing a neuron's inputs: PNs driven only through synapses stay silent when cut off
    off_pn = net.run([drive, sim.Silence(pn, "all")], duration=200 * ms, seed=2)
    assert not off_pn.spikes["node_id"].isin(pn.indices).any()


def test_bad_arguments(toyc):
    with pytest.raises(ValueError, match="device must be one of"):
        sim.Network(toyc, model="current_lif", signs="excitatory", device="gpu")
    net = sim.Network(toyc, model="current_lif", signs="excitatory")
    with pytest.raises(ValueError, match="duration must be a time"):
        net.run(duration=5)
    with pytest.raises(ValueError, match="rate must be in Hz"):
        sim.PoissonDrive(toyc.select(celltype="KC"), 5 * ms)
    with pytest.raises(ValueError, match="Silence mode must be one of"):
        sim.Silence(toyc.select(celltype="KC"), "partly")


def test_cpp_standalone_equals_numpy_spike_for_spike(toyc):
    """C++ standalone compiles once, re-runs trials and changed stimuli with run_args, and
    gives the same spikes as the numpy target for the same seed (inputs are pre-generated)."""
    olf = toyc.select(modality="olfactory")
    stim = [sim.PoissonDrive(olf, 150 * Hz)]
    silence = [sim.Silence(toyc.select(celltype="PN"), "outgoing")]
    numpy = dict(model="current_lif", signs="excitatory", device="numpy")  # the reference: Brian2's runtime
    ref = sim.Network(toyc, **numpy).run(stim, duration=200 * ms, trials=2, seed=4)
    ref_silenced = sim.Network(toyc, **numpy).run(stim + silence, duration=200 * ms, trials=2, seed=5)
    net = sim.Network(toyc, model="current_lif", signs="excitatory", device="cpp_standalone")
    a = net.run(stim, duration=200 * ms, trials=2, seed=4)
    project = net._standalone[1]
    b = net.run(stim + silence, duration=200 * ms, trials=2, seed=5)
    assert net._standalone[1] == project  # no rebuild for new seeds, weights and silencing
    assert len(a.spikes) > 50
    assert a.spikes.equals(ref.spikes)
    assert b.spikes.equals(ref_silenced.spikes)
    assert not a.spikes.equals(b.spikes)
    # the runtime device still works after a standalone build in the same process
    again = sim.Network(toyc, **numpy).run(stim, duration=200 * ms, trials=2, seed=4)
    assert again.spikes.equals(ref.spikes)


def test_conductance_model_network(toyc):
    """The conductance-based adaptive LIF runs on the same network: cell classes are set
    from the cell types, drive forces spikes, and excitatory/inhibitory pathways are split."""
    from models import get_model

    signs = np.ones(toyc.n_neurons)
    signs[toyc.select(name="APL").indices] = -1
    net = sim.Network(toyc, model=get_model("conductance_lif"), signs=signs, record_states={"v": [0]},
                      device="numpy")  # reads the Brian2 objects
    kinds = sorted(s.name for s, *_ in net.pathways)
    assert kinds == ["synapses_excitatory", "synapses_inhibitory"]
    classes = sim.cell_classes(toyc)
    assert set(classes[toyc.select(celltype="KC").indices]) == {"KC"}
    assert set(classes[toyc.select(name="APL").indices]) == {"APL"}
    assert set(classes[toyc.select(modality="olfactory").indices]) == {"ORN"}
    olf = toyc.select(modality="olfactory")
    res = net.run([sim.PoissonDrive(olf, 50 * Hz)], duration=1 * second, seed=1)
    assert res.mean_rates().loc[olf.indices, "mean_hz"].mean() == pytest.approx(50, rel=0.15)
    assert res.metadata["network"]["model"]["model"] == "conductance_lif"


@pytest.mark.slow
def test_cython_equals_numpy(toyc):
    """The Cython target (compiled once, ~1-2 min) gives the numpy target's spikes."""
    olf = toyc.select(modality="olfactory")
    stim = [sim.PoissonDrive(olf, 150 * Hz)]
    ref = sim.Network(toyc, model="current_lif", signs="excitatory", device="numpy").run(stim, duration=200 * ms,
                                                                                        trials=2, seed=4)
    cy = sim.Network(toyc, model="current_lif", signs="excitatory", device="cython").run(stim, duration=200 * ms,
                                                                                        trials=2, seed=4)
    assert cy.spikes.equals(ref.spikes)


@pytest.mark.parametrize("model", ["current_lif", "larval_lif"])
def test_numba_device_equals_brian2_through_network(toyc, model):
    """device="numba" runs the same network, stimuli, silencing and weight scaling as Brian2
    and returns identical Results spikes and state traces (the larval model too: its
    postsynaptic input scaling and inhibitory scale reach both simulators)."""
    olf = toyc.select(modality="olfactory")
    signs = np.ones(toyc.n_neurons)
    signs[toyc.select(name="APL").indices] = -1
    stim = [sim.PoissonDrive(olf, 150 * Hz), sim.Silence(toyc.select(celltype="LN", name="broad*"), "outgoing")]
    m = get_model(model) if model == "current_lif" else get_model(model, input_exponent=0.5, inh_scale=2.0)
    kw = dict(model=m, signs=signs, record_states={"v": [0, 3], "g": [5]})
    ref = sim.Network(toyc, device="numpy", **kw).run(stim, duration=300 * ms, trials=2, seed=9, weight_scale=1.5)
    fast = sim.Network(toyc, device="numba", **kw).run(stim, duration=300 * ms, trials=2, seed=9, weight_scale=1.5)
    assert ref.n_spikes > 50
    assert len(ref.spikes) > 50
    assert fast.spikes.equals(ref.spikes)
    for var in ("v", "g"):
        np.testing.assert_array_equal(fast.states[var][2], ref.states[var][2])
    assert fast.metadata["network"]["device"] == "numba" and ref.metadata["network"]["device"] == "numpy"


def test_record_subset(toyc):
    kc = toyc.select(celltype=["PN", "KC"])
    olf = toyc.select(modality="olfactory")
    full = sim.Network(toyc, model="current_lif", signs="excitatory", device="numpy").run(
        [sim.PoissonDrive(olf, 150 * Hz)], duration=200 * ms, seed=2)
    for device in ("numpy", "numba"):
        part = sim.Network(toyc, model="current_lif", signs="excitatory", record=kc, device=device).run(
            [sim.PoissonDrive(olf, 150 * Hz)], duration=200 * ms, seed=2)
        expect = full.spikes[full.spikes["node_id"].isin(kc.indices)].reset_index(drop=True)
        assert len(expect) > 0 and part.spikes.equals(expect)
        assert np.isnan(part.mean_rates().loc[olf.indices, "mean_hz"]).all()  # not recorded


def test_sign_seed_and_input_seed_are_separate(toyc):
    """Network(sign_seed=) draws the random sign policy; run(seed=) the input noise; the old
    Network(seed=) still works, with a DeprecationWarning."""
    stim = [sim.PoissonDrive(toyc.select(modality="olfactory"), 120 * Hz)]
    a = sim.Network(toyc, signs="random", sign_seed=3, fraction=0.3)
    b = sim.Network(toyc, signs="random", sign_seed=4, fraction=0.3)
    assert not np.array_equal(a.signs, b.signs)
    with pytest.warns(DeprecationWarning, match="sign_seed"):
        old = sim.Network(toyc, signs="random", seed=3, fraction=0.3)
    np.testing.assert_array_equal(old.signs, a.signs)
    r1, r2 = a.run(stim, duration=100 * ms, seed=1), a.run(stim, duration=100 * ms, seed=2)
    assert not r1.spikes.equals(r2.spikes)                                   # the input noise differs
    assert r1.spikes.equals(sim.Network(toyc, signs="random", sign_seed=3, fraction=0.3)
                            .run(stim, duration=100 * ms, seed=1).spikes)


def test_glu_scale_weighs_glutamatergic_inhibition_apart(toyc):
    """The candidate structure of experiments.glu_inhibition: with glu_scale the inhibitory synapses of
    glutamatergic neurons (and only those) weigh glu_scale times what they weigh without it, on top of inh_scale;
    GABAergic and excitatory synapses keep their weights; Brian2 and the numba engine run the same network."""
    base = get_model("larval_lif", input_exponent=0.5, inh_scale=2.0)
    plain = sim.Network(toyc, model=base, signs="literature", device="numba")
    half = sim.Network(toyc, model=base.with_glu_scale(0.5, "test"), signs="literature", device="numba")
    pre, post, count, sgn = (e[plain._edges[3] != 0] for e in plain._edges)
    tx = plain.sign_assignment.transmitters[pre]
    w0 = np.asarray(plain.synaptic_weights(post, count, sgn, pre=pre) / mV)
    w1 = np.asarray(half.synaptic_weights(post, count, sgn, pre=pre) / mV)
    glu = (tx == "glutamate") & (sgn < 0)
    gaba = (tx == "GABA") & (sgn < 0)
    assert glu.any() and gaba.any() and (sgn > 0).any()
    np.testing.assert_allclose(w1[glu], 0.5 * w0[glu])
    np.testing.assert_array_equal(w1[~glu], w0[~glu])
    assert half.model.parameters["glu_scale"].value == 0.5 and "glu_scale" not in plain.model.parameters
    with pytest.raises(ValueError, match="pass pre="):
        half.synaptic_weights(post, count, sgn)
    # with the glutamatergic neurons driven, their targets see the scaled inhibition, in both simulators
    glu_n = np.unique(pre[glu])
    stim = [sim.PoissonDrive(toyc.select(modality="olfactory"), 150 * Hz), sim.PoissonDrive(glu_n, 100 * Hz)]
    kw = dict(model=base.with_glu_scale(3.0, "test"), signs="literature")
    ref = sim.Network(toyc, device="numpy", **kw).run(stim, duration=300 * ms, trials=2, seed=3)
    fast = sim.Network(toyc, device="numba", **kw).run(stim, duration=300 * ms, trials=2, seed=3)
    assert len(ref.spikes) > 50 and fast.spikes.equals(ref.spikes)
    unscaled = sim.Network(toyc, device="numba", model=base, signs="literature").run(stim, duration=300 * ms,
                                                                                       trials=2, seed=3)
    assert not unscaled.spikes.equals(fast.spikes)
    # the plastic network (KC -> MBON weights handed to the dopamine rule) builds with it, too
    from models.plasticity import DopaminePlasticity

    kc = toyc.select(celltype="KC")
    plastic = [sim.Network(toyc, device=d, plasticity=DopaminePlasticity("names"), **kw).run(
        [sim.PoissonDrive(kc, 80 * Hz), *stim], duration=200 * ms, trials=1, seed=2) for d in ("numpy", "numba")]
    assert len(plastic[0].spikes) > 20 and plastic[0].spikes.equals(plastic[1].spikes)
    # signs given as an array carry no transmitters: a glu_scale other than 1 cannot be applied
    with pytest.raises(ValueError, match="without transmitters"):
        sim.Network(toyc, model=base.with_glu_scale(0.5, "test"), signs=plain.signs, device="numba")
    with pytest.raises(ValueError, match="glu_scale = -1"):
        base.with_glu_scale(-1, "test")
    assert base.with_overrides(glu_scale=2).parameters["glu_scale"].value == 2


def test_min_input_fraction_leaves_out_weak_connections(toyc):
    """The candidate structure of experiments.edge_threshold: a connection is kept when it makes at least the share
    of its target's input synapses (over the synapse types in use); kept connections keep their weights, the others
    weigh nothing; Brian2 and the numba engine run the same pruned network, which differs from the whole one."""
    base = get_model("larval_lif").with_min_input_fraction(0.0, "test: every connection kept")
    plain = sim.Network(toyc, model=base, device="numba")
    pre, post, count, sgn = (e[plain._edges[3] != 0] for e in plain._edges)
    n_in = np.bincount(plain._edges[1], weights=plain._edges[2], minlength=toyc.n_neurons)
    share = count / n_in[post]
    f = float(np.median(share))
    pruned = sim.Network(toyc, model=base.with_min_input_fraction(f, "test"), device="numba")
    w0 = np.asarray(plain.synaptic_weights(post, count, sgn, pre=pre) / mV)
    w1 = np.asarray(pruned.synaptic_weights(post, count, sgn, pre=pre) / mV)
    keep = share >= f
    assert 0 < keep.sum() < len(keep)
    np.testing.assert_array_equal(w1[keep], w0[keep])
    assert not w1[~keep].any()
    assert pruned.model.min_input_fraction() == f and plain.model.min_input_fraction() == 0.0
    # the connections left out are not synapses of the pruned network at all (counted, simulated, plastic)
    assert pruned.n_synapses == plain.n_synapses - int((~keep).sum())
    assert str(pruned).count(f"{pruned.n_synapses} connections") == 1
    assert base.with_overrides(min_input_fraction=f).min_input_fraction() == f
    for bad in (-0.1, 1.0, float("nan")):
        with pytest.raises(ValueError, match="min_input_fraction"):
            base.with_min_input_fraction(bad, "test")
    stim = sim.PoissonDrive(toyc.select(modality="olfactory"), 150 * Hz)
    kw = dict(model=base.with_min_input_fraction(f, "test"))
    ref = sim.Network(toyc, device="numpy", **kw).run(stim, duration=300 * ms, trials=2, seed=3)
    fast = sim.Network(toyc, device="numba", **kw).run(stim, duration=300 * ms, trials=2, seed=3)
    assert len(ref.spikes) > 20 and fast.spikes.equals(ref.spikes)
    assert not plain.run(stim, duration=300 * ms, trials=2, seed=3).spikes.equals(fast.spikes)
