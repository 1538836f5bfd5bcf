"""Samples/s of the PyTorch path: `CSSNetwork.evaluate` (ANN, SNN and every statistic of
`cssdbg eval`) on a bundle's data, calibration and start-up excluded; median of --iters runs
after one untimed batch (which also compiles the TorchScript loops).

    python python/examples/throughput.py BUNDLE [--batch 16] [--threads N] [--iters 3] [--limit N] [--device cpu]
"""

import argparse
import statistics
import time

import numpy as np
import torch

from cssdbg_torch import CSSNetwork


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bundle")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--threads", type=int, default=torch.get_num_threads())
    ap.add_argument("--iters", type=int, default=3)
    ap.add_argument("--limit", type=int, help="only the first N samples")
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()
    net = CSSNetwork.from_bundle(args.bundle, device=args.device)
    data = np.load(f"{args.bundle}/data.npy", mmap_mode="r")[:args.limit].astype(np.float32)
    torch.set_num_threads(1)  # as the CLI: batches in parallel, one thread each
    net.evaluate(data[:args.batch], batch_size=args.batch)
    times = []
    for _ in range(args.iters):
        t = time.perf_counter()
        net.evaluate(data, batch_size=args.batch, workers=args.threads)
        times.append(time.perf_counter() - t)
    med = statistics.median(times)
    print(f"{args.bundle}: {len(data)} samples, batch {args.batch}, {args.threads} threads: "
          f"median {med:.3f} s, {len(data) / med:.1f} samples/s")


if __name__ == "__main__":
    main()
