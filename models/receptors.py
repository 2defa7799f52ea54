"""Receptor rules: synapse-level exceptions to the sign of a presynaptic neuron.

:mod:`models.signs` gives every neuron one fast sign, that of its transmitter on
the usual receptor (acetylcholine on nicotinic receptors +1, GABA -1, ...). The
sign of a synapse is, in the end, the postsynaptic receptor's: a target that
senses a transmitter through another receptor can invert it. In the larval eye
circuit, glu-lOLP is hyperpolarised by light-elicited cholinergic input because
it senses acetylcholine through a muscarinic receptor and Galpha-o (Qin et al.
2019, Nat Commun 10:4093), while the cholinergic cha-lOLP is depolarised by it.

A receptor rule says: every synapse from a neuron releasing ``pre_transmitter``
onto a neuron matching ``post`` has the sign ``sign``. Rules come from a CSV
(the packaged, sourced ``models/data/receptors.csv``, or a user's), are applied
by :func:`models.signs.assign_signs` (``receptors=``) after the neurons' signs,
and act through :meth:`models.signs.SignAssignment.edge_signs`, which
:class:`sim.Network` uses for its synapses.

CSV columns (names case-insensitive, any order):

``post``
    the postsynaptic neurons: a name pattern matched like
    ``Connectome.select(name=...)`` (e.g. ``GlulOLP*``).
``pre_transmitter``
    the presynaptic neurons: those whose transmitter (as the sign assignment
    gives it) is this one (a name of :data:`models.transmitters.TRANSMITTERS`).
``sign``
    ``+1``, ``-1`` or ``0``.
``receptor``, ``source``
    the receptor and the citation behind the rule; both required.
``note``
    optional free text.

Later rows override earlier ones where they overlap. Errors
(:class:`models.signs.SignCSVError`) name the file, the row and the column; a
``post`` pattern that matches no neuron is an error, as in a sign CSV.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import transmitters as _tx

#: The packaged, sourced receptor rules.
DEFAULT_TABLE = Path(__file__).resolve().parent / "data" / "receptors.csv"
_COLUMNS = ("post", "pre_transmitter", "sign", "receptor", "source", "note")
_REQUIRED = ("post", "pre_transmitter", "sign", "receptor", "source")


@dataclass(frozen=True, eq=False)
class EdgeRule:
    """One receptor rule, resolved on a connectome.

    Attributes
    ----------
    post, pre : ndarray of int64
        Indices of the postsynaptic neurons (matching ``pattern``) and of the
        presynaptic ones (releasing ``pre_transmitter``).
    sign : int
        The fast sign of every synapse from ``pre`` onto ``post``.
    pattern, pre_transmitter, receptor, source : str
        The rule as written.
    """

    post: np.ndarray
    pre: np.ndarray
    sign: int
    pattern: str
    pre_transmitter: str
    receptor: str
    source: str

    def to_dict(self) -> dict:
        """JSON-serialisable description (neuron counts, not indices)."""
        return {"post": self.pattern, "pre_transmitter": self.pre_transmitter, "sign": int(self.sign),
                "receptor": self.receptor, "source": self.source, "n_post": int(len(self.post)),
                "n_pre": int(len(self.pre))}


def _err(path, msg, row=None, column=None):
    from .signs import SignCSVError

    return SignCSVError(f"{_tx.csv_location(path, row, column)}: {msg}")


def read_rules(path=None) -> list:
    """Parse and check a receptor CSV (no connectome needed); ``None``: the packaged one.

    Returns
    -------
    list of dict
        ``row`` (0-based data row), ``post``, ``pre_transmitter`` (canonical name), ``sign``,
        ``receptor``, ``source``.
    """
    from .signs import _parse_sign, _read_rule_table

    path = DEFAULT_TABLE if path is None else Path(path)
    df = _read_rule_table(path, "receptor", _COLUMNS)
    missing = [c for c in _REQUIRED if c not in df.columns]
    if missing:
        raise _err(path, f"missing column(s) {missing}", column=missing[0])
    rules = []
    for i, r in enumerate(df.itertuples(index=False)):
        for c in _REQUIRED:
            if not str(getattr(r, c)).strip():
                raise _err(path, f"empty {c!r}: every rule needs {', '.join(_REQUIRED)}", row=i, column=c)
        t = _tx.TRANSMITTERS.get(r.pre_transmitter.strip().lower())
        if t is None:
            raise _err(path, f"unknown transmitter {r.pre_transmitter!r}; expected one of "
                             f"{sorted(_tx.TRANSMITTERS.values())}", row=i, column="pre_transmitter")
        rules.append({"row": i, "post": r.post.strip(), "pre_transmitter": t,
                      "sign": _parse_sign(r.sign.strip(), path, i), "receptor": r.receptor.strip(),
                      "source": r.source.strip()})
    return rules


def resolve(connectome, transmitters, path=None) -> tuple:
    """The rules of a receptor CSV on ``connectome``, given each neuron's transmitter.

    Parameters
    ----------
    connectome : connectomes.Connectome
    transmitters : sequence
        Canonical transmitter name per neuron (``None``: unknown), as
        :attr:`models.signs.SignAssignment.transmitters`.
    path : None or path
        The CSV; ``None``: the packaged ``models/data/receptors.csv``.

    Returns
    -------
    tuple of EdgeRule
    """
    from connectomes.errors import SelectionError

    path = DEFAULT_TABLE if path is None else Path(path)
    tx = np.asarray(transmitters, dtype=object)
    out = []
    for r in read_rules(path):
        try:
            post = connectome.select(name=r["post"]).indices
        except SelectionError as e:
            raise _err(path, f"pattern {r['post']!r} matches no neuron ({e})", row=r["row"], column="post") from None
        pre = np.flatnonzero(tx == r["pre_transmitter"])
        out.append(EdgeRule(post=np.asarray(post, dtype=np.int64), pre=pre.astype(np.int64), sign=r["sign"],
                            pattern=r["post"], pre_transmitter=r["pre_transmitter"], receptor=r["receptor"],
                            source=f"{path.name} row {r['row'] + 1}: {r['source']}"))
    return tuple(out)


def edge_signs(rules, pre, post, signs) -> np.ndarray:
    """The sign of each synapse ``pre[k] -> post[k]``: ``signs`` (per neuron), then the rules in order."""
    pre, post = np.asarray(pre), np.asarray(post)
    out = np.asarray(signs, dtype=float)[pre].copy()
    n = len(signs)
    for rule in rules:
        is_pre = np.zeros(n, dtype=bool)
        is_pre[rule.pre] = True
        is_post = np.zeros(n, dtype=bool)
        is_post[rule.post] = True
        out[is_pre[pre] & is_post[post]] = rule.sign
    return out
