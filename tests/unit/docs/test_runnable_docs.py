"""The docs cannot rot: every shell block is marked, and the fast ones run and print what
they show (`tests/runnable_docs.py` says how blocks are marked)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

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
    ],
)
def test_shown_output_is_compared_line_by_line(shown: str, printed: str, same: bool) -> None:
    assert output_matches(shown, printed) is same


def test_a_drifted_command_fails_the_block(tmp_path: Path) -> None:
    failing = Block(Path("p.md"), 1, "bash", "runnable", "kit phase lint --no-such-flag")
    with pytest.raises(AssertionError, match="exit 2"):
        run_block(failing, block_env(tmp_path))
