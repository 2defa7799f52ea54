"""Benchmark: drawing a conditioning protocol's input events, against one draw over the whole trial.

Usage::

    LARVASIM_DATA=/path/to/connectomes python benchmarks/bench_inputs.py [--repeat 3]

The problem (issue 16, "overheads around the kernel: input-event preparation"):
one virtual larva of ``experiments.learning``'s ``paired`` protocol on the
whole brain (42.4 s: two odours of 8 receptors each, 1 s presentations, and
the DAN-i1 activation; every drive is off most of the trial). Measured in this
one invocation, alternately, best of ``--repeat``:

* ``draw_inputs`` -- :func:`sim.stimuli.draw_inputs` as :meth:`sim.Network.run`
  calls it (uniforms drawn only where a drive is on; the PCG64 generator is
  advanced over the rest);
* ``full draw`` -- the baseline, written out here: one uniform per step of the
  trial for every driven neuron, as before (checked: the same events);
* ``Network.run`` -- the whole larva (events, kernel, results), one thread.

Printed: milliseconds of each, the speed-up of the draw, and the share of the
run spent drawing inputs with each.

A second problem is the engine benchmark's (``benchmarks/bench_engine.py``: both
sides' 42 olfactory neurons at 150 Hz for 1 s, current LIF, 10 trials, one
thread), where every drive is on for the whole trial: ``draw_inputs`` against
the same baseline, and ``Network.run`` drawing its inputs against
``Network.run`` given them (the share of a 1 s trial spent drawing inputs,
which ``bench_engine.py`` leaves out: it feeds every engine the same drawn
events); and, with one trial per core in one call, the wall time of drawing
every trial first against each trial drawn by the thread that simulates it
(what ``Network.run`` does on the numba engine). Record the output with its command and machine in
``docs/benchmarks.md``.
"""
from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np

from guard import Guards


def full_draw(drives, n_steps: int, dt_ms: float, dead_ms: float, rng) -> tuple[np.ndarray, np.ndarray]:
    """The baseline: a uniform for every step and driven neuron, then the dead time (sorted events)."""
    from brian2 import ms

    t_ms = np.arange(n_steps) * dt_ms
    neurons, steps = [], []
    for stim in drives:
        dead = stim.dead_time / ms if stim.dead_time is not None else dead_ms
        dead_steps = int(round(dead / dt_ms))
        r = stim.rates_hz(t_ms) * dt_ms * 1e-3
        with np.errstate(divide="ignore"):
            p = np.where(r > 0, 1.0 / np.maximum(1.0 / np.where(r > 0, r, 1.0) - dead_steps, 1.0), 0.0)
        for idx in np.asarray(stim.target.indices if hasattr(stim.target, "indices") else stim.target):
            hits = np.flatnonzero(rng.random(n_steps) < p)
            out, last = [], -(10 ** 9)
            for k in hits:
                if k - last > dead_steps:
                    out.append(k)
                    last = k
            neurons.append(np.full(len(out), idx, dtype=np.int64))
            steps.append(np.asarray(out, dtype=np.int64))
    neurons, steps = np.concatenate(neurons), np.concatenate(steps)
    order = np.lexsort((neurons, steps))
    return neurons[order], steps[order]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--guard", action="store_true",
                    help="exit 1 on a large regression of the measured ratios (benchmarks/guard.py)")
    args = ap.parse_args(argv)

    from brian2 import ms, second

    import connectomes
    from experiments import learning
    from sim.stimuli import draw_inputs

    c = connectomes.load("winding2023")
    protocol = learning.make_protocol("paired")
    net = learning.make_network(c, protocol)
    stim = learning.larva_stimuli(c, protocol)
    duration = protocol.duration * second
    n_steps = int(round(float(duration / net.dt)))
    dead_ms = float(net.model.parameters["t_ref"].value / ms) + net.dt_ms
    drives = [s for s in stim if s.kind == "drive"]
    seq = np.random.SeedSequence([0, 0])

    net.run(stim, duration=duration, trials=1, seed=0, progress=False)  # compile / warm up
    t_new = t_full = t_run = np.inf
    same = True
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        ev = draw_inputs(drives, n_steps, net.dt_ms, dead_ms, np.random.default_rng(seq))
        t_new = min(t_new, time.perf_counter() - t0)
        t0 = time.perf_counter()
        neurons, steps = full_draw(drives, n_steps, net.dt_ms, dead_ms, np.random.default_rng(seq))
        t_full = min(t_full, time.perf_counter() - t0)
        same &= bool(np.array_equal(ev.neurons, neurons) and np.array_equal(ev.steps, steps))
        t0 = time.perf_counter()
        net.run(stim, duration=duration, trials=1, seed=0, progress=False)
        t_run = min(t_run, time.perf_counter() - t0)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; load {os.getloadavg()[0]:.2f}")
    print(f"one larva of the 'paired' protocol ({protocol.duration:g} s, {len(drives)} drives, "
          f"{sum(len(np.atleast_1d(getattr(d.target, 'indices', d.target))) for d in drives)} driven neurons, "
          f"{len(ev)} events), whole brain, best of {args.repeat}")
    print(f"  draw_inputs      {1e3 * t_new:8.1f} ms  ({100 * t_new / t_run:.1f} % of Network.run)")
    print(f"  full draw        {1e3 * t_full:8.1f} ms  ({100 * t_full / (t_run - t_new + t_full):.1f} % of a run "
          "that drew them so)")
    print(f"  Network.run      {1e3 * t_run:8.1f} ms")
    print(f"  speed-up of the draw: {t_full / t_new:.1f}x")
    g = Guards(args.guard)
    g.require("the same events as the full draw", same)
    g.check("full draw / draw_inputs", t_full / t_new, at_least=2.0, documented="about 15x")
    engine_problem(c, args.repeat, g)
    return g.exit_code()


def engine_problem(c, repeat: int, g, trials: int = 10) -> None:
    """The engine benchmark's problem: drives on for the whole trial (see the module docstring)."""
    from brian2 import Hz, ms, second

    import sim
    from sim.stimuli import as_indices, draw_inputs

    stim = [sim.PoissonDrive(c.select(modality="olfactory"), 150 * Hz)]
    net = sim.Network(c, model="current_lif", signs="excitatory", device="numba", threads=1)
    n_steps = int(round(float(1 * second / net.dt)))
    dead_ms = float(net.model.parameters["t_ref"].value / ms) + net.dt_ms
    given = net.draw_inputs(stim, 1 * second, trials=trials, seed=1)
    events = [(e.neurons, e.steps) for e in given]
    engine = net.engine_network(1 * second)
    engine.run(events[:1], threads=1)
    net.run(stim, duration=1 * second, trials=1, seed=1, progress=False)  # warm up
    t_new = t_full = t_drawn = t_given = t_kernel = t_uni = np.inf
    n_driven = sum(len(as_indices(s.target)) for s in stim)
    same = True
    for _ in range(repeat):
        rng = np.random.default_rng(1)  # the uniforms the definition needs (one per step and driven neuron), alone
        for _ in range(trials):
            t0 = time.perf_counter()
            rng.random((n_driven, n_steps))
            t_uni = min(t_uni, time.perf_counter() - t0)
        seqs = [np.random.SeedSequence([1, k]) for k in range(trials)]
        t0 = time.perf_counter()
        evs = [draw_inputs(stim, n_steps, net.dt_ms, dead_ms, np.random.default_rng(q)) for q in seqs]
        t_new = min(t_new, (time.perf_counter() - t0) / trials)
        t0 = time.perf_counter()
        full = [full_draw(stim, n_steps, net.dt_ms, dead_ms, np.random.default_rng(q)) for q in seqs]
        t_full = min(t_full, (time.perf_counter() - t0) / trials)
        same &= all(np.array_equal(e.neurons, f[0]) and np.array_equal(e.steps, f[1]) for e, f in zip(evs, full))
        same &= all(np.array_equal(e.neurons, f.neurons) and np.array_equal(e.steps, f.steps)
                    for e, f in zip(evs, given))
        t0 = time.perf_counter()
        net.run(stim, duration=1 * second, trials=trials, seed=1, progress=False)
        t_drawn = min(t_drawn, (time.perf_counter() - t0) / trials)
        t0 = time.perf_counter()
        net.run(stim, duration=1 * second, trials=trials, inputs=given, progress=False)
        t_given = min(t_given, (time.perf_counter() - t0) / trials)
        t0 = time.perf_counter()
        engine.run(events, threads=1)
        t_kernel = min(t_kernel, (time.perf_counter() - t0) / trials)
    print(f"the engine benchmark's problem (42 olfactory neurons at 150 Hz, 1 s, current LIF, {trials} trials "
          f"per call, 1 thread), per trial, best of {repeat}")
    print(f"  draw_inputs      {1e3 * t_new:8.2f} ms  ({100 * t_new / t_drawn:.1f} % of a 1 s trial of Network.run)")
    print(f"  full draw        {1e3 * t_full:8.2f} ms  ({100 * t_full / (t_drawn - t_new + t_full):.1f} % of a "
          "trial that drew them so)")
    print(f"  its uniforms     {1e3 * t_uni:8.2f} ms  (numpy's rng.random of {n_driven} x {n_steps}, best call: "
          f"{100 * t_uni / t_drawn:.1f} % of a 1 s trial; the floor of this definition of the events)")
    print(f"  Network.run      {1e3 * t_drawn:8.2f} ms drawing its inputs, {1e3 * t_given:.2f} ms given them; "
          f"the kernel (EngineNetwork.run) {1e3 * t_kernel:.2f} ms")
    print(f"  time around the kernel: {100 * (t_drawn - t_kernel) / t_drawn:.1f} % of Network.run drawing its "
          f"inputs, {100 * (t_given - t_kernel) / t_given:.1f} % given them")
    print(f"  speed-up of the draw: {t_full / t_new:.1f}x")
    g.require("the same events as the full draw (engine problem)", same)
    g.check("full draw / draw_inputs (engine problem)", t_full / t_new, at_least=1.3, documented="about 2x")
    # one trial per core, one call: events drawn first, then every trial at once (as before 2026-12-03), against
    # each trial drawn by the thread that simulates it (what Network.run does now); paired, alternately
    cores = os.cpu_count() or 1
    net = sim.Network(c, model="current_lif", signs="excitatory", device="numba", threads=cores)
    net.run(stim, duration=1 * second, trials=cores, seed=0, progress=False)
    first, own = [], []
    for r in range(max(7, 3 * repeat)):
        t0 = time.perf_counter()
        net.run(stim, duration=1 * second, trials=cores, seed=r,
                inputs=net.draw_inputs(stim, 1 * second, trials=cores, seed=r), progress=False)
        first.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        net.run(stim, duration=1 * second, trials=cores, seed=r, progress=False)
        own.append(time.perf_counter() - t0)
    first, own = np.array(first), np.array(own)
    ratio = float(np.median(first / own))
    best = float(first.min() / own.min())
    print(f"  {cores} threads, {cores} trials per call (wall, median of {len(own)} pairs): drawn first "
          f"{1e3 * np.median(first):.1f} ms, each in its trial's thread {1e3 * np.median(own):.1f} ms; "
          f"ratio {ratio:.2f}; best of each {1e3 * first.min():.1f} ms and {1e3 * own.min():.1f} ms, ratio {best:.2f}")
    # guarded on the ratio of the best calls: the median of pairs moved from 1.11 to 0.84 on a CI machine at load
    # 7.7 (2 cores) with nothing changed, and the draw is under a tenth of a trial, so only a thread that stalls
    # (the draw serialised behind the kernel, or the trials run one after another) moves the best calls this far
    g.check("drawn first / drawn in the trial's thread (best calls)", best, at_least=0.7,
            documented="1.11 as a median of pairs on 2 cores")


if __name__ == "__main__":
    raise SystemExit(main())
