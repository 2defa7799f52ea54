"""The backend seam: one interface, one backend per device, capabilities declared and enforced."""
from __future__ import annotations

import numpy as np
import pytest
from brian2 import Hz, ms

import connectomes
import sim
from models.neurons import CurrentLIF
from models.plasticity import DopaminePlasticity
from sim.backends import DEFAULT_DEVICE, DEVICES, Backend, BackendError, RawRun, backend_class
from sim.backends.brian2_runtime import RuntimeBackend
from sim.backends.numba import NumbaBackend
from sim.backends.standalone import StandaloneBackend


@pytest.fixture
def toyc(toy, fresh_cache):
    return connectomes.load("winding2023", data_dir=toy.path, verify=False)


def test_every_device_has_one_backend_and_the_default_is_numba():
    assert DEFAULT_DEVICE == "numba" and set(DEVICES) == {"numpy", "cython", "cpp_standalone", "numba"}
    assert backend_class("numpy") is backend_class("cython") is RuntimeBackend
    assert backend_class("cpp_standalone") is StandaloneBackend and backend_class("numba") is NumbaBackend
    for d in DEVICES:
        assert issubclass(backend_class(d), Backend) and d in backend_class(d).devices
    with pytest.raises(ValueError, match=r"device must be one of .*'gpu'"):
        backend_class("gpu")


def test_network_uses_the_default_device_and_its_backend(toyc):
    net = sim.Network(toyc)
    assert net.device == DEFAULT_DEVICE and isinstance(net.backend, NumbaBackend)
    assert isinstance(sim.Network(toyc, device="numpy").backend, RuntimeBackend)
    with pytest.raises(ValueError, match="device must be one of"):
        sim.Network(toyc, device="gpu")


class _FastDecay(CurrentLIF):
    """Shiu et al.'s equations with a changed synaptic decay: no numba kernel reproduces it."""

    name = "fast_decay_test"
    engine_kernel = "current_lif"   # claims the parent's kernel although its equations differ
    _EQUATIONS = CurrentLIF._EQUATIONS.replace("dg/dt = -g / tau_syn", "dg/dt = -2 * g / tau_syn")

    def with_overrides(self, **overrides):
        return _FastDecay(self._parameters.override(**overrides), method=self._method)


def test_backends_refuse_what_they_cannot_run_at_construction(toyc):
    with pytest.raises(BackendError, match=r"device 'numba'.*equations of CurrentLIF.*_FastDecay changes them"):
        sim.Network(toyc, model=_FastDecay(), device="numba")
    with pytest.raises(BackendError, match=r"device 'numba'.*method"):
        sim.Network(toyc, model=CurrentLIF(method="euler"), device="numba")
    with pytest.raises(BackendError, match=r"threads= applies to device 'numba' only, not 'numpy'"):
        sim.Network(toyc, device="numpy", threads=2)
    # a plasticity rule the network cannot hold fails at construction on every device
    signs = np.ones(toyc.n_neurons)
    signs[toyc.select(celltype="KC").indices] = -1
    for device in ("numba", "numpy"):
        with pytest.raises(ValueError, match="inhibitory"):
            sim.Network(toyc, signs=signs, plasticity=DopaminePlasticity("names"), device=device)
    # the changed model still runs on Brian2, and differs from its parent there
    stim = [sim.PoissonDrive(toyc.select(modality="olfactory"), 150 * Hz)]
    a = sim.Network(toyc, model=_FastDecay(), device="numpy").run(stim, duration=100 * ms, seed=1)
    b = sim.Network(toyc, model=CurrentLIF(), device="numpy").run(stim, duration=100 * ms, seed=1)
    assert 0 < a.n_spikes < b.n_spikes


def test_a_new_backend_plugs_in_through_the_interface(toyc):
    """A backend that replays another backend's spikes shows what the network asks of one:
    check, prepare, run -> RawRun; the network makes the Results and the metadata."""
    calls = []

    class Replay(Backend):
        devices = ("replay",)
        capabilities = frozenset()

        def prepare(self):
            calls.append("prepare")

        def run(self, inputs, silences, n_steps, weight_scale, progress=None):
            calls.append(("run", len(inputs), n_steps))
            ref = NumbaBackend(self.network).run(inputs, silences, n_steps, weight_scale)
            return RawRun(ref.spikes, info={"compile_time_s": 0.0})

    net = sim.Network(toyc, device="numpy")
    net.backend = Replay(net, "replay")
    net.backend.check()
    net.backend.prepare()
    stim = [sim.PoissonDrive(toyc.select(modality="olfactory"), 120 * Hz)]
    res = net.run(stim, duration=80 * ms, trials=2, seed=4)
    ref = sim.Network(toyc, device="numba").run(stim, duration=80 * ms, trials=2, seed=4)
    assert calls == ["prepare", ("run", 2, 800)]
    assert res.spikes.equals(ref.spikes) and res.metadata["compile_time_s"] == 0.0
    with pytest.raises(TypeError, match=r"object is not a plasticity rule .*lacks plastic_edges, plan"):
        sim.Network(toyc, plasticity=object())
    with pytest.raises(BackendError, match="does not support plasticity"):
        Replay(sim.Network(toyc, plasticity=DopaminePlasticity("names"), device="numpy"), "replay").check()
