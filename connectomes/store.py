"""The compiled HDF5 cache of a connectome.

The first :func:`connectomes.load` parses the CSV files (seconds); it then
writes everything larvasim needs into one HDF5 file named by a key derived
from the inputs' SHA-256 checksums, so that later loads take a fraction of a
second and any changed input gets a new key (and a rebuild). Files are
written to a temporary name and renamed into place: a crash never leaves a
partial cache that would be read later.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import scipy.sparse as sp

from larvasim.util import atomic_path, atomic_write_bytes

from .download import sha256_file

__all__ = ["FORMAT_VERSION", "cache_key", "write", "read", "file_checksum"]

#: Bump when the layout or the parsing changes: old caches are then ignored.
FORMAT_VERSION = 1

_MEMO = "hash-memo.json"


def file_checksum(path: Path, memo_dir: Path | None) -> str:
    """SHA-256 of ``path``, remembered in ``memo_dir`` to skip re-hashing.

    The memo is trusted only while the file's size, modification time, inode *and*
    status-change time (ctime) are unchanged: rewriting a file changes its ctime
    even when its size is kept and its mtime is set back (``touch -d``), so a
    corrupted file is always hashed again.
    """
    path = Path(path).resolve()
    st = path.stat()
    stamp = [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]
    memo = {}
    memo_file = memo_dir / _MEMO if memo_dir is not None else None
    if memo_file is not None and memo_file.is_file():
        try:
            memo = json.loads(memo_file.read_text())
        except (OSError, ValueError):
            memo = {}
    hit = memo.get(str(path))
    if hit and hit[:-1] == stamp:
        return hit[-1]
    digest = sha256_file(path)
    if memo_file is not None:
        memo[str(path)] = stamp + [digest]
        try:
            atomic_write_bytes(memo_file, json.dumps(memo).encode())
        except OSError:
            pass  # the memo is an optimisation only
    return digest


def cache_key(parts: dict) -> str:
    """Short key from the checksums of every input and the format version."""
    blob = json.dumps({"format": FORMAT_VERSION, **parts}, sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()[:20]


def _write_frame(group: h5py.Group, df: pd.DataFrame) -> None:
    group.attrs["columns"] = json.dumps(list(df.columns))
    for c in df.columns:
        col = df[c]
        if col.dtype.kind in "biuf":
            group.create_dataset(c, data=col.to_numpy())
        else:
            text = col.astype(object).where(col.notna(), "").astype(str)  # a missing text value is ""
            group.create_dataset(c, data=text.to_numpy().astype(object), dtype=h5py.string_dtype())


def _read_frame(group: h5py.Group) -> pd.DataFrame:
    cols = json.loads(group.attrs["columns"])
    data = {}
    for c in cols:
        ds = group[c]
        data[c] = ds.asstr()[()] if h5py.check_string_dtype(ds.dtype) else ds[()]
    return pd.DataFrame(data, columns=cols)


def write(path: Path, *, ids, synapses: dict, neurons: pd.DataFrame, absent: pd.DataFrame,
          provenance: dict) -> None:
    """Write a compiled connectome atomically to ``path``."""
    with atomic_path(path) as tmp, h5py.File(tmp, "w") as f:
        f.attrs["format_version"] = FORMAT_VERSION
        f.attrs["provenance"] = json.dumps(provenance)
        f.create_dataset("ids", data=np.asarray(ids, dtype=np.int64))
        g = f.create_group("synapses")
        for t, m in synapses.items():
            m = sp.csr_matrix(m)
            s = g.create_group(t)
            s.attrs["shape"] = m.shape
            for part in ("data", "indices", "indptr"):
                s.create_dataset(part, data=getattr(m, part), compression="gzip",
                                 compression_opts=1, shuffle=True)
        _write_frame(f.create_group("neurons"), neurons.reset_index(drop=True))
        _write_frame(f.create_group("absent"), absent.reset_index(drop=True))


def read(path: Path) -> dict:
    """Read a compiled connectome; raises ``OSError``/``KeyError`` if unreadable."""
    with h5py.File(path, "r") as f:
        if int(f.attrs["format_version"]) != FORMAT_VERSION:
            raise KeyError("format version")
        syn = {}
        for t, s in f["synapses"].items():
            syn[t] = sp.csr_matrix((s["data"][()], s["indices"][()], s["indptr"][()]),
                                   shape=tuple(s.attrs["shape"]))
        neurons = _read_frame(f["neurons"])
        neurons.index = pd.RangeIndex(len(neurons), name="index")
        return {
            "ids": f["ids"][()],
            "synapses": syn,
            "neurons": neurons,
            "absent": _read_frame(f["absent"]),
            "provenance": json.loads(f.attrs["provenance"]),
        }
