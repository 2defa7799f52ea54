"""Alias of :mod:`sim.workflows.sweep_store` (the module's home since the backend seam; this name keeps working)."""
import sys

from .workflows import sweep_store as _module

sys.modules[__name__] = _module
