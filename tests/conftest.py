"""Shared fixtures.

Real-data tests find the Winding et al. 2023 data through ``LARVASIM_DATA``.
Without it they are skipped with a reason, except under CI (``CI=true``),
where a missing data set is an error.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from connectomes.synthetic import write_winding_format


def in_ci() -> bool:
    """True under CI (``CI=true``), where real-data tests must run, never skip."""
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


#: The marker expression that pyproject.toml's ``addopts`` gives every run: slow tests left out locally.
DEFAULT_MARKEXPR = "not slow"


def _explicit_markexpr(args) -> bool:
    """True when the command line itself chose a marker expression (``-m EXPR``, ``-mEXPR``)."""
    return any(a == "-m" or (a.startswith("-m") and not a.startswith("--")) for a in map(str, args))


def pytest_configure(config):
    """Under CI (``CI=true``) every test runs, the slow ones too: the default ``-m "not slow"`` from
    pyproject.toml's ``addopts`` is lifted. A marker expression given on the command line is kept
    (``CI=true pytest -m "not slow"`` still leaves them out). Locally, ``pytest -m ""`` runs everything."""
    if in_ci() and config.option.markexpr == DEFAULT_MARKEXPR \
            and not _explicit_markexpr(config.invocation_params.args):
        config.option.markexpr = ""


def pytest_report_header(config):
    if in_ci():
        return f"larvasim: CI=true, marker expression {config.option.markexpr!r} (slow tests included unless -m says)"


@pytest.fixture(scope="session", autouse=True)
def _session_cache(tmp_path_factory):
    """Keep every test's compiled caches out of the user's cache."""
    old = os.environ.get("LARVASIM_CACHE")
    os.environ["LARVASIM_CACHE"] = str(tmp_path_factory.mktemp("larvasim-cache"))
    yield
    if old is None:
        os.environ.pop("LARVASIM_CACHE", None)
    else:
        os.environ["LARVASIM_CACHE"] = old


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch) -> Path:
    """An empty cache directory for one test."""
    d = tmp_path / "cache"
    monkeypatch.setenv("LARVASIM_CACHE", str(d))
    return d


@pytest.fixture(scope="session")
def real_data_dir() -> Path:
    """The real data directory (``$LARVASIM_DATA``)."""
    env = os.environ.get("LARVASIM_DATA")
    reason = None
    if not env:
        reason = "LARVASIM_DATA is not set (point it at a folder with winding2023/Supplementary-Data-S1.zip)"
    elif not (Path(env) / "winding2023" / "Supplementary-Data-S1.zip").is_file():
        reason = f"LARVASIM_DATA={env} does not hold winding2023/Supplementary-Data-S1.zip"
    if reason:
        if in_ci():
            pytest.fail(f"real-data test cannot run in CI: {reason}")
        pytest.skip(reason)
    return Path(env).resolve()


@pytest.fixture(scope="session")
def real_connectome(real_data_dir):
    """The Winding et al. 2023 connectome, loaded once per test session."""
    import connectomes

    return connectomes.load("winding2023", data_dir=real_data_dir)


@pytest.fixture
def toy(tmp_path):
    """A synthetic connectome in the Data S1 formats (extracted folder)."""
    return write_winding_format(tmp_path / "toy", seed=1)


@pytest.fixture
def toy_zip(tmp_path):
    """A synthetic connectome zipped like the published Data S1."""
    return write_winding_format(tmp_path / "toyzip", seed=2, zipped=True)


def pytest_collection_modifyitems(config, items):
    """Every test that needs the real data (directly or through a fixture) carries the ``realdata`` mark,
    so ``-m realdata`` / ``-m "not realdata"`` select exactly them."""
    for item in items:
        if "real_data_dir" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.realdata)


# Property-based tests (hypothesis): one fixed, derandomized profile, so a run (and CI) is reproducible;
# HYPOTHESIS_PROFILE=dev explores new random inputs instead.
try:
    from hypothesis import settings as _hyp_settings

    _hyp_settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
    _hyp_settings.register_profile("dev", deadline=None)
    _hyp_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
except ImportError:  # hypothesis is in the test extra; without it the property tests fail to import
    pass
