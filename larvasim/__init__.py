"""larvasim: whole-brain spiking simulations of the Drosophila larva.

The work is split by the data's path: :mod:`connectomes` (loading,
provenance, selection) -> :mod:`models` (neuron, synapse and plasticity models)
-> :mod:`sim` (networks, runs, results) -> :mod:`experiments` (protocols).
This package holds the command-line interface and the version.
"""
from .util import larvasim_version

__version__ = larvasim_version()
__all__ = ["__version__"]
