"""Benchmark: first load (parse CSVs, compile the HDF5 cache) vs cached loads.

Usage::

    LARVASIM_DATA=/path/to/connectomes python benchmarks/bench_load.py [--repeat 5]

Prints the wall time of the first load into an empty cache, the median of
``--repeat`` cached loads, and their ratio (the issue's target: >= 10x).
"""
from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

import connectomes
from guard import Guards


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", default=os.environ.get("LARVASIM_DATA"))
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--guard", action="store_true",
                    help="exit 1 on a large regression of the measured ratios (benchmarks/guard.py)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as cache:
        os.environ["LARVASIM_CACHE"] = cache
        t0 = time.perf_counter()
        c = connectomes.load("winding2023", data_dir=args.data_dir)
        first = time.perf_counter() - t0
        assert not c.provenance["loaded_from_cache"]
        cached = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            c2 = connectomes.load("winding2023", data_dir=args.data_dir)
            cached.append(time.perf_counter() - t0)
            assert c2.provenance["loaded_from_cache"]
    med = statistics.median(cached)
    print(f"connectome       {c!r}")
    print(f"first load       {first:8.3f} s   (parse CSVs, verify, write HDF5 cache)")
    print(f"cached load      {med:8.3f} s   (median of {args.repeat}; min {min(cached):.3f} s)")
    print(f"speed-up         {first / med:8.1f} x   (target >= 10 x)")
    g = Guards(args.guard)
    g.check("cached load speed-up", first / med, at_least=5.0, documented="target >= 10x")
    raise SystemExit(g.exit_code())


if __name__ == "__main__":
    main()
