"""Message pacts for ``transactions_ingested`` (pact-python 4.2 message API directly: the
contracts issue has no message-pact helper yet).

Consumer side: the legacy sync's real decoding and handler, writing into a real
(migrated) monolith database. Provider side: ingestion's real message builder, the one the
request path writes into the outbox. The pact file is committed under ``contracts/pacts``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pact import Pact, Verifier, match
from sqlalchemy import select

from contracts import pacts
from contracts.events import route_for
from contracts.transactions import Transaction
from eventbus import decode
from extracted_services.ingestion.messaging import transactions_ingested_message
from legacy_monolith.db import Database
from legacy_monolith.schema import TransactionRow, processed_events
from legacy_monolith.sync.handler import LegacySyncHandler

CONSUMER, PROVIDER = "legacy_sync", "ingestion"
DESCRIPTION = "a transactions_ingested event for a stored batch"
PACT_FILE = pacts.PACT_DIR / f"{CONSUMER}-{PROVIDER}.json"
RFC3339 = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"
TRACEPARENT = r"^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$"


def _transaction() -> dict[str, Any]:
    return {
        "transaction_id": match.str("tx-000001"),
        "account_id": match.str("acct-0042"),
        "amount": match.number(42.5),
        "currency": match.regex("EUR", regex=r"^[A-Z]{3}$"),
        "merchant_category": match.regex("5411", regex=r"^[0-9]{4}$"),
        "country": match.regex("DE", regex=r"^[A-Z]{2}$"),
        "channel": match.regex("pos", regex=r"^(web|pos|atm|mobile)$"),
        "timestamp": match.regex("2026-11-25T10:15:00+01:00", regex=RFC3339),
        "is_fraud": match.none(),
    }


def test_legacy_sync_consumes_the_event_it_expects(tmp_path: Path) -> None:
    pact = Pact(CONSUMER, PROVIDER).with_specification("V4")
    (
        pact.upon_receiving(DESCRIPTION, "Async")
        .with_body(
            {
                "event_id": match.str("0b6f1d7e-8a55-4c31-9b8e-5c2a4f0f3a10"),
                "event_type": "transactions_ingested",
                "occurred_at": match.regex("2026-11-25T10:15:01.5Z", regex=RFC3339),
                "schema_version": 1,
                "ingested_at": match.regex("2026-11-25T10:15:01.5Z", regex=RFC3339),
                "transactions": match.each_like(_transaction(), min=1),
            },
            "application/json",
        )
        .with_metadata(
            {
                "contentType": "application/json",
                "exchange": "ingestion.events",
                "routing_key": "transactions_ingested",
                "delivery_mode": 2,
                "event_id": match.str("0b6f1d7e-8a55-4c31-9b8e-5c2a4f0f3a10"),
                "event_type": "transactions_ingested",
                "schema_version": 1,
                "occurred_at": match.regex("2026-11-25T10:15:01.5+00:00", regex=RFC3339),
                "traceparent": match.regex(
                    "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", regex=TRACEPARENT
                ),
            }
        )
    )
    db = Database(f"sqlite:///{tmp_path / 'monolith.db'}")
    db.migrate()
    handler = LegacySyncHandler(db)
    seen: list[str] = []

    def consume(body: str | bytes | None, metadata: dict[str, object]) -> None:
        assert body is not None
        raw = body.encode() if isinstance(body, str) else body
        delivery = decode(
            route_for("transactions_ingested"),
            raw,
            content_type=str(metadata.get("contentType")),
            headers=metadata,
        )
        handler(delivery)
        seen.append(delivery.event_id)

    pact.verify(consume, "Async")
    with db.session() as session:
        rows = session.scalars(select(TransactionRow)).all()
        recorded = session.execute(select(processed_events.c.event_id)).scalars().all()
    assert [(r.transaction_id, r.amount, r.source) for r in rows] == [("tx-000001", 42.5, "sync")]
    assert recorded == seen
    db.dispose()
    pact.write_file(pacts.PACT_DIR, overwrite=True)


def test_ingestion_produces_what_legacy_sync_expects() -> None:
    def produce() -> dict[str, Any]:
        tx = Transaction.model_validate_json(
            json.dumps(
                {
                    "transaction_id": "tx-1",
                    "account_id": "acct-1",
                    "amount": 12.5,
                    "currency": "EUR",
                    "merchant_category": "5411",
                    "country": "DE",
                    "channel": "web",
                    "timestamp": "2026-11-25T10:15:00+01:00",
                }
            )
        )
        message = transactions_ingested_message([tx], datetime.now(UTC))
        return {
            "contents": message.body,
            "metadata": message.pact_metadata(),
            "content_type": message.content_type,
        }

    verifier = (
        Verifier(PROVIDER, host="127.0.0.1")
        .message_handler({DESCRIPTION: produce})
        .add_source(PACT_FILE)
    )
    try:
        verifier.verify()
    except RuntimeError as exc:  # pragma: no cover - the message says why
        raise AssertionError(verifier.output(strip_ansi=True)) from exc
