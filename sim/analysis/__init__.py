"""Analysis beside the simulation: signal cascades on the graph (:mod:`sim.analysis.cascade`),
figures (:mod:`sim.analysis.plots`) and a neuron's synaptic input in a run, by presynaptic group
(:mod:`sim.analysis.inputs`: why did it respond?) and the chains of strong connections between two
groups of neurons (:mod:`sim.analysis.pathways`: through which neurons?). Rates, latencies and readouts of a run are
methods of :class:`sim.Results`."""
