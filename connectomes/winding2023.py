"""Reader of Data S1 of Winding et al. 2023 (zip as published, or extracted folder).

Reads and validates the five connectivity matrices, ``annotations.csv`` and the
per-neuron ``inputs.csv`` / ``outputs.csv``. Matrices are aligned by skeleton
id (the five files list the ids in different orders); the neuron order of
larvasim is the row order of ``all-all_connectivity_matrix.csv``. Every
problem raises :class:`~connectomes.errors.ConnectomeDataError` naming the
file and the row, column or skeleton id at fault.
"""
from __future__ import annotations

import hashlib
import io
import zipfile
import zlib
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .errors import ChecksumError, ConnectomeDataError
from .paths import DataLocation
from .sources import WINDING2023

__all__ = ["SYNAPSE_TYPES", "MATRIX_FILES", "RawData", "read", "ANNOTATION_COLUMNS"]

#: The four synapse types, in the paper's order (row = presynaptic).
SYNAPSE_TYPES = ("ad", "aa", "dd", "da")

#: Cell types of the brain's outputs (Winding et al. 2023): descending neurons to the nerve cord and
#: to the subesophageal zone, and ring-gland neurons. Defined here, once; simulator and experiments
#: read them from here.
OUTPUT_CELLTYPES = ("DN-VNC", "DN-SEZ", "RGN")
#: The descending outputs among them.
DESCENDING_CELLTYPES = ("DN-VNC", "DN-SEZ")
#: Cell types with a role in models: Kenyon cells, mushroom-body output and input neurons, sensory
#: neurons (an edge-list connectome uses the same names in its ``celltype`` column).
KC_CELLTYPE, MBON_CELLTYPE, MBIN_CELLTYPE, SENSORY_CELLTYPE = "KC", "MBON", "MBIN", "sensory"
#: Projection and local neurons (of the antennal lobe, among others).
PN_CELLTYPE, LN_CELLTYPE = "PN", "LN"

#: Long names of the synapse types.
SYNAPSE_TYPE_NAMES = {
    "ad": "axo-dendritic",
    "aa": "axo-axonic",
    "dd": "dendro-dendritic",
    "da": "dendro-axonic",
}

MATRIX_FILES = {t: f"{t}_connectivity_matrix.csv" for t in SYNAPSE_TYPES}
MATRIX_FILES["all"] = "all-all_connectivity_matrix.csv"

ANNOTATION_COLUMNS = ("left_id", "right_id", "celltype", "additional_annotations", "level_7_cluster")
IO_COLUMNS = {
    "inputs.csv": ("axon_input", "dendrite_input"),
    "outputs.csv": ("axon_output", "dendrite_output"),
}
NO_PAIR = "no pair"
NO_CLUSTER = "no cluster"


@dataclass
class RawData:
    """Validated content of Data S1.

    Attributes
    ----------
    ids : ndarray of int64, shape (N,)
        Skeleton ids in larvasim's neuron order.
    synapses : dict of str -> scipy.sparse.csr_matrix
        Synapse counts per type (``ad``, ``aa``, ``dd``, ``da``) and ``all``;
        int32, row = presynaptic, aligned to ``ids``.
    annotations : pandas.DataFrame
        ``annotations.csv`` as strings, one row per left/right pair.
    io_counts : pandas.DataFrame
        Axon/dendrite input and output site counts, indexed by skeleton id.
    checksums : dict of str -> str
        SHA-256 of each file read.
    """

    ids: np.ndarray
    synapses: dict
    annotations: pd.DataFrame
    io_counts: pd.DataFrame
    checksums: dict


class _Files:
    """Uniform access to the members of the zip or the extracted folder."""

    def __init__(self, location: DataLocation):
        self.location = location
        self.root = location.source
        self._zip = None
        self.checksums: dict[str, str] = {}
        if location.kind == "zip":
            try:
                self._zip = zipfile.ZipFile(self.root)
            except (zipfile.BadZipFile, OSError) as exc:
                raise ConnectomeDataError(
                    f"{self.root}: not a readable zip archive (corrupt or truncated?): {exc}"
                ) from exc
            self._members = {}
            for info in self._zip.infolist():
                parts = info.filename.split("/")
                if info.is_dir() or "__MACOSX" in parts or parts[-1].startswith("._"):
                    continue
                self._members.setdefault(parts[-1], info.filename)

    def label(self, name: str) -> str:
        if self._zip is not None:
            return f"{self.root}:{self._members.get(name, name)}"
        return str(self.root / name)

    def read(self, name: str) -> bytes:
        if self._zip is not None:
            if name not in self._members:
                raise ConnectomeDataError(f"{self.root}: the archive has no file {name!r}")
            try:
                data = self._zip.read(self._members[name])
            except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError) as exc:
                raise ConnectomeDataError(
                    f"{self.label(name)}: cannot be extracted (corrupt or truncated archive): {exc}"
                ) from exc
        else:
            path = self.root / name
            if not path.is_file():
                raise ConnectomeDataError(f"{self.root}: missing file {name!r}")
            data = path.read_bytes()
        self.checksums[name] = hashlib.sha256(data).hexdigest()
        return data

    def close(self):
        if self._zip is not None:
            self._zip.close()


def _parse_ids(values, label: str, what: str) -> np.ndarray:
    """Skeleton ids as int64; error names the first value that is not an integer."""
    s = pd.Series(values, dtype="object").astype(str).str.strip()
    num = pd.to_numeric(s, errors="coerce")
    bad = num.isna() | (num != np.floor(num))
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise ConnectomeDataError(f"{label}: {what} {i + 1} is {s.iloc[i]!r}, not a skeleton id")
    return num.to_numpy().astype(np.int64)


def _check_unique(ids: np.ndarray, label: str, what: str) -> None:
    u, counts = np.unique(ids, return_counts=True)
    if (counts > 1).any():
        dup = u[counts > 1]
        raise ConnectomeDataError(
            f"{label}: duplicated skeleton id(s) in the {what}: "
            + ", ".join(map(str, dup[:10]))
            + (" ..." if len(dup) > 10 else "")
        )


def _parse_matrix(data: bytes, label: str):
    """Parse one dense count matrix; return (row_ids, col_ids, counts as int32)."""
    text = io.BytesIO(data)
    header = text.readline().decode("utf-8-sig").rstrip("\r\n").split(",")
    if len(header) < 2:
        raise ConnectomeDataError(f"{label}: the header row has no column ids")
    col_ids = _parse_ids(header[1:], label, "header column")
    _check_unique(col_ids, label, "header (columns)")
    try:
        df = pd.read_csv(text, header=None, index_col=None, low_memory=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ConnectomeDataError(f"{label}: cannot parse the table: {exc}") from exc
    if df.shape[1] != len(header):
        raise ConnectomeDataError(
            f"{label}: rows have {df.shape[1]} fields but the header has {len(header)}"
        )
    row_ids = _parse_ids(df.iloc[:, 0].to_numpy(), label, "row")
    _check_unique(row_ids, label, "first column (rows)")
    vals = df.iloc[:, 1:]
    if not all(dt.kind in "fiu" for dt in vals.dtypes):
        for j, dt in enumerate(vals.dtypes):
            if dt.kind in "fiu":
                continue
            col = vals.iloc[:, j]
            num = pd.to_numeric(col, errors="coerce")
            bad = num.isna() & col.notna()
            if bad.any():
                i = int(np.flatnonzero(bad.to_numpy())[0])
                raise ConnectomeDataError(
                    f"{label}: non-numeric count {col.iloc[i]!r} at row id {row_ids[i]}, "
                    f"column id {col_ids[j]}"
                )
        vals = vals.apply(pd.to_numeric)
    arr = vals.to_numpy(dtype=np.float64)
    problems = (
        (np.isnan(arr), "missing count"),
        (arr < 0, "negative count"),
        (arr != np.floor(arr), "non-integer count"),
    )
    for mask, what in problems:
        if mask.any():
            i, j = map(int, np.argwhere(mask)[0])
            raise ConnectomeDataError(
                f"{label}: {what} {float(arr[i, j])!r} at row id {row_ids[i]}, column id {col_ids[j]}"
            )
    return row_ids, col_ids, arr.astype(np.int32)


def _align(label: str, want: np.ndarray, have: np.ndarray, axis: str) -> np.ndarray:
    """Positions of ``want`` ids within ``have``; error lists missing and extra ids."""
    idx = pd.Index(have).get_indexer(want)
    if (idx < 0).any() or len(have) != len(want):
        missing = want[idx < 0]
        extra = np.setdiff1d(have, want)
        msg = f"{label}: the {axis} ids differ from those of {MATRIX_FILES['all']}"
        if len(missing):
            msg += f"; missing: {', '.join(map(str, missing[:10]))}" + (" ..." if len(missing) > 10 else "")
        if len(extra):
            msg += f"; unexpected: {', '.join(map(str, extra[:10]))}" + (" ..." if len(extra) > 10 else "")
        raise ConnectomeDataError(msg)
    return idx


def _read_annotations(files: _Files) -> pd.DataFrame:
    name = "annotations.csv"
    label = files.label(name)
    try:
        ann = pd.read_csv(io.BytesIO(files.read(name)), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ConnectomeDataError(f"{label}: cannot parse the table: {exc}") from exc
    ann.columns = [c.strip() for c in ann.columns]
    missing = [c for c in ANNOTATION_COLUMNS if c not in ann.columns]
    if missing:
        raise ConnectomeDataError(
            f"{label}: missing column(s) {', '.join(missing)} (has: {', '.join(ann.columns)})"
        )
    ann = ann[list(ANNOTATION_COLUMNS)].apply(lambda c: c.str.strip())
    seen: dict[int, int] = {}
    for col in ("left_id", "right_id"):
        for i, v in enumerate(ann[col]):
            if v == NO_PAIR:
                continue
            if not v.isdigit():
                raise ConnectomeDataError(
                    f"{label}: line {i + 2}, column {col}: {v!r} is neither a skeleton id nor {NO_PAIR!r}"
                )
            if int(v) in seen:
                raise ConnectomeDataError(
                    f"{label}: skeleton id {v} appears on line {seen[int(v)] + 2} and line {i + 2}"
                )
            seen[int(v)] = i
    both_missing = (ann.left_id == NO_PAIR) & (ann.right_id == NO_PAIR)
    if both_missing.any():
        i = int(np.flatnonzero(both_missing.to_numpy())[0])
        raise ConnectomeDataError(f"{label}: line {i + 2} has {NO_PAIR!r} on both sides")
    clus = ann.level_7_cluster
    bad = ~(clus.str.fullmatch(r"-?\d+") | clus.isin(["", NO_CLUSTER]))
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise ConnectomeDataError(
            f"{label}: line {i + 2}, column level_7_cluster: {clus.iloc[i]!r} is not an integer"
        )
    return ann


def _read_io(files: _Files) -> pd.DataFrame:
    frames = []
    for name, cols in IO_COLUMNS.items():
        label = files.label(name)
        try:
            df = pd.read_csv(io.BytesIO(files.read(name)), index_col=0)
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise ConnectomeDataError(f"{label}: cannot parse the table: {exc}") from exc
        missing = [c for c in cols if c not in df.columns]
        if missing:
            raise ConnectomeDataError(f"{label}: missing column(s) {', '.join(missing)}")
        df.index = _parse_ids(df.index.to_numpy(), label, "row")
        _check_unique(df.index.to_numpy(), label, "first column")
        df = df[list(cols)]
        for c in cols:
            num = pd.to_numeric(df[c], errors="coerce")
            bad = num.isna() | (num < 0)
            if bad.any():
                i = int(np.flatnonzero(bad.to_numpy())[0])
                raise ConnectomeDataError(
                    f"{label}: column {c}, skeleton id {df.index[i]}: {df[c].iloc[i]!r} is not a "
                    "non-negative number"
                )
            df[c] = num.astype(np.float64)
        frames.append(df)
    return frames[0].join(frames[1], how="outer")


def verify_checksums(checksums: dict, where: str) -> None:
    """Compare member checksums with the published ones of Data S1."""
    for name, digest in checksums.items():
        expected = WINDING2023.members.get(name)
        if expected is not None and digest != expected:
            raise ChecksumError(
                f"{where}: {name} has SHA-256 {digest}, but the published Data S1 file has "
                f"{expected}. The file is corrupt or modified; re-fetch it "
                f"(`larvasim fetch winding2023 --force`) or, for a deliberately modified copy, "
                f"load with verify=False."
            )


def read(location: DataLocation, verify: bool = True) -> RawData:
    """Read and validate Data S1 from ``location``.

    Parameters
    ----------
    location : DataLocation
        From :func:`connectomes.paths.locate`.
    verify : bool
        Check every file against the published SHA-256 checksums.

    Returns
    -------
    RawData
    """
    files = _Files(location)
    try:
        ann = _read_annotations(files)
        io_counts = _read_io(files)
        mats = {}
        ids = None
        for t in ("all",) + SYNAPSE_TYPES:
            name = MATRIX_FILES[t]
            label = files.label(name)
            rows, cols, arr = _parse_matrix(files.read(name), label)
            if set(rows.tolist()) != set(cols.tolist()):
                only_r = np.setdiff1d(rows, cols)
                only_c = np.setdiff1d(cols, rows)
                raise ConnectomeDataError(
                    f"{label}: row and column ids differ; only in rows: "
                    f"{', '.join(map(str, only_r[:10])) or '-'}; only in columns: "
                    f"{', '.join(map(str, only_c[:10])) or '-'}"
                )
            if ids is None:
                ids = rows
            r = _align(label, ids, rows, "row")
            c = _align(label, ids, cols, "column")
            mats[t] = sp.csr_matrix(arr[np.ix_(r, c)])
            del arr
        total = mats["ad"] + mats["aa"] + mats["dd"] + mats["da"]
        diff = (total - mats["all"]).tocoo()
        diff.eliminate_zeros()
        if diff.nnz:
            i, j = int(diff.row[0]), int(diff.col[0])
            raise ConnectomeDataError(
                f"{files.label(MATRIX_FILES['all'])}: the four synapse types do not sum to all-all: "
                f"{diff.nnz} entries differ, e.g. pre {ids[i]} -> post {ids[j]}: "
                f"sum of types {total[i, j]}, all-all {mats['all'][i, j]}"
            )
        if verify:
            verify_checksums(files.checksums, str(location.source))
        return RawData(ids=ids, synapses=mats, annotations=ann, io_counts=io_counts,
                       checksums=dict(files.checksums))
    finally:
        files.close()
