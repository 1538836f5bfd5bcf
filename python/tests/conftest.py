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


# css-spec §10–§12 fields (with --attribution the ATTRIBUTION ones too), in report order.
NEW_TOP = ["anytime_accuracy", "anytime_agreement", "settled_by_slot", "macs", "synaptic_ops", "neuron_steps",
           "e_mac_pj", "e_ac_pj", "energy_pj", "output"]
NEW_LAYER = ["macs", "synaptic_ops", "neuron_steps"]
ATTRIBUTION_TOP = ["exact_prefix_accuracy", "exact_prefix_agreement", "culprit_basis", "culprit_unresolved"]
ATTRIBUTION_LAYER = ["decoupled_accuracy", "decoupled_agreement", "culprit_samples"]

_binary_fields = {}


def binary_has_new_fields() -> bool:
    """Whether the cssdbg binary's `eval --json` has the §10–§12 fields (older builds do not)."""
    b = cssdbg_binary()
    if b not in _binary_fields:
        r = json.loads(run([b, "eval", "--json", SAMPLES / "coupling"]).stdout)
        _binary_fields[b] = all(k in r for k in NEW_TOP)
    return _binary_fields[b]


def binary_has_attribution() -> bool:
    b = cssdbg_binary()
    if (b, "attribution") not in _binary_fields:
        p = run([b, "eval", "--json", "--attribution", SAMPLES / "coupling"], check=False)
        _binary_fields[(b, "attribution")] = p.returncode == 0 and "culprit_basis" in p.stdout
    return _binary_fields[(b, "attribution")]


def without_new_fields(r: dict) -> dict:
    """The report as a cssdbg without the §10–§12 fields prints it."""
    drop = set(NEW_TOP) | set(ATTRIBUTION_TOP)
    out = {k: v for k, v in r.items() if k not in drop}
    out["layers"] = [{k: v for k, v in l.items() if k not in set(NEW_LAYER) | set(ATTRIBUTION_LAYER)}
                     for l in r["layers"]]
    return out


def _close(x, y, what, rel=0.0, abs_=0.0):
    if x is None or y is None:
        assert x is None and y is None, f"{what}: {x} vs {y}"
        return
    assert abs(x - y) <= max(abs_, rel * max(abs(x), abs(y))) + 1e-12 * max(1.0, abs(y)), f"{what}: {x} vs {y}"


def _assert_new_fields_agree(a: dict, b: dict, pre: str, count_ok) -> None:
    """§10–§12 fields: MACs, neuron steps and the energy figures exactly; synaptic operations
    within 2 % (spike counts' slack); anytime, decoupled and exact-prefix accuracies within half a
    percentage point; sample counts (settled, culprits) within 2 % or 5."""
    T = a["config"]["T"]
    for k in ("anytime_accuracy", "anytime_agreement"):
        if a[k] is None or b[k] is None:
            assert a[k] is None and b[k] is None, f"{pre}{k}: {a[k]} vs {b[k]}"
            continue
        assert len(a[k]) == len(b[k]) == T, f"{pre}{k} length"
        for i, (x, y) in enumerate(zip(a[k], b[k])):
            _close(x, y, f"{pre}{k}[{i}]", abs_=0.005)
    assert len(a["settled_by_slot"]) == len(b["settled_by_slot"]) == T
    assert all(count_ok(x, y) for x, y in zip(a["settled_by_slot"], b["settled_by_slot"])), \
        f"{pre}settled_by_slot: {a['settled_by_slot']} vs {b['settled_by_slot']}"
    for k in ("macs", "neuron_steps", "e_mac_pj", "e_ac_pj"):
        assert a[k] == b[k], f"{pre}{k}: {a[k]} vs {b[k]}"
    _close(a["synaptic_ops"], b["synaptic_ops"], pre + "synaptic_ops", rel=0.02)
    assert list(a["energy_pj"]) == list(b["energy_pj"]) == ["ann", "snn"]
    _close(a["energy_pj"]["ann"], b["energy_pj"]["ann"], pre + "energy_pj.ann", rel=1e-12)
    _close(a["energy_pj"]["snn"], b["energy_pj"]["snn"], pre + "energy_pj.snn", rel=0.02)
    assert list(a["output"]) == list(b["output"]) == ["macs", "synaptic_ops"]
    assert a["output"]["macs"] == b["output"]["macs"], f"{pre}output.macs"
    _close(a["output"]["synaptic_ops"], b["output"]["synaptic_ops"], pre + "output.synaptic_ops", rel=0.02)
    for la, lb in zip(a["layers"], b["layers"]):
        n = f"{pre}layer {la['name']}"
        assert la["macs"] == lb["macs"] and la["neuron_steps"] == lb["neuron_steps"], f"{n} macs/neuron_steps"
        _close(la["synaptic_ops"], lb["synaptic_ops"], n + " synaptic_ops", rel=0.02)
    if "culprit_basis" in a or "culprit_basis" in b:
        assert a["culprit_basis"] == b["culprit_basis"], pre + "culprit_basis"
        for k in ("exact_prefix_accuracy", "exact_prefix_agreement"):
            if a[k] is None or b[k] is None:
                assert a[k] is None and b[k] is None, f"{pre}{k}: {a[k]} vs {b[k]}"
                continue
            assert len(a[k]) == len(b[k]) == len(a["layers"]) + 1, f"{pre}{k} length"
            for j, (x, y) in enumerate(zip(a[k], b[k])):
                _close(x, y, f"{pre}{k}[{j}]", abs_=0.005)
        assert count_ok(a["culprit_unresolved"], b["culprit_unresolved"]), pre + "culprit_unresolved"
        for la, lb in zip(a["layers"], b["layers"]):
            n = f"{pre}layer {la['name']}"
            for k in ("decoupled_accuracy", "decoupled_agreement"):
                _close(la[k], lb[k], f"{n} {k}", abs_=0.005)
            assert count_ok(la["culprit_samples"], lb["culprit_samples"]), \
                f"{n} culprit_samples: {la['culprit_samples']} vs {lb['culprit_samples']}"


def assert_reports_agree(a: dict, b: dict, what: str = "") -> None:
    """Two `eval --json` reports within docs/numerics.md §9: accuracy and agreement within half a
    percentage point, residual p99.9 within 3 %, overflow/coupling/|u| ≥ 1 counts and every
    per-step count within 2 % or 5, spike counts and activation RMSE within 2 %; structure,
    names, sizes, windows and the config exactly; θ to 1e-5 (calibrated from float32 ANNs)."""
    pre = f"{what}: " if what else ""
    if "macs" in a and "macs" not in b:
        # b is a cssdbg without the §10–§12 fields: the rest is compared, and
        # test_parity.py's new-field tests say they were skipped.
        a = without_new_fields(a)
    assert list(a) == list(b), pre + f"top-level keys differ: {list(a)} vs {list(b)}"
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
    if "macs" in b:
        _assert_new_fields_agree(a, b, pre, count_ok)
