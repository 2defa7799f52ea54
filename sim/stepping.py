"""Advance a network in chunks, keeping its state: the basis of closed-loop experiments.

A :class:`Stepper` holds one state per larva (voltages, synaptic input,
refractoriness, the spikes still in flight within the synaptic delay, the
plastic weights and their eligibility traces) and advances all larvae by a
chunk of time with inputs chosen for that chunk from outside -- e.g. from
where each virtual larva's head is::

    stepper = net.stepper(larvae=10, seed=1)
    for _ in range(100):
        rates = my_senses(positions)                 # (larvae, neurons) in Hz
        spikes = stepper.step(20 * ms, rates=rates)  # per larva: neurons, times (ms)
        positions = my_body(positions, spikes)
    res = stepper.results()                          # everything so far, as sim.Results

Run on the numba engine (the backend's ``"stepping"`` capability; other devices
refuse). Given the same input events, stepping in chunks of any size gives
exactly the spikes of one uninterrupted run (``tests/sim/test_stepping.py``).
"""
from __future__ import annotations

import time

import numpy as np
from brian2 import Hz, ms, second

from .stimuli import InputEvents, PoissonDrive, Silence, draw_inputs

__all__ = ["Stepper"]


class Stepper:
    """Chunked, stateful simulation of ``larvae`` copies of a network (:meth:`sim.Network.stepper`).

    Parameters
    ----------
    network : sim.Network
        A network whose backend can step (device ``"numba"``).
    larvae : int
        Independent copies (trials), each with its own state and input.
    seed : int
        Seed of the input noise: larva ``k`` draws from ``SeedSequence([seed, k])``.
    silences : sequence of Silence
        Silencing that holds for the whole run.
    threads : int, optional
        Larvae stepped at once (default: the network's ``threads``).
    keep : "all", None or array of int, optional
        Which neurons' spikes are kept for :meth:`results` (default all; ``None``:
        none, for long closed-loop runs whose spikes would fill the memory). Every
        chunk's spikes are returned by :meth:`step` whatever is kept.
    """

    def __init__(self, network, larvae: int = 1, seed: int = 0, silences=(), threads: int | None = None,
                 keep="all"):
        from .backends import BackendError

        if "stepping" not in network.backend.capabilities:
            raise BackendError(f"device {network.device!r} cannot step a network in chunks; "
                               "build it with device='numba'")
        if int(larvae) < 1:
            raise ValueError(f"larvae must be >= 1, got {larvae!r}")
        bad = [s for s in silences if not isinstance(s, Silence)]
        if bad:
            raise TypeError(f"silences must be sim.Silence, got {bad[0]!r}")
        self.network = network
        self.larvae = int(larvae)
        self.seed = int(seed)
        self.silences = list(silences)
        self.threads = threads if threads is not None else network.threads
        self.engine = network._numba().engine(self.silences, 1, None)[0]
        self.states = [self.engine.initial_state() for _ in range(self.larvae)]
        self._rngs = [np.random.default_rng(np.random.SeedSequence([self.seed, k])) for k in range(self.larvae)]
        self._spikes = [[] for _ in range(self.larvae)]
        if keep is None or (isinstance(keep, str) and keep == "all"):
            self._keep = keep
        else:
            k = np.unique(np.asarray(keep, dtype=np.int64))
            if len(k) and (k[0] < 0 or k[-1] >= network.n_neurons):
                raise ValueError(f"keep: neuron indices must be in 0..{network.n_neurons - 1}")
            self._keep = k
        self._started = time.perf_counter()

    # -- time --------------------------------------------------------------------------
    @property
    def n_steps(self) -> int:
        """Steps run so far."""
        return self.states[0].k

    @property
    def t(self):
        """Time run so far (Brian2 quantity)."""
        return self.n_steps * self.network.dt

    def _steps_of(self, duration) -> int:
        if not hasattr(duration, "dim") or duration.dim != second.dim:
            raise ValueError(f"duration must be a time, e.g. 20*ms; got {duration!r}")
        n = int(round(float(duration / self.network.dt)))
        if n < 1 or abs(n * float(self.network.dt) - float(duration)) > 1e-6 * float(self.network.dt):
            raise ValueError(f"duration {duration} is not a positive whole number of steps of dt = {self.network.dt}")
        return n

    # -- inputs ------------------------------------------------------------------------
    def _events_from_rates(self, rates, n_steps: int) -> list:
        """Poisson drive events for each larva from per-neuron rates (Hz), independent per step."""
        n = self.network.n_neurons
        r = np.asarray(rates / Hz if hasattr(rates, "dim") else rates, dtype=float)
        if r.shape == (n,):
            r = np.broadcast_to(r, (self.larvae, n))
        if r.shape != (self.larvae, n):
            raise ValueError(f"rates must have shape ({n},) or ({self.larvae}, {n}) (larvae, neurons); got {r.shape}")
        if not np.all(np.isfinite(r)) or (r < 0).any():
            raise ValueError("rates must be finite and >= 0 Hz")
        p = np.minimum(r * float(self.network.dt), 1.0)
        dt_ms = self.network.dt_ms

        def draw(k):
            def events():
                active = np.flatnonzero(p[k] > 0)
                hits = self._rngs[k].random((n_steps, len(active))) < p[k, active]
                steps, pos = np.nonzero(hits)
                return InputEvents(active[pos], steps, dt_ms)
            return events

        # drawn by the engine inside each larva's task (in parallel); each larva has its own generator
        return [draw(k) for k in range(self.larvae)]

    def _events_from_stimuli(self, stimuli, n_steps: int) -> list:
        drives = [s for s in stimuli if isinstance(s, PoissonDrive)]
        if len(drives) != len(stimuli):
            raise TypeError("stimuli of a step must be PoissonDrive or Activation (silence with Stepper(silences=))")
        p = self.network.model.parameters
        dead_ms = (float(p["t_ref"].value / ms) + self.network.dt_ms if "t_ref" in p else self.network.dt_ms)
        return [draw_inputs(drives, n_steps, self.network.dt_ms, dead_ms, rng) for rng in self._rngs]

    # -- stepping ----------------------------------------------------------------------
    def step(self, duration, rates=None, stimuli=None, events=None) -> list:
        """Advance every larva by ``duration`` with this chunk's input.

        Parameters
        ----------
        duration : Quantity (time)
            A whole number of time steps.
        rates : array, optional
            Poisson input rate of every neuron (Hz): shape ``(neurons,)`` for all
            larvae or ``(larvae, neurons)``; each event forces a spike, as a drive does.
        stimuli : sequence of PoissonDrive / Activation, optional
            Drives with times counted from the chunk's start.
        events : sequence of InputEvents, optional
            Per larva, explicit events (steps from the chunk's start).

        Returns
        -------
        list of (ndarray, ndarray)
            Per larva, the chunk's spikes: neuron indices and times (ms from the
            start of the run).
        """
        n_steps = self._steps_of(duration)
        given = [x is not None for x in (rates, stimuli, events)]
        if sum(given) > 1:
            raise ValueError("give one of rates, stimuli, events")
        if events is not None:
            evs = list(events)
            if len(evs) != self.larvae:
                raise ValueError(f"events: {len(evs)} sets for {self.larvae} larvae")
        elif rates is not None:
            evs = self._events_from_rates(rates, n_steps)
        elif stimuli is not None:
            evs = self._events_from_stimuli(list(stimuli), n_steps)
        else:
            evs = [InputEvents(np.zeros(0, np.int64), np.zeros(0, np.int64), self.network.dt_ms)] * self.larvae
        out = self.engine.step(self.states, evs, n_steps, threads=self.threads)
        dt_ms = self.network.dt_ms
        result = []
        for k, (i, steps) in enumerate(out):
            if isinstance(self._keep, str):
                self._spikes[k].append((i, steps))
            elif self._keep is not None:
                m = np.isin(i, self._keep)
                self._spikes[k].append((i[m], steps[m]))
            result.append((i, np.round(steps * dt_ms, 6)))
        return result

    # -- state -------------------------------------------------------------------------
    def state(self, variable: str) -> np.ndarray:
        """A state variable of every larva now, ``[larva, neuron]`` (SI units), e.g. ``"v"``."""
        from .engine_numba import state_variables

        names = state_variables(self.network.model)
        if variable not in names:
            raise ValueError(f"unknown state variable {variable!r}; this model has {', '.join(names)}")
        return np.stack([st.state[names.index(variable)] for st in self.states])

    @property
    def plastic_weights(self) -> np.ndarray:
        """Plastic weights of every larva now, ``[larva, synapse]`` (empty without plasticity)."""
        return np.stack([st.pw for st in self.states])

    def results(self):
        """Everything run so far as :class:`sim.Results` (one trial per larva)."""
        from .network import versions
        from .results import Results

        net = self.network
        ks, iis, ts = [], [], []
        for k, chunks in enumerate(self._spikes):
            i = np.concatenate([c[0] for c in chunks] + [np.zeros(0, np.int64)])
            s = np.concatenate([c[1] for c in chunks] + [np.zeros(0, np.int64)])
            keep = np.isin(i, net.recorded) if len(net.recorded) < net.n_neurons else slice(None)
            iis.append(i[keep])
            ts.append(np.round(s[keep] * net.dt_ms, 6))
            ks.append(np.full(len(iis[-1]), k, dtype=np.int32))
        metadata = {"network": net.describe(), "stimuli": [s.to_dict() for s in self.silences],
                    "seed": self.seed, "trials": self.larvae, "duration_ms": self.n_steps * net.dt_ms,
                    "inputs": "stepped in chunks", "weight_scale": None, "versions": versions(),
                    "build_time_s": net.build_time, "compile_time_s": None,
                    "run_time_s": time.perf_counter() - self._started}
        return Results(np.concatenate(ks), np.concatenate(iis), np.concatenate(ts), neurons=net.connectome.neurons,
                       n_trials=self.larvae, duration=self.t, dt=net.dt, metadata=metadata,
                       population=net.connectome.name, recorded=net.recorded)
