"""The arena a virtual larva crawls in: a Petri dish with odour sources, light and temperature.

An :class:`Arena` is a round dish (radius in mm) with any number of
:class:`OdourSource` (a static Gaussian concentration profile, the
steady state that chemotaxis models commonly assume, e.g. Davies et al. 2015),
an optional :class:`LightField` (light and dark halves or a disc) and an
optional :class:`TemperatureGradient` (linear). It answers "what is here?"
for arrays of positions (:meth:`Arena.sample`) and keeps larvae inside its
wall (:meth:`Arena.confine`).

Boundary behaviour (documented, not measured): a larva whose body centre would
leave the dish is put back on the wall and its heading turned to the wall's
tangent nearest to where it was heading, so it slides along the wall, as larvae
on agar often do; each such event counts as a wall contact.

Concentrations are in units of a source's peak (1 at the centre of a source of
``peak=1``); light intensity is 0 (dark) to 1 (light); temperature in degrees C.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from brian2 import mm

__all__ = ["Arena", "OdourSource", "LightField", "TemperatureGradient", "ArenaError"]


class ArenaError(ValueError):
    """An arena parameter out of range, or a sample that is not a number."""


def _mm(value, what: str) -> float:
    """A length as float mm (Brian2 quantity of length, or a float taken as mm)."""
    if hasattr(value, "dim"):
        if value.dim != mm.dim:
            raise ArenaError(f"{what} must be a length (e.g. 10*mm), got {value!r}")
        return float(value / mm)
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ArenaError(f"{what} must be a length in mm, got {value!r}") from None
    return v


@dataclass(frozen=True)
class OdourSource:
    """A static Gaussian odour source.

    Parameters
    ----------
    odour : str
        Name of the odour (matches a sense's odour, e.g. ``"A"``).
    x, y : Quantity (length) or float (mm)
        Centre of the source.
    peak : float
        Concentration at the centre (relative units, > 0).
    sigma : Quantity (length) or float (mm)
        Width (standard deviation) of the profile.
    """

    odour: str
    x: float = 0.0
    y: float = 0.0
    peak: float = 1.0
    sigma: float = 15.0

    def __post_init__(self):
        object.__setattr__(self, "x", _mm(self.x, f"odour source {self.odour!r} x"))
        object.__setattr__(self, "y", _mm(self.y, f"odour source {self.odour!r} y"))
        object.__setattr__(self, "sigma", _mm(self.sigma, f"odour source {self.odour!r} sigma"))
        if not (np.isfinite(self.peak) and self.peak > 0):
            raise ArenaError(f"odour source {self.odour!r}: peak must be a finite number > 0, got {self.peak!r}")
        if not (np.isfinite(self.sigma) and self.sigma > 0):
            raise ArenaError(f"odour source {self.odour!r}: sigma must be > 0 mm, got {self.sigma!r}")

    def concentration(self, x, y) -> np.ndarray:
        d2 = (np.asarray(x) - self.x) ** 2 + (np.asarray(y) - self.y) ** 2
        return self.peak * np.exp(-0.5 * d2 / self.sigma ** 2)

    def to_dict(self) -> dict:
        return {"odour": self.odour, "x_mm": self.x, "y_mm": self.y, "peak": self.peak, "sigma_mm": self.sigma}


@dataclass(frozen=True)
class LightField:
    """Light and dark regions: ``"half"`` (light where ``x > 0`` unless ``dark_side="right"``)
    or ``"disc"`` (light inside a disc of ``radius`` around the centre).

    Parameters
    ----------
    kind : {"half", "disc", "uniform"}
    dark_side : {"left", "right"}
        For ``"half"``: which half (x < 0 is left) is dark.
    radius : length
        For ``"disc"``.
    intensity : float
        Light level of the lit region (0-1).
    """

    kind: str = "half"
    dark_side: str = "left"
    radius: float = 20.0
    intensity: float = 1.0

    def __post_init__(self):
        if self.kind not in ("half", "disc", "uniform"):
            raise ArenaError(f"light kind must be 'half', 'disc' or 'uniform', got {self.kind!r}")
        if self.dark_side not in ("left", "right"):
            raise ArenaError(f"light dark_side must be 'left' or 'right', got {self.dark_side!r}")
        object.__setattr__(self, "radius", _mm(self.radius, "light radius"))
        if not 0 <= self.intensity <= 1:
            raise ArenaError(f"light intensity must be in [0, 1], got {self.intensity!r}")

    def level(self, x, y) -> np.ndarray:
        x = np.asarray(x, float)
        if self.kind == "uniform":
            return np.full(x.shape, self.intensity)
        if self.kind == "half":
            lit = x > 0 if self.dark_side == "left" else x < 0
        else:
            lit = x ** 2 + np.asarray(y, float) ** 2 < self.radius ** 2
        return np.where(lit, self.intensity, 0.0)

    def to_dict(self) -> dict:
        return {"kind": self.kind, "dark_side": self.dark_side, "radius_mm": self.radius, "intensity": self.intensity}


@dataclass(frozen=True)
class TemperatureGradient:
    """A linear temperature gradient along x: ``T = centre + slope * x``.

    Parameters
    ----------
    centre : float
        Temperature at x = 0 (degrees C).
    slope : float
        Degrees C per mm (e.g. 0.03: about 2.5 degrees over an 85 mm dish).
    """

    centre: float = 22.0
    slope: float = 0.03

    def __post_init__(self):
        if not (np.isfinite(self.centre) and 0 <= self.centre <= 45):
            raise ArenaError(f"temperature centre must be in [0, 45] C, got {self.centre!r}")
        if not (np.isfinite(self.slope) and abs(self.slope) <= 1):
            raise ArenaError(f"temperature slope must be within +-1 C/mm, got {self.slope!r}")

    def temperature(self, x, y) -> np.ndarray:
        return self.centre + self.slope * np.asarray(x, float)

    def to_dict(self) -> dict:
        return {"centre_C": self.centre, "slope_C_per_mm": self.slope}


@dataclass(frozen=True)
class Arena:
    """A round dish with odours, light and temperature.

    Parameters
    ----------
    radius : Quantity (length) or float (mm)
        Radius of the dish (default 42.5 mm: an 85 mm Petri dish).
    odours : sequence of OdourSource
    light : LightField, optional
    temperature : TemperatureGradient, optional
    """

    radius: float = 42.5
    odours: tuple = field(default_factory=tuple)
    light: LightField | None = None
    temperature: TemperatureGradient | None = None

    def __post_init__(self):
        r = _mm(self.radius, "arena radius")
        if not (np.isfinite(r) and 1 <= r <= 1000):
            raise ArenaError(f"arena radius must be between 1 and 1000 mm, got {self.radius!r}")
        object.__setattr__(self, "radius", r)
        odours = tuple(self.odours)
        bad = [o for o in odours if not isinstance(o, OdourSource)]
        if bad:
            raise ArenaError(f"odours must be OdourSource, got {bad[0]!r}")
        for o in odours:
            if np.hypot(o.x, o.y) > r:
                raise ArenaError(f"odour source {o.odour!r} at ({o.x}, {o.y}) mm is outside the arena (radius {r} mm)")
        object.__setattr__(self, "odours", odours)

    @property
    def odour_names(self) -> list[str]:
        return sorted({o.odour for o in self.odours})

    def concentration(self, odour: str, x, y) -> np.ndarray:
        """Concentration of ``odour`` at positions (mm): the sum of its sources."""
        srcs = [o for o in self.odours if o.odour == odour]
        c = np.zeros(np.shape(x))
        for s in srcs:
            c = c + s.concentration(x, y)
        return c

    def sample(self, x, y) -> dict[str, np.ndarray]:
        """Everything at positions (mm): ``{"odour:<name>": c, "light": level, "temperature": T}``.

        Raises
        ------
        ArenaError
            When a position is not a finite number (the name of the quantity and
            the first bad index are given).
        """
        x = np.asarray(x, float)
        y = np.asarray(y, float)
        bad = ~(np.isfinite(x) & np.isfinite(y))
        if bad.any():
            raise ArenaError(f"position of larva {int(np.flatnonzero(bad.ravel())[0])} is not finite")
        out = {f"odour:{name}": self.concentration(name, x, y) for name in self.odour_names}
        if self.light is not None:
            out["light"] = self.light.level(x, y)
        if self.temperature is not None:
            out["temperature"] = self.temperature.temperature(x, y)
        for k, v in out.items():
            if not np.all(np.isfinite(v)):
                raise ArenaError(f"arena sample {k!r} is not finite (NaN or infinite)")
        return out

    def confine(self, bodies) -> np.ndarray:
        """Put larvae outside the wall back on it, heading along the wall; returns who touched it."""
        d = np.hypot(bodies.x, bodies.y)
        out = d > self.radius
        if out.any():
            s = self.radius / d[out]
            bodies.x[out] *= s
            bodies.y[out] *= s
            radial = np.arctan2(bodies.y[out], bodies.x[out])
            h = bodies.heading[out]
            t1, t2 = radial + np.pi / 2, radial - np.pi / 2
            pick = np.cos(h - t1) >= np.cos(h - t2)
            bodies.heading[out] = np.where(pick, t1, t2)
        return out

    def to_dict(self) -> dict:
        return {"radius_mm": self.radius, "odours": [o.to_dict() for o in self.odours],
                "light": self.light.to_dict() if self.light else None,
                "temperature": self.temperature.to_dict() if self.temperature else None}
