"""How much does the choice among equally good stage-1 points move the predictions? An analysis after scoring.

Writes ``docs/stage1_spread.md`` (with ``docs/stage1_spread.json``).

Stage 1 of the calibration (:func:`experiments.calibrate.calibrate`) chose the default structure's four
parameters (``w_syn``, ``inh_scale``, ``adapt_increment``, ``tau_adapt``) as the best of 80 points by its
objective J. ``docs/biology_learning_rate.md`` asks of stage 2 what the choice among its equally good points does
to the pairing findings; this module asks the same of stage 1 and the findings it decides (response, silencing
and compare findings: stage 1 leaves the pairing findings out).

The design (fixed 2026-12-05, session 37, before the points were scored on any finding here)
--------------------------------------------------------------------------------------------
* The points: stage 1's search of the default structure, rerun exactly as the calibration ran it (same seed,
  points and objective; :func:`experiments.calibrate.calibrate` on a store, which must reproduce the record's best
  point and J), and its :data:`TOP` best points by J.
* Each point is completed with the default model's stage-2 parameters (``mbon_gain``, ``mbin_gain``, ``eta``; the
  MBON and MBIN gains act on non-pairing readouts too) and scored on both halves' response, silencing and compare
  findings at benchmark seed 0, as docs/biology.md scores the default model.
* Reported: per point its parameters, J, and hits per half; per finding, how many of the points hit it. It
  decides nothing: the default stays the point the objective picked, and choosing another by its held-out score
  would tune on the held-out half.

Run: ``python -m experiments.stage1_spread [--out docs/stage1_spread.md] [--store DIR] [--jobs 2]`` (the stage-1
search: about 80 evaluations of a few seconds; the store resumes).
"""
from __future__ import annotations

import argparse
import datetime
import json
import sys
import time
from pathlib import Path

__all__ = ["TOP", "points", "reading", "report", "score_point"]

#: How many of stage 1's best points are compared (as stage 2's analysis, ``experiments.calibrate.TOP``).
TOP = 5


def points(store, connectome=None, *, jobs: int = 1, log=None) -> list[dict]:
    """Stage 1's search of the default structure (rerun into ``store``, resumable; ``jobs`` shards), its
    :data:`TOP` best evaluations by J, best first; the first must be the calibration record's point."""
    import subprocess

    import numpy as np

    from models.neurons import larval_calibration

    from . import calibrate

    cal = larval_calibration()
    structure = cal["structure"]
    store = Path(store)
    if jobs > 1:  # the shards run as processes on one store, as `python -m experiments.calibrate --shard` does
        procs = [subprocess.Popen([sys.executable, "-m", "experiments.calibrate", "--stage", "structure",
                                   "--structures", structure, "--seed", str(cal["seed"]), "--store", str(store),
                                   "--shard", f"{k}/{jobs}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                 for k in range(jobs)]
        if any(p.wait() for p in procs):
            raise RuntimeError(f"stage 1's search into {store} failed: rerun it (the store resumes)")
    rec = calibrate.calibrate(store, structures=(structure,), seed=cal["seed"], connectome=connectome,
                              progress=False)
    evals = [json.loads(p.read_text()) for p in sorted((store / "evaluations").glob(f"{structure}-*.json"))]
    evals.sort(key=lambda r: -r["J"])
    best = evals[0]
    recorded = cal["structures"][structure]["J"]  # the search's own best (without a threshold adopted later)
    if not np.isclose(best["J"], recorded, rtol=0, atol=1e-9) or rec["J"] != best["J"]:
        raise RuntimeError(f"stage 1's search in {store} gives J {best['J']:.6f}, the record {recorded:.6f}: "
                           "not the calibration the default model came from")
    if log:
        log(f"stage 1: {len(evals)} evaluations, best J {best['J']:.3f}")
    return evals[:TOP]


def score_point(connectome, values: dict, synapse_types, *, seed: int = 0) -> dict:
    """One stage-1 point with the default's stage-2 parameters, scored on both halves' non-pairing findings:
    per half ``hits``, ``n``, ``hit_ids``."""
    import sim

    from . import biology
    from .receptor_rules import default_point

    from .calibrate import larval_model

    # the default's stage-2 gains and its weak-connection threshold (if one was adopted) on the stage-1 point
    stage2 = {k: v for k, v in default_point()["values"].items()
              if k in ("mbon_gain", "mbin_gain", "min_input_fraction")}
    model = larval_model({**values, **stage2})
    net = sim.Network(connectome, model=model, synapse_types=tuple(synapse_types), device="numba")
    sc = biology.score(net, biology.load_findings(), seed=seed, pairing=False)
    t = sc.table[sc.table["status"].isin(("hit", "miss"))]
    return {half: {"hits": int((g["status"] == "hit").sum()), "n": int(len(g)),
                   "hit_ids": g.loc[g["status"] == "hit", "id"].tolist(), "ids": g["id"].tolist()}
            for half, g in t.groupby("half")}


def reading(data: dict) -> str:
    """The result in one sentence."""
    pts = data["points"]
    held = [p["scores"]["heldout"]["hits"] for p in pts]
    cal = [p["scores"]["calibration"]["hits"] for p in pts]
    n_h, n_c = pts[0]["scores"]["heldout"]["n"], pts[0]["scores"]["calibration"]["n"]
    d = pts[0]
    return (f"Stage 1's {len(pts)} best points (J {min(p['J'] for p in pts):.3f} to {max(p['J'] for p in pts):.3f}; "
            f"w_syn {min(p['values']['w_syn'] for p in pts):.2f} to {max(p['values']['w_syn'] for p in pts):.2f} mV, "
            f"inh_scale {min(p['values']['inh_scale'] for p in pts):.2f} to "
            f"{max(p['values']['inh_scale'] for p in pts):.2f}), each with the default's stage-2 gains, hit "
            f"{min(cal)} to {max(cal)} of {n_c} calibration-half and {min(held)} to {max(held)} of {n_h} held-out "
            f"non-pairing findings (the default, the best point: {d['scores']['calibration']['hits']} and "
            f"{d['scores']['heldout']['hits']}); {data['robust']} of the {data['n_findings']} findings get the same "
            f"outcome (hit or miss) at every point.")


def _write(data: dict) -> str:
    pts = data["points"]
    lines = ["# Equally good stage-1 points: how much they move the predictions", "",
             f"<!-- written by `python -m experiments.stage1_spread` on {data['date']}; do not edit -->", "",
             "An analysis after scoring (design: `experiments/stage1_spread.py`); it decides nothing.", "",
             f"**{reading(data)}**", "",
             "| point | w_syn (mV) | inh_scale | adapt_increment (mV) | tau_adapt (ms) | J | calibration half | "
             "held-out half |", "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for i, p in enumerate(pts):
        v, s = p["values"], p["scores"]
        lines.append(f"| {i}{' (default)' if i == 0 else ''} | {v['w_syn']:.3f} | {v['inh_scale']:.2f} | "
                     f"{v['adapt_increment']:.2f} | {v['tau_adapt']:.0f} | {p['J']:.3f} | "
                     f"{s['calibration']['hits']} of {s['calibration']['n']} | "
                     f"{s['heldout']['hits']} of {s['heldout']['n']} |")
    lines += ["", f"Findings whose outcome depends on the point (hit at some of the {len(pts)} points, missed at "
              "others):", "", "| finding | half | points that hit it |", "| --- | --- | --- |"]
    for fid, r in data["by_finding"].items():
        if 0 < r["hits"] < len(pts):
            lines.append(f"| {fid} | {r['half']} | {r['hits']} of {len(pts)} |")
    lines += ["", f"Default model fingerprint `{data['model']}`; findings `{data['findings']}`; {data['machine']}.",
              ""]
    return "\n".join(lines)


def report(path="docs/stage1_spread.md", store=None, connectome=None, *, jobs: int = 1, log=None) -> dict:
    """Rerun stage 1's search into ``store`` (default: a folder beside ``path``'s store, kept out of the
    repository by .gitignore), score its best points and write the report and its JSON."""
    import connectomes
    from larvasim.util import atomic_write_text

    from models.neurons import larval_calibration

    from .regenerate import fingerprint
    from .runs import default_model_key, provenance

    path = Path(path)
    c = connectome if connectome is not None else connectomes.load("winding2023")
    store = Path(store) if store is not None else Path("regenerate-runs") / "stage1-search"
    t0 = time.perf_counter()
    top = points(store, c, jobs=jobs, log=log)
    types = larval_calibration()["synapse_types"]
    pts = []
    for r in top:
        values = {k: r["values"][k] for k in ("w_syn", "input_exponent", "inh_scale", "adapt_increment", "tau_adapt")}
        pts.append({"values": values, "J": r["J"], "scores": score_point(c, values, types)})
        if log:
            log(f"point {len(pts) - 1}: J {r['J']:.3f}, held-out {pts[-1]['scores']['heldout']['hits']}")
    key = fingerprint()
    data = {"fingerprint": key, "model": default_model_key(), "findings": key.split("-")[-1], "points": pts,
            "date": datetime.date.today().isoformat(), "seconds": time.perf_counter() - t0}
    data["by_finding"] = {fid: {"half": half, "hits": sum(fid in p["scores"][half]["hit_ids"] for p in pts)}
                          for half in ("calibration", "heldout") for fid in pts[0]["scores"][half]["ids"]}
    data["n_findings"] = len(data["by_finding"])
    data["robust"] = sum(1 for r in data["by_finding"].values() if r["hits"] in (0, len(pts)))
    data.update(provenance(c))
    atomic_write_text(path.with_suffix(".json"), json.dumps(data, indent=1, default=str) + "\n")
    atomic_write_text(path, _write(data))
    return data


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m experiments.stage1_spread",
                                 description="Score stage 1's equally good points on the non-pairing findings "
                                             "(docs/stage1_spread.md).")
    ap.add_argument("--out", default="docs/stage1_spread.md")
    ap.add_argument("--store", default=None, help="folder of stage 1's rerun search (resumed if present; default "
                                                  "regenerate-runs/stage1-search)")
    ap.add_argument("--jobs", type=int, default=1, help="processes for the search (default 1)")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    report(args.out, args.store, jobs=args.jobs, log=lambda m: print(m, flush=True))
    print(f"wrote {args.out} ({time.perf_counter() - t0:.0f} s)")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
