"""docs/behaviour.md is generated, and its numbers are reproduced (experiments.behaviour_report)."""
from __future__ import annotations

import json

import numpy as np
import pytest
from brian2 import second

from experiments import behaviour_report as br
from experiments.behaviour import run_assay


@pytest.fixture(scope="module")
def documented():
    if not br.JSON.is_file():
        pytest.fail(f"{br.JSON} is missing: run python -m experiments.behaviour_report")
    return json.loads(br.JSON.read_text())


def test_document_is_rendered_from_its_numbers(documented):
    """docs/behaviour.md is exactly what render() makes of docs/behaviour.json and the current parameters."""
    assert br.DOC.read_text() == br.render(documented)


def test_free_crawling_numbers_are_reproduced(documented):
    sz = documented["sizes"]
    res = run_assay("free", None, larvae=sz["free_larvae"], duration=sz["duration_s"] * second, seed=sz["seed"],
                    batch=sz["free_larvae"])
    got = res.summary["conditions"]["random_walk"]
    for k in ("crawl_speed_mm_s", "turns_per_min", "pauses_per_s"):
        np.testing.assert_allclose(got[k], documented["free"][k], rtol=1e-9, err_msg=k)


def test_dose_response_is_reproduced(documented, real_connectome):
    d = br.dose_response(real_connectome, larvae=documented["dose"]["larvae"], seed=documented["dose"]["seed"])
    for got, doc in zip(d["doses"], documented["dose"]["doses"]):
        np.testing.assert_allclose(got["dn_sum_hz"], doc["dn_sum_hz"], rtol=1e-9)
    for k in d["sides"]:
        np.testing.assert_allclose(d["sides"][k]["dn_left_hz"], documented["dose"]["sides"][k]["dn_left_hz"], rtol=1e-9)


def test_chemotaxis_larvae_of_the_first_batch_are_reproduced(documented, real_connectome):
    """The brain condition's first batch (10 larvae x 3 min): every larva's distance in the last minute and
    navigation index as documented (each batch depends only on the seed, the condition and its index)."""
    sz = documented["sizes"]
    n = sz["batch"]
    res = run_assay("chemotaxis", real_connectome, larvae=n, duration=sz["duration_s"] * second, seed=sz["seed"],
                    batch=n, conditions=["brain"])
    doc = documented["chemotaxis"]["larvae"]
    rows = [k for k, c in enumerate(doc["condition"]) if c == "brain"][:n]
    for col in ("distance_last_min_mm", "navigation_index"):
        np.testing.assert_allclose(res.larvae[col].to_numpy(), np.asarray(doc[col])[rows], rtol=1e-9, err_msg=col)
