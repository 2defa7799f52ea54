"""Commands that had no test of their working path: ``larvasim validate``, ``run PROTOCOL``,
``run EXPERIMENT --null``, ``fetch pedigo2023 --from`` and the example sweep file of the README.
(``sweep --scheduler`` against a real Dask scheduler: tests/sim/test_sweep_dask.py.)"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from larvasim.cli import main

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def toydir(toy, fresh_cache):
    return str(toy.path)


def test_validate_writes_the_report(toydir, tmp_path, capsys):
    out = tmp_path / "validation.md"
    assert main(["validate", "--data-dir", toydir, "--no-verify", "--n", "20", "--seeds-spread", "2",
                 "--skip-recurrence", "--out", str(out)]) == 0
    text = out.read_text()
    assert text.startswith("# Validation against Winding et al. 2023")
    assert "## 1. Synapse shares by type" in text and "Not run in this report" in text
    assert (tmp_path / "figures" / "validation" / "synapse_shares.png").is_file()


@pytest.mark.realdata
def test_run_protocol_writes_a_loadable_result(real_data_dir, tmp_path, capsys):
    """``larvasim run paired``: conditioning on the whole brain, 2 larvae, a results file with the protocol's weights
    (the toy brain has too few receptors for the protocol's two odours)."""
    from experiments.learning import LearningRun

    out = tmp_path / "paired.h5"
    assert main(["run", "paired", "--data-dir", str(real_data_dir), "--trials", "2", "--seed", "3", "--quiet",
                 "-o", str(out)]) == 0
    assert f"results written to {out}" in capsys.readouterr().out
    run = LearningRun.load(out)
    assert run.n_larvae == 2 and run.protocol.name == "paired" and run.cs_plus == ["A", "B"]
    w = run.final_weights()
    assert (w["MBON-i1"] < 1.0).all()   # DAN-i1 pairing depressed its compartment's KC input in both larvae


def test_run_experiment_null_runs_on_the_shuffled_brain(toydir, tmp_path, capsys):
    """``--null``: the same experiment on the degree-preserving shuffle, recorded as such in its metadata."""
    real, null = tmp_path / "real", tmp_path / "null"
    for out, extra in ((real, []), (null, ["--null"])):
        assert main(["run", "sensory_map", "--data-dir", toydir, "--no-verify", "--trials", "1", "--out", str(out),
                     *extra]) == 0
    m_real = json.loads((real / "metadata.json").read_text())
    m_null = json.loads((null / "metadata.json").read_text())
    assert m_real["null_model"] is None and m_null["null_model"]
    a, b = pd.read_csv(real / "responses.csv"), pd.read_csv(null / "responses.csv")
    assert len(a) == len(b) and not a["mean_hz"].equals(b["mean_hz"])  # another brain, other rates


@pytest.mark.realdata
def test_fetch_pedigo_node_table_from_a_local_copy(real_data_dir, fresh_cache, capsys):
    src = real_data_dir / "pedigo2023" / "unmatched_full_nodes.csv"
    if not src.is_file():
        pytest.fail(f"{src} is missing from the real data folder")
    assert main(["fetch", "pedigo2023", "--from", str(src), "--quiet"]) == 0
    assert "pedigo2023: verified and stored" in capsys.readouterr().out
    stored = list(Path(fresh_cache).rglob("unmatched_full_nodes.csv"))
    assert len(stored) == 1 and stored[0].read_bytes() == src.read_bytes()


def test_example_sweep_file_plans_its_thousand_runs(capsys):
    example = ROOT / "docs" / "examples" / "sweep_wsyn_rate.toml"
    assert main(["sweep", str(example), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"\b1000 runs\b|\b1,000 runs\b", out) or out.count("\n") > 1000, out[:500]


@pytest.mark.realdata
def test_example_sweep_file_runs_reduced(real_data_dir, tmp_path, capsys):
    """The example's base run and readouts on the real brain: 2 x 2 points, 1 seed, on the numba engine
    (the full example compiles C++; the compile-once path has its own test in tests/sim/test_sweep.py)."""
    text = (ROOT / "docs" / "examples" / "sweep_wsyn_rate.toml").read_text()
    text = text.replace('device = "cpp_standalone"', 'device = "numba"').replace("seeds = 10 ", "seeds = 1 ")
    text = re.sub(r"^w_syn = \[.*\]$", 'w_syn = ["0.3 mV", "0.6 mV"]', text, flags=re.M)
    text = re.sub(r'^"drive.rate" = \[.*\]$', '"drive.rate" = ["40 Hz", "150 Hz"]', text, flags=re.M)
    f = tmp_path / "small.toml"
    f.write_text(text)
    out = tmp_path / "small.sweep"
    assert main(["sweep", str(f), "--data-dir", str(real_data_dir), "--out", str(out), "--jobs", "1",
                 "--quiet", "--plot", str(tmp_path / "fig.png")]) == 0
    table = pd.read_csv(out / "table.csv")
    assert len(table) == 4 and (table["status"] == "ok").all()
    assert "hz.DN-VNC" in table.columns and (tmp_path / "fig.png").is_file()
    # more weight and more drive: more descending output (the example's point)
    lo = table.sort_values(["w_syn", "drive.rate"]).iloc[0]["hz.DN-VNC"]
    hi = table.sort_values(["w_syn", "drive.rate"]).iloc[-1]["hz.DN-VNC"]
    assert hi > lo


@pytest.mark.realdata
def test_run_protocol_with_measured_odours(real_data_dir, tmp_path, capsys):
    """``--option cs_plus=... cs_minus=...``: the protocol trains with two measured odours (Kreher et al. 2008)."""
    import connectomes
    from experiments.learning import LearningRun
    from experiments.odours import known_odour

    out = tmp_path / "paired.h5"
    assert main(["run", "paired", "--data-dir", str(real_data_dir), "--trials", "2", "--quiet", "--option",
                 "cs_plus=pentyl acetate", "--option", "cs_minus=benzaldehyde", "--option", "odour_scale=0.5",
                 "-o", str(out)]) == 0
    run = LearningRun.load(out)
    c = connectomes.load("winding2023", data_dir=real_data_dir)
    assert run.odours == (known_odour(c, "pentyl acetate", scale=0.5), known_odour(c, "benzaldehyde", scale=0.5))
    assert run.cs_plus == ["pentyl acetate", "benzaldehyde"]  # reciprocal: each odour is the CS+ of one larva


@pytest.mark.parametrize("options, message", [
    (["cs_plus=pentyl acetate"], "give both measured odours"),
    (["cs_plus=pentyl acetate", "cs_minus=Pentyl Acetate"], "the same odour 'pentyl acetate' twice"),
    (["cs_plus=pentyl acetat", "cs_minus=benzaldehyde"],
     "--option cs_plus=pentyl acetat: unknown odour 'pentyl acetat'; did you mean pentyl acetate"),
    (["cs_plus=pentyl acetate", "cs_minus=benzaldehyde", "odour_scale=-2"], "odour_scale=-2: must be a finite number >= 0"),
])
def test_protocol_odour_options_fail_before_any_data(tmp_path, capsys, options, message):
    out = tmp_path / "never.h5"
    argv = ["run", "paired", "--data-dir", str(tmp_path / "no-data"), "--quiet", "-o", str(out)]
    for o in options:
        argv += ["--option", o]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("larvasim: error: ") and message in err and "Traceback" not in err
    assert not out.exists()


@pytest.mark.parametrize("command", [["run"], ["plot", "raster"], ["sweep"], ["behave"], ["validate"],
                                     ["validate", "--biology"]])
def test_every_command_that_writes_takes_o_for_out(command, capsys):
    """``-o`` is ``--out`` on every command that writes a file or folder (a user who wrote ``larvasim run ... -o x``
    writes ``larvasim behave light -o x`` too)."""
    with pytest.raises(SystemExit) as e:
        main(command + ["--help"])
    assert e.value.code == 0
    assert re.search(r"-o \w+, --out", capsys.readouterr().out)
