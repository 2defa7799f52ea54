"""docs/extending.md, walked through: its neuron-model recipe, run as written from a temporary module."""
from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest
from brian2 import Hz, ms

import connectomes
import models
import sim
from models import registry
from sim.backends import BackendError

DOC = Path(__file__).resolve().parents[1] / "docs" / "extending.md"


@pytest.fixture
def toyc(toy, fresh_cache):
    return connectomes.load("winding2023", data_dir=toy.path, verify=False)


@pytest.fixture
def recipe_module(tmp_path):
    """The first Python block of docs/extending.md, written to a module and imported."""
    block = re.search(r"```python\n(.*?)```", DOC.read_text(), re.S).group(1)
    path = tmp_path / "my_models.py"
    path.write_text(block)
    spec = importlib.util.spec_from_file_location("my_models", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["my_models"] = mod
    try:
        spec.loader.exec_module(mod)
        yield mod
    finally:
        sys.modules.pop("my_models", None)
        registry._REGISTRY.pop("leaky_decay", None)


def test_a_new_neuron_model_as_the_guide_writes_it(recipe_module, toyc):
    assert "leaky_decay" in models.available_models()
    model = models.get_model("leaky_decay")
    assert isinstance(model, recipe_module.LeakyDecay)
    # runs on a Brian2 device by name, and its faster synaptic decay shows in the spikes
    stim = [sim.PoissonDrive(toyc.select(modality="olfactory"), 150 * Hz)]
    new = sim.Network(toyc, model="leaky_decay", device="numpy").run(stim, duration=100 * ms, seed=2)
    old = sim.Network(toyc, model="current_lif", device="numpy").run(stim, duration=100 * ms, seed=2)
    assert 0 < new.n_spikes < old.n_spikes
    assert new.metadata["network"]["model"]["model"] == "leaky_decay"
    # the numba engine refuses it at construction, with the reason
    with pytest.raises(BackendError, match=r"device 'numba'.*leaky_decay"):
        sim.Network(toyc, model="leaky_decay", device="numba")
    # overrides keep the class (the recipe's with_overrides)
    assert isinstance(model.with_overrides(tau_syn=2 * ms), recipe_module.LeakyDecay)


def test_a_connectome_from_an_edge_list_as_the_guide_writes_it(tmp_path, monkeypatch, fresh_cache):
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)
    block = next(b for b in blocks if "load_edge_list" in b)
    monkeypatch.chdir(tmp_path)
    scope = {}
    exec(compile(block, "docs/extending.md", "exec"), scope)
    res, circuit = scope["res"], scope["circuit"]
    assert circuit.n_neurons == 3 and circuit.name == "circuit"
    dn = circuit.select(celltype="DN-VNC").indices
    assert res.mean_rates()["mean_hz"].iloc[dn].min() > 0
