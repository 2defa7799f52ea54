"""Leaky integrate-and-fire neuron models for Brian2 network builders.

A neuron model bundles everything needed to turn a connectome into a Brian2
network: the model equations, threshold, reset, refractoriness, integration
method, the namespace of constants, per-neuron initial values, and the
synapse model with its ``on_pre`` code.  Every number comes from a
:class:`~models.parameters.ParameterSet` that records its unit and source.

Synapse contract
----------------
Connectome edges are ``(pre, post, count, sign)`` with ``count`` the number of
synapses and ``sign`` +1 (excitatory presynaptic neuron) or -1 (inhibitory).
For every model:

* the synapse model is :attr:`NeuronModel.synapse_model` (one per-synapse
  variable ``w``);
* ``w = model.synaptic_weights(count, sign)``;
* ``on_pre = model.on_pre("excitatory")`` for edges with sign +1 and
  ``model.on_pre("inhibitory")`` for sign -1;
* the delay is :attr:`NeuronModel.synaptic_delay`.

For :class:`CurrentLIF` the weight is signed (``w = sign x count x w_syn``,
as in Shiu et al. 2024) and both kinds share the ``on_pre`` code ``g += w``,
so :attr:`NeuronModel.shared_pathway` is True and one ``Synapses`` object can
hold all edges.  For :class:`ConductanceAdaptiveLIF` the weight is a
positive conductance (``count x w_syn_e`` or ``count x w_syn_i``) that goes to
``g_e`` or ``g_i``; ``shared_pathway`` is False and the builder creates one
``Synapses`` object per kind::

    model = get_model("conductance_lif")
    group = model.neuron_group(n, cell_classes=labels)
    kinds = [("excitatory", sign > 0), ("inhibitory", sign < 0)]
    if model.shared_pathway:
        kinds = [("excitatory", np.ones_like(sign, dtype=bool))]
    for kind, mask in kinds:
        syn = Synapses(group, group, **model.synapses_kwargs(kind))
        syn.connect(i=pre[mask], j=post[mask])
        syn.w = model.synaptic_weights(count[mask], sign[mask])

All models integrate at :attr:`NeuronModel.dt`; set ``defaultclock.dt`` (or
pass ``dt``) accordingly.

Module size: over 600 lines because it holds the three neuron models with their sourced
parameter sets (Shiu et al.'s adult model, the larval model, Jürgensen et al.'s conductance
model); each model is one class.
"""

from __future__ import annotations

import abc
import difflib
import functools
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
from brian2 import Equations, NeuronGroup, Quantity, get_dimensions
from brian2.units import Hz, mV, ms, nS, pA, pF
from brian2.utils.stringtools import get_identifiers

from .parameters import Parameter, ParameterSet, UnknownParameterError, parse_unit

__all__ = [
    "NeuronModel",
    "CurrentLIF",
    "LarvalLIF",
    "ConductanceAdaptiveLIF",
    "CLASS_PARAMETERS",
    "SYNAPSE_KINDS",
]

#: The two presynaptic kinds understood by :meth:`NeuronModel.on_pre`.
SYNAPSE_KINDS = ("excitatory", "inhibitory")


def _as_labels(cell_classes: Sequence[Any] | np.ndarray | None, n: int | None) -> tuple[int, np.ndarray | None]:
    """Validate ``n``/``cell_classes`` and return ``(n, labels or None)``."""
    if cell_classes is None:
        if n is None:
            raise ValueError("give the number of neurons n or a sequence of cell_classes")
        if int(n) != n or n < 0:
            raise ValueError(f"n must be a non-negative integer, got {n!r}")
        return int(n), None
    labels = np.asarray(cell_classes, dtype=object)
    if labels.ndim != 1:
        raise ValueError(f"cell_classes must be one-dimensional, got shape {labels.shape}")
    if n is not None and n != len(labels):
        raise ValueError(f"n={n} does not match len(cell_classes)={len(labels)}")
    return len(labels), labels


#: Physical ranges of model parameters, by name: ("> 0" or ">= 0"). Every numeric value must also be finite.
PHYSICAL_RANGES = {
    "tau_m": "> 0", "tau_syn": "> 0", "tau_e": "> 0", "tau_i": "> 0", "tau_a": "> 0", "dt": "> 0",
    "t_ref": ">= 0", "delay": ">= 0", "w_syn": ">= 0", "w_syn_e": ">= 0", "w_syn_i": ">= 0",
    "mbon_gain": ">= 0", "mbin_gain": ">= 0", "kc_gain": ">= 0", "inh_scale": ">= 0", "n_ref": "> 0",
    "drive_weight": ">= 0", "poisson_rate": ">= 0",
    "poisson_weight_factor": ">= 0", "adapt_increment": ">= 0", "tau_adapt": "> 0",
}


def check_physical_ranges(parameters: ParameterSet, owner: str = "model") -> None:
    """Raise ``ValueError`` naming a parameter whose value is not finite or outside :data:`PHYSICAL_RANGES`
    (e.g. ``w_syn = 1e400 mV``, ``tau_m = 0 ms``, ``w_syn = -1 mV``); and ``v_th`` must lie above ``v_reset``."""
    for name in parameters:
        p = parameters[name]
        try:
            mag = np.asarray(p.magnitude, dtype=float)
        except (TypeError, ValueError):
            continue
        if not np.all(np.isfinite(mag)):
            raise ValueError(f"{owner}: parameter {name} must be finite, got {p.value}")
        rule = PHYSICAL_RANGES.get(name)
        if rule == "> 0" and not np.all(mag > 0):
            raise ValueError(f"{owner}: parameter {name} must be > 0, got {p.value}")
        if rule == ">= 0" and not np.all(mag >= 0):
            raise ValueError(f"{owner}: parameter {name} must be >= 0, got {p.value}")
    names = parameters.names
    if "v_th" in names and "v_reset" in names:
        if not float(parameters["v_th"].magnitude) > float(parameters["v_reset"].magnitude):
            raise ValueError(f"{owner}: v_th ({parameters['v_th'].value}) must be above v_reset "
                             f"({parameters['v_reset'].value})")


class NeuronModel(abc.ABC):
    """Base class of larvasim neuron models.

    Subclasses define the equations and the parameter sets; this class
    provides the Brian2 plumbing.  Models are immutable: use
    :meth:`with_overrides` to obtain a modified copy.
    """

    #: Registry name (see :func:`models.get_model`).
    name: ClassVar[str]
    #: Per-neuron variable that adds a constant external drive (0 by default).
    drive_variable: ClassVar[str]
    #: Per-synapse variable declaration of the synapse model.
    synapse_model: ClassVar[str]
    #: Whether excitatory and inhibitory synapses share the same ``on_pre``
    #: code (signed weights), so one ``Synapses`` object suffices.
    shared_pathway: ClassVar[bool]
    #: Refractoriness is the per-neuron variable ``t_ref`` (seconds), so that a
    #: builder can change it per neuron (Shiu et al. set it to 0 for neurons
    #: driven by Poisson input).
    refractory: ClassVar[str] = "t_ref"
    #: Kernel of the numba engine (:mod:`sim.engine_numba`) that integrates
    #: this model's equations; ``None``: the engine cannot run it. A subclass
    #: that keeps its parent's equations keeps its parent's kernel.
    engine_kernel: ClassVar[str | None] = None

    @property
    def synapse_types(self) -> tuple[str, ...] | None:
        """Synapse types the model is meant to run on (``None``: all of the connectome's).

        A network built without ``synapse_types`` uses these.
        """
        return None

    _EQUATIONS: ClassVar[str]
    _THRESHOLD: ClassVar[str]
    _RESET: ClassVar[str]
    _ON_PRE: ClassVar[Mapping[str, str]]

    def __init__(self, parameters: ParameterSet, method: str):
        if not isinstance(parameters, ParameterSet):
            raise TypeError(f"parameters must be a ParameterSet, got {type(parameters).__name__}")
        missing = [n for n in self.default_parameters() if n not in parameters]
        if missing:
            raise ValueError(f"{type(self).__name__}: parameter set lacks {missing}")
        check_physical_ranges(parameters, type(self).__name__)
        self._parameters = parameters
        self._method = method

    # -- parameters ---------------------------------------------------------------
    @classmethod
    @abc.abstractmethod
    def default_parameters(cls) -> ParameterSet:
        """The published default parameter set of the model."""

    @property
    def parameters(self) -> ParameterSet:
        """Shared (not cell-class specific) parameters."""
        return self._parameters

    @abc.abstractmethod
    def with_overrides(self, **overrides: Any) -> NeuronModel:
        """Return a copy of the model with some parameters overridden."""

    @property
    def dt(self) -> Quantity:
        """Integration time step (second)."""
        return self._parameters["dt"].value

    @property
    def synaptic_delay(self) -> Quantity:
        """Synaptic transmission delay (second)."""
        return self._parameters["delay"].value

    # -- neuron group -----------------------------------------------------------------
    @property
    def method(self) -> str:
        """Brian2 integration method."""
        return self._method

    @property
    def equations(self) -> str:
        """Brian2 model equations."""
        return self._EQUATIONS

    @property
    def threshold(self) -> str:
        """Brian2 threshold condition."""
        return self._THRESHOLD

    @property
    def reset(self) -> str:
        """Brian2 reset statements."""
        return self._RESET

    def namespace(self) -> dict[str, Any]:
        """Constants used by the equations, threshold and reset.

        Only shared parameters that the neuron code refers to are included
        (per-neuron variables such as ``t_ref`` are set via
        :meth:`initial_values`, and ``dt``/``delay`` are not constants of the
        neuron code).

        Returns
        -------
        dict
            ``{name: brian2.Quantity}``.
        """
        eqs = Equations(self.equations)
        used = (eqs.identifiers | get_identifiers(self.threshold) | get_identifiers(self.reset)) - set(eqs.names)
        return self._parameters.namespace(n for n in self._parameters if n in used)

    def neuron_group_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``brian2.NeuronGroup(N, **kwargs)``."""
        return {
            "model": self.equations,
            "threshold": self.threshold,
            "reset": self.reset,
            "refractory": self.refractory,
            "method": self.method,
            "namespace": self.namespace(),
        }

    @abc.abstractmethod
    def initial_values(self, n: int | None = None, cell_classes: Sequence[Any] | None = None) -> dict[str, Quantity]:
        """Per-neuron initial values of all state variables and per-neuron constants.

        Parameters
        ----------
        n : int, optional
            Number of neurons (may be omitted if ``cell_classes`` is given).
        cell_classes : sequence of str or None, optional
            Cell-class label of each neuron (see the model's documentation).

        Returns
        -------
        dict
            ``{variable: brian2.Quantity array of length n}``.
        """

    def neuron_group(
        self,
        n: int | None = None,
        cell_classes: Sequence[Any] | None = None,
        **kwargs: Any,
    ) -> NeuronGroup:
        """Create and initialise a ``NeuronGroup``.

        Parameters
        ----------
        n : int, optional
            Number of neurons (may be omitted if ``cell_classes`` is given).
        cell_classes : sequence of str or None, optional
            Cell-class label per neuron.
        **kwargs
            Passed to ``NeuronGroup`` (e.g. ``name``, ``dt``).

        Returns
        -------
        brian2.NeuronGroup
        """
        n, _ = _as_labels(cell_classes, n)
        group = NeuronGroup(n, **self.neuron_group_kwargs(), **kwargs)
        for var, values in self.initial_values(n, cell_classes).items():
            setattr(group, var, values)
        return group

    # -- synapses -----------------------------------------------------------------------
    def on_pre(self, kind: str) -> str:
        """``on_pre`` code for a synapse from an excitatory or inhibitory neuron.

        Parameters
        ----------
        kind : {"excitatory", "inhibitory"}

        Returns
        -------
        str
        """
        if kind not in self._ON_PRE:
            raise ValueError(f"kind must be one of {SYNAPSE_KINDS}, got {kind!r}")
        return self._ON_PRE[kind]

    def synapses_kwargs(self, kind: str) -> dict[str, Any]:
        """Keyword arguments for ``brian2.Synapses(source, target, **kwargs)``.

        Parameters
        ----------
        kind : {"excitatory", "inhibitory"}
            Kind of the presynaptic neurons of this pathway.
        """
        return {
            "model": self.synapse_model,
            "on_pre": self.on_pre(kind),
            "delay": self.synaptic_delay,
        }

    @abc.abstractmethod
    def synaptic_weights(self, counts: Any, signs: Any) -> Quantity:
        """Per-synapse weights ``w`` from synapse counts and presynaptic signs.

        Parameters
        ----------
        counts : array_like of int
            Number of synapses of each connection (>= 0).
        signs : array_like of {+1, -1} or int
            +1 for an excitatory, -1 for an inhibitory presynaptic neuron
            (broadcast against ``counts``).

        Returns
        -------
        brian2.Quantity
            Values for the ``w`` variable of :attr:`synapse_model`.
        """

    def input_scale(self, n_inputs: Any, celltypes: Any = None) -> np.ndarray:
        """Factor on every incoming weight of each neuron, from its number of input synapses.

        The weight of a connection onto neuron ``j`` is
        ``synaptic_weights(count, sign) x input_scale(n_inputs, celltypes)[j]``,
        where ``n_inputs[j]`` is the total number of synapses onto ``j`` (of the
        synapse types in use). The default is 1 for every neuron (weights do
        not depend on the postsynaptic neuron).

        Parameters
        ----------
        n_inputs : array_like of float
            Input synapses per neuron.
        celltypes : array_like of str, optional
            Cell type of each neuron (the connectome's ``celltype`` column), for
            models with class-specific gains.

        Returns
        -------
        ndarray of float
        """
        return np.ones(np.asarray(n_inputs).shape, dtype=float)

    def min_input_fraction(self) -> float:
        """The smallest share of its target's input a connection needs to be kept (0: every connection is kept).

        The network builder leaves out every connection whose synapse count is below this share of the total
        input synapses of its postsynaptic neuron (of the synapse types in use). The default is 0; a candidate
        structure may set it (:meth:`LarvalLIF.with_min_input_fraction`).
        """
        return 0.0

    def presynaptic_scale(self, transmitters: Any) -> np.ndarray | None:
        """Factor on the inhibitory synapses of each presynaptic neuron, from its transmitter; ``None`` for none.

        The network builder multiplies the weight of every inhibitory synapse (``sign < 0``) of neuron ``i`` by
        ``presynaptic_scale(transmitters)[i]``. The default model has no such factor (``None``); a candidate
        structure may (:meth:`LarvalLIF.with_glu_scale`).

        Parameters
        ----------
        transmitters : array_like of str or None
            The canonical transmitter behind each neuron's sign (:attr:`models.signs.SignAssignment.transmitters`;
            ``None`` where unknown).

        Returns
        -------
        ndarray of float, or None
        """
        return None

    @staticmethod
    def _check_counts_signs(counts: Any, signs: Any) -> tuple[np.ndarray, np.ndarray]:
        counts_arr = np.asarray(counts)
        signs_arr = np.asarray(signs)
        if isinstance(counts, Quantity) or isinstance(signs, Quantity):
            raise ValueError("counts and signs must be plain numbers")
        if counts_arr.size and (np.any(counts_arr < 0) or np.any(counts_arr != np.round(counts_arr))):
            raise ValueError("synapse counts must be non-negative integers")
        if signs_arr.size and not np.all(np.isin(signs_arr, (-1, 1))):
            raise ValueError("signs must be +1 (excitatory) or -1 (inhibitory)")
        counts_arr, signs_arr = np.broadcast_arrays(counts_arr.astype(float), signs_arr.astype(float))
        return counts_arr, signs_arr

    # -- provenance -----------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable description (model name, method, parameters)."""
        return {"model": self.name, "method": self.method, "parameters": self._parameters.to_dict()}

    def __str__(self) -> str:
        return (
            f"{type(self).__name__} ({self.name!r}, method={self.method!r})\n"
            f"equations:{self.equations}threshold: {self.threshold}\nreset: {self.reset}\n"
            f"refractory: {self.refractory}\n{self._parameters.table()}"
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(method={self.method!r}, parameters={self._parameters!r})"


# ---------------------------------------------------------------------------
# Current-based LIF of Shiu et al. 2024
# ---------------------------------------------------------------------------

_SHIU = "Shiu et al. 2024, Nature 634:210"
_SHIU_CODE = "philshiu/Drosophila_brain_model model.py default_params"


class CurrentLIF(NeuronModel):
    """Current-based LIF model of the whole adult fly brain (Shiu et al. 2024).

    Equations (``v`` membrane potential, ``g`` synaptic input in volts)::

        dv/dt = (v_rest - v + g + u_ext) / tau_m   (unless refractory)
        dg/dt = -g / tau_syn                      (unless refractory)
        threshold: v > v_th
        reset:     v = v_reset; g = 0 mV
        refractory period: t_ref (per neuron), integration: exact ("linear")

    These follow ``model.py`` of philshiu/Drosophila_brain_model: both
    variables are frozen while refractory, and because Brian2 makes
    ``(unless refractory)`` variables write-protected during the refractory
    period, synaptic input (``g += w``) arriving then is dropped.  The reset
    also clears ``g``.  ``u_ext`` (volt, default 0) is a per-neuron constant
    drive (R_m x I_ext) that is not part of Shiu et al.'s model; it only adds
    a term that is zero unless a protocol sets it.

    Each presynaptic spike adds ``w = sign x count x w_syn`` to ``g`` after
    ``delay``.

    Brian2 timing (relevant for reimplementations): a step integrates, then
    tests the threshold, and labels a spike with the step's start time;
    integration resumes when ``timestep(t - lastspike) >= timestep(t_ref)``.
    Under a constant drive the inter-spike interval is therefore
    ``dt * (max(t_ref/dt - 1, 0) + ceil(T/dt))``, ``T`` being the analytic
    rise time from reset to threshold.  Synaptic effects land at the end of a
    step, i.e. ``delay + dt`` after the presynaptic spike label.

    Parameters
    ----------
    parameters : ParameterSet, optional
        Defaults to :meth:`default_parameters`.
    method : str, optional
        Brian2 integration method; ``"linear"`` (exact) as in Shiu et al.
    """

    name = "current_lif"
    engine_kernel = "current_lif"
    drive_variable = "u_ext"
    synapse_model = "w : volt"
    shared_pathway = True

    _EQUATIONS = """
dv/dt = (v_rest - v + g + u_ext) / tau_m : volt (unless refractory)
dg/dt = -g / tau_syn : volt (unless refractory)
u_ext : volt
t_ref : second (constant)
"""
    _THRESHOLD = "v > v_th"
    _RESET = "v = v_reset\ng = 0*mV"
    _ON_PRE = {"excitatory": "g += w", "inhibitory": "g += w"}

    def __init__(self, parameters: ParameterSet | None = None, method: str = "linear"):
        super().__init__(self.default_parameters() if parameters is None else parameters, method)

    @classmethod
    def default_parameters(cls) -> ParameterSet:
        """Parameters of Shiu et al. 2024 with their sources."""
        code = _SHIU_CODE
        return ParameterSet(
            [
                Parameter("v_rest", -52 * mV, "mV",
                          f"{_SHIU}; {code}['v_0'] (cites Kakaria & de Bivort 2017, doi:10.3389/fnbeh.2017.00008)",
                          "resting potential"),
                Parameter("v_reset", -52 * mV, "mV",
                          f"{_SHIU}; {code}['v_rst'] (cites Kakaria & de Bivort 2017)",
                          "reset potential after a spike"),
                Parameter("v_th", -45 * mV, "mV",
                          f"{_SHIU}; {code}['v_th'] (cites Kakaria & de Bivort 2017)",
                          "spike threshold"),
                Parameter("tau_m", 20 * ms, "ms",
                          f"{_SHIU}; {code}['t_mbr'] (cites Kakaria & de Bivort 2017)",
                          "membrane time constant"),
                Parameter("tau_syn", 5 * ms, "ms",
                          f"{_SHIU}; {code}['tau'] (cites Jürgensen et al. 2021, doi:10.1088/2634-4386/ac3ba6)",
                          "decay time constant of the synaptic input g"),
                Parameter("t_ref", 2.2 * ms, "ms",
                          f"{_SHIU}; {code}['t_rfc'] (cites Lazar et al. 2021, doi:10.7554/eLife.62362)",
                          "absolute refractory period (initial value of the per-neuron t_ref)"),
                Parameter("delay", 1.8 * ms, "ms",
                          f"{_SHIU}; {code}['t_dly'] (cites Paul et al. 2015, doi:10.3389/fncel.2015.00029)",
                          "synaptic delay"),
                Parameter("w_syn", 0.275 * mV, "mV",
                          f"free parameter ({_SHIU}; {code}['w_syn'])",
                          "increment of g per synapse (w = sign x count x w_syn)"),
                Parameter("dt", 0.1 * ms, "ms",
                          f"Brian2 default defaultclock.dt, not changed by {code.split(' default')[0]}",
                          "integration time step"),
                Parameter("poisson_rate", 150 * Hz, "Hz",
                          f"{_SHIU}; {code}['r_poi']",
                          "rate of the Poisson input used to activate neurons (stimulation protocols)"),
                Parameter("poisson_weight_factor", 250, "1",
                          f"{_SHIU}; {code}['f_poi']",
                          "Poisson input adds poisson_weight_factor x w_syn to v per input spike"),
            ],
            name=cls.name,
        )

    def with_overrides(self, **overrides: Any) -> CurrentLIF:
        """Return a copy with parameters overridden (see :meth:`ParameterSet.override`)."""
        return CurrentLIF(self._parameters.override(**overrides), method=self._method)

    def initial_values(self, n: int | None = None, cell_classes: Sequence[Any] | None = None) -> dict[str, Quantity]:
        """Initial values: ``v = v_rest``, ``g = 0``, ``u_ext = 0``, ``t_ref``.

        All neurons share one parameter set; ``cell_classes`` is accepted for
        interface uniformity and only its length is used.
        """
        n, _ = _as_labels(cell_classes, n)
        p = self._parameters
        return {
            "v": np.full(n, float(p["v_rest"].value / mV)) * mV,
            "g": np.zeros(n) * mV,
            "u_ext": np.zeros(n) * mV,
            "t_ref": np.full(n, float(p["t_ref"].value / ms)) * ms,
        }

    def synaptic_weights(self, counts: Any, signs: Any) -> Quantity:
        """``w = sign x count x w_syn`` (volt)."""
        counts_arr, signs_arr = self._check_counts_signs(counts, signs)
        return signs_arr * counts_arr * self._parameters["w_syn"].value



# ---------------------------------------------------------------------------
# Larval current-based LIF: Shiu et al.'s equations, larval weights
# ---------------------------------------------------------------------------

#: Calibrated values of :class:`LarvalLIF`, written by ``experiments/calibrate.py``.
LARVAL_CALIBRATION = "larval_calibration.json"


def larval_calibration() -> dict:
    """The calibration record of :class:`LarvalLIF` (``models/data/larval_calibration.json``).

    Returns
    -------
    dict
        ``{"script", "objective", "seed", "parameters": {name: {"value", "unit"}}, ...}``
        as written by ``experiments/calibrate.py``.
    """
    import json

    return json.loads(_calibration_text())  # a fresh dict each call: callers may modify it


@functools.lru_cache(maxsize=1)
def _calibration_text() -> str:
    """The calibration file's text, read once per process (every model and network build asks for it)."""
    from importlib import resources

    return resources.files("models").joinpath("data", LARVAL_CALIBRATION).read_text(encoding="utf-8")


_SPIKE_DRIVE_SOURCE = ("derived: (v_th - v_rest) + the highest reachable threshold rise, adapt_increment / "
                       "(1 - exp(-t_ref / tau_adapt)), rounded up to 10 mV and at least 40 mV, so every drive event "
                       "outside refractoriness makes a spike: a driven neuron fires at the drive rate")


def _spike_drive(params: ParameterSet) -> Parameter:
    """The ``drive_weight`` of a :class:`LarvalLIF` parameter set: every drive event is a spike.

    A drive event (sensory stimulus or activation) stands for a spike of the
    driven neuron, so the drive rate is its firing rate (the measured rates of
    ``models/data/sensory_rates.csv`` already include the neuron's own
    adaptation). With an adaptive threshold the jump must clear ``v_th -
    v_rest`` plus the largest ``theta`` a neuron can reach, one spike per
    refractory period: ``adapt_increment / (1 - exp(-t_ref / tau_adapt))``.
    """
    gap = float((params["v_th"].value - params["v_rest"].value) / mV)
    inc = float(params["adapt_increment"].value / mV)
    tau = float(params["tau_adapt"].value / ms)
    t_ref = float(params["t_ref"].value / ms)
    theta_max = inc / -np.expm1(-t_ref / tau) if inc > 0 else 0.0
    value = max(40.0, 10.0 * np.ceil((gap + theta_max) / 10.0))
    return Parameter("drive_weight", value * mV, "mV", _SPIKE_DRIVE_SOURCE,
                     "jump of v per drive (sensory or activation) event")


class LarvalLIF(CurrentLIF):
    """Current-based LIF with larval synaptic weights (larvasim's default model).

    The equations, reset and timing are those of :class:`CurrentLIF` plus an
    adaptive threshold (below; every device, the numba engine included, runs
    it), and the weight of a connection of ``n`` synapses from neuron ``i``
    onto neuron ``j`` is::

        w_ij = sign_i x s_i x n x w_syn x (n_ref / N_j) ** input_exponent

    with ``N_j`` the number of input synapses of ``j`` (of the synapse types in
    use), ``s_i = inh_scale`` for inhibitory and 1 for excitatory presynaptic
    neurons. ``input_exponent = 0`` is Shiu et al.'s rule (a fixed potential per
    synapse); ``input_exponent = 1`` gives every neuron the same summed input
    weight (``w_syn x n_ref``). The rationale: larval neurons differ some
    hundredfold in their number of input synapses, and a neuron with more
    synapses has more membrane and so a lower input resistance, so each synapse
    moves its potential less. The exponent is not measured; it is calibrated
    against published larval findings (``experiments/calibrate.py``, see
    ``docs/biology.md``), as are ``w_syn`` and ``inh_scale``.

    Spike-frequency adaptation (when ``adapt_increment > 0``): the threshold is
    ``v_th + theta``; every spike adds ``adapt_increment`` to ``theta``, which
    relaxes with ``tau_adapt``::

        dtheta/dt = -theta / tau_adapt        threshold: v > v_th + theta
        reset: v = v_reset; g = 0; theta += adapt_increment

    Adaptation is a firing pattern of many Drosophila central neurons (one of
    four patterns of cultured Drosophila central neurons under current steps:
    Zhao & Wu 1997, J Neurosci 17:2187, doi:10.1523/JNEUROSCI.17-06-02187.1997)
    and part of the larval mushroom-body model of Jürgensen et al. 2024
    (iScience 27:108640); its size and time constant here are not measured but
    calibrated. It bounds the rates a strongly driven neuron can sustain, so a
    model with one weight per synapse (Winding et al.'s cascades are of that
    kind) does not run away. ``adapt_increment = 0`` gives exactly the fixed
    threshold of :class:`CurrentLIF` (``theta`` stays 0).

    Each parameter's source says whether it is measured, adopted from the adult
    model, a convention, or calibrated (with the script and objective). The
    neuronal constants are larval where a larval measurement was found (resting
    potential and membrane time constant of larval motor neurons, Hunter et al.
    2024); the others (threshold distance, synaptic time constant, refractory
    period, delay) keep the adult model's values (larval synaptic delay <= 5 ms:
    Fushiki et al. 2016, eLife 5:e13253).
    """

    name = "larval_lif"
    engine_kernel = "current_lif_adapt"

    _EQUATIONS = CurrentLIF._EQUATIONS + "dtheta/dt = -theta / tau_adapt : volt\n"
    _THRESHOLD = "v > v_th + theta"
    _RESET = CurrentLIF._RESET + "\ntheta += adapt_increment"

    def __init__(self, parameters: ParameterSet | None = None, method: str = "linear"):
        super().__init__(self.default_parameters() if parameters is None else parameters, method)

    def initial_values(self, n: int | None = None, cell_classes: Sequence[Any] | None = None) -> dict[str, Quantity]:
        """Those of :class:`CurrentLIF` and ``theta = 0`` (no threshold adaptation yet)."""
        init = super().initial_values(n, cell_classes)
        init["theta"] = np.zeros(len(init["v"])) * mV
        return init

    @classmethod
    def default_parameters(cls) -> ParameterSet:
        """Adult neuronal constants, larval weights (calibrated; see the class docstring)."""
        adult = CurrentLIF.default_parameters()
        cal = larval_calibration()
        where = f"calibrated: {cal['script']} ({cal['objective_name']}; seed {cal['seed']}; docs/biology.md)"
        fitted = {k: float(v["value"]) * parse_unit(v["unit"]) for k, v in cal["parameters"].items()}
        searched = cal.get("searched", list(fitted))
        fixed_by = (f"not searched: fixed by the calibrated structure {cal.get('structure', '')!r} "
                    f"({cal['script']}; docs/biology.md)")

        def src(name):
            return where if name in searched else fixed_by

        mb = cal.get("mushroom_body") or {}
        for k, v in (mb.get("parameters") or {}).items():
            if k in ("mbon_gain", "mbin_gain"):
                fitted[k] = float(v["value"]) * parse_unit(v["unit"])
        where_mb = (f"calibrated: {cal['script']} (stage 2, {mb.get('objective_name', '')}; seed "
                    f"{mb.get('seed', cal['seed'])}; docs/biology.md)")
        hunter = "Hunter et al. 2024, eLife 12:RP91599 (larval aCC motor neurons, whole-cell, n = 16)"
        measured = {
            "v_rest": Parameter("v_rest", -47.8 * mV, "mV", f"{hunter}: resting potential -47.8 +/- 1.3 mV",
                                "resting potential"),
            "v_reset": Parameter("v_reset", -47.8 * mV, "mV", "set to v_rest, as in the adult model (Shiu et al. 2024)",
                                 "reset potential after a spike"),
            "v_th": Parameter("v_th", -40.8 * mV, "mV",
                              "no larval measurement found: the adult model's 7 mV from rest to threshold "
                              "(Shiu et al. 2024) on the larval resting potential", "spike threshold"),
            "tau_m": Parameter("tau_m", 17.8 * ms, "ms",
                               f"derived, not measured directly: R_in x C_m = 765 MOhm x 23.2 pF ({hunter})",
                               "membrane time constant"),
        }
        drop = ("w_syn", "poisson_rate", "poisson_weight_factor")
        keep = [measured.get(n, adult[n]) for n in adult if n not in drop]
        larval = [
            Parameter("w_syn", fitted["w_syn"], "mV", src("w_syn"),
                      "potential per synapse onto a neuron with n_ref input synapses"),
            Parameter("input_exponent", fitted["input_exponent"], "1", src("input_exponent"),
                      "weights onto neuron j scale as (n_ref / N_j) ** input_exponent"),
            Parameter("n_ref", 100, "1",
                      "convention (not fitted): the input size at which w_syn is the potential per synapse",
                      "reference number of input synapses"),
            Parameter("inh_scale", fitted["inh_scale"], "1", src("inh_scale"),
                      "weight of an inhibitory synapse relative to an excitatory one"),
            Parameter("mbon_gain", fitted.get("mbon_gain", 1.0),
                      "1", where_mb if "mbon_gain" in fitted else "not calibrated: no class gain",
                      "extra factor on every input weight of a mushroom-body output neuron (MBON)"),
            Parameter("mbin_gain", fitted.get("mbin_gain", 1.0),
                      "1", where_mb if "mbin_gain" in fitted else "not calibrated: no class gain",
                      "extra factor on every input weight of a mushroom-body input neuron (MBIN: DANs, OANs)"),
            Parameter("adapt_increment", fitted.get("adapt_increment", 0 * mV), "mV",
                      src("adapt_increment") if "adapt_increment" in fitted else "the calibrated structure has no adaptation",
                      "rise of the threshold (theta) at each spike: spike-frequency adaptation"),
            Parameter("tau_adapt", fitted.get("tau_adapt", 100 * ms), "ms",
                      src("tau_adapt") if "tau_adapt" in fitted else "convention (no adaptation in the calibrated structure)",
                      "time constant with which the threshold rise (theta) decays"),
        ]
        if "min_input_fraction" in fitted:  # the weak-connection threshold, adopted after the calibration
            et = cal.get("edge_threshold") or {}
            larval.append(Parameter(
                "min_input_fraction", float(fitted["min_input_fraction"]), "1",
                f"calibrated: {et.get('script', 'experiments/edge_threshold.py')} ({et.get('how', '')}; "
                f"{et.get('report', 'docs/edge_threshold.md')})",
                "smallest share of its target's input synapses a kept connection makes"))
        params = ParameterSet(keep + larval, name=cls.name)
        return ParameterSet(keep + larval + [_spike_drive(params)], name=cls.name)

    @property
    def synapse_types(self) -> tuple[str, ...] | None:
        """The synapse types of the calibrated structure (``models/data/larval_calibration.json``)."""
        types = larval_calibration().get("synapse_types")
        return tuple(types) if types else None

    def with_overrides(self, **overrides: Any) -> LarvalLIF:
        """Return a copy with parameters overridden (see :meth:`ParameterSet.override`).

        ``drive_weight`` follows the overridden threshold, adaptation and
        refractory parameters (:func:`_spike_drive`) unless it is overridden
        itself or was overridden before. ``kc_gain``, which the default model
        does not have, is added as by :meth:`with_kc_gain` (source: user override).
        """
        for name, add, doc in (("glu_scale", self.with_glu_scale, "docs/glu_inhibition.md"),
                               ("kc_gain", self.with_kc_gain, "docs/kc_sparseness.md"),
                               ("min_input_fraction", self.with_min_input_fraction, "docs/edge_threshold.md")):
            # a candidate structure's parameter (the threshold always: its range is checked there)
            if name in overrides and (name not in self._parameters or name == "min_input_fraction"):
                overrides = dict(overrides)
                value = overrides.pop(name)
                try:
                    value = float(value)
                except (TypeError, ValueError):
                    raise ValueError(f"{name} = {value!r}: must be a plain number >= 0") from None
                return add(value, f"user override ({doc})").with_overrides(**overrides)
        params = self._parameters.override(**overrides)
        if "drive_weight" not in overrides and params["drive_weight"].source == _SPIKE_DRIVE_SOURCE:
            drive = _spike_drive(params)
            params = ParameterSet([drive if n == "drive_weight" else params[n] for n in params], name=params.name)
        return LarvalLIF(params, method=self._method)

    def synaptic_weights(self, counts: Any, signs: Any) -> Quantity:
        """``w = sign x count x w_syn``, times ``inh_scale`` for inhibitory connections (volt).

        The postsynaptic factor :meth:`input_scale` is applied by the network builder.
        """
        counts_arr, signs_arr = self._check_counts_signs(counts, signs)
        scale = np.where(signs_arr < 0, float(self._parameters["inh_scale"].value), 1.0)
        return signs_arr * scale * counts_arr * self._parameters["w_syn"].value

    def input_scale(self, n_inputs: Any, celltypes: Any = None) -> np.ndarray:
        """``(n_ref / max(N_j, 1)) ** input_exponent`` per neuron, times ``mbon_gain`` for MBONs.

        ``celltypes=None`` (no cell types known) applies no class gain.
        """
        n_in = np.maximum(np.asarray(n_inputs, dtype=float), 1.0)
        p = self._parameters
        scale = (float(p["n_ref"].value) / n_in) ** float(p["input_exponent"].value)
        if celltypes is not None:
            ct = np.asarray(celltypes, dtype=object)
            if ct.shape != scale.shape:
                raise ValueError(f"input_scale: {ct.shape[0] if ct.ndim else 0} cell types for "
                                 f"{scale.shape[0]} neurons")
            from connectomes.winding2023 import MBON_CELLTYPE

            scale = np.where(ct == MBON_CELLTYPE, scale * float(p["mbon_gain"].value), scale)
            if "mbin_gain" in p:
                scale = np.where(ct == "MBIN", scale * float(p["mbin_gain"].value), scale)
            if "kc_gain" in p:  # only in models made by with_kc_gain: not a parameter of the default model
                from connectomes.winding2023 import KC_CELLTYPE

                scale = np.where(ct == KC_CELLTYPE, scale * float(p["kc_gain"].value), scale)
        return scale

    def presynaptic_scale(self, transmitters: Any) -> np.ndarray | None:
        """``glu_scale`` for glutamatergic neurons and 1 for the others, or ``None`` without ``glu_scale``.

        Only models made by :meth:`with_glu_scale` have the parameter; the network builder applies the factor
        to inhibitory synapses only, on top of ``inh_scale`` (:meth:`NeuronModel.presynaptic_scale`).
        """
        if "glu_scale" not in self._parameters:
            return None
        tx = np.asarray(transmitters, dtype=object)
        return np.where(tx == "glutamate", float(self._parameters["glu_scale"].value), 1.0)

    def with_glu_scale(self, scale: float, source: str) -> LarvalLIF:
        """Return a copy whose glutamatergic neurons' inhibitory synapses weigh ``scale`` times the GABAergic ones'
        (parameter ``glu_scale``, on top of ``inh_scale``).

        The default model has no such parameter: every inhibitory synapse is ``inh_scale`` times an excitatory
        one, whatever its transmitter. Glutamate's fast inhibition is an assumption of the sign table (GluCl; see
        :mod:`models.transmitters`), and GABA and glutamate act through different receptors, so their weights
        need not be equal; ``glu_scale`` is a candidate structure (:mod:`experiments.glu_inhibition`), added with
        its ``source``. 0 leaves glutamatergic neurons without fast effect; 1 is the default model.

        Parameters
        ----------
        scale : float
            Factor (>= 0) on the inhibitory synapses of every glutamatergic neuron.
        source : str
            Where the value comes from (recorded with the parameter).
        """
        return self._with_factor("glu_scale", scale, source,
                                 "extra factor on every inhibitory synapse of a glutamatergic neuron (on top of "
                                 "inh_scale)")

    def _with_factor(self, name: str, value: float, source: str, description: str) -> LarvalLIF:
        """A copy with the dimensionless candidate parameter ``name`` (a finite factor >= 0) set to ``value``."""
        if not np.isfinite(value) or value < 0:
            raise ValueError(f"{name} = {value}: must be a finite number >= 0")
        kept = [self._parameters[n] for n in self._parameters if n != name]
        extra = Parameter(name, float(value), "1", source, description)
        return LarvalLIF(ParameterSet(kept + [extra], name=self._parameters.name), method=self._method)

    def min_input_fraction(self) -> float:
        """``min_input_fraction`` where the model has it (made by :meth:`with_min_input_fraction`), else 0."""
        p = self._parameters
        return float(p["min_input_fraction"].value) if "min_input_fraction" in p else 0.0

    def with_min_input_fraction(self, fraction: float, source: str) -> LarvalLIF:
        """Return a copy without the connections that make less than ``fraction`` of their target's input
        (parameter ``min_input_fraction``).

        The default model keeps every connection of the connectome, down to a single synapse. Weak connections,
        measured as a share of the postsynaptic neuron's input, are the least reproducible between the brain's
        two sides (Pedigo et al. 2023, eLife 12:e83739, Fig. 6); ``min_input_fraction`` is a candidate structure
        (:mod:`experiments.edge_threshold`), added with its ``source``. A connection from ``i`` to ``j`` is kept
        when its synapse count is at least ``fraction`` times ``j``'s input synapses (over the network's synapse
        types). 0 is the default model.

        Parameters
        ----------
        fraction : float
            The smallest kept share, 0 <= fraction < 1.
        source : str
            Where the value comes from (recorded with the parameter).
        """
        if not np.isfinite(fraction) or not 0 <= fraction < 1:
            raise ValueError(f"min_input_fraction = {fraction}: must be a share of the input, 0 <= fraction < 1")
        return self._with_factor("min_input_fraction", fraction, source,
                                 "smallest share of its target's input synapses a kept connection makes")

    def with_kc_gain(self, gain: float, source: str) -> LarvalLIF:
        """Return a copy whose Kenyon cells take every input weight times ``gain`` (parameter ``kc_gain``).

        The default model has no such parameter (all its Kenyon cells' weights are those of every other
        neuron); ``kc_gain`` is a candidate structure (:mod:`experiments.kc_sparseness`), added with its
        ``source``. Below 1 it makes a Kenyon cell need more coincident projection-neuron input, so fewer
        Kenyon cells respond to an odour.

        Parameters
        ----------
        gain : float
            Factor (>= 0) on the input weights of every Kenyon cell.
        source : str
            Where the value comes from (recorded with the parameter).
        """
        return self._with_factor("kc_gain", gain, source, "extra factor on every input weight of a Kenyon cell (KC)")


# ---------------------------------------------------------------------------
# Conductance-based adaptive LIF of Jürgensen et al. 2024
# ---------------------------------------------------------------------------

_JU = "Jürgensen et al. 2024, iScience 27:108640"
_JU_PAR = "nawrotlab/PEcodingDosophilaMB parameters.py"
_JU_MOD = "nawrotlab/PEcodingDosophilaMB model_larva.py"

#: Names of the cell-class specific parameters (per-neuron constants).
CLASS_PARAMETERS = ("C_m", "g_L", "E_L", "V_th", "V_reset", "delta_g_a")


def _cell_class(label: str, values: Mapping[str, tuple[Quantity, str]], note: str) -> ParameterSet:
    """Cell-class ParameterSet from ``{name: (value, code name)}``."""
    units = {"C_m": "pF", "g_L": "nS", "E_L": "mV", "V_th": "mV", "V_reset": "mV", "delta_g_a": "nS"}
    descriptions = {
        "C_m": "membrane capacitance",
        "g_L": "leak conductance",
        "E_L": "leak reversal (resting) potential",
        "V_th": "spike threshold",
        "V_reset": "reset potential",
        "delta_g_a": "increment of the adaptation conductance g_a per spike",
    }
    params = []
    for key in CLASS_PARAMETERS:
        value, code_name = values[key]
        where = _JU_MOD if code_name.startswith("model_larva") else _JU_PAR
        code_name = code_name.removeprefix("model_larva:")
        source = f"{_JU}; {where} {code_name}{note}"
        params.append(Parameter(key, value, units[key], source, f"{descriptions[key]} ({label})"))
    return ParameterSet(params, name=label)


def _default_cell_classes() -> dict[str, ParameterSet]:
    generic_note = " (value of the ORN/MBIN/MBON-LN neurons; used for all unlisted neurons)"
    no_sfa = "model_larva:reset without adaptation increment"
    return {
        "default": _cell_class("default", {
            "C_m": (100 * pF, "C"), "g_L": (5 * nS, "gL"), "E_L": (-60 * mV, "EL"),
            "V_th": (-35 * mV, "VT"), "V_reset": (-60 * mV, "Vr"), "delta_g_a": (0.1 * nS, "MBIN_SFA"),
        }, generic_note),
        "ORN": _cell_class("ORN", {
            "C_m": (100 * pF, "C"), "g_L": (5 * nS, "gL"), "E_L": (-60 * mV, "EL"),
            "V_th": (-35 * mV, "VT"), "V_reset": (-60 * mV, "Vr"), "delta_g_a": (0.1 * nS, "ORN_SFA"),
        }, ""),
        "PN": _cell_class("PN", {
            "C_m": (30 * pF, "CPN"), "g_L": (2.5 * nS, "gLPN"), "E_L": (-59 * mV, "ELPN"),
            "V_th": (-30 * mV, "VTPN"), "V_reset": (-59 * mV, "VrPN"), "delta_g_a": (0 * nS, no_sfa),
        }, ""),
        "LN": _cell_class("LN", {
            "C_m": (50 * pF, "CLN"), "g_L": (2.5 * nS, "model_larva:LN g_l=gLPN"), "E_L": (-59 * mV, "ELLN"),
            "V_th": (-30 * mV, "VTLN"), "V_reset": (-59 * mV, "VrLN"), "delta_g_a": (0 * nS, no_sfa),
        }, ""),
        "KC": _cell_class("KC", {
            "C_m": (30 * pF, "CKC"), "g_L": (0.5 * nS, "gLKC"), "E_L": (-55 * mV, "ELKC"),
            "V_th": (-35 * mV, "VTKC"), "V_reset": (-55 * mV, "VrKC"), "delta_g_a": (0.02 * nS, "KC_SFA"),
        }, ""),
        "MBON": _cell_class("MBON", {
            "C_m": (100 * pF, "CMBON"), "g_L": (5 * nS, "gL"), "E_L": (-60 * mV, "EL"),
            "V_th": (-35 * mV, "VT"), "V_reset": (-60 * mV, "Vr"), "delta_g_a": (0.1 * nS, "MBON_SFA"),
        }, ""),
        "MBIN": _cell_class("MBIN", {
            "C_m": (100 * pF, "C"), "g_L": (5 * nS, "gL"), "E_L": (-60 * mV, "EL"),
            "V_th": (-35 * mV, "VT"), "V_reset": (-60 * mV, "Vr"), "delta_g_a": (0.1 * nS, "MBIN_SFA"),
        }, ""),
        "APL": _cell_class("APL", {
            "C_m": (200 * pF, "CAPL"), "g_L": (5 * nS, "gL"), "E_L": (-60 * mV, "EL"),
            "V_th": (-30 * mV, "VTAPL"), "V_reset": (-60 * mV, "VrAPL"),
            "delta_g_a": (0 * nS, "model_larva:APL equations have no adaptation current"),
        }, ""),
    }


class ConductanceAdaptiveLIF(NeuronModel):
    """Conductance-based LIF with spike-frequency adaptation and cell classes.

    Neuron model of the larval mushroom-body model of Jürgensen et al. 2024
    (iScience 27:108640), parameters taken from its public code
    (nawrotlab/PEcodingDosophilaMB).  Equations::

        C_m dv/dt = g_L (E_L - v) + g_e (E_e - v) + g_i (E_i - v)
                    + g_a (E_a - v) + I_ext                 (unless refractory)
        dg_e/dt = -g_e / tau_e
        dg_i/dt = -g_i / tau_i
        dg_a/dt = -g_a / tau_a
        threshold: v > V_th
        reset:     v = V_reset; g_a += delta_g_a
        refractory period: t_ref (per neuron), integration: forward Euler

    All conductances are non-negative here; the original code stores the
    inhibitory and adaptation conductances with a negative sign and subtracts
    them, which is the same dynamics.  Conductances keep decaying during the
    refractory period (only ``v`` is clamped), as in the original.

    ``C_m``, ``g_L``, ``E_L``, ``V_th``, ``V_reset`` and ``delta_g_a`` are
    per-neuron constants set from the neuron's cell class (``"PN"``, ``"LN"``,
    ``"KC"``, ``"APL"``, ``"MBON"``, ``"MBIN"``, ``"ORN"``); neurons without a
    class (``None``) get ``default_class``.  Shared constants (reversal
    potentials, time constants, ``t_ref``) are in :attr:`parameters`.

    Synapses: an excitatory presynaptic spike adds ``count x w_syn_e`` to
    ``g_e``, an inhibitory one ``count x w_syn_i`` to ``g_i``, after ``delay``.

    Parameters
    ----------
    parameters : ParameterSet, optional
        Shared parameters; defaults to :meth:`default_parameters`.
    cell_classes : mapping of str to ParameterSet, optional
        Cell-class parameter sets (each with the names in
        ``CLASS_PARAMETERS``); defaults to :meth:`default_cell_classes`.
    default_class : str, optional
        Class of neurons whose label is ``None``; ``"default"``.
    method : str, optional
        Brian2 integration method; ``"euler"`` as in the original code.
    """

    name = "conductance_lif"
    engine_kernel = "conductance_lif"
    drive_variable = "I_ext"
    synapse_model = "w : siemens"
    shared_pathway = False

    _EQUATIONS = """
dv/dt = (g_L*(E_L - v) + g_e*(E_e - v) + g_i*(E_i - v) + g_a*(E_a - v) + I_ext) / C_m : volt (unless refractory)
dg_e/dt = -g_e / tau_e : siemens
dg_i/dt = -g_i / tau_i : siemens
dg_a/dt = -g_a / tau_a : siemens
I_ext : amp
C_m : farad (constant)
g_L : siemens (constant)
E_L : volt (constant)
V_th : volt (constant)
V_reset : volt (constant)
delta_g_a : siemens (constant)
t_ref : second (constant)
"""
    _THRESHOLD = "v > V_th"
    _RESET = "v = V_reset\ng_a += delta_g_a"
    _ON_PRE = {"excitatory": "g_e += w", "inhibitory": "g_i += w"}

    def __init__(
        self,
        parameters: ParameterSet | None = None,
        cell_classes: Mapping[str, ParameterSet] | None = None,
        default_class: str = "default",
        method: str = "euler",
    ):
        super().__init__(self.default_parameters() if parameters is None else parameters, method)
        classes = dict(self.default_cell_classes() if cell_classes is None else cell_classes)
        for label, ps in classes.items():
            if not isinstance(label, str) or not label:
                raise ValueError(f"cell class labels must be non-empty strings, got {label!r}")
            if not isinstance(ps, ParameterSet) or set(ps) != set(CLASS_PARAMETERS):
                raise ValueError(f"cell class {label!r} must be a ParameterSet with exactly {CLASS_PARAMETERS}")
            clash = set(ps) & set(self._parameters)
            if clash:  # pragma: no cover - guarded by construction
                raise ValueError(f"cell class parameters {clash} clash with shared parameters")
        if default_class not in classes:
            raise ValueError(f"default_class {default_class!r} is not one of {sorted(classes)}")
        self._classes = classes
        self._default_class = default_class

    @classmethod
    def default_parameters(cls) -> ParameterSet:
        """Shared parameters of Jürgensen et al. 2024 with their sources."""
        return ParameterSet(
            [
                Parameter("E_e", 0 * mV, "mV", f"{_JU}; {_JU_PAR} Ee", "excitatory synaptic reversal potential"),
                Parameter("E_i", -75 * mV, "mV", f"{_JU}; {_JU_PAR} Ei", "inhibitory synaptic reversal potential"),
                Parameter("E_a", -90 * mV, "mV", f"{_JU}; {_JU_PAR} EIa", "reversal potential of the adaptation current"),
                Parameter("tau_e", 5 * ms, "ms", f"{_JU}; {_JU_PAR} tau_syn_e", "excitatory conductance decay time constant"),
                Parameter("tau_i", 10 * ms, "ms", f"{_JU}; {_JU_PAR} tau_syn_i", "inhibitory conductance decay time constant"),
                Parameter("tau_a", 1000 * ms, "ms", f"{_JU}; {_JU_PAR} tau_Ia", "adaptation conductance decay time constant"),
                Parameter("t_ref", 2 * ms, "ms", f"{_JU}; {_JU_PAR} tau_ref",
                          "absolute refractory period (initial value of the per-neuron t_ref)"),
                Parameter("delay", 0 * ms, "ms",
                          f"{_JU}; {_JU_MOD} (Synapses without delay; delay_KCAPL = delay_APLKC = 0 ms)",
                          "synaptic delay"),
                Parameter("w_syn_e", 0.023 * nS, "nS",
                          "free parameter (larvasim): g_L*0.275 mV/(E_e - E_L) of the default class, i.e. one synapse "
                          "injects at rest the initial current of one Shiu et al. 2024 synapse; Jürgensen et al. 2024 "
                          "use per-pathway weights (1-80 nS), not per-synapse ones",
                          "increment of g_e per excitatory synapse (w = count x w_syn_e)"),
                Parameter("w_syn_i", 0.092 * nS, "nS",
                          "free parameter (larvasim): g_L*0.275 mV/(E_L - E_i) of the default class, analogous to "
                          "w_syn_e; not from Jürgensen et al. 2024",
                          "increment of g_i per inhibitory synapse (w = count x w_syn_i)"),
                Parameter("dt", 0.1 * ms, "ms", f"{_JU}; {_JU_PAR} dt", "integration time step"),
            ],
            name=cls.name,
        )

    @classmethod
    def default_cell_classes(cls) -> dict[str, ParameterSet]:
        """Cell-class parameter sets of Jürgensen et al. 2024 (label -> ParameterSet)."""
        return _default_cell_classes()

    @property
    def cell_classes(self) -> dict[str, ParameterSet]:
        """Cell-class parameter sets (a copy of the mapping)."""
        return dict(self._classes)

    @property
    def default_class(self) -> str:
        """Class of neurons without a label."""
        return self._default_class

    def with_overrides(self, **overrides: Any) -> ConductanceAdaptiveLIF:
        """Return a copy with parameters overridden.

        Shared parameters are given by name (``tau_e=6*ms``); cell-class
        parameters as a mapping under the class label
        (``KC={"g_L": 1*nS}``).

        Raises
        ------
        UnknownParameterError
            For an unknown name, naming close matches.
        ParameterDimensionError
            For a value of the wrong dimension.
        """
        shared = {k: v for k, v in overrides.items() if k not in self._classes}
        classes = dict(self._classes)
        for label, values in overrides.items():
            if label in self._classes:
                if not isinstance(values, Mapping):
                    raise ValueError(f"override of cell class {label!r} must be a mapping of parameter values")
                classes[label] = self._classes[label].override(**values)
        unknown = [k for k in shared if k not in self._parameters]
        if unknown:
            candidates = list(self._parameters) + list(self._classes)
            close = difflib.get_close_matches(unknown[0], candidates, n=3, cutoff=0.5)
            hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
            raise UnknownParameterError(
                f"unknown parameter {unknown[0]!r} of model {self.name!r}{hint} (shared parameters: "
                f"{', '.join(self._parameters)}; cell classes: {', '.join(self._classes)})"
            )
        return ConductanceAdaptiveLIF(
            self._parameters.override(**shared), classes, default_class=self._default_class, method=self._method
        )

    def class_parameter_arrays(self, cell_classes: Sequence[Any] | None = None, n: int | None = None,
                               unknown: str = "error") -> dict[str, Quantity]:
        """Per-neuron values of the cell-class parameters.

        Parameters
        ----------
        cell_classes : sequence of str or None, optional
            Label per neuron; ``None`` means :attr:`default_class`.  If
            omitted, all ``n`` neurons get the default class.
        n : int, optional
            Number of neurons if ``cell_classes`` is omitted.
        unknown : {"error", "default"}
            What to do with labels that are not cell classes: raise a
            :class:`ValueError` (naming close matches) or use the default
            class.

        Returns
        -------
        dict
            ``{name: brian2.Quantity array}`` for each name in
            ``CLASS_PARAMETERS`` (pF, nS, mV, ...).
        """
        if unknown not in ("error", "default"):
            raise ValueError(f"unknown must be 'error' or 'default', got {unknown!r}")
        n, labels = _as_labels(cell_classes, n)
        if labels is None:
            labels = np.full(n, None, dtype=object)
        labels = np.where(np.equal(labels, None), self._default_class, labels)
        uniq, inverse = np.unique(labels.astype(str), return_inverse=True)
        rows = []
        for label in map(str, uniq):
            if label not in self._classes:
                if unknown == "error":
                    close = difflib.get_close_matches(label, list(self._classes), n=3, cutoff=0.5)
                    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
                    raise ValueError(
                        f"unknown cell class {label!r}{hint} (known: {', '.join(self._classes)}; "
                        "use None for the default class)"
                    )
                label = self._default_class
            rows.append(self._classes[label])
        out = {}
        for key in CLASS_PARAMETERS:
            base = _base_unit(self._classes[self._default_class][key])
            table = np.array([np.asarray(ps[key].value / base, dtype=float) for ps in rows]).reshape(-1)
            out[key] = (table[inverse] if n else np.zeros(0)) * base
        return out

    def initial_values(self, n: int | None = None, cell_classes: Sequence[Any] | None = None) -> dict[str, Quantity]:
        """Initial values: class constants, ``v = E_L``, conductances 0, ``t_ref``.

        See :meth:`class_parameter_arrays` for ``cell_classes``.
        """
        n, labels = _as_labels(cell_classes, n)
        values = self.class_parameter_arrays(labels, n)
        values["v"] = values["E_L"].copy()
        zeros = np.zeros(n)
        values["g_e"] = zeros * nS
        values["g_i"] = zeros * nS
        values["g_a"] = zeros * nS
        values["I_ext"] = zeros * pA
        values["t_ref"] = np.full(n, float(self._parameters["t_ref"].value / ms)) * ms
        return values

    def synaptic_weights(self, counts: Any, signs: Any) -> Quantity:
        """``w = count x w_syn_e`` (sign +1) or ``count x w_syn_i`` (sign -1), in siemens (>= 0)."""
        counts_arr, signs_arr = self._check_counts_signs(counts, signs)
        w_e = float(self._parameters["w_syn_e"].value / nS)
        w_i = float(self._parameters["w_syn_i"].value / nS)
        return counts_arr * np.where(signs_arr > 0, w_e, w_i) * nS

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable description including the cell classes."""
        d = super().to_dict()
        d["default_class"] = self._default_class
        d["cell_classes"] = {label: ps.to_dict() for label, ps in self._classes.items()}
        return d

    def __str__(self) -> str:
        parts = [super().__str__(), f"default cell class: {self._default_class!r}"]
        parts.extend(ps.table() for ps in self._classes.values())
        return "\n".join(parts)


def _base_unit(param: Parameter) -> Any:
    """SI base unit of a parameter's dimension (e.g. volt for 'mV')."""
    return Quantity(1, dim=get_dimensions(param.value)) if param.unit != "1" else 1
