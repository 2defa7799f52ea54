"""Numba's on-disk cache of the engine's kernels, kept in step with every engine source file.

Numba keys the cached machine code of a function by the file the function is
written in (its modification time and size). The kernels inline helpers from
other files of this package (``_shared.py``, ``plastic.py``): after one of
those changes -- an edit, or a ``git pull`` into an editable install -- numba
would go on loading the old kernels, and the engine would silently run code
that is no longer in the repository. :func:`refresh_stale_caches` keeps a
digest of every ``.py`` file of the package beside the cache and, when it
differs, empties the cache index of every cached function of the package, so
that each compiles once again. It runs when :mod:`sim.engine_numba` is
imported, before any kernel is called.
"""
from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

__all__ = ["STAMP", "refresh_stale_caches", "sources_digest"]

#: The file beside numba's cache that holds the digest of the sources the cache was built from.
STAMP = "larvasim_engine_sources.sha256"
_PACKAGE = Path(__file__).resolve().parent


def sources_digest() -> str:
    """SHA-256 over the names and contents of the package's ``.py`` files, in name order."""
    h = hashlib.sha256()
    for p in sorted(_PACKAGE.glob("*.py")):
        h.update(p.name.encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()


def _cached_dispatchers(modules) -> list:
    """The numba functions of ``modules`` that cache to disk (``cache=True``)."""
    from numba.core.caching import Cache
    from numba.core.registry import CPUDispatcher

    found = {}
    for mod in modules:
        for obj in vars(mod).values():
            if isinstance(obj, CPUDispatcher) and isinstance(getattr(obj, "_cache", None), Cache):
                found[id(obj)] = obj
    return list(found.values())


def refresh_stale_caches() -> bool:
    """Empty the cache index of the package's kernels if a source changed since the cache was written.

    Returns
    -------
    bool
        ``True`` when the indexes were emptied (the kernels compile again at
        their next call), ``False`` when the cache matches the sources or
        cannot be read or written (numba then behaves as without this check).
    """
    prefix = __name__.rpartition(".")[0] + "."
    modules = [m for name, m in list(sys.modules.items()) if name.startswith(prefix) and m is not None]
    digest = sources_digest()
    flushed = False
    by_dir: dict[str, list] = {}
    for d in _cached_dispatchers(modules):
        try:
            by_dir.setdefault(d._cache.cache_path, []).append(d)
        except (AttributeError, OSError, RuntimeError):  # no usable cache location: numba caches nothing
            continue
    for cache_dir, dispatchers in by_dir.items():
        stamp = Path(cache_dir) / STAMP
        try:
            if stamp.read_text() == digest:
                continue
        except OSError:
            pass  # no stamp yet: a cache written before this check, or none at all
        try:
            for d in dispatchers:
                d._cache.flush()
            tmp = stamp.with_name(f"{STAMP}.{os.getpid()}.tmp")
            tmp.write_text(digest)
            os.replace(tmp, stamp)
            flushed = True
        except OSError:  # a read-only cache: leave it as numba would
            continue
    return flushed
