#!/usr/bin/env python3
"""Float64 reference of the lowest-latency lossless conversion (css-spec §13), on top of reference_sim.py.

    python tools/reference/reference_doctor.py BUNDLE [--tolerance 0.5] [--max-T T] [--max-rounds 3]
        [--limit N] [--beta 1.5[,2...]] [--table-latency K] [--max-latency M] [--indent N]

A configuration is (T, β, L, negative spikes, r A.3 rounds): θ is the calibration θ of that T, β,
L and negative-spike setting after r rounds on the calibration inputs (each round re-simulates
them, as reference_sim.py --rounds does). Latency = T + (n+1)·L, n the spiking depth.

Lossless: SNN accuracy ≥ ANN accuracy − tolerance/100 (agreement ≥ 1 − tolerance/100 without
labels); tolerance in percentage points. Best among the lossless ones: the lowest latency, then
the lowest T, then the fewest synaptic operations, then fewer rounds, then the smaller L, then
negative spikes off before on, then the smaller β (TIE_BREAK).

The search visits latencies in increasing order, evaluates every configuration of a latency and
stops after the first latency that has a lossless one: every configuration at or below the best
latency is evaluated, so the result is exhaustive for that ordering. T runs from 1 to --max-T
(default: the largest T the simulator computes exactly for β, Σw ≤ 2^16, at most 64; 25 for
β = 1.5), L from 0 to 3, negative spikes off and on, r from 0 to --max-rounds (default 3).
--table-latency K also evaluates every configuration with latency ≤ K, so the "tried" list
answers any tolerance whose best latency is ≤ K ("best_by_tolerance" lists a few);
--table-latency auto goes on up to the first latency with a configuration lossless at tolerance
0, which answers every tolerance. --max-latency M never visits a latency above M ("capped" in
"search" says that this cut the search short: no lossless configuration at the tolerance, or with
auto, none at tolerance 0).

Prints one JSON object: model, samples, ann_accuracy, tolerance, tie_break, search, best, tried
(and best_by_tolerance with --table-latency).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import reference_sim as rs  # noqa: E402

MAX_SUM_WEIGHTS = 65536.0  # Σw limit of exact simulation (docs/numerics.md, "The largest T")
SILENT = (0, 1, 2, 3)
TIE_BREAK = ("latency, then T, then synaptic_ops, then rounds, then silent (L), "
             "then negative off before on, then beta")
EPS = 1e-12  # accuracies are k/N; the comparison with ANN − tolerance allows for its rounding
KEYS = ("T", "beta", "silent", "negative", "rounds", "latency", "snn_accuracy", "agreement", "synaptic_ops")


def max_exact_T(beta: float) -> int:
    """The largest T (at most 64) whose Σw = Σ_{t<T} β^t stays within 2^16."""
    total, t = 0.0, 0
    while t < 64 and total + beta ** t <= MAX_SUM_WEIGHTS:
        total += beta ** t
        t += 1
    return max(t, 1)


def sort_key(c: dict):
    return (c["latency"], c["T"], c["synaptic_ops"], c["rounds"], c["silent"], bool(c["negative"]), c["beta"])


def is_lossless(c: dict, ann_accuracy: float | None, tolerance: float) -> bool:
    if ann_accuracy is not None and c.get("snn_accuracy") is not None:
        return c["snn_accuracy"] >= ann_accuracy - tolerance / 100 - EPS
    return c["agreement"] >= 1 - tolerance / 100 - EPS


def select_best(tried: list[dict], ann_accuracy: float | None, tolerance: float) -> dict | None:
    """The best lossless configuration of a table (§13 ordering, then TIE_BREAK), or None."""
    ok = [c for c in tried if is_lossless(c, ann_accuracy, tolerance)]
    return min(ok, key=sort_key) if ok else None


def plan(depth: int, betas, max_T: dict, silents=SILENT, negatives=(False, True)) -> dict[int, list]:
    """{latency: [(beta, T, L, negative), ...]} in the order they are evaluated."""
    groups: dict[int, list] = {}
    for beta in betas:
        for T in range(1, max_T[beta] + 1):
            for L in silents:
                for neg in negatives:
                    groups.setdefault(T + (depth + 1) * L, []).append((beta, T, L, neg))
    for lat in groups:
        groups[lat].sort(key=lambda g: (g[1], g[2], g[3], g[0]))
    return dict(sorted(groups.items()))


class Evaluator:
    """Evaluates configurations of one bundle on its data set (θ from its calibration set)."""

    def __init__(self, bundle: Path, limit: int | None):
        self.graph, self.data, self.labels, self.calib = rs.load_bundle(bundle, limit)
        self.names = [r.output[0] for r in self.graph.relus]
        ann_out = self.graph.run(self.data)[0]
        self.ann_pred = ann_out.reshape(len(self.data), -1).argmax(axis=1)
        self.ann_accuracy = float((self.ann_pred == self.labels).mean()) if self.labels is not None else None
        self.ops = rs.mac_nodes(self.graph, self.data.shape[1:])
        self.depth = self.graph.timing(0)[1]

    def point(self, cfg: rs.Config, thetas: dict, rounds: int) -> dict:
        nonzero: dict[str, int] = {}
        out = rs.Simulator(self.graph, cfg, thetas).simulate(self.data, None, None, ops=self.ops, nonzero=nonzero)
        N = len(self.data)
        pred = out.reshape(N, -1).argmax(axis=1)
        syn = float(sum(rs.synaptic_ops(op, nonzero.get(op.key, 0), N) for op in self.ops))
        return {
            "T": cfg.T, "beta": cfg.beta, "silent": cfg.silent, "negative": cfg.negative, "rounds": rounds,
            "latency": cfg.T + (self.depth + 1) * cfg.silent,
            "snn_accuracy": float((pred == self.labels).mean()) if self.labels is not None else None,
            "agreement": float((pred == self.ann_pred).mean()),
            "synaptic_ops": syn,
        }

    def group(self, beta: float, T: int, L: int, negative: bool, max_rounds: int, percentile: float) -> list[dict]:
        """The points r = 0..max_rounds of one (T, β, L, negative) setting."""
        cfg = rs.Config(T=T, beta=beta, silent=L, negative=negative, percentile=percentile)
        thetas = rs.conversion_thetas(self.graph, self.calib, cfg, None, 0)
        points = [self.point(cfg, thetas, 0)]
        for r in range(1, max_rounds + 1):
            rs.adjust_round(self.graph, self.calib, cfg, thetas)
            points.append(self.point(cfg, thetas, r))
        return points


def doctor(bundle: Path, tolerance: float = 0.5, betas=(1.5,), max_T: int | None = None, max_rounds: int = 3,
           limit: int | None = None, table_latency: int | None = None, max_latency: int | None = None,
           percentile: float = 99.99, model_name: str | None = None, progress=None) -> dict:
    ev = Evaluator(bundle, limit)
    limits = {b: min(max_T, max_exact_T(b)) if max_T is not None else max_exact_T(b) for b in betas}
    groups = plan(ev.depth, betas, limits)
    auto = table_latency == "auto"
    tried: list[dict] = []
    found = found0 = False
    capped = False
    for lat, settings in groups.items():
        if found and (found0 if auto else (table_latency is None or lat > table_latency)):
            break
        if max_latency is not None and lat > max_latency:
            capped = True
            break
        for beta, T, L, neg in settings:
            for p in ev.group(beta, T, L, neg, max_rounds, percentile):
                p["lossless"] = is_lossless(p, ev.ann_accuracy, tolerance)
                found = found or p["lossless"]
                found0 = found0 or is_lossless(p, ev.ann_accuracy, 0.0)
                tried.append(p)
        if progress is not None:
            progress(lat, len(tried), found)
    covered = max((p["latency"] for p in tried), default=0)
    if auto:
        table_latency = covered
    best = select_best(tried, ev.ann_accuracy, tolerance)
    doc = {
        "model": model_name or bundle.resolve().name,
        "samples": int(len(ev.data)),
        "ann_accuracy": ev.ann_accuracy,
        "tolerance": tolerance,
        "tie_break": TIE_BREAK,
        "search": {"beta": list(betas), "max_T": {f"{b:g}": t for b, t in limits.items()}, "silent": list(SILENT),
                   "negative": [False, True], "max_rounds": max_rounds, "percentile": percentile,
                   "spiking_depth": ev.depth, "table_latency": table_latency, "max_latency": max_latency,
                   "evaluated_up_to_latency": covered,
                   "capped": capped and (not found or (auto and not found0))},
        "best": {k: best[k] for k in KEYS} if best is not None else None,
        "tried": tried,
    }
    if table_latency is not None:
        table = {}
        for tol in (0.0, 0.5, 1.0, 2.0):
            b = select_best(tried, ev.ann_accuracy, tol)
            # a best is final only when every configuration of a latency ≤ its latency was evaluated
            table[f"{tol:g}"] = {k: b[k] for k in KEYS} if b is not None and b["latency"] <= covered else None
        doc["best_by_tolerance"] = table
    return doc


def _betas(text: str) -> list[float]:
    try:
        vals = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of numbers: {text!r}")
    if not vals or any(not (1 <= v <= 4) for v in vals):
        raise argparse.ArgumentTypeError(f"beta values must be between 1 and 4: {text!r}")
    return vals


def _table(text: str):
    if text == "auto":
        return text
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a latency or auto: {text!r}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Float64 reference of the lowest-latency lossless conversion")
    ap.add_argument("bundle", type=Path)
    ap.add_argument("--tolerance", type=float, default=0.5, help="percentage points (default 0.5)")
    ap.add_argument("--beta", type=_betas, default=[1.5], help="comma-separated list (default 1.5)")
    ap.add_argument("--max-T", dest="max_T", type=int, default=None)
    ap.add_argument("--max-rounds", type=int, default=3)
    ap.add_argument("--limit", type=int, default=None, help="first N samples of the data set")
    ap.add_argument("--table-latency", type=_table, default=None,
                    help="evaluate every configuration up to this latency; auto: up to the best at tolerance 0")
    ap.add_argument("--max-latency", type=int, default=None)
    ap.add_argument("--percentile", type=float, default=99.99)
    ap.add_argument("--indent", type=int, default=None)
    a = ap.parse_args(argv)
    for f in ("model.onnx", "data.npy"):
        if not (a.bundle / f).is_file():
            print(f"{a.bundle / f}: no such file", file=sys.stderr)
            return 1
    if a.tolerance < 0 or a.max_rounds < 0 or (a.max_T is not None and a.max_T < 1):
        print("tolerance and --max-rounds must be >= 0 and --max-T >= 1", file=sys.stderr)
        return 64
    try:
        doc = doctor(a.bundle, a.tolerance, a.beta, a.max_T, a.max_rounds, a.limit, a.table_latency,
                     a.max_latency, a.percentile)
    except (ValueError, KeyError, NotImplementedError, OSError) as e:
        print(f"{a.bundle}: {e}", file=sys.stderr)
        return 1
    print(json.dumps(doc, indent=a.indent))
    return 0


if __name__ == "__main__":
    sys.exit(main())
