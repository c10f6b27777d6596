"""Cohen's d (pooled SD) of window features per corpus: anger vs happiness, vs
surprise (nemo, ravdess) and vs every other labelled clip. Windows of pass 0
(aug == 0) whose labelled clip holds at least MIN_SHARE of their audio.

    /usr/bin/python3 models/training/feature_effects.py FEATURES.bin name1,name2,... [MIN_SHARE=0]

The last column counts the corpora that share the majority sign of the
anger-vs-happiness d (how the issue-8 feature candidates were judged).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy as np  # noqa: E402
from features_bin import read_features  # noqa: E402

path = sys.argv[1]
feats = sys.argv[2].split(',')
min_share = float(sys.argv[3]) if len(sys.argv) > 3 else 0.0
h, x, meta = read_features(path)
mi = {n: i for i, n in enumerate(h['metaNames'])}
fi = {n: i for i, n in enumerate(h['featureNames'])}
clips = h['clips']
clip = meta[:, mi['clip']].astype(int)
aug = meta[:, mi['aug']].astype(int)
share = meta[:, mi['share']]
lab = np.array([c['label'] or '' for c in clips])[clip]
cor = np.array([c['corpus'] for c in clips])[clip]
spk = np.array([c['speaker'] for c in clips])[clip]
keep = (aug == 0) & (share >= min_share)

def d(a, b):
    if len(a) < 5 or len(b) < 5: return float('nan')
    s = np.sqrt(((len(a)-1)*a.var(ddof=1) + (len(b)-1)*b.var(ddof=1)) / (len(a)+len(b)-2))
    return (a.mean() - b.mean()) / s if s > 0 else float('nan')

corpora = ['nemo', 'turev', 'kor', 'ravdess']
print(f"windows aug0 share>={min_share}: {keep.sum()}")
hdr = f"{'feature':24s} " + ' '.join(f"{c+':hap':>9s}" for c in corpora) + '  ' + ' '.join(f"{c+':sur':>11s}" for c in ['nemo','ravdess']) + '  ' + ' '.join(f"{c+':rest':>10s}" for c in corpora) + '  sign(hap)'
print(hdr)
for f in feats:
    v = x[:, fi[f]].astype(np.float64)
    row = []; signs = []
    for c in corpora:
        m = keep & (cor == c)
        dd = d(v[m & (lab == 'anger')], v[m & (lab == 'happiness')]); row.append(dd); signs.append(np.sign(dd))
    sur = [d(v[keep & (cor == c) & (lab == 'anger')], v[keep & (cor == c) & (lab == 'surprise')]) for c in ['nemo', 'ravdess']]
    rest = [d(v[keep & (cor == c) & (lab == 'anger')], v[keep & (cor == c) & (lab != 'anger') & (lab != '')]) for c in corpora]
    pos = sum(1 for s in signs if s > 0); neg = sum(1 for s in signs if s < 0)
    cons = max(pos, neg)
    print(f"{f:24s} " + ' '.join(f"{r:+9.2f}" for r in row) + '  ' + ' '.join(f"{r:+11.2f}" for r in sur) + '  ' + ' '.join(f"{r:+10.2f}" for r in rest) + f"  {cons}/4 {'+' if pos>=neg else '-'}")
