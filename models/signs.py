"""Sign policies: the fast-synapse sign (+1, -1 or 0) of every presynaptic neuron.

Data S1 of Winding et al. (2023, Science 379:eadd9330) gives synapse counts but
no transmitter identities, so whether a neuron excites or inhibits its targets
is a modelling choice.  :func:`assign_signs` makes that choice explicit and
reproducible: it applies a named *policy* to a :class:`connectomes.Connectome`
and returns a :class:`SignAssignment` -- one sign per neuron (in the order of
``connectome.neurons``, i.e. the rows of ``connectome.weights()``), the
transmitter and source behind it, and the options needed to reproduce it.

Policies
--------
``"excitatory"``
    Every neuron +1, literally: dopaminergic and other modulatory neurons
    included (``modulatory`` is ignored; no transmitter table is consulted).
``"literature"``
    The curated table ``models/data/transmitters.csv`` (or ``table=``) applied
    with :func:`models.transmitters.match`: acetylcholine +1, GABA -1,
    glutamate -1 (**an assumption**: the main glutamate receptor of the fly
    central brain is the chloride channel GluCl, see
    :mod:`models.transmitters`), modulatory transmitters (dopamine,
    octopamine, tyramine, serotonin) as ``modulatory`` says, and every neuron
    the table does not cover ("unknown") +1.
``"random"``
    ``"literature"``, then ``round(fraction * n_unknown)`` of the unknown
    neurons (Python's ``round``) made -1, drawn without replacement by
    ``numpy.random.default_rng(seed)`` from the unknown neurons sorted by
    skeleton id (so the draw does not depend on the matrix order).  Known
    neurons keep their literature sign.  ``fraction`` and ``seed`` are
    required.  For robustness checks: "does the result survive unknown
    inhibition?".
``"csv"``
    A user CSV (``csv=`` path, see below) applied on top of a ``base`` policy
    (default ``"literature"``; ``"excitatory"`` or ``"random"`` also work).
    ``policy`` may also be the path of the CSV itself
    (``assign_signs(c, "my_signs.csv")``): a :class:`os.PathLike`, or a
    string ending in ``.csv``.

Modulatory neurons
------------------
Dopaminergic, octopaminergic, tyraminergic and serotonergic neurons act
mainly through metabotropic receptors (slow modulation, and plasticity at
the Kenyon cell -> MBON synapses), not fast excitation or inhibition.  Their
fast sign is a documented choice, ``modulatory=``:

``"none"`` (default)  sign 0: their synapses have no fast effect
``"excitatory"``      sign +1
``"inhibitory"``      sign -1

It applies to neurons whose sign comes from a modulatory *transmitter*
(literature table or a CSV ``transmitter`` entry); an explicit numeric sign
in a CSV is used as given.  Under ``"excitatory"`` it has no effect.

User CSV
--------
A header line and one row per rule.  Columns (any order, names
case-insensitive):

``skid`` or ``name``
    which neurons: a skeleton id (integer), or a name pattern matched exactly
    like ``Connectome.select(name=...)`` (case-insensitive shell wildcards
    against the label, mushroom-body name, each ``;``-separated annotation
    token and, when present, the Pedigo CATMAID name; e.g. ``DAN-*``,
    ``MBON-i1``, ``picky ?``).  Each row fills exactly one of the two; the
    file may have both columns.
``sign`` or ``transmitter``
    what they get: ``+1``, ``-1`` or ``0``; or a transmitter name (one of
    :data:`models.transmitters.TRANSMITTERS`, signed by
    :func:`models.transmitters.sign_of` and ``modulatory``).  Each row fills
    exactly one of the two.
``source``, ``note``
    optional free text; ``source`` is reported as the neuron's source.

**Precedence: later rows override earlier ones** (write general rules first,
exceptions after).  This is the opposite of the curated transmitter table,
where the first matching row wins.  Rows override the ``base`` policy for
the neurons they match; all other neurons keep the base sign.

Errors (:class:`SignCSVError`, a ``ValueError``) name the file, the row
(1-based data row and its line in the file) and the column: unreadable CSV,
unknown or missing columns, a row filling both or neither of
``skid``/``name`` or ``sign``/``transmitter``, a malformed id or sign, an
unknown transmitter, and -- deliberately an **error, not a warning** -- a
skeleton id or pattern that matches no neuron of the connectome (a typo
would otherwise silently change nothing; the message lists close names).

Example::

    name,skid,sign,transmitter,source
    MBON-*,,,glutamate,my assumption
    MBON-e1,,,acetylcholine,Eichler 2017
    ,16846805,-1,,lab notebook p. 12

Module size: just over 600 lines: the sign policies and the sourced table reader with its error
messages.
"""
from __future__ import annotations

import hashlib
import json
import numbers
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Union

import numpy as np
import pandas as pd

from . import transmitters as _tx

__all__ = [
    "POLICIES",
    "MODULATORY_CHOICES",
    "MODULATORY_TRANSMITTERS",
    "SignAssignment",
    "SignPolicyError",
    "SignCSVError",
    "assign_signs",
    "available_policies",
    "literature_transmitters",
    "neuron_names",
]

#: Named policies (a CSV path is accepted as ``policy`` too).
POLICIES = ("excitatory", "literature", "random", "csv")

#: Allowed values of ``modulatory`` and the fast sign each gives.
MODULATORY_CHOICES = {"none": 0, "excitatory": 1, "inhibitory": -1}

#: Transmitters without a fast ionotropic sign (``sign_of`` gives MODULATORY).
MODULATORY_TRANSMITTERS = tuple(t for t in _tx.TRANSMITTERS.values()
                                if _tx.sign_of(t) == _tx.MODULATORY)

_CSV_TARGET = ("skid", "name")
_CSV_VALUE = ("sign", "transmitter")
_CSV_COLUMNS = _CSV_TARGET + _CSV_VALUE + ("source", "note")
_BASES = ("excitatory", "literature", "random")

PathLike = Union[str, os.PathLike]


class SignPolicyError(ValueError):
    """A sign policy was asked for with invalid or missing options."""


class SignCSVError(SignPolicyError):
    """A user sign CSV is malformed (the message names file, row and column)."""


# --------------------------------------------------------------------------
# the result
# --------------------------------------------------------------------------

def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a)
    a.setflags(write=False)
    return a


def _sign_key(s: int) -> str:
    return {1: "+1", -1: "-1", 0: "0"}[int(s)]


@dataclass(frozen=True, eq=False)
class SignAssignment:
    """One fast-synapse sign per neuron, with where it came from.

    Arrays are read-only and aligned with ``connectome.neurons`` (row ``i`` =
    neuron index ``i`` = row ``i`` of ``connectome.weights()``).

    Attributes
    ----------
    signs : ndarray of int8
        +1 (excitatory), -1 (inhibitory) or 0 (no fast effect).
    transmitters : ndarray of object
        Canonical transmitter name behind the sign, or ``None`` (unknown, or
        a numeric sign from a CSV, or the ``excitatory`` policy).
    sources : ndarray of object
        Why the neuron has this sign: the table's citation, ``"<csv> row N"``
        (plus its ``source`` text), ``"random (...)"``; ``""`` for the policy
        default (unknown -> +1, or everything under ``excitatory``).
    policy : str
        ``"excitatory"``, ``"literature"``, ``"random"`` or ``"csv"``.
    options : dict
        JSON-serialisable; everything needed to reproduce the assignment
        (table path + SHA-256, fraction, seed, csv path + SHA-256, base,
        modulatory).
    skids, celltypes : ndarray
        Skeleton id and Data S1 cell type of each neuron.
    connectome : str
        Name of the data set (``connectome.name``).
    edge_rules : tuple of models.receptors.EdgeRule
        Receptor rules: synapse-level exceptions to the presynaptic sign
        (``receptors=`` of :func:`assign_signs`); empty by default. Use
        :meth:`edge_signs` for the sign of each synapse.
    """

    signs: np.ndarray
    transmitters: np.ndarray
    sources: np.ndarray
    policy: str
    options: dict
    skids: np.ndarray
    celltypes: np.ndarray
    connectome: str = ""
    edge_rules: tuple = ()

    def __post_init__(self):
        n = len(self.signs)
        for f in ("transmitters", "sources", "skids", "celltypes"):
            if len(getattr(self, f)) != n:
                raise ValueError(f"SignAssignment.{f} has {len(getattr(self, f))} entries, "
                                 f"signs has {n}")
        for f in ("signs", "transmitters", "sources", "skids", "celltypes"):
            object.__setattr__(self, f, _readonly(getattr(self, f)))

    def __len__(self) -> int:
        return len(self.signs)

    def edge_signs(self, pre, post) -> np.ndarray:
        """The fast sign of each synapse ``pre[k] -> post[k]`` (neuron indices): the presynaptic neuron's,
        except where a receptor rule (:attr:`edge_rules`) says otherwise."""
        from .receptors import edge_signs

        return edge_signs(self.edge_rules, pre, post, self.signs)

    @property
    def counts(self) -> dict:
        """``{"+1": n, "-1": n, "0": n}`` over all neurons."""
        return {k: int((self.signs == v).sum()) for k, v in (("+1", 1), ("-1", -1), ("0", 0))}

    def summary(self) -> pd.DataFrame:
        """Counts of +1 / -1 / 0 per cell type (rows sorted), plus an ``all`` row.

        Columns ``"+1"``, ``"-1"``, ``"0"``, ``"total"``; index ``celltype``.
        """
        df = pd.DataFrame({"celltype": self.celltypes.astype(str),
                           "sign": [_sign_key(s) for s in self.signs]})
        out = pd.crosstab(df["celltype"], df["sign"])
        out = out.reindex(columns=["+1", "-1", "0"], fill_value=0).astype(int)
        out.loc["all"] = out.sum(axis=0)
        out["total"] = out.sum(axis=1)
        out.columns.name = None
        return out

    def coverage(self, connectome) -> dict:
        """How much of the brain has a sourced sign (not the policy's default).

        Parameters
        ----------
        connectome : connectomes.Connectome
            The connectome the signs were assigned on (for the synapse counts).

        Returns
        -------
        dict
            ``neurons`` and ``synapses``: the number of neurons with a source and
            the number of (outgoing) synapses they make; ``frac_neurons`` and
            ``frac_synapses``: their shares; ``inhibitory``: neurons with sign -1.
        """
        sourced = np.array([bool(s) for s in self.sources])
        out_syn = np.asarray(connectome.weights().sum(axis=1)).ravel()
        return {"neurons": int(sourced.sum()), "frac_neurons": float(sourced.mean()),
                "synapses": int(out_syn[sourced].sum()), "frac_synapses": float(out_syn[sourced].sum() / out_syn.sum()),
                "inhibitory": int((self.signs < 0).sum()), "n_neurons": int(len(self))}

    def to_dict(self) -> dict:
        """JSON-serialisable description for results metadata.

        Keys: ``policy``, ``options``, ``connectome``, ``n_neurons``,
        ``counts`` (+1/-1/0) and ``transmitters`` (neurons per transmitter,
        ``"unknown"`` for ``None``).  Per-neuron arrays are not included.
        """
        tx = pd.Series([t if t is not None else "unknown" for t in self.transmitters],
                       dtype=object).value_counts()
        return {
            "policy": self.policy,
            "options": json.loads(json.dumps(self.options)),
            "connectome": self.connectome,
            "n_neurons": int(len(self)),
            "counts": self.counts,
            "transmitters": {str(k): int(v) for k, v in sorted(tx.items())},
            **({"receptor_rules": [r.to_dict() for r in self.edge_rules]} if self.edge_rules else {}),
        }

    def __repr__(self) -> str:
        c = self.counts
        return (f"<SignAssignment {self.policy}: {len(self)} neurons, "
                f"+1={c['+1']}, -1={c['-1']}, 0={c['0']}>")


# --------------------------------------------------------------------------
# names and the literature table
# --------------------------------------------------------------------------

def _tokens(text) -> list:
    if text is None or (isinstance(text, float) and np.isnan(text)):
        return []
    return [t.strip() for t in str(text).split(";") if t.strip()]


def neuron_names(connectome) -> list:
    """The names the literature table is matched against, per neuron.

    For each row of ``connectome.neurons``: the ``;``-separated tokens of
    ``annotations`` (Data S1 ``additional_annotations``) and of ``mb_name``,
    the ``label`` (unless it is larvasim's ``"<celltype> <skid>"``
    fallback) and, when the Pedigo et al. 2023 table was merged, the CATMAID
    ``name``; duplicates removed, order kept.
    """
    t = connectome.neurons
    has_name = "name" in t.columns
    out = []
    for i, row in enumerate(t.itertuples(index=False)):
        names = _tokens(row.annotations) + _tokens(row.mb_name)
        label = str(row.label).strip()
        if label and label != f"{row.celltype} {row.skid}":
            names.append(label)
        if has_name:
            nm = t["name"].iat[i]
            if isinstance(nm, str) and nm.strip():
                names.append(nm.strip())
        out.append(list(dict.fromkeys(names)))
    return out


def _class2(connectome) -> Optional[list]:
    t = connectome.neurons
    if "class2" not in t.columns:
        return None
    return [v if isinstance(v, str) and v.strip() else None for v in t["class2"]]


def _load_table(table):
    """(table DataFrame, options dict describing it)."""
    if isinstance(table, pd.DataFrame):
        missing = [c for c in ("pattern", "field", "transmitter") if c not in table.columns]
        if missing:
            raise SignPolicyError(f"table DataFrame lacks column(s) {missing} "
                                  "(use models.transmitters.load_table)")
        digest = hashlib.sha256(table.to_csv(index=False).encode()).hexdigest()
        return table, {"table": "<DataFrame>", "table_sha256": digest}
    path = _tx.DEFAULT_TABLE if table is None else Path(table)
    df = _tx.load_table(None if table is None else path)
    return df, {"table": "packaged" if table is None else str(Path(path).resolve()),
                "table_sha256": _sha256(path)}


def literature_transmitters(connectome, table=None):
    """Transmitter and source per neuron from the literature table.

    Parameters
    ----------
    connectome : connectomes.Connectome
    table : None, path or DataFrame
        ``None`` = the packaged ``models/data/transmitters.csv``; a path is
        loaded with :func:`models.transmitters.load_table`.

    Returns
    -------
    (transmitters, sources) : two object arrays, ``None`` where unknown.
    """
    df, _ = _load_table(table)
    return _match(connectome, df)


def _match(connectome, df):
    return _tx.match(df, neuron_names(connectome), connectome.neurons["celltype"].tolist(),
                     _class2(connectome))


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------

def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _signs_from_transmitters(tx: np.ndarray, modulatory: str) -> np.ndarray:
    mod = MODULATORY_CHOICES[modulatory]
    out = np.empty(len(tx), dtype=np.int8)
    for i, t in enumerate(tx):
        out[i] = mod if t in MODULATORY_TRANSMITTERS else _tx.sign_of(t)
    return out


def available_policies() -> tuple:
    """Names accepted by :func:`assign_signs` (a CSV path is accepted too)."""
    return POLICIES


def _is_csv_path(policy) -> bool:
    if isinstance(policy, os.PathLike):
        return True
    return isinstance(policy, str) and policy.strip().lower().endswith(".csv")


def _check_fraction_seed(fraction, seed):
    if fraction is None or seed is None:
        missing = [n for n, v in (("fraction", fraction), ("seed", seed)) if v is None]
        raise SignPolicyError(
            f"the random policy needs {' and '.join(missing)}: e.g. "
            "assign_signs(c, 'random', fraction=0.2, seed=1) makes 20% of the neurons "
            "without a known transmitter inhibitory, drawn with seed 1")
    if isinstance(fraction, bool) or not isinstance(fraction, numbers.Real) \
            or not 0.0 <= float(fraction) <= 1.0:
        raise SignPolicyError(f"fraction must be a number in [0, 1], got {fraction!r}")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or int(seed) < 0:
        raise SignPolicyError(f"seed must be a non-negative integer, got {seed!r}")
    return float(fraction), int(seed)


# --------------------------------------------------------------------------
# user CSV
# --------------------------------------------------------------------------

def _csv_err(path, msg, row=None, column=None) -> SignCSVError:
    return SignCSVError(f"{_tx.csv_location(path, row, column)}: {msg}")


def _parse_sign(text: str, path, row) -> int:
    try:
        v = float(text)
    except ValueError:
        hint = ""
        if text.strip().lower() in _tx.TRANSMITTERS:
            hint = "; put transmitter names in a 'transmitter' column"
        raise _csv_err(path, f"invalid sign {text!r}; expected +1, -1 or 0{hint}",
                       row=row, column="sign") from None
    if v not in (1.0, -1.0, 0.0):
        raise _csv_err(path, f"invalid sign {text!r}; expected +1, -1 or 0",
                       row=row, column="sign")
    return int(v)


def _read_rule_table(path: Path, kind: str, allowed) -> pd.DataFrame:
    """A rule CSV (sign or receptor rules) as strings, column names stripped and lower-cased; errors name the
    file and column: missing file, unparseable CSV, an unknown or duplicated column."""
    if not path.is_file():
        raise FileNotFoundError(f"{kind} CSV not found: {path}")
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
        raise _csv_err(path, f"cannot parse CSV ({e})") from e
    df.columns = [str(c).strip().lower() for c in df.columns]
    unknown = [c for c in df.columns if c not in allowed]
    if unknown:
        raise _csv_err(path, f"unknown column(s) {unknown}; allowed: {list(allowed)}", column=unknown[0])
    dup = [c for c in df.columns if list(df.columns).count(c) > 1]
    if dup:
        raise _csv_err(path, "duplicated column", column=dup[0])
    return df


def _read_csv_rules(path: Path) -> list:
    """Parse and validate a sign CSV into rules (no connectome needed)."""
    df = _read_rule_table(path, "sign", _CSV_COLUMNS)
    if not any(c in df.columns for c in _CSV_TARGET):
        raise _csv_err(path, "needs a 'skid' or a 'name' column", column="skid/name")
    if not any(c in df.columns for c in _CSV_VALUE):
        raise _csv_err(path, "needs a 'sign' or a 'transmitter' column", column="sign/transmitter")
    if len(df) == 0:
        raise _csv_err(path, "has no data rows")
    for c in _CSV_COLUMNS:
        df[c] = df[c].astype(str).str.strip() if c in df.columns else ""

    rules = []
    for i, r in enumerate(df.itertuples(index=False)):
        if r.skid and r.name:
            raise _csv_err(path, f"fill either 'skid' or 'name', not both (skid={r.skid!r}, "
                                 f"name={r.name!r})", row=i, column="skid")
        if not r.skid and not r.name:
            col = "name" if "name" in df.columns else "skid"
            raise _csv_err(path, "empty: each row needs a skeleton id ('skid') or a name "
                                 "pattern ('name')", row=i, column=col)
        if r.sign and r.transmitter:
            raise _csv_err(path, f"fill either 'sign' or 'transmitter', not both "
                                 f"(sign={r.sign!r}, transmitter={r.transmitter!r})",
                           row=i, column="sign")
        if not r.sign and not r.transmitter:
            col = "sign" if "sign" in df.columns else "transmitter"
            raise _csv_err(path, "empty: each row needs a sign (+1/-1/0) or a transmitter",
                           row=i, column=col)
        skid = None
        if r.skid:
            try:
                skid = int(r.skid)
            except ValueError:
                raise _csv_err(path, f"invalid skeleton id {r.skid!r}; expected an integer",
                               row=i, column="skid") from None
        sign = transmitter = None
        if r.sign:
            sign = _parse_sign(r.sign, path, i)
        else:
            transmitter = _tx.TRANSMITTERS.get(r.transmitter.lower())
            if transmitter is None:
                raise _csv_err(path, f"unknown transmitter {r.transmitter!r}; expected one of "
                                     f"{sorted(_tx.TRANSMITTERS.values())}",
                               row=i, column="transmitter")
        label = f"{path.name} row {i + 1}" + (f": {r.source}" if r.source else "")
        rules.append({"row": i, "skid": skid, "name": r.name or None, "sign": sign,
                      "transmitter": transmitter, "source": label})
    return rules


def _apply_csv(connectome, path: Path, signs, tx, src, modulatory) -> int:
    from connectomes.errors import SelectionError

    rules = _read_csv_rules(path)
    index = pd.Index(connectome.neurons["skid"].to_numpy())
    mod = MODULATORY_CHOICES[modulatory]
    for r in rules:
        if r["skid"] is not None:
            k = index.get_indexer([r["skid"]])[0]
            if k < 0:
                raise _csv_err(path, f"skeleton id {r['skid']} is not a neuron of "
                                     f"{connectome.name}", row=r["row"], column="skid")
            idx = np.array([k])
        else:
            try:
                idx = connectome.select(name=r["name"]).indices
            except SelectionError as e:
                raise _csv_err(path, f"pattern {r['name']!r} matches no neuron ({e})",
                               row=r["row"], column="name") from None
        if r["sign"] is not None:
            signs[idx] = r["sign"]
            tx[idx] = None
        else:
            t = r["transmitter"]
            signs[idx] = mod if t in MODULATORY_TRANSMITTERS else _tx.sign_of(t)
            tx[idx] = t
        src[idx] = r["source"]
    return len(rules)


# --------------------------------------------------------------------------
# the entry point
# --------------------------------------------------------------------------

def assign_signs(connectome, policy: Union[str, os.PathLike] = "excitatory", *,
                 fraction: Optional[float] = None, seed: Optional[int] = None,
                 table=None, csv: Optional[PathLike] = None, base: str = "literature",
                 modulatory: str = "none", receptors=None) -> SignAssignment:
    """Give every neuron of ``connectome`` a fast-synapse sign.

    Parameters
    ----------
    connectome : connectomes.Connectome
    policy : str or path
        ``"excitatory"`` (default), ``"literature"``, ``"random"``, ``"csv"``,
        or the path of a sign CSV (same as ``policy="csv", csv=path``).  See
        the module docstring for what each does.
    fraction, seed :
        ``random`` only (also as ``base`` of ``csv``): the fraction of the
        unknown neurons made inhibitory and the seed of the draw.  Required
        there, rejected elsewhere.
    table : None, path or DataFrame
        The transmitter table for ``literature``/``random`` (default: the
        packaged one).
    csv : path
        The sign CSV of the ``csv`` policy.
    base : {"literature", "excitatory", "random"}
        ``csv`` only: the policy the CSV rows are applied on top of.
    modulatory : {"none", "excitatory", "inhibitory"}
        Fast sign of neurons with a modulatory transmitter (dopamine,
        octopamine, tyramine, serotonin): 0, +1 or -1.  Ignored by
        ``excitatory`` (literally all +1).
    receptors : None, "literature" or path
        Receptor rules (:mod:`models.receptors`): synapse-level exceptions to
        the presynaptic sign, applied after the neurons' signs (see
        :meth:`SignAssignment.edge_signs`). ``None`` (default): none;
        ``"literature"``: the packaged, sourced ``models/data/receptors.csv``;
        a path: a user's CSV. Not with ``excitatory`` (no transmitters).

    Returns
    -------
    SignAssignment

    Raises
    ------
    SignPolicyError
        unknown policy (the message lists :func:`available_policies`),
        missing or misplaced options;
    SignCSVError
        a bad CSV (names file, row, column) or a CSV row matching no neuron;
    FileNotFoundError
        a CSV or table path that does not exist.

    (Over 80 lines: one branch per sign policy, each short, sharing the validation of the
    arguments.)
    """
    if _is_csv_path(policy):
        if csv is not None:
            raise SignPolicyError(f"policy is a CSV path ({policy}); do not pass csv= as well")
        policy, csv = "csv", policy
    if not isinstance(policy, str) or policy.strip().lower() not in POLICIES:
        raise SignPolicyError(f"unknown sign policy {policy!r}; available: "
                              f"{', '.join(POLICIES)} (or the path of a .csv file)")
    policy = policy.strip().lower()
    if modulatory not in MODULATORY_CHOICES:
        raise SignPolicyError(f"modulatory must be one of {list(MODULATORY_CHOICES)}, "
                              f"got {modulatory!r}")

    if policy == "csv":
        if csv is None:
            raise SignPolicyError("the csv policy needs csv='path/to/signs.csv' "
                                  "(or pass the path as the policy)")
        if base not in _BASES:
            raise SignPolicyError(f"base must be one of {list(_BASES)}, got {base!r}")
        inner = base
    else:
        if csv is not None:
            raise SignPolicyError(f"csv= is only used by the csv policy, not {policy!r}; "
                                  f"use assign_signs(c, 'csv', csv=..., base={policy!r})")
        inner = policy
    if inner != "random" and (fraction is not None or seed is not None):
        raise SignPolicyError(f"fraction and seed are only used by the random policy "
                              f"(policy={policy!r}" + (f", base={base!r})" if policy == "csv"
                                                        else ")"))
    if inner == "excitatory" and table is not None:
        raise SignPolicyError("the excitatory policy does not use a transmitter table")

    n = connectome.n_neurons
    options: dict = {}
    if inner == "excitatory":
        signs = np.ones(n, dtype=np.int8)
        tx = np.full(n, None, dtype=object)
        src = np.full(n, "", dtype=object)
    else:
        df, topts = _load_table(table)
        options.update(topts)
        options["modulatory"] = modulatory
        tx, src = _match(connectome, df)
        signs = _signs_from_transmitters(tx, modulatory)
        unknown = np.array([t is None for t in tx], dtype=bool)
        src = np.array(["" if s is None else s for s in src], dtype=object)
        options["n_unknown"] = int(unknown.sum())
        if inner == "random":
            fraction, seed = _check_fraction_seed(fraction, seed)
            cand = np.flatnonzero(unknown)
            cand = cand[np.argsort(connectome.neurons["skid"].to_numpy()[cand], kind="stable")]
            k = round(fraction * len(cand))
            pick = cand[np.random.default_rng(seed).choice(len(cand), size=k, replace=False)]
            signs[pick] = -1
            src[pick] = f"random (fraction={fraction:g}, seed={seed})"
            options.update(fraction=fraction, seed=seed, n_random_inhibitory=int(k))

    if policy == "csv":
        path = Path(csv)
        options["base"] = base
        if "modulatory" not in options:
            options["modulatory"] = modulatory
        n_rows = _apply_csv(connectome, path, signs, tx, src, modulatory)
        options.update(csv=str(path.resolve()), csv_sha256=_sha256(path), csv_rows=n_rows)

    rules = ()
    if receptors is not None:
        from . import receptors as _rc

        if inner == "excitatory":
            raise SignPolicyError("receptor rules act on transmitters, which the excitatory policy does not "
                                  "assign; use 'literature' (or a CSV on it)")
        path = _rc.DEFAULT_TABLE if (isinstance(receptors, str) and receptors == "literature") else Path(receptors)
        rules = _rc.resolve(connectome, tx, path)
        options.update(receptors="packaged" if path == _rc.DEFAULT_TABLE else str(path.resolve()),
                       receptors_sha256=_sha256(path), receptor_rules=len(rules))

    return SignAssignment(
        signs=signs.astype(np.int8), transmitters=tx, sources=src, policy=policy,
        options=options, skids=connectome.neurons["skid"].to_numpy().copy(),
        celltypes=connectome.neurons["celltype"].to_numpy(dtype=object).copy(),
        connectome=str(connectome.name), edge_rules=rules,
    )
