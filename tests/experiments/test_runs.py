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


def test_a_stored_item_rescores_only_the_findings_added_or_changed():
    from experiments import biology
    from experiments.runs import finding_keys, merge_rows, stale_findings

    keys = finding_keys()
    ids = [f.id for f in biology.load_findings()]
    assert list(keys) == ids  # the table's order
    assert finding_keys(ids[:3]) == {i: keys[i] for i in ids[:3]}
    rows = [{"id": i, "status": "hit"} for i in ids[:-2]]  # a store written before the last two rows were added
    assert stale_findings(rows, keys, keys) == ids[-2:]
    assert stale_findings(rows, None, keys) == ids[-2:]  # an old store without keys: its rows count as current
    edited = {**keys, ids[0]: "0" * 12}  # the store scored another version of the first row
    assert stale_findings(rows, edited, keys) == [ids[0]] + ids[-2:]
    new = [{"id": ids[0], "status": "miss"}, {"id": ids[-1], "status": "hit"}]
    merged = merge_rows(rows + [{"id": "gone", "status": "hit"}], new, keys)
    assert [r["id"] for r in merged] == ids[:-2] + [ids[-1]]  # table order; a row no longer in the table dropped
    assert merged[0]["status"] == "miss"


def test_a_finding_key_follows_what_the_scorer_reads(tmp_path, monkeypatch):
    """The key changes with the expectation (what is scored), not with the quoted text."""
    from experiments import biology
    from experiments.runs import finding_keys

    text = biology.FINDINGS.read_text()
    first = biology.load_findings()[0]
    keys = finding_keys()
    path = tmp_path / "findings.toml"
    monkeypatch.setattr(biology, "FINDINGS", path)
    path.write_text(text.replace(f'finding = "{first.finding}"', 'finding = "reworded"', 1))
    assert finding_keys()[first.id] == keys[first.id]
    other = "no_change" if first.expect != "no_change" else "increase"
    block = text.split("\n[[finding]]\n")[1]  # the first row (the header's comment names [[finding]] too)
    path.write_text(text.replace(block, block.replace(f'expect = "{first.expect}"', f'expect = "{other}"'), 1))
    changed = finding_keys()
    assert changed[first.id] != keys[first.id] and all(changed[i] == keys[i] for i in keys if i != first.id)


def test_pending_scores_new_items_whole_and_stored_ones_only_where_stale():
    from experiments.runs import pending

    keys = {"f1": "a", "f2": "b", "f3": "c"}
    stored = {"x": {"rows": [{"id": "f1"}, {"id": "f2"}, {"id": "f3"}]},  # current
              "y": {"rows": [{"id": "f1"}, {"id": "f2"}]}}  # f3 added to the table since
    assert pending(["x", "y", "z"], stored, keys, keys) == [("z", None), ("y", ["f3"])]
    assert pending(["x", "y", "z"], stored, keys, keys, every=["f1"]) == [("z", ["f1"]), ("y", ["f3"])]
    assert pending(["x", "y"], stored, {**keys, "f1": "old"}, keys) == [("x", ["f1"]), ("y", ["f1", "f3"])]
    assert pending(["x"], stored, keys, keys) == []
