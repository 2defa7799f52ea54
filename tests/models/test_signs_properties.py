"""Property tests of the sign CSVs users write (models.signs, csv policy) and of custom transmitter
tables (models.transmitters.load_table): any file gives signs or larvasim's own error naming the file."""
from __future__ import annotations

import csv
import io

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import connectomes
from connectomes.synthetic import write_winding_format
from models import signs as sg
from models import transmitters as tx
from tests._props import check_own_error, numbers, short_text

SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@pytest.fixture(scope="module")
def toyc(tmp_path_factory):
    truth = write_winding_format(tmp_path_factory.mktemp("toy") / "toy", seed=1)
    return connectomes.load("winding2023", data_dir=truth.path, verify=False)


def _cells(toyc):
    skids = [str(s) for s in toyc.neurons["skid"][:3]]
    return st.one_of(short_text, numbers.map(str), st.sampled_from(
        skids + ["", " ", "+1", "-1", "0", "1.0", "2", "nan", "inf", "1e999", "99999999999999999999999", "1_0",
                 "GABA", "gaba", "acetylcholine", "dopamine", "Dopamine ", "KC", "DAN-*", "APL", "*", "[", "\"",
                 "name", "celltype", "class2", "ORN", "é", "🐛", "\x00"]))


_columns = st.lists(st.sampled_from(["skid", "name", "sign", "transmitter", "source", "note", "Skid", " sign ",
                                     "pattern", "field", "evidence", "junk", ""]), min_size=1, max_size=5)


def _write_csv(path, columns, rows):
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(columns)
    w.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")


def _table(toyc):
    return st.tuples(_columns, st.integers(0, 4)).flatmap(
        lambda cn: st.tuples(st.just(cn[0]), st.lists(st.lists(_cells(toyc), min_size=len(cn[0]),
                                                                max_size=len(cn[0])),
                                                       min_size=cn[1], max_size=cn[1])))


@SETTINGS
@given(data=st.data())
def test_sign_csv_gives_signs_or_names_the_file(toyc, tmp_path_factory, data):
    columns, rows = data.draw(_table(toyc))
    path = tmp_path_factory.mktemp("signs") / "signs.csv"
    _write_csv(path, columns, rows)
    try:
        a = sg.assign_signs(toyc, path, base=data.draw(st.sampled_from(["literature", "excitatory"])))
    except Exception as exc:  # noqa: BLE001 -- the property: only larvasim's own error
        event(type(exc).__name__)
        check_own_error(exc, str(path))
    else:
        event("valid")
        assert len(a) == toyc.n_neurons and set(np.unique(a.signs)) <= {-1, 0, 1}


@SETTINGS
@given(data=st.data())
def test_transmitter_table_loads_or_names_the_file(toyc, tmp_path_factory, data):
    columns, rows = data.draw(_table(toyc))
    path = tmp_path_factory.mktemp("tx") / "transmitters.csv"
    _write_csv(path, columns, rows)
    try:
        df = tx.load_table(path)
        sg.literature_transmitters(toyc, table=path)
    except Exception as exc:  # noqa: BLE001
        event(type(exc).__name__)
        check_own_error(exc, str(path))
    else:
        event("valid")
        assert set(df["transmitter"]) <= set(tx.TRANSMITTERS.values())


@SETTINGS
@given(raw=st.binary(max_size=200), which=st.sampled_from(["signs", "table"]))
def test_any_bytes_as_csv(toyc, tmp_path_factory, raw, which):
    path = tmp_path_factory.mktemp("raw") / "file.csv"
    path.write_bytes(raw)
    try:
        if which == "signs":
            sg.assign_signs(toyc, path)
        else:
            tx.load_table(path)
    except Exception as exc:  # noqa: BLE001
        check_own_error(exc, str(path))


def test_valid_sign_csv_and_table_are_read(toyc, tmp_path):
    skid = str(toyc.neurons["skid"].iat[0])
    _write_csv(tmp_path / "s.csv", ["skid", "name", "sign", "transmitter"],
               [[skid, "", "-1", ""], ["", "APL", "", "GABA"]])
    a = sg.assign_signs(toyc, tmp_path / "s.csv")
    assert a.signs[0] == -1 and (a.signs[toyc.select(name="APL").indices] == -1).all()
    _write_csv(tmp_path / "t.csv", ["pattern", "field", "transmitter"], [["KC", "celltype", "acetylcholine"]])
    assert list(tx.load_table(tmp_path / "t.csv")["transmitter"]) == ["acetylcholine"]
