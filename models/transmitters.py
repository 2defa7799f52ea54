"""Curated neurotransmitter identities for the ``literature`` sign policy.

Data S1 of Winding et al. (2023, Science 379:eadd9330) carries no
transmitter identities.  This module holds a small, hand-curated table of
larval neuron types whose transmitter has been reported in the literature,
one source per row, and the code that applies it to a list of neurons.

The table
---------
``models/data/transmitters.csv`` (loaded by :func:`load_table`) has the
columns

``pattern``
    a case-insensitive :mod:`fnmatch` pattern (``*``, ``?``, ``[seq]``)
    that must match a *whole* name, e.g. ``MBON-e1`` or ``picky [0-9]*``;
``field``
    what the pattern is matched against: ``name`` (any of the neuron's
    names: the ``;``-separated tokens of Data S1 ``additional_annotations``
    such as ``MBON-e1``, ``APL``, ``uPN``, and/or the CATMAID name of the
    Pedigo et al. 2023 node table such as ``picky 0 left``), ``celltype``
    (the Data S1 cell type, e.g. ``KC``) or ``class2`` (the Pedigo et al.
    2023 ``class2`` column, e.g. ``ORN``);
``transmitter``
    one of :data:`TRANSMITTERS` (case-insensitive in files, canonical
    spelling after loading);
``source``
    one short citation (authors, year, journal volume:page, where in the
    paper);
``evidence``
    how the identity was established (immunostaining, GAL4 line,
    "inferred from ...");
``note``
    caveats.

Unknown neurons -- those no row matches -- get ``None`` from :func:`match`;
the ``literature`` sign policy treats them as excitatory (+1, see
:data:`DEFAULT_SIGN`).

Precedence
----------
:func:`match` walks the table **in row order** and the **first** matching
row wins.  Specific rows (one identified cell type) must therefore come
before general rows (a whole cell class such as ``celltype == KC``); the
packaged table is ordered that way.

Signs and the glutamate assumption
----------------------------------
:func:`sign_of` maps a transmitter to the sign of its fast synapses:

============================  ==========================================
acetylcholine                 +1 (nicotinic receptors)
GABA                          -1 (GABA-A / Rdl chloride channels)
glutamate                     -1 -- **assumption**, see below
dopamine, octopamine,         :data:`MODULATORY` (= 0): no fast sign; the
tyramine, serotonin           network builder decides what (if any) fast
                              synapse these neurons get
``None`` (unknown)            ``default`` (:data:`DEFAULT_SIGN` = +1)
============================  ==========================================

*Glutamate is treated as inhibitory.*  In the Drosophila central brain the
main postsynaptic glutamate receptor is the glutamate-gated chloride channel
GluCl, so glutamate release usually hyperpolarises its targets; in the adult
antennal lobe glutamatergic local neurons inhibit projection neurons through
GluCl (Liu & Wilson 2013, PNAS 110:10294).  Excitatory ionotropic glutamate
receptors are also expressed in the fly CNS, so this is a simplifying
assumption, not a measurement for each larval synapse.

This module takes plain Python sequences and has no dependency on the
``connectomes`` package.
"""
from __future__ import annotations

import fnmatch
import os
import re
from pathlib import Path
from typing import Iterable, Optional, Sequence, Union

import numpy as np
import pandas as pd

__all__ = [
    "DEFAULT_TABLE",
    "TRANSMITTERS",
    "FIELDS",
    "MODULATORY",
    "DEFAULT_SIGN",
    "TransmitterTableError",
    "load_table",
    "sign_of",
    "signs_of",
    "match",
    "match_counts",
]

#: The packaged table.
DEFAULT_TABLE = Path(__file__).resolve().parent / "data" / "transmitters.csv"

#: Canonical transmitter names (lower-case key -> canonical spelling).
TRANSMITTERS = {
    "acetylcholine": "acetylcholine",
    "gaba": "GABA",
    "glutamate": "glutamate",
    "dopamine": "dopamine",
    "octopamine": "octopamine",
    "tyramine": "tyramine",
    "serotonin": "serotonin",
}

#: Allowed values of the ``field`` column.
FIELDS = ("name", "celltype", "class2")

#: Sign returned for neuromodulators (no fast ionotropic sign).
MODULATORY = 0

#: Sign used for neurons without a known transmitter.
DEFAULT_SIGN = 1

_SIGNS = {
    "acetylcholine": 1,
    "GABA": -1,
    "glutamate": -1,  # assumption: GluCl (see module docstring)
    "dopamine": MODULATORY,
    "octopamine": MODULATORY,
    "tyramine": MODULATORY,
    "serotonin": MODULATORY,
}

_REQUIRED = ("pattern", "field", "transmitter")
_OPTIONAL = ("source", "evidence", "note")
_COLUMNS = _REQUIRED + _OPTIONAL


class TransmitterTableError(ValueError):
    """A transmitter table is malformed (message names file, row, column)."""


def csv_location(path, row: Optional[int] = None, column: Optional[str] = None) -> str:
    """``"<file>: row R (line L), column 'C'"`` for error messages about CSV files.

    ``row`` is the 0-based data row; lines count the header as line 1.
    """
    where = f"{path}"
    if row is not None:
        where += f": row {row + 1} (line {row + 2})"
    if column is not None:
        where += f", column '{column}'"
    return where


def _err(path, msg: str, row: Optional[int] = None, column: Optional[str] = None):
    return TransmitterTableError(f"{csv_location(path, row, column)}: {msg}")


def load_table(path: Union[str, os.PathLike, None] = None) -> pd.DataFrame:
    """Load and validate a transmitter table.

    Parameters
    ----------
    path:
        A CSV file with the columns ``pattern, field, transmitter`` and,
        optionally, ``source, evidence, note`` (missing optional columns are
        filled with empty strings).  ``None`` loads the packaged table.

    Returns
    -------
    pandas.DataFrame
        All six columns as strings, in file order, with ``field`` lower-cased
        and ``transmitter`` in canonical spelling (see :data:`TRANSMITTERS`).

    Raises
    ------
    FileNotFoundError
        if the file does not exist;
    TransmitterTableError
        for an unreadable CSV, a missing or unknown column, or a bad value;
        the message names the file, the row (1-based, and its line in the
        file) and the column.  The packaged table must also give a source
        for every row.
    """
    packaged = path is None
    p = DEFAULT_TABLE if packaged else Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"transmitter table not found: {p}")
    try:
        df = pd.read_csv(p, dtype=str, keep_default_na=False, skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
        raise _err(p, f"cannot parse CSV ({e})") from e

    df.columns = [str(c).strip() for c in df.columns]
    unknown = [c for c in df.columns if c not in _COLUMNS]
    if unknown:
        raise _err(p, f"unknown column(s) {unknown}; allowed: {list(_COLUMNS)}",
                   column=unknown[0])
    for c in _REQUIRED:
        if c not in df.columns:
            raise _err(p, f"missing required column; required: {list(_REQUIRED)}", column=c)
    if packaged:
        for c in _OPTIONAL:
            if c not in df.columns:
                raise _err(p, "missing column in the packaged table", column=c)
    for c in _OPTIONAL:
        if c not in df.columns:
            df[c] = ""
    df = df[list(_COLUMNS)].copy()
    for c in _COLUMNS:
        df[c] = df[c].astype(str).str.strip()

    fields, transmitters = [], []
    for i, row in enumerate(df.itertuples(index=False)):
        if not row.pattern:
            raise _err(p, "empty pattern", row=i, column="pattern")
        f = row.field.lower()
        if f not in FIELDS:
            raise _err(p, f"invalid value {row.field!r}; expected one of {list(FIELDS)}",
                       row=i, column="field")
        t = TRANSMITTERS.get(row.transmitter.lower())
        if t is None:
            raise _err(p, f"unknown transmitter {row.transmitter!r}; expected one of "
                          f"{sorted(TRANSMITTERS.values())}", row=i, column="transmitter")
        if packaged and not row.source:
            raise _err(p, "every row of the packaged table needs a source",
                       row=i, column="source")
        fields.append(f)
        transmitters.append(t)
    df["field"] = fields
    df["transmitter"] = transmitters
    return df.reset_index(drop=True)


def sign_of(transmitter: Optional[str], default: int = DEFAULT_SIGN) -> int:
    """Fast-synapse sign of a transmitter.

    ``acetylcholine`` -> +1; ``GABA`` -> -1; ``glutamate`` -> -1 (assumption,
    see the module docstring); ``dopamine``, ``octopamine``, ``tyramine``,
    ``serotonin`` -> :data:`MODULATORY` (0): these have no fast ionotropic
    sign and the network builder decides what synapses such neurons get.
    ``None`` (unknown transmitter) -> ``default`` (+1 under the
    ``literature`` policy).  Names are case-insensitive; any other name
    raises ``ValueError``.
    """
    if transmitter is None or (isinstance(transmitter, float) and np.isnan(transmitter)):
        return int(default)
    canon = TRANSMITTERS.get(str(transmitter).strip().lower())
    if canon is None:
        raise ValueError(f"unknown transmitter {transmitter!r}; expected one of "
                         f"{sorted(TRANSMITTERS.values())} or None")
    return _SIGNS[canon]


def signs_of(transmitters: Iterable[Optional[str]], default: int = DEFAULT_SIGN) -> np.ndarray:
    """Vectorised :func:`sign_of`; returns an ``int8`` array."""
    return np.array([sign_of(t, default) for t in transmitters], dtype=np.int8)


def _names_list(x) -> list:
    if x is None:
        return []
    if isinstance(x, float) and np.isnan(x):
        return []
    if isinstance(x, str):
        return [x.strip()] if x.strip() else []
    return [str(n).strip() for n in x if n is not None and str(n).strip()]


def _scalar(x) -> Optional[str]:
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return None
    s = str(x).strip()
    return s or None


def _compile(pattern: str) -> "re.Pattern":
    return re.compile(fnmatch.translate(pattern), re.IGNORECASE)


def _prepare(names_per_neuron, celltypes, class2):
    n = len(names_per_neuron)
    if len(celltypes) != n:
        raise ValueError(f"celltypes has {len(celltypes)} entries, names_per_neuron has {n}")
    if class2 is not None and len(class2) != n:
        raise ValueError(f"class2 has {len(class2)} entries, names_per_neuron has {n}")
    names = [_names_list(x) for x in names_per_neuron]
    cts = [_scalar(x) for x in celltypes]
    c2s = [None] * n if class2 is None else [_scalar(x) for x in class2]
    return n, {"name": names, "celltype": [[c] if c else [] for c in cts],
               "class2": [[c] if c else [] for c in c2s]}


def _row_hits(table: pd.DataFrame, values: dict, n: int):
    """Yield (row index, boolean array of neurons the row matches)."""
    for i, (pattern, field) in enumerate(zip(table["pattern"], table["field"])):
        rx = _compile(pattern)
        hits = np.fromiter((any(rx.match(v) for v in vals) for vals in values[field]),
                           dtype=bool, count=n)
        yield i, hits


def match(table: pd.DataFrame,
          names_per_neuron: Sequence[Union[str, Sequence[str], None]],
          celltypes: Sequence[Optional[str]],
          class2: Optional[Sequence[Optional[str]]] = None):
    """Assign a transmitter and its source to each neuron.

    Parameters
    ----------
    table:
        from :func:`load_table`.
    names_per_neuron:
        one entry per neuron: a sequence of names (annotation tokens and/or
        the CATMAID name), a single string (one name), or ``None``.
    celltypes:
        one Data S1 cell type per neuron (``None`` or ``""`` if unknown).
    class2:
        optional Pedigo et al. ``class2`` per neuron; rows with
        ``field == class2`` never match when this is ``None``.

    Returns
    -------
    (transmitters, sources):
        two ``object`` arrays of length ``n``; for each neuron the
        transmitter and source of the **first** table row (in table order)
        that matches it, or ``None`` where no row matches.
    """
    n, values = _prepare(names_per_neuron, celltypes, class2)
    tx = np.full(n, None, dtype=object)
    src = np.full(n, None, dtype=object)
    done = np.zeros(n, dtype=bool)
    for i, hits in _row_hits(table, values, n):
        new = hits & ~done
        if new.any():
            tx[new] = table["transmitter"].iat[i]
            src[new] = table["source"].iat[i] if "source" in table else ""
            done |= new
    return tx, src


def match_counts(table: pd.DataFrame,
                 names_per_neuron: Sequence[Union[str, Sequence[str], None]],
                 celltypes: Sequence[Optional[str]],
                 class2: Optional[Sequence[Optional[str]]] = None) -> pd.DataFrame:
    """How many neurons each row matches.

    Returns a copy of ``table`` with two extra columns: ``n_matched`` (all
    neurons the row's pattern matches, regardless of precedence) and
    ``n_assigned`` (neurons for which this row is the first match, i.e.
    the row that :func:`match` uses).  A row with ``n_matched == 0`` is a
    dead entry for this data set.
    """
    n, values = _prepare(names_per_neuron, celltypes, class2)
    done = np.zeros(n, dtype=bool)
    matched, assigned = [], []
    for _, hits in _row_hits(table, values, n):
        matched.append(int(hits.sum()))
        assigned.append(int((hits & ~done).sum()))
        done |= hits
    out = table.copy()
    out["n_matched"] = matched
    out["n_assigned"] = assigned
    return out
