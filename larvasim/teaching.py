"""Helpers of the teaching notebooks (``docs/notebooks``): answer checks, model cards, data.

* :func:`check` compares a student's answer with a reference computed from the
  library (never typed into the notebook): ``...`` (Ellipsis, the scaffold's
  placeholder) prints "not done yet" and returns; a right answer prints
  "correct"; a wrong one raises :class:`WrongAnswer` with a hint, not the answer.
* :func:`model_card` is the table of the model a notebook runs, read from
  ``Network.describe()`` (or a model): name, key parameters with values and
  sources, sign policy, synapse types.
* :func:`ensure_data` finds the connectome data or fetches it (first use on a
  fresh machine or in Colab).

The reference answers live in :data:`CHECKS` (one function per exercise); each
returns ``(ok, hint)``. Reading this module reveals them: it is a check, not an
exam.
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np
import pandas as pd

__all__ = ["check", "model_card", "ensure_data", "WrongAnswer", "CHECKS", "NOT_DONE", "CORRECT"]

NOT_DONE = "not done yet"
CORRECT = "correct"

#: name -> function(answer, **context) -> (ok, hint)
CHECKS: dict[str, Callable] = {}


class WrongAnswer(AssertionError):
    """A checked answer is wrong (the message is a hint, not the answer)."""


def _register(name):
    def deco(f):
        CHECKS[name] = f
        return f
    return deco


def _is_placeholder(x) -> bool:
    if x is Ellipsis:
        return True
    if isinstance(x, (list, tuple, set)):
        return any(_is_placeholder(v) for v in x)
    if isinstance(x, dict):
        return any(_is_placeholder(v) for v in x.values())
    return False


def check(name: str, answer, **context) -> None:
    """Check the answer to exercise ``name``.

    ``answer`` containing ``...`` prints "not done yet" and returns None (the
    exercise notebook runs top to bottom); a right answer prints "correct"; a wrong one raises :class:`WrongAnswer` with a hint.
    ``context`` holds what the reference needs (the connectome ``c``, results).
    """
    if name not in CHECKS:
        raise KeyError(f"no check named {name!r}; known: {', '.join(sorted(CHECKS))}")
    if _is_placeholder(answer):
        print(f"[{name}] {NOT_DONE}: replace the ... and run the cell again")
        return None
    ok, hint = CHECKS[name](answer, **context)
    if not ok:
        raise WrongAnswer(f"[{name}] not quite: {hint}")
    print(f"[{name}] {CORRECT}")


def _close(a, b, rtol=0.02, atol=0.0) -> bool:
    try:
        return math.isclose(float(a), float(b), rel_tol=rtol, abs_tol=atol)
    except (TypeError, ValueError):
        return False


# -- model cards -------------------------------------------------------------------------
KEY_PARAMETERS = ("v_rest", "v_th", "tau_m", "tau_syn", "t_ref", "delay", "w_syn", "input_exponent", "n_ref",
                  "inh_scale", "adapt_increment", "tau_adapt", "mbon_gain", "mbin_gain")


def model_card(what, parameters=KEY_PARAMETERS, source_width: int = 70) -> pd.DataFrame:
    """The model a notebook runs, as a table read from the library.

    ``what``: a ``sim.Network`` (its ``describe()``: model, parameters, signs,
    synapse types, device, plasticity) or a model (``models.get_model()``).
    """
    if hasattr(what, "describe") and hasattr(what, "sign_info"):
        d = what.describe()
        model = d["model"]
        extra = {"synapse types": ", ".join(d["synapse_types"]),
                 "signs": _signs_text(d["signs"]),
                 "weight mode": d["weight_mode"],
                 "device": d["device"],
                 "plasticity": (d["plasticity"] or {}).get("rule", "none") if d["plasticity"] else "none"}
    else:
        model = what.to_dict()
        extra = {"synapse types": ", ".join(getattr(what, "synapse_types", ()) or ())}
    rows = [{"item": "model", "value": model["model"], "source": "models.get_model(); docs/biology.md"}]
    for k, v in extra.items():
        rows.append({"item": k, "value": v, "source": ""})
    params = model["parameters"]
    for name in parameters:
        if name in params:
            p = params[name]
            val = p["value"]
            val = f"{val:.4g}" if isinstance(val, float) else str(val)
            unit = "" if p["unit"] in ("1", "") else f" {p['unit']}"
            src = p["source"]
            rows.append({"item": name, "value": val + unit,
                         "source": src if len(src) <= source_width else src[:source_width - 3] + "..."})
    return pd.DataFrame(rows).set_index("item")


def _signs_text(s: dict) -> str:
    counts = s.get("counts", {})
    opts = s.get("options", {})
    text = f"{s.get('policy')}: {counts.get('+1', 0)} excitatory, {counts.get('-1', 0)} inhibitory, " \
           f"{counts.get('0', 0)} without fast synapses"
    if "fraction" in opts:
        text += f" (fraction {opts['fraction']}, seed {opts.get('seed')})"
    return text


def ensure_data(name: str = "winding2023") -> str:
    """Where the data are; fetched into larvasim's cache (checksum-verified) if found nowhere."""
    import connectomes

    try:
        loc = connectomes.locate(name)
    except connectomes.DataNotFoundError:
        print(f"{name}: not found in $LARVASIM_DATA or the cache; fetching it (once)")
        connectomes.fetch(name)
        loc = connectomes.locate(name)
    return str(getattr(loc, "source", loc))


# -- the checks ----------------------------------------------------------------------------
def _ct_share(c, col_sum: np.ndarray) -> pd.Series:
    return pd.Series(col_sum, index=c.neurons["celltype"]).groupby(level=0).sum()


@_register("01.kc_per_side")
def _(answer, *, c):
    kc = c.select(celltype="KC")
    ok = tuple(int(x) for x in answer) == (len(kc.left), len(kc.right))
    return ok, "give (left, right) as two integers; a selection has .left and .right"


@_register("01.kc_input")
def _(answer, *, c):
    kc = c.select(celltype="KC").indices
    share = _ct_share(c, np.asarray(c.weights()[:, kc].sum(axis=1)).ravel())
    share = share / share.sum()
    top, pn = share.idxmax(), share.get("PN", 0.0)
    t, p = answer
    ok = t == top and _close(p, pn, atol=0.01)
    return ok, "(cell type giving the most synapses onto KCs, share of KC input from PNs); all four types"


@_register("01.aa_top")
def _(answer, *, c):
    aa = np.asarray(c.weights("aa").sum(axis=1)).ravel()
    al = np.asarray(c.weights().sum(axis=1)).ravel()
    df = pd.DataFrame({"aa": aa, "all": al}, index=c.neurons["celltype"]).groupby(level=0).sum()
    return answer == (df["aa"] / df["all"]).idxmax(), "the cell type, as in c.neurons['celltype']"


@_register("01.dan_i1_aa")
def _(answer, *, c):
    dan = c.select(name="DAN-i1", hemisphere="left").indices[0]
    row = c.weights("aa")[dan].toarray().ravel()
    by = _ct_share(c, row)
    top, kc_share = by.idxmax(), by.get("KC", 0.0) / by.sum()
    t, s = answer
    return (t == top and _close(s, kc_share, atol=0.01),
            "(cell type receiving most of left DAN-i1's axo-axonic synapses, the KCs' share of them)")


@_register("02.u50")
def _(answer, *, model):
    P = {k: model.parameters[k].value for k in model.parameters}
    from brian2 import mV, second

    theta = float((P["v_th"] - P["v_rest"]) / mV)
    T = 1 / 50.0 - float(P["t_ref"] / second)
    u = theta / (1 - math.exp(-T / float(P["tau_m"] / second)))
    try:
        val = float(answer / mV)
    except Exception:
        return False, "give a Brian2 quantity in volts (e.g. 12.3 * mV)"
    return _close(val, u, rtol=0.01), "invert r = 1 / (t_ref + tau_m ln(u / (u - theta))) for u"


@_register("02.n_needed")
def _(answer, *, model, n_inputs):
    from brian2 import ms, mV

    P = {k: model.parameters[k].value for k in model.parameters}
    theta = float((P["v_th"] - P["v_rest"]) / mV)
    ts, tm = float(P["tau_syn"] / ms), float(P["tau_m"] / ms)
    tpk = math.log(tm / ts) * tm * ts / (tm - ts)
    shape = ts / (tm - ts) * (math.exp(-tpk / tm) - math.exp(-tpk / ts))
    w1 = float(model.synaptic_weights([1], [+1])[0] * model.input_scale([n_inputs])[0] / mV)
    n = math.ceil(theta / (w1 * shape))
    return (int(answer) in (n - 1, n, n + 1) if n > 2 else int(answer) == n,
            "theta divided by the PSP peak of one synapse onto this neuron, rounded up")


@_register("02.ignition")
def _(answer, *, base, doubled, window):
    a = base.rates_by("celltype", window).set_index("group")["mean_hz"]
    b = doubled.rates_by("celltype", window).set_index("group")["mean_hz"]
    ratio = (b / a).replace([np.inf], np.nan)
    expected = set(ratio.index[(ratio >= 2) | ((a == 0) & (b > 0))])
    got = set(answer)
    return got == expected, (f"{len(got & expected)} of your {len(got)} types are right; "
                             f"{len(expected)} types fire at least twice as fast (count a silent type that "
                             "starts firing as well)")


@_register("02.pn_exc_vs_lit")
def _(answer, *, lit, exc, window):
    a = lit.rates_by("celltype", window).set_index("group")["mean_hz"]["PN"]
    b = exc.rates_by("celltype", window).set_index("group")["mean_hz"]["PN"]
    return _close(answer, b / a, rtol=0.01), "PN rate with all-excitatory signs divided by the PN rate with literature signs"


@_register("03.dn_count")
def _(answer, *, runs, dns, onset, window):
    exp = {}
    for m, r in runs.items():
        rp = r.response_probability(after=onset, window=window).loc[dns.indices]
        exp[m] = int((rp["p_response"] >= 0.5).sum())
    ok = dict(answer) == exp
    return ok, "a dict modality -> number of DNs firing in at least half of the trials"


@_register("03.mirror")
def _(answer, *, left_run, right_run, c, window):
    pn = c.select(celltype="PN")
    r = right_run.rates_by("hemisphere", window, selection=pn).set_index("group")["mean_hz"]
    return answer == ("right" if r["right"] > r["left"] else "left"), "the side whose PNs fire faster with the right-side drive"


@_register("03.direct_orn")
def _(answer, *, c, still, synapse_types):
    W = c.weights(synapse_types).tocsc()
    orn = c.select(modality="olfactory").indices
    exp = int(sum(W[orn][:, i].sum() > 0 for i in still))
    return int(answer) == exp, "count the DNs still responding that receive synapses from the receptor neurons"


@_register("04.one_dan_spike")
def _(answer, *, eta, tau_e):
    return _close(answer, -eta * math.exp(-1.0 / tau_e), rtol=1e-3), "-eta x exp(-delay / tau_e)"


@_register("04.ten_dan_spikes")
def _(answer, *, eta, tau_e):
    t = 1.0 + 0.1 * np.arange(10)
    return _close(answer, -eta * np.exp(-t / tau_e).sum(), rtol=1e-3), "each DAN spike removes eta x trace"


@_register("04.dan_rates")
def _(answer, *, run, dan, table):
    rows = {}
    for _, s in table[table["what"] != "us"].iterrows():
        from brian2 import second

        r = run.results.mean_rates((s["start_s"] * second, s["stop_s"] * second))
        rows[f'{s["phase"]} {s["what"]}'] = r.loc[dan, "mean_hz"].mean()
    keys = ["pre-test cs+", "training cs+", "training cs-"]
    ok = all(_close(answer[k], rows[k], atol=0.05) for k in keys)
    return ok, "a dict with the keys 'pre-test cs+', 'training cs+', 'training cs-' (mean of both DAN-i1, Hz)"


@_register("04.backward")
def _(answer, *, runs):
    exp = {name: float(run.final_weights()["MBON-i1"].mean()) for name, run in runs.items()}
    ok = set(answer) == set(exp) and all(_close(answer[k], exp[k], rtol=1e-6) for k in exp)
    return ok, "a dict protocol -> mean over larvae of run.final_weights()['MBON-i1'] (paired, unpaired, backward)"


@_register("04.timing")
def _(answer, *, runs):
    exp = {name: float(run.final_weights()["MBON-i1"].mean()) for name, run in runs.items()}
    ok = set(exp) == {"paired", "backward"} and set(answer) == set(exp) and all(
        _close(answer[k], exp[k], rtol=1e-6) for k in exp)
    return ok, "a dict protocol -> mean over larvae of run.final_weights()['MBON-i1'] (paired, backward), timing rule"


@_register("05.one_sided")
def _(answer, *, tr):
    out = float(np.nanmean(tr["dn_left_hz"] + tr["dn_right_hz"]))
    return _close(answer, out, rtol=0.01), "np.nanmean of dn_left_hz + dn_right_hz of the one-sided run"


@_register("05.turns")
def _(answer, *, runs):
    exp = {g: sum(tr.metadata["turns"]) for g, tr in runs.items()}
    return dict(answer) == exp, "a dict gain -> total turns (sum of tr.metadata['turns'])"


@_register("06.difference")
def _(answer, *, pop):
    real = pop[pop["brain"] == "real"].set_index("seed")["ipsi_index"]
    shuf = pop[pop["brain"] == "shuffled"].set_index("seed")["ipsi_index"]
    d = (real - shuf).mean()
    return _close(answer, d, atol=1e-3), "mean over seeds of (real - shuffled) population index, seed by seed"


@_register("06.benchmark_null")
def _(answer, *, real, shuffled):
    exp = {"real": int((real["status"] == "hit").sum()), "shuffled": int((shuffled["status"] == "hit").sum())}
    return dict(answer) == exp, "a dict brain -> number of rows with status 'hit' (real and shuffled tables)"


@_register("06.kappa")
def _(answer, *, decided):
    p_o = float((decided["first"] == decided["second_expect"]).mean())
    a = decided["first"].value_counts(normalize=True)
    b = decided["second_expect"].value_counts(normalize=True)
    p_e = float(sum(a.get(k, 0.0) * b.get(k, 0.0) for k in set(a.index) | set(b.index)))
    return _close(answer, (p_o - p_e) / (1 - p_e), atol=1e-3), ("(p_o - p_e) / (1 - p_e), p_e the sum over outcomes "
                                                                "of the two readers' shares multiplied")


@_register("06.synergy")
def _(answer, *, outputs):
    frac = float((outputs["supra_additivity_hz"] > 0).mean())
    return _close(answer, frac, atol=1e-3), "supra-additive output neurons / responding output neurons"
