"""Fine-tuning with the decoupling condition as the target (docs/finetune.md).

With θ absorbed into the weights (css-spec §3: `W_l = θ_{l-1}/θ_l · Ŵ_l`), amplitude adjustment is
an adjustment of the normalised weights, so the conversion's losses can be trained away: the ANN's
weights (and optionally θ) are trained so that the converted SNN at one config (T, β, L, negative
spikes) classifies as the ANN does. The SNN is simulated exactly as css-spec §4-§5 say (the same
spikes as `cssdbg eval`), with a surrogate gradient for the TSA spike (a triangle of half-width
the threshold v), back-propagated through the whole window. The loss is a sum of

- `snn`: cross-entropy of the SNN's decoded output,
- `ann`: cross-entropy of the ANN's output (keeps the ANN itself accurate),
- `margin`: the decoupling margins of §6 as a penalty, Σ_k0 relu(-margin(k0)) per neuron, with
  the same surrogate spikes,

chosen with `loss=`: `snn` (the default: snn + ann), `both` (snn + ann + λ·margin) or `margin`
(ann + λ·margin). Measured on the digits samples (docs/finetune.md), the margin penalty lowers
the violation counts but costs SNN accuracy; the SNN's own loss reaches the ANN's accuracy. The graph stays the same; only initializer values change (onnx_weights).
"""

from __future__ import annotations

import copy
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .config import Config
from .errors import CSSError, SettingError
from .jsonfmt import render
from .network import CSSNetwork, evaluate_dataset, load_labels, load_npy, resolve_bundle
from .onnx_import import load_graph
from .onnx_weights import analyse, frozen, write_model
from .theta import ThetaFile, atomic_write, read_theta, write_theta

FORMAT = "cssdbg-finetune/1"
LOSSES = ("snn", "both", "margin")
MAX_SUM_WEIGHTS = 65536.0  # cssdbg's Float32 precision limit on Σw (ConversionConfig.maxSumWeights)


def max_T(beta: float) -> int:
    """The largest T (≤ 64) cssdbg simulates within its precision limit for this β."""
    total, t = 0.0, 0
    while t < 64 and total + beta ** t <= MAX_SUM_WEIGHTS:
        total += beta ** t
        t += 1
    return max(t, 1)


def check_config(cfg: Config) -> Config:
    cfg.validate()
    limit = max_T(cfg.beta)
    if cfg.T > limit:
        b = str(int(cfg.beta)) if cfg.beta == round(cfg.beta) else repr(cfg.beta)
        raise SettingError(f"T must be at most {limit} for beta {b} (Float32 precision, docs/numerics.md §10), got {cfg.T}")
    return cfg


# ---------------------------------------------------------------------- surrogate spike


class SurrogateSpike(torch.autograd.Function):
    """Heaviside step `x ≥ 0` forward (the simulator's spike, bit for bit); backward the
    triangle `max(0, 1 - |x|/w) / w`, the derivative of `relaxed(x, w)`. With `smooth=True`
    the forward is `relaxed` itself, so the backward is its exact gradient (what the
    finite-difference test checks)."""

    @staticmethod
    def forward(ctx, x, width: float, smooth: bool = False):
        ctx.save_for_backward(x)
        ctx.width = width
        return relaxed(x, width) if smooth else (x >= 0).to(x.dtype)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        w = ctx.width
        return g * torch.clamp(1 - x.abs() / w, min=0) / w, None, None


def relaxed(x, w: float):
    """The integral of the surrogate triangle: 0 below -w, 1 above w, quadratic between."""
    y = torch.where(x < 0, (x + w).clamp(min=0) ** 2 / (2 * w * w), 1 - (w - x).clamp(min=0) ** 2 / (2 * w * w))
    return y


def tsa_window(X, cfg: Config, smooth: bool = False):
    """TSA-ReLU over the window (§5) on inputs X [T, P] in θ units, differentiably: spikes
    S [T, P] (surrogate gradient) and h after the last step."""
    T, L = cfg.T, cfg.silent
    beta, thr, reset = cfg.beta, cfg.threshold, cfg.reset
    h = torch.zeros_like(X[0])
    g = torch.zeros_like(X[0])
    S = []
    for k in range(T + L):
        h = beta * h + X[k] if k < T else beta * h
        if k < L:
            continue
        g = beta * g
        o = torch.where(h >= 0, h - g, -g)
        s = SurrogateSpike.apply(o - thr, thr, smooth)
        if cfg.negative:
            s = s - SurrogateSpike.apply(-o - thr, thr, smooth)
        S.append(s)
        g = g + reset * s
    return torch.stack(S), h


def margin_penalty(S, h, cfg: Config):
    """Σ_k0 relu(-margin(k0)) (§6) per neuron, averaged over neurons: zero when the decoupling
    condition holds everywhere."""
    T, L = cfg.T, cfg.silent
    w = cfg.slot_weights
    a = torch.clamp(h, min=0) / cfg.reset
    pending = a
    total = torch.zeros_like(a)
    for k0 in range(T + L + 1):
        slot = k0 - 1 - L
        if 0 <= slot < T:
            pending = pending - w[slot] * S[slot]
        i0 = max(0, k0 - L)
        cap = 1 + (sum(w[i0:]) if i0 < T else 0.0)
        total = total + torch.relu(pending.abs() - cap)
    return total.mean()


# ---------------------------------------------------------------------- the trainable network


class Trainable(nn.Module):
    """A CSSNetwork whose trainable weights are Parameters (the others stay buffers), θ of the
    spiking layers as log-parameters (trained only with train_theta), and a differentiable SNN."""

    def __init__(self, net: CSSNetwork, sources: dict, train_theta: bool):
        super().__init__()
        self.net = net
        self.sources = sources
        body = net.body
        for k, s in sources.items():
            for r in s.trainable:
                name = f"op{k}_{r}"
                t = body._buffers.pop(name)
                body.register_parameter(name, nn.Parameter(t.clone()))
        self.log_theta = nn.Parameter(torch.tensor([math.log(t) for t in net.theta], dtype=torch.float64),
                                      requires_grad=train_theta)

    def sync_theta(self):
        self.net.theta = [float(v) for v in torch.exp(self.log_theta.detach()).tolist()]

    def weights(self) -> dict:
        return {k: {r: getattr(self.net.body, f"op{k}_{r}").detach().cpu().numpy().copy() for r in s.trainable}
                for k, s in self.sources.items()}

    def ann_logits(self, x):
        return self.net.body.run(x, 1.0, lambda _, z: torch.relu(z))

    def snn_logits(self, x, with_margins: bool, smooth: bool = False):
        net, cfg = self.net, self.net.config
        n = x.shape[0]
        with torch.no_grad():
            s0 = net.encode(x)
        slots = (s0 * net.theta_input).to(net.dtype).reshape((cfg.T * n,) + tuple(net.input_shape))
        theta = torch.exp(self.log_theta).to(net.dtype)
        penalties = []

        def relu(l, z):
            shape = z.shape
            X = z.reshape(cfg.T, -1) * (1 / theta[l])  # as the simulator: times 1/θ
            S, h = tsa_window(X, cfg, smooth)
            if with_margins:
                penalties.append(margin_penalty(S, h, cfg))
            return (S * theta[l]).reshape(shape)

        y = net.body.run(slots, 1.0 / cfg.sum_weights, relu)
        y = y.reshape((cfg.T, n) + tuple(y.shape[1:]))
        w = torch.tensor(cfg.slot_weights, dtype=y.dtype, device=y.device).reshape((cfg.T,) + (1,) * (y.dim() - 1))
        out = (w * y).sum(0).reshape(n, -1)
        return out, (torch.stack(penalties).sum() if penalties else None)


# ---------------------------------------------------------------------- helpers


def cssdbg_binary() -> str | None:
    """$CSSDBG, else `cssdbg` on PATH; None when neither is an executable file."""
    b = os.environ.get("CSSDBG")
    if b:
        return b if os.path.isfile(b) and os.access(b, os.X_OK) else None
    return shutil.which("cssdbg")


def cssdbg_eval(binary: str, args: list, timeout: float = 1800) -> dict:
    p = subprocess.run([binary, "eval", "--json", *map(str, args)], capture_output=True, text=True, timeout=timeout)
    if p.returncode != 0:
        raise RuntimeError((p.stderr.strip().splitlines() or [f"exit status {p.returncode}"])[-1])
    return json.loads(p.stdout)


def summary(r: dict, source: str) -> dict:
    """The before/after numbers of an eval report."""
    return {"source": source, "samples": r["samples"], "latency": r["latency"], "ann_accuracy": r["ann_accuracy"],
            "snn_accuracy": r["snn_accuracy"], "agreement": r["agreement"],
            "violations": int(sum(l["overflow"] + l["coupling"] for l in r["layers"])),
            "overflow": int(sum(l["overflow"] for l in r["layers"])),
            "coupling": int(sum(l["coupling"] for l in r["layers"])),
            "over_one": int(sum(l["over_one"] for l in r["layers"])),
            "layers": [{"name": l["name"], "theta": l["theta"], "residual_p999": l["residual_p999"],
                        "overflow": l["overflow"], "coupling": l["coupling"]} for l in r["layers"]]}


def _log(msg: str, quiet: bool) -> None:
    if not quiet:
        print(msg, file=sys.stderr, flush=True)


def _pct(v) -> str:
    return "n/a" if v is None else f"{100 * v:.2f}%"


def _accuracies(tr: Trainable, x, y, batch: int) -> tuple:
    """(ANN accuracy, SNN accuracy, violations, SNN cross-entropy) on (x, y), the first three
    with the exact simulation (the training forward fires the same spikes, so its loss is the
    simulated network's)."""
    tr.sync_theta()
    r = evaluate_dataset(tr.net, x, y, batch)
    s = summary(r, "cssdbg-torch")
    ce, dev = 0.0, tr.net.device
    with torch.no_grad():
        for i in range(0, len(x), batch):
            xb = torch.from_numpy(np.ascontiguousarray(x[i:i + batch])).to(dev)
            yb = torch.from_numpy(np.asarray(y[i:i + batch], np.int64)).to(dev)
            ce += float(F.cross_entropy(tr.snn_logits(xb, False)[0], yb, reduction="sum"))
    return r["ann_accuracy"], r["snn_accuracy"], s["violations"], ce / len(x)


# ---------------------------------------------------------------------- finetune


def finetune(model, train_data, train_labels, out, *, calib=None, data=None, labels=None, theta=None, T=None,
             beta=None, silent=None, negative=None, epochs: int = 20, lr: float = 1e-3, batch: int = 64,
             device: str = "cpu", seed: int = 0, loss: str = "snn", margin_weight: float = 1.0,
             train_theta: bool = False, holdout: float = 0.15, threads: int | None = None,
             use_cssdbg: bool = True, quiet: bool = False, command: list | None = None) -> dict:
    """Fine-tunes the bundle (or .onnx) `model` so that its converted SNN at (T, β, L, negative)
    is lossless, and writes the bundle `out` (model.onnx, theta.json, data.npy, labels.npy,
    calib.npy, finetune.json). Returns finetune.json's object.

    Settings left at None come from the bundle's theta.json config, else T 10, β 1.5, L 1,
    negative spikes. θ starts from the bundle's theta.json when its config is the one trained
    for, else from calibration (`calib`, the bundle's calib.npy, else the training data).
    Evaluation data (`data`/`labels`, default the bundle's data.npy/labels.npy) is never trained
    on; a `holdout` fraction of the training data picks the best epoch. Bad input raises
    CSSError/SettingError before anything is written."""
    t_start = time.time()
    if loss not in LOSSES:
        raise SettingError(f"loss must be one of {', '.join(LOSSES)}, not '{loss}'")
    for name, v, ok in (("epochs", epochs, epochs >= 0), ("batch", batch, batch > 0), ("lr", lr, lr > 0 and math.isfinite(lr)),
                        ("holdout", holdout, 0 < holdout < 1), ("margin weight", margin_weight, margin_weight >= 0)):
        if not ok:
            raise SettingError(f"{name} out of range: {v}")
    if str(device).startswith("cuda") and not torch.cuda.is_available():
        raise SettingError("--device cuda: no CUDA device is available to PyTorch")
    if str(device) != "cpu" and not str(device).startswith("cuda"):
        raise SettingError(f"--device must be cpu or cuda, not '{device}'")
    out = Path(out)
    if out.exists() and not (out.is_dir() and (not any(out.iterdir()) or (out / "finetune.json").is_file())):
        raise CSSError(str(out), "exists and is not an output of finetune", "choose another --out or remove it")
    if train_labels is None:
        raise CSSError(str(train_data), "training data without labels", "pass --train-labels Y.npy")

    b = resolve_bundle(model, data=data, labels=labels, calib=calib, theta=theta)
    graph = load_graph(b["model"])
    tensors = [o.output for o in graph.relus]
    if not tensors:
        raise CSSError(b["model"], "has no Relu: there is no spiking layer to fine-tune")
    tf = read_theta(b["theta"], tensors) if b["theta"] else None
    cfg = (tf.config if tf else Config()).with_(T=T, beta=None if beta is None else float(beta), silent=silent,
                                                negative=negative)
    check_config(cfg)
    out_shape = next((o.shape for o in graph.ops if o.output == graph.output), None)
    classes = int(np.prod(out_shape)) if out_shape else None
    x_all = load_npy(str(train_data), graph.input_shape)
    y_all = load_labels(str(train_labels), len(x_all), classes)
    if b["data"] is not None and b["labels"] is None:
        raise CSSError(b["data"], "evaluation data without labels", "pass --labels L.npy (or put labels.npy in the bundle)")
    if b["labels"] is not None and b["data"] is None:
        raise CSSError(b["labels"], "labels given without a data file", "pass --data too")
    x_eval = load_npy(b["data"], graph.input_shape) if b["data"] else None
    y_eval = load_labels(b["labels"], len(x_eval), classes) if b["data"] else None
    x_cal = load_npy(b["calib"], graph.input_shape) if b["calib"] else None
    if len(x_all) < 4:
        raise CSSError(str(train_data), f"holds {len(x_all)} samples; fine-tuning needs at least 4 (some are held out)")

    # Deterministic from here: seed, one generator for the split and the batches.
    if threads:
        torch.set_num_threads(threads)
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    perm = torch.randperm(len(x_all), generator=gen).numpy()
    n_hold = max(1, int(round(holdout * len(x_all))))
    hold, train_idx = np.sort(perm[:n_hold]), perm[n_hold:]
    x_tr, y_tr, x_ho, y_ho = x_all[train_idx], y_all[train_idx], x_all[hold], y_all[hold]
    if x_eval is None:
        x_eval, y_eval, eval_source = x_ho, y_ho, "the held-out part of the training data"
    else:
        eval_source = b["data"]
    overlap = _overlap(x_all, x_eval) if b["data"] else None
    if x_cal is None:
        x_cal, calib_source = x_tr, "the training data"
    else:
        calib_source = b["calib"]

    dev = torch.device(device)
    net = CSSNetwork(graph, cfg, 1.0, [1.0] * len(tensors), name=out.name).to(dev)
    theta_from = "calibration"
    if tf is not None and (tf.config.T, tf.config.beta, tf.config.silent, tf.config.negative) == \
            (cfg.T, cfg.beta, cfg.silent, cfg.negative):
        net.theta_input, net.theta = tf.input, [tf.layers[t] for t in tensors]
        theta_from = b["theta"]
    else:
        net.calibrate(x_cal, batch_size=256)
    theta0 = ThetaFile(out.name, cfg, net.theta_input, dict(zip(tensors, net.theta)))
    import onnx
    sources = analyse(onnx.load(b["model"]), graph)
    if not sources:
        raise CSSError(b["model"], "has no weight this can train (every weight is shared or computed)")
    tr = Trainable(net, sources, train_theta).to(dev)
    params = [p for p in tr.parameters() if p.requires_grad]
    opt = torch.optim.Adam(params, lr=lr)
    steps = max(1, epochs * ((len(x_tr) + batch - 1) // batch))
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)
    xt = torch.from_numpy(x_tr).to(dev)
    yt = torch.from_numpy(y_tr).to(dev)

    _log(f"finetune {b['model']}: T={cfg.T} β={cfg.beta:g} L={cfg.silent} negative={'on' if cfg.negative else 'off'} "
         f"loss={loss} θ from {theta_from}; {len(x_tr)} training samples, {len(x_ho)} held out, "
         f"evaluation on {len(x_eval)} ({eval_source})", quiet)
    ann0, snn0, v0, ce0 = _accuracies(tr, x_ho, y_ho, 256)
    history = [{"epoch": 0, "loss": None, "ann_accuracy": ann0, "snn_accuracy": snn0, "snn_loss": ce0, "violations": v0,
                "seconds": 0.0}]
    _log(f"epoch 0/{epochs}  (start)      held-out ANN {_pct(ann0)}  SNN {_pct(snn0)}  SNN loss {ce0:.4f}  "
         f"violations {v0}", quiet)
    best = (_score(history[0]), 0, copy.deepcopy(tr.state_dict()))
    interrupted = False
    old_handler = None
    try:
        if threading_main():
            old_handler = signal.signal(signal.SIGINT, signal.default_int_handler)
        for epoch in range(1, epochs + 1):
            t0 = time.time()
            tr.train()
            order = torch.randperm(len(xt), generator=gen)
            total, count = 0.0, 0
            for i in range(0, len(xt), batch):
                idx = order[i:i + batch].to(dev)
                xb, yb = xt[idx], yt[idx]
                opt.zero_grad()
                terms = []
                if loss in ("both", "snn", "margin"):
                    terms.append(F.cross_entropy(tr.ann_logits(xb).reshape(len(xb), -1), yb))
                if loss in ("both", "snn") or margin_weight > 0:
                    y_snn, pen = tr.snn_logits(xb, with_margins=loss in ("both", "margin") and margin_weight > 0)
                    if loss in ("both", "snn"):
                        terms.append(F.cross_entropy(y_snn, yb))
                    if pen is not None:
                        terms.append(margin_weight * pen)
                lv = sum(terms)
                lv.backward()
                opt.step()
                sched.step()
                total += float(lv.detach()) * len(xb)
                count += len(xb)
            tr.eval()
            a, s, v, ce = _accuracies(tr, x_ho, y_ho, 256)
            rec = {"epoch": epoch, "loss": total / max(count, 1), "ann_accuracy": a, "snn_accuracy": s, "snn_loss": ce,
                   "violations": v, "seconds": round(time.time() - t0, 2)}
            history.append(rec)
            mark = ""
            if _score(rec) > best[0]:
                best = (_score(rec), epoch, copy.deepcopy(tr.state_dict()))
                mark = "  *best"
            _log(f"epoch {epoch}/{epochs}  loss {rec['loss']:.4f}  held-out ANN {_pct(a)}  SNN {_pct(s)}  "
                 f"SNN loss {ce:.4f}  violations {v}  ({rec['seconds']:.1f} s){mark}", quiet)
    except KeyboardInterrupt:
        interrupted = True
        _log(f"interrupted: writing the best epoch so far ({best[1]})", quiet)
    finally:
        if old_handler is not None:
            signal.signal(signal.SIGINT, old_handler)
    tr.load_state_dict(best[2])
    tr.sync_theta()
    tr.eval()
    return _write(out, b, graph, tr, cfg, theta0, x_eval, y_eval, x_cal, history, best[1], interrupted,
                  dict(loss=loss, margin_weight=margin_weight, train_theta=train_theta, epochs=epochs, lr=lr, batch=batch,
                       seed=seed, holdout=holdout, device=str(device), theta_from=theta_from,
                       train_samples=len(x_tr), holdout_samples=len(x_ho), eval_source=eval_source,
                       calib_source=calib_source, overlap=overlap, command=command, t_start=t_start,
                       use_cssdbg=use_cssdbg, quiet=quiet))


def threading_main() -> bool:
    import threading
    return threading.current_thread() is threading.main_thread()


def _score(rec) -> tuple:
    """Best epoch: highest held-out SNN accuracy, then ANN accuracy, then lowest SNN
    cross-entropy (a small held-out set saturates at 100 %: the loss still tells the epochs apart)."""
    return (rec["snn_accuracy"] or 0.0, rec["ann_accuracy"] or 0.0, -rec["snn_loss"])


def _overlap(a: np.ndarray, b: np.ndarray) -> int:
    """How many rows of b also occur in a (exact bytes): training on evaluation data shows here."""
    seen = {r.tobytes() for r in np.ascontiguousarray(a).reshape(len(a), -1)}
    return int(sum(r.tobytes() in seen for r in np.ascontiguousarray(b).reshape(len(b), -1)))


def _write(out: Path, b, graph, tr: Trainable, cfg, theta0, x_eval, y_eval, x_cal, history, best_epoch, interrupted,
           meta) -> dict:
    """Everything into a temporary directory beside `out`, checked, then renamed into place."""
    quiet = meta["quiet"]
    out = out.absolute()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    try:
        os.chmod(tmp, 0o777 & ~_umask())
        weights = tr.weights()
        written = write_model(b["model"], str(tmp / "model.onnx"), tr.sources, weights)
        check = verify_weights(str(tmp / "model.onnx"), tr.sources, weights)
        tensors = tr.net.tensors
        write_theta(tmp / "theta.json", ThetaFile(out.name, cfg, tr.net.theta_input, dict(zip(tensors, tr.net.theta))))
        for name, a in (("data.npy", x_eval), ("labels.npy", y_eval.astype(np.int64)), ("calib.npy", x_cal)):
            np.save(tmp / name, np.ascontiguousarray(a), allow_pickle=False)
        theta0_path = tmp / ".theta-before.json"
        write_theta(theta0_path, theta0)
        cfg_args = ["-T", cfg.T, "--beta", repr(float(cfg.beta)), "--silent", cfg.silent] + ([] if cfg.negative else ["--no-negative"])
        # Before: the original model with the starting θ; after: the written bundle as it is.
        torch_after = _torch_eval(str(tmp / "model.onnx"), str(tmp / "theta.json"), x_eval, y_eval)
        torch_before = _torch_eval(b["model"], str(theta0_path), x_eval, y_eval)
        binary = cssdbg_binary() if meta["use_cssdbg"] else None
        note = None
        before = after = None
        if binary:
            try:
                before = summary(cssdbg_eval(binary, [b["model"], "--theta", theta0_path, "--data", tmp / "data.npy",
                                                      "--labels", tmp / "labels.npy", *cfg_args]), "cssdbg eval")
                after = summary(cssdbg_eval(binary, [tmp]), "cssdbg eval")
            except (RuntimeError, OSError, subprocess.TimeoutExpired, ValueError) as e:
                note = f"cssdbg eval failed ({e}); the figures are cssdbg-torch's"
                before = after = None
        else:
            note = "no cssdbg binary (set CSSDBG or put cssdbg on PATH); the figures are cssdbg-torch's"
        if before is None:
            before, after = summary(torch_before, "cssdbg-torch"), summary(torch_after, "cssdbg-torch")
        theta0_path.unlink()
        doc = {
            "format": FORMAT,
            "command": meta["command"],
            "model": b["model"],
            "config": cfg.json(),
            "loss": meta["loss"], "margin_weight": meta["margin_weight"], "train_theta": meta["train_theta"],
            "epochs": meta["epochs"], "lr": meta["lr"], "batch": meta["batch"], "seed": meta["seed"],
            "device": meta["device"], "holdout": meta["holdout"],
            "theta_from": meta["theta_from"],
            "train_samples": meta["train_samples"], "holdout_samples": meta["holdout_samples"],
            "eval_samples": int(len(x_eval)), "eval_source": meta["eval_source"], "calib_source": meta["calib_source"],
            "eval_rows_also_in_training_data": meta["overlap"],
            "best_epoch": best_epoch, "interrupted": interrupted,
            "figures_from": before["source"], "note": note,
            "before": before, "after": after,
            "after_cssdbg_torch": summary(torch_after, "cssdbg-torch"),
            "weights_check": check,
            "initializers_written": written,
            "frozen": frozen(graph, tr.sources),
            "history": history,
            "wall_s": round(time.time() - meta["t_start"], 1),
        }
        atomic_write(tmp / "finetune.json", render(doc, indent=2) + "\n")
        _replace_dir(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _log(f"before: ANN {_pct(before['ann_accuracy'])}  SNN {_pct(before['snn_accuracy'])}  violations {before['violations']}"
         f"   after: ANN {_pct(after['ann_accuracy'])}  SNN {_pct(after['snn_accuracy'])}  violations {after['violations']}"
         f"   ({before['source']}, {after['samples']} samples; best epoch {best_epoch})", quiet)
    if note:
        _log(note, quiet)
    _log(f"wrote {out}", quiet)
    return doc


def _torch_eval(model_path: str, theta_path: str, x, y) -> dict:
    net = CSSNetwork.from_onnx(model_path, theta=theta_path)
    return evaluate_dataset(net, x, y, 256)


def verify_weights(path: str, sources: dict, weights: dict) -> dict:
    """Re-imports the written model as cssdbg would and compares its weights with the trained ones."""
    g = load_graph(path)
    worst = 0.0
    for k, s in sources.items():
        for r in s.trainable:
            got = np.asarray(g.ops[k].p[r], np.float64).reshape(-1)
            want = weights[k][r].astype(np.float64).reshape(-1)
            scale = max(1.0, float(np.abs(want).max()))
            worst = max(worst, float(np.abs(got - want).max()) / scale)
    if worst > 1e-5:
        raise CSSError(path, f"the written model does not reproduce the trained weights (relative difference {worst:.3g})")
    return {"max_relative_difference": worst, "tolerance": 1e-5}


def _umask() -> int:
    old = os.umask(0)
    os.umask(old)
    return old


def _replace_dir(tmp: Path, out: Path) -> None:
    """Renames tmp to out; a previous output is moved aside first and removed after."""
    old = None
    if out.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".old", dir=out.parent))
        os.rmdir(old)
        os.replace(out, old)
    os.replace(tmp, out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


# ---------------------------------------------------------------------- command line


def add_subparser(sub) -> None:
    f = sub.add_parser("finetune", help="train the ANN's weights so that its SNN at one config is lossless",
                       description="Fine-tune the ANN's weights (and optionally θ) so that its converted SNN at the "
                                   "given config is lossless, with the decoupling margins as target; write a bundle.")
    f.add_argument("model", help="bundle directory or .onnx file")
    f.add_argument("--train-data", required=True, help="training inputs as .npy ([N, ...input shape])")
    f.add_argument("--train-labels", help="training labels as .npy ([N])")
    f.add_argument("--calib", help="calibration inputs (default: the bundle's calib.npy, else the training data)")
    f.add_argument("--data", help="evaluation inputs, never trained on (default: the bundle's data.npy)")
    f.add_argument("--labels", help="evaluation labels (default: the bundle's labels.npy)")
    f.add_argument("--theta", help="start from this cssdbg-theta/1 file (used when its config is the one trained for)")
    f.add_argument("-T", type=int, dest="T", help="coding time steps (default: theta.json's, else 10)")
    f.add_argument("--beta", type=float, help="amplification factor β (default 1.5)")
    f.add_argument("--silent", type=int, help="silent-period length L (default 1; 0 disables it)")
    f.add_argument("--no-negative", action="store_true", help="positive spikes only (full threshold)")
    f.add_argument("--loss", choices=LOSSES, default="snn",
                   help="snn: SNN + ANN cross-entropy (default); both: plus the decoupling-margin penalty; "
                        "margin: ANN cross-entropy + margin penalty (docs/finetune.md)")
    f.add_argument("--margin-weight", type=float, default=1.0, help="weight λ of the margin penalty (default 1)")
    f.add_argument("--train-theta", action="store_true", help="train the spiking layers' θ too")
    f.add_argument("--epochs", type=int, default=20, help="epochs (default 20)")
    f.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate, cosine-annealed (default 1e-3)")
    f.add_argument("--batch", type=int, default=64, help="samples per step (default 64)")
    f.add_argument("--holdout", type=float, default=0.15, help="fraction of the training data held out to pick the "
                                                               "best epoch (default 0.15)")
    f.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    f.add_argument("--seed", type=int, default=0, help="seed of the split, the batches and the initial state (default 0)")
    f.add_argument("--threads", type=int, help="CPU threads (default: PyTorch's)")
    f.add_argument("--no-cssdbg", action="store_true", help="report cssdbg-torch's figures even when a cssdbg binary is found")
    f.add_argument("--out", required=True, help="output bundle directory (written atomically)")
    f.add_argument("--json", action="store_true", help="print finetune.json's object on stdout")
    f.add_argument("--quiet", action="store_true", help="no progress on stderr")


def run_cli(args, argv=None) -> int:
    try:
        doc = finetune(args.model, args.train_data, args.train_labels, args.out, calib=args.calib, data=args.data,
                       labels=args.labels, theta=args.theta, T=args.T, beta=args.beta, silent=args.silent,
                       negative=False if args.no_negative else None, epochs=args.epochs, lr=args.lr, batch=args.batch,
                       device=args.device, seed=args.seed, loss=args.loss, margin_weight=args.margin_weight,
                       train_theta=args.train_theta, holdout=args.holdout, threads=args.threads,
                       use_cssdbg=not args.no_cssdbg, quiet=args.quiet,
                       command=["python", "-m", "cssdbg_torch"] + list(argv if argv is not None else sys.argv[1:]))
    except (CSSError, SettingError) as e:
        print(f"cssdbg-torch: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("cssdbg-torch: interrupted before training started; nothing written", file=sys.stderr)
        return 130
    if args.json:
        print(render(doc), flush=True)
    return 0
