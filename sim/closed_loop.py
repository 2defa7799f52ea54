"""Closed loop: arena -> senses -> whole-brain network -> decoder -> body -> arena, chunk by chunk.

Every chunk (default 50 ms) and for every larva at once:

1. the arena is sampled at the left and right sense organs of each larva's
   head (:meth:`models.arena.Arena.sample`);
2. the senses turn the samples into an input rate for every neuron
   (:class:`models.senses.Senses`);
3. the network advances by the chunk with those rates, its state kept
   (:class:`sim.stepping.Stepper`);
4. the decoder turns the chunk's spike counts of its readout neurons into motor
   commands (:mod:`models.decoders`; the behaviour hypothesis);
5. the bodies move under those commands for the next chunk (:class:`models.body.Bodies`),
   kept inside the dish.

The brain's reaction therefore lags the senses by one chunk (as a real brain
lags by its own latency). A decoder that needs no brain (``random_walk``) skips
steps 1-3. The result is a :class:`Trajectories`: positions, headings, modes,
what each larva sensed and what it was told, per chunk, with metadata.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from brian2 import ms, second

from larvasim.util import atomic_path, json_default

__all__ = ["Trajectories", "ClosedLoop", "run_closed_loop"]

#: Columns recorded per chunk and larva (besides the arena's samples at the head).
#: Metadata entries with one value per larva (joined by :meth:`Trajectories.concatenate`).
PER_LARVA_METADATA = ("turns", "pauses", "rejected_casts", "wall_contacts")
TRACK_FIELDS = ("x", "y", "heading", "head_x", "head_y", "mode", "turn_rate", "turn_bias", "dn_left_hz", "dn_right_hz")


@dataclass
class Trajectories:
    """What a closed-loop run recorded.

    Attributes
    ----------
    t : ndarray
        Times (s) of the records, one per chunk (the state at the chunk's end).
    data : dict
        Name -> ``[time, larva]`` array: ``x``, ``y`` (mm), ``heading`` (rad),
        ``head_x``, ``head_y``, ``mode`` (see :data:`models.body.MODES`), the
        decoder's ``turn_rate`` (Hz) and ``turn_bias``, the summed rates of the left
        and right descending neurons (Hz; NaN without a decoder that reads them), and the arena's
        samples at the head (``odour:A``, ``light``, ``temperature``).
    metadata : dict
        Arena, senses, decoder, body parameters, network, seed, timings, versions.
    """

    t: np.ndarray
    data: dict
    metadata: dict = field(default_factory=dict)

    @property
    def larvae(self) -> int:
        return int(self.data["x"].shape[1])

    def __getitem__(self, name: str) -> np.ndarray:
        return self.data[name]

    def select(self, larvae) -> Trajectories:
        """The given larvae only (indices)."""
        idx = np.asarray(larvae)
        return Trajectories(self.t, {k: v[:, idx] for k, v in self.data.items()}, dict(self.metadata))

    @staticmethod
    def concatenate(parts: list) -> Trajectories:
        """Larvae of several runs with the same times side by side (metadata of the first)."""
        if not parts:
            raise ValueError("nothing to concatenate")
        t = parts[0].t
        for p in parts[1:]:
            if len(p.t) != len(t) or not np.allclose(p.t, t):
                raise ValueError("trajectories to concatenate must share their times")
        data = {k: np.concatenate([p.data[k] for p in parts], axis=1) for k in parts[0].data}
        meta = dict(parts[0].metadata)
        for k in PER_LARVA_METADATA:
            if all(k in p.metadata for p in parts):
                meta[k] = [v for p in parts for v in p.metadata[k]]
        meta["larvae"] = sum(p.larvae for p in parts)
        meta["seeds"] = [p.metadata.get("seed") for p in parts]
        return Trajectories(t, data, meta)

    def to_frame(self, **constant_columns):
        """A tidy table: one row per larva and time (columns ``larva``, ``t_s``, then every field)."""
        import pandas as pd

        T, n = self.data["x"].shape
        cols = {"larva": np.tile(np.arange(n), T), "t_s": np.repeat(self.t, n)}
        for k, v in self.data.items():
            cols[k] = v.reshape(-1)
        df = pd.DataFrame(cols)
        for k, v in constant_columns.items():
            df.insert(0, k, v)
        return df

    def save(self, path) -> None:
        """Write to HDF5 atomically (``/t``, ``/data/<name>``, metadata as JSON in an attribute)."""
        import json

        import h5py

        with atomic_path(path, suffix=".h5") as tmp:
            with h5py.File(tmp, "w") as f:
                f.create_dataset("t", data=self.t)
                g = f.create_group("data")
                for k, v in self.data.items():
                    g.create_dataset(k, data=v, compression="gzip", compression_opts=4)
                f.attrs["metadata"] = json.dumps(self.metadata, default=json_default)
                f.attrs["format"] = "larvasim-trajectories-1"

    @classmethod
    def load(cls, path) -> Trajectories:
        """Read a file written by :meth:`save`."""
        import json

        import h5py

        try:
            with h5py.File(path, "r") as f:
                if f.attrs.get("format") != "larvasim-trajectories-1":
                    raise ValueError(f"{path}: not a larvasim trajectories file")
                t = f["t"][()]
                data = {k: f["data"][k][()] for k in f["data"]}
                meta = json.loads(f.attrs["metadata"])
        except OSError as e:
            raise ValueError(f"{path}: cannot read trajectories ({e})") from None
        return cls(t, data, meta)



def _seconds(x, what: str) -> float:
    if not hasattr(x, "dim") or x.dim != second.dim:
        raise ValueError(f"{what} must be a time (e.g. 50*ms), got {x!r}")
    return float(x / second)


class ClosedLoop:
    """A closed-loop run of ``larvae`` larvae (see the module docstring).

    Parameters
    ----------
    arena : models.arena.Arena
    decoder : models.decoders.Decoder
    larvae : int
    network : sim.Network, optional
        The brain (numba device); required unless the decoder ignores the brain.
    senses : models.senses.Senses, optional
        Required with a brain.
    seed : int
        Seed of the input noise (the stepper) and of the body (turn times, sides, angles).
    chunk : Quantity (time)
        Control period (default 50 ms): a whole number of the network's steps.
    start : dict, optional
        ``{"x": mm, "y": mm, "heading": rad}`` (scalars or arrays); default: the
        dish's centre, random headings.
    body_parameters : ParameterSet, optional
        :data:`models.body.BODY_PARAMETERS` or an override.
    silences : sequence of sim.Silence
        Neurons silenced for the whole run (e.g. Rh5 photoreceptors).
    stepper : sim.stepping.Stepper, optional
        Continue an existing stepper (e.g. one that has been trained) instead of
        starting the network afresh; its ``larvae`` must match.
    threads : int, optional
    keep_spikes : "all", None or array of int
        Which neurons' spikes the stepper keeps for :meth:`spikes` (default: none).
    """

    def __init__(self, arena, decoder, larvae: int, network=None, senses=None, seed: int = 0, chunk=50 * ms,
                 start: dict | None = None, body_parameters=None, silences=(), stepper=None,
                 threads: int | None = None, keep_spikes=None):
        from models.body import BODY_PARAMETERS, Bodies

        self.arena, self.decoder, self.senses = arena, decoder, senses
        self.larvae = int(larvae)
        self.seed = int(seed)
        self.chunk_s = _seconds(chunk, "chunk")
        if not self.chunk_s > 0:
            raise ValueError(f"chunk must be > 0 s, got {chunk!r}")
        self.network = network if stepper is None else stepper.network
        if decoder.uses_brain:
            if self.network is None:
                raise ValueError(f"decoder {decoder.name!r} reads the brain: give a network (device 'numba')")
            if senses is None:
                raise ValueError("a brain needs senses (models.senses.Senses)")
            decoder.bind(self.network.connectome)
            if stepper is None:
                stepper = self.network.stepper(larvae=self.larvae, seed=self.seed, silences=silences,
                                               threads=threads, keep=keep_spikes)
            elif stepper.larvae != self.larvae:
                raise ValueError(f"the stepper has {stepper.larvae} larvae, the run {self.larvae}")
            self.n_steps = int(round(self.chunk_s / float(self.network.dt / second)))
            if abs(self.n_steps * float(self.network.dt / second) - self.chunk_s) > 1e-9:
                raise ValueError(f"chunk {chunk} is not a whole number of steps of dt = {self.network.dt}")
        self.stepper = stepper
        rng = np.random.default_rng(np.random.SeedSequence([self.seed, 0xB0D7]))
        start = dict(start or {})
        unknown = set(start) - {"x", "y", "heading"}
        if unknown:
            raise ValueError(f"start: unknown key(s) {sorted(unknown)}; use x, y (mm) and heading (rad)")
        ps = body_parameters if body_parameters is not None else BODY_PARAMETERS
        self.bodies = Bodies(self.larvae, parameters=ps, rng=rng, x=start.get("x"), y=start.get("y"),
                             heading=start.get("heading"))
        r = np.hypot(self.bodies.x, self.bodies.y)
        if (r > arena.radius).any():
            raise ValueError(f"start position outside the arena (radius {arena.radius} mm)")
        decoder.reset(self.larvae, rng)
        if senses is not None:
            senses.reset(self.larvae)
        self.t = 0.0
        self._records: list[tuple[float, dict]] = []
        self.timings = {"senses_s": 0.0, "network_s": 0.0, "decoder_s": 0.0, "body_s": 0.0}
        self._commands = None

    def _sample(self):
        organs = self.bodies.sensor_positions()
        left = self.arena.sample(*organs["left"])
        right = self.arena.sample(*organs["right"])
        return left, right

    def run(self, duration, progress=None) -> Trajectories:
        """Advance every larva by ``duration``; returns everything recorded so far."""
        from models.body import MotorCommands

        total = _seconds(duration, "duration")
        n_chunks = int(round(total / self.chunk_s))
        if n_chunks < 1 or abs(n_chunks * self.chunk_s - total) > 1e-9:
            raise ValueError(f"duration {duration} is not a positive whole number of chunks of {self.chunk_s * 1e3:g} ms")
        dt = self.chunk_s
        nan = np.full(self.larvae, np.nan)
        if self._commands is None:
            self._commands = MotorCommands.free(self.larvae, float(self.bodies.p["turn_rate"]))
            self._record(self._commands, nan, nan, self._sample()[0])
        for c in range(n_chunks):
            t0 = time.perf_counter()
            left, right = self._sample()
            t1 = time.perf_counter()
            dn_l = dn_r = nan
            if self.decoder.uses_brain:
                rates = self.senses.rates(left, right, dt)
                t1 = time.perf_counter()
                out = self.stepper.step(self.n_steps * self.network.dt, rates=rates)
                t2 = time.perf_counter()
                ro = self.decoder.readout
                lookup = np.full(self.network.n_neurons, -1, dtype=np.int64)
                lookup[ro] = np.arange(len(ro))
                counts = np.zeros((self.larvae, len(ro)))
                for k, (i, _) in enumerate(out):
                    j = lookup[i]
                    j = j[j >= 0]
                    counts[k] = np.bincount(j, minlength=len(ro))
                cmd = self.decoder.command(counts, dt, modes=self.bodies.mode)
                sl = getattr(self.decoder, "_slices", None)
                if sl is not None:
                    dn_l = counts[:, sl["left"]].sum(axis=1) / dt
                    dn_r = counts[:, sl["right"]].sum(axis=1) / dt
            else:
                t2 = t1
                cmd = self.decoder.command(None, dt, modes=self.bodies.mode)
            t3 = time.perf_counter()
            self.bodies.step(dt, cmd, arena=self.arena)
            t4 = time.perf_counter()
            self.t += dt
            self._commands = cmd
            self._record(cmd, dn_l, dn_r, self.arena.sample(*self.bodies.head_position()))
            self.timings["senses_s"] += t1 - t0
            self.timings["network_s"] += t2 - t1
            self.timings["decoder_s"] += t3 - t2
            self.timings["body_s"] += t4 - t3
            if progress is not None:
                progress(c + 1, n_chunks)
        return self.trajectories()

    def _record(self, cmd, dn_l, dn_r, at_head: dict):
        snap = self.bodies.snapshot()
        snap.update({"turn_rate": np.asarray(cmd.turn_rate, float).copy(),
                     "turn_bias": np.asarray(cmd.turn_bias, float).copy(),
                     "dn_left_hz": np.asarray(dn_l, float).copy(), "dn_right_hz": np.asarray(dn_r, float).copy()})
        snap.update({k: np.asarray(v, float).copy() for k, v in at_head.items()})
        self._records.append((self.t, snap))

    def trajectories(self) -> Trajectories:
        """Everything recorded so far."""
        from sim.network import versions

        t = np.array([r[0] for r in self._records])
        keys = self._records[0][1].keys()
        data = {k: np.stack([r[1][k] for r in self._records]) for k in keys}
        meta = {"arena": self.arena.to_dict(), "decoder": self.decoder.describe(),
                "senses": self.senses.describe() if self.senses is not None else None,
                "body_parameters": self.bodies.parameters.to_dict() if hasattr(self.bodies.parameters, "to_dict") else None,
                "network": self.network.describe() if (self.network is not None and self.decoder.uses_brain) else None,
                "seed": self.seed, "larvae": self.larvae, "chunk_s": self.chunk_s, "duration_s": self.t,
                "timings": dict(self.timings),
                "turns": self.bodies.turns.tolist(), "pauses": self.bodies.pauses.tolist(),
                "rejected_casts": self.bodies.rejected.tolist(),
                "wall_contacts": self.bodies.wall_contacts.tolist(), "versions": versions()}
        return Trajectories(t, data, meta)


def run_closed_loop(arena, decoder, larvae: int, duration, **options) -> Trajectories:
    """One closed-loop run (:class:`ClosedLoop` with ``options``) for ``duration``."""
    return ClosedLoop(arena, decoder, larvae, **options).run(duration)
