"""Benchmark: the numba engine against Brian2 (numpy and C++ standalone) on the whole brain.

Usage::

    LARVASIM_DATA=/path/to/connectomes python benchmarks/bench_engine.py [--trials 10] [--numpy-trials 3]

The problem (issue 5): the whole Winding et al. 2023 connectome, all synapses
excitatory, the current-based LIF (Shiu et al. 2024), both sides' olfactory
neurons driven at 150 Hz for 1 s; ``--trials`` trials with the input events of
``seed=1``. All engines get the same pre-generated input events, measured in
the same run:

* ``sim.Network(device="numpy")`` -- Brian2 runtime, numpy target
  (``--numpy-trials`` of the trials);
* ``sim.Network(device="cpp_standalone")`` -- Brian2 C++ standalone; the first
  run generates and compiles the project (reported apart), the timed run
  re-runs the compiled program once per trial;
* ``sim.engine_numba.simulate`` on 1 thread and on 2 threads (trials run in
  parallel); best of ``--repeat`` runs, after a warm-up call.

Figures are milliseconds per trial-second (per trial of 1 s of simulated
time), of wall-clock time and of CPU time (this process's, all threads, plus
its child processes' for C++ standalone). On a machine shared with other work
(see the load average printed) wall-clock times grow and the 1 -> 2 thread
scaling cannot show; CPU times are what the work costs. Also reported: how many trials give exactly the same spikes
as Brian2 numpy, the time a new process needs to import the engine and load
its cached kernels (and to compile them with an empty cache), and the load
average of the machine (other processes distort timings).
"""
from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from brian2 import Hz, second

import connectomes
import sim
from sim.engine_numba import simulate

ROOT = Path(__file__).resolve().parents[1]
FLOOR_MS = 7.0  # issue 5: the floor on the CI machine kind, ms per trial-second

_COLD = """
import time
t0 = time.perf_counter()
from models import get_model
from sim.engine_numba import simulate
from sim.stimuli import InputEvents
t1 = time.perf_counter()
simulate(get_model("current_lif"), 3, [0], [1], [1e-3], [InputEvents([0], [1])], 50, drive_weight=0.07)
simulate(get_model("conductance_lif"), 3, [0], [1], [1e-9], [InputEvents([0], [1])], 50, drive_weight=0.1,
         inhibitory=[False])
t2 = time.perf_counter()
print(t1 - t0, t2 - t1)
"""


def cold_start(cache_dir: str | None) -> tuple[float, float]:
    """(import time, first-call time) of the engine in a new Python process."""
    env = dict(os.environ)
    if cache_dir is not None:
        env["NUMBA_CACHE_DIR"] = cache_dir
    out = subprocess.run([sys.executable, "-c", _COLD], cwd=ROOT, env=env, capture_output=True, text=True,
                         check=True).stdout.split()
    return float(out[0]), float(out[1])


def same_spikes(res, out, trials) -> int:
    """Number of the first ``trials`` trials whose spikes are identical in Brian2's Results and the engine's output."""
    df = res.spikes
    n_same = 0
    for t in range(trials):
        d = df[df["trial"] == t]
        i = out.spikes[t][0]
        n_same += bool(np.array_equal(d["node_id"].to_numpy(), i)
                       and np.array_equal(d["t_ms"].to_numpy(), out.times_ms(t)))
    return n_same


class Timer:
    """Wall-clock and CPU time (process, all threads, plus finished child processes) of a block."""

    @staticmethod
    def _cpu():
        ch = resource.getrusage(resource.RUSAGE_CHILDREN)
        return time.process_time() + ch.ru_utime + ch.ru_stime

    def __enter__(self):
        self.w0, self.c0 = time.perf_counter(), self._cpu()
        return self

    def __exit__(self, *exc):
        self.wall, self.cpu = time.perf_counter() - self.w0, self._cpu() - self.c0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", default=os.environ.get("LARVASIM_DATA"))
    ap.add_argument("--trials", type=int, default=10, help="trials for numba and C++ standalone")
    ap.add_argument("--numpy-trials", type=int, default=3, help="trials for Brian2 numpy (slow)")
    ap.add_argument("--repeat", type=int, default=3, help="timed repeats of the numba runs (best)")
    ap.add_argument("--no-standalone", action="store_true", help="skip the C++ standalone baseline")
    args = ap.parse_args()
    load0 = os.getloadavg()

    c = connectomes.load("winding2023", data_dir=args.data_dir)
    olf = c.select(modality="olfactory")
    stim = [sim.PoissonDrive(olf, 150 * Hz)]
    duration, n_steps, T = 1 * second, 10_000, args.trials

    # -- Brian2 numpy (also the source of the network's edges and the input events)
    net = sim.Network(c, signs="excitatory", device="numpy")
    inputs = net.draw_inputs(stim, duration, trials=T, seed=1)
    nt = min(args.numpy_trials, T)
    with Timer() as tm:
        ref = net.run(stim, duration=duration, trials=nt, inputs=inputs[:nt], progress=False)
    t_numpy, c_numpy = tm.wall / nt, tm.cpu / nt

    # -- numba engine: what device="numba" will pass
    pre, post, count, sgn = net._edges
    fast = sgn != 0
    w = np.asarray(net.model.synaptic_weights(count[fast], sgn[fast]), dtype=float)
    kw = dict(drive_weight=net.drive_weight, inhibitory=sgn[fast] < 0, cell_classes=sim.cell_classes(c))
    t0 = time.perf_counter()
    simulate(net.model, c.n_neurons, pre[fast], post[fast], w, inputs[:1], n_steps, **kw)
    t_warm = time.perf_counter() - t0
    t_numba, c_numba = {}, {}
    for threads in (1, 2):
        best = (np.inf, np.inf)
        for _ in range(args.repeat):
            with Timer() as tm:
                out = simulate(net.model, c.n_neurons, pre[fast], post[fast], w, inputs, n_steps, threads=threads,
                               **kw)
            best = min(best, (tm.wall, tm.cpu))
        t_numba[threads], c_numba[threads] = best[0] / T, best[1] / T
    n_equal = same_spikes(ref, out, nt)
    spikes_per_trial = np.mean([len(i) for i, _ in out.spikes])

    # -- Brian2 C++ standalone
    t_sa = c_sa = t_compile = None
    if not args.no_standalone:
        sa = sim.Network(c, signs="excitatory", device="cpp_standalone")
        t0 = time.perf_counter()
        if not hasattr(sa, "pathways"):  # build first: some versions of run() need the built pathways
            sa._build_standalone(n_steps, np.unique(np.concatenate([ev.neurons for ev in inputs])))
        sa.run(stim, duration=duration, trials=1, inputs=inputs[:1], progress=False)
        t_compile = time.perf_counter() - t0
        with Timer() as tm:
            res_sa = sa.run(stim, duration=duration, trials=T, inputs=inputs, progress=False)
        t_sa, c_sa = tm.wall / T, tm.cpu / T
        n_equal_sa = same_spikes(res_sa, out, T)

    # -- a new process: import + load cached kernels; compile with an empty cache
    cold_cached = cold_start(None)
    cold_cached = cold_start(None)  # the first may have filled the cache
    with tempfile.TemporaryDirectory() as tmp:
        cold_compile = cold_start(tmp)
    load1 = os.getloadavg()

    ms = lambda s: s * 1e3
    print(f"problem        whole brain ({c.n_neurons} neurons, {net.n_synapses} connections, all excitatory), "
          f"current LIF, {len(olf.indices)} olfactory neurons at 150 Hz, 1 s; {T} trials "
          f"({spikes_per_trial:.0f} spikes per trial)")
    print(f"machine        {os.cpu_count()} CPUs; load average {load0[0]:.2f} at start, {load1[0]:.2f} at end")
    print("               ms per trial-second: wall-clock    CPU   speed-up (wall, CPU) vs numpy / vs C++")
    rows = [("brian2 numpy", t_numpy, c_numpy, f"({nt} trials)")]
    if t_sa is not None:
        rows.append(("brian2 C++", t_sa, c_sa, f"({T} trials; build, compile and 1 trial before: {t_compile:.1f} s)"))
    rows += [("numba 1 thread", t_numba[1], c_numba[1], ""), ("numba 2 threads", t_numba[2], c_numba[2], "")]
    for name, wall, cpu, note in rows:
        vs = f"x{t_numpy / wall:6.1f} x{c_numpy / cpu:6.1f}"
        if t_sa is not None:
            vs += f" / x{t_sa / wall:5.1f} x{c_sa / cpu:5.1f}"
        print(f"{name:15s}{ms(wall):26.1f} {ms(cpu):7.1f}   {vs} {note}")
    print(f"scaling        1 -> 2 threads: wall-clock x{t_numba[1] / t_numba[2]:.2f}, "
          f"CPU per trial x{c_numba[2] / c_numba[1]:.2f} (1.00 = no overhead from running trials in parallel)")
    print(f"floor          {FLOOR_MS:.1f} ms per trial-second (issue 5); numba 1 thread: "
          f"{ms(t_numba[1]) / FLOOR_MS:.1f} x (wall-clock), {ms(c_numba[1]) / FLOOR_MS:.1f} x (CPU)")
    print(f"identical spikes: numba = Brian2 numpy in {n_equal}/{nt} trials"
          + (f"; numba = Brian2 C++ standalone in {n_equal_sa}/{T} trials" if t_sa else ""))
    print(f"new process    import {cold_cached[0]:.2f} s + first calls (cached kernels) {cold_cached[1]:.2f} s; "
          f"with an empty cache (compile) {cold_compile[1]:.2f} s; warm-up in this process {t_warm:.2f} s")


if __name__ == "__main__":
    main()
