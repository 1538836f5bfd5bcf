#!/usr/bin/env python3
"""How close each convolution path (`--conv`) keeps `cssdbg eval --json` to the Float64 reference
over the grid of the reference-agreement tests (T 6, 8, 10, 12 × L 0, 1, 2 × negative spikes on
and off, β = 1.5), per sample model: for every config the fields outside docs/numerics.md §9 and
the largest share of its §9 tolerance any field uses (1.00 = exactly at the limit), so a path that
passes narrowly shows as well as one that fails. Reads the committed fixtures
(Tests/Fixtures/reference/MODEL-T{T}-L{L}-{neg|noneg}.json); plain Python 3.

    python3 tools/reference/conv_agreement.py [--cssdbg .build/release/cssdbg]
        [--model digits-cnn --model digits-resnet] [--conv winograd --conv auto]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare_reports import COUNTS, PER_STEP, RELATIVE, compare  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def usage(ours: dict, ref: dict) -> tuple[float, str]:
    """The largest |ours − ref| / tolerance over the per-layer fields of §9, and which field."""
    worst, where = 0.0, ""

    def see(v: float, label: str) -> None:
        nonlocal worst, where
        if v > worst:
            worst, where = v, label

    for key in ("snn_accuracy", "agreement"):
        if ref.get(key) is not None and ours.get(key) is not None:
            see(abs(ours[key] - ref[key]) / 0.005, key)
    for o, r in zip(ours["layers"], ref["layers"]):
        name = r["tensor"]
        for key in RELATIVE:
            see(abs(o[key] - r[key]) / max(0.01, 0.03 * abs(r[key])), f"{name} {key} {o[key]:.4g} vs {r[key]:.4g}")
        for key in COUNTS:
            see(abs(o[key] - r[key]) / max(5, 0.02 * abs(r[key])), f"{name} {key} {o[key]} vs {r[key]}")
        for key in PER_STEP:
            for k0, (a, b) in enumerate(zip(o[key], r[key])):
                see(abs(a - b) / max(5, 0.02 * abs(b)), f"{name} {key}[k0={k0}] {a} vs {b}")
    return worst, where


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cssdbg", default=os.path.join(ROOT, ".build/release/cssdbg"))
    ap.add_argument("--model", action="append")
    ap.add_argument("--conv", action="append")
    a = ap.parse_args()
    models = a.model or ["digits-cnn", "digits-resnet"]
    convs = a.conv or ["winograd", "auto"]
    if not os.access(a.cssdbg, os.X_OK):
        print(f"conv_agreement.py: no cssdbg binary at {a.cssdbg} (swift build -c release --product cssdbg)", file=sys.stderr)
        return 2
    failing = 0
    for model in models:
        print(f"## {model}\n")
        print("| config | " + " | ".join(f"`--conv {c}`: outside §9 / largest tolerance share" for c in convs) + " |")
        print("|---|" + "---|" * len(convs))
        for T in (6, 8, 10, 12):
            for L in (0, 1, 2):
                for neg in (True, False):
                    name = f"{model}-T{T}-L{L}-{'neg' if neg else 'noneg'}"
                    with open(os.path.join(ROOT, "Tests/Fixtures/reference", name + ".json")) as f:
                        ref = json.load(f)
                    cells = []
                    for conv in convs:
                        cmd = [a.cssdbg, "eval", os.path.join(ROOT, "samples", model), "-T", str(T), "--beta", "1.5",
                               "--silent", str(L), "--conv", conv, "--json"] + ([] if neg else ["--no-negative"])
                        p = subprocess.run(cmd, capture_output=True, text=True)
                        if p.returncode != 0:
                            print(f"conv_agreement.py: {' '.join(cmd)} failed: {p.stderr.strip()}", file=sys.stderr)
                            return 2
                        ours = json.loads(p.stdout)
                        bad = compare(ours, ref)
                        share, where = usage(ours, ref)
                        failing += len(bad)
                        cells.append(f"{len(bad)} / {share:.2f} ({where})")
                    print(f"| T={T} L={L} {'neg' if neg else 'noneg'} | " + " | ".join(cells) + " |")
        print()
    return 1 if failing else 0


if __name__ == "__main__":
    sys.exit(main())
