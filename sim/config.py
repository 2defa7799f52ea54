"""Alias of :mod:`sim.workflows.config` (the module's home since the backend seam; this name keeps working)."""
import sys

from .workflows import config as _module

sys.modules[__name__] = _module
