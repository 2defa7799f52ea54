"""Brian2's runtime device (code-generation targets ``numpy`` and ``cython``), and the Brian2
objects that it shares with C++ standalone (:func:`build_objects`)."""
from __future__ import annotations

import contextlib

import numpy as np
from brian2 import (Clock, NeuronGroup, SpikeGeneratorGroup, SpikeMonitor, StateMonitor, Synapses, TimedArray, ms,
                    prefs)
from brian2 import Network as BrianNetwork

from .base import Backend, RawRun, RUNTIME_DEVICES

__all__ = ["RuntimeBackend", "build_objects", "codegen", "weight_factors"]


@contextlib.contextmanager
def codegen(target: str):
    """Brian2's code-generation target set to ``target`` inside the block."""
    old = prefs.codegen.target
    prefs.codegen.target = target
    try:
        yield
    finally:
        prefs.codegen.target = old


def build_objects(network, drive_targets=None, n_steps=None) -> None:
    """Create the Brian2 objects of ``network`` and set them as its attributes.

    ``group`` (the neurons), ``pathways`` (``[(synapses, pre, post, initial
    weights)]``, excitatory/inhibitory and a plasticity rule's plastic one),
    ``drive`` and ``drive_synapses``, ``spike_monitor``, ``state_monitors``,
    ``plastic_objects``, ``clock`` and ``net`` (the ``brian2.Network``); a
    plasticity rule reads them (``rule.build(network, ...)``).

    ``drive_targets=None``: the drive is a ``SpikeGeneratorGroup`` over all
    neurons whose spikes are set per trial (runtime devices). Otherwise a
    group of one input unit per target neuron fires when a ``TimedArray``
    of shape ``(n_steps, len(drive_targets))`` holds 1 (C++ standalone,
    whose TimedArray values change per trial through ``run_args``).
    """
    net = network
    n = net.n_neurons
    pre, post, count, sgn = net._edges
    net.clock = Clock(net.dt, name="larvasim_clock")
    clk = {"clock": net.clock}
    net.group = net.model.neuron_group(n, cell_classes=net.cell_classes, name="brain", **clk)
    net.pathways = []
    # edges handed to a plasticity rule (e.g. KC -> MBON) form their own pathway
    plastic = net._plastic_mask()
    fast = (sgn != 0) & ~plastic
    kinds = [("excitatory", fast)] if net.model.shared_pathway else [
        ("excitatory", fast & (sgn > 0)), ("inhibitory", fast & (sgn < 0))]
    for kind, mask in kinds:
        if not mask.any():
            continue
        syn = Synapses(net.group, net.group, **net.model.synapses_kwargs(kind), name=f"synapses_{kind}", **clk)
        syn.connect(i=pre[mask], j=post[mask])
        w = net.synaptic_weights(post[mask], count[mask], sgn[mask], pre=pre[mask])
        syn.w = w
        net.pathways.append((syn, pre[mask], post[mask], np.asarray(w, dtype=float)))
    if drive_targets is None:
        net.drive = SpikeGeneratorGroup(n, np.zeros(0, dtype=int), np.zeros(0) * ms, name="drive", **clk)
        net.drive_input = None
    else:
        net.drive_input = TimedArray(np.zeros((n_steps, len(drive_targets))), dt=net.dt, name="drive_input")
        net.drive = NeuronGroup(len(drive_targets), "", threshold="drive_input(t, i) > 0.5",
                                reset="", namespace={"drive_input": net.drive_input}, name="drive", **clk)
    net.drive_synapses = Synapses(net.drive, net.group, on_pre="v_post += w_drive",
                                  namespace={"w_drive": net.drive_weight}, name="drive_synapses", **clk)
    if drive_targets is None:
        net.drive_synapses.connect(j="i")
    else:
        net.drive_synapses.connect(i=np.arange(len(drive_targets)), j=np.asarray(drive_targets))
    # SpikeMonitor records all or nothing; a subset is kept when collecting
    net.spike_monitor = SpikeMonitor(net.group, name="spikes")
    net.plastic_objects = []
    if plastic.any():
        # the rule returns its Brian2 objects; the plastic Synapses comes first, as
        # (synapses, pre, post, initial weights) like the other pathways
        (syn, p_pre, p_post, w0), *extra = net.plasticity.build(
            net, pre=pre[plastic], post=post[plastic], count=count[plastic], sign=sgn[plastic], clock=net.clock)
        net.pathways.append((syn, p_pre, p_post, w0))
        net.plastic_objects = extra
    objs = ([net.group, net.drive, net.drive_synapses, net.spike_monitor] + [s for s, *_ in net.pathways]
            + list(net.plastic_objects))
    net.state_monitors = {}
    for var, idx in net._record_states.items():
        mon = StateMonitor(net.group, var, record=idx, name=f"state_{var}", **clk)
        net.state_monitors[var] = (mon, idx)
        objs.append(mon)
    net.net = BrianNetwork(*objs)


def weight_factors(network, weight_scale) -> list[float]:
    """Factor per built pathway from ``weight_scale`` (a number, or ``{pathway kind: number}``)."""
    factor = network._scale_of(weight_scale)
    return [factor[syn.name.removeprefix("synapses_")] if syn.name in ("synapses_excitatory", "synapses_inhibitory")
            else factor["plastic"] for syn, *_ in network.pathways]


def silence_masks(network, silences) -> list[np.ndarray]:
    """Per built pathway, which synapses ``silences`` cut."""
    out_off, all_off = network._silenced(silences)
    return [out_off[pre] | all_off[post] for _, pre, post, _ in network.pathways]


class BrianCollector:
    """Reads one finished Brian2 trial (spikes, states, a rule's recordings) into lists."""

    def __init__(self, network):
        self.network = network
        self.spikes, self.plastic_states = [], {}
        self.states = {var: [] for var in network._record_states}

    def collect(self, trial: int) -> None:
        net = self.network
        i = np.asarray(net.spike_monitor.i[:], dtype=np.int64)
        t = np.asarray(net.spike_monitor.t[:] / ms, dtype=float)
        if len(net.recorded) < net.n_neurons:
            keep = np.isin(i, net.recorded)
            i, t = i[keep], t[keep]
        self.spikes.append((i, np.round(t, 6)))
        for var, (mon, _) in net.state_monitors.items():
            self.states[var].append(np.asarray(getattr(mon, var)[:]))
        # a plasticity rule may record its weights: {var: (neuron ids, times_ms, values, unit)}
        if net.plasticity is not None and hasattr(net.plasticity, "collect"):
            for var, (idx, t_ms, vals, unit) in net.plasticity.collect(net, trial).items():
                self.plastic_states.setdefault(var, (idx, t_ms, [], unit))[2].append(vals)

    def raw(self, **info) -> RawRun:
        net = self.network
        states = {var: (idx, np.asarray(mon.t[:] / ms), np.stack(self.states[var]))
                  for var, (mon, idx) in net.state_monitors.items()} if net.state_monitors else {}
        return RawRun(self.spikes, states, self.plastic_states, info)


class RuntimeBackend(Backend):
    """Brian2's runtime device: objects built once, initial state restored before every trial."""

    devices = RUNTIME_DEVICES
    capabilities = frozenset({"plasticity", "record_states"})

    def prepare(self) -> None:
        with codegen(self.device):
            build_objects(self.network)
            self.network.net.store("initial")

    def run(self, inputs, silences, n_steps, weight_scale, progress=None) -> RawRun:
        net = self.network
        cleaned = self.cleaned_inputs(inputs, silences, n_steps)
        scales = weight_factors(net, weight_scale)
        cut = silence_masks(net, silences)
        out = BrianCollector(net)
        with codegen(self.device):
            for trial, ev in enumerate(cleaned):
                net.net.restore("initial")
                for (syn, _, _, w0), c, s in zip(net.pathways, cut, scales):
                    if c.any() or s != 1.0:
                        syn.w_[:] = np.where(c, 0.0, w0 * s)
                net.drive.set_spikes(ev.neurons, ev.steps * net.dt)
                net.net.run(n_steps * net.dt, namespace={})
                done = int(round(float(net.net.t / net.dt)))
                if done < n_steps:  # Brian2 stopped early (e.g. Ctrl-C): never return a short trial as a whole one
                    raise KeyboardInterrupt(f"the simulation stopped at {done} of {n_steps} steps of trial {trial}")
                out.collect(trial)
                if progress:
                    progress()
        return out.raw()
