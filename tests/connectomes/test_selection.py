"""Selections: patterns, combinations, pairs, set operations, helpful errors."""
from __future__ import annotations

import numpy as np
import pytest

import connectomes
from connectomes import SelectionError


@pytest.fixture
def c(toy, fresh_cache):
    return connectomes.load("winding2023", data_dir=toy.path, verify=False)


def test_celltype_and_patterns(c):
    kc = c.select(celltype="KC")
    assert len(kc) == 9 and set(kc.neurons["celltype"]) == {"KC"}
    dn = c.select(celltype="DN-*")
    assert set(dn.neurons["celltype"]) == {"DN-VNC", "DN-SEZ"} and len(dn) == 6
    both = c.select(celltype=["MBIN", "MBON"])
    assert len(both) == 8
    assert len(c.select(celltype="kc")) == 9  # case-insensitive


def test_combination_is_and(c):
    sel = c.select(modality="olfactory", hemisphere="left")
    assert len(sel) == 3
    n = sel.neurons
    assert (n["hemisphere"] == "left").all() and (n["modality"] == "olfactory").all()
    assert sel.description == "modality='olfactory', hemisphere='left'"
    assert c.select(modality="olfactory", hemisphere="L") == sel


def test_indices_ids_labels(c):
    sel = c.select(name="MBON-i1")
    assert np.array_equal(sel.ids, c.neurons["skid"].to_numpy()[sel.indices])
    assert sorted(sel.labels) == ["MBON-i1 (left)", "MBON-i1 (right)"]
    assert np.all(np.diff(sel.indices) > 0)
    assert list(np.asarray(sel)) == list(sel)


def test_pair_of(c):
    one = c.select(name="DAN-i1", hemisphere="left")
    pair = c.select(pair_of=one)
    assert len(pair) == 2 and set(pair.neurons["hemisphere"]) == {"left", "right"}
    assert c.select(pair_of=int(one.ids[0])) == pair


def test_ids(c, toy):
    sel = c.select(ids=toy.ids[:4])
    assert set(sel.ids) == set(toy.ids[:4])
    with pytest.raises(SelectionError, match="not in the connectome: 1"):
        c.select(ids=[1, int(toy.ids[0])])


def test_set_operations(c):
    mb = c.select(celltype=["KC", "MBON", "MBIN"])
    kc = c.select(celltype="KC")
    assert len(mb - kc) == len(mb) - len(kc)
    assert (mb & kc) == kc
    assert len(kc | c.select(name="APL")) == len(kc) + 2
    assert len(mb.left) + len(mb.right) == len(mb)


def test_other_columns(c):
    assert len(c.select(second_order="olfactory")) == 6
    assert len(c.select(cluster=list(range(0, 1000)))) == len(c) - 3  # unannotated have -1


def test_unknown_value_lists_close_matches(c):
    with pytest.raises(SelectionError) as err:
        c.select(celltype="MBONs")
    msg = str(err.value)
    assert "celltype='MBONs'" in msg and "MBON" in msg
    with pytest.raises(SelectionError, match="Close matches: olfactory"):
        c.select(modality="olfactroy")
    with pytest.raises(SelectionError, match="Close matches:.*DAN-i1"):
        c.select(name="DAN-x1")
    with pytest.raises(SelectionError, match="no column 'celtype'; close: celltype"):
        c.select(celtype="KC")
    with pytest.raises(SelectionError, match="hemisphere='up'"):
        c.select(hemisphere="up")


def test_empty_combination(c):
    with pytest.raises(SelectionError, match="matches no neuron .*celltype='KC': 9.*modality='olfactory': 6"):
        c.select(celltype="KC", modality="olfactory")
    empty = c.select(celltype="KC", modality="olfactory", allow_empty=True)
    assert len(empty) == 0


def test_selection_provenance(c):
    sel = c.select(celltype="KC")
    assert sel.provenance["selection"] == "celltype='KC'"
    assert sel.provenance["dataset"] == "winding2023"
