"""Results of a simulation: the spikes of several trials, and how to analyse and keep them.

A :class:`Results` holds every spike of ``n_trials`` trials of one simulated
network (trial, neuron index, time in ms since the trial started), the neuron
table of the network, the simulation's duration and time step, a
JSON-serialisable ``metadata`` dict (model parameters, stimuli, seed,
connectome provenance, versions, ...) and, optionally, binned population rates
and a few neurons' recorded state variables.

Conventions
-----------
* **Times** are milliseconds. Wherever a time is passed (``window``,
  ``after``, ``bin``, ``duration``, ``dt``), a Brian2 quantity such as
  ``200*ms`` is accepted; a plain number means milliseconds.
* **Windows** are half-open, ``[start, stop)``; a window that ends at the end
  of the trial also counts a spike at exactly ``duration``. The default
  window is the whole trial, ``[0, duration]``.
* **Neurons** are identified by their *node id*: the row of
  :attr:`connectomes.Connectome.neurons` (the index of the ``neurons`` table
  passed in). Rates are in Hz. Neurons whose spikes were not recorded have
  rate ``NaN``, never 0.

Files
-----
:meth:`Results.save` writes one HDF5 file, atomically (a temporary file in
the target's folder, renamed into place; a failure leaves nothing behind and
does not touch an existing file). The spikes use the SONATA spike layout, so
that SONATA tools can read them; larvasim adds the trial of every spike::

    /                         attrs: format="larvasim-results", format_version,
                                     magic=0x0A7A, version=[0, 1] (SONATA),
                                     population, n_trials, duration_ms, dt_ms,
                                     metadata (JSON text), larvasim_version
    /spikes/<population>      attrs: sorting="by_time"
        timestamps            float64 [n_spikes], attrs: units="ms"
        node_ids              uint64  [n_spikes]
        trial_ids             int32   [n_spikes]   (larvasim extension)
    /nodes/<population>       (SONATA node layout, one node group "0")
        node_id               uint64  [n_neurons]
        node_type_id          int64   [n_neurons]  (all -1: no node-types file)
        node_group_id         uint32  [n_neurons]  (all 0)
        node_group_index      uint64  [n_neurons]  (0..n_neurons-1)
        0/<column>            one dataset per neuron-table column; attrs
                              ``columns`` (JSON list) keeps their order
    /recorded                 uint64  node ids whose spikes were recorded
    /rates/<name>             float64 [n_trials, n_bins], attrs: bin_ms, units="Hz"
    /states/<var>/node_ids    uint64  [n]
    /states/<var>/times       float64 [n_times], attrs: units="ms"
    /states/<var>/values      float64 [n_trials, n, n_times], attrs: units

Spikes are stored sorted by time (ties: by trial, then node id), so they are
sorted by time within each trial as well as overall, and the SONATA
``sorting="by_time"`` attribute holds for readers that ignore ``trial_ids``.
``sorting`` is written as a string, as bmtk does (libsonata expects an HDF5
enum there); :meth:`Results.load` does not depend on it.

Examples
--------
>>> res = Results(trials, nodes, times, neurons=c.neurons, n_trials=4,
...               duration=1000*ms, dt=0.1*ms, metadata={"seed": 1})  # doctest: +SKIP
>>> res.rates_by("celltype", window=(200*ms, 700*ms))                    # doctest: +SKIP
>>> res.readout()                                                         # doctest: +SKIP
>>> res.save("run.h5"); Results.load("run.h5") == res                    # doctest: +SKIP
True

Module size: over 600 lines because every readout of a run (rates, latencies, response
probability, PSTH, readout tables, merging) is a method of the one container users hold; the
file format lives in :mod:`sim.results_io`.
"""
from __future__ import annotations

import json
import math
import os
import weakref
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from connectomes.winding2023 import OUTPUT_CELLTYPES

__all__ = ["Results", "ResultsError", "ResultsFileError", "READOUT_GROUPS", "FORMAT_NAME",
           "FORMAT_VERSION"]

#: The ``format`` attribute of a larvasim results file.
FORMAT_NAME = "larvasim-results"
#: Bump when the file layout changes (older larvasim versions refuse newer files).
FORMAT_VERSION = 1
#: Cell types read out by :meth:`Results.readout` (the brain's output neurons).
READOUT_GROUPS = OUTPUT_CELLTYPES
#: Neuron-table columns that must be present.
REQUIRED_COLUMNS = ("skid", "celltype", "hemisphere", "label")
#: Columns whose values are ``;``-separated lists (see :mod:`connectomes.selection`).
TOKEN_COLUMNS = ("modality", "second_order", "mb_name", "annotations")
_SORTING = "by_time"
_TOL = 1e-9  # ms; scalar times converted from quantities are rounded to this


class ResultsError(Exception):
    """Base class of errors raised by :mod:`sim.results`."""


class ResultsFileError(ResultsError, ValueError):
    """A file that is not a (readable) larvasim results file; names the file and what is wrong."""


# -- units --------------------------------------------------------------------
def _is_quantity(x) -> bool:
    return type(x).__module__.split(".")[0] == "brian2" and hasattr(x, "dim")


def _to_ms(x, name: str, *, scalar: bool = True):
    """A time in ms from a Brian2 quantity (any time unit) or a plain number (ms)."""
    if _is_quantity(x):
        from brian2 import ms
        from brian2.units.fundamentalunits import have_same_dimensions

        if not have_same_dimensions(x, ms):
            raise ValueError(f"{name} must be a time (e.g. 200*ms), got {x!r}")
        v = np.asarray(x / ms, dtype=np.float64)
    else:
        try:
            v = np.asarray(x, dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError(f"{name} must be a time (a Brian2 quantity or a number of ms), "
                            f"got {x!r}") from None
    if scalar:
        if v.ndim != 0:
            raise ValueError(f"{name} must be a single time, got {x!r}")
        v = float(v)
        if not math.isfinite(v):
            raise ValueError(f"{name} must be finite, got {x!r}")
        return round(v, 9)
    return v


def _ms_quantity(value_ms: float):
    from brian2 import ms

    return value_ms * ms


def _fmt_ms(v: float) -> str:
    return f"{v:g} ms"


# -- metadata -----------------------------------------------------------------
def _json_default(o):
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, os.PathLike):
        return os.fspath(o)
    if _is_quantity(o):
        return str(o)
    raise TypeError(f"{type(o).__name__} is not JSON-serialisable")


def _find_unserialisable(obj, where: str):
    """Path and value of the first item json cannot encode (for error messages)."""
    if isinstance(obj, Mapping):
        for k, v in obj.items():
            hit = _find_unserialisable(v, f"{where}[{k!r}]")
            if hit:
                return hit
        return None
    if isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            hit = _find_unserialisable(v, f"{where}[{i}]")
            if hit:
                return hit
        return None
    try:
        json.dumps(obj, default=_json_default)
    except (TypeError, ValueError):
        return where, obj
    return None


def _metadata_json(metadata, *, canonical: bool = False) -> str:
    """JSON text of ``metadata``; numpy values, paths and Brian2 quantities become
    numbers, lists and strings. Anything else that JSON cannot hold raises a
    ``TypeError`` naming where it is."""
    try:
        return json.dumps(metadata, default=_json_default, sort_keys=canonical)
    except (TypeError, ValueError) as e:
        hit = _find_unserialisable(metadata, "metadata")
        where = f"{hit[0]} = {hit[1]!r} ({type(hit[1]).__name__})" if hit else "metadata"
        raise TypeError(f"{where} is not JSON-serialisable ({e}); results metadata must be "
                        "numbers, strings, booleans, None, lists and dicts") from None


# -- neuron table ---------------------------------------------------------------
#: Normalised tables of recently used neuron tables: id -> (weak reference to the source,
#: fingerprint, normalised table). A network's runs share one connectome table; normalising
#: it (about 30 ms for the whole brain) once instead of on every run matters for sweeps.
_NORMALISED: dict = {}


def _fingerprint(neurons: pd.DataFrame) -> tuple:
    return neurons.shape, tuple(map(str, neurons.columns)), tuple(neurons.dtypes)  # (dtypes: not str, 3x faster)


def _normalised_neurons(neurons) -> pd.DataFrame:
    """:func:`_normalise_neurons`, memoised per source table (pandas copy-on-write keeps copies apart)."""
    if isinstance(neurons, pd.DataFrame):
        hit = _NORMALISED.get(id(neurons))
        if hit is not None and hit[0]() is neurons and hit[1] == _fingerprint(neurons):
            return hit[2].copy(deep=False)
    out = _normalise_neurons(neurons)
    try:
        ref = weakref.ref(neurons)
    except TypeError:
        return out
    for k in [k for k, v in _NORMALISED.items() if v[0]() is None]:
        del _NORMALISED[k]
    _NORMALISED[id(neurons)] = (ref, _fingerprint(neurons), out)
    return out.copy(deep=False)


def _normalise_neurons(neurons) -> pd.DataFrame:
    """A copy of the neuron table with plain column types (what HDF5 can hold exactly).

    Index: the node ids (unique non-negative integers; ``RangeIndex`` when
    they are 0..N-1), named ``node_id``. Bool, integer and float columns keep
    their numpy dtype (nullable numbers become float64 with NaN); every other
    column becomes strings, missing values becoming ``""``.
    """
    if not isinstance(neurons, pd.DataFrame):
        raise TypeError(f"neurons must be a pandas DataFrame (Connectome.neurons), "
                        f"got {type(neurons).__name__}")
    missing = [c for c in REQUIRED_COLUMNS if c not in neurons.columns]
    if missing:
        raise ValueError(f"the neuron table lacks column(s) {missing}; it needs at least "
                         f"{list(REQUIRED_COLUMNS)} (pass Connectome.neurons)")
    try:
        ids = np.asarray(neurons.index, dtype=np.int64)
    except (TypeError, ValueError):
        raise ValueError("the neuron table's index must be the neuron indices "
                         "(integers, rows of Connectome.neurons)") from None
    if len(ids) and (ids.min() < 0 or len(np.unique(ids)) != len(ids)):
        raise ValueError("the neuron table's index must hold unique, non-negative neuron indices")
    if np.array_equal(ids, np.arange(len(ids))):
        index = pd.RangeIndex(len(ids), name="node_id")
    else:
        index = pd.Index(ids, name="node_id")
    cols = {}
    for c in neurons.columns:
        name = str(c)
        if "/" in name or name in (".", ""):
            raise ValueError(f"neuron-table column name {c!r} cannot be stored (no '/', not empty)")
        if name in cols:
            raise ValueError(f"neuron-table column {name!r} appears twice")
        col = neurons[c]
        arr = col.to_numpy()
        if arr.dtype.kind in "biuf":
            cols[name] = arr.copy()
        elif pd.api.types.is_bool_dtype(col.dtype) and not col.isna().any():
            cols[name] = col.to_numpy(dtype=bool)
        elif pd.api.types.is_numeric_dtype(col.dtype) and not pd.api.types.is_bool_dtype(col.dtype):
            cols[name] = col.to_numpy(dtype=np.float64, na_value=np.nan)
        else:
            vals = np.array(["" if _isna(v) else str(v) for v in col.to_numpy(dtype=object)],
                            dtype=object)
            cols[name] = pd.array(vals, dtype="str") if len(vals) else pd.array([], dtype="str")
    return pd.DataFrame(cols, index=index)


def _lex_sorted(tr, tm, nd) -> bool:
    """Whether the spikes are sorted by trial, then time, then node (what ``np.lexsort`` would give)."""
    if len(tr) < 2:
        return True
    d_tr = np.diff(tr)
    if (d_tr < 0).any():
        return False
    d_tm = np.diff(tm)
    same_tr = d_tr == 0
    if (same_tr & (d_tm < 0)).any():
        return False
    return not (same_tr & (d_tm == 0) & (np.diff(nd) < 0)).any()


def _rows(ids, nodes) -> np.ndarray:
    """Rows of ``nodes`` (int64 array) in the index ``ids`` (-1 when absent); a plain range index needs no lookup."""
    if isinstance(ids, pd.RangeIndex) and ids.start == 0 and ids.step == 1:  # node id = row
        if not len(nodes) or (nodes.min() >= 0 and nodes.max() < len(ids)):
            return nodes  # every node is a row: the nodes are their positions (no copy)
        return np.where((nodes >= 0) & (nodes < len(ids)), nodes, -1)
    return ids.get_indexer(nodes) if len(nodes) else np.zeros(0, dtype=np.int64)


def _isna(v) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


# -- the object -----------------------------------------------------------------
class Results:
    """Spikes of several trials of one simulation, with what is needed to analyse and reproduce it.

    Parameters
    ----------
    spike_trials : array of int
        Trial of every spike (0 .. ``n_trials``-1).
    spike_nodes : array of int
        Neuron index (node id: row of :attr:`connectomes.Connectome.neurons`)
        of every spike.
    spike_times : array of float
        Spike times in ms since the start of the trial, in ``[0, duration]``.
    neurons : pandas.DataFrame
        The neuron table (or a subset of its rows/columns), indexed by node
        id, with at least ``skid``, ``celltype``, ``hemisphere``, ``label``.
        Every column is kept (and saved); non-numeric columns are stored as
        strings, missing values as ``""``.
    n_trials : int
        Number of trials (trials without spikes count).
    duration : Brian2 quantity or float
        Length of one trial (float: ms).
    dt : Brian2 quantity or float
        Simulation time step (float: ms).
    metadata : dict
        JSON-serialisable description of the run (model parameters, sign
        policy, stimuli, seed, connectome provenance, versions, ...). Kept
        as given; numpy values, paths and Brian2 quantities are written to
        files as numbers, lists and strings. Anything else that JSON cannot
        hold raises ``TypeError`` naming where it is.
    population : str
        Name of the SONATA node population (default ``"winding2023"``).
    recorded : array of int, optional
        Node ids whose spikes were recorded (default: every neuron). Rates of
        the others are ``NaN``; a spike of a non-recorded neuron is an error.
    rates : dict, optional
        Binned population rates, ``name -> (bin, array [n_trials, n_bins])``
        with ``bin`` a time (float: ms) and the array in Hz. Available as
        :attr:`population_rates`.
    states : dict, optional
        Recorded state variables, ``var -> (node ids, times, values)`` with
        times in ms (or a quantity) and ``values`` of shape
        ``[n_trials, len(node ids), len(times)]``. ``values`` may be a Brian2
        quantity (stored as floats in SI units, unit kept in
        :attr:`state_units`); a 4th element may name the unit of plain values.

    Raises
    ------
    ValueError
        Inconsistent input (lengths, trial/neuron out of range, spike outside
        ``[0, duration]``, spike of a non-recorded neuron, bad shapes).
    TypeError
        Metadata that JSON cannot hold.

    Notes
    -----
    Spikes are kept sorted by trial, then time, then node id; the arrays
    :attr:`spike_trials`, :attr:`spike_nodes`, :attr:`spike_times` are
    read-only views in that order.
    """

    def __init__(self, spike_trials, spike_nodes, spike_times, *, neurons: pd.DataFrame,
                 n_trials: int, duration, dt, metadata: Mapping, population: str = "winding2023",
                 recorded=None, rates: Mapping | None = None, states: Mapping | None = None):
        """See the class docstring (over 80 lines: every argument is validated with its own error message)."""
        self.neurons = _normalised_neurons(neurons)
        self.population = str(population)
        if not self.population or "/" in self.population:
            raise ValueError(f"population must be a non-empty name without '/', got {population!r}")
        if isinstance(n_trials, bool) or int(n_trials) != n_trials or n_trials < 1:
            raise ValueError(f"n_trials must be a positive integer, got {n_trials!r}")
        self._n_trials = int(n_trials)
        self._duration_ms = _to_ms(duration, "duration")
        self._dt_ms = _to_ms(dt, "dt")
        if self._duration_ms <= 0 or self._dt_ms <= 0:
            raise ValueError(f"duration and dt must be positive, got duration={duration!r}, dt={dt!r}")
        if not isinstance(metadata, Mapping):
            raise TypeError(f"metadata must be a dict, got {type(metadata).__name__}")
        _metadata_json(metadata)  # fail now, not when saving
        self.metadata = dict(metadata)

        ids = self.neurons.index
        if recorded is None:
            self._recorded = np.asarray(ids, dtype=np.int64).copy()
        else:
            rec = np.asarray(getattr(recorded, "indices", recorded), dtype=np.int64).ravel()
            # (already sorted and unique, as networks hold it: a copy, not np.unique's sort; issue 16)
            rec = rec.copy() if rec.size < 2 or (rec[1:] > rec[:-1]).all() else np.unique(rec)
            unknown = rec[_rows(ids, rec) < 0]
            if len(unknown):
                raise ValueError(f"recorded names {len(unknown)} neuron(s) not in the neuron table: "
                                 f"{unknown[:10].tolist()}")
            self._recorded = rec
        self._recorded.flags.writeable = False
        self._rec_mask = np.zeros(len(ids), dtype=bool)
        self._rec_mask[_rows(ids, self._recorded)] = True

        tr = np.asarray(spike_trials).ravel()
        nd = np.asarray(spike_nodes).ravel()
        tm = _to_ms(spike_times, "spike_times", scalar=False).ravel()
        if not (len(tr) == len(nd) == len(tm)):
            raise ValueError(f"spike_trials, spike_nodes and spike_times differ in length "
                             f"({len(tr)}, {len(nd)}, {len(tm)})")
        if len(tr) and (tr.dtype.kind not in "iu" or nd.dtype.kind not in "iu"):
            raise ValueError("spike_trials and spike_nodes must be integer arrays")
        tr = tr.astype(np.int32)
        nd = nd.astype(np.int64)
        tm = tm.astype(np.float64)
        if len(tr):
            bad = (tr < 0) | (tr >= self._n_trials)
            if bad.any():
                raise ValueError(f"{int(bad.sum())} spike(s) have a trial outside 0..{self._n_trials - 1}, "
                                 f"e.g. {int(tr[bad][0])}")
            bad = ~np.isfinite(tm) | (tm < 0) | (tm > self._duration_ms)
            if bad.any():
                raise ValueError(f"{int(bad.sum())} spike time(s) outside [0, {_fmt_ms(self._duration_ms)}], "
                                 f"e.g. {tm[bad][0]!r} ms (times are ms since the trial start)")
        pos = _rows(ids, nd)
        if (pos < 0).any():
            raise ValueError(f"{int((pos < 0).sum())} spike(s) of neuron(s) not in the neuron table, "
                             f"e.g. node {int(nd[pos < 0][0])}")
        pos = np.asarray(pos, dtype=np.int64)
        if len(pos) and not self._rec_mask[pos].all():
            bad = nd[~self._rec_mask[pos]]
            raise ValueError(f"{len(bad)} spike(s) of neuron(s) that were not recorded, "
                             f"e.g. node {int(bad[0])}")
        if _lex_sorted(tr, tm, nd):  # the simulators' order already: keep the arrays (no copy, no sort)
            self._trials, self._nodes, self._times, self._pos = tr, nd, tm, pos
        else:
            order = np.lexsort((nd, tm, tr))
            self._trials, self._nodes, self._times, self._pos = tr[order], nd[order], tm[order], pos[order]
        for a in (self._trials, self._nodes, self._times, self._pos):
            a.flags.writeable = False

        self.population_rates: dict[str, tuple[float, np.ndarray]] = {}
        for name, value in (rates or {}).items():
            self.population_rates[self._check_name(name, "rates")] = self._check_rate(name, value)
        self.states: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        self.state_units: dict[str, str] = {}
        for var, value in (states or {}).items():
            var = self._check_name(var, "states")
            self.states[var], self.state_units[var] = self._check_state(var, value)

    # -- validation helpers ----------------------------------------------------------
    @staticmethod
    def _check_name(name, what: str) -> str:
        name = str(name)
        if not name or "/" in name or name == ".":
            raise ValueError(f"{what} name {name!r} cannot be stored (non-empty, no '/')")
        return name

    def _check_rate(self, name, value) -> tuple[float, np.ndarray]:
        try:
            bin_, arr = value
        except (TypeError, ValueError):
            raise ValueError(f"rates[{name!r}] must be (bin, array [n_trials, n_bins])") from None
        bin_ms = _to_ms(bin_, f"rates[{name!r}] bin")
        if bin_ms <= 0:
            raise ValueError(f"rates[{name!r}] bin must be positive, got {bin_!r}")
        if _is_quantity(arr):
            from brian2 import Hz
            arr = np.asarray(arr / Hz)
        arr = np.array(arr, dtype=np.float64)
        if arr.ndim == 1 and self._n_trials == 1:
            arr = arr[None, :]
        if arr.ndim != 2 or arr.shape[0] != self._n_trials:
            raise ValueError(f"rates[{name!r}] must have shape [n_trials={self._n_trials}, n_bins], "
                             f"got {arr.shape}")
        arr.flags.writeable = False
        return bin_ms, arr

    def _check_state(self, var, value):
        if not isinstance(value, (tuple, list)) or len(value) not in (3, 4):
            raise ValueError(f"states[{var!r}] must be (node ids, times, values[, unit])")
        idx, times, values = value[:3]
        unit = str(value[3]) if len(value) == 4 else ""
        idx = np.asarray(getattr(idx, "indices", idx), dtype=np.int64).ravel()
        unknown = idx[self.neurons.index.get_indexer(idx) < 0]
        if len(unknown):
            raise ValueError(f"states[{var!r}] names neuron(s) not in the neuron table: "
                             f"{unknown[:10].tolist()}")
        times = np.array(_to_ms(times, f"states[{var!r}] times", scalar=False), dtype=np.float64).ravel()
        if _is_quantity(values):
            from brian2.units.fundamentalunits import get_unit
            unit = unit or str(get_unit(values.dim))
            values = np.asarray(values)  # SI units
        values = np.array(values, dtype=np.float64)
        want = (self._n_trials, len(idx), len(times))
        if values.shape != want:
            raise ValueError(f"states[{var!r}] values must have shape [n_trials, n_neurons, n_times] "
                             f"= {want}, got {values.shape}")
        for a in (idx, times, values):
            a.flags.writeable = False
        return (idx, times, values), unit

    # -- basic facts -------------------------------------------------------------
    @property
    def n_trials(self) -> int:
        """Number of trials."""
        return self._n_trials

    @property
    def n_neurons(self) -> int:
        """Number of neurons in the neuron table."""
        return len(self.neurons)

    @property
    def n_spikes(self) -> int:
        """Total number of spikes, all trials."""
        return len(self._times)

    @property
    def duration_ms(self) -> float:
        """Length of one trial in ms."""
        return self._duration_ms

    @property
    def dt_ms(self) -> float:
        """Simulation time step in ms."""
        return self._dt_ms

    @property
    def duration(self):
        """Length of one trial as a Brian2 quantity."""
        return _ms_quantity(self._duration_ms)

    @property
    def dt(self):
        """Simulation time step as a Brian2 quantity."""
        return _ms_quantity(self._dt_ms)

    @property
    def recorded(self) -> np.ndarray:
        """Sorted node ids of the neurons whose spikes were recorded (read-only)."""
        return self._recorded

    @property
    def spike_trials(self) -> np.ndarray:
        """Trial of every spike (int32, sorted by trial, time, node; read-only)."""
        return self._trials

    @property
    def spike_nodes(self) -> np.ndarray:
        """Node id of every spike (int64, same order; read-only)."""
        return self._nodes

    @property
    def spike_times(self) -> np.ndarray:
        """Time of every spike in ms since its trial started (float64, same order; read-only)."""
        return self._times

    # -- argument helpers --------------------------------------------------------
    def _window(self, window) -> tuple[float, float]:
        if window is None:
            return 0.0, self._duration_ms
        if _is_quantity(window):
            window = list(window)
        try:
            start, stop = window
        except (TypeError, ValueError):
            raise ValueError(f"window must be (start, stop), e.g. (200*ms, 700*ms); got {window!r}") from None
        start = _to_ms(start, "window start")
        stop = _to_ms(stop, "window stop")
        if -_TOL <= start < 0:
            start = 0.0
        if self._duration_ms < stop <= self._duration_ms + _TOL:
            stop = self._duration_ms
        if not (0 <= start < stop <= self._duration_ms):
            raise ValueError(f"window ({_fmt_ms(start)}, {_fmt_ms(stop)}) must satisfy "
                             f"0 <= start < stop <= duration ({_fmt_ms(self._duration_ms)})")
        return start, stop

    def _in_window(self, start: float, stop: float) -> np.ndarray:
        t = self._times
        upper = t <= stop if stop >= self._duration_ms else t < stop
        return (t >= start) & upper

    def _positions(self, selection) -> np.ndarray:
        """Row positions in :attr:`neurons` of a selection, node ids, or everything (None)."""
        if selection is None:
            return np.arange(self.n_neurons)
        ids = getattr(selection, "indices", None)
        if ids is None:
            ids = np.atleast_1d(np.asarray(selection))
            if ids.size == 0:
                return np.zeros(0, dtype=np.int64)
            if ids.dtype.kind not in "iu":
                raise TypeError("select neurons with a connectomes.Selection or an array of "
                                f"neuron indices, got {selection!r}")
        ids = np.asarray(ids, dtype=np.int64).ravel()
        pos = self.neurons.index.get_indexer(ids)
        if (pos < 0).any():
            raise ValueError(f"{int((pos < 0).sum())} selected neuron(s) are not in these results: "
                             f"{ids[pos < 0][:10].tolist()}")
        conn = getattr(selection, "connectome", None)
        if conn is not None:
            theirs = conn.neurons["skid"].to_numpy()[ids]
            if not np.array_equal(theirs, self.neurons["skid"].to_numpy()[pos]):
                raise ValueError("the selection comes from a connectome whose skeleton ids differ "
                                 "from these results' neuron table")
        return np.unique(pos)

    # -- spikes ------------------------------------------------------------------
    def _trial_slice(self, trial: int) -> slice:
        if isinstance(trial, bool) or int(trial) != trial or not 0 <= trial < self._n_trials:
            raise ValueError(f"trial must be an integer in 0..{self._n_trials - 1}, got {trial!r}")
        lo, hi = np.searchsorted(self._trials, [trial, trial + 1])
        return slice(int(lo), int(hi))

    def spike_trains(self, trial: int = 0) -> dict[int, np.ndarray]:
        """Spike times of every recorded neuron in one trial.

        Parameters
        ----------
        trial : int
            Trial number, 0 .. ``n_trials``-1.

        Returns
        -------
        dict of int -> ndarray of float64
            Node id -> sorted spike times in ms since the trial start. Every
            recorded neuron has an entry (an empty array if silent);
            non-recorded neurons have none.
        """
        s = self._trial_slice(trial)
        nodes, times = self._nodes[s], self._times[s]
        order = np.argsort(nodes, kind="stable")
        nodes, times = nodes[order], times[order]
        out = {int(n): np.zeros(0) for n in self._recorded}
        if len(nodes):
            uniq, first = np.unique(nodes, return_index=True)
            for n, chunk in zip(uniq, np.split(times, first[1:])):
                out[int(n)] = chunk.copy()
        return out

    @property
    def spikes(self) -> pd.DataFrame:
        """Every spike, one row each: ``trial, node_id, skid, celltype, hemisphere, label, t_ms``.

        Sorted by trial, then time. ``t_ms`` is ms since the trial start.
        """
        n = self.neurons
        pos = self._pos
        return pd.DataFrame({
            "trial": self._trials.copy(),
            "node_id": self._nodes.copy(),
            "skid": n["skid"].to_numpy()[pos],
            "celltype": n["celltype"].to_numpy()[pos],
            "hemisphere": n["hemisphere"].to_numpy()[pos],
            "label": n["label"].to_numpy()[pos],
            "t_ms": self._times.copy(),
        })

    # -- rates -------------------------------------------------------------------
    def _rate_matrix(self, window) -> np.ndarray:
        """Rates in Hz, shape [n_neurons, n_trials], NaN for non-recorded neurons."""
        start, stop = self._window(window)
        m = self._in_window(start, stop)
        T = self._n_trials
        counts = np.bincount(self._pos[m] * T + self._trials[m],
                             minlength=self.n_neurons * T).reshape(self.n_neurons, T)
        rates = counts / ((stop - start) / 1000.0)
        rates[~self._rec_mask] = np.nan
        return rates

    def rates(self, window=None) -> pd.DataFrame:
        """Firing rate of every neuron in every trial.

        Parameters
        ----------
        window : (start, stop), optional
            Times (Brian2 quantities or ms), half-open ``[start, stop)``;
            default the whole trial.

        Returns
        -------
        pandas.DataFrame
            Wide table: index ``node_id`` (every neuron of :attr:`neurons`),
            one column per trial (``0 .. n_trials-1``, columns named
            ``trial``); values are spike counts in the window divided by its
            length, in Hz. ``NaN`` for neurons that were not recorded.
        """
        r = self._rate_matrix(window)
        return pd.DataFrame(r, index=self.neurons.index.copy(),
                            columns=pd.RangeIndex(self._n_trials, name="trial"))

    def _info(self, pos) -> pd.DataFrame:
        return self.neurons.iloc[pos][list(REQUIRED_COLUMNS)].copy()

    def mean_rates(self, window=None) -> pd.DataFrame:
        """Per-neuron firing rate averaged over trials.

        Parameters
        ----------
        window : (start, stop), optional
            As in :meth:`rates`.

        Returns
        -------
        pandas.DataFrame
            Indexed by ``node_id``: ``skid, celltype, hemisphere, label``,
            ``mean_hz`` (mean over trials), ``sd_hz`` (standard deviation
            over trials, ddof=1) and ``sem_hz`` (``sd_hz / sqrt(n_trials)``).
            ``sd_hz``/``sem_hz`` are ``NaN`` with a single trial; all three
            are ``NaN`` for neurons that were not recorded.
        """
        r = self._rate_matrix(window)
        out = self._info(np.arange(self.n_neurons))
        out["mean_hz"] = r.mean(axis=1)
        sd = r.std(axis=1, ddof=1) if self._n_trials > 1 else np.full(self.n_neurons, np.nan)
        out["sd_hz"] = sd
        out["sem_hz"] = sd / np.sqrt(self._n_trials)
        return out

    def _groups(self, column: str, pos: np.ndarray) -> dict:
        if column not in self.neurons.columns:
            import difflib
            close = difflib.get_close_matches(column, list(self.neurons.columns), n=4)
            raise ValueError(f"the neuron table has no column {column!r}"
                             + (f" (close: {', '.join(close)})" if close else "")
                             + f"; columns: {', '.join(self.neurons.columns)}")
        values = self.neurons[column].to_numpy()
        groups: dict[Any, list[int]] = {}
        tokens = column in TOKEN_COLUMNS
        for p in pos:
            v = values[p]
            keys = [t.strip() for t in str(v).split(";")] if tokens else [v]
            for k in keys:
                if (isinstance(k, str) and k == "" and tokens) or _isna(k):
                    continue
                groups.setdefault(k.item() if isinstance(k, np.generic) else k, []).append(p)
        try:
            keys = sorted(groups)
        except TypeError:
            keys = sorted(groups, key=str)
        return {k: np.asarray(groups[k], dtype=np.int64) for k in keys}

    def _group_row(self, r: np.ndarray, key, members: np.ndarray) -> dict:
        rec = members[self._rec_mask[members]]
        T = self._n_trials
        if len(rec):
            per_trial = r[rec].mean(axis=0)
            mean = float(per_trial.mean())
            sd = float(per_trial.std(ddof=1)) if T > 1 else math.nan
        else:
            mean = sd = math.nan
        return {"group": key, "n_neurons": len(members), "n_recorded": len(rec),
                "mean_hz": mean, "sd_hz": sd, "sem_hz": sd / math.sqrt(T)}

    def rates_by(self, column: str = "celltype", window=None, selection=None) -> pd.DataFrame:
        """Mean firing rate of groups of neurons that share a value of a neuron-table column.

        Parameters
        ----------
        column : str
            Any column of :attr:`neurons`: ``"celltype"``, ``"hemisphere"``,
            ``"modality"``, ``"mb_name"``, ``"class2"``, a flag such as
            ``"dVNCs"`` ... For the ``;``-separated columns (``modality``,
            ``second_order``, ``mb_name``, ``annotations``) a neuron belongs
            to each of its tokens, and neurons with an empty value are left
            out.
        window : (start, stop), optional
            As in :meth:`rates`.
        selection : connectomes.Selection or array of int, optional
            Only these neurons (node ids).

        Returns
        -------
        pandas.DataFrame
            One row per group, sorted by group: ``group`` (the column's
            value), ``n_neurons`` (in the group), ``n_recorded`` (of them
            recorded), ``mean_hz`` (rate averaged over the recorded neurons,
            then over trials), ``sd_hz`` (standard deviation over trials of
            the per-trial group mean, ddof=1; ``NaN`` with one trial) and
            ``sem_hz`` (``sd_hz / sqrt(n_trials)``). Rates are ``NaN`` for a
            group without recorded neurons.
        """
        pos = self._positions(selection)
        r = self._rate_matrix(window)
        rows = [self._group_row(r, k, m) for k, m in self._groups(column, pos).items()]
        return pd.DataFrame(rows, columns=["group", "n_neurons", "n_recorded", "mean_hz",
                                           "sd_hz", "sem_hz"])

    def readout(self, window=None, *, per_neuron: bool = False,
                groups: Sequence[str] = READOUT_GROUPS) -> pd.DataFrame:
        """Rates of the brain's output neurons: descending (DN-VNC, DN-SEZ) and ring-gland (RGN).

        Parameters
        ----------
        window : (start, stop), optional
            As in :meth:`rates`.
        per_neuron : bool
            Return one row per output neuron (as :meth:`mean_rates`, sorted by
            group then node id) instead of one row per group.
        groups : sequence of str
            The ``celltype`` values read out (default :data:`READOUT_GROUPS`).

        Returns
        -------
        pandas.DataFrame
            As :meth:`rates_by` for ``celltype`` restricted to ``groups``, in
            that order; a group absent from the neuron table has
            ``n_neurons = 0`` and ``NaN`` rates. With ``per_neuron``, the
            :meth:`mean_rates` rows of those neurons.
        """
        groups = list(groups)
        ct = self.neurons["celltype"].to_numpy()
        if per_neuron:
            m = self.mean_rates(window)
            order = {g: i for i, g in enumerate(groups)}
            keep = m[m["celltype"].isin(groups)]
            rank = keep["celltype"].map(order).to_numpy()
            return keep.iloc[np.lexsort((keep.index.to_numpy(), rank))]
        r = self._rate_matrix(window)
        rows = [self._group_row(r, g, np.flatnonzero(ct == g)) for g in groups]
        return pd.DataFrame(rows, columns=["group", "n_neurons", "n_recorded", "mean_hz",
                                           "sd_hz", "sem_hz"])

    # -- latency -----------------------------------------------------------------
    def _latency_matrix(self, after, window) -> tuple[float, np.ndarray]:
        after_ms = _to_ms(after, "after")
        start, stop = self._window(window)
        start = max(start, after_ms)
        if not 0 <= after_ms < self._duration_ms or start >= stop:
            raise ValueError(f"after={_fmt_ms(after_ms)} leaves no time to look for spikes in "
                             f"the window ({_fmt_ms(start)}, {_fmt_ms(stop)})")
        m = self._in_window(start, stop)
        lat = np.full((self.n_neurons, self._n_trials), np.nan)
        pos, tr, t = self._pos[m], self._trials[m], self._times[m]
        # spikes are sorted by (trial, time): the first occurrence of a (neuron, trial) is the earliest
        key = pos * self._n_trials + tr
        _, first = np.unique(key, return_index=True)
        lat[pos[first], tr[first]] = t[first] - after_ms
        return after_ms, lat

    def first_spike_latency(self, after=0.0, window=None) -> pd.DataFrame:
        """Latency of each neuron's first spike after a reference time, trial by trial.

        Parameters
        ----------
        after : Brian2 quantity or float
            Reference time (e.g. stimulus onset; float: ms). Only spikes at
            or after it count.
        window : (start, stop), optional
            Look for the first spike only in ``[start, stop)`` (intersected
            with ``[after, duration]``); default up to the end of the trial.

        Returns
        -------
        pandas.DataFrame
            Index ``node_id``, one column per trial (named ``trial``):
            first-spike time minus ``after``, in ms; ``NaN`` where the neuron
            did not fire in the window (and for non-recorded neurons). See
            :meth:`response_probability` for the per-neuron summary.
        """
        _, lat = self._latency_matrix(after, window)
        return pd.DataFrame(lat, index=self.neurons.index.copy(),
                            columns=pd.RangeIndex(self._n_trials, name="trial"))

    def response_probability(self, after=0.0, window=None) -> pd.DataFrame:
        """Per-neuron response probability and first-spike latency statistics.

        Parameters
        ----------
        after, window
            As in :meth:`first_spike_latency`.

        Returns
        -------
        pandas.DataFrame
            Index ``node_id``: ``skid, celltype, hemisphere, label``,
            ``p_response`` (fraction of trials with at least one spike in the
            window), ``n_responses``, ``mean_latency_ms`` and
            ``median_latency_ms`` (over the responding trials; ``NaN`` if
            none). Every column but the neuron's identity is ``NaN`` for
            non-recorded neurons.
        """
        _, lat = self._latency_matrix(after, window)
        fired = np.isfinite(lat)
        n = fired.sum(axis=1)
        out = self._info(np.arange(self.n_neurons))
        p = n / self._n_trials
        with np.errstate(invalid="ignore"):
            out["p_response"] = np.where(self._rec_mask, p, np.nan)
            out["n_responses"] = np.where(self._rec_mask, n, np.nan)
            mean = np.full(self.n_neurons, np.nan)
            med = np.full(self.n_neurons, np.nan)
            some = n > 0
            if some.any():
                mean[some] = np.nanmean(lat[some], axis=1)
                med[some] = np.nanmedian(lat[some], axis=1)
        out["mean_latency_ms"] = mean
        out["median_latency_ms"] = med
        return out

    # -- PSTH --------------------------------------------------------------------
    def psth(self, selection_or_indices=None, bin=10.0, window=None) -> tuple[np.ndarray, np.ndarray]:
        """Peri-stimulus time histogram: population rate over time.

        Parameters
        ----------
        selection_or_indices : connectomes.Selection or array of int, optional
            Neurons to include (node ids); default all. Only the recorded
            ones among them enter the average.
        bin : Brian2 quantity or float
            Bin width (float: ms). If the window is not a whole number of
            bins, the last bin is shorter (its rate uses its own width).
        window : (start, stop), optional
            Time span covered (default the whole trial).

        Returns
        -------
        edges : ndarray of float64, shape [n_bins + 1]
            Bin edges in ms.
        rate : ndarray of float64, shape [n_bins]
            Spikes per bin divided by (bin width in s x number of recorded
            selected neurons x number of trials): the rate in Hz averaged over
            trials and neurons. All ``NaN`` when no selected neuron was recorded.
        """
        start, stop = self._window(window)
        width = _to_ms(bin, "bin")
        if width <= 0:
            raise ValueError(f"bin must be positive, got {bin!r}")
        pos = self._positions(selection_or_indices)
        pos = pos[self._rec_mask[pos]]
        n_bins = max(1, int(math.ceil((stop - start) / width - 1e-9)))
        edges = start + width * np.arange(n_bins + 1, dtype=np.float64)
        edges[-1] = stop
        if len(pos) == 0:
            return edges, np.full(n_bins, np.nan)
        m = self._in_window(start, stop)
        m &= np.isin(self._pos, pos)
        k = np.clip(np.searchsorted(edges, self._times[m], side="right") - 1, 0, n_bins - 1)
        counts = np.bincount(k, minlength=n_bins)
        rate = counts / (np.diff(edges) / 1000.0 * len(pos) * self._n_trials)
        return edges, rate

    # -- equality, summary -------------------------------------------------------
    def __eq__(self, other) -> bool:
        if not isinstance(other, Results):
            return NotImplemented
        if (self.population, self._n_trials, self._duration_ms, self._dt_ms) != \
                (other.population, other._n_trials, other._duration_ms, other._dt_ms):
            return False
        if not (np.array_equal(self._recorded, other._recorded)
                and np.array_equal(self._trials, other._trials)
                and np.array_equal(self._nodes, other._nodes)
                and np.array_equal(self._times, other._times)):
            return False
        if not self.neurons.equals(other.neurons) or list(self.neurons.columns) != list(other.neurons.columns):
            return False
        if _metadata_json(self.metadata, canonical=True) != _metadata_json(other.metadata, canonical=True):
            return False
        if self.population_rates.keys() != other.population_rates.keys():
            return False
        for k, (b, a) in self.population_rates.items():
            b2, a2 = other.population_rates[k]
            if b != b2 or a.shape != a2.shape or not np.array_equal(a, a2, equal_nan=True):
                return False
        if self.states.keys() != other.states.keys() or self.state_units != other.state_units:
            return False
        for k, parts in self.states.items():
            for a, a2 in zip(parts, other.states[k]):
                if a.shape != a2.shape or not np.array_equal(a, a2, equal_nan=True):
                    return False
        return True

    __hash__ = None  # mutable (metadata); equality is by value

    def __repr__(self) -> str:
        n_rec = len(self._recorded)
        total_s = self._duration_ms / 1000.0 * self._n_trials * n_rec
        mean = self.n_spikes / total_s if total_s > 0 else math.nan
        return (f"<Results {self.population}: {self._n_trials} trial{'s' if self._n_trials != 1 else ''}"
                f" x {self._duration_ms:g} ms (dt {self._dt_ms:g} ms), {self.n_neurons} neurons "
                f"({n_rec} recorded), {self.n_spikes} spikes, mean rate {mean:.3g} Hz>")

    def summary_table(self, window=None, column: str = "celltype") -> str:
        """A printable table of firing rates by cell type (or another column), for the CLI.

        Parameters
        ----------
        window : (start, stop), optional
            As in :meth:`rates`.
        column : str
            Neuron-table column to group by.

        Returns
        -------
        str
            One header line describing the run, then one line per group:
            number of neurons (recorded), mean rate, SD and SEM over trials
            (Hz). Output groups (DN-VNC, DN-SEZ, RGN) are marked with ``*``.
        """
        start, stop = self._window(window)
        t = self.rates_by(column, window=(start, stop))
        head = (f"{self.population}: {self._n_trials} trial(s) x {self._duration_ms:g} ms, "
                f"{self.n_spikes} spikes; rates over {start:g}-{stop:g} ms")
        w = max([len(column)] + [len(str(g)) for g in t["group"]]) + 2
        lines = [head, f"  {column:<{w}}{'neurons':>9}{'recorded':>10}{'mean Hz':>10}{'sd Hz':>9}{'sem Hz':>9}"]
        for row in t.itertuples(index=False):
            mark = "*" if column == "celltype" and row.group in READOUT_GROUPS else " "
            lines.append(f"{mark} {str(row.group):<{w}}{row.n_neurons:>9}{row.n_recorded:>10}"
                         f"{_num(row.mean_hz):>10}{_num(row.sd_hz):>9}{_num(row.sem_hz):>9}")
        if column == "celltype":
            lines.append("  (* output neurons: descending DN-VNC, DN-SEZ and ring-gland RGN)")
        return "\n".join(lines)

    # -- combining ---------------------------------------------------------------
    def merge(self, other: "Results") -> "Results":
        """The trials of ``self`` followed by those of ``other`` (see :meth:`concat`)."""
        return Results.concat([self, other])

    @classmethod
    def concat(cls, results: Iterable["Results"]) -> "Results":
        """Combine the trials of several runs with identical settings.

        Parameters
        ----------
        results : iterable of Results
            Runs of the same network: same population, duration, dt, neuron
            table, recorded neurons, population-rate names and bins, and
            recorded state variables (neurons, times, units).

        Returns
        -------
        Results
            Trials renumbered consecutively in the given order (the trials
            of the k-th run follow those of the runs before it). Metadata
            entries equal in every run are kept; if any entry differs (e.g.
            the seed), every run's differing entries are kept under
            ``metadata["concatenated_parts"]`` as
            ``[{"trials": [first, last], <key>: <value>, ...}, ...]``.

        Raises
        ------
        ValueError
            The runs differ in any of the settings above (the message says which).
        """
        parts = list(results)
        if not parts:
            raise ValueError("concat needs at least one Results")
        for p in parts:
            if not isinstance(p, Results):
                raise TypeError(f"can only concatenate Results, got {type(p).__name__}")
        first = parts[0]
        for i, p in enumerate(parts[1:], start=1):
            why = first._incompatibility(p)
            if why:
                raise ValueError(f"cannot concatenate run {i} with run 0: {why}")
        offsets = np.cumsum([0] + [p._n_trials for p in parts])
        trials = np.concatenate([p._trials.astype(np.int64) + off for p, off in zip(parts, offsets)])
        nodes = np.concatenate([p._nodes for p in parts])
        times = np.concatenate([p._times for p in parts])
        rates = {k: (b, np.concatenate([p.population_rates[k][1] for p in parts], axis=0))
                 for k, (b, _) in first.population_rates.items()}
        states = {}
        for k, (idx, tms, _) in first.states.items():
            vals = np.concatenate([p.states[k][2] for p in parts], axis=0)
            states[k] = (idx, tms, vals, first.state_units[k])
        return cls(trials, nodes, times, neurons=first.neurons, n_trials=int(offsets[-1]),
                   duration=first._duration_ms, dt=first._dt_ms,
                   metadata=_merge_metadata([p.metadata for p in parts], offsets),
                   population=first.population, recorded=first._recorded, rates=rates,
                   states=states)

    def _incompatibility(self, other: "Results") -> str | None:
        if self.population != other.population:
            return f"population {self.population!r} != {other.population!r}"
        if self._duration_ms != other._duration_ms:
            return f"duration {_fmt_ms(self._duration_ms)} != {_fmt_ms(other._duration_ms)}"
        if self._dt_ms != other._dt_ms:
            return f"dt {_fmt_ms(self._dt_ms)} != {_fmt_ms(other._dt_ms)}"
        if list(self.neurons.columns) != list(other.neurons.columns) or not self.neurons.equals(other.neurons):
            return "the neuron tables differ"
        if not np.array_equal(self._recorded, other._recorded):
            return "the recorded neurons differ"
        if self.population_rates.keys() != other.population_rates.keys():
            return (f"population rates {sorted(self.population_rates)} != "
                    f"{sorted(other.population_rates)}")
        for k, (b, a) in self.population_rates.items():
            b2, a2 = other.population_rates[k]
            if b != b2 or a.shape[1] != a2.shape[1]:
                return f"population rate {k!r} bins differ"
        if self.states.keys() != other.states.keys():
            return f"recorded states {sorted(self.states)} != {sorted(other.states)}"
        for k, (idx, tms, _) in self.states.items():
            idx2, tms2, _ = other.states[k]
            if (not np.array_equal(idx, idx2) or not np.array_equal(tms, tms2)
                    or self.state_units[k] != other.state_units[k]):
                return f"state {k!r} was recorded from other neurons, times or units"
        return None

    # -- files -------------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> Path:
        """Write the results to an HDF5 file (SONATA spike layout plus larvasim's extensions).

        The file is written under a temporary name in the target's folder and
        renamed into place: an error leaves neither a partial file nor the
        temporary one, and an existing file at ``path`` stays as it was.
        The folder is created if needed. The layout is described in
        :mod:`sim.results`.

        Parameters
        ----------
        path : path-like
            Target file (conventionally ``*.h5``).

        Returns
        -------
        pathlib.Path
            ``path``.

        Raises
        ------
        TypeError
            The metadata holds something JSON cannot hold (names where).
        """
        import h5py

        from larvasim.util import atomic_path, larvasim_version

        path = Path(path)
        meta = _metadata_json(self.metadata)  # before touching the disk
        from .results_io import write

        with atomic_path(path) as tmp, h5py.File(tmp, "w") as f:
            write(self, f, meta, larvasim_version())
        return path

    def to_nwb(self, path: str | os.PathLike, **kwargs) -> Path:
        """Write the results as an NWB file (units, trials, stimuli, states, metadata), atomically.

        Needs pynwb (``pip install -e '.[nwb]'``); the layout is described in :mod:`sim.nwb`.

        Parameters
        ----------
        path : path-like
            Target file (conventionally ``*.nwb``).
        **kwargs
            Passed to :func:`sim.nwb.write_nwb` (``session_start_time``).

        Returns
        -------
        pathlib.Path
            ``path``.

        Raises
        ------
        sim.nwb.NWBUnavailableError
            pynwb is not installed (an ``ImportError``).
        ValueError
            ``path`` is a folder or cannot be written.
        """
        from .nwb import write_nwb

        return write_nwb(self, path, **kwargs)

    @classmethod
    def load(cls, path: str | os.PathLike) -> "Results":
        """Read results written by :meth:`save`.

        Parameters
        ----------
        path : path-like

        Returns
        -------
        Results
            Equal (``==``) to the saved object. Metadata come back as JSON
            values (tuples as lists, quantities as strings).

        Raises
        ------
        FileNotFoundError
            No file at ``path``.
        ResultsFileError
            The file is not HDF5, or lacks part of the larvasim results layout
            (the message names the file and every missing item), or was
            written by a newer larvasim.
        """
        from .results_io import read

        return read(cls, path)


def _num(v: float) -> str:
    return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.3g}"


def _merge_metadata(metas: list, offsets) -> dict:
    canon = [{k: _metadata_json(v, canonical=True) for k, v in m.items()} for m in metas]
    first = metas[0]
    common = {k: v for k, v in first.items()
              if all(k in c and c[k] == canon[0][k] for c in canon[1:])}
    if all(len(c) == len(common) for c in canon):
        return dict(common)
    out = dict(common)
    out["concatenated_parts"] = [
        # the part's own "trials" entry (a count) is implied by the range, which must win
        {**{k: v for k, v in m.items() if k not in common},
         "trials": [int(offsets[i]), int(offsets[i + 1]) - 1]}
        for i, m in enumerate(metas)
    ]
    return out
