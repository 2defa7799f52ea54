"""Analysis beside the simulation: signal cascades on the graph (:mod:`sim.analysis.cascade`) and
figures (:mod:`sim.analysis.plots`). Rates, latencies and readouts of a run are methods of
:class:`sim.Results`."""
