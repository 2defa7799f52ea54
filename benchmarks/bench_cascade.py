"""Benchmark: 1,000 signal cascades of 8 hops from one modality on the whole brain, one core.

Usage::

    LARVASIM_DATA=/path/to/connectomes python benchmarks/bench_cascade.py [--modality olfactory]

Runs :func:`sim.analysis.cascade.run_cascades` with numba limited to one thread (after a
warm-up call that compiles or loads the cached kernels) and, in the same run,
two baselines on the same problem:

* ``reference_cascades``: a straightforward NumPy/SciPy implementation (sparse
  rows of the active neurons, one uniform draw per edge per hop), all 1,000
  cascades;
* a dense NumPy cascade in the style of the authors' ``contools`` code (one
  Bernoulli draw per entry of the active rows of the dense N x N transmission
  matrix), timed on ``--dense`` cascades and scaled to 1,000.

Prints the timings, the speed-ups and whether the target (< 1 s) is met, plus
the mean number of neurons activated per cascade by each implementation
(they must agree within Monte-Carlo noise).
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

import numba
import numpy as np

import connectomes
from guard import Guards
from sim.analysis.cascade import (
    N_CASCADES,
    N_HOPS,
    P_SYNAPSE,
    modality_sources,
    reference_cascades,
    run_cascades,
    stop_mask,
    transmission_probabilities,
)


def dense_cascades(W, sources, stop, p=P_SYNAPSE, hops=N_HOPS, n=N_CASCADES, seed=0):
    """Dense-matrix cascade: every hop draws a Bernoulli for every (active, any) neuron pair."""
    P = transmission_probabilities(W, p).toarray()
    N = P.shape[0]
    rng = np.random.default_rng(seed)
    stop = np.asarray(stop, bool)
    hits = np.zeros((N, hops + 1), np.int64)
    for _ in range(n):
        visited = np.zeros(N, bool)
        visited[sources] = True
        hits[sources, 0] += 1
        active = np.asarray(sources)[~stop[sources]]
        for h in range(1, hops + 1):
            if active.size == 0:
                break
            fired = (rng.random((active.size, N)) < P[active]).any(axis=0) & ~visited
            new = np.flatnonzero(fired)
            visited[new] = True
            hits[new, h] += 1
            active = new[~stop[new]]
    return hits


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", default=os.environ.get("LARVASIM_DATA"))
    ap.add_argument("--modality", default="olfactory")
    ap.add_argument("--n", type=int, default=N_CASCADES)
    ap.add_argument("--repeat", type=int, default=5, help="timed repeats of the numba run (median)")
    ap.add_argument("--dense", type=int, default=20, help="cascades timed for the dense baseline")
    ap.add_argument("--guard", action="store_true",
                    help="exit 1 on a large regression of the measured ratios (benchmarks/guard.py)")
    args = ap.parse_args()

    c = connectomes.load("winding2023", data_dir=args.data_dir)
    W = c.weights(types=("ad",))
    src = modality_sources(c, [args.modality])[args.modality]
    stop = stop_mask(c)
    numba.set_num_threads(1)

    t0 = time.perf_counter()
    run_cascades(W, src, stop, n=2, seed=0)
    warm = time.perf_counter() - t0
    times = []
    for r in range(args.repeat):
        t0 = time.perf_counter()
        hits = run_cascades(W, src, stop, n=args.n, seed=r)
        times.append(time.perf_counter() - t0)
    fast = statistics.median(times)

    t0 = time.perf_counter()
    ref = reference_cascades(W, src, stop, n=args.n, seed=0)
    base = time.perf_counter() - t0

    t0 = time.perf_counter()
    dense = dense_cascades(W, src, stop, n=args.dense, seed=0)
    dense_t = (time.perf_counter() - t0) * args.n / args.dense

    act = lambda h, n: h[:, 1:].sum() / n  # noqa: E731
    print(f"problem          {args.n} cascades x {N_HOPS} hops from {len(src)} {args.modality} neurons; "
          f"{W.shape[0]} neurons, {W.nnz} a-d edges, {int(stop.sum())} stop nodes")
    print(f"machine          {os.cpu_count()} CPUs; numba threads = {numba.get_num_threads()}")
    print(f"numba warm-up    {warm:8.3f} s   (first call: compile or load cached kernels)")
    print(f"larvasim (numba) {fast:8.3f} s   (median of {args.repeat}; min {min(times):.3f} s)")
    print(f"numpy/scipy ref. {base:8.3f} s   speed-up {base / fast:6.1f} x")
    print(f"dense (contools) {dense_t:8.3f} s   speed-up {dense_t / fast:6.1f} x   "
          f"({args.dense} cascades timed, scaled to {args.n})")
    print(f"activated/cascade numba {act(hits, args.n):.1f}, numpy {act(ref, args.n):.1f}, "
          f"dense {act(dense, args.dense):.1f}")
    print(f"target < 1 s     {'met' if fast < 1.0 else 'NOT met'}")
    g = Guards(args.guard)
    g.check("numba speed-up over the sparse NumPy cascade", base / fast, at_least=2.0, documented="5.8x")
    g.require("same mean activation as the reference (within 5 %)",
              abs(act(hits, args.n) - act(ref, args.n)) <= 0.05 * act(ref, args.n))
    raise SystemExit(g.exit_code())


if __name__ == "__main__":
    main()
