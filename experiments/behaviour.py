"""Behaviour assays in closed loop: many virtual larvae on a plate, as in the lab.

Assays (``larvasim behave ASSAY``):

``free``
    Free crawling on a plain dish, random-walk decoder only: the body's
    kinematics scored against published free-crawling statistics with the
    published analysis (:func:`sim.analysis.tracks.crawling_statistics`).
``chemotaxis``
    One odour source on a dish, larvae start in the middle. Conditions: the
    whole-brain larva (decoder on the real connectome), the random-walk null,
    and the same decoder on a degree-preserving shuffle of the connectome.
    Readouts per larva: distance to the source over time, navigation index,
    side at the end (preference as the Gerber lab counts it).
``learning``
    Reciprocal two-odour training as in the Gerber lab (Schleyer et al. 2015,
    eLife 4:e04711): one group is trained A paired with DAN-i1 activation and B
    alone, the other A alone and B paired; a third, *unpaired*, group gets A and
    DAN-i1 activation separated in time. Training is open loop (the odour fills
    the plate, as on the lab's training plates) and compressed in time (see
    :data:`LEARNING_SCHEDULE`); the test is a 3 min two-odour choice in closed
    loop with plasticity off. Preference ``PREF = (#A - #B) / N`` and
    performance index ``PI = (PREF(A+/B) - PREF(A/B+)) / 2``.
``light``
    Light/dark choice on a half-lit dish: the whole-brain larva, with its Rh5 or
    its Rh6 photoreceptors silenced, and the random-walk null.

Runs are stored per batch of larvae (``OUT/runs/<condition>-<batch>.h5``,
written atomically); a rerun with the same settings skips completed batches, so
an interrupted run keeps the larvae it finished. ``OUT/summary.json`` holds the
statistics, ``OUT/larvae.csv`` one row per larva, ``OUT/tracks.csv`` a tidy
table of every track, and figures go to ``OUT/*.png``.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from brian2 import ms, second

from larvasim.util import atomic_write_text, json_default

__all__ = ["ASSAYS", "AssayResult", "assay_odour", "run_assay", "main"]

#: Conditions of each assay, in the order they are run and reported.
ASSAYS = {
    "free": ("random_walk",),
    "chemotaxis": ("brain", "random_walk", "shuffled"),
    "learning": ("paired_A", "paired_B", "unpaired"),
    "light": ("brain", "rh5_silenced", "rh6_silenced", "random_walk"),
}

#: Settings of the assays, each with its source or the reason for its value.
ASSAY_SETTINGS = {
    "dish_radius_mm": (42.5, "an 85 mm Petri dish; Schleyer et al. 2015 use 90 mm dishes"),
    "free_arena_radius_mm": (120.0, "free crawling: as large as the 240 x 240 mm arena of Wosniack et al. 2022"),
    "source_x_mm": (25.0, "odour source 25 mm from the centre, where the larvae start"),
    "source_sigma_mm": (20.0, "assumption: width of the static odour profile"),
    "source_peak": (0.3, "assumption, like a lab's choice of dilution: at this strength the model's summed descending "
                    "output is graded over the dish instead of saturated (dose-response in docs/behaviour.md)"),
    "odour_peak_hz": (100.0, "peak ORN rate of an odour, as in the learning experiments (EXPERIMENT_PARAMETERS)"),
    "odour_ec50_range": ((0.02, 2.0), "assumption shaped by Si et al. 2019, Neuron 101:950 (one dose-response "
                         "shape per ORN, sensitivities spread over orders of magnitude); in units of a source's peak"),
    "dan": ("DAN-i1", "the reward-signalling DAN whose activation substitutes for sugar (Schleyer et al. 2020, "
            "J Neurosci 40:5990; Saumweber et al. 2018, Nat Commun 9:1104)"),
    "dan_rate_hz": (50.0, "rate of the DAN activation (as us_rate of the learning experiments)"),
    "train_concentration": (0.3, "odour on the whole training plate at the test sources' peak"),
}

#: Training of the learning assay (s): per cycle, CS+ with the DAN for ``cs`` s, then ``gap`` s, then
#: the CS- for ``cs`` s, then ``iti`` s; ``cycles`` cycles (the lab: 3 cycles of 5 min + 5 min,
#: Schleyer et al. 2015; compressed to keep whole-brain runs short, as in experiments.learning).
LEARNING_SCHEDULE = {"cycles": 3, "cs": 1.0, "gap": 15.0, "iti": 1.0}


class AssayError(ValueError):
    """An unknown assay or condition, or settings out of range."""


def _seed_int(*parts) -> int:
    return int(np.random.SeedSequence([int(p) for p in parts]).generate_state(1)[0])


def assay_odour(connectome, name: str = "A", seed: int = 0) -> dict:
    """An odour for the assays: every receptor with a peak rate and an EC50, drawn from ``seed``.

    Peak rates are ``odour_peak_hz x U(0.5, 1)``; EC50s are log-uniform over
    ``odour_ec50_range`` (in units of a source's peak), so that a weak odour
    drives a few sensitive receptors and a strong one most of them. Both sides'
    ORNs of a receptor share its values. Returns ``{neuron: (peak_hz, ec50)}``.
    """
    from .odours import receptors

    table = receptors(connectome)
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0x0D0, sum(map(ord, name))]))
    peak = ASSAY_SETTINGS["odour_peak_hz"][0]
    lo, hi = ASSAY_SETTINGS["odour_ec50_range"][0]
    out = {}
    for k in sorted(table):
        p = float(np.round(peak * rng.uniform(0.5, 1.0), 1))
        e = float(np.exp(rng.uniform(np.log(lo), np.log(hi))))
        for i in table[k]:
            out[int(i)] = (p, e)
    return out


# -- readouts --------------------------------------------------------------------------
def distance_to(tr, x: float, y: float) -> np.ndarray:
    """Distance (mm) of every larva's centre to ``(x, y)``, ``[time, larva]``."""
    return np.hypot(tr["x"] - x, tr["y"] - y)


def navigation_index(tr, x: float, y: float) -> np.ndarray:
    """Per larva: the mean cosine between its displacement and the direction to ``(x, y)``.

    Over every chunk in which the larva moved; +1: straight to the target, 0: no
    net orientation, -1: straight away.
    """
    dx, dy = np.diff(tr["x"], axis=0), np.diff(tr["y"], axis=0)
    tx, ty = x - tr["x"][:-1], y - tr["y"][:-1]
    step = np.hypot(dx, dy)
    dist = np.hypot(tx, ty)
    moved = (step > 1e-6) & (dist > 1e-6)
    cos = np.where(moved, (dx * tx + dy * ty) / np.where(moved, step * dist, 1.0), 0.0)
    n = moved.sum(axis=0)
    return np.where(n > 0, cos.sum(axis=0) / np.maximum(n, 1), np.nan)


def side_preference(x_end: np.ndarray, positive_side: float = 1.0) -> float:
    """``(#on the side x * positive_side > 0 - #on the other) / N`` (Schleyer et al. 2015, Eq. 1)."""
    s = np.sign(np.asarray(x_end) * positive_side)
    return float(s.sum() / len(s)) if len(s) else float("nan")


def _mwu(a, b) -> dict:
    from scipy.stats import mannwhitneyu

    a, b = np.asarray(a, float), np.asarray(b, float)
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    if len(a) < 2 or len(b) < 2:
        return {"U": None, "p": None, "n": [len(a), len(b)]}
    r = mannwhitneyu(a, b, alternative="two-sided")
    return {"U": float(r.statistic), "p": float(r.pvalue), "n": [len(a), len(b)]}


# -- running ---------------------------------------------------------------------------
@dataclass
class AssayResult:
    """Trajectories per condition, per-larva table and summary statistics of one assay."""

    assay: str
    trajectories: dict
    larvae: object  # pandas.DataFrame
    summary: dict = field(default_factory=dict)


def _network(connectome, plastic_windows=None, sign_seed: int = 0):
    import sim

    plasticity = None
    if plastic_windows is not None:
        from models.plasticity import DopaminePlasticity

        from .learning import EXPERIMENT_PARAMETERS

        plasticity = DopaminePlasticity(windows=[(a * second, b * second) for a, b in plastic_windows],
                                        eta=EXPERIMENT_PARAMETERS["eta"].value)
    return sim.Network(connectome, plasticity=plasticity, device="numba", sign_seed=sign_seed)


class _Store:
    """``OUT/runs/<key>.h5`` per completed batch; ``OUT/.lock`` while running."""

    def __init__(self, out):
        from sim.workflows.sweep_store import SweepStore

        self.out = Path(out)
        self.sweep = SweepStore(self.out)

    def path(self, key: str) -> Path:
        return self.out / "runs" / f"{key}.h5"


def run_assay(assay: str, connectome=None, *, larvae: int = 20, duration=180 * second, decoder: str = "cast_sampling",
              decoder_parameters: dict | None = None, seed: int = 0, out=None, batch: int = 10,
              threads: int | None = None, chunk=50 * ms, conditions=None, dan: str | None = None,
              body: dict | None = None, senses: dict | None = None, progress: bool = False) -> AssayResult:
    """Run ``assay`` (see the module docstring) and score it.

    Parameters
    ----------
    assay : {"free", "chemotaxis", "learning", "light"}
    connectome : connectomes.Connectome, optional
        Default: Winding et al. 2023 (not needed for ``free``).
    larvae : int
        Larvae per condition (per group in ``learning``).
    duration : Quantity (time)
        Length of the test on the plate (the lab: 3 min).
    decoder : str
        The behaviour hypothesis (:func:`models.decoders.get_decoder`); ``random_walk``
        conditions always use the null.
    decoder_parameters : dict, optional
        Overrides of the decoder's parameters (Brian2 quantities or numbers).
    seed : int
        Seed of everything: larva ``k`` of batch ``b`` of a condition is reproducible.
    out : path, optional
        Folder for the runs, tables, figures and summary (resumable); none: memory only.
    batch : int
        Larvae simulated together (and stored together).
    threads : int, optional
        Larvae stepped at once by the engine.
    chunk : Quantity (time)
        Control period of the closed loop.
    conditions : sequence of str, optional
        A subset of the assay's conditions. Each condition's larvae depend only on
        the seed, the condition and the batch, so a subset reproduces the larvae
        of a full run exactly.
    dan : str, optional
        ``learning``: the MBIN activated as the unconditioned stimulus (default
        ``DAN-i1``, a reward; e.g. ``DAN-g1`` for a punishment).
    body, senses : dict, optional
        Overrides of :data:`models.body.BODY_PARAMETERS` and
        :data:`models.senses.SENSE_PARAMETERS` (Brian2 quantities or numbers).
    """
    from models.decoders import get_decoder
    from sim.closed_loop import Trajectories

    if assay not in ASSAYS:
        raise AssayError(f"unknown assay {assay!r}; known: {', '.join(ASSAYS)}")
    conditions = list(ASSAYS[assay] if conditions is None else conditions)
    unknown = [c for c in conditions if c not in ASSAYS[assay]]
    if unknown:
        raise AssayError(f"assay {assay!r} has no condition(s) {unknown}; its conditions: {', '.join(ASSAYS[assay])}")
    if int(larvae) < 1 or int(batch) < 1:
        raise AssayError(f"larvae and batch must be >= 1, got {larvae!r} and {batch!r}")
    if not hasattr(duration, "dim") or duration.dim != second.dim or not float(duration / second) > 0:
        got = f"{float(duration / second):g} s" if getattr(duration, "dim", None) == second.dim else repr(duration)
        raise AssayError(f"duration (--duration, in seconds) must be > 0, got {got}")
    from models.body import body_parameters
    from models.senses import sense_parameters

    get_decoder(decoder, **(decoder_parameters or {}))  # unknown name or bad parameter: fail before any run
    try:
        over = {"body": body_parameters(**(body or {})) if body else None,
                "senses": sense_parameters(**(senses or {})) if senses else None}
    except (KeyError, ValueError) as e:
        raise AssayError(f"body or senses parameter: {e}") from None
    if connectome is None and assay != "free":
        import connectomes

        connectome = connectomes.load("winding2023")
    dan = dan or ASSAY_SETTINGS["dan"][0]
    if assay == "learning" and not len(connectome.select(name=dan).indices):
        raise AssayError(f"dan {dan!r}: no neuron of that name in the connectome")
    settings = {"assay": assay, "larvae": int(larvae), "duration_s": float(duration / second), "decoder": decoder,
                "decoder_parameters": {k: str(v) for k, v in (decoder_parameters or {}).items()}, "seed": int(seed),
                "batch": int(batch), "chunk_ms": float(chunk / ms), "conditions": conditions,
                "dan": dan if assay == "learning" else None,
                **({"body": {k: str(v) for k, v in body.items()}} if body else {}),
                **({"senses": {k: str(v) for k, v in senses.items()}} if senses else {}),
                "connectome": None if connectome is None else _checksum(connectome)}
    store = _Store(out) if out is not None else None
    ctx = store.sweep.lock() if store is not None else _nullcontext()
    with ctx:
        trajs = {}
        for cond in conditions:
            ci = ASSAYS[assay].index(cond)
            parts = []
            for b, start in enumerate(range(0, int(larvae), int(batch))):
                n = min(int(batch), int(larvae) - start)
                bkey = hashlib.sha256(json.dumps({k: v for k, v in settings.items() if k not in ("larvae", "conditions")},
                                                 sort_keys=True).encode()).hexdigest()[:12]
                path = store.path(f"{cond}-{bkey}-{b:03d}") if store is not None else None
                if path is not None and path.is_file():
                    parts.append(Trajectories.load(path))
                    continue
                tr = _run_condition(assay, cond, connectome, n, duration, decoder, decoder_parameters or {},
                                    _seed_int(seed, ci, b), threads, chunk, dan=dan, overrides=over)
                tr.metadata.update({"assay": assay, "condition": cond, "batch": b, "first_larva": start,
                                    "settings": settings})
                if path is not None:
                    tr.save(path)
                if progress:
                    print(f"  {assay}: {cond} larvae {start}-{start + n - 1} done", file=sys.stderr)
                parts.append(tr)
            trajs[cond] = Trajectories.concatenate(parts)
        result = score(assay, trajs, settings)
        if store is not None:
            write_outputs(result, store.out)
    return result


def _checksum(connectome) -> str:
    p = getattr(connectome, "provenance", None) or {}
    return str(p.get("container_sha256") or p.get("checksums") or getattr(connectome, "name", ""))


class _nullcontext:
    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False


def _arena(assay: str):
    from models.arena import Arena, LightField, OdourSource

    r = ASSAY_SETTINGS["dish_radius_mm"][0]
    if assay == "chemotaxis":
        return Arena(r, odours=(OdourSource("A", ASSAY_SETTINGS["source_x_mm"][0], 0.0, ASSAY_SETTINGS["source_peak"][0],
                                            ASSAY_SETTINGS["source_sigma_mm"][0]),))
    if assay == "learning":
        x, s = ASSAY_SETTINGS["source_x_mm"][0], ASSAY_SETTINGS["source_sigma_mm"][0]
        pk = ASSAY_SETTINGS["source_peak"][0]
        return Arena(r, odours=(OdourSource("A", x, 0.0, pk, s), OdourSource("B", -x, 0.0, pk, s)))
    if assay == "light":
        return Arena(r, light=LightField("half", dark_side="left"))
    return Arena(ASSAY_SETTINGS["free_arena_radius_mm"][0])


def _run_condition(assay, cond, connectome, n, duration, decoder_name, decoder_parameters, seed, threads, chunk,
                   dan=None, overrides=None):
    """One batch of one condition: its trajectories."""
    loop = _make_loop(assay, cond, connectome, n, decoder_name, decoder_parameters, seed, threads, chunk, dan=dan,
                      overrides=overrides)
    tr = loop.run(duration)
    tr.metadata.update(getattr(loop, "extra_metadata", {}))
    return tr


def _make_loop(assay, cond, connectome, n, decoder_name, decoder_parameters, seed, threads, chunk, dan=None,
               keep_spikes=None, overrides=None):
    """The closed loop of one batch of one condition, ready to run (a learning group already trained)."""
    import functools

    import sim
    from models import senses as _senses
    from models.decoders import get_decoder
    from sim.closed_loop import ClosedLoop as _Loop

    over = overrides or {}
    ClosedLoop = functools.partial(_Loop, body_parameters=over.get("body"))
    Senses = functools.partial(_senses.Senses, parameters=over.get("senses"))
    arena = _arena(assay)
    start = {"x": 0.0, "y": 0.0}
    if cond == "random_walk":
        return ClosedLoop(arena, get_decoder("random_walk"), n, seed=seed, chunk=chunk, start=start)
    dec = get_decoder(decoder_name, **decoder_parameters)
    if assay == "chemotaxis":
        if cond == "shuffled":
            from connectomes.nullmodels import shuffle

            connectome = shuffle(connectome, seed=seed % (2 ** 31))
        senses = Senses(connectome, odours={"A": assay_odour(connectome, "A")}, senses=["olfaction"])
        return ClosedLoop(arena, dec, n, network=_network(connectome), senses=senses, seed=seed, chunk=chunk,
                          start=start, threads=threads, keep_spikes=keep_spikes)
    if assay == "light":
        silences = []
        if cond in ("rh5_silenced", "rh6_silenced"):
            kind = "Rh5" if cond == "rh5_silenced" else "Rh6"
            probe = Senses(connectome, senses=["vision"])
            silences = [sim.Silence(probe.photoreceptors[kind], mode="all")]
        senses = Senses(connectome, senses=["vision"])
        return ClosedLoop(arena, dec, n, network=_network(connectome), senses=senses, seed=seed, chunk=chunk,
                          start=start, silences=silences, threads=threads, keep_spikes=keep_spikes)
    if assay == "learning":
        return _learning_group(cond, connectome, arena, dec, n, seed, threads, chunk,
                               dan or ASSAY_SETTINGS["dan"][0], keep_spikes, ClosedLoop, Senses)
    raise AssayError(f"no runner for {assay}/{cond}")


def training_schedule(cond: str) -> list[tuple[float, float, str]]:
    """The training of a learning group: ``(start_s, stop_s, what)`` with what in {"A", "B", "dan"}.

    Every cycle lasts ``3 cs + 2 gap + iti`` in every group. Paired groups: the
    CS+ with the DAN, ``gap`` later the CS-. Unpaired: A, then the DAN ``gap``
    later (its trace has decayed), then B ``gap`` after the DAN: no odour meets
    the DAN.
    """
    s = LEARNING_SCHEDULE
    cs, gap = s["cs"], s["gap"]
    cycle = 3 * cs + 2 * gap + s["iti"]
    out = []
    for k in range(s["cycles"]):
        t = k * cycle
        second_slot = (t + cs + gap, t + 2 * cs + gap)
        if cond in ("paired_A", "paired_B"):
            plus, minus = ("A", "B") if cond == "paired_A" else ("B", "A")
            out += [(t, t + cs, plus), (t, t + cs, "dan"), (*second_slot, minus)]
        elif cond == "unpaired":
            out += [(t, t + cs, "A"), (*second_slot, "dan"), (t + 2 * cs + 2 * gap, t + 3 * cs + 2 * gap, "B")]
        else:
            raise AssayError(f"unknown learning group {cond!r}")
    return out


def training_duration() -> float:
    """Length of the training (s)."""
    s = LEARNING_SCHEDULE
    return s["cycles"] * (3 * s["cs"] + 2 * s["gap"] + s["iti"])


def _learning_group(cond, connectome, arena, dec, n, seed, threads, chunk, dan_name, keep_spikes, ClosedLoop, Senses):
    """Train ``n`` larvae in open loop (:func:`training_schedule`); return their closed loop for the test.

    ``ClosedLoop`` and ``Senses`` are the constructors with the run's parameter overrides.
    """
    t_train = training_duration()
    net = _network(connectome, plastic_windows=[(0.0, t_train)])
    odours = {"A": assay_odour(connectome, "A"), "B": assay_odour(connectome, "B")}
    senses = Senses(connectome, odours=odours, senses=["olfaction"])
    stepper = net.stepper(larvae=n, seed=seed, threads=threads, keep=keep_spikes)
    dan = connectome.select(name=dan_name).indices
    c_train = ASSAY_SETTINGS["train_concentration"][0]
    sched = training_schedule(cond)
    chunk_s = float(chunk / second)
    n_chunks = int(round(t_train / chunk_s))
    senses.reset(n)
    for k in range(n_chunks):
        t = k * chunk_s + 0.5 * chunk_s
        on = {w for a, b, w in sched if a <= t < b}
        sample = {f"odour:{o}": np.full(n, c_train if o in on else 0.0) for o in ("A", "B")}
        rates = senses.rates(sample, sample, chunk_s)
        if "dan" in on:
            rates[:, dan] += ASSAY_SETTINGS["dan_rate_hz"][0]
        stepper.step(chunk, rates=rates)
    loop = ClosedLoop(arena, dec, n, senses=senses, seed=seed, chunk=chunk, start={"x": 0.0, "y": 0.0},
                      stepper=stepper)
    loop.extra_metadata = {"training": {"schedule": [list(x) for x in sched], "duration_s": t_train,
                                        "concentration": c_train, "dan": dan_name,
                                        "dan_rate_hz": ASSAY_SETTINGS["dan_rate_hz"][0]}}
    return loop


# -- scoring ---------------------------------------------------------------------------
def score(assay: str, trajs: dict, settings: dict) -> AssayResult:
    """Per-larva readouts and the assay's statistics."""
    import pandas as pd

    rows = []
    summary = {"assay": assay, "settings": settings, "conditions": {}}
    sx = ASSAY_SETTINGS["source_x_mm"][0]
    for cond, tr in trajs.items():
        x_end = tr["x"][-1]
        row = {"condition": np.repeat(cond, tr.larvae), "larva": np.arange(tr.larvae), "x_end_mm": x_end,
               "y_end_mm": tr["y"][-1], "turns": tr.metadata.get("turns"),
               "wall_contacts": tr.metadata.get("wall_contacts")}
        cs = {"larvae": tr.larvae}
        dn = tr["dn_left_hz"][1:] + tr["dn_right_hz"][1:]
        if np.isfinite(dn).any():
            row["mean_dn_output_hz"] = np.nanmean(dn, axis=0)
            cs["mean_dn_output_hz"] = float(np.nanmean(dn))
        if assay == "chemotaxis":
            d = distance_to(tr, sx, 0.0)
            last = tr.t >= tr.t[-1] - 60.0
            row.update({"distance_end_mm": d[-1], "distance_last_min_mm": d[last].mean(axis=0),
                        "navigation_index": navigation_index(tr, sx, 0.0)})
            cs.update({"median_distance_last_min_mm": float(np.median(row["distance_last_min_mm"])),
                       "mean_navigation_index": float(np.nanmean(row["navigation_index"])),
                       "preference": side_preference(x_end, +1.0),
                       "mean_distance_mm_over_time": d.mean(axis=1)[:: max(1, int(round(10 / (tr.t[1] - tr.t[0]))))].tolist()})
        elif assay == "learning":
            row["time_on_A_half"] = (tr["x"] > 0).mean(axis=0) - (tr["x"] < 0).mean(axis=0)
            cs.update({"preference": side_preference(x_end, +1.0),
                       "mean_time_preference": float(np.mean(row["time_on_A_half"]))})
        elif assay == "light":
            dark = tr["x"] < 0
            row["fraction_dark"] = dark.mean(axis=0)
            cs.update({"preference_dark": side_preference(x_end, -1.0),
                       "mean_fraction_dark": float(np.mean(row["fraction_dark"]))})
        elif assay == "free":
            from sim.analysis.tracks import crawling_statistics

            stats = crawling_statistics(tr)
            cs.update(stats)
        rows.append(pd.DataFrame(row))
        summary["conditions"][cond] = cs
    larvae = pd.concat(rows, ignore_index=True)
    if assay == "chemotaxis":
        b = larvae[larvae.condition == "brain"]
        for ctrl in ("random_walk", "shuffled"):
            c = larvae[larvae.condition == ctrl]
            if len(b) and len(c):
                summary[f"brain_vs_{ctrl}"] = {
                    "distance_last_min": _mwu(b.distance_last_min_mm, c.distance_last_min_mm),
                    "navigation_index": _mwu(b.navigation_index, c.navigation_index)}
    if assay == "learning":
        pa = summary["conditions"].get("paired_A", {}).get("preference")
        pb = summary["conditions"].get("paired_B", {}).get("preference")
        if pa is not None and pb is not None:
            summary["performance_index"] = (pa - pb) / 2.0
            a = larvae[larvae.condition == "paired_A"].time_on_A_half
            bb = larvae[larvae.condition == "paired_B"].time_on_A_half
            summary["performance_index_time"] = float((a.mean() - bb.mean()) / 2.0)
            summary["paired_A_vs_paired_B"] = _mwu(a, bb)
        pu = summary["conditions"].get("unpaired", {}).get("preference")
        if pu is not None and pa is not None:
            summary["learning_index_vs_unpaired"] = (pa - pu) / 2.0
            u = larvae[larvae.condition == "unpaired"].time_on_A_half
            summary["paired_A_vs_unpaired"] = _mwu(larvae[larvae.condition == "paired_A"].time_on_A_half, u)
    if assay == "light":
        b = larvae[larvae.condition == "brain"]
        for ctrl in ("random_walk", "rh5_silenced", "rh6_silenced"):
            c = larvae[larvae.condition == ctrl]
            if len(b) and len(c):
                summary[f"brain_vs_{ctrl}"] = _mwu(b.fraction_dark, c.fraction_dark)
    return AssayResult(assay, trajs, larvae, summary)


def write_outputs(result: AssayResult, out) -> None:
    """``summary.json``, ``larvae.csv``, ``tracks.csv`` and figures in ``out`` (atomic writes)."""
    import pandas as pd

    out = Path(out)
    atomic_write_text(out / "summary.json", json.dumps(result.summary, indent=1, default=json_default))
    atomic_write_text(out / "larvae.csv", result.larvae.to_csv(index=False))
    tracks = pd.concat([tr.to_frame(condition=c) for c, tr in result.trajectories.items()], ignore_index=True)
    atomic_write_text(out / "tracks.csv", tracks.to_csv(index=False, float_format="%.4g"))
    from sim.analysis.tracks import plot_tracks

    plot_tracks(result, out / f"{result.assay}_tracks.png")



# -- command line ----------------------------------------------------------------------
def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("assay", nargs="?", choices=sorted(ASSAYS), help="the assay (or give --config)")
    p.add_argument("--config", metavar="FILE.toml", help="a behaviour file: [behaviour], [decoder], [sweep] tables")
    p.add_argument("--larvae", type=int, default=None, help="larvae per condition (default 20)")
    p.add_argument("--duration", type=float, default=None, help="test duration in seconds (default 180)")
    p.add_argument("--decoder", default=None, help="motor decoder (default cast_sampling)")
    p.add_argument("--decoder-param", action="append", default=[], metavar="NAME=VALUE",
                   help="decoder parameter override, e.g. change_gain=8 or tau_fast='0.3 second' (repeatable)")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--batch", type=int, default=None, help="larvae simulated and stored together (default 10)")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--conditions", nargs="+", default=None, help="a subset of the assay's conditions")
    p.add_argument("-o", "--out", default=None, help="output folder (resumable; default behaviour-ASSAY)")
    p.add_argument("--dan", default=None, help="learning: the MBIN activated in training (default DAN-i1; "
                   "e.g. DAN-g1 for punishment)")
    p.add_argument("--animate", action="store_true", help="also write an animation of one larva beside its "
                   "spike raster (GIF)")


#: Keys of a behaviour file's [behaviour] table and their defaults.
FILE_DEFAULTS = {"assay": None, "larvae": 20, "duration": 180.0, "decoder": "cast_sampling", "seed": 0,
                 "batch": 10, "threads": None, "conditions": None, "out": None, "dan": None}


#: Tables of a behaviour file whose parameters a [sweep] can vary.
SWEEPABLE = ("decoder", "body", "senses")


def read_config(path) -> dict:
    """A behaviour file: ``[behaviour]`` (FILE_DEFAULTS keys); ``[decoder]``, ``[body]``, ``[senses]``
    (parameter overrides, e.g. ``change_gain = 8``, ``run_speed = "1.1 mm/second"``); ``[sweep]``
    (``"decoder.NAME" = [values]``, ``"body.NAME"``, ``"senses.NAME"``: one run per combination).

    Raises
    ------
    AssayError
        Naming the file and the key that is unknown or malformed.
    """
    try:
        import tomllib
    except ModuleNotFoundError:  # Python < 3.11
        import tomli as tomllib
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AssayError(f"{path}: no such behaviour file") from None
    except UnicodeDecodeError as e:
        raise AssayError(f"{path}: not UTF-8 text (byte {e.start})") from None
    except OSError as e:
        raise AssayError(f"{path}: cannot read the behaviour file ({e.strerror or e})") from None
    except tomllib.TOMLDecodeError as e:
        raise AssayError(f"{path}: not valid TOML ({e})") from None
    unknown = set(data) - {"behaviour", "decoder", "body", "senses", "sweep"}
    if unknown:
        raise AssayError(f"{path}: unknown table(s) {sorted(unknown)}; use [behaviour], [decoder], [body], "
                         "[senses], [sweep]")
    for t, v in data.items():
        if not isinstance(v, dict):
            raise AssayError(f"{path}: {t!r} must be a table, written [{t}]; got {v!r}")
    b = dict(data.get("behaviour", {}))
    bad = set(b) - set(FILE_DEFAULTS)
    if bad:
        raise AssayError(f"{path}: [behaviour] has unknown key(s) {sorted(bad)}; known: {', '.join(FILE_DEFAULTS)}")
    sweep = dict(data.get("sweep", {}))
    for k, v in sweep.items():
        if k.split(".")[0] not in SWEEPABLE or k.count(".") != 1 or not isinstance(v, list) or not v:
            raise AssayError(f"{path}: [sweep] {k!r} must be \"TABLE.NAME\" = [value, ...] with TABLE one of "
                             f"{', '.join(SWEEPABLE)}")
    return check_config({"behaviour": b, "decoder": dict(data.get("decoder", {})), "body": dict(data.get("body", {})),
                         "senses": dict(data.get("senses", {})), "sweep": sweep}, str(path))


def check_config(cfg: dict, where: str = "behaviour file") -> dict:
    """Check the values of a behaviour file (as :func:`read_config` reads it) without running anything:
    the ``[behaviour]`` settings, and every ``[decoder]``, ``[body]``, ``[senses]`` override and ``[sweep]``
    value against the decoder and the parameter sets. Returns ``cfg``; raises :class:`AssayError` naming
    ``where``, the table and the key."""
    from models.body import body_parameters
    from models.decoders import available_decoders, get_decoder
    from models.senses import sense_parameters

    b = cfg["behaviour"]
    assay = b.get("assay")
    if assay is not None and (not isinstance(assay, str) or assay not in ASSAYS):
        raise AssayError(f"{where}: [behaviour] assay = {assay!r} is not one of {', '.join(ASSAYS)}")
    for k, minimum in (("larvae", 1), ("batch", 1), ("threads", 1), ("seed", 0)):
        v = b.get(k)
        if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < minimum):
            raise AssayError(f"{where}: [behaviour] {k} must be a whole number >= {minimum}, got {v!r}")
    v = b.get("duration")
    if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 < v < float("inf")):
        raise AssayError(f"{where}: [behaviour] duration must be a number of seconds > 0, got {v!r}")
    decoder = b.get("decoder", FILE_DEFAULTS["decoder"])
    if not isinstance(decoder, str) or decoder not in available_decoders():
        raise AssayError(f"{where}: [behaviour] decoder = {decoder!r} is not one of {', '.join(available_decoders())}")
    conditions = b.get("conditions")
    if conditions is not None:
        if not isinstance(conditions, list) or not conditions or not all(isinstance(c, str) for c in conditions):
            raise AssayError(f"{where}: [behaviour] conditions must be a list of condition names, got {conditions!r}")
        bad = [c for c in conditions if assay is not None and c not in ASSAYS[assay]]
        if bad:
            raise AssayError(f"{where}: [behaviour] assay {assay!r} has no condition(s) {bad}; its conditions: "
                             f"{', '.join(ASSAYS[assay])}")
    for k in ("out", "dan"):
        if b.get(k) is not None and not isinstance(b[k], str):
            raise AssayError(f"{where}: [behaviour] {k} must be text, got {b[k]!r}")

    def parsed(table, name, value):
        try:
            return _parse_value(str(value), name)
        except AssayError as e:
            raise AssayError(f"{where}: [{table}] {name} = {value!r}: {e}") from None

    def check(table, over):
        try:
            if table == "decoder":
                get_decoder(decoder, **over)
            elif table == "body":
                body_parameters(**over)
            else:
                sense_parameters(**over)
        except (KeyError, ValueError) as e:
            msg = e.args[0] if isinstance(e, KeyError) and e.args else e
            raise AssayError(f"{where}: [{table}] {msg}") from None

    base = {t: {k: parsed(t, k, v) for k, v in cfg[t].items()} for t in SWEEPABLE}
    for t in SWEEPABLE:
        if base[t]:
            check(t, base[t])
    for key, values in cfg["sweep"].items():
        table, name = key.split(".")
        for v in values:
            check(table, {**base[table], name: parsed(f"sweep] [{table}", name, v)})
    return cfg


def run_from_args(args) -> int:
    cfg = (read_config(args.config) if getattr(args, "config", None)
           else {"behaviour": {}, "decoder": {}, "body": {}, "senses": {}, "sweep": {}})
    opts = dict(FILE_DEFAULTS)
    opts.update(cfg["behaviour"])
    for k in FILE_DEFAULTS:
        v = getattr(args, k, None)
        if v is not None:
            opts[k] = v
    if opts["assay"] is None:
        raise AssayError("give an assay (larvasim behave ASSAY) or a --config file with [behaviour] assay = ...")
    base = {t: {k: _parse_value(str(v), k) for k, v in cfg[t].items()} for t in SWEEPABLE}
    for k, v in _decoder_params(args.decoder_param).items():
        base["decoder"][k] = _parse_value(v, k)
    out = Path(opts["out"] or f"behaviour-{opts['assay']}")
    combos = [{}]
    for key, values in cfg["sweep"].items():
        combos = [dict(c, **{key: v}) for c in combos for v in values]
    rows = []
    for combo in combos:
        over = {t: dict(v) for t, v in base.items()}
        for key, v in combo.items():
            table, name = key.split(".")
            over[table][name] = _parse_value(str(v), name)
        p = over["decoder"]
        sub = out if not cfg["sweep"] else out / ("_".join(f"{k.split('.')[1]}={v}" for k, v in combo.items()) or "base")
        res = run_assay(opts["assay"], larvae=int(opts["larvae"]), duration=float(opts["duration"]) * second,
                        decoder=opts["decoder"], decoder_parameters=p, seed=int(opts["seed"]), out=sub,
                        batch=int(opts["batch"]), threads=opts["threads"], conditions=opts["conditions"],
                        dan=opts["dan"], body=over["body"], senses=over["senses"], progress=True)
        print(format_summary(res.summary))
        rows.append({**combo, **_headline(res.summary), "folder": str(sub)})
        if args.animate:
            path = animate_larva(opts["assay"], sub, res, decoder=opts["decoder"], decoder_parameters=p,
                                 dan=opts["dan"])
            print(f"animation: {path}")
        print(f"results in {sub}/ (summary.json, larvae.csv, tracks.csv, runs/*.h5, {opts['assay']}_tracks.png)")
    if cfg["sweep"]:
        import pandas as pd

        atomic_write_text(out / "sweep.csv", pd.DataFrame(rows).to_csv(index=False))
        print(f"sweep table: {out / 'sweep.csv'}")
    return 0


def animate_larva(assay: str, out, result: AssayResult, *, decoder: str = "cast_sampling",
                  decoder_parameters: dict | None = None, dan: str | None = None, connectome=None,
                  seconds: float | None = None, name: str | None = None, every: int = 4, dpi: int = 80) -> Path:
    """A GIF of larva 0 of the first condition beside its spike raster.

    The larva's batch is run again with every spike kept: its seed makes it the
    same larva (the test of :func:`run_assay`'s reproducibility); the raster
    shows the neurons that spiked, sorted by cell type order of the data.
    """
    from sim.analysis.tracks import animate

    st = result.summary["settings"]
    cond = next(iter(result.trajectories))
    n = min(int(st["batch"]), int(st["larvae"]))
    dur = float(seconds or st["duration_s"])
    if cond == "random_walk" or assay == "free":
        tr, spikes = result.trajectories[cond], None
    else:
        if connectome is None:
            import connectomes

            connectome = connectomes.load("winding2023")
        loop = _make_loop(assay, cond, connectome, n, decoder, decoder_parameters or {},
                          _seed_int(st["seed"], ASSAYS[assay].index(cond), 0), None, st["chunk_ms"] * ms,
                          dan=dan, keep_spikes="all")
        tr = loop.run(dur * second)
        res = loop.stepper.results()
        k = res.spike_trials == 0
        t0 = float(loop.stepper.t / second) - dur  # a learning group was trained first
        keep = res.spike_times[k] >= 1000.0 * t0
        spikes = (res.spike_nodes[k][keep], res.spike_times[k][keep] - 1000.0 * t0)
    path = Path(out) / (name or f"{assay}_{cond}_larva0.gif")
    animate(tr, path, larva=0, spikes=spikes, every=every, dpi=dpi)
    return path


def _decoder_params(items) -> dict:
    out = {}
    for it in items:
        if "=" not in it:
            raise AssayError(f"--decoder-param must be NAME=VALUE, got {it!r}")
        k, v = it.split("=", 1)
        out[k.strip()] = v.strip()
    return out


def _headline(summary: dict) -> dict:
    """One number per condition for a sweep table."""
    out = {}
    for cond, cs in summary["conditions"].items():
        for k in ("median_distance_last_min_mm", "mean_navigation_index", "preference", "mean_fraction_dark",
                  "turns_per_min", "crawl_speed_mm_s"):
            if k in cs:
                out[f"{cond}.{k}"] = cs[k]
    if "performance_index" in summary:
        out["performance_index"] = summary["performance_index"]
    return out


def _parse_value(text: str, name: str):
    from models.parameters import parse_unit

    parts = text.replace("*", " ").split()
    try:
        v = float(parts[0])
    except (ValueError, IndexError):
        raise AssayError(f"decoder parameter {name}: cannot read a number from {text!r}") from None
    if len(parts) == 1:
        return v
    try:
        return v * parse_unit(" ".join(parts[1:]))
    except Exception:
        raise AssayError(f"decoder parameter {name}: unknown unit in {text!r}") from None


def format_summary(summary: dict) -> str:
    """A few lines for the terminal."""
    lines = [f"assay {summary['assay']}:"]
    for cond, cs in summary["conditions"].items():
        items = {k: v for k, v in cs.items() if not isinstance(v, list)}
        lines.append(f"  {cond}: " + ", ".join(f"{k} {v:.3g}" if isinstance(v, float) else f"{k} {v}"
                                                for k, v in items.items()))
    for k, v in summary.items():
        if k.startswith(("brain_vs", "paired_", "performance")):
            lines.append(f"  {k}: {v}")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m experiments.behaviour", description=__doc__.splitlines()[0])
    add_arguments(p)
    return run_from_args(p.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
