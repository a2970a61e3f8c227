"""``python -m datagen``: write generated transactions as JSON lines, or POST them.

Examples::

    python -m datagen --count 5000 --seed 7 --out var/tx.jsonl
    python -m datagen --count 5000 --drift strong --post http://127.0.0.1:5000
    python -m datagen --count 100 --drift amount_scale=2,channel_shift=0.5
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from dataclasses import fields
from pathlib import Path
from typing import TextIO

from contracts.transactions import MAX_BATCH_SIZE, Transaction
from datagen.generator import DRIFT_PRESETS, DriftKnob, TransactionGenerator


def parse_drift(text: str) -> DriftKnob:
    """A preset name (``none``, ``mild``, ``strong``, ``fraud-wave``) or ``knob=value,...``."""
    if text in DRIFT_PRESETS:
        return DRIFT_PRESETS[text]
    known = {f.name for f in fields(DriftKnob)}
    values: dict[str, float] = {}
    for part in text.split(","):
        name, sep, raw = part.partition("=")
        name = name.strip()
        if not sep or name not in known:
            raise argparse.ArgumentTypeError(
                f"{part!r}: use a preset ({', '.join(DRIFT_PRESETS)}) or knob=value with knobs "
                f"{', '.join(sorted(known))}"
            )
        try:
            values[name] = float(raw)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(f"{part!r}: {raw!r} is not a number") from exc
    try:
        return DriftKnob(**values)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _batches(generator: TransactionGenerator, count: int, size: int) -> Iterator[list[Transaction]]:
    remaining = count
    while remaining > 0:
        take = min(size, remaining)
        remaining -= take
        yield generator.generate(take)


def _write(out: TextIO, generator: TransactionGenerator, count: int) -> None:
    for batch in _batches(generator, count, 1000):
        for tx in batch:
            out.write(tx.model_dump_json() + "\n")


def _post(url: str, generator: TransactionGenerator, count: int, batch_size: int) -> int:
    from contracts.client import ApiClient, ApiError

    accepted = duplicates = 0
    with ApiClient(url) as client:
        for batch in _batches(generator, count, batch_size):
            try:
                receipt = client.ingest(batch)
            except ApiError as exc:
                sys.stderr.write(f"error: {exc}\n")
                return 1
            accepted += receipt.accepted
            duplicates += receipt.duplicates
            sys.stderr.write(f"\rposted {accepted + duplicates}/{count}")
    sys.stderr.write(f"\naccepted {accepted}, duplicates {duplicates}\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m datagen",
        description="Generate seeded, labelled card transactions with an optional drift knob.",
    )
    parser.add_argument("--count", type=int, default=1000, help="how many (default 1000)")
    parser.add_argument("--seed", type=int, default=0, help="same seed, same data (default 0)")
    parser.add_argument(
        "--drift",
        type=parse_drift,
        default=DriftKnob(),
        help="a preset (none, mild, strong, fraud-wave) or knob=value,... "
        "(amount_scale, category_shift, channel_shift, fraud_rate)",
    )
    parser.add_argument("--id-prefix", default="tx", help="transaction id prefix (default tx)")
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--out", type=Path, help="write JSON lines to this file (default stdout)")
    target.add_argument("--post", metavar="URL", help="POST to a running API at this base URL")
    parser.add_argument(
        "--batch-size", type=int, default=500, help=f"per POST, 1-{MAX_BATCH_SIZE} (default 500)"
    )
    args = parser.parse_args(argv)
    if args.count < 0:
        parser.error("--count must not be negative")
    if not 1 <= args.batch_size <= MAX_BATCH_SIZE:
        parser.error(f"--batch-size must be between 1 and {MAX_BATCH_SIZE}")
    generator = TransactionGenerator(args.seed, args.drift, id_prefix=args.id_prefix)
    if args.post:
        return _post(args.post, generator, args.count, args.batch_size)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        with args.out.open("w", encoding="utf-8") as out:
            _write(out, generator, args.count)
        return 0
    _write(sys.stdout, generator, args.count)
    return 0


if __name__ == "__main__":
    sys.exit(main())
