"""Whole-brain health checks of a model: does every sense reach an output, and without runaway?

:func:`sanity` runs on one :class:`sim.Network`:

* **modalities**: each sensory modality (both sides, the sensory and
  ascending neurons of that modality, as in :func:`experiments.sensory.sensory_map`)
  driven at its physiological rate (``models/data/sensory_rates.csv``) for
  500 ms; per descending left/right pair (DN-VNC, DN-SEZ) the response
  probability (mean over the pair's neurons of the fraction of trials with a
  spike during the stimulus). A modality *reaches an output* when some pair
  responds with probability >= 0.5.
* **cascade agreement**: Spearman's rho between the signal cascade's hit
  probability (Winding et al. 2023: p = 0.05, 8 hops, 1,000 cascades) and the
  spiking response probability, pooled over modality x descending neuron.
* **quiet**: the mean rate with no stimulus.
* **runaway**: every modality driven at once: the mean rate of the neurons
  not driven and the fraction of them above 100 Hz.
* **KC sparseness**: the fraction of Kenyon cells that fire in at least half
  of the trials of one odour (:func:`experiments.odours.random_odour`, 8 of
  21 receptors).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from brian2 import Hz, ms

from sim.stimuli import PoissonDrive

from .sensory import OUTPUTS

__all__ = ["SANITY_SETTINGS", "Sanity", "cascade_hits", "sanity"]

#: Settings of the checks (conventions, not fitted).
SANITY_SETTINGS = {"onset_ms": 200.0, "offset_ms": 700.0, "duration_ms": 800.0, "trials": 10,
                   "p_threshold": 0.5, "hot_hz": 100.0, "n_cascades": 1000, "cascade_seed": 0,
                   "odour_receptors": 8, "odour_seed": 0}


@dataclass
class Sanity:
    """Results of :func:`sanity`."""

    modalities: pd.DataFrame     # modality, rate_hz, best pair, its p, pairs with p >= 0.5
    outputs: pd.DataFrame        # modality x output neuron: p_response, cascade hit probability
    summary: dict

    def text(self) -> str:
        """A few lines for a terminal."""
        s = self.summary
        return "\n".join([
            f"modalities reaching a descending pair (p >= 0.5): {s['modalities_reaching']}/{s['n_modalities']}",
            f"pooled Spearman rho, cascade hit vs spiking response probability: {s['rho']:+.2f}",
            f"no stimulus: mean rate {s['quiet_hz']:.3f} Hz",
            f"every modality at once: mean rate {s['all_mean_hz']:.1f} Hz, {100 * s['all_frac_hot']:.1f} % of "
            f"neurons above {SANITY_SETTINGS['hot_hz']:g} Hz",
            f"KC sparseness (one odour): {100 * s['kc_fraction']:.1f} % of KCs respond"])


def cascade_hits(connectome, modalities) -> dict:
    """Per modality, the cascade hit probability of every neuron (8 hops)."""
    from sim.analysis.cascade import modality_cascades

    casc = modality_cascades(connectome, list(modalities), n=SANITY_SETTINGS["n_cascades"],
                             seed=SANITY_SETTINGS["cascade_seed"])
    return {m: casc[m].hits[:, 1:].sum(axis=1) / casc[m].n for m in modalities}


def _responding(res, idx, window) -> np.ndarray:
    """Fraction of trials in which each neuron of ``idx`` spikes in ``window`` (ms)."""
    a, b = window
    t, nodes, times = res.spike_trials, res.spike_nodes, res.spike_times
    keep = np.isin(nodes, idx) & (times >= a) & (times < b)
    fired = np.zeros((res.n_trials, len(idx)), dtype=bool)
    pos = np.searchsorted(idx, nodes[keep])
    fired[t[keep], pos] = True
    return fired.mean(axis=0)


def _rates(res, idx, window) -> np.ndarray:
    """Mean rate (Hz, over trials) of each neuron of ``idx`` in ``window``."""
    a, b = window
    nodes, times = res.spike_nodes, res.spike_times
    keep = np.isin(nodes, idx) & (times >= a) & (times < b)
    counts = np.bincount(np.searchsorted(idx, nodes[keep]), minlength=len(idx))
    return counts / (res.n_trials * (b - a) / 1000.0)


def sanity(network, *, seed: int = 0, trials: int | None = None, cascades: dict | None = None) -> Sanity:
    """Run the health checks of the module docstring on ``network``.

    Parameters
    ----------
    network : sim.Network
    seed : int
        Input-noise seed.
    trials : int, optional
        Default ``SANITY_SETTINGS["trials"]`` (10).
    cascades : dict, optional
        :func:`cascade_hits` of the connectome, to reuse across models.

    Returns
    -------
    Sanity
    """
    from scipy.stats import spearmanr

    from .biology import sensory_rates
    from .odours import random_odour, receptors

    c = network.connectome
    st = SANITY_SETTINGS
    trials = int(trials or st["trials"])
    onset, offset, duration = st["onset_ms"] * ms, st["offset_ms"] * ms, st["duration_ms"] * ms
    window = (st["onset_ms"], st["offset_ms"])
    rates = sensory_rates()
    mods = [m for m in c.modalities if m != "unknown" and m in rates]
    out_idx = c.select(celltype=list(OUTPUTS)).indices
    n = c.neurons
    pair = n["pair_index"].to_numpy()[out_idx]
    cascades = cascades if cascades is not None else cascade_hits(c, mods)
    mod_rows, out_rows, driven_all = [], [], []
    run = network.run
    for m in mods:
        sel = c.select(modality=m)
        driven_all.append(sel.indices)
        res = run([PoissonDrive(sel, rates[m], start=onset, stop=offset, name=m)], duration=duration,
                  trials=trials, seed=seed, progress=False)
        p = _responding(res, out_idx, window)
        # a left/right pair responds with the mean probability of its members; unpaired neurons alone
        key = np.where(pair >= 0, pair, -1 - np.arange(len(out_idx)))
        pp = pd.Series(p).groupby(key).mean()
        best = pp.idxmax()
        members = out_idx[key == best]
        mod_rows.append({"modality": m, "rate_hz": float(rates[m] / Hz), "n_driven": len(sel.indices),
                         "pairs_responding": int((pp >= st["p_threshold"]).sum()),
                         "best_pair": " / ".join(map(str, n["label"].to_numpy()[members])),
                         "best_pair_p": float(pp.max())})
        out_rows.append(pd.DataFrame({"modality": m, "node_id": out_idx, "celltype": n["celltype"].to_numpy()[out_idx],
                                      "label": n["label"].to_numpy()[out_idx], "p_response": p,
                                      "cascade_hit_probability": cascades[m][out_idx]}))
    modalities = pd.DataFrame(mod_rows)
    outputs = pd.concat(out_rows, ignore_index=True)
    x, y = outputs["cascade_hit_probability"].to_numpy(), outputs["p_response"].to_numpy()
    rho = spearmanr(x, y).statistic if np.ptp(x) > 0 and np.ptp(y) > 0 else float("nan")  # constant: undefined
    # quiet and all-at-once
    everyone = np.arange(c.n_neurons)
    quiet = run([], duration=duration, trials=2, seed=seed, progress=False)
    quiet_hz = float(_rates(quiet, everyone, (0.0, st["duration_ms"])).mean())
    stims = [PoissonDrive(c.select(modality=m), rates[m], start=onset, stop=offset, name=m) for m in mods]
    both = run(stims, duration=duration, trials=trials, seed=seed, progress=False)
    rest = np.setdiff1d(everyone, np.concatenate(driven_all))
    r_all = _rates(both, rest, window)
    # KC sparseness to one odour
    odour = random_odour(c, min(st["odour_receptors"], len(receptors(c))), seed=st["odour_seed"])
    kcs = c.select(celltype="KC").indices
    res_o = run(odour.drives(c, onset, offset), duration=duration, trials=trials, seed=seed, progress=False)
    kc_p = _responding(res_o, kcs, window)
    summary = {"n_modalities": len(mods),
               "modalities_reaching": int((modalities["best_pair_p"] >= st["p_threshold"]).sum()),
               "rho": float(rho) if np.isfinite(rho) else 0.0, "quiet_hz": quiet_hz,
               "all_mean_hz": float(r_all.mean()), "all_frac_hot": float((r_all > st["hot_hz"]).mean()),
               "kc_fraction": float((kc_p >= st["p_threshold"]).mean()), "trials": trials, "seed": int(seed)}
    return Sanity(modalities, outputs, summary)
