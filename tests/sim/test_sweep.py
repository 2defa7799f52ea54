"""Parameter sweeps: planning, build reuse, the store, errors, resuming after SIGKILL, the figure, the CLI."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import connectomes
from connectomes.synthetic import write_winding_format
import sim
from sim.sweep import Sweep, load_sweep, load_sweep_file, plot_sweep, run_sweep
from sim.sweep_store import SweepStore

BASE = {"model": "current_lif", "signs": "excitatory", "duration": "100 ms", "drive": [{"modality": "olfactory", "rate": "80 Hz", "start": "10 ms"}]}
GRID = {"w_syn": ["0.2 mV", "0.4 mV"], "drive.rate": ["40 Hz", "150 Hz"]}
#: Columns that depend on where and how fast a run ran, not on what it computed.
VOLATILE = ["built", "build_s", "sim_s", "binary_s", "task_s", "cpu_s", "worker"]


@pytest.fixture(scope="module")
def toy_dir(tmp_path_factory):
    return write_winding_format(tmp_path_factory.mktemp("sweep-toy") / "toy", seed=1).path


def _sweep(toy_dir, **kw):
    kw = {"grid": GRID, "seeds": 2, "data_dir": toy_dir, "verify": False, "name": "t", **kw}
    return Sweep(kw.pop("base", BASE), **kw)


def _stable(df):
    return df.drop(columns=VOLATILE).reset_index(drop=True)


# -- planning -------------------------------------------------------------------------------
def test_plan_grid_points_random_and_run_ids(toy_dir):
    sw = _sweep(toy_dir)
    assert len(sw) == 8 and sw.parameters == ["w_syn", "drive.rate"]
    plan = sw.table_plan()
    assert plan["run_id"].is_unique
    assert plan[["w_syn", "drive.rate", "seed"]].iloc[1].tolist() == [0.2, 40.0, 1]   # seeds fastest
    # a swept weight is re-run on one build: one structure, weight_scale = value / base value
    assert plan["structure"].nunique() == 1
    assert {round(r.weight_scale, 12) for r in sw.plan} == {round(0.2 / 0.275, 12), round(0.4 / 0.275, 12)}
    # the run id is a hash of the resolved run: spelling of a quantity does not matter
    same = _sweep(toy_dir, grid={"w_syn": ["0.2mV", "0.40 mV"], "drive.rate": ["40Hz", "150.0 Hz"]})
    assert [r.run_id for r in same.plan] == [r.run_id for r in sw.plan]
    # a structural parameter gives one structure per value
    assert Sweep(BASE, grid={"tau_m": ["15 ms", "20 ms"]}, seeds=3).table_plan()["structure"].nunique() == 2
    # random signs without their own seed follow the run seed: one structure per seed
    rs = Sweep({**BASE, "signs": "random"}, grid={"sign_options.fraction": [0.1, 0.3]}, seeds=2)
    assert rs.table_plan()["structure"].nunique() == 4
    pts = Sweep(BASE, points=[{"drive.0.rate": "10 Hz"}, {"drive.0.rate": "20 Hz", "signs": "literature"}])
    assert len(pts) == 2 and pts.parameters == ["drive.0.rate", "signs"]
    rnd = Sweep(BASE, random={"n": 5, "seed": 3, "parameters": {"w_syn": {"uniform": ["0.1 mV", "0.5 mV"]},
                                                                  "drive.rate": {"loguniform": ["5 Hz", "200 Hz"]},
                                                                  "signs": ["excitatory", "literature"]}})
    t = rnd.table_plan()
    assert len(t) == 5 and t["w_syn"].between(0.1, 0.5).all() and t["drive.rate"].between(5, 200).all()
    assert [r.run_id for r in rnd.plan] == [r.run_id for r in Sweep(BASE, random=rnd.random).plan]


def test_plan_errors_name_the_parameter():
    with pytest.raises(ValueError, match="tau_q"):
        Sweep(BASE, grid={"tau_q": ["1 ms"]})
    with pytest.raises(ValueError, match="index 3"):
        Sweep(BASE, grid={"drive.3.rate": ["1 Hz"]})
    with pytest.raises(ValueError, match=r"no \[\[silence\]\] table"):
        Sweep({"duration": "1 s"}, grid={"silence.mode": ["all"]})
    with pytest.raises(ValueError, match="non-empty list"):
        Sweep(BASE, grid={"w_syn": "0.3 mV"})
    with pytest.raises(ValueError, match="one of grid, points or random"):
        Sweep(BASE, grid={"w_syn": ["0.3 mV"]}, points=[{"w_syn": "0.2 mV"}])


# -- running --------------------------------------------------------------------------------
def test_sweep_equals_fresh_networks_and_builds_once(toy_dir, tmp_path):
    """Every run equals a network built for its parameters, although the sweep built one network."""
    import sim
    from brian2 import mV
    from models import get_model
    from sim.config import parse_quantity, stimuli_from_config

    sw = _sweep(toy_dir, spikes=True)
    table = sw.run(tmp_path / "s", jobs=1, progress=False, summary=False)
    assert (table["status"] == "ok").all() and len(table) == 8
    assert table["built"].sum() == 1                      # one build, seven re-runs
    assert table.attrs["summary"]["builds"] == 1
    # readable with pandas in one line, same as the returned table
    csv = pd.read_csv(tmp_path / "s" / "table.csv")
    assert csv["run_id"].tolist() == table["run_id"].tolist()
    assert np.allclose(csv["hz.PN"], table["hz.PN"])
    assert {"hz.DN-VNC", "hz.KC", "hz.sensory"} <= set(csv.columns)
    assert any(c.startswith("hz.DN-VNC.") for c in csv.columns)          # per output neuron
    # higher drive and stronger synapses: more activity downstream
    m = table.groupby(["w_syn", "drive.rate"])["hz.PN"].mean()
    assert m[(0.4, 150.0)] > m[(0.2, 40.0)]

    c = connectomes.load("winding2023", data_dir=toy_dir, verify=False)
    for k in (0, 7):
        row = table.iloc[k]
        run = sw.plan[k]
        model = get_model("current_lif", w_syn=parse_quantity(run.config["model_parameters"]["w_syn"]))
        net = sim.Network(c, model=model, signs="excitatory", drive_weight=250 * 0.275 * mV)  # the build's drive weight
        ref = net.run(stimuli_from_config(c, run.config), duration=parse_quantity("100 ms"), seed=int(row.seed))
        got = sim.Results.load(tmp_path / "s" / "spikes" / f"{row.run_id}.h5")
        assert got.spikes.equals(ref.spikes)
        assert got.metadata["weight_scale"] == pytest.approx(run.weight_scale)


def test_structural_parameters_build_once_each(toy_dir, tmp_path):
    """Synapse types shape the network (one build each); silencing is re-run on a build."""
    sw = Sweep(BASE, grid={"synapse_types": [["ad"], ["ad", "aa", "dd", "da"]],
                           "silence": [[], [{"celltype": "sensory", "mode": "all"}]]},
               data_dir=toy_dir, verify=False, name="struct")
    assert sw.table_plan()["structure"].nunique() == 2
    t = sw.run(tmp_path / "st", jobs=1, progress=False, summary=False)
    assert (t["status"] == "ok").all() and t["built"].tolist() == [True, False, True, False]
    assert t["synapse_types"].tolist()[0] == '["ad"]'
    assert (t["hz.sensory"][[1, 3]] == 0).all() and (t["hz.sensory"][[0, 2]] > 0).all()


def test_numba_engine_sweep_equals_numpy(toy_dir, tmp_path):
    """The fast engine re-runs swept weights and drives too, with Brian2's spikes."""
    grid = {"w_syn": ["0.2 mV", "0.4 mV"], "drive.rate": ["150 Hz"]}
    nb = _sweep(toy_dir, base={**BASE, "device": "numba"}, grid=grid).run(tmp_path / "nb", jobs=1, progress=False,
                                                                          summary=False)
    ref = _sweep(toy_dir, base={**BASE, "device": "numpy"}, grid=grid).run(tmp_path / "np", jobs=1, progress=False,
                                                                           summary=False)
    assert (nb["status"] == "ok").all() and nb["built"].sum() == 1
    hz = [c for c in ref.columns if c.startswith("hz.")]
    assert np.array_equal(nb[hz].to_numpy(), ref[hz].to_numpy()) and nb["n_spikes"].sum() > 0


def test_plasticity_constants_are_sweepable(toy_dir, tmp_path):
    """A run file's [plasticity] table reaches sweeps: eta swept, the KC->MBON weights follow it."""
    base = {**BASE, "duration": "200 ms",
            "drive": [{"celltype": "KC", "rate": "40 Hz"}, {"name": "DAN-i1", "rate": "50 Hz", "start": "50 ms"}],
            "plasticity": {"compartments": "names", "mbins": ["DAN-i1"], "eta": 0.0, "rho": 0.0}}
    sw = Sweep(base, grid={"plasticity.eta": [0.0, 0.05]}, data_dir=toy_dir, verify=False, name="eta",
               spikes=True)
    t = sw.run(tmp_path / "eta", jobs=1, progress=False, summary=False)
    assert (t["status"] == "ok").all() and t["built"].tolist() == [True, True]   # eta is structural
    w = [sim.Results.load(tmp_path / "eta" / "spikes" / f"{r}.h5").states["kc_mbon_w"][2][:, :, -1]
         for r in t["run_id"]]
    assert np.all(w[0] == 1.0) and np.all(w[1] <= 1.0) and np.any(w[1] < 1.0)


def test_failed_run_is_recorded_and_the_sweep_goes_on(toy_dir, tmp_path):
    sw = Sweep(BASE, points=[{"drive.0.modality": "olfactory"}, {"drive.0.modality": "telepathy"},
                             {"drive.0.rate": "30 Hz"}], data_dir=toy_dir, verify=False, name="err")
    t = sw.run(tmp_path / "e", jobs=1, progress=False, summary=False)
    assert t["status"].tolist() == ["ok", "error", "ok"]
    assert "telepathy" in t.loc[1, "error"]
    rec = json.loads((tmp_path / "e" / "runs" / f"{t.loc[1, 'run_id']}.json").read_text())
    assert "Traceback" in rec["traceback"] and rec["values"] == {"drive.0.modality": "telepathy"}
    again = sw.run(tmp_path / "e", jobs=1, progress=False, summary=False)
    assert again.attrs["summary"]["ran"] == 0                      # failed runs count as done ...
    retried = sw.run(tmp_path / "e", jobs=1, progress=False, summary=False, retry_errors=True)
    assert retried.attrs["summary"]["ran"] == 1                    # ... unless retried


def test_rerun_does_only_missing_runs_and_ignores_debris(toy_dir, tmp_path):
    sw = _sweep(toy_dir, grid={"drive.rate": ["40 Hz", "150 Hz"]})
    full = sw.run(tmp_path / "r", jobs=1, progress=False, summary=False)
    store = SweepStore(tmp_path / "r")
    for rid in full["run_id"][:2]:
        store.run_path(rid).unlink()
    (store.runs_dir / ".deadbeef.json.x.tmp").write_text("{half a reco")   # a write cut off by a kill
    again = sw.run(tmp_path / "r", jobs=1, progress=False, summary=False)
    assert again.attrs["summary"]["ran"] == 2 and again.attrs["summary"]["already_done"] == 2
    assert not list(store.runs_dir.glob(".*.tmp"))
    pd.testing.assert_frame_equal(_stable(again), _stable(full))
    # mid-sweep view, assembled from the run files
    assert load_sweep(tmp_path / "r")["status"].eq("ok").all()


def test_records_cut_by_a_power_cut_are_run_again(toy_dir, tmp_path):
    """Run records are renamed into place but not fsynced (sim/workflows/sweep_store.py): after a power
    cut the last ones may be empty or cut short under their real names; such runs are run again."""
    sw = _sweep(toy_dir, grid={"drive.rate": ["40 Hz", "150 Hz"]})
    full = sw.run(tmp_path / "p", jobs=1, progress=False, summary=False)
    store = SweepStore(tmp_path / "p")
    a, b, c = (store.run_path(r) for r in full["run_id"][:3])
    a.write_bytes(b"")                                   # the rename reached the disk, the data did not
    b.write_bytes(b.read_bytes()[: len(b.read_bytes()) // 2])
    c.write_bytes(b"\0" * 64)
    again = sw.run(tmp_path / "p", jobs=1, progress=False, summary=False)
    assert again.attrs["summary"]["ran"] == 3 and again.attrs["summary"]["already_done"] == 1
    pd.testing.assert_frame_equal(_stable(again), _stable(full))


def test_only_records_with_spikes_are_fsynced(toy_dir, tmp_path, monkeypatch):
    """fsync (file and folder) for the sweep file, the table and the records that point at a spikes file,
    not for every other run record (that cost about 2 ms of the sweep process per run)."""
    if not os.path.isdir("/proc/self/fd"):
        pytest.skip("needs /proc/self/fd to name the file descriptors that are fsynced")
    synced = []
    real = os.fsync

    def spy(fd):
        synced.append(Path(os.readlink(f"/proc/self/fd/{fd}")))
        real(fd)

    monkeypatch.setattr(os, "fsync", spy)
    for name, spikes in (("n", False), ("s", True)):
        synced.clear()
        sw = _sweep(toy_dir, grid={"drive.rate": ["40 Hz", "150 Hz"]}, spikes=spikes)
        sw.run(tmp_path / name, jobs=1, progress=False, summary=False)
        runs = (tmp_path / name / "runs").resolve()
        records = [f for f in synced if f.parent == runs and f.name.endswith(".tmp")]
        assert any(f.name.startswith(".table.csv") for f in synced)      # the table is still durable
        assert len(records) == (4 if spikes else 0), (spikes, synced)
        assert (runs in synced) == spikes                                # and the folder holding them


@pytest.mark.slow
def test_local_worker_killed_mid_sweep(toy_dir, tmp_path):
    """A loky worker killed with SIGKILL: the sweep restarts the missing runs and completes
    (slow: ~20 s for two sets of worker processes; the Dask test kills a worker by default)."""
    import psutil

    sw = _sweep(toy_dir, seeds=2)
    out = tmp_path / "w"
    killed = []

    def killer():
        runs = out / "runs"
        deadline = time.time() + 120
        while time.time() < deadline:
            if runs.is_dir() and len(list(runs.glob("*.json"))) >= 2:
                workers = [p for p in psutil.Process().children(recursive=True)
                           if "LokyProcess" in " ".join(p.cmdline())]
                if workers:
                    workers[0].send_signal(signal.SIGKILL)
                    killed.append(workers[0].pid)
                    return
            time.sleep(0.05)

    th = threading.Thread(target=killer)
    th.start()
    table = sw.run(out, jobs=2, progress=False, summary=False)
    th.join()
    assert killed, "no worker was killed"
    assert len(table) == 8 and (table["status"] == "ok").all() and table["run_id"].is_unique


def test_plot_sweep(toy_dir, tmp_path):
    sw = _sweep(toy_dir, grid={"w_syn": ["0.2 mV", "0.4 mV"], "drive.rate": ["40 Hz", "150 Hz"]}, seeds=2)
    sw.run(tmp_path / "p", jobs=1, progress=False, summary=False)
    fig = plot_sweep(tmp_path / "p", readout="hz.PN", path=tmp_path / "fig.png")
    assert (tmp_path / "fig.png").stat().st_size > 10_000
    assert len(fig.axes) == 4                     # two line panels, a heatmap and its colour bar
    with pytest.raises(ValueError, match="no readout column"):
        plot_sweep(tmp_path / "p", readout="hz.nothing")


# -- the command line, killed with SIGKILL and re-run -------------------------------------------
def _write_sweep_file(path: Path, toy_dir, name="kill", seeds=4, duration="100 ms"):
    path.write_text(f"""
duration = "{duration}"
[[drive]]
modality = "olfactory"
rate = "80 Hz"
start = "10 ms"

[sweep]
name = "{name}"
seeds = {seeds}
data_dir = "{toy_dir}"
verify = false
[sweep.grid]
w_syn = ["0.2 mV", "0.4 mV"]
"drive.rate" = ["40 Hz", "150 Hz"]
""")
    return path


def _procs_in_group(pgid: int) -> list[int]:
    import psutil

    out = []
    for p in psutil.process_iter(["pid"]):
        try:
            if os.getpgid(p.pid) == pgid:
                out.append(p.pid)
        except (ProcessLookupError, psutil.Error, OSError):
            pass
    return out


def test_sweep_killed_with_sigkill_then_rerun_equals_uninterrupted(toy_dir, tmp_path, capsys):
    """`larvasim sweep` killed mid-way (SIGKILL), run again: every run exactly once, and the
    table equals that of an uninterrupted sweep with the same seeds. 40 runs of 400 ms: a fast machine finished
    all of 12 runs of 100 ms between two polls, before the kill."""
    total = 40
    f = _write_sweep_file(tmp_path / "kill.toml", toy_dir, seeds=total // 4, duration="400 ms")
    cmd = [sys.executable, "-m", "larvasim.cli", "sweep", str(f), "-o", str(tmp_path / "k"), "--jobs", "2",
           "--quiet"]
    runs = tmp_path / "k" / "runs"
    p = subprocess.Popen(cmd, start_new_session=True, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 180
        while time.time() < deadline and p.poll() is None:
            if runs.is_dir() and len(list(runs.glob("*.json"))) >= 3:
                break
            time.sleep(0.02)
        assert p.poll() is None, f"the sweep ended before it could be killed:\n{p.stdout.read().decode()}"
        os.kill(p.pid, signal.SIGKILL)
        p.wait()
        n_killed = len(list(runs.glob("*.json")))
        assert 3 <= n_killed < total
        # its workers notice and end by themselves
        deadline = time.time() + 20
        while _procs_in_group(p.pid) and time.time() < deadline:
            time.sleep(0.2)
        assert not _procs_in_group(p.pid), "worker processes outlived the killed sweep"
    finally:
        for pid in _procs_in_group(p.pid):  # only ours: the group the test started
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    from larvasim.cli import main

    capsys.readouterr()
    assert main(cmd[3:]) == 0                      # the same command again (in this process)
    assert f"{n_killed} already done, {total - n_killed} run now" in capsys.readouterr().out
    table = pd.read_csv(tmp_path / "k" / "table.csv")
    assert len(table) == total and table["run_id"].is_unique and (table["status"] == "ok").all()
    assert len(list(runs.glob("*.json"))) == total
    ref = run_sweep(load_sweep_file(f), tmp_path / "ref", jobs=1, progress=False, summary=False)
    ref = pd.read_csv(tmp_path / "ref" / "table.csv")
    pd.testing.assert_frame_equal(_stable(table), _stable(ref))


def test_cli_dry_run_and_plot(toy_dir, tmp_path):
    from larvasim.cli import main

    f = _write_sweep_file(tmp_path / "s.toml", toy_dir, name="cli", seeds=1)
    assert main(["sweep", str(f), "--dry-run", "-o", str(tmp_path / "d")]) == 0
    assert not (tmp_path / "d").exists()
    assert main(["sweep", str(f), "-o", str(tmp_path / "c"), "--jobs", "1", "--quiet",
                 "--plot", str(tmp_path / "c.png"), "--readout", "hz.PN"]) == 0
    assert (tmp_path / "c.png").is_file()
    assert len(pd.read_csv(tmp_path / "c" / "table.csv")) == 4
    bad = tmp_path / "bad.toml"
    bad.write_text(f.read_text().replace("[sweep.grid]", "[sweep.grid]\ntau_q = ['1 ms']"))
    assert main(["sweep", str(bad)]) == 2


# -- C++ standalone: compiled once per worker, re-run with run_args ---------------------------------
@pytest.mark.slow
def test_standalone_sweep_compiles_once_per_worker_and_equals_numpy(toy_dir, tmp_path):
    base = {**BASE, "device": "cpp_standalone"}
    sa = _sweep(toy_dir, base=base).run(tmp_path / "sa", jobs=2, progress=False, summary=False)
    ref = _sweep(toy_dir, base={**BASE, "device": "numpy"}).run(tmp_path / "np", jobs=1, progress=False, summary=False)
    assert (sa["status"] == "ok").all()
    assert sa["built"].sum() <= 2                          # one compile per worker process
    hz = [c for c in ref.columns if c.startswith("hz.")]
    assert np.array_equal(sa[hz].to_numpy(), ref[hz].to_numpy())       # spike-for-spike as numpy
    # each worker's private project keeps no per-run arrays
    from connectomes.paths import cache_dir

    assert not list((cache_dir() / "sweep-slots").glob("slot-*/*/static_arrays/init_*"))
