"""Odours as patterns of olfactory sensory neuron (ORN) rates.

The larva has 21 olfactory receptor neurons per side, each expressing one
odorant receptor (two co-express a second one). The Pedigo et al. 2023 node
table names them by receptor (``"42a ORN left"``, ``"47a & 33b ORN right"``);
:func:`receptors` groups the ORNs of both sides by that name. Where the
data do not name receptors (e.g. a synthetic connectome), each left/right
pair of olfactory sensory neurons (or each unpaired one) is one "receptor".

An :class:`Odour` is a rate per receptor, applied to the ORNs of both
sides. Odours can be written by hand (:meth:`Odour.from_receptors`), drawn
from a seed (:func:`random_odour`), or drawn as two partially overlapping
odours (:func:`odour_pair`), or taken from measured larval ORN responses
(:func:`known_odour`: the odours of Kreher et al. 2008, e.g. ethyl acetate,
pentyl acetate (n-amyl acetate), benzaldehyde; :func:`odour_table` lists them). Measured odours can also
ride on the ORNs' measured spontaneous firing (:func:`spontaneous_activity`; ``known_odour(...,
spontaneous=True)``; :func:`odour_drives` puts the spontaneous rates around the odour's window).

>>> from brian2 import Hz, ms
>>> a, b = odour_pair(c, n_receptors=8, n_shared=3, seed=1)          # doctest: +SKIP
>>> a.drives(c, start=0*ms, stop=1000*ms)                             # doctest: +SKIP
>>> known_odour(c, "ethyl acetate").receptors                         # doctest: +SKIP
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from brian2 import Hz, Quantity

from sim.stimuli import PoissonDrive

__all__ = ["DEFAULT_PEAK_RATE", "ODOUR_ALIASES", "ODOUR_TABLE", "Odour", "known_odour", "known_odours", "odour_drives",
           "odour_pair", "odour_table", "random_odour", "receptors", "spontaneous_activity"]

#: Peak ORN rate of the drawn odours (free parameter, within the range of
#: larval ORN odour responses, tens to ~200 spikes/s: Kreher et al. 2005,
#: Neuron 46:445).
DEFAULT_PEAK_RATE = 100 * Hz

_ORN_NAME = re.compile(r"^\s*(?P<receptor>.+?)\s+ORN\s+(left|right)\s*$", re.IGNORECASE)


def _olfactory_sensory(connectome) -> np.ndarray:
    n = connectome.neurons
    olf = n["modality"].fillna("").astype(str).str.split(";").apply(
        lambda m: "olfactory" in [x.strip() for x in m]).to_numpy()
    return np.flatnonzero(olf & (n["celltype"] == "sensory").to_numpy())


def receptors(connectome) -> dict[str, np.ndarray]:
    """ORN indices of each receptor, both sides together.

    Parameters
    ----------
    connectome : connectomes.Connectome

    Returns
    -------
    dict
        Receptor name (``"42a"``, ``"47a & 33b"``; or ``"ORN pair <k>"``
        where the data name no receptors) -> sorted neuron indices.

    Raises
    ------
    ValueError
        When the connectome has no olfactory sensory neurons.
    """
    n = connectome.neurons
    idx = _olfactory_sensory(connectome)
    if not len(idx):
        raise ValueError("the connectome has no olfactory sensory neurons (modality 'olfactory')")
    names = n["name"].fillna("").astype(str) if "name" in n.columns else None
    out: dict[str, list[int]] = {}
    for i in idx:
        m = _ORN_NAME.match(names.iloc[i]) if names is not None else None
        if m:
            key = m.group("receptor")
        else:
            pair = int(n["pair_index"].iloc[i]) if "pair_index" in n.columns else -1
            key = f"ORN pair {min(i, pair) if pair >= 0 else i}"
        out.setdefault(key, []).append(int(i))
    return {k: np.asarray(sorted(v), dtype=np.int64) for k, v in sorted(out.items())}


@dataclass(frozen=True)
class Odour:
    """An odour: a rate per receptor, applied to the ORNs of both sides.

    Parameters
    ----------
    name : str
    rates_hz : dict
        Receptor name -> rate (Hz, float) of its ORNs while the odour is on.
    """

    name: str
    rates_hz: dict = field(default_factory=dict)

    @classmethod
    def from_receptors(cls, name: str, rates: dict) -> Odour:
        """An odour from ``{receptor: rate}`` (rates as Brian2 quantities in Hz or floats in Hz)."""
        out = {}
        for k, r in rates.items():
            v = float(r / Hz) if isinstance(r, Quantity) else float(r)
            if v < 0:
                raise ValueError(f"rate of receptor {k!r} must be >= 0 Hz, got {r}")
            out[str(k)] = v
        return cls(name, out)

    @property
    def receptors(self) -> list[str]:
        """Receptors with a non-zero rate."""
        return sorted(k for k, v in self.rates_hz.items() if v > 0)

    def overlap(self, other: Odour) -> float:
        """Jaccard overlap of the receptor sets (0: disjoint, 1: same receptors)."""
        a, b = set(self.receptors), set(other.receptors)
        return len(a & b) / len(a | b) if a | b else 0.0

    def neurons(self, connectome) -> np.ndarray:
        """Indices of the ORNs this odour drives."""
        table = receptors(connectome)
        self._check(table)
        return np.unique(np.concatenate([table[k] for k in self.receptors] + [np.zeros(0, np.int64)]))

    def _check(self, table):
        missing = [k for k in self.rates_hz if k not in table]
        if missing:
            raise ValueError(f"odour {self.name!r}: unknown receptor(s) {missing}; known: {', '.join(table)}")

    def neuron_rates(self, connectome) -> dict[int, float]:
        """Peak rate (Hz) of every ORN this odour drives, by neuron index (the tuning a
        :class:`models.senses.Senses` uses: both sides' ORNs of each receptor)."""
        table = receptors(connectome)
        self._check(table)
        return {int(i): self.rates_hz[k] for k in self.receptors for i in table[k]}

    def drives(self, connectome, start, stop, scale: float = 1.0) -> list[PoissonDrive]:
        """One :class:`sim.PoissonDrive` per receptor, on between ``start`` and ``stop``.

        Parameters
        ----------
        connectome : connectomes.Connectome
        start, stop : Quantity (time)
        scale : float
            Multiplies every rate (odour concentration, free parameter).
        """
        table = receptors(connectome)
        self._check(table)
        return [PoissonDrive(table[k], self.rates_hz[k] * scale * Hz, start=start, stop=stop,
                             name=f"{self.name}:{k}") for k in self.receptors]

    def to_dict(self) -> dict:
        """JSON-serialisable form."""
        return {"name": self.name, "rates_hz": dict(self.rates_hz)}


def _rates(rng, n: int, peak_hz: float) -> np.ndarray:
    """Graded rates: peak x U(0.5, 1), rounded to 0.1 Hz."""
    return np.round(peak_hz * rng.uniform(0.5, 1.0, size=n), 1)


def random_odour(connectome, n_receptors: int = 8, rate=DEFAULT_PEAK_RATE, seed: int = 0,
                 name: str = "odour") -> Odour:
    """A seeded random odour: ``n_receptors`` receptors at ``rate x U(0.5, 1)``.

    Parameters
    ----------
    connectome : connectomes.Connectome
    n_receptors : int
    rate : Quantity (Hz)
        Peak rate (default :data:`DEFAULT_PEAK_RATE`).
    seed : int
    name : str
    """
    keys = list(receptors(connectome))
    if not 0 < n_receptors <= len(keys):
        raise ValueError(f"n_receptors must be in 1..{len(keys)}, got {n_receptors}")
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0x0D0]))
    pick = sorted(rng.choice(len(keys), n_receptors, replace=False))
    r = _rates(rng, n_receptors, float(rate / Hz))
    return Odour(name, {keys[k]: float(v) for k, v in zip(pick, r)})


def odour_pair(connectome, n_receptors: int = 8, n_shared: int = 3, rate=DEFAULT_PEAK_RATE,
               seed: int = 0, names=("A", "B")) -> tuple[Odour, Odour]:
    """Two seeded random odours that share exactly ``n_shared`` receptors.

    Each odour activates ``n_receptors`` receptors; ``n_shared`` of them are
    common to both (with each odour's own rate), the rest are disjoint.

    Returns
    -------
    (Odour, Odour)
    """
    keys = list(receptors(connectome))
    need = 2 * n_receptors - n_shared
    if not (0 <= n_shared <= n_receptors and need <= len(keys)):
        raise ValueError(f"cannot draw two odours of {n_receptors} receptors sharing {n_shared} "
                         f"from {len(keys)} receptors")
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0xAB]))
    pick = rng.choice(len(keys), need, replace=False)
    shared = list(pick[:n_shared])
    a_only = list(pick[n_shared:n_receptors])
    b_only = list(pick[n_receptors:need])
    peak = float(rate / Hz)
    a = {keys[k]: float(v) for k, v in zip(sorted(shared + a_only), _rates(rng, n_receptors, peak))}
    b = {keys[k]: float(v) for k, v in zip(sorted(shared + b_only), _rates(rng, n_receptors, peak))}
    return Odour(names[0], a), Odour(names[1], b)


# ----------------------------------------------------------------------------------------
# measured odours
# ----------------------------------------------------------------------------------------
#: Responses of the larval odorant receptors to odours, one row per receptor and odour: Kreher SA, Mathew D,
#: Kim J, Carlson JR (2008) Translation of sensory input into behavioral output via an olfactory system. Neuron
#: 59:110-124, doi:10.1016/j.neuron.2008.06.010 (21 functional larval receptors expressed in the adult "empty
#: neuron", 26 odorants and CO2, single-unit recordings), as compiled in the DoOR 2.0 database (Münch D, Galizia
#: CG (2016) Sci Rep 6:21841; repository ropensci/DoOR.data, column ``Kreher.2008.EN``, spontaneous rate
#: subtracted according to DoOR's dataset table). The file's header says how it was made.
ODOUR_TABLE = Path(__file__).parent / "data" / "larval_orn_responses.csv"
#: Other names of odours of the table (larval learning papers write "n-amyl acetate" for pentyl acetate).
ODOUR_ALIASES = {"amyl acetate": "pentyl acetate", "n-amyl acetate": "pentyl acetate",
                 "n-pentyl acetate": "pentyl acetate"}


def odour_table(path=None):
    """The measured odour responses as a table.

    Parameters
    ----------
    path : path-like, optional
        A CSV with columns ``receptor`` (DoOR name, e.g. ``Or42a``), ``odour``, ``cas`` and ``response_hz``
        (change of the ORN's firing rate from its spontaneous rate, spikes/s; the row ``odour = "SFR"`` holds
        the spontaneous rate itself); lines starting with ``#`` are comments. Default :data:`ODOUR_TABLE`.

    Returns
    -------
    pandas.DataFrame
    """
    import pandas as pd

    path = Path(path) if path is not None else ODOUR_TABLE
    try:
        t = pd.read_csv(path, comment="#", dtype={"receptor": str, "odour": str, "cas": str})
    except FileNotFoundError:
        raise ValueError(f"{path}: no such odour table") from None
    missing = [c for c in ("receptor", "odour", "response_hz") if c not in t.columns]
    if missing:
        raise ValueError(f"{path}: missing column(s) {', '.join(missing)}")
    bad = t.index[~np.isfinite(pd.to_numeric(t["response_hz"], errors="coerce"))]
    if len(bad):
        raise ValueError(f"{path}: row {int(bad[0]) + 2}, column 'response_hz': not a number "
                         f"({t['response_hz'].iloc[bad[0]]!r})")
    t["response_hz"] = t["response_hz"].astype(float)
    return t


def known_odours(path=None) -> list[str]:
    """Names of the odours of :func:`odour_table` (the spontaneous-rate rows left out)."""
    return sorted(set(odour_table(path)["odour"]) - {"SFR"})


def _receptor_parts(key: str) -> list[str]:
    """The DoOR receptor names of one of the connectome's receptors (``"47a & 33b"`` -> ``["Or47a", "Or33b"]``)."""
    return [f"Or{p.strip()}" for p in key.split("&") if p.strip()]


def _receptor_values(connectome, values) -> dict[str, float]:
    """Per receptor of the connectome, the value of ``values`` (DoOR name -> float); an ORN that expresses two
    receptors takes the larger; receptors absent from ``values`` are left out."""
    out = {}
    for rec in receptors(connectome):
        vals = [float(values[p]) for p in _receptor_parts(rec) if p in values.index]
        if vals:
            out[rec] = max(vals)
    return out


def spontaneous_activity(connectome, *, path=None) -> Odour:
    """The ORNs' spontaneous firing as measured by Kreher et al. 2008 (the table's ``SFR`` rows), as an
    :class:`Odour` named ``"spontaneous"``: each receptor's ORNs (both sides) at its spontaneous rate.

    An ORN that expresses two receptors takes the larger rate; receptors without a measured rate
    (in the packaged table Or63a and Or83a) get none.
    """
    t = odour_table(path)
    sfr = _receptor_values(connectome, t[t["odour"] == "SFR"].groupby("receptor")["response_hz"].mean())
    return Odour("spontaneous", {k: round(v, 6) for k, v in sfr.items() if v > 0})


def odour_drives(connectome, odour: Odour, start, stop, duration, *, background: Odour | None = None) -> list:
    """Drives of ``odour`` between ``start`` and ``stop``, with ``background`` (e.g. :func:`spontaneous_activity`)
    before ``start`` and from ``stop`` to ``duration``.

    Use it with ``known_odour(..., spontaneous=True)``, whose rates already hold the spontaneous rate, so that
    each ORN fires at its spontaneous rate outside the odour and at spontaneous rate plus response during it.
    """
    out = odour.drives(connectome, start, stop)
    if background is not None:
        if start > 0 * start:
            out += background.drives(connectome, 0 * start, start)
        if duration > stop:
            out += background.drives(connectome, stop, duration)
    return out


def known_odour(connectome, name: str, *, scale: float = 1.0, path=None, spontaneous: bool = False) -> Odour:
    """A measured odour: each receptor's ORNs at the rate change the odour caused in Kreher et al. 2008.

    The rate of a receptor's ORNs is its measured response (spikes/s above its spontaneous rate; the
    concentration of the DoOR column is not stated there, Kreher et al. tested two) times ``scale``; an
    inhibitory (negative) response gives 0, because the model's ORNs have no spontaneous rate to lower.
    With ``spontaneous=True`` the rate is instead the receptor's spontaneous rate plus ``scale`` times its
    response, at least 0, so an inhibitory response lowers the ORN below its spontaneous rate (pair it
    with :func:`odour_drives` and ``background=spontaneous_activity(c)``).
    An ORN that expresses two receptors (``"47a & 33b"``) takes the larger of their two responses
    (larvasim's choice). Receptors the study did not test, or that the connectome lacks, get no drive.

    Parameters
    ----------
    connectome : connectomes.Connectome
    name : str
        An odour of :func:`known_odours` or of :data:`ODOUR_ALIASES` (case-insensitive).
    scale : float
        Multiplies every rate (a stand-in for concentration; free parameter, 1 = the study's).
    path : path-like, optional
        Another odour table (:func:`odour_table`).
    spontaneous : bool
        Add the receptors' spontaneous rates (the table's ``SFR`` rows) to their responses (default False:
        responses alone, on ORNs that are silent without an odour).

    Raises
    ------
    ValueError
        For an odour not in the table (naming the closest ones) or a ``scale`` that is negative or infinite.
    """
    if not 0 <= scale < float("inf"):
        raise ValueError(f"scale must be a finite number >= 0, got {scale!r}")
    t = odour_table(path)
    names = {o.lower(): o for o in set(t["odour"]) - {"SFR"}}
    key = str(name).strip().lower()
    key = ODOUR_ALIASES.get(key, key)
    if key not in names:
        close = difflib.get_close_matches(key, list(names) + list(ODOUR_ALIASES), n=3)
        raise ValueError(f"unknown odour {name!r}" + (f"; did you mean {', '.join(close)}?" if close else "")
                         + f" ({len(names)} odours: experiments.odours.known_odours())")
    canonical = names[key]
    resp = _receptor_values(connectome, t[t["odour"] == canonical].groupby("receptor")["response_hz"].mean())
    if not spontaneous:
        return Odour(canonical, {k: round(v * float(scale), 6) for k, v in resp.items() if v > 0})
    base = spontaneous_activity(connectome, path=path).rates_hz
    rates = {k: round(max(base.get(k, 0.0) + resp.get(k, 0.0) * float(scale), 0.0), 6) for k in set(base) | set(resp)}
    return Odour(canonical, {k: v for k, v in sorted(rates.items()) if v > 0})
