"""Pathways: the chains of strong connections that lead from one group of neurons to another.

A researcher who sees a neuron respond in a run (or in a real larva) asks next *through which
neurons* the signal came. :func:`pathways` lists every chain ``source -> ... -> target`` of at most
``hops`` connections in the connectome whose every link is strong, ranked by strength, and
:func:`pathway_summary` adds them up by the cell types (or names) along the way, for example
``sensory -> PN -> LHN -> MBON`` against ``sensory -> PN -> KC -> MBON``.

Measures (larvasim's own, defined here; a graph measure, not a simulation):

* A link ``i -> j`` has the **input fraction** ``W[i, j] / sum_k W[k, j]``: the share of ``j``'s
  input synapses (of the chosen synapse types, from neurons in the connectome) that come from ``i``.
  A link is strong when its input fraction is at least ``threshold`` (default 1 %).
* A path's **strength** is the product of its links' input fractions: the share of the target's
  input that the chain would carry if each neuron passed on its input in proportion. It ranks
  paths; it is not a rate or a probability of the spiking model.
* A path's **sign**, when the neurons' signs are given (e.g. the default model's literature signs,
  :func:`models.signs.assign_signs`), is the product of the signs of its presynaptic neurons:
  ``-1`` for a chain with an odd number of inhibitory links (``KC -> inhibitory MBON -> MBON-m1``:
  the KCs inhibit MBON-m1 through it), ``0`` when a link's neuron is modulatory (no fast sign).
* A path is **simple** and **minimal**: it visits no neuron twice, starts at the last source neuron
  and ends at the first target neuron on its way (no source or target neuron in between).

Enumeration is exact: every path that meets the threshold within ``hops`` is found (a backward
search first marks the neurons that can still reach a target in the hops left, so the search does
not wander). When more than ``limit`` paths qualify it stops with an error that says to raise the
threshold or lower the hops, rather than return a partial list.

>>> import connectomes                                                   # doctest: +SKIP
>>> from sim.analysis.pathways import pathways, pathway_summary          # doctest: +SKIP
>>> c = connectomes.load("winding2023")                                  # doctest: +SKIP
>>> p = pathways(c, {"modality": "olfactory"}, "MBON-m1", hops=3)        # doctest: +SKIP
>>> pathway_summary(p).head()                                            # doctest: +SKIP
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ._selection import neuron_indices

__all__ = ["input_fractions", "pathways", "pathway_summary", "LIMIT", "COLUMNS", "SUMMARY_COLUMNS"]

#: The most paths :func:`pathways` lists before it asks for a higher threshold or fewer hops.
LIMIT = 200_000
#: Columns of :func:`pathways`'s table.
COLUMNS = ("hops", "strength", "weakest", "sign", "neurons", "celltypes", "synapses", "path")
#: Columns of :func:`pathway_summary`'s table.
SUMMARY_COLUMNS = ("chain", "paths", "strength", "share", "excitatory", "inhibitory", "strongest")


def input_fractions(connectome, synapse_types=("ad",)) -> sp.csr_matrix:
    """Input fraction of every connection: ``F[i, j] = W[i, j] / sum_k W[k, j]``.

    Parameters
    ----------
    connectome : connectomes.Connectome
    synapse_types : str or sequence of str
        The synapse types counted (``"ad"``, the default, as the larval model and the signal
        cascades; ``"all"`` for all four).

    Returns
    -------
    scipy.sparse.csr_matrix, shape (N, N)
        Rows presynaptic, columns postsynaptic; every column with input sums to 1.
    """
    return _strong_links(connectome, synapse_types, 0.0)[0]


def _strong_links(connectome, synapse_types, threshold: float):
    """The links of at least ``threshold`` input fraction (0: every link): their fractions as a CSR matrix, and
    their synapse counts in the same order as its ``data``."""
    W = connectome.weights(synapse_types).tocsr()
    W.sum_duplicates()
    W.sort_indices()
    total = np.asarray(W.sum(axis=0), dtype=np.float64).ravel()
    frac = W.data / total[W.indices]
    keep = frac >= threshold
    rows = np.repeat(np.arange(W.shape[0]), np.diff(W.indptr))[keep]
    indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=W.shape[0]))])
    F = sp.csr_matrix((frac[keep], W.indices[keep], indptr), shape=W.shape)
    return F, np.asarray(W.data[keep], dtype=np.int64)


def _labels(connectome) -> np.ndarray:
    """A label per neuron for paths: its label (its name where the label is only its cell type, as for the
    Kenyon cells, or empty), with its side (L, R) unless the label says it."""
    n = connectome.neurons
    k = len(n)

    def col(name):
        return n[name].fillna("").astype(str).to_numpy() if name in n.columns else np.array([""] * k, dtype=object)

    label, name, cell = col("label"), col("name"), col("celltype")
    ids = col("skid") if "skid" in n.columns else np.arange(k).astype(str)
    side = np.array([h[:1].upper() for h in col("hemisphere")], dtype=object)
    out = []
    for lab, nm, ct, sd, i in zip(label, name, cell, side, ids):
        base = lab if lab and lab != ct else (nm or lab or str(i))
        said = any(w in base.lower().split() for w in ("left", "right")) or base.endswith(("_left", "_right"))
        out.append(f"{base} {sd}" if sd in ("L", "R") and not said else base)
    return np.asarray(out, dtype=object)


def _distance_to(F_csc, targets: np.ndarray, hops: int, n: int) -> np.ndarray:
    """Fewest strong links from each neuron to a target (``hops + 1`` where more than ``hops``)."""
    dist = np.full(n, hops + 1, dtype=np.int64)
    dist[targets] = 0
    front = targets
    for d in range(1, hops + 1):
        # presynaptic partners of the front: rows of the front's columns
        pre = np.unique(F_csc[:, front].indices) if front.size else np.empty(0, dtype=np.int64)
        pre = pre[dist[pre] > d]
        dist[pre] = d
        front = pre
    return dist


def pathways(connectome, source, target, *, hops: int = 3, threshold: float = 0.01, synapse_types=("ad",),
             min_strength: float = 0.0, signs=None, through=None, avoid=None, limit: int = LIMIT) -> pd.DataFrame:
    """Every chain of strong connections from ``source`` to ``target`` within ``hops`` links.

    Parameters
    ----------
    connectome : connectomes.Connectome
    source, target : Selection, array of int, str or dict
        Where the paths start and end: a neuron name with shell wildcards (``"MBON-m1"``),
        ``connectome.select`` keywords (``{"modality": "olfactory"}``), a Selection or indices.
    hops : int
        Most links in a path (1 to 6).
    threshold : float
        Least input fraction of every link (0 < threshold <= 1; module docstring).
    synapse_types : str or sequence of str
        Synapse types counted (default ``"ad"``).
    min_strength : float
        Least strength of a listed path (default 0: every path). A path's strength only falls as it
        grows, so a chain below it is not followed further: for long paths from large groups.
    through : Selection, array of int, str or dict, optional
        Keep only the paths with at least one of these neurons between source and target (e.g.
        ``{"celltype": "MBON"}``: how does the mushroom body's output reach the descending neurons?).
    avoid : Selection, array of int, str or dict, optional
        Paths may not pass, start or end at these neurons (a lesion of the graph: which routes are
        left without the antennal-lobe LNs?).
    signs : array of float, optional
        Sign of each neuron (+1, -1, 0): adds each path's sign (product of its presynaptic neurons'
        signs). Without it the sign column is NaN.
    limit : int
        Most paths listed; more raise an error (raise ``threshold`` or lower ``hops``).

    Returns
    -------
    pandas.DataFrame
        One row per path, strongest first: ``hops``, ``strength`` (product of the input fractions),
        ``weakest`` (its smallest input fraction), ``sign``, ``neurons`` (labels with side, joined by
        ``" > "``), ``celltypes`` (the cell types along it), ``synapses`` (per link, tuple),
        ``path`` (neuron indices, tuple). ``attrs`` records the arguments and the numbers of source
        and target neurons.
    """
    n = connectome.n_neurons
    if isinstance(hops, bool) or not isinstance(hops, (int, np.integer)) or not 1 <= hops <= 6:
        raise ValueError(f"pathways: hops must be a whole number from 1 to 6, got {hops!r}")
    if not isinstance(threshold, (int, float, np.floating)) or not 0 < float(threshold) <= 1:
        raise ValueError(f"pathways: threshold must be an input fraction in (0, 1], got {threshold!r}")
    if not isinstance(min_strength, (int, float, np.floating)) or not 0 <= float(min_strength) <= 1:
        raise ValueError(f"pathways: min_strength must lie in [0, 1], got {min_strength!r}")
    src = neuron_indices(connectome, source, who="pathways", role="source")
    tgt = neuron_indices(connectome, target, who="pathways", role="target")
    if signs is not None:
        signs = np.asarray(signs, dtype=float)
        if signs.shape != (n,):
            raise ValueError(f"pathways: signs must have one entry per neuron ({n}), got shape {signs.shape}")
    F, counts = _strong_links(connectome, synapse_types, threshold)
    dist = _distance_to(F.tocsc(), tgt, hops, n)
    is_src = np.zeros(n, dtype=bool)
    is_src[src] = True
    is_tgt = np.zeros(n, dtype=bool)
    is_tgt[tgt] = True
    via = np.zeros(n, dtype=bool)
    if through is not None:
        via[neuron_indices(connectome, through, who="pathways", role="through selection")] = True
    blocked = np.zeros(n, dtype=bool)
    if avoid is not None:
        blocked[neuron_indices(connectome, avoid, who="pathways", role="avoid selection")] = True
    indptr, indices, data = F.indptr, F.indices, F.data

    found = []
    visited = blocked.copy()  # avoided neurons are never entered

    def walk(path, fracs, strength):
        here = path[-1]
        left = hops - (len(path) - 1)
        for k in range(indptr[here], indptr[here + 1]):
            nxt = int(indices[k])
            if visited[nxt] or is_src[nxt] or dist[nxt] > left - 1 or strength * data[k] < min_strength:
                continue
            if is_tgt[nxt]:
                if through is not None and not via[path[1:]].any():
                    continue
                found.append((path + [nxt], fracs + [k]))
                if len(found) > limit:
                    raise ValueError(f"pathways: more than {limit} paths meet threshold {threshold:g} within {hops} "
                                     "hops: raise the threshold or lower the hops")
                continue
            if left - 1 >= 1:
                visited[nxt] = True
                walk(path + [nxt], fracs + [k], strength * data[k])
                visited[nxt] = False

    for s in src:
        if is_tgt[s] or dist[s] > hops or blocked[s]:
            continue
        visited[s] = True
        walk([int(s)], [], 1.0)
        visited[s] = False

    labels = _labels(connectome)
    cells = connectome.neurons["celltype"].astype(str).to_numpy()
    rows = []
    for path, links in found:  # links: positions of the path's links in the strong-link table
        p = np.asarray(path)
        f = data[links]
        sign = float(np.prod(signs[p[:-1]])) if signs is not None else np.nan
        rows.append({"hops": len(p) - 1, "strength": float(np.prod(f)), "weakest": float(f.min()),
                     "sign": sign, "neurons": " > ".join(labels[p]), "celltypes": " > ".join(cells[p]),
                     "synapses": tuple(int(x) for x in counts[links]), "path": tuple(int(x) for x in p)})
    out = pd.DataFrame(rows, columns=list(COLUMNS))
    out = out.sort_values(["strength", "hops"], ascending=[False, True], kind="stable").reset_index(drop=True)
    types = (synapse_types,) if isinstance(synapse_types, str) else tuple(synapse_types)
    out.attrs.update({"hops": int(hops), "threshold": float(threshold), "min_strength": float(min_strength),
                      "synapse_types": types,
                      "sources": int(src.size), "targets": int(tgt.size), "signed": signs is not None,
                      "through": int(via.sum()) if through is not None else None,
                      "avoided": int(blocked.sum()) if avoid is not None else None})
    return out


def pathway_summary(paths: pd.DataFrame, *, by: str = "celltypes", connectome=None) -> pd.DataFrame:
    """The paths of :func:`pathways` added up by the chain of groups they pass.

    Parameters
    ----------
    paths : pandas.DataFrame
        A table of :func:`pathways`.
    by : str
        ``"celltypes"`` (the default: ``sensory > PN > LHN > MBON``) or ``"neurons"`` for the named
        neurons without sides (``42a > 42a PN > ... > MBON-m1``; both sides together); or any column
        of the neuron table when ``connectome`` is given.
    connectome : connectomes.Connectome, optional
        Needed for ``by`` other than the two above.

    Returns
    -------
    pandas.DataFrame
        One row per chain, strongest first: ``chain``, ``paths`` (how many), ``strength`` (their
        summed strength), ``share`` (of all paths' strength), ``excitatory`` and ``inhibitory``
        (summed strength of the paths of sign +1 and -1; NaN without signs) and ``strongest`` (its
        strongest path's neurons).
    """
    if paths.empty:
        return pd.DataFrame(columns=list(SUMMARY_COLUMNS))
    if by == "celltypes":
        chain = paths["celltypes"]
    elif by == "neurons":
        chain = paths["neurons"].str.replace(r" [LR](?= > |$)", "", regex=True)
    else:
        if connectome is None or by not in connectome.neurons.columns:
            raise ValueError(f"pathway_summary: by={by!r} needs a connectome whose neuron table has that column "
                             "(or use 'celltypes' or 'neurons')")
        col = connectome.neurons[by].fillna("").astype(str).to_numpy()
        chain = paths["path"].map(lambda p: " > ".join(col[list(p)]))
    d = paths.assign(chain=chain.to_numpy())
    total = float(d["strength"].sum())
    signed = bool(paths.attrs.get("signed", paths["sign"].notna().any()))
    rows = []
    for key, g in d.groupby("chain", sort=False):
        s = float(g["strength"].sum())
        rows.append({"chain": key, "paths": len(g), "strength": s, "share": s / total if total > 0 else 0.0,
                     "excitatory": float(g.loc[g["sign"] > 0, "strength"].sum()) if signed else np.nan,
                     "inhibitory": float(g.loc[g["sign"] < 0, "strength"].sum()) if signed else np.nan,
                     "strongest": g["neurons"].iloc[0]})
    out = pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))
    return out.sort_values("strength", ascending=False, kind="stable").reset_index(drop=True)
