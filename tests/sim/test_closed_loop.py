"""The closed loop (sim.closed_loop) and track analysis (sim.analysis.tracks)."""
from __future__ import annotations

import numpy as np
import pytest
from brian2 import ms, second

import connectomes
import sim
from models.arena import Arena, OdourSource
from models.body import MODES
from models.decoders import get_decoder
from models.senses import Senses
from sim.analysis.tracks import crawling_statistics, rdp
from sim.closed_loop import ClosedLoop, Trajectories


@pytest.fixture
def toyc(toy, fresh_cache):
    return connectomes.load("winding2023", data_dir=toy.path, verify=False)


def _orns(c):
    n = c.neurons
    return np.flatnonzero((n.celltype == "sensory") & n.modality.fillna("").str.contains("olfactory"))


def _loop(c, seed=1, larvae=3, **kw):
    arena = Arena(30.0, odours=(OdourSource("A", 10.0, 0.0, 1.0, 10.0),))
    senses = Senses(c, odours={"A": {int(i): (150.0, 0.1) for i in _orns(c)}}, senses=["olfaction"])
    net = sim.Network(c, device="numba")
    return ClosedLoop(arena, get_decoder("cast_sampling"), larvae, network=net, senses=senses, seed=seed, **kw)


def test_closed_loop_is_reproducible_from_its_seed_and_the_brain_reacts(toyc):
    a = _loop(toyc, seed=1).run(2 * second)
    b = _loop(toyc, seed=1).run(2 * second)
    c = _loop(toyc, seed=2).run(2 * second)
    for k in a.data:
        np.testing.assert_array_equal(a[k], b[k])
    assert not np.array_equal(a["x"], c["x"])
    assert len(a.t) == 41 and a.larvae == 3
    # the odour reaches the descending neurons of the toy brain
    assert np.nanmean(a["dn_left_hz"] + a["dn_right_hz"]) > 0
    assert set(np.unique(a["mode"])) <= set(MODES)
    md = a.metadata
    assert md["decoder"]["name"] == "cast_sampling" and md["network"] and md["seed"] == 1
    assert md["arena"]["odours"][0]["odour"] == "A"


def test_stepping_on_continues_a_stepper_and_runs_resume(toyc):
    """Two runs of 1 s of one ClosedLoop equal one run of 2 s."""
    one = _loop(toyc, seed=4).run(2 * second)
    loop = _loop(toyc, seed=4)
    loop.run(1 * second)
    two = loop.run(1 * second)
    for k in one.data:
        np.testing.assert_array_equal(one[k], two[k])


def test_no_odour_no_descending_output_free_turn_rate(toyc):
    arena = Arena(30.0, odours=(OdourSource("A", 10.0, 0.0, 1e-9, 10.0),))
    senses = Senses(toyc, odours={"A": {int(i): (150.0, 0.1) for i in _orns(toyc)}}, senses=["olfaction"])
    tr = ClosedLoop(arena, get_decoder("cast_sampling"), 2, network=sim.Network(toyc), senses=senses,
                    seed=0).run(1 * second)
    from models.body import BODY_PARAMETERS

    np.testing.assert_allclose(tr["turn_rate"][1:], float(BODY_PARAMETERS["turn_rate"].magnitude))


def test_random_walk_needs_no_brain_and_saves(tmp_path):
    tr = ClosedLoop(Arena(40.0), get_decoder("random_walk"), 5, seed=3).run(10 * second)
    assert np.isnan(tr["dn_left_hz"]).all()
    tr.save(tmp_path / "t.h5")
    back = Trajectories.load(tmp_path / "t.h5")
    for k in tr.data:
        np.testing.assert_array_equal(tr[k], back[k])
    assert back.metadata["decoder"]["name"] == "random_walk"
    df = tr.to_frame(condition="x")
    assert len(df) == 5 * len(tr.t) and {"larva", "t_s", "x", "y", "mode", "condition"} <= set(df.columns)
    with pytest.raises(ValueError, match="not a larvasim trajectories"):
        import h5py

        with h5py.File(tmp_path / "other.h5", "w") as f:
            f["x"] = 1
        Trajectories.load(tmp_path / "other.h5")


def test_closed_loop_errors(toyc):
    with pytest.raises(ValueError, match="give a network"):
        ClosedLoop(Arena(10.0), get_decoder("cast_sampling"), 1)
    with pytest.raises(ValueError, match="outside the arena"):
        ClosedLoop(Arena(10.0), get_decoder("random_walk"), 1, start={"x": 20.0})
    with pytest.raises(ValueError, match="unknown key"):
        ClosedLoop(Arena(10.0), get_decoder("random_walk"), 1, start={"z": 0.0})
    with pytest.raises(ValueError, match="whole number of steps"):
        _loop(toyc, chunk=0.05 * ms)
    with pytest.raises(ValueError, match="whole number of chunks"):
        ClosedLoop(Arena(10.0), get_decoder("random_walk"), 1).run(0.07 * second)


def test_rdp_keeps_corners_and_drops_noise():
    t = np.linspace(0, 1, 101)
    pts = np.concatenate([np.column_stack([t * 10, 0.01 * np.sin(50 * t)]),
                          np.column_stack([10 + 0 * t[1:], t[1:] * 10])])
    keep = rdp(pts, 0.5)
    np.testing.assert_array_equal(keep, [0, 100, len(pts) - 1])
    assert len(rdp(pts[:2], 0.5)) == 2


def test_crawling_statistics_of_a_known_track():
    """A square path at 1 mm/s with 3 corners: speed 1 mm/s, 3 turns in the track's minutes."""
    t = np.arange(0, 120.05, 0.05)
    side = 30.0
    s = np.minimum(t, 4 * side)  # arc length, 1 mm/s
    x = np.where(s < side, s, np.where(s < 2 * side, side, np.where(s < 3 * side, 3 * side - s, 0.0)))
    y = np.where(s < side, 0, np.where(s < 2 * side, s - side, np.where(s < 3 * side, side, 4 * side - s)))
    tr = Trajectories(t, {"x": x[:, None], "y": y[:, None]}, {"pauses": [0]})
    st = crawling_statistics(tr)
    np.testing.assert_allclose(st["crawl_speed_mm_s"], 1.0, rtol=1e-6)
    np.testing.assert_allclose(st["turns_per_min"], 3 / 2.0)
