"""The published facts of Winding et al. 2023 Data S1, checked on the real data."""
from __future__ import annotations

import numpy as np
import pytest

import connectomes

pytestmark = pytest.mark.realdata


def test_neuron_and_synapse_counts(real_connectome):
    c = real_connectome
    assert c.n_neurons == 2952
    W = c.weights()
    assert int(W.sum()) == 352_611
    assert W.nnz == 110_677
    per_type = {t: int(c.weights(t).sum()) for t in connectomes.SYNAPSE_TYPES}
    assert per_type == {"ad": 234_958, "aa": 90_800, "dd": 20_415, "da": 6_438}


def test_types_sum_to_all_all(real_connectome):
    c = real_connectome
    total = c.weights(("ad",)) + c.weights(("aa",)) + c.weights(("dd",)) + c.weights(("da",))
    diff = total - c._synapses["all"]
    diff.eliminate_zeros()
    assert diff.nnz == 0


def test_celltype_counts(real_connectome):
    counts = real_connectome.neurons["celltype"].value_counts()
    expected = {"KC": 144, "MBON": 48, "MBIN": 28, "DN-VNC": 182, "DN-SEZ": 164,
                "sensory": 430, "pre-DN-VNC": 476, "unannotated": 346}
    assert {k: int(counts[k]) for k in expected} == expected
    assert counts.sum() == 2952


def test_olfactory_neurons_per_side(real_connectome):
    c = real_connectome
    olf = c.select(modality="olfactory")
    assert len(olf) == 42
    assert len(olf.left) == 21 and len(olf.right) == 21
    assert set(olf.neurons["celltype"]) == {"sensory"}
    # every olfactory neuron's homolog is an olfactory neuron of the other side
    partners = olf.neurons["pair_index"].to_numpy()
    assert (partners >= 0).all()
    assert set(partners) == set(olf.indices)


def test_absent_sensory_neurons_reported(real_connectome):
    absent = real_connectome.absent
    assert len(absent) == 4
    assert set(absent["celltype"]) == {"sensory"}
    assert not np.isin(absent["skid"], real_connectome.ids).any()
    assert "absent from the matrices (4)" in str(real_connectome.summary())


def test_mushroom_body_names(real_connectome):
    c = real_connectome
    dans = c.select(name="DAN-*")
    assert len(dans) == 14  # DAN-c1, -d1, -f1, -g1, -i1, -j1, -k1, one per side
    assert set(dans.neurons["celltype"]) == {"MBIN"}
    apl = c.select(name="APL")
    assert len(apl) == 2 and sorted(apl.neurons["hemisphere"]) == ["left", "right"]
    i1 = c.select(name="MBON-i1", hemisphere="left")
    assert len(i1) == 1 and i1.neurons["mb_name"].iloc[0] == "MBON-i1"


def test_enrichment_merged(real_connectome):
    c = real_connectome
    n = c.neurons
    for col in ("name", "lineage", "class1", "class2", "dVNCs", "dSEZs", "RGNs", "KCs", "MBONs", "MBINs"):
        assert col in n.columns, col
    # the Pedigo flags agree with the Data S1 cell types where both exist
    assert n.loc[n["KCs"], "celltype"].eq("KC").mean() > 0.95
    assert len(c.select(class2="DAN")) == 14
    assert c.provenance["nodes"]["verified"] is True


def test_provenance(real_connectome):
    p = real_connectome.provenance
    assert p["container_sha256"] == connectomes.sources.WINDING2023.sha256
    assert p["verified"] is True
    assert set(p["files"]) >= {"annotations.csv", "all-all_connectivity_matrix.csv"}
    assert p["larvasim_version"] and p["doi"] == "10.1126/science.add9330"


def test_io_counts(real_connectome):
    io = real_connectome.io_counts
    assert len(io) == 2952
    assert io[["axon_input", "dendrite_input", "axon_output", "dendrite_output"]].notna().all().all()
    assert (io["axon_output"] + io["dendrite_output"]).sum() > 0


def test_second_load_served_from_cache(real_data_dir, real_connectome):
    again = connectomes.load("winding2023", data_dir=real_data_dir)
    assert again.provenance["loaded_from_cache"] is True
    assert (again.weights() != real_connectome.weights()).nnz == 0
    assert again.neurons.equals(real_connectome.neurons)
