"""The folder of a parameter sweep: one file per completed run, written atomically, and a table.

Layout of a sweep folder::

    SWEEP/
      sweep.json            the sweep: base run file, parameters, units, every planned run
                            (index, run id, parameter values, seed); rewritten atomically
                            whenever the sweep is (re)started
      runs/<run_id>.json    one per completed run, ok or failed: parameters, seed, the
                            resolved run file, status, error and traceback, readouts
                            (rates by cell type and per output neuron), timings, worker
      spikes/<run_id>.h5    the run's spikes (sim.Results file), only with spikes=True;
                            written before runs/<run_id>.json
      table.csv             one row per planned run (assembled from runs/); read it with
                            pandas.read_csv("SWEEP/table.csv")
      .lock                 held (flock) by the process running the sweep

A run is *completed* exactly when ``runs/<run_id>.json`` exists and reads as a run
record. Every file is written to a temporary name in the same folder and renamed
into place (``os.replace``, atomic on POSIX), so killing the sweep or a worker
at any moment leaves either the complete file or none. ``sweep.json``, the
table and the records of runs with spikes are also flushed to disk (fsync)
before the rename; the other run records are not (it cost about 2 ms per run
in the sweep process): a power cut may lose the last of them, or leave them
unreadable, and those runs are run again. Temporary leftovers
(``.*.tmp``) are removed when the sweep is next started. The run id is a hash
of the run's resolved configuration (base + parameters + seed) and its
readout settings, so a re-started sweep finds its completed runs whatever
order they ran in, and a changed sweep re-uses the runs it shares with the
old one.
"""
from __future__ import annotations

import contextlib
import json
import math
import os
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["SweepStore", "SweepLockedError", "atomic_write_text", "load_sweep"]

#: Columns of the table besides parameters and readouts, in this order.
LEAD_COLUMNS = ("run", "run_id")
STATUS_COLUMNS = ("seed", "status", "error", "n_spikes")
TIMING_COLUMNS = ("built", "build_s", "sim_s", "binary_s", "task_s", "cpu_s", "worker")


class SweepLockedError(RuntimeError):
    """Another process is running this sweep (its folder is locked)."""


# one atomic writer for all of larvasim (kept importable from here)
from larvasim.util import atomic_write_text  # noqa: E402


def _json_default(o):
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    return str(o)


def dumps(obj, compact: bool = False) -> str:
    """``obj`` as JSON: indented for reading, or ``compact`` (one line, written by json's C encoder,
    several times faster: a run record holds a readout per output neuron)."""
    if compact:
        return json.dumps(obj, separators=(",", ":"), default=_json_default, allow_nan=True)
    return json.dumps(obj, indent=1, sort_keys=False, default=_json_default, allow_nan=True)


class SweepStore:
    """The folder of one sweep (see the module docstring for the layout)."""

    def __init__(self, path):
        self.path = Path(path)
        self.runs_dir = self.path / "runs"
        self.spikes_dir = self.path / "spikes"
        self._lock_fd = None

    # -- locking -------------------------------------------------------------------------
    @contextlib.contextmanager
    def lock(self):
        """Hold the sweep's lock (one running process per folder); released on exit or death."""
        self.path.mkdir(parents=True, exist_ok=True)
        self.runs_dir.mkdir(exist_ok=True)
        fd = os.open(self.path / ".lock", os.O_CREAT | os.O_RDWR, 0o644)
        try:
            try:
                import fcntl

                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise SweepLockedError(f"{self.path}: another process is running this sweep") from None
            except ImportError:  # pragma: no cover - no flock (Windows): no protection
                pass
            self._clean_temporaries()
            yield self
        finally:
            os.close(fd)  # releases the flock

    def _clean_temporaries(self):
        for folder in (self.path, self.runs_dir, self.spikes_dir):
            if folder.is_dir():
                for tmp in folder.glob(".*.tmp"):
                    tmp.unlink(missing_ok=True)

    # -- the sweep -----------------------------------------------------------------------
    def write_spec(self, spec: dict) -> None:
        atomic_write_text(self.path / "sweep.json", dumps(spec))

    def read_spec(self) -> dict:
        p = self.path / "sweep.json"
        if not p.is_file():
            raise FileNotFoundError(f"{self.path} is not a sweep folder (no sweep.json)")
        return json.loads(p.read_text())

    # -- runs ----------------------------------------------------------------------------
    def run_path(self, run_id: str) -> Path:
        return self.runs_dir / f"{run_id}.json"

    def spikes_path(self, run_id: str) -> Path:
        return self.spikes_dir / f"{run_id}.h5"

    def completed(self) -> dict[str, dict]:
        """Records of the completed runs, by run id (unreadable files, and files that are not a run record
        with a status, are skipped: those runs are run again)."""
        out = {}
        if not self.runs_dir.is_dir():
            return out
        for p in self.runs_dir.glob("*.json"):
            if p.name.startswith("."):
                continue
            try:
                rec = json.loads(p.read_text())
            except (OSError, ValueError):  # cannot happen with atomic writes; be lenient anyway
                continue
            # a record of another shape (edited, or from another tool) is not a completed run: run it again
            if not isinstance(rec, dict) or rec.get("status") not in ("ok", "error"):
                continue
            out[p.stem] = rec
        return out

    def write_run(self, record: dict, results=None) -> None:
        """Store one completed run: its spikes first (if given), then its record."""
        if results is not None:
            self.spikes_dir.mkdir(parents=True, exist_ok=True)
            results.save(self.spikes_path(record["run_id"]))
            record["spikes"] = str(Path("spikes") / f"{record['run_id']}.h5")
        # Not fsynced unless it points at a spikes file: a record lost or cut by a power failure is unreadable
        # or absent, and :meth:`completed` then runs that run again. The fsyncs (file and folder) took about
        # 2 ms of every run's ~15 ms in the sweep process and held up the dispatch of the next run.
        atomic_write_text(self.run_path(record["run_id"]), dumps(record, compact=True), durable=results is not None)

    # -- the table -----------------------------------------------------------------------
    def assemble(self, spec: dict | None = None, records: dict | None = None) -> pd.DataFrame:
        """The table: one row per planned run of ``spec`` (default: sweep.json), in plan order.

        Runs not completed yet have ``status = "missing"``.
        """
        spec = spec if spec is not None else self.read_spec()
        records = records if records is not None else self.completed()
        params = list(spec["parameters"])
        rows, readout_cols = [], {}
        for run in spec["runs"]:
            row = {"run": run["index"], "run_id": run["run_id"]}
            for p in params:
                row[p] = _cell(run["values"].get(p))
            rec = records.get(run["run_id"])
            row["seed"] = run["seed"]
            if rec is None:
                row["status"] = "missing"
            else:
                row["status"] = rec.get("status")
                row["error"] = rec.get("error")
                row["n_spikes"] = rec.get("n_spikes")
                for k, v in (rec.get("readouts") or {}).items():
                    readout_cols.setdefault(k, None)
                    row[k] = v
                t = rec.get("timing") or {}
                row["built"] = t.get("built")
                for k in ("build_s", "sim_s", "binary_s", "task_s", "cpu_s"):
                    row[k] = t.get(k)
                row["worker"] = rec.get("worker")
            rows.append(row)
        cols = (list(LEAD_COLUMNS) + params + list(STATUS_COLUMNS) + list(readout_cols)
                + list(TIMING_COLUMNS))
        df = pd.DataFrame(rows, columns=cols)
        for c in readout_cols:
            df[c] = pd.to_numeric(df[c], errors="coerce")
        df.attrs["parameters"] = params
        df.attrs["units"] = dict(spec.get("units", {}))
        return df

    def write_table(self, df: pd.DataFrame) -> Path:
        return atomic_write_text(self.path / "table.csv", df.to_csv(index=False))


def _cell(v):
    """A parameter value as a table cell: numbers as they are, lists and tables as JSON."""
    if isinstance(v, (list, dict)):
        return json.dumps(v, sort_keys=True)
    if isinstance(v, float) and math.isnan(v):
        return None
    return v


def load_sweep(path, *, assemble: bool = True) -> pd.DataFrame:
    """The table of a sweep folder (assembled from its run files, so it is current mid-sweep).

    ``assemble=False`` reads ``table.csv`` as written at the end of the last
    run of the sweep (the same as ``pandas.read_csv(path / "table.csv")``).
    ``df.attrs["parameters"]`` lists the swept parameters and
    ``df.attrs["units"]`` their units.
    """
    store = SweepStore(path)
    spec = store.read_spec()
    if assemble:
        return store.assemble(spec)
    df = pd.read_csv(store.path / "table.csv")
    df.attrs["parameters"] = list(spec["parameters"])
    df.attrs["units"] = dict(spec.get("units", {}))
    return df
