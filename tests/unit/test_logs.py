"""The log line formats, and what a line is about: fields that stay with the request or batch
that set them, even among concurrent tasks."""

import asyncio
import io
import json
import logging
from collections.abc import Iterator
from unittest.mock import patch

import pytest

from tracking.application.log_context import add_log_fields, log_task_about, logging_about
from tracking.entrypoints.logs import chosen_format, configure_logging
from tracking.settings import load_settings


@pytest.fixture
def stderr() -> Iterator[io.StringIO]:
    """What the handler writes (it takes the stream that is `sys.stderr` when configured)."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield io.StringIO()
    root.handlers[:], root.level = handlers, level


def configured(kind: str, stderr: io.StringIO) -> logging.Logger:
    with patch("sys.stderr", stderr):
        configure_logging(load_settings({"TRACKING_LOG_FORMAT": kind}))
    return logging.getLogger("tracking.test")


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_json_lines_carry_time_level_logger_message_and_the_context(
    stderr: io.StringIO,
) -> None:
    log = configured("json", stderr)
    with logging_about(request_id="r-1", route="/api/event"):
        add_log_fields(client="c-1")
        log.warning("stored %d events", 3)
    log.info("outside")

    inside, outside = lines(stderr)
    assert inside | {"time": None} == {
        "time": None,
        "level": "WARNING",
        "logger": "tracking.test",
        "message": "stored 3 events",
        "request_id": "r-1",
        "route": "/api/event",
        "client": "c-1",
    }
    assert str(inside["time"]).endswith("Z")
    assert set(outside) == {"time", "level", "logger", "message"}


def test_a_traceback_stays_in_its_one_json_line(stderr: io.StringIO) -> None:
    log = configured("json", stderr)
    try:
        raise ValueError("boom")  # noqa: TRY301 - the exception is the subject
    except ValueError:
        log.exception("failed")

    (line,) = lines(stderr)
    assert "ValueError: boom" in str(line["exc_info"])


def test_text_lines_name_the_context_in_brackets(stderr: io.StringIO) -> None:
    log = configured("text", stderr)
    with logging_about(topic="events", offsets="0:5-9"):
        log.info("batch stored")

    (line,) = stderr.getvalue().splitlines()
    assert line.endswith("INFO tracking.test: batch stored  [topic=events offsets=0:5-9]")


def test_auto_is_text_on_a_terminal_and_json_elsewhere() -> None:
    assert chosen_format("auto", on_terminal=True) == "text"
    assert chosen_format("auto", on_terminal=False) == "json"
    assert chosen_format("json", on_terminal=True) == "json"
    assert chosen_format("text", on_terminal=False) == "text"


def test_configuring_twice_keeps_one_handler(stderr: io.StringIO) -> None:
    configured("json", stderr)
    configured("json", stderr).info("once")
    assert len(lines(stderr)) == 1


async def test_concurrent_tasks_keep_their_own_fields(stderr: io.StringIO) -> None:
    log = configured("json", stderr)

    async def request(request_id: str) -> None:
        log_task_about(request_id=request_id)
        await asyncio.sleep(0)
        add_log_fields(client=f"client-of-{request_id}")
        await asyncio.sleep(0)
        log.info("handled")

    await asyncio.gather(*(asyncio.create_task(request(f"r{n}")) for n in range(5)))
    log.info("after")

    *handled, after = lines(stderr)
    assert sorted((h["request_id"], h["client"]) for h in handled) == [
        (f"r{n}", f"client-of-r{n}") for n in range(5)
    ]
    assert "request_id" not in after
