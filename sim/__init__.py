"""Simulation: build Brian2 networks from connectomes, stimulate, silence, record, analyse.

Main entry points: :class:`Network` (built once, run many trials),
:class:`PoissonDrive` / :class:`Activation` / :class:`Silence` (stimuli and
manipulations) and :class:`Results` (spikes, rates, latencies, HDF5 files).

The names are imported on first use, so that ``import sim.engine_numba`` (the
numba engine, for worker processes) does not load Brian2.
"""
from importlib import import_module

_EXPORTS = {
    "Network": "network", "DEVICES": "network", "WEIGHT_MODES": "network", "cell_classes": "network",
    "versions": "network", "Results": "results", "PoissonDrive": "stimuli", "Activation": "stimuli",
    "Silence": "stimuli", "InputEvents": "stimuli", "draw_inputs": "stimuli", "Stepper": "stepping",
}

__all__ = ["Network", "DEVICES", "WEIGHT_MODES", "Results", "PoissonDrive", "Activation", "Silence",
           "InputEvents", "draw_inputs", "cell_classes", "versions", "Stepper"]


def __getattr__(name):
    if name in _EXPORTS:
        value = getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
