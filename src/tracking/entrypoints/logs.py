"""Logging, configured alike in every process (the CLI, each `serve --workers` worker, spawned
afresh and inheriting none of its master's configuration, the consumer): one handler on
stderr for every logger, ours and the libraries' (uvicorn, its access log, aiokafka).

- `json` (the default when stderr is not a terminal): one JSON object a line, for a log
  collector. Fields: `time` (UTC, RFC 3339), `level`, `logger`, `message`, `exc_info` (a
  traceback, in the one line), and what the line is about (`log_context`): `request_id`,
  `method`, `route`, `client` in a request; `topic`, `offsets` (and `partition`, `offset`
  for one message) in a Kafka batch.
- `text` (the default on a terminal): the same, readable, those fields as `key=value`.

python-json-logger rather than structlog: every line here comes through the standard
library's `logging` (ours and the libraries'), and it is a formatter for exactly that, so one
handler formats them all and no call site changes."""

import logging
import sys
from datetime import UTC, datetime
from typing import Any, Literal

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

from tracking.application.log_context import log_fields
from tracking.settings import Settings

_TEXT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_ACCESS_FIELDS = ("remote", "method", "path", "http_version", "status")
_HANDLER_NAME = "tracking"


def configure_logging(settings: Settings) -> None:
    root = logging.getLogger()
    for handler in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.addFilter(_with_context)
    kind = chosen_format(settings.log_format, on_terminal=sys.stderr.isatty())
    handler.setFormatter(formatter(kind))
    root.addHandler(handler)
    root.setLevel(settings.log_level)
    logging.getLogger("uvicorn.access").addFilter(_access_fields)
    if settings.log_level != "DEBUG":
        # "Context impl PostgresqlImpl." and "Will assume transactional DDL." at every start
        # tell an operator nothing; what migrations ran is said by `tracking migrate` itself.
        # Nor does "setup plugin ..." at import, which the CLI does after this (`tracking -v`
        # shows them all).
        logging.getLogger("alembic").setLevel(logging.WARNING)


def chosen_format(
    setting: Literal["auto", "json", "text"], *, on_terminal: bool
) -> Literal["json", "text"]:
    if setting == "auto":
        return "text" if on_terminal else "json"
    return setting


def formatter(kind: Literal["json", "text"]) -> logging.Formatter:
    if kind == "json":
        return _Json(
            ["levelname", "name", "message"],
            rename_fields={"levelname": "level", "name": "logger"},
            reserved_attrs=[*RESERVED_ATTRS, "log_context"],
            json_ensure_ascii=False,
        )
    return _Text(_TEXT)


class _Json(JsonFormatter):
    def add_fields(
        self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]
    ) -> None:
        log_data["time"] = _instant(record)
        super().add_fields(log_data, record, message_dict)


class _Text(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = getattr(record, "log_context", None)
        if not fields:
            return line
        about = " ".join(f"{key}={_plain(value)}" for key, value in fields.items())
        head, newline, rest = line.partition("\n")
        return f"{head}  [{about}]{newline}{rest}"


def _with_context(record: logging.LogRecord) -> bool:
    """Copies what is being handled onto the record: the JSON formatter writes a record's
    extra attributes as fields, and the text one reads them back."""
    fields = log_fields()
    if fields:
        record.__dict__.update(fields)
        record.log_context = fields
    return True


def _access_fields(record: logging.LogRecord) -> bool:
    """uvicorn's access line as fields too (it logs them as %-arguments)."""
    args = record.args
    if isinstance(args, tuple) and len(args) == len(_ACCESS_FIELDS):
        record.__dict__.update(zip(_ACCESS_FIELDS, args, strict=True))
    return True


def _instant(record: logging.LogRecord) -> str:
    at = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
    return at.replace("+00:00", "Z")


def _plain(value: object) -> str:
    if isinstance(value, dict):
        return ",".join(f"{k}:{_plain(v)}" for k, v in value.items())
    return str(value)
