"""``larvasim run``: stimuli in, rate table and results file out (toy connectome, numpy target)."""
from __future__ import annotations

import re

import numpy as np
import pytest
from brian2 import Hz, ms, mV

import connectomes
import sim
from larvasim.cli import build_parser, main
from models import get_model

DRIVE = "modality=olfactory,hemisphere=left,rate=150Hz,start=100ms,stop=200ms"


@pytest.fixture
def toydir(toy, fresh_cache):
    return str(toy.path)


def _run(toydir, *args):
    return main(["run", "--data-dir", toydir, "--no-verify", "--quiet", *args])


def test_run_prints_rate_table_and_writes_results(toydir, tmp_path, capsys):
    out = tmp_path / "results.h5"
    assert _run(toydir, "--drive", DRIVE, "--duration", "300 ms", "--trials", "2", "--seed", "5",
                "-o", str(out)) == 0
    stdout = capsys.readouterr().out
    # what ran is printed first: the default larval model, its signs and synapse types, the device
    model = get_model()
    # and the weak-connection threshold of the calibrated model, when it has one
    f = model.parameters["min_input_fraction"].value if "min_input_fraction" in model.parameters else 0
    left_out = f", connections < {100 * f:.3g} % of the target's input left out" if f else ""
    assert stdout.splitlines()[0] == (f"model: larval_lif, signs: literature, synapses: "
                                      f"{'+'.join(model.synapse_types or ('ad', 'aa', 'dd', 'da'))}, device: numba"
                                      + left_out)
    assert stdout.splitlines()[1].startswith("winding2023: 2 trial(s) x 300 ms, ")
    assert re.search(r"^\s+celltype\s+neurons\s+recorded\s+mean Hz\s+sd Hz\s+sem Hz$", stdout, re.MULTILINE)
    c = connectomes.load("winding2023", data_dir=toydir, verify=False)
    for ct, n in c.neurons["celltype"].value_counts().items():  # one row per cell type, outputs starred
        mark = r"\*" if ct in ("DN-VNC", "DN-SEZ", "RGN") else " "
        assert re.search(rf"^{mark} {re.escape(ct)}\s+{n}\s+{n}\s", stdout, re.MULTILINE), ct
    assert f"results written to {out}" in stdout

    loaded = sim.Results.load(out)
    # the same run from Python, same seed
    sel = c.select(modality="olfactory", hemisphere="left")
    ref = sim.Network(c).run([sim.PoissonDrive(sel, 150 * Hz, start=100 * ms, stop=200 * ms)],
                             duration=300 * ms, trials=2, seed=5, progress=False)
    assert ref.n_spikes > 0 and loaded.n_spikes == ref.n_spikes
    assert np.array_equal(loaded.spike_trials, ref.spike_trials)
    assert np.array_equal(loaded.spike_nodes, ref.spike_nodes)
    assert np.array_equal(loaded.spike_times, ref.spike_times)
    assert (loaded.n_trials, loaded.duration_ms, loaded.dt_ms) == (ref.n_trials, ref.duration_ms, ref.dt_ms)
    assert loaded.neurons.equals(ref.neurons)
    m = loaded.metadata
    assert m["seed"] == 5 and m["trials"] == 2
    assert [s["indices"] for s in m["stimuli"]] == [sel.indices.tolist()]
    assert m["network"]["model"] == ref.metadata["network"]["model"]
    # the printed sensory rate is that of the results
    sensory = loaded.rates_by("celltype").set_index("group").loc["sensory", "mean_hz"]
    assert re.search(rf"^  sensory\s+\d+\s+\d+\s+{re.escape(f'{sensory:.3g}')}\s", stdout, re.MULTILINE)


def test_run_refuses_unverified_data_without_no_verify(toydir, capsys):
    assert main(["run", "--data-dir", toydir, "--quiet", "--drive", DRIVE]) == 2
    err = capsys.readouterr().err
    assert err.startswith("larvasim: error: ") and "verify=False" in err  # the --no-verify case


def test_run_file_with_flag_overrides(toydir, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "run.toml").write_text("""
duration = "300 ms"
model = "current_lif"
signs = "excitatory"
trials = 1
seed = 1
output = "from_file.h5"

[model_parameters]
w_syn = "0.5 mV"

[[drive]]
select = { modality = "olfactory", hemisphere = "left" }
name = "odour"
rate = "150 Hz"
start = "100 ms"
stop = "200 ms"
""")
    assert main(["run", "run.toml", "--data-dir", toydir, "--no-verify", "--quiet", "--seed", "9",
                 "--trials", "2", "--set", "w_syn=0.6mV", "--set", "poisson_weight_factor=300",
                 "--silence", "name=APL,mode=all"]) == 0
    assert "results written to from_file.h5" in capsys.readouterr().out
    res = sim.Results.load(tmp_path / "from_file.h5")
    m = res.metadata
    assert m["seed"] == 9 and m["trials"] == 2 and res.n_trials == 2 and res.duration_ms == 300
    p = m["network"]["model"]["parameters"]
    assert p["w_syn"]["value"] == pytest.approx(0.6) and p["poisson_weight_factor"]["value"] == 300
    assert m["network"]["drive_weight_mV"] == pytest.approx(300 * 0.6)
    assert [(s["kind"], s.get("name"), s.get("mode")) for s in m["stimuli"]] == [
        ("PoissonDrive", "odour", None), ("Silence", None, "all")]

    # the same file, flags overriding differently: the spikes follow the seed given on the command line
    c = connectomes.load("winding2023", data_dir=toydir, verify=False)
    ref = sim.Network(c, model=get_model("current_lif", w_syn=0.6 * mV, poisson_weight_factor=300),
                      signs="excitatory").run(
        [sim.PoissonDrive(c.select(modality="olfactory", hemisphere="left"), 150 * Hz, start=100 * ms,
                          stop=200 * ms), sim.Silence(c.select(name="APL"), mode="all")],
        duration=300 * ms, trials=2, seed=9, progress=False)
    assert np.array_equal(res.spike_times, ref.spike_times) and np.array_equal(res.spike_nodes, ref.spike_nodes)


@pytest.mark.parametrize("args, message", [
    (["--drive", "modality=olfactry,rate=80Hz"],
     "--drive 'modality=olfactry,rate=80Hz': no neuron has modality='olfactry'. Close matches: olfactory"),
    (["--drive", "modality=olfactory"], "--drive 'modality=olfactory': a drive needs a rate (e.g. rate=80Hz)"),
    (["--drive", "modality=olfactory,rate=80"], "--drive 'modality=olfactory,rate=80': rate: cannot read '80'"),
    (["--activate", "celltype=KC,rate=8Hz,mode=all"], "--activate 'celltype=KC,rate=8Hz,mode=all': unknown key(s) ['mode']"),
    (["--silence", "APL"], "--silence 'APL': 'APL' is not KEY=VALUE"),
    (["--set", "w_syn"], "--set 'w_syn': expected NAME=VALUE"),
    (["--set", "w_syn=fast"], "--set w_syn=fast: w_syn: cannot read 'fast'"),
    (["--duration", "300"], "--duration '300': cannot read '300'"),
    (["--odour", "pentyl acetat"], "--odour 'pentyl acetat': unknown odour 'pentyl acetat'; did you mean pentyl acetate"),
    (["--odour", "ethyl acetate,volume=3"], "--odour 'ethyl acetate,volume=3': unknown key 'volume' (keys: scale, "
                                            "start, stop, spontaneous)"),
    (["--odour", "ethyl acetate,spontaneous=maybe"], "--odour 'ethyl acetate,spontaneous=maybe': spontaneous must be "
                                                     "yes or no, got 'maybe'"),
    (["--odour", "ethyl acetate,spontaneous=yes", "--odour", "benzaldehyde,spontaneous=1"],
     "spontaneous=yes on more than one --odour"),
    (["--odour", "ethyl acetate,scale=-1"], "--odour 'ethyl acetate,scale=-1': scale must be a finite number >= 0, got '-1'"),
    (["--odour", "scale=2"], "--odour 'scale=2': no odour name"),
    (["--odour", "ethyl acetate,scale=inf"], "--odour 'ethyl acetate,scale=inf': scale must be a finite number >= 0"),
])
def test_bad_spec_exits_2_with_a_clear_message(toydir, tmp_path, capsys, args, message):
    out = tmp_path / "never.h5"
    assert _run(toydir, *args, "-o", str(out)) == 2
    cap = capsys.readouterr()
    assert cap.err.startswith("larvasim: error: ")
    assert message in cap.err
    assert "Traceback" not in cap.err and cap.out == ""
    assert not out.exists()


def test_bad_run_file_exits_2(toydir, tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text('duration = "300 ms"\nstimulus = "odour"\n')
    assert main(["run", str(path), "--data-dir", toydir, "--no-verify", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert f"larvasim: error: {path}: unknown key(s) ['stimulus']" in err


def test_run_parser_flags():
    a = build_parser().parse_args(["run", "--no-verify", "--drive", "x=1", "--drive", "y=2"])
    assert a.no_verify and a.drive == ["x=1", "y=2"] and a.config is None
    with pytest.raises(SystemExit):
        build_parser().parse_args(["run", "--device", "gpu"])


@pytest.mark.parametrize("body,message", [
    ('trials = 2.7\n', "trials must be a whole number >= 1, got 2.7"),
    ('trials = 0\n', "trials must be a whole number >= 1, got 0"),
    ('seed = "one"\n', "seed must be a whole number >= 0"),
    ('trials = 1000000000\n', "run fewer trials per call"),
])
def test_run_file_counts_must_be_whole_and_possible(toydir, tmp_path, capsys, body, message):
    """No silent truncation of a fractional trial count, no run that cannot fit in memory."""
    path = tmp_path / "r.toml"
    path.write_text('duration = "300 ms"\n' + body + '[[drive]]\nmodality = "olfactory"\nrate = "100 Hz"\n')
    assert main(["run", str(path), "--data-dir", toydir, "--no-verify", "--quiet", "-o", str(tmp_path / "o.h5")]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "o.h5").exists()


def test_sweep_refuses_bad_jobs_and_an_empty_grid(toydir, tmp_path, capsys):
    path = tmp_path / "s.toml"
    path.write_text('duration = "50 ms"\n[sweep]\nseeds = [0]\n[sweep.grid]\n')
    assert main(["sweep", str(path), "--data-dir", toydir, "--no-verify", "--quiet", "-o", str(tmp_path / "o")]) == 2
    assert "grid: the table is empty" in capsys.readouterr().err
    path.write_text('duration = "50 ms"\n[sweep]\nseeds = [0]\n[sweep.grid]\nw_syn = ["0.3 mV"]\n')
    for jobs in ("0", "-3"):
        assert main(["sweep", str(path), "--data-dir", toydir, "--no-verify", "--quiet", "--jobs", jobs,
                     "-o", str(tmp_path / "o")]) == 2
        assert "--jobs / [sweep] jobs must be a whole number >= 1" in capsys.readouterr().err


def test_a_drive_that_starts_after_the_trial_is_refused(toydir, tmp_path, capsys):
    out = tmp_path / "o.h5"
    assert _run(toydir, "--duration", "100 ms", "--drive", "modality=olfactory,rate=100Hz,start=200ms",
                "-o", str(out)) == 2
    assert "at or after the end of the trial" in capsys.readouterr().err
    assert not out.exists()


def test_an_unknown_experiment_option_is_named(toydir, capsys):
    assert main(["run", "sensory_map", "--data-dir", toydir, "--no-verify", "--option", "nope=1"]) == 2
    err = capsys.readouterr().err
    assert "has no option(s) ['nope']" in err and "Traceback" not in err


def test_output_path_is_checked_before_the_run_and_a_replaced_file_is_named(toydir, tmp_path, capsys):
    folder = tmp_path / "a_folder"
    folder.mkdir()
    assert _run(toydir, "--duration", "20 ms", "-o", str(folder)) == 2
    cap = capsys.readouterr()
    assert "is a folder" in cap.err and cap.out == ""  # refused before anything ran
    out = tmp_path / "r.h5"
    assert _run(toydir, "--duration", "20 ms", "-o", str(out)) == 0
    assert "replacing" not in capsys.readouterr().out
    assert _run(toydir, "--duration", "20 ms", "-o", str(out)) == 0
    assert "(replacing the file that was there)" in capsys.readouterr().out


@pytest.mark.realdata
def test_run_with_a_measured_odour(real_data_dir, tmp_path, capsys):
    """``--odour``: one drive per receptor the odour excites, at its measured rate x scale, on both sides' ORNs
    (an odour name with a comma in it reads whole)."""
    import connectomes
    from experiments.odours import known_odour, receptors
    from sim.results import Results

    out = tmp_path / "odour.h5"
    assert main(["run", "--data-dir", str(real_data_dir), "--quiet", "--odour", "2,3-butanedione,scale=0.5,start=100ms,"
                 "stop=400ms", "--duration", "500 ms", "-o", str(out)]) == 0
    res = Results.load(out)
    c = connectomes.load("winding2023", data_dir=real_data_dir)
    od = known_odour(c, "2,3-butanedione", scale=0.5)
    drives = [s for s in res.metadata["stimuli"] if s["kind"] == "PoissonDrive"]
    assert sorted(s["name"] for s in drives) == sorted(f"2,3-butanedione:{r}" for r in od.receptors)
    table = receptors(c)
    for s in drives:
        r = s["name"].split(":", 1)[1]
        assert float(s["rate_hz"]) == pytest.approx(od.rates_hz[r]) and sorted(s["indices"]) == table[r].tolist()
        assert (float(s["start_ms"]), float(s["stop_ms"])) == (100.0, 400.0)
    # spontaneous=yes: every ORN at its measured spontaneous rate, the response added during the odour
    from experiments.odours import spontaneous_activity

    assert main(["run", "--data-dir", str(real_data_dir), "--quiet", "--odour", "2,3-butanedione,start=100ms,"
                 "stop=400ms,spontaneous=yes", "--duration", "500 ms", "-o", str(out)]) == 0
    res = Results.load(out)
    od, bg = known_odour(c, "2,3-butanedione", spontaneous=True), spontaneous_activity(c)
    drives = [s for s in res.metadata["stimuli"] if s["kind"] == "PoissonDrive"]
    during = {s["name"].split(":", 1)[1]: float(s["rate_hz"]) for s in drives if s["name"].startswith("2,3-")}
    assert during == pytest.approx(od.rates_hz) and set(bg.receptors) <= set(during)
    end = lambda s: "end" if s["stop_ms"] is None else round(float(s["stop_ms"]), 6)  # noqa: E731 (None: trial end)
    outside = sorted((s["name"].split(":", 1)[1], round(float(s["start_ms"]), 6), end(s), float(s["rate_hz"]))
                     for s in drives if s["name"].startswith("spontaneous:"))
    assert outside == sorted([(r, 0.0, 100.0, bg.rates_hz[r]) for r in bg.receptors]
                             + [(r, 400.0, "end", bg.rates_hz[r]) for r in bg.receptors])


def test_run_with_receptor_rules(toydir, tmp_path, capsys):
    """--receptors: the rules act (the same spikes as sim.Network(receptors=...)), are printed and stored; a
    missing file and the excitatory policy are one-line errors; experiments refuse the flag."""
    rules = tmp_path / "rules.csv"
    rules.write_text("post,pre_transmitter,sign,receptor,source\nMBON-*,acetylcholine,-1,some receptor,a paper\n")
    out = tmp_path / "r.h5"
    kc = "celltype=KC,rate=80Hz"
    assert _run(toydir, "--drive", kc, "--duration", "200 ms", "--receptors", str(rules), "-o", str(out)) == 0
    assert "signs: literature + 1 receptor rule, " in capsys.readouterr().out.splitlines()[0]
    loaded = sim.Results.load(out)
    assert loaded.metadata["network"]["signs"]["receptor_rules"][0]["post"] == "MBON-*"
    c = connectomes.load("winding2023", data_dir=toydir, verify=False)
    stim = [sim.PoissonDrive(c.select(celltype="KC"), 80 * Hz)]
    ref = sim.Network(c, receptors=rules).run(stim, duration=200 * ms, progress=False)
    plain = sim.Network(c).run(stim, duration=200 * ms, progress=False)
    assert np.array_equal(loaded.spike_nodes, ref.spike_nodes) and np.array_equal(loaded.spike_times, ref.spike_times)
    assert not np.array_equal(plain.spike_nodes, ref.spike_nodes)  # the rule changed the run
    assert _run(toydir, "--drive", kc, "--receptors", str(tmp_path / "none.csv")) == 2
    assert "none.csv" in capsys.readouterr().err
    assert _run(toydir, "--drive", kc, "--receptors", "literature", "--signs", "excitatory") == 2
    assert "excitatory policy" in capsys.readouterr().err
    assert main(["run", "sensory_map", "--data-dir", toydir, "--no-verify", "--receptors", "literature"]) == 2
    assert "--receptors" in capsys.readouterr().err


def test_run_prints_the_synaptic_input_of_a_named_neuron(toydir, capsys):
    """--inputs NAME: after the rate table, the named neurons' synaptic input by presynaptic cell type, as
    sim.analysis.inputs computes it for the same run (same seed, same spikes); a name that selects nothing is
    a one-line error before the run; experiments refuse the flag."""
    from sim.analysis.inputs import input_breakdown
    from sim.workflows.config import run_config

    args = ["--drive", DRIVE, "--duration", "300 ms", "--seed", "2", "--inputs", "MBON-i1"]
    assert _run(toydir, *args) == 0
    out = capsys.readouterr().out
    c = connectomes.load("winding2023", data_dir=toydir, verify=False)
    cfg = {"drive": [{"modality": "olfactory", "hemisphere": "left", "rate": "150Hz", "start": "100ms",
                      "stop": "200ms"}], "duration": "300 ms", "seed": 2}
    res, net = run_config(c, cfg, progress=False, with_network=True)
    t = input_breakdown(net, res, c.select(name="MBON-i1"))
    assert f"synaptic input of MBON-i1 ({t.attrs['targets']} neuron(s))" in out
    assert f"net {t.attrs['total_mv']:+.2f} mV" in out
    assert re.search(r"^\s*group\s+sign\s+presynaptic\s+synapses\s+rate_hz\s+drive_mv\s+share$", out, re.MULTILINE)
    assert _run(toydir, *args[:-1], "no-such-neuron") == 2
    assert "no-such-neuron" in capsys.readouterr().err
    assert main(["run", "sensory_map", "--data-dir", toydir, "--no-verify", "--inputs", "MBON-i1"]) == 2
    assert "--inputs: does not apply to experiment" in capsys.readouterr().err
