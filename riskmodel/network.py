"""The risk-scoring network: a small MLP that carries its own input standardisation.

Keeping the feature means and scales inside the module as buffers means a saved model is
self-contained: whoever loads it feeds the raw feature-spec vector and gets the same logit.
"""

from __future__ import annotations

import torch
from torch import nn

from contracts.features import N_FEATURES


class RiskNet(nn.Module):
    """Raw feature vector -> fraud logit, shape ``(n, 1)``."""

    mean: torch.Tensor
    scale: torch.Tensor

    def __init__(self, n_features: int = N_FEATURES, hidden: int = 32) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(n_features))
        self.register_buffer("scale", torch.ones(n_features))
        self.layers = nn.Sequential(
            nn.Linear(n_features, hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden // 2),
            nn.ReLU(),
            nn.Linear(hidden // 2, 1),
        )

    def set_standardisation(self, mean: torch.Tensor, scale: torch.Tensor) -> None:
        """Fix the input standardisation from the training data."""
        self.mean.copy_(mean)
        self.scale.copy_(torch.where(scale > 1e-6, scale, torch.ones_like(scale)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits: torch.Tensor = self.layers((x - self.mean) / self.scale)
        return logits
