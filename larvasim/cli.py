"""The ``larvasim`` command line.

``larvasim info NAME``   summary of a connectome (counts, synapses, provenance)
``larvasim fetch NAME``  download (or ``--from PATH`` import) data into the cache
``larvasim run [RUN.toml]``  simulate: stimuli in, spikes and rates out
``larvasim run EXPERIMENT``  a registered experiment (``larvasim experiments`` lists them)
``larvasim plot KIND ...``  figures from results files or a connectome
``larvasim validate``  reproduce the published connectome analyses (``--biology``: the findings benchmark;
                       ``--biology --table OUT.csv``: a model of your choice scored on it)
``larvasim sweep SWEEP.toml``  parameter sweep: runs in parallel, one table, resumable
``larvasim export RESULTS.h5 --nwb OUT.nwb``  convert a results file to NWB (pynwb, DANDI, NWB Widgets)
``larvasim explore``  the browser explorer: stimuli, silencing, models, A/B runs, downloads (needs panel)
"""
from __future__ import annotations

import argparse
import importlib
import json
import sys


class _LazyModule:
    """A module imported on first use: ``larvasim run --bogus`` fails before pandas, scipy and Brian2 load."""

    def __init__(self, name: str):
        self._name = name

    def __getattr__(self, attr):
        return getattr(importlib.import_module(self._name), attr)


class _LazyChoices:
    """argparse ``choices`` computed on first use (the data set names need the connectomes package)."""

    def __init__(self, compute):
        self._compute, self._values = compute, None

    def _get(self):
        if self._values is None:
            self._values = list(self._compute())
        return self._values

    def __contains__(self, item):
        return item in self._get()

    def __iter__(self):
        return iter(self._get())

    def __len__(self):
        return len(self._get())


connectomes = _LazyModule("connectomes")
_DATASETS = _LazyChoices(lambda: connectomes.available())
_FETCHABLE = _LazyChoices(lambda: sorted(importlib.import_module("connectomes.download").FETCHABLE))

EPILOG = """examples:
  larvasim info winding2023 --fetch            download (checksum-verified) and summarise the connectome
  larvasim run --drive "modality=olfactory,rate=150Hz" --trials 3 -o olf.h5
                                               drive both sides' olfactory neurons; rates per cell type
  larvasim run run.toml --silence "name=APL,mode=all"
                                               a run file, with a flag added
  larvasim experiments                         list the experiments and conditioning protocols
  larvasim run sensory_map -o results/sensory_map
                                               a registered experiment (tables, figures)
  larvasim plot raster olf.h5 -o raster.png    a figure from a results file
  larvasim paths --from modality=olfactory --to MBON-m1
                                               the chains of strong connections between two groups
  larvasim sweep docs/examples/sweep_wsyn_rate.toml --jobs 4
                                               a parameter sweep, resumable
  larvasim behave chemotaxis --larvae 10       closed-loop behaviour on a virtual plate
  larvasim explore                             the whole brain in the browser (http://localhost:5006)

'larvasim COMMAND --help' describes each command; README.md and docs/ the rest.
"""


def _cmd_info(args) -> int:
    try:
        c = connectomes.load(args.name, data_dir=args.data_dir, verify=not args.no_verify)
    except connectomes.DataNotFoundError:
        if not args.fetch:
            raise
        print(f"{args.name}: not found; fetching it into {connectomes.cache_dir()}", file=sys.stderr)
        connectomes.fetch(args.name)
        c = connectomes.load(args.name, verify=not args.no_verify)
    s = c.summary()
    print(json.dumps(s.to_dict(), indent=2, default=str) if args.json else s)
    return 0


def _cmd_fetch(args) -> int:
    path = connectomes.fetch(args.name, source=getattr(args, "from"), url=args.url,
                             force=args.force, progress=not args.quiet)
    print(f"{args.name}: verified and stored at {path}")
    return 0


def _cmd_experiment(args) -> int:
    """``larvasim run NAME``: a registered experiment."""
    from experiments.core import run_experiment

    _refuse_flags(args, f"experiment {args.config!r}", RUN_ONLY_FLAGS)
    options = {k: getattr(args, k) for k in ("trials", "seed", "device", "signs") if getattr(args, k) is not None}
    options.update(_options(args))
    _check_experiment_options(args.config, options)
    out = args.out or f"results/{args.config}{'_null' if args.null else ''}"
    _check_output_folder(out)
    c = connectomes.load(args.name, data_dir=args.data_dir, verify=not args.no_verify)
    res = run_experiment(args.config, c, out_dir=out, null=args.null, **options)
    print(res.summary)
    print(f"\ntables, runs and figures written to {out}/")
    return 0


#: Flags of a plain run (stimuli, model, network) that an experiment or protocol sets itself.
RUN_ONLY_FLAGS = ("drive", "activate", "silence", "odour", "duration", "model", "set", "synapse_types",
                  "receptors", "inputs")
#: Flags that only experiments (and, for --option, protocols) take.
EXPERIMENT_ONLY_FLAGS = ("null", "option")


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _refuse_flags(args, what: str, flags) -> None:
    """Flags that do not apply are an error, not silently ignored."""
    given = [_flag(f) for f in flags if getattr(args, f, None) not in (None, False, [])]
    if given:
        raise ValueError(f"{' '.join(given)}: {'does' if len(given) == 1 else 'do'} not apply to {what} "
                         f"(larvasim run --help says which flags apply where)")


def _check_experiment_options(name: str, options: dict) -> None:
    """--option values whose default is a number must be numbers (``rate=fast`` is named, not a TypeError)."""
    import inspect
    import numbers

    from experiments.core import EXPERIMENTS

    params = inspect.signature(EXPERIMENTS[name][0]).parameters
    for k, v in options.items():
        default = params[k].default if k in params else inspect.Parameter.empty
        numeric = isinstance(default, numbers.Number) and not isinstance(default, bool) or hasattr(default, "dim")
        if numeric and isinstance(v, str):
            raise ValueError(f"--option {k}={v}: expected a number (the default is {default})")


def _check_protocol_options(options: dict) -> None:
    """--option of a protocol: an argument of run_protocol / make_network or an option or constant of the
    plasticity rule; anything else is named before any data is read."""
    import inspect

    from experiments.learning import make_network, run_protocol
    from models.plasticity import DopaminePlasticity

    own = set()
    for f in (run_protocol, make_network):
        own |= {k for k, p in inspect.signature(f).parameters.items()
                if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)}
    rule = {k: v for k, v in options.items() if k not in own}
    from models.plasticity import PLASTICITY_PARAMETERS
    from sim.workflows.config import parse_quantity

    for k, v in rule.items():  # a rule constant with a unit, given as text ('tau_d=2s'): read it as a quantity
        if isinstance(v, str) and k in PLASTICITY_PARAMETERS.names and PLASTICITY_PARAMETERS[k].unit != "1":
            options[k] = rule[k] = parse_quantity(v, f"--option {k}={v}")
    try:
        DopaminePlasticity(**rule)
    except (KeyError, TypeError, ValueError) as exc:
        msg = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        raise ValueError(f"--option {', '.join(f'{k}={v}' for k, v in rule.items())}: {msg}") from None


def _protocol_odours(options: dict):
    """Pop ``cs_plus``, ``cs_minus`` (measured odours, both or neither) and ``odour_scale`` from a protocol's
    --option values; ``(names, scale)`` or None. Names are checked against the odour table before any data."""
    keys = ("cs_plus", "cs_minus", "odour_scale")
    given = {k: options.pop(k) for k in keys if k in options}
    if not given:
        return None
    if "cs_plus" not in given or "cs_minus" not in given:
        raise ValueError("--option cs_plus=... and cs_minus=...: give both measured odours (e.g. "
                         "--option \"cs_plus=pentyl acetate\" --option cs_minus=benzaldehyde)")
    names = (str(given["cs_plus"]), str(given["cs_minus"]))
    for key, name in zip(("cs_plus", "cs_minus"), names):
        _odour_spec(name, f"--option {key}={name}")
    if names[0].strip().lower() == names[1].strip().lower():
        raise ValueError(f"--option cs_plus and cs_minus: the same odour {names[0]!r} twice")
    scale = given.get("odour_scale", 1.0)
    if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not 0 <= scale < float("inf"):
        raise ValueError(f"--option odour_scale={scale}: must be a finite number >= 0")
    return names, float(scale)


def _options(args) -> dict:
    """``--option NAME=VALUE`` flags as a dict (values read as Python literals where possible)."""
    options = {}
    for item in args.option or []:
        if "=" not in item:
            raise ValueError(f"--option {item!r}: expected NAME=VALUE")
        k, v = item.split("=", 1)
        options[k.strip()] = _literal(v.strip())
    return options


def _literal(text: str):
    """A number, a comma-separated list, or the text itself (for --option values)."""
    import ast

    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def _cmd_experiments(args) -> int:
    from experiments.core import available_experiments
    from experiments.learning import PROTOCOLS

    for name, desc in available_experiments().items():
        print(f"  {name:<22} {desc}")
    print("conditioning protocols (virtual larvae; --trials = number of larvae):")
    for name, p in PROTOCOLS.items():
        print(f"  {name:<22} {p['description']}")
    return 0


def _cmd_plot(args) -> int:
    from sim.analysis import plots
    from sim.results import Results

    _check_output_file(args.out)
    if args.kind == "connectivity":
        c = connectomes.load(args.name, data_dir=args.data_dir, verify=not args.no_verify)
        fig = plots.connectivity(c, normalise=args.normalise)
    else:
        if not args.results:
            raise ValueError(f"plot {args.kind}: give a results file (larvasim run ... -o FILE.h5)")
        res = Results.load(args.results)
        if args.kind == "raster":
            fig = plots.raster(res, trial=args.trial)
        elif args.kind == "rates":
            fig = plots.population_rates(res)
        else:
            fig = plots.readout_heatmap({f"trial {k}": _trial(res, k) for k in range(res.n_trials)},
                                        title="descending output per trial")
    path = plots.save(fig, args.out)
    print(f"figure written to {path}")
    return 0


def _trial(res, k):
    """One trial of a Results as a Results."""
    import numpy as np

    from sim.results import Results

    m = res.spike_trials == k
    return Results(np.zeros(int(m.sum()), np.int32), res.spike_nodes[m], res.spike_times[m], neurons=res.neurons,
                   n_trials=1, duration=res.duration, dt=res.dt, metadata={}, population=res.population,
                   recorded=res.recorded)


#: Suffixes of results files: what ``larvasim run -o`` and ``run PROTOCOL -o`` can write.
RESULT_SUFFIXES = {"run": (".h5", ".hdf5", ".nwb"), "protocol": (".h5", ".hdf5")}


def _check_output_file(out, flag: str = "-o", suffixes=None) -> bool:
    """Before any simulation: ``out`` must be a writable file path (not a folder), with one of ``suffixes``
    when given (a results file named ``x.csv`` would hold HDF5). Returns whether it exists (and will be
    replaced)."""
    from pathlib import Path

    p = Path(out)
    if p.is_dir():
        raise ValueError(f"{flag} {out}: is a folder; give a file name, e.g. {p / 'results.h5'}")
    if suffixes and p.suffix.lower() not in suffixes:
        raise ValueError(f"{flag} {out}: results are written as {', '.join(suffixes)} files; give a name ending "
                         f"in one of these (e.g. {p.with_suffix(suffixes[0]).name})")
    _check_writable_parent(p, flag)
    return p.exists()


def _check_output_folder(out, flag: str = "-o") -> None:
    """Before any simulation: ``out`` must be a folder (existing or not) that can be created and written."""
    from pathlib import Path

    p = Path(out)
    if p.exists() and not p.is_dir():
        raise ValueError(f"{flag} {out}: is a file, not a folder; give a folder name")
    _check_writable_parent(p / "x", flag)


def _check_writable_parent(p, flag: str) -> None:
    """The nearest existing folder above ``p`` must be writable (:func:`larvasim.util.check_writable_parent`)."""
    from larvasim.util import check_writable_parent

    check_writable_parent(p, flag)


def _cmd_protocol(args) -> int:
    """``larvasim run PROTOCOL``: a conditioning protocol on virtual larvae (experiments.learning)."""
    from experiments.learning import run_protocol

    _refuse_flags(args, f"conditioning protocol {args.config!r}", RUN_ONLY_FLAGS + ("null",))
    options = _options(args)
    measured = _protocol_odours(options)  # cs_plus / cs_minus / odour_scale: measured odours, checked now
    _check_protocol_options(options)
    out = args.out or f"results/{args.config}.h5"
    replaced = _check_output_file(out, suffixes=RESULT_SUFFIXES["protocol"])
    c = connectomes.load(args.name, data_dir=args.data_dir, verify=not args.no_verify)
    if measured:
        from experiments.odours import known_odour

        names, scale = measured
        options["odours"] = tuple(known_odour(c, n, scale=scale) for n in names)
    run = run_protocol(args.config, c, n_larvae=args.trials or 20, seed=args.seed or 0,
                       device=args.device or "numba", out=out, progress=not args.quiet, **options)
    print(run.summary())
    print(f"\nresults written to {out}" + (" (replacing the file that was there)" if replaced else ""))
    return 0


def _cmd_run(args) -> int:
    if args.config and not args.config.endswith(".toml"):
        from experiments.core import EXPERIMENTS, _load_all
        from experiments.learning import PROTOCOLS

        _load_all()
        if args.config in EXPERIMENTS:
            return _cmd_experiment(args)
        if args.config in PROTOCOLS:
            return _cmd_protocol(args)
        import difflib

        close = difflib.get_close_matches(args.config, list(EXPERIMENTS) + list(PROTOCOLS), n=3)
        raise ValueError(f"{args.config!r} is neither a run file (.toml) nor an experiment"
                         + (f"; did you mean {', '.join(close)}?" if close else "")
                         + " (larvasim experiments lists them)")
    _refuse_flags(args, "a plain run (they are for experiments: larvasim experiments lists them)",
                  EXPERIMENT_ONLY_FLAGS)
    for kind in ("drive", "activate", "silence"):  # the form of a spec needs no data: fail fast
        for spec in getattr(args, kind) or []:
            bad = [part for part in (p.strip() for p in spec.split(",")) if part and "=" not in part]
            if bad or not spec.strip():
                raise ValueError(f"--{kind} {spec!r}: {bad[0] if bad else 'empty'!r} is not KEY=VALUE "
                                 "(e.g. modality=olfactory,rate=80Hz)")
    from sim.workflows.config import load_run_file, run_config, split_spec

    odours = [_odour_spec(spec) for spec in args.odour or []]  # also needs no data
    if sum(bool(keys.get("spontaneous")) for _, keys in odours) > 1:
        raise ValueError("spontaneous=yes on more than one --odour: the ORNs' spontaneous firing would be counted "
                         "more than once (give it on one odour)")
    _check_run_flags(args)
    cfg = load_run_file(args.config) if args.config else {}
    for key in ("duration", "trials", "seed", "model", "signs", "device"):
        value = getattr(args, key)
        if value is not None:
            cfg[key] = value
    if args.synapse_types:
        cfg["synapse_types"] = [t.strip() for t in args.synapse_types.split(",") if t.strip()]
    if args.receptors:
        cfg["sign_options"] = {**(cfg.get("sign_options") or {}), "receptors": args.receptors}
    for item in args.set or []:
        if "=" not in item:
            raise ValueError(f"--set {item!r}: expected NAME=VALUE, e.g. w_syn=0.3mV")
        k, v = item.split("=", 1)
        cfg.setdefault("model_parameters", {})[k.strip()] = v.strip()
    for kind in ("drive", "activate", "silence"):
        for spec in getattr(args, kind) or []:
            cfg.setdefault(kind, []).append({**split_spec(spec, f"--{kind} {spec!r}"), "_where": f"--{kind} {spec!r}"})
    out = args.out or cfg.get("output")
    replaced = _check_output_file(out, suffixes=RESULT_SUFFIXES["run"]) if out else False
    nwb = bool(out) and str(out).lower().endswith(".nwb")
    if nwb:
        from sim.nwb import NWBUnavailableError, require_pynwb

        try:
            require_pynwb()  # before simulating
        except NWBUnavailableError as exc:
            print(f"larvasim: error: {exc}", file=sys.stderr)
            return 2
    c = connectomes.load(args.name, data_dir=args.data_dir, verify=not args.no_verify)
    for spec, (name, keys) in zip(args.odour or [], odours):
        cfg.setdefault("drive", []).extend(_odour_drives(c, spec, name, keys))
    targets = [c.select(name=name) for name in args.inputs or []]  # a name that selects nothing fails first
    res, network = run_config(c, cfg, progress=not args.quiet, with_network=True)
    from experiments.core import left_out_text

    net = res.metadata["network"]
    rules = len(net["signs"].get("receptor_rules") or [])
    print(f"model: {net['model']['model']}, signs: {net['signs'].get('policy')}"
          f"{f' + {rules} receptor rule' + ('s' if rules > 1 else '') if rules else ''}, synapses: "
          f"{'+'.join(net['synapse_types'])}, device: {net['device']}"
          f"{left_out_text(net['model']['parameters'])}")
    print(res.summary_table())
    if targets:
        from sim.analysis.inputs import input_breakdown

        for name, sel in zip(args.inputs, targets):
            t = input_breakdown(network, res, sel)
            print(f"\nsynaptic input of {name} ({t.attrs['targets']} neuron(s)): drive = tau_syn x sum(w x rate), "
                  f"mV, mean over them, by presynaptic cell type (sim.analysis.inputs); net "
                  f"{t.attrs['total_mv']:+.2f} mV")
            print(t.head(10).to_string(index=False, float_format=lambda x: f"{x:.3g}"))
    if out:
        if nwb:
            res.to_nwb(out)
        else:
            res.save(out)
        print(f"\nresults written to {out}" + (" (replacing the file that was there)" if replaced else ""))
    return 0


_ODOUR_KEYS = ("scale", "start", "stop", "spontaneous")
_YES, _NO = ("yes", "true", "1", "on"), ("no", "false", "0", "off")


def _odour_spec(spec: str, flag: str | None = None) -> tuple[str, dict]:
    """``--odour 'NAME[,scale=X,start=T,stop=T,spontaneous=yes]'`` -> (name, keys), checked without data
    (``flag``: how errors name the option, default ``--odour 'SPEC'``).

    Parts that are not ``KEY=VALUE`` form the name (odour names may hold commas: ``2,3-butanedione``).
    """
    from experiments.odours import ODOUR_ALIASES, known_odours

    flag = flag or f"--odour {spec!r}"
    keys, name = {}, []
    for part in spec.split(","):
        k, sep, v = part.partition("=")
        if not sep:
            name.append(part)
        elif k.strip() in _ODOUR_KEYS:
            keys[k.strip()] = v.strip()
        else:
            raise ValueError(f"{flag}: unknown key {k.strip()!r} (keys: {', '.join(_ODOUR_KEYS)})")
    name = ",".join(name).strip()
    if not name:
        raise ValueError(f"{flag}: no odour name (e.g. --odour 'ethyl acetate,scale=0.5')")
    odours = known_odours()
    known = {n.lower() for n in odours} | set(ODOUR_ALIASES)
    if name.lower() not in known:
        import difflib

        close = difflib.get_close_matches(name.lower(), sorted(known), n=3)
        raise ValueError(f"{flag}: unknown odour {name!r}" + (f"; did you mean {', '.join(close)}?" if close
                                                                      else "")
                         + f" ({len(odours)} odours: experiments.odours.known_odours())")
    if "scale" in keys:
        try:
            scale = float(keys["scale"])
        except ValueError:
            scale = float("nan")
        if not 0 <= scale < float("inf"):
            raise ValueError(f"{flag}: scale must be a finite number >= 0, got {keys['scale']!r}")
    if "spontaneous" in keys:
        v = keys["spontaneous"].lower()
        if v not in _YES + _NO:
            raise ValueError(f"{flag}: spontaneous must be yes or no, got {keys['spontaneous']!r}")
        keys["spontaneous"] = v in _YES
    return name, keys


def _odour_drives(c, spec: str, name: str, keys: dict) -> list[dict]:
    """Run-file drive tables of one measured odour: one per receptor it excites (its ORNs on both sides); with
    ``spontaneous``, every receptor at its spontaneous rate plus its response, and at the spontaneous rate alone
    before ``start`` and after ``stop``."""
    from experiments.odours import known_odour, receptors, spontaneous_activity

    spont = bool(keys.get("spontaneous", False))
    od = known_odour(c, name, scale=float(keys.get("scale", 1.0)), spontaneous=spont)
    table = receptors(c)
    where = f"--odour {spec!r}"

    def drive(label, r, rate, **timing):
        return {"select": {"ids": [int(x) for x in c.ids[table[r]]]}, "name": f"{label}:{r}", "rate": f"{rate:g} Hz",
                **timing, "_where": where}

    out = [drive(od.name, r, od.rates_hz[r], **{k: keys[k] for k in ("start", "stop") if k in keys})
           for r in od.receptors]
    if spont:
        bg = spontaneous_activity(c)
        for r in bg.receptors:
            if "start" in keys:
                out.append(drive(bg.name, r, bg.rates_hz[r], start="0 ms", stop=keys["start"]))
            if "stop" in keys:
                out.append(drive(bg.name, r, bg.rates_hz[r], start=keys["stop"]))
    return out


def _cmd_export(args) -> int:
    """``larvasim export RESULTS.h5 --nwb OUT.nwb``."""
    from pathlib import Path

    from sim.nwb import NWBUnavailableError, export_results_file

    replaced = Path(args.nwb).is_file()
    try:
        path = export_results_file(args.results, args.nwb)
    except NWBUnavailableError as exc:
        print(f"larvasim: error: {exc}", file=sys.stderr)
        return 2
    print(f"NWB file written to {path}" + (" (replacing the file that was there)" if replaced else ""))
    return 0


def _cmd_explore(args) -> int:
    """``larvasim explore``: the browser explorer (larvasim.explore), served until Ctrl-C."""
    from larvasim.explore import ExploreUnavailableError, require_panel

    try:
        require_panel()  # before the data are read
    except ExploreUnavailableError as exc:
        print(f"larvasim: error: {exc}", file=sys.stderr)
        return 2
    if not 1 <= args.port <= 65535:
        raise ValueError(f"--port {args.port}: must be a port number, 1..65535")
    if args.threads is not None and args.threads < 1:
        raise ValueError(f"--threads {args.threads}: must be a whole number >= 1")
    from larvasim.explore import serve

    c = connectomes.load(args.name, data_dir=args.data_dir, verify=not args.no_verify)
    serve(c, port=args.port, address=args.address, show=not args.no_browser, warm_up=not args.no_warmup,
          threads=args.threads)
    return 0


def _check_run_flags(args) -> None:
    """--duration, --trials, --seed, --model, --set and --synapse-types of a plain run, checked on their own
    before any data is read, with errors in command-line terms."""
    from brian2 import second

    from sim.workflows.config import model_from_config, parse_quantity

    if args.duration is not None:
        d = parse_quantity(args.duration, f"--duration {args.duration!r}")
        if d.dim != second.dim or not float(d / second) > 0:
            raise ValueError(f"--duration {args.duration!r}: must be a time > 0, e.g. '1 s' or '300 ms'")
    if args.trials is not None and args.trials < 1:
        raise ValueError(f"--trials {args.trials}: must be a whole number >= 1")
    if args.seed is not None and args.seed < 0:
        raise ValueError(f"--seed {args.seed}: must be a whole number >= 0")
    if args.synapse_types is not None and not [t for t in args.synapse_types.split(",") if t.strip()]:
        raise ValueError(f"--synapse-types {args.synapse_types!r}: name at least one of ad, aa, dd, da")
    sets = {}
    for item in args.set or []:
        if "=" not in item:
            raise ValueError(f"--set {item!r}: expected NAME=VALUE, e.g. w_syn=0.3mV")
        k, v = item.split("=", 1)
        sets[k.strip()] = v.strip()
    if args.model is not None or sets:
        where = " ".join(([f"--model {args.model}"] if args.model else []) + [f"--set {s}" for s in args.set or []])
        cfg = {"model_parameters": sets, "_path": where, **({"model": args.model} if args.model else {})}
        try:
            model_from_config(cfg)
        except ValueError as exc:
            if args.config and args.model is None:  # the run file's model may take these parameters
                return
            import re

            msg = str(exc).replace(f"{where}: model_parameters.", f"{where}: ")
            msg = re.sub(r"(\d)\*([A-Za-z])", r"", msg.replace("multiply by a Brian2 unit", "give a unit"))
            raise ValueError(msg) from None


def _check_scheduler(address: str) -> None:
    """An unreachable Dask scheduler is an error at once, not after half a minute of retries."""
    import socket
    from urllib.parse import urlsplit

    u = urlsplit(address if "://" in address else f"tcp://{address}")
    try:
        host, port = u.hostname, u.port
    except ValueError:
        host, port = None, None
    if not host or not port:
        raise ValueError(f"--scheduler {address}: expected tcp://HOST:PORT, e.g. tcp://127.0.0.1:8786")
    try:
        socket.create_connection((host, port), timeout=5).close()
    except OSError as exc:
        raise ValueError(f"--scheduler {address}: cannot connect ({exc.strerror or exc}); is the Dask "
                         f"scheduler running? (dask scheduler --port {port})") from None


def _cmd_sweep(args) -> int:
    from sim.workflows.sweep import format_summary, load_sweep_file, plot_sweep, run_sweep
    from sim.workflows.sweep_store import SweepLockedError

    sw = load_sweep_file(args.file)
    if args.data_dir:
        sw.connectome["data_dir"] = args.data_dir
    if args.no_verify:
        sw.connectome["verify"] = False
    if args.spikes:
        sw.spikes = True
    out = args.out or sw.output or f"{sw.name}.sweep"
    if args.dry_run:
        plan = sw.table_plan()
        print(f"{sw!r}\nfolder: {out}\n{plan.to_string(index=False)}")
        return 0
    scheduler = args.scheduler or sw.options.get("scheduler")
    jobs = args.jobs if args.jobs is not None else sw.options.get("jobs")
    if jobs is not None and (isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1):
        print(f"larvasim: error: --jobs / [sweep] jobs must be a whole number >= 1, got {jobs!r}", file=sys.stderr)
        return 2
    _check_output_folder(out)
    if isinstance(scheduler, str):
        _check_scheduler(scheduler)
    try:
        table = run_sweep(sw, out, jobs=jobs, scheduler=scheduler,
                          progress=not args.quiet, retry_errors=args.retry_errors, summary=False)
    except SweepLockedError as exc:
        print(f"larvasim: error: {exc}", file=sys.stderr)
        return 2
    info = table.attrs["summary"]
    print(format_summary(info, sw.name))
    figure = args.plot or sw.options.get("figure")
    if figure and (table["status"] == "ok").any():
        readout = args.readout or sw.options.get("figure_readout", "hz.DN-VNC")
        plot_sweep(table, readout=readout, path=figure)
        print(f"  figure: {figure}")
    return 0 if info["missing"] == 0 and info["failed_total"] == 0 else 1


def build_parser(behave: bool = True) -> argparse.ArgumentParser:
    """The argument parser of every subcommand (over 80 lines: declared in one place, one block each).

    ``behave=False`` leaves out the arguments of ``larvasim behave`` (they need its module, which needs
    Brian2), for the other commands to start fast."""
    from larvasim.util import larvasim_version

    p = argparse.ArgumentParser(prog="larvasim", description="larvasim: a whole-brain spiking simulator of the "
                                "Drosophila larva (Winding et al. 2023 connectome).", epilog=EPILOG,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version=f"larvasim {larvasim_version()}")
    sub = p.add_subparsers(dest="command", required=True)

    pi = sub.add_parser("info", help="summary of a connectome: neurons, synapses, provenance")
    pi.add_argument("name", nargs="?", default="winding2023", choices=_DATASETS)
    pi.add_argument("--data-dir", help="folder holding the data (default: $LARVASIM_DATA, then the cache)")
    pi.add_argument("--fetch", action="store_true",
                    help="download the data into the cache if it is found nowhere")
    pi.add_argument("--no-verify", action="store_true", help="skip the published-checksum check")
    pi.add_argument("--json", action="store_true", help="print the summary as JSON")
    pi.set_defaults(func=_cmd_info)

    pf = sub.add_parser("fetch", help="download or import a data set into the cache, checksum-verified")
    pf.add_argument("name", choices=_FETCHABLE)
    pf.add_argument("--from", metavar="PATH", help="import this local copy instead of downloading")
    pf.add_argument("--url", help="download from this address instead of the public mirror")
    pf.add_argument("--force", action="store_true", help="replace a copy already in the cache")
    pf.add_argument("--quiet", action="store_true", help="no progress bar")
    pf.set_defaults(func=_cmd_fetch)

    pr = sub.add_parser(
        "run", help="simulate trials with stimuli; print rates per cell type; save results",
        description="Simulate the connectome as a Brian2 LIF network. Stimuli are "
        "KEY=VALUE,... specs: selection keys (celltype, modality, hemisphere, name, ...; "
        "'|' for alternatives) plus rate, start, stop (drive/activate) or mode (silence). "
        "Example: --drive 'modality=olfactory,hemisphere=left,rate=80Hz,start=200ms,stop=700ms'")
    pr.add_argument("config", nargs="?", metavar="RUN.toml | EXPERIMENT",
                    help="TOML run file (see sim/config.py; flags override it) or an experiment name "
                    "(larvasim experiments)")
    pr.add_argument("--name", default="winding2023", choices=_DATASETS)
    pr.add_argument("--data-dir", help="folder holding the data (default: $LARVASIM_DATA, then the cache)")
    pr.add_argument("--no-verify", action="store_true", help="skip the published-checksum check")
    pr.add_argument("--drive", action="append", metavar="SPEC", help="sensory drive (repeatable)")
    pr.add_argument("--activate", action="append", metavar="SPEC", help="optogenetic-style activation")
    pr.add_argument("--silence", action="append", metavar="SPEC", help="silencing, mode=outgoing|all")
    pr.add_argument("--odour", action="append", metavar="NAME[,scale=X,start=T,stop=T,spontaneous=yes]",
                    help="a measured odour (larval receptor responses of Kreher et al. 2008): every receptor's "
                    "ORNs at their response x scale, e.g. 'ethyl acetate,scale=0.5,start=200ms,stop=700ms'; "
                    "spontaneous=yes: every ORN at its measured spontaneous rate, the odour's response added "
                    "between start and stop "
                    "(repeatable; names: python -c 'from experiments.odours import known_odours; "
                    "print(known_odours())')")
    pr.add_argument("--duration", help="trial length, e.g. '1 s' (default 1 s)")
    pr.add_argument("--trials", type=int, help="number of trials (default 1)")
    pr.add_argument("--seed", type=int, help="seed (default 0): same seed, same spikes")
    pr.add_argument("--model", help="larval_lif (default: the larval model), current_lif (the adult model of "
                    "Shiu et al. 2024, with --signs excitatory) or conductance_lif")
    pr.add_argument("--signs", help="literature (default), excitatory, random or a CSV path")
    pr.add_argument("--receptors", help="receptor rules on top of the signs (synapse-level exceptions, "
                    "models.receptors): literature (the sourced models/data/receptors.csv) or a CSV path; "
                    "default: none")
    pr.add_argument("--device", choices=["numpy", "cython", "cpp_standalone", "numba"],
                    help="numba (default: larvasim's engine, fastest, no compiler), numpy (Brian2, no compiler), cython or cpp_standalone (Brian2, compiled once); the same spikes on every device")
    pr.add_argument("--synapse-types", help="comma-separated subset of ad,aa,dd,da")
    pr.add_argument("--set", action="append", metavar="NAME=VALUE", help="model parameter override, e.g. w_syn=0.3mV")
    pr.add_argument("-o", "--out", help="write results to this HDF5 file, or NWB if it ends in .nwb "
                    "(experiments: this folder)")
    pr.add_argument("--null", action="store_true",
                    help="experiments: run on a degree-preserving shuffle of the connectome")
    pr.add_argument("--option", action="append", metavar="NAME=VALUE",
                    help="experiments: an option of the experiment, e.g. rate=150 or modality=gut")
    pr.add_argument("--inputs", action="append", metavar="NAME",
                    help="after the run, print the synaptic input of the neurons NAME selects (shell wildcards, "
                         "e.g. MBON-m1) by presynaptic cell type: which inputs drove them (repeatable; "
                         "sim.analysis.inputs)")
    pr.add_argument("--quiet", action="store_true", help="no progress bar")
    pr.set_defaults(func=_cmd_run)

    px = sub.add_parser("export", help="convert a results file (larvasim run -o FILE.h5) to another format",
                        description="Convert a larvasim results file to NWB: spikes as units with the "
                        "neuron table, trials, stimuli as intervals, recorded states, the full metadata "
                        "(needs pynwb: pip install -e '.[nwb]').")
    px.add_argument("results", help="results file (HDF5) written by larvasim run -o")
    px.add_argument("--nwb", metavar="OUT.nwb", required=True, help="write this NWB file (replaced if it exists)")
    px.set_defaults(func=_cmd_export)

    pw = sub.add_parser(
        "explore", help="the browser explorer: pick stimuli, silencing, model; run the whole brain; compare A/B",
        description="Serve a local web page (Panel; nothing is fetched from the internet) in which you set up "
        "conditions -- a sensory stimulus, neurons to activate or silence by cell type or name, the model, signs "
        "and seed -- run the whole brain on the numba engine, and see the spike raster, population rates, the "
        "descending-output heatmap and the cascade prediction; two conditions side by side; results (HDF5, NWB) "
        "and figures (PNG) to download. Needs panel: pip install -e '.[explore]'.")
    pw.add_argument("--port", type=int, default=5006, help="port to serve on (default 5006)")
    pw.add_argument("--address", default="localhost", help="address to listen on (default localhost)")
    pw.add_argument("--no-browser", action="store_true", help="do not open a browser window")
    pw.add_argument("--no-warmup", action="store_true",
                    help="skip the warm-up run at start (the first run in the page then takes longer)")
    pw.add_argument("--threads", type=int, help="trials simulated at once (default: one per core)")
    pw.add_argument("--name", default="winding2023", choices=_DATASETS)
    pw.add_argument("--data-dir", help="folder holding the data (default: $LARVASIM_DATA, then the cache)")
    pw.add_argument("--no-verify", action="store_true", help="skip the published-checksum check")
    pw.set_defaults(func=_cmd_explore)

    pe = sub.add_parser("experiments", help="list the experiments that `larvasim run NAME` runs")
    pe.set_defaults(func=_cmd_experiments)

    pp = sub.add_parser("plot", help="draw a figure: raster, rates, readout (from a results file) or "
                                     "connectivity (of a connectome)")
    pp.add_argument("kind", choices=["raster", "rates", "readout", "connectivity"])
    pp.add_argument("results", nargs="?", help="results file (HDF5) written by larvasim run -o")
    pp.add_argument("-o", "--out", required=True, help="figure file (.png or .svg)")
    pp.add_argument("--trial", type=int, default=0, help="raster: which trial")
    pp.add_argument("--normalise", choices=["none", "post"], default="none",
                    help="connectivity: 'post' shows each group's share of its input")
    pp.add_argument("--name", default="winding2023", choices=_DATASETS)
    pp.add_argument("--data-dir")
    pp.add_argument("--no-verify", action="store_true")
    pp.set_defaults(func=_cmd_plot)

    pa = sub.add_parser(
        "paths", help="the chains of strong connections from one group of neurons to another (graph, no run)",
        description="List every chain of strong connections (each link at least --threshold of its target's "
        "input synapses) from the --from neurons to the --to neurons within --hops links, strongest first "
        "(strength: product of the links' input fractions), summed by the cell types along them, with each "
        "chain's sign under the default model's literature signs (sim.analysis.pathways). Selections are "
        "KEY=VALUE,... as in larvasim run (celltype, modality, hemisphere, name, ...; '|' for alternatives), "
        "or a plain neuron name. Example: larvasim paths --from modality=olfactory --to MBON-m1")
    pa.add_argument("--from", dest="source", required=True, metavar="SPEC", help="where the paths start")
    pa.add_argument("--to", dest="target", required=True, metavar="SPEC", help="where the paths end")
    pa.add_argument("--through", metavar="SPEC", help="keep only the paths through one of these neurons, e.g. "
                    "celltype=MBON")
    pa.add_argument("--avoid", metavar="SPEC", help="paths may not pass these neurons, e.g. celltype=LN")
    pa.add_argument("--hops", type=int, default=3, help="most links in a path (1 to 6; default 3)")
    pa.add_argument("--threshold", default="1%",
                    help="least input fraction of every link, e.g. 1%% (default) or 0.02")
    pa.add_argument("--min-strength", default="0",
                    help="least strength of a listed path (e.g. 1e-4), for long paths from large groups")
    pa.add_argument("--synapse-types", default="ad", help="comma-separated subset of ad,aa,dd,da (default ad)")
    pa.add_argument("--signs", default="literature",
                    help="sign policy for the paths' signs: literature (default), excitatory or a CSV path")
    pa.add_argument("--by", default="celltypes",
                    help="what the summary adds up by: celltypes (default), neurons, or a column of the "
                         "neuron table")
    pa.add_argument("--top", type=int, default=10, help="rows of each table (default 10)")
    pa.add_argument("--csv", metavar="OUT.csv", help="write every path to this CSV file")
    pa.add_argument("--name", default="winding2023", choices=_DATASETS)
    pa.add_argument("--data-dir")
    pa.add_argument("--no-verify", action="store_true")
    pa.set_defaults(func=_cmd_paths)

    pv = sub.add_parser("validate", help="reproduce the published connectome analyses (signal cascades) "
                                         "and write docs/validation.md; with --biology, score the model on "
                                         "published larval findings and write docs/biology.md (--biology --table "
                                         "OUT.csv: score a model of your choice, larvasim validate --biology "
                                         "--table x.csv --help)", add_help=False)
    pv.add_argument("rest", nargs=argparse.REMAINDER)
    pv.set_defaults(func=lambda args: 0)  # handled in main()

    ps = sub.add_parser(
        "sweep", help="parameter sweep: a run file plus [sweep] (grid, points or random); resumable",
        description="Run a parameter sweep (docs/sweeps.md) on all local cores (joblib) or on a Dask "
        "cluster; every completed run is kept in the sweep folder, so running the same command again "
        "does only the missing runs. Exit status 1 if runs failed or are missing.")
    ps.add_argument("file", help="TOML sweep file: a run file with a [sweep] table")
    ps.add_argument("-o", "--out", help="sweep folder (default: [sweep] output, else NAME.sweep)")
    ps.add_argument("--jobs", "-j", type=int, help="local worker processes (default: one per core)")
    ps.add_argument("--scheduler", metavar="tcp://HOST:PORT", help="run on this Dask scheduler instead")
    ps.add_argument("--data-dir", help="folder holding the data (default: $LARVASIM_DATA, then the cache)")
    ps.add_argument("--no-verify", action="store_true", help="skip the published-checksum check")
    ps.add_argument("--spikes", action="store_true", help="also keep every run's spikes (spikes/RUN_ID.h5)")
    ps.add_argument("--retry-errors", action="store_true", help="run again the runs recorded as failed")
    ps.add_argument("--plot", metavar="PATH", help="write the sweep's figure (readout versus parameters)")
    ps.add_argument("--readout", help="table column to plot (default hz.DN-VNC)")
    ps.add_argument("--dry-run", action="store_true", help="list the planned runs and exit")
    ps.add_argument("--quiet", action="store_true", help="no progress bar")
    ps.set_defaults(func=_cmd_sweep)

    pb = sub.add_parser(
        "behave", help="closed-loop behaviour: virtual larvae on a plate (chemotaxis, learning, light, free)",
        description="Run a behaviour assay in closed loop: arena -> senses -> whole-brain network -> motor "
        "decoder -> body (docs/behaviour.md). Resumable: completed batches of larvae are kept in the output "
        "folder. A TOML file (--config) sets the same options and can sweep decoder parameters.")
    if behave:
        from experiments.behaviour import add_arguments as _behave_arguments

        _behave_arguments(pb)
    pb.set_defaults(func=_cmd_behave)
    return p


def _fraction(text: str, what: str) -> float:
    """``"1%"`` -> 0.01, ``"0.02"`` -> 0.02; an error names the flag."""
    t = str(text).strip()
    try:
        return float(t[:-1]) / 100 if t.endswith("%") else float(t)
    except ValueError:
        raise ValueError(f"{what} {text!r}: expected a number or a percentage, e.g. 0.01 or 1%") from None


def _paths_selection(c, spec: str, flag: str):
    from connectomes.errors import SelectionError
    from sim.workflows.config import split_spec

    keys = split_spec(spec, f"{flag} {spec!r}") if "=" in spec else {"name": spec.strip()}
    if not any(keys.values()):
        raise ValueError(f"{flag} {spec!r}: no selection given (e.g. modality=olfactory or MBON-m1)")
    try:
        return c.select(**keys)
    except SelectionError as exc:
        raise SelectionError(f"{flag} {spec!r}: {exc}") from None
    except TypeError as exc:
        raise ValueError(f"{flag} {spec!r}: {exc}") from None


def _cmd_paths(args) -> int:
    """``larvasim paths --from SPEC --to SPEC``: :func:`sim.analysis.pathways.pathways` and its summary."""
    from sim.analysis.pathways import pathway_summary, pathways

    threshold = _fraction(args.threshold, "--threshold")
    min_strength = _fraction(args.min_strength, "--min-strength")
    if not 1 <= args.hops <= 6:
        raise ValueError(f"--hops {args.hops}: must be a whole number from 1 to 6")
    if args.top < 1:
        raise ValueError(f"--top {args.top}: must be at least 1")
    types = [t.strip() for t in args.synapse_types.split(",") if t.strip()]
    replaced = _check_output_file(args.csv, "--csv", suffixes=(".csv",)) if args.csv else False
    c = connectomes.load(args.name, data_dir=args.data_dir, verify=not args.no_verify)
    src = _paths_selection(c, args.source, "--from")
    tgt = _paths_selection(c, args.target, "--to")
    from models.signs import assign_signs

    signs = assign_signs(c, args.signs).signs
    via = _paths_selection(c, args.through, "--through") if args.through else None
    avoid = _paths_selection(c, args.avoid, "--avoid") if args.avoid else None
    p = pathways(c, src, tgt, hops=args.hops, threshold=threshold, min_strength=min_strength,
                 synapse_types=types, signs=signs, through=via, avoid=avoid)
    extra = "".join(f", {flag} {spec} ({len(sel)} neurons)" for flag, spec, sel in
                    (("through", args.through, via), ("avoiding", args.avoid, avoid)) if sel is not None)
    print(f"paths from {args.source} ({len(src)} neurons) to {args.target} ({len(tgt)} neurons){extra}: {len(p)} within "
          f"{args.hops} hops, every link at least {threshold:.3g} of its target's input ({'+'.join(types)} synapses)"
          f"{f', strength at least {min_strength:.3g}' if min_strength else ''}; signs: {args.signs}")
    if p.empty:
        print("no path: lower --threshold or raise --hops")
    else:
        s = pathway_summary(p, by=args.by, connectome=c)
        fmt = {"strength": "{:.2e}".format, "share": "{:.1%}".format, "excitatory": "{:.2e}".format,
               "inhibitory": "{:.2e}".format}
        print(f"\nby {args.by} (strength: summed over the chain's paths; excitatory / inhibitory: of the paths of "
              "that sign):")
        print(s.head(args.top).drop(columns=["strongest"]).to_string(index=False, formatters=fmt))
        print("\nstrongest paths (strength = product of the input fractions; sign: + excites, - inhibits, "
              "0 through a modulatory neuron):")
        top = p.head(args.top).assign(sign=p["sign"].map(lambda x: {1.0: "+", -1.0: "-"}.get(x, "0")))
        print(top[["hops", "strength", "sign", "neurons"]].to_string(index=False,
                                                                    formatters={"strength": "{:.2e}".format}))
    if args.csv:
        from larvasim.util import atomic_write_text

        skids = c.neurons["skid"].astype(str).to_numpy()
        out = p.assign(synapses=p["synapses"].map(lambda t: " ".join(map(str, t))),
                       path=p["path"].map(lambda t: " ".join(skids[list(t)])))
        atomic_write_text(args.csv, out.rename(columns={"path": "skids"}).to_csv(index=False))
        print(f"\n{'replaced' if replaced else 'wrote'} {args.csv} ({len(p)} paths; skids: skeleton ids along each)")
    return 0


def _cmd_behave(args) -> int:
    from experiments.behaviour import run_from_args

    if args.out:
        _check_output_folder(args.out, "--out")

    return run_from_args(args)


def main(argv=None) -> int:
    """Entry point of the ``larvasim`` console script."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["validate"]:  # its own option parsers (experiments.validation, experiments.biology_report)
        if "--biology" in argv[1:]:
            from experiments import biology_report, biology_score

            rest = [a for a in argv[1:] if a != "--biology"]
            table = any(a in ("--table", "--explain") or a.startswith(("--table=", "--explain=")) for a in rest)
            try:  # --table: a model of the user's choice, one table; otherwise the report of docs/biology.md
                return biology_score.main(rest) if table else biology_report.main(rest)
            except (connectomes.ConnectomeError, ValueError) as exc:
                print(f"larvasim: error: {exc}", file=sys.stderr)
                return 2
            except OSError as exc:  # an output that cannot be written after all (disk full, permissions)
                where = " -> ".join(str(f) for f in (exc.filename, exc.filename2) if f)
                print(f"larvasim: error: {where + ': ' if where else ''}{exc.strerror or exc}", file=sys.stderr)
                return 2
        from experiments import validation

        return validation.main(argv[1:])
    args = build_parser(behave=argv[:1] == ["behave"]).parse_args(argv)
    try:
        rc = args.func(args)
        sys.stdout.flush()  # a closed pipe shows here, not after exit
        return rc
    except KeyboardInterrupt as exc:
        why = f" ({exc})" if str(exc) else ""
        print(f"larvasim: interrupted{why}; no partial result was written (resumable commands keep what they "
              "completed)", file=sys.stderr)
        return 130
    except (connectomes.ConnectomeError, KeyError, FileNotFoundError, ValueError) as exc:
        msg = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"larvasim: error: {msg}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the output was piped into a command that stopped reading (e.g. head): not an error
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error when Python flushes
        return 141  # as a shell reports a command ended by SIGPIPE
    except OSError as exc:  # a folder or file that cannot be created, read or written (permissions, disk)
        where = " -> ".join(str(f) for f in (exc.filename, exc.filename2) if f)
        print(f"larvasim: error: {where + ': ' if where else ''}{exc.strerror or exc}", file=sys.stderr)
        return 2
    finally:
        _no_brian2_banner()


def _no_brian2_banner() -> None:
    """Brian2 replaces ``sys.excepthook`` with one that asks users to report every uncaught error to Brian2
    (and leaves debug files in /tmp); larvasim's errors are larvasim's, so the plain hook is put back."""
    hook = sys.excepthook
    if getattr(hook, "__module__", "").startswith("brian2"):
        sys.excepthook = sys.__excepthook__


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
