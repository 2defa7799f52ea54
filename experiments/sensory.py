"""Sensory experiments: each modality to the descending neurons, left vs right, multisensory
synergy, and light (Rh5 vs Rh6 photoreceptors).

All drive sensory neurons with :class:`sim.PoissonDrive` inside a window
(default 100-600 ms of a 700 ms trial) and read the brain's outputs: the
descending neurons to the nerve cord (DN-VNC) and to the subesophageal zone
(DN-SEZ), and the ring-gland neurons (RGN).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from brian2 import Hz, ms

import sim
from connectomes.winding2023 import DESCENDING_CELLTYPES
from models import DEFAULT_MODEL, DEFAULT_SIGNS
from sim.analysis import plots

from .core import ExperimentResult, pair_table, register

__all__ = ["sensory_map", "left_right", "multisensory_synergy", "light", "dn_responses"]

OUTPUTS = DESCENDING_CELLTYPES


def _q(x, unit):
    """Quantity from a number in ``unit`` or a quantity."""
    return x if hasattr(x, "dim") else x * unit


def _network(c, device, signs, targets, **kw):
    return sim.Network(c, signs=signs, device=device, drive_targets=targets, **kw)


def dn_responses(res, onset_ms: float, stop_ms: float, groups=OUTPUTS) -> pd.DataFrame:
    """Per output neuron: rate in the window, response probability, median first-spike latency.

    The latency is measured from ``onset_ms``; a response is at least one
    spike in ``[onset_ms, stop_ms)`` in a trial.
    """
    window = (onset_ms * ms, stop_ms * ms)
    rates = res.readout(window, per_neuron=True, groups=groups)
    resp = res.response_probability(after=onset_ms * ms, window=window)
    out = rates[["skid", "celltype", "hemisphere", "label", "mean_hz", "sem_hz"]].copy()
    out["p_response"] = resp.loc[out.index, "p_response"].to_numpy()
    out["latency_ms"] = resp.loc[out.index, "median_latency_ms"].to_numpy()
    out.index.name = "node_id"
    return out.reset_index()


@register("sensory_map", "each sensory modality (both sides) -> DN-VNC / DN-SEZ rates, response "
                         "probability and latency; labelled lines vs integrators")
def sensory_map(c, *, modalities=None, rate=100, onset=100, stop=600, duration=700, trials=5, seed=0,
                device="numba", signs=DEFAULT_SIGNS, model=DEFAULT_MODEL, p_threshold=0.5) -> ExperimentResult:
    """Drive each modality in turn; classify output neurons as labelled lines or integrators.

    Parameters
    ----------
    c : Connectome
    modalities : list of str, optional
        Default: every modality of the connectome except ``unknown``.
    rate : Quantity or float (Hz)
        Drive rate per sensory neuron.
    onset, stop, duration : Quantity or float (ms)
        Stimulus window and trial length.
    trials, seed, device, signs
        As in :meth:`sim.Network.run` / :class:`sim.Network`.
    p_threshold : float
        A neuron responds to a modality when it fires in at least this
        fraction of trials during the stimulus.

    Returns
    -------
    ExperimentResult
        tables ``responses`` (modality x output neuron) and ``classes`` (per
        output neuron: responding modalities, class ``labelled line`` /
        ``integrator`` / ``silent``); figure ``heatmap``.
    """
    mods = [m for m in (modalities or c.modalities) if m != "unknown"]
    rate, onset, stop, duration = _q(rate, Hz), _q(onset, ms), _q(stop, ms), _q(duration, ms)
    on_ms, off_ms = float(onset / ms), float(stop / ms)
    sels = {m: c.select(modality=m) for m in mods}
    net = _network(c, device, signs, np.unique(np.concatenate([s.indices for s in sels.values()])), model=model)
    runs, rows = {}, []
    for m in mods:
        res = net.run([sim.PoissonDrive(sels[m], rate, start=onset, stop=stop, name=m)], duration=duration,
                      trials=trials, seed=seed, progress=False)
        runs[m] = res
        t = dn_responses(res, on_ms, off_ms)
        t.insert(0, "modality", m)
        rows.append(t)
    table = pd.concat(rows, ignore_index=True)
    hits = table[table["p_response"] >= p_threshold]
    by_neuron = hits.groupby("node_id")["modality"].apply(lambda s: ";".join(s))
    cls = table.drop_duplicates("node_id")[["node_id", "skid", "celltype", "hemisphere", "label"]].copy()
    cls["modalities"] = cls["node_id"].map(by_neuron).fillna("")
    cls["n_modalities"] = cls["modalities"].apply(lambda s: len(s.split(";")) if s else 0)
    cls["class"] = np.select([cls["n_modalities"] == 0, cls["n_modalities"] == 1],
                             ["silent", "labelled line"], "integrator")
    counts = cls.groupby(["celltype", "class"]).size().unstack(fill_value=0)
    reach = hits.groupby("modality").size().reindex(mods, fill_value=0)
    lat = hits.groupby("modality")["latency_ms"].median().reindex(mods)
    lines = [f"sensory map: {len(mods)} modalities at {float(rate / Hz):g} Hz, {trials} trials, "
             f"{on_ms:g}-{off_ms:g} ms"]
    lines += [f"  {m:<22} reaches {reach[m]:>3} output neurons, median latency "
              f"{'-' if np.isnan(lat[m]) else f'{lat[m]:.1f} ms'}" for m in mods]
    lines.append("  classes: " + "; ".join(f"{ct}: " + ", ".join(f"{k} {v}" for k, v in row.items())
                                           for ct, row in counts.iterrows()))
    fig = plots.readout_heatmap(runs, groups=OUTPUTS, window=(onset, stop),
                                title=f"sensory map: output rates ({float(rate / Hz):g} Hz drive)")
    return ExperimentResult("sensory_map", tables={"responses": table, "classes": cls}, runs=runs,
                            figures={"heatmap": fig}, summary="\n".join(lines),
                            metadata={"modalities": mods, "rate_hz": float(rate / Hz), "trials": trials,
                                      "seed": seed, "device": device, "signs": signs})


def _ipsi_index(res, pairs, on_ms, off_ms, side):
    r = res.mean_rates((on_ms * ms, off_ms * ms))["mean_hz"]
    left, right = r.loc[pairs["left"]].to_numpy(), r.loc[pairs["right"]].to_numpy()
    ipsi, contra = (left, right) if side == "left" else (right, left)
    with np.errstate(invalid="ignore", divide="ignore"):
        return ipsi, contra, np.where(ipsi + contra > 0, (ipsi - contra) / (ipsi + contra), np.nan)


@register("left_right", "one side's sensory neurons -> left/right asymmetry of descending output "
                        "(turning-bias hypothesis), against a shuffled connectome")
def left_right(c, *, modality="olfactory", rate=100, onset=100, stop=600, duration=700, trials=5,
               seeds=(0, 1, 2), device="numba", signs=DEFAULT_SIGNS, model=DEFAULT_MODEL, compare_null=True,
               null_seed=0) -> ExperimentResult:
    """Drive the left, then the right, neurons of a modality; measure the ipsilateral bias of DN pairs.

    For each DN left/right pair the ipsilateral index is
    ``(r_ipsi - r_contra) / (r_ipsi + r_contra)`` (rates in the stimulus
    window, mean over trials), averaged over left and right stimulation;
    +1 means only the DN on the stimulated side fires. The population index
    is the mean over responding pairs; it is computed per seed, and on a
    degree-preserving shuffle of the connectome when ``compare_null``.
    """
    from connectomes.nullmodels import shuffle

    rate, onset, stop, duration = _q(rate, Hz), _q(onset, ms), _q(stop, ms), _q(duration, ms)
    on_ms, off_ms = float(onset / ms), float(stop / ms)
    brains = {"real": c}
    if compare_null:
        brains["shuffled"] = shuffle(c, seed=null_seed)
    rows, pop_rows, runs = [], [], {}
    for brain, cc in brains.items():
        pairs = pair_table(cc, cc.select(celltype=list(OUTPUTS)).indices)
        sides = {s: cc.select(modality=modality, hemisphere=s) for s in ("left", "right")}
        net = _network(cc, device, signs, np.union1d(sides["left"].indices, sides["right"].indices), model=model)
        for seed in seeds:
            idx = []
            for side, sel in sides.items():
                res = net.run([sim.PoissonDrive(sel, rate, start=onset, stop=stop, name=f"{modality} {side}")],
                              duration=duration, trials=trials, seed=seed, progress=False)
                if seed == seeds[0]:
                    runs[f"{brain}_{side}"] = res
                ipsi, contra, ix = _ipsi_index(res, pairs, on_ms, off_ms, side)
                idx.append(ix)
                for k, p in pairs.iterrows():
                    rows.append({"brain": brain, "seed": seed, "stimulated": side, "pair": p["label"],
                                 "left": p["left"], "right": p["right"], "ipsi_hz": ipsi[k],
                                 "contra_hz": contra[k], "ipsi_index": ix[k]})
            stacked = np.vstack(idx)
            n_ok = np.isfinite(stacked).sum(axis=0)
            pair_index = np.where(n_ok > 0, np.nansum(stacked, axis=0) / np.maximum(n_ok, 1), np.nan)
            responding = np.isfinite(pair_index)
            pop_rows.append({"brain": brain, "seed": seed, "n_pairs": int(len(pairs)),
                             "n_responding": int(responding.sum()),
                             "ipsi_index": float(np.nanmean(pair_index)) if responding.any() else np.nan})
    pairs_t = pd.DataFrame(rows)
    pop = pd.DataFrame(pop_rows)
    lines = [f"left vs right ({modality}, {float(rate / Hz):g} Hz, {trials} trials x {len(seeds)} seeds):"]
    for brain, g in pop.groupby("brain", sort=False):
        v = g["ipsi_index"].to_numpy()
        mean = float(np.mean(v[np.isfinite(v)])) if np.isfinite(v).any() else np.nan
        lines.append(f"  {brain:<9} population ipsilateral index {mean:+.3f} (per seed "
                     + ", ".join(f"{x:+.3f}" for x in v) + f"), responding pairs {g['n_responding'].max()}")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for brain, g in pairs_t.groupby("brain", sort=False):
        per_pair = g.groupby("pair")["ipsi_index"].mean().dropna().sort_values()
        ax.plot(np.arange(len(per_pair)), per_pair.to_numpy(), "o-", ms=3, label=f"{brain} ({len(per_pair)} pairs)")
    ax.axhline(0, color="0.5", lw=0.5)
    ax.set_xlabel("DN pair (sorted)")
    ax.set_ylabel("ipsilateral index")
    ax.set_title(f"{modality}: ipsilateral bias of DN pairs")
    ax.legend(frameon=False)
    return ExperimentResult("left_right", tables={"pairs": pairs_t, "population": pop}, runs=runs,
                            figures={"ipsilateral_index": fig}, summary="\n".join(lines),
                            metadata={"modality": modality, "seeds": list(seeds), "trials": trials})


#: Name patterns of neurons of the nociceptive escape (Goro) pathway, where the data names them.
GORO_PATTERNS = ("*goro*", "Basin*", "A05q*", "A00c*", "A08n*", "Tel*")


@register("multisensory_synergy", "nociceptive + mechanosensory (chordotonal) together vs alone: "
                                  "supra-additive DN responses (Ohyama et al. 2015)")
def multisensory_synergy(c, *, a="noci", b="mechano-Ch", rate=100, onset=100, stop=600, duration=700,
                         trials=5, seed=0, device="numba", signs=DEFAULT_SIGNS, model=DEFAULT_MODEL) -> ExperimentResult:
    """Responses of output neurons to A, B and A+B; supra-additivity ``r_AB - (r_A + r_B)`` per neuron.

    Ohyama et al. 2015 (Nature 520:633): combined nociceptive and mechanosensory
    cues favour rolling escape through the Basin -> Goro pathway. Neurons whose
    names match :data:`GORO_PATTERNS` are listed with their rates.
    """
    rate, onset, stop, duration = _q(rate, Hz), _q(onset, ms), _q(stop, ms), _q(duration, ms)
    sa, sb = c.select(modality=a), c.select(modality=b)
    net = _network(c, device, signs, np.union1d(sa.indices, sb.indices), model=model)
    conds = {a: [sa], b: [sb], f"{a}+{b}": [sa, sb]}
    runs = {k: net.run([sim.PoissonDrive(s, rate, start=onset, stop=stop) for s in sels], duration=duration,
                       trials=trials, seed=seed, progress=False) for k, sels in conds.items()}
    window = (onset, stop)
    rates = {k: r.mean_rates(window)["mean_hz"] for k, r in runs.items()}
    n = c.neurons
    df = pd.DataFrame({"skid": n["skid"], "celltype": n["celltype"], "label": n["label"],
                       f"rate_{a}": rates[a], f"rate_{b}": rates[b], "rate_both": rates[f"{a}+{b}"]})
    df["supra_additivity_hz"] = df["rate_both"] - df[f"rate_{a}"] - df[f"rate_{b}"]
    out = df[df["celltype"].isin(OUTPUTS)]
    responding = out[(out[[f"rate_{a}", f"rate_{b}", "rate_both"]] > 0).any(axis=1)]
    from connectomes.errors import SelectionError

    try:
        goro = c.select(name=list(GORO_PATTERNS))
        goro_t = df.loc[goro.indices]
    except SelectionError:
        goro_t = df.iloc[:0]
    supra = responding[responding["supra_additivity_hz"] > 0]
    lines = [f"multisensory synergy {a} + {b} ({float(rate / Hz):g} Hz, {trials} trials):",
             f"  responding output neurons: {len(responding)}, supra-additive: {len(supra)}, "
             f"sub-additive: {int((responding['supra_additivity_hz'] < 0).sum())}"]
    if len(goro_t):
        active = goro_t[(goro_t[[f"rate_{a}", f"rate_{b}", "rate_both"]] > 0).any(axis=1)]
        lines.append(f"  named escape-pathway neurons (Goro/Basin/A00c/telephone...): {len(goro_t)}, active "
                     f"{len(active)}; rates {a}/{b}/both: " + ", ".join(
                         f"{r.label} {r[f'rate_{a}']:.0f}/{r[f'rate_{b}']:.0f}/{r.rate_both:.0f} Hz"
                         for _, r in active.sort_values("rate_both", ascending=False).head(6).iterrows()))
    fig = plots.readout_heatmap(runs, groups=OUTPUTS, window=window, title=f"{a}, {b} and both")
    return ExperimentResult("multisensory_synergy", tables={"outputs": responding.reset_index(names="node_id"),
                                                            "named_pathway": goro_t.reset_index(names="node_id")},
                            runs=runs, figures={"heatmap": fig}, summary="\n".join(lines),
                            metadata={"a": a, "b": b, "trials": trials, "seed": seed})


@register("light", "Rh5 versus Rh6 photoreceptor drive: what each reaches (Rh5 is needed for light "
                   "avoidance)")
def light(c, *, rate=100, onset=100, stop=600, duration=700, trials=5, seed=0, device="numba",
          signs=DEFAULT_SIGNS, model=DEFAULT_MODEL) -> ExperimentResult:
    """Drive the Rh5 and the Rh6 photoreceptors separately (needs the Pedigo node table's
    ``class2`` = ``photoRh5`` / ``photoRh6``); count responding neurons per cell type.
    """
    if "class2" not in c.neurons.columns:
        raise ValueError("the light experiment needs the Pedigo et al. 2023 node table (class2 photoRh5/"
                         "photoRh6) beside the data: pedigo2023/unmatched_full_nodes.csv")
    rate, onset, stop, duration = _q(rate, Hz), _q(onset, ms), _q(stop, ms), _q(duration, ms)
    sels = {rh: c.select(class2=f"photo{rh}") for rh in ("Rh5", "Rh6")}
    net = _network(c, device, signs, np.union1d(sels["Rh5"].indices, sels["Rh6"].indices), model=model)
    runs = {rh: net.run([sim.PoissonDrive(s, rate, start=onset, stop=stop, name=rh)], duration=duration,
                        trials=trials, seed=seed, progress=False) for rh, s in sels.items()}
    window = (onset, stop)
    rows = []
    for rh, r in runs.items():
        m = r.mean_rates(window)
        active = m[(m["mean_hz"] > 0)]
        active = active[~active.index.isin(sels[rh].indices)]
        for ct, k in active.groupby("celltype").size().items():
            rows.append({"photoreceptor": rh, "celltype": ct, "n_active": int(k)})
    reach = pd.DataFrame(rows).pivot_table(index="celltype", columns="photoreceptor", values="n_active",
                                           fill_value=0)
    lines = [f"light: Rh5 ({len(sels['Rh5'])} neurons) vs Rh6 ({len(sels['Rh6'])}), {float(rate / Hz):g} Hz:"]
    for rh in ("Rh5", "Rh6"):
        col = reach[rh] if rh in reach else pd.Series(dtype=float)
        lines.append(f"  {rh}: {int(col.sum())} neurons reached; outputs: "
                     + ", ".join(f"{g} {int(col.get(g, 0))}" for g in OUTPUTS + ('RGN',)))
    fig = plots.readout_heatmap(runs, groups=OUTPUTS, window=window, only_responding=False,
                                title="Rh5 vs Rh6 photoreceptors: output rates")
    return ExperimentResult("light", tables={"reach": reach.reset_index()}, runs=runs, figures={"heatmap": fig},
                            summary="\n".join(lines), metadata={"trials": trials, "seed": seed})
