"""The compatibility check: is the generated contract a compatible change of the old one?

Within v1 only additive changes are allowed (``contracts/README.md`` has the policy). This
module compares two OpenAPI documents, or two event schemas, and lists every breaking
change with the field it concerns. Direction matters: what a client *sends* (request
bodies, parameters) may only get more permissive; what a client *reads* (responses,
events) may only get more specific or gain optional fields.

Breaking for inputs: a removed operation or accepted field, a new required field or
parameter, a removed type or enum value, a tighter bound (minimum, maximum, length, items,
pattern, multipleOf). Breaking for outputs: a removed or no-longer-required field, a new
type (e.g. ``null``) or enum value, a looser bound, a new success status.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

Direction = Literal["input", "output"]
Schema = Mapping[str, Any]

_LOWER_BOUNDS = ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties")
_UPPER_BOUNDS = ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties")
_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


@dataclass(frozen=True)
class BreakingChange:
    """One incompatible change: where (operation or event), which field, and why."""

    location: str
    field: str
    reason: str

    def __str__(self) -> str:
        where = f"{self.location}: " if self.location else ""
        name = f"`{self.field}` " if self.field else ""
        return f"{where}{name}{self.reason}"


class _Resolver:
    """Follows local ``$ref``s (``#/components/schemas/X`` or ``#/$defs/X``)."""

    def __init__(self, document: Schema) -> None:
        self._document = document

    def resolve(self, schema: Schema) -> tuple[Schema, str | None]:
        name = None
        seen = 0
        while "$ref" in schema and seen < 32:
            ref = str(schema["$ref"])
            if not ref.startswith("#/"):
                raise ValueError(f"only local $refs are supported, got {ref!r}")
            node: Any = self._document
            for part in ref[2:].split("/"):
                node = node[part]
            name = ref.rsplit("/", 1)[-1]
            schema = {**node, **{k: v for k, v in schema.items() if k != "$ref"}}
            seen += 1
        return schema, name


def _types(schema: Schema, resolver: _Resolver) -> set[str]:
    """The JSON types a schema admits (``anyOf``/``oneOf`` branches included)."""
    schema, _ = resolver.resolve(schema)
    branches = schema.get("anyOf") or schema.get("oneOf")
    if branches:
        out: set[str] = set()
        for branch in branches:
            out |= _types(branch, resolver)
        return out
    declared = schema.get("type")
    if isinstance(declared, list):
        return {str(t) for t in declared}
    if isinstance(declared, str):
        return {declared}
    if "const" in schema:
        return {_json_type(schema["const"])}
    if "enum" in schema:
        return {_json_type(v) for v in schema["enum"]}
    if "properties" in schema:
        return {"object"}
    return {"any"}


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _covers(types: set[str], wanted: str) -> bool:
    return "any" in types or wanted in types or (wanted == "integer" and "number" in types)


def _values(schema: Schema) -> set[str] | None:
    if "const" in schema:
        return {json.dumps(schema["const"])}
    if "enum" in schema:
        return {json.dumps(v) for v in schema["enum"]}
    return None


def _non_null(schema: Schema, resolver: _Resolver) -> list[Schema]:
    schema, _ = resolver.resolve(schema)
    branches = schema.get("anyOf") or schema.get("oneOf")
    if not branches:
        return [schema]
    out: list[Schema] = []
    for branch in branches:
        out.extend(b for b in _non_null(branch, resolver) if _types(b, resolver) != {"null"})
    return out


class _Comparer:
    def __init__(self, old_doc: Schema, new_doc: Schema, location: str) -> None:
        self.old = _Resolver(old_doc)
        self.new = _Resolver(new_doc)
        self.location = location
        self.found: list[BreakingChange] = []
        self._seen: set[tuple[int, int, str, str]] = set()

    def report(self, field: str, reason: str) -> None:
        self.found.append(BreakingChange(self.location, field or "(body)", reason))

    def compare(self, old: Schema, new: Schema, field: str, direction: Direction) -> None:
        key = (id(old), id(new), field, direction)
        if key in self._seen:
            return
        self._seen.add(key)
        old_r, _ = self.old.resolve(old)
        new_r, _ = self.new.resolve(new)
        self._compare_types(old_r, new_r, field, direction)
        self._compare_values(old_r, new_r, field, direction)
        self._compare_bounds(old_r, new_r, field, direction)
        old_branches = _non_null(old_r, self.old)
        new_branches = _non_null(new_r, self.new)
        if len(old_branches) == 1 and len(new_branches) == 1:
            self._compare_structure(old_branches[0], new_branches[0], field, direction)
            return
        for old_branch, new_branch in self._pair_branches(old_branches, new_branches):
            self._compare_structure(old_branch, new_branch, field, direction)

    def _pair_branches(
        self, old: list[Schema], new: list[Schema]
    ) -> Iterator[tuple[Schema, Schema]]:
        def label(schema: Schema, resolver: _Resolver) -> str:
            resolved, name = resolver.resolve(schema)
            return name or str(resolved.get("title", ""))

        new_by_label = {label(s, self.new): s for s in new}
        for branch in old:
            partner = new_by_label.get(label(branch, self.old))
            if partner is not None:
                yield self.old.resolve(branch)[0], self.new.resolve(partner)[0]

    def _compare_types(self, old: Schema, new: Schema, field: str, direction: Direction) -> None:
        old_types, new_types = _types(old, self.old), _types(new, self.new)
        if direction == "input":
            lost = sorted(t for t in old_types if not _covers(new_types, t))
            if lost:
                self.report(field, f"narrowed type: no longer accepts {', '.join(lost)}")
        else:
            gained = sorted(t for t in new_types if not _covers(old_types, t))
            if gained:
                self.report(field, f"widened type: may now be {', '.join(gained)}")

    def _compare_values(self, old: Schema, new: Schema, field: str, direction: Direction) -> None:
        old_values, new_values = _values(old), _values(new)
        if direction == "input" and old_values is not None:
            removed = old_values - (new_values if new_values is not None else old_values)
            if removed:
                self.report(
                    field, f"narrowed values: no longer accepts {', '.join(sorted(removed))}"
                )
        if direction == "output" and new_values is not None:
            added = new_values - (old_values if old_values is not None else new_values)
            if old_values is None:
                return
            if added:
                self.report(field, f"new values a reader does not know: {', '.join(sorted(added))}")

    def _compare_bounds(self, old: Schema, new: Schema, field: str, direction: Direction) -> None:
        def tighter(keyword: str, lower: bool) -> bool:
            if keyword not in new:
                return False
            if keyword not in old:
                return True
            return bool(new[keyword] > old[keyword]) if lower else bool(new[keyword] < old[keyword])

        def looser(keyword: str, lower: bool) -> bool:
            if keyword not in old:
                return False
            if keyword not in new:
                return True
            return bool(new[keyword] < old[keyword]) if lower else bool(new[keyword] > old[keyword])

        check = tighter if direction == "input" else looser
        word = "narrowed" if direction == "input" else "widened"
        for keyword in _LOWER_BOUNDS:
            if check(keyword, True):
                self.report(field, f"{word} {keyword}: {old.get(keyword)} -> {new.get(keyword)}")
        for keyword in _UPPER_BOUNDS:
            if check(keyword, False):
                self.report(field, f"{word} {keyword}: {old.get(keyword)} -> {new.get(keyword)}")
        for keyword in ("pattern", "multipleOf", "format"):
            before, after = old.get(keyword), new.get(keyword)
            changed = before != after
            if direction == "input" and changed and after is not None:
                self.report(field, f"narrowed {keyword}: {before!r} -> {after!r}")
            if direction == "output" and changed and before is not None:
                self.report(field, f"widened {keyword}: {before!r} -> {after!r}")

    def _compare_structure(
        self, old: Schema, new: Schema, field: str, direction: Direction
    ) -> None:
        old_props: Mapping[str, Any] = old.get("properties", {})
        new_props: Mapping[str, Any] = new.get("properties", {})
        old_required = set(old.get("required", []))
        new_required = set(new.get("required", []))
        prefix = f"{field}." if field else ""
        if direction == "input":
            closed = new.get("additionalProperties") is False
            for name in old_props:
                if name not in new_props and closed:
                    self.report(prefix + name, "removed field: requests that send it are refused")
            for name in sorted(new_required - old_required):
                self.report(prefix + name, "new required input")
        else:
            for name in old_props:
                if name not in new_props:
                    self.report(prefix + name, "removed field")
                elif name in old_required and name not in new_required:
                    self.report(prefix + name, "no longer always present")
        for name in old_props:
            if name in new_props:
                self.compare(old_props[name], new_props[name], prefix + name, direction)
        if "items" in old and "items" in new:
            self.compare(old["items"], new["items"], f"{field}[]", direction)


# -- OpenAPI --------------------------------------------------------------------------


def _operations(document: Schema) -> dict[str, Schema]:
    out: dict[str, Schema] = {}
    for path, item in document.get("paths", {}).items():
        for method in _METHODS:
            if method in item:
                out[f"{method.upper()} {path}"] = item[method]
    return out


def compare_openapi(old: Schema, new: Schema) -> list[BreakingChange]:
    """Every breaking change from ``old`` to ``new`` (two OpenAPI 3.1 documents)."""
    found: list[BreakingChange] = []
    old_ops, new_ops = _operations(old), _operations(new)
    for name, old_op in old_ops.items():
        new_op = new_ops.get(name)
        if new_op is None:
            found.append(BreakingChange(name, "", "operation removed"))
            continue
        found.extend(_compare_operation(name, old_op, new_op, old, new))
    return found


def _params(operation: Schema) -> dict[tuple[str, str], Schema]:
    return {(p["in"], p["name"]): p for p in operation.get("parameters", [])}


def _compare_operation(
    name: str, old_op: Schema, new_op: Schema, old_doc: Schema, new_doc: Schema
) -> list[BreakingChange]:
    comparer = _Comparer(old_doc, new_doc, name)
    old_params, new_params = _params(old_op), _params(new_op)
    for key, param in old_params.items():
        if key not in new_params:
            comparer.report(f"{key[0]} parameter {key[1]}", "parameter removed")
        else:
            comparer.compare(
                param["schema"], new_params[key]["schema"], f"{key[0]} parameter {key[1]}", "input"
            )
    for key, param in new_params.items():
        if param.get("required") and not old_params.get(key, {}).get("required"):
            comparer.report(f"{key[0]} parameter {key[1]}", "new required input")
    old_body, new_body = old_op.get("requestBody"), new_op.get("requestBody")
    if new_body is not None and new_body.get("required") and not (old_body or {}).get("required"):
        comparer.report("request body", "new required input")
    if old_body is not None:
        if new_body is None:
            comparer.report("request body", "request body no longer accepted")
        else:
            for media, content in old_body.get("content", {}).items():
                new_content = new_body.get("content", {}).get(media)
                if new_content is None:
                    comparer.report("request body", f"media type {media} no longer accepted")
                else:
                    comparer.compare(content["schema"], new_content["schema"], "", "input")
    old_responses = old_op.get("responses", {})
    new_responses = new_op.get("responses", {})
    for status, old_response in old_responses.items():
        comparer.location = f"{name} response {status}"
        new_response = new_responses.get(status)
        if new_response is None:
            if str(status).startswith("2"):
                comparer.report("", "success response removed")
            continue
        for media, content in old_response.get("content", {}).items():
            new_content = new_response.get("content", {}).get(media)
            if new_content is None:
                comparer.report("", f"media type {media} no longer returned")
            elif "schema" in content and "schema" in new_content:
                comparer.compare(content["schema"], new_content["schema"], "", "output")
        for header, spec in old_response.get("headers", {}).items():
            if spec.get("required") and header not in new_response.get("headers", {}):
                comparer.report(f"header {header}", "removed response header")
    for status in new_responses:
        if status not in old_responses and str(status).startswith("2"):
            comparer.location = f"{name} response {status}"
            comparer.report("", "new success status that existing clients do not expect")
    return comparer.found


# -- events ---------------------------------------------------------------------------


def compare_event_schema(name: str, old: Schema, new: Schema) -> list[BreakingChange]:
    """Every breaking change of one event's schema (consumers read events: output rules)."""
    comparer = _Comparer(old, new, f"event {name}")
    comparer.compare(old, new, "", "output")
    old_message, new_message = old.get("x-message", {}), new.get("x-message", {})
    for key in ("exchange", "routing_key", "content_type"):
        if key in old_message and old_message.get(key) != new_message.get(key):
            comparer.report(
                f"x-message.{key}", f"changed: {old_message[key]!r} -> {new_message.get(key)!r}"
            )
    removed = set(old_message.get("consumers", [])) - set(new_message.get("consumers", []))
    if removed:
        comparer.report("x-message.consumers", f"consumers dropped: {', '.join(sorted(removed))}")
    return comparer.found


def compare_event_schemas(
    old: Mapping[str, Schema], new: Mapping[str, Schema]
) -> list[BreakingChange]:
    """Compare two sets of event schemas keyed by file name."""
    found: list[BreakingChange] = []
    for name, old_schema in old.items():
        if name not in new:
            found.append(BreakingChange(f"event {name}", "", "event schema removed"))
        else:
            found.extend(compare_event_schema(name, old_schema, new[name]))
    return found


# -- baselines ------------------------------------------------------------------------


def load_document(path: Path) -> dict[str, Any]:
    """A YAML or JSON document from disk."""
    text = path.read_text(encoding="utf-8")
    loaded = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    if not isinstance(loaded, dict):
        raise ValueError(f"{path} is not a mapping")
    return loaded


def _git(repo: Path, *args: str) -> str | None:
    done = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=False)
    return done.stdout if done.returncode == 0 else None


def git_openapi(repo: Path, rev: str, relpath: str) -> dict[str, Any] | None:
    """The OpenAPI document as committed at ``rev`` (None if it did not exist there)."""
    text = _git(repo, "show", f"{rev}:{relpath}")
    if text is None:
        return None
    loaded = yaml.safe_load(text)
    return loaded if isinstance(loaded, dict) else None


def git_event_schemas(repo: Path, rev: str, folder: str) -> dict[str, dict[str, Any]]:
    """Every ``*.schema.json`` in ``folder`` as committed at ``rev``."""
    listing = _git(repo, "ls-tree", "--name-only", f"{rev}:{folder}")
    out: dict[str, dict[str, Any]] = {}
    for name in (listing or "").split():
        if name.endswith(".schema.json"):
            text = _git(repo, "show", f"{rev}:{folder}/{name}")
            if text is not None:
                out[name] = json.loads(text)
    return out


@dataclass(frozen=True)
class CompatReport:
    """The outcome of one check: what was compared against what, and what breaks."""

    baseline: str
    compared: tuple[str, ...]
    breaking: tuple[BreakingChange, ...]

    @property
    def ok(self) -> bool:
        return not self.breaking

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "baseline": self.baseline,
            "compared": list(self.compared),
            "breaking": [
                {"location": b.location, "field": b.field, "reason": b.reason, "text": str(b)}
                for b in self.breaking
            ],
        }


def check_generated(
    *,
    repo: Path | None = None,
    rev: str = "HEAD",
    openapi_baseline: Path | None = None,
    events_baseline: Path | None = None,
) -> CompatReport:
    """Compare what the models generate now with a baseline.

    The baseline is the documents committed at ``rev`` (git ``HEAD`` by default) or, when
    given, an OpenAPI file and/or a folder of event schemas. A document missing from the
    baseline (e.g. the very first commit) has nothing to break and is skipped.
    """
    from contracts.events.schemas import SCHEMA_DIR, event_schemas
    from contracts.openapi import V1_PATH, openapi_document

    root = repo or Path(__file__).resolve().parent.parent
    breaking: list[BreakingChange] = []
    compared: list[str] = []
    sources: list[str] = []
    if openapi_baseline is not None:
        old_api: dict[str, Any] | None = load_document(openapi_baseline)
        sources.append(str(openapi_baseline))
    else:
        old_api = git_openapi(root, rev, str(V1_PATH.relative_to(root)))
        sources.append(f"git {rev}")
    if old_api is not None:
        compared.append("openapi v1")
        # Round-trip through JSON so both sides have the same plain types.
        new_api = json.loads(json.dumps(openapi_document()))
        breaking.extend(compare_openapi(old_api, new_api))
    if events_baseline is not None:
        old_events = {
            p.name: load_document(p) for p in sorted(events_baseline.glob("*.schema.json"))
        }
        sources.append(str(events_baseline))
    else:
        old_events = git_event_schemas(root, rev, str(SCHEMA_DIR.relative_to(root)))
    compared.extend(f"event {name}" for name in sorted(old_events))
    breaking.extend(compare_event_schemas(old_events, event_schemas()))
    return CompatReport(
        baseline=", ".join(dict.fromkeys(sources)),
        compared=tuple(compared),
        breaking=tuple(breaking),
    )
