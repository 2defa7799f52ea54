"""The browser explorer (``larvasim explore``, larvasim/explore.py).

The plain functions (checking a condition, running it on the whole brain, the cascade beside it, figures,
downloads) are tested without a browser; the page itself in a real headless Chromium (the distribution's
package, driven by Playwright): it loads with nothing fetched from the internet, a run completes and the
raster updates, bad input shows a message and the server keeps working, a results file downloads.
Without Chromium or Playwright the browser tests are skipped with the reason, except under CI
(``CI=true``), where they fail.
"""
from __future__ import annotations

import dataclasses
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import in_ci

if not in_ci():  # under CI the test extra installs panel (and bokeh): a missing one is an error there
    pytest.importorskip("bokeh", reason="the explorer needs panel and bokeh (pip install -e '.[explore]')")

from larvasim import explore as ex  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


# --------------------------------------------------------------------------- plain functions
@pytest.fixture(scope="module")
def explorer(real_connectome):
    return ex.Explorer(real_connectome)


@pytest.fixture(scope="module")
def olfactory(explorer):
    """The page's default condition (olfactory neurons, both sides, 150 Hz, 200-700 ms of 1 s), run once."""
    return explorer.run(ex.default_spec(explorer.connectome))


def _with(spec, *stimuli, **kw):
    return dataclasses.replace(spec, stimuli=tuple(stimuli), **kw)


BAD = [
    ((), "nothing selected"),
    ((ex.Manipulation("activate"),), "empty selection"),
    ((ex.Manipulation("silence", name="   "),), "empty selection"),
    ((ex.Manipulation("activate", name="no-such-neuron-*"),), "no neuron"),
    ((ex.Manipulation("silence", celltype=("KC",), name="MBON-i1"),), "match"),
    ((ex.Manipulation("drive", modality="olfactory", rate_hz=5000),), "rate"),
    ((ex.Manipulation("drive", modality="olfactory", rate_hz=0),), "rate"),
    ((ex.Manipulation("drive", modality="olfactory", rate_hz=float("nan")),), "rate"),
    ((ex.Manipulation("drive", modality="olfactory", start_ms=700, stop_ms=200),), "window"),
    ((ex.Manipulation("drive", modality="olfactory", stop_ms=5000),), "window stop"),
    ((ex.Manipulation("drive"),), "modality"),
    ((ex.Manipulation("drive", modality="smell"),), "smell"),
    ((ex.Manipulation("silence", name="APL", mode="some"),), "mode"),
]


@pytest.mark.parametrize("stimuli, words", BAD, ids=[w for _, w in BAD])
def test_bad_input_is_refused_with_a_message(real_connectome, stimuli, words):
    spec = _with(ex.ConditionSpec(label="B"), *stimuli)
    with pytest.raises(ex.ExploreError) as err:
        ex.stimuli_of(real_connectome, spec)
    msg = str(err.value)
    assert msg.startswith("B:") and words.lower() in msg.lower(), msg


@pytest.mark.parametrize("field, value, words", [("trials", 0, "trials"), ("trials", 1.5, "trials"),
                                                 ("seed", -1, "seed"), ("duration_ms", 10, "duration"),
                                                 ("model", "hh", "model"), ("signs", "guess", "signs")])
def test_bad_settings_are_refused(real_connectome, field, value, words):
    spec = dataclasses.replace(ex.default_spec(real_connectome), **{field: value})
    with pytest.raises(ex.ExploreError, match=words):
        ex.stimuli_of(real_connectome, spec)


def test_run_condition_is_the_network_run(real_connectome, explorer):
    """run_condition runs the whole brain: the same spikes as sim.Network with the same stimuli and seed,
    on the numba engine; the network is built once per model and signs."""
    import sim
    from brian2 import Hz, ms, second

    spec = _with(ex.default_spec(real_connectome, seed=3),
                 ex.Manipulation("drive", modality="olfactory", side="left", rate_hz=80, start_ms=100, stop_ms=600),
                 ex.Manipulation("silence", name="APL", mode="all"))
    res = ex.run_condition(real_connectome, spec, explorer=explorer)
    assert res.metadata["network"]["device"] == "numba"
    net = sim.Network(real_connectome)
    ref = net.run([sim.PoissonDrive(real_connectome.select(modality="olfactory", hemisphere="left"), 80 * Hz,
                                    start=100 * ms, stop=600 * ms),
                   sim.Silence(real_connectome.select(name="APL"), mode="all")], duration=1 * second, seed=3)
    assert res.n_spikes == ref.n_spikes > 0
    assert np.array_equal(res.spike_nodes, ref.spike_nodes)
    assert np.array_equal(res.spike_times, ref.spike_times)
    apl = real_connectome.select(name="APL").indices
    assert not np.isin(res.spike_nodes, apl).any()
    assert explorer.network("larval_lif", "literature") is explorer.network("larval_lif", "literature")
    other = ex.run_condition(real_connectome, dataclasses.replace(spec, seed=4), explorer=explorer)
    assert not np.array_equal(other.spike_times, res.spike_times)


def test_adult_model_and_activation(real_connectome, explorer):
    spec = _with(ex.ConditionSpec(model="current_lif", signs="excitatory", trials=2, duration_ms=500),
                 ex.Manipulation("activate", name="DAN-*", side="left", rate_hz=100, start_ms=0, stop_ms=500))
    res = explorer.run(spec).results
    meta = res.metadata["network"]
    assert meta["model"]["model"] == "current_lif" and meta["signs"]["policy"] == "excitatory"
    assert res.n_trials == 2 and res.duration_ms == 500
    dans = real_connectome.select(name="DAN-*", hemisphere="left").indices
    assert np.isin(dans, res.spike_nodes).all()  # every activated neuron fires


def test_cascade_beside_the_spikes(real_connectome, explorer, olfactory):
    t = olfactory.cascade
    assert t is not None and len(t) >= 400
    assert set(t["celltype"]) >= {"DN-VNC", "DN-SEZ", "RGN"}
    assert t["cascade_hit_probability"].between(0, 1).all()
    assert (t["cascade_hit_probability"] >= 0.5).sum() > 50  # olfaction reaches many outputs (Winding et al.)
    assert np.array_equal(t["spiking_rate_hz"].to_numpy(),
                          olfactory.results.mean_rates((200, 700))["mean_hz"].to_numpy()[t.index])
    # silencing the olfactory projection neurons cuts the cascade as it cuts the spikes
    spec = _with(ex.default_spec(real_connectome), *ex.default_spec(real_connectome).stimuli,
                 ex.Manipulation("silence", celltype=("PN",), mode="all"))
    cut = explorer.run(spec).cascade
    assert cut["cascade_hit_probability"].sum() < t["cascade_hit_probability"].sum()
    same = ex.cascade_prediction(real_connectome, ex.default_spec(real_connectome), olfactory.results)
    assert np.array_equal(same["cascade_hit_probability"], t["cascade_hit_probability"])
    silence_only = explorer.run(_with(ex.default_spec(real_connectome),
                                      ex.Manipulation("silence", celltype=("KC",), mode="all")))
    assert silence_only.cascade is None
    with pytest.raises(ex.ExploreError, match="cascade needs"):
        ex.cascade_prediction(real_connectome, silence_only.spec, silence_only.results)


def test_figures_show_the_run(olfactory):
    res = olfactory.results
    figs = ex.figures(res, olfactory.cascade, prefix="A-")
    assert list(figs) == list(ex.FIGURES)
    assert all(f.name == f"A-{k}" for k, f in figs.items())
    raster = figs["raster"].select_one({"name": "A-raster-data"}).data
    first = res.spike_trials == 0
    assert len(raster["x"]) == first.sum() > 0
    assert np.allclose(np.sort(raster["x"]), np.sort(res.spike_times[first]), atol=1e-3)
    assert raster["y"].min() >= 0 and raster["y"].max() < res.n_neurons
    rates = figs["rates"].select_one({"name": "A-rates-data"}).data
    assert "DN-VNC" in rates["group"] and all(len(x) == len(y) for x, y in zip(rates["xs"], rates["ys"]))
    image = figs["readout"].select_one({"name": "A-readout-data"}).data["image"][0]
    assert image.shape[1] == 50 and image.max() > 0  # 1 s in 20 ms bins
    casc = figs["cascade"].select_one({"name": "A-cascade-data"}).data
    assert len(casc["x"]) == len(olfactory.cascade)
    empty = ex.figures(res, None)
    assert "needs sources" in empty["cascade"].title.text


def test_compare(olfactory, explorer, real_connectome):
    b = explorer.run(_with(ex.default_spec(real_connectome, label="B"),
                           ex.Manipulation("drive", modality="visual", rate_hz=150))).results
    runs = {"A": olfactory.results, "B": b}
    t = ex.compare_table(runs)
    assert list(t.columns) == ["A", "B", "B - A"] and list(t.index[:3]) == ["DN-VNC", "DN-SEZ", "RGN"]
    assert np.allclose(t["B - A"], (t["B"] - t["A"]).round(2), atol=0.011)
    fig = ex.compare_figure(runs)
    img = fig.select_one({"name": "compare-data"}).data["image"][0]
    assert img.shape[0] == 2 and img.shape[1] > 0


def test_downloads(olfactory, tmp_path):
    import sim

    path = tmp_path / "A.h5"
    path.write_bytes(ex.results_bytes(olfactory.results, "h5"))
    assert sim.Results.load(path) == olfactory.results
    for kind in ex.FIGURES:
        png = ex.figure_png(kind, olfactory.results, olfactory.cascade, label="A")
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000
    with pytest.raises(ex.ExploreError):
        ex.figure_png("movie", olfactory.results)
    pytest.importorskip("pynwb", reason="NWB export needs pynwb (pip install -e '.[nwb]')")
    from pynwb import NWBHDF5IO

    nwb = tmp_path / "A.nwb"
    nwb.write_bytes(ex.results_bytes(olfactory.results, "nwb"))
    with NWBHDF5IO(str(nwb), "r") as io:
        assert len(io.read().units) == olfactory.results.n_neurons


def test_without_panel_one_line_and_exit_2(monkeypatch, capsys):
    from larvasim.cli import main

    monkeypatch.setitem(sys.modules, "panel", None)  # import panel -> ImportError
    assert main(["explore", "--no-browser"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "larvasim: error: the explorer needs panel: pip install -e '.[explore]'"


def test_cli_help_and_bad_port(capsys):
    pytest.importorskip("panel")
    from larvasim.cli import main

    assert main(["explore", "--port", "70000", "--no-browser"]) == 2
    assert "--port 70000" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["explore", "--help"])
    assert "browser" in capsys.readouterr().out


# --------------------------------------------------------------------------- the page in a real browser
def _need(what: str, why: str):
    if in_ci():
        pytest.fail(f"the browser test cannot run in CI: {why}")
    pytest.skip(why)


@pytest.fixture(scope="module")
def chromium():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _need("playwright", "playwright is not installed (pip install -e '.[test]')")
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        _need("chromium", "no chromium on PATH (Debian: apt-get install -y chromium)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe, args=["--no-sandbox"])
        yield browser
        browser.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, timeout: float = 5.0) -> int:
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status


@pytest.fixture(scope="module")
def server(real_data_dir, tmp_path_factory):
    """``larvasim explore`` in a subprocess on a free port (the real data); its log beside the test's files."""
    if not in_ci():
        pytest.importorskip("panel", reason="the explorer needs panel (pip install -e '.[explore]')")
    port = _free_port()
    log = tmp_path_factory.mktemp("explore") / "server.log"
    env = dict(os.environ, MPLBACKEND="Agg")
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "larvasim.cli", "explore", "--port", str(port),
                                 "--no-browser", "--data-dir", str(real_data_dir)],
                                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://localhost:{port}/"
    try:
        deadline = time.monotonic() + 300
        while True:
            if proc.poll() is not None:
                pytest.fail(f"larvasim explore exited with {proc.returncode}:\n{log.read_text()}")
            try:
                if _get(url) == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"larvasim explore did not answer within 300 s:\n{log.read_text()}")
            time.sleep(0.5)
        yield url, proc, log
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def page(chromium, server):
    url, _, _ = server
    context = chromium.new_context(accept_downloads=True, viewport={"width": 1600, "height": 1200})
    pg = context.new_page()
    pg.outside = []  # requests that would leave this machine
    pg.on("request", lambda r: None if r.url.startswith(("http://localhost", "ws://localhost", "data:", "blob:"))
          else pg.outside.append(r.url))
    pg.goto(url)
    pg.locator(".run-A button").wait_for(timeout=120_000)
    yield pg
    context.close()


_SPIKES = "(name) => { const s = Bokeh.documents[0].get_model_by_name(name); return s ? s.data.x.length : -1; }"
_TIMEOUT = 120_000


def _status(page, label: str) -> str:
    return page.locator(f".status-{label} p").first.inner_text()


def _wait_enabled(page, label: str):
    """Wait until condition `label`'s Run button is enabled (no run in flight); a slow, shared CI
    machine can take longer than Playwright's 30 s click timeout to finish a run's figures."""
    button = page.locator(f".run-{label} button")
    deadline = time.monotonic() + _TIMEOUT / 1000
    while not button.is_enabled():
        if time.monotonic() > deadline:
            pytest.fail(f"Run {label}: the Run button stayed disabled for {_TIMEOUT / 1000:.0f} s")
        page.wait_for_timeout(20)


def _run(page, label: str, previous_status: str | None = None) -> str:
    """Press Run; wait until the status reports a new run and the button is ready; return the status."""
    before = previous_status if previous_status is not None else _status(page, label)
    _wait_enabled(page, label)
    page.locator(f".run-{label} button").click()
    deadline = time.monotonic() + _TIMEOUT / 1000
    while True:
        now = _status(page, label)
        if "spikes" in now and now != before:
            _wait_enabled(page, label)
            return now
        if time.monotonic() > deadline:
            pytest.fail(f"Run {label}: no new result within {_TIMEOUT / 1000:.0f} s; status {now!r}")
        page.wait_for_timeout(20)


def _spikes_in_status(status: str) -> int:
    return int(status.split(" spikes")[0].split(":")[-1].strip().replace(",", ""))


def test_page_loads_offline_and_a_run_updates_the_raster(page, server):
    assert page.title() == "larvasim explorer"
    assert page.locator(".run-B button").is_visible()
    assert page.evaluate(_SPIKES, "A-raster-data") == 0  # nothing run yet
    status = _run(page, "A")
    n = page.evaluate(_SPIKES, "A-raster-data")
    assert n > 0 and n == _spikes_in_status(status)
    assert "olfactory" in status
    # a second (warm) run with another seed: the raster changes; the latency is printed, not asserted
    page.locator(".seed-A input").fill("7")
    page.locator(".seed-A input").press("Enter")
    t0 = time.perf_counter()
    status2 = _run(page, "A", status)
    page.wait_for_function(f"() => ({_SPIKES})('A-raster-data') !== {n}", timeout=_TIMEOUT)
    latency = time.perf_counter() - t0
    assert "seed 7" in status2
    print(f"\nexplorer: warm 1 s whole-brain run, click to updated raster: {latency:.2f} s ({status2.splitlines()[0]})")
    assert page.outside == [], f"the page fetched from outside this machine: {page.outside}"


def test_bad_input_shows_a_message_and_the_server_keeps_working(page, server):
    url, proc, log = server
    alert = page.locator(".alert-B")
    page.locator(".act-name-B input").fill("no-such-neuron-*")
    page.locator(".act-name-B input").press("Enter")
    _wait_enabled(page, "B")
    page.locator(".run-B button").click()
    alert.wait_for(state="visible", timeout=_TIMEOUT)
    assert "no neuron has name" in alert.locator("div").first.inner_text()
    page.locator(".act-name-B input").fill("")
    page.locator(".act-name-B input").press("Enter")
    page.locator(".rate-B input").fill("5000")
    page.locator(".rate-B input").press("Enter")
    _wait_enabled(page, "B")
    page.locator(".run-B button").click()
    page.wait_for_function("() => true")
    page.locator(".alert-B div", has_text="rate").first.wait_for(timeout=_TIMEOUT)
    assert "<= 500" in alert.locator("div").first.inner_text()
    assert page.evaluate(_SPIKES, "B-raster-data") == 0  # nothing ran
    assert proc.poll() is None and _get(url) == 200
    page.locator(".rate-B input").fill("150")
    page.locator(".rate-B input").press("Enter")
    status = _run(page, "B")  # the page still works, and the message goes
    assert page.evaluate(_SPIKES, "B-raster-data") == _spikes_in_status(status)
    assert not alert.is_visible()


def test_downloads_from_the_page(page, tmp_path):
    import sim

    if page.evaluate(_SPIKES, "A-raster-data") <= 0:
        _run(page, "A")
    status = _status(page, "A")
    with page.expect_download(timeout=_TIMEOUT) as dl:
        page.locator(".download-h5-A button").click()
    path = tmp_path / dl.value.suggested_filename
    dl.value.save_as(path)
    assert path.name == "A.h5"
    res = sim.Results.load(path)
    assert res.n_spikes == _spikes_in_status(status)
    assert res.metadata["network"]["device"] == "numba"
    with page.expect_download(timeout=_TIMEOUT) as dl:
        page.locator(".download-png-A button").click()
    png = tmp_path / dl.value.suggested_filename
    dl.value.save_as(png)
    assert png.name == "A_raster.png" and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page.screenshot(path=str(tmp_path / "explorer.png"), full_page=True)
