"""Benchmark: the cost of the timing-dependent dopamine rule (``eta_b > 0``) in the numba engine.

Usage::

    LARVASIM_DATA=/path/to/connectomes python benchmarks/bench_timing_rule.py [--larvae 4] [--repeat 3] [--guard]

The variant adds a dopamine trace to every plastic KC -> MBON synapse (updated at each MBIN spike) and a
potentiation at each KC spike that reaches one (``sim/engine_numba/plastic.py``). This script runs the
learning protocols' conditioning larva (``experiments.learning``'s "paired" protocol, 42.4 s, whole brain,
the default larval model, DAN-i1 as the US) with the depression-only rule (``eta_b = 0``, the default model's
until session 33) and with the timing-dependent rule the learning experiments now run (the variant fitted in
``docs/timing_rule.md``, at the calibrated learning rate), in one process, alternating, one thread, and prints
the CPU time per larva and the ratio. The variant's weights differ (it potentiates), so only the run times are compared; its spikes are
Brian2's (tests/sim/test_engine_numba.py).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from guard import Guards
from machine import cpu_model

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _engines(c, larvae: int):
    """The depression-only rule's and the timing-dependent rule's engine networks of the paired protocol (both at
    the learning experiments' calibrated eta), and its inputs."""
    from brian2 import second

    from experiments import learning
    from experiments.calibrate import rule_options

    protocol = learning.make_protocol("paired")
    variant = learning.plasticity_options()  # the experiments' rule: the record's (timing-dependent since session 33)
    if not variant["eta_b"] > 0:
        raise SystemExit("the learning experiments run the depression-only rule: there is no variant to time")
    duration = protocol.duration * second
    nets = {"depression-only": learning.make_network(c, protocol, **rule_options(variant["eta"], None)),
            "timing-dependent": learning.make_network(c, protocol, **variant)}
    events = nets["depression-only"].draw_inputs(learning.larva_stimuli(c, protocol), duration, trials=larvae, seed=0)
    return {k: n.engine_network(duration) for k, n in nets.items()}, events, variant


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--larvae", type=int, default=4)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--guard", action="store_true", help="exit 1 when a ratio is past its regression bound")
    args = ap.parse_args(argv)
    g = Guards(args.guard)
    import connectomes

    c = connectomes.load("winding2023")
    engines, events, variant = _engines(c, args.larvae)
    for eng in engines.values():
        eng.run(events[:1], threads=1)  # compile and warm up
    cpu = {k: np.inf for k in engines}
    outs = {}
    for _ in range(args.repeat):
        for k, eng in engines.items():
            t0 = time.process_time()
            outs[k] = eng.run(events, threads=1)
            cpu[k] = min(cpu[k], (time.process_time() - t0) / args.larvae)
    print(f"machine: {cpu_model()}")
    print(f"one larva of the 'paired' protocol (42.4 s), whole brain, default larval model, 1 thread, "
          f"{args.larvae} larvae per call, CPU time per larva, best of {args.repeat}")
    print(f"  timing-dependent rule: eta_b = {variant['eta_b']:.4g}, tau_d = {variant['tau_d']}, w_max = {variant['w_max']:g}, "
          f"dopamine trace {variant['dopamine_trace']}")
    for k in engines:
        n = sum(len(i) for i, _ in outs[k].spikes) / args.larvae
        print(f"  {k:18s} {cpu[k]:7.3f} s  ({n:,.0f} spikes per larva)")
    ratio = cpu["timing-dependent"] / cpu["depression-only"]
    print(f"  timing-dependent / depression-only: {ratio:.3f}")
    w_def, w_var = outs["depression-only"].plastic.final, outs["timing-dependent"].plastic.final
    g.require("the timing-dependent rule potentiates some synapse above its start", bool((w_var > engines[
        "timing-dependent"].plastic_w0).any()))
    g.require("the depression-only rule never lifts a weight above its start",
              bool((w_def <= engines["depression-only"].plastic_w0 * (1 + 1e-12)).all()))
    g.check("timing-dependent / depression-only, CPU time per larva", ratio, at_most=1.5,
            documented="see docs/benchmarks.md")
    return g.exit_code()


if __name__ == "__main__":
    raise SystemExit(main())
