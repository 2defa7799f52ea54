"""Benchmark: start-up of a Brian2-free engine worker, with and without SciPy's linear algebra (issue 16).

Usage::

    LARVASIM_DATA=/path/to/connectomes python benchmarks/bench_startup.py [--repeat 7] [--guard]

A worker of a sweep or cluster job imports only ``sim.engine_numba``, loads a
saved :class:`~sim.engine_numba.EngineNetwork` (the whole brain, current LIF,
all excitatory) and runs it on input events drawn by its parent (42 olfactory
neurons at 150 Hz, 1 s). Its start-up is the time from launching the process
to the end of its first trial, minus one steady trial (a second one timed in
the same process): Python, the imports, numba loading its CPU target and the
cached kernel.

numba's CPU target checks for a BLAS by importing ``scipy.linalg``
(``numba.np.arraymath``); ``sim.engine_numba`` now starts the target without
it (:mod:`sim.engine_numba._startup`). The baseline is the same worker with
``import scipy.linalg`` first, which restores what numba did before. The two are
launched alternately, ``--repeat`` times each; the script prints their medians,
the ratio, and what each process had imported. ``--guard`` exits 1 when the
worker imported ``scipy.linalg`` or Brian2, gave other spikes than the
baseline, or started more slowly than 1/0.8 of it (``benchmarks/guard.py``).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

WORKER = r"""
import sys, time
launch = float(sys.argv[1])
{pre}
import numpy as np
from sim.engine_numba import EngineNetwork
net = EngineNetwork.load(sys.argv[2])
d = np.load(sys.argv[3])
events = [(d["arr_0"][0], d["arr_0"][1])]
first = net.run(events, threads=1)
t_first = time.time() - launch
t0 = time.perf_counter()
net.run(events, threads=1)
steady = time.perf_counter() - t0
print("RESULT", t_first - steady, len(first.spikes[0][0]), "scipy.linalg" in sys.modules, "brian2" in sys.modules)
"""


def _prepare(workdir: Path) -> None:
    import numpy as np
    from brian2 import Hz, second

    import connectomes
    import sim

    c = connectomes.load("winding2023")
    net = sim.Network(c, model="current_lif", signs="excitatory", device="numba")
    stim = [sim.PoissonDrive(c.select(modality="olfactory"), 150 * Hz)]
    ev = net.draw_inputs(stim, 1 * second, trials=1, seed=1)[0]
    net.engine_network(1 * second).save(workdir / "brain.engine")
    np.savez(workdir / "inputs.npz", np.stack([ev.neurons, ev.steps]))


def _launch(workdir: Path, baseline: bool) -> dict:
    code = WORKER.format(pre="import scipy.linalg" if baseline else "")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    t = time.time()
    out = subprocess.run([sys.executable, "-c", code, repr(t), str(workdir / "brain.engine"),
                          str(workdir / "inputs.npz")], capture_output=True, text=True, env=env, check=True, cwd=ROOT)
    line = next(x for x in out.stdout.splitlines() if x.startswith("RESULT"))
    _, s, spikes, linalg, brian = line.split()
    return {"startup_s": float(s), "spikes": int(spikes), "scipy_linalg": linalg == "True", "brian2": brian == "True"}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--guard", action="store_true")
    args = ap.parse_args(argv)
    import numpy as np

    from machine import cpu_model

    load0 = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        _prepare(workdir)
        _launch(workdir, False)  # warm the numba cache and the page cache
        rows = {"worker": [], "baseline": []}
        for _ in range(args.repeat):
            rows["worker"].append(_launch(workdir, False))
            rows["baseline"].append(_launch(workdir, True))
    med = {k: float(np.median([r["startup_s"] for r in v])) for k, v in rows.items()}
    print(f"machine   {cpu_model()}, {os.cpu_count()} CPUs; load average {load0:.2f} at start, "
          f"{os.getloadavg()[0]:.2f} at end")
    for k, label in (("baseline", "with scipy.linalg (numba's own start)"), ("worker", "sim.engine_numba")):
        r = rows[k][0]
        print(f"  {label:38s}: start-up {med[k]:.3f} s (median of {args.repeat}; "
              f"{min(x['startup_s'] for x in rows[k]):.3f}-{max(x['startup_s'] for x in rows[k]):.3f}); "
              f"scipy.linalg imported: {r['scipy_linalg']}; Brian2: {r['brian2']}")
    print(f"  baseline / worker: {med['baseline'] / med['worker']:.2f}; saved {med['baseline'] - med['worker']:.3f} s")
    spikes = {r["spikes"] for v in rows.values() for r in v}
    print(f"  spikes of the first trial, every process: {sorted(spikes)}")
    print("RESULT " + json.dumps({"median_s": med, "ratio": med["baseline"] / med["worker"]}))
    from guard import Guards

    guards = Guards(args.guard)
    guards.require("the worker imports neither scipy.linalg nor Brian2",
                   not any(r["scipy_linalg"] or r["brian2"] for r in rows["worker"]))
    guards.require("the same spikes in every process", len(spikes) == 1)
    guards.check("start-up with scipy.linalg / without", med["baseline"] / med["worker"], at_least=0.8,
                 documented="1.28")
    return guards.exit_code()

if __name__ == "__main__":
    sys.exit(main())
