#!/usr/bin/python3
"""Trains Undertone's emotion model from features.bin and writes the ONNX file + model card.

    /usr/bin/python3 models/training/train.py \
        --features models/training/.work/features.bin \
        --out-model models/emotion.onnx --out-card models/emotion.json

Steps:
  1. validation: leave-one-corpus-out (LOCO) over the labelled corpora and a
     speaker-independent k-fold split of the whole pool, for every candidate
     configuration; clip-level unweighted average recall (UAR), where a clip's
     prediction is the mean of its windows' probabilities;
  2. picks the candidate with the best LOCO score (anger + emotion4 UAR);
  3. trains it on every corpus and exports the ONNX graph by hand (onnx.helper:
     Sub/Div/Clip normalisation, MatMul/Add/Relu, Softmax/Sigmoid heads);
  4. writes the model card (JSON) with features, normalisation, outputs,
     validation figures beside the peer baseline, corpora and licences.

Only needs numpy, torch, onnx (Debian: python3-numpy python3-torch python3-onnx).
"""
import argparse
import csv
import datetime as dt
import json
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nets  # noqa: E402
from corpus_data import AROUSAL, AROUSAL_VALUE, CALLER_RELATIVE, DEFAULT_EXCLUDE, EMO4, HARD_NEGATIVES, LICENCES, PEER, PEER_ORDER, Data, feature_mask, filter_corpora  # noqa: E402
from export_onnx import export_onnx  # noqa: E402
from features_bin import read_features  # noqa: E402
from nets import ensemble_forward, part_candidates, train_model  # noqa: E402
from progress import Progress  # noqa: E402
from validation import (  # noqa: E402
    CALLER_BASELINE,
    caller_spec,
    evaluate,
    group_score,
    loco,
    loco_table,
    nested_choice,
    si_table,
    speaker_independent,
    strip_confusions,
)


def agitation_prior(d, probs, rows):
    """The agitation tracker's population prior: the corpus-balanced mean anger
    log-odds of the agitation head over the neutral training windows of `rows`."""
    if "agitation" not in probs:
        return None
    p = np.clip(np.reshape(probs["agitation"], (len(d.x), -1))[:, 0].astype(np.float64), 1e-6, 1 - 1e-6)
    lg = np.log(p) - np.log1p(-p)
    sel = rows & (d.aug == 0) & (d.labels["emotion4"] == 0)
    vals = [lg[sel & (d.corpus == c)].mean() for c in np.unique(d.corpus[sel])]
    return {
        "calmLogit": float(np.mean(vals)),
        "note": "calmLogit = corpus-balanced mean anger log-odds of the agitation head over neutral training windows: "
                "the population prior of each caller's calm norm (src/model/agitation-tracker.ts; its other options "
                "are the service's defaults, chosen by scripts/calibrate-policy.ts)",
    }


def write_corpus_manifests(manifest, corpora, out_dir):
    """DIR/m-<corpus>.csv: the training manifest's rows of each held-out corpus, so
    `eval --manifest DIR/m-<corpus>.csv --root <manifest folder>` reproduces the LOCO figures."""
    if not manifest or not os.path.isfile(manifest):
        print(f"note: manifest {manifest!r} not found; per-corpus manifests not written", file=sys.stderr)
        return
    with open(manifest, newline="", encoding="utf-8-sig") as f:
        rows = list(csv.reader(f))
    if not rows or "corpus" not in rows[0]:
        return
    ci = rows[0].index("corpus")
    for c in corpora:
        path = os.path.join(out_dir, f"m-{c}.csv")
        with open(path, "w", newline="", encoding="utf-8") as f:
            csv.writer(f, lineterminator="\n").writerows([rows[0]] + [r for r in rows[1:] if len(r) > ci and r[ci] == c])
        print(f"wrote {path} (root: {os.path.dirname(manifest)})")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--features", default="models/training/.work/features.bin")
    ap.add_argument("--out-model", default="models/emotion.onnx")
    ap.add_argument("--out-card", default="models/emotion.json")
    ap.add_argument("--version", default=None, help="model version (default: date-based)")
    ap.add_argument("--config", default=None, help="skip selection: use this candidate name")
    ap.add_argument("--exclude", default=DEFAULT_EXCLUDE,
                    help="regex of feature names every head ignores (default: the absolute level features, a corpus "
                         "and line-gain fingerprint; their caller-relative versions stay). '' ignores none")
    ap.add_argument("--seeds", type=int, default=2, help="ensemble members (averaged in the graph)")
    ap.add_argument("--quick", action="store_true", help="fewer candidates, 1 seed (smoke test)")
    ap.add_argument("--no-validation", action="store_true")
    ap.add_argument("--no-si", action="store_true", help="skip the speaker-independent folds (LOCO only)")
    ap.add_argument("--epochs", type=int, default=None, help="override every net's epochs (default: each candidate's own)")
    ap.add_argument("--batch", type=int, default=None, help="override every net's batch size")
    ap.add_argument("--no-arousal-loco", action="store_true", help="skip the arousal-only corpora's (baved) LOCO fold")
    ap.add_argument("--levers", action="store_true",
                    help="also validate the issue-8 third-round lever candidates (pairwise loss, corpus adversary, "
                         "corpus-balanced batches; nets.lever_candidates)")
    ap.add_argument("--only-group", default=None,
                    help="validate only this head group's candidates (e.g. agitation) and stop: a lever measurement, no model written")
    ap.add_argument("--agitation-arousal-weight", type=float, default=0.0,
                    help="agitation = (1-w)*anger_head + w*arousal (default 0: the anger head)")
    ap.add_argument("--caller-prior-windows", type=float, default=CALLER_BASELINE["priorWindows"],
                    help="caller score baseline: windows it is shrunk over (default %(default)s)")
    ap.add_argument("--caller-strength", type=float, default=CALLER_BASELINE["strength"],
                    help="caller score baseline strength, 0 = off (default %(default)s)")
    ap.add_argument("--caller-arousal-from-emotion", type=float, default=CALLER_BASELINE["arousalFromEmotion"],
                    help="share of the arousal value taken from the caller-relative emotion mix (default %(default)s)")
    ap.add_argument("--caller-anger-from-agitation", type=float, default=CALLER_BASELINE["angerFromAgitation"],
                    help="share of the reported anger's log-odds taken from the agitation head, not re-centred (default %(default)s)")
    ap.add_argument("--corpora", default=None,
                    help="comma-separated corpora to train and validate on (default: every corpus in features.bin)")
    ap.add_argument("--command", default=None, help="the command line to record in the card")
    ap.add_argument("--report", default=None, help="also write the validation JSON here")
    ap.add_argument("--export-loco", default=None, metavar="DIR",
                    help="also export the chosen config's leave-one-corpus-out models to DIR/loco-<corpus>.onnx/.json "
                         "(for honest simulated-call and eval checks on a held-out corpus)")
    args = ap.parse_args()
    CALLER_BASELINE.update(priorWindows=args.caller_prior_windows, strength=args.caller_strength,
                           arousalFromEmotion=args.caller_arousal_from_emotion,
                           angerFromAgitation=args.caller_anger_from_agitation)
    # One thread: the nets are tiny and thread hand-offs cost more than they give (4x slower on 2 cores).
    torch.set_num_threads(1)
    t0 = time.time()

    header, x, meta = read_features(args.features)
    if args.corpora:
        header, x, meta = filter_corpora(header, x, meta, set(args.corpora.split(",")))
    d = Data(header, x, meta)
    if not np.isfinite(d.x).all():
        bad = np.where(~np.isfinite(d.x).all(0))[0]
        print(f"warning: non-finite values in features {[d.feature_names[i] for i in bad]}; set to 0", file=sys.stderr)
        d.x = np.nan_to_num(d.x, nan=0.0, posinf=0.0, neginf=0.0)
    n_clips = len(np.unique(d.clip))
    print(f"features: {len(d.x)} windows ({(d.aug > 0).sum()} augmented), {len(d.feature_names)} features, "
          f"{n_clips}/{len(d.clips)} clips with windows, corpora {d.corpora}")

    seeds = [0] if args.quick else list(range(args.seeds))
    # Lever candidates (issue 8, third round) only with --levers or when --config names one.
    named = set(args.config.split(",")) if args.config else set()
    groups = part_candidates(args.quick, levers=True)
    plain = part_candidates(args.quick)
    groups = {g: {n: c for n, c in cands.items() if args.levers or n in plain[g] or n in named} for g, cands in groups.items()}
    if args.epochs or args.batch:
        # A cheaper schedule (shared machines): the same nets, fewer passes / larger batches.
        over = {k: v for k, v in (("epochs", args.epochs), ("batch", args.batch)) if v}
        groups = {g: {n: ([dict(p, **over) for p in c] if isinstance(c, list) else dict(c, **over)) for n, c in cands.items()}
                  for g, cands in groups.items()}
    if args.only_group:
        groups = {args.only_group: groups[args.only_group]}
    if args.config and len(args.config.split(",")) < len(groups):
        # An older configuration without an agitation head: agitation = anger_prob (the graph's old formula).
        groups = {g: c for i, (g, c) in enumerate(groups.items()) if i < len(args.config.split(","))}
    base_mask = feature_mask(d.feature_names, args.exclude)
    labelled = [c for c in PEER_ORDER if c in d.corpora and (d.clip_labels["emotion4"][d.clip_corpus == d.corpus_id(c)] >= 0).any()]
    labelled += [c for c in d.corpora if c not in labelled and (d.clip_labels["emotion4"][d.clip_corpus == d.corpus_id(c)] >= 0).any()]

    # baved has arousal labels only: held out for arousal in the shipped configuration's LOCO.
    arousal_only = [] if args.no_arousal_loco else [c for c in d.corpora if c not in labelled and (d.clip_labels["arousal"][d.clip_corpus == d.corpus_id(c)] >= 0).any()]

    def config_of(parts):
        # A candidate is one part or a list of parts (an ensemble whose heads the graph averages).
        flat = [q for p in parts for q in (p if isinstance(p, list) else [p])]
        return {"clip": 5.0, "mask": base_mask, "parts": [dict(p) for p in flat]}

    validation = {"candidates": {}}
    validating = not args.no_validation and len(labelled) >= 2
    # --config: one name per head group, in order; "-" selects that group by validation.
    fixed = {g: n for g, n in zip(groups, args.config.split(","))} if args.config else {}
    fixed = {g: n for g, n in fixed.items() if n != "-"}
    n_cands = sum(1 if g in fixed else len(c) for g, c in groups.items())
    fits = len(seeds) * (
        (n_cands + 1) * len(labelled) + 5 if validating else 0  # candidates' LOCO, the shipped LOCO, 5 SI folds
    ) + len(seeds) * (1 + (len(labelled) if args.export_loco else 0))  # the shipped model, LOCO exports
    nets.PROGRESS = Progress(fits)
    chosen = {g: fixed.get(g, next(iter(c))) for g, c in groups.items()}
    validation["nested"] = {}
    loco_models = {}  # held-out corpus -> the shipped configuration's fold models (reused by --export-loco)
    if not args.no_validation and len(labelled) >= 2:
        for g, cands in groups.items():
            if g in fixed:
                continue  # given by --config: judged in the shipped configuration's LOCO below
            names = list(cands)
            best = None
            per_cand = {}
            for name in names:
                ts = time.time()
                res = loco(d, config_of([cands[name]]), seeds, labelled)
                per_cand[name] = res
                sc = group_score(g, res)
                validation["candidates"][name] = {"loco": strip_confusions(res), "score": sc}
                tasks = {"anger": ("anger",), "agitation": ("agitation",)}.get(g, ("emotion4", "arousal"))
                print(f"\n[{name}] LOCO (clip-level UAR; peer = eGeMAPS+SVM)  score {sc:.3f}  ({time.time() - ts:.0f} s)")
                print(loco_table(res, tasks))
                if best is None or sc > best[0]:
                    best = (sc, name)
            chosen[g] = best[1]
            if len(per_cand) > 1:
                # Nested: each held-out corpus judged with the candidate chosen on the others.
                nest = nested_choice(per_cand, lambda r, g=g: group_score(g, r))
                validation["nested"][g] = strip_confusions(nest)
                print(f"\n[{g}] nested selection (candidate chosen without the held-out corpus):")
                print(loco_table(nest, ("agitation",) if g == "agitation" else ("anger",) if g == "anger" else ("emotion4", "arousal")))
                print("  chosen per held-out corpus: " + ", ".join(f"{h}: {v['chosen']}" for h, v in nest.items()))
        print("\nchosen: " + " + ".join(chosen.values()))
        if args.only_group:
            if args.report:
                with open(args.report, "w") as f:
                    json.dump(strip_confusions(validation), f, indent=1, default=lambda o: o.tolist() if hasattr(o, "tolist") else str(o))
            return 0
    cfg = config_of([groups[g][chosen[g]] for g in groups])
    chosen_name = " + ".join(chosen[g] for g in groups)
    if not args.no_validation and len(labelled) >= 2:
        res = loco(d, cfg, seeds, labelled + arousal_only, keep_models=loco_models)
        validation["loco"] = res
        print(f"\n[{chosen_name}] LOCO, the shipped configuration (clip-level UAR; peer = eGeMAPS+SVM, best variant per corpus):")
        print(loco_table(res))
        if not args.no_si:
            si = speaker_independent(d, cfg, seeds)
            validation["speaker_independent"] = si
            print("\nspeaker-independent 5-fold (speakers of every corpus split across folds):")
            print(si_table(si))

    print(f"\ntraining the shipped model ({chosen_name}, {len(seeds)} seed(s)) on every corpus...")
    all_rows = np.ones(len(d.x), bool)
    models = [train_model(d, all_rows, cfg, 100 + s) for s in seeds]
    shipped_probs = ensemble_forward(models, d.x)
    fit = evaluate(d, all_rows, shipped_probs)
    caller_baseline = dict(
        caller_spec(d, shipped_probs, all_rows),
        formula="per call, in window order: shift_n = strength * n / (n + priorWindows) * (mean of the first n windows' "
                "log emotion probabilities / anger logit - reference); relative = raw - shift_n, then softmax / sigmoid",
        arousalFormula="arousal = (1 - arousalFromEmotion) * arousal + arousalFromEmotion * (0.5 p_neutral + p_anger + p_happiness), "
                       "with the caller-relative emotion probabilities",
        angerFormula="anger logit = (1 - angerFromAgitation) * relative anger logit + angerFromAgitation * logit(agitation head), "
                     "the agitation head as it comes (a caller holding one emotion all call is not their own norm)",
        appliesTo=["emotion_probs", "anger_prob (as angerVsRest)", "arousal"],
        note="applied per call by the service (src/model/caller-score-baseline.ts); agitation, the policy's input, stays absolute",
    )
    print("training-set fit (not a validation figure):")
    print(si_table(fit))

    w_ar = args.agitation_arousal_weight
    version = args.version or dt.datetime.utcnow().strftime("%Y.%m.%d-%H%M")
    export_onnx(models, args.out_model, agitation_weights=(1.0 - w_ar, w_ar), doc=f"undertone emotion {version}")
    size = os.path.getsize(args.out_model)

    clips_by_corpus = {}
    for c in d.clips:
        clips_by_corpus.setdefault(c["corpus"], {"clips": 0, "speakers": set(), "languages": set(), "seconds": 0.0})
        e = clips_by_corpus[c["corpus"]]
        e["clips"] += 1
        e["speakers"].add(c["speaker"])
        if c.get("language"):
            e["languages"].add(c["language"])
        e["seconds"] += float(c.get("durationS") or 0)
    corpora_card = [
        {
            "name": k,
            "languages": sorted(v["languages"]),
            "clips": v["clips"],
            "speakers": len(v["speakers"]),
            "hours": round(v["seconds"] / 3600, 3),
            "licence": LICENCES.get(k, "unknown: check the operator's licence for these recordings"),
        }
        for k, v in sorted(clips_by_corpus.items())
    ]
    opts = header.get("options", {})
    # Features each head actually uses (the shipped model's masks, member 0).
    # (an ensemble's parts may use different features: a head uses the union).
    head_features = {}
    for part in models[0]["parts"]:
        for t in part["tasks"]:
            prev = set(head_features.get(t, []))
            head_features[t] = [n for n, m in zip(d.feature_names, part["mask"]) if m > 0 or n in prev]
    used = sorted({n for v in head_features.values() for n in v}, key=d.feature_names.index)
    card = {
        "name": "undertone-emotion",
        "version": version,
        "createdAt": dt.datetime.utcnow().replace(microsecond=0).isoformat() + "Z",
        "command": args.command or " ".join(["/usr/bin/python3"] + sys.argv),
        "licenceNotice": (
            "Trained on research corpora licensed for research and non-commercial use only "
            "(CC BY-NC-SA 4.0, CC BY-NC-ND 4.0, research-only terms). This model is for research and "
            "non-commercial use only; retrain on your own licensed recordings (npm run train with your "
            "manifest) before any commercial use."
        ),
        "featureNames": d.feature_names,
        "featureCount": len(d.feature_names),
        # FEATURE_CONFIG.version of the extractor that produced the training windows:
        # the loader refuses the model when the extractor's version differs.
        "featureConfigVersion": (opts.get("featureConfig") or {}).get("version"),
        "featuresIgnored": [n for n in d.feature_names if n not in used],
        "window": {
            "sampleRate": int(opts.get("sampleRate", 8000)),
            "windowS": opts.get("windowS"),
            "hopS": opts.get("hopS"),
            "note": "windows come from createCallerFeatureStream (speech-only, caller-relative features need the per-call baseline)",
        },
        "input": {"name": "features", "dtype": "float32", "shape": ["N", len(d.feature_names)]},
        "normalisation": {
            "type": "standardise-then-clip",
            "inGraph": True,
            "formula": "z = clip((x - mean) / std, -c, c); features a head ignores have zero weights in its first layer",
            "clip": float(cfg["clip"]),
            "mean": [float(v) for v in models[0]["mean"]],
            "std": [float(v) for v in models[0]["std"]],
        },
        "labels": {"emotion": EMO4, "arousal": AROUSAL, "arousalValue": AROUSAL_VALUE},
        "outputs": {
            "emotion_probs": {"shape": ["N", 4], "meaning": "softmax over labels.emotion (neutral, anger, happiness, sadness)"},
            "anger_prob": {"shape": ["N", 1], "meaning": "binary anger head: P(anger vs any other emotion), trained on every labelled clip incl. fear/surprise"},
            "arousal_probs": {"shape": ["N", 3], "meaning": "softmax over labels.arousal (low, mid, high)"},
            "arousal": {"shape": ["N", 1], "meaning": "expected arousal 0..1 = 0*p_low + 0.5*p_mid + 1*p_high"},
            "agitation": {"shape": ["N", 1], "meaning": "the agitation head (see agitation); the service's AgitationTracker turns it into the policy's input"},
        },
        "callerScoreBaseline": caller_baseline,
        "agitation": ({
            "formula": "agitation = mean of the agitation nets' sigmoid outputs (anger vs every other labelled clip, "
                       "hard negatives " + "/".join(HARD_NEGATIVES) + " weighted up where a net says so); nets: "
                       + "; ".join(("absolute (no rel_* inputs)" if p.get("exclude") == CALLER_RELATIVE else "caller-relative (rel_* inputs)")
                                   + f", hard x{p.get('hard', 1.0):g}" for p in cfg["parts"] if "agitation" in p["tasks"]),
            "angerWeight": 1.0,
            "arousalWeight": 0.0,
            "note": "per window; per call the service's AgitationTracker (src/model/agitation-tracker.ts) "
                    "turns it into the policy's input (see agitationTracker)",
        } if "agitation" in groups else {
            "formula": f"agitation = {1.0 - w_ar:g} * anger_prob + {w_ar:g} * arousal",
            "angerWeight": 1.0 - w_ar,
            "arousalWeight": w_ar,
            "note": "computed inside the graph; per window, unsmoothed (the policy smooths)",
        }),
        **({"agitationTracker": agitation_prior(d, shipped_probs, all_rows)} if "agitation" in groups else {}),
        "architecture": {
            "config": chosen_name,
            "parts": [
                {k: v for k, v in p.items() if k in ("tasks", "hidden", "dropout", "wd", "epochs", "noise", "fdrop", "select", "lr", "batch", "exclude", "hard",
                                                      "pair", "pair_neg", "adv", "balance")}
                for p in cfg["parts"]
            ],
            "ensemble": len(seeds),
            "featuresUsedByTask": {t: len(v) for t, v in head_features.items()},
            "angerFeatures": head_features.get("anger"),
            "agitationFeatures": head_features.get("agitation"),
            "weighting": "each clip weighs the same; each (corpus, class) cell weighs the same per head",
            "selection": "per head group, the candidate with the best leave-one-corpus-out UAR (see validation.candidates)",
            "opset": 13,
            "bytes": size,
        },
        "training": {
            "corpora": corpora_card,
            "windows": int(len(d.x)),
            "augmentedWindows": int((d.aug > 0).sum()),
            "extraction": opts,
        },
        "validation": {
            "metric": "clip-level unweighted average recall (UAR); a clip's prediction = mean of its windows' caller-relative probabilities (callerScoreBaseline; 'absolute' = without it); anger decided at anger_prob >= 0.5; emotion4 by argmax; arousal by the expected value 0..1 in thirds",
            "peer": {"system": "openSMILE eGeMAPS + SVM, LOCO, best variant per corpus", **PEER},
            "loco": strip_confusions(validation.get("loco")) if validation.get("loco") else None,
            "nested": validation.get("nested") or None,
            "speakerIndependent": strip_confusions(validation.get("speaker_independent")) if validation.get("speaker_independent") else None,
            "candidates": {k: v["score"] for k, v in validation["candidates"].items()},
        },
    }
    os.makedirs(os.path.dirname(os.path.abspath(args.out_card)), exist_ok=True)
    with open(args.out_card, "w") as f:
        json.dump(card, f, indent=2)
        f.write("\n")
    if args.export_loco:
        os.makedirs(args.export_loco, exist_ok=True)
        for h in labelled:
            rows = d.corpus != d.corpus_id(h)
            fold = loco_models.get(h) or [train_model(d, rows, cfg, s) for s in seeds]
            base = os.path.join(args.export_loco, f"loco-{h}")
            export_onnx(fold, base + ".onnx", agitation_weights=(1.0 - w_ar, w_ar), doc=f"LOCO without {h}")
            fold_probs = ensemble_forward(fold, d.x)
            extra = {"agitationTracker": agitation_prior(d, fold_probs, rows)} if "agitation" in groups else {}
            fc = dict(card, **extra, version=f"{version}-loco-{h}",
                      callerScoreBaseline=dict(caller_baseline, **caller_spec(d, fold_probs, rows)),
                      normalisation=dict(card["normalisation"], mean=[float(v) for v in fold[0]["mean"]],
                                         std=[float(v) for v in fold[0]["std"]]),
                      note=f"validation model: trained without {h}; not for serving")
            with open(base + ".json", "w") as f:
                json.dump(fc, f, indent=2)
            print(f"wrote {base}.onnx/.json (trained without {h})")
        write_corpus_manifests(opts.get("manifest"), labelled, args.export_loco)
    if args.report:
        with open(args.report, "w") as f:
            json.dump(validation, f, indent=1, default=lambda o: o.tolist() if hasattr(o, "tolist") else str(o))
    print(f"\nwrote {args.out_model} ({size / 1024:.1f} KiB) and {args.out_card} in {time.time() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
