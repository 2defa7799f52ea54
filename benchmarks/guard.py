"""Regression guards for the benchmark scripts (``--guard``).

A guard compares a ratio measured in one run (engine against its baseline, stepped against one
run, ...) with a bound far below the documented figure (docs/benchmarks.md), so that only a large
regression fails, never the difference between two machines. ``tests/test_benchmarks.py`` runs every
script at a reduced size with ``--guard`` (in CI too) and prints the figures.
"""
from __future__ import annotations

import sys


class Guards:
    """Collect guard checks; :meth:`exit_code` is 1 when any failed (and guards are enabled).

    Parameters
    ----------
    enabled : bool
        ``--guard`` given: failures set the exit code. Without it the checks are only printed.
    """

    def __init__(self, enabled: bool):
        self.enabled = bool(enabled)
        self.failed: list[str] = []

    def check(self, name: str, value: float, *, at_least: float | None = None, at_most: float | None = None,
              documented: str = "") -> bool:
        """Print one guard line; record a failure when ``value`` is outside the bound."""
        ok = (at_least is None or value >= at_least) and (at_most is None or value <= at_most)
        bound = f">= {at_least:g}" if at_least is not None else f"<= {at_most:g}"
        doc = f"; documented {documented}" if documented else ""
        print(f"guard     {name}: {value:.3g} (bound {bound}{doc}) {'ok' if ok else 'REGRESSION'}")
        if not ok:
            self.failed.append(name)
        return ok

    def require(self, name: str, condition: bool) -> bool:
        """A correctness guard (e.g. identical spikes): must hold whenever the script runs."""
        print(f"guard     {name}: {'ok' if condition else 'FAILED'}")
        if not condition:
            self.failed.append(name)
        return condition

    def exit_code(self) -> int:
        if self.failed and self.enabled:
            print(f"benchmark guards failed: {', '.join(self.failed)}", file=sys.stderr)
            return 1
        return 0
