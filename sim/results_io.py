"""The HDF5 file format of :class:`sim.Results` (``Results.save`` / ``Results.load``).

SONATA's spike layout (``/spikes/<population>/timestamps``, ``node_ids``) plus
larvasim's extensions (trials, the neuron table, recorded neurons, population
rates, state variables, metadata); described in :mod:`sim.results`.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from .results import FORMAT_NAME, FORMAT_VERSION, _SORTING, ResultsFileError

__all__ = ["read", "write"]


def write(self, f, meta: str, version: str) -> None:
    """Write ``self`` (a :class:`sim.Results`) into the open HDF5 file ``f``."""
    import h5py

    f.attrs["format"] = FORMAT_NAME
    f.attrs["format_version"] = FORMAT_VERSION
    f.attrs["magic"] = np.uint32(0x0A7A)
    f.attrs["version"] = np.array([0, 1], dtype=np.uint32)
    f.attrs["population"] = self.population
    f.attrs["n_trials"] = self._n_trials
    f.attrs["duration_ms"] = self._duration_ms
    f.attrs["dt_ms"] = self._dt_ms
    f.attrs["metadata"] = meta
    f.attrs["larvasim_version"] = version

    order = np.lexsort((self._nodes, self._trials, self._times))  # by time, then trial, node
    g = f.create_group("spikes").create_group(self.population)
    g.attrs["sorting"] = _SORTING
    big = {"compression": "gzip", "compression_opts": 4, "shuffle": True} if len(order) else {}
    ts = g.create_dataset("timestamps", data=self._times[order], dtype=np.float64, **big)
    ts.attrs["units"] = "ms"
    g.create_dataset("node_ids", data=self._nodes[order].astype(np.uint64), dtype=np.uint64, **big)
    g.create_dataset("trial_ids", data=self._trials[order], dtype=np.int32, **big)

    n = self.n_neurons
    ng = f.create_group("nodes").create_group(self.population)
    ng.create_dataset("node_id", data=np.asarray(self.neurons.index, dtype=np.uint64))
    ng.create_dataset("node_type_id", data=np.full(n, -1, dtype=np.int64))
    ng.create_dataset("node_group_id", data=np.zeros(n, dtype=np.uint32))
    ng.create_dataset("node_group_index", data=np.arange(n, dtype=np.uint64))
    attrs = ng.create_group("0")
    attrs.attrs["columns"] = json.dumps(list(self.neurons.columns))
    for c in self.neurons.columns:
        arr = self.neurons[c].to_numpy()
        if arr.dtype.kind in "biuf":
            attrs.create_dataset(c, data=arr)
        else:
            attrs.create_dataset(c, data=np.asarray(arr, dtype=object), dtype=h5py.string_dtype())

    f.create_dataset("recorded", data=self._recorded.astype(np.uint64), dtype=np.uint64)

    rg = f.create_group("rates")
    for name, (bin_ms, arr) in self.population_rates.items():
        d = rg.create_dataset(name, data=arr, dtype=np.float64)
        d.attrs["bin_ms"] = bin_ms
        d.attrs["units"] = "Hz"
    sg = f.create_group("states")
    for var, (idx, times, values) in self.states.items():
        v = sg.create_group(var)
        v.create_dataset("node_ids", data=idx.astype(np.uint64), dtype=np.uint64)
        t = v.create_dataset("times", data=times, dtype=np.float64)
        t.attrs["units"] = "ms"
        d = v.create_dataset("values", data=values, dtype=np.float64,
                             **({"compression": "gzip", "compression_opts": 4} if values.size else {}))
        d.attrs["units"] = self.state_units[var]


def read(cls, path):
    """Read a results file into ``cls`` (:meth:`sim.Results.load`; its errors)."""
    import h5py

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no larvasim results file at {path}")
    try:
        f = h5py.File(path, "r")
    except OSError as e:
        raise ResultsFileError(f"{path} is not a larvasim results file: it is not an HDF5 "
                               f"file ({e})") from None
    with f:
        missing = [f"attribute {a!r}" for a in ("format", "format_version", "population",
                                                 "n_trials", "duration_ms", "dt_ms", "metadata")
                   if a not in f.attrs]
        pop = str(f.attrs["population"]) if "population" in f.attrs else None
        if pop is None and "spikes" in f and len(f["spikes"]) == 1:
            pop = next(iter(f["spikes"]))
        pop_s = pop if pop is not None else "<population>"
        for item in ("timestamps", "node_ids", "trial_ids"):
            if f.get(f"spikes/{pop_s}/{item}") is None:
                missing.append(f"dataset /spikes/{pop_s}/{item}")
        for item in ("node_id", "0"):
            if f.get(f"nodes/{pop_s}/{item}") is None:
                missing.append(f"/nodes/{pop_s}/{item}")
        if f.get("recorded") is None:
            missing.append("dataset /recorded")
        if missing:
            hint = ""
            if f.get(f"spikes/{pop_s}/timestamps") is not None:
                hint = " (it looks like a plain SONATA spike file; larvasim needs its own extensions)"
            raise ResultsFileError(f"{path} is not a larvasim results file: missing "
                                   f"{', '.join(missing)}{hint}")
        fmt = f.attrs["format"]
        fmt = fmt.decode() if isinstance(fmt, bytes) else str(fmt)
        if fmt != FORMAT_NAME:
            raise ResultsFileError(f"{path} is not a larvasim results file: its format is "
                                   f"{fmt!r}, not {FORMAT_NAME!r}")
        version = int(f.attrs["format_version"])
        if version > FORMAT_VERSION:
            raise ResultsFileError(f"{path} was written in results format {version} by a newer "
                                   f"larvasim; this one reads format <= {FORMAT_VERSION}")
        try:
            return _read(cls, f, pop)
        except (KeyError, ValueError, TypeError) as e:
            raise ResultsFileError(f"{path} is a damaged larvasim results file: {e}") from e


def _read(cls, f, pop: str):
    import h5py

    g = f["spikes"][pop]  # the SONATA "sorting" attribute is not needed: spikes are re-sorted
    units = g["timestamps"].attrs.get("units", "ms")
    units = units.decode() if isinstance(units, bytes) else str(units)
    scale = {"ms": 1.0, "s": 1000.0, "sec": 1000.0, "us": 1e-3}.get(units)
    if scale is None:
        raise ValueError(f"/spikes/{pop}/timestamps has units {units!r}; expected 'ms'")
    times = g["timestamps"][()] * scale
    nodes = g["node_ids"][()].astype(np.int64)
    trials = g["trial_ids"][()]

    ng = f["nodes"][pop]
    node_id = ng["node_id"][()].astype(np.int64)
    attrs = ng["0"]
    cols = json.loads(attrs.attrs["columns"])
    data = {}
    for c in cols:
        ds = attrs[c]
        data[c] = ds.asstr()[()] if h5py.check_string_dtype(ds.dtype) else ds[()]
    neurons = pd.DataFrame(data, columns=cols, index=pd.Index(node_id, name="node_id"))

    rates = {name: (float(d.attrs["bin_ms"]), d[()]) for name, d in f.get("rates", {}).items()}
    states = {}
    for var, v in f.get("states", {}).items():
        u = v["values"].attrs.get("units", "")
        states[var] = (v["node_ids"][()].astype(np.int64), v["times"][()], v["values"][()],
                       u.decode() if isinstance(u, bytes) else str(u))
    return cls(trials, nodes, times, neurons=neurons, n_trials=int(f.attrs["n_trials"]),
               duration=float(f.attrs["duration_ms"]), dt=float(f.attrs["dt_ms"]),
               metadata=json.loads(f.attrs["metadata"]), population=pop,
               recorded=f["recorded"][()].astype(np.int64), rates=rates, states=states)
