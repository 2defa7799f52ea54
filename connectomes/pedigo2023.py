"""Reader of the Pedigo et al. 2023 node table (``unmatched_full_nodes.csv``).

Optional enrichment: CATMAID names, hemisphere, lineage, class1/class2 and
the cell-class flags of the same brain. larvasim works without it.
"""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import ConnectomeDataError

__all__ = ["read_nodes", "TEXT_COLUMNS", "FLAG_COLUMNS"]

#: Text columns merged into the neuron table (renamed as given).
TEXT_COLUMNS = {
    "name": "name",
    "hemisphere": "pedigo_hemisphere",
    "lineage": "lineage",
    "class1": "class1",
    "class2": "class2",
    "simple_group": "simple_group",
}

#: Boolean flag columns merged into the neuron table, under their own names.
FLAG_COLUMNS = (
    "brain_neurons", "sensories", "PNs", "PNs-somato", "LNs", "LHNs", "MBINs", "KCs",
    "MBONs", "MB-FBNs", "FFNs", "CNs", "pre-dSEZs", "pre-dVNCs", "dSEZs", "dVNCs",
    "RGNs", "ascendings", "motor", "incomplete",
)

_REQUIRED = ("name", "hemisphere", "class1", "class2")


def read_nodes(path: Path, data: bytes | None = None) -> pd.DataFrame:
    """Read the node table; returns a frame indexed by skeleton id.

    Parameters
    ----------
    path : Path
        The file (used for reading and in error messages).
    data : bytes, optional
        The file content when already read (avoids reading twice).
    """
    raw = data if data is not None else Path(path).read_bytes()
    try:
        df = pd.read_csv(io.BytesIO(raw), index_col=0, low_memory=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ConnectomeDataError(f"{path}: cannot parse the table: {exc}") from exc
    missing = [c for c in _REQUIRED if c not in df.columns]
    if missing:
        raise ConnectomeDataError(f"{path}: missing column(s) {', '.join(missing)}")
    ids = pd.to_numeric(pd.Series(df.index.astype(str)), errors="coerce")
    if ids.isna().any():
        i = int(np.flatnonzero(ids.isna().to_numpy())[0])
        raise ConnectomeDataError(f"{path}: row {i + 1}: {df.index[i]!r} is not a skeleton id")
    df.index = ids.to_numpy().astype(np.int64)
    if not df.index.is_unique:
        dup = df.index[df.index.duplicated()].unique()
        raise ConnectomeDataError(f"{path}: duplicated skeleton id(s): {', '.join(map(str, dup[:10]))}")
    out = pd.DataFrame(index=df.index)
    for src, dst in TEXT_COLUMNS.items():
        if src in df.columns:
            out[dst] = df[src].fillna("").astype(str).str.strip()
    for flag in FLAG_COLUMNS:
        if flag in df.columns:
            col = df[flag]
            if col.dtype != bool:
                col = col.astype(str).str.strip().str.lower().map({"true": True, "false": False})
                if col.isna().any():
                    i = int(np.flatnonzero(col.isna().to_numpy())[0])
                    raise ConnectomeDataError(
                        f"{path}: column {flag}, skeleton id {df.index[i]}: not True/False"
                    )
            out[flag] = col.astype(bool)
    return out
