"""Behaviour assays in closed loop (experiments.behaviour) and `larvasim behave`."""
from __future__ import annotations

import json
import numpy as np
import pandas as pd
import pytest
from brian2 import second

from experiments.behaviour import (ASSAYS, AssayError, read_config, run_assay, side_preference,
                                   training_schedule)
from larvasim.cli import main as cli_main


def test_training_schedules_pair_and_unpair():
    for cond, plus in (("paired_A", "A"), ("paired_B", "B")):
        s = training_schedule(cond)
        dan = [(a, b) for a, b, w in s if w == "dan"]
        cs = [(a, b) for a, b, w in s if w == plus]
        assert dan == cs and len(dan) == 3
    s = training_schedule("unpaired")
    dan = [(a, b) for a, b, w in s if w == "dan"]
    odour = [(a, b) for a, b, w in s if w in ("A", "B")]
    from experiments.behaviour import LEARNING_SCHEDULE

    gap = LEARNING_SCHEDULE["gap"]
    for a, b in dan:  # no odour within a gap of any DAN activation
        assert all(b2 <= a - gap + 1e-9 or a2 >= b + gap - 1e-9 for a2, b2 in odour)


def test_side_preference_counts_like_the_lab():
    assert side_preference(np.array([1.0, 2.0, -1.0, 3.0])) == 0.5
    assert side_preference(np.array([1.0, -2.0]), positive_side=-1.0) == 0.0


def test_assay_errors(real_connectome):
    with pytest.raises(AssayError, match="unknown assay"):
        run_assay("phototaxis", real_connectome)
    with pytest.raises(AssayError, match="no condition"):
        run_assay("chemotaxis", real_connectome, conditions=["mutant"])
    with pytest.raises(Exception, match="unknown decoder"):
        run_assay("chemotaxis", real_connectome, decoder="nope", larvae=1, duration=1 * second)


def test_chemotaxis_run_is_stored_by_batch_and_resumes(real_connectome, tmp_path):
    """An interrupted run keeps its completed batches: removing one batch file and running again recomputes
    only that batch, and gives the same tables."""
    kw = dict(larvae=3, duration=2 * second, batch=2, seed=5, conditions=["brain", "random_walk"],
              out=tmp_path / "c")
    first = run_assay("chemotaxis", real_connectome, **kw)
    runs = sorted((tmp_path / "c" / "runs").glob("*.h5"))
    assert len(runs) == 4
    assert {"summary.json", "larvae.csv", "tracks.csv", "chemotaxis_tracks.png"} <= {
        p.name for p in (tmp_path / "c").iterdir()}
    stamps = {p: p.stat().st_mtime_ns for p in runs}
    victim = [p for p in runs if p.name.startswith("brain") and p.name.endswith("-001.h5")][0]
    victim.unlink()
    second_run = run_assay("chemotaxis", real_connectome, **kw)
    assert victim.is_file()
    for p, t in stamps.items():
        if p != victim:
            assert p.stat().st_mtime_ns == t
    pd.testing.assert_frame_equal(first.larvae, second_run.larvae)
    summary = json.loads((tmp_path / "c" / "summary.json").read_text())
    assert summary["conditions"]["brain"]["larvae"] == 3
    assert "brain_vs_random_walk" in summary
    tracks = pd.read_csv(tmp_path / "c" / "tracks.csv")
    assert set(tracks.condition) == {"brain", "random_walk"}
    # the brain condition read the whole brain's descending neurons
    tr = first.trajectories["brain"]
    assert tr.metadata["network"]["n_neurons"] == 2952
    assert np.isfinite(tr["dn_left_hz"][1:]).all()


def test_cli_behave_with_a_sweep_file_and_bad_files(real_data_dir, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("LARVASIM_DATA", str(real_data_dir))
    f = tmp_path / "b.toml"
    f.write_text('[behaviour]\nassay = "chemotaxis"\nlarvae = 1\nduration = 1.0\nconditions = ["brain"]\n'
                 '[decoder]\ntau_fast = "0.4 second"\n[body]\nrun_speed = "1.2 mm/second"\n'
                 '[sweep]\n"decoder.change_gain" = [2.0, 8.0]\n"senses.orn_adapt" = [0.5]\n')
    assert cli_main(["behave", "--config", str(f), "--out", str(tmp_path / "sw")]) == 0
    table = pd.read_csv(tmp_path / "sw" / "sweep.csv")
    assert list(table["decoder.change_gain"]) == [2.0, 8.0]
    meta = json.loads((tmp_path / "sw" / "change_gain=8.0_orn_adapt=0.5" / "summary.json").read_text())
    assert meta["settings"]["decoder_parameters"]["change_gain"] == "8.0"
    assert meta["settings"]["body"]["run_speed"].startswith("1.2")
    assert meta["settings"]["senses"]["orn_adapt"] == "0.5"
    bad_sweep = tmp_path / "bad_sweep.toml"
    bad_sweep.write_text('[behaviour]\nassay = "free"\n[sweep]\n"arena.radius" = [10]\n')
    assert cli_main(["behave", "--config", str(bad_sweep)]) == 2
    assert "TABLE.NAME" in capsys.readouterr().err
    bad = tmp_path / "bad.toml"
    bad.write_text('[behaviour]\nassay = "chemotaxis"\nlarva = 3\n')
    assert cli_main(["behave", "--config", str(bad)]) == 2
    assert "larva" in capsys.readouterr().err
    assert cli_main(["behave", "chemotaxis", "--decoder", "nope", "--larvae", "1"]) == 2
    assert "unknown decoder" in capsys.readouterr().err


def test_every_assay_runs_briefly(real_connectome, tmp_path):
    for assay in ASSAYS:
        res = run_assay(assay, real_connectome, larvae=1, duration=1 * second, seed=0)
        assert set(res.summary["conditions"]) == set(ASSAYS[assay])
        if assay == "learning":
            assert "performance_index" in res.summary
            assert res.trajectories["paired_A"].metadata["training"]["dan"] == "DAN-i1"
