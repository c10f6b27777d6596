"""A probe, not training (issue 8): does a small CAUSAL sequence model over a
call's window sequence beat the per-window logistic agitation head at the
CALL level?

    /usr/bin/python3 models/training/seq_probe.py --features models/training/.work/features-ep.bin \
        [--cand gru-abs gru-rel ...] [--seeds 1] [--out /tmp/seq/NAME.json] [--onnx /tmp/seq/gru.onnx]

Same protocol and metric as call_probe.py (whose functions it reuses):
leave-one-corpus-out over nemo, turev, kor, ravdess; the held-out corpus's
validation calls are scored window by window (the model runs over each call
from its first window with a zero state, as a live stream would), the
simplified smoothing + threshold + dwell policy is replayed and the most
detections at false-alarm budgets of 5/10/20 % of the 212 silent calls are
printed.

Model: inputs = features standardised with the training fold's
corpus-balanced mean/std (nets.standardiser), clipped to +-5, without the
absolute level features (DEFAULT_EXCLUDE) and optionally without `rel_*`;
optionally log(delta time / hop) between kept windows. A linear
projection, a GRU (or a causal dilated 1-D conv) and a linear head give an
anger logit per window. Loss: per-window BCE, anger vs every other labelled
window, nets.balanced_weights (every clip the same, every corpus x class
cell the same, hard negatives happiness/surprise/fear `hard` times).
Training sees random crops of the episode calls: half start at the call's
first window (the state must fire on an angry-from-the-start caller), half
at a random window (any window can be "the first"), 4..`max_len` windows,
with Gaussian input noise and feature dropout. baved (no emotion labels)
is left out of the sequences but stays in the standardiser, as in
call_probe.py.
"""
import argparse
import json
import sys
import time

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from call_probe import LABELLED, SILENT, auc, call_outcomes, load_probe_data, policy_table  # noqa: E402
from corpus_data import CALLER_RELATIVE, DEFAULT_EXCLUDE, Data, feature_mask  # noqa: E402
import nets  # noqa: E402

HOP_S = 0.5

BASE = dict(kind="gru", hidden=24, proj=32, rel=False, dt=False, hard=3.0, steps=700, batch=32, max_len=80,
            lr=3e-3, wd=1e-2, noise=0.15, fdrop=0.1, start_p=0.5, dropout=0.2, clip=5.0, shift=0.0, bal=False,
            dil=(1, 2, 4, 8))


def candidates():
    return {
        "gru-abs": dict(BASE),
        "gru-rel": dict(BASE, rel=True),
        "gru-abs-dt": dict(BASE, dt=True),
        "gru-rel-dt": dict(BASE, rel=True, dt=True),
        "conv-abs": dict(BASE, kind="conv"),
        "gru16-abs": dict(BASE, hidden=16),
        "gru32-abs": dict(BASE, hidden=32),
        "gru-abs-long": dict(BASE, max_len=160, steps=500),
        # No sequence at all: the same projection + head per window, trained the
        # same way (crops, noise) -- separates "context helps" from "the
        # training recipe/MLP helps".
        "ff-abs": dict(BASE, kind="ff"),
        # Against the corpus offset: a constant random offset per crop (sigma in
        # standardised units; a channel / corpus that reads every feature a bit
        # off), and crops drawn so that every training corpus is equally likely.
        "gru-abs-shift": dict(BASE, shift=0.5),
        "gru-abs-bal": dict(BASE, bal=True),
        "gru-abs-shift-bal": dict(BASE, shift=0.5, bal=True),
        # Bounded memory (the GRU latches: one-emotion training calls teach it
        # "once angry-looking, stay angry", and an unseen corpus that looks a bit
        # angry latches a calm call to 1.0): short training crops, or a conv
        # whose receptive field is 15 windows (7.5 s).
        "gru-abs-short": dict(BASE, max_len=16, steps=1400),
        "gru-abs-short-shift": dict(BASE, max_len=16, steps=1400, shift=0.5),
        "conv15-abs": dict(BASE, kind="conv", dil=(1, 2, 4)),
        "conv15-abs-shift": dict(BASE, kind="conv", dil=(1, 2, 4), shift=0.5),
        "ff-abs-shift-bal": dict(BASE, kind="ff", shift=0.5, bal=True),
    }


class SeqNet(nn.Module):
    """Projection -> causal core (GRU | dilated causal conv | none) -> logit."""

    def __init__(self, n_in, cfg):
        super().__init__()
        self.kind = cfg["kind"]
        self.proj = nn.Sequential(nn.Linear(n_in, cfg["proj"]), nn.Tanh(), nn.Dropout(cfg["dropout"]))
        h = cfg["hidden"]
        if self.kind == "gru":
            self.core = nn.GRU(cfg["proj"], h, batch_first=True)
        elif self.kind == "conv":
            # Receptive field 1 + 2*sum(dil) windows: (1,2,4,8) = 31 (15 s), causal (left pad).
            self.convs = nn.ModuleList()
            prev = cfg["proj"]
            for dil in cfg["dil"]:
                self.convs.append(nn.Conv1d(prev, h, 3, dilation=dil))
                prev = h
        else:
            self.core = nn.Sequential(nn.Linear(cfg["proj"], h), nn.ReLU())
        self.head = nn.Linear(h, 1)

    def forward(self, x, h0=None):
        z = self.proj(x)
        if self.kind == "gru":
            o, hn = self.core(z, h0)
        elif self.kind == "conv":
            o = z.transpose(1, 2)
            for c in self.convs:
                pad = c.dilation[0] * (c.kernel_size[0] - 1)
                o = torch.relu(c(nn.functional.pad(o, (pad, 0))))
            o = o.transpose(1, 2)
            hn = None
        else:
            o, hn = self.core(z), None
        return self.head(o).squeeze(-1), hn


def sequences(call_id, t_s, rows):
    """Row indices of each call (only `rows`), sorted by time."""
    idx = np.where(rows)[0]
    order = np.lexsort((t_s[idx], call_id[idx]))
    idx = idx[order]
    cuts = np.where(np.diff(call_id[idx]) != 0)[0] + 1
    return np.split(idx, cuts)


def dt_feature(t_s, seq):
    """log(delta time / hop) to the previous kept window, 0 for the first; clipped to [0, 3]."""
    t = t_s[seq]
    d = np.diff(t, prepend=t[0] - HOP_S)
    return np.clip(np.log(np.maximum(d, 1e-3) / HOP_S), 0.0, 3.0).astype(np.float32)


def design(cfg, names):
    mask = feature_mask(names, DEFAULT_EXCLUDE)
    if not cfg["rel"]:
        mask *= feature_mask(names, CALLER_RELATIVE)
    return np.where(mask > 0)[0]


def train_seq(d, rows, cfg, seed):
    """Trains one SeqNet on the calls of `rows`. Returns (net, mean, std, cols)."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    mean, std = nets.standardiser(d.x, rows, d.corpus)
    cols = design(cfg, d.feature_names)
    xs = np.clip((d.x - mean) / std, -cfg["clip"], cfg["clip"])[:, cols].astype(np.float32)
    lab = d.labels["agitation"]
    boost = np.where(d.hard, cfg["hard"], 1.0)
    w = nets.balanced_weights(rows, lab, d.corpus, d.clip, boost)
    seq_rows = rows & (lab >= 0)  # baved: no sequence (no labels at all)
    # Calls with some labelled rows: keep the unlabelled windows inside them (weight 0).
    keep_calls = np.unique(d.call_key[seq_rows])
    seqs = sequences(d.call_key, d.call_time, rows & np.isin(d.call_key, keep_calls))
    if cfg["dt"]:
        dts = [dt_feature(d.call_time, s) for s in seqs]
    lens = np.array([len(s) for s in seqs])
    # Crop starts: uniform over windows (each window equally likely to start a crop).
    start_call = np.repeat(np.arange(len(seqs)), lens)
    start_pos = np.concatenate([np.arange(n) for n in lens])
    if cfg["bal"]:
        win_corpus = d.corpus[np.concatenate(seqs)]
        pw = 1.0 / np.bincount(win_corpus)[win_corpus]
        pw /= pw.sum()
    n_in = len(cols) + (1 if cfg["dt"] else 0)
    net = SeqNet(n_in, cfg)
    opt = torch.optim.AdamW(net.parameters(), lr=cfg["lr"], weight_decay=cfg["wd"])
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg["lr"], total_steps=cfg["steps"])
    bce = nn.BCEWithLogitsLoss(reduction="none")
    B, L = cfg["batch"], cfg["max_len"]
    net.train()
    for step in range(cfg["steps"]):
        pick = rng.choice(len(start_call), B, p=pw) if cfg["bal"] else rng.integers(0, len(start_call), B)
        ln = rng.integers(4, L + 1, B)
        xb = np.zeros((B, L, n_in), np.float32)
        yb = np.zeros((B, L), np.float32)
        wb = np.zeros((B, L), np.float32)
        for b in range(B):
            ci = start_call[pick[b]]
            s0 = 0 if rng.random() < cfg["start_p"] else start_pos[pick[b]]
            seg = seqs[ci][s0 : s0 + ln[b]]
            n = len(seg)
            xb[b, :n, : len(cols)] = xs[seg]
            if cfg["dt"]:
                dd = dts[ci][s0 : s0 + n].copy()
                dd[0] = 0.0
                xb[b, :n, -1] = dd
            yb[b, :n] = np.maximum(lab[seg], 0)
            wb[b, :n] = np.where(lab[seg] >= 0, w[seg], 0.0)
        if cfg["shift"] > 0:
            off = rng.normal(0.0, cfg["shift"], (B, 1, len(cols))).astype(np.float32)
            xb[:, :, : len(cols)] += off  # padded steps carry no loss and, causal, reach no earlier output
        X = torch.from_numpy(xb)
        if cfg["noise"] > 0:
            X = X + cfg["noise"] * torch.randn_like(X)
        if cfg["fdrop"] > 0:
            X = X * (torch.rand_like(X) >= cfg["fdrop"]).float()
        logit, _ = net(X)
        W = torch.from_numpy(wb)
        loss = (bce(logit, torch.from_numpy(yb)) * W).sum() / W.sum().clamp_min(1e-6)
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        sched.step()
    net.eval()
    return net, mean, std, cols


def score_calls(model, cfg, vx, v_call, v_ms, sel):
    """Per-window anger probability over whole calls (zero state at the first window)."""
    net, mean, std, cols = model
    probs = np.zeros(len(vx))
    xs = np.clip((vx - mean) / std, -cfg["clip"], cfg["clip"])[:, cols].astype(np.float32)
    for seq in sequences(v_call, v_ms / 1000.0, sel):
        x = xs[seq]
        if cfg["dt"]:
            x = np.concatenate([x, dt_feature(v_ms / 1000.0, seq)[:, None]], 1)
        with torch.no_grad():
            logit, _ = net(torch.from_numpy(x)[None])
        probs[seq] = torch.sigmoid(logit[0]).numpy()
    return probs


# call_probe's grid plus points near 1 (a sequence model saturates; without
# them its quietest operating point is thr 0.995).
THRESHOLDS = np.concatenate([np.linspace(0.05, 0.995, 96), [0.997, 0.999, 0.9995, 0.9999]])


def window_aucs(probs, lab, vcorp):
    out = {}
    for c in LABELLED:
        k = vcorp == c
        out[c] = (auc(probs[k & (lab == "anger")], probs[k & np.isin(lab, ["neutral", "sadness"])]),
                  auc(probs[k & (lab == "anger")], probs[k & np.isin(lab, ["happiness", "surprise", "fear"])]))
    return out


def export_gru_onnx(model, cfg, path):
    """GRU candidate as ONNX with explicit state: features [1,F] + h_in [1,1,H] -> prob [1], h_out [1,1,H]."""
    net, mean, std, cols = model

    class Step(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = net
            self.register_buffer("mean", torch.from_numpy(mean))
            self.register_buffer("std", torch.from_numpy(std))
            self.register_buffer("cols", torch.from_numpy(cols.astype(np.int64)))

        def forward(self, features, h_in):
            z = torch.clamp((features - self.mean) / self.std, -cfg["clip"], cfg["clip"])
            z = torch.index_select(z, 1, self.cols)
            logit, h_out = self.net(z[:, None, :], h_in)
            return torch.sigmoid(logit[:, 0]), h_out

    step = Step().eval()
    f = torch.zeros(1, len(mean))
    h = torch.zeros(1, 1, cfg["hidden"])
    torch.onnx.export(step, (f, h), path, input_names=["features", "h_in"], output_names=["agitation", "h_out"],
                      opset_version=14)
    return step


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--features", default="models/training/.work/features-ep.bin",
                    help="a features.bin of episode calls: train-features --assembly episodes")
    ap.add_argument("--val", default="models/training/.work/validation-features.bin")
    ap.add_argument("--cand", nargs="*", default=None)
    ap.add_argument("--seeds", type=int, default=1)
    ap.add_argument("--seed0", type=int, default=0, help="first seed (seed variance: run again with another)")
    ap.add_argument("--steps", type=int, default=None)
    ap.add_argument("--out", default=None)
    ap.add_argument("--onnx", default=None, help="export the first candidate's last fold (GRU only) here and time it")
    args = ap.parse_args()
    torch.set_num_threads(1)
    d, v = load_probe_data(args.features, args.val)
    vh, vx, vm, vmi, vcall, vms, calls = v["header"], v["x"], v["meta"], v["mi"], v["call"], v["ms"], v["calls"]
    vclip = vm[:, vmi["clip"]].astype(int)
    lab = np.array([vh["clips"][k]["label"] if k >= 0 else "" for k in vclip])
    vcorp = np.array([calls[i]["corpus"] for i in vcall])
    cands = candidates()
    names = args.cand or list(cands)
    n_det = sum(1 for c in calls if c["kind"] in ("calm-then-angry", "angry"))
    results = {}
    for name in names:
        cfg = dict(cands[name])
        if args.steps:
            cfg["steps"] = args.steps
        t0 = time.time()
        probs = np.zeros(len(vx))
        for seed in range(args.seed0, args.seed0 + args.seeds):
            for c in LABELLED:
                rows = d.corpus != d.corpus_id(c)
                model = train_seq(d, rows, cfg, seed)
                sel = vcorp == c
                probs += score_calls(model, cfg, vx, vcall, vms, sel) / args.seeds
        aucs = window_aucs(probs, lab, vcorp)
        print(f"{name:16s} window AUC anger vs calm/low, vs excited: " +
              " ".join(f"{c} {a:.2f}/{b:.2f}" for c, (a, b) in aucs.items()), flush=True)
        wbc = {ci: (vms[vcall == ci], probs[vcall == ci]) for ci in range(len(calls))}
        best = policy_table(calls, wbc, THRESHOLDS)
        results[name] = dict(cfg=cfg, aucs=aucs, best={str(k): v for k, v in best.items()}, seconds=time.time() - t0)
        line = "  ".join(
            f"FA≤{int(b * 100)}%: det {v['det']}/{n_det} (c2a {v['c2a_det']}, angry {v['angry_det']}; fa {v['fa']} = "
            f"n{v['neutral']} e{v['excited']} l{v['low']} early{v['c2a_early']})" for b, v in sorted(best.items()))
        print(f"{name:16s} {time.time() - t0:5.0f}s  {line}", flush=True)
        if args.out:
            np.save(args.out.replace(".json", f"-{name}-probs.npy"), probs)
        if args.onnx and name == names[0] and cfg["kind"] == "gru":
            onnx_bench(model, cfg, args.onnx, vx[vcorp == LABELLED[-1]][:400])
    if args.out:
        with open(args.out, "w") as f:
            json.dump(results, f, indent=1)


def onnx_bench(model, cfg, path, xs):
    import onnxruntime as ort

    step = export_gru_onnx(model, cfg, path)
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    h = np.zeros((1, 1, cfg["hidden"]), np.float32)
    ref_h = torch.zeros(1, 1, cfg["hidden"])
    worst = 0.0
    for i in range(50):
        p, h = sess.run(None, {"features": xs[i : i + 1], "h_in": h})
        with torch.no_grad():
            rp, ref_h = step(torch.from_numpy(xs[i : i + 1]), ref_h)
        worst = max(worst, abs(float(p[0]) - float(rp[0])))
    h = np.zeros((1, 1, cfg["hidden"]), np.float32)
    n = len(xs)
    t0 = time.perf_counter()
    for rep in range(5):
        for i in range(n):
            _, h = sess.run(None, {"features": xs[i : i + 1], "h_in": h})
    per = (time.perf_counter() - t0) / (5 * n) * 1e3
    print(f"onnx {path}: {per:.4f} ms/window (batch 1, 1 thread, incl. python call), max |onnx - torch| {worst:.2e}",
          flush=True)


if __name__ == "__main__":
    main()
