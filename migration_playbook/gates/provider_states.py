"""Provider states of the public-API pact, set up through the public API itself.

Because every handler only calls the provider's public endpoints (with the typed client),
the same verification works against the monolith, the proxy in front of it and the
extracted services. A state that cannot be reached on the provider as it is (for example
"no model trained yet" on a system that serves a model) raises ``StateUnreachable``: the
interaction fails with that reason, unless the caller excluded the state explicitly.

Another migration's pacts have states of their own: its topology names a factory with the
signature of ``public_api_states`` (``kit.provider_states``) whose object has the shape of
``StateHandler``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Protocol

from contracts import pacts
from contracts.client import ApiClient, NotFound
from contracts.registry import RunStatus, TrainingRunRequest
from contracts.transactions import MAX_BATCH_SIZE, Transaction
from datagen import DriftKnob, generate

logger = logging.getLogger(__name__)

#: Labelled rows seeded when a state needs training data (the monolith needs 200).
DEFAULT_SEED_ROWS = 600
_SEED = 4242
_FRAUD_RATE = 0.08


class StateUnreachable(RuntimeError):
    """The provider cannot be put into the requested state through its public API."""


class StateHandler(Protocol):
    """What the contracts gate needs of whatever sets a provider's states up."""

    @property
    def known(self) -> frozenset[str]:
        """Every state it can set up."""
        ...

    @property
    def fresh(self) -> frozenset[str]:
        """States only a provider that never ran can be in (replayed first, and excluded
        on a live system); may be empty."""
        ...

    def setup(self, state: str, params: Mapping[str, Any] | None) -> dict[str, Any]:
        """Put the provider into ``state`` (``StateUnreachable`` when it cannot); the
        values the pact injects (``fromProviderState``)."""
        ...


#: ``factory(base_url, headers)``: a context manager giving the provider's ``StateHandler``.
StatesFactory = Callable[[str, Mapping[str, str]], AbstractContextManager[StateHandler]]


class ProviderStates:
    """Sets up each named provider state; returns the values the pact injects (ids)."""

    def __init__(
        self,
        client: ApiClient,
        *,
        seed_rows: int = DEFAULT_SEED_ROWS,
        training_timeout_s: float = 180.0,
    ) -> None:
        self._client = client
        self._seed_rows = seed_rows
        self._training_timeout_s = training_timeout_s
        self._seeded = False
        self._handlers: dict[str, Callable[[Mapping[str, Any]], dict[str, Any]]] = {
            pacts.MODEL_SERVING: lambda _: self._model_serving(),
            pacts.PREDICTION_EXISTS: self._prediction_exists,
            pacts.PREDICTIONS_MADE: self._predictions_made,
            pacts.TRAINING_RUN_EXISTS: lambda _: self._training_run_exists(),
            pacts.ENOUGH_DATA: lambda _: self._enough_data(),
            pacts.TRANSACTION_STORED: self._transaction_stored,
            pacts.NO_MODEL: lambda _: self._no_model(),
            pacts.NOT_ENOUGH_DATA: lambda _: self._not_enough_data(),
        }

    @property
    def known(self) -> frozenset[str]:
        """Every state this class can set up."""
        return frozenset(self._handlers)

    @property
    def fresh(self) -> frozenset[str]:
        return pacts.FRESH_PROVIDER_STATES

    def setup(self, state: str, params: Mapping[str, Any] | None) -> dict[str, Any]:
        """Put the provider into ``state``; the result feeds ``fromProviderState`` values."""
        if state == "":
            return {}
        handler = self._handlers.get(state)
        if handler is None:
            raise StateUnreachable(f"no handler for provider state {state!r}")
        logger.info("setting up provider state %r", state)
        return handler(params or {})

    # -- states -------------------------------------------------------------------------
    def _model_serving(self) -> dict[str, Any]:
        try:
            return {"model_version": self._client.current_model().version}
        except NotFound:
            pass
        self._enough_data()
        run = self._client.start_training_run(TrainingRunRequest(promote=True))
        run = self._client.wait_for_training_run(run.run_id, timeout=self._training_timeout_s)
        if run.status is not RunStatus.SUCCEEDED or run.model_version is None:
            raise StateUnreachable(f"the training run for {pacts.MODEL_SERVING!r} failed: {run}")
        return {"model_version": self._client.current_model().version}

    def _enough_data(self) -> dict[str, Any]:
        if not self._seeded:
            rows = generate(
                self._seed_rows,
                seed=_SEED,
                drift=DriftKnob(fraud_rate=_FRAUD_RATE),
                id_prefix="pact-seed",
            )
            for start in range(0, len(rows), MAX_BATCH_SIZE):
                self._client.ingest(rows[start : start + MAX_BATCH_SIZE])
            self._seeded = True
        return {}

    def _training_run_exists(self) -> dict[str, Any]:
        self._enough_data()
        run = self._client.start_training_run(TrainingRunRequest(epochs=1, promote=False))
        return {"run_id": run.run_id}

    def _prediction_exists(self, params: Mapping[str, Any]) -> dict[str, Any]:
        self._model_serving()
        transaction = Transaction.model_validate(params["transaction"], strict=False)
        prediction = self._client.score(transaction)
        return {"prediction_id": prediction.prediction_id}

    def _predictions_made(self, params: Mapping[str, Any]) -> dict[str, Any]:
        self._model_serving()
        count = int(params.get("count", 60))
        rows = generate(count, seed=_SEED + 1, id_prefix="pact-recent")
        for start in range(0, len(rows), MAX_BATCH_SIZE):
            self._client.score_batch(rows[start : start + MAX_BATCH_SIZE])
        return {}

    def _transaction_stored(self, params: Mapping[str, Any]) -> dict[str, Any]:
        transaction = Transaction.model_validate(params["transaction"], strict=False)
        self._client.ingest(transaction)
        return {}

    def _no_model(self) -> dict[str, Any]:
        try:
            current = self._client.current_model()
        except NotFound:
            return {}
        raise StateUnreachable(
            f"{pacts.NO_MODEL!r} needs a provider that never trained a model, but version "
            f"{current.version} serves; verify against a fresh provider or exclude the state"
        )

    def _not_enough_data(self) -> dict[str, Any]:
        # The public API cannot count labelled rows; a provider that never trained a model
        # is the closest observable precondition (a fresh deployment).
        listing = self._client.list_models()
        if listing.models:
            raise StateUnreachable(
                f"{pacts.NOT_ENOUGH_DATA!r} needs a provider that never trained a model, but "
                f"it has {len(listing.models)} version(s); verify against a fresh provider "
                "or exclude the state"
            )
        return {}


@contextmanager
def public_api_states(
    base_url: str, headers: Mapping[str, str], *, seed_rows: int = DEFAULT_SEED_ROWS
) -> Iterator[ProviderStates]:
    """The bundled public API's states, set up through ``base_url`` (the default factory)."""
    with ApiClient(base_url, headers=dict(headers)) as client:
        yield ProviderStates(client, seed_rows=seed_rows)
