"""Regenerate every document whose numbers come from the default larval model, in dependency order.

When the default model changes (a new calibration record, a sign table, a plasticity rule), every figure of
the documents below changes with it, and the README quotes many of them (``tests/test_readme.py`` checks each
quote against its document). Each document has its own script; this module runs them all, in an order that
respects what each reads of the others, on as many lanes as the machine has cores to spare, and keeps a log
per step. A stopped run resumes: the steps that finished for the same default model and the same findings are
not run again.

================  ========================================================  ============================
step              writes                                                    after
================  ========================================================  ============================
biology           docs/biology.md (``larvasim validate --biology``)         -
learning_rate     docs/biology_learning_rate.md                             biology
sign_lesions      docs/sign_lesions.md                                      biology
null              docs/biology_null.md                                      biology
stage1_spread     docs/stage1_spread.md                                     -
biology_render    docs/biology.md again, quoting the four above             learning_rate, sign_lesions,
                                                                            null, stage1_spread
learning          docs/learning.md                                          -
odours            docs/odours.md                                            -
sensory           docs/sensory.md                                           -
compare           docs/spiking_vs_cascade.md                                -
behaviour         docs/behaviour.md                                         -
================  ========================================================  ============================

Not here: docs/kc_sparseness.md and docs/timing_rule.md, which are pinned to the depression-only record and do
not change with the default model; docs/validation.md (connectome analyses, no spiking model); the teaching
notebooks (written without outputs from their sources, ``docs/notebooks/build.py``; CI executes them).

Run: ``python -m experiments.regenerate [--jobs 2] [--only biology,null] [--force] [--dry-run]`` from a source
checkout (the documents live in its ``docs/``). Logs and the run's state go to ``regenerate-runs/<model>/``
(``--runs``). Afterwards run ``python -m pytest tests/test_readme.py``: it names every README passage that no
longer matches its regenerated document.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["STEPS", "Step", "fingerprint", "order", "plan", "run"]

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Step:
    """One generator: its command (``{python}``: this interpreter, ``{work}``: the run's folder), the documents
    it writes, the steps it must follow, and its rough duration on one core (for the plan only)."""

    name: str
    argv: tuple
    writes: tuple
    after: tuple = ()
    minutes: float = 1.0


#: The default model's documents (module docstring), the longest first where they may start (a step starts as soon
#: as a lane is free and the steps it follows are done, in this order). Durations: session 33 (2026-12-05), 2 cores.
STEPS = (
    Step("biology", ("{python}", "-m", "larvasim.cli", "validate", "--biology"),
         ("docs/biology.md", "docs/biology.json"), (), 9),
    Step("null", ("{python}", "-m", "experiments.biology_null", "--jobs", "1"),
         ("docs/biology_null.md", "docs/biology_null.json"), ("biology",), 60),
    Step("behaviour", ("{python}", "-m", "experiments.behaviour_report", "--threads", "1", "--work",
                       "{work}/behaviour"), ("docs/behaviour.md", "docs/behaviour.json"), (), 32),
    Step("learning_rate", ("{python}", "-m", "experiments.biology_learning_rate"),
         ("docs/biology_learning_rate.md", "docs/biology_learning_rate.json"), ("biology",), 28),
    Step("sign_lesions", ("{python}", "-m", "experiments.sign_lesions", "--jobs", "1"),
         ("docs/sign_lesions.md", "docs/sign_lesions.json"), ("biology",), 20),
    Step("stage1_spread", ("{python}", "-m", "experiments.stage1_spread", "--store", "{work}/stage1-search"),
         ("docs/stage1_spread.md", "docs/stage1_spread.json"), (), 5),
    Step("biology_render", ("{python}", "-m", "larvasim.cli", "validate", "--biology", "--render"),
         ("docs/biology.md",), ("learning_rate", "sign_lesions", "null", "stage1_spread"), 0.2),
    Step("learning", ("{python}", "-m", "experiments.learning", "--report", "docs/learning.md"),
         ("docs/learning.md",), (), 5),
    Step("odours", ("{python}", "-m", "experiments.odour_coding"), ("docs/odours.md", "docs/odours.json"), (), 1),
    Step("sensory", ("{python}", "-m", "experiments.sensory_report"), ("docs/sensory.md", "docs/sensory.json"), (),
         2),
    Step("compare", ("{python}", "-m", "experiments.compare"), ("docs/spiking_vs_cascade.md",), (), 2),
)


def order(steps=STEPS) -> list[str]:
    """The steps' names in an order that puts every step after those it follows (stable otherwise); an error
    names an unknown step or a cycle."""
    by = {s.name: s for s in steps}
    for s in steps:
        for a in s.after:
            if a not in by:
                raise ValueError(f"step {s.name!r}: follows unknown step {a!r}")
    done, out = set(), []
    while len(out) < len(steps):
        ready = [s.name for s in steps if s.name not in done and set(s.after) <= done]
        if not ready:
            raise ValueError(f"steps {', '.join(sorted(set(by) - done))}: they follow each other in a cycle")
        out.append(ready[0])
        done.add(ready[0])
    return out


def fingerprint() -> str:
    """What the documents depend on: the default model (:func:`experiments.runs.default_model_key`) and the
    findings table (:func:`experiments.runs.finding_keys`)."""
    import hashlib

    from .runs import default_model_key, finding_keys

    keys = json.dumps(finding_keys(), sort_keys=True).encode()
    return f"{default_model_key()}-{hashlib.sha256(keys).hexdigest()[:8]}"


def plan(steps=STEPS, *, state: dict | None = None, only=None, force: bool = False, jobs: int = 1) -> list[str]:
    """Lines saying what a run would do: each step in order, whether it runs or was done, its duration and what
    it follows; then the estimated wall time on ``jobs`` lanes."""
    todo = _todo(steps, state, only, force)
    by = {s.name: s for s in steps}
    lines = []
    for name in order(steps):
        s = by[name]
        if name in todo:
            what = f"runs (about {s.minutes:g} min)"
        elif name in ((state or {}).get("steps") or {}) and state["steps"][name].get("rc") == 0:
            what = f"done ({state['steps'][name]['seconds']:.0f} s, {state['steps'][name]['finished']})"
        else:
            what = "not asked for"
        after = f" after {', '.join(s.after)}" if s.after else ""
        lines.append(f"{name:15s} {what}{after}: {' '.join(s.argv)}")
    lines.append(f"about {_wall(steps, todo, jobs):.0f} min on {jobs} lane{'s' if jobs > 1 else ''}")
    return lines


def _todo(steps, state, only, force) -> list[str]:
    names = [s.name for s in steps]
    wanted = names if not only else list(only)
    unknown = [n for n in wanted if n not in names]
    if unknown:
        raise ValueError(f"unknown step(s) {', '.join(unknown)}: choose among {', '.join(names)}")
    done = {n for n, r in ((state or {}).get("steps") or {}).items() if r.get("rc") == 0}
    return [n for n in order(steps) if n in wanted and (force or n not in done)]


def _wall(steps, todo, jobs: int) -> float:
    """Minutes the ``todo`` steps take on ``jobs`` lanes, by the schedule :func:`run` follows (a step starts, in
    the steps' order, as soon as a lane is free and the steps it follows are done)."""
    by = {s.name: s for s in steps}
    pending, running, done, now = list(todo), {}, set(), 0.0
    while pending or running:
        for name in list(pending):
            if len(running) < max(1, jobs) and not any(a in pending or a in running for a in by[name].after):
                pending.remove(name)
                running[name] = now + by[name].minutes
        if not running:
            break
        name = min(running, key=running.get)
        now = running.pop(name)
        done.add(name)
    return now


def _load(path: Path, key: str) -> dict:
    state = json.loads(path.read_text()) if path.is_file() else None
    if state is None or state.get("fingerprint") != key:
        state = {"fingerprint": key, "steps": {}}
    return state


def run(steps=STEPS, *, runs=None, jobs: int = 1, only=None, force: bool = False, key: str | None = None,
        root=ROOT, log=None, poll_s: float = 0.5) -> dict:
    """Run the steps still to do, ``jobs`` at a time, each after the steps it follows.

    Parameters
    ----------
    steps : sequence of Step
        Default :data:`STEPS`.
    runs : path, optional
        Folder of the logs (``<step>.log``), the work files and ``state.json``; default
        ``<root>/regenerate-runs/<key>``.
    jobs : int
        Steps run at once (each is one process on one core, except where its command says otherwise).
    only : sequence of str, optional
        Only these steps (their order and dependencies still hold among them).
    force : bool
        Run the steps again even where the state says they finished.
    key : str, optional
        What the documents depend on; default :func:`fingerprint`. A state written for another key is
        discarded: every step runs again.
    root : path
        The checkout whose ``docs/`` the steps write (their working directory).
    log : callable, optional
        Called with one line per step started, finished or skipped.

    Returns
    -------
    dict
        The state: ``fingerprint`` and, per step, ``rc``, ``seconds``, ``finished`` and ``log``; a step whose
        dependency failed is recorded with ``rc`` None and ``skipped``.
    """
    from larvasim.util import atomic_write_text

    root = Path(root)
    if not (root / "docs").is_dir():
        raise FileNotFoundError(f"{root / 'docs'}: not a larvasim source checkout (the documents live there)")
    key = key if key is not None else fingerprint()
    runs = Path(runs) if runs is not None else root / "regenerate-runs" / key
    runs.mkdir(parents=True, exist_ok=True)
    store = runs / "state.json"
    state = _load(store, key)
    todo = _todo(steps, state, only, force)
    by = {s.name: s for s in steps}
    say = log or (lambda m: None)
    subst = {"python": sys.executable, "work": str(runs)}
    running: dict[str, tuple] = {}
    failed: set[str] = set()
    pending = list(todo)

    def save():
        atomic_write_text(store, json.dumps(state, indent=1) + "\n")

    try:
        _loop(pending, running, failed, by, state, subst, runs, root, save, say, jobs, poll_s)
    except KeyboardInterrupt:  # Ctrl-C: stop the running steps, keep what finished (a rerun resumes)
        for name, (proc, out, t0, path) in running.items():
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
            out.close()
            state["steps"][name] = {"rc": None, "interrupted": True, "log": str(path),
                                    "seconds": round(time.perf_counter() - t0, 1)}
        save()
        raise
    save()
    return state


def _loop(pending, running, failed, by, state, subst, runs, root, save, say, jobs, poll_s):
    """The scheduler of :func:`run`: start what may start, collect what finished, until nothing is left."""
    while pending or running:
        moved = False  # a step started, finished or was skipped in this pass
        for name in list(pending):
            s = by[name]
            if any(a in failed for a in s.after):
                moved = True
                pending.remove(name)
                failed.add(name)
                state["steps"][name] = {"rc": None, "skipped": f"after failed step(s) "
                                        f"{', '.join(a for a in s.after if a in failed)}"}
                save()
                say(f"{name}: skipped ({state['steps'][name]['skipped']})")
            elif len(running) < max(1, jobs) and not any(a in pending or a in running for a in s.after):
                moved = True
                pending.remove(name)
                argv = [a.replace("{python}", subst["python"]).replace("{work}", subst["work"]) for a in s.argv]
                path = runs / f"{name}.log"
                out = open(path, "w")
                out.write("$ " + " ".join(argv) + "\n")
                out.flush()
                proc = subprocess.Popen(argv, cwd=root, stdout=out, stderr=subprocess.STDOUT,
                                        env={**os.environ, "MPLBACKEND": "Agg"})
                running[name] = (proc, out, time.perf_counter(), path)
                say(f"{name}: started ({' '.join(s.argv)})")
        for name, (proc, out, t0, path) in list(running.items()):
            rc = proc.poll()
            if rc is None:
                continue
            out.close()
            del running[name]
            moved = True
            seconds = time.perf_counter() - t0
            state["steps"][name] = {"rc": rc, "seconds": round(seconds, 1), "log": str(path),
                                    "finished": datetime.datetime.now().isoformat(timespec="seconds")}
            save()
            if rc != 0:
                failed.add(name)
                say(f"{name}: FAILED (exit {rc}, {seconds:.0f} s): see {path}")
            else:
                say(f"{name}: done ({seconds:.0f} s)")
        if running:
            time.sleep(poll_s)
        elif pending and not moved:  # cannot happen with an order() that passed
            raise RuntimeError(f"steps {', '.join(pending)} cannot start")


def main(argv=None, steps=STEPS) -> int:
    """``python -m experiments.regenerate`` (``steps``: the manifest, :data:`STEPS`; the tests give their own)."""
    ap = argparse.ArgumentParser(prog="python -m experiments.regenerate",
                                 description="Regenerate every document of the default larval model, in "
                                             "dependency order (resumable).")
    ap.add_argument("--jobs", type=int, default=1, help="steps at once (default 1; one core each)")
    ap.add_argument("--only", default="", help="comma-separated steps (default: all)")
    ap.add_argument("--force", action="store_true", help="rerun steps that already finished for this model")
    ap.add_argument("--dry-run", action="store_true", help="print the plan and run nothing")
    ap.add_argument("--runs", default=None, help="folder of the logs and state (default regenerate-runs/<model>)")
    args = ap.parse_args(argv)
    only = [x.strip() for x in args.only.split(",") if x.strip()] or None
    runs = Path(args.runs) if args.runs else ROOT / "regenerate-runs"
    try:
        key = fingerprint()
        runs = Path(args.runs) if args.runs else ROOT / "regenerate-runs" / key
        state = _load(runs / "state.json", key)
        for line in plan(steps, state=state, only=only, force=args.force, jobs=args.jobs):
            print(line, flush=True)
        if args.dry_run:
            return 0
        state = run(steps, runs=runs, jobs=args.jobs, only=only, force=args.force, key=key,
                    log=lambda m: print(f"[{datetime.datetime.now():%H:%M:%S}] {m}", flush=True))
    except (ValueError, OSError) as exc:
        print(f"larvasim: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"larvasim: interrupted; the steps that finished are kept in {runs / 'state.json'} (rerun to resume)",
              file=sys.stderr)
        return 130
    bad = [n for n, r in state["steps"].items() if r.get("rc") != 0]
    if bad:
        print(f"failed or skipped: {', '.join(bad)} (logs in {runs})", file=sys.stderr)
        return 1
    print("every step done; now check the README's quotes: python -m pytest tests/test_readme.py")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
