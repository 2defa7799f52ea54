"""A blind second reading of every testable finding's expected outcome (double extraction).

Every number of the biology benchmark rests on one reader's translation of a paper into a row of
``experiments/data/findings.toml``: which test, which neurons, and above all which outcome counts as published
(``expect``). Systematic reviews guard that step with a second, independent extraction; this module holds ours
(``experiments/data/findings_second_reading.csv``) and compares it with the table.

The design, fixed before any second reading was made (2026-12-05, session 37)
-----------------------------------------------------------------------------
* Scope: every finding the table marks testable (44), of both halves, hits and misses alike.
* Blind: the second reader gets for each finding the citation, DOI, figure, where the first reader read it, the
  test type and its selections (what was stimulated, silenced or paired, and what was read out), and the
  benchmark's definition of each test type and outcome (:mod:`experiments.biology`); not the first reading's
  ``expect``, ``finding``, ``quote``, ``size`` or ``note``, and no model result. The reader finds the passage
  and states the published outcome in the benchmark's terms (``increase``, ``decrease``, ``no_change``;
  ``greater`` / ``less`` for a compare test), or ``undetermined`` where the text that can be read does not
  decide it, with a quote and what was read.
* Compared per finding: ``agree`` (same outcome), ``disagree`` or ``undetermined``.
* What it decides: nothing in the table by itself. The report gives the agreement, every disagreement with both
  readings, and, as a sensitivity analysis, the default model's accuracy per half on the findings both readings
  agree on (the statuses of ``docs/biology.json``; no model is run). A row changes only in a later, separate
  commit, after the passage has been read again, and such a change is reported with its effect on the score,
  whichever way it goes.
"""
from __future__ import annotations
