"""Connectomes from an edge list and a node table (connectomes.edgelist)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from brian2 import Hz, ms

import connectomes
import sim
from connectomes.errors import ChecksumError, ConnectomeDataError


@pytest.fixture
def toyc(toy, fresh_cache):
    return connectomes.load("winding2023", data_dir=toy.path, verify=False)


def _same_connectome(a, b):
    assert a.n_neurons == b.n_neurons and a.synapse_types == b.synapse_types
    for t in a.synapse_types:
        assert (a.weights((t,)) != b.weights((t,))).nnz == 0
    np.testing.assert_array_equal(a.ids, b.ids)
    for col in ("celltype", "hemisphere", "modality", "mb_name", "label", "pair_index"):
        np.testing.assert_array_equal(a.neurons[col].to_numpy(), b.neurons[col].to_numpy())


def test_round_trip_gives_the_same_connectome_and_spikes(toyc, tmp_path):
    edges, nodes = connectomes.write_edge_list(toyc, tmp_path / "el")
    assert pd.read_csv(edges).columns.tolist() == ["pre", "post", "count", "type"]
    c = connectomes.load_edge_list(edges, nodes, name="toy_export")
    _same_connectome(toyc, c)
    assert c.name == "toy_export" and set(c.provenance["files"]) == {"edges.csv", "nodes.csv"}
    assert not c.provenance["loaded_from_cache"]
    again = connectomes.load_edge_list(edges, nodes, name="toy_export")
    assert again.provenance["loaded_from_cache"]
    _same_connectome(c, again)
    # the same network, the same spikes
    stim = lambda cc: [sim.PoissonDrive(cc.select(modality="olfactory"), 120 * Hz)]  # noqa: E731
    a = sim.Network(toyc).run(stim(toyc), duration=150 * ms, trials=2, seed=3)
    b = sim.Network(c).run(stim(c), duration=150 * ms, trials=2, seed=3)
    assert a.n_spikes > 0 and a.spikes.equals(b.spikes)
    # a changed file is a new connectome (new cache key), never the old cache
    df = pd.read_csv(edges)
    df.loc[0, "count"] += 5
    df.to_csv(edges, index=False)
    changed = connectomes.load_edge_list(edges, nodes, name="toy_export")
    assert changed.provenance["cache_key"] != c.provenance["cache_key"]
    assert changed.weights().sum() == c.weights().sum() + 5


def test_a_small_hand_made_circuit(tmp_path, fresh_cache):
    """Five neurons, no synapse types, a minimal node table: defaults fill the rest."""
    (tmp_path / "edges.csv").write_text("pre,post,count\n1,2,150\n1,3,150\n2,4,140\n3,4,150\n2,4,10\n4,5,200\n")
    (tmp_path / "nodes.csv").write_text("id,celltype,modality,pair_id\n1,sensory,olfactory,\n2,PN,,3\n3,PN,,2\n"
                                        "4,LHN,,\n5,DN-VNC,,\n")
    c = connectomes.load_edge_list(tmp_path / "edges.csv", tmp_path / "nodes.csv")
    assert c.synapse_types == ("ad",) and c.name == "edges"
    assert c.weights()[1, 3] == 150                                     # repeated rows are summed
    assert c.neurons["hemisphere"].tolist() == ["unknown"] * 5
    assert c.neurons["pair_index"].tolist() == [-1, 2, 1, -1, -1]
    assert c.select(celltype="PN").indices.tolist() == [1, 2]
    assert c.modalities == ["olfactory"]
    res = sim.Network(c, model="current_lif", signs="excitatory").run(
        [sim.PoissonDrive(c.select(modality="olfactory"), 150 * Hz)], duration=200 * ms, seed=1)
    assert res.mean_rates()["mean_hz"].iloc[4] > 0                    # the signal reaches the output


@pytest.mark.parametrize("edges, nodes, message", [
    ("pre,post\n1,2\n", "id\n1\n2\n", r"edges.csv: missing column\(s\) count"),
    ("pre,post,count\n1,2,3\n1,2,x\n", "id\n1\n2\n", r"edges.csv: row 3, column 'count': 'x' is not an integer"),
    ("pre,post,count\n1,2,0\n", "id\n1\n2\n", r"edges.csv: row 2, column 'count': 0 \(counts must be > 0\)"),
    ("pre,post,count\n1,9,3\n", "id\n1\n2\n", r"edges.csv: row 2, column 'post': node 9 is not in .*nodes.csv"),
    ("pre,post,count,type\n1,2,3,ax\n", "id\n1\n2\n", r"edges.csv: row 2, column 'type': 'ax' is not one of"),
    ("pre,post,count\n1,2,3\n", "id\n1\n1\n", r"nodes.csv: row 3, column 'id': node id 1 appears twice"),
    ("pre,post,count\n1,2,3\n", "name\na\n", r"nodes.csv: missing column\(s\) id"),
])
def test_bad_files_name_the_file_row_and_column(tmp_path, fresh_cache, edges, nodes, message):
    (tmp_path / "edges.csv").write_text(edges)
    (tmp_path / "nodes.csv").write_text(nodes)
    with pytest.raises(ConnectomeDataError, match=message):
        connectomes.load_edge_list(tmp_path / "edges.csv", tmp_path / "nodes.csv")
    assert not list((fresh_cache / "compiled").glob("*.h5")) if (fresh_cache / "compiled").exists() else True


def test_expected_checksums_are_verified(toyc, tmp_path):
    edges, nodes = connectomes.write_edge_list(toyc, tmp_path / "el")
    with pytest.raises(ChecksumError, match=r"edges.csv: SHA-256 .* does not match the expected 00"):
        connectomes.load_edge_list(edges, nodes, sha256={"edges": "00"})
    from connectomes.download import sha256_file

    ok = connectomes.load_edge_list(edges, nodes, sha256={"edges": sha256_file(edges), "nodes": sha256_file(nodes)})
    assert ok.provenance["verified"]
    with pytest.raises(ConnectomeDataError, match="nodes file not found"):
        connectomes.load_edge_list(edges, tmp_path / "missing.csv")


@pytest.mark.realdata
def test_data_s1_as_an_edge_list_gives_the_same_spikes(real_connectome, tmp_path, fresh_cache):
    """The published matrices written out as an edge list and read back: same synapses, same spikes."""
    edges, nodes = connectomes.write_edge_list(real_connectome, tmp_path / "s1")
    c = connectomes.load_edge_list(edges, nodes, name="winding2023_edges")
    _same_connectome(real_connectome, c)
    assert c.weights().sum() == 352_611
    stim = lambda cc: [sim.PoissonDrive(cc.select(modality="olfactory"), 150 * Hz, stop=300 * ms)]  # noqa: E731
    a = sim.Network(real_connectome).run(stim(real_connectome), duration=300 * ms, trials=2, seed=5)
    b = sim.Network(c).run(stim(c), duration=300 * ms, trials=2, seed=5)
    assert a.n_spikes > 0 and a.spikes.equals(b.spikes)


def test_load_by_name_reads_a_folder_and_its_checksums(toyc, tmp_path):
    """connectomes.load("edgelist", data_dir=folder): what run files and sweeps name."""
    from connectomes.download import sha256_file

    folder = tmp_path / "my_export"
    edges, nodes = connectomes.write_edge_list(toyc, folder)
    assert "edgelist" in connectomes.available()
    c = connectomes.load("edgelist", data_dir=folder)
    _same_connectome(toyc, c)
    assert c.name == "my_export" and not c.provenance["verified"]      # nothing published to check against
    (folder / "SHA256SUMS").write_text(f"{sha256_file(edges)}  edges.csv\n{sha256_file(nodes)}  nodes.csv\n")
    assert connectomes.load("edgelist", data_dir=folder, verify=True).provenance["verified"]
    (folder / "SHA256SUMS").write_text(f"{'0' * 64}  edges.csv\n{sha256_file(nodes)}  nodes.csv\n")
    with pytest.raises(ChecksumError, match="edges.csv: SHA-256"):
        connectomes.load("edgelist", data_dir=folder, verify=True)
    with pytest.raises(ConnectomeDataError, match="needs data_dir"):
        connectomes.load("edgelist")
    with pytest.raises(ConnectomeDataError, match="no edges.csv"):
        connectomes.load("edgelist", data_dir=tmp_path)
    # a run file names it like Data S1
    from sim.workflows.config import load_run_file, run_config

    run = tmp_path / "run.toml"
    run.write_text('duration = "100 ms"\n[[drive]]\nmodality = "olfactory"\nrate = "120 Hz"\n')
    res = run_config(c, load_run_file(run), progress=False)
    assert res.n_spikes > 0 and res.metadata["network"]["connectome"]["dataset"] == "my_export"
