"""CurrentLIF (Shiu et al. 2024) against closed-form LIF results, in real Brian2 runs.

Brian2 timing conventions that set the tolerances:

* each step integrates first, then checks the threshold, and labels a spike
  with the *start* time of the step in which ``v`` crossed;
* a neuron is frozen for the steps with ``timestep(t - lastspike) <
  timestep(t_ref)``, i.e. integration resumes ``t_ref`` after the spike label.

With exact ("linear") integration the inter-spike interval under a constant
drive is therefore ``dt * (max(n_ref - 1, 0) + ceil(T / dt))`` with ``n_ref =
t_ref / dt`` and ``T`` the analytic time from reset to threshold: within one
``dt`` of the analytic ``t_ref + T``.  Synaptic effects are applied at the end
of a step, so an input appears between ``delay`` and ``delay + dt`` after the
presynaptic spike.
"""

import numpy as np
import pytest
from brian2 import Network, SpikeGeneratorGroup, SpikeMonitor, StateMonitor, Synapses, defaultclock, mV, ms, second

from models import CurrentLIF, get_model

EPS_MS = 1e-9


@pytest.fixture
def model():
    m = get_model("current_lif")
    defaultclock.dt = m.dt
    return m


def quantities(model):
    p = model.parameters
    return {k: float(p.value(k) / ms) if k.startswith("t") or k in ("delay", "dt") else float(p.value(k) / mV)
            for k in ("v_rest", "v_reset", "v_th", "tau_m", "tau_syn", "t_ref", "delay", "dt", "w_syn")}


def lif_isi(t_ref, tau, v_inf, v_reset, v_th):
    """Analytic inter-spike interval of a LIF under constant drive (ms)."""
    return t_ref + tau * np.log((v_inf - v_reset) / (v_inf - v_th))


def brian2_grid_isi(t_ref, tau, v_inf, v_reset, v_th, dt):
    """The analytic ISI mapped onto Brian2's time grid (see module docstring)."""
    n_ref = round(t_ref / dt)
    n_rise = np.ceil(tau * np.log((v_inf - v_reset) / (v_inf - v_th)) / dt - 1e-9)
    return dt * (max(n_ref - 1, 0) + n_rise)


def psp(t, w, tau_m, tau_s):
    """Membrane deflection of the exponential-current LIF after g jumps by w at t = 0."""
    t = np.asarray(t, dtype=float)
    out = w * tau_s / (tau_m - tau_s) * (np.exp(-t / tau_m) - np.exp(-t / tau_s))
    return np.where(t >= 0, out, 0.0)


def test_model_wiring(model):
    kw = model.neuron_group_kwargs()
    assert kw["refractory"] == "t_ref" and kw["method"] == "linear"
    assert set(kw["namespace"]) == {"v_rest", "v_reset", "v_th", "tau_m", "tau_syn"}
    assert model.shared_pathway and model.on_pre("excitatory") == model.on_pre("inhibitory") == "g += w"
    w = model.synaptic_weights([1, 3, 2], [1, -1, 1])
    assert np.allclose(w / mV, [0.275, -0.825, 0.55])
    with pytest.raises(ValueError, match="signs"):
        model.synaptic_weights([1], [0])
    with pytest.raises(ValueError, match="counts"):
        model.synaptic_weights([-1], [1])
    with pytest.raises(ValueError, match="kind"):
        model.on_pre("modulatory")
    group = model.neuron_group(3)
    assert np.all(group.v[:] == -52 * mV) and np.all(group.t_ref[:] == 2.2 * ms) and np.all(group.g[:] == 0 * mV)


def test_firing_rate_matches_analytic_lif(model):
    q = quantities(model)
    drives = np.array([6.0, 8.0, 10.0, 15.0, 30.0])  # mV; 6 mV stays below threshold (7 mV needed)
    group = model.neuron_group(len(drives))
    group.u_ext = drives * mV
    spikes = SpikeMonitor(group)
    Network(group, spikes).run(1 * second)
    trains = spikes.spike_trains()
    assert len(trains[0]) == 0
    for k, drive in enumerate(drives[1:], start=1):
        isi = np.diff(trains[k] / ms)
        args = (q["t_ref"], q["tau_m"], q["v_rest"] + drive, q["v_reset"], q["v_th"])
        expected = lif_isi(*args)
        assert len(isi) >= 20
        # every ISI is the analytic one on the dt grid, hence within one dt of it
        assert np.allclose(isi, brian2_grid_isi(*args, q["dt"]), rtol=0, atol=EPS_MS), (drive, isi[:3], expected)
        assert np.all(np.abs(isi - expected) < q["dt"])
        # so the rate is the analytic 1/ISI up to a relative error of dt/ISI
        rate = float((len(isi) / (trains[k][-1] - trains[k][0])) * ms)
        assert abs(rate * expected - 1) < q["dt"] / expected


def test_single_event_psp_peak_and_delay(model):
    q = quantities(model)
    n_syn, t_spike = 10, 5.0
    group = model.neuron_group(2)
    source = SpikeGeneratorGroup(1, [0], [t_spike] * ms)
    pathways = []
    for target, kind, sign in ((0, "excitatory", 1), (1, "inhibitory", -1)):
        syn = Synapses(source, group, **model.synapses_kwargs(kind))
        syn.connect(i=0, j=target)
        syn.w = model.synaptic_weights(n_syn, sign)
        pathways.append(syn)
    mon = StateMonitor(group, ["v", "g"], record=True)
    Network(group, source, *pathways, mon).run(50 * ms)
    t = mon.t / ms
    g = mon.g[0] / mV
    onset = t[np.argmax(g != 0)]
    assert q["delay"] - EPS_MS <= onset - t_spike <= q["delay"] + q["dt"] + EPS_MS
    w = n_syn * q["w_syn"]
    assert g[t == onset][0] == pytest.approx(w)
    # the whole trace is the difference of exponentials (exact integration)
    reference = psp(t - onset, w, q["tau_m"], q["tau_syn"])
    assert np.max(np.abs(mon.v[0] / mV - q["v_rest"] - reference)) < 1e-9
    assert np.max(np.abs(mon.v[1] / mV - q["v_rest"] + reference)) < 1e-9
    # peak: t* = tau_m tau_s / (tau_m - tau_s) ln(tau_m / tau_s)
    tau_m, tau_s = q["tau_m"], q["tau_syn"]
    t_star = tau_m * tau_s / (tau_m - tau_s) * np.log(tau_m / tau_s)
    peak = psp(t_star, w, tau_m, tau_s)
    assert peak == pytest.approx(0.4331, abs=1e-4)  # 10 synapses x 0.275 mV
    measured = mon.v[0] / mV - q["v_rest"]
    assert measured.max() == pytest.approx(peak, rel=1e-3)  # sampled at dt next to a smooth maximum
    assert abs(t[np.argmax(measured)] - onset - t_star) <= q["dt"] / 2 + EPS_MS
    assert (mon.v[1] / mV - q["v_rest"]).min() == pytest.approx(-peak, rel=1e-3)


def test_input_during_refractoriness_is_dropped(model):
    """Brian2 write-protects '(unless refractory)' variables, so g += w is lost while refractory."""
    q = quantities(model)
    n_syn = 20
    w = n_syn * q["w_syn"]
    group = model.neuron_group(3)
    # test-only kick: neurons 0 and 1 are pushed above threshold at 5 ms, spike in the
    # next step and are refractory for t_ref; neuron 2 stays at rest.
    kicker = SpikeGeneratorGroup(1, [0], [5.0] * ms)
    kick = Synapses(kicker, group, on_pre="v = 0*mV")
    kick.connect(i=0, j=[0, 1])
    arrival = np.array([6.0, 8.0, 6.0])  # ms; only neuron 0 receives input while refractory
    source = SpikeGeneratorGroup(3, [0, 1, 2], (arrival - q["delay"]) * ms)
    syn = Synapses(source, group, **model.synapses_kwargs("excitatory"))
    syn.connect(j="i")
    syn.w = model.synaptic_weights(n_syn, 1)
    spikes = SpikeMonitor(group)
    mon = StateMonitor(group, ["v", "g"], record=True)
    Network(group, kicker, kick, source, syn, spikes, mon).run(40 * ms)
    t = mon.t / ms
    trains = spikes.spike_trains()
    assert [len(trains[k]) for k in range(3)] == [1, 1, 0]
    t_spike = float(trains[0][0] / ms)
    assert 5.0 < t_spike < arrival[0] - 0.5 and t_spike + q["t_ref"] < arrival[1] - 0.5
    after = t > t_spike + EPS_MS
    # neuron 0: the input is dropped; v stays at reset and g at 0
    assert np.all(mon.g[0][after] == 0 * mV)
    assert np.all(mon.v[0][after] == q["v_reset"] * mV)
    # neurons 1 and 2: the same input gives the full PSP
    peak = w * (np.exp(-np.log(4) / 3) - np.exp(-4 * np.log(4) / 3)) / 3  # tau_m = 4 tau_s
    for k, base in ((1, q["v_reset"]), (2, q["v_rest"])):
        assert (mon.v[k][after] / mV - base).max() == pytest.approx(peak, rel=1e-3)
        onset = t[after][np.argmax(mon.g[k][after] != 0)]
        assert arrival[k] - EPS_MS <= onset <= arrival[k] + q["dt"] + EPS_MS


def test_reset_clears_synaptic_input(model):
    """Shiu et al.'s reset sets g = 0: a strong input gives one spike, not a burst."""
    q = quantities(model)
    group = model.neuron_group(1)
    source = SpikeGeneratorGroup(1, [0], [1.0] * ms)
    syn = Synapses(source, group, **model.synapses_kwargs("excitatory"))
    syn.connect(i=0, j=0)
    syn.w = model.synaptic_weights(300, 1)  # g jumps by 82.5 mV
    spikes = SpikeMonitor(group)
    mon = StateMonitor(group, ["v", "g"], record=0)
    Network(group, source, syn, spikes, mon).run(40 * ms)
    assert spikes.num_spikes == 1
    t_spike = float(spikes.t[0] / ms)
    after = mon.t / ms > t_spike + EPS_MS
    assert np.all(mon.g[0][after] == 0 * mV)
    # the residual input at the spike time would have been enough for a second spike
    g_left = 300 * q["w_syn"] * np.exp(-(t_spike - 1.0 - q["delay"]) / q["tau_syn"])
    assert psp(np.linspace(0, 20, 2001), g_left, q["tau_m"], q["tau_syn"]).max() > q["v_th"] - q["v_reset"]


def test_overrides_change_the_dynamics(model):
    fast = CurrentLIF().with_overrides(t_ref=0 * ms, v_th=-50 * mV, v_reset=-55 * mV)
    q = quantities(fast)
    assert q["t_ref"] == 0 and fast.parameters["t_ref"].source.startswith("user override")
    group = fast.neuron_group(1)
    group.u_ext = 10 * mV
    spikes = SpikeMonitor(group)
    Network(group, spikes).run(200 * ms)
    isi = np.diff(spikes.spike_trains()[0] / ms)
    args = (0.0, 20.0, -42.0, -55.0, -50.0)  # V_inf = v_rest + 10 mV
    assert np.allclose(isi, brian2_grid_isi(*args, q["dt"]), rtol=0, atol=EPS_MS)
    assert np.all(np.abs(isi - lif_isi(*args)) < q["dt"])
