"""Receptor rules in the default model? Decided on the calibration half: ``docs/receptor_rules.md``.

The default model gives every synapse its presynaptic neuron's sign (:mod:`models.signs`). The packaged receptor
rules (:mod:`models.receptors`, ``models/data/receptors.csv``) override it where the target's receptor inverts
the transmitter's usual effect; so far one rule, sourced: glu-lOLP senses acetylcholine through a muscarinic
receptor and Galpha-o and is hyperpolarised by light-elicited cholinergic input (Qin et al. 2019, Nat Commun
10:4093, abstract), so the cholinergic synapses onto glu-lOLP inhibit. The rules have been available by name
(``sim.Network(c, receptors="literature")``) but were left out of the default because its parameters had been
fitted without them. Issue #12 asks for the best-sourced sign policy as the default; this module decides
whether the rules join it.

The design (fixed on 2026-12-05, session 34, before either variant was scored with it)
--------------------------------------------------------------------------------------
* Variants: the default model as it stands (``default``), and the same model with the packaged receptor rules
  (``receptors``). Nothing else changes: both stages' calibrated parameters, the synapse types and the
  plasticity rule of the calibration record. No refit.
* Objective: stage 2's own, J3 (:func:`experiments.calibrate.evaluate_seeds` with the learning must-show: the
  whole calibration half with its pairing findings averaged over the record's benchmark seeds 1, 2, 3, the
  sanity terms and the learning term), both variants scored in the same run on the current findings table.
* Decision: the rules join the default if the ``receptors`` variant's J3 is at least the default's (a tie goes
  to the better-sourced signs, as the issue asks) and its sanity must-shows hold (every one of the 12
  modalities reaches a descending pair, rho >= 0.5, at most 5 % of neurons above 100 Hz with every modality
  driven, quiet without a stimulus); otherwise the default stays as it is.
* After the decision, for information only: the held-out half of both variants (benchmark seed 0, as
  ``docs/biology.md``) and the findings one gets and the other misses; and what each variant predicts for the
  two findings the rule acts on directly (:func:`probe`). They decide nothing.
* Adoption itself (the record's ``receptors`` entry, every default-model document regenerated with
  ``python -m experiments.regenerate``, the README) is a separate change, made after this report.

Run: ``python -m experiments.receptor_rules [--out docs/receptor_rules.md] [--jobs 2]`` (two variants, each
three benchmark seeds; a few minutes per seed on one core). The store (``<out stem>.json``) keeps every
variant as it finishes; a rerun with the same default model and findings resumes from it.
"""
from __future__ import annotations

import argparse
import datetime
import json
import sys
import time
from pathlib import Path

__all__ = ["PROBE_IDS", "VARIANTS", "decide", "default_point", "heldout", "probe", "probe_reading", "reading", "report",
           "score_variant"]

#: The two variants: sign-policy options of :class:`sim.Network` (``receptors`` for the packaged rules).
VARIANTS = {"default": {}, "receptors": {"receptors": "literature"}}
#: The sanity must-shows the candidate has to keep (issue #12, section 4; docs/biology.md's must-show table).
MUST = {"modalities": 12, "rho": 0.5, "frac_hot": 0.05, "quiet_hz": 0.1}


def default_point() -> dict:
    """The default model's calibrated point from its record: ``values`` (both stages), ``synapse_types``,
    ``seeds`` (stage 2's benchmark seeds) and ``rule`` (the plasticity rule)."""
    from models.neurons import larval_calibration

    cal = larval_calibration()
    mb = cal["mushroom_body"]
    values = {k: v["value"] for k, v in cal["parameters"].items()}
    values.update({k: v["value"] for k, v in mb["parameters"].items()})
    return {"values": values, "synapse_types": list(cal["synapse_types"]), "seeds": list(mb.get("seeds", [1])),
            "rule": mb.get("rule")}


def score_variant(connectome, name: str, *, findings=None, cascades=None) -> dict:
    """One variant scored as stage 2 scores its points (J3 over the record's seeds)."""
    from . import biology, calibrate, sanity

    if name not in VARIANTS:
        raise ValueError(f"unknown variant {name!r}: choose one of {', '.join(VARIANTS)}")
    p = default_point()
    findings = findings if findings is not None else biology.load_findings()
    split = biology.load_split(findings=findings)
    if cascades is None:
        cascades = sanity.cascade_hits(connectome, [m for m in connectome.modalities if m != "unknown"])
    return calibrate.evaluate_seeds(connectome, p["values"], p["seeds"], findings=findings, split=split,
                                    cascades=cascades, synapse_types=p["synapse_types"], must_show=True,
                                    rule=p["rule"], sign_options=VARIANTS[name])


def must_shows(sanity: dict) -> dict:
    """Whether a sanity summary keeps each must-show of :data:`MUST`."""
    return {"modalities": sanity["modalities_reaching"] >= MUST["modalities"], "rho": sanity["rho"] >= MUST["rho"],
            "frac_hot": sanity["all_frac_hot"] <= MUST["frac_hot"], "quiet": sanity["quiet_hz"] <= MUST["quiet_hz"]}


def decide_above(default_j3: float, candidate: dict) -> dict:
    """A candidate structure's decision (glu_inhibition, edge_threshold): ``adopt`` when its J3 is above the default's
    ``default_j3`` (a tie keeps the default: the candidate adds a parameter) and it keeps every sanity must-show."""
    keeps = must_shows(candidate["sanity"])
    better = candidate["J"] > default_j3
    adopt = bool(better and all(keeps.values()))
    if adopt:
        why = f"J3 {candidate['J']:.3f} against the default's {default_j3:.3f}, every sanity must-show kept"
    elif not better:
        why = (f"J3 {candidate['J']:.3f} is not above the default's {default_j3:.3f}"
               + (" (a tie keeps the default)" if candidate["J"] == default_j3 else ""))
    else:
        why = f"it loses the must-show(s) {', '.join(k for k, v in keeps.items() if not v)}"
    return {"adopt": adopt, "why": why, "must_shows": keeps}


def heldout_sentence(heldout: dict | None, label: str) -> str:
    """The held-out half scored after a decision, in one sentence: the default's hits and, when it was scored, the
    candidate's (named ``label``) with the findings only one of them hits; '' before it is scored."""
    if not heldout:
        return ""
    a = heldout["default"]
    text = (f"For information, after the decision: on the held-out half (benchmark seed 0) the default hits "
            f"{a['hits']} of {a['n']}")
    if "candidate" in heldout:
        b = heldout["candidate"]
        only_c = sorted(set(b["hit_ids"]) - set(a["hit_ids"]))
        only_d = sorted(set(a["hit_ids"]) - set(b["hit_ids"]))
        text += (f", {label} {b['hits']} of {b['n']}"
                 + (f" (only with it: {', '.join(only_c) or 'none'}; only without: {', '.join(only_d) or 'none'})"
                    if only_c or only_d else " (the same findings)"))
    return text + "."


def decide(default: dict, candidate: dict) -> dict:
    """The design's decision from the two variants' records: ``adopt`` and why."""
    keeps = must_shows(candidate["sanity"])
    better = candidate["J"] >= default["J"]
    adopt = bool(better and all(keeps.values()))
    if adopt:
        why = (f"J3 {candidate['J']:.3f} against the default's {default['J']:.3f}"
               + (" (a tie goes to the better-sourced signs)" if candidate["J"] == default["J"] else "")
               + ", every sanity must-show kept")
    elif not better:
        why = f"J3 {candidate['J']:.3f} is below the default's {default['J']:.3f}"
    else:
        why = f"it loses the must-show(s) {', '.join(k for k, v in keeps.items() if not v)}"
    return {"adopt": adopt, "why": why, "must_shows": keeps}


def heldout(connectome, name: str) -> dict:
    """The held-out half of one variant at benchmark seed 0, scored as docs/biology.md scores the default model
    (:func:`experiments.biology_report.default_network`, plus the variant's sign options): hits, n, hit ids."""
    import sim

    from . import biology

    net = sim.Network(connectome, device="numba", **VARIANTS[name])
    return biology.score(net, biology.load_findings(), halves=("heldout",), seed=0, pairing=True).hits()


#: The findings the rule acts on directly (light and the two lOLPs, Qin et al. 2019), looked at per variant.
PROBE_IDS = ("vis-01", "vis-02")


def probe(connectome, seed: int = 1) -> dict:
    """What each variant predicts for :data:`PROBE_IDS` at one benchmark seed (stage 2's first): per variant and
    finding, the prediction, the effect and the reference rate (Hz). An analysis after the decision."""
    import sim

    from . import biology

    fs = [f for f in biology.load_findings() if f.id in PROBE_IDS]
    out = {}
    for name, options in VARIANTS.items():
        t = biology.score(sim.Network(connectome, device="numba", **options), fs, seed=seed).table
        out[name] = {r["id"]: {"predicted": r["predicted"], "effect_hz": float(r["effect_hz"]),
                               "reference_hz": float(r["reference_hz"]), "status": r["status"]}
                     for r in t.to_dict("records")}
    return {"seed": int(seed), "findings": out}


def probe_reading(data: dict) -> str:
    """The probe in one paragraph: why the rule does not turn vis-02 into a hit."""
    p = data.get("probe")
    if not p:
        return ""
    d, r = p["findings"]["default"]["vis-02"], p["findings"]["receptors"]["vis-02"]
    return (f"The rule acts where it should, and still cannot hit vis-02 (light hyperpolarises glu-lOLP): at "
            f"benchmark seed {p['seed']}, without the rule light drives glu-lOLP from {d['reference_hz']:.2f} Hz up "
            f"by {d['effect_hz']:+.2f} Hz (predicted {d['predicted']}, the wrong sign); with it glu-lOLP fires at "
            f"{r['reference_hz']:.2f} Hz without light and changes by {r['effect_hz']:+.2f} Hz with it "
            f"(predicted {r['predicted'].replace('_', ' ')}). The finding's reference drives cha-lOLP (its "
            f"background, a modelling choice) to give glu-lOLP a rate to fall from; the rule inverts every "
            f"cholinergic synapse onto glu-lOLP, cha-lOLP's too (the paper names the receptor, not which inputs it "
            f"serves), so glu-lOLP is silent with and without light, and a firing rate cannot fall below zero: "
            f"the benchmark reads rates, so the hyperpolarisation of a silent neuron does not show. A limit of the "
            f"row and of the readout (both fixed before calibration), noticed after the decision.")


def _mean_hits(rec: dict) -> float:
    from .calibrate import mean_hits

    return mean_hits(rec["hits_by_seed"])


def _differ(a: dict, b: dict) -> dict:
    """Per seed: the calibration findings the candidate gets and the default misses (``gains``), and back."""
    out = {}
    for s in a["hits_by_seed"]:
        ha, hb = set(a["hits_by_seed"][s]), set(b["hits_by_seed"][s])
        out[s] = {"gains": sorted(hb - ha), "losses": sorted(ha - hb)}
    return out


def reading(data: dict) -> str:
    """The report's result in one paragraph."""
    d, r = data["variants"]["default"], data["variants"]["receptors"]
    dec = data["decision"]
    diff = data["differ"]
    gains = sorted({i for v in diff.values() for i in v["gains"]})
    losses = sorted({i for v in diff.values() for i in v["losses"]})
    text = (f"On stage 2's objective (J3, benchmark seeds {', '.join(d['hits_by_seed'])}) the default model with the "
            f"packaged receptor rules scores {r['J']:.3f} ({_mean_hits(r):.1f} calibration findings, mean over "
            f"seeds) against the default's {d['J']:.3f} ({_mean_hits(d):.1f}); it gains "
            f"{', '.join(gains) or 'no finding'} and loses {', '.join(losses) or 'none'} (at any seed). By the "
            f"decision fixed before the run, the rules {'join' if dec['adopt'] else 'do not join'} the default "
            f"model: {dec['why']}.")
    h = data.get("heldout")
    if h:
        a, b = h["default"], h["receptors"]
        only_r = sorted(set(b["hit_ids"]) - set(a["hit_ids"]))
        only_d = sorted(set(a["hit_ids"]) - set(b["hit_ids"]))
        text += (f" For information, after the decision: on the held-out half (benchmark seed 0) the default hits "
                 f"{a['hits']} of {a['n']}, with the rules {b['hits']} of {b['n']}"
                 + (f" (only with the rules: {', '.join(only_r)}; only without: {', '.join(only_d)})"
                    if only_r or only_d else " (the same findings)") + ".")
    return text


def _row(name: str, rec: dict) -> str:
    s = rec["sanity"]
    met = sum(v for m in rec["learning_must_show_by_seed"].values() for v in (x["met"] for x in m.values()))
    n = sum(len(m) for m in rec["learning_must_show_by_seed"].values())
    return (f"| {name} | {rec['J']:.3f} | {rec['J2']:.3f} | {_mean_hits(rec):.2f} | "
            f"{s['modalities_reaching']}/{s['n_modalities']} | {s['rho']:+.2f} | {100 * s['all_frac_hot']:.1f} % | "
            f"{s['quiet_hz']:.3f} | {met} of {n} |")


def _write(data: dict) -> str:
    lines = [
        "# Receptor rules in the default model? Decided on the calibration half",
        "",
        f"<!-- written by `python -m experiments.receptor_rules` on {data['date']}; do not edit -->",
        "",
        "The packaged receptor rules (`models/data/receptors.csv`, one rule so far: cholinergic input to glu-lOLP "
        "inhibits through a muscarinic receptor, Qin et al. 2019, Nat Commun 10:4093, read in the abstract) "
        "override the presynaptic sign where the target's receptor inverts it. Design, decision rule and sources: "
        "`experiments/receptor_rules.py` (fixed before either variant was scored). Both variants keep the "
        "calibration record's parameters and plasticity rule; no refit.",
        "",
        f"**{reading(data)}**",
        "",
        *([probe_reading(data), ""] if data.get("probe") else []),
        "| variant | J3 | J2 | calibration findings (mean over seeds) | modalities to a DN pair | rho | share > "
        "100 Hz, all modalities | rate without stimulus (Hz) | learning must-show met (pairings x seeds) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        _row("default (presynaptic signs)", data["variants"]["default"]),
        _row("with the receptor rules", data["variants"]["receptors"]),
        "",
        "Calibration findings that differ, per benchmark seed:",
        "",
        "| seed | only with the rules | only without |",
        "| --- | --- | --- |",
    ]
    for s, v in data["differ"].items():
        lines.append(f"| {s} | {', '.join(v['gains']) or '-'} | {', '.join(v['losses']) or '-'} |")
    lines += ["", f"Default model fingerprint `{data['model']}`; findings `{data['findings']}`; {data['machine']}; "
              f"run time {sum(v['seconds'] for v in data['variants'].values()):.0f} s of scoring.", ""]
    return "\n".join(lines)


def report(path="docs/receptor_rules.md", connectome=None, *, heldout_half: bool = True, jobs: int = 1,
           log=None) -> dict:
    """Score both variants (resuming from the store), decide, score the held-out half after the decision, and
    write the report and its store (``<path stem>.json``)."""
    import connectomes
    from larvasim.util import atomic_write_text

    from .runs import model_store, provenance, run_each

    path = Path(path)
    c = connectome if connectome is not None else connectomes.load("winding2023")
    store, data = model_store(path, variants={})

    def keep(name, rec, seconds):
        rec["seconds"] = float(seconds)
        data["variants"][name] = rec
        data["date"] = datetime.date.today().isoformat()
        atomic_write_text(store, json.dumps(data, indent=1, default=str) + "\n")
        if log:
            log(f"{name}: J3 {rec['J']:.3f} ({seconds:.0f} s)")

    def local(name):
        t0 = time.perf_counter()
        return name, score_variant(c, name), time.perf_counter() - t0

    run_each([n for n in VARIANTS if n not in data["variants"]], keep, worker=_worker, local=local, jobs=jobs)
    d, r = data["variants"]["default"], data["variants"]["receptors"]
    data["decision"] = decide(d, r)
    data["differ"] = _differ(d, r)
    if heldout_half and not data.get("heldout"):
        data["heldout"] = {n: heldout(c, n) for n in VARIANTS}
        if log:
            log("held-out half scored (after the decision)")
    if not data.get("probe"):
        data["probe"] = probe(c, seed=default_point()["seeds"][0])
    data.setdefault("date", datetime.date.today().isoformat())
    data.update(provenance(c))
    atomic_write_text(store, json.dumps(data, indent=1, default=str) + "\n")
    atomic_write_text(path, _write(data))
    return data


def _worker(name):  # a pool process: its own connectome
    import connectomes

    t0 = time.perf_counter()
    return name, score_variant(connectomes.load("winding2023"), name), time.perf_counter() - t0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m experiments.receptor_rules",
                                 description="Decide on the calibration half whether the packaged receptor rules "
                                             "join the default model (docs/receptor_rules.md).")
    ap.add_argument("--out", default="docs/receptor_rules.md")
    ap.add_argument("--jobs", type=int, default=1, help="processes (default 1; 2 scores both variants at once)")
    ap.add_argument("--no-heldout", action="store_true", help="skip the held-out half (scored after the decision)")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    data = report(args.out, heldout_half=not args.no_heldout, jobs=args.jobs, log=lambda m: print(m, flush=True))
    print(f"wrote {args.out}: {'adopt' if data['decision']['adopt'] else 'keep the default'} "
          f"({time.perf_counter() - t0:.0f} s)")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
