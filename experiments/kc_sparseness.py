"""A sparser Kenyon-cell code as a candidate structure, scored on the calibration half.

Writes ``docs/kc_sparseness.md`` (with ``docs/kc_sparseness.json``, the store, and a figure).

Why this candidate
------------------
The default larval model codes an odour broadly: 35 % of the Kenyon cells (KCs) fire to one odour in at least
half of the trials (``docs/biology.md``), and two odours share many of them, so a pairing depresses the CS-'s
KC -> MBON synapses almost as much as the CS+'s (``docs/biology_learning_rate.md``). In adult flies the KC code
is sparse, and sparseness kept by the APL neuron's feedback inhibition is needed to learn to tell similar odours
apart (Lin et al. 2014, Nat Neurosci 17:559, doi:10.1038/nn.3660, abstract read). The larval KC code's
sparseness has not been measured (``docs/biology.md``). Raising the sourced APL -> KC inhibition makes the code
sparser only up to a point in this model (a trial before this design, 4 trials per odour: 55 and 41 of 144 KCs
to pentyl acetate at four and sixteen times the APL's output weights, against 70); a smaller input gain of the
KCs (``kc_gain``, :meth:`models.LarvalLIF.with_kc_gain`), which makes a KC need more coincident projection-neuron
input, sets it over the whole range (the same trial: 70 KCs at 1, 15 at 0.35). ``kc_gain`` is therefore the
candidate here.

The design, fixed before the grid was scored (2026-12-04, session 31)
--------------------------------------------------------------------
* Grid: ``kc_gain`` in :data:`KC_GAINS` x the MBON input gain at :data:`MBON_FACTORS` times the default's
  calibrated ``mbon_gain`` (a sparser code drives the MBONs less). Every other parameter is the default
  model's (stage 1, ``mbin_gain``, ``eta``). The point (1, 1) is the default model itself, scored in the same run.
* Each point is scored exactly as stage 2 of :mod:`experiments.calibrate` scores its points
  (:func:`experiments.calibrate.evaluate_seeds`, objective J3): the calibration half, pairing findings included,
  at benchmark seeds 1, 2, 3 (24 virtual larvae per pairing), the sanity terms at seed 1, and the learning
  must-show at each seed. The held-out half is not run for the decision.
* Also per point (not scored): KCs responding to pentyl acetate at its measured receptor responses
  (:func:`experiments.odour_coding.coding`), and KCs shared by the learning experiments' two drawn odours
  (:func:`experiments.biology_learning_rate.odour_drive`).
* Decision: a point with ``kc_gain < 1`` replaces nothing unless its J3 exceeds the default's. Even then it would
  only become a candidate for stage 2 of the calibration with ``kc_gain`` in its search space; this grid is not
  a fit.
* After the decision, for information only: the held-out half at benchmark seed 0 (as ``docs/biology.md``) for
  the default and for the sparse point (``kc_gain < 1``) with the best J3.
* Before this design was written, six points (``kc_gain`` 0.35, 0.5, 0.7 x ``mbon_gain`` 0.837, 2.0) were
  scored on the calibration half at seed 1 only, without the sanity terms (:data:`PILOT`): none hit more
  calibration findings than the default (13, 13, 13, 11, 10, 10 of 21 against 14).

Stage 2 refitted with ``kc_gain`` (designed 2026-12-04, session 32, before any of its points was scored)
------------------------------------------------------------------------------------------------------------
The grid above keeps the default's ``mbin_gain`` and ``eta``; a sparser code might need others. The fair test is
stage 2 of :mod:`experiments.calibrate` run again with ``kc_gain`` in its search space
(:data:`experiments.calibrate.MB_SPACE_KC`: ``kc_gain`` from 0.35 to 1, log scale, beside ``mbon_gain``,
``mbin_gain`` and ``eta`` in their ranges), with everything else as the default model's stage 2: objective J3,
calibration seed 1, benchmark seeds 1, 2, 3, 16 Sobol points and 8 in the box around the best, the stage-1 record
fixed. Run as ``python -m experiments.calibrate --stage mushroom_body --mb-objective J3 --mb-space kc --store
STORE [--shard K/2]``; :func:`refit_record` reads the finished store.

* Control, scored in the same way after the search: the refit's best point with ``kc_gain`` set to 1 (does the
  gain matter, or only the other three parameters moved?). The default model is the grid's point (1, 1), scored
  with the same findings and seeds.
* Decision: the sparse code becomes a candidate for the default model only if the refit's best point has
  ``kc_gain`` < 1 and its J3 exceeds both the default's and the control's. Adopting it would then be its own
  change (the default model's documents regenerated, the held-out half reported); nothing is adopted here.
* After the decision, for information only: the held-out half at benchmark seed 0 for the refit's best point.

Run: ``python -m experiments.kc_sparseness [--jobs 2]`` (12 points, about 2.5 minutes each on one core; every
point is kept in the store as it finishes and a rerun resumes from it).
"""
from __future__ import annotations

import argparse
import datetime
import json
import sys
import time
from pathlib import Path

import numpy as np

__all__ = ["KC_GAINS", "MBON_FACTORS", "PILOT", "SEEDS", "base_values", "figure", "main", "point_key", "reading",
           "refit", "refit_reading", "refit_record", "report", "score_point"]

#: Kenyon-cell input gains of the grid (1: the default model).
KC_GAINS = (1.0, 0.7, 0.5, 0.35)
#: Multiples of the default's calibrated mbon_gain.
MBON_FACTORS = (1.0, 2.0, 4.0)
#: Benchmark seeds of each point's calibration-half score (stage 2's).
SEEDS = (1, 2, 3)
#: Benchmark seed of the held-out score reported after the decision (docs/biology.md's).
HELDOUT_SEED = 0
#: The trial run before the design: (kc_gain, mbon_gain) -> calibration hits of 21 at seed 1.
PILOT = {(0.35, 0.837): 10, (0.35, 2.0): 10, (0.5, 0.837): 11, (0.5, 2.0): 13, (0.7, 0.837): 13, (0.7, 2.0): 13}
_SOURCE = "candidate: experiments/kc_sparseness.py (docs/kc_sparseness.md)"


def base_values() -> tuple[dict, tuple]:
    """The calibrated values the grid is built on (stage 1 and the depression-only stage-2 record,
    :func:`experiments.calibrate.depression_only_stage2`, ``eta`` included: the default model's until the
    timing-dependent rule was adopted) and the synapse types."""
    from models.neurons import larval_calibration

    from .calibrate import depression_only_values

    cal = larval_calibration()
    return depression_only_values(cal), tuple(cal.get("synapse_types") or ())


def point_key(kc_gain: float, factor: float) -> str:
    """The store's name of a grid point."""
    return f"kc{kc_gain:g}_mbon{factor:g}"


def _network(connectome, values: dict, types):
    import sim

    from .calibrate import larval_model

    m = larval_model(values)
    return sim.Network(connectome, model=m.with_kc_gain(values["kc_gain"], _SOURCE), synapse_types=types,
                       device="numba")


def score_point(connectome, kc_gain: float, factor: float, *, seeds=SEEDS, cascades=None, findings=None,
                split=None, sanity_summary=None, must_show: bool = True) -> dict:
    """Score one grid point as stage 2 scores its points, and its Kenyon-cell codes.

    Parameters
    ----------
    connectome : connectomes.Connectome
    kc_gain, factor : float
        The KCs' input gain and the multiple of the default's ``mbon_gain``.
    seeds : sequence of int
        Benchmark seeds (default :data:`SEEDS`).
    cascades, findings, split : optional
        As for :func:`experiments.calibrate.evaluate` (computed when not given).
    sanity_summary : dict, optional
        A stored sanity summary of this point (then not rerun).
    must_show : bool
        Run the learning must-show (J3); False gives J2 only.

    Returns
    -------
    dict
        :func:`experiments.calibrate.evaluate_seeds`'s record plus ``kc_gain``, ``mbon_factor``, ``kc_odour``
        (KCs responding to pentyl acetate, of ``kcs``) and ``pair`` (the drawn pair's KC codes and overlap).
    """
    from . import biology, calibrate, sanity
    from .biology_learning_rate import odour_drive
    from .biology_null import KC_ODOUR
    from .odour_coding import coding

    findings = biology.load_findings() if findings is None else findings
    split = biology.load_split(findings=findings) if split is None else split
    if cascades is None and sanity_summary is None:
        cascades = sanity.cascade_hits(connectome, [m for m in connectome.modalities if m != "unknown"])
    base, types = base_values()
    values = {**base, "mbon_gain": base["mbon_gain"] * float(factor), "kc_gain": float(kc_gain)}
    t0 = time.perf_counter()
    rec = calibrate.evaluate_seeds(connectome, values, seeds, findings=findings, split=split, cascades=cascades,
                                   synapse_types=types, must_show=must_show)
    if sanity_summary is not None:
        rec["sanity"] = sanity_summary
    net = _network(connectome, values, types)
    code = coding(connectome, [KC_ODOUR], network=net)
    pair = odour_drive(connectome, network=net)
    rec.update({"kc_gain": float(kc_gain), "mbon_factor": float(factor), "kc_odour": code["odours"][0]["kcs"],
                "kcs": code["kcs"], "pair": {k: pair[k] for k in ("kc_a", "kc_b", "kc_shared", "shared_share")},
                "seconds": time.perf_counter() - t0})
    return rec


def _worker(args):  # a pool process: its own connectome
    import connectomes

    kc_gain, factor = args
    return point_key(kc_gain, factor), score_point(connectomes.load("winding2023"), kc_gain, factor)


def _heldout(connectome, kc_gain: float, factor: float) -> dict:
    base, types = base_values()
    return _heldout_values(connectome, {**base, "mbon_gain": base["mbon_gain"] * float(factor),
                                        "kc_gain": float(kc_gain)}, types)


def _heldout_values(connectome, values: dict, types) -> dict:
    """The held-out half at :data:`HELDOUT_SEED` for a model of these values (``kc_gain`` among them)."""
    from . import biology
    from .calibrate import rule_options

    net = _network(connectome, values, types)
    sc = biology.score(net, biology.load_findings(), halves=("heldout",), seed=HELDOUT_SEED, pairing=True,
                       learning_options=rule_options(values["eta"]))
    return sc.hits()


#: Calibration seed of the refit (stage 2's: its Sobol points and the first benchmark seed).
REFIT_SEED = 1


def refit_record(store, connectome=None, *, jobs: int = 1) -> dict:
    """Run (or resume, or only read) stage 2 with ``kc_gain`` searched on ``store``, as the module docstring designs
    it (:func:`experiments.calibrate.refit_mushroom_body` with :data:`experiments.calibrate.MB_SPACE_KC`); the
    stage-2 record plus ``points``, every evaluation of the search."""
    from .calibrate import MB_SPACE_KC, refit_mushroom_body

    return refit_mushroom_body(store, connectome, space=MB_SPACE_KC, jobs=jobs)


def refit(data: dict, store, connectome, *, jobs: int = 1, heldout: bool = True, log=None) -> dict:
    """The refit's part of the report (``data["refit"]``): its record, the control (the best point with
    ``kc_gain`` 1), the best point's KC codes and, after the decision, its held-out half. What is already in
    ``data["refit"]`` for the same best point is kept."""
    from . import biology, calibrate, sanity
    from .biology_learning_rate import odour_drive
    from .biology_null import KC_ODOUR
    from .odour_coding import coding

    rec = refit_record(store, connectome, jobs=jobs)
    best = rec["top"][0]["values"]
    was = data.get("refit") or {}
    keep = was if was.get("best") == best else {}
    out = {"record": {k: v for k, v in rec.items() if k != "points"}, "points": rec["points"], "best": best}
    _, types = base_values()
    values = {**calibrate.FIXED, **rec["fixed"], **best}
    if "control" in keep:
        out["control"] = keep["control"]
    else:
        findings = biology.load_findings()
        split = biology.load_split(findings=findings)
        cascades = sanity.cascade_hits(connectome, [m for m in connectome.modalities if m != "unknown"])
        out["control"] = calibrate.evaluate_seeds(connectome, {**values, "kc_gain": 1.0}, rec["seeds"],
                                                  findings=findings, split=split, cascades=cascades,
                                                  synapse_types=types, must_show=True)
        if log:
            log(f"refit control (kc_gain 1): J3 {out['control']['J']:.3f}")
    if "code" in keep:
        out["code"] = keep["code"]
    else:
        net = _network(connectome, values, types)
        code = coding(connectome, [KC_ODOUR], network=net)
        pair = odour_drive(connectome, network=net)
        out["code"] = {"kc_odour": code["odours"][0]["kcs"], "kcs": code["kcs"],
                       **{k: pair[k] for k in ("kc_a", "kc_b", "kc_shared", "shared_share")}}
    if heldout:
        out["heldout"] = keep.get("heldout") or _heldout_values(connectome, values, types)
    out["adopt"] = bool(best["kc_gain"] < 1 and rec["J"] > data["points"][point_key(1.0, 1.0)]["J"]
                        and rec["J"] > out["control"]["J"])
    return out


def refit_reading(data: dict) -> str:
    """The refit's finding in one paragraph (the README and docs quote it); '' before it was run."""
    from .calibrate import mean_hits

    r = data.get("refit")
    if not r:
        return ""
    rec, b, ctl = r["record"], r["best"], r["control"]
    d = data["points"][point_key(1.0, 1.0)]
    n = _n_calibration(data)
    text = (f"Stage 2 of the calibration refitted with the KCs' input gain in its search space "
            f"({rec['n_evaluations']} points, objective J3) puts its best point at kc_gain {b['kc_gain']:.2f} "
            f"(mbon_gain {b['mbon_gain']:.3g}, mbin_gain {b['mbin_gain']:.3g}, eta {b['eta']:.3g}; "
            f"{r['code']['kc_odour']} of {r['code']['kcs']} KCs to pentyl acetate): J3 = {rec['J']:.3f} "
            f"({_hits_rec(r):.1f} of {n} "
            f"calibration findings), against the default's {d['J']:.3f} and {ctl['J']:.3f} for the same point with "
            f"kc_gain 1 ({mean_hits(ctl['hits_by_seed']):.1f} of {n}). ")
    if r["adopt"]:
        text += ("By the decision fixed before the search, the sparser code is a candidate for the default model; "
                 "it is not adopted here (that needs the default model's documents regenerated).")
    else:
        why = ("its kc_gain is 1" if b["kc_gain"] >= 1 else
               "it does not beat the default" if rec["J"] <= d["J"] else
               "the same point with kc_gain 1 scores as well, so the gain is not what helps")
        text += f"By the decision fixed before the search the default stays: {why}."
    h = r.get("heldout")
    if h:
        text += (f" For information, after the decision: the refit's best point hits {h['hits']} of {h['n']} "
                 f"held-out findings (benchmark seed {HELDOUT_SEED}).")
    return text


def _hits_rec(r: dict) -> float:
    from .calibrate import mean_hits

    best = next(p for p in r["points"] if p["values"] == r["best"])
    return mean_hits(best["hits_by_seed"])


def _refit_lines(data: dict) -> list[str]:
    from .calibrate import mean_hits

    r = data.get("refit")
    if not r:
        return []
    n = _n_calibration(data)
    lines = ["## Stage 2 refitted with kc_gain", "",
             "The design (fixed before any point was scored): the module docstring.", "",
             f"**{refit_reading(data)}**", "",
             "The search's points, best first (each scored at benchmark seeds "
             + ", ".join(map(str, r["record"]["seeds"])) + "):", "",
             "| stage | kc_gain | mbon_gain | mbin_gain | eta | calibration hits (mean over seeds) | "
             "learning must-show met | J2 | J3 |", "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for p in sorted(r["points"], key=lambda p: -p["J"]):
        v = p["values"]
        lines.append(f"| {p['stage']} | {v['kc_gain']:.3f} | {v['mbon_gain']:.3g} | {v['mbin_gain']:.3g} | "
                     f"{v['eta']:.3g} | {mean_hits(p['hits_by_seed']):.2f} of {n} | {_met(p)} | {p['J2']:.3f} | "
                     f"{p['J']:.3f} |")
    ctl = r["control"]
    lines += ["", f"Control, the best point with kc_gain 1: {mean_hits(ctl['hits_by_seed']):.2f} of {n} calibration "
              f"findings, learning must-show {_met(ctl)}, J3 {ctl['J']:.3f}. The best point's KC code: "
              f"{r['code']['kc_odour']} of {r['code']['kcs']} KCs to pentyl acetate; the drawn pair "
              f"{r['code']['kc_a']} and {r['code']['kc_b']} KCs, {r['code']['kc_shared']} shared.", ""]
    return lines


def _best_sparse(data: dict) -> str:
    sparse = {k: p for k, p in data["points"].items() if p["kc_gain"] < 1}
    return max(sparse, key=lambda k: (sparse[k]["J"], -abs(np.log(sparse[k]["kc_gain"]))))


def _n_calibration(data: dict) -> int:
    return int(data["n_calibration"])


def _hits(p: dict) -> float:
    from .calibrate import mean_hits

    return mean_hits(p["hits_by_seed"])


def _met(p: dict) -> str:
    ms = p["learning_must_show_by_seed"]
    return ", ".join(f"{d} {sum(m[d]['met'] for m in ms.values())}/{len(ms)}" for d in next(iter(ms.values())))


def reading(data: dict) -> str:
    """The report's finding in one paragraph (the README and docs quote it)."""
    pts = data["points"]
    d = pts[point_key(1.0, 1.0)]
    best = _best_sparse(data)
    b = pts[best]
    n = _n_calibration(data)
    beats = [k for k, p in pts.items() if p["kc_gain"] < 1 and p["J"] > d["J"]]
    sparsest = pts[point_key(min(KC_GAINS), MBON_FACTORS[0])]
    text = (f"A sparser Kenyon-cell code does not improve the model on the calibration half. With the KCs' input "
            f"gain lowered from 1 to {min(KC_GAINS):g}, the KCs that respond to pentyl acetate fall from "
            f"{d['kc_odour']} to {sparsest['kc_odour']} of {d['kcs']}, but "
            if not beats else
            f"A sparser Kenyon-cell code improves the model's objective on the calibration half: ")
    text += (f"the best sparse point (kc_gain {b['kc_gain']:g}, mbon_gain x {b['mbon_factor']:g}, "
             f"{b['kc_odour']} KCs) scores J3 = {b['J']:.3f} against the default's {d['J']:.3f} "
             f"({_hits(b):.1f} against {_hits(d):.1f} of {n} calibration findings, mean over benchmark seeds "
             f"{', '.join(map(str, data['seeds']))}). ")
    text += (f"{len(beats)} of {sum(1 for p in pts.values() if p['kc_gain'] < 1)} sparse points beat the default."
             if beats else f"None of the {sum(1 for p in pts.values() if p['kc_gain'] < 1)} sparse points beats "
                           "the default, so the default keeps every Kenyon cell's input as it is.")
    h = data.get("heldout")
    if h:
        text += (f" For information, after the decision: on the held-out half (benchmark seed {HELDOUT_SEED}) the "
                 f"default hits {h['default']['hits']} of {h['default']['n']} findings, that sparse point "
                 f"{h['best_sparse']['hits']} of {h['best_sparse']['n']}.")
    return text


def _write(data: dict) -> str:
    from .calibrate import depression_only_note

    pts = data["points"]
    n = _n_calibration(data)
    lines = ["# A sparser Kenyon-cell code: a candidate structure, scored on the calibration half", "",
             f"<!-- written by `python -m experiments.kc_sparseness` on {data['date']}; do not edit -->", "",
             "Design, sources and the trial run before it: the docstring of `experiments/kc_sparseness.py`. "
             "The Kenyon cells' input gain (`kc_gain`, `models.LarvalLIF.with_kc_gain`) is lowered so that a KC "
             "needs more coincident projection-neuron input; the MBONs' input gain is raised with it (a sparser "
             "code drives them less). Every other parameter is the default model's. Each point is scored as stage 2 "
             "of the calibration scores its points (objective J3 of `experiments/calibrate.py`: the calibration "
             f"half, pairing findings included, {n} findings, benchmark seeds "
             f"{', '.join(map(str, data['seeds']))}; sanity terms at seed {data['seeds'][0]}; the learning "
             "must-show at each seed). The default model is the point kc_gain 1, mbon_gain x 1.",
             *(["", depression_only_note()] if depression_only_note() else []), "",
             f"**{reading(data)}**", "",
             "| kc_gain | mbon_gain | KCs to pentyl acetate | drawn pair: KCs to A, B, both | calibration hits "
             "(mean over seeds) | learning must-show met | modalities reaching | rho | J3 |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for k, p in pts.items():
        pr = p["pair"]
        mark = " (default)" if k == point_key(1.0, 1.0) else ""
        lines.append(f"| {p['kc_gain']:g}{mark} | {p['values']['mbon_gain']:.3g} (x {p['mbon_factor']:g}) | "
                     f"{p['kc_odour']} of {p['kcs']} | {pr['kc_a']}, {pr['kc_b']}, {pr['kc_shared']} | "
                     f"{_hits(p):.2f} of {n} | {_met(p)} | {p['sanity']['modalities_reaching']} of "
                     f"{p['sanity']['n_modalities']} | {p['sanity']['rho']:+.2f} | {p['J']:.3f} |")
    d, b = pts[point_key(1.0, 1.0)], pts[_best_sparse(data)]
    lost = sorted(set(d["hits_by_seed"][str(data["seeds"][0])]) - set(b["hits_by_seed"][str(data["seeds"][0])]))
    won = sorted(set(b["hits_by_seed"][str(data["seeds"][0])]) - set(d["hits_by_seed"][str(data["seeds"][0])]))
    lines += ["", f"Calibration findings at seed {data['seeds'][0]}, the best sparse point against the default: "
              f"lost {', '.join(lost) or 'none'}; gained {', '.join(won) or 'none'}.", "",
              "![KC code and objective](figures/kc_sparseness/grid.png)", ""]
    h = data.get("heldout")
    if h:
        gain = sorted(set(h["best_sparse"]["hit_ids"]) - set(h["default"]["hit_ids"]))
        loss = sorted(set(h["default"]["hit_ids"]) - set(h["best_sparse"]["hit_ids"]))
        lines += ["## The held-out half, after the decision", "",
                  f"Scored once the decision above was made, for information; nothing was chosen on it. Benchmark "
                  f"seed {HELDOUT_SEED}, as docs/biology.md: the default {h['default']['hits']} of "
                  f"{h['default']['n']}, the best sparse point {h['best_sparse']['hits']} of {h['best_sparse']['n']} "
                  f"(hits only it gets: {', '.join(gain) or 'none'}; hits only the default gets: "
                  f"{', '.join(loss) or 'none'}).", ""]
    lines += _refit_lines(data)
    lines += ["## What this does not test", "",
              "Only one way to a sparser code is tried: a smaller input gain of every KC. The sourced APL -> KC "
              "inhibition, made sixteen times stronger in a trial before the design, sparsened the code from 70 "
              "to 41 of 144 KCs (4 trials; larger factors were not tried), and the model's APL is a spiking "
              "neuron with the same adaptation as every other neuron (the adult APL is a non-spiking interneuron whose activity and inhibition stay local: Amin et al. "
              "2020, eLife 9:e56954, doi:10.7554/eLife.56954, abstract read). A sparser code might also change which "
              "learning rate and MBIN gain are best; " + ("stage 2 refitted with kc_gain (above) tests that, with stage "
              "2's budget of points spread over four parameters instead of three, a coarser search than the one that "
              "chose the default. " if data.get("refit") else "stage 2 was not rerun on it. ") + "The larval KC code's "
              "sparseness is unmeasured, so no point is preferred for its sparseness.", "",
              f"Machine: {data['machine']}; {data['versions'].get('python', '')}; connectome sha256 "
              f"{data['connectome_sha256'][:12]}.", ""]
    return "\n".join(lines)


def figure(data: dict, path) -> None:
    """KCs responding to pentyl acetate against J3, one line per MBON gain factor."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from larvasim.util import atomic_path

    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    for f in MBON_FACTORS:
        pts = sorted((p for p in data["points"].values() if p["mbon_factor"] == f), key=lambda p: p["kc_odour"])
        ax.plot([p["kc_odour"] for p in pts], [p["J"] for p in pts], "o-", label=f"mbon_gain x {f:g}")
    d = data["points"][point_key(1.0, 1.0)]
    ax.plot([d["kc_odour"]], [d["J"]], "k*", ms=14, label="default model")
    ax.set_xlabel(f"KCs responding to pentyl acetate (of {d['kcs']})")
    ax.set_ylabel("J3 (calibration half)")
    ax.legend(frameon=False, fontsize=8)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path, suffix=".tmp.png") as tmp:
        fig.savefig(tmp, dpi=90)
    plt.close(fig)


def report(path="docs/kc_sparseness.md", connectome=None, *, jobs: int = 1, heldout: bool = True, log=None,
           refit_store=None) -> dict:
    """Score the grid (resuming from the store), then write the report, its store and figure.

    Parameters
    ----------
    path : str or Path
        The report; the store is ``<path stem>.json``, the figure ``figures/kc_sparseness/grid.png`` beside it.
        Everything is written atomically; each point is stored as soon as it is scored.
    connectome : connectomes.Connectome, optional
        Default ``connectomes.load("winding2023")``.
    jobs : int
        Processes scoring points at once.
    heldout : bool
        Score the held-out half of the default and the best sparse point (after the decision).
    log : callable, optional
        Called with a line per point.
    refit_store : str or Path, optional
        The store of stage 2 refitted with ``kc_gain`` (:func:`refit_record`; run, resumed or read); without it
        the refit stored before is kept.

    Returns
    -------
    dict
        The store.
    """
    import connectomes
    from larvasim.util import atomic_write_text

    from . import biology, sanity
    from .runs import provenance, run_each

    path = Path(path)
    store = path.with_suffix(".json")
    design = {"kc_gains": list(KC_GAINS), "mbon_factors": list(MBON_FACTORS), "seeds": list(SEEDS)}
    data = json.loads(store.read_text()) if store.is_file() else None
    if data is None or data.get("design") != design or data.get("base") != base_values()[0]:
        data = {"design": design, "base": base_values()[0], "points": {}}  # another design or model: afresh
    c = connectome if connectome is not None else connectomes.load("winding2023")
    grid = [(g, f) for g in KC_GAINS for f in MBON_FACTORS]
    todo = [(g, f) for g, f in grid if point_key(g, f) not in data["points"]]

    def keep(key, rec):
        data["points"][key] = rec
        data["date"] = datetime.date.today().isoformat()
        atomic_write_text(store, json.dumps(data, indent=1, default=float) + "\n")
        if log:
            log(f"{key}: J3 {rec['J']:.3f}, {rec['seconds']:.0f} s")

    cascades = {}

    def local(point):  # in this process: the given connectome, its cascades computed once
        if not cascades:
            cascades["hits"] = sanity.cascade_hits(c, [m for m in c.modalities if m != "unknown"])
        return point_key(*point), score_point(c, *point, cascades=cascades["hits"])

    run_each(todo, keep, worker=_worker, local=local, jobs=jobs)
    data["points"] = {point_key(g, f): data["points"][point_key(g, f)] for g, f in grid}
    findings = biology.load_findings()
    split = biology.load_split(findings=findings)
    data["n_calibration"] = int(sum(1 for f in findings if f.testable and split.get(f.paper) == "calibration"))
    data["seeds"] = list(SEEDS)
    best = _best_sparse(data)
    if heldout and (data.get("heldout") or {}).get("best_sparse_key") != best:
        d = _heldout(c, 1.0, 1.0)
        b = data["points"][best]
        data["heldout"] = {"default": d, "best_sparse": _heldout(c, b["kc_gain"], b["mbon_factor"]),
                           "best_sparse_key": best, "seed": HELDOUT_SEED}
        if log:
            log(f"held-out: default {d['hits']}, {best} {data['heldout']['best_sparse']['hits']}")
    if refit_store is not None:
        data["refit"] = refit(data, refit_store, c, jobs=jobs, heldout=heldout, log=log)
    data.setdefault("date", datetime.date.today().isoformat())
    data.update(provenance(c))
    atomic_write_text(store, json.dumps(data, indent=1, default=float) + "\n")
    figure(data, path.parent / "figures" / "kc_sparseness" / "grid.png")
    atomic_write_text(path, _write(data))
    return data


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m experiments.kc_sparseness",
                                 description="Score a sparser Kenyon-cell code (the KCs' input gain) on the "
                                             "calibration half, as stage 2 of the calibration scores its points.")
    ap.add_argument("--out", default="docs/kc_sparseness.md")
    ap.add_argument("--jobs", type=int, default=1, help="processes (default 1)")
    ap.add_argument("--no-heldout", action="store_true", help="skip the held-out half (scored after the decision)")
    ap.add_argument("--refit-store", metavar="DIR",
                    help="also run (or resume, or read) stage 2 refitted with kc_gain on this store (about 24 points "
                         "of 3.5 minutes each on one core) and report it")
    args = ap.parse_args(argv)
    if args.jobs < 1:
        print("error: --jobs must be at least 1", file=sys.stderr)
        return 2
    report(args.out, jobs=args.jobs, heldout=not args.no_heldout, log=lambda m: print(m, file=sys.stderr),
           refit_store=args.refit_store)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
