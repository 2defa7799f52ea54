"""Loading a synthetic connectome in the Data S1 formats: alignment, table, cache."""
from __future__ import annotations

import os
import shutil

import numpy as np
import pandas as pd
import pytest

import connectomes
from connectomes import paths


def _load(truth, **kw):
    return connectomes.load("winding2023", data_dir=truth.path, verify=False, **kw)


@pytest.mark.parametrize("fixture", ["toy", "toy_zip"])
def test_matrices_aligned_by_id(request, fixture, fresh_cache):
    truth = request.getfixturevalue(fixture)
    c = _load(truth)
    assert np.array_equal(c.ids, truth.ids)
    for t in connectomes.SYNAPSE_TYPES:
        assert np.array_equal(c.weights(t).toarray(), truth.synapses[t]), t
    assert np.array_equal(c.weights().toarray(), truth.synapses["all"])
    W = c.weights(("ad", "aa"))
    assert np.array_equal(W.toarray(), truth.synapses["ad"] + truth.synapses["aa"])
    assert W.format == "csr" and W.dtype == np.int32


def test_neuron_table(toy, fresh_cache):
    c = _load(toy)
    n = c.neurons.set_index("skid")
    want = toy.neurons.set_index("skid")
    assert (n.loc[want.index, "celltype"] == want["celltype"]).all()
    assert (n.loc[want.index, "hemisphere"] == want["hemisphere"]).all()
    assert set(c.select(celltype="unannotated").ids) == set(toy.unannotated)
    # pair partners are symmetric
    pi = c.neurons["pair_index"].to_numpy()
    paired = np.flatnonzero(pi >= 0)
    assert np.array_equal(pi[pi[paired]], paired)
    assert list(c.absent["skid"]) == toy.absent
    # io totals come from inputs.csv/outputs.csv
    inputs = toy.synapses["all"].sum(axis=0)
    assert np.allclose(c.neurons["axon_input"] + c.neurons["dendrite_input"], inputs)


def test_modalities_and_names(toy, fresh_cache):
    c = _load(toy)
    assert c.modalities == ["olfactory", "gustatory-external", "noci"]
    assert len(c.select(modality="olfactory")) == 6
    assert c.select(name="APL").neurons["celltype"].tolist() == ["LN", "LN"]
    assert set(c.select(name="DAN-*").neurons["mb_name"]) == {"DAN-i1", "DAN-d1"}
    assert len(c.select(second_order="olfactory")) == 6


def test_second_load_uses_cache_and_changed_input_rebuilds(toy, fresh_cache):
    first = _load(toy)
    assert first.provenance["loaded_from_cache"] is False
    h5 = list((fresh_cache / "compiled").glob("*.h5"))
    assert len(h5) == 1
    second = _load(toy)
    assert second.provenance["loaded_from_cache"] is True
    assert (second.weights() != first.weights()).nnz == 0
    # change one count in one matrix (and all-all, to stay consistent)
    pre, post = toy.ids[0], toy.ids[1]
    for fname in ("ad_connectivity_matrix.csv", "all-all_connectivity_matrix.csv"):
        f = toy.path / fname
        df = pd.read_csv(f, index_col=0)
        df.loc[pre, str(post)] += 3
        df.to_csv(f)
    third = _load(toy)
    assert third.provenance["loaded_from_cache"] is False
    assert int(third.weights().sum()) == int(first.weights().sum()) + 3
    assert len(list((fresh_cache / "compiled").glob("*.h5"))) == 2


def test_corrupt_cache_file_is_rebuilt(toy, fresh_cache):
    _load(toy)
    (h5,) = (fresh_cache / "compiled").glob("*.h5")
    h5.write_bytes(b"not hdf5")
    c = _load(toy)
    assert c.provenance["loaded_from_cache"] is False
    assert c.n_neurons == len(toy.ids)


def test_search_order(toy, tmp_path, monkeypatch, fresh_cache):
    # LARVASIM_DATA laid out like the shared folder: <root>/winding2023/<zip or folder>
    root = tmp_path / "root"
    (root / "winding2023").mkdir(parents=True)
    shutil.copytree(toy.path, root / "winding2023" / "Supplementary-Data-S1")
    monkeypatch.setenv("LARVASIM_DATA", str(root))
    loc = paths.locate("winding2023")
    assert loc.found_via == "$LARVASIM_DATA" and loc.kind == "folder"
    # an explicit data_dir wins over the environment
    loc2 = paths.locate("winding2023", data_dir=toy.path)
    assert loc2.found_via == "data_dir argument" and loc2.source == toy.path.resolve()
    # without both, the cache is searched
    monkeypatch.delenv("LARVASIM_DATA")
    with pytest.raises(connectomes.DataNotFoundError) as err:
        paths.locate("winding2023")
    msg = str(err.value)
    assert "larvasim fetch winding2023" in msg and "LARVASIM_DATA" in msg and str(fresh_cache) in msg
    (fresh_cache / "winding2023").mkdir(parents=True)
    shutil.copytree(toy.path, fresh_cache / "winding2023" / "Supplementary-Data-S1")
    assert paths.locate("winding2023").found_via == "user cache"


def test_missing_data_dir_is_clear(tmp_path):
    with pytest.raises(connectomes.DataNotFoundError, match="does not exist"):
        connectomes.load("winding2023", data_dir=tmp_path / "nowhere")


def test_pedigo_nodes_enrich_when_beside(toy, tmp_path, fresh_cache):
    root = tmp_path / "data"
    shutil.copytree(toy.path, root / "winding2023" / "Supplementary-Data-S1")
    (root / "pedigo2023").mkdir()
    ids = toy.ids
    lines = [",name,hemisphere,class1,class2,lineage,dVNCs,KCs"]
    for k, sid in enumerate(ids[:-1]):  # one neuron missing from the node table
        lines.append(f"{sid},neuron {k},{'L' if k % 2 else 'R'},c1,c2,lin{k},{k % 3 == 0},False")
    (root / "pedigo2023" / "unmatched_full_nodes.csv").write_text("\n".join(lines) + "\n")
    c = connectomes.load("winding2023", data_dir=root, verify=False)
    n = c.neurons
    assert n.loc[0, "name"] == "neuron 0" and n.loc[len(ids) - 1, "name"] == ""
    assert n["dVNCs"].dtype == bool and int(n["dVNCs"].sum()) == sum(1 for k in range(len(ids) - 1) if k % 3 == 0)
    # hemisphere of unannotated neurons comes from the node table
    un = n[n["celltype"] == "unannotated"]
    assert (un["hemisphere"].isin(["left", "right"]) | (un.index == len(ids) - 1)).all()
    assert c.provenance["nodes"]["verified"] is False
    # without the table, the same data still loads (different cache key)
    plain = connectomes.load("winding2023", data_dir=toy.path, verify=False)
    assert "name" not in plain.neurons.columns and plain.n_neurons == c.n_neurons


def test_weights_rejects_unknown_type(toy, fresh_cache):
    c = _load(toy)
    with pytest.raises(ValueError, match="unknown synapse type.*'xy'"):
        c.weights(("ad", "xy"))


def test_verify_rejects_modified_data(toy, fresh_cache):
    with pytest.raises(connectomes.ChecksumError, match="annotations.csv.*verify=False"):
        connectomes.load("winding2023", data_dir=toy.path)
    assert not list((fresh_cache / "compiled").glob("*.h5")) if (fresh_cache / "compiled").exists() else True
    # and a cache compiled without verification is re-checked when verify is asked for
    _load(toy)
    with pytest.raises(connectomes.ChecksumError):
        connectomes.load("winding2023", data_dir=toy.path)


def test_compiled_cache_is_keyed_by_content(toy, fresh_cache):
    _load(toy)
    (h5,) = (fresh_cache / "compiled").glob("*.h5")
    # touching a file without changing content keeps the key
    for f in toy.path.iterdir():
        os.utime(f)
    assert _load(toy).provenance["loaded_from_cache"] is True
    assert list((fresh_cache / "compiled").glob("*.h5")) == [h5]
