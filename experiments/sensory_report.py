"""Write docs/sensory.md: the four sensory experiments on the default model, and what they show.

    LARVASIM_DATA=../shared/connectomes python -m experiments.sensory_report

Every number in docs/sensory.md (and the figures the README quotes from it: how
many modalities reach an output, the left/right ipsilateral index of the real and
of the shuffled brain, multisensory supra-additivity, Rh5 against Rh6) comes from
this script; docs/sensory.json holds them. The experiments are seeded and the
numba engine's spikes do not depend on the thread count, so
tests/experiments/test_sensory_report.py reruns the whole report (about 20 s) and
requires the same numbers.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from larvasim.util import atomic_path, atomic_write_text, json_default

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "sensory.md"
JSON = ROOT / "docs" / "sensory.json"
FIG = ROOT / "docs" / "figures"

#: The documented settings: the experiments' own defaults, except three trials for the sensory map
#: (the README's figure) -- the command lines are `larvasim run NAME` with these options.
SETTINGS = {"sensory_map": {"trials": 3}, "left_right": {}, "multisensory_synergy": {}, "light": {}}


def _f(x) -> float | None:
    x = float(x)
    return x if np.isfinite(x) else None


def run(connectome=None) -> dict:
    """Run the four experiments with :data:`SETTINGS`; return every documented number as plain data.

    Parameters
    ----------
    connectome : Connectome, optional
        Default: ``connectomes.load("winding2023")``.

    Returns
    -------
    dict
        ``sensory_map``, ``left_right``, ``multisensory_synergy``, ``light`` and ``model``
        sections; the figures are returned under the key ``_figures`` (not serialised).
    """
    import connectomes
    from experiments.core import run_experiment

    c = connectome if connectome is not None else connectomes.load("winding2023")
    out, figures, seconds = {}, {}, {}
    for name, options in SETTINGS.items():
        t0 = time.perf_counter()
        res = run_experiment(name, c, **options)
        seconds[name] = time.perf_counter() - t0
        figures[name] = res.figures
        meta = {k: v for k, v in res.metadata.items() if k != "wall_time_s"}  # timings live in "seconds"
        out[name] = {"options": options, "metadata": meta, "summary": res.summary}
        if name == "sensory_map":
            t = res.tables["responses"]
            thr = 0.5
            rows = []
            for m in res.metadata["modalities"]:
                g = t[(t["modality"] == m) & (t["p_response"] >= thr)]
                rows.append({"modality": m, "outputs_reached": int(len(g)),
                             "median_latency_ms": _f(g["latency_ms"].median()) if len(g) else None,
                             "max_rate_hz": _f(t[t["modality"] == m]["mean_hz"].max())})
            cls = res.tables["classes"]
            out[name].update({
                "p_threshold": thr, "modalities": rows, "n_modalities": len(rows),
                "modalities_reaching": int(sum(r["outputs_reached"] > 0 for r in rows)),
                "not_reaching": [r["modality"] for r in rows if r["outputs_reached"] == 0],
                "classes": {f"{ct}|{k}": int(v) for (ct, k), v in cls.groupby(["celltype", "class"]).size().items()}})
        elif name == "left_right":
            pop = res.tables["population"]
            brains = {}
            for brain, g in pop.groupby("brain", sort=False):
                v = g["ipsi_index"].to_numpy(dtype=float)
                brains[brain] = {"per_seed": [_f(x) for x in v], "mean": _f(np.nanmean(v)),
                                 "responding_pairs": int(g["n_responding"].max()), "n_pairs": int(g["n_pairs"].max())}
            out[name].update({"brains": brains})
        elif name == "multisensory_synergy":
            t = res.tables["outputs"]
            s = t["supra_additivity_hz"].to_numpy()
            out[name].update({"responding": int(len(t)), "supra_additive": int((s > 0).sum()),
                              "sub_additive": int((s < 0).sum()), "additive": int((s == 0).sum()),
                              "median_supra_hz": _f(np.median(s)) if len(s) else None})
        elif name == "light":
            reach = res.tables["reach"].set_index("celltype")
            per = {}
            for rh in ("Rh5", "Rh6"):
                col = reach[rh] if rh in reach else reach.iloc[:, :0].sum(axis=1)
                per[rh] = {"neurons_reached": int(col.sum()),
                           "by_celltype": {str(k): int(v) for k, v in col.items() if v > 0}}
            out[name].update({"photoreceptors": per})
    out["model"] = {"text": out["sensory_map"]["summary"].splitlines()[0],
                    "models": out["sensory_map"]["metadata"]["models"]}
    out["seconds"] = seconds
    out["_figures"] = figures
    return out


#: Population ipsilateral index at or above which the report calls the response lateralised (convention).
IPSI_STRONG = 0.2


def _table(header, rows) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(x) for x in r) + " |" for r in rows]
    return lines


def render(d: dict) -> str:
    """docs/sensory.md from the numbers of :func:`run` (or of docs/sensory.json)."""
    sm, lr, ms_, li = d["sensory_map"], d["left_right"], d["multisensory_synergy"], d["light"]
    real, shuf = lr["brains"]["real"], lr["brains"]["shuffled"]
    lat = lambda x: "-" if x is None else f"{x:.1f}"  # noqa: E731
    L = ["# Sensory experiments on the default model",
         "",
         "Written by `python -m experiments.sensory_report` (the four sensory experiments of "
         "`larvasim run NAME`, on the real connectome); docs/sensory.json holds every number, and "
         "`tests/experiments/test_sensory_report.py` reruns the report and requires the same numbers. "
         "Do not edit by hand.",
         "",
         f"Model, as the experiments print it: `{d['model']['text']}`.",
         "",
         "## Sensory map: each modality to the descending neurons",
         "",
         f"`larvasim run sensory_map --trials {sm['metadata']['trials']}`: each modality (both sides) driven at "
         f"{sm['metadata']['rate_hz']:g} Hz for 500 ms (100-600 ms of a 700 ms trial), "
         f"{sm['metadata']['trials']} trials, seed {sm['metadata']['seed']}. An output neuron (DN-VNC, DN-SEZ) "
         f"is reached when it fires in at least {sm['p_threshold']:g} of the trials during the stimulus.",
         "",
         f"**{sm['modalities_reaching']} of {sm['n_modalities']} modalities reach at least one output neuron**"
         + (f"; {', '.join(sm['not_reaching'])} reach none." if sm["not_reaching"] else "."),
         ""]
    L += _table(["modality", "outputs reached", "median first-spike latency (ms)", "highest output rate (Hz)"],
                [(r["modality"], r["outputs_reached"], lat(r["median_latency_ms"]), f"{r['max_rate_hz']:.1f}")
                 for r in sm["modalities"]])
    L += ["", "Output neurons by class (labelled line: reached by one modality; integrator: by several):", ""]
    L += _table(["class", "neurons"], [(k.replace("|", ": "), v) for k, v in sm["classes"].items()])
    L += ["", "![Descending output of the sensory map](figures/sensory_map_heatmap.png)", "",
          "## Left against right",
          "",
          f"`larvasim run left_right`: the olfactory neurons of one side, then of the other, at "
          f"100 Hz, 5 trials, seeds {', '.join(map(str, lr['metadata']['seeds']))}; per DN left/right pair the "
          "ipsilateral index (r_ipsi - r_contra) / (r_ipsi + r_contra), the population index the mean over "
          "responding pairs. The control is a degree- and strength-preserving shuffle of the connectome "
          "(`connectomes.nullmodels.shuffle`, seed 0).",
          ""]
    fmt = lambda v: ", ".join(f"{x:+.3f}" for x in v)  # noqa: E731
    L += _table(["brain", "population ipsilateral index (mean over seeds)", "per seed", "responding pairs"],
                [("real", f"{real['mean']:+.3f}", fmt(real["per_seed"]), f"{real['responding_pairs']} of {real['n_pairs']}"),
                 ("shuffled", f"{shuf['mean']:+.3f}", fmt(shuf["per_seed"]), f"{shuf['responding_pairs']} of {shuf['n_pairs']}")])
    if real["mean"] >= IPSI_STRONG:
        reading = (f"Olfactory input to one side drives mostly the descending neurons of that side (index "
                   f"{real['mean']:+.2f}); the shuffled brain, with the same degrees, does not ({shuf['mean']:+.2f}), "
                   "although more of its pairs respond: the bias comes from the wiring, not from the degree sequence.")
    else:
        reading = (f"Olfactory input to one side drives the descending neurons of both sides almost equally: the "
                   f"ipsilateral index is {real['mean']:+.2f} (shuffled brain {shuf['mean']:+.2f}), below "
                   f"{IPSI_STRONG:g}, the level we would call a side bias. In this model the activity reaches both "
                   "sides' descending neurons within the stimulus; a lateralised response is not predicted.")
    L += ["", reading, "",
          "## Multisensory synergy (nociceptive + chordotonal)",
          "",
          "`larvasim run multisensory_synergy`: nociceptive and chordotonal (mechano-Ch) neurons at 100 Hz, "
          "alone and together (Ohyama et al. 2015, Nature 520:633, found that the combination favours rolling "
          "through the Basin -> Goro pathway, most of which lies in the nerve cord, outside these data). "
          "Supra-additivity of an output neuron: r_both - r_noci - r_mechano.",
          "",
          f"Of {ms_['responding']} output neurons that respond to either, {ms_['supra_additive']} are "
          f"supra-additive, {ms_['sub_additive']} sub-additive and {ms_['additive']} exactly additive "
          f"(median {ms_['median_supra_hz']:+.1f} Hz). "
          + ("Most responding outputs add supra-additively." if ms_["supra_additive"] > ms_["sub_additive"] else
             "Most responding outputs are sub-additive: together the two senses drive the descending neurons less "
             "than the sum of their separate responses (adaptation caps the rates), so the brain's output does "
             "not reproduce the behavioural synergy."),
          "",
          "## Light: Rh5 against Rh6 photoreceptors",
          "",
          "`larvasim run light`: the Rh5 and the Rh6 photoreceptors (Pedigo et al. 2023 `class2`) driven "
          "separately at 100 Hz. Neurons reached (any spike in the window, photoreceptors themselves excluded):",
          ""]
    cts = sorted(set(li["photoreceptors"]["Rh5"]["by_celltype"]) | set(li["photoreceptors"]["Rh6"]["by_celltype"]))
    L += _table(["cell type", "Rh5", "Rh6"],
                [(ct, li["photoreceptors"]["Rh5"]["by_celltype"].get(ct, 0),
                  li["photoreceptors"]["Rh6"]["by_celltype"].get(ct, 0)) for ct in cts]
                + [("**all**", li["photoreceptors"]["Rh5"]["neurons_reached"],
                    li["photoreceptors"]["Rh6"]["neurons_reached"])])
    outs = sum(li["photoreceptors"][rh]["by_celltype"].get(g, 0) for rh in ("Rh5", "Rh6")
               for g in ("DN-VNC", "DN-SEZ", "RGN"))
    L += ["",
          ("Neither photoreceptor type drives a descending or ring-gland neuron in the default model, although "
           "Rh5 is needed for light avoidance (Keene et al. 2011, J Neurosci 31:6527): visual input reaches no "
           "output here, nor in the modality check of docs/biology.md, a stated limit of the model."
           if outs == 0 else f"Output neurons reached by light: {outs}."),
          ""]
    return "\n".join(L)


def write(d: dict, doc=DOC, json_path=JSON, figures=FIG) -> None:
    """Write the document, its JSON and the sensory-map figure (each atomically)."""
    figs = d.get("_figures", {})
    if "sensory_map" in figs and figures is not None:
        Path(figures).mkdir(parents=True, exist_ok=True)
        with atomic_path(Path(figures) / "sensory_map_heatmap.png") as tmp:
            figs["sensory_map"]["heatmap"].savefig(tmp, dpi=110, bbox_inches="tight", format="png")
    data = {k: v for k, v in d.items() if not k.startswith("_")}
    atomic_write_text(json_path, json.dumps(data, indent=1, default=json_default) + "\n")
    atomic_write_text(doc, render(json.loads(json.dumps(data, default=json_default))) + "\n")


def main(argv=None) -> int:
    """``python -m experiments.sensory_report [--out DOC] [--json JSON] [--figures DIR]``."""
    p = argparse.ArgumentParser(prog="python -m experiments.sensory_report", description=__doc__.splitlines()[0])
    p.add_argument("--out", default=str(DOC))
    p.add_argument("--json", default=str(JSON))
    p.add_argument("--figures", default=str(FIG))
    args = p.parse_args(argv)
    d = run()
    write(d, args.out, args.json, args.figures)
    print(f"wrote {args.out}, {args.json} and {args.figures}/sensory_map_heatmap.png")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
