"""Spiking versus cascade: the graph's prediction and the dynamics of the same brain, compared.

For every sensory modality, the signal cascade of Winding et al. 2023
(:mod:`sim.analysis.cascade`) predicts how likely and after how many hops each output
neuron is reached; the spiking network (:func:`experiments.sensory.sensory_map`)
measures whether each output neuron fires during the stimulus (response
probability over trials) and after what first-spike latency. This module
puts them side by side: per modality, Spearman's rank correlation between
cascade hit probability and spiking response probability (all output
neurons), and between the cascade's mean hop and the spiking latency (output
neurons that respond in both), plus a 2 x 2 agreement table.

Run ``python -m experiments.compare --out docs/spiking_vs_cascade.md`` to
write the report with its figures.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from sim.analysis.cascade import modality_cascades

from .core import ExperimentResult, register
from .sensory import sensory_map

__all__ = ["spiking_vs_cascade", "main"]


def _per_neuron_mean_hop(cascade) -> np.ndarray:
    h = cascade.hits[:, 1:].astype(float)
    tot = h.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(tot > 0, (h * np.arange(1, h.shape[1] + 1)).sum(axis=1) / tot, np.nan)


def _rho(x, y):
    ok = np.isfinite(x) & np.isfinite(y)
    if ok.sum() < 3 or np.ptp(x[ok]) == 0 or np.ptp(y[ok]) == 0:
        return np.nan, int(ok.sum())
    return float(spearmanr(x[ok], y[ok]).statistic), int(ok.sum())


@register("spiking_vs_cascade", "each modality: cascade hit probability and hops vs spiking response "
                                "probability and latency of every descending neuron")
def spiking_vs_cascade(c, *, n_cascades=1000, cascade_seed=0, threshold=0.5, **spiking_options):
    """Compare the cascade's predictions with the spiking model, modality by modality.

    Parameters
    ----------
    c : Connectome
    n_cascades, cascade_seed
        Cascades per modality and their seed (p = 0.05, 8 hops, outputs as stop
        nodes, axo-dendritic graph: Winding et al. 2023).
    threshold : float
        "Reached": cascade hit probability >= threshold; "responds": spiking
        response probability >= threshold.
    **spiking_options
        Passed to :func:`experiments.sensory.sensory_map` (rate, trials, device, ...).

    Returns
    -------
    ExperimentResult
        tables ``neurons`` (modality x output neuron: hit probability, mean hop,
        response probability, latency) and ``modalities`` (rank correlations and
        agreement counts); figures ``probability`` and ``latency``.
    """
    spiking = sensory_map(c, **spiking_options)
    resp = spiking.tables["responses"]
    mods = list(dict.fromkeys(resp["modality"]))
    casc = modality_cascades(c, mods, n=n_cascades, seed=cascade_seed)
    rows, summary_rows = [], []
    for m in mods:
        r = resp[resp["modality"] == m].set_index("node_id")
        idx = r.index.to_numpy()
        cas = casc[m]
        hit = cas.hits[idx, 1:].sum(axis=1) / cas.n
        hop = _per_neuron_mean_hop(cas)[idx]
        p_spk = r["p_response"].to_numpy()
        lat = r["latency_ms"].to_numpy()
        t = pd.DataFrame({"modality": m, "node_id": idx, "celltype": r["celltype"].to_numpy(),
                          "label": r["label"].to_numpy(), "hemisphere": r["hemisphere"].to_numpy(),
                          "cascade_hit_probability": hit, "cascade_mean_hop": hop,
                          "spiking_p_response": p_spk, "spiking_latency_ms": lat})
        rows.append(t)
        reached, responds = hit >= threshold, p_spk >= threshold
        rho_p, n_p = _rho(hit, p_spk)
        both = reached & responds
        rho_l, n_l = _rho(np.where(both, hop, np.nan), np.where(both, lat, np.nan))
        summary_rows.append({"modality": m, "rho_probability": rho_p, "n": n_p,
                             "rho_hop_latency": rho_l, "n_both": n_l,
                             "reached_and_responds": int(both.sum()),
                             "reached_only": int((reached & ~responds).sum()),
                             "responds_only": int((~reached & responds).sum()),
                             "neither": int((~reached & ~responds).sum())})
    neurons = pd.concat(rows, ignore_index=True)
    mt = pd.DataFrame(summary_rows)
    pooled_p = _rho(neurons["cascade_hit_probability"].to_numpy(), neurons["spiking_p_response"].to_numpy())
    ok = (neurons["cascade_hit_probability"] >= threshold) & (neurons["spiking_p_response"] >= threshold)
    pooled_l = _rho(neurons.loc[ok, "cascade_mean_hop"].to_numpy(), neurons.loc[ok, "spiking_latency_ms"].to_numpy())
    lines = ["spiking vs cascade (output neurons DN-VNC + DN-SEZ):",
             f"  pooled Spearman rho, hit probability vs response probability: {pooled_p[0]:+.2f} (n={pooled_p[1]})",
             f"  pooled Spearman rho, mean hop vs first-spike latency: {pooled_l[0]:+.2f} (n={pooled_l[1]})",
             f"  reached by the cascade but silent in the spiking model: {int(mt['reached_only'].sum())}; "
             f"firing without being reached: {int(mt['responds_only'].sum())}"]
    import matplotlib.pyplot as plt

    fig1, ax = plt.subplots(figsize=(6, 5))
    for m, g in neurons.groupby("modality", sort=False):
        ax.scatter(g["cascade_hit_probability"], g["spiking_p_response"] + np.random.default_rng(0).uniform(
            -0.015, 0.015, len(g)), s=10, alpha=0.7, label=m)
    ax.set_xlabel("cascade hit probability (8 hops)")
    ax.set_ylabel("spiking response probability")
    ax.set_title(f"output neurons per modality (rho = {pooled_p[0]:.2f})")
    ax.legend(fontsize=6, ncol=2, frameon=False)
    from sim.analysis import plots

    fig2 = plots.latency_vs_hops(neurons.loc[ok, "spiking_latency_ms"], neurons.loc[ok, "cascade_mean_hop"])
    return ExperimentResult("spiking_vs_cascade", tables={"neurons": neurons, "modalities": mt},
                            runs=spiking.runs, figures={"probability": fig1, "latency": fig2},
                            summary="\n".join(lines),
                            metadata={"n_cascades": n_cascades, "cascade_seed": cascade_seed,
                                      "threshold": threshold, "spiking": spiking.metadata,
                                      "pooled_rho_probability": pooled_p[0],
                                      "pooled_rho_hop_latency": pooled_l[0]})


def _fmt(x, nd=2):
    return "-" if x is None or (isinstance(x, float) and np.isnan(x)) else f"{x:+.{nd}f}"


def main(argv=None) -> int:
    """Write ``docs/spiking_vs_cascade.md`` with its figures."""
    import connectomes
    from sim.analysis import plots

    ap = argparse.ArgumentParser(description="spiking model vs signal cascades, per modality")
    ap.add_argument("--out", default="docs/spiking_vs_cascade.md")
    ap.add_argument("--figures", default="docs/figures/spiking_vs_cascade")
    ap.add_argument("--data-dir")
    ap.add_argument("--trials", type=int, default=10)
    ap.add_argument("--device", default="numba")
    args = ap.parse_args(argv)
    c = connectomes.load("winding2023", data_dir=args.data_dir)
    res = spiking_vs_cascade(c, trials=args.trials, device=args.device)
    figdir = Path(args.figures)
    for k, fig in res.figures.items():
        plots.save(fig, figdir / f"{k}.png", dpi=90)
    mt = res.tables["modalities"]
    rel = lambda p: Path(p).resolve().relative_to(Path(args.out).resolve().parent, walk_up=True) if sys.version_info >= (3, 12) else Path("figures/spiking_vs_cascade") / Path(p).name  # noqa: E731
    opts = res.metadata["spiking"]
    net = next(iter(res.runs.values())).metadata["network"]
    w = net["model"]["parameters"].get("w_syn", {}).get("value")
    model_text = (f"model `{net['model']['model']}`" + (f" (`w_syn` = {w:.3g} mV)" if w is not None else "")
                  + f", {net['signs']['policy']} signs, synapse types {'+'.join(net['synapse_types'])}")
    lines = [
        "# Spiking model versus signal cascades",
        "",
        "Written by `python -m experiments.compare` "
        f"(`--trials {args.trials} --device {args.device}`). For each sensory modality the cascade "
        "(Winding et al. 2023: p = 0.05 per synapse, 8 hops, 1,000 cascades, outputs as stop nodes, "
        "axo-dendritic graph) predicts how likely each descending neuron (DN-VNC, DN-SEZ) is reached "
        f"and after how many hops; the spiking model ({model_text}; larvasim's default unless the command "
        f"asked for another), {opts['rate_hz']:g} Hz drive of the modality's neurons for 500 ms, "
        f"{opts['trials']} trials) measures whether each descending neuron fires (response "
        "probability) and its median first-spike latency.",
        "",
        "| modality | rho (hit prob. vs response prob.) | n | rho (mean hop vs latency) | n (both) | "
        "reached & fires | reached, silent | fires, not reached | neither |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in mt.itertuples():
        lines.append(f"| {r.modality} | {_fmt(r.rho_probability)} | {r.n} | {_fmt(r.rho_hop_latency)} | "
                     f"{r.n_both} | {r.reached_and_responds} | {r.reached_only} | {r.responds_only} | {r.neither} |")
    lines += ["", "```", res.summary, "```", "",
              f"![hit probability vs response probability]({rel(figdir / 'probability.png')})",
              f"![latency vs hops]({rel(figdir / 'latency.png')})", "",
              "## Where they agree and where they do not", ""]
    m = res.metadata
    tot = mt[["reached_and_responds", "reached_only", "responds_only", "neither"]].sum()
    lines.append(f"* Agreement on *whether* a descending neuron is driven: both say yes for "
                 f"{tot['reached_and_responds']}, both say no for {tot['neither']} (modality x neuron); the "
                 f"cascade reaches {tot['reached_only']} that stay silent in the spiking model, and "
                 f"{tot['responds_only']} fire without being reached.")
    lines.append(f"* Ordering: among neurons both call driven, more hops mean a later first spike "
                 f"(pooled Spearman rho {_fmt(m['pooled_rho_hop_latency'])}); across all neurons the "
                 f"cascade's hit probability and the spiking response probability correlate with rho "
                 f"{_fmt(m['pooled_rho_probability'])}.")
    if tot["reached_only"] > tot["reached_and_responds"]:
        lines.append("* Where they disagree, the graph is more permissive than the dynamics: a cascade "
                     "needs one successful transmission per hop, while a LIF neuron needs many coincident "
                     "inputs to reach threshold, so the spiking model keeps only the best-driven outputs. "
                     "The larval model's calibration (docs/biology.md) trades this against runaway activity: "
                     "stronger weights reach more outputs but set the whole brain alight.")
    lines.append("")
    Path(args.out).write_text("\n".join(lines))
    print(res.summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
