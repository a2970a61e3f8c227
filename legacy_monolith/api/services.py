"""The monolith's collaborators, built once per application and reached from views."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from legacy_monolith.db import Database
from legacy_monolith.domain.registry import ModelRegistry
from legacy_monolith.domain.training import TrainingService
from legacy_monolith.observability import Metrics
from legacy_monolith.settings import Settings


@dataclass
class Services:
    """Everything a view needs; stored in ``app.extensions['monolith']``."""

    settings: Settings
    db: Database
    metrics: Metrics
    registry: ModelRegistry
    training: TrainingService


def services() -> Services:
    """The current application's services."""
    found: Services = current_app.extensions["monolith"]
    return found
