"""`cssdbg_torch.finetune` and `python -m cssdbg_torch finetune` (docs/finetune.md): the surrogate
gradient, the written bundle (same graph, the trained weights, θ file, data), agreement with
`cssdbg eval`, determinism, Ctrl-C, bad input. Small: a few dozen samples, one or two epochs."""

from __future__ import annotations

import json
import os
import shutil

import numpy as np
import onnx
import pytest
import torch
from onnx import TensorProto, helper, numpy_helper

from conftest import REPO, SAMPLES, assert_reports_agree, py_cli, py_eval, run
from cssdbg_torch import finetune as ft
from cssdbg_torch.config import Config
from cssdbg_torch.network import CSSNetwork
from cssdbg_torch.onnx_import import load_graph
from cssdbg_torch.onnx_weights import analyse, write_model


def binary_or_skip() -> str:
    b = os.environ.get("CSSDBG") or str(REPO / ".build" / "debug" / "cssdbg")
    if not os.path.isfile(b):
        b = shutil.which("cssdbg")
    if not b:
        pytest.skip("no cssdbg binary ($CSSDBG, .build/debug/cssdbg or PATH): cannot compare with cssdbg eval")
    return b


@pytest.fixture(scope="module")
def digits(tmp_path_factory):
    """A few training samples of the digits samples' input shape, with labels."""
    d = tmp_path_factory.mktemp("train")
    x = np.load(SAMPLES / "digits-cnn" / "calib.npy")[:48]
    rng = np.random.default_rng(0)
    y = rng.integers(0, 10, len(x)).astype(np.int64)
    np.save(d / "x.npy", x)
    np.save(d / "y.npy", y)
    np.save(d / "xflat.npy", x.reshape(len(x), 64))
    return d


def _mlp_args(digits, out, *extra):
    return [SAMPLES / "digits-mlp", "--train-data", digits / "xflat.npy", "--train-labels", digits / "y.npy",
            "-T", "4", "--silent", "0", "--epochs", "1", "--batch", "16", "--quiet", "--out", out, *extra]


# ---------------------------------------------------------------------- the surrogate


@pytest.mark.parametrize("negative,silent", [(False, 0), (True, 0), (True, 1)])
def test_surrogate_gradient_matches_finite_differences(negative, silent):
    """With the smooth relaxation as forward, the custom backward through the whole window (spikes,
    resets, the margin penalty) is the exact gradient: gradcheck compares it with central
    differences on a small dense layer in float64."""
    cfg = Config(T=4, beta=1.5, silent=silent, negative=negative)
    g = torch.Generator().manual_seed(1)
    x = torch.rand(4, 3, 5, generator=g, dtype=torch.float64) * 2   # [T, samples, in]
    w = (torch.randn(6, 5, generator=g, dtype=torch.float64) * 0.8).requires_grad_()

    def f(w):
        X = (x @ w.T).reshape(cfg.T, -1)
        S, h = ft.tsa_window(X, cfg, smooth=True)
        return (S * torch.arange(1, S.shape[1] + 1, dtype=S.dtype)).sum() + ft.margin_penalty(S, h, cfg)

    assert torch.autograd.gradcheck(f, (w,), eps=1e-6, atol=1e-5, rtol=1e-4)
    # ...and the gradient is not trivially zero (a test that could not fail otherwise)
    (gw,) = torch.autograd.grad(f(w), w)
    assert float(gw.abs().sum()) > 0


@pytest.mark.parametrize("negative,silent", [(False, 0), (True, 0), (True, 2)])
def test_training_forward_fires_the_simulators_spikes(negative, silent):
    """The hard forward of the training network is the simulator's TSA-ReLU (same spikes)."""
    cfg = Config(T=6, beta=1.5, silent=silent, negative=negative)
    graph = load_graph(str(SAMPLES / "coupling" / "model.onnx"))
    net = CSSNetwork(graph, cfg, 1.0, [0.7])
    z = torch.randn(cfg.T * 50, 1, generator=torch.Generator().manual_seed(2)) * 3
    want = net._tsa(z, 0, None, None, 50) / np.float32(0.7)
    S, _ = ft.tsa_window(z.reshape(cfg.T, -1) * float(np.float32(1) / np.float32(0.7)), cfg)
    assert torch.equal(S.reshape(want.shape), want.round())
    assert int((S != 0).sum()) > 0


# ---------------------------------------------------------------------- writing the model


def test_written_model_reproduces_perturbed_weights(tmp_path):
    """Every trainable weight of digits-resnet (BatchNorm with a shared bias included: its shift
    goes through the running mean) and digits-cnn (external data) comes back from the written
    file as cssdbg's importer reads it; the graph's nodes are unchanged."""
    for sample in ("digits-resnet", "digits-cnn"):
        src = str(SAMPLES / sample / "model.onnx")
        graph = load_graph(src)
        sources = analyse(onnx.load(src), graph)
        assert sources, sample
        rng = np.random.default_rng(3)
        params = {k: {r: (graph.ops[k].p[r] * (1 + 0.1 * rng.standard_normal(graph.ops[k].p[r].shape))
                          + 0.01).astype(np.float32) for r in s.trainable} for k, s in sources.items()}
        dst = tmp_path / sample / "model.onnx"
        dst.parent.mkdir()
        write_model(src, str(dst), sources, params)
        check = ft.verify_weights(str(dst), sources, params)
        assert check["max_relative_difference"] <= 1e-5
        a, b = onnx.load(src, load_external_data=False), onnx.load(str(dst), load_external_data=False)
        assert [(n.op_type, list(n.input), list(n.output)) for n in a.graph.node] == \
               [(n.op_type, list(n.input), list(n.output)) for n in b.graph.node]
        assert a.opset_import == b.opset_import
        assert os.path.isfile(str(dst) + ".data") == os.path.isfile(src + ".data")
        # a perturbation that the check must see
        params2 = {k: {r: v + 1 for r, v in p.items()} for k, p in params.items()}
        with pytest.raises(Exception, match="does not reproduce"):
            ft.verify_weights(str(dst), sources, params2)


# ---------------------------------------------------------------------- the bundle


def test_finetuned_bundle_round_trips_and_agrees_with_cssdbg(digits, tmp_path):
    out = tmp_path / "ft"
    args = [SAMPLES / "digits-cnn", "--train-data", digits / "x.npy", "--train-labels", digits / "y.npy",
            "-T", "6", "--silent", "0", "--no-negative", "--epochs", "2", "--batch", "16", "--lr", "3e-3",
            "--quiet", "--no-cssdbg", "--json", "--out", out]
    rc, stdout, err = py_cli("finetune", *args)
    assert rc == 0, err
    doc = json.loads(stdout)
    assert doc == json.loads((out / "finetune.json").read_text())
    assert sorted(os.listdir(out)) == ["calib.npy", "data.npy", "finetune.json", "labels.npy", "model.onnx",
                                       "model.onnx.data", "theta.json"]
    assert doc["config"] == {"T": 6, "beta": 1.5, "silent": 0, "negative": False, "percentile": 99.99}
    assert doc["command"][:4] == ["python", "-m", "cssdbg_torch", "finetune"]
    assert doc["weights_check"]["max_relative_difference"] <= 1e-5
    assert len(doc["history"]) == 3 and doc["eval_samples"] == 360
    theta = json.loads((out / "theta.json").read_text())
    assert theta["format"] == "cssdbg-theta/1" and theta["config"]["T"] == 6 and theta["config"]["negative"] is False
    # training moved the weights (unless epoch 0 stayed the best, then they are the original's)
    old = {t.name: numpy_helper.to_array(t, str(SAMPLES / "digits-cnn")) for t in
           onnx.load(str(SAMPLES / "digits-cnn" / "model.onnx"), load_external_data=False).graph.initializer}
    new = {t.name: numpy_helper.to_array(t, str(out)) for t in
           onnx.load(str(out / "model.onnx"), load_external_data=False).graph.initializer}
    assert old.keys() == new.keys()
    changed = [n for n in old if not np.array_equal(old[n], new[n])]
    assert bool(changed) == (doc["best_epoch"] > 0)
    # cssdbg-torch's report of the written bundle is finetune.json's "after"
    ours = py_eval(str(out))
    assert ours["snn_accuracy"] == doc["after"]["snn_accuracy"]
    assert ours["config"]["T"] == 6 and ours["theta_source"] == "bundle"
    binary = binary_or_skip()
    theirs = json.loads(run([binary, "eval", "--json", out]).stdout)
    assert_reports_agree(ours, theirs, "fine-tuned digits-cnn")


def test_closing_figures_come_from_cssdbg_when_there_is_one(digits, tmp_path, monkeypatch):
    binary = binary_or_skip()
    monkeypatch.setenv("CSSDBG", binary)
    out = tmp_path / "ft"
    rc, _, err = py_cli("finetune", *_mlp_args(digits, out))
    assert rc == 0, err
    doc = json.loads((out / "finetune.json").read_text())
    assert doc["figures_from"] == "cssdbg eval" and doc["note"] is None
    theirs = json.loads(run([binary, "eval", "--json", out]).stdout)
    assert doc["after"]["snn_accuracy"] == theirs["snn_accuracy"]
    assert abs(doc["after_cssdbg_torch"]["snn_accuracy"] - theirs["snn_accuracy"]) <= 0.005


def test_without_cssdbg_the_figures_say_so(digits, tmp_path, monkeypatch):
    monkeypatch.setenv("CSSDBG", str(tmp_path / "no-such-binary"))
    out = tmp_path / "ft"
    rc, _, err = py_cli("finetune", *_mlp_args(digits, out))
    assert rc == 0, err
    doc = json.loads((out / "finetune.json").read_text())
    assert doc["figures_from"] == "cssdbg-torch" and "no cssdbg binary" in doc["note"]


def test_deterministic_with_a_seed(digits, tmp_path):
    outs = []
    for name, seed in (("a", "5"), ("b", "5"), ("c", "6")):
        rc, _, err = py_cli("finetune", *_mlp_args(digits, tmp_path / name, "--no-cssdbg", "--seed", seed, "--epochs", "2"))
        assert rc == 0, err
        doc = json.loads((tmp_path / name / "finetune.json").read_text())
        outs.append(((tmp_path / name / "model.onnx").read_bytes(), [h["loss"] for h in doc["history"]]))
    assert outs[0] == outs[1]
    assert outs[0][1] != outs[2][1], "another seed gives another run"


def test_ctrl_c_writes_the_best_epoch_so_far(digits, tmp_path, monkeypatch):
    calls = {"n": 0}
    real = torch.optim.Adam.step

    def step(self, *a, **k):
        calls["n"] += 1
        if calls["n"] == 5:  # in the second epoch (3 steps per epoch)
            raise KeyboardInterrupt
        return real(self, *a, **k)

    monkeypatch.setattr(torch.optim.Adam, "step", step)
    out = tmp_path / "ft"
    rc, _, err = py_cli("finetune", *_mlp_args(digits, out, "--no-cssdbg", "--epochs", "3"))
    assert rc == 0, err
    doc = json.loads((out / "finetune.json").read_text())
    assert doc["interrupted"] is True
    assert [h["epoch"] for h in doc["history"]] == [0, 1]
    assert doc["best_epoch"] in (0, 1)


def test_replaces_a_previous_output_but_nothing_else(digits, tmp_path):
    out = tmp_path / "ft"
    assert py_cli("finetune", *_mlp_args(digits, out, "--no-cssdbg"))[0] == 0
    assert py_cli("finetune", *_mlp_args(digits, out, "--no-cssdbg", "--seed", "1"))[0] == 0
    assert json.loads((out / "finetune.json").read_text())["seed"] == 1
    other = tmp_path / "other"
    other.mkdir()
    (other / "keep.txt").write_text("x")
    rc, _, err = py_cli("finetune", *_mlp_args(digits, other, "--no-cssdbg"))
    assert rc == 1 and err.count("\n") == 1 and "not an output of finetune" in err
    assert os.listdir(other) == ["keep.txt"]
    assert [p for p in os.listdir(tmp_path) if p.startswith(".")] == [], "no temporary directory left behind"


# ---------------------------------------------------------------------- bad input


def _maxpool_model(path):
    nodes = [helper.make_node("MaxPool", ["x"], ["p"], kernel_shape=[2, 2]),
             helper.make_node("Relu", ["p"], ["y"])]
    g = helper.make_graph(nodes, "mp", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 1, 8, 8])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 1, 4, 4])])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 7
    onnx.save(m, str(path))


@pytest.mark.parametrize("case", ["no-labels", "refused-model", "precision-limit", "eval-data-without-labels",
                                  "labels-wrong-length", "bad-device"])
def test_bad_input_is_one_line_and_writes_nothing(case, digits, tmp_path):
    out = tmp_path / "out"
    base = _mlp_args(digits, out, "--no-cssdbg")
    if case == "no-labels":
        args = [a for a in base if a not in ("--train-labels", digits / "y.npy")]
        want = "training data without labels"
    elif case == "refused-model":
        _maxpool_model(tmp_path / "mp.onnx")
        args = [tmp_path / "mp.onnx"] + base[1:]
        args[args.index(digits / "xflat.npy")] = digits / "x.npy"
        want = "MaxPool"
    elif case == "precision-limit":
        args = base + ["-T", "30"]
        want = "at most 25 for beta 1.5"
    elif case == "eval-data-without-labels":
        bundle = tmp_path / "nolabels"
        bundle.mkdir()
        shutil.copy(SAMPLES / "digits-mlp" / "model.onnx", bundle / "model.onnx")
        shutil.copy(SAMPLES / "digits-mlp" / "data.npy", bundle / "data.npy")
        args = [bundle] + base[1:]
        want = "evaluation data without labels"
    elif case == "labels-wrong-length":
        np.save(tmp_path / "short.npy", np.zeros(3, np.int64))
        args = list(base)
        args[args.index(digits / "y.npy")] = tmp_path / "short.npy"
        want = "but the data has 48 samples"
    else:
        args = base + ["--device", "tpu"]
        want = "--device must be cpu or cuda"
    rc, stdout, err = py_cli("finetune", *args)
    assert rc == 1, err
    assert stdout == "" and err.count("\n") == 1 and want in err, err
    assert not out.exists()
    assert [p for p in os.listdir(tmp_path) if p.startswith(".out")] == []


# ---------------------------------------------------------------------- CUDA


def test_cuda(digits, tmp_path):
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device available to PyTorch: the --device cuda path is untested here")
    outs = {}
    for dev in ("cuda", "cpu"):
        out = tmp_path / dev
        rc, _, err = py_cli("finetune", *_mlp_args(digits, out, "--no-cssdbg", "--device", dev))
        assert rc == 0, err
        outs[dev] = json.loads((out / "finetune.json").read_text())
    assert outs["cuda"]["device"] == "cuda"
    # float rounding differs between the devices; the run must still be the same training
    assert abs(outs["cuda"]["history"][1]["loss"] - outs["cpu"]["history"][1]["loss"]) < 0.05 * outs["cpu"]["history"][1]["loss"]
