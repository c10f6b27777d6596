#!/usr/bin/python3
"""Builds audio-fixtures/eval-mini/: a small, fixed subset of the shared corpora
(2 speakers per corpus, one clip per class plus one `fear` clip) for the eval
test. Deterministic: re-running picks the same clips.

    /usr/bin/python3 models/training/make_eval_mini.py [--corpora ../shared/corpora]
"""
import argparse
import csv
import os
import shutil

PLAN = {
    # corpus: (speakers wanted, labels per speaker (label column, or arousal for baved))
    "nemo": (2, ["neutral", "anger", "happiness", "sadness"]),
    "turev": (2, ["neutral", "anger", "happiness", "sadness"]),
    "kor": (2, ["neutral", "anger", "happiness", "sadness"]),
    "baved": (2, ["low", "mid", "high"]),
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpora", default="../shared/corpora")
    ap.add_argument("--out", default="audio-fixtures/eval-mini")
    args = ap.parse_args()
    rows = list(csv.DictReader(open(os.path.join(args.corpora, "manifest.csv"), encoding="utf-8")))
    fields = list(rows[0].keys())
    picked = []
    for corpus, (n_spk, classes) in PLAN.items():
        cr = [r for r in rows if r["corpus"] == corpus]
        key = "arousal" if corpus == "baved" else "label"
        speakers = sorted({r["speaker"] for r in cr})
        # Speakers that have every class, first in sorted order.
        good = [s for s in speakers if all(any(r["speaker"] == s and r[key] == c for r in cr) for c in classes)]
        for spk in good[:n_spk]:
            for c in classes:
                cands = sorted(
                    (r for r in cr if r["speaker"] == spk and r[key] == c),
                    key=lambda r: (abs(float(r["duration_s"]) - 2.5), r["path"]),
                )
                picked.append(cands[0])
        if corpus == "nemo":
            fear = sorted((r for r in cr if r["speaker"] == good[0] and r["label"] == "fear"),
                          key=lambda r: (abs(float(r["duration_s"]) - 2.5), r["path"]))
            picked.append(fear[0])
    os.makedirs(args.out, exist_ok=True)
    out_rows = []
    for r in picked:
        dst = os.path.join("clips", r["path"])
        os.makedirs(os.path.join(args.out, os.path.dirname(dst)), exist_ok=True)
        shutil.copyfile(os.path.join(args.corpora, r["path"]), os.path.join(args.out, dst))
        out_rows.append(dict(r, path=dst))
    with open(os.path.join(args.out, "manifest.csv"), "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        w.writerows(out_rows)
    total = sum(float(r["duration_s"]) for r in out_rows)
    print(f"{len(out_rows)} clips, {total:.1f} s → {args.out}")


if __name__ == "__main__":
    main()
