"""The numba engine gives Brian2's spikes, spike for spike, and Brian2's state traces, bit for bit.

Every comparison feeds both engines the same network (``sim.Network``'s edges,
weights and drive weight) and the same pre-generated input events; the Brian2
reference is ``sim.Network`` on the numpy target. No test depends on timing.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from brian2 import Hz, ms, mV, nS, second

import connectomes
import sim
from models import get_model
from models.neurons import ConductanceAdaptiveLIF, CurrentLIF
from sim.engine_numba import EngineOutput, simulate, state_variables
from sim.engine_numba.conductance_lif import SLEEP_SCAN as SLEEP_SCAN_COND
from sim.engine_numba.current_lif import SLEEP_SCAN as SLEEP_SCAN_CUR
from sim.stimuli import InputEvents

ROOT = Path(__file__).resolve().parents[2]


# --------------------------------------------------------------------------- helpers
def engine_run(net, inputs, n_steps, silences=(), record_states=None, threads=None, **kwargs) -> EngineOutput:
    """What ``sim.Network`` with the numba engine does: its edges, weights, silencing and drive."""
    pre, post, count, sgn = net._edges
    fast = sgn != 0
    w = np.asarray(net.synaptic_weights(post[fast], count[fast], sgn[fast]), dtype=float)
    out_off, all_off = net._silenced(silences)
    w[out_off[pre[fast]] | all_off[post[fast]]] = 0.0
    inputs = [ev.without(np.flatnonzero(all_off)) for ev in inputs]
    kwargs.setdefault("record", net.recorded)
    return simulate(net.model, net.n_neurons, pre[fast], post[fast], w, inputs, n_steps,
                    drive_weight=net.drive_weight, inhibitory=sgn[fast] < 0,
                    cell_classes=sim.cell_classes(net.connectome),
                    record_states=record_states if record_states is not None else net._record_states,
                    threads=threads, **kwargs)


def assert_same(res, out: EngineOutput, states=()):
    """Brian2's Results and the engine's output hold the same spikes (and state traces)."""
    trial, node, t_ms = out.concatenated()
    ref = res.spikes  # sorted by trial, time, node id: the engine's order
    assert len(ref) == len(node), f"Brian2 {len(ref)} spikes, numba {len(node)}"
    np.testing.assert_array_equal(ref["trial"].to_numpy(), trial)
    np.testing.assert_array_equal(ref["node_id"].to_numpy(), node)
    np.testing.assert_array_equal(ref["t_ms"].to_numpy(), t_ms)
    for var in states:
        idx_b, t_b, val_b = res.states[var]
        idx_n, t_n, val_n = out.states[var]
        np.testing.assert_array_equal(idx_b, idx_n)
        np.testing.assert_array_equal(t_b, t_n)
        assert val_b.shape == val_n.shape
        assert np.array_equal(val_b, val_n), f"{var}: max |diff| {np.abs(val_b - val_n).max()}"


def brian_and_engine(c, model, stim, duration, trials=2, seed=1, signs="excitatory", record_all=(),
                     silences=(), **net_kw):
    everyone = np.arange(c.n_neurons)
    net_kw.setdefault("device", "numpy")  # the reference is Brian2 (larvasim's default device is the engine)
    net = sim.Network(c, model=model, signs=signs, record_states={v: everyone for v in record_all}, **net_kw)
    inputs = net.draw_inputs(stim, duration, trials=trials, seed=seed)
    res = net.run(list(stim) + list(silences), duration=duration, trials=trials, inputs=inputs, progress=False)
    out = engine_run(net, inputs, round(float(duration / net.dt)), silences=silences)
    return net, res, out


@pytest.fixture
def toyc(toy, fresh_cache):
    return connectomes.load("winding2023", data_dir=toy.path, verify=False)


def _random_signs(n, fraction=0.3, seed=7):
    return np.where(np.random.default_rng(seed).random(n) < fraction, -1.0, 1.0)


# --------------------------------------------------------------------------- equality on the toy connectome
@pytest.mark.parametrize("signs", ["excitatory", "random"])
def test_current_lif_equals_brian_spikes_and_states(toyc, signs):
    """Recurrent activity (w_syn = 1 mV): spikes equal, v and g of every neuron equal bit for bit."""
    olf = toyc.select(modality="olfactory")
    model = get_model("current_lif", w_syn=1 * mV)
    s = _random_signs(toyc.n_neurons) if signs == "random" else "excitatory"
    _, res, out = brian_and_engine(toyc, model, [sim.PoissonDrive(olf, 150 * Hz)], 400 * ms, signs=s,
                                   record_all=("v", "g"))
    not_driven = ~np.isin(res.spikes["node_id"], olf.indices)
    assert not_driven.sum() > 100  # the network itself spikes, not only the drive
    assert_same(res, out, states=("v", "g"))


@pytest.mark.parametrize("signs", ["excitatory", "random"])
def test_adaptive_larval_lif_equals_brian_spikes_and_states(toyc, signs):
    """LarvalLIF's adaptive threshold (theta += adapt_increment per spike, decay tau_adapt): v, g, theta bit for bit."""
    olf = toyc.select(modality="olfactory")
    model = get_model("larval_lif", w_syn=1.5 * mV, input_exponent=0.0, inh_scale=1.0, adapt_increment=3 * mV,
                      tau_adapt=40 * ms)
    s = _random_signs(toyc.n_neurons) if signs == "random" else "excitatory"
    _, res, out = brian_and_engine(toyc, model, [sim.PoissonDrive(olf, 150 * Hz)], 400 * ms, signs=s,
                                   record_all=("v", "g", "theta"), synapse_types=("ad",))
    assert (~np.isin(res.spikes["node_id"], olf.indices)).sum() > 100
    theta = out.states["theta"][2]
    assert theta.max() > 3e-3  # the threshold did rise (more than one spike's increment somewhere)
    assert_same(res, out, states=("v", "g", "theta"))


@pytest.mark.parametrize("model_name", ["larval_lif", "current_lif"])
def test_long_silence_then_input_equals_brian(toyc, model_name):
    """Drive, 4 s of silence, drive again: after some 3.7 s without input g sticks at a subnormal value
    (exp(-dt/tau_syn) g rounds back to g) and v at a fixed point of the update, not always v_rest.
    Spikes and recorded states stay Brian2's through the silence and after it."""
    olf = toyc.select(modality="olfactory")
    if model_name == "larval_lif":
        model = get_model("larval_lif", w_syn=1.5 * mV, input_exponent=0.0, inh_scale=1.0, adapt_increment=3 * mV,
                          tau_adapt=300 * ms)
        names, kw = ("v", "g", "theta"), {"synapse_types": ("ad",)}
    else:  # drive events of 3 mV: driven neurons also sit off rest with g = 0 (not a fixed point)
        model, names, kw = get_model("current_lif", w_syn=2 * mV), ("v", "g"), {"drive_weight": 3 * mV}
    stim = [sim.PoissonDrive(olf, 150 * Hz, start=0 * ms, stop=100 * ms),
            sim.PoissonDrive(olf, 150 * Hz, start=4200 * ms, stop=4300 * ms)]
    kw["device"] = "numpy"  # the reference is Brian2
    net0 = sim.Network(toyc, model=model, signs=_random_signs(toyc.n_neurons), **kw)
    first = net0.run(stim[:1], duration=300 * ms, trials=1, seed=1, progress=False)
    fired = np.unique(first.spikes["node_id"].to_numpy())
    watch = np.union1d(np.setdiff1d(fired, olf.indices)[:12], olf.indices[:3])  # recurrent and driven neurons
    net = sim.Network(toyc, model=model, signs=_random_signs(toyc.n_neurons), **kw,
                      record_states={v: watch for v in names})
    duration = 4400 * ms
    inputs = net.draw_inputs(stim, duration, trials=1, seed=1)
    res = net.run(stim, duration=duration, trials=1, inputs=inputs, progress=False)
    out = engine_run(net, inputs, round(float(duration / net.dt)))
    late = res.spikes["t_ms"].to_numpy() > 4200
    assert (late & ~np.isin(res.spikes["node_id"], olf.indices)).sum() >= 10  # the network answers again
    g = out.states["g"][2][0, :, int(4150 / 0.1)]
    assert np.any((g != 0) & (np.abs(g) < np.finfo(float).tiny))  # stuck subnormal g: the case is exercised
    assert_same(res, out, states=names)


def test_adaptation_lowers_rates_and_zero_increment_is_the_plain_threshold(toyc):
    """adapt_increment = 0 gives exactly the spikes of a fixed threshold; > 0 fires less under the same input."""
    olf = toyc.select(modality="olfactory")
    stim = [sim.PoissonDrive(olf, 150 * Hz)]
    counts = {}
    for inc in (0.0, 3.0):
        model = get_model("larval_lif", w_syn=1.5 * mV, input_exponent=0.0, adapt_increment=inc * mV)
        net, res, out = brian_and_engine(toyc, model, stim, 300 * ms, synapse_types=("ad",))
        counts[inc] = (~np.isin(res.spikes["node_id"], olf.indices)).sum()
        if inc == 0.0:  # the same network as a CurrentLIF with the same weights (LarvalLIF's scale is 1 here)
            pre, post, count, sgn = net._edges
            w = np.asarray(net.synaptic_weights(post, count, sgn), dtype=float)
            inputs = net.draw_inputs(stim, 300 * ms, trials=2, seed=1)
            plain = simulate(get_model("current_lif", **{k: model.parameters[k].value for k in
                                                          ("v_rest", "v_reset", "v_th", "tau_m")}),
                             net.n_neurons, pre, post, w, inputs, 3000, drive_weight=net.drive_weight)
            np.testing.assert_array_equal(np.concatenate([i for i, _ in plain.spikes]),
                                          np.concatenate([i for i, _ in out.spikes]))
    assert 0 < counts[3.0] < 0.8 * counts[0.0]


def test_conductance_lif_equals_brian_spikes_and_states(toyc):
    olf = toyc.select(modality="olfactory")
    model = get_model("conductance_lif", w_syn_e=1 * nS, w_syn_i=4 * nS)
    _, res, out = brian_and_engine(toyc, model, [sim.PoissonDrive(olf, 150 * Hz)], 400 * ms,
                                   signs=_random_signs(toyc.n_neurons), record_all=("v", "g_e", "g_i", "g_a"))
    assert (~np.isin(res.spikes["node_id"], olf.indices)).sum() > 100
    assert_same(res, out, states=("v", "g_e", "g_i", "g_a"))


@pytest.mark.parametrize("overrides", [
    {"t_ref": 0 * ms},                     # refractory only within the spike's own step
    {"t_ref": 0.25 * ms, "delay": 0 * ms},  # effects in the spike's own step
    {"delay": 0.55 * ms},                  # 5.5 steps -> 6
    {"delay": 0.45 * ms, "tau_syn": 2 * ms, "v_reset": -60 * mV},  # 4.5 steps -> 5: halves round up
])
def test_timing_variants_equal_brian(toyc, overrides):
    olf = toyc.select(modality="olfactory")
    model = get_model("current_lif", w_syn=1 * mV, **overrides)
    _, res, out = brian_and_engine(toyc, model, [sim.PoissonDrive(olf, 150 * Hz),
                                                 sim.PoissonDrive(toyc.select(celltype="KC"), 20 * Hz,
                                                                  dead_time=0 * ms)],
                                   300 * ms, signs=_random_signs(toyc.n_neurons), record_all=("v", "g"))
    assert_same(res, out, states=("v", "g"))


def test_silencing_equals_brian(toyc):
    """Silenced synapses (weight 0) and fully silenced neurons (no drive) as sim.Network does them."""
    olf = toyc.select(modality="olfactory")
    model = get_model("current_lif", w_syn=1 * mV)
    silences = [sim.Silence(toyc.select(celltype="PN"), "outgoing"), sim.Silence(olf.indices[:2], "all")]
    _, res, out = brian_and_engine(toyc, model, [sim.PoissonDrive(olf, 150 * Hz)], 300 * ms, silences=silences)
    assert len(res.spikes) > 100
    assert not np.isin(res.spikes["node_id"], olf.indices[:2]).any()
    assert_same(res, out)


@pytest.mark.parametrize("u_max", [14.0, 0.0])
def test_hand_built_brian_network_with_per_neuron_values(toyc, u_max):
    """Per-neuron initial v and t_ref, with per-neuron u_ext (the kernel's non-uniform path) or
    u_ext = 0 and half the neurons starting at rest (dormant until their first input)."""
    from brian2 import Network as BrianNetwork
    from brian2 import SpikeGeneratorGroup, SpikeMonitor, StateMonitor, Synapses, prefs, volt

    n = toyc.n_neurons
    rng = np.random.default_rng(3)
    u_ext = rng.uniform(0, u_max, n) * 1e-3  # some fire tonically
    v0 = rng.uniform(-55, -46, n) * 1e-3
    if u_max == 0:
        v0[::2] = -52e-3  # v_rest
    t_ref = rng.choice([0.0, 0.1, 1.0, 2.2], n) * 1e-3
    model = get_model("current_lif", w_syn=1 * mV)
    W = toyc.weights().tocoo()
    pre, post = W.row.astype(np.int64), W.col.astype(np.int64)
    sgn = _random_signs(n)[pre]
    w = np.asarray(model.synaptic_weights(W.data, sgn))
    pairs = np.unique(np.stack([rng.integers(0, 900, 80), rng.integers(0, n, 80)]), axis=1)  # (step, neuron)
    ev = InputEvents(pairs[1], pairs[0])
    old_target = prefs.codegen.target
    prefs.codegen.target = "numpy"
    try:
        group = model.neuron_group(n)
        group.u_ext = u_ext * volt  # SI values, set exactly
        group.v = v0 * volt
        group.t_ref = t_ref * second
        syn = Synapses(group, group, **model.synapses_kwargs("excitatory"))
        syn.connect(i=pre, j=post)
        syn.w = w * volt
        drive = SpikeGeneratorGroup(n, ev.neurons, ev.steps * model.dt)
        dsyn = Synapses(drive, group, on_pre="v_post += w_drive", namespace={"w_drive": 68.75e-3 * volt})
        dsyn.connect(j="i")
        mon = SpikeMonitor(group)
        smon = StateMonitor(group, ["v", "g"], record=True)
        BrianNetwork(group, syn, drive, dsyn, mon, smon).run(100 * ms, namespace={})
    finally:
        prefs.codegen.target = old_target
    out = simulate(model, n, pre, post, w, [ev], 1000, drive_weight=68.75e-3,
                   initial={"u_ext": u_ext, "v": v0, "t_ref": t_ref}, record_states={"v": np.arange(n),
                                                                                     "g": np.arange(n)})
    order = np.lexsort((np.asarray(mon.i), np.asarray(mon.t)))
    assert len(order) > (100 if u_max else 50)
    np.testing.assert_array_equal(np.asarray(mon.i)[order], out.spikes[0][0])
    np.testing.assert_array_equal(np.round(np.asarray(mon.t / ms)[order], 6), out.times_ms(0))
    assert np.array_equal(np.asarray(smon.v), out.states["v"][2][0])
    assert np.array_equal(np.asarray(smon.g), out.states["g"][2][0])


# --------------------------------------------------------------------------- statistics with independent seeds
def test_rates_agree_with_brian_for_independent_seeds(toyc):
    """Different seeds on the two engines: per-cell-type mean rates agree within 4 SE."""
    olf = toyc.select(modality="olfactory")
    model = get_model("current_lif", w_syn=1 * mV)
    stim = [sim.PoissonDrive(olf, 100 * Hz)]
    net = sim.Network(toyc, model=model, signs=_random_signs(toyc.n_neurons), device="numpy")
    trials, duration = 8, 250 * ms
    res_b = net.run(stim, duration=duration, trials=trials, seed=1, progress=False)
    out = engine_run(net, net.draw_inputs(stim, duration, trials=trials, seed=2), 2500)
    res_n = sim.Results(*out.concatenated(), neurons=toyc.neurons, n_trials=trials, duration=duration,
                        dt=net.dt, metadata={})
    a = res_b.rates_by("celltype").set_index("group")
    b = res_n.rates_by("celltype").set_index("group")
    active = a.index[(a["mean_hz"] > 0) | (b["mean_hz"] > 0)]
    assert len(active) >= 5
    se = np.sqrt(a.loc[active, "sem_hz"] ** 2 + b.loc[active, "sem_hz"] ** 2)
    diff = (a.loc[active, "mean_hz"] - b.loc[active, "mean_hz"]).abs()
    assert (diff <= 4 * se + 1e-3).all(), (diff / se).sort_values().tail()
    assert not res_b.spikes.equals(res_n.spikes)  # the seeds do differ


# --------------------------------------------------------------------------- API
def test_threads_and_trial_order_do_not_change_results(toyc):
    olf = toyc.select(modality="olfactory")
    net = sim.Network(toyc, model=get_model("current_lif", w_syn=1 * mV))
    inputs = net.draw_inputs([sim.PoissonDrive(olf, 150 * Hz)], 200 * ms, trials=5, seed=3)
    one = engine_run(net, inputs, 2000, threads=1)
    many = engine_run(net, inputs, 2000, threads=3)
    alone = engine_run(net, inputs[3:4], 2000)
    for (i1, k1), (i2, k2) in zip(one.spikes, many.spikes):
        np.testing.assert_array_equal(i1, i2)
        np.testing.assert_array_equal(k1, k2)
    np.testing.assert_array_equal(alone.spikes[0][0], one.spikes[3][0])
    assert len({len(i) for i, _ in one.spikes}) > 1  # trials differ


def test_single_event_timing(toyc):
    """A drive event in step k: spike in step k + 1; its targets' g jumps at the end of step k + 1 + D."""
    model = get_model("current_lif")
    out = simulate(model, 3, [0, 0], [1, 2], [0.3e-3, -0.5e-3], [InputEvents([0], [100])], 200,
                   drive_weight=68.75e-3, record_states={"g": [1, 2]})
    np.testing.assert_array_equal(out.spikes[0][0], [0])
    np.testing.assert_array_equal(out.spikes[0][1], [101])
    g = out.states["g"][2][0]
    land = 101 + 18 + 1  # recorded at the start of the step after the effect
    assert np.all(g[:, :land] == 0)
    assert g[0, land] == 0.3e-3 and g[1, land] == -0.5e-3


@pytest.mark.parametrize("model_name", ["current_lif", "larval_lif", "conductance_lif"])
def test_synchronous_volleys_equal_brian(toyc, model_name):
    """Every neuron driven in the same steps: over 32 spikes in one step (the kernel's sort of a long row)
    and more spikes than the first spike buffer holds (it grows): still Brian2's spikes, in Brian2's order."""
    n, n_steps = toyc.n_neurons, 2000 + toyc.n_neurons
    # first one neuron per step, in descending order, so that the kernel's slots are not in neuron order;
    # then volleys of every neuron (sorted by numpy) alternating with volleys of 20 (sorted by insertion)
    nrn, stp = [np.arange(n)[::-1]], [np.arange(n)]
    for a, k in enumerate(range(n + 100, n_steps - 50, 60)):
        who = np.arange(n) if a % 2 else np.random.default_rng(a).choice(n, 20, replace=False)
        nrn.append(who)
        stp.append(np.full(len(who), k))
    ev = InputEvents(np.concatenate(nrn), np.concatenate(stp))
    order = np.lexsort((ev.neurons, ev.steps))
    ev = InputEvents(ev.neurons[order], ev.steps[order])
    net = sim.Network(toyc, model=model_name, device="numpy")
    res = net.run([], duration=n_steps * net.dt, trials=1, inputs=[ev], progress=False)
    out = engine_run(net, [ev], n_steps)
    steps = np.round(res.spikes["t_ms"].to_numpy() / 0.1).astype(int)
    per_step = np.bincount(steps)
    assert per_step.max() > 32 and len(res.spikes) > max(1024, n_steps * n // 200), (per_step.max(), len(res.spikes))
    assert_same(res, out)


def test_drive_during_refractoriness_is_dropped():
    """Events 1 step and 21 steps after a spike are lost (t_ref = 2.2 ms = 22 steps); 22 steps after, not."""
    model = get_model("current_lif")
    ev = InputEvents([0, 0, 0, 0], [10, 12, 32, 33])  # spike at 11; 12 and 32 fall in steps 12..32
    out = simulate(model, 1, [], [], [], [ev], 100, drive_weight=68.75e-3)
    np.testing.assert_array_equal(out.spikes[0][1], [11, 34])


def test_record_subset_and_empty_cases(toyc):
    net = sim.Network(toyc, model=get_model("current_lif", w_syn=1 * mV))
    olf, kc = toyc.select(modality="olfactory"), toyc.select(celltype="KC")
    inputs = net.draw_inputs([sim.PoissonDrive(olf, 150 * Hz)], 200 * ms, trials=1)
    every = engine_run(net, inputs, 2000)
    some = engine_run(net, inputs, 2000, record=kc)
    keep = np.isin(every.spikes[0][0], kc.indices)
    assert 0 < keep.sum() < len(keep)
    np.testing.assert_array_equal(some.spikes[0][0], every.spikes[0][0][keep])
    np.testing.assert_array_equal(some.spikes[0][1], every.spikes[0][1][keep])
    empty = simulate(get_model("current_lif"), 0, [], [], [], [InputEvents([], [])], 10, drive_weight=0.07)
    assert empty.n_trials == 1 and len(empty.spikes[0][0]) == 0
    quiet = simulate(get_model("current_lif"), 4, [], [], [], [InputEvents([], [])] * 2, 10, drive_weight=0.07)
    assert quiet.concatenated()[0].size == 0
    assert state_variables(get_model("conductance_lif")) == ("v", "g_e", "g_i", "g_a")


def test_bad_arguments():
    cur = get_model("current_lif")
    with pytest.raises(NotImplementedError, match="method 'linear'"):
        simulate(CurrentLIF(method="euler"), 2, [], [], [], [], 10, drive_weight=0.07)
    with pytest.raises(NotImplementedError, match="method 'euler'"):
        simulate(ConductanceAdaptiveLIF(method="exponential_euler"), 2, [], [], [], [], 10, drive_weight=0.1)
    with pytest.raises(ValueError, match="needs `inhibitory`"):
        simulate(get_model("conductance_lif"), 2, [0], [1], [1e-9], [], 10, drive_weight=0.1)
    with pytest.raises(ValueError, match="records"):
        simulate(cur, 2, [], [], [], [], 10, drive_weight=0.07, record_states={"g_e": [0]})
    with pytest.raises(ValueError, match="same length"):
        simulate(cur, 2, [0], [1, 0], [1.0], [], 10, drive_weight=0.07)
    with pytest.raises(IndexError):
        simulate(cur, 2, [0], [2], [1.0], [], 10, drive_weight=0.07)
    with pytest.raises(IndexError):
        simulate(cur, 2, [], [], [], [InputEvents([5], [1])], 10, drive_weight=0.07)
    with pytest.raises(ValueError, match="unknown initial value"):
        simulate(cur, 2, [], [], [], [], 10, drive_weight=0.07, initial={"w": [0, 0]})


@pytest.mark.slow
def test_compiled_kernels_are_cached_for_new_processes(tmp_path):
    """A second process loads the kernels from numba's on-disk cache instead of compiling them."""
    code = (
        "import numpy as np\n"
        "from models import get_model\n"
        "from sim.engine_numba import simulate, _current_lif_trial as k\n"
        "from sim.stimuli import InputEvents\n"
        "simulate(get_model('current_lif'), 3, [0], [1], [1e-3], [InputEvents([0], [1])], 50, drive_weight=0.07)\n"
        "print(sum(k.stats.cache_hits.values()), sum(k.stats.cache_misses.values()))\n"
    )
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "numba"))
    runs = [subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                           check=True).stdout.split() for _ in range(2)]
    assert runs[0] == ["0", "1"]  # compiled (and written to the cache)
    assert runs[1] == ["1", "0"]  # loaded


def test_kernels_compile_again_when_an_engine_source_changed(tmp_path):
    """Numba's cache watches only a kernel's own file; a changed helper file (seen as another digest of the
    package's sources beside the cache) empties the index, so the kernels compile once more, then load."""
    from sim.engine_numba._cache import STAMP, sources_digest

    code = (  # (a small cached function of the package compiles in a second; every one is flushed alike)
        "import numpy as np\n"
        "from sim.engine_numba._shared import _bin_events as k\n"
        "k(np.zeros(1, np.int64), np.zeros(1, np.int64), 1, 2, np.zeros(0, np.bool_))\n"
        "print(sum(k.stats.cache_hits.values()), sum(k.stats.cache_misses.values()))\n"
    )
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "numba"))

    def run():
        return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                              check=True).stdout.split()

    assert run() == ["0", "1"]
    stamps = list((tmp_path / "numba").rglob(STAMP))
    assert len(stamps) == 1 and stamps[0].read_text() == sources_digest()
    assert run() == ["1", "0"]  # same sources: loaded
    stamps[0].write_text("0" * 64)  # as if _shared.py had changed since the cache was written
    assert run() == ["0", "1"]  # compiled again, not the stale kernel
    assert stamps[0].read_text() == sources_digest()
    assert run() == ["1", "0"]


# --------------------------------------------------------------------------- whole connectome (real data)
@pytest.mark.realdata
@pytest.mark.parametrize("model_name,signs", [("current_lif", "excitatory"), ("current_lif", "literature"),
                                              ("current_lif", "random"), ("conductance_lif", "literature"),
                                              ("larval_lif", "literature")])
def test_whole_brain_one_second_equals_brian(real_connectome, model_name, signs):
    """Both sides' olfactory neurons at 150 Hz, 1 s: every spike of the whole brain is Brian2's."""
    c = real_connectome
    stim = [sim.PoissonDrive(c.select(modality="olfactory"), 150 * Hz)]
    kw = {"fraction": 0.3} if signs == "random" else {}
    net, res, out = brian_and_engine(c, get_model(model_name), stim, 1 * second, trials=1, seed=11, signs=signs,
                                     **kw)
    assert (net.signs < 0).any() == (signs != "excitatory")
    assert res.spikes["node_id"].nunique() > 50  # far more than the 42 driven neurons
    assert_same(res, out)


@pytest.mark.realdata
@pytest.mark.parametrize("signs,min_types", [("excitatory", 10), ("literature", 5)])
def test_whole_brain_rates_agree_with_brian_for_independent_seeds(real_connectome, signs, min_types):
    """8 trials each, different seeds: per-cell-type mean rates within 4 SE (run with -s for the table)."""
    c = real_connectome
    stim = [sim.PoissonDrive(c.select(modality="olfactory"), 150 * Hz)]
    net = sim.Network(c, model="current_lif", signs=signs, device="numpy")
    trials = 8
    res_b = net.run(stim, duration=1 * second, trials=trials, seed=1, progress=False)
    out = engine_run(net, net.draw_inputs(stim, 1 * second, trials=trials, seed=2), 10_000)
    res_n = sim.Results(*out.concatenated(), neurons=c.neurons, n_trials=trials, duration=1 * second,
                        dt=net.dt, metadata={})
    a = res_b.rates_by("celltype").set_index("group")
    b = res_n.rates_by("celltype").set_index("group")
    active = a.index[(a["mean_hz"] > 0) | (b["mean_hz"] > 0)]
    assert len(active) >= min_types
    se = np.sqrt(a.loc[active, "sem_hz"] ** 2 + b.loc[active, "sem_hz"] ** 2)
    z = (a.loc[active, "mean_hz"] - b.loc[active, "mean_hz"]).abs() / se.where(se > 0)
    print("\n", a.loc[active, ["mean_hz", "sem_hz"]].join(b.loc[active, ["mean_hz", "sem_hz"]], rsuffix="_numba")
          .assign(z=z).round(3).to_string())
    diff = (a.loc[active, "mean_hz"] - b.loc[active, "mean_hz"]).abs()
    assert (diff <= 4 * se + 1e-3).all(), z.sort_values().tail()


# --------------------------------------------------------------------------- plasticity
def _plastic_pair(c, rule_kw, stim, duration, trials=2, seed=7, model="current_lif", signs="literature",
                  run_kw=None):
    """The same plastic network and input on Brian2 numpy and on the numba engine: (results, history) each."""
    from models.plasticity import DopaminePlasticity

    out = {}
    inputs = None
    for device in ("numpy", "numba"):
        rule = DopaminePlasticity(**rule_kw)
        net = sim.Network(c, model=get_model(model) if isinstance(model, str) else model, signs=signs,
                          plasticity=rule, device=device)
        if inputs is None:
            inputs = net.draw_inputs(stim, duration, trials=trials, seed=seed)
        res = net.run(stim + list((run_kw or {}).get("silences", ())), duration=duration, trials=trials,
                      inputs=inputs, progress=False, weight_scale=(run_kw or {}).get("weight_scale"))
        out[device] = (res, rule.history)
    return out["numpy"], out["numba"]


def _assert_same_plastic(a, b):
    (res_a, h_a), (res_b, h_b) = a, b
    assert len(res_a.spikes) > 0 and res_a.spikes.equals(res_b.spikes), "spikes differ"
    np.testing.assert_array_equal(h_a.pre, h_b.pre)
    np.testing.assert_array_equal(h_a.post, h_b.post)
    # numpy's exp (AVX-512) and libm's (numba, C++) differ in the last bit of about 1 call in 20
    np.testing.assert_allclose(h_b.final, h_a.final, rtol=1e-9, atol=0)
    if h_a.values is not None:
        np.testing.assert_array_equal(h_a.times_ms, h_b.times_ms)
        np.testing.assert_allclose(h_b.values, h_a.values, rtol=1e-9, atol=0)
    if "kc_mbon_w" in res_a.states:
        ia, ta, va = res_a.states["kc_mbon_w"][:3]
        ib, tb, vb = res_b.states["kc_mbon_w"][:3]
        np.testing.assert_array_equal(ia, ib)
        np.testing.assert_array_equal(ta, tb)
        np.testing.assert_allclose(vb, va, rtol=1e-9)


@pytest.mark.parametrize("model", ["current_lif", "conductance_lif", "larval_lif_adapting"])
@pytest.mark.parametrize("trace,windows,timing", [("set", None, False), ("add", [(0.05 * second, 0.35 * second)], False),
                                                  ("set", [(0.05 * second, 0.35 * second)], True),
                                                  ("add", None, True)])
def test_plasticity_equals_brian(toyc, model, trace, windows, timing):
    """KCs, DANs and MBONs driven, homeostasis on, the clip reached: same spikes, same weights (every sample).
    With ``timing``, the timing-dependent variant (DAN before KC potentiates) too."""
    if model == "larval_lif_adapting":
        model = get_model("larval_lif", w_syn=1 * mV, input_exponent=0.0, adapt_increment=2 * mV, tau_adapt=50 * ms)
    rule_kw = dict(compartments="names", eta=0.08, rho=0.02, tau_e=0.2 * second, trace=trace, windows=windows,
                   record="synapses", record_dt=1 * ms)
    if timing:
        add = trace == "set"  # the dopamine trace crossed with the KC trace; an added trace grows with the rate
        rule_kw.update(eta_b=0.005 if add else 0.05, tau_d=0.1 * second, w_max=1.5,
                       dopamine_trace="add" if add else "set")
    stim = [sim.PoissonDrive(toyc.select(celltype="KC"), 40 * Hz),
            sim.Activation(toyc.select(name="DAN-*"), 60 * Hz, start=20 * ms),
            sim.Activation(toyc.select(celltype="MBON"), 30 * Hz)]
    a, b = _plastic_pair(toyc, rule_kw, stim, 400 * ms, model=model)
    _assert_same_plastic(a, b)
    h = b[1]
    assert h.values.shape == (2, len(h.pre), 400)
    changed = h.final != h.w0
    assert changed.mean() > 0.5 and (h.final == 0).any()  # depression everywhere, the lower clip reached
    assert not np.array_equal(h.final[0], h.final[1])    # trials differ (different input), each from w0
    np.testing.assert_array_equal(h.values[:, :, 0], np.broadcast_to(h.w0, h.values[:, :, 0].shape))
    assert (h.values > h.w0[:, None]).any() == timing  # only the timing-dependent variant potentiates


def test_plasticity_across_a_long_silence_equals_brian(toyc):
    """A conditioning-like run: odour (KCs) with DANs, 4 s of silence, odour again. In the silence the
    neurons fall asleep in the engine (their v stops moving while g and theta still decay); the
    second odour wakes them through the plastic KC -> MBON pathway, the static one and the drive.
    Spikes and the recorded v, g, theta of KCs and DANs stay Brian2's bit for bit; the plastic weights, and
    the MBONs' states they feed, to the last bits (NumPy's AVX-512 ``exp``, which Brian2's numpy target uses
    for the weight update, and libm's, which the engine uses, differ in the last bit for some arguments;
    see the engine's docstring)."""
    from models.plasticity import DopaminePlasticity

    kc, dan, mbon = (toyc.select(celltype="KC"), toyc.select(name="DAN-*"), toyc.select(celltype="MBON"))
    model = get_model("larval_lif", w_syn=1.5 * mV, input_exponent=0.0, adapt_increment=2 * mV, tau_adapt=300 * ms)
    stim = [sim.PoissonDrive(kc, 60 * Hz, start=0 * ms, stop=200 * ms),
            sim.Activation(dan, 60 * Hz, start=50 * ms, stop=200 * ms),
            sim.PoissonDrive(kc, 60 * Hz, start=4300 * ms, stop=4450 * ms)]
    watch = np.concatenate([kc.indices[:4], dan.indices, mbon.indices])
    names = ("v", "g", "theta")
    out, inputs = {}, None
    for device in ("numpy", "numba"):
        rule = DopaminePlasticity(compartments="names", eta=0.08, tau_e=0.2 * second)
        net = sim.Network(toyc, model=model, signs="literature", plasticity=rule, device=device,
                          record_states={v: watch for v in names})
        if inputs is None:
            inputs = net.draw_inputs(stim, 4500 * ms, trials=1, seed=3)
        out[device] = (net.run(stim, duration=4500 * ms, trials=1, inputs=inputs, progress=False), rule.history)
    (res_a, h_a), (res_b, h_b) = out["numpy"], out["numba"]
    late = res_a.spikes[res_a.spikes["t_ms"] > 4300]
    assert (~late["node_id"].isin(kc.indices)).sum() >= 10  # the network answers the second odour
    ig, _, g = res_a.states["g"][:3]
    g_mbon = g[0, np.isin(ig, mbon.indices)]
    assert (np.abs(g_mbon[:, 43000]) < np.finfo(float).tiny).all()  # at the end of the silence g is subnormal
    assert (g_mbon[:, 43000] != g_mbon[:, 44000]).sum() >= 2  # MBONs get input again (woken by the KCs)
    assert (h_a.final != h_a.w0).any()                    # the pairing changed weights
    assert res_a.spikes.equals(res_b.spikes)
    np.testing.assert_allclose(h_b.final, h_a.final, rtol=1e-9, atol=0)
    for var in names:
        ia, ta, va = res_a.states[var][:3]
        ib, tb, vb = res_b.states[var][:3]
        np.testing.assert_array_equal(ia, ib)
        fed = np.isin(ia, mbon.indices)  # the neurons the plastic weights feed
        assert np.array_equal(va[:, ~fed], vb[:, ~fed]), var
        np.testing.assert_allclose(vb[:, fed], va[:, fed], rtol=1e-12, atol=0, err_msg=var)


def test_a_neuron_sleeps_only_when_its_v_stays_put_for_every_later_g(toyc):
    """The engine stops integrating a neuron whose v one update leaves unchanged -- if it stays so as g
    decays to 0. Here v sits 0.1 pV above rest and g nearly cancels its decay, so at the end of step 63
    (a sleep scan) one update leaves v unchanged at that g but not at g = 0. The neuron must stay
    active: its v and g after 128 steps are the dense update's, computed here step by step."""
    net = sim.Network(toyc, model="current_lif", device="numba")
    eng = net.engine_network(128 * net.dt)
    u_ext, cst, e2, c8, e9, v_rest = eng.fixed[1][:6]
    u0, c0 = u_ext[0], cst[0]

    def update(v, g):  # the generated code's expression order (Brian2 'linear', current LIF)
        return v_rest + (((c8 * g + u0) + e9 * v) + c0), e2 * g

    v = np.full(200001, v_rest + 1e-13)
    g = np.geomspace(1e-16, 1e-10, v.size)
    v0, g0 = v.copy(), g.copy()
    for _ in range(64):
        v, g = update(v, g)
    hit = np.flatnonzero((update(v, g)[0] == v) & (update(v, 0.0 * g)[0] != v))
    assert hit.size  # such states exist
    i = 5  # any neuron: the others stay at rest, so it gets no input
    st = eng.initial_state()
    st.state[0, i], st.state[1, i] = v0[hit[0]], g0[hit[0]]
    eng.step([st], [(np.zeros(0, np.int64), np.zeros(0, np.int64))], 128)
    v, g = v0[hit[0]], g0[hit[0]]
    for _ in range(128):
        v, g = update(v, g)
    assert v != v0[hit[0]] and (st.state[0, i], st.state[1, i]) == (v, g)


def test_plasticity_with_silencing_and_weight_scale_equals_brian(toyc):
    """Silenced KCs and a scaled plastic pathway set the trial's starting weights as in Brian2."""
    kcs = toyc.select(celltype="KC").indices
    rule_kw = dict(compartments="names", eta=0.05, rho=0.01, record="mbon", record_dt=10 * ms)
    stim = [sim.PoissonDrive(kcs, 50 * Hz), sim.Activation(toyc.select(name="DAN-*"), 40 * Hz),
            sim.Activation(toyc.select(celltype="MBON"), 30 * Hz)]
    a, b = _plastic_pair(toyc, rule_kw, stim, 300 * ms, signs="excitatory",
                         run_kw={"silences": [sim.Silence(kcs[:2])], "weight_scale": {"plastic": 1.5}})
    _assert_same_plastic(a, b)
    h = b[1]
    assert (h.final[:, np.isin(h.pre, kcs[:2])] != 0).any()  # homeostasis pulls cut synapses back up
    assert h.values is None and b[0].states["kc_mbon_w"][2].shape[-1] == 30


@pytest.mark.realdata
def test_whole_brain_one_second_with_plasticity_equals_brian(real_connectome):
    """The learning experiments' network (w_syn 0.8 mV, literature signs), olfactory neurons at 150 Hz
    and every MBIN at 20 Hz for 1 s, dopaminergic plasticity in all compartments: every spike equals
    Brian2's; the final KC -> MBON weights agree within 1e-9 relative."""
    c = real_connectome
    stim = [sim.PoissonDrive(c.select(modality="olfactory"), 150 * Hz),
            sim.Activation(c.select(celltype="MBIN"), 20 * Hz, start=200 * ms, stop=900 * ms)]
    rule_kw = dict(eta=0.001, record="mbon", record_dt=50 * ms)  # depressed by ~40 %, none clipped to 0
    a, b = _plastic_pair(c, rule_kw, stim, 1 * second, trials=1, seed=3,
                         model=get_model("current_lif", w_syn=0.8 * mV))
    _assert_same_plastic(a, b)
    res, h = b
    ct = c.neurons["celltype"].to_numpy()[res.spikes["node_id"].to_numpy()]
    assert (ct == "KC").sum() > 100 and (ct == "MBIN").sum() > 100
    assert len(h.pre) > 1000 and (h.final < h.w0).mean() > 0.9  # plasticity acted on (almost) every synapse
    assert (h.final > 0).mean() > 0.9  # ... without clipping them to 0 (the arithmetic is compared)
    assert res.spikes["node_id"].nunique() > 100


@pytest.mark.realdata
def test_whole_brain_sleep_changes_no_spike_weight_or_state(real_connectome):
    """The default larval model with the dopaminergic plasticity, as a conditioning run: odour with DANs,
    5 s of silence (every neuron falls asleep), odour again. With sleep (the engine's default) and
    without it (the plain dense update: ``scan = 0``) every spike, every final plastic weight and
    every recorded v, g and theta are the same."""
    from dataclasses import replace

    from models.plasticity import DopaminePlasticity

    c = real_connectome
    watch = np.concatenate([c.select(celltype="MBON").indices, c.select(celltype="KC").indices[:50]])
    net = sim.Network(c, plasticity=DopaminePlasticity(eta=0.01), device="numba",
                      record_states={v: watch for v in ("v", "g", "theta")})
    olf = c.select(modality="olfactory")
    stim = [sim.PoissonDrive(olf, 100 * Hz, start=0 * ms, stop=1000 * ms),
            sim.Activation(c.select(name="DAN-i1"), 60 * Hz, start=0 * ms, stop=1000 * ms),
            sim.PoissonDrive(olf, 100 * Hz, start=6000 * ms, stop=7000 * ms)]
    duration = 7200 * ms
    ev = net.draw_inputs(stim, duration, trials=2, seed=5)
    eng = net.engine_network(duration)
    assert eng.fixed[3][-1] > 0  # sleep is on by default
    dense = replace(eng, fixed=eng.fixed[:3] + (eng.fixed[3][:-1] + (0,),))
    a, b = eng.run(ev), dense.run(ev)
    assert sum(len(i) for i, _ in a.spikes) > 10000
    assert all((k > 60000).sum() > 1000 for _, k in a.spikes)  # the second odour is answered
    for (ia, ka), (ib, kb) in zip(a.spikes, b.spikes):
        np.testing.assert_array_equal(ia, ib)
        np.testing.assert_array_equal(ka, kb)
    np.testing.assert_array_equal(a.plastic.final, b.plastic.final)
    assert (a.plastic.final != eng.plastic_w0).any()
    for var in ("v", "g", "theta"):
        assert np.array_equal(a.states[var][2], b.states[var][2]), var
    g = a.states["g"][2][0, :, 59000]
    assert (np.abs(g) < np.finfo(float).tiny).mean() > 0.5  # after 5 s of silence: the sleep case is exercised


def test_network_threads_do_not_change_spikes(toyc):
    stim = [sim.PoissonDrive(toyc.select(celltype="sensory"), 120 * Hz)]
    runs = [sim.Network(toyc, device="numba", threads=t).run(stim, duration=200 * ms, trials=4, seed=3,
                                                               progress=False) for t in (1, 3)]
    assert len(runs[0].spikes) > 0 and runs[0].spikes.equals(runs[1].spikes)
    with pytest.raises(ValueError, match="threads"):
        sim.Network(toyc, device="numba", threads=0)


def test_trials_drawn_in_their_threads_equal_inputs_drawn_first(toyc):
    """``Network.run`` on the numba engine draws each trial's input events in the thread that simulates
    it: the spikes, and the event counts in the metadata, are those of the events drawn first by
    ``draw_inputs`` and given to the run; each trial is drawn once, whatever order trials are read in."""
    from sim.stimuli import TrialInputs

    stim = [sim.PoissonDrive(toyc.select(celltype="sensory"), 120 * Hz),
            sim.PoissonDrive(toyc.select(celltype="KC"), lambda t: 30 * Hz * (t > 50 * ms))]
    net = sim.Network(toyc, device="numba", threads=3)
    drawn = net.run(stim, duration=200 * ms, trials=5, seed=4, progress=False)
    first = net.draw_inputs(stim, 200 * ms, trials=5, seed=4)
    given = net.run(stim, duration=200 * ms, trials=5, inputs=first, progress=False)
    assert len(drawn.spikes) > 0 and drawn.spikes.equals(given.spikes)
    assert drawn.metadata["n_input_events"] == [len(e) for e in first] == given.metadata["n_input_events"]
    lazy = net._trial_inputs(stim, 200 * ms, 5, 4)
    assert isinstance(lazy, TrialInputs) and len(lazy) == 5
    backwards = [lazy[k] for k in (4, 2, 0, 3, 1)]
    assert lazy[2] is backwards[1]  # drawn once, then kept
    for k, ev in zip((4, 2, 0, 3, 1), backwards):
        assert np.array_equal(ev.neurons, first[k].neurons) and np.array_equal(ev.steps, first[k].steps)
    assert [len(e) for e in lazy[1:3]] == [len(first[1]), len(first[2])] and len(lazy[-1]) == len(first[4])
    with pytest.raises(IndexError):
        lazy[5]


@pytest.mark.slow
def test_plasticity_equals_brian_cpp_standalone(toyc, tmp_path):
    """The plastic toy network on C++ standalone and on the numba engine: same spikes, same weights."""
    from models.plasticity import DopaminePlasticity

    rule_kw = dict(compartments="names", eta=0.08, rho=0.02, tau_e=0.2 * second, record="synapses",
                   record_dt=1 * ms, eta_b=0.05, tau_d=0.1 * second, w_max=1.5)  # with the timing-dependent
    stim = [sim.PoissonDrive(toyc.select(celltype="KC"), 40 * Hz),   # variant: its code compiles in C++ too
            sim.Activation(toyc.select(name="DAN-*"), 60 * Hz, start=20 * ms),
            sim.Activation(toyc.select(celltype="MBON"), 30 * Hz)]
    out = {}
    for device in ("cpp_standalone", "numba"):
        rule = DopaminePlasticity(**rule_kw)
        net = sim.Network(toyc, signs="literature", plasticity=rule, device=device, standalone_root=tmp_path)
        res = net.run(stim, duration=400 * ms, trials=2, seed=7, progress=False)
        out[device] = (res, rule.history)
    _assert_same_plastic(out["cpp_standalone"], out["numba"])
    h = out["numba"][1]
    assert (h.values > h.w0[:, None]).any() and (h.final < h.w0).any()  # potentiated and depressed synapses
    print("\nweights bit-identical:", np.mean(out["cpp_standalone"][1].values == out["numba"][1].values))


def test_a_plastic_network_saved_before_the_timing_rule_loads_and_runs_the_same(toyc, tmp_path):
    """A saved plastic EngineNetwork whose rule constants predate the timing-dependent variant (three
    constants, three flags) loads with it off and gives the same spikes and weights."""
    from dataclasses import replace

    from models.plasticity import DopaminePlasticity
    from sim.engine_numba import EngineNetwork

    net = sim.Network(toyc, signs="literature", plasticity=DopaminePlasticity("names", eta=0.08), device="numba")
    eng = net.engine_network(300 * ms)
    ev = net.draw_inputs([sim.PoissonDrive(toyc.select(celltype="KC"), 40 * Hz),
                          sim.Activation(toyc.select(name="DAN-*"), 60 * Hz)], 300 * ms, trials=2, seed=1)
    pl = eng.plastic
    old = replace(eng, plastic=(*pl[:10], pl[10][:3].copy(), pl[11][:3].copy()))
    old.save(tmp_path / "old.engine")
    back = EngineNetwork.load(tmp_path / "old.engine")
    assert len(back.plastic[10]) == 5 and back.plastic[10][3] == 0.0 and len(back.plastic[11]) == 4
    a, b = eng.run(ev), back.run(ev)
    assert all(np.array_equal(x[0], y[0]) and np.array_equal(x[1], y[1]) for x, y in zip(a.spikes, b.spikes))
    np.testing.assert_array_equal(a.plastic.final, b.plastic.final)
    assert (a.plastic.final < eng.plastic_w0).any()


@pytest.mark.parametrize("model_name", ["current_lif", "conductance_lif"])
def test_a_network_saved_before_sleep_loads_and_runs_the_same(toyc, tmp_path, model_name):
    """A saved EngineNetwork whose kernel arguments predate sleeping neurons (no scan interval in its
    fixed tail) loads with sleep on and gives the same spikes."""
    from dataclasses import replace

    from sim.engine_numba import EngineNetwork

    SLEEP_SCAN = SLEEP_SCAN_COND if model_name == "conductance_lif" else SLEEP_SCAN_CUR
    net = sim.Network(toyc, model=model_name, device="numba")
    eng = net.engine_network(200 * ms)
    ev = net.draw_inputs([sim.PoissonDrive(toyc.select(modality="olfactory"), 150 * Hz)], 200 * ms, trials=2, seed=1)
    old = replace(eng, fixed=eng.fixed[:3] + (eng.fixed[3][:-1],))
    old.save(tmp_path / "old.engine")
    back = EngineNetwork.load(tmp_path / "old.engine")
    assert back.fixed[3][-1] == SLEEP_SCAN
    a, b = eng.run(ev), back.run(ev)
    assert sum(len(i) for i, _ in a.spikes) > 0
    assert all(np.array_equal(x[0], y[0]) and np.array_equal(x[1], y[1]) for x, y in zip(a.spikes, b.spikes))


def test_engine_network_runs_in_a_process_without_brian2(toyc, tmp_path):
    """A prepared network (plastic, one neuron silenced) saved and run in a new process that imports
    only sim.engine_numba: Brian2 and scipy.linalg are never loaded, and the spikes and weights are
    Network.run's."""
    from models.plasticity import DopaminePlasticity

    rule = DopaminePlasticity("names", eta=0.05, rho=0.01, record="synapses", record_dt=10 * ms)
    net = sim.Network(toyc, signs="literature", plasticity=rule, device="numba")
    stim = [sim.PoissonDrive(toyc.select(celltype="KC"), 40 * Hz),
            sim.Activation(toyc.select(name="DAN-*"), 60 * Hz), sim.Silence(toyc.select(celltype="LN"))]
    inputs = net.draw_inputs(stim, 300 * ms, trials=3, seed=4)
    res = net.run(stim, duration=300 * ms, trials=3, inputs=inputs, progress=False)
    net.engine_network(300 * ms, stim).save(tmp_path / "toy.engine")
    np.savez(tmp_path / "inputs.npz", *[np.stack([ev.neurons, ev.steps]) for ev in inputs])
    code = (
        "import sys\n"
        "import numpy as np\n"
        "from sim.engine_numba import EngineNetwork\n"
        f"d = np.load({str(tmp_path / 'inputs.npz')!r})\n"
        "events = [(d[k][0], d[k][1]) for k in sorted(d.files, key=lambda k: int(k.split('_')[1]))]\n"
        f"out = EngineNetwork.load({str(tmp_path / 'toy.engine')!r}).run(events, threads=2)\n"
        "trial, node, t_ms = out.concatenated()\n"
        f"np.savez({str(tmp_path / 'out.npz')!r}, trial=trial, node=node, t_ms=t_ms, w=out.plastic.final)\n"
        "print('brian2' in sys.modules, 'scipy.linalg' in sys.modules)\n"
        "import numba.np.arraymath\n"
        "print(bool(numba.np.arraymath._HAVE_BLAS))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    # no Brian2, and numba started without SciPy's linear algebra (sim.engine_numba._startup: a faster
    # start-up); numba's BLAS check still answers as numba's own when it is needed
    assert done.stdout.split() == ["False", "False", "True"]
    got = np.load(tmp_path / "out.npz")
    assert len(got["node"]) == len(res.spikes) > 0
    np.testing.assert_array_equal(got["node"], res.spikes["node_id"].to_numpy())
    np.testing.assert_array_equal(got["t_ms"], res.spikes["t_ms"].to_numpy())
    np.testing.assert_array_equal(got["w"], rule.history.final)


def test_network_reuses_prepared_engines_only_for_the_same_condition(toyc):
    """Runs alternating silencing, weight scales and plasticity windows: every run as on a fresh network."""
    from models.plasticity import DopaminePlasticity

    stim = [sim.PoissonDrive(toyc.select(celltype="sensory"), 150 * Hz),
            sim.PoissonDrive(toyc.select(celltype="KC"), 40 * Hz), sim.Activation(toyc.select(name="DAN-*"), 50 * Hz)]
    cut = [sim.Silence(toyc.select(celltype="PN"))]
    conditions = [({}, []), ({}, cut), ({"weight_scale": 0.5}, []), ({}, []), ({}, cut), ({"windows": [(0.0, 0.1)]}, [])]

    def run(net, rule, kw, silence):
        rule.windows = kw.get("windows")
        res = net.run(stim + silence, duration=200 * ms, trials=2, seed=5, weight_scale=kw.get("weight_scale"),
                      progress=False)
        return res.spikes, rule.history.final.copy()

    rule = DopaminePlasticity("names", eta=0.05)
    shared = sim.Network(toyc, device="numba", plasticity=rule)
    got = []
    for kw, silence in conditions:
        spikes, final = run(shared, rule, kw, silence)
        fresh_rule = DopaminePlasticity("names", eta=0.05)
        ref_spikes, ref_final = run(sim.Network(toyc, device="numba", plasticity=fresh_rule), fresh_rule, kw, silence)
        assert spikes.equals(ref_spikes)
        np.testing.assert_array_equal(final, ref_final)
        got.append((spikes, final))
    assert len(shared._engine_cache) <= 2
    # the conditions really differ (a stale prepared engine would show)
    assert not got[0][0].equals(got[1][0]) and not got[0][0].equals(got[2][0])
    assert not np.array_equal(got[0][1], got[5][1])


def test_engine_network_errors(toyc, tmp_path):
    import pickle

    from sim.engine_numba import EngineNetwork

    eng = sim.Network(toyc, device="numba").engine_network(50 * ms)
    with pytest.raises(ValueError, match="3 neurons but 2 steps"):
        eng.run([([1, 2, 3], [4, 5])])
    with pytest.raises(IndexError, match="outside"):
        eng.run([([toyc.n_neurons], [4])])
    with pytest.raises(ValueError, match="plastic_weights"):
        eng.run([([1], [4])], plastic_weights=[1.0])
    (tmp_path / "other.engine").write_bytes(pickle.dumps({"not": "a network"}))
    with pytest.raises(TypeError, match="does not hold an EngineNetwork"):
        EngineNetwork.load(tmp_path / "other.engine")
    with pytest.raises(ValueError, match="duration must be a time"):
        sim.Network(toyc, device="numba").engine_network(50)
    out = eng.run([([1], [4]), (np.zeros(0, int), np.zeros(0, int))])  # a pair or no events at all
    assert out.n_trials == 2 and len(out.spikes[1][0]) == 0 and 1 in out.spikes[0][0]


def test_a_sleepers_subnormal_g_freezes_unless_recorded_and_thaws_as_the_dense_update_decays_it():
    """``_sleep_scan``: a sleeper whose g has become subnormal stops decaying (``frozen`` = the step) and
    moves on, unless its states are recorded (``frozen`` -2: it keeps decaying, exactly); a sleeper with a
    normal g keeps decaying. ``_thawed`` gives the g the dense update would have after the skipped steps,
    down to its fixed point."""
    from sim.engine_numba.current_lif import _ABSORBS, _TINY, _sleep_scan, _thawed

    e2 = float(np.exp(-0.1 / 5.0))
    slot, who = np.arange(4), np.arange(4)
    g = np.array([1e-3, 1e-310, 1e-310, 1e-300])  # normal, subnormal, subnormal (recorded), normal but tiny
    v = np.full(4, -0.07)
    frozen = np.array([-1, -1, -2, -1])
    n_act, n_g, n_slp = _sleep_scan(100, 0, 4, 4, slot, who, v, g, np.zeros(0), False, np.zeros(4, np.int64), e2,
                                    1.0, 0.99, 0.0, 0.0, -0.07, -0.045, 1.0, frozen)
    assert list(frozen) == [-1, 100, -2, -1]
    assert (n_act, n_g) == (0, 3) and slot[1] == 3 and sorted(who[:3]) == [0, 2, 3]  # 1 left the decaying slots
    assert g[slot[1]] == 1e-310  # frozen as it was
    # the thaw: the dense update's decay, step by step, through subnormal numbers to the fixed point
    x = 1e-310
    dense = [x]
    for _ in range(3000):
        dense.append(e2 * dense[-1])
    for steps in (0, 1, 7, 150, 1200, 3000):
        assert _thawed(1e-310, steps, e2) == dense[steps]
    assert _thawed(1e-310, 10 ** 9, e2) == dense[-1] == e2 * dense[-1]  # stops at the fixed point
    # a weight the kernel adds without thawing absorbs every subnormal g exactly; a tiny one need not
    # (then the kernel thaws first)
    for w in (_ABSORBS, -_ABSORBS, 1e-3):
        assert all(d + w == w for d in dense) and (_TINY * (1 - 2 ** -52)) + w == w
    assert dense[0] + 1e-300 != 1e-300


@pytest.mark.parametrize("plastic", [False, True])
def test_still_conductance_neurons_sleep_without_changing_any_spike_or_state(toyc, plastic):
    """Conductance model: drive, 4.5 s of silence, drive again, stepped in chunks (one ends in the silence,
    when most conductances that had input sit at a subnormal number the Euler step rounds back to itself).
    With the scan that makes still neurons dormant (the default) and without it (``scan = 0``: every woken
    neuron integrated every step), every spike, every plastic weight and the final v, g_e, g_i, g_a of every
    neuron are the same, bit for bit."""
    from dataclasses import replace

    from models.plasticity import DopaminePlasticity

    olf = toyc.select(modality="olfactory")
    model = get_model("conductance_lif", w_syn_e=1 * nS, w_syn_i=4 * nS)
    kw = {"plasticity": DopaminePlasticity(compartments="names", eta=0.08, record=None)} if plastic else {}
    signs = _random_signs(toyc.n_neurons)
    signs[toyc.select(celltype="KC").indices] = 1  # the plasticity rule needs excitatory KCs
    net = sim.Network(toyc, model=model, signs=signs, device="numba", **kw)
    stim = [sim.PoissonDrive(olf, 150 * Hz, start=0 * ms, stop=100 * ms),
            sim.PoissonDrive(olf, 150 * Hz, start=4600 * ms, stop=4700 * ms)]
    if plastic:
        stim += [sim.Activation(toyc.select(name="DAN-*"), 60 * Hz, start=0 * ms, stop=100 * ms),
                 sim.PoissonDrive(toyc.select(celltype="KC"), 60 * Hz, start=4600 * ms, stop=4700 * ms)]
    n = 48000
    ev = net.draw_inputs(stim, n * net.dt, trials=1, seed=2)[0]
    eng = net.engine_network(n * net.dt)
    assert eng.fixed[3] == (SLEEP_SCAN_COND,) and SLEEP_SCAN_COND > 0
    dense = replace(eng, fixed=eng.fixed[:3] + ((0,),))
    out = {}
    for name, e in (("sleep", eng), ("dense", dense)):
        st = e.initial_state()
        spikes, finals, weights = [], [], []
        for a, b in ((0, 42000), (42000, 46500), (46500, n)):
            m = (ev.steps >= a) & (ev.steps < b)
            spikes.append(e.step([st], [(ev.neurons[m], ev.steps[m] - a)], b - a)[0])
            finals.append(st.state.copy())
            weights.append(st.pw.copy())
        out[name] = spikes, finals, weights
    (sa, fa, wa), (sb, fb, wb) = out["sleep"], out["dense"]
    for x, y in zip(sa, sb):
        for u, w in zip(x, y):
            np.testing.assert_array_equal(u, w)
    assert sum(len(x[0]) for x in sa[2:]) > 20  # the network answers the second drive
    for x, y in zip(fa, fb):
        assert np.array_equal(x, y) and np.array_equal(np.signbit(x), np.signbit(y))
    for x, y in zip(wa, wb):
        assert (x.size > 0) == plastic and np.array_equal(x, y)
    if plastic:
        assert not np.array_equal(wa[0], eng.initial_state().pw)  # the pairing changed weights
    g_e = fb[0][1]
    had_input = g_e != 0
    assert had_input.sum() > 20
    assert (np.abs(g_e[had_input]) < np.finfo(float).tiny).mean() > 0.5  # most stuck at a subnormal: still


def test_refractory_neurons_stay_awake_through_the_stillness_scan(toyc):
    """A neuron that spiked at a scan step is refractory at the next step; its state may already be one an
    Euler step leaves unchanged (V_reset = E_L, no adaptation increment, conductances that decay to exactly
    0 in one step: tau = dt). It must not go dormant: the refractory pass would then read a stale spike flag
    at its dormant slot and could drop another neuron's spike. Every neuron driven hard (each event a
    spike), so many spike at every scan step: spikes and final states with the scan equal those without."""
    from dataclasses import replace

    model = get_model("conductance_lif", w_syn_e=1 * nS, w_syn_i=4 * nS, tau_e=0.1 * ms, tau_i=0.1 * ms,
                      t_ref=5 * ms)
    net = sim.Network(toyc, model=model, signs=_random_signs(toyc.n_neurons), device="numba",
                      drive_weight=40 * mV)
    n = 3000
    ev = net.draw_inputs([sim.PoissonDrive(toyc.select(), 150 * Hz, start=0 * ms, stop=300 * ms)], n * net.dt,
                         trials=1, seed=2)[0]
    eng = net.engine_network(n * net.dt)
    head, mid, drive, scan = eng.fixed
    mid = list(mid)
    mid[5] = mid[3].copy()  # V_reset = E_L: a reset neuron sits at the fixed point of v
    mid[6] = np.zeros_like(mid[6])  # delta_g_a = 0: g_a stays 0
    eng = replace(eng, fixed=(head, tuple(mid), drive, scan))
    dense = replace(eng, fixed=(head, tuple(mid), drive, (0,)))
    out = {}
    for name, e in (("sleep", eng), ("dense", dense)):
        st = e.initial_state()
        out[name] = e.step([st], [(ev.neurons, ev.steps)], n)[0], st.state.copy()
    (sa, fa), (sb, fb) = out["sleep"], out["dense"]
    at_scan = sb[1] % SLEEP_SCAN_COND == SLEEP_SCAN_COND - 1
    assert at_scan.sum() > 20  # the case arises: many spikes at scan steps
    for x, y in zip(sa, sb):
        np.testing.assert_array_equal(x, y)
    assert np.array_equal(fa, fb) and np.array_equal(np.signbit(fa), np.signbit(fb))


@pytest.mark.parametrize("model_name", ["larval_lif", "current_lif"])
def test_frozen_g_leaves_every_final_state_that_of_the_dense_update(toyc, model_name):
    """Drive, 4.5 s of silence, drive again, stepped in chunks (one ends in the silence, while sleepers'
    g are subnormal and frozen): with sleep and frozen g (the default) and with the plain dense update
    (``scan = 0``), every spike and the final v, g (and theta) of every neuron are the same, bit for bit;
    no state is recorded, so every sleeper may freeze."""
    from dataclasses import replace

    olf = toyc.select(modality="olfactory")
    model = (get_model("larval_lif", w_syn=1.5 * mV, input_exponent=0.0, inh_scale=1.0, adapt_increment=3 * mV,
                       tau_adapt=300 * ms) if model_name == "larval_lif" else get_model("current_lif", w_syn=2 * mV))
    net = sim.Network(toyc, model=model, signs=_random_signs(toyc.n_neurons), device="numba")
    stim = [sim.PoissonDrive(olf, 150 * Hz, start=0 * ms, stop=100 * ms),
            sim.PoissonDrive(olf, 150 * Hz, start=4600 * ms, stop=4700 * ms)]
    n = 48000
    ev = net.draw_inputs(stim, n * net.dt, trials=1, seed=2)[0]
    eng = net.engine_network(n * net.dt)
    dense = replace(eng, fixed=eng.fixed[:3] + (eng.fixed[3][:-1] + (0,),))
    assert eng.fixed[3][-1] > 0
    out = {}
    for name, e in (("sleep", eng), ("dense", dense)):
        st = e.initial_state()
        spikes, finals = [], []
        for a, b in ((0, 42000), (42000, 46500), (46500, n)):
            m = (ev.steps >= a) & (ev.steps < b)
            spikes.append(e.step([st], [(ev.neurons[m], ev.steps[m] - a)], b - a)[0])
            finals.append(st.state.copy())
        out[name] = spikes, finals
    (sa, fa), (sb, fb) = out["sleep"], out["dense"]
    for x, y in zip(sa, sb):
        for u, w in zip(x, y):
            np.testing.assert_array_equal(u, w)
    assert sum(len(x[0]) for x in sa[2:]) > 20  # the network answers the second drive
    g_silent = fb[0][1]
    fired = np.unique(np.concatenate([x[0] for x in sa[:1]]))
    assert (np.abs(g_silent[fired]) < np.finfo(float).tiny).mean() > 0.5  # subnormal g while silent: frozen
    assert (g_silent[fired] != 0).any()  # ... and not all at 0: the thaw had something to compute
    for x, y in zip(fa, fb):
        assert np.array_equal(x, y)
