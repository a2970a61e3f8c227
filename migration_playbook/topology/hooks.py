"""The code a topology names (``package.module:attribute``), imported when the kit needs it.

A migration brings a little code of its own to the kit: how to put its provider into each
pact state, how to send its traffic, its pre-steps. The topology names that code; the kit
imports it by name, so the kit never imports a team's package (nor the team the kit's
internals beyond the signatures it implements).
"""

from __future__ import annotations

import importlib


class HookError(Exception):
    """A named object that cannot be imported."""


def load_hook(path: str) -> object:
    """The object ``package.module:attribute`` names; ``HookError`` says why not."""
    module_name, _, attribute = path.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise HookError(f"cannot import {module_name!r}: {exc}") from exc
    try:
        found: object = getattr(module, attribute)
    except AttributeError:
        raise HookError(f"{module_name} has no {attribute!r}") from None
    if not callable(found):
        raise HookError(f"{path} is not callable")
    return found
