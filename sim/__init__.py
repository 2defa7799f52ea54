"""Simulation: build Brian2 networks from connectomes, stimulate, silence, record, analyse.

Main entry points: :class:`Network` (built once, run many trials),
:class:`PoissonDrive` / :class:`Activation` / :class:`Silence` (stimuli and
manipulations) and :class:`Results` (spikes, rates, latencies, HDF5 files).
"""
from .network import DEVICES, WEIGHT_MODES, Network, cell_classes, versions
from .results import Results
from .stimuli import Activation, InputEvents, PoissonDrive, Silence, draw_inputs

__all__ = ["Network", "DEVICES", "WEIGHT_MODES", "Results", "PoissonDrive", "Activation", "Silence",
           "InputEvents", "draw_inputs", "cell_classes", "versions"]
