#!/usr/bin/python3
"""How much of the peer's lead on some corpora comes from its protocol rather
than its features? A probe, not part of training: prints leave-one-corpus-out
clip UAR (anger, emotion4) for simple heads on OUR features under five
protocols.

    /usr/bin/python3 models/training/probe_speaker_norm.py \
        [--features models/training/.work/features.bin]

The peer (openSMILE eGeMAPS functionals + RBF SVM or logistic regression) is
scored per clip, and its best variant z-normalises each speaker's features
over ALL of that speaker's clips: every clip, before and after the one being
judged, in corpora whose speakers read each emotion equally often. A live call
cannot do that: it only has the caller's earlier speech. So the probe runs

  1. windows, logistic, corpus-balanced standardisation (no caller norm);
  2. windows, logistic, causal per-call z-norm (earlier windows only, shrunk
     towards the training statistics: what a live call could do);
  3. windows, logistic, per-speaker z-norm over all the speaker's windows;
  4. clips (mean of their windows), RBF SVM, no speaker norm: the peer's
     plain protocol on our features;
  5. clips, RBF SVM, per-speaker z-norm over all the speaker's clips: the
     peer's z-norm protocol on our features;
  6. as 5, but causal: each clip normalised by the speaker's EARLIER clips
     only, in the order `eval` streams them.

Needs numpy and scikit-learn (Debian: python3-sklearn).
"""
import argparse
import os
import sys

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.svm import SVC

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from corpus_data import DEFAULT_EXCLUDE, PEER, PEER_ORDER, Data, feature_mask  # noqa: E402
from features_bin import read_features  # noqa: E402
from nets import balanced_weights, standardiser  # noqa: E402
from progress import Progress  # noqa: E402
from validation import clip_scores, uar  # noqa: E402

TASKS = {"anger": 2, "emotion4": 4}
EPS = 1e-6


def group_z(x, groups):
    """z-score within each group, over all of the group's rows (offline)."""
    out = np.empty_like(x)
    for g in np.unique(groups):
        m = groups == g
        out[m] = (x[m] - x[m].mean(0)) / (x[m].std(0) + EPS)
    return out


def causal_z(x, groups, order, prior):
    """z-score of each row against the group's EARLIER rows (in `order`), the
    running mean/variance shrunk towards the global ones by `prior` rows."""
    gmu, gvar = x.mean(0), x.var(0) + EPS
    out = np.empty_like(x)
    for g in np.unique(groups):
        idx = np.where(groups == g)[0]
        idx = idx[np.argsort(order[idx], kind="stable")]
        xs = x[idx]
        # Statistics of rows 0..i-1 for row i: shift the cumulative sums by one.
        s1 = np.vstack([np.zeros((1, x.shape[1])), np.cumsum(xs, 0)[:-1]])
        s2 = np.vstack([np.zeros((1, x.shape[1])), np.cumsum(xs * xs, 0)[:-1]])
        n = np.arange(len(idx))[:, None]
        mu = (s1 + prior * gmu) / (n + prior)
        var = (s2 + prior * (gvar + gmu**2)) / (n + prior) - mu**2
        out[idx] = (xs - mu) / np.sqrt(np.maximum(var, EPS))
    return out


def window_protocol(d, x, task, held, tick):
    """Logistic head on windows; clip prediction = mean window probability."""
    lab = d.labels[task]
    hc = d.corpus_id(held)
    tr = (d.corpus != hc) & (lab >= 0) & (d.aug == 0)
    te = (d.corpus == hc) & (lab >= 0) & (d.aug == 0)
    mu, sd = standardiser(x, tr, d.corpus)
    z = np.clip((x - mu) / sd, -6, 6)
    w = balanced_weights(tr, lab, d.corpus, d.clip)
    clf = LogisticRegression(C=0.05, max_iter=3000).fit(z[tr], lab[tr], sample_weight=w[tr])
    tick()
    pr = np.zeros((len(z), TASKS[task]))
    pr[te] = clf.predict_proba(z[te])
    uq, sc = clip_scores(d, te, {"p": pr})
    pred = (sc["p"][:, 1] >= 0.5).astype(np.int64) if task == "anger" else sc["p"].argmax(1)
    return uar(d.clip_labels[task][uq], pred, TASKS[task])


def clip_protocol(d, uq, s, task, held, tick):
    """Class-balanced RBF SVM on clip vectors, standardised on the training corpora."""
    y = d.clip_labels[task][uq]
    corp = d.clip_corpus[uq]
    hc = d.corpus_id(held)
    tr = (corp != hc) & (y >= 0)
    te = (corp == hc) & (y >= 0)
    z = np.clip((s - s[tr].mean(0)) / (s[tr].std(0) + EPS), -6, 6)
    clf = SVC(C=1.0, kernel="rbf", class_weight="balanced").fit(z[tr], y[tr])
    tick()
    return uar(y[te], clf.predict(z[te]), TASKS[task])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--features", default="models/training/.work/features.bin")
    ap.add_argument("--prior", type=float, default=20, help="causal z-norm prior, in windows (the clip protocol uses a quarter: ~4 windows a clip)")
    args = ap.parse_args()

    d = Data(*read_features(args.features))
    x = d.x[:, feature_mask(d.feature_names, DEFAULT_EXCLUDE) > 0].astype(np.float64)
    held_out = [c for c in PEER_ORDER if c in d.corpora]
    # One row per clip: the mean of its windows, and its mean call time. A
    # speaker's clips are one call in eval and train-features, so call time
    # orders the speaker's clips.
    uq, per_clip = clip_scores(d, np.ones(len(x), bool), {"x": x, "t": d.call_time})
    s, t = per_clip["x"], per_clip["t"][:, 0]
    spk = d.clip_speaker[uq]
    protocols = [
        ("1 windows, no caller norm", "w", x),
        ("2 windows, causal call z-norm", "w", causal_z(x, d.call_key, d.call_time, args.prior)),
        ("3 windows, speaker z-norm (all)", "w", group_z(x, d.speaker)),
        ("4 clips SVM, no speaker norm", "c", s),
        ("5 clips SVM, speaker z-norm (all)", "c", group_z(s, spk)),
        ("6 clips SVM, causal speaker z-norm", "c", causal_z(s, spk, t, args.prior / 4)),
    ]
    prog = Progress(len(protocols) * len(TASKS) * len(held_out), label="probe")
    rows = []
    for name, kind, xv in protocols:
        r = {}
        for task in TASKS:
            if kind == "w":
                r[task] = [window_protocol(d, xv, task, h, prog.tick) for h in held_out]
            else:
                r[task] = [clip_protocol(d, uq, xv, task, h, prog.tick) for h in held_out]
        rows.append((name, r))

    head = " ".join(f"{h:>6s}" for h in held_out)
    print(f"\nleave-one-corpus-out clip UAR        anger: {head}   mean | emotion4: {head}   mean")
    peer = {t: [PEER[t].get(h, float("nan")) for h in held_out] for t in TASKS}
    for name, r in rows + [("peer (eGeMAPS, best variant/corpus)", peer)]:
        cells = " | ".join(
            " ".join(f"{v:6.3f}" for v in r[t]) + f" {np.mean(r[t]):6.3f}" for t in TASKS
        )
        print(f"{name:36s}        {cells}")


if __name__ == "__main__":
    main()
