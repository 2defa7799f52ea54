"""ConductanceAdaptiveLIF (Jürgensen et al. 2024) in real Brian2 runs.

References: closed forms where they exist (relaxation to rest, LIF rate under
a constant current without adaptation) and an independent high-accuracy
integration with scipy's ``solve_ivp`` otherwise (single synaptic events,
adapting spike trains).  The model integrates with forward Euler (as the
original code), whose error over a time constant ``tau`` is of relative
order ``dt / tau``; tolerances below are stated in those terms.
"""

import numpy as np
import pytest
from brian2 import (
    Network,
    SpikeGeneratorGroup,
    SpikeMonitor,
    StateMonitor,
    Synapses,
    defaultclock,
    mV,
    ms,
    nS,
    pA,
    pF,
    second,
)
from scipy.integrate import solve_ivp

from models import CLASS_PARAMETERS, ConductanceAdaptiveLIF, UnknownParameterError, get_model

CLASSES = [None, "PN", "LN", "KC", "APL", "MBON"]
DT = 0.1  # ms


@pytest.fixture
def model():
    m = get_model("conductance_lif")
    defaultclock.dt = m.dt
    assert float(m.dt / ms) == DT
    return m


def si(x):
    """Brian2 quantity (array) -> float array in SI units."""
    return np.asarray(x, dtype=float)


def test_wiring_and_cell_classes(model):
    kw = model.neuron_group_kwargs()
    assert kw["method"] == "euler" and kw["refractory"] == "t_ref"
    assert set(kw["namespace"]) == {"E_e", "E_i", "E_a", "tau_e", "tau_i", "tau_a"}
    assert not model.shared_pathway
    assert model.on_pre("excitatory") == "g_e += w" and model.on_pre("inhibitory") == "g_i += w"
    w = model.synaptic_weights([2, 2], [1, -1])
    assert np.allclose(w / nS, [0.046, 0.184])
    arrays = model.class_parameter_arrays(CLASSES)
    assert set(arrays) == set(CLASS_PARAMETERS)
    assert np.allclose(arrays["g_L"] / nS, [5, 2.5, 2.5, 0.5, 5, 5])
    assert np.allclose(arrays["V_th"] / mV, [-35, -30, -30, -35, -30, -35])
    with pytest.raises(ValueError, match="unknown cell class 'KCs'; did you mean 'KC'"):
        model.class_parameter_arrays(["KCs"])
    lenient = model.class_parameter_arrays(["KCs", "KC"], unknown="default")
    assert np.allclose(lenient["C_m"] / pF, [100, 30])


def test_overrides_of_shared_and_class_parameters(model):
    m = model.with_overrides(tau_e=6 * ms, KC={"g_L": 1 * nS})
    assert m.parameters.value("tau_e") == 6 * ms
    assert m.cell_classes["KC"].value("g_L") == 1 * nS
    assert m.cell_classes["KC"]["g_L"].source.startswith("user override (was: Jürgensen et al. 2024")
    assert model.cell_classes["KC"].value("g_L") == 0.5 * nS  # original unchanged
    with pytest.raises(UnknownParameterError, match="'tau_ee'.*did you mean 'tau_e'"):
        model.with_overrides(tau_ee=1 * ms)
    with pytest.raises(ValueError, match="'g_L' expects a value in 'nS'"):
        model.with_overrides(KC={"g_L": 1 * mV})
    with pytest.raises(ValueError, match="default_class"):
        ConductanceAdaptiveLIF(default_class="neuron")


def test_relaxation_to_each_class_resting_potential(model):
    """No input: v relaxes to E_L with the class time constant C_m / g_L."""
    group = model.neuron_group(cell_classes=CLASSES)
    arrays = model.class_parameter_arrays(CLASSES)
    e_l, tau = si(arrays["E_L"]), si(arrays["C_m"] / arrays["g_L"])
    group.v = arrays["E_L"] + 5 * mV
    spikes = SpikeMonitor(group)
    mon = StateMonitor(group, "v", record=True)
    Network(group, spikes, mon).run(300 * ms)
    assert spikes.num_spikes == 0
    t = si(mon.t)
    for k in range(len(CLASSES)):
        dev = si(mon.v[k]) - e_l[k]
        expected = 5e-3 * np.exp(-t / tau[k])
        # Euler decays by (1 - dt/tau) per step instead of exp(-dt/tau)
        assert np.max(np.abs(dev - expected)) < 5e-3 * (DT * 1e-3 / tau[k]), CLASSES[k]
        assert abs(dev[-1]) < 5e-3 * np.exp(-0.3 / tau[k]) + 1e-9


def reference_event(c_m, g_l, e_l, w, e_syn, tau_syn, t):
    """v(t) after a conductance jump w at t = 0 (solve_ivp, tight tolerances)."""
    rhs = lambda s, v: (g_l * (e_l - v) + w * np.exp(-s / tau_syn) * (e_syn - v)) / c_m  # noqa: E731
    sol = solve_ivp(rhs, (0, t[-1]), [e_l], t_eval=t, method="LSODA", rtol=1e-10, atol=1e-13)
    return sol.y[0]


def test_single_events_move_v_towards_reversal_potentials(model):
    # neuron 2 has E_L below E_i: an inhibitory event must *depolarise* it towards E_i
    m = model.with_overrides(MBON={"E_L": -85 * mV, "V_reset": -85 * mV})
    labels = [None, None, "MBON"]
    group = m.neuron_group(cell_classes=labels)
    source = SpikeGeneratorGroup(1, [0], [5.0] * ms)
    n_syn = 200
    exc = Synapses(source, group, **m.synapses_kwargs("excitatory"))
    exc.connect(i=0, j=0)
    exc.w = m.synaptic_weights(n_syn, 1)
    inh = Synapses(source, group, **m.synapses_kwargs("inhibitory"))
    inh.connect(i=0, j=[1, 2])
    inh.w = m.synaptic_weights([n_syn, n_syn], [-1, -1])
    mon = StateMonitor(group, ["v", "g_e", "g_i"], record=True)
    Network(group, source, exc, inh, mon).run(80 * ms)
    t = si(mon.t)
    onset_idx = np.argmax(si(mon.g_e[0]) > 0)
    assert 5.0 - 1e-9 <= t[onset_idx] * 1e3 - float(m.synaptic_delay / ms) <= 5.0 + DT + 1e-9
    p = m.parameters
    e_e, e_i = float(p.value("E_e")), float(p.value("E_i"))
    cases = [  # (neuron, E_L, reversal, w, tau_syn)
        (0, -60e-3, e_e, si(exc.w[0]), float(p.value("tau_e"))),
        (1, -60e-3, e_i, si(inh.w[0]), float(p.value("tau_i"))),
        (2, -85e-3, e_i, si(inh.w[1]), float(p.value("tau_i"))),
    ]
    for k, e_l, e_rev, w, tau_syn in cases:
        v = si(mon.v[k])
        assert np.all(v[:onset_idx] == e_l)
        # moves towards, never past, the reversal potential
        direction = np.sign(e_rev - e_l)
        assert direction * (v.max() if direction > 0 else v.min()) > direction * e_l + 4e-3
        assert np.all(direction * (e_rev - v) > 0)
        ref = reference_event(100e-12, 5e-9, e_l, w, e_rev, tau_syn, t[onset_idx:] - t[onset_idx])
        amplitude = np.max(np.abs(ref - e_l))
        assert np.max(np.abs(v[onset_idx:] - ref)) < 2 * (DT * 1e-3 / tau_syn) * amplitude, k


def lif_isi(t_ref, tau, v_inf, v_reset, v_th):
    return t_ref + tau * np.log((v_inf - v_reset) / (v_inf - v_th))


def test_rate_without_adaptation_matches_closed_form(model):
    """Constant current, delta_g_a = 0: a LIF with tau = C_m/g_L and V_inf = E_L + I/g_L."""
    m = model.with_overrides(default={"delta_g_a": 0 * nS}, KC={"delta_g_a": 0 * nS}, MBON={"delta_g_a": 0 * nS})
    group = m.neuron_group(cell_classes=CLASSES)
    arrays = m.class_parameter_arrays(CLASSES)
    margin = np.array([10, 10, 20, 10, 5, 30]) * 1e-3  # V_inf - V_th per neuron
    group.I_ext = si(arrays["g_L"]) * (si(arrays["V_th"]) + margin - si(arrays["E_L"])) * 1e12 * pA
    spikes = SpikeMonitor(group)
    Network(group, spikes).run(1 * second)
    t_ref = float(m.parameters.value("t_ref") / ms)
    for k, label in enumerate(CLASSES):
        tau = float(arrays["C_m"][k] / arrays["g_L"][k] / ms)
        v_th, v_reset = float(arrays["V_th"][k] / mV), float(arrays["V_reset"][k] / mV)
        expected = lif_isi(t_ref, tau, v_th + margin[k] * 1e3, v_reset, v_th)
        isi = np.diff(spikes.spike_trains()[k] / ms)
        assert len(isi) >= 10, label
        # grid labelling costs up to one dt; Euler shortens the rise time T by ~T*dt/(2 tau)
        rise = expected - t_ref
        assert np.all(isi <= expected + 1e-9), label
        assert np.all(isi > expected - DT - rise * DT / tau), label


def reference_adapting_train(c_m, g_l, e_l, v_th, v_reset, e_a, tau_a, delta, i_ext, t_ref, t_end):
    """Spike times of the adaptive neuron under constant current (solve_ivp with events)."""
    t, v, g_a, spikes = 0.0, e_l, 0.0, []

    def crossing(s, y):
        return y[0] - v_th

    crossing.terminal, crossing.direction = True, 1
    while t < t_end:
        g0 = g_a
        rhs = lambda s, y: [(g_l * (e_l - y[0]) + g0 * np.exp(-s / tau_a) * (e_a - y[0]) + i_ext) / c_m]  # noqa: E731
        sol = solve_ivp(rhs, (0, t_end - t), [v], events=crossing, method="LSODA", rtol=1e-10, atol=1e-13)
        if not sol.t_events[0].size:
            break
        dt_spike = sol.t_events[0][0]
        t += dt_spike
        spikes.append(t)
        g_a = g0 * np.exp(-dt_spike / tau_a) + delta
        # refractory: v clamped at reset, conductances keep decaying
        g_a *= np.exp(-t_ref / tau_a)
        t += t_ref
        v = v_reset
    return np.array(spikes)


def test_adaptation_lowers_rate_under_constant_drive(model):
    control_model = model.with_overrides(default={"delta_g_a": 0 * nS})
    adapting = model.neuron_group(1)
    control = control_model.neuron_group(1)
    drive = 5 * nS * 35 * mV  # V_inf = V_th + 10 mV without adaptation
    adapting.I_ext = drive
    control.I_ext = drive
    sp_a, sp_c = SpikeMonitor(adapting), SpikeMonitor(control)
    Network(adapting, control, sp_a, sp_c).run(3 * second)
    isi_a = np.diff(si(sp_a.t))
    isi_c = np.diff(si(sp_c.t))
    # control: constant rate; adapting: rate falls by more than a factor 2
    assert np.ptp(isi_c) <= DT * 1e-3 + 1e-12
    assert sp_a.t[0] == sp_c.t[0]  # identical until the first spike adds g_a
    assert isi_a[-1] > 2.5 * isi_a[0]
    assert np.all(np.diff(isi_a[:10]) > 0)  # monotonic slow-down at onset
    rate_early = np.sum(si(sp_a.t) < 0.2) / 0.2
    rate_late = np.sum(si(sp_a.t) >= 2.0) / 1.0
    assert rate_late < 0.5 * rate_early
    # against an independent accurate integration of the same model
    p, c = model.parameters, model.cell_classes["default"]
    ref = reference_adapting_train(
        si(c.value("C_m")), si(c.value("g_L")), si(c.value("E_L")), si(c.value("V_th")), si(c.value("V_reset")),
        si(p.value("E_a")), si(p.value("tau_a")), si(c.value("delta_g_a")), si(drive), si(p.value("t_ref")), 3.0,
    )
    isi_ref = np.diff(ref)
    assert len(isi_ref) == len(isi_a)
    # per ISI: one dt of grid labelling plus the Euler bias of the rise (~T dt / 2 tau,
    # < 0.1 ms here) and its effect on g_a; late mean ISI (adapted steady state) to 1 %
    assert np.all(np.abs(isi_a - isi_ref) < 3 * DT * 1e-3)
    n = len(isi_a)
    assert np.mean(isi_a[n // 2:]) == pytest.approx(np.mean(isi_ref[n // 2:]), rel=0.01)
