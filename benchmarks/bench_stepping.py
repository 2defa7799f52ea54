"""Benchmark: closed-loop stepping against one uninterrupted run, whole brain, numba engine.

Usage::

    LARVASIM_DATA=/path/to/connectomes python benchmarks/bench_stepping.py [--larvae 8] [--seconds 2]
        [--chunks 10,20,50]

The problem (issue 14, part 1): the default larval model on the whole connectome
with the dopaminergic plasticity rule, ``--larvae`` larvae (trials), both sides'
olfactory neurons at 100 Hz, ``--seconds`` of biological time. Measured in this
one invocation, on one thread (``threads=1``) so that the ratio is the cost of
stepping, not of scheduling:

* ``one run`` -- :meth:`sim.Network.run` with pre-drawn input events;
* ``stepped, C ms`` -- :meth:`sim.Network.stepper` in chunks of ``C`` ms with
  the same events (checked: identical spikes), and with per-chunk Poisson rates
  drawn by the stepper (the closed-loop case: inputs decided chunk by chunk).

Printed: seconds per larva-second of each, and the ratio to the one run (issue
14's goal: <= 1.5). Record the output with its command and machine in
``docs/benchmarks.md``.
"""
from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np

from guard import Guards


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--larvae", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--chunks", default="10,20,50", help="chunk lengths in ms")
    ap.add_argument("--guard", action="store_true",
                    help="exit 1 on a large regression of the measured ratios (benchmarks/guard.py)")
    args = ap.parse_args(argv)

    from brian2 import Hz, ms

    import connectomes
    import sim
    from models.plasticity import DopaminePlasticity
    from sim.stimuli import InputEvents

    c = connectomes.load("winding2023")
    net = sim.Network(c, plasticity=DopaminePlasticity(record=None), device="numba", threads=1)
    olf = c.select(modality="olfactory")
    n = int(round(args.seconds * 1000 / net.dt_ms))
    stim = [sim.PoissonDrive(olf, 100 * Hz)]
    ev = net.draw_inputs(stim, n * net.dt, trials=args.larvae, seed=1)
    net.run(stim, duration=20 * ms, trials=1, seed=0)            # compile / warm up
    net.stepper(larvae=1).step(1 * ms)
    t0 = time.perf_counter()
    ref = net.run(stim, duration=n * net.dt, trials=args.larvae, inputs=ev, progress=False)
    t_one = time.perf_counter() - t0
    per = args.larvae * args.seconds
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; load {os.getloadavg()[0]:.2f}")
    print(f"whole brain ({c.n_neurons} neurons), larval_lif + plasticity, {args.larvae} larvae x {args.seconds} s, "
          f"one thread")
    print(f"  one run                      {t_one / per:7.3f} s per larva-second  (x1.00)")
    g = Guards(args.guard)
    rates = np.zeros(c.n_neurons)
    rates[olf.indices] = 100.0
    for chunk_ms in (float(x) for x in args.chunks.split(",")):
        steps = int(round(chunk_ms / net.dt_ms))
        st = net.stepper(larvae=args.larvae, threads=1)
        t0 = time.perf_counter()
        for a in range(0, n, steps):
            b = min(a + steps, n)
            st.step((b - a) * net.dt, events=[InputEvents(e.neurons[(e.steps >= a) & (e.steps < b)],
                                                          e.steps[(e.steps >= a) & (e.steps < b)] - a, e.dt_ms)
                                              for e in ev])
        t_ev = time.perf_counter() - t0
        same = st.results().spikes.equals(ref.spikes)
        st = net.stepper(larvae=args.larvae, threads=1, seed=1)
        t0 = time.perf_counter()
        for a in range(0, n, steps):
            st.step((min(a + steps, n) - a) * net.dt, rates=rates)
        t_rt = time.perf_counter() - t0
        print(f"  stepped, {chunk_ms:4.0f} ms, same events  {t_ev / per:7.3f} s per larva-second  "
              f"(x{t_ev / t_one:.2f}; spikes identical: {same})")
        print(f"  stepped, {chunk_ms:4.0f} ms, rates        {t_rt / per:7.3f} s per larva-second  "
              f"(x{t_rt / t_one:.2f})")
        g.require(f"stepped in {chunk_ms:g} ms chunks: spikes identical to one run", bool(same))
        if chunk_ms >= 50:
            g.check(f"stepped ({chunk_ms:g} ms, rates) / one run", t_rt / t_one, at_most=3.0, documented="goal <= 1.5")
    return g.exit_code()


if __name__ == "__main__":
    raise SystemExit(main())
