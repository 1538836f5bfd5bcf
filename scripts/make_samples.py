#!/usr/bin/env python3
"""Regenerate the sample bundles in samples/ (deterministic, CPU only, offline).

Trains three small ANNs on scikit-learn's bundled 8x8 digits (as 8-bit pixels) and exports them to ONNX:

  samples/digits-mlp     64-128-64-10 MLP, TorchScript exporter, opset 13
  samples/digits-cnn     Conv/BN/ReLU/AvgPool CNN, dynamo exporter, opset 18, external weights
  samples/digits-resnet  small ResNet (two identity blocks + one strided block), TorchScript, opset 17
  samples/coupling       the paper's Definition-2 example, built by hand with onnx.helper

Each bundle holds model.onnx (+ model.onnx.data), data.npy, labels.npy, calib.npy and README.md.
Usage:  "$(scripts/pyenv.sh)" scripts/make_samples.py [--out samples]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import warnings
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch
import torch.nn as nn
from onnx import TensorProto, helper, numpy_helper
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

SPLIT_SEED = 0
CALIB_SEED = 1
N_TEST = 360
N_CALIB = 256
SNN_PLACEHOLDER = "SNN accuracy at defaults: (filled by cssdbg eval)"


# --------------------------------------------------------------------------- data


def load_data():
    """Stratified split of sklearn digits as 8-bit images, normalised with global train mean/std.

    sklearn's intensities 0..16 become 8-bit pixels (round(v·255/16)), the form real image data
    arrives in: quantised, with a saturated maximum that occurs many times, so the encoder's tie
    (docs/numerics.md §4) is exercised exactly as on real inputs.
    """
    digits = load_digits()
    pixels = np.rint(digits.images * (255.0 / 16.0)).astype(np.uint8)  # [1797, 8, 8], 0..255
    images = pixels.astype(np.float64) / 255.0  # in [0, 1]
    labels = digits.target.astype(np.int64)
    x_tr, x_te, y_tr, y_te = train_test_split(
        images, labels, test_size=N_TEST, stratify=labels, random_state=SPLIT_SEED
    )
    mean = float(x_tr.mean())
    std = float(x_tr.std())
    x_tr = ((x_tr - mean) / std).astype(np.float32)
    x_te = ((x_te - mean) / std).astype(np.float32)
    rng = np.random.default_rng(CALIB_SEED)
    calib_idx = np.sort(rng.choice(len(x_tr), size=N_CALIB, replace=False))
    return dict(
        x_train=x_tr, y_train=y_tr, x_test=x_te, y_test=y_te,
        x_calib=x_tr[calib_idx], mean=mean, std=std,
    )


# --------------------------------------------------------------------------- models


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(64, 128)
        self.fc2 = nn.Linear(128, 64)
        self.fc3 = nn.Linear(64, 10)
        self.relu1 = nn.ReLU()
        self.relu2 = nn.ReLU()

    def forward(self, x):
        return self.fc3(self.relu2(self.fc2(self.relu1(self.fc1(x)))))


class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.AvgPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.AvgPool2d(2),
        )
        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(128, 64)
        self.relu = nn.ReLU()
        self.fc2 = nn.Linear(64, 10)

    def forward(self, x):
        return self.fc2(self.relu(self.fc1(self.flatten(self.features(x)))))


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.relu2 = nn.ReLU()
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout))
        else:
            self.down = None

    def forward(self, x):
        out = self.bn2(self.conv2(self.relu1(self.bn1(self.conv1(x)))))
        skip = x if self.down is None else self.down(x)
        return self.relu2(out + skip)


class ResNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU())
        self.block1 = BasicBlock(16, 16)
        self.block2 = BasicBlock(16, 16)
        self.block3 = BasicBlock(16, 32, stride=2)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(32, 10)

    def forward(self, x):
        x = self.block3(self.block2(self.block1(self.stem(x))))
        return self.fc(self.flatten(self.pool(x)))


# --------------------------------------------------------------------------- training


def seed_all(seed: int):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def train(model, x_train, y_train, *, epochs, lr, seed, weight_decay=1e-4, batch=64):
    seed_all(seed)
    xt = torch.from_numpy(x_train)
    yt = torch.from_numpy(y_train)
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    steps = epochs * ((len(xt) + batch - 1) // batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps)
    gen = torch.Generator().manual_seed(seed)
    loss_fn = nn.CrossEntropyLoss()
    model.train()
    for _ in range(epochs):
        perm = torch.randperm(len(xt), generator=gen)
        for i in range(0, len(xt), batch):
            idx = perm[i:i + batch]
            opt.zero_grad()
            loss = loss_fn(model(xt[idx]), yt[idx])
            loss.backward()
            opt.step()
            sched.step()
    model.eval()
    return model


# --------------------------------------------------------------------------- export


def export_torchscript(model, example, path: Path, opset: int, constant_folding: bool):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model, (example,), str(path), dynamo=False, opset_version=opset,
            input_names=["x"], output_names=["y"],
            dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}},
            do_constant_folding=constant_folding,
        )


def optimize_keep_batchnorm(model_ir):
    """onnxscript's default optimisation pipeline, minus the BatchNorm-into-Conv/Gemm fusion.

    torch.onnx.export(dynamo=True, optimize=True) folds BatchNormalization into the preceding Conv.
    We want the BN nodes in the sample graph (the importer must handle them), so we export with
    optimize=False and run constant folding plus every other default rewrite rule ourselves.
    """
    import onnx_ir.passes.common as common_passes
    from onnxscript import ir, rewriter
    from onnxscript.optimizer import _constant_folding
    from onnxscript.rewriter.rules.common import _fuse_batchnorm

    bn_rules = set(_fuse_batchnorm.rules)
    rules = [r for r in rewriter._DEFAULT_REWRITE_RULES if r not in bn_rules]
    passes = ir.passes.Sequential(
        common_passes.InlinePass(),
        ir.passes.PassManager(
            [
                _constant_folding.FoldConstantsPass(
                    shape_inference=True,
                    input_size_limit=_constant_folding.DEFAULT_CONSTANT_FOLD_INPUT_SIZE_LIMIT,
                    output_size_limit=_constant_folding.DEFAULT_CONSTANT_FOLD_OUTPUT_SIZE_LIMIT,
                ),
                rewriter.RewritePass(rules),
                common_passes.RemoveUnusedNodesPass(),
                common_passes.RemoveUnusedFunctionsPass(),
                common_passes.RemoveUnusedOpsetsPass(),
            ],
            steps=2,
            early_stop=True,
        ),
        common_passes.RemoveUnusedNodesPass(),
        common_passes.LiftConstantsToInitializersPass(lift_all_constants=True, size_limit=0),
        common_passes.DeduplicateInitializersPass(),
        common_passes.CommonSubexpressionEliminationPass(),
        common_passes.NameFixPass(),
    )
    passes(model_ir)


def export_dynamo(model, example, path: Path, opset: int, keep_batchnorm: bool = True):
    batch = torch.export.Dim("batch")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        prog = torch.onnx.export(
            model, (example,), dynamo=True, opset_version=opset,
            input_names=["x"], output_names=["y"],
            dynamic_shapes={"x": {0: batch}},
            optimize=not keep_batchnorm, verbose=False,
        )
    if keep_batchnorm:
        optimize_keep_batchnorm(prog.model)
    data_path = Path(str(path) + ".data")
    if data_path.exists():
        data_path.unlink()  # the exporter appends to an existing data file
    prog.save(str(path), external_data=True)
    strip_nondeterminism(path)


def strip_nondeterminism(path: Path):
    """Drop producer/metadata fields that carry stack traces or versions, for stable files."""
    m = onnx.load(str(path), load_external_data=False)
    for node in m.graph.node:
        del node.metadata_props[:]
    for vi in list(m.graph.value_info):
        del vi.metadata_props[:]
    del m.metadata_props[:]
    onnx.save(m, str(path))


# --------------------------------------------------------------------------- bundles


def ort_outputs(model_path: Path, x: np.ndarray) -> np.ndarray:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    sess = ort.InferenceSession(str(model_path), opts, providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    return sess.run(None, {name: x})[0]


def op_types(model_path: Path):
    m = onnx.load(str(model_path), load_external_data=False)
    return sorted({n.op_type for n in m.graph.node})


def write_bundle(out: Path, name: str, model, export, data, *, flat: bool, epochs, lr, seed):
    bundle = out / name
    bundle.mkdir(parents=True, exist_ok=True)
    for stale in ("model.onnx", "model.onnx.data"):
        if (bundle / stale).exists():
            (bundle / stale).unlink()

    def shape(x):
        return x.reshape(len(x), 64) if flat else x.reshape(len(x), 1, 8, 8)

    x_train, x_test, x_calib = shape(data["x_train"]), shape(data["x_test"]), shape(data["x_calib"])
    train(model, x_train, data["y_train"], epochs=epochs, lr=lr, seed=seed)
    with torch.no_grad():
        torch_acc = float((model(torch.from_numpy(x_test)).argmax(1).numpy() == data["y_test"]).mean())
    export(model, torch.from_numpy(x_test[:2]), bundle / "model.onnx")
    np.save(bundle / "data.npy", np.ascontiguousarray(x_test, dtype=np.float32))
    np.save(bundle / "labels.npy", data["y_test"].astype(np.int64))
    np.save(bundle / "calib.npy", np.ascontiguousarray(x_calib, dtype=np.float32))
    y = ort_outputs(bundle / "model.onnx", x_test)
    acc = float((y.argmax(1) == data["y_test"]).mean())
    write_readme(bundle, name, acc, len(x_test))
    print(f"{name}: ANN accuracy (onnxruntime) {acc * 100:.2f}%  (torch {torch_acc * 100:.2f}%)  ops={op_types(bundle / 'model.onnx')}")
    return acc


def write_readme(bundle: Path, name: str, acc, n: int):
    if acc is None:
        ann = f"ANN accuracy: n/a (no labels; {n} sample)"
    else:
        ann = f"ANN accuracy: {acc * 100:.2f}% (onnxruntime, {n} test samples in data.npy)"
    (bundle / "README.md").write_text(f"# {name}\n\n{ann}\n\n{SNN_PLACEHOLDER}\n")


def make_coupling(out: Path):
    """Definition-2 example: y = 1 * relu(x0 + x1); both inputs spike only at the last slot."""
    bundle = out / "coupling"
    bundle.mkdir(parents=True, exist_ok=True)
    inits = [
        numpy_helper.from_array(np.array([[1.0, 1.0]], dtype=np.float32), "w1"),
        numpy_helper.from_array(np.array([0.0], dtype=np.float32), "b1"),
        numpy_helper.from_array(np.array([[1.0]], dtype=np.float32), "w2"),
        numpy_helper.from_array(np.array([0.0], dtype=np.float32), "b2"),
    ]
    nodes = [
        helper.make_node("Gemm", ["x", "w1", "b1"], ["pre"], name="gemm1", transB=1),
        helper.make_node("Relu", ["pre"], ["hidden"], name="relu1"),
        helper.make_node("Gemm", ["hidden", "w2", "b2"], ["y"], name="gemm2", transB=1),
    ]
    graph = helper.make_graph(
        nodes, "coupling",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 1])],
        initializer=inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="cssdbg-make_samples")
    model.ir_version = 7
    onnx.checker.check_model(model)
    onnx.save(model, str(bundle / "model.onnx"))
    x = np.array([[1.0, 1.0]], dtype=np.float32)
    np.save(bundle / "data.npy", x)
    np.save(bundle / "calib.npy", x.copy())
    if (bundle / "labels.npy").exists():
        (bundle / "labels.npy").unlink()
    theta = {
        "format": "cssdbg-theta/1",
        "model": "coupling",
        "config": {"T": 2, "beta": 2, "silent": 0, "negative": True, "percentile": 99.99},
        "theta": {"input": 1.0, "hidden": 1.0},
    }
    (bundle / "theta.json").write_text(json.dumps(theta) + "\n")
    y = ort_outputs(bundle / "model.onnx", x)
    (bundle / "README.md").write_text(
        "# coupling\n\n"
        f"ANN accuracy: n/a (no labels; ANN output y = {float(y[0, 0]):g} for x = [1, 1])\n\n"
        f"{SNN_PLACEHOLDER}\n"
    )
    print(f"coupling: ANN output {y.tolist()}  ops={op_types(bundle / 'model.onnx')}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent.parent / "samples"))
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    data = load_data()
    print(f"normalisation: mean={data['mean']:.6f} std={data['std']:.6f}  train={len(data['x_train'])} test={len(data['x_test'])}")

    seed_all(10)
    write_bundle(out, "digits-mlp", MLP(),
                 lambda m, ex, p: export_torchscript(m, ex, p, opset=13, constant_folding=True),
                 data, flat=True, epochs=60, lr=2e-3, seed=11)
    seed_all(20)
    write_bundle(out, "digits-cnn", CNN(),
                 lambda m, ex, p: export_dynamo(m, ex, p, opset=18, keep_batchnorm=True),
                 data, flat=False, epochs=40, lr=3e-3, seed=21)
    seed_all(30)
    write_bundle(out, "digits-resnet", ResNet(),
                 lambda m, ex, p: export_torchscript(m, ex, p, opset=17, constant_folding=False),
                 data, flat=False, epochs=40, lr=3e-3, seed=31)
    make_coupling(out)
    total = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    print(f"samples/ total size: {total} bytes")
    if total >= 2 * 1024 * 1024:
        print("WARNING: samples/ exceeds 2 MB", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
