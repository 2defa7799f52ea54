"""Dopaminergic three-factor plasticity at the Kenyon cell -> MBON synapses.

The larval mushroom body (MB) is tiled into compartments. Each modulatory
input neuron (MBIN: the dopaminergic DANs, the octopaminergic OANs and the
MBINs of unknown transmitter) sends its axon into one or a few compartments
and there modulates the synapses from the Kenyon cells (KCs) onto the output
neurons (MBONs) whose dendrites share the compartment (Eichler et al. 2017,
Nature 548:175). This module provides

* the **compartment map** MBIN type -> MBON types, derived from the connectome
  (:func:`derive_compartments`), the naming convention of Eichler et al.
  2017 (:func:`naming_compartments`) and a comparison of the two
  (:class:`CompartmentMap`, :func:`compare_maps`);
* a **valence table** of the MBINs with a source per entry
  (``models/data/mbin_valence.csv``, :func:`mbin_valence`), which users can
  override;
* the **plasticity rule** :class:`DopaminePlasticity`, a plug-in for
  :class:`sim.Network` (``Network(c, plasticity=DopaminePlasticity())``).

The rule
--------
A three-factor rule as in the larval MB model of Jürgensen et al. (2024,
iScience 27:108640; code ``nawrotlab/PEcodingDosophilaMB``, ``model_larva.py``),
for every plastic KC -> MBON synapse with initial weight ``w0``:

* a spike of the KC sets the synapse's eligibility trace to 1, which then
  decays with time constant ``tau_e``: ``e(t) = exp(-(t - t_KC) / tau_e)``
  (``trace="add"``: the spike adds 1 to the decayed trace instead);
* every spike of an MBIN whose compartment holds the synapse depresses it,
  ``w <- clip(w - eta * w0 * e(t), 0, w_max * w0)``;
* every spike of the MBON pulls the weight back towards ``w0``,
  ``w <- w + rho * (w0 - w)`` (homeostasis; ``rho = 0`` switches it off).

So one KC spike followed after ``dt`` by one MBIN spike changes the weight by
``-eta * w0 * exp(-dt / tau_e)`` exactly.

**Timing-dependent variant** (``eta_b > 0``; off in this class's defaults, so the
rule above is unchanged; the learning experiments of larvasim's default model run
it with calibrated constants, ``experiments.learning.EXPERIMENT_PARAMETERS``): every MBIN spike also sets a dopamine trace of the synapses it
modulates, ``d(t) = exp(-(t - t_MBIN) / tau_d)`` (``dopamine_trace="add"``: each
spike adds 1, so the trace grows with the MBIN's rate),
and every KC spike that arrives while the trace lasts *potentiates* the
synapse, ``w <- clip(w + eta_b * w0 * d(t), 0, w_max * w0)``. Odour before
dopamine depresses, dopamine before odour potentiates: the sign reversal with
event timing reported for the larva (backward pairing with DAN-i1 gives an
aversive memory where forward pairing gives an appetitive one; Thoener et al.
2022) and, with its receptor pathways, for the adult (Handler et al. 2019,
Cell 178:60). The potentiation needs ``w_max > 1``, else the initial weight
stays the ceiling and backward pairing can only undo earlier depression. Jürgensen et al. write the
depression as an absolute ``learning_rate`` (0.3 nS for an initial weight of
80 nS); here ``eta`` is relative to each connection's initial weight, because
connectome weights scale with the synapse count (``eta = 0.3/80 = 0.00375``
reproduces their rule for one connection).

Implementation (exact at spike times)
-------------------------------------
The plastic KC -> MBON connections form their own Brian2 ``Synapses`` with
the variables ``w`` (weight), ``w0``, ``w_max``, ``elig`` (trace value at the
last KC spike) and ``t_elig`` (time of that spike). The trace is never
integrated: it is evaluated in closed form when an MBIN spike arrives. The
MBINs act on the plastic synapses through a second ``Synapses`` object whose
targets are the plastic synapses themselves ("synapses acting on synapses").
Both pathways have the model's synaptic delay, so the delay cancels in
``t_MBIN - t_KC``. Within one time step the KC pathway runs first, then the
modulation, then the MBON (homeostasis) pathway: a KC and an MBIN spike in
the same step give ``dt = 0``.

The rule works on every Brian2 device of :class:`sim.Network` (numpy,
cython, C++ standalone): it adds ordinary Brian2 objects to the network, and
its constants (``eta``, ``tau_e``, windows) are compiled into the standalone
project, whose cache key includes :meth:`DopaminePlasticity.to_dict`.

Module size: over 600 lines because the rule, its plan for the numba engine, its Brian2 objects
and the compartment maps and valence tables it needs are one model of one mechanism.
"""
from __future__ import annotations

import fnmatch
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np
import pandas as pd
from brian2 import Quantity, StateMonitor, Synapses, get_unit, ms, second

from connectomes.winding2023 import KC_CELLTYPE, MBIN_CELLTYPE, MBON_CELLTYPE

from .parameters import Parameter, ParameterSet

__all__ = [
    "PlasticityRule",
    "PLASTICITY_PARAMETERS",
    "VALENCES",
    "VALENCE_FILE",
    "ACTIVATION_EFFECTS",
    "ACTIVATION_FILE",
    "CompartmentMap",
    "DopaminePlasticity",
    "PlasticPlan",
    "WeightHistory",
    "activation_valence",
    "compare_maps",
    "compare_mbon_signs",
    "compartment_letters",
    "derive_compartments",
    "mb_sides",
    "mbin_valence",
    "mbon_activation",
    "mbon_valence",
    "modulation_targets",
    "naming_compartments",
    "reference_weight",
]

_JU = "Jürgensen et al. 2024, iScience 27:108640"
_JU_PAR = "nawrotlab/PEcodingDosophilaMB parameters.py"

#: Default constants of the rule, each with unit and source.
PLASTICITY_PARAMETERS = ParameterSet([
    Parameter("tau_e", 5 * second, "second", f"{_JU}; {_JU_PAR} tau_eligibility = 5000 ms",
              "decay time constant of the KC eligibility trace"),
    Parameter("eta", 0.00375, "1",
              f"{_JU}; {_JU_PAR} learning_rate = 0.3 nS for wKCMBON = 80 nS (0.3/80)",
              "depression per MBIN spike at full trace, as a fraction of the initial weight"),
    Parameter("rho", 1e-4, "1", f"{_JU}; {_JU_PAR} normalization_factor = 0.0001 (on_post w += (w_init - w) x factor)",
              "homeostatic pull towards the initial weight per MBON spike (0: off)"),
    Parameter("w_max", 1.0, "1",
              "free parameter (depression-only rule: the initial weight is the ceiling)",
              "upper clip of the weight as a multiple of the initial weight (lower clip 0)"),
    Parameter("eta_b", 0.0, "1",
              "off (0): the rule of Jürgensen et al. 2024 has no potentiation; the timing-dependent variant's value "
              "is calibrated (experiments/timing_rule.py, objective: pairing findings hit on the calibration half; "
              "docs/timing_rule.md)",
              "potentiation per KC spike at full dopamine trace (MBIN before KC), as a fraction of the initial "
              "weight; 0 switches the timing-dependent variant off"),
    Parameter("tau_d", 1 * second, "second",
              "Gkanias et al. 2022, eLife 11:e75611, Methods: a model's fit to the adult timing data of Handler et "
              "al. 2019 (slow dopamine component 1.04 s), not a larval measurement; used only with eta_b > 0 "
              "(experiments/timing_rule.py scans 1 s and 10 s)",
              "decay time constant of the dopamine trace an MBIN spike leaves at its synapses"),
], name="dopamine_plasticity")

#: The packaged MBIN valence table.
VALENCE_FILE = Path(__file__).with_name("data") / "mbin_valence.csv"
#: Allowed valence labels.
VALENCES = ("appetitive", "aversive", "unknown")
#: The packaged table of measured behavioural effects of activating single larval MBON types.
ACTIVATION_FILE = Path(__file__).with_name("data") / "mbon_activation.csv"
#: Effects of an MBON's activation and the behavioural sign each stands for.
ACTIVATION_EFFECTS = {"approach": 1, "avoidance": -1, "no_effect": 0}

#: Cell types of the pre- and postsynaptic partners of plastic synapses.
KC_TYPE, MBON_TYPE, MBIN_TYPE = KC_CELLTYPE, MBON_CELLTYPE, MBIN_CELLTYPE  # roles from the dataset module


# ----------------------------------------------------------------------------------------
# names
# ----------------------------------------------------------------------------------------
def _type_names(neurons: pd.DataFrame, celltype: str) -> pd.Series:
    """MB type name (``mb_name``, e.g. ``"DAN-i1"``) of every neuron of ``celltype``."""
    sub = neurons[neurons["celltype"] == celltype]
    names = sub["mb_name"].fillna("").astype(str).str.strip()
    return names[names != ""]


def compartment_letters(name: str) -> set[str]:
    """Compartment letters in an MB neuron name (Eichler et al. 2017 convention).

    ``"DAN-i1"`` -> ``{"i"}``; ``"MBON-h1; MBON-h2"`` -> ``{"h"}``;
    ``"OAN-e1"`` -> ``{"e"}``.

    Parameters
    ----------
    name : str
        An ``mb_name`` of the neuron table (tokens separated by ``;``).

    Returns
    -------
    set of str
    """
    out = set()
    for token in str(name).split(";"):
        token = token.strip()
        if "-" in token:
            tail = token.split("-", 1)[1]
            if tail and tail[0].isalpha():
                out.add(tail[0].lower())
    return out


# ----------------------------------------------------------------------------------------
# compartment maps
# ----------------------------------------------------------------------------------------
@dataclass
class CompartmentMap:
    """Which MBON types each MBIN type modulates.

    Attributes
    ----------
    mapping : dict of str -> tuple of str
        MBIN type -> MBON types of its compartment(s).
    method : str
        How the map was made (``"connectome"``, ``"names"``, ``"user"``).
    evidence : pandas.DataFrame or None
        For a derived map, one row per (MBIN type, MBON type) pair with the
        evidence (see :func:`derive_compartments`).
    criteria : dict
        The thresholds used.
    """

    mapping: dict
    method: str = "user"
    evidence: pd.DataFrame | None = None
    criteria: dict = field(default_factory=dict)

    def __post_init__(self):
        self.mapping = {str(k): tuple(sorted(str(v) for v in vs)) for k, vs in self.mapping.items()}

    @property
    def mbins(self) -> list[str]:
        """MBIN types with at least one MBON type."""
        return sorted(k for k, v in self.mapping.items() if v)

    def mbons_of(self, mbin: str) -> tuple[str, ...]:
        """MBON types in the compartment(s) of ``mbin`` (empty if none)."""
        return self.mapping.get(mbin, ())

    def mbins_of(self, mbon: str) -> list[str]:
        """MBIN types that modulate ``mbon``."""
        return sorted(k for k, v in self.mapping.items() if mbon in v)

    def pairs(self) -> set[tuple[str, str]]:
        """All (MBIN type, MBON type) pairs of the map."""
        return {(k, v) for k, vs in self.mapping.items() for v in vs}

    def table(self) -> pd.DataFrame:
        """The map as a table: one row per MBIN type, its MBON types joined by ``", "``."""
        return pd.DataFrame({"mbin": list(self.mapping), "mbons": [", ".join(v) for v in self.mapping.values()]})

    def to_dict(self) -> dict:
        """JSON-serialisable form (mapping, method, criteria)."""
        return {"method": self.method, "criteria": dict(self.criteria),
                "mapping": {k: list(v) for k, v in self.mapping.items()}}

    def __str__(self) -> str:
        lines = [f"compartment map ({self.method}{', ' + str(self.criteria) if self.criteria else ''}):"]
        for k in sorted(self.mapping):
            lines.append(f"  {k:8s} -> {', '.join(self.mapping[k]) or '(none)'}")
        return "\n".join(lines)


def _type_matrix(connectome, pre_type: str, post_type: str, types=None) -> pd.DataFrame:
    """Synapse counts summed over the neurons of each MB type (rows pre, columns post)."""
    n = connectome.neurons
    pre = _type_names(n, pre_type)
    post = _type_names(n, post_type)
    W = connectome.weights(types) if types is not None else connectome.weights()
    sub = W[pre.index.to_numpy()][:, post.index.to_numpy()].toarray()
    df = pd.DataFrame(sub, index=pre.to_numpy(), columns=post.to_numpy())
    return df.T.groupby(level=0).sum().T.groupby(level=0).sum()


def _kc_similarity(connectome) -> pd.DataFrame:
    """Cosine similarity of each MBIN type's output to KCs and each MBON type's input from KCs."""
    n = connectome.neurons
    kc = n.index[n["celltype"] == KC_TYPE].to_numpy()
    mbin = _type_names(n, MBIN_TYPE)
    mbon = _type_names(n, MBON_TYPE)
    W = connectome.weights()
    a = pd.DataFrame(W[mbin.index.to_numpy()][:, kc].toarray(), index=mbin.to_numpy()).groupby(level=0).sum()
    b = pd.DataFrame(W[kc][:, mbon.index.to_numpy()].toarray().T, index=mbon.to_numpy()).groupby(level=0).sum()
    an = a.to_numpy(float)
    bn = b.to_numpy(float)
    na = np.linalg.norm(an, axis=1, keepdims=True)
    nb = np.linalg.norm(bn, axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        sim = (an @ bn.T) / (na * nb.T)
    return pd.DataFrame(np.nan_to_num(sim), index=a.index, columns=b.index)


def derive_compartments(connectome, min_synapses: int = 10, min_share: float = 0.1) -> CompartmentMap:
    """Derive the MBIN -> MBON compartment map from the connectome.

    MBINs make synapses onto the MBONs of their own compartment (Eichler et
    al. 2017), so direct MBIN -> MBON synapses are the primary evidence. An
    MBON type belongs to an MBIN type's compartment when

    * the two types share at least ``min_synapses`` direct synapses (all
      synapse types, summed over the neurons of both hemispheres), and
    * these are at least ``min_share`` of the MBIN type's synapses onto MBONs
      *or* at least ``min_share`` of the MBON type's synapses from MBINs.

    Secondary evidence, reported but not used for the decision: the cosine
    similarity of the MBIN type's synapses onto KCs and the MBON type's
    synapses from KCs ("shared KC partners"). It discriminates weakly, since
    every larval KC runs through every compartment.

    Parameters
    ----------
    connectome : connectomes.Connectome
    min_synapses : int
        Minimum number of direct synapses (free parameter; default 10, i.e.
        about 5 per hemisphere).
    min_share : float
        Minimum share (free parameter; default 0.1).

    Returns
    -------
    CompartmentMap
        With ``evidence``: one row per (MBIN, MBON) type pair that shares a
        synapse or a naming letter, with columns ``mbin``, ``mbon``,
        ``synapses``, ``share_of_mbin_output``, ``share_of_mbon_input``,
        ``kc_similarity``, ``kc_rank`` (rank of the MBON type among all
        MBON types by similarity for this MBIN, 1 = most similar),
        ``in_map`` and ``by_name`` (the letters match).
    """
    D = _type_matrix(connectome, MBIN_TYPE, MBON_TYPE)
    out_tot = D.sum(axis=1).replace(0, np.nan)
    in_tot = D.sum(axis=0).replace(0, np.nan)
    share_out = D.div(out_tot, axis=0).fillna(0.0)
    share_in = D.div(in_tot, axis=1).fillna(0.0)
    S = _kc_similarity(connectome).reindex(index=D.index, columns=D.columns).fillna(0.0)
    rank = S.rank(axis=1, ascending=False, method="min").astype(int)
    chosen = (D >= min_synapses) & ((share_out >= min_share) | (share_in >= min_share))
    rows = []
    for x in D.index:
        for y in D.columns:
            named = bool(compartment_letters(x) & compartment_letters(y))
            if D.at[x, y] > 0 or named:
                rows.append({"mbin": x, "mbon": y, "synapses": int(D.at[x, y]),
                             "share_of_mbin_output": float(share_out.at[x, y]),
                             "share_of_mbon_input": float(share_in.at[x, y]),
                             "kc_similarity": float(S.at[x, y]), "kc_rank": int(rank.at[x, y]),
                             "in_map": bool(chosen.at[x, y]), "by_name": named})
    evidence = pd.DataFrame(rows)
    mapping = {x: [y for y in D.columns if chosen.at[x, y]] for x in D.index}
    return CompartmentMap(mapping, "connectome", evidence,
                          {"min_synapses": int(min_synapses), "min_share": float(min_share)})


def naming_compartments(connectome) -> CompartmentMap:
    """The map implied by the naming convention of Eichler et al. 2017.

    An MBIN and an MBON are in the same compartment when their names share
    the compartment letter (``DAN-i1`` with ``MBON-i1``; ``DAN-d1`` with
    ``MBON-d1``, ``-d2``, ``-d3``; ``OAN-e1`` with ``MBON-e1``, ``-e2``).

    Returns
    -------
    CompartmentMap
    """
    n = connectome.neurons
    mbins = sorted(set(_type_names(n, MBIN_TYPE)))
    mbons = sorted(set(_type_names(n, MBON_TYPE)))
    return CompartmentMap({x: [y for y in mbons if compartment_letters(x) & compartment_letters(y)]
                           for x in mbins}, "names")


def compare_maps(derived: CompartmentMap, named: CompartmentMap) -> pd.DataFrame:
    """Every disagreement between two maps.

    Returns
    -------
    pandas.DataFrame
        One row per (MBIN, MBON) pair in exactly one of the maps, with
        ``mbin``, ``mbon``, ``kind`` (``"only in <method>"``) and, when the
        first map has evidence, the number of direct synapses.
    """
    a, b = derived.pairs(), named.pairs()
    syn = {}
    if derived.evidence is not None and len(derived.evidence):
        syn = {(r.mbin, r.mbon): r.synapses for r in derived.evidence.itertuples()}
    rows = [{"mbin": x, "mbon": y, "kind": f"only in {derived.method}", "synapses": syn.get((x, y), 0)}
            for x, y in sorted(a - b)]
    rows += [{"mbin": x, "mbon": y, "kind": f"only in {named.method}", "synapses": syn.get((x, y), 0)}
             for x, y in sorted(b - a)]
    return pd.DataFrame(rows, columns=["mbin", "mbon", "kind", "synapses"])


def mb_sides(connectome, min_fraction: float = 0.1) -> dict[int, set[str]]:
    """Which mushroom bodies (``"left"``, ``"right"``) each MBIN neuron innervates.

    An MBIN innervates a side when at least ``min_fraction`` of its synapses
    onto KCs and MBONs go to neurons of that hemisphere (MBON dendrites lie
    in the ipsilateral MB; free parameter, default 0.1). Many larval DANs are
    bilateral (e.g. DAN-i1), others contralateral (e.g. DAN-g1).

    Returns
    -------
    dict
        Neuron index -> set of sides. An MBIN without MB synapses (or with an
        unknown hemisphere of its targets) gets both sides.
    """
    n = connectome.neurons
    hemi = n["hemisphere"].astype(str).to_numpy()
    targets = n.index[n["celltype"].isin([KC_TYPE, MBON_TYPE])].to_numpy()
    W = connectome.weights()
    out = {}
    for i in n.index[n["celltype"] == MBIN_TYPE].to_numpy():
        row = np.asarray(W[i][:, targets].todense()).ravel().astype(float)
        total = row.sum()
        sides = set()
        if total > 0:
            for side in ("left", "right"):
                if row[hemi[targets] == side].sum() >= min_fraction * total:
                    sides.add(side)
        out[int(i)] = sides or {"left", "right"}
    return out


def modulation_targets(connectome, compartments: CompartmentMap, mbins=None,
                       side_fraction: float = 0.1) -> dict[int, np.ndarray]:
    """MBON neurons whose KC input each MBIN neuron modulates.

    MBIN neuron ``d`` of type ``X`` modulates MBON neuron ``m`` of type ``Y``
    when ``Y`` is in ``X``'s compartment and ``m`` lies in an MB that ``d``
    innervates (:func:`mb_sides`).

    Parameters
    ----------
    connectome : connectomes.Connectome
    compartments : CompartmentMap
    mbins : sequence of str, optional
        Restrict to these MBIN types (shell wildcards, e.g. ``["DAN-i1"]`` or
        ``["DAN-*"]``); default all.
    side_fraction : float
        See :func:`mb_sides`.

    Returns
    -------
    dict
        MBIN neuron index -> array of MBON neuron indices (MBINs without
        targets are left out).
    """
    n = connectome.neurons
    mbin_names = _type_names(n, MBIN_TYPE)
    mbon_names = _type_names(n, MBON_TYPE)
    hemi = n["hemisphere"].astype(str)
    sides = mb_sides(connectome, side_fraction)
    if mbins is not None:
        pats = [mbins] if isinstance(mbins, str) else list(mbins)
        known = set(mbin_names)
        for p in pats:
            if not any(fnmatch.fnmatchcase(k.lower(), p.lower()) for k in known):
                raise ValueError(f"no MBIN type matches {p!r}; known: {', '.join(sorted(known))}")
    out = {}
    for i, x in mbin_names.items():
        if mbins is not None and not any(fnmatch.fnmatchcase(x.lower(), p.lower()) for p in pats):
            continue
        types = set(compartments.mbons_of(x))
        m = [int(j) for j, y in mbon_names.items()
             if y in types and (hemi[j] in sides[int(i)] or hemi[j] not in ("left", "right"))]
        if m:
            out[int(i)] = np.asarray(sorted(m), dtype=np.int64)
    return out


# ----------------------------------------------------------------------------------------
# valence
# ----------------------------------------------------------------------------------------
def mbin_valence(override=None, path=VALENCE_FILE) -> pd.DataFrame:
    """The valence table of the MBINs, with a source per entry.

    Parameters
    ----------
    override : dict or path, optional
        ``{mbin: valence}`` or ``{mbin: (valence, source)}``, or a CSV with
        columns ``mbin``, ``valence`` and optionally ``source``, ``note``;
        its rows replace (or add to) the packaged table, their source
        marked ``"user override"`` unless given.
    path : path-like
        The base table (default ``models/data/mbin_valence.csv``).

    Returns
    -------
    pandas.DataFrame
        Indexed by MBIN type, columns ``valence`` (``appetitive``,
        ``aversive``, ``unknown``), ``evidence``, ``source``, ``note``.

    Raises
    ------
    ValueError
        For a valence other than those in :data:`VALENCES`.
    """
    table = pd.read_csv(path, dtype=str, keep_default_na=False).set_index("mbin")
    if override is not None:
        if isinstance(override, (str, os.PathLike)):
            extra = pd.read_csv(override, dtype=str, keep_default_na=False).set_index("mbin")
            rows = {k: (r["valence"], r.get("source") or "user override", r.get("note", ""))
                    for k, r in extra.iterrows()}
        else:
            rows = {}
            for k, v in dict(override).items():
                val, src = (v if isinstance(v, (tuple, list)) else (v, "user override"))
                rows[k] = (val, src, "")
        for k, (val, src, note) in rows.items():
            table.loc[k, ["valence", "evidence", "source", "note"]] = [val, "user", src, note]
    table["valence"] = table["valence"].str.strip().str.lower()
    bad = table.index[~table["valence"].isin(VALENCES)]
    if len(bad):
        raise ValueError(f"valence of {list(bad)} must be one of {VALENCES}, got "
                         f"{table.loc[bad, 'valence'].tolist()}")
    return table


_SIGN = {"appetitive": 1, "aversive": -1, "unknown": 0}


def mbon_activation(path=ACTIVATION_FILE) -> pd.DataFrame:
    """Measured behavioural effect of activating single larval MBON types, with its source.

    The packaged table (``models/data/mbon_activation.csv``) transcribes
    Eschbach et al. 2021 (eLife 10:e62567, doi:10.7554/eLife.62567, Fig. 2b-g
    and Fig. 2-figure supplement 2): split-GAL4 lines driving CsChrimson in
    third-instar larvae, no odour, red light for 15 s; turning and crawling
    speed against an empty-line control (Welch's Z test). ``approach`` and
    ``avoidance`` differed significantly from control, ``no_effect`` did not
    (p > 0.05). MBON-b1/b2, -g1/g2 and -h1/h2 were activated as pairs that the
    lines could not separate (``tested_with`` names the partner); both members
    carry the pair's effect. Not used by the model: it checks the MBON signs
    that :func:`mbon_valence` derives from the MBINs' valences.

    Parameters
    ----------
    path : path-like
        A CSV with columns ``mbon``, ``effect`` (``approach``, ``avoidance`` or
        ``no_effect``), ``tested_with``, ``line``, ``figure``, ``source`` (and
        optionally ``larvae``, ``quote``).

    Returns
    -------
    pandas.DataFrame
        Indexed by MBON type; ``sign`` is +1 (approach), -1 (avoidance) or 0.

    Raises
    ------
    ValueError
        Naming the file, the row (line of the file) and the column: a missing
        column, an empty ``mbon`` or ``source``, an unknown ``effect``, or an
        MBON listed twice.
    """
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in ("mbon", "effect", "tested_with", "line", "figure", "source") if c not in table.columns]
    if missing:
        raise ValueError(f"{path}: missing column(s) {missing}; columns are {list(table.columns)}")
    for k, row in table.iterrows():
        where = f"{path}, line {k + 2}"
        if not row["mbon"].strip():
            raise ValueError(f"{where}, column 'mbon': empty")
        if row["effect"].strip() not in ACTIVATION_EFFECTS:
            raise ValueError(f"{where}, column 'effect': {row['effect']!r} for {row['mbon']}; "
                             f"expected one of {list(ACTIVATION_EFFECTS)}")
        if not row["source"].strip():
            raise ValueError(f"{where}, column 'source': empty for {row['mbon']}")
    table["mbon"] = table["mbon"].str.strip()
    twice = table["mbon"][table["mbon"].duplicated()].tolist()
    if twice:
        raise ValueError(f"{path}, column 'mbon': listed twice: {twice}")
    table["effect"] = table["effect"].str.strip()
    table["sign"] = table["effect"].map(ACTIVATION_EFFECTS).astype(int)
    return table.set_index("mbon")


def activation_valence(types, activation: pd.DataFrame | None = None) -> pd.Series:
    """Each MBON type's behavioural sign as measured by activating it (:func:`mbon_activation`).

    +1 approach, -1 avoidance, 0 for no significant effect or not tested. A
    type named for several MBONs (``"MBON-h1; MBON-h2"``) has their common
    effect. A readout for :meth:`experiments.learning.LearningRun.valence_index`
    (``signs=``) that uses no MBIN valence.

    Parameters
    ----------
    types : iterable of str
        MBON type names (e.g. the ``name`` column of MBON responses).
    activation : pandas.DataFrame, optional
        :func:`mbon_activation` (default: the packaged table).

    Returns
    -------
    pandas.Series
        MBON type -> +1, -1 or 0, for every type given.
    """
    types = sorted(set(types))
    t = compare_mbon_signs(dict.fromkeys(types, 0), activation).set_index("mbon")["measured"]
    return pd.Series({m: int(t[m]) if pd.notna(t[m]) else 0 for m in types}, dtype=int)


def compare_mbon_signs(signs, activation: pd.DataFrame | None = None) -> pd.DataFrame:
    """The model's MBON signs against the measured effects of activating each MBON type.

    Parameters
    ----------
    signs : mapping or pandas.Series
        MBON type -> +1, -1 or 0 (:func:`mbon_valence`).
    activation : pandas.DataFrame, optional
        :func:`mbon_activation` (default: the packaged table).

    Returns
    -------
    pandas.DataFrame
        One row per MBON type in either: ``model`` (sign, or NaN when the
        model has no such type), ``measured`` (sign, or NaN when not tested),
        ``effect``, ``pair`` (the partner of a pair activated together, or
        ''), ``verdict``: ``agree`` (same non-zero sign), ``opposite``,
        ``no effect`` (model signed, activation had no significant effect),
        ``unsigned, effect`` (model 0, activation had an effect),
        ``unsigned, no effect``, ``not tested`` or ``not in the model``.
    """
    act = mbon_activation() if activation is None else activation
    signs = dict(pd.Series(signs).astype(int))
    # a model type named for several MBONs ("MBON-h1; MBON-h2": neurons annotated as either) is measured when
    # all of them were, with one effect
    parts = {m: [x.strip() for x in str(m).split(";") if x.strip()] for m in signs}
    covered = {x for ps in parts.values() for x in ps}
    rows = []
    for m in sorted(set(signs) | (set(act.index) - covered)):
        model = signs.get(m)
        ps = parts.get(m, [m])
        tested = all(x in act.index for x in ps) and len({act.loc[x, "effect"] for x in ps}) == 1
        meas = int(act.loc[ps[0], "sign"]) if tested else None
        if model is None:
            verdict = "not in the model"
        elif not tested:
            verdict = "not tested"
        elif model != 0 and meas != 0:
            verdict = "agree" if model == meas else "opposite"
        elif model != 0:
            verdict = "no effect"
        else:
            verdict = "unsigned, effect" if meas != 0 else "unsigned, no effect"
        partner = {act.loc[x, "tested_with"] for x in ps} - {"alone"} - set(ps) if tested else set()
        together = "/".join(ps) if len(ps) > 1 else ""
        rows.append({"mbon": m, "model": model, "measured": meas, "effect": act.loc[ps[0], "effect"] if tested else "",
                     "pair": together or ", ".join(sorted(partner)), "verdict": verdict})
    return pd.DataFrame(rows)


def mbon_valence(compartments: CompartmentMap, valence: pd.DataFrame | None = None) -> pd.Series:
    """Behavioural sign of each MBON type, opposite to its compartment's reinforcement.

    Convention (Aso et al. 2014, eLife 3:e04580, adult fly; used for the
    larva by Eschbach et al. 2021, eLife): MBONs of compartments whose DANs
    signal punishment promote approach (+1), MBONs of compartments whose
    DANs signal reward promote avoidance (-1); training depresses the
    KC -> MBON synapses of the trained compartment and so shifts the
    balance towards the opposite behaviour. An MBON type modulated by MBINs
    of both valences, or only of unknown valence, gets 0.

    Returns
    -------
    pandas.Series
        MBON type -> +1 (approach), -1 (avoidance) or 0.
    """
    valence = mbin_valence() if valence is None else valence
    out = {}
    for y in sorted({v for vs in compartments.mapping.values() for v in vs}):
        s = {_SIGN.get(valence["valence"].get(x, "unknown"), 0) for x in compartments.mbins_of(y)} - {0}
        out[y] = -s.pop() if len(s) == 1 else 0
    return pd.Series(out, dtype=int)


# ----------------------------------------------------------------------------------------
# reference implementation (for verification)
# ----------------------------------------------------------------------------------------
def reference_weight(w0: float, kc_times, mbin_times, mbon_times=(), *, eta: float, tau_e: float,
                     rho: float = 0.0, w_max: float = 1.0, trace: str = "set", windows=None,
                     eta_b: float = 0.0, tau_d: float = 1.0, dopamine_trace: str = "set") -> float:
    """Weight of one plastic synapse after the given spikes, event by event (numpy).

    Times are arrival times at the synapse (spike time plus delay) in
    seconds; at equal times KC events come first, then MBIN, then MBON
    events (the order of the Brian2 implementation).

    Parameters
    ----------
    w0 : float
        Initial weight.
    kc_times, mbin_times, mbon_times : sequences of float
    eta, tau_e, rho, w_max, trace, windows, eta_b, tau_d, dopamine_trace
        As in :class:`DopaminePlasticity` (``tau_e`` and ``tau_d`` in seconds,
        windows as ``[(start_s, stop_s), ...]``).

    Returns
    -------
    float
    """
    events = sorted([(float(t), 0) for t in kc_times] + [(float(t), 1) for t in mbin_times]
                    + [(float(t), 2) for t in mbon_times])
    w, e, t_e, d, t_d = float(w0), 0.0, 0.0, 0.0, 0.0

    def on(t):
        return windows is None or any(a <= t < b for a, b in windows)

    for t, kind in events:
        if kind == 0:
            if eta_b > 0 and on(t):
                w = min(max(w + eta_b * w0 * d * np.exp(-(t - t_d) / tau_d), 0.0), w_max * w0)
            e = 1.0 if trace == "set" else e * np.exp(-(t - t_e) / tau_e) + 1.0
            t_e = t
        elif kind == 1:
            if on(t):
                w = min(max(w - eta * w0 * e * np.exp(-(t - t_e) / tau_e), 0.0), w_max * w0)
            if eta_b > 0:  # the dopamine trace follows the MBIN spikes also outside the windows
                d = 1.0 if dopamine_trace == "set" else d * np.exp(-(t - t_d) / tau_d) + 1.0
                t_d = t
        elif kind == 2 and on(t):
            w = w + rho * (w0 - w)
    return w


# ----------------------------------------------------------------------------------------
# the rule
# ----------------------------------------------------------------------------------------
@dataclass
class WeightHistory:
    """Recorded plastic weights of the last :meth:`sim.Network.run`.

    Attributes
    ----------
    pre, post : ndarray of int
        KC and MBON neuron index of every plastic synapse.
    w0 : ndarray
        Initial weights (SI units: volt or siemens).
    times_ms : ndarray
        Sample times (ms from trial start).
    values : ndarray or None
        ``[n_trials, n_synapses, n_times]`` weights (SI), when
        ``record="synapses"``; else None.
    relative : ndarray
        ``[n_trials, n_mbons, n_times]`` summed weight onto each MBON
        divided by its initial sum (1 = unchanged).
    mbons : ndarray of int
        MBON neuron indices of the rows of ``relative``.
    final : ndarray or None
        ``[n_trials, n_synapses]`` weights at the end of each trial (SI).
    """

    pre: np.ndarray
    post: np.ndarray
    w0: np.ndarray
    times_ms: np.ndarray
    values: np.ndarray | None
    relative: np.ndarray
    mbons: np.ndarray
    final: np.ndarray | None = None


@dataclass
class PlasticPlan:
    """The plastic KC -> MBON synapses and the constants of the rule, as plain arrays.

    Made by :meth:`DopaminePlasticity.plan`; built into Brian2 objects by
    :meth:`DopaminePlasticity.build` and simulated directly by the numba
    engine (:func:`sim.engine_numba.simulate`, ``plasticity=``).

    Attributes
    ----------
    pre, post : ndarray of int64
        KC and MBON neuron index of every plastic synapse (Brian2's synapse order).
    w0, w_max : ndarray of float
        Initial weight and upper clip of every plastic synapse (SI: volt or siemens).
    mod_pre, mod_syn : ndarray of int64
        The modulation: MBIN neuron ``mod_pre[m]`` acts on plastic synapse
        ``mod_syn[m]`` (Brian2's order of the modulation synapses).
    eta, rho : float
        Depression per MBIN spike (relative to ``w0``); homeostasis per MBON spike.
    tau_e : float
        Decay time constant of the eligibility trace (second).
    eta_b, tau_d : float
        Potentiation per KC spike at full dopamine trace (relative to ``w0``;
        0: no timing-dependent variant) and the trace's time constant (second).
    dopamine_trace : {"set", "add"}
        An MBIN spike sets the dopamine trace to 1 or adds 1 to it.
    trace : {"set", "add"}
    windows : list of (start, stop) or None
        Plastic periods in seconds from the trial start (None: always).
    record_dt : float or None
        Sampling interval of the weights (second); None: not recorded.
    """

    pre: np.ndarray
    post: np.ndarray
    w0: np.ndarray
    w_max: np.ndarray
    mod_pre: np.ndarray
    mod_syn: np.ndarray
    eta: float
    tau_e: float
    rho: float
    trace: str = "set"
    windows: list | None = None
    record_dt: float | None = None
    eta_b: float = 0.0
    tau_d: float = 1.0
    dopamine_trace: str = "set"


def _windows_s(windows) -> list[tuple[float, float]] | None:
    if windows is None:
        return None
    out = []
    for w in windows:
        a, b = w
        a = float(a / second) if isinstance(a, Quantity) else float(a)
        b = float(b / second) if isinstance(b, Quantity) else float(b)
        if b < a:
            raise ValueError(f"plasticity window {w} ends before it starts")
        out.append((a, b))
    out.sort()
    merged = []
    for a, b in out:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    return merged


@runtime_checkable
class PlasticityRule(Protocol):
    """What :class:`sim.Network` and its backends ask of a plasticity rule.

    :class:`DopaminePlasticity` is the implementation larvasim ships; a new
    rule implements these methods (see ``docs/extending.md``).

    * ``plastic_edges(connectome, pre, post) -> bool array``: which connections
      (edges of the connectome, presynaptic ``pre``, postsynaptic ``post``) the
      rule takes over;
    * ``plan(network, *, pre, post, count, sign) -> PlasticPlan``: those
      connections and the rule's constants as plain arrays (the numba engine
      simulates the plan; a rule that the network cannot hold raises
      ``ValueError`` here, at construction);
    * ``build(network, *, pre, post, count, sign, clock) -> list``: the Brian2
      objects, ``[(synapses, pre, post, initial weights), *others]``;
    * ``start(plan)``: forget earlier runs before the trials of a new one;
    * ``collect(network, trial) -> dict`` (Brian2 devices) and
      ``summarise_trial(w, t_ms, trial, final) -> dict`` (numba): the recorded
      weights of a finished trial, ``{variable: (indices, times_ms, values, unit)}``;
    * ``to_dict() -> dict``: a JSON-serialisable description (metadata, and the
      key under which prepared engines are kept).
    """

    def plastic_edges(self, connectome, pre, post) -> np.ndarray: ...

    def plan(self, network, *, pre, post, count, sign) -> "PlasticPlan": ...

    def build(self, network, *, pre, post, count, sign, clock) -> list: ...

    def start(self, plan: "PlasticPlan") -> None: ...

    def collect(self, network, trial: int) -> dict: ...

    def summarise_trial(self, w, t_ms, trial: int, final=None) -> dict: ...

    def to_dict(self) -> dict: ...


class DopaminePlasticity:
    """Three-factor KC -> MBON plasticity gated by the MBINs of each compartment.

    Pass it to :class:`sim.Network` (``plasticity=``). Every trial starts
    from the initial weights (one trial = one virtual larva).

    Parameters
    ----------
    compartments : {"connectome", "names"}, dict or CompartmentMap
        The MBIN -> MBON map: derived from the data (default,
        :func:`derive_compartments`), from the names
        (:func:`naming_compartments`), or given (``{"DAN-i1": ["MBON-i1"]}``).
    mbins : sequence of str, optional
        Only these MBIN types (shell wildcards) cause plasticity, and only
        the KC synapses onto the MBONs of their compartments are plastic
        ("restricted to chosen compartments"). Default: all.
    windows : sequence of (start, stop), optional
        Times (Brian2 quantities or seconds from trial start) during which
        weights may change; outside them the weights are frozen (no
        depression, no homeostasis; KC traces still follow the spikes).
        Default: always plastic.
    trace : {"set", "add"}
        A KC spike sets the trace to 1 (Jürgensen et al. 2024, ``el_trace =
        1``) or adds 1 to it.
    dopamine_trace : {"set", "add"}
        With the timing-dependent variant (``eta_b > 0``): an MBIN spike sets
        the synapse's dopamine trace to 1, or adds 1 to it (the trace then
        grows with the MBIN's rate, about ``rate x tau_d`` at steady firing).
    record : {"mbon", "synapses", None}
        ``"mbon"``: record every plastic weight every ``record_dt`` and put
        each MBON's summed weight relative to its start into the results
        (``Results.states["kc_mbon_w"]``, unit 1); ``"synapses"``: also keep
        every synapse's weight (:attr:`history`); ``record_dt`` equal to the
        model's ``dt`` records every change. ``None``: nothing.
    record_dt : Quantity (time)
        Sampling interval of the weights (default 50 ms).
    enabled : bool
        ``False`` switches plasticity off (no plastic synapses at all: the
        network is the static one).
    side_fraction : float
        See :func:`mb_sides`.
    **overrides
        Values for :data:`PLASTICITY_PARAMETERS` (``tau_e=2*second``,
        ``eta=0.02``, ``rho=0``, ``w_max=1.5``; the timing-dependent variant:
        ``eta_b=0.004, tau_d=1*second, w_max=2``).

    Attributes
    ----------
    parameters : ParameterSet
    history : WeightHistory or None
        Recorded weights of the last run.
    targets : dict
        MBIN neuron -> modulated MBON neurons (after the first build).

    Notes
    -----
    * On the numpy device Brian2 cannot vectorise the modulation (several
      MBINs may hit one synapse in a step) and loops in Python at MBIN
      spikes: fine for small networks; use ``cpp_standalone`` (or
      ``cython``) for the whole brain.
    * :class:`sim.Silence` and ``Network.run(weight_scale=...)`` set the
      plastic ``w`` at the start of a trial but not ``w0`` and ``w_max``:
      depression, homeostasis and the clip still refer to the built weights.
    """

    name = "dopamine_plasticity"

    def __init__(self, compartments="connectome", *, mbins=None, windows=None, trace: str = "set",
                 record: str | None = "mbon", record_dt=50 * ms, enabled: bool = True,
                 side_fraction: float = 0.1, dopamine_trace: str = "set", **overrides):
        if trace not in ("set", "add"):
            raise ValueError(f"trace must be 'set' or 'add', got {trace!r}")
        if dopamine_trace not in ("set", "add"):
            raise ValueError(f"dopamine_trace must be 'set' or 'add', got {dopamine_trace!r}")
        self.dopamine_trace = dopamine_trace
        if record not in ("mbon", "synapses", None):
            raise ValueError(f"record must be 'mbon', 'synapses' or None, got {record!r}")
        self.parameters = PLASTICITY_PARAMETERS.override(**overrides) if overrides else PLASTICITY_PARAMETERS
        for k in ("eta", "rho", "w_max", "eta_b"):
            if float(self.parameters[k].value) < 0:
                raise ValueError(f"{k} must be >= 0, got {self.parameters[k].value}")
        for k in ("tau_e", "tau_d"):
            if not float(self.parameters[k].value / second) > 0:
                raise ValueError(f"{k} must be positive, got {self.parameters[k].value}")
        self._compartments_arg = compartments
        self.mbins = None if mbins is None else ([mbins] if isinstance(mbins, str) else list(mbins))
        self.windows = _windows_s(windows)
        self.trace = trace
        self.record = record
        self.record_dt = record_dt
        self.enabled = bool(enabled)
        self.side_fraction = float(side_fraction)
        self.compartments: CompartmentMap | None = None
        self.targets: dict[int, np.ndarray] = {}
        self.history: WeightHistory | None = None
        self._modulated = None
        self._monitor = None
        self._syn = None
        self.n_modulation = 0

    # -- helpers ---------------------------------------------------------------------
    def _resolve(self, connectome) -> CompartmentMap:
        arg = self._compartments_arg
        if isinstance(arg, CompartmentMap):
            return arg
        if isinstance(arg, Mapping):
            return CompartmentMap(dict(arg), "user")
        if arg == "connectome":
            return derive_compartments(connectome)
        if arg == "names":
            return naming_compartments(connectome)
        raise ValueError(f"compartments must be 'connectome', 'names', a dict or a CompartmentMap, got {arg!r}")

    def _prepare(self, connectome):
        if self._modulated is None or self._modulated[0] is not connectome:
            self.compartments = self._resolve(connectome)
            self.targets = modulation_targets(connectome, self.compartments, self.mbins, self.side_fraction)
            mod = np.zeros(connectome.n_neurons, dtype=bool)
            for m in self.targets.values():
                mod[m] = True
            self._modulated = (connectome, mod)
        return self._modulated[1]

    def _gate(self) -> str:
        if self.windows is None:
            return "1"
        if not self.windows:
            return "0"
        terms = " or ".join(f"(t >= {a!r}*second and t < {b!r}*second)" for a, b in self.windows)
        return f"int({terms})"

    # -- the plasticity hook of sim.Network ---------------------------------------------
    def plastic_edges(self, connectome, pre, post) -> np.ndarray:
        """Boolean mask over the edges ``(pre, post)``: KC -> MBON edges onto modulated MBONs."""
        pre = np.asarray(pre)
        post = np.asarray(post)
        if not self.enabled:
            return np.zeros(len(pre), dtype=bool)
        modulated = self._prepare(connectome)
        ct = connectome.neurons["celltype"].to_numpy()
        return (ct[pre] == KC_TYPE) & modulated[post]

    def plan(self, network, *, pre, post, count, sign) -> "PlasticPlan":
        """The plastic synapses and the constants of the rule as plain arrays (SI units).

        What :meth:`build` turns into Brian2 objects and what the numba engine
        (:mod:`sim.engine_numba`) simulates directly: one description, two
        simulators.

        Parameters
        ----------
        network : sim.Network
            Supplies ``connectome``, ``model`` and the initial weights
            (``network.synaptic_weights``).
        pre, post, count, sign : arrays
            The plastic connections (KC, MBON, synapse count, presynaptic sign).

        Returns
        -------
        PlasticPlan
        """
        if np.any(np.asarray(sign) < 0):
            raise ValueError(f"{int(np.sum(np.asarray(sign) < 0))} plastic KC->MBON connection(s) have an "
                             "inhibitory presynaptic sign; the rule needs excitatory KCs (acetylcholine)")
        self._prepare(network.connectome)
        p = self.parameters
        pre = np.asarray(pre, dtype=np.int64)
        post = np.asarray(post, dtype=np.int64)
        w0 = np.asarray(network.synaptic_weights(post, count, np.ones(len(count)), pre=pre), dtype=float)
        # modulation: MBIN spike -> every plastic synapse onto its compartment's MBONs (same delay)
        mi, mj = [], []
        for d, mbons in self.targets.items():
            k = np.flatnonzero(np.isin(post, mbons))
            mi.append(np.full(len(k), d, dtype=np.int64))
            mj.append(k.astype(np.int64))
        record_dt = None if self.record is None else float(self.record_dt / second)
        return PlasticPlan(
            pre=pre, post=post, w0=w0, w_max=w0 * float(p["w_max"].value),
            mod_pre=np.concatenate(mi) if mi else np.zeros(0, np.int64),
            mod_syn=np.concatenate(mj) if mj else np.zeros(0, np.int64),
            eta=float(p["eta"].value), tau_e=float(p["tau_e"].value / second), rho=float(p["rho"].value),
            trace=self.trace, windows=None if self.windows is None else list(self.windows), record_dt=record_dt,
            eta_b=float(p["eta_b"].value), tau_d=float(p["tau_d"].value / second), dopamine_trace=self.dopamine_trace)

    def build(self, network, *, pre, post, count, sign, clock):
        """Create the Brian2 objects (called by :class:`sim.Network`).

        Returns
        -------
        list
            ``[(plastic synapses, pre, post, initial weights), modulation
            synapses, (weight monitor)]``.
        """
        plan = self.plan(network, pre=pre, post=post, count=count, sign=sign)
        model = network.model
        kw = model.synapses_kwargs("excitatory")
        unit = model.synapse_model.split(":")[1].strip()
        syn_model = (f"w : {unit}\nw0 : {unit} (constant)\nw_max : {unit} (constant)\n"
                     "elig : 1\nt_elig : second")
        trace_code = ("elig = 1" if self.trace == "set"
                      else "elig = elig * exp(-(t - t_elig) / tau_e) + 1")
        gate = self._gate()
        ns = {"eta": plan.eta, "tau_e": plan.tau_e * second, "rho": plan.rho}
        on_post = f"w = w + {gate} * rho * (w0 - w)" if plan.rho > 0 else None
        potentiate, dopamine = "", ""
        if plan.eta_b > 0:  # the timing-dependent variant: only then are its variables and statements built
            syn_model += "\ndop : 1\nt_dop : second"
            ns.update(eta_b=plan.eta_b, tau_d=plan.tau_d * second)
            potentiate = f"w = clip(w + {gate} * eta_b * w0 * dop * exp(-(t - t_dop) / tau_d), 0 * w0, w_max)\n"
            dopamine = ("\ndop_post = 1" if plan.dopamine_trace == "set"
                        else "\ndop_post = dop_post * exp(-(t - t_dop_post) / tau_d) + 1") + "\nt_dop_post = t"
        syn = Synapses(network.group, network.group, model=syn_model,
                       on_pre=f"{kw['on_pre']}\n{potentiate}{trace_code}\nt_elig = t", on_post=on_post,
                       delay=kw["delay"], namespace=ns, clock=clock, name="plastic_kc_mbon")
        syn.connect(i=plan.pre, j=plan.post)
        w_unit = get_unit(syn.w.dim)
        syn.w = plan.w0 * w_unit
        syn.w0 = plan.w0 * w_unit
        syn.w_max = plan.w_max * w_unit
        mod = Synapses(network.group, syn, model="", namespace=ns, clock=clock, delay=kw["delay"],
                       on_pre=(f"w_post = clip(w_post - {gate} * eta * w0_post * elig_post"
                               f" * exp(-(t - t_elig_post) / tau_e), 0 * w0_post, w_max_post){dopamine}"),
                       name="plastic_kc_mbon_modulation")
        if len(plan.mod_pre):
            mod.connect(i=plan.mod_pre, j=plan.mod_syn)
        mod.pre.order = 0  # after the KC pathway (order -1), before homeostasis (order +1)
        objs = [mod]
        self._syn = syn
        self._monitor = None
        if self.record is not None:
            self._monitor = StateMonitor(syn, "w", record=True, dt=self.record_dt, name="plastic_kc_mbon_w")
            objs.append(self._monitor)
        self.start(plan)
        return [(syn, plan.pre, plan.post, plan.w0.copy()), *objs]

    def start(self, plan: "PlasticPlan"):
        """Forget the history of earlier builds; remember the plastic synapses of this one."""
        self._pre, self._post, self._w0 = plan.pre, plan.post, np.asarray(plan.w0, dtype=float)
        self._trial_values, self._trial_rel, self._trial_final = [], [], []
        self.history = None
        self.n_modulation = len(plan.mod_pre)

    def collect(self, network, trial: int) -> dict:
        """Weights of the trial that just ran (called by :class:`sim.Network` after each trial).

        Returns
        -------
        dict
            ``{"kc_mbon_w": (MBON indices, times_ms, values [n_mbons, n_times], "1")}``
            (summed weight onto each MBON relative to its initial sum), or
            ``{}`` when nothing is recorded.
        """
        if self._syn is None:  # nothing was built (disabled, or no plastic synapse)
            return {}
        final = np.array(self._syn.w_[:], dtype=float, copy=True)
        if self._monitor is None:
            return self.summarise_trial(None, np.zeros(0), trial, final)
        w = np.array(self._monitor.w_[:], dtype=float, copy=True)  # [n_syn, n_times], SI (a copy: the
        # monitor reuses its buffer in the next trial)
        return self.summarise_trial(w, np.asarray(self._monitor.t[:] / ms, dtype=float), trial, final)

    def _mbon_groups(self):
        """The plastic synapses grouped by MBON (computed once): the MBONs, an order of the synapses that
        groups them by MBON (stable; None when they are grouped already), the bounds of each MBON's group
        in that order, and each MBON's initial total weight."""
        if getattr(self, "_groups", None) is None or self._groups[0] is not self._post:
            mbons = np.unique(self._post)
            pos = np.searchsorted(mbons, self._post)
            order = np.argsort(pos, kind="stable")
            bounds = np.searchsorted(pos[order], np.arange(len(mbons) + 1))
            base = np.zeros(len(mbons))
            np.add.at(base, pos, self._w0)
            grouped = bool(np.all(np.diff(pos) >= 0))
            self._groups = (self._post, (mbons, None if grouped else order, bounds, base))
        return self._groups[1]

    def summarise_trial(self, w: np.ndarray | None, t_ms: np.ndarray, trial: int, final=None) -> dict:
        """Store one trial's weights in :attr:`history`; return what goes into the results.

        Called for every trial by :meth:`collect` (Brian2 devices) and by
        :class:`sim.Network` with the numba engine's weights.

        Parameters
        ----------
        w : ndarray or None
            ``[n_synapses, n_times]`` plastic weights (SI) sampled at ``t_ms``
            (None when the rule records nothing).
        t_ms : ndarray
            Sample times (ms from the trial start).
        trial : int
            Trial number (0 starts a new history).
        final : ndarray, optional
            ``[n_synapses]`` weights at the end of the trial.

        Returns
        -------
        dict
            ``{"kc_mbon_w": (MBON indices, times_ms, values [n_mbons, n_times], "1")}``,
            or ``{}`` when the rule records nothing.
        """
        if trial == 0:
            self._trial_values, self._trial_rel, self._trial_final = [], [], []
        mbons, order, bounds, base = self._mbon_groups()
        w = np.zeros((len(self._post), 0)) if w is None else w
        # each MBON's synapses summed row by row, in their own order, as np.add.at would (at a fraction of its
        # cost); a single sample is one column, which NumPy would sum pairwise, so np.add.at keeps that case
        if w.shape[1] > 1:
            ws = w if order is None else w[order]
            tot = np.zeros((len(mbons), w.shape[1]))
            for k in range(len(mbons)):
                tot[k] = ws[bounds[k]:bounds[k + 1]].sum(axis=0)
        else:
            tot = np.zeros((len(mbons), w.shape[1]))
            np.add.at(tot, np.searchsorted(mbons, self._post), w)
        rel = tot / np.where(base > 0, base, 1.0)[:, None]
        self._trial_rel.append(rel)
        if self.record == "synapses":
            self._trial_values.append(w)
        if final is not None:
            self._trial_final.append(np.asarray(final, dtype=float))
        self.history = WeightHistory(self._pre, self._post, self._w0, t_ms,
                                     np.stack(self._trial_values) if self._trial_values else None,
                                     np.stack(self._trial_rel), mbons,
                                     np.stack(self._trial_final) if self._trial_final else None)
        if self.record is None:
            return {}
        return {"kc_mbon_w": (mbons, t_ms, rel, "1")}

    # -- description ---------------------------------------------------------------------
    def to_dict(self) -> dict:
        """JSON-serialisable description (parameters, map, restriction, windows, recording)."""
        return {
            "rule": self.name,
            "enabled": self.enabled,
            "parameters": self.parameters.to_dict(),
            "trace": self.trace,
            **({"dopamine_trace": self.dopamine_trace} if float(self.parameters["eta_b"].value) > 0 else {}),
            "compartments": (self.compartments.to_dict() if self.compartments is not None
                             else str(self._compartments_arg) if isinstance(self._compartments_arg, str)
                             else CompartmentMap(dict(self._compartments_arg)).to_dict()
                             if isinstance(self._compartments_arg, Mapping) else self._compartments_arg.to_dict()),
            "mbins": self.mbins,
            "windows_s": self.windows,
            "record": self.record,
            "record_dt_ms": float(self.record_dt / ms),
            "side_fraction": self.side_fraction,
        }

    def __repr__(self):
        p = self.parameters
        timing = (f" eta_b={p['eta_b'].value} tau_d={p['tau_d'].value} dopamine_trace={self.dopamine_trace}"
                  if float(p["eta_b"].value) > 0 else "")
        return (f"<DopaminePlasticity eta={p['eta'].value} tau_e={p['tau_e'].value} rho={p['rho'].value}{timing} "
                f"mbins={self.mbins or 'all'} windows={self.windows}>")
