"""Benchmark: a parameter sweep of the whole larva brain, 1 versus 2 local workers.

Usage::

    LARVASIM_DATA=/path/to/connectomes python benchmarks/bench_sweep.py \\
        [--sweep docs/examples/sweep_wsyn_rate.toml] [--seeds 10] [--jobs 1,2] \\
        [--out /tmp/bench_sweep] [--figure docs/figures/sweeps/wsyn_rate_dn_vnc.png]

The problem: the sweep file (default ``docs/examples/sweep_wsyn_rate.toml``):
the real connectome (Winding et al. 2023), literature signs, C++ standalone,
runs of 1 s of biological time with the olfactory sensory neurons driven
200-700 ms, on a grid of 10 ``w_syn`` x 10 drive rates x ``--seeds`` seeds
(10: 1,000 runs). For every worker count in ``--jobs``, in this process:

* **warm-up** -- a sweep of ``2 x jobs`` other runs of the same network, so
  that every worker has generated and compiled its C++ program (once per
  worker; reported, not timed below);
* **sweep** -- the timed sweep into a fresh folder: wall time, runs per
  second, how busy the workers were (sum of the runs' worker time over
  ``wall x workers``: what the sweep machinery leaves idle), and per run: the C++ program's own time (``binary_s``, Brian2's
  ``run_binary`` timer: process start, reading the run_args, simulating,
  writing the spikes), the rest of ``Network.run`` (drawing the input,
  writing run_args, reading the spikes back), the readouts, and what remains
  of ``wall x workers / runs`` (dispatch, pickling, writing the run files,
  idle workers).

The baseline is ``jobs=1`` (runs in this process). The script checks that
every worker count gave the same table (spike for spike: same rates) and
writes the sweep's figure from the last one.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim.workflows.sweep import load_sweep_file, plot_sweep, run_sweep  # noqa: E402


def _measure(sw, jobs: int, out: Path) -> dict:
    # warm-up: every worker compiles its network (same structure and drive targets)
    warm = sw.replace(points=[{"w_syn": "0.3 mV"}], seeds=[100_000 + k for k in range(2 * jobs)],
                      name=f"warmup-{jobs}")
    t0 = time.perf_counter()
    wt = run_sweep(warm, out / f"warmup-{jobs}", jobs=jobs, progress=False, summary=False)
    warm_s = time.perf_counter() - t0
    folder = out / f"jobs-{jobs}"
    shutil.rmtree(folder, ignore_errors=True)
    t0, c0 = time.perf_counter(), os.times()
    table = run_sweep(sw, folder, jobs=jobs, progress=True, summary=True)
    wall = time.perf_counter() - t0
    c1 = os.times()
    parent_cpu = (c1[0] + c1[1] - c0[0] - c0[1]) if jobs > 1 else 0.0  # jobs=1: runs are in this process
    ok = table[table["status"] == "ok"]
    n = len(ok)
    per_run = wall * jobs / n
    binary = float(ok["binary_s"].mean())
    sim_s = float(ok["sim_s"].mean())
    task = float(ok["task_s"].mean())
    return {"jobs": jobs, "runs": n, "failed": int((table["status"] != "ok").sum()), "wall_s": wall,
            "runs_per_s": n / wall, "warmup_s": warm_s, "warmup_builds": int(wt["built"].sum()),
            "builds_in_sweep": int(table["built"].sum()), "binary_s": binary, "network_run_other_s": sim_s - binary,
            "readouts_s": task - sim_s, "dispatch_store_idle_s": per_run - task, "per_run_s": per_run,
            "overhead_s": per_run - binary, "busy": float(ok["task_s"].sum()) / (wall * jobs),
            "cpu_s": float(ok["cpu_s"].mean()), "parent_cpu_s": parent_cpu / n, "table": table}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sweep", default=str(ROOT / "docs" / "examples" / "sweep_wsyn_rate.toml"))
    ap.add_argument("--seeds", type=int, default=None, help="seeds per point (default: the file's; 10 -> 1,000 runs)")
    ap.add_argument("--jobs", default="1,2", help="worker counts to compare, e.g. 1,2")
    ap.add_argument("--out", default=None, help="folder for the sweeps (default: a temporary folder)")
    ap.add_argument("--data-dir", default=os.environ.get("LARVASIM_DATA"))
    ap.add_argument("--figure", default=str(ROOT / "docs" / "figures" / "sweeps" / "wsyn_rate_dn_vnc.png"))
    ap.add_argument("--readout", default="hz.DN-VNC")
    args = ap.parse_args()
    if not args.data_dir:
        print("set LARVASIM_DATA or --data-dir (the real connectome is needed)", file=sys.stderr)
        return 2
    sw = load_sweep_file(args.sweep)
    changes = {"data_dir": args.data_dir}
    if args.seeds:
        changes["seeds"] = args.seeds
    sw = sw.replace(**changes)
    out = Path(args.out) if args.out else Path(os.environ.get("TMPDIR", "/tmp")) / "larvasim_bench_sweep"
    out.mkdir(parents=True, exist_ok=True)
    print(f"{sw!r}; {os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f} at start", flush=True)
    rows = []
    for jobs in [int(j) for j in args.jobs.split(",")]:
        rows.append(_measure(sw, jobs, out))
        print(f"load average {os.getloadavg()[0]:.1f} after jobs={jobs}", flush=True)
    base = rows[0]
    hz = [c for c in base["table"].columns if c.startswith("hz.")]
    print("\n| workers | runs | wall | runs/s | speed-up | workers busy | C++ program | rest of Network.run "
          "| readouts | dispatch + store + idle | overhead beyond the C++ program | warm-up (compile) |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        same = np.allclose(r["table"][hz].to_numpy(float), base["table"][hz].to_numpy(float), equal_nan=True)
        print(f"| {r['jobs']} | {r['runs']} | {r['wall_s']:.1f} s | {r['runs_per_s']:.2f} | "
              f"{r['runs_per_s'] / base['runs_per_s']:.2f}x | {r['busy']:.0%} | {r['binary_s'] * 1e3:.0f} ms | "
              f"{r['network_run_other_s'] * 1e3:.0f} ms | {r['readouts_s'] * 1e3:.0f} ms | "
              f"{r['dispatch_store_idle_s'] * 1e3:.0f} ms | {r['overhead_s'] * 1e3:.0f} ms | "
              f"{r['warmup_s']:.0f} s ({r['warmup_builds']} builds) |"
              + ("" if same else "  RESULTS DIFFER FROM THE BASELINE"))
        if r["failed"] or r["builds_in_sweep"]:
            print(f"  jobs={r['jobs']}: {r['failed']} failed runs, {r['builds_in_sweep']} builds during the timed sweep")
    # CPU time does not depend on other jobs sharing the machine: with one core per worker,
    # a run takes its CPU time; the sweep process needs parent_cpu_s per run on top
    print("\n| workers | CPU per run (worker) | CPU per run (sweep process) | projected runs/s on idle cores "
          "| projected speed-up |")
    print("| --- | --- | --- | --- | --- |")
    proj0 = None
    for r in rows:
        proj = min(r["jobs"] * r["busy"] / r["cpu_s"], os.cpu_count() / (r["cpu_s"] + r["parent_cpu_s"]))
        proj0 = proj0 or proj
        r["projected_runs_per_s"] = proj
        print(f"| {r['jobs']} | {r['cpu_s'] * 1e3:.0f} ms | {r['parent_cpu_s'] * 1e3:.1f} ms | {proj:.2f} | "
              f"{proj / proj0:.2f}x |")
    summary = [{k: v for k, v in r.items() if k != "table"} for r in rows]
    (out / "bench_sweep.json").write_text(json.dumps({"sweep": args.sweep, "n_runs": len(sw), "rows": summary,
                                                      "cores": os.cpu_count()}, indent=1))
    if args.figure:
        plot_sweep(rows[-1]["table"], readout=args.readout, path=args.figure)
        print(f"figure: {args.figure}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
