"""Registry of neuron models by name."""

from __future__ import annotations

import difflib
from typing import Any

from .neurons import ConductanceAdaptiveLIF, CurrentLIF, LarvalLIF, NeuronModel

__all__ = ["ADULT_MODEL", "DEFAULT_MODEL", "DEFAULT_SIGNS", "available_models", "get_model", "register_model"]

#: Name of the default neuron model: the larval model (calibrated on published larval findings).
DEFAULT_MODEL = LarvalLIF.name
#: Sign policy of the default model: the best-sourced one (``models/data/transmitters.csv``).
DEFAULT_SIGNS = "literature"
#: The adult-fly model of Shiu et al. 2024, by name (with ``signs="excitatory"``, as published).
ADULT_MODEL = CurrentLIF.name

_REGISTRY: dict[str, type[NeuronModel]] = {
    CurrentLIF.name: CurrentLIF,
    LarvalLIF.name: LarvalLIF,
    ConductanceAdaptiveLIF.name: ConductanceAdaptiveLIF,
}


def available_models() -> tuple[str, ...]:
    """Names accepted by :func:`get_model`, default first."""
    return (DEFAULT_MODEL, *sorted(n for n in _REGISTRY if n != DEFAULT_MODEL))


def register_model(cls: type[NeuronModel]) -> type[NeuronModel]:
    """Register a :class:`NeuronModel` subclass under ``cls.name`` (usable as a decorator).

    Raises
    ------
    ValueError
        If the name is already taken by another class.
    """
    if not (isinstance(cls, type) and issubclass(cls, NeuronModel)):
        raise TypeError(f"expected a NeuronModel subclass, got {cls!r}")
    existing = _REGISTRY.get(cls.name)
    if existing is not None and existing is not cls:
        raise ValueError(f"model name {cls.name!r} is already registered for {existing.__name__}")
    _REGISTRY[cls.name] = cls
    return cls


def get_model(name: str = DEFAULT_MODEL, **overrides: Any) -> NeuronModel:
    """Instantiate a neuron model with its published defaults and optional overrides.

    Parameters
    ----------
    name : str, optional
        ``"larval_lif"`` (default: Shiu et al.'s equations with larval,
        calibrated weights), ``"current_lif"`` (the adult model of Shiu et al.
        2024) or ``"conductance_lif"`` (Jürgensen et al. 2024); see
        :func:`available_models`.
    **overrides
        Parameter overrides, e.g. ``w_syn=0.3*mV``; for ``"conductance_lif"``
        cell-class overrides as ``KC={"g_L": 1*nS}``.

    Returns
    -------
    NeuronModel

    Raises
    ------
    ValueError
        For an unknown model name (naming close matches), an unknown
        parameter or a value of the wrong dimension.
    """
    try:
        cls = _REGISTRY[name]
    except (KeyError, TypeError):
        close = difflib.get_close_matches(str(name), list(_REGISTRY), n=3, cutoff=0.4)
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise ValueError(f"unknown neuron model {name!r}{hint} (available: {', '.join(available_models())})") from None
    model = cls()
    return model.with_overrides(**overrides) if overrides else model
