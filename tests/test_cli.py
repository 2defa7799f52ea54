"""The ``larvasim`` command line."""
from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

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


def test_experiments_listed_and_misspelling_explained(capsys):
    assert main(["experiments"]) == 0
    out = capsys.readouterr().out
    assert "sensory_map" in out and "left_right" in out and "activation_screen" in out
    assert main(["run", "sensory_mop"]) == 2
    assert "did you mean sensory_map" in capsys.readouterr().err


def test_plot_from_results_file(toy, fresh_cache, tmp_path, capsys):
    import matplotlib.image as mpimg

    out = tmp_path / "res.h5"
    assert main(["run", "--data-dir", str(toy.path), "--no-verify", "--drive", "modality=olfactory,rate=150Hz",
                 "--duration", "200 ms", "--trials", "2", "--quiet", "-o", str(out)]) == 0
    for kind in ("raster", "rates", "readout"):
        png = tmp_path / f"{kind}.png"
        assert main(["plot", kind, str(out), "-o", str(png)]) == 0
        img = mpimg.imread(png)
        assert img.shape[0] > 200 and img[..., :3].std() > 0.01
    png = tmp_path / "conn.png"
    assert main(["plot", "connectivity", "--data-dir", str(toy.path), "--no-verify", "-o", str(png)]) == 0
    assert png.stat().st_size > 10_000


def test_run_experiment_from_cli(toy, fresh_cache, tmp_path, capsys):
    out = tmp_path / "lr"
    assert main(["run", "left_right", "--data-dir", str(toy.path), "--no-verify", "--trials", "2",
                 "--device", "numpy", "--option", "seeds=(0,)", "--option", "compare_null=False",
                 "-o", str(out)]) == 0
    assert "ipsilateral index" in capsys.readouterr().out
    assert (out / "population.csv").is_file() and (out / "ipsilateral_index.png").is_file()


def test_protocols_listed_and_routed(capsys):
    assert main(["experiments"]) == 0
    out = capsys.readouterr().out
    assert "paired" in out and "extinction" in out
    assert main(["run", "pairde"]) == 2
    assert "did you mean paired" in capsys.readouterr().err


def test_interrupted_run_writes_nothing_and_exits_130(toy, fresh_cache, tmp_path, monkeypatch, capsys):
    """Ctrl-C during a run (simulated: Brian2's run returns early) leaves no results file and exits 130."""
    import brian2

    from larvasim.cli import main

    real_run = brian2.Network.run

    def short_run(self, duration, *a, **kw):
        return real_run(self, duration / 3, *a, **kw)

    monkeypatch.setattr(brian2.Network, "run", short_run)
    out = tmp_path / "r.h5"
    rc = main(["run", "--data-dir", str(toy.path), "--no-verify", "--device", "numpy", "--duration", "30 ms",
               "--drive", "modality=olfactory,rate=100Hz", "-o", str(out), "--quiet"])
    assert rc == 130
    assert not out.exists()
    assert "stopped at" in capsys.readouterr().err


def test_output_files_honour_the_umask(tmp_path):
    """Atomic writes (every result file) get the mode the user's umask gives, not mkstemp's 0600."""
    import os
    import stat

    from larvasim.util import atomic_write_text

    old = os.umask(0o022)
    try:
        p = atomic_write_text(tmp_path / "a.txt", "x")
        assert stat.S_IMODE(p.stat().st_mode) == 0o644
        os.umask(0o077)
        q = atomic_write_text(tmp_path / "b.txt", "x")
        assert stat.S_IMODE(q.stat().st_mode) == 0o600
    finally:
        os.umask(old)


@pytest.mark.parametrize("command", ["experiments", "info --data-dir {toy} --no-verify"])
def test_output_piped_into_head_is_not_an_error(command, toy, fresh_cache):
    """`larvasim experiments | head -1`: when the reader stops early, larvasim stops quietly (exit 141, as a shell
    reports SIGPIPE), with no 'larvasim: error: Broken pipe' and no traceback. The reader here is `true`, which
    exits before larvasim has started, so every write finds the pipe closed; `info` writes less than a pipe's
    buffer, so its output meets the closed pipe only when it is flushed."""
    cmd = command.format(toy=toy.path)
    p = subprocess.run(["bash", "-c", f"'{sys.executable}' -m larvasim.cli {cmd} | true; "
                        "echo rc=${PIPESTATUS[0]} >&2"],
                       capture_output=True, text=True, timeout=120)
    assert "rc=141" in p.stderr and "error" not in p.stderr.lower() and "Traceback" not in p.stderr
