"""Alias of :mod:`sim.analysis.plots` (the module's home since the backend seam; this name keeps working)."""
import sys

from .analysis import plots as _module

sys.modules[__name__] = _module
