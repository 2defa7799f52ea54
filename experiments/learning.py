"""Olfactory conditioning of virtual larvae on the whole connectome.

Each virtual larva is one trial of a :class:`sim.Network` with
:class:`models.plasticity.DopaminePlasticity`: it starts from the initial
KC -> MBON weights and goes through a whole protocol (pre-test, training,
test) in one simulation. Larvae differ in their input noise (trial ``k`` of
a run draws its spikes from ``SeedSequence([seed, k])``); larva ``k`` gets
the same noise in every protocol of the same seed ("virtual clones").

Protocols (:data:`PROTOCOLS`, run with :func:`run_protocol`)
------------------------------------------------------------
All share one time line (seconds from the start of the larva's simulation,
defaults: 1 s presentations, 1 s apart, ``cs_gap`` = 15 s = 3 tau_e), so that
paired, unpaired and trace conditioning run on the same compiled network.
Weights change only inside the plastic windows; KC traces follow the
spikes everywhere, hence the 15 s gaps:

=================  ==============  ============================================
phase              time (s)        what
=================  ==============  ============================================
US-only slot       0.2 - 1.2       unpaired: the US, before any odour
                                   (plastic window W0 = 0.1 - 1.4 s)
pre-test           2.4 - 3.4,      CS+, then CS- (frozen)
                   4.4 - 5.4
training           20.4 - 21.4     CS+; paired: the US at the same time;
                                   trace: the US ``trace_gap`` after CS+ offset;
                                   backward: the US in the 1 s before the CS+
                   36.4 - 37.4     CS- (after the US, so its traces never meet it)
                                   (plastic window W1 = 19.9 - 37.9 s)
extinction         38.9 - 43.9     ``extinction`` only: CS+ three times, no US
                                   (plastic window W2 = 38.4 - 44.4 s)
test               38.9 - 41.9     CS+, then CS- (frozen); 45.4 - 48.4 s
                                   after extinction
=================  ==============  ============================================

* ``paired``: CS+ together with the US (activation of an MBIN, default
  DAN-i1, or a gustatory stimulus, ``us="gustatory"``).
* ``unpaired``: the US alone in the first slot, before any odour: KCs are
  silent then, so no eligibility trace exists when it acts.
* ``trace``: the US starts ``trace_gap`` (default 3 s) after the CS+ ends.
* ``backward``: the US ends as the CS+ starts (the odour at the US's offset,
  as in "relief" or "frustration" learning); its plastic window opens 0.5 s
  before the US, so this protocol has its own network (the others share one).
  With the depression-only rule a KC spike after the MBIN spikes leaves no
  eligibility for them, so the only changes are those an odour alone makes;
  the experiments' rule is the calibration record's (:data:`EXPERIMENT_PARAMETERS`:
  since 2026-12-05 the timing-dependent variant, ``eta_b > 0``, which
  potentiates then; docs/timing_rule.md; ``run_protocol(..., eta_b=0)`` runs the
  depression-only rule).
* ``extinction``: ``paired``, then three unreinforced CS+ presentations with
  plasticity on, then the test.
* ``paired_gustatory``: ``paired`` with the gustatory US.

Odours are two seeded, partially overlapping receptor patterns
(:func:`experiments.odours.odour_pair`). The design is reciprocal, as in
larval learning experiments: in half of the larvae odour A is the CS+, in
the other half odour B, so that differences between the two odours cancel.

Readouts
--------
* KC -> MBON weights over time (:meth:`LearningRun.weights`);
* MBON responses to CS+ and CS- before and after training
  (:meth:`LearningRun.responses`) and the learning effect of an MBON,
  ``(r_test(CS+) - r_pre(CS+)) - (r_test(CS-) - r_pre(CS-))`` per larva
  (:meth:`LearningRun.effect`), with a Wilcoxon signed-rank test and Cohen's
  d_z (:func:`paired_statistics`);
* the learned-valence index (:meth:`LearningRun.valence_index`, formula in
  its docstring);
* the change of DN-VNC and DN-SEZ output to the CS+ (:meth:`LearningRun.dn_change`).

Reports: ``python -m experiments.learning --report docs/learning.md``
(:mod:`experiments.learning_report`; :func:`report` here runs it).

(Over 600 lines: the readouts of :class:`LearningRun` belong beside the
protocols that produce them; the report is in its own module.)
"""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from brian2 import Hz, ms, mV, second

from connectomes.winding2023 import DESCENDING_CELLTYPES
from models import DEFAULT_MODEL, DEFAULT_SIGNS
from models.parameters import Parameter, ParameterSet
from models.plasticity import DopaminePlasticity, mbon_valence
from sim.stimuli import Activation, PoissonDrive

from .odours import Odour, odour_pair

__all__ = [
    "EXPERIMENT_PARAMETERS",
    "DOPAMINE_TRACE",
    "plasticity_options",
    "PROTOCOLS",
    "LearningRun",
    "Protocol",
    "Stim",
    "main",
    "larva_stimuli",
    "make_network",
    "make_protocol",
    "mb_names",
    "paired_statistics",
    "report",
    "run_protocol",
]

# ----------------------------------------------------------------------------------------
# constants
# ----------------------------------------------------------------------------------------
#: ``eta`` of the learning network of larvasim 0.1 (a free parameter then, for the adult weights).
ADULT_ETA = 0.002


def _eta_parameter() -> Parameter:
    """``eta`` of the experiments: calibrated with the larval model (stage 2 of experiments/calibrate.py)."""
    from models.neurons import larval_calibration

    cal = larval_calibration()
    mb = cal.get("mushroom_body") or {}
    v = (mb.get("parameters") or {}).get("eta")
    description = "depression per MBIN spike at full trace (fraction of the initial weight)"
    if v is None:
        return Parameter("eta", ADULT_ETA, "1", "free parameter (not calibrated)", description)
    return Parameter("eta", float(v["value"]), "1",
                     f"calibrated: {cal['script']} (stage 2, {mb.get('objective_name', '')}; seed "
                     f"{mb.get('seed', cal['seed'])}; docs/biology.md); Jürgensen et al. 2024 imply 0.00375",
                     description)


def _rule_parameters() -> tuple[list, str]:
    """The experiments' plasticity rule beyond ``eta``: the calibration record's stage-2 ``rule`` (stage 2 fitted
    with it), else the depression-only rule of :class:`models.plasticity.DopaminePlasticity`; and the dopamine
    trace (``"set"`` or ``"add"``)."""
    from models.neurons import larval_calibration
    from models.plasticity import PLASTICITY_PARAMETERS as PP

    cal = larval_calibration()
    rule = (cal.get("mushroom_body") or {}).get("rule")
    factor_text = ("potentiation eta_b as a multiple of eta (timing-dependent variant: dopamine before KC "
                   "activity potentiates; 0: off)")
    if not rule:
        return [Parameter("eta_b_factor", 0.0, "1", "off: the depression-only rule of Jürgensen et al. 2024 "
                          "(models.plasticity)", factor_text),
                Parameter("tau_d", PP["tau_d"].value, "second", PP["tau_d"].source, PP["tau_d"].description),
                Parameter("w_max", PP["w_max"].value, "1", PP["w_max"].source, PP["w_max"].description)], "set"
    fit = ("experiments/timing_rule.py (pairing findings of the calibration half; docs/timing_rule.md), adopted "
           f"with stage 2 refitted under it ({cal['script']} --stage mushroom_body --rule timing; docs/biology.md)")
    return [Parameter("eta_b_factor", float(rule["rule_eta_b_factor"]), "1", f"calibrated: {fit}", factor_text),
            Parameter("tau_d", float(rule["rule_tau_d_s"]) * second, "second",
                      f"calibrated (chosen between 1 s, Gkanias et al. 2022 eLife 11:e75611, and 10 s): {fit}; "
                      "not a larval measurement", PP["tau_d"].description),
            Parameter("w_max", float(rule["rule_w_max"]), "1",
                      "free parameter of the variant, fixed in the fit's design (experiments/timing_rule.py "
                      "W_MAX: with the ceiling 1 potentiation could only undo depression)", PP["w_max"].description),
            ], "add" if rule["rule_trace_add"] else "set"


#: ``DOPAMINE_TRACE``: how an MBIN spike moves the dopamine trace of the timing-dependent variant (``"set"`` to 1
#: or ``"add"`` 1), from the calibration record's rule as the rule's constants in :data:`EXPERIMENT_PARAMETERS`.
_RULE, DOPAMINE_TRACE = _rule_parameters()

#: Settings of the learning experiments, each with a source.
EXPERIMENT_PARAMETERS = ParameterSet([
    Parameter("odour_rate", 100 * Hz, "Hz",
              "free parameter (larval ORN odour responses reach tens to ~200 spikes/s: Kreher et al. "
              "2005, Neuron 46:445)", "peak ORN rate of an odour"),
    Parameter("us_rate", 50 * Hz, "Hz", "free parameter (optogenetic-style activation)",
              "rate of the MBIN activation used as US"),
    Parameter("gustatory_rate", 80 * Hz, "Hz", "free parameter",
              "rate of the gustatory (external) sensory drive used as US"),
    _eta_parameter(),
    *_RULE,
    Parameter("cs_duration", 1 * second, "second", "free parameter (real protocols: minutes; "
              "compressed to keep whole-brain runs short)", "length of one odour presentation"),
    Parameter("cs_gap", 15 * second, "second", "free parameter: 3 tau_e, so that the CS- trace has "
              "decayed to exp(-3) = 5 % of its value", "CS+ onset to CS- onset in training, minus cs_duration"),
    Parameter("trace_gap", 3 * second, "second", "free parameter", "CS+ offset to US onset in trace conditioning"),
    Parameter("iti", 1 * second, "second", "free parameter", "interval between the presentations of one phase"),
], name="learning_experiments")

#: The learning network of larvasim 0.1 (before the larval model): the adult current LIF at 0.8 mV per
#: synapse on the axo-dendritic synapses, literature signs, eta 0.002. Kept by name so that its documented results
#: reproduce: ``make_network(c, protocol, **ADULT_LEARNING_NETWORK)``.
ADULT_LEARNING_NETWORK = {"model": "current_lif", "w_syn": 0.8 * mV, "signs": "literature", "synapse_types": ("ad",),
                          "eta": ADULT_ETA, "eta_b": 0.0, "tau_d": 1 * second, "w_max": 1.0, "dopamine_trace": "set"}


def plasticity_options(eta=None) -> dict:
    """The plasticity constants of the learning experiments (keyword arguments of
    :class:`models.plasticity.DopaminePlasticity`): ``eta`` (default :data:`EXPERIMENT_PARAMETERS`), ``eta_b`` =
    ``eta_b_factor`` x ``eta`` (potentiation follows the learning rate, as stage 2 searched it), ``tau_d``,
    ``w_max`` and the dopamine trace (:data:`DOPAMINE_TRACE`).
    """
    p = EXPERIMENT_PARAMETERS
    eta = float(p["eta"].value) if eta is None else float(eta)
    return {"eta": eta, "eta_b": float(p["eta_b_factor"].value) * eta, "tau_d": p["tau_d"].value,
            "w_max": float(p["w_max"].value), "dopamine_trace": DOPAMINE_TRACE}

#: Network settings of the learning experiments: larvasim's default model, as everywhere else.
NETWORK_SETTINGS = {
    "model": DEFAULT_MODEL,
    "signs": DEFAULT_SIGNS,
    "synapse_types": None,
    "why_synapse_types": "the model's own synapse types, as in every larvasim default run",
}



@dataclass(frozen=True)
class Stim:
    """One stimulus of a protocol: ``what`` in {"cs+", "cs-", "us"} from ``start`` to ``stop`` (s)."""

    what: str
    start: float
    stop: float
    phase: str = ""


@dataclass(frozen=True)
class Protocol:
    """A conditioning protocol: stimuli, plastic windows and readout windows (all in seconds).

    Attributes
    ----------
    name, description : str
    duration : float
        Length of one larva's simulation (s).
    stims : tuple of Stim
    windows : tuple of (float, float)
        Times during which weights may change.
    readouts : dict
        ``{"pre": {"cs+": (a, b), "cs-": (a, b)}, "test": {...}}``.
    """

    name: str
    description: str
    duration: float
    stims: tuple
    windows: tuple
    readouts: dict

    def to_dict(self) -> dict:
        """JSON-serialisable form."""
        return {"name": self.name, "description": self.description, "duration_s": self.duration,
                "stims": [vars(s) for s in self.stims], "windows_s": [list(w) for w in self.windows],
                "readouts_s": {k: {s: list(w) for s, w in v.items()} for k, v in self.readouts.items()}}

    def table(self) -> pd.DataFrame:
        """The stimuli as a table (phase, what, start_s, stop_s)."""
        return pd.DataFrame([{"phase": s.phase, "what": s.what, "start_s": s.start, "stop_s": s.stop}
                             for s in self.stims])


def make_protocol(name: str, *, cs_duration=None, cs_gap=None, trace_gap=None, iti=None) -> Protocol:
    """The protocol ``name`` (a key of :data:`PROTOCOLS`) with its time line.

    Parameters
    ----------
    name : str
    cs_duration, cs_gap, trace_gap, iti : Quantity (time), optional
        Overrides of :data:`EXPERIMENT_PARAMETERS` (``iti``: interval
        between the presentations of one phase, default 1 s).

    Returns
    -------
    Protocol
        Times in seconds; the plastic windows (0.1 s before to 0.5 s after the
        stimuli they hold, 0.2 s after the first-slot US) never contain a
        pre-test or test presentation.
    """
    if name not in PROTOCOLS:
        raise ValueError(f"unknown protocol {name!r}; available: {', '.join(PROTOCOLS)}")
    p = EXPERIMENT_PARAMETERS

    def sec(q, key):
        return float((q if q is not None else p[key].value) / second)

    d = sec(cs_duration, "cs_duration")
    gap = sec(cs_gap, "cs_gap")
    tg = sec(trace_gap, "trace_gap")
    it = sec(iti, "iti")
    if d <= 0 or gap < 0 or tg < 0 or it <= 0:
        raise ValueError("cs_duration and iti must be > 0, cs_gap and trace_gap >= 0")
    us0 = (0.2, 0.2 + d)
    w0 = (0.1, us0[1] + 0.2)
    a0 = w0[1] + it
    pre = {"cs+": (a0, a0 + d), "cs-": (a0 + d + it, a0 + 2 * d + it)}
    # the training CS+ starts cs_gap after the pre-test (KC traces of the pre-test have decayed)
    t_csp = pre["cs-"][1] + gap
    csp = (t_csp, t_csp + d)
    csm = (csp[1] + gap, csp[1] + gap + d)
    w1 = (t_csp - 0.5, csm[1] + 0.5)
    stims = [Stim("cs+", *pre["cs+"], "pre-test"), Stim("cs-", *pre["cs-"], "pre-test"),
             Stim("cs+", *csp, "training"), Stim("cs-", *csm, "training")]
    windows = [w0, w1]
    kind = PROTOCOLS[name]["kind"]
    if kind in ("paired", "extinction"):
        us = Stim("us", *csp, "training")
    elif kind == "unpaired":
        us = Stim("us", *us0, "US alone")
    elif kind == "trace":
        if csp[1] + tg + d > csm[0]:
            raise ValueError(f"trace_gap {tg} s puts the US after the CS- ({csm[0]} s); raise cs_gap")
        us = Stim("us", csp[1] + tg, csp[1] + tg + d, "training")
    elif kind == "backward":
        # the US ends as the CS+ starts; its plastic window opens 0.5 s before it, after the pre-test
        if csp[0] - d - 0.5 < pre["cs-"][1] - 1e-9:
            raise ValueError(f"cs_gap {gap} s leaves no room for the US before the training CS+ "
                             f"(needs cs_duration + 0.5 s = {d + 0.5} s); raise cs_gap")
        us = Stim("us", csp[0] - d, csp[0], "training")
        windows[1] = (us.start - 0.5, w1[1])
    else:  # pragma: no cover - registry and kinds are kept in step
        raise ValueError(kind)
    t = w1[1] + it
    if kind == "extinction":
        for k in range(3):  # three unreinforced CS+ presentations
            a = t + k * (d + it)
            stims.append(Stim("cs+", a, a + d, "extinction"))
        windows.append((t - 0.5, a + d + 0.5))
        t = windows[-1][1] + it
    test = {"cs+": (t, t + d), "cs-": (t + d + it, t + 2 * d + it)}
    stims += [Stim("cs+", *test["cs+"], "test"), Stim("cs-", *test["cs-"], "test"), us]
    duration = round(test["cs-"][1] + 0.5, 6)
    r = lambda w: tuple(round(x, 6) for x in w)
    return Protocol(name, PROTOCOLS[name]["description"], duration,
                    tuple(replace(s, start=round(s.start, 6), stop=round(s.stop, 6)) for s in stims),
                    tuple(r(w) for w in windows), {"pre": {k: r(v) for k, v in pre.items()},
                                                  "test": {k: r(v) for k, v in test.items()}})


#: Registry of the protocols: name -> kind, US and description.
PROTOCOLS = {
    "paired": {"kind": "paired", "us": "dan",
               "description": "CS+ together with the US; CS- 15 s later without it"},
    "unpaired": {"kind": "unpaired", "us": "dan",
                 "description": "the US alone before any odour; CS+ and CS- as in 'paired'"},
    "trace": {"kind": "trace", "us": "dan",
              "description": "the US starts trace_gap after the CS+ ends"},
    "backward": {"kind": "backward", "us": "dan",
                 "description": "backward pairing: the US ends as the CS+ starts (odour at the US's offset)"},
    "extinction": {"kind": "extinction", "us": "dan",
                   "description": "'paired', then three unreinforced CS+ presentations with plasticity on"},
    "paired_gustatory": {"kind": "paired", "us": "gustatory",
                         "description": "'paired' with a gustatory (external) sensory drive as US"},
}



def mb_names(neurons: pd.DataFrame) -> np.ndarray:
    """The name every table of the learning experiments gives a neuron: its mushroom-body type (``mb_name``,
    e.g. ``"MBON-i1"``) where it has one, else its label."""
    n = neurons
    return (n["mb_name"].where(n["mb_name"].astype(str) != "", n["label"]) if "mb_name" in n.columns
            else n["label"]).astype(str).to_numpy()

# ----------------------------------------------------------------------------------------
# network and run
# ----------------------------------------------------------------------------------------
def make_network(connectome, protocol: Protocol, *, device: str = "numba", w_syn=None,
                 model_overrides: dict | None = None, rule: DopaminePlasticity | None = None,
                 model=None, signs=None, synapse_types=None, **rule_options):
    """The whole-brain network with plasticity for ``protocol``'s plastic windows.

    Parameters
    ----------
    connectome : connectomes.Connectome
    protocol : Protocol
    device : str
        ``"numba"`` (default: larvasim's engine, Brian2's spikes and weights,
        no compiler), ``"cpp_standalone"`` (compiled once per time line and
        drive targets), ``"cython"`` or ``"numpy"``.
    w_syn : Quantity (volt), optional
        Override of the model's ``w_syn`` (default: the model's own value).
    model_overrides : dict, optional
        Further parameters of the neuron model (e.g. ``{"dt": 0.5*ms}``).
    rule : DopaminePlasticity, optional
        A rule to use instead (its windows are replaced by the protocol's).
    model : str or NeuronModel, optional
        The neuron model (default ``NETWORK_SETTINGS["model"]`` with ``w_syn``);
        a model instance is used as it is (``w_syn`` and ``model_overrides`` then
        override its parameters only when given).
    signs, synapse_types : optional
        Default ``NETWORK_SETTINGS["signs"]`` and ``["synapse_types"]`` (``None``: the model's own).
    **rule_options
        Passed to :class:`DopaminePlasticity` (e.g. ``eta=0.02``, ``rho=0``,
        ``mbins=["DAN-i1"]``); the constants not given are :func:`plasticity_options`'s
        (``eta_b`` follows a given ``eta``).
    """
    import models
    import sim

    if rule is None:
        for k, v in plasticity_options(rule_options.get("eta")).items():
            rule_options.setdefault(k, v)
        rule = DopaminePlasticity(windows=[(a * second, b * second) for a, b in protocol.windows],
                                  **rule_options)
    else:
        rule.windows = [tuple(x) for x in protocol.windows]
    if model is None or isinstance(model, str):
        model = models.get_model(model or NETWORK_SETTINGS["model"],
                                 **({"w_syn": w_syn} if w_syn is not None else {}), **(model_overrides or {}))
    elif w_syn is not None or model_overrides:
        model = model.with_overrides(**({"w_syn": w_syn} if w_syn is not None else {}), **(model_overrides or {}))
    return sim.Network(connectome, model=model, signs=NETWORK_SETTINGS["signs"] if signs is None else signs,
                       synapse_types=NETWORK_SETTINGS["synapse_types"] if synapse_types is None else synapse_types,
                       plasticity=rule, device=device)


def larva_stimuli(connectome, protocol: Protocol, cs_plus: Odour | None = None, cs_minus: Odour | None = None, *,
                  us: str = "dan", dan: str = "DAN-i1", us_rate=None, gustatory_rate=None) -> list:
    """The stimuli one virtual larva of ``protocol`` receives (what :func:`run_protocol` runs, per half).

    Parameters
    ----------
    connectome : connectomes.Connectome
    protocol : Protocol
        From :func:`make_protocol`.
    cs_plus, cs_minus : Odour, optional
        Default: the two odours of :func:`odour_pair` (8 receptors each, 3 shared, seed 0), the first as CS+.
    us, dan, us_rate, gustatory_rate
        As in :func:`run_protocol` (rates default to :data:`EXPERIMENT_PARAMETERS`).

    Returns
    -------
    list
        The odour drives, then the US.
    """
    p = EXPERIMENT_PARAMETERS
    if cs_plus is None or cs_minus is None:
        cs_plus, cs_minus = odour_pair(connectome, 8, 3, rate=p["odour_rate"].value, seed=0)
    us_rate = p["us_rate"].value if us_rate is None else us_rate
    gustatory_rate = p["gustatory_rate"].value if gustatory_rate is None else gustatory_rate
    return (_odour_stimuli(connectome, protocol, cs_plus, cs_minus)
            + _us_stimuli(connectome, protocol, us, dan, us_rate, gustatory_rate))


def _us_stimuli(connectome, protocol: Protocol, us: str, dan: str, us_rate, gustatory_rate):
    out = []
    for s in protocol.stims:
        if s.what != "us":
            continue
        if us == "dan":
            sel = dan if hasattr(dan, "indices") else connectome.select(name=dan)
            out.append(Activation(sel, us_rate, start=s.start * second, stop=s.stop * second,
                                  name=f"US:{getattr(dan, 'description', dan)}"))
        elif us == "gustatory":
            out.append(PoissonDrive(connectome.select(modality="gustatory-external"), gustatory_rate,
                                    start=s.start * second, stop=s.stop * second, name="US:gustatory-external"))
        else:
            raise ValueError(f"us must be 'dan' or 'gustatory', got {us!r}")
    return out


def _odour_stimuli(connectome, protocol: Protocol, cs_plus: Odour, cs_minus: Odour):
    out = []
    for s in protocol.stims:
        if s.what in ("cs+", "cs-"):
            odour = cs_plus if s.what == "cs+" else cs_minus
            out += odour.drives(connectome, s.start * second, s.stop * second)
    return out


def run_protocol(name: str, connectome=None, *, n_larvae: int = 20, seed: int = 0, dan: str = "DAN-i1",
                 us: str | None = None, odours: tuple[Odour, Odour] | None = None, odour_seed: int = 0,
                 reciprocal: bool = True, device: str = "numba", network=None,
                 us_rate=None, gustatory_rate=None, protocol_options=None, out=None,
                 progress: bool | None = None, **rule_options) -> LearningRun:
    """Run protocol ``name`` on ``n_larvae`` virtual larvae.

    Parameters
    ----------
    name : str
        A key of :data:`PROTOCOLS`.
    connectome : connectomes.Connectome, optional
        Default ``connectomes.load("winding2023")``.
    n_larvae : int
        Number of virtual larvae (trials); with ``reciprocal`` half get odour
        A as CS+, half odour B.
    seed : int
        Seed of the input noise (larva ``k`` of the first half uses
        ``SeedSequence([2*seed, k])``, of the second ``[2*seed+1, k]``).
    dan : str or Selection
        The neurons activated as US (``us="dan"``): a name pattern, e.g. ``"DAN-i1"``,
        ``"DAN-g1"``, or a selection.
    us : {"dan", "gustatory"}, optional
        Default: the protocol's.
    odours : (Odour, Odour), optional
        Default :func:`odour_pair` (8 receptors each, 3 shared, seed
        ``odour_seed``).
    reciprocal : bool
        Swap CS+ and CS- in half of the larvae (default True).
    device : str
        Simulation device (see :func:`make_network`).
    network : sim.Network, optional
        A network from :func:`make_network` with the same plastic windows
        (reused without rebuilding).
    us_rate, gustatory_rate : Quantity (Hz), optional
        Defaults from :data:`EXPERIMENT_PARAMETERS`.
    protocol_options : dict, optional
        Passed to :func:`make_protocol` (``trace_gap``, ``cs_gap``, ``cs_duration``).
    out : path, optional
        Save the results there (HDF5, like any run; the protocol is in
        ``metadata["learning"]``).
    progress : bool, optional
    **rule_options
        Passed to :class:`DopaminePlasticity` when the network is made here.

    Returns
    -------
    LearningRun

    (Over 80 lines: a long parameter list, documented; the body is short.)
    """
    import connectomes
    from sim.results import Results

    if n_larvae < 2 and reciprocal:
        raise ValueError("a reciprocal design needs n_larvae >= 2")
    c = connectome if connectome is not None else connectomes.load("winding2023")
    protocol = make_protocol(name, **(protocol_options or {}))
    us = us or PROTOCOLS[name]["us"]
    p = EXPERIMENT_PARAMETERS
    us_rate = p["us_rate"].value if us_rate is None else us_rate
    gustatory_rate = p["gustatory_rate"].value if gustatory_rate is None else gustatory_rate
    if odours is None:
        odours = odour_pair(c, 8, 3, rate=p["odour_rate"].value, seed=odour_seed)
    a, b = odours
    if network is None:
        network = make_network(c, protocol, device=device, **rule_options)
    elif network.plasticity is None or list(map(tuple, network.plasticity.windows or [])) != \
            [tuple(w) for w in protocol.windows]:
        raise ValueError("the network's plasticity windows differ from the protocol's; use make_network")
    duration = protocol.duration * second
    halves = [(a, b, n_larvae - n_larvae // 2), (b, a, n_larvae // 2)] if reciprocal else [(a, b, n_larvae)]
    parts, cs_plus = [], []
    t0 = time.perf_counter()
    for k, (plus, minus, n) in enumerate(halves):
        if n == 0:
            continue
        stim = larva_stimuli(c, protocol, plus, minus, us=us, dan=dan, us_rate=us_rate, gustatory_rate=gustatory_rate)
        parts.append(network.run(stim, duration=duration, trials=n, seed=2 * seed + k, progress=progress))
        cs_plus += [plus.name] * n
    res = Results.concat(parts) if len(parts) > 1 else parts[0]
    res.metadata["learning"] = {
        "protocol": protocol.to_dict(), "us": us, "dan": getattr(dan, "description", dan) if us == "dan" else None,
        "us_rate_hz": float(us_rate / Hz), "gustatory_rate_hz": float(gustatory_rate / Hz),
        "odours": [a.to_dict(), b.to_dict()], "cs_plus": cs_plus, "reciprocal": reciprocal,
        "seed": int(seed), "n_larvae": int(n_larvae), "experiment_parameters": p.to_dict(),
        "network_settings": {k: (list(v) if isinstance(v, tuple) else v) for k, v in NETWORK_SETTINGS.items()},
        "wall_time_s": time.perf_counter() - t0,
    }
    run = LearningRun(res, protocol, (a, b), cs_plus, network.plasticity.compartments)
    if out:
        res.save(out)
    return run


# ----------------------------------------------------------------------------------------
# statistics
# ----------------------------------------------------------------------------------------
def paired_statistics(values) -> dict:
    """Statistics of per-larva differences (one value per larva; test against 0).

    Returns
    -------
    dict
        ``n``, ``mean``, ``sd``, ``median``, ``d_z`` (Cohen's d for paired
        data: mean / sd), ``wilcoxon_p`` (two-sided Wilcoxon signed-rank
        test; 1.0 when every value is 0), ``t_p`` (two-sided one-sample t
        test), ``n_negative``, ``n_positive``.
    """
    from scipy import stats

    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    n = len(x)
    sd = float(np.std(x, ddof=1)) if n > 1 else float("nan")
    if n == 0 or np.all(x == 0):
        wp, tp = 1.0, 1.0
    else:
        wp = float(stats.wilcoxon(x, zero_method="wilcox", alternative="two-sided").pvalue) if np.any(x != 0) else 1.0
        tp = float(stats.ttest_1samp(x, 0.0).pvalue) if sd > 0 else (0.0 if np.mean(x) != 0 else 1.0)
    return {"n": n, "mean": float(np.mean(x)) if n else float("nan"), "sd": sd,
            "median": float(np.median(x)) if n else float("nan"),
            "d_z": float(np.mean(x) / sd) if n > 1 and sd > 0 else float("nan"),
            "wilcoxon_p": wp, "t_p": tp, "n_negative": int((x < 0).sum()), "n_positive": int((x > 0).sum())}


# ----------------------------------------------------------------------------------------
# readouts
# ----------------------------------------------------------------------------------------
@dataclass
class LearningRun:
    """The results of one protocol on many virtual larvae, with the readouts.

    Attributes
    ----------
    results : sim.Results
        Spikes of every larva (trial), KC -> MBON weights in
        ``results.states["kc_mbon_w"]``, the protocol in
        ``results.metadata["learning"]``.
    protocol : Protocol
    odours : (Odour, Odour)
    cs_plus : list of str
        Name of the CS+ odour of every larva.
    compartments : CompartmentMap
    """

    results: object
    protocol: Protocol
    odours: tuple
    cs_plus: list
    compartments: object = None

    @property
    def n_larvae(self) -> int:
        """Number of virtual larvae."""
        return self.results.n_trials

    @classmethod
    def load(cls, path) -> LearningRun:
        """Read a run saved with ``run_protocol(..., out=path)``."""
        from models.plasticity import CompartmentMap
        from sim.results import Results

        res = Results.load(path)
        meta = res.metadata["learning"]
        pr = meta["protocol"]
        protocol = Protocol(pr["name"], pr["description"], pr["duration_s"],
                            tuple(Stim(**s) for s in pr["stims"]), tuple(tuple(w) for w in pr["windows_s"]),
                            {k: {s: tuple(w) for s, w in v.items()} for k, v in pr["readouts_s"].items()})
        odours = tuple(Odour(o["name"], o["rates_hz"]) for o in meta["odours"])
        comp = None
        plast = res.metadata.get("network", {}).get("plasticity") or {}
        if isinstance(plast.get("compartments"), dict):
            cm = plast["compartments"]
            comp = CompartmentMap(cm["mapping"], cm.get("method", "user"), criteria=cm.get("criteria", {}))
        return cls(res, protocol, odours, list(meta["cs_plus"]), comp)

    # -- rates --------------------------------------------------------------------------
    def _rate_matrix(self, window) -> np.ndarray:
        a, b = window
        res = self.results
        out = np.zeros((res.n_trials, res.n_neurons))
        t, nd, tm = res.spike_trials, res.spike_nodes, res.spike_times
        keep = (tm >= a * 1000.0) & (tm < b * 1000.0)
        pos = res.neurons.index.get_indexer(nd[keep])
        np.add.at(out, (t[keep], pos), 1.0)
        return out / (b - a)

    def stimulus_rate(self, name: str, what: str, phase: str = "training") -> float:
        """Mean rate (Hz) of the neurons called ``name`` (MB name or label, e.g. ``"DAN-i1"``) during the
        ``what`` presentation (``"cs+"``, ``"cs-"`` or ``"us"``) of ``phase``, over neurons and larvae."""
        stim = [s for s in self.protocol.stims if s.what == what and s.phase == phase]
        if not stim:
            raise ValueError(f"protocol {self.protocol.name!r} has no {what!r} in its {phase!r} phase")
        idx = np.flatnonzero(mb_names(self.results.neurons) == name)
        if not len(idx):
            raise ValueError(f"no neuron called {name!r} in this run")
        return float(self._rate_matrix((stim[0].start, stim[0].stop))[:, idx].mean())

    def responses(self, celltype: str = "MBON") -> pd.DataFrame:
        """Mean rate (Hz) of every neuron of ``celltype`` to CS+ and CS-, before and after training.

        Returns
        -------
        pandas.DataFrame
            One row per larva and neuron: ``larva``, ``cs_plus`` (odour),
            ``neuron``, ``name`` (MB name or label), ``hemisphere``,
            ``pre_cs+``, ``pre_cs-``, ``test_cs+``, ``test_cs-``.
        """
        n = self.results.neurons
        idx = np.flatnonzero((n["celltype"] == celltype).to_numpy())
        cols = {}
        for phase in ("pre", "test"):
            for s in ("cs+", "cs-"):
                cols[f"{phase}_{s}"] = self._rate_matrix(self.protocol.readouts[phase][s])[:, idx]
        names = mb_names(n)
        rows = []
        for k in range(self.n_larvae):
            for j, i in enumerate(idx):
                rows.append({"larva": k, "cs_plus": self.cs_plus[k], "neuron": int(n.index[i]), "name": names[i],
                             "hemisphere": str(n["hemisphere"].iloc[i]),
                             **{c: float(v[k, j]) for c, v in cols.items()}})
        return pd.DataFrame(rows)

    def effect(self, name: str = "MBON-i1", celltype: str = "MBON") -> pd.DataFrame:
        """Per-larva learning effect of the neurons named ``name`` (mean over both sides).

        ``effect = (test_cs+ - pre_cs+) - (test_cs- - pre_cs-)`` (Hz): negative
        when the response to the CS+ fell relative to the CS-.

        Returns
        -------
        pandas.DataFrame
            One row per larva: ``larva``, ``cs_plus``, ``pre_cs+``, ``pre_cs-``,
            ``test_cs+``, ``test_cs-``, ``effect``.
        """
        r = self.responses(celltype)
        r = r[r["name"] == name]
        if r.empty:
            raise ValueError(f"no {celltype} named {name!r}")
        g = r.groupby(["larva", "cs_plus"], as_index=False)[["pre_cs+", "pre_cs-", "test_cs+", "test_cs-"]].mean()
        g["effect"] = (g["test_cs+"] - g["pre_cs+"]) - (g["test_cs-"] - g["pre_cs-"])
        return g

    def weights(self, by: str = "name") -> pd.DataFrame:
        """KC -> MBON weight (summed, relative to the start) over time, per MBON type and larva.

        Returns
        -------
        pandas.DataFrame
            Columns ``larva``, ``name``, ``time_s``, ``w_rel`` (mean over the
            neurons of the type).
        """
        idx, t_ms, vals = self.results.states["kc_mbon_w"]
        n = self.results.neurons
        names = n.loc[idx, "mb_name"].astype(str).to_numpy()
        frames = []
        for name in sorted(set(names)):
            sel = names == name
            v = vals[:, sel, :].mean(axis=1)  # [larva, time]
            frames.append(pd.DataFrame({"larva": np.repeat(np.arange(v.shape[0]), v.shape[1]),
                                        "name": name, "time_s": np.tile(t_ms / 1000.0, v.shape[0]),
                                        "w_rel": v.ravel()}))
        return pd.concat(frames, ignore_index=True)

    def final_weights(self) -> pd.DataFrame:
        """Relative KC -> MBON weight at the end, one row per larva, one column per MBON type."""
        w = self.weights()
        last = w["time_s"].max()
        return w[w["time_s"] == last].pivot(index="larva", columns="name", values="w_rel")

    def valence_index(self, valence=None, signs=None) -> pd.DataFrame:
        """Learned-valence index per larva, before and after training, from all MBONs.

        ``LVI = sum_m v_m (r_m(CS+) - r_m(CS-)) / sum_m (r_m(CS+) + r_m(CS-))``
        over the MBON neurons ``m`` with a known behavioural sign ``v_m``
        (:func:`models.plasticity.mbon_valence`: +1 approach for MBONs of
        compartments with aversive MBINs, -1 avoidance for appetitive ones;
        Aso et al. 2014, eLife 3:e04580; Eschbach et al. 2021, eLife), with
        ``r`` the mean rates in the pre-test or the test. It lies in [-1, 1];
        ``> 0`` means the MBON output favours approaching the CS+. The
        learned part is ``delta = LVI_test - LVI_pre``. It generalises the
        readout of Jürgensen et al. 2024 (approach minus avoidance MBON
        output; two MBONs there) to every MBON of known valence; the formula
        is larvasim's.

        Parameters
        ----------
        valence : DataFrame, optional
            An MBIN valence table (:func:`models.plasticity.mbin_valence`).
        signs : mapping or pandas.Series, optional
            MBON type -> +1, -1 or 0, used instead of the signs derived from
            the compartments, e.g. the measured effects of activating each
            MBON (:func:`models.plasticity.activation_valence`).

        Returns
        -------
        pandas.DataFrame
            ``larva``, ``cs_plus``, ``lvi_pre``, ``lvi_test``, ``delta``.
        """
        if signs is not None:
            v = pd.Series(signs, dtype=int)
        else:
            comp = self.compartments
            if comp is None:
                raise ValueError("this run has no compartment map")
            v = mbon_valence(comp, valence)
        r = self.responses("MBON")
        r["v"] = r["name"].map(v).fillna(0).astype(int)
        out = []
        for (k, cs), g in r.groupby(["larva", "cs_plus"]):
            g = g[g["v"] != 0]
            row = {"larva": k, "cs_plus": cs}
            for ph in ("pre", "test"):
                den = (g[f"{ph}_cs+"] + g[f"{ph}_cs-"]).sum()
                num = (g["v"] * (g[f"{ph}_cs+"] - g[f"{ph}_cs-"])).sum()
                # no MBON of known sign, or none firing: undefined
                row[f"lvi_{ph}"] = float(num / den) if den > 0 else float("nan")
            row["delta"] = row["lvi_test"] - row["lvi_pre"]
            out.append(row)
        return pd.DataFrame(out, columns=["larva", "cs_plus", "lvi_pre", "lvi_test", "delta"])

    def dn_change(self) -> pd.DataFrame:
        """Change of descending output to the CS+ and CS- (test minus pre-test), per larva.

        Returns
        -------
        pandas.DataFrame
            ``larva``, ``group`` (DN-VNC, DN-SEZ), ``pre_cs+``, ``test_cs+``,
            ``pre_cs-``, ``test_cs-`` (mean rate of the group, Hz),
            ``change_cs+``, ``change_cs-`` and ``effect`` (= change_cs+ - change_cs-).
        """
        n = self.results.neurons
        rows = []
        mats = {f"{ph}_{s}": self._rate_matrix(self.protocol.readouts[ph][s])
                for ph in ("pre", "test") for s in ("cs+", "cs-")}
        for group in DESCENDING_CELLTYPES:
            sel = (n["celltype"] == group).to_numpy()
            for k in range(self.n_larvae):
                row = {"larva": k, "cs_plus": self.cs_plus[k], "group": group,
                       **{c: float(m[k, sel].mean()) for c, m in mats.items()}}
                row["change_cs+"] = row["test_cs+"] - row["pre_cs+"]
                row["change_cs-"] = row["test_cs-"] - row["pre_cs-"]
                row["effect"] = row["change_cs+"] - row["change_cs-"]
                rows.append(row)
        return pd.DataFrame(rows)

    def rule_description(self) -> str:
        """The plasticity rule that ran, in one line (from the results' metadata; empty when none is stored)."""
        net = self.results.metadata.get("network")
        rule = net.get("plasticity") if isinstance(net, dict) else None
        if not isinstance(rule, dict) or "parameters" not in rule:
            return ""
        p = {k: v.get("value") for k, v in rule["parameters"].items()}
        text = f"eta = {p.get('eta'):.4g}, tau_e = {p.get('tau_e'):g} s"
        if (p.get("eta_b") or 0) > 0:
            text += (f"; timing-dependent: eta_b = {p['eta_b']:.4g}, tau_d = {p.get('tau_d'):g} s, "
                     f"w_max = {p.get('w_max'):g}, dopamine trace {rule.get('dopamine_trace', 'set')}")
        else:
            text += " (depression only)"
        return text

    def summary(self, mbon: str = "MBON-i1") -> str:
        """A short text summary: the protocol, the learning effect of ``mbon`` and the valence index."""
        e = paired_statistics(self.effect(mbon)["effect"])
        from .core import _describe_model, _model_of

        model = _model_of(self.results)
        lines = [f"protocol {self.protocol.name!r}: {self.protocol.description}",
                 f"  {self.n_larvae} virtual larvae, {self.protocol.duration:g} s each",
                 *([f"  {_describe_model(model)}"] if model else []),
                 *([f"  plasticity: {rule}"] if (rule := self.rule_description()) else []),
                 f"  {mbon} effect (Hz): mean {e['mean']:.2f}, median {e['median']:.2f}, d_z {e['d_z']:.2f}, "
                 f"Wilcoxon p = {e['wilcoxon_p']:.2g} ({e['n_negative']} of {e['n']} larvae negative)"]
        if self.compartments is not None:
            v = paired_statistics(self.valence_index()["delta"])
            lines.append(f"  learned valence index change: mean {v['mean']:.3f}, d_z {v['d_z']:.2f}, "
                         f"Wilcoxon p = {v['wilcoxon_p']:.2g}")
        return "\n".join(lines)


# ----------------------------------------------------------------------------------------
# verification of the rule
# ----------------------------------------------------------------------------------------
def verify_rule(connectome, dt_values=(0.0, 0.5, 2.0, 5.0)) -> pd.DataFrame:
    """One KC spike, then one MBIN spike ``dt`` later, on ``connectome`` (numpy device).

    Returns
    -------
    pandas.DataFrame
        ``dt_s``, ``measured`` (relative weight change of the modulated
        synapses of that KC), ``expected`` (``eta x exp(-dt/tau_e)``),
        ``abs_error`` and, for control, the largest change of all other
        synapses and of a run with the MBIN spike alone and the KC spike alone.
    """
    import sim
    from sim.stimuli import InputEvents

    eta = 0.1
    rows = []
    for dt in dt_values:
        rule = DopaminePlasticity("names", eta=eta, rho=0.0, record="synapses", record_dt=10 * ms)
        signs = np.ones(connectome.n_neurons)
        signs[connectome.select(celltype="MBIN").indices] = 0
        net = sim.Network(connectome, signs=signs, plasticity=rule, device="numpy")  # reads the rule's Brian2 state
        dan = int(connectome.select(name="DAN-i1").indices[0])
        targets = rule.targets[dan]
        h_pre = rule._pre
        kc = int(next(k for k in np.unique(h_pre) if np.isin(rule._post[h_pre == k], targets).any()))
        s_kc, s_dan = 100, 100 + int(round(dt / 1e-4))
        duration = (s_dan + 200) * 0.1 * ms
        out = {}
        for label, ev in (("both", InputEvents([kc, dan], [s_kc, s_dan])),
                          ("dan_only", InputEvents([dan], [s_dan])), ("kc_only", InputEvents([kc], [s_kc]))):
            net.run(duration=duration, inputs=[ev], progress=False)
            H = rule.history
            out[label] = (H.values[0, :, -1] - H.w0) / H.w0
        mod = (rule._pre == kc) & np.isin(rule._post, targets)
        rows.append({"dt_s": dt, "n_synapses": int(mod.sum()), "measured": float(-out["both"][mod].mean()),
                     "expected": eta * np.exp(-dt / 5.0),
                     "abs_error": float(np.max(np.abs(-out["both"][mod] - eta * np.exp(-dt / 5.0)))),
                     "others_max": float(np.max(np.abs(out["both"][~mod]))) if (~mod).any() else 0.0,
                     "dan_only_max": float(np.max(np.abs(out["dan_only"]))),
                     "kc_only_max": float(np.max(np.abs(out["kc_only"])))})
    return pd.DataFrame(rows)


def report(*args, **kwargs) -> str:
    """Run the learning report (:func:`experiments.learning_report.report`, same arguments)."""
    from .learning_report import report as _report

    return _report(*args, **kwargs)


def main(argv=None) -> int:
    """Command line: ``python -m experiments.learning --report docs/learning.md`` (:mod:`experiments.learning_report`)."""
    from .learning_report import main as _main

    return _main(argv)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
