#!/usr/bin/env python3
"""Writes the training split of the digits samples (the one scripts/make_samples.py trained on,
disjoint from the bundles' data.npy test split) for `python -m cssdbg_torch finetune`.

Usage:  "$(scripts/pyenv.sh)" scripts/digits_train_split.py [--out .cache/digits-train] [--flat]
Writes OUT/x.npy ([1437, 1, 8, 8] float32, or [1437, 64] with --flat) and OUT/y.npy (int64).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_samples import load_data  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=".cache/digits-train")
    ap.add_argument("--flat", action="store_true", help="[N, 64] (digits-mlp) instead of [N, 1, 8, 8]")
    args = ap.parse_args(argv)
    d = load_data()
    x = d["x_train"].reshape(len(d["x_train"]), 64) if args.flat else d["x_train"].reshape(len(d["x_train"]), 1, 8, 8)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    np.save(out / "x.npy", np.ascontiguousarray(x, dtype=np.float32))
    np.save(out / "y.npy", d["y_train"].astype(np.int64))
    print(f"{out}/x.npy {list(x.shape)}, {out}/y.npy")
    return 0


if __name__ == "__main__":
    sys.exit(main())
