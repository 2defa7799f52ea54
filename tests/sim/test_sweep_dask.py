"""A sweep on a real Dask cluster on loopback: a scheduler and two workers, one killed mid-sweep."""
from __future__ import annotations

import importlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
    import distributed  # in CI a broken or missing distributed is a failure, never a silent skip
else:
    distributed = pytest.importorskip("distributed",
                                      reason="dask[distributed] is not installed (pip install -e '.[cluster]')")

from connectomes.synthetic import write_winding_format  # noqa: E402
from sim.sweep import Sweep  # noqa: E402

BASE = {"duration": "100 ms", "drive": [{"modality": "olfactory", "rate": "80 Hz", "start": "10 ms"}]}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _dask_cli() -> list[str]:
    exe = Path(sys.executable).with_name("dask")
    return [str(exe)] if exe.is_file() else [shutil.which("dask") or "dask"]


def _wait_for_workers(address: str, n: int, timeout: float = 120):
    from distributed import Client

    with Client(address, timeout=timeout, set_as_default=False) as client:
        client.wait_for_workers(n, timeout=timeout)
        # import what a sweep task needs on every worker now, so that neither starts its first run
        # seconds after the other (a module-level function of this file would not unpickle there)
        for module in ("brian2", "connectomes", "sim.network", "sim.sweep"):
            client.run(importlib.import_module, module)


@pytest.fixture
def cluster(tmp_path):
    """`dask scheduler` and two `dask worker` processes (one thread each, no nanny) on 127.0.0.1."""
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = dict(os.environ, DASK_DISTRIBUTED__WORKER__DAEMON="False", PYTHONUNBUFFERED="1")
    logs = tmp_path / "dask-logs"
    logs.mkdir()
    procs = {}

    def start(name, args):
        log = open(logs / f"{name}.log", "w")
        procs[name] = subprocess.Popen(_dask_cli() + args, env=env, stdout=log, stderr=subprocess.STDOUT,
                                       cwd=tmp_path, start_new_session=True)

    start("scheduler", ["scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"])
    for w in ("w1", "w2"):
        start(w, ["worker", address, "--name", w, "--nthreads", "1", "--no-nanny", "--no-dashboard",
                  "--host", "127.0.0.1", "--local-directory", str(tmp_path / w)])
    try:
        _wait_for_workers(address, 2)
        yield address, procs, logs
    finally:
        for p in procs.values():  # only the processes this fixture started
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs.values():
            try:
                p.wait(timeout=3)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def test_sweep_on_dask_survives_a_killed_worker(cluster, tmp_path):
    address, procs, logs = cluster
    toy = write_winding_format(tmp_path / "toy", seed=1).path
    # enough runs, long enough (3 s each), that many are left when one worker is killed: with 12 runs
    # of 1 s a fast machine finished them all between two polls of the watcher (CI, AMD EPYC, 12 < 12)
    total = 40
    sw = Sweep({**BASE, "duration": "3 s"}, grid={"w_syn": ["0.2 mV", "0.4 mV"], "drive.rate": ["40 Hz", "150 Hz"]},
               seeds=total // 4, data_dir=toy, verify=False, name="dask")
    out = tmp_path / "d"
    state = {}

    def kill_one_worker():
        # kill w1 once a few runs are done and the sweep is not finished (which worker took those
        # runs is up to the scheduler: w1 may have finished some, or still be on its first)
        runs = out / "runs"
        deadline = time.time() + 180
        while time.time() < deadline:
            done = list(runs.glob("*.json")) if runs.is_dir() else []
            if len(done) >= 3:
                state["done_at_kill"] = len(done)
                procs["w1"].send_signal(signal.SIGKILL)
                procs["w1"].wait()
                return
            time.sleep(0.05)

    th = threading.Thread(target=kill_one_worker)
    th.start()
    table = sw.run(out, scheduler=address, progress=False, summary=False)
    th.join()
    assert "done_at_kill" in state, "the worker was not killed"
    print("runs done when w1 was killed:", state["done_at_kill"], "of", total)
    assert state["done_at_kill"] < total
    assert procs["w1"].returncode == -signal.SIGKILL and procs["w2"].poll() is None
    assert len(table) == total and table["run_id"].is_unique
    assert (table["status"] == "ok").all(), table[["status", "error"]]
    workers = set(table["worker"])
    w2 = f":{procs['w2'].pid}"
    assert any(w.endswith(w2) for w in workers)  # the survivor finished the sweep
    assert all(w.endswith((w2, f":{procs['w1'].pid}")) for w in workers)
    # the same as a local sweep, run for run
    ref = sw.run(tmp_path / "local", jobs=1, progress=False, summary=False)
    hz = [c for c in ref.columns if c.startswith("hz.")]
    pd.testing.assert_frame_equal(table[["run_id", "seed"] + hz], ref[["run_id", "seed"] + hz])
    # re-running against the cluster finds everything done
    again = sw.run(out, scheduler=address, progress=False, summary=False)
    assert again.attrs["summary"]["ran"] == 0


def test_cli_sweep_with_scheduler(cluster, tmp_path, capsys):
    """``larvasim sweep FILE --scheduler ADDRESS``: the command line path to a real cluster, same table as local."""
    from larvasim.cli import main

    address, procs, logs = cluster
    toy = write_winding_format(tmp_path / "toy", seed=1).path
    f = tmp_path / "s.toml"
    f.write_text(f'duration = "100 ms"\n[[drive]]\nmodality = "olfactory"\nrate = "80 Hz"\nstart = "10 ms"\n'
                 f'[sweep]\nname = "cli"\nseeds = 2\ndata_dir = "{toy}"\nverify = false\n'
                 '[sweep.grid]\nw_syn = ["0.2 mV", "0.4 mV"]\n')
    assert main(["sweep", str(f), "--scheduler", address, "--out", str(tmp_path / "c"), "--quiet"]) == 0
    assert main(["sweep", str(f), "--jobs", "1", "--out", str(tmp_path / "l"), "--quiet"]) == 0
    a, b = pd.read_csv(tmp_path / "c" / "table.csv"), pd.read_csv(tmp_path / "l" / "table.csv")
    assert len(a) == 4 and (a["status"] == "ok").all()
    hz = [c for c in a.columns if c.startswith("hz.")]
    pd.testing.assert_frame_equal(a.sort_values("run_id")[["run_id"] + hz].reset_index(drop=True),
                                  b.sort_values("run_id")[["run_id"] + hz].reset_index(drop=True))
    pids = (procs["w1"].pid, procs["w2"].pid)
    assert all(str(w).endswith(tuple(f":{p}" for p in pids)) for w in a["worker"])  # run by the cluster's workers
