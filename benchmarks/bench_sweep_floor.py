"""Benchmark: how far the example sweep is from issue 16's throughput target, and where its floor is.

Usage::

    LARVASIM_DATA=/path/to/connectomes python benchmarks/bench_sweep_floor.py \\
        [--sweep docs/examples/sweep_wsyn_rate.toml] [--seeds 2] [--repeat 3] [--cores 2] \\
        [--points N] [--guard]

Issue 16 asks for 10,000 trial-seconds of the example sweep in under 60 s on the
2-core machine. This script takes every point of the sweep's grid (10 ``w_syn`` x
10 drive rates) on the numba engine, ``--seeds`` seeds each, and times one run
(one trial of 1 s, as a sweep worker runs it) three ways, alternately in this
process (one thread, best of ``--repeat``, CPU time):

* ``Network.run`` -- the public path a sweep worker takes (drawing the input,
  the kernel, the ``Results``);
* ``engine`` -- the engine's kernel alone (``EngineNetwork.run`` on the same
  pre-drawn input events);
* ``minimal`` -- the minimal reference kernel of ``benchmarks/minimal_kernel.py``
  on the same events (the floor of issue 16; it must give every spike of the
  engine, which the script checks).

It prints, for each path, the CPU time of the whole grid per trial-second and the
projected wall time of 10,000 trial-seconds on ``--cores`` idle cores (CPU
per trial-second x 10,000 / cores; the sweep machinery's own cost, about 3 ms per
run in ``bench_sweep.py``, comes on top), the share of the grid's time spent in
its points with more than 50,000 spikes per trial (the runaway regime), and the
ratios engine / minimal and Network.run / engine over the whole grid and over the
quiet and runaway points apart. ``--guard`` exits 1 when a spike differs between
the engine and the minimal kernel, or engine / minimal over the grid exceeds 2
(``benchmarks/guard.py``).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

RUNAWAY = 50_000  # spikes per trial-second above which a point counts as runaway


def _cpu() -> float:
    return time.process_time()


def measure(sweep_path, seeds: int, repeat: int, points: int | None = None, data_dir=None) -> dict:
    """Per grid point: spikes per trial and the best CPU time of one run on each path."""
    from brian2 import second

    import connectomes
    import sim
    from minimal_kernel import kernel_for
    from sim.workflows.config import parse_quantity, stimuli_from_config
    from sim.workflows.sweep import load_sweep_file

    sweep = load_sweep_file(sweep_path)
    base = sweep.base
    c = connectomes.load("winding2023", data_dir=data_dir)
    net = sim.Network(c, model=base.get("model", "current_lif"), signs=base.get("signs", "literature"),
                      device="numba", threads=1)
    by_point = {}
    for r in sweep.plan:
        key = tuple(sorted((k, str(v)) for k, v in r.values.items()))
        if r.seed < seeds:
            by_point.setdefault(key, []).append(r)
    keys = list(by_point)[:points] if points else list(by_point)
    rows = []
    for key in keys:
        runs = by_point[key]
        cfg = dict(runs[0].config, _path=str(sweep_path))
        stimuli = stimuli_from_config(c, cfg)
        duration = parse_quantity(cfg.get("duration", "1 s"), "duration")
        ws = runs[0].weight_scale
        eng = net.engine_network(duration, stimuli, weight_scale=ws)
        mk = kernel_for(eng)
        events = [net.draw_inputs(stimuli, duration, trials=1, seed=r.seed)[0] for r in runs]
        ev = [(e.neurons, e.steps) for e in events]
        a = eng.run(ev, threads=1).spikes
        b = mk.run(ev)
        same = all(np.array_equal(x[0], y[0]) and np.array_equal(x[1], y[1]) for x, y in zip(a, b))
        t = {"network": [], "engine": [], "minimal": []}
        for _ in range(repeat):
            c0 = _cpu()
            for r in runs:
                net.run(stimuli, duration=duration, trials=1, seed=r.seed, progress=False, weight_scale=ws)
            t["network"].append(_cpu() - c0)
            c0 = _cpu()
            eng.run(ev, threads=1)
            t["engine"].append(_cpu() - c0)
            c0 = _cpu()
            mk.run(ev)
            t["minimal"].append(_cpu() - c0)
        secs = len(runs) * float(duration / second)
        row = {"point": dict(key), "spikes": float(np.mean([len(x[0]) for x in a])) / float(duration / second),
               "same": bool(same), "trial_s": secs}
        row.update({k: min(v) / secs for k, v in t.items()})  # CPU s per trial-second
        rows.append(row)
        print(f"  {dict(key)}: {row['spikes']:,.0f} spikes/s, Network.run {row['network'] * 1e3:.1f} ms, "
              f"engine {row['engine'] * 1e3:.1f} ms, minimal {row['minimal'] * 1e3:.1f} ms per trial-second"
              + ("" if same else "  SPIKES DIFFER"), flush=True)
    return {"rows": rows}


def summarise(rows: list[dict], cores: int) -> dict:
    """Grid totals (every point weighted equally, as in the sweep) and the projection."""
    out = {}
    for path in ("network", "engine", "minimal"):
        per_ts = float(np.mean([r[path] for r in rows]))  # CPU s per trial-second over the grid
        out[path] = {"ms_per_trial_s": per_ts * 1e3, "projected_10k_s": per_ts * 10_000 / cores}
    run = [r for r in rows if r["spikes"] > RUNAWAY]
    quiet = [r for r in rows if r["spikes"] <= RUNAWAY]
    tot = sum(r["engine"] for r in rows)
    out["runaway_points"] = len(run)
    out["runaway_share"] = sum(r["engine"] for r in run) / tot if tot else 0.0
    for name, sel in (("all", rows), ("quiet", quiet), ("runaway", run)):
        if sel:
            e, m, n = (sum(r[k] for r in sel) for k in ("engine", "minimal", "network"))
            out[f"engine_over_minimal_{name}"] = e / m
            out[f"network_over_engine_{name}"] = n / e
    out["identical"] = all(r["same"] for r in rows)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sweep", default=str(ROOT / "docs" / "examples" / "sweep_wsyn_rate.toml"))
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--points", type=int, default=None, help="only the first N grid points (a quick check)")
    ap.add_argument("--guard", action="store_true")
    args = ap.parse_args(argv)
    import os

    from machine import cpu_model

    load0 = os.getloadavg()[0]
    m = measure(args.sweep, args.seeds, args.repeat, args.points)
    print(f"machine   {cpu_model()}, {os.cpu_count()} CPUs; load average {load0:.2f} at start, "
          f"{os.getloadavg()[0]:.2f} at end")
    s = summarise(m["rows"], args.cores)
    print(f"\n{len(m['rows'])} grid points x {args.seeds} seeds, one thread, best of {args.repeat} (CPU time)")
    for path, label in (("network", "Network.run"), ("engine", "engine kernel"), ("minimal", "minimal kernel")):
        print(f"  {label:15s}: {s[path]['ms_per_trial_s']:6.1f} ms per trial-second over the grid; "
              f"10,000 trial-seconds on {args.cores} idle cores: {s[path]['projected_10k_s']:5.0f} s (target < 60 s)")
    print(f"  runaway points (> {RUNAWAY:,} spikes per trial-second): {s['runaway_points']} of {len(m['rows'])}, "
          f"{100 * s['runaway_share']:.0f} % of the engine's time")
    for name in ("all", "quiet", "runaway"):
        if f"engine_over_minimal_{name}" in s:
            print(f"  {name:8s}: engine / minimal {s[f'engine_over_minimal_{name}']:.2f}, "
                  f"Network.run / engine {s[f'network_over_engine_{name}']:.2f}")
    print(f"  every spike identical (engine, minimal kernel): {s['identical']}")
    from guard import Guards

    guards = Guards(args.guard)
    guards.require("spikes identical, engine and minimal kernel, every grid point", s["identical"])
    guards.check("engine / minimal kernel over the grid", s["engine_over_minimal_all"], at_most=2.0,
                 documented="1.00 (full grid)")
    return guards.exit_code()

if __name__ == "__main__":
    sys.exit(main())
