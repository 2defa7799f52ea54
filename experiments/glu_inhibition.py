"""Glutamatergic inhibition weighed apart from GABAergic inhibition? Decided on the calibration half.

Writes ``docs/glu_inhibition.md`` (with ``docs/glu_inhibition.json``, the store).

Why this candidate
------------------
The default larval model gives every inhibitory synapse the same weight, ``inh_scale`` (3.7) times an excitatory
one, whatever the presynaptic transmitter. Two kinds of neurons share that factor: GABAergic ones (the APL,
most inhibitory MBONs, the broad, choosy and keystone antennal-lobe LNs, some MB feedback neurons) and
glutamatergic ones (MBON-e2, -i1, -j1, -k1, the picky LNs, glu-lOLP, FLON, some MB feedback neurons). That
glutamate inhibits at all is the sign table's assumption (:mod:`models.transmitters`: the glutamate-gated chloride
channel GluCl, shown for glutamatergic antennal-lobe LNs of adult flies by Liu & Wilson 2013, PNAS 110:10294;
excitatory ionotropic glutamate receptors are expressed in the fly CNS too), and GABA acts through other
receptors (GABA-A and GABA-B: in adult antennal-lobe projection neurons, Wilson & Laurent 2005, J Neurosci
25:9069, doi:10.1523/JNEUROSCI.2070-05.2005, abstract read). No larval measurement compares the two. So the
candidate adds one calibrated parameter, ``glu_scale``: a factor on every inhibitory synapse of a glutamatergic
neuron, on top of ``inh_scale`` (:meth:`models.LarvalLIF.with_glu_scale`). ``glu_scale = 1`` is the default model;
0 leaves glutamatergic neurons without a fast effect.

Where the idea came from: docs/biology.md's wiring column (session 36) puts two held-out misses on inhibition that
the parameters, not the wiring, make strong or weak (the MBONs' inhibition of MBON-m1 in mb-esc21-02 / -05; the
antennal-lobe LNs' in olf-asa09-03). Those neurons mix both transmitters, and the held-out results have been seen
for many sessions; so the candidate is decided on the calibration half alone, by the rule below.

The design, fixed before any point was scored (2026-12-05, session 37)
---------------------------------------------------------------------
* Step 1, a screen on stage 1's objective: ``glu_scale`` at each value of :data:`GRID` (0, and 2 ** (k / 2) for
  k = -6..6: 1/8 to 8), every other parameter the calibration record's stage-1 point, scored exactly as stage 1
  scored its structures (:func:`experiments.calibrate.evaluate`: objective J, calibration half without the pairing
  findings, seed 1, the MBON and MBIN gains at 1, the record's synapse types). The point 1 is the default model's
  stage-1 point and must reproduce its recorded J.
* The screen's best value is the one with the highest J (rounded to 6 decimals); a tie goes to the value nearest
  1 (on a log scale; 0 farthest). If that value is 1, the default stays and step 2 is not run.
* Step 2: the best screened value scored as stage 2 scores its points (:func:`experiments.calibrate.evaluate_seeds`,
  objective J3: the calibration half with its pairing findings at benchmark seeds 1, 2, 3, the sanity terms and
  the learning must-show), with the record's stage-2 parameters and plasticity rule, against the default model
  scored in the same run.
* Decision: ``glu_scale`` joins the default model if its J3 is above the default's (a tie keeps the default: the
  candidate adds a parameter) and every sanity must-show holds (:func:`experiments.receptor_rules.must_shows`).
  No refit of the other parameters: a gain here would make ``glu_scale`` a candidate for a refit, decided then.
* After the decision, for information only: the held-out half at benchmark seed 0 (as docs/biology.md) for the
  default model and, when step 2 ran, for the candidate.
* Adoption itself (the record, every default-model document regenerated) would be a separate change.

Run: ``python -m experiments.glu_inhibition [--out docs/glu_inhibition.md] [--jobs 2]`` (the screen: about a
minute; step 2: two variants, each three benchmark seeds, a few minutes per seed on one core). The store keeps
every point as it finishes; a rerun with the same default model and findings resumes from it.
"""
from __future__ import annotations

import argparse
import datetime
import json
import math
import sys
import time
from pathlib import Path

__all__ = ["GRID", "SOURCE", "best_screened", "decide", "glutamatergic", "heldout_text", "reading", "report",
           "screen_point", "score_variant", "stage1_point"]

#: The screened values of ``glu_scale`` (design above).
GRID = (0.0,) + tuple(round(2 ** (k / 2), 6) for k in range(-6, 7))
#: The source recorded with ``glu_scale`` in the candidate's model.
SOURCE = "candidate: experiments/glu_inhibition.py (docs/glu_inhibition.md)"


def stage1_point() -> dict:
    """The calibration record's stage-1 point: ``values`` (the structure's parameters), ``synapse_types``,
    ``seed`` and the recorded ``J``."""
    from models.neurons import larval_calibration

    cal = larval_calibration()
    return {"values": {k: v["value"] for k, v in cal["parameters"].items()},
            "synapse_types": list(cal["synapse_types"]), "seed": int(cal["seed"]), "J": float(cal["J"])}


def glutamatergic(connectome) -> dict:
    """How much of the model's inhibition is glutamatergic: inhibitory neurons and their synapses (of the record's
    synapse types) by transmitter, under the literature signs."""
    import numpy as np

    from models.signs import assign_signs

    a = assign_signs(connectome, "literature")
    w = connectome.weights(tuple(stage1_point()["synapse_types"])).tocsr()
    out_syn = np.asarray(w.sum(axis=1)).ravel()
    inh = np.asarray(a.signs) < 0
    tx = np.asarray(a.transmitters, dtype=object)
    res = {}
    for name in ("glutamate", "GABA"):
        m = inh & (tx == name)
        res[name] = {"neurons": int(m.sum()), "synapses": int(out_syn[m].sum())}
    res["inhibitory_synapses"] = int(out_syn[inh].sum())
    return res


def screen_point(connectome, glu_scale: float, *, findings=None, split=None, cascades=None) -> dict:
    """One screened value, scored as stage 1 scores its points (design, step 1)."""
    from . import biology, calibrate, sanity

    p = stage1_point()
    findings = findings if findings is not None else biology.load_findings()
    split = split if split is not None else biology.load_split(findings=findings)
    if cascades is None:
        cascades = sanity.cascade_hits(connectome, [m for m in connectome.modalities if m != "unknown"])
    return calibrate.evaluate(connectome, {**p["values"], "glu_scale": float(glu_scale)}, findings=findings,
                              split=split, cascades=cascades, seed=p["seed"], synapse_types=p["synapse_types"])


def best_screened(screen: dict) -> float:
    """The screen's best value (design): the highest J, a tie to the value nearest 1 on a log scale."""
    def dist(g):
        return math.inf if g == 0 else abs(math.log(g))

    return min((float(g) for g in screen), key=lambda g: (-round(screen[_k(g)]["J"], 6), dist(g)))


def _k(g: float) -> str:
    return f"{float(g):g}"


def score_variant(connectome, glu_scale: float | None, *, findings=None, cascades=None) -> dict:
    """The default model (``glu_scale=None``) or the candidate, scored as stage 2 scores its points (J3)."""
    from . import biology, calibrate, sanity
    from .receptor_rules import default_point

    p = default_point()
    findings = findings if findings is not None else biology.load_findings()
    split = biology.load_split(findings=findings)
    if cascades is None:
        cascades = sanity.cascade_hits(connectome, [m for m in connectome.modalities if m != "unknown"])
    values = dict(p["values"]) if glu_scale is None else {**p["values"], "glu_scale": float(glu_scale)}
    return calibrate.evaluate_seeds(connectome, values, p["seeds"], findings=findings, split=split,
                                    cascades=cascades, synapse_types=p["synapse_types"], must_show=True,
                                    rule=p["rule"])


def decide(default: dict, candidate: dict) -> dict:
    """The design's decision from the two J3 records: ``adopt`` and why."""
    from .receptor_rules import decide_above

    return decide_above(default["J"], candidate)


def _heldout(connectome, glu_scale: float | None) -> dict:
    """The held-out half at benchmark seed 0, scored as docs/biology.md scores the default model."""
    import models
    import sim

    from . import biology

    model = models.LarvalLIF() if glu_scale is None else models.LarvalLIF().with_glu_scale(glu_scale, SOURCE)
    net = sim.Network(connectome, model=model, device="numba")
    return biology.score(net, biology.load_findings(), halves=("heldout",), seed=0, pairing=True).hits()


def reading(data: dict) -> str:
    """The report's result in one paragraph."""
    s1 = stage1_point()
    scr = data["screen"]
    best = data["best"]
    one = scr[_k(1.0)]
    hits = {g: len(r["hits"]) for g, r in scr.items()}
    n = data["n_calibration_testable"]
    text = (f"On stage 1's objective (J, seed {s1['seed']}, the calibration half without its pairing findings) "
            f"J ranges from {min(r['J'] for r in scr.values()):.3f} to {max(r['J'] for r in scr.values()):.3f} "
            f"as glu_scale, the weight of glutamatergic inhibition apart from GABAergic, goes from 0 to 8 (calibration findings hit: "
            f"{min(hits.values())} to {max(hits.values())} of {n}); at glu_scale 1, the default model, J = "
            f"{one['J']:.3f} (the record: {s1['J']:.3f}). The screen's best value is {best:.3g}")
    if "decision" not in data:
        return text + ": the default stays (the design runs no second step)."
    d, c = data["variants"]["default"], data["variants"]["candidate"]
    dec = data["decision"]
    text += (f". On stage 2's objective (J3, benchmark seeds {', '.join(d['hits_by_seed'])}) it scores "
             f"{c['J']:.3f} against the default's {d['J']:.3f}; by the decision fixed before the run, glu_scale "
             f"{'joins' if dec['adopt'] else 'does not join'} the default model: {dec['why']}.")
    return text


def heldout_text(data: dict) -> str:
    """The held-out half after the decision, in one sentence (empty before it is scored)."""
    from .receptor_rules import heldout_sentence

    return heldout_sentence(data.get("heldout"), f"glu_scale {data['best']:.3g}")


def _write(data: dict) -> str:
    from .receptor_rules import _differ, _row

    g = data["glutamatergic"]
    one = set(data["screen"][_k(1.0)]["hits"])
    lines = [
        "# Glutamatergic inhibition weighed apart? Decided on the calibration half",
        "",
        f"<!-- written by `python -m experiments.glu_inhibition` on {data['date']}; do not edit -->",
        "",
        "The candidate: one more calibrated parameter, `glu_scale`, a factor on every inhibitory synapse of a "
        "glutamatergic neuron on top of `inh_scale` (`models.LarvalLIF.with_glu_scale`); 1 is the default model. "
        f"Under the literature signs {g['glutamate']['neurons']} of the inhibitory neurons are glutamatergic, "
        f"with {g['glutamate']['synapses']:,} of the {g['inhibitory_synapses']:,} inhibitory output synapses "
        f"({100 * g['glutamate']['synapses'] / g['inhibitory_synapses']:.0f} %; GABAergic: "
        f"{g['GABA']['neurons']} neurons, {g['GABA']['synapses']:,} synapses; axo-dendritic synapses, the model's). "
        "Why, the design and the decision rule (fixed before any point was scored): `experiments/glu_inhibition.py`.",
        "",
        f"**{reading(data)}**",
        "",
        *([heldout_text(data), ""] if data.get("heldout") else []),
        "## Step 1: the screen (stage 1's objective J)",
        "",
        "| glu_scale | J | calibration findings hit | modalities to a DN pair | rho | share > 100 Hz, all "
        "modalities | gains against glu_scale 1 | losses |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for key, r in sorted(data["screen"].items(), key=lambda kv: float(kv[0])):
        s, h = r["sanity"], set(r["hits"])
        lines.append(f"| {float(key):.3g} | {r['J']:.3f} | {len(h)} of {data['n_calibration_testable']} | "
                     f"{s['modalities_reaching']}/{s['n_modalities']} | {s['rho']:+.2f} | "
                     f"{100 * s['all_frac_hot']:.1f} % | {', '.join(sorted(h - one)) or '-'} | "
                     f"{', '.join(sorted(one - h)) or '-'} |")
    if "variants" in data:
        d, c = data["variants"]["default"], data["variants"]["candidate"]
        lines += ["", "## Step 2: the best screened value on stage 2's objective (J3)", "",
                  "| variant | J3 | J2 | calibration findings (mean over seeds) | modalities to a DN pair | rho | "
                  "share > 100 Hz, all modalities | rate without stimulus (Hz) | learning must-show met "
                  "(pairings x seeds) |",
                  "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
                  _row("default (glu_scale 1)", d), _row(f"glu_scale {data['best']:.3g}", c),
                  "", "Calibration findings that differ, per benchmark seed:", "",
                  "| seed | only with the candidate | only with the default |", "| --- | --- | --- |"]
        for s, v in _differ(d, c).items():
            lines.append(f"| {s} | {', '.join(v['gains']) or '-'} | {', '.join(v['losses']) or '-'} |")
    secs = sum(r["seconds"] for r in data["screen"].values()) + sum(
        v["seconds"] for v in (data.get("variants") or {}).values())
    lines += ["", f"Default model fingerprint `{data['model']}`; findings `{data['findings']}`; {data['machine']}; "
              f"run time {secs:.0f} s of scoring.", ""]
    return "\n".join(lines)


def report(path="docs/glu_inhibition.md", connectome=None, *, heldout_half: bool = True, jobs: int = 1,
           log=None) -> dict:
    """Run the design (resuming from the store): the screen, the best value's J3 against the default's, the
    decision, the held-out half after it; write the report and its store (``<path stem>.json``)."""
    import connectomes
    from larvasim.util import atomic_write_text

    from . import biology, sanity
    from .runs import model_store, provenance, run_each

    path = Path(path)
    c = connectome if connectome is not None else connectomes.load("winding2023")
    store, data = model_store(path, screen={}, variants={})

    def save():
        data["date"] = datetime.date.today().isoformat()
        atomic_write_text(store, json.dumps(data, indent=1, default=str) + "\n")

    findings = biology.load_findings()
    split = biology.load_split(findings=findings)
    cascades = sanity.cascade_hits(c, [m for m in c.modalities if m != "unknown"])
    for g in GRID:
        if _k(g) not in data["screen"]:
            rec = screen_point(c, g, findings=findings, split=split, cascades=cascades)
            data["screen"][_k(g)] = rec
            save()
            if log:
                log(f"glu_scale {g:g}: J {rec['J']:.3f} ({len(rec['hits'])} hits, {rec['seconds']:.0f} s)")
    data["n_calibration_testable"] = int(sum(1 for f in findings if f.testable and f.test != "pairing"
                                             and split.get(f.paper) == "calibration"))
    data["best"] = best_screened(data["screen"])
    data["glutamatergic"] = glutamatergic(c)
    if data["best"] != 1.0:
        def keep(name, rec, seconds):
            rec["seconds"] = float(seconds)
            data["variants"][name] = rec
            save()
            if log:
                log(f"{name}: J3 {rec['J']:.3f} ({seconds:.0f} s)")

        def local(name):
            t0 = time.perf_counter()
            return name, score_variant(c, _variant(name, data["best"]), cascades=cascades), time.perf_counter() - t0

        todo = [(n, data["best"]) for n in ("default", "candidate") if n not in data["variants"]]
        run_each(todo, keep, worker=_worker, local=lambda it: local(it[0]), jobs=jobs)
        data["decision"] = decide(data["variants"]["default"], data["variants"]["candidate"])
    else:
        data.pop("variants", None)
        data.pop("decision", None)
    if heldout_half and not data.get("heldout"):
        data["heldout"] = {"default": _heldout(c, None)}
        if "decision" in data:
            data["heldout"]["candidate"] = _heldout(c, data["best"])
        if log:
            log("held-out half scored (after the decision)")
    data.update(provenance(c))
    save()
    atomic_write_text(path, _write(data))
    return data


def _variant(name: str, best: float) -> float | None:
    return None if name == "default" else best


def _worker(item):  # a pool process: its own connectome
    import connectomes

    name, best = item
    t0 = time.perf_counter()
    return name, score_variant(connectomes.load("winding2023"), _variant(name, best)), time.perf_counter() - t0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m experiments.glu_inhibition",
                                 description="Decide on the calibration half whether glutamatergic inhibition is "
                                             "weighed apart in the default model (docs/glu_inhibition.md).")
    ap.add_argument("--out", default="docs/glu_inhibition.md")
    ap.add_argument("--jobs", type=int, default=1, help="processes for step 2 (default 1; 2 scores both variants "
                                                        "at once)")
    ap.add_argument("--no-heldout", action="store_true", help="skip the held-out half (scored after the decision)")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    data = report(args.out, heldout_half=not args.no_heldout, jobs=args.jobs, log=lambda m: print(m, flush=True))
    dec = data.get("decision")
    print(f"wrote {args.out}: {'adopt' if dec and dec['adopt'] else 'keep the default'} "
          f"({time.perf_counter() - t0:.0f} s)")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
