"""The README's shell examples, as data: its ```bash blocks, each curl in them with the answer
the README shows after it, and a matcher for those answers.

An answer is a comment right after its command: `# 201 {"id": "...", "status": "stored"}`,
continued on comment lines that start with two spaces. In an answer, `"..."` stands for any
value, a string ending in `...` for any string it begins, a list for its first items, and an
object for the fields it names."""

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

README = Path(__file__).parents[2] / "README.md"
NOT_RUN = re.compile(r"<!-- not run by the README test: (?P<why>.+) -->")
_ANSWER = re.compile(r"#\s+(?:(?P<status>[1-5]\d\d)\s+)?(?P<body>[\[{].*)")
_CURL = re.compile(r"(?:^|\$\()curl\s")


@dataclass
class Answer:
    status: int | None
    body: object


@dataclass
class Block:
    line: int
    text: str
    not_run: str | None
    answers: list[Answer | None] = field(default_factory=list)
    """One a curl, in order: what the README shows after it (None when it shows nothing)."""


def blocks() -> list[Block]:
    lines = README.read_text().splitlines()
    found: list[Block] = []
    for number, line in enumerate(lines):
        if line.strip() != "```bash":
            continue
        end = lines.index("```", number + 1)
        body = lines[number + 1 : end]
        before = NOT_RUN.fullmatch(lines[number - 1].strip())
        block = Block(number + 1, "\n".join(body), before and before.group("why"))
        block.answers = _answers(body)
        found.append(block)
    return found


def _answers(body: list[str]) -> list[Answer | None]:
    answers: list[Answer | None] = []
    for index, line in enumerate(body):
        if not _CURL.search(line.strip()):
            continue
        last = index
        while last + 1 < len(body) and body[last].rstrip().endswith("\\"):
            last += 1
        answers.append(_answer_at(body, last + 1))
    return answers


def _answer_at(body: list[str], index: int) -> Answer | None:
    """The answer comment starting at `index`, with its continuation lines."""
    while index < len(body) and not body[index].startswith("#"):
        # the rest of a command whose quoted argument spans lines
        if _CURL.search(body[index]) or not body[index].startswith(" "):
            return None
        index += 1
    found = _ANSWER.fullmatch(body[index]) if index < len(body) else None
    if found is None:
        return None
    text = found.group("body")
    for continued in body[index + 1 :]:
        if not continued.startswith("#  "):
            break
        text += continued[1:].strip()
    status = found.group("status")
    return Answer(int(status) if status else None, json.loads(text))


def matches(expected: object, actual: object) -> bool:
    if expected == "...":
        return True
    if isinstance(expected, str) and expected.endswith("..."):
        return isinstance(actual, str) and actual.startswith(expected[:-3])
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            key in actual and matches(value, actual[key]) for key, value in expected.items()
        )
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(actual) >= len(expected)
            and all(matches(e, a) for e, a in zip(expected, actual, strict=False))
        )
    return expected == actual and type(expected) is type(actual)
