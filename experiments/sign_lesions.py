"""Which of the sourced inhibitory neurons carry the biology benchmark? One group at a time made excitatory.

Writes ``docs/sign_lesions.md`` (with ``docs/sign_lesions.json``, the store).

``docs/biology_null.md`` showed that the sourced signs count more than the wiring: with the 68 inhibitory neurons'
sign moved to as many random neurons, the default model loses 3 held-out and about 5 calibration findings. This
analysis asks which of them matter. The 68 neurons are grouped by the row of the transmitter table
(``models/data/transmitters.csv``) that gives them their sign (:data:`GROUPS`): the APL neuron, the inhibitory
mushroom-body output neurons, the mushroom-body feedback neurons (FBN, FAN, FB2N), the antennal-lobe local
neurons, and the rest. Each *lesion* makes one group excitatory, as the default sign of a neuron without a
source; ``all`` makes all 68 excitatory. Nothing else changes: the default larval model, its calibrated
parameters and the real wiring. Every finding of both halves is scored (pairing findings included) at benchmark
seed 0, as in ``docs/biology.md``, and compared with the intact model's statuses there.

An analysis after scoring, not a fit: no parameter is chosen on it. The groups were fixed from the table before
any lesion was scored (2026-12-04, session 31).

Run: ``python -m experiments.sign_lesions [--jobs 2]`` (6 lesions, about 2 minutes each on one core; each is kept
in the store as it finishes and a rerun resumes from it).
"""
from __future__ import annotations

import argparse
import datetime
import json
import sys
import time
from pathlib import Path

import numpy as np

from . import biology

__all__ = ["GROUPS", "LESIONS", "changes", "group_of", "kc_code", "kc_reading", "lesion_network", "lesioned_signs",
           "main", "reading", "report", "score_lesion"]

#: Lesion groups: name -> prefixes of the transmitter-table patterns whose inhibitory neurons it holds.
GROUPS = {
    "APL": ("APL",),
    "inhibitory MBONs": ("MBON-",),
    "MB feedback neurons": ("FBN-", "FAN-", "FB2N-"),
    "antennal-lobe LNs": ("*broad", "picky", "choosy", "keystone"),
    "other (glu-lOLP, FLON)": ("GlulOLP", "FLON"),
}
#: The lesions scored: each group, then all of them at once.
LESIONS = tuple(GROUPS) + ("all",)
_COLUMNS = ("id", "status", "effect_hz")


def group_of(connectome) -> dict:
    """Per group, the indices of the default model's inhibitory neurons whose sign comes from one of its table rows
    (the first row that matches a neuron gives its sign, as in :func:`models.signs.assign_signs`).

    Raises
    ------
    ValueError
        When an inhibitory neuron falls in no group (the table has a row the groups do not name).
    """
    from models import transmitters as tx
    from models.signs import _class2, _load_table, assign_signs, neuron_names

    signs = assign_signs(connectome, "literature").signs
    inh = np.flatnonzero(signs < 0)
    df, _ = _load_table(None)
    names, ct, c2 = neuron_names(connectome), connectome.neurons["celltype"].tolist(), _class2(connectome)
    owner = {}
    for k in range(len(df)):
        t, _ = tx.match(df.iloc[[k]], names, ct, c2)
        pattern = str(df.iloc[k]["pattern"])
        for i in inh:
            if t[i] is not None and i not in owner:
                owner[i] = pattern
    out = {g: [] for g in GROUPS}
    for i in inh:
        g = next((g for g, pre in GROUPS.items() if str(owner.get(i, "")).startswith(pre)), None)
        if g is None:
            raise ValueError(f"inhibitory neuron {connectome.neurons['skid'].iloc[i]} (table row {owner.get(i)!r}) "
                             "is in no lesion group of experiments.sign_lesions.GROUPS")
        out[g].append(int(i))
    return out


def lesioned_signs(signs, indices) -> np.ndarray:
    """``signs`` with the neurons at ``indices`` made excitatory (+1)."""
    out = np.asarray(signs, dtype=float).copy()
    out[np.asarray(indices, dtype=np.int64)] = 1.0
    return out


def lesion_network(connectome, lesion: str):
    """The default model's network with one lesion (a name of :data:`LESIONS`), or intact (``"none"``)."""
    import sim

    from .biology_report import default_network

    if lesion not in LESIONS + ("none",):
        raise ValueError(f"unknown lesion {lesion!r}: choose one of {', '.join(LESIONS)}")
    base = default_network(connectome)
    if lesion == "none":
        return base
    groups = group_of(connectome)
    idx = sorted(i for g in groups.values() for i in g) if lesion == "all" else groups[lesion]
    return sim.Network(connectome, signs=lesioned_signs(base.signs, idx), device=base.device)


def score_lesion(connectome, lesion: str, *, seed: int = 0, ids=None) -> list[dict]:
    """Score the default model with one lesion (a name of :data:`LESIONS`) on every finding (or ``ids``)."""
    if lesion not in LESIONS:
        raise ValueError(f"unknown lesion {lesion!r}: choose one of {', '.join(LESIONS)}")
    net = lesion_network(connectome, lesion)
    findings = biology.load_findings()
    if ids is not None:
        findings = [f for f in findings if f.id in set(ids)]
    table = biology.score(net, findings, seed=seed).table
    return [{"id": r["id"], "status": r["status"],
             "effect_hz": float(r["effect_hz"]) if np.isfinite(r["effect_hz"]) else None}
            for r in table.to_dict("records")]


def kc_code(connectome, lesion: str) -> int:
    """Kenyon cells that pentyl acetate drives (:data:`experiments.biology_null.KC_ODOUR` at its measured receptor
    responses, ``experiments.odour_coding.coding``) with one lesion, or intact (``lesion = "none"``)."""
    from .biology_null import KC_ODOUR
    from .odour_coding import coding

    net = lesion_network(connectome, lesion)
    return int(coding(connectome, [KC_ODOUR], network=net)["odours"][0]["kcs"])


def _worker(args):  # a pool process: its own connectome
    import connectomes

    lesion, seed, ids = args
    t0 = time.perf_counter()
    rows = score_lesion(connectomes.load("winding2023"), lesion, seed=seed, ids=ids)
    return lesion, rows, time.perf_counter() - t0


def _intact(bio: dict) -> dict:
    return {r["id"]: r for r in bio["models"]["larval"]["table"]}


def changes(data: dict, bio: dict) -> dict:
    """Per lesion and half: hits, findings counted (those the intact model scores), and the hits lost and gained."""
    intact = _intact(bio)
    out = {}
    for lesion, rec in data["lesions"].items():
        st = {r["id"]: r["status"] for r in rec["rows"]}
        per = {}
        for half in biology.HALVES:
            ids = [i for i, r in intact.items() if r["half"] == half and r["status"] in ("hit", "miss")]
            per[half] = {"n": len(ids), "intact": sum(intact[i]["status"] == "hit" for i in ids),
                         "hits": sum(st.get(i) == "hit" for i in ids),
                         "lost": sorted(i for i in ids if intact[i]["status"] == "hit" and st.get(i) != "hit"),
                         "gained": sorted(i for i in ids if intact[i]["status"] != "hit" and st.get(i) == "hit")}
        out[lesion] = per
    return out


def reading(data: dict, bio: dict) -> str:
    """The result in one paragraph (docs and README quote it)."""
    ch = changes(data, bio)
    h = {k: v["heldout"] for k, v in ch.items()}
    c = {k: v["calibration"] for k, v in ch.items()}
    worst = min(GROUPS, key=lambda g: (h[g]["hits"] + c[g]["hits"], g))
    parts = [f"{g} ({len(data['groups'][g])} neurons): held-out {h[g]['hits']}, calibration {c[g]['hits']}"
             for g in GROUPS]
    return (f"Made excitatory one group at a time, the sourced inhibitory neurons leave the default model with "
            f"these hits (intact: held-out {h['all']['intact']} of {h['all']['n']}, calibration "
            f"{c['all']['intact']} of {c['all']['n']}): " + "; ".join(parts)
            + f"; all {sum(len(v) for v in data['groups'].values())} at once: held-out {h['all']['hits']}, "
            f"calibration {c['all']['hits']}. The group whose lesion costs most is the {worst} "
            f"(lost: {', '.join(h[worst]['lost'] + c[worst]['lost']) or 'none'})")


def kc_reading(data: dict) -> str:
    """The Kenyon-cell codes of the two lesions that broaden them most, in one sentence (the README quotes it)."""
    k = data["kc_code"]
    top = sorted(GROUPS, key=lambda g: -k[g])[:2]
    pos = lambda g: g + ("'" if g.endswith("s") else "'s")  # noqa: E731
    return (f"pentyl acetate drives {k[top[0]]} of the 144 Kenyon cells without the {pos(top[0])} inhibition and "
            f"{k[top[1]]} without the {pos(top[1])}, against {k['none']} intact")


def _write(data: dict, bio: dict) -> str:
    ch = changes(data, bio)
    lines = ["# Which sourced inhibitory neurons carry the biology benchmark", "",
             f"<!-- written by `python -m experiments.sign_lesions` on {data['date']}; do not edit -->", "",
             "Design: the docstring of `experiments/sign_lesions.py`. Each lesion makes one group of the default "
             "model's sourced inhibitory neurons excitatory (the sign of a neuron without a source); nothing else "
             "changes. Every finding, both halves, benchmark seed 0, compared with the intact model of "
             "[biology.md](biology.md). An analysis after scoring; no parameter is chosen on it.", "",
             f"**{reading(data, bio)}.** The Kenyon-cell code of one odour: {kc_reading(data)}.", "",
             "| lesion | neurons | their share of inhibitory synapses | held-out hits | calibration hits | hits lost | "
             f"hits gained | KCs to pentyl acetate (intact {data['kc_code']['none']}) |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for lesion in LESIONS:
        h, c = ch[lesion]["heldout"], ch[lesion]["calibration"]
        lost = h["lost"] + c["lost"]
        gained = h["gained"] + c["gained"]
        lines.append(f"| {lesion} | {data['neurons'][lesion]} | {100 * data['synapse_share'][lesion]:.0f} % | "
                     f"{h['hits']} of {h['n']} ({h['hits'] - h['intact']:+d}) | {c['hits']} of {c['n']} "
                     f"({c['hits'] - c['intact']:+d}) | {', '.join(lost) or 'none'} | {', '.join(gained) or 'none'} | "
                     f"{data['kc_code'][lesion]} |")
    lines += ["", "Groups (neurons named by the transmitter table's rows, `models/data/transmitters.csv`): "
              + "; ".join(f"{g}: {', '.join(p.strip('*') for p in GROUPS[g])}" for g in GROUPS) + ".", "",
              "A lesion changes a sign, not a synapse: the neurons keep their wiring and their synapse weights' "
              "size. A finding lost by a lesion needs that group's inhibition in this model; it does not show that "
              "the real larva's does.", "",
              f"Machine: {data['machine']}; connectome sha256 {data['connectome_sha256'][:12]}.", ""]
    return "\n".join(lines)


def report(path="docs/sign_lesions.md", connectome=None, *, seed: int = 0, ids=None, jobs: int = 1,
           log=None) -> dict:
    """Score every lesion (resuming from the store), then write the report and its store.

    Parameters
    ----------
    path : str or Path
        The report; its store is ``<path stem>.json`` (written atomically after each lesion; a rerun resumes
        from it and, on a stored lesion, scores only the findings added to the table, or changed, since:
        :func:`experiments.runs.stale_findings`). The intact model's statuses are read from ``biology.json``
        beside it.
    connectome : connectomes.Connectome, optional
    seed : int
        Benchmark seed (``docs/biology.md``'s is 0).
    ids : sequence of str, optional
        Only these findings (the tests use a few).
    jobs : int
        Processes scoring lesions at once.
    log : callable, optional

    Returns
    -------
    dict
        The store.
    """
    import connectomes
    from larvasim.util import atomic_write_text

    from .biology_report import default_network
    from .runs import default_model_key, finding_keys, merge_rows, pending, provenance, run_each

    path = Path(path)
    store = path.with_suffix(".json")
    wanted = None if ids is None else sorted(ids)
    data = json.loads(store.read_text()) if store.is_file() else None
    c = connectome if connectome is not None else connectomes.load("winding2023")
    groups = group_of(c)
    model = default_model_key()
    if (data is None or data.get("seed") != int(seed) or data.get("ids") != wanted or data.get("groups") != groups
            or data.get("model") != model):  # another design or another default model: start afresh
        data = {"seed": int(seed), "ids": wanted, "groups": groups, "model": model, "lesions": {}}
    keys = finding_keys(wanted)
    # a new lesion scores every finding; a stored one only the findings added or changed since (a new round)
    todo = [(x, seed, which) for x, which in pending(LESIONS, data["lesions"], data.get("finding_keys"), keys, wanted)]

    def keep(lesion, rows, seconds):
        was = data["lesions"].get(lesion) or {"rows": [], "seconds": 0.0}
        data["lesions"][lesion] = {"rows": merge_rows(was["rows"], rows, keys),
                                   "seconds": float(was["seconds"]) + float(seconds)}
        data["date"] = datetime.date.today().isoformat()
        atomic_write_text(store, json.dumps(data, indent=1) + "\n")
        if log:
            log(f"{lesion}: {seconds:.0f} s")

    def local(item):  # in this process, on the given connectome
        t0 = time.perf_counter()
        return item[0], score_lesion(c, item[0], seed=seed, ids=item[2]), time.perf_counter() - t0

    run_each(todo, keep, worker=_worker, local=local, jobs=jobs)
    data["lesions"] = {x: {**data["lesions"][x], "rows": merge_rows(data["lesions"][x]["rows"], [], keys)}
                       for x in LESIONS}
    data["finding_keys"] = keys
    if sorted(data.get("kc_code") or {}) != sorted(("none",) + LESIONS):
        data["kc_code"] = {x: kc_code(c, x) for x in ("none",) + LESIONS}
    W = c.weights(default_network(c).synapse_types)
    out_syn = np.asarray(W.sum(axis=1)).ravel()
    members = {**groups, "all": sorted(i for g in groups.values() for i in g)}
    total = float(out_syn[members["all"]].sum())
    data["neurons"] = {x: len(members[x]) for x in LESIONS}
    data["synapse_share"] = {x: float(out_syn[members[x]].sum() / total) for x in LESIONS}
    data.setdefault("date", datetime.date.today().isoformat())
    data.update(provenance(c))
    bio = json.loads((path.parent / "biology.json").read_text()) if (path.parent / "biology.json").is_file() else None
    if bio is not None:
        # the intact model the lesions are compared with (docs/biology.md's reading checks it is still the default)
        data["intact"] = {i: r["status"] for i, r in _intact(bio).items()}
    atomic_write_text(store, json.dumps(data, indent=1) + "\n")
    if bio is not None and ids is None:
        atomic_write_text(path, _write(data, bio))
    return data


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m experiments.sign_lesions",
                                 description="Score the default model with each group of its sourced inhibitory "
                                             "neurons made excitatory.")
    ap.add_argument("--out", default="docs/sign_lesions.md")
    ap.add_argument("--jobs", type=int, default=1, help="processes (default 1)")
    args = ap.parse_args(argv)
    if args.jobs < 1:
        print("error: --jobs must be at least 1", file=sys.stderr)
        return 2
    report(args.out, jobs=args.jobs, log=lambda m: print(m, file=sys.stderr))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
