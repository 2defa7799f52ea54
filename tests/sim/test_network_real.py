"""Whole-connectome runs (real data): drive rates, devices, seeds, silencing of a real pair."""
from __future__ import annotations

import numpy as np
import pytest
from brian2 import Hz, ms, second

import sim

pytestmark = pytest.mark.realdata

TRIALS = 30
#: Trials of the numpy run (the slow device; its independent seed is compared within 4 SE, so fewer trials
#: only widen the band).
NUMPY_TRIALS = 12


@pytest.fixture(scope="module")
def olfactory_runs(real_connectome):
    """Both sides' olfactory neurons at 150 Hz for 1 s: 30 trials on C++ standalone, 12 on numpy."""
    c = real_connectome
    olf = c.select(modality="olfactory")
    stim = [sim.PoissonDrive(olf, 150 * Hz)]
    standalone = sim.Network(c, device="cpp_standalone").run(stim, duration=1 * second, trials=TRIALS, seed=1)
    numpy_net = sim.Network(c, device="numpy")
    numpy_run = numpy_net.run(stim, duration=1 * second, trials=NUMPY_TRIALS, seed=2)
    same_seed = numpy_net.run(stim, duration=1 * second, trials=2, seed=1)
    return olf, standalone, numpy_run, same_seed


def test_driven_neurons_fire_at_the_drive_rate(olfactory_runs):
    """The larval model's threshold adapts, but its drive weight clears the highest threshold the
    adaptation can reach (``models.neurons._spike_drive``), so every drive event is a spike and driven
    neurons fire at the drive rate (README, Stimuli) on every device. With the earlier fixed 40 mV drive
    they fired at about half of it (74 Hz at 150 Hz)."""
    olf, standalone, numpy_run, _ = olfactory_runs
    for res in (standalone, numpy_run):
        rate = res.mean_rates().loc[olf.indices, "mean_hz"].mean()
        assert 0.95 * 150 < rate < 1.05 * 150, rate


def test_descending_output_is_reported(olfactory_runs):
    _, standalone, numpy_run, _ = olfactory_runs
    table = standalone.readout()
    assert list(table["group"]) == ["DN-VNC", "DN-SEZ", "RGN"]
    assert list(table["n_neurons"]) == [182, 164, 54]
    assert np.isfinite(table["mean_hz"]).all()
    # olfactory drive reaches the subesophageal output (the brain is not silent downstream)
    assert table.set_index("group").loc["DN-SEZ", "mean_hz"] > 0
    assert "DN-VNC" in standalone.summary_table()


def test_numpy_and_cpp_standalone_agree_within_trial_noise(olfactory_runs):
    """Independent seeds on the two devices: per-cell-type mean rates agree within 4 SE."""
    _, standalone, numpy_run, _ = olfactory_runs
    a = standalone.rates_by("celltype").set_index("group")
    b = numpy_run.rates_by("celltype").set_index("group")
    active = a.index[(a["mean_hz"] > 0) | (b["mean_hz"] > 0)]
    assert len(active) > 10
    se = np.sqrt(a.loc[active, "sem_hz"] ** 2 + b.loc[active, "sem_hz"] ** 2)
    diff = (a.loc[active, "mean_hz"] - b.loc[active, "mean_hz"]).abs()
    assert (diff <= 4 * se + 1e-3).all(), (diff / se).sort_values().tail()


def test_same_seed_same_spikes_across_devices(olfactory_runs):
    _, standalone, numpy_run, same_seed = olfactory_runs
    first_two = standalone.spikes[standalone.spikes["trial"] < 2].reset_index(drop=True)
    assert same_seed.spikes.equals(first_two)
    assert not numpy_run.spikes[numpy_run.spikes["trial"] < 2].reset_index(drop=True).equals(first_two)


def test_silencing_a_real_pair_removes_its_effect(real_connectome):
    """Activate the left/right pair with the most output synapses; its strongest target gets
    input and the network responds. Cutting the pair's outgoing synapses leaves every other
    neuron without input: the target's g stays 0 and nothing else fires."""
    c = real_connectome
    W = c.weights()
    out = np.asarray(W.sum(axis=1)).ravel()
    paired = c.neurons["pair_index"].to_numpy() >= 0
    best = int(np.argmax(np.where(paired, out, -1)))
    pair = c.select(pair_of=int(c.ids[best]))
    assert len(pair) == 2
    row = np.asarray(W[pair.indices].sum(axis=0)).ravel()
    row[pair.indices] = 0
    target = int(np.argmax(row))
    net = sim.Network(c, record_states={"g": [target]})
    drive = sim.Activation(pair, 100 * Hz)
    on = net.run([drive], duration=300 * ms, seed=3)
    off = net.run([drive, sim.Silence(pair, "outgoing")], duration=300 * ms, seed=3)
    assert on.states["g"][2].max() > 0
    assert np.all(off.states["g"][2] == 0)
    others_on = ~on.spikes["node_id"].isin(pair.indices)
    others_off = ~off.spikes["node_id"].isin(pair.indices)
    assert others_on.sum() > 0 and others_off.sum() == 0
    # the pair itself still fires at the activation rate
    assert off.mean_rates().loc[pair.indices, "mean_hz"].mean() == pytest.approx(100, rel=0.25)


# -- identity through the public path: Network(device="numba") against Brian2 -----------------------------
IDENTITY_TRIALS, IDENTITY_MS = 3, 200


def _identity_stimuli(c, silences=("outgoing", "all")):
    """Both sides' olfactory neurons at 150 Hz, the right PNs activated at 80 Hz for 50-150 ms, the left
    olfactory neurons' outgoing synapses cut, the right olfactory neurons and APL silenced entirely."""
    stim = [sim.PoissonDrive(c.select(modality="olfactory"), 150 * Hz),
            sim.Activation(c.select(celltype="PN", hemisphere="right"), 80 * Hz, start=50 * ms, stop=150 * ms)]
    if "outgoing" in silences:
        stim.append(sim.Silence(c.select(modality="olfactory", hemisphere="left"), "outgoing"))
    if "all" in silences:
        stim.append(sim.Silence(c.select(modality="olfactory", hemisphere="right") | c.select(name="APL"), "all"))
    return stim


def _run_identity(c, device, silences=("outgoing", "all")):
    return sim.Network(c, device=device).run(_identity_stimuli(c, silences), duration=IDENTITY_MS * ms,
                                             trials=IDENTITY_TRIALS, seed=5, progress=False)


@pytest.fixture(scope="module")
def numba_identity_run(real_connectome):
    """The default larval model on device "numba", through ``sim.Network`` (no test helper)."""
    return _run_identity(real_connectome, "numba")


def test_identity_run_exercises_activation_and_both_silences(real_connectome, numba_identity_run):
    """The run compared below is not vacuous: every trial is busy, the activation and both silences act."""
    c, res = real_connectome, numba_identity_run
    spikes = res.spikes
    assert res.metadata["network"]["device"] == "numba"
    assert (spikes.groupby("trial").size().reindex(range(IDENTITY_TRIALS), fill_value=0) > 3000).all()
    assert spikes["node_id"].nunique() > 1000
    node, t_ms = spikes["node_id"].to_numpy(), spikes["t_ms"].to_numpy()
    # Silence "all": the right olfactory neurons (driven) and APL never fire
    gone = np.union1d(c.select(modality="olfactory", hemisphere="right").indices, c.select(name="APL").indices)
    assert not np.isin(node, gone).any()
    # Silence "outgoing": the left olfactory neurons still fire, at the drive rate
    left = c.select(modality="olfactory", hemisphere="left").indices
    assert 0.9 * 150 < res.mean_rates().loc[left, "mean_hz"].mean() < 1.1 * 150
    # Activation: the right PNs fire at least at the activation rate in its window
    pn = c.select(celltype="PN", hemisphere="right").indices
    in_window = np.isin(node, pn) & (t_ms >= 50) & (t_ms < 150)
    assert in_window.sum() / (len(pn) * IDENTITY_TRIALS * 0.1) >= 0.8 * 80
    # each silence changes the brain's spikes (APL fires when it is not silenced)
    for kept in (("outgoing",), ("all",)):
        other = _run_identity(c, "numba", silences=kept)
        assert not other.spikes.equals(spikes), kept
    assert np.isin(_run_identity(c, "numba", silences=()).spikes["node_id"], c.select(name="APL").indices).any()


@pytest.mark.parametrize("device", ["numpy", pytest.param("cpp_standalone", marks=pytest.mark.slow)])
def test_numba_device_equals_brian2_on_the_whole_brain(real_connectome, numba_identity_run, device):
    """Identity through the public path: ``sim.Network(device="numba")`` and Brian2 (runtime, C++ standalone),
    whole brain, default model, 3 trials of 200 ms with a drive, an activation and both kinds of silence:
    every spike equal (same neurons at the same time steps, per trial)."""
    ref = _run_identity(real_connectome, device)
    fast = numba_identity_run
    assert ref.metadata["network"]["device"] == device
    dt_ms = ref.dt_ms
    for k in range(IDENTITY_TRIALS):
        a = ref.spikes[ref.spikes["trial"] == k]
        b = fast.spikes[fast.spikes["trial"] == k]
        assert len(a) == len(b), f"trial {k}: Brian2 ({device}) {len(a)} spikes, numba {len(b)}"
        np.testing.assert_array_equal(a["node_id"].to_numpy(), b["node_id"].to_numpy(), err_msg=f"trial {k}")
        np.testing.assert_array_equal(np.rint(a["t_ms"].to_numpy() / dt_ms).astype(np.int64),
                                      np.rint(b["t_ms"].to_numpy() / dt_ms).astype(np.int64), err_msg=f"trial {k}")
    assert ref.spikes.equals(fast.spikes)
