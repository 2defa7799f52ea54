"""Benchmark: sleeping neurons in the numba engine (issue 16) -- the engine with and without sleep.

Usage::

    LARVASIM_DATA=/path/to/connectomes python benchmarks/bench_sleep.py [--larvae 4] [--repeat 3] [--guard]

Current-based models: a neuron whose ``v`` the update no longer moves sleeps until its next input: only its ``g`` and
``theta`` still decay (``sim/engine_numba/current_lif.py``). This script runs the same saved
``EngineNetwork`` with sleep (the default) and without it (``scan = 0``: the plain dense update of
every neuron that ever had input), in one process, alternating, and prints the CPU time per larva
and the ratio, for three problems on the default larval model:

* **conditioning** -- one larva of ``experiments.learning``'s "paired" protocol (42.4 s: pre-test,
  odour + DAN-i1 training, test; 15 s gaps), with the dopaminergic plasticity: what the learning
  report, the biology benchmark and the closed-loop learning runs pay per larva;
* **odour then silence** -- 1 s of olfactory drive at 100 Hz, then 9 s without input;
* **busy** -- the engine benchmark's problem (42 olfactory neurons at 150 Hz for 1 s), where
  nothing sleeps: the cost of the scan itself;
* **conductance: odour then silence** and **conductance: busy** -- the same two problems on the
  conductance model (``conductance_lif``), whose kernel makes a neuron dormant again once one step
  leaves its whole state unchanged (``sim/engine_numba/conductance_lif.py``); without the scan every
  neuron that ever had input is integrated every step.

Spikes (and plastic weights) must be identical with and without sleep (checked). Threads: one
(each larva on one core), so the CPU time is the kernel's.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
from guard import Guards
from machine import cpu_model

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _problems(c, larvae: int):
    """``{name: (EngineNetwork, input events per larva, seconds per larva)}``."""
    from brian2 import Hz, ms, second

    import sim
    from experiments import learning

    out = {}
    protocol = learning.make_protocol("paired")
    net = learning.make_network(c, protocol)
    stim = learning.larva_stimuli(c, protocol)
    duration = protocol.duration * second
    out["conditioning"] = (net.engine_network(duration), net.draw_inputs(stim, duration, trials=larvae, seed=0),
                           float(protocol.duration))
    plain = sim.Network(c)
    olf = c.select(modality="olfactory")
    quiet = [sim.PoissonDrive(olf, 100 * Hz, start=0 * ms, stop=1000 * ms)]
    out["odour then silence"] = (plain.engine_network(10 * second),
                                 plain.draw_inputs(quiet, 10 * second, trials=larvae, seed=0), 10.0)
    busy = [sim.PoissonDrive(olf, 150 * Hz)]
    out["busy"] = (plain.engine_network(1 * second), plain.draw_inputs(busy, 1 * second, trials=larvae, seed=0), 1.0)
    cond = sim.Network(c, model="conductance_lif")
    out["conductance: odour then silence"] = (cond.engine_network(10 * second),
                                             cond.draw_inputs(quiet, 10 * second, trials=larvae, seed=0), 10.0)
    out["conductance: busy"] = (cond.engine_network(1 * second),
                               cond.draw_inputs(busy, 1 * second, trials=larvae, seed=0), 1.0)
    return out


def _dense(eng):
    """The same network without sleep (the scan interval, the last value of its fixed tail, set to 0)."""
    head, mid, drive, tail = eng.fixed
    return replace(eng, fixed=(head, mid, drive, tail[:-1] + (0,)))


def _subnormal(eng, ev, chunk_s: float = 0.5) -> tuple[dict, int]:
    """Neurons holding a subnormal value of each state variable, averaged over the ends of ``chunk_s``
    chunks of one larva's run (stepped chunk by chunk: the same run), and the number of chunks.

    A decaying variable, ``g`` for one, does not reach 0: ``x * exp(-dt/tau)`` rounds back to ``x`` at
    some tiny subnormal ``x`` (1.24e-322 for tau 5 ms, dt 0.1 ms), a fixed point the dense update then
    multiplies every step, at many cycles per operation on some CPUs. A sleeping neuron is not updated,
    so the engine with sleep pays nothing for it (the states themselves are the same)."""
    from sim.engine_numba.core import _STATE_VARS  # eng.model: the kernel's name

    names = _STATE_VARS[eng.model]
    st = eng.initial_state()
    width = max(1, int(round(chunk_s / eng.dt)))
    neurons, steps = np.asarray(ev.neurons), np.asarray(ev.steps)
    counts, chunks = np.zeros(len(names)), 0
    for a in range(0, eng.n_steps, width):
        b = min(eng.n_steps, a + width)
        sel = (steps >= a) & (steps < b)
        eng.step([st], [(neurons[sel], steps[sel] - a)], b - a, threads=1)
        x = np.abs(st.state)
        counts += ((x > 0) & (x < np.finfo(np.float64).tiny)).sum(axis=1)
        chunks += 1
    return {v: counts[i] / chunks for i, v in enumerate(names) if counts[i]}, chunks


def _timed(eng, ev):
    t0 = time.process_time()
    out = eng.run(ev, threads=1)
    return time.process_time() - t0, out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--larvae", type=int, default=4, help="larvae (trials) per timed run")
    ap.add_argument("--repeat", type=int, default=3, help="timed runs of each variant (the median is shown)")
    ap.add_argument("--data-dir", default=os.environ.get("LARVASIM_DATA"))
    ap.add_argument("--guard", action="store_true", help="exit 1 on a regression (tests/test_benchmarks.py)")
    args = ap.parse_args(argv)
    import connectomes

    guards = Guards(args.guard)
    c = connectomes.load("winding2023", data_dir=args.data_dir)
    print(f"machine: {cpu_model()}, {os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f}; "
          f"{args.larvae} larvae per run, {args.repeat} runs each, one thread")
    print(f"{'problem':<32} {'with sleep':>14} {'without':>14} {'without / with':>15}  spikes identical")
    ratios = {}
    for name, (eng, ev, seconds) in _problems(c, args.larvae).items():
        dense = _dense(eng)
        _timed(eng, ev[:1])  # compile / warm up (the dense variant runs the same compiled kernel)
        on, off = [], []
        for _ in range(args.repeat):
            t_on, a = _timed(eng, ev)
            t_off, b = _timed(dense, ev)
            on.append(t_on / args.larvae)
            off.append(t_off / args.larvae)
        same = all(np.array_equal(x[0], y[0]) and np.array_equal(x[1], y[1]) for x, y in zip(a.spikes, b.spikes))
        if a.plastic is not None:
            same = same and np.array_equal(a.plastic.final, b.plastic.final)
        r = float(np.median(off) / np.median(on))
        ratios[name] = r
        print(f"{name:<32} {np.median(on):>10.3f} s/l {np.median(off):>10.3f} s/l {r:>15.2f}  {same}"
              f"   ({seconds:g} s per larva; with sleep {1e3 * np.median(on) / seconds:.1f} ms per larva-second)")
        guards.require(f"{name}: spikes identical with and without sleep", same)
        sub, chunks = _subnormal(eng, ev[0])
        print(f"{'':<32} neurons holding a subnormal value (of {eng.n}; larva 0, mean over the ends of {chunks} "
              f"chunks of 0.5 s): " + (", ".join(f"{v} {k:,.0f}" for v, k in sub.items()) if sub else "none"))
    guards.check("conditioning, without / with sleep", ratios["conditioning"], at_least=1.2,
                 documented="3.2 on an AMD EPYC, 27.5 on an Intel Xeon")
    guards.check("busy, without / with sleep", ratios["busy"], at_least=0.5, documented="1.07")
    guards.check("conductance: odour then silence, without / with sleep", ratios["conductance: odour then silence"],
                 at_least=1.0, documented="1.47 on an AMD EPYC")
    return guards.exit_code()


if __name__ == "__main__":
    sys.exit(main())
