"""docs/sensory.md is generated, and its numbers are reproduced (experiments.sensory_report)."""
from __future__ import annotations

import json

import pytest

from experiments import sensory_report as sr


@pytest.fixture(scope="module")
def documented():
    if not sr.JSON.is_file():
        pytest.fail(f"{sr.JSON} is missing: run python -m experiments.sensory_report")
    return json.loads(sr.JSON.read_text())


@pytest.fixture(scope="module")
def fresh(real_connectome):
    """The whole report rerun on the real data (about 20 s)."""
    d = sr.run(real_connectome)
    d.pop("_figures")
    d.pop("seconds")
    return json.loads(json.dumps(d, default=sr.json_default))


def test_document_is_rendered_from_its_numbers(documented):
    assert sr.DOC.read_text() == sr.render(documented) + "\n"


@pytest.mark.parametrize("section", ["sensory_map", "left_right", "multisensory_synergy", "light"])
def test_every_documented_number_is_reproduced(documented, fresh, section):
    """Seeded runs on the numba engine: the same spikes whatever the thread count, so the numbers are equal."""
    _assert_same(fresh[section], documented[section], section)


def _assert_same(got, doc, where):
    """Equal structure and text; floats equal to 1e-9 (relative)."""
    if isinstance(doc, dict):
        assert isinstance(got, dict) and set(got) == set(doc), (where, sorted(got), sorted(doc))
        for k in doc:
            _assert_same(got[k], doc[k], f"{where}.{k}")
    elif isinstance(doc, list):
        assert isinstance(got, list) and len(got) == len(doc), (where, got, doc)
        for k, (g, d) in enumerate(zip(got, doc)):
            _assert_same(g, d, f"{where}[{k}]")
    elif isinstance(doc, float):
        assert got == pytest.approx(doc, rel=1e-9), (where, got, doc)
    else:
        assert got == doc, (where, got, doc)


def test_documented_results_hold(documented):
    """The claims the README makes from this report: every modality reaches an output; one side's
    smell drives both sides' descending neurons almost equally, in the real brain as in the shuffled
    one; nociceptive and chordotonal input together are mostly sub-additive; Rh5 reaches more
    neurons than Rh6."""
    from experiments.sensory_report import IPSI_STRONG

    sm, lr = documented["sensory_map"], documented["left_right"]["brains"]
    assert sm["modalities_reaching"] == sm["n_modalities"] == 12
    assert abs(lr["real"]["mean"]) < IPSI_STRONG and all(abs(x) < IPSI_STRONG for x in lr["real"]["per_seed"])
    assert abs(lr["shuffled"]["mean"]) < 0.15
    ms = documented["multisensory_synergy"]
    assert ms["sub_additive"] > 2 * ms["supra_additive"]
    light = documented["light"]["photoreceptors"]
    assert light["Rh5"]["neurons_reached"] > light["Rh6"]["neurons_reached"]
