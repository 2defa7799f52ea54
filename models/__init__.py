"""Neuron models and parameter sets of larvasim.

Public API
----------
get_model(name="larval_lif", **overrides)
    A neuron model with its defaults (see :func:`available_models`).
LarvalLIF
    The default: Shiu et al.'s current-based LIF with larval weights (normalised by
    each neuron's input size, calibrated on published larval findings).
CurrentLIF
    Current-based LIF of the whole adult fly brain (Shiu et al. 2024).
ConductanceAdaptiveLIF
    Conductance-based adaptive LIF with cell classes (Jürgensen et al. 2024).
Parameter, ParameterSet
    Values with unit and source; overridable, serialisable.
"""

from .neurons import CLASS_PARAMETERS, SYNAPSE_KINDS, ConductanceAdaptiveLIF, CurrentLIF, LarvalLIF, NeuronModel, larval_calibration
from .parameters import (
    OVERRIDE_PREFIX,
    Parameter,
    ParameterDimensionError,
    ParameterSet,
    UnknownParameterError,
    parse_unit,
)
from .registry import ADULT_MODEL, DEFAULT_MODEL, DEFAULT_SIGNS, available_models, get_model, register_model
from .signs import (
    MODULATORY_CHOICES,
    MODULATORY_TRANSMITTERS,
    POLICIES,
    SignAssignment,
    SignCSVError,
    SignPolicyError,
    assign_signs,
    available_policies,
    literature_transmitters,
    neuron_names,
)

__all__ = [
    "CLASS_PARAMETERS",
    "ADULT_MODEL",
    "DEFAULT_MODEL",
    "DEFAULT_SIGNS",
    "OVERRIDE_PREFIX",
    "SYNAPSE_KINDS",
    "ConductanceAdaptiveLIF",
    "CurrentLIF",
    "LarvalLIF",
    "larval_calibration",
    "NeuronModel",
    "Parameter",
    "ParameterDimensionError",
    "ParameterSet",
    "UnknownParameterError",
    "available_models",
    "get_model",
    "parse_unit",
    "register_model",
    "MODULATORY_CHOICES",
    "MODULATORY_TRANSMITTERS",
    "POLICIES",
    "SignAssignment",
    "SignCSVError",
    "SignPolicyError",
    "assign_signs",
    "available_policies",
    "literature_transmitters",
    "neuron_names",
]
