"""The teaching notebooks (``docs/notebooks/*.ipynb`` and ``solutions/*_solutions.ipynb``).

* Without data: both notebooks of every lesson are what ``docs/notebooks/build.py``
  writes from ``source/*.nbsrc`` (one source, so they never diverge); they are
  valid, committed without outputs, small; the exercise notebook has ``...``
  scaffolds checked by ``larvasim.teaching.check``, the solutions notebook none;
  ``check`` says "not done yet" for ``...`` and fails a wrong answer; the
  execution harness reports a failing cell as a test failure.
* With the real data (``realdata``): every exercise and every solutions notebook
  runs top to bottom in a fresh kernel of the current interpreter. The
  notebooks assert facts as they go (2,952 neurons, analytic vs simulated LIF
  rate within 2 %, ...); in an exercise notebook every check prints "not done
  yet", in a solutions notebook every check prints "correct".
  ``LARVASIM_NOTEBOOK_OUT=DIR`` keeps the executed notebooks there (and HTML
  when nbconvert is installed): the instructor versions (docs/teaching.md).

Run them with ``LARVASIM_DATA=/path/to/connectomes python -m pytest tests/test_notebooks.py``.
"""
from __future__ import annotations

import os
import re
import sys
import time
from pathlib import Path

import pytest

try:
    import ipykernel  # noqa: F401
    import nbclient
    import nbformat
except ImportError as e:  # pragma: no cover - depends on the installation
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        raise
    pytest.skip(f"{e}; install the test extra: pip install -e '.[test]'", allow_module_level=True)

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = ROOT / "docs" / "notebooks"
EXERCISES = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
SOLUTIONS = sorted((NOTEBOOK_DIR / "solutions").glob("*_solutions.ipynb"))
NOTEBOOKS = EXERCISES + SOLUTIONS
EXPECTED = ["01_connectome", "02_lif_to_brain", "03_sensory_to_descending", "04_learning", "05_closed_loop",
            "06_check_a_claim"]
CHECK_CALL = re.compile(r"^\s*check\(", re.M)
#: Seconds one cell may run before the test fails (the slowest cell, a conditioning run, takes
#: under a minute on a 2-core machine).
CELL_TIMEOUT = 300
MAX_BYTES = 200_000


def _kernel_manager(tmp_path: Path):
    """A kernel manager whose only kernel runs ``sys.executable -m ipykernel_launcher``."""
    from ipykernel.kernelspec import write_kernel_spec
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    kernels = tmp_path / "kernels"
    write_kernel_spec(path=str(kernels / "larvasim-test"))
    ksm = KernelSpecManager(kernel_dirs=[str(kernels)], ensure_native_kernel=False)
    km = KernelManager(kernel_name="larvasim-test", kernel_spec_manager=ksm)
    assert km.kernel_spec.argv[0] == sys.executable
    return km


def _execute(nb, tmp_path: Path, cwd: Path):
    """Run every cell of ``nb`` in place; a failing cell raises ``CellExecutionError``."""
    km = _kernel_manager(tmp_path)
    client = nbclient.NotebookClient(nb, km=km, timeout=CELL_TIMEOUT,
                                     resources={"metadata": {"path": str(cwd)}})
    try:
        client.execute()
    finally:
        if km.has_kernel:
            km.shutdown_kernel(now=True)
    return nb


@pytest.fixture
def kernel_env(monkeypatch):
    """Environment of the kernel: larvasim importable from this tree, no GUI backend."""
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    monkeypatch.setenv("MPLBACKEND", "Agg")


# -- without data ---------------------------------------------------------------------
def test_the_notebooks_exist():
    assert [p.stem for p in EXERCISES] == EXPECTED
    assert [p.stem for p in SOLUTIONS] == [f"{e}_solutions" for e in EXPECTED]


def _build_module():
    import importlib.util

    spec = importlib.util.spec_from_file_location("nb_build", NOTEBOOK_DIR / "build.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_committed_notebooks_equal_a_fresh_build():
    """Edit docs/notebooks/source/*.nbsrc and run build.py; never the notebooks by hand."""
    built = _build_module().rendered()
    assert sorted(built) == sorted(NOTEBOOKS)
    stale = [p.name for p, text in built.items() if p.read_text(encoding="utf-8") != text]
    assert not stale, f"out of date, run python docs/notebooks/build.py: {stale}"


def test_build_refuses_a_malformed_source(tmp_path):
    mod = _build_module()
    bad = tmp_path / "99_bad.nbsrc"
    bad.write_text("%% code\nx = 1\n%% solution\nx = 2\n")
    with pytest.raises(ValueError, match="must follow its exercise"):
        mod.parse(bad)
    bad.write_text("%% exercise\nx = 1\n")
    with pytest.raises(ValueError, match="no \\.\\.\\."):
        mod.parse(bad)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_committed_clean(path):
    """Valid, small, no outputs; an install cell; exercises scaffolded and checked; facts asserted."""
    assert path.stat().st_size < MAX_BYTES, f"{path.name} is {path.stat().st_size} bytes"
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    dirty = [i for i, c in enumerate(code) if c.outputs or c.execution_count is not None]
    assert not dirty, f"{path.name}: clear the outputs of code cells {dirty} before committing"
    assert "find_spec(\"larvasim\")" in code[0].source and "ensure_data" in code[0].source   # install and data
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "Learning outcomes" in text and "can and cannot tell you" in text
    assert "**Predict first.**" in text
    exercises = re.findall(r"\*\*Exercise \d", text)
    checks = [c for c in code if CHECK_CALL.search(c.source)]
    assert len(exercises) >= 2 and len(checks) >= 2
    asserts = sum(c.source.count("assert ") for c in code)
    assert asserts >= 3, f"{path.name} asserts only {asserts} facts"
    scaffolds = [c for c in code if re.search(r"=\s*\.\.\.|\(\.\.\.|\[\.\.\.\]|: \.\.\.", c.source)]
    if path in SOLUTIONS:
        assert not scaffolds, f"{path.name}: a solution with ... left in it"
        assert "**Model answer.**" in text
    else:
        assert len(scaffolds) >= len(exercises) - 1
        assert "**Model answer.**" not in text                        # answers only in the solutions
    assert nb.metadata["kernelspec"]["language"] == "python"


def test_check_says_not_done_passes_and_fails(capsys):
    """The check helper: ... is 'not done yet', a right answer 'correct', a wrong one an error."""
    from larvasim.teaching import CORRECT, NOT_DONE, WrongAnswer, check

    check("04.one_dan_spike", ..., eta=0.02, tau_e=0.3)
    assert NOT_DONE in capsys.readouterr().out
    import math

    check("04.one_dan_spike", -0.02 * math.exp(-1 / 0.3), eta=0.02, tau_e=0.3)
    assert CORRECT in capsys.readouterr().out
    with pytest.raises(WrongAnswer, match="not quite"):
        check("04.one_dan_spike", -0.02, eta=0.02, tau_e=0.3)
    with pytest.raises(WrongAnswer):
        check("04.ten_dan_spikes", 0.0, eta=0.02, tau_e=0.3)
    with pytest.raises(KeyError, match="no check named"):
        check("99.nothing", 1)


def test_every_check_in_the_notebooks_exists():
    from larvasim.teaching import CHECKS

    used = set()
    for p in EXERCISES:
        nb = nbformat.read(p, as_version=4)
        used |= set(re.findall(r'check\("([^"]+)"', "\n".join(c.source for c in nb.cells)))
    assert used and used <= set(CHECKS), used - set(CHECKS)
    assert set(CHECKS) <= used, f"checks no notebook uses: {set(CHECKS) - used}"


def test_a_failing_cell_fails_the_run(tmp_path, kernel_env):
    """The harness is a real test: a wrong assertion in any cell is reported with its cell."""
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("import sys\nx = 2952"),
        nbformat.v4.new_code_cell("assert x == 2951, 'wrong number of neurons'"),
        nbformat.v4.new_code_cell("raise SystemExit('never reached')"),
    ])
    with pytest.raises(nbclient.exceptions.CellExecutionError, match="wrong number of neurons"):
        _execute(nb, tmp_path, tmp_path)
    assert nb.cells[0].execution_count == 1 and not nb.cells[2].outputs


# -- on the real data -------------------------------------------------------------------
@pytest.mark.realdata
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path, real_data_dir, tmp_path, kernel_env, monkeypatch, record_property):
    monkeypatch.setenv("LARVASIM_DATA", str(real_data_dir))
    nb = nbformat.read(path, as_version=4)
    t0 = time.perf_counter()
    _execute(nb, tmp_path, path.parent)
    elapsed = time.perf_counter() - t0
    record_property("seconds", round(elapsed, 1))
    print(f"{path.name}: {elapsed:.1f} s")
    # nbclient raised on any failing cell; what remains to check is that every cell ran, in order
    counts = [c.execution_count for c in nb.cells if c.cell_type == "code"]
    assert counts == list(range(1, len(counts) + 1)), counts
    out = "\n".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs
                    if o.get("output_type") == "stream")
    n_checks = sum(len(CHECK_CALL.findall(c.source)) for c in nb.cells if c.cell_type == "code")
    status = "correct" if path in SOLUTIONS else "not done yet"
    assert out.count(f"] {status}") == n_checks, f"{path.name}: expected {n_checks} checks to say {status!r}"
    keep = os.environ.get("LARVASIM_NOTEBOOK_OUT")
    if keep:                                        # instructor versions, with outputs
        dest = Path(keep) / path.relative_to(NOTEBOOK_DIR)
        dest.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, dest)
        try:
            from nbconvert import HTMLExporter
        except ImportError:
            pass
        else:
            dest.with_suffix(".html").write_text(HTMLExporter().from_notebook_node(nb)[0], encoding="utf-8")
