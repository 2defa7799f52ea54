"""A biology benchmark: published larval findings, run on a model and scored.

The findings table (``experiments/data/findings.toml``, one ``[[finding]]``
per published result) says for each finding what was done to a real larva
(which sensory neurons were stimulated, which named neurons activated or
silenced), what was measured (which neurons, which direction) and where
(citation, DOI, figure, a quote of the text that was read). Each finding is
one of four tests:

``response``
    ``stimulus`` (+ ``background``) vs ``background`` alone (or nothing):
    does the mean rate of ``readout`` go up, down or stay?
``silencing``
    the readout's rate under ``stimulus`` (+ ``background``) with the
    ``silence`` neurons' output cut vs intact.
``compare``
    under ``stimulus``, is the rate of ``readout`` greater than that of
    ``readout_b``?
``pairing``
    odour (``stimulus``) paired with activation of ``us`` (e.g. a dopaminergic
    neuron) in the conditioning protocol of :mod:`experiments.learning`
    (``protocol``: ``paired``, the default, ``unpaired``, ``trace`` or
    ``backward``, the odour at the US's offset): the
    readout's learning effect, ``(test CS+ - pre CS+) - (test CS- - pre CS-)``,
    or, with ``measure = "learned_valence"`` (findings whose published readout
    is a memory score), the change of the learned valence index of all MBONs
    of known valence (:meth:`experiments.learning.LearningRun.valence_index`):
    up for an appetitive, down for an aversive memory.

A prediction is a *change* when the mean paired difference over trials is at
least ``min_effect_hz``, at least ``min_relative`` of the reference rate and
at least ``z`` standard errors (:data:`BENCHMARK_PARAMETERS`, fixed before any
calibration, except ``pairing_larvae``: raised from 8 to 24 after the held-out
results had been seen; its source says why). A finding is a *hit* when the predicted direction (or "no
change") is the published one. Findings whose neurons are not in the brain
data, or that need the ventral nerve cord, are untestable and counted apart.

The findings are split by paper into a calibration half and a held-out half
(``experiments/data/findings_split.csv``, made once by :func:`make_split`
before any fitting); :mod:`experiments.calibrate` fits on the first only.
The split's ``round`` column says when a paper joined it: round 1 is the
split made before any fitting; papers added later go to the held-out half
with a higher round (:data:`ROUNDS`), and the report scores each round of the
held-out half apart, so that findings no model choice can have seen are
counted on their own.

>>> import connectomes, sim
>>> from experiments import biology
>>> c = connectomes.load("winding2023")                            # doctest: +SKIP
>>> net = sim.Network(c, device="numba")                           # doctest: +SKIP
>>> score = biology.score(net)                                     # doctest: +SKIP
>>> score.accuracy()                                               # doctest: +SKIP
"""
from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
from brian2 import Hz, ms

from models.parameters import Parameter, ParameterSet
from sim.workflows.config import parse_quantity
from sim.stimuli import Activation, PoissonDrive, Silence, as_indices

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib

__all__ = ["BENCHMARK_PARAMETERS", "FINDINGS", "PENDING", "SPLIT", "Finding", "FindingsError", "Score", "findings_as_of",
           "load_findings",
           "ROUNDS", "explain", "explain_text", "load_rounds", "load_split", "make_split", "merge_pending", "score",
           "sensory_rates"]

DATA = Path(__file__).parent / "data"
#: The findings table shipped with larvasim.
FINDINGS = DATA / "findings.toml"
#: The calibration / held-out split of the findings, by paper.
SPLIT = DATA / "findings_split.csv"

TESTS = ("response", "silencing", "compare", "pairing")
DIRECTIONS = ("increase", "decrease", "no_change")
EXPECT = {"response": DIRECTIONS, "silencing": DIRECTIONS, "compare": ("greater",), "pairing": DIRECTIONS}
#: Selections each test needs (besides optional ``background``).
NEEDS = {"response": ("stimulus", "readout"), "silencing": ("stimulus", "silence", "readout"),
         "compare": ("stimulus", "readout", "readout_b"), "pairing": ("stimulus", "us", "readout")}
SELECTION_FIELDS = ("stimulus", "background", "silence", "readout", "readout_b", "us")
REQUIRED = ("id", "circuit", "paper", "citation", "doi", "figure", "finding", "test", "expect", "testable")
OPTIONAL = ("quote", "source_read", "rate", "size", "untestable_reason", "note", "measure",
            "protocol", "testable_since", "added", "revised") + SELECTION_FIELDS
#: What a pairing test reads: the readout neurons' learning effect, or the learned valence index.
MEASURES = ("rate", "learned_valence")
#: Timings of odour and US a pairing test can run (protocols of :mod:`experiments.learning`; default "paired").
PAIRING_PROTOCOLS = ("paired", "unpaired", "trace", "backward")
HALVES = ("calibration", "heldout")
#: When the papers of each round joined the split, and what the model was at that moment.
ROUNDS = {
    1: "2026-11-30 (commit 1ada95f): the split made by make_split before any fitting",
    2: "2026-12-01: papers added after the default model had been fixed (calibration record of commit "
       "cca5577); all held out, their rows committed before the model was first run on them",
    3: "2026-12-01 (session 14): papers added while stage 2 of the calibration was being revised; all held "
       "out, their rows committed before any model was run on them",
    4: "2026-12-02 (session 15): papers added after the stage-2 recalibration of session 14; all held out, "
       "their rows committed before any model was run on them",
    5: "2026-12-02 (session 15): papers added after round 4 was scored; all held out, their rows committed "
       "before any model was run on them",
    6: "2026-12-02 (session 16): papers added while the default model was unchanged since session 14; all "
       "held out, their rows committed before any model was run on them",
    7: "2026-12-03 (session 25): papers added while the default model was unchanged since session 19 (stage 2, "
       "objective J3); all held out, their rows committed before any model was run on them",
    8: "2026-12-06 (session 41): papers added after the weak-connection threshold was adopted (session 40), the "
       "default model's last change; all held out, their rows committed before any model was run on them: the "
       "first round no fit and no model choice has seen",
}
#: The first round whose results no fit and no model choice has seen. Stage 2 of the calibration was refitted
#: with objective J3 in session 19 (2026-12-02), after every round up to 6 had been scored (it was 3 from session
#: 14's revision until then, and 7 from session 19); the timing-dependent dopamine rule replaced the
#: depression-only one in session 33 (2026-12-05), after round 7 (no testable finding) had been scored, and the
#: weak-connection threshold was adopted in session 40; round 8 (session 41) joined after that, so it is the first
#: round unseen by the default model. Lower it never; raise it to the next round when the model next changes.
UNSEEN_FROM_ROUND = 8
#: Keywords of :meth:`connectomes.Connectome.select` that are not neuron-table columns.
_SELECT_KEYWORDS = ("celltype", "modality", "hemisphere", "name", "ids", "pair_of")
#: Keywords whose values come from a fixed vocabulary of the dataset (an unknown value is a typo).
_VOCABULARY_KEYWORDS = ("celltype", "modality", "hemisphere")

#: Fixed settings of the benchmark (chosen before any calibration; never fitted).
BENCHMARK_PARAMETERS = ParameterSet([
    Parameter("duration", 800 * ms, "ms", "benchmark convention", "length of one trial"),
    Parameter("onset", 200 * ms, "ms", "benchmark convention", "stimulus onset (also the readout window start)"),
    Parameter("offset", 700 * ms, "ms", "benchmark convention", "stimulus end (also the readout window end)"),
    Parameter("trials", 8, "1", "benchmark convention", "trials per condition (paired across conditions)"),
    Parameter("activation_rate", 50 * Hz, "Hz",
              "benchmark convention: optogenetic or thermogenetic activation of larval neurons drives tens "
              "of spikes per second", "drive rate of activated (non-sensory) neurons"),
    Parameter("min_effect_hz", 0.5 * Hz, "Hz", "benchmark convention", "smallest change of a mean rate that counts"),
    Parameter("min_relative", 0.1, "1", "benchmark convention",
              "smallest change that counts, relative to the reference condition's rate"),
    Parameter("z", 2.0, "1", "benchmark convention", "standard errors (over paired trials) a change must exceed"),
    Parameter("min_valence_change", 0.02, "1", "benchmark convention",
              "smallest change of the learned valence index (range -1..1) that counts"),
    Parameter("pairing_larvae", 24, "1",
              "benchmark convention: the issue's standard for a learning effect (significant over 24 larvae); "
              "raised from 8 on 2026-12-01, after the held-out results of the 8-larva benchmark had been seen "
              "(they varied with the benchmark seed), so this change was not blind to the held-out half",
              "virtual larvae per pairing finding"),
], name="biology_benchmark")


class FindingsError(ValueError):
    """A findings table that cannot be read: names the file, the finding and the field."""


class Untestable(Exception):
    """A finding the model cannot test (reason in ``args[0]``)."""


# ----------------------------------------------------------------------------------------
# the table
# ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Finding:
    """One published larval finding (a row of the findings table)."""

    id: str
    circuit: str
    paper: str
    citation: str
    doi: str
    figure: str
    finding: str
    test: str
    expect: str
    testable: bool
    selections: dict = field(default_factory=dict)
    rate: object = None
    untestable_reason: str = ""
    extra: dict = field(default_factory=dict)
    where: str = ""

    def to_dict(self) -> dict:
        """JSON-serialisable form."""
        return {"id": self.id, "circuit": self.circuit, "paper": self.paper, "citation": self.citation,
                "doi": self.doi, "figure": self.figure, "finding": self.finding, "test": self.test,
                "expect": self.expect, "testable": self.testable, "selections": self.selections,
                "rate_hz": None if self.rate is None else float(self.rate / Hz),
                "untestable_reason": self.untestable_reason, **self.extra}


def _check_selection(value, where: str) -> dict:
    if not isinstance(value, dict) or not value:
        raise FindingsError(f"{where}: must be a non-empty table of selection criteria, "
                            f"e.g. {{ name = \"MBON-i1\" }}; got {value!r}")
    for k, v in value.items():
        ok = isinstance(v, (str, bool, int)) or (isinstance(v, list) and v and all(isinstance(x, (str, int))
                                                                                    for x in v))
        if not ok:
            raise FindingsError(f"{where}.{k}: a selection value must be a string, a number, true/false or "
                                f"a list of strings; got {v!r}")
    return dict(value)


def load_findings(path=None) -> list[Finding]:
    """Read and check a findings table (TOML, ``[[finding]]`` tables).

    Parameters
    ----------
    path : path, optional
        Default :data:`FINDINGS`.

    Returns
    -------
    list of Finding

    Raises
    ------
    FindingsError
        Naming the file, the finding (number and id) and the field, for a
        missing or unknown field, an unknown test or direction, a missing
        selection, a bad selection or rate, or a duplicated id.

    (Over 80 lines: the validation of every field of a findings table, each with its own error
    message.)
    """
    path = Path(path) if path is not None else FINDINGS
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FindingsError(f"{path}: no such findings file") from None
    except UnicodeDecodeError as exc:
        raise FindingsError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise FindingsError(f"{path}: cannot read the findings file ({exc.strerror or exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise FindingsError(f"{path}: not valid TOML ({exc})") from None
    rows = data.get("finding")
    if not isinstance(rows, list) or not rows:
        raise FindingsError(f"{path}: no [[finding]] tables")
    out, seen = [], {}
    for k, row in enumerate(rows, start=1):
        if not isinstance(row, dict):
            raise FindingsError(f"{path}: finding {k} must be a table, written [[finding]]; got {row!r}")
        fid = row.get("id", "?")
        where = f"{path}: finding {k} (id {fid!r})"
        if not isinstance(fid, str) or not fid.strip():
            raise FindingsError(f"{where}, field 'id': must be a non-empty string")
        missing = [f for f in REQUIRED if f not in row]
        if missing:
            raise FindingsError(f"{where}: missing field(s) {', '.join(missing)}")
        unknown = sorted(set(row) - set(REQUIRED) - set(OPTIONAL))
        if unknown:
            raise FindingsError(f"{where}: unknown field(s) {', '.join(unknown)} "
                                f"(fields: {', '.join(REQUIRED + OPTIONAL)})")
        if fid in seen:
            raise FindingsError(f"{where}: id {fid!r} is used by finding {seen[fid]} too")
        seen[fid] = k
        for f in ("id", "circuit", "paper", "citation", "doi", "figure", "finding"):
            if not isinstance(row[f], str) or not row[f].strip():
                raise FindingsError(f"{where}, field {f!r}: must be a non-empty string")
        test = row["test"]
        if test not in TESTS:
            raise FindingsError(f"{where}, field 'test': {test!r} is not one of {', '.join(TESTS)}")
        if row["expect"] not in EXPECT[test]:
            raise FindingsError(f"{where}, field 'expect': {row['expect']!r} is not one of "
                                f"{', '.join(EXPECT[test])} for a {test} test")
        if not isinstance(row["testable"], bool):
            raise FindingsError(f"{where}, field 'testable': must be true or false")
        sels = {f: _check_selection(row[f], f"{where}, field {f!r}") for f in SELECTION_FIELDS if f in row}
        if row["testable"]:
            lacking = [f for f in NEEDS[test] if f not in sels]
            if lacking:
                raise FindingsError(f"{where}: a {test} test needs the field(s) {', '.join(lacking)}")
        elif not str(row.get("untestable_reason", "")).strip():
            raise FindingsError(f"{where}, field 'untestable_reason': an untestable finding must say why")
        measure = row.get("measure", "rate")
        if measure not in MEASURES or (measure != "rate" and test != "pairing"):
            raise FindingsError(f"{where}, field 'measure': {measure!r} is not one of {', '.join(MEASURES)} "
                                "(learned_valence for pairing tests only)")
        protocol = row.get("protocol", "paired")
        if protocol not in PAIRING_PROTOCOLS or ("protocol" in row and test != "pairing"):
            raise FindingsError(f"{where}, field 'protocol': {protocol!r} is not one of "
                                f"{', '.join(PAIRING_PROTOCOLS)} (the timing of odour and US, pairing tests only)")
        # testable_since: the date a row became testable, when that was after it joined the table; added: the date
        # a row of a paper already in the split joined the table (after the model of that day was fixed)
        for key in ("testable_since", "added"):
            if key in row:
                try:
                    date.fromisoformat(str(row[key]))
                except ValueError:
                    raise FindingsError(f"{where}, field {key!r}: must be a date written YYYY-MM-DD; "
                                        f"got {row[key]!r}") from None
        if "revised" in row:
            _check_revision(row["revised"], row["expect"], test, f"{where}, field 'revised'")
        rate = None
        if "rate" in row:
            try:
                rate = parse_quantity(row["rate"], f"{where}, field 'rate'")
            except ValueError as exc:
                raise FindingsError(str(exc)) from None
            if rate.dim != Hz.dim or float(rate / Hz) <= 0:
                raise FindingsError(f"{where}, field 'rate': must be a positive rate, e.g. '50 Hz'; "
                                    f"got {row['rate']!r}")
        extra = {f: row[f] for f in ("quote", "source_read", "size", "note", "measure", "protocol", "testable_since",
                                     "added", "revised") if f in row}
        out.append(Finding(id=fid, circuit=row["circuit"], paper=row["paper"], citation=row["citation"],
                           doi=row["doi"], figure=row["figure"], finding=row["finding"], test=test,
                           expect=row["expect"], testable=row["testable"], selections=sels, rate=rate,
                           untestable_reason=str(row.get("untestable_reason", "")), extra=extra,
                           where=where))
    return out


def findings_as_of(findings, day: str) -> list[Finding]:
    """The findings as a fit made on ``day`` (``YYYY-MM-DD``) saw them: a finding whose ``testable_since`` is
    later is untestable then (to reproduce a calibration record made before the finding became testable), and one
    ``added`` later was not in the table yet (left out)."""
    out = []
    for f in findings:
        if str(f.extra.get("added", "")) > str(day):
            continue
        since = str(f.extra.get("testable_since", ""))
        if f.testable and since > str(day):
            f = replace(f, testable=False, untestable_reason=f"testable only since {since}, after {day}")
        out.append(f)
    return out


#: Rows read but not yet scored (``experiments/data/findings_pending.toml``; its header gives the design).
PENDING = DATA / "findings_pending.toml"


def _check_revision(rev, expect: str, test: str, where: str) -> None:
    """Check a row's ``revised`` field: ``{ date = "YYYY-MM-DD", was = <the earlier expect>, why = "..." }``, the
    record of an ``expect`` changed after the row was first scored (a second reading, the passage read again)."""
    if not isinstance(rev, dict):
        raise FindingsError(f"{where}: must be a table {{ date = ..., was = ..., why = ... }}; got {rev!r}")
    odd = sorted(set(rev) ^ {"date", "was", "why"})
    if odd:
        raise FindingsError(f"{where}: needs exactly the keys date, was, why (unknown or missing: {', '.join(odd)})")
    try:
        date.fromisoformat(str(rev["date"]))
    except ValueError:
        raise FindingsError(f"{where}, key 'date': must be a date written YYYY-MM-DD; got {rev['date']!r}") from None
    if rev["was"] not in EXPECT[test] or rev["was"] == expect:
        raise FindingsError(f"{where}, key 'was': the earlier expect must be one of {', '.join(EXPECT[test])} for a "
                            f"{test} test and differ from the row's expect {expect!r}; got {rev['was']!r}")
    if not isinstance(rev["why"], str) or not rev["why"].strip():
        raise FindingsError(f"{where}, key 'why': must say why the expect changed")


def merge_pending(day: str, pending=None, table=None) -> list[str]:
    """Move the rows of the pending file into the findings table, each marked ``added = day``.

    The rows are appended to the table as they are written (text, comments of the pending file's rows
    included, with the comment lines directly above the first row), each with an ``added`` line after its ``id``;
    the pending file keeps its header (the comment lines before the first row, up to the last blank line). Both
    files are checked before either is written: a pending id already in the table, a row of a paper that is not in
    the split, or any error of :func:`load_findings` leaves both unchanged.

    Parameters
    ----------
    day : str
        The date the rows join the table (``YYYY-MM-DD``): the day of the first model run on them.
    pending, table : path, optional
        Default :data:`PENDING` and :data:`FINDINGS`.

    Returns
    -------
    list of str
        The ids that were moved.
    """
    import re
    import tempfile

    from larvasim.util import atomic_write_text

    date.fromisoformat(day)  # ValueError for a malformed day
    pending = Path(pending) if pending is not None else PENDING
    table = Path(table) if table is not None else FINDINGS
    text = pending.read_text(encoding="utf-8")
    start = text.find("[[finding]]")
    if start < 0:
        return []
    head, rows = text[:start], text[start:]
    # comment lines directly above the first row (no blank line between) introduce the rows: they move with them
    lines = head.rstrip("\n").split("\n")
    k = len(lines)
    while k > 0 and lines[k - 1].startswith("#"):
        k -= 1
    if 0 < k < len(lines) and not lines[k - 1].strip():
        head, rows = "\n".join(lines[:k]) + "\n", "\n".join(lines[k:]) + "\n" + rows
    ids = [f.id for f in load_findings(pending)]
    known = load_findings(table)
    clash = sorted(set(ids) & {f.id for f in known})
    if clash:
        raise FindingsError(f"{pending}: id(s) {', '.join(clash)} already in {table}")
    papers = set(load_split(findings=known))
    missing = sorted({f.paper for f in load_findings(pending)} - papers)
    if missing:
        raise FindingsError(f"{pending}: paper(s) {', '.join(missing)} not in the split: add them to the split "
                            "first (a new round)")
    marked = re.sub(r'^(id = "[^"]*")$', rf'\1\nadded = "{day}"', rows, flags=re.M)
    merged = table.read_text(encoding="utf-8").rstrip("\n") + "\n\n" + marked.rstrip("\n") + "\n"
    before = {f.id for f in known if f.extra.get("added") == day}  # rows merged earlier the same day
    with tempfile.TemporaryDirectory() as tmp:  # the merged table must load before anything is written
        probe = Path(tmp) / "findings.toml"
        probe.write_text(merged, encoding="utf-8")
        added = [f.id for f in load_findings(probe) if f.extra.get("added") == day and f.id not in before]
    if sorted(added) != sorted(ids):
        raise FindingsError(f"{pending}: {len(ids)} rows, but {len(added)} were marked added in the merged table")
    atomic_write_text(table, merged)
    atomic_write_text(pending, head.rstrip("\n") + "\n")
    return ids


def make_split(findings, seed: int = 2026) -> dict[str, str]:
    """Split the papers of ``findings`` into a calibration and a held-out half.

    Papers are grouped by the circuit most of their findings belong to;
    within each circuit they are shuffled with ``seed`` and dealt out in
    turn, starting with the half that has fewer findings so far, so that
    both halves cover every circuit and hold about as many findings.

    Returns
    -------
    dict
        ``{paper: "calibration" | "heldout"}``.
    """
    by_paper: dict[str, list[Finding]] = {}
    for f in findings:
        by_paper.setdefault(f.paper, []).append(f)
    circuit_of = {p: pd.Series([f.circuit for f in fs]).mode().iloc[0] for p, fs in by_paper.items()}
    rng = np.random.default_rng(seed)
    counts = dict.fromkeys(HALVES, 0)
    split = {}
    for circuit in sorted(set(circuit_of.values())):
        papers = sorted(p for p in by_paper if circuit_of[p] == circuit)
        for p in (papers[i] for i in rng.permutation(len(papers))):
            half = min(HALVES, key=lambda h: (counts[h], h))
            split[p] = half
            counts[half] += sum(f.testable for f in by_paper[p])
    return dict(sorted(split.items()))


def write_split(split: dict[str, str], path=None, rounds: dict[str, int] | None = None) -> Path:
    """Write a split (atomically) as CSV with columns ``paper,half`` (``paper,half,round`` with ``rounds``)."""
    from larvasim.util import atomic_write_text

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["paper", "half"] + (["round"] if rounds is not None else []))
    for p, h in sorted(split.items()):
        w.writerow([p, h] + ([int(rounds.get(p, 1))] if rounds is not None else []))
    return atomic_write_text(Path(path) if path is not None else SPLIT, buf.getvalue())


def _read_split(path) -> pd.DataFrame:
    path = Path(path) if path is not None else SPLIT
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
    except FileNotFoundError:
        raise FindingsError(f"{path}: no split file (make one with experiments.biology.make_split and "
                            "write_split)") from None
    if list(df.columns) not in (["paper", "half"], ["paper", "half", "round"]):
        raise FindingsError(f"{path}: columns must be paper,half or paper,half,round; got {','.join(df.columns)}")
    bad = df[~df["half"].isin(HALVES)]
    if len(bad):
        raise FindingsError(f"{path}, row {int(bad.index[0]) + 2}, column 'half': {bad['half'].iloc[0]!r} "
                            f"is not one of {', '.join(HALVES)}")
    if "round" in df:
        ok = df["round"].str.fullmatch(r"[1-9][0-9]*")
        if not ok.all():
            r = int(np.flatnonzero(~ok.to_numpy())[0])
            raise FindingsError(f"{path}, row {r + 2}, column 'round': {df['round'].iloc[r]!r} is not a positive "
                                "integer")
        late = df[(df["round"].astype(int) > 1) & (df["half"] != "heldout")]
        if len(late):
            raise FindingsError(f"{path}, row {int(late.index[0]) + 2}: paper {late['paper'].iloc[0]!r} joined the "
                                "split after round 1, so it must be in the held-out half (the model was fitted "
                                "before it was added)")
    return df


def load_split(path=None, findings=None) -> dict[str, str]:
    """The recorded split, ``{paper: half}``; checks that every paper of ``findings`` has a half."""
    df = _read_split(path)
    split = dict(zip(df["paper"], df["half"]))
    if findings is not None:
        lacking = sorted({f.paper for f in findings} - set(split))
        if lacking:
            raise FindingsError(f"{Path(path) if path is not None else SPLIT}: no half for the paper(s) "
                                f"{', '.join(lacking)}; the split is fixed before calibration, so add new papers "
                                "to it by hand, in the held-out half with the next round (and say so)")
    return split


def load_rounds(path=None) -> dict[str, int]:
    """``{paper: round}`` of the recorded split (1 for every paper of a split without a ``round`` column)."""
    df = _read_split(path)
    rounds = df["round"].astype(int) if "round" in df else pd.Series(1, index=df.index)
    return dict(zip(df["paper"], (int(r) for r in rounds)))


# ----------------------------------------------------------------------------------------
# running a finding
# ----------------------------------------------------------------------------------------
def sensory_rates() -> dict:
    """Drive rate of each sensory modality (``models/data/sensory_rates.csv``): ``{modality: Quantity}``."""
    from importlib import resources

    text = resources.files("models").joinpath("data", "sensory_rates.csv").read_text(encoding="utf-8")
    df = pd.read_csv(io.StringIO(text))
    return {m: float(r) * Hz for m, r in zip(df["modality"], df["rate_hz"])}


def _select(connectome, spec: dict, where: str):
    cols = set(connectome.neurons.columns)
    unknown = [k for k in spec if k not in _SELECT_KEYWORDS and k not in cols]
    if unknown:
        raise FindingsError(f"{where}: unknown selection key(s) {', '.join(unknown)} (use "
                            f"{', '.join(_SELECT_KEYWORDS)} or a column of the neuron table)")
    from connectomes.errors import SelectionError

    # a cell type, modality or side the data do not know is a typo in the table (an error); a neuron
    # name the data do not have is a neuron absent from this connectome (the finding is untestable)
    for k in _VOCABULARY_KEYWORDS:
        if k in spec:
            try:
                connectome.select(**{k: spec[k]}, allow_empty=True)
            except SelectionError as exc:
                raise FindingsError(f"{where}: {exc}") from None
    try:
        sel = connectome.select(**spec, allow_empty=True)
    except SelectionError as exc:  # a name the data do not have: the finding cannot be tested here
        raise Untestable(f"{where.rsplit(', ', 1)[-1]}: {exc}") from None
    if len(sel.indices) == 0:
        raise Untestable(f"no neuron of {connectome.name} matches {where.rsplit(', ', 1)[-1]} = {spec}")
    return sel


def _drive(connectome, sel, rate, onset, offset, label: str):
    """A drive of ``sel``: sensory neurons at their modality's rate, others at the activation rate."""
    n = connectome.neurons.iloc[sel.indices]
    if rate is None:
        if (n["celltype"] == "sensory").all():
            table = sensory_rates()
            mods = [m for mm in n["modality"] for m in str(mm).split(";") if m in table]
            rate = max((table[m] for m in mods), default=BENCHMARK_PARAMETERS["activation_rate"].value)
        else:
            rate = BENCHMARK_PARAMETERS["activation_rate"].value
    cls = PoissonDrive if (n["celltype"] == "sensory").all() else Activation
    return cls(sel, rate, start=onset, stop=offset, name=label)


def _undriven(sel, driven, f: Finding, field_name: str):
    """The readout without the neurons the finding drives (their rate is the drive's, not a prediction)."""
    from connectomes.selection import Selection

    keep = np.setdiff1d(sel.indices, driven)
    if len(keep) == 0:
        raise Untestable(f"every neuron of {field_name} is driven by the stimulus or background of {f.id}")
    return Selection(sel.connectome, keep, sel.description)


@dataclass
class _Plan:
    """The conditions a finding needs, by key, and how to read them."""

    conditions: dict            # key -> list of stimuli
    readouts: dict              # name -> Selection
    compare: tuple              # (condition A, readout A, condition B, readout B)


def _plan(f: Finding, c, p) -> _Plan:
    onset, offset = p["onset"].value, p["offset"].value
    sel = {k: _select(c, v, f"{f.where}, field {k!r}") for k, v in f.selections.items()}
    bg = [_drive(c, sel["background"], None, onset, offset, "background")] if "background" in sel else []
    stim = [_drive(c, sel["stimulus"], f.rate, onset, offset, "stimulus")]
    driven = np.concatenate([as_indices(s.target) for s in bg + stim])
    reads = {k: _undriven(sel[k], driven, f, k) for k in ("readout", "readout_b") if k in sel}
    if f.test == "response":
        return _Plan({"A": bg + stim, "B": bg}, reads, ("A", "readout", "B", "readout"))
    if f.test == "silencing":
        cut = [Silence(sel["silence"], mode="outgoing")]
        return _Plan({"A": bg + stim + cut, "B": bg + stim}, reads, ("A", "readout", "B", "readout"))
    if f.test == "compare":
        return _Plan({"A": bg + stim}, reads, ("A", "readout", "A", "readout_b"))
    raise ValueError(f"no plan for a {f.test} test")  # pairing is run by _pairing


def _condition_key(stimuli) -> str:
    parts = []
    for s in stimuli:
        d = s.to_dict()
        d["target"] = hashlib.sha1(as_indices(s.target).astype(np.int64).tobytes()).hexdigest()
        d.pop("indices", None)
        parts.append(repr(sorted(d.items())))
    return hashlib.sha1("|".join(sorted(parts)).encode()).hexdigest()


def _window_rates(res, indices, window_ms) -> np.ndarray:
    """Mean rate (Hz) of ``indices`` in ``window_ms`` per trial."""
    a, b = window_ms
    t, nodes, times = res.spike_trials, res.spike_nodes, res.spike_times
    keep = np.isin(nodes, indices) & (times >= a) & (times < b)
    counts = np.bincount(t[keep], minlength=res.n_trials).astype(float)
    return counts / (len(indices) * (b - a) / 1000.0)


def _decide(diff: np.ndarray, ref: float, p, floor: float | None = None) -> tuple[str, float, float]:
    """Direction of a paired difference: ``increase``, ``decrease`` or ``no_change``.

    ``floor`` is the smallest change that counts (default ``min_effect_hz`` in Hz).
    """
    diff = diff[np.isfinite(diff)]
    if len(diff) == 0:
        return "no_change", float("nan"), float("nan")
    mean = float(np.mean(diff))
    se = float(np.std(diff, ddof=1) / np.sqrt(len(diff))) if len(diff) > 1 else 0.0
    floor = float(p["min_effect_hz"].value / Hz) if floor is None else floor
    return direction(mean, se, ref, floor, float(p["min_relative"].value), float(p["z"].value)), mean, se


def direction(mean: float, se: float, ref: float, floor: float, relative: float, z: float) -> str:
    """The change criterion: ``increase``/``decrease`` when ``|mean|`` reaches ``floor``, ``relative`` x
    ``|ref|`` and ``z`` standard errors, else ``no_change`` (also for a mean that is NaN or 0)."""
    need = max(floor, relative * abs(ref), z * se)
    if abs(mean) >= need and mean != 0:
        return "increase" if mean > 0 else "decrease"
    return "no_change"


def _pairing(f: Finding, network, sel, p, seed: int, cache: dict, learning_options=None):
    """Effect of odour + US pairing on the readout (per larva), with the learning protocol.

    The finding's ``protocol`` (default ``"paired"``; e.g. ``"backward"``: the
    odour at the US's offset) sets the timing of odour and US. The
    conditioning network has ``network``'s neuron model, signs and synapse
    types, plus :class:`models.plasticity.DopaminePlasticity` (the learning
    experiments' constants, or ``learning_options`` such as ``{"eta": 0.01}``).
    """
    from . import learning

    name = f.extra.get("protocol", "paired")
    protocol = learning.make_protocol(name)
    key = (name, tuple(sel["us"].indices))
    if key not in cache:  # findings with the same protocol and US share one conditioning run
        nkey = ("network", protocol.windows)  # protocols with the same plastic windows share a network
        if nkey not in cache:
            cache[nkey] = learning.make_network(
                network.connectome, protocol, model=network.model, signs=network.sign_spec,
                synapse_types=network.synapse_types, device=network.device, **(learning_options or {}))
        cache[key] = learning.run_protocol(name, network.connectome, n_larvae=int(p["pairing_larvae"].value),
                                           seed=seed, dan=sel["us"], network=cache[nkey], progress=False)
    run = cache[key]
    if f.extra.get("measure") == "learned_valence":
        v = run.valence_index()  # NaN for a larva whose MBONs of known valence never fire: no prediction
        pre = np.abs(v["lvi_pre"].to_numpy(dtype=float))
        return v["delta"].to_numpy(dtype=float), float(np.mean(pre[np.isfinite(pre)])) if np.isfinite(pre).any() else 0.0
    r = run.responses("MBON")
    r = r[r["neuron"].isin(sel["readout"].indices)]
    if r.empty:
        raise Untestable(f"the readout of {f.id} holds no MBON (pairing reads MBON responses)")
    g = r.groupby("larva")[["pre_cs+", "pre_cs-", "test_cs+", "test_cs-"]].mean()
    diff = ((g["test_cs+"] - g["pre_cs+"]) - (g["test_cs-"] - g["pre_cs-"])).to_numpy()
    return diff, float(g["pre_cs+"].mean())


# ----------------------------------------------------------------------------------------
# scoring
# ----------------------------------------------------------------------------------------
@dataclass
class Score:
    """Per-finding predictions of one model, with accuracy summaries."""

    table: pd.DataFrame
    metadata: dict

    def accuracy(self, by: str | None = None) -> pd.DataFrame:
        """Hits / testable findings overall (``by=None``), per ``"half"`` or per ``"circuit"``."""
        t = self.table
        groups = [("all", t)] if by is None else list(t.groupby(by, sort=True))
        rows = []
        for key, g in groups:
            tested = g[g["status"].isin(("hit", "miss"))]
            rows.append({by or "set": key, "findings": len(g), "testable": len(tested),
                         "untestable": int((g["status"] == "untestable").sum()),
                         "hits": int((tested["status"] == "hit").sum()),
                         "accuracy": float((tested["status"] == "hit").mean()) if len(tested) else float("nan")})
        return pd.DataFrame(rows)

    def hits(self) -> dict:
        """The scored findings (hit or miss) as ``{"hits": int, "n": int, "hit_ids": list of str}``."""
        t = self.table[self.table["status"].isin(("hit", "miss"))]
        return {"hits": int((t["status"] == "hit").sum()), "n": int(len(t)),
                "hit_ids": t.loc[t["status"] == "hit", "id"].tolist()}

    def half(self, name: str) -> float:
        """Accuracy on one half (``"calibration"`` or ``"heldout"``)."""
        a = self.accuracy("half")
        row = a[a["half"] == name]
        return float(row["accuracy"].iloc[0]) if len(row) else float("nan")


def score(network, findings=None, *, halves=HALVES, seed: int = 0, split=None,
          parameters: ParameterSet = BENCHMARK_PARAMETERS, pairing: bool = True,
          learning_options: dict | None = None) -> Score:
    """Run every testable finding of ``halves`` on ``network`` and score the predictions.

    Parameters
    ----------
    network : sim.Network
        The model to score (its neuron model, signs and device are used as they are).
    findings : list of Finding or path, optional
        Default: :data:`FINDINGS`.
    halves : sequence of str
        Which halves to run (``("calibration",)`` while calibrating).
    seed : int
        Seed of the input noise (conditions of one finding share trial seeds).
    split : dict, optional
        ``{paper: half}``; default :func:`load_split`.
    parameters : ParameterSet
        Benchmark settings (default :data:`BENCHMARK_PARAMETERS`).
    pairing : bool
        Run the pairing findings (the conditioning protocol, slower).
    learning_options : dict, optional
        Plasticity constants for the pairing findings (passed to
        :func:`experiments.learning.make_network`, e.g. ``{"eta": 0.01}``);
        default the learning experiments' own.

    Returns
    -------
    Score

    (Over 80 lines: a long docstring; the body plans, runs and scores the findings in three marked
    steps.)
    """
    if findings is None or isinstance(findings, (str, Path)):
        findings = load_findings(findings)
    split = load_split(findings=findings) if split is None else split
    c, p = network.connectome, parameters
    window = (float(p["onset"].value / ms), float(p["offset"].value / ms))
    trials = int(p["trials"].value)
    plans, rows, pairing_runs = {}, [], {}
    for f in findings:
        row = {"id": f.id, "circuit": f.circuit, "paper": f.paper, "half": split.get(f.paper, "?"),
               "test": f.test, "expect": f.expect, "predicted": "", "effect_hz": np.nan, "se_hz": np.nan,
               "reference_hz": np.nan, "status": "", "reason": ""}
        rows.append(row)
        if not f.testable:
            row.update(status="untestable", reason=f.untestable_reason)
            continue
        if row["half"] not in halves:
            row["status"] = "skipped"
            continue
        try:
            if f.test == "pairing":
                if not pairing:
                    row["status"] = "skipped"
                    continue
                sel = {k: _select(c, v, f"{f.where}, field {k!r}") for k, v in f.selections.items()}
                diff, ref = _pairing(f, network, sel, p, seed, pairing_runs, learning_options)
                _score_row(row, f, diff, ref, p)
            else:
                plans[f.id] = _plan(f, c, p)
        except Untestable as exc:
            row.update(status="untestable", reason=str(exc))
    # run each distinct condition once (all trials), then read every finding from the runs
    conds = {}
    for fid, pl in plans.items():
        for name, stims in pl.conditions.items():
            conds.setdefault(_condition_key(stims), stims)
    duration = p["duration"].value
    runs = {key: network.run(stims, duration=duration, trials=trials, seed=seed, progress=False)
            for key, stims in conds.items()}
    for row in rows:
        pl = plans.get(row["id"])
        if pl is None:
            continue
        f = next(x for x in findings if x.id == row["id"])
        ca, ra, cb, rb = pl.compare
        res_a, res_b = runs[_condition_key(pl.conditions[ca])], runs[_condition_key(pl.conditions[cb])]
        a = _window_rates(res_a, pl.readouts[ra].indices, window)
        b = _window_rates(res_b, pl.readouts[rb].indices, window)
        _score_row(row, f, a - b, float(np.mean(b)), p)
    table = pd.DataFrame(rows)
    meta = {"network": network.describe(), "seed": int(seed), "halves": list(halves),
            "benchmark_parameters": p.to_dict(), "n_conditions": len(conds), "trials": trials}
    return Score(table, meta)


def _score_row(row: dict, f: Finding, diff, ref: float, p) -> None:
    floor = float(p["min_valence_change"].value) if f.extra.get("measure") == "learned_valence" else None
    direction, mean, se = _decide(np.asarray(diff, dtype=float), ref, p, floor)
    if f.test == "compare":
        direction = "greater" if direction == "increase" else ("less" if direction == "decrease" else "no_change")
    row.update(predicted=direction, effect_hz=mean, se_hz=se, reference_hz=ref,
               status="hit" if direction == f.expect else "miss")


def explain(network, f: Finding, *, seed: int = 0, by: str = "celltype",
            parameters: ParameterSet = BENCHMARK_PARAMETERS, learning_options: dict | None = None) -> dict:
    """Why the model predicts what it does for one finding: for a rate finding the readout's synaptic input, by
    presynaptic group, in the finding's conditions (:mod:`sim.analysis.inputs`); for a pairing finding what
    the conditioning did to each MBON type.

    The finding's conditions are run as :func:`score` runs them (same stimuli, trials and seed, so the same
    spikes and the same effect). For a response or silencing finding the table is the change of the drive
    onto the readout from the reference condition (no stimulus; intact) to the test condition (stimulus;
    silenced); for a compare finding it is the drive onto each of the two readouts in the one condition.
    A pairing finding's readout moves through plasticity, so its table is per MBON type instead: the
    conditioning protocol is run as :func:`score` runs it, and each MBON type's learning effect
    (``(test_cs+ - pre_cs+) - (test_cs- - pre_cs-)``, Hz, mean over the virtual larvae), its sign in the
    learned valence index and its share of the index's change (``sign x effect / the index's denominator``
    before training: to first order the index's change is their sum) say which MBONs moved the readout.

    Parameters
    ----------
    network : sim.Network
        A current-based model (``larval_lif``, ``current_lif``).
    f : Finding
        A testable finding.
    seed : int
        Benchmark seed (as :func:`score`).
    by : str
        Column of the neuron table that groups the presynaptic neurons (``"celltype"``, ``"name"``).
    parameters : ParameterSet
    learning_options : dict, optional
        Plasticity constants of a pairing finding's conditioning (as :func:`score`).

    Returns
    -------
    dict
        ``id``, ``test``, ``expect``, ``predicted``, ``effect_hz``, ``reference_hz`` (as in the score table),
        ``rate_a_hz``, ``rate_b_hz`` (mean rates of the two compared readings), ``readouts`` (neurons per
        readout), and ``table``: for response and silencing :func:`sim.analysis.inputs.input_change` (reference
        to test), for compare the two breakdowns side by side (``drive_a_mv``, ``drive_b_mv``,
        ``difference_mv`` = a - b per group); for pairing one row per MBON type (``mbon``, ``sign``,
        ``in_readout``, ``rate_hz`` before training, ``effect_hz``, ``index_change``), largest first by
        ``index_change`` for a learned-valence finding, otherwise the readout's MBONs first, then by
        ``effect_hz``. ``paths``: :func:`wiring_paths` from the stimulated (response, compare) or silenced
        (silencing) neurons to the readout (for compare a dict with ``"readout A"`` and ``"readout B"``); absent
        for pairing findings.
    """
    from sim.analysis.inputs import input_breakdown, input_change, side_by_side

    if not f.testable:
        raise ValueError(f"{f.where}: {f.id} is not testable by a brain-only model ({f.untestable_reason})")
    if f.test == "pairing":
        return _explain_pairing(network, f, seed=seed, parameters=parameters, learning_options=learning_options)
    c, p = network.connectome, parameters
    pl = _plan(f, c, p)
    window = (p["onset"].value, p["offset"].value)
    w_ms = (float(window[0] / ms), float(window[1] / ms))
    runs = {k: network.run(s, duration=p["duration"].value, trials=int(p["trials"].value), seed=seed,
                           progress=False) for k, s in pl.conditions.items()}
    ca, ra, cb, rb = pl.compare
    a = _window_rates(runs[ca], pl.readouts[ra].indices, w_ms)
    b = _window_rates(runs[cb], pl.readouts[rb].indices, w_ms)
    row = {"test": f.test, "expect": f.expect}
    _score_row(row, f, a - b, float(np.mean(b)), p)
    if f.test == "compare":
        ta = input_breakdown(network, runs[ca], pl.readouts[ra], by=by, window=window)
        tb = input_breakdown(network, runs[cb], pl.readouts[rb], by=by, window=window)
        table = side_by_side(ta, tb, names=("drive_a_mv", "drive_b_mv"), difference="difference_mv")
        table.attrs["total_difference_mv"] = float(table["difference_mv"].sum())
        stim = _select(c, f.selections["stimulus"], f"{f.where}, field 'stimulus'")
        paths = {"readout A": wiring_paths(network, stim, pl.readouts[ra]),
                 "readout B": wiring_paths(network, stim, pl.readouts[rb])}
    else:
        table = input_change(network, runs[cb], runs[ca], pl.readouts[ra], by=by, window=window)
        key = "silence" if f.test == "silencing" else "stimulus"
        paths = wiring_paths(network, _select(c, f.selections[key], f"{f.where}, field {key!r}"), pl.readouts[ra])
    return {"id": f.id, "test": f.test, "expect": f.expect, "predicted": row["predicted"],
            "effect_hz": row["effect_hz"], "reference_hz": row["reference_hz"], "status": row["status"],
            "rate_a_hz": float(np.mean(a)), "rate_b_hz": float(np.mean(b)),
            "readouts": {k: len(v.indices) for k, v in pl.readouts.items()}, "table": table, "paths": paths}


#: Chains :func:`wiring_paths` lists: at most this many links, each at least this share of its target's input,
#: and at least this strength (product of the shares) per chain.
WIRING_PATHS = {"hops": 3, "threshold": 0.01, "min_strength": 1e-4}


def wiring_paths(network, source, readout):
    """The chains of strong connections from ``source`` (a finding's stimulus or silenced neurons) to
    ``readout`` in the network's wiring, by cell type (:func:`sim.analysis.pathways.pathway_summary` with the
    network's synapse types and signs, :data:`WIRING_PATHS`); a string saying why when they are too many to
    list. A graph measure beside :func:`explain`'s input table: which routes exist, not how strongly they
    drive in a run."""
    from sim.analysis.pathways import pathway_summary, pathways

    try:
        p = pathways(network.connectome, source, readout, synapse_types=network.synapse_types,
                     signs=network.signs, **WIRING_PATHS)
    except ValueError as exc:
        return str(exc)
    s = pathway_summary(p)
    s.attrs.update(p.attrs)
    return s


def _explain_pairing(network, f: Finding, *, seed: int, parameters: ParameterSet,
                     learning_options: dict | None = None) -> dict:
    """:func:`explain` of a pairing finding: what the conditioning protocol did to each MBON type."""
    from models.plasticity import mbon_valence

    c, p = network.connectome, parameters
    sel = {k: _select(c, v, f"{f.where}, field {k!r}") for k, v in f.selections.items()}
    cache = {}
    diff, ref = _pairing(f, network, sel, p, seed, cache, learning_options)
    row = {"test": f.test, "expect": f.expect}
    _score_row(row, f, diff, ref, p)
    run = next(v for k, v in cache.items() if k[0] != "network")
    r = run.responses("MBON")
    v = mbon_valence(run.compartments) if run.compartments is not None else pd.Series(dtype=int)
    r["sign"] = r["name"].map(v).fillna(0).astype(int)
    r["in_readout"] = r["neuron"].isin(sel["readout"].indices)
    r["effect"] = (r["test_cs+"] - r["pre_cs+"]) - (r["test_cs-"] - r["pre_cs-"])
    r["rate"] = (r["pre_cs+"] + r["pre_cs-"]) / 2
    known = r[r["sign"] != 0]
    den = known.groupby("larva")[["pre_cs+", "pre_cs-"]].sum().sum(axis=1)  # the index's denominator, per larva
    r["share"] = r["sign"] * r["effect"] / r["larva"].map(den).replace(0, np.nan)
    per_type = r.groupby("name", sort=True).agg(sign=("sign", "first"), in_readout=("in_readout", "any"),
                                                rate_hz=("rate", "mean"), effect_hz=("effect", "mean"))
    # each larva's summed share of a type (both sides), averaged over larvae: adds up to the index's change
    per_type["index_change"] = r.groupby(["name", "larva"])["share"].sum().groupby("name").mean().fillna(0.0)
    table = per_type.reset_index().rename(columns={"name": "mbon"})
    if f.extra.get("measure") == "learned_valence":
        table = table.sort_values("index_change", key=np.abs, ascending=False, kind="stable")
    else:  # the readout's MBONs first
        table = table.assign(_o=-table["effect_hz"].abs() - 1e9 * table["in_readout"]).sort_values(
            "_o", kind="stable").drop(columns="_o")
    table = table.reset_index(drop=True)
    table.attrs["index_change"] = float(table["index_change"].sum())
    return {"id": f.id, "test": f.test, "expect": f.expect, "predicted": row["predicted"],
            "effect_hz": row["effect_hz"], "reference_hz": row["reference_hz"], "status": row["status"],
            "measure": f.extra.get("measure", "mbon"), "protocol": f.extra.get("protocol", "paired"),
            "larvae": int(run.n_larvae), "readouts": {"readout": len(sel["readout"].indices)}, "table": table}


def explain_text(e: dict, f: Finding, *, rows: int = 8) -> str:
    """Plain-text reading of :func:`explain`'s result (the command line prints it)."""
    t = e["table"]
    unit = "" if e.get("measure") == "learned_valence" else " Hz"
    head = (f"{f.id} ({f.test}; published: {f.expect}): the model predicts {e['predicted']} "
            f"({e['status']}), effect {e['effect_hz']:+.3g}{unit}")
    if f.test == "pairing":
        readout = (" (the readout is the learned valence index):" if e.get("measure") == "learned_valence" else
                   "; in_readout marks the finding's readout:")
        what = (f"{e['protocol']} conditioning, {e['larvae']} virtual larvae. Per MBON type: sign in the learned "
                "valence index, rate before training (Hz), learning effect ((test - pre) CS+ minus CS-, Hz) and "
                "share of the index's change" + readout)
        cols = ["mbon", "sign", "in_readout", "rate_hz", "effect_hz", "index_change"]
        body = t[cols].head(rows).to_string(index=False, float_format=lambda x: f"{x:+.3f}")
        more = f"\n({len(t) - rows} smaller rows not shown)" if len(t) > rows else ""
        return f"{head}\n{what}\n{body}{more}\nsummed share of the index's change {t.attrs['index_change']:+.3f}"
    if f.test == "compare":
        what = (f"readout A {e['rate_a_hz']:.2f} Hz, readout B {e['rate_b_hz']:.2f} Hz. Synaptic drive onto each "
                "(tau_syn x sum w r, mV, mean over its neurons), by presynaptic group:")
        cols = ["group", "sign", "drive_a_mv", "drive_b_mv", "difference_mv"]
        tail = f"net difference {t.attrs['total_difference_mv']:+.2f} mV"
    else:
        ref, test = ("intact", "silenced") if f.test == "silencing" else ("no stimulus", "stimulus")
        what = (f"readout {e['rate_b_hz']:.2f} Hz ({ref}) -> {e['rate_a_hz']:.2f} Hz ({test}). Synaptic drive "
                f"onto it (tau_syn x sum w r, mV, mean over its {e['readouts']['readout']} neurons), {ref} -> "
                f"{test}, largest changes first:")
        cols = ["group", "sign", "drive_before_mv", "drive_after_mv", "change_mv"]
        tail = f"net change {t.attrs['total_change_mv']:+.2f} mV"
    body = t[cols].head(rows).to_string(index=False, float_format=lambda x: f"{x:+.2f}")
    more = f"\n({len(t) - rows} smaller rows not shown)" if len(t) > rows else ""
    paths = e.get("paths")
    if isinstance(paths, dict):  # compare: one paragraph per readout
        return f"{head}\n{what}\n{body}{more}\n{tail}" + "".join(
            _paths_text(v, f, rows=min(rows, 6), readout=k) for k, v in paths.items())
    return f"{head}\n{what}\n{body}{more}\n{tail}" + _paths_text(paths, f, rows=min(rows, 6))


def _paths_text(paths, f: Finding, *, rows: int, readout: str = "the readout") -> str:
    """:func:`explain_text`'s paragraph on :func:`wiring_paths` ('' where there are none: pairing findings)."""
    if paths is None:
        return ""
    what = "silenced neurons" if f.test == "silencing" else "stimulated neurons"
    w = WIRING_PATHS
    head = (f"\n\nChains in the wiring from the {what} to {readout} (sim.analysis.pathways: at most {w['hops']} "
            f"links, each at least {w['threshold']:.0%} of its target's input, strength = product of the links' "
            f"shares, at least {w['min_strength']:g}; excitatory / inhibitory: strength of the chains of that sign "
            "under the model's signs; a graph measure, not a rate):")
    if isinstance(paths, str):
        return f"{head}\n{paths}"
    if paths.empty:
        return f"{head}\nnone"
    n = int(paths.attrs.get("targets", 0))
    total = float(paths["strength"].sum())
    head += (f"\nsummed strength {total:.3g} over {n} target neuron{'s' if n != 1 else ''} "
             f"({total / n:.3g} per target neuron)" if n else "")
    body = paths.drop(columns=["strongest"]).head(rows).to_string(
        index=False, formatters={"strength": "{:.2e}".format, "share": "{:.1%}".format,
                                 "excitatory": "{:.2e}".format, "inhibitory": "{:.2e}".format})
    more = f"\n({len(paths) - rows} weaker chains not shown)" if len(paths) > rows else ""
    return f"{head}\n{body}{more}"
