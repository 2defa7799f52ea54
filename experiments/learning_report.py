"""The learning report: ``python -m experiments.learning --report docs/learning.md``.

Runs the conditioning protocols of :mod:`experiments.learning` and writes the
markdown report with its figures (:func:`report`); the science (protocols,
readouts, statistics, the rule's verification) lives in :mod:`experiments.learning`.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from brian2 import second

from models.plasticity import derive_compartments, mbin_valence, mbon_valence

from .learning import (
    DOPAMINE_TRACE,
    EXPERIMENT_PARAMETERS,
    NETWORK_SETTINGS,
    PROTOCOLS,
    make_network,
    make_protocol,
    paired_statistics,
    run_protocol,
    verify_rule,
)

__all__ = ["main", "report"]


def _fmt_p(p: float) -> str:
    return f"{p:.2g}" if p >= 1e-4 else f"{p:.1e}"


def _stat_row(label: str, s: dict) -> str:
    return (f"| {label} | {s['n']} | {s['mean']:.3g} | {s['median']:.3g} | {s['sd']:.3g} | {s['d_z']:.2f} | "
            f"{_fmt_p(s['wilcoxon_p'])} | {s['n_negative']}/{s['n_positive']} |")


#: Seeds of the learned-valence table "Learned valence over seeds": the report's seed and the next ones.
VALENCE_SEEDS = 8

_STAT_HEAD = ("| comparison | n | mean | median | sd | d_z | Wilcoxon p | neg/pos |\n"
              "| --- | --- | --- | --- | --- | --- | --- | --- |")


def extinction_reading(paired: dict | None, extinction: dict | None) -> str:
    """What the extinction protocol did to MBON-i1's learning effect, read from the two protocols' statistics
    (:func:`experiments.learning.paired_statistics` of ``paired`` and ``extinction``), in one sentence."""
    if not paired or not extinction:
        return ""
    a, b = paired["mean"], extinction["mean"]
    kept = b / a if a else float("nan")
    if extinction["wilcoxon_p"] >= 0.05:
        how = (f"after the extinction phase the learning effect is {b:+.2f} Hz instead of {a:+.2f} Hz and no longer significant "
               f"(p = {_fmt_p(extinction['wilcoxon_p'])})")
    else:
        how = (f"after the extinction phase the learning effect is {b:+.2f} Hz instead of {a:+.2f} Hz ({100 * kept:.0f} % of it "
               f"remains, p = {_fmt_p(extinction['wilcoxon_p'])})")
    return ("Two rules act in the extinction phase: the homeostatic pull of Jürgensen et al. (rho = 1e-4 per MBON "
            "spike) moves the weights back towards their initial values, and the CS+'s own MBIN activity "
            "depresses the synapses of its Kenyon cells, many of them shared with the CS-; the report does not "
            f"separate the two. {how[0].upper() + how[1:]}. The model learns no opposing memory in this phase (MBON->MBIN feedback acts "
            "only through fast synapses, see Limits), so this is the change of the old memory, not extinction "
            "learning.")


def backward_reading(mbon: dict | None, lvi: dict | None, dan_rates: dict | None = None) -> str:
    """What backward pairing with DAN-i1 did, read from its MBON-i1 effect and learned-valence statistics
    (:func:`experiments.learning.paired_statistics`) and DAN-i1's rates during the training CS+ and CS-
    (``{"cs+": Hz, "cs-": Hz}``), in one sentence."""
    if not mbon or not lvi:
        return ""
    if lvi["wilcoxon_p"] >= 0.05:
        moved = f"does not move significantly ({lvi['mean']:+.3f}, p = {_fmt_p(lvi['wilcoxon_p'])})"
    else:
        moved = (f"moves towards {'approach' if lvi['mean'] > 0 else 'avoidance'} ({lvi['mean']:+.3f}, "
                 f"p = {_fmt_p(lvi['wilcoxon_p'])})")
    m = f"{mbon['mean']:+.2f} Hz, p = {_fmt_p(mbon['wilcoxon_p'])}"
    if mbon["wilcoxon_p"] < 0.05:
        up = mbon["mean"] > 0
        effect = (f"MBON-i1's response to the CS+ {'rose' if up else 'fell'} relative to the CS- ({m}), the "
                  f"direction of {'an aversive' if up else 'an appetitive'} memory (MBON-i1 promotes avoidance)")
    else:
        effect = f"MBON-i1's learning effect is not significant ({m})"
    why = ""
    if dan_rates:
        why = (f" DAN-i1, driven at 50 Hz just before, fires {dan_rates['cs+']:.1f} Hz during the CS+ against "
               f"{dan_rates['cs-']:.1f} Hz during the CS- (an odour drives it through the network), so the CS+ "
               f"{'depresses its own KC->MBON synapses less than the CS- does' if dan_rates['cs+'] < dan_rates['cs-'] else 'depresses its own KC->MBON synapses at least as much as the CS- does'}.")
    return ("Backward: the US in the second before the CS+, the odour starting at the US's offset, the timing "
            "after which larvae remember the odour with the opposite valence (an aversive 'frustration' memory "
            "after DAN-i1: Thoener et al. 2022, J Exp Biol 225:jeb244565, abstract read). "
            + ("The experiments' rule is the timing-dependent variant (`eta_b` > 0, fitted in docs/timing_rule.md): a "
               "KC spike after the MBIN spikes potentiates the synapse by the MBIN's dopamine trace."
               if float(EXPERIMENT_PARAMETERS["eta_b_factor"].value) > 0 else
               "The default rule has no timing-dependent sign: a KC spike after the MBIN spikes leaves no "
               "eligibility for them (an optional variant that potentiates then, `eta_b > 0`, is fitted and scored "
               "in docs/timing_rule.md).")
            + why +
            f" {effect}; the learned valence of all MBONs of known sign {moved}. The biology benchmark scores "
            "this (learn-tho22-02, docs/biology.md).")


def report(path="docs/learning.md", figures="docs/figures/learning", connectome=None, n_larvae: int = 24,
           seed: int = 1, device: str = "numba", quick: bool = False) -> str:
    """Run the learning experiments and write ``docs/learning.md`` with figures and numbers.

    Parameters
    ----------
    path : path
        The markdown file to write.
    figures : path
        Folder of the PNG figures (linked relative to ``path``).
    connectome : connectomes.Connectome, optional
        Default ``connectomes.load("winding2023")``.
    n_larvae : int
        Virtual larvae per protocol (default 24).
    seed : int
    device : str
    quick : bool
        Only paired and unpaired (for a fast check).

    Returns
    -------
    str
        The markdown text.

    (Over 80 lines: a report is written top to bottom, one marked section after the other
    (compartments, rule check, runs, figures, tables).)
    """
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import connectomes
    from connectomes.synthetic import write_winding_format
    from models.plasticity import (
        PLASTICITY_PARAMETERS,
        compare_maps,
        naming_compartments,
    )

    t_start = time.perf_counter()
    c = connectome if connectome is not None else connectomes.load("winding2023")
    path = Path(path)
    fig_dir = Path(figures)
    fig_dir.mkdir(parents=True, exist_ok=True)
    rel = os.path.relpath(fig_dir, path.parent)
    md = []
    add = md.append

    # -- compartments and valence ----------------------------------------------------------
    derived = derive_compartments(c)
    named = naming_compartments(c)
    dis = compare_maps(derived, named)
    val = mbin_valence()
    mv = mbon_valence(derived, val)

    # -- rule verification on a synthetic connectome ---------------------------------------
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        truth = write_winding_format(Path(tmp) / "toy", seed=1)
        toy = connectomes.load("winding2023", data_dir=truth.path, verify=False)
        ver = verify_rule(toy)

    # -- experiments ------------------------------------------------------------------------
    runs = {}
    timing = {}

    def go(key, name, **kw):
        t0 = time.perf_counter()
        runs[key] = run_protocol(name, c, n_larvae=n_larvae, seed=seed, device=device, progress=False, **kw)
        timing[key] = time.perf_counter() - t0
        print(f"[learning report] {key}: {timing[key]:.0f} s", file=sys.stderr)

    base = make_protocol("paired")
    net = make_network(c, base, device=device)
    go("paired", "paired", network=net)
    go("unpaired", "unpaired", network=net)
    if not quick:
        go("trace", "trace", network=net)
        go("backward", "backward")  # its plastic window opens before the CS+: a network of its own
        go("paired_g1", "paired", dan="DAN-g1", network=net)
        go("unpaired_g1", "unpaired", dan="DAN-g1", network=net)
        go("paired_f1", "paired", dan="DAN-f1", network=net)
        go("unpaired_f1", "unpaired", dan="DAN-f1", network=net)
        go("gustatory", "paired_gustatory", network=net)
        go("extinction", "extinction")

    st = {k: paired_statistics(r.effect("MBON-i1")["effect"]) for k, r in runs.items()}
    contrast = paired_statistics(runs["paired"].effect("MBON-i1")["effect"].to_numpy()
                                 - runs["unpaired"].effect("MBON-i1")["effect"].to_numpy())

    # -- figures ----------------------------------------------------------------------------
    def wplot(ax, run, names, title):
        w = run.weights()
        for nm in names:
            g = w[w["name"] == nm].groupby("time_s")["w_rel"]
            m, s = g.mean(), g.std()
            ax.plot(m.index, m.values, label=nm)
            ax.fill_between(m.index, (m - s).values, (m + s).values, alpha=0.2)
        for s in run.protocol.stims:
            col = {"cs+": "tab:red", "cs-": "tab:blue", "us": "k"}[s.what]
            ax.axvspan(s.start, s.stop, color=col, alpha=0.12 if s.what != "us" else 0.3, lw=0)
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("time (s)")
        ax.set_ylabel("KC->MBON weight (rel.)")
        ax.legend(fontsize=7)

    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2), sharey=True)
    wplot(axes[0], runs["paired"], ["MBON-i1", "MBON-g1", "MBON-d1"], "paired (DAN-i1)")
    wplot(axes[1], runs["unpaired"], ["MBON-i1", "MBON-g1", "MBON-d1"], "unpaired (DAN-i1)")
    fig.tight_layout()
    fig.savefig(fig_dir / "weights_paired_unpaired.png", dpi=90)
    plt.close(fig)

    fig, axes = plt.subplots(1, 2, figsize=(8, 3.2), sharey=True)
    for ax, key in zip(axes, ("paired", "unpaired")):
        e = runs[key].effect("MBON-i1")
        for k, row in e.iterrows():
            ax.plot([0, 1], [row["test_cs+"] - row["pre_cs+"], row["test_cs-"] - row["pre_cs-"]],
                    color="0.6", lw=0.7)
        ax.boxplot([e["test_cs+"] - e["pre_cs+"], e["test_cs-"] - e["pre_cs-"]], positions=[0, 1], widths=0.3)
        ax.set_xticks([0, 1], ["CS+", "CS-"])
        ax.axhline(0, color="k", lw=0.5)
        ax.set_title(f"{key}: MBON-i1 test - pre (Hz)\np = {_fmt_p(st[key]['wilcoxon_p'])}, "
                     f"d_z = {st[key]['d_z']:.2f}", fontsize=9)
    fig.tight_layout()
    fig.savefig(fig_dir / "mbon_i1_responses.png", dpi=90)
    plt.close(fig)

    comp_rows = []
    if not quick:
        for dan_key, title in (("g1", "DAN-g1"), ("f1", "DAN-f1"), ("", "DAN-i1")):
            pk, uk = (f"paired_{dan_key}", f"unpaired_{dan_key}") if dan_key else ("paired", "unpaired")
            dw = runs[pk].final_weights() - runs[uk].final_weights()
            for name in dw.columns:
                s = paired_statistics(dw[name])
                comp_rows.append({"us": title, "mbon": name, **s})
        comp = pd.DataFrame(comp_rows)
        fig, ax = plt.subplots(figsize=(10, 3.4))
        names = sorted(comp["mbon"].unique())
        x = np.arange(len(names))
        for k, us in enumerate(("DAN-i1", "DAN-g1", "DAN-f1")):
            m = comp[comp["us"] == us].set_index("mbon").reindex(names)["mean"]
            ax.bar(x + (k - 1) * 0.27, m.values, 0.27, label=us)
        ax.set_xticks(x, [n.replace("MBON-", "") for n in names], rotation=60, fontsize=7)
        ax.set_ylabel("final weight, paired - unpaired")
        ax.axhline(0, color="k", lw=0.5)
        ax.legend(fontsize=8)
        ax.set_title("Which compartments does pairing change? (per MBON type, mean over larvae)", fontsize=9)
        fig.tight_layout()
        fig.savefig(fig_dir / "compartment_specificity.png", dpi=90)
        plt.close(fig)

        fig, axes = plt.subplots(1, 2, figsize=(9, 3.2), sharey=True)
        wplot(axes[0], runs["trace"], ["MBON-i1"], "trace (gap 3 s, DAN-i1)")
        wplot(axes[1], runs["extinction"], ["MBON-i1"], "extinction (DAN-i1)")
        fig.tight_layout()
        fig.savefig(fig_dir / "trace_extinction.png", dpi=90)
        plt.close(fig)

    # -- markdown ---------------------------------------------------------------------------
    p = EXPERIMENT_PARAMETERS
    add("# Learning in the mushroom body: dopaminergic plasticity on the whole connectome\n")
    add("Generated by `python -m experiments.learning --report docs/learning.md` "
        f"(larvasim; {n_larvae} virtual larvae per protocol, seed {seed}, device `{device}`, "
        f"{time.perf_counter() - t_start:.0f} s in all). Do not edit by hand.\n")
    add("## Compartments\n")
    add("Each MBIN modulates the KC->MBON synapses of the MBONs in its compartment. The map is derived "
        "from the connectome (`models.plasticity.derive_compartments`): an MBON type is in an MBIN type's "
        f"compartment when they share >= {derived.criteria['min_synapses']} direct synapses that make up "
        f">= {derived.criteria['min_share']:.0%} of the MBIN's synapses onto MBONs or of the MBON's "
        "synapses from MBINs. The cosine similarity of the MBIN's KC targets and the MBON's KC inputs "
        "(\"shared KC partners\") is reported as secondary evidence (rank 1 = the most similar MBON type). "
        "Plasticity uses the derived map; each MBIN neuron acts on the MBONs of the mushroom bodies it "
        "innervates (both for bilateral DANs such as DAN-i1, the contralateral one for DAN-g1).\n")
    add("| MBIN | MBON types (derived) | MBON types (names, Eichler et al. 2017) | valence |")
    add("| --- | --- | --- | --- |")
    for x in sorted(set(derived.mapping) | set(named.mapping)):
        add(f"| {x} | {', '.join(derived.mbons_of(x)) or '-'} | {', '.join(named.mbons_of(x)) or '-'} | "
            f"{val['valence'].get(x, 'unknown')} |")
    add("\nEvidence (pairs in either map):\n")
    ev = derived.evidence
    ev = ev[ev["in_map"] | ev["by_name"]]
    add("| MBIN | MBON | synapses | share of MBIN output | share of MBON input | KC similarity (rank) | derived | by name |")
    add("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in ev.itertuples():
        add(f"| {r.mbin} | {r.mbon} | {r.synapses} | {r.share_of_mbin_output:.2f} | {r.share_of_mbon_input:.2f} | "
            f"{r.kc_similarity:.2f} ({r.kc_rank}) | {'yes' if r.in_map else 'no'} | {'yes' if r.by_name else 'no'} |")
    add(f"\n**Disagreements** between the derived map and the naming convention ({len(dis)}):\n")
    add("| MBIN | MBON | where | direct synapses |")
    add("| --- | --- | --- | --- |")
    for r in dis.itertuples():
        add(f"| {r.mbin} | {r.mbon} | {r.kind} | {r.synapses} |")
    unmod = sorted(set(n for n in c.neurons.loc[c.neurons["celltype"] == "MBON", "mb_name"].astype(str))
                   - {y for vs in derived.mapping.values() for y in vs})
    add(f"\nMBON types without a modulating MBIN in the derived map (static KC input): {', '.join(unmod) or 'none'}.\n")
    add("## Valence of the MBINs\n")
    add("`models/data/mbin_valence.csv`; override with `mbin_valence({'DAN-c1': 'aversive'})` or a CSV.\n")
    add("| MBIN | valence | evidence | source | note |")
    add("| --- | --- | --- | --- | --- |")
    for k, r in val.iterrows():
        add(f"| {k} | {r['valence']} | {r['evidence']} | {r['source'] or '-'} | {r['note']} |")
    add("\nMBON behavioural signs used by the learned-valence index (+1 approach, -1 avoidance, 0 unknown): "
        + ", ".join(f"{k} {v:+d}" for k, v in mv.items()) + ".\n")

    add("## The rule\n")
    add("Three-factor plasticity on every KC->MBON synapse of a modulated MBON (Jürgensen et al. 2024, "
        "iScience 27:108640; `nawrotlab/PEcodingDosophilaMB`): a KC spike sets the synapse's eligibility "
        "trace to 1, which decays with `tau_e`; each spike of an MBIN of the synapse's compartment "
        "changes the weight by `-eta x w0 x trace` (`w0` the initial weight); each MBON spike pulls the "
        "weight towards `w0` by the fraction `rho`; weights are clipped to `[0, w_max x w0]`. Implemented "
        "in Brian2 with synapses acting on synapses, the trace evaluated in closed form at MBIN spikes "
        "(exact at spike times); all devices, including C++ standalone. `eta_b` and `tau_d` belong to the "
        "timing-dependent variant (off in the class's defaults below, `eta_b` = 0): an MBIN spike leaves a dopamine "
        "trace and a later KC spike potentiates by `eta_b x w0 x trace` (docs/timing_rule.md). The table gives "
        "the class's defaults; the constants the experiments run with are under \"Experiments\".\n")
    add("| parameter | value | unit | source |")
    add("| --- | --- | --- | --- |")
    for name in PLASTICITY_PARAMETERS:
        q = PLASTICITY_PARAMETERS[name]
        add(f"| {name} | {q.format_value()} | {q.unit} | {q.source} |")
    add("\n**Verification** (synthetic connectome, numpy device, `eta = 0.1`, `rho = 0`): one KC spike, "
        "then one DAN-i1 spike `dt` later. The change of each modulated synapse of that KC "
        "(relative to `w0`) against `eta x exp(-dt / tau_e)`; every other synapse, and runs with the "
        "DAN spike alone or the KC spike alone, must not change:\n")
    add("| dt (s) | synapses | measured | expected | max abs error | others | DAN alone | KC alone |")
    add("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in ver.itertuples():
        add(f"| {r.dt_s:g} | {r.n_synapses} | {r.measured:.15f} | {r.expected:.15f} | {r.abs_error:.1e} | "
            f"{r.others_max:.1e} | {r.dan_only_max:.1e} | {r.kc_only_max:.1e} |")

    add("\n## Experiments\n")
    net0 = runs["paired"].results.metadata["network"]
    add(f"Network: larvasim's default model (`{net0['model']['model']}`, `w_syn` = "
        f"{net0['model']['parameters']['w_syn']['value']:.3g} mV, {net0['model']['parameters']['w_syn']['source']}), "
        f"{net0['signs']['policy']} signs (dopaminergic and "
        f"octopaminergic MBINs have no fast synapses), {NETWORK_SETTINGS['why_synapse_types']}. "
        f"MBON input gain `mbon_gain` = {net0['model']['parameters'].get('mbon_gain', {}).get('value', 1):.3g} "
        f"({net0['model']['parameters'].get('mbon_gain', {}).get('source', 'not in this model')}); "
        f"MBIN input gain `mbin_gain` = {net0['model']['parameters'].get('mbin_gain', {}).get('value', 1):.3g} "
        f"({net0['model']['parameters'].get('mbin_gain', {}).get('source', 'not in this model')}). "
        f"Plasticity: `eta` = {p['eta'].value:.4g} ({p['eta'].source}); "
        + ("the timing-dependent variant: " + "; ".join(
            f"`{k}` = {p[k].format_value()} ({p[k].source})" for k in ("eta_b_factor", "tau_d", "w_max"))
           + f"; dopamine trace `{DOPAMINE_TRACE}`, so `eta_b` = {p['eta_b_factor'].value:g} x `eta` = "
           f"{p['eta_b_factor'].value * p['eta'].value:.4g}; "
           if float(p["eta_b_factor"].value) > 0 else "the depression-only rule (`eta_b` = 0); ")
        + "other constants as above, all compartments plastic.\n")
    odA, odB = runs["paired"].odours
    add(f"Odours (seeded, 8 receptors each, 3 shared; Jaccard overlap {odA.overlap(odB):.2f}): "
        f"A = {', '.join(f'{k} {v:g} Hz' for k, v in odA.rates_hz.items())}; "
        f"B = {', '.join(f'{k} {v:g} Hz' for k, v in odB.rates_hz.items())}. US: activation of the "
        f"named MBIN pair at {p['us_rate'].format_value()}; gustatory US: all external gustatory sensory "
        f"neurons at {p['gustatory_rate'].format_value()}.\n")
    add("Time line of `paired` (seconds; plasticity frozen outside the windows "
        f"{', '.join(f'{a:g}-{b:g}' for a, b in base.windows)} s):\n")
    add("| phase | stimulus | start | stop |")
    add("| --- | --- | --- | --- |")
    for s in base.stims:
        add(f"| {s.phase} | {s.what} | {s.start:g} | {s.stop:g} |")
    add("\nReciprocal design: odour A is the CS+ in half of the larvae, odour B in the other half. "
        "Larva k gets the same input noise in every protocol (same seed), so protocols can also be "
        "compared larva by larva.\n")
    add("### Appetitive pairing with DAN-i1 (MBON-i1)\n")
    add("Learning effect per larva: `(test CS+ - pre CS+) - (test CS- - pre CS-)` of the MBON-i1 rate "
        "(mean of both sides, Hz); negative when the response to the CS+ fell relative to the CS-. "
        "Two-sided Wilcoxon signed-rank test against 0; effect size Cohen's d_z = mean / sd.\n")
    add(_STAT_HEAD)
    for key in [k for k in ("paired", "unpaired", "trace", "backward", "gustatory", "extinction") if k in st]:
        add(_stat_row(f"{key} (US {runs[key].results.metadata['learning']['dan'] or 'gustatory'})", st[key]))
    add(_stat_row("paired - unpaired (same larvae)", contrast))
    add(f"\n![weights]({rel}/weights_paired_unpaired.png)\n\n![MBON-i1]({rel}/mbon_i1_responses.png)\n")
    lvi = {k: paired_statistics(r.valence_index()["delta"]) for k, r in runs.items()}
    dn = {k: r.dn_change() for k, r in runs.items()}
    add("### Learned valence and descending output\n")
    add("Learned-valence index `LVI = sum_m v_m (r_m(CS+) - r_m(CS-)) / sum_m (r_m(CS+) + r_m(CS-))` over "
        "the MBONs with a known sign `v_m` (above); change test minus pre-test per larva (> 0: learned "
        "approach to the CS+). DN effect: change of the mean DN-VNC (or DN-SEZ) rate to the CS+ minus "
        "that to the CS- (Hz).\n")
    add("| protocol | LVI change mean | d_z | p | DN-VNC effect mean (Hz) | p | DN-SEZ effect mean (Hz) | p |")
    add("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for k in runs:
        v = lvi[k]
        sv = paired_statistics(dn[k][dn[k]["group"] == "DN-VNC"]["effect"])
        ss = paired_statistics(dn[k][dn[k]["group"] == "DN-SEZ"]["effect"])
        add(f"| {k} | {v['mean']:.3f} | {v['d_z']:.2f} | {_fmt_p(v['wilcoxon_p'])} | {sv['mean']:.3f} | "
            f"{_fmt_p(sv['wilcoxon_p'])} | {ss['mean']:.3f} | {_fmt_p(ss['wilcoxon_p'])} |")
    # the same larvae read out with the MBON signs measured by activation (Eschbach et al. 2021), no MBIN valence
    from models.plasticity import activation_valence

    names = sorted({m for r in runs.values() for m in r.responses("MBON")["name"].unique()})
    act = activation_valence(names)
    add("\n### Learned valence with measured MBON signs\n")
    add("The same larvae, with each MBON's sign taken from activating it alone in larvae instead of from its "
        "compartment's MBINs (`models.plasticity.activation_valence`, `models/data/mbon_activation.csv`: "
        "Eschbach et al. 2021, eLife 10:e62567, Fig. 2 and figure supplement 2; 0 for no significant effect or "
        "not tested): " + ", ".join(f"{m} {v:+d}" for m, v in act.items()) + ". A check of the readout, not "
        "the model's.\n")
    add("| protocol | LVI change mean | d_z | p |")
    add("| --- | --- | --- | --- |")
    for k, r in runs.items():
        v = paired_statistics(r.valence_index(signs=act)["delta"])
        add(f"| {k} | {v['mean']:.3f} | {v['d_z']:.2f} | {_fmt_p(v['wilcoxon_p'])} |")
    if not quick:  # the learned valence of the two single-DAN pairings over more seeds (input noise and larvae)
        add("\n### Learned valence over seeds\n")
        add(f"The same two pairings (24 virtual larvae each) with seeds {seed} (the runs above) to "
            f"{seed + VALENCE_SEEDS - 1}: "
            "how much of the learned valence's significance is one seed's luck. Expected direction: "
            "towards approach (> 0) for DAN-i1, towards avoidance (< 0) for DAN-g1; alpha 0.05.\n")
        add("| US | seed | LVI change mean | d_z | Wilcoxon p | significant, expected direction |")
        add("| --- | --- | --- | --- | --- | --- |")
        hits = {}
        for dan, key, sign in (("DAN-i1", "paired", 1), ("DAN-g1", "paired_g1", -1)):
            hits[dan] = 0
            for s_ in range(seed, seed + VALENCE_SEEDS):
                if s_ == seed:
                    v = lvi[key]
                else:
                    t0 = time.perf_counter()
                    r_ = run_protocol("paired", c, n_larvae=n_larvae, seed=s_, device=device, progress=False,
                                      dan=dan, network=net)
                    print(f"[learning report] {key} seed {s_}: {time.perf_counter() - t0:.0f} s", file=sys.stderr)
                    v = paired_statistics(r_.valence_index()["delta"])
                ok = v["wilcoxon_p"] < 0.05 and sign * v["mean"] > 0
                hits[dan] += ok
                add(f"| {dan} | {s_} | {v['mean']:.3f} | {v['d_z']:.2f} | {_fmt_p(v['wilcoxon_p'])} | "
                    f"{'yes' if ok else 'no'} |")
        add("")
        for dan, h in hits.items():
            add(f"* **{dan}: significant in the expected direction at {h} of {VALENCE_SEEDS} seeds.**")
    if comp_rows:
        add("\n### Aversive pairing: MBON responses\n")
        add("Learning effect (as above) of the MBONs of the aversive DAN's compartment and of MBON-i1.\n")
        add(_STAT_HEAD)
        for key, mbon in (("paired_g1", "MBON-g1"), ("unpaired_g1", "MBON-g1"), ("paired_g1", "MBON-g2"),
                          ("paired_g1", "MBON-i1"), ("paired_f1", "MBON-f1"), ("unpaired_f1", "MBON-f1"),
                          ("paired_f1", "MBON-i1")):
            add(_stat_row(f"{key}: {mbon}", paired_statistics(runs[key].effect(mbon)["effect"])))
        add("\n### Compartment specificity: aversive DANs\n")
        add("Final relative KC->MBON weight, paired minus unpaired for the same larva (same input noise), "
            "per MBON type; the US is the named DAN pair. Negative: pairing depressed that MBON's KC input "
            "beyond what the odours alone did.\n")
        add("| US | MBON | mean | d_z | Wilcoxon p |")
        add("| --- | --- | --- | --- | --- |")
        comp = pd.DataFrame(comp_rows)
        for r in comp.itertuples():
            if r.us == "DAN-i1" and r.mbon not in ("MBON-i1", "MBON-h1; MBON-h2", "MBON-g1", "MBON-f1"):
                continue
            if r.us != "DAN-i1" and abs(r.mean) < 1e-3 and r.mbon not in ("MBON-i1", "MBON-h1; MBON-h2"):
                continue
            add(f"| {r.us} | {r.mbon} | {r.mean:.4f} | {r.d_z:.2f} | {_fmt_p(r.wilcoxon_p)} |")
        add(f"\n(MBON types with |mean| < 0.001 are left out, except MBON-i1 and MBON-h1/h2.)\n\n"
            f"![compartments]({rel}/compartment_specificity.png)\n")
        add("### Trace and backward conditioning, extinction\n")
        tg = float(p["trace_gap"].value / second)
        add(f"Trace: the US starts {tg:g} s after the CS+ ends; the traces of the last KC spikes of the CS+ "
            f"have decayed to exp(-{tg:g}/5) = {np.exp(-tg / 5):.2f} at the US onset. "
            + backward_reading(st.get("backward"), lvi.get("backward"),
                               {w: runs["backward"].stimulus_rate("DAN-i1", w) for w in ("cs+", "cs-")})
            + " Extinction: "
            "after `paired`, three unreinforced CS+ presentations with plasticity on. "
            + extinction_reading(st.get("paired"), st.get("extinction")) + "\n")
        add(f"![trace and extinction]({rel}/trace_extinction.png)\n")
    add("## Limits\n")
    eta_p = EXPERIMENT_PARAMETERS["eta"]
    add(f"* Time is compressed: one 1-s pairing instead of minutes of training. `eta` = {eta_p.value:.4g} "
        f"({eta_p.source}). MBONs are silent without KC input in this network, so their responses fall "
        "steeply with the KC->MBON weights; KC odour codes overlap, so a large `eta` depresses the CS- "
        "response too.\n"
        "* The odours also drive the MBINs through the network (no fast synapses from them, but they "
        "fire), so every odour presentation inside a plastic window depresses its own KC->MBON synapses a "
        "little in every compartment; the paired/unpaired design and the reciprocal odours control for it.\n"
        "* MBON->MBIN feedback onto DAN activity (prediction-error coding in Jürgensen et al. 2024) acts "
        "only through the connectome's fast synapses onto MBINs; MBIN output is purely modulatory.\n"
        "* The valence table is short on single-cell evidence; MBON signs follow the opposite-valence "
        "convention (an assumption for the larva).\n")
    add("## Run times\n")
    add("| protocol | wall time (s) |")
    add("| --- | --- |")
    for k, v in timing.items():
        add(f"| {k} | {v:.0f} |")
    text = "\n".join(md) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return text


def main(argv=None) -> int:
    """``python -m experiments.learning``: run a protocol, print the map, or write the report."""
    ap = argparse.ArgumentParser(prog="python -m experiments.learning", description=__doc__.splitlines()[0])
    ap.add_argument("protocol", nargs="?", choices=sorted(PROTOCOLS), help="protocol to run")
    ap.add_argument("--larvae", type=int, help="virtual larvae per protocol (default 20; report: 24)")
    ap.add_argument("--seed", type=int, help="seed (default 0; report: 1)")
    ap.add_argument("--dan", default="DAN-i1")
    ap.add_argument("--device", default="numba")
    ap.add_argument("--data-dir")
    ap.add_argument("-o", "--out", help="save the results (HDF5)")
    ap.add_argument("--map", action="store_true", help="print the compartment map, its evidence and disagreements")
    ap.add_argument("--report", help="write the markdown report to this path (runs every protocol)")
    ap.add_argument("--figures", default="docs/figures/learning")
    ap.add_argument("--quick", action="store_true", help="report: paired and unpaired only")
    args = ap.parse_args(argv)
    import connectomes
    from models.plasticity import compare_maps, naming_compartments

    c = connectomes.load("winding2023", data_dir=args.data_dir)
    if args.map:
        d = derive_compartments(c)
        print(d)
        with pd.option_context("display.width", 200, "display.max_rows", 500):
            print(d.evidence[d.evidence["in_map"] | d.evidence["by_name"]].to_string(index=False))
            print("\ndisagreements with the naming convention (Eichler et al. 2017):")
            print(compare_maps(d, naming_compartments(c)).to_string(index=False))
    if args.report:
        report(args.report, args.figures, c, n_larvae=args.larvae or 24, seed=1 if args.seed is None else args.seed,
               device=args.device, quick=args.quick)
        print(f"report written to {args.report}")
    if args.protocol:
        run = run_protocol(args.protocol, c, n_larvae=args.larvae or 20, seed=args.seed or 0, dan=args.dan,
                           device=args.device, out=args.out)
        print(run.summary())
        if args.out:
            print(f"results written to {args.out}")
    if not (args.map or args.report or args.protocol):
        ap.print_help()
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
