"""Run descriptions from text: quantities, selections and stimuli for the CLI and TOML files.

A run file (TOML)::

    duration = "1 s"
    trials = 5
    seed = 1                       # the input noise (and, unless sign_seed is given, a random sign policy)
    model = "larval_lif"           # default; or "current_lif" (adult, Shiu et al. 2024), "conductance_lif"
    signs = "literature"           # default; excitatory | random | path/to/signs.csv
    device = "numba"               # default; numpy | cython | cpp_standalone
    synapse_types = ["ad", "aa", "dd", "da"]   # default: the model's own (the larval model's calibrated set)

    [model_parameters]             # optional overrides, by name
    w_syn = "0.3 mV"

    [[drive]]                      # also [[activate]]
    select = { modality = "olfactory", hemisphere = "left" }
    rate = "80 Hz"
    start = "200 ms"
    stop = "700 ms"

    [[silence]]
    select = { name = "APL" }
    mode = "all"                   # or "outgoing"

    [plasticity]                   # optional: dopaminergic KC -> MBON plasticity
    mbins = ["DAN-i1"]             # (models.plasticity.DopaminePlasticity; any of its
    eta = 0.01                     # options and constants: compartments, windows,
    windows = [["200 ms", "700 ms"]]   # tau_e, rho, w_max, record, record_dt, ...)

On the command line a stimulus is ``KEY=VALUE[,KEY=VALUE...]`` where the keys
``rate``, ``start``, ``stop``, ``dead_time`` (drive/activate) and ``mode``
(silence) configure the stimulus and every other key is a selection criterion
(``celltype``, ``modality``, ``hemisphere``, ``name``, ...; ``|`` separates
alternatives), e.g.
``--drive "modality=olfactory,hemisphere=left,rate=80Hz,start=200ms,stop=700ms"``
or ``--silence "name=APL,mode=all"``. A run-file table may use the same flat
keys instead of ``select = {...}``; with ``select``, a ``name`` key beside it
labels the stimulus.
"""
from __future__ import annotations

import math
import re
try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib
from pathlib import Path

import brian2
from brian2 import Hz, Quantity

from ..stimuli import Activation, PoissonDrive, Silence

__all__ = ["parse_quantity", "parse_stimulus", "load_run_file", "stimuli_from_config", "network_from_config",
           "model_from_config", "plasticity_from_config", "RUN_KEYS"]

_UNITS = {u: getattr(brian2, u) for u in ("Hz", "kHz", "ms", "second", "us", "mV", "volt", "nS", "pA", "nA", "pF")}
_UNITS.update({"s": brian2.second, "sec": brian2.second, "hz": Hz})

#: Keys of a run file besides stimuli.
RUN_KEYS = ("duration", "trials", "seed", "model", "signs", "device", "synapse_types", "weight_mode",
            "model_parameters", "sign_options", "drive", "activate", "silence", "output", "plasticity",
            "sign_seed")

_STIM_KEYS = {"rate", "start", "stop", "mode", "dead_time"}
_TABLE_KINDS = ("drive", "activate", "silence")


#: A number and a unit name, as run files write quantities ("80 Hz", "0.3mV", "1e-3 s").
QUANTITY_TEXT = re.compile(r"\s*([-+]?\d*\.?\d+(?:[eE][-+]?\d+)?)\s*([A-Za-z]+)\s*")


def split_quantity(text) -> tuple[float, str] | None:
    """``"80 Hz"`` -> ``(80.0, "Hz")`` for a unit larvasim knows; ``None`` for other text."""
    m = QUANTITY_TEXT.fullmatch(str(text))
    if not m or m.group(2) not in _UNITS:
        return None
    return float(m.group(1)), m.group(2)


def parse_quantity(text, what: str = "value") -> Quantity:
    """``"80 Hz"``, ``"80Hz"``, ``"200 ms"``, ``"1 s"`` -> Brian2 quantity (error names ``what``)."""
    if isinstance(text, Quantity):
        return text
    parts = split_quantity(text)
    if parts is None:
        raise ValueError(f"{what}: cannot read {text!r} as a quantity with a unit "
                         f"(e.g. '80 Hz', '200 ms'; units: {', '.join(sorted(_UNITS))})")
    if not math.isfinite(parts[0]):
        raise ValueError(f"{what}: {text!r} is not a finite number")
    return parts[0] * _UNITS[parts[1]]


def split_spec(spec: str, where: str | None = None) -> dict:
    """``"modality=olfactory,rate=80Hz"`` -> ``{"modality": "olfactory", "rate": "80Hz"}`` (``a|b``: a list);
    errors name ``where`` (e.g. ``--drive 'modality=...'``)."""
    out = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        if "=" not in part:
            raise ValueError(f"{where or f'stimulus {spec!r}'}: {part!r} is not KEY=VALUE")
        k, v = (x.strip() for x in part.split("=", 1))
        out[k] = v.split("|") if "|" in v else v
    return out


def _stimulus(connectome, kind: str, d: dict, where: str):
    from connectomes.errors import SelectionError

    d = dict(d)
    where = d.pop("_where", where)
    if "select" in d:  # table form: select = {...}; a "name" beside it labels the stimulus
        select = d.pop("select")
        if not isinstance(select, dict):
            raise ValueError(f"{where}: select must be a table of criteria, e.g. select = {{ name = \"APL\" }}")
        label = d.pop("name", None)
    else:  # flat form: every key that does not configure the stimulus selects (name included)
        select = {k: d.pop(k) for k in list(d) if k not in _STIM_KEYS}
        label = None
    if not select:
        raise ValueError(f"{where}: no selection given (e.g. modality=olfactory)")
    allowed = {"mode"} if kind == "silence" else _STIM_KEYS - {"mode"}
    unknown = set(d) - allowed
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {sorted(unknown)} for a {kind} "
                         f"(allowed: {', '.join(sorted(allowed))})")
    try:
        sel = connectome.select(**select)
    except SelectionError as exc:
        raise SelectionError(f"{where}: {exc}") from None
    if kind != "silence" and "rate" not in d:
        raise ValueError(f"{where}: a {kind} needs a rate (e.g. rate=80Hz)")
    try:
        if kind == "silence":
            return Silence(sel, mode=d.get("mode", "outgoing"))
        kw = {"rate": parse_quantity(d["rate"], f"{where}: rate")}
        for key in ("start", "stop", "dead_time"):
            if key in d:
                kw[key] = parse_quantity(d[key], f"{where}: {key}")
        cls = Activation if kind == "activate" else PoissonDrive
        return cls(sel, name=label or sel.description, **kw)
    except (TypeError, ValueError) as exc:
        msg = str(exc)
        raise ValueError(msg if msg.startswith(where) else f"{where}: {msg}") from None


def parse_stimulus(connectome, kind: str, spec: str):
    """One stimulus from its command-line text (see the module docstring)."""
    return _stimulus(connectome, kind, split_spec(spec, f"--{kind} {spec!r}"), f"--{kind} {spec!r}")


def read_toml(path) -> dict:
    """Parse a TOML file; unreadable or malformed files raise ``ValueError`` naming the file."""
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not UTF-8 text (byte {exc.start}); a TOML file must be UTF-8") from None
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"{path}: {exc}") from exc


def load_run_file(path) -> dict:
    """Read a TOML run file; unknown keys are an error naming the file and key."""
    path = Path(path)
    cfg = read_toml(path)
    unknown = set(cfg) - set(RUN_KEYS)
    if unknown:
        raise ValueError(f"{path}: unknown key(s) {sorted(unknown)}; known: {', '.join(RUN_KEYS)}")
    for key in _TABLE_KINDS:
        if key in cfg and not (isinstance(cfg[key], list) and all(isinstance(t, dict) for t in cfg[key])):
            raise ValueError(f"{path}: {key!r} must be an array of tables, written [[{key}]]")
    for key in ("model_parameters", "sign_options"):
        if key in cfg and not isinstance(cfg[key], dict):
            raise ValueError(f"{path}: {key!r} must be a table, written [{key}]")
    cfg["_path"] = str(path)
    return cfg


def stimuli_from_config(connectome, cfg: dict) -> list:
    """Stimuli of a run file's ``[[drive]]``, ``[[activate]]`` and ``[[silence]]`` tables."""
    out = []
    where = cfg.get("_path", "run file")
    for kind in ("drive", "activate", "silence"):
        for k, d in enumerate(cfg.get(kind, [])):
            out.append(_stimulus(connectome, kind, d, f"{where}: [[{kind}]] #{k + 1}"))
    return out


#: Options of a run file's ``[plasticity]`` table that are not constants of the rule.
_PLASTICITY_OPTIONS = ("compartments", "mbins", "windows", "trace", "record", "record_dt", "enabled", "side_fraction",
                       "dopamine_trace")


def plasticity_from_config(cfg: dict):
    """The plasticity rule of a run file's ``[plasticity]`` table, or ``None`` without one.

    Keys: the options of :class:`models.plasticity.DopaminePlasticity`
    (``compartments``, ``mbins``, ``windows`` as ``[["start", "stop"], ...]``,
    ``trace``, ``record``, ``record_dt``, ``enabled``, ``side_fraction``,
    ``dopamine_trace``) and its constants (``eta``, ``rho``, ``tau_e``,
    ``w_max``; the timing-dependent variant's ``eta_b`` and ``tau_d``),
    quantities as strings (``"5 s"``). An unknown key is an error naming it.
    """
    from models.plasticity import PLASTICITY_PARAMETERS, DopaminePlasticity

    table = cfg.get("plasticity")
    if not table:
        return None
    where = f"{cfg.get('_path', 'run file')}: [plasticity]"
    if not isinstance(table, dict):
        raise ValueError(f"{where} must be a table of options, got {table!r}")
    known = set(_PLASTICITY_OPTIONS) | set(PLASTICITY_PARAMETERS)
    unknown = sorted(set(table) - known)
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {', '.join(unknown)} (known: {', '.join(sorted(known))})")
    kw = {}
    for key, value in table.items():
        if key == "windows":
            if not isinstance(value, (list, tuple)) or not all(isinstance(w, (list, tuple)) and len(w) == 2
                                                                for w in value):
                raise ValueError(f"{where}.windows must be [[start, stop], ...] times, got {value!r}")
            kw[key] = [(parse_quantity(a, f"{where}.windows"), parse_quantity(b, f"{where}.windows"))
                       for a, b in value]
        elif key == "record" and value in ("none", ""):
            kw[key] = None
        elif isinstance(value, str) and key in ("record_dt", "tau_e", "tau_d"):
            kw[key] = parse_quantity(value, f"{where}.{key}")
        else:
            kw[key] = value
    try:
        return DopaminePlasticity(**kw)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{where}: {exc}") from None


def model_from_config(cfg: dict):
    """The neuron model of a run file: ``model`` with its ``[model_parameters]`` (or ``--set``) overrides."""
    from models import DEFAULT_MODEL, get_model

    where = cfg.get("_path", "run file")
    overrides = {}
    for name, value in (cfg.get("model_parameters") or {}).items():
        if isinstance(value, str):
            try:  # a plain number (dimensionless parameter, e.g. --set poisson_weight_factor=200)
                value = float(value)
            except ValueError:
                value = parse_quantity(value, f"{where}: model_parameters.{name}")
        overrides[name] = value
    try:
        return get_model(cfg.get("model", DEFAULT_MODEL), **overrides)
    except ValueError as exc:  # unknown model or parameter, wrong unit: name the run file
        raise ValueError(f"{where}: {exc}") from None


def network_from_config(connectome, cfg: dict):
    """Build the :class:`~sim.network.Network` a run file describes."""
    from models import DEFAULT_SIGNS

    from ..network import Network

    model = model_from_config(cfg)
    return Network(connectome, model=model, signs=cfg.get("signs", DEFAULT_SIGNS),
                   synapse_types=tuple(cfg["synapse_types"]) if cfg.get("synapse_types") else None,
                   weight_mode=cfg.get("weight_mode", "count"), device=cfg.get("device"),
                   sign_seed=_whole(cfg, "sign_seed" if "sign_seed" in cfg else "seed", 0, cfg.get("_path", "run file")),
                   plasticity=plasticity_from_config(cfg),
                   **(cfg.get("sign_options") or {}))


def run_config(connectome, cfg: dict, progress: bool | None = None, *, with_network: bool = False):
    """Build the network of a run file, run its stimuli; returns :class:`~sim.results.Results` (with
    ``with_network``: ``(results, network)``, e.g. for :mod:`sim.analysis.inputs`)."""
    where = cfg.get("_path", "run file")
    stimuli = stimuli_from_config(connectome, cfg)  # read everything before the (slow) build
    duration = parse_quantity(cfg.get("duration", "1 s"), f"{where}: duration")
    net = network_from_config(connectome, cfg)
    res = net.run(stimuli, duration=duration, trials=_whole(cfg, "trials", 1, where, minimum=1),
                  seed=_whole(cfg, "seed", 0, where), progress=progress)
    return (res, net) if with_network else res


def _whole(cfg: dict, key: str, default: int, where: str, minimum: int = 0) -> int:
    """``cfg[key]`` as a whole number >= ``minimum``; a fraction, text or bool is an error naming the key."""
    v = cfg.get(key, default)
    if isinstance(v, bool) or not isinstance(v, (int, float)) or v != int(v) or v < minimum:
        raise ValueError(f"{where}: {key} must be a whole number >= {minimum}, got {v!r}")
    return int(v)


#: Old name of :func:`split_spec`.
_split_spec = split_spec
