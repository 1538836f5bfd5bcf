"""The per-time-step loops of the simulation (css-spec §4–§6) as plain tensor functions.

On CPU they run as TorchScript: the loops then run without Python between the ops and without
holding the GIL, so the worker threads of `in_batches` run in parallel instead of taking turns
(small layers are all per-op overhead). No fuser runs on CPU (PyTorch's CPU fusion is off by
default), so the ops are the same ATen kernels as eager mode and the numbers are the same bits. On CUDA they run eagerly (TorchScript's
GPU fusers may contract multiply-adds, which would change rounding).

Every op rounds exactly as the step-by-step formulas of the spec: `h = β·h + X`,
`o = (h ≥ 0 ? h : 0) − G`, `G = G + β^L·S` (β^L·S is exact since S ∈ {−1, 0, 1}), and the
loops work in place on preallocated buffers."""

from __future__ import annotations

import threading
import warnings
from typing import List, Tuple

import torch


def tsa_window(inputs: torch.Tensor, T: int, L: int, beta: float, thr: float, reset: float,
               negative: bool) -> Tuple[torch.Tensor, torch.Tensor]:
    """TSA-ReLU (§5) over the T+L steps: `inputs[k]` [P] is step k's input in θ units (rows
    after the last are 0). Returns the spikes S [T, P] and the final h [P]."""
    P = inputs.shape[1]
    dt, dev = inputs.dtype, inputs.device
    h = torch.empty(P, dtype=dt, device=dev)
    g = torch.empty(P, dtype=dt, device=dev)  # G = 0 until step L, set there
    o = torch.empty(P, dtype=dt, device=dev)
    low = torch.empty(P, dtype=dt, device=dev)
    S = torch.empty((T, P), dtype=dt, device=dev)
    n_in = inputs.shape[0]
    for k in range(T + L):
        if k == 0:
            h.copy_(inputs[0])  # β·0 + x = x
        elif k < n_in:
            h.mul_(beta).add_(inputs[k])
        else:
            h.mul_(beta)
        if k >= L:
            torch.clamp_min(h, 0.0, out=o)
            if k > L:
                g.mul_(beta)
                o.sub_(g)  # at k = L, G = β·0 = 0 and h − 0 = h
            s = S[k - L]
            torch.ge(o, thr, out=s)
            if negative:
                s.sub_(torch.le(o, -thr, out=low))
            if k > L:
                g.add_(s, alpha=reset)
            else:
                torch.mul(s, reset, out=g)  # 0 + β^L·S
    return S, h


def exact_piece(dtype: torch.dtype) -> int:
    """How many 0/1 values a float sum of this dtype adds exactly: every partial sum is then an
    integer the type holds (2^24 in float32, 2^53 in float64)."""
    return (1 << 24) if dtype == torch.float32 else (1 << 53)


def _row_ones(x: torch.Tensor, piece: int) -> torch.Tensor:
    """The number of ones in each row of x [R, P] (values 0 or 1), exact, as int64 [R].

    Float sums over the contiguous last dim are the fast path on CPU (comparisons that make
    bool tensors, and integer reductions, are several times slower); rows longer than `piece`
    (`exact_piece`) are summed in pieces of that length."""
    P = x.shape[1]
    if P <= piece:
        return x.sum(dim=1).to(torch.int64)
    total = torch.zeros(x.shape[0], dtype=torch.int64, device=x.device)
    for lo in range(0, P, piece):
        total += x[:, lo:lo + piece].sum(dim=1).to(torch.int64)
    return total


def window_stats(S: torch.Tensor, h: torch.Tensor, beta: float, reset: float, wf: List[float],
                 cap: List[float], piece: int) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The §6 statistics of one layer's window from its spikes S [T, P] and final h [P].

    Returns (counts, u, e): counts (int64) = violations for j = 0..T fired slots, then
    positive and negative spikes and |u| ≥ 1, then the first-violation histogram hist[c],
    c = T+1−j for first violation at j (c = 0: none); u = |a − e| and e = Σ w_i S_i [P].

    pending(j) = a − Σ_{i<j} w_i S_i by the sequential subtractions of the step-by-step form
    (w·S is exact); `capacity − |pending| ≤ 0` is tested as `|pending| ≥ capacity`, the same in
    IEEE arithmetic. The first violating j is found as a max of T+1−j over the violating rows
    (argmax over a leading dim is slow on CPU). Tests write 0/1 floats in place (see
    `_row_ones`)."""
    T, P = S.shape[0], S.shape[1]
    dt, dev = S.dtype, S.device
    a = torch.clamp_min(h, 0.0).div_(reset)
    e = S[0].clone()  # Horner form of Σ w_i S_i
    for i in range(1, T):
        e.mul_(beta).add_(S[i])
    pend = torch.empty((T + 1, P), dtype=dt, device=dev)
    pend[0].copy_(a)
    for j in range(T):
        torch.sub(pend[j], S[j], alpha=wf[j], out=pend[j + 1])
    capt = torch.tensor(cap, dtype=dt, device=dev).reshape(-1, 1)
    viol = torch.ge(pend.abs_(), capt, out=pend)  # [T+1, P], 1 where margin(j) ≤ 0
    by_j = _row_ones(viol, piece)
    u = (a - e).abs_()
    # Spike counts without temporaries: S ∈ {−1, 0, 1}, so per row ΣS = pos − neg and
    # Σ|S| = pos + neg, both exact while P fits _row_ones's bound.
    if P <= piece:
        net = S.sum(dim=1).to(torch.int64).sum()
        both = torch.linalg.vector_norm(S, 1.0, dim=1).to(torch.int64).sum()
        pos, neg = (both + net) // 2, (both - net) // 2
    else:
        pos = _row_ones(torch.clamp_min(S, 0.0), piece).sum()
        neg = _row_ones(torch.clamp_max(S, 0.0).neg_(), piece).sum()
    over = _row_ones(torch.ge(u, 1.0, out=torch.empty_like(u)).reshape(1, -1), piece).sum()
    spikes = torch.stack([pos, neg, over])
    code = viol.mul_(torch.arange(T + 1, 0, -1, dtype=dt, device=dev).reshape(-1, 1)).amax(dim=0)
    hist = torch.bincount(code.to(torch.int64), minlength=T + 2)
    return torch.cat([by_j, spikes, hist]), u, e


def encode(x: torch.Tensor, theta: float, beta: float, beta_T: float, T: int, tie: float) -> torch.Tensor:
    """Signed Theorem-2 encoder (§4) in float64 with its tie rule: spikes [T, ...] (float64);
    beta_T = β^T (computed by the caller, in Python)."""
    u = x.to(torch.float64) / theta / beta_T
    shape: List[int] = list(x.shape)
    out = torch.empty([T] + shape, dtype=torch.float64, device=x.device)
    neg = torch.empty(shape, dtype=torch.float64, device=x.device)
    for k in range(T):
        u.mul_(beta)
        s = out[k]
        torch.ge(u, 1 - tie, out=s)
        s.sub_(torch.le(u, -1 + tie, out=neg))
        u.sub_(s)
    return out


_SCRIPTED: dict = {}
_LOCK = threading.Lock()


def on(device: torch.device, fn):
    """fn as TorchScript on CPU (scripted once per process), else fn itself."""
    if device.type != "cpu":
        return fn
    with _LOCK:  # the worker threads of in_batches ask at once
        if fn not in _SCRIPTED:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # torch.jit.script's deprecation notice
                    _SCRIPTED[fn] = torch.jit.script(fn)
            except Exception:  # a PyTorch without TorchScript: the same ops, eagerly
                _SCRIPTED[fn] = fn
        return _SCRIPTED[fn]
