"""What every larvasim experiment shares: a registry, results with tables and figures, saving.

An experiment is a function ``f(connectome, *, seed, trials, device, null, **options)``
registered with :func:`register`; it returns an :class:`ExperimentResult`.
:func:`run_experiment` loads the connectome (or a shuffled copy of it, with
``null=True``), runs the experiment, and writes its tables (CSV), runs
(HDF5, SONATA layout) and figures (PNG) into an output folder, atomically.
``larvasim run NAME`` does the same from the command line.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pandas as pd

from larvasim.util import atomic_write_bytes

__all__ = ["ExperimentResult", "register", "EXPERIMENTS", "run_experiment", "available_experiments"]

#: name -> (function, one-line description)
EXPERIMENTS: dict[str, tuple[Callable, str]] = {}


def register(name: str, description: str):
    """Decorator: make ``f`` runnable as ``run_experiment(name)`` and ``larvasim run name``."""
    def deco(f):
        EXPERIMENTS[name] = (f, description)
        return f
    return deco


def available_experiments() -> dict[str, str]:
    """Names and one-line descriptions of the registered experiments."""
    _load_all()
    return {k: d for k, (_, d) in sorted(EXPERIMENTS.items())}


def _load_all():
    from . import compare, screens, sensory  # noqa: F401  (registration side effects)


@dataclass
class ExperimentResult:
    """Tables, runs and figures of one experiment.

    Attributes
    ----------
    name : str
    tables : dict of str -> pandas.DataFrame
        Tidy tables (one row per stimulus x neuron, per pair, ...).
    runs : dict of str -> sim.Results
        The simulations behind the tables.
    figures : dict of str -> matplotlib Figure
        Drawn but not yet saved; :meth:`save` writes them as PNG.
    summary : str
        A few lines of findings for the terminal.
    metadata : dict
        Options, seed, connectome provenance, null model.
    """

    name: str
    tables: dict = field(default_factory=dict)
    runs: dict = field(default_factory=dict)
    figures: dict = field(default_factory=dict)
    summary: str = ""
    metadata: dict = field(default_factory=dict)

    def save(self, out_dir, runs: bool = True) -> Path:
        """Write tables (CSV), runs (HDF5), figures (PNG) and metadata (JSON) into ``out_dir``."""
        from sim.analysis import plots

        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        for key, df in self.tables.items():
            _atomic_text(out / f"{key}.csv", df.to_csv(index=False))
        if runs:
            for key, res in self.runs.items():
                res.save(out / f"run_{_safe(key)}.h5")
        for key, fig in list(self.figures.items()):
            plots.save(fig, out / f"{key}.png")
        _atomic_text(out / "metadata.json", json.dumps(self.metadata, indent=2, default=str))
        _atomic_text(out / "summary.txt", self.summary + "\n")
        return out


def _safe(key: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in key)


def _atomic_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode())


def run_experiment(name: str, connectome=None, *, out_dir=None, null: bool = False, null_seed: int | None = None,
                   **options) -> ExperimentResult:
    """Run a registered experiment.

    Parameters
    ----------
    name : str
        See :func:`available_experiments`.
    connectome : Connectome, optional
        Default ``connectomes.load("winding2023")``.
    out_dir : path, optional
        Save tables, runs and figures there.
    null : bool
        Run on a degree- and strength-preserving shuffle of the connectome
        (:func:`connectomes.nullmodels.shuffle`, seed ``null_seed``).
    null_seed : int, optional
        Seed of that shuffle (default 0); also passed on to an experiment that draws its own null
        model (e.g. ``left_right``'s shuffled-brain control).
    **options
        Passed to the experiment (``trials``, ``seed``, ``device``, ...).
    """
    _load_all()
    if name not in EXPERIMENTS:
        import difflib

        close = difflib.get_close_matches(name, list(EXPERIMENTS), n=3)
        raise KeyError(f"unknown experiment {name!r}" + (f"; did you mean {', '.join(close)}?" if close else "")
                       + f" Available: {', '.join(sorted(EXPERIMENTS))}")
    import connectomes
    from connectomes.nullmodels import shuffle

    c = connectome if connectome is not None else connectomes.load("winding2023")
    if null:
        c = shuffle(c, seed=0 if null_seed is None else null_seed)
    f, _ = EXPERIMENTS[name]
    import inspect

    params = inspect.signature(f).parameters
    if null_seed is not None and "null_seed" in params:
        options["null_seed"] = null_seed
    if not any(p.kind is p.VAR_KEYWORD for p in params.values()):
        known = [k for k, p in list(params.items())[1:] if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)]
        unknown = [k for k in options if k not in known]
        if unknown:
            raise ValueError(f"experiment {name!r} has no option(s) {unknown}; its options: {', '.join(known)}")
    t0 = time.perf_counter()
    res = f(c, **options)
    res.metadata.setdefault("experiment", name)
    res.metadata.setdefault("options", {k: str(v) for k, v in options.items()})
    res.metadata["null_model"] = c.provenance.get("null_model")
    res.metadata["connectome"] = {k: c.provenance.get(k) for k in ("dataset", "container_sha256", "cache_key")}
    res.metadata["wall_time_s"] = time.perf_counter() - t0
    nets = {json.dumps(_model_of(r), sort_keys=True) for r in res.runs.values() if _model_of(r)}
    if nets:  # what the experiment ran: printed with its summary and stored in its metadata
        res.metadata["models"] = [json.loads(n) for n in sorted(nets)]
        res.summary = "\n".join(_describe_model(json.loads(n)) for n in sorted(nets)) + "\n" + res.summary
    if out_dir is not None:
        res.save(out_dir)
    return res


def _model_of(results) -> dict | None:
    """Model, sign policy and device of a run (from its metadata)."""
    net = (getattr(results, "metadata", None) or {}).get("network")
    if not net:
        return None
    params = net["model"]["parameters"]
    return {"model": net["model"]["model"], "signs": net["signs"].get("policy"), "device": net["device"],
            "synapse_types": net["synapse_types"],
            "w_syn": params.get("w_syn", {}).get("value") if isinstance(params.get("w_syn"), dict) else None,
            **({"min_input_fraction": f} if (f := _min_input_fraction(params)) else {})}


def _min_input_fraction(params: dict) -> float:
    """The weak-connection threshold of a model description's ``parameters`` (0 when it keeps every connection)."""
    return float((params.get("min_input_fraction") or {}).get("value") or 0.0)


def left_out_text(threshold) -> str:
    """The model's weak-connection threshold as the run lines print it ('' when every connection is kept):
    ``threshold`` is the share itself or a model description's ``parameters`` dict."""
    fraction = _min_input_fraction(threshold) if isinstance(threshold, dict) else threshold
    return f", connections < {100 * fraction:.3g} % of the target's input left out" if fraction else ""


def _describe_model(m: dict) -> str:
    w = f", w_syn {m['w_syn']:.3g} mV" if m.get("w_syn") is not None else ""
    return (f"model: {m['model']}{w}, signs: {m['signs']}, device: {m['device']}, synapses: "
            f"{'+'.join(m['synapse_types'])}{left_out_text(m.get('min_input_fraction'))}")


def pair_table(connectome, indices) -> pd.DataFrame:
    """Left/right pairs among ``indices``: columns left, right (neuron indices), label."""
    n = connectome.neurons
    rows = []
    seen = set()
    for i in indices:
        j = int(n.at[i, "pair_index"])
        if i in seen or j < 0 or j in seen:
            continue
        if n.at[i, "hemisphere"] == "left" and n.at[j, "hemisphere"] == "right":
            rows.append((i, j, n.at[i, "label"]))
        elif n.at[i, "hemisphere"] == "right" and n.at[j, "hemisphere"] == "left":
            rows.append((j, i, n.at[i, "label"]))
        seen.update((i, j))
    return pd.DataFrame(rows, columns=["left", "right", "label"])
