"""Per-layer statistics of `cssdbg eval --json` (docs/numerics.md §5–§6, §10–§12), accumulated over
batches and merged across processes with identical results: counts are integers, per-sample
predictions (final, anytime, decoupled, exact-prefix) are put back in sample order, residual percentiles come
from the exact top of the |u[T]| values (enough of them to interpolate the percentile of the
whole set), squared errors are summed per sample and added with `math.fsum`, which does not
depend on the order."""

from __future__ import annotations

import math

import numpy as np
import torch


def top_count(n: int, q: float) -> int:
    """How many of the largest of n values the q-th percentile (linear interpolation) reads."""
    if n <= 0:
        return 0
    lo = int(math.floor(q / 100 * (n - 1)))
    return n - lo


def percentile_from_top(top_desc: np.ndarray, n: int, q: float) -> float:
    """The q-th percentile of n values, NumPy's linear interpolation as cssdbg computes it,
    from the values' largest entries sorted in descending order (at least `top_count(n, q)`)."""
    if n <= 0:
        return 0.0
    rank = q / 100 * (n - 1)
    lo = int(math.floor(rank))
    hi = min(lo + 1, n - 1)
    frac = rank - lo
    vlo, vhi = float(top_desc[n - 1 - lo]), float(top_desc[n - 1 - hi])
    return vlo + frac * (vhi - vlo)


class TopValues:
    """The largest values seen (all of them when `capacity` is None), kept on the device."""

    def __init__(self, capacity: int | None):
        self.capacity = capacity
        self.parts: list[torch.Tensor] = []
        self.held = 0
        self.count = 0

    def add(self, v: torch.Tensor) -> None:
        v = v.reshape(-1)
        self.count += v.numel()
        if self.capacity is not None and v.numel() > self.capacity:
            v = torch.topk(v, self.capacity, sorted=False).values
        self.parts.append(v.detach())
        self.held += v.numel()
        if self.capacity is not None and self.held > 2 * self.capacity + 4096:
            self._shrink()

    def _shrink(self) -> None:
        allv = torch.cat(self.parts)
        if self.capacity is not None and allv.numel() > self.capacity:
            allv = torch.topk(allv, self.capacity, sorted=False).values
        self.parts, self.held = [allv], allv.numel()

    def descending(self) -> np.ndarray:
        if not self.parts:
            return np.zeros(0, np.float32)
        self._shrink()
        return torch.sort(self.parts[0], descending=True).values.cpu().numpy()


class LayerStats:
    """Running diagnostics of one spiking layer."""

    def __init__(self, window: int, capacity: int | None):
        self.window = window
        self.pairs = 0
        self.top = TopValues(capacity)
        self.over_one = 0
        self.overflow = 0
        self.coupling = 0
        self.violations = np.zeros(window + 1, np.int64)
        self.first = np.zeros(window + 1, np.int64)
        self.pos = 0
        self.neg = 0
        self.sq_by_sample: list[np.ndarray] = []  # float64 per sample, in the order seen
        self.max = 0.0


class RunStats:
    """Everything a data-set report needs, for the batches seen by this process."""

    def __init__(self, windows: int, layers: int, capacities: list):
        self.layers = [LayerStats(windows, c) for c in capacities]
        self.samples = 0
        self.sample_index: list[np.ndarray] = []
        self.ann_pred: list[np.ndarray] = []
        self.snn_pred: list[np.ndarray] = []
        self.labels: list[np.ndarray] = []
        self.anytime: list[np.ndarray] = []    # [n, T]: the prediction from slots 0..k (§12)
        self.decoupled: list[np.ndarray] = []  # [n, layers]: with layer l decoupled (§10)
        self.exact: list[np.ndarray] = []      # [n, layers]: with layers 0..j exact (prefix j+1)
        self.nonzero: np.ndarray | None = None  # per counted node: nonzero inputs over all slots (§11)

    def add_predictions(self, index, ann, snn, labels, anytime=None, decoupled=None, exact=None):
        self.samples += len(snn)
        self.sample_index.append(np.asarray(index, np.int64))
        self.ann_pred.append(np.asarray(ann, np.int64))
        self.snn_pred.append(np.asarray(snn, np.int64))
        if labels is not None:
            self.labels.append(np.asarray(labels, np.int64).reshape(-1))
        for store, v in ((self.anytime, anytime), (self.decoupled, decoupled), (self.exact, exact)):
            if v is not None:
                store.append(np.asarray(v, np.int64).reshape(len(snn), -1))

    def add_nonzero(self, counts) -> None:
        if counts is None:
            return
        counts = np.asarray(counts, np.int64)
        self.nonzero = counts.copy() if self.nonzero is None else self.nonzero + counts

    def absorb(self, o: "RunStats") -> None:
        """Adds another batch's statistics (results do not depend on the order)."""
        self.samples += o.samples
        self.sample_index += o.sample_index
        self.ann_pred += o.ann_pred
        self.snn_pred += o.snn_pred
        self.labels += o.labels
        self.anytime += o.anytime
        self.decoupled += o.decoupled
        self.exact += o.exact
        self.add_nonzero(o.nonzero)
        for a, b in zip(self.layers, o.layers):
            a.pairs += b.pairs
            a.over_one += b.over_one
            a.overflow += b.overflow
            a.coupling += b.coupling
            a.violations += b.violations
            a.first += b.first
            a.pos += b.pos
            a.neg += b.neg
            a.sq_by_sample += b.sq_by_sample
            for part in b.top.parts:
                a.top.add(part)

    # ------------------------------------------------------------------ merging

    def local_summary(self) -> dict:
        """What every process contributes: small arrays and the top |u| values."""
        cat = lambda xs: np.concatenate(xs) if xs else np.zeros(0, np.int64)  # noqa: E731
        return {
            "samples": self.samples,
            "index": cat(self.sample_index),
            "ann": cat(self.ann_pred),
            "snn": cat(self.snn_pred),
            "labels": cat(self.labels),
            "anytime": cat(self.anytime),
            "decoupled": cat(self.decoupled) if self.decoupled else None,
            "exact": cat(self.exact) if self.exact else None,
            "nonzero": self.nonzero,
            "layers": [{
                "pairs": s.pairs, "over_one": s.over_one, "overflow": s.overflow, "coupling": s.coupling,
                "violations": s.violations, "first": s.first, "pos": s.pos, "neg": s.neg,
                "sq": np.concatenate(s.sq_by_sample) if s.sq_by_sample else np.zeros(0),
                "top": s.top.descending(), "capacity": s.top.capacity,
            } for s in self.layers],
        }


def merge_summaries(parts: list[dict], has_labels: bool) -> dict:
    """Combines the summaries of every process into whole-set numbers."""
    index = np.concatenate([p["index"] for p in parts])
    order = np.argsort(index, kind="stable")
    ann = np.concatenate([p["ann"] for p in parts])[order]
    snn = np.concatenate([p["snn"] for p in parts])[order]
    labels = None
    if has_labels:
        labels = np.concatenate([p["labels"] for p in parts])[order]

    def per_sample(key):
        """Every process's [n, k] rows in sample order; None unless every sample has them (a
        `forward` batch run without attribution leaves the attribution rows incomplete)."""
        have = [p for p in parts if p["samples"]]
        if not have or any(p[key] is None or len(p[key]) != p["samples"] for p in have):
            return None
        idx = np.concatenate([p["index"] for p in have])
        return np.concatenate([p[key] for p in have])[np.argsort(idx, kind="stable")]

    counts = [p["nonzero"] for p in parts if p["nonzero"] is not None]
    layers = []
    for li in range(len(parts[0]["layers"])):
        ls = [p["layers"][li] for p in parts]
        n = sum(x["pairs"] for x in ls)
        top = np.sort(np.concatenate([x["top"] for x in ls]))[::-1]
        cap = ls[0]["capacity"]
        if cap is not None:
            top = top[:cap]
        layers.append({
            "pairs": n,
            "top": top,
            "over_one": sum(x["over_one"] for x in ls),
            "overflow": sum(x["overflow"] for x in ls),
            "coupling": sum(x["coupling"] for x in ls),
            "violations": sum(x["violations"] for x in ls),
            "first": sum(x["first"] for x in ls),
            "pos": sum(x["pos"] for x in ls),
            "neg": sum(x["neg"] for x in ls),
            "sq": math.fsum(float(v) for x in ls for v in x["sq"]),
        })
    return {"samples": int(len(index)), "ann": ann, "snn": snn, "labels": labels, "layers": layers,
            "anytime": per_sample("anytime"), "decoupled": per_sample("decoupled"), "exact": per_sample("exact"),
            "nonzero": sum(counts) if counts else None}
