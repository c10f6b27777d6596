"""Builds the ONNX graph by hand with onnx.helper (robust across torch versions).

Graph (opset 13):

    features [N,F] -> Sub(mean) -> Div(std) -> Clip(-c, c) -> z
    per ensemble member, per part (a small net with some of the heads;
    ignored features have zero rows in its first matrix):
        h = Relu(z @ W + b) ...
        emotion:  Softmax(h @ We + be)        [N,4]
        anger:    Sigmoid(h @ Wa + ba)        [N,1]
        arousal:  Softmax(h @ Wr + br)        [N,3]
    every head's outputs are averaged over the nets that have it (Mean);
    arousal   = arousal_probs @ [0, .5, 1]^T  [N,1]
    agitation = the agitation head's mean (its own nets, no rel_* inputs)  [N,1]
                when the model has one, else [anger_prob, arousal] @ [wa, wr]^T
"""
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 13
HEADS = (("emo", "emotion_probs", "Softmax"), ("anger", "anger_prob", "Sigmoid"), ("arousal", "arousal_probs", "Softmax"),
         ("agit", "agitation_head", "Sigmoid"))
OPTIONAL_HEADS = ("agit",)


def _softmax(z):
    z = z - z.max(1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(1, keepdims=True)


def numpy_forward(m, x):
    """Reference forward pass of one member (same maths as the graph)."""
    z = np.clip((x - m["mean"]) / m["std"], -m["clip"], m["clip"]).astype(np.float32)
    acc = {"emo": [], "anger": [], "arousal": [], "agit": []}
    for part in m["parts"]:
        h = z
        for w, b in part["layers"]:
            h = np.maximum(h @ w + b, 0.0)
        for name, (w, b) in part["heads"].items():
            logit = h @ w + b
            acc[name].append(1.0 / (1.0 + np.exp(-logit[:, 0])) if name in ("anger", "agit") else _softmax(logit))
    names = {"emo": "emotion", "anger": "anger", "arousal": "arousal", "agit": "agitation"}
    return {names[k]: np.mean(v, 0) for k, v in acc.items() if v}


def export_onnx(models, path, agitation_weights=(1.0, 0.0), doc="undertone emotion model"):
    nodes, inits = [], []

    def const(name, arr):
        inits.append(numpy_helper.from_array(np.asarray(arr, dtype=np.float32), name))
        return name

    m0 = models[0]
    nf = len(m0["mean"])
    for m in models:
        if not (np.allclose(m["mean"], m0["mean"]) and np.allclose(m["std"], m0["std"]) and m["clip"] == m0["clip"]):
            raise ValueError("ensemble members must share the normalisation")
    const("norm_mean", m0["mean"].reshape(1, nf))
    const("norm_std", m0["std"].reshape(1, nf))
    const("clip_min", np.array(-m0["clip"], np.float32))
    const("clip_max", np.array(m0["clip"], np.float32))
    nodes.append(helper.make_node("Sub", ["features", "norm_mean"], ["centred"]))
    nodes.append(helper.make_node("Div", ["centred", "norm_std"], ["scaled"]))
    nodes.append(helper.make_node("Clip", ["scaled", "clip_min", "clip_max"], ["z"]))

    outs = {name: [] for name, _, _ in HEADS}
    for i, m in enumerate(models):
        for j, part in enumerate(m["parts"]):
            h = "z"
            for k, (w, b) in enumerate(part["layers"]):
                p = f"m{i}_p{j}_l{k}"
                nodes.append(helper.make_node("MatMul", [h, const(p + "_w", w)], [p + "_mm"]))
                nodes.append(helper.make_node("Add", [p + "_mm", const(p + "_b", b)], [p + "_pre"]))
                nodes.append(helper.make_node("Relu", [p + "_pre"], [p + "_h"]))
                h = p + "_h"
            for name, _, act in HEADS:
                if name not in part["heads"]:
                    continue
                w, b = part["heads"][name]
                p = f"m{i}_p{j}_{name}"
                nodes.append(helper.make_node("MatMul", [h, const(p + "_w", w)], [p + "_mm"]))
                nodes.append(helper.make_node("Add", [p + "_mm", const(p + "_b", b)], [p + "_logit"]))
                if act == "Softmax":
                    nodes.append(helper.make_node("Softmax", [p + "_logit"], [p + "_p"], axis=1))
                else:
                    nodes.append(helper.make_node("Sigmoid", [p + "_logit"], [p + "_p"]))
                outs[name].append(p + "_p")

    for name, out, _ in HEADS:
        if not outs[name]:
            if name in OPTIONAL_HEADS:
                continue
            raise ValueError(f"no net provides the {name} head")
        nodes.append(helper.make_node("Mean", outs[name], [out]))
    nodes.append(helper.make_node("MatMul", ["arousal_probs", const("arousal_values", [[0.0], [0.5], [1.0]])], ["arousal"]))
    if outs["agit"]:
        # agitation = the agitation head (its own nets, the mean of their probabilities).
        nodes.append(helper.make_node("Identity", ["agitation_head"], ["agitation"]))
    else:
        nodes.append(helper.make_node("Concat", ["anger_prob", "arousal"], ["agit_in"], axis=1))
        wa, wr = agitation_weights
        nodes.append(helper.make_node("MatMul", ["agit_in", const("agitation_w", [[wa], [wr]])], ["agitation"]))

    graph = helper.make_graph(
        nodes,
        "undertone_emotion",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["N", nf])],
        [
            helper.make_tensor_value_info("emotion_probs", TensorProto.FLOAT, ["N", 4]),
            helper.make_tensor_value_info("anger_prob", TensorProto.FLOAT, ["N", 1]),
            helper.make_tensor_value_info("arousal_probs", TensorProto.FLOAT, ["N", 3]),
            helper.make_tensor_value_info("arousal", TensorProto.FLOAT, ["N", 1]),
            helper.make_tensor_value_info("agitation", TensorProto.FLOAT, ["N", 1]),
        ],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="undertone-train")
    model.ir_version = 8
    model.doc_string = doc
    onnx.checker.check_model(model)
    onnx.save(model, path)
    return path
