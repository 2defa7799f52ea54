"""Stimuli and manipulations: drive neurons, silence neurons.

A stimulus is a description (what, when, how strongly); the spike trains it
produces are drawn per trial from the trial's seed by :func:`draw_inputs`, so
that a run is reproducible and two engines can be fed identical input events.

* :class:`PoissonDrive` -- sensory stimulation or optogenetic-style activation:
  the target neurons receive input events at a rate (constant, or a function
  of time) inside a time window; each event forces one spike of its target.
* :class:`Silence` -- silencing of a selection, either of its outgoing
  synapses only (like tetanus-toxin light chain: the neuron still fires but
  releases nothing) or of all its synapses and drive (like a hyperpolarising
  channel: the neuron is cut off from the network).

Input events follow a Poisson process with dead time (a "refractory Poisson"
process): after each event no event occurs for ``dead_time``; the hazard
outside the dead time is set so that the mean rate is exactly the requested
rate. With the default dead time (the model's refractory period plus one
step) no event falls into the target's refractory period, so a driven neuron
fires at the requested rate, provided the drive weight clears its threshold:
with a fixed threshold any weight above ``v_th - v_rest`` does, and the
adaptive :class:`models.LarvalLIF` derives its ``drive_weight`` from the
highest threshold its adaptation can reach, so its driven neurons fire at the
drive rate too (a smaller, user-set weight lets an adapted neuron skip
events). ``dead_time=0*ms`` gives a plain Poisson input
(as in Shiu et al. 2024), whose events during refractoriness are lost.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from collections.abc import Sequence
from typing import Callable, Union

import numpy as np
from brian2 import Hz, Quantity, ms, second

__all__ = ["PoissonDrive", "Activation", "Silence", "InputEvents", "TrialInputs", "draw_inputs", "as_indices",
           "SILENCE_MODES"]

#: How :class:`Silence` acts.
SILENCE_MODES = ("outgoing", "all")

Target = Union["Selection", Sequence[int], np.ndarray]  # noqa: F821


def as_indices(target, n: int | None = None) -> np.ndarray:
    """Neuron indices of a Selection, an index array or a single index."""
    idx = np.asarray(getattr(target, "indices", target), dtype=np.int64).ravel()
    if n is not None and idx.size and (idx.min() < 0 or idx.max() >= n):
        raise IndexError(f"neuron indices must lie in [0, {n}); got {idx.min()}..{idx.max()}")
    return np.unique(idx)


def _describe_target(target) -> str:
    desc = getattr(target, "description", None)
    n = len(as_indices(target))
    return f"{desc} ({n} neurons)" if desc else f"{n} neurons"


_MS_SI = float(np.asarray(ms))  # 0.001: a millisecond in seconds, as Brian2 divides by it


def _ms(q, what: str) -> float:
    if isinstance(q, Quantity):
        # Brian2's dimensions are interned, so `is` decides at once; `!=` (a float comparison of every
        # exponent) is the fallback. The division is Brian2's own (q / ms), without its unit bookkeeping.
        if q.dim is not second.dim and q.dim != second.dim:
            raise ValueError(f"{what} must be a time (e.g. 200*ms), got {q}")
        return float(np.asarray(q)) / _MS_SI
    if q is None:
        return None
    raise TypeError(f"{what} must be a Brian2 time quantity (e.g. 200*ms), got {q!r}")


@dataclass(frozen=True)
class PoissonDrive:
    """Input events at ``rate`` to every neuron of ``target`` between ``start`` and ``stop``.

    Parameters
    ----------
    target : Selection or sequence of int
        Neurons to drive (e.g. ``c.select(modality="olfactory", hemisphere="left")``).
    rate : Quantity (Hz) or callable
        Event rate per neuron. A callable gets the time (Brian2 quantity
        array, from trial start) and returns rates (Hz) for a time-varying drive.
    start, stop : Quantity (time)
        Window of the drive (``stop=None``: to the end of the trial).
    dead_time : Quantity (time), optional
        Minimum interval between events; default: the model's refractory
        period plus one time step (see the module docstring).
    name : str
        Label used in results and plots.
    """

    target: object
    rate: Union[Quantity, Callable]
    start: Quantity = field(default_factory=lambda: 0 * ms)
    stop: Quantity | None = None
    dead_time: Quantity | None = None
    name: str = ""

    def __post_init__(self):
        if not callable(self.rate):
            if not isinstance(self.rate, Quantity) or self.rate.dim != Hz.dim:
                raise ValueError(f"rate must be in Hz (e.g. 80*Hz) or a function of time, got {self.rate!r}")
            if float(self.rate / Hz) < 0:
                raise ValueError(f"rate must be >= 0 Hz, got {self.rate}")
        start = _ms(self.start, "start")
        stop = _ms(self.stop, "stop")
        if stop is not None and stop < start:
            raise ValueError(f"stop ({self.stop}) is before start ({self.start})")
        if self.dead_time is not None and _ms(self.dead_time, "dead_time") < 0:
            raise ValueError("dead_time must be >= 0 ms")
        if len(as_indices(self.target)) == 0:
            raise ValueError("the drive's target selection is empty")

    kind = "drive"

    def rates_hz(self, t_ms: np.ndarray) -> np.ndarray:
        """Rate (Hz) at times ``t_ms`` (ms from trial start), 0 outside the window."""
        if callable(self.rate):
            r = self.rate(t_ms * ms)
            r = np.broadcast_to(np.asarray(r / Hz if isinstance(r, Quantity) else r, dtype=float),
                                t_ms.shape)
        else:
            r = np.full(t_ms.shape, float(self.rate / Hz))
        start = _ms(self.start, "start")
        stop = _ms(self.stop, "stop") if self.stop is not None else np.inf
        return np.where((t_ms >= start) & (t_ms < stop), r, 0.0)

    def to_dict(self) -> dict:
        """JSON-serialisable description (for results metadata)."""
        return {
            "kind": type(self).__name__,
            "name": self.name,
            "target": _describe_target(self.target),
            "indices": as_indices(self.target).tolist(),
            "rate_hz": "function of time" if callable(self.rate) else float(self.rate / Hz),
            "start_ms": _ms(self.start, "start"),
            "stop_ms": _ms(self.stop, "stop"),
            "dead_time_ms": _ms(self.dead_time, "dead_time"),
        }


@dataclass(frozen=True)
class Activation(PoissonDrive):
    """Optogenetic-style activation: a :class:`PoissonDrive` of chosen neurons.

    Same parameters as :class:`PoissonDrive`; a separate name so that results
    say which manipulation was meant.
    """


@dataclass(frozen=True)
class Silence:
    """Silence ``target`` for the whole trial.

    Parameters
    ----------
    target : Selection or sequence of int
    mode : {"outgoing", "all"}
        ``"outgoing"``: the neurons' outgoing synapses transmit nothing (they
        still fire and are recorded). ``"all"``: incoming and outgoing synapses
        and any drive to them are removed, so they do not fire.
    """

    target: object
    mode: str = "outgoing"

    kind = "silence"

    def __post_init__(self):
        if self.mode not in SILENCE_MODES:
            raise ValueError(f"Silence mode must be one of {SILENCE_MODES}, got {self.mode!r}")

    def to_dict(self) -> dict:
        return {"kind": "Silence", "mode": self.mode, "target": _describe_target(self.target),
                "indices": as_indices(self.target).tolist()}


@dataclass
class InputEvents:
    """Input events of one trial: event ``k`` drives neuron ``neurons[k]`` at step ``steps[k]``.

    Steps count time steps of length ``dt`` from the start of the trial; the
    event is delivered in that step and the target spikes one step later.
    """

    neurons: np.ndarray
    steps: np.ndarray
    dt_ms: float = field(default=0.1)

    def __post_init__(self):
        self.neurons = np.asarray(self.neurons, dtype=np.int64)
        self.steps = np.asarray(self.steps, dtype=np.int64)
        if self.neurons.shape != self.steps.shape:
            raise ValueError("neurons and steps must have the same length")

    def __len__(self):
        return len(self.neurons)

    def without(self, neurons: np.ndarray) -> "InputEvents":
        """The events minus those to ``neurons``."""
        keep = ~np.isin(self.neurons, neurons)
        return InputEvents(self.neurons[keep], self.steps[keep], self.dt_ms)


#: Bit generators whose ``advance(k)`` skips exactly the ``k`` 64-bit outputs that ``k`` uniform doubles use.
_SKIPPABLE = (np.random.PCG64, np.random.PCG64DXSM)
#: At most this many separate runs of non-zero hazard are drawn piecewise (else one draw over the trial).
_MAX_RUNS = 64
#: Uniforms drawn at once for the drives that are on every step (a block of neurons; 32 MB).
_BLOCK = 4_000_000


@functools.cache
def _compiled():
    """The compiled loops of the draw (:mod:`sim._trains`), imported on first use."""
    from . import _trains

    return _trains


def _window(rng: np.random.Generator, n: int, a: int, b: int, p, dead_steps: int) -> np.ndarray:
    """The event steps in ``[a, b)``: ``u[k] < p[k - a]`` for ``u = rng.random(n)``, minus the dead time;
    ``rng`` is left where that draw would leave it (a PCG64 generator draws only the window's uniforms and
    is advanced over the rest)."""
    if not isinstance(rng.bit_generator, _SKIPPABLE):
        return _compiled().train(rng.random(n)[a:b], p, dead_steps, a)
    if a > 0:
        rng.bit_generator.advance(a)
    hits = _compiled().train(rng.random(b - a), p, dead_steps, a)
    if n > b:
        rng.bit_generator.advance(n - b)
    return hits


def _runs(rng: np.random.Generator, p: np.ndarray):
    """How :func:`_draw_train` draws a train of hazard ``p``: ``None`` for one draw over every step, else
    the ``(starts, stops)`` of the runs of non-zero hazard (drawn run by run, the generator advanced over
    the rest). The same for every neuron of a drive, so worked out once per drive."""
    n = len(p)
    if not isinstance(rng.bit_generator, _SKIPPABLE):
        return None
    nz = np.flatnonzero(p > 0)
    if 2 * len(nz) > n:
        return None
    if len(nz) == 0:
        return nz, nz
    cut = np.flatnonzero(np.diff(nz) > 1)
    if len(cut) >= _MAX_RUNS:
        return None
    return np.concatenate(([nz[0]], nz[cut + 1])), np.concatenate((nz[cut] + 1, [nz[-1] + 1]))


def _candidates(rng: np.random.Generator, p: np.ndarray, runs) -> np.ndarray:
    """The steps ``k`` with ``u[k] < p[k]`` for ``u = rng.random(len(p))``, leaving ``rng`` where that draw would.

    ``runs`` (from :func:`_runs`, not ``None``): where ``p`` is zero no step can be a
    candidate, so for a PCG64 generator the uniforms are drawn only over the runs
    of non-zero hazard and the generator is advanced over the rest: the same
    steps and the same generator state as the full draw, without drawing a
    trial's worth of numbers for a drive that is on for a fraction of it.
    """
    n = len(p)
    starts, stops = runs
    out, pos = [], 0
    for a, b in zip(starts.tolist(), stops.tolist()):
        if a > pos:
            rng.bit_generator.advance(a - pos)
        out.append(a + np.flatnonzero(rng.random(b - a) < p[a:b]))
        pos = b
    if n > pos:
        rng.bit_generator.advance(n - pos)
    return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)


def _draw_train(rng: np.random.Generator, p: np.ndarray, dead_steps: int, runs=False) -> np.ndarray:
    """Event steps of a discrete-time renewal process with per-step hazard ``p``.

    After an event at step ``k`` no event can occur before step
    ``k + dead_steps + 1``. ``runs``: :func:`_runs` of ``rng`` and ``p``
    when already known (default: worked out here).
    """
    if runs is False:
        runs = _runs(rng, p)
    if runs is None:
        return _compiled().train(rng.random(len(p)), p, dead_steps, 0)
    hits = _candidates(rng, p, runs)
    return hits if dead_steps == 0 else _compiled().dead_time(np.ascontiguousarray(hits, dtype=np.int64), dead_steps)


def draw_inputs(stimuli: Sequence[PoissonDrive], n_steps: int, dt_ms: float, default_dead_ms: float,
                rng: np.random.Generator) -> InputEvents:
    """Draw the input events of one trial for all drives.

    The per-step hazard outside the dead time is ``1 / (1/(r dt) - D)`` for a
    rate ``r`` and a dead time of ``D`` steps, which makes the mean inter-event
    interval exactly ``1/r`` for a constant rate (capped at 1 per step).

    Parameters
    ----------
    stimuli : sequence of PoissonDrive
    n_steps : int
        Steps per trial.
    dt_ms : float
        Time step (ms).
    default_dead_ms : float
        Dead time for drives that do not set their own (ms).
    rng : numpy.random.Generator
        The trial's generator.
    """
    t_ms = np.arange(n_steps) * dt_ms
    neurons, steps = [], []
    for stim in stimuli:
        dead_ms = default_dead_ms if stim.dead_time is None else _ms(stim.dead_time, "dead_time")
        dead_steps = int(round(dead_ms / dt_ms))
        if callable(stim.rate):
            r = stim.rates_hz(t_ms) * dt_ms * 1e-3  # expected events per step
            a, b = 0, n_steps
        else:  # a constant rate in a window [a, b) of steps: the same numbers, without whole-trial arrays
            stop = _ms(stim.stop, "stop")
            a = int(np.searchsorted(t_ms, _ms(stim.start, "start"), side="left"))
            b = n_steps if stop is None else int(np.searchsorted(t_ms, stop, side="left"))
            r = np.full(max(b - a, 0), float(stim.rate / Hz) * dt_ms * 1e-3)
        if len(r) and r.max() * (1 + dead_steps) > 1 + 1e-12:
            rmax = 1e3 / (dt_ms * (1 + dead_steps))
            raise ValueError(f"drive {stim.name or stim.to_dict()['target']}: rate above {rmax:.0f} Hz "
                             f"cannot be reached with a dead time of {dead_ms} ms and dt {dt_ms} ms")
        on = np.flatnonzero(r > 0)  # the hazard, computed where the drive is on
        p = np.zeros(len(r))
        with np.errstate(over="ignore"):  # a rate so small that 1 / r overflows: hazard 0
            p[on] = 1.0 / np.maximum(1.0 / r[on] - dead_steps, 1.0)
        idxs = as_indices(stim.target)
        runs = _runs(rng, p) if a == 0 and b == n_steps else None
        if a == 0 and b == n_steps and runs is None and len(idxs):  # every step drawn: a block of rows at once
            tr = _compiled()
            cap = n_steps // (dead_steps + 1) + 1
            rows = max(1, min(len(idxs), _BLOCK // max(n_steps, 1)))  # memory: at most _BLOCK uniforms at once
            for lo in range(0, len(idxs), rows):
                ix = np.ascontiguousarray(idxs[lo:lo + rows], dtype=np.int64)
                nb, sb = np.empty(len(ix) * cap, dtype=np.int64), np.empty(len(ix) * cap, dtype=np.int64)
                m = tr.trains(rng.random((len(ix), n_steps)), p, dead_steps, ix, nb, sb, 0)
                neurons.append(nb[:m])
                steps.append(sb[:m])
            continue
        for idx in idxs:
            if a == 0 and b == n_steps:
                k = _draw_train(rng, p, dead_steps, runs)
            else:
                k = _window(rng, n_steps, a, max(a, b), p, dead_steps)
            neurons.append(np.full(len(k), idx, dtype=np.int64))
            steps.append(k)
    if not neurons:
        return InputEvents(np.zeros(0, np.int64), np.zeros(0, np.int64), dt_ms)
    neurons, steps = _compiled().order(np.concatenate(neurons), np.concatenate(steps), n_steps)
    return InputEvents(neurons, steps, dt_ms)


class TrialInputs(Sequence):
    """The input events of ``trials`` trials, each drawn on first access (then kept).

    Trial ``k`` draws from ``SeedSequence([seed, k])``, so the events do not depend on the order in
    which trials are drawn, nor on the thread that draws them: the numba engine draws each trial in the
    thread that then simulates it (:meth:`thunk`), while the main thread need not wait for all draws
    first. Any other use reads the trials like a list.
    """

    def __init__(self, drives, n_steps: int, dt_ms: float, dead_ms: float, seed: int, trials: int):
        self._args = (list(drives), int(n_steps), float(dt_ms), float(dead_ms))
        self._seed, self._trials = int(seed), int(trials)
        self._drawn: dict = {}

    def __len__(self) -> int:
        return self._trials

    def __getitem__(self, k):
        if isinstance(k, slice):
            return [self[j] for j in range(*k.indices(self._trials))]
        k = int(k)
        if k < 0:
            k += self._trials
        if not 0 <= k < self._trials:
            raise IndexError(f"trial {k} of {self._trials}")
        if k not in self._drawn:
            drives, n_steps, dt_ms, dead_ms = self._args
            rng = np.random.default_rng(np.random.SeedSequence([self._seed, k]))
            self._drawn[k] = draw_inputs(drives, n_steps, dt_ms, dead_ms, rng)
        return self._drawn[k]

    def thunk(self, k: int) -> Callable[[], InputEvents]:
        """A function of no arguments that returns trial ``k``'s events (drawing them when first called)."""
        return lambda: self[k]
