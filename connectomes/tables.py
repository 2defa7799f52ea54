"""Build larvasim's neuron table from the validated raw data.

One row per neuron of the connectivity matrices, in matrix order. Columns:

==================  ==========================================================
``skid``            CATMAID skeleton id (int64)
``celltype``        cell type from ``annotations.csv`` (``"unannotated"`` when
                    the neuron has no annotation row)
``hemisphere``      ``"left"``/``"right"`` (annotation column; the Pedigo table
                    fills neurons without a row), else ``"unknown"``
``pair_skid``       skeleton id of the left/right homolog, -1 if none
``pair_index``      index of the homolog in this table, -1 if none/absent
``modality``        sensory modality of sensory and ascending neurons
                    (``;``-joined if several; ``""`` otherwise)
``second_order``    modalities of which the neuron is a 2nd-order PN
``mb_name``         mushroom-body name such as ``DAN-i1``, ``MBON-h1; MBON-h2``,
                    ``APL``
``label``           short display name (first identity token of the annotation,
                    else the CATMAID name, else ``"<celltype> <skid>"``)
``annotations``     the raw ``additional_annotations`` text
``cluster``         ``level_7_cluster`` (-1 if unannotated)
``axon_input`` ...  axon/dendrite input/output site counts (NaN if not listed)
==================  ==========================================================

With the Pedigo et al. 2023 node table present: ``name``, ``lineage``,
``class1``, ``class2``, ``simple_group``, ``pedigo_hemisphere`` and the flag
columns listed in :data:`connectomes.pedigo2023.FLAG_COLUMNS`.
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

__all__ = ["MODALITIES", "UNANNOTATED", "build_neuron_table", "split_tokens"]

#: The 12 sensory modalities of Winding et al. 2023 (as spelled in Data S1).
MODALITIES = (
    "olfactory", "gustatory-external", "gustatory-pharyngeal", "gut", "visual",
    "respiratory", "thermo-cold", "thermo-warm", "noci", "mechano-Ch", "proprio",
    "mechano-II/III",
)
UNANNOTATED = "unannotated"
_UNKNOWN_MODALITY = "unknown modality"
_SECOND = " 2nd_order PN"
_NO_NAME = {"no official annotation", _UNKNOWN_MODALITY, ""}
_MB_NAME = re.compile(r"^(DAN|OAN|MBIN|MBON)-[A-Za-z]\d+$|^APL$")


def split_tokens(text: str) -> list[str]:
    """Split an ``additional_annotations`` entry into its ``;``-separated tokens."""
    return [t.strip() for t in str(text).split(";") if t.strip()]


def _parse_annotation(text: str):
    toks = split_tokens(text)
    modality = [t for t in toks if t in MODALITIES]
    if _UNKNOWN_MODALITY in toks:
        modality.append("unknown")
    second = [t[: -len(_SECOND)] for t in toks if t.endswith(_SECOND)]
    mb = [t for t in toks if _MB_NAME.match(t)]
    names = [t for t in toks if t not in _NO_NAME and t not in MODALITIES and not t.endswith(_SECOND)]
    return (";".join(dict.fromkeys(modality)), ";".join(dict.fromkeys(second)),
            "; ".join(dict.fromkeys(mb)), names[0].lstrip("_") if names else "")


def build_neuron_table(ids: np.ndarray, annotations: pd.DataFrame, io_counts: pd.DataFrame,
                       nodes: pd.DataFrame | None = None):
    """Return ``(neurons, absent)``.

    Parameters
    ----------
    ids : ndarray of int64
        Skeleton ids in matrix order.
    annotations : DataFrame
        ``annotations.csv`` as read by :mod:`connectomes.winding2023`.
    io_counts : DataFrame
        Per-neuron input/output site counts, indexed by skeleton id.
    nodes : DataFrame, optional
        Pedigo et al. 2023 node table (:func:`connectomes.pedigo2023.read_nodes`).

    Returns
    -------
    neurons : DataFrame
        The neuron table (see module docstring).
    absent : DataFrame
        Annotated neurons that are not in the matrices.
    """
    rows = []
    for r in annotations.itertuples(index=False):
        modality, second, mb, label = _parse_annotation(r.additional_annotations)
        cluster = int(r.level_7_cluster) if r.level_7_cluster.lstrip("-").isdigit() else -1
        for side, me, other in (("left", r.left_id, r.right_id), ("right", r.right_id, r.left_id)):
            if me == "no pair":
                continue
            rows.append((int(me), r.celltype, side, int(other) if other != "no pair" else -1,
                         modality, second, mb, label, r.additional_annotations, cluster))
    cols = ["skid", "celltype", "hemisphere", "pair_skid", "modality", "second_order",
            "mb_name", "label", "annotations", "cluster"]
    ann = pd.DataFrame(rows, columns=cols).set_index("skid")

    n = len(ids)
    t = pd.DataFrame({"skid": ids})
    t = t.join(ann, on="skid")
    t["celltype"] = t["celltype"].fillna(UNANNOTATED)
    t["hemisphere"] = t["hemisphere"].fillna("unknown")
    for c in ("modality", "second_order", "mb_name", "label", "annotations"):
        t[c] = t[c].fillna("").astype(str)
    t["pair_skid"] = t["pair_skid"].fillna(-1).astype(np.int64)
    t["cluster"] = t["cluster"].fillna(-1).astype(np.int64)
    pos = pd.Index(ids).get_indexer(t["pair_skid"].to_numpy())
    t["pair_index"] = np.where(t["pair_skid"].to_numpy() >= 0, pos, -1).astype(np.int64)
    t = t.join(io_counts, on="skid")

    if nodes is not None:
        t = t.join(nodes, on="skid")
        for c in nodes.columns:
            if nodes[c].dtype == bool:
                t[c] = t[c].fillna(False).astype(bool)
            else:
                t[c] = t[c].fillna("").astype(str)
        if "pedigo_hemisphere" in t:
            ped = t["pedigo_hemisphere"].map({"L": "left", "R": "right"})
            fill = (t["hemisphere"] == "unknown") & ped.notna()
            t.loc[fill, "hemisphere"] = ped[fill]
        if "name" in t:
            nolabel = (t["label"] == "") & (t["name"] != "")
            t.loc[nolabel, "label"] = t.loc[nolabel, "name"]
    nolabel = t["label"] == ""
    t.loc[nolabel, "label"] = t.loc[nolabel, "celltype"] + " " + t.loc[nolabel, "skid"].astype(str)
    t.index = pd.RangeIndex(n, name="index")

    absent = ann.loc[~ann.index.isin(ids), ["celltype", "hemisphere", "modality", "annotations"]]
    absent = absent.reset_index()
    return t, absent
