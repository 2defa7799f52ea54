"""Small synthetic connectomes in the file formats of Data S1.

For unit tests, teaching and debugging: :func:`write_winding_format` writes a
toy larva brain (a few neurons per cell type, wired sensory -> PN -> KC ->
MBON -> DN with local neurons, DANs and an APL) as the same CSV files as
Data S1, optionally zipped, with the five matrices in different row/column
orders like the real release. It returns the ground truth so that tests can
check what :func:`connectomes.load` reads back.
"""
from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .winding2023 import MATRIX_FILES, SYNAPSE_TYPES

__all__ = ["SyntheticTruth", "write_winding_format", "TOY_LAYOUT"]

#: (celltype, additional_annotations, number of left/right pairs, number unpaired)
TOY_LAYOUT = (
    ("sensory", "olfactory", 3, 0),
    ("sensory", "gustatory-external", 2, 1),
    ("ascending", "A00c_a1; noci", 1, 0),
    ("PN", "1a PN; uPN; olfactory 2nd_order PN", 3, 0),
    ("LN", "_broad D1", 1, 0),
    ("LN", "APL", 1, 0),
    ("KC", "KC", 4, 1),
    ("MBIN", "DAN-i1", 1, 0),
    ("MBIN", "DAN-d1", 1, 0),
    ("MBON", "MBON-i1", 1, 0),
    ("MBON", "MBON-d1", 1, 0),
    ("pre-DN-VNC", "no official annotation", 2, 0),
    ("DN-VNC", "no official annotation", 2, 0),
    ("DN-SEZ", "no official annotation", 1, 0),
    ("RGN", "no official annotation", 1, 0),
)

#: Which cell types project to which (feed-forward wiring of the toy brain).
_WIRING = {
    "sensory": ("PN", "LN"),
    "ascending": ("pre-DN-VNC",),
    "PN": ("KC", "LN", "pre-DN-VNC"),
    "LN": ("PN", "KC"),
    "KC": ("MBON", "KC", "LN"),
    "MBIN": ("KC", "MBON"),
    "MBON": ("pre-DN-VNC", "DN-SEZ", "MBIN"),
    "pre-DN-VNC": ("DN-VNC", "DN-SEZ"),
    "DN-VNC": ("RGN",),
    "DN-SEZ": ("RGN",),
}


@dataclass
class SyntheticTruth:
    """What :func:`write_winding_format` wrote.

    Attributes
    ----------
    path : Path
        The zip file or folder to pass to :func:`connectomes.load` as ``data_dir``.
    ids : ndarray of int64
        Skeleton ids in the row order of the all-all matrix (larvasim's order).
    synapses : dict of str -> ndarray
        Dense counts per type (``ad``, ``aa``, ``dd``, ``da``, ``all``) in ``ids`` order.
    neurons : DataFrame
        skid, celltype, hemisphere, annotations of every matrix neuron.
    absent : list of int
        Annotated skeleton ids left out of the matrices.
    unannotated : list of int
        Matrix neurons without an annotation row.
    """

    path: Path
    ids: np.ndarray
    synapses: dict
    neurons: pd.DataFrame
    absent: list
    unannotated: list


def _matrix_csv(path: Path, ids: np.ndarray, dense: np.ndarray, rng) -> None:
    rows = rng.permutation(len(ids))
    cols = rng.permutation(len(ids))
    df = pd.DataFrame(dense[np.ix_(rows, cols)].astype(float), index=ids[rows], columns=ids[cols])
    df.to_csv(path)


def write_winding_format(path, *, seed: int = 0, zipped: bool = False, n_unannotated: int = 3,
                         n_absent: int = 1, density: float = 0.6,
                         layout=TOY_LAYOUT) -> SyntheticTruth:
    """Write a toy connectome in the Data S1 formats.

    Parameters
    ----------
    path : path-like
        Folder to create the files in (created if needed). With ``zipped``,
        ``Supplementary-Data-S1.zip`` is written inside it.
    seed : int
        Seed of all random choices (ids, counts, file orders).
    zipped : bool
        Write a zip laid out like the published one (with a ``__MACOSX`` entry).
    n_unannotated : int
        Matrix neurons without an annotation row.
    n_absent : int
        Annotated sensory neurons that are left out of the matrices.
    density : float
        Probability of a connection between cell types that are wired.
    layout : sequence
        ``(celltype, annotation, pairs, unpaired)`` tuples.

    Returns
    -------
    SyntheticTruth

    (Over 80 lines: it writes every file of the Data S1 layout for a toy connectome, one after the
    other.)
    """
    rng = np.random.default_rng(seed)
    path = Path(path)
    folder = path / "Supplementary-Data-S1"
    folder.mkdir(parents=True, exist_ok=True)

    n_annot = sum(2 * p + u for _, _, p, u in layout)
    n_total = n_annot + n_unannotated + n_absent
    all_ids = rng.choice(np.arange(10_000, 30_000_000), size=n_total, replace=False).astype(np.int64)
    pos = 0
    ann_rows, neurons = [], []
    for celltype, annotation, pairs, unpaired in layout:
        for _ in range(pairs):
            left, right = all_ids[pos], all_ids[pos + 1]
            pos += 2
            ann_rows.append((str(left), str(right), celltype, annotation))
            neurons += [(left, celltype, "left", annotation), (right, celltype, "right", annotation)]
        for k in range(unpaired):
            sid = all_ids[pos]
            pos += 1
            side = "left" if k % 2 == 0 else "right"
            ann_rows.append((str(sid), "no pair", celltype, annotation) if side == "left"
                            else ("no pair", str(sid), celltype, annotation))
            neurons.append((sid, celltype, side, annotation))
    absent = []
    for _ in range(n_absent):
        sid = all_ids[pos]
        pos += 1
        ann_rows.append(("no pair", str(sid), "sensory", "gustatory-pharyngeal"))
        absent.append(int(sid))
    unannotated = [int(s) for s in all_ids[pos:pos + n_unannotated]]
    neurons += [(s, "unannotated", "unknown", "") for s in unannotated]
    table = pd.DataFrame(neurons, columns=["skid", "celltype", "hemisphere", "annotations"])
    ids = table["skid"].to_numpy(dtype=np.int64)
    n = len(ids)

    # wiring: counts between wired cell types, split over the four synapse types
    ct = table["celltype"].to_numpy()
    dense = {t: np.zeros((n, n), dtype=np.int64) for t in SYNAPSE_TYPES}
    share = {"ad": 0.66, "aa": 0.26, "dd": 0.06, "da": 0.02}
    for i in range(n):
        for j in range(n):
            if i == j:
                continue
            wired = ct[j] in _WIRING.get(ct[i], ()) or (ct[i] == "unannotated" or ct[j] == "unannotated")
            if not wired or rng.random() > density:
                continue
            total = int(rng.integers(1, 12))
            split = rng.multinomial(total, list(share.values()))
            for t, k in zip(SYNAPSE_TYPES, split):
                dense[t][i, j] = k
    dense["all"] = sum(dense[t] for t in SYNAPSE_TYPES)
    for t, fname in MATRIX_FILES.items():
        _matrix_csv(folder / fname, ids, dense[t], rng)

    clusters = rng.integers(0, 90, size=len(ann_rows))
    ann = pd.DataFrame(ann_rows, columns=["left_id", "right_id", "celltype", "additional_annotations"])
    ann["level_7_cluster"] = clusters
    ann.to_csv(folder / "annotations.csv", index=False)

    listed = np.concatenate([ids, np.asarray(absent, dtype=np.int64)])
    syn_in = dense["all"].sum(axis=0)
    syn_out = dense["all"].sum(axis=1)
    extra = np.zeros(len(absent))
    pd.DataFrame({"axon_input": np.r_[np.round(syn_in * 0.3), extra],
                  "dendrite_input": np.r_[syn_in - np.round(syn_in * 0.3), extra]},
                 index=listed).to_csv(folder / "inputs.csv")
    pd.DataFrame({"axon_output": np.r_[np.round(syn_out * 0.8), extra],
                  "dendrite_output": np.r_[syn_out - np.round(syn_out * 0.8), extra]},
                 index=listed).to_csv(folder / "outputs.csv")

    # the five matrices list ids in their own orders; larvasim's order is all-all's rows
    order = pd.read_csv(folder / MATRIX_FILES["all"], index_col=0, usecols=[0]).index.to_numpy()
    perm = pd.Index(ids).get_indexer(order)
    truth_syn = {t: m[np.ix_(perm, perm)] for t, m in dense.items()}
    table = table.iloc[perm].reset_index(drop=True)

    target = folder
    if zipped:
        target = path / "Supplementary-Data-S1.zip"
        with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as z:
            z.writestr("Supplementary-Data-S1/", "")
            for f in sorted(folder.iterdir()):
                z.write(f, f"Supplementary-Data-S1/{f.name}")
                z.writestr(f"__MACOSX/Supplementary-Data-S1/._{f.name}", b"\x00\x05\x16\x07junk")
        for f in folder.iterdir():
            f.unlink()
        folder.rmdir()
    return SyntheticTruth(path=target, ids=order.astype(np.int64), synapses=truth_syn,
                          neurons=table, absent=absent, unannotated=unannotated)
