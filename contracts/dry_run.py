"""The dry-run contract: how a caller asks a service to answer without side effects.

A shadow copy (the strangler proxy's, for a non-idempotent method) and a probe (the kit's
closed-loop gate) must not change what the system holds: a decision no client received in
an audit log, or a transaction counted twice, corrupts the very data the migration is
checked against. A request carrying ``X-Dry-Run: true`` is therefore handled as usual
(parsed, validated, computed, answered with the same status and body) but **writes nothing
to any store and publishes nothing**; the answer carries ``X-Dry-Run: true`` to say the
contract was honoured. A service that does not answer with that header did not honour it.

Only a service whose topology process declares the ``dry_run`` capability may be named a
``dry_run: true`` upstream (``kit phase lint`` refuses the others), and only such an
upstream may receive shadowed non-idempotent requests (the proxy's route-table lint).
"""

from __future__ import annotations

from collections.abc import Mapping

#: The request header (and the answer's, when honoured).
DRY_RUN_HEADER = "X-Dry-Run"
#: Its value on a request that asks for a dry run, and on an answer that honoured it.
DRY_RUN_VALUE = "true"
#: The capability a topology process declares when it honours the contract.
DRY_RUN_CAPABILITY = "dry_run"


def is_dry_run(value: str | None) -> bool:
    """Whether a request header value asks for a dry run (``true`` or ``1``, any case)."""
    return value is not None and value.strip().lower() in ("true", "1")


def honoured(headers: Mapping[str, str]) -> bool:
    """Whether an answer's headers say the dry run was honoured (case-insensitive names)."""
    for name, value in headers.items():
        if name.lower() == DRY_RUN_HEADER.lower():
            return value.strip().lower() == DRY_RUN_VALUE
    return False
