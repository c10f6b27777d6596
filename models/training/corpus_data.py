"""The training windows and their labels (features.bin rows), the label sets,
the peer's figures and the corpora's licences: what train.py and its
validation share."""
import re

import numpy as np

EMO4 = ["neutral", "anger", "happiness", "sadness"]
AROUSAL = ["low", "mid", "high"]
AROUSAL_VALUE = [0.0, 0.5, 1.0]
TASKS = ["anger", "emotion4", "arousal"]

# openSMILE eGeMAPS + SVM, LOCO, best variant per corpus (measured by the CEO).
PEER_ORDER = ["nemo", "turev", "kor"]
PEER = {
    "anger": {"nemo": 0.657, "turev": 0.590, "kor": 0.758},
    "emotion4": {"nemo": 0.438, "turev": 0.339, "kor": 0.717},
}

# Licences of the corpora we know (operators' own corpora show as "unknown").
LICENCES = {
    "nemo": "CC BY-NC-SA 4.0 (nEMO, Christop 2024, LREC-COLING)",
    "turev": "CC BY-NC-ND 4.0 (TurEV-DB, Canpolat et al. 2020)",
    "baved": "none stated; the authors advise against commercial use (BAVED)",
    "kor": "research only, non-commercial, CC BY-NC-SA (emotiontts open DB, public 5%)",
    "ravdess": "CC BY-NC-SA 4.0 (RAVDESS, Livingstone & Russo 2018, PLoS ONE)",
}

# Non-anger emotions that sound like anger to an arousal detector (loud,
# high-pitched): the hard negatives the agitation head is weighted towards.
HARD_NEGATIVES = ("happiness", "surprise", "fear")
# Caller-relative inputs: the absolute agitation head must not see them, or it
# adapts to a caller who is angry from the first second (issue 8).
CALLER_RELATIVE = r"^(rel_|baseline_log_speech_s$)"


# --------------------------------------------------------------------------- data


class Data:
    """Windows with their labels, one row per window."""

    def __init__(self, header, x, meta):
        self.header = header
        self.feature_names = list(header["featureNames"])
        self.x = x
        mi = {n: i for i, n in enumerate(header["metaNames"])}
        self.clip = meta[:, mi["clip"]].astype(np.int64)
        self.aug = meta[:, mi["aug"]].astype(np.int64) if "aug" in mi else np.zeros(len(x), np.int64)
        # One sequence per call and augmentation pass, in audio order: what the
        # caller score baseline runs over, as on a live call.
        self.call_key = meta[:, mi["call"]].astype(np.int64) * 1000 + self.aug
        self.call_time = meta[:, mi["callTimeS"]].astype(np.float64)
        # 1 = an episode call (train-features --assembly episodes|both), 0 = a
        # speaker's shuffled call. Validation judges clips on the speaker calls
        # when there are any, as `npm run eval` assembles them.
        self.episode = meta[:, mi["episode"]].astype(np.int64) if "episode" in mi else np.zeros(len(x), np.int64)
        self.eval_rows = self.episode == 0 if (self.episode == 0).any() else np.ones(len(x), bool)
        clips = header["clips"]
        self.clips = clips
        corpora = sorted({c["corpus"] for c in clips})
        self.corpora = corpora
        cidx = {c: i for i, c in enumerate(corpora)}
        clip_corpus = np.array([cidx[c["corpus"]] for c in clips], np.int64)
        speakers = sorted({c["speaker"] for c in clips})
        sidx = {s: i for i, s in enumerate(speakers)}
        self.speakers = speakers
        clip_speaker = np.array([sidx[c["speaker"]] for c in clips], np.int64)
        clip_emo = np.array([EMO4.index(c["label"]) if c["label"] in EMO4 else -1 for c in clips], np.int64)
        clip_anger = np.array([(1 if c["label"] == "anger" else 0) if c["label"] else -1 for c in clips], np.int64)
        clip_ar = np.array([AROUSAL.index(c["arousal"]) if c["arousal"] in AROUSAL else -1 for c in clips], np.int64)
        self.clip_corpus, self.clip_speaker = clip_corpus, clip_speaker
        # `agitation`: the absolute anger head (anger vs every other labelled clip).
        self.clip_labels = {"emotion4": clip_emo, "anger": clip_anger, "arousal": clip_ar, "agitation": clip_anger}
        self.clip_label_name = np.array([c["label"] or "" for c in clips])
        self.clip_hard = np.isin(self.clip_label_name, HARD_NEGATIVES)
        self.hard = self.clip_hard[self.clip]
        self.corpus = clip_corpus[self.clip]
        self.speaker = clip_speaker[self.clip]
        self.labels = {k: v[self.clip] for k, v in self.clip_labels.items()}

    def corpus_id(self, name):
        return self.corpora.index(name)


ABSOLUTE_LEVEL = ["rms_db_mean", "rms_db_p10", "rms_db_p50", "rms_db_p90", "loudness_mean", "loudness_p90", "mfcc0_mean"]

# Absolute level is partly a corpus fingerprint (peak normalisation) and on a
# live line depends on the handset and gain; dropping it cost nothing in LOCO
# (anger 0.663 -> 0.674, emotion4 0.448 -> 0.448, arousal 0.551 -> 0.578).
DEFAULT_EXCLUDE = "^(" + "|".join(re.escape(n) for n in ABSOLUTE_LEVEL) + ")$"


def filter_corpora(header, x, meta, corpora):
    """Keeps only the windows and clips of `corpora` (clip indices renumbered)."""
    keep_clip = np.array([c["corpus"] in corpora for c in header["clips"]])
    new_index = np.cumsum(keep_clip) - 1
    ci = header["metaNames"].index("clip")
    rows = keep_clip[meta[:, ci].astype(np.int64)]
    meta = meta[rows].copy()
    meta[:, ci] = new_index[meta[:, ci].astype(np.int64)]
    header = dict(header, clips=[c for c, k in zip(header["clips"], keep_clip) if k])
    return header, x[rows], meta


def feature_mask(names, exclude):
    if not exclude:
        return np.ones(len(names), np.float32)
    rx = re.compile(exclude)
    return np.array([0.0 if rx.search(n) else 1.0 for n in names], np.float32)
