"""Builds the ONNX graph by hand with onnx.helper (robust across torch versions).

Graph (opset 13):

    features [N,F] -> Sub(mean) -> Div(std) -> Clip(-c, c) -> Mul(mask) -> z
    per ensemble member:  h = Relu(z @ W + b) ...;  heads on h
        emotion:  Softmax(h @ We + be)        [N,4]
        anger:    Sigmoid(h @ Wa + ba)        [N,1]
        arousal:  Softmax(h @ Wr + br)        [N,3]
    members are averaged (Mean);
    arousal   = arousal_probs @ [0, .5, 1]^T  [N,1]
    agitation = [anger_prob, arousal] @ [wa, wr]^T  [N,1]
"""
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 13


def _softmax(z):
    z = z - z.max(1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(1, keepdims=True)


def numpy_forward(m, x):
    """Reference forward pass of one member (same maths as the graph)."""
    z = np.clip((x - m["mean"]) / m["std"], -m["clip"], m["clip"]) * m["mask"]
    h = z.astype(np.float32)
    for w, b in m["layers"]:
        h = np.maximum(h @ w + b, 0.0)
    emo = _softmax(h @ m["emo"][0] + m["emo"][1])
    anger = 1.0 / (1.0 + np.exp(-(h @ m["anger"][0] + m["anger"][1])))
    ar = _softmax(h @ m["arousal"][0] + m["arousal"][1])
    return {"emotion": emo, "anger": anger[:, 0], "arousal": ar}


def export_onnx(models, path, agitation_weights=(1.0, 0.0), doc="undertone emotion model"):
    nodes, inits = [], []

    def const(name, arr):
        inits.append(numpy_helper.from_array(np.asarray(arr, dtype=np.float32), name))
        return name

    m0 = models[0]
    nf = len(m0["mean"])
    const("norm_mean", m0["mean"].reshape(1, nf))
    const("norm_std", m0["std"].reshape(1, nf))
    const("clip_min", np.array(-m0["clip"], np.float32))
    const("clip_max", np.array(m0["clip"], np.float32))
    const("feature_mask", m0["mask"].reshape(1, nf))
    nodes.append(helper.make_node("Sub", ["features", "norm_mean"], ["centred"]))
    nodes.append(helper.make_node("Div", ["centred", "norm_std"], ["scaled"]))
    nodes.append(helper.make_node("Clip", ["scaled", "clip_min", "clip_max"], ["clipped"]))
    nodes.append(helper.make_node("Mul", ["clipped", "feature_mask"], ["z"]))

    heads = {"emotion": [], "anger": [], "arousal": []}
    for i, m in enumerate(models):
        for k in ("mean", "std", "mask"):
            if not np.allclose(m[k], m0[k]):
                raise ValueError("ensemble members must share the normalisation")
        h = "z"
        for j, (w, b) in enumerate(m["layers"]):
            p = f"m{i}_l{j}"
            nodes.append(helper.make_node("MatMul", [h, const(p + "_w", w)], [p + "_mm"]))
            nodes.append(helper.make_node("Add", [p + "_mm", const(p + "_b", b)], [p + "_pre"]))
            nodes.append(helper.make_node("Relu", [p + "_pre"], [p + "_h"]))
            h = p + "_h"
        for head, act in (("emotion", "Softmax"), ("anger", "Sigmoid"), ("arousal", "Softmax")):
            key = "emo" if head == "emotion" else head
            w, b = m[key]
            p = f"m{i}_{head}"
            nodes.append(helper.make_node("MatMul", [h, const(p + "_w", w)], [p + "_mm"]))
            nodes.append(helper.make_node("Add", [p + "_mm", const(p + "_b", b)], [p + "_logit"]))
            if act == "Softmax":
                nodes.append(helper.make_node("Softmax", [p + "_logit"], [p + "_p"], axis=1))
            else:
                nodes.append(helper.make_node("Sigmoid", [p + "_logit"], [p + "_p"]))
            heads[head].append(p + "_p")

    outs = {"emotion": "emotion_probs", "anger": "anger_prob", "arousal": "arousal_probs"}
    for head, names in heads.items():
        nodes.append(helper.make_node("Mean", names, [outs[head]]))
    nodes.append(helper.make_node("MatMul", ["arousal_probs", const("arousal_values", [[0.0], [0.5], [1.0]])], ["arousal"]))
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
