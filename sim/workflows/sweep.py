"""Parameter sweeps: a base experiment plus a grid, a list or a random sample over named parameters.

>>> from sim.workflows.sweep import Sweep                                                   # doctest: +SKIP
>>> sw = Sweep("run.toml",                                                        # doctest: +SKIP
...            grid={"w_syn": ["0.2 mV", "0.275 mV", "0.35 mV"],
...                  "drive.rate": ["20 Hz", "40 Hz", "80 Hz"]},
...            seeds=5)
>>> table = sw.run("wsyn_rate.sweep")           # all cores (joblib); or scheduler="tcp://host:8786"
>>> table.groupby(["w_syn", "drive.rate"])["hz.DN-VNC"].mean()
>>> sim.workflows.sweep.plot_sweep("wsyn_rate.sweep", readout="hz.DN-VNC", path="fig.png")

The same from a TOML file (a run file plus a ``[sweep]`` table; see
``docs/sweeps.md``)::

    larvasim sweep wsyn_rate.toml [--jobs N | --scheduler tcp://HOST:PORT] [--plot fig.png]

Parameters
----------
A parameter is a dotted path into the run file (:mod:`sim.workflows.config`):

* a bare name is a model parameter: ``w_syn``, ``tau_m``, ``v_th``,
  ``poisson_weight_factor`` (``model_parameters.NAME`` is the same);
* ``drive.rate``, ``drive.start``, ``drive.stop`` set the key in every
  ``[[drive]]`` table; ``drive.0.rate`` in the first only (also ``activate``,
  ``silence``); a whole list can be swept too (``silence = [[], [{...}]]``);
* ``signs``, ``sign_options.fraction`` (inhibitory fraction of the random
  policy), ``sign_options.modulatory``, ``synapse_types``, ``weight_mode``,
  ``model``, ``duration``, ``trials``, ``device``, and any other key of a run
  file, e.g. ``plasticity.eta`` (the ``[plasticity]`` table, structural);
* seeds: ``seeds=[1, 2, 3]`` (or ``seeds=3`` for 0, 1, 2) are crossed with
  every point.

Builds are reused
-----------------
Each run is split into its *structure* (everything that shapes the built
network: model and its parameters, signs, synapse types, weight mode,
device, plasticity) and what a built network re-runs with: seed, trials,
duration, stimuli and silencing, and the synaptic weight parameters that are
swept (``w_syn``; ``w_syn_e``/``w_syn_i`` of the conductance model), which
become ``Network.run(weight_scale=value / base value)``. Each worker process
keeps the networks it built (keyed by structure); runs are dispatched grouped
by structure, so a network is built -- for ``cpp_standalone``, generated and
compiled -- once per structure and worker, and every other run is a re-run
with ``run_args``. A swept weight scales the recurrent synapses only: the
drive keeps the weight of the build (``poisson_weight_factor x`` the base
``w_syn``: every drive event forces a spike), where ``larvasim run --set
w_syn=...`` would also change the drive weight; sweep
``poisson_weight_factor`` (structural) to vary the drive weight. With a
plasticity rule, weight parameters are structural (the rule owns its weights).

Each C++ standalone project is private to one worker process (a *slot*
folder under ``<cache>/sweep-slots``, taken with a file lock), so parallel
workers never share the project's result files.

Execution and storage
---------------------
Locally the runs go to ``jobs`` processes (default: one per core) through
joblib's loky backend; with ``scheduler="tcp://HOST:PORT"`` (or a
``dask.distributed.Client``) to a Dask cluster, whose workers should run one
thread each (``dask worker tcp://HOST:PORT --nthreads 1``; runs within a
worker process are serialised anyway: Brian2 is not thread-safe). Results
come back to the sweep process, which writes one file per completed run
atomically (:mod:`sim.workflows.sweep_store`); killing the sweep or a worker loses no
completed run, and re-running does only the missing runs. A run that raises
is recorded with its error (``status = "error"``) and the sweep goes on;
``retry_errors=True`` runs them again. A worker that dies is replaced (loky)
or its runs are rescheduled (Dask).

Module size: over 600 lines because a sweep's spec, plan, worker task, the local and Dask
schedulers and the plot share private helpers and one run record; the store is in
:mod:`sim.workflows.sweep_store`.
"""
from __future__ import annotations

import copy
import hashlib
import itertools
import json
import math
import os
import re
import socket
import sys
import threading
import time
import traceback
from collections import Counter, OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

# Brian2 installs a SIGINT handler when first imported, which works only in the main thread:
# import it with this module, not later in the threads that run the tasks of a Dask worker.
import brian2  # noqa: F401
import numpy as np
import pandas as pd

from .sweep_store import SweepStore, load_sweep

__all__ = ["Sweep", "run_sweep", "load_sweep_file", "load_sweep", "plot_sweep", "READOUT_KINDS",
           "SWEEP_KEYS"]

#: Readouts computed for every run (table columns ``hz.<...>``):
#: ``"celltype"`` -- mean rate per cell type (``hz.KC``, ``hz.DN-VNC``, ...);
#: ``"outputs"`` -- rate of every output neuron (DN-VNC, DN-SEZ, RGN), ``hz.<celltype>.<skid>``;
#: any other neuron-table column -- mean rate per value, ``hz.<column>=<value>``.
READOUT_KINDS = ("celltype", "outputs")

#: Keys of a sweep file's ``[sweep]`` table.
SWEEP_KEYS = ("name", "output", "seeds", "grid", "points", "random", "readouts", "window", "spikes",
              "jobs", "scheduler", "connectome", "data_dir", "verify", "figure", "figure_readout")

#: Run-file keys a built network re-runs with (not part of the structure).
_RUNTIME_KEYS = ("seed", "trials", "duration", "drive", "activate", "silence", "output")

#: Synaptic weight parameters a built network can re-run with (``weight_scale``),
#: by model name: parameter -> pathway kind (``None``: every pathway).
WEIGHT_PARAMETERS = {"current_lif": {"w_syn": None}, "larval_lif": {"w_syn": None},
                     "conductance_lif": {"w_syn_e": "excitatory", "w_syn_i": "inhibitory"}}

_FORMAT = "larvasim-sweep"
_FORMAT_VERSION = 1


# ---------------------------------------------------------------------------------------------
# values
# ---------------------------------------------------------------------------------------------
#: Unit used to write a Brian2 quantity of each dimension as text.
_TEXT_UNITS = ("mV", "ms", "Hz", "nS", "pA", "pF")


def _units():
    from .config import _UNITS

    return _UNITS


def _quantity_text(q) -> str:
    """A Brian2 quantity as run-file text, e.g. ``0.3*mV`` -> ``"0.3 mV"``."""
    units = _units()
    for name in _TEXT_UNITS:
        if q.dim == units[name].dim:
            return f"{float(q / units[name])!r} {name}"
    raise ValueError(f"cannot write {q!r} as a run-file quantity (units: {', '.join(_TEXT_UNITS)})")


def _canon(v):
    """Canonical run-file value: quantities as ``"<float> <unit>"``, numpy scalars as Python ones."""
    from brian2 import Quantity

    if isinstance(v, Quantity):
        return _quantity_text(v)
    if isinstance(v, str):
        from .config import split_quantity

        q = split_quantity(v)
        return f"{q[0]!r} {q[1]}" if q else v
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating):
        return float(v)
    if isinstance(v, (list, tuple)):
        return [_canon(x) for x in v]
    if isinstance(v, Mapping):
        return {str(k): _canon(x) for k, x in v.items()}
    return v


def _quantity_of(v):
    """``(magnitude, unit name)`` of a canonical quantity text, else ``None``."""
    if isinstance(v, str):
        from .config import split_quantity

        return split_quantity(v)
    return None


def _si(v) -> float:
    from .config import parse_quantity

    return float(parse_quantity(v))


def _digest(obj, n: int = 16) -> str:
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:n]


# ---------------------------------------------------------------------------------------------
# parameter paths
# ---------------------------------------------------------------------------------------------
def _normalise_path(path: str) -> list[str]:
    from .config import RUN_KEYS

    if not isinstance(path, str) or not path or any(not p for p in path.split(".")):
        raise ValueError(f"sweep parameter {path!r}: expected a dotted name such as 'w_syn' or 'drive.rate'")
    parts = path.split(".")
    if parts[0] in RUN_KEYS:
        return parts
    if len(parts) == 1:
        return ["model_parameters", parts[0]]
    raise ValueError(f"sweep parameter {path!r}: {parts[0]!r} is not a run-file key "
                     f"({', '.join(RUN_KEYS)}) and a bare name must be a model parameter")


def _assign(node, parts: list[str], value, path: str):
    key = parts[0]
    if isinstance(node, list):
        if re.fullmatch(r"-?\d+", key):
            i = int(key)
            if not -len(node) <= i < len(node):
                raise ValueError(f"sweep parameter {path!r}: index {i} but the run file has {len(node)} table(s)")
            if len(parts) == 1:
                node[i] = copy.deepcopy(value)
            else:
                _assign(node[i], parts[1:], value, path)
            return
        if not node:
            raise ValueError(f"sweep parameter {path!r}: the run file has no table to set {key!r} in")
        for item in node:  # drive.rate: every [[drive]] table
            _assign(item, parts, value, path)
        return
    if not isinstance(node, dict):
        raise ValueError(f"sweep parameter {path!r}: cannot set {key!r} inside {node!r}")
    if len(parts) == 1:
        node[key] = copy.deepcopy(value)
        return
    if key not in node:
        if re.fullmatch(r"-?\d+", parts[1]) or key in ("drive", "activate", "silence"):
            raise ValueError(f"sweep parameter {path!r}: the run file has no [[{key}]] table to set it in")
        node[key] = {}
    _assign(node[key], parts[1:], value, path)


# ---------------------------------------------------------------------------------------------
# the plan
# ---------------------------------------------------------------------------------------------
@dataclass
class PlannedRun:
    """One run of a sweep: its resolved run file and how it maps onto a built network."""

    index: int
    run_id: str
    values: dict            # parameter -> canonical value as set
    seed: int
    config: dict            # the resolved run file
    structure: str          # hash of what shapes the built network
    build: dict             # the run file the network is built from
    weight_scale: Any = None  # float, {kind: float} or None

    def table_values(self, units: dict) -> dict:
        out = {}
        for p, v in self.values.items():
            q = _quantity_of(v)
            if q is not None and p in units:
                out[p] = q[0] if q[1] == units[p] else float(_si(v) / _si(f"1 {units[p]}"))
            else:
                out[p] = v
        return out


#: The most points one sweep plans (its table and run records live in one folder).
MAX_RUNS = 1_000_000


def _whole_number(v, what: str, minimum: int | None = None) -> int:
    """``v`` as an int (a whole number, not a bool); an error naming ``what`` otherwise."""
    ok = (isinstance(v, (int, np.integer)) or (isinstance(v, (float, np.floating)) and math.isfinite(v)
                                               and float(v).is_integer())) and not isinstance(v, (bool, np.bool_))
    if not ok or (minimum is not None and v < minimum):
        raise ValueError(f"{what}: expected a whole number{f' >= {minimum}' if minimum is not None else ''}, "
                         f"got {v!r}")
    return int(v)


def _sample(spec, rng, path):
    """One random value of a parameter: {uniform|loguniform: [lo, hi]}, {randint: [lo, hi]}, {choice: [...]}."""
    if isinstance(spec, (list, tuple)):
        spec = {"choice": list(spec)}
    if not isinstance(spec, Mapping) or len(spec) != 1:
        raise ValueError(f"random parameter {path!r}: expected one of uniform = [lo, hi], "
                         f"loguniform = [lo, hi], randint = [lo, hi], choice = [...]; got {spec!r}")
    (kind, arg), = spec.items()
    if kind not in ("choice", "randint", "uniform", "loguniform"):
        raise ValueError(f"random parameter {path!r}: unknown distribution {kind!r}")
    if kind == "choice":
        if isinstance(arg, (str, bytes, Mapping)) or not isinstance(arg, Sequence) or not arg:
            raise ValueError(f"random parameter {path!r}: choice needs a non-empty list of values, got {arg!r}")
        return copy.deepcopy(arg[int(rng.integers(len(arg)))])
    if isinstance(arg, (str, bytes, Mapping)) or not isinstance(arg, Sequence) or len(arg) != 2:
        raise ValueError(f"random parameter {path!r}: {kind} needs [lo, hi], got {arg!r}")
    if kind == "randint":
        lo, hi = (_whole_number(x, f"random parameter {path!r}: randint bound") for x in arg)
        if hi < lo or max(abs(lo), abs(hi)) >= 2**62:
            raise ValueError(f"random parameter {path!r}: randint needs lo <= hi (and |bounds| < 2**62), got {arg!r}")
        return int(rng.integers(lo, hi + 1))
    for x in arg:
        if isinstance(x, bool) or not (isinstance(x, (int, float)) and math.isfinite(x)
                                       or isinstance(x, str) and _quantity_of(_canon(x)) is not None):
            raise ValueError(f"random parameter {path!r}: {kind} bounds must be finite numbers or quantities "
                             f"such as '0.2 mV', got {x!r}")
    lo, hi = (_canon(x) for x in arg)
    qlo, qhi = _quantity_of(lo), _quantity_of(hi)
    if (qlo is None) != (qhi is None):
        raise ValueError(f"random parameter {path!r}: both bounds need a unit, or neither")
    unit = qlo[1] if qlo else None
    a = qlo[0] if qlo else float(lo)
    b = (_si(hi) / _si(f"1 {unit}")) if qlo else float(hi)
    if kind == "uniform":
        x = float(rng.uniform(a, b))
    else:
        if a <= 0 or b <= 0:
            raise ValueError(f"random parameter {path!r}: loguniform needs positive bounds")
        x = float(math.exp(rng.uniform(math.log(a), math.log(b))))
    return f"{x!r} {unit}" if unit else x


class Sweep:
    """A base experiment (a run file) plus a grid, a list of points or a random sample.

    Parameters
    ----------
    base : dict or path, optional
        The run file (as :func:`sim.workflows.config.load_run_file` returns it) or its path.
    grid : dict, optional
        ``{parameter: [values]}``: every combination (in this order, last
        parameter fastest).
    points : list of dict, optional
        ``[{parameter: value, ...}, ...]``: these points only.
    random : dict, optional
        ``{"n": 20, "seed": 0, "parameters": {parameter: distribution}}`` with
        distributions ``{"uniform": [lo, hi]}``, ``{"loguniform": [lo, hi]}``,
        ``{"randint": [lo, hi]}`` or ``{"choice": [...]}`` (a list is a choice).
    seeds : int or list of int, optional
        Seeds crossed with every point (an int ``n``: ``0 .. n-1``; default:
        the base's seed).
    readouts : sequence
        :data:`READOUT_KINDS` names, neuron-table columns, or callables
        ``f(results) -> {column: value}`` (or a number, for a column named
        after the function).
    window : (start, stop), optional
        Window of the rate readouts (text or quantities), default the whole run.
    spikes : bool
        Also keep every run's spikes (``spikes/<run_id>.h5``).
    name : str, optional
        Name of the sweep (default ``"sweep"``); the default folder is ``<name>.sweep``.
    connectome, data_dir, verify
        Which connectome the workers load (``connectomes.load(connectome,
        data_dir=, verify=)``; ``data_dir=None``: each worker's
        ``$LARVASIM_DATA`` or cache).
    output : path, optional
        Default sweep folder.
    """

    def __init__(self, base=None, grid: Mapping | None = None, *, points: Sequence[Mapping] | None = None,
                 random: Mapping | None = None, seeds=None, readouts: Sequence = READOUT_KINDS, window=None,
                 spikes: bool = False, name: str | None = None, connectome: str = "winding2023",
                 data_dir=None, verify: bool = True, output=None):
        from .config import load_run_file

        self._init = {"base": base, "grid": grid, "points": points, "random": random, "seeds": seeds,
                      "readouts": readouts, "window": window, "spikes": spikes, "name": name,
                      "connectome": connectome, "data_dir": data_dir, "verify": verify, "output": output}
        if base is None:
            base = {}
        elif isinstance(base, (str, os.PathLike)):
            base = load_run_file(base)
        elif not isinstance(base, Mapping):
            raise TypeError(f"base must be a run-file dict or path, got {type(base).__name__}")
        base = dict(base)
        self._where = base.pop("_path", "sweep base")
        base.pop("output", None)
        self.base = _canon(base)
        modes = [m for m, v in (("grid", grid), ("points", points), ("random", random)) if v is not None]
        if len(modes) > 1:
            raise ValueError(f"give one of grid, points or random, not {' and '.join(modes)}")
        self.mode = modes[0] if modes else "seeds"
        if grid is not None and not isinstance(grid, Mapping):
            raise ValueError(f"grid: expected a table of parameter = [values], got {grid!r}")
        if grid is not None and not len(grid):
            raise ValueError("grid: the table is empty (name at least one parameter with a list of values)")
        for k, v in (grid or {}).items():
            if isinstance(v, (str, bytes)) or not isinstance(v, Sequence) or not len(v):
                raise ValueError(f"grid parameter {k!r}: expected a non-empty list of values, got {v!r}")
        self.grid = {str(k): [_canon(x) for x in v] for k, v in (grid or {}).items()}
        if points is not None and (isinstance(points, (str, bytes, Mapping)) or not isinstance(points, Sequence)
                                   or not all(isinstance(p, Mapping) for p in points)):
            raise ValueError(f"points: expected a list of tables of parameter = value, got {points!r}")
        self.points = [{str(k): _canon(x) for k, x in p.items()} for p in (points or [])]
        if points is not None and not self.points:
            raise ValueError("points: the list is empty")
        if random is not None and not isinstance(random, Mapping):
            raise ValueError(f"random: expected a table with n, seed and parameters, got {random!r}")
        self.random = copy.deepcopy(dict(random)) if random is not None else None
        if seeds is None:
            seeds = [_whole_number(self.base.get("seed", 0), "seed")]
        elif isinstance(seeds, (int, np.integer)) and not isinstance(seeds, bool):
            if seeds < 1:
                raise ValueError("seeds: a count must be >= 1")
            seeds = list(range(int(seeds)))
        if isinstance(seeds, (str, bytes, Mapping)) or not isinstance(seeds, (Sequence, np.ndarray)):
            raise ValueError(f"seeds: expected a count or a list of whole numbers, got {seeds!r}")
        self.seeds = [_whole_number(s, "seeds") for s in seeds]
        if not self.seeds:
            raise ValueError("seeds: the list is empty")
        if isinstance(readouts, (str, bytes)) or not isinstance(readouts, Sequence):
            raise ValueError(f"readouts: expected a list of names, got {readouts!r}")
        self.readouts = list(readouts)
        for r in self.readouts:
            if not (isinstance(r, str) or callable(r)):
                raise TypeError(f"readouts: {r!r} is neither a name nor a callable")
        if window is not None:
            from .config import parse_quantity
            from brian2 import ms

            if isinstance(window, (str, bytes, Mapping)) or not isinstance(window, Sequence) or len(window) != 2:
                raise ValueError(f"window must be (start, stop), got {window!r}")
            window = [float(parse_quantity(w, "window") / ms) for w in window]
        self.window = window
        self.spikes = bool(spikes)
        self.name = str(name or "sweep")
        for what, v in (("connectome", connectome), ("data_dir", data_dir), ("output", output)):
            if v is not None and not isinstance(v, (str, os.PathLike)):
                raise ValueError(f"{what}: expected a name or path, got {v!r}")
        self.connectome = {"name": connectome, "data_dir": str(data_dir) if data_dir else None,
                           "verify": bool(verify)}
        self.output = output
        self.options: dict = {}   # extra [sweep] keys of a file: jobs, scheduler, figure, ...
        self._plan = None
        self.plan  # validate now

    # -- planning --------------------------------------------------------------------------
    def _points(self) -> tuple[list[str], list[dict]]:
        if self.mode == "grid":
            names = list(self.grid)
            return names, [dict(zip(names, combo)) for combo in itertools.product(*self.grid.values())]
        if self.mode == "points":
            names = list(dict.fromkeys(k for p in self.points for k in p))
            return names, [dict(p) for p in self.points]
        if self.mode == "random":
            r = self.random
            unknown = set(r) - {"n", "seed", "parameters"}
            if unknown or "n" not in r or not isinstance(r.get("parameters"), Mapping) or not r["parameters"]:
                raise ValueError("random: expected n = <count>, seed = <int> and a [parameters] table "
                                 f"of distributions; got keys {sorted(map(str, r))}")
            n = _whole_number(r["n"], "random: n", minimum=1)
            if n > MAX_RUNS:
                raise ValueError(f"random: n = {n:,} points is more than a sweep plans (at most {MAX_RUNS:,}); "
                                 "split it into several sweeps")
            rng = np.random.default_rng(_whole_number(r.get("seed", 0), "random: seed", minimum=0))
            names = list(r["parameters"])
            pts = [{p: _canon(_sample(r["parameters"][p], rng, p)) for p in names} for _ in range(n)]
            return names, pts
        return [], [{}]

    @property
    def parameters(self) -> list[str]:
        """The swept parameters (without the seed), in table order."""
        return self.plan_info["parameters"]

    @property
    def plan(self) -> list[PlannedRun]:
        """Every run, in plan order (points in order, seeds fastest); duplicates dropped."""
        if self._plan is None:
            self._plan, self.plan_info = self._make_plan()
        return self._plan

    def _make_plan(self):
        from models import DEFAULT_MODEL, get_model

        names, pts = self._points()
        paths = {n: _normalise_path(n) for n in names}
        models: dict[str, Any] = {}

        def model_of(name):
            if name not in models:
                models[name] = get_model(name)
            return models[name]

        units: dict[str, str] = {}
        for p in pts:
            for n, v in p.items():
                q = _quantity_of(v)
                if q is not None:
                    units.setdefault(n, q[1])
        readout_key = {"readouts": [r if isinstance(r, str) else getattr(r, "__qualname__", repr(r))
                                    for r in self.readouts], "window": self.window}
        runs, seen, n_dup = [], set(), 0
        for point in pts:
            cfg0 = copy.deepcopy(self.base)
            for n, v in point.items():
                _assign(cfg0, paths[n], v, n)
            model_name = cfg0.get("model", DEFAULT_MODEL)
            model = model_of(model_name)
            for n in point:
                parts = paths[n]
                if parts[0] == "model_parameters" and len(parts) == 2:
                    known = set(model.parameters) | set(getattr(model, "cell_classes", {}) or {})
                    if parts[1] not in known:
                        raise ValueError(f"sweep parameter {n!r}: {model_name} has no parameter {parts[1]!r} "
                                         f"(parameters: {', '.join(model.parameters)})")
            if any(paths[n][0] == "model_parameters" for n in point):  # units and physical ranges, now
                from .config import model_from_config

                where = "sweep point " + ", ".join(f"{n} = {v!r}" for n, v in point.items())
                model_from_config({"model": model_name, "model_parameters": cfg0.get("model_parameters"),
                                   "_path": where})
            # swept synaptic-weight parameters become weight_scale on a network built at the base value
            scale = {}
            build = copy.deepcopy(cfg0)
            if not cfg0.get("plasticity"):
                swept = {paths[n][1] for n in point if paths[n][0] == "model_parameters" and len(paths[n]) == 2}
                for wp, kind in WEIGHT_PARAMETERS.get(model_name, {}).items():
                    if wp not in swept:
                        continue
                    base_value = (self.base.get("model_parameters") or {}).get(wp)
                    ref = _si(base_value) if base_value is not None else float(model.parameters[wp].value)
                    if ref == 0:  # no base to scale from: the parameter stays structural
                        continue
                    scale[kind] = _si(cfg0["model_parameters"][wp]) / ref
                    if base_value is None:
                        build["model_parameters"].pop(wp, None)
                    else:
                        build["model_parameters"][wp] = base_value
                if "model_parameters" in build and not build["model_parameters"]:
                    del build["model_parameters"]
            weight_scale = None
            if scale:
                weight_scale = scale[None] if None in scale else {k: v for k, v in scale.items()}
            for seed in self.seeds:
                cfg = copy.deepcopy(cfg0)
                cfg["seed"] = seed
                b = {k: v for k, v in build.items() if k not in _RUNTIME_KEYS}
                random_signs = b.get("signs") == "random" and "seed" not in (b.get("sign_options") or {})
                b["seed"] = seed if random_signs else 0
                structure = _digest({"build": b, "connectome": self.connectome["name"]}, 12)
                run_id = _digest({"config": cfg, "connectome": self.connectome["name"], "readout": readout_key})
                if run_id in seen:
                    n_dup += 1
                    continue
                seen.add(run_id)
                runs.append(PlannedRun(len(runs), run_id, dict(point), seed, cfg, structure, b, weight_scale))
        info = {"parameters": names, "units": units, "n_duplicates": n_dup, "readout_key": readout_key}
        return runs, info

    def spec(self) -> dict:
        """What sweep.json holds."""
        from larvasim.util import larvasim_version

        plan = self.plan
        units = self.plan_info["units"]
        return {
            "format": _FORMAT, "format_version": _FORMAT_VERSION, "name": self.name, "mode": self.mode,
            "base": self.base, "grid": self.grid or None, "points": self.points or None, "random": self.random,
            "seeds": self.seeds, "parameters": self.parameters, "units": units,
            "readouts": self.plan_info["readout_key"], "spikes": self.spikes, "connectome": self.connectome,
            "n_runs": len(plan), "n_structures": len({r.structure for r in plan}),
            "n_duplicates_dropped": self.plan_info["n_duplicates"], "larvasim_version": larvasim_version(),
            "runs": [{"index": r.index, "run_id": r.run_id, "values": r.table_values(units), "seed": r.seed,
                      "structure": r.structure} for r in plan],
        }

    def table_plan(self) -> pd.DataFrame:
        """The planned runs as a table (run, run_id, parameters, seed, structure)."""
        units = self.plan_info["units"]
        return pd.DataFrame([{"run": r.index, "run_id": r.run_id, **r.table_values(units), "seed": r.seed,
                              "structure": r.structure} for r in self.plan])

    def replace(self, **changes) -> "Sweep":
        """A copy with some constructor arguments changed, e.g. ``sw.replace(seeds=3)``.

        Giving one of ``grid``, ``points`` or ``random`` replaces the other two.
        """
        kw = dict(self._init)
        if {"grid", "points", "random"} & set(changes):
            kw.update(grid=None, points=None, random=None)
        if isinstance(kw["base"], Mapping):
            kw["base"] = dict(kw["base"])
        kw.update(changes)
        new = Sweep(**kw)
        new.options = dict(self.options)
        return new

    def __len__(self):
        return len(self.plan)

    def __repr__(self):
        return (f"<Sweep {self.name!r}: {len(self.plan)} runs, parameters {self.parameters}, "
                f"{len(self.seeds)} seed(s), {len({r.structure for r in self.plan})} structure(s)>")

    def run(self, out=None, **kwargs) -> pd.DataFrame:
        """Run the sweep into folder ``out``; see :func:`run_sweep`."""
        return run_sweep(self, out, **kwargs)

    # -- file ------------------------------------------------------------------------------
    @classmethod
    def from_file(cls, path) -> "Sweep":
        """A sweep file: a run file plus a ``[sweep]`` table (see ``docs/sweeps.md``)."""
        return load_sweep_file(path)


def load_sweep_file(path) -> Sweep:
    """Read a sweep TOML file (a run file with a ``[sweep]`` table)."""
    from .config import RUN_KEYS, read_toml

    path = Path(path)
    cfg = read_toml(path)
    sw = cfg.pop("sweep", None)
    if not isinstance(sw, dict):
        raise ValueError(f"{path}: no [sweep] table (a sweep file is a run file plus [sweep] with "
                         f"grid, points or random; see docs/sweeps.md)")
    unknown = set(cfg) - set(RUN_KEYS)
    if unknown:
        raise ValueError(f"{path}: unknown key(s) {sorted(unknown)}; known: {', '.join(RUN_KEYS)}, sweep")
    for key in ("drive", "activate", "silence"):
        if key in cfg and not (isinstance(cfg[key], list) and all(isinstance(t, dict) for t in cfg[key])):
            raise ValueError(f"{path}: {key!r} must be an array of tables, written [[{key}]]")
    unknown = set(sw) - set(SWEEP_KEYS)
    if unknown:
        raise ValueError(f"{path}: unknown key(s) in [sweep]: {sorted(unknown)}; known: {', '.join(SWEEP_KEYS)}")
    cfg["_path"] = str(path)
    try:
        s = Sweep(cfg, grid=sw.get("grid"), points=sw.get("points"), random=sw.get("random"),
                  seeds=sw.get("seeds"), readouts=sw.get("readouts", READOUT_KINDS), window=sw.get("window"),
                  spikes=sw.get("spikes", False), name=sw.get("name", path.stem),
                  connectome=sw.get("connectome", "winding2023"), data_dir=sw.get("data_dir"),
                  verify=sw.get("verify", True), output=sw.get("output"))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{path}: {exc}") from None
    s.options = {k: sw[k] for k in ("jobs", "scheduler", "figure", "figure_readout") if k in sw}
    return s


# ---------------------------------------------------------------------------------------------
# the worker side
# ---------------------------------------------------------------------------------------------
_LOCK = threading.RLock()          # Brian2 is not thread-safe: one run at a time per process
_NETWORKS: "OrderedDict[tuple, Any]" = OrderedDict()   # (cache root, connectome, structure) -> Network
_CONNECTOMES: dict = {}
_SLOTS: dict = {}                   # cache root -> (fd, slot folder)
#: Networks kept per worker process.
MAX_NETWORKS = 3


def _apply_env(env):
    for k, v in (env or {}).items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


def _watch_parent(parent: int | None):
    """Local workers end when the sweep process dies (SIGKILL included) instead of idling on."""
    if not parent or parent == os.getpid() or _SLOTS.get("_watch") == parent:
        return
    _SLOTS["_watch"] = parent

    def watch():
        while True:
            time.sleep(0.5)
            try:
                os.kill(parent, 0)
                alive = os.getppid() == parent or os.getppid() != 1
            except ProcessLookupError:
                alive = False
            except PermissionError:  # pragma: no cover
                alive = True
            if not alive:
                os._exit(1)

    threading.Thread(target=watch, name="larvasim-sweep-parent-watch", daemon=True).start()


def _slot_dir() -> Path:
    """This process's private folder for C++ standalone projects (a file-locked slot)."""
    from connectomes.paths import cache_dir

    root = cache_dir() / "sweep-slots"
    if str(root) in _SLOTS:
        return _SLOTS[str(root)][1]
    root.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # pragma: no cover - no flock: one folder per process
        d = root / f"pid-{os.getpid()}"
        _SLOTS[str(root)] = (None, d)
        return d
    for k in itertools.count():
        fd = os.open(root / f"slot-{k}.lock", os.O_CREAT | os.O_RDWR, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        _SLOTS[str(root)] = (fd, root / f"slot-{k}")  # held (open) for the life of the process
        return root / f"slot-{k}"


def _connectome(spec):
    import connectomes

    key = (spec["name"], spec["data_dir"], spec["verify"], os.environ.get("LARVASIM_DATA"))
    if key not in _CONNECTOMES:
        _CONNECTOMES.clear()
        _CONNECTOMES[key] = _Selections(connectomes.load(spec["name"], data_dir=spec["data_dir"],
                                                          verify=spec["verify"]))
    return _CONNECTOMES[key]


def _network(c, task):
    """The cached network of the task's structure, or a new one; (network, key, seconds spent building)."""
    from connectomes.paths import cache_dir

    from .config import network_from_config

    key = (str(cache_dir()), c.provenance.get("cache_key") or id(c), task["structure"])
    if key in _NETWORKS:
        _NETWORKS.move_to_end(key)
        return _NETWORKS[key], key, 0.0
    t0 = time.perf_counter()
    build = dict(task["build"], _path=task["where"])
    net = network_from_config(c._c, build)
    if net.device == "cpp_standalone":
        net.standalone_root = _slot_dir()
    if net.device == "numba":
        net.threads = 1  # the sweep runs one task per core already
    _NETWORKS[key] = net
    while len(_NETWORKS) > MAX_NETWORKS:
        _NETWORKS.popitem(last=False)
    return net, key, time.perf_counter() - t0


class _Selections:
    """The connectome with memoised ``select`` (stimuli are parsed anew for every run)."""

    def __init__(self, connectome):
        self._c = connectome
        self._memo = {}

    def select(self, **criteria):
        k = json.dumps(criteria, sort_keys=True, default=str)
        if k not in self._memo:
            self._memo[k] = self._c.select(**criteria)
        return self._memo[k]

    def __getattr__(self, name):
        return getattr(self._c, name)


_TARGETS: dict = {}   # (connectome, digest of the group's drives) -> drive targets


def _ensure_targets(net, c, task):
    """C++ standalone: compile in every neuron the task's group drives, so no drive change rebuilds."""
    from .config import stimuli_from_config
    from ..stimuli import PoissonDrive, as_indices

    tkey = (id(c._c), _digest(task["group_drives"]))
    if tkey not in _TARGETS:
        drives = task["group_drives"] or []
        stims = stimuli_from_config(c, {"drive": drives, "_path": task["where"]}) if drives else []
        _TARGETS[tkey] = np.unique(np.concatenate([as_indices(s.target) for s in stims if isinstance(s, PoissonDrive)]
                                                  + [np.zeros(0, np.int64)]))
    targets = _TARGETS[tkey]
    if not np.isin(targets, net.drive_targets).all():
        net.drive_targets = np.union1d(net.drive_targets, targets).astype(np.int64)


def _clean_run_args(net):
    """Remove the run_args arrays Brian2 wrote into this process's private project (one per run)."""
    root = getattr(net, "standalone_root", None)
    if root is None:
        return
    for f in Path(root).glob("*/static_arrays/init_*"):
        f.unlink(missing_ok=True)


_GROUPS: dict = {}   # id of a neuron table -> (cell-type groups, output neurons)


def _groups_of(neurons):
    """Cell-type groups (as :meth:`Results.rates_by`) and output neurons (as :meth:`Results.readout`)."""
    from ..results import READOUT_GROUPS

    key = id(neurons)
    if key not in _GROUPS:
        _GROUPS.clear()
        ct = neurons["celltype"].to_numpy(dtype=object)
        valid = ~pd.isna(ct)
        groups = {g: np.flatnonzero(valid & (ct == g)) for g in sorted(set(ct[valid].tolist()), key=str)}
        outputs = []
        skids = neurons["skid"].to_numpy()
        for g in READOUT_GROUPS:
            for i in np.flatnonzero(ct == g):
                skid = skids[i]
                if isinstance(skid, (float, np.floating)) and float(skid).is_integer():
                    skid = int(skid)
                outputs.append((f"hz.{g}.{skid}", i))
        _GROUPS[key] = (groups, outputs, neurons)   # keep the table alive: its id stays valid
    return _GROUPS[key][:2]


def _readouts(res, spec, neurons=None) -> dict:
    """Readout columns of one run (rates in Hz in the sweep's window, means over trials)."""
    out = {}
    window = spec["window"]
    fast = neurons is not None and len(neurons) == res.n_neurons
    per_neuron = np.nanmean(res.rates(window).to_numpy(float), axis=1) if fast else None
    for r in spec["readouts"]:
        if callable(r):
            v = r(res)
            if isinstance(v, Mapping):
                out.update({str(k): float(x) for k, x in v.items()})
            else:
                out[getattr(r, "__name__", "custom")] = float(v)
        elif r == "outputs" and fast:
            for col, i in _groups_of(neurons)[1]:
                out[col] = float(per_neuron[i])
        elif r == "outputs":
            per = res.readout(window, per_neuron=True)
            for node, row in per.iterrows():
                skid = row["skid"]
                skid = int(skid) if isinstance(skid, (int, float, np.number)) and float(skid).is_integer() else skid
                out[f"hz.{row['celltype']}.{skid}"] = float(row["mean_hz"])
        elif r == "celltype" and fast:
            for g, idx in _groups_of(neurons)[0].items():
                vals = per_neuron[idx]
                vals = vals[~np.isnan(vals)]
                out[f"hz.{g}"] = float(vals.mean()) if len(vals) else math.nan
        else:
            df = res.rates_by(r, window)
            for _, row in df.iterrows():
                col = f"hz.{row['group']}" if r == "celltype" else f"hz.{r}={row['group']}"
                out[col] = float(row["mean_hz"])
    return out


def _execute(task):
    """Run one planned run in this process; returns ``(record, results or None)``, never raises."""
    _watch_parent(task.get("parent"))
    with _LOCK:
        _apply_env(task.get("env"))
        t0 = time.perf_counter()
        c0 = os.times()
        rec = {"run_id": task["run_id"], "status": "ok", "error": None,
               "worker": f"{socket.gethostname()}:{os.getpid()}"}
        timing = {"built": False, "build_s": 0.0, "sim_s": None}
        res = None
        in_run = False
        key = None
        try:
            from .config import parse_quantity, stimuli_from_config

            c = _connectome(task["connectome"])
            cfg = dict(task["config"], _path=task["where"])
            stimuli = stimuli_from_config(c, cfg)
            duration = parse_quantity(cfg.get("duration", "1 s"), f"{task['where']}: duration")
            in_run = True
            net, key, build_s = _network(c, task)
            timing["built"] = build_s > 0
            if net.device == "cpp_standalone":
                _ensure_targets(net, c, task)
            timing["build_s"] = build_s
            compiled = getattr(net, "compile_time", None)
            kw = {"weight_scale": task["weight_scale"]} if task["weight_scale"] is not None else {}
            t1 = time.perf_counter()
            res = net.run(stimuli, duration=duration, trials=int(cfg.get("trials", 1)), seed=int(cfg["seed"]),
                          progress=False, **kw)
            timing["sim_s"] = time.perf_counter() - t1
            if net.device == "cpp_standalone" and int(cfg.get("trials", 1)) == 1:
                from brian2.devices.device import all_devices  # the C++ program's own run time

                timing["binary_s"] = all_devices["cpp_standalone"].timers.get("run_binary")
            if getattr(net, "compile_time", None) is not compiled:  # C++ generated and compiled in this run
                timing["built"] = True
                timing["build_s"] += net.compile_time
                timing["sim_s"] -= net.compile_time
            if net.device == "cpp_standalone":
                _clean_run_args(net)
            in_run = False
            rec["n_spikes"] = int(res.n_spikes)
            rec["readouts"] = _readouts(res, task["readout"], c.neurons)
            rec["versions"] = res.metadata.get("versions")
        except Exception as exc:  # recorded; the sweep goes on
            rec["status"] = "error"
            rec["error"] = f"{type(exc).__name__}: {exc}"
            rec["traceback"] = traceback.format_exc()
            res = None
            if in_run and key is not None:  # the network may be half-built: start afresh next time
                _NETWORKS.pop(key, None)
        timing["task_s"] = time.perf_counter() - t0
        c1 = os.times()  # CPU of this process and of its children (the C++ program): load-independent
        timing["cpu_s"] = sum(c1[:4]) - sum(c0[:4])
        rec["timing"] = timing
        return rec, (res if task["spikes"] else None)


# ---------------------------------------------------------------------------------------------
# the sweep process
# ---------------------------------------------------------------------------------------------
def _tasks(sweep: Sweep, runs: list[PlannedRun], env) -> list[dict]:
    """Tasks in dispatch order: grouped by structure (then duration), plan order within a group."""
    groups: dict = {}
    for r in runs:
        groups.setdefault((r.structure, str(r.config.get("duration", "1 s"))), []).append(r)
    readout = {"readouts": sweep.readouts, "window": sweep.window}
    tasks = []
    for (structure, _), members in sorted(groups.items(), key=lambda kv: min(r.index for r in kv[1])):
        drives = None
        if members[0].build.get("device") == "cpp_standalone":
            seen = {}
            for r in members:   # the selections only: one compile for all their targets
                for kind in ("drive", "activate"):
                    for t in r.config.get(kind, []):
                        sel = {k: v for k, v in t.items() if k not in ("rate", "start", "stop", "dead_time")}
                        seen.setdefault(_digest(sel), {**sel, "rate": "1.0 Hz"})
            drives = list(seen.values())
        for r in members:
            tasks.append({"run_id": r.run_id, "config": r.config, "build": r.build, "structure": r.structure,
                          "weight_scale": r.weight_scale, "connectome": sweep.connectome, "readout": readout,
                          "spikes": sweep.spikes, "group_drives": drives, "env": env,
                          "parent": os.getpid() if env is not None else None,
                          "where": f"sweep {sweep.name!r} run {r.index} ({r.run_id})"})
    return tasks


def _run_local(tasks, jobs):
    """Yield ``(record, results)`` as runs complete, on ``jobs`` loky processes (1: in this process)."""
    if jobs == 1:
        for t in tasks:
            yield _execute(t)
        return
    from joblib import Parallel, delayed
    from joblib.externals.loky.process_executor import TerminatedWorkerError

    remaining = list(tasks)
    for attempt in range(4):
        returned = set()
        try:
            par = Parallel(n_jobs=jobs, backend="loky", return_as="generator_unordered", batch_size=1,
                           pre_dispatch="2*n_jobs")
            for out in par(delayed(_execute)(t) for t in remaining):
                returned.add(out[0]["run_id"])
                yield out
            return
        except TerminatedWorkerError as exc:  # a worker died: start the missing runs again
            remaining = [t for t in remaining if t["run_id"] not in returned]
            print(f"larvasim sweep: a worker died ({exc.__class__.__name__}); "
                  f"restarting {len(remaining)} run(s)", file=sys.stderr)
    for t in remaining:
        yield None, t["run_id"]


def _run_dask(tasks, scheduler):
    """Yield ``(record, results)`` as runs complete on a Dask cluster; ``(None, run_id)`` if lost."""
    from dask.distributed import Client, as_completed

    own = isinstance(scheduler, str)
    client = Client(scheduler, set_as_default=False) if own else scheduler
    try:
        futures = {}
        for t in tasks:
            f = client.submit(_execute, t, key=f"larvasim-run-{t['run_id']}", pure=False)
            futures[f.key] = (f, t["run_id"])
        for f in as_completed([f for f, _ in futures.values()], loop=client.loop):
            try:
                out = f.result()
            except Exception as exc:  # e.g. KilledWorker after repeated worker deaths: not a run error
                print(f"larvasim sweep: run {futures[f.key][1]} lost: {type(exc).__name__}: {exc}",
                      file=sys.stderr)
                out = (None, futures[f.key][1])
            f.release()
            yield out
    finally:
        if own:
            client.close()


def _needs_run(r: PlannedRun, rec, store, spikes, retry_errors) -> bool:
    if rec is None:
        return True
    if rec.get("status") == "error":
        return retry_errors
    return spikes and not store.spikes_path(r.run_id).is_file()


def run_sweep(sweep: Sweep, out=None, *, jobs: int | None = None, scheduler=None, progress: bool = True,
              retry_errors: bool = False, summary: bool = True) -> pd.DataFrame:
    """Run the runs of ``sweep`` that folder ``out`` does not hold yet; return the table.

    Parameters
    ----------
    sweep : Sweep
    out : path, optional
        The sweep folder (default ``sweep.output`` or ``<name>.sweep``).
    jobs : int, optional
        Local worker processes (default: one per core; 1 runs in this process).
    scheduler : str or dask.distributed.Client, optional
        ``"tcp://HOST:PORT"`` of a Dask scheduler (or a client): run there instead.
    progress : bool
        Progress bar (runs done, rate, time left).
    retry_errors : bool
        Run again the runs recorded as failed.
    summary : bool
        Print a summary at the end (to stderr).

    Returns
    -------
    pandas.DataFrame
        One row per planned run (see :mod:`sim.workflows.sweep_store`); the summary
        is in ``table.attrs["summary"]``.

    (Over 80 lines: it drives one sweep through its store, scheduler and summary; the steps are
    marked.)
    """
    from tqdm.auto import tqdm

    out = Path(out or sweep.output or f"{sweep.name}.sweep")
    store = SweepStore(out)
    plan = sweep.plan
    spec = sweep.spec()
    with store.lock():
        store.write_spec(spec)
        done = store.completed()
        todo = [r for r in plan if _needs_run(r, done.get(r.run_id), store, sweep.spikes, retry_errors)]
        env = None if scheduler is not None else {"LARVASIM_CACHE": os.environ.get("LARVASIM_CACHE"),
                                                  "LARVASIM_DATA": os.environ.get("LARVASIM_DATA")}
        tasks = _tasks(sweep, todo, env)
        n_jobs = int(jobs) if jobs else (os.cpu_count() or 1)
        n_jobs = max(1, min(n_jobs, len(tasks) or 1))
        by_id = {r.run_id: r for r in todo}
        counts = Counter()
        sim_s, task_s = [], []
        t0 = time.perf_counter()
        bar = tqdm(total=len(plan), initial=len(plan) - len(todo), unit="run", desc=sweep.name,
                   disable=not progress, smoothing=0.05, dynamic_ncols=True)
        errors = []
        it = None
        try:
            if tasks:
                it = _run_dask(tasks, scheduler) if scheduler is not None else _run_local(tasks, n_jobs)
                for rec, res in it:
                    if rec is None:
                        counts["lost"] += 1
                        continue
                    r = by_id[rec["run_id"]]
                    record = {"run_id": r.run_id, "index": r.index, "values": r.table_values(spec["units"]),
                              "seed": r.seed, "structure": r.structure, "config": r.config, **rec,
                              "finished": time.strftime("%Y-%m-%dT%H:%M:%S")}
                    store.write_run(record, res if sweep.spikes else None)
                    counts[rec["status"]] += 1
                    if rec["status"] == "error":
                        errors.append((r.index, rec["error"]))
                    else:
                        sim_s.append(rec["timing"]["sim_s"])
                    task_s.append(rec["timing"]["task_s"])
                    bar.update()
                    if counts["error"]:
                        bar.set_postfix(errors=counts["error"], refresh=False)
        finally:
            if it is not None:
                it.close()  # stops the workers / closes the Dask client now, also on errors
            bar.close()
            table = store.assemble(spec)
            store.write_table(table)
        wall = time.perf_counter() - t0
    ran = counts["ok"] + counts["error"]
    info = {
        "folder": str(out), "n_runs": len(plan), "already_done": len(plan) - len(todo), "ran": ran,
        "ok": counts["ok"], "errors": counts["error"], "lost": counts["lost"],
        "failed_total": int((table["status"] == "error").sum()), "missing": int((table["status"] == "missing").sum()),
        "wall_s": wall, "runs_per_s": ran / wall if wall > 0 and ran else 0.0,
        "workers": "dask" if scheduler is not None else n_jobs,
        "mean_sim_s": float(np.mean(sim_s)) if sim_s else None,
        "mean_task_s": float(np.mean(task_s)) if task_s else None,
        "n_structures": spec["n_structures"], "builds": int(table["built"].fillna(False).astype(bool).sum()),
        "first_errors": errors[:5],
    }
    table.attrs["summary"] = info
    if summary:
        print(format_summary(info, sweep.name), file=sys.stderr)
    return table


def format_summary(info: dict, name: str = "sweep") -> str:
    lines = [f"sweep {name!r}: {info['n_runs']} runs in {info['folder']}: {info['already_done']} already done, "
             f"{info['ran']} run now ({info['ok']} ok, {info['errors']} failed"
             + (f", {info['lost']} lost to dead workers" if info["lost"] else "") + ")"]
    if info["ran"]:
        w = info["workers"]
        lines.append(f"  {info['ran']} runs in {info['wall_s']:.1f} s: {info['runs_per_s']:.2f} runs/s "
                     f"({w} worker{'s' if w != 1 else ''}); mean simulation {info['mean_sim_s'] or 0:.3f} s, "
                     f"mean task {info['mean_task_s']:.3f} s; {info['builds']} network build(s) for "
                     f"{info['n_structures']} structure(s)")
    for idx, err in info["first_errors"]:
        lines.append(f"  run {idx} failed: {err}")
    if info["missing"]:
        lines.append(f"  {info['missing']} run(s) missing: run the same command again to do them")
    if info["failed_total"]:
        lines.append(f"  {info['failed_total']} run(s) recorded as failed (status 'error' in the table; "
                     f"--retry-errors runs them again)")
    lines.append(f"  table: pandas.read_csv({str(Path(info['folder']) / 'table.csv')!r})")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# figure
# ---------------------------------------------------------------------------------------------
def _label(p, units):
    return f"{p} ({units[p]})" if p in units else p


def _order(values):
    vals = list(dict.fromkeys(values))
    try:
        return sorted(vals)
    except TypeError:
        return sorted(vals, key=str)


def plot_sweep(sweep, readout: str = "hz.DN-VNC", *, parameters: Sequence[str] | None = None, path=None,
               max_lines: int = 6, title: str | None = None):
    """The sweep's figure: ``readout`` versus each swept parameter, and a heatmap for two.

    Lines are means over seeds with a band of one standard deviation over
    seeds; one line per value of the other parameter when there are two
    (up to ``max_lines``), else averaged over the others. With exactly two
    parameters a heatmap of the mean over seeds is added.

    Parameters
    ----------
    sweep : path of a sweep folder, or a table from :func:`load_sweep` / :func:`run_sweep`
    readout : str
        A readout column (``hz.DN-VNC``, ``hz.KC``, ...).
    parameters : list of str, optional
        Default: the sweep's swept parameters (``table.attrs["parameters"]``).
    path : path, optional
        Write the figure there (PNG, PDF, SVG ...).

    Returns
    -------
    matplotlib.figure.Figure

    (Over 80 lines: one figure with its options (heat map or lines, facets, error bars) and their
    validation.)
    """
    import matplotlib
    if path is not None:
        matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    df = load_sweep(sweep) if isinstance(sweep, (str, os.PathLike)) else sweep
    params = list(parameters if parameters is not None else df.attrs.get("parameters", []))
    units = dict(df.attrs.get("units", {}))
    if readout not in df.columns:
        cols = [c for c in df.columns if str(c).startswith("hz.") and str(c).count(".") == 1]
        raise ValueError(f"no readout column {readout!r}; e.g. {', '.join(cols[:12])}")
    ok = df[df["status"] == "ok"].copy()
    if ok.empty:
        raise ValueError("no completed run to plot")
    for p in params:  # lists/tables as text
        ok[p] = ok[p].map(lambda v: json.dumps(v) if isinstance(v, (list, dict)) else v)
    n_panels = max(len(params), 1) + (1 if len(params) == 2 else 0)
    fig, axes = plt.subplots(1, n_panels, figsize=(4.2 * n_panels, 3.5), squeeze=False)
    axes = axes[0]
    ylabel = f"{readout} (Hz)" if readout.startswith("hz.") else readout
    if not params:
        ax = axes[0]
        ax.plot(ok["seed"], ok[readout], "o")
        ax.set_xlabel("seed")
        ax.set_ylabel(ylabel)
    for ax, p in zip(axes, params):
        others = [q for q in params if q != p]
        xs = _order(ok[p])
        numeric = all(isinstance(x, (int, float, np.number)) and not isinstance(x, bool) for x in xs)
        pos = {x: (x if numeric else k) for k, x in enumerate(xs)}
        if len(others) == 1:  # one line per value of the other parameter (evenly spaced subset)
            q = others[0]
            vals = _order(ok[q])
            if len(vals) > max_lines:
                vals = [vals[int(round(k))] for k in np.linspace(0, len(vals) - 1, max_lines)]
            lines = [(f"{q} = {v:g}{' ' + units[q] if q in units else ''}" if isinstance(v, float)
                      else f"{q} = {v}", ok[ok[q] == v]) for v in vals]
        else:
            lines = [("mean over " + ", ".join(others) if others else None, ok)]
        colors = plt.cm.viridis(np.linspace(0, 0.9, len(lines)))
        for (label, sub), color in zip(lines, colors):
            per_seed = sub.groupby([p, "seed"])[readout].mean().reset_index()
            g = per_seed.groupby(p)[readout]
            stats = pd.DataFrame({"mean": g.mean(), "sd": g.std(ddof=1)}).reindex([x for x in xs if x in g.groups])
            x = np.array([pos[v] for v in stats.index], dtype=float)
            m, s = stats["mean"].to_numpy(float), np.nan_to_num(stats["sd"].to_numpy(float))
            ax.plot(x, m, "o-", color=color, label=label, ms=3)
            ax.fill_between(x, m - s, m + s, color=color, alpha=0.2, lw=0)
        if not numeric:
            ax.set_xticks(range(len(xs)), [str(x) for x in xs], rotation=30, ha="right")
        ax.set_xlabel(_label(p, units))
        ax.set_ylabel(ylabel)
        if any(lbl for lbl, _ in lines):
            ax.legend(fontsize="small", frameon=False)
    if len(params) == 2:
        ax = axes[-1]
        a, b = params
        pivot = ok.groupby([b, a])[readout].mean().unstack(a)
        pivot = pivot.reindex(index=_order(pivot.index), columns=_order(pivot.columns))
        im = ax.imshow(pivot.to_numpy(float), origin="lower", aspect="auto", cmap="magma")
        ax.set_xticks(range(pivot.shape[1]), [f"{v:g}" if isinstance(v, float) else str(v) for v in pivot.columns],
                      rotation=30, ha="right")
        ax.set_yticks(range(pivot.shape[0]), [f"{v:g}" if isinstance(v, float) else str(v) for v in pivot.index])
        ax.set_xlabel(_label(a, units))
        ax.set_ylabel(_label(b, units))
        fig.colorbar(im, ax=ax, label=f"{ylabel}, mean over seeds")
    n_seeds = ok["seed"].nunique()
    fig.suptitle(title or f"{readout} ({len(ok)} runs, {n_seeds} seed{'s' if n_seeds != 1 else ''}; "
                          f"band: SD over seeds)", fontsize="medium")
    fig.tight_layout()
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=150)
    return fig
