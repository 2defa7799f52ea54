"""Alias of :mod:`sim.analysis.cascade` (the module's home since the backend seam; this name keeps working)."""
import sys

from .analysis import cascade as _module

sys.modules[__name__] = _module
