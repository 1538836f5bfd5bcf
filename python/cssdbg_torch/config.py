"""The conversion settings of docs/numerics.md §1 and §5."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from .errors import SettingError


@dataclass(frozen=True)
class Config:
    """T coding steps, amplification β, silent period L, ternary spikes, calibration percentile."""

    T: int = 10
    beta: float = 1.5
    silent: int = 1
    negative: bool = True
    percentile: float = 99.99

    @staticmethod
    def rate(T: int, percentile: float = 99.99) -> "Config":
        """Rate coding is the same code with β = 1, L = 0 and no negative spikes (§5)."""
        return Config(T=T, beta=1.0, silent=0, negative=False, percentile=percentile)

    def with_(self, **kw) -> "Config":
        return replace(self, **{k: v for k, v in kw.items() if v is not None})

    @property
    def slot_weights(self) -> list[float]:
        """w_i = β^(T-1-i) (§1)."""
        return [self.beta ** (self.T - 1 - i) for i in range(self.T)]

    @property
    def sum_weights(self) -> float:
        return sum(self.slot_weights)

    @property
    def window(self) -> int:
        return self.T + self.silent

    @property
    def reset(self) -> float:
        """β^L: a spike resets by 2v (§5)."""
        return self.beta ** self.silent

    @property
    def threshold(self) -> float:
        """β^L/2 with ternary spikes, β^L (full) without (§5)."""
        return self.reset / 2 if self.negative else self.reset

    def validate(self) -> "Config":
        """The ranges cssdbg supports, with cssdbg's messages."""
        if not (isinstance(self.T, int) and 1 <= self.T <= 64):
            raise SettingError(f"T must be between 1 and 64, got {self.T}")
        if not (math.isfinite(self.beta) and 1 <= self.beta <= 4):
            raise SettingError(f"beta must be between 1 and 4, got {_num(self.beta)}")
        if not (isinstance(self.silent, int) and 0 <= self.silent <= 16):
            raise SettingError(f"silent period L must be between 0 and 16, got {self.silent}")
        if not (self.percentile > 0 and self.percentile <= 100):
            raise SettingError(f"percentile must be in (0, 100], got {_num(self.percentile)}")
        return self

    def json(self) -> dict:
        return {"T": self.T, "beta": float(self.beta), "silent": self.silent, "negative": self.negative,
                "percentile": float(self.percentile)}


def _num(d: float) -> str:
    return str(int(d)) if math.isfinite(d) and d == round(d) else repr(d)
