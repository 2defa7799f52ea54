"""A 2-D larva body: peristaltic runs, head casts and turns, pauses and backing up.

The body is the kinematic model of the behaviour literature: the larva crawls
forward in peristaltic strides, ends a run with a head cast to one side, turns
its body towards where the head points, and runs again; it can pause and crawl
backward. It does not model segments or muscles (the ventral nerve cord is not
in the connectome): the motor commands of a decoder set *what* the body does
(:class:`MotorCommands`), the parameters here set *how*, with the values of
free-crawling larvae (:data:`BODY_PARAMETERS`, each with its source).

Modes of one larva:

``RUN``
    Forward crawling. Speed follows the stride cycle,
    ``v(t) = v_run * speed * (1 - cos(2 pi phase))`` (mean ``v_run * speed``;
    the body advances during each peristaltic wave and stops between waves),
    heading drifts by angular noise plus the decoder's steering. A turn starts
    at rate ``turn_rate`` and a spontaneous pause at ``pause_rate`` (Poisson
    processes).
``CAST``
    The body stops; the head sweeps to the side chosen by ``turn_bias`` until
    it points ``angle`` away from the body axis (angle drawn from the turn-angle
    distribution), in ``cast_duration``. If the decoder rejects the cast the
    head sweeps to the other side (at most :data:`MAX_CASTS` casts per turn);
    otherwise the body turns to where the head points and the run resumes.
``PAUSE``
    No movement: while the decoder says ``stop``, or for a spontaneous pause
    (exponential duration, mean ``pause_duration``, clipped to 0.12-16 s).
``BACK``
    Backward crawling at ``back_speed`` while the decoder says ``back``.

All larvae are advanced at once (arrays of length ``larvae``); every random
draw comes from the generator passed in, so a run is reproducible from its
seed.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from brian2 import Hz, mm, second

from .parameters import Parameter, ParameterSet

__all__ = ["BODY_PARAMETERS", "MAX_CASTS", "MODES", "RUN", "CAST", "PAUSE", "BACK", "Bodies", "MotorCommands",
           "body_parameters", "check_body_parameters"]

RUN, CAST, PAUSE, BACK = 0, 1, 2, 3
#: Most head casts in one turn (the last one is accepted whatever the decoder says): an assumption.
MAX_CASTS = 4
#: Mode codes -> names (the ``mode`` column of a trajectory).
MODES = {RUN: "run", CAST: "cast", PAUSE: "pause", BACK: "back"}

_SAKAGIANNIS = ("Sakagiannis, Jürgensen & Nawrot 2025, eLife 14:RP104262, doi:10.7554/eLife.104262, Table 1 "
                "(locomotory model calibrated on 200 free-exploring 3rd-instar Canton S larvae)")
_WOSNIACK = ("Wosniack, Festa, Hu, Gjorgjieva & Berni 2022, eLife 11:e75826, doi:10.7554/eLife.75826, Table 2 "
             "(3rd-instar larvae on plain agar; rover 0.84 mm/s, 0.044 turns/s, 0.0083 pauses/s; "
             "sitter 0.96 mm/s, 0.046 turns/s, 0.0063 pauses/s)")

def _turn_rate_parameter() -> Parameter:
    """The spontaneous turn rate: calibrated (experiments/calibrate_body.py) so that tracks measured as
    Wosniack et al. 2022 measured theirs give their turns per minute."""
    import json
    from pathlib import Path

    path = Path(__file__).with_name("data") / "body_calibration.json"
    description = "rate of starting a turn in a run, no stimulus"
    if not path.is_file():
        return Parameter("turn_rate", 0.045 * Hz, "Hz", _WOSNIACK + ": mean of the two strains (uncalibrated)",
                         description)
    rec = json.loads(path.read_text())
    return Parameter("turn_rate", rec["turn_rate_hz"] * Hz, "Hz",
                     f"calibrated: {rec['script']} ({rec['objective']}; {rec['larvae']} larvae x "
                     f"{rec['duration_s']:g} s, seed {rec['seed']}; target: {rec['target_source']})", description)


#: Kinematic parameters of the body (free-crawling 3rd-instar larvae on agar). Where two strains
#: were measured (Wosniack et al.: rover and sitter) the value is their mean.
BODY_PARAMETERS = ParameterSet([
    Parameter("body_length", 4.0 * mm, "mm", _SAKAGIANNIS, "length of the larva (head to tail)"),
    Parameter("stride_frequency", 1.42 * Hz, "Hz", _SAKAGIANNIS, "peristaltic strides per second in a run"),
    Parameter("run_speed", 0.90 * mm / second, "mm/second", _WOSNIACK + ": mean of the two strains",
              "mean forward speed in a run"),
    Parameter("back_speed", 0.90 * mm / second, "mm/second",
              "assumption: backward waves at the forward wave rate (Carreira-Rosario et al. 2018, eLife 7:e38554, "
              "doi:10.7554/eLife.38554: 0.48-0.56 backward vs 0.48-0.65 forward waves/s under MDN activation) "
              "with the forward stride length", "speed of backward crawling"),
    _turn_rate_parameter(),
    Parameter("pause_rate", 0.0073 * Hz, "Hz", _WOSNIACK + ": mean of the two strains",
              "rate of spontaneous pauses in a run, no stimulus"),
    Parameter("pause_duration", 1.0 * second, "second",
              _SAKAGIANNIS + ": pause durations exponential with mean 1.0 s (range 0.12-16 s)",
              "mean duration of a spontaneous pause"),
    Parameter("turn_angle_mean", 1.0, "1",
              "assumption (no verified published value: Wosniack et al. 2022 fit a von Mises per larva but do "
              "not report the parameters in the text)", "mean |reorientation| of a turn (rad)"),
    Parameter("turn_angle_sd", 0.5, "1", "assumption (as turn_angle_mean)", "s.d. of |reorientation| of a turn (rad)"),
    Parameter("cast_duration", 1.25 * second, "second",
              "Gepner et al. 2015, eLife 4:e06229, doi:10.7554/eLife.06229, Fig. 2: mean head-sweep duration "
              "1.25 s (2nd instar)", "time the head takes to sweep to a turn's full angle"),
    Parameter("heading_diffusion", 0.002, "1", "assumption (small: keeps runs straight at the 2.5 mm scale "
              "at which Wosniack et al. detect turns)", "heading noise in a run (rad^2/s)"),
    Parameter("head_sensor_offset", 0.1 * mm, "mm", "assumption (the two dorsal organs sit on either side of "
              "the head tip; no verified distance)", "distance of the left and right sense organs from the midline"),
], name="larva_body")


def body_parameters(**overrides) -> ParameterSet:
    """:data:`BODY_PARAMETERS` with overrides (Brian2 quantities), checked for range."""
    return check_body_parameters(BODY_PARAMETERS.override(**overrides) if overrides else BODY_PARAMETERS)


def check_body_parameters(ps: ParameterSet) -> ParameterSet:
    """Raise ``ValueError`` naming the parameter when a body parameter is out of range; else return ``ps``."""
    missing = [k for k in BODY_PARAMETERS if k not in ps.names]
    if missing:
        raise ValueError(f"body parameters lack {missing}")
    v = _values(ps)
    for k in ("body_length", "stride_frequency", "run_speed", "cast_duration", "pause_duration"):
        if not (np.isfinite(v[k]) and v[k] > 0):
            raise ValueError(f"body parameter {k} must be > 0, got {ps[k].value}")
    for k in ("back_speed", "turn_rate", "pause_rate", "turn_angle_sd", "heading_diffusion", "head_sensor_offset"):
        if not (np.isfinite(v[k]) and v[k] >= 0):
            raise ValueError(f"body parameter {k} must be >= 0, got {ps[k].value}")
    if not 0 < v["turn_angle_mean"] <= np.pi:
        raise ValueError(f"body parameter turn_angle_mean must be in (0, pi] rad, got {v['turn_angle_mean']}")
    return ps


def _values(ps: ParameterSet) -> dict:
    """Parameter values as floats in the units they are written in (mm, s, Hz, rad, ...)."""
    return {name: float(ps[name].magnitude) for name in ps}


@dataclass
class MotorCommands:
    """What the body is told to do for the next chunk, one value per larva.

    Parameters
    ----------
    speed : array
        Factor on the free-crawling run speed (1: free crawling), clipped to [0, 3].
    turn_rate : array
        Rate of starting a turn during a run (Hz).
    turn_bias : array
        In [-1, 1]: probability of turning left is ``(1 + bias) / 2`` (left: counter-clockwise).
    steer : array
        Angular velocity added during a run (rad/s, positive: left).
    stop : array of bool
        Pause while true.
    back : array of bool
        Crawl backward while true.
    reject : array of bool, optional
        When a head cast reaches its angle: reject it (the head sweeps to the
        other side instead of the body turning; at most ``MAX_CASTS`` casts per
        turn, the last is accepted).
    """

    speed: np.ndarray
    turn_rate: np.ndarray
    turn_bias: np.ndarray
    steer: np.ndarray
    stop: np.ndarray
    back: np.ndarray
    reject: np.ndarray | None = None

    @classmethod
    def free(cls, larvae: int, turn_rate: float) -> MotorCommands:
        """Free crawling: speed 1, the given turn rate, no bias, no steering."""
        z = np.zeros(larvae)
        return cls(np.ones(larvae), np.full(larvae, float(turn_rate)), z.copy(), z.copy(),
                   np.zeros(larvae, bool), np.zeros(larvae, bool), np.zeros(larvae, bool))

    def checked(self, larvae: int) -> MotorCommands:
        """Broadcast to ``larvae`` and check: finite values, rates >= 0, bias in [-1, 1]."""
        out = {}
        for name in ("speed", "turn_rate", "turn_bias", "steer", "stop", "back", "reject"):
            v = getattr(self, name)
            a = np.broadcast_to(np.asarray(False if v is None else v), (larvae,))
            if name not in ("stop", "back", "reject"):
                a = a.astype(float)
                if not np.all(np.isfinite(a)):
                    raise ValueError(f"motor command {name!r} is not finite: {a[~np.isfinite(a)][:3]}")
            out[name] = a
        if (out["turn_rate"] < 0).any():
            raise ValueError("motor command 'turn_rate' must be >= 0 Hz")
        if (np.abs(out["turn_bias"]) > 1).any():
            raise ValueError("motor command 'turn_bias' must be in [-1, 1]")
        out["speed"] = np.clip(out["speed"], 0.0, 3.0)
        out["stop"] = out["stop"].astype(bool)
        out["back"] = out["back"].astype(bool)
        out["reject"] = out["reject"].astype(bool)
        return MotorCommands(**out)


@dataclass
class Bodies:
    """The bodies of ``larvae`` larvae (positions in mm, angles in rad).

    Parameters
    ----------
    larvae : int
    parameters : ParameterSet
        :data:`BODY_PARAMETERS` or an override (:func:`body_parameters`).
    rng : numpy.random.Generator
        Source of every random draw (turn times, sides, angles, heading noise).
    x, y, heading : array, optional
        Start positions (mm) and headings (rad); default: origin, random headings.
    """

    larvae: int
    parameters: ParameterSet = field(default_factory=lambda: BODY_PARAMETERS)
    rng: np.random.Generator = field(default_factory=lambda: np.random.default_rng(0))
    x: np.ndarray | None = None
    y: np.ndarray | None = None
    heading: np.ndarray | None = None

    def __post_init__(self):
        n = int(self.larvae)
        if n < 1:
            raise ValueError(f"larvae must be >= 1, got {self.larvae!r}")
        self.p = _values(check_body_parameters(self.parameters))
        self.x = np.zeros(n) if self.x is None else np.array(np.broadcast_to(self.x, (n,)), float)
        self.y = np.zeros(n) if self.y is None else np.array(np.broadcast_to(self.y, (n,)), float)
        self.heading = (self.rng.uniform(-np.pi, np.pi, n) if self.heading is None
                        else np.array(np.broadcast_to(self.heading, (n,)), float))
        self.head_angle = np.zeros(n)       # head direction relative to the body axis (rad)
        self.mode = np.full(n, RUN, dtype=np.int8)
        self.cast_target = np.zeros(n)      # signed head angle a cast swings to (rad)
        self.cast_speed = np.zeros(n)       # angular speed of the head in the current cast (rad/s)
        self.phase = self.rng.uniform(0, 1, n)  # stride phase (cycles)
        self.strides = np.zeros(n)          # completed strides
        self.turns = np.zeros(n, dtype=np.int64)
        self.pauses = np.zeros(n, dtype=np.int64)
        self.casts = np.zeros(n, dtype=np.int64)      # casts so far in the current turn
        self.rejected = np.zeros(n, dtype=np.int64)   # rejected casts in the whole run
        self.pause_left = np.zeros(n)       # seconds left of a spontaneous pause
        self.wall_contacts = np.zeros(n, dtype=np.int64)

    # -- geometry ------------------------------------------------------------------------
    @property
    def head_direction(self) -> np.ndarray:
        """Direction the head points (rad)."""
        return self.heading + self.head_angle

    def head_position(self) -> tuple[np.ndarray, np.ndarray]:
        """Head tip (mm).

        The body's centre is ``(x, y)``; the anterior body bends at a pivot 0.2 body
        lengths ahead of the centre, and the head tip sits 0.3 body lengths beyond the
        pivot along the head's direction (so the tip is half a body length ahead when
        straight). A cast of 90 degrees moves the tip 0.3 body lengths sideways: a
        geometric assumption of this model, not a measurement.
        """
        L = self.p["body_length"]
        hd = self.head_direction
        px = self.x + 0.2 * L * np.cos(self.heading)
        py = self.y + 0.2 * L * np.sin(self.heading)
        return px + 0.3 * L * np.cos(hd), py + 0.3 * L * np.sin(hd)

    def sensor_positions(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Left and right sense organs (mm): the head tip, offset across the head's axis."""
        hx, hy = self.head_position()
        hd = self.head_direction
        o = self.p["head_sensor_offset"]
        lx, ly = -np.sin(hd) * o, np.cos(hd) * o   # unit vector to the left, scaled
        return {"left": (hx + lx, hy + ly), "right": (hx - lx, hy - ly)}

    # -- dynamics ------------------------------------------------------------------------
    def step(self, dt: float, commands: MotorCommands, arena=None) -> None:
        """Advance every body by ``dt`` seconds under ``commands`` (constant over the step).

        Parameters
        ----------
        dt : float
            Step in seconds (the body takes sub-steps of at most 25 ms).
        commands : MotorCommands
        arena : models.arena.Arena, optional
            Keeps the larvae inside its wall (see :meth:`models.arena.Arena.confine`).
        """
        if not dt > 0:
            raise ValueError(f"dt must be > 0 s, got {dt!r}")
        cmd = commands.checked(self.larvae)
        n_sub = max(1, int(np.ceil(dt / 0.025 - 1e-9)))
        h = dt / n_sub
        for _ in range(n_sub):
            self._substep(h, cmd)
            if arena is not None:
                hit = arena.confine(self)
                self.wall_contacts += hit

    def _substep(self, h: float, cmd: MotorCommands) -> None:
        p, rng = self.p, self.rng
        # mode switches that the commands force (a cast in progress finishes first)
        casting = self.mode == CAST
        self.mode[~casting & cmd.back] = BACK
        forced = ~casting & ~cmd.back & cmd.stop
        self.mode[forced] = PAUSE
        self.pause_left[forced] = np.maximum(self.pause_left[forced], h)
        resume = ~casting & ~cmd.back & ~cmd.stop & (
            ((self.mode == PAUSE) & (self.pause_left <= 0)) | (self.mode == BACK))
        self.mode[resume] = RUN

        # runs: strides, steering, heading noise, then turn and pause onsets
        run = self.mode == RUN
        if run.any():
            f = p["stride_frequency"] * np.sqrt(cmd.speed[run])  # faster by both longer and more strides
            ph0 = self.phase[run]
            ph1 = ph0 + f * h
            # displacement of v = v_mean (1 - cos 2 pi phase) over the sub-step, integrated exactly in phase
            mean_v = p["run_speed"] * cmd.speed[run]
            stride_len = np.divide(mean_v, f, out=np.zeros_like(mean_v), where=f > 0)
            dist = stride_len * ((ph1 - ph0) - (np.sin(2 * np.pi * ph1) - np.sin(2 * np.pi * ph0)) / (2 * np.pi))
            self.strides[run] += np.floor(ph1) - np.floor(ph0)
            self.phase[run] = ph1 % 1.0
            noise = rng.normal(0.0, np.sqrt(2 * p["heading_diffusion"] * h), run.sum())
            self.heading[run] += cmd.steer[run] * h + noise
            self.x[run] += dist * np.cos(self.heading[run])
            self.y[run] += dist * np.sin(self.heading[run])
            u = rng.random(run.sum())
            p_turn = 1.0 - np.exp(-cmd.turn_rate[run] * h)
            p_pause = 1.0 - np.exp(-p["pause_rate"] * h)
            start = np.zeros(self.larvae, bool)
            start[run] = u < p_turn
            pause = np.zeros(self.larvae, bool)
            pause[run] = (u >= p_turn) & (u < p_turn + p_pause)
            if start.any():
                k = start.sum()
                left = rng.random(k) < 0.5 * (1.0 + cmd.turn_bias[start])
                angle = np.minimum(np.abs(rng.normal(p["turn_angle_mean"], p["turn_angle_sd"], k)), np.pi)
                self.cast_target[start] = np.where(left, angle, -angle)
                self.cast_speed[start] = angle / p["cast_duration"]
                self.casts[start] = 1
                self.mode[start] = CAST
                self.turns[start] += 1
            if pause.any():
                d = rng.exponential(p["pause_duration"], pause.sum())
                self.pause_left[pause] = np.clip(d, 0.12, 16.0)
                self.mode[pause] = PAUSE
                self.pauses[pause] += 1

        # casts: the head sweeps to its target in cast_duration, then the body follows it
        cast = self.mode == CAST
        if cast.any():
            tgt = self.cast_target[cast]
            step = self.cast_speed[cast] * h
            ha = self.head_angle[cast]
            ha = ha + np.clip(tgt - ha, -step, step)
            self.head_angle[cast] = ha
            idx = np.flatnonzero(cast)[np.abs(tgt - ha) < 1e-9]
            if len(idx):
                again = idx[cmd.reject[idx] & (self.casts[idx] < MAX_CASTS)]
                if len(again):  # rejected: sweep to the other side
                    angle = np.minimum(np.abs(rng.normal(p["turn_angle_mean"], p["turn_angle_sd"], len(again))), np.pi)
                    self.cast_target[again] = -np.sign(self.cast_target[again]) * angle
                    self.cast_speed[again] = (np.abs(self.cast_target[again] - self.head_angle[again])
                                              / p["cast_duration"])
                    self.casts[again] += 1
                    self.rejected[again] += 1
                done = np.setdiff1d(idx, again)
                self.heading[done] += self.head_angle[done]
                self.head_angle[done] = 0.0
                self.mode[done] = RUN

        paused = self.mode == PAUSE
        self.pause_left[paused] -= h
        back = self.mode == BACK
        if back.any():
            d = -p["back_speed"] * h
            self.x[back] += d * np.cos(self.heading[back])
            self.y[back] += d * np.sin(self.heading[back])
        self.heading = np.angle(np.exp(1j * self.heading))  # wrap to (-pi, pi]

    def snapshot(self) -> dict[str, np.ndarray]:
        """Copies of the state that a trajectory records."""
        hx, hy = self.head_position()
        return {"x": self.x.copy(), "y": self.y.copy(), "heading": self.heading.copy(),
                "head_x": hx, "head_y": hy, "mode": self.mode.copy()}
