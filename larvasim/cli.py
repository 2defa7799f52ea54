"""The ``larvasim`` command line.

``larvasim info NAME``   summary of a connectome (counts, synapses, provenance)
``larvasim fetch NAME``  download (or ``--from PATH`` import) data into the cache
``larvasim run [RUN.toml]``  simulate: stimuli in, spikes and rates out
"""
from __future__ import annotations

import argparse
import json
import sys

import connectomes
from connectomes.errors import ConnectomeError
from connectomes.download import FETCHABLE


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


def _cmd_run(args) -> int:
    from sim.config import _split_spec, load_run_file, run_config

    cfg = load_run_file(args.config) if args.config else {}
    for key in ("duration", "trials", "seed", "model", "signs", "device"):
        value = getattr(args, key)
        if value is not None:
            cfg[key] = value
    if args.synapse_types:
        cfg["synapse_types"] = [t.strip() for t in args.synapse_types.split(",") if t.strip()]
    for item in args.set or []:
        if "=" not in item:
            raise ValueError(f"--set {item!r}: expected NAME=VALUE, e.g. w_syn=0.3mV")
        k, v = item.split("=", 1)
        cfg.setdefault("model_parameters", {})[k.strip()] = v.strip()
    for kind in ("drive", "activate", "silence"):
        for spec in getattr(args, kind) or []:
            cfg.setdefault(kind, []).append(_split_spec(spec))
    c = connectomes.load(args.name, data_dir=args.data_dir)
    res = run_config(c, cfg, progress=not args.quiet)
    print(res.summary_table())
    out = args.out or cfg.get("output")
    if out:
        res.save(out)
        print(f"\nresults written to {out}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="larvasim", description=__doc__.splitlines()[0])
    p.add_argument("--version", action="version", version=f"larvasim {connectomes.connectome.larvasim_version()}")
    sub = p.add_subparsers(dest="command", required=True)

    pi = sub.add_parser("info", help="summary of a connectome: neurons, synapses, provenance")
    pi.add_argument("name", nargs="?", default="winding2023", choices=connectomes.available())
    pi.add_argument("--data-dir", help="folder holding the data (default: $LARVASIM_DATA, then the cache)")
    pi.add_argument("--fetch", action="store_true",
                    help="download the data into the cache if it is found nowhere")
    pi.add_argument("--no-verify", action="store_true", help="skip the published-checksum check")
    pi.add_argument("--json", action="store_true", help="print the summary as JSON")
    pi.set_defaults(func=_cmd_info)

    pf = sub.add_parser("fetch", help="download or import a data set into the cache, checksum-verified")
    pf.add_argument("name", choices=sorted(FETCHABLE))
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
    pr.add_argument("config", nargs="?", help="TOML run file (see sim/config.py); flags override it")
    pr.add_argument("--name", default="winding2023", choices=connectomes.available())
    pr.add_argument("--data-dir", help="folder holding the data (default: $LARVASIM_DATA, then the cache)")
    pr.add_argument("--drive", action="append", metavar="SPEC", help="sensory drive (repeatable)")
    pr.add_argument("--activate", action="append", metavar="SPEC", help="optogenetic-style activation")
    pr.add_argument("--silence", action="append", metavar="SPEC", help="silencing, mode=outgoing|all")
    pr.add_argument("--duration", help="trial length, e.g. '1 s' (default 1 s)")
    pr.add_argument("--trials", type=int, help="number of trials (default 1)")
    pr.add_argument("--seed", type=int, help="seed (default 0): same seed, same spikes")
    pr.add_argument("--model", help="current_lif (default) or conductance_lif")
    pr.add_argument("--signs", help="excitatory (default), literature, random or a CSV path")
    pr.add_argument("--device", choices=["numpy", "cython"], help="Brian2 code generation (default numpy)")
    pr.add_argument("--synapse-types", help="comma-separated subset of ad,aa,dd,da")
    pr.add_argument("--set", action="append", metavar="NAME=VALUE", help="model parameter override, e.g. w_syn=0.3mV")
    pr.add_argument("-o", "--out", help="write results to this HDF5 file")
    pr.add_argument("--quiet", action="store_true", help="no progress bar")
    pr.set_defaults(func=_cmd_run)
    return p


def main(argv=None) -> int:
    """Entry point of the ``larvasim`` console script."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ConnectomeError, KeyError, FileNotFoundError, ValueError) as exc:
        msg = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"larvasim: error: {msg}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
