"""A probe, not training (issue 8 lever "an excited output"): a multinomial logistic
regression (sklearn) over anger / excited (happiness, surprise) / other, corpus x class
balanced, agitation = p(anger); without (abs) or with the rel_* inputs. Same LOCO and
call-level policy table as call_probe.py:  /usr/bin/python3 models/training/excited_probe.py"""
import sys; sys.path.insert(0, 'models/training')
import numpy as np
from sklearn.linear_model import LogisticRegression
from call_probe import LABELLED, load_probe_data, policy_table, auc
from corpus_data import CALLER_RELATIVE, DEFAULT_EXCLUDE, feature_mask
from nets import standardiser
import re
d, v = load_probe_data('models/training/.work/features.bin', 'models/training/.work/validation-features.bin')
calls, vcall, vms, vx = v['calls'], v['call'], v['ms'], v['x']
names = d.feature_names
lab = d.clip_label_name[d.clip]
cls = np.full(len(lab), -1)
cls[lab == 'anger'] = 0
cls[np.isin(lab, ['happiness', 'surprise'])] = 1
cls[np.isin(lab, ['neutral', 'sadness', 'fear', 'disgust'])] = 2
for variant in ['abs', 'all']:
    mask = feature_mask(names, DEFAULT_EXCLUDE).astype(bool)
    if variant == 'abs':
        mask &= np.array([not re.search(CALLER_RELATIVE, n) for n in names])
    probs = np.zeros(len(vx))
    for c in LABELLED:
        rows = (d.corpus != d.corpus_id(c)) & (cls >= 0) & (d.aug == 0)
        mean, std = standardiser(d.x, rows, d.corpus)
        X = np.clip((d.x[rows] - mean) / std, -5, 5)[:, mask]
        y = cls[rows]
        # corpus x class balanced weights
        cell = d.corpus[rows] * 3 + y
        w = np.zeros(len(y))
        for k in np.unique(cell):
            w[cell == k] = 1.0 / (cell == k).sum()
        w *= len(y) / w.sum()
        m = LogisticRegression(C=0.1, max_iter=300).fit(X, y, sample_weight=w)
        sel = np.array([calls[i]['corpus'] == c for i in vcall])
        Xv = np.clip((vx[sel] - mean) / std, -5, 5)[:, mask]
        probs[sel] = m.predict_proba(Xv)[:, 0]
    wbc = {ci: (vms[vcall == ci], probs[vcall == ci]) for ci in range(len(calls))}
    best = policy_table(calls, wbc, np.linspace(0.02, 0.995, 120))
    vclip = v['meta'][:, v['mi']['clip']].astype(int)
    vl = np.array([v['header']['clips'][k]['label'] if k >= 0 else '' for k in vclip])
    vcorp = np.array([calls[i]['corpus'] for i in vcall])
    a = ' '.join(f"{c} {auc(probs[(vcorp==c)&(vl=='anger')], probs[(vcorp==c)&np.isin(vl,['neutral','sadness'])]):.2f}/{auc(probs[(vcorp==c)&(vl=='anger')], probs[(vcorp==c)&np.isin(vl,['happiness','surprise','fear'])]):.2f}" for c in LABELLED)
    print(variant, a, ' '.join(f"FA≤{int(b*100)}%: {x['det']} (fa {x['fa']})" for b, x in sorted(best.items())), flush=True)
