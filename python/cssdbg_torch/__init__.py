"""cssdbg-torch: from PyTorch to cssdbg and back.

- `write_bundle(model, out_dir, example_input, data=None, labels=None, calib=None, exporter="torchscript")`
  exports a model and its data so that `cssdbg out_dir` opens it.
- `CSSNetwork.from_bundle(path, theta=None, T=10, beta=1.5, silent=1, negative=True, percentile=99.99)`
  is a `torch.nn.Module` running the converted network (docs/numerics.md) with the statistics of
  `cssdbg eval --json`; `save_theta(path)` writes a `cssdbg-theta/1` file.
- `python -m cssdbg_torch eval MODEL [...] --json`, also under `torchrun --nproc_per_node N`.
"""

from .bundle import write_bundle
from .config import Config
from .errors import CSSError, SettingError
from .network import CSSNetwork
from .onnx_import import load_graph
from .theta import ThetaFile, read_theta, write_theta

__all__ = ["write_bundle", "CSSNetwork", "Config", "CSSError", "SettingError", "load_graph", "ThetaFile",
           "read_theta", "write_theta"]
__version__ = "0.1.0"
