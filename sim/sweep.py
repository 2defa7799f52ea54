"""Alias of :mod:`sim.workflows.sweep` (the module's home since the backend seam; this name keeps working)."""
import sys

from .workflows import sweep as _module

sys.modules[__name__] = _module
