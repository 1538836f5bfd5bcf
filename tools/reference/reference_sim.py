#!/usr/bin/env python3
"""Independent Float64 NumPy reference of docs/numerics.md (CSS coding, TSA neurons).

Walks an ONNX graph with NumPy; every Relu becomes a TSA-ReLU spiking layer and everything between
spiking layers stays an affine map applied to each coding slot. Prints one JSON object with the
schema of `cssdbg eval --json`.

    python tools/reference/reference_sim.py BUNDLE_DIR [-T 10] [--beta 1.5] [--silent 1] [--no-negative]
        [--rate] [--percentile 99.99] [--theta FILE] [--limit N] [--rounds R]
        [--attribution] [--e-mac 4.6] [--e-ac 0.9]

Besides the per-layer statistics the report has the anytime accuracy (css-spec §12), MACs,
synaptic operations, neuron steps and energy (§11) and, with --attribution, the decoupled and
exact-prefix accuracies and the culprit counts (§10).

Notes on choices the spec leaves open (kept deliberately simple):
  * the input encoder is always signed (§4); --no-negative / --rate only affect TSA-ReLU layers;
  * --rounds R runs R rounds of A.3; in each round the network is simulated once on the calibration
    inputs with the current θ and every layer's θ is rescaled from that one simulation;
  * the affine map's constant terms are scaled by 1/Σw by evaluating the map once with all its
    sources at zero (c = A(0)) and using A(x) - (1 - 1/Σw)·c, which is exact for affine maps;
    the data input of a Conv/Gemm/MatMul node, whose nonzero values are the synaptic operations,
    gets the same correction before it is counted.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper

DEFAULTS = {"T": 10, "beta": 1.5, "silent": 1, "negative": True, "percentile": 99.99}


# =========================================================================== ONNX graph in NumPy


def _attrs(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _s(v):
    return v.decode() if isinstance(v, bytes) else v


def _as_f64(a: np.ndarray) -> np.ndarray:
    return a.astype(np.float64) if np.issubdtype(a.dtype, np.floating) else a


def _same_pads(in_sizes, kernel, strides, dilations, mode):
    begins, ends = [], []
    for n, k, s, d in zip(in_sizes, kernel, strides, dilations):
        out = -(-n // s)
        total = max((out - 1) * s + (k - 1) * d + 1 - n, 0)
        small, big = total // 2, total - total // 2
        b, e = (small, big) if mode == "SAME_UPPER" else (big, small)
        begins.append(b)
        ends.append(e)
    return begins + ends


def _spatial_pads(at, in_sizes, kernel, strides, dilations):
    mode = _s(at.get("auto_pad", "NOTSET"))
    nd = len(kernel)
    if mode in ("SAME_UPPER", "SAME_LOWER"):
        return _same_pads(in_sizes, kernel, strides, dilations, mode)
    if mode == "VALID":
        return [0] * (2 * nd)
    return list(at.get("pads", [0] * (2 * nd)))


def _windows(xp, kernel, strides, dilations):
    """xp [N, C, *S] padded -> view [N, C, *out, *kernel] (strided, dilated)."""
    nd = len(kernel)
    eff = [(k - 1) * d + 1 for k, d in zip(kernel, dilations)]
    w = np.lib.stride_tricks.sliding_window_view(xp, eff, axis=tuple(range(2, 2 + nd)))
    sl = [slice(None), slice(None)]
    sl += [slice(None, None, s) for s in strides]
    sl += [slice(None, None, d) for d in dilations]
    return w[tuple(sl)]


def op_conv(node, ins):
    x, w = ins[0], ins[1]
    b = ins[2] if len(ins) > 2 and ins[2] is not None else None
    at = _attrs(node)
    nd = x.ndim - 2
    kernel = list(at.get("kernel_shape", w.shape[2:]))
    strides = list(at.get("strides", [1] * nd))
    dil = list(at.get("dilations", [1] * nd))
    group = at.get("group", 1)
    pads = _spatial_pads(at, x.shape[2:], kernel, strides, dil)
    xp = np.pad(x, [(0, 0), (0, 0)] + [(pads[i], pads[i + nd]) for i in range(nd)])
    win = _windows(xp, kernel, strides, dil)  # [N, C, *out, *k]
    cin_g = x.shape[1] // group
    cout_g = w.shape[0] // group
    letters = "ijkl"[:nd]
    outs = []
    for gi in range(group):
        wg = w[gi * cout_g:(gi + 1) * cout_g]
        xg = win[:, gi * cin_g:(gi + 1) * cin_g]
        outs.append(np.einsum(f"nc{'HWD'[:nd]}{letters},oc{letters}->no{'HWD'[:nd]}", xg, wg, optimize=True))
    y = np.concatenate(outs, axis=1)
    if b is not None:
        y = y + b.reshape((1, -1) + (1,) * nd)
    return [y]


def op_avgpool(node, ins):
    x = ins[0]
    at = _attrs(node)
    kernel = list(at["kernel_shape"])
    nd = len(kernel)
    strides = list(at.get("strides", [1] * nd))
    dil = list(at.get("dilations", [1] * nd))
    pads = _spatial_pads(at, x.shape[2:], kernel, strides, dil)
    if at.get("ceil_mode", 0):  # evaluated only where it changes no output size (as cssdbg)
        for i in range(nd):
            num = x.shape[2 + i] + pads[i] + pads[i + nd] - ((kernel[i] - 1) * dil[i] + 1)
            if num % strides[i]:
                raise NotImplementedError("AveragePool ceil_mode=1 with partial windows")
    padw = [(0, 0), (0, 0)] + [(pads[i], pads[i + nd]) for i in range(nd)]
    axes = tuple(range(-nd, 0))
    sums = _windows(np.pad(x, padw), kernel, strides, dil).sum(axis=axes)
    if at.get("count_include_pad", 0):
        return [sums / float(np.prod(kernel))]
    ones = np.pad(np.ones((1, 1) + x.shape[2:]), padw)
    counts = _windows(ones, kernel, strides, dil).sum(axis=axes)
    return [sums / counts]


def op_gemm(node, ins):
    at = _attrs(node)
    a, b = ins[0], ins[1]
    if at.get("transA", 0):
        a = a.T
    if at.get("transB", 0):
        b = b.T
    y = at.get("alpha", 1.0) * (a @ b)
    if len(ins) > 2 and ins[2] is not None:
        y = y + at.get("beta", 1.0) * ins[2]
    return [y]


def op_bn(node, ins):
    x, g, b, m, v = ins[:5]
    at = _attrs(node)
    if at.get("training_mode", 0):
        raise NotImplementedError("BatchNormalization training_mode=1")
    shp = (1, -1) + (1,) * (x.ndim - 2)
    scale = g / np.sqrt(v + at.get("epsilon", 1e-5))
    return [x * scale.reshape(shp) + (b - m * scale).reshape(shp)]


def op_reducemean(node, ins):
    at = _attrs(node)
    axes = at.get("axes")
    if len(ins) > 1 and ins[1] is not None:
        axes = [int(a) for a in ins[1]]
    if not axes:
        if at.get("noop_with_empty_axes", 0):
            return [ins[0]]
        axes = list(range(ins[0].ndim))
    return [ins[0].mean(axis=tuple(axes), keepdims=bool(at.get("keepdims", 1)))]


def op_reshape(node, ins):
    x, shape = ins[0], [int(s) for s in ins[1]]
    allowzero = _attrs(node).get("allowzero", 0)
    if not allowzero:
        shape = [x.shape[i] if s == 0 else s for i, s in enumerate(shape)]
    return [x.reshape(shape)]


def op_flatten(node, ins):
    x = ins[0]
    axis = _attrs(node).get("axis", 1)
    axis = axis + x.ndim if axis < 0 else axis
    return [x.reshape(int(np.prod(x.shape[:axis])), -1)]


def op_constant(node, ins):
    at = _attrs(node)
    if "value" in at:
        return [_as_f64(numpy_helper.to_array(at["value"]))]
    if "value_float" in at:
        return [np.array(at["value_float"], np.float64)]
    if "value_floats" in at:
        return [np.array(at["value_floats"], np.float64)]
    if "value_int" in at:
        return [np.array(at["value_int"], np.int64)]
    if "value_ints" in at:
        return [np.array(at["value_ints"], np.int64)]
    raise NotImplementedError("Constant without a supported value attribute")


def op_dropout(node, ins):
    outs = [ins[0]]
    if len(node.output) > 1:
        outs.append(np.ones(ins[0].shape, dtype=bool))
    return outs


def op_pad(node, ins):
    """Constant-mode Pad, pads and value as inputs (opset 11+) with optional axes (opset 18)."""
    at = _attrs(node)
    if _s(at.get("mode", "constant")) != "constant":
        raise NotImplementedError("Pad mode other than constant")
    x, pads = ins[0], [int(p) for p in ins[1]]
    value = float(ins[2].reshape(-1)[0]) if len(ins) > 2 and ins[2] is not None else 0.0
    axes = [int(a) % x.ndim for a in ins[3]] if len(ins) > 3 and ins[3] is not None else list(range(x.ndim))
    width = [(0, 0)] * x.ndim
    for k, a in enumerate(axes):
        width[a] = (pads[k], pads[len(axes) + k])
    return [np.pad(x, width, mode="constant", constant_values=value)]


def op_slice(node, ins):
    x = ins[0]
    starts, ends = [int(v) for v in ins[1]], [int(v) for v in ins[2]]
    axes = [int(v) for v in ins[3]] if len(ins) > 3 and ins[3] is not None else list(range(len(starts)))
    steps = [int(v) for v in ins[4]] if len(ins) > 4 and ins[4] is not None else [1] * len(starts)
    sl = [slice(None)] * x.ndim
    for a, b, e, st in zip(axes, starts, ends, steps):
        sl[a] = slice(b, e, st)
    return [x[tuple(sl)]]


def op_constant_of_shape(node, ins):
    at = _attrs(node)
    value = numpy_helper.to_array(at["value"]).reshape(-1) if "value" in at else np.zeros(1, np.float32)
    return [_as_f64(np.full([int(d) for d in ins[0]], value[0], dtype=value.dtype))]


def op_squeeze(node, ins):
    axes = [int(a) for a in ins[1]] if len(ins) > 1 and ins[1] is not None else _attrs(node).get("axes")
    return [np.squeeze(ins[0], axis=tuple(axes) if axes is not None else None)]


def op_unsqueeze(node, ins):
    x = ins[0]
    axes = [int(a) for a in ins[1]] if len(ins) > 1 and ins[1] is not None else list(_attrs(node)["axes"])
    r = x.ndim + len(axes)
    for a in sorted(a + r if a < 0 else a for a in axes):
        x = np.expand_dims(x, a)
    return [x]


def op_shape(node, ins):
    at = _attrs(node)
    shape = np.array(ins[0].shape, np.int64)
    r = len(shape)
    start, end = at.get("start", 0), at.get("end", r)
    return [shape[slice(start, end)]]


def relu_or_none(node, consts):
    """A Clip (min 0, no max) or LeakyRelu (alpha 0) that is exactly a ReLU, as a Relu node (a
    spiking layer, as cssdbg converts it); None for any other."""
    at = _attrs(node)
    if node.op_type == "LeakyRelu":
        ok = at.get("alpha", 0.01) == 0
    else:
        lo, hi = at.get("min"), at.get("max")
        if len(node.input) > 1 and node.input[1]:
            lo = float(consts[node.input[1]].reshape(-1)[0]) if node.input[1] in consts else None
        if len(node.input) > 2 and node.input[2]:
            hi = float(consts[node.input[2]].reshape(-1)[0]) if node.input[2] in consts else -math.inf
        ok = lo == 0 and (hi is None or hi >= float(np.finfo(np.float32).max))
    return onnx.helper.make_node("Relu", [node.input[0]], [node.output[0]], name=node.name) if ok else None


# ONNX TensorProto element types Cast produces in the graphs cssdbg reads.
CAST_TYPES = {1: np.float64, 10: np.float64, 11: np.float64, 16: np.float64, 6: np.int32, 7: np.int64, 9: np.bool_}

OPS = {
    "Conv": op_conv,
    "AveragePool": op_avgpool,
    "GlobalAveragePool": lambda n, i: [i[0].mean(axis=tuple(range(2, i[0].ndim)), keepdims=True)],
    "Gemm": op_gemm,
    "MatMul": lambda n, i: [np.matmul(i[0], i[1])],
    "Add": lambda n, i: [i[0] + i[1]],
    "Sub": lambda n, i: [i[0] - i[1]],
    "Mul": lambda n, i: [i[0] * i[1]],
    "Div": lambda n, i: [i[0] / i[1]],
    "Relu": lambda n, i: [np.maximum(i[0], 0.0)],
    "BatchNormalization": op_bn,
    "ReduceMean": op_reducemean,
    "Reshape": op_reshape,
    "Flatten": op_flatten,
    "Identity": lambda n, i: [i[0]],
    "Dropout": op_dropout,
    "Constant": op_constant,
    "Pad": op_pad,
    # Shape arithmetic exporters write around Pad and Reshape (TorchScript's F.pad).
    "ConstantOfShape": op_constant_of_shape,
    "Concat": lambda n, i: [np.concatenate([v for v in i if v is not None], axis=_attrs(n).get("axis", 0))],
    "Slice": op_slice,
    "Transpose": lambda n, i: [np.transpose(i[0], _attrs(n).get("perm"))],
    "Cast": lambda n, i: [i[0].astype(CAST_TYPES[_attrs(n)["to"]])],
    "Sum": lambda n, i: [sum(i[1:], i[0])],
    "Neg": lambda n, i: [-i[0]],
    "Sqrt": lambda n, i: [np.sqrt(i[0])],
    "Reciprocal": lambda n, i: [1.0 / i[0]],
    "Squeeze": op_squeeze,
    "Unsqueeze": op_unsqueeze,
    "Shape": op_shape,
    "Size": lambda n, i: [np.array(i[0].size, np.int64)],
    "Gather": lambda n, i: [np.take(i[0], i[1].astype(np.int64), axis=_attrs(n).get("axis", 0))],
    "Expand": lambda n, i: [i[0] * np.ones([int(d) for d in i[1]], dtype=i[0].dtype)],
    "Range": lambda n, i: [np.arange(i[0], i[1], i[2])],
    # Only where they are a ReLU: OnnxGraph turns those into Relu nodes and refuses the others.
    "Clip": None,
    "LeakyRelu": None,
}


class OnnxGraph:
    def __init__(self, path: Path):
        model = onnx.load(str(path))  # external data resolved next to the model
        g = model.graph
        self.consts: dict[str, np.ndarray] = {t.name: _as_f64(numpy_helper.to_array(t)) for t in g.initializer}
        self.nodes = []
        for node in g.node:
            if node.domain not in ("", "ai.onnx"):
                raise NotImplementedError(f"node '{node.name}' uses {node.op_type} from domain '{node.domain}', "
                                          "which the reference does not evaluate")
            if node.op_type not in OPS:
                raise NotImplementedError(f"node '{node.name}' uses {node.op_type}, which the reference does not evaluate")
            if OPS[node.op_type] is None:
                relu = relu_or_none(node, self.consts)
                if relu is None:
                    raise NotImplementedError(f"node '{node.name}' uses {node.op_type}, which the reference does not "
                                              "evaluate (only as a ReLU)")
                node = relu
            if node.op_type == "Constant":
                self.consts[node.output[0]] = op_constant(node, [])[0]
            else:
                self.nodes.append(node)
        inputs = [i.name for i in g.input if i.name not in self.consts]
        if len(inputs) != 1:
            raise ValueError(f"expected one graph input, got {inputs}")
        self.input = inputs[0]
        self.output = g.output[0].name
        self.relus = [n for n in self.nodes if n.op_type == "Relu"]
        # last use of each tensor, to free intermediates while walking
        self.last_use: dict[str, int] = {}
        for idx, n in enumerate(self.nodes):
            for name in n.input:
                self.last_use[name] = idx

    def run(self, x: np.ndarray, relu_hook=None, keep=(), node_hook=None):
        """Evaluate the graph; relu_hook(node, input) -> output replaces Relu nodes when given.

        node_hook(node, inputs, outputs), when given, sees every other node after it ran.
        Returns (output, {name: value for name in keep}).
        """
        env = {self.input: x}
        kept = {}
        for idx, node in enumerate(self.nodes):
            ins = [None if name == "" else (env[name] if name in env else self.consts[name]) for name in node.input]
            if node.op_type == "Relu" and relu_hook is not None:
                outs = [relu_hook(node, ins[0])]
            else:
                outs = OPS[node.op_type](node, ins)
                if node_hook is not None:
                    node_hook(node, ins, outs)
            for name, val in zip(node.output, outs):
                env[name] = val
                if name in keep:
                    kept[name] = val
            for name in set(node.input):
                if self.last_use.get(name) == idx and name != self.output and name in env and name != self.input:
                    del env[name]
        return env[self.output], kept

    def timing(self, L: int):
        """Window start d_l for every Relu (by output name), and spiking depth of the output."""
        start = {self.input: -L}
        depth = {self.input: 0}
        for node in self.nodes:
            srcs = [n for n in node.input if n in start]
            if not srcs:
                continue
            s = max(start[n] for n in srcs)
            d = max(depth[n] for n in srcs)
            if node.op_type == "Relu":
                s, d = s + L, d + 1
            for out in node.output:
                start[out], depth[out] = s, d
        return {r.output[0]: start[r.output[0]] for r in self.relus}, depth[self.output]


# =========================================================================== CSS coding


@dataclass
class Config:
    T: int
    beta: float
    silent: int
    negative: bool
    percentile: float

    @property
    def weights(self) -> np.ndarray:  # w_i = β^(T-1-i)
        return self.beta ** np.arange(self.T - 1, -1, -1, dtype=np.float64)

    @property
    def sum_w(self) -> float:
        return float(self.weights.sum())


TIE = 1e-6  # §4: u within TIE of ±1 counts as reaching it (ties fire)


def encode(x: np.ndarray, theta0: float, cfg: Config) -> np.ndarray:
    """Signed input encoder (§4), ties fire. x [N, ...] -> spikes [T, N, ...] in {-1, 0, 1}."""
    u = x.astype(np.float64) / theta0 / cfg.beta ** cfg.T
    out = np.zeros((cfg.T,) + x.shape)
    for t in range(cfg.T):
        u = cfg.beta * u
        s = np.where(u >= 1 - TIE, 1.0, np.where(u <= -1 + TIE, -1.0, 0.0))
        out[t] = s
        u = u - s
    return out


@dataclass
class NeuronResult:
    spikes: np.ndarray  # [T, M]
    target: np.ndarray  # a, [M]


def tsa_relu(X: np.ndarray, cfg: Config) -> NeuronResult:
    """TSA-ReLU (§5). X [T, M] inputs in θ units -> spikes [T, M] and target a."""
    T, L, beta = cfg.T, cfg.silent, cfg.beta
    bl = beta ** L
    v = bl / 2 if cfg.negative else bl
    h = np.zeros(X.shape[1:])
    G = np.zeros(X.shape[1:])
    S = np.zeros(X.shape)
    for k in range(T + L):
        h = beta * h + (X[k] if k < T else 0.0)
        G = beta * G
        o = np.where(h >= 0, h - G, -G)
        if k >= L:
            s = np.where(o >= v, 1.0, 0.0)
            if cfg.negative:
                s = np.where(o <= -v, -1.0, s)
            S[k - L] = s
            G = G + bl * s
    return NeuronResult(S, np.maximum(h, 0.0) / bl)


def margins(spikes: np.ndarray, a: np.ndarray, cfg: Config) -> np.ndarray:
    """Decoupling margins (§6) for k0 = 0..T+L -> [T+L+1, M]."""
    T, L = cfg.T, cfg.silent
    w = cfg.weights
    contrib = w[:, None] * spikes  # [T, M]
    cum = np.concatenate([np.zeros((1,) + a.shape), np.cumsum(contrib, axis=0)])  # cum[j] = Σ_{i<j}
    tail = np.concatenate([np.cumsum(w[::-1])[::-1], [0.0]])  # tail[j] = Σ_{i>=j} w_i
    out = np.empty((T + L + 1,) + a.shape)
    for k0 in range(T + L + 1):
        j = min(max(k0 - L, 0), T)  # slots i < j have fired before k0
        out[k0] = (1.0 + tail[j]) - np.abs(a - cum[j])
    return out


# =========================================================================== simulation


@dataclass
class LayerStats:
    name: str
    tensor: str
    neurons: int
    window_start: int
    theta: float
    residuals: list = field(default_factory=list)
    violations: np.ndarray | None = None
    first: np.ndarray | None = None
    overflow: int = 0
    coupling: int = 0
    pos: int = 0
    neg: int = 0
    sq_err: float = 0.0
    count: int = 0


class Simulator:
    def __init__(self, graph: OnnxGraph, cfg: Config, thetas: dict[str, float]):
        self.g, self.cfg, self.thetas = graph, cfg, thetas
        self.relu_names = [r.output[0] for r in graph.relus]

    def zero_world(self, sample_shape):
        """c = value of every Relu input (and of the output) with all sources set to zero."""
        consts = {}

        def hook(node, z):
            consts[node.output[0]] = z
            return np.zeros_like(z)

        out, _ = self.g.run(np.zeros((1,) + tuple(sample_shape)), relu_hook=hook)
        return consts, out

    def simulate(self, x: np.ndarray, ann_relu: dict | None, stats: dict | None, chunk=40, observer=None,
                 substitute: dict | None = None, ops: list | None = None, nonzero: dict | None = None):
        """Run the SNN on x [N, ...]. Returns decoded outputs [N, ...] in ANN units.

        If stats is given, accumulates per-layer statistics (ann_relu gives the ANN activations).
        observer(kind, lo, n, ...) sees every chunk: ("layer", lo, n, tensor, NeuronResult) per
        spiking layer and ("output", lo, n, z_out [T, n, ...]) for the output's slots.
        substitute {tensor: ("decoupled",) or ("exact", ANN activations [N, ...])} replaces the input
        schedule of those spiking layers (§10). With ops (mac_nodes), nonzero[key] accumulates the
        nonzero values of each Conv/Gemm/MatMul node's data input over all T slots (§11).
        """
        cfg = self.cfg
        T, sw, w = cfg.T, cfg.sum_w, cfg.weights
        consts, c_out = self.zero_world(x.shape[1:])
        shrink = 1.0 - 1.0 / sw
        by_key = {op.key: op for op in ops} if ops else {}

        def node_hook(node, ins, outs_):
            op = by_key.get(node.output[0])
            if op is None:
                return
            v = ins[op.data]
            if op.zero is not None:  # constants inside the affine map are scaled by 1/Σw (§3)
                v = v - shrink * op.zero
            nonzero[op.key] = nonzero.get(op.key, 0) + int(np.count_nonzero(v))

        outs = []
        for lo in range(0, len(x), chunk):
            xb = x[lo:lo + chunk].astype(np.float64)
            n = len(xb)
            s0 = encode(xb, self.thetas["input"], cfg)
            x_slots = (self.thetas["input"] * s0).reshape((T * n,) + xb.shape[1:])

            def hook(node, z):
                name = node.output[0]
                theta = self.thetas[name]
                X = (z - shrink * consts[name]) / theta  # [T*n, ...]
                shp = X.shape[1:]
                X = X.reshape(T, -1)
                if substitute is not None and name in substitute:
                    X = substituted_input(X, substitute[name], theta, lo, n, cfg)
                res = tsa_relu(X, cfg)
                if observer is not None:
                    observer("layer", lo, n, name, res)
                if stats is not None:
                    self._accumulate(stats[name], res, ann_relu[name][lo:lo + n].reshape(-1) if ann_relu else None, n)
                return (theta * res.spikes).reshape((T * n,) + shp)

            z_out, _ = self.g.run(x_slots, relu_hook=hook, node_hook=node_hook if by_key else None)
            z_out = (z_out - shrink * c_out).reshape((T, n) + z_out.shape[1:])
            if observer is not None:
                observer("output", lo, n, z_out)
            outs.append(np.tensordot(w, z_out, axes=(0, 0)))
        return np.concatenate(outs)

    def _accumulate(self, st: LayerStats, res: NeuronResult, ann: np.ndarray | None, n: int):
        cfg = self.cfg
        S, a = res.spikes, res.target
        e = cfg.weights @ S
        u = a - e
        st.residuals.append(np.abs(u))
        m = margins(S, a, cfg)
        viol = m <= 0  # [T+L+1, M]
        st.violations = st.violations + viol.sum(axis=1) if st.violations is not None else viol.sum(axis=1)
        any_v = viol.any(axis=0)
        first = np.argmax(viol, axis=0)
        hist = np.bincount(first[any_v], minlength=cfg.T + cfg.silent + 1)
        st.first = st.first + hist if st.first is not None else hist
        st.overflow += int(viol[0].sum())
        st.coupling += int((~viol[0] & any_v).sum())
        st.pos += int((S > 0).sum())
        st.neg += int((S < 0).sum())
        if ann is not None:
            st.sq_err += float(((st.theta * e - ann) ** 2).sum())
        st.count += a.size


def substituted_input(X: np.ndarray, how: tuple, theta: float, lo: int, n: int, cfg: Config) -> np.ndarray:
    """§10: the whole window's input in the first step. X [T, n*M] (θ units) -> X' [T, n*M].

    ("decoupled",): X'[0] = (Σ_k w_k X[k]) / w_0; ("exact", ann): X'[0] = (ann / θ) / w_0.
    """
    w = cfg.weights
    out = np.zeros_like(X)
    if how[0] == "decoupled":
        out[0] = (w @ X) / w[0]
    elif how[0] == "exact":
        out[0] = (how[1][lo:lo + n].reshape(-1) / theta) / w[0]
    else:
        raise ValueError(f"unknown substitution {how[0]!r}")
    return out


# =========================================================================== operations (§11)

MAC_OPS = ("Conv", "Gemm", "MatMul")
E_MAC_PJ = 4.6  # pJ per MAC (ANN), 45 nm, Horowitz 2014
E_AC_PJ = 0.9   # pJ per synaptic operation (SNN)


@dataclass
class MacNode:
    key: str                 # the node's first output (unique in the graph)
    op: str
    data: int                # index of the data input (not the weights)
    macs: int                # per sample
    in_elems: int            # data input elements per sample
    layer: str | None        # Relu tensor it is reported with; None = the graph output
    zero: np.ndarray | None  # the data input with every source at zero (None where that is 0)


def attributed_layer(graph: OnnxGraph, node) -> str | None:
    """The first Relu reached by following the node's consumers (breadth first); None = graph output."""
    consumers: dict[str, list] = {}
    for n in graph.nodes:
        for name in n.input:
            consumers.setdefault(name, []).append(n)
    queue, seen = list(node.output), set(node.output)
    while queue:
        t = queue.pop(0)
        if t == graph.output:
            return None
        nexts = consumers.get(t, [])
        for c in nexts:
            if c.op_type == "Relu":
                return c.output[0]
        for c in nexts:
            for o in c.output:
                if o not in seen:
                    seen.add(o)
                    queue.append(o)
    return None


def mac_nodes(graph: OnnxGraph, sample_shape) -> list[MacNode]:
    """Every Conv, Gemm and MatMul node with its per-sample MACs (§11), from one zero-world pass."""
    found = []

    def node_hook(node, ins, outs):
        if node.op_type not in MAC_OPS:
            return
        at = _attrs(node)
        data = 0
        if node.op_type == "MatMul" and node.input[0] in graph.consts and node.input[1] not in graph.consts:
            data = 1
        if node.op_type == "Conv":
            w = ins[1]
            per_out = int(np.prod(w.shape[1:]))  # C_in/group · kH · kW
        elif node.op_type == "Gemm":
            a = ins[0]
            per_out = int(a.shape[0] if at.get("transA", 0) else a.shape[-1])
        else:
            a = ins[0]
            per_out = int(a.shape[-1])
        v = ins[data]
        zero = np.array(v, dtype=np.float64) if np.any(v != 0) else None
        found.append(MacNode(key=node.output[0], op=node.op_type, data=data, macs=int(outs[0].size) * per_out,
                             in_elems=int(v.size), layer=attributed_layer(graph, node), zero=zero))

    graph.run(np.zeros((1,) + tuple(sample_shape)), relu_hook=lambda node, z: np.zeros_like(z), node_hook=node_hook)
    return found


def synaptic_ops(op: MacNode, nonzero_total: int, samples: int) -> float:
    """Nonzero data-input values over all T slots, per sample, × the mean fan-out MACs / input elements."""
    return nonzero_total / samples * op.macs / op.in_elems


def culprits(right: np.ndarray) -> np.ndarray:
    """right [n+1, N] (prefix j = 0..n right for sample s) -> culprit per sample, -1 where none.

    The culprit is the smallest j such that every prefix j' >= j is right (§10).
    """
    right = np.asarray(right, dtype=bool)
    suffix = np.flip(np.logical_and.accumulate(np.flip(right, axis=0), axis=0), axis=0)  # suffix[j] = all(right[j:])
    return np.where(suffix[-1], np.argmax(suffix, axis=0), -1)


def anytime_predictions(z_out: np.ndarray, w: np.ndarray) -> np.ndarray:
    """z_out [T, n, ...] -> predictions [T, n] from slots 0..k (the final decode at k = T-1)."""
    T, n = z_out.shape[0], z_out.shape[1]
    preds = np.empty((T, n), dtype=np.int64)
    for k in range(T):
        dec = np.tensordot(w, z_out, axes=(0, 0)) if k == T - 1 else np.tensordot(w[:k + 1], z_out[:k + 1], axes=(0, 0))
        preds[k] = dec.reshape(n, -1).argmax(axis=1)
    return preds


def settled_by_slot(preds: np.ndarray) -> list[int]:
    """preds [T, N] -> per k, the samples whose prediction from slots 0..j is the final one for all j >= k."""
    same = preds == preds[-1][None]
    suffix = np.flip(np.logical_and.accumulate(np.flip(same, axis=0), axis=0), axis=0)
    return [int(v) for v in suffix.sum(axis=1)]


def percentile_nonzero(values: np.ndarray, q: float) -> float:
    nz = values[values != 0]
    return float(np.percentile(nz, q)) if nz.size else 0.0


def calibrate(graph: OnnxGraph, calib: np.ndarray, cfg: Config) -> dict[str, float]:
    sw = cfg.sum_w
    names = [r.output[0] for r in graph.relus]
    _, acts = graph.run(calib.astype(np.float64), keep=set(names))
    thetas = {"input": percentile_nonzero(np.abs(calib.astype(np.float64)), cfg.percentile) / sw}
    for name in names:
        p = percentile_nonzero(acts[name], cfg.percentile)
        thetas[name] = (p if p > 0 else 1.0) / sw
    return thetas


def adjust_scale(r: float, sw: float) -> float:
    """A.3 factor s from the 99.9th percentile r of |u[T]| (θ units)."""
    d = r - 1.0
    if d <= 0:
        return 1.0
    if d > 0.05 * sw:
        return 1.0 + d / sw
    if d > 0.01 * sw:
        return 1.0 + (d - 0.01 * sw) / sw + 0.04
    return 1.0 + 4.0 * d / sw


def make_stats(graph: OnnxGraph, cfg: Config, thetas, sample_shape):
    starts, _ = graph.timing(cfg.silent)
    # neuron counts from one ANN pass on a dummy sample
    names = [r.output[0] for r in graph.relus]
    _, acts = graph.run(np.zeros((1,) + tuple(sample_shape)), keep=set(names))
    return {
        r.output[0]: LayerStats(
            name=r.name or r.output[0], tensor=r.output[0], neurons=int(acts[r.output[0]].size),
            window_start=int(starts[r.output[0]]), theta=float(thetas[r.output[0]]),
        )
        for r in graph.relus
    }


def load_bundle(bundle: Path, limit: int | None):
    """(graph, data, labels or None, calib) of a bundle; data and labels cut to the first `limit` samples."""
    graph = OnnxGraph(bundle / "model.onnx")
    data = np.load(bundle / "data.npy").astype(np.float64)
    labels = np.load(bundle / "labels.npy") if (bundle / "labels.npy").exists() else None
    calib_path = bundle / "calib.npy"
    calib = np.load(calib_path).astype(np.float64) if calib_path.exists() else data
    if limit is not None:
        data = data[:limit]
        labels = labels[:limit] if labels is not None else None
    return graph, data, labels, calib


def adjust_round(graph: OnnxGraph, calib: np.ndarray, cfg: Config, thetas: dict) -> None:
    """One A.3 round (§7): simulate the calibration inputs with the current θ, rescale every layer."""
    stats = make_stats(graph, cfg, thetas, calib.shape[1:])
    Simulator(graph, cfg, thetas).simulate(calib, None, stats)
    for name, st in stats.items():
        r = float(np.percentile(np.concatenate(st.residuals), 99.9))
        thetas[name] *= adjust_scale(r, cfg.sum_w)


def conversion_thetas(graph: OnnxGraph, calib: np.ndarray, cfg: Config, theta_override: dict | None,
                      rounds: int) -> dict[str, float]:
    thetas = calibrate(graph, calib, cfg)
    if theta_override:
        for k, v in theta_override.items():
            if k not in thetas:
                raise KeyError(f"theta file names unknown tensor {k!r}")
            thetas[k] = float(v)
    for _ in range(rounds):
        adjust_round(graph, calib, cfg, thetas)
    return thetas


def evaluate(bundle: Path, cfg: Config, theta_override: dict | None, limit: int | None, rounds: int,
             model_name: str | None = None, attribution: bool = False, e_mac: float = E_MAC_PJ,
             e_ac: float = E_AC_PJ) -> dict:
    graph, data, labels, calib = load_bundle(bundle, limit)
    thetas = conversion_thetas(graph, calib, cfg, theta_override, rounds)
    return report(graph, data, labels, cfg, thetas, model_name or bundle.resolve().name, attribution, e_mac, e_ac)


def report(graph: OnnxGraph, data: np.ndarray, labels: np.ndarray | None, cfg: Config, thetas: dict,
           model: str, attribution: bool = False, e_mac: float = E_MAC_PJ, e_ac: float = E_AC_PJ) -> dict:
    """The `cssdbg eval --json` report of data with these θ (§5, §6, §10-§12)."""
    names = [r.output[0] for r in graph.relus]
    N = len(data)
    ann_out, ann_relu = graph.run(data, keep=set(names))
    stats = make_stats(graph, cfg, thetas, data.shape[1:])
    ops = mac_nodes(graph, data.shape[1:])
    nonzero: dict[str, int] = {}
    slot_preds = []

    def observer(kind, lo, n, *rest):
        if kind == "output":
            slot_preds.append(anytime_predictions(rest[0], cfg.weights))

    sim = Simulator(graph, cfg, thetas)
    snn_out = sim.simulate(data, ann_relu, stats, observer=observer, ops=ops, nonzero=nonzero)

    ann_pred = ann_out.reshape(N, -1).argmax(axis=1)
    snn_pred = snn_out.reshape(N, -1).argmax(axis=1)
    preds = np.concatenate(slot_preds, axis=1)  # [T, N]
    assert np.array_equal(preds[-1], snn_pred)
    _, depth = graph.timing(cfg.silent)
    steps = cfg.T + cfg.silent
    syn = {op.key: synaptic_ops(op, nonzero.get(op.key, 0), N) for op in ops}

    def acc(pred):
        return float((pred == labels).mean()) if labels is not None else None

    layers = []
    for name in names:
        st = stats[name]
        res = np.concatenate(st.residuals)
        mine = [op for op in ops if op.layer == name]
        layers.append({
            "name": st.name,
            "tensor": st.tensor,
            "neurons": st.neurons,
            "window_start": st.window_start,
            "theta": st.theta,
            "residual_p999": float(np.percentile(res, 99.9)),
            "residual_max": float(res.max()),
            "over_one": int((res >= 1).sum()),
            "overflow": st.overflow,
            "coupling": st.coupling,
            "violations_by_step": [int(v) for v in st.violations],
            "first_violation_by_step": [int(v) for v in st.first],
            "spikes_positive": st.pos,
            "spikes_negative": st.neg,
            "activation_rmse": math.sqrt(st.sq_err / st.count),
            "macs": int(sum(op.macs for op in mine)),
            "synaptic_ops": float(sum(syn[op.key] for op in mine)),
            "neuron_steps": st.neurons * steps,
        })
    macs = int(sum(op.macs for op in ops))
    total_syn = float(sum(syn.values()))
    out_ops = [op for op in ops if op.layer is None]
    doc = {
        "model": model,
        "config": {"T": cfg.T, "beta": cfg.beta, "silent": cfg.silent, "negative": cfg.negative,
                   "percentile": cfg.percentile},
        "samples": int(N),
        "latency": cfg.T + (depth + 1) * cfg.silent,
        "ann_accuracy": acc(ann_pred),
        "snn_accuracy": acc(snn_pred),
        "agreement": float((snn_pred == ann_pred).mean()),
        "layers": layers,
        "anytime_accuracy": [acc(p) for p in preds] if labels is not None else None,
        "anytime_agreement": [float((p == ann_pred).mean()) for p in preds],
        "settled_by_slot": settled_by_slot(preds),
        "macs": macs,
        "synaptic_ops": total_syn,
        "neuron_steps": int(sum(l["neuron_steps"] for l in layers)),
        "e_mac_pj": e_mac,
        "e_ac_pj": e_ac,
        "energy_pj": {"ann": macs * e_mac, "snn": total_syn * e_ac},
        "output": {"macs": int(sum(op.macs for op in out_ops)),
                   "synaptic_ops": float(sum(syn[op.key] for op in out_ops))},
    }
    if attribution:
        doc.update(attribute(graph, data, labels, cfg, thetas, ann_relu, ann_pred, snn_pred, layers))
    return doc


def attribute(graph, data, labels, cfg, thetas, ann_relu, ann_pred, snn_pred, layers) -> dict:
    """§10: every layer decoupled alone, and the exact-prefix curve j = 0..n (2n more simulations).

    Adds decoupled_accuracy, decoupled_agreement and culprit_samples to each entry of layers and
    returns the top-level fields.
    """
    names = [r.output[0] for r in graph.relus]
    N = len(data)
    sim = Simulator(graph, cfg, thetas)

    def run(sub):
        return sim.simulate(data, None, None, substitute=sub).reshape(N, -1).argmax(axis=1)

    def acc(pred):
        return float((pred == labels).mean()) if labels is not None else None

    decoupled = [run({name: ("decoupled",)}) for name in names]
    prefix = [snn_pred] + [run({m: ("exact", ann_relu[m]) for m in names[:j]}) for j in range(1, len(names) + 1)]
    truth = labels if labels is not None else ann_pred
    culprit = culprits(np.stack([p == truth for p in prefix]))
    for i, (layer, pred) in enumerate(zip(layers, decoupled)):
        layer["decoupled_accuracy"] = acc(pred)
        layer["decoupled_agreement"] = float((pred == ann_pred).mean())
        layer["culprit_samples"] = int((culprit == i + 1).sum())
    return {
        "exact_prefix_accuracy": [acc(p) for p in prefix] if labels is not None else None,
        "exact_prefix_agreement": [float((p == ann_pred).mean()) for p in prefix],
        "culprit_basis": "accuracy" if labels is not None else "agreement",
        "culprit_unresolved": int((culprit < 0).sum()),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Float64 NumPy reference of docs/numerics.md")
    ap.add_argument("bundle", type=Path)
    ap.add_argument("-T", type=int, default=None)
    ap.add_argument("--beta", type=float, default=None)
    ap.add_argument("--silent", type=int, default=None)
    ap.add_argument("--no-negative", dest="negative", action="store_false", default=None)
    ap.add_argument("--rate", action="store_true", help="rate coding preset: beta=1, silent=0, no negative spikes")
    ap.add_argument("--percentile", type=float, default=None)
    ap.add_argument("--theta", type=Path, default=None, help="cssdbg-theta/1 file")
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--rounds", type=int, default=0)
    ap.add_argument("--attribution", action="store_true",
                    help="also the per-layer decoupled and exact-prefix accuracy and the culprit counts (2n+1 runs)")
    ap.add_argument("--e-mac", type=float, default=E_MAC_PJ, help=f"pJ per ANN MAC (default {E_MAC_PJ})")
    ap.add_argument("--e-ac", type=float, default=E_AC_PJ, help=f"pJ per SNN synaptic operation (default {E_AC_PJ})")
    ap.add_argument("--indent", type=int, default=None)
    args = ap.parse_args(argv)

    base = dict(DEFAULTS)
    theta_override = None
    if args.theta is not None:
        doc = json.loads(args.theta.read_text())
        if doc.get("format") != "cssdbg-theta/1":
            raise SystemExit(f"{args.theta}: not a cssdbg-theta/1 file")
        base.update({k: v for k, v in doc.get("config", {}).items() if k in base})
        theta_override = doc["theta"]
    cli = {"T": args.T, "beta": args.beta, "silent": args.silent, "negative": args.negative,
           "percentile": args.percentile}
    base.update({k: v for k, v in cli.items() if v is not None})
    if args.rate:
        base.update(beta=1.0, silent=0, negative=False)
    cfg = Config(T=int(base["T"]), beta=float(base["beta"]), silent=int(base["silent"]),
                 negative=bool(base["negative"]), percentile=float(base["percentile"]))
    result = evaluate(args.bundle, cfg, theta_override, args.limit, args.rounds, attribution=args.attribution,
                      e_mac=args.e_mac, e_ac=args.e_ac)
    print(json.dumps(result, indent=args.indent))
    return 0


if __name__ == "__main__":
    sys.exit(main())
