"""Motor decoders: descending-neuron output -> motor commands. The behaviour hypothesis.

The connectome ends where the brain's descending neurons (DN-VNC, DN-SEZ)
enter the ventral nerve cord and subesophageal zone, which the data do not
contain. How their spikes become crawling, turning, stopping and backing up is
therefore a *hypothesis*, and larvasim keeps it explicit: a decoder is a named,
documented object with its rationale, its sources and its parameters, recorded
with every behaviour result, and decoders are swappable (:data:`DECODERS`,
:func:`get_decoder`, :func:`register_decoder`).

``random_walk``
    The null: ignores the brain; free crawling with the body's own turn rate.
``cast_sampling`` (the assays' default)
    Run termination by a fall of total descending output, head-cast acceptance
    by its rise during the cast; stopping by PDM-DN, backing up by MDN (see
    :class:`CastSampling`).
``lr_asymmetry``
    Steering by the left/right imbalance of descending output, run termination
    by its change over time, stopping and backing up as above (:class:`LRAsymmetry`).

A decoder sees spike counts of its readout neurons per chunk and returns
:class:`models.body.MotorCommands` for the next chunk.
"""
from __future__ import annotations

import difflib

import numpy as np
from brian2 import Hz, second

from .body import BODY_PARAMETERS, MotorCommands
from .parameters import Parameter, ParameterSet

__all__ = ["CastSampling", "DECODERS", "Decoder", "DecoderError", "LRAsymmetry", "RandomWalk", "available_decoders",
           "get_decoder", "register_decoder"]


class DecoderError(ValueError):
    """An unknown decoder, a bad decoder parameter, or readout neurons missing from the data."""


class Decoder:
    """Base class: a named hypothesis from descending output to motor commands.

    Subclasses set ``name``, ``rationale``, ``sources``, ``DEFAULTS`` (a
    :class:`ParameterSet`) and implement :meth:`bind`, :meth:`reset` and
    :meth:`command`. ``uses_brain = False`` marks a decoder that needs no
    network (a null model): the closed loop then skips the simulation.
    """

    name = "decoder"
    rationale = ""
    sources: tuple = ()
    uses_brain = True
    DEFAULTS = ParameterSet([], name="decoder")

    def __init__(self, **overrides):
        try:
            self.parameters = self.DEFAULTS.override(**overrides) if overrides else self.DEFAULTS
        except (KeyError, ValueError) as e:
            raise DecoderError(f"decoder {self.name!r}: {e}") from None
        self.p = {k: float(self.parameters[k].magnitude) for k in self.parameters}
        self.check()
        self.readout = np.zeros(0, dtype=np.int64)

    def check(self) -> None:
        """Range checks of the parameters (raise :class:`DecoderError`)."""

    def _check_ranges(self, positive=(), non_negative=()) -> None:
        """Raise :class:`DecoderError` naming a parameter that is not > 0 / >= 0 (or, with
        ``tau_fast`` and ``tau_slow``, when the slow average is not slower)."""
        p = self.p
        for k in positive:
            if not (np.isfinite(p[k]) and p[k] > 0):
                raise DecoderError(f"decoder {self.name!r}: parameter {k} must be > 0, got {self.parameters[k].value}")
        for k in non_negative:
            if not (np.isfinite(p[k]) and p[k] >= 0):
                raise DecoderError(f"decoder {self.name!r}: parameter {k} must be >= 0, got {self.parameters[k].value}")
        if "tau_slow" in p and "tau_fast" in p and not p["tau_slow"] > p["tau_fast"]:
            raise DecoderError(f"decoder {self.name!r}: tau_slow must exceed tau_fast")

    def bind(self, connectome) -> None:
        """Find the readout neurons in ``connectome`` (sets ``self.readout``)."""

    def reset(self, larvae: int, rng: np.random.Generator) -> None:
        """Start of a run."""
        self.larvae = int(larvae)

    def command(self, counts: np.ndarray, dt: float, modes: np.ndarray | None = None) -> MotorCommands:
        """Motor commands from the chunk's spike counts ``[larva, readout neuron]`` over ``dt`` s.

        ``modes`` are the bodies' current modes (:data:`models.body.MODES`), for
        decoders whose hypothesis depends on what the body is doing (head casts).
        """
        raise NotImplementedError

    def describe(self) -> dict:
        """The hypothesis, for a result's metadata."""
        return {"name": self.name, "rationale": self.rationale, "sources": list(self.sources),
                "uses_brain": self.uses_brain, "parameters": self.parameters.to_dict()}


def _free_turn_rate() -> float:
    return float(BODY_PARAMETERS["turn_rate"].magnitude)


class RandomWalk(Decoder):
    """The null decoder: free crawling, the brain ignored (the control of every assay)."""

    name = "random_walk"
    rationale = ("Null model: the larva runs and turns with the free-crawling kinematics of the body, "
                 "whatever its brain does. Any assay result that a brain-driven decoder shares with this "
                 "one is not due to the brain.")
    sources = ("the body's free-crawling parameters (models.body.BODY_PARAMETERS)",)
    uses_brain = False

    def command(self, counts, dt, modes=None):
        return MotorCommands.free(self.larvae, _free_turn_rate())


def _sided(connectome, celltypes) -> tuple[np.ndarray, np.ndarray]:
    n = connectome.neurons
    sel = n["celltype"].isin(celltypes).to_numpy()
    h = n["hemisphere"].fillna("").astype(str).str.lower().to_numpy()
    return np.flatnonzero(sel & (h == "left")), np.flatnonzero(sel & (h == "right"))


def _named(connectome, pattern: str) -> np.ndarray:
    n = connectome.neurons
    if "name" not in n.columns:
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(n["name"].fillna("").astype(str).str.contains(pattern, regex=True).to_numpy())


class LRAsymmetry(Decoder):
    """Left/right imbalance of descending output steers; its change sets the turn rate.

    With ``L`` and ``R`` the summed rates (Hz) of the left and right descending
    neurons (DN-VNC and DN-SEZ), smoothed with time constant ``tau_fast``:

    * turn side: ``turn_bias = tanh(bias_gain * (L - R) / (L + R + floor))``
      (more left output -> turn left), and during runs a steering velocity
      ``steer = steer_max * tanh(...)`` of the same sign;
    * turn rate: ``base * exp(-change_gain * (D_fast - D_slow) / (D_slow + floor))``
      with ``D = L + R`` smoothed fast and slow: rising output lengthens runs,
      falling output ends them (clipped to [base/10, 10 base]);
    * stop while the PDM descending neurons fire above ``stop_rate``;
      crawl backward while the MDNs fire above ``back_rate``.
    """

    name = "lr_asymmetry"
    rationale = (
        "Hypothesis: larval navigation is klinotaxis (turning towards the side of stronger drive) plus "
        "klinokinesis (runs lengthen while things improve, end when they worsen; Gomez-Marin et al. 2011). "
        "Here the brain's side of stronger descending output is taken as the side to turn to and the change "
        "of total descending output as 'improving'. Named descending neurons with published roles act "
        "directly: PDM-DN activation stops the larva (Tastekin et al. 2018), MDN activation makes it crawl "
        "backward (Carreira-Rosario et al. 2018). The gains are not measured: they are free parameters of "
        "the hypothesis.")
    sources = (
        "Gomez-Marin, Stephens & Louis 2011, Nat Commun 2:441, doi:10.1038/ncomms1455 (runs, casts and turns in chemotaxis)",
        "Tastekin et al. 2018, Curr Biol 28:1583, doi:10.1016/j.cub.2018.03.059 (PDM-DN: stopping)",
        "Carreira-Rosario et al. 2018, eLife 7:e38554, doi:10.7554/eLife.38554 (MDN: backward crawling)",
    )
    DEFAULTS = ParameterSet([
        Parameter("tau_fast", 0.5 * second, "second", "free parameter (hypothesis)", "smoothing of the descending rates"),
        Parameter("tau_slow", 3.0 * second, "second", "free parameter (hypothesis)", "slow average for the change of output"),
        Parameter("floor", 10 * Hz, "Hz", "free parameter (hypothesis)",
                  "summed rate added to denominators (no division by ~0; output far below it counts little)"),
        Parameter("bias_gain", 3.0, "1", "free parameter (hypothesis)", "gain from L/R imbalance to turn side"),
        Parameter("steer_max", 0.3, "1", "free parameter (hypothesis)", "largest steering velocity in a run (rad/s)"),
        Parameter("change_gain", 3.0, "1", "free parameter (hypothesis)", "gain from relative output change to turn rate (log)"),
        Parameter("stop_rate", 20 * Hz, "Hz", "free parameter (hypothesis)", "PDM-DN rate above which the larva stops"),
        Parameter("back_rate", 20 * Hz, "Hz", "free parameter (hypothesis)", "MDN rate above which the larva backs up"),
    ], name="lr_asymmetry")

    def check(self):
        self._check_ranges(("tau_fast", "tau_slow", "floor"),
                           ("bias_gain", "steer_max", "change_gain", "stop_rate", "back_rate"))

    def bind(self, connectome):
        left, right = _sided(connectome, ("DN-VNC", "DN-SEZ"))
        if not len(left) or not len(right):
            raise DecoderError(f"decoder {self.name!r}: the connectome has no left and right descending neurons "
                               "(cell types DN-VNC / DN-SEZ with hemisphere left / right)")
        self.pdm = _named(connectome, r"^PDM-DN")
        self.mdn = _named(connectome, r"^MDN")
        self.readout = np.concatenate([left, right, self.pdm, self.mdn]).astype(np.int64)
        self._slices = {"left": slice(0, len(left)), "right": slice(len(left), len(left) + len(right)),
                        "pdm": slice(len(left) + len(right), len(left) + len(right) + len(self.pdm)),
                        "mdn": slice(len(left) + len(right) + len(self.pdm), len(self.readout))}

    def reset(self, larvae, rng):
        super().reset(larvae, rng)
        self._L = self._R = self._D_slow = None

    def command(self, counts, dt, modes=None):
        p, s = self.p, self._slices
        counts = np.asarray(counts, float)
        rate = counts / dt  # Hz per neuron
        L = rate[:, s["left"]].sum(axis=1)
        R = rate[:, s["right"]].sum(axis=1)
        if self._L is None:
            self._L, self._R, self._D_slow = L, R, L + R
        a_f = 1.0 - np.exp(-dt / p["tau_fast"])
        a_s = 1.0 - np.exp(-dt / p["tau_slow"])
        self._L = self._L + a_f * (L - self._L)
        self._R = self._R + a_f * (R - self._R)
        D = self._L + self._R
        self._D_slow = self._D_slow + a_s * (D - self._D_slow)
        imbalance = (self._L - self._R) / (D + p["floor"])
        base = _free_turn_rate()
        change = (D - self._D_slow) / (self._D_slow + p["floor"])
        turn_rate = np.clip(base * np.exp(-p["change_gain"] * change), base / 10, base * 10)
        stop = (rate[:, s["pdm"]].mean(axis=1) > p["stop_rate"]) if s["pdm"].stop > s["pdm"].start else np.zeros(self.larvae, bool)
        back = (rate[:, s["mdn"]].mean(axis=1) > p["back_rate"]) if s["mdn"].stop > s["mdn"].start else np.zeros(self.larvae, bool)
        return MotorCommands(speed=np.ones(self.larvae), turn_rate=turn_rate,
                             turn_bias=np.tanh(p["bias_gain"] * imbalance),
                             steer=p["steer_max"] * np.tanh(p["bias_gain"] * imbalance),
                             stop=stop, back=back)


class CastSampling(LRAsymmetry):
    """Runs end when descending output falls; head casts are kept when it rises (no left/right term).

    With ``D`` the summed rate (Hz) of all descending neurons (DN-VNC and DN-SEZ,
    both sides), smoothed fast (``tau_fast``) and slow (``tau_slow``):

    * during a run the turn rate is ``base * exp(-change_gain * (D_fast - D_slow) / (D_slow + floor))``
      (clipped to [base/10, 10 base]): runs lengthen while output rises;
    * during a head cast the cast is rejected (the head sweeps to the other
      side) when ``D_fast`` has fallen since the cast began by more than
      ``reject_margin`` of ``D_start + floor``; otherwise the body turns
      where the head points;
    * PDM-DN above ``stop_rate`` stops the larva, MDN above ``back_rate`` makes it back up.
    """

    name = "cast_sampling"
    rationale = (
        "Hypothesis after Gomez-Marin, Stephens & Louis 2011 (Nat Commun 2:441): negative gradients integrated "
        "during runs time the turns, positive gradients sensed during head casts choose the turn's direction; "
        "Hernandez-Nunez et al. 2015 (eLife 4:e06225): rising attractant during a head sweep makes a new run "
        "more likely. Here 'rising' is read from the brain's total descending output, so the larva approaches "
        "whatever raises that output: the population output carries no valence of its own (a known limit). "
        "Steering has no left/right term: the organs are 0.2 mm apart and the brain's own left/right output "
        "imbalance does not follow the odour side (docs/behaviour.md). PDM-DN stops (Tastekin et al. 2018), "
        "MDN backs up (Carreira-Rosario et al. 2018). Gains are free parameters of the hypothesis.")
    sources = (
        "Gomez-Marin, Stephens & Louis 2011, Nat Commun 2:441, doi:10.1038/ncomms1455",
        "Hernandez-Nunez et al. 2015, eLife 4:e06225, doi:10.7554/eLife.06225",
        "Tastekin et al. 2018, eLife 7:e38740, doi:10.7554/eLife.38740 (PDM-DN: stopping)",
        "Carreira-Rosario et al. 2018, eLife 7:e38554, doi:10.7554/eLife.38554 (MDN: backward crawling)",
    )
    DEFAULTS = ParameterSet([
        Parameter("tau_fast", 0.5 * second, "second", "free parameter (hypothesis)", "smoothing of the descending output"),
        Parameter("tau_slow", 2.5 * second, "second", "free parameter (hypothesis; Gepner et al. 2015, eLife "
                  "4:e06229: larvae weigh the last ~2.5 s when deciding to turn)", "slow average of the output"),
        Parameter("floor", 10 * Hz, "Hz", "free parameter (hypothesis)", "summed rate added to denominators"),
        Parameter("change_gain", 5.0, "1", "free parameter (hypothesis)", "gain from relative output change to turn rate (log)"),
        Parameter("reject_margin", 0.0, "1", "free parameter (hypothesis)", "relative fall of output that rejects a cast"),
        Parameter("stop_rate", 20 * Hz, "Hz", "free parameter (hypothesis)", "PDM-DN rate above which the larva stops"),
        Parameter("back_rate", 20 * Hz, "Hz", "free parameter (hypothesis)", "MDN rate above which the larva backs up"),
    ], name="cast_sampling")

    def check(self):
        self._check_ranges(("tau_fast", "tau_slow", "floor"), ("change_gain", "reject_margin", "stop_rate", "back_rate"))

    def reset(self, larvae, rng):
        super().reset(larvae, rng)
        self._D = self._D_start = None
        self._was_casting = np.zeros(self.larvae, bool)

    def command(self, counts, dt, modes=None):
        from .body import CAST

        p, s = self.p, self._slices
        rate = np.asarray(counts, float) / dt
        D_now = rate[:, s["left"]].sum(axis=1) + rate[:, s["right"]].sum(axis=1)
        if self._D is None:
            self._D, self._D_slow, self._D_start = D_now, D_now.copy(), D_now.copy()
        self._D = self._D + (1.0 - np.exp(-dt / p["tau_fast"])) * (D_now - self._D)
        self._D_slow = self._D_slow + (1.0 - np.exp(-dt / p["tau_slow"])) * (D_now - self._D_slow)
        casting = np.zeros(self.larvae, bool) if modes is None else (np.asarray(modes) == CAST)
        began = casting & ~self._was_casting
        self._D_start[began] = self._D[began]
        self._was_casting = casting
        base = _free_turn_rate()
        change = (self._D - self._D_slow) / (self._D_slow + p["floor"])
        turn_rate = np.clip(base * np.exp(-p["change_gain"] * change), base / 10, base * 10)
        fall = (self._D_start - self._D) / (self._D_start + p["floor"])
        reject = casting & (fall > p["reject_margin"])
        stop = (rate[:, s["pdm"]].mean(axis=1) > p["stop_rate"]) if s["pdm"].stop > s["pdm"].start else np.zeros(self.larvae, bool)
        back = (rate[:, s["mdn"]].mean(axis=1) > p["back_rate"]) if s["mdn"].stop > s["mdn"].start else np.zeros(self.larvae, bool)
        z = np.zeros(self.larvae)
        return MotorCommands(speed=np.ones(self.larvae), turn_rate=turn_rate, turn_bias=z, steer=z.copy(),
                             stop=stop, back=back, reject=reject)


#: Registered decoders by name.
DECODERS: dict[str, type] = {"random_walk": RandomWalk, "lr_asymmetry": LRAsymmetry, "cast_sampling": CastSampling}


def register_decoder(cls: type) -> type:
    """Register a :class:`Decoder` subclass under its ``name`` (usable as a class decorator)."""
    if not (isinstance(cls, type) and issubclass(cls, Decoder)):
        raise DecoderError(f"only Decoder subclasses can be registered, got {cls!r}")
    DECODERS[cls.name] = cls
    return cls


def available_decoders() -> list[str]:
    """Names of the registered decoders."""
    return sorted(DECODERS)


def get_decoder(name: str, **parameters) -> Decoder:
    """A new decoder by name with parameter overrides (Brian2 quantities)."""
    if name not in DECODERS:
        close = difflib.get_close_matches(str(name), DECODERS, n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise DecoderError(f"unknown decoder {name!r}{hint}; known: {', '.join(available_decoders())}")
    return DECODERS[name](**parameters)
