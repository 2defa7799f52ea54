"""Bad input gives a clear error naming file and place, and leaves no cache behind."""
from __future__ import annotations

import zipfile

import pandas as pd
import pytest

import connectomes
from connectomes.errors import ConnectomeDataError

MAT = "aa_connectivity_matrix.csv"


def _assert_no_cache_left(cache):
    """Nothing but the hash memo in the cache's compiled folder (no half-built data set)."""
    compiled = cache / "compiled"
    leftovers = [p.name for p in compiled.iterdir() if p.name != "hash-memo.json"] if compiled.exists() else []
    assert leftovers == [], leftovers


def _load_fails(truth, cache, match, exc=ConnectomeDataError):
    with pytest.raises(exc, match=match) as err:
        connectomes.load("winding2023", data_dir=truth.path, verify=False)
    _assert_no_cache_left(cache)
    return str(err.value)


def _edit(path, fn):
    df = pd.read_csv(path, index_col=0, dtype=str)
    df = fn(df)
    df.to_csv(path)


def test_corrupt_zip(toy_zip, fresh_cache):
    toy_zip.path.write_bytes(b"PK\x03\x04 this is not really a zip archive" * 20)
    msg = _load_fails(toy_zip, fresh_cache, "not a readable zip archive")
    assert "Supplementary-Data-S1.zip" in msg


def test_truncated_zip(toy_zip, fresh_cache):
    data = toy_zip.path.read_bytes()
    toy_zip.path.write_bytes(data[: len(data) // 2])
    _load_fails(toy_zip, fresh_cache, "Supplementary-Data-S1.zip.*(corrupt or truncated)")


def test_zip_with_damaged_member(toy_zip, fresh_cache):
    data = bytearray(toy_zip.path.read_bytes())
    with zipfile.ZipFile(toy_zip.path) as z:
        info = z.getinfo("Supplementary-Data-S1/" + MAT)
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    for k in range(start + 50, start + 90):
        data[k] ^= 0xFF
    toy_zip.path.write_bytes(bytes(data))
    _load_fails(toy_zip, fresh_cache, f"{MAT}: cannot be extracted")


def test_matrix_missing_id(toy, fresh_cache):
    victim = str(toy.ids[5])
    _edit(toy.path / MAT, lambda df: df.drop(index=victim, columns=victim))
    msg = _load_fails(toy, fresh_cache, f"{MAT}: the row ids differ")
    assert f"missing: {victim}" in msg


def test_matrix_missing_row_only(toy, fresh_cache):
    victim = str(toy.ids[7])
    _edit(toy.path / MAT, lambda df: df.drop(index=victim))
    msg = _load_fails(toy, fresh_cache, f"{MAT}: row and column ids differ")
    assert str(victim) in msg


def test_matrix_duplicated_id(toy, fresh_cache):
    def dup(df):
        return pd.concat([df, df.iloc[[3]]])
    _edit(toy.path / MAT, dup)
    msg = _load_fails(toy, fresh_cache, f"{MAT}: duplicated skeleton id")
    assert str(pd.read_csv(toy.path / MAT, index_col=0).index[3]) in msg


def test_matrix_duplicated_column(toy, fresh_cache):
    f = toy.path / MAT
    lines = f.read_text().splitlines()
    head = lines[0].split(",")
    head[2] = head[1]
    lines[0] = ",".join(head)
    f.write_text("\n".join(lines) + "\n")
    _load_fails(toy, fresh_cache, rf"{MAT}: duplicated skeleton id\(s\) in the header.*{head[1]}")


def test_non_numeric_count(toy, fresh_cache):
    row, col = str(toy.ids[2]), str(toy.ids[4])

    def bad(df):
        df.loc[row, col] = "nine"
        return df
    _edit(toy.path / MAT, bad)
    _load_fails(toy, fresh_cache, f"{MAT}: non-numeric count 'nine' at row id {row}, column id {col}")


@pytest.mark.parametrize("value,what", [("-2.0", "negative count"), ("1.5", "non-integer count"),
                                        ("", "missing count")])
def test_bad_count_values(toy, fresh_cache, value, what):
    row, col = str(toy.ids[9]), str(toy.ids[1])

    def bad(df):
        df.loc[row, col] = value
        return df
    _edit(toy.path / MAT, bad)
    _load_fails(toy, fresh_cache, f"{MAT}: {what} .* at row id {row}, column id {col}")


def test_mismatched_row_and_column_ids(toy, fresh_cache):
    f = toy.path / MAT
    lines = f.read_text().splitlines()
    head = lines[0].split(",")
    old = head[3]
    head[3] = "123"
    lines[0] = ",".join(head)
    f.write_text("\n".join(lines) + "\n")
    msg = _load_fails(toy, fresh_cache, f"{MAT}: row and column ids differ")
    assert f"only in rows: {old}" in msg and "only in columns: 123" in msg


def test_non_integer_header_id(toy, fresh_cache):
    f = toy.path / MAT
    text = f.read_text().split("\n", 1)
    head = text[0].split(",")
    head[2] = "neuron-x"
    f.write_text(",".join(head) + "\n" + text[1])
    _load_fails(toy, fresh_cache, f"{MAT}: header column 2 is 'neuron-x', not a skeleton id")


def test_types_must_sum_to_all_all(toy, fresh_cache):
    row, col = str(toy.ids[0]), str(toy.ids[1])

    def bump(df):
        df.loc[row, col] = str(float(df.loc[row, col]) + 1)
        return df
    _edit(toy.path / MAT, bump)
    _load_fails(toy, fresh_cache, f"do not sum to all-all.*pre {row} -> post {col}")


def test_annotations_missing_column(toy, fresh_cache):
    f = toy.path / "annotations.csv"
    pd.read_csv(f, dtype=str).drop(columns="celltype").to_csv(f, index=False)
    _load_fails(toy, fresh_cache, "annotations.csv: missing column\\(s\\) celltype")


def test_annotations_bad_id(toy, fresh_cache):
    f = toy.path / "annotations.csv"
    df = pd.read_csv(f, dtype=str)
    df.loc[4, "left_id"] = "12ab"
    df.to_csv(f, index=False)
    _load_fails(toy, fresh_cache, "annotations.csv: line 6, column left_id: '12ab'")


def test_missing_file_in_folder(toy, fresh_cache):
    (toy.path / "outputs.csv").unlink()
    _load_fails(toy, fresh_cache, "missing file 'outputs.csv'")


def test_checksum_mismatch(toy, fresh_cache):
    with pytest.raises(connectomes.ChecksumError, match="SHA-256"):
        connectomes.load("winding2023", data_dir=toy.path, verify=True)
    _assert_no_cache_left(fresh_cache)


def test_checksum_memo_sees_a_rewrite_that_keeps_size_and_mtime(tmp_path):
    """A file corrupted in place with its size and mtime restored is hashed again, not trusted from the memo."""
    import os
    import time

    from connectomes.store import file_checksum, sha256_file

    f = tmp_path / "data.bin"
    f.write_bytes(b"A" * 1000)
    memo = tmp_path / "memo"
    memo.mkdir()
    first = file_checksum(f, memo)
    st = f.stat()
    time.sleep(0.01)
    f.write_bytes(b"B" * 1000)  # same size
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))  # same mtime
    second = file_checksum(f, memo)
    assert second != first and second == sha256_file(f)
    assert file_checksum(f, memo) == second  # and the memo is used again while nothing changes
