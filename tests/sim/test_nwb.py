"""NWB export (:mod:`sim.nwb`): round trip through pynwb, nwbinspector, the CLI, bad input, missing pynwb."""
from __future__ import annotations

import json
import sys

import h5py
import numpy as np
import pandas as pd
import pytest

pynwb = pytest.importorskip("pynwb")
nwbinspector = pytest.importorskip("nwbinspector")

import sim  # noqa: E402
from larvasim.cli import main  # noqa: E402
from sim.nwb import PYNWB_MISSING, TRIAL_GAP_MS, NWBUnavailableError  # noqa: E402
from sim.results import Results  # noqa: E402

DRIVE = "modality=olfactory,hemisphere=left,rate=150Hz,start=100ms,stop=200ms"
BAD = (nwbinspector.Importance.CRITICAL, nwbinspector.Importance.BEST_PRACTICE_VIOLATION,
       nwbinspector.Importance.PYNWB_VALIDATION, nwbinspector.Importance.ERROR)


def _results(n_trials=3, seed=0, stimuli=True) -> Results:
    """Synthetic results: 7 neurons (one not recorded), spikes, states, plastic weights, rates, stimuli."""
    rng = np.random.default_rng(seed)
    n = 7
    neurons = pd.DataFrame({
        "skid": np.arange(100, 100 + n) * 7, "celltype": ["KC", "KC", "MBON", "DN-VNC", "sensory", "LN", "RGN"],
        "hemisphere": ["left", "right", "left", "right", "left", "center", "right"],
        "label": [f"n{i}" for i in range(n)], "modality": ["", "", "", "", "olfactory;gut", "", ""],
        "name": [f"neuron {i}" for i in range(n)], "KCs": [True, True, False, False, False, False, False],
        "axon_input": [1.0, np.nan, 2.5, 3.0, 4.0, 5.0, 6.0]})
    recorded = [0, 1, 2, 3, 4, 5]
    k = rng.integers(0, n_trials, 80)
    nd = rng.choice([0, 1, 2, 4, 5], 80)
    t = np.round(rng.uniform(0, 300, 80), 1)
    t[0] = 300.0  # a spike at the very end of a trial
    states = {"v": ([0, 2, 6], np.arange(0, 300, 10.0), rng.normal(size=(n_trials, 3, 30)) * 1e-3, "V"),
              "kc_mbon_w": ([2], np.arange(0, 300, 50.0), rng.uniform(size=(n_trials, 1, 6)), "1")}
    meta = {"seed": seed, "trials": n_trials,
            "network": {"model": {"model": "larval_lif", "parameters": {"w_syn": {"value": 0.3, "unit": "mV",
                                                                                  "source": "calibrated"}}},
                        "signs": {"policy": "literature"},
                        "connectome": {"doi": "10.1126/science.add9330", "container_sha256": "ab" * 32}},
            "versions": {"larvasim": "test", "brian2": "2.x"},
            "stimuli": [] if not stimuli else [
                {"kind": "PoissonDrive", "name": "odour", "target": "modality=olfactory", "indices": [4],
                 "rate_hz": 80.0, "start_ms": 100.0, "stop_ms": 200.0, "dead_time_ms": 2.0},
                {"kind": "Activation", "name": "", "target": "celltype=KC", "indices": [0, 1],
                 "rate_hz": "function of time", "start_ms": None, "stop_ms": None, "dead_time_ms": 2.0},
                {"kind": "Silence", "mode": "all", "target": "celltype=LN", "indices": [5]}]}
    return Results(k, nd, t, neurons=neurons, n_trials=n_trials, duration=300, dt=0.1, metadata=meta,
                   recorded=recorded, states=states, rates={"all": (50.0, rng.uniform(size=(n_trials, 6)))})


def _spikes_from_nwb(nwb, starts_s):
    """(trial, node, time ms) of every spike in the file's units table."""
    tr, nd, tm = [], [], []
    for row, uid in enumerate(nwb.units.id[:]):
        ts = np.asarray(nwb.units.get_unit_spike_times(row))
        k = np.searchsorted(starts_s, ts, side="right") - 1
        tr.append(k)
        nd.append(np.full(len(ts), uid))
        tm.append(ts * 1000.0 - starts_s[k] * 1000.0)
    tr, nd, tm = np.concatenate(tr), np.concatenate(nd), np.concatenate(tm)
    order = np.lexsort((nd, tm, tr))
    return tr[order], nd[order], tm[order]


def _bad_findings(path):
    return [m for m in nwbinspector.inspect_nwbfile(nwbfile_path=str(path)) if m.importance in BAD]


def test_round_trip_units_trials_stimuli_states_and_metadata(tmp_path):
    res = _results()
    path = res.to_nwb(tmp_path / "run.nwb")
    assert path == tmp_path / "run.nwb" and path.is_file()
    assert [p.name for p in tmp_path.iterdir()] == ["run.nwb"]  # no temporary file left
    with pynwb.NWBHDF5IO(str(path), "r") as io:
        nwb = io.read()
        # trials: one row per trial, laid on one clock with a gap
        trials = nwb.trials.to_dataframe()
        period = (res.duration_ms + TRIAL_GAP_MS) / 1000.0
        assert trials.index.tolist() == list(range(res.n_trials))
        np.testing.assert_allclose(trials["start_time"], np.arange(res.n_trials) * period)
        np.testing.assert_allclose(trials["stop_time"] - trials["start_time"], res.duration_ms / 1000.0)
        assert trials["n_spikes"].tolist() == np.bincount(res.spike_trials, minlength=res.n_trials).tolist()
        # every spike, to well below dt
        starts = trials["start_time"].to_numpy()
        tr, nd, tm = _spikes_from_nwb(nwb, starts)
        assert len(tm) == res.n_spikes
        assert np.array_equal(tr, res.spike_trials) and np.array_equal(nd, res.spike_nodes)
        np.testing.assert_allclose(tm, res.spike_times, rtol=0, atol=1e-9)
        assert nwb.units.resolution == pytest.approx(res.dt_ms / 1000.0)
        # units: one per recorded neuron, every neuron-table column
        assert list(nwb.units.id[:]) == res.recorded.tolist()
        table = res.neurons.loc[res.recorded]
        for col in res.neurons.columns:
            name = "neuron_name" if col == "name" else col
            got, want = np.asarray(nwb.units[name][:]), table[col].to_numpy()
            if want.dtype.kind == "f":
                np.testing.assert_array_equal(got, want)  # NaN where NaN
            else:
                assert got.tolist() == want.tolist(), col
        # metadata, verbatim
        assert json.loads(nwb.scratch["larvasim_metadata"].data) == json.loads(json.dumps(res.metadata))
        facts = json.loads(nwb.scratch["larvasim_results"].data)
        assert facts["recorded"] == res.recorded.tolist() and facts["dt_ms"] == res.dt_ms
        assert facts["state_neurons"]["v"] == [0, 2, 6]
        assert nwb.subject.species == "Drosophila melanogaster" and "L1" in nwb.subject.description
        assert nwb.related_publications == ("doi:10.1126/science.add9330",)
        assert nwb.session_start_time.tzinfo is not None
        assert "larval_lif" in nwb.session_description and "seed 0" in nwb.session_description
        # stimuli: one interval table each, one row per trial, selection described
        assert sorted(nwb.intervals) == ["activation_1", "drive_0", "silencing_2", "trials"]
        drive = nwb.intervals["drive_0"].to_dataframe()
        np.testing.assert_allclose(drive["start_time"], starts + 0.1)
        np.testing.assert_allclose(drive["stop_time"], starts + 0.2)
        assert drive["trial"].tolist() == [0, 1, 2] and drive["rate_hz"].tolist() == [80.0] * 3
        assert "modality=olfactory" in nwb.intervals["drive_0"].description
        assert "node ids [4]" in nwb.intervals["drive_0"].description
        act = nwb.intervals["activation_1"].to_dataframe()
        np.testing.assert_allclose(act["stop_time"] - act["start_time"], 0.3)
        assert np.isnan(act["rate_hz"]).all()
        sil = nwb.intervals["silencing_2"].to_dataframe()
        assert sil["mode"].tolist() == ["all"] * 3 and "node ids [5]" in nwb.intervals["silencing_2"].description
        # recorded states: rows trial x time, columns neurons
        idx, times, values = res.states["v"]
        v = nwb.acquisition["v"]
        assert v.unit == "V" and "node id 0 (n0, skid 700), 2 (n2, skid 714), 6 (n6" in v.description
        np.testing.assert_array_equal(v.data[:], values.transpose(0, 2, 1).reshape(-1, len(idx)))
        np.testing.assert_allclose(v.timestamps[:], (starts[:, None] + times[None, :] / 1000.0).ravel())
        w = nwb.processing["learning"]["kc_mbon_w"]
        np.testing.assert_array_equal(w.data[:], res.states["kc_mbon_w"][2].transpose(0, 2, 1).reshape(-1, 1))
        rate = nwb.processing["population_rates"]["all"]
        assert rate.unit == "Hz"
        np.testing.assert_array_equal(rate.data[:], res.population_rates["all"][1].ravel())


def test_identifier_follows_the_content(tmp_path):
    a, b = tmp_path / "a.nwb", tmp_path / "b.nwb"
    _results(seed=1).to_nwb(a)
    _results(seed=2).to_nwb(b)
    ids = []
    for p in (a, b, a):
        with pynwb.NWBHDF5IO(str(p), "r") as io:
            ids.append(io.read().identifier)
    _results(seed=1).to_nwb(b)
    with pynwb.NWBHDF5IO(str(b), "r") as io:
        assert io.read().identifier == ids[0] != ids[1]


@pytest.mark.parametrize("n_trials, stimuli", [(3, True), (1, True), (2, False)])
def test_nwbinspector_finds_nothing_critical(tmp_path, n_trials, stimuli):
    path = _results(n_trials=n_trials, stimuli=stimuli).to_nwb(tmp_path / "run.nwb")
    bad = _bad_findings(path)
    assert not bad, [(m.importance.name, m.check_function_name, m.message) for m in bad]


def test_concatenated_runs_keep_each_runs_stimuli(tmp_path):
    a, b = _results(n_trials=2, seed=1), _results(n_trials=1, seed=2)
    b.metadata["stimuli"] = b.metadata["stimuli"][:1]
    both = Results.concat([a, b])
    with pynwb.NWBHDF5IO(str(both.to_nwb(tmp_path / "both.nwb")), "r") as io:
        nwb = io.read()
        assert sorted(nwb.intervals) == ["activation_1", "drive_0", "silencing_2", "trials"]
        assert list(nwb.intervals["drive_0"]["trial"][:]) == [0, 1, 2]  # in both runs: one table
        assert list(nwb.intervals["activation_1"]["trial"][:]) == [0, 1]  # only in the first run
        assert list(nwb.intervals["silencing_2"]["trial"][:]) == [0, 1]
        assert len(nwb.units.get_unit_spike_times(0)) == int((both.spike_nodes == 0).sum())


def test_bad_targets_are_refused_before_work_and_failures_leave_nothing(tmp_path, monkeypatch):
    res = _results()
    with pytest.raises(ValueError, match=f"NWB output {tmp_path}: is a folder"):
        res.to_nwb(tmp_path)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ValueError, match="is a file, not a folder"):
        res.to_nwb(blocker / "run.nwb")
    # a failure while writing keeps the old file and leaves no temporary one
    old = tmp_path / "old.nwb"
    old.write_bytes(b"old")
    import sim.nwb as nwb_mod

    def boom(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(nwb_mod, "_add_trials", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        res.to_nwb(old)
    assert old.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "old.nwb"]


def test_missing_pynwb_is_one_clear_line(tmp_path, monkeypatch, capsys):
    res = _results()
    h5 = res.save(tmp_path / "run.h5")
    monkeypatch.setitem(sys.modules, "pynwb", None)
    with pytest.raises(NWBUnavailableError) as exc:
        res.to_nwb(tmp_path / "run.nwb")
    assert str(exc.value) == PYNWB_MISSING == "NWB export needs pynwb: pip install -e '.[nwb]'"
    assert isinstance(exc.value, ImportError)
    assert main(["export", str(h5), "--nwb", str(tmp_path / "run.nwb")]) == 2
    cap = capsys.readouterr()
    assert cap.err == f"larvasim: error: {PYNWB_MISSING}\n" and cap.out == ""
    assert not (tmp_path / "run.nwb").exists()


def test_cli_export_writes_the_results_file_as_nwb(tmp_path, capsys):
    res = _results()
    h5 = res.save(tmp_path / "run.h5")
    out = tmp_path / "sub" / "run.nwb"
    assert main(["export", str(h5), "--nwb", str(out)]) == 0
    assert f"NWB file written to {out}" in capsys.readouterr().out
    with pynwb.NWBHDF5IO(str(out), "r") as io:
        nwb = io.read()
        tr, nd, tm = _spikes_from_nwb(nwb, nwb.trials["start_time"][:])
        assert np.array_equal(nd, res.spike_nodes) and np.array_equal(tr, res.spike_trials)
        np.testing.assert_allclose(tm, res.spike_times, rtol=0, atol=1e-9)
        assert json.loads(nwb.scratch["larvasim_metadata"].data) == Results.load(h5).metadata
    assert main(["export", str(h5), "--nwb", str(out)]) == 0
    assert "replacing the file that was there" in capsys.readouterr().out


def test_cli_export_bad_input_exits_2_naming_the_file(tmp_path, capsys):
    h5 = _results().save(tmp_path / "run.h5")
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as f:
        f["x"] = [1, 2]
    cases = [
        ([str(tmp_path / "missing.h5"), "--nwb", str(tmp_path / "o.nwb")], str(tmp_path / "missing.h5")),
        ([str(other), "--nwb", str(tmp_path / "o.nwb")], f"{other} is not a larvasim results file"),
        ([str(tmp_path / "README"), "--nwb", str(tmp_path / "o.nwb")], "README"),
        ([str(h5), "--nwb", str(tmp_path)], f"NWB output {tmp_path}: is a folder"),
    ]
    (tmp_path / "README").write_text("not HDF5")
    for args, message in cases:
        assert main(["export", *args]) == 2
        cap = capsys.readouterr()
        assert cap.err.startswith("larvasim: error: ") and message in cap.err, cap.err
        assert "Traceback" not in cap.err and cap.out == ""
    assert not (tmp_path / "o.nwb").exists()


@pytest.fixture
def toydir(toy, fresh_cache):
    return str(toy.path)


def test_cli_run_writes_nwb_for_a_nwb_path(toydir, tmp_path, capsys):
    out_h5, out_nwb = tmp_path / "run.h5", tmp_path / "run.nwb"
    common = ["run", "--data-dir", toydir, "--no-verify", "--quiet", "--drive", DRIVE, "--silence",
              "name=APL,mode=all", "--duration", "300 ms", "--trials", "2", "--seed", "5"]
    assert main([*common, "-o", str(out_nwb)]) == 0
    assert f"results written to {out_nwb}" in capsys.readouterr().out
    assert main([*common, "-o", str(out_h5)]) == 0
    ref = sim.Results.load(out_h5)
    assert ref.n_spikes > 0
    with pynwb.NWBHDF5IO(str(out_nwb), "r") as io:
        nwb = io.read()
        tr, nd, tm = _spikes_from_nwb(nwb, nwb.trials["start_time"][:])
        assert np.array_equal(nd, ref.spike_nodes) and np.array_equal(tr, ref.spike_trials)
        np.testing.assert_allclose(tm, ref.spike_times, rtol=0, atol=1e-9)
        assert list(nwb.units["skid"][:]) == ref.neurons.loc[ref.recorded, "skid"].tolist()
        assert list(nwb.units["celltype"][:]) == ref.neurons.loc[ref.recorded, "celltype"].tolist()
        meta = json.loads(nwb.scratch["larvasim_metadata"].data)
        assert meta["seed"] == 5 and meta["network"]["model"] == ref.metadata["network"]["model"]
        assert sorted(nwb.intervals) == ["drive_0", "silencing_1", "trials"]
    assert not _bad_findings(out_nwb)


def test_cli_run_without_pynwb_refuses_before_simulating(toydir, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "pynwb", None)
    out = tmp_path / "run.nwb"
    assert main(["run", "--data-dir", toydir, "--no-verify", "--quiet", "--drive", DRIVE, "--duration", "300 ms",
                 "-o", str(out)]) == 2
    cap = capsys.readouterr()
    assert cap.err == f"larvasim: error: {PYNWB_MISSING}\n" and cap.out == ""  # no rate table: nothing ran
    assert not out.exists()


def test_real_connectome_run_exports_cleanly(real_connectome, tmp_path):
    from brian2 import Hz, ms

    c = real_connectome
    res = sim.Network(c).run([sim.PoissonDrive(c.select(modality="olfactory"), 80 * Hz, start=50 * ms)],
                             duration=200 * ms, trials=2, seed=1, progress=False)
    path = res.to_nwb(tmp_path / "real.nwb")
    with pynwb.NWBHDF5IO(str(path), "r") as io:
        nwb = io.read()
        assert len(nwb.units.id) == len(c.neurons)
        assert list(nwb.units["skid"][:]) == c.neurons["skid"].tolist()
        tr, nd, tm = _spikes_from_nwb(nwb, nwb.trials["start_time"][:])
        assert len(tm) == res.n_spikes > 0 and np.array_equal(nd, res.spike_nodes)
        meta = json.loads(nwb.scratch["larvasim_metadata"].data)
        assert meta["network"]["connectome"]["container_sha256"] == c.provenance["container_sha256"]
        assert "doi:10.1126/science.add9330" in nwb.related_publications
    assert not _bad_findings(path)
