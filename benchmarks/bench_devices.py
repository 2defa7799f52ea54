"""Benchmark: the whole-brain LIF network on Brian2's numpy, cython and C++ standalone devices.

Usage::

    LARVASIM_DATA=/path/to/connectomes python benchmarks/bench_devices.py \\
        [--devices numpy,cython,cpp_standalone] [--trials 10] [--duration "1 s"] [--rate "150 Hz"]

The problem: the real connectome (Winding et al. 2023), all neurons excitatory,
all four synapse types, the olfactory sensory neurons of both sides driven at
``--rate`` for the whole trial of ``--duration`` (1 s of biological time).
For every device, in one process and in this order:

* **construct** -- ``sim.Network(...)`` (the Brian2 objects; nothing for
  cpp_standalone, which builds at its first run);
* **first run** -- one trial, including the compilation (cython: code objects;
  cpp_standalone: generating and compiling the C++ project);
* **build** -- construct + (first run - one warm trial): what a user waits for
  before the first useful trial;
* **one trial** -- further one-trial runs, warm (median of ``--repeat``):
  seconds of wall time per simulated second;
* **N trials** -- ``--trials`` trials in one ``run`` (no rebuild), per trial,
  in wall time and in CPU time (this process and its children; less
  sensitive to other load on a shared machine).

Compilers' caches start empty (a temporary Cython cache and larvasim cache)
unless ``--warm-cache`` is given, so the build column is the first-time cost.
Ratios are against the numpy target measured in the same run (the baseline;
it must be among ``--devices``). Every device runs the same seeds; the script
checks that the spikes are identical (the input events are drawn from the seed
before the simulation, independently of the device) and prints the result.
"""
from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import tempfile
import time

import numpy as np

import connectomes
import sim
from sim.workflows.config import parse_quantity


def _bench_device(c, device, stimuli, duration, trials, seed, repeat):
    t0 = time.perf_counter()
    net = sim.Network(c, signs="excitatory", device=device)
    construct = time.perf_counter() - t0

    t0 = time.perf_counter()
    first = net.run(stimuli, duration=duration, trials=1, seed=seed, progress=False)
    t_first = time.perf_counter() - t0

    ones = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        one = net.run(stimuli, duration=duration, trials=1, seed=seed, progress=False)
        ones.append(time.perf_counter() - t0)
    t_one = statistics.median(ones)

    c0, t0 = _cpu(), time.perf_counter()
    many = net.run(stimuli, duration=duration, trials=trials, seed=seed, progress=False)
    t_many, c_many = time.perf_counter() - t0, _cpu() - c0
    del net
    gc.collect()
    return {"device": device, "construct": construct, "first": t_first, "one": t_one,
            "build": construct + max(t_first - t_one, 0.0), "per_trial": t_many / trials,
            "cpu_per_trial": c_many / trials,
            "spikes_per_trial": many.n_spikes / trials, "first_res": first, "one_res": one, "many_res": many}


def _cpu() -> float:
    """CPU seconds of this process and its finished children (compilers, the standalone binary)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _load() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:  # not available on this platform
        return "n/a"


def _same(a, b) -> str:
    """'identical' or a description of how two Results' spikes differ."""
    if (np.array_equal(a.spike_trials, b.spike_trials) and np.array_equal(a.spike_nodes, b.spike_nodes)
            and np.array_equal(a.spike_times, b.spike_times)):
        return "identical"
    diff = []
    for k in range(max(a.n_trials, b.n_trials)):
        ta = sorted(zip(a.spike_times[a.spike_trials == k], a.spike_nodes[a.spike_trials == k]))
        tb = sorted(zip(b.spike_times[b.spike_trials == k], b.spike_nodes[b.spike_trials == k]))
        if ta != tb:
            first = next((x for x, y in zip(ta, tb) if x != y), max(ta, tb, key=len)[min(len(ta), len(tb))])
            diff.append(f"trial {k} from {first[0]:g} ms")
    return f"DIFFERENT ({a.n_spikes} vs {b.n_spikes} spikes; {', '.join(diff)})"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", default=os.environ.get("LARVASIM_DATA"))
    ap.add_argument("--devices", default="numpy,cython,cpp_standalone",
                    help="comma-separated subset of numpy,cython,cpp_standalone (numpy is the baseline)")
    ap.add_argument("--trials", type=int, default=10, help="trials re-run without rebuilding (default 10)")
    ap.add_argument("--duration", default="1 s", help="biological time per trial (default 1 s)")
    ap.add_argument("--rate", default="150 Hz", help="drive rate of the olfactory neurons (default 150 Hz)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=3, help="warm one-trial runs, median taken (default 3)")
    ap.add_argument("--warm-cache", action="store_true",
                    help="reuse the existing Cython and larvasim caches (default: empty temporary ones)")
    args = ap.parse_args()
    devices = [d.strip() for d in args.devices.split(",") if d.strip()]
    bad = set(devices) - set(sim.DEVICES)
    if bad:
        ap.error(f"unknown device(s) {sorted(bad)}; choose from {', '.join(sim.DEVICES)}")
    duration = parse_quantity(args.duration, "--duration")
    rate = parse_quantity(args.rate, "--rate")

    c = connectomes.load("winding2023", data_dir=args.data_dir)  # from the usual cache
    tmp = None
    if not args.warm_cache:
        from brian2 import prefs

        tmp = tempfile.TemporaryDirectory(prefix="bench_devices-")
        os.environ["LARVASIM_CACHE"] = os.path.join(tmp.name, "larvasim")  # standalone projects
        prefs.codegen.runtime.cython.cache_dir = os.path.join(tmp.name, "cython")
    olf = c.select(modality="olfactory")
    stimuli = [sim.PoissonDrive(olf, rate)]
    sim_s = float(duration / parse_quantity("1 s"))
    print(f"connectome   {c!r}")
    print(f"network      all excitatory, synapse types ad+aa+dd+da; drive {len(olf.indices)} olfactory "
          f"neurons (both sides) at {rate}; {args.duration} per trial; seed {args.seed}")
    print(f"caches       {'warm (existing)' if args.warm_cache else 'empty (temporary)'}; "
          f"python {sys.version.split()[0]}, brian2 {sim.versions()['brian2']}, {os.cpu_count()} cores, "
          f"load average {_load()}")
    print()

    rows = []
    for d in devices:
        print(f"[{d}] building and running ...", flush=True)
        r = _bench_device(c, d, stimuli, duration, args.trials, args.seed, max(args.repeat, 1))
        rows.append(r)
        print(f"[{d}] construct {r['construct']:.2f} s, first run {r['first']:.2f} s, one trial {r['one']:.2f} s "
              f"(median of {max(args.repeat, 1)}), "
              f"{args.trials} trials {r['per_trial'] * args.trials:.2f} s", flush=True)
    base = next((r for r in rows if r["device"] == "numpy"), None)

    print()
    head = (f"{'device':<15}{'build s':>9}{'(construct':>12}{'+ compile)':>11}{'s/sim-s':>9}"
            f"{'per trial s':>13}{'(cpu s)':>9}{'spikes/trial':>14}")
    if base:
        head += f"{'build vs np':>13}{'1 trial vs np':>15}{'per trial vs np':>17}"
    print(head)
    for r in rows:
        line = (f"{r['device']:<15}{r['build']:>9.2f}{r['construct']:>12.2f}{r['build'] - r['construct']:>11.2f}"
                f"{r['one'] / sim_s:>9.2f}{r['per_trial']:>13.2f}{r['cpu_per_trial']:>9.2f}{r['spikes_per_trial']:>14.0f}")
        if base:
            line += (f"{r['build'] / base['build']:>12.2f}x{base['one'] / r['one']:>14.2f}x"
                     f"{base['per_trial'] / r['per_trial']:>16.2f}x")
        print(line)
    if base:
        print("(build vs np: build time relative to numpy's; the other two: speed-up over numpy, "
              "> 1 is faster)")

    print()
    ok = True
    ref = rows[0]
    for r in rows:
        same_self = _same(r["first_res"], r["one_res"])
        ok &= same_self == "identical"
        print(f"{r['device']:<15} same seed, rerun on the same network: {same_self}")
    for r in rows[1:]:
        for key, what in (("one_res", "1 trial"), ("many_res", f"{args.trials} trials")):
            verdict = _same(ref[key], r[key])
            ok &= verdict == "identical"
            print(f"{r['device']:<15} vs {ref['device']}, {what}: {verdict}")
    print(f"\nspikes identical across devices and reruns: {'yes' if ok else 'NO'}")
    print(f"load average at the end: {_load()} (timings are only comparable on an otherwise idle machine)")
    if tmp is not None:
        tmp.cleanup()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
