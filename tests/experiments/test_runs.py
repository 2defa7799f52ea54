"""experiments.runs: every item's result is kept, here (in order, by ``local`` when given) or from worker
processes (as they finish)."""
from __future__ import annotations

from experiments.runs import provenance, run_each


def test_every_item_is_kept_here_and_from_workers():
    items = [("a", 1), ("b", 2), ("c", 3)]
    here, pooled, local = [], [], []
    run_each(items, lambda *r: here.append(r), worker=tuple)
    assert here == items
    run_each(items, lambda *r: local.append(r), worker=tuple, local=lambda it: (it[0], 10 * it[1]))
    assert local == [("a", 10), ("b", 20), ("c", 30)]
    run_each(items, lambda *r: pooled.append(r), worker=tuple, jobs=2)  # builtin tuple pickles to a spawned worker
    assert sorted(pooled) == items
    run_each([], lambda *r: pooled.append(r), worker=tuple, jobs=2)
    assert len(pooled) == 3


def test_provenance_names_the_machine_and_the_data(toy):
    import connectomes

    c = connectomes.load("winding2023", data_dir=toy.path, verify=False)
    p = provenance(c)
    assert p["machine"].endswith("cores") and "brian2" in p["versions"] and isinstance(p["connectome_sha256"], str)
