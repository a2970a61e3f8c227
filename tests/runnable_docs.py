"""The docs' shell blocks, as data: which ones a test runs, where, and what they must print.

Every fenced shell block (``bash``, ``sh``, ``shell``, ``console``) in the README, the
package READMEs and the playbook (``migration_playbook/docs/``) carries one marker after
its language, so that no command a reader is told to type can rot unnoticed:

- ``runnable``: fast and self-contained; the unit tests run it from the repository root.
- ``runnable:e2e``: needs a running kit stack; the e2e test runs the file's blocks in
  order against one stack (the bundled URLs rewritten to the stack's).
- ``not-runnable``: not run by these tests; an HTML comment on the line just before the
  fence says why (``<!-- not-runnable: make demo is what the CI runs itself -->``).

A runnable block may be followed (blank lines between are allowed) by a block whose info
string is ``text output``: what the commands print. The test compares it line by line,
trailing spaces ignored; a line that is exactly ``...`` stands for any number of lines,
and ``...`` inside a line for any text (a figure that changes from run to run).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHELL_LANGUAGES = frozenset({"bash", "sh", "shell", "console"})
MARKERS = frozenset({"runnable", "runnable:e2e", "not-runnable"})
ELLIPSIS = "..."

_FENCE = re.compile(r"^\s{0,3}(?P<fence>`{3,}|~{3,})(?P<info>[^`]*)$")
_REASON = re.compile(r"^\s*<!--\s*not-runnable:\s*(?P<reason>.+?)\s*-->\s*$")


@dataclass(frozen=True, slots=True)
class Block:
    """One fenced block of a Markdown file."""

    path: Path
    line: int  # 1-based line of the opening fence
    language: str
    marker: str | None
    text: str
    reason: str | None = None  # a not-runnable block's reason
    expected: str | None = None  # the ``text output`` block that follows, if any

    @property
    def is_shell(self) -> bool:
        return self.language in SHELL_LANGUAGES

    @property
    def where(self) -> str:
        try:
            shown = self.path.relative_to(REPO)
        except ValueError:
            shown = self.path
        return f"{shown}:{self.line}"


def documented_files(repo: Path = REPO) -> list[Path]:
    """The Markdown files whose commands are checked: README.md, every package's README,
    docs/ and the playbook's chapters (tests/ and the virtualenv excluded)."""
    files = [repo / "README.md"]
    for readme in sorted(repo.glob("*/**/README.md")):
        parts = readme.relative_to(repo).parts
        if parts[0] in {".venv", "tests", "var", "reports", "node_modules"}:
            continue
        files.append(readme)
    files += sorted((repo / "docs").glob("*.md"))
    files += sorted((repo / "migration_playbook" / "docs").glob("*.md"))
    return list(dict.fromkeys(f for f in files if f.is_file()))


def _closes(line: str, fence: str) -> bool:
    stripped = line.strip()
    return len(stripped) >= len(fence) and stripped == fence[0] * len(stripped)


def _raw_blocks(
    path: Path, lines: Sequence[str]
) -> Iterable[tuple[int, int, str, str, str | None]]:
    """(opening index, closing index, info string, body, reason comment) of every block."""
    index = 0
    while index < len(lines):
        opened = _FENCE.match(lines[index])
        if opened is None:
            index += 1
            continue
        fence = opened.group("fence")
        info = opened.group("info").strip()
        previous = lines[index - 1] if index > 0 else ""
        reason_match = _REASON.match(previous)
        reason = reason_match.group("reason") if reason_match else None
        body: list[str] = []
        close = index + 1
        while close < len(lines) and not _closes(lines[close], fence):
            body.append(lines[close])
            close += 1
        if close >= len(lines):
            raise ValueError(f"{path}:{index + 1}: a fenced block is never closed")
        yield index, close, info, "\n".join(body), reason
        index = close + 1


def parse(path: Path, text: str | None = None) -> list[Block]:
    """Every fenced block of ``path``; an output block is attached to the block before it."""
    lines = (text if text is not None else path.read_text()).splitlines()
    raw = list(_raw_blocks(path, lines))
    blocks: list[Block] = []
    skip_next = False
    for position, (opening, closing, info, body, reason) in enumerate(raw):
        if skip_next:
            skip_next = False
            continue
        words = info.split()
        language = words[0] if words else ""
        marker = next((w for w in words[1:] if w in MARKERS), None)
        expected = None
        if position + 1 < len(raw):
            next_opening, _, next_info, next_body, _ = raw[position + 1]
            between = lines[closing + 1 : next_opening]
            if next_info.split() == ["text", "output"] and all(not s.strip() for s in between):
                expected = next_body
                skip_next = True
        blocks.append(Block(path, opening + 1, language, marker, body, reason, expected))
    return blocks


def shell_blocks(files: Iterable[Path]) -> list[Block]:
    return [b for path in files for b in parse(path) if b.is_shell]


def problems(blocks: Iterable[Block]) -> list[str]:
    """What is wrong with the markers: a shell block without one, a not-runnable block
    without its reason, an output block under a block no test runs."""
    found = []
    for block in blocks:
        if block.marker is None:
            found.append(
                f"{block.where}: a {block.language} block without a marker "
                f"(one of {', '.join(sorted(MARKERS))})"
            )
        elif block.marker == "not-runnable" and not block.reason:
            found.append(
                f"{block.where}: not-runnable without '<!-- not-runnable: why -->' just before it"
            )
        if block.expected is not None and block.marker not in {"runnable", "runnable:e2e"}:
            found.append(f"{block.where}: shown output under a block no test runs")
    return found


def _normalise(text: str) -> list[str]:
    lines = [line.rstrip() for line in text.splitlines()]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    return lines


def _line_matches(want: str, got: str) -> bool:
    """Equal, or equal outside the ``...`` of ``want`` (each stands for any text)."""
    if ELLIPSIS not in want:
        return want == got
    pattern = ".*".join(re.escape(part) for part in want.split(ELLIPSIS))
    return re.fullmatch(pattern, got) is not None


def output_matches(expected: str, actual: str) -> bool:
    """Whether ``actual`` is what ``expected`` shows (``...`` lines match any lines)."""
    want, got = _normalise(expected), _normalise(actual)

    def match(i: int, j: int) -> bool:
        if i == len(want):
            return j == len(got)
        if want[i] == ELLIPSIS:
            return any(match(i + 1, k) for k in range(j, len(got) + 1))
        return j < len(got) and _line_matches(want[i], got[j]) and match(i + 1, j + 1)

    return match(0, 0)
