"""Write docs/behaviour.md: the closed-loop assays run on the whole-brain larva, and what they show.

    LARVASIM_DATA=../shared/connectomes python -m experiments.behaviour_report --threads 2

Every number in docs/behaviour.md comes from this script (docs/behaviour.json
holds them, with every larva's readouts); tests/experiments/test_behaviour_report.py
reruns parts of it and checks the documented values. The assays' runs are kept in
``--work`` (default ``behaviour-report/``), so an interrupted report resumes.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from brian2 import ms, second

from larvasim.util import atomic_path, atomic_write_text, json_default

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "behaviour.md"
JSON = ROOT / "docs" / "behaviour.json"
FIG = ROOT / "docs" / "figures"

#: Sizes of the documented runs (larvae per condition or group, test length in s) and the seed.
REPORT = {"free_larvae": 100, "chemotaxis_larvae": 30, "learning_larvae": 20, "light_larvae": 20,
          "duration_s": 180.0, "seed": 0, "batch": 10, "dose_larvae": 8}
DOSES = (0.0, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0)


def dose_response(connectome, doses=DOSES, larvae: int = 8, seed: int = 0) -> dict:
    """Summed descending output (Hz) of the default model to the assay odour at fixed concentrations.

    Both organs at the same concentration for 2 s (the first 0.5 s discarded); then
    only the left or only the right organ at 0.3 (does the output's left/right
    imbalance follow the odour's side?).
    """
    import sim
    from models.decoders import get_decoder
    from models.senses import Senses

    from .behaviour import assay_odour

    net = sim.Network(connectome, device="numba")
    dec = get_decoder("cast_sampling")
    dec.bind(connectome)
    L, R = dec.readout[dec._slices["left"]], dec.readout[dec._slices["right"]]
    senses = Senses(connectome, odours={"A": assay_odour(connectome, "A")}, senses=["olfaction"])
    n = len(connectome.neurons)

    def trial(c_left, c_right, k):
        st = net.stepper(larvae=larvae, seed=seed + k, keep=None)
        senses.reset(larvae)
        left = {"odour:A": np.full(larvae, c_left)}
        right = {"odour:A": np.full(larvae, c_right)}
        cnt = np.zeros((larvae, n))
        for step in range(40):
            rates = senses.rates(left, right, 0.05)
            out = st.step(50 * ms, rates=rates)
            if step >= 10:
                for j, (i, _) in enumerate(out):
                    cnt[j] += np.bincount(i, minlength=n)
        T = 1.5
        return cnt[:, L].sum(axis=1) / T, cnt[:, R].sum(axis=1) / T, float(np.median(rates[0][rates[0] > 0]))

    rows = []
    for k, c in enumerate(doses):
        lh, rh, orn = trial(c, c, k)
        rows.append({"concentration": c, "orn_median_hz": orn, "dn_sum_hz": float(np.mean(lh + rh)),
                     "dn_sum_sd_hz": float(np.std(lh + rh)), "dn_left_hz": float(np.mean(lh)),
                     "dn_right_hz": float(np.mean(rh))})
    sides = {}
    for k, (name, cl, cr) in enumerate((("left organ only", 0.3, 0.0), ("right organ only", 0.0, 0.3))):
        lh, rh, _ = trial(cl, cr, 100 + k)
        sides[name] = {"dn_left_hz": float(np.mean(lh)), "dn_right_hz": float(np.mean(rh))}
    return {"doses": rows, "sides": sides, "larvae": larvae, "seed": seed}


def _fig_distance(res, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .behaviour import ASSAY_SETTINGS, distance_to

    fig, ax = plt.subplots(figsize=(5, 3.2))
    for cond, tr in res.trajectories.items():
        d = distance_to(tr, ASSAY_SETTINGS["source_x_mm"][0], 0.0)
        m, se = d.mean(axis=1), d.std(axis=1) / np.sqrt(d.shape[1])
        ax.plot(tr.t, m, label=f"{cond} (n={tr.larvae})")
        ax.fill_between(tr.t, m - se, m + se, alpha=0.25)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("distance to the odour source (mm)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=110)
    plt.close(fig)


def run(work, threads=None, sizes=None, connectome=None, progress=True) -> dict:
    """Run every assay of the report (resumable in ``work``); returns the report's data."""
    from sim.analysis.tracks import FREE_CRAWLING_REFERENCE

    from .behaviour import ASSAY_SETTINGS, LEARNING_SCHEDULE, run_assay

    sz = dict(REPORT, **(sizes or {}))
    if connectome is None:
        import connectomes

        connectome = connectomes.load("winding2023")
    work = Path(work)
    dur = sz["duration_s"] * second
    common = dict(seed=sz["seed"], batch=sz["batch"], threads=threads, progress=progress)
    t0 = time.perf_counter()
    out = {"sizes": sz, "settings": {k: v[0] for k, v in ASSAY_SETTINGS.items()},
           "learning_schedule": LEARNING_SCHEDULE}
    free = run_assay("free", None, larvae=sz["free_larvae"], duration=dur, out=work / "free",
                     **dict(common, batch=sz["free_larvae"]))
    out["free"] = free.summary["conditions"]["random_walk"]
    out["free_reference"] = FREE_CRAWLING_REFERENCE
    out["dose"] = dose_response(connectome, larvae=sz["dose_larvae"], seed=sz["seed"])
    chem = run_assay("chemotaxis", connectome, larvae=sz["chemotaxis_larvae"], duration=dur, out=work / "chemotaxis",
                     **common)
    out["chemotaxis"] = {"summary": chem.summary, "larvae": chem.larvae.to_dict(orient="list")}
    _fig_distance(chem, FIG / "behaviour_chemotaxis_distance.png")
    from sim.analysis.tracks import plot_tracks

    plot_tracks(chem, FIG / "behaviour_chemotaxis_tracks.png", max_larvae=15)
    from .behaviour import animate_larva

    animate_larva("chemotaxis", FIG, chem, connectome=connectome, seconds=60.0,
                  name="behaviour_chemotaxis_larva0.gif", every=10, dpi=60)
    out["learning"] = {}
    for dan in ("DAN-i1", "DAN-g1"):
        lr = run_assay("learning", connectome, larvae=sz["learning_larvae"], duration=dur,
                       out=work / f"learning-{dan}", dan=dan, **common)
        out["learning"][dan] = {"summary": lr.summary, "larvae": lr.larvae.to_dict(orient="list")}
    light = run_assay("light", connectome, larvae=sz["light_larvae"], duration=dur, out=work / "light", **common)
    out["light"] = {"summary": light.summary, "larvae": light.larvae.to_dict(orient="list")}
    plot_tracks(light, FIG / "behaviour_light_tracks.png", max_larvae=15)
    out["elapsed_s"] = time.perf_counter() - t0
    return out


def _p(x) -> str:
    return "n/a" if x is None else (f"{x:.2g}" if x >= 1e-3 else f"{x:.1e}")


def _parameter_table(ps) -> list[str]:
    """Markdown rows: parameter, value, source (and a blank line)."""
    rows = ["| parameter | value | source |", "| --- | --- | --- |"]
    rows += [f"| {k} | {ps[k].format_value()} | {ps[k].source} |" for k in ps]
    return rows + [""]


def render(d: dict) -> str:
    """docs/behaviour.md from the report's data."""
    from models.body import BODY_PARAMETERS
    from models.decoders import get_decoder
    from models.senses import SENSE_PARAMETERS

    sz = d["sizes"]
    fr, ref = d["free"], d["free_reference"]
    ch = d["chemotaxis"]["summary"]
    c = ch["conditions"]
    L = []
    a = L.append
    a("# Behaviour in closed loop: the whole-brain larva on a plate")
    a("")
    a("Generated by `python -m experiments.behaviour_report` (every number below; "
      "`docs/behaviour.json` holds them with every larva's readouts; "
      "`tests/experiments/test_behaviour_report.py` reruns parts and checks them). "
      f"Seed {sz['seed']}; tests of {sz['duration_s']:g} s (the lab's 3 min); chunks of 50 ms.")
    a("")
    a("Each larva is a closed loop: the arena is sampled at its left and right sense organs, the senses turn "
      "that into input rates of its sensory neurons, the default larval model of the whole brain "
      "(2,952 neurons, numba engine) runs 50 ms, a **motor decoder** turns the descending neurons' spikes into "
      "motor commands, and the body moves (`sim/closed_loop.py`). The connectome ends at the descending neurons; "
      "the decoder is therefore the behaviour *hypothesis*, explicit and swappable (`models/decoders.py`), and "
      "every assay also runs the **random-walk null** (same body, brain ignored).")
    a("")
    a("## 1. The body: free crawling against published statistics")
    a("")
    a(f"{sz['free_larvae']} random-walk larvae, {sz['duration_s']:g} s each, in a dish of 120 mm radius, measured as "
      "Wosniack et al. 2022 (eLife 11:e75826) measured real 3rd-instar larvae on agar: positions at 2 frames/s, "
      "speed averaged over crawling frames (> 0.3 mm/s), turns found by Ramer-Douglas-Peucker simplification "
      "at 2.5 mm (`sim/analysis/tracks.py`).")
    a("")
    a("| statistic | model | published (rover, sitter) | |")
    a("| --- | --- | --- | --- |")
    lo, hi = ref["crawl_speed_mm_s"]
    ok = "within the range" if lo <= fr["crawl_speed_mm_s"] <= hi else "outside the range"
    a(f"| crawling speed (mm/s) | {fr['crawl_speed_mm_s']:.3f} | {lo}, {hi} | {ok} (input: their mean, 0.90) |")
    lo, hi = ref["turns_per_min"]
    a(f"| turns per minute | {fr['turns_per_min']:.2f} | {lo}, {hi} | calibrated to their mean (below) |")
    a(f"| pauses per second | {fr['pauses_per_s']:.4f} | 0.0083, 0.0063 (their model's rates, Table 2) | input: their mean |")
    a("")
    a("The model's spontaneous turn rate is **calibrated** (`python -m experiments.calibrate_body`): the RDP count "
      "misses small turns and merges close ones, so the rate that gives 2.72 counted turns per minute is "
      f"{float(BODY_PARAMETERS['turn_rate'].magnitude):.4f} /s, not their 0.045. The turn-angle distribution is an "
      "assumption (no verified published value), so the published turn-angle distribution is **not** reproduced "
      "here. Body parameters:")
    a("")
    L += _parameter_table(BODY_PARAMETERS)
    a("## 2. What the brain makes of an odour")
    a("")
    a("The assay odour drives all 21 receptor types (both sides), each with a peak rate of 50-100 Hz and an EC50 "
      "drawn log-uniformly over 0.02-2 (units of a source's peak; one dose-response shape with sensitivities spread "
      "over orders of magnitude, after Si et al. 2019), adapting with the time constant of Schulze et al. 2015. "
      f"Summed rate of all descending neurons (DN-VNC and DN-SEZ, {d['dose']['larvae']} larvae, 1.5 s after 0.5 s):")
    a("")
    a("| concentration | median ORN rate (Hz) | summed DN output (Hz) | s.d. over larvae | left | right |")
    a("| --- | --- | --- | --- | --- | --- |")
    for r in d["dose"]["doses"]:
        a(f"| {r['concentration']:g} | {r['orn_median_hz']:.1f} | {r['dn_sum_hz']:.1f} | {r['dn_sum_sd_hz']:.1f} | "
          f"{r['dn_left_hz']:.1f} | {r['dn_right_hz']:.1f} |")
    a("")
    s = d["dose"]["sides"]
    doses = d["dose"]["doses"]
    d0, d1 = doses[0]["dn_sum_hz"], max(r["dn_sum_hz"] for r in doses)
    a(f"Without odour the summed output is {d0:.1f} Hz (the senses' spontaneous rates drive the brain); the "
      f"most any concentration gives is {d1:.1f} Hz, {100 * (d1 / d0 - 1) if d0 > 0 else float('inf'):.0f} % more. "
      f"The assays' sources peak at {d['settings']['source_peak']} (a choice like a lab's odour dilution, stated as an "
      "assumption). "
      "Odour at only one organ (0.3): left organ -> left/right output "
      f"{s['left organ only']['dn_left_hz']:.1f} / {s['left organ only']['dn_right_hz']:.1f} Hz; right organ -> "
      f"{s['right organ only']['dn_left_hz']:.1f} / {s['right organ only']['dn_right_hz']:.1f} Hz. "
      "With both organs 0.2 mm apart on a gradient of centimetres, the left/right difference of input is tiny, so "
      "the default decoder (`cast_sampling`) steers by *temporal* comparisons (runs and head casts), not by the "
      "left/right imbalance (decoder `lr_asymmetry` does the latter).")
    a("")
    a("## 3. Chemotaxis")
    a("")
    a(f"One odour source 25 mm from the centre of an 85 mm dish; larvae start at the centre, random headings; "
      f"{c['brain']['larvae']} larvae per condition. *Brain*: decoder `cast_sampling` on the default model; "
      "*random walk*: the null; *shuffled*: the same decoder on a degree-preserving shuffle of the connectome (one "
      "shuffle per batch of 10 larvae).")
    a("")
    a("| condition | median distance to source, last minute (mm) | mean navigation index | preference (odour half) "
      "| summed descending output (Hz) |")
    a("| --- | --- | --- | --- | --- |")
    for cond, cs in c.items():
        a(f"| {cond} | {cs['median_distance_last_min_mm']:.1f} | {cs['mean_navigation_index']:+.3f} | "
          f"{cs['preference']:+.2f} | {cs.get('mean_dn_output_hz', float('nan')):.1f} |")
    a("")
    for ctrl in ("random_walk", "shuffled"):
        k = ch.get(f"brain_vs_{ctrl}")
        if k:
            a(f"- brain vs {ctrl.replace('_', ' ')}: distance in the last minute, Mann-Whitney p = "
              f"{_p(k['distance_last_min']['p'])}; navigation index p = {_p(k['navigation_index']['p'])}.")
    a("")
    a("![distance to the source over time](figures/behaviour_chemotaxis_distance.png)")
    a("")
    a("![tracks](figures/behaviour_chemotaxis_tracks.png)")
    a("")
    a("One larva of the brain condition for its first minute, beside the spikes of every neuron that fired "
      "(`larvasim behave chemotaxis --animate` writes the same for any run):")
    a("")
    a("![one larva and its brain](figures/behaviour_chemotaxis_larva0.gif)")
    a("")
    a("Navigation index: per larva, the mean cosine between each 50 ms displacement and the direction to the "
      "source (+1 straight there). Preference: (#larvae on the source's half - #on the other) / N at the end.")
    a("")
    a("## 4. Learned odour preference")
    a("")
    sch = d["learning_schedule"]
    a("Reciprocal training as in the Gerber lab (Schleyer et al. 2015, eLife 4:e04711): group *paired_A* gets "
      "odour A with the DAN activated and B alone; *paired_B* the reverse; *unpaired* gets A, the DAN and B "
      f"{sch['gap']:g} s apart. {sch['cycles']} cycles of {sch['cs']:g} s odours (compressed from the lab's 3 x 5 min, "
      "as in `experiments.learning`); training is open loop (the odour fills the plate, as on a training plate), "
      "plasticity only during training. Test: A and B sources on opposite sides, 3 min, closed loop. "
      "PREF = (#A - #B)/N, PI = (PREF(A+/B) - PREF(A/B+))/2 (Schleyer et al. 2015, Eqs. 1-2).")
    a("")
    a("| US | PREF paired_A | PREF paired_B | PREF unpaired | PI | PI from time on each half | "
      "paired_A vs paired_B (p) | learning index vs unpaired |")
    a("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for dan, lr in d["learning"].items():
        sm = lr["summary"]
        cc = sm["conditions"]
        a(f"| {dan} | {cc['paired_A']['preference']:+.2f} | {cc['paired_B']['preference']:+.2f} | "
          f"{cc['unpaired']['preference']:+.2f} | {sm['performance_index']:+.3f} | "
          f"{sm['performance_index_time']:+.3f} | {_p(sm['paired_A_vs_paired_B']['p'])} | "
          f"{sm.get('learning_index_vs_unpaired', float('nan')):+.3f} |")
    a("")
    a("Published: activating DAN-i1 in training establishes an appetitive memory after paired and an opposite one "
      "after unpaired presentation (Schleyer et al. 2020, J Neurosci 40:5990, abstract); DAN-g1 signals punishment "
      "in the larva (Eschbach et al. 2020; the PI values are in their figures and were not verified here). "
      f"{sz['learning_larvae']} larvae per group.")
    a("")
    a("## 5. Light/dark choice")
    a("")
    lt = d["light"]["summary"]
    a("Half of the dish lit (x > 0); larvae start at the centre. Photoreceptors fire 2 Hz in the dark and 62 Hz in "
      "full light (assumption). Published: larvae avoid light, and only the Rh5 photoreceptors are needed for it "
      "(Keene et al. 2011, J Neurosci 31:6527, abstract).")
    a("")
    a("| condition | mean fraction of time in the dark | preference for the dark half (end) | "
      "summed descending output (Hz) |")
    a("| --- | --- | --- | --- |")
    for cond, cs in lt["conditions"].items():
        a(f"| {cond} | {cs['mean_fraction_dark']:.3f} | {cs['preference_dark']:+.2f} | "
          f"{cs.get('mean_dn_output_hz', float('nan')):.2f} |")
    a("")
    for k, v in lt.items():
        if k.startswith("brain_vs_"):
            a(f"- brain vs {k[9:].replace('_', ' ')}: fraction in the dark, Mann-Whitney p = {_p(v['p'])}.")
    a("")
    a("![tracks](figures/behaviour_light_tracks.png)")
    a("")
    a("## 6. The motor decoders (hypotheses)")
    a("")
    for name in ("cast_sampling", "lr_asymmetry", "random_walk"):
        dec = get_decoder(name)
        a(f"**{name}**: {dec.rationale}")
        a("")
        if len(dec.parameters):
            L += _parameter_table(dec.parameters)
    a("Sensory transduction (`models/senses.py`):")
    a("")
    L += _parameter_table(SENSE_PARAMETERS)
    a("## 7. What this shows, and what it does not")
    a("")
    a(_conclusions(d))
    a("")
    a("Run one assay yourself: `larvasim behave chemotaxis --larvae 20 --animate` (README, 'Behaviour in closed "
      "loop'); timings are in docs/benchmarks.md.")
    return "\n".join(L) + "\n"


def _conclusions(d: dict) -> str:
    ch = d["chemotaxis"]["summary"]
    c = ch["conditions"]
    out = []
    b, rw = c["brain"], c["random_walk"]
    p_rw = ch.get("brain_vs_random_walk", {}).get("distance_last_min", {}).get("p")
    closer = b["median_distance_last_min_mm"] < rw["median_distance_last_min_mm"]
    sig = p_rw is not None and p_rw < 0.05
    out.append(f"- **Chemotaxis**: the whole-brain larva ends {'closer to' if closer else 'no closer to'} the source "
               f"than the random walk (median {b['median_distance_last_min_mm']:.1f} vs "
               f"{rw['median_distance_last_min_mm']:.1f} mm), {'a significant' if sig else 'not a significant'} "
               f"difference (p = {_p(p_rw)}).")
    if "shuffled" in c:
        sh = c["shuffled"]
        p_sh = ch.get("brain_vs_shuffled", {}).get("distance_last_min", {}).get("p")
        out.append(f"  Against the shuffled connectome ({sh['median_distance_last_min_mm']:.1f} mm): p = {_p(p_sh)}. "
                   "Whatever navigation there is comes from the decoder's temporal rule applied to a descending "
                   "output that rises with concentration; a shuffled brain whose output also rises with input "
                   "can do as well, so this assay does not show that the *wiring* navigates.")
    for dan, lr in d["learning"].items():
        sm = lr["summary"]
        pi = sm["performance_index"]
        p = sm["paired_A_vs_paired_B"]["p"]
        out.append(f"- **Learning with {dan}**: PI {pi:+.3f} (p = {_p(p)} between the reciprocal groups). "
                   + ("Its sign matches the published valence." if (pi > 0) == (dan == "DAN-i1") and p is not None
                      and p < 0.05 else "No significant learned preference in the expected direction."))
    lt = d["light"]["summary"]["conditions"]
    dn = lt["brain"].get("mean_dn_output_hz", float("nan"))
    out.append(f"- **Light**: the brain-driven larva spends {lt['brain']['mean_fraction_dark']:.2f} of its time in "
               f"the dark vs {lt['random_walk']['mean_fraction_dark']:.2f} for the random walk. Its summed "
               f"descending output during the test is {dn:.2f} Hz: "
               + ("photoreceptor input does not reach the descending neurons in the default model (visual is one "
                  "of the modalities that fail in docs/biology.md), so no light avoidance can emerge: a null "
                  "result of the model, not of larvae." if dn < 1.0 else
                  "light reaches the descending neurons, but the decoder turns no avoidance out of it."))
    out.append("- **Limits**: the decoder is a hypothesis with free gains; population output carries no valence, so "
               "the larva approaches whatever raises descending output (an aversive odour included); the ventral "
               "nerve cord, proprioception and the body's mechanics are not modelled; training is compressed in "
               "time; odour tuning is drawn, not measured receptor by receptor.")
    return "\n".join(out)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--work", default="behaviour-report", help="folder for the runs (resumable)")
    p.add_argument("--threads", type=int, default=None)
    a = p.parse_args(argv)
    d = run(a.work, threads=a.threads)
    atomic_write_text(JSON, json.dumps(d, indent=1, default=json_default) + "\n")
    atomic_write_text(DOC, render(d))
    print(f"wrote {DOC} and {JSON} ({d['elapsed_s'] / 60:.1f} min)", file=sys.stderr)
    return 0



if __name__ == "__main__":
    raise SystemExit(main())
