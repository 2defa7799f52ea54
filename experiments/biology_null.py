"""The biology benchmark against null models: how much of the score is the larva's wiring, and its signs?

Writes ``docs/biology_null.md``.

``docs/biology.md`` scores the default larval model on published larval findings, and compares it with the
adult model and with a predictor that has no brain (each test type's commonest outcome). It does not say how
much of what the model gets right it owes to *this* wiring diagram: a network with the same neurons, the same
numbers of partners and synapses per neuron and the same signs, but wired at random, might get as much. This
module scores the same model, unchanged, on degree-preserving shuffles of the connectome
(:func:`connectomes.nullmodels.shuffle`: equal-count double-edge swaps per synapse type, which keep every
neuron's in- and out-degree and its input and output synapse totals, and therefore its sign and cell type), and
on the real wiring with the sourced signs permuted (:func:`permuted_signs`, the second null below).

The design, fixed before the shuffled brains were scored (2026-12-04, session 30)
--------------------------------------------------------------------------------
* Brains: the real connectome and :data:`BRAINS` shuffles (seeds 0 to 19, :data:`SWAPS` swap attempts per
  connection, the null model's default). One shuffle (seed 0) had been scored once, in a trial run of the
  scoring code, before this design was written down (held-out 10 of 23, calibration 8 of 21); nothing was
  changed after it.
* Model: the default larval model as it stands (``experiments.biology_report.default_network``: calibrated
  parameters, literature signs), the same on every brain. It is not recalibrated on the shuffled brains:
  its parameters were fitted on the real one (calibration half), which favours the real brain on the
  calibration half. The held-out half is the fairer comparison.
* Benchmark: every finding of both halves, pairing (conditioning) findings included, benchmark seed 0, its
  trials, virtual larvae and change criterion (``experiments.biology``). The findings counted in a half are
  those the real brain scores (hit or miss); a finding a shuffled brain cannot run counts as a miss there.
* Statistic: the number of hits per half. p is the share of shuffled brains that score at least as many
  hits as the real one, counted with the real brain (``(1 + #{null >= real}) / (1 + N)``; one-sided; with 20
  brains the smallest possible p is 1/21 = 0.048).
* Per finding: the share of shuffled brains that hit it. A hit of the real brain that at least half of the
  shuffled brains also get is called *generic* (what the neurons' degrees, signs and the stimulus alone give);
  one that fewer than half get, *wiring-specific*.

The sign null (declared on 2026-12-04 after the shuffled brains had been scored, before any sign draw was)
---------------------------------------------------------------------------------------------------------
* Brains: the real wiring with :data:`BRAINS` draws of permuted signs (:func:`permuted_signs`, seeds 0 to 19):
  the default model's sourced inhibitory neurons (GABA and glutamate in ``models/data/transmitters.csv``)
  become excitatory and as many neurons drawn at random become inhibitory. Modulatory neurons (no fast sign)
  and the Kenyon cells keep their signs: the learning rule needs excitatory KC -> MBON synapses. (The first
  launch drew among the KCs too and stopped at draw 0, in its first conditioning run, before any finding was
  scored; the KCs were then excluded.)
* Everything else as for the shuffled brains: model, findings, benchmark seed, statistic, per-finding shares.

Run: ``python -m experiments.biology_null [--out docs/biology_null.md] [--jobs 2]`` (41 brains, about 90 s each
on one core; every brain is kept in ``<out stem>.json`` as it finishes and a rerun resumes from it, scoring on a
stored brain only the findings added to the table or changed since). The tests
rerun the real brain, shuffle 0 and sign draw 0 on a few findings and compare them with the stored rows.
"""
from __future__ import annotations

import argparse
import datetime
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from . import biology

__all__ = ["BRAINS", "KC_ODOUR", "RERUN_IDS", "SIGNS_PREFIX", "SWAPS", "brain_hits", "by_finding", "family", "figure",
           "kc_code", "kc_reading", "main", "p_value", "pairing_ratios", "permuted_signs", "reading", "report",
           "score_brain", "sign_null_network", "signs_reading", "summary"]

#: Shuffled brains (seeds 0 .. BRAINS - 1).
BRAINS = 20
#: Swap attempts per connection of each synapse type (connectomes.nullmodels.shuffle's default).
SWAPS = 10.0
#: Findings the tests rerun on the real brain and shuffle 0 (non-pairing; chosen after the run, where the two
#: brains differ, and one both hit).
RERUN_IDS = ("mb-esc21-04", "mb-man23-01", "mb-mn14-02", "mb-moh23-02")
#: Brains of the sign null are stored as "signs-<seed>".
SIGNS_PREFIX = "signs-"
#: The name of the unshuffled brain in the store.
REAL = "real"
#: A real-brain hit is "generic" when at least this share of the shuffled brains hit it too.
GENERIC_SHARE = 0.5
_HALF_LABEL = {"calibration": "Calibration", "heldout": "Held-out"}
_COLUMNS = ("id", "circuit", "half", "test", "expect", "predicted", "effect_hz", "status")


def permuted_signs(signs, seed: int, keep=None) -> np.ndarray:
    """The sign null: the inhibitory neurons of ``signs`` moved to neurons drawn at random.

    Parameters
    ----------
    signs : array of float
        One sign per neuron: +1, -1, or 0 for a modulatory neuron (``sim.Network.signs``).
    seed : int
        Seed of the draw (``numpy.random.default_rng``).
    keep : array of bool, optional
        Neurons that keep their sign and are never drawn (the sign null keeps the Kenyon cells).

    Returns
    -------
    numpy.ndarray
        As many -1 among the movable neurons (fast sign, not kept) as ``signs`` has there, drawn at random;
        every other movable neuron +1; modulatory and kept neurons as in ``signs``.
    """
    signs = np.asarray(signs, dtype=float)
    movable = (signs != 0) if keep is None else (signs != 0) & ~np.asarray(keep, dtype=bool)
    out = signs.copy()
    out[movable] = 1.0
    pick = np.random.default_rng(int(seed)).choice(np.flatnonzero(movable), size=int(np.sum(signs[movable] < 0)),
                                                   replace=False)
    out[pick] = -1.0
    return out


def sign_null_network(network, seed: int):
    """``network`` with its signs permuted (:func:`permuted_signs`, draw ``seed``), the Kenyon cells kept: the
    learning rule needs excitatory KC -> MBON synapses."""
    import sim
    from connectomes.winding2023 import KC_CELLTYPE

    c = network.connectome
    kcs = np.zeros(c.n_neurons, dtype=bool)
    kcs[c.select(celltype=KC_CELLTYPE).indices] = True
    return sim.Network(c, signs=permuted_signs(network.signs, seed, keep=kcs), device=network.device)


def family(brain: str) -> str | None:
    """``"wiring"`` (a shuffle's seed), ``"signs"`` (``"signs-<seed>"``) or None (the real brain)."""
    return None if brain == REAL else ("signs" if str(brain).startswith(SIGNS_PREFIX) else "wiring")


def score_brain(connectome, brain, *, seed: int = 0, ids=None) -> list[dict]:
    """Score the default larval model on one brain.

    Parameters
    ----------
    connectome : connectomes.Connectome
        The real connectome.
    brain : str
        ``"real"``, the seed of a shuffle of ``connectome`` (``"3"``) or the real wiring with permuted signs
        (``"signs-3"``, :func:`permuted_signs`, the Kenyon cells kept).
    seed : int
        Benchmark seed.
    ids : sequence of str, optional
        Only these findings; default all.

    Returns
    -------
    list of dict
        One row per finding: ``id``, ``circuit``, ``half``, ``test``, ``expect``, ``predicted``, ``effect_hz``
        (None where there is none), ``status``.
    """
    from connectomes.nullmodels import shuffle

    from .biology_report import default_network

    kind = family(brain)
    c = shuffle(connectome, seed=int(brain), swaps_per_connection=SWAPS) if kind == "wiring" else connectome
    net = default_network(c)
    if kind == "signs":
        net = sign_null_network(net, int(str(brain)[len(SIGNS_PREFIX):]))
    findings = biology.load_findings()
    if ids is not None:
        findings = [f for f in findings if f.id in set(ids)]
    sc = biology.score(net, findings, seed=seed)
    rows = []
    for r in sc.table.to_dict("records"):
        row = {k: r[k] for k in _COLUMNS}
        row["effect_hz"] = None if not np.isfinite(row["effect_hz"]) else float(row["effect_hz"])
        rows.append(row)
    return rows


#: The odour whose Kenyon-cell code the report gives for the default model and each sign draw.
KC_ODOUR = "pentyl acetate"


def kc_code(connectome, draws) -> dict:
    """Kenyon cells that :data:`KC_ODOUR` drives (``experiments.odour_coding.coding``: its measured receptor
    responses, 8 trials, a KC responds above 2 Hz) with the sourced signs (``"default"``) and with each sign
    draw in ``draws`` (seeds of :func:`permuted_signs`)."""
    from connectomes.winding2023 import KC_CELLTYPE

    from .biology_report import default_network
    from .odour_coding import coding

    base = default_network(connectome)
    out = {"odour": KC_ODOUR, "n_kcs": int(len(connectome.select(celltype=KC_CELLTYPE).indices)),
           "default": coding(connectome, [KC_ODOUR], network=base)["odours"][0]["kcs"], "draws": {}}
    for k in draws:
        net = sign_null_network(base, int(k))
        out["draws"][str(k)] = coding(connectome, [KC_ODOUR], network=net)["odours"][0]["kcs"]
    return out


def kc_reading(data: dict) -> str:
    """The sign null's Kenyon-cell code in a phrase (the README quotes it)."""
    kc = data["kc_code"]
    return (f"one odour then drives a median of {np.median(list(kc['draws'].values())):g} of the {kc['n_kcs']} "
            f"Kenyon cells instead of {kc['default']}")


def _stored(brain: str, rows: list[dict]) -> list[dict]:
    """The rows kept in the store: every column for the real brain, id, status and effect for a null brain (the
    finding's other columns are the real brain's)."""
    return rows if brain == REAL else [{k: r[k] for k in ("id", "status", "effect_hz")} for r in rows]


def _dumps(data: dict) -> str:
    """The store as JSON: one line per brain (a megabyte indented)."""
    head = {k: v for k, v in data.items() if k != "brains"}
    brains = ",\n".join(f" {json.dumps(k)}: {json.dumps(v)}" for k, v in data["brains"].items())
    return json.dumps(head, indent=1)[:-2] + (',\n "brains": {\n' + brains + "\n }\n}\n")


def _worker(args):  # a pool process: its own connectome
    import connectomes

    brain, seed, ids = args
    t0 = time.perf_counter()
    rows = score_brain(connectomes.load("winding2023"), brain, seed=seed, ids=ids)
    return brain, rows, time.perf_counter() - t0


def _counted(data: dict) -> dict:
    """The findings each half counts: those the real brain scores (hit or miss)."""
    real = data["brains"][REAL]["rows"]
    return {h: [r["id"] for r in real if r["half"] == h and r["status"] in ("hit", "miss")] for h in biology.HALVES}


def brain_hits(data: dict) -> pd.DataFrame:
    """Hits per brain and half (rows: brains, the real one first; columns: the halves)."""
    counted = _counted(data)
    out = {}
    for name, b in data["brains"].items():
        status = {r["id"]: r["status"] for r in b["rows"]}
        out[name] = {h: sum(status.get(i) == "hit" for i in ids) for h, ids in counted.items()}
    df = pd.DataFrame.from_dict(out, orient="index")
    return df.loc[_order(df.index)]


def _order(keys) -> list[str]:
    """The real brain, the shuffles by seed, then the sign permutations by seed."""
    keys = list(keys)
    wiring = sorted((k for k in keys if family(k) == "wiring"), key=int)
    signs = sorted((k for k in keys if family(k) == "signs"), key=lambda k: int(k[len(SIGNS_PREFIX):]))
    return [k for k in keys if k == REAL] + wiring + signs


def _null_keys(data: dict, kind: str) -> list[str]:
    return [k for k in _order(data["brains"]) if family(k) == kind]


def p_value(real: int, null) -> float:
    """Share of the shuffled brains scoring at least ``real`` hits, counting the real brain: (1 + k) / (1 + N)."""
    null = np.asarray(list(null))
    return float((1 + np.sum(null >= real)) / (1 + len(null)))


def summary(data: dict, kind: str = "wiring") -> dict:
    """Per half: findings, real hits, the null brains' hits (mean, median, range) and p; ``kind`` is the null
    (``"wiring"``: shuffled connectomes; ``"signs"``: permuted signs)."""
    hits = brain_hits(data)
    counted = _counted(data)
    null = hits.loc[_null_keys(data, kind)]
    out = {"brains": int(len(null))}
    if null.empty:
        return out
    for h in biology.HALVES:
        n, k, v = len(counted[h]), int(hits.loc[REAL, h]), null[h].to_numpy()
        out[h] = {"n": n, "real": k, "null_mean": float(v.mean()), "null_median": float(np.median(v)),
                  "null_min": int(v.min()), "null_max": int(v.max()), "p": p_value(k, v),
                  "null_at_least": int(np.sum(v >= k))}
    return out


def by_finding(data: dict, kind: str = "wiring") -> pd.DataFrame:
    """One row per counted finding: the real brain's status and the share of the null brains (``kind``) that hit
    it."""
    counted = _counted(data)
    real = {r["id"]: r for r in data["brains"][REAL]["rows"]}
    shuffled = [{r["id"]: r["status"] for r in data["brains"][k]["rows"]} for k in _null_keys(data, kind)]
    rows = []
    for h in biology.HALVES:
        for i in counted[h]:
            share = float(np.mean([s.get(i) == "hit" for s in shuffled]))
            r = real[i]
            kind = ("wiring-specific" if share < GENERIC_SHARE else "generic") if r["status"] == "hit" else (
                "missed; most shuffled brains hit it" if share >= GENERIC_SHARE else "missed")
            rows.append({"id": i, "half": h, "circuit": r["circuit"], "test": r["test"], "expect": r["expect"],
                         "real": r["status"], "null_hit_share": share, "kind": kind})
    return pd.DataFrame(rows)


def _pct(k, n) -> str:
    return f"{100 * k / n:.0f} %" if n else "n/a"


def reading(data: dict) -> str:
    """The headline sentence (the README quotes it)."""
    s = summary(data)
    h, c = s["heldout"], s["calibration"]
    return (f"On {s['brains']} degree-preserving shuffles of the connectome (the same neurons, signs, degrees and "
            f"synapse totals, wired at random), the same model scores a median {h['null_median']:g} of {h['n']} "
            f"held-out findings (range {h['null_min']} to {h['null_max']}) against the real brain's {h['real']} "
            f"(p = {h['p']:.3f}), and a median {c['null_median']:g} of {c['n']} calibration findings (range "
            f"{c['null_min']} to {c['null_max']}) against {c['real']} (p = {c['p']:.3f})")


def signs_reading(data: dict) -> str:
    """The sign null's headline sentence."""
    s = summary(data, "signs")
    h, c = s["heldout"], s["calibration"]
    n_inh = data.get("n_inhibitory", "the")
    return (f"With the real wiring but its {n_inh} inhibitory neurons' sign moved to as many neurons drawn at random "
            f"({s['brains']} draws), the same model scores a median {h['null_median']:g} of {h['n']} held-out "
            f"findings (range {h['null_min']} to {h['null_max']}) against the sourced signs' {h['real']} "
            f"(p = {h['p']:.3f}), and a median {c['null_median']:g} of {c['n']} calibration findings (range "
            f"{c['null_min']} to {c['null_max']}) against {c['real']} (p = {c['p']:.3f})")


def _kinds(table: pd.DataFrame, half: str) -> dict:
    t = table[table["half"] == half]
    return {k: sorted(g["id"]) for k, g in t.groupby("kind")}


def _n(k, noun: str) -> str:
    return f"{k:g} {noun}" + ("" if k == 1 else "s")


def pairing_ratios(data: dict, ids, kind: str = "wiring") -> dict:
    """Per pairing finding: the shuffled brains' median effect in the published direction, as a share of the real
    brain's (negative: the median shuffled brain moves the other way)."""
    real = {r["id"]: r for r in data["brains"][REAL]["rows"]}
    out = {}
    for i in ids:
        sign = -1.0 if real[i]["expect"] == "decrease" else 1.0
        null = [next(r["effect_hz"] for r in data["brains"][k]["rows"] if r["id"] == i)
                for k in _null_keys(data, kind)]
        null = np.array([np.nan if v is None else v for v in null], dtype=float)
        out[i] = float(np.nanmedian(sign * null) / (sign * real[i]["effect_hz"]))
    return out


def _tests(t: pd.DataFrame, ids) -> str:
    """``"3 pairing, 1 response"``: the test types of ``ids``."""
    if not ids:
        return "none"
    counts = t.loc[list(ids), "test"].value_counts()
    return ", ".join(f"{n} {test}" for test, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def _findings_text(ids) -> str:
    return ", ".join(ids) if ids else "none"


def _signs_section(data: dict, table: pd.DataFrame) -> list[str]:
    """The sign null's section of the report."""
    s = summary(data, "signs")
    h = s["heldout"]
    changed = table[table["kind"].isin(["wiring-specific", "missed; most shuffled brains hit it"])]
    lines = ["", "## Signs permuted", "",
             "The second null keeps the real wiring and moves the signs: the default model's sourced inhibitory "
             f"neurons ({data.get('n_inhibitory', '?')} of them; `models/data/transmitters.csv`) become excitatory, "
             "and as many neurons drawn at random among those with a fast synapse (modulatory neurons stay "
             "modulatory, and the Kenyon cells excitatory: the learning rule needs excitatory KC -> MBON "
             "synapses) become inhibitory (`experiments.biology_null.permuted_signs`, seeds 0 to "
             f"{s['brains'] - 1}). Everything else is the default model.", "", f"**{signs_reading(data)}.**", ""]
    smallest = f"; the smallest p that {s['brains']} draws can give" if h["null_at_least"] == 0 else ""
    lines.append(f"{h['null_at_least']} of {s['brains']} draws score at least the sourced signs' {h['real']} held-out "
                 f"hits (p = {h['p']:.3f}{smallest}). Findings whose verdict depends on the sourced signs (the real "
                 "model hits them and fewer than half of the draws do, or the reverse): "
                 + (", ".join(f"{i} ({r['half']}, {r['real']}; {100 * r['null_hit_share']:.0f} % of draws hit it)"
                              for i, r in changed.sort_values(["half", "null_hit_share"]).iterrows()) or "none") + ".")
    paired = sorted(changed.index[(changed["test"] == "pairing") & (changed["real"] == "hit")])
    if paired:
        ratio = max(pairing_ratios(data, paired, "signs").values())
        lines.append(f"Of these, {len(paired)} are conditioning findings the sourced signs hit: on the draws, each of "
                     "these pairings moves the learned valence in the published direction by a median of at most "
                     f"{100 * ratio:.0f} % of the sourced signs' effect.")
    kc = data.get("kc_code")
    if kc:
        v = np.array(list(kc["draws"].values()))
        lines.append("Why, in part: with the signs moved the Kenyon-cell code spreads to nearly every Kenyon cell. "
                     f"One odour "
                     f"({kc['odour']}, its measured receptor responses, as in [odours.md](odours.md)) drives "
                     f"{kc['default']} of the {kc['n_kcs']} Kenyon cells with the sourced signs and a median of "
                     f"{np.median(v):g} (range {v.min()} to {v.max()}) with the signs moved: two odours then drive "
                     "nearly the same Kenyon cells, and a pairing can hardly be odour-specific.")
    return lines


def _write(data: dict) -> str:
    s = summary(data)
    hits = brain_hits(data)
    table = by_finding(data)
    lines = ["# The biology benchmark against null models: shuffled wiring, permuted signs", "",
             "<!-- written by `python -m experiments.biology_null` on " + data["date"] + "; do not edit -->", "",
             "The default larval model of [biology.md](biology.md), unchanged, scored on the real connectome and "
             f"on {s['brains']} degree-preserving shuffles of it (`connectomes.nullmodels.shuffle`, seeds 0 to "
             f"{s['brains'] - 1}, {SWAPS:g} swap attempts per connection: equal-count double-edge swaps per synapse "
             "type, which keep every neuron, its sign, its numbers of partners and its input and output synapse "
             "totals). Same findings, benchmark seed " + str(data["seed"]) + ", trials, virtual larvae and change "
             "criterion as [biology.md](biology.md); the findings a half counts are those the real brain scores. "
             "The design (`experiments/biology_null.py`'s docstring) was fixed before the shuffled brains were "
             "scored. A second null, the real wiring with permuted signs, follows below (\"Signs permuted\").", "",
             f"**{reading(data)}.**", ""]
    h, c = s["heldout"], s["calibration"]
    lines += ["What this says:", ""]
    held = _kinds(table, "heldout")
    specific, lost = held.get("wiring-specific", []), held.get("missed; most shuffled brains hit it", [])
    t = table.set_index("id")
    smallest = f"; the smallest p that {s['brains']} brains can give" if h["null_at_least"] == 0 else ""
    lines.append(f"* **Held-out half.** {h['null_at_least']} of {s['brains']} shuffled brains score at least the "
                 f"real brain's {h['real']} of {h['n']} (p = {h['p']:.3f}{smallest}), "
                 + ("so the real wiring scores better than random wiring with the same degrees, but by "
                    if h["p"] <= 0.05 else "so the real wiring does not score significantly better than random "
                    "wiring with the same degrees; it is ahead by ")
                 + f"{_n(h['real'] - h['null_median'], 'finding')} over their median. It hits {len(specific)} "
                 f"held-out findings that fewer than half of the shuffled brains hit ({_tests(t, specific)}) and "
                 f"misses {len(lost)} that at least half of them hit ({_tests(t, lost)}; "
                 f"{sum(t.loc[i, 'expect'] == 'no_change' for i in lost)} of them expect no change).")
    lines.append(f"* **Calibration half.** The real brain scores {c['real']} of {c['n']} against a median of "
                 f"{c['null_median']:g} (p = {c['p']:.3f}). The model's parameters were fitted on the real brain's "
                 "calibration half, and not refitted on the shuffled brains, so this comparison favours the real "
                 "brain; it is not evidence for the wiring by itself.")
    both = table[table["kind"] == "wiring-specific"]
    paired = sorted(both.loc[both["test"] == "pairing", "id"])
    generic = table[table["kind"] == "generic"]
    ratio = max(pairing_ratios(data, paired).values()) if paired else float("nan")
    lines.append(f"* **Where the wiring counts.** Of the {len(both)} wiring-specific hits of both halves, "
                 f"{len(paired)} are conditioning (pairing) findings: on the shuffled brains, whose Kenyon cells, "
                 "MBINs and MBONs no longer share the real mushroom body's compartments, each of these pairings "
                 f"moves the learned valence in the published direction by a median of at most {100 * ratio:.0f} % "
                 f"of the real brain's effect. Of the {len(generic)} hits a shuffled brain gets as well, "
                 f"{int(generic['test'].isin(['response', 'silencing', 'compare']).sum())} are responses to a "
                 "stimulus, a silencing or a comparison of two readouts.")
    for half in biology.HALVES:
        k = _kinds(table, half)
        lines.append(f"* **{_HALF_LABEL[half]} findings the real brain hits:** wiring-specific (fewer than half of "
                     f"the shuffled brains hit them): {_findings_text(k.get('wiring-specific'))}; generic (at least "
                     f"half do): {_findings_text(k.get('generic'))}. Missed by the real brain and hit by at least "
                     f"half of the shuffled ones: {_findings_text(k.get('missed; most shuffled brains hit it'))}.")
    lines += ["", "A limit of this control: shuffling keeps each neuron's identity, so a finding that depends only "
              "on a neuron being driven or silenced (its own rate) or on its sign is hit on every brain; and the "
              "shuffled brains keep the real brain's calibrated parameters, which a fitted model of a random brain "
              "would not have.", "", "## Hits per brain", "",
              "![hits of the null brains and of the default model](figures/biology_null/hits.png)", "",
              "| brain | " + " | ".join(f"{_HALF_LABEL[x].lower()} hits (of {s[x]['n']})" for x in biology.HALVES)
              + " |",
              "| --- | " + " | ".join("---" for _ in biology.HALVES) + " |"]
    for name, row in hits.iterrows():
        label = {None: "real connectome", "wiring": f"shuffle, seed {name}",
                 "signs": f"signs permuted, seed {str(name)[len(SIGNS_PREFIX):]}"}[family(name)]
        lines.append(f"| {label} | " + " | ".join(str(int(row[x])) for x in biology.HALVES) + " |")
    kinds = [k for k in ("wiring", "signs") if _null_keys(data, k)]
    names = {"wiring": "shuffled brains", "signs": "signs permuted"}
    lines += ["", "| null | half | findings | real brain | null brains: mean | median | range | p |",
              "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for kind in kinds:
        sk = summary(data, kind)
        for x in biology.HALVES:
            v = sk[x]
            lines.append(f"| {names[kind]} | {x} | {v['n']} | {v['real']} ({_pct(v['real'], v['n'])}) | "
                         f"{v['null_mean']:.1f} | {v['null_median']:g} | {v['null_min']} to {v['null_max']} | "
                         f"{v['p']:.3f} |")
    tables = {kind: by_finding(data, kind).set_index("id") for kind in kinds}
    if "signs" in kinds:
        lines += _signs_section(data, tables["signs"])
    lines += ["", "## Per circuit", "", "| half | circuit | findings | real brain hits | "
              + " | ".join(f"{names[k]}, mean hits" for k in kinds) + " |",
              "| --- | --- | --- | --- | " + " | ".join("---" for _ in kinds) + " |"]
    for (half, circuit), g in table.groupby(["half", "circuit"]):
        lines.append(f"| {half} | {circuit} | {len(g)} | {int((g['real'] == 'hit').sum())} | "
                     + " | ".join(f"{tables[k].loc[g['id'], 'null_hit_share'].sum():.1f}" for k in kinds) + " |")
    lines += ["", "## Per finding", "", "| finding | half | circuit | test | expected | real brain | "
              + " | ".join(f"{names[k]} that hit it" for k in kinds) + " | reading (shuffled brains) |",
              "| --- | --- | --- | --- | --- | --- | " + " | ".join("---" for _ in kinds) + " | --- |"]
    for r in table.sort_values(["half", "null_hit_share", "id"]).to_dict("records"):
        lines.append(f"| {r['id']} | {r['half']} | {r['circuit']} | {r['test']} | {r['expect']} | {r['real']} | "
                     + " | ".join(f"{100 * tables[k].loc[r['id'], 'null_hit_share']:.0f} %" for k in kinds)
                     + f" | {r['kind']} |")
    minutes = sum(b["seconds"] for b in data["brains"].values()) / 60
    lines += ["", f"Scored in {minutes:.0f} minutes of CPU time ({data['machine']}); connectome "
              f"`{data['connectome_sha256'][:12]}`; larvasim {data['versions'].get('larvasim', '?')}, Brian2 "
              f"{data['versions'].get('brian2', '?')}, numba {data['versions'].get('numba', '?')}.", ""]
    return "\n".join(lines)


def figure(data: dict, path) -> None:
    """Histogram of the shuffled brains' hits per half, the real brain's as a line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from larvasim.util import atomic_path

    hits = brain_hits(data)
    kinds = [k for k in ("wiring", "signs") if _null_keys(data, k)]
    titles = {"wiring": "shuffled connectomes", "signs": "signs permuted"}
    fig, axes = plt.subplots(len(kinds), 2, figsize=(7, 2.6 * len(kinds)), sharey=True, squeeze=False)
    for row, kind in zip(axes, kinds):
        s = summary(data, kind)
        for ax, half in zip(row, biology.HALVES):
            v = hits.loc[_null_keys(data, kind), half].to_numpy()
            n = s[half]["n"]
            ax.hist(v, bins=np.arange(-0.5, n + 1.5, 1), color="tab:grey", label=titles[kind])
            ax.axvline(hits.loc[REAL, half], color="tab:red", lw=2, label="default model")
            ax.set_xlim(-0.5, n + 0.5)
            label = _HALF_LABEL[half].lower()
            ax.set_xlabel(f"{label} hits (of {n})")
            ax.set_title(f"{titles[kind]}, {label} half: p = {s[half]['p']:.3f}", fontsize=9)
        row[0].set_ylabel("brains")
        row[0].legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path, suffix=".tmp.png") as tmp:
        fig.savefig(tmp, dpi=90)
    plt.close(fig)


def report(path="docs/biology_null.md", connectome=None, *, brains: int = BRAINS, signs: int = BRAINS, seed: int = 0,
           ids=None, jobs: int = 1, log=None) -> dict:
    """Score the default model on the real brain and on both nulls, then write the report.

    Parameters
    ----------
    path : str or Path
        The report (markdown). Its JSON store is ``<path stem>.json``: every brain is written there as it
        finishes, and a rerun with the same ``seed``, ``ids``, swaps and default model
        (:func:`experiments.runs.default_model_key`) resumes from it; on a stored brain it scores only the
        findings added to the table, or changed, since (:func:`experiments.runs.stale_findings`). The figure goes to
        ``figures/biology_null/hits.png`` beside ``path``. All three are written atomically.
    connectome : connectomes.Connectome, optional
        Default: ``connectomes.load("winding2023")``.
    brains, signs : int
        Shuffled connectomes (seeds 0 .. brains - 1) and sign draws (seeds 0 .. signs - 1; 0: no sign null).
    seed : int
        Benchmark seed (input noise and virtual larvae; docs/biology.md uses 0).
    ids : sequence of str, optional
        Only these findings (the tests use a few); default all.
    jobs : int
        Processes that score brains at once (each loads the connectome from the cache).
    log : callable, optional
        Called with one line per brain scored.

    Returns
    -------
    dict
        The store: ``brains`` (rows per brain), ``summary`` and ``summary_signs`` (:func:`summary`), ``kc_code``
        (:func:`kc_code`), ``n_inhibitory``, the machine, connectome checksum and versions.
    """
    import connectomes
    from larvasim.util import atomic_write_text

    from .runs import default_model_key, finding_keys, merge_rows, pending, provenance, run_each

    path = Path(path)
    store = path.with_suffix(".json")
    wanted = None if ids is None else sorted(ids)
    data = json.loads(store.read_text()) if store.is_file() else None
    model = default_model_key()
    if data is not None and (data.get("seed") != int(seed) or data.get("ids") != wanted
                             or data.get("swaps") != SWAPS or data.get("model") != model):
        data = None  # another design or another default model: start afresh
    c = connectome if connectome is not None else connectomes.load("winding2023")
    if data is None:
        data = {"seed": int(seed), "ids": wanted, "swaps": SWAPS, "model": model, "brains": {}}
    order = [REAL] + [str(k) for k in range(brains)] + [f"{SIGNS_PREFIX}{k}" for k in range(signs)]
    keys = finding_keys(wanted)
    # a new brain scores every finding; a stored one only the findings added or changed since (a new round)
    todo = [(b, seed, which) for b, which in pending(order, data["brains"], data.get("finding_keys"), keys, ids)]

    def keep(brain, rows, seconds):
        was = data["brains"].get(brain) or {"rows": [], "seconds": 0.0}
        data["brains"][brain] = {"rows": merge_rows(was["rows"], _stored(brain, rows), keys),
                                 "seconds": float(was["seconds"]) + float(seconds)}
        data["date"] = datetime.date.today().isoformat()
        atomic_write_text(store, _dumps(data))  # a rerun resumes after this brain
        if log:
            log(f"brain {brain}: {seconds:.0f} s")

    def local(item):  # in this process, on the given connectome
        t0 = time.perf_counter()
        return item[0], score_brain(c, item[0], seed=seed, ids=item[2]), time.perf_counter() - t0

    run_each(todo, keep, worker=_worker, local=local, jobs=jobs)
    data["brains"] = {k: {**data["brains"][k], "rows": merge_rows(data["brains"][k]["rows"], [], keys)}
                      for k in order}
    data["finding_keys"] = keys
    data.setdefault("date", datetime.date.today().isoformat())
    data.update(provenance(c))
    from .biology_report import default_network

    data["n_inhibitory"] = int(np.sum(default_network(c).signs < 0))
    draws = [str(k) for k in range(signs)]
    if signs and list((data.get("kc_code") or {}).get("draws", {})) != draws:
        t0 = time.perf_counter()
        data["kc_code"] = kc_code(c, range(signs))
        if log:
            log(f"Kenyon-cell codes: {time.perf_counter() - t0:.0f} s")
    data["summary"] = summary(data)
    if signs:
        data["summary_signs"] = summary(data, "signs")
    atomic_write_text(store, _dumps(data))
    figure(data, path.parent / "figures" / "biology_null" / "hits.png")
    atomic_write_text(path, _write(data))
    return data


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m experiments.biology_null",
                                 description="Score the default larval model on the real connectome and on "
                                             "degree-preserving shuffles of it (the biology benchmark's null model).")
    ap.add_argument("--out", default="docs/biology_null.md")
    ap.add_argument("--brains", type=int, default=BRAINS, help=f"shuffled brains (default {BRAINS})")
    ap.add_argument("--signs", type=int, default=BRAINS, help=f"sign permutations (default {BRAINS}; 0: none)")
    ap.add_argument("--seed", type=int, default=0, help="benchmark seed (default 0, as docs/biology.md)")
    ap.add_argument("--jobs", type=int, default=1, help="processes (default 1)")
    args = ap.parse_args(argv)
    if args.brains < 1 or args.jobs < 1 or args.signs < 0:
        print("error: --brains and --jobs must be at least 1, --signs at least 0", file=sys.stderr)
        return 2
    report(args.out, brains=args.brains, signs=args.signs, seed=args.seed, jobs=args.jobs,
           log=lambda m: print(m, file=sys.stderr))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
