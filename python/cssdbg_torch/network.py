"""`CSSNetwork`: the converted network as a `torch.nn.Module`, computed as docs/numerics.md
(docs/numerics.md) says — signed encoder with its tie rule in float64 (§4), every Relu a TSA-ReLU
spiking layer with silent period (§5), everything between them affine per time step with
constant terms scaled by 1/Σw (§3), a non-spiking output integrator (§5) — batched, on CPU or
CUDA, with the per-layer diagnostics of `cssdbg eval --json` (§6) for the batches seen.

Layers run in float32 with the operations in the order cssdbg's simulator uses, so the two
agree except on hidden-layer threshold ties (§9)."""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .config import Config
from . import kernels
from .errors import CSSError, SettingError
from .onnx_import import Graph, load_graph, unique_names
from .stats import LayerStats, RunStats, merge_summaries, percentile_from_top, top_count
from .theta import ThetaFile, read_theta, write_theta

# Energy per operation (§11, 45 nm, Horowitz 2014): a MAC in the ANN, an accumulate in the SNN.
E_MAC_PJ = 4.6
E_AC_PJ = 0.9
# Encoder ties (§4): u within this of ±1 counts as reaching it.
TIE = 1e-6
# Feature maps and conv weights channels-last for inputs of at least this many pixels (see
# _Affine.run); CSSDBG_TORCH_NCHW=1 turns it off, to compare.
CHANNELS_LAST_PIXELS = 1 << 30 if os.environ.get("CSSDBG_TORCH_NCHW") == "1" else 32 * 32


def _f32(x: float) -> float:
    return float(np.float32(x))


def _is_pad(op) -> bool:
    """The depthwise all-ones 1×1 convolution the importer lowers an ONNX Pad to (not an ONNX
    Conv, so not counted in MACs)."""
    w = op.p.get("weight")
    return (op.p.get("bias") is None and w is not None and w.shape[1:] == (1, 1, 1) and op.p["groups"] == w.shape[0]
            and tuple(op.p["stride"]) == (1, 1) and bool(np.all(w == 1)))


class CountedNode:
    """An ONNX Conv, Gemm or MatMul node of the graph (§11): its MACs per sample, the elements of
    its data input per sample, and the spiking layer it is reported with (-1: the output)."""

    def __init__(self, op: int, name: str, macs: int, inputs: int, layer: int):
        self.op, self.name, self.macs, self.inputs, self.layer = op, name, macs, inputs, layer

    def __repr__(self):
        return f"CountedNode({self.name!r}, macs={self.macs}, inputs={self.inputs}, layer={self.layer})"


def counted_nodes(graph: Graph) -> list:
    """The Conv/Gemm/MatMul nodes in graph order (§11). MACs = output elements × the weights each
    output reads (conv: C_in/group·kH·kW, linear: input features); a node belongs to the first
    Relu reached by following its consumers (the one listed first when several are), else the
    output."""
    shapes = {graph.input: tuple(graph.input_shape)}
    consumers: dict = {}
    relu_layer = {}
    for k, op in enumerate(graph.ops):
        shapes[op.output] = tuple(op.shape)
        for name in set(op.inputs):
            consumers.setdefault(name, []).append(k)
        if op.kind == "relu":
            relu_layer[k] = len(relu_layer)
    out = []
    for k, op in enumerate(graph.ops):
        if op.kind == "conv" and not _is_pad(op):
            w = op.p["weight"]
            fan = int(w.shape[1] * w.shape[2] * w.shape[3])
        elif op.kind == "dense":
            fan = int(op.p["weight"].shape[1])
        else:
            continue
        macs = int(np.prod(op.shape)) * fan
        reached, seen, stack = [], set(), [op.output]
        while stack:
            for c in consumers.get(stack.pop(), []):
                if c in seen:
                    continue
                seen.add(c)
                if c in relu_layer:
                    reached.append(relu_layer[c])
                else:
                    stack.append(graph.ops[c].output)
        layer = min(reached) if reached else -1
        out.append(CountedNode(k, op.name, macs, int(np.prod(shapes[op.inputs[0]])), layer))
    return out


def _count(x: torch.Tensor) -> torch.Tensor:
    """The nonzero elements of x (an int64 tensor, exact). count_nonzero of a bool tensor is
    several times faster on CPU than x.bool().sum() or count_nonzero of a float tensor."""
    return torch.count_nonzero(x if x.dtype == torch.bool else x.bool())


def _memory_order(t: torch.Tensor):
    """(t's elements as a contiguous tensor in memory order, the function that puts a tensor of
    that shape back in t's logical order): a channels-last [N, C, H, W] map is its [N, H, W, C]
    permutation, so flattening it is a view, not a copy."""
    if t.dim() == 4 and not t.is_contiguous() and t.is_contiguous(memory_format=torch.channels_last):
        return t.permute(0, 2, 3, 1), lambda y: y.permute(0, 3, 1, 2)
    return t, lambda y: y


class _KeepOne(dict):
    """A `keep` dict for `_run` that stores only layer `l`'s spikes into `into`."""

    def __init__(self, into: dict, l: int):
        super().__init__()
        self.into, self.l = into, l

    def __setitem__(self, k, v):
        if k == self.l:
            self.into[k] = v


class _NonzeroCounter:
    """Counts the nonzero values of the counted nodes' data inputs during one simulation."""

    def __init__(self, nodes: list):
        self.index = {c.op: j for j, c in enumerate(nodes)}
        self.wants = set(self.index)
        self.parts: list = [None] * len(nodes)

    def __call__(self, k, x):
        self.parts[self.index[k]] = _count(x)

    def counts(self) -> np.ndarray:
        if not self.parts:
            return np.zeros(0, np.int64)
        return torch.stack(self.parts).cpu().numpy().astype(np.int64)


class _Affine(nn.Module):
    """The lowered graph (everything but the Relus) with its weights as buffers, so
    `.to(device)` moves them."""

    def __init__(self, graph: Graph, dtype):
        super().__init__()
        self.graph = graph
        shape = tuple(graph.input_shape)
        self.channels_last = len(shape) == 3 and shape[1] * shape[2] >= CHANNELS_LAST_PIXELS
        for k, op in enumerate(graph.ops):
            for name, v in op.p.items():
                if isinstance(v, np.ndarray):
                    t = torch.from_numpy(np.ascontiguousarray(v)).to(dtype)
                    if self.channels_last and op.kind == "conv" and name == "weight":
                        t = t.contiguous(memory_format=torch.channels_last)
                    self.register_buffer(f"op{k}_{name}", t)
        self.last_use = {}
        for k, op in enumerate(graph.ops):
            for name in op.inputs:
                self.last_use[name] = k

    def buf(self, k, name):
        return getattr(self, f"op{k}_{name}", None)

    def apply(self, k, op, ins, cscale):
        x = ins[0]
        if op.kind == "conv":
            w, b = self.buf(k, "weight"), self.buf(k, "bias")
            t, l, bo, r = op.p["pads"]
            if b is not None and cscale != 1:
                b = b * cscale
            if t == bo and l == r:
                pad = (t, l)
            else:
                x = F.pad(x, (l, r, t, bo))
                pad = (0, 0)
            return F.conv2d(x, w, b, stride=op.p["stride"], padding=pad, dilation=op.p["dilation"], groups=op.p["groups"])
        if op.kind == "dense":
            w, b = self.buf(k, "weight"), self.buf(k, "bias")
            if b is not None and cscale != 1:
                b = b * cscale
            return F.linear(x, w, b)
        if op.kind == "affine":
            s, sh = self.buf(k, "scale"), self.buf(k, "shift")
            y = x * s if s is not None else x
            if sh is not None:
                y = y + (sh * cscale if cscale != 1 else sh)
            return y
        if op.kind == "add":
            return ins[0] + ins[1]
        if op.kind == "avgpool":
            t, l, bo, r = op.p["pads"]
            kh, kw = op.p["kernel"]
            xp = F.pad(x, (l, r, t, bo)) if (t or l or bo or r) else x
            sums = F.avg_pool2d(xp, (kh, kw), op.p["stride"], divisor_override=1)
            if op.p["count_include_pad"] or not (t or l or bo or r):
                return sums / float(kh * kw)
            ones = F.pad(torch.ones((1, 1) + tuple(x.shape[2:]), dtype=x.dtype, device=x.device), (l, r, t, bo))
            counts = F.avg_pool2d(ones, (kh, kw), op.p["stride"], divisor_override=1)
            return sums / counts
        if op.kind == "gap":
            y = x.mean(dim=(2, 3), keepdim=True)
            return y if op.p["keep"] else y.reshape(y.shape[0], -1)
        if op.kind == "reshape":
            return x.reshape((x.shape[0],) + tuple(op.p["target"]))
        raise AssertionError(op.kind)

    def run(self, x, cscale, relu, observe=None):
        """Walks the graph; `relu(layer, z)` computes each Relu; `observe(k, x)`, when given, sees
        the data input of every op k it wants (`observe.wants`)."""
        if self.channels_last and x.dim() == 4:
            # Channels-last (NHWC) feature maps: oneDNN's convolutions take them without the
            # reorders NCHW costs on every call, and element-wise ops keep the layout. Measured
            # (2 cores): about 25 % less convolution time on 224×224 ResNet-18; on 8×8 digits
            # maps it was 10 % slower, so small inputs stay NCHW. The convolutions round
            # differently in this layout (within css-spec §9, and still the same for any
            # thread or process count).
            x = x.contiguous(memory_format=torch.channels_last)
        env = {self.graph.input: x}
        layer = 0
        for k, op in enumerate(self.graph.ops):
            ins = [env[n] for n in op.inputs]
            if observe is not None and k in observe.wants:
                observe(k, ins[0])
            if op.kind == "relu":
                y = relu(layer, ins[0])
                layer += 1
            else:
                y = self.apply(k, op, ins, cscale)
            for n in set(op.inputs):
                if self.last_use.get(n) == k and n != self.graph.output:
                    env.pop(n, None)
            env[op.output] = y
        return env[self.graph.output]


class CSSNetwork(nn.Module):
    """The CSS-coded spiking network converted from an ONNX model.

    `forward(x)` returns the decoded output (ANN units) after the full latency; while
    `track_stats` is on it also runs the ANN and accumulates what `cssdbg eval --json` reports
    (see `report()`). θ comes from calibration inputs or a `cssdbg-theta/1` file.
    """

    def __init__(self, graph: Graph, config: Config, theta_input: float, theta_layers: list, name: str | None = None,
                 dtype=torch.float32):
        super().__init__()
        self.config = config.validate()
        self.graph = graph
        self.name = name or graph.name
        self.dtype = dtype
        self.body = _Affine(graph, dtype)
        self.theta_input = float(theta_input)
        self.theta = [float(t) for t in theta_layers]
        relus = graph.relus
        self.tensors = [o.output for o in relus]
        self.layer_names = unique_names([o.p.get("scope") for o in relus], [o.output for o in relus])
        self.layer_shapes = [o.shape for o in relus]
        depth = graph.depths()
        self.depths = [depth[o.output] for o in relus]
        self.output_depth = depth[graph.output]
        self.track_stats = True
        self.attribution = False
        self.counted = counted_nodes(graph)
        self._expected = None
        self.reset_stats()

    # ------------------------------------------------------------------ construction

    @classmethod
    def from_onnx(cls, path, calib=None, theta=None, T=None, beta=None, silent=None, negative=None, percentile=None,
                  rate=False, device=None, batch_size=64, name=None, dtype=torch.float32):
        """From an `.onnx` file and calibration inputs (tensor or array `[N, ...]`) or a θ file.

        Settings left at None come from the θ file's config, else the defaults
        (T 10, β 1.5, L 1, negative spikes, percentile 99.99); `rate=True` is β 1, L 0, no
        negative spikes."""
        graph = load_graph(path)
        tensors = [o.output for o in graph.relus]
        tf = read_theta(theta, tensors) if theta is not None else None
        cfg = (tf.config if tf else Config()).with_(T=T, beta=None if beta is None else float(beta), silent=silent,
                                                       negative=negative,
                                                       percentile=None if percentile is None else float(percentile))
        if rate:
            cfg = Config.rate(cfg.T, cfg.percentile)
        cfg.validate()
        if name is None:
            name = Path(path).stem
        if tf is not None:
            net = cls(graph, cfg, tf.input, [tf.layers[t] for t in tensors], name=name, dtype=dtype)
        else:
            if calib is None:
                raise CSSError(str(path), "needs calibration inputs or a θ file", "pass calib= or theta=")
            net = cls(graph, cfg, 1.0, [1.0] * len(tensors), name=name, dtype=dtype)
        if device is not None:
            net.to(device)
        if tf is None:
            net.calibrate(calib, batch_size=batch_size)
        return net

    @classmethod
    def from_bundle(cls, path, theta=None, T=None, beta=None, silent=None, negative=None, percentile=None, rate=False,
                    calib=None, device=None, batch_size=64, dtype=torch.float32):
        """From a bundle directory (model.onnx, calib.npy else data.npy; theta.json when present
        and `theta` is not given) or an `.onnx` file."""
        b = resolve_bundle(path, calib=calib, theta=theta)
        graph_in = None
        calib_arr = None
        if b["theta"] is None:
            src = b["calib"] or b["data"]
            if src is None:
                raise CSSError(str(path), "has no calibration inputs", "put calib.npy or data.npy in the bundle, or pass theta=")
            graph_in = load_graph(b["model"])
            calib_arr = load_npy(src, graph_in.input_shape)
        net = cls.from_onnx(b["model"], calib=calib_arr, theta=b["theta"], T=T, beta=beta, silent=silent,
                            negative=negative, percentile=percentile, rate=rate, device=device,
                            batch_size=batch_size, name=bundle_name(path), dtype=dtype)
        return net

    @property
    def device(self):
        for b in self.body.buffers():
            return b.device
        return torch.device("cpu")

    @property
    def input_shape(self):
        return self.graph.input_shape

    # ------------------------------------------------------------------ θ

    def theta_dict(self) -> dict:
        return {"input": self.theta_input, **dict(zip(self.tensors, self.theta))}

    def load_theta(self, path) -> None:
        """Takes θ from a `cssdbg-theta/1` file (refused when its tensors do not match)."""
        tf = read_theta(path, self.tensors)
        self.theta_input = tf.input
        self.theta = [tf.layers[t] for t in self.tensors]

    def save_theta(self, path) -> None:
        """Writes θ and the config as a `cssdbg-theta/1` file (atomically), which `cssdbg --theta` reads."""
        write_theta(path, ThetaFile(self.name, self.config, self.theta_input, dict(zip(self.tensors, self.theta))))

    # ------------------------------------------------------------------ ANN and calibration

    def _as_input(self, x):
        if isinstance(x, np.ndarray):
            x = torch.from_numpy(np.ascontiguousarray(x))
        x = x.to(device=self.device, dtype=self.dtype)
        if tuple(x.shape[1:]) != tuple(self.input_shape):
            if int(np.prod(x.shape[1:])) != int(np.prod(self.input_shape)):
                raise ValueError(f"input of shape {list(x.shape)} does not fit the model's [N, {', '.join(map(str, self.input_shape))}]")
            x = x.reshape((x.shape[0],) + tuple(self.input_shape))
        return x

    @torch.no_grad()
    def ann(self, x, keep=False):
        """The ANN's output (and, with keep, every Relu's output)."""
        x = self._as_input(x)
        acts = []

        def relu(_, z):
            r = torch.relu(z)
            if keep:
                acts.append(r)
            return r

        y = self.body.run(x, 1.0, relu)
        return (y, acts) if keep else y

    @torch.no_grad()
    def calibrate(self, calib, batch_size=64, comm=None, workers=1) -> None:
        """θ_l = p_l/Σw with p_l the configured percentile of the non-zero ANN Relu outputs
        (|input| for θ_0) over the calibration inputs (§3); a layer that never fires gets p = 1.
        With `comm`, the calibration batches are shared among processes."""
        p = calibration_percentiles(self, calib, self.config.percentile, batch_size, comm, workers)
        sw = self.config.sum_weights
        self.theta_input = (p[0] if p[0] > 0 else 1.0) / sw
        self.theta = [(v if v > 0 else 1.0) / sw for v in p[1:]]

    # ------------------------------------------------------------------ SNN

    def encode(self, x):
        """Signed Theorem-2 encoder (§4) in float64 with its tie rule: spikes [T, N, ...]."""
        cfg = self.config
        return kernels.on(x.device, kernels.encode)(x, float(self.theta_input), float(cfg.beta),
                                                    float(cfg.beta ** cfg.T), cfg.T, TIE)

    def _tsa(self, z, l, ann, stats: LayerStats | None, n, mode=None):
        """TSA-ReLU over the window (§5) for layer l; z is [T·N, ...] slot-major in ANN units.
        Returns θ·S in the same layout and accumulates the layer's diagnostics (§6).

        `mode` "decoupled" gives the neurons their window's whole input in the first step,
        "exact" the ANN activation `ann` there instead (§10).

        The steps run in `kernels.tsa_window` (TorchScript on CPU, in place)."""
        cfg = self.config
        T, L, W = cfg.T, cfg.silent, cfg.window
        dt = self.dtype
        one = np.float32 if dt == torch.float32 else np.float64
        theta = one(self.theta[l])
        inv = float(one(1) / theta)
        beta = float(one(cfg.beta))
        thr, reset = float(one(cfg.threshold)), float(one(cfg.reset))
        zf, unflat = _memory_order(z)
        X = zf.reshape(T, -1)
        P = X.shape[1]
        if mode is not None:
            wf = [float(one(w)) for w in cfg.slot_weights]
            if mode == "decoupled":
                acc = torch.zeros(P, dtype=dt, device=z.device)
                for k in range(T):
                    acc = acc + wf[k] * (X[k] * inv)
            elif mode == "exact":
                acc = _memory_order(ann)[0].reshape(-1).to(dt) * inv
            else:
                raise ValueError(f"unknown substitution {mode!r}")
            inputs = (acc / wf[0]).reshape(1, -1)  # the whole input in step 0, nothing after
        else:
            inputs = X * inv  # [T, P], every slot's input in θ units at once
        S, h = kernels.on(z.device, kernels.tsa_window)(inputs, T, L, beta, thr, reset, bool(cfg.negative))
        if stats is not None:
            self._diagnose(S, h, l, ann, stats, n)
        return unflat(S.mul_(float(theta)).reshape(zf.shape))

    def _diagnose(self, S, h, l, ann, st: LayerStats, n):
        """The layer's §6 statistics from its spikes S [T, P] and final h [P], the window at once.

        The margins of k0 = 0..L are all margin(0) (nothing fired yet, same capacity); k0 = L+j
        has the first j slots fired, so pending is computed for j = 0..T only, by the same
        sequential subtractions as the step-by-step form (w·S is exact). `capacity − |pending|
        ≤ 0` is tested as `|pending| ≥ capacity`, the same in IEEE arithmetic. A neuron's first
        violation is its first violating j, mapped back to k0."""
        cfg = self.config
        T, L, W = cfg.T, cfg.silent, cfg.window
        dt = self.dtype
        one = np.float32 if dt == torch.float32 else np.float64
        beta = float(one(cfg.beta))
        w = cfg.slot_weights
        wf = [float(one(x)) for x in w]
        cap = [float(one(1 + (sum(w[j:]) if j < T else 0))) for j in range(T + 1)]
        small, u, e = kernels.on(h.device, kernels.window_stats)(S, h, beta, float(one(cfg.reset)), wf, cap,
                                                               kernels.exact_piece(dt))
        small = small.cpu().numpy()
        by_j, (pos, negs, over) = small[:T + 1], small[T + 1:T + 4]
        first_j = small[T + 4:][::-1][:T + 1]  # first_j[j] = hist[T+1−j]
        counts = np.concatenate([np.repeat(by_j[:1], L + 1), by_j[1:]])
        firsts = np.concatenate([first_j[:1], np.zeros(L, np.int64), first_j[1:]])
        st.violations += counts
        st.first += firsts
        st.pos += int(pos)
        st.neg += int(negs)
        st.over_one += int(over)
        st.overflow += int(first_j[0])
        st.coupling += int(first_j[1:].sum())
        st.pairs += u.numel()
        st.top.add(u)
        if ann is not None:
            annf, unflat = _memory_order(ann)
            d = (float(one(self.theta[l])) * e - annf.reshape(-1)).to(torch.float64)
            # Per sample in NCHW order, whatever the layout.
            d = unflat(d.reshape(annf.shape)).reshape(n, -1)
            # cumsum is a sequential sum: the same per sample on any number of threads.
            st.sq_by_sample.append(torch.cumsum(d.mul_(d), dim=1)[:, -1].cpu().numpy())

    @torch.no_grad()
    def simulate(self, x, ann_acts=None, stats: RunStats | None = None, substitute=None):
        """The converted network on a batch: decoded output [N, ...] in ANN units.

        `substitute` maps spiking layers to "decoupled" or "exact" (§10; "exact" needs
        `ann_acts`)."""
        return self._run(x, ann_acts, stats, substitute)[0]

    def _run(self, x, ann_acts=None, stats: RunStats | None = None, substitute=None, anytime=False, count=False,
             fixed=None, keep=None):
        """(decoded output, anytime predictions [N, T] or None, nonzero input counts of the
        counted nodes or None). `fixed[l]`: layer l's output θ·S to use as it is (a spike train
        computed before with the same inputs); `keep`: a dict that receives every layer's θ·S."""
        cfg = self.config
        x = self._as_input(x)
        n = x.shape[0]
        s0 = self.encode(x)  # [T, N, ...]
        one = np.float32 if self.dtype == torch.float32 else np.float64
        slots = (s0 * float(one(self.theta_input))).to(self.dtype).reshape((cfg.T * n,) + tuple(self.input_shape))
        cscale = float(one(1 / cfg.sum_weights))
        substitute = substitute or {}

        def relu(l, z):
            if fixed is not None and l in fixed:
                r = fixed[l]
            else:
                r = self._tsa(z, l, ann_acts[l] if ann_acts is not None else None,
                              stats.layers[l] if stats is not None else None, n, substitute.get(l))
            if keep is not None:
                keep[l] = r
            return r

        counter = _NonzeroCounter(self.counted) if count else None
        y = self.body.run(slots, cscale, relu, counter)
        y = y.reshape((cfg.T, n) + tuple(y.shape[1:]))
        out = torch.zeros_like(y[0])
        preds = []
        for k, wk in enumerate(cfg.slot_weights):
            out = out + float(one(wk)) * y[k]
            if anytime:
                preds.append(torch.argmax(out.reshape(n, -1), dim=1))
        at = torch.stack(preds, 1).cpu().numpy().astype(np.int64) if anytime else None
        return out, at, counter.counts() if counter is not None else None

    @torch.no_grad()
    def _batch(self, x, labels, index, st: RunStats, attribution: bool):
        """One batch into `st`: the ANN, the SNN with its diagnostics, anytime predictions and
        operation counts, and with `attribution` the decoupled and exact-prefix runs (§10–§12).
        Returns the SNN's decoded output."""
        x = self._as_input(x)
        n = x.shape[0]
        y_ann, acts = self.ann(x, keep=True)
        keep = {} if attribution else None
        y, at, nz = self._run(x, acts, st, anytime=True, count=True, keep=keep)
        ann_pred, snn_pred = first_argmax(y_ann.reshape(n, -1)), first_argmax(y.reshape(n, -1))
        dec = exa = None
        if attribution:
            nl = len(self.tensors)
            dec = np.zeros((n, nl), np.int64)
            exa = np.zeros((n, nl), np.int64)
            for l in range(nl):
                # Layers before l see the SNN's own inputs: their spikes are the SNN's.
                yd = self._run(x, acts, fixed={j: keep[j] for j in range(l)}, substitute={l: "decoupled"})[0]
                dec[:, l] = first_argmax(yd.reshape(n, -1))
            exact = {}
            for j in range(1, nl + 1):
                # Prefix j: layers < j exact; an exact layer's spikes depend on the ANN only.
                ye = self._run(x, acts, fixed=dict(exact), substitute={j - 1: "exact"},
                               keep=_KeepOne(exact, j - 1))[0]
                exa[:, j - 1] = first_argmax(ye.reshape(n, -1))
        st.add_predictions(index, ann_pred, snn_pred, labels, anytime=at, decoupled=dec, exact=exa)
        st.add_nonzero(nz)
        return y

    def forward(self, x, labels=None):
        """Decoded logits of the converted network; with `track_stats`, also the statistics
        (with `attribution` on, the decoupled and exact-prefix runs too, 2n more simulations)."""
        if not self.track_stats:
            return self.simulate(x)
        n = x.shape[0]
        start = self._stats.samples
        lab = None if labels is None else np.asarray(labels.cpu() if torch.is_tensor(labels) else labels)
        y = self._batch(x, lab, np.arange(start, start + n), self._stats, self.attribution)
        if labels is None:
            self._unlabeled = True
        return y

    # ------------------------------------------------------------------ statistics

    def reset_stats(self, expected_samples: int | None = None) -> None:
        """Forgets the statistics. With `expected_samples`, residual percentiles keep only the
        largest |u[T]| values they need (exact for up to that many samples) instead of all."""
        self._expected = expected_samples
        caps = [None if expected_samples is None else top_count(expected_samples * int(np.prod(s)), 99.9)
                for s in self.layer_shapes]
        self._stats = RunStats(self.config.window, len(self.tensors), caps)
        self._unlabeled = False

    def new_stats(self, expected_samples: int | None) -> RunStats:
        caps = [None if expected_samples is None else top_count(expected_samples * int(np.prod(s)), 99.9)
                for s in self.layer_shapes]
        return RunStats(self.config.window, len(self.tensors), caps)

    def evaluate(self, data, labels=None, batch_size=64, comm=None, workers=1, attribution=False, e_mac=E_MAC_PJ,
                 e_ac=E_AC_PJ) -> dict:
        """The `cssdbg eval --json` object for a whole data set (does not touch `report()`'s
        statistics)."""
        return evaluate_dataset(self, data, labels, batch_size, comm, workers, attribution, e_mac, e_ac)

    def report(self, comm=None, e_mac=E_MAC_PJ, e_ac=E_AC_PJ):
        """The `cssdbg eval --json` object for the batches `forward` has seen since
        `reset_stats()` (by every process with `comm`; None on ranks other than 0). The §10
        fields are there when `attribution` was on for every batch."""
        st = self._stats
        summary = st.local_summary()
        labeled = not self._unlabeled and st.samples > 0
        parts = comm.gather(summary) if comm is not None else [summary]
        if parts is None:
            return None
        m = merge_summaries(parts, has_labels=labeled)
        return self._report_from(m, attribution=m["decoupled"] is not None, e_mac=e_mac, e_ac=e_ac)

    def _report_from(self, m, attribution=False, e_mac=E_MAC_PJ, e_ac=E_AC_PJ) -> dict:
        cfg = self.config
        L = cfg.silent
        layers = []
        for l, ls in enumerate(m["layers"]):
            n = ls["pairs"]
            layers.append({
                "name": self.layer_names[l],
                "tensor": self.tensors[l],
                "neurons": int(np.prod(self.layer_shapes[l])),
                "window_start": (self.depths[l] - 1) * L,
                "theta": self.theta[l],
                "residual_p999": percentile_from_top(ls["top"], n, 99.9),
                "residual_max": float(ls["top"][0]) if n else 0.0,
                "over_one": int(ls["over_one"]),
                "overflow": int(ls["overflow"]),
                "coupling": int(ls["coupling"]),
                "violations_by_step": [int(v) for v in ls["violations"]],
                "first_violation_by_step": [int(v) for v in ls["first"]],
                "spikes_positive": int(ls["pos"]),
                "spikes_negative": int(ls["neg"]),
                "activation_rmse": math.sqrt(ls["sq"] / n) if n else 0.0,
            })
        samples = m["samples"]
        labels = m["labels"]
        acc = lambda p: float((p == labels).sum()) / samples if labels is not None and samples else None  # noqa: E731
        agree = lambda p: float((p == m["ann"]).sum()) / samples if samples else 0.0  # noqa: E731
        ops = operation_counts(self, m["nonzero"], samples)
        for l, entry in enumerate(layers):
            entry["macs"] = ops["layers"][l]["macs"]
            entry["synaptic_ops"] = ops["layers"][l]["synaptic_ops"]
            entry["neuron_steps"] = entry["neurons"] * cfg.window
        T = cfg.T
        at = m["anytime"].reshape(-1, T) if m["anytime"] is not None else np.zeros((0, T), np.int64)
        settled = _suffix_all(at == at[:, -1:])
        report = {
            "model": self.name,
            "config": cfg.json(),
            "samples": samples,
            "latency": cfg.T + (self.output_depth + 1) * L,
            "ann_accuracy": acc(m["ann"]),
            "snn_accuracy": acc(m["snn"]),
            "agreement": agree(m["snn"]),
            "layers": layers,
            "anytime_accuracy": [acc(at[:, k]) for k in range(T)] if labels is not None and samples else None,
            "anytime_agreement": [agree(at[:, k]) for k in range(T)],
            "settled_by_slot": [int(v) for v in settled.sum(axis=0)] if samples else [0] * T,
            "macs": ops["macs"],
            "synaptic_ops": ops["synaptic_ops"],
            "neuron_steps": sum(e["neuron_steps"] for e in layers),
            "e_mac_pj": float(e_mac),
            "e_ac_pj": float(e_ac),
            "energy_pj": {"ann": ops["macs"] * float(e_mac), "snn": ops["synaptic_ops"] * float(e_ac)},
            "output": ops["output"],
        }
        if attribution:
            n = len(layers)
            dec = m["decoupled"].reshape(-1, n)
            prefix = np.concatenate([m["snn"].reshape(-1, 1), m["exact"].reshape(-1, n)], axis=1)  # [S, n+1]
            for l, entry in enumerate(layers):
                entry["decoupled_accuracy"] = acc(dec[:, l])
                entry["decoupled_agreement"] = agree(dec[:, l])
            per_layer, unresolved = culprits(prefix == (labels if labels is not None else m["ann"]).reshape(-1, 1))
            for l, entry in enumerate(layers):
                entry["culprit_samples"] = per_layer[l]
            report["exact_prefix_accuracy"] = ([acc(prefix[:, j]) for j in range(n + 1)]
                                               if labels is not None and samples else None)
            report["exact_prefix_agreement"] = [agree(prefix[:, j]) for j in range(n + 1)]
            report["culprit_basis"] = "accuracy" if labels is not None else "agreement"
            report["culprit_unresolved"] = unresolved
        return report


def culprits(right: np.ndarray) -> tuple:
    """§10's culprits from `right[s, j]` (sample s right, or agreeing, with the first j layers
    exact, j = 0..n): (samples per layer, samples wrong even at j = n). A sample's culprit is the
    smallest j from which it is right at every larger prefix; culprit 0 is counted nowhere,
    culprit j ≥ 1 for layer j − 1."""
    n = right.shape[1] - 1
    ok_from = _suffix_all(right.astype(bool))
    resolved = ok_from[:, n] if len(right) else np.zeros(0, bool)
    culprit = np.argmax(ok_from, axis=1) if len(right) else np.zeros(0, np.int64)
    return [int((resolved & (culprit == l + 1)).sum()) for l in range(n)], int((~resolved).sum())


def _suffix_all(b: np.ndarray) -> np.ndarray:
    """out[:, k] = b[:, j] for every j ≥ k (rows of booleans)."""
    return np.flip(np.logical_and.accumulate(np.flip(b, axis=1), axis=1), axis=1) if b.size else b.astype(bool)


def operation_counts(net: CSSNetwork, nonzero: np.ndarray, samples: int) -> dict:
    """§11: MACs and synaptic operations per sample, in all, per spiking layer and for the
    output, from the summed nonzero input counts of the counted nodes over `samples`."""
    nl = len(net.tensors)
    per = {l: {"macs": 0, "synaptic_ops": 0.0} for l in [*range(nl), -1]}
    macs, syn = 0, 0.0
    for c, nz in zip(net.counted, nonzero if nonzero is not None else [0] * len(net.counted)):
        ops = float(nz) / samples * c.macs / c.inputs if samples else 0.0
        per[c.layer]["macs"] += c.macs
        per[c.layer]["synaptic_ops"] += ops
        macs += c.macs
        syn += ops
    return {"macs": macs, "synaptic_ops": syn, "layers": [per[l] for l in range(nl)], "output": per[-1]}


def first_argmax(y: torch.Tensor) -> np.ndarray:
    """Index of the first maximum per row (cssdbg's prediction)."""
    return torch.argmax(y, dim=1).cpu().numpy()


def in_batches(fn, starts, workers: int):
    """fn(start) for every batch start, `workers` batches at a time, results in order.

    Each batch runs single-threaded (intra-op threads 1, set by the caller), so its numbers do
    not depend on how many threads or processes share the work: PyTorch's CPU GEMMs round
    differently for different thread counts, batches computed on one thread each do not."""
    starts = list(starts)
    if workers <= 1:
        for j in starts:
            yield fn(j)
        return
    from concurrent.futures import ThreadPoolExecutor
    # OpenMP's thread count is a per-thread setting: each worker sets its own.
    with ThreadPoolExecutor(workers, initializer=torch.set_num_threads, initargs=(1,)) as ex:
        pending = []
        for j in starts:
            pending.append(ex.submit(fn, j))
            if len(pending) >= 2 * workers:
                yield pending.pop(0).result()
        for f in pending:
            yield f.result()


def _batch_plan(n: int, batch_size: int, comm):
    """This process's batch starts: batch j goes to rank j mod world (every sample once)."""
    rank, world = (comm.rank, comm.world) if comm is not None else (0, 1)
    return [lo for j, lo in enumerate(range(0, n, batch_size)) if j % world == rank]


@torch.no_grad()
def calibration_percentiles(net: CSSNetwork, calib, q: float, batch_size: int, comm=None, workers: int = 1) -> list:
    """[p_0, p_1, ...]: exact percentiles of the non-zero values (§3), in two passes (count, then
    the top values the percentile needs), so memory stays small on large calibration sets."""
    from .stats import TopValues
    calib = calib.cpu().numpy() if torch.is_tensor(calib) else np.asarray(calib)
    calib = calib.astype(np.float32, copy=False)
    mine = _batch_plan(len(calib), batch_size, comm)
    # Input: every process reads the whole input array (cheap).
    xin = np.abs(calib.reshape(-1))
    xin = xin[xin != 0]
    p0 = percentile_from_top(np.sort(xin)[::-1], xin.size, q)
    n_layers = len(net.tensors)

    def count(j):
        _, acts = net.ann(calib[j:j + batch_size], keep=True)
        return np.array([int((a > 0).sum()) for a in acts], np.int64)

    counts = np.zeros(n_layers, np.int64)
    for c in in_batches(count, mine, workers):
        counts += c
    if comm is not None:
        counts = comm.allreduce(counts)
    caps = [top_count(int(c), q) for c in counts]
    tops = [TopValues(c) for c in caps]

    def top(j):
        _, acts = net.ann(calib[j:j + batch_size], keep=True)
        out = []
        for l, a in enumerate(acts):
            v = a[a > 0]
            out.append(torch.topk(v, caps[l], sorted=False).values if v.numel() > caps[l] else v)
        return out

    for vs in in_batches(top, mine, workers):
        for t, v in zip(tops, vs):
            if v.numel():
                t.add(v)
    local = [t.descending() for t in tops]
    if comm is not None:
        gathered = comm.allgather(local)
        local = [np.sort(np.concatenate([g[l] for g in gathered]))[::-1][:caps[l]] for l in range(n_layers)]
    return [p0] + [percentile_from_top(local[l], int(counts[l]), q) for l in range(n_layers)]


@torch.no_grad()
def evaluate_dataset(net: CSSNetwork, data, labels=None, batch_size: int = 64, comm=None, workers: int = 1,
                     attribution: bool = False, e_mac: float = E_MAC_PJ, e_ac: float = E_AC_PJ):
    """`cssdbg eval`'s report of the data set (rank 0's; None on other ranks): batches shared
    among processes (`comm`) and among `workers` threads, statistics combined exactly. With
    `attribution`, the decoupled and exact-prefix fields of §10 too (2n more simulations)."""
    data = data.cpu().numpy() if torch.is_tensor(data) else np.asarray(data, np.float32)
    if labels is not None:
        labels = np.asarray(labels.cpu() if torch.is_tensor(labels) else labels, np.int64).reshape(-1)
    total = net.new_stats(len(data))
    device = net.device

    def one(lo):
        st = net.new_stats(len(data))
        x = torch.from_numpy(np.ascontiguousarray(data[lo:lo + batch_size])).to(device)
        n = x.shape[0]
        net._batch(x, labels[lo:lo + n] if labels is not None else None, np.arange(lo, lo + n), st, attribution)
        return st

    for st in in_batches(one, _batch_plan(len(data), batch_size, comm), workers):
        total.absorb(st)
    summary = total.local_summary()
    parts = comm.gather(summary) if comm is not None else [summary]
    if parts is None:
        return None
    return net._report_from(merge_summaries(parts, has_labels=labels is not None), attribution=attribution,
                            e_mac=e_mac, e_ac=e_ac)


# ---------------------------------------------------------------------- bundles and .npy


def bundle_name(path) -> str:
    """The bundle directory's name, or the .onnx file's name without its extension."""
    p = Path(os.path.abspath(path))
    return p.stem if p.suffix == ".onnx" else p.name


def resolve_bundle(path, data=None, labels=None, calib=None, theta=None) -> dict:
    """A bundle directory (model.onnx and optionally data.npy, labels.npy, calib.npy, theta.json)
    or an .onnx file; explicit paths override the bundle's files and must exist."""
    path = str(path)
    if not os.path.exists(path):
        raise CSSError(path, "no such file or directory", "pass a bundle directory containing model.onnx, or an .onnx file")
    out = {"model": path, "data": None, "labels": None, "calib": None, "theta": None}
    if os.path.isdir(path):
        model = os.path.join(path, "model.onnx")
        if not os.path.isfile(model):
            raise CSSError(path, "directory has no model.onnx",
                           "a bundle is a directory with model.onnx and optionally data.npy, labels.npy, calib.npy, theta.json")
        out["model"] = model
        for key, f in (("data", "data.npy"), ("labels", "labels.npy"), ("calib", "calib.npy"), ("theta", "theta.json")):
            p = os.path.join(path, f)
            if os.path.isfile(p):
                out[key] = p
    for key, v, what in (("data", data, "data"), ("labels", labels, "labels"), ("calib", calib, "calibration"),
                         ("theta", theta, "θ")):
        if v is None:
            continue
        v = str(v)
        if not os.path.isfile(v):
            raise CSSError(v, "is not a regular file" if os.path.exists(v) else "no such file", f"given as the {what} file")
        out[key] = v
    return out


def load_npy(path, input_shape) -> np.ndarray:
    """Inputs `[N, ...input shape]` as float32, checked as cssdbg checks them."""
    a = _read_npy(path)
    if a.dtype.kind not in "fiub":
        raise CSSError(path, f"has dtype {a.dtype}; expected numbers")
    if a.ndim < 1:
        raise CSSError(path, f"holds a scalar; expected shape [N, {', '.join(map(str, input_shape))}]")
    rest = tuple(a.shape[1:])
    sq = lambda s: tuple(d for d in s if d != 1)  # noqa: E731
    if not (rest == tuple(input_shape) or (int(np.prod(rest)) == int(np.prod(input_shape)) and sq(rest) == sq(input_shape))):
        dims = ", ".join(map(str, input_shape))
        raise CSSError(path, f"has shape {list(a.shape)} but the model expects [N, {dims}]",
                       f"save the inputs as an array of shape (N, {dims})")
    if a.shape[0] == 0:
        raise CSSError(path, f"holds no samples (shape {list(a.shape)})")
    a = a.astype(np.float32).reshape((a.shape[0],) + tuple(input_shape))
    if not np.all(np.isfinite(a)):
        bad = int(np.argmax(~np.isfinite(a.reshape(-1))))
        raise CSSError(path, f"holds a NaN or infinite value at flat index {bad}")
    return a


def load_labels(path, n: int, classes: int | None) -> np.ndarray:
    a = _read_npy(path)
    if a.dtype.kind not in "iub" and not (a.dtype.kind == "f" and np.all(a == np.round(a))):
        raise CSSError(path, f"has dtype {a.dtype}; expected integer class indices")
    if a.shape not in ((n,), (n, 1)):
        raise CSSError(path, f"has shape {list(a.shape)} but the data has {n} samples",
                       f"labels must be a vector of {n} class indices")
    a = a.reshape(-1).astype(np.int64)
    bad = np.nonzero((a < 0) | ((a >= classes) if classes else False))[0]
    if bad.size:
        k = int(bad[0])
        raise CSSError(path, f"label {a[k]} at index {k} is not a class index"
                       + (f" of the model's {classes} outputs" if classes else ""))
    return a


def _read_npy(path) -> np.ndarray:
    path = str(path)
    try:
        return np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise CSSError(path, "no such file") from None
    except ValueError as e:
        raise CSSError(path, f"is not a NumPy .npy file this can read ({e})") from None
    except OSError as e:
        raise CSSError(path, f"cannot read ({e.strerror or e})") from None
