#!/usr/bin/env python3
"""Regenerate Tests/Fixtures/conformance: the ONNX conformance suite all three importers run.

The three importers of ONNX models (cssdbg's operator registry, Sources/CSSImport/ONNX/Operators;
cssdbg-torch's python/cssdbg_torch/onnx_import.py; the Float64 reference,
tools/reference/reference_sim.py) read the same fixtures and must agree on them:

  * an accepted fixture NAME has NAME.onnx, NAME.input.npy (float32, batch 2) and NAME.ort.npy
    (onnxruntime's output on it, float32); every importer must load it and reproduce that output;
  * a refused fixture has only NAME.onnx; every importer must refuse it with one line that
    contains the manifest's text for that importer.

manifest.json lists every fixture with its operators and, per importer, what is expected
(`expect.swift`, `expect.torch`, `expect.reference`: status and text). Where an importer is
expected to differ from cssdbg (Swift, the source of truth) the entry says so and why
(`why`): nothing differs silently. It also holds the supported-operator list of refusals
(`supported`) and every op type the registry knows (`operators`), which the three test suites
compare with their importer's own tables.

Tests: Tests/CSSImportTests/ConformanceTests.swift, python/tests/test_conformance.py,
test_conformance_suite in tools/reference/test_reference_sim.py.

Deterministic (weights and inputs seeded from the fixture name). Needs onnx and onnxruntime
(the tooling venv), not PyTorch.

Usage:  "$(scripts/pyenv.sh)" scripts/make_conformance.py
"""

from __future__ import annotations

import json
import zlib
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "Tests" / "Fixtures" / "conformance"
BATCH = 2
IR_FOR_OPSET = {11: 6, 13: 7, 17: 8, 18: 8}

# The list every refusal of an unknown operator ends with (ONNXOperator.supportedList).
SUPPORTED = ("Conv, Gemm, MatMul, Add, Sub, Mul, Div, BatchNormalization, AveragePool, GlobalAveragePool, "
             "ReduceMean, Flatten, Reshape, Squeeze, Unsqueeze, Relu, Identity, Dropout, Pad")

# Every op type ONNXOperator.registry has an entry for, by what it does on activations.
NON_RELU = ["Sigmoid", "Tanh", "PRelu", "Elu", "Selu", "Celu", "Gelu", "HardSigmoid", "HardSwish", "Softplus",
            "Softsign", "Mish", "ThresholdedRelu", "Erf", "Exp", "Log", "Abs", "Sign", "Sin", "Cos", "Pow", "Swish",
            "Shrink", "Round", "Floor", "Ceil", "Max", "Min"]
REDUCE = ["ReduceMax", "ReduceMin", "ReduceSum", "ReduceProd", "ReduceL2", "ReduceL1", "ReduceLogSumExp"]
NORMS = ["LayerNormalization", "InstanceNormalization", "GroupNormalization", "LpNormalization"]
OPERATORS = {
    # an entry that lowers nodes (on activations; some also on constants)
    **{op: "lowers" for op in ["Conv", "Gemm", "MatMul", "Add", "Sub", "Mul", "Div", "Sum", "BatchNormalization",
                               "AveragePool", "GlobalAveragePool", "ReduceMean", "Flatten", "Reshape", "Squeeze",
                               "Unsqueeze", "Relu", "Identity", "Dropout", "Constant", "Cast", "Shape", "Size", "Pad"]},
    # lowered where it is a ReLU, refused otherwise
    "Clip": "lowers or refuses", "LeakyRelu": "lowers or refuses",
    # folded on constants only
    **{op: "folds" for op in ["Neg", "Sqrt", "Reciprocal", "ConstantOfShape", "Range"]},
    **{op: "folds, refused on activations" for op in ["Gather", "Concat", "Slice", "Transpose", "Expand"]},
    **{op: "refused" for op in ["Softmax", "LogSoftmax", "MaxPool", "GlobalMaxPool", "Split", "Tile",
                                *NON_RELU, *REDUCE, *NORMS]},
}

WHY_REFERENCE_EVALUATES = ("the reference evaluates every graph it can compute and is only run on models cssdbg "
                           "accepts; it does not repeat cssdbg's conversion rules")

fixtures: list[dict] = []


def rng_for(name: str) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(name.encode()))


def rand(rng, *shape, scale=0.5):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def run_ort(model: onnx.ModelProto, x: np.ndarray) -> np.ndarray:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    sess = ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    return sess.run(None, {sess.get_inputs()[0].name: x})[0].astype(np.float32)


class G:
    """A hand-built graph: input `x`, output `y`; nodes named `/<op>` (or as given)."""

    def __init__(self, name: str, in_shape, opset: int = 13):
        self.name, self.in_shape, self.opset = name, list(in_shape), opset
        self.rng = rng_for(name)
        self.nodes, self.inits = [], []
        self.ops: list[str] = []

    def const(self, array, name=None):
        array = np.asarray(array)
        name = name or f"c{len(self.inits)}"
        self.inits.append(numpy_helper.from_array(array, name))
        return name

    def w(self, *shape, scale=0.5):
        return self.const(rand(self.rng, *shape, scale=scale))

    def node(self, op, inputs, out=None, name=None, domain=None, **attrs):
        out = out or f"t{len(self.nodes)}"
        n = helper.make_node(op, inputs, [out], name=name or f"/{op.lower()}{len(self.nodes)}", **attrs)
        if domain is not None:
            n.domain = domain
        self.nodes.append(n)
        if op not in self.ops:
            self.ops.append(op)
        return out

    def model(self, out_shape=None):
        graph = helper.make_graph(
            self.nodes, self.name,
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", *self.in_shape])],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, out_shape)],
            initializer=self.inits)
        opsets = [helper.make_opsetid("", self.opset)]
        if any(n.domain not in ("", "ai.onnx") for n in self.nodes):
            opsets.append(helper.make_opsetid("com.example", 1))
        m = helper.make_model(graph, opset_imports=opsets, producer_name="cssdbg-make_conformance")
        m.ir_version = IR_FOR_OPSET[self.opset]
        return m


def accepted(g: G, what: str, notes: dict | None = None):
    """An accepted fixture: the model, an input and onnxruntime's output."""
    x = rand(rng_for(g.name + "/input"), BATCH, *g.in_shape, scale=1.0)
    y = run_ort(g.model(), x)
    m = g.model(["batch", *y.shape[1:]])
    onnx.checker.check_model(m, full_check=True)
    onnx.save(m, str(OUT / f"{g.name}.onnx"))
    np.save(OUT / f"{g.name}.input.npy", x)
    np.save(OUT / f"{g.name}.ort.npy", y)
    expect = {k: {"status": "accepted"} for k in ("swift", "torch", "reference")}
    for k, v in (notes or {}).items():
        expect[k].update(v)
    fixtures.append({"name": g.name, "status": "accepted", "ops": sorted(g.ops), "what": what, "expect": expect})


def refused(g: G, what: str, text: str, *, torch: dict | None = None, reference: dict | None = None):
    """A refused fixture: the model and, per importer, the text its one-line refusal contains.

    `text` is cssdbg's message after the file name. The reference is not a converter: by default
    it refuses the node's operator as one it does not evaluate (its own text)."""
    m = g.model()
    onnx.save(m, str(OUT / f"{g.name}.onnx"))
    expect = {"swift": {"status": "refused", "text": text}, "torch": {"status": "refused", "text": text}}
    if torch:
        expect["torch"].update(torch)
    if reference is None:
        node = g.nodes[-1] if g.nodes[-1].op_type != "Relu" else g.nodes[-2]
        reference = {"text": f"node '{node.name}' uses {node.op_type}, which the reference does not evaluate",
                     "why": "swift-only text: the reference names the operator it does not evaluate, not cssdbg's reason"}
    expect["reference"] = {"status": "refused", **reference}
    fixtures.append({"name": g.name, "status": "refused", "ops": sorted(g.ops), "what": what, "expect": expect})


def reference_evaluates(why=WHY_REFERENCE_EVALUATES):
    return {"status": "evaluates", "why": why}


# --------------------------------------------------------------------------- accepted


def accepted_fixtures():
    g = G("conv", [2, 5, 5])
    h = g.node("Conv", ["x", g.w(3, 2, 3, 3), g.w(3, scale=0.2)], pads=[1, 1, 1, 1])
    g.node("Relu", [h], "y")
    accepted(g, "Conv 3x3, pads 1, bias; Relu")

    g = G("conv-grouped-strided", [4, 6, 6])
    h = g.node("Conv", ["x", g.w(4, 2, 2, 2)], group=2, strides=[2, 2], auto_pad="SAME_UPPER", dilations=[1, 1])
    h = g.node("Relu", [h])
    g.node("Conv", [h, g.w(4, 1, 3, 3)], "y", group=4, dilations=[2, 1], pads=[2, 1, 2, 1])
    accepted(g, "grouped Conv stride 2 SAME_UPPER; depthwise dilated Conv")

    g = G("gemm", [6])
    h = g.node("Gemm", ["x", g.w(5, 6), g.w(5, scale=0.2)], transB=1, alpha=0.5, beta=2.0)
    h = g.node("Relu", [h])
    g.node("Gemm", [h, g.w(5, 3)], "y")
    accepted(g, "Gemm transB=1 alpha beta with bias; Gemm without bias")

    g = G("matmul", [6])
    h = g.node("MatMul", ["x", g.w(6, 4)])
    h = g.node("Add", [h, g.w(4, scale=0.2)])
    g.node("Relu", [h], "y")
    accepted(g, "MatMul by a constant matrix, Add bias; Relu")

    g = G("arith-constants", [2, 3, 3])
    h = g.node("Sub", ["x", g.const(np.float32(0.25))])
    h = g.node("Mul", [g.const(np.array([[[1.5]], [[-0.5]]], np.float32)), h])
    h = g.node("Div", [h, g.const(np.array([2.0], np.float32))])
    h = g.node("Add", [h, g.w(2, 3, 3, scale=0.2)])
    h = g.node("Sub", [g.const(np.float32(0.5)), h])
    g.node("Relu", [h], "y")
    accepted(g, "Sub/Mul/Div/Add with scalar, per-channel and full constants, constant first and second")

    g = G("residual", [2, 3, 3])
    a = g.node("Relu", ["x"])
    b = g.node("Conv", [a, g.w(2, 2, 1, 1)])
    s = g.node("Add", [a, b])
    d = g.node("Sub", [s, b])
    e = g.node("Sum", [d, a])
    g.node("Relu", [e], "y")
    accepted(g, "Add, Sub and Sum of two activations (residual)")

    g = G("constant-arithmetic", [4])
    scale = g.node("Sqrt", [g.const(np.array([4.0, 9.0, 0.25, 1.0], np.float32))])
    recip = g.node("Reciprocal", [g.const(np.array([2.0, 4.0, 0.5, 1.0], np.float32))])
    neg = g.node("Neg", [g.const(np.array([0.5, -0.25, 0.0, 1.0], np.float32))])
    h = g.node("Mul", ["x", scale])
    h = g.node("Mul", [h, recip])
    h = g.node("Add", [h, neg])
    g.node("Relu", [h], "y")
    accepted(g, "Sqrt, Reciprocal and Neg folded on constants, used as scale and shift")

    g = G("batchnorm", [2, 4, 4])
    h = g.node("Conv", ["x", g.w(3, 2, 3, 3)])
    h = g.node("BatchNormalization", [h, g.const(np.array([1.0, 0.5, 2.0], np.float32)), g.w(3, scale=0.2),
                                      g.w(3, scale=0.2), g.const(np.array([1.0, 0.25, 4.0], np.float32))], epsilon=1e-3)
    g.node("Relu", [h], "y")
    accepted(g, "Conv, BatchNormalization (eval mode, epsilon 1e-3); Relu")

    g = G("averagepool", [2, 5, 5])
    h = g.node("Relu", ["x"])
    h = g.node("AveragePool", [h], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], count_include_pad=0)
    g.node("AveragePool", [h], "y", kernel_shape=[2, 2], pads=[1, 0, 0, 1], count_include_pad=1)
    accepted(g, "AveragePool with pads, count_include_pad 0 and 1")

    g = G("averagepool-ceil-noop", [2, 4, 4])
    h = g.node("Relu", ["x"])
    g.node("AveragePool", [h], "y", kernel_shape=[2, 2], strides=[2, 2], ceil_mode=1)
    accepted(g, "AveragePool ceil_mode=1 where it changes nothing (4x4, kernel 2, stride 2)")

    g = G("globalaveragepool", [2, 4, 4])
    h = g.node("Conv", ["x", g.w(3, 2, 3, 3)])
    h = g.node("Relu", [h])
    h = g.node("GlobalAveragePool", [h])
    h = g.node("Flatten", [h])
    g.node("Gemm", [h, g.w(3, 2)], "y")
    accepted(g, "Conv, Relu, GlobalAveragePool, Flatten, Gemm")

    g = G("reducemean", [3, 4, 4], opset=18)
    h = g.node("Relu", ["x"])
    h = g.node("ReduceMean", [h, g.const(np.array([2, 3], np.int64))], keepdims=0)
    g.node("Gemm", [h, g.w(3, 2)], "y")
    accepted(g, "ReduceMean over axes [2,3] (axes input, opset 18), keepdims 0; Gemm")

    g = G("reshape-shape-arithmetic", [2, 3, 3])
    h = g.node("Relu", ["x"])
    shp = g.node("Shape", [h])
    n = g.node("Gather", [shp, g.const(np.array(0, np.int64))], axis=0)
    n = g.node("Unsqueeze", [n, g.const(np.array([0], np.int64))])
    size = g.node("Size", [h])
    per = g.node("Div", [size, g.node("Gather", [shp, g.const(np.array(0, np.int64))], axis=0)])
    per = g.node("Unsqueeze", [per, g.const(np.array([0], np.int64))])
    target = g.node("Concat", [n, per], axis=0)
    h = g.node("Reshape", [h, target])
    g.node("MatMul", [h, g.w(18, 3)], "y")
    accepted(g, "Reshape to [N, -1] computed by Shape, Gather, Size, Div, Unsqueeze and Concat (x.view(x.size(0), -1))")

    g = G("reshape-flatten", [2, 3, 3])
    h = g.node("Relu", ["x"])
    h = g.node("Reshape", [h, g.const(np.array([0, 6, 3], np.int64))])
    h = g.node("Flatten", [h], axis=1)
    g.node("Gemm", [h, g.w(18, 2)], "y")
    accepted(g, "Reshape to a constant shape with 0 (copy the batch), Flatten axis 1; Gemm")

    g = G("squeeze-unsqueeze", [3, 1, 4])
    h = g.node("Relu", ["x"])
    h = g.node("Squeeze", [h, g.const(np.array([2], np.int64))])
    h = g.node("Unsqueeze", [h, g.const(np.array([-1], np.int64))])
    h = g.node("Flatten", [h])
    g.node("Gemm", [h, g.w(12, 2)], "y")
    accepted(g, "Squeeze and Unsqueeze of sample dimensions (axes inputs, opset 13)")

    g = G("clip-leakyrelu-as-relu", [5])
    h = g.node("Gemm", ["x", g.w(5, 4)])
    h = g.node("Clip", [h, g.const(np.float32(0.0))])
    h = g.node("Gemm", [h, g.w(4, 4)])
    g.node("LeakyRelu", [h], "y", alpha=0.0)
    accepted(g, "Clip with min 0 and no max, LeakyRelu with alpha 0: ReLUs (spiking layers)")

    g = G("identity-dropout-cast", [4])
    h = g.node("Identity", ["x"])
    h = g.node("Cast", [h], to=TensorProto.FLOAT)
    h = g.node("Dropout", [h, g.const(np.float32(0.5))])
    h = g.node("Gemm", [h, g.w(4, 3)])
    g.node("Relu", [h], "y")
    accepted(g, "Identity, Cast of an activation to float, Dropout (inference); Relu")

    g = G("constant-folding", [3])
    w = g.node("Constant", [], value=numpy_helper.from_array(rand(g.rng, 2, 3)))  # [out, in]
    w = g.node("Transpose", [w], perm=[1, 0])
    sc = g.node("Constant", [], value_floats=[0.5, 1.0, 2.0, 4.0])
    sc = g.node("Slice", [sc, g.const(np.array([1], np.int64)), g.const(np.array([3], np.int64))])
    b = g.node("ConstantOfShape", [g.const(np.array([1], np.int64))],
               value=numpy_helper.from_array(np.array([0.25], np.float32)))
    b = g.node("Expand", [b, g.const(np.array([2], np.int64))])
    r = g.node("Range", [g.const(np.int64(1)), g.const(np.int64(3)), g.const(np.int64(1))])
    r = g.node("Cast", [r], to=TensorProto.FLOAT)
    h = g.node("MatMul", ["x", w])
    h = g.node("Mul", [h, sc])
    h = g.node("Mul", [h, r])
    h = g.node("Add", [h, b])
    g.node("Relu", [h], "y")
    accepted(g, "weights and constants from Constant, Transpose, Slice, ConstantOfShape, Expand, Range, Cast (folded)")

    g = G("pad-zero", [2, 3, 3])
    h = g.node("Pad", ["x", g.const(np.array([0, 0, 1, 0, 0, 0, 2, 1], np.int64))])
    h = g.node("Conv", [h, g.w(2, 2, 3, 3)])
    g.node("Relu", [h], "y")
    accepted(g, "Pad with zeros of H and W (pads input, opset 13); Conv")

    g = G("pad-axes-opset18", [2, 3, 3], opset=18)
    h = g.node("Relu", ["x"])
    h = g.node("Pad", [h, g.const(np.array([1, 0, 0, 1], np.int64)), g.const(np.float32(0.0)),
                       g.const(np.array([2, 3], np.int64))])
    g.node("AveragePool", [h], "y", kernel_shape=[2, 2])
    accepted(g, "Pad over axes [2,3] with value 0 (opset 18); AveragePool")


# --------------------------------------------------------------------------- refused


def one_op(name, op, in_shape=(2, 3, 3), opset=13, extra_inputs=(), relu_first=True, **attrs):
    g = G(name, list(in_shape), opset)
    h = g.node("Relu", ["x"]) if relu_first else "x"
    g.node(op, [h, *extra_inputs], "y", name="/n", **attrs)
    return g


def refused_fixtures():
    act = {}
    for op in NON_RELU:
        g = G(f"refuse-{op.lower()}", [2, 3, 3])
        h = g.node("Relu", ["x"])
        extra = {"PRelu": [g.const(np.float32(0.25))], "Pow": [g.const(np.float32(2.0))],
                 "Max": [g.const(np.float32(0.0))], "Min": [g.const(np.float32(1.0))]}.get(op, [])
        g.node(op, [h, *extra], "y", name="/n")
        act[op] = g
        refused(g, f"{op} on an activation", f"node '/n' uses {op}, which cannot be converted; only ReLU "
                "activations convert to TSA neurons; retrain with ReLU")
    for op in ("Softmax", "LogSoftmax"):
        refused(one_op(f"refuse-{op.lower()}", op), f"{op} on the logits",
                f"node '/n' uses {op}, which cannot be converted; only ReLU activations convert to TSA neurons; "
                f"export the logits without {op} (the prediction is their argmax)")
    g = G("refuse-clip-relu6", [2, 3, 3])
    h = g.node("Relu", ["x"])
    g.node("Clip", [h, g.const(np.float32(0.0)), g.const(np.float32(6.0))], "y", name="/n")
    refused(g, "Clip with max 6 (ReLU6)", "node '/n' uses Clip, which cannot be converted; only ReLU activations "
            "convert to TSA neurons; replace ReLU6/Hardtanh with ReLU and retrain")
    refused(one_op("refuse-leakyrelu", "LeakyRelu"), "LeakyRelu with the default alpha 0.01",
            "node '/n' uses LeakyRelu, which cannot be converted; only ReLU activations convert to TSA neurons; "
            "retrain with ReLU")
    refused(one_op("refuse-maxpool", "MaxPool", kernel_shape=[2, 2]), "MaxPool",
            "node '/n' uses MaxPool, which cannot be converted exactly; use AveragePool")
    refused(one_op("refuse-globalmaxpool", "GlobalMaxPool"), "GlobalMaxPool",
            "node '/n' uses GlobalMaxPool, which cannot be converted exactly; use GlobalAveragePool")
    for op in REDUCE:
        refused(one_op(f"refuse-{op.lower()}", op, axes=[2, 3]), f"{op} over the spatial axes",
                f"node '/n' uses {op}, which cannot be converted; use ReduceMean over the spatial axes or GlobalAveragePool")
    for op in NORMS:
        g = G(f"refuse-{op.lower()}", [2, 3, 3], opset=18)
        h = g.node("Relu", ["x"])
        extra = {"LayerNormalization": [g.const(np.ones(3, np.float32))],
                 "InstanceNormalization": [g.const(np.ones(2, np.float32)), g.const(np.zeros(2, np.float32))],
                 "GroupNormalization": [g.const(np.ones(2, np.float32)), g.const(np.zeros(2, np.float32))]}.get(op, [])
        attrs = {"num_groups": 1} if op == "GroupNormalization" else {}
        g.node(op, [h, *extra], "y", name="/n", **attrs)
        refused(g, f"{op} (depends on the input's statistics)",
                f"node '/n' uses {op}, which is not an affine map (it depends on the input's statistics); use BatchNormalization")

    # Index arithmetic on activations (folds on constants only).
    g = G("refuse-concat", [2, 3, 3])
    h = g.node("Relu", ["x"])
    g.node("Concat", [h, h], "y", name="/n", axis=1)
    refused(g, "channel concatenation of activations",
            "node '/n' concatenates activations, which cssdbg cannot represent; avoid channel concatenation",
            reference=reference_evaluates())
    refused(one_op("refuse-transpose", "Transpose", perm=[0, 2, 3, 1]), "Transpose of an activation",
            "node '/n' transposes an activation, which cssdbg cannot represent; keep activations in NCHW order",
            reference=reference_evaluates())
    g = G("refuse-slice", [2, 3, 3])
    h = g.node("Relu", ["x"])
    g.node("Slice", [h, g.const(np.array([0], np.int64)), g.const(np.array([1], np.int64)),
                     g.const(np.array([1], np.int64))], "y", name="/n")
    refused(g, "Slice of an activation", "node '/n' uses Slice on an activation, which cssdbg cannot represent",
            reference=reference_evaluates())
    g = G("refuse-gather", [2, 3, 3])
    h = g.node("Relu", ["x"])
    g.node("Gather", [h, g.const(np.array([0], np.int64))], "y", name="/n", axis=1)
    refused(g, "Gather of an activation", "node '/n' uses Gather on an activation, which cssdbg cannot represent",
            reference=reference_evaluates())
    g = G("refuse-expand", [1, 3, 3])
    h = g.node("Relu", ["x"])
    g.node("Expand", [h, g.const(np.array([1, 2, 3, 3], np.int64))], "y", name="/n")
    refused(g, "Expand of an activation", "node '/n' uses Expand on an activation, which cssdbg cannot represent",
            reference=reference_evaluates())
    g = G("refuse-split", [2, 3, 3])
    h = g.node("Relu", ["x"])
    g.node("Split", [h], "y", name="/n", axis=1)
    refused(g, "Split of an activation", "node '/n' uses Split on an activation, which cssdbg cannot represent")
    g = G("refuse-tile", [2, 3, 3])
    h = g.node("Relu", ["x"])
    g.node("Tile", [h, g.const(np.array([1, 2, 1, 1], np.int64))], "y", name="/n")
    refused(g, "Tile of an activation", "node '/n' uses Tile on an activation, which cssdbg cannot represent")

    # Pad that is not zero padding of H and W.
    g = G("refuse-pad-value", [2, 3, 3])
    h = g.node("Relu", ["x"])
    g.node("Pad", [h, g.const(np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64)), g.const(np.float32(1.0))], "y", name="/n")
    refused(g, "Pad with the value 1", "node '/n' pads with the value 1.0; only zero padding converts; pad with zeros",
            reference=reference_evaluates())
    g = G("refuse-pad-reflect", [2, 3, 3])
    h = g.node("Relu", ["x"])
    g.node("Pad", [h, g.const(np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64))], "y", name="/n", mode="reflect")
    refused(g, "Pad mode reflect", "node '/n' uses Pad with mode 'reflect', which cssdbg cannot represent; only zero "
            "padding converts; pad with zeros (F.pad(x, p) or the padding of Conv/AveragePool)",
            reference={"text": "Pad mode other than constant",
                       "why": "swift-only text: the reference names what it does not evaluate"})
    g = G("refuse-pad-channels", [2, 3, 3])
    h = g.node("Relu", ["x"])
    g.node("Pad", [h, g.const(np.array([0, 1, 0, 0, 0, 1, 0, 0], np.int64))], "y", name="/n")
    refused(g, "zero Pad of the channel dimension",
            "node '/n' pads dimensions other than H and W of a tensor of sample shape [2, 3, 3]; only spatial zero "
            "padding of [N,C,H,W] converts", reference=reference_evaluates())

    # Operators cssdbg does not know, and other domains.
    refused(one_op("refuse-unknown-op", "Hardmax"), "an operator the registry does not know (Hardmax)",
            f"node '/n' uses Hardmax, which cssdbg cannot convert; supported operators: {SUPPORTED}")
    g = G("refuse-custom-domain", [2, 3, 3])
    h = g.node("Relu", ["x"])
    g.node("Relu", [h], "y", name="/n", domain="com.example")
    refused(g, "Relu from a custom domain (com.example)",
            "node '/n' uses Relu from domain 'com.example', which cssdbg cannot convert; export with standard ONNX "
            "operators only (torch.onnx.export(..., optimize=True))",
            reference={"text": "node '/n' uses Relu from domain 'com.example', which the reference does not evaluate",
                       "why": "swift-only text: the reference names what it does not evaluate"})

    # Affine-map rules.
    g = G("refuse-mul-activations", [2, 3, 3])
    h = g.node("Relu", ["x"])
    g.node("Mul", [h, h], "y", name="/n")
    refused(g, "Mul of two activations", "node '/n' multiplies two activations, which is not an affine map and cannot "
            "be converted; only constant scales convert", reference=reference_evaluates())
    refused(one_op("refuse-averagepool-ceil", "AveragePool", in_shape=(2, 5, 5), kernel_shape=[2, 2], strides=[2, 2],
                   ceil_mode=1),
            "AveragePool ceil_mode=1 with partial windows",
            "node '/n' uses AveragePool with ceil_mode=1, which averages partial windows; use ceil_mode=False",
            reference={"text": "AveragePool ceil_mode=1 with partial windows",
                       "why": "swift-only text: the reference names what it does not evaluate"})
    refused(one_op("refuse-flatten-axis2", "Flatten", axis=2), "Flatten from axis 2",
            "node '/n' uses Flatten with axis 2, which mixes the batch dimension into a sample; flatten from dimension "
            "1 (torch.flatten(x, 1))", reference=reference_evaluates())

    # Operators on constants: cssdbg folds only what its registry folds.
    g = G("refuse-sigmoid-on-constant", [3])
    s = g.node("Sigmoid", [g.const(np.array([0.0, 1.0, -1.0], np.float32))], name="/n")
    h = g.node("Mul", ["x", s])
    g.node("Relu", [h], "y")
    refused(g, "Sigmoid of a constant (not evaluated at import)",
            "node '/n' uses Sigmoid on a constant, which cssdbg does not evaluate",
            reference={"status": "refused", "text": "node '/n' uses Sigmoid, which the reference does not evaluate",
                       "why": "swift-only text: the reference names the operator it does not evaluate"})
    g = G("refuse-matmul-constants", [3])
    w = g.node("MatMul", [g.w(3, 2), g.w(2, 4)], name="/n")
    h = g.node("MatMul", ["x", w])
    g.node("Relu", [h], "y")
    refused(g, "MatMul of two constants (weights computed by a product)",
            "node '/n' multiplies a constant by an activation; cssdbg needs activation × constant weights",
            reference=reference_evaluates("the reference evaluates products of constants; cssdbg lowers MatMul only "
                                          "as activation × constant weights"))
    g = G("refuse-reducesum-on-constant", [3])
    s = g.node("ReduceSum", [g.const(np.ones((2, 3), np.float32))], name="/n", keepdims=0)
    h = g.node("Mul", ["x", s])
    g.node("Relu", [h], "y")
    refused(g, "ReduceSum of a constant (cssdbg folds only what its registry folds)",
            f"node '/n' uses ReduceSum, which cssdbg cannot convert; supported operators: {SUPPORTED}",
            reference={"status": "refused", "text": "node '/n' uses ReduceSum, which the reference does not evaluate",
                       "why": "swift-only text: the reference names the operator it does not evaluate"})


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    for p in OUT.iterdir():
        if p.suffix in (".onnx", ".npy") or p.name == "manifest.json":
            p.unlink()
    accepted_fixtures()
    refused_fixtures()
    for f in fixtures:
        for k, e in f["expect"].items():
            differs = e["status"] != f["status"] or (k != "swift" and e.get("text") != f["expect"]["swift"].get("text"))
            assert not differs or e.get("why"), (f["name"], k, "differs from cssdbg without a why")
    manifest = {
        "format": "cssdbg-conformance/1",
        "about": "Generated by scripts/make_conformance.py; see its docstring. expect.IMPORTER: status 'accepted' "
                 "(NAME.input.npy through the importer's ANN gives NAME.ort.npy), 'refused' (one line containing "
                 "text) or 'evaluates' (the reference computes it; cssdbg refuses it); 'why' says why an importer "
                 "differs from cssdbg (swift).",
        "tolerance": 1e-4,
        "supported": SUPPORTED,
        "operators": dict(sorted(OPERATORS.items())),
        "fixtures": fixtures,
    }
    (OUT / "manifest.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n")
    acc = sum(f["status"] == "accepted" for f in fixtures)
    print(f"{len(fixtures)} fixtures ({acc} accepted, {len(fixtures) - acc} refused) in {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
