"""Every number the README states is quoted from a generated document, and still matches it
(this replaces the README check that lived in tests/experiments/test_biology.py).

The generators (``larvasim validate --biology`` -> docs/biology.json, ``experiments.sensory_report``
-> docs/sensory.json, ``experiments.learning --report`` -> docs/learning.md, the benchmark scripts
-> docs/benchmarks.md) are themselves rerun by their own tests; this module closes the chain: a
README figure that drifts from its source fails here. Tolerances are stated per claim: exact for
counts and for values the README quotes to the source's precision, a range for timings (the README
says "about").
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
DOCS = ROOT / "docs"


def _json(name):
    return json.loads((DOCS / name).read_text())


def _squash(text: str) -> str:
    """The README wraps lines: compare with runs of whitespace collapsed."""
    return re.sub(r"\s+", " ", text)


TEXT = _squash(README)


def _claims():
    """(id, the text the README must contain, built from the generated source)."""
    from experiments.biology_report import accuracy_interval, criterion_range, majority_baseline, unseen_rounds, versus

    bio = _json("biology.json")
    cov = bio["signs_coverage"] if "signs_coverage" in bio else bio["sign_coverage"]
    larval, adult = bio["models"]["larval"], bio["models"]["adult"]
    half = lambda m, h: next(r for r in m["by_half"] if r["half"] == h)  # noqa: E731
    pct = lambda x: f"{100 * x:.0f} %"  # noqa: E731
    testable = sum(r["testable"] for r in larval["by_half"])
    san = larval["sanity"]
    missing = [r["modality"] for r in larval["modalities"] if r["best_pair_p"] < 0.5]
    sen = _json("sensory.json")
    sm, lr = sen["sensory_map"], sen["left_right"]["brains"]
    yield "sign coverage", (f"{cov['neurons']} of {cov['n_neurons']:,} neurons, "
                            f"{100 * cov['frac_synapses']:.0f} % of all synapses, have a cited sign; "
                            f"{cov['inhibitory']} neurons are inhibitory")
    yield "findings", f"**{bio['n_findings']} published larval findings**"
    yield "testable findings", f"{testable} testable by a brain-only model"
    yield "larval accuracy", (f"| larval model (default) | {pct(half(larval, 'calibration')['accuracy'])} | "
                              f"{pct(half(larval, 'heldout')['accuracy'])} |")
    yield "adult accuracy", (f"| adult model (Shiu et al. 2024, all excitatory) | "
                             f"{pct(half(adult, 'calibration')['accuracy'])} | {pct(half(adult, 'heldout')['accuracy'])} |")
    # the held-out papers added after the model was fixed (rounds 2, 3, ... of the split), each scored apart
    for k in sorted({r for r in bio["paper_rounds"].values() if r > 1}):
        papers = {p for p, r in bio["paper_rounds"].items() if r == k}
        n = sum(f["paper"] in papers for f in bio["findings"])
        lv, av = larval["heldout_by_round"][str(k)], adult["heldout_by_round"][str(k)]
        s = "" if lv["testable"] == 1 else "s"
        if lv["testable"] == 0:
            yield f"round {k}", (f"round {k} of the split: {n} findings from {len(papers)} "
                                 f"paper{'' if len(papers) == 1 else 's'}, none of them testable")
            continue
        yield f"round {k}", (f"round {k} of the split: {n} findings from {len(papers)} papers, the larval model gets "
                             f"{lv['hits']} of their {lv['testable']} testable finding{s}, the adult model {av['hits']}")
        adult_pred = [r["predicted"] for r in adult["table"] if r["paper"] in papers and r["status"] in ("hit", "miss")]
        if len(adult_pred) > 1 and set(adult_pred) == {"no_change"}:
            yield f"round {k} adult", f"the adult model {av['hits']} (it predicts no change for all {len(adult_pred)})"
    later = [v for k, v in larval["heldout_by_round"].items() if int(k) > 1]
    if later:
        words = {1: "One", 2: "Two", 3: "Three", 4: "Four", 5: "Five", 6: "Six", 7: "Seven", 8: "Eight", 9: "Nine"}
        n_later = sum(v["testable"] for v in later)
        yield "later testable", f"{words.get(n_later, n_later)} testable findings are far too few to measure an accuracy"
        # later-round findings in a conflict group (same test, same neurons) with a round-1 finding that expects
        # another outcome
        rnd = {f["id"]: bio["paper_rounds"][f["paper"]] for f in bio["findings"]}
        opposed = {i for g in bio["conflicts"] for i, e in zip(g["ids"], g["expects"]) if rnd[i] > 1
                   and any(rnd[j] == 1 and e2 != e for j, e2 in zip(g["ids"], g["expects"]))}
        yield "later opposed", (f"{words.get(len(opposed), len(opposed))} of them expect the opposite of a round-1 "
                                "held-out finding under the same test")
    # the rounds no fit or model choice has seen (experiments.biology.UNSEEN_FROM_ROUND), counted together
    unseen = unseen_rounds(larval)
    yield "unseen rounds", unseen[0].upper() + unseen[1:]
    from experiments.biology_report import ceiling_reading

    yield "held-out ceiling", "How high the held-out half can go: " + ceiling_reading(bio).split("** ", 1)[1]
    # stage 2's seed count (experiments.calibrate.MB_SEEDS, recorded in the calibration file)
    n_seeds = len(bio["calibration"]["mushroom_body"].get("seeds", [1]))
    words = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five"}
    if n_seeds > 1:
        yield "stage 2 seeds", f"it now averages over {words.get(n_seeds, n_seeds)} benchmark seeds"
    # the held-out findings stage 2's objective has run (calibration record's seen_heldout), left out
    import pandas as pd

    from experiments.biology_report import seen_heldout

    seen = seen_heldout(pd.DataFrame(larval["table"]), bio["calibration"]["mushroom_body"].get("seen_heldout"))
    if seen is not None:
        h0, n0 = seen["without"]
        yield "held-out without the seen findings", (
            f"without the {words.get(len(seen['ids']), len(seen['ids']))} held-out findings its fit has seen: "
            f"without them {h0} of {n0} ({pct(h0 / n0)})")
        prev = larval.get("previous_point")
        if prev:  # stage 2's previous point on the same findings (experiments.biology_report.previous_point)
            p0, m0 = seen_heldout(pd.DataFrame(prev["table"]).assign(half="heldout"), seen["ids"])["without"]
            assert m0 == n0
            name = prev["objective"].split(" = ", 1)[0]
            yield "previous stage-2 point", f"stage 2's previous point (objective {name}) gets {p0} of those {m0}"
            assert ("not held-out accuracy" in TEXT) == (h0 <= p0), "README.md's reading of the comparison"
    # the two timing findings of the calibration half (unpaired and backward training with DAN-i1)
    status = {r["id"]: r["status"] for r in larval["table"]}
    yield "timing findings", (f"the backward one (learn-tho22-02) is a {status['learn-tho22-02']} and the unpaired "
                              f"one (learn-sch20-02) a {status['learn-sch20-02']}")
    beats = larval["accuracy"]["heldout"] > adult["accuracy"]["heldout"]
    yield "held-out comparison", ("on the held-out half as a whole the larval model "
                                  + ("beats the adult model" if beats else "does not beat the adult model"))
    # what the held-out number can say (experiments.biology_report: Wilson interval, baseline, McNemar)
    k, n, lo, hi = accuracy_interval(larval["table"])
    bk, bn, _ = majority_baseline(larval["table"])
    only_l, only_a, p = versus(larval["table"], adult["table"])
    yield "held-out interval", (f"{k} of {n} held-out findings right is a 95 % interval of {pct(lo)} to "
                                f"{pct(hi)}; a predictor without a brain (each test type's commonest outcome in "
                                f"the calibration half) gets {pct(bk / bn)}; and the two models differ on only "
                                f"{only_l + only_a} findings ({only_l} to {only_a}, exact McNemar p = {p:.2g})")
    lo_c, hi_c = criterion_range(bio)
    # the index's MBON signs against single-MBON activation (models/data/mbon_activation.csv)
    from models.plasticity import compare_mbon_signs, mbon_activation

    cmp = compare_mbon_signs(bio["mbon_signs"])
    signed = cmp[cmp["model"].notna() & (cmp["model"] != 0)]
    n = signed["verdict"].value_counts()
    assert mbon_activation().at["MBON-c1", "effect"] == "no_effect"
    yield "MBON activation", (f"activated {len(signed) - n.get('not tested', 0)} of the {len(signed)} MBON types the "
                              f"index signs: {n.get('agree', 0)} have the measured sign, "
                              + (f"{n['opposite']} the opposite one" if n.get("opposite") else "none the opposite one")
                              + f", {n.get('no effect', 0)} had no significant effect")
    yield "criterion range", (f"re-deciding every stored effect with looser or stricter criteria moves the held-out "
                              f"accuracy between {pct(lo_c)} and {pct(hi_c)}")
    # the learning-rate scan (experiments.biology_learning_rate -> docs/biology_learning_rate.json)
    import pandas as pd

    from experiments.biology_learning_rate import per_factor, signed

    scan = _json("biology_learning_rate.json")
    pf = per_factor(pd.DataFrame(scan["rows"]))
    best = pf.loc[pf["heldout_hits"].idxmax()]
    yield "learning-rate scan", (f"from {pf['factor'].min():g} to {pf['factor'].max():g} times the fitted rate the "
                                 f"held-out pairing findings never do better than {int(best['heldout_hits'])} of "
                                 f"{int(best['heldout_n'])}")
    tied = per_factor(pd.DataFrame(scan["tied"]["rows"]).rename(columns={"rank": "factor"}))
    lo_t, hi_t = int(tied["heldout_hits"].min()), int(tied["heldout_hits"].max())
    if len(tied) > 1:
        yield "tied stage-2 points", (f"the stage-2 points that tie with the chosen one on the calibration half get "
                                      + (f"{lo_t} to {hi_t}" if lo_t < hi_t else f"all {lo_t}")
                                      + f" of {int(tied['heldout_n'].iloc[0])}")
    else:
        yield "tied stage-2 points", "no other stage-2 point ties with the chosen one at every benchmark seed"
    base, both = scan["counterfactuals"][0], scan["counterfactuals"][3]
    assert both["case"] == "both"
    yield "both causes removed", (f"removing both leaves the CS- a fall of {100 * both['fall_cs_minus']:.0f} % against "
                                  f"the CS+'s {100 * both['fall_cs_plus']:.0f} %, and the learned valence moves "
                                  f"{both['delta_lvi']:+.3f} instead of {base['delta_lvi']:+.3f}")
    mp = scan["measured_pair"][0]
    assert mp["dan"] == scan["specificity"][0]["dan"] and mp["fall_cs_minus"] / mp["fall_cs_plus"] > 0.8
    yield "measured pair", (f"the CS- falls almost as much as the CS+ ({100 * mp['fall_cs_minus']:.0f} % against "
                            f"{100 * mp['fall_cs_plus']:.0f} %)")
    sp, od = scan["specificity"][0], scan["odour_drive"]
    yield "pairing specificity", (f"it lowers the CS+ response of {sp['dan']}'s MBONs by {100 * sp['fall_cs_plus']:.0f} % "
                                  f"and the unpaired CS-'s by {100 * sp['fall_cs_minus']:.0f} %, because an odour alone "
                                  f"drives {od['mbins_driven']} of the {od['mbins']} MBINs")
    bound, floor = {u["us"]: u for u in scan["bound"]["uses"]}, scan["min_valence_change"]
    f1 = {m["mbon"]: m for m in scan["bound"]["mbons"]}["MBON-f1"]
    yield "pairing bound DAN-f1", (f"pairing with DAN-f1 alone, whose one MBON, MBON-f1, responds to odours with "
                                   f"{100 * f1['kc_driven_share']:.0f} % of its response driven by Kenyon cells in the "
                                   f"model, so even a complete, odour-specific depression of its KC synapses would move "
                                   f"the index by {signed(bound['DAN-f1']['bound'])}, below the benchmark's floor of "
                                   f"{floor:g}")
    assert bound["DAN-f1"]["mbons"] == ["MBON-f1"] and abs(bound["DAN-f1"]["bound"]) < floor
    yield "pairing bound DAN-g1", f"(DAN-g1's bound is {signed(bound['DAN-g1']['bound'])}"
    od = _json("odours.json")
    full, low = od["by_scale"][0], od["by_scale"][-1]
    yield "odour coding", (f"each of {full['odours']} odours drives a median {100 * full['median_kc_fraction']:.0f} % "
                           f"of the Kenyon cells, and two odours share a median {100 * full['median_shared_share']:.0f} "
                           f"% of the smaller of their codes, at full and at a quarter of the measured rates")
    assert low["scale"] == 0.25 and abs(low["median_shared_share"] - full["median_shared_share"]) < 0.05
    yield "odour coding PNs", (f"two odours' projection-neuron codes share a median "
                               f"{100 * full['median_pn_shared_share']:.0f} %")
    from experiments import odour_coding

    sp = odour_coding.summary(od["with_spontaneous"])
    yield "odour coding, spontaneous ORNs", (
        f"with every olfactory neuron firing at its measured spontaneous rate and odours as changes from it, two "
        f"Kenyon-cell codes still share a median {100 * sp['median_shared_share']:.0f} % (projection-neuron codes "
        f"{100 * sp['median_pn_shared_share']:.0f} %), and the network is no longer quiet at rest")
    assert od["with_spontaneous"]["rest"]["mean_hz"] > 0.1
    yield "cascade agreement", f"(pooled rho {san['rho']:+.2f} against"
    yield "modalities at physiological rates", (f"{san['modalities_reaching']} of {san['n_modalities']} modalities, "
                                                "each at its physiological rate, reach a descending pair")
    if missing:
        yield "modalities not reaching (physiological)", (", ".join(missing[:-1]) + " and " if len(missing) > 1
                                                          else "") + f"{missing[-1]} input do not"
    yield "sensory map reach", (f"{sm['modalities_reaching']} of {sm['n_modalities']} modalities reach at least "
                                "one output neuron")
    if sm["not_reaching"]:
        yield "sensory map silent", " and ".join(sm["not_reaching"]) + " input do not"
    yield "ipsilateral index", (f"population ipsilateral index {lr['real']['mean']:+.2f} over three seeds, "
                                f"{lr['real']['responding_pairs']} responding pairs")
    yield "shuffled index", f"a shuffled brain with the same degrees gives {lr['shuffled']['mean']:+.2f}"
    from experiments import timing_rule

    yield "timing-dependent rule", timing_rule.reading(_json("timing_rule.json")["rows"])
    yield "timing-dependent rule, backward", timing_rule.backward_reading(_json("timing_rule.json")["curve"])
    yield "timing-dependent rule, stage 2", timing_rule.stage2_reading(_json("timing_rule.json"))
    # the held-out change the adoption brought, against the depression-only default's hits kept in the JSON
    s2 = _json("timing_rule.json")["stage2"]
    was, now = set(s2["heldout_depression_only"]["hit_ids"]), set(s2["heldout"]["hit_ids"])
    lost, gained = sorted(was - now), sorted(now - was)
    assert len(was) - len(now) == 1 and len(lost) == 1, "README.md says one finding fewer, one lost"
    yield "timing-dependent rule, held-out change", (
        f"That is one held-out finding fewer than the depression-only model's {len(was)} ({lost[0]} is lost, "
        + (f"{', '.join(gained)} gained)" if gained else "nothing is gained)"))
    from experiments import biology_null

    yield "shuffled connectomes", biology_null.reading(_json("biology_null.json"))
    held, nb = _json("biology_null.json")["summary"]["heldout"], _json("biology_null.json")["summary"]["brains"]
    if held["p"] < 0.05:
        yield "shuffled connectomes, held-out reading", (
            "on the held-out half the real brain scores above "
            + (f"every shuffle (the smallest p that {nb} shuffles can give)" if held["null_at_least"] == 0 else
               f"{nb - held['null_at_least']} of {nb} shuffles") + f", though by only {held['real'] - held['null_median']:.0f} "
            "findings over their median")
    else:
        yield "shuffled connectomes, held-out reading", ("on the held-out half the real brain scores above the shuffles' "
                                                         "median, but not significantly")
    yield "permuted signs", biology_null.signs_reading(_json("biology_null.json"))
    yield "permuted signs, KC code", biology_null.kc_reading(_json("biology_null.json"))
    from experiments import kc_sparseness

    yield "sparser Kenyon-cell code", kc_sparseness.reading(_json("kc_sparseness.json"))
    yield "sparser Kenyon-cell code, stage 2 refitted", kc_sparseness.refit_reading(_json("kc_sparseness.json"))
    from experiments import sign_lesions

    yield "sign lesions", sign_lesions.reading(_json("sign_lesions.json"), bio)
    yield "sign lesions, KC code", sign_lesions.kc_reading(_json("sign_lesions.json"))
    rr = _json("receptor_rules.json")
    d, r = rr["variants"]["default"], rr["variants"]["receptors"]
    same = (rr["heldout"]["default"]["hit_ids"] == rr["heldout"]["receptors"]["hit_ids"]
            and not any(v["gains"] or v["losses"] for v in rr["differ"].values()))
    yield "receptor rules", (f"they {'do' if rr['decision']['adopt'] else 'do not'} (J3 {r['J']:.3f} against the "
                             f"default's {d['J']:.3f}" + ("; the same calibration and held-out findings)" if same
                                                          else ")"))
    assert rr["probe"]["findings"]["receptors"]["vis-02"]["status"] == "miss", "README.md: vis-02 stays a miss"
    from experiments import biology, second_reading

    fs = biology.load_findings()
    sr = second_reading.summary(second_reading.compare(fs, second_reading.load()),
                                _json("biology.json")["models"]["larval"]["table"])
    c, cal, held = sr["counts"], sr["halves"]["calibration"], sr["halves"]["heldout"]
    yield "second reading", (f"the second reading agrees on {c['agree']} of\nthe {sr['n']} testable findings, "
                             f"disagrees on {c['disagree']}" + (f" ({', '.join(sr['disagree'])}" if sr["disagree"]
                                                               else " and"))
    assert [r["id"] for r in sr["revised"]] == ["learn-web25-04"], "README.md names the one revised row"
    rev = sr["revised"][0]
    assert (rev["was"], rev["expect"]) == ("decrease", "no_change"), "README.md: the revision's outcomes"
    yield "second reading, revision", f"the change turns a held-out {rev['status_was']} into a {rev['status']}"
    added = {f.id for f in fs if f.extra.get("added") == "2026-12-05"}
    t = [r for r in _json("biology.json")["models"]["larval"]["table"] if r["half"] == "heldout"
         and r["status"] in ("hit", "miss")]
    new = [r for r in t if r["id"] in added]
    rest = [r for r in t if r["id"] not in added]
    words = {2: "Two", 3: "Three", 4: "Four"}
    rises = sum(r["status"] == "miss" and r["expect"] == "no_change" and r["predicted"] == "increase" for r in new)
    misses = sum(r["status"] == "miss" for r in new)
    hr = sum(r["status"] == "hit" for r in rest)
    yield "added findings", (f"The default model hits {sum(r['status'] == 'hit' for r in new)} of those {len(new)}; "
                             f"without them the held-out half is {hr} of {len(rest)}\n({100 * hr / len(rest):.0f} %), "
                             f"{hr - (rev['status'] == 'hit') + (rev['status_was'] == 'hit')} of {len(rest)} before "
                             "the revision above")
    yield "added findings, misses", (f"{words.get(rises, rises)} of the {words.get(misses, misses).lower()} misses "
                                     "expect no change where the\nmodel's response rises")
    yield "second reading, undecided", f"and cannot decide {c['undetermined']} (Lyutova et al. 2019"
    assert set(sr["undetermined"]) == {"mb-lyu19-02", "learn-lyu19-01"}, "README.md names Lyutova et al. 2019"
    yield "second reading, agreed accuracy", (
        f"the default model hits {cal['agreed_hits']} of {cal['agreed_n']} "
        f"({100 * cal['agreed_hits'] / cal['agreed_n']:.0f} %) of the calibration half and {held['agreed_hits']} of "
        f"{held['agreed_n']} ({100 * held['agreed_hits'] / held['agreed_n']:.0f} %) of the held-out half")
    sp = _json("stage1_spread.json")
    held = [p["scores"]["heldout"]["hits"] for p in sp["points"]]
    assert max(p["J"] for p in sp["points"]) - min(p["J"] for p in sp["points"]) < 0.01, "README.md: J within 0.01"
    yield "stage-1 spread", (f"Stage 1's {'five' if len(sp['points']) == 5 else len(sp['points'])} best points")
    yield "stage-1 spread, findings", (f"give the same outcome on {sp['robust']} of the {sp['n_findings']} response, "
                                       f"silencing and compare findings; they hit {min(held)} to {max(held)} of "
                                       f"{sp['points'][0]['scores']['heldout']['n']} held-out ones")
    gi = _json("glu_inhibition.json")
    if "variants" in gi:  # the screen's best is not the default: step 2 decided
        d, c = gi["variants"]["default"], gi["variants"]["candidate"]
        same = gi["heldout"]["default"]["hit_ids"] == gi["heldout"]["candidate"]["hit_ids"]
        yield "glutamatergic inhibition", (f"it {'does' if gi['decision']['adopt'] else 'does not'} (the screen's "
                                           f"best, glu_scale {gi['best']:.3g}, scores J3 {c['J']:.3f} against the "
                                           f"default's {d['J']:.3f}" + ("; the same held-out findings)" if same
                                                                         else ")"))
    else:
        assert gi["best"] == 1, "docs/glu_inhibition.json: step 2 is skipped only when the default is the best"
        yield "glutamatergic inhibition", (f"it does not (the screen's best value is 1, the default model itself: "
                                           f"stage 1's J {gi['screen']['1']['J']:.3f}; the design then runs no second "
                                           "step)")
    et = _json("edge_threshold.json")
    from experiments.edge_threshold import _k, _pct
    if "decision" in et:
        h = et["heldout"]
        yield "weak connections", (f"it {'does' if et['decision']['adopt'] else 'does not'} (the best threshold, "
                                   f"{_pct(et['best'])}, scores J3 {et['stage2']['J']:.3f} with stage 2 refitted "
                                   f"on it, against {et['default_J3']:.3f} without it; held-out, for information: "
                                   f"{h['candidate']['hits']} of {h['candidate']['n']} against "
                                   f"{h['default']['hits']})")
        if et["decision"]["adopt"]:
            conn, f = et["connections"], _k(et["best"])
            yield "weak connections, pruned", (
                f"less than {_pct(et['best'])} of\nits target's input synapses (`min_input_fraction`, calibrated; "
                f"{conn['0']['connections'] - conn[f]['connections']:,} of {conn['0']['connections']:,} "
                f"axo-dendritic connections, "
                f"{100 * (conn['0']['synapses'] - conn[f]['synapses']) / conn['0']['synapses']:.0f} % of the synapses)")
    else:
        yield "weak connections", (f"it does not (no threshold beats keeping every connection on stage 1's "
                                   f"objective: J {et['stage1']['0']['best']['J']:.3f})")


@pytest.mark.parametrize("claim_id, text", list(_claims()), ids=[c for c, _ in _claims()])
def test_readme_quotes_the_generated_numbers(claim_id, text):
    assert _squash(text) in TEXT, f"README.md should say {text!r} ({claim_id}), as its generated source does"


def _learning_row(doc: str, key: str) -> list[str]:
    row = next(ln for ln in doc.splitlines() if ln.startswith(f"| {key} |"))
    return [c.strip() for c in row.strip("|").split("|")]


def test_readme_learning_figures_are_the_reports():
    """The learning paragraph quotes docs/learning.md (itself reproduced by tests/experiments/test_learning.py)."""
    doc = (DOCS / "learning.md").read_text()
    paired = _learning_row(doc, "paired (US DAN-i1)")        # n, mean, median, sd, d_z, p, neg/pos
    unpaired = _learning_row(doc, "unpaired (US DAN-i1)")
    lvi = _learning_row(doc, "paired")                       # LVI change mean, d_z, p, ...
    lvi_g1 = _learning_row(doc, "paired_g1")
    lvi_f1 = _learning_row(doc, "paired_f1")
    neg = paired[7].split("/")[0]
    measured = doc.split("### Learned valence with measured MBON signs", 1)[1].split("###", 1)[0]
    m_i1, m_g1 = _learning_row(measured, "paired"), _learning_row(measured, "paired_g1")  # mean, d_z, p
    # the README's reading of each aversive pairing follows its p value (alpha 0.05, as the report's)
    g1_reading = "significant" if float(lvi_g1[3]) < 0.05 else "not significantly"
    f1_reading = "does not move it" if float(lvi_f1[3]) >= 0.05 else "moves it"
    for text in (f"by {paired[2]} Hz ({neg} of {paired[1]} larvae, Wilcoxon p = {paired[6]}",
                 f"unpaired control {unpaired[2]} Hz, p = {unpaired[6]}",
                 f"towards approach (+{lvi[1]}, p = {lvi[3]})",
                 f"towards avoidance ({lvi_g1[1]}, p = {lvi_g1[3]}), {g1_reading}",
                 f"pairing with DAN-f1 {f1_reading} ({lvi_f1[1]}, p = {lvi_f1[3]})",
                 f"give +{m_i1[1]} (p = {m_i1[3]}) after DAN-i1 and {m_g1[1]} (p = {m_g1[3]}) after DAN-g1"):
        assert _squash(text) in TEXT, f"README.md should say {text!r}, as docs/learning.md does"
    # the seed counts of docs/learning.md's "Learned valence over seeds"
    seeds = {d: re.search(rf"\*\*{d}: significant in the expected direction at (\d+ of \d+) seeds", doc).group(1)
             for d in ("DAN-i1", "DAN-g1")}
    for text in (f"significant at {seeds['DAN-g1']} seeds (DAN-i1's approach: {seeds['DAN-i1']} seeds)",
                 f"seed and at {seeds['DAN-g1']} seeds (the approach after DAN-i1: {seeds['DAN-i1']})"):
        assert _squash(text) in TEXT, f"README.md should say {text!r}, as docs/learning.md does"
    # "no protocol changes the mean descending response to the CS+ significantly": every DN p >= 0.05
    dn_p = []
    for ln in doc.split("### Learned valence and descending output", 1)[1].split("###", 1)[0].splitlines():
        cells = [c.strip() for c in ln.strip().strip("|").split("|")]
        if len(cells) == 8 and re.fullmatch(r"-?[0-9][0-9.e+-]*", cells[4]):
            dn_p += [float(cells[5]), float(cells[7])]
    assert dn_p, "docs/learning.md: the learned-valence table was not found"
    claim = "no protocol changes the mean descending (DN-VNC, DN-SEZ) response to the CS+ significantly"
    assert (_squash(claim) in TEXT) == (min(dn_p) >= 0.05), (
        f"README.md's reading of the DN effects no longer matches docs/learning.md (smallest p {min(dn_p)})")


def _range(text: str) -> tuple[float, float]:
    """``"14.0 to 15.5"`` or ``"0.203"`` -> (low, high)."""
    nums = [float(x) for x in re.findall(r"\d+(?:\.\d+)?", text)]
    return min(nums), max(nums)


# README phrase (a regex with one number) -> document, regex with the number or range it quotes; an "about"
# figure may differ from the documented range by the stated factor.
TIMINGS = [
    (r"about (\d+(?:\.\d+)?) ms per trial of 1 s", "benchmarks.md",
     r"\| <= 15 ms per trial-second on one core \(stretch 10\) \| (\d+\.\d+ to \d+\.\d+) ms", 1.15),
    (r"without importing Brian2 \((\d+(?:\.\d+)?) s to start\)", "benchmarks.md",
     r"\| start-up under 2 s with a warm cache \| [^|]+ \| (\d+\.\d+ to \d+\.\d+) s", 1.15),
    (r"compiled once, about (\d+) s", "benchmarks.md", r"compiles the kernels \((\d+ to \d+) s", 1.0),
    (r"1,000 cascades from one modality in about (\d+(?:\.\d+)?) s on one core", "benchmarks.md",
     r"\| \d{4}-\d\d-\d\d \| (\d+\.\d+) s \| \d+\.\d+ s \| \d+\.\d+ s \| [\d.]+x / [\d.]+x \|", 1.15),
    (r"about (\d+(?:\.\d+)?) s of CPU per run", "benchmarks.md", r"cpp_standalone (\d+\.\d+ to \d+\.\d+) s per trial", 1.15),
]


@pytest.mark.parametrize("readme_re, doc, doc_re, factor", TIMINGS, ids=[t[0][:40] for t in TIMINGS])
def test_readme_timings_are_the_benchmarks(readme_re, doc, doc_re, factor):
    m = re.search(readme_re, TEXT)
    assert m, f"README.md no longer says {readme_re!r}: update this claim table with the README"
    d = re.search(doc_re, _squash((DOCS / doc).read_text()))
    assert d, f"docs/{doc} no longer holds {doc_re!r}"
    value = float(m.group(1))
    lo, hi = _range(d.group(1))
    assert lo / factor <= value <= hi * factor, (readme_re, value, (lo, hi))


def test_readme_learning_wall_time_is_the_reports():
    m = re.search(r"24 virtual larvae of the whole brain per protocol in about (\d+) s", TEXT)
    assert m, "README.md no longer states the protocols' wall time"
    doc = (DOCS / "learning.md").read_text()
    section = doc[doc.index("## Run times"):]
    times = [float(x) for x in re.findall(r"^\| \w+ \| (\d+(?:\.\d+)?) \|$", section, flags=re.M)]
    assert times, "docs/learning.md has no run-time table"
    assert min(times) <= float(m.group(1)) <= max(times), (m.group(1), times)


def test_readme_explains_the_mbon_m1_miss_as_biology_md_does():
    """"activating the Kenyon cells drives MBON-m1 directly more than the MBONs they also drive inhibit it, so
    MBON-m1 rises where the larva's mean response stays the same": docs/biology.json's input change for
    mb-esc21-05, a held-out miss."""
    assert _squash("activating the Kenyon cells drives MBON-m1 directly more than the MBONs they also drive "
                   "inhibit it, so MBON-m1 rises where the larva's mean response stays the same") in TEXT
    e = _json("biology.json")["models"]["larval"]["explained"]["mb-esc21-05"]
    change = {(r["group"], r["sign"]): r["mv"] for r in e["rows"]}
    assert change[("KC", "+")] > -change[("MBON", "-")] > 0 and e["total_mv"] > 0
    assert (e["expect"], e["predicted"]) == ("no_change", "increase") and e["rate_a_hz"] > e["rate_b_hz"]


def test_readme_counts_the_calibrated_structures():
    """"among ten candidates" counts the structures of the calibration record; "three were added ... and none
    scored better" holds: the added ones are in the record and the chosen structure is one of the first fit's."""
    import models
    from experiments import calibrate

    words = {3: "three", 7: "seven", 8: "eight", 9: "nine", 10: "ten", 11: "eleven", 12: "twelve"}
    cal = models.larval_calibration()
    assert f"among {words[len(cal['structures'])]} candidates" in TEXT
    added = [n for n in calibrate.ADDED_STRUCTURES if n in cal["structures"]]
    assert f"{words[len(added)]} were added on 2026-12-05" in TEXT and "and none scored better" in TEXT
    best_added = max(cal["structures"][n]["J"] for n in added)
    assert cal["structure"] not in added and best_added < cal["structures"][cal["structure"]]["J"]


def test_readme_counts_the_fitted_parameters_and_kc_share():
    """"nine of its parameters are fitted" counts the default model's calibrated parameters and the
    calibrated constants of its learning experiments (the learning rate, the timing-dependent rule's); "about a third of the Kenyon cells" is docs/biology.json's KC share (+-5 points)."""
    import models
    from experiments import learning

    words = {5: "five", 6: "six", 7: "seven", 8: "eight", 9: "nine", 10: "ten", 11: "eleven"}
    m = models.get_model()
    fitted = [n for n in m.parameters if m.parameters[n].source.startswith("calibrated")]
    p = learning.EXPERIMENT_PARAMETERS  # the learning rate and, with the timing-dependent rule, its constants
    fitted += [n for n in p if p[n].source.startswith("calibrated")]
    assert f"{words[len(fitted)]} of its parameters are fitted" in TEXT, fitted
    kc = _json("biology.json")["models"]["larval"]["sanity"]["kc_fraction"]
    assert "About a third of the Kenyon cells respond to an odour" in TEXT and abs(kc - 1 / 3) < 0.05, kc
    # no larval measurement to score it against: the README says so, and the report says what was searched
    from experiments.biology_report import kc_comparison

    assert "we found no larval measurement to compare it with" in TEXT
    assert kc_comparison(kc) in (ROOT / "docs" / "biology.md").read_text()


def test_readme_reading_of_the_held_out_misses_is_the_reports():
    """"Most of its held-out misses are conditioning findings (k of n): ... lean the published way, ... the other
    way, ... expect no memory" is read from docs/biology.json's table (experiments.biology_report.near_misses)."""
    import pandas as pd

    from experiments.biology_report import near_misses

    t = pd.DataFrame(_json("biology.json")["models"]["larval"]["table"])
    miss = t[(t["half"] == "heldout") & (t["status"] == "miss")]
    pairing = miss[miss["test"] == "pairing"]
    near = near_misses(t, "heldout")
    near_p = int((near["test"] == "pairing").sum())
    memory = int((pairing["expect"] != "no_change").sum())  # misses that expect a memory
    rest = miss[miss["test"] != "pairing"]
    rises = int(((rest["expect"] == "no_change") & (rest["predicted"] == "increase")).sum())
    def verb(n, one, many):
        return f"{n} {one if n == 1 else many}"

    phrase = (f"Of its {len(miss)} held-out misses {len(pairing)} are conditioning findings: "
              f"{verb(near_p, 'leans', 'lean')} the published way but {'stays' if near_p == 1 else 'stay'} below the "
              f"benchmark's change criterion, {verb(memory - near_p, 'leans', 'lean')} the other way, and "
              f"{verb(len(pairing) - memory, 'expects', 'expect')} no memory where the model forms one; and {rises} of the other "
              f"{len(rest)} expect no change where the model's readout rises")
    assert _squash(phrase) in TEXT, f"README.md should say {phrase!r}"
    # "Two of those misses no learning rate can reach: pairing with DAN-c1 alone ... only MBON-c1": the report's
    # pairing_reach (US compartments without an MBON of known valence), restricted to the held-out misses
    bio = _json("biology.json")
    out = [r for r in bio["pairing_reach"] if r["id"] in set(miss["id"]) and r["reachable"] is False]
    words = {1: "One", 2: "Two", 3: "Three", 4: "Four"}
    assert {tuple(r["us_mbins"]) for r in out} == {("DAN-c1",)} and {m for r in out for m in r["mbons"]} == {"MBON-c1"}
    assert (f"{words[len(out)]} of those misses no learning rate can reach: pairing with DAN-c1 alone, whose "
            "compartment holds only MBON-c1") in TEXT


def test_readme_contrasts_pathways_with_the_input_breakdown():
    """"with every Kenyon cell activated (mb-esc21-05), the inhibition through those MBONs takes back most of the
    Kenyon cells' own drive (-46 of +56 mV ...)": docs/biology.json's input change for mb-esc21-05. The wiring half
    of the paragraph ("less than a fifth") is tested on the real connectome in tests/sim/test_pathways.py, and here
    as docs/biology.md's wiring column has it."""
    e = _json("biology.json")["models"]["larval"]["explained"]["mb-esc21-05"]
    change = {(r["group"], r["sign"]): r["mv"] for r in e["rows"]}
    kc, inh = change[("KC", "+")], change[("MBON", "-")]
    assert 0.5 * kc < -inh < kc, "README.md: the MBONs' inhibition takes back most, not all, of the KCs' drive"
    assert _squash(f"the inhibition through those MBONs takes back most of the Kenyon cells' own drive "
                   f"({inh:.0f} of +{kc:.0f} mV;") in TEXT
    # the wiring: the chains through other MBONs carry less inhibition than a fifth of the direct chains' strength
    chains = {c["chain"]: c for c in e["wiring"]["readout"]["chains"]}
    assert 0 < chains["KC > MBON > MBON"]["inhibitory"] < 0.2 * chains["KC > MBON"]["excitatory"]
