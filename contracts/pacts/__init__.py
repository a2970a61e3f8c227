"""The committed pact files, and the names both sides of a pact must agree on.

Consumer tests (``tests/contract/``) write the pacts; the provider verification
(``migration_playbook.gates.contracts``) replays them against any provider URL and sets up
each provider state below through the public API.
"""

from pathlib import Path

PACT_DIR = Path(__file__).parent

#: The HTTP pact: the kit's typed client (``contracts.client``) against the public API v1,
#: whoever serves it (monolith, proxy, extracted services).
API_CONSUMER = "api-client"
API_PROVIDER = "public-api-v1"

# Provider states. Each is set up by a handler that only uses the public API, so that the
# same verification runs against any deployment.
MODEL_SERVING = "a model is serving"
PREDICTION_EXISTS = "a prediction exists"
PREDICTIONS_MADE = "recent predictions were made"
TRAINING_RUN_EXISTS = "a training run exists"
ENOUGH_DATA = "enough labelled transactions to train"
TRANSACTION_STORED = "a transaction is stored"
NO_MODEL = "no model trained yet"
NOT_ENOUGH_DATA = "not enough labelled transactions to train"

ALL_STATES: frozenset[str] = frozenset(
    {
        MODEL_SERVING,
        PREDICTION_EXISTS,
        PREDICTIONS_MADE,
        TRAINING_RUN_EXISTS,
        ENOUGH_DATA,
        TRANSACTION_STORED,
        NO_MODEL,
        NOT_ENOUGH_DATA,
    }
)

#: States that only a provider which has never trained a model can be in. On a live,
#: shared system they cannot be reached; the verification must be told to exclude them
#: (and reports them as excluded), or it fails on them.
FRESH_PROVIDER_STATES: frozenset[str] = frozenset({NO_MODEL, NOT_ENOUGH_DATA})


def api_pact_path() -> Path:
    """The committed HTTP pact file."""
    return PACT_DIR / f"{API_CONSUMER}-{API_PROVIDER}.json"
