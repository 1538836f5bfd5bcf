"""ONNX graph → a torch graph of affine maps and ReLUs, accepting and refusing what cssdbg's
importer accepts and refuses (Sources/CSSImport/ONNX), with its one-line messages.

Nodes whose inputs are all constants are folded with NumPy (shape arithmetic such as
`x.view(x.size(0), -1)` included: the batch size is carried as a symbolic value). Every other
node must be an affine map of one activation (Conv, Gemm/MatMul, BatchNormalization,
AveragePool, GlobalAveragePool/ReduceMean, arithmetic with constants, Flatten/Reshape/Squeeze/
Unsqueeze, Identity/Dropout), a residual Add of two activations, or a Relu (a spiking layer).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field

import numpy as np
import onnx
from onnx import numpy_helper

from .errors import CSSError

SUPPORTED = ("Conv, Gemm, MatMul, Add, Sub, Mul, Div, BatchNormalization, AveragePool, "
             "GlobalAveragePool, ReduceMean, Flatten, Reshape, Squeeze, Unsqueeze, Relu, Identity, Dropout, Pad")

NON_RELU = {"Sigmoid", "Tanh", "LeakyRelu", "PRelu", "Elu", "Selu", "Celu", "Gelu", "HardSigmoid", "HardSwish",
            "Softplus", "Softsign", "Mish", "ThresholdedRelu", "Clip", "Erf", "Exp", "Log", "Abs", "Sign",
            "Sin", "Cos", "Pow", "Swish", "Shrink", "Round", "Floor", "Ceil", "Max", "Min"}

REDUCE = {"ReduceMax", "ReduceMin", "ReduceSum", "ReduceProd", "ReduceL2", "ReduceL1", "ReduceLogSumExp"}
NORMS = {"LayerNormalization", "InstanceNormalization", "GroupNormalization", "LpNormalization"}

# Every op type cssdbg's registry (ONNXOperator.registry) has an entry for, by what the entry
# does: lowers (on activations), lowers or refuses (Clip, LeakyRelu: only a ReLU converts), folds
# (constants only), folds, refused on activations, refused. The conformance suite
# (Tests/Fixtures/conformance, python/tests/test_conformance.py) checks it against the registry.
OPERATORS = {
    **{op: "lowers" for op in ("Conv", "Gemm", "MatMul", "Add", "Sub", "Mul", "Div", "Sum", "BatchNormalization",
                               "AveragePool", "GlobalAveragePool", "ReduceMean", "Flatten", "Reshape", "Squeeze",
                               "Unsqueeze", "Relu", "Identity", "Dropout", "Constant", "Cast", "Shape", "Size", "Pad")},
    "Clip": "lowers or refuses", "LeakyRelu": "lowers or refuses",
    **{op: "folds" for op in ("Neg", "Sqrt", "Reciprocal", "ConstantOfShape", "Range")},
    **{op: "folds, refused on activations" for op in ("Gather", "Concat", "Slice", "Transpose", "Expand")},
    **{op: "refused" for op in ({"Softmax", "LogSoftmax", "MaxPool", "GlobalMaxPool", "Split", "Tile"}
                                | (NON_RELU - {"Clip", "LeakyRelu"}) | REDUCE | NORMS)},
}
# What cssdbg evaluates when every input of a node is a constant (the registry's foldings and the
# lowerings that take constants); NOT_EVALUATED are refused as "on a constant", any other as an
# unknown operator.
FOLDED = {"Add", "Sub", "Mul", "Div", "Sum", "Neg", "Sqrt", "Reciprocal", "Relu", "Flatten", "Reshape", "Squeeze",
          "Unsqueeze", "ConstantOfShape", "Range", "Gather", "Concat", "Slice", "Transpose", "Expand"}
NOT_EVALUATED = NON_RELU | {"Softmax", "MaxPool"}

# The symbolic batch size inside folded shape arithmetic: no real dimension is this large, and
# products with known dims stay recognisable (multiples of it).
BATCH = 1 << 40


@dataclass
class Op:
    """One node of the lowered graph. `kind` is conv, dense, affine, add, avgpool, gap,
    reshape or relu; `p` its parameters (NumPy float32 arrays and ints)."""

    kind: str
    inputs: list
    output: str
    name: str
    shape: tuple  # per-sample output shape
    p: dict = field(default_factory=dict)


@dataclass
class Graph:
    input: str
    input_shape: tuple
    output: str
    ops: list
    name: str

    @property
    def relus(self) -> list:
        return [o for o in self.ops if o.kind == "relu"]

    def depths(self) -> dict:
        """Spiking depth (longest path, counting spiking layers) of every tensor (§2)."""
        d = {self.input: 0}
        for o in self.ops:
            m = max(d[i] for i in o.inputs)
            d[o.output] = m + 1 if o.kind == "relu" else m
        return d


def _is_operator_part(s: str) -> bool:
    """`Relu`, `Relu_3`, `LeakyRelu`: what the TorchScript exporter appends to a node's scope."""
    if not s or not s[0].isupper():
        return False
    op = s.split("_", 1)
    return op[0].isalpha() and (len(op) == 1 or op[1].isdigit())


def scope_from_node_name(node_name: str):
    """(module path, is-activation-module) from a node name, as cssdbg's `LayerScope(nodeName:)`:
    `/layer1/layer1.0/relu_1/Relu` → (`layer1.0.relu_1`, None); any other name as it is (without
    the dynamo exporter's `node_` prefix), a module; None for an empty name."""
    if not node_name:
        return None
    if not node_name.startswith("/"):
        name = node_name[5:] if node_name.startswith("node_") and len(node_name) > 5 else node_name
        return (name, True)
    parts = [p for p in node_name.split("/") if p]
    if parts and _is_operator_part(parts[-1]):
        parts.pop()
    comps: list = []
    for p in parts:  # a Sequential's child is named after its parent's scope (`block` → `block.1`)
        if comps and p.startswith(comps[-1] + "."):
            comps[-1] = p
        else:
            comps.append(p)
    return (".".join(comps), None)


def _python_strings(text: str) -> list:
    """The string elements of a Python list literal, `['', 'a.b', "c"]`."""
    out, cur, quote, esc = [], None, "'", False
    for ch in text:
        if cur is not None:
            if esc:
                cur += ch
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == quote:
                out.append(cur)
                cur = None
            else:
                cur += ch
        elif ch in ("'", '"'):
            quote, cur = ch, ""
    return out


def _scope_of(paths: list, classes) -> tuple:
    path = paths[-1] if paths else ""
    if not classes:
        return (path, None)
    cls = classes[-1]
    return (path, bool(path) and (cls == "ReLU" or cls.endswith(".ReLU")))


def exporter_scope(node):
    """Where the dynamo exporter says a node comes from (`pkg.torch.onnx.name_scopes` and
    `class_hierarchy`, or the older `namespace`), as cssdbg's importer reads it; None without it."""
    props = {p.key: p.value for p in node.metadata_props}
    if "pkg.torch.onnx.name_scopes" in props:
        s = _python_strings(props["pkg.torch.onnx.name_scopes"])
        if len(s) >= 2:
            c = _python_strings(props["pkg.torch.onnx.class_hierarchy"]) if "pkg.torch.onnx.class_hierarchy" in props else None
            return _scope_of(s[:-1], c[:-1] if c is not None and len(c) == len(s) else None)
    if "namespace" in props:
        levels = []
        for level in props["namespace"].split("/"):
            parts = [x.strip() for x in level.split(":", 1)]
            levels.append((parts[0], parts[1] if len(parts) > 1 else ""))
        if len(levels) >= 2:
            mods = levels[:-1]
            return _scope_of([m[0] for m in mods], [m[1] for m in mods])
    return None


def unique_names(scopes: list, tensors: list) -> list:
    """Display names of the spiking layers, as cssdbg makes them (`LayerNames.unique`): the module
    path; a functional relu, or one at the top level, gets `.relu`; repeats are numbered like
    PyTorch numbers repeated calls (`layer1.0.relu`, `layer1.0.relu_1`); never another layer's
    tensor name."""
    bases = [sc[0] if sc else "" for sc in scopes]
    occ: dict = {}
    for b in bases:
        occ[b] = occ.get(b, 0) + 1
    wanted = []
    for i, sc in enumerate(scopes):
        if sc is None:
            wanted.append(tensors[i])
            continue
        b, is_module = sc
        if (occ[b] > 1 or not b) and is_module is not True:
            b = "relu" if not b else b + ".relu"
        wanted.append(b or tensors[i])
    owner = {t: i for i, t in enumerate(tensors)}
    taken, names = set(), []
    for i, w in enumerate(wanted):
        name, k = w, 0
        while name in taken or owner.get(name, i) != i:
            k += 1
            name = f"{w}_{k}"
        taken.add(name)
        names.append(name)
    return names


def _attrs(node) -> dict:
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _s(v):
    return v.decode() if isinstance(v, bytes) else v


class _Refuse:
    def __init__(self, file: str, who: str):
        self.file, self.who = file, who

    def __call__(self, what: str, hint: str | None = None) -> CSSError:
        # An unnamed node is labelled `node #3 (Add)`; do not repeat the `(Add)`.
        if self.who.endswith(")") and "(" in self.who:
            tag = self.who[self.who.rindex("("):]
            if what.startswith(tag):
                return CSSError(self.file, self.who + what[len(tag):], hint)
        return CSSError(self.file, f"{self.who} {what}", hint)


def _shape_str(s) -> str:
    return "[" + ", ".join(str(int(x)) for x in s) + "]"


class _Lowerer:
    def __init__(self, model: onnx.ModelProto, file: str):
        self.model, self.g, self.file = model, model.graph, file
        self.values: dict = {}  # name -> ("const", ndarray) | ("act", ir_name, shape)
        self.ops: list[Op] = []
        self.ir_names: set = set()
        self.static_batch = None

    def fail(self, p, h=None):
        return CSSError(self.file, p, h)

    def label(self, n, i):
        return f"node '{n.name}'" if n.name else f"node #{i} ({n.op_type})"

    # ------------------------------------------------------------------ driver

    def run(self) -> Graph:
        opset = 0
        for o in self.model.opset_import:
            if o.domain in ("", "ai.onnx"):
                opset = o.version
        if opset <= 0:
            raise self.fail("declares no opset for the default ONNX domain")
        if opset < 7:
            raise self.fail(f"uses opset {opset}, which is too old", "re-export with opset_version between 13 and 20")
        self.opset = opset
        if len(self.g.sparse_initializer):
            raise self.fail("has sparse initializers, which cssdbg does not read", "export dense weights")
        inits = set()
        for t in self.g.initializer:
            if not t.name:
                raise self.fail("has an initializer without a name")
            try:
                arr = numpy_helper.to_array(t, base_dir=os.path.dirname(self.file))
            except Exception as e:  # noqa: BLE001 - any decoding problem is the file's
                raise self.fail(f"initializer '{t.name}' cannot be read ({type(e).__name__}: {e})") from None
            self.values[t.name] = ("const", self._num(arr))
            inits.add(t.name)
        self._read_input(inits)
        if len(self.g.output) != 1:
            names = ", ".join(f"'{o.name}'" for o in self.g.output)
            raise self.fail(f"has {len(self.g.output)} graph outputs ({names}); cssdbg needs exactly one",
                            "export only the logits" if len(self.g.output) else None)
        out_name = self.g.output[0].name
        order = self._order(inits)
        live = self._live(out_name)
        for i in order:
            if i in live:
                self._lower(self.g.node[i], i)
        v = self.values.get(out_name)
        if v is None:
            raise self.fail(f"graph output '{out_name}' is never computed")
        if v[0] == "const":
            raise self.fail(f"graph output '{out_name}' does not depend on the input")
        out_ir = v[1]
        if out_ir == self.input:
            out_ir = self._unique(out_name + "/identity" if out_name == self.input else out_name)
            self.ops.append(Op("affine", [self.input], out_ir, "Identity", self.input_shape))
        for o in self.ops:
            for k, a in o.p.items():
                if isinstance(a, np.ndarray) and a.dtype.kind == "f" and not np.all(np.isfinite(a)):
                    idx = int(np.argmax(~np.isfinite(a.reshape(-1))))
                    raise self.fail(f"node '{o.name}' ({o.kind}) has a NaN or infinite value in its {k} "
                                    f"({a.reshape(-1)[idx]} at index {idx}), from its attributes or constant arithmetic",
                                    "check the node's attributes (alpha, beta, epsilon) and constants for overflow")
        name = self.g.name or os.path.splitext(os.path.basename(self.file))[0]
        g = Graph(self.input, self.input_shape, out_ir, self.ops, name)
        if not g.relus:
            raise self.fail("the model has no Relu, so there is no spiking layer to convert")
        return g

    @staticmethod
    def _num(a: np.ndarray) -> np.ndarray:
        if a.dtype.kind == "f":
            return a.astype(np.float32)
        if a.dtype.kind in "iub":
            return a.astype(np.int64)
        return a

    def _read_input(self, inits):
        ins = [i for i in self.g.input if i.name not in inits]
        if len(ins) != 1:
            if not ins:
                raise self.fail("has no graph input")
            names = ", ".join(f"'{i.name}'" for i in ins)
            raise self.fail(f"has {len(ins)} graph inputs ({names}); cssdbg needs exactly one", "export a single-input model")
        vi = ins[0]
        self.input = vi.name
        tt = vi.type.tensor_type
        if not tt.HasField("shape") or not len(tt.shape.dim):
            raise self.fail(f"input '{self.input}' has no declared shape",
                            "export with a fixed sample shape (dynamic batch is fine)")
        if tt.elem_type not in (1, 10, 11, 16):
            raise self.fail(f"input '{self.input}' has element type {onnx.TensorProto.DataType.Name(tt.elem_type)}; "
                            "cssdbg needs a floating-point input")
        dims = list(tt.shape.dim)
        if dims[0].HasField("dim_value"):
            self.static_batch = dims[0].dim_value
        shape = []
        for i, d in enumerate(dims[1:]):
            if not d.HasField("dim_value"):
                raise self.fail(f"input '{self.input}' has a dynamic dimension {i + 1}; only the batch dimension may be dynamic",
                                "export with a fixed sample shape")
            if d.dim_value <= 0:
                raise self.fail(f"input '{self.input}' has an invalid dimension {d.dim_value}")
            shape.append(int(d.dim_value))
        if not shape:
            raise self.fail(f"input '{self.input}' has only a batch dimension; cssdbg needs [batch, ...sample shape]")
        self.input_shape = tuple(shape)
        self.values[self.input] = ("act", self.input, self.input_shape)
        self.ir_names.add(self.input)

    def _order(self, inits):
        producer = {}
        for i, n in enumerate(self.g.node):
            for o in n.output:
                if not o:
                    continue
                if o in producer or o in inits or o == self.input:
                    raise self.fail(f"tensor '{o}' is defined more than once (again by {self.label(n, i)})")
                producer[o] = i
        indeg = [0] * len(self.g.node)
        consumers = [[] for _ in self.g.node]
        for i, n in enumerate(self.g.node):
            for name in n.input:
                if not name:
                    continue
                if name in producer:
                    indeg[i] += 1
                    consumers[producer[name]].append(i)
                elif name not in inits and name != self.input:
                    raise self.fail(f"{self.label(n, i)} uses '{name}', which no node, initializer or input defines",
                                    "the initializer may be missing or the graph truncated")
        import heapq
        ready = [i for i in range(len(indeg)) if indeg[i] == 0]
        heapq.heapify(ready)
        order = []
        while ready:
            i = heapq.heappop(ready)
            order.append(i)
            for c in consumers[i]:
                indeg[c] -= 1
                if indeg[c] == 0:
                    heapq.heappush(ready, c)
        if len(order) < len(self.g.node):
            stuck = next(i for i in range(len(indeg)) if indeg[i] > 0)
            raise self.fail(f"the graph has a cycle through {self.label(self.g.node[stuck], stuck)}")
        return order

    def _live(self, out):
        producer = {o: i for i, n in enumerate(self.g.node) for o in n.output if o}
        live, stack = set(), [out]
        while stack:
            p = producer.get(stack.pop())
            if p is None or p in live:
                continue
            live.add(p)
            stack.extend(x for x in self.g.node[p].input if x)
        return live

    def _unique(self, base):
        name, k = base, 1
        while name in self.ir_names:
            k += 1
            name = f"{base}#{k}"
        self.ir_names.add(name)
        return name

    def _emit(self, n, i, kind, inputs, out, shape, suffix="", **p):
        name = self._unique(out + suffix)
        display = (n.name or f"{n.op_type}_{i}") + suffix
        self.ops.append(Op(kind, [x for x, _ in inputs], name, display, tuple(int(d) for d in shape), p))
        return ("act", name, tuple(int(d) for d in shape))

    # ------------------------------------------------------------------ one node

    def _lower(self, n, i):
        refuse = _Refuse(self.file, self.label(n, i))
        if n.domain not in ("", "ai.onnx"):
            raise refuse(f"uses {n.op_type} from domain '{n.domain}', which cssdbg cannot convert",
                         "export with standard ONNX operators only (torch.onnx.export(..., optimize=True))")
        if not n.output or not n.output[0]:
            raise refuse("has no output")
        out = n.output[0]
        ins = []
        for name in n.input:
            if not name:
                ins.append(None)
            elif name not in self.values:
                raise refuse(f"uses '{name}', an output cssdbg does not compute (only the first output of a node is supported)")
            else:
                ins.append(self.values[name])

        def inp(k):
            if k >= len(ins) or ins[k] is None:
                raise refuse(f"({n.op_type}) is missing input {k}")
            return ins[k]

        at = _attrs(n)
        all_const = all(v is None or v[0] == "const" for v in ins)
        op = n.op_type
        V = self.values

        def axes_of():
            """ReduceMean/Squeeze/Unsqueeze axes: the attribute (older opsets) or the second input."""
            if len(ins) > 1 and ins[1] is not None:
                if ins[1][0] != "const":
                    raise refuse("has non-constant axes")
                return [int(a) for a in ins[1][1].reshape(-1)]
            return at.get("axes")

        def relu_of(x):
            return self._emit(n, i, "relu", [(x[1], x[2])], out, x[2],
                              scope=exporter_scope(n) or scope_from_node_name(n.name))

        if op == "Constant":
            V[out] = ("const", self._constant(at, refuse))
        elif op in ("Identity", "Dropout"):
            V[out] = inp(0)
        elif op == "Cast":
            to = at.get("to", 1)
            x = inp(0)
            is_float = to in (1, 10, 11, 16)
            if x[0] == "const":
                c = x[1]
                V[out] = ("const", c.astype(np.float32) if is_float else np.trunc(c).astype(np.int64))
            else:
                if not is_float:
                    raise refuse("casts an activation to a non-float type, which cannot be converted")
                V[out] = x
        elif op == "Shape":
            x = inp(0)
            full = list(x[1].shape) if x[0] == "const" else [BATCH] + list(x[2])
            r = len(full)
            clamp = lambda a: max(0, min(r, a + r if a < 0 else a))  # noqa: E731
            st, en = clamp(at.get("start", 0)), clamp(at.get("end", r))
            V[out] = ("const", np.array(full[st:en] if st < en else [], dtype=np.int64))
        elif op == "Size":
            x = inp(0)
            V[out] = ("const", np.array(x[1].size if x[0] == "const" else BATCH * int(np.prod(x[2])), dtype=np.int64))
        elif op == "Relu" and not all_const:
            V[out] = relu_of(inp(0))
        elif op == "Clip" and not all_const:
            lo = at.get("min")
            hi = at.get("max")
            if len(ins) > 1 and ins[1] is not None and ins[1][0] == "const":
                lo = float(ins[1][1].reshape(-1)[0])
            if len(ins) > 2 and ins[2] is not None and ins[2][0] == "const":
                hi = float(ins[2][1].reshape(-1)[0])
            x = inp(0)
            if not (lo == 0 and (hi is None or hi == math.inf or hi >= np.finfo(np.float32).max) and x[0] == "act"):
                raise refuse("uses Clip, which cannot be converted; only ReLU activations convert to TSA neurons",
                             "replace ReLU6/Hardtanh with ReLU and retrain")
            V[out] = relu_of(x)
        elif op == "LeakyRelu" and at.get("alpha", 0.01) == 0 and not all_const:
            x = inp(0)
            if x[0] != "act":
                raise refuse("has a constant input")
            V[out] = relu_of(x)
        elif op in ("Add", "Sub", "Mul", "Div") and not all_const:
            V[out] = self._binary(n, i, op, inp(0), inp(1), out, refuse)
        elif op == "Sum" and len(ins) == 2 and not all_const:
            V[out] = self._binary(n, i, "Add", inp(0), inp(1), out, refuse)
        elif op == "BatchNormalization":
            x = inp(0)
            if x[0] != "act":
                raise refuse("normalises a constant; only activations are supported")
            if at.get("training_mode", 0) != 0:
                raise refuse("uses BatchNormalization in training mode", "export the model in eval() mode")
            s = x[2]
            eps = float(np.float32(at.get("epsilon", 1e-5)))
            p = []
            for k in range(1, 5):
                c = inp(k)
                if c[0] != "const" or c[1].dtype.kind != "f":
                    raise refuse("uses BatchNormalization with non-constant parameters")
                if c[1].size != s[0]:
                    raise refuse(f"has BatchNormalization parameters of {c[1].size} values for {s[0]} channels")
                p.append(c[1].reshape(-1).astype(np.float64))
            v = p[3] + eps
            if np.any(v <= 0):
                raise refuse(f"has a non-positive BatchNormalization variance in channel {int(np.argmax(v <= 0))}")
            k = p[0] / np.sqrt(v)
            shift = (p[1] - p[2] * k).astype(np.float32)
            bshape = (s[0],) + (1,) * (len(s) - 1)
            V[out] = self._emit(n, i, "affine", [(x[1], s)], out, s,
                                scale=k.astype(np.float32).reshape(bshape), shift=shift.reshape(bshape))
        elif op == "Conv":
            V[out] = self._conv(n, i, ins, at, out, refuse)
        elif op == "Gemm":
            V[out] = self._gemm(n, i, ins, at, out, refuse)
        elif op == "MatMul":
            V[out] = self._matmul(n, i, ins, out, refuse)
        elif op == "AveragePool":
            x = inp(0)
            if x[0] != "act" or len(x[2]) != 3:
                raise refuse("uses AveragePool on a tensor that is not [N,C,H,W]; only 2-D pooling converts")
            k = at.get("kernel_shape")
            if not k or len(k) != 2 or any(a <= 0 for a in k):
                raise refuse("uses AveragePool without a valid 2-D kernel_shape")
            if any(d != 1 for d in at.get("dilations", [1, 1])):
                raise refuse("uses a dilated AveragePool, which cssdbg does not support")
            st = self._pair(at.get("strides"), "strides", refuse)
            s = x[2]
            pads = self._pads(at, s[1:], k, st, (1, 1), refuse)
            if at.get("ceil_mode", 0):
                def sizes(ceil):
                    def o(i_, p_, k_, s_):
                        num = i_ + p_ - k_
                        return (-(-num // s_) if ceil else num // s_) + 1
                    return o(s[1], pads[0] + pads[2], k[0], st[0]), o(s[2], pads[1] + pads[3], k[1], st[1])
                if sizes(True) != sizes(False):
                    raise refuse("uses AveragePool with ceil_mode=1, which averages partial windows", "use ceil_mode=False")
            oh = (s[1] + pads[0] + pads[2] - k[0]) // st[0] + 1
            ow = (s[2] + pads[1] + pads[3] - k[1]) // st[1] + 1
            if oh <= 0 or ow <= 0:
                raise refuse(f"(AveragePool): its window does not fit the input {_shape_str(s)}")
            V[out] = self._emit(n, i, "avgpool", [(x[1], s)], out, (s[0], oh, ow), kernel=tuple(k), stride=st,
                                pads=pads, count_include_pad=bool(at.get("count_include_pad", 0)))
        elif op == "GlobalAveragePool":
            x = inp(0)
            if x[0] != "act" or len(x[2]) != 3:
                raise refuse("uses GlobalAveragePool on a tensor that is not [N,C,H,W]")
            V[out] = self._emit(n, i, "gap", [(x[1], x[2])], out, (x[2][0], 1, 1), keep=True)
        elif op == "ReduceMean" and not all_const:
            x = inp(0)
            if x[0] != "act":
                raise refuse("has no activation input")
            axes = axes_of()
            s = x[2]
            r = len(s) + 1
            norm = {a + r if a < 0 else a for a in (axes or [])}
            if not (len(s) == 3 and norm == {2, 3} and len(axes or []) == 2):
                ax = str(list(axes)) if axes is not None else "all"
                raise refuse(f"uses ReduceMean over axes {ax.replace(' ', '')} of a rank-{r} tensor; only the spatial axes {{2,3}} of [N,C,H,W] convert",
                             "use GlobalAveragePool or mean over dims (2, 3)")
            keep = at.get("keepdims", 1) != 0
            V[out] = self._emit(n, i, "gap", [(x[1], s)], out, (s[0], 1, 1) if keep else (s[0],), keep=keep)
        elif op == "Flatten" and not all_const:
            x = inp(0)
            axis = at.get("axis", 1)
            r = len(x[2]) + 1
            if (axis + r if axis < 0 else axis) != 1:
                raise refuse(f"uses Flatten with axis {axis}, which mixes the batch dimension into a sample",
                             "flatten from dimension 1 (torch.flatten(x, 1))")
            V[out] = self._reshape(n, i, x, (int(np.prod(x[2])),), out)
        elif op == "Reshape" and not all_const:
            x = inp(0)
            if x[0] != "act":
                raise refuse("reshapes a constant by a computed shape")
            t = inp(1)
            if t[0] != "const":
                raise refuse("reshapes to a shape that is not a constant", "reshape with x.flatten(1) or x.view(x.size(0), -1)")
            V[out] = self._reshape(n, i, x, self._reshape_target([int(v) for v in t[1].reshape(-1)], x[2],
                                                                  at.get("allowzero", 0) != 0, refuse), out)
        elif op in ("Squeeze", "Unsqueeze") and not all_const:
            x = inp(0)
            if x[0] != "act":
                raise refuse("has no activation input")
            axes = axes_of()
            full = [-1] + list(x[2])
            if op == "Squeeze":
                r = len(full)
                sset = {a + r if a < 0 else a for a in axes} if axes is not None else {k for k in range(1, r) if full[k] == 1}
                if 0 in sset or any(not (0 <= a < r) or full[a] != 1 for a in sset) or (axes is not None and len(axes) != len(sset)):
                    raise refuse(f"squeezes axes {list(axes or [])} of a tensor of sample shape {_shape_str(x[2])}, which cssdbg cannot do")
                full = [d for k, d in enumerate(full) if k not in sset]
            else:
                if axes is None:
                    raise refuse("has no axes")
                r = len(full) + len(axes)
                norm = sorted(a + r if a < 0 else a for a in axes)
                if len(set(norm)) != len(norm) or 0 in norm or any(not (0 <= a < r) for a in norm):
                    raise refuse(f"unsqueezes axes {list(axes)}, which would touch the batch dimension")
                for a in norm:
                    full.insert(a, 1)
            if full[0] != -1 or len(full) < 2:
                raise refuse("would leave a sample without dimensions")
            V[out] = self._reshape(n, i, x, tuple(full[1:]), out)
        elif all_const and op in NOT_EVALUATED:
            raise refuse(f"uses {op} on a constant, which cssdbg does not evaluate")
        elif all_const and (op not in FOLDED or (op == "Sum" and len(ins) != 2)):
            raise refuse(f"uses {op}, which cssdbg cannot convert", f"supported operators: {SUPPORTED}")
        elif all_const:
            try:
                V[out] = ("const", self._fold(n, [None if v is None else v[1] for v in ins], at))
            except CSSError:
                raise
            except Exception as e:  # noqa: BLE001
                raise refuse(f"({op}): cannot fold constants ({e})") from None
        elif op == "MaxPool":
            raise refuse("uses MaxPool, which cannot be converted exactly", "use AveragePool")
        elif op == "GlobalMaxPool":
            raise refuse("uses GlobalMaxPool, which cannot be converted exactly", "use GlobalAveragePool")
        elif op in REDUCE:
            raise refuse(f"uses {op}, which cannot be converted", "use ReduceMean over the spatial axes or GlobalAveragePool")
        elif op in ("Softmax", "LogSoftmax"):
            raise refuse(f"uses {op}, which cannot be converted; only ReLU activations convert to TSA neurons",
                         f"export the logits without {op} (the prediction is their argmax)")
        elif op in NON_RELU:
            raise refuse(f"uses {op}, which cannot be converted; only ReLU activations convert to TSA neurons", "retrain with ReLU")
        elif op == "Concat":
            raise refuse("concatenates activations, which cssdbg cannot represent", "avoid channel concatenation")
        elif op == "Transpose":
            raise refuse("transposes an activation, which cssdbg cannot represent", "keep activations in NCHW order")
        elif op == "Pad" and not all_const:
            V[out] = self._zero_pad(n, i, ins, at, out, refuse)
        elif op in NORMS:
            raise refuse(f"uses {op}, which is not an affine map (it depends on the input's statistics)", "use BatchNormalization")
        elif op in ("Gather", "Slice", "Split", "Expand", "Tile"):
            raise refuse(f"uses {op} on an activation, which cssdbg cannot represent")
        else:
            # an operator the registry refuses by name never gets the unknown operator's message
            assert OPERATORS.get(op) in (None, "lowers", "folds"), f"{op} is in OPERATORS but not handled"
            raise refuse(f"uses {op}, which cssdbg cannot convert", f"supported operators: {SUPPORTED}")

    # ------------------------------------------------------------------ helpers

    def _constant(self, at, refuse):
        if "value" in at:
            return self._num(numpy_helper.to_array(at["value"]))
        if "value_float" in at:
            return np.array(at["value_float"], np.float32)
        if "value_floats" in at:
            return np.array(at["value_floats"], np.float32)
        if "value_int" in at:
            return np.array(at["value_int"], np.int64)
        if "value_ints" in at:
            return np.array(at["value_ints"], np.int64)
        raise self.fail(f"{refuse.who} is a Constant of a kind cssdbg does not read (sparse or string)")

    def _const_operand(self, c: np.ndarray, s: tuple, refuse) -> np.ndarray:
        if c.dtype.kind != "f":
            if np.any(np.abs(c) >= BATCH):
                raise refuse("does arithmetic with the batch size on an activation")
            c = c.astype(np.float32)
        r = len(s)
        if c.ndim > r + 1:
            raise refuse(f"combines an activation of sample shape {_shape_str(s)} with a constant of shape "
                         f"{_shape_str(c.shape)}, which has more dimensions")
        padded = (1,) * (r + 1 - c.ndim) + tuple(c.shape)
        if padded[0] != 1:
            raise refuse(f"uses a constant of shape {_shape_str(c.shape)} that varies over the batch dimension")
        for k in range(r):
            if padded[k + 1] not in (1, s[k]):
                raise refuse(f"uses a constant of shape {_shape_str(c.shape)} that does not broadcast to the "
                             f"activation's sample shape {_shape_str(s)}")
        return c.reshape(padded[1:]).astype(np.float32)

    def _binary(self, n, i, op, a, b, out, refuse):
        if a[0] == "act" and b[0] == "act":
            if op not in ("Add", "Sub"):
                raise refuse(f"{'multiplies' if op == 'Mul' else 'divides'} two activations, which is not an affine map and cannot be converted",
                             "only constant scales convert")
            if a[2] != b[2]:
                raise refuse(f"adds activations of different sample shapes {_shape_str(a[2])} and {_shape_str(b[2])}; "
                             "only same-shape residual adds convert")
            rhs = b[1]
            if op == "Sub":
                rhs = self._emit(n, i, "affine", [(b[1], b[2])], out, b[2], suffix="/negate",
                                 scale=np.array(-1, np.float32).reshape((1,) * len(b[2])))[1]
            return self._emit(n, i, "add", [(a[1], a[2]), (rhs, b[2])], out, a[2])
        if a[0] == "act":
            x, c = a, self._const_operand(b[1], a[2], refuse)
            if op == "Div" and np.any(c == 0):
                raise refuse("divides by a constant that contains zero")
            kw = {"Add": lambda: {"shift": c}, "Sub": lambda: {"shift": -c}, "Mul": lambda: {"scale": c},
                  "Div": lambda: {"scale": (np.float32(1) / c).astype(np.float32)}}[op]()
        else:
            x, c = b, self._const_operand(a[1], b[2], refuse)
            if op == "Div":
                raise refuse("divides a constant by an activation, which is not an affine map and cannot be converted")
            kw = {"Add": {"shift": c}, "Sub": {"scale": np.array(-1, np.float32).reshape((1,) * len(b[2])), "shift": c},
                  "Mul": {"scale": c}}[op]
        shape = np.broadcast_shapes(x[2], *(v.shape for v in kw.values()))
        return self._emit(n, i, "affine", [(x[1], x[2])], out, shape, **kw)

    def _zero_pad(self, n, i, ins, at, out, refuse):
        """Zero padding of H and W: a 1x1 identity depthwise conv with those pads (as cssdbg)."""
        if ins[0] is None or ins[0][0] != "act":
            raise refuse("pads a constant by amounts that are not constant")
        x = ins[0]
        s = x[2]
        mode = _s(at.get("mode", "constant"))
        if mode != "constant":
            raise refuse(f"uses Pad with mode '{mode}', which cssdbg cannot represent; only zero padding converts",
                         "pad with zeros (F.pad(x, p) or the padding of Conv/AveragePool)")
        value = 0.0
        if self.opset < 11:
            if "pads" not in at:
                raise refuse("has no pads")
            pads = [int(p) for p in at["pads"]]
            value = float(at.get("value", 0.0))
        else:
            if len(ins) < 2 or ins[1] is None or ins[1][0] != "const" or ins[1][1].dtype.kind not in "iu":
                raise refuse("pads by amounts that are not constant")
            pads = [int(p) for p in ins[1][1].reshape(-1)]
            if len(ins) > 2 and ins[2] is not None:
                if ins[2][0] != "const" or ins[2][1].size != 1:
                    raise refuse("has a padding value that is not one constant")
                value = float(ins[2][1].reshape(-1)[0])
        rank = len(s) + 1
        axes = list(range(rank))
        if len(ins) > 3 and ins[3] is not None:
            if ins[3][0] != "const":
                raise refuse("has non-constant axes")
            v = [int(a) for a in ins[3][1].reshape(-1)]
            norm = [a + rank if a < 0 else a for a in v]
            if any(a < 0 or a >= rank for a in norm) or len(set(norm)) != len(norm):
                raise refuse(f"has invalid axes {v}")
            axes = norm
        if len(pads) != 2 * len(axes):
            raise refuse(f"has {len(pads)} pads for {len(axes)} dimensions; Pad needs a begin and an end for each")
        if value != 0:
            raise refuse(f"pads with the value {np.float32(value)}; only zero padding converts", "pad with zeros")
        if any(p < 0 for p in pads):
            raise refuse(f"has negative pads {pads} (cropping), which cssdbg does not support")
        if any(p > 1 << 20 for p in pads):
            raise refuse(f"has absurd pads {pads}")
        begin, end = [0] * rank, [0] * rank
        for k, a in enumerate(axes):
            begin[a], end[a] = pads[k], pads[len(axes) + k]
        if not any(begin) and not any(end):
            return x
        if len(s) != 3 or begin[:2] != [0, 0] or end[:2] != [0, 0]:
            raise refuse(f"pads dimensions other than H and W of a tensor of sample shape {_shape_str(s)}; "
                         "only spatial zero padding of [N,C,H,W] converts")
        c = s[0]
        padded = (c, s[1] + begin[2] + end[2], s[2] + begin[3] + end[3])
        if int(np.prod(padded)) > 1 << 28:
            raise refuse(f"pads a sample of shape {_shape_str(s)} to {_shape_str(padded)}, more than 2^28 values")
        return self._emit(n, i, "conv", [(x[1], s)], out, padded, weight=np.ones((c, 1, 1, 1), np.float32), bias=None,
                          stride=(1, 1), pads=(begin[2], begin[3], end[2], end[3]), dilation=(1, 1), groups=c)

    def _pair(self, v, what, refuse, default=1):
        if v is None:
            return (default, default)
        if len(v) != 2 or any(a <= 0 for a in v):
            raise refuse(f"has invalid {what} {list(v)}")
        return (int(v[0]), int(v[1]))

    def _pads(self, at, hw, kernel, stride, dil, refuse):
        """(top, left, bottom, right)."""
        mode = _s(at.get("auto_pad", "NOTSET")) or "NOTSET"
        if mode == "NOTSET":
            p = at.get("pads")
            if p is None:
                return (0, 0, 0, 0)
            if len(p) != 4 or any(a < 0 for a in p):
                raise refuse(f"has invalid pads {list(p)}; only four non-negative 2-D pads convert")
            return tuple(int(a) for a in p)
        if mode == "VALID":
            return (0, 0, 0, 0)
        if mode in ("SAME_UPPER", "SAME_LOWER"):
            res = []
            for n_, k, s, d in zip(hw, kernel, stride, dil):
                o = -(-n_ // s)
                tot = max(0, (o - 1) * s + (k - 1) * d + 1 - n_)
                res.append((tot // 2, tot - tot // 2) if mode == "SAME_UPPER" else (tot - tot // 2, tot // 2))
            return (res[0][0], res[1][0], res[0][1], res[1][1])
        raise refuse(f"has unknown auto_pad '{mode}'")

    def _conv(self, n, i, ins, at, out, refuse):
        if len(ins) < 2 or ins[0] is None or ins[0][0] != "act":
            raise refuse("convolves a constant")
        x = ins[0]
        if ins[1] is None or ins[1][0] != "const" or ins[1][1].dtype.kind != "f":
            raise refuse("uses Conv with weights that are not constant, which cannot be converted")
        w = ins[1][1]
        s = x[2]
        if len(s) != 3 or w.ndim != 4:
            raise refuse(f"uses a {max(len(s) - 1, 0)}-D Conv; only 2-D convolutions on [N,C,H,W] convert")
        groups = int(at.get("group", 1))
        m = w.shape[0]
        if not (1 <= groups <= s[0] and s[0] % groups == 0 and m % groups == 0 and w.shape[1] * groups == s[0]):
            raise refuse(f"has Conv weights {_shape_str(w.shape)} that do not fit {s[0]} input channels in {groups} groups")
        k = at.get("kernel_shape")
        if k is not None and list(k) != list(w.shape[2:]):
            raise refuse(f"declares kernel_shape {list(k)} but its weights are {_shape_str(w.shape)}")
        st = self._pair(at.get("strides"), "strides", refuse)
        dil = self._pair(at.get("dilations"), "dilations", refuse)
        pads = self._pads(at, s[1:], w.shape[2:], st, dil, refuse)
        bias = None
        if len(ins) > 2 and ins[2] is not None:
            if ins[2][0] != "const" or ins[2][1].size != m:
                raise refuse(f"has a Conv bias that is not a constant of {m} values")
            bias = ins[2][1].reshape(-1).astype(np.float32)
        oh = (s[1] + pads[0] + pads[2] - dil[0] * (w.shape[2] - 1) - 1) // st[0] + 1
        ow = (s[2] + pads[1] + pads[3] - dil[1] * (w.shape[3] - 1) - 1) // st[1] + 1
        if oh <= 0 or ow <= 0:
            raise refuse(f"(Conv): its kernel does not fit the input {_shape_str(s)}")
        return self._emit(n, i, "conv", [(x[1], s)], out, (m, oh, ow), weight=w.astype(np.float32), bias=bias,
                          stride=st, pads=pads, dilation=dil, groups=groups)

    def _gemm(self, n, i, ins, at, out, refuse):
        if len(ins) < 2 or ins[0] is None or ins[0][0] != "act":
            raise refuse("uses Gemm whose first operand is not the activation; cssdbg needs activation × constant weights")
        x = ins[0]
        if ins[1] is None or ins[1][0] != "const" or ins[1][1].dtype.kind != "f" or ins[1][1].ndim != 2:
            raise refuse("uses Gemm with weights that are not a constant matrix, which cannot be converted")
        if at.get("transA", 0) != 0:
            raise refuse("uses Gemm with transA=1, which transposes the batch", "export Linear layers normally")
        s = x[2]
        if len(s) != 1:
            raise refuse(f"applies Gemm to an activation of sample shape {_shape_str(s)}; flatten it first")
        b = ins[1][1]
        w = b if at.get("transB", 0) else b.T
        if w.shape[1] != s[0]:
            raise refuse(f"has Gemm weights {_shape_str(b.shape)} that do not fit {s[0]} input features")
        alpha, beta = np.float32(at.get("alpha", 1.0)), np.float32(at.get("beta", 1.0))
        weight = np.ascontiguousarray((alpha * w).astype(np.float32))
        bias = None
        if len(ins) > 2 and ins[2] is not None:
            if ins[2][0] != "const" or ins[2][1].dtype.kind != "f":
                raise refuse("has a Gemm bias that is not constant")
            c = ins[2][1]
            outf = w.shape[0]
            if c.size == 1:
                vals = np.full(outf, c.reshape(-1)[0], np.float32)
            elif c.size == outf and (c.ndim == 1 or (c.ndim == 2 and c.shape[0] == 1)):
                vals = c.reshape(-1)
            else:
                raise refuse(f"has a Gemm bias of shape {_shape_str(c.shape)} that varies over the batch")
            bias = (beta * vals).astype(np.float32)
        return self._emit(n, i, "dense", [(x[1], s)], out, (w.shape[0],), weight=weight, bias=bias)

    def _matmul(self, n, i, ins, out, refuse):
        if len(ins) != 2 or ins[0] is None or ins[1] is None:
            raise refuse("is missing an input")
        a, b = ins
        if a[0] != "act":
            raise refuse("multiplies a constant by an activation; cssdbg needs activation × constant weights")
        if b[0] != "const" or b[1].dtype.kind != "f":
            raise refuse("multiplies two activations, which is not an affine map and cannot be converted")
        w = b[1]
        if w.ndim != 2:
            raise refuse(f"uses MatMul with weights of shape {_shape_str(w.shape)}; only a 2-D weight matrix converts")
        s = a[2]
        inf, outf = w.shape
        if s[-1] != inf or any(d != 1 for d in s[:-1]):
            raise refuse(f"uses MatMul on an activation of sample shape {_shape_str(s)} with weights {_shape_str(w.shape)}; "
                         "only [N, features] × [features, out] converts")
        weight = np.ascontiguousarray(w.T.astype(np.float32))
        cur = a
        if len(s) > 1:
            cur = self._emit(n, i, "reshape", [(a[1], s)], out, (inf,), suffix="/flat", target=(inf,))
        if len(s) > 1:
            d = self._emit(n, i, "dense", [(cur[1], cur[2])], out, (outf,), suffix="/dense", weight=weight, bias=None)
            shp = tuple(s[:-1]) + (outf,)
            return self._emit(n, i, "reshape", [(d[1], d[2])], out, shp, target=shp)
        return self._emit(n, i, "dense", [(cur[1], cur[2])], out, (outf,), weight=weight, bias=None)

    def _reshape(self, n, i, x, target, out):
        target = tuple(int(t) for t in target)
        if target == tuple(x[2]):
            return x
        return self._emit(n, i, "reshape", [(x[1], x[2])], out, target, target=target)

    def _reshape_target(self, target, s, allow_zero, refuse):
        total = int(np.prod(s))
        full_in = [BATCH] + list(s)
        hint = "reshape with x.flatten(1) or x.view(x.size(0), -1)"
        resolved, infer = [], None
        for k, t in enumerate(target):
            if t == 0 and not allow_zero:
                if k >= len(full_in):
                    raise refuse("reshapes with a 0 beyond the input's rank")
                resolved.append(full_in[k])
            elif t == -1:
                if infer is not None:
                    raise refuse("reshapes with two -1 entries")
                infer = k
                resolved.append(t)
            elif t <= 0:
                raise refuse(f"reshapes to {target}, which has an invalid dimension")
            else:
                resolved.append(t)
        if not resolved:
            raise refuse("reshapes to a scalar")
        first = resolved[0]
        if not (first == BATCH or first == -1 or (self.static_batch is not None and first == self.static_batch)):
            raise refuse(f"reshapes to {target}, whose first entry is not the batch dimension", hint)
        rest = resolved[1:]
        if any(r != -1 and r % BATCH == 0 for r in rest):
            raise refuse(f"reshapes to {target}, which mixes the batch dimension into a sample", hint)
        if infer == 0:
            if int(np.prod(rest)) != total:
                raise refuse(f"reshapes a sample of {total} values to {target}, which mixes the batch dimension", hint)
        elif infer is not None:
            known = int(np.prod([r for k, r in enumerate(rest) if k != infer - 1]))
            if known <= 0 or total % known:
                raise refuse(f"reshapes a sample of {total} values to {target}, which does not divide")
            rest[infer - 1] = total // known
        if not rest or int(np.prod(rest)) != total:
            raise refuse(f"reshapes a sample of shape {_shape_str(s)} to {target}, which does not keep its {total} values per sample", hint)
        return tuple(rest)

    def _fold(self, n, ins, at):
        """A node whose inputs are all constants, evaluated with NumPy (onnx's reference
        implementation for the operators not written out here)."""
        op = n.op_type
        x = ins[0] if ins else None
        if op in ("Add", "Sub", "Mul", "Div"):
            a, b = ins[0], ins[1]
            if op == "Div" and a.dtype.kind != "f" and b.dtype.kind != "f":
                return np.trunc(a / b).astype(np.int64) if np.all(b != 0) else a // b
            return {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Div": np.divide}[op](a, b)
        if op == "Neg":
            return -x
        if op == "Sqrt":
            return np.sqrt(x)
        if op == "Reciprocal":
            return (1 / x).astype(x.dtype)
        if op == "Relu":
            return np.maximum(x, 0)
        if op == "Unsqueeze":
            axes = at.get("axes") if len(ins) < 2 or ins[1] is None else [int(a) for a in ins[1]]
            r = x.ndim + len(axes)
            for a in sorted(a + r if a < 0 else a for a in axes):
                x = np.expand_dims(x, a)
            return x
        if op == "Squeeze":
            axes = at.get("axes") if len(ins) < 2 or ins[1] is None else [int(a) for a in ins[1]]
            return np.squeeze(x, axis=tuple(axes) if axes else None)
        if op == "Concat":
            return np.concatenate([np.atleast_1d(v) for v in ins if v is not None], axis=at.get("axis", 0))
        if op == "Gather":
            return np.take(x, ins[1].astype(np.int64), axis=at.get("axis", 0))
        if op == "Slice":
            starts, ends = ins[1], ins[2]
            axes = ins[3] if len(ins) > 3 and ins[3] is not None else range(len(starts))
            steps = ins[4] if len(ins) > 4 and ins[4] is not None else [1] * len(starts)
            sl = [slice(None)] * x.ndim
            for st, en, ax, sp in zip(starts, ends, axes, steps):
                sl[int(ax)] = slice(int(st), int(en), int(sp))
            return x[tuple(sl)]
        if op == "Reshape":
            shape = [int(v) for v in ins[1]]
            if not at.get("allowzero", 0):
                shape = [x.shape[k] if v == 0 else v for k, v in enumerate(shape)]
            return x.reshape(shape)
        if op == "Flatten":
            axis = at.get("axis", 1)
            axis = axis + x.ndim if axis < 0 else axis
            return x.reshape(int(np.prod(x.shape[:axis])), -1)
        if op == "Transpose":
            return np.transpose(x, at.get("perm"))
        if op == "ConstantOfShape":
            v = numpy_helper.to_array(at["value"]) if "value" in at else np.zeros(1, np.float32)
            return np.full([int(d) for d in x], v.reshape(-1)[0], dtype=self._num(v).dtype)
        if op == "Range":
            return np.arange(ins[0], ins[1], ins[2])
        if op in ("Identity", "Dropout"):
            return x
        from onnx.reference import ReferenceEvaluator
        feeds = {name: v for name, v in zip(n.input, ins) if name}
        return self._num(np.asarray(ReferenceEvaluator(n).run(None, feeds)[0]))


def load_graph(path) -> Graph:
    """Reads and lowers the ONNX model at `path`; every problem is a one-line `CSSError`."""
    path = str(path)
    if not os.path.exists(path):
        raise CSSError(path, "no such file")
    if os.path.isdir(path):
        raise CSSError(path, "is a directory", "pass the .onnx file or a bundle directory")
    with open(path, "rb") as f:
        head = f.read(8)
    if not head:
        raise CSSError(path, "is empty, not an ONNX model")
    if head.startswith(b"\x93NUMPY"):
        raise CSSError(path, "is a NumPy .npy file, not an ONNX model")
    if head.startswith(b"PK\x03\x04"):
        raise CSSError(path, "is a zip archive (a PyTorch checkpoint?), not an ONNX model", "export it with torch.onnx.export")
    try:
        model = onnx.load(path, load_external_data=False)
    except Exception:  # noqa: BLE001
        raise CSSError(path, "is not a valid ONNX model (protobuf decoding failed); the file may be truncated or corrupt") from None
    if model.ir_version <= 0 or not model.HasField("graph"):
        raise CSSError(path, "is not an ONNX model (no IR version or no graph); the file may be truncated or corrupt")
    return _Lowerer(model, path).run()
