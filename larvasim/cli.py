"""The ``larvasim`` command line.

``larvasim info NAME``   summary of a connectome (counts, synapses, provenance)
``larvasim fetch NAME``  download (or ``--from PATH`` import) data into the cache
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
    return p


def main(argv=None) -> int:
    """Entry point of the ``larvasim`` console script."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ConnectomeError, KeyError, FileNotFoundError) as exc:
        msg = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"larvasim: error: {msg}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
