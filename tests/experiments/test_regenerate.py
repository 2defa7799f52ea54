"""experiments.regenerate: the default model's documents, regenerated in dependency order.

The scheduler is tested on small steps of its own (python one-liners that write files), so that order, lanes,
failures and resuming are checked in seconds; the real manifest is checked against the documents it names.
"""
from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from experiments import regenerate as rg
from experiments.regenerate import Step

ROOT = Path(__file__).resolve().parents[2]


def _step(name, after=(), seconds=0.3, fail=False, minutes=1.0):
    """A step that records its start and end times in <name>.txt under the run's folder."""
    code = ("import sys, time, pathlib; t0 = time.time(); time.sleep({s}); "
            "pathlib.Path(sys.argv[1]).joinpath('{n}.txt').write_text(f'{{t0}} {{time.time()}}'); "
            "sys.exit({rc})").format(s=seconds, n=name, rc=3 if fail else 0)
    return Step(name, ("{python}", "-c", code, "{work}"), (f"{name}.txt",), tuple(after), minutes)


def _times(runs, name):
    a, b = (runs / f"{name}.txt").read_text().split()
    return float(a), float(b)


@pytest.fixture
def checkout(tmp_path):
    (tmp_path / "docs").mkdir()
    return tmp_path


def test_steps_run_after_what_they_follow_and_side_by_side_on_two_lanes(checkout):
    steps = (_step("a"), _step("b", after=("a",)), _step("c"), _step("d", after=("b", "c")))
    runs = checkout / "runs"
    lines = []
    state = rg.run(steps, runs=runs, jobs=2, key="k1", root=checkout, log=lines.append, poll_s=0.05)
    assert {n: r["rc"] for n, r in state["steps"].items()} == {"a": 0, "b": 0, "c": 0, "d": 0}
    t = {n: _times(runs, n) for n in "abcd"}
    assert t["b"][0] >= t["a"][1] and t["d"][0] >= max(t["b"][1], t["c"][1])
    assert t["c"][0] < t["a"][1]  # a and c ran at the same time
    assert (runs / "a.log").read_text().startswith("$ " + sys.executable)
    assert json.loads((runs / "state.json").read_text()) == state
    assert any(x.startswith("d: done") for x in lines)


def test_a_failed_step_skips_what_follows_it_and_a_rerun_resumes(checkout):
    runs = checkout / "runs"
    steps = (_step("a", fail=True), _step("b", after=("a",)), _step("c"))
    state = rg.run(steps, runs=runs, jobs=1, key="k1", root=checkout, poll_s=0.05)
    assert state["steps"]["a"]["rc"] == 3 and state["steps"]["b"]["rc"] is None
    assert "after failed step(s) a" in state["steps"]["b"]["skipped"] and state["steps"]["c"]["rc"] == 0
    assert not (runs / "b.txt").exists()
    c_first = _times(runs, "c")
    # fixed: the rerun runs a and b, not c (done for the same key)
    fixed = (_step("a"), _step("b", after=("a",)), _step("c"))
    assert [x.split()[0] for x in rg.plan(fixed, state=state)[:-1] if x.split()[1] == "runs"] == ["a", "b"]
    assert rg.plan(fixed, state=state)[2].startswith("c               done (")
    state = rg.run(fixed, runs=runs, jobs=1, key="k1", root=checkout, poll_s=0.05)
    assert all(r["rc"] == 0 for r in state["steps"].values()) and _times(runs, "c") == c_first
    # --force, or another model (key): everything again
    rg.run(fixed, runs=runs, jobs=1, key="k1", root=checkout, force=True, only=["c"], poll_s=0.05)
    assert _times(runs, "c") != c_first
    again = rg.run(fixed, runs=runs, jobs=1, key="k2", root=checkout, only=["a"], poll_s=0.05)
    assert list(again["steps"]) == ["a"] and again["fingerprint"] == "k2"


def test_order_plan_and_errors():
    steps = (_step("b", after=("a",), minutes=2), _step("a", minutes=3), _step("c", minutes=4))
    assert rg.order(steps) == ["a", "b", "c"]
    assert rg.plan(steps, jobs=2)[-1] == "about 5 min on 2 lanes"  # a then b beside c
    assert rg.plan(steps, jobs=1)[-1] == "about 9 min on 1 lane"
    with pytest.raises(ValueError, match="follows unknown step 'x'"):
        rg.order((_step("a", after=("x",)),))
    with pytest.raises(ValueError, match="cycle"):
        rg.order((_step("a", after=("b",)), _step("b", after=("a",))))
    with pytest.raises(ValueError, match="unknown step"):
        rg.plan(steps, only=["zz"])


def test_a_folder_without_docs_is_refused(tmp_path, capsys):
    with pytest.raises(FileNotFoundError, match="not a larvasim source checkout"):
        rg.run((_step("a"),), root=tmp_path, key="k")
    assert rg.main(["--only", "nope", "--dry-run"]) == 2
    assert "unknown step(s) nope" in capsys.readouterr().err


def test_the_manifest_names_real_generators_and_their_documents():
    """Every step runs a module that exists, writes documents that exist, and each document names the command
    that writes it; the default model's resuming stores and the report it quotes are all in the manifest."""
    names = rg.order()
    assert names[0] == "biology" and names.index("biology_render") > max(
        names.index(x) for x in ("learning_rate", "sign_lesions", "null"))
    for s in rg.STEPS:
        module = s.argv[s.argv.index("-m") + 1]
        assert importlib.util.find_spec(module) is not None, module
        for w in s.writes:
            assert (ROOT / w).is_file(), w
        doc = (ROOT / s.writes[0]).read_text()
        command = "larvasim validate --biology" if module == "larvasim.cli" else f"python -m {module}"
        assert command in doc, (s.name, command)
    written = {w for s in rg.STEPS for w in s.writes}
    for doc in ("biology_null", "sign_lesions", "biology_learning_rate", "learning", "behaviour", "sensory",
                "odours", "spiking_vs_cascade"):
        assert f"docs/{doc}.md" in written
    out = rg.plan(jobs=2)
    assert len(out) == len(rg.STEPS) + 1 and out[-1].endswith("on 2 lanes")


def test_ctrl_c_stops_the_running_steps_keeps_the_finished_ones_and_says_so(checkout, tmp_path):
    """SIGINT during a run: the running step is stopped, the finished one is kept in the state, the command ends
    with one line (no traceback) and exit 130; a rerun runs only what was left."""
    import signal
    import subprocess
    import time

    runs = tmp_path / "runs"
    script = (
        "import sys; sys.path.insert(0, {root!r}); sys.path.insert(0, {tests!r})\n"
        "from experiments import regenerate as rg\n"
        "from test_regenerate import _step\n"
        "steps = (_step('a', seconds=0.1), _step('b', after=('a',), seconds=60))\n"
        "sys.exit(rg.main(['--runs', {runs!r}], steps=steps))\n"
    ).format(root=str(ROOT), tests=str(Path(__file__).parent), runs=str(runs))
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while time.time() < deadline and not (runs / "b.log").exists():  # step b has started
        time.sleep(0.05)
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, (out, err)
    assert "interrupted; the steps that finished are kept" in err and "Traceback" not in err
    state = json.loads((runs / "state.json").read_text())
    assert state["steps"]["a"]["rc"] == 0 and state["steps"]["b"].get("interrupted") is True
    assert not (runs / "b.txt").exists()  # stopped before it wrote
    plan = rg.plan((_step("a"), _step("b", after=("a",))), state=state)
    assert plan[0].startswith("a               done") and plan[1].startswith("b               runs")
