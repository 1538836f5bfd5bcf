#!/usr/bin/env python3
"""PyTorch eager-CPU implementation of docs/numerics.md, used as a speed and a
correctness reference for `cssdbg`.

How the simulation maps onto PyTorch (docs/numerics.md §1-§5):

  * Every spiking layer sees its whole coding window at once: the T slots are stacked into the
    batch dimension (slot-major, [T*B, C, H, W]) and the affine map in front of it (conv / linear /
    avg-pool / residual add / flatten) runs as ONE batched call.
  * Constant terms are scaled by 1/Σw by running the SNN on a copy of the network whose biases are
    divided by Σw (BatchNorm is folded into the conv before anything else, so biases are the only
    constants; AvgPool, GlobalAveragePool, Add and Flatten have none).
  * A source spiking layer s contributes θ_s·S_s, so spiking layer l integrates
    X_l = A_l(...) / θ_l (θ units), which is the same computation as folding θ into the weights.
  * The TSA-ReLU recurrence runs over T+L steps as in-place tensor ops on h, G ([M] per slot row):
    threshold v = β^L/2, ternary spikes, reset by β^L, firing only at k ≥ L, slot i at step L+i.
  * The input encoder is the signed encoder of §4; the output is the integrator Σ_k w_k·A_out(k).
  * Float32 throughout (percentiles and report statistics are taken in Float64 with NumPy).
  * Calibration: θ = p/Σw, p = NumPy's (linear-interpolation) 99.99th percentile of the non-zero
    ReLU outputs over the calibration inputs, computed EXACTLY (no subsampling: np.percentile on the
    full Float64 copy of the non-zero values; torch.quantile is not used because of its input-size
    limit). θ_0 uses |x|.

Modes:
    python bench/torch_reference.py [--model vgg16|resnet18|vgg-tiny] [--batch 16] [-T 10]
        [--beta 1.5] [--silent 1] [--threads 2] [--iters N] [--json]      # benchmark
    python bench/torch_reference.py --model vgg-tiny --export DIR/model.onnx  # + DIR/model.pt
        [--data N] [--calib N]     # also write DIR/data.npy and DIR/calib.npy (N(0,1) inputs)
    python bench/torch_reference.py --check BUNDLE_DIR [-T ..] [--beta ..] [--silent ..]
        # BUNDLE_DIR must hold model.pt written by --export (the built-in module definitions are
        # reused with those weights; ONNX files from elsewhere are not read).
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import resource
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

SEED = 0


# =========================================================================== networks


class Act(nn.Module):
    """A ReLU that the SNN run replaces by a TSA-ReLU spiking layer (exports as ONNX Relu)."""

    def __init__(self):
        super().__init__()
        self.hook = None
        self.index = -1

    def forward(self, x):
        return F.relu(x) if self.hook is None else self.hook(self, x)


def vgg_features(cfg, in_ch):
    layers = []
    c = in_ch
    for v in cfg:
        if v == "P":
            layers.append(nn.AvgPool2d(2))
        else:
            layers += [nn.Conv2d(c, v, 3, padding=1, bias=True), Act()]
            c = v
    return nn.Sequential(*layers), c


class VGG(nn.Module):
    def __init__(self, cfg, in_ch, flat, hidden, classes=10):
        super().__init__()
        self.features, _ = vgg_features(cfg, in_ch)
        cls = []
        d = flat
        for hdim in hidden:
            cls += [nn.Linear(d, hdim), Act()]
            d = hdim
        cls.append(nn.Linear(d, classes))
        self.classifier = nn.Sequential(*cls)

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x), 1))


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.act1 = Act()
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, 0, bias=False), nn.BatchNorm2d(cout))
        self.act2 = Act()

    def forward(self, x):
        y = self.bn2(self.conv2(self.act1(self.bn1(self.conv1(x)))))
        skip = x if self.down is None else self.down(x)
        return self.act2(y + skip)


class ResNet18(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.act1 = Act()
        blocks = []
        cin = 64
        for i, cout in enumerate([64, 128, 256, 512]):
            for j in range(2):
                blocks.append(BasicBlock(cin, cout, 2 if (j == 0 and i > 0) else 1))
                cin = cout
        self.layers = nn.Sequential(*blocks)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(512, classes)

    def forward(self, x):
        x = self.layers(self.act1(self.bn1(self.conv1(x))))
        return self.fc(torch.flatten(self.pool(x), 1))


VGG16_CFG = [64, 64, "P", 128, 128, "P", 256, 256, 256, "P", 512, 512, 512, "P", 512, 512, 512, "P"]
MODELS = {
    # name: (constructor, input shape)
    "vgg16": (lambda: VGG(VGG16_CFG, 3, 512, [512, 512]), (3, 32, 32)),
    "resnet18": (lambda: ResNet18(), (3, 32, 32)),
    "vgg-tiny": (lambda: VGG([8, 16, "P", 16, "P"], 3, 16 * 4 * 4, [32]), (3, 16, 16)),
}


def fold_bn(module: nn.Module) -> nn.Module:
    """Fold every BatchNorm2d that directly follows a bias-free conv into that conv (eval mode)."""

    def fold(conv: nn.Conv2d, bn: nn.BatchNorm2d) -> nn.Conv2d:
        out = nn.Conv2d(conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding,
                        bias=True)
        scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
        out.weight.data = conv.weight.data * scale.view(-1, 1, 1, 1)
        b0 = conv.bias.data if conv.bias is not None else torch.zeros_like(bn.running_mean)
        out.bias.data = bn.bias.data + (b0 - bn.running_mean) * scale
        return out

    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, BasicBlock):
                m.conv1, m.bn1 = fold(m.conv1, m.bn1), nn.Identity()
                m.conv2, m.bn2 = fold(m.conv2, m.bn2), nn.Identity()
                if m.down is not None:
                    m.down = nn.Sequential(fold(m.down[0], m.down[1]))
            elif isinstance(m, ResNet18):
                m.conv1, m.bn1 = fold(m.conv1, m.bn1), nn.Identity()
    return module


def build(name: str, seed: int = SEED) -> nn.Module:
    """The named network with fixed-seed random weights, BatchNorm folded, eval mode."""
    ctor, _ = MODELS[name]
    torch.manual_seed(seed)
    net = ctor()
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")
                if m.bias is not None:
                    nn.init.normal_(m.bias, 0.0, 0.01)
            elif isinstance(m, nn.BatchNorm2d):  # non-trivial statistics so folding does something
                m.weight.uniform_(0.8, 1.2)
                m.bias.normal_(0.0, 0.01)
                m.running_mean.normal_(0.0, 0.05)
                m.running_var.uniform_(0.8, 1.2)
    net = fold_bn(net).eval()
    for i, a in enumerate(acts(net)):
        a.index = i
    return net


def acts(net: nn.Module) -> list[Act]:
    return [m for m in net.modules() if isinstance(m, Act)]


# =========================================================================== CSS coding


class Coding:
    def __init__(self, T: int, beta: float, silent: int, negative: bool = True):
        self.T, self.beta, self.L, self.negative = T, beta, silent, negative
        self.w64 = beta ** np.arange(T - 1, -1, -1, dtype=np.float64)  # w_i = β^(T-1-i)
        self.sum_w = float(self.w64.sum())
        self.w = torch.tensor(self.w64, dtype=torch.float32)
        self.bl = beta ** silent
        self.v = self.bl / 2 if negative else self.bl


def encode(x: torch.Tensor, theta0: float, c: Coding) -> torch.Tensor:
    """Signed encoder (§4): x [B, ...] -> spikes [T, B, ...] in {-1, 0, 1}."""
    u = x.double() / theta0 / (c.beta ** c.T)  # Float64, ties fire (docs/numerics.md §4)
    out = torch.empty((c.T,) + tuple(x.shape), dtype=x.dtype)
    for t in range(c.T):
        u = u * c.beta
        s = (u >= 1 - 1e-6).double() - (u <= -1 + 1e-6).double()
        out[t] = s.to(x.dtype)
        u = u - s
    return out


def tsa_relu(X: torch.Tensor, c: Coding):
    """TSA-ReLU (§5) on X [T, M] (θ units). Returns spikes S [T, M] and h_final [M]."""
    T, L, beta = c.T, c.L, c.beta
    M = X.shape[1]
    h = torch.zeros(M, dtype=X.dtype)
    G = torch.zeros(M, dtype=X.dtype)
    o = torch.empty(M, dtype=X.dtype)
    neg = torch.empty(M, dtype=X.dtype)
    S = torch.empty((T, M), dtype=X.dtype)
    for k in range(T + L):
        if k < T:
            torch.add(X[k], h, alpha=beta, out=h)  # h = β·h + X[k] in one pass
        else:
            h.mul_(beta)
        if k < L:
            continue  # G is still 0 and nothing may fire
        G.mul_(beta)
        torch.clamp(h, min=0.0, out=o)  # o = (h ≥ 0) ? h - G : -G  ==  max(h, 0) - G
        o.sub_(G)
        s = S[k - L]
        torch.ge(o, c.v, out=s)  # bool -> float copy
        if c.negative:
            torch.le(o, -c.v, out=neg)
            s.sub_(neg)
        G.add_(s, alpha=c.bl)
    return S, h


class LayerStats:
    def __init__(self, name: str):
        self.name = name
        self.neurons = 0
        self.pos = self.neg = self.overflow = self.coupling = 0
        self.residuals: list[np.ndarray] = []
        self.violations = None
        self.first = None
        self.sq_err = 0.0
        self.count = 0

    def add(self, S: torch.Tensor, h: torch.Tensor, c: Coding, theta: float, ann: np.ndarray | None):
        S64 = S.double().numpy()
        a = np.maximum(h.double().numpy(), 0.0) / c.bl
        e = c.w64 @ S64
        u = a - e
        self.residuals.append(np.abs(u))
        self.pos += int((S64 > 0).sum())
        self.neg += int((S64 < 0).sum())
        # decoupling margins (§6), k0 = 0 .. T+L
        T, L = c.T, c.L
        cum = np.concatenate([np.zeros((1,) + a.shape), np.cumsum(c.w64[:, None] * S64, axis=0)])
        tail = np.concatenate([np.cumsum(c.w64[::-1])[::-1], [0.0]])
        viol = np.empty((T + L + 1,) + a.shape, dtype=bool)
        for k0 in range(T + L + 1):
            j = min(max(k0 - L, 0), T)
            viol[k0] = (1.0 + tail[j]) - np.abs(a - cum[j]) <= 0
        vs = viol.sum(axis=1)
        self.violations = vs if self.violations is None else self.violations + vs
        any_v = viol.any(axis=0)
        hist = np.bincount(np.argmax(viol, axis=0)[any_v], minlength=T + L + 1)
        self.first = hist if self.first is None else self.first + hist
        self.overflow += int(viol[0].sum())
        self.coupling += int((~viol[0] & any_v).sum())
        if ann is not None:
            self.sq_err += float(((theta * e - ann) ** 2).sum())
        self.count += a.size


class SNN:
    """The converted network: a copy of the ANN with biases scaled by 1/Σw and every Act hooked."""

    def __init__(self, net: nn.Module, coding: Coding, thetas: list[float], theta0: float):
        self.c = coding
        self.net = copy.deepcopy(net)
        with torch.no_grad():
            for m in self.net.modules():
                if isinstance(m, (nn.Conv2d, nn.Linear)) and m.bias is not None:
                    m.bias.div_(coding.sum_w)
        self.acts = acts(self.net)
        self.thetas = thetas
        self.theta0 = theta0
        self.stats: list[LayerStats] | None = None
        self.ann_acts: list[torch.Tensor] | None = None
        for a in self.acts:
            a.hook = self._spiking

    def _spiking(self, act: Act, z: torch.Tensor) -> torch.Tensor:
        T = self.c.T
        theta = self.thetas[act.index]
        X = (z / theta).reshape(T, -1)
        S, h = tsa_relu(X, self.c)
        if self.stats is not None:
            ann = self.ann_acts[act.index].double().numpy().reshape(-1) if self.ann_acts is not None else None
            st = self.stats[act.index]
            st.add(S, h, self.c, theta, ann)
        return S.mul_(theta).view(z.shape)

    @torch.inference_mode()
    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """x [B, ...] -> decoded output [B, classes] in ANN units."""
        T, B = self.c.T, x.shape[0]
        s0 = encode(x, self.theta0, self.c)
        z = self.net(s0.mul_(self.theta0).view((T * B,) + tuple(x.shape[1:])))
        return torch.tensordot(self.c.w, z.view((T, B) + tuple(z.shape[1:])), dims=([0], [0]))


def percentile_nonzero(values: np.ndarray, q: float) -> float:
    nz = values[values != 0].astype(np.float64)
    return float(np.percentile(nz, q)) if nz.size else 0.0


@torch.inference_mode()
def calibrate(net: nn.Module, calib: torch.Tensor, c: Coding, q: float = 99.99, chunk: int = 64):
    """θ_l = p_l/Σw, θ_0 = p_0/Σw; exact NumPy percentiles over all non-zero values."""
    collected: list[list[np.ndarray]] = [[] for _ in acts(net)]

    def hook(act, z):
        y = F.relu(z)
        v = y.numpy().reshape(-1)
        collected[act.index].append(v[v != 0].copy())
        return y

    for a in acts(net):
        a.hook = hook
    try:
        for lo in range(0, len(calib), chunk):
            net(calib[lo:lo + chunk])
    finally:
        for a in acts(net):
            a.hook = None
    thetas = []
    for vals in collected:
        p = percentile_nonzero(np.concatenate(vals), q)
        thetas.append((p if p > 0 else 1.0) / c.sum_w)
    theta0 = percentile_nonzero(np.abs(calib.numpy()), q) / c.sum_w
    return thetas, theta0


# =========================================================================== benchmark


def timed(fn, iters: int, warmup: int = 2) -> float:
    for _ in range(warmup):
        fn()
    ts = []
    for _ in range(iters):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return float(np.median(ts))


def bench(args) -> dict:
    torch.set_num_threads(args.threads)
    c = Coding(args.T, args.beta, args.silent)
    net = build(args.model)
    shape = MODELS[args.model][1]
    g = torch.Generator().manual_seed(1)
    calib = torch.randn((args.calib_samples,) + shape, generator=g)
    x = torch.randn((args.batch,) + shape, generator=g)
    thetas, theta0 = calibrate(net, calib, c)  # not timed
    snn = SNN(net, c, thetas, theta0)

    def ann():
        with torch.inference_mode():
            net(x)

    t_ann = timed(ann, args.iters)
    t_snn = timed(lambda: snn(x), args.iters)
    snn_rate, ann_rate = args.batch / t_snn, args.batch / t_ann
    flops = dense_flops(net, shape)
    return {
        "model": args.model, "batch": args.batch, "T": args.T, "silent": args.silent, "threads": args.threads,
        "snn_samples_per_s": round(snn_rate, 3), "ann_samples_per_s": round(ann_rate, 3),
        # extra fields (not in the cssdbg bench schema): the same dense-equivalent definition as
        # cssdbg (ANN conv/linear FLOPs per sample x T x SNN samples/s) and this process's peak RSS
        "ann_flops_per_sample": flops,
        "dense_gflops": round(flops * args.T * snn_rate / 1e9, 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 3),
    }


@torch.inference_mode()
def dense_flops(net: nn.Module, shape) -> int:
    """2 x multiply-accumulates of every Conv2d / Linear for one sample (biases, pools, adds not counted)."""
    total = 0

    def hook(m, inp, out):
        nonlocal total
        if isinstance(m, nn.Conv2d):
            k = m.in_channels // m.groups * m.kernel_size[0] * m.kernel_size[1]
            total += 2 * out[0].numel() * k
        else:
            total += 2 * m.in_features * m.out_features

    hs = [m.register_forward_hook(hook) for m in net.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    try:
        net(torch.zeros((1,) + tuple(shape)))
    finally:
        for h in hs:
            h.remove()
    return total


# =========================================================================== export / check


def export(args) -> None:
    out = Path(args.export)
    out.parent.mkdir(parents=True, exist_ok=True)
    net = build(args.model)
    shape = MODELS[args.model][1]
    dummy = torch.randn((1,) + shape)
    warnings.filterwarnings("ignore", category=DeprecationWarning)  # legacy exporter is what we want
    torch.onnx.export(net, (dummy,), str(out), dynamo=False, opset_version=17, input_names=["input"],
                      output_names=["logits"], dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
    torch.save({"model": args.model, "seed": SEED, "state_dict": net.state_dict()}, out.with_suffix(".pt"))
    rng = np.random.default_rng(args.data_seed)
    if args.data:
        np.save(out.parent / "data.npy", rng.standard_normal((args.data,) + shape).astype(np.float32))
    if args.calib:
        np.save(out.parent / "calib.npy", rng.standard_normal((args.calib,) + shape).astype(np.float32))


@torch.inference_mode()
def check(args) -> dict:
    torch.set_num_threads(args.threads)
    bundle = Path(args.check)
    if not (bundle / "model.pt").exists():
        raise SystemExit(f"{bundle}: no model.pt; --check only reads bundles written by --export "
                         "(the built-in module definitions are reused with the saved weights)")
    saved = torch.load(bundle / "model.pt", weights_only=True)
    name = saved["model"]
    net = build(name)
    net.load_state_dict(saved["state_dict"])
    data = torch.from_numpy(np.load(bundle / "data.npy").astype(np.float32))
    calib_path = bundle / "calib.npy"
    calib = torch.from_numpy(np.load(calib_path).astype(np.float32)) if calib_path.exists() else data
    labels = np.load(bundle / "labels.npy") if (bundle / "labels.npy").exists() else None
    if args.limit:
        data = data[:args.limit]
        labels = labels[:args.limit] if labels is not None else None
    c = Coding(args.T, args.beta, args.silent, negative=not args.no_negative)
    thetas, theta0 = calibrate(net, calib, c, args.percentile)
    snn = SNN(net, c, thetas, theta0)
    layer_acts = acts(net)
    snn.stats = [LayerStats(f"relu{i}") for i in range(len(layer_acts))]

    ann_out, snn_out = [], []
    chunk = 50
    for lo in range(0, len(data), chunk):
        xb = data[lo:lo + chunk]
        kept: list[torch.Tensor] = [None] * len(layer_acts)

        def keep(act, z, kept=kept):
            y = F.relu(z)
            kept[act.index] = y
            return y

        for a in layer_acts:
            a.hook = keep
        ann_out.append(net(xb))
        for a in layer_acts:
            a.hook = None
        for st, y in zip(snn.stats, kept):
            st.neurons = int(y[0].numel())
        snn.ann_acts = kept
        snn_out.append(snn(xb))
    ann_pred = torch.cat(ann_out).argmax(dim=1).numpy()
    snn_pred = torch.cat(snn_out).argmax(dim=1).numpy()
    n_layers = len(layer_acts)
    layers = []
    for i, st in enumerate(snn.stats):
        res = np.concatenate(st.residuals)
        layers.append({
            "name": st.name, "neurons": st.neurons, "window_start": i * c.L,  # every Act follows the previous one
            "theta": thetas[i],
            "residual_p999": float(np.percentile(res, 99.9)), "residual_max": float(res.max()),
            "over_one": int((res >= 1).sum()), "overflow": st.overflow, "coupling": st.coupling,
            "violations_by_step": [int(v) for v in st.violations],
            "first_violation_by_step": [int(v) for v in st.first],
            "spikes_positive": st.pos, "spikes_negative": st.neg,
            "activation_rmse": math.sqrt(st.sq_err / st.count),
        })
    return {
        "model": name,
        "config": {"T": c.T, "beta": c.beta, "silent": c.L, "negative": c.negative, "percentile": args.percentile},
        "samples": int(len(data)),
        "latency": c.T + (n_layers + 1) * c.L,  # longest path passes every spiking layer
        "ann_accuracy": float((ann_pred == labels).mean()) if labels is not None else None,
        "snn_accuracy": float((snn_pred == labels).mean()) if labels is not None else None,
        "agreement": float((snn_pred == ann_pred).mean()),
        "theta_input": theta0,
        "layers": layers,
        "ann_predictions": [int(p) for p in ann_pred],
        "snn_predictions": [int(p) for p in snn_pred],
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="vgg16", choices=sorted(MODELS))
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("-T", type=int, default=10)
    ap.add_argument("--beta", type=float, default=1.5)
    ap.add_argument("--silent", type=int, default=1)
    ap.add_argument("--no-negative", action="store_true", help="positive spikes only (check mode)")
    ap.add_argument("--percentile", type=float, default=99.99)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--iters", type=int, default=5, help="timed iterations (median reported)")
    ap.add_argument("--calib-samples", type=int, default=4, help="random calibration samples (bench)")
    ap.add_argument("--json", action="store_true", help="print JSON only")
    ap.add_argument("--export", metavar="PATH.onnx", help="write ONNX (opset 17) + PATH.pt state dict")
    ap.add_argument("--data", type=int, default=0, help="with --export: write N random inputs as data.npy")
    ap.add_argument("--calib", type=int, default=0, help="with --export: write N random inputs as calib.npy")
    ap.add_argument("--data-seed", type=int, default=2)
    ap.add_argument("--check", metavar="BUNDLE_DIR", help="simulate a bundle written by --export")
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--indent", type=int, default=None)
    args = ap.parse_args(argv)

    if args.export:
        export(args)
        return 0
    if args.check:
        print(json.dumps(check(args), indent=args.indent))
        return 0
    r = bench(args)
    if args.json:
        print(json.dumps(r))
    else:
        print(f"{r['model']} batch {r['batch']} T {r['T']} L {r['silent']} threads {r['threads']}: "
              f"SNN {r['snn_samples_per_s']:.2f} samples/s, ANN {r['ann_samples_per_s']:.2f} samples/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
