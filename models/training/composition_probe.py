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

For each, clip-level UAR as train.py's LOCO computes it (validation.evaluate:
anger, anger vs happiness, agitation, emotion4, arousal, whichever the
candidates' heads give) under several readings of the scores:
`raw` (no caller score baseline), `baseline` (re-centred at `--strength`,
no anger blend), `baseline<S>` (at each `--extra-strengths`), and with an
agitation candidate `blend` (re-centred anger blended half with agitation:
the shipped `angerFromAgitation`) and `blend-raw` (the blend without
re-centring).
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from corpus_data import CALLER_RELATIVE, DEFAULT_EXCLUDE, Data, feature_mask  # noqa: E402
from features_bin import read_features  # noqa: E402
from nets import candidate_parts, ensemble_forward, train_model  # noqa: E402
from validation import CALLER_BASELINE, caller_relative, caller_spec, evaluate, one_emotion_rows  # noqa: E402

LABELLED = ["nemo", "turev", "kor", "ravdess"]


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
    parts = [dict(p, epochs=args.epochs, batch=args.batch) for name in args.cand for p in candidate_parts(name)]
    if args.calls:
        parts = [dict(p, calls=args.calls) for p in parts]
    if args.no_rel:
        parts = [dict(p, exclude=CALLER_RELATIVE) for p in parts]
    cfg = {"clip": 5.0, "mask": feature_mask(d.feature_names, DEFAULT_EXCLUDE), "parts": parts}
    one = one_emotion_rows(d)
    base = dict(CALLER_BASELINE, strength=args.strength, angerFromAgitation=0.0)
    metrics = ("anger", "anger_vs_happiness", "agitation", "emotion4", "arousal")
    t0 = time.time()
    res = {}
    for h in [c for c in LABELLED if c in d.corpora]:
        test = d.corpus == d.corpus_id(h)
        models = [train_model(d, ~test, cfg, s) for s in range(args.seeds)]
        probs = ensemble_forward(models, d.x)
        spec = dict(base, reference=caller_spec(d, probs, ~test)["reference"])
        readings = {"raw": probs, "baseline": caller_relative(d, probs, spec, test)}
        for lam in args.extra_strengths:
            readings[f"baseline{lam:g}"] = caller_relative(d, probs, dict(spec, strength=lam), test)
        if "anger" in probs and "agitation" in probs:
            readings["blend"] = caller_relative(d, probs, dict(spec, angerFromAgitation=0.5), test)
            readings["blend-raw"] = caller_relative(d, probs, dict(spec, strength=0.0, angerFromAgitation=0.5), test)
        r = {}
        for kind, calls in (("mixed", None), ("one", one)):
            for name, scored in readings.items():
                v = evaluate(d, test, scored, calls)["by_corpus"][h]
                r[f"{kind}/{name}"] = {m: v[m] for m in metrics if v.get(m) is not None}
        res[h] = r
        print(f"{h:<8} " + "  ".join(f"{k} " + "/".join(f"{x:.3f}" for x in v.values()) for k, v in r.items()), flush=True)
    keys = list(next(iter(res.values())).keys())
    mean = {k: {m: float(np.mean([res[h][k][m] for h in res])) for m in res[next(iter(res))][k]} for k in keys}
    for k, v in mean.items():
        print(f"mean  {k:<20} " + "  ".join(f"{m} {x:.3f}" for m, x in v.items()))
    print(f"({' + '.join(args.cand)} calls={args.calls or 'as defined'} no_rel={args.no_rel} strength={args.strength}; "
          f"{time.time() - t0:.0f} s)")
    if args.json:
        with open(args.json, "a") as f:
            f.write(json.dumps({"cand": args.cand, "extra_strengths": args.extra_strengths, "calls": args.calls, "no_rel": args.no_rel, "strength": args.strength,
                                "seeds": args.seeds, "by_corpus": res, "mean": mean}) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
