"""Export of :class:`sim.Results` to NWB (Neurodata Without Borders), for pynwb, NWB Widgets, DANDI, Neo.

One job: write a results object as an NWB 2 file. ``pynwb`` is imported only
here, only when a file is written (``pip install -e '.[nwb]'``).

Layout
------
Trials are independent simulations (each starts from rest). NWB has one clock
per file, so trial ``k`` is laid on it at ``k x (duration + 1 s)``
(:data:`TRIAL_GAP_MS` between trials: a spike at the very end of one trial
never coincides with the start of the next). All NWB times are seconds.

==========================================  =====================================================
``units``                                   one unit per recorded neuron, id = node id (row of
                                            the connectome's neuron table); ``spike_times`` of
                                            every trial; one column per neuron-table column
                                            (``skid``, ``label``, ``celltype``, ``hemisphere``,
                                            ``modality``, ...); ``resolution`` = dt
``trials``                                  one row per trial (id = trial number), ``n_spikes``
``intervals/drive_<i>``,                    one table per stimulus of ``metadata["stimuli"]``
``intervals/activation_<i>``,               (``i``: its position there): one row per trial with
``intervals/silencing_<i>``                 when it acted; the description names its selection
                                            and neurons (``PoissonDrive``: ``rate_hz``;
                                            ``Silence``: ``mode``)
``acquisition/<var>``                       recorded state variables (``TimeSeries``, columns =
                                            the neurons named in the description)
``processing/learning/kc_mbon_w``           plastic KC->MBON weights over time, if recorded
``processing/population_rates/<name>``      binned population rates, if any
``scratch/larvasim_metadata``               ``Results.metadata`` as JSON text, verbatim (model,
                                            parameters with units and sources, signs, connectome
                                            checksums, seed, versions, stimuli)
``scratch/larvasim_results``                JSON: population, n_trials, duration_ms, dt_ms,
                                            trial_starts_s, state neurons, larvasim version
==========================================  =====================================================

The subject is *Drosophila melanogaster*, a first-instar (L1) larva for the
Winding et al. 2023 connectome. ``session_start_time`` is
``metadata["session_start_time"]`` (ISO 8601) when present, else the fixed
:data:`SESSION_START` (a simulation has no recording date; a fixed one keeps
exports reproducible). The identifier is derived from the content.

Examples
--------
>>> res.to_nwb("run.nwb")                                # doctest: +SKIP
>>> from pynwb import NWBHDF5IO                          # doctest: +SKIP
>>> NWBHDF5IO("run.nwb", "r").read().units.to_dataframe()  # doctest: +SKIP
"""
from __future__ import annotations

import hashlib
import json
import os
import uuid
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

__all__ = ["NWBUnavailableError", "PYNWB_MISSING", "SESSION_START", "TRIAL_GAP_MS", "check_output_path",
           "export_results_file", "require_pynwb", "trial_starts_ms", "write_nwb"]

#: The one-line message when pynwb is not installed.
PYNWB_MISSING = "NWB export needs pynwb: pip install -e '.[nwb]'"
#: Gap between consecutive trials on the file's single clock (ms).
TRIAL_GAP_MS = 1000.0
#: ``session_start_time`` when the metadata has none (a simulation has no recording date).
SESSION_START = datetime(2000, 1, 1, tzinfo=timezone.utc)
#: Name of the plastic-weight state variable (:class:`models.plasticity.DopaminePlasticity`).
LEARNING_VAR = "kc_mbon_w"
_UUID_NAMESPACE = uuid.UUID("6f1c3a52-4d2e-5b7a-9c61-1a2b3c4d5e6f")
_RESERVED = {"id", "spike_times", "spike_times_index", "obs_intervals", "obs_intervals_index", "electrodes",
             "electrodes_index", "electrode_group", "waveform_mean", "waveform_sd", "waveforms",
             "waveforms_index", "waveforms_index_index"}
_COLUMN_DOCS = {
    "skid": "CATMAID skeleton id of the neuron (Winding et al. 2023)",
    "label": "neuron name (larvasim label)",
    "name": "neuron name in the node table",
    "celltype": "cell type",
    "hemisphere": "hemisphere: left, right or center",
    "modality": "sensory modality (';'-separated)",
    "second_order": "second-order sensory class (';'-separated)",
    "mb_name": "mushroom-body name (';'-separated)",
    "annotations": "annotations (';'-separated)",
    "pair_skid": "skeleton id of the contralateral homologue (-1: none)",
}
_STATE_DOCS = {"v": "membrane potential", "g_e": "excitatory conductance", "g_i": "inhibitory conductance",
               LEARNING_VAR: "summed plastic KC->MBON weight of each MBON relative to its value at the trial start"}


class NWBUnavailableError(ImportError):
    """pynwb is not installed; the message says how to install it."""


def require_pynwb():
    """Import pynwb, or raise :class:`NWBUnavailableError` with :data:`PYNWB_MISSING`.

    Returns
    -------
    module
        ``pynwb``.
    """
    try:
        import pynwb
    except ImportError:
        raise NWBUnavailableError(PYNWB_MISSING) from None
    return pynwb


def check_output_path(path) -> Path:
    """Refuse, before any work, an NWB target that cannot be written.

    Parameters
    ----------
    path : path-like
        The NWB file to write.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    ValueError
        ``path`` is a folder, lies under a file, or its folder is not writable (the message names it).
    """
    p = Path(path)
    if p.is_dir():
        raise ValueError(f"NWB output {p}: is a folder; give a file name, e.g. {p / 'results.nwb'}")
    parent = p.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise ValueError(f"NWB output {p}: {parent} is a file, not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ValueError(f"NWB output {p}: cannot write in {parent} (permission denied)")
    return p


def trial_starts_ms(results) -> np.ndarray:
    """Start of every trial on the NWB clock, in ms (trial ``k``: ``k x (duration + TRIAL_GAP_MS)``)."""
    return np.arange(results.n_trials) * (results.duration_ms + TRIAL_GAP_MS)


def export_results_file(results_path, nwb_path) -> Path:
    """Convert a results file written by :meth:`sim.Results.save` into an NWB file.

    Parameters
    ----------
    results_path : path-like
        A larvasim results file (HDF5).
    nwb_path : path-like
        The NWB file to write (replaced atomically if it exists).

    Returns
    -------
    pathlib.Path
        ``nwb_path``.

    Raises
    ------
    NWBUnavailableError
        pynwb is not installed.
    ValueError
        ``nwb_path`` cannot be written (checked before reading anything).
    FileNotFoundError, sim.results.ResultsFileError
        No larvasim results file at ``results_path`` (the message names it).
    """
    from .results import Results

    out = check_output_path(nwb_path)
    require_pynwb()
    if Path(results_path).is_dir():
        raise ValueError(f"{results_path} is a folder, not a larvasim results file")
    return write_nwb(Results.load(results_path), out)


# -- lazily defined chunk iterators (hdmf is imported only with pynwb) ----------------------
def _iterators():
    from hdmf.data_utils import GenericDataChunkIterator

    class SpikeTimes(GenericDataChunkIterator):
        """Spike times in s grouped by unit (node, then trial, then time), computed buffer by buffer."""

        def __init__(self, times_ms, trials, order, starts_ms):
            self._t, self._k, self._o, self._s = times_ms, trials, order, starts_ms
            super().__init__(buffer_shape=(max(1, min(len(order), 1 << 20)),),
                             chunk_shape=(max(1, min(len(order), 1 << 16)),))

        def _get_data(self, selection):
            o = self._o[selection[0]]
            return (self._t[o] + self._s[self._k[o]]) / 1000.0

        def _get_maxshape(self):
            return (len(self._o),)

        def _get_dtype(self):
            return np.dtype(np.float64)

        def __len__(self):
            return len(self._o)

    class TrialValues(GenericDataChunkIterator):
        """``values[trial, neuron, time]`` as rows ``trial x time``, columns neurons, trial by trial."""

        def __init__(self, values):
            self._v = values
            n_tr, n, nt = values.shape
            rows = max(1, min(nt, (8 << 20) // (8 * max(n, 1))))
            super().__init__(buffer_shape=(rows, n), chunk_shape=(rows, n))

        def _get_data(self, selection):
            rows, cols = selection
            nt = self._v.shape[2]
            r = np.arange(rows.start or 0, rows.stop)
            return self._v[r // nt, :, r % nt][:, cols]

        def _get_maxshape(self):
            n_tr, n, nt = self._v.shape
            return (n_tr * nt, n)

        def _get_dtype(self):
            return np.dtype(np.float64)

    return SpikeTimes, TrialValues


# -- the file -----------------------------------------------------------------------------
def write_nwb(results, path, *, session_start_time: datetime | None = None) -> Path:
    """Write ``results`` as an NWB file (layout: :mod:`sim.nwb`), atomically.

    Parameters
    ----------
    results : sim.Results
    path : path-like
        Target file (conventionally ``*.nwb``); its folder is created. Written
        under a temporary name and renamed into place: an error leaves no file
        and an existing one untouched.
    session_start_time : datetime, optional
        Timezone-aware; default ``metadata["session_start_time"]``, else :data:`SESSION_START`.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    NWBUnavailableError
        pynwb is not installed.
    ValueError
        ``path`` cannot be written, or ``session_start_time`` has no timezone.
    """
    from larvasim.util import atomic_path

    from .results import _metadata_json

    path = check_output_path(path)
    pynwb = require_pynwb()
    meta_json = _metadata_json(results.metadata)
    nwbfile = _build(pynwb, results, meta_json, _start_time(results.metadata, session_start_time))
    with atomic_path(path, suffix=".nwb") as tmp, pynwb.NWBHDF5IO(str(tmp), "w") as io:
        io.write(nwbfile)
    return path


def _start_time(metadata, given):
    when = given if given is not None else metadata.get("session_start_time")
    if when is None:
        return SESSION_START
    if isinstance(when, str):
        try:
            when = datetime.fromisoformat(when)
        except ValueError:
            raise ValueError(f"metadata['session_start_time'] = {when!r} is not an ISO 8601 time") from None
    if not isinstance(when, datetime) or when.tzinfo is None:
        raise ValueError(f"session_start_time must be a timezone-aware datetime, got {when!r}")
    return when


def _identifier(results, meta_json: str) -> str:
    h = hashlib.sha256(meta_json.encode())
    for a in (results.spike_trials, results.spike_nodes, results.spike_times):
        h.update(np.ascontiguousarray(a).data)
    h.update(f"{results.n_trials}/{results.duration_ms}/{results.dt_ms}/{results.population}".encode())
    return str(uuid.uuid5(_UUID_NAMESPACE, h.hexdigest()))


def _dois(obj, out: list) -> list:
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k == "doi" and isinstance(v, str) and v:
                d = v if v.startswith(("doi:", "https://doi.org/")) else f"doi:{v}"
                if d not in out:
                    out.append(d)
            else:
                _dois(v, out)
    return out


def _describe_run(results) -> str:
    m = results.metadata
    net = m.get("network") if isinstance(m.get("network"), dict) else {}
    model = (net.get("model") or {}).get("model") if isinstance(net.get("model"), dict) else None
    signs = (net.get("signs") or {}).get("policy") if isinstance(net.get("signs"), dict) else None
    bits = [f"larvasim simulation of the {results.population} connectome: {results.n_trials} trial(s) of "
            f"{results.duration_ms:g} ms, dt {results.dt_ms:g} ms"]
    if model:
        bits.append(f"model {model}")
    if signs:
        bits.append(f"signs {signs}")
    if "seed" in m:
        bits.append(f"seed {m['seed']}")
    return ", ".join(bits)


def _build(pynwb, results, meta_json: str, start: datetime):
    from pynwb.file import Subject

    from larvasim.util import larvasim_version

    starts_ms = trial_starts_ms(results)
    larva = results.population.startswith("winding2023")
    subject = Subject(  # age: the first larval instar lasts about one day after hatching
        subject_id=results.population, species="Drosophila melanogaster", sex="U", age="P0D/P1D",
        age__reference="birth",
        description=("first-instar (L1) larva (simulated whole brain; connectome of Winding et al. 2023)"
                     if larva else f"first-instar (L1) larva (simulated; connectome {results.population!r})"))
    nwbfile = pynwb.NWBFile(
        session_description=_describe_run(results), identifier=_identifier(results, meta_json),
        session_start_time=start, experiment_description=_describe_run(results),
        notes=("Simulated with larvasim; not recorded from an animal. Trials are independent simulations laid "
               f"on one clock {TRIAL_GAP_MS:g} ms apart; the full larvasim metadata is the JSON text in "
               "scratch/larvasim_metadata."),
        source_script=f"larvasim {larvasim_version()}", source_script_file_name="larvasim",
        keywords=["Drosophila larva", "connectome", "simulation", "spiking network", "larvasim"],
        related_publications=_dois(results.metadata.get("network", {}), []) or None,
        subject=subject)
    _add_units(nwbfile, results, starts_ms)
    _add_trials(nwbfile, results, starts_ms)
    _add_stimuli(nwbfile, results, starts_ms)
    state_neurons = _add_states(pynwb, nwbfile, results, starts_ms)
    _add_rates(pynwb, nwbfile, results, starts_ms)
    nwbfile.add_scratch(meta_json, name="larvasim_metadata",
                        description="Results.metadata of larvasim as JSON text (model, parameters with units "
                                    "and sources, signs, stimuli, connectome provenance and checksums, seed, "
                                    "versions)")
    facts = {"format": "larvasim-results", "population": results.population, "n_trials": results.n_trials,
             "duration_ms": results.duration_ms, "dt_ms": results.dt_ms, "trial_gap_ms": TRIAL_GAP_MS,
             "trial_starts_s": (starts_ms / 1000.0).tolist(), "recorded": results.recorded.tolist(),
             "state_neurons": state_neurons, "state_units": dict(results.state_units),
             "larvasim_version": larvasim_version()}
    nwbfile.add_scratch(json.dumps(facts), name="larvasim_results",
                        description="larvasim facts of these results as JSON text (clock layout of the trials, "
                                    "recorded neurons, neurons of every state variable)")
    return nwbfile


def _add_units(nwbfile, results, starts_ms) -> None:
    from hdmf.common import ElementIdentifiers, VectorData, VectorIndex
    from pynwb.misc import Units

    SpikeTimes, _ = _iterators()
    rec = results.recorded
    pos = results.neurons.index.get_indexer(rec)
    nodes = results.spike_nodes
    order = np.lexsort((results.spike_times, results.spike_trials, nodes))  # by node, trial, time
    counts = np.cumsum(np.bincount(np.searchsorted(rec, nodes), minlength=len(rec)))
    data = (SpikeTimes(results.spike_times, results.spike_trials, order, starts_ms) if len(order)
            else np.zeros(0, dtype=np.float64))
    st = VectorData(name="spike_times", description="spike times (s) of all trials, on the file's clock",
                    data=data)
    cols = [VectorIndex(name="spike_times_index", data=counts.astype(np.int64), target=st), st]
    for c in results.neurons.columns:
        name = f"neuron_{c}" if c in _RESERVED or hasattr(Units, str(c)) else str(c)  # e.g. "name"
        arr = results.neurons[c].to_numpy()[pos]
        data = arr if arr.dtype.kind in "biuf" else [str(v) for v in arr]
        cols.append(VectorData(name=name, data=data,
                               description=_COLUMN_DOCS.get(c, f"neuron-table column {c!r} of the connectome")))
    nwbfile.units = Units(
        name="units", id=ElementIdentifiers(name="id", data=rec.astype(np.int64)), columns=cols,
        colnames=[c.name for c in cols if not isinstance(c, VectorIndex)], resolution=results.dt_ms / 1000.0,
        description=(f"every recorded neuron of {results.population}; unit id = node id (row of the connectome's "
                     "neuron table); spikes of all trials (trial k starts at trials.start_time[k])"))


def _add_trials(nwbfile, results, starts_ms) -> None:
    n_spikes = np.bincount(results.spike_trials, minlength=results.n_trials)
    nwbfile.add_trial_column("n_spikes", "number of spikes of the recorded neurons in the trial")
    for k, t0 in enumerate(starts_ms):
        nwbfile.add_trial(start_time=t0 / 1000.0, stop_time=(t0 + results.duration_ms) / 1000.0,
                          n_spikes=int(n_spikes[k]), id=k)


def _stimulus_groups(results) -> list:
    """``[(stimulus dict, [trials])]``, concatenated runs' identical stimuli merged."""
    m = results.metadata
    groups: list = []
    if isinstance(m.get("stimuli"), list):
        parts = [(m["stimuli"], range(results.n_trials))]
    else:  # Results.concat: each part's trials, [first, last] (or a count, when a "trials" entry replaced it)
        parts, first = [], 0
        for p in m.get("concatenated_parts", []):
            span = p.get("trials") if isinstance(p, dict) else None
            if isinstance(span, list) and len(span) == 2:
                first, stop = int(span[0]), int(span[1]) + 1
            elif isinstance(span, int) and not isinstance(span, bool):
                stop = first + span
            else:
                break
            parts.append((p.get("stimuli", []), range(first, min(stop, results.n_trials))))
            first = stop
    for stimuli, trials in parts:
        for s in stimuli if isinstance(stimuli, list) else []:
            if not isinstance(s, dict) or "kind" not in s:
                continue
            key = json.dumps(s, sort_keys=True, default=str)
            hit = next((g for g in groups if g[0] == key), None)
            if hit is None:
                groups.append((key, s, list(trials)))
            else:
                hit[2].extend(trials)
    return [(s, trials) for _, s, trials in groups]


def _add_stimuli(nwbfile, results, starts_ms) -> None:
    from pynwb.epoch import TimeIntervals

    kinds = {"PoissonDrive": "drive", "Activation": "activation", "Silence": "silencing"}
    D = results.duration_ms
    for i, (s, trials) in enumerate(_stimulus_groups(results)):
        kind = str(s["kind"])
        prefix = kinds.get(kind, "stimulus")
        ids = s.get("indices", [])
        what = (f"{kind} {s.get('name') or ''}".rstrip() + f" of {s.get('target', '?')}: {len(ids)} neuron(s), "
                f"node ids {ids}")
        if kind == "Silence":
            what += f"; mode {s.get('mode')} (outgoing: their synapses off; all: also their firing)"
        else:
            what += (f"; rate {s.get('rate_hz')} Hz, dead time {s.get('dead_time_ms')} ms (Poisson input "
                     "events onto each neuron)")
        table = TimeIntervals(name=f"{prefix}_{i}", description=what + "; metadata['stimuli'] has it in full")
        table.add_column("trial", "trial number (row of the trials table)")
        if kind == "Silence":
            table.add_column("mode", "outgoing or all")
        else:
            table.add_column("rate_hz", "rate of input events per neuron (Hz; NaN: a function of time)")
        for k in sorted(trials):
            a = s.get("start_ms") if kind != "Silence" else None
            b = s.get("stop_ms") if kind != "Silence" else None
            a = 0.0 if a is None else min(float(a), D)
            b = D if b is None else min(float(b), D)
            row = {"start_time": (starts_ms[k] + a) / 1000.0, "stop_time": (starts_ms[k] + b) / 1000.0,
                   "trial": int(k)}
            if kind == "Silence":
                row["mode"] = str(s.get("mode", ""))
            else:
                rate = s.get("rate_hz")
                row["rate_hz"] = float(rate) if isinstance(rate, (int, float)) else float("nan")
            table.add_row(**row)
        nwbfile.add_time_intervals(table)


def _times_kwargs(times_ms, starts_ms) -> dict:
    """``starting_time`` and ``rate`` when the samples are regular on the clock, else ``timestamps`` (s)."""
    stamps = (starts_ms[:, None] + np.asarray(times_ms)[None, :]).ravel() / 1000.0
    d = np.diff(stamps)
    if len(stamps) > 1 and d[0] > 0 and np.allclose(d, d[0], rtol=0, atol=1e-9):
        return {"starting_time": float(stamps[0]), "rate": float(1.0 / d[0])}
    return {"timestamps": stamps}


def _add_states(pynwb, nwbfile, results, starts_ms) -> dict:
    _, TrialValues = _iterators()
    out = {}
    for var, (idx, times, values) in results.states.items():
        if values.size == 0:
            continue
        out[var] = idx.tolist()
        pos = results.neurons.index.get_indexer(idx)
        who = [f"{int(n)} ({results.neurons['label'].iloc[p]}, skid {results.neurons['skid'].iloc[p]})"
               for n, p in zip(idx, pos)]
        desc = (f"{_STATE_DOCS.get(var, var)}; rows: trial x time (trial k starts at trials.start_time[k]); "
                f"column j: neuron node id {', '.join(who)} (in this order)")
        ts = pynwb.TimeSeries(name=var, data=TrialValues(values), unit=results.state_units.get(var) or "n.a.",
                              description=desc, comments="simulated by larvasim",
                              **_times_kwargs(times, starts_ms))
        if var == LEARNING_VAR:
            mod = nwbfile.processing.get("learning") or nwbfile.create_processing_module(
                "learning", "plastic KC->MBON synaptic weights of the mushroom body over time")
            mod.add(ts)
        else:
            nwbfile.add_acquisition(ts)
    return out


def _add_rates(pynwb, nwbfile, results, starts_ms) -> None:
    if not results.population_rates:
        return
    mod = nwbfile.create_processing_module("population_rates", "binned population firing rates (Hz)")
    for name, (bin_ms, arr) in results.population_rates.items():
        if arr.size == 0:
            continue
        times = np.arange(arr.shape[1]) * bin_ms
        mod.add(pynwb.TimeSeries(name=name, data=np.asarray(arr).reshape(-1), unit="Hz",
                                 description=f"population rate {name!r} in bins of {bin_ms:g} ms (time: bin start)",
                                 **_times_kwargs(times, starts_ms)))
