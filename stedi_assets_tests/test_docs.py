"""The README is the front door and docs/ holds the chapters: every chapter is linked from the
README (once), every relative link and anchor resolves, every `stedi` command shown in a ```sh
block parses with the command's own parser, every `make` target shown exists, and the README
stays short. Plain Python and `make -n`: the unit tier."""

from __future__ import annotations

import contextlib
import io
import os
import re
import shlex
import subprocess
from pathlib import Path

import pytest

from stedi_assets.cli import parser

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
CHAPTERS = sorted((ROOT / "docs").glob("*.md"))
DOCUMENTS = [README, *CHAPTERS]
README_MOST_LINES = 210

LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^\s*```(\S*)")
ENV_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
STEDI = {"stedi", ".venv/bin/stedi"}


def prose_lines(text: str) -> list[str]:
    """The lines outside fenced code blocks."""
    lines, fenced = [], False
    for line in text.splitlines():
        if FENCE.match(line):
            fenced = not fenced
        elif not fenced:
            lines.append(line)
    return lines


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = heading.strip().lower().replace("`", "")
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(text: str) -> set[str]:
    found, seen = set(), {}
    for line in prose_lines(text):
        heading = re.match(r"^#{1,6}\s+(.*)$", line)
        if heading:
            base = slug(heading.group(1))
            count = seen.get(base, 0)
            seen[base] = count + 1
            found.add(base if count == 0 else f"{base}-{count}")
    return found


def links(text: str) -> list[str]:
    return [target for line in prose_lines(text) for target in LINK.findall(line)]


def broken_links(document: Path, text: str) -> list[str]:
    """The relative links of `text` (the contents of `document`) whose file or anchor does not
    exist, each as 'target: why'."""
    broken = []
    for target in links(text):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # https:, mailto: ...
            continue
        path, _, anchor = target.partition("#")
        if not path:  # an anchor of this document
            if anchor not in anchors(text):
                broken.append(f"{target}: no heading #{anchor} in {document.name}")
            continue
        file = (document.parent / path).resolve()
        if not file.is_file():
            broken.append(f"{target}: no file {file}")
        elif anchor and file.suffix == ".md" and anchor not in anchors(file.read_text()):
            broken.append(f"{target}: no heading #{anchor} in {file.name}")
    return broken


def sh_commands(text: str) -> list[list[str]]:
    """The words of every command line in the ```sh blocks of `text` (comments dropped,
    continued lines joined), environment assignments in front removed."""
    commands, block = [], None
    for line in text.splitlines():
        fence = FENCE.match(line)
        if fence:
            if block is None:
                block = [] if fence.group(1) in ("sh", "bash", "shell") else False
            else:
                if block is not False:
                    joined = "\n".join(block).replace("\\\n", " ")
                    commands += [shlex.split(one, comments=True) for one in joined.splitlines()]
                block = None
        elif block is not None and block is not False:
            block.append(line)
    words = []
    for command in filter(None, commands):
        while command and ENV_ASSIGNMENT.match(command[0]):
            command = command[1:]
        if command:
            words.append(command)
    return words


def bad_stedi_commands(text: str) -> list[str]:
    """The `stedi` commands of `text` the CLI's parser refuses, each with its complaint."""
    bad = []
    for words in sh_commands(text):
        if words[0] not in STEDI:
            continue
        complaint = io.StringIO()
        try:
            with contextlib.redirect_stderr(complaint), contextlib.redirect_stdout(io.StringIO()):
                parser().parse_args(words[1:])
        except SystemExit as exit:
            if exit.code:
                bad.append(f"{shlex.join(words)}: {complaint.getvalue().strip().splitlines()[-1]}")
    return bad


def make_targets(text: str) -> list[str]:
    return [word for words in sh_commands(text) if words[0] == "make"
            for word in words[1:] if not word.startswith("-") and "=" not in word]


def unknown_make_targets(targets: list[str]) -> list[str]:
    """The targets `make -n` (which prints a target's recipe without running it) refuses."""
    environ = {key: value for key, value in os.environ.items()
               if key not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    unknown = []
    for target in sorted(set(targets)):
        done = subprocess.run(["make", "-n", "-C", str(ROOT), target], env=environ,
                              capture_output=True, text=True, timeout=60)
        if done.returncode:
            unknown.append(f"make {target}: {done.stderr.strip()}")
    return unknown


def test_every_chapter_is_linked_from_the_readme_once():
    linked = [(README.parent / target.partition("#")[0]).resolve()
              for target in links(README.read_text()) if not target.startswith("#")]
    assert CHAPTERS, "no chapters in docs/"
    times = {chapter.name: linked.count(chapter.resolve()) for chapter in CHAPTERS}
    assert times == {chapter.name: 1 for chapter in CHAPTERS}


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: path.name)
def test_every_relative_link_resolves(document):
    assert broken_links(document, document.read_text()) == []


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: path.name)
def test_every_stedi_command_shown_parses(document):
    assert bad_stedi_commands(document.read_text()) == []


def test_every_make_target_shown_exists():
    targets = [target for document in DOCUMENTS for target in make_targets(document.read_text())]
    assert {"run", "test", "ui"} <= set(targets)  # the README's own, found in its sh blocks
    assert unknown_make_targets(targets) == []


def test_the_readme_is_short():
    lines = len(README.read_text().splitlines())
    assert lines <= README_MOST_LINES, f"README.md has {lines} lines"


FAKE = """# A chapter

See [the tables](tables.md), [nowhere](missing.md), [a heading](#a-chapter),
[no heading](#not-here) and [a site](https://dagster.io).

```sh
.venv/bin/stedi tables --format json
STEDI_LANDING_URI=/tmp/landing stedi run --full   # a comment
.venv/bin/stedi vacuum [--keep N]
stedi sql
.venv/bin/stedi engine start \\
  --port 15003
make run
make no-such-target
```

```
stedi not-shell-so-not-checked
```
"""


def test_the_checks_catch_a_broken_link_and_a_bad_command():
    chapter = ROOT / "docs" / "fake.md"  # never written: only its folder matters
    assert broken_links(chapter, FAKE) == [
        f"missing.md: no file {ROOT / 'docs' / 'missing.md'}",
        "#not-here: no heading #not-here in fake.md",
    ]
    assert sh_commands(FAKE)[:2] == [[".venv/bin/stedi", "tables", "--format", "json"],
                                     ["stedi", "run", "--full"]]
    bad = bad_stedi_commands(FAKE)
    assert [line.split(":")[0] for line in bad] == [
        ".venv/bin/stedi vacuum '[--keep' 'N]'", "stedi sql"]
    assert "unrecognized arguments" in bad[0]
    assert "the following arguments are required: query" in bad[1]
    assert make_targets(FAKE) == ["run", "no-such-target"]
    assert [line.split(":")[0] for line in unknown_make_targets(make_targets(FAKE))] == [
        "make no-such-target"]
