"""experiments.edge_threshold: the best threshold and the decision fixed before the run follow from the records;
the report is its JSON's, and its searches' best points rerun on the real data."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from experiments import edge_threshold as et

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "edge_threshold.md"


def _rec(j, modalities=12, rho=0.7, hot=0.002, quiet=0.0):
    return {"J": j, "sanity": {"modalities_reaching": modalities, "rho": rho, "all_frac_hot": hot,
                               "quiet_hz": quiet}}


def test_the_grid_starts_at_the_default_and_doubles():
    assert et.GRID[0] == 0 and et.GRID[1] == 0.005
    assert [b / a for a, b in zip(et.GRID[1:], et.GRID[2:])] == pytest.approx([2.0] * (len(et.GRID) - 2))


def test_the_best_threshold_is_the_best_j_and_a_tie_goes_to_the_smaller():
    step1 = {"0": {"best": _rec(1.6)}, "0.005": {"best": _rec(1.7)}, "0.01": {"best": _rec(1.7)}}
    assert et.best_threshold(step1) == 0.005
    step1["0"] = {"best": _rec(1.7000001)}  # equal to 6 decimals: the smaller threshold, the default
    assert et.best_threshold(step1) == 0.0
    assert et.best_threshold({"0": {"best": _rec(1.0)}, "0.04": {"best": _rec(1.2)}}) == 0.04


def test_the_decision_rule():
    assert et.decide(2.0, _rec(2.1))["adopt"]
    tie = et.decide(2.0, _rec(2.0))
    assert not tie["adopt"] and "a tie keeps the default" in tie["why"]
    assert not et.decide(2.0, _rec(1.9))["adopt"]
    for bad, name in ((_rec(2.2, modalities=11), "modalities"), (_rec(2.2, rho=0.49), "rho"),
                      (_rec(2.2, hot=0.06), "frac_hot"), (_rec(2.2, quiet=0.2), "quiet")):
        d = et.decide(2.0, bad)
        assert not d["adopt"] and name in d["why"] and not d["must_shows"][name]
