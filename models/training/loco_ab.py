"""A probe, not training: leave-one-corpus-out A/B of anger and agitation
candidates (nets.part_candidates) without the emotion net, the
speaker-independent folds or the shipped model, so that a lever is measured
in minutes on a shared machine (issue 8, third round).

    /usr/bin/python3 models/training/loco_ab.py --features F \
        --anger anger/ens-log+sel0.3+mlp16 --agit agit/mean-abs+rel-hard3 \
        [--seeds 2] [--epochs 10] [--batch 512] [--json OUT] [--drop REGEX]

Prints clip-level UAR per held-out corpus exactly as train.py's LOCO does
(with the caller score baseline on anger_prob): anger, agitation, and both
against happiness clips only. The figures differ slightly from a full
train.py run (the nets' seeds depend on their position in the config), so
compare candidates with this script against each other, run the same way.
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from corpus_data import DEFAULT_EXCLUDE, Data, feature_mask  # noqa: E402
from features_bin import read_features  # noqa: E402
from nets import candidate_parts  # noqa: E402
from validation import loco  # noqa: E402

LABELLED = ["nemo", "turev", "kor", "ravdess"]
METRICS = ("anger", "agitation", "anger_vs_happiness", "agitation_vs_happiness")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--features", default="models/training/.work/features.bin")
    ap.add_argument("--anger", default=None, help="anger candidate name (nets.part_candidates)")
    ap.add_argument("--agit", default=None, help="agitation candidate name")
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--seed0", type=int, default=0, help="first seed (another set of seeds measures seed noise)")
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--batch", type=int, default=512)
    ap.add_argument("--json", default=None, help="append one JSON line with the figures to this file")
    ap.add_argument("--drop", default=None,
                    help="regex of feature names left out as well (a feature group's worth, before paying to compute it)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    header, x, meta = read_features(args.features)
    d = Data(header, np.nan_to_num(x), meta)
    parts = [p for name in (args.anger, args.agit) if name for p in candidate_parts(name)]
    exclude = DEFAULT_EXCLUDE if not args.drop else f"{DEFAULT_EXCLUDE}|{args.drop}"
    mask = feature_mask(d.feature_names, exclude)
    if args.drop:
        dropped = [n for n, m in zip(d.feature_names, feature_mask(d.feature_names, args.drop)) if m == 0]
        print(f"--drop {args.drop}: {len(dropped)} features left out: {' '.join(dropped)}", file=sys.stderr)
    cfg = {"clip": 5.0, "mask": mask,
           "parts": [dict(p, epochs=args.epochs, batch=args.batch) for p in parts]}
    t0 = time.time()
    res = loco(d, cfg, list(range(args.seed0, args.seed0 + args.seeds)), [c for c in LABELLED if c in d.corpora])
    out = {"anger": args.anger, "agit": args.agit, "drop": args.drop, "seeds": args.seeds, "seed0": args.seed0, "epochs": args.epochs, "batch": args.batch,
           "s": round(time.time() - t0), "by_corpus": {h: {m: res[h].get(m) for m in METRICS} for h in res}}
    out["mean"] = {m: float(np.mean([v[m] for v in out["by_corpus"].values() if v[m] is not None]))
                   for m in METRICS if any(v[m] is not None for v in out["by_corpus"].values())}
    print(f"{args.anger} + {args.agit}{f'  without /{args.drop}/' if args.drop else ''}  seeds {args.seed0}..{args.seed0 + args.seeds - 1}  ({out['s']} s)")
    print(f"{'held out':<10}" + "".join(f"{m:>24}" for m in METRICS))
    for h, v in list(out["by_corpus"].items()) + [("mean", out["mean"])]:
        print(f"{h:<10}" + "".join(f"{'-' if v.get(m) is None else format(v[m], '.3f'):>24}" for m in METRICS))
    if args.json:
        with open(args.json, "a") as f:
            f.write(json.dumps(out) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
