"""Brian2's C++ standalone device: compiled once per (duration, drive targets), re-run per trial."""
from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import brian2
import numpy as np
from brian2 import get_unit
from brian2.devices.device import all_devices, reset_device, set_device

from .base import Backend, RawRun
from .brian2_runtime import BrianCollector, build_objects, silence_masks, weight_factors

__all__ = ["StandaloneBackend"]


class StandaloneBackend(Backend):
    """Brian2 compiles the whole network into a C++ program at the first run.

    Every trial, stimulus and silencing with the same duration and drive
    targets re-runs that program with new ``run_args`` (TimedArray drive,
    synaptic weights) without recompiling. The project lives in
    ``<cache>/standalone/<key>`` (or the network's ``standalone_root``).
    Brian2 has one standalone device per process: building another network's
    project replaces it, and the first network rebuilds when used again
    (:attr:`owner`).
    """

    devices = ("cpp_standalone",)
    capabilities = frozenset({"plasticity", "record_states"})
    #: The backend whose project the process's standalone device holds now.
    owner = None

    def __init__(self, network, device):
        super().__init__(network, device)
        self.built = None  # (device, directory, n_steps, drive targets) once built
        self.compile_time = None

    def project_dir(self, n_steps, targets) -> Path:
        """The project folder of this network for ``n_steps`` and drive ``targets``."""
        from connectomes.paths import cache_dir

        net = self.network
        blob = json.dumps({"net": {k: v for k, v in net.describe().items() if k != "connectome"},
                           "key": net.connectome.provenance.get("cache_key"), "n_steps": n_steps,
                           "targets": hashlib.sha256(np.asarray(targets, np.int64).tobytes()).hexdigest(),
                           "recorded": hashlib.sha256(net.recorded.tobytes()).hexdigest(),
                           "states": {k: v.tolist() for k, v in net._record_states.items()},
                           "brian2": brian2.__version__}, sort_keys=True, default=str)
        root = Path(net.standalone_root) if net.standalone_root else cache_dir() / "standalone"
        return root / hashlib.sha256(blob.encode()).hexdigest()[:16]

    def build(self, n_steps, targets) -> None:
        """Generate and compile the C++ project once for (duration, drive targets)."""
        net = self.network
        directory = self.project_dir(n_steps, targets)
        directory.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        sa = all_devices["cpp_standalone"]
        sa.reinit()
        set_device("cpp_standalone", build_on_run=False, directory=str(directory))
        try:
            build_objects(net, drive_targets=targets, n_steps=n_steps)
            net.net.run(n_steps * net.dt, namespace={})
            sa.build(directory=str(directory), compile=True, run=False, with_output=False)
        finally:
            reset_device()
        StandaloneBackend.owner = self
        self.built = (sa, directory, n_steps, np.asarray(targets, dtype=np.int64))
        self.compile_time = time.perf_counter() - t0

    def run(self, inputs, silences, n_steps, weight_scale, progress=None) -> RawRun:
        net = self.network
        cleaned = self.cleaned_inputs(inputs, silences, n_steps)
        targets = np.unique(np.concatenate([e.neurons for e in cleaned] + [net.drive_targets]))
        if not len(targets):
            targets = np.zeros(1, dtype=np.int64)  # one idle input unit
        st = self.built
        if st is None or StandaloneBackend.owner is not self or st[2] != n_steps or not np.isin(targets, st[3]).all():
            self.build(n_steps, targets)
        sa, directory, _, built_targets = self.built
        pos = {int(t): k for k, t in enumerate(built_targets)}
        cut = silence_masks(net, silences)
        scales = weight_factors(net, weight_scale)  # pathways exist only once built
        run_args_w = {syn.w: np.where(c, 0.0, w0 * s) * get_unit(syn.w.dim)
                      for (syn, _, _, w0), c, s in zip(net.pathways, cut, scales) if c.any() or s != 1.0}
        out = BrianCollector(net)
        for trial, ev in enumerate(cleaned):
            values = np.zeros((n_steps, len(built_targets)))
            if len(ev):
                values[ev.steps, [pos[int(i)] for i in ev.neurons]] = 1.0
            sa.run(directory=str(directory), with_output=False, run_args={net.drive_input: values, **run_args_w})
            out.collect(trial)
            if progress:
                progress()
        return out.raw(compile_time_s=self.compile_time)
