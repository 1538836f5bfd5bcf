"""Which ONNX initializers the lowered graph's weights come from, and how to write trained values
back into the same graph (only initializer values change: nodes, names, opset, external-data
layout stay as the exporter wrote them).

The lowered graph (onnx_import) turns Conv, Gemm, MatMul and BatchNormalization into `conv`,
`dense` and `affine` ops whose parameters are computed from initializers. A parameter is
*trainable* when the inverse map exists and touches only initializers no other node reads:

- Conv weight/bias: the initializer itself.
- Gemm weight: `alpha·B` (`B` transposed unless transB); bias `beta·C` when C has one value per
  output (a broadcast scalar bias stays frozen).
- MatMul weight: `Bᵀ`.
- BatchNormalization scale `k = γ/√(var+ε)` and shift `β − mean·k`: written as γ and β, or, where
  γ or β is shared with another node (exporters deduplicate equal constants), through var or mean.

Everything else (Mul/Add constants, shared weights) is frozen and listed as such.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np
import onnx
from onnx import numpy_helper


@dataclass
class Source:
    """How op `k`'s parameters map to initializers."""

    k: int
    kind: str  # conv, gemm, matmul, bn
    node: str
    names: dict  # role -> initializer name (weight, bias; gamma, beta, mean, var), shared or not
    owned: set  # roles whose initializer only this node reads (those may be rewritten)
    attrs: dict = field(default_factory=dict)
    trainable: tuple = ()  # lowered parameter names that may change: weight, bias, scale, shift


def _has_external(path: str) -> bool:
    m = onnx.load(path, load_external_data=False)
    return any(t.data_location == onnx.TensorProto.EXTERNAL for t in m.graph.initializer)


def analyse(model: onnx.ModelProto, graph) -> dict:
    """{op index: Source} for the conv/dense/affine ops with at least one trainable parameter."""
    inits = {t.name: t for t in model.graph.initializer}
    alias = {}
    for n in model.graph.node:  # Identity of a constant: the same initializer under another name
        if n.op_type == "Identity" and n.input and (n.input[0] in inits or n.input[0] in alias):
            alias[n.output[0]] = alias.get(n.input[0], n.input[0])

    def src(name):
        return alias.get(name, name)

    uses: dict = {}
    for n in model.graph.node:
        if n.op_type == "Identity" and n.output and n.output[0] in alias:
            continue
        for name in n.input:
            if name:
                uses[src(name)] = uses.get(src(name), 0) + 1
    for o in model.graph.output:
        uses[src(o.name)] = uses.get(src(o.name), 0) + 1

    def roles(n, spec):
        names, owned = {}, set()
        for i, r in spec:
            if i < len(n.input) and n.input[i] and src(n.input[i]) in inits:
                s = src(n.input[i])
                names[r] = s
                if uses.get(s, 0) == 1 and inits[s].data_type == onnx.TensorProto.FLOAT:
                    owned.add(r)
        return names, owned

    by_out = {n.output[0]: n for n in model.graph.node if n.output}
    out = {}
    for k, op in enumerate(graph.ops):
        if op.kind not in ("conv", "dense", "affine"):
            continue
        n = by_out.get(op.output)
        if n is None and op.output.endswith("/dense"):
            n = by_out.get(op.output[: -len("/dense")])
        if n is None:
            continue
        at = {a.name: onnx.helper.get_attribute_value(a) for a in n.attribute}
        if op.kind == "conv" and n.op_type == "Conv":
            names, owned = roles(n, [(1, "weight"), (2, "bias")])
            tr = tuple(r for r in ("weight", "bias") if r in owned and op.p.get(r) is not None)
            src_kind = "conv"
        elif op.kind == "dense" and n.op_type == "Gemm":
            names, owned = roles(n, [(1, "weight"), (2, "bias")])
            tr = ["weight"] if "weight" in owned and float(at.get("alpha", 1.0)) != 0 else []
            if "bias" in owned and op.p.get("bias") is not None and float(at.get("beta", 1.0)) != 0:
                if numpy_helper.to_array(inits[names["bias"]]).size == op.p["bias"].size > 1:
                    tr.append("bias")
            tr, src_kind = tuple(tr), "gemm"
        elif op.kind == "dense" and n.op_type == "MatMul":
            names, owned = roles(n, [(1, "weight")])
            tr, src_kind = (("weight",) if "weight" in owned else ()), "matmul"
        elif op.kind == "affine" and n.op_type == "BatchNormalization":
            names, owned = roles(n, [(1, "gamma"), (2, "beta"), (3, "mean"), (4, "var")])
            if len(names) != 4:
                continue
            # k = γ/√(var+ε) through γ (or var); shift = β − mean·k through β (or mean). A trained
            # k moves the shift, so k trains only where the shift can follow.
            shift_free = bool(owned & {"beta", "mean"})
            scale_free = bool(owned & {"gamma", "var"}) and shift_free
            tr = tuple(r for r, ok in (("scale", scale_free), ("shift", shift_free)) if ok)
            at = {"epsilon": float(np.float32(at.get("epsilon", 1e-5)))}
            src_kind = "bn"
        else:
            continue
        if tr:
            out[k] = Source(k, src_kind, n.name or n.output[0], names, owned, at, tr)
    return out


def frozen(graph, sources: dict) -> list:
    """`op name: parameter` of every weight that stays as it is."""
    res = []
    for k, op in enumerate(graph.ops):
        if op.kind not in ("conv", "dense", "affine"):
            continue
        tr = sources[k].trainable if k in sources else ()
        for r, v in op.p.items():
            if isinstance(v, np.ndarray) and r not in tr:
                res.append(f"{op.name}: {r}")
    return res


def _values(s: Source, p: dict, inits: dict) -> dict:
    """{initializer name: new array} for the trained parameters `p` of op s.k."""
    arr = lambda role: numpy_helper.to_array(inits[s.names[role]])  # noqa: E731
    new = {}
    if s.kind == "conv":
        for r in s.trainable:
            new[s.names[r]] = p[r].reshape(arr(r).shape).astype(np.float32)
    elif s.kind == "gemm":
        alpha, beta = float(s.attrs.get("alpha", 1.0)), float(s.attrs.get("beta", 1.0))
        if "weight" in s.trainable:
            w = p["weight"].astype(np.float64) / alpha
            new[s.names["weight"]] = np.ascontiguousarray(w if s.attrs.get("transB", 0) else w.T).astype(np.float32)
        if "bias" in s.trainable:
            new[s.names["bias"]] = (p["bias"].astype(np.float64) / beta).reshape(arr("bias").shape).astype(np.float32)
    elif s.kind == "matmul":
        new[s.names["weight"]] = np.ascontiguousarray(p["weight"].T).astype(np.float32)
    elif s.kind == "bn":
        eps = s.attrs["epsilon"]
        gamma, beta, mean, var = (arr(r).reshape(-1).astype(np.float64) for r in ("gamma", "beta", "mean", "var"))
        k = p["scale"].reshape(-1).astype(np.float64) if "scale" in s.trainable else gamma / np.sqrt(var + eps)
        if "scale" in s.trainable:
            if "gamma" in s.owned:
                new[s.names["gamma"]] = (k * np.sqrt(var + eps)).astype(np.float32).reshape(arr("gamma").shape)
            else:
                v = (gamma / k) ** 2 - eps
                if np.any(np.sign(gamma) != np.sign(k)) or np.any(v <= 0):
                    raise ValueError(f"{s.node}: the trained BatchNormalization scale cannot be written through its "
                                     "variance (γ is shared with another node)")
                new[s.names["var"]] = v.astype(np.float32).reshape(arr("var").shape)
        if "shift" in s.trainable:
            shift = p["shift"].reshape(-1).astype(np.float64)
            if "beta" in s.owned:
                new[s.names["beta"]] = (shift + mean * k).astype(np.float32).reshape(arr("beta").shape)
            else:
                if np.any(k == 0):
                    raise ValueError(f"{s.node}: a zero BatchNormalization scale cannot carry a shift through its mean")
                new[s.names["mean"]] = ((beta - shift) / k).astype(np.float32).reshape(arr("mean").shape)
    return new


def write_model(src_path: str, dst_path: str, sources: dict, params: dict) -> list:
    """Writes the model at `src_path` to `dst_path` with the trained values `params` ({op index:
    {lowered name: array}}), external data (`<name>.data`, the same tensors) when the source had
    it. Returns the names of the initializers rewritten."""
    model = onnx.load(src_path, load_external_data=True)
    inits = {t.name: t for t in model.graph.initializer}
    new = {}
    for k, s in sources.items():
        new.update(_values(s, params[k], inits))
    for t in model.graph.initializer:
        if t.name in new:
            t.CopyFrom(numpy_helper.from_array(np.ascontiguousarray(new[t.name]), t.name))
    if _has_external(src_path):
        loc = os.path.basename(dst_path) + ".data"
        onnx.save_model(model, dst_path, save_as_external_data=True, all_tensors_to_one_file=True, location=loc,
                        size_threshold=_external_threshold(src_path))
    else:
        onnx.save_model(model, dst_path)
    return sorted(new)


def _external_threshold(path: str) -> int:
    """The smallest externally stored tensor of the source (bytes): the same tensors go to .data."""
    m = onnx.load(path, load_external_data=False)
    sizes = []
    for t in m.graph.initializer:
        if t.data_location == onnx.TensorProto.EXTERNAL:
            ln = {e.key: e.value for e in t.external_data}.get("length")
            if ln is not None:
                sizes.append(int(ln))
    return min(sizes) if sizes else 1024
