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
odours (:func:`odour_pair`).

>>> from brian2 import Hz, ms
>>> a, b = odour_pair(c, n_receptors=8, n_shared=3, seed=1)          # doctest: +SKIP
>>> a.drives(c, start=0*ms, stop=1000*ms)                             # doctest: +SKIP
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
from brian2 import Hz, Quantity

from sim.stimuli import PoissonDrive

__all__ = ["DEFAULT_PEAK_RATE", "Odour", "odour_pair", "random_odour", "receptors"]

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
