"""`write_bundle`: a PyTorch model and its data as a directory `cssdbg` opens."""

from __future__ import annotations

import os
import shutil
import tempfile
import warnings
from pathlib import Path

import numpy as np
import torch

from .errors import CSSError
from .onnx_import import load_graph
from .theta import _umask_mode


def _array(x, what: str, dtype) -> np.ndarray:
    if torch.is_tensor(x):
        x = x.detach().cpu().numpy()
    a = np.asarray(x)
    if a.dtype.kind not in "fiub":
        raise CSSError(what, f"has dtype {a.dtype}; expected numbers")
    return np.ascontiguousarray(a.astype(dtype))


def _save_npy(path: Path, a: np.ndarray) -> None:
    """Temporary file in the same directory, then rename: never a half-written .npy."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            np.save(f, a, allow_pickle=False)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, _umask_mode())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _export(model, example, path: str, exporter: str, opset: int | None) -> None:
    names = {"input_names": ["x"], "output_names": ["y"]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if exporter == "torchscript":
            torch.onnx.export(model, (example,), path, dynamo=False, opset_version=opset or 17,
                              dynamic_axes={"x": {0: "N"}, "y": {0: "N"}}, **names)
        elif exporter == "dynamo":
            batch = torch.export.Dim("N", min=1)
            # A fixed batch when the example has one sample (a dynamic dimension of size 1 is
            # specialised away by torch.export).
            shapes = ({0: batch},) if example.shape[0] > 1 else None
            torch.onnx.export(model, (example,), path, dynamo=True, opset_version=opset or 18,
                              dynamic_shapes=shapes, external_data=False, verbose=False, **names)
        else:
            raise ValueError(f"exporter must be 'torchscript' or 'dynamo', not {exporter!r}")


def write_bundle(model: torch.nn.Module, out_dir, example_input, data=None, labels=None, calib=None,
                 exporter: str = "torchscript", opset: int | None = None, check: bool = True) -> Path:
    """Exports the eval-mode `model` as `out_dir/model.onnx` with `torch.onnx.export` and writes
    `data.npy`, `labels.npy`, `calib.npy` (tensors or arrays) so that `cssdbg out_dir` opens it.

    `example_input` is a batch `[N, ...]` of the model's input. Operators cssdbg cannot convert
    (MaxPool, Sigmoid, ...) are refused here, with cssdbg's one-line message, before anything is
    written to `out_dir`. With `check`, the exported graph is also run on the example and must
    reproduce the model's output.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    example = example_input if torch.is_tensor(example_input) else torch.as_tensor(np.asarray(example_input))
    example = example.detach().to(torch.float32).cpu()
    if example.ndim < 2:
        raise ValueError(f"example_input must be a batch [N, ...], got shape {list(example.shape)}")
    arrays = {}
    sample = tuple(example.shape[1:])
    for key, v, dt in (("data", data, np.float32), ("calib", calib, np.float32), ("labels", labels, np.int64)):
        if v is None:
            continue
        a = _array(v, f"{key}=", dt if key != "labels" else None)
        if key == "labels":
            if a.dtype.kind == "f" and not np.all(a == np.round(a)):
                raise ValueError("labels must be integer class indices")
            a = a.astype(np.int64).reshape(-1)
        elif tuple(a.shape[1:]) != sample:
            raise ValueError(f"{key} has shape {list(a.shape)}, expected [N, {', '.join(map(str, sample))}] like example_input")
        arrays[key] = a
    if "labels" in arrays and ("data" not in arrays or len(arrays["labels"]) != len(arrays["data"])):
        raise ValueError("labels need data of the same length")

    was_training = model.training
    model_cpu_device = next((p.device for p in model.parameters()), torch.device("cpu"))
    model.eval()
    final = out / "model.onnx"
    tmpdir = tempfile.mkdtemp(prefix=".export.", dir=out)
    try:
        tmp = os.path.join(tmpdir, "model.onnx")
        with torch.no_grad():
            _export(model, example.to(model_cpu_device), tmp, exporter, opset)
        try:
            graph = load_graph(tmp)
        except CSSError as e:
            raise CSSError(str(final), e.problem, e.hint) from None
        if check:
            from .config import Config
            from .network import CSSNetwork
            net = CSSNetwork(graph, Config(), 1.0, [1.0] * len(graph.relus))
            with torch.no_grad():
                want = model(example.to(model_cpu_device)).detach().cpu().to(torch.float32)
                got = net.ann(example).reshape(want.shape)
            tol = 1e-4 * max(1.0, float(want.abs().max()))
            if not torch.allclose(got, want, atol=tol, rtol=1e-4):
                raise CSSError(str(final), f"the exported graph does not reproduce the model's output "
                               f"(max difference {float((got - want).abs().max()):.3g})",
                               "check that the model is deterministic in eval() mode")
        for name in os.listdir(tmpdir):
            os.replace(os.path.join(tmpdir, name), out / name)
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
        model.train(was_training)
    for key, a in arrays.items():
        _save_npy(out / f"{key}.npy", a)
    return out
