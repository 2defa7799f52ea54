"""experiments.sign_lesions: the lesion groups hold every sourced inhibitory neuron once, a lesion changes only the
signs it names, the reading follows the counts, and docs/sign_lesions.md is reproduced (real data: lesions rerun on
a few findings give their stored rows)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from experiments import sign_lesions as sl

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "sign_lesions.md"


def test_a_lesion_makes_only_its_neurons_excitatory():
    signs = np.array([1, -1, 0, -1, 1, -1], dtype=float)
    out = sl.lesioned_signs(signs, [1, 5])
    assert out.tolist() == [1, 1, 0, -1, 1, 1] and signs.tolist() == [1, -1, 0, -1, 1, -1]
    with pytest.raises(ValueError, match="unknown lesion 'LNs'"):
        sl.score_lesion(None, "LNs")


def _bio(statuses):
    return {"models": {"larval": {"table": [{"id": i, "half": h, "status": s} for i, (h, s) in statuses.items()]}}}


def test_changes_and_reading_of_hand_made_lesions():
    """Hits lost and gained against the intact model, per half; only findings the intact model scores count."""
    bio = _bio({"a": ("heldout", "hit"), "b": ("heldout", "miss"), "c": ("calibration", "hit"),
                "u": ("heldout", "untestable")})
    rows = lambda d: [{"id": i, "status": s, "effect_hz": 0.0} for i, s in d.items()]  # noqa: E731
    lesions = {x: {"rows": rows({"a": "hit", "b": "miss", "c": "hit", "u": "hit"})} for x in sl.LESIONS}
    lesions["APL"] = {"rows": rows({"a": "miss", "b": "hit", "c": "miss"})}
    data = {"lesions": lesions, "groups": {g: [0] * (k + 1) for k, g in enumerate(sl.GROUPS)}}
    ch = sl.changes(data, bio)
    assert ch["APL"]["heldout"] == {"n": 2, "intact": 1, "hits": 1, "lost": ["a"], "gained": ["b"]}
    assert ch["APL"]["calibration"]["lost"] == ["c"] and ch["all"]["heldout"]["hits"] == 1
    text = sl.reading(data, bio)
    assert "(intact: held-out 1 of 2, calibration 1 of 1)" in text
    assert "APL (1 neurons): held-out 1, calibration 0" in text
    assert text.endswith("The group whose lesion costs most is the APL (lost: a, c)")


@pytest.mark.realdata
def test_the_groups_hold_every_inhibitory_neuron_once(real_connectome):
    from experiments.biology_report import default_network

    groups = sl.group_of(real_connectome)
    members = [i for g in groups.values() for i in g]
    assert len(members) == len(set(members))
    assert sorted(members) == np.flatnonzero(default_network(real_connectome).signs < 0).tolist()
    apl = real_connectome.select(name="APL").indices
    assert sorted(groups["APL"]) == sorted(apl.tolist())
    assert all(str(real_connectome.neurons["celltype"].iloc[i]) == "MBON" for i in groups["inhibitory MBONs"])


@pytest.mark.realdata
def test_the_report_is_reproduced(real_connectome):
    """docs/sign_lesions.md is its JSON's (with docs/biology.json's intact statuses); its groups are group_of's; the
    'all' lesion and the APL lesion rerun on findings where they differ from the intact model give the stored
    rows."""
    data = json.loads(DOC.with_suffix(".json").read_text())
    bio = json.loads((ROOT / "docs" / "biology.json").read_text())
    assert DOC.read_text().count(sl.reading(data, bio)) == 1
    assert data["groups"] == {g: v for g, v in sl.group_of(real_connectome).items()}
    assert list(data["lesions"]) == list(sl.LESIONS)
    intact = {r["id"]: r["status"] for r in bio["models"]["larval"]["table"]}
    assert sl.kc_reading(data) in DOC.read_text()
    assert sl.kc_code(real_connectome, "APL") == data["kc_code"]["APL"]
    null = json.loads((ROOT / "docs" / "biology_null.json").read_text())
    assert data["kc_code"]["none"] == null["kc_code"]["default"]  # the same odour, model and seed
    assert data["kc_code"]["none"] < min(data["kc_code"][g] for g in ("APL", "antennal-lobe LNs"))
    for lesion in ("all", "APL"):
        stored = {r["id"]: r for r in data["lesions"][lesion]["rows"]}
        from experiments import biology

        cheap = {f.id for f in biology.load_findings() if f.test != "pairing"}
        ids = sorted(i for i in stored if i in cheap and stored[i]["status"] != intact.get(i))[:3]
        ids = ids or sorted(i for i in stored if i in cheap and stored[i]["status"] == "hit")[:2]
        for r in sl.score_lesion(real_connectome, lesion, ids=ids):
            assert r["status"] == stored[r["id"]]["status"], (lesion, r["id"])
            if r["effect_hz"] is not None:
                assert r["effect_hz"] == pytest.approx(stored[r["id"]]["effect_hz"], rel=1e-9, abs=1e-12)


def test_the_readme_words_around_the_reading_are_the_documents():
    """README: without the antennal-lobe LNs' inhibition every conditioning hit that expects a memory is lost; no
    lesion raises the held-out score, and the MB feedback neurons' raises the calibration half by one finding."""
    from experiments import biology

    data = json.loads(DOC.with_suffix(".json").read_text())
    bio = json.loads((ROOT / "docs" / "biology.json").read_text())
    readme = " ".join((ROOT / "README.md").read_text().split())
    assert "every conditioning hit that expects a memory is lost" in readme
    f = {x.id: x for x in biology.load_findings()}
    intact = {r["id"]: r["status"] for r in bio["models"]["larval"]["table"]}
    memory_hits = {i for i, s in intact.items()
                   if s == "hit" and f[i].test == "pairing" and f[i].expect != "no_change"}
    ch = sl.changes(data, bio)["antennal-lobe LNs"]
    assert memory_hits and memory_hits <= set(ch["heldout"]["lost"] + ch["calibration"]["lost"])
    # no lesion raises the held-out score, nor (since the weak-connection threshold) the calibration half's
    ch = sl.changes(data, bio)
    assert not [x for x, v in ch.items() if v["heldout"]["hits"] > v["heldout"]["intact"]]
    up = [x for x, v in ch.items() if v["calibration"]["hits"] > v["calibration"]["intact"]]
    assert not up and "No lesion raises the held-out score or the calibration half's." in readme


def test_biology_md_quotes_the_lesions_and_flags_stale_ones(tmp_path):
    from experiments.biology_report import lesions_reading

    larval = json.loads((ROOT / "docs" / "biology.json").read_text())["models"]["larval"]
    line = lesions_reading(larval, DOC.with_suffix(".json"))
    data = json.loads(DOC.with_suffix(".json").read_text())
    assert line.startswith("* **Which inhibitory neurons:** ") and sl.reading(data, {"models": {"larval": larval}}) in line
    assert line in (ROOT / "docs" / "biology.md").read_text()
    assert lesions_reading(larval, tmp_path / "absent.json") is None
    first = next(iter(data["intact"]))
    data["intact"][first] = "hit" if data["intact"][first] != "hit" else "miss"
    (tmp_path / "sign_lesions.json").write_text(json.dumps(data))
    assert "was compared with another model" in lesions_reading(larval, tmp_path / "sign_lesions.json")
