"""Exercise 6: add a field to an event without breaking the services that consume it.

The inference team wants ``prediction_logged`` to carry how long each decision took
(``latency_ms``). A colleague's proposal of the new schema adds the field, but on the way
renames the record's ``score`` to ``risk_score`` and gives ``decision`` a new value
``hold``: monitoring (and any consumer written against v1) reads ``score`` and switches on
the three decisions it knows. The participant makes the proposal an additive change. The
grader uses the kit's own compatibility check (``contracts/compat.py``, what `kit contracts
compat` runs on the committed schemas) and the consumers' message pacts: every example
event a consumer's pact holds, with ``latency_ms`` added as the producer would send it,
must validate against the proposal.

Nothing has to run: the exercise works on files (``<workdir>/workshop/6/``), so a room can
do it while another exercise's stack is starting.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema_rs

from contracts.compat import compare_event_schema
from contracts.events.schemas import event_schemas, schema_filename
from contracts.pacts import PACT_DIR
from migration_playbook.context import KitContext
from migration_playbook.workshop import files
from migration_playbook.workshop.model import Audience, Exercise, Verdict

NUMBER = 6
EVENT = "prediction_logged"
NEW_FIELD = "latency_ms"
EXAMPLE_LATENCY_MS = 12.5


def _paths(ctx: KitContext) -> tuple[Path, Path]:
    """(the committed schema, the proposal to edit) in the exercise's folder."""
    folder = files.folder(ctx, NUMBER)
    name = schema_filename(EVENT)
    return folder / "baseline" / name, folder / "proposed" / name


def baseline_schema() -> dict[str, Any]:
    """The event's schema as the contract models generate it (the committed file)."""
    return copy.deepcopy(event_schemas()[schema_filename(EVENT)])


def _with_new_field(schema: dict[str, Any]) -> dict[str, Any]:
    schema["properties"][NEW_FIELD] = {
        "description": "How long the decision took, in milliseconds.",
        "minimum": 0,
        "title": "Latency Ms",
        "type": "number",
    }
    return schema


def planted_proposal() -> dict[str, Any]:
    """The colleague's proposal: the new field, a renamed field and a new enum value."""
    schema = _with_new_field(baseline_schema())
    record = schema["$defs"]["PredictionRecord"]
    record["properties"]["risk_score"] = record["properties"].pop("score")
    record["required"] = ["risk_score" if f == "score" else f for f in record["required"]]
    schema["$defs"]["Decision"]["enum"].append("hold")
    return schema


def solved_proposal() -> dict[str, Any]:
    """The reference answer: the field added, everything else as it was."""
    return _with_new_field(baseline_schema())


def _write(path: Path, document: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n")


def start(ctx: KitContext) -> str:
    baseline, proposed = _paths(ctx)
    _write(baseline, baseline_schema())
    _write(proposed, planted_proposal())
    return (
        f"the committed schema of {EVENT} is {baseline}\n"
        f"a colleague's proposal that adds {NEW_FIELD} is {proposed}\n"
        f"Make the proposal a change no consumer of {EVENT} notices, keeping {NEW_FIELD}."
    )


def _consumer_examples() -> list[tuple[str, dict[str, Any]]]:
    """(consumer, example event) from every message pact that holds this event."""
    examples = []
    for path in sorted(PACT_DIR.glob("*.json")):
        pact = json.loads(path.read_text())
        for interaction in pact.get("interactions", []):
            content = (interaction.get("contents") or {}).get("content")
            if isinstance(content, dict) and content.get("event_type") == EVENT:
                examples.append((pact["consumer"]["name"], content))
    return examples


def check(ctx: KitContext) -> Verdict:
    verdict = Verdict()
    _, proposed_path = _paths(ctx)
    if not verdict.expect(
        proposed_path.is_file(),
        f"the proposal is at {proposed_path}",
        f"no proposal at {proposed_path}: run `kit workshop start {NUMBER}` first",
    ):
        return verdict
    try:
        proposal = json.loads(proposed_path.read_text())
    except json.JSONDecodeError as exc:
        verdict.missing(f"the proposal is not JSON: {exc}")
        return verdict
    if not verdict.expect(
        isinstance(proposal, dict) and isinstance(proposal.get("properties"), dict),
        "the proposal is a JSON Schema of an object",
        "the proposal is not a JSON Schema of an object (no properties)",
    ):
        return verdict
    try:
        validator = jsonschema_rs.validator_for(proposal)
    except (ValueError, jsonschema_rs.ValidationError) as exc:
        verdict.missing(f"the proposal is not a valid JSON Schema: {exc}")
        return verdict

    added = proposal["properties"].get(NEW_FIELD)
    verdict.expect(
        isinstance(added, dict) and added.get("type") in ("number", "integer"),
        f"{NEW_FIELD} is added as a number",
        f"the proposal no longer adds {NEW_FIELD} as a number: the change is the point",
    )
    breaking = compare_event_schema(schema_filename(EVENT), baseline_schema(), proposal)
    for change in breaking:
        where = change.field or "(the event)"
        verdict.missing(f"breaking for a consumer: {where}: {change.reason}")
    if not breaking:
        verdict.ok("the compatibility check finds no breaking change against the committed schema")

    examples = _consumer_examples()
    verdict.expect(
        bool(examples),
        f"{len(examples)} consumer pact(s) hold a {EVENT} example",
        f"no message pact holds a {EVENT} example (contracts/pacts/)",
    )
    for consumer, example in examples:
        sent = {**example, NEW_FIELD: EXAMPLE_LATENCY_MS}
        errors = [error.message for error in validator.iter_errors(sent)]
        verdict.expect(
            not errors,
            f"{consumer}'s pact example, with {NEW_FIELD}, validates against the proposal",
            f"{consumer}'s pact example, with {NEW_FIELD}, breaks the proposal: "
            + "; ".join(errors[:3]),
        )
    return verdict


def solve(ctx: KitContext) -> str:
    _, proposed = _paths(ctx)
    _write(proposed, solved_proposal())
    return f"wrote the additive proposal to {proposed}"


EXERCISE = Exercise(
    number=NUMBER,
    slug="event-field",
    title="Add a field to an event without breaking its consumers",
    audience=Audience.TEAM,
    minutes=20,
    goal=(
        f"The inference team wants {EVENT} to carry each decision's {NEW_FIELD}. A "
        "colleague's proposal of the new schema adds it, and changes a few other things on "
        "the way. Make the proposal a change that no consumer notices, keeping the new "
        "field: the kit's compatibility check and the consumers' message pacts decide."
    ),
    hints=(
        "`kit workshop check 6` lists every breaking change by field; `contracts/README.md` "
        "says which changes are allowed within v1 (additive only).",
        "A consumer reads events: a field it reads may not disappear or be renamed, and a "
        "value it switches on may not gain a new member. A new field is fine: readers are "
        "tolerant (`Event.from_message` ignores unknown fields).",
        "Keep `score` (a new name can be added beside it, never instead of it), drop the "
        "`hold` decision (a new value is a v2 event), keep `latency_ms`.",
    ),
    start=start,
    check=check,
    solve=solve,
    reset=start,
)
