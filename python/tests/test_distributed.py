"""`torchrun --nproc_per_node 2 -m cssdbg_torch eval` prints what one process prints (gloo, CPU):
every sample once, counts and residuals combined so the percentiles are the whole set's, and the
css-spec §10–§12 fields (anytime, settled, MACs, synaptic operations; with --attribution the
decoupled and exact-prefix runs) from summed counts and per-sample predictions."""

import os
import shutil
import sys
from pathlib import Path

import pytest

from conftest import SAMPLES, run


def torchrun() -> list:
    exe = Path(sys.executable).with_name("torchrun")
    if exe.exists():
        return [str(exe)]
    found = shutil.which("torchrun")
    return [found] if found else [sys.executable, "-m", "torch.distributed.run"]


def one_and_two(args):
    one = run([sys.executable, "-m", "cssdbg_torch", "eval", "--json", *args]).stdout
    two = run(torchrun() + ["--nproc_per_node", "2", "--master_port", str(29500 + os.getpid() % 1000),
                            "-m", "cssdbg_torch", "eval", "--json", *args])
    return one, two.stdout


@pytest.mark.parametrize("sample,extra", [
    ("digits-cnn", ["--batch", "25"]),                       # 15 batches, the last one short
    ("digits-resnet", ["--limit", "77", "--batch", "16", "--silent", "0"]),
])
def test_two_processes_print_what_one_prints(sample, extra):
    one, two = one_and_two([str(SAMPLES / sample), *extra])
    assert one.count("\n") == 1 and two.count("\n") == 1, "one JSON line, printed by rank 0 only"
    assert two == one


@pytest.mark.parametrize("sample,extra", [
    ("digits-cnn", ["--limit", "70", "--batch", "16"]),       # labels: accuracy basis
    ("coupling", []),                                         # no labels: agreement basis, one process idle
])
def test_attribution_two_processes_print_what_one_prints(sample, extra):
    """--attribution's per-sample predictions (decoupled, exact prefix, culprits) and the §11–§12
    counts merge to the one-process numbers, byte for byte."""
    one, two = one_and_two([str(SAMPLES / sample), "--attribution", *extra])
    assert '"culprit_basis"' in one and '"anytime_accuracy"' in one and '"synaptic_ops"' in one
    assert two == one


def test_more_processes_than_batches():
    one, two = one_and_two([str(SAMPLES / "digits-mlp"), "--limit", "10", "--batch", "64"])
    assert two == one
