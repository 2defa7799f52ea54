"""The benchmark scripts run, at a reduced size, with their regression guards (``--guard``).

Each guard is a ratio measured in one run against a bound far from the documented figure
(benchmarks/guard.py), so only a large regression fails, never a slower machine. The figures are
printed into the test log (CI shows them); the full-size figures live in docs/benchmarks.md.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: script, reduced arguments, slow (over ~30 s)
CASES = [
    ("bench_cascade.py", ["--repeat", "2", "--dense", "5"], False),
    ("bench_load.py", ["--repeat", "2"], False),
    ("bench_inputs.py", ["--repeat", "3"], False),
    ("bench_sweep_floor.py", ["--points", "2", "--seeds", "1", "--repeat", "1"], False),
    # one timed run of each variant: on some CPUs the dense variant pays ~20 s per conditioning larva
    # (bench_sleep's ratio was 32 on an Intel Xeon), and the guard's bound (1.2) is far below any figure
    ("bench_sleep.py", ["--larvae", "1", "--repeat", "1"], False),
    ("bench_stepping.py", ["--larvae", "2", "--seconds", "0.5", "--chunks", "50"], False),
    ("bench_timing_rule.py", ["--larvae", "2", "--repeat", "2"], False),
    ("bench_behaviour.py", ["--larvae", "0", "--compare-larvae", "10", "--compare-seconds", "10"], True),
    # without C++ standalone (a minute of compilation) and without the empty-cache start (half a minute of
    # numba compilation, a figure the guards do not use): the guard against the fixed minimal kernel catches
    # an engine regression on its own, and the engines' identical spikes are tests of tests/sim
    ("bench_engine.py", ["--engines", "numba,minimal", "--trials", "3", "--no-cold"], True),
]


@pytest.mark.parametrize("script, args", [
    pytest.param(s, a, marks=[pytest.mark.slow] if slow else [], id=s.removesuffix(".py")) for s, a, slow in CASES])
def test_benchmark_runs_within_its_guards(script, args, real_data_dir, tmp_path, capsys):
    env = {**os.environ, "LARVASIM_DATA": str(real_data_dir), "MPLBACKEND": "Agg"}
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / script), *args, "--guard"], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=900)
    with capsys.disabled():
        print(f"\n--- benchmarks/{script} {' '.join(args)} --guard\n{proc.stdout}", end="")
    guards = [ln for ln in proc.stdout.splitlines() if ln.startswith("guard ")]
    assert guards, f"{script} printed no guard line:\n{proc.stdout}\n{proc.stderr[-3000:]}"
    assert proc.returncode == 0, f"{script} failed (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr[-3000:]}"
    if script == "bench_sleep.py":  # the subnormal counts do not depend on the machine: docs/benchmarks.md's
        counts = re.findall(r"subnormal value \(of [\d,]+; larva 0.*?\): (.*)", proc.stdout)
        assert len(counts) == 5 and counts[2] == counts[4] == "none", counts
        assert all(c.startswith("g ") for c in counts[:2]) and counts[3].startswith("g_e "), counts
        doc = (ROOT / "docs" / "benchmarks.md").read_text()
        assert (f"**{counts[0][2:]} of 2,952 neurons** hold a\nsubnormal `g` during the conditioning protocol and "
                f"{counts[1][2:]} after") in doc, counts
        assert f"the conductance model's silence ({counts[3]} on average)" in doc, counts


def test_guard_fails_on_a_regression(capsys):
    """The guard itself: a ratio past its bound sets exit code 1 (only with --guard), a failed requirement too."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from guard import Guards
    finally:
        sys.path.pop(0)
    g = Guards(True)
    assert g.check("speed-up", 5.0, at_least=2.0) and g.exit_code() == 0
    assert not g.check("speed-up", 1.5, at_least=2.0) and g.exit_code() == 1
    h = Guards(False)
    h.check("ratio", 9.0, at_most=3.0)
    assert h.exit_code() == 0 and h.failed == ["ratio"]
    r = Guards(True)
    r.require("identical spikes", False)
    assert r.exit_code() == 1
    assert "REGRESSION" in capsys.readouterr().out


@pytest.mark.realdata
@pytest.mark.parametrize("model", ["current_lif", "conductance_lif"])
def test_minimal_kernels_give_the_engines_spikes(model, real_connectome):
    """The minimal reference kernels of benchmarks/minimal_kernel.py (the floor issue 16 measures the engine
    against) simulate the same model: every spike of the engine on the whole brain (0.3 s, two trials)."""
    import numpy as np
    from brian2 import Hz, second

    import sim

    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from minimal_kernel import kernel_for
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    net = sim.Network(real_connectome, model=model, signs="excitatory", device="numba", threads=1)
    stim = [sim.PoissonDrive(real_connectome.select(modality="olfactory"), 150 * Hz)]
    inputs = net.draw_inputs(stim, 0.3 * second, trials=2, seed=3)
    events = [(ev.neurons, ev.steps) for ev in inputs]
    eng = net.engine_network(0.3 * second)
    ref = eng.run(events, threads=1).spikes
    mine = kernel_for(eng).run(events)
    assert all(len(i) > 100 for i, _ in ref)
    for (a, ka), (b, kb) in zip(mine, ref):
        assert np.array_equal(a, b) and np.array_equal(ka, kb)


@pytest.mark.realdata
def test_minimal_plastic_kernel_gives_the_engines_spikes_and_weights(real_connectome):
    """The minimal kernel with dopaminergic plasticity (benchmarks/minimal_kernel.py): every spike and every
    final KC -> MBON weight of the engine on the whole brain, with depression actually happening."""
    import numpy as np
    from brian2 import Hz, second

    import sim
    from models.plasticity import DopaminePlasticity

    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from minimal_kernel import MinimalPlasticKernel, kernel_for
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    net = sim.Network(real_connectome, model="current_lif", signs="excitatory", device="numba", threads=1,
                      plasticity=DopaminePlasticity(record=None, eta=0.05))
    stim = [sim.PoissonDrive(real_connectome.select(modality="olfactory"), 150 * Hz),
            sim.PoissonDrive(real_connectome.select(name="DAN-[ijk]1"), 50 * Hz)]
    inputs = net.draw_inputs(stim, 0.3 * second, trials=2, seed=3)
    events = [(ev.neurons, ev.steps) for ev in inputs]
    eng = net.engine_network(0.3 * second)
    out = eng.run(events, threads=1)
    mk = kernel_for(eng)
    assert isinstance(mk, MinimalPlasticKernel)
    mine = mk.run(events)
    for (a, ka), (b, kb) in zip(mine, out.spikes):
        assert np.array_equal(a, b) and np.array_equal(ka, kb)
    for wm, we in zip(mk.final_weights, out.plastic.final):
        assert np.array_equal(wm, we)
        assert (wm < eng.plastic_w0).any()  # depression happened
