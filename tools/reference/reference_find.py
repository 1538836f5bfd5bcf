#!/usr/bin/env python3
"""Float64 reference of `cssdbg find` and `cssdbg sweep` (docs/numerics.md §11), on top of
reference_sim.py. Independent of the Swift code: hits come from full margins in NumPy.

    python tools/reference/reference_find.py find BUNDLE --break COND [--break COND ...]
        [-T 10] [--beta 1.5] [--silent 1] [--no-negative] [--theta FILE] [--limit N]
    python tools/reference/reference_find.py sweep BUNDLE [-T 4,6,8] [--beta 1.5,2] [--silent 0,1,2]
        [--negative on,off] [--rounds N] [--limit N]

Prints the JSON of `cssdbg find --json` (plus "theta": the θ used, so cssdbg can be run with
exactly the same θ) or of `cssdbg sweep --json`. In find, LAYER is a tensor name or an index.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import reference_sim as rs  # noqa: E402

KINDS = ("coupling", "overflow", "violation", "spike", "margin", "residual", "flip", "wrong", "disagree")


def parse(text: str, tensors: list[str]) -> dict:
    """A condition as a dict: kind, layer (tensor or None), and its arguments."""
    words = text.replace("<", " < ").replace(">", " > ").split()
    kind = words.pop(0).lower()
    assert kind in KINDS, kind

    def layer(w):
        return tensors[int(w)] if w.isdigit() else (w if w in tensors else _fail(f"no layer {w}"))

    c = {"kind": kind, "layer": None, "text": text}
    if kind in ("coupling", "overflow", "violation"):
        if words:
            c["layer"] = layer(words.pop(0))
    elif kind == "spike":
        c["layer"] = layer(words.pop(0))
        c["neuron"] = int(words.pop(0))
        c["sign"] = {"+": 1, "-": -1}[words.pop(0)] if words else None
    elif kind in ("margin", "residual"):
        if words[0] not in "<>":
            c["layer"] = layer(words.pop(0))
        assert words.pop(0) == ("<" if kind == "margin" else ">")
        c["value"] = float(words.pop(0))
    assert not words, words
    return c


def _fail(msg):
    raise ValueError(msg)


def load(bundle: Path, cfg: rs.Config, theta_override: dict | None, limit: int | None):
    graph = rs.OnnxGraph(bundle / "model.onnx")
    data = np.load(bundle / "data.npy").astype(np.float64)
    labels = np.load(bundle / "labels.npy") if (bundle / "labels.npy").exists() else None
    calib = np.load(bundle / "calib.npy").astype(np.float64) if (bundle / "calib.npy").exists() else data
    if limit is not None:
        data = data[:limit]
        labels = labels[:limit] if labels is not None else None
    thetas = rs.calibrate(graph, calib, cfg)
    for k, v in (theta_override or {}).items():
        thetas[k] = float(v)
    return graph, data, labels, thetas


def find(bundle: Path, cfg: rs.Config, conditions: list[str], theta_override=None, limit=None, model_name=None) -> dict:
    graph, data, labels, thetas = load(bundle, cfg, theta_override, limit)
    tensors = [r.output[0] for r in graph.relus]
    conds = [parse(t, tensors) for t in conditions]
    starts, depth = graph.timing(cfg.silent)
    T, L, w = cfg.T, cfg.silent, cfg.weights
    d_out, latency = depth * L, T + (depth + 1) * L
    ann_out, _ = graph.run(data)
    ann_pred = ann_out.reshape(len(data), -1).argmax(axis=1)
    hits = []

    def add(number, sample, step, tensor, neuron):
        hits.append((int(sample), int(step), tensors.index(tensor) if tensor else len(tensors),
                     int(neuron), number, tensor))

    def observer(kind, lo, n, *rest):
        if kind == "layer":
            tensor, res = rest
            S, a = res.spikes, res.target  # [T, M], [M]; M = n · neurons, sample-major
            size = a.size // n
            m = rs.margins(S, a, cfg)  # [T+L+1, M]
            viol = m <= 0
            has = viol.any(axis=0)
            first = np.argmax(viol, axis=0)
            u = np.abs(a - w @ S)
            ws = starts[tensor]
            for number, c in enumerate(conds, 1):
                if c["layer"] not in (None, tensor) or c["kind"] in ("flip", "wrong", "disagree"):
                    continue
                k = c["kind"]
                if k in ("coupling", "overflow", "violation"):
                    pick = has & {"coupling": first > 0, "overflow": first == 0, "violation": True}[k]
                    for i in np.nonzero(pick)[0]:
                        add(number, lo + i // size, ws + first[i], tensor, i % size)
                elif k == "spike":
                    for b in range(n):
                        i = b * size + c["neuron"]
                        for slot in range(T):
                            s = S[slot, i]
                            if s != 0 and (c["sign"] is None or s == c["sign"]):
                                add(number, lo + b, ws + L + slot, tensor, c["neuron"])
                elif k == "margin":
                    below = m < c["value"]
                    drop = below & ~np.concatenate([np.zeros((1, below.shape[1]), bool), below[:-1]])
                    for k0, i in zip(*np.nonzero(drop)):
                        add(number, lo + i // size, ws + k0, tensor, i % size)
                elif k == "residual":
                    for i in np.nonzero(u > c["value"])[0]:
                        add(number, lo + i // size, ws + T + L - 1, tensor, i % size)
        else:
            (z_out,) = rest
            z = z_out.reshape(T, n, -1)
            pred = np.cumsum(w[:, None, None] * z, axis=0).argmax(axis=2)  # [T, n] anytime predictions
            for number, c in enumerate(conds, 1):
                for b in range(n):
                    if c["kind"] == "flip":
                        for k in range(1, T):
                            if pred[k, b] != pred[k - 1, b]:
                                add(number, lo + b, d_out + k, None, -1)
                    elif c["kind"] == "wrong" and labels is not None and pred[T - 1, b] != labels[lo + b]:
                        add(number, lo + b, latency, None, -1)
                    elif c["kind"] == "disagree" and pred[T - 1, b] != ann_pred[lo + b]:
                        add(number, lo + b, latency, None, -1)

    rs.Simulator(graph, cfg, thetas).simulate(data, None, None, observer=observer)
    hits.sort(key=lambda h: h[:5])
    return {
        "model": model_name or bundle.resolve().name,
        "config": {"T": cfg.T, "beta": cfg.beta, "silent": cfg.silent, "negative": cfg.negative,
                   "percentile": cfg.percentile},
        "samples": int(len(data)),
        "theta": {k: float(v) for k, v in thetas.items()},
        "conditions": list(conditions),
        "hits": [{"break": h[4], "condition": conditions[h[4] - 1], "sample": h[0], "step": h[1],
                  "layer": h[5] or "output", "tensor": h[5] or graph.output, "neuron": h[3]} for h in hits],
    }


def pareto(points: list[dict]) -> None:
    def score(p):
        return p["snn_accuracy"] if p["snn_accuracy"] is not None else p["agreement"]
    for p in points:
        p["pareto"] = not any(q["latency"] <= p["latency"] and score(q) >= score(p)
                              and (q["latency"] < p["latency"] or score(q) > score(p)) for q in points)


def sweep(bundle: Path, Ts, betas, Ls, negatives, rounds=0, limit=None, percentile=99.99, model_name=None) -> dict:
    points = []
    samples = 0
    for T in Ts:
        for beta in betas:
            for L in Ls:
                for neg in negatives:
                    cfg = rs.Config(T=T, beta=beta, silent=L, negative=neg, percentile=percentile)
                    doc = rs.evaluate(bundle, cfg, None, limit, rounds, model_name=model_name)
                    samples = doc["samples"]
                    points.append({
                        "T": T, "beta": beta, "silent": L, "negative": neg, "rounds": rounds,
                        "latency": doc["latency"], "ann_accuracy": doc["ann_accuracy"],
                        "snn_accuracy": doc["snn_accuracy"], "agreement": doc["agreement"],
                        "residual_p999_max": max(l["residual_p999"] for l in doc["layers"]),
                        "overflow": sum(l["overflow"] for l in doc["layers"]),
                        "coupling": sum(l["coupling"] for l in doc["layers"]),
                    })
    pareto(points)
    return {"model": model_name or bundle.resolve().name, "samples": samples, "points": points}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)
    f = sub.add_parser("find")
    f.add_argument("bundle", type=Path)
    f.add_argument("--break", dest="conditions", action="append", required=True)
    f.add_argument("-T", type=int, default=10)
    f.add_argument("--beta", type=float, default=1.5)
    f.add_argument("--silent", type=int, default=1)
    f.add_argument("--no-negative", dest="negative", action="store_false")
    f.add_argument("--theta", type=Path, default=None)
    f.add_argument("--limit", type=int, default=None)
    s = sub.add_parser("sweep")
    s.add_argument("bundle", type=Path)
    s.add_argument("-T", default="10")
    s.add_argument("--beta", default="1.5")
    s.add_argument("--silent", default="1")
    s.add_argument("--negative", default="on")
    s.add_argument("--rounds", type=int, default=0)
    s.add_argument("--limit", type=int, default=None)
    a = ap.parse_args(argv)
    if a.command == "find":
        cfg = rs.Config(T=a.T, beta=a.beta, silent=a.silent, negative=a.negative, percentile=99.99)
        theta = json.loads(a.theta.read_text())["theta"] if a.theta else None
        doc = find(a.bundle, cfg, a.conditions, theta, a.limit)
    else:
        doc = sweep(a.bundle, [int(t) for t in a.T.split(",")], [float(b) for b in a.beta.split(",")],
                    [int(l) for l in a.silent.split(",")], [v == "on" for v in a.negative.split(",")],
                    a.rounds, a.limit)
    print(json.dumps(doc))
    return 0


if __name__ == "__main__":
    sys.exit(main())
