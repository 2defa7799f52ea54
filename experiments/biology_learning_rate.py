"""The benchmark's conditioning findings across learning rates: ``docs/biology_learning_rate.md``.

Most held-out misses of the default model are pairing (conditioning) findings
whose effect leans the published way but stays below the change criterion
(docs/biology.md). Would a larger learning rate ``eta`` of the dopaminergic
plasticity have hit them? This analysis scores every testable pairing finding
of both halves with the default larval model at ``eta`` times each of
:data:`FACTORS` (the calibrated ``eta`` is factor 1) and writes the effect,
its standard error and the verdict for each.

It is an analysis after scoring, not a fit: ``eta`` stays the value stage 2
of the calibration chose on the calibration half (experiments/calibrate.py),
and choosing it here on the held-out half would make that half a calibration
half. The report says how the held-out pairing score would move, so that a
reader can tell a miss of the learning rate from a miss of the model.

It then asks why one pairing moves the learned valence so little: how far a
DAN-i1 pairing lowers its own MBONs' response to the CS+ and to the unpaired
CS- (:func:`specificity`), what an odour does alone to the Kenyon cells and the
MBINs (:func:`odour_drive`), and how the pairing's specificity changes when
each suspected cause is removed in turn and then both together (:func:`counterfactuals`: the MBINs'
odour drive cut; two odours that share no receptor). Last, it asks how far one
pairing could move the learned valence index at all (:func:`pairing_bound`): with every
KC-driven part of its compartment MBONs' response to the CS+ removed and
nothing else, which single-DAN pairings could pass the benchmark's floor. And it scores the pairing findings
at each stage-2 point that ties with the chosen one on the calibration half (:func:`tied_points`,
:func:`tied_scan`): how much of the held-out score the calibration leaves undecided.

Run: ``python -m experiments.biology_learning_rate [--out docs/biology_learning_rate.md] [--reuse-scan]``
(about 18 minutes on 2 cores); the tests rerun it on two factors and the DAN-i1 findings, one tied point on
the DAN-i1 findings, and the specificity, odour-drive, counterfactual and bound parts.
"""
from __future__ import annotations

import argparse
import fnmatch
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from . import biology, odour_coding

__all__ = ["COUNTERFACTUAL_MBIN_GAIN", "FACTORS", "BOUND_USES", "SPECIFICITY_FACTORS", "counterfactual_reading",
           "counterfactuals", "MEASURED_PAIR", "MEASURED_PAIR_USES", "main", "measured_pair", "measured_pair_reading",
           "mechanism_reading", "odour_drive", "pairing_findings", "peaks_reading",
           "per_factor", "pairing_bound", "bound_reading", "reading", "report", "scan", "specificity", "tied_points",
           "tied_reading", "tied_scan"]

#: Multiples of the calibrated learning rate that are scored (1 = the default model).
FACTORS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0)
#: Factors at which the odour-specificity of one pairing is measured (the calibrated rate and the highest).
SPECIFICITY_FACTORS = (1.0, 8.0)


def pairing_findings(findings=None, ids=None) -> list:
    """The testable pairing findings (optionally those whose id is in ``ids``), in table order."""
    findings = biology.load_findings() if findings is None else findings
    return [f for f in findings if f.test == "pairing" and f.testable and (ids is None or f.id in ids)]


def scan(connectome, factors=FACTORS, *, seed: int = 0, ids=None, log=None) -> pd.DataFrame:
    """Score the pairing findings with the default model at ``eta`` x each factor; one row per finding and factor."""
    from .biology_report import default_network
    from .learning import EXPERIMENT_PARAMETERS

    eta0 = float(EXPERIMENT_PARAMETERS["eta"].value)
    net = default_network(connectome)
    findings = pairing_findings(ids=ids)
    split = biology.load_split()
    rows = []
    for k in factors:
        t0 = time.perf_counter()
        sc = biology.score(net, findings, seed=seed, split=split, learning_options={"eta": k * eta0})
        for r in sc.table.to_dict("records"):
            rows.append({"factor": float(k), "eta": k * eta0, "id": r["id"], "half": r["half"],
                         "expect": r["expect"], "predicted": r["predicted"], "effect": r["effect_hz"],
                         "se": r["se_hz"], "status": r["status"]})
        if log:
            log(f"eta x {k:g}: {time.perf_counter() - t0:.0f} s")
    return pd.DataFrame(rows)


def tied_points(cal: dict | None = None) -> list[dict]:
    """Stage 2's best points that score exactly as well as the chosen one on the calibration half.

    From the calibration record's ``top`` list (``models/data/larval_calibration.json``, ``mushroom_body``): the
    points whose calibration accuracy equals the chosen point's at every benchmark seed of stage 2, the chosen
    point (the default model) first. Each: ``values`` (``mbon_gain``, ``mbin_gain``, ``eta``), ``J``, ``rank`` and,
    when the record has one, its plasticity ``rule`` (else the depression-only rule).
    """
    from models.neurons import larval_calibration

    mb = (cal if cal is not None else larval_calibration())["mushroom_body"]
    top = mb["top"]
    best = top[0].get("accuracy_by_seed", {"": top[0]["accuracy"]})
    rule = {"rule": mb["rule"]} if mb.get("rule") else {}
    return [{"rank": i, "values": dict(t["values"]), "J": float(t["J"]), **rule}
            for i, t in enumerate(top) if t.get("accuracy_by_seed", {"": t["accuracy"]}) == best]


def tied_scan(connectome, points, *, seed: int = 0, ids=None, log=None) -> pd.DataFrame:
    """Score the pairing findings with the default model at each of ``points`` (from :func:`tied_points`): its
    ``mbon_gain`` and ``mbin_gain`` on the default model, its ``eta`` for the plasticity. One row per finding and
    point, with the point's ``rank`` in stage 2's list."""
    from .biology_report import default_network, point_network
    from .calibrate import rule_options

    base = default_network(connectome)
    findings, split = pairing_findings(ids=ids), biology.load_split()
    rows = []
    for pt in points:
        t0 = time.perf_counter()
        v = pt["values"]
        sc = biology.score(point_network(connectome, base, v), findings, seed=seed, split=split,
                           learning_options=rule_options(v["eta"], pt.get("rule")))
        for r in sc.table.to_dict("records"):
            rows.append({"rank": int(pt["rank"]), **{k: float(x) for k, x in v.items()}, "id": r["id"],
                         "half": r["half"], "expect": r["expect"], "effect": r["effect_hz"], "se": r["se_hz"],
                         "status": r["status"]})
        if log:
            log(f"stage-2 point {pt['rank']}: {time.perf_counter() - t0:.0f} s")
    return pd.DataFrame(rows)


def tied_reading(rows) -> str:
    """What the choice among equally good calibration points does to the pairing findings, in one sentence."""
    df = pd.DataFrame(rows).rename(columns={"rank": "factor"})  # per_factor groups by "factor"
    pf = per_factor(df).set_index("factor")
    base = pf.loc[0]
    def span(col):
        lo, hi = int(pf[col].min()), int(pf[col].max())
        return f"{lo}" if lo == hi else f"{lo} to {hi}"

    lo, hi = int(pf["heldout_hits"].min()), int(pf["heldout_hits"].max())
    if len(pf) == 1:
        return (f"No other stage-2 point scores exactly as well as the default model on the calibration half at every "
                f"benchmark seed of stage 2, so the calibration half leaves no choice among tied points here; the "
                f"default model gets {int(base['heldout_hits'])} of {int(base['heldout_n'])} held-out pairing findings "
                f"and {int(base['calibration_hits'])} of {int(base['calibration_n'])} calibration ones at the "
                f"benchmark's seed.")
    return (f"The {len(pf)} stage-2 points that score exactly as well on the calibration half at every benchmark "
            f"seed of stage 2 (the default model is the first) get {span('heldout_hits')} of "
            f"{int(base['heldout_n'])} held-out pairing findings (the default model {int(base['heldout_hits'])}) "
            f"and {span('calibration_hits')} of {int(base['calibration_n'])} calibration ones at the benchmark's "
            f"seed: the choice among them, which the calibration half does not decide, moves the held-out pairing "
            f"score by {hi - lo} finding{'' if hi - lo == 1 else 's'}, and none gets more than {hi} of "
            f"{int(base['heldout_n'])}.")


def hits_by(df, keys: list, *, sort: bool = True) -> pd.DataFrame:
    """Hits and scored findings per half (``<half>_hits``, ``<half>_n``) for each group of ``keys`` of the rows."""
    out = []
    for k, g in pd.DataFrame(df).groupby(keys, sort=sort):
        row = dict(zip(keys, k if isinstance(k, tuple) else (k,)))
        for half in biology.HALVES:
            s = g[(g["half"] == half) & g["status"].isin(["hit", "miss"])]
            row[f"{half}_hits"], row[f"{half}_n"] = int((s["status"] == "hit").sum()), len(s)
        out.append(row)
    return pd.DataFrame(out)


def per_factor(df: pd.DataFrame) -> pd.DataFrame:
    """Hits and scored findings per factor and half."""
    out = hits_by(df, ["factor"])
    out["factor"] = out["factor"].astype(float)
    return out


def reading(df: pd.DataFrame) -> str:
    """The result in one sentence (the README and docs quote it)."""
    pf = per_factor(df)
    base = pf[pf["factor"] == 1.0].iloc[0]
    best = pf["heldout_hits"].max()
    at = ", ".join(f"{k:g}" for k in pf.loc[pf["heldout_hits"] == best, "factor"])
    cal_best = pf["calibration_hits"].max()
    cal_at = ", ".join(f"{k:g}" for k in pf.loc[pf["calibration_hits"] == cal_best, "factor"])
    lo, hi = pf["factor"].min(), pf["factor"].max()
    return (f"At the calibrated learning rate the default model gets {int(base['heldout_hits'])} of "
            f"{int(base['heldout_n'])} held-out pairing findings; at {lo:g} to {hi:g} times that rate the best "
            f"is {int(best)} (at {at} times), and on the calibration half {int(base['calibration_hits'])} of "
            f"{int(base['calibration_n'])} at the calibrated rate, at best {int(cal_best)} (at {cal_at} times).")


def peaks_reading(df: pd.DataFrame) -> str:
    """Where each finding's effect in its published direction is largest, as one sentence."""
    df = pd.DataFrame(df)
    sign = {"increase": 1.0, "decrease": -1.0}
    d = df[df["expect"].isin(list(sign)) & np.isfinite(df["effect"].astype(float))].copy()
    d["towards"] = d["effect"].astype(float) * d["expect"].map(sign)
    peak = d.loc[d.groupby("id")["towards"].idxmax(), ["id", "factor"]]
    low = int((peak["factor"] <= 2.0).sum())
    top = float(df["factor"].max())
    grows = int((peak["factor"] == top).sum())
    return (f"For {low} of the {len(peak)} findings that expect a change, the effect in the published direction is "
            f"largest at twice the calibrated rate or less; for {grows} it is largest at the highest rate tried "
            f"({top:g} times).")


def _pairing_specificity(connectome, model, base, eta: float, dan: str, seed: int, n: int, odours=None) -> dict:
    """One ``paired`` run of ``n`` larvae: the fall of the CS+ and CS- responses of ``dan``'s MBONs, and ΔLVI."""
    from . import learning

    net = learning.make_network(connectome, learning.make_protocol("paired"), model=model, signs=base.sign_spec,
                                synapse_types=base.synapse_types, device=base.device, eta=eta)
    run = learning.run_protocol("paired", connectome, n_larvae=n, seed=seed, dan=dan, network=net, progress=False,
                                odours=odours)
    mbons = sorted(run.compartments.mbons_of(dan))
    r = run.responses("MBON")
    g = r[r["name"].isin(mbons)].groupby("larva")[["pre_cs+", "pre_cs-", "test_cs+", "test_cs-"]].sum()
    return {"dan": dan, "mbons": mbons, "larvae": n,
            "fall_cs_plus": float((1 - g["test_cs+"] / g["pre_cs+"]).mean()),
            "fall_cs_minus": float((1 - g["test_cs-"] / g["pre_cs-"]).mean()),
            "delta_lvi": float(run.valence_index()["delta"].mean())}


def _larvae(n_larvae) -> int:
    return int(biology.BENCHMARK_PARAMETERS["pairing_larvae"].value) if n_larvae is None else int(n_larvae)


def specificity(connectome, factors=(1.0, 8.0), *, dan: str = "DAN-i1", seed: int = 0, n_larvae=None) -> list:
    """How odour-specific one pairing is: the fall of the CS+ and the CS- responses of the US's own MBONs.

    For each factor, ``dan`` is paired with an odour in the learning experiments' ``paired`` protocol (the
    benchmark's virtual larvae and seed) with the default model at that multiple of the calibrated ``eta``;
    returns per factor the MBONs of ``dan``'s compartment and the relative fall (1 - test / pre) of their summed
    response to the CS+ and to the CS-, averaged over larvae, and the change of the learned valence index.
    """
    from .biology_report import default_network
    from .learning import EXPERIMENT_PARAMETERS

    base = default_network(connectome)
    eta0 = float(EXPERIMENT_PARAMETERS["eta"].value)
    return [{"factor": float(k), **_pairing_specificity(connectome, base.model, base, k * eta0, dan, seed,
                                                        _larvae(n_larvae))} for k in factors]


#: The two causes :func:`counterfactuals` removes one at a time: the MBINs' input gain scaled by this factor
#: (their odour drive cut), and an odour pair that shares no receptor (the learning experiments' pair shares 3 of 8).
COUNTERFACTUAL_MBIN_GAIN = 0.1


def counterfactuals(connectome, *, dan: str = "DAN-i1", seed: int = 0, n_larvae=None, cases=None) -> list:
    """The pairing's specificity with each suspected cause removed in turn (the calibrated learning rate).

    Rows: the default model; the default model with the MBIN input gain (``mbin_gain``, stage 2) times
    :data:`COUNTERFACTUAL_MBIN_GAIN`, so that odours drive the MBINs far less; and the default model with two
    odours of 8 receptors that share none (``experiments.odours.odour_pair(c, 8, 0)``); and both changes at once.
    Not models anyone should use: probes of why one pairing is not more odour-specific. ``cases`` (indices
    into those four rows) runs only some of them; the first is :func:`specificity` at factor 1, run alike.
    """
    from .biology_report import default_network
    from .learning import EXPERIMENT_PARAMETERS
    from .odours import odour_pair

    base = default_network(connectome)
    eta0 = float(EXPERIMENT_PARAMETERS["eta"].value)
    n = _larvae(n_larvae)
    gain = float(base.model.parameters["mbin_gain"].value) * COUNTERFACTUAL_MBIN_GAIN
    disjoint = odour_pair(connectome, 8, 0, rate=EXPERIMENT_PARAMETERS["odour_rate"].value, seed=seed)
    low = base.model.with_overrides(mbin_gain=gain)
    rows = [("the default model", base.model, None),
             (f"MBIN input gain x {COUNTERFACTUAL_MBIN_GAIN:g}", low, None),
             ("two odours that share no receptor", base.model, disjoint),
             ("both", low, disjoint)]
    keep = range(len(rows)) if cases is None else cases
    return [{"case": rows[i][0], **_pairing_specificity(connectome, rows[i][1], base, eta0, dan, seed, n, rows[i][2])}
            for i in keep]


def counterfactual_reading(rows: list) -> str:
    """The counterfactuals in one sentence: how much each removed cause lowers the CS-'s fall."""
    from .biology_report import _pct as pct

    d, g, o, b = rows
    ratio = lambda r: f"{r['fall_cs_minus'] / r['fall_cs_plus']:.2f}"  # noqa: E731
    pts = lambda r: f"{100 * (d['fall_cs_minus'] - r['fall_cs_minus']):.0f}"  # noqa: E731
    return (f"Removing one cause at a time ({d['dan']}, calibrated rate): with the MBINs' input gain cut to "
            f"{COUNTERFACTUAL_MBIN_GAIN:g} of its value the CS+ falls by {pct(g['fall_cs_plus'])} and the CS- by "
            f"{pct(g['fall_cs_minus'])} (default model: {pct(d['fall_cs_plus'])} and {pct(d['fall_cs_minus'])}; "
            f"ΔLVI {g['delta_lvi']:+.3f} against {d['delta_lvi']:+.3f}); with two odours that share no receptor "
            f"(the learning experiments' pair shares 3 of 8) by {pct(o['fall_cs_plus'])} and "
            f"{pct(o['fall_cs_minus'])} (ΔLVI {o['delta_lvi']:+.3f}). Each lowers the CS-'s fall by {pts(g)} and "
            f"{pts(o)} points; the CS-'s fall is still {ratio(g)} and {ratio(o)} of the CS+'s (default model "
            f"{ratio(d)}). Both removed together: the CS+ falls by {pct(b['fall_cs_plus'])}, the CS- by "
            f"{pct(b['fall_cs_minus'])} ({ratio(b)} of the CS+'s), ΔLVI {b['delta_lvi']:+.3f}: the CS-'s fall drops "
            f"by {pts(b)} points, as much "
            "as the two single removals together. What is left of it has other causes, not separated here: odours "
            "that share no receptor can still share projection neurons and Kenyon cells, and the MBINs keep a tenth "
            "of their input.")


#: The measured odours real larvae are trained with in two-odour designs, whose pairing :func:`measured_pair`
#: measures: the first pair of :data:`experiments.odour_coding.PAIRS` (Weber et al. 2025, eLife 12:RP91387).
MEASURED_PAIR = odour_coding.PAIRS[0]
#: The US of :func:`measured_pair`: one appetitive and one aversive DAN.
MEASURED_PAIR_USES = ("DAN-i1", "DAN-g1")


def measured_pair(connectome, uses=MEASURED_PAIR_USES, *, seed: int = 0, n_larvae=None) -> list:
    """The specificity of one pairing (:func:`specificity`'s measures) with the measured odours of
    :data:`MEASURED_PAIR` (Kreher et al. 2008 responses, :func:`experiments.odours.known_odour`) as CS+ and CS-
    instead of the learning experiments' drawn pair; default model, calibrated rate, one row per US."""
    from .biology_report import default_network
    from .learning import EXPERIMENT_PARAMETERS
    from .odours import known_odour

    base = default_network(connectome)
    eta0 = float(EXPERIMENT_PARAMETERS["eta"].value)
    pair = tuple(known_odour(connectome, name) for name in MEASURED_PAIR)
    return [{"odours": list(MEASURED_PAIR), **_pairing_specificity(connectome, base.model, base, eta0, dan, seed,
                                                                   _larvae(n_larvae), pair)} for dan in uses]


def measured_pair_reading(rows: list, spec: list) -> str:
    """The measured pair's specificity against the drawn pair's (``spec[0]``, the calibrated rate), one sentence."""
    from .biology_report import _pct as pct

    d = spec[0]
    parts = [f"{r['dan']}: the CS+ falls by {pct(r['fall_cs_plus'])}, the CS- by {pct(r['fall_cs_minus'])} "
             f"({r['fall_cs_minus'] / r['fall_cs_plus']:.2f} of the CS+'s), ΔLVI {r['delta_lvi']:+.3f}" for r in rows]
    same = next(r for r in rows if r["dan"] == d["dan"])
    drawn = f"drawn pair, {d['dan']}: {d['fall_cs_minus'] / d['fall_cs_plus']:.2f}, ΔLVI {d['delta_lvi']:+.3f}"
    return (f"With the odours real larvae are trained with ({' and '.join(rows[0]['odours'])}, the pair of Weber et "
            f"al. 2025, at their measured receptor responses) instead of the drawn pair, one {d['dan']} pairing is "
            f"{'less' if same['fall_cs_minus'] / same['fall_cs_plus'] > d['fall_cs_minus'] / d['fall_cs_plus'] else 'more'}"
            f" odour-specific: " + "; ".join(parts) + f" ({drawn}). In the model the two measured odours' "
            "Kenyon-cell codes overlap more than the drawn pair's ([odours.md](odours.md)).")


def odour_drive(connectome, *, seed: int = 0, trials: int = 8, threshold_hz: float = 2.0, network=None) -> dict:
    """What one odour of the learning experiments' pair does by itself, with the default model (no US).

    ``network``: another network on ``connectome`` to drive instead of the default model's.

    Returns the Kenyon cells responding to each odour (mean rate over ``trials`` above ``threshold_hz`` during
    the odour), the share of one odour's responders that respond to the other too, and the MBINs (DANs, OANs,
    ...) the odour alone drives above 1 Hz, with their mean rate.
    """
    from brian2 import ms, second

    from .biology_report import default_network
    from .learning import EXPERIMENT_PARAMETERS
    from .odours import odour_pair

    from connectomes.winding2023 import KC_CELLTYPE, MBIN_CELLTYPE

    net = default_network(connectome) if network is None else network
    a, b = odour_pair(connectome, 8, 3, rate=EXPERIMENT_PARAMETERS["odour_rate"].value, seed=seed)
    kc = connectome.select(celltype=KC_CELLTYPE).indices
    mbin = connectome.select(celltype=MBIN_CELLTYPE).indices
    rates = {}
    for od in (a, b):
        res = net.run(od.drives(connectome, 200 * ms, 1200 * ms), duration=1.4 * second, trials=trials, seed=seed,
                      progress=False)
        rates[od.name] = res.mean_rates(window=(200 * ms, 1200 * ms))["mean_hz"].to_numpy()
    ra, rb = rates[a.name][kc] > threshold_hz, rates[b.name][kc] > threshold_hz
    m = (rates[a.name][mbin] + rates[b.name][mbin]) / 2
    return {"kcs": len(kc), "kc_a": int(ra.sum()), "kc_b": int(rb.sum()), "kc_shared": int((ra & rb).sum()),
            "shared_share": float((ra & rb).sum() / min(ra.sum(), rb.sum())) if min(ra.sum(), rb.sum()) else 0.0,
            "mbins": len(mbin), "mbins_driven": int((m > 1.0).sum()),
            "mbin_driven_mean_hz": float(m[m > 1.0].mean()) if (m > 1.0).any() else 0.0,
            "threshold_hz": threshold_hz, "trials": trials}


#: The US of the benchmark's single-DAN pairing findings (and the calibration half's group of DL1 DANs), whose
#: bound :func:`pairing_bound` measures.
BOUND_USES = ("DAN-i1", "DAN-d1", "DAN-f1", "DAN-g1", "DAN-c1", "DAN-[dfg]1")


def _lvi(v, r_plus, r_minus) -> float:
    den = float((r_plus + r_minus).sum())
    return float((v * (r_plus - r_minus)).sum() / den) if den > 0 else float("nan")


def pairing_bound(connectome, uses=BOUND_USES, *, seed: int = 0, trials: int = 8) -> dict:
    """How far one pairing could move the learned valence index at most, with the default model.

    Each odour of the learning experiments' pair is given alone (``trials`` trials, the default model, no
    plasticity), once as it is and once with the Kenyon cells' output silenced
    (:class:`sim.stimuli.Silence`). An MBON's *KC-driven* response to an odour is its rate minus its rate without
    KC output (at least 0). For each US, the *bound* is the change of the learned valence index
    (:meth:`experiments.learning.LearningRun.valence_index`) if the pairing removed all the KC-driven response of
    the US's compartment MBONs to the CS+ and nothing else: a perfectly odour-specific, complete depression, the
    most any depression of KC -> MBON synapses can do to the index. It is averaged over both odours as CS+ (the
    reciprocal design). MBONs whose compartment's MBINs have unknown or mixed valence have sign 0 and add nothing.

    Returns
    -------
    dict
        ``mbons``: per MBON type of known sign, its sign, mean rate to the two odours, its KC-driven share and the
        share of its input synapses (of the model's synapse types) that come from Kenyon cells;
        ``uses``: per US, its compartment MBONs of known sign and the bound; ``denominator_hz`` (the index's
        denominator, summed rates of all MBONs of known sign to both odours), ``trials``, ``seed``.
    """
    from brian2 import ms, second

    from connectomes.winding2023 import KC_CELLTYPE, MBON_CELLTYPE
    from models.plasticity import derive_compartments, mbon_valence
    from sim.stimuli import Silence

    from .biology_report import default_network
    from .learning import EXPERIMENT_PARAMETERS, mb_names
    from .odours import odour_pair

    net = default_network(connectome)
    n = connectome.neurons
    a, b = odour_pair(connectome, 8, 3, rate=EXPERIMENT_PARAMETERS["odour_rate"].value, seed=seed)
    kc = connectome.select(celltype=KC_CELLTYPE)
    mbon = np.flatnonzero((n["celltype"] == MBON_CELLTYPE).to_numpy())
    names = mb_names(n)[mbon]
    comp = derive_compartments(connectome)
    v = mbon_valence(comp).reindex(names).fillna(0).to_numpy()
    window = (200 * ms, 1200 * ms)
    rate = {}
    for od in (a, b):
        for cut in (False, True):
            stims = od.drives(connectome, *window) + ([Silence(kc)] if cut else [])
            res = net.run(stims, duration=1.4 * second, trials=trials, seed=seed, progress=False)
            rate[od.name, cut] = res.mean_rates(window=window)["mean_hz"].to_numpy()[mbon]
    kc_driven = {o: np.maximum(rate[o, False] - rate[o, True], 0.0) for o in (a.name, b.name)}
    known = v != 0
    den = float((rate[a.name, False] + rate[b.name, False])[known].sum())
    rows = []
    for us in uses:
        mb = set()
        for m in comp.mbins:
            if fnmatch.fnmatchcase(m, us):
                mb |= set(comp.mbons_of(m))
        own = np.isin(names, sorted(mb)) & known
        bounds = []
        for plus, minus in ((a.name, b.name), (b.name, a.name)):
            after = rate[plus, False] - np.where(own, kc_driven[plus], 0.0)
            bounds.append(_lvi(v[known], after[known], rate[minus, False][known])
                           - _lvi(v[known], rate[plus, False][known], rate[minus, False][known]))
        rows.append({"us": us, "mbons": sorted(set(names[own])), "bound": float(np.mean(bounds))})
    w = connectome.weights(net.synapse_types or "all").tocsc()[:, mbon]  # the synapses the model runs
    from_kc = np.asarray(w[kc.indices].sum(axis=0)).ravel()
    total = np.asarray(w.sum(axis=0)).ravel()
    table = []
    for name in sorted(set(names[known])):
        k = names == name
        r = float((rate[a.name, False][k] + rate[b.name, False][k]).mean() / 2)
        d = float((kc_driven[a.name][k] + kc_driven[b.name][k]).mean() / 2)
        table.append({"mbon": name, "sign": int(v[k][0]), "rate_hz": r, "kc_driven_share": d / r if r > 0 else 0.0,
                      "kc_input_share": float(from_kc[k].sum() / total[k].sum()) if total[k].sum() else 0.0})
    return {"mbons": table, "uses": rows, "denominator_hz": den, "trials": int(trials), "seed": int(seed),
            "synapse_types": list(net.synapse_types or ("all",))}


def signed(x: float, digits: int = 3) -> str:
    """``x`` with its sign and ``digits`` decimals; a non-zero value that would print as +/-0.000 is given to one
    significant figure instead (``-1e-04``), so that a tiny effect is not shown as a signed zero."""
    if x != 0 and round(abs(x), digits) == 0:
        return f"{x:+.0e}"
    return f"{x:+.{digits}f}"


def bound_reading(rc: dict, floor: float) -> str:
    """The bound in one sentence: which pairings could at most move the index past the benchmark's floor, and why."""
    u = {r["us"]: r for r in rc["uses"]}
    m = {r["mbon"]: r for r in rc["mbons"]}
    below = [k for k, r in u.items() if abs(r["bound"]) < floor]
    parts = "; ".join(f"{k} {signed(r['bound'])}" for k, r in u.items())

    def why(k):
        mb = u[k]["mbons"]
        if not mb:
            return f"{k}: no MBON of known sign in its compartment"
        return f"{k}: " + ", ".join(f"{x} {m[x]['rate_hz']:.0f} Hz, {100 * m[x]['kc_driven_share']:.0f} % of it "
                                    f"KC-driven ({100 * m[x]['kc_input_share']:.0f} % of its input synapses from KCs)"
                                    for x in mb)
    low = sorted((r for r in rc["mbons"] if r["rate_hz"] >= 5.0 and r["kc_driven_share"] < 0.5),
                 key=lambda r: -r["rate_hz"])
    low_s = ", ".join(f"{r['mbon']} ({r['rate_hz']:.0f} Hz, {100 * r['kc_driven_share']:.0f} % KC-driven)" for r in low)
    return (f"How far one pairing could move the learned valence index at most, if it removed every KC-driven "
            f"part of its compartment MBONs' response to the CS+ and nothing else: {parts}. "
            f"{len(below)} of {len(u)} stay below the benchmark's floor of {floor:g} even then"
            + (f" ({'; '.join(why(k) for k in below)}), so no learning rate or specificity can make their findings "
               "hits with this readout." if below else ".")
            + (f" Strong MBON responses that Kenyon cells hardly drive dilute every pairing's effect on the index: "
               f"{low_s}, of {rc['denominator_hz']:.0f} Hz summed over the {len(m)} MBON types of known sign "
               "and both odours." if low_s else ""))


def mechanism_reading(spec: list, od: dict) -> str:
    """Why the learned valence stays small: the specificity of one pairing and what an odour does alone."""
    first, last = spec[0], spec[-1]
    names = ", ".join(first["mbons"])
    return (f"One pairing is only partly odour-specific in the model. Pairing with {first['dan']} at the calibrated "
            f"rate lowers the response of its compartment's MBONs ({names}) to the CS+ by "
            f"{100 * first['fall_cs_plus']:.0f} % and to the unpaired CS- by {100 * first['fall_cs_minus']:.0f} %; "
            f"at {last['factor']:g} times the rate by {100 * last['fall_cs_plus']:.0f} % and "
            f"{100 * last['fall_cs_minus']:.0f} %. Two reasons show without any US: an odour alone drives "
            f"{od['mbins_driven']} of the {od['mbins']} MBINs above 1 Hz (mean {od['mbin_driven_mean_hz']:.1f} Hz), "
            f"so every odour presentation in training depresses its own synapses in many compartments; and "
            f"{od['kc_shared']} Kenyon cells respond to both odours of the learning experiments' pair "
            f"({100 * od['shared_share']:.0f} % of the smaller set of responders; {od['kc_a']} and {od['kc_b']} of "
            f"{od['kcs']} respond to each), so depressing the CS+'s synapses depresses much of the CS-'s too.")


def _effect_cell(r) -> str:
    mark = {"hit": "hit", "miss": "miss"}.get(r["status"], r["status"])
    return f"{r['effect']:+.3f} ± {r['se']:.3f} ({mark})" if np.isfinite(r["effect"]) else mark


def _tied_rows(tied: dict) -> list[str]:
    pf = per_factor(pd.DataFrame(tied["rows"]).rename(columns={"rank": "factor"})).set_index("factor")
    out = []
    for pt in tied["points"]:
        r, v = pf.loc[pt["rank"]], pt["values"]
        out.append(f"| {pt['rank']}{' (default)' if pt['rank'] == 0 else ''} | {v['mbon_gain']:.3f} | "
                   f"{v['mbin_gain']:.3f} | {v['eta']:.5f} | {pt['J']:.4f} | {int(r['calibration_hits'])} of "
                   f"{int(r['calibration_n'])} | {int(r['heldout_hits'])} of {int(r['heldout_n'])} |")
    return out


def _write(data: dict) -> str:
    df = pd.DataFrame(data["rows"])
    pf = per_factor(df)
    lines = [
        "# Conditioning findings across learning rates",
        "",
        f"<!-- written by `python -m experiments.biology_learning_rate` on {data['date']}; do not edit -->",
        "",
        "Every testable pairing (conditioning) finding of the biology benchmark, scored with the default "
        "larval model at multiples of its calibrated learning rate (eta = "
        f"{data['eta']:.5f}, stage 2 of experiments/calibrate.py), seed {data['seed']}, "
        f"{data['pairing_larvae']} virtual larvae per finding, the benchmark's change criterion. "
        "An analysis after scoring, not a fit: the default model keeps its calibrated rate, which was "
        "chosen on the calibration half; picking a rate here, on the held-out half, would turn that half "
        "into a calibration half.",
        "",
        f"**{reading(df)}**",
        "",
        peaks_reading(df) + " A larger learning rate alone therefore does not turn the benchmark's near-miss "
        "conditioning findings into hits.",
        "",
        mechanism_reading(data["specificity"], data["odour_drive"]),
        "",
        counterfactual_reading(data["counterfactuals"]),
        "",
        *([measured_pair_reading(data["measured_pair"], data["specificity"]), ""] if "measured_pair" in data else []),
        bound_reading(data["bound"], data["min_valence_change"]),
        "",
        "These are limits of the model, not measurements: the larval Kenyon-cell population's sparseness "
        "has not been measured (docs/biology.md), and the model's MBINs take odour input through the "
        "connectome's synapses, scaled by the MBIN gain of stage 2 only. With measured odours the model's "
        "Kenyon-cell codes overlap even more than for the learning experiments' drawn pair "
        "([odours.md](odours.md)).",
        "",
        "## MBONs of known sign: odour response and how much of it Kenyon cells drive",
        "",
        f"One odour alone, {data['bound']['trials']} trials, default model; KC-driven = rate minus rate with the "
        "Kenyon cells' output silenced (at least 0); input synapses of the model's types "
        f"({', '.join(data['bound']['synapse_types'])}).",
        "",
        "| MBON | sign in the index | rate (Hz) | KC-driven | input synapses from KCs |",
        "| --- | --- | --- | --- | --- |",
        *[f"| {r['mbon']} | {r['sign']:+d} | {r['rate_hz']:.1f} | {100 * r['kc_driven_share']:.0f} % | "
          f"{100 * r['kc_input_share']:.0f} % |" for r in data["bound"]["mbons"]],
        "",
        "## Equally good calibration points",
        "",
        "Stage 2 of the calibration chose `mbon_gain`, `mbin_gain` and `eta` as the best of its points by the "
        "objective fixed in advance (J2); several points score the same calibration accuracy (docs/biology.md "
        "calls the choice among them close to arbitrary). Each is scored here on every pairing finding, as above. "
        "An analysis after scoring, not a choice: the default model stays the point the objective picked, and "
        "choosing another here, by its held-out score, would tune on the held-out half.",
        "",
        f"**{tied_reading(data['tied']['rows'])}**",
        "",
        "| stage-2 point | mbon_gain | mbin_gain | eta | J2 | calibration half | held-out half |",
        "| --- | --- | --- | --- | --- | --- | --- |",
        *_tied_rows(data["tied"]),
        "",
        "## Hits per factor",
        "",
        "| eta factor | calibration half | held-out half |",
        "| --- | --- | --- |",
    ]
    for r in pf.itertuples():
        lines.append(f"| {r.factor:g} | {r.calibration_hits} of {r.calibration_n} | {r.heldout_hits} of "
                     f"{r.heldout_n} |")
    lines += ["", "## Effect per finding (mean ± SE over virtual larvae; learned valence index or MBON Hz)", ""]
    factors = sorted(df["factor"].unique())
    lines += ["| finding | half | expect | " + " | ".join(f"x {k:g}" for k in factors) + " |",
              "| --- | --- | --- | " + " | ".join("---" for _ in factors) + " |"]
    for fid, g in df.groupby("id", sort=False):
        g = g.set_index("factor")
        cells = [_effect_cell(g.loc[k]) for k in factors]
        lines.append(f"| {fid} | {g['half'].iloc[0]} | {g['expect'].iloc[0]} | " + " | ".join(cells) + " |")
    scan_s = data.get("scan_wall_time_s", data["wall_time_s"])
    lines += ["", f"Run time: the scan {scan_s:.0f} s (run on {data.get('scan_date', data['date'])}), this whole "
              f"report {data['wall_time_s']:.0f} s. Rerun: `python -m experiments.biology_learning_rate` "
              "(`--reuse-scan` keeps the scan and the tied points' scores of the existing JSON, scans only the pairing "
              "findings they lack, and reruns the rest)."]
    return "\n".join(lines) + "\n"


def _reuse_rows(rows: pd.DataFrame, wanted: list) -> tuple[pd.DataFrame, list]:
    """The stored rows of findings in ``wanted`` (the testable pairing findings now), and the ids they lack."""
    have = set(rows["id"])
    return rows[rows["id"].isin(wanted)].reset_index(drop=True), [i for i in wanted if i not in have]


def _default_point_rows(df: pd.DataFrame, point: dict) -> list:
    """The tied scan's rows of the first point, the default model: the scan's factor-1 rows of ``df``."""
    keys = ("id", "half", "expect", "effect", "se", "status")
    return [{"rank": 0, **point["values"], **{k: r[k] for k in keys}}
            for r in df[df["factor"] == 1.0].to_dict("records")]


def _in_table_order(rows: pd.DataFrame, wanted: list) -> pd.DataFrame:
    """``rows`` ordered as the findings table orders their ids (stable within one id)."""
    order = {fid: k for k, fid in enumerate(wanted)}
    return rows.sort_values("id", key=lambda s: s.map(order), kind="stable").reset_index(drop=True)


def report(path="docs/biology_learning_rate.md", connectome=None, *, factors=FACTORS, seed: int = 0,
           ids=None, spec_factors=SPECIFICITY_FACTORS, reuse_scan: bool = False, log=None) -> dict:
    """Run the scan and write the report and ``<path stem>.json`` (atomically); return the data.

    ``reuse_scan``: keep the scan rows of an existing ``<path stem>.json`` made with the same factors and seed
    (the scan takes about 10 minutes), scan only the pairing findings it lacks (and drop the rows of findings
    no longer in the table), and rerun the specificity, odour-drive, counterfactual and bound parts.
    """
    import datetime

    import connectomes
    from larvasim.util import atomic_write_text

    from .learning import EXPERIMENT_PARAMETERS

    c = connectome if connectome is not None else connectomes.load("winding2023")
    t0 = time.perf_counter()
    path = Path(path)
    old = json.loads(path.with_suffix(".json").read_text()) if reuse_scan and path.with_suffix(".json").is_file() else None
    wanted = [f.id for f in pairing_findings()]
    if old is not None and old["factors"] == [float(k) for k in factors] and old["seed"] == int(seed) and ids is None:
        # the scan of the last run (same factors and seed): its rows of findings still in the table are kept, the
        # findings it lacks are scanned now (a finding's runs do not depend on the others'); the rest is rerun
        df, new_ids = _reuse_rows(pd.DataFrame(old["rows"]), wanted)
        scan_s, scan_date = old.get("scan_wall_time_s", old["wall_time_s"]), old.get("scan_date", old["date"])
        if new_ids:
            t_scan = time.perf_counter()
            df = _in_table_order(pd.concat([df, scan(c, factors, seed=seed, ids=new_ids, log=log)]), wanted)
            scan_s += time.perf_counter() - t_scan
            scan_date = f"{scan_date.split(',')[0]}, extended on {datetime.date.today().isoformat()}"
        if log:
            log(f"scan reused from {path.with_suffix('.json')}; scanned now: {', '.join(new_ids) or 'none'}")
    else:
        t_scan = time.perf_counter()
        df = scan(c, factors, seed=seed, ids=ids, log=log)
        scan_s, scan_date = time.perf_counter() - t_scan, datetime.date.today().isoformat()
    points = tied_points()
    old_tied = (old or {}).get("tied") or {}
    if old is not None and old_tied.get("points") == points and old["seed"] == int(seed) and ids is None:
        tied, new_ids = _reuse_rows(pd.DataFrame(old_tied["rows"]), wanted)  # reused with the scan
        if new_ids:
            first = _default_point_rows(df[df["id"].isin(new_ids)], points[0])
            more = tied_scan(c, points[1:], seed=seed, ids=new_ids, log=log)
            tied = pd.concat([tied, pd.DataFrame(first), more])
            tied = _in_table_order(tied, wanted).sort_values("rank", kind="stable")
        tied_rows = json.loads(tied.to_json(orient="records"))
    else:
        # the first point is the default model: its rows are the scan's factor-1 rows
        first = _default_point_rows(df, points[0])
        more = tied_scan(c, points[1:], seed=seed, ids=ids, log=log)
        tied_rows = first + json.loads(more.to_json(orient="records"))
    spec = specificity(c, spec_factors, seed=seed)
    od = odour_drive(c, seed=seed)
    cf = counterfactuals(c, seed=seed)
    mp = measured_pair(c, seed=seed)
    rc = pairing_bound(c, seed=seed)
    data = {"date": datetime.date.today().isoformat(), "seed": int(seed), "factors": [float(k) for k in factors],
            "eta": float(EXPERIMENT_PARAMETERS["eta"].value),
            "pairing_larvae": int(biology.BENCHMARK_PARAMETERS["pairing_larvae"].value),
            "rows": json.loads(df.to_json(orient="records")), "specificity": spec, "odour_drive": od,
            "counterfactuals": cf, "measured_pair": mp, "bound": rc, "tied": {"points": points, "rows": tied_rows},
            "min_valence_change": float(biology.BENCHMARK_PARAMETERS["min_valence_change"].value),
            "scan_wall_time_s": scan_s, "scan_date": scan_date,
            "wall_time_s": time.perf_counter() - t0}
    atomic_write_text(path, _write(data))
    atomic_write_text(path.with_suffix(".json"), json.dumps(data, indent=1) + "\n")
    return data


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m experiments.biology_learning_rate",
                                 description="Score the benchmark's pairing findings at multiples of the "
                                             "calibrated learning rate.")
    ap.add_argument("--out", default="docs/biology_learning_rate.md")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--reuse-scan", action="store_true",
                    help="keep the scan and the tied points' scores of the existing JSON (same factors, "
                    "points and seed), scan only the pairing findings they lack; rerun the rest")
    args = ap.parse_args(argv)
    report(args.out, seed=args.seed, reuse_scan=args.reuse_scan, log=lambda m: print(m, file=sys.stderr))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
