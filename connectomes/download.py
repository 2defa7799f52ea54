"""Download or import published data sets into the user cache, checksum-verified.

Nothing partial is ever left in the cache: data are written to a temporary
file in the destination folder, verified, then moved into place atomically
with :func:`os.replace`. A failed download or a wrong checksum removes the
temporary file and leaves any previous good copy untouched.
"""
from __future__ import annotations

import hashlib
import http.client
import os
import tempfile
import urllib.request
from pathlib import Path

from tqdm.auto import tqdm

from .errors import ChecksumError, ConnectomeError
from .paths import cache_dir
from .sources import DATASETS, PEDIGO2023, DatasetSpec

__all__ = ["fetch", "sha256_file", "FETCHABLE"]

#: Data sets ``larvasim fetch`` knows.
FETCHABLE = {**DATASETS, PEDIGO2023.name: PEDIGO2023}

_CHUNK = 1 << 20


def sha256_file(path: str | os.PathLike) -> str:
    """SHA-256 hex digest of a file, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def _copy_stream(src, dst, total: int | None, desc: str, progress: bool) -> str:
    h = hashlib.sha256()
    with tqdm(total=total, unit="B", unit_scale=True, desc=desc, disable=not progress) as bar:
        for chunk in iter(lambda: src.read(_CHUNK), b""):
            h.update(chunk)
            dst.write(chunk)
            bar.update(len(chunk))
    return h.hexdigest()


def fetch(
    name: str = "winding2023",
    source: str | os.PathLike | None = None,
    *,
    url: str | None = None,
    cache: str | os.PathLike | None = None,
    force: bool = False,
    progress: bool = True,
    timeout: float = 60.0,
) -> Path:
    """Put a published data set into the larvasim cache.

    Parameters
    ----------
    name : str
        ``"winding2023"`` (Data S1 zip) or ``"pedigo2023"`` (node table).
    source : path-like, optional
        Import this local copy instead of downloading.
    url : str, optional
        Download from this address instead of the public mirror.
    cache : path-like, optional
        Cache root (default :func:`connectomes.paths.cache_dir`).
    force : bool
        Replace a good copy that is already cached.
    progress : bool
        Show a tqdm progress bar.
    timeout : float
        Network timeout in seconds.

    Returns
    -------
    Path
        The verified file in the cache (``<cache>/<name>/<filename>``).

    Raises
    ------
    ChecksumError
        The file's SHA-256 differs from the published one (nothing is stored).
    ConnectomeError
        The download failed (nothing is stored).

    (Over 80 lines: download, checksum, atomic rename and the error for each way it can fail, in
    order.)
    """
    try:
        spec: DatasetSpec = FETCHABLE[name]
    except KeyError:
        raise KeyError(f"unknown data set {name!r}; fetchable: {', '.join(sorted(FETCHABLE))}") from None
    dest_dir = Path(cache).expanduser() if cache is not None else cache_dir()
    dest_dir = dest_dir / spec.name
    dest = dest_dir / spec.filename
    if dest.is_file() and not force and source is None and url is None:
        if sha256_file(dest) == spec.sha256:
            return dest
    dest_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{spec.filename}.", suffix=".part", dir=dest_dir)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            if source is not None:
                src_path = Path(source).expanduser()
                if not src_path.is_file():
                    raise FileNotFoundError(f"--from {src_path}: no such file")
                where = str(src_path)
                with open(src_path, "rb") as src:
                    digest = _copy_stream(src, out, src_path.stat().st_size, spec.filename, progress)
            else:
                where = url or spec.url
                try:
                    with urllib.request.urlopen(where, timeout=timeout) as resp:
                        length = resp.headers.get("Content-Length")
                        digest = _copy_stream(
                            resp, out, int(length) if length else None, spec.filename, progress
                        )
                        if length is not None and out.tell() != int(length):
                            raise ConnectomeError(
                                f"download of {where} broke off after {out.tell()} of {length} bytes"
                            )
                except (OSError, http.client.HTTPException) as exc:  # URLError, timeouts, resets, short reads
                    raise ConnectomeError(
                        f"could not download {spec.filename} from {where}: {exc}. "
                        f"Nothing was stored. If you have the file, use "
                        f"`larvasim fetch {name} --from PATH`."
                    ) from exc
            out.flush()
            os.fsync(out.fileno())
        if digest != spec.sha256:
            raise ChecksumError(
                f"{spec.filename} from {where}: SHA-256 {digest} does not match the published "
                f"{spec.sha256}; the file is corrupt, truncated or a different version. "
                f"Nothing was stored."
            )
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return dest

