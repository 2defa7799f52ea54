"""Score a model of your choice on the findings benchmark: ``larvasim validate --biology --table OUT.csv``.

``docs/biology.md`` scores two fixed models, the default larval one and the
adult one of Shiu et al. 2024. A researcher who changes the model (another
synaptic weight, sign table, synapse types or neuron model, another learning
rate) or who writes findings of their own asks the same questions of the
variant: which findings does it get right, how sure is that number, and is it
better than another model *on the same findings*? This module answers them
from the command line::

    larvasim validate --biology --table mine.csv --set w_syn=0.5mV
    larvasim validate --biology --table adult.csv --model current_lif --signs excitatory \\
        --compare mine.csv
    larvasim validate --biology --table olf.csv --ids 'olf-*' --no-pairing
    larvasim validate --biology --table lab.csv --findings our_findings.toml

It writes the per-finding table (CSV: prediction, effect, standard error,
hit or miss) and, beside it, ``OUT.json`` with what was run (the network's
description with every parameter's value and source, the seed, the benchmark
settings, the findings file and its SHA-256, the connectome's provenance,
software versions and the command line). Both files are written atomically.
It prints the accuracy of each half with its 95 % Wilson interval, the misses,
and with ``--compare`` the findings right only with one model or only with the
other and the exact McNemar p over the findings both tables scored.

The same finding gets the same prediction whichever findings are scored with
it: every condition draws its input from the seed alone, and findings with the
same US share one conditioning run of the same virtual larvae. So a table made
with ``--ids`` agrees, row for row, with the full benchmark of the same model
and seed (the tests check it against ``docs/biology.json``).

Findings files of your own use the schema of :mod:`experiments.biology`.
Their papers keep the half the shipped split gives them; papers the split does
not hold are scored as ``unsplit`` (they are neither calibration nor held-out
evidence for the default model: its calibration never saw them, but nobody
fixed in advance that they would be held out either).
"""
from __future__ import annotations

import argparse
import fnmatch
import hashlib
import json
import sys
from pathlib import Path

import pandas as pd

from . import biology

__all__ = ["UNSPLIT", "compare_reading", "main", "score_model", "select_findings", "summary", "write_table"]

#: The half of a finding whose paper the shipped split does not hold.
UNSPLIT = "unsplit"
#: Columns a table given to ``--compare`` must have.
_COMPARE_COLUMNS = ("id", "half", "status")


def select_findings(findings: list, patterns, where: str = "--ids") -> list:
    """The findings whose id matches one of ``patterns`` (shell wildcards: ``olf-*``), in table order.

    A pattern that matches no finding is an error naming it: a typo would otherwise score nothing.
    """
    if not patterns:
        return list(findings)
    ids = [f.id for f in findings]
    for pat in patterns:
        if not fnmatch.filter(ids, pat):
            raise biology.FindingsError(f"{where} {pat!r}: no finding's id matches it (ids look like "
                                        f"{', '.join(ids[:3])}; the findings table lists them all)")
    return [f for f in findings if any(fnmatch.fnmatchcase(f.id, pat) for pat in patterns)]


def _split_for(findings: list) -> dict:
    """The shipped split's half of each paper; ``UNSPLIT`` for papers it does not hold."""
    shipped = biology.load_split()
    return {f.paper: shipped.get(f.paper, UNSPLIT) for f in findings}


def score_model(network, findings=None, *, ids=None, seed: int = 0, pairing: bool = True,
                learning_options: dict | None = None):
    """Score ``network`` on ``findings`` (default: the shipped table), or on those matching ``ids``.

    Parameters
    ----------
    network : sim.Network
        Any model (neuron model, parameters, signs, synapse types, device).
    findings : path or list of Finding, optional
        A findings file (schema of :mod:`experiments.biology`) or loaded findings.
    ids : sequence of str, optional
        Id patterns (shell wildcards) of the findings to run; default all.
    seed : int
        Benchmark seed (input noise and virtual larvae).
    pairing : bool
        Run the pairing (conditioning) findings.
    learning_options : dict, optional
        Plasticity constants of the pairing findings (e.g. ``{"eta": 0.01}``).

    Returns
    -------
    experiments.biology.Score
        Its table has one row per selected finding; ``half`` is the shipped split's, or ``"unsplit"``.
    """
    if findings is None or isinstance(findings, (str, Path)):
        findings = biology.load_findings(findings)
    chosen = select_findings(findings, ids)
    split = _split_for(chosen)
    return biology.score(network, chosen, halves=biology.HALVES + (UNSPLIT,), seed=seed, split=split,
                         pairing=pairing, learning_options=learning_options)


def summary(table: pd.DataFrame) -> str:
    """Accuracy per half (hits of testable findings run, 95 % Wilson interval), the misses, what was not run."""
    from .biology_report import _pct, accuracy_interval

    t = pd.DataFrame(table)
    lines = []
    for half in [h for h in biology.HALVES + (UNSPLIT,) if h in set(t["half"])] + ["all"]:
        sub = t.assign(half="all") if half == "all" else t
        k, n, lo, hi = accuracy_interval(sub, half)
        if n:
            lines.append(f"{half}: {k} of {n} findings right ({_pct(k / n)}; 95 % interval {_pct(lo)} to "
                         f"{_pct(hi)}, Wilson)")
        elif half != "all":
            lines.append(f"{half}: no testable finding was run")
    counts = t["status"].value_counts()
    apart = [f"{int(counts[s])} {s}" for s in ("untestable", "skipped") if s in counts]
    if apart:
        lines.append("not scored: " + ", ".join(apart) + " (untestable: the table's reason column; skipped: "
                     "pairing findings under --no-pairing)")
    miss = t[t["status"] == "miss"]
    if len(miss):
        lines.append("misses: " + "; ".join(f"{r.id} (expected {r.expect}, predicted {r.predicted})"
                                            for r in miss.itertuples()))
    return "\n".join(lines)


def _read_compare(path) -> pd.DataFrame:
    path = Path(path)
    try:
        other = pd.read_csv(path, dtype=str, keep_default_na=False)
    except FileNotFoundError:
        raise ValueError(f"--compare {path}: no such file (a table written by larvasim validate --biology "
                         "--table)") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ValueError(f"--compare {path}: not a CSV table ({exc})") from None
    lacking = [c for c in _COMPARE_COLUMNS if c not in other.columns]
    if lacking:
        raise ValueError(f"--compare {path}: column {lacking[0]!r} missing (a table written by larvasim "
                         f"validate --biology --table has {', '.join(_COMPARE_COLUMNS)})")
    return other


def compare_reading(table: pd.DataFrame, other: pd.DataFrame, name: str = "this model",
                    other_name: str = "the other") -> str:
    """Finding-by-finding comparison of two tables on the findings both scored (per half and overall)."""
    from .biology_report import versus

    a, b = pd.DataFrame(table), pd.DataFrame(other)
    scored = {"hit", "miss"}
    both = set(a.loc[a["status"].isin(scored), "id"]) & set(b.loc[b["status"].isin(scored), "id"])
    if not both:
        return f"compared with {other_name}: no finding was scored in both tables"
    a, b = a[a["id"].isin(both)], b[b["id"].isin(both)]
    lines = [f"compared with {other_name} on the {len(both)} findings both scored:"]
    for half in [h for h in biology.HALVES + (UNSPLIT,) if h in set(a["half"])] + ["all"]:
        aa, bb = (a.assign(half="all"), b.assign(half="all")) if half == "all" else (a, b)
        n = int((aa["half"] == half).sum())
        if not n:
            continue
        ka, kb = (int(((x["half"] == half) & (x["status"] == "hit")).sum()) for x in (aa, bb))
        only_a, only_b, p = versus(aa, bb, half)
        lines.append(f"  {half}: {ka} vs {kb} of {n} right; {only_a} right only with {name}, {only_b} only with "
                     f"{other_name} (exact McNemar p = {p:.2g})")
    return "\n".join(lines)


def _sha256(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def write_table(score, path, *, findings_path, argv=None) -> tuple[Path, Path]:
    """Write ``score``'s table (CSV) and ``<path>.json`` (what was run), each atomically; return both paths."""
    from larvasim.util import atomic_write_text
    from sim.network import versions

    from .biology_report import _json

    path = Path(path)
    meta = {"what": "larvasim biology benchmark: per-finding predictions of one model",
            **score.metadata, "findings_file": str(findings_path), "findings_sha256": _sha256(findings_path),
            "split_file": str(biology.SPLIT), "split_sha256": _sha256(biology.SPLIT),
            "accuracy": score.accuracy("half").to_dict("records"), "versions": versions(),
            "command": None if argv is None else ["larvasim", "validate", "--biology", *argv]}
    atomic_write_text(path, score.table.to_csv(index=False))
    meta_path = path.with_suffix(".json")
    atomic_write_text(meta_path, json.dumps(meta, indent=1, default=_json) + "\n")
    return path, meta_path


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="larvasim validate --biology",
        description="Score a model of your choice on the published larval findings (or on a findings file of "
                    "your own) and write the per-finding table; the model options are those of larvasim run.")
    ap.add_argument("--table", metavar="OUT.csv",
                    help="the per-finding table to write (CSV; what was run goes to OUT.json beside it)")
    ap.add_argument("--explain", metavar="ID",
                    help="instead of a table: why the model predicts what it does for this finding: its readout's "
                         "synaptic input by presynaptic group in the finding's conditions, or, for a pairing "
                         "finding, what the conditioning did to each MBON type (experiments.biology.explain)")
    ap.add_argument("--by", default="celltype",
                    help="with --explain: the neuron-table column that groups the presynaptic neurons "
                         "(celltype, the default, or name)")
    ap.add_argument("--model", help="larval_lif (default), current_lif (the adult model, with --signs "
                                    "excitatory) or conductance_lif")
    ap.add_argument("--signs", help="literature (default), excitatory, random or a CSV path")
    ap.add_argument("--synapse-types", help="comma-separated subset of ad,aa,dd,da")
    ap.add_argument("--set", action="append", metavar="NAME=VALUE",
                    help="model parameter override, e.g. w_syn=0.3mV (repeatable)")
    ap.add_argument("--learning", action="append", metavar="NAME=VALUE",
                    help="plasticity constant of the pairing findings, e.g. eta=0.01 (repeatable)")
    ap.add_argument("--device", choices=["numba", "numpy", "cython", "cpp_standalone"], default="numba")
    ap.add_argument("--findings", metavar="FILE.toml", help="findings file (default: the shipped table)")
    ap.add_argument("--ids", action="append", metavar="PATTERN",
                    help="only findings whose id matches (shell wildcards, comma-separated or repeated)")
    ap.add_argument("--seed", type=int, default=0, help="benchmark seed (default 0, as docs/biology.md)")
    ap.add_argument("--no-pairing", action="store_true", help="skip the pairing (conditioning) findings")
    ap.add_argument("--shuffle", type=int, metavar="SEED",
                    help="score on a degree-preserving shuffle of the connectome with this seed "
                         "(connectomes.nullmodels.shuffle, the benchmark's null model: docs/biology_null.md)")
    ap.add_argument("--compare", metavar="OTHER.csv", help="a table of another model: compare finding by finding")
    ap.add_argument("--data-dir", help="folder holding the data (default: $LARVASIM_DATA, then the cache)")
    ap.add_argument("--no-verify", action="store_true", help="skip the published-checksum check")
    return ap


def _pairs(items, flag: str) -> dict:
    out = {}
    for item in items or []:
        if "=" not in item:
            raise ValueError(f"{flag} {item!r}: expected NAME=VALUE")
        k, v = (s.strip() for s in item.split("=", 1))
        out[k] = v
    return out


def main(argv=None) -> int:
    """``larvasim validate --biology --table OUT.csv [model options] [--ids ...] [--compare OTHER.csv]``."""
    argv = sys.argv[1:] if argv is None else list(argv)
    ap = _parser()
    args = ap.parse_args(argv)
    if (args.table is None) == (args.explain is None):
        raise ValueError("give one of --table OUT.csv (score the findings) and --explain ID (why one prediction), "
                         f"not {'both' if args.table else 'neither'}")
    if args.explain is not None:
        return _explain(args)
    table_path = Path(args.table)
    if table_path.suffix.lower() != ".csv":
        raise ValueError(f"--table {args.table}: must end in .csv (the metadata goes to the .json beside it)")
    from larvasim.util import check_writable_parent

    check_writable_parent(table_path, "--table")  # before the (minutes-long) scoring
    findings_path = Path(args.findings) if args.findings else biology.FINDINGS
    findings = biology.load_findings(findings_path)  # a bad table fails before the (slow) network build
    ids = [p.strip() for item in args.ids or [] for p in item.split(",") if p.strip()]
    chosen = select_findings(findings, ids)  # a typo in --ids fails before the network build
    other = _read_compare(args.compare) if args.compare else None
    learning = _learning(args)
    net = _network(args)
    sc = score_model(net, chosen, seed=args.seed, pairing=not args.no_pairing,
                     learning_options=learning or None)
    sc.metadata["learning_options"] = {k: v if isinstance(v, float) else str(v) for k, v in learning.items()}
    written, meta = write_table(sc, table_path, findings_path=findings_path, argv=argv)
    print(summary(sc.table))
    if other is not None:
        print(compare_reading(sc.table, other, "this model", str(args.compare)))
    print(f"table written to {written} (what was run: {meta})")
    return 0


def _explain(args) -> int:
    """``--explain ID``: print why the model predicts what it does for one finding."""
    findings = biology.load_findings(Path(args.findings) if args.findings else biology.FINDINGS)
    f = next((x for x in findings if x.id == args.explain), None)
    if f is None:
        raise ValueError(f"--explain {args.explain}: no finding with that id (ids look like "
                         f"{', '.join(x.id for x in findings[:3])}, ...)")
    if not f.testable:  # fails before the network is built
        biology.explain(None, f)
    learning = _learning(args)  # a bad --learning fails before the network is built
    net = _network(args)
    e = biology.explain(net, f, seed=args.seed, by=args.by, learning_options=learning or None)
    print(biology.explain_text(e, f))
    return 0


def _learning(args) -> dict:
    """The plasticity constants of ``--learning NAME=VALUE`` (numbers, or quantities such as tau_d=2s)."""
    learning = {}
    for k, v in _pairs(args.learning, "--learning").items():
        try:
            learning[k] = float(v)
        except ValueError:  # a constant with a unit: 'tau_d=2s'
            from sim.workflows.config import parse_quantity

            learning[k] = parse_quantity(v, f"--learning {k}={v}")
    return learning


def _network(args):
    """The network the model options describe (printed in one line)."""
    from .core import left_out_text

    import connectomes
    from sim.workflows.config import network_from_config

    cfg = {"_path": "command line", "device": args.device, "model_parameters": _pairs(args.set, "--set")}
    for key in ("model", "signs"):
        if getattr(args, key):
            cfg[key] = getattr(args, key)
    if args.synapse_types:
        cfg["synapse_types"] = [t.strip() for t in args.synapse_types.split(",") if t.strip()]
    if args.shuffle is not None and args.shuffle < 0:
        raise ValueError(f"--shuffle {args.shuffle}: a shuffle's seed must be 0 or more")
    c = connectomes.load("winding2023", data_dir=args.data_dir, verify=not args.no_verify)
    if args.shuffle is not None:
        from connectomes.nullmodels import shuffle

        c = shuffle(c, seed=args.shuffle)
    net = network_from_config(c, cfg)
    d = net.describe()
    brain = "" if args.shuffle is None else f"; connectome shuffled (degree-preserving, seed {args.shuffle})"
    changed = "".join(f", {k}={v}" for k, v in cfg["model_parameters"].items())
    left_out = left_out_text(d["model"]["parameters"])
    print(f"model: {d['model']['model']}{' (' + changed[2:] + ')' if changed else ''}, signs: "
          f"{d['signs'].get('policy')}, synapses: "
          f"{'+'.join(d['synapse_types'])}, device: {d['device']}{left_out}; seed {args.seed}{brain}")
    return net


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
