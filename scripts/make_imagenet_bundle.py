#!/usr/bin/env python3
"""Build an ImageNet-size bundle to try cssdbg on: a torchvision-style ResNet-18 at 3x224x224.

    PY=$(scripts/pyenv.sh)
    "$PY" scripts/make_imagenet_bundle.py [--out .cache/resnet18-imagenet] [--samples 128]
        [--calib 32] [--size 224] [--seed 0]

The network is written here (torchvision is not a dependency) the way torchvision writes it:
conv 7x7/2 -> BatchNorm -> ReLU -> pool 3x3/2 -> four stages of two BasicBlocks -> global average
pool -> Linear(512, 1000); every BasicBlock applies ONE `nn.ReLU` module twice, as torchvision's
does. The stem pool is AvgPool2d(3, 2, 1) instead of MaxPool (a max has no spiking equivalent).

Weights are random (Kaiming normal, fixed seed). BatchNorm statistics are realistic: the
BatchNorm layers run in train mode (cumulative averages) over structured random images before
export, so every pre-activation is normalised to mean 0, variance 1 per channel, then scaled by
random gamma in [0.5, 1.5] and shifted by beta ~ N(0, 0.2) (some channels mostly silent, some busy).

Images are 8-bit: smooth random fields, gradients, stripes and discs quantised to uint8 per RGB
channel, then normalised with the ImageNet mean/std as torchvision's transforms do, so each
channel takes 256 distinct values and saturated pixels repeat the extreme ones. data.npy holds
`--samples` of them, calib.npy `--calib` others, labels.npy the ANN's own predictions (a random
network has no ground truth, so accuracy in cssdbg means agreement with the Float32 ANN).

Output (default `.cache/resnet18-imagenet` in the repository, git-ignored): model.onnx (legacy
TorchScript exporter, opset 17), data.npy, labels.npy, calib.npy, README.md. About 47 MB of
weights plus 0.6 MB per sample.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn

MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)


class BasicBlock(nn.Module):
    """torchvision's BasicBlock: one `relu` module used after bn1 and after the residual add."""

    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class ResNet18(nn.Module):
    def __init__(self, classes: int = 1000):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.avgpool0 = nn.AvgPool2d(3, 2, 1)  # torchvision: MaxPool2d(3, 2, 1)
        cin = 64
        for i, cout in enumerate([64, 128, 256, 512]):
            stride = 1 if i == 0 else 2
            setattr(self, f"layer{i + 1}", nn.Sequential(BasicBlock(cin, cout, stride), BasicBlock(cout, cout, 1)))
            cin = cout
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(512, classes)

    def forward(self, x):
        x = self.avgpool0(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def images(n: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """n structured RGB images as uint8 [n, 3, size, size]."""
    out = np.empty((n, 3, size, size), dtype=np.uint8)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    for i in range(n):
        # smooth random field: a few random low-frequency cosines per channel
        img = np.zeros((3, size, size), dtype=np.float32)
        for c in range(3):
            for _ in range(4):
                fx, fy = rng.uniform(0.5, 6, 2)
                img[c] += rng.uniform(0.2, 1) * np.cos(2 * np.pi * (fx * xx + fy * yy) + rng.uniform(0, 2 * np.pi))
        img += rng.uniform(-1, 1, (3, 1, 1)) * (xx - 0.5)[None] * 3  # colour gradient
        if rng.random() < 0.5:  # stripes
            f = rng.uniform(8, 30)
            img += (np.sin(2 * np.pi * f * (xx * rng.uniform(-1, 1) + yy)) > 0)[None] * rng.uniform(-2, 2, (3, 1, 1))
        for _ in range(rng.integers(1, 4)):  # discs
            cx, cy, r = rng.uniform(0, 1), rng.uniform(0, 1), rng.uniform(0.05, 0.3)
            mask = (xx - cx) ** 2 + (yy - cy) ** 2 < r * r
            img[:, mask] = rng.uniform(-3, 3, (3, 1))
        img += rng.normal(0, 0.15, img.shape)  # sensor noise
        lo, hi = np.percentile(img, [2, 98])  # contrast stretch with clipping: saturated pixels repeat 0/255
        out[i] = np.clip(np.round((img - lo) / max(hi - lo, 1e-6) * 255), 0, 255).astype(np.uint8)
    return out


def normalise(u8: np.ndarray) -> np.ndarray:
    return ((u8.astype(np.float32) / 255 - MEAN[:, None, None]) / STD[:, None, None]).astype(np.float32)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / ".cache" / "resnet18-imagenet")
    ap.add_argument("--samples", type=int, default=128, help="images in data.npy")
    ap.add_argument("--calib", type=int, default=32, help="images in calib.npy")
    ap.add_argument("--size", type=int, default=224, help="image height and width")
    ap.add_argument("--bn-images", type=int, default=64, help="images that set the BatchNorm statistics")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    for flag in ("samples", "calib", "size", "bn_images"):
        if getattr(args, flag) < 1:
            print(f"make_imagenet_bundle.py: --{flag.replace('_', '-')} must be at least 1", file=sys.stderr)
            return 2

    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    net = ResNet18()
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_normal_(m.weight, mode="fan_out" if isinstance(m, nn.Conv2d) else "fan_in",
                                        nonlinearity="relu")
                if m.bias is not None:
                    nn.init.normal_(m.bias, 0.0, 0.01)

    # BatchNorm statistics from data: train mode, cumulative average over --bn-images images.
    for m in net.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.momentum = None
            m.reset_running_stats()
    net.train()
    bn_x = torch.from_numpy(normalise(images(args.bn_images, args.size, rng)))
    with torch.no_grad():
        for lo in range(0, len(bn_x), 16):
            net(bn_x[lo:lo + 16])
        for m in net.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_(0.0, 0.2)
    net.eval()

    data = normalise(images(args.samples, args.size, rng))
    calib = normalise(images(args.calib, args.size, rng))
    with torch.no_grad():
        labels = np.concatenate([net(torch.from_numpy(data[lo:lo + 16])).argmax(1).numpy()
                                 for lo in range(0, len(data), 16)]).astype(np.int64)

    args.out.mkdir(parents=True, exist_ok=True)
    warnings.filterwarnings("ignore")  # the legacy exporter's deprecation notice
    torch.onnx.export(net, (torch.from_numpy(data[:1]),), str(args.out / "model.onnx"), dynamo=False,
                      opset_version=17, input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
    np.save(args.out / "data.npy", data)
    np.save(args.out / "calib.npy", calib)
    np.save(args.out / "labels.npy", labels)
    (args.out / "README.md").write_text(
        f"# resnet18-imagenet (generated)\n\n"
        f"Written by `scripts/make_imagenet_bundle.py --samples {args.samples} --calib {args.calib} "
        f"--size {args.size} --seed {args.seed}`: torchvision-style ResNet-18 with an AvgPool stem, random "
        f"weights, BatchNorm statistics from {args.bn_images} structured 8-bit images. Labels are the ANN's "
        f"own predictions ({len(np.unique(labels))} distinct classes), not ground truth.\n")
    print(f"{args.out}: model.onnx, data.npy [{args.samples}, 3, {args.size}, {args.size}], calib.npy "
          f"[{args.calib}], labels.npy ({len(np.unique(labels))} distinct predicted classes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
