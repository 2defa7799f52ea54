"""Resumable runs of the analysis scripts: items scored here or in worker processes, each kept as it finishes.

The analyses behind ``docs/biology_null.md``, ``docs/kc_sparseness.md`` and ``docs/sign_lesions.md`` score many
independent items (brains, grid points, lesions), each for minutes, and keep every result in their store as soon
as it is done, so that a stopped run resumes. :func:`run_each` is that loop; :func:`provenance` is what each store
records about where it was computed.
"""
from __future__ import annotations

import os
import platform
from typing import Any, Callable, Iterable

__all__ = ["default_model_key", "finding_keys", "merge_rows", "model_store", "pending", "provenance", "run_each",
           "stale_findings"]


def run_each(items: Iterable[Any], keep: Callable, *, worker: Callable, local: Callable | None = None,
             jobs: int = 1) -> None:
    """Call ``keep(*result)`` for each item's result, as soon as it is there.

    Parameters
    ----------
    items : iterable
        What to score (each must pickle when ``jobs > 1``).
    keep : callable
        Called in this process with the result tuple of each item, in the order they finish.
    worker : callable
        A module-level function ``item -> tuple`` that loads what it needs itself (run in a spawned process).
    local : callable, optional
        ``item -> tuple`` run in this process (e.g. with a connectome already loaded); default ``worker``.
    jobs : int
        Worker processes; with 1 (or one item) everything runs here, in order.
    """
    items = list(items)
    if jobs > 1 and len(items) > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor, as_completed

        with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
            for fut in as_completed([pool.submit(worker, it) for it in items]):
                keep(*fut.result())
    else:
        for it in items:
            keep(*(local or worker)(it))


def default_model_key() -> str:
    """A short fingerprint of the default larval model: its calibration record's parameters, structure, signs,
    synapse types and stage-2 parameters and plasticity rule (``models/data/larval_calibration.json``) and the
    packaged transmitter table. Stores that resume (``experiments.biology_null``, ``experiments.sign_lesions``)
    keep it and start afresh when the default model has changed since."""
    import hashlib
    import json
    from importlib import resources

    from models.neurons import larval_calibration

    cal = larval_calibration()
    mb = cal.get("mushroom_body") or {}
    keep = {k: cal.get(k) for k in ("parameters", "structure", "signs", "synapse_types")}
    keep["mushroom_body"] = {"parameters": mb.get("parameters"), "rule": mb.get("rule")}
    table = resources.files("models").joinpath("data", "transmitters.csv").read_bytes()
    text = json.dumps(keep, sort_keys=True, default=str).encode() + hashlib.sha256(table).digest()
    return hashlib.sha256(text).hexdigest()[:16]


def model_store(path, **empty) -> tuple:
    """The JSON store of report ``path`` (``<stem>.json``) and its data: the stored data when they were scored on
    the default model and findings of today (:func:`experiments.regenerate.fingerprint`), else a fresh store with
    that fingerprint, the model's key, the findings' key and the ``empty`` fields."""
    import json
    from pathlib import Path

    from .regenerate import fingerprint

    store = Path(path).with_suffix(".json")
    key = fingerprint()
    data = json.loads(store.read_text()) if store.is_file() else None
    if data is None or data.get("fingerprint") != key:
        data = {"fingerprint": key, "model": default_model_key(), "findings": key.split("-")[-1], **empty}
    return store, data


def provenance(connectome) -> dict:
    """Machine, connectome checksum and package versions, for a store's metadata."""
    from sim.network import versions

    return {"machine": f"{platform.machine()}, {os.cpu_count()} cores",
            "connectome_sha256": str(connectome.provenance.get("container_sha256", "")), "versions": versions()}


#: What the scorer reads of a finding (besides its half of the split): a change to any of these rescoring it.
_SCORED_FIELDS = ("circuit", "test", "expect", "testable", "selections", "rate_hz", "untestable_reason", "measure",
                  "protocol")


def finding_keys(ids=None) -> dict[str, str]:
    """A short fingerprint of every finding of the packaged table (or only of ``ids``), in the table's order.

    The fingerprint covers what :func:`experiments.biology.score` reads of a finding (its test, selections,
    expectation, drive rate, measure and protocol) and its half of the split; the citation and the quoted text
    are left out, so correcting them rescores nothing.
    """
    import hashlib
    import json

    from . import biology

    findings = biology.load_findings()
    split = biology.load_split(findings=findings)
    wanted = None if ids is None else set(ids)
    out = {}
    for f in findings:
        if wanted is not None and f.id not in wanted:
            continue
        d = f.to_dict()
        keep = {k: d.get(k) for k in _SCORED_FIELDS}
        keep["half"] = split.get(f.paper)
        out[f.id] = hashlib.sha256(json.dumps(keep, sort_keys=True, default=str).encode()).hexdigest()[:12]
    return out


def stale_findings(rows, stored_keys, keys: dict) -> list[str]:
    """The findings a stored item must still score, in the table's order: those of ``keys`` (:func:`finding_keys`)
    that its ``rows`` lack, and those whose fingerprint differs from ``stored_keys`` (the store's, or None for a
    store written before fingerprints were kept: its rows count as current)."""
    have = {r["id"] for r in rows}
    old = stored_keys or {}
    return [i for i in keys if i not in have or (stored_keys is not None and old.get(i) != keys[i])]


def merge_rows(old, new, keys: dict) -> list[dict]:
    """The rows of ``old`` with those of ``new`` put in (a new row replaces the old one of its finding), in the
    order of ``keys``; rows of findings no longer in ``keys`` are dropped."""
    by_id = {r["id"]: r for r in old}
    by_id.update({r["id"]: r for r in new})
    return [by_id[i] for i in keys if i in by_id]


def pending(order, stored: dict, stored_keys, keys: dict, every=None) -> list[tuple]:
    """What a resuming store still has to score, as ``(item, ids)`` pairs: each item of ``order`` not in ``stored``
    with ``every`` (the findings a full run scores: None for all), then each stored item (``stored[item]["rows"]``)
    with only its :func:`stale_findings`, if any."""
    todo = [(x, every) for x in order if x not in stored]
    for x in order:
        if x in stored:
            stale = stale_findings(stored[x]["rows"], stored_keys, keys)
            if stale:
                todo.append((x, stale))
    return todo
