"""Backends: the devices that simulate a :class:`sim.Network` behind one interface.

See :mod:`sim.backends.base` for the interface (:class:`Backend`, :class:`RawRun`)
and the device -> backend table. The Brian2 backends are imported on first
use, so that ``import sim.engine_numba`` stays free of Brian2.
"""
from .base import (BACKENDS, DEFAULT_DEVICE, DEVICES, RUNTIME_DEVICES, Backend, BackendError, RawRun,
                   backend_class)

__all__ = ["BACKENDS", "DEFAULT_DEVICE", "DEVICES", "RUNTIME_DEVICES", "Backend", "BackendError", "RawRun",
           "backend_class"]
