#!/usr/bin/env python3
"""Plain-assert checks of tools/reference/reference_sim.py against docs/numerics.md §4, §8 and onnxruntime,
and of css-spec §10-§13 (attribution, operations, anytime accuracy, reference_doctor.py) by hand.

Run:  "$(scripts/pyenv.sh)" tools/reference/test_reference_sim.py      (scripts/test runs it as a stage)
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE))

import reference_sim as rs  # noqa: E402


def cfg(T, beta, L, negative=True):
    return rs.Config(T=T, beta=beta, silent=L, negative=negative, percentile=99.99)


def test_encoder():
    c = cfg(3, 2.0, 0)
    s = rs.encode(np.array([5.0]), 1.0, c)[:, 0]
    assert s.tolist() == [1, 0, 1], s
    assert float(c.weights @ s) == 5.0
    s = rs.encode(np.array([7.9]), 1.0, c)[:, 0]
    assert s.tolist() == [1, 1, 1], s
    assert float(c.weights @ s) == 7.0
    s = rs.encode(np.array([-5.0]), 1.0, c)[:, 0]
    assert s.tolist() == [-1, 0, -1], s
    # weights are β^(T-1-i)
    assert c.weights.tolist() == [4.0, 2.0, 1.0] and c.sum_w == 7.0


def test_encoder_ties_fire():
    # §4: x = ±θ0·Σw with θ0 = p0/Σw (calibration, p0 the input maximum) encodes as T spikes of
    # its sign for every T and β; a value short of the tie by more than the tolerance does not
    # fire at the last slot.
    maxima = np.array([1.0, 2.062, 1.8453612, 2.6587, 0.1, 7.25, 3.0e-3, 1234.5], dtype=np.float32)
    for beta in (1.25, 1.5, 2.0):
        for T in range(1, 17):
            c = cfg(T, beta, 0)
            for p in maxima.astype(np.float64):
                theta0 = p / c.sum_w
                s = rs.encode(np.array([p, -p], dtype=np.float32), theta0, c)
                assert s[:, 0].tolist() == [1.0] * T, (beta, T, p, s[:, 0])
                assert s[:, 1].tolist() == [-1.0] * T, (beta, T, p, s[:, 1])
                assert abs(float(c.weights @ s[:, 0]) * theta0 - p) <= p * 1e-12
                short = p * (1 - 4e-6 / c.sum_w)
                assert rs.encode(np.array([short]), theta0, c)[-1, 0] == 0, (beta, T, p)
    # within 1e-6 of ±1 fires, 3e-6 away does not
    c = cfg(1, 2.0, 0)
    s = rs.encode(np.array([1 - 5e-7, -1 + 5e-7, 1 - 3e-6, -1 + 3e-6]), 1.0, c)[0]
    assert s.tolist() == [1, -1, 0, 0], s


def coupling_neuron(L, negative):
    c = cfg(2, 2.0, L, negative)
    # encoder: θ0 = 1, x = 1 -> both inputs spike only at the last slot
    s0 = rs.encode(np.array([1.0, 1.0]), 1.0, c)
    assert s0.tolist() == [[0, 0], [1, 1]], s0
    X = (s0 @ np.array([1.0, 1.0]))[:, None]  # weights 1,1, bias 0, θ = 1
    assert X[:, 0].tolist() == [0.0, 2.0]
    res = rs.tsa_relu(X, c)
    m = rs.margins(res.spikes, res.target, c)[:, 0]
    return c, res, m


def test_coupling_example():
    for negative in (True, False):
        c, res, m = coupling_neuron(0, negative)
        assert res.spikes[:, 0].tolist() == [0, 1], res.spikes
        assert res.target[0] == 2.0
        e = float(c.weights @ res.spikes[:, 0])
        assert e == 1.0 and res.target[0] - e == 1.0
        assert m.tolist() == [2, 0, 0], m
        assert m[0] > 0 and (m <= 0).any()  # coupling, not overflow
        assert int(np.argmax(m <= 0)) == 1  # first violation step
    c, res, m = coupling_neuron(1, True)
    assert res.spikes[:, 0].tolist() == [1, 0], res.spikes
    assert float(c.weights @ res.spikes[:, 0]) == 2.0 and res.target[0] == 2.0
    assert m.tolist() == [2, 2, 2, 1], m


def test_margins_bruteforce():
    rng = np.random.default_rng(0)
    for T, beta, L, neg in ((4, 1.5, 1, True), (5, 2.0, 0, False), (3, 1.5, 2, True)):
        c = cfg(T, beta, L, neg)
        X = rng.standard_normal((T, 50)) * 3
        res = rs.tsa_relu(X, c)
        m = rs.margins(res.spikes, res.target, c)
        w = c.weights
        for n in range(50):
            for k0 in range(T + L + 1):
                pending = res.target[n] - sum(w[i] * res.spikes[i, n] for i in range(T) if L + i < k0)
                cap = 1 + sum(w[i] for i in range(T) if L + i >= k0)
                assert abs((cap - abs(pending)) - m[k0, n]) < 1e-12


def test_tsa_matches_relu_when_decoupled():
    # a neuron whose input all arrives in the first slot encodes relu(target) within 1/2
    c = cfg(8, 1.5, 1)
    X = np.zeros((8, 200))
    X[0] = np.linspace(-20, 20, 200) / c.weights[0]
    res = rs.tsa_relu(X, c)
    e = c.weights @ res.spikes
    assert np.all(np.abs(res.target - e) <= 0.5 + 1e-12)
    assert np.allclose(res.target, np.maximum(np.linspace(-20, 20, 200), 0))


def test_adjust_scale():
    sw = 10.0
    assert rs.adjust_scale(0.9, sw) == 1.0
    assert abs(rs.adjust_scale(1.0 + 0.6 * sw, sw) - 1.6) < 1e-12
    assert abs(rs.adjust_scale(1.0 + 0.03 * sw, sw) - (1 + 0.02 + 0.04)) < 1e-12
    assert abs(rs.adjust_scale(1.0 + 0.005 * sw, sw) - 1.02) < 1e-12


def test_graph_walker_vs_ort():
    fx = ROOT / "Tests" / "Fixtures" / "onnx"
    checked = 0
    for ref in sorted(fx.glob("*.ort.npy")):
        name = ref.name[: -len(".ort.npy")]
        g = rs.OnnxGraph(fx / f"{name}.onnx")  # fp16/fp64 initializers are widened to float64
        x = np.load(fx / f"{name}.input.npy")
        y, _ = g.run(x.astype(np.float64))
        want = np.load(ref)
        assert y.shape == want.shape, (name, y.shape, want.shape)
        assert np.allclose(y, want, atol=1e-4, rtol=1e-4), (name, np.abs(y - want).max())
        checked += 1
    samples = ROOT / "samples"
    for ref in sorted((ROOT / "Tests" / "Fixtures" / "ort").glob("*.ort.npy")):
        name = ref.name[: -len(".ort.npy")]
        g = rs.OnnxGraph(samples / name / "model.onnx")
        x = np.load(samples / name / "data.npy")[:64]
        y, _ = g.run(x.astype(np.float64))
        assert np.allclose(y, np.load(ref), atol=1e-4, rtol=1e-4), (name, np.abs(y - np.load(ref)).max())
        checked += 1
    assert checked > 10, checked


def test_conformance_suite():
    # The ONNX conformance suite all three importers run (Tests/Fixtures/conformance, written by
    # scripts/make_conformance.py): accepted fixtures evaluate to onnxruntime's output, refused
    # ones raise with the manifest's text for the reference, and those the manifest says the
    # reference evaluates although cssdbg refuses them (each with its why) evaluate.
    import onnx

    fx = ROOT / "Tests" / "Fixtures" / "conformance"
    m = json.loads((fx / "manifest.json").read_text())
    # The dispatch table is the registry's: every op type cssdbg converts (or folds), none it refuses.
    converts = {op for op, kind in m["operators"].items() if kind != "refused"}
    assert sorted(converts - set(rs.OPS)) == [], sorted(converts - set(rs.OPS))
    assert sorted(set(rs.OPS) - converts) == [], sorted(set(rs.OPS) - converts)
    seen = {"accepted": 0, "refused": 0, "evaluates": 0}
    for f in m["fixtures"]:
        name, e, swift = f["name"], f["expect"]["reference"], f["expect"]["swift"]
        if e["status"] != swift["status"] or e.get("text") != swift.get("text"):
            assert e.get("why"), (name, "differs from cssdbg without a why")
        path = fx / f"{name}.onnx"
        if e["status"] == "accepted":
            x = np.load(fx / f"{name}.input.npy")
            y, _ = rs.OnnxGraph(path).run(x.astype(np.float64))
            want = np.load(fx / f"{name}.ort.npy")
            assert y.shape == want.shape, (name, y.shape, want.shape)
            err = float(np.max(np.abs(y - want) / np.maximum(1.0, np.abs(want))))
            assert err < m["tolerance"], (name, err)
        else:
            dims = onnx.load(str(path)).graph.input[0].type.tensor_type.shape.dim
            x = np.zeros([1] + [d.dim_value for d in dims[1:]])
            try:
                rs.OnnxGraph(path).run(x)
            except (NotImplementedError, ValueError) as err:
                assert e["status"] == "refused", (name, e["status"], str(err))
                assert e["text"] in str(err) and "\n" not in str(err), (name, str(err), e["text"])
            else:
                assert e["status"] == "evaluates", (name, "evaluated; the manifest says", e)
        seen[e["status"]] += 1
    assert seen["accepted"] > 15 and seen["refused"] > 40, seen


def test_coupling_bundle_cli():
    bundle = ROOT / "samples" / "coupling"
    theta = bundle / "theta.json"
    doc0 = rs.evaluate(bundle, cfg(2, 2.0, 0), json.loads(theta.read_text())["theta"], None, 0)
    l0 = doc0["layers"][0]
    assert l0["tensor"] == "hidden" and l0["coupling"] == 1 and l0["overflow"] == 0
    assert l0["violations_by_step"] == [0, 1, 1] and l0["first_violation_by_step"] == [0, 1, 0]
    assert l0["residual_max"] == 1.0 and l0["over_one"] == 1 and doc0["latency"] == 2
    doc1 = rs.evaluate(bundle, cfg(2, 2.0, 1), json.loads(theta.read_text())["theta"], None, 0)
    l1 = doc1["layers"][0]
    assert l1["coupling"] == 0 and l1["residual_max"] == 0.0 and doc1["latency"] == 4
    assert l1["violations_by_step"] == [0, 0, 0, 0]
    # the CLI reads T/beta/silent from the theta file unless overridden
    import contextlib
    import io
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        rs.main([str(bundle), "--theta", str(theta), "--silent", "1"])
    assert json.loads(buf.getvalue())["config"] == {"T": 2, "beta": 2.0, "silent": 1, "negative": True, "percentile": 99.99}


def test_find_on_the_coupling_example():
    # docs/numerics.md §8 and §11 by hand: L = 0 — spikes 0, 1, margins 2, 0, 0: the first violation,
    # the spike, the margin's drop below 1 and the residual 1 all land at g = 1; L = 1 — one spike at
    # slot 0 (g = L + 0 = 1), margins 2, 2, 2, 1: no coupling, no drop below 1, residual 0.
    import reference_find as rf
    bundle = ROOT / "samples" / "coupling"
    theta = json.loads((bundle / "theta.json").read_text())["theta"]
    conds = ["coupling", "spike 0 0", "margin 0 < 1", "residual > 0.5", "flip", "disagree"]
    doc = rf.find(bundle, cfg(2, 2.0, 0), conds, theta)
    assert [(h["break"], h["sample"], h["step"], h["tensor"], h["neuron"]) for h in doc["hits"]] == [
        (1, 0, 1, "hidden", 0), (2, 0, 1, "hidden", 0), (3, 0, 1, "hidden", 0), (4, 0, 1, "hidden", 0)], doc["hits"]
    doc = rf.find(bundle, cfg(2, 2.0, 1), conds, theta)
    assert [(h["break"], h["step"]) for h in doc["hits"]] == [(2, 1)], doc["hits"]
    assert rf.parse("margin hidden<0.5", ["hidden"]) == {"kind": "margin", "layer": "hidden", "value": 0.5,
                                                          "text": "margin hidden<0.5"}


def test_sweep_pareto_front():
    import reference_find as rf
    pts = [{"latency": 4, "snn_accuracy": 0.9, "agreement": 1}, {"latency": 6, "snn_accuracy": 0.9, "agreement": 1},
           {"latency": 6, "snn_accuracy": 0.95, "agreement": 1}, {"latency": 8, "snn_accuracy": 0.95, "agreement": 1}]
    rf.pareto(pts)
    assert [p["pareto"] for p in pts] == [True, False, True, False]


def test_rate_preset_is_rate_coding():
    # β = 1, L = 0, no negatives: a constant input X per step gives floor-like spike counts
    c = cfg(10, 1.0, 0, negative=False)
    X = np.full((10, 5), 0.0) + np.array([0.0, 0.25, 0.5, 0.99, 1.0])
    res = rs.tsa_relu(X, c)
    assert res.spikes.sum(axis=0).tolist() == [0, 2, 5, 9, 10], res.spikes.sum(axis=0)


# --------------------------------------------------------------------------- css-spec §10-§13


def coupling_theta():
    return json.loads((ROOT / "samples" / "coupling" / "theta.json").read_text())["theta"]


def test_decoupled_coupling_example():
    # §8's neuron, X = [0, 2], decoupled (§10): X' = [(2·0 + 1·2)/2, 0] = [1, 0]; same target 2, and at
    # L = 0 it now fires at slot 0: spikes 1, 0, encoded 2, residual 0, margins 2, 2, 1 (no coupling).
    for negative in (True, False):
        c = cfg(2, 2.0, 0, negative)
        X = np.array([[0.0], [2.0]])
        Xd = rs.substituted_input(X, ("decoupled",), 1.0, 0, 1, c)
        assert Xd[:, 0].tolist() == [1.0, 0.0], Xd
        res = rs.tsa_relu(Xd, c)
        assert res.spikes[:, 0].tolist() == [1, 0] and res.target[0] == 2.0, (res.spikes, res.target)
        m = rs.margins(res.spikes, res.target, c)[:, 0]
        assert m.tolist() == [2, 2, 1] and not (m <= 0).any(), m
    # the same through the simulator on the coupling bundle: the layer's residual is 0 and nothing couples
    graph, data, _, _ = rs.load_bundle(ROOT / "samples" / "coupling", None)
    seen = {}
    c = cfg(2, 2.0, 0)
    for sub in (None, {"hidden": ("decoupled",)}):
        def obs(kind, lo, n, *rest, sub=sub):
            if kind == "layer":
                seen[sub is None] = rest[1]
        rs.Simulator(graph, c, coupling_theta()).simulate(data, None, None, observer=obs, substitute=sub)
    plain, dec = seen[True], seen[False]
    assert plain.spikes[:, 0].tolist() == [0, 1] and dec.spikes[:, 0].tolist() == [1, 0]
    assert dec.target[0] == plain.target[0] == 2.0
    assert float(c.weights @ dec.spikes[:, 0]) == 2.0
    m = rs.margins(dec.spikes, dec.target, c)
    assert not (m <= 0).any(), m


def test_exact_layer_is_the_ann_target():
    # exact l (§10): X'[0] = (ANN activation / θ) / w_0, so the target is the ANN activation in θ units
    bundle = ROOT / "samples" / "digits-mlp"
    graph, data, _, calib = rs.load_bundle(bundle, 12)
    c = cfg(6, 1.5, 1)
    thetas = rs.calibrate(graph, calib, c)
    names = [r.output[0] for r in graph.relus]
    _, ann = graph.run(data, keep=set(names))
    got = {}

    def obs(kind, lo, n, *rest):
        if kind == "layer":
            got[rest[0]] = rest[1]

    sub = {names[0]: ("exact", ann[names[0]]), names[1]: ("exact", ann[names[1]])}
    rs.Simulator(graph, c, thetas).simulate(data, None, None, observer=obs, substitute=sub)
    for name in names:
        want = ann[name].reshape(-1) / thetas[name]
        assert np.allclose(got[name].target, want, rtol=1e-12, atol=1e-12), name
        # everything arrives in the first step: a decoupled neuron's residual is within 1/2 unless it overflows
        e = c.weights @ got[name].spikes
        ok = want <= c.sum_w + 0.5
        assert np.all(np.abs(want - e)[ok] <= 0.5 + 1e-9), name
    # coupling bundle: the exact hidden layer's target is the ANN's 2
    graph, data, _, _ = rs.load_bundle(ROOT / "samples" / "coupling", None)
    _, ann = graph.run(data, keep={"hidden"})
    seen = []
    rs.Simulator(graph, cfg(2, 2.0, 0), coupling_theta()).simulate(
        data, None, None, substitute={"hidden": ("exact", ann["hidden"])},
        observer=lambda kind, lo, n, *rest: seen.append(rest[1]) if kind == "layer" else None)
    assert seen[0].target.tolist() == [2.0] and seen[0].spikes[:, 0].tolist() == [1, 0]


def test_anytime_by_hand():
    # T = 3, β = 2: w = 4, 2, 1; two samples, two classes.
    w = np.array([4.0, 2.0, 1.0])
    z = np.zeros((3, 2, 2))
    z[:, 0] = [[0, 1], [3, 0], [0, 0]]      # sample 0: prefixes [0,4] -> 1, [6,4] -> 0, [6,4] -> 0
    z[:, 1] = [[1, 0], [0, 1], [0, 5]]      # sample 1: [4,0] -> 0, [4,2] -> 0, [4,7] -> 1
    p = rs.anytime_predictions(z, w)
    assert p.tolist() == [[1, 0], [0, 0], [0, 1]], p
    assert rs.settled_by_slot(p) == [0, 1, 2]
    # first maximum on ties: [2, 2] -> class 0
    z2 = np.zeros((1, 1, 2)) + 1.0
    assert rs.anytime_predictions(z2, np.array([1.0])).tolist() == [[0]]
    # a prediction that flips away and back only counts as settled after the last flip
    assert rs.settled_by_slot(np.array([[3], [1], [3], [3]])) == [0, 0, 1, 1]


def test_anytime_and_attribution_in_the_report():
    doc = rs.evaluate(ROOT / "samples" / "digits-mlp", cfg(5, 1.5, 0), None, 40, 0, attribution=True)
    T, N = 5, 40
    assert len(doc["anytime_accuracy"]) == T and len(doc["anytime_agreement"]) == T
    assert doc["anytime_accuracy"][-1] == doc["snn_accuracy"] and doc["anytime_agreement"][-1] == doc["agreement"]
    assert doc["settled_by_slot"][-1] == N == doc["samples"]
    assert all(a <= b for a, b in zip(doc["settled_by_slot"], doc["settled_by_slot"][1:]))
    n = len(doc["layers"])
    assert len(doc["exact_prefix_accuracy"]) == n + 1 and doc["exact_prefix_accuracy"][0] == doc["snn_accuracy"]
    assert doc["exact_prefix_agreement"][0] == doc["agreement"] and doc["culprit_basis"] == "accuracy"
    # every sample is either right at every prefix (culprit 0), blamed on one layer, or unresolved
    blamed = sum(l["culprit_samples"] for l in doc["layers"])
    assert blamed + doc["culprit_unresolved"] <= N
    assert doc["culprit_unresolved"] == round(N * (1 - doc["exact_prefix_accuracy"][-1]))
    for l in doc["layers"]:
        assert l["neuron_steps"] == l["neurons"] * (T + 0) and l["decoupled_accuracy"] is not None
    assert doc["neuron_steps"] == sum(l["neuron_steps"] for l in doc["layers"])
    # 64 -> 128 -> 64 -> 10
    assert [l["macs"] for l in doc["layers"]] == [64 * 128, 128 * 64] and doc["output"]["macs"] == 640
    assert doc["macs"] == 64 * 128 + 128 * 64 + 640
    assert doc["energy_pj"] == {"ann": doc["macs"] * 4.6, "snn": doc["synaptic_ops"] * 0.9}
    # without labels the culprit works on agreement
    doc = rs.evaluate(ROOT / "samples" / "coupling", cfg(2, 2.0, 0), coupling_theta(), None, 0, attribution=True)
    assert doc["anytime_accuracy"] is None and doc["exact_prefix_accuracy"] is None
    assert doc["culprit_basis"] == "agreement" and doc["layers"][0]["decoupled_accuracy"] is None


def test_culprits_by_hand():
    # prefix j = 0..2 (rows) right for samples s0..s5 (columns)
    right = np.array([[1, 0, 1, 0, 1, 0],
                      [1, 1, 0, 0, 1, 0],
                      [1, 1, 1, 0, 0, 1]], dtype=bool)
    # s0 right everywhere -> 0; s1 from 1 on -> 1; s2 wrong at 1 -> 2; s3, s4 wrong at j = n -> none;
    # s5 right only with every layer exact -> 2
    assert rs.culprits(right).tolist() == [0, 1, 2, -1, -1, 2]
    assert rs.culprits(np.ones((1, 3), dtype=bool)).tolist() == [0, 0, 0]


def _tiny_model(path):
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    rng = np.random.default_rng(1)

    def init(name, a):
        return numpy_helper.from_array(np.asarray(a, np.float32), name)

    nodes = [
        helper.make_node("Pad", ["x", "pads"], ["xp"], mode="constant"),
        # 2 -> 4 channels, 3x3, group 2, stride 2 on 7x7 (padded from 5x5): out 4x3x3, each reads 1·3·3
        helper.make_node("Conv", ["xp", "w1", "b1"], ["c1"], group=2, strides=[2, 2]),
        helper.make_node("BatchNormalization", ["c1", "g", "bb", "m", "v"], ["n1"]),
        helper.make_node("Relu", ["n1"], ["r1"]),
        helper.make_node("AveragePool", ["r1"], ["p1"], kernel_shape=[1, 1]),
        # 4 -> 3 channels, 1x1: out 3x3x3, each reads 4
        helper.make_node("Conv", ["p1", "w2"], ["c2"]),
        helper.make_node("Relu", ["c2"], ["r2"]),
        helper.make_node("Flatten", ["r2"], ["f"]),
        helper.make_node("Gemm", ["f", "w3", "b3"], ["g3"], transB=1),   # 27 -> 5
        helper.make_node("Relu", ["g3"], ["r3"]),
        helper.make_node("MatMul", ["r3", "w4"], ["y"]),                 # 5 -> 2
    ]
    inits = [init("w1", rng.standard_normal((4, 1, 3, 3))), init("b1", rng.standard_normal(4)),
             init("g", np.ones(4)), init("bb", np.zeros(4)), init("m", np.zeros(4)), init("v", np.ones(4)),
             init("w2", rng.standard_normal((3, 4, 1, 1))), init("w3", rng.standard_normal((5, 27))),
             init("b3", np.zeros(5)), init("w4", rng.standard_normal((5, 2))),
             numpy_helper.from_array(np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64), "pads")]
    g = helper.make_graph(nodes, "tiny", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 5, 5])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2])], inits)
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), str(path))


def test_macs_of_a_tiny_model():
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "tiny.onnx"
        _tiny_model(path)
        graph = rs.OnnxGraph(path)
        ops = rs.mac_nodes(graph, (2, 5, 5))
    got = [(o.op, o.macs, o.in_elems, o.layer) for o in ops]
    assert got == [("Conv", 4 * 3 * 3 * (1 * 3 * 3), 2 * 7 * 7, "r1"),   # Pad, BN, pooling are not MACs
                   ("Conv", 3 * 3 * 3 * 4, 4 * 3 * 3, "r2"),
                   ("Gemm", 5 * 27, 27, "r3"),
                   ("MatMul", 2 * 5, 5, None)], got
    assert all(o.zero is None for o in ops)


def test_synaptic_ops_of_known_spikes():
    # mean fan-out: 20 nonzero inputs over 2 samples, 486 MACs over 50 inputs -> 10 · 486 / 50
    op = rs.MacNode(key="k", op="Conv", data=0, macs=486, in_elems=50, layer=None, zero=None)
    assert abs(rs.synaptic_ops(op, 20, 2) - 10 * 486 / 50) < 1e-12
    # coupling bundle (§8), L = 0: input spikes [0, 0], [1, 1] -> 2 nonzero inputs of fc1 (2 MACs, 2 inputs);
    # hidden spikes 0, 1 -> 1 nonzero input of fc2 (1 MAC, 1 input). L = 1: hidden spikes 1, 0 -> also 1.
    for L in (0, 1):
        doc = rs.evaluate(ROOT / "samples" / "coupling", cfg(2, 2.0, L), coupling_theta(), None, 0)
        assert doc["layers"][0]["macs"] == 2 and doc["layers"][0]["synaptic_ops"] == 2.0
        assert doc["output"] == {"macs": 1, "synaptic_ops": 1.0} and doc["synaptic_ops"] == 3.0
        assert doc["macs"] == 3 and doc["neuron_steps"] == 1 * (2 + L)
    # a constant addend before a MAC node is scaled by 1/Σw in the SNN (§3): it is nonzero in every slot
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    with tempfile.TemporaryDirectory() as d:
        nodes = [helper.make_node("Add", ["x", "c"], ["xc"]),
                 helper.make_node("Gemm", ["xc", "w"], ["h"]), helper.make_node("Relu", ["h"], ["y"])]
        g = helper.make_graph(nodes, "addend", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 1])],
                              [numpy_helper.from_array(np.array([[3.0, 0.0]], np.float32), "c"),
                               numpy_helper.from_array(np.ones((2, 1), np.float32), "w")])
        onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), str(Path(d) / "m.onnx"))
        graph = rs.OnnxGraph(Path(d) / "m.onnx")
    ops = rs.mac_nodes(graph, (2,))
    assert ops[0].zero.tolist() == [[3.0, 0.0]]
    c = cfg(3, 2.0, 0)
    nz = {}
    # x = [0, 1], θ_0 = 1: x[1] spikes at slot 2 only (u = 1/4, 1/2, 1); the addend 3/Σw of x[0] is
    # nonzero in all 3 slots: 3 + 1 nonzero inputs
    x = np.array([[0.0, 1.0]])
    assert rs.encode(x, 1.0, c)[:, 0].tolist() == [[0, 0], [0, 0], [0, 1]]
    rs.Simulator(graph, c, {"input": 1.0, "y": 1.0}).simulate(x, None, None, ops=ops, nonzero=nz)
    assert nz[ops[0].key] == 4, nz


def test_doctor_selection():
    import reference_doctor as rd
    assert [rd.max_exact_T(b) for b in (1.0, 1.25, 1.5, 2.0, 3.0, 4.0)] == [64, 43, 25, 16, 10, 8]

    def pt(T, L, neg, r, acc, syn, lat=None, beta=1.5, agree=1.0):
        return {"T": T, "beta": beta, "silent": L, "negative": neg, "rounds": r, "latency": lat or T + 3 * L,
                "snn_accuracy": acc, "agreement": agree, "synaptic_ops": syn}

    ann = 0.9
    table = [pt(4, 0, True, 0, 0.88, 100), pt(4, 0, False, 0, 0.80, 90),        # latency 4: not lossless at 0.5
             pt(5, 0, True, 0, 0.896, 300), pt(5, 0, True, 1, 0.90, 200),      # latency 5
             pt(5, 0, False, 2, 0.91, 200), pt(2, 1, True, 0, 0.95, 50),        # 2 + 3·1 = 5, lower T wins
             pt(6, 0, True, 0, 0.93, 10)]
    b = rd.select_best(table, ann, 0.5)
    assert (b["T"], b["silent"]) == (2, 1), b
    # tolerance 0: latency 5 still (T = 2 at 0.95)
    assert rd.select_best(table, ann, 0.0)["T"] == 2
    # without the T = 2 point: same latency and T -> fewest synaptic ops, then fewer rounds, then negative off
    rest = [p for p in table if p["T"] != 2]
    b = rd.select_best(rest, ann, 0.5)
    assert (b["T"], b["synaptic_ops"], b["rounds"], b["negative"]) == (5, 200, 1, True), b
    b = rd.select_best(rest, ann, 0.0)  # 0.896 is out, the r=1 (0.90) and r=2 off (0.91) tie on ops -> r = 1
    assert (b["rounds"], b["negative"]) == (1, True), b
    same = [pt(5, 0, True, 0, 0.9, 200), pt(5, 0, False, 0, 0.9, 200)]
    assert rd.select_best(same, ann, 0.0)["negative"] is False
    # tolerance 2 reaches latency 4 (0.88 = 0.9 − 0.02 up to rounding), 1.9 does not
    assert rd.select_best(table, ann, 2.0)["latency"] == 4 and rd.select_best(table, ann, 1.9)["latency"] == 5
    assert rd.select_best([pt(4, 0, True, 0, 0.5, 1)], ann, 0.5) is None
    # without labels: agreement against 1 − tolerance
    nolab = [pt(3, 0, True, 0, None, 5, agree=0.99), pt(4, 0, True, 0, None, 5, agree=1.0)]
    assert rd.select_best(nolab, None, 0.5)["T"] == 4 and rd.select_best(nolab, None, 1.0)["T"] == 3
    # the plan groups every (β, T, L, negative) by latency T + (n+1)·L
    groups = rd.plan(2, [1.5], {1.5: 4})
    assert list(groups) == list(range(1, 14))  # L = 0: 1..4, L = 1: 4..7, L = 2: 7..10, L = 3: 10..13
    assert groups[4] == [(1.5, 1, 1, False), (1.5, 1, 1, True), (1.5, 4, 0, False), (1.5, 4, 0, True)]


def test_doctor_on_the_coupling_bundle():
    # one output: every configuration agrees with the ANN; the best is T = 1, L = 0, negative off, 0 rounds
    import reference_doctor as rd
    doc = rd.doctor(ROOT / "samples" / "coupling", tolerance=0.0, max_rounds=1)
    assert doc["ann_accuracy"] is None and doc["samples"] == 1
    assert doc["best"] == {"T": 1, "beta": 1.5, "silent": 0, "negative": False, "rounds": 0, "latency": 1,
                           "snn_accuracy": None, "agreement": 1.0, "synaptic_ops": doc["best"]["synaptic_ops"]}
    assert [(p["negative"], p["rounds"]) for p in doc["tried"]] == [(False, 0), (False, 1), (True, 0), (True, 1)]
    assert all(p["lossless"] for p in doc["tried"])
    doc = rd.doctor(ROOT / "samples" / "coupling", tolerance=0.0, max_rounds=0, table_latency=2, max_T=2)
    assert [p["latency"] for p in doc["tried"]] == [1, 1, 2, 2] and doc["best_by_tolerance"]["0"]["T"] == 1
    # auto: up to the first latency lossless at tolerance 0 (here 1), whatever the tolerance
    doc = rd.doctor(ROOT / "samples" / "coupling", tolerance=0.5, max_rounds=0, table_latency="auto")
    assert [p["latency"] for p in doc["tried"]] == [1, 1] and doc["search"]["table_latency"] == 1
    assert not doc["search"]["capped"]
    # a cap below every latency: nothing evaluated, no best, capped
    doc = rd.doctor(ROOT / "samples" / "coupling", tolerance=0.5, max_rounds=0, max_latency=0)
    assert doc["tried"] == [] and doc["best"] is None and doc["search"]["capped"]


def main():
    tests = [v for k, v in sorted(globals().items()) if k.startswith("test_") and callable(v)]
    for t in tests:
        t()
        print(f"ok  {t.__name__}")
    print(f"{len(tests)} tests passed")


if __name__ == "__main__":
    main()
