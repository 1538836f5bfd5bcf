#!/usr/bin/env python3
"""Compares two `cssdbg eval --json` reports field by field with the tolerances of
docs/numerics.md §9 (the same rule Tests/IntegrationTests applies) and prints every field that is
outside them. Exit status 0 when the reports agree, 1 otherwise.

    "$(scripts/pyenv.sh)" tools/reference/compare_reports.py OURS.json REFERENCE.json [--quiet]

Tolerances: accuracy and agreement within half a percentage point; per layer θ within 1e-4
(relative), residual p99.9, residual max and activation RMSE within 3 % (at least 0.01), every
count — spikes by sign, overflow, coupling, |u| ≥ 1 and each k0 of violations_by_step and
first_violation_by_step — within 2 % or 5, whichever is larger.
"""

from __future__ import annotations

import argparse
import json
import sys

COUNTS = ["over_one", "overflow", "coupling", "spikes_positive", "spikes_negative"]
PER_STEP = ["violations_by_step", "first_violation_by_step"]
RELATIVE = ["residual_p999", "residual_max", "activation_rmse"]


def count_ok(ours: int, ref: int) -> bool:
    return abs(ours - ref) <= max(5, 0.02 * abs(ref))


def compare(ours: dict, ref: dict) -> list[str]:
    """Every disagreement as one line; empty when the reports agree within §9."""
    bad = []
    for key in ("samples", "latency"):
        if ours.get(key) != ref.get(key):
            bad.append(f"{key}: {ours.get(key)} vs {ref.get(key)}")
    for key in ("ann_accuracy", "snn_accuracy", "agreement"):
        r = ref.get(key)
        if r is not None and (ours.get(key) is None or abs(ours[key] - r) > 0.005):
            bad.append(f"{key}: {ours.get(key)} vs {r}")
    ol, rl = ours["layers"], ref["layers"]
    if len(ol) != len(rl):
        return bad + [f"layers: {len(ol)} vs {len(rl)}"]
    for o, r in zip(ol, rl):
        name = r["tensor"]
        for key in ("tensor", "neurons", "window_start"):
            if o[key] != r[key]:
                bad.append(f"{name} {key}: {o[key]} vs {r[key]}")
        if abs(o["theta"] - r["theta"]) > 1e-4 * abs(r["theta"]):
            bad.append(f"{name} theta: {o['theta']} vs {r['theta']}")
        for key in RELATIVE:
            if abs(o[key] - r[key]) > max(0.01, 0.03 * abs(r[key])):
                bad.append(f"{name} {key}: {o[key]:.6g} vs {r[key]:.6g}")
        for key in COUNTS:
            if not count_ok(o[key], r[key]):
                bad.append(f"{name} {key}: {o[key]} vs {r[key]}")
        for key in PER_STEP:
            if len(o[key]) != len(r[key]):
                bad.append(f"{name} {key}: length {len(o[key])} vs {len(r[key])}")
                continue
            for k0, (a, b) in enumerate(zip(o[key], r[key])):
                if not count_ok(a, b):
                    bad.append(f"{name} {key}[k0={k0}]: {a} vs {b}")
    return bad


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("ours")
    ap.add_argument("reference")
    ap.add_argument("--quiet", action="store_true", help="print only the number of disagreements")
    args = ap.parse_args(argv)
    with open(args.ours) as f:
        ours = json.load(f)
    with open(args.reference) as f:
        ref = json.load(f)
    bad = compare(ours, ref)
    if not args.quiet:
        for line in bad:
            print(line)
    print(f"{len(bad)} field(s) outside docs/numerics.md §9 tolerances")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
