"""`cssdbg-theta/1` files: spike amplitudes keyed by the Relu output tensor names ("input" for the
encoder) plus the config they were tuned for. Read with cssdbg's checks and messages (a file
whose tensors do not match the model is refused); written atomically."""

from __future__ import annotations

import json
import math
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .config import Config
from .errors import CSSError, SettingError
from .jsonfmt import render

FORMAT = "cssdbg-theta/1"
_MAX_BYTES = 64 << 20


@dataclass
class ThetaFile:
    model: str
    config: Config
    input: float
    layers: dict  # tensor name -> θ, in the model's layer order

    def json(self) -> dict:
        return {"format": FORMAT, "model": self.model, "config": self.config.json(),
                "theta": {"input": float(self.input), **{k: float(v) for k, v in self.layers.items()}}}


def read_theta(path, tensors: list[str]) -> ThetaFile:
    """Reads `path` and checks it against the model's spiking-layer tensors (in order)."""
    path = str(path)
    try:
        with open(path, "rb") as f:
            raw = f.read(_MAX_BYTES + 1)
    except OSError:
        raise CSSError(path, "cannot read the θ file") from None
    if len(raw) > _MAX_BYTES:
        raise CSSError(path, "θ file is larger than 64 MiB")
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise CSSError(path, "not valid JSON", f"expected a {FORMAT} file as written by `cssdbg tune --out` or `:w`") from None
    if not isinstance(doc, dict):
        raise CSSError(path, "is not a JSON object", f"expected a {FORMAT} file")
    for key in ("format", "theta"):
        if key not in doc:
            raise CSSError(path, f'missing "{key}"', f"expected a {FORMAT} file")
    if not isinstance(doc["format"], str):
        raise CSSError(path, "format has the wrong type")
    if not isinstance(doc["theta"], dict):
        raise CSSError(path, "theta has the wrong type")
    for k, v in doc["theta"].items():
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise CSSError(path, f"theta.{k} has the wrong type")
    if doc.get("model") is not None and not isinstance(doc["model"], str):
        raise CSSError(path, "model has the wrong type")
    if doc["format"] != FORMAT:
        raise CSSError(path, f'format is "{doc["format"]}", expected "{FORMAT}"')
    theta = doc["theta"]
    extra = sorted(set(theta) - set(tensors) - {"input"})
    if extra:
        raise CSSError(path, f"tensor '{extra[0]}' is not a spiking layer of this model", "the file does not match this model")

    def amplitude(key: str) -> float:
        if key not in theta:
            raise CSSError(path, f"θ for tensor '{key}' is missing", "the file does not match this model")
        v = float(theta[key])
        if not (math.isfinite(v) and v > 0):
            raise CSSError(path, f"θ for '{key}' must be a positive number, got {v!r}")
        return v

    inp = amplitude("input")
    layers = {t: amplitude(t) for t in tensors}
    config = Config()
    c = doc.get("config")
    if c is not None:
        if not isinstance(c, dict):
            raise CSSError(path, "config has the wrong type")
        types = {"T": int, "beta": (int, float), "silent": int, "negative": bool, "percentile": (int, float)}
        kw = {}
        for k, t in types.items():
            if c.get(k) is None:
                continue
            v = c[k]
            if (isinstance(v, bool) and t is not bool) or not isinstance(v, t):
                raise CSSError(path, f"config.{k} has the wrong type")
            kw[k] = float(v) if k in ("beta", "percentile") else v
        config = config.with_(**kw)
        try:
            config.validate()
        except SettingError as e:
            raise CSSError(path, str(e)) from None
    return ThetaFile(model=doc.get("model") or "", config=config, input=inp, layers=layers)


def _umask_mode() -> int:
    """0666 less the umask: what `open()` would have created (mkstemp makes 0600 files)."""
    old = os.umask(0)
    os.umask(old)
    return 0o666 & ~old


def atomic_write(path, text: str) -> None:
    """Temporary file in the same directory, fsync, rename, fsync of the directory: a failed
    write leaves the previous file intact."""
    path = Path(path)
    d = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=d)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, _umask_mode())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:
        dfd = os.open(d, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass


def write_theta(path, tf: ThetaFile) -> None:
    atomic_write(path, render(tf.json(), indent=2) + "\n")
