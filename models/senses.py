"""Sensory transduction: what the arena offers at the head -> spike rates of sensory neurons.

:class:`Senses` turns the samples of an arena at the left and right sense
organs (:meth:`models.arena.Arena.sample`) into a Poisson input rate for every
neuron of the network, once per chunk of a closed-loop run:

olfaction
    Each olfactory receptor neuron (ORN) of a side reads the odour
    concentration at that side's organ. Its response to one odour is a Hill
    function of concentration scaled by the ORN's peak rate for that odour
    (the odour's tuning, e.g. an :class:`experiments.odours.Odour`), with
    first-order adaptation: ``x = c^n / (c^n + K^n)``, ``ds/dt = (x - s) / tau``,
    ``rate = spont + peak * max(0, x - a * s)``. A rise in concentration gives a
    transient above the adapted level and a fall a dip: the ORN signals change
    as well as level (Schulze et al. 2015). Odours add; the rate is capped.
vision
    Rh5 and Rh6 photoreceptors (named ``Rh5PR`` / ``Rh6PR`` in the data) fire
    ``spont + gain * light`` at their side's organ.
thermosensation
    Warm-sensing neurons respond to warming, cold-sensing ones to cooling:
    ``spont + gain * max(0, +-dT/dt)``.

Every value is in :data:`SENSE_PARAMETERS` with its source; what is a
simplification says so.
"""
from __future__ import annotations

import re

import numpy as np
from brian2 import Hz, second

from .parameters import Parameter, ParameterSet

__all__ = ["SENSE_PARAMETERS", "Senses", "SenseError", "sense_parameters"]


class SenseError(ValueError):
    """A sense that the connectome cannot serve, or a sample that is not usable."""


_SCHULZE = ("Schulze et al. 2015, eLife 4:e06694, doi:10.7554/eLife.06694 (Or42a ORN of the larva, "
            "isoamyl acetate)")

#: Transduction parameters.
SENSE_PARAMETERS = ParameterSet([
    Parameter("orn_spont", 2 * Hz, "Hz", "assumption (a low spontaneous rate; no verified larval value)",
              "spontaneous ORN rate"),
    Parameter("orn_max", 200 * Hz, "Hz", "assumption: larval ORN odour responses reach tens to ~200 spikes/s "
              "(Kreher et al. 2005, Neuron 46:445; range not re-verified here)", "cap on an ORN's rate"),
    Parameter("orn_ec50", 0.1, "1", "assumption (concentration in units of a source's peak)",
              "half-activating concentration of an ORN without its own EC50"),
    Parameter("orn_hill", 2.0, "1", _SCHULZE + ", Table 1: Hill coefficient n = 2 (fixed in their fit)",
              "Hill coefficient of the ORN dose-response"),
    Parameter("orn_tau_adapt", 3.8 * second, "second", _SCHULZE + ", Table 1: 1/alpha2 of the odour "
              "IFF+IFB model, alpha2 = 0.26 /s (our conversion)", "ORN adaptation time constant"),
    Parameter("orn_adapt", 0.5, "1", "assumption (Schulze et al. 2015 find Or42a firing follows the derivative "
              "of a rising ramp and dips below baseline after a fall; strong but incomplete adaptation here)",
              "fraction of the response removed by adaptation at steady state"),
    Parameter("pr_spont", 2 * Hz, "Hz", "assumption", "spontaneous photoreceptor rate"),
    Parameter("pr_gain", 60 * Hz, "Hz", "assumption", "photoreceptor rate added in full light"),
    Parameter("thermo_spont", 2 * Hz, "Hz", "assumption", "spontaneous thermosensory rate"),
    Parameter("thermo_gain", 200 * Hz, "Hz", "assumption", "thermosensory rate per degree C per second of change"),
], name="senses")


def sense_parameters(**overrides) -> ParameterSet:
    """:data:`SENSE_PARAMETERS` with overrides, checked for range."""
    ps = SENSE_PARAMETERS.override(**overrides) if overrides else SENSE_PARAMETERS
    v = _values(ps)
    for k in ("orn_spont", "pr_spont", "thermo_spont", "pr_gain", "thermo_gain"):
        if not (np.isfinite(v[k]) and v[k] >= 0):
            raise SenseError(f"sense parameter {k} must be finite and >= 0, got {ps[k].value}")
    for k in ("orn_max", "orn_ec50", "orn_hill", "orn_tau_adapt"):
        if not (np.isfinite(v[k]) and v[k] > 0):
            raise SenseError(f"sense parameter {k} must be finite and > 0, got {ps[k].value}")
    if not 0 <= v["orn_adapt"] <= 1:
        raise SenseError(f"sense parameter orn_adapt must be in [0, 1], got {v['orn_adapt']}")
    return ps


def _values(ps: ParameterSet) -> dict:
    """Parameter values as floats in the units they are written in (mm, s, Hz, rad, ...)."""
    return {name: float(ps[name].magnitude) for name in ps}


_PR = re.compile(r"^(Rh[56])PR")


def _sides(neurons) -> np.ndarray:
    h = neurons["hemisphere"].fillna("").astype(str).str.lower().to_numpy() if "hemisphere" in neurons else None
    if h is None:
        return np.full(len(neurons), "", dtype=object)
    return h


def _modality_mask(neurons, modality: str) -> np.ndarray:
    m = neurons["modality"].fillna("").astype(str).str.split(";").apply(lambda xs: modality in [x.strip() for x in xs])
    return m.to_numpy() & (neurons["celltype"] == "sensory").to_numpy()


class Senses:
    """Sensory transduction for a connectome (see the module docstring).

    Parameters
    ----------
    connectome : connectomes.Connectome
    odours : dict, optional
        Odour name -> ``{neuron index: peak rate in Hz}`` or ``{neuron index: (peak
        rate in Hz, EC50)}``: its ORN tuning (e.g. from
        :meth:`experiments.odours.Odour.neuron_rates`); without an EC50 the
        parameter ``orn_ec50`` applies. The names must match the arena's odour sources.
    parameters : ParameterSet, optional
        :data:`SENSE_PARAMETERS` or an override.
    senses : sequence of str, optional
        Which senses are on: any of ``"olfaction"``, ``"vision"``, ``"thermosensation"``
        (default: all that the connectome has neurons for).

    Raises
    ------
    SenseError
        An unknown sense, an odour neuron that is not an olfactory sensory
        neuron, or a requested sense without neurons in the connectome.
    """

    KNOWN = ("olfaction", "vision", "thermosensation")

    def __init__(self, connectome, odours: dict | None = None, parameters: ParameterSet | None = None,
                 senses=None):
        n = connectome.neurons
        self.n_neurons = len(n)
        self.parameters = sense_parameters() if parameters is None else parameters
        self.p = _values(self.parameters)
        side = _sides(n)
        self.side_left = side == "left"
        self.side_right = side == "right"
        orn = _modality_mask(n, "olfactory")
        names = n["name"].fillna("").astype(str) if "name" in n.columns else None
        pr_kind = (names.str.extract(_PR, expand=False).fillna("").to_numpy() if names is not None
                   else np.full(len(n), "", dtype=object))
        self.photoreceptors = {k: np.flatnonzero(pr_kind == k) for k in ("Rh5", "Rh6")}
        self.warm = np.flatnonzero(_modality_mask(n, "thermo-warm"))
        self.cold = np.flatnonzero(_modality_mask(n, "thermo-cold"))
        available = {"olfaction": orn.any(), "vision": sum(len(v) for v in self.photoreceptors.values()) > 0,
                     "thermosensation": len(self.warm) + len(self.cold) > 0}
        if senses is None:
            senses = [k for k in self.KNOWN if available[k]]
        senses = list(senses)
        unknown = [s for s in senses if s not in self.KNOWN]
        if unknown:
            raise SenseError(f"unknown sense(s) {unknown}; known: {', '.join(self.KNOWN)}")
        missing = [s for s in senses if not available[s]]
        if missing:
            raise SenseError(f"the connectome {getattr(connectome, 'name', '')!r} has no neurons for sense(s) {missing}")
        self.senses = senses
        self.odours = {}
        for name, tuning in (odours or {}).items():
            idx = np.asarray(sorted(tuning), dtype=np.int64)
            bad = [int(i) for i in idx if not (0 <= i < len(n) and orn[i])]
            if bad:
                raise SenseError(f"odour {name!r}: neuron(s) {bad[:5]} are not olfactory sensory neurons")
            vals = [tuning[i] if isinstance(tuning[i], (tuple, list)) else (tuning[i], self.p["orn_ec50"])
                    for i in idx]
            peaks = np.asarray([float(v[0]) for v in vals])
            ec50 = np.asarray([float(v[1]) for v in vals])
            if not np.all(np.isfinite(peaks)) or (peaks < 0).any():
                raise SenseError(f"odour {name!r}: peak rates must be finite and >= 0 Hz")
            if not np.all(np.isfinite(ec50)) or (ec50 <= 0).any():
                raise SenseError(f"odour {name!r}: EC50 values must be finite and > 0")
            self.odours[name] = (idx, peaks, ec50)
        self._adapt = None
        self._last_temp = None

    def reset(self, larvae: int) -> None:
        """Forget adaptation and temperature history (start of a run)."""
        self._adapt = {name: None for name in self.odours}
        self._last_temp = None
        self._larvae = int(larvae)

    def _organ(self, idx: np.ndarray, left: dict, right: dict, key: str) -> np.ndarray:
        """Samples of ``key`` at each neuron's organ, ``[larva, neuron]`` (midline neurons: the mean)."""
        lv, rv = np.asarray(left[key], float), np.asarray(right[key], float)
        out = np.where(self.side_left[idx][None, :], lv[:, None],
                       np.where(self.side_right[idx][None, :], rv[:, None], 0.5 * (lv + rv)[:, None]))
        return out

    def rates(self, left: dict, right: dict, dt: float) -> np.ndarray:
        """Input rates (Hz), ``[larva, neuron]``, for the samples at the left and right organs.

        Parameters
        ----------
        left, right : dict
            :meth:`models.arena.Arena.sample` at each larva's left and right organ.
        dt : float
            Time since the previous call (s): adaptation and temperature change.
        """
        if self._adapt is None:
            raise SenseError("call reset(larvae) before rates()")
        p = self.p
        out = np.zeros((self._larvae, self.n_neurons))
        if "olfaction" in self.senses:
            for name, (idx, peaks, ec50) in self.odours.items():
                key = f"odour:{name}"
                if key not in left:
                    raise SenseError(f"odour {name!r} is not in the arena (its odours: "
                                     f"{[k[6:] for k in left if k.startswith('odour:')]})")
                c = np.maximum(self._organ(idx, left, right, key), 0.0)
                if not np.all(np.isfinite(c)):
                    raise SenseError(f"odour {name!r}: concentration is not finite")
                cn = c ** p["orn_hill"]
                x = cn / (cn + ec50[None, :] ** p["orn_hill"])
                s = self._adapt[name]
                if s is None:
                    s = x.copy()  # adapted to what the larva first smells
                s = s + (x - s) * (1.0 - np.exp(-dt / p["orn_tau_adapt"]))
                self._adapt[name] = s
                out[:, idx] += peaks[None, :] * np.maximum(0.0, x - p["orn_adapt"] * s)
            orn_all = np.unique(np.concatenate([v[0] for v in self.odours.values()] + [np.zeros(0, np.int64)]))
            out[:, orn_all] = np.minimum(out[:, orn_all] + p["orn_spont"], p["orn_max"])
        if "vision" in self.senses:
            idx = np.concatenate(list(self.photoreceptors.values()))
            if "light" in left:
                out[:, idx] = p["pr_spont"] + p["pr_gain"] * self._organ(idx, left, right, "light")
            else:
                out[:, idx] = p["pr_spont"]
        if "thermosensation" in self.senses:
            if "temperature" in left:
                temp = 0.5 * (np.asarray(left["temperature"]) + np.asarray(right["temperature"]))
                rate = np.zeros_like(temp) if self._last_temp is None else (temp - self._last_temp) / dt
                self._last_temp = temp
                out[:, self.warm] = p["thermo_spont"] + p["thermo_gain"] * np.maximum(0.0, rate)[:, None]
                out[:, self.cold] = p["thermo_spont"] + p["thermo_gain"] * np.maximum(0.0, -rate)[:, None]
            else:
                out[:, np.concatenate([self.warm, self.cold])] = p["thermo_spont"]
        return out

    def describe(self) -> dict:
        """What the senses are, for a result's metadata."""
        return {"senses": list(self.senses), "parameters": self.parameters.to_dict(),
                "odours": {k: {"neurons": v[0].tolist(), "peak_hz": v[1].tolist(), "ec50": v[2].tolist()}
                           for k, v in self.odours.items()},
                "photoreceptors": {k: len(v) for k, v in self.photoreceptors.items()},
                "thermo": {"warm": len(self.warm), "cold": len(self.cold)}}
