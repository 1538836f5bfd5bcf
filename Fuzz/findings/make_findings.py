#!/usr/bin/env python3
"""Regenerates the minimized repro files in Fuzz/findings/ (see Fuzz/README.md, F1-F11).

Usage:  "$(scripts/pyenv.sh)" Fuzz/findings/make_findings.py   (needs the onnx and numpy packages)
"""
import sys
from pathlib import Path

import numpy as np
from onnx import TensorProto as TP
from onnx import helper as h
from onnx import numpy_helper as nh

HERE = Path(__file__).resolve().parent
for sub in ("onnx", "npy", "theta"):
    (HERE / sub).mkdir(exist_ok=True)
out = str(HERE / "onnx")
def model(name, nodes, inits, y_dims=None):
    x = h.make_tensor_value_info("x", TP.FLOAT, ["N", 4])
    y = h.make_tensor_value_info("y", TP.FLOAT, None)
    g = h.make_graph(nodes, name, [x], [y], initializer=inits)
    m = h.make_model(g, opset_imports=[h.make_opsetid("", 13)], ir_version=8)
    open(f"{out}/{name}.onnx", "wb").write(m.SerializeToString())
def i64(name, vals, dims=None):
    t = h.make_tensor(name, TP.INT64, dims if dims is not None else [len(vals)], vals)
    return t
def ctensor(vals, dt=TP.INT64): return h.make_tensor("v", dt, [len(vals)], vals)

# y = x + K, K a scalar constant computed by the chain ending in "K"
def add_k(name, nodes, inits):
    model(name, nodes + [h.make_node("Cast", ["K"], ["Kf"], to=1),
                         h.make_node("Add", ["x", "Kf"], ["y"])], inits)

# 1 Slice over an int64 tensor of shape [2^31, 0] (no data needed: zero elements)
empty = h.make_tensor("E", TP.INT64, [1 << 31, 0], [])
add_k("slice-empty-huge-dim", [
    h.make_node("Slice", ["E", "st", "en"], ["S"]),
    h.make_node("Size", ["S"], ["K"])], [empty, i64("st", [0]), i64("en", [1])])
# 2 Concat along axis 1 of [2^31, 0]
add_k("concat-empty-huge-outer", [
    h.make_node("Concat", ["E", "E"], ["C"], axis=1),
    h.make_node("Size", ["C"], ["K"])], [empty])
# 3 Gather along axis 1 with no indices
add_k("gather-empty-huge-outer", [
    h.make_node("Gather", ["E", "idx"], ["G"], axis=1),
    h.make_node("Size", ["G"], ["K"])], [empty, h.make_tensor("idx", TP.INT64, [0], [])])
# 4 Int64.min / -1 in a constant shape computation
add_k("div-int64-min-by-minus-one", [
    h.make_node("Div", ["a", "b"], ["K"])], [i64("a", [-(1 << 63)]), i64("b", [-1])])
# 5 (N*0) / (N*0): symbolic batch size with coefficient 0
add_k("div-zero-batch-by-itself", [
    h.make_node("Shape", ["x"], ["sh"]),
    h.make_node("Gather", ["sh", "zero"], ["n"], axis=0),
    h.make_node("Mul", ["n", "zero"], ["n0"]),
    h.make_node("Div", ["n0", "n0"], ["K"])], [h.make_tensor("zero", TP.INT64, [], [0])])
# 6 broadcast of [65536,1] and [1,65536] (both from ConstantOfShape, tiny file)
add_k("broadcast-bomb", [
    h.make_node("ConstantOfShape", ["s1"], ["A"]),
    h.make_node("ConstantOfShape", ["s2"], ["B"]),
    h.make_node("Add", ["A", "B"], ["AB"]),
    h.make_node("Size", ["AB"], ["K"])], [i64("s1", [65536, 1]), i64("s2", [1, 65536])])
# 7 ConstantOfShape [2^62, 2^62, 0] then Size (element count overflows)
add_k("constantofshape-overflow", [
    h.make_node("ConstantOfShape", ["s"], ["Z"]),
    h.make_node("Size", ["Z"], ["K"])], [i64("s", [1 << 62, 1 << 62, 0])])
# 8 Gemm with alpha = inf (non-finite weights from an attribute)
W = nh.from_array(np.ones((4, 2), np.float32), "W")
model("gemm-alpha-inf", [h.make_node("Gemm", ["x", "W"], ["g"], alpha=float("inf")),
                         h.make_node("Relu", ["g"], ["y"])], [W])
# 9 Mul of two constants overflowing to inf, used as weights
big = nh.from_array(np.full((4, 2), 3e38, np.float32), "B")
model("folded-weights-inf", [h.make_node("Mul", ["B", "B"], ["W2"]),
                             h.make_node("MatMul", ["x", "W2"], ["g"]),
                             h.make_node("Relu", ["g"], ["y"])], [big])
# 10 Transpose of ConstantOfShape [0, 2^62, 2^62] (strides overflow)
add_k("transpose-strides-overflow", [
    h.make_node("ConstantOfShape", ["s"], ["Z"]),
    h.make_node("Transpose", ["Z"], ["T"]),
    h.make_node("Shape", ["T"], ["ts"]),
    h.make_node("Size", ["T"], ["K"])], [i64("s", [0, 1 << 62, 1 << 62])])
# 12 Unsqueeze of a constant scalar with a repeated axis (found by FuzzONNXGraph)
add_k("unsqueeze-repeated-axis", [
    h.make_node("Unsqueeze", ["one", "ax"], ["U"]),
    h.make_node("Size", ["U"], ["K"])], [h.make_tensor("one", TP.INT64, [], [1]), i64("ax", [1, 1])])
# 13 A huge declared input shape (2^31 values per sample, allowed) plus a constant that must be
#    broadcast to it: constOperand materializes 2^31 indices and floats (found by FuzzONNXGraph)
xin = h.make_tensor_value_info("x", TP.FLOAT, ["N", 32768, 2, 32768])
yout = h.make_tensor_value_info("y", TP.FLOAT, None)
c = nh.from_array(np.ones((2, 1), np.float32), "c")
g = h.make_graph([h.make_node("Add", ["x", "c"], ["a"]), h.make_node("Relu", ["a"], ["y"])], "bcast", [xin], [yout], initializer=[c])
m = h.make_model(g, opset_imports=[h.make_opsetid("", 13)], ir_version=8)
open(f"{out}/broadcast-constant-to-huge-input.onnx", "wb").write(m.SerializeToString())

out = str(HERE)
# ONNX: a graph output name with CR LF; the error names it ("graph output '...' is never computed")
x = h.make_tensor_value_info("x", TP.FLOAT, ["N", 4])
y = h.make_tensor_value_info("y\r\nINJECTED", TP.FLOAT, None)
g = h.make_graph([h.make_node("Relu", ["x"], ["r"])], "crlf", [x], [y])
m = h.make_model(g, opset_imports=[h.make_opsetid("", 13)], ir_version=8)
open(f"{out}/onnx/crlf-in-name.onnx", "wb").write(m.SerializeToString())
# .npy: dtype string with CR LF ("unsupported dtype '...'")
hdr = "{'descr': '<f4\r\nINJECTED', 'fortran_order': False, 'shape': (1,), }"
hdr += " " * ((64 - (10 + len(hdr) + 1) % 64) % 64) + "\n"
b = b"\x93NUMPY\x01\x00" + len(hdr).to_bytes(2, "little") + hdr.encode("latin1") + b"\0\0\0\0"
open(f"{out}/npy/crlf-in-descr.npy", "wb").write(b)
# θ: a layer key with CR LF ("tensor '...' is not a spiking layer of this model")
open(f"{out}/theta/crlf-in-key.json", "w", newline="").write('{"format": "cssdbg-theta/1", "theta": {"input": 1, "hidden": 1, "x\\r\\nINJECTED": 1}}')
