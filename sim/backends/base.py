"""The seam between a built :class:`sim.Network` and the code that simulates it.

A *backend* turns the network's description (neurons, weighted edges, drive,
silencing, recording, an optional plasticity rule) into spikes. Every device
name of :class:`sim.Network` maps to one backend class (:data:`BACKENDS`):

========================  =====================================================
device                    backend
========================  =====================================================
``"numpy"``, ``"cython"``  :class:`sim.backends.brian2_runtime.RuntimeBackend`
``"cpp_standalone"``      :class:`sim.backends.standalone.StandaloneBackend`
``"numba"``               :class:`sim.backends.numba.NumbaBackend`
========================  =====================================================

A backend declares what it can do (:attr:`Backend.capabilities`, and
:meth:`Backend.supports_model`); :meth:`Backend.check` refuses the rest
with a :class:`BackendError` that names the device and the missing feature.
:meth:`Backend.run` runs all trials of one condition and returns a
:class:`RawRun` (spikes per trial, recorded states); the network turns it
into :class:`sim.Results`. Every backend gives the same spikes for the same
input events (``tests/sim/test_network.py``, ``tests/sim/test_network_real.py`` and the numba engine
tests, whose references run on Brian2's numpy target).
"""
from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

__all__ = ["Backend", "BackendError", "RawRun", "BACKENDS", "DEFAULT_DEVICE", "DEVICES", "RUNTIME_DEVICES",
           "backend_class"]

#: Brian2 code-generation targets of the runtime device.
RUNTIME_DEVICES = ("numpy", "cython")
#: All devices: the runtime targets, Brian2's C++ standalone device and larvasim's numba engine.
DEVICES = RUNTIME_DEVICES + ("cpp_standalone", "numba")
#: The device every larvasim entry point uses unless told otherwise: larvasim's numba engine
#: (spike-identical to Brian2, no compiler, the fastest on one machine; docs/benchmarks.md).
DEFAULT_DEVICE = "numba"


class BackendError(ValueError):
    """A network the chosen device cannot run (names the device and what it lacks)."""


@dataclass
class RawRun:
    """What a backend returns for the trials of one run.

    Attributes
    ----------
    spikes : list of (ndarray of int, ndarray of float)
        Per trial: neuron indices and spike times (ms) of the recorded neurons.
    states : dict
        ``{variable: (neuron indices, times_ms, values[trial, time, neuron])}``
        of recorded state variables, or empty.
    plastic_states : dict
        ``{variable: (indices, times_ms, [values per trial], unit)}`` recorded by
        a plasticity rule, or empty.
    info : dict
        Backend facts for the metadata (e.g. ``compile_time_s``).
    """

    spikes: list
    states: dict = field(default_factory=dict)
    plastic_states: dict = field(default_factory=dict)
    info: dict = field(default_factory=dict)


class Backend(abc.ABC):
    """Simulates one :class:`sim.Network` on one device.

    Subclasses set :attr:`devices` and :attr:`capabilities` and implement
    :meth:`run`; :meth:`prepare` builds what can be built before the first run.

    Parameters
    ----------
    network : sim.Network
        The network (its edges, weights, signs, recording and plasticity).
    device : str
        The device name the network was given.
    """

    #: Device names this backend serves.
    devices: tuple[str, ...] = ()
    #: What the backend can do: ``plasticity``, ``record_states``, ``stepping`` (closed loop, one
    #: step at a time), ``threads`` (trials in parallel).
    capabilities: frozenset[str] = frozenset()

    def __init__(self, network, device: str):
        self.network = network
        self.device = device

    # -- what it can do ------------------------------------------------------------------
    def supports_model(self, model) -> bool:
        """Whether this backend can simulate ``model`` (default: any Brian2 model)."""
        return True

    def check(self) -> None:
        """Refuse a network this backend cannot run (:class:`BackendError`)."""
        net = self.network
        if not self.supports_model(net.model):
            raise BackendError(f"device {self.device!r} cannot run the neuron model {net.model.name!r} "
                               f"({type(net.model).__name__}); use one of the Brian2 devices "
                               f"{', '.join(d for d in DEVICES if d != self.device)}")
        if net.plasticity is not None:
            from models.plasticity import PlasticityRule

            if not isinstance(net.plasticity, PlasticityRule):
                missing = [m for m in ("plastic_edges", "plan", "build", "start", "collect", "summarise_trial",
                                       "to_dict") if not callable(getattr(net.plasticity, m, None))]
                raise TypeError(f"plasticity: {type(net.plasticity).__name__} is not a plasticity rule "
                                f"(models.plasticity.PlasticityRule); it lacks {', '.join(missing)}")
            if "plasticity" not in self.capabilities:
                raise BackendError(f"device {self.device!r} does not support plasticity rules")
        if net._record_states and "record_states" not in self.capabilities:
            raise BackendError(f"device {self.device!r} cannot record state variables")
        if net.threads is not None and "threads" not in self.capabilities:
            raise BackendError(f"threads= applies to device 'numba' only, not {self.device!r}")

    def prepare(self) -> None:
        """Build what does not depend on a run (called once, by the network's constructor)."""

    # -- running -------------------------------------------------------------------------
    @abc.abstractmethod
    def run(self, inputs: Sequence, silences: Sequence, n_steps: int, weight_scale: Any,
            progress=None) -> RawRun:
        """Run one trial per element of ``inputs``.

        Parameters
        ----------
        inputs : sequence of sim.InputEvents
            The drive events of each trial (drawn by the network from its seed).
        silences : sequence of sim.Silence
        n_steps : int
            Time steps per trial.
        weight_scale : float, dict or None
            See :meth:`sim.Network.run`.
        progress : callable, optional
            Called once per finished trial.
        """

    # -- helpers shared by backends ------------------------------------------------------
    def cleaned_inputs(self, inputs, silences, n_steps: int) -> list:
        """The trials' events minus those to fully silenced neurons, beyond the end, or repeated."""
        from ..stimuli import InputEvents

        net = self.network
        _, all_off = net._silenced(silences)
        out = []
        for ev in inputs:
            keep = (ev.steps < n_steps) & (ev.steps >= 0) & ~all_off[ev.neurons]
            key = np.unique(ev.steps[keep].astype(np.int64) * net.n_neurons + ev.neurons[keep])  # one per
            out.append(InputEvents(key % net.n_neurons, key // net.n_neurons, net.dt_ms))         # step, neuron
        return out


#: Backend class per device name (filled by :func:`backend_class` on first use).
BACKENDS: dict[str, type[Backend]] = {}


def backend_class(device: str) -> type[Backend]:
    """The backend class that serves ``device``.

    Raises
    ------
    ValueError
        For an unknown device (the message lists the known ones).
    """
    if not BACKENDS:
        from .brian2_runtime import RuntimeBackend
        from .numba import NumbaBackend
        from .standalone import StandaloneBackend

        for cls in (RuntimeBackend, StandaloneBackend, NumbaBackend):
            for d in cls.devices:
                BACKENDS[d] = cls
    if device not in BACKENDS:
        raise ValueError(f"device must be one of {DEVICES}, got {device!r}")
    return BACKENDS[device]
