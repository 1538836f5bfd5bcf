"""Shared helpers: the repository's samples, the cssdbg binary ($CSSDBG, default
.build/debug/cssdbg), and both `eval --json` commands run as a user runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "samples"


def cssdbg_binary() -> str:
    b = os.environ.get("CSSDBG") or str(REPO / ".build" / "debug" / "cssdbg")
    if not os.path.isfile(b):
        pytest.fail(f"cssdbg binary not found at {b}: build it (swift build --product cssdbg) or set CSSDBG")
    return b


def run(cmd, check=True, env=None, timeout=600):
    e = dict(os.environ)
    # The package under test: the installed one, or this checkout's python/ when not installed.
    e["PYTHONPATH"] = os.pathsep.join([str(REPO / "python")] + ([e["PYTHONPATH"]] if e.get("PYTHONPATH") else []))
    if env:
        e.update(env)
    p = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, env=e, timeout=timeout)
    if check and p.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, cmd))} exited {p.returncode}:\n{p.stderr[-3000:]}")
    return p


def swift_eval(*args) -> dict:
    return json.loads(run([cssdbg_binary(), "eval", "--json", *args]).stdout)


def py_eval(*args, env=None) -> dict:
    return json.loads(run([sys.executable, "-m", "cssdbg_torch", "eval", "--json", *args], env=env).stdout)


def assert_reports_agree(a: dict, b: dict, what: str = "") -> None:
    """Two `eval --json` reports within css-spec §9: accuracy and agreement within half a
    percentage point, residual p99.9 within 3 %, overflow/coupling/|u| ≥ 1 counts and every
    per-step count within 2 % or 5; structure, names and sizes exactly."""
    pre = f"{what}: " if what else ""
    assert list(a) == list(b), pre + "top-level keys differ"
    for k in ("model", "config", "samples", "latency"):
        assert a[k] == b[k], f"{pre}{k}: {a[k]} vs {b[k]}"
    for k in ("ann_accuracy", "snn_accuracy", "agreement"):
        if a[k] is None or b[k] is None:
            assert a[k] is None and b[k] is None, f"{pre}{k}: {a[k]} vs {b[k]}"
        else:
            assert abs(a[k] - b[k]) <= 0.005 + 1e-12, f"{pre}{k}: {a[k]} vs {b[k]}"
    assert len(a["layers"]) == len(b["layers"]), pre + "layer count"

    def count_ok(x, y):
        return abs(x - y) <= max(5, 0.02 * max(abs(x), abs(y)))

    for la, lb in zip(a["layers"], b["layers"]):
        n = f"{pre}layer {la['name']}"
        assert list(la) == list(lb), n + ": keys differ"
        for k in ("name", "tensor", "neurons", "window_start"):
            assert la[k] == lb[k], f"{n} {k}: {la[k]} vs {lb[k]}"
        assert abs(la["theta"] - lb["theta"]) <= 1e-5 * lb["theta"], f"{n} theta: {la['theta']} vs {lb['theta']}"
        assert abs(la["residual_p999"] - lb["residual_p999"]) <= 0.03 * max(lb["residual_p999"], 1e-9), \
            f"{n} residual_p999: {la['residual_p999']} vs {lb['residual_p999']}"
        assert abs(la["residual_max"] - lb["residual_max"]) <= 0.03 * max(lb["residual_max"], 1e-9) + 1e-6, \
            f"{n} residual_max: {la['residual_max']} vs {lb['residual_max']}"
        for k in ("over_one", "overflow", "coupling"):
            assert count_ok(la[k], lb[k]), f"{n} {k}: {la[k]} vs {lb[k]}"
        for k in ("violations_by_step", "first_violation_by_step"):
            assert len(la[k]) == len(lb[k]), f"{n} {k} length"
            assert all(count_ok(x, y) for x, y in zip(la[k], lb[k])), f"{n} {k}: {la[k]} vs {lb[k]}"
        for k in ("spikes_positive", "spikes_negative"):
            assert count_ok(la[k], lb[k]) or abs(la[k] - lb[k]) <= 0.01 * lb[k], f"{n} {k}: {la[k]} vs {lb[k]}"
        assert abs(la["activation_rmse"] - lb["activation_rmse"]) <= 0.02 * lb["activation_rmse"] + 1e-9, \
            f"{n} activation_rmse: {la['activation_rmse']} vs {lb['activation_rmse']}"
