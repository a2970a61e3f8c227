"""Model artifacts on local disk: one folder per version.

A folder holds the network's weights, the reference distribution (features and scores)
used by drift monitoring, and a ``meta.json`` that a person can read; the file names are
the data contract ``contracts.stores.model_artifacts``. The monolith keeps its versions so,
and the kit's model export reads them back without importing the monolith.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch

from contracts.stores.model_artifacts import META, REFERENCE_FEATURES, REFERENCE_SCORES, WEIGHTS
from riskmodel.network import RiskNet
from riskmodel.trainer import TrainingResult


@dataclass(frozen=True)
class LoadedModel:
    """A model ready to score, with its reference distribution."""

    version: int
    network: RiskNet
    reference_features: npt.NDArray[np.float32]
    reference_scores: npt.NDArray[np.float32]


def save(folder: Path, result: TrainingResult, meta: dict[str, Any]) -> None:
    """Write an artifact folder (it must not exist yet: versions are immutable)."""
    folder.mkdir(parents=True, exist_ok=False)
    torch.save(result.model.state_dict(), folder / WEIGHTS)
    np.save(folder / REFERENCE_FEATURES, result.reference_features)
    np.save(folder / REFERENCE_SCORES, result.reference_scores)
    (folder / META).write_text(json.dumps(meta, indent=2, default=str))


def load(folder: Path, version: int) -> LoadedModel:
    """Read an artifact folder back into a scoring-ready model."""
    network = RiskNet()
    network.load_state_dict(torch.load(folder / WEIGHTS, weights_only=True))
    network.eval()
    return LoadedModel(
        version=version,
        network=network,
        reference_features=np.load(folder / REFERENCE_FEATURES),
        reference_scores=np.load(folder / REFERENCE_SCORES),
    )
