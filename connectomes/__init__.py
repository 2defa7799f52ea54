"""Connectomes: loading, verifying, describing and selecting from larva brain data.

>>> import connectomes
>>> c = connectomes.load("winding2023")           # doctest: +SKIP
>>> olf = c.select(modality="olfactory", hemisphere="left")   # doctest: +SKIP
>>> W = c.weights(types=("ad",))                   # scipy CSR, row = presynaptic  # doctest: +SKIP

See :func:`load` for where the data is looked for, and ``larvasim fetch`` for
getting it.
"""
from .connectome import Connectome, ConnectomeSummary, load
from .errors import (
    ChecksumError,
    ConnectomeDataError,
    ConnectomeError,
    DataNotFoundError,
    SelectionError,
)
from .download import fetch
from .edgelist import load_edge_list, write_edge_list
from .paths import cache_dir, locate
from .selection import Selection
from .sources import DATASETS
from .tables import MODALITIES
from .winding2023 import SYNAPSE_TYPE_NAMES, SYNAPSE_TYPES

__all__ = [
    "load", "fetch", "locate", "cache_dir", "Connectome", "ConnectomeSummary", "Selection",
    "ConnectomeError", "ConnectomeDataError", "ChecksumError", "DataNotFoundError",
    "SelectionError", "DATASETS", "MODALITIES", "SYNAPSE_TYPES", "SYNAPSE_TYPE_NAMES",
    "available", "load_edge_list", "write_edge_list",
]


def available() -> list[str]:
    """Names of the connectomes larvasim can load."""
    from .connectome import READERS

    return sorted(set(DATASETS) | set(READERS))
