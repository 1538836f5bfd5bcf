"""The paths the samples do not take by default: `--device cuda` (where PyTorch has a GPU) and
channels-last feature maps (used for inputs of 32×32 pixels and more), each against the plain
CPU report within docs/numerics.md §9."""

import pytest
import torch

import cssdbg_torch.network as network
from conftest import SAMPLES, assert_reports_agree, py_eval


@pytest.mark.parametrize("sample,extra", [("digits-cnn", ["--limit", "120"]),
                                          ("digits-resnet", ["--limit", "60", "--attribution"])])
def test_cuda_eval_agrees_with_cpu(sample, extra):
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device available to PyTorch on this machine: the --device cuda eval path is not tested here")
    args = [str(SAMPLES / sample), *extra]
    gpu, cpu = py_eval(*args, "--device", "cuda"), py_eval(*args)
    assert_reports_agree(gpu, cpu, f"{sample} cuda vs cpu")


@pytest.mark.parametrize("sample,extra", [("digits-cnn", ["--limit", "120"]),
                                          ("digits-resnet", ["--limit", "60", "--attribution"]),
                                          ("digits-resnet", ["--limit", "60", "--silent", "0", "--no-negative"])])
def test_channels_last_agrees_with_nchw(sample, extra, monkeypatch):
    """The digits maps (8×8) stay NCHW; here every conv model is run channels-last too."""
    args = [str(SAMPLES / sample), *extra]
    nchw = py_eval(*args)
    monkeypatch.setattr(network, "CHANNELS_LAST_PIXELS", 1)
    cl = py_eval(*args)
    assert_reports_agree(cl, nchw, f"{sample} channels-last vs NCHW")


def test_channels_last_is_used_for_large_inputs(monkeypatch):
    from cssdbg_torch.onnx_import import load_graph
    graph = load_graph(SAMPLES / "digits-cnn" / "model.onnx")
    assert not network._Affine(graph, torch.float32).channels_last
    monkeypatch.setattr(network, "CHANNELS_LAST_PIXELS", 64)
    body = network._Affine(graph, torch.float32)
    assert body.channels_last
    w = next(b for n, b in body.named_buffers() if n.endswith("_weight") and b.dim() == 4)
    assert w.is_contiguous(memory_format=torch.channels_last)
