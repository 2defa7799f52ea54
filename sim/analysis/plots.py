"""Pictures of connectomes and simulation results (matplotlib).

Every function draws into a given ``ax`` (or a new figure) and returns the
figure, so that experiments, notebooks and ``larvasim plot`` share them;
:func:`save` writes PNG or SVG (by extension) atomically.

* :func:`raster` -- spikes of one trial, neurons grouped and coloured by cell type.
* :func:`population_rates` -- PSTH per cell type (Hz, averaged over trials and neurons).
* :func:`readout_heatmap` -- rates of output neurons (DN-VNC, DN-SEZ, ...) per stimulus.
* :func:`connectivity` -- synapse counts between cell types.
* :func:`latency_vs_hops` -- first-spike latency against cascade hops.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping, Sequence

import matplotlib

matplotlib.use(os.environ.get("MPLBACKEND", "Agg"))
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

__all__ = ["raster", "population_rates", "readout_heatmap", "connectivity", "latency_vs_hops",
           "save", "celltype_colors"]

from connectomes.winding2023 import DESCENDING_CELLTYPES, OUTPUT_CELLTYPES  # noqa: E402

_READOUT = OUTPUT_CELLTYPES


def celltype_colors(celltypes: Sequence[str]) -> dict:
    """A fixed colour per cell type (tab20, alphabetical), output neurons in strong colours."""
    names = sorted(set(celltypes))
    cmap = plt.get_cmap("tab20")
    colors = {ct: cmap(k % 20) for k, ct in enumerate(names)}
    for ct, col in zip(_READOUT, ("#d62728", "#1f77b4", "#2ca02c")):
        if ct in colors:
            colors[ct] = col
    return colors


def _axes(ax, figsize):
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize)
        return fig, ax
    return ax.figure, ax


def _group_order(neurons: pd.DataFrame, column: str, first: Sequence[str] = ()) -> list:
    groups = list(dict.fromkeys(neurons[column].astype(str)))
    lead = [g for g in first if g in groups]
    return lead + sorted(g for g in groups if g not in lead)


def raster(results, trial: int = 0, column: str = "celltype", groups: Sequence[str] | None = None,
           ax=None, markersize: float = 1.5, title: str | None = None):
    """Spike raster of one trial, rows grouped by ``column`` (output neurons first).

    Parameters
    ----------
    results : sim.Results
    trial : int
    column : str
        Neuron-table column that groups and colours the rows (default ``celltype``).
    groups : sequence of str, optional
        Only these groups, in this order (default: every group, outputs first).
    """
    n = results.neurons
    order = list(groups) if groups is not None else _group_order(n, column, _READOUT)
    colors = celltype_colors(n[column].astype(str))
    fig, ax = _axes(ax, (9, 6))
    trains = results.spike_trains(trial)
    y = 0
    ticks = []
    for g in order:
        members = n.index[n[column].astype(str) == g]
        start = y
        for node in members:
            t = trains.get(int(node))
            if t is not None and len(t):
                ax.plot(t, np.full(len(t), y), "|", color=colors.get(g, "k"), markersize=markersize)
            y += 1
        if y > start:
            ticks.append(((start + y) / 2, f"{g} ({y - start})"))
            ax.axhline(y - 0.5, color="0.85", lw=0.5)
    ax.set_yticks([t for t, _ in ticks], [lab for _, lab in ticks], fontsize=7)
    ax.set_xlim(0, results.duration_ms)
    ax.set_ylim(-0.5, max(y, 1) - 0.5)
    ax.invert_yaxis()
    ax.set_xlabel("time (ms)")
    ax.set_title(title or f"{results.population}: trial {trial}, {len(results.spike_times)} spikes in all trials")
    return fig


def population_rates(results, column: str = "celltype", groups: Sequence[str] | None = None,
                     bin=10.0, ax=None, title: str | None = None):
    """Population rate (Hz) over time for each group, averaged over trials and neurons."""
    n = results.neurons
    order = list(groups) if groups is not None else _group_order(n, column, _READOUT)
    colors = celltype_colors(n[column].astype(str))
    fig, ax = _axes(ax, (8, 4))
    for g in order:
        members = n.index[n[column].astype(str) == g].to_numpy()
        edges, rate = results.psth(members, bin=bin)
        if np.all(np.isnan(rate)) or np.nanmax(rate) == 0:
            continue
        ax.step(edges[:-1], rate, where="post", color=colors.get(g), label=g,
                lw=2 if g in _READOUT else 1)
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("rate (Hz)")
    ax.legend(fontsize=7, ncol=2, frameon=False)
    ax.set_title(title or "population rates")
    return fig


def readout_heatmap(runs: Mapping[str, object], groups: Sequence[str] = DESCENDING_CELLTYPES,
                    window=None, ax=None, only_responding: bool = True, title: str | None = None):
    """Mean rate of every output neuron (columns) for every stimulus (rows).

    Parameters
    ----------
    runs : mapping of str -> sim.Results
        One run per stimulus, e.g. ``{"olfactory": res1, "visual": res2}``.
    groups : sequence of str
        Output cell types shown (columns sorted by group, then skeleton id).
    only_responding : bool
        Drop neurons that fire in none of the runs.
    """
    tables = {name: r.readout(window, per_neuron=True, groups=groups) for name, r in runs.items()}
    first = next(iter(tables.values()))
    mat = pd.DataFrame({name: t["mean_hz"] for name, t in tables.items()}).T
    labels = first["celltype"]
    if only_responding and (mat.fillna(0) > 0).any(axis=None):
        keep = (mat.fillna(0) > 0).any(axis=0)
        mat, labels = mat.loc[:, keep], labels[keep]
    fig, ax = _axes(ax, (max(6, 0.06 * mat.shape[1] + 3), 0.4 * len(runs) + 2))
    im = ax.imshow(mat.to_numpy(), aspect="auto", cmap="magma", interpolation="nearest")
    ax.set_yticks(range(len(mat.index)), mat.index, fontsize=8)
    bounds = np.flatnonzero(np.r_[True, labels.to_numpy()[1:] != labels.to_numpy()[:-1]])
    ax.set_xticks(bounds, labels.to_numpy()[bounds], fontsize=7, rotation=90)
    for b in bounds[1:]:
        ax.axvline(b - 0.5, color="w", lw=0.8)
    fig.colorbar(im, ax=ax, label="rate (Hz)")
    ax.set_xlabel(f"output neurons ({mat.shape[1]} responding)")
    ax.set_title(title or "descending output per stimulus")
    return fig


def connectivity(connectome, types=("ad", "aa", "dd", "da"), column: str = "celltype", ax=None,
                 normalise: str = "none", title: str | None = None):
    """Synapse counts between groups of neurons (rows presynaptic), log colour scale.

    ``normalise="post"`` divides each column by the postsynaptic group's total input.
    """
    W = connectome.weights(types)
    labels = connectome.neurons[column].astype(str).to_numpy()
    order = _group_order(connectome.neurons, column)
    idx = {g: k for k, g in enumerate(order)}
    g = np.array([idx[x] for x in labels])
    P = np.zeros((len(order), len(g)))
    P[g, np.arange(len(g))] = 1
    M = P @ (W @ P.T)
    if normalise == "post":
        M = M / np.maximum(M.sum(axis=0, keepdims=True), 1)
    fig, ax = _axes(ax, (8, 7))
    im = ax.imshow(np.log10(M + (1e-4 if normalise == "post" else 1)), cmap="viridis")
    ax.set_xticks(range(len(order)), order, rotation=90, fontsize=7)
    ax.set_yticks(range(len(order)), order, fontsize=7)
    ax.set_xlabel("postsynaptic")
    ax.set_ylabel("presynaptic")
    fig.colorbar(im, ax=ax, label="log10 share of input" if normalise == "post" else "log10 (synapses + 1)")
    ax.set_title(title or f"{connectome.name}: synapses ({'+'.join(types)}) between cell types")
    return fig


def latency_vs_hops(latency_ms, hops, labels=None, ax=None, title: str | None = None):
    """Scatter of first-spike latency (ms) against cascade hops, with Spearman's rho."""
    from scipy.stats import spearmanr

    x = np.asarray(hops, dtype=float)
    y = np.asarray(latency_ms, dtype=float)
    ok = np.isfinite(x) & np.isfinite(y)
    fig, ax = _axes(ax, (5, 4))
    ax.scatter(x[ok], y[ok], s=12, alpha=0.7)
    rho = spearmanr(x[ok], y[ok]).statistic if ok.sum() > 2 else np.nan
    ax.set_xlabel("cascade hops")
    ax.set_ylabel("first-spike latency (ms)")
    ax.set_title(title or f"latency vs hops (Spearman rho = {rho:.2f}, n = {int(ok.sum())})")
    return fig


def save(fig, path, dpi: int = 120) -> Path:
    """Write ``fig`` to ``path`` (PNG or SVG by extension) atomically; closes the figure."""
    path = Path(path)
    fmt = path.suffix.lstrip(".").lower()
    if fmt not in ("png", "svg", "pdf"):
        raise ValueError(f"{path}: figures are written as .png, .svg or .pdf")
    from larvasim.util import atomic_path

    try:
        with atomic_path(path, suffix=f".{fmt}") as tmp:
            fig.savefig(tmp, format=fmt, dpi=dpi, bbox_inches="tight")
    finally:
        plt.close(fig)
    return path
