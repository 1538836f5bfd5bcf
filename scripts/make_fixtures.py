#!/usr/bin/env python3
"""Regenerate Tests/Fixtures/onnx (small ONNX models + onnxruntime outputs) and Tests/Fixtures/ort.

Deterministic: every fixture draws its random weights from a generator seeded by its name.
For each fixture NAME this writes NAME.onnx (+ NAME.onnx.data when external), NAME.input.npy
(float32, batch 3) and NAME.ort.npy (onnxruntime output, float32); refusal fixtures have no
input/ort files. MANIFEST.md lists everything.

It also writes Tests/Fixtures/ort/<sample>.ort.npy: onnxruntime outputs on the first 64 rows of
samples/<sample>/data.npy (run scripts/make_samples.py first).

Usage:  "$(scripts/pyenv.sh)" scripts/make_fixtures.py
"""

from __future__ import annotations

import sys
import warnings
import zlib
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch
import torch.nn as nn
from onnx import TensorProto, helper, numpy_helper

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "Tests" / "Fixtures" / "onnx"
ORT_OUT = ROOT / "Tests" / "Fixtures" / "ort"
SAMPLES = ROOT / "samples"
BATCH = 3
IR_FOR_OPSET = {13: 7, 14: 7, 17: 8, 18: 8, 20: 9}

manifest: list[tuple[str, str, str, str]] = []  # (name, tests, opset, exporter)


def rng_for(name: str) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(name.encode()))


def rand(rng, *shape, scale=0.5):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def run_ort(model_path_or_bytes, x: np.ndarray) -> np.ndarray:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    sess = ort.InferenceSession(model_path_or_bytes, opts, providers=["CPUExecutionProvider"])
    return sess.run(None, {sess.get_inputs()[0].name: x})[0].astype(np.float32)


def clean(name: str):
    for suffix in (".onnx", ".onnx.data", ".input.npy", ".ort.npy"):
        p = OUT / (name + suffix)
        if p.exists():
            p.unlink()


# --------------------------------------------------------------------------- hand-built graphs


class G:
    """Tiny builder for hand-made graphs: g.init(...), g.node(...), g.save(...)."""

    def __init__(self, name: str, opset: int = 13):
        self.name = name
        self.opset = opset
        self.rng = rng_for(name)
        self.nodes = []
        self.inits = []
        self._n = 0

    def init(self, name, array, *, typed=False, dtype=None):
        array = np.asarray(array)
        if typed:
            t = helper.make_tensor(name, dtype or helper.np_dtype_to_tensor_dtype(array.dtype),
                                   list(array.shape), array.flatten().tolist(), raw=False)
        else:
            t = numpy_helper.from_array(array, name)
        self.inits.append(t)
        return name

    def node(self, op, inputs, outputs=None, **attrs):
        self._n += 1
        if outputs is None:
            outputs = [f"{op.lower()}_{self._n}"]
        elif isinstance(outputs, str):
            outputs = [outputs]
        self.nodes.append(helper.make_node(op, inputs, outputs, name=f"{op}_{self._n}", **attrs))
        return outputs[0]

    def model(self, in_shape, out_name, out_shape=None):
        in_dims = ["batch", *in_shape[1:]]
        graph = helper.make_graph(
            self.nodes, self.name,
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, in_dims)],
            [helper.make_tensor_value_info(out_name, TensorProto.FLOAT, out_shape)],
            initializer=self.inits,
        )
        m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", self.opset)],
                              producer_name="cssdbg-make_fixtures")
        m.ir_version = IR_FOR_OPSET[self.opset]
        return m


def save_hand(g: G, in_shape, out_name, tests, *, check=True, ort_model=None, write_ort=True):
    """Save a hand-built fixture; ort_model (a ModelProto) overrides the model ORT runs."""
    clean(g.name)
    m = g.model(in_shape, out_name)
    if write_ort or check:
        # ORT also tells us the output shape, which the checker wants on graph outputs
        x = rand(rng_for(g.name + "/input"), BATCH, *in_shape[1:], scale=1.0)
        target = ort_model if ort_model is not None else m
        y = run_ort(target.SerializeToString(), x)
        m = g.model(in_shape, out_name, ["batch", *y.shape[1:]])
        if write_ort:
            np.save(OUT / f"{g.name}.input.npy", x)
            np.save(OUT / f"{g.name}.ort.npy", y)
    if check:
        onnx.checker.check_model(m, full_check=True)
    onnx.save(m, str(OUT / f"{g.name}.onnx"))
    manifest.append((g.name, tests, str(g.opset), "onnx.helper (hand-built)"))


def conv_w(g, cout, cin_per_group, k, bias=True):
    kh, kw = (k, k) if isinstance(k, int) else k
    w = g.init(f"w{len(g.inits)}", rand(g.rng, cout, cin_per_group, kh, kw))
    if not bias:
        return [w]
    b = g.init(f"b{len(g.inits)}", rand(g.rng, cout, scale=0.2))
    return [w, b]


def hand_fixtures():
    # Conv with stride 2 and asymmetric pads [top, left, bottom, right]
    g = G("conv-stride2-asympads")
    y = g.node("Conv", ["x", *conv_w(g, 4, 2, 3)], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 0, 2, 1])
    g.node("Relu", [y], "y")
    save_hand(g, [BATCH, 2, 7, 6], "y", "Conv stride 2, asymmetric pads [1,0,2,1], bias; Relu")

    # Conv with auto_pad=SAME_UPPER, even kernel so the implied padding is asymmetric
    g = G("conv-same-upper")
    y = g.node("Conv", ["x", *conv_w(g, 3, 2, 4)], kernel_shape=[4, 4], strides=[2, 2], auto_pad="SAME_UPPER")
    g.node("Relu", [y], "y")
    save_hand(g, [BATCH, 2, 7, 7], "y", "Conv auto_pad=SAME_UPPER, kernel 4, stride 2 (implied asymmetric pads); Relu")

    # Grouped conv
    g = G("conv-grouped")
    y = g.node("Conv", ["x", *conv_w(g, 6, 2, 3)], kernel_shape=[3, 3], pads=[1, 1, 1, 1], group=2)
    g.node("Relu", [y], "y")
    save_hand(g, [BATCH, 4, 6, 6], "y", "Conv group=2 (4->6 channels), pads 1; Relu")

    # Depthwise conv, channel multiplier 2, no bias, dilation 1, no kernel_shape attribute
    g = G("conv-depthwise")
    y = g.node("Conv", ["x", *conv_w(g, 8, 1, 3, bias=False)], pads=[1, 1, 1, 1], group=4)
    g.node("Relu", [y], "y")
    save_hand(g, [BATCH, 4, 6, 6], "y", "depthwise Conv group=4, multiplier 2, no bias, kernel_shape inferred from weight; Relu")

    # Gemm transA=0 transB=0 alpha/beta != 1, then Gemm transB=1 with 2-D C
    g = G("gemm-alpha-beta")
    b = g.init("B", rand(g.rng, 6, 5))
    c = g.init("C", rand(g.rng, 5, scale=0.3))
    h = g.node("Gemm", ["x", b, c], alpha=0.5, beta=2.0, transA=0, transB=0)
    h = g.node("Relu", [h])
    b2 = g.init("B2", rand(g.rng, 4, 5))
    c2 = g.init("C2", rand(g.rng, 1, 4, scale=0.3))
    h = g.node("Gemm", [h, b2, c2], alpha=1.5, beta=-0.5, transB=1)
    g.node("Relu", [h], "y")
    save_hand(g, [BATCH, 6], "y", "Gemm transA=0 transB=0 alpha=0.5 beta=2 C[5]; Gemm transB=1 alpha=1.5 beta=-0.5 C[1,4]; Relu")

    # Gemm without C
    g = G("gemm-no-bias")
    h = g.node("Gemm", ["x", g.init("B", rand(g.rng, 5, 6))], transB=1)
    g.node("Relu", [h], "y")
    save_hand(g, [BATCH, 6], "y", "Gemm with only two inputs (no C), transB=1; Relu")

    # MatMul with constant weight + Add bias (both operand orders)
    g = G("matmul-add")
    h = g.node("MatMul", ["x", g.init("W1", rand(g.rng, 6, 5))])
    h = g.node("Add", [h, g.init("b1", rand(g.rng, 5, scale=0.3))])
    h = g.node("Relu", [h])
    h = g.node("MatMul", [h, g.init("W2", rand(g.rng, 5, 3))])
    h = g.node("Add", [g.init("b2", rand(g.rng, 3, scale=0.3)), h])
    g.node("Relu", [h], "y")
    save_hand(g, [BATCH, 6], "y", "MatMul x*W (constant W) + Add bias (bias second, then bias first); Relu")

    # Sub/Mul/Div by scalar constants
    g = G("arith-scalar")
    h = g.node("Sub", ["x", g.init("s_sub", np.array(0.25, np.float32))])
    h = g.node("Mul", [h, g.init("s_mul", np.array(1.5, np.float32))])
    h = g.node("Div", [h, g.init("s_div", np.array([2.0], np.float32))])
    h = g.node("Add", [h, g.init("s_add", np.array(0.125, np.float32))])
    g.node("Relu", [h], "y")
    save_hand(g, [BATCH, 3, 4, 4], "y", "Sub/Mul/Div/Add by scalar constants (rank-0 and shape [1]); Relu")

    # Sub/Mul/Div by per-channel constants [C,1,1], Mul constant-first
    g = G("arith-channel")
    h = g.node("Sub", ["x", g.init("c_sub", rand(g.rng, 3, 1, 1))])
    h = g.node("Mul", [g.init("c_mul", rand(g.rng, 3, 1, 1) + 1.0), h])
    h = g.node("Div", [h, g.init("c_div", np.array([2.0, -4.0, 0.5], np.float32).reshape(3, 1, 1))])
    h = g.node("Add", [h, g.init("c_add", rand(g.rng, 3, 1, 1))])
    g.node("Relu", [h], "y")
    save_hand(g, [BATCH, 3, 4, 4], "y", "Sub/Mul(constant first)/Div/Add by per-channel constants [C,1,1]; Relu")

    # constant-first Sub: c - x, scalar and per-channel
    g = G("sub-const-first")
    h = g.node("Sub", [g.init("c0", np.array(0.5, np.float32)), "x"])
    h = g.node("Relu", [h])
    h = g.node("Sub", [g.init("c1", rand(g.rng, 3, 1, 1)), h])
    g.node("Relu", [h], "y")
    save_hand(g, [BATCH, 3, 4, 4], "y", "constant-first Sub (c - x) with scalar c, then per-channel c[C,1,1]; Relu")

    # Unfolded BatchNormalization, standalone on the input and after Conv
    g = G("batchnorm")
    def bn_params(c):
        return [
            g.init(f"gamma{len(g.inits)}", rand(g.rng, c) + 1.0),
            g.init(f"beta{len(g.inits)}", rand(g.rng, c, scale=0.3)),
            g.init(f"mean{len(g.inits)}", rand(g.rng, c, scale=0.3)),
            g.init(f"var{len(g.inits)}", np.abs(rand(g.rng, c)) + 0.5),
        ]
    h = g.node("BatchNormalization", ["x", *bn_params(3)], epsilon=1e-3)
    h = g.node("Conv", [h, *conv_w(g, 4, 3, 3)], kernel_shape=[3, 3], pads=[1, 1, 1, 1])
    h = g.node("BatchNormalization", [h, *bn_params(4)])
    g.node("Relu", [h], "y")
    save_hand(g, [BATCH, 3, 5, 5], "y", "BatchNormalization (inference, epsilon 1e-3) on the input, Conv, BatchNormalization (default epsilon); Relu")

    # AveragePool with pads, count_include_pad 0 / 1
    for cip in (0, 1):
        g = G(f"avgpool-pads-cip{cip}")
        h = g.node("Relu", ["x"])
        g.node("AveragePool", [h], "y", kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], count_include_pad=cip)
        save_hand(g, [BATCH, 2, 7, 7], "y", f"Relu then AveragePool kernel 3 stride 2 pads 1 count_include_pad={cip}")

    # AveragePool with asymmetric pads (count_include_pad=0) and non-square kernel
    g = G("avgpool-asym")
    h = g.node("Relu", ["x"])
    g.node("AveragePool", [h], "y", kernel_shape=[2, 3], strides=[1, 2], pads=[0, 1, 1, 0])
    save_hand(g, [BATCH, 2, 5, 6], "y", "AveragePool kernel [2,3], strides [1,2], asymmetric pads [0,1,1,0], count_include_pad default 0")

    # GlobalAveragePool + Flatten + Gemm
    g = G("globalavgpool")
    h = g.node("Conv", ["x", *conv_w(g, 4, 2, 3)], kernel_shape=[3, 3], pads=[1, 1, 1, 1])
    h = g.node("Relu", [h])
    h = g.node("GlobalAveragePool", [h])
    h = g.node("Flatten", [h])
    h = g.node("Gemm", [h, g.init("W", rand(g.rng, 3, 4)), g.init("b", rand(g.rng, 3))], transB=1)
    g.node("Relu", [h], "y")
    save_hand(g, [BATCH, 2, 5, 5], "y", "Conv, Relu, GlobalAveragePool, Flatten, Gemm; Relu")

    # ReduceMean axes as input (opset 18) and attribute (opset 13)
    g = G("reducemean-axes-input", opset=18)
    h = g.node("Relu", ["x"])
    h = g.node("ReduceMean", [h, g.init("axes", np.array([2, 3], np.int64))], keepdims=1)
    h = g.node("Conv", [h, *conv_w(g, 3, 4, 1)], kernel_shape=[1, 1])
    g.node("Relu", [h], "y")
    save_hand(g, [BATCH, 4, 3, 5], "y", "ReduceMean over axes [2,3] keepdims=1, axes given as an input tensor; 1x1 Conv; Relu")

    g = G("reducemean-axes-attr", opset=13)
    h = g.node("Relu", ["x"])
    h = g.node("ReduceMean", [h], axes=[2, 3], keepdims=1)
    h = g.node("Conv", [h, *conv_w(g, 3, 4, 1)], kernel_shape=[1, 1])
    g.node("Relu", [h], "y")
    save_hand(g, [BATCH, 4, 3, 5], "y", "ReduceMean over axes [2,3] keepdims=1, axes as attribute; 1x1 Conv; Relu")

    # Flatten
    g = G("flatten")
    h = g.node("Relu", ["x"])
    h = g.node("Flatten", [h], axis=1)
    h = g.node("Gemm", [h, g.init("W", rand(g.rng, 5, 24)), g.init("b", rand(g.rng, 5))], transB=1)
    g.node("Relu", [h], "y")
    save_hand(g, [BATCH, 2, 3, 4], "y", "Relu, Flatten axis=1 of [N,2,3,4], Gemm; Relu")

    # Reshape allowzero=0 with a 0 in the shape; allowzero=1 where valid (no 0 in the shape)
    g = G("reshape-allowzero0", opset=14)
    h = g.node("Relu", ["x"])
    h = g.node("Reshape", [h, g.init("shape", np.array([0, -1], np.int64))], allowzero=0)
    h = g.node("MatMul", [h, g.init("W", rand(g.rng, 24, 5))])
    g.node("Relu", [h], "y")
    save_hand(g, [BATCH, 2, 3, 4], "y", "Reshape to [0,-1] with allowzero=0 (0 copies the batch dim); MatMul; Relu")

    g = G("reshape-allowzero1", opset=14)
    h = g.node("Relu", ["x"])
    h = g.node("Reshape", [h, g.init("shape", np.array([-1, 24], np.int64))], allowzero=1)
    h = g.node("MatMul", [h, g.init("W", rand(g.rng, 24, 5))])
    g.node("Relu", [h], "y")
    save_hand(g, [BATCH, 2, 3, 4], "y", "Reshape to [-1,24] with allowzero=1 (valid: no 0 in the shape); MatMul; Relu")

    g = G("reshape-opset13")
    h = g.node("Conv", ["x", *conv_w(g, 3, 2, 3)], kernel_shape=[3, 3])
    h = g.node("Relu", [h])
    h = g.node("Reshape", [h, g.init("shape", np.array([0, 3, -1], np.int64))])
    h = g.node("Reshape", [h, g.init("shape2", np.array([-1, 27], np.int64))])
    h = g.node("Gemm", [h, g.init("W", rand(g.rng, 4, 27)), g.init("b", rand(g.rng, 4))], transB=1)
    g.node("Relu", [h], "y")
    save_hand(g, [BATCH, 2, 5, 5], "y", "Reshape without allowzero attribute (opset 13) to [0,3,-1] then [-1,27]; Gemm; Relu")

    # Identity and Dropout (inference)
    g = G("identity-dropout")
    h = g.node("Identity", ["x"])
    h = g.node("Dropout", [h, g.init("ratio", np.array(0.3, np.float32))])
    h = g.node("Gemm", [h, g.init("W", rand(g.rng, 5, 6)), g.init("b", rand(g.rng, 5))], transB=1)
    h = g.node("Relu", [h])
    h = g.node("Dropout", [h], [f"drop_out", "drop_mask"])
    g.node("Identity", [h], "y")
    save_hand(g, [BATCH, 6], "y", "Identity; Dropout with ratio input (no training_mode: inference); Dropout with unused mask output; Relu")

    # Constant nodes instead of initializers
    g = G("constant-nodes")
    w = rand(g.rng, 6, 4)
    g.node("Constant", [], "W", value=numpy_helper.from_array(w, "W"))
    g.node("Constant", [], "b", value=numpy_helper.from_array(rand(g.rng, 4), "b"))
    g.node("Constant", [], "k", value_float=0.75)
    g.node("Constant", [], "bias_vals", value_floats=[0.1, -0.2, 0.3, 0.0])
    h = g.node("MatMul", ["x", "W"])
    h = g.node("Add", [h, "b"])
    h = g.node("Mul", [h, "k"])
    h = g.node("Add", [h, "bias_vals"])
    g.node("Relu", [h], "y")
    save_hand(g, [BATCH, 6], "y", "weights from Constant nodes (value tensor, value_float, value_floats); MatMul, Add, Mul; Relu")

    # Initializers in typed fields (float_data) rather than raw_data
    g = G("float-data")
    g.init("W", rand(g.rng, 5, 6), typed=True)
    g.init("b", rand(g.rng, 5), typed=True)
    g.init("shape", np.array([-1, 6], np.int64), typed=True)  # int64_data
    h = g.node("Reshape", ["x", "shape"])
    h = g.node("Gemm", [h, "W", "b"], transB=1)
    g.node("Relu", [h], "y")
    save_hand(g, [BATCH, 2, 3], "y", "initializers in typed fields (float_data, int64_data) instead of raw_data; Reshape, Gemm; Relu")

    # float16 / float64 initializers (invalid for ORT; reference from the float32 twin)
    for dtype, tp, tag in ((np.float16, TensorProto.FLOAT16, "fp16"), (np.float64, TensorProto.DOUBLE, "fp64")):
        name = f"weights-{tag}"
        rng = rng_for(name)
        # multiples of 1/64 in [-2, 2]: exactly representable in float16, float32 and float64
        w = (np.round(rng.standard_normal((5, 6)) * 32) / 64).clip(-2, 2)
        b = (np.round(rng.standard_normal(5) * 16) / 64).clip(-2, 2)
        models = {}
        for variant, vdtype, typed in (("real", dtype, tag == "fp64"), ("f32", np.float32, False)):
            g = G(name)
            g.init("W", w.astype(vdtype), typed=typed)
            g.init("b", b.astype(vdtype))
            h = g.node("Gemm", ["x", "W", "b"], transB=1)
            g.node("Relu", [h], "y")
            models[variant] = g
        f32 = models["f32"].model([BATCH, 6], "y")
        save_hand(models["real"], [BATCH, 6], "y",
                  f"Gemm whose initializers are {tag.upper()} ({'double_data + raw_data' if tag == 'fp64' else 'raw_data'}); "
                  "values exactly representable; graph I/O float32, so the model is type-invalid ONNX: "
                  "ort.npy comes from the float32 twin", check=False, ort_model=f32)

    # Residual Add of two branches
    g = G("residual-add")
    r0 = g.node("Relu", ["x"])
    h = g.node("Conv", [r0, *conv_w(g, 4, 4, 3)], kernel_shape=[3, 3], pads=[1, 1, 1, 1])
    h = g.node("Relu", [h])
    h = g.node("Conv", [h, *conv_w(g, 4, 4, 3)], kernel_shape=[3, 3], pads=[1, 1, 1, 1])
    h = g.node("Add", [h, r0])
    g.node("Relu", [h], "y")
    save_hand(g, [BATCH, 4, 5, 5], "y", "residual block: Relu, Conv, Relu, Conv, Add with skip, Relu (branches of different depth)")

    # Opset-20 hand-built CNN (Conv, BN, Relu, AveragePool, Flatten, Gemm)
    g = G("cnn-opset20", opset=20)
    h = g.node("Conv", ["x", *conv_w(g, 4, 1, 3)], kernel_shape=[3, 3], pads=[1, 1, 1, 1])
    h = g.node("BatchNormalization", [h, g.init("g", rand(g.rng, 4) + 1), g.init("be", rand(g.rng, 4)),
                                      g.init("m", rand(g.rng, 4)), g.init("v", np.abs(rand(g.rng, 4)) + 0.5)])
    h = g.node("Relu", [h])
    h = g.node("AveragePool", [h], kernel_shape=[2, 2], strides=[2, 2])
    h = g.node("Flatten", [h])
    h = g.node("Gemm", [h, g.init("W", rand(g.rng, 3, 36)), g.init("b", rand(g.rng, 3))], transB=1)
    g.node("Relu", [h], "y")
    save_hand(g, [BATCH, 1, 6, 6], "y", "opset 20 CNN: Conv, BatchNormalization, Relu, AveragePool, Flatten, Gemm; Relu")

    pad_fixtures()

    # Refusals
    g = G("refuse-maxpool")
    h = g.node("Conv", ["x", *conv_w(g, 2, 1, 3)], kernel_shape=[3, 3], pads=[1, 1, 1, 1])
    h = g.node("Relu", [h])
    g.node("MaxPool", [h], "y", kernel_shape=[2, 2], strides=[2, 2])
    save_hand(g, [BATCH, 1, 4, 4], "y", "REFUSAL: MaxPool is not an affine map and not a Relu", write_ort=False)

    g = G("refuse-sigmoid")
    h = g.node("Gemm", ["x", g.init("W", rand(g.rng, 3, 4)), g.init("b", rand(g.rng, 3))], transB=1)
    g.node("Sigmoid", [h], "y")
    save_hand(g, [BATCH, 4], "y", "REFUSAL: Sigmoid activation (only Relu converts)", write_ort=False)

    for name, location, what in (
        ("external-escape", "../outside.bin", "REFUSAL: external_data location escapes the model directory (../outside.bin)"),
        ("external-absolute", "/etc/passwd", "REFUSAL: external_data location is an absolute path (/etc/passwd)"),
    ):
        g = G(name)
        w = onnx.TensorProto()
        w.name = "W"
        w.data_type = TensorProto.FLOAT
        w.dims.extend([3, 4])
        w.data_location = TensorProto.EXTERNAL
        for k, v in (("location", location), ("offset", "0"), ("length", str(3 * 4 * 4))):
            e = w.external_data.add()
            e.key, e.value = k, v
        g.inits.append(w)
        h = g.node("Gemm", ["x", "W"], transB=1)
        g.node("Relu", [h], "y")
        save_hand(g, [BATCH, 4], "y", what, check=False, write_ort=False)


def pad_fixtures():
    # Pad: zero padding of H and W, pads as an input (opset 13), before a Conv
    g = G("pad-zero")
    h = g.node("Pad", ["x", g.init("pads", np.array([0, 0, 1, 0, 0, 0, 2, 1], np.int64))])
    h = g.node("Conv", [h, *conv_w(g, 3, 2, 3)], kernel_shape=[3, 3])
    g.node("Relu", [h], "y")
    save_hand(g, [BATCH, 2, 5, 5], "y", "Pad (zero, pads input [0,0,1,0,0,0,2,1]) then Conv 3x3; Relu")

    # Pad with opset 18 axes and an explicit zero value, between a Relu and an AveragePool
    g = G("pad-axes-opset18", opset=18)
    h = g.node("Relu", ["x"])
    h = g.node("Pad", [h, g.init("pads", np.array([1, 2, 0, 1], np.int64)), g.init("zero", np.array(0, np.float32)),
                       g.init("axes", np.array([2, 3], np.int64))])
    h = g.node("AveragePool", [h], kernel_shape=[2, 2], strides=[2, 2])
    g.node("Relu", [h], "y")
    save_hand(g, [BATCH, 2, 5, 5], "y", "Relu, Pad over axes [2,3] (opset 18, value 0), AveragePool 2x2; Relu")


# --------------------------------------------------------------------------- exporter fixtures


class SmallMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(12, 16)
        self.fc2 = nn.Linear(16, 8)
        self.fc3 = nn.Linear(8, 5)

    def forward(self, x):
        return self.fc3(torch.relu(self.fc2(torch.relu(self.fc1(x)))))


class PadCNN(nn.Module):
    """nn.ZeroPad2d and F.pad around a Conv, as torch exports them (Pad nodes)."""

    def __init__(self):
        super().__init__()
        self.pad = nn.ZeroPad2d((1, 2, 0, 1))  # left, right, top, bottom
        self.conv = nn.Conv2d(2, 3, 3)
        self.fc = nn.Linear(3 * 6 * 9, 4)

    def forward(self, x):
        h = torch.relu(self.conv(self.pad(x)))
        return self.fc(torch.flatten(nn.functional.pad(h, (1, 1, 1, 1)), 1))


def torch_pad_fixtures():
    torch.manual_seed(99)
    model = PadCNN().eval()
    x = rand(rng_for("zeropad/input"), BATCH, 2, 5, 6, scale=1.0)
    ex = torch.from_numpy(x)
    name = "zeropad-torchscript"
    clean(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (ex,), str(OUT / f"{name}.onnx"), dynamo=False, opset_version=17,
                          input_names=["x"], output_names=["y"], dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}})
    finish_export(name, x, "nn.ZeroPad2d + Conv + ReLU + F.pad + Linear from torch.onnx.export(dynamo=False)", 17,
                  "torch TorchScript exporter")
    name = "zeropad-dynamo"
    clean(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        prog = torch.onnx.export(model, (ex,), dynamo=True, opset_version=18, input_names=["x"], output_names=["y"],
                                 dynamic_shapes={"x": {0: torch.export.Dim("batch")}}, verbose=False)
    prog.save(str(OUT / f"{name}.onnx"), external_data=False)
    strip_metadata(OUT / f"{name}.onnx")
    finish_export(name, x, "nn.ZeroPad2d + Conv + ReLU + F.pad + Linear from torch.onnx.export(dynamo=True), weights inline", 18,
                  "torch dynamo exporter")


def torch_fixtures():
    torch_pad_fixtures()
    torch.manual_seed(1234)
    model = SmallMLP().eval()
    x = rand(rng_for("mlp/input"), BATCH, 12, scale=1.0)
    ex = torch.from_numpy(x)

    for name, opset in (("mlp-torchscript", 13), ("mlp-torchscript-opset20", 20)):
        clean(name)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(model, (ex,), str(OUT / f"{name}.onnx"), dynamo=False, opset_version=opset,
                              input_names=["x"], output_names=["y"],
                              dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}})
        finish_export(name, x, f"12-16-8-5 MLP (Linear+ReLU) from torch.onnx.export(dynamo=False)", opset, "torch TorchScript exporter")

    for name, opset, external in (("mlp-dynamo", 18, True), ("mlp-dynamo-opset20", 20, False)):
        clean(name)
        batch = torch.export.Dim("batch")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            prog = torch.onnx.export(model, (ex,), dynamo=True, opset_version=opset,
                                     input_names=["x"], output_names=["y"],
                                     dynamic_shapes={"x": {0: batch}}, verbose=False)
        prog.save(str(OUT / f"{name}.onnx"), external_data=external)
        strip_metadata(OUT / f"{name}.onnx")
        what = "12-16-8-5 MLP from torch.onnx.export(dynamo=True)" + (
            ", weights in external NAME.onnx.data" if external else ", weights inline")
        finish_export(name, x, what, opset, "torch dynamo exporter")


def strip_metadata(path: Path):
    m = onnx.load(str(path), load_external_data=False)
    for node in m.graph.node:
        del node.metadata_props[:]
    del m.metadata_props[:]
    onnx.save(m, str(path))


def finish_export(name, x, what, opset, exporter):
    np.save(OUT / f"{name}.input.npy", x)
    np.save(OUT / f"{name}.ort.npy", run_ort(str(OUT / f"{name}.onnx"), x))
    manifest.append((name, what, str(opset), exporter))


# --------------------------------------------------------------------------- samples, manifest


def sample_refs():
    ORT_OUT.mkdir(parents=True, exist_ok=True)
    for bundle in sorted(p for p in SAMPLES.iterdir() if (p / "model.onnx").exists()):
        x = np.load(bundle / "data.npy")[:64]
        y = run_ort(str(bundle / "model.onnx"), np.ascontiguousarray(x, np.float32))
        np.save(ORT_OUT / f"{bundle.name}.ort.npy", y)
        print(f"ort/{bundle.name}.ort.npy {y.shape}")


def op_list(path: Path):
    m = onnx.load(str(path), load_external_data=False)
    return ", ".join(sorted({n.op_type for n in m.graph.node}))


def write_manifest():
    lines = [
        "# ONNX fixtures",
        "",
        "Generated by `scripts/make_fixtures.py` (deterministic; weights seeded from the fixture name).",
        "For each NAME: `NAME.onnx` (+ `NAME.onnx.data` if external), `NAME.input.npy` (float32, batch 3),",
        "`NAME.ort.npy` (onnxruntime output, float32). Refusal fixtures have no input/ort files.",
        "Input tensor is `x`, output tensor is `y` in every fixture.",
        "",
        "| fixture | tests | opset | exporter | op types |",
        "|---|---|---|---|---|",
    ]
    for name, tests, opset, exporter in sorted(manifest):
        files = "+data" if (OUT / f"{name}.onnx.data").exists() else ""
        lines.append(f"| `{name}`{' (external ' + files[1:] + ')' if files else ''} | {tests} | {opset} | {exporter} | {op_list(OUT / f'{name}.onnx')} |")
    lines += [
        "",
        "Sample references: `Tests/Fixtures/ort/<sample>.ort.npy` = onnxruntime outputs on the first",
        "64 rows of `samples/<sample>/data.npy` (1 row for `coupling`).",
        "",
    ]
    (OUT / "MANIFEST.md").write_text("\n".join(lines))


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(1)
    hand_fixtures()
    torch_fixtures()
    write_manifest()
    total = sum(f.stat().st_size for f in OUT.iterdir() if f.is_file())
    print(f"{len(manifest)} fixtures, {total} bytes in {OUT.relative_to(ROOT)}")
    sample_refs()
    return 0 if total < 1024 * 1024 else 1


if __name__ == "__main__":
    sys.exit(main())
