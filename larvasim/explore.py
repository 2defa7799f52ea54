"""``larvasim explore``: the whole larva brain in the browser, for students.

A local web app (Panel on Bokeh; every script and style sheet is served by the app itself, nothing is
fetched from the internet) in which a student sets up a condition -- a sensory stimulus (modality, side,
rate, window), neurons to activate or silence (by cell type or name), the model (the larval model or the
adult fly model of Shiu et al. 2024), the sign policy and the seed -- runs the whole brain on the numba
engine and sees the spike raster by cell type, the population rates, the descending-output heatmap and
the signal-cascade prediction beside the spiking result; two conditions (A and B) side by side, their
outputs compared; results (HDF5, NWB) and figures (PNG) to download.

The simulation is done by plain functions, testable without a browser; the page is a thin layer on them:

* :func:`stimuli_of` -- a :class:`ConditionSpec` checked and turned into stimuli (errors as
  :class:`ExploreError`, whose message the page shows);
* :func:`run_condition` -- run one condition (networks cached per model and signs: :class:`Explorer`);
* :func:`cascade_prediction` -- the cascade of Winding et al. 2023 from the driven neurons, with the
  spiking response of every output neuron beside it;
* :func:`figures` -- Bokeh figures of one run (raster, rates, readout, cascade); :func:`compare_figure`
  and :func:`compare_table` for A and B; :func:`figure_png`, :func:`results_bytes` for the downloads;
* :func:`build_app` and :func:`serve` -- the page (needs panel: ``pip install -e '.[explore]'``).
"""
from __future__ import annotations

import asyncio
import io
import logging
import tempfile
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

import numpy as np
import pandas as pd

__all__ = ["ExploreError", "ExploreUnavailableError", "PANEL_MISSING", "Manipulation", "ConditionSpec",
           "Outcome", "Explorer", "RunFigures", "CompareFigure", "stimuli_of", "run_condition", "cascade_prediction", "figures",
           "compare_figure", "compare_table", "figure_png", "results_bytes", "require_panel", "build_app",
           "serve", "MODELS", "SIGNS", "MAX_RATE_HZ", "MAX_DURATION_MS", "MAX_TRIALS", "FIGURES"]

_log = logging.getLogger("larvasim.explore")

#: The one-line message when panel is not installed.
PANEL_MISSING = "the explorer needs panel: pip install -e '.[explore]'"
#: Models offered in the page: name -> label (and the signs each is used with by default).
MODELS = {"larval_lif": "larval model (default)", "current_lif": "adult fly model (Shiu et al. 2024)"}
DEFAULT_SIGNS_OF = {"larval_lif": "literature", "current_lif": "excitatory"}
#: Sign policies offered in the page (models.signs).
SIGNS = ("literature", "excitatory", "random")
#: Limits of the page's inputs (a whole-brain run must stay interactive).
MAX_RATE_HZ = 500.0
MAX_DURATION_MS = 5000.0
MIN_DURATION_MS = 50.0
MAX_TRIALS = 20
SIDES = ("both", "left", "right")
SILENCE_MODES = ("outgoing", "all")
#: The figures of one run, in the page's order.
FIGURES = ("raster", "rates", "readout", "cascade")
#: Cascades per prediction and the hops they run (Winding et al. 2023).
CASCADES = 1000
_OUTPUTS = ("DN-VNC", "DN-SEZ", "RGN")
_BIN_MS = 20.0


class ExploreError(ValueError):
    """A condition the explorer cannot run; the message is written for the student and shown in the page."""


class ExploreUnavailableError(ImportError):
    """panel is not installed; the message says how to install it."""


def require_panel():
    """Import panel, or raise :class:`ExploreUnavailableError` with :data:`PANEL_MISSING`."""
    try:
        import panel
    except ImportError:
        raise ExploreUnavailableError(PANEL_MISSING) from None
    return panel


# --------------------------------------------------------------------------- the condition
@dataclass(frozen=True)
class Manipulation:
    """One stimulus of a condition, as the page sets it.

    ``kind``: ``"drive"`` (sensory neurons of ``modality``), ``"activate"`` or ``"silence"`` (neurons of
    the cell types ``celltype`` and/or matching the name pattern(s) ``name``: ``"DAN-*"``, ``"APL"``,
    several separated by ``,`` or ``|``). ``side``: ``both``, ``left`` or ``right``. Drives and
    activations have a ``rate_hz`` in ``start_ms..stop_ms``; silencing a ``mode`` (``outgoing``: the
    neurons fire but transmit nothing; ``all``: they do not fire).
    """

    kind: str
    modality: str | None = None
    celltype: tuple = ()
    name: str = ""
    side: str = "both"
    rate_hz: float = 150.0
    start_ms: float = 200.0
    stop_ms: float = 700.0
    mode: str = "outgoing"

    def describe(self) -> str:
        what = []
        if self.modality:
            what.append(self.modality)
        if self.celltype:
            what.append("+".join(self.celltype))
        if self.name.strip():
            what.append(f"name {self.name.strip()}")
        side = "" if self.side == "both" else f" ({self.side})"
        how = (f", mode {self.mode}" if self.kind == "silence"
               else f" at {self.rate_hz:g} Hz, {self.start_ms:g}-{self.stop_ms:g} ms")
        return f"{self.kind} {' & '.join(what) or '(nothing)'}{side}{how}"


@dataclass(frozen=True)
class ConditionSpec:
    """One condition of the explorer: model, signs, seed, length and stimuli."""

    label: str = "A"
    model: str = "larval_lif"
    signs: str = "literature"
    seed: int = 0
    trials: int = 1
    duration_ms: float = 1000.0
    stimuli: tuple = field(default_factory=tuple)

    def describe(self) -> str:
        stim = "; ".join(m.describe() for m in self.stimuli) or "no stimulus"
        return (f"{self.label}: {MODELS.get(self.model, self.model)}, signs {self.signs}, seed {self.seed}, "
                f"{self.trials} trial(s) of {self.duration_ms:g} ms; {stim}")


def _number(value, what: str, low: float, high: float, *, whole: bool = False, low_open: bool = False):
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ExploreError(f"{what}: {value!r} is not a number") from None
    if not np.isfinite(v) or (v <= low if low_open else v < low) or v > high or (whole and v != int(v)):
        kind = "a whole number" if whole else "a number"
        lo = f"> {low:g}" if low_open else f">= {low:g}"
        raise ExploreError(f"{what} must be {kind} {lo} and <= {high:g}, got {value!r}")
    return int(v) if whole else v


def _patterns(text: str) -> list[str]:
    return [p.strip() for p in str(text or "").replace("|", ",").split(",") if p.strip()]


def _selection(connectome, m: Manipulation, where: str):
    from connectomes.errors import SelectionError

    kw = {}
    if m.kind == "drive":
        if not m.modality:
            raise ExploreError(f"{where}: pick a modality to stimulate")
        kw["modality"] = m.modality
    else:
        if m.celltype:
            kw["celltype"] = list(m.celltype)
        names = _patterns(m.name)
        if names:
            kw["name"] = names
        if not kw:
            raise ExploreError(f"{where}: empty selection -- pick cell types or give a name pattern (e.g. DAN-*)")
    if m.side not in SIDES:
        raise ExploreError(f"{where}: side must be one of {', '.join(SIDES)}, got {m.side!r}")
    if m.side != "both":
        kw["hemisphere"] = m.side
    try:
        sel = connectome.select(**kw)
    except SelectionError as exc:
        raise ExploreError(f"{where}: {exc}") from None
    if len(sel.indices) == 0:
        raise ExploreError(f"{where}: the selection is empty")
    return sel


def stimuli_of(connectome, spec: ConditionSpec) -> list:
    """The stimuli of ``spec`` on ``connectome``, every input checked first.

    Raises
    ------
    ExploreError
        Nothing selected, a pattern or combination that matches no neuron, a rate, window, duration,
        trial count, seed, model or sign policy out of range (the message names the field).
    """
    from brian2 import Hz, ms

    from sim.stimuli import Activation, PoissonDrive, Silence

    label = spec.label
    if spec.model not in MODELS:
        raise ExploreError(f"{label}: model must be one of {', '.join(MODELS)}, got {spec.model!r}")
    if spec.signs not in SIGNS:
        raise ExploreError(f"{label}: signs must be one of {', '.join(SIGNS)}, got {spec.signs!r}")
    duration = _number(spec.duration_ms, f"{label}: duration (ms)", MIN_DURATION_MS, MAX_DURATION_MS)
    _number(spec.trials, f"{label}: trials", 1, MAX_TRIALS, whole=True)
    _number(spec.seed, f"{label}: seed", 0, 2 ** 31 - 1, whole=True)
    if not spec.stimuli:
        raise ExploreError(f"{label}: nothing selected -- pick a modality to stimulate, or cell types or a "
                           "name to activate or silence")
    out = []
    for m in spec.stimuli:
        where = f"{label}: {'stimulus' if m.kind == 'drive' else m.kind}"
        if m.kind not in ("drive", "activate", "silence"):
            raise ExploreError(f"{where}: unknown kind {m.kind!r}")
        if m.kind == "silence":
            if m.mode not in SILENCE_MODES:
                raise ExploreError(f"{where}: mode must be one of {', '.join(SILENCE_MODES)}, got {m.mode!r}")
            out.append(Silence(_selection(connectome, m, where), mode=m.mode))
            continue
        rate = _number(m.rate_hz, f"{where}: rate (Hz)", 0, MAX_RATE_HZ, low_open=True)
        start = _number(m.start_ms, f"{where}: window start (ms)", 0, duration)
        stop = _number(m.stop_ms, f"{where}: window stop (ms)", 0, duration)
        if not start < stop:
            raise ExploreError(f"{where}: the window must start before it stops and within the run "
                               f"(0..{duration:g} ms), got {start:g}-{stop:g} ms")
        sel = _selection(connectome, m, where)
        cls = PoissonDrive if m.kind == "drive" else Activation
        out.append(cls(sel, rate * Hz, start=start * ms, stop=stop * ms, name=m.describe()))
    return out


# --------------------------------------------------------------------------- running
@dataclass
class Outcome:
    """One run of a condition: its results, the cascade beside it, and how long it took."""

    spec: ConditionSpec
    results: object
    cascade: pd.DataFrame | None
    run_s: float
    cascade_s: float

    def summary(self) -> str:
        r = self.results
        ro = r.readout()
        outs = ", ".join(f"{g} {h:.1f} Hz" for g, h in zip(ro["group"], ro["mean_hz"]) if np.isfinite(h))
        return (f"{self.spec.label}: {r.n_spikes:,} spikes in {r.n_trials} trial(s); outputs: {outs}; "
                f"run {self.run_s:.2f} s, cascade {self.cascade_s:.2f} s")


class Explorer:
    """The explorer's state shared by every page: the connectome and the networks built on it.

    A :class:`sim.Network` is built once per (model, signs) and kept (on the numba engine a run of 1 s of
    the whole brain then takes about 0.1 s); cascades are kept per source set and silencing. Runs are
    serialised by a lock (the engine already uses every core).
    """

    def __init__(self, connectome, *, threads: int | None = None, max_networks: int = 4):
        import brian2  # noqa: F401 - imported here, in the calling (main) thread: it installs a signal handler

        self.connectome = connectome
        self.threads = threads
        self.max_networks = max_networks
        self._networks: OrderedDict = OrderedDict()
        self._cascades: OrderedDict = OrderedDict()
        self._lock = threading.Lock()
        self._graph = None

    def network(self, model: str, signs: str):
        """The network of ``model`` with ``signs`` (built at the first use, then cached)."""
        import sim

        key = (model, signs)
        if key not in self._networks:
            self._networks[key] = sim.Network(self.connectome, model=model, signs=signs, device="numba",
                                              threads=self.threads)
            while len(self._networks) > self.max_networks:
                self._networks.popitem(last=False)
        self._networks.move_to_end(key)
        return self._networks[key]

    def run(self, spec: ConditionSpec, *, cascade: bool = True) -> Outcome:
        """Check and run ``spec``; with ``cascade``, the cascade prediction beside it."""
        from brian2 import ms

        stimuli = stimuli_of(self.connectome, spec)
        with self._lock:
            net = self.network(spec.model, spec.signs)
            t0 = time.perf_counter()
            res = net.run(stimuli, duration=float(spec.duration_ms) * ms, trials=int(spec.trials),
                          seed=int(spec.seed), progress=False)
            t1 = time.perf_counter()
            casc = self._cascade(stimuli, res) if cascade else None
            t2 = time.perf_counter()
        return Outcome(spec, res, casc, t1 - t0, t2 - t1)

    def _cascade(self, stimuli, results):
        from sim.stimuli import PoissonDrive

        if not any(isinstance(s, PoissonDrive) for s in stimuli):
            return None
        if self._graph is None:
            from sim.analysis.cascade import stop_mask

            self._graph = (self.connectome.weights(types=("ad",)).tocsr(), stop_mask(self.connectome))
        key = _cascade_key(stimuli)
        hits = self._cascades.get(key)
        if hits is None:
            hits = _cascade_hits(self.connectome, stimuli, graph=self._graph)
            self._cascades[key] = hits
            while len(self._cascades) > 32:
                self._cascades.popitem(last=False)
        return _cascade_table(self.connectome, hits, stimuli, results)

    def warm_up(self, spec: ConditionSpec | None = None) -> float:
        """Run the page's starting condition once (network built, numba kernels compiled or loaded, its cascade
        kept), so that the first run in the page is as fast as the next; seconds taken."""
        t0 = time.perf_counter()
        self.run(spec or default_spec(self.connectome))
        return time.perf_counter() - t0


def default_spec(connectome, label: str = "A", **kw) -> ConditionSpec:
    """The page's starting condition: both sides' olfactory neurons at 150 Hz, 200-700 ms of 1 s."""
    duration = kw.pop("duration_ms", 1000.0)
    drive = Manipulation("drive", modality="olfactory", rate_hz=150.0, start_ms=min(200.0, duration / 5),
                         stop_ms=min(700.0, duration))
    return ConditionSpec(label=label, duration_ms=duration, stimuli=(drive,), **kw)


#: Networks cached per connectome for :func:`run_condition` (one Explorer per connectome object).
_EXPLORERS: dict = {}


def run_condition(connectome, spec: ConditionSpec, *, explorer: Explorer | None = None):
    """Run one condition of the explorer; returns :class:`sim.Results`.

    Networks are cached per model and signs (in ``explorer``, else one kept per connectome), so a second
    run with other stimuli, seed or trials starts at once.

    Raises
    ------
    ExploreError
        An input the explorer refuses (see :func:`stimuli_of`).
    """
    if explorer is None:
        explorer = _EXPLORERS.get(id(connectome))
        if explorer is None or explorer.connectome is not connectome:
            explorer = _EXPLORERS[id(connectome)] = Explorer(connectome)
    return explorer.run(spec, cascade=False).results


# --------------------------------------------------------------------------- the cascade beside the spikes
def _silenced(stimuli, n):
    from sim.stimuli import Silence, as_indices

    out_off, all_off = np.zeros(n, bool), np.zeros(n, bool)
    for s in stimuli:
        if isinstance(s, Silence):
            idx = as_indices(s.target, n)
            out_off[idx] = True
            if s.mode == "all":
                all_off[idx] = True
    return out_off, all_off


def _sources(stimuli, n):
    from sim.stimuli import PoissonDrive, as_indices

    idx = [as_indices(s.target, n) for s in stimuli if isinstance(s, PoissonDrive)]
    return np.unique(np.concatenate(idx)) if idx else np.zeros(0, np.int64)


def _cascade_key(stimuli):
    n = 1 << 30
    src = _sources(stimuli, n)
    from sim.stimuli import Silence, as_indices

    sil = tuple(sorted((s.mode, as_indices(s.target, n).tobytes()) for s in stimuli if isinstance(s, Silence)))
    return src.tobytes(), sil


def _cascade_hits(connectome, stimuli, *, graph=None, n: int = CASCADES, seed: int = 0):
    """Cascade hits (N x hops+1) from the driven and activated neurons on the axo-dendritic graph; silenced
    neurons pass nothing on (``mode="all"``: they are not reached either)."""
    import scipy.sparse as sp

    from sim.analysis.cascade import run_cascades, stop_mask

    W, stopm = graph if graph is not None else (connectome.weights(types=("ad",)).tocsr(), stop_mask(connectome))
    N = connectome.n_neurons
    out_off, all_off = _silenced(stimuli, N)
    src = _sources(stimuli, N)
    src = src[~all_off[src]]
    if out_off.any():
        keep_row = sp.diags((~out_off).astype(float))
        keep_col = sp.diags((~all_off).astype(float))
        W = (keep_row @ W @ keep_col).tocsr()
        W.eliminate_zeros()
    if src.size == 0:
        return np.zeros((N, 9), np.int64)
    return run_cascades(W, src, stop=stopm, n=n, seed=seed)


def _window_of(stimuli, duration_ms: float) -> tuple[float, float]:
    from sim.stimuli import PoissonDrive

    from brian2 import ms

    ws = [(float(s.start / ms), float(s.stop / ms) if s.stop is not None else duration_ms)
          for s in stimuli if isinstance(s, PoissonDrive)]
    if not ws:
        return 0.0, duration_ms
    return min(a for a, _ in ws), max(b for _, b in ws)


def _cascade_table(connectome, hits, stimuli, results) -> pd.DataFrame:
    from sim.analysis.cascade import output_neurons

    outs = np.unique(np.concatenate(list(output_neurons(connectome).values())))
    start, stop = _window_of(stimuli, results.duration_ms)
    rates = results.mean_rates((start, stop))
    resp = results.response_probability(after=start, window=(start, stop))
    n_casc = CASCADES
    t = connectome.neurons.loc[outs, ["celltype", "label", "hemisphere"]].copy()
    t["cascade_hit_probability"] = np.minimum(hits[outs, 1:].sum(axis=1) / n_casc, 1.0)
    t["spiking_rate_hz"] = rates["mean_hz"].to_numpy()[outs]
    t["spiking_p_response"] = resp["p_response"].to_numpy()[outs]
    t.index.name = "node_id"
    t.attrs["window_ms"] = (start, stop)
    return t


def cascade_prediction(connectome, spec: ConditionSpec, results) -> pd.DataFrame:
    """The signal cascade (Winding et al. 2023: p = 0.05 per synapse, 8 hops, 1000 cascades, outputs as stop
    nodes, axo-dendritic graph) from the neurons ``spec`` drives or activates, beside ``results``.

    Returns
    -------
    pandas.DataFrame
        One row per output neuron (DN-VNC, DN-SEZ, RGN), index ``node_id``: ``celltype``, ``label``,
        ``hemisphere``, ``cascade_hit_probability`` (share of cascades that reach it), ``spiking_rate_hz``
        (mean rate during the stimulus window) and ``spiking_p_response`` (share of trials with a spike
        in it). Silenced neurons pass no signal on in the cascade either.

    Raises
    ------
    ExploreError
        ``spec`` drives and activates nothing (a cascade needs sources).
    """
    stimuli = stimuli_of(connectome, spec)
    if _sources(stimuli, connectome.n_neurons).size == 0:
        raise ExploreError(f"{spec.label}: the cascade needs driven or activated neurons")
    return _cascade_table(connectome, _cascade_hits(connectome, stimuli), stimuli, results)


# --------------------------------------------------------------------------- figures (Bokeh, in the page)
def _group_order(neurons: pd.DataFrame) -> list:
    groups = list(dict.fromkeys(neurons["celltype"].astype(str)))
    return [g for g in _OUTPUTS if g in groups] + sorted(g for g in groups if g not in _OUTPUTS)


def _colors(groups) -> dict:
    from matplotlib.colors import to_hex

    from sim.analysis.plots import celltype_colors

    return {g: to_hex(c) for g, c in celltype_colors(groups).items()}


def _figure(**kw):
    from bokeh.plotting import figure

    kw.setdefault("tools", "pan,wheel_zoom,box_zoom,reset,save")
    kw.setdefault("sizing_mode", "stretch_width")
    return figure(**kw)


def _rows(neurons: pd.DataFrame):
    """Raster row of every neuron (grouped by cell type, outputs first), tick positions and labels."""
    order = _group_order(neurons)
    ct = neurons["celltype"].astype(str).to_numpy()
    row = np.empty(len(neurons), np.int64)
    group = np.empty(len(neurons), np.int64)
    ticks, labels, y = [], {}, 0
    for k, g in enumerate(order):
        members = np.flatnonzero(ct == g)
        row[members] = y + np.arange(members.size)
        group[members] = k
        ticks.append(float(y + members.size / 2))
        labels[float(y + members.size / 2)] = f"{g} ({members.size})"
        y += members.size
    return order, row, group, ticks, labels


class RunFigures:
    """The Bokeh figures of one condition (``raster``, ``rates``, ``readout``, ``cascade``), built once for a
    neuron table and updated in place by :meth:`update` (only new data travels to the page).

    Each figure is named ``prefix + key``; its data source is named ``prefix + key + "-data"``.
    """

    def __init__(self, neurons: pd.DataFrame, prefix: str = ""):
        from bokeh.models import ColumnDataSource, FixedTicker, HoverTool, LinearColorMapper, Range1d, Span
        from bokeh.palettes import Magma256

        self.neurons, self.prefix = neurons, prefix
        self.order, self.row, self.group, ticks, labels = _rows(neurons)
        self.colors = _colors(self.order)
        palette = [self.colors[g] for g in self.order]
        n = len(neurons)
        src = {k: ColumnDataSource(name=f"{prefix}{k}-data") for k in FIGURES}
        self.sources = src
        # raster: one renderer, colour by group index
        r = _figure(height=520, name=f"{prefix}raster", output_backend="canvas", x_axis_label="time (ms)",
                    title=f"spikes by cell type (press Run {prefix.rstrip('-')})")
        src["raster"].data = {"x": np.zeros(0, np.float32), "y": np.zeros(0, np.float32), "g": np.zeros(0, np.float32)}
        cmap = LinearColorMapper(palette=palette, low=-0.5, high=len(palette) - 0.5)
        r.scatter("x", "y", source=src["raster"], marker="square", size=1.6, line_color=None,
                  fill_color={"field": "g", "transform": cmap})
        r.x_range = Range1d(0, 1000)
        r.y_range = Range1d(n, -1)
        r.yaxis.ticker = FixedTicker(ticks=ticks)
        r.yaxis.major_label_overrides = labels
        r.yaxis.major_label_text_font_size = "7pt"
        # rates: one multi_line, legend by group
        q = _figure(height=380, name=f"{prefix}rates", x_axis_label="time (ms)", y_axis_label="rate (Hz)",
                    title="population rates by cell type")
        src["rates"].data = {"xs": [], "ys": [], "color": [], "width": [], "group": []}
        q.multi_line("xs", "ys", source=src["rates"], line_color="color", line_width="width", legend_field="group")
        q.add_tools(HoverTool(tooltips=[("cell type", "@group")]))
        q.legend.label_text_font_size = "7pt"
        q.add_layout(q.legend[0], "right")
        # readout: output neurons x time
        h = _figure(height=300, name=f"{prefix}readout", x_axis_label="time (ms)", title="output neurons over time")
        src["readout"].data = {"image": [np.zeros((1, 1), np.float32)], "dw": [1000.0], "dh": [1.0]}
        self.readout_map = LinearColorMapper(palette=Magma256, low=0, high=1)
        h.image(image="image", x=0, y=0, dw="dw", dh="dh", source=src["readout"], color_mapper=self.readout_map)
        from bokeh.models import ColorBar

        h.add_layout(ColorBar(color_mapper=self.readout_map, title="Hz"), "right")
        h.x_range = Range1d(0, 1000)
        h.y_range = Range1d(0, 1)
        h.yaxis.ticker = FixedTicker(ticks=[])
        # cascade vs spiking
        c = _figure(height=320, name=f"{prefix}cascade", x_axis_label="cascade hit probability (8 hops, 1000 cascades)",
                    y_axis_label="spiking rate in the window (Hz)", title="cascade prediction vs spiking")
        src["cascade"].data = {"x": [], "y": [], "color": [], "celltype": [], "label": [], "side": []}
        c.scatter("x", "y", source=src["cascade"], size=6, alpha=0.7, color="color", legend_field="celltype")
        c.add_layout(Span(location=0.5, dimension="height", line_dash="dashed", line_color="gray"))
        c.add_tools(HoverTool(tooltips=[("neuron", "@label (@side)"), ("cascade", "@x{0.00}"),
                                        ("rate", "@y{0.0} Hz")]))
        c.legend.location = "top_left"
        c.x_range = Range1d(-0.03, 1.03)
        self.figures = {"raster": r, "rates": q, "readout": h, "cascade": c}

    def update(self, results, cascade: pd.DataFrame | None = None, trial: int = 0, bin_ms: float = 10.0):
        """Show ``results`` (trial ``trial`` in the raster) and the cascade table beside it."""
        from bokeh.models import FixedTicker

        f, src = self.figures, self.sources
        nt = results.neurons
        sl = results._trial_slice(trial)
        pos = nt.index.get_indexer(results.spike_nodes[sl])
        times = results.spike_times[sl]
        src["raster"].data = {"x": times.astype(np.float32), "y": self.row[pos].astype(np.float32),
                              "g": self.group[pos].astype(np.float32)}
        f["raster"].title.text = (f"spikes by cell type, trial {trial + 1} of {results.n_trials}: {len(times):,} "
                                  f"spikes ({results.n_spikes:,} in all trials)")
        f["raster"].x_range.end = results.duration_ms
        # rates
        ct = nt["celltype"].astype(str).to_numpy()
        data = {"xs": [], "ys": [], "color": [], "width": [], "group": []}
        for g in self.order:
            edges, rate = results.psth(np.flatnonzero(ct == g), bin=bin_ms)
            if np.all(~np.isfinite(rate)) or np.nanmax(rate) == 0:
                continue
            data["xs"].append(np.repeat(edges, 2)[1:-1])
            data["ys"].append(np.repeat(rate, 2))
            data["color"].append(self.colors[g])
            data["width"].append(2.5 if g in _OUTPUTS else 1.0)
            data["group"].append(g)
        src["rates"].data = data
        f["rates"].title.text = f"population rates by cell type ({bin_ms:g} ms bins, {len(data['group'])} types fire)"
        # readout heatmap
        mat, rows, n_out = _readout_matrix(results)
        n_rows = max(1, mat.shape[0])
        src["readout"].data = {"image": [mat[::-1].astype(np.float32) if mat.size else np.zeros((1, 1), np.float32)],
                               "dw": [results.duration_ms], "dh": [float(n_rows)]}
        self.readout_map.high = max(1.0, float(mat.max()) if mat.size else 1.0)
        ticks, labels = _group_ticks(rows, n_rows)
        f["readout"].yaxis.ticker = FixedTicker(ticks=ticks)
        f["readout"].yaxis.major_label_overrides = labels
        f["readout"].x_range.end = results.duration_ms
        f["readout"].y_range.end = n_rows
        f["readout"].title.text = (f"output neurons over time: {mat.shape[0]} of {n_out} fire "
                                   f"(rate in {_BIN_MS:g} ms bins, Hz)")
        # cascade
        c = f["cascade"]
        if cascade is None or not len(cascade):
            src["cascade"].data = {"x": [], "y": [], "color": [], "celltype": [], "label": [], "side": []}
            c.title.text = "cascade prediction: nothing driven or activated (the cascade needs sources)"
            return self
        jitter = np.random.default_rng(0).uniform(-0.006, 0.006, len(cascade))
        ctc = cascade["celltype"].astype(str).to_numpy()
        src["cascade"].data = {"x": cascade["cascade_hit_probability"].to_numpy() + jitter,
                               "y": cascade["spiking_rate_hz"].to_numpy(),
                               "color": [self.colors.get(g, "#444444") for g in ctc], "celltype": ctc,
                               "label": cascade["label"].astype(str).to_numpy(),
                               "side": cascade["hemisphere"].astype(str).to_numpy()}
        reached = cascade["cascade_hit_probability"].to_numpy() >= 0.5
        fires = cascade["spiking_rate_hz"].to_numpy() > 0
        c.title.text = (f"cascade vs spiking, {len(cascade)} output neurons: reached by the cascade "
                        f"{int(reached.sum())}, fire {int(fires.sum())}, both {int((reached & fires).sum())}")
        return self


def _readout_matrix(results, bin_ms: float = _BIN_MS):
    """Rates (Hz) of the output neurons that fire, over time bins; their cell types; the number of outputs."""
    ro = results.readout(per_neuron=True)
    ids = ro.index.to_numpy()
    ct = ro["celltype"].astype(str).to_numpy()
    n_bins = max(1, int(np.ceil(results.duration_ms / bin_ms - 1e-9)))
    edges = np.linspace(0, n_bins * bin_ms, n_bins + 1)
    mat = np.zeros((len(ids), n_bins))
    lookup = np.full(len(results.neurons), -1, np.int64)
    lookup[results.neurons.index.get_indexer(ids)] = np.arange(len(ids))
    k = lookup[results.neurons.index.get_indexer(results.spike_nodes)]
    m = k >= 0
    if m.any():
        cols = np.clip(np.searchsorted(edges, results.spike_times[m], side="right") - 1, 0, n_bins - 1)
        np.add.at(mat, (k[m], cols), 1.0)
    mat /= (bin_ms / 1000.0) * results.n_trials
    firing = mat.sum(axis=1) > 0
    return mat[firing], ct[firing], len(ids)


def _group_ticks(labels: np.ndarray, n_rows: int):
    """Ticks at the centre of each run of equal labels (rows drawn top to bottom)."""
    if not len(labels):
        return [], {}
    bounds = np.flatnonzero(np.r_[True, labels[1:] != labels[:-1]])
    ends = np.r_[bounds[1:], len(labels)]
    centres = [float(n_rows - (a + b) / 2) for a, b in zip(bounds, ends)]
    return centres, {c: f"{labels[a]} ({b - a})" for c, a, b in zip(centres, bounds, ends)}


def figures(results, cascade: pd.DataFrame | None = None, *, prefix: str = "") -> dict:
    """The Bokeh figures of one run: ``raster``, ``rates``, ``readout`` (output neurons over time) and
    ``cascade`` (:func:`cascade_prediction`'s table against the spiking; a figure that says why without
    one). Figures are named ``prefix + key`` (:class:`RunFigures`)."""
    return RunFigures(results.neurons, prefix).update(results, cascade).figures


def compare_table(runs: Mapping[str, object]) -> pd.DataFrame:
    """Mean rate (Hz) of the output groups and of every cell type, one column per condition (and B - A)."""
    cols = {}
    for label, res in runs.items():
        cols[label] = res.rates_by("celltype").set_index("group")["mean_hz"]
    t = pd.DataFrame(cols)
    order = [g for g in _OUTPUTS if g in t.index] + sorted(g for g in t.index if g not in _OUTPUTS)
    t = t.loc[order]
    if len(runs) == 2:
        a, b = list(runs)
        t[f"{b} - {a}"] = t[b] - t[a]
    t.index.name = "cell type"
    return t.round(2)


class CompareFigure:
    """Descending-output heatmap of the conditions run so far: one row per condition, one column per output
    neuron that fires in any (updated in place by :meth:`update`)."""

    def __init__(self, name: str = "compare"):
        from bokeh.models import ColorBar, ColumnDataSource, FixedTicker, LinearColorMapper, Range1d
        from bokeh.palettes import Magma256

        p = _figure(height=200, name=name, x_axis_label="output neurons", tools="pan,wheel_zoom,reset,save",
                    title="descending output per condition: run a condition first")
        self.source = ColumnDataSource({"image": [np.zeros((1, 1), np.float32)], "dw": [1.0], "dh": [1.0]},
                                       name=f"{name}-data")
        self.mapper = LinearColorMapper(palette=Magma256, low=0, high=1)
        p.image(image="image", x=0, y=0, dw="dw", dh="dh", source=self.source, color_mapper=self.mapper)
        p.add_layout(ColorBar(color_mapper=self.mapper, title="Hz"), "right")
        p.x_range, p.y_range = Range1d(0, 1), Range1d(0, 1)
        p.xaxis.ticker, p.yaxis.ticker = FixedTicker(ticks=[]), FixedTicker(ticks=[])
        self.figure = p

    def update(self, runs: Mapping[str, object]):
        from bokeh.models import FixedTicker

        p = self.figure
        if not runs:
            return self
        tables = {k: r.readout(per_neuron=True) for k, r in runs.items()}
        first = next(iter(tables.values()))
        mat = pd.DataFrame({k: t["mean_hz"] for k, t in tables.items()}).T.fillna(0.0)
        labels = first["celltype"].astype(str)
        keep = (mat > 0).any(axis=0)
        if keep.any():
            mat, labels = mat.loc[:, keep], labels[keep]
        n = len(runs)
        self.source.data = {"image": [mat.to_numpy()[::-1].astype(np.float32)], "dw": [float(mat.shape[1])],
                            "dh": [float(n)]}
        self.mapper.high = max(1.0, float(mat.to_numpy().max()))
        p.title.text = (f"descending output per condition: mean rate of the {mat.shape[1]} output neurons "
                        f"that fire ({', '.join(mat.index)})")
        p.yaxis.ticker = FixedTicker(ticks=[n - k - 0.5 for k in range(n)])
        p.yaxis.major_label_overrides = {float(n - k - 0.5): str(lab) for k, lab in enumerate(mat.index)}
        lab = labels.to_numpy()
        bounds = np.flatnonzero(np.r_[True, lab[1:] != lab[:-1]]) if len(lab) else np.zeros(0, int)
        p.xaxis.ticker = FixedTicker(ticks=[float(b) for b in bounds])
        p.xaxis.major_label_overrides = {float(b): str(lab[b]) for b in bounds}
        p.x_range.end = max(1, mat.shape[1])
        p.y_range.end = n
        return self


def compare_figure(runs: Mapping[str, object], name: str = "compare"):
    """The descending-output heatmap of ``runs`` (``{"A": results, "B": results}``), see :class:`CompareFigure`."""
    return CompareFigure(name).update(runs).figure

# --------------------------------------------------------------------------- downloads
def figure_png(kind: str, results, cascade: pd.DataFrame | None = None, *, label: str = "", dpi: int = 110) -> bytes:
    """One figure of a run as PNG bytes (matplotlib): ``raster``, ``rates``, ``readout`` or ``cascade``."""
    import matplotlib.pyplot as plt

    from sim.analysis import plots

    if kind not in FIGURES:
        raise ExploreError(f"figure must be one of {', '.join(FIGURES)}, got {kind!r}")
    title = f"{label}: " if label else ""
    if kind == "raster":  # one scatter per cell type (plots.raster draws neuron by neuron: seconds)
        nt = results.neurons
        order = _group_order(nt)
        colors = _colors(order)
        ct = nt["celltype"].astype(str).to_numpy()
        row = np.empty(len(nt), np.int64)
        ticks, y = [], 0
        for g in order:
            members = np.flatnonzero(ct == g)
            row[members] = y + np.arange(members.size)
            ticks.append((y + members.size / 2, f"{g} ({members.size})"))
            y += members.size
        sl = results._trial_slice(0)
        pos = nt.index.get_indexer(results.spike_nodes[sl])
        times = results.spike_times[sl]
        fig, ax = plt.subplots(figsize=(9, 6))
        for g in order:
            m = ct[pos] == g
            if m.any():
                ax.scatter(times[m], row[pos[m]], s=0.5, marker="s", color=colors[g], linewidths=0)
        ax.set_yticks([t for t, _ in ticks], [lab for _, lab in ticks], fontsize=6)
        ax.set_xlim(0, results.duration_ms)
        ax.set_ylim(y, -1)
        ax.set_xlabel("time (ms)")
        ax.set_title(f"{title}spikes, trial 1 of {results.n_trials}")
    elif kind == "rates":
        fig = plots.population_rates(results, title=f"{title}population rates")
    elif kind == "readout":
        fig = plots.readout_heatmap({label or "run": results}, groups=_OUTPUTS,
                                    title=f"{title}output neurons (mean rate)")
    else:
        fig, ax = plt.subplots(figsize=(6, 4.5))
        if cascade is None or not len(cascade):
            ax.text(0.5, 0.5, "no cascade: nothing driven or activated", ha="center", transform=ax.transAxes)
        else:
            colors = _colors(list(_OUTPUTS))
            for g in _OUTPUTS:
                t = cascade[cascade["celltype"] == g]
                if len(t):
                    ax.scatter(t["cascade_hit_probability"], t["spiking_rate_hz"], s=10, alpha=0.7,
                               color=colors[g], label=g)
            ax.axvline(0.5, color="0.6", ls="--", lw=0.8)
            ax.legend(fontsize=7, frameon=False)
        ax.set_xlabel("cascade hit probability (8 hops)")
        ax.set_ylabel("spiking rate in the window (Hz)")
        ax.set_title(f"{title}cascade prediction vs spiking")
    buf = io.BytesIO()
    try:
        fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    finally:
        plt.close(fig)
    return buf.getvalue()


def results_bytes(results, fmt: str = "h5") -> bytes:
    """The results file as bytes: ``"h5"`` (:meth:`sim.Results.save`) or ``"nwb"`` (:meth:`sim.Results.to_nwb`,
    needs pynwb)."""
    if fmt not in ("h5", "nwb"):
        raise ExploreError(f"format must be h5 or nwb, got {fmt!r}")
    with tempfile.TemporaryDirectory(prefix="larvasim-explore-") as d:
        path = Path(d) / f"results.{fmt}"
        if fmt == "h5":
            results.save(path)
        else:
            results.to_nwb(path)
        return path.read_bytes()


def _nwb_available() -> bool:
    try:
        from sim.nwb import require_pynwb

        require_pynwb()
        return True
    except ImportError:
        return False


# --------------------------------------------------------------------------- the page (panel)
async def _with_document_lock(doc, apply):
    """Run ``apply`` (which changes Bokeh models of ``doc``) as a next-tick callback of the server session,
    which holds the document lock; at once when ``doc`` is served by no session (tests, notebooks)."""
    if doc is None or getattr(doc, "session_context", None) is None:
        return apply()
    fut = asyncio.get_running_loop().create_future()

    def tick():
        try:
            fut.set_result(apply())
        except Exception as exc:  # noqa: BLE001 - handed back to the awaiting callback
            fut.set_exception(exc)

    doc.add_next_tick_callback(tick)
    return await fut


class _StretchWidgets:
    """``pn.widgets`` whose widgets stretch to share their row (side by side, two conditions fit a screen)."""

    def __init__(self, widgets):
        self._w = widgets

    def __getattr__(self, name):
        cls = getattr(self._w, name)
        return lambda *a, **kw: cls(*a, **{"sizing_mode": "stretch_width", "min_width": 90, **kw})


class _ConditionPanel:
    """Widgets, outputs and downloads of one condition (A or B): a thin layer over :class:`Explorer`."""

    def __init__(self, pn, app: "_App", label: str):
        self.pn, self.app, self.label = pn, app, label
        c = app.explorer.connectome
        mods = [m for m in c.modalities if m != "unknown"]
        celltypes = sorted(set(c.neurons["celltype"].astype(str)))
        w = _StretchWidgets(pn.widgets)
        L = label
        self.model = w.Select(name="model", options={v: k for k, v in MODELS.items()}, value="larval_lif",
                              css_classes=[f"model-{L}"])
        self.signs = w.Select(name="signs", options=list(SIGNS), value="literature", css_classes=[f"signs-{L}"])
        self.seed = w.IntInput(name="seed", value=0 if L == "A" else 1, css_classes=[f"seed-{L}"])
        self.trials = w.IntInput(name="trials", value=1, css_classes=[f"trials-{L}"])
        self.duration = w.FloatInput(name="duration (ms)", value=1000.0, css_classes=[f"duration-{L}"])
        self.modality = w.Select(name="stimulus: modality", options=["(none)"] + mods,
                                 value="olfactory" if "olfactory" in mods else "(none)", css_classes=[f"modality-{L}"])
        self.side = w.Select(name="stimulus: side", options=list(SIDES), value="both", css_classes=[f"side-{L}"])
        self.rate = w.FloatInput(name="stimulus: rate (Hz)", value=150.0, css_classes=[f"rate-{L}"])
        self.start = w.FloatInput(name="window start (ms)", value=200.0, css_classes=[f"start-{L}"])
        self.stop = w.FloatInput(name="window stop (ms)", value=700.0, css_classes=[f"stop-{L}"])
        self.act_types = w.MultiChoice(name="activate: cell types", options=celltypes, css_classes=[f"act-types-{L}"])
        self.act_name = w.TextInput(name="activate: name pattern", placeholder="e.g. DAN-* or MBON-i1",
                                    css_classes=[f"act-name-{L}"])
        self.act_rate = w.FloatInput(name="activate: rate (Hz)", value=100.0, css_classes=[f"act-rate-{L}"])
        self.sil_types = w.MultiChoice(name="silence: cell types", options=celltypes, css_classes=[f"sil-types-{L}"])
        self.sil_name = w.TextInput(name="silence: name pattern", placeholder="e.g. APL", css_classes=[f"sil-name-{L}"])
        self.sil_mode = w.Select(name="silence: mode", options=list(SILENCE_MODES), value="outgoing",
                                 css_classes=[f"sil-mode-{L}"])
        self.run_button = pn.widgets.Button(name=f"Run {L}", button_type="primary", css_classes=[f"run-{L}"],
                                            width=120)
        self.run_button.on_click(self._on_run)
        self.model.param.watch(self._on_model, "value")
        self.alert = pn.pane.Alert("", alert_type="danger", visible=False, css_classes=[f"alert-{L}"])
        self.status = pn.pane.Markdown(f"{L}: not run yet", css_classes=[f"status-{L}"])
        self.outcome: Outcome | None = None
        self.figs = RunFigures(c.neurons, prefix=f"{L}-")
        self.panes = {k: pn.pane.Bokeh(f, sizing_mode="stretch_width", css_classes=[f"fig-{k}-{L}"])
                      for k, f in self.figs.figures.items()}
        self.fig_choice = w.Select(name="figure", options=list(FIGURES), value="raster")
        self.dl_png = w.FileDownload(callback=self._png, filename=f"{L}_raster.png", label="figure (PNG)",
                                     button_type="light", disabled=True, css_classes=[f"download-png-{L}"])
        self.fig_choice.param.watch(lambda e: setattr(self.dl_png, "filename", f"{L}_{e.new}.png"), "value")
        self.dl_h5 = w.FileDownload(callback=self._h5, filename=f"{L}.h5", label="results (HDF5)",
                                    button_type="light", disabled=True, css_classes=[f"download-h5-{L}"])
        nwb = _nwb_available()
        self.dl_nwb = w.FileDownload(callback=self._nwb, filename=f"{L}.nwb",
                                     label="results (NWB)" if nwb else "NWB: pip install -e '.[nwb]'",
                                     button_type="light", disabled=True, css_classes=[f"download-nwb-{L}"])
        self._nwb_ok = nwb

    def _on_model(self, event):
        self.signs.value = DEFAULT_SIGNS_OF.get(event.new, self.signs.value)

    def spec(self) -> ConditionSpec:
        stim = []
        if self.modality.value and self.modality.value != "(none)":
            stim.append(Manipulation("drive", modality=self.modality.value, side=self.side.value,
                                     rate_hz=self.rate.value, start_ms=self.start.value, stop_ms=self.stop.value))
        if self.act_types.value or self.act_name.value.strip():
            stim.append(Manipulation("activate", celltype=tuple(self.act_types.value), name=self.act_name.value,
                                     rate_hz=self.act_rate.value, start_ms=self.start.value, stop_ms=self.stop.value))
        if self.sil_types.value or self.sil_name.value.strip():
            stim.append(Manipulation("silence", celltype=tuple(self.sil_types.value), name=self.sil_name.value,
                                     mode=self.sil_mode.value))
        return ConditionSpec(label=self.label, model=self.model.value, signs=self.signs.value,
                             seed=self.seed.value if self.seed.value is not None else -1,
                             trials=self.trials.value if self.trials.value is not None else 0,
                             duration_ms=self.duration.value if self.duration.value is not None else float("nan"),
                             stimuli=tuple(stim))

    async def _on_run(self, event=None):
        self.run_button.disabled = True
        self.alert.visible = False
        self.status.object = f"{self.label}: running ..."
        doc = self.pn.state.curdoc
        try:
            spec = self.spec()
            loop = asyncio.get_running_loop()
            outcome = await loop.run_in_executor(None, self.app.explorer.run, spec)
            t0 = time.perf_counter()
            await _with_document_lock(doc, lambda: self.figs.update(outcome.results, outcome.cascade))
            fig_s = time.perf_counter() - t0
        except ExploreError as exc:
            self._error(str(exc))
        except Exception as exc:  # noqa: BLE001 - the page must keep working whatever goes wrong
            _log.exception("run of condition %s failed", self.label)
            self._error(f"{self.label}: {type(exc).__name__}: {exc}")
        else:
            self.outcome = outcome
            for b in (self.dl_png, self.dl_h5):
                b.disabled = False
            self.dl_nwb.disabled = not self._nwb_ok
            await _with_document_lock(doc, self.app.update_compare)
            # the status says "done" only once the comparison is drawn too: a user (or a test) who
            # reads it as the end of the run finds the Run button ready
            self.status.object = f"{outcome.summary()}, figures {fig_s:.2f} s  \n{outcome.spec.describe()}"
        finally:
            self.run_button.disabled = False

    def _error(self, msg: str):
        self.alert.object = msg
        self.alert.visible = True
        self.status.object = f"{self.label}: not run ({msg.split(':', 1)[-1].strip()[:60]} ...)"

    def _png(self):
        if self.outcome is None:
            return None
        o = self.outcome
        return io.BytesIO(figure_png(self.fig_choice.value, o.results, o.cascade, label=self.label))

    def _h5(self):
        return None if self.outcome is None else io.BytesIO(results_bytes(self.outcome.results, "h5"))

    def _nwb(self):
        return None if self.outcome is None else io.BytesIO(results_bytes(self.outcome.results, "nwb"))

    def view(self):
        pn = self.pn
        row = lambda *ws: pn.Row(*ws, sizing_mode="stretch_width")  # noqa: E731
        controls = pn.Card(
            row(self.model, self.signs), row(self.seed, self.trials, self.duration),
            pn.pane.Markdown("**Stimulus** (sensory neurons of a modality)"),
            row(self.modality, self.side, self.rate), row(self.start, self.stop),
            pn.pane.Markdown("**Activate** (optogenetic-style drive, same window)"),
            row(self.act_types, self.act_name, self.act_rate),
            pn.pane.Markdown("**Silence** (whole run)"),
            row(self.sil_types, self.sil_name, self.sil_mode),
            title=f"Condition {self.label}", sizing_mode="stretch_width", collapsible=True)
        return pn.Column(controls, pn.Row(self.run_button), self.alert, self.status,
                         *self.panes.values(),
                         row(self.fig_choice, self.dl_png, self.dl_h5, self.dl_nwb),
                         sizing_mode="stretch_width", css_classes=[f"condition-{self.label}"])


class _App:
    def __init__(self, pn, explorer: Explorer):
        self.pn, self.explorer = pn, explorer
        self.conditions = {k: _ConditionPanel(pn, self, k) for k in ("A", "B")}
        self.compare = CompareFigure()
        self.compare_pane = pn.pane.Bokeh(self.compare.figure, sizing_mode="stretch_width",
                                          css_classes=["fig-compare"])
        self.compare_tab = pn.pane.DataFrame(pd.DataFrame(), sizing_mode="stretch_width", css_classes=["compare-table"])

    def update_compare(self):
        runs = {k: c.outcome.results for k, c in self.conditions.items() if c.outcome is not None}
        self.compare.update(runs)
        self.compare_tab.object = compare_table(runs) if runs else pd.DataFrame()

    def view(self):
        pn = self.pn
        intro = pn.pane.Markdown(
            "# larvasim explorer\n"
            "The whole *Drosophila* larva brain (Winding et al. 2023 connectome, 2,952 neurons) as a spiking "
            "network on larvasim's numba engine. Set up a condition -- a sensory stimulus, neurons to activate "
            "or silence, the model, signs and seed -- press **Run**, and compare two conditions side by side. "
            "The cascade plot sets the signal-cascade prediction (graph only, axo-dendritic synapses, "
            "p = 0.05 per synapse, 8 hops) beside the spiking response of every output neuron. "
            "Name patterns take wildcards (`DAN-*`) and lists (`MBON-i1, APL`).",
            sizing_mode="stretch_width")
        return pn.Column(intro, pn.Row(*(c.view() for c in self.conditions.values()), sizing_mode="stretch_width"),
                         pn.pane.Markdown("## A and B compared"), self.compare_pane, self.compare_tab,
                         sizing_mode="stretch_width")


def build_app(explorer: Explorer):
    """The page of one browser session (a Panel layout) on the shared ``explorer``."""
    pn = require_panel()
    return _App(pn, explorer).view()


def serve(connectome, *, port: int = 5006, address: str = "localhost", show: bool = True,
          warm_up: bool = True, threads: int | None = None, start: bool = True):
    """Serve the explorer on ``address:port`` until interrupted (``start=False``: return the server).

    Panel's and Bokeh's scripts and style sheets are served by this server: the page needs no internet.
    """
    pn = require_panel()
    pn.config.inline = True  # nothing from a CDN: every resource comes inline or from this server
    explorer = Explorer(connectome, threads=threads)
    if warm_up:
        explorer.warm_up()
    print(f"larvasim explorer: http://{address}:{port}/ (Ctrl-C stops it)", flush=True)
    return pn.serve({"/": lambda: build_app(explorer)}, port=port, address=address, show=show, start=start,
                    title="larvasim explorer", websocket_origin=[f"{address}:{port}", f"localhost:{port}",
                                                                 f"127.0.0.1:{port}"],
                    verbose=False)
