"""Dopaminergic KC -> MBON plasticity: closed forms, controls, a reference implementation,
windows, restriction, devices; compartment maps and the valence table."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from brian2 import Hz, ms, second

import connectomes
import sim
from models.plasticity import (
    PLASTICITY_PARAMETERS,
    VALENCES,
    CompartmentMap,
    DopaminePlasticity,
    compare_maps,
    compartment_letters,
    derive_compartments,
    mb_sides,
    mbin_valence,
    mbon_valence,
    modulation_targets,
    naming_compartments,
    reference_weight,
)
from sim.stimuli import InputEvents

TAU_E = 5.0  # s, the default


@pytest.fixture
def toyc(toy, fresh_cache):
    return connectomes.load("winding2023", data_dir=toy.path, verify=False)


def _kc_only_signs(c):
    """Only KCs have fast synapses: nothing but the plastic pathway (and KC -> KC/LN) transmits."""
    s = np.zeros(c.n_neurons)
    s[c.select(celltype="KC").indices] = 1
    return s


def _net(c, rule, **kw):
    """The rule on Brian2 (these tests read the rule's Brian2 state; the numba engine has its own tests)."""
    kw.setdefault("device", "numpy")
    return sim.Network(c, signs=_kc_only_signs(c), plasticity=rule, **kw)


def _rel_change(rule):
    h = rule.history
    return (h.values[:, :, -1] - h.w0) / h.w0  # [trial, synapse]


# -- the rule: closed form and controls ----------------------------------------------------
def test_one_kc_spike_then_one_dan_spike_gives_eta_exp(toyc):
    """KCs spike at different times, then DAN-i1 spikes once: the synapses of each KC onto
    DAN-i1's MBONs change by -eta x w0 x exp(-dt/tau_e), dt = DAN spike - KC spike; nothing else."""
    eta = 0.1
    rule = DopaminePlasticity("names", eta=eta, rho=0.0, record="synapses", record_dt=1 * ms)
    net = _net(toyc, rule)
    dan = int(toyc.select(name="DAN-i1").indices[0])
    kcs = toyc.select(celltype="KC").indices
    kc_steps = 100 + 700 * np.arange(len(kcs))  # 70 ms apart
    dan_step = int(kc_steps[-1] + 1234)
    net.run(duration=(dan_step + 100) * 0.1 * ms, inputs=[InputEvents(np.r_[kcs, dan], np.r_[kc_steps, dan_step])])
    change = _rel_change(rule)[0]
    targets = rule.targets[dan]
    assert len(targets) and rule.n_modulation > 0
    checked = 0
    for kc, step in zip(kcs, kc_steps):
        dt_s = (dan_step - step) * 1e-4
        mod = (rule._pre == kc) & np.isin(rule._post, targets)
        np.testing.assert_allclose(change[mod], -eta * np.exp(-dt_s / TAU_E), rtol=1e-12, atol=0)
        checked += mod.sum()
    assert checked >= 3
    untouched = ~np.isin(rule._post, targets)
    assert untouched.any() and np.all(change[untouched] == 0)


def test_same_step_and_repeated_dan_spikes(toyc):
    """dt = 0 gives eta exactly (the KC pathway runs before the modulation in a step); two DAN
    spikes add their two exponentials (the depression is relative to w0, so it is linear)."""
    eta = 0.05
    rule = DopaminePlasticity("names", eta=eta, rho=0.0, record="synapses", record_dt=1 * ms)
    net = _net(toyc, rule)
    dan = int(toyc.select(name="DAN-i1").indices[0])
    kc_a, kc_b = toyc.select(celltype="KC").indices[:2]
    steps = [100, 100, 5100, 9100]  # kc_a and dan in the same step; kc_b later; dan again
    net.run(duration=1 * second, inputs=[InputEvents([kc_a, dan, kc_b, dan], steps)])
    change = _rel_change(rule)[0]
    targets = rule.targets[dan]
    a = (rule._pre == kc_a) & np.isin(rule._post, targets)
    b = (rule._pre == kc_b) & np.isin(rule._post, targets)
    assert a.any() and b.any()
    np.testing.assert_allclose(change[a], -eta * (1 + np.exp(-0.9 / TAU_E)), rtol=1e-12)
    np.testing.assert_allclose(change[b], -eta * np.exp(-0.4 / TAU_E), rtol=1e-12)


def test_no_change_without_dopamine_or_without_kc_activity(toyc):
    rule = DopaminePlasticity("names", eta=0.2, rho=0.0, record="synapses", record_dt=1 * ms)
    net = _net(toyc, rule)
    dans = toyc.select(name="DAN-*").indices
    kcs = toyc.select(celltype="KC").indices
    # KCs fire a lot, no MBIN spike
    net.run([sim.PoissonDrive(kcs, 50 * Hz)], duration=300 * ms, seed=1)
    assert np.all(_rel_change(rule) == 0)
    # MBINs fire a lot, KCs silent
    net.run([sim.Activation(dans, 80 * Hz)], duration=300 * ms, seed=1)
    assert np.all(_rel_change(rule) == 0)
    # MBINs before the KCs: no trace yet, no change
    net.run([sim.Activation(dans, 80 * Hz, stop=100 * ms), sim.PoissonDrive(kcs, 50 * Hz, start=110 * ms)],
            duration=300 * ms, seed=1)
    assert np.all(_rel_change(rule) == 0)


def _spikes_by_neuron(res):
    out = {}
    for n, t in zip(res.spike_nodes, res.spike_times):
        out.setdefault(int(n), []).append(float(t) / 1000.0)
    return out


@pytest.mark.parametrize("trace, timing", [("set", False), ("add", False), ("set", True), ("add", True)])
def test_brian2_equals_the_event_by_event_reference(toyc, trace, timing):
    """Random KC, DAN and MBON spikes, homeostasis on, clipping reached, plasticity only in a
    window: every synapse's final weight equals the numpy reference of the rule (with ``timing``: the
    timing-dependent variant, whose potentiation lifts some weights above their start)."""
    delay = 1.8e-3
    windows = [(0.05, 0.35)]
    p = {"eta": 0.08, "rho": 0.02, "w_max": 1.0, "tau_e": 0.2 * second}
    dtrace = "add" if trace == "set" else "set"  # the dopamine trace crossed with the KC trace
    if timing:  # an added dopamine trace grows with the DANs' rate
        p.update(eta_b=0.005 if dtrace == "add" else 0.05, tau_d=0.1 * second, w_max=1.5)
    rule = DopaminePlasticity("names", trace=trace, dopamine_trace=dtrace, windows=[(a * second, b * second) for a, b in windows],
                              record="synapses", record_dt=1 * ms, **p)
    net = _net(toyc, rule)
    stim = [sim.PoissonDrive(toyc.select(celltype="KC"), 40 * Hz),
            sim.Activation(toyc.select(name="DAN-*"), 60 * Hz, start=20 * ms),
            sim.Activation(toyc.select(celltype="MBON"), 30 * Hz)]
    res = net.run(stim, duration=400 * ms, seed=7)
    spikes = _spikes_by_neuron(res)
    final = rule.history.values[0, :, -1]
    mbins_of = {}
    for d, mbons in rule.targets.items():
        for m in mbons:
            mbins_of.setdefault(int(m), []).append(d)
    n_clipped = n_lifted = 0
    for k, (kc, mbon) in enumerate(zip(rule._pre, rule._post)):
        kc_t = [t + delay for t in spikes.get(int(kc), [])]
        dan_t = sorted(t + delay for d in mbins_of.get(int(mbon), []) for t in spikes.get(d, []))
        mbon_t = spikes.get(int(mbon), [])
        ref = reference_weight(rule._w0[k], kc_t, dan_t, mbon_t, eta=p["eta"], tau_e=0.2, rho=p["rho"],
                               w_max=p["w_max"], trace=trace, windows=windows, eta_b=p.get("eta_b", 0.0),
                               tau_d=0.1, dopamine_trace=dtrace)
        assert final[k] == pytest.approx(ref, rel=1e-9, abs=1e-15)
        n_clipped += ref == 0.0
        ref0 = reference_weight(rule._w0[k], kc_t, dan_t, mbon_t, eta=p["eta"], tau_e=0.2, rho=p["rho"],
                                w_max=1.0, trace=trace, windows=windows)
        n_lifted += ref > ref0 * (1 + 1e-6)
    assert np.any(final != rule._w0)
    assert n_clipped > 0  # the lower clip was exercised
    assert (n_lifted > 0) == timing  # only the timing-dependent variant potentiates


def test_reference_of_the_timing_dependent_variant():
    """KC before MBIN depresses, MBIN before KC potentiates by eta_b exp(-dt/tau_d), up to w_max; the
    default (eta_b = 0) is the depression-only rule; negative eta_b or tau_d <= 0 is refused by name."""
    kw = dict(eta=0.1, tau_e=5.0, eta_b=0.2, tau_d=0.5, w_max=2.0)
    assert reference_weight(1.0, [0.0], [1.0], **kw) == pytest.approx(1 - 0.1 * np.exp(-0.2))
    assert reference_weight(1.0, [1.0], [0.0], **kw) == pytest.approx(1 + 0.2 * np.exp(-2.0))
    # the backward KC spike also starts an eligibility trace: a second MBIN spike then depresses
    w = reference_weight(1.0, [1.0], [0.0, 1.5], **kw)
    assert w == pytest.approx(1 + 0.2 * np.exp(-2.0) - 0.1 * np.exp(-0.1))
    assert reference_weight(1.0, [0.01] * 20, [0.0], **kw) == 2.0  # clipped at w_max
    # two MBIN spikes: the "set" trace is 1, the "add" trace 1 + exp(-0.1/tau_d)
    assert reference_weight(1.0, [1.0], [0.0, 0.1], **kw) == pytest.approx(1 + 0.2 * np.exp(-1.8))
    assert reference_weight(1.0, [1.0], [0.0, 0.1], dopamine_trace="add", **kw) == pytest.approx(
        1 + 0.2 * (np.exp(-2.0) + np.exp(-1.8)))
    assert reference_weight(1.0, [1.0], [0.0], eta=0.1, tau_e=5.0) == 1.0  # eta_b = 0: no potentiation
    assert reference_weight(1.0, [1.0], [0.0], **{**kw, "w_max": 1.0}) == 1.0  # the start is the ceiling
    with pytest.raises(ValueError, match="eta_b"):
        DopaminePlasticity(eta_b=-0.1)
    with pytest.raises(ValueError, match="tau_d"):
        DopaminePlasticity(eta_b=0.1, tau_d=0 * second)
    with pytest.raises(ValueError, match="dopamine_trace"):
        DopaminePlasticity(eta_b=0.1, dopamine_trace="sum")
    rule = DopaminePlasticity(eta_b=0.01, tau_d=2 * second)
    assert "eta_b=0.01" in repr(rule) and rule.to_dict()["parameters"]["eta_b"]["value"] == 0.01


def test_windows_freeze_weights(toyc):
    """A DAN spike outside the plastic window changes nothing; inside it the usual amount."""
    eta = 0.1
    rule = DopaminePlasticity("names", eta=eta, rho=0.0, windows=[(0.1 * second, 0.2 * second)],
                              record="synapses", record_dt=1 * ms)
    net = _net(toyc, rule)
    dan = int(toyc.select(name="DAN-i1").indices[0])
    kc = int(toyc.select(celltype="KC").indices[0])
    targets = rule.targets[dan]
    mod = (rule._pre == kc) & np.isin(rule._post, targets)
    # KC at 10 ms, DAN at 50 ms (frozen; spike arrival 51.9 ms + delay), then DAN at 150 ms (plastic)
    net.run(duration=300 * ms, inputs=[InputEvents([kc, dan, dan], [100, 500, 1500])])
    w = rule.history.values[0]
    t = rule.history.times_ms
    assert np.all(w[:, t < 100] == rule._w0[:, None])  # nothing before the window
    np.testing.assert_allclose(_rel_change(rule)[0][mod], -eta * np.exp(-0.14 / TAU_E), rtol=1e-12)


def test_restricted_to_chosen_compartments(toyc):
    """mbins=["DAN-i1"]: only KC synapses onto DAN-i1's MBONs are plastic; DAN-d1 does nothing."""
    rule = DopaminePlasticity("names", mbins=["DAN-i1"], eta=0.1, rho=0.0, record="synapses", record_dt=1 * ms)
    net = _net(toyc, rule)
    n = toyc.neurons
    assert set(n.loc[np.unique(rule._post), "mb_name"]) == {"MBON-i1"}
    kcs = toyc.select(celltype="KC").indices
    d1 = toyc.select(name="DAN-d1").indices
    net.run(duration=200 * ms, inputs=[InputEvents(np.r_[kcs, d1], np.r_[np.full(len(kcs), 100), [600, 600]])])
    assert np.all(_rel_change(rule) == 0)
    with pytest.raises(ValueError, match="no MBIN type matches"):
        _net(toyc, DopaminePlasticity("names", mbins=["DAN-x9"]))


def test_switched_off_is_the_static_network(toyc):
    stim = [sim.PoissonDrive(toyc.select(modality="olfactory"), 150 * Hz),
            sim.Activation(toyc.select(name="DAN-*"), 50 * Hz)]
    static = sim.Network(toyc, signs="excitatory", device="numpy").run(stim, duration=150 * ms, seed=3)
    rule = DopaminePlasticity(enabled=False)
    off = sim.Network(toyc, signs="excitatory", plasticity=rule, device="numpy")
    assert not any(s.name == "plastic_kc_mbon" for s, *_ in off.pathways)
    assert off.run(stim, duration=150 * ms, seed=3).spikes.equals(static.spikes)
    assert off.describe()["plasticity"]["enabled"] is False


def test_weights_are_recorded_into_results_and_saved(toyc, tmp_path):
    rule = DopaminePlasticity("names", eta=0.05, record="mbon", record_dt=10 * ms)
    net = sim.Network(toyc, model="current_lif", signs="excitatory", plasticity=rule)
    stim = [sim.PoissonDrive(toyc.select(celltype="KC"), 40 * Hz),
            sim.Activation(toyc.select(name="DAN-i1"), 50 * Hz, start=50 * ms)]
    res = net.run(stim, duration=200 * ms, trials=2, seed=2)
    idx, t_ms, vals = res.states["kc_mbon_w"]
    assert res.state_units["kc_mbon_w"] == "1"
    assert vals.shape == (2, len(idx), len(t_ms)) and np.allclose(vals[:, :, 0], 1.0)
    names = toyc.neurons.loc[idx, "mb_name"].to_numpy()
    i1 = names == "MBON-i1"
    assert np.all(vals[:, i1, -1] < 1.0)  # DAN-i1 depressed its MBONs
    assert np.all(np.diff(vals[:, i1, :], axis=2) <= 1e-15)  # depression only (homeostasis is tiny)
    json.dumps(res.metadata["network"]["plasticity"])
    back = sim.Results.load(res.save(tmp_path / "r.h5"))
    np.testing.assert_array_equal(back.states["kc_mbon_w"][2], vals)


def test_conductance_model_uses_siemens_weights(toyc):
    from models import get_model

    eta = 0.1
    rule = DopaminePlasticity("names", eta=eta, rho=0.0, record="synapses", record_dt=1 * ms)
    signs = _kc_only_signs(toyc)
    net = sim.Network(toyc, model=get_model("conductance_lif"), signs=signs, plasticity=rule)
    dan = int(toyc.select(name="DAN-i1").indices[0])
    kc = int(toyc.select(celltype="KC").indices[0])
    net.run(duration=100 * ms, inputs=[InputEvents([kc, dan], [100, 600])])
    mod = (rule._pre == kc) & np.isin(rule._post, rule.targets[dan])
    assert rule._w0.max() < 1e-6  # siemens
    np.testing.assert_allclose(_rel_change(rule)[0][mod], -eta * np.exp(-0.05 / TAU_E), rtol=1e-12)


def test_rule_rejects_bad_settings(toyc):
    with pytest.raises(ValueError):
        DopaminePlasticity(trace="multiply")
    with pytest.raises(ValueError):
        DopaminePlasticity(eta=-0.1)
    with pytest.raises(ValueError):
        DopaminePlasticity(windows=[(2 * second, 1 * second)])
    signs = np.ones(toyc.n_neurons)
    signs[toyc.select(celltype="KC").indices] = -1
    with pytest.raises(ValueError, match="inhibitory"):
        sim.Network(toyc, signs=signs, plasticity=DopaminePlasticity("names"))


def test_parameters_carry_units_and_sources():
    for name in ("tau_e", "eta", "rho", "w_max"):
        q = PLASTICITY_PARAMETERS[name]
        assert q.source and q.unit
    assert float(PLASTICITY_PARAMETERS["tau_e"].value / second) == 5.0
    assert "Jürgensen" in PLASTICITY_PARAMETERS["tau_e"].source
    r = DopaminePlasticity(tau_e=2 * second)
    assert r.parameters["tau_e"].source.startswith("user override")


def test_reference_weight_closed_forms():
    assert reference_weight(1.0, [0.0], [1.0], eta=0.1, tau_e=5.0) == pytest.approx(1 - 0.1 * np.exp(-0.2))
    assert reference_weight(1.0, [], [1.0], eta=0.1, tau_e=5.0) == 1.0
    assert reference_weight(1.0, [0.0], [], [0.5], eta=0.1, tau_e=5.0, rho=0.5) == 1.0
    assert reference_weight(1.0, [0.0], [0.0] * 20, eta=0.1, tau_e=5.0) == 0.0  # clipped
    # add-trace: two KC spikes at the same time give a trace of 2
    assert reference_weight(1.0, [0.0, 0.0], [0.0], eta=0.1, tau_e=5.0, trace="add") == pytest.approx(0.8)


@pytest.mark.slow
def test_cpp_standalone_gives_the_numpy_weights(toyc):
    stim = [sim.PoissonDrive(toyc.select(celltype="KC"), 20 * Hz, stop=300 * ms),
            sim.Activation(toyc.select(name="DAN-*"), 30 * Hz, start=200 * ms, stop=400 * ms),
            sim.PoissonDrive(toyc.select(celltype="MBON"), 30 * Hz)]
    out = []
    for dev in ("numpy", "cpp_standalone"):
        rule = DopaminePlasticity("names", eta=0.05, rho=0.01, record="synapses", record_dt=1 * ms,
                                  windows=[(0.1 * second, 0.35 * second)])
        res = sim.Network(toyc, signs="literature", plasticity=rule, device=dev).run(
            stim, duration=0.5 * second, trials=2, seed=3)
        out.append((res, rule.history.values))
    assert out[0][0].spikes.equals(out[1][0].spikes)
    assert np.abs(out[0][1][:, :, -1] - out[0][1][:, :, 0]).max() > 0
    np.testing.assert_allclose(out[0][1], out[1][1], rtol=1e-12, atol=1e-18)


# -- compartments -------------------------------------------------------------------------------
def test_compartment_letters():
    assert compartment_letters("DAN-i1") == {"i"}
    assert compartment_letters("MBON-h1; MBON-h2") == {"h"}
    assert compartment_letters("OAN-e1") == {"e"}
    assert compartment_letters("APL") == set()


def test_derived_map_follows_the_synapse_counts(toyc):
    """The evidence counts equal the summed MBIN -> MBON synapses; the thresholds act as stated."""
    c = toyc
    n = c.neurons
    W = c.weights().toarray()
    m = derive_compartments(c, min_synapses=1, min_share=0.0)
    for r in m.evidence.itertuples():
        pre = n.index[n["mb_name"] == r.mbin].to_numpy()
        post = n.index[n["mb_name"] == r.mbon].to_numpy()
        total = W[np.ix_(pre, post)].sum()
        assert r.synapses == total
        assert r.in_map == (total >= 1)
    assert derive_compartments(c, min_synapses=10 ** 6).pairs() == set()
    strict = derive_compartments(c, min_synapses=1, min_share=0.99)
    assert strict.pairs() <= m.pairs()


def test_naming_map_and_disagreements(toyc):
    named = naming_compartments(toyc)
    assert named.mapping == {"DAN-d1": ("MBON-d1",), "DAN-i1": ("MBON-i1",)}
    other = CompartmentMap({"DAN-d1": ["MBON-d1", "MBON-i1"], "DAN-i1": []}, "user")
    dis = compare_maps(other, named)
    assert set(zip(dis["mbin"], dis["kind"])) == {("DAN-d1", "only in user"), ("DAN-i1", "only in names")}


def test_modulation_targets_follow_the_map(toyc):
    cm = CompartmentMap({"DAN-i1": ["MBON-i1"]})
    t = modulation_targets(toyc, cm)
    n = toyc.neurons
    assert set(n.loc[list(t), "mb_name"]) == {"DAN-i1"}
    for d, mbons in t.items():
        assert set(n.loc[mbons, "mb_name"]) == {"MBON-i1"}
        assert set(n.loc[mbons, "hemisphere"]) <= mb_sides(toyc)[d]


# -- valence ------------------------------------------------------------------------------------
def test_valence_table_has_sources_and_overrides(tmp_path):
    v = mbin_valence()
    assert len(v) == 14 and set(v["valence"]) <= set(VALENCES)
    known = v[v["valence"] != "unknown"]
    assert len(known) and (known["source"].str.len() > 0).all()
    assert v.at["DAN-i1", "valence"] == "appetitive"
    assert set(v.loc[["DAN-d1", "DAN-f1", "DAN-g1"], "valence"]) == {"aversive"}
    o = mbin_valence({"DAN-c1": ("aversive", "my lab")})
    assert o.at["DAN-c1", "valence"] == "aversive" and o.at["DAN-c1", "source"] == "my lab"
    f = tmp_path / "v.csv"
    pd.DataFrame({"mbin": ["OAN-e1"], "valence": ["appetitive"]}).to_csv(f, index=False)
    assert mbin_valence(f).at["OAN-e1", "source"] == "user override"
    with pytest.raises(ValueError, match="valence"):
        mbin_valence({"DAN-i1": "tasty"})


def test_mbon_valence_is_opposite_to_the_compartment():
    cm = CompartmentMap({"DAN-i1": ["MBON-i1"], "DAN-g1": ["MBON-g1", "MBON-m1"], "MBIN-l1": ["MBON-m1"],
                         "DAN-c1": ["MBON-c1"], "DAN-d1": ["MBON-x1"], "DAN-j1": ["MBON-x1"]})
    v = mbon_valence(cm)
    assert v["MBON-i1"] == -1 and v["MBON-g1"] == 1 and v["MBON-m1"] == 1
    assert v["MBON-c1"] == 0  # unknown valence
    assert v["MBON-x1"] == 0  # conflicting valences


def test_mbon_activation_table_is_sourced_and_read_strictly(tmp_path):
    """The packaged table of single-MBON activation (Eschbach et al. 2021): every row sourced, the pairs the lines
    could not separate carry one effect; a bad row is an error naming the file, line and column."""
    from models.plasticity import ACTIVATION_EFFECTS, mbon_activation

    t = mbon_activation()
    assert set(t["effect"]) <= set(ACTIVATION_EFFECTS) and (t["source"].str.contains("Eschbach et al. 2021")).all()
    assert t.at["MBON-c1", "effect"] == "no_effect" and t.at["MBON-i1", "sign"] == -1 and t.at["MBON-m1", "sign"] == 1
    for a, b in (("MBON-b1", "MBON-b2"), ("MBON-g1", "MBON-g2"), ("MBON-h1", "MBON-h2")):
        assert t.at[a, "tested_with"] == b and t.at[b, "tested_with"] == a and t.at[a, "effect"] == t.at[b, "effect"]
    good = "mbon,effect,tested_with,line,figure,source\nMBON-x1,approach,alone,SS1,Fig. 1,me\n"
    cases = {"effect": (good + "MBON-y1,liked,alone,SS2,Fig. 1,me\n", r"line 3, column 'effect': 'liked' for MBON-y1"),
             "duplicate": (good + good.splitlines()[1] + "\n", "listed twice: \\['MBON-x1'\\]"),
             "source": (good + "MBON-y1,approach,alone,SS2,Fig. 1,\n", "line 3, column 'source': empty"),
             "column": ("mbon,effect,line,figure,source\nMBON-x1,approach,SS1,Fig. 1,me\n",
                        r"missing column\(s\) \['tested_with'\]")}
    for name, (text, message) in cases.items():
        f = tmp_path / f"{name}.csv"
        f.write_text(text)
        with pytest.raises(ValueError, match=message) as err:
            mbon_activation(f)
        assert str(f) in str(err.value), name


def test_model_signs_are_compared_with_activation():
    """Every verdict: same sign, opposite sign, signed but no effect, unsigned with and without an effect,
    untested, and a measured MBON absent from the model; a type named for two MBONs is measured through both."""
    from models.plasticity import compare_mbon_signs

    act = pd.DataFrame({"mbon": ["MBON-a", "MBON-b", "MBON-c", "MBON-d", "MBON-e", "MBON-h1", "MBON-h2", "MBON-z"],
                        "effect": ["approach", "approach", "no_effect", "avoidance", "no_effect", "avoidance",
                                   "avoidance", "approach"],
                        "tested_with": ["alone"] * 5 + ["MBON-h2", "MBON-h1", "alone"]}).set_index("mbon")
    act["sign"] = act["effect"].map({"approach": 1, "avoidance": -1, "no_effect": 0})
    signs = {"MBON-a": 1, "MBON-b": -1, "MBON-c": 1, "MBON-d": 0, "MBON-e": 0, "MBON-f": -1, "MBON-h1; MBON-h2": -1}
    t = compare_mbon_signs(signs, act).set_index("mbon")
    assert t["verdict"].to_dict() == {"MBON-a": "agree", "MBON-b": "opposite", "MBON-c": "no effect",
                                      "MBON-d": "unsigned, effect", "MBON-e": "unsigned, no effect",
                                      "MBON-f": "not tested", "MBON-h1; MBON-h2": "agree", "MBON-z": "not in the model"}
    assert t.at["MBON-h1; MBON-h2", "pair"] == "MBON-h1/MBON-h2" and t.at["MBON-h1; MBON-h2", "measured"] == -1


def test_activation_valence_reads_the_measured_signs():
    """A readout's MBON signs from activation alone: approach +1, avoidance -1, no effect and untested 0,
    a type named for an activated pair takes the pair's sign."""
    from models.plasticity import activation_valence

    v = activation_valence(["MBON-i1", "MBON-m1", "MBON-c1", "MBON-f1", "MBON-h1; MBON-h2", "MBON-a2"])
    assert v.to_dict() == {"MBON-a2": -1, "MBON-c1": 0, "MBON-f1": 0, "MBON-h1; MBON-h2": -1, "MBON-i1": -1,
                           "MBON-m1": 1}


# -- real data -------------------------------------------------------------------------------------
@pytest.mark.realdata
def test_real_compartment_map_against_the_names(real_connectome):
    c = real_connectome
    derived = derive_compartments(c)
    named = naming_compartments(c)
    dis = compare_maps(derived, named)
    # the DANs' own letters are recovered from the synapses
    for dan, mbons in {"DAN-c1": ["MBON-c1"], "DAN-d1": ["MBON-d1", "MBON-d2"], "DAN-f1": ["MBON-f1"],
                       "DAN-g1": ["MBON-g1", "MBON-g2"], "DAN-i1": ["MBON-i1"], "DAN-j1": ["MBON-j1"],
                       "DAN-k1": ["MBON-k1"], "MBIN-b1": ["MBON-b1", "MBON-b2", "MBON-b3"]}.items():
        assert set(mbons) <= set(derived.mbons_of(dan)), dan
    # aversive and appetitive compartments do not share MBONs
    assert not set(derived.mbons_of("DAN-g1")) & set(derived.mbons_of("DAN-i1"))
    assert not set(derived.mbons_of("DAN-f1")) & set(derived.mbons_of("DAN-i1"))
    # MBIN-l1 has no MBON-l: all of its compartments are disagreements
    assert set(dis.loc[dis["mbin"] == "MBIN-l1", "kind"]) == {"only in connectome"}
    # evidence: matched letters are the most similar KC partners for most DANs
    ev = derived.evidence
    own = ev[ev["by_name"] & ev["mbin"].str.startswith("DAN")]
    assert (own.groupby("mbin")["kc_rank"].min() == 1).mean() >= 0.5
    # every MBIN type's name letter is either in the map or reported
    for x in derived.mapping:
        for y in named.mbons_of(x):
            assert y in derived.mbons_of(x) or ((dis["mbin"] == x) & (dis["mbon"] == y)).any()


@pytest.mark.realdata
def test_real_mb_sides(real_connectome):
    c = real_connectome
    n = c.neurons
    sides = mb_sides(c)
    for i in c.select(name="DAN-g1").indices:
        assert sides[i] == ({"left", "right"} - {n.at[i, "hemisphere"]})  # contralateral
    for i in c.select(name="DAN-i1").indices:
        assert sides[i] == {"left", "right"}  # bilateral
    v = mbon_valence(derive_compartments(c))
    assert v["MBON-i1"] == -1 and v["MBON-g1"] == 1


@pytest.mark.parametrize("grouped", [True, False])
@pytest.mark.parametrize("n_times", [1, 7])
def test_summarise_trial_totals_each_mbons_synapses(grouped, n_times):
    """An MBON's relative weight is the sum of its plastic synapses over their initial sum, whatever the
    synapse order (grouped by MBON or interleaved) and however many samples; history stacks the trials."""
    from types import SimpleNamespace

    rng = np.random.default_rng(3)
    post = np.repeat([40, 12, 7], [5, 1, 9])
    post = post if grouped else rng.permutation(post)
    w0 = rng.uniform(0.1, 1.0, post.size)
    rule = DopaminePlasticity(record="mbon")
    rule.start(SimpleNamespace(pre=np.arange(post.size), post=post, w0=w0, mod_pre=np.zeros(0)))
    out = []
    for trial in range(2):
        w = w0[:, None] * rng.uniform(0.0, 1.5, (post.size, n_times))
        mbons, t_ms, rel, unit = rule.summarise_trial(w, np.arange(n_times) * 50.0, trial)["kc_mbon_w"]
        assert list(mbons) == [7, 12, 40] and unit == "1"
        for k, m in enumerate(mbons):
            assert rel[k] == pytest.approx(w[post == m].sum(axis=0) / w0[post == m].sum(), rel=1e-12)
        out.append(rel)
    assert np.array_equal(rule.history.relative, np.stack(out))
