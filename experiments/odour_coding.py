"""Measured odours in the default model: ``docs/odours.md``.

The odours of Kreher et al. 2008 (:func:`experiments.odours.known_odour`: each larval odorant receptor's
measured response) drive the default larval model one at a time; the report gives, per odour, the receptors it
excites, the projection neurons (PNs) and Kenyon cells (KCs) that respond, and the Kenyon-cell code's overlap
between odours: the population sparseness the issue asks for (a KC "responds" when its mean rate over the
trials exceeds ``threshold_hz`` during the odour), and how much of one odour's KC code another odour shares.
The overlap matters for learning: a pairing depresses the synapses of the CS+'s KCs, so every KC the CS-
shares loses with them (docs/biology_learning_rate.md). No larval measurement of KC population sparseness is
known to us (docs/biology.md), so the figures are the model's, not a comparison.

Run: ``python -m experiments.odour_coding [--out docs/odours.md] [--scale 1.0]`` (under a minute on 2 cores);
the tests rerun it on a few odours and compare.
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

__all__ = ["PAIRS", "SCALES", "breadth", "coding", "main", "overlap", "reading", "report", "spontaneous_reading",
           "summary"]

#: Odour pairs of larval learning experiments whose KC overlap the report gives (CS+ and CS- of two-odour designs;
#: Weber et al. 2025, eLife 12:RP91387, trained n-amyl acetate against benzaldehyde, read in its Methods).
PAIRS = (("pentyl acetate", "benzaldehyde"),)
#: Rate scales at which the summary is repeated (a stand-in for lower concentrations: Kreher et al. 2008 report that
#: strong excitatory responses are much sparser at their lower concentration).
SCALES = (1.0, 0.5, 0.25)


def coding(connectome, odours=None, *, scale: float = 1.0, seed: int = 0, trials: int = 8,
           threshold_hz: float = 2.0, spontaneous: bool = False, network=None) -> dict:
    """Drive the default model with each odour alone; which receptors, PNs and KCs respond.

    Parameters
    ----------
    connectome : connectomes.Connectome
    odours : sequence of str, optional
        Default: every odour of :func:`experiments.odours.known_odours`.
    scale : float
        Rate scale of the odours (:func:`experiments.odours.known_odour`).
    seed, trials : int
        Input noise seed and trials per odour (one trial: 1.4 s, the odour from 200 to 1200 ms).
    threshold_hz : float
        A neuron responds when its mean rate during the odour exceeds this.
    spontaneous : bool
        Let every ORN fire at its measured spontaneous rate throughout (:func:`experiments.odours.spontaneous_activity`)
        and each odour add its response to it (``known_odour(..., spontaneous=True)``). A neuron then responds
        when its mean rate during the odour exceeds its rate in a run with the spontaneous firing alone (same
        seed) by ``threshold_hz``; ``rest`` gives that run's rates.
    network : sim.Network, optional
        The network to drive (default: the default larval model on ``connectome``).

    Returns
    -------
    dict
        ``odours``: per odour, the receptors driven and their summed rate, the PNs and KCs responding
        (counts) and the responding KCs' and PNs' skeleton ids (with ``spontaneous``, also ``kcs_down``: KCs
        whose rate falls by more than ``threshold_hz``); ``kcs``, ``pns`` (population sizes), the settings.
    """
    from brian2 import ms, second

    from connectomes.winding2023 import KC_CELLTYPE

    from .biology_report import default_network
    from .odours import known_odour, known_odours, odour_drives, spontaneous_activity

    net = default_network(connectome) if network is None else network
    kc = connectome.select(celltype=KC_CELLTYPE).indices
    pn = connectome.select(celltype="PN").indices
    window, duration = (200 * ms, 1200 * ms), 1.4 * second
    bg = spontaneous_activity(connectome) if spontaneous else None

    def rates(drives):
        res = net.run(drives, duration=duration, trials=trials, seed=seed, progress=False)
        return res.mean_rates(window=window)["mean_hz"].to_numpy()

    base = rates(bg.drives(connectome, 0 * ms, duration)) if spontaneous else 0.0
    rows = []
    for name in (odours if odours is not None else known_odours()):
        od = known_odour(connectome, name, scale=scale, spontaneous=spontaneous)
        response = known_odour(connectome, name, scale=scale)  # the receptors the odour excites
        if not response.receptors:
            rows.append({"odour": od.name, "receptors": [], "drive_hz": 0.0, "pns": 0, "kcs": 0, "kc_ids": [],
                         "pn_ids": []})
            continue
        change = rates(odour_drives(connectome, od, *window, duration, background=bg)) - base
        on = np.flatnonzero(change[kc] > threshold_hz)
        on_pn = np.flatnonzero(change[pn] > threshold_hz)
        rows.append({"odour": od.name, "receptors": response.receptors,
                     "drive_hz": float(sum(response.rates_hz.values())), "pns": int(len(on_pn)), "kcs": int(len(on)),
                     "kc_ids": [int(connectome.neurons.index[kc[i]]) for i in on],
                     "pn_ids": [int(connectome.neurons.index[pn[i]]) for i in on_pn]})
        if spontaneous:
            rows[-1]["kcs_down"] = int((change[kc] < -threshold_hz).sum())
    out = {"odours": rows, "kcs": int(len(kc)), "pns": int(len(pn)), "scale": float(scale), "seed": int(seed),
           "trials": int(trials), "threshold_hz": float(threshold_hz), "spontaneous": bool(spontaneous)}
    if spontaneous:
        out["rest"] = {"mean_hz": float(base.mean()), "kc_mean_hz": float(base[kc].mean()),
                       "pn_mean_hz": float(base[pn].mean()), "kcs_active": int((base[kc] > threshold_hz).sum()),
                       "orn_receptors": len(bg.receptors), "orn_mean_hz": float(np.mean(list(bg.rates_hz.values())))}
    return out


def overlap(data: dict, layer: str = "kc") -> pd.DataFrame:
    """Pairwise overlap of the odours' codes in one layer (``"kc"`` or ``"pn"``): shared neurons as a share of the
    smaller code, and Jaccard.

    Odours that drive no neuron of the layer are left out.
    """
    codes = {r["odour"]: set(r[f"{layer}_ids"]) for r in data["odours"] if r.get(f"{layer}_ids")}
    names = sorted(codes)
    out = []
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            s = len(codes[a] & codes[b])
            out.append({"a": a, "b": b, "shared": s, "shared_share": s / min(len(codes[a]), len(codes[b])),
                        "jaccard": s / len(codes[a] | codes[b])})
    return pd.DataFrame(out, columns=["a", "b", "shared", "shared_share", "jaccard"])


def breadth(data: dict) -> list[int]:
    """How many KCs respond to exactly k of the odours that drive receptors, for k = 0, 1, ..., n odours."""
    rows = [r for r in data["odours"] if r["receptors"]]
    count: dict[int, int] = {}
    for r in rows:
        for i in r["kc_ids"]:
            count[i] = count.get(i, 0) + 1
    hist = np.bincount(list(count.values()), minlength=len(rows) + 1)
    hist[0] = data["kcs"] - len(count)
    return [int(x) for x in hist]


def summary(data: dict) -> dict:
    """Median, smallest and largest share of KCs an odour drives, the median overlap, and each pair of :data:`PAIRS`."""
    rows = [r for r in data["odours"] if r["receptors"]]
    frac = np.array([r["kcs"] / data["kcs"] for r in rows])
    ov = overlap(data)
    pairs = {}
    for a, b in PAIRS:
        hit = ov[((ov["a"] == a) & (ov["b"] == b)) | ((ov["a"] == b) & (ov["b"] == a))]
        if len(hit):
            pairs[f"{a} / {b}"] = {"shared": int(hit.iloc[0]["shared"]),
                                   "shared_share": float(hit.iloc[0]["shared_share"])}
    pn = overlap(data, "pn")
    return {"scale": data["scale"], "odours": len(rows),
            "median_kc_fraction": float(np.median(frac)) if len(frac) else 0.0,
            "median_pn_shared_share": float(pn["shared_share"].median()) if len(pn) else float("nan"),
            "min_kc_fraction": float(frac.min()) if len(frac) else 0.0,
            "max_kc_fraction": float(frac.max()) if len(frac) else 0.0,
            "median_shared_share": float(ov["shared_share"].median()) if len(ov) else float("nan"), "pairs": pairs}


def reading(data: dict) -> str:
    """The result in one sentence (the README quotes it)."""
    sm = summary(data)
    pair = "".join(f"; {k.replace(' / ', ' and ')}, the pair of Weber et al. 2025, share {v['shared']} KCs "
                   f"({100 * v['shared_share']:.0f} % of the smaller code)" for k, v in sm["pairs"].items())
    return (f"Each of {sm['odours']} measured odours (Kreher et al. 2008, rates x {data['scale']:g}) drives a median "
            f"{100 * sm['median_kc_fraction']:.0f} % of the {data['kcs']} Kenyon cells (range "
            f"{100 * sm['min_kc_fraction']:.0f} to {100 * sm['max_kc_fraction']:.0f} %), and two odours share a median "
            f"{100 * sm['median_shared_share']:.0f} % of the smaller of their KC codes{pair}.")


def spontaneous_reading(data: dict) -> str:
    """What the measured spontaneous firing of the ORNs changes (``data["with_spontaneous"]``), in two sentences."""
    sp, sm, sm0 = data["with_spontaneous"], summary(data["with_spontaneous"]), summary(data)
    rest = sp["rest"]
    pair = "".join(f"; {k.replace(' / ', ' and ')} share {100 * v['shared_share']:.0f} % (without it "
                   f"{100 * sm0['pairs'][k]['shared_share']:.0f} %)"
                   for k, v in sm["pairs"].items() if k in sm0["pairs"])
    return (f"With every ORN firing at its measured spontaneous rate ({rest['orn_receptors']} receptors, mean "
            f"{rest['orn_mean_hz']:.1f} spikes/s) and each odour adding its response to it, the network is no longer "
            f"silent at rest (mean {rest['mean_hz']:.1f} Hz over all neurons; {rest['kcs_active']} of {sp['kcs']} KCs "
            f"above {sp['threshold_hz']:g} Hz). Counting a neuron as responding when the odour raises its rate above "
            f"that resting rate, an odour drives a median {100 * sm['median_kc_fraction']:.0f} % of the KCs (without "
            f"spontaneous firing {100 * sm0['median_kc_fraction']:.0f} %), two odours share a median "
            f"{100 * sm['median_shared_share']:.0f} % of the smaller KC code "
            f"({100 * sm0['median_shared_share']:.0f} %) "
            f"and {100 * sm['median_pn_shared_share']:.0f} % of the smaller PN code "
            f"({100 * sm0['median_pn_shared_share']:.0f} %){pair}.")


def _write(data: dict) -> str:
    ov = overlap(data)
    lines = [
        "# Measured odours in the default model",
        "",
        f"<!-- written by `python -m experiments.odour_coding` on {data['date']}; do not edit -->",
        "",
        "The odours of Kreher et al. 2008 (Neuron 59:110, doi:10.1016/j.neuron.2008.06.010; larval odorant "
        "receptors in the adult 'empty neuron', responses above the spontaneous rate as compiled in DoOR 2.0, "
        "Münch & Galizia 2016, Sci Rep 6:21841) drive the default larval model one at a time: each receptor's "
        "ORNs (both sides) at "
        f"its measured response x {data['scale']:g} (`experiments.odours.known_odour`), {data['trials']} trials "
        f"of 1 s, seed {data['seed']}. A neuron responds when its mean rate exceeds {data['threshold_hz']:g} Hz.",
        "",
        f"**{reading(data)}**",
        "",
        "No larval measurement of Kenyon-cell population sparseness is known to us, so these are the model's "
        "figures, not a comparison. The overlap of two odours' KC codes bounds how odour-specific a pairing "
        "can be (docs/biology_learning_rate.md).",
        "",
        "## Per odour",
        "",
        "| odour | receptors excited | summed ORN rate (Hz) | PNs responding | KCs responding |",
        "| --- | --- | --- | --- | --- |",
    ]
    for r in sorted(data["odours"], key=lambda r: -r["kcs"]):
        lines.append(f"| {r['odour']} | {len(r['receptors'])} | {r['drive_hz']:.0f} | {r['pns']} of {data['pns']} | "
                     f"{r['kcs']} of {data['kcs']} ({100 * r['kcs'] / data['kcs']:.0f} %) |")
    b = breadth(data)
    k = len(b) - 1
    broad = sum(b[-max(1, k // 5):])
    lines += ["", "## How broadly single Kenyon cells respond", "",
              f"Of the {data['kcs']} KCs, {b[0]} respond to none of the {k} odours, {sum(b[1:6])} to 1 to 5 of them, "
              f"and {broad} to at least {k - max(1, k // 5) + 1} of them: the codes overlap because a group of KCs "
              "responds to nearly every odour.", "",
              "| odours a KC responds to | " + " | ".join(str(i) for i in range(len(b))) + " |",
              "| --- | " + " | ".join("---" for _ in b) + " |",
              "| KCs | " + " | ".join(str(x) for x in b) + " |"]
    lines += ["", "## Overlap of KC codes", "",
              f"Over the {len(ov)} pairs of odours that drive KCs: shared KCs as a share of the smaller code, median "
              f"{100 * ov['shared_share'].median():.0f} % (quartiles {100 * ov['shared_share'].quantile(0.25):.0f} "
              f"to {100 * ov['shared_share'].quantile(0.75):.0f} %); Jaccard median {ov['jaccard'].median():.2f}. "
              f"The overlap starts upstream: the PNs that respond share a median "
              f"{100 * overlap(data, 'pn')['shared_share'].median():.0f} % of the smaller of two odours' PN codes. "
              "Measured odours excite most receptors at least weakly (the table above), so much the same PNs "
              "respond to every odour.",
              "", "| odours | shared KCs | share of the smaller code | Jaccard |", "| --- | --- | --- | --- |"]
    for a, b in PAIRS:
        hit = ov[((ov["a"] == a) & (ov["b"] == b)) | ((ov["a"] == b) & (ov["b"] == a))]
        for h in hit.itertuples():
            lines.append(f"| {a} / {b} | {h.shared} | {100 * h.shared_share:.0f} % | {h.jaccard:.2f} |")
    lines += ["", "## Weaker odours", "",
              "The same at lower rates (every receptor's response times the scale; a stand-in for a lower "
              "concentration, at which Kreher et al. 2008 found strong excitatory responses much sparser):", "",
              "| rate scale | KCs an odour drives: median (range) | shared share of two KC codes, median | "
              "shared share of two PN codes, median | "
              + " | ".join(f"{a} / {b}" for a, b in PAIRS) + " |",
              "| --- | --- | --- | --- | " + " | ".join("---" for _ in PAIRS) + " |"]
    for sm in data["by_scale"]:
        cells = [f"{100 * sm['pairs'][f'{a} / {b}']['shared_share']:.0f} %" if f"{a} / {b}" in sm["pairs"] else "-"
                 for a, b in PAIRS]
        lines.append(f"| {sm['scale']:g} | {100 * sm['median_kc_fraction']:.0f} % ({100 * sm['min_kc_fraction']:.0f} "
                     f"to {100 * sm['max_kc_fraction']:.0f} %) | {100 * sm['median_shared_share']:.0f} % | "
                     f"{100 * sm['median_pn_shared_share']:.0f} % | "
                     + " | ".join(cells) + " |")
    if "with_spontaneous" in data:
        sp = data["with_spontaneous"]
        down = sorted((r.get("kcs_down", 0) for r in sp["odours"] if r["receptors"])) or [0]
        lines += ["", "## With the ORNs' spontaneous firing", "",
                  "The default model's ORNs are silent without a stimulus, so an odour drives every receptor it "
                  "excites even weakly from zero. Kreher et al. 2008 measured each receptor's spontaneous rate "
                  "(`experiments.odours.spontaneous_activity`) and report odour responses as changes from it. Here "
                  "every ORN fires at that rate throughout and each odour adds its response "
                  "(`known_odour(..., spontaneous=True)`, `odour_drives(..., background=...)`; an inhibitory response "
                  "now lowers the rate). An analysis of the default model, not a new default: the model was "
                  "calibrated with silent ORNs and a quiet network at rest.", "",
                  f"**{spontaneous_reading(data)}**", "",
                  f"KCs whose rate an odour lowers by more than {sp['threshold_hz']:g} Hz: median "
                  f"{int(np.median(down))} (range {down[0]} to {down[-1]}).",
                  "", "| odour | PNs responding | KCs responding | KCs lowered |", "| --- | --- | --- | --- |"]
        for r in sorted(sp["odours"], key=lambda r: -r["kcs"]):
            lines.append(f"| {r['odour']} | {r['pns']} | {r['kcs']} ({100 * r['kcs'] / sp['kcs']:.0f} %) | "
                         f"{r.get('kcs_down', 0)} |")
    lines += ["", f"Run time {data['wall_time_s']:.0f} s. Rerun: `python -m experiments.odour_coding`."]
    return "\n".join(lines) + "\n"


def report(path="docs/odours.md", connectome=None, *, scale: float = 1.0, seed: int = 0, log=None) -> dict:
    """Run :func:`coding` on every measured odour; write the report and ``<stem>.json`` atomically."""
    import connectomes
    from larvasim.util import atomic_write_text

    c = connectome if connectome is not None else connectomes.load("winding2023")
    t0 = time.perf_counter()
    data = coding(c, scale=scale, seed=seed)
    data["by_scale"] = [summary(data if k == scale else coding(c, scale=k, seed=seed)) for k in SCALES]
    data["with_spontaneous"] = coding(c, scale=scale, seed=seed, spontaneous=True)
    data["date"] = datetime.date.today().isoformat()
    data["wall_time_s"] = time.perf_counter() - t0
    path = Path(path)
    atomic_write_text(path, _write(data))
    atomic_write_text(path.with_suffix(".json"), json.dumps(data, indent=1) + "\n")
    if log:
        log(f"{path} written ({data['wall_time_s']:.0f} s)")
    return data


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m experiments.odour_coding",
                                 description="Drive the default model with each measured odour (Kreher et al. 2008).")
    ap.add_argument("--out", default="docs/odours.md")
    ap.add_argument("--scale", type=float, default=1.0, help="rate scale of the odours (default 1)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    report(args.out, scale=args.scale, seed=args.seed, log=lambda m: print(m, file=sys.stderr))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
