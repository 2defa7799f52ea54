"""Selections of neurons: by cell type, modality, hemisphere, name, id or pair.

A :class:`Selection` is an ordered set of neuron indices of one connectome
that remembers how it was made. Patterns are case-insensitive shell-style
wildcards (``"DAN-*"``, ``"MBON-?1"``); a list means "any of these"; several
keywords combine with AND. Selections combine with ``|``, ``&`` and ``-``.
"""
from __future__ import annotations

import difflib
import fnmatch
import re
from typing import TYPE_CHECKING, Callable, Iterable

import numpy as np
import pandas as pd

from .errors import SelectionError

if TYPE_CHECKING:  # pragma: no cover
    from .connectome import Connectome

__all__ = ["Selection", "select"]

#: Columns whose values are ``;``-separated lists; a pattern matches any token.
TOKEN_COLUMNS = ("modality", "second_order", "mb_name", "annotations")

_HEMI = {"l": "left", "left": "left", "r": "right", "right": "right",
         "unknown": "unknown", "c": "center", "center": "center"}


class Selection:
    """An ordered set of neurons of one :class:`~connectomes.Connectome`.

    Attributes
    ----------
    connectome : Connectome
    indices : ndarray of int64
        Sorted neuron indices (rows of :attr:`Connectome.neurons`).
    description : str
        How the selection was made (used in results and plots).
    """

    def __init__(self, connectome: "Connectome", indices: Iterable[int], description: str = ""):
        self.connectome = connectome
        self.indices = np.unique(np.asarray(list(indices) if not isinstance(indices, np.ndarray)
                                            else indices, dtype=np.int64))
        self.description = description

    # -- views ---------------------------------------------------------------
    @property
    def neurons(self) -> pd.DataFrame:
        """Rows of the neuron table for the selected neurons."""
        return self.connectome.neurons.iloc[self.indices]

    @property
    def ids(self) -> np.ndarray:
        """Skeleton ids of the selected neurons."""
        return self.connectome.neurons["skid"].to_numpy()[self.indices]

    @property
    def labels(self) -> list[str]:
        """Display labels, ``"<label> (<hemisphere>)"``."""
        n = self.neurons
        return [f"{lab} ({hem})" for lab, hem in zip(n["label"], n["hemisphere"])]

    @property
    def left(self) -> "Selection":
        """The left-hemisphere part."""
        return self._filter(self.neurons["hemisphere"].to_numpy() == "left", "left")

    @property
    def right(self) -> "Selection":
        """The right-hemisphere part."""
        return self._filter(self.neurons["hemisphere"].to_numpy() == "right", "right")

    @property
    def provenance(self) -> dict:
        """Provenance of the connectome plus this selection's description."""
        return {**self.connectome.provenance, "selection": self.description}

    def _filter(self, mask, what) -> "Selection":
        return Selection(self.connectome, self.indices[mask], f"{self.description}, {what}")

    # -- set protocol -------------------------------------------------------
    def __len__(self) -> int:
        return len(self.indices)

    def __iter__(self):
        return iter(self.indices.tolist())

    def __array__(self, dtype=None, copy=None):
        return self.indices if dtype is None else self.indices.astype(dtype)

    def __contains__(self, index) -> bool:
        return bool(np.isin(index, self.indices))

    def _check(self, other):
        if not isinstance(other, Selection) or other.connectome is not self.connectome:
            raise TypeError("can only combine selections of the same connectome")

    def __or__(self, other):
        self._check(other)
        return Selection(self.connectome, np.union1d(self.indices, other.indices),
                         f"({self.description}) | ({other.description})")

    def __and__(self, other):
        self._check(other)
        return Selection(self.connectome, np.intersect1d(self.indices, other.indices),
                         f"({self.description}) & ({other.description})")

    def __sub__(self, other):
        self._check(other)
        return Selection(self.connectome, np.setdiff1d(self.indices, other.indices),
                         f"({self.description}) - ({other.description})")

    def __eq__(self, other):
        return (isinstance(other, Selection) and other.connectome is self.connectome
                and np.array_equal(self.indices, other.indices))

    def __hash__(self):
        return hash((id(self.connectome), self.indices.tobytes()))

    def __repr__(self):
        return f"Selection({len(self)} neurons: {self.description})"


def _as_list(value) -> list:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        return [value]
    return list(value)


def _patterns(value, field: str) -> list:
    """The values of one criterion: a value or a non-empty list of values (no tables, no nested lists)."""
    from collections.abc import Mapping

    pats = [] if isinstance(value, Mapping) else _as_list(value)
    if not pats or any(isinstance(p, (Mapping, list, tuple, set, np.ndarray)) for p in pats):
        raise SelectionError(f"{field}={value!r}: give a value or a non-empty list of values")
    return pats


def _skids(value, field: str) -> np.ndarray:
    """Skeleton ids of an ``ids=`` / ``pair_of=`` criterion (numbers, or their text from the command line)."""
    items = list(value.ravel()) if isinstance(value, np.ndarray) else _patterns(value, field)
    if not items:
        raise SelectionError(f"{field}: give at least one skeleton id")
    out = []
    for v in items:
        k = None
        if isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)):
            k = int(v)
        elif isinstance(v, (float, np.floating)) and np.isfinite(v) and float(v).is_integer():
            k = int(v)
        elif isinstance(v, str) and re.fullmatch(r"\s*[-+]?\d+\s*", v):
            k = int(v)
        if k is None or not -2**63 <= k < 2**63:
            raise SelectionError(f"{field}={value!r}: skeleton ids must be whole numbers, got {v!r}")
        out.append(k)
    return np.asarray(out, dtype=np.int64)


def _match_text(values: pd.Series, patterns: list[str], tokens: bool) -> np.ndarray:
    """Rows whose text (or, with ``tokens``, one of its ``;``-separated items) matches a pattern
    (shell-style, case-insensitive). Each distinct text is matched once: a column of 2,952 neurons
    holds at most a few thousand distinct texts and usually far fewer."""
    if not len(patterns):
        return np.zeros(len(values), dtype=bool)
    rx = re.compile("|".join(fnmatch.translate(str(p).lower()) for p in patterns))
    codes, uniques = pd.factorize(values.astype(str).str.lower())
    if tokens:
        hit = [any(rx.match(t.strip()) for t in u.split(";")) for u in uniques]
    else:
        hit = [rx.match(u) is not None for u in uniques]
    return np.asarray(hit, dtype=bool)[codes] if len(codes) else np.zeros(0, dtype=bool)


def _vocabulary(values: pd.Series, tokens: bool) -> list[str]:
    vocab = set()
    for v in pd.unique(values.astype(str)):
        vocab.update(t.strip() for t in v.split(";")) if tokens else vocab.add(v)
    vocab.discard("")
    return sorted(vocab)


def _no_match(field: str, patterns, vocab: list[str]) -> SelectionError:
    lower = {v.lower(): v for v in vocab}
    close = []
    for p in patterns:
        stem = str(p).lower().replace("*", "").replace("?", "")
        close += [lower[c] for c in difflib.get_close_matches(stem, list(lower), n=6, cutoff=0.5)]
        close += [v for v in vocab if stem and stem in v.lower()][:6]
    close = list(dict.fromkeys(close))[:8]
    hint = f" Close matches: {', '.join(close)}." if close else ""
    if len(vocab) <= 40:
        hint += f" Known values: {', '.join(vocab)}."
    return SelectionError(f"no neuron has {field}={patterns if len(patterns) > 1 else patterns[0]!r}.{hint}")


def _name_mask(t: pd.DataFrame, patterns) -> tuple[np.ndarray, Callable[[], list[str]]]:
    """Rows matching a name pattern in any name column; and a function giving those columns' vocabulary
    (for the error message when nothing matches)."""
    cols = [c for c in ("label", "mb_name", "annotations", "name") if c in t.columns]
    mask = np.zeros(len(t), dtype=bool)
    for c in cols:
        mask |= _match_text(t[c], patterns, c in TOKEN_COLUMNS)
    return mask, lambda: sorted({v for c in cols for v in _vocabulary(t[c], c in TOKEN_COLUMNS)})


def select(connectome: "Connectome", *, celltype=None, modality=None, hemisphere=None,
           name=None, ids=None, pair_of=None, allow_empty: bool = False, **columns) -> Selection:
    """Select neurons; see :meth:`connectomes.Connectome.select` for the parameters."""
    t = connectome.neurons
    n = len(t)
    mask = np.ones(n, dtype=bool)
    parts: list[str] = []
    counts: list[str] = []

    def apply(field: str, m: np.ndarray, patterns, vocab):
        nonlocal mask
        if not m.any():
            raise _no_match(field, patterns, vocab() if callable(vocab) else vocab)
        mask &= m
        shown = patterns if len(patterns) > 1 else patterns[0]
        parts.append(f"{field}={shown!r}")
        counts.append(f"{field}={shown!r}: {int(m.sum())}")

    criteria = {"celltype": celltype, "modality": modality, **columns}
    for field, value in criteria.items():
        if value is None:
            continue
        if field not in t.columns:
            close = difflib.get_close_matches(field, list(t.columns), n=5)
            raise SelectionError(
                f"the neuron table has no column {field!r}"
                + (f"; close: {', '.join(close)}" if close else "")
                + f". Columns: {', '.join(t.columns)}"
            )
        pats = _patterns(value, field)
        col = t[field]
        if col.dtype == bool or col.dtype.kind in "iuf":
            m = col.isin(pats).to_numpy()
            apply(field, m, pats, sorted(map(str, col.unique()))[:40])
        else:
            tok = field in TOKEN_COLUMNS
            apply(field, _match_text(col, pats, tok), pats, lambda: _vocabulary(col, tok))
    if hemisphere is not None:
        pats = _patterns(hemisphere, "hemisphere")
        want = []
        for h in pats:
            if str(h).lower() not in _HEMI:
                raise SelectionError(f"hemisphere={h!r} is not one of left, right, L, R, unknown")
            want.append(_HEMI[str(h).lower()])
        apply("hemisphere", t["hemisphere"].isin(want).to_numpy(), pats,
              sorted(t["hemisphere"].unique()))
    if name is not None:
        pats = _patterns(name, "name")
        m, vocab = _name_mask(t, pats)
        apply("name", m, pats, vocab)
    if ids is not None:
        want = _skids(ids, "ids")
        known = np.isin(want, t["skid"].to_numpy())
        if not known.all():
            raise SelectionError(
                "skeleton id(s) not in the connectome: " + ", ".join(map(str, want[~known][:10]))
            )
        apply("ids", t["skid"].isin(want).to_numpy(), [f"{len(want)} ids"], [])
    if pair_of is not None:
        if isinstance(pair_of, Selection):
            base = pair_of.indices
        else:
            base = connectome.index_of(_skids(pair_of, "pair_of"))
        partners = t["pair_index"].to_numpy()[base]
        m = np.zeros(n, dtype=bool)
        m[base] = True
        m[partners[partners >= 0]] = True
        apply("pair_of", m, [f"{len(base)} neurons"], [])
    desc = ", ".join(parts) if parts else "all neurons"
    if not mask.any() and not allow_empty:
        raise SelectionError(
            f"the combination {desc} matches no neuron (each alone matches: {'; '.join(counts)})"
        )
    return Selection(connectome, np.flatnonzero(mask), desc)
