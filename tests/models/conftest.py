"""Shared fixtures for the neuron-model tests.

Brian2 runs with the "numpy" code-generation target so that the tests need
no C++ compilation.  This folder is the package ``tests.models`` (it needs
``tests/__init__.py`` next to it, so that it never imports as a top-level
``models`` that would shadow the project's package).
"""

import pytest
from brian2 import defaultclock, prefs


@pytest.fixture(autouse=True)
def numpy_target():
    """Run Brian2 with the numpy target and restore the global settings afterwards."""
    old_target, old_dt = prefs.codegen.target, defaultclock.dt
    prefs.codegen.target = "numpy"
    yield
    prefs.codegen.target = old_target
    defaultclock.dt = old_dt
