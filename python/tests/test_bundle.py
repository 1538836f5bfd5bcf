"""`write_bundle` with a conv/BN/AvgPool/residual model trained on real data (scikit-learn's
digits), under both exporters: the bundle opens in `cssdbg eval` and gives the numbers
`python -m cssdbg_torch eval` gives; operators cssdbg refuses are refused first, with its message."""

import json

import numpy as np
import pytest
import torch
from torch import nn

from cssdbg_torch import CSSError, CSSNetwork, write_bundle
from conftest import assert_reports_agree, cssdbg_binary, py_eval, run, swift_eval


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(c, c, 3, padding=1, bias=False), nn.BatchNorm2d(c)
        self.conv2, self.bn2 = nn.Conv2d(c, c, 3, padding=1, bias=False), nn.BatchNorm2d(c)
        self.relu1, self.relu2 = nn.ReLU(), nn.ReLU()

    def forward(self, x):
        y = self.relu1(self.bn1(self.conv1(x)))
        return self.relu2(self.bn2(self.conv2(y)) + x)


class SmallResNet(nn.Module):
    def __init__(self, pool=None):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU())
        self.block = Block(8)
        self.pool = pool or nn.AvgPool2d(2)
        self.fc = nn.Linear(8 * 4 * 4, 10)

    def forward(self, x):
        return self.fc(torch.flatten(self.pool(self.block(self.stem(x))), 1))


@pytest.fixture(scope="module")
def digits():
    from sklearn.datasets import load_digits
    d = load_digits()
    x = torch.tensor(d.images / 16.0, dtype=torch.float32).unsqueeze(1)
    y = torch.tensor(d.target, dtype=torch.int64)
    return x, y


@pytest.fixture(scope="module")
def trained(digits):
    x, y = digits
    torch.manual_seed(0)
    model = SmallResNet()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    model.train()
    for _ in range(2):
        perm = torch.randperm(1400)
        for i in range(0, 1400, 100):
            idx = perm[i:i + 100]
            opt.zero_grad()
            nn.functional.cross_entropy(model(x[idx]), y[idx]).backward()
            opt.step()
    model.eval()
    with torch.no_grad():
        acc = (model(x[1400:]).argmax(1) == y[1400:]).float().mean().item()
    assert acc > 0.8, f"the test model should learn the digits (accuracy {acc})"
    return model


@pytest.mark.parametrize("exporter", ["torchscript", "dynamo"])
def test_bundle_opens_in_cssdbg_and_agrees(tmp_path, digits, trained, exporter):
    x, y = digits
    out = write_bundle(trained, tmp_path / "b", x[:4], data=x[1400:1600], labels=y[1400:1600].numpy(),
                       calib=x[:200], exporter=exporter)
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) >= ["calib.npy", "data.npy", "labels.npy", "model.onnx"]
    assert not [p for p in out.iterdir() if p.name.startswith(".")], "no temporary files left"
    assert trained.training is False
    theirs = swift_eval(str(out))
    assert theirs["samples"] == 200 and theirs["ann_accuracy"] > 0.8
    assert len(theirs["layers"]) == 3, "stem, block.relu1, block.relu2"
    ours = py_eval(str(out))
    assert_reports_agree(ours, theirs, exporter)
    # The ANN in the bundle is the model.
    net = CSSNetwork.from_bundle(out)
    with torch.no_grad():
        assert torch.allclose(net.ann(x[1400:1410]), trained(x[1400:1410]), atol=1e-4)


def test_both_exporters_give_the_same_network(tmp_path, digits, trained):
    x, y = digits
    reports = []
    for exporter in ("torchscript", "dynamo"):
        out = write_bundle(trained, tmp_path / exporter, x[:4], data=x[1400:1500], labels=y[1400:1500],
                           calib=x[:200], exporter=exporter)
        r = py_eval(str(out))
        reports.append(r)
    a, b = reports
    for la, lb in zip(a["layers"], b["layers"]):
        la["name"] = lb["name"] = la["tensor"] = lb["tensor"] = ""  # the exporters name nodes differently
    a["model"] = b["model"] = ""
    assert_reports_agree(a, b, "torchscript vs dynamo")


@pytest.mark.parametrize("exporter", ["torchscript", "dynamo"])
def test_refused_operators_with_cssdbgs_message(tmp_path, digits, exporter):
    x, _ = digits
    model = SmallResNet(pool=nn.MaxPool2d(2)).eval()
    with pytest.raises(CSSError) as e:
        write_bundle(model, tmp_path / "b", x[:4], data=x[:10], exporter=exporter)
    assert not (tmp_path / "b" / "model.onnx").exists(), "nothing written when refused"
    assert not [p for p in (tmp_path / "b").iterdir()], "no temporary files left"
    ours = str(e.value)
    assert ours.startswith(str(tmp_path / "b" / "model.onnx") + ": ") and "uses MaxPool, which cannot be converted exactly; use AveragePool" in ours
    # cssdbg's own message for the same export.
    plain = tmp_path / "plain.onnx"
    if exporter == "torchscript":
        torch.onnx.export(model, (x[:4],), str(plain), dynamo=False, input_names=["x"], output_names=["y"],
                          dynamic_axes={"x": {0: "N"}, "y": {0: "N"}}, opset_version=17)
    else:
        torch.onnx.export(model, (x[:4],), str(plain), dynamo=True, input_names=["x"], output_names=["y"],
                          dynamic_shapes=({0: torch.export.Dim("N", min=1)},), opset_version=18, external_data=False)
    theirs = run([cssdbg_binary(), "eval", plain], check=False)
    assert theirs.returncode == 1
    assert ours.split(": ", 1)[1] == theirs.stderr.strip().split(": ", 2)[2]


def test_sigmoid_is_refused(tmp_path, digits):
    x, _ = digits
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 16), nn.Sigmoid(), nn.Linear(16, 10))
    with pytest.raises(CSSError, match="uses Sigmoid, which cannot be converted; only ReLU activations convert to TSA neurons; retrain with ReLU"):
        write_bundle(model, tmp_path / "s", x[:2])
