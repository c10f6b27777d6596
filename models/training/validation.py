"""Validation: clip-level UAR per task, leave-one-corpus-out and
speaker-independent folds (with the caller score baseline, as the service
scores), and the tables train.py prints."""
import numpy as np

import caller_scores
from corpus_data import AROUSAL_VALUE, PEER, TASKS
from nets import ensemble_forward, train_model

# --------------------------------------------------------------------- evaluation


def uar(y, p, k):
    recalls = []
    for c in range(k):
        m = y == c
        if m.any():
            recalls.append(float((p[m] == c).mean()))
    return float(np.mean(recalls)) if recalls else None


def confusion(y, p, k):
    cm = np.zeros((k, k), np.int64)
    for a, b in zip(y, p):
        cm[a, b] += 1
    return cm


def one_emotion_rows(d):
    """Bool per row: un-augmented windows of the episode calls whose clips all
    carry one label (src/eval/episode-calls.ts: a speaker's clips of one
    emotion from the first second), what `npm run eval -- --per-label`
    assembles. All False when features.bin has no episode calls."""
    rows = (d.episode == 1) & (d.aug == 0)
    out = np.zeros(len(d.episode), bool)
    idx = np.where(rows)[0]
    if len(idx) == 0:
        return out
    call = d.call_key[idx] // 1000
    names = d.clip_label_name[d.clip[idx]]
    order = np.argsort(call, kind="stable")
    keys = call[order]
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    for s, e in zip(starts, np.r_[starts[1:], len(order)]):
        r = order[s:e]
        if len(set(names[r])) == 1:
            out[idx[r]] = True
    return out


def clip_scores(d, rows, probs, calls=None):
    """Mean window probabilities per clip, over rows (un-augmented windows of
    the calls `npm run eval` would assemble: d.eval_rows; or of `calls`, a
    row mask, e.g. one_emotion_rows)."""
    rows = rows & (d.aug == 0) & (d.eval_rows if calls is None else calls)
    idx = np.where(rows)[0]
    clips = d.clip[idx]
    uniq, inv = np.unique(clips, return_inverse=True)
    out = {}
    for k, v in probs.items():
        v = v[idx]
        if v.ndim == 1:
            v = v[:, None]
        s = np.zeros((len(uniq), v.shape[1]))
        np.add.at(s, inv, v)
        s /= np.bincount(inv)[:, None]
        out[k] = s
    return uniq, out


def evaluate(d, rows, probs, calls=None):
    """Clip-level UAR per task over `rows` (of the calls in `calls`, see clip_scores), overall and per corpus."""
    uniq, sc = clip_scores(d, rows, probs, calls)
    corp = d.clip_corpus[uniq]
    res = {"overall": {}, "by_corpus": {}}

    def task_preds(task, sel):
        y = d.clip_labels[task][uniq][sel]
        m = y >= 0
        if task in ("anger", "agitation"):
            p = (sc[task][sel][:, 0] >= 0.5).astype(np.int64)
            return y[m], p[m], 2
        if task == "emotion4":
            p = sc["emotion"][sel].argmax(1)
            return y[m], p[m], 4
        # Same rule as eval (src/eval/metrics.ts): the expected value 0..1 in thirds
        # (the caller score baseline's arousal value where it is on).
        ev = sc["arousal_value"][sel][:, 0] if "arousal_value" in sc else sc["arousal"][sel] @ np.array(AROUSAL_VALUE)
        p = np.where(ev < 1 / 3, 0, np.where(ev < 2 / 3, 1, 2))
        return y[m], p[m], 3

    present = {"anger": "anger" in sc, "emotion4": "emotion" in sc, "arousal": "arousal" in sc,
               "agitation": "agitation" in sc}
    names = d.clip_label_name[uniq]

    def block(sel):
        r = {"clips": int(sel.sum())}
        # Pairwise anger vs happiness (the confusion issue 8 is about), per score.
        pair = sel & np.isin(names, ("anger", "happiness"))
        for t in ("anger", "agitation"):
            if present[t] and (names[pair] == "anger").any() and (names[pair] == "happiness").any():
                y = (names[pair] == "anger").astype(np.int64)
                r[t + "_vs_happiness"] = uar(y, (sc[t][pair][:, 0] >= 0.5).astype(np.int64), 2)
        for t in TASKS + ["agitation"]:
            if not present[t]:
                r[t] = None
                continue
            y, p, k = task_preds(t, sel)
            r[t] = uar(y, p, k) if len(y) else None
            r[t + "_n"] = int(len(y))
            if len(y):
                r[t + "_confusion"] = confusion(y, p, k).tolist()
        return r

    res["overall"] = block(np.ones(len(uniq), bool))
    for ci, c in enumerate(d.corpora):
        sel = corp == ci
        if sel.any():
            res["by_corpus"][c] = block(sel)
    return res


# The caller score baseline (caller_scores.py): window count it is shrunk
# over, its strength (0 = off) and the arousal value's share from the
# caller-relative emotion mix. 20 windows = 10 s of scored speech. Chosen on
# leave-one-corpus-out probes: emotion4 0.443 -> 0.511, anger 0.660 -> 0.694
# (logistic heads); re-centring the arousal head itself gained nothing, but
# mixing in the arousal the relative emotions imply did (shipped nets: LOCO
# arousal 0.548 -> 0.593, and 0.562 -> 0.590 on baved held out).
#
# angerFromAgitation (issue 8, fifth round): the reported anger's log-odds are
# half the re-centred anger head's, half the agitation head's as it comes.
# Re-centring sends a caller who holds one emotion for the whole call to
# chance (composition_probe.py; `npm run eval -- --per-label`): LOCO anger
# on one-emotion calls 0.573 -> 0.679, on mixed calls 0.704 -> 0.707.
# Chosen from 0 / 0.3 / 0.4 / 0.5 / 0.6 / 0.7 / 1 on the mean of both kinds
# of call (0.5 to 0.7 tie; nested choice: 0.688 mixed, 0.671 one-emotion).
CALLER_BASELINE = {"priorWindows": 20, "strength": 1.0, "arousalFromEmotion": 0.5, "angerFromAgitation": 0.5}


def caller_spec(d, probs, rows):
    """The baseline's settings plus its reference, measured on the training rows
    of `probs` (the model's outputs for every row of d)."""
    return dict(CALLER_BASELINE, reference=caller_scores.reference(probs, rows & (d.aug == 0), d.corpus))


def caller_relative(d, probs, spec, rows):
    """Caller-relative scores for `rows` (each call in audio order); other rows keep theirs."""
    if spec is None or (spec["strength"] <= 0 and not spec.get("angerFromAgitation", 0) > 0):
        return probs
    idx = np.where(rows)[0]
    sub = caller_scores.centre({k: v[idx] for k, v in probs.items()}, d.call_key[idx], d.call_time[idx], spec)
    out = {k: v.copy() for k, v in probs.items()}
    for k in ("emotion", "anger"):
        if k in sub and k in probs:
            out[k][idx] = sub[k]
    if "arousal_value" in sub:
        # Rows outside `rows` keep the head's own expected value.
        out["arousal_value"] = (probs["arousal"] @ np.array(AROUSAL_VALUE)).astype(np.float32)
        out["arousal_value"][idx] = sub["arousal_value"]
    return out


def fold_train_eval(d, cfg, train_rows, test_rows, seeds, keep=None):
    """Caller-relative and absolute figures of a model trained on train_rows
    (the fold's models appended to `keep` when given)."""
    models = [train_model(d, train_rows, cfg, s) for s in seeds]
    if keep is not None:
        keep.extend(models)
    probs = ensemble_forward(models, d.x)
    rel = caller_relative(d, probs, caller_spec(d, probs, train_rows), test_rows)
    one = one_emotion_rows(d)
    return evaluate(d, test_rows, rel), evaluate(d, test_rows, probs), (evaluate(d, test_rows, rel, one) if one.any() else None)


ONE_EMOTION_KEYS = ("anger", "emotion4", "arousal", "agitation", "anger_vs_happiness", "agitation_vs_happiness")


def loco(d, cfg, seeds, held_corpora, keep_models=None):
    """LOCO figures per held-out corpus, on the speaker calls `npm run eval`
    assembles; `absolute` without the caller score baseline; `one_emotion`
    on the corpus's one-emotion calls (`npm run eval -- --per-label`)."""
    out = {}
    for h in held_corpora:
        hc = d.corpus_id(h)
        test = d.corpus == hc
        train = ~test
        kept = [] if keep_models is not None else None
        rel, absolute, one = fold_train_eval(d, cfg, train, test, seeds, kept)
        if keep_models is not None:
            keep_models[h] = kept
        out[h] = dict(rel["by_corpus"][h], absolute={t: absolute["by_corpus"][h].get(t) for t in TASKS + ["agitation"]})
        if one is not None and h in one["by_corpus"]:
            out[h]["one_emotion"] = {t: one["by_corpus"][h].get(t) for t in ONE_EMOTION_KEYS}
    return out


def nested_choice(results, score_of):
    """Nested selection over LOCO results {candidate: {held: figures}}: for each
    held-out corpus, the candidate with the best score on the OTHER held-out
    corpora, and its figures on this one (no choice sees its judge)."""
    names = list(results)
    held = list(results[names[0]])
    out = {}
    for h in held:
        best = max(names, key=lambda n: score_of({k: v for k, v in results[n].items() if k != h}))
        out[h] = dict(results[best][h], chosen=best)
    return out


def speaker_folds(d, k, seed):
    """Speakers of each corpus dealt round-robin (shuffled) into k folds."""
    rng = np.random.RandomState(seed)
    fold_of = np.zeros(len(d.speakers), np.int64)
    for ci in range(len(d.corpora)):
        spk = np.unique(d.clip_speaker[d.clip_corpus == ci])
        rng.shuffle(spk)
        start = rng.randint(k)
        for j, s in enumerate(spk):
            fold_of[s] = (start + j) % k
    return fold_of


def speaker_independent(d, cfg, seeds, k=5, seed=7):
    fold_of = speaker_folds(d, k, seed)
    all_probs = {}
    for f in range(k):
        test = fold_of[d.speaker] == f
        models = [train_model(d, ~test, cfg, s) for s in seeds]
        probs = ensemble_forward(models, d.x)
        probs = caller_relative(d, probs, caller_spec(d, probs, ~test), test)
        probs = {k: v[test] for k, v in probs.items()}
        for key, v in probs.items():
            if key not in all_probs:
                all_probs[key] = np.zeros((len(d.x),) + v.shape[1:], np.float32)
            all_probs[key][test] = v
    return evaluate(d, np.ones(len(d.x), bool), all_probs)


# ------------------------------------------------------------------------ reports


def fmt(v):
    return "  -  " if v is None else f"{v:.3f}"


def loco_table(res, tasks=("anger", "emotion4", "arousal")):
    tasks = tuple(tasks) + tuple(t for t in ("agitation", "agitation_vs_happiness", "anger_vs_happiness")
                                 if t not in tasks and any(res[h].get(t) is not None for h in res))
    lines = []
    held = list(res.keys())
    lines.append(f"{'held-out':<10}" + "".join(f"{t:>21}"[-21:] for t in tasks))
    lines.append(f"{'':<10}" + "".join(f"{'ours':>10}{'peer':>10}" for t in tasks))
    for h in held:
        row = f"{h:<10}"
        for t in tasks:
            peer = PEER.get(t, {}).get(h)
            row += f"{fmt(res[h].get(t)):>10}{fmt(peer):>10}"
        lines.append(row)
    row = f"{'mean':<10}"
    for t in tasks:
        vals = [res[h].get(t) for h in held if res[h].get(t) is not None]
        pv = [PEER.get(t, {}).get(h) for h in held if PEER.get(t, {}).get(h) is not None]
        row += f"{fmt(float(np.mean(vals)) if vals else None):>10}{fmt(float(np.mean(pv)) if len(pv) == len(held) else None):>10}"
    lines.append(row)
    if any("one_emotion" in res[h] for h in held):
        row = f"{'(one emo.)':<10}"
        for t in tasks:
            vals = [res[h]["one_emotion"].get(t) for h in held if res[h].get("one_emotion", {}).get(t) is not None]
            row += f"{fmt(float(np.mean(vals)) if vals else None):>10}{'':>10}"
        lines.append(row + "   <- mean on one-emotion calls (npm run eval -- --per-label)")
    if all("absolute" in res[h] for h in held):
        row = f"{'(absolute)':<10}"
        for t in tasks:
            vals = [res[h]["absolute"].get(t) for h in held if res[h]["absolute"].get(t) is not None]
            row += f"{fmt(float(np.mean(vals)) if vals else None):>10}{'':>10}"
        lines.append(row + "   <- mean without the caller score baseline")
    return "\n".join(lines)


def si_table(res):
    lines = [f"{'corpus':<10}{'clips':>7}" + "".join(f"{t:>10}" for t in TASKS)]
    for c, r in list(res["by_corpus"].items()) + [("all", res["overall"])]:
        lines.append(f"{c:<10}{r['clips']:>7}" + "".join(f"{fmt(r.get(t)):>10}" for t in TASKS))
    return "\n".join(lines)


def loco_score(res):
    a = [res[h]["anger"] for h in res if res[h].get("anger") is not None]
    e = [res[h]["emotion4"] for h in res if res[h].get("emotion4") is not None]
    r = [res[h]["arousal"] for h in res if res[h].get("arousal") is not None]
    return float(np.mean(a)) + float(np.mean(e)) + 0.25 * float(np.mean(r))


def strip_confusions(res):
    if isinstance(res, dict):
        return {k: strip_confusions(v) for k, v in res.items() if not k.endswith("_confusion")}
    return res


def group_score(group, res):
    """LOCO figure a head group is chosen by."""
    def mean(t):
        v = [res[h][t] for h in res if res[h].get(t) is not None]
        return float(np.mean(v)) if v else 0.0
    if group == "agitation":
        return mean("agitation") + 0.5 * mean("agitation_vs_happiness")
    return mean("anger") if group == "anger" else mean("emotion4") + 0.25 * mean("arousal")
