"""A probe, not training: does a head's clip-level anger UAR survive calls
that hold ONE emotion (issue 8)?

    /usr/bin/python3 models/training/composition_probe.py --features F \
        --cand anger/ens-log+sel0.3+mlp16-adv1+pair0.3 [--calls all] [--no-rel] \
        [--strength 1] [--seeds 2] [--json OUT]

`npm run eval` strings each speaker's clips into one call. On our acted
corpora that call is a balanced mix of emotions; on a corpus whose speakers
are each angry, or not, for their whole recording (the hidden Urdu talk
shows), the caller-relative inputs (`rel_*`) and the caller score baseline
both measure each window against a norm that is already angry, and anger
falls to chance. This probe measures both kinds of call on our corpora,
leave-one-corpus-out:

- `mixed`: the held-out corpus's speaker calls (episode == 0 in
  features.bin), what `npm run eval` assembles;
- `one`: its one-emotion episode calls (src/eval/episode-calls.ts: all of a
  speaker's clips of one label, from the first second), what `npm run eval`
  assembles from a corpus whose speakers each hold one emotion.

For each: clip-level anger UAR (anger_prob ≥ 0.5 on the clip's mean window
probability), with the caller score baseline at `--strength` (and at each
`--extra-strengths`) and without it, and anger-vs-happiness UAR; with an emotion candidate, emotion4 and
arousal UAR with and without the baseline. The
agitation head is reported too when the candidates include one; with both
an anger and an agitation candidate, also `mix0.5` (the baseline's anger
logit and the agitation logit averaged: the shipped `angerFromAgitation`)
and `mixraw` (the same without the baseline). The baseline's own setting
`angerFromAgitation` is left out here (set to 0), so `anger+baseline` is the
re-centred anger head alone.
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from corpus_data import AROUSAL_VALUE, CALLER_RELATIVE, DEFAULT_EXCLUDE, Data, feature_mask  # noqa: E402
from features_bin import read_features  # noqa: E402
from nets import ensemble_forward, part_candidates, train_model  # noqa: E402
from validation import CALLER_BASELINE, caller_relative, caller_spec, one_emotion_rows, uar  # noqa: E402

LABELLED = ["nemo", "turev", "kor", "ravdess"]


def logit(p):
    p = np.clip(p.astype(np.float64), 1e-6, 1 - 1e-6)
    return np.log(p) - np.log1p(-p)


def clip_uars(d, rows, p):
    """Anger UAR and anger-vs-happiness UAR of the clip means of p over rows."""
    idx = np.where(rows)[0]
    uniq, inv = np.unique(d.clip[idx], return_inverse=True)
    s = np.zeros(len(uniq))
    np.add.at(s, inv, p[idx])
    s /= np.bincount(inv)
    y = d.clip_labels["anger"][uniq]
    names = d.clip_label_name[uniq]
    m = y >= 0
    pred = (s >= 0.5).astype(np.int64)
    pair = np.isin(names, ("anger", "happiness"))
    return {"anger": uar(y[m], pred[m], 2), "vs_happy": uar((names[pair] == "anger").astype(np.int64), pred[pair], 2),
            "clips": int(m.sum())}


def clip_means(d, rows, v):
    idx = np.where(rows)[0]
    uniq, inv = np.unique(d.clip[idx], return_inverse=True)
    v = v[idx].reshape(len(idx), -1).astype(np.float64)
    s = np.zeros((len(uniq), v.shape[1]))
    np.add.at(s, inv, v)
    return uniq, s / np.bincount(inv)[:, None]


def emotion_uars(d, rows, emotion, arousal_value):
    """Clip-level emotion4 UAR (argmax) and arousal UAR (expected value in thirds), as `npm run eval` decides."""
    uniq, e = clip_means(d, rows, emotion)
    y = d.clip_labels["emotion4"][uniq]
    m = y >= 0
    _, a = clip_means(d, rows, arousal_value)
    ya = d.clip_labels["arousal"][uniq]
    ma = ya >= 0
    pa = np.where(a[:, 0] < 1 / 3, 0, np.where(a[:, 0] < 2 / 3, 1, 2))
    return {"emotion4": uar(y[m], e[m].argmax(1), 4), "arousal": uar(ya[ma], pa[ma], 3)}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--features", default="models/training/.work/features.bin")
    ap.add_argument("--cand", required=True, nargs="+", help="GROUP/NAME of nets.part_candidates (anger/... or agit/...); several are trained together")
    ap.add_argument("--calls", default=None, help="override every part's training calls: speaker | episodes | all")
    ap.add_argument("--no-rel", action="store_true", help="drop the caller-relative inputs (rel_*) from every part")
    ap.add_argument("--strength", type=float, default=CALLER_BASELINE["strength"], help="caller score baseline strength")
    ap.add_argument("--extra-strengths", type=float, nargs="*", default=[], help="also report the baseline at these strengths")
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--batch", type=int, default=512)
    ap.add_argument("--json", default=None, help="append one JSON line with the figures to this file")
    args = ap.parse_args()
    torch.set_num_threads(1)
    header, x, meta = read_features(args.features)
    d = Data(header, np.nan_to_num(x), meta)
    groups = part_candidates(False, levers=True)
    parts = []
    for name in args.cand:
        c = groups[{"agit": "agitation"}.get(name.split("/")[0], name.split("/")[0])][name]
        parts += [dict(p, epochs=args.epochs, batch=args.batch) for p in (c if isinstance(c, list) else [c])]
    if args.calls:
        parts = [dict(p, calls=args.calls) for p in parts]
    if args.no_rel:
        parts = [dict(p, exclude=CALLER_RELATIVE) for p in parts]
    cfg = {"clip": 5.0, "mask": feature_mask(d.feature_names, DEFAULT_EXCLUDE), "parts": parts}
    one = one_emotion_rows(d)
    mixed = (d.episode == 0) & (d.aug == 0)
    spec_base = dict(CALLER_BASELINE, strength=args.strength, angerFromAgitation=0.0)
    t0 = time.time()
    res = {}
    for h in [c for c in LABELLED if c in d.corpora]:
        test = d.corpus == d.corpus_id(h)
        models = [train_model(d, ~test, cfg, s) for s in range(args.seeds)]
        probs = ensemble_forward(models, d.x)
        spec = dict(spec_base, reference=caller_spec(d, probs, ~test)["reference"])
        r = {}
        for kind, rows in (("mixed", test & mixed), ("one", test & one)):
            rel = caller_relative(d, probs, spec, rows)
            for key in ("anger", "agitation"):
                if key not in probs:
                    continue
                r[f"{kind}/{key}"] = clip_uars(d, rows, probs[key].reshape(len(d.x), -1)[:, 0])
                if key == "anger":
                    r[f"{kind}/anger+baseline"] = clip_uars(d, rows, rel["anger"].reshape(len(d.x), -1)[:, 0])
            for lam in args.extra_strengths if "anger" in probs else []:
                rl = caller_relative(d, probs, dict(spec, strength=lam), rows)
                r[f"{kind}/anger+baseline{lam:g}"] = clip_uars(d, rows, rl["anger"].reshape(len(d.x), -1)[:, 0])
            if "emotion" in probs and "arousal" in probs:
                head = probs["arousal"] @ np.array(AROUSAL_VALUE)
                r[f"{kind}/emotion"] = emotion_uars(d, rows, probs["emotion"], head)
                r[f"{kind}/emotion+baseline"] = emotion_uars(d, rows, rel["emotion"], rel.get("arousal_value", head))
                for lam in args.extra_strengths:
                    rl = caller_relative(d, probs, dict(spec, strength=lam), rows)
                    r[f"{kind}/emotion+baseline{lam:g}"] = emotion_uars(d, rows, rl["emotion"], rl.get("arousal_value", head))
            if "anger" in probs and "agitation" in probs:
                # The two heads averaged in log-odds: the anger head after the baseline, the agitation head as it is.
                la = logit(rel["anger"].reshape(len(d.x), -1)[:, 0])
                lg = logit(probs["agitation"].reshape(len(d.x), -1)[:, 0])
                for w in (0.5,):
                    r[f"{kind}/mix{w:g}"] = clip_uars(d, rows, 1 / (1 + np.exp(-(w * la + (1 - w) * lg))))
                r[f"{kind}/mixraw"] = clip_uars(d, rows, 1 / (1 + np.exp(-(0.5 * logit(probs["anger"].reshape(len(d.x), -1)[:, 0]) + 0.5 * lg))))
        res[h] = r
        print(f"{h:<8} " + "  ".join(f"{k} " + "/".join(f"{x:.3f}" for x in v.values() if isinstance(x, float))
                                    for k, v in r.items()), flush=True)
    keys = list(next(iter(res.values())).keys())
    mean = {k: {m: float(np.mean([res[h][k][m] for h in res])) for m in res[next(iter(res))][k] if m != "clips"} for k in keys}
    for k, v in mean.items():
        print(f"mean  {k:<28} " + "  ".join(f"{m} {x:.3f}" for m, x in v.items()))
    print(f"({args.cand} calls={args.calls or 'as defined'} no_rel={args.no_rel} strength={args.strength}; "
          f"anger UAR / anger-vs-happiness UAR; {time.time() - t0:.0f} s)")
    if args.json:
        with open(args.json, "a") as f:
            f.write(json.dumps({"cand": args.cand, "extra_strengths": args.extra_strengths, "calls": args.calls, "no_rel": args.no_rel, "strength": args.strength,
                                "seeds": args.seeds, "by_corpus": res, "mean": mean}) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
