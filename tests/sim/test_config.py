"""Run descriptions from text (sim.config): quantities, stimulus specs, TOML run files, run_config."""
from __future__ import annotations

import numpy as np
import pytest

import models
from brian2 import Hz, Quantity, kHz, ms, mV, nS, pA, second

import connectomes
import sim
from connectomes.errors import SelectionError
from connectomes.synthetic import write_winding_format
from sim.config import (
    load_run_file,
    network_from_config,
    parse_quantity,
    parse_stimulus,
    run_config,
    stimuli_from_config,
)


@pytest.fixture(scope="module")
def toyc(tmp_path_factory):
    """The toy connectome (as the ``toy`` fixture writes it), loaded once for this module."""
    truth = write_winding_format(tmp_path_factory.mktemp("toy") / "toy", seed=1)
    return connectomes.load("winding2023", data_dir=truth.path, verify=False)


def _write(tmp_path, text, name="run.toml"):
    p = tmp_path / name
    p.write_text(text)
    return p


# -- quantities ------------------------------------------------------------------------
@pytest.mark.parametrize("text, expected", [
    ("80 Hz", 80 * Hz), ("80Hz", 80 * Hz), ("  80   Hz ", 80 * Hz), ("1.5 kHz", 1500 * Hz),
    ("200 ms", 200 * ms), ("200ms", 200 * ms), ("1 s", 1 * second), ("0.5 second", 500 * ms),
    ("0.3 mV", 0.3 * mV), ("-65 mV", -65 * mV), ("1e3 ms", 1 * second), ("2 nS", 2 * nS), ("10 pA", 10 * pA),
])
def test_parse_quantity(text, expected):
    q = parse_quantity(text)
    assert isinstance(q, Quantity)
    assert q.dim == expected.dim
    assert float(q / expected) == pytest.approx(1.0)


def test_parse_quantity_passes_quantities_through():
    q = 3 * kHz
    assert parse_quantity(q) is q


@pytest.mark.parametrize("text", ["80", "eighty Hz", "80 furlongs", "", "80 Hz extra", "Hz"])
def test_parse_quantity_error_names_the_field(text):
    with pytest.raises(ValueError, match=r"^\[\[drive\]\] #2: rate: cannot read") as e:
        parse_quantity(text, "[[drive]] #2: rate")
    assert repr(text) in str(e.value) and "'80 Hz'" in str(e.value)  # says what it read, shows an example


# -- stimulus specs --------------------------------------------------------------------
def test_drive_spec(toyc):
    s = parse_stimulus(toyc, "drive", "modality=olfactory,hemisphere=left,rate=80Hz,start=200ms,stop=700ms")
    assert type(s) is sim.PoissonDrive
    expect = toyc.select(modality="olfactory", hemisphere="left").indices
    assert len(expect) == 3
    assert np.array_equal(s.target.indices, expect)
    assert float(s.rate / Hz) == 80 and float(s.start / ms) == 200 and float(s.stop / ms) == 700
    assert s.dead_time is None
    assert "olfactory" in s.name and "left" in s.name  # labelled by its selection


def test_activate_spec_with_alternatives(toyc):
    s = parse_stimulus(toyc, "activate", " celltype = KC|MBON , rate = 50 Hz ")
    assert type(s) is sim.Activation
    assert np.array_equal(s.target.indices, toyc.select(celltype=["KC", "MBON"]).indices)
    assert float(s.start / ms) == 0 and s.stop is None  # whole trial by default
    s2 = parse_stimulus(toyc, "drive", "celltype=KC,rate=20Hz,dead_time=0ms")
    assert float(s2.dead_time / ms) == 0


def test_silence_spec_with_mode(toyc):
    apl = toyc.select(name="APL").indices
    s = parse_stimulus(toyc, "silence", "name=APL,mode=all")
    assert isinstance(s, sim.Silence) and s.mode == "all"
    assert np.array_equal(s.target.indices, apl)
    s = parse_stimulus(toyc, "silence", "celltype=LN")
    assert s.mode == "outgoing"


def test_name_in_a_spec_selects(toyc):
    """``name`` is a selection criterion like the others: it narrows, it does not label."""
    s = parse_stimulus(toyc, "drive", "celltype=MBIN,name=DAN-d1,rate=50Hz")
    assert np.array_equal(s.target.indices, toyc.select(celltype="MBIN", name="DAN-d1").indices)
    assert len(s.target.indices) == 2 < len(toyc.select(celltype="MBIN").indices)


def test_missing_rate(toyc):
    with pytest.raises(ValueError, match=r"--drive 'modality=olfactory': a drive needs a rate \(e\.g\. rate=80Hz\)"):
        parse_stimulus(toyc, "drive", "modality=olfactory")
    with pytest.raises(ValueError, match=r"--activate .*: a.? activate needs a rate"):
        parse_stimulus(toyc, "activate", "celltype=KC,start=10ms")


@pytest.mark.parametrize("kind, spec, bad", [
    ("drive", "modality=olfactory,rate=80Hz,mode=all", "'mode'"),
    ("silence", "name=APL,mode=all,rate=80Hz", "'rate'"),
    ("silence", "name=APL,start=10ms", "'start'"),
])
def test_unknown_stimulus_keys(toyc, kind, spec, bad):
    with pytest.raises(ValueError, match=rf"--{kind} '.*': unknown key\(s\) \[{bad}\] for a {kind}"):
        parse_stimulus(toyc, kind, spec)


def test_unknown_selection_column_names_the_stimulus(toyc):
    with pytest.raises(SelectionError) as e:
        parse_stimulus(toyc, "drive", "modality=olfactory,rat=80Hz")
    msg = str(e.value)
    assert msg.startswith("--drive 'modality=olfactory,rat=80Hz': ") and "no column 'rat'" in msg


def test_spec_syntax_errors(toyc):
    with pytest.raises(ValueError, match=r"'rate' is not KEY=VALUE"):
        parse_stimulus(toyc, "drive", "modality=olfactory,rate")
    with pytest.raises(ValueError, match="no selection given"):
        parse_stimulus(toyc, "drive", "rate=80Hz")
    with pytest.raises(ValueError, match=r"--drive 'celltype=KC,rate=80': rate: cannot read '80'"):
        parse_stimulus(toyc, "drive", "celltype=KC,rate=80")
    with pytest.raises(ValueError, match=r"--drive 'celltype=KC,rate=80mV': rate must be in Hz"):
        parse_stimulus(toyc, "drive", "celltype=KC,rate=80mV")
    with pytest.raises(ValueError, match=r"--drive .*: stop .* is before start"):
        parse_stimulus(toyc, "drive", "celltype=KC,rate=8Hz,start=500ms,stop=100ms")
    with pytest.raises(ValueError, match=r"--silence 'name=APL,mode=some': Silence mode must be one of"):
        parse_stimulus(toyc, "silence", "name=APL,mode=some")


@pytest.mark.parametrize("spec, close", [
    ("modality=olfactry,rate=80Hz", "olfactory"),
    ("celltype=MBONs,rate=80Hz", "MBON"),
    ("name=DAN-x1,rate=80Hz", "DAN-i1"),
])
def test_selection_that_matches_nothing_lists_close_matches(toyc, spec, close):
    with pytest.raises(SelectionError) as e:
        parse_stimulus(toyc, "drive", spec)
    msg = str(e.value)
    assert msg.startswith(f"--drive {spec!r}: ")
    assert "Close matches" in msg and close in msg.split("Close matches", 1)[1]
    assert isinstance(e.value, KeyError)  # the CLI turns it into exit code 2


def test_empty_combination_is_an_error(toyc):
    with pytest.raises(SelectionError, match="matches no neuron"):
        parse_stimulus(toyc, "drive", "celltype=KC,modality=olfactory,rate=8Hz")


# -- run files -------------------------------------------------------------------------
RUN_FILE = """
duration = "300 ms"
trials = 2
seed = 7
model = "current_lif"
signs = "random"
synapse_types = ["ad", "aa"]

[sign_options]
fraction = 0.5

[model_parameters]
w_syn = "0.5 mV"
t_ref = "3 ms"

[[drive]]
select = { modality = "olfactory", hemisphere = "left" }
name = "odour A"
rate = "80 Hz"
start = "100 ms"
stop = "200 ms"

[[activate]]
celltype = ["DN-VNC", "RGN"]
hemisphere = "right"
rate = "20 Hz"

[[silence]]
select = { name = "APL" }
mode = "all"

[[silence]]
name = "MBON-*"
"""


def test_run_file(toyc, tmp_path):
    path = _write(tmp_path, RUN_FILE)
    cfg = load_run_file(path)
    assert cfg["_path"] == str(path) and cfg["trials"] == 2

    net = network_from_config(toyc, cfg)
    p = net.model.parameters
    assert float(p["w_syn"].value / mV) == pytest.approx(0.5)
    assert float(p["t_ref"].value / ms) == pytest.approx(3.0)
    assert "user override" in p["w_syn"].source
    assert net.synapse_types == ("ad", "aa")
    assert net.sign_info["policy"] == "random" and (net.signs < 0).any() and (net.signs > 0).any()
    W = toyc.weights(("ad", "aa")).tocoo()  # only those types; modulatory (sign 0) neurons have none
    assert net.n_synapses == int((net.signs[W.row] != 0).sum()) < toyc.weights().nnz

    stims = stimuli_from_config(toyc, cfg)
    assert [type(s).__name__ for s in stims] == ["PoissonDrive", "Activation", "Silence", "Silence"]
    drive, act, sil_apl, sil_mbon = stims
    assert drive.name == "odour A"
    assert np.array_equal(drive.target.indices, toyc.select(modality="olfactory", hemisphere="left").indices)
    assert float(drive.start / ms) == 100 and float(drive.stop / ms) == 200
    assert np.array_equal(act.target.indices,
                          toyc.select(celltype=["DN-VNC", "RGN"], hemisphere="right").indices)
    assert sil_apl.mode == "all" and np.array_equal(sil_apl.target.indices, toyc.select(name="APL").indices)
    assert sil_mbon.mode == "outgoing" and np.array_equal(sil_mbon.target.indices,
                                                          toyc.select(name="MBON-*").indices)


def test_run_file_defaults(toyc, tmp_path):
    cfg = load_run_file(_write(tmp_path, ""))
    net = network_from_config(toyc, cfg)
    # the default model: the calibrated larval model with its synapse types and literature signs
    default = models.get_model()
    assert net.model.name == "larval_lif" and net.sign_info["policy"] == "literature"
    assert net.synapse_types == (default.synapse_types or ("ad", "aa", "dd", "da"))
    # the default device, as everywhere in larvasim (sim.backends.DEFAULT_DEVICE)
    assert net.device == "numba" and net.model.parameters["w_syn"].value == default.parameters["w_syn"].value
    assert stimuli_from_config(toyc, cfg) == []


def test_dimensionless_override_from_text(toyc):
    net = network_from_config(toyc, {"model": "current_lif", "model_parameters": {"poisson_weight_factor": "200"}})
    assert float(net.drive_weight / mV) == pytest.approx(200 * 0.275)


def test_unknown_top_level_key_names_file_and_key(tmp_path):
    path = _write(tmp_path, 'duration = "1 s"\ndurations = "2 s"\n[[drive]]\nname="APL"\nrate="1 Hz"\n')
    with pytest.raises(ValueError) as e:
        load_run_file(path)
    msg = str(e.value)
    assert msg.startswith(str(path)) and "['durations']" in msg and "known: duration" in msg


@pytest.mark.parametrize("text, match", [
    ('[drive]\nname = "APL"\nrate = "1 Hz"\n', r"'drive' must be an array of tables, written \[\[drive\]\]"),
    ('model_parameters = "w_syn=1mV"\n', r"'model_parameters' must be a table"),
    ('duration = 1 s\n', r"run\.toml: "),  # not TOML
])
def test_malformed_run_files(tmp_path, text, match):
    path = _write(tmp_path, text)
    with pytest.raises(ValueError, match=match) as e:
        load_run_file(path)
    assert str(path) in str(e.value)


def test_missing_run_file(tmp_path):
    with pytest.raises(ValueError, match="nope.toml"):
        load_run_file(tmp_path / "nope.toml")


def test_run_file_errors_name_the_table(toyc, tmp_path):
    path = _write(tmp_path, '[[drive]]\nmodality = "olfactory"\nrate = "80 Hz"\n'
                            '[[drive]]\nselect = { celltype = "KC" }\nrate = "80 Hz"\nmode = "all"\n')
    cfg = load_run_file(path)
    with pytest.raises(ValueError, match=rf"^{path}: \[\[drive\]\] #2: unknown key\(s\) \['mode'\]"):
        stimuli_from_config(toyc, cfg)
    cfg = load_run_file(_write(tmp_path, '[[silence]]\nselect = { celltype = "KCs" }\n', "b.toml"))
    with pytest.raises(SelectionError, match=r"b\.toml: \[\[silence\]\] #1: .*Close matches: KC"):
        stimuli_from_config(toyc, cfg)
    cfg = load_run_file(_write(tmp_path, '[model_parameters]\nw_syn = "0.3 mv"\n', "c.toml"))
    with pytest.raises(ValueError, match=r"c\.toml: model_parameters\.w_syn: cannot read '0\.3 mv'"):
        network_from_config(toyc, cfg)
    with pytest.raises(ValueError, match="w_sin"):
        network_from_config(toyc, {"model_parameters": {"w_sin": "0.3 mV"}})
    with pytest.raises(ValueError, match=r"duration: cannot read 1 "):
        run_config(toyc, {"duration": 1})


# -- run_config ------------------------------------------------------------------------
def test_run_config_drives_in_the_window_and_records_the_run(toyc, tmp_path):
    cfg = load_run_file(_write(tmp_path, """
duration = "300 ms"
trials = 2
seed = 11
[model_parameters]
w_syn = "0.5 mV"
[[drive]]
select = { modality = "olfactory", hemisphere = "left" }
rate = "150 Hz"
start = "100 ms"
stop = "200 ms"
[[silence]]
select = { name = "APL" }
mode = "all"
"""))
    res = run_config(toyc, cfg, progress=False)
    assert isinstance(res, sim.Results) and res.n_trials == 2 and res.duration_ms == pytest.approx(300)
    driven = toyc.select(modality="olfactory", hemisphere="left").indices
    sp = res.spikes
    d = sp[sp["node_id"].isin(driven)]
    # every spike of a driven neuron lies in the drive window (the target spikes one step after the event)
    assert len(d) > 0
    assert d["t_ms"].min() > 100 and d["t_ms"].max() <= 200 + 0.1 + 1e-9
    for trial in range(2):  # every driven neuron fires in every trial, about 150 Hz x 0.1 s = 15 spikes
        counts = d[d["trial"] == trial]["node_id"].value_counts().reindex(driven, fill_value=0)
        assert (counts >= 5).all() and (counts <= 30).all()
    # undriven sensory neurons get no input in the toy brain: silent
    others = np.setdiff1d(toyc.select(celltype="sensory").indices, driven)
    assert not sp["node_id"].isin(others).any()
    assert not sp["node_id"].isin(toyc.select(name="APL").indices).any()

    m = res.metadata
    assert m["seed"] == 11 and m["trials"] == 2 and m["duration_ms"] == pytest.approx(300)
    assert [s["kind"] for s in m["stimuli"]] == ["PoissonDrive", "Silence"]
    assert m["stimuli"][0]["indices"] == driven.tolist() and m["stimuli"][0]["rate_hz"] == 150
    assert (m["stimuli"][0]["start_ms"], m["stimuli"][0]["stop_ms"]) == (100, 200)
    assert m["stimuli"][1]["mode"] == "all"
    w = m["network"]["model"]["parameters"]["w_syn"]
    assert w["value"] == pytest.approx(0.5) and w["unit"] == "mV" and "user override" in w["source"]

    again = run_config(toyc, cfg, progress=False)  # same seed, same spikes
    assert np.array_equal(again.spike_times, res.spike_times) and np.array_equal(again.spike_nodes, res.spike_nodes)
    other = run_config(toyc, {**cfg, "seed": 12, "trials": 1}, progress=False)
    assert not np.array_equal(other.spike_times, res.spike_times[res.spike_trials == 0])


# -- plasticity in run files -----------------------------------------------------------
def test_run_file_plasticity_table(toyc, tmp_path):
    from models.plasticity import DopaminePlasticity

    cfg = load_run_file(_write(tmp_path, """
duration = "200 ms"
model = "current_lif"
signs = "excitatory"
[[drive]]
celltype = "KC"
rate = "40 Hz"
[[activate]]
name = "DAN-i1"
rate = "50 Hz"
start = "50 ms"
[plasticity]
compartments = "names"
mbins = ["DAN-i1"]
eta = 0.05
rho = 0.0
tau_e = "2 s"
windows = [["0 ms", "150 ms"]]
"""))
    net = network_from_config(toyc, cfg)
    rule = net.plasticity
    assert isinstance(rule, DopaminePlasticity) and rule.mbins == ["DAN-i1"]
    assert float(rule.parameters["eta"].value) == 0.05 and rule.parameters["tau_e"].value == 2 * second
    assert rule.windows == [(0.0, 0.15)]
    res = run_config(toyc, cfg, progress=False)
    idx, _, w = res.states["kc_mbon_w"]
    names = toyc.neurons.loc[idx, "mb_name"].to_numpy()
    assert np.all(w[0, names == "MBON-i1", -1] < 1.0) and np.all(w[0, names != "MBON-i1", -1] == 1.0)
    assert res.metadata["network"]["plasticity"]["parameters"]["eta"]["value"] == 0.05


def test_run_file_timing_dependent_rule(toyc, tmp_path):
    """The timing-dependent variant from a run file: DAN-i1 before the KCs potentiates MBON-i1's synapses
    (above their start; w_max 2), and the metadata carries the variant."""
    cfg = load_run_file(_write(tmp_path, """
duration = "300 ms"
model = "current_lif"
signs = "excitatory"
[[activate]]
name = "DAN-i1"
rate = "50 Hz"
stop = "100 ms"
[[drive]]
celltype = "KC"
rate = "40 Hz"
start = "100 ms"
[plasticity]
compartments = "names"
mbins = ["DAN-i1"]
eta_b = 0.05
tau_d = "200 ms"
w_max = 2.0
dopamine_trace = "add"
"""))
    net = network_from_config(toyc, cfg)
    assert net.plasticity.parameters["tau_d"].value == 200 * ms and net.plasticity.dopamine_trace == "add"
    res = run_config(toyc, cfg, progress=False)
    idx, _, w = res.states["kc_mbon_w"]
    names = toyc.neurons.loc[idx, "mb_name"].to_numpy()
    assert np.all(w[0, names == "MBON-i1", -1] > 1.0) and np.all(w[0, names != "MBON-i1", -1] == 1.0)
    meta = res.metadata["network"]["plasticity"]
    assert meta["dopamine_trace"] == "add" and meta["parameters"]["eta_b"]["value"] == 0.05


@pytest.mark.parametrize("table, message", [
    ('eta = 0.1\nbogus = 1', r"\[plasticity\]: unknown key\(s\) bogus"),
    ('windows = [["1 s"]]', r"\[plasticity\].windows must be \[\[start, stop\]"),
    ('eta = -1', r"\[plasticity\]: eta must be >= 0"),
    ('tau_e = "5 parsecs"', r"\[plasticity\].tau_e: cannot read"),
    ('eta_b = 0.1\ntau_d = "2 mV"', r"\[plasticity\]: parameter 'tau_d' expects"),
    ('eta_b = 0.1\ndopamine_trace = "sum"', r"\[plasticity\]: dopamine_trace must be"),
])
def test_run_file_plasticity_errors_name_the_key(toyc, tmp_path, table, message):
    cfg = load_run_file(_write(tmp_path, f"[plasticity]\n{table}\n"))
    with pytest.raises(ValueError, match=message):
        network_from_config(toyc, cfg)
