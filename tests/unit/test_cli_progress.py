"""`calculate-metrics` draws a bar only where one can be drawn: on a terminal."""

import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest

from tracking.entrypoints.cli.metrics import animates


@pytest.fixture
def terminal() -> Iterator[IO[str]]:
    leader, follower = os.openpty()
    with open(follower, "w") as stream:  # noqa: PTH123 - a file descriptor, not a path
        yield stream
    os.close(leader)


def test_many_windows_on_a_terminal_are_a_bar(terminal: IO[str]) -> None:
    assert animates(10, terminal)


def test_few_windows_on_a_terminal_are_a_line_each(terminal: IO[str]) -> None:
    assert not animates(9, terminal)


def test_many_windows_into_a_log_file_are_a_line_each(tmp_path: Path) -> None:
    with (tmp_path / "cronjob.log").open("w") as log:
        assert not animates(1000, log)
    assert not animates(1000, io.StringIO())
