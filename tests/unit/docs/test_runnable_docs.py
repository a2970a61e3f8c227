"""The docs cannot rot: every shell block is marked, and the fast ones run and print what
they show (`tests/runnable_docs.py` says how blocks are marked)."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import typer
import typer.core

from migration_playbook.cli.app import app as kit_app
from tests.runnable_docs import (
    REPO,
    Block,
    documented_files,
    output_matches,
    parse,
    problems,
    shell_blocks,
)

BLOCKS = shell_blocks(documented_files())
FAST = [b for b in BLOCKS if b.marker == "runnable"]


def block_env(tmp_path: Path) -> dict[str, str]:
    """What a reader's shell has after `source .venv/bin/activate`, with the kit's state
    in a folder of the test's own (a reader's `var/kit` and `reports/` stay untouched)."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.update(
        COLUMNS="200",  # rich wraps at the terminal width; the shown output is unwrapped
        NO_COLOR="1",
        TERM="dumb",
        KIT_WORKDIR=str(tmp_path / "var" / "kit"),
        KIT_REPORTS_DIR=str(tmp_path / "reports"),
    )
    return env


def run_block(block: Block, env: dict[str, str], timeout: float = 180) -> str:
    """Run a block in bash from the repository root (exit on the first failing command)."""
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", block.text],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, (
        f"{block.where}: exit {done.returncode}\n--- stdout\n{done.stdout}\n"
        f"--- stderr\n{done.stderr}"
    )
    return done.stdout


def test_every_shell_block_in_the_docs_is_marked() -> None:
    assert len(BLOCKS) > 20, [str(p) for p in documented_files()]
    assert problems(BLOCKS) == []


@pytest.mark.parametrize("block", FAST, ids=[b.where for b in FAST])
def test_a_runnable_block_runs_and_prints_what_it_shows(block: Block, tmp_path: Path) -> None:
    out = run_block(block, block_env(tmp_path))
    if block.expected is not None:
        assert output_matches(block.expected, out), (
            f"{block.where}: the output drifted from the docs\n--- shown\n{block.expected}\n"
            f"--- printed\n{out}"
        )


# -- the extractor itself --------------------------------------------------------------

SAMPLE = """# A page

```bash runnable
echo one
```

```text output
one
```

<!-- not-runnable: it needs a printer -->
```sh not-runnable
lp page.txt
```

```bash
make coffee
```

```bash not-runnable
make tea
```

```yaml
not: a command
```
"""


def test_blocks_are_parsed_with_their_marker_reason_and_shown_output() -> None:
    blocks = parse(Path("page.md"), SAMPLE)
    assert [(b.language, b.marker) for b in blocks] == [
        ("bash", "runnable"),
        ("sh", "not-runnable"),
        ("bash", None),
        ("bash", "not-runnable"),
        ("yaml", None),
    ]
    first, printer = blocks[0], blocks[1]
    assert (first.text, first.expected, first.line) == ("echo one", "one", 3)
    assert printer.reason == "it needs a printer" and printer.expected is None


def test_an_unmarked_block_and_a_reasonless_skip_are_problems() -> None:
    found = problems([b for b in parse(Path("page.md"), SAMPLE) if b.is_shell])
    assert found == [
        "page.md:16: a bash block without a marker (one of not-runnable, runnable, runnable:e2e)",
        "page.md:20: not-runnable without '<!-- not-runnable: why -->' just before it",
    ]


def test_shown_output_under_a_skipped_block_is_a_problem() -> None:
    text = "<!-- not-runnable: x -->\n```bash not-runnable\nls\n```\n\n```text output\na\n```\n"
    found = problems(parse(Path("p.md"), text))
    assert found == ["p.md:2: shown output under a block no test runs"]


def test_an_unclosed_fence_is_an_error() -> None:
    with pytest.raises(ValueError, match="never closed"):
        parse(Path("p.md"), "```bash runnable\nls\n")


@pytest.mark.parametrize(
    ("shown", "printed", "same"),
    [
        ("a\nb", "a\nb\n", True),
        ("a\nb", "a  \nb", True),  # trailing spaces do not count
        ("a\n...\nd", "a\nb\nc\nd", True),
        ("a\n...\nd", "a\nd", True),
        ("...\nd", "a\nb\nd", True),
        ("a\nb", "a\nc", False),
        ("a\n...\nd", "a\nb\nc", False),
        ("a", "a\nb", False),
        ("reverted to version ...", "reverted to version 1 (now 3)", True),
        ("measured ... > limit 0.02", "measured 0.4 > limit 0.02", True),
        ("measured ... > limit 0.02", "measured 0.4 > limit 0.5", False),
        ("x ... y", "x y", False),
    ],
)
def test_shown_output_is_compared_line_by_line(shown: str, printed: str, same: bool) -> None:
    assert output_matches(shown, printed) is same


def test_a_drifted_command_fails_the_block(tmp_path: Path) -> None:
    failing = Block(Path("p.md"), 1, "bash", "runnable", "kit phase lint --no-such-flag")
    with pytest.raises(AssertionError, match="exit 2"):
        run_block(failing, block_env(tmp_path))


# -- every `kit` line, run or not, is a command the real CLI accepts ------------------

_SHELL_OPERATORS = {"||", "&&", ";", "|", ">", ">>", "<", "&"}
_KIT_WORD = re.compile(r"(^|[\s;|&(])(\.venv/bin/)?kit(\s|$)")


def kit_command_lines(block: Block) -> list[list[str]]:
    """The arguments of each ``kit ...`` command in a block (continuations joined,
    comments and whatever follows a shell operator dropped)."""
    text = re.sub(r"\\\n", " ", block.text)
    commands = []
    for line in text.splitlines():
        if not _KIT_WORD.search(line):
            continue  # other commands' quoting may span lines; kit lines do not
        words = shlex.split(line, comments=True)
        for index, word in enumerate(words):
            if word in {"kit", ".venv/bin/kit"} and (
                index == 0 or words[index - 1] in _SHELL_OPERATORS
            ):
                args = []
                for arg in words[index + 1 :]:
                    if arg in _SHELL_OPERATORS:
                        break
                    args.append(arg)
                commands.append(args)
    return commands


def parse_kit(args: list[str]) -> None:
    """Parse ``kit ARGS`` with the real command tree, without running it: an unknown
    command, an unknown option or a missing argument raises (a ``typer.TyperException``)."""
    command = typer.main.get_command(kit_app)
    path = ["kit"]
    rest = list(args)
    while isinstance(command, typer.core.TyperGroup) and rest and not rest[0].startswith("-"):
        sub = command.get_command(typer.Context(command), rest[0])
        if sub is None:
            raise typer.BadParameter(f"no command {rest[0]!r} in {' '.join(path)}")
        command, path = sub, [*path, rest.pop(0)]
    try:
        command.make_context(" ".join(path), rest)
    except typer.Exit:  # --help printed the help
        pass


KIT_LINES = [(b, args) for b in BLOCKS for args in kit_command_lines(b)]


def test_the_docs_show_kit_commands() -> None:
    assert len(KIT_LINES) > 40


@pytest.mark.parametrize(
    ("block", "args"), KIT_LINES, ids=[f"{b.where} kit {' '.join(a)}" for b, a in KIT_LINES]
)
def test_every_kit_command_in_the_docs_is_one_the_cli_accepts(
    block: Block, args: list[str]
) -> None:
    try:
        parse_kit(args)
    except typer.TyperException as exc:
        pytest.fail(f"{block.where}: kit {' '.join(args)}: {exc}")


def test_a_wrong_flag_or_command_is_refused() -> None:
    for args in (["phase", "apply"], ["routes", "revert"], ["up", "--phas", "1"], ["nope"]):
        with pytest.raises(typer.TyperException):
            parse_kit(args)
