"""The ``larvasim`` command line."""
from __future__ import annotations

import json
import re
import subprocess
import sys

from larvasim.cli import main


def test_info_prints_summary(toy, fresh_cache, capsys):
    assert main(["info", "winding2023", "--data-dir", str(toy.path), "--no-verify"]) == 0
    out = capsys.readouterr().out
    assert re.search(rf"^neurons\s+{len(toy.ids)}$", out, re.M)
    assert re.search(rf"^synapses\s+{int(toy.synapses['all'].sum()):,}$", out, re.M)
    assert "synapses by type" in out and "axo-dendritic" in out
    assert "absent from the matrices (1)" in out
    assert "verified        no (verify=False)" in out


def test_info_json(toy, fresh_cache, capsys):
    assert main(["info", "--data-dir", str(toy.path), "--no-verify", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["n_neurons"] == len(toy.ids)
    assert d["n_synapses"] == int(toy.synapses["all"].sum())
    assert d["synapses_by_type"]["ad"] == int(toy.synapses["ad"].sum())


def test_info_without_data_explains(tmp_path, fresh_cache, monkeypatch, capsys):
    monkeypatch.delenv("LARVASIM_DATA", raising=False)
    assert main(["info"]) == 2
    err = capsys.readouterr().err
    assert "not found" in err and "larvasim fetch winding2023" in err


def test_console_script_runs():
    out = subprocess.run([sys.executable, "-m", "larvasim.cli", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.startswith("larvasim ")
