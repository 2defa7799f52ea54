"""Tests for the sign policies (models/signs.py)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import connectomes
from models import signs as sg
from models import transmitters as tx


@pytest.fixture
def c(toy):
    return connectomes.load("winding2023", data_dir=toy.path, verify=False)


def _idx(c, name):
    return c.select(name=name).indices


def _write(tmp_path, text, name="signs.csv") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


# --------------------------------------------------------------------------
# policies on the toy connectome
# --------------------------------------------------------------------------

def test_available_policies():
    assert sg.available_policies() == ("excitatory", "literature", "random", "csv")


def test_excitatory_all_plus_one(c):
    a = sg.assign_signs(c)
    assert a.policy == "excitatory"
    assert a.signs.dtype == np.int8 and len(a) == c.n_neurons
    assert (a.signs == 1).all()
    assert all(t is None for t in a.transmitters) and all(s == "" for s in a.sources)
    # literally all +1: modulatory does not apply
    assert (sg.assign_signs(c, "excitatory", modulatory="inhibitory").signs == 1).all()
    assert np.array_equal(a.skids, c.ids)


def test_literature_toy(c):
    a = sg.assign_signs(c, "literature")
    apl, kc, dan = _idx(c, "APL"), c.select(celltype="KC").indices, _idx(c, "DAN-*")
    assert len(apl) == 2 and len(dan) == 4
    assert (a.signs[apl] == -1).all() and set(a.transmitters[apl]) == {"GABA"}
    assert all("Masuda-Nakagawa" in s for s in a.sources[apl])
    assert (a.signs[kc] == 1).all() and set(a.transmitters[kc]) == {"acetylcholine"}
    assert (a.signs[dan] == 0).all() and set(a.transmitters[dan]) == {"dopamine"}
    assert (a.signs[_idx(c, "MBON-i1")] == -1).all()        # glutamate: assumption
    assert (a.signs[_idx(c, "MBON-d1")] == -1).all()        # GABA
    assert (a.signs[_idx(c, "broad D1")] == -1).all()       # '_broad D1' token
    assert (a.signs[_idx(c, "uPN")] == 1).all()
    unknown = np.array([t is None for t in a.transmitters])
    assert unknown.sum() == a.options["n_unknown"] > 0
    assert (a.signs[unknown] == 1).all() and (a.sources[unknown] == "").all()
    assert a.options["modulatory"] == "none" and a.options["table"] == "packaged"
    assert len(a.options["table_sha256"]) == 64


@pytest.mark.parametrize("mod,sign", [("none", 0), ("excitatory", 1), ("inhibitory", -1)])
def test_literature_modulatory(c, mod, sign):
    a = sg.assign_signs(c, "literature", modulatory=mod)
    assert (a.signs[_idx(c, "DAN-*")] == sign).all()
    assert (a.signs[_idx(c, "APL")] == -1).all()


def test_readonly_and_summary(c):
    a = sg.assign_signs(c, "literature")
    with pytest.raises(ValueError):
        a.signs[0] = -1
    s = a.summary()
    assert list(s.columns) == ["+1", "-1", "0", "total"]
    assert s.loc["all", "total"] == c.n_neurons
    assert s.loc["MBIN", "0"] == 4 and s.loc["KC", "+1"] == 9
    assert s.loc["all", "-1"] == (a.signs == -1).sum()
    d = a.to_dict()
    assert json.loads(json.dumps(d)) == d
    assert d["counts"] == a.counts and d["n_neurons"] == c.n_neurons
    assert d["transmitters"]["dopamine"] == 4
    assert "literature" in repr(a)


def _unknown(c):
    lit = sg.assign_signs(c, "literature")
    return lit, np.array([t is None for t in lit.transmitters])


@pytest.mark.parametrize("fraction", [0.0, 0.3, 0.5, 1.0])
def test_random_fraction_of_unknown(c, fraction):
    lit, unknown = _unknown(c)
    a = sg.assign_signs(c, "random", fraction=fraction, seed=7)
    k = round(fraction * unknown.sum())
    assert (a.signs[unknown] == -1).sum() == k
    assert np.array_equal(a.signs[~unknown], lit.signs[~unknown])       # known unchanged
    assert np.array_equal(a.transmitters, lit.transmitters)
    assert a.options["fraction"] == fraction and a.options["seed"] == 7
    assert a.options["n_random_inhibitory"] == k


def test_random_seeded(c):
    a1 = sg.assign_signs(c, "random", fraction=0.5, seed=1)
    a2 = sg.assign_signs(c, "random", fraction=0.5, seed=1)
    a3 = sg.assign_signs(c, "random", fraction=0.5, seed=2)
    assert np.array_equal(a1.signs, a2.signs)
    assert not np.array_equal(a1.signs, a3.signs)
    assert (a1.signs == -1).sum() == (a3.signs == -1).sum()
    # modulatory choice applies to the known neurons under random too
    a4 = sg.assign_signs(c, "random", fraction=0.5, seed=1, modulatory="excitatory")
    assert (a4.signs[_idx(c, "DAN-*")] == 1).all()


@pytest.mark.parametrize("kw,needle", [
    ({}, "fraction and seed"),
    ({"fraction": 0.2}, "needs seed"),
    ({"seed": 1}, "needs fraction"),
    ({"fraction": 1.5, "seed": 1}, "fraction must be"),
    ({"fraction": 0.2, "seed": -1}, "seed must be"),
    ({"fraction": 0.2, "seed": 1.5}, "seed must be"),
])
def test_random_needs_fraction_and_seed(c, kw, needle):
    with pytest.raises(sg.SignPolicyError, match=needle):
        sg.assign_signs(c, "random", **kw)


def test_bad_policy_and_options(c, tmp_path):
    with pytest.raises(sg.SignPolicyError) as ei:
        sg.assign_signs(c, "dale")
    for p in sg.available_policies():
        assert p in str(ei.value)
    with pytest.raises(sg.SignPolicyError, match="modulatory"):
        sg.assign_signs(c, "literature", modulatory="zero")
    with pytest.raises(sg.SignPolicyError, match="only used by the random"):
        sg.assign_signs(c, "literature", fraction=0.1, seed=1)
    with pytest.raises(sg.SignPolicyError, match="needs csv="):
        sg.assign_signs(c, "csv")
    with pytest.raises(sg.SignPolicyError, match="csv policy"):
        sg.assign_signs(c, "literature", csv=tmp_path / "x.csv")
    with pytest.raises(FileNotFoundError, match="nope.csv"):
        sg.assign_signs(c, str(tmp_path / "nope.csv"))


def test_custom_table(c, tmp_path):
    p = _write(tmp_path, "pattern,field,transmitter\nKC,celltype,GABA\n", "table.csv")
    a = sg.assign_signs(c, "literature", table=p)
    assert (a.signs[c.select(celltype="KC").indices] == -1).all()
    assert (a.signs[_idx(c, "APL")] == 1).all()          # not in this table -> unknown
    assert a.options["table"] == str(p.resolve())
    b = sg.assign_signs(c, "literature", table=tx.load_table(p))
    assert np.array_equal(a.signs, b.signs)


# --------------------------------------------------------------------------
# user CSV
# --------------------------------------------------------------------------

def test_csv_by_id_and_pattern(c, tmp_path):
    kc = c.select(celltype="KC")
    one = int(kc.ids[0])
    p = _write(tmp_path,
               "name,skid,sign,transmitter,source\n"
               "MBON-*,,,acetylcholine,\n"       # general rule first
               "MBON-d1,,-1,,\n"                 # later row overrides
               f",{one},-1,,lab notebook\n"
               "dan-*,,,dopamine,\n"             # case-insensitive like select()
               "APL,,0,,\n")
    a = sg.assign_signs(c, p)                    # path as the policy
    assert a.policy == "csv" and a.options["base"] == "literature"
    assert (a.signs[_idx(c, "MBON-i1")] == 1).all()
    assert set(a.transmitters[_idx(c, "MBON-i1")]) == {"acetylcholine"}
    assert (a.signs[_idx(c, "MBON-d1")] == -1).all()
    assert all(t is None for t in a.transmitters[_idx(c, "MBON-d1")])
    k = c.index_of([one])[0]
    assert a.signs[k] == -1 and a.sources[k] == "signs.csv row 3: lab notebook"
    assert (a.signs[np.setdiff1d(kc.indices, [k])] == 1).all()   # base: literature
    assert (a.signs[_idx(c, "DAN-*")] == 0).all()
    assert (a.signs[_idx(c, "APL")] == 0).all()
    assert a.sources[_idx(c, "APL")[0]] == "signs.csv row 5"
    assert a.options["csv"] == str(p.resolve()) and len(a.options["csv_sha256"]) == 64
    assert a.options["csv_rows"] == 5
    d = a.to_dict()
    assert json.loads(json.dumps(d)) == d
    # the same through policy="csv"
    b = sg.assign_signs(c, "csv", csv=p)
    assert np.array_equal(a.signs, b.signs)


def test_csv_modulatory_and_base(c, tmp_path):
    p = _write(tmp_path, "name,transmitter\nDAN-i1,dopamine\n")
    a = sg.assign_signs(c, "csv", csv=p, base="excitatory", modulatory="inhibitory")
    assert (a.signs[_idx(c, "DAN-i1")] == -1).all()
    assert (a.signs[_idx(c, "DAN-d1")] == 1).all()            # excitatory base
    assert (a.signs[_idx(c, "APL")] == 1).all()
    a = sg.assign_signs(c, "csv", csv=p, base="excitatory")
    assert (a.signs[_idx(c, "DAN-i1")] == 0).all()
    r = sg.assign_signs(c, "csv", csv=p, base="random", fraction=0.5, seed=3)
    ref = sg.assign_signs(c, "random", fraction=0.5, seed=3)
    assert np.array_equal(r.signs, ref.signs)                 # DAN-i1 dopamine either way
    assert r.options["seed"] == 3 and r.options["base"] == "random"


@pytest.mark.parametrize("text,needle", [
    ("name,sign\nAPL,2\n", "row 1 (line 2), column 'sign'"),
    ("name,sign\nAPL,-1\nKC,GABA\n", "row 2 (line 3), column 'sign'"),
    ("name,transmitter\nAPL,histamine\n", "row 1 (line 2), column 'transmitter'"),
    ("skid,sign\n12x,1\n", "row 1 (line 2), column 'skid'"),
    ("skid,name,sign\n1,APL,1\n", "row 1 (line 2), column 'skid'"),
    ("skid,name,sign\n,,1\n", "row 1 (line 2), column 'name'"),
    ("name,sign,transmitter\nAPL,1,GABA\n", "row 1 (line 2), column 'sign'"),
    ("name,sign,transmitter\nAPL,,\n", "row 1 (line 2), column 'sign'"),
    ("name,sgn\nAPL,1\n", "column 'sgn'"),
    ("name,note\nAPL,x\n", "column 'sign/transmitter'"),
    ("sign\n1\n", "column 'skid/name'"),
    ("name,sign\n", "no data rows"),
    ("name,sign\nAPL,1\nMBON-z9,-1\n", "row 2 (line 3), column 'name'"),
    ("skid,sign\n1,1\n", "row 1 (line 2), column 'skid'"),
])
def test_bad_csv_names_file_row_column(c, tmp_path, text, needle):
    p = _write(tmp_path, text, name="bad_signs.csv")
    with pytest.raises(sg.SignCSVError) as ei:
        sg.assign_signs(c, p)
    msg = str(ei.value)
    assert "bad_signs.csv" in msg
    assert needle in msg


def test_csv_unmatched_is_named(c, tmp_path):
    p = _write(tmp_path, "name,sign\nMBON-z9,-1\n")
    with pytest.raises(sg.SignCSVError, match="MBON-z9.*matches no neuron"):
        sg.assign_signs(c, p)
    p = _write(tmp_path, "skid,sign\n1,-1\n")
    with pytest.raises(sg.SignCSVError, match="skeleton id 1 is not a neuron"):
        sg.assign_signs(c, p)


def test_csv_unparseable(c, tmp_path):
    p = _write(tmp_path, 'name,sign\n"APL,1\n', name="broken.csv")
    with pytest.raises(sg.SignCSVError, match="broken.csv"):
        sg.assign_signs(c, p)


# --------------------------------------------------------------------------
# real data
# --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def raw_match(real_names):
    """Transmitter per neuron matched from the raw files (tests/models/conftest.py),
    independent of the Connectome neuron table."""
    ids, names, cts, c2 = real_names
    t, _ = tx.match(tx.load_table(), names, cts, c2)
    return dict(zip(ids, t))


@pytest.mark.realdata
def test_real_literature_counts(real_connectome, raw_match):
    c = real_connectome
    a = sg.assign_signs(c, "literature")
    assert len(a) == 2952
    # per neuron, the same transmitters as matching the raw files
    assert [raw_match[int(s)] for s in a.skids] == list(a.transmitters)
    t = pd.Series([x if x is not None else "unknown" for x in a.transmitters])
    n_inh = int(t.isin(["GABA", "glutamate"]).sum())
    n_mod = int(t.isin(sg.MODULATORY_TRANSMITTERS).sum())
    assert a.counts == {"-1": n_inh, "0": n_mod, "+1": 2952 - n_inh - n_mod}
    apl, dan = c.select(name="APL").indices, c.select(name="DAN-*").indices
    assert len(apl) == 2 and (a.signs[apl] == -1).all()
    assert len(dan) == 14 and (a.signs[dan] == 0).all()
    assert (a.signs[c.select(celltype="KC").indices] == 1).all()
    # modulatory=excitatory moves exactly the modulatory neurons to +1
    b = sg.assign_signs(c, "literature", modulatory="excitatory")
    assert b.counts == {"-1": n_inh, "0": 0, "+1": 2952 - n_inh}
    d = a.to_dict()
    assert json.loads(json.dumps(d)) == d
    assert d["counts"]["-1"] == n_inh and d["transmitters"]["dopamine"] == 14


@pytest.mark.realdata
def test_real_random(real_connectome):
    c = real_connectome
    lit = sg.assign_signs(c, "literature")
    unknown = np.array([x is None for x in lit.transmitters])
    a = sg.assign_signs(c, "random", fraction=0.2, seed=0)
    assert (a.signs[unknown] == -1).sum() == round(0.2 * unknown.sum())
    assert np.array_equal(a.signs[~unknown], lit.signs[~unknown])
    d = a.to_dict()
    assert json.loads(json.dumps(d)) == d
