"""The helpdesk's traffic for the kit's steps (the topology's ``kit.traffic``): customers
filing tickets and reading them back, through the proxy, on the kit's open-model schedule.

One request in four files a ticket; the others read a ticket filed earlier (seeded or in
this run), each with its customer's ``X-Customer-Id`` (the canary's sticky key).
"""

from __future__ import annotations

import asyncio
import random
import threading
import time

import httpx

from migration_playbook.traffic import TrafficReport, open_model

_CREATE_EVERY = 4


async def _drive(
    base_url: str,
    rate_per_s: float,
    duration_s: float,
    seed: int,
    token: str | None,
    id_prefix: str,
    stop: threading.Event | None,
) -> TrafficReport:
    rng = random.Random(seed)
    report = TrafficReport()
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=10.0) as client:
        listing = await client.get("/api/tickets", params={"limit": 100})
        listing.raise_for_status()
        known = [(t["id"], t["customer_id"]) for t in listing.json()["tickets"]]

        async def send(index: int) -> None:
            started = time.perf_counter()
            create = index % _CREATE_EVERY == 0 or not known
            customer = f"{id_prefix}-cust-{rng.randrange(20)}"
            try:
                if create:
                    response = await client.post(
                        "/api/tickets",
                        json={"customer_id": customer, "subject": f"{id_prefix} {index}"},
                        headers={"X-Customer-Id": customer},
                    )
                else:
                    ticket_id, customer = rng.choice(known)
                    response = await client.get(
                        f"/api/tickets/{ticket_id}", headers={"X-Customer-Id": customer}
                    )
            except httpx.HTTPError as exc:
                report.failed += 1
                report.by_outcome[type(exc).__name__] += 1
                report.errors.append(f"{type(exc).__name__}: {exc}")
                return
            finally:
                report.latencies_ms.append((time.perf_counter() - started) * 1000)
            if response.is_success:
                report.ok += 1
                report.by_outcome["create ok" if create else "read ok"] += 1
                if create:
                    known.append((response.json()["id"], customer))
            else:
                report.failed += 1
                report.by_outcome[f"HTTP {response.status_code}"] += 1
                if len(report.errors) < 20:
                    report.errors.append(f"HTTP {response.status_code}: {response.text[:200]}")

        report.sent = await open_model(rate_per_s, duration_s, send, stop=stop)
    return report


def drive(
    base_url: str,
    *,
    rate_per_s: float,
    duration_s: float,
    seed: int = 100,
    token: str | None = None,
    id_prefix: str = "traffic",
    stop: threading.Event | None = None,
    **_bundled: object,
) -> TrafficReport:
    """Send the helpdesk's traffic; the bundled generator's knobs (``predictions_share``,
    ``drift``) do not apply to it and are ignored."""
    return asyncio.run(_drive(base_url, rate_per_s, duration_s, seed, token, id_prefix, stop))
