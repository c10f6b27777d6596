"""The caller score baseline, as train.py validates it and the service applies it
(src/model/caller-score-baseline.ts; the two must agree).

Per call, in window order: the four-way emotion log-probabilities and the anger
logit of each window are re-centred by how far the caller's *earlier* windows
sat from a reference (the training windows' mean), shrunk towards no shift
while few windows have been seen:

    shift_n = strength * n / (n + priorWindows) * (mean of the first n windows - reference)
    relative_n = raw_n - shift_n          (then softmax / sigmoid again)

So a caller whose every window leans "angry" or "sad" (a loud or flat voice, a
line, a language the model reads differently) is judged against their own
norm, while the first windows of a call are judged as they are. Agitation (the
policy's input) stays absolute: a caller angry from the first second must
still be caught.

Anger: with `angerFromAgitation` = g > 0, the reported anger's log-odds are
(1 - g) * the re-centred anger logit + g * the agitation head's logit as it
comes (not re-centred), so a caller angry for the whole call is not judged
against an angry norm (issue 8, fifth round).

Arousal: with `arousalFromEmotion` = w > 0, the reported arousal value is
(1 - w) * the arousal head's expected value + w * what the caller-relative
emotion mix implies (neutral 0.5, anger and happiness 1, sadness 0), key
"arousal_value".
"""
import numpy as np

from corpus_data import AROUSAL_VALUE

EPS = 1e-6
# Arousal each of the four emotions (neutral, anger, happiness, sadness)
# implies, as the corpora's labels map them.
EMOTION_AROUSAL = [0.5, 1.0, 1.0, 0.0]


def _logit(p):
    p = np.clip(p, EPS, 1 - EPS)
    return np.log(p) - np.log1p(-p)


def _log(p):
    return np.log(np.clip(p, EPS, 1.0))


def reference(probs, rows, corpus):
    """Corpus-balanced mean of log emotion probabilities and anger logits over `rows`
    (a key is left out when its head is absent)."""
    cs = corpus[rows]

    def balanced(v):
        return np.mean([v[cs == c].mean(0) for c in np.unique(cs)], 0)

    ref = {}
    if "emotion" in probs:
        ref["emotionLogProbs"] = [float(v) for v in balanced(_log(probs["emotion"][rows]))]
    if "anger" in probs:
        ref["angerLogit"] = float(balanced(_logit(np.reshape(probs["anger"], (len(probs["anger"]), -1))[rows][:, 0])))
    return ref


def centre(probs, call_key, order_key, spec):
    """Caller-relative copies of probs["emotion"] and probs["anger"] (those present);
    other keys unchanged. call_key: per-row call identity; order_key: per-row
    position in the call (audio time)."""
    n0 = float(spec["priorWindows"])
    lam = float(spec["strength"])
    order = np.lexsort((order_key, call_key))
    keys = call_key[order]
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    ends = np.r_[starts[1:], len(order)]

    def shifted(raw, ref):
        """raw [N, K] in the log domain; returns raw minus each window's caller shift."""
        out = np.empty_like(raw)
        for s, e in zip(starts, ends):
            idx = order[s:e]
            n = np.arange(len(idx), dtype=np.float64)[:, None]
            # Mean of the windows before each one (the reference before the first).
            before = np.vstack([np.zeros((1, raw.shape[1])), np.cumsum(raw[idx], 0)[:-1]])
            mean = np.where(n > 0, before / np.maximum(n, 1.0), ref)
            out[idx] = raw[idx] - lam * n / (n + n0) * (mean - ref)
        return out

    res = dict(probs)
    if "emotion" in probs:
        ref = np.asarray(spec["reference"]["emotionLogProbs"], np.float64)[None, :]
        le = shifted(_log(probs["emotion"].astype(np.float64)), ref)
        pe = np.exp(le - le.max(1, keepdims=True))
        res["emotion"] = (pe / pe.sum(1, keepdims=True)).astype(np.float32)
    if "anger" in probs:
        ref = np.array([[spec["reference"]["angerLogit"]]])
        raw = probs["anger"].astype(np.float64)
        la = shifted(_logit(raw.reshape(len(raw), -1)[:, :1]), ref)
        g = float(spec.get("angerFromAgitation", 0.0))
        if g > 0 and "agitation" in probs:
            lg = _logit(np.reshape(probs["agitation"], (len(probs["agitation"]), -1))[:, :1].astype(np.float64))
            la = (1 - g) * la + g * lg
        res["anger"] = (1.0 / (1.0 + np.exp(-la))).reshape(raw.shape).astype(np.float32)
    w = float(spec.get("arousalFromEmotion", 0.0))
    if w > 0 and "emotion" in res and "arousal" in probs:
        head = probs["arousal"].astype(np.float64) @ np.array(AROUSAL_VALUE)
        e = res["emotion"].astype(np.float64)
        implied = e @ np.array(EMOTION_AROUSAL)
        res["arousal_value"] = ((1 - w) * head + w * implied).astype(np.float32)
    return res
