"""The seeded synthetic generator of labelled card transactions, with a drift knob.

A package of its own because every side needs the very same data: the monolith's demo
and tests, the services' tests, the kit's traffic generator and the workshop graders.
Nothing is downloaded; the same seed always gives the same transactions.
"""

from datagen.generator import (
    DRIFT_PRESETS,
    DriftKnob,
    TransactionGenerator,
    generate,
)

__all__ = ["DRIFT_PRESETS", "DriftKnob", "TransactionGenerator", "generate"]
