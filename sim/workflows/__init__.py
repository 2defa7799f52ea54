"""Workflows around :class:`sim.Network`: run files (:mod:`sim.workflows.config`) and parameter
sweeps, local or on Dask, with their resumable store (:mod:`sim.workflows.sweep`,
:mod:`sim.workflows.sweep_store`)."""
