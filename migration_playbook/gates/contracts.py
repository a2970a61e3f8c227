"""The contracts gate: verify the committed pacts against any provider URL.

Every phase gate calls :func:`verify_pacts` with the URL of what serves the public API at
that phase (the monolith, the proxy, an extracted service). Provider states are set up
through the public API by :class:`~migration_playbook.gates.provider_states.ProviderStates`,
served to Pact's verifier by a small local state-change endpoint that returns the values
the pact injects (``fromProviderState``: ids that only exist on that provider).

Interactions run in two passes: first those whose state needs a fresh provider (nothing
trained yet), then the rest, so a fresh deployment verifies completely in one call. On a
live, shared system pass ``exclude_fresh=True``: those interactions are then reported as
``excluded``, never as passed. Another migration's pacts come with their own states
(``states``, see ``StatesFactory``).
"""

from __future__ import annotations

import json
import logging
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pact import Verifier

from contracts import pacts
from contracts.client import ApiError
from migration_playbook.gates.provider_states import (
    DEFAULT_SEED_ROWS,
    StateHandler,
    StatesFactory,
    StateUnreachable,
    public_api_states,
)
from migration_playbook.gates.result import GateResult, Measurement, Outcome

logger = logging.getLogger(__name__)

InteractionVerdict = Literal["passed", "failed", "excluded"]


@dataclass(frozen=True)
class InteractionOutcome:
    """What happened to one interaction of one pact."""

    consumer: str
    description: str
    states: tuple[str, ...]
    outcome: InteractionVerdict
    error: str | None = None


@dataclass(frozen=True)
class VerificationResult:
    """The machine-readable result of one verification (``to_dict`` is JSON-ready)."""

    provider: str
    provider_url: str
    passed: bool
    interactions: tuple[InteractionOutcome, ...]
    excluded_states: tuple[str, ...]
    pact_files: tuple[str, ...]
    output: str
    errors: tuple[str, ...] = field(default_factory=tuple)
    duration_s: float = 0.0

    @property
    def counts(self) -> dict[str, int]:
        out = {"passed": 0, "failed": 0, "excluded": 0}
        for item in self.interactions:
            out[item.outcome] += 1
        return out

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["counts"] = self.counts
        return data

    def to_gate_result(self, gate: str = "pact") -> GateResult:
        """The same verdict in the shape every phase gate reports."""
        counts = self.counts
        measurements = [
            Measurement(
                name="interactions failed",
                value=counts["failed"],
                threshold="== 0",
                ok=counts["failed"] == 0,
            ),
            Measurement(
                name="interactions passed",
                value=counts["passed"],
                threshold="> 0",
                ok=counts["passed"] > 0,
            ),
            Measurement(
                name="interactions excluded",
                value=counts["excluded"],
                threshold="reported",
                ok=True,
            ),
        ]
        failed = [i.description for i in self.interactions if i.outcome == "failed"]
        summary = (
            f"{counts['passed']} passed, {counts['failed']} failed, {counts['excluded']} excluded"
            f" against {self.provider_url}"
            + (f"; failed: {', '.join(failed)}" if failed else "")
            + (f"; errors: {'; '.join(self.errors)}" if self.errors else "")
        )
        return GateResult(
            gate=gate,
            outcome=Outcome.PASS if self.passed else Outcome.FAIL,
            summary=summary,
            measurements=measurements,
            details=self.to_dict(),
            duration_s=self.duration_s,
        )


# -- the state-change endpoint --------------------------------------------------------


class _StateServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, states: StateHandler) -> None:
        super().__init__(("127.0.0.1", 0), _StateHandler)
        self.states = states
        self.lock = threading.Lock()  # one state change at a time
        #: State -> why its set-up failed. Pact's verifier retries a failing state change
        #: for minutes, so a failure is answered 200 and recorded here instead; every
        #: interaction in that state is then reported failed with this reason.
        self.failures: dict[str, str] = {}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/_pact/state"


class _StateHandler(BaseHTTPRequestHandler):
    server: _StateServer

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        length = int(self.headers.get("Content-Length") or 0)
        request = json.loads(self.rfile.read(length) or b"{}")
        state, action = request.get("state", ""), request.get("action", "setup")
        status, body = 200, {}
        if action == "setup":
            try:
                with self.server.lock:
                    body = self.server.states.setup(state, request.get("params"))
            except (StateUnreachable, ApiError, TimeoutError, KeyError, ValueError) as exc:
                logger.warning("provider state %r could not be set up: %s", state, exc)
                self.server.failures[state] = f"provider state {state!r} not set up: {exc}"
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        logger.debug("state endpoint: " + format, *args)


@contextmanager
def _state_endpoint(states: StateHandler) -> Iterator[_StateServer]:
    server = _StateServer(states)
    thread = threading.Thread(target=server.serve_forever, name="pact-states", daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


# -- verification ---------------------------------------------------------------------


def _load(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return document


def _states_of(interaction: dict[str, Any]) -> tuple[str, ...]:
    return tuple(s["name"] for s in interaction.get("providerStates", []))


def _write_subset(document: dict[str, Any], keep: list[dict[str, Any]], path: Path) -> None:
    path.write_text(json.dumps({**document, "interactions": keep}), encoding="utf-8")


def _run_pass(
    name: str,
    provider_url: str,
    pact_dir: Path,
    state_url: str,
    timeout_ms: int,
    headers: Mapping[str, str],
) -> tuple[bool, str, dict[str, Any]]:
    host = urlsplit(provider_url).hostname or "127.0.0.1"
    verifier = (
        Verifier(name, host=host)
        .add_transport(url=provider_url)
        .add_source(pact_dir)
        .state_handler(state_url, teardown=False, body=True)
        .set_request_timeout(timeout_ms)
        .set_coloured_output(enabled=False)
    )
    if headers:
        verifier.add_custom_headers(dict(headers))
    try:
        verifier.verify()
        ok = True
    except RuntimeError:
        ok = False
    return ok, verifier.output(strip_ansi=True), verifier.results


def verify_pacts(
    provider_url: str,
    *,
    pact_files: Sequence[Path] | None = None,
    provider: str = pacts.API_PROVIDER,
    exclude_states: Iterable[str] = (),
    exclude_fresh: bool = False,
    seed_rows: int = DEFAULT_SEED_ROWS,
    request_timeout_ms: int = 30_000,
    headers: Mapping[str, str] | None = None,
    states: StatesFactory | None = None,
) -> VerificationResult:
    """Replay the pacts of ``provider`` against ``provider_url`` and report per interaction.

    ``exclude_states`` names provider states whose interactions are not replayed (they are
    reported as ``excluded``), and ``exclude_fresh`` adds the states only a fresh provider
    can be in; the result passes only when every other interaction did. ``headers`` are
    added to every replayed request and to the state set-up calls (e.g. ``Authorization``
    for a proxy that checks a JWT at the edge). ``states`` sets the provider states up
    (default: the bundled public API's, seeded with ``seed_rows``).
    """
    started = time.monotonic()
    url = provider_url.rstrip("/")
    files = list(pact_files) if pact_files is not None else [pacts.api_pact_path()]
    factory = states if states is not None else partial(public_api_states, seed_rows=seed_rows)
    with factory(url, dict(headers or {})) as handler:
        excluded = frozenset(exclude_states) | (handler.fresh if exclude_fresh else frozenset())
        unknown = sorted(excluded - handler.known)
        if unknown:
            raise ValueError(f"unknown provider state(s) {unknown}; known: {sorted(handler.known)}")
        outcomes, outputs, errors = _verify_files(
            files, provider, url, excluded, handler, request_timeout_ms, headers or {}
        )
    passed = not errors and all(o.outcome != "failed" for o in outcomes)
    return VerificationResult(
        provider=provider,
        provider_url=url,
        passed=passed,
        interactions=tuple(outcomes),
        excluded_states=tuple(sorted(excluded)),
        pact_files=tuple(str(p) for p in files),
        output="\n".join(outputs),
        errors=tuple(errors),
        duration_s=round(time.monotonic() - started, 3),
    )


def _verify_files(
    files: Sequence[Path],
    provider: str,
    url: str,
    excluded: frozenset[str],
    handler: StateHandler,
    request_timeout_ms: int,
    headers: Mapping[str, str],
) -> tuple[list[InteractionOutcome], list[str], list[str]]:
    outcomes: list[InteractionOutcome] = []
    outputs: list[str] = []
    errors: list[str] = []
    with tempfile.TemporaryDirectory(prefix="pact-verify-") as tmp:
        passes: dict[str, list[tuple[dict[str, Any], list[dict[str, Any]]]]] = {
            "fresh": [],
            "main": [],
        }
        for path in files:
            document = _load(path)
            if document.get("provider", {}).get("name") != provider:
                continue
            fresh, main = [], []
            for interaction in document["interactions"]:
                states = _states_of(interaction)
                consumer = document["consumer"]["name"]
                if excluded.intersection(states):
                    outcomes.append(
                        InteractionOutcome(consumer, interaction["description"], states, "excluded")
                    )
                elif handler.fresh.intersection(states):
                    fresh.append(interaction)
                else:
                    main.append(interaction)
            passes["fresh"].append((document, fresh))
            passes["main"].append((document, main))
        if not any(keep for entries in passes.values() for _, keep in entries):
            errors.append(f"no interactions to verify for provider {provider!r} in {files}")
        with _state_endpoint(handler) as endpoint:
            outcomes.extend(_probe_fresh_states(endpoint.states, passes["fresh"]))
            for pass_name, entries in passes.items():
                if not any(keep for _, keep in entries):
                    continue
                folder = Path(tmp) / pass_name
                folder.mkdir()
                for index, (document, keep) in enumerate(entries):
                    if keep:
                        _write_subset(document, keep, folder / f"{index}.json")
                ok, output, results = _run_pass(
                    provider, url, folder, endpoint.url, request_timeout_ms, headers
                )
                outputs.append(output)
                outcomes.extend(_outcomes(entries, results, endpoint.failures))
                endpoint.failures.clear()
                if not ok and not results.get("interactionResults"):
                    errors.append(f"pass {pass_name!r} failed before replaying: {output[-2000:]}")
    return outcomes, outputs, errors


def _mismatch_text(error: dict[str, Any]) -> str:
    mismatch = error.get("mismatch", {})
    items = mismatch.get("mismatches") if isinstance(mismatch, dict) else None
    if items:
        return "; ".join(f"{m.get('path', '')}: {m.get('mismatch', m)}".strip() for m in items)
    if isinstance(mismatch, dict) and "message" in mismatch:
        return str(mismatch["message"])
    return json.dumps(mismatch)


def _errors_by_description(results: dict[str, Any], descriptions: set[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for error in results.get("errors", []):
        title = str(error.get("interaction", ""))
        for description in descriptions:
            if title.endswith(description):
                out[description] = _mismatch_text(error)
    return out


def _probe_fresh_states(
    states: StateHandler, entries: list[tuple[dict[str, Any], list[dict[str, Any]]]]
) -> list[InteractionOutcome]:
    """Check the fresh-provider states before replaying (their handlers only read).

    An unreachable one fails its interactions here, with the reason, and takes them out
    of the replay: failed, never skipped silently and never passed.
    """
    unreachable: dict[str, str] = {}
    for _, keep in entries:
        for interaction in keep:
            for state in _states_of(interaction):
                if state in states.fresh and state not in unreachable:
                    try:
                        states.setup(state, None)
                        unreachable[state] = ""
                    except (StateUnreachable, ApiError) as exc:
                        unreachable[state] = f"provider state {state!r} not set up: {exc}"
    out: list[InteractionOutcome] = []
    for index, (document, keep) in enumerate(entries):
        remaining = []
        for interaction in keep:
            reasons = [unreachable[s] for s in _states_of(interaction) if unreachable.get(s)]
            if reasons:
                out.append(
                    InteractionOutcome(
                        document["consumer"]["name"],
                        interaction["description"],
                        _states_of(interaction),
                        "failed",
                        "; ".join(reasons),
                    )
                )
            else:
                remaining.append(interaction)
        entries[index] = (document, remaining)
    return out


def _outcomes(
    entries: list[tuple[dict[str, Any], list[dict[str, Any]]]],
    results: dict[str, Any],
    state_failures: Mapping[str, str],
) -> list[InteractionOutcome]:
    by_description = {r["description"]: r for r in results.get("interactionResults", [])}
    mismatches = _errors_by_description(
        results, {i["description"] for _, keep in entries for i in keep}
    )
    out = []
    outcome: InteractionVerdict
    error: str | None
    for document, keep in entries:
        for interaction in keep:
            description = interaction["description"]
            found = by_description.get(description)
            failed_states = [
                state_failures[s] for s in _states_of(interaction) if s in state_failures
            ]
            if failed_states:
                outcome, error = "failed", "; ".join(failed_states)
            elif found is None:
                outcome = "failed"
                error = "the verifier did not report this interaction"
            elif found.get("result") == "OK":
                outcome, error = "passed", None
            else:
                outcome = "failed"
                error = mismatches.get(description) or json.dumps(found.get("result"))
            out.append(
                InteractionOutcome(
                    document["consumer"]["name"],
                    description,
                    _states_of(interaction),
                    outcome,
                    error,
                )
            )
    return out
