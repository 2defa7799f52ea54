"""Tests of sim.results: rates, latencies, PSTH, files (SONATA layout, atomic writes), concat.

Spikes are made by hand on the toy connectome's neuron table, so every
expected number is known exactly; no simulation is run.
"""
from __future__ import annotations

import json
import math

import h5py
import numpy as np
import pandas as pd
import pytest

import connectomes
from connectomes.synthetic import write_winding_format
from sim.results import READOUT_GROUPS, Results, ResultsFileError


@pytest.fixture(scope="module")
def conn(tmp_path_factory):
    """The toy connectome (same as the ``toy`` fixture, loaded once for this module)."""
    truth = write_winding_format(tmp_path_factory.mktemp("toy"), seed=1)
    return connectomes.load("winding2023", data_dir=truth.path, verify=False)


@pytest.fixture(scope="module")
def neurons(conn):
    return conn.neurons


def of_type(neurons, celltype):
    idx = np.flatnonzero(neurons["celltype"].to_numpy() == celltype)
    assert len(idx), celltype
    return idx


def make(neurons, spikes, *, n_trials=2, duration=1000.0, dt=0.1, metadata=None, **kw):
    """Results from a list of (trial, node, t_ms) triples."""
    arr = np.asarray(spikes, dtype=float).reshape(-1, 3)
    return Results(arr[:, 0].astype(np.int32), arr[:, 1].astype(np.int64), arr[:, 2],
                   neurons=neurons, n_trials=n_trials, duration=duration, dt=dt,
                   metadata={"seed": 1} if metadata is None else metadata, **kw)


def random_results(neurons, *, n_trials=3, n=400, seed=0, duration=1000.0, **kw):
    rng = np.random.default_rng(seed)
    return Results(rng.integers(0, n_trials, n).astype(np.int32),
                   rng.integers(0, len(neurons), n).astype(np.int64),
                   np.round(rng.uniform(0, duration, n), 1), neurons=neurons, n_trials=n_trials,
                   duration=duration, dt=0.1, metadata=kw.pop("metadata", {"seed": seed}), **kw)


# -- rates ---------------------------------------------------------------------
def test_rates_are_counts_over_duration(neurons):
    a, b, c = 3, 7, 11
    res = make(neurons, [(0, a, 10), (0, a, 20), (0, a, 300), (1, a, 499.9),
                         (1, b, 0.0), (1, b, 250.0), (0, c, 500.0)], duration=500.0)
    r = res.rates()
    assert r.shape == (len(neurons), 2)
    assert list(r.columns) == [0, 1] and r.index.name == "node_id"
    expected = np.zeros((len(neurons), 2))
    expected[a] = [3 / 0.5, 1 / 0.5]
    expected[b] = [0, 2 / 0.5]
    expected[c] = [1 / 0.5, 0]          # a spike at exactly `duration` counts in the whole trial
    np.testing.assert_array_equal(r.to_numpy(), expected)


def test_rates_within_window_are_half_open(neurons):
    a, b, c = 3, 7, 11
    res = make(neurons, [(0, a, 10), (0, a, 200), (0, a, 300), (1, b, 250.0), (1, b, 299.99),
                         (0, c, 500.0)], duration=500.0)
    r = res.rates(window=(200.0, 300.0)).to_numpy()
    np.testing.assert_allclose(r[a], [1 / 0.1, 0])     # 200 in, 300 out
    np.testing.assert_allclose(r[b], [0, 2 / 0.1])
    assert r[c].tolist() == [0, 0]
    # a window ending at the end of the trial includes a spike at t == duration
    np.testing.assert_allclose(res.rates(window=(250.0, 500.0)).to_numpy()[c], [1 / 0.25, 0])
    with pytest.raises(ValueError, match="window"):
        res.rates(window=(300.0, 200.0))
    with pytest.raises(ValueError, match="duration"):
        res.rates(window=(0.0, 600.0))


def test_non_recorded_neurons_have_nan_rates(neurons):
    a, silent, off = 3, 4, 5
    recorded = np.setdiff1d(np.arange(len(neurons)), [off])
    res = make(neurons, [(0, a, 10)], recorded=recorded)
    r = res.rates()
    assert r.loc[off].isna().all()
    assert r.loc[silent].tolist() == [0.0, 0.0]
    assert r.loc[a].tolist() == [1.0, 0.0]
    m = res.mean_rates()
    assert math.isnan(m.loc[off, "mean_hz"]) and m.loc[silent, "mean_hz"] == 0.0
    with pytest.raises(ValueError, match="not recorded"):
        make(neurons, [(0, off, 10)], recorded=recorded)


def test_mean_rates_mean_sd_sem_across_trials(neurons):
    a = 3
    res = make(neurons, [(0, a, t) for t in (1, 2, 3, 4, 5, 6)] + [(1, a, 7), (1, a, 8)])
    m = res.mean_rates()
    assert list(m.columns[:4]) == ["skid", "celltype", "hemisphere", "label"]
    assert m.loc[a, "skid"] == neurons.loc[a, "skid"]
    assert m.loc[a, "mean_hz"] == pytest.approx(4.0)
    assert m.loc[a, "sd_hz"] == pytest.approx(np.std([6, 2], ddof=1))
    assert m.loc[a, "sem_hz"] == pytest.approx(2.0)
    single = make(neurons, [(0, a, 1)], n_trials=1)
    assert math.isnan(single.mean_rates().loc[a, "sem_hz"])


def test_rates_by_celltype(neurons):
    kcs = of_type(neurons, "KC")
    n = len(kcs)
    spikes = [(0, kcs[0], t) for t in (10, 20, 30, 40)] + [(1, k, 500) for k in kcs]
    res = make(neurons, spikes)
    t = res.rates_by("celltype").set_index("group")
    assert list(t.columns) == ["n_neurons", "n_recorded", "mean_hz", "sd_hz", "sem_hz"]
    assert set(t.index) == set(neurons["celltype"])
    x, y = 4 / n, 1.0                     # per-trial mean over KCs
    assert t.loc["KC", "n_neurons"] == n
    assert t.loc["KC", "mean_hz"] == pytest.approx((x + y) / 2)
    assert t.loc["KC", "sd_hz"] == pytest.approx(abs(x - y) / math.sqrt(2))
    assert t.loc["KC", "sem_hz"] == pytest.approx(abs(x - y) / 2)
    assert t.loc["PN", "mean_hz"] == 0.0
    # only recorded neurons enter the mean; the count of neurons stays
    rec = np.setdiff1d(np.arange(len(neurons)), kcs[1:])
    res2 = make(neurons, [(0, kcs[0], 10), (1, kcs[0], 10), (1, kcs[0], 20)], recorded=rec)
    row = res2.rates_by().set_index("group").loc["KC"]
    assert (row["n_neurons"], row["n_recorded"]) == (n, 1)
    assert row["mean_hz"] == pytest.approx(1.5)
    # window and selection
    w = res.rates_by("celltype", window=(0.0, 100.0)).set_index("group")
    assert w.loc["KC", "mean_hz"] == pytest.approx((4 / 0.1 / n + 0) / 2)
    sel = res.rates_by("celltype", selection=kcs[:2]).set_index("group")
    assert list(sel.index) == ["KC"] and sel.loc["KC", "n_neurons"] == 2


def test_rates_by_other_columns(neurons, conn):
    res = random_results(neurons)
    h = res.rates_by("hemisphere")
    assert h["n_neurons"].sum() == len(neurons)
    rates = res.rates().to_numpy()
    left = neurons["hemisphere"].to_numpy() == "left"
    assert h.set_index("group").loc["left", "mean_hz"] == pytest.approx(rates[left].mean())
    # ;-separated columns: a neuron belongs to each token; empty values are left out
    table = neurons.copy()
    s = of_type(neurons, "sensory")[0]
    table.loc[s, "modality"] = "olfactory;noci"
    m = make(table, [(0, s, 5)]).rates_by("modality").set_index("group")
    assert "" not in m.index
    for token in ("olfactory", "noci"):
        want = sum(token in v.split(";") for v in table["modality"])
        assert m.loc[token, "n_neurons"] == want
        assert m.loc[token, "mean_hz"] == pytest.approx(1 / want / 2)
    # a Selection works like its indices
    kc = conn.select(celltype="KC")
    a = res.rates_by("hemisphere", selection=kc)
    b = res.rates_by("hemisphere", selection=kc.indices)
    pd.testing.assert_frame_equal(a, b)
    with pytest.raises(ValueError, match="no column 'celtype'.*celltype"):
        res.rates_by("celtype")


def test_selection_from_other_connectome_is_refused(neurons, conn):
    table = neurons.copy()
    table["skid"] = table["skid"] + 1
    res = random_results(table)
    with pytest.raises(ValueError, match="skeleton ids differ"):
        res.rates_by(selection=conn.select(celltype="KC"))


def test_readout_groups_and_per_neuron(neurons):
    dvnc, dsez, rgn = (of_type(neurons, g) for g in READOUT_GROUPS)
    spikes = [(tr, k, t) for k in dvnc for tr in (0, 1) for t in (100, 600)]
    spikes += [(0, rgn[0], 50)]
    res = make(neurons, spikes)
    r = res.readout()
    assert r["group"].tolist() == ["DN-VNC", "DN-SEZ", "RGN"]
    assert r["n_neurons"].tolist() == [len(dvnc), len(dsez), len(rgn)]
    np.testing.assert_allclose(r["mean_hz"], [2.0, 0.0, (1 / len(rgn)) / 2])
    assert r.loc[0, "sd_hz"] == 0.0
    detail = res.readout(per_neuron=True)
    assert len(detail) == len(dvnc) + len(dsez) + len(rgn)
    assert detail["celltype"].tolist() == (["DN-VNC"] * len(dvnc) + ["DN-SEZ"] * len(dsez)
                                           + ["RGN"] * len(rgn))
    assert detail.loc[rgn[0], "mean_hz"] == pytest.approx(0.5)
    # a network without RGNs: the group is reported empty, not dropped
    sub = neurons[neurons["celltype"] != "RGN"]
    r2 = make(sub, [(0, dvnc[0], 1)]).readout()
    assert r2.set_index("group").loc["RGN", "n_neurons"] == 0
    assert math.isnan(r2.set_index("group").loc["RGN", "mean_hz"])


# -- latency -------------------------------------------------------------------
def test_first_spike_latency_and_response_probability(neurons):
    a, b, off = 3, 7, 9
    rec = np.setdiff1d(np.arange(len(neurons)), [off])
    res = make(neurons, [(0, a, 50), (0, a, 130), (0, a, 120), (1, a, 90),
                         (0, b, 100), (1, b, 150), (2, b, 400)], n_trials=3, recorded=rec)
    lat = res.first_spike_latency(after=100.0)
    assert lat.shape == (len(neurons), 3)
    np.testing.assert_allclose(lat.loc[a], [20, np.nan, np.nan])
    np.testing.assert_allclose(lat.loc[b], [0, 50, 300])        # a spike at `after` counts
    assert lat.loc[off].isna().all()
    p = res.response_probability(after=100.0)
    assert p.loc[a, "p_response"] == pytest.approx(1 / 3)
    assert p.loc[b, "p_response"] == 1.0
    assert p.loc[b, "mean_latency_ms"] == pytest.approx(350 / 3)
    assert p.loc[b, "median_latency_ms"] == 50
    assert p.loc[4, "p_response"] == 0.0 and math.isnan(p.loc[4, "mean_latency_ms"])
    assert math.isnan(p.loc[off, "p_response"])
    w = res.response_probability(after=100.0, window=(0.0, 300.0))
    assert w.loc[b, "p_response"] == pytest.approx(2 / 3)
    np.testing.assert_allclose(res.first_spike_latency(after=0.0).loc[a], [50, 90, np.nan])


# -- PSTH ----------------------------------------------------------------------
def test_psth_sums_to_spike_count(neurons):
    res = random_results(neurons, n=1000)
    kcs = of_type(neurons, "KC")
    for sel, n_sel in ((None, len(neurons)), (kcs, len(kcs))):
        edges, rate = res.psth(sel, bin=10.0)
        assert edges[0] == 0 and edges[-1] == 1000 and len(edges) == 101
        total = (res.spikes["node_id"].isin(kcs).sum() if sel is not None else res.n_spikes)
        assert np.sum(rate * np.diff(edges) / 1000) * n_sel * res.n_trials == pytest.approx(total)
    edges, rate = res.psth(bin=30.0)        # last bin shorter
    assert edges[-1] == 1000 and edges[-2] == 990
    assert np.sum(rate * np.diff(edges) / 1000) * len(neurons) * 3 == pytest.approx(res.n_spikes)


def test_psth_bin_values(neurons):
    a, b = 3, 7
    res = make(neurons, [(0, a, 15), (1, a, 19.99), (0, b, 15), (1, a, 1000.0)], n_trials=2)
    edges, rate = res.psth([a], bin=10.0)
    assert rate[1] == pytest.approx(2 / (0.010 * 1 * 2))
    assert rate[-1] == pytest.approx(1 / (0.010 * 1 * 2))    # t == duration: last bin
    assert rate.sum() == pytest.approx(rate[1] + rate[-1])
    rec = np.setdiff1d(np.arange(len(neurons)), [b])
    _, none = make(neurons, [(0, a, 1)], recorded=rec).psth([b])
    assert np.isnan(none).all()


# -- spikes ------------------------------------------------------------------------
def test_spike_trains_and_spike_table(neurons):
    a, b = 3, 7
    rec = np.setdiff1d(np.arange(len(neurons)), [9])
    res = make(neurons, [(1, a, 30), (1, a, 10), (0, b, 5), (1, b, 20)], recorded=rec)
    st = res.spike_trains(1)
    assert set(st) == set(rec.tolist())
    np.testing.assert_array_equal(st[a], [10, 30])
    np.testing.assert_array_equal(st[b], [20])
    assert len(st[4]) == 0 and 9 not in st
    with pytest.raises(ValueError, match="trial"):
        res.spike_trains(2)
    s = res.spikes
    assert list(s.columns) == ["trial", "node_id", "skid", "celltype", "hemisphere", "label", "t_ms"]
    assert s["trial"].tolist() == [0, 1, 1, 1]
    assert s["t_ms"].tolist() == [5, 10, 20, 30]
    assert s["skid"].tolist() == neurons["skid"].to_numpy()[[b, a, b, a]].tolist()
    assert s["celltype"].tolist() == neurons["celltype"].to_numpy()[[b, a, b, a]].tolist()


def test_invalid_input_is_refused(neurons):
    with pytest.raises(ValueError, match="outside"):
        make(neurons, [(0, 1, 1000.5)])
    with pytest.raises(ValueError, match="trial"):
        make(neurons, [(2, 1, 10)], n_trials=2)
    with pytest.raises(ValueError, match="not in the neuron table"):
        make(neurons, [(0, len(neurons), 10)])
    with pytest.raises(ValueError, match="length"):
        Results([0], [1, 2], [1.0], neurons=neurons, n_trials=1, duration=10.0, dt=0.1, metadata={})
    with pytest.raises(ValueError, match="label"):
        make(neurons.drop(columns="label"), [])
    with pytest.raises(TypeError, match=r"metadata\['model'\]\['f'\]"):
        make(neurons, [], metadata={"model": {"f": object()}})
    with pytest.raises(ValueError, match="shape"):
        make(neurons, [], rates={"all": (10.0, np.zeros((3, 100)))})


def test_brian2_quantities_are_accepted():
    brian2 = pytest.importorskip("brian2")
    ms, second, mV = brian2.ms, brian2.second, brian2.mV
    table = pd.DataFrame({"skid": [10, 11], "celltype": ["KC", "KC"], "hemisphere": ["left", "right"],
                          "label": ["a", "b"]})
    res = Results(np.array([0, 0, 0]), np.array([0, 0, 1]), np.array([150.0, 250.0, 699.9]),
                  neurons=table, n_trials=1, duration=0.7 * second, dt=0.1 * ms, metadata={})
    assert res.duration_ms == 700.0 and res.dt_ms == 0.1
    assert float(res.duration / ms) == pytest.approx(700.0)
    pd.testing.assert_frame_equal(res.rates(window=(200 * ms, 0.7 * second)),
                                  res.rates(window=(200.0, 700.0)))
    assert res.rates(window=(200 * ms, 700 * ms)).loc[0, 0] == pytest.approx(2.0)
    edges, _ = res.psth(bin=0.1 * second)
    assert len(edges) == 8
    with pytest.raises(ValueError, match="must be a time"):
        res.rates(window=(200 * mV, 700 * ms))


# -- files -----------------------------------------------------------------------
def rich_results(neurons, **kw):
    rng = np.random.default_rng(3)
    rec = np.setdiff1d(np.arange(len(neurons)), [5, 6])
    n = 300
    nodes = rng.choice(rec, n)
    meta = {"seed": 7, "model": {"name": "current-lif", "tau_m_ms": 20.0, "pair": (1, 2)},
            "stimuli": [{"target": "olfactory", "rate_hz": np.float64(80.0)}],
            "connectome": {"dataset": "winding2023", "sha256": "ab" * 32}, "note": None}
    return Results(rng.integers(0, 3, n), nodes, np.round(rng.uniform(0, 500, n), 1),
                   neurons=neurons, n_trials=3, duration=500.0, dt=0.1, metadata=meta,
                   recorded=rec,
                   rates={"all": (10.0, rng.random((3, 50))), "KC": (5.0, rng.random((3, 100)))},
                   states={"v": ([1, 2, 3], np.arange(0, 500, 0.5), rng.normal(-60, 5, (3, 3, 1000)), "mV"),
                           "g_e": ([4], [0.0, 250.0], rng.random((3, 1, 2)))}, **kw)


def test_save_load_round_trip(neurons, tmp_path):
    res = rich_results(neurons)
    out = res.save(tmp_path / "sub" / "run.h5")
    assert out == tmp_path / "sub" / "run.h5"
    back = Results.load(out)
    assert back == res
    assert back.metadata["model"]["pair"] == [1, 2]          # JSON values
    assert back.metadata["stimuli"][0]["rate_hz"] == 80.0
    pd.testing.assert_frame_equal(back.neurons, res.neurons)
    assert list(back.neurons.columns) == list(neurons.columns)
    pd.testing.assert_frame_equal(back.rates(), res.rates())
    np.testing.assert_array_equal(back.population_rates["KC"][1], res.population_rates["KC"][1])
    assert back.population_rates["KC"][0] == 5.0
    np.testing.assert_array_equal(back.states["v"][2], res.states["v"][2])
    assert back.state_units == {"v": "mV", "g_e": ""}
    np.testing.assert_array_equal(back.recorded, res.recorded)
    # equality can fail
    other = Results.load(out)
    other.metadata["seed"] = 8
    assert other != res
    times = res.spike_times.copy()
    times[0] += 0.1
    moved = Results(res.spike_trials, res.spike_nodes, times, neurons=res.neurons, n_trials=3,
                    duration=500.0, dt=0.1, metadata=res.metadata, recorded=res.recorded,
                    rates={k: v for k, v in res.population_rates.items()},
                    states={k: (*v, res.state_units[k]) for k, v in res.states.items()})
    assert moved != res
    assert make(neurons, [], n_trials=3, duration=500.0) != res


def test_file_uses_sonata_spike_layout(neurons, tmp_path):
    res = rich_results(neurons, population="larva")
    path = res.save(tmp_path / "run.h5")
    with h5py.File(path, "r") as f:
        g = f["spikes/larva"]
        assert set(g) == {"timestamps", "node_ids", "trial_ids"}
        assert g.attrs["sorting"] == "by_time"
        ts, ids, tr = g["timestamps"], g["node_ids"], g["trial_ids"]
        assert ts.dtype == np.float64 and ids.dtype == np.uint64 and tr.dtype == np.int32
        assert ts.attrs["units"] == "ms"
        assert len(ts) == len(ids) == len(tr) == res.n_spikes
        ts, ids, tr = ts[()], ids[()], tr[()]
        for k in range(3):
            assert np.all(np.diff(ts[tr == k]) >= 0)
        assert np.all(np.diff(ts) >= 0)
        stored = sorted(zip(tr.tolist(), ids.tolist(), ts.tolist()))
        assert stored == sorted(zip(res.spike_trials.tolist(), res.spike_nodes.tolist(),
                                    res.spike_times.tolist()))
        nodes = f["nodes/larva"]
        np.testing.assert_array_equal(nodes["node_id"][()], np.arange(len(neurons)))
        assert nodes["node_id"].dtype == np.uint64
        assert nodes["0/celltype"].asstr()[()].tolist() == neurons["celltype"].tolist()
        np.testing.assert_array_equal(nodes["0/skid"][()], neurons["skid"].to_numpy())
        assert f.attrs["format"] == "larvasim-results"
        assert json.loads(f.attrs["metadata"])["seed"] == 7
        assert (f.attrs["duration_ms"], f.attrs["dt_ms"], f.attrs["n_trials"]) == (500.0, 0.1, 3)
        np.testing.assert_array_equal(f["recorded"][()], res.recorded)
        assert f["rates/all"].attrs["bin_ms"] == 10.0 and f["rates/all"].shape == (3, 50)
        assert f["states/v/values"].shape == (3, 3, 1000)
        assert f["states/v/times"].attrs["units"] == "ms"


def test_empty_results_round_trip(neurons, tmp_path):
    res = make(neurons, [], n_trials=1)
    assert Results.load(res.save(tmp_path / "empty.h5")) == res
    assert res.rates().to_numpy().sum() == 0


def _files(folder):
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.parametrize("exc", [RuntimeError, KeyboardInterrupt])
def test_failed_write_leaves_nothing(neurons, tmp_path, monkeypatch, exc):
    res = rich_results(neurons)
    real = h5py.Group.create_dataset
    calls = {"n": 0}

    def flaky(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 5:
            raise exc("disk full")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(h5py.Group, "create_dataset", flaky)
    with pytest.raises(exc):
        res.save(tmp_path / "run.h5")
    assert calls["n"] == 5
    assert _files(tmp_path) == []


def test_failed_write_keeps_existing_file(neurons, tmp_path, monkeypatch):
    good = rich_results(neurons)
    path = good.save(tmp_path / "run.h5")
    before = path.read_bytes()
    newer = random_results(neurons)

    def boom(self, *args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(h5py.Group, "create_dataset", boom)
    with pytest.raises(OSError, match="disk full"):
        newer.save(path)
    monkeypatch.undo()
    assert _files(tmp_path) == ["run.h5"]
    assert path.read_bytes() == before
    assert Results.load(path) == good


def test_unserialisable_metadata_fails_before_writing(neurons, tmp_path):
    good = rich_results(neurons)
    path = good.save(tmp_path / "run.h5")
    before = path.read_bytes()
    res = random_results(neurons)
    res.metadata["network"] = {"group": object()}
    with pytest.raises(TypeError, match=r"metadata\['network'\]\['group'\]"):
        res.save(path)
    with pytest.raises(TypeError):
        res.save(tmp_path / "other.h5")
    assert _files(tmp_path) == ["run.h5"] and path.read_bytes() == before


def test_bad_files_give_clear_errors(neurons, tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.h5"):
        Results.load(tmp_path / "nope.h5")
    text = tmp_path / "notes.h5"
    text.write_text("not hdf5")
    with pytest.raises(ResultsFileError, match="notes.h5.*not an HDF5 file"):
        Results.load(text)
    sonata = tmp_path / "plain_sonata.h5"
    with h5py.File(sonata, "w") as f:
        g = f.create_group("spikes/winding2023")
        g.attrs["sorting"] = "by_time"
        g.create_dataset("timestamps", data=[1.0, 2.0]).attrs["units"] = "ms"
        g.create_dataset("node_ids", data=np.array([0, 1], dtype=np.uint64))
    with pytest.raises(ResultsFileError) as err:
        Results.load(sonata)
    msg = str(err.value)
    assert "plain_sonata.h5" in msg and "not a larvasim results file" in msg
    for item in ("'format'", "'metadata'", "/spikes/winding2023/trial_ids", "/nodes/winding2023/node_id",
                 "/recorded"):
        assert item in msg
    newer = make(neurons, [(0, 1, 1)]).save(tmp_path / "newer.h5")
    with h5py.File(newer, "a") as f:
        f.attrs["format_version"] = 99
    with pytest.raises(ResultsFileError, match="newer larvasim"):
        Results.load(newer)


# -- combining -----------------------------------------------------------------------
def test_concat_renumbers_trials(neurons):
    a, b = 3, 7
    r1 = make(neurons, [(0, a, 10), (1, a, 20)], n_trials=2, metadata={"model": "x", "seed": 1},
              rates={"all": (10.0, np.ones((2, 100)))})
    r2 = make(neurons, [(0, b, 30), (2, b, 40), (2, a, 5)], n_trials=3,
              metadata={"model": "x", "seed": 2}, rates={"all": (10.0, np.zeros((3, 100)))})
    both = Results.concat([r1, r2])
    assert both.n_trials == 5
    assert list(zip(both.spike_trials.tolist(), both.spike_nodes.tolist(), both.spike_times.tolist())) == \
        [(0, a, 10), (1, a, 20), (2, b, 30), (4, a, 5), (4, b, 40)]
    pd.testing.assert_frame_equal(
        both.rates(), pd.concat([r1.rates(), r2.rates()], axis=1, ignore_index=True).rename_axis(
            columns="trial"), check_column_type=False)
    np.testing.assert_array_equal(both.population_rates["all"][1].sum(axis=1), [100, 100, 0, 0, 0])
    assert both.metadata["model"] == "x" and "seed" not in both.metadata
    assert both.metadata["concatenated_parts"] == [{"trials": [0, 1], "seed": 1},
                                                   {"trials": [2, 4], "seed": 2}]
    assert r1.merge(r2) == both
    same = Results.concat([r1, r1])
    assert same.metadata == {"model": "x", "seed": 1}
    # a run's own trial count (metadata "trials") does not replace its part's trial range
    r1.metadata["trials"], r2.metadata["trials"] = 2, 3
    parts = Results.concat([r1, r2]).metadata["concatenated_parts"]
    assert [p["trials"] for p in parts] == [[0, 1], [2, 4]]


def test_concat_refuses_different_settings(neurons):
    r1 = make(neurons, [(0, 3, 10)])
    with pytest.raises(ValueError, match="duration"):
        r1.merge(make(neurons, [(0, 3, 10)], duration=500.0))
    with pytest.raises(ValueError, match="dt"):
        r1.merge(make(neurons, [(0, 3, 10)], dt=0.05))
    with pytest.raises(ValueError, match="neuron tables differ"):
        r1.merge(make(neurons.iloc[:-1], [(0, 3, 10)]))
    with pytest.raises(ValueError, match="recorded"):
        r1.merge(make(neurons, [(0, 3, 10)], recorded=[3]))
    with pytest.raises(ValueError, match="at least one"):
        Results.concat([])


# -- summaries -------------------------------------------------------------------------
def test_repr_and_summary_table(neurons):
    kcs = of_type(neurons, "KC")
    res = make(neurons, [(0, k, 10) for k in kcs] + [(1, kcs[0], 20)])
    text = repr(res)
    assert "2 trials" in text and f"{len(kcs) + 1} spikes" in text and f"{len(neurons)} neurons" in text
    table = res.summary_table()
    kc_line = next(line for line in table.splitlines() if line.split()[:1] == ["KC"])
    mean = (1 + 1 / len(kcs)) / 2
    assert kc_line.split()[1:4] == [str(len(kcs)), str(len(kcs)), f"{mean:.3g}"]
    assert any(line.startswith("* DN-VNC") for line in table.splitlines())


# -- real data -------------------------------------------------------------------------
@pytest.mark.realdata
def test_real_neuron_table_round_trips(real_connectome, tmp_path):
    c = real_connectome
    rng = np.random.default_rng(0)
    n = 20_000
    res = Results(rng.integers(0, 2, n), rng.integers(0, c.n_neurons, n), rng.uniform(0, 1000, n),
                  neurons=c.neurons, n_trials=2, duration=1000.0, dt=0.1,
                  metadata={"connectome": c.provenance})
    r = res.readout().set_index("group")
    for g in READOUT_GROUPS:
        assert r.loc[g, "n_neurons"] == (c.neurons["celltype"] == g).sum() > 0
    back = Results.load(res.save(tmp_path / "real.h5"))
    assert back == res
    assert list(back.neurons.columns) == list(c.neurons.columns)
    olf = res.rates_by("modality").set_index("group")
    assert olf.loc["olfactory", "n_neurons"] == len(c.select(modality="olfactory"))


def test_spikes_are_kept_in_trial_time_node_order(neurons):
    """Unsorted spikes are sorted (trial, time, node); sorted ones, ties included, keep their order."""
    rng = np.random.default_rng(5)
    n = 400
    tr = rng.integers(0, 3, n)
    nd = rng.integers(0, len(neurons), n)
    tm = np.round(rng.uniform(0, 100, n), 1)
    tm[:50] = tm[50]  # ties in time
    kw = dict(neurons=neurons, n_trials=3, duration=100.0, dt=0.1, metadata={})  # ms
    res = Results(tr, nd, tm, **kw)
    order = np.lexsort((nd, tm, tr))
    np.testing.assert_array_equal(res.spike_trials, tr[order])
    np.testing.assert_array_equal(res.spike_nodes, nd[order])
    np.testing.assert_array_equal(res.spike_times, tm[order])
    again = Results(res.spike_trials, res.spike_nodes, res.spike_times, **kw)
    np.testing.assert_array_equal(again.spike_nodes, res.spike_nodes)
    np.testing.assert_array_equal(again.spike_times, res.spike_times)
    assert not again.spike_nodes.flags.writeable
    # a table shared by many results is normalised once, and each result's copy is its own
    a, b = Results(tr, nd, tm, **kw), Results(tr, nd, tm, **kw)
    a.neurons["celltype"] = "changed"
    assert (b.neurons["celltype"] != "changed").any()
