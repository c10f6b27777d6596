"""A probe, not training: judges agitation-head candidates on the CALL-level
validation (issue 8) without exporting each to ONNX.

    /usr/bin/python3 models/training/call_probe.py --features F --val V [--cand NAME ...] [--json]

F = features.bin of the training corpora (`undertone train-features`), V =
the validation calls' windows (`npx tsx scripts/validation-features.ts`).
For each labelled corpus the candidate is trained on the OTHER corpora
(leave-one-corpus-out) and scores that corpus's validation calls (neutral,
excited, low, calm→angry, angry from the first second). A simplified policy
is replayed over every call: agitation smoothed with a time constant, a
prompt when the smoothed value stays above a threshold for a dwell time.
Every (time constant, dwell, threshold) point gives false-alarm calls
(neutral / excited / low prompted, calm→angry prompted before the onset)
and detections (calm→angry ≤ 6 s after the onset, angry-first ≤ 10 s);
the probe prints the most detections reachable at false-alarm budgets of
5 %, 10 % and 20 % of the calls that must stay silent. The numbers that
ship come from scripts/calibrate-policy.ts with the real tracker and
policy; this probe only ranks candidates quickly (the same calls, windows
and LOCO split).
"""
import argparse
import json
import sys
import time

import numpy as np
import torch

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from corpus_data import CALLER_RELATIVE, DEFAULT_EXCLUDE, Data, feature_mask  # noqa: E402
from export_onnx import numpy_forward  # noqa: E402
from features_bin import read_features  # noqa: E402
import nets  # noqa: E402
from nets import LOGISTIC, PART  # noqa: E402

LABELLED = ["nemo", "turev", "kor", "ravdess"]
SILENT = ("neutral", "excited", "low")


def candidates():
    ab = dict(tasks=["agitation"], exclude=CALLER_RELATIVE, calls="all", aug=True)
    rel = dict(tasks=["agitation"], calls="all", aug=True)
    return {
        "log-abs-hard3": [dict(LOGISTIC, **ab, hard=3.0)],
        "log-abs": [dict(LOGISTIC, **ab)],
        "log-abs-hard6": [dict(LOGISTIC, **ab, hard=6.0)],
        "log-rel-hard3": [dict(LOGISTIC, **rel, hard=3.0)],
        "mlp32-abs-hard3": [dict(PART, **ab, hidden=[32], hard=3.0)],
        "mlp32-rel-hard3": [dict(PART, **rel, hidden=[32], hard=3.0)],
        "log-abs-sel0.2-hard3": [dict(LOGISTIC, **ab, select=0.2, hard=3.0)],
        # agitation = max(absolute head, relative head): the suggestion
        "max(log-abs,log-rel-hard3)": {"max": [[dict(LOGISTIC, **ab)], [dict(LOGISTIC, **rel, hard=3.0)]]},
        "mean(log-abs,log-rel-hard3)": {"mean": [[dict(LOGISTIC, **ab)], [dict(LOGISTIC, **rel, hard=3.0)]]},
    }


def train(d, rows, parts, seed=0):
    mask = feature_mask(d.feature_names, DEFAULT_EXCLUDE)
    return nets.train_model(d, rows, {"clip": 5.0, "mask": mask, "parts": [dict(p) for p in parts]}, seed)


def smooth_prompt_times(ms, p, tau_ms, dwell_ms, thresholds):
    """First prompt time per threshold (inf = never) for one call."""
    out = np.full(len(thresholds), np.inf)
    if len(p) == 0:
        return out
    s = np.empty(len(p))
    acc = p[0]
    prev = ms[0]
    for i in range(len(p)):
        dt = ms[i] - prev
        prev = ms[i]
        a = 1.0 - np.exp(-max(dt, 0.0) / tau_ms) if i > 0 else 1.0
        acc = acc + a * (p[i] - acc)
        s[i] = acc
    for k, thr in enumerate(thresholds):
        above = s >= thr
        since = None
        for i in range(len(s)):
            if above[i]:
                if since is None:
                    since = ms[i]
                if ms[i] - since >= dwell_ms:
                    out[k] = ms[i]
                    break
            else:
                since = None
    return out


def call_outcomes(calls, windows_by_call, thresholds, tau_ms, dwell_ms):
    """Per threshold: FA calls, detected calls, and counts per kind."""
    n = len(thresholds)
    fa = np.zeros(n, int)
    det = np.zeros(n, int)
    kinds = {k: np.zeros(n, int) for k in ("neutral", "excited", "low", "c2a_det", "c2a_early", "angry_det")}
    for ci, call in enumerate(calls):
        ms, p = windows_by_call[ci]
        t = smooth_prompt_times(ms, p, tau_ms, dwell_ms, thresholds)
        kind = call["kind"]
        if kind in SILENT:
            hit = np.isfinite(t)
            fa += hit
            kinds[kind] += hit
        elif kind == "calm-then-angry":
            on = call["onsetMs"]
            early = t < on
            d_ = (t >= on) & (t <= on + 6000)
            fa += early
            det += d_
            kinds["c2a_early"] += early
            kinds["c2a_det"] += d_
        elif kind == "angry":
            d_ = t <= 10_000
            det += d_
            kinds["angry_det"] += d_
    return fa, det, kinds


def auc(pos, neg):
    """Mann-Whitney AUC (ties half)."""
    if len(pos) == 0 or len(neg) == 0:
        return float("nan")
    allv = np.concatenate([pos, neg])
    r = allv.argsort().argsort().astype(np.float64) + 1
    return float((r[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def policy_table(calls, wbc, thresholds):
    """The most detections at false-alarm budgets of 5 / 10 / 20 % of the calls
    that must stay silent, over a smoothing (1 / 2 / 4 s) x dwell (0.5 / 1 / 2 s)
    x threshold grid; ties go to fewer false alarms. wbc = {call: (ms, probs)}."""
    n_silent = sum(1 for c in calls if c["kind"] in SILENT or c["kind"] == "calm-then-angry")
    best = {}
    for tau in (1000, 2000, 4000):
        for dwell in (500, 1000, 2000):
            fa, det, kinds = call_outcomes(calls, wbc, thresholds, tau, dwell)
            for budget in (0.05, 0.10, 0.20):
                ok = fa <= budget * n_silent
                if not ok.any():
                    continue
                # -inf outside the budget: an over-budget point must never win.
                j = int(np.argmax(np.where(ok, det * 1000.0 - fa, -np.inf)))
                cur = best.get(budget)
                if cur is None or det[j] > cur["det"] or (det[j] == cur["det"] and fa[j] < cur["fa"]):
                    best[budget] = dict(det=int(det[j]), fa=int(fa[j]), tau=tau, dwell=dwell, thr=float(thresholds[j]),
                                        **{k: int(v[j]) for k, v in kinds.items()})
    return best


def load_probe_data(features, val):
    """The training windows (Data) and the validation calls' windows: header, x, meta,
    meta index, call of each window, its audio ms, and the calls (header.options.calls)."""
    header, x, meta = read_features(features)
    d = Data(header, np.nan_to_num(x), meta)
    vh, vx, vm = read_features(val)
    if vh["featureNames"] != d.feature_names:
        raise SystemExit("validation features and training features differ: re-run scripts/validation-features.ts")
    vmi = {n: i for i, n in enumerate(vh["metaNames"])}
    return d, {"header": vh, "x": np.nan_to_num(vx), "meta": vm, "mi": vmi, "call": vm[:, vmi["call"]].astype(int),
               "ms": vm[:, vmi["audioMs"]].astype(np.float64), "calls": vh["options"]["calls"]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--features", default="models/training/.work/features.bin")
    ap.add_argument("--val", default="models/training/.work/validation-features.bin")
    ap.add_argument("--cand", nargs="*", default=None, help="names below, or nets:GROUP/NAME for a nets.py candidate")
    ap.add_argument("--seeds", type=int, default=1, help="models averaged per held-out corpus (seeds seed0..seed0+N-1)")
    ap.add_argument("--seed0", type=int, default=0, help="first seed (another set of seeds measures seed noise)")
    ap.add_argument("--score", default="agitation", help="graph output the policy acts on (agitation | anger)")
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--batch", type=int, default=512)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(1)
    d, v = load_probe_data(args.features, args.val)
    vh, vx, vm, vmi, vcall, vms, calls = v["header"], v["x"], v["meta"], v["mi"], v["call"], v["ms"], v["calls"]
    cands = candidates()
    names = args.cand or list(cands)
    for name in names:
        # "nets:GROUP/NAME": a candidate of nets.part_candidates (e.g. nets:agit/mean-abs+rel-hard3).
        if name.startswith("nets:"):
            cands[name] = nets.candidate_parts(name[5:])
    thresholds = np.linspace(0.05, 0.995, 96)
    results = {}
    for name in names:
        cand = cands[name]
        combine, groups = (next(iter(cand.items())) if isinstance(cand, dict) else ("one", [cand]))
        groups = [[dict(p, epochs=args.epochs, batch=args.batch) for p in parts] for parts in groups]
        t0 = time.time()
        probs = np.zeros(len(vx))
        for c in LABELLED:
            rows = d.corpus != d.corpus_id(c)
            sel = np.array([calls[i]["corpus"] == c for i in vcall])
            outs = [np.mean([numpy_forward(train(d, rows, parts, seed), vx[sel])[args.score] for seed in range(args.seed0, args.seed0 + args.seeds)], 0)
                    for parts in groups]
            probs[sel] = np.max(outs, 0) if combine == "max" else np.mean(outs, 0)
        vclip = vm[:, vmi["clip"]].astype(int)
        lab = np.array([vh["clips"][k]["label"] if k >= 0 else "" for k in vclip])
        vcorp = np.array([calls[i]["corpus"] for i in vcall])
        aucs = []
        for c in LABELLED:
            k = vcorp == c
            aucs.append(f"{c} {auc(probs[k & (lab == 'anger')], probs[k & np.isin(lab, ['neutral', 'sadness'])]):.2f}/"
                        f"{auc(probs[k & (lab == 'anger')], probs[k & np.isin(lab, ['happiness', 'surprise', 'fear'])]):.2f}")
        print(f"{name:24s} window AUC anger vs calm/low, vs excited: " + " ".join(aucs), flush=True)
        wbc = {}
        for ci in range(len(calls)):
            k = vcall == ci
            wbc[ci] = (vms[k], probs[k])
        n_det = sum(1 for c in calls if c["kind"] in ("calm-then-angry", "angry"))
        best = policy_table(calls, wbc, thresholds)
        results[name] = best
        line = "  ".join(
            f"FA≤{int(b * 100)}%: det {v['det']}/{n_det} (c2a {v['c2a_det']}, angry {v['angry_det']}; fa {v['fa']} = "
            f"n{v['neutral']} e{v['excited']} l{v['low']} early{v['c2a_early']})" for b, v in sorted(best.items()))
        print(f"{name:24s} {time.time() - t0:5.0f}s  {line}", flush=True)
    if args.json:
        print(json.dumps(results))


if __name__ == "__main__":
    main()
