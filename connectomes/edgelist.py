"""Connectomes from an edge list and a node table (CSV, or Parquet with pyarrow installed).

For a newer export of the larva connectome, another animal's connectome, or a
hand-made circuit: any data that can be written as

``edges`` (one row per connection)
    ``pre``, ``post`` (node ids), ``count`` (synapses, integer > 0), and
    optionally ``type``: ``ad``, ``aa``, ``dd`` or ``da`` (Winding et al.'s
    axon/dendrite types). Without a ``type`` column every edge gets
    ``default_type`` (``"ad"``, the synapse type larvasim's larval model
    runs on). Rows repeating a (pre, post, type) are summed.
``nodes`` (one row per neuron)
    ``id`` (int, unique) and optionally ``celltype``, ``hemisphere``,
    ``modality`` (``;``-separated), ``name``, ``label``, ``pair_id`` (the id
    of the left/right homolog), ``mb_name``, ``second_order``; other columns
    are kept. Missing columns get larvasim's defaults (``"unannotated"``,
    ``"unknown"``, ``""``).

:func:`load_edge_list` verifies both files (every error names the file, row
and column), optionally against expected SHA-256 checksums, records them in
the provenance, and compiles the result into larvasim's HDF5 cache like
:func:`connectomes.load` (a changed file gets a new cache key). Selections,
networks and experiments then work as on Data S1 (cell-type roles such as
``DN-VNC`` or ``KC`` are read from ``celltype``).

>>> import connectomes                                               # doctest: +SKIP
>>> c = connectomes.load_edge_list("edges.csv", "nodes.csv", name="my_export")  # doctest: +SKIP
>>> connectomes.write_edge_list(connectomes.load("winding2023"), "out/")       # doctest: +SKIP
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from . import store
from .errors import ChecksumError, ConnectomeDataError
from .paths import compiled_dir
from .winding2023 import SYNAPSE_TYPES

__all__ = ["EDGE_COLUMNS", "NAME", "NODE_DEFAULTS", "from_tables", "load_edge_list", "load_folder", "write_edge_list"]

#: Data set name under which :func:`connectomes.load` reads a folder of ``edges`` and ``nodes`` files.
NAME = "edgelist"

#: Required columns of the edge table (``type`` is optional).
EDGE_COLUMNS = ("pre", "post", "count")
#: Columns of the node table larvasim fills when they are missing.
NODE_DEFAULTS = {"celltype": "unannotated", "hemisphere": "unknown", "modality": "", "second_order": "",
                 "mb_name": "", "annotations": ""}


def _read_table(path: Path) -> pd.DataFrame:
    if path.suffix.lower() in (".parquet", ".pq"):
        try:
            return pd.read_parquet(path)
        except ImportError as exc:  # pyarrow / fastparquet not installed
            raise ConnectomeDataError(f"{path}: reading Parquet needs pyarrow ({exc}); "
                                      "pip install pyarrow, or write the table as CSV") from None
    try:
        return pd.read_csv(path, keep_default_na=False, na_values=[""])
    except (OSError, ValueError) as exc:
        raise ConnectomeDataError(f"{path}: cannot read as CSV: {exc}") from None


def _int_column(df: pd.DataFrame, col: str, where: str) -> np.ndarray:
    values = pd.to_numeric(df[col], errors="coerce")
    bad = values.isna() | (values != values.round())
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise ConnectomeDataError(f"{where}: row {row + 2}, column {col!r}: {df[col].iloc[row]!r} is not an integer")
    return values.to_numpy(dtype=np.int64)


def from_tables(edges: pd.DataFrame, nodes: pd.DataFrame, *, name: str = "edgelist", default_type: str = "ad",
                where_edges: str = "edges", where_nodes: str = "nodes", provenance: dict | None = None):
    """Build a :class:`connectomes.Connectome` from an edge table and a node table (see the module doc).

    Raises
    ------
    ConnectomeDataError
        A missing column, a non-integer id or count, a count <= 0, a duplicate
        node id, an edge naming an unknown node, or an unknown synapse type;
        the message names the table, the row (as in the file, header = row 1)
        and the column.
    """
    from .connectome import Connectome

    if default_type not in SYNAPSE_TYPES:
        raise ValueError(f"default_type must be one of {SYNAPSE_TYPES}, got {default_type!r}")
    for table, cols, where in ((edges, EDGE_COLUMNS, where_edges), (nodes, ("id",), where_nodes)):
        missing = [c for c in cols if c not in table.columns]
        if missing:
            raise ConnectomeDataError(f"{where}: missing column(s) {', '.join(missing)} "
                                      f"(has: {', '.join(map(str, table.columns))})")
    ids = _int_column(nodes, "id", where_nodes)
    dup = pd.Index(ids).duplicated()
    if dup.any():
        row = int(np.flatnonzero(dup)[0])
        raise ConnectomeDataError(f"{where_nodes}: row {row + 2}, column 'id': node id {ids[row]} appears twice")
    index = pd.Index(ids)
    pre, post = _int_column(edges, "pre", where_edges), _int_column(edges, "post", where_edges)
    count = _int_column(edges, "count", where_edges)
    if (count <= 0).any():
        row = int(np.flatnonzero(count <= 0)[0])
        raise ConnectomeDataError(f"{where_edges}: row {row + 2}, column 'count': {count[row]} (counts must be > 0)")
    types = (edges["type"].astype(str).str.strip().to_numpy() if "type" in edges.columns
             else np.full(len(edges), default_type, dtype=object))
    bad_type = ~np.isin(types, SYNAPSE_TYPES)
    if bad_type.any():
        row = int(np.flatnonzero(bad_type)[0])
        raise ConnectomeDataError(f"{where_edges}: row {row + 2}, column 'type': {types[row]!r} is not one of "
                                  f"{', '.join(SYNAPSE_TYPES)}")
    i, j = index.get_indexer(pre), index.get_indexer(post)
    for col, k, vals in (("pre", i, pre), ("post", j, post)):
        if (k < 0).any():
            row = int(np.flatnonzero(k < 0)[0])
            raise ConnectomeDataError(f"{where_edges}: row {row + 2}, column {col!r}: node {vals[row]} is not in "
                                      f"{where_nodes}")
    n = len(ids)
    synapses = {}
    for t in SYNAPSE_TYPES:
        m = types == t
        if m.any():
            synapses[t] = sp.csr_matrix((count[m], (i[m], j[m])), shape=(n, n), dtype=np.int64)  # duplicates summed
    neurons = _neuron_table(nodes, ids, index)
    prov = {"dataset": name, "citation": None, "doi": None, "licence": None, "source_kind": "edgelist",
            "files": {}, "nodes": None, "verified": False, **(provenance or {})}
    return Connectome(neurons, synapses, prov, None)


def _neuron_table(nodes: pd.DataFrame, ids: np.ndarray, index: pd.Index) -> pd.DataFrame:
    df = nodes.copy().reset_index(drop=True)
    out = pd.DataFrame({"skid": ids})
    for col, default in NODE_DEFAULTS.items():
        out[col] = df[col].fillna(default).astype(str).to_numpy() if col in df.columns else default
    if "pair_id" in df.columns:
        pair = pd.to_numeric(df["pair_id"], errors="coerce").fillna(-1).to_numpy(dtype=np.int64)
    else:
        pair = np.full(len(ids), -1, dtype=np.int64)
    out["pair_skid"] = pair
    k = index.get_indexer(pair)
    out["pair_index"] = np.where(pair >= 0, k, -1)
    label = df["label"] if "label" in df.columns else (df["name"] if "name" in df.columns else None)
    out["label"] = (label.fillna("").astype(str).to_numpy() if label is not None
                    else [f"{ct} {i}" for ct, i in zip(out["celltype"], ids)])
    if "cluster" not in df.columns:
        out["cluster"] = -1
    for col in df.columns:  # everything else the user gave (name, class columns, flags ...)
        if col not in out.columns and col not in ("id", "pair_id"):
            out[col] = df[col].to_numpy()
    out.index = pd.RangeIndex(len(out), name="index")
    return out


def load_edge_list(edges: str | os.PathLike, nodes: str | os.PathLike, *, name: str | None = None,
                   default_type: str = "ad", sha256: dict | None = None, rebuild: bool = False):
    """Load a connectome from an edge-list file and a node-table file.

    Parameters
    ----------
    edges, nodes : path-like
        CSV (or Parquet) files; columns in the module docstring.
    name : str, optional
        Data set name (default: the edge file's stem).
    default_type : str
        Synapse type of edges without a ``type`` column.
    sha256 : dict, optional
        Expected checksums ``{"edges": hex, "nodes": hex}``; a mismatch raises
        :class:`connectomes.errors.ChecksumError` naming the file.
    rebuild : bool
        Ignore the compiled cache.

    Returns
    -------
    Connectome
        With ``provenance["files"]`` holding both files' SHA-256.
    """
    paths = {"edges": Path(edges), "nodes": Path(nodes)}
    for role, p in paths.items():
        if not p.is_file():
            raise ConnectomeDataError(f"{role} file not found: {p}")
    sums = {role: store.file_checksum(p, compiled_dir()) for role, p in paths.items()}
    for role, want in (sha256 or {}).items():
        if role not in sums:
            raise ValueError(f"sha256: unknown file role {role!r} (use 'edges', 'nodes')")
        if sums[role] != want:
            raise ChecksumError(f"{paths[role]}: SHA-256 {sums[role]} does not match the expected {want}")
    name = name or paths["edges"].stem
    key = store.cache_key({"dataset": f"edgelist:{name}", "default_type": default_type, **sums})
    path = compiled_dir() / f"{name}-{key}.h5"
    from larvasim.util import larvasim_version

    from .connectome import Connectome

    data = None
    if path.is_file() and not rebuild:
        try:
            data = store.read(path)
        except (OSError, KeyError, ValueError):
            data = None
    if data is None:
        c = from_tables(_read_table(paths["edges"]), _read_table(paths["nodes"]), name=name,
                        default_type=default_type, where_edges=str(paths["edges"]), where_nodes=str(paths["nodes"]),
                        provenance={"source": str(paths["edges"].parent), "verified": bool(sha256),
                                    "files": {p.name: sums[r] for r, p in paths.items()},
                                    "cache_key": key, "compiled_cache": str(path)})
        store.write(path, ids=c.ids, synapses=c._synapses, neurons=c.neurons, absent=c.absent,
                    provenance=c.provenance)
        data = {"neurons": c.neurons, "synapses": c._synapses, "absent": c.absent, "provenance": c.provenance}
        loaded = False
    else:
        loaded = True
    prov = dict(data["provenance"])
    prov.update({"found_via": "explicit path", "larvasim_version": larvasim_version(), "loaded_from_cache": loaded,
                 "verified": bool(sha256)})  # this load's check, not the one that compiled the cache
    return Connectome(data["neurons"], data["synapses"], prov, data["absent"])


def load_folder(folder, *, verify: bool = False, rebuild: bool = False, **kw):
    """:func:`load_edge_list` on the ``edges.*`` and ``nodes.*`` files (CSV or Parquet) of ``folder``.

    What ``connectomes.load("edgelist", data_dir=folder)`` calls, so that run
    files, sweeps and the CLI can name such a connectome like Data S1. The
    data set is named after the folder. With ``verify`` and a file
    ``folder/SHA256SUMS`` (lines ``<hex>  <file name>``, as ``sha256sum``
    writes them) both files must match it; without that file there is nothing
    published to verify against, and the provenance says ``verified: False``
    (the files' checksums are recorded either way).
    """
    if folder is None:
        raise ConnectomeDataError("the 'edgelist' data set needs data_dir: the folder of edges.csv and nodes.csv")
    folder = Path(folder)
    found = {}
    for role in ("edges", "nodes"):
        hits = [folder / f"{role}{ext}" for ext in (".csv", ".parquet", ".pq") if (folder / f"{role}{ext}").is_file()]
        if not hits:
            raise ConnectomeDataError(f"{folder}: no {role}.csv (or {role}.parquet) for the 'edgelist' data set")
        found[role] = hits[0]
    sums = None
    listing = folder / "SHA256SUMS"
    if verify and listing.is_file():
        known = dict(reversed(line.split(None, 1)) for line in listing.read_text().splitlines() if line.strip())
        known = {k.strip().lstrip("*"): v for k, v in known.items()}
        sums = {role: known.get(p.name) for role, p in found.items()}
        missing = [found[r].name for r, v in sums.items() if v is None]
        if missing:
            raise ChecksumError(f"{listing}: no checksum for {', '.join(missing)}")
    return load_edge_list(found["edges"], found["nodes"], name=kw.pop("name", folder.name), sha256=sums,
                          rebuild=rebuild, **kw)


def write_edge_list(connectome, folder: str | os.PathLike, *, fmt: str = "csv") -> tuple[Path, Path]:
    """Write ``connectome`` as ``edges.<fmt>`` (pre, post, count, type) and ``nodes.<fmt>``.

    Reading them back with :func:`load_edge_list` gives the same neurons and
    synapse counts (the round trip is tested). Files are written atomically.
    """
    if fmt not in ("csv", "parquet"):
        raise ValueError(f"fmt must be 'csv' or 'parquet', got {fmt!r}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    ids = connectome.ids
    rows = []
    for t in connectome.synapse_types:
        m = connectome.weights((t,)).tocoo()
        rows.append(pd.DataFrame({"pre": ids[m.row], "post": ids[m.col], "count": m.data.astype(np.int64),
                                  "type": t}))
    edges = pd.concat(rows, ignore_index=True)
    n = connectome.neurons.copy()
    nodes = n.drop(columns=["pair_index", "skid", "pair_skid"]).copy()
    nodes.insert(0, "id", n["skid"].to_numpy())
    nodes.insert(1, "pair_id", n["pair_skid"].to_numpy())
    from larvasim.util import atomic_path

    out = []
    for table, stem in ((edges, "edges"), (nodes, "nodes")):
        path = folder / f"{stem}.{fmt}"
        with atomic_path(path, suffix=f".{fmt}") as tmp:
            if fmt == "csv":
                table.to_csv(tmp, index=False)
            else:
                table.to_parquet(tmp, index=False)
        out.append(path)
    return out[0], out[1]
