"""The playbook's commands against a real kit stack: every ``runnable:e2e`` block of the
phase chapters, chapter after chapter, in one shell, as a reader would type them.

The stack is this module's own (free ports, its own workdir and RabbitMQ vhost), so its
phases do not disturb the session's shared ``kit_stack``. The blocks show the bundled
topology's URLs and workdir; the test rewrites those to the stack's before running them,
and runs nothing else: no setup a reader would not do. A block that fails, or whose shown
output drifted, fails the test with the block's place in the docs.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from migration_playbook.context import KitContext
from migration_playbook.orchestration.engine import Engine
from migration_playbook.settings import KitSettings
from migration_playbook.topology import load_topology
from migration_playbook.topology.edit import dump_topology
from tests.amqp_support import fresh_vhost
from tests.kit_stack import TEST_LATENCY_SLACK, relocated
from tests.runnable_docs import REPO, Block, output_matches, parse

CHAPTERS = sorted((REPO / "migration_playbook" / "docs").glob("phase-*.md"))
DELIMITER = "@@runnable-docs block {}@@"
_DELIMITED = re.compile(r"^@@runnable-docs block (\d+)@@$", re.MULTILINE)


@pytest.fixture(scope="module")
def docs_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KitContext]:
    root = tmp_path_factory.mktemp("docs-kit")
    topology_file = dump_topology(relocated(), root / "topology.yaml")
    with fresh_vhost("kit-docs") as uri:
        settings = KitSettings.model_validate(
            {
                "workdir": root / "var",
                "reports_dir": root / "reports",
                "amqp_uri": uri,
                "topology_file": topology_file,
                "latency_slack": TEST_LATENCY_SLACK,
            }
        )
        ctx = KitContext.create(settings)
        try:
            yield ctx
        finally:
            Engine(ctx).down()


def _rewrites(ctx: KitContext) -> list[tuple[re.Pattern[str], str]]:
    """The bundled topology's URLs and workdir -> the stack's."""
    bundled = {name: p.url for name, p in load_topology().processes.items() if p.url}
    rules = [
        (re.compile(re.escape(url) + r"(?!\d)"), ctx.url(name))
        for name, url in bundled.items()
        if name in ctx.catalog
    ]
    workdir = ctx.settings.workdir.resolve()
    # a relative sqlite URL (three slashes) becomes an absolute one (four)
    rules.append((re.compile(r"sqlite:///var/kit/"), f"sqlite:///{workdir}/"))
    rules.append((re.compile(r"(?<![\w/])var/kit/"), f"{workdir}/"))
    return rules


def _rewrite(text: str, rules: list[tuple[re.Pattern[str], str]]) -> str:
    for pattern, replacement in rules:
        text = pattern.sub(replacement, text)
    return text


def e2e_blocks() -> list[Block]:
    return [b for path in CHAPTERS for b in parse(path) if b.marker == "runnable:e2e"]


def test_the_playbook_chapters_have_e2e_blocks_for_every_phase() -> None:
    covered = {b.path.name for b in e2e_blocks()}
    assert covered == {p.name for p in CHAPTERS}


@pytest.mark.timeout(2400)  # the whole migration, phase 4's closed loop among it
@pytest.mark.skipif(
    os.environ.get("KIT_DOCS_E2E") != "1",
    reason="the playbook's commands walk the whole migration a second time (about 10 "
    "minutes beside tests/e2e/migration_playbook/test_phases.py, which keeps make test "
    "under 30 minutes on a fresh machine only without it): `make test-docs` runs it",
)
def test_the_playbooks_commands_run_in_order_against_a_stack(
    docs_stack: KitContext, tmp_path: Path
) -> None:
    blocks = e2e_blocks()
    rules = _rewrites(docs_stack)
    script = "\n".join(
        f"printf '\\n{DELIMITER.format(i)}\\n'\n{_rewrite(b.text, rules)}"
        for i, b in enumerate(blocks)
    )
    bundled = [p.url for p in load_topology().processes.values() if p.url]
    left = [u for u in [*bundled, "var/kit/"] if re.search(re.escape(u) + r"(?!\d)", script)]
    assert not left, f"the bundled topology's {left} would reach a reader's own kit"
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    settings = docs_stack.settings
    env.update(
        COLUMNS="200",
        NO_COLOR="1",
        TERM="dumb",
        KIT_WORKDIR=str(settings.workdir),
        KIT_REPORTS_DIR=str(settings.reports_dir),
        KIT_TOPOLOGY=str(settings.topology_file),
        KIT_AMQP_URI=str(settings.amqp_uri),
        KIT_LATENCY_SLACK=str(settings.latency_slack),
        AMQP_URI=str(settings.amqp_uri),  # what `kit events` reads; a reader's default broker
    )
    env.pop("KIT_ADMIN_TOKEN", None)  # the docs say how to get one
    transcript = tmp_path / "stdout.txt"  # written as it runs: `tail -f` it to follow
    with transcript.open("w") as out:
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.PIPE,
            text=True,
            timeout=2300,
            check=False,
        )
    pieces = _DELIMITED.split(transcript.read_text())
    outputs = {int(pieces[i]): pieces[i + 1] for i in range(1, len(pieces) - 1, 2)}
    if done.returncode != 0:
        last = max(outputs, default=0)
        pytest.fail(
            f"{blocks[last].where}: exit {done.returncode}\n--- stdout of the block\n"
            f"{outputs.get(last, '')[-6000:]}\n--- stderr\n{done.stderr[-4000:]}"
        )
    assert sorted(outputs) == list(range(len(blocks)))
    for i, block in enumerate(blocks):
        if block.expected is not None:
            expected = _rewrite(block.expected, rules)
            assert output_matches(expected, outputs[i]), (
                f"{block.where}: the output drifted from the docs\n--- shown\n{expected}\n"
                f"--- printed\n{outputs[i]}"
            )
