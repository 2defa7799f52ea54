"""Shared fixtures for the neuron-model tests.

Brian2 runs with the "numpy" code-generation target so that the tests need
no C++ compilation.  This folder is the package ``tests.models`` (it needs
``tests/__init__.py`` next to it, so that it never imports as a top-level
``models`` that would shadow the project's package).
"""

import zipfile

import pandas as pd
import pytest
from brian2 import defaultclock, prefs

from tests.conftest import in_ci


@pytest.fixture(autouse=True)
def numpy_target():
    """Run Brian2 with the numpy target and restore the global settings afterwards."""
    old_target, old_dt = prefs.codegen.target, defaultclock.dt
    prefs.codegen.target = "numpy"
    yield
    prefs.codegen.target = old_target
    defaultclock.dt = old_dt


@pytest.fixture(scope="session")
def real_names(real_data_dir):
    """Per-neuron names, cell types and class2 for the 2,952 matrix neurons.

    names = Data S1 ``additional_annotations`` tokens + Pedigo CATMAID name,
    joined on skeleton id; celltype from Data S1; class2 from Pedigo.
    """
    pedigo = real_data_dir / "pedigo2023" / "unmatched_full_nodes.csv"
    if not pedigo.is_file():
        reason = f"{pedigo} is missing (Pedigo et al. 2023 node table)"
        if in_ci():
            pytest.fail(f"real-data test cannot run in CI: {reason}")
        pytest.skip(reason)
    zpath = real_data_dir / "winding2023" / "Supplementary-Data-S1.zip"
    with zipfile.ZipFile(zpath) as z:
        with z.open("Supplementary-Data-S1/annotations.csv") as f:
            ann = pd.read_csv(f, dtype=str, keep_default_na=False)
        with z.open("Supplementary-Data-S1/all-all_connectivity_matrix.csv") as f:
            header = pd.read_csv(f, index_col=0, nrows=0)
    ids = [int(float(c)) for c in header.columns]
    tokens, celltype = {}, {}
    for row in ann.itertuples(index=False):
        toks = [s.strip() for s in row.additional_annotations.split(";") if s.strip()]
        for sid in (row.left_id, row.right_id):
            if sid != "no pair":
                tokens[int(sid)] = toks
                celltype[int(sid)] = row.celltype
    nodes = pd.read_csv(pedigo, index_col=0, usecols=["Unnamed: 0", "name", "class2"],
                        dtype={"name": str, "class2": str}, keep_default_na=False)
    names = [tokens.get(i, []) + ([nodes.at[i, "name"]] if i in nodes.index else [])
             for i in ids]
    cts = [celltype.get(i) for i in ids]
    c2 = [nodes.at[i, "class2"] if i in nodes.index else None for i in ids]
    return ids, names, cts, c2
