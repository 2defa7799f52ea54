"""Figures are written, non-empty, of the expected size, and show the data they claim."""
from __future__ import annotations

import matplotlib.image as mpimg
import numpy as np
import pytest
from brian2 import Hz, ms

import connectomes
import sim
from sim import plots


@pytest.fixture
def toy_runs(toy, fresh_cache):
    c = connectomes.load("winding2023", data_dir=toy.path, verify=False)
    net = sim.Network(c)
    runs = {m: net.run([sim.PoissonDrive(c.select(modality=m), 150 * Hz)], duration=200 * ms, trials=2, seed=1)
            for m in ("olfactory", "gustatory-external")}
    return c, runs


def _image(path):
    img = mpimg.imread(path)
    assert img.ndim == 3 and img.shape[0] > 200 and img.shape[1] > 300
    assert img[..., :3].std() > 0.01  # not a blank canvas
    return img


def test_raster_and_rates(toy_runs, tmp_path):
    c, runs = toy_runs
    res = runs["olfactory"]
    fig = plots.raster(res)
    ax = fig.axes[0]
    n_points = sum(len(line.get_xdata()) for line in ax.get_lines() if line.get_marker() == "|")
    assert n_points == int((res.spikes["trial"] == 0).sum())
    _image(plots.save(fig, tmp_path / "raster.png"))
    fig = plots.population_rates(res, bin=20 * ms)
    labels = [line.get_label() for line in fig.axes[0].get_lines()]
    assert "sensory" in labels
    _image(plots.save(fig, tmp_path / "rates.png"))


def test_readout_heatmap(toy_runs, tmp_path):
    c, runs = toy_runs
    fig = plots.readout_heatmap(runs, only_responding=False)
    data = fig.axes[0].get_images()[0].get_array()
    assert data.shape == (2, len(c.select(celltype=["DN-VNC", "DN-SEZ"])))
    expect = runs["olfactory"].readout(per_neuron=True, groups=("DN-VNC", "DN-SEZ"))["mean_hz"].to_numpy()
    assert np.allclose(np.asarray(data[0]), expect)
    _image(plots.save(fig, tmp_path / "heat.png"))


def test_connectivity_and_svg(toy_runs, tmp_path):
    c, _ = toy_runs
    fig = plots.connectivity(c)
    M = fig.axes[0].get_images()[0].get_array()
    groups = sorted(set(c.neurons["celltype"]))
    assert M.shape == (len(groups), len(groups))
    # total synapses are conserved by the grouping
    assert np.isclose((10 ** np.asarray(M) - 1).sum(), c.weights().sum())
    out = plots.save(fig, tmp_path / "conn.svg")
    assert out.read_text().lstrip().startswith("<?xml") and out.stat().st_size > 5000


def test_save_rejects_unknown_format(tmp_path):
    import matplotlib.pyplot as plt

    with pytest.raises(ValueError, match="png, .svg"):
        plots.save(plt.figure(), tmp_path / "x.bmp")
    assert not list(tmp_path.iterdir())
