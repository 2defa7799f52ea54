"""Tests for the curated transmitter table (models/transmitters.py)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from models import transmitters as tx


# --------------------------------------------------------------------------
# the packaged table
# --------------------------------------------------------------------------

def test_packaged_table_loads():
    t = tx.load_table()
    assert list(t.columns) == ["pattern", "field", "transmitter", "source", "evidence", "note"]
    assert len(t) > 10
    assert set(t["field"]) <= set(tx.FIELDS)
    assert set(t["transmitter"]) <= set(tx.TRANSMITTERS.values())


def test_every_row_has_source_and_evidence():
    t = tx.load_table()
    assert (t["source"].str.len() > 0).all()
    assert (t["evidence"].str.len() > 0).all()
    # a year in every citation
    assert t["source"].str.contains(r"(?:19|20)\d\d").all()


def test_no_duplicate_rows():
    t = tx.load_table()
    assert not t.duplicated(["pattern", "field"]).any()


def test_class_wide_rows_come_last():
    # celltype/class2 rows cover whole classes and must not shadow the
    # identified cells listed by name (first matching row wins)
    t = tx.load_table()
    assert t.index[t["field"] == "name"].max() < t.index[t["field"] != "name"].min()


# --------------------------------------------------------------------------
# sign_of
# --------------------------------------------------------------------------

@pytest.mark.parametrize("name,sign", [
    ("acetylcholine", 1), ("Acetylcholine", 1), ("GABA", -1), ("gaba", -1),
    ("glutamate", -1), ("dopamine", tx.MODULATORY), ("octopamine", tx.MODULATORY),
    ("tyramine", tx.MODULATORY), ("serotonin", tx.MODULATORY),
])
def test_sign_of(name, sign):
    assert tx.sign_of(name) == sign


def test_sign_of_unknown():
    assert tx.MODULATORY == 0
    assert tx.sign_of(None) == tx.DEFAULT_SIGN == 1
    assert tx.sign_of(None, default=-1) == -1
    with pytest.raises(ValueError, match="histamine"):
        tx.sign_of("histamine")


def test_signs_of_vectorised():
    s = tx.signs_of(["GABA", None, "acetylcholine", "dopamine"])
    assert s.dtype == np.int8
    assert s.tolist() == [-1, 1, 1, 0]


# --------------------------------------------------------------------------
# matching on a synthetic name list
# --------------------------------------------------------------------------

SYNTH = [
    # (names, celltype, class2, expected transmitter)
    (["APL"], "LN", None, "GABA"),
    (["MBON-e1"], "MBON", None, "acetylcholine"),
    (["MBON-e2"], "MBON", None, "glutamate"),
    (["MBON-m1", "CN-62"], "MBON", None, "GABA"),
    (["MBON-h1", "MBON-h2"], "MBON", None, "GABA"),
    (["MBON-a1"], "MBON", None, None),           # no verified transmitter
    (["MBON-e10"], "MBON", None, None),          # whole-name match only
    (["DAN-d1"], "MBIN", "DAN", "dopamine"),
    (["DAN-k1"], "MBIN", "DAN", "dopamine"),
    (["OAN-g1"], "MBIN", "OAN", "octopamine"),
    (["OAN-e1"], "MBIN", "OAN", "tyramine"),
    (["FBN-3"], "MB-FBN", None, "acetylcholine"),
    (["FBN-30"], "MB-FBN", None, None),          # 'FBN-3' must not match FBN-30
    (["FAN-10"], "MB-FBN", None, "glutamate"),
    (["_broad D1"], "LN", None, "GABA"),
    (["no official annotation", "broad T3 left"], "LN", "Trio", "GABA"),
    (["picky 4 right"], "LN", None, "glutamate"),
    (["Picky 0 LEFT"], "LN", None, "glutamate"),  # case-insensitive
    (["choosy 2 left"], "LN", None, "GABA"),
    (["keystone right"], "LN", None, "GABA"),
    (["CSD left"], "LN", None, "serotonin"),
    (["GlulOLP;right"], "PN", None, "glutamate"),
    (["ChalOLP;right"], "PN", None, "acetylcholine"),  # Larderet 2017 Fig. 1-fs1 A,C,D
    (["nc2;left"], "PN", None, "acetylcholine"),
    (["13a PN", "uPN", "olfactory 2nd_order PN"], "PN", None, "acetylcholine"),
    (["mPN"], "PN", None, None),
    (["olfactory"], "sensory", "ORN", "acetylcholine"),
    (["13a ORN left"], "sensory", "ORN", "acetylcholine"),  # via class2
    (["KC"], "KC", "1claw", "acetylcholine"),
    (["no official annotation"], "KC", None, "acetylcholine"),  # via celltype
    ([], "LHN", None, None),
    (None, None, None, None),
]


def _synth():
    names = [s[0] for s in SYNTH]
    cts = [s[1] for s in SYNTH]
    c2 = [s[2] for s in SYNTH]
    exp = [s[3] for s in SYNTH]
    return names, cts, c2, exp


def test_patterns_match_intended_neurons():
    names, cts, c2, exp = _synth()
    t, src = tx.match(tx.load_table(), names, cts, c2)
    assert t.dtype == object and src.dtype == object
    assert list(t) == exp
    for ti, si in zip(t, src):
        assert (ti is None) == (si is None)
        if ti is not None:
            assert si


def test_class2_rows_need_class2():
    t, _ = tx.match(tx.load_table(), [["13a ORN left"]], ["sensory"])
    assert t[0] is None
    t, _ = tx.match(tx.load_table(), [["13a ORN left"]], ["sensory"], ["ORN"])
    assert t[0] == "acetylcholine"


def test_single_string_name_is_one_name():
    t, _ = tx.match(tx.load_table(), ["APL", "picky 1 left"], [None, None])
    assert list(t) == ["GABA", "glutamate"]


def test_length_mismatch_raises():
    with pytest.raises(ValueError, match="celltypes"):
        tx.match(tx.load_table(), [["APL"]], [])
    with pytest.raises(ValueError, match="class2"):
        tx.match(tx.load_table(), [["APL"]], ["LN"], [])


def _write(tmp_path, text, name="user.csv") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def test_precedence_first_row_wins(tmp_path):
    p = _write(tmp_path,
               "pattern,field,transmitter,source\n"
               "MBON-*,name,glutamate,A 2000\n"
               "MBON-e1,name,acetylcholine,B 2001\n"
               "MBON,celltype,GABA,C 2002\n")
    t = tx.load_table(p)
    out, src = tx.match(t, [["MBON-e1"], ["x"]], ["MBON", "MBON"])
    assert list(out) == ["glutamate", "GABA"]
    assert list(src) == ["A 2000", "C 2002"]
    mc = tx.match_counts(t, [["MBON-e1"], ["x"]], ["MBON", "MBON"])
    assert mc["n_matched"].tolist() == [1, 1, 2]
    assert mc["n_assigned"].tolist() == [1, 0, 1]


def test_user_table_reduced_columns(tmp_path):
    p = _write(tmp_path, "pattern,field,transmitter\nfoo*,NAME,gaba\n")
    t = tx.load_table(p)
    assert list(t.columns) == ["pattern", "field", "transmitter", "source", "evidence", "note"]
    assert t.loc[0, "field"] == "name" and t.loc[0, "transmitter"] == "GABA"
    assert t.loc[0, "source"] == ""
    out, src = tx.match(t, [["foobar"]], [None])
    assert out[0] == "GABA" and src[0] == ""


@pytest.mark.parametrize("text,needle", [
    ("pattern,field,transmitter\nAPL,name,histamine\n", "row 1 (line 2), column 'transmitter'"),
    ("pattern,field,transmitter\nAPL,name,GABA\nKC,cell_type,acetylcholine\n",
     "row 2 (line 3), column 'field'"),
    ("pattern,field,transmitter\n,name,GABA\n", "row 1 (line 2), column 'pattern'"),
    ("pattern,transmitter\nAPL,GABA\n", "column 'field'"),
    ("pattern,field,transmiter\nAPL,name,GABA\n", "column 'transmiter'"),
])
def test_bad_user_csv_names_file_row_column(tmp_path, text, needle):
    p = _write(tmp_path, text, name="bad_table.csv")
    with pytest.raises(tx.TransmitterTableError) as ei:
        tx.load_table(p)
    msg = str(ei.value)
    assert "bad_table.csv" in msg
    assert needle in msg


def test_unparseable_and_missing_file(tmp_path):
    p = _write(tmp_path, 'pattern,field,transmitter\n"APL,name,GABA\n', name="broken.csv")
    with pytest.raises(tx.TransmitterTableError, match="broken.csv"):
        tx.load_table(p)
    with pytest.raises(FileNotFoundError, match="nope.csv"):
        tx.load_table(tmp_path / "nope.csv")


# --------------------------------------------------------------------------
# real data (Winding et al. 2023 Data S1 + Pedigo et al. 2023 node table)
# --------------------------------------------------------------------------

def test_real_apl_is_two_gaba_neurons(real_names):
    ids, names, cts, c2 = real_names
    assert len(ids) == 2952
    t, src = tx.match(tx.load_table(), names, cts, c2)
    apl = [k for k, ns in enumerate(names) if "APL" in ns]
    assert len(apl) == 2
    assert all(t[k] == "GABA" for k in apl)
    assert all("Masuda-Nakagawa" in src[k] for k in apl)


def test_real_no_dead_entries(real_names):
    _, names, cts, c2 = real_names
    mc = tx.match_counts(tx.load_table(), names, cts, c2)
    dead = mc.loc[mc["n_matched"] == 0, "pattern"].tolist()
    assert dead == [], f"rows matching no neuron: {dead}"


def test_real_expected_counts(real_names):
    _, names, cts, c2 = real_names
    mc = tx.match_counts(tx.load_table(), names, cts, c2).set_index("pattern")
    assert mc.at["MBON-e1", "n_matched"] == 2
    assert mc.at["*broad [TD][0-9]*", "n_matched"] == 10   # 5 broad LNs per side
    assert mc.at["picky [0-9]*", "n_matched"] == 10        # 5 picky LNs per side
    assert mc.at["choosy [0-9]*", "n_matched"] == 4
    assert mc.at["keystone *", "n_matched"] == 2
    assert mc.at["DAN-[cdfg]1", "n_matched"] + mc.at["DAN-[ijk]1", "n_matched"] == 14
    assert mc.at["uPN", "n_matched"] == 42


def test_real_rows_never_disagree(real_names):
    """No neuron is matched by two rows that give different transmitters."""
    _, names, cts, c2 = real_names
    t = tx.load_table()
    per_row = [tx.match(t.iloc[[i]], names, cts, c2)[0] for i in range(len(t))]
    stacked = np.array(per_row, dtype=object).T
    for k, txs in enumerate(stacked):
        got = {x for x in txs if x is not None}
        assert len(got) <= 1, (names[k], cts[k], got)


@pytest.mark.parametrize("row, transmitter, source", [
    ("FLON;*", "glutamate", "Larderet et al. 2017"),      # VPLN (Fig. 1-fs1G), FLON by its connectivity
    ("SP2-1;*", "serotonin", "Larderet et al. 2017"),     # Fig. 4-fs1A
    ("lAL-1 *", "octopamine", "Berck et al. 2016"),       # Fig. 5a legend
])
def test_real_larderet_berck_rows_match_one_pair(real_names, row, transmitter, source):
    """The rows added with the 2026-12-01 recalibration each match exactly one left/right pair,
    give it the cited transmitter and name their source; no other row reaches these neurons."""
    _, names, cts, c2 = real_names
    t = tx.load_table()
    i = t.index[t["pattern"] == row]
    assert len(i) == 1, f"{row!r} is not a row of the packaged table"
    own, _ = tx.match(t.loc[i], names, cts, c2)
    hit = [k for k, x in enumerate(own) if x is not None]
    assert len(hit) == 2, (row, [names[k] for k in hit])
    allt, src = tx.match(t, names, cts, c2)
    for k in hit:
        assert allt[k] == transmitter and source in src[k], (names[k], allt[k], src[k])
