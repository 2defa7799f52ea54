"""Neuron indices from what a user gives the analysis functions: a Selection, indices, a name or select keywords."""
from __future__ import annotations

import numpy as np


def neuron_indices(connectome, what, *, who: str, role: str) -> np.ndarray:
    """Sorted unique indices of ``what``: a Selection, an array of indices, a neuron name (shell wildcards,
    e.g. ``"MBON-m1"``) or a dict of ``connectome.select`` keywords. Errors start with ``who`` (the function)
    and name the ``role`` (``"target"``, ``"source"``): an empty selection, an index out of range."""
    if isinstance(what, str):
        what = {"name": what}
    if isinstance(what, dict):
        what = connectome.select(**what)
    idx = np.unique(np.asarray(getattr(what, "indices", what), dtype=np.int64).ravel())
    if idx.size == 0:
        raise ValueError(f"{who}: the {role} selects no neuron ({what!r})")
    if idx.min() < 0 or idx.max() >= connectome.n_neurons:
        raise ValueError(f"{who}: {role} indices must lie in [0, {connectome.n_neurons}), got {idx.min()}..{idx.max()}")
    return idx
