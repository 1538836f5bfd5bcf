"""The shared ONNX conformance suite (Tests/Fixtures/conformance, scripts/make_conformance.py):
cssdbg-torch's importer accepts and refuses what cssdbg's registry accepts and refuses, with the
manifest's text; accepted fixtures reproduce onnxruntime through the network's ANN; its operator
tables are the registry's (cssdbg's ConformanceTests checks the manifest against the registry)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from conftest import REPO
from cssdbg_torch import onnx_import
from cssdbg_torch.errors import CSSError
from cssdbg_torch.network import _Affine

DIR = REPO / "Tests" / "Fixtures" / "conformance"
MANIFEST = json.loads((DIR / "manifest.json").read_text())
FIXTURES = MANIFEST["fixtures"]


def _ann(graph, x: np.ndarray) -> np.ndarray:
    body = _Affine(graph, torch.float32)
    with torch.no_grad():
        return body.run(torch.from_numpy(x), 1.0, lambda _, z: torch.relu(z)).numpy()


def test_supported_list_is_the_registrys():
    assert onnx_import.SUPPORTED == MANIFEST["supported"]


def test_operator_table_is_the_registrys():
    mine, theirs = onnx_import.OPERATORS, MANIFEST["operators"]
    assert sorted(set(mine) - set(theirs)) == [], "in onnx_import.OPERATORS, not in the registry"
    assert sorted(set(theirs) - set(mine)) == [], "in the registry, not in onnx_import.OPERATORS"
    assert {k: v for k, v in mine.items() if theirs[k] != v} == {}, "what the entry does differs"


def test_every_difference_from_cssdbg_says_why():
    for f in FIXTURES:
        e, swift = f["expect"]["torch"], f["expect"]["swift"]
        if e["status"] != swift["status"] or e.get("text") != swift.get("text"):
            assert e.get("why"), f["name"]


@pytest.mark.parametrize("f", FIXTURES, ids=[f["name"] for f in FIXTURES])
def test_fixture(f):
    path = DIR / f"{f['name']}.onnx"
    e = f["expect"]["torch"]
    if e["status"] == "accepted":
        g = onnx_import.load_graph(path)
        x = np.load(DIR / f"{f['name']}.input.npy")
        want = np.load(DIR / f"{f['name']}.ort.npy")
        y = _ann(g, x).reshape(want.shape)
        err = float(np.max(np.abs(y - want) / np.maximum(1.0, np.abs(want))))
        assert err < MANIFEST["tolerance"], f"ANN output differs from onnxruntime by {err}"
    else:
        assert e["status"] == "refused", e
        with pytest.raises(CSSError) as info:
            onnx_import.load_graph(path)
        line = str(info.value)
        assert "\n" not in line and line.startswith(f"{path}: "), line
        assert e["text"] in line, f"got\n  {line}\nwanted a line containing\n  {e['text']}"
