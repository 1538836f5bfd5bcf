"""css-spec §10–§12 report fields on models small enough to compute by hand: MACs and synaptic
operations (§11), anytime accuracy and settled_by_slot (§12), decoupled and exact layers and
culprits (§10), and the --e-mac/--e-ac flags."""

import json

import numpy as np
import onnx
import pytest
import torch
from onnx import TensorProto, helper, numpy_helper

from cssdbg_torch import CSSNetwork, Config, load_graph
from cssdbg_torch.network import counted_nodes, culprits
from conftest import ATTRIBUTION_LAYER, ATTRIBUTION_TOP, NEW_LAYER, NEW_TOP, SAMPLES, py_cli, py_eval


def _init(name, a):
    return numpy_helper.from_array(np.asarray(a, np.float32), name)


def save(tmp_path, nodes, inits, in_shape, out_len, name="tiny"):
    g = helper.make_graph(nodes, name, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, *in_shape])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, out_len])], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    path = tmp_path / f"{name}.onnx"
    onnx.save(m, str(path))
    return path


def conv_gemm_net(tmp_path):
    """x [1,6,6] → Conv 2×(1·3×3) pad 1 → Relu → Pad 1 → Conv 4×(1·2×2) group 2 stride 2 → Relu
    → Flatten → Gemm 64→3 → Relu → MatMul 3→2 (the output)."""
    rng = np.random.default_rng(0)
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"]),
        helper.make_node("Pad", ["r1", "pads"], ["p1"]),
        helper.make_node("Conv", ["p1", "w2"], ["c2"], kernel_shape=[2, 2], strides=[2, 2], group=2),
        helper.make_node("Relu", ["c2"], ["r2"]),
        helper.make_node("Flatten", ["r2"], ["f"]),
        helper.make_node("Gemm", ["f", "w3", "b3"], ["g"], transB=1),
        helper.make_node("Relu", ["g"], ["r3"]),
        helper.make_node("MatMul", ["r3", "w4"], ["y"]),
    ]
    inits = [_init("w1", rng.normal(size=(2, 1, 3, 3))), _init("b1", [0.1, -0.1]),
             numpy_helper.from_array(np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64), "pads"),
             _init("w2", rng.normal(size=(4, 1, 2, 2))), _init("w3", rng.normal(size=(3, 64))),
             _init("b3", [0.0, 0.1, 0.2]), _init("w4", rng.normal(size=(3, 2)))]
    return save(tmp_path, nodes, inits, [1, 6, 6], 2, "convgemm")


def test_macs_by_hand(tmp_path):
    """Conv 2·6·6 outputs × 1·3·3 = 648; the Pad is no Conv; grouped Conv 4·4·4 × (2/2)·2·2 = 256;
    Gemm 3 × 64 = 192; MatMul 2 × 3 = 6, attributed to the graph output."""
    path = conv_gemm_net(tmp_path)
    g = load_graph(path)
    nodes = counted_nodes(g)
    assert [(c.macs, c.inputs, c.layer) for c in nodes] == [(648, 36, 0), (256, 2 * 8 * 8, 1), (192, 64, 2),
                                                            (6, 3, -1)]
    x = np.random.default_rng(1).normal(size=(5, 1, 6, 6)).astype(np.float32)
    net = CSSNetwork.from_onnx(path, calib=x, T=4, silent=1)
    r = net.evaluate(x)
    assert r["macs"] == 648 + 256 + 192 + 6
    assert [l["macs"] for l in r["layers"]] == [648, 256, 192]
    assert r["output"]["macs"] == 6
    assert [l["neuron_steps"] for l in r["layers"]] == [72 * 5, 64 * 5, 3 * 5]
    assert r["neuron_steps"] == (72 + 64 + 3) * 5
    assert r["energy_pj"]["ann"] == pytest.approx(r["macs"] * 4.6, rel=1e-15)
    assert r["energy_pj"]["snn"] == pytest.approx(r["synaptic_ops"] * 0.9, rel=1e-15)
    # Each layer's synaptic operations: its counted nodes' nonzero inputs × fan-out. The MatMul
    # reads relu 2's spikes directly: (its spikes per sample) × 6/3.
    l2 = r["layers"][2]
    assert r["output"]["synaptic_ops"] == pytest.approx((l2["spikes_positive"] + l2["spikes_negative"]) / 5 * 2,
                                                        rel=1e-12)
    assert r["synaptic_ops"] == pytest.approx(sum(l["synaptic_ops"] for l in r["layers"])
                                              + r["output"]["synaptic_ops"], rel=1e-12)


def test_synaptic_ops_are_spikes_times_fan_out_on_digits_mlp():
    """On the MLP every Gemm after the first reads a spiking layer: synaptic ops = spikes per
    sample × output features; the first reads the encoder's spikes."""
    r = py_eval(str(SAMPLES / "digits-mlp"), "--limit", "40")
    l1, l2 = r["layers"]
    n = r["samples"]
    assert l1["macs"] == 64 * 128 and l2["macs"] == 128 * 64 and r["output"]["macs"] == 64 * 10
    assert l2["synaptic_ops"] == pytest.approx((l1["spikes_positive"] + l1["spikes_negative"]) / n * 64, rel=1e-12)
    assert r["output"]["synaptic_ops"] == pytest.approx((l2["spikes_positive"] + l2["spikes_negative"]) / n * 10,
                                                        rel=1e-12)
    net = CSSNetwork.from_bundle(SAMPLES / "digits-mlp")
    x = np.load(SAMPLES / "digits-mlp" / "data.npy")[:40]
    spikes = int(torch.count_nonzero(net.encode(torch.from_numpy(x))))
    assert l1["synaptic_ops"] == pytest.approx(spikes / n * 128, rel=1e-12)


def test_coupling_sample_operations_by_hand():
    """§8's example: both inputs spike once (last slot), weights 1, 1: 2 MACs, 2 synaptic ops; the
    hidden neuron spikes once into the 1-MAC output."""
    r = py_eval(str(SAMPLES / "coupling"))
    assert (r["macs"], r["synaptic_ops"], r["neuron_steps"]) == (3, 3, 2)
    assert (r["layers"][0]["macs"], r["layers"][0]["synaptic_ops"]) == (2, 2)
    assert r["output"] == {"macs": 1, "synaptic_ops": 1}
    assert r["anytime_accuracy"] is None and r["anytime_agreement"] == [1, 1] and r["settled_by_slot"] == [1, 1]


def identity_net(tmp_path):
    """x (2) → Gemm I → Relu → Gemm I → y: T 2, β 2, L 0, θ 1 everywhere."""
    eye = np.eye(2, dtype=np.float32)
    nodes = [helper.make_node("Gemm", ["x", "a"], ["h"]), helper.make_node("Relu", ["h"], ["r"]),
             helper.make_node("Gemm", ["r", "b"], ["y"])]
    path = save(tmp_path, nodes, [_init("a", eye), _init("b", eye)], [2], 2, "identity")
    return CSSNetwork(load_graph(path), Config(T=2, beta=2.0, silent=0), 1.0, [1.0])


def test_anytime_by_hand(tmp_path):
    """x = [0, 1] spikes [0,1] in the second input only: after slot 0 the output is [0, 0]
    (first maximum: class 0), after slot 1 it is [0, 1] (class 1). x = [1, 0]: class 0 throughout."""
    net = identity_net(tmp_path)
    net.reset_stats()
    net(torch.tensor([[0.0, 1.0], [1.0, 0.0]]), labels=torch.tensor([1, 0]))
    r = net.report()
    assert r["snn_accuracy"] == 1 and r["agreement"] == 1
    assert r["anytime_accuracy"] == [0.5, 1.0]
    assert r["anytime_agreement"] == [0.5, 1.0]
    assert r["settled_by_slot"] == [1, 2]
    assert r["macs"] == 8 and r["output"]["macs"] == 4
    # one encoder spike and one hidden spike per sample, each driving 2 outputs
    assert r["synaptic_ops"] == 4 and r["output"]["synaptic_ops"] == 2


@pytest.mark.parametrize("sample,extra", [("digits-cnn", ["--limit", "50"]), ("digits-resnet", ["--limit", "30"]),
                                          ("digits-mlp", ["--limit", "50", "-T", "3"])])
def test_anytime_ends_at_the_final_prediction(sample, extra):
    r = py_eval(str(SAMPLES / sample), *extra)
    T = r["config"]["T"]
    assert len(r["anytime_accuracy"]) == len(r["anytime_agreement"]) == len(r["settled_by_slot"]) == T
    assert r["anytime_accuracy"][-1] == r["snn_accuracy"]
    assert r["anytime_agreement"][-1] == r["agreement"]
    assert r["settled_by_slot"][-1] == r["samples"]
    assert all(a <= b for a, b in zip(r["settled_by_slot"], r["settled_by_slot"][1:]))
    assert list(r)[-len(NEW_TOP):] == NEW_TOP
    assert all(list(l)[-len(NEW_LAYER):] == NEW_LAYER for l in r["layers"])


def test_decoupled_layer_has_no_coupling():
    """§8 with L = 0: X = [0, 2] couples (spikes 0,1, encoded 1, residual 1); decoupled, X' = [1, 0]
    fires at slot 0: spikes 1,0, encoded 2 = the target, so the output is the ANN's 2."""
    net = CSSNetwork.from_bundle(SAMPLES / "coupling")
    x = torch.tensor([[1.0, 1.0]])
    y_ann, acts = net.ann(x, keep=True)
    assert float(y_ann.reshape(-1)[0]) == 2
    plain, dec = net.new_stats(None), net.new_stats(None)
    y = net.simulate(x, acts, plain)
    yd = net.simulate(x, acts, dec, substitute={0: "decoupled"})
    assert float(y.reshape(-1)[0]) == 1 and float(yd.reshape(-1)[0]) == 2
    assert plain.layers[0].coupling == 1 and list(plain.layers[0].violations) == [0, 1, 1]
    assert dec.layers[0].coupling == 0 and dec.layers[0].overflow == 0 and list(dec.layers[0].violations) == [0, 0, 0]
    assert dec.layers[0].pos == 1 and dec.layers[0].neg == 0
    assert float(dec.layers[0].top.descending()[0]) == 0  # residual 0


def test_exact_layer_target_is_the_anns():
    """An exact layer's target a is ANN activation / θ: its residual u = a − e times θ is then the
    error θ·e − ANN that activation_rmse measures, neuron by neuron. The simulated SNN's own target
    differs from the ANN's (the encoder's error), which the same check catches."""
    net = CSSNetwork.from_bundle(SAMPLES / "digits-mlp")
    x = torch.from_numpy(np.load(SAMPLES / "digits-mlp" / "data.npy")[:20])
    _, acts = net.ann(x, keep=True)
    for l, mode, same in ((0, "exact", True), (1, "exact", True), (0, None, False)):
        st = net.new_stats(None)
        net.simulate(x, acts, st, substitute={l: mode} if mode else None)
        ls = st.layers[l]
        sq_u = float(np.sum(ls.top.descending().astype(np.float64) ** 2)) * net.theta[l] ** 2
        sq = float(sum(v.sum() for v in ls.sq_by_sample))
        assert (abs(sq_u - sq) <= 1e-4 * sq) == same, (l, mode, sq_u, sq)


def test_every_layer_exact_is_the_anns_code_of_exact_inputs():
    """With every layer exact nothing of the SNN's own input reaches the output: a much coarser
    input code (θ_0 tripled) changes the SNN's output but not the all-exact one."""
    net = CSSNetwork.from_bundle(SAMPLES / "digits-cnn")
    x = torch.from_numpy(np.load(SAMPLES / "digits-cnn" / "data.npy")[:8])
    _, acts = net.ann(x, keep=True)
    every = {l: "exact" for l in range(len(net.tensors))}
    y1 = net.simulate(x, acts, substitute=every)
    net.theta_input *= 3.0  # a much coarser input code: the SNN changes, the all-exact network must not
    y2 = net.simulate(x, acts, substitute=every)
    y3 = net.simulate(x, acts)
    assert torch.equal(y1, y2)
    net.theta_input /= 3.0
    assert not torch.equal(net.simulate(x, acts), y3)


def test_culprits_by_hand():
    """Rows: right at prefix j = 0, 1, 2 (n = 2 layers)."""
    right = np.array([[1, 1, 1],   # right everywhere: culprit 0, counted nowhere
                      [0, 1, 1],   # culprit 1: layer 0
                      [0, 0, 1],   # culprit 2: layer 1
                      [1, 0, 1],   # right at 0 but not 1: culprit 2, layer 1
                      [1, 1, 0],   # wrong with every layer exact: unresolved
                      [0, 0, 0]], bool)
    per_layer, unresolved = culprits(right)
    assert per_layer == [1, 2] and unresolved == 2


@pytest.mark.parametrize("sample,extra", [("digits-cnn", ["--limit", "60"]), ("digits-resnet", ["--limit", "24", "-T", "4"]),
                                          ("coupling", [])])
def test_attribution_report(sample, extra):
    r = py_eval(str(SAMPLES / sample), "--attribution", *extra)
    n = len(r["layers"])
    assert list(r)[-len(ATTRIBUTION_TOP):] == ATTRIBUTION_TOP
    assert all(list(l)[-len(ATTRIBUTION_LAYER):] == ATTRIBUTION_LAYER for l in r["layers"])
    labeled = r["snn_accuracy"] is not None
    assert r["culprit_basis"] == ("accuracy" if labeled else "agreement")
    curve = r["exact_prefix_accuracy"] if labeled else r["exact_prefix_agreement"]
    assert len(r["exact_prefix_agreement"]) == n + 1
    assert r["exact_prefix_agreement"][0] == r["agreement"]
    assert curve[0] == (r["snn_accuracy"] if labeled else r["agreement"])
    culprit_sum = sum(l["culprit_samples"] for l in r["layers"])
    # samples wrong at prefix 0 need a culprit or are unresolved
    wrong0 = round((1 - curve[0]) * r["samples"])
    assert culprit_sum + r["culprit_unresolved"] >= wrong0
    assert r["culprit_unresolved"] == round((1 - curve[n]) * r["samples"])
    assert culprit_sum + r["culprit_unresolved"] <= r["samples"]
    for l in r["layers"]:
        assert 0 <= l["decoupled_agreement"] <= 1
        assert (l["decoupled_accuracy"] is None) == (not labeled)
    # without --attribution, none of it
    plain = py_eval(str(SAMPLES / sample), *extra)
    assert not any(k in plain for k in ATTRIBUTION_TOP)
    assert not any(k in plain["layers"][0] for k in ATTRIBUTION_LAYER)


def test_attribution_table_lines():
    rc, out, err = py_cli("eval", SAMPLES / "digits-mlp", "--limit", "20", "--attribution")
    assert rc == 0, err
    for line in ("anytime accuracy by output slot:", "settled by slot:", "operations per sample",
                 "energy per sample: ANN", "attribution (accuracy;", "samples wrong even with every layer exact"):
        assert line in out, line


@pytest.mark.parametrize("flag", ["--e-mac", "--e-ac"])
@pytest.mark.parametrize("value", ["0", "-1", "abc", "nan", "inf", ""])
def test_energy_flags_refuse_non_positive_numbers(flag, value):
    rc, out, err = py_cli("eval", SAMPLES / "coupling", flag, value)
    assert rc == 2 and out == ""
    assert err.count("\n") == 1 and f"{flag} must be a positive number" in err


def test_energy_flags_scale_the_energy():
    r = py_eval(str(SAMPLES / "digits-mlp"), "--limit", "10", "--e-mac", "2", "--e-ac", "0.5")
    assert r["e_mac_pj"] == 2 and r["e_ac_pj"] == 0.5
    assert r["energy_pj"] == {"ann": r["macs"] * 2.0, "snn": r["synaptic_ops"] * 0.5}
    json.dumps(r)


def test_forward_attribution_flag_and_report():
    """`net.attribution = True` makes `forward` collect the §10 runs; batches seen without it
    leave the attribution fields out of `report()` rather than average over part of the data."""
    net = CSSNetwork.from_bundle(SAMPLES / "digits-mlp")
    x = torch.from_numpy(np.load(SAMPLES / "digits-mlp" / "data.npy")[:30])
    y = torch.from_numpy(np.load(SAMPLES / "digits-mlp" / "labels.npy")[:30])
    net.attribution = True
    net.reset_stats()
    net(x[:16], y[:16])
    net(x[16:], y[16:])
    r = net.report()
    ref = net.evaluate(x.numpy(), y.numpy(), attribution=True)
    assert r["exact_prefix_accuracy"] == ref["exact_prefix_accuracy"]
    assert [l["culprit_samples"] for l in r["layers"]] == [l["culprit_samples"] for l in ref["layers"]]
    net.attribution = False
    net(x[:4], y[:4])
    assert "culprit_basis" not in net.report()


def test_the_new_field_comparison_holds_and_catches_differences():
    """The comparison test_parity.py runs against a cssdbg with these fields: a report agrees
    with itself, and each kind of difference is caught."""
    import copy

    from conftest import assert_reports_agree
    r = py_eval(str(SAMPLES / "digits-cnn"), "--limit", "30", "--attribution")
    assert_reports_agree(r, copy.deepcopy(r))
    for change in (lambda b: b.update(macs=b["macs"] + 1),
                   lambda b: b.update(synaptic_ops=b["synaptic_ops"] * 1.05),
                   lambda b: b["anytime_accuracy"].__setitem__(0, b["anytime_accuracy"][0] + 0.02),
                   lambda b: b["settled_by_slot"].__setitem__(0, b["settled_by_slot"][0] + 6),
                   lambda b: b["layers"][1].update(macs=b["layers"][1]["macs"] - 1),
                   lambda b: b["output"].update(synaptic_ops=b["output"]["synaptic_ops"] * 0.9),
                   lambda b: b["exact_prefix_accuracy"].__setitem__(1, b["exact_prefix_accuracy"][1] - 0.01),
                   lambda b: b["layers"][0].update(decoupled_agreement=b["layers"][0]["decoupled_agreement"] - 0.01),
                   lambda b: b["layers"][2].update(culprit_samples=b["layers"][2]["culprit_samples"] + 6),
                   lambda b: b.update(culprit_basis="agreement"),
                   lambda b: b["energy_pj"].update(ann=b["energy_pj"]["ann"] + 1)):
        b = copy.deepcopy(r)
        change(b)
        with pytest.raises(AssertionError):
            assert_reports_agree(r, b)
