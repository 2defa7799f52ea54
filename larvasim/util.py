"""Small utilities every package of larvasim uses: the version, and atomic file writing.

A leaf module (standard library only), so that :mod:`connectomes`, :mod:`models`,
:mod:`sim` and :mod:`experiments` can all import it without importing each other.

Every file larvasim writes (compiled connectomes, results, figures, sweep
records, reports, engine files) goes through :func:`atomic_path`: the content
is written to a temporary sibling file and renamed into place, so that a
crash or a kill never leaves a half-written file where a complete one is
expected.
"""
from __future__ import annotations

import contextlib
import os
import tempfile
from importlib import metadata
from pathlib import Path

__all__ = ["atomic_path", "atomic_write_bytes", "atomic_write_text", "check_writable_parent", "fsync_dir",
           "larvasim_version"]


def larvasim_version() -> str:
    """Installed version of larvasim (``"unknown"`` when run from a source tree)."""
    try:
        return metadata.version("larvasim")
    except metadata.PackageNotFoundError:  # pragma: no cover
        return "unknown"


def check_writable_parent(p, flag: str) -> None:
    """Raise ``ValueError`` naming ``flag`` and ``p`` unless the nearest existing folder above ``p`` is a folder
    this process can create files in (tried: permissions alone say nothing for root or a read-only file
    system). Commands call it before a long run, so that a bad output path fails at once."""
    p = Path(p)
    parent = p.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise ValueError(f"{flag} {p}: {parent} is a file, not a folder")
    try:
        tempfile.TemporaryFile(dir=parent).close()
    except OSError as exc:
        raise ValueError(f"{flag} {p}: cannot write in {parent} ({exc.strerror or exc})") from None


def fsync_dir(folder) -> None:
    """Flush a folder's entries to disk (after a rename), where the platform allows it."""
    try:
        fd = os.open(os.fspath(folder), os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path, suffix: str = ".tmp", durable: bool = False):
    """Yield a temporary path beside ``path``; on success rename it onto ``path``, else remove it.

    Parameters
    ----------
    path : path-like
        The file to (re)place. Its folder is created.
    suffix : str
        Suffix of the temporary file (some writers choose the format by it).
    durable : bool
        Also fsync the file and its folder (records that must survive a power cut).

    Examples
    --------
    >>> with atomic_path("out/fig.png", suffix=".png") as tmp:       # doctest: +SKIP
    ...     fig.savefig(tmp)
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        if durable:
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the file the user's usual mode
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    if durable:
        fsync_dir(path.parent)


def atomic_write_bytes(path, data: bytes, durable: bool = False) -> Path:
    """Write ``data`` to ``path`` atomically (:func:`atomic_path`)."""
    with atomic_path(path, durable=durable) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def atomic_write_text(path, text: str, durable: bool = True) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically, durably by default (:func:`atomic_path`)."""
    with atomic_path(path, durable=durable) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def json_default(o):
    """``json.dumps(default=...)`` for numpy scalars and arrays (lists) and anything else (its ``str``)."""
    import numpy as np

    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)
