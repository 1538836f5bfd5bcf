#!/usr/bin/env python3
"""Regenerate the layer-naming fixtures in Tests/Fixtures/onnx (ResNets with repeated ReLUs).

A torchvision-style ResNet (conv1/bn1/relu stem, layer1 of two BasicBlocks, GAP, fc), tiny
(2 channels, 6x6 input), in two variants and exported by both exporters:

  resnet-relu-module-{torchscript,dynamo}      each block applies one nn.ReLU module twice
  resnet-relu-functional-{torchscript,dynamo}  each block calls F.relu twice, the stem once

The dynamo files keep the exporter's per-node metadata (pkg.torch.onnx.name_scopes,
class_hierarchy, namespace) that cssdbg names layers from; only the stack traces, which hold
paths of the machine that exported them, are removed.

For each NAME: NAME.onnx, NAME.input.npy (float32, batch 3), NAME.ort.npy (onnxruntime output).
Their rows in MANIFEST.md are replaced; the other rows stay as scripts/make_fixtures.py wrote them.

Usage:  "$(scripts/pyenv.sh)" scripts/make_name_fixtures.py
"""

from __future__ import annotations

import sys
import warnings
import zlib
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "Tests" / "Fixtures" / "onnx"
BATCH = 3
C = 2


class BasicBlock(nn.Module):
    """torchvision's BasicBlock shape: one ReLU module, applied after bn1 and after the add."""

    def __init__(self, c: int):
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c)

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + x)


class FunctionalBlock(BasicBlock):
    """The same block calling F.relu twice (no ReLU module is used)."""

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + x)


class TinyResNet(nn.Module):
    def __init__(self, block, functional_stem: bool):
        super().__init__()
        self.functional_stem = functional_stem
        self.conv1 = nn.Conv2d(1, C, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(C)
        self.relu = nn.ReLU(inplace=True)
        self.layer1 = nn.Sequential(block(C), block(C))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(C, 3)

    def forward(self, x):
        x = self.bn1(self.conv1(x))
        x = F.relu(x) if self.functional_stem else self.relu(x)
        x = self.layer1(x)
        return self.fc(torch.flatten(self.avgpool(x), 1))


def realistic_bn(model: nn.Module, seed: int):
    g = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            n = m.num_features
            m.running_mean.copy_(torch.randn(n, generator=g) * 0.1)
            m.running_var.copy_(torch.rand(n, generator=g) + 0.5)
            m.weight.data.copy_(torch.rand(n, generator=g) + 0.5)
            m.bias.data.copy_(torch.randn(n, generator=g) * 0.1)


def run_ort(path: Path, x: np.ndarray) -> np.ndarray:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    return sess.run(None, {sess.get_inputs()[0].name: x})[0].astype(np.float32)


def strip_stack_traces(path: Path):
    m = onnx.load(str(path))
    for node in m.graph.node:
        keep = [p for p in node.metadata_props if p.key != "pkg.torch.onnx.stack_trace"]
        del node.metadata_props[:]
        node.metadata_props.extend(keep)
    onnx.save(m, str(path))


def export(name: str, model: nn.Module, x: np.ndarray, dynamo: bool):
    for suffix in (".onnx", ".onnx.data", ".input.npy", ".ort.npy"):
        (OUT / (name + suffix)).unlink(missing_ok=True)
    ex = torch.from_numpy(x)
    path = OUT / f"{name}.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if dynamo:
            prog = torch.onnx.export(model, (ex,), dynamo=True, opset_version=18, input_names=["x"],
                                     output_names=["y"], dynamic_shapes={"x": {0: torch.export.Dim("batch")}},
                                     verbose=False)
            prog.save(str(path), external_data=False)
            strip_stack_traces(path)
        else:
            torch.onnx.export(model, (ex,), str(path), dynamo=False, opset_version=17, input_names=["x"],
                              output_names=["y"], dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}})
    np.save(OUT / f"{name}.input.npy", x)
    np.save(OUT / f"{name}.ort.npy", run_ort(path, x))
    relus = [n.name for n in onnx.load(str(path)).graph.node if n.op_type == "Relu"]
    print(f"{name}.onnx {path.stat().st_size} bytes, Relu nodes: {', '.join(relus)}")


def update_manifest(rows: list[tuple[str, str, str, str]]):
    path = OUT / "MANIFEST.md"
    lines = path.read_text().split("\n")
    names = {f"`{r[0]}`" for r in rows}
    lines = [l for l in lines if not (l.startswith("| `") and l.split(" ")[1] in names)]
    table = [i for i, l in enumerate(lines) if l.startswith("| `")]
    new = [f"| `{n}` | {what} | {opset} | {exporter} | {ops} |" for n, what, opset, exporter, ops in rows]
    at = table[-1] + 1 if table else len(lines)
    body = sorted([lines[i] for i in table] + new, key=lambda l: l.split("`")[1])
    lines[table[0] if table else at:at] = body
    path.write_text("\n".join(lines))


def main():
    torch.manual_seed(10)
    torch.set_num_threads(1)
    x = np.random.default_rng(zlib.crc32(b"resnet-names/input")).standard_normal((BATCH, 1, 6, 6)).astype(np.float32)
    rows = []
    for variant, block, functional, what in (
        ("module", BasicBlock, False, "torchvision-style ResNet, each BasicBlock applies one nn.ReLU module twice"),
        ("functional", FunctionalBlock, True, "the same ResNet calling F.relu (stem once, each block twice)"),
    ):
        model = TinyResNet(block, functional).eval()
        realistic_bn(model, 7)
        for exporter, dynamo, opset in (("torchscript", False, 17), ("dynamo", True, 18)):
            name = f"resnet-relu-{variant}-{exporter}"
            export(name, model, x, dynamo)
            ops = ", ".join(sorted({n.op_type for n in onnx.load(str(OUT / f"{name}.onnx")).graph.node}))
            label = "torch dynamo exporter (node metadata kept)" if dynamo else "torch TorchScript exporter"
            rows.append((name, what + "; layer names", str(opset), label, ops))
    update_manifest(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
