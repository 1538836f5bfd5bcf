"""`python -m cssdbg_torch eval MODEL ...`: what `cssdbg eval` prints, computed with PyTorch; under
`torchrun --nproc_per_node N` the data set is shared among the processes and rank 0 prints the
same report one process would."""

from __future__ import annotations

import argparse
import math
import os
import sys

import numpy as np
import torch

from .config import Config
from .errors import CSSError, SettingError
from .jsonfmt import render
from .network import CSSNetwork, bundle_name, evaluate_dataset, load_labels, load_npy, resolve_bundle
from .onnx_import import load_graph
from .theta import read_theta


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m cssdbg_torch",
                                 description="cssdbg's headless evaluation on PyTorch (CPU or CUDA, one or many processes).")
    sub = ap.add_subparsers(dest="command", required=True)
    e = sub.add_parser("eval", help="convert, simulate the data set and report accuracy, residuals and coupling per layer",
                       description="Convert, simulate the data set and report accuracy, residuals and coupling per layer "
                                   "(the report of `cssdbg eval`).")
    e.add_argument("model", help="bundle directory or .onnx file")
    e.add_argument("--data", help="inputs as .npy ([N, ...input shape])")
    e.add_argument("--labels", help="integer labels as .npy ([N])")
    e.add_argument("--calib", help="calibration inputs as .npy (default: the bundle's calib.npy, else the data)")
    e.add_argument("--theta", help="start from a cssdbg-theta/1 file instead of calibrating")
    e.add_argument("-T", type=int, dest="T", help="coding time steps (default 10)")
    e.add_argument("--beta", type=float, help="amplification factor β (default 1.5)")
    e.add_argument("--silent", type=int, help="silent-period length L (default 1; 0 disables it)")
    e.add_argument("--no-negative", action="store_true", help="positive spikes only (full threshold)")
    e.add_argument("--rate", action="store_true", help="rate-coding preset: β = 1, L = 0, no negative spikes")
    e.add_argument("--percentile", type=float, help="calibration percentile of non-zero activations (default 99.99)")
    e.add_argument("--limit", type=int, help="use only the first N samples of the data")
    e.add_argument("--batch", type=int, default=64, help="samples per batch (default 64; results do not depend on it "
                                                          "beyond float rounding)")
    e.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    e.add_argument("--threads", type=int, help="CPU threads per process, each simulating whole batches (default: "
                                               "PyTorch's thread count, 1 under torchrun)")
    e.add_argument("--double", action="store_true", help="run the layers in float64 instead of float32")
    e.add_argument("--json", action="store_true", help="print one JSON object (the schema of `cssdbg eval --json`)")
    e.add_argument("--attribution", action="store_true",
                   help="also simulate each spiking layer decoupled and the first j layers exact (2n more "
                        "simulations): which layer costs the accuracy (css-spec §10)")
    e.add_argument("--e-mac", default="4.6", metavar="PJ", help="energy of one ANN MAC in pJ (default 4.6)")
    e.add_argument("--e-ac", default="0.9", metavar="PJ", help="energy of one SNN synaptic operation in pJ (default 0.9)")
    from .finetune import add_subparser
    add_subparser(sub)
    return ap


class _Usage(Exception):
    pass


def _check(args) -> None:
    if args.limit is not None and args.limit <= 0:
        raise _Usage("--limit must be positive")
    if args.batch <= 0:
        raise _Usage("--batch must be positive")
    if args.threads is not None and args.threads <= 0:
        raise _Usage("--threads must be positive")
    for flag in ("e_mac", "e_ac"):
        setattr(args, flag, _positive(getattr(args, flag), "--" + flag.replace("_", "-")))
    if args.device != "cpu" and not args.device.startswith("cuda"):
        raise _Usage(f"--device must be cpu or cuda, not '{args.device}'")
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        raise SettingError("--device cuda: no CUDA device is available to PyTorch")


def _positive(text, flag: str) -> float:
    """A finite positive number, else a one-line usage error."""
    if isinstance(text, float):
        return text
    try:
        v = float(text)
    except ValueError:
        raise _Usage(f"{flag} must be a positive number, not '{text}'") from None
    if not (math.isfinite(v) and v > 0):
        raise _Usage(f"{flag} must be a positive number, not '{text}'")
    return v


def device_of(args, comm):
    return comm.device if comm is not None else torch.device(args.device)


def evaluate(args, comm=None) -> dict | None:
    b = resolve_bundle(args.model, data=args.data, labels=args.labels, calib=args.calib, theta=args.theta)
    graph = load_graph(b["model"])
    tensors = [o.output for o in graph.relus]
    tf = read_theta(b["theta"], tensors) if b["theta"] else None
    cfg = (tf.config if tf else Config()).with_(T=args.T, beta=args.beta, silent=args.silent, percentile=args.percentile)
    if args.no_negative:
        cfg = cfg.with_(negative=False)
    if args.rate:
        cfg = Config.rate(cfg.T, cfg.percentile)
    cfg.validate()
    if b["data"] is None:
        if b["labels"]:
            raise CSSError(b["labels"], "labels given without a data file", "pass --data too")
        raise CSSError(args.model, "no input data", "put data.npy in the bundle or pass --data X.npy")
    data = load_npy(b["data"], graph.input_shape)
    classes = int(np.prod(graph.ops[-1].shape)) if graph.ops else None
    out_shape = next((o.shape for o in graph.ops if o.output == graph.output), None)
    classes = int(np.prod(out_shape)) if out_shape else classes
    labels = load_labels(b["labels"], len(data), classes) if b["labels"] else None
    if args.limit is not None:
        data = data[:args.limit]
        labels = labels[:args.limit] if labels is not None else None
    calib = load_npy(b["calib"], graph.input_shape) if b["calib"] else data
    dtype = torch.float64 if args.double else torch.float32
    # Batches in parallel, each on one thread: the numbers do not depend on the thread count.
    workers = args.threads or torch.get_num_threads()
    if device_of(args, comm).type == "cpu":
        torch.set_num_threads(1)
    else:
        workers = 1
    device = device_of(args, comm)
    n_layers = len(tensors)
    net = CSSNetwork(graph, cfg, 1.0, [1.0] * n_layers, name=bundle_name(args.model), dtype=dtype).to(device)
    if tf is not None:
        net.theta_input, net.theta = tf.input, [tf.layers[t] for t in tensors]
    else:
        net.calibrate(calib, batch_size=args.batch, comm=comm, workers=workers)
    report = evaluate_dataset(net, data, labels, args.batch, comm, workers, attribution=args.attribution,
                              e_mac=args.e_mac, e_ac=args.e_ac)
    return with_theta_source(report, args, b)


def with_theta_source(report: dict | None, args, b: dict) -> dict | None:
    """`"theta_source"` ("calibration", "bundle", "--theta") and `"theta_file"` after `"config"`,
    as `cssdbg eval --json` has them: which θ the numbers were computed with."""
    if report is None:
        return None
    if args.theta:
        source, path = "--theta", args.theta
    elif b["theta"]:
        source, path = "bundle", (args.model if args.model.endswith("/") else args.model + "/") + "theta.json"
    else:
        source, path = "calibration", None
    out = {}
    for k, v in report.items():
        out[k] = v
        if k == "config":
            out["theta_source"], out["theta_file"] = source, path
    return out


def _table(r: dict) -> str:
    c = r["config"]
    pct = lambda v: "n/a" if v is None else f"{100 * v:.2f}%"  # noqa: E731
    lines = [f"model {r['model']}  T={c['T']} β={render(c['beta'])} L={c['silent']} "
             f"negative={'on' if c['negative'] else 'off'} percentile={render(c['percentile'])}",
             f"samples {r['samples']}  latency {r['latency']} steps  ANN accuracy {pct(r['ann_accuracy'])}  "
             f"SNN accuracy {pct(r['snn_accuracy'])}  agreement {pct(r['agreement'])}", "",
             f"{'layer':<20}{'neurons':>9}{'start':>6}{'θ':>10}{'p99.9|u|':>10}{'max|u|':>8}{'≥1':>6}"
             f"{'overflow':>10}{'coupling':>10}{'spikes +/-':>13}{'rmse':>10}"]
    for l in r["layers"]:
        lines.append(f"{l['name'][:19]:<20}{l['neurons']:>9}{l['window_start']:>6}{l['theta']:>10.4g}"
                     f"{l['residual_p999']:>10.3f}{l['residual_max']:>8.3f}{l['over_one']:>6}{l['overflow']:>10}"
                     f"{l['coupling']:>10}{str(l['spikes_positive']) + '/' + str(l['spikes_negative']):>13}"
                     f"{l['activation_rmse']:>10.4f}")
    lines += ["", "violations by k0 (decoupling margin ≤ 0):"]
    for l in r["layers"]:
        lines.append(f"  {l['name'][:19]:<20}" + "".join(f"{v:>6}" for v in l["violations_by_step"]))
    lines += _operations_table(r, pct)
    if "culprit_basis" in r:
        lines += _attribution_table(r, pct)
    return "\n".join(lines)


def _operations_table(r: dict, pct) -> list:
    """Anytime accuracy (§12) and operations and energy (§11)."""
    curve = r["anytime_accuracy"] if r["anytime_accuracy"] is not None else r["anytime_agreement"]
    what = "accuracy" if r["anytime_accuracy"] is not None else "agreement"
    lines = ["", f"anytime {what} by output slot:  " + "  ".join(pct(v) for v in curve),
             "settled by slot:                " + "  ".join(str(v) for v in r["settled_by_slot"]), "",
             f"{'operations per sample':<20}{'MACs':>12}{'synaptic ops':>14}{'ops/MAC':>9}{'neuron steps':>14}"]
    ratio = lambda s, m: f"{s / m:.3f}" if m else "n/a"  # noqa: E731
    for l in r["layers"]:
        lines.append(f"{l['name'][:19]:<20}{l['macs']:>12}{l['synaptic_ops']:>14.1f}"
                     f"{ratio(l['synaptic_ops'], l['macs']):>9}{l['neuron_steps']:>14}")
    o = r["output"]
    lines.append(f"{'(output)':<20}{o['macs']:>12}{o['synaptic_ops']:>14.1f}{ratio(o['synaptic_ops'], o['macs']):>9}"
                 f"{'':>14}")
    lines.append(f"{'total':<20}{r['macs']:>12}{r['synaptic_ops']:>14.1f}{ratio(r['synaptic_ops'], r['macs']):>9}"
                 f"{r['neuron_steps']:>14}")
    e = r["energy_pj"]
    lines.append(f"energy per sample: ANN {e['ann'] / 1e3:.4g} nJ ({render(r['e_mac_pj'])} pJ/MAC), "
                 f"SNN {e['snn'] / 1e3:.4g} nJ ({render(r['e_ac_pj'])} pJ/synaptic op; neuron steps not included)")
    return lines


def _attribution_table(r: dict, pct) -> list:
    """Decoupled layers, the exact-prefix curve and culprits (§10)."""
    basis = r["culprit_basis"]
    key = "accuracy" if basis == "accuracy" else "agreement"
    prefix = r[f"exact_prefix_{key}"]
    lines = ["", f"attribution ({basis}; SNN {pct(prefix[0])}, every layer exact {pct(prefix[-1])}):",
             f"{'layer':<20}{'decoupled':>11}{'exact ≤ this':>14}{'step':>9}{'culprit':>9}"]
    for j, l in enumerate(r["layers"]):
        step = 100 * (prefix[j + 1] - prefix[j])
        lines.append(f"{l['name'][:19]:<20}{pct(l[f'decoupled_{key}']):>11}{pct(prefix[j + 1]):>14}"
                     f"{step:>+8.2f}%{l['culprit_samples']:>9}")
    lines.append(f"samples wrong even with every layer exact: {r['culprit_unresolved']}")
    return lines


def main(argv=None) -> int:
    ap = _parser()
    args = ap.parse_args(argv)
    if args.command == "finetune":
        from .finetune import run_cli
        return run_cli(args, argv)
    comm = None
    try:
        _check(args)
        from .dist import Comm
        if Comm.wanted():
            comm = Comm(args.device)
        report = evaluate(args, comm)
        if report is not None:
            print(render(report) if args.json else _table(report), flush=True)
        return 0
    except BrokenPipeError:  # `| head`: the reader left, which is not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except _Usage as e:
        print(f"python -m cssdbg_torch: error: {e}", file=sys.stderr)
        return 2
    except (CSSError, SettingError) as e:
        print(f"cssdbg-torch: {e}", file=sys.stderr)
        return 1
    finally:
        if comm is not None:
            comm.close()
