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

# One thread: the suite shares 2 cores with the rest of CI, and OpenMP threads that spin-wait
# for a busy core make a run several times slower (results do not depend on it).
import torch  # noqa: E402

torch.set_num_threads(1)

try:  # the installed package (scripts/test-python.sh installs it), else this checkout's python/
    import cssdbg_torch  # noqa: E402,F401
except ImportError:
    sys.path.insert(0, str(REPO / "python"))
    import cssdbg_torch  # noqa: E402,F401
PACKAGE_ROOT = str(Path(cssdbg_torch.__file__).resolve().parents[1])
SAMPLES = REPO / "samples"


def cssdbg_binary() -> str:
    b = os.environ.get("CSSDBG") or str(REPO / ".build" / "debug" / "cssdbg")
    if not os.path.isfile(b):
        pytest.fail(f"cssdbg binary not found at {b}: build it (swift build --product cssdbg) or set CSSDBG")
    return b


def run(cmd, check=True, env=None, timeout=600):
    e = dict(os.environ)
    # Child processes (torchrun) import the same package as this one.
    e["PYTHONPATH"] = os.pathsep.join([PACKAGE_ROOT] + ([e["PYTHONPATH"]] if e.get("PYTHONPATH") else []))
    if env:
        e.update(env)
    p = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, env=e, timeout=timeout)
    if check and p.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, cmd))} exited {p.returncode}:\n{p.stderr[-3000:]}")
    return p


def swift_eval(*args) -> dict:
    return json.loads(run([cssdbg_binary(), "eval", "--json", *args]).stdout)


def py_cli(*args):
    """`python -m cssdbg_torch ARGS` in this process (no new interpreter to start, torch is
    imported once): (exit status, stdout, stderr)."""
    import contextlib
    import io

    from cssdbg_torch.cli import main
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            rc = main([str(a) for a in args])
        except SystemExit as e:  # argparse
            rc = e.code
    return rc, out.getvalue(), err.getvalue()


def py_eval(*args) -> dict:
    rc, out, err = py_cli("eval", "--json", *args)
    assert rc == 0, err
    return json.loads(out)


def assert_reports_agree(a: dict, b: dict, what: str = "") -> None:
    """Two `eval --json` reports within docs/numerics.md §9: accuracy and agreement within half a
    percentage point, residual p99.9 within 3 %, overflow/coupling/|u| ≥ 1 counts and every
    per-step count within 2 % or 5, spike counts and activation RMSE within 2 %; structure,
    names, sizes, windows and the config exactly; θ to 1e-5 (calibrated from float32 ANNs)."""
    pre = f"{what}: " if what else ""
    assert list(a) == list(b), pre + "top-level keys differ"
    for k in ("model", "config", "theta_source", "theta_file", "samples", "latency"):
        assert a.get(k) == b.get(k), f"{pre}{k}: {a.get(k)} vs {b.get(k)}"
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
        # residual_max is one neuron of one sample: a single threshold tie moves it, and §9 holds
        # it to nothing.
        assert la["residual_max"] >= la["residual_p999"] and lb["residual_max"] >= lb["residual_p999"]
        for k in ("over_one", "overflow", "coupling"):
            assert count_ok(la[k], lb[k]), f"{n} {k}: {la[k]} vs {lb[k]}"
        for k in ("violations_by_step", "first_violation_by_step"):
            assert len(la[k]) == len(lb[k]), f"{n} {k} length"
            assert all(count_ok(x, y) for x, y in zip(la[k], lb[k])), f"{n} {k}: {la[k]} vs {lb[k]}"
        for k in ("spikes_positive", "spikes_negative"):
            assert count_ok(la[k], lb[k]) or abs(la[k] - lb[k]) <= 0.01 * lb[k], f"{n} {k}: {la[k]} vs {lb[k]}"
        assert abs(la["activation_rmse"] - lb["activation_rmse"]) <= 0.02 * lb["activation_rmse"] + 1e-9, \
            f"{n} activation_rmse: {la['activation_rmse']} vs {lb['activation_rmse']}"
