"""Exponential reconnect backoff with jitter, shared by every client in this package."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass
class Backoff:
    """``initial_s`` doubling up to ``max_s``, with +-20 % jitter; ``reset()`` on success."""

    initial_s: float = 0.2
    max_s: float = 5.0
    _attempt: int = 0

    def next_delay(self) -> float:
        base: float = min(self.initial_s * float(2**self._attempt), self.max_s)
        self._attempt += 1
        return base * random.uniform(0.8, 1.2)

    def reset(self) -> None:
        self._attempt = 0
