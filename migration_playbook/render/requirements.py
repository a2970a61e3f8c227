"""What goes into each image: the kit's own modules it runs and the pinned packages they need.

Read from the code, not kept by hand: starting at the image's entry module, every
``import`` (at any depth: lazy imports in functions count) is followed through the kit's
own packages; the third-party top-level modules met on the way name their distributions,
and those distributions' own requirements (from the installed metadata, markers evaluated
for the image's Linux, extras as ``requirements.in`` asks) close the set. Each name is
pinned as ``requirements.lock`` pins it, so an image never resolves a different version
from the one the tests ran.

Some packages are loaded by name at run time, never imported (SQLAlchemy's psycopg
dialect, uvicorn's uvloop and httptools, torch's ONNX exporter): ``RUNTIME_NEEDS`` lists
them once per trigger.
"""

from __future__ import annotations

import ast
import importlib.metadata as metadata
import importlib.util
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[2]
FIRST_PARTY = frozenset(
    {
        "contracts",
        "eventbus",
        "riskmodel",
        "datagen",
        "service_runtime",
        "legacy_monolith",
        "strangler_proxy",
        "extracted_services",
        "migration_playbook",
    }
)
_APP_REFERENCE = re.compile(r"^([a-z_][a-z0-9_.]*):[A-Za-z_][A-Za-z0-9_]*$")
#: A distribution in the set -> what it needs at run time without importing it.
RUNTIME_NEEDS: dict[str, tuple[str, ...]] = {
    "sqlalchemy": ("psycopg[binary]",),
    "uvicorn": ("uvicorn[standard]",),
    "pyjwt": ("pyjwt[crypto]",),
    "onnxruntime": ("onnx", "onnxscript"),  # torch.onnx.export(dynamo=True) loads them
    "httpx": ("sniffio",),  # without it httpcore retries a failed import on every request
}
#: What every virtual environment has; ``pip freeze`` (the lock) leaves them out.
VENV_SEEDED = frozenset({"pip", "setuptools", "wheel"})
#: Images that run no kit module: their direct requirements.
COMMAND_IMAGE_NEEDS: dict[str, tuple[str, ...]] = {"mlflow": ("mlflow", "psycopg[binary]")}
#: The image's platform: CPython 3.11 on Linux x86_64 (markers are evaluated for it).
_ENVIRONMENT: dict[str, str] = {
    **{key: str(value) for key, value in default_environment().items()},
    "sys_platform": "linux",
    "platform_system": "Linux",
    "os_name": "posix",
    "platform_machine": "x86_64",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
    "python_version": "3.11",
}


@dataclass(frozen=True)
class ImageContents:
    """What one image copies and installs."""

    packages: tuple[str, ...]  # kit folders to copy (``extracted_services/inference``)
    requirements: tuple[str, ...]  # pinned lines, ``name==version``


def _module_file(module: str) -> Path | None:
    parts = module.split(".")
    base = REPO.joinpath(*parts)
    if (base / "__init__.py").exists():
        return base / "__init__.py"
    if base.with_suffix(".py").exists():
        return base.with_suffix(".py")
    return None


def _imports(path: Path, module: str) -> Iterable[str]:
    tree = ast.parse(path.read_text(), str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            yield target
            yield from (f"{target}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            # an app handed to a server by name: "extracted_services.inference.app:serve_app"
            match = _APP_REFERENCE.match(node.value)
            if match and match.group(1).split(".")[0] in FIRST_PARTY:
                yield match.group(1)


def import_graph(entry: str) -> tuple[set[str], set[str]]:
    """(kit modules reached from ``entry``, third-party top-level modules they import)."""
    seen: set[str] = set()
    external: set[str] = set()
    todo = [entry]
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        top = module.split(".")[0]
        if top not in FIRST_PARTY:
            if importlib.util.find_spec(top) is not None and top not in _stdlib():
                external.add(top)
            continue
        path = _module_file(module)
        if path is None:  # ``from pkg import name``: a name, not a module
            continue
        seen.add(module)
        parts = module.split(".")
        todo += [".".join(parts[:i]) for i in range(1, len(parts))]  # parent packages run too
        todo += list(_imports(path, module))
    return seen, external


def _stdlib() -> frozenset[str]:
    return frozenset(sys.stdlib_module_names)


def _lock(lock: Path) -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in lock.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.\-]+)==([^\s;]+)", line)
        if match:
            pins[canonicalize_name(match.group(1))] = match.group(2)
    return pins


def _closure(direct: Iterable[str]) -> dict[str, str]:
    """Canonical name -> the spelling to pin, for ``direct`` and everything they require."""
    names: dict[str, str] = {}
    done: set[tuple[str, str]] = set()  # (distribution, extra) already expanded
    todo = [Requirement(text) for text in direct]
    while todo:
        requirement = todo.pop()
        key = canonicalize_name(requirement.name)
        wanted = {(key, extra) for extra in {"", *requirement.extras}} - done
        if not wanted:
            continue
        done |= wanted
        dist = metadata.distribution(requirement.name)
        names[key] = dist.metadata["Name"]
        for _, extra in wanted:
            for line in dist.requires or ():
                child = Requirement(line)
                if child.marker is None or child.marker.evaluate({**_ENVIRONMENT, "extra": extra}):
                    todo.append(child)
        if (key, "") in wanted:
            todo += [Requirement(need) for need in RUNTIME_NEEDS.get(key, ())]
    return names


def _distributions_of(modules: Iterable[str]) -> set[str]:
    owners = metadata.packages_distributions()
    out = set()
    for module in modules:
        for dist in owners.get(module, ()):
            if canonicalize_name(dist) != "ai-migration-kit":
                out.add(dist)
    return out


def _folders(modules: Iterable[str]) -> tuple[str, ...]:
    """The kit folders to copy: whole packages, but only the one service of
    ``extracted_services`` (its siblings are other images)."""
    out = set()
    for module in modules:
        parts = module.split(".")
        if parts[0] == "extracted_services":
            out.add("/".join(parts[:2]) if len(parts) > 1 else "extracted_services/__init__.py")
        else:
            out.add(parts[0])
    return tuple(sorted(out))


def image_contents(
    image: str, entry: str | None, lock: Path = REPO / "requirements.lock"
) -> ImageContents:
    """The folders and the pinned requirements of one image."""
    if entry is None:
        modules: set[str] = set()
        direct = list(COMMAND_IMAGE_NEEDS[image])
    else:
        modules, external = import_graph(entry)
        direct = sorted(_distributions_of(external))
        if "extracted_services" in {m.split(".")[0] for m in modules}:
            modules.add("extracted_services")
    pins = _lock(lock)
    names = _closure(direct)
    names = {key: name for key, name in names.items() if key not in VENV_SEEDED}
    missing = sorted(name for name in names if name not in pins)
    if missing:
        raise LookupError(f"image {image}: not pinned in {lock.name}: {', '.join(missing)}")
    lines = tuple(sorted(f"{names[key]}=={pins[key]}" for key in names))
    return ImageContents(packages=_folders(modules), requirements=lines)
