"""Where larvasim looks for connectome data, and where it keeps its caches.

Search order for a data set (first hit wins):

1. the ``data_dir`` argument (or ``--data-dir`` on the command line),
2. the environment variable ``LARVASIM_DATA``,
3. the user cache, ``platformdirs.user_cache_dir("larvasim")``
   (``~/.cache/larvasim`` on Linux), overridable with ``LARVASIM_CACHE``.

A *data directory* may be laid out like the cache (``winding2023/
Supplementary-Data-S1.zip`` and optionally ``pedigo2023/
unmatched_full_nodes.csv``), or hold the zip or its extracted folder
directly; ``data_dir`` may also point at the zip or the extracted folder itself.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from .errors import DataNotFoundError
from .sources import PEDIGO2023, get_spec

__all__ = ["cache_dir", "compiled_dir", "DataLocation", "locate"]

ENV_DATA = "LARVASIM_DATA"
ENV_CACHE = "LARVASIM_CACHE"

#: Extracted folder name of Data S1.
S1_FOLDER = "Supplementary-Data-S1"


def cache_dir() -> Path:
    """The user cache of larvasim (not created here).

    ``$LARVASIM_CACHE`` if set, else the platform's user cache directory.
    """
    env = os.environ.get(ENV_CACHE)
    return Path(env).expanduser() if env else Path(platformdirs.user_cache_dir("larvasim"))


def compiled_dir() -> Path:
    """Folder of the compiled HDF5 connectome caches inside :func:`cache_dir`."""
    return cache_dir() / "compiled"


@dataclass(frozen=True)
class DataLocation:
    """Where the files of one data set were found.

    Attributes
    ----------
    source : Path
        The Data S1 zip file or its extracted folder.
    kind : {"zip", "folder"}
    nodes : Path or None
        The Pedigo et al. 2023 node table, when present beside the data.
    found_via : str
        Which search step found it (for provenance and messages).
    """

    source: Path
    kind: str
    nodes: Path | None
    found_via: str


#: ``DataLocation.found_via`` of an explicit data folder; messages say ``data_dir (--data-dir)``.
DATA_DIR_VIA = "data_dir argument"


def _said(via: str) -> str:
    return "data_dir (--data-dir)" if via == DATA_DIR_VIA else via


def _s1_in(root: Path, filename: str, name: str) -> tuple[Path, str] | None:
    """Look for the Data S1 zip or folder in ``root`` (several accepted layouts)."""
    if root.is_file() and root.suffix == ".zip":
        return root, "zip"
    if (root / "annotations.csv").is_file():
        return root, "folder"
    for base in (root / name, root):
        if (base / filename).is_file():
            return base / filename, "zip"
        if (base / S1_FOLDER / "annotations.csv").is_file():
            return base / S1_FOLDER, "folder"
    for base in (root / name, root):  # an extracted folder with a file missing: its reader names the file
        if (base / S1_FOLDER).is_dir():
            return base / S1_FOLDER, "folder"
    return None


def _nodes_near(source: Path, root: Path) -> Path | None:
    """The Pedigo node table beside the data, if present."""
    fname = PEDIGO2023.filename
    starts = [root if root.is_dir() else root.parent, source.parent, source.parent.parent]
    for base in starts:
        for cand in (base / PEDIGO2023.name / fname, base / fname):
            if cand.is_file():
                return cand
    return None


def how_to_get(name: str) -> str:
    """The instructions printed when a data set cannot be found."""
    spec = get_spec(name)
    return (
        f"To get it, do one of:\n"
        f"  * larvasim fetch {name}              (downloads {spec.filename} from its public "
        f"mirror into {cache_dir()} and checks its SHA-256)\n"
        f"  * larvasim fetch {name} --from PATH  (imports a copy you already have)\n"
        f"  * export {ENV_DATA}=/path/to/folder   (a folder holding {name}/{spec.filename}, "
        f"{spec.filename} or its extracted {S1_FOLDER}/ folder)\n"
        f"  * connectomes.load({name!r}, data_dir=...)\n"
        f"The file is Data S1 of {spec.citation} (doi:{spec.doi})."
    )


def locate(name: str = "winding2023", data_dir: str | os.PathLike | None = None) -> DataLocation:
    """Find the files of data set ``name``.

    Parameters
    ----------
    name : str
        Data set name (see :data:`connectomes.sources.DATASETS`).
    data_dir : path-like, optional
        Explicit place to look; when given, it must hold the data (no fallback).

    Returns
    -------
    DataLocation

    Raises
    ------
    DataNotFoundError
        With every place searched and how to get the data.
    """
    spec = get_spec(name)
    if data_dir is not None:
        candidates = [(Path(data_dir).expanduser(), DATA_DIR_VIA)]
    else:
        candidates = []
        if os.environ.get(ENV_DATA):
            candidates.append((Path(os.environ[ENV_DATA]).expanduser(), f"${ENV_DATA}"))
        candidates.append((cache_dir(), "user cache"))
    for root, via in candidates:
        hit = _s1_in(root, spec.filename, spec.name)
        if hit is not None:
            source, kind = hit
            return DataLocation(source.resolve(), kind, _nodes_near(source, root), via)
        if via == DATA_DIR_VIA or via.startswith("$"):
            if not root.exists():
                raise DataNotFoundError(
                    f"{_said(via)} points at {root}, which does not exist.\n" + how_to_get(name)
                )
            if via == DATA_DIR_VIA:
                break
    searched = "\n".join(f"  - {root} ({_said(via)})" for root, via in candidates)
    raise DataNotFoundError(
        f"connectome data {name!r} ({spec.filename}) not found. Searched:\n{searched}\n"
        + how_to_get(name)
    )
