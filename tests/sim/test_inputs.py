"""sim.analysis.inputs: the synaptic drive onto a neuron, by presynaptic group, against the simulated g and v."""
from __future__ import annotations

import numpy as np
import pytest
from brian2 import Hz, mV, ms, second

import connectomes
import sim
from models import get_model
from sim.analysis.inputs import input_breakdown, input_change
from sim.stimuli import PoissonDrive, Silence


@pytest.fixture
def toyc(toy, fresh_cache):
    return connectomes.load("winding2023", data_dir=toy.path, verify=False)


def _target(c):
    """The neuron with the most presynaptic partners (all four synapse types)."""
    W = c.weights().tocsc()
    return int(np.argmax(np.diff(W.indptr)))


def _setup(c, signs):
    b = _target(c)
    pre = np.flatnonzero(c.weights().toarray()[:, b])
    pre = pre[pre != b]
    # small weights: the input stays below threshold, so g and v of b integrate freely; the driven neurons
    # still fire at the drive's rate (a drive event of 100 mV makes a spike)
    net = sim.Network(c, model=get_model("current_lif", w_syn=0.01 * mV), signs=signs, device="numba",
                      drive_weight=100 * mV, record_states={"g": [b], "v": [b]})
    return net, b, pre


def test_the_summed_drive_is_the_mean_g_and_v_of_a_quiet_neuron(toyc):
    """tau_syn x sum_i w_i r_i (the breakdown's total) is the time average of g, and, below threshold, of
    v - v_rest, of the simulated neuron (4 trials of 2 s, presynaptic neurons driven at 80 Hz, one inhibitory)."""
    signs = np.ones(toyc.n_neurons)
    net0, b, pre = _setup(toyc, signs)
    signs[pre[0]] = -1
    net, b, pre = _setup(toyc, signs)
    res = net.run([PoissonDrive(pre, 80 * Hz)], duration=2 * second, trials=4, seed=3, progress=False)
    assert res.mean_rates()["mean_hz"].to_numpy()[b] == 0  # quiet: no spike, no reset
    tab = input_breakdown(net, res, [b], by="name")
    total = tab.attrs["total_mv"]
    _, t_ms, g = res.states["g"]
    _, _, v = res.states["v"]
    settle = t_ms > 100  # after the first 20 membrane time constants
    g_mean = float(np.mean(g[:, 0, settle])) * 1e3
    v_mean = float(np.mean(v[:, 0, settle])) * 1e3 - float(net.model.parameters["v_rest"].value / mV)
    assert abs(total) > 0.5
    assert g_mean == pytest.approx(total, rel=0.05)
    assert v_mean == pytest.approx(total, rel=0.05)
    # one row per presynaptic neuron and sign; the inhibitory one is negative, and the rows add up
    assert tab["presynaptic"].sum() == len(pre) and tab["synapses"].sum() == int(toyc.weights().toarray()[:, b].sum())
    name = toyc.neurons["label"].astype(str).to_numpy()[pre[0]]
    row = tab[(tab["group"] == name) & (tab["sign"] == "-")]
    assert len(row) == 1 and row["drive_mv"].iloc[0] < 0
    assert tab["drive_mv"].sum() == pytest.approx(total) and tab["share"].sum() == pytest.approx(1.0)
    assert list(tab["drive_mv"].abs()) == sorted(tab["drive_mv"].abs(), reverse=True)


def test_silencing_zeroes_a_group_and_input_change_names_it(toyc):
    net, b, pre = _setup(toyc, "excitatory")
    drive = PoissonDrive(pre, 60 * Hz)
    intact = net.run([drive], duration=500 * ms, trials=2, seed=1, progress=False)
    cut = net.run([drive, Silence(pre[:1])], duration=500 * ms, trials=2, seed=1, progress=False)
    name = toyc.neurons["label"].astype(str).to_numpy()[pre[0]]
    a = input_breakdown(net, intact, [b], by="name")
    c = input_breakdown(net, cut, [b], by="name")
    assert a.set_index("group").loc[name, "drive_mv"] > 0
    assert c.set_index("group").loc[name, "drive_mv"] == 0  # it still fires, but its output is cut
    ch = input_change(net, intact, cut, [b], by="name")
    assert ch["group"].iloc[0] == name and ch["change_mv"].iloc[0] < 0
    assert ch.attrs["total_change_mv"] == pytest.approx(c.attrs["total_mv"] - a.attrs["total_mv"])


def test_bad_requests_name_what_is_wrong(toyc):
    net, b, pre = _setup(toyc, "excitatory")
    res = net.run([PoissonDrive(pre, 60 * Hz)], duration=100 * ms, seed=1, progress=False)
    with pytest.raises(ValueError, match="by='nope' is not a column"):
        input_breakdown(net, res, [b], by="nope")
    with pytest.raises(ValueError, match="selects no neuron"):
        input_breakdown(net, res, [])
    with pytest.raises(ValueError, match=r"must lie in \[0, "):
        input_breakdown(net, res, [10 ** 6])
    cond = sim.Network(toyc, model=get_model("conductance_lif"), signs="excitatory", device="numba")
    with pytest.raises(ValueError, match="needs a current-based model"):
        input_breakdown(cond, res, [b])
    part = sim.Network(toyc, model=net.model, signs="excitatory", device="numba", record=[b])
    res_part = part.run([PoissonDrive(pre, 60 * Hz)], duration=100 * ms, seed=1, progress=False)
    with pytest.raises(ValueError, match="were not recorded in this run"):
        input_breakdown(part, res_part, [b])
    scaled = net.run([PoissonDrive(pre, 60 * Hz)], duration=100 * ms, seed=1, progress=False, weight_scale=2.0)
    with pytest.raises(ValueError, match="scaled its weights"):
        input_breakdown(net, scaled, [b])
