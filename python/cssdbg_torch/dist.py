"""Many processes (`torchrun --nproc_per_node N`): which batches each one simulates and how
their statistics meet (gloo on CPU, nccl on CUDA)."""

from __future__ import annotations

import os

import numpy as np
import torch
import torch.distributed as dist


class Comm:
    """The process group torchrun describes in RANK / WORLD_SIZE / MASTER_ADDR."""

    def __init__(self, device: str):
        self.device = torch.device(device)
        if self.device.type == "cuda":
            local = int(os.environ.get("LOCAL_RANK", "0"))
            self.device = torch.device("cuda", local)
            torch.cuda.set_device(self.device)
        backend = "nccl" if self.device.type == "cuda" else "gloo"
        if not dist.is_initialized():
            dist.init_process_group(backend=backend)
        self.rank, self.world = dist.get_rank(), dist.get_world_size()

    @staticmethod
    def wanted() -> bool:
        return int(os.environ.get("WORLD_SIZE", "1")) > 1

    def allreduce(self, a: np.ndarray) -> np.ndarray:
        t = torch.from_numpy(np.ascontiguousarray(a, dtype=np.int64)).to(self.device)
        dist.all_reduce(t, op=dist.ReduceOp.SUM)
        return t.cpu().numpy()

    def allgather(self, obj) -> list:
        out = [None] * self.world
        dist.all_gather_object(out, obj)
        return out

    def gather(self, obj):
        """Every process's `obj` on rank 0 (None elsewhere)."""
        out = self.allgather(obj)
        return out if self.rank == 0 else None

    def close(self) -> None:
        if dist.is_initialized():
            dist.destroy_process_group()
