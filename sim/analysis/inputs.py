"""Why did a neuron respond? Its synaptic input in a run, broken down by presynaptic group.

In the current-based models (``current_lif``, ``larval_lif``) each presynaptic spike adds the
synapse's weight ``w`` (volt) to the postsynaptic variable ``g``, which decays with ``tau_syn``
and drives the membrane with gain 1 (``dv/dt = (v_rest - v + g + u_ext) / tau_m``). So the mean
of ``g`` that presynaptic neuron ``i`` sustains in neuron ``j`` is ``tau_syn x w_ij x r_i``, with
``r_i`` the mean rate of ``i``: the *drive* of ``i`` on ``j`` in millivolts. Below threshold the
summed drive is the mean depolarisation of ``j`` (``v - v_rest``; tested against the simulated
membrane potential); above it, it says which inputs push the neuron and which hold it back.

:func:`input_breakdown` sums the drive onto a set of target neurons by presynaptic group
(cell type by default, or any column of the neuron table) and sign, from a network and one of its
runs; :func:`input_change` compares two runs (e.g. with and without a stimulus, intact and
silenced) group by group. The weights are those the network was built with, with the run's
silencing applied (a silenced neuron's output counts zero); a plastic network's weight changes
during the run are not followed, and the external drive of neurons that are stimulated directly is
not an input listed here.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["input_breakdown", "input_change", "COLUMNS"]

#: Columns of :func:`input_breakdown`'s table.
COLUMNS = ("group", "sign", "presynaptic", "synapses", "rate_hz", "drive_mv", "share")


def _targets(network, target) -> np.ndarray:
    """Neuron indices of ``target``: a Selection, indices, a neuron name (shell wildcards) or a dict of
    ``connectome.select`` keywords."""
    from ._selection import neuron_indices

    return neuron_indices(network.connectome, target, who="input_breakdown", role="target")


def _check_model(network) -> float:
    """``tau_syn`` in ms of a current-based model whose synapses add their weight to ``g``."""
    m = network.model
    p = m.parameters
    if not getattr(m, "shared_pathway", False) or "tau_syn" not in p or m.on_pre("excitatory").strip() != "g += w":
        raise ValueError(f"input_breakdown needs a current-based model whose synapses add their weight to g "
                         f"(current_lif, larval_lif); model {m.name!r} is not one")
    from brian2 import ms

    return float(p["tau_syn"].value / ms)


def _silenced(network, results) -> tuple[np.ndarray, np.ndarray]:
    """Neurons whose output the run cut, and those it cut off entirely (``mode="all"``: no input either), from
    the run's Silence stimuli in the results' metadata."""
    out_off = np.zeros(network.n_neurons, dtype=bool)
    all_off = np.zeros(network.n_neurons, dtype=bool)
    for s in (results.metadata or {}).get("stimuli", []):
        if s.get("kind") == "Silence":
            idx = np.asarray(s.get("indices", []), dtype=np.int64)
            out_off[idx] = True
            if s.get("mode") == "all":
                all_off[idx] = True
    return out_off, all_off


def input_breakdown(network, results, target, *, by: str = "celltype", window=None) -> pd.DataFrame:
    """The synaptic drive onto ``target`` in a run, by presynaptic group and sign.

    Parameters
    ----------
    network : sim.Network
        The network that made ``results`` (current-based model).
    results : sim.Results
        A run of ``network``; its mean rates over trials give the presynaptic rates.
    target : Selection, array of int, str or dict
        The neurons whose input is broken down (a name with shell wildcards, e.g. ``"MBON-m1"``, or
        ``connectome.select`` keywords); the drive is the mean over them.
    by : str
        Column of the neuron table that groups the presynaptic neurons (default ``"celltype"``;
        ``"name"`` or ``"label"`` for named neurons, e.g. ``MBON-m1``, both sides together).
    window : (start, stop), optional
        Time window of the rates (as :meth:`sim.Results.mean_rates`).

    Returns
    -------
    pandas.DataFrame
        One row per presynaptic group and sign (``"+"``, ``"-"``), largest drive first: ``presynaptic``
        (neurons with a synapse onto the target), ``synapses`` (their synapse count onto the target),
        ``rate_hz`` (their mean rate, weighted by synapses), ``drive_mv`` (``tau_syn x sum w r``, mean
        over the target neurons, mV; negative for inhibitory input) and ``share`` (of the summed
        absolute drive). ``attrs["total_mv"]`` is the net drive, ``attrs["targets"]`` the number of
        target neurons and ``attrs["tau_syn_ms"]`` the time constant used.
    """
    tau_syn = _check_model(network)
    if (results.metadata or {}).get("weight_scale") not in (None, 1, 1.0):
        raise ValueError("input_breakdown: this run scaled its weights (run(weight_scale=...)); the breakdown uses "
                         "the weights the network was built with")
    if results.n_neurons != network.n_neurons:
        raise ValueError(f"input_breakdown: the results hold {results.n_neurons} neurons, the network "
                         f"{network.n_neurons}: they come from different connectomes")
    neurons = network.connectome.neurons
    by = "label" if by == "name" and "name" not in neurons.columns else by  # the neuron's name is its label
    if by not in neurons.columns:
        raise ValueError(f"input_breakdown: by={by!r} is not a column of the neuron table "
                         f"({', '.join(map(str, neurons.columns))})")
    tgt = _targets(network, target)
    pre, post, count, sign = network._edges
    keep = np.isin(post, tgt) & (sign != 0)
    pre, post, count, sign = pre[keep], post[keep], count[keep], sign[keep]
    from brian2 import mV

    w = np.asarray(network.synaptic_weights(post, count, sign, pre=pre) / mV, dtype=float)  # mV per spike
    rate = results.mean_rates(window=window)["mean_hz"].to_numpy(dtype=float)
    unknown = np.unique(pre[np.isnan(rate[pre])])
    if unknown.size:
        raise ValueError(f"input_breakdown: {unknown.size} presynaptic neuron(s) of the target were not recorded in "
                         f"this run (e.g. neuron {int(unknown[0])}), so their rates are unknown: record them "
                         "(Network(record=...), default all)")
    out_off, all_off = _silenced(network, results)
    rate = np.where(out_off, 0.0, rate)
    drive = np.where(all_off[post], 0.0, tau_syn * 1e-3 * w * rate[pre]) / len(tgt)  # mV, mean over the targets
    groups = neurons[by].astype(str).to_numpy()[pre]
    df = pd.DataFrame({"group": groups, "sign": np.where(sign > 0, "+", "-"), "pre": pre, "count": count,
                       "rate": rate[pre], "drive": drive})
    rows = []
    for (g, s), d in df.groupby(["group", "sign"], sort=False):
        n_syn = float(d["count"].sum())
        rows.append({"group": g, "sign": s, "presynaptic": int(d["pre"].nunique()), "synapses": int(n_syn),
                     "rate_hz": float((d["rate"] * d["count"]).sum() / n_syn) if n_syn else 0.0,
                     "drive_mv": float(d["drive"].sum())})
    out = pd.DataFrame(rows, columns=list(COLUMNS[:-1]))
    absolute = out["drive_mv"].abs().sum()
    out["share"] = out["drive_mv"].abs() / absolute if absolute > 0 else 0.0
    out = out.sort_values("drive_mv", key=np.abs, ascending=False, kind="stable").reset_index(drop=True)
    out.attrs.update({"total_mv": float(out["drive_mv"].sum()), "targets": int(len(tgt)), "tau_syn_ms": tau_syn})
    return out


def input_change(network, before, after, target, *, by: str = "celltype", window=None) -> pd.DataFrame:
    """How the synaptic drive onto ``target`` changed between two runs of ``network``, by group and sign.

    Parameters
    ----------
    network : sim.Network
    before, after : sim.Results
        Two runs (e.g. without and with a stimulus, intact and silenced).
    target, by, window
        As in :func:`input_breakdown`.

    Returns
    -------
    pandas.DataFrame
        ``group``, ``sign``, ``drive_before_mv``, ``drive_after_mv``, ``change_mv`` (after minus before),
        largest change first; ``attrs["total_change_mv"]`` is the net change.
    """
    a = input_breakdown(network, before, target, by=by, window=window)
    b = input_breakdown(network, after, target, by=by, window=window)
    m = side_by_side(b, a, names=("drive_after_mv", "drive_before_mv"), difference="change_mv")
    m = m[["group", "sign", "drive_before_mv", "drive_after_mv", "change_mv"]]
    m.attrs["total_change_mv"] = float(m["change_mv"].sum())
    return m


def side_by_side(a: pd.DataFrame, b: pd.DataFrame, *, names: tuple[str, str], difference: str) -> pd.DataFrame:
    """Two :func:`input_breakdown` tables joined on group and sign, with their difference.

    Parameters
    ----------
    a, b : pandas.DataFrame
        Breakdowns (columns ``group``, ``sign``, ``drive_mv``); a row missing from one counts as 0 mV there.
    names : (str, str)
        Column names for ``a``'s and ``b``'s drive.
    difference : str
        Column name for ``a`` minus ``b``; rows are sorted by its size, largest first.

    Returns
    -------
    pandas.DataFrame
        ``group``, ``sign``, ``names[0]``, ``names[1]``, ``difference``.
    """
    m = a[["group", "sign", "drive_mv"]].merge(b[["group", "sign", "drive_mv"]], on=["group", "sign"], how="outer",
                                               suffixes=("_a", "_b")).fillna(0.0)
    m = m.rename(columns={"drive_mv_a": names[0], "drive_mv_b": names[1]})
    m[difference] = m[names[0]] - m[names[1]]
    return m.sort_values(difference, key=np.abs, ascending=False, kind="stable").reset_index(drop=True)
