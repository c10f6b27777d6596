#!/usr/bin/python3
"""Writes test/fixtures/caller-score-baseline.json: one seeded call's raw scores and
what caller_scores.centre makes of them, so the TypeScript port
(src/model/caller-score-baseline.ts) is checked against this reference in
test/model/caller-score-baseline.test.ts. Needs only numpy.

    /usr/bin/python3 models/training/make_caller_scores_fixture.py
"""
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import caller_scores  # noqa: E402
from corpus_data import AROUSAL_VALUE  # noqa: E402

rng = np.random.RandomState(7)
n = 40
# A caller who leans "sad" (class 3) throughout, with an angry stretch at the end.
logits = rng.normal(0, 0.7, (n, 4)) + np.array([0.2, -0.5, -0.3, 0.9])
logits[30:, 1] += 2.0
emotion = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
anger = 1 / (1 + np.exp(-(rng.normal(-0.6, 0.8, n) + np.r_[np.zeros(30), np.full(10, 2.0)])))
al = rng.normal(0, 0.8, (n, 3))
arousal = np.exp(al) / np.exp(al).sum(1, keepdims=True)
# The agitation head (not re-centred), which the reported anger blends in.
agitation = 1 / (1 + np.exp(-(rng.normal(0.3, 0.8, n) + np.r_[np.zeros(30), np.full(10, 1.5)])))
spec = {
    "priorWindows": 20,
    "strength": 1.0,
    "arousalFromEmotion": 0.5,
    "angerFromAgitation": 0.5,
    "reference": {"emotionLogProbs": [-1.2, -1.6, -1.5, -1.3], "angerLogit": -1.1},
}
probs = {"emotion": emotion.astype(np.float32), "anger": anger.astype(np.float32), "arousal": arousal.astype(np.float32),
         "agitation": agitation.astype(np.float32)}
out = caller_scores.centre(probs, np.zeros(n, np.int64), np.arange(n, dtype=np.float64), spec)
root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
with open(os.path.join(root, "test", "fixtures", "caller-score-baseline.json"), "w") as f:
    json.dump({
        "generatedBy": "models/training/make_caller_scores_fixture.py",
        "spec": spec,
        "raw": {
            "emotion": probs["emotion"].tolist(),
            "anger": probs["anger"].tolist(),
            "agitation": probs["agitation"].tolist(),
            "arousal": (probs["arousal"] @ np.array(AROUSAL_VALUE)).tolist(),
        },
        "relative": {
            "emotion": out["emotion"].tolist(),
            "anger": out["anger"].tolist(),
            "arousal": out["arousal_value"].tolist(),
        },
    }, f)
    f.write("\n")
print("wrote test/fixtures/caller-score-baseline.json")
