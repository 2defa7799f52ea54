"""``docs/biology.md``: the biology benchmark of the default larval model, written from a run.

``larvasim validate --biology`` (or ``python -m experiments.biology_report``)
scores the default model (:class:`models.LarvalLIF`, literature signs) and,
for comparison, the adult model of Shiu et al. 2024 (``current_lif``,
0.275 mV per synapse, all synapses excitatory) on every finding of
``experiments/data/findings.toml``, runs the sanity checks of
:mod:`experiments.sanity` on both, and writes the report, its figures and a
JSON file of every number in it (``docs/biology.json``), which the tests
compare with a fresh run.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["GOALS", "adult_network", "by_round", "candidates_section", "default_network", "main", "report",
           "round_summary", "run_benchmark"]

#: The must-show goals of the larval model (issue: "A larval model that predicts real larval experiments").
GOALS = {"heldout_accuracy": 0.80, "modalities_reaching": 12, "rho": 0.5, "all_frac_hot": 0.05}
#: Further benchmark seeds on which the default model's held-out half is scored too: the spread of its
#: accuracy over the input noise and the virtual larvae, the model fixed (the report's own seed comes first).
SPREAD_SEEDS = (1, 2)


def kc_comparison(kc_fraction: float) -> str:
    """What the KC share of the must-show table can be compared with: the outcome of a literature search."""
    return ("KC sparseness has no larval measurement to be compared with: a literature search (2026-12-02, "
            "mostly abstracts) found none. Larval calcium imaging of the calyx reports responses per calyx "
            "glomerulus, not per Kenyon cell (Masuda-Nakagawa et al. 2009, PNAS 106:10314: stimulating single "
            "olfactory sensory neurons evoked activity in 1 to 3 calyx glomeruli; abstract read), and the sparseness "
            "measured by imaging Kenyon cells comes from adult flies (e.g. Honegger, Campbell & Turner 2011, "
            "J Neurosci 31:11772, "
            "doi:10.1523/JNEUROSCI.1099-11.2011), a different mushroom body; "
            f"the model's {100 * kc_fraction:.0f} % is reported, not scored.")


def default_network(c, device: str = "numba"):
    """The default larval model on ``c`` (:class:`models.LarvalLIF`, literature signs)."""
    import sim

    return sim.Network(c, device=device)


def adult_network(c, device: str = "numba"):
    """The adult-fly model of Shiu et al. 2024 on ``c`` (current LIF, 0.275 mV, all excitatory)."""
    import sim

    return sim.Network(c, model="current_lif", signs="excitatory", device=device)


def run_benchmark(c, *, seed: int = 0, pairing: bool = True, models=("larval", "adult"),
                  spread_seeds=SPREAD_SEEDS) -> dict:
    """Score and check the models; everything the report shows, as plain data.

    The default (larval) model's held-out half is scored again at each of ``spread_seeds`` (only that
    half: the spread of the headline number over the benchmark's input noise and virtual larvae).
    """
    import models as mdl

    from . import biology, sanity

    findings = biology.load_findings()
    split = biology.load_split(findings=findings)
    rounds = biology.load_rounds()
    cascades = sanity.cascade_hits(c, [m for m in c.modalities if m != "unknown"])
    out = {"seed": int(seed), "n_findings": len(findings), "models": {},
           "pairing_larvae": int(biology.BENCHMARK_PARAMETERS["pairing_larvae"].value)}
    for name in models:
        net = default_network(c) if name == "larval" else adult_network(c)
        t0 = time.perf_counter()
        sc = biology.score(net, findings, seed=seed, split=split, pairing=pairing)
        san = sanity.sanity(net, seed=seed, cascades=cascades)
        out["models"][name] = {
            "description": net.describe(), "table": sc.table.to_dict("records"),
            "accuracy": {h: sc.half(h) for h in biology.HALVES},
            "overall": float(sc.accuracy()["accuracy"].iloc[0]),
            "by_circuit": sc.accuracy("circuit").to_dict("records"),
            "by_half": sc.accuracy("half").to_dict("records"),
            "by_half_fitted": biology.Score(sc.table[sc.table["test"] != "pairing"], {}).accuracy("half")
            .to_dict("records"),
            "sanity": san.summary, "modalities": san.modalities.to_dict("records"),
            "seconds": time.perf_counter() - t0}
        out["models"][name]["heldout_by_round"] = by_round(sc.table, rounds)
        if name == "larval":
            by_seed = {str(seed): sc.half("heldout")}
            rounds_by_seed = {str(seed): out["models"][name]["heldout_by_round"]}
            for s in spread_seeds:
                if s != seed:
                    other = biology.score(net, findings, halves=("heldout",), seed=s, split=split, pairing=pairing)
                    by_seed[str(s)] = other.half("heldout")
                    rounds_by_seed[str(s)] = by_round(other.table, rounds)
            out["models"][name]["heldout_by_seed"] = by_seed
            out["models"][name]["heldout_rounds_by_seed"] = rounds_by_seed
            prev = previous_point(c, net, findings, split, seed=seed, pairing=pairing)
            if prev is not None:
                out["models"][name]["previous_point"] = prev
            out["models"][name]["explained"] = explain_misses(net, findings, sc.table, seed=seed)
    out["pairing_reach"] = pairing_reach(c, findings)
    out["conflicts"] = conflicts(c, findings, split)
    out["mbon_signs"] = mbon_signs(c)
    a = mdl.assign_signs(c, "literature")
    out["sign_coverage"] = a.coverage(c)
    out["calibration"] = mdl.larval_calibration()
    out["split"] = split
    out["rounds"] = {str(k): v for k, v in biology.ROUNDS.items()}
    out["paper_rounds"] = rounds
    out["findings"] = [f.to_dict() for f in findings]
    return out


#: Input groups listed per explained miss (the largest changes of drive).
EXPLAIN_ROWS = 3


def explain_misses(net, findings, table: pd.DataFrame, *, seed: int = 0, rows: int = EXPLAIN_ROWS) -> dict:
    """For every testable finding the model misses (both halves), :func:`experiments.biology.explain` reduced
    to its ``rows`` largest rows: for a rate finding the readout's synaptic input in the finding's conditions
    (changes, or differences for compare, by presynaptic cell type and sign, and the net change); for a
    pairing finding the MBON types the conditioning moved most (learning effect and share of the learned
    valence index's change). An analysis after scoring: it says through what the model reached its
    prediction, and chooses nothing."""
    from . import biology

    by_id = {f.id: f for f in findings}
    out = {}
    for r in table.to_dict("records"):
        if r["status"] != "miss":
            continue
        e = biology.explain(net, by_id[r["id"]], seed=seed)
        t = e["table"]
        if r["test"] == "pairing":
            out[r["id"]] = {"half": r["half"], "test": "pairing", "expect": r["expect"], "predicted": e["predicted"],
                            "effect_hz": e["effect_hz"], "measure": e["measure"],
                            "index_change": t.attrs["index_change"],
                            "rows": [{"mbon": m, "sign": int(sg), "in_readout": bool(ir), "effect_hz": float(x),
                                      "index_change": float(ic)} for m, sg, ir, x, ic in
                                     t[["mbon", "sign", "in_readout", "effect_hz", "index_change"]].head(rows)
                                     .itertuples(index=False)]}
            continue
        col = "difference_mv" if r["test"] == "compare" else "change_mv"
        total = t.attrs["total_difference_mv" if r["test"] == "compare" else "total_change_mv"]
        out[r["id"]] = {"half": r["half"], "test": r["test"], "expect": r["expect"], "predicted": e["predicted"],
                        "effect_hz": e["effect_hz"], "rate_a_hz": e["rate_a_hz"], "rate_b_hz": e["rate_b_hz"],
                        "total_mv": float(total),
                        "rows": [{"group": g, "sign": sg, "mv": float(v)}
                                 for g, sg, v in t[["group", "sign", col]].head(rows).itertuples(index=False)],
                        "wiring": _wiring(e["paths"])}
    return out


def _wiring(paths) -> dict:
    """:func:`experiments.biology.wiring_paths` reduced for the report: per readout, the chains' summed strength
    per target neuron, how much of it is inhibitory, and the strongest chains (cell types, excitatory and
    inhibitory strength); a string where the chains were too many to list."""
    def one(s):
        if isinstance(s, str):
            return {"error": s}
        n = int(s.attrs.get("targets", 0)) or 1
        total = float(s["strength"].sum()) if len(s) else 0.0
        return {"per_target": total / n, "inhibitory_share": float(s["inhibitory"].sum()) / total if total else 0.0,
                "chains": [{"chain": c, "excitatory": float(x), "inhibitory": float(i)}
                           for c, x, i in s[["chain", "excitatory", "inhibitory"]].head(2).itertuples(index=False)]}

    if isinstance(paths, dict):  # compare: one per readout
        return {k: one(v) for k, v in paths.items()}
    return {"readout": one(paths)}


def _wiring_cell(w: dict | None) -> str:
    """The report's wiring column for one finding (from :func:`_wiring`)."""
    if not w:
        return ""
    parts = []
    for name, v in w.items():
        label = "" if name == "readout" else f"{name.split()[-1]}: "
        if "error" in v:
            parts.append(f"{label}too many chains to list")
        elif not v["chains"]:
            parts.append(f"{label}no chain")
        else:
            chains = ", ".join(f"{c['chain']} {c['excitatory']:.2g}" + (f" / -{c['inhibitory']:.2g}"
                                                                         if c["inhibitory"] else "")
                               for c in v["chains"])
            parts.append(f"{label}{v['per_target']:.2g} per neuron, {v['inhibitory_share']:.0%} inhibitory ({chains})")
    return "; ".join(parts)


def explained_lines(data: dict) -> list[str]:
    """The report's section on the missed rate findings' synaptic input (from :func:`explain_misses`)."""
    ex = data["models"]["larval"].get("explained")
    if not ex:
        return []
    rows, pairing = [], []
    for fid, e in ex.items():
        if e["test"] == "pairing":
            lvi = e["measure"] == "learned_valence"
            pairing.append({"finding": fid, "half": e["half"], "published / model": f"{e['expect']} / {e['predicted']}",
                            "effect": f"{e['effect_hz']:+.3f}" + ("" if lvi else " Hz"),
                            "MBON types moved most (learning effect, Hz; share of the index's change)": "; ".join(
                                f"{r['mbon']}{' (readout)' if r['in_readout'] and not lvi else ''} "
                                f"{r['effect_hz']:+.2f} ({r['index_change']:+.3f})" for r in e["rows"])})
            continue
        if e["test"] == "compare":
            rates = f"A {e['rate_a_hz']:.2f} Hz, B {e['rate_b_hz']:.2f} Hz"
            net = f"{e['total_mv']:+.1f} (A - B)"
        else:
            rates = f"{e['rate_b_hz']:.2f} -> {e['rate_a_hz']:.2f} Hz"
            net = f"{e['total_mv']:+.1f}"
        rows.append({"finding": fid, "half": e["half"], "published / model": f"{e['expect']} / {e['predicted']}",
                     "readout": rates,
                     "largest input changes (mV, by presynaptic cell type and sign)": "; ".join(
                         f"{r['group']} ({r['sign']}) {r['mv']:+.1f}" for r in e["rows"]),
                     "net (mV)": net,
                     "wiring from the stimulated or silenced neurons (chain strength per readout neuron; "
                     "strongest chains, excitatory / inhibitory)": _wiring_cell(e.get("wiring"))})
    return ["### Why the model misses: the readouts' input and what the conditioning moved", "",
            "For each missed response, silencing and compare finding, the synaptic drive onto the readout in the "
            "finding's own conditions (`experiments.biology.explain`; `larvasim validate --biology --explain ID` "
            "prints the whole table): the mean of tau_syn x w x r over the readout's input synapses, by presynaptic "
            "cell type and sign, from the reference condition (no stimulus, or intact) to the test condition "
            "(stimulus, or silenced); for compare findings, readout A minus readout B in the one condition. Below "
            "threshold it is the mean depolarisation of the readout; above it, it says which inputs push the "
            "readout and which hold it back. Beside it, the wiring alone (`sim.analysis.pathways`, as "
            "`larvasim paths` prints it): the chains of strong connections (each link at least 1 % of its "
            "target's input, at most 3 links) from the stimulated neurons (silenced, for silencing findings) to "
            "the readout, their summed strength (product of the links' input fractions) per readout neuron, the "
            "share of it on inhibitory chains, and the two strongest chains by cell type; where the wiring's "
            "balance and the run's drive differ, the model's parameters (weights, inhibition, adaptation) made "
            "the difference, not the wiring. An analysis after scoring: it chooses nothing.", "",
            _md_table(pd.DataFrame(rows)), "",
            *(["For each missed pairing finding, what its conditioning protocol did to each MBON type "
               "(the same command): the MBON types whose learning effect ((test - pre) CS+ minus CS-) weighs most, "
               "for a learned-valence finding by their share of the index's change (sign x effect / the index's "
               "denominator before training; to first order the index's change is their sum), otherwise the "
               "readout's MBONs first:", "", _md_table(pd.DataFrame(pairing)), ""] if pairing else [])]


def pairing_reach(c, findings) -> list[dict]:
    """For each testable learned-valence pairing finding: which MBONs its US can move, and their valence.

    The US's MBIN types (``mb_name``), the MBON types of their compartments
    (:func:`models.plasticity.derive_compartments`, as in the conditioning runs)
    and each MBON type's sign in the learned valence index
    (:func:`models.plasticity.mbon_valence`). When every sign is 0 the index
    cannot move whatever the learning rate: the finding is out of the model's
    reach until a source gives one of those MBINs a valence (``reachable``
    False). A US that is not made of MBINs alone (APL, Kenyon cells) may act
    through the network: ``reachable`` None, no verdict.
    """
    from models import plasticity as pl

    from . import biology

    comp = pl.derive_compartments(c)
    signs = pl.mbon_valence(comp)
    types = pl._type_names(c.neurons, "MBIN")
    out = []
    for f in findings:
        if not (f.testable and f.test == "pairing" and f.extra.get("measure") == "learned_valence"):
            continue
        try:
            us = biology._select(c, f.selections["us"], f"{f.id}, us")
        except biology.Untestable:  # absent neurons: scored as untestable elsewhere
            continue
        idx = [i for i in us.indices if i in types.index]
        mbins = sorted({t.strip() for i in idx for t in str(types[i]).split(";") if t.strip()})
        mbons = sorted({m for b in mbins for m in comp.mbons_of(b)})
        # a US that is not only MBINs (APL, KCs) can act through the network: no verdict
        only_mbins = len(idx) == len(us.indices) and bool(mbins)
        out.append({"id": f.id, "paper": f.paper, "us_mbins": mbins,
                    "mbons": {m: int(signs.get(m, 0)) for m in mbons},
                    "reachable": any(int(signs.get(m, 0)) != 0 for m in mbons) if only_mbins else None})
    return out


def conflicts(c, findings, split) -> list[dict]:
    """Groups of testable findings of one half that run the same test on the same neurons (the same stimulus,
    background, silenced neurons, US and readouts, selected on ``c``; the same measure and protocol) and expect
    different outcomes: no model can hit every finding of such a group. ``[{"half", "ids", "expects"}]``."""
    from . import biology

    groups = {}
    for f in findings:
        if not f.testable:
            continue
        try:
            sel = tuple(sorted((k, tuple(biology._select(c, v, f.id).indices)) for k, v in f.selections.items()))
        except biology.Untestable:
            continue
        key = (split.get(f.paper), f.test, f.extra.get("measure"), f.extra.get("protocol", "paired"), sel)
        groups.setdefault(key, []).append(f)
    return [{"half": k[0], "ids": [f.id for f in g], "expects": [f.expect for f in g]}
            for k, g in groups.items() if len({f.expect for f in g}) > 1]


def ceiling(table: pd.DataFrame, groups: list[dict], reach: list[dict], half: str = "heldout") -> dict:
    """How many of a half's scored findings any model can hit at most (``any``: at most one expectation of each
    conflicting group, :func:`conflicts`) and a model whose memory readout is the learned valence index
    (``family``: a finding whose US cannot move that index, :func:`pairing_reach`, is missed unless it expects no
    change). ``{"n", "any", "family", "conflicts", "unreachable"}``."""
    t = table[(table["half"] == half) & table["status"].isin(("hit", "miss"))]
    expect = dict(zip(t["id"], t["expect"]))
    out_of_reach = sorted(r["id"] for r in reach if r["reachable"] is False and r["id"] in expect
                          and expect[r["id"]] != "no_change")
    mine = [g for g in groups if g["half"] == half and all(i in expect for i in g["ids"])]
    grouped = {i for g in mine for i in g["ids"]}

    def best(ids, skip):  # the most findings of a group that one outcome can hit, those in skip left out
        return max(sum(1 for i in ids if expect[i] == e and i not in skip) for e in {expect[i] for i in ids})

    any_model = len(expect) - len(grouped) + sum(best(g["ids"], set()) for g in mine)
    skip = set(out_of_reach)
    family = len([i for i in expect if i not in grouped and i not in skip]) + sum(best(g["ids"], skip) for g in mine)
    return {"n": int(len(t)), "any": int(any_model), "family": int(family), "conflicts": [g["ids"] for g in mine],
            "unreachable": out_of_reach}


def ceiling_reading(data: dict, half: str = "heldout") -> str:
    """The half's ceiling (:func:`ceiling`) in one paragraph; '' without the stored groups."""
    if "conflicts" not in data:
        return ""
    lv = data["models"]["larval"]
    cl = ceiling(pd.DataFrame(lv["table"]), data["conflicts"], data.get("pairing_reach", []), half)
    label = {"heldout": "held-out"}.get(half, half)
    n = cl["n"]
    pairs = "; ".join(" / ".join(ids) for ids in cl["conflicts"])
    text = (f"**How high the {label} half can go.** {len(cl['conflicts'])} group{'s' if len(cl['conflicts']) != 1 else ''} "
            f"of {label} findings run the same test on the same neurons (same stimulus, US, readout, measure and "
            f"protocol) and expect different outcomes ({pairs}): no model can hit every finding of such a group, so "
            f"none can score more than {cl['any']} of {n} ({_pct(cl['any'] / n)})."
            if cl["conflicts"] else f"**How high the {label} half can go.** No two {label} findings conflict.")
    if cl["unreachable"]:
        u = cl["unreachable"]
        text += (f" With the learned valence index as the memory readout and the valence table as it is, "
                 f"{_names(u)} cannot be hit by any parameters either (their US's compartments hold no MBON of "
                 f"known valence), so this "
                 f"model family reaches at most {cl['family']} of {n} ({_pct(cl['family'] / n)}), against the "
                 f"goal of {_pct(GOALS['heldout_accuracy'])}.")
    return text


def reach_reading(table: pd.DataFrame, reach: list[dict], half: str, activation=None) -> str:
    """One generated sentence: the half's missed learned-valence findings that the model cannot reach at all, and
    whether MBON valences measured by activation (:func:`models.plasticity.mbon_activation`) could."""
    missed = set(table.loc[(table["half"] == half) & (table["status"] == "miss"), "id"])
    out = [r for r in reach if r["id"] in missed and r["reachable"] is False]
    if not out:
        return ""
    label = {"heldout": "held-out"}.get(half, half)
    what = "; ".join(f"{r['id']}: US {', '.join(r['us_mbins']) or 'no MBIN'} -> "
                     f"{', '.join(r['mbons']) or 'no MBON'}" for r in out)
    text = (f"{len(out)} of the {label} misses cannot be hit by any learning rate: their US's compartments hold no "
            f"MBON of known valence, so the learned valence index cannot move ({what}); "
            "`models/data/mbin_valence.csv` gives those MBINs no valence, and the MBONs' signs follow from it.")
    from models.plasticity import mbon_activation

    act = mbon_activation() if activation is None else activation
    mbons = sorted({m for r in out for m in r["mbons"]})
    if mbons and all(m in act.index and act.loc[m, "effect"] == "no_effect" for m in mbons):
        figs = sorted({act.loc[m, "figure"] for m in mbons})
        srcs = sorted({act.loc[m, "source"] for m in mbons})
        text += (f" Nor would MBON valences measured by activation: activating {' or '.join(mbons)} alone had no "
                 f"significant effect on larval behaviour ({'; '.join(srcs)}, {', '.join(figs)}; "
                 "`models/data/mbon_activation.csv`).")
    return text


def mbon_signs(c) -> dict:
    """Each MBON type's sign in the learned valence index (:func:`models.plasticity.mbon_valence`)."""
    from models import plasticity as pl

    return {k: int(v) for k, v in pl.mbon_valence(pl.derive_compartments(c)).items()}


def _names(xs) -> str:
    xs = list(xs)
    return xs[0] if len(xs) == 1 else ", ".join(xs[:-1]) + " and " + xs[-1]


def mbon_sign_reading(signs: dict, activation=None) -> str:
    """The learned valence index's MBON signs against the measured effects of activating single MBONs
    (:func:`models.plasticity.compare_mbon_signs`), in two generated sentences; '' without signs."""
    from models.plasticity import compare_mbon_signs, mbon_activation

    if not signs:
        return ""
    act = mbon_activation() if activation is None else activation
    t = compare_mbon_signs(signs, act)
    t["mbon"] = t["mbon"].str.replace("; MBON-", "/", regex=False)  # a type named for two MBONs: MBON-h1/h2
    signed = t[t["model"].notna() & (t["model"] != 0)]
    by = {v: signed.loc[signed["verdict"] == v, "mbon"].tolist() for v in ("agree", "opposite", "no effect",
                                                                             "not tested")}
    tested = len(signed) - len(by["not tested"])
    srcs = "; ".join(sorted(set(act["source"])))
    parts = [f"{len(by['agree'])} have the measured sign ({_names(by['agree'])})" if by["agree"] else "none has the "
             "measured sign", (f"{len(by['opposite'])} the opposite one ({_names(by['opposite'])})" if by["opposite"]
                               else "none has the opposite one")]
    if by["no effect"]:
        parts.append(f"{len(by['no effect'])} had no significant effect when activated ({_names(by['no effect'])})")
    text = (f"**MBON signs of the learned valence index, against activation.** The index gives {len(signed)} MBON "
            f"types a sign, opposite to the valence of their compartment's MBINs (the relation {srcs} report for "
            f"most larval MBONs). Activating single MBON types (or pairs the driver lines could not separate) in larvae, "
            f"without odour, and scoring turning and crawling ({srcs}; `models/data/mbon_activation.csv`) tested "
            f"{tested} of them: {'; '.join(parts)}"
            + (f"; {_names(by['not tested'])} {'was' if len(by['not tested']) == 1 else 'were'} not tested" if
               by["not tested"] else "") + ".")
    eff = t[(t["verdict"] == "unsigned, effect")]
    if len(eff):
        items = [f"{r.mbon} ({r.effect}{', activated with ' + r.pair if r.pair else ''})" for r in eff.itertuples()]
        text += (f" Activation had an effect for {len(eff)} MBON type{'s' if len(eff) != 1 else ''} the index leaves "
                 f"unsigned (the MBINs of their "
                 f"compartments have no valence in `models/data/mbin_valence.csv`, or valences of both kinds): "
                 f"{_names(items)}.")
    return text


def by_round(table: pd.DataFrame, rounds: dict) -> dict:
    """The held-out half's findings by the round in which their paper joined the split.

    ``{round: {"papers", "findings", "testable", "hits", "accuracy"}}`` (round as a string, for JSON).
    """
    t = table[table["half"] == "heldout"]
    r = t["paper"].map(lambda p: int(rounds.get(p, 1)))
    out = {}
    for k in sorted(set(r)):
        g = t[r == k]
        tested = g[g["status"].isin(("hit", "miss"))]
        hits = int((tested["status"] == "hit").sum())
        out[str(k)] = {"papers": int(g["paper"].nunique()), "findings": len(g), "testable": len(tested),
                       "hits": hits, "accuracy": hits / len(tested) if len(tested) else float("nan")}
    return out


def round_summary(larval: dict) -> str:
    """The summary line on the held-out papers added after the model was fixed (rounds > 1), or ''."""
    later = {k: v for k, v in (larval.get("heldout_by_round") or {}).items() if int(k) > 1}
    if not later:
        return ""
    parts = []
    for k, v in later.items():
        papers = f"{v['papers']} paper{'' if v['papers'] == 1 else 's'}"
        if not v["testable"]:
            parts.append(f"round {k}: {v['findings']} findings from {papers}, none testable")
            continue
        seeds = larval.get("heldout_rounds_by_seed") or {}
        spread = [s[k]["accuracy"] for s in seeds.values() if k in s]
        tail = (f"; over benchmark seeds {', '.join(seeds)}: {', '.join(_pct(x) for x in spread)}"
                if len(spread) > 1 else "")
        parts.append(f"round {k}: {v['findings']} findings from {papers}, {v['testable']} of them "
                     f"testable, {v['hits']} hit, **{_pct(v['accuracy'])}**{tail}")
    first = larval["heldout_by_round"].get("1") or {}
    return ("* **Held-out papers added after the model was fixed** (`round` column of the split; each round's rows "
            "were committed before the model of its day was first run on them; a later model choice may have seen "
            f"the results of an earlier round: {unseen_rounds(larval)}; "
            f"{'; '.join(parts)}). The papers of round 1 give "
            f"{_pct(first.get('accuracy'))} ({first.get('hits', 0)} of {first.get('testable', 0)}).")


def unseen_rounds(larval: dict) -> str:
    """Which rounds no fit or model choice has seen (:data:`experiments.biology.UNSEEN_FROM_ROUND` on), and
    their hits together."""
    from .biology import UNSEEN_FROM_ROUND

    rounds = sorted((k for k in (larval.get("heldout_by_round") or {}) if int(k) >= UNSEEN_FROM_ROUND), key=int)
    if not rounds:
        return "no round is unseen by every fit and model choice"
    v = [larval["heldout_by_round"][k] for k in rounds]
    hits, testable = sum(x["hits"] for x in v), sum(x["testable"] for x in v)
    which = f"round {rounds[0]} alone is" if len(rounds) == 1 else f"rounds {_names(rounds)} are"
    whose = "its" if len(rounds) == 1 else "their"
    if not testable:
        return f"{which} unseen by every fit and model choice, and none of {whose} findings is testable"
    return (f"{which} unseen by every fit and model choice, and the model gets {hits} of {whose} {testable} "
            f"testable finding{'' if testable == 1 else 's'}")


def seen_heldout(table: pd.DataFrame, seen) -> dict | None:
    """The held-out accuracy with and without the held-out findings a fit's objective has run (the calibration
    record's ``seen_heldout``); None when there are none.

    ``{"ids", "with": (hits, testable), "without": (hits, testable), "seen": {id: status}}``.
    """
    seen = list(seen or [])
    if not seen:
        return None
    held = _scored(table, "heldout")
    rest = held[~held["id"].isin(seen)]
    status = dict(zip(table["id"], table["status"]))
    return {"ids": seen, "with": (int((held["status"] == "hit").sum()), len(held)),
            "without": (int((rest["status"] == "hit").sum()), len(rest)),
            "seen": {i: status.get(i, "absent") for i in seen}}


def point_network(c, base, values: dict):
    """``base``'s network (signs, synapse types, device) with a stage-2 point's ``mbon_gain`` and ``mbin_gain`` on
    its model (``values`` also holds the point's ``eta``, which the caller passes to the conditioning)."""
    import sim

    return sim.Network(c, model=base.model.with_overrides(mbon_gain=values["mbon_gain"],
                                                          mbin_gain=values["mbin_gain"]),
                       signs=base.sign_spec, synapse_types=base.synapse_types, device=base.device)


def previous_point(c, net, findings, split, *, seed: int, pairing: bool = True) -> dict | None:
    """The held-out half scored with stage 2's previous point (the calibration record's ``mushroom_body``
    ``previous``: its ``mbon_gain``, ``mbin_gain`` and ``eta`` on the default model), when the record also lists
    held-out findings its objective has seen (``seen_heldout``); else None.

    Returns ``{"parameters", "objective", "table": [{"id", "status"}, ...]}`` (held-out rows only).
    """
    import models as mdl

    from . import biology
    from .calibrate import rule_options

    mb = mdl.larval_calibration().get("mushroom_body") or {}
    prev = mb.get("previous")
    if not prev or not mb.get("seen_heldout"):
        return None
    v = {k: float(x["value"]) for k, x in prev["parameters"].items()}
    sc = biology.score(point_network(c, net, v), findings, halves=("heldout",), seed=seed, split=split, pairing=pairing,
                       learning_options=rule_options(v["eta"], prev.get("rule")))
    return {"parameters": v, "objective": prev.get("objective", ""),
            "table": [{"id": r["id"], "status": r["status"]} for r in sc.table.to_dict("records")
                      if r["half"] == "heldout"]}


def previous_reading(larval: dict, mb: dict) -> str:
    """The summary line comparing the default model with stage 2's previous point on the held-out findings,
    with and without those the present objective has seen; '' when the report has no previous point."""
    prev = larval.get("previous_point")
    seen = (mb or {}).get("seen_heldout")
    if not prev or not seen:
        return ""
    now = seen_heldout(pd.DataFrame(larval["table"]), seen)
    before = seen_heldout(pd.DataFrame(prev["table"]).assign(half="heldout"), seen)
    (h1, n1), (h0, n0) = now["with"], now["without"]
    (p1, m1), (p0, m0) = before["with"], before["without"]
    d = h0 - p0
    verdict = ("the same number" if d == 0 else f"{abs(d)} {'more' if d > 0 else 'fewer'}")
    name = prev["objective"].split(" = ", 1)[0] or "the previous objective"
    pv = prev["parameters"]
    return (f"* **Against stage 2's previous point** (objective {name}: mbon_gain = {pv['mbon_gain']:.3g}, "
            f"mbin_gain = {pv['mbin_gain']:.3g}, eta = {pv['eta']:.3g}; same seed): it gets {p1} of {m1} held-out "
            f"findings and {p0} of {m0} without the seen ones; the default model {h1} of {n1} and {h0} of {n0}, "
            f"{verdict} on the findings neither objective has run.")


def seen_reading(larval: dict, mb: dict) -> str:
    """The summary line on the held-out findings that stage 2's objective has seen, or ''."""
    v = seen_heldout(pd.DataFrame(larval["table"]), (mb or {}).get("seen_heldout"))
    if v is None:
        return ""
    (h1, n1), (h0, n0) = v["with"], v["without"]
    return (f"* **Held-out findings the fit has seen:** stage 2's objective (J3) runs the manipulation of "
            f"{', '.join(v['ids'])} (" + ", ".join(f"{i}: {s}" for i, s in v["seen"].items()) + "), so the model "
            f"has seen them. Held-out accuracy with them {h1} of {n1} ({_pct(h1 / n1 if n1 else np.nan)}), "
            f"**without them {h0} of {n0} ({_pct(h0 / n0 if n0 else np.nan)})**.")


def late_testable_reading(larval: dict, findings: list, cal: dict) -> str:
    """The summary line on findings that became testable after the calibration (``testable_since`` later than
    the last date of the calibration record), so that no fit ran them, or ''."""
    fitted = max(str(cal.get("date", "")), str((cal.get("mushroom_body") or {}).get("date", "")))
    late = [f["id"] for f in findings if str(f.get("testable_since", "")) > fitted]
    t = pd.DataFrame(larval["table"])
    rows = t[t["id"].isin(late) & t["status"].isin(["hit", "miss"])]
    if rows.empty:
        return ""
    since = sorted({str(f["testable_since"]) for f in findings if f["id"] in set(rows["id"])})
    text = (f"* **Findings the fit never ran:** {', '.join(f'{r.id} ({r.half}, {r.status})' for r in rows.itertuples())} "
            f"became testable on {', '.join(since)}, after the calibration (record of {fitted}; `testable_since` "
            "in the findings table).")
    for half in ("calibration", "heldout"):
        if (rows["half"] == half).any():
            rest = _scored(t, half)
            rest = rest[~rest["id"].isin(late)]
            h = int((rest["status"] == "hit").sum())
            text += (f" {half.capitalize().replace('Heldout', 'Held-out')} half without them: {h} of {len(rest)} "
                     f"({_pct(h / len(rest) if len(rest) else np.nan)}).")
    return text


def added_reading(larval: dict, findings: list) -> str:
    """The summary line on findings added to papers already in the split (``added`` in the findings table: read
    after the default model of that day was fixed, their rows committed before any model ran on them), with each
    half's accuracy without them, or ''.

    A row counts when its paper has a row of an earlier day (or one that was never added: the table's first
    rows); the rows a new paper brought with it, all of its first day, are counted by their round instead
    (:func:`round_summary`)."""
    first = {}
    for f in findings:
        day = str(f.get("added") or "")
        first[f.get("paper")] = min(first.get(f.get("paper"), day), day)
    added = {f["id"]: str(f["added"]) for f in findings if f.get("added") and str(f["added"]) > first[f.get("paper")]}
    t = pd.DataFrame(larval["table"])
    rows = t[t["id"].isin(list(added)) & t["status"].isin(["hit", "miss"])]
    if rows.empty:
        return ""
    days = sorted({added[i] for i in rows["id"]})
    text = (f"* **Findings added after the model was fixed:** {len(rows)} testable findings read on "
            f"{', '.join(days)} in the full texts of papers already in the split (`added` in the findings table; "
            "their rows were committed before any model ran on them; "
            f"`experiments/data/findings_pending.toml` held them until they were scored): "
            f"{', '.join(f'{r.id} ({r.half}, {r.status})' for r in rows.itertuples())}.")
    for half in ("calibration", "heldout"):
        part = rows[rows["half"] == half]
        if part.empty:
            continue
        h = int((part["status"] == "hit").sum())
        rest = _scored(t, half)
        rest = rest[~rest["id"].isin(list(added))]
        hr = int((rest["status"] == "hit").sum())
        name = "Held-out" if half == "heldout" else "Calibration"
        text += (f" {name} half: {h} of {len(part)} of them hit ({_pct(h / len(part))}); without them "
                 f"{hr} of {len(rest)} ({_pct(hr / len(rest) if len(rest) else np.nan)}).")
    return text


def heldout_spread(larval: dict) -> str:
    """The summary line on the held-out accuracy over benchmark seeds (``heldout_by_seed``)."""
    by = larval.get("heldout_by_seed") or {}
    if len(by) < 2:
        return "* Held-out accuracy was scored at one benchmark seed only."
    vals = list(by.values())
    return (f"* The same model, held-out half, over benchmark seeds {', '.join(by)} (input noise and virtual "
            f"larvae differ, the model does not): {', '.join(_pct(v) for v in vals)} (range "
            f"{_pct(min(vals))} to {_pct(max(vals))}).")


def _scored(table: pd.DataFrame, half: str) -> pd.DataFrame:
    """The hits and misses of one half (testable findings that were run)."""
    t = pd.DataFrame(table)
    return t[(t["half"] == half) & t["status"].isin(["hit", "miss"])]


def accuracy_interval(table: pd.DataFrame, half: str = "heldout",
                      level: float = 0.95) -> tuple[int, int, float, float]:
    """Hits, findings and the Wilson score interval of a half's accuracy (``scipy.stats.binomtest``).

    With 20-odd findings one hit more or less moves the accuracy by about 5 points; the interval says how
    far the true hit rate of findings like these could lie from the one measured.
    """
    from scipy.stats import binomtest

    t = _scored(table, half)
    k, n = int((t["status"] == "hit").sum()), len(t)
    if n == 0:
        return 0, 0, float("nan"), float("nan")
    ci = binomtest(k, n).proportion_ci(confidence_level=level, method="wilson")
    return k, n, float(ci.low), float(ci.high)


def majority_baseline(table: pd.DataFrame, half: str = "heldout") -> tuple[int, int, dict]:
    """A predictor without a brain: each test type's commonest expectation in the calibration half.

    Returns the hits and findings of ``half`` when every finding of a test type is predicted to have the
    expectation most common among that type's calibration findings (ties: the first in sorted order), and the
    rule itself. A model that does not beat it has learned nothing the calibration half's tally does not say.
    """
    cal = _scored(table, "calibration")
    rule = {test: sorted(g["expect"].value_counts().items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
            for test, g in cal.groupby("test")}
    t = _scored(table, half)
    hits = int(sum(rule.get(test) == exp for test, exp in zip(t["test"], t["expect"])))
    return hits, len(t), rule


def versus(table_a: pd.DataFrame, table_b: pd.DataFrame, half: str = "heldout") -> tuple[int, int, float]:
    """Findings of ``half`` that model A gets right and B wrong, the reverse, and the exact McNemar p.

    Both models are scored on the same findings, so they are compared finding by finding: only the
    discordant findings carry information (two-sided exact binomial test on them, ``scipy.stats.binomtest``).
    """
    from scipy.stats import binomtest

    a = _scored(table_a, half).set_index("id")["status"]
    b = _scored(table_b, half).set_index("id")["status"]
    both = a.index.intersection(b.index)
    only_a = int(((a[both] == "hit") & (b[both] == "miss")).sum())
    only_b = int(((a[both] == "miss") & (b[both] == "hit")).sum())
    p = binomtest(only_a, only_a + only_b).pvalue if only_a + only_b else 1.0
    return only_a, only_b, float(p)


def _table_note(data: dict, name: str) -> str:
    """A note when a candidate's report was scored on another findings table than today's: by the findings key it
    stored (``findings``, :func:`experiments.regenerate.fingerprint`), or, for a report without one, by its
    ``date`` against the rows added to the table or revised after it. Its calibration-half decision may stand; its
    held-out figures are of that table."""
    if data.get("findings"):
        from .regenerate import fingerprint

        today = fingerprint().split("-")[-1]
        if data["findings"] == today:
            return ""
        return (f" (Scored on the findings table `{data['findings']}`, today's is `{today}`; rerun "
                f"`python -m experiments.{name}` to score it on today's.)")
    from . import biology

    day = str(data.get("date", ""))
    later = [f.id for f in biology.load_findings()
             if str(f.extra.get("added", "")) > day or str((f.extra.get("revised") or {}).get("date", "")) > day]
    if not day or not later:
        return ""
    return (f" (Scored on {day}; {len(later)} finding{'s were' if len(later) > 1 else ' was'} added to the table or "
            f"revised since, so its held-out figures are of that day's table; rerun `python -m experiments.{name}` "
            "to score them on today's.)")


def candidates_section(folder) -> list[str]:
    """The report's lines on the candidate structures scored after the calibration, from their documents' JSON in
    ``folder`` (``docs/timing_rule.json``, ``docs/kc_sparseness.json``, ``docs/receptor_rules.json``,
    ``docs/glu_inhibition.json``, ``docs/edge_threshold.json``; a missing one
    is left out, one scored on another default model is called stale). Empty when there is none."""
    folder = Path(folder)
    items = []
    timing = folder / "timing_rule.json"
    if timing.is_file():
        from .timing_rule import reading as timing_reading
        from .timing_rule import stage2_reading

        tdata = json.loads(timing.read_text())
        s2 = stage2_reading(tdata)
        items.append("* **A timing-dependent dopamine rule** ([timing_rule.md](timing_rule.md); "
                     f"`python -m experiments.timing_rule`): {timing_reading(tdata['rows'])}"
                     + _table_note(tdata, "timing_rule") + " "
                     + (s2 if s2 else
                        "The default keeps the depression-only rule: adopting the variant would mean recalibrating "
                        "stage 2 (its learning rate was fitted with that rule), and the variant leaves the held-out "
                        "score where it was (a reason that looks at the held-out half; the README says so too)."))
    kc = folder / "kc_sparseness.json"
    if kc.is_file():
        from .kc_sparseness import base_values, refit_reading
        from .kc_sparseness import reading as kc_reading

        data = json.loads(kc.read_text())
        text = (" ".join(t for t in (kc_reading(data), refit_reading(data)) if t) + _table_note(data, "kc_sparseness")
                if data.get("base") == base_values()[0] else
                "`kc_sparseness.json` was scored on another default model; rerun `python -m experiments.kc_sparseness`.")
        items.append("* **A sparser Kenyon-cell code** ([kc_sparseness.md](kc_sparseness.md); "
                     f"`python -m experiments.kc_sparseness`): {text}")
    rr = folder / "receptor_rules.json"
    if rr.is_file():
        from .receptor_rules import reading as rr_reading
        from .runs import default_model_key

        data = json.loads(rr.read_text())
        text = (rr_reading(data) + _table_note(data, "receptor_rules") if data.get("model") == default_model_key()
                else "`receptor_rules.json` was scored on another default model; rerun "
                     "`python -m experiments.receptor_rules`.")
        items.append("* **Receptor rules in the sign policy** ([receptor_rules.md](receptor_rules.md); "
                     f"`python -m experiments.receptor_rules`): {text}")
    gi = folder / "glu_inhibition.json"
    if gi.is_file():
        from .glu_inhibition import heldout_text
        from .glu_inhibition import reading as gi_reading
        from .runs import default_model_key

        data = json.loads(gi.read_text())
        text = (" ".join(t for t in (gi_reading(data), heldout_text(data)) if t) + _table_note(data, "glu_inhibition")
                if data.get("model") == default_model_key() else
                "`glu_inhibition.json` was scored on another default model; rerun `python -m experiments.glu_inhibition`.")
        items.append("* **Glutamatergic inhibition weighed apart** ([glu_inhibition.md](glu_inhibition.md); "
                     f"`python -m experiments.glu_inhibition`): {text}")
    et = folder / "edge_threshold.json"
    if et.is_file():
        from .edge_threshold import heldout_text as et_heldout
        from .edge_threshold import reading as et_reading
        from .runs import default_model_key

        import models as _mdl

        data = json.loads(et.read_text())
        cal = _mdl.larval_calibration()
        adopted_here = (cal.get("edge_threshold") or {}).get("value") == data.get("best") and (
            (data.get("stage2") or {}).get("parameters") == (cal.get("mushroom_body") or {}).get("parameters"))
        text = (" ".join(t for t in (et_reading(data), et_heldout(data)) if t) + _table_note(data, "edge_threshold --store DIR")
                if data.get("model") == default_model_key() or adopted_here else
                "`edge_threshold.json` was scored on another default model; rerun `python -m experiments.edge_threshold "
                "--store DIR`.")
        if adopted_here:
            text += (f" Adopted on {cal['edge_threshold']['date']}: the default model of this report is that refit "
                     "(the record written by `experiments.edge_threshold.adopt`); the report itself was scored on the "
                     "default model before it.")
        if (data.get("decision") or {}).get("adopt") and not cal.get("edge_threshold"):
            text += (" Not adopted yet: the calibration record, and so the default model of this report, does not "
                     "carry the threshold; adopting it (the record written by `experiments.edge_threshold.adopt`, "
                     "every default-model document regenerated) is a separate change.")
        items.append("* **Weak connections left out** ([edge_threshold.md](edge_threshold.md); "
                     f"`python -m experiments.edge_threshold --store DIR`): {text}")
    if not items:
        return []
    import models as mdl

    mb = mdl.larval_calibration().get("mushroom_body") or {}
    then = (" The timing-dependent rule and the sparser code were scored against the depression-only model, the "
            "default until the first was adopted (its stage-2 record is kept as `depression_only` in "
            "`models/data/larval_calibration.json`); the receptor rules against the default model with the adopted "
            "rule; glutamatergic inhibition and the weak-connection threshold against the default model of their "
            "day (a report scored on another default model says so)."
            if mb.get("rule") else "")
    return (["### Candidate structures scored after the calibration", "",
             "Each was scored on the calibration half against the default model, after the calibration; what the "
             "default took from it is said with each." + then, ""]
            + items + [""])


def _null_file(larval: dict, null_path) -> tuple[dict | None, bool]:
    """The null-model store at ``null_path`` (``docs/biology_null.json``) and whether it is stale: scored on other
    statuses of the real brain than ``larval``'s. ``(None, False)`` when there is no such file."""
    from .biology_null import REAL

    null_path = Path(null_path)
    if not null_path.is_file():
        return None, False
    null = json.loads(null_path.read_text())
    stale = ({r["id"]: r["status"] for r in null["brains"][REAL]["rows"]}
             != {r["id"]: r["status"] for r in larval["table"]})
    return null, stale


def null_reading(larval: dict, null_path) -> str | None:
    """The summary line on the null models (``docs/biology_null.md``), when their JSON lies at ``null_path``; it
    says so when that file was scored on other statuses than ``larval``'s (a stale file)."""
    from .biology_null import reading, signs_reading, summary

    null, stale = _null_file(larval, null_path)
    if null is None:
        return None
    if stale:
        return (f"* **Against null models:** `{Path(null_path).name}` was scored on another model or other "
                "findings than this report; rerun `python -m experiments.biology_null`.")
    signs = f" {signs_reading(null)}." if summary(null, "signs")["brains"] else ""
    name = Path(null_path).with_suffix(".md").name
    return f"* **Against null models:** {reading(null)}.{signs} ([{name}]({name}))"


def _stage1_spread(path) -> list[str]:
    """The paragraph on stage 1's equally good points (``docs/stage1_spread.md``), when its JSON lies at
    ``path``; one scored on another default model is called stale."""
    from .runs import default_model_key
    from .stage1_spread import reading

    path = Path(path)
    if not path.is_file():
        return []
    data = json.loads(path.read_text())
    if data.get("model") != default_model_key():
        return [f"`{path.name}` was scored on another default model; rerun `python -m experiments.stage1_spread`.",
                ""]
    return ["How well the calibration half determines stage 1's parameters (an analysis after scoring; "
            f"[{path.with_suffix('.md').name}]({path.with_suffix('.md').name}), "
            f"`python -m experiments.stage1_spread`): {reading(data)}", ""]


def second_reading_bullet(larval: dict) -> str | None:
    """The summary line on the blind second reading of the findings' outcomes (:mod:`experiments.second_reading`),
    None without one."""
    from . import biology, second_reading

    if not second_reading.READING.is_file():
        return None
    findings = biology.load_findings()
    s = second_reading.summary(second_reading.compare(findings, second_reading.load()),
                               larval["table"])
    return ("* **Second reading:** " + second_reading.reading(s) + " The readings that differ: "
            "[below](#a-second-reading-of-the-published-outcomes).")


def second_reading_lines(larval: dict) -> list[str]:
    """The section on the second reading (:func:`experiments.second_reading.section`), empty without one."""
    from . import biology, second_reading

    return second_reading.section(biology.load_findings(), larval["table"])


def lesions_reading(larval: dict, path) -> str | None:
    """The summary line on the sign lesions (``docs/sign_lesions.md``), when their JSON lies at ``path``; it says so
    when the lesions were compared with another intact model than ``larval`` (a stale file)."""
    from .sign_lesions import reading

    path = Path(path)
    if not path.is_file():
        return None
    data = json.loads(path.read_text())
    if data.get("intact") != {r["id"]: r["status"] for r in larval["table"]}:
        return (f"* **Which inhibitory neurons:** `{path.name}` was compared with another model or other findings "
                "than this report; rerun `python -m experiments.sign_lesions`.")
    name = path.with_suffix(".md").name
    return f"* **Which inhibitory neurons:** {reading(data, {'models': {'larval': larval}})}. ([{name}]({name}))"


def null_shares(larval: dict, null_path) -> dict | None:
    """Per null (``"wiring"``, ``"signs"``): its number of brains (``n``) and the share of them that hit each finding
    the report scores (``share``), from the JSON at ``null_path``; None when it is absent or stale."""
    from .biology_null import by_finding, summary

    null, stale = _null_file(larval, null_path)
    if null is None or stale:
        return None
    return {kind: {"n": summary(null, kind)["brains"],
                   "share": by_finding(null, kind).set_index("id")["null_hit_share"].to_dict()}
            for kind in ("wiring", "signs") if summary(null, kind)["brains"]}


def statistics_reading(larval: dict, adult: dict) -> str:
    """The summary line that puts the held-out accuracy in statistical context (interval, baseline, adult)."""
    lt, at = pd.DataFrame(larval["table"]), pd.DataFrame(adult["table"])
    k, n, lo, hi = accuracy_interval(lt)
    bk, bn, rule = majority_baseline(lt)
    only_l, only_a, p = versus(lt, at)
    rule_text = ", ".join(f"{test} -> {exp}" for test, exp in sorted(rule.items()))
    return (f"* **How much the held-out number says:** {k} of {n} findings, 95 % interval {_pct(lo)} to "
            f"{_pct(hi)} (Wilson). A predictor without a brain, each test type's commonest outcome in the "
            f"calibration half ({rule_text}), gets {bk} of {bn} ({_pct(bk / bn if bn else float('nan'))}). "
            f"Against the adult model on the same findings: {only_l} right only with the larval model, "
            f"{only_a} only with the adult one (exact McNemar p = {p:.2g}).")


#: Other change criteria than the benchmark's (``biology.BENCHMARK_PARAMETERS``, fixed before any
#: calibration): how much the scores depend on where that line was drawn. Not used to score.
CRITERIA = (
    ("the benchmark's: 0.5 Hz (0.02 valence), 10 % of the reference, 2 SE", {}),
    ("1 SE instead of 2", {"z": 1.0}),
    ("3 SE instead of 2", {"z": 3.0}),
    ("half the floors: 0.25 Hz (0.01 valence)", {"min_effect_hz": 0.25, "min_valence_change": 0.01}),
    ("2 SE only: no floor, no relative minimum", {"min_effect_hz": 0.0, "min_valence_change": 0.0,
                                                  "min_relative": 0.0}),
)


def rescore(table: pd.DataFrame, findings: list[dict], **overrides) -> pd.Series:
    """Hit or miss of every scored finding under another change criterion, from its stored effect.

    ``overrides`` replace values of :data:`experiments.biology.BENCHMARK_PARAMETERS` (``min_effect_hz`` in Hz,
    ``min_valence_change``, ``min_relative``, ``z``); the stored mean, standard error and reference of each
    finding are decided again with :func:`experiments.biology.direction`. With no overrides this returns the
    stored statuses.
    """
    from brian2 import Hz

    from . import biology

    p = biology.BENCHMARK_PARAMETERS
    val = {"min_effect_hz": float(p["min_effect_hz"].value / Hz), "min_valence_change":
           float(p["min_valence_change"].value), "min_relative": float(p["min_relative"].value),
           "z": float(p["z"].value)}
    unknown = set(overrides) - set(val)
    if unknown:
        raise ValueError(f"rescore: unknown criterion {sorted(unknown)}; known: {sorted(val)}")
    val.update(overrides)
    measure = {f["id"]: f.get("measure") for f in findings}
    out = {}
    for r in pd.DataFrame(table).itertuples():
        if r.status not in ("hit", "miss"):
            continue
        floor = val["min_valence_change"] if measure.get(r.id) == "learned_valence" else val["min_effect_hz"]
        d = biology.direction(float(r.effect_hz), float(r.se_hz), float(r.reference_hz), floor,
                              val["min_relative"], val["z"])
        if r.test == "compare":
            d = {"increase": "greater", "decrease": "less"}.get(d, d)
        out[r.id] = "hit" if d == r.expect else "miss"
    return pd.Series(out, dtype=object)


def criterion_table(data: dict) -> pd.DataFrame:
    """Accuracy of both halves (larval model) and of the held-out half (adult model) under :data:`CRITERIA`."""
    rows = []
    for label, over in CRITERIA:
        row = {"change criterion": label}
        for name in ("larval", "adult"):
            table = data["models"][name]["table"]
            st = rescore(table, data["findings"], **over)
            for half in ("calibration", "heldout") if name == "larval" else ("heldout",):
                ids = list(_scored(table, half)["id"])
                hits = int((st[ids] == "hit").sum())
                row[f"{name}, {half}"] = f"{_pct(hits / len(ids))} ({hits}/{len(ids)})" if ids else "-"
        rows.append(row)
    return pd.DataFrame(rows)


def criterion_range(data: dict) -> tuple[float, float]:
    """The lowest and highest held-out accuracy of the larval model over :data:`CRITERIA`."""
    lv = data["models"]["larval"]
    held = list(_scored(lv["table"], "heldout")["id"])
    acc = [float((rescore(lv["table"], data["findings"], **over)[held] == "hit").mean()) for _, over in CRITERIA]
    return min(acc), max(acc)


def criterion_reading(data: dict) -> str:
    """The sentence before :func:`criterion_table`: the range of the larval held-out accuracy over :data:`CRITERIA`."""
    lo, hi = criterion_range(data)
    return (f"How much the scores depend on the change criterion (an analysis after scoring; only the benchmark's "
            f"criterion, fixed before calibration, scores): re-deciding every stored effect with other criteria "
            f"moves the larval model's held-out accuracy between {_pct(lo)} and {_pct(hi)}"
            + (f": even the loosest stays below the {_pct(GOALS['heldout_accuracy'])} goal, so the misses are not "
               "only a matter of where the line is drawn." if hi < GOALS["heldout_accuracy"] else
               f": a looser line would reach the {_pct(GOALS['heldout_accuracy'])} goal, so the misses are mostly "
               "effects too small for the benchmark's criterion."))


def near_misses(table: pd.DataFrame, half: str | None = None) -> pd.DataFrame:
    """Misses whose predicted effect points the published way but does not pass the change criterion.

    A finding that expects an ``increase`` (``decrease``) and is predicted ``no_change`` with a positive
    (negative) effect: the model leans the right way, too weakly or too noisily to count.
    """
    t = table if half is None else table[table["half"] == half]
    sign = {"increase": 1.0, "decrease": -1.0}
    lean = t["expect"].map(sign).fillna(0.0) * pd.to_numeric(t["effect_hz"], errors="coerce").fillna(0.0)
    return t[(t["status"] == "miss") & (t["predicted"] == "no_change") & (lean > 0)]


def miss_reading(table: pd.DataFrame, half: str) -> str:
    """One generated sentence on a half's misses: how many are conditioning findings, how many lean right."""
    t = table[table["half"] == half]
    miss = t[t["status"] == "miss"]
    near = near_misses(table, half)
    ids = ", ".join(near["id"]) if len(near) else "none"
    label = {"heldout": "held-out"}.get(half, half)
    return (f"Of the {len(miss)} misses in the {label} half, {int((miss['test'] == 'pairing').sum())} are conditioning "
            f"(pairing) findings; {len(near)} point the published way but stay below the change criterion "
            f"({ids}): the model leans right there, too weakly or too noisily for the benchmark's "
            "virtual larvae.")


def _pct(x) -> str:
    return "n/a" if x is None or not np.isfinite(x) else f"{100 * x:.0f} %"


#: Why stage 2 scores several benchmark seeds, and when that was decided (printed with such a record).
STAGE2_SEEDS_HISTORY = (
    "Stage 2 has averaged the accuracy over benchmark seeds since 2026-12-01 (session 14). Before, it scored "
    "one seed: its best points tied at one calibration accuracy, and the chosen point's learned valence after "
    "pairing with DAN-g1 was significant at fewer than half of the seeds of `docs/learning.md` (commit 5c22dc8, "
    "where the earlier numbers stand), so the choice among the ties rested on one draw of input noise and "
    "virtual larvae. The objective was changed after the held-out results of that model had been seen (most of "
    "its held-out misses were pairing findings whose effects pointed the published way but stayed below the "
    "criterion); the search space, the findings and the benchmark settings were not changed. The held-out "
    "papers of round 3 were committed before the revised model was first run on them.")


#: Why the default model's stage 2 uses objective J3 (printed with a record that has ``objective_defined``).
STAGE2_J3_HISTORY = (
    "Since 2026-12-02 (session 19) the default model is stage 2's best point under objective J3 "
    "(`--mb-objective J3`), which adds to J2 the issue's learning must-show: one pairing with DAN-i1 moves the "
    "learned valence index towards approach and one with DAN-g1 towards avoidance, each significant over the "
    "benchmark's virtual larvae. J2's point met the first and not the second (DAN-g1 significant at 3 of 8 "
    "seeds of `docs/learning.md`), and its tied points differed exactly there. J3 was committed before any "
    "point was scored with it, but after the held-out results had been seen, and its DAN-g1 pairing is the "
    "manipulation of three held-out findings; the summary gives the held-out accuracy without them, and no "
    "round of the split then in the table was unseen by this model. The search space, the findings, the "
    "benchmark settings and stage 1 did not change.")


def stage2_rule(mb: dict) -> str:
    """The plasticity rule stage 2 was searched with (the record's ``rule``), in one paragraph; '' without one."""
    r = mb.get("rule")
    if not r:
        return ""
    old = mb.get("depression_only") or {}
    was = ", ".join(f"{k} = {v['value']:.3g}" for k, v in (old.get("parameters") or {}).items())
    return (f"Plasticity rule: the timing-dependent variant that `experiments/timing_rule.py` fitted on the "
            f"calibration half's pairing findings (eta_b = {r['rule_eta_b_factor']:g} x eta, tau_d = "
            f"{r['rule_tau_d_s']:g} s, the dopamine trace {'added' if r['rule_trace_add'] else 'set'}, w_max = "
            f"{r['rule_w_max']:g}); stage 2 was searched with it (`python -m experiments.calibrate --stage "
            "mushroom_body --mb-objective J3 --rule timing`), and it became the default by the decision fixed before "
            "that search ([timing_rule.md](timing_rule.md#the-variant-on-stage-2s-objective)). The depression-only "
            f"record it replaced is kept beside it (`depression_only`{': ' + was if was else ''}); the earlier "
            "candidate analyses below stay defined on that record.")


def stage2_previous(mb: dict) -> str:
    """Whether the last stage-2 search moved the parameters it replaced (the record's ``previous``), or ''."""
    prev = (mb.get("previous") or {}).get("parameters")
    if not prev:
        return ""
    seeds = (mb.get("previous") or {}).get("seeds") or []
    was = f"the search on {len(seeds)} seed{'s' if len(seeds) != 1 else ''}" if seeds else "the previous search"
    if all(prev.get(k, {}).get("value") == v["value"] for k, v in mb["parameters"].items()):
        accs = {round(a, 9) for a in (mb.get("accuracy_by_seed") or {}).values()}
        was_values = ", ".join(f"{k} = {v['value']:.3g}" for k, v in prev.items())
        return (f"Result: the same point as {was} ({was_values})"
                + ("; its calibration accuracy is the same at every seed" if len(accs) == 1 else "")
                + ", so the default model did not change.")
    rule = " with the depression-only rule" if mb.get("rule") and not mb["previous"].get("rule") else ""
    note = (mb.get("previous") or {}).get("note")
    return ("Result: the point moved from " + ", ".join(f"{k} = {v['value']:.3g}" for k, v in prev.items())
            + f" ({was}{rule}" + (f"; {note}" if note else "") + ").")


def _seeds_text(mb: dict) -> str:
    seeds = mb.get("seeds") or [mb["seed"]]
    if len(seeds) == 1:
        return ""
    return f"each point scored at benchmark seeds {', '.join(map(str, seeds))} and its accuracy averaged, "


def stage2_flatness(mb: dict) -> str:
    """How flat stage 2's objective is near its best (from the record's best points), in one sentence."""
    top = mb["top"]
    rng = {k: (min(t["values"][k] for t in top), max(t["values"][k] for t in top)) for k in top[0]["values"]}
    accs = sorted({_pct(t["accuracy"]) for t in top})
    return (f"How well the calibration half determines these three: the {len(top)} best of the "
            f"{mb['n_evaluations']} points lie within {top[0]['J'] - top[-1]['J']:.4f} of the best J2, at "
            f"{' / '.join(accs)} calibration accuracy, yet span "
            + ", ".join(f"{k} {lo:.3g} to {hi:.3g}" for k, (lo, hi) in rng.items())
            + ": the objective is nearly flat there, and the choice among them is close to arbitrary.")


def _md_table(df: pd.DataFrame) -> str:
    cols = list(df.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for _, r in df.iterrows():
        lines.append("| " + " | ".join(str(r[c]).replace("|", "/").replace("\n", " ") for c in cols) + " |")
    return "\n".join(lines)


def _figures(data: dict, folder: Path) -> dict:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sim.analysis import plots

    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    circuits = sorted({r["circuit"] for r in data["models"]["larval"]["by_circuit"]})
    fig, ax = plt.subplots(figsize=(8, 3.6))
    width = 0.4
    for k, name in enumerate(data["models"]):
        acc = {r["circuit"]: r["accuracy"] for r in data["models"][name]["by_circuit"]}
        ax.bar(np.arange(len(circuits)) + (k - 0.5) * width, [acc.get(c, np.nan) for c in circuits], width,
               label=f"{name} model")
    ax.set_xticks(np.arange(len(circuits)), circuits, rotation=30, ha="right", fontsize=8)
    ax.set_ylabel("accuracy (testable findings)")
    ax.set_ylim(0, 1)
    ax.legend(frameon=False, fontsize=8)
    fig.tight_layout()
    out["circuits"] = plots.save(fig, folder / "accuracy_by_circuit.png")
    fig, ax = plt.subplots(figsize=(8, 3.2))
    for k, name in enumerate(data["models"]):
        m = pd.DataFrame(data["models"][name]["modalities"])
        ax.bar(np.arange(len(m)) + (k - 0.5) * width, m["best_pair_p"], width, label=f"{name} model")
    ax.axhline(0.5, color="k", lw=0.8, ls=":")
    ax.set_xticks(np.arange(len(m)), m["modality"], rotation=30, ha="right", fontsize=8)
    ax.set_ylabel("best DN pair response probability")
    ax.legend(frameon=False, fontsize=8)
    fig.tight_layout()
    out["modalities"] = plots.save(fig, folder / "modalities_to_outputs.png")
    return out


def _write(data: dict, path: Path, figures: dict) -> str:
    """The markdown of docs/biology.md from the report data (over 80 lines: written top to bottom, one
    marked section after the other)."""
    import models as mdl

    lv, ad = data["models"]["larval"], data["models"]["adult"]
    cal = data["calibration"]
    s = lv["sanity"]
    cov = data["sign_coverage"]
    rel = lambda p: Path(p).relative_to(path.parent).as_posix()  # noqa: E731
    t = pd.DataFrame(lv["table"])
    tested = t[t["status"].isin(("hit", "miss"))]
    n_unt = int((t["status"] == "untestable").sum())
    ok = lambda b: "met" if b else "**not met**"  # noqa: E731
    L = ["# Biology benchmark: published larval findings, predicted by the model", "",
         "Written by `larvasim validate --biology` (`experiments/biology_report.py`); every number below comes "
         "from that run (seed {}), and `tests/experiments/test_biology.py` reruns it and compares.".format(
             data["seed"]), "",
         "## Summary", "",
         f"* **{data['n_findings']} findings** from published larval experiments "
         f"(`experiments/data/findings.toml`), {len(tested)} testable by a brain-only model, {n_unt} not "
         "(they need the ventral nerve cord, motor output, or neurons absent from the data; listed below).",
         "* Split **by paper, before any fitting** (`experiments/data/findings_split.csv`): calibration half "
         "and held-out half.",
         f"* **Default model** (`larval_lif`, structure `{cal.get('structure', '?')}`, literature signs): "
         f"calibration half {_pct(lv['accuracy']['calibration'])}, **held-out half "
         f"{_pct(lv['accuracy']['heldout'])}** (goal >= {_pct(GOALS['heldout_accuracy'])}: "
         f"{ok(lv['accuracy']['heldout'] >= GOALS['heldout_accuracy'])}).",
         heldout_spread(lv),
         *filter(None, [seen_reading(lv, cal.get("mushroom_body")), previous_reading(lv, cal.get("mushroom_body")),
                        late_testable_reading(lv, data["findings"], cal), added_reading(lv, data["findings"])]),
         statistics_reading(lv, ad),
         *filter(None, [null_reading(lv, path.with_name("biology_null.json")),
                        lesions_reading(lv, path.with_name("sign_lesions.json")), second_reading_bullet(lv)]),
         *([round_summary(lv)] if round_summary(lv) else []),
         f"* **Adult model** (Shiu et al. 2024 parameters on the larval wiring): calibration "
         f"{_pct(ad['accuracy']['calibration'])}, held-out {_pct(ad['accuracy']['heldout'])}.",
         "", "| must-show | larval model | adult model | goal | status |", "|---|---|---|---|---|",
         f"| held-out accuracy | {_pct(lv['accuracy']['heldout'])} | {_pct(ad['accuracy']['heldout'])} | "
         f">= {_pct(GOALS['heldout_accuracy'])} | {ok(lv['accuracy']['heldout'] >= GOALS['heldout_accuracy'])} |",
         f"| modalities reaching a DN pair (p >= 0.5, 10 trials) | {s['modalities_reaching']}/{s['n_modalities']} | "
         f"{ad['sanity']['modalities_reaching']}/{ad['sanity']['n_modalities']} | 12/12 | "
         f"{ok(s['modalities_reaching'] >= GOALS['modalities_reaching'])} |",
         f"| Spearman rho, cascade hit vs spiking response probability | {s['rho']:+.2f} | "
         f"{ad['sanity']['rho']:+.2f} | >= +0.50 | {ok(s['rho'] >= GOALS['rho'])} |",
         f"| no stimulus: mean rate | {s['quiet_hz']:.3f} Hz | {ad['sanity']['quiet_hz']:.3f} Hz | quiet | "
         f"{ok(s['quiet_hz'] < 0.1)} |",
         f"| all modalities at once: mean rate / share > 100 Hz | {s['all_mean_hz']:.1f} Hz / "
         f"{100 * s['all_frac_hot']:.1f} % | {ad['sanity']['all_mean_hz']:.1f} Hz / "
         f"{100 * ad['sanity']['all_frac_hot']:.1f} % | share <= 5 % | {ok(s['all_frac_hot'] <= GOALS['all_frac_hot'])} |",
         f"| KC sparseness, one odour (KCs firing in >= half the trials) | {100 * s['kc_fraction']:.1f} % | "
         f"{100 * ad['sanity']['kc_fraction']:.1f} % | reported | - |", "",
         kc_comparison(s["kc_fraction"]), ""]
    L += ["![accuracy by circuit]({})".format(rel(figures["circuits"])), "",
          "![modalities to outputs]({})".format(rel(figures["modalities"])), ""]
    L += ["## How a finding is scored", "",
          "Each finding is one of four tests (`experiments/biology.py`): **response** (stimulus vs none: does the "
          "readout's mean rate go up, down, or stay), **silencing** (the readout's response with the named "
          "neurons' output cut vs intact), **compare** (readout A above readout B), **pairing** (odour paired "
          "with activation of a neuron in a conditioning protocol of `experiments/learning.py`: together, unless the "
          "finding's `protocol` says unpaired or backward; the readout is the MBONs' learning effect or, for memory "
          "scores, the learned valence index). Sensory neurons are "
          "driven at their modality's rate (`models/data/sensory_rates.csv`), other neurons at "
          "the benchmark's activation rate; neurons that are driven are left out of the readout. A change counts "
          "when the paired mean difference over trials exceeds 0.5 Hz (0.02 for the valence index), 10 % of the "
          "reference rate and 2 standard errors (`BENCHMARK_PARAMETERS`, fixed before calibration). A pairing "
          f"finding runs {data['pairing_larvae']} virtual larvae (the issue's "
          "standard for a learning effect); this number was raised from 8 after the held-out results of the "
          "8-larva benchmark had been seen (their accuracy varied with the benchmark seed), so it is the one "
          "benchmark setting not chosen blind to the held-out half.", ""]
    fit = pd.DataFrame(lv["by_half_fitted"]).round(2)
    reach = reach_reading(t, data.get("pairing_reach", []), "heldout")
    L += ["## Accuracy by half and circuit", "",
          _md_table(pd.DataFrame(lv["by_half"]).round(2)), "",
          miss_reading(t, "heldout") + (" " + reach if reach else "") + " Whether another learning rate would "
          "hit them, and why one pairing moves the learned valence so little in the model: "
          "[docs/biology_learning_rate.md](biology_learning_rate.md) (an analysis after scoring).", "",
          *([ceiling_reading(data), ""] if ceiling_reading(data) else []),
          criterion_reading(data), "", _md_table(criterion_table(data)), "",
          "The held-out half by the round in which each paper joined the split (" + "; ".join(
              f"round {k}: {v}" for k, v in data.get("rounds", {}).items()) + "):", "",
          _md_table(pd.DataFrame([{"round": k, **v, "accuracy": round(v["accuracy"], 2),
                                   "adult model": round(ad["heldout_by_round"].get(k, {}).get("accuracy", np.nan), 2)}
                                  for k, v in lv["heldout_by_round"].items()])), "",
          "Without the pairing findings (stage 1 of the calibration fitted without them):", "", _md_table(fit), "",
          _md_table(pd.DataFrame(lv["by_circuit"]).round(2)), "", *second_reading_lines(lv),
          *explained_lines(data)]
    L += ["## Calibration", "",
          f"Script `{cal['script']}`, objective: `{cal.get('objective', cal.get('objective_name'))}` "
          f"(seed {cal['seed']}), on the calibration half only (stage 1 leaves the pairing findings out: each "
          f"costs a whole conditioning protocol per candidate; stage 2 below fits them). "
          f"{len(cal.get('structures', {}))} weight structures "
          "were compared; the best objective wins, the simpler one on a tie. To rerun it: "
          "`python -m experiments.calibrate --stage structure --store DIR` (add `--write` to record it: the shipped "
          "stage 2 is kept only if stage 1 chooses the shipped structure and point); the whole fit, stage 2 with the "
          "default model's objective and rule: `python -m experiments.calibrate --store DIR --write` (a stopped run "
          "resumes from DIR; `--shard K/N` in N processes on one store, K = 0..N-1, shares the points between "
          "them):", ""]
    if "structures" in cal:
        rows = [{"structure": n, "J": round(r["J"], 3), "calibration accuracy": _pct(r["accuracy"]),
                 "modalities reaching": r["sanity"]["modalities_reaching"], "rho": round(r["sanity"]["rho"], 2),
                 "share > 100 Hz": _pct(r["sanity"]["all_frac_hot"]),
                 "parameters": ", ".join(f"{k} = {v:.3g}" for k, v in r["values"].items()),
                 "evaluations": r["n_evaluations"], "evaluated": r.get("evaluated", cal.get("date", ""))}
                for n, r in cal["structures"].items()]
        L += [_md_table(pd.DataFrame(rows)), ""]
        L += ["Structures (`experiments/calibrate.py`): " + "; ".join(
            f"`{n}`: {STRUCTURE_TEXT[n]}" for n in cal["structures"] if n in STRUCTURE_TEXT) + ". "
            f"The default uses `{cal.get('structure')}`. Structures evaluated on an earlier date are not "
            "rerun: the same seed, objective and findings give the same evaluations.", ""]
        L += _added_structures(cal)
        L += _stage1_spread(path.with_name("stage1_spread.json"))
    et_json = path.with_name("edge_threshold.json")
    if cal.get("edge_threshold") and et_json.is_file():
        from .edge_threshold import adopted_text

        L += ["### Weak connections left out", "", adopted_text(cal, json.loads(et_json.read_text())), ""]
    mb = cal.get("mushroom_body")
    if mb:
        vals = ", ".join(f"{k} = {v['value']:.3g}" for k, v in mb["parameters"].items())
        L += ["### Stage 2: mushroom-body output and learning rate", "",
              f"With the structure's parameters fixed, `{'`, `'.join(mb['parameters'])}` were searched "
              f"({mb['n_evaluations']} evaluations, seed {mb['seed']}, {_seeds_text(mb)}"
              f"{mb.get('pairing_larvae', 8)} virtual larvae per pairing finding), objective: `{mb['objective']}`. "
              f"The calibration half holds {mb['n_pairing_findings_calibration']} testable pairing findings; the "
              "held-out half's were never run during the fit. `mbon_gain` multiplies every input weight of an "
              "MBON (introduced for the normalised structures, under which an MBON, with hundreds of Kenyon-cell "
              "synapses, is driven below threshold by an odour and conditioning cannot show in its output; "
              "its range includes values below 1). `mbin_gain` does the same for the mushroom-body input "
              "neurons (with one weight per synapse an odour alone drives the DANs at about 18 Hz, so every "
              "odour presentation reinforces itself and conditioning is not odour-specific). `eta` is the "
              "learning rate of the dopaminergic rule in the conditioning protocols.", "",
              f"Best point: {vals}; calibration accuracy (pairing included) {_pct(mb['calibration_accuracy'])}"
              + (" (mean over the seeds; " + ", ".join(f"seed {k}: {_pct(a)}" for k, a in mb["accuracy_by_seed"].items())
                 + ")" if len(mb.get("accuracy_by_seed", {})) > 1 else "")
              + f", {'J3' if mb.get('seen_heldout') else 'J2'} = {mb['J']:.3f}.", ""]
        if mb.get("rule"):
            L += [stage2_rule(mb), ""]
        if len(mb.get("seeds", [])) > 1:
            L += [STAGE2_SEEDS_HISTORY + (" " + STAGE2_J3_HISTORY if mb.get("objective_defined") else "")
                  + " " + stage2_previous(mb), ""]
        if mb.get("top"):
            L += [stage2_flatness(mb) + " What the choice among the equally good points does to the pairing "
                  "findings: [docs/biology_learning_rate.md](biology_learning_rate.md#equally-good-calibration-points).",
                  ""]
    L += candidates_section(path.parent)
    model = mdl.get_model("larval_lif")

    def shown(d):  # the value in the parameter's own unit (Brian2 would print 440 mV as 0.44 V)
        return f"{d['value']:.6g}" + ("" if d["unit"] == "1" else f" {d['unit']}")

    prm = pd.DataFrame([{"parameter": n, "value": shown(model.parameters[n].to_dict()),
                         "source": model.parameters[n].source} for n in model.parameters])
    L += ["### Parameters of the default model", "", _md_table(prm), ""]
    L += ["### Signs", "",
          f"Literature sign table (`models/data/transmitters.csv`): {cov['neurons']} of {cov['n_neurons']} "
          f"neurons ({_pct(cov['frac_neurons'])}) making {_pct(cov['frac_synapses'])} of all synapses have a "
          f"sourced transmitter; {cov['inhibitory']} neurons are inhibitory. All others are excitatory by "
          "default: the main structural limit of the model (larval inhibition is under-sourced).", ""]
    if data.get("mbon_signs"):
        L += [mbon_sign_reading(data["mbon_signs"]), ""]
    cols = ["id", "circuit", "half", "test", "expect", "predicted", "effect_hz", "status"]
    show = t[cols].copy()
    show["effect_hz"] = show["effect_hz"].map(lambda x: "" if not np.isfinite(x) else f"{x:+.2f}")
    fd = {f["id"]: f for f in data["findings"]}
    show.insert(1, "finding (paper, figure)", [f"{fd[i]['finding']} ({fd[i]['paper']}, {fd[i]['figure']})"
                                               for i in show["id"]])
    ad_t = pd.DataFrame(ad["table"]).set_index("id")
    show["adult model"] = [ad_t.loc[i, "status"] for i in show["id"]]
    shares = null_shares(lv, path.with_name("biology_null.json"))
    labels = {"wiring": "shuffled brains hitting it", "signs": "permuted signs hitting it"}
    for kind, v in (shares or {}).items():
        show[labels[kind]] = [f"{100 * v['share'][i]:.0f} %" if i in v["share"] else "" for i in show["id"]]
    null_note = (" The last columns: the share of the null brains of [biology_null.md](biology_null.md) ("
                 + ", ".join(f"{v['n']} {dict(wiring='shuffled connectomes', signs='draws of permuted signs')[k]}"
                             for k, v in shares.items()) + ") that hit the finding too.") if shares else ""
    L += ["## Every testable finding", "", "Effect: the paired mean difference (Hz; valence-index units for "
          "learned valence). Predictions that are `skipped` were not run." + null_note, "",
          _md_table(show[show["status"].isin(("hit", "miss"))]), ""]
    unt = t[t["status"] == "untestable"][["id", "reason"]]
    unt.insert(1, "paper", [fd[i]["paper"] for i in unt["id"]])
    L += ["## Findings a brain-only model cannot test", "", f"{len(unt)} findings, counted apart:", "",
          _md_table(unt), ""]
    L += ["## Citations", ""] + sorted({f"* {f['citation']}. doi:{f['doi']}" for f in data["findings"]}) + [""]
    return "\n".join(L)


def _added_structures(cal: dict) -> list[str]:
    """The report's paragraph on the structures added to stage 1 after the first fit
    (:data:`experiments.calibrate.ADDED_STRUCTURES`), from the calibration record; none when it holds none."""
    from .calibrate import ADDED_STRUCTURES

    st = cal.get("structures") or {}
    added = [n for n in ADDED_STRUCTURES if n in st]
    if not added:
        return []
    first = {n: r for n, r in st.items() if n not in ADDED_STRUCTURES}
    old = max(first, key=lambda n: first[n]["J"])
    new = max(added, key=lambda n: st[n]["J"])
    dates = sorted({st[n].get("evaluated", "") for n in added})
    scores = "; ".join(f"`{n}` J = {st[n]['J']:.3f} ({_pct(st[n]['accuracy'])} of the calibration findings)"
                       for n in added)
    if cal.get("structure") == old:
        verdict = (f"none beats `{old}` (J = {first[old]['J']:.3f}), so the default structure and its parameters "
                   "stay as they were, and stage 2 below, fitted on them, stands")
    else:
        verdict = f"`{cal.get('structure')}` is stage 1's choice now"
    return [f"Added on {', '.join(dates)}: {len(added)} structures that fill gaps of the first fit (the adaptive "
            "structures had been tried on the axo-dendritic synapses only, and adaptation never with input "
            f"normalisation), searched as the first {len(first)} were, with the design and the decision rule (the best J "
            "wins; if a new structure won, stage 2 would be refitted on it and it would replace the default only "
            "with a J3 at least the default's) committed before any of their points was scored "
            f"(`experiments/calibrate.py`, `ADDED_STRUCTURES`). Their best points: {scores}. By that rule "
            f"{verdict}. The recorded best points of the first {len(first)} were rescored first and reproduced their J.",
            ""]


#: One line per calibrated weight structure (see :data:`experiments.calibrate.STRUCTURES`).
STRUCTURE_TEXT = {
    "global": "one weight per synapse, all four synapse types (the adult model's rule)",
    "normalised": "weights onto a neuron scaled by (n_ref / its input synapses) ** input_exponent",
    "normalised_inh": "the same, with inhibitory synapses scaled by inh_scale",
    "normalised_ad": "`normalised` on the axo-dendritic synapses only",
    "normalised_inh_ad": "`normalised_inh` on the axo-dendritic synapses only",
    "adaptive_ad": "one weight per axo-dendritic synapse and spike-frequency adaptation (the threshold rises "
                   "by adapt_increment at each spike and relaxes with tau_adapt)",
    "adaptive_inh_ad": "`adaptive_ad` with inhibitory synapses scaled by inh_scale",
    "adaptive": "`adaptive_ad` on all four synapse types (added 2026-12-05)",
    "adaptive_inh": "`adaptive_inh_ad` on all four synapse types (added 2026-12-05)",
    "adaptive_norm_inh_ad": "`adaptive_inh_ad` with weights normalised as in `normalised` (added 2026-12-05)",
}


def report(path="docs/biology.md", figures=None, connectome=None, *, seed: int = 0, pairing: bool = True,
           log=None, spread_seeds=SPREAD_SEEDS) -> dict:
    """Run the benchmark and write the report, its figures and ``<path stem>.json``; return the data
    (``spread_seeds``: as :func:`run_benchmark`'s)."""
    import connectomes
    from larvasim.util import atomic_write_text

    path = Path(path)
    figures = Path(figures) if figures else path.parent / "figures" / "biology"
    c = connectome if connectome is not None else connectomes.load("winding2023")
    t0 = time.perf_counter()
    data = run_benchmark(c, seed=seed, pairing=pairing, spread_seeds=spread_seeds)
    data["wall_time_s"] = time.perf_counter() - t0
    figs = _figures(data, figures)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, _write(data, path, figs))
    atomic_write_text(path.with_suffix(".json"), json.dumps(data, indent=1, default=_json) + "\n")
    if log:
        lv = data["models"]["larval"]
        log(f"wrote {path}: held-out accuracy {_pct(lv['accuracy']['heldout'])}, calibration "
            f"{_pct(lv['accuracy']['calibration'])} ({data['wall_time_s']:.0f} s)")
    return data


def render(path="docs/biology.md", figures=None) -> dict:
    """Write the report and its figures again from its stored run (``<path stem>.json``), without running a model:
    for after the documents it quotes (docs/biology_null.md, sign_lesions.md, biology_learning_rate.md,
    kc_sparseness.md, timing_rule.md) were regenerated, or after a change to the report's wording. Returns the
    stored data; an error names the missing store."""
    from larvasim.util import atomic_write_text

    path = Path(path)
    store = path.with_suffix(".json")
    if not store.is_file():
        raise FileNotFoundError(f"{store}: no stored run to render; run larvasim validate --biology first")
    data = json.loads(store.read_text())
    figures = Path(figures) if figures else path.parent / "figures" / "biology"
    atomic_write_text(path, _write(data, path, _figures(data, figures)))
    return data


def _json(o):
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)


def main(argv=None) -> int:
    """``larvasim validate --biology [--out docs/biology.md] [--seed 0] [--no-pairing] [--render]``."""
    ap = argparse.ArgumentParser(prog="larvasim validate --biology",
                                 description="Score the default larval model on published larval findings.",
                                 epilog="To score a model of your choice (or findings of your own) and write one "
                                        "table instead: larvasim validate --biology --table OUT.csv [--model M] "
                                        "[--set NAME=VALUE] [--ids 'olf-*'] ... (larvasim validate --biology "
                                        "--table x.csv --help). Why the model predicts what it does for one finding: larvasim validate --biology "
                                        "--explain ID (the readout's synaptic input by presynaptic group).")
    ap.add_argument("-o", "--out", default="docs/biology.md")
    ap.add_argument("--figures", default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-pairing", action="store_true", help="skip the pairing (conditioning) findings")
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--render", action="store_true",
                    help="run no model: write the report again from its stored run (<out stem>.json), e.g. after "
                         "the documents it quotes were regenerated")
    args = ap.parse_args(argv)
    if args.render:
        try:
            render(args.out, args.figures)
        except FileNotFoundError as exc:
            print(f"larvasim: error: {exc}", file=sys.stderr)
            return 2
        print(f"rendered {args.out} from {Path(args.out).with_suffix('.json')}", file=sys.stderr)
        return 0
    import connectomes

    c = connectomes.load("winding2023", data_dir=args.data_dir)
    report(args.out, args.figures, c, seed=args.seed, pairing=not args.no_pairing,
           log=lambda m: print(m, file=sys.stderr))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
