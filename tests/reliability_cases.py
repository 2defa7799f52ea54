"""Bad inputs and faults against the ``larvasim`` command line, kept as tests (issue #15).

One table, :data:`CASES`: each case is a command line (and the setup it needs: a file
with bad content, a read-only folder, a damaged copy of a synthetic data set) with the
outcome it must have:

``clear error``
    exit status 2, one line on stderr that starts ``larvasim: error:`` (argparse's own
    errors: its usage lines then ``larvasim CMD: error: ...``) and names the flag, file,
    key or value (``Case.names``); no traceback, no Brian2 bug banner, and no output file
    left behind.
``correct behaviour``
    the command succeeds (or is repaired as documented) and ``Case.check`` holds.
``interrupted``
    a signal during a run: a non-zero exit status and no output file (nothing partial).

Observed outcomes that are not the expected one are classed as ``traceback`` (an
exception escaped :func:`larvasim.cli.main`, or a traceback / Brian2 bug banner was
printed), ``wrong result`` (exit 0 where an error was due, or a failed check),
``partial file`` (an error, but an output file was left), ``vague message`` (an error
that does not name what is wrong, or is not one line), ``other exit`` (another status).

``tests/test_reliability.py`` runs every case in-process (through
``larvasim.cli.main(argv)``; subprocesses only for signals) and checks that the
observed outcome is the expected one, and that ``docs/reliability.md`` is the render of
this table. Regenerate the doc (runs every case, about two minutes)::

    python -m tests.reliability_cases --write docs/reliability.md

Data faults use damaged copies of a synthetic data set
(:func:`connectomes.synthetic.write_winding_format`), never the real data.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

CLEAR, CORRECT, INTERRUPTED = "clear error", "correct behaviour", "interrupted"
BAD = ("traceback", "wrong result", "partial file", "vague message", "other exit")
CATEGORIES = ("arguments", "run files", "model parameters", "output paths", "data files", "sweeps",
              "experiments", "benchmark", "behaviour", "results files", "interrupts")
BRIAN_BANNER = "please report this bug"
#: Python rather than command-line terms in a message: Brian2 reprs ("0. * second", "0.3*mV", "1. Gs"),
#: keyword syntax ("csv='path'", "data_dir argument"), numpy reprs, internal names.
PYTHON_SYNTAX = re.compile(r"\d\.?\s\*\s[a-z]|\b\d+(\.\d+)?\*(mV|ms|Hz|second|nA|pA|nS)\b|\bcsv='|np\.float|"
                           r"\bn_steps\b|\bn_larvae\b|\bGs\b|data_dir argument|\bmultiply by a Brian2 unit")
ROOT = Path(__file__).resolve().parents[1]
BEFORE_FILE = Path(__file__).with_name("reliability_before.json")


@dataclass
class Case:
    id: str
    category: str
    what: str                         # the bad input or fault, in words
    argv: list                        # "{toy}", "{tmp}", "{ro}", "{zip}" are filled in
    expect: str = CLEAR
    names: str | tuple = ()           # what a clear error must name (substrings of stderr)
    outputs: tuple = ()               # paths (relative to the case folder) that must not exist after an error
    setup: Callable | None = None     # setup(ctx) before the command
    check: Callable | None = None     # check(ctx, rc, out, err) -> bool, for "correct behaviour"
    env: dict = field(default_factory=dict)
    signal: int | None = None         # subprocess case: send this signal once the run is under way
    needs: str | None = None          # "ro": needs a folder this user cannot write


@dataclass
class Context:
    tmp: Path                         # the case's own folder (also the working directory)
    toy: Path                         # a shared synthetic data set (extracted Data S1 layout)
    cache: Path                       # a shared cache (parsed toy data)
    ro: Path | None                   # a folder that cannot be written, or None

    def fill(self, a: str) -> str:
        return a.format(toy=self.toy, tmp=self.tmp, ro=self.ro, zip=self.tmp / "zipped")


# -- setups --------------------------------------------------------------------------------------------
def write(name: str, text: str):
    def setup(ctx):
        p = ctx.tmp / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return setup


def both(*setups):
    def setup(ctx):
        for s in setups:
            s(ctx)
    return setup


def toy_copy(damage: Callable):
    """A copy of the toy data in ``{tmp}/data``, damaged by ``damage(folder)`` (the Data S1 folder)."""
    def setup(ctx):
        shutil.copytree(ctx.toy, ctx.tmp / "data")
        damage(ctx.tmp / "data" / "Supplementary-Data-S1")
    return setup


def _first(folder: Path, pattern: str) -> Path:
    return sorted(folder.glob(pattern))[0]


def damage_replace(pattern: str, text: str):
    return lambda f: _first(f, pattern).write_text(text)


def damage_truncate(pattern: str, keep: float = 0.5):
    def d(f):
        p = _first(f, pattern)
        b = p.read_bytes()
        p.write_bytes(b[:int(len(b) * keep)])
    return d


def damage_remove(pattern: str):
    return lambda f: _first(f, pattern).unlink()


def damage_dir_instead(pattern: str):
    """The file replaced by a folder of the same name (unreadable as a file, also for root)."""
    def d(f):
        p = _first(f, pattern)
        p.unlink()
        p.mkdir()
    return d


def damage_swap_value(pattern: str):
    """One synapse count changed: the four types no longer sum to all-all."""
    def d(f):
        p = _first(f, pattern)
        lines = p.read_text().splitlines()
        cells = lines[1].split(",")
        cells[1] = str(float(cells[1]) + 7)
        lines[1] = ",".join(cells)
        p.write_text("\n".join(lines) + "\n")
    return d


def zipped_without(member_suffix: str):
    """``{tmp}/zipped/Supplementary-Data-S1.zip`` without the member ending in ``member_suffix``."""
    def setup(ctx):
        src = ctx.toy / "Supplementary-Data-S1"
        (ctx.tmp / "zipped").mkdir()
        with zipfile.ZipFile(ctx.tmp / "zipped" / "Supplementary-Data-S1.zip", "w") as z:
            for p in sorted(src.iterdir()):
                if not p.name.endswith(member_suffix):
                    z.write(p, f"Supplementary-Data-S1/{p.name}")
    return setup


def pedigo(text: str):
    """A node table of Pedigo et al. 2023 beside a copy of the toy data."""
    def setup(ctx):
        shutil.copytree(ctx.toy, ctx.tmp / "data")
        (ctx.tmp / "data" / "unmatched_full_nodes.csv").write_text(text)
    return setup


def bitrot(name: str):
    """A results file with bytes in its middle overwritten."""
    def setup(ctx):
        run_toy_results(ctx, name)
        p = ctx.tmp / name
        b = bytearray(p.read_bytes())
        mid = len(b) // 2
        b[mid - 4096:mid + 4096] = os.urandom(8192)
        b[:8] = b"\0" * 8
        p.write_bytes(bytes(b))
    return setup


def run_toy_results(ctx, name: str):
    from larvasim.cli import main

    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        rc = main([ctx.fill(a) for a in RUN_NUMPY + DRIVE] + ["-o", str(ctx.tmp / name)])
    assert rc == 0


SWEEP_TOML = '''duration = "20 ms"
device = "numpy"
[[drive]]
modality = "olfactory"
rate = "100 Hz"
[sweep]
seeds = [0]
[sweep.grid]
w_syn = ["0.3 mV", "0.4 mV"]
'''


def sweep_done(damage: Callable | None = None):
    """A completed two-run sweep in ``{tmp}/s.sweep``, then ``damage(folder)``."""
    def setup(ctx):
        from larvasim.cli import main

        (ctx.tmp / "s.toml").write_text(SWEEP_TOML)
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            rc = main(["sweep", str(ctx.tmp / "s.toml"), "--data-dir", str(ctx.toy), "--no-verify", "--quiet",
                       "--jobs", "1", "-o", str(ctx.tmp / "s.sweep")])
        assert rc == 0
        if damage:
            damage(ctx.tmp / "s.sweep")
    return setup


def first_run_record(text: str):
    return lambda folder: _first(folder / "runs", "*.json").write_text(text)


# -- checks ----------------------------------------------------------------------------------------------
def file_written(name: str, also: str = ""):
    return lambda ctx, rc, out, err: rc == 0 and (ctx.tmp / name).is_file() and also in out + err


def sweep_complete(ctx, rc, out, err):
    """Exit 0, both runs ok in the table (a damaged record was run again)."""
    import pandas as pd

    if rc != 0:
        return False
    t = pd.read_csv(ctx.tmp / "s.sweep" / "table.csv")
    return len(t) == 2 and (t["status"] == "ok").all()


def help_has_examples(ctx, rc, out, err):
    return rc == 0 and "examples:" in out and "larvasim run --drive" in out and "``" not in out


# -- the cases ---------------------------------------------------------------------------------------------
RUN = ["run", "--data-dir", "{toy}", "--no-verify", "--quiet"]
RUN_NUMPY = RUN + ["--device", "numpy", "--duration", "20 ms"]
DRIVE = ["--drive", "modality=olfactory,rate=100Hz"]
O = ["-o", "{tmp}/out.h5"]
OUT = ("out.h5",)
EXP = ["run", "sensory_map", "--data-dir", "{toy}", "--no-verify", "-o", "{tmp}/exp"]
SWEEP = ["sweep", "{tmp}/s.toml", "--data-dir", "{toy}", "--no-verify", "--quiet", "--jobs", "1",
         "-o", "{tmp}/s.sweep"]
SWEEP_FILE = write("s.toml", SWEEP_TOML)


PATHS = ["paths", "--data-dir", "{toy}", "--no-verify", "--from", "modality=olfactory"]
PATHS_CSV = ("p.csv",)


def paths_written(ctx, rc, out, err):
    """Exit 0; the CSV holds one row per path, each from an olfactory neuron to an MBON, strongest first."""
    import pandas as pd

    if rc != 0 or not (ctx.tmp / "p.csv").is_file():
        return False
    t = pd.read_csv(ctx.tmp / "p.csv")
    return (len(t) > 0 and (t["celltypes"].str.startswith("sensory > ") & t["celltypes"].str.endswith(" > MBON")).all()
            and t["strength"].is_monotonic_decreasing and "strongest paths" in out)


BENCH = ["validate", "--biology", "--table", "{tmp}/t.csv", "--data-dir", "{toy}", "--no-verify", "--no-pairing"]
BENCH_OUT = ("t.csv", "t.json")


def _csv_column(path: Path, column: str) -> list:
    import csv

    with open(path, newline="") as fh:
        return [row[column] for row in csv.DictReader(fh)]


def _run_file(body: str):
    return write("r.toml", body)


def c(id, category, what, argv, expect=CLEAR, names=(), outputs=(), **kw):
    return Case(id, category, what, argv, expect, names, outputs, **kw)


CASES: list[Case] = [
    # ---- arguments ------------------------------------------------------------------------------------
    c("A01", "arguments", "no subcommand", [], names="required: command"),
    c("A02", "arguments", "unknown flag", RUN + ["--bogus"], names="--bogus"),
    c("A03", "arguments", "drive that is not KEY=VALUE", RUN + ["--drive", "nonsense"] + O, names=("--drive", "nonsense"),
      outputs=OUT),
    c("A04", "arguments", "drive without a rate", RUN + ["--drive", "modality=olfactory"] + O,
      names="needs a rate", outputs=OUT),
    c("A05", "arguments", "drive rate without a unit", RUN + ["--drive", "modality=olfactory,rate=80"] + O,
      names="cannot read '80'", outputs=OUT),
    c("A06", "arguments", "misspelt modality in a drive", RUN + ["--drive", "modality=olfactry,rate=80Hz"] + O,
      names="Close matches: olfactory", outputs=OUT),
    c("A07", "arguments", "unknown key in --activate", RUN + ["--activate", "celltype=KC,rate=8Hz,mode=all"] + O,
      names="unknown key(s) ['mode']", outputs=OUT),
    c("A08", "arguments", "silence that is not KEY=VALUE", RUN + ["--silence", "APL"] + O, names="'APL'",
      outputs=OUT),
    c("A09", "arguments", "silence with an unknown mode", RUN + ["--silence", "name=APL,mode=half"] + O,
      names="half", outputs=OUT),
    c("A10", "arguments", "--duration without a unit", RUN + ["--duration", "300"] + O, names=("--duration", "'300'"),
      outputs=OUT),
    c("A11", "arguments", "--duration 1e400 s (infinite)", RUN + ["--duration", "1e400 s"] + O,
      names="--duration", outputs=OUT),
    c("A12", "arguments", "--duration 1e9 s (impossible)", RUN + ["--duration", "1e9 s"] + DRIVE + O,
      names=("1e+09 s", "or shorter ones"), outputs=OUT),
    c("A13", "arguments", "--duration 0 s", RUN + ["--duration", "0 s"] + O, names="--duration", outputs=OUT),
    c("A14", "arguments", "--duration -1 s", RUN + ["--duration", "-1 s"] + O, names="--duration", outputs=OUT),
    c("A15", "arguments", "--duration in the wrong unit", RUN + ["--duration", "5 mV"] + O, names="--duration",
      outputs=OUT),
    c("A16", "arguments", "--trials 0", RUN + ["--trials", "0"] + O, names="--trials", outputs=OUT),
    c("A17", "arguments", "--trials -2", RUN + ["--trials", "-2"] + O, names="--trials", outputs=OUT),
    c("A18", "arguments", "--trials not a number", RUN + ["--trials", "three"], names="--trials"),
    c("A19", "arguments", "--trials 1000000000 (impossible memory)", RUN_NUMPY[:-2] + ["--trials", "1000000000"]
      + DRIVE + O, names="trials", outputs=OUT),
    c("A20", "arguments", "--seed -1", RUN + ["--seed", "-1"] + O, names="--seed", outputs=OUT),
    c("A21", "arguments", "unknown --device", RUN + ["--device", "gpu"], names="--device"),
    c("A22", "arguments", "unknown --model", RUN + ["--model", "hodgkin"] + O, names=("--model", "hodgkin"), outputs=OUT),
    c("A23", "arguments", "unknown --signs policy", RUN + ["--signs", "mostly"] + O, names="mostly", outputs=OUT),
    c("A24", "arguments", "--signs CSV that does not exist", RUN + ["--signs", "{tmp}/nope.csv"] + O,
      names="nope.csv", outputs=OUT),
    c("A25", "arguments", "unknown --synapse-types", RUN + ["--synapse-types", "ad,xx"] + O, names="xx",
      outputs=OUT),
    c("A26", "arguments", "empty --synapse-types", RUN + ["--synapse-types", ","] + O, names="--synapse-types",
      outputs=OUT),
    c("A27", "arguments", "unknown --name", RUN + ["--name", "adult2024"], names="--name"),
    c("A28", "arguments", "misspelt experiment", ["run", "sensory_mop"], names="did you mean sensory_map"),
    c("A29", "arguments", "--set without =", RUN + ["--set", "w_syn"] + O, names="--set 'w_syn'", outputs=OUT),
    c("A30", "arguments", "a plain run with --null", RUN + ["--null"] + DRIVE + O, names="--null", outputs=OUT),
    c("A31", "arguments", "a plain run with --option", RUN + ["--option", "rate=150"] + DRIVE + O,
      names="--option", outputs=OUT),
    c("A32", "arguments", "unknown info data set", ["info", "adult"], names="adult"),
    c("A33", "arguments", "larvasim --help: examples, no raw reST", ["--help"], CORRECT, check=help_has_examples),
    c("A34", "arguments", "plot without a results file", ["plot", "raster", "-o", "{tmp}/f.png"],
      names="give a results file", outputs=("f.png",)),
    c("A35", "arguments", "unknown plot kind", ["plot", "spikes", "x.h5", "-o", "f.png"], names="spikes"),
    c("A36", "arguments", "fetch of an unknown data set", ["fetch", "adult"], names="adult"),
    c("A37", "arguments", "activation with a negative rate", RUN + ["--activate", "celltype=KC,rate=-8Hz"] + O,
      names="rate", outputs=OUT),
    c("A38", "arguments", "drive whose stop is before its start",
      RUN + ["--drive", "modality=olfactory,rate=80Hz,start=200ms,stop=100ms"] + O, names="stop", outputs=OUT),
    c("A39", "arguments", "misspelt measured odour", RUN + ["--odour", "pentyl acetat"] + O,
      names=("--odour", "did you mean pentyl acetate"), outputs=OUT),
    c("A40", "arguments", "measured odour with an unknown key", RUN + ["--odour", "ethyl acetate,volume=3"] + O,
      names="unknown key 'volume'", outputs=OUT),
    c("A41", "arguments", "measured odour with a negative scale", RUN + ["--odour", "ethyl acetate,scale=-1"] + O,
      names="scale must be a finite number >= 0", outputs=OUT),
    c("A42", "arguments", "conditioning protocol given one measured odour",
      ["run", "paired", "--option", "cs_plus=pentyl acetate", "-o", "{tmp}/out.h5"],
      names="give both measured odours", outputs=("out.h5",)),
    c("A43", "arguments", "measured odour with spontaneous firing neither yes nor no",
      RUN + ["--odour", "ethyl acetate,spontaneous=maybe"] + O, names="spontaneous must be yes or no", outputs=OUT),
    c("A44", "arguments", "--receptors CSV that does not exist", RUN + ["--receptors", "{tmp}/nope.csv"] + DRIVE + O,
      names="nope.csv", outputs=OUT),
    c("A45", "arguments", "--receptors with --signs excitatory (no transmitters to act on)",
      RUN + ["--receptors", "literature", "--signs", "excitatory"] + DRIVE + O, names="excitatory policy", outputs=OUT),
    c("A46", "arguments", "--receptors given to an experiment", ["run", "sensory_map", "--receptors", "literature"],
      names="--receptors"),
    c("A47", "arguments", "--inputs a name that selects no neuron", RUN + ["--inputs", "no-such-neuron"] + DRIVE + O,
      names="no-such-neuron", outputs=OUT),
    c("A48", "arguments", "--inputs given to an experiment", ["run", "sensory_map", "--inputs", "MBON-i1"],
      names="--inputs"),
    c("A49", "arguments", "paths --to a name that selects no neuron",
      PATHS + ["--to", "no-such-neuron", "--csv", "{tmp}/p.csv"], names=("--to", "no-such-neuron"), outputs=PATHS_CSV),
    c("A50", "arguments", "paths --threshold that is not a number",
      PATHS + ["--to", "celltype=MBON", "--threshold", "strong", "--csv", "{tmp}/p.csv"], names="--threshold 'strong'",
      outputs=PATHS_CSV),
    c("A51", "arguments", "paths --hops 0", PATHS + ["--to", "celltype=MBON", "--hops", "0"], names="--hops 0"),
    c("A52", "arguments", "paths --csv with another suffix", PATHS + ["--to", "celltype=MBON", "--csv", "{tmp}/p.h5"],
      names="p.h5", outputs=("p.h5",)),
    c("A53", "arguments", "paths from the olfactory neurons to the MBONs, to a CSV file",
      PATHS + ["--to", "celltype=MBON", "--csv", "{tmp}/p.csv"], CORRECT, check=paths_written),

    # ---- run files ----------------------------------------------------------------------------------------
    c("F01", "run files", "run file that does not exist", RUN + ["{tmp}/missing.toml"], names="missing.toml"),
    c("F02", "run files", "run file that is not TOML", RUN + ["{tmp}/r.toml"] + O, names="r.toml",
      outputs=OUT, setup=_run_file("duration = [300 ms\n")),
    c("F03", "run files", "unknown key in a run file", RUN + ["{tmp}/r.toml"] + O,
      names="unknown key(s) ['stimulus']", outputs=OUT, setup=_run_file('stimulus = "odour"\n')),
    c("F04", "run files", "trials = 2.7", RUN + ["{tmp}/r.toml"] + O, names="trials must be a whole number",
      outputs=OUT, setup=_run_file("trials = 2.7\n")),
    c("F05", "run files", "trials = 0", RUN + ["{tmp}/r.toml"] + O, names="trials", outputs=OUT,
      setup=_run_file("trials = 0\n")),
    c("F06", "run files", 'seed = "one"', RUN + ["{tmp}/r.toml"] + O, names="seed", outputs=OUT,
      setup=_run_file('seed = "one"\n')),
    c("F07", "run files", "a drive after the end of the trial", RUN + ["{tmp}/r.toml"] + O,
      names="after the end of the trial", outputs=OUT,
      setup=_run_file('duration = "100 ms"\n[[drive]]\nmodality = "olfactory"\nrate = "80 Hz"\nstart = "200 ms"\n')),
    c("F08", "run files", "a drive without a rate", RUN + ["{tmp}/r.toml"] + O, names="rate", outputs=OUT,
      setup=_run_file('[[drive]]\nmodality = "olfactory"\n')),
    c("F09", "run files", "a folder given as the run file", RUN + ["{tmp}/d.toml"], names="d.toml",
      setup=lambda ctx: (ctx.tmp / "d.toml").mkdir()),
    c("F10", "run files", "a run file that is not .toml", RUN + ["{tmp}/run.txt"], names="run.txt",
      setup=write("run.txt", "duration = '1 s'\n")),
    c("F11", "run files", "an unknown model parameter", RUN + ["{tmp}/r.toml"] + O, names="nope",
      outputs=OUT, setup=_run_file("[model_parameters]\nnope = 1\n")),
    c("F12", "run files", "output = a folder", RUN + ["{tmp}/r.toml"], names="is a folder",
      setup=both(_run_file('output = "adir"\n'), lambda ctx: (ctx.tmp / "adir").mkdir())),
    c("F13", "run files", "a plasticity table with an unknown key", RUN + ["{tmp}/r.toml"] + O, names="bogus",
      outputs=OUT, setup=_run_file('[plasticity]\nbogus = 1\n')),
    c("F14", "run files", "an empty run file with a drive flag: the defaults run",
      RUN_NUMPY + ["{tmp}/r.toml"] + DRIVE + O, CORRECT, setup=_run_file(""), check=file_written("out.h5")),
    c("F15", "run files", "a run file that is binary garbage", RUN + ["{tmp}/r.toml"] + O, names="r.toml",
      outputs=OUT, setup=lambda ctx: (ctx.tmp / "r.toml").write_bytes(os.urandom(200) + b"\xff\xfe")),
    c("F16", "run files", "duration = 5 (a number, no unit)", RUN + ["{tmp}/r.toml"] + O, names="duration",
      outputs=OUT, setup=_run_file("duration = 5\n")),

    # ---- model parameters -------------------------------------------------------------------------------
    c("M01", "model parameters", "w_syn=1e400mV (infinite)", RUN + ["--set", "w_syn=1e400mV"] + DRIVE + O,
      names=("--set", "w_syn"), outputs=OUT),
    c("M02", "model parameters", "w_syn=-1mV", RUN + ["--set", "w_syn=-1mV"] + DRIVE + O, names=("--set", "w_syn"),
      outputs=OUT),
    c("M03", "model parameters", "tau_m=0ms", RUN + ["--set", "tau_m=0ms"] + DRIVE + O, names=("--set", "tau_m"),
      outputs=OUT),
    c("M04", "model parameters", "dt=0ms", RUN + ["--set", "dt=0ms"] + DRIVE + O, names=("--set", "dt"), outputs=OUT),
    c("M05", "model parameters", "v_th at or below v_reset", RUN + ["--set", "v_th=-80mV"] + DRIVE + O,
      names=("--set", "v_th"), outputs=OUT),
    c("M06", "model parameters", "w_syn=nan mV", RUN + ["--set", "w_syn=nan mV"] + DRIVE + O, names=("--set", "w_syn"),
      outputs=OUT),
    c("M07", "model parameters", "w_syn=fast", RUN + ["--set", "w_syn=fast"] + O, names=("--set", "cannot read 'fast'"),
      outputs=OUT),
    c("M08", "model parameters", "unknown parameter", RUN + ["--set", "nope=1"] + O, names=("--set", "nope"), outputs=OUT),
    c("M09", "model parameters", "tau_m in the wrong unit", RUN + ["--set", "tau_m=5 Hz"] + O, names=("--set", "tau_m"),
      outputs=OUT),
    c("M10", "model parameters", "w_syn without a unit", RUN + ["--set", "w_syn=0.3"] + O, names=("--set", "w_syn"),
      outputs=OUT),
    c("M11", "model parameters", "a parameter of another model", RUN + ["--model", "current_lif", "--set",
      "g_l=5nS"] + O, names=("--set", "g_l"), outputs=OUT),

    # ---- output paths -------------------------------------------------------------------------------------
    c("O01", "output paths", "-o onto a folder", RUN + DRIVE + ["-o", "{tmp}/adir"], names="is a folder",
      setup=lambda ctx: (ctx.tmp / "adir").mkdir()),
    c("O02", "output paths", "-o into a read-only folder", RUN + DRIVE + ["-o", "{ro}/out.h5"],
      names="cannot write", needs="ro"),
    c("O03", "output paths", "-o onto an existing file: replaced, and said so", RUN_NUMPY + DRIVE + O, CORRECT,
      setup=write("out.h5", "old"), check=file_written("out.h5", "replacing the file that was there")),
    c("O04", "output paths", "-o into a folder that does not exist yet: created", RUN_NUMPY + DRIVE +
      ["-o", "{tmp}/new/sub/out.h5"], CORRECT, check=file_written("new/sub/out.h5")),
    c("O05", "output paths", "-o under a file (not a folder)", RUN + DRIVE + ["-o", "{tmp}/afile/out.h5"],
      names="afile", setup=write("afile", "x")),
    c("O06", "output paths", "sweep -o onto a file", SWEEP[:-1] + ["{tmp}/afile"], names="afile",
      setup=both(SWEEP_FILE, write("afile", "x"))),
    c("O07", "output paths", "sweep -o into a read-only folder", SWEEP[:-1] + ["{ro}/s.sweep"],
      names="cannot write", setup=SWEEP_FILE, needs="ro"),
    c("O08", "output paths", "experiment -o into a read-only folder", EXP[:-1] + ["{ro}/exp"],
      names="cannot write", needs="ro"),
    c("O09", "output paths", "experiment -o onto a file", EXP[:-1] + ["{tmp}/afile"], names="afile",
      setup=write("afile", "x")),
    c("O10", "output paths", "behave --out into a read-only folder", ["behave", "free", "--larvae", "1",
      "--duration", "1", "--out", "{ro}/beh"], names="cannot write", needs="ro"),
    c("O11", "output paths", "behave --out onto a file", ["behave", "free", "--larvae", "1", "--duration", "1",
      "--out", "{tmp}/afile"], names="afile", setup=write("afile", "x")),
    c("O12", "output paths", "plot -o into a read-only folder", ["plot", "raster", "{tmp}/r.h5", "-o",
      "{ro}/f.png"], names="cannot write", setup=lambda ctx: run_toy_results(ctx, "r.h5"), needs="ro"),
    c("O13", "output paths", "plot -o with an unknown format", ["plot", "raster", "{tmp}/r.h5", "-o",
      "{tmp}/f.xyz"], names="xyz", outputs=("f.xyz",), setup=lambda ctx: run_toy_results(ctx, "r.h5")),
    c("O14", "output paths", "protocol -o onto a folder", ["run", "paired", "--data-dir", "{toy}", "--no-verify",
      "-o", "{tmp}/adir"], names="is a folder", setup=lambda ctx: (ctx.tmp / "adir").mkdir()),
    c("O15", "output paths", "run -o out.csv (results are HDF5 or NWB)", RUN + DRIVE + ["-o", "{tmp}/out.csv"],
      names=("out.csv", ".h5"), outputs=("out.csv",)),
    c("O16", "output paths", "protocol -o p.nwb (protocols write HDF5)", ["run", "paired", "--data-dir", "{toy}",
      "--no-verify", "-o", "{tmp}/p.nwb"], names=("p.nwb", ".h5"), outputs=("p.nwb",)),

    # ---- data files -----------------------------------------------------------------------------------------
    c("D01", "data files", "--data-dir that does not exist", RUN + ["--data-dir", "{tmp}/nowhere"] + DRIVE,
      names="nowhere"),
    c("D02", "data files", "--data-dir an empty folder", RUN + ["--data-dir", "{tmp}/empty"] + DRIVE,
      names="not found", setup=lambda ctx: (ctx.tmp / "empty").mkdir()),
    c("D03", "data files", "modified data without --no-verify (checksum)", ["info", "--data-dir", "{toy}"],
      names="verify"),
    c("D04", "data files", "a matrix CSV truncated mid-file", ["info", "--data-dir", "{tmp}/data", "--no-verify"],
      names="csv", setup=toy_copy(damage_truncate("*ad*.csv"))),
    c("D05", "data files", "a matrix CSV replaced by garbage", ["info", "--data-dir", "{tmp}/data", "--no-verify"],
      names="csv", setup=toy_copy(damage_replace("*aa*.csv", "x,y\n1,\x00\x01zz\n"))),
    c("D06", "data files", "annotations.csv missing", ["info", "--data-dir", "{tmp}/data", "--no-verify"],
      names="annotations", setup=toy_copy(damage_remove("annotations.csv"))),
    c("D07", "data files", "annotations.csv with a column missing", ["info", "--data-dir", "{tmp}/data",
      "--no-verify"], names="annotations", setup=toy_copy(damage_replace("annotations.csv", "left_id,right_id\n1,2\n"))),
    c("D08", "data files", "a data file that cannot be read (a folder in its place)",
      ["info", "--data-dir", "{tmp}/data", "--no-verify"], names="annotations.csv",
      setup=toy_copy(damage_dir_instead("annotations.csv"))),
    c("D09", "data files", "synapse types that do not sum to all-all", ["info", "--data-dir", "{tmp}/data",
      "--no-verify"], names="all-all", setup=toy_copy(damage_swap_value("*ad*.csv"))),
    c("D10", "data files", "a Data S1 zip with a member missing", ["info", "--data-dir", "{zip}", "--no-verify"],
      names="annotations.csv", setup=zipped_without("annotations.csv")),
    c("D11", "data files", "a Data S1 zip that is truncated", ["info", "--data-dir", "{tmp}/z", "--no-verify"],
      names="zip", setup=lambda ctx: _truncated_zip(ctx)),
    c("D12", "data files", "a Pedigo node table that is malformed", ["info", "--data-dir", "{tmp}/data",
      "--no-verify"], names="unmatched_full_nodes.csv", setup=pedigo("this,is\nnot,a node table\n")),
    c("D13", "data files", "a Pedigo node table that is binary", ["info", "--data-dir", "{tmp}/data",
      "--no-verify"], names="unmatched_full_nodes.csv", setup=pedigo("\x00\x01\x02\xff" * 100)),
    c("D14", "data files", "a cache folder that cannot be written", ["info", "--data-dir", "{toy}", "--no-verify"],
      names=("cache", "LARVASIM_CACHE"), env={"LARVASIM_CACHE": "{ro}/cache"}, needs="ro"),
    c("D15", "data files", "a cache file that is corrupt: rebuilt", ["info", "--data-dir", "{toy}", "--no-verify"],
      CORRECT, env={"LARVASIM_CACHE": "{tmp}/cache"}, setup=lambda ctx: _corrupt_cache(ctx),
      check=lambda ctx, rc, out, err: rc == 0 and "neurons" in out),
    c("D16", "data files", "a zip that is not a zip", ["info", "--data-dir", "{tmp}/z", "--no-verify"],
      names="zip", setup=lambda ctx: _fake_zip(ctx)),

    # ---- results files ----------------------------------------------------------------------------------
    c("R01", "results files", "plot a results file that does not exist", ["plot", "raster", "{tmp}/none.h5", "-o",
      "{tmp}/f.png"], names="none.h5", outputs=("f.png",)),
    c("R02", "results files", "plot a bit-rotted results file", ["plot", "raster", "{tmp}/bad.h5", "-o",
      "{tmp}/f.png"], names="bad.h5", outputs=("f.png",), setup=bitrot("bad.h5")),
    c("R03", "results files", "plot a text file as results", ["plot", "rates", "{tmp}/t.h5", "-o", "{tmp}/f.png"],
      names="t.h5", outputs=("f.png",), setup=write("t.h5", "not hdf5\n")),
    c("R04", "results files", "plot a trial that does not exist", ["plot", "raster", "{tmp}/r.h5", "--trial", "7",
      "-o", "{tmp}/f.png"], names="trial", outputs=("f.png",), setup=lambda ctx: run_toy_results(ctx, "r.h5")),
    c("R05", "results files", "plot an empty file", ["plot", "readout", "{tmp}/e.h5", "-o", "{tmp}/f.png"],
      names="e.h5", outputs=("f.png",), setup=write("e.h5", "")),

    # ---- sweeps -------------------------------------------------------------------------------------------
    c("S01", "sweeps", "--jobs 0", SWEEP[:-4] + ["--jobs", "0", "-o", "{tmp}/s.sweep"], names="--jobs",
      setup=SWEEP_FILE, outputs=("s.sweep",)),
    c("S02", "sweeps", "--jobs -3", SWEEP[:-4] + ["--jobs", "-3", "-o", "{tmp}/s.sweep"], names="--jobs",
      setup=SWEEP_FILE, outputs=("s.sweep",)),
    c("S03", "sweeps", "an empty [sweep.grid]", SWEEP, names="grid", outputs=("s.sweep",),
      setup=write("s.toml", 'duration = "20 ms"\n[sweep]\nseeds = [0]\n[sweep.grid]\n')),
    c("S04", "sweeps", "an unknown parameter in the grid", SWEEP, names="nope", outputs=("s.sweep",),
      setup=write("s.toml", 'duration = "20 ms"\n[sweep]\nseeds = [0]\n[sweep.grid]\nnope = [1, 2]\n')),
    c("S05", "sweeps", "a sweep file that does not exist", SWEEP[:1] + ["{tmp}/none.toml"] + SWEEP[2:],
      names="none.toml"),
    c("S06", "sweeps", "a run file without [sweep]", SWEEP, names="[sweep]", outputs=("s.sweep",),
      setup=write("s.toml", 'duration = "20 ms"\n')),
    c("S07", "sweeps", "an unreachable --scheduler", SWEEP + ["--scheduler", "tcp://127.0.0.1:9"],
      names="127.0.0.1:9", setup=SWEEP_FILE),
    c("S08", "sweeps", "--scheduler that is not an address", SWEEP + ["--scheduler", "nowhere"],
      names="nowhere", setup=SWEEP_FILE),
    c("S09", "sweeps", "runs/<id>.json valid JSON of the wrong shape: run again", SWEEP, CORRECT,
      setup=sweep_done(first_run_record("[1, 2, 3]")), check=sweep_complete),
    c("S10", "sweeps", "runs/<id>.json cut short: run again", SWEEP, CORRECT,
      setup=sweep_done(first_run_record('{"run_id": "x", "sta')), check=sweep_complete),
    c("S11", "sweeps", "runs/<id>.json a record without status: run again", SWEEP, CORRECT,
      setup=sweep_done(first_run_record('{"hello": 1}')), check=sweep_complete),
    c("S12", "sweeps", "a corrupt table.csv: rewritten", SWEEP, CORRECT,
      setup=sweep_done(lambda f: (f / "table.csv").write_bytes(b"\x00\xff,,\n\"unclosed")), check=sweep_complete),
    c("S13", "sweeps", "a corrupt sweep.json: rewritten", SWEEP, CORRECT,
      setup=sweep_done(lambda f: (f / "sweep.json").write_text("[")), check=sweep_complete),
    c("S14", "sweeps", "a grid value with the wrong unit", SWEEP, names="w_syn", outputs=("s.sweep",),
      setup=write("s.toml", 'duration = "20 ms"\n[sweep]\nseeds = [0]\n[sweep.grid]\nw_syn = ["3 Hz"]\n')),
    c("S15", "sweeps", "an unknown [sweep] key", SWEEP, names="bogus", outputs=("s.sweep",),
      setup=write("s.toml", 'duration = "20 ms"\n[sweep]\nbogus = 1\n[sweep.grid]\nw_syn = ["0.3 mV"]\n')),
    c("S16", "sweeps", "a sweep file that is not TOML", SWEEP, names="s.toml", outputs=("s.sweep",),
      setup=write("s.toml", "[sweep\n")),
    c("S18", "sweeps", "random n = 10**9 points", SWEEP + ["--dry-run"], names=("random: n", "at most"),
      outputs=("s.sweep",), setup=write("s.toml", 'duration = "20 ms"\n[sweep.random]\nn = 1000000000\nseed = 0\n'
                                        '[sweep.random.parameters]\nw_syn = { uniform = ["0.2 mV", "0.4 mV"] }\n')),
    c("S17", "sweeps", "--dry-run lists the runs and writes nothing", SWEEP + ["--dry-run"], CORRECT,
      setup=SWEEP_FILE,
      check=lambda ctx, rc, out, err: rc == 0 and "w_syn" in out and not (ctx.tmp / "s.sweep").exists()),

    # ---- experiments --------------------------------------------------------------------------------------
    c("E01", "experiments", "an unknown --option", EXP + ["--option", "nope=1"], names="nope", outputs=("exp",)),
    c("E02", "experiments", "--option without =", EXP + ["--option", "rate"], names="--option 'rate'",
      outputs=("exp",)),
    c("E03", "experiments", "an experiment with --model", EXP + ["--model", "current_lif"], names="--model",
      outputs=("exp",)),
    c("E04", "experiments", "an experiment with --set", EXP + ["--set", "w_syn=0.3mV"], names="--set",
      outputs=("exp",)),
    c("E05", "experiments", "an experiment with --duration", EXP + ["--duration", "2 s"], names="--duration",
      outputs=("exp",)),
    c("E06", "experiments", "an experiment with --drive", EXP + DRIVE, names="--drive", outputs=("exp",)),
    c("E07", "experiments", "an experiment with --silence", EXP + ["--silence", "name=APL"], names="--silence",
      outputs=("exp",)),
    c("E08", "experiments", "an experiment with --synapse-types", EXP + ["--synapse-types", "ad"],
      names="--synapse-types", outputs=("exp",)),
    c("E09", "experiments", "an experiment with --activate", EXP + ["--activate", "name=APL,rate=5Hz"],
      names="--activate", outputs=("exp",)),
    c("E10", "experiments", "an option value of the wrong type", EXP + ["--option", "rate=fast"], names="rate",
      outputs=("exp",)),
    c("E11", "experiments", "a protocol with --set", ["run", "paired", "--data-dir", "{toy}", "--no-verify",
      "--set", "w_syn=0.3mV", "-o", "{tmp}/p.h5"], names="--set", outputs=("p.h5",)),
    c("E12", "experiments", "a protocol with an unknown --option", ["run", "paired", "--data-dir", "{toy}",
      "--no-verify", "--option", "nope=1", "-o", "{tmp}/p.h5"], names="nope", outputs=("p.h5",)),
    c("E13", "experiments", "a protocol with --null", ["run", "paired", "--data-dir", "{toy}", "--no-verify",
      "--null", "-o", "{tmp}/p.h5"], names="--null", outputs=("p.h5",)),
    c("E14", "experiments", "an experiment with a run-file", ["run", "{tmp}/sensory_map"], names="sensory_map",
      setup=write("sensory_map", "x")),
    c("E15", "experiments", "a protocol with a rule time constant that is not a time", ["run", "backward",
      "--data-dir", "{toy}", "--no-verify", "--option", "eta_b=0.01", "--option", "tau_d=fast", "-o", "{tmp}/p.h5"],
      names="tau_d=fast", outputs=("p.h5",)),
    c("E16", "experiments", "a protocol with a negative potentiation rate", ["run", "backward", "--data-dir",
      "{toy}", "--no-verify", "--option", "eta_b=-0.01", "-o", "{tmp}/p.h5"], names="eta_b", outputs=("p.h5",)),
    c("E17", "experiments", "a protocol with a dopamine trace time constant in volts", ["run", "backward",
      "--data-dir", "{toy}", "--no-verify", "--option", "eta_b=0.01", "--option", "tau_d=2mV", "-o",
      "{tmp}/p.h5"], names="tau_d", outputs=("p.h5",)),

    # ---- benchmark (larvasim validate --biology --table: a model of the user's choice) -------------------
    c("V01", "benchmark", "--ids that match no finding", BENCH + ["--ids", "nope-*"], names="nope-*",
      outputs=BENCH_OUT),
    c("V02", "benchmark", "--table that is not a .csv file", BENCH[:3] + ["{tmp}/t.txt"] + BENCH[4:],
      names="--table", outputs=("t.txt", "t.json")),
    c("V03", "benchmark", "--compare a file that does not exist", BENCH + ["--compare", "{tmp}/none.csv"],
      names="none.csv", outputs=BENCH_OUT),
    c("V04", "benchmark", "--compare a table without a status column", BENCH + ["--compare", "{tmp}/o.csv"],
      names=("o.csv", "'status'"), outputs=BENCH_OUT, setup=write("o.csv", "id,half\nvis-01,calibration\n")),
    c("V05", "benchmark", "--learning with a value that is not a number", BENCH + ["--learning", "eta=fast"],
      names="eta=fast", outputs=BENCH_OUT),
    c("V06", "benchmark", "--findings a file with a finding that lacks a field", BENCH + ["--findings",
      "{tmp}/f.toml"], names=("f.toml", "'mine-01'", "citation"), outputs=BENCH_OUT,
      setup=write("f.toml", '[[finding]]\nid = "mine-01"\ncircuit = "olfactory"\npaper = "Me 2026"\n')),
    c("V07", "benchmark", "--set an unknown model parameter", BENCH + ["--set", "nope=1mV"], names="nope",
      outputs=BENCH_OUT),
    c("V08", "benchmark", "findings whose neurons the connectome lacks (the toy data)", BENCH + ["--ids",
      "sleep-poe24-01,mb-esc21-05"], CORRECT, check=lambda ctx, rc, out, err: rc == 0 and "untestable" in out
      and set(_csv_column(ctx.tmp / "t.csv", "status")) == {"untestable"}),
    c("V09", "benchmark", "--table in a folder that cannot be written", BENCH[:3] + ["{ro}/t.csv"] + BENCH[4:],
      names="cannot write", needs="ro"),
    c("V10", "benchmark", "--shuffle with a negative seed", BENCH + ["--shuffle", "-1"], names="--shuffle -1",
      outputs=BENCH_OUT),
    c("V11", "benchmark", "--set kc_gain (a candidate structure) below 0", BENCH + ["--set", "kc_gain=-0.5"],
      names="kc_gain", outputs=BENCH_OUT),
    c("V12", "benchmark", "--explain a finding a brain-only model cannot test", ["validate", "--biology",
      "--explain", "desc-01", "--data-dir", "{toy}", "--no-verify"], names=("desc-01", "not testable")),
    c("V13", "benchmark", "--explain an id that is not in the table", ["validate", "--biology", "--explain",
      "mb-nope-01", "--data-dir", "{toy}", "--no-verify"], names="--explain mb-nope-01"),
    c("V14", "benchmark", "--explain and --table together", BENCH + ["--explain", "mb-esc21-02"],
      names=("--table", "--explain"), outputs=BENCH_OUT),
    c("V15", "benchmark", "--set glu_scale (a candidate structure) below 0", BENCH + ["--set", "glu_scale=-1"],
      names="glu_scale", outputs=BENCH_OUT),

    # ---- behaviour --------------------------------------------------------------------------------------
    c("B01", "behaviour", "an unknown assay", ["behave", "swim"], names="swim"),
    c("B02", "behaviour", "--larvae 0", ["behave", "free", "--larvae", "0", "--out", "{tmp}/b"], names="larvae",
      outputs=("b",)),
    c("B03", "behaviour", "--duration -1", ["behave", "free", "--duration", "-1", "--out", "{tmp}/b"],
      names="duration", outputs=("b",)),
    c("B04", "behaviour", "an unknown decoder", ["behave", "chemotaxis", "--decoder", "nope", "--out", "{tmp}/b"],
      names="nope", outputs=("b",)),
    c("B05", "behaviour", "--decoder-param without =", ["behave", "free", "--decoder-param", "gain", "--out",
      "{tmp}/b"], names="gain", outputs=("b",)),
    c("B06", "behaviour", "a behaviour file that does not exist", ["behave", "--config", "{tmp}/none.toml"],
      names="none.toml"),
    c("B07", "behaviour", "a behaviour file that is not TOML", ["behave", "--config", "{tmp}/b.toml"],
      names="b.toml", setup=write("b.toml", "[behaviour\n")),
    c("B08", "behaviour", "an unknown condition", ["behave", "chemotaxis", "--conditions", "nope", "--out",
      "{tmp}/b"], names="nope", outputs=("b",)),
    c("B09", "behaviour", "--batch 0", ["behave", "free", "--batch", "0", "--out", "{tmp}/b"], names="batch",
      outputs=("b",)),
    c("B10", "behaviour", "no assay and no file", ["behave"], names="give an assay"),
    c("B11", "behaviour", "an unknown [behaviour] key", ["behave", "--config", "{tmp}/b.toml"], names="bogus",
      setup=write("b.toml", "[behaviour]\nassay = 'free'\nbogus = 1\n")),
    c("B12", "behaviour", "an unknown decoder parameter", ["behave", "chemotaxis", "--decoder-param", "nope=1",
      "--out", "{tmp}/b"], names="nope", outputs=("b",)),

    # ---- interrupts (subprocesses) -------------------------------------------------------------------------
    c("I01", "interrupts", "Ctrl-C (SIGINT) during a run", RUN + ["--device", "numpy", "--duration", "60 s"]
      + DRIVE + O, INTERRUPTED, outputs=OUT, signal=signal.SIGINT),
    c("I02", "interrupts", "SIGTERM during a run", RUN + ["--device", "numpy", "--duration", "60 s"]
      + DRIVE + O, INTERRUPTED, outputs=OUT, signal=signal.SIGTERM),
]


def _truncated_zip(ctx):
    from connectomes.synthetic import write_winding_format

    write_winding_format(ctx.tmp / "z", seed=3, zipped=True)
    p = ctx.tmp / "z" / "Supplementary-Data-S1.zip"
    p.write_bytes(p.read_bytes()[: p.stat().st_size // 2])


def _fake_zip(ctx):
    (ctx.tmp / "z").mkdir()
    (ctx.tmp / "z" / "Supplementary-Data-S1.zip").write_bytes(b"PK\x03\x04" + os.urandom(500))


def _corrupt_cache(ctx):
    from larvasim.cli import main

    os.environ["LARVASIM_CACHE"] = str(ctx.tmp / "cache")
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        assert main(["info", "--data-dir", str(ctx.toy), "--no-verify"]) == 0
    for p in (ctx.tmp / "cache").rglob("*.h5"):
        b = bytearray(p.read_bytes())
        b[len(b) // 3: len(b) // 3 + 2048] = os.urandom(2048)
        p.write_bytes(bytes(b))


# -- running a case ------------------------------------------------------------------------------------------
def read_only_dir(base: Path) -> Path | None:
    """A folder this process cannot write: a 0o555 folder, or (for root, who can write there) /sys."""
    d = base / "read-only"
    d.mkdir(exist_ok=True)
    d.chmod(0o555)
    for cand in (d, Path("/sys")):
        try:
            tempfile.TemporaryFile(dir=cand).close()
        except OSError:
            return cand
    return None


def make_context_base(base: Path):
    """The shared parts of every case's context: a toy data set, a cache, a read-only folder."""
    from connectomes.synthetic import write_winding_format

    base.mkdir(parents=True, exist_ok=True)
    write_winding_format(base / "toy", seed=1)
    return base / "toy", base / "cache", read_only_dir(base)


def classify(case: Case, ctx: Context, rc, out: str, err: str, exc: BaseException | None) -> tuple[str, str]:
    """(outcome, detail) of one observed run."""
    if exc is not None:
        return "traceback", "".join(traceback.format_exception_only(type(exc), exc)).strip()
    if "Traceback (most recent call last)" in err or BRIAN_BANNER in err:
        return "traceback", err.strip().splitlines()[-1] if err.strip() else ""
    left = [o for o in case.outputs if (ctx.tmp / o).exists()]
    lines = [ln for ln in err.splitlines() if ln.strip()]
    if case.expect == CORRECT:
        if rc == 0 and case.check(ctx, rc, out, err):
            return CORRECT, ""
        return ("wrong result" if rc == 0 else "other exit"), (lines[-1] if lines else f"exit {rc}")
    if case.expect == INTERRUPTED:
        if rc != 0 and not left:
            return INTERRUPTED, f"exit {rc}"
        return ("partial file" if left else "wrong result"), f"exit {rc}"
    # a clear error is due
    if rc == 0:
        return "wrong result", "exit 0"
    if left:
        return "partial file", f"left {', '.join(left)}"
    if rc != 2:
        return "other exit", (lines[-1] if lines else f"exit {rc}")
    argparse_style = any(ln.startswith("usage:") for ln in lines)
    errors = [ln for ln in lines if ln.startswith("larvasim") and ": error: " in ln]
    names = (case.names,) if isinstance(case.names, str) else tuple(case.names)
    # one error line: argparse's comes after its usage lines; larvasim's comes first (hints may follow)
    if len(errors) != 1 or (not argparse_style and lines[0] != errors[0]):
        return "vague message", " / ".join(lines)[:200]
    msg = errors[0]
    if not all(n.lower() in msg.lower() for n in names):
        return "vague message", msg[:200]
    if PYTHON_SYNTAX.search(msg):
        return "vague message", f"Python syntax: {msg[:200]}"
    return CLEAR, msg


def run_in_process(case: Case, ctx: Context) -> tuple[str, str]:
    """Run one case through ``larvasim.cli.main`` in this process; return (outcome, detail)."""
    from larvasim.cli import main

    cwd, env_before = os.getcwd(), dict(os.environ)
    os.environ["LARVASIM_CACHE"] = str(ctx.cache)
    os.environ.pop("LARVASIM_DATA", None)
    out, err, rc, exc = io.StringIO(), io.StringIO(), None, None
    try:
        os.chdir(ctx.tmp)
        if case.setup:
            try:
                case.setup(ctx)
            except Exception as e:  # noqa: BLE001
                return "setup failed", f"{type(e).__name__}: {e}"
        os.environ.update({k: ctx.fill(v) for k, v in case.env.items()})
        argv = [ctx.fill(a) for a in case.argv]
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                rc = main(argv)
            except SystemExit as e:  # argparse
                rc = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
            except BaseException as e:  # noqa: BLE001 - a traceback is what the probe looks for
                exc = e
        return classify(case, ctx, rc, out.getvalue(), err.getvalue(), exc)
    finally:
        os.chdir(cwd)
        os.environ.clear()
        os.environ.update(env_before)


def run_signal(case: Case, ctx: Context) -> tuple[str, str]:
    """Run one case as a subprocess and send it ``case.signal`` once the simulation is under way."""
    argv = [ctx.fill(a) for a in case.argv if a != "--quiet"]
    env = dict(os.environ, LARVASIM_CACHE=str(ctx.cache), PYTHONPATH=str(ROOT))
    env.pop("LARVASIM_DATA", None)
    log = ctx.tmp / "stderr.txt"
    with open(log, "w") as errf:
        proc = subprocess.Popen([sys.executable, "-m", "larvasim.cli", *argv], cwd=ctx.tmp, env=env,
                                stdout=subprocess.PIPE, stderr=errf, text=True)
        deadline = time.monotonic() + 120  # the progress bar on stderr says the trial has started
        while time.monotonic() < deadline and proc.poll() is None:
            if "%|" in log.read_text():
                break
            time.sleep(0.2)
        time.sleep(1.0)
        proc.send_signal(case.signal)
        try:
            rest_out, _ = proc.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            proc.kill()
            rest_out, _ = proc.communicate()
    err = log.read_text()
    log.unlink()
    return classify(case, ctx, proc.returncode, rest_out or "", err, None)


def run_case(case: Case, base: Path, shared) -> tuple[str, str]:
    toy, cache, ro = shared
    tmp = base / case.id
    tmp.mkdir(parents=True, exist_ok=True)
    ctx = Context(tmp=tmp, toy=toy, cache=cache, ro=ro)
    if case.needs == "ro" and ro is None:
        return "skipped", "no read-only folder on this machine"
    if case.signal is not None:
        return run_signal(case, ctx)
    return run_in_process(case, ctx)


# -- the document ----------------------------------------------------------------------------------------------
def render(outcomes: dict[str, str], before: dict[str, str] | None = None) -> str:
    """docs/reliability.md from the table and the outcome of each case."""
    before = before or {}
    n = len(CASES)
    counts = {k: sum(1 for c in CASES if outcomes.get(c.id) == k) for k in (CLEAR, CORRECT, INTERRUPTED, *BAD)}
    lines = [
        "# Reliability: bad inputs and faults",
        "",
        "<!-- generated by `python -m tests.reliability_cases --write docs/reliability.md`; do not edit -->",
        "",
        "Every case below is a command line a user might type, with bad input or a fault (a damaged data",
        "file, a read-only folder, a signal), run against `larvasim` by `tests/test_reliability.py`",
        "(the table: `tests/reliability_cases.py`). Each must end in a **clear error** (exit status 2,",
        "one line `larvasim: error: ...` naming the flag, file, key or value, no traceback and no output",
        "file left), a documented **correct behaviour**, or, for signals, **interrupted** (non-zero exit,",
        "no file). Data faults use damaged copies of a synthetic data set.",
        "",
        f"**{n} cases.** Outcomes now:",
        "",
        "| outcome | cases |",
        "| --- | ---: |",
    ]
    for k in (CLEAR, CORRECT, INTERRUPTED, *BAD, "skipped"):
        v = counts.get(k, sum(1 for c in CASES if outcomes.get(c.id) == k))
        if k in (CLEAR, CORRECT, INTERRUPTED) or k in BAD or v:
            lines.append(f"| {k} | {v} |")
    if before:
        bad_before = {k: sum(1 for c in CASES if before.get(c.id) == k) for k in BAD}
        lines += ["", "Before the fixes of issue #15's second batch (the same cases, probe run at commit "
                  f"`{before.get('_commit', '?')}`): " + ", ".join(f"{v} {k}" for k, v in bad_before.items()) + "."]
    for cat in CATEGORIES:
        cases = [c for c in CASES if c.category == cat]
        if not cases:
            continue
        lines += ["", f"## {cat} ({len(cases)})", "", "| id | bad input or fault | command | outcome | before |",
                  "| --- | --- | --- | --- | --- |"]
        for case in cases:
            cmd = " ".join(_shell(a) for a in ["larvasim", *case.argv] if a not in ("--quiet", "--no-verify"))
            cmd = cmd.replace("--data-dir {toy} ", "").replace("{tmp}/", "").replace("{ro}/", "READONLY/")
            cmd = cmd.replace("{zip}", "zipped").replace("|", "\\|")
            lines.append(f"| {case.id} | {case.what} | `{cmd}` | {outcomes.get(case.id, '?')} | "
                         f"{before.get(case.id, 'new')} |")
    return "\n".join(lines) + "\n"


def _shell(a: str) -> str:
    return repr(a) if (not a or any(ch in a for ch in " ,;|=()[]'\"*")) and not a.startswith("{") else a


def main(argv=None) -> int:
    import argparse

    p = argparse.ArgumentParser(description="run the reliability probe; optionally write docs/reliability.md")
    p.add_argument("--write", metavar="PATH", help="write the document here (e.g. docs/reliability.md)")
    p.add_argument("--before", metavar="JSON", help="record the outcomes as the 'before' column in this file")
    p.add_argument("--only", nargs="*", help="case ids")
    a = p.parse_args(argv)
    before = json.loads(BEFORE_FILE.read_text()) if BEFORE_FILE.is_file() else {}
    outcomes = {}
    with tempfile.TemporaryDirectory() as d:
        base = Path(d)
        shared = make_context_base(base / "_shared")
        for case in CASES:
            if a.only and case.id not in a.only:
                continue
            t0 = time.perf_counter()
            outcome, detail = run_case(case, base, shared)
            outcomes[case.id] = outcome
            flag = "" if outcome == case.expect else "   <-- expected " + case.expect
            print(f"{case.id:4} {outcome:17} {time.perf_counter() - t0:5.1f}s {case.what}: {detail[:150]}{flag}",
                  flush=True)
        (base / "_shared" / "read-only").chmod(0o755)
    if a.before:
        import subprocess as sp

        commit = sp.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT).stdout
        Path(a.before).write_text(json.dumps({"_commit": commit.strip(), **outcomes}, indent=1) + "\n")
    if a.write:
        Path(a.write).write_text(render(outcomes, before))
    bad = [c.id for c in CASES if c.id in outcomes and outcomes[c.id] != c.expect]
    print(f"{len(outcomes)} cases, {len(bad)} not as expected: {' '.join(bad)}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
