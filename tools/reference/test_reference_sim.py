#!/usr/bin/env python3
"""Plain-assert checks of tools/reference/reference_sim.py against docs/numerics.md §4, §8 and onnxruntime.

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


def main():
    tests = [v for k, v in sorted(globals().items()) if k.startswith("test_") and callable(v)]
    for t in tests:
        t()
        print(f"ok  {t.__name__}")
    print(f"{len(tests)} tests passed")


if __name__ == "__main__":
    main()
