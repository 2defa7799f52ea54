"""Screens: activate (or silence) each neuron pair in turn and rank its effect on the outputs.

In the spirit of the activation screens of Shiu et al. 2024 (Nature 634:210):
every candidate left/right pair (unpaired neurons alone) is driven at a rate
while the rest of the brain is at rest, and each output neuron's rate is
recorded; the silencing screen cuts each candidate's outgoing synapses during
a fixed stimulus and measures how the outputs change. With the C++
standalone device the network is compiled once for all candidates.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from brian2 import Hz, ms
from tqdm.auto import tqdm

import sim
from models import DEFAULT_MODEL, DEFAULT_SIGNS

from .core import ExperimentResult, register
from .sensory import OUTPUTS, _network, _q

__all__ = ["candidate_groups", "activation_screen", "silencing_screen"]


def candidate_groups(c, candidates) -> list[tuple[str, np.ndarray]]:
    """Candidate neurons grouped into left/right pairs (unpaired alone): ``[(label, indices)]``."""
    idx = np.asarray(getattr(candidates, "indices", candidates), dtype=np.int64)
    n = c.neurons
    seen, groups = set(), []
    for i in idx:
        if i in seen:
            continue
        j = int(n.at[i, "pair_index"])
        members = [i] if j < 0 or j not in set(idx) else sorted((i, j))
        seen.update(members)
        groups.append((f"{n.at[i, 'label']} [{n.at[i, 'celltype']}]", np.asarray(members, dtype=np.int64)))
    return groups


def _default_candidates(c) -> np.ndarray:
    """Every paired neuron that is neither sensory nor an output (DN-VNC, DN-SEZ, RGN)."""
    n = c.neurons
    mask = (n["pair_index"] >= 0) & ~n["celltype"].isin(["sensory", *OUTPUTS, "RGN"])
    return np.flatnonzero(mask.to_numpy())


def _outputs(c, groups=OUTPUTS):
    return c.select(celltype=list(groups)).indices


@register("activation_screen", "activate each neuron pair in turn; rank the strongest drivers of "
                               "each descending neuron")
def activation_screen(c, *, candidates=None, rate=100, onset=50, stop=350, duration=400, trials=1, seed=0,
                      device="numba", signs=DEFAULT_SIGNS, model=DEFAULT_MODEL, top=5, progress=True) -> ExperimentResult:
    """Rank, for every output neuron, the candidate pairs whose activation drives it most.

    Parameters
    ----------
    candidates : Selection, optional
        Neurons to screen (default: every paired neuron that is not sensory or
        an output itself).
    rate, onset, stop, duration, trials, seed, device, signs
        Activation and run settings (Hz, ms).
    top : int
        Drivers listed per output neuron in the ``top_drivers`` table.

    Returns
    -------
    ExperimentResult
        tables ``effects`` (candidate x output neuron rate), ``top_drivers``;
        figure ``heatmap`` (strongest candidates x responding outputs).
    """
    rate, onset, stop, duration = _q(rate, Hz), _q(onset, ms), _q(stop, ms), _q(duration, ms)
    groups = candidate_groups(c, _default_candidates(c) if candidates is None else candidates)
    outs = _outputs(c)
    net = _network(c, device, signs, np.concatenate([g for _, g in groups]), model=model)
    window = (onset, stop)
    rows = np.zeros((len(groups), len(outs)))
    for k, (label, members) in enumerate(tqdm(groups, desc="activation screen", disable=not progress)):
        res = net.run([sim.Activation(members, rate, start=onset, stop=stop, name=label)], duration=duration,
                      trials=trials, seed=seed, progress=False)
        rows[k] = res.mean_rates(window)["mean_hz"].to_numpy()[outs]
    labels = [g[0] for g in groups]
    n = c.neurons
    effects = pd.DataFrame(rows, index=labels, columns=outs)
    long = effects.stack().rename("rate_hz").reset_index()
    long.columns = ["candidate", "node_id", "rate_hz"]
    long["output"] = n.loc[long["node_id"], "label"].to_numpy()
    long["output_celltype"] = n.loc[long["node_id"], "celltype"].to_numpy()
    long["output_hemisphere"] = n.loc[long["node_id"], "hemisphere"].to_numpy()
    top_rows = []
    for j, node in enumerate(outs):
        col = rows[:, j]
        if col.max() <= 0:
            continue
        for rank, k in enumerate(np.argsort(-col, kind="stable")[:top]):
            if col[k] <= 0:
                break
            top_rows.append({"node_id": int(node), "output": n.at[node, "label"], "celltype": n.at[node, "celltype"],
                             "hemisphere": n.at[node, "hemisphere"], "rank": rank + 1, "candidate": labels[k],
                             "candidate_indices": ";".join(map(str, groups[k][1])), "rate_hz": col[k]})
    top_t = pd.DataFrame(top_rows)
    driven = (rows > 0).any(axis=0)
    strongest = np.argsort(-rows.sum(axis=1))[:30]
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(10, 7))
    sub = rows[np.ix_(strongest, np.flatnonzero(driven))] if driven.any() else np.zeros((len(strongest), 1))
    im = ax.imshow(sub, aspect="auto", cmap="magma", interpolation="nearest")
    ax.set_yticks(range(len(strongest)), [labels[k] for k in strongest], fontsize=6)
    ax.set_xlabel(f"driven output neurons ({int(driven.sum())})")
    ax.set_title("activation screen: 30 strongest candidates")
    fig.colorbar(im, ax=ax, label="rate (Hz)")
    summary = [f"activation screen: {len(groups)} candidates, {int(driven.sum())} of {len(outs)} output "
               f"neurons driven by at least one"]
    if len(top_t):
        best = top_t[top_t["rank"] == 1].groupby("candidate").size().sort_values(ascending=False).head(5)
        summary.append("  most frequent top driver: " + ", ".join(f"{k} ({v} outputs)" for k, v in best.items()))
    return ExperimentResult("activation_screen", tables={"effects": long, "top_drivers": top_t},
                            figures={"heatmap": fig}, summary="\n".join(summary),
                            metadata={"n_candidates": len(groups), "rate_hz": float(rate / Hz),
                                      "trials": trials, "seed": seed})


@register("silencing_screen", "silence each neuron pair in turn during a stimulus; rank which "
                              "silencing changes descending output most")
def silencing_screen(c, *, stimulus_modality="olfactory", candidates=None, rate=100, onset=50, stop=350,
                     duration=400, trials=2, seed=0, device="numba", signs=DEFAULT_SIGNS, model=DEFAULT_MODEL,
                     progress=True) -> ExperimentResult:
    """Drive a modality; silence (outgoing synapses of) each candidate pair; rank the change in output.

    The effect of a candidate is the change of the summed output rate
    (DN-VNC + DN-SEZ) relative to the unsilenced baseline with the same seed
    (identical input), so any change is caused by the silencing.
    """
    rate, onset, stop, duration = _q(rate, Hz), _q(onset, ms), _q(stop, ms), _q(duration, ms)
    stim_sel = c.select(modality=stimulus_modality)
    groups = candidate_groups(c, _default_candidates(c) if candidates is None else candidates)
    outs = _outputs(c)
    net = _network(c, device, signs, stim_sel.indices, model=model)
    drive = sim.PoissonDrive(stim_sel, rate, start=onset, stop=stop, name=stimulus_modality)
    window = (onset, stop)
    base = net.run([drive], duration=duration, trials=trials, seed=seed, progress=False)
    base_out = base.mean_rates(window)["mean_hz"].to_numpy()[outs]
    rows = []
    for label, members in tqdm(groups, desc="silencing screen", disable=not progress):
        res = net.run([drive, sim.Silence(members, "outgoing")], duration=duration, trials=trials, seed=seed,
                      progress=False)
        r = res.mean_rates(window)["mean_hz"].to_numpy()[outs]
        rows.append({"candidate": label, "indices": ";".join(map(str, members)),
                     "output_rate_hz": r.sum(), "change_hz": r.sum() - base_out.sum(),
                     "n_outputs_changed": int((np.abs(r - base_out) > 1e-9).sum())})
    table = pd.DataFrame(rows).sort_values("change_hz", key=np.abs, ascending=False).reset_index(drop=True)
    summary = [f"silencing screen ({stimulus_modality} drive, baseline summed output {base_out.sum():.1f} Hz): "
               f"{len(groups)} candidates; strongest:"]
    summary += [f"  {r.candidate:<40} {r.change_hz:+8.1f} Hz ({r.n_outputs_changed} outputs changed)"
                for r in table.head(5).itertuples()]
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    head = table.head(20)
    ax.barh(range(len(head)), head["change_hz"], color=np.where(head["change_hz"] < 0, "#1f77b4", "#d62728"))
    ax.set_yticks(range(len(head)), head["candidate"], fontsize=6)
    ax.invert_yaxis()
    ax.set_xlabel("change of summed DN rate (Hz)")
    ax.set_title(f"silencing screen during {stimulus_modality} drive")
    return ExperimentResult("silencing_screen", tables={"effects": table}, runs={"baseline": base},
                            figures={"bars": fig}, summary="\n".join(summary),
                            metadata={"stimulus": stimulus_modality, "n_candidates": len(groups),
                                      "trials": trials, "seed": seed})
