"""The numerical contract's hand-computable checks (docs/numerics.md §4, §8), percentiles, θ files and
the API a PyTorch user calls."""

import json
import math

import numpy as np
import pytest
import torch

from cssdbg_torch import CSSError, CSSNetwork, Config, load_graph, read_theta
from cssdbg_torch.stats import TopValues, percentile_from_top, top_count
from conftest import SAMPLES, assert_reports_agree, py_eval


def encoder(T, beta, theta0=1.0):
    g = load_graph(SAMPLES / "coupling" / "model.onnx")
    return CSSNetwork(g, Config(T=T, beta=beta, silent=0), theta0, [1.0])


def test_encoder_worked_checks():
    net = encoder(3, 2.0)
    s = net.encode(torch.tensor([[5.0, 7.9]]))
    assert s[:, 0, 0].tolist() == [1, 0, 1]
    assert s[:, 0, 1].tolist() == [1, 1, 1]


@pytest.mark.parametrize("T", [1, 2, 5, 10, 16, 31])
@pytest.mark.parametrize("beta", [1.0, 1.1, 1.5, 2.0, 3.7])
def test_encoder_ties_fire(T, beta):
    """x = ±θ_0·Σw encodes as T spikes of its sign for every T and β (§4): θ_0 = p/Σw with p an
    input value (float32, as calibration picks it), and that value itself as the input."""
    sw = Config(T=T, beta=beta).sum_weights
    for p in (np.float32(2.3456), np.float32(1.0), np.float32(0.1), np.float32(255.0)):
        net = encoder(T, beta, float(p) / sw)
        s = net.encode(torch.tensor([[p, -p]]))
        assert s[:, 0, 0].tolist() == [1] * T, (float(p), s[:, 0, 0].tolist())
        assert s[:, 0, 1].tolist() == [-1] * T


def test_encoder_error_bound():
    """Theorem 2: |x/θ_0 - Σ w_i S_i| < 1 inside the range (within the tie tolerance)."""
    cfg = Config(T=8, beta=1.5, silent=0)
    net = encoder(8, 1.5, 0.05)
    x = (torch.rand(1, 2000, dtype=torch.float64) * 2 - 1) * 0.05 * cfg.sum_weights
    s = net.encode(x)[:, 0, :]
    w = torch.tensor(cfg.slot_weights, dtype=torch.float64)
    err = (x[0] / 0.05 - (w[:, None] * s).sum(0)).abs()
    assert float(err.max()) < 1 + 1e-5


def test_definition_2_coupling_example():
    """§8: inputs spiking only at the last slot, β = 2, T = 2, θ = 1 — with L = 0 a coupling case
    (first violation step 1, residual 1), with L = 1 no violation."""
    net = CSSNetwork.from_bundle(SAMPLES / "coupling")  # its theta.json: T 2, β 2, L 0
    net.reset_stats()
    y = net(torch.tensor([[1.0, 1.0]]))
    r = net.report()["layers"][0]
    assert r["violations_by_step"] == [0, 1, 1] and r["first_violation_by_step"] == [0, 1, 0]
    assert r["coupling"] == 1 and r["overflow"] == 0 and r["residual_max"] == 1
    net1 = CSSNetwork.from_bundle(SAMPLES / "coupling", silent=1)
    net1(torch.tensor([[1.0, 1.0]]))
    r1 = net1.report()["layers"][0]
    assert r1["violations_by_step"] == [0, 0, 0, 0] and r1["residual_max"] == 0
    assert float(y.reshape(-1)[0]) == pytest.approx(1.0, abs=1e-6)  # encoded 1 of the target 2, times the output weight


@pytest.mark.parametrize("n", [1, 2, 7, 999, 1000, 1001, 123457])
@pytest.mark.parametrize("q", [99.9, 99.99, 50.0])
def test_percentile_from_the_top_values_is_numpys(n, q):
    rng = np.random.default_rng(n)
    v = rng.exponential(size=n).astype(np.float32)
    v[rng.integers(0, n, size=n // 3)] = 0.5  # many ties
    t = TopValues(top_count(n, q))
    for chunk in np.array_split(v, 7):
        if chunk.size:
            t.add(torch.from_numpy(chunk))
    assert percentile_from_top(t.descending(), n, q) == pytest.approx(float(np.percentile(v.astype(np.float64), q)),
                                                                      rel=1e-12, abs=1e-12)


def test_module_api_matches_the_cli():
    """from_bundle + forward over batches + report() is what the CLI prints."""
    bundle = SAMPLES / "digits-cnn"
    data = np.load(bundle / "data.npy")[:100]
    labels = np.load(bundle / "labels.npy")[:100]
    net = CSSNetwork.from_bundle(bundle)
    net.reset_stats(expected_samples=100)
    for lo in range(0, 100, 30):
        y = net(torch.from_numpy(data[lo:lo + 30]), labels=torch.from_numpy(labels[lo:lo + 30]))
        assert y.shape == (len(data[lo:lo + 30]), 10)
    mine = net.report()
    cli = py_eval(str(bundle), "--limit", "100")
    assert cli["theta_source"] == "calibration" and cli["theta_file"] is None
    # Where θ came from is the CLI's to say (it knows the command line); the numbers are the same.
    cli = {k: v for k, v in cli.items() if k not in ("theta_source", "theta_file")}
    assert_reports_agree(mine, cli, "module vs CLI")
    assert mine["snn_accuracy"] == cli["snn_accuracy"]


def test_save_theta_round_trip(tmp_path):
    net = CSSNetwork.from_bundle(SAMPLES / "digits-mlp", T=7)
    net.theta[0] *= 1.25
    p = tmp_path / "t.json"
    net.save_theta(p)
    doc = json.loads(p.read_text())
    assert doc["format"] == "cssdbg-theta/1" and doc["config"]["T"] == 7
    again = CSSNetwork.from_bundle(SAMPLES / "digits-mlp", theta=p)
    assert again.theta == net.theta and again.theta_input == net.theta_input and again.config == net.config
    assert not list(tmp_path.glob(".*tmp")), "no temporary file left behind"


@pytest.mark.parametrize("doc,message", [
    ("not json", "not valid JSON"),
    ('{"theta": {}}', 'missing "format"'),
    ('{"format": "cssdbg-theta/2", "theta": {}}', 'format is "cssdbg-theta/2", expected "cssdbg-theta/1"'),
    ('{"format": "cssdbg-theta/1", "theta": {"input": 1, "hidden": 1, "extra": 2}}', "tensor 'extra' is not a spiking layer"),
    ('{"format": "cssdbg-theta/1", "theta": {"input": 1}}', "θ for tensor 'hidden' is missing"),
    ('{"format": "cssdbg-theta/1", "theta": {"input": 1, "hidden": -2}}', "θ for 'hidden' must be a positive number"),
    ('{"format": "cssdbg-theta/1", "config": {"T": 0}, "theta": {"input": 1, "hidden": 1}}', "T must be between 1 and 64"),
])
def test_bad_theta_files_are_refused_in_one_line(tmp_path, doc, message):
    p = tmp_path / "bad.json"
    p.write_text(doc)
    with pytest.raises(CSSError) as e:
        read_theta(p, ["hidden"])
    assert message in str(e.value) and str(e.value).startswith(str(p) + ": ") and "\n" not in str(e.value)


def test_double_precision_agrees_with_single():
    a = py_eval(str(SAMPLES / "digits-cnn"), "--limit", "60")
    b = py_eval(str(SAMPLES / "digits-cnn"), "--limit", "60", "--double")
    assert_reports_agree(a, b, "float64 vs float32")


def test_cli_errors_are_one_line(tmp_path):
    from conftest import py_cli
    rc, out, err = py_cli("eval", tmp_path / "missing")
    assert rc == 1 and out == "" and err.count("\n") == 1 and "no such file or directory" in err
    rc, _, err = py_cli("eval", SAMPLES / "digits-cnn", "-T", "0")
    assert rc == 1 and err == "cssdbg-torch: T must be between 1 and 64, got 0\n"
    rc, _, err = py_cli("eval", SAMPLES / "digits-cnn", "--limit", "0")
    assert rc == 2 and "--limit must be positive" in err
    rc, _, err = py_cli("eval", SAMPLES / "digits-cnn", "--data", SAMPLES / "digits-mlp" / "labels.npy")
    assert rc == 1 and err.count("\n") == 1 and "labels.npy: has shape [360] but the model expects [N, 1, 8, 8]" in err


@pytest.mark.parametrize("name", ["pad-zero", "pad-axes-opset18", "zeropad-torchscript", "zeropad-dynamo"])
def test_zero_pad_imports_like_cssdbg(name):
    """Pad (nn.ZeroPad2d, F.pad) lowers to an identity depthwise conv, as in cssdbg; the ANN
    reproduces onnxruntime on the fixtures of both exporters."""
    fixtures = SAMPLES.parent / "Tests" / "Fixtures" / "onnx"
    g = load_graph(fixtures / f"{name}.onnx")
    pads = [o.kind for o in g.ops if "pad" in o.name.lower()]
    assert pads and set(pads) == {"conv"}, pads
    x = np.load(fixtures / f"{name}.input.npy")
    net = CSSNetwork(g, Config(), 1.0, [1.0] * len(g.relus), dtype=torch.float64)
    y = net.ann(torch.from_numpy(x).double()).numpy()
    assert np.allclose(y, np.load(fixtures / f"{name}.ort.npy"), atol=1e-4, rtol=1e-4)


def test_padding_other_than_zero_padding_of_h_and_w_is_refused_like_cssdbg(tmp_path):
    import onnx
    from onnx import TensorProto, helper
    pads = helper.make_tensor("pads", TensorProto.INT64, [8], [0, 1, 0, 0, 0, 0, 0, 0])
    graph = helper.make_graph([helper.make_node("Pad", ["x", "pads"], ["p"], name="/pad/Pad"),
                               helper.make_node("Relu", ["p"], ["y"], name="/relu/Relu")], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 2, 2, 3])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], initializer=[pads])
    path = tmp_path / "m.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(path))
    with pytest.raises(CSSError) as e:
        load_graph(path)
    assert str(e.value) == (f"{path}: node '/pad/Pad' pads dimensions other than H and W of a tensor of sample shape "
                            "[2, 2, 3]; only spatial zero padding of [N,C,H,W] converts")


def test_window_stats_counts_exactly_in_pieces():
    """kernels.window_stats sums 0/1 floats in pieces of at most 2^24 (float32 is exact up to
    there): a small piece gives the same counts as one piece, eager and as TorchScript, and the
    counts are those of plain integer counting."""
    import torch
    from cssdbg_torch import kernels
    g = torch.Generator().manual_seed(3)
    T, P, beta = 6, 5003, 1.5
    S = torch.randint(-1, 2, (T, P), generator=g).float()
    h = torch.randn(P, generator=g) * 4
    wf = [beta ** (T - 1 - i) for i in range(T)]
    cap = [1 + sum(wf[j:]) for j in range(T + 1)]
    ref = kernels.window_stats(S, h, beta, 1.5, wf, cap, kernels.exact_piece(torch.float32))
    for fn in (kernels.window_stats, kernels.on(torch.device("cpu"), kernels.window_stats)):
        got = fn(S, h, beta, 1.5, wf, cap, 1000)
        assert torch.equal(got[0], ref[0]) and torch.equal(got[1], ref[1]) and torch.equal(got[2], ref[2])
    counts = ref[0]
    assert int(counts[T + 1]) == int((S > 0).sum()) and int(counts[T + 2]) == int((S < 0).sum())
    assert int(counts[T + 3]) == int((ref[1] >= 1).sum())
    # violations for j = 0..T, recomputed with the step-by-step formulas
    a = torch.clamp(h, min=0) / 1.5
    pending = a.clone()
    for j in range(T + 1):
        if j:
            pending = pending - wf[j - 1] * S[j - 1]
        assert int(counts[j]) == int(((cap[j] - pending.abs()) <= 0).sum())


def test_kernels_eager_equal_torchscript():
    """The eager functions (CUDA, or a PyTorch without TorchScript) give the CPU TorchScript's bits."""
    import torch
    from cssdbg_torch import kernels
    g = torch.Generator().manual_seed(5)
    x = torch.randn(7, 3, 4, generator=g) * 3
    cpu = torch.device("cpu")
    for T, L, neg in ((10, 1, True), (4, 0, False), (3, 2, True)):
        inputs = torch.randn(T, 301, generator=g)
        for ins in (inputs, inputs[:1]):
            a = kernels.tsa_window(ins, T, L, 1.5, 0.75 * 1.5 ** L if not neg else 0.5 * 1.5 ** L, 1.5 ** L, neg)
            b = kernels.on(cpu, kernels.tsa_window)(ins, T, L, 1.5, 0.75 * 1.5 ** L if not neg else 0.5 * 1.5 ** L,
                                                    1.5 ** L, neg)
            assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
        e1 = kernels.encode(x, 0.3, 1.5, 1.5 ** T, T, 1e-6)
        e2 = kernels.on(cpu, kernels.encode)(x, 0.3, 1.5, 1.5 ** T, T, 1e-6)
        assert torch.equal(e1, e2) and e1.shape == (T, 7, 3, 4)
