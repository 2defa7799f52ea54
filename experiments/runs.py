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

__all__ = ["provenance", "run_each"]


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


def provenance(connectome) -> dict:
    """Machine, connectome checksum and package versions, for a store's metadata."""
    from sim.network import versions

    return {"machine": f"{platform.machine()}, {os.cpu_count()} cores",
            "connectome_sha256": str(connectome.provenance.get("container_sha256", "")), "versions": versions()}
