"""The monolith's application factory."""

from __future__ import annotations

import torch
from flask import Flask

from legacy_monolith.api import models, monitoring, ops, predictions, transactions
from legacy_monolith.api.services import Services
from legacy_monolith.db import Database
from legacy_monolith.domain.registry import ModelRegistry
from legacy_monolith.domain.training import TrainingService
from legacy_monolith.observability import Metrics, init_app
from legacy_monolith.settings import Settings
from service_runtime.problems_flask import install_problem_handlers

MAX_BODY_BYTES = 4 * 1024 * 1024


def create_app(settings: Settings | None = None) -> Flask:
    """Build a monolith: database, model registry, training worker, blueprints.

    The schema is migrated here when ``migrate_on_start`` is set (the default for the
    command line), never inside a request.
    """
    settings = settings or Settings()
    torch.set_num_threads(settings.torch_threads)
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.json.sort_keys = False  # type: ignore[attr-defined]

    db = Database(settings.database_url)
    if settings.migrate_on_start:
        db.migrate()
    metrics = Metrics()
    registry = ModelRegistry(db, settings.model_dir)
    registry.load_serving()
    if (serving := registry.serving()) is not None:
        metrics.model_version.set(serving.version)
    training = TrainingService(db, registry, metrics, settings.min_training_rows)
    app.extensions["monolith"] = Services(settings, db, metrics, registry, training)

    install_problem_handlers(app)
    init_app(app, metrics)
    for blueprint in (transactions.bp, predictions.bp, models.bp, monitoring.bp, ops.bp):
        app.register_blueprint(blueprint)
    return app
