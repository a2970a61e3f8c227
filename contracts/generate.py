"""Regenerate (or check) the committed contract documents from the models.

``python -m contracts.generate`` writes ``contracts/openapi/v1.yaml`` and one
``contracts/events/<event>.schema.json`` per event; ``--check`` writes nothing and exits 1
naming every document that differs from what the models generate (``make contracts``
runs the first, the test suite the second).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from contracts.events.schemas import SCHEMA_DIR, event_schemas, render_json
from contracts.openapi import V1_PATH, openapi_document, render_yaml

CONTRACTS_DIR = Path(__file__).parent


def generated_documents() -> dict[Path, str]:
    """Every generated document: absolute path -> the text the models produce today."""
    out = {V1_PATH: render_yaml(openapi_document())}
    for name, schema in event_schemas().items():
        out[SCHEMA_DIR / name] = render_json(schema)
    return out


def stale_documents() -> list[Path]:
    """Documents whose committed text differs from the generated one (or that are missing)."""
    stale = []
    for path, text in generated_documents().items():
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            stale.append(path)
    return stale


def orphan_schemas() -> list[Path]:
    """Event schema files in the folder that no event produces any more."""
    expected = set(event_schemas())
    return sorted(p for p in SCHEMA_DIR.glob("*.schema.json") if p.name not in expected)


def write_documents() -> list[Path]:
    """Write every stale document and delete orphan schemas; return what changed."""
    changed = []
    for path, text in generated_documents().items():
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            changed.append(path)
    for orphan in orphan_schemas():
        orphan.unlink()
        changed.append(orphan)
    return changed


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point (``python -m contracts.generate [--check]``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="only report stale documents")
    args = parser.parse_args(argv)
    root = CONTRACTS_DIR.parent
    if args.check:
        problems = [*stale_documents(), *orphan_schemas()]
        for path in problems:
            sys.stderr.write(f"stale: {path.relative_to(root)} (run `make contracts`)\n")
        return 1 if problems else 0
    for path in write_documents():
        sys.stdout.write(f"wrote {path.relative_to(root)}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
