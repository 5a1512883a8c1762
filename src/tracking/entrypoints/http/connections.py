"""Bounded connections: uvicorn's httptools protocol, with the limits it lacks.

- A header block (request line and headers) over `max_header_bytes` is answered 431 and the
  connection closed, once that many bytes arrived: memory per connection stays bounded
  whatever a client sends (the parser would otherwise gather a header of any size).
- Headers must arrive within `header_timeout` of the request's first byte, and the body
  within `body_timeout` of the headers; else 408 and the connection is closed.
- A connection idle before its first request is closed after the keep-alive timeout, as
  uvicorn closes one idle between requests.
- What one turn of the event loop writes leaves in one system call (coalesced.py).

A request being answered is never cut off by these: they bound what a client sends, not the
work we do for it."""

import asyncio
import json
from dataclasses import dataclass
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from tracking.entrypoints.http.coalesced import CoalescedWrites

MAX_HEADER_BYTES = 16 * 1024


@dataclass(frozen=True, slots=True)
class Limits:
    header_timeout: float
    body_timeout: float
    max_header_bytes: int = MAX_HEADER_BYTES


class BoundedConfig(uvicorn.Config):
    """uvicorn's config, carrying our limits to the protocol it builds for each connection
    (and, pickled with it, to every worker)."""

    def __init__(self, app: Any, *, limits: Limits, **settings: Any) -> None:
        super().__init__(app, http=BoundedHttpToolsProtocol, **settings)
        self.limits = limits


def _problem(status: int, phrase: str, code: str, detail: str) -> bytes:
    body = json.dumps(
        {
            "type": f"urn:tracking:problem:{code}",
            "title": phrase,
            "status": status,
            "detail": detail,
            "code": code,
        }
    ).encode()
    head = (
        f"HTTP/1.1 {status} {phrase}\r\n"
        "content-type: application/problem+json\r\n"
        f"content-length: {len(body)}\r\n"
        "connection: close\r\n\r\n"
    )
    return head.encode() + body


LINGER_SECONDS = 1.0
LINGER_BYTES = 256 * 1024


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    def __init__(self, config: uvicorn.Config, *args: Any, **kwargs: Any) -> None:
        super().__init__(config, *args, **kwargs)
        if not isinstance(config, BoundedConfig):
            raise TypeError("BoundedHttpToolsProtocol is served with a BoundedConfig")
        self._limits = config.limits
        self._header_bytes = 0
        self._in_headers = True
        self._completed = False  # a request ended within the chunk being read
        self._deadline: asyncio.TimerHandle | None = None
        self._lingering = 0  # bytes still to discard after a refusal, until LINGER_SECONDS

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(CoalescedWrites(transport, self.loop))
        # Idle before a first request: closed like a keep-alive connection idle between two.
        self.timeout_keep_alive_task = self.loop.call_later(
            self.timeout_keep_alive, self.timeout_keep_alive_handler
        )

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._lingering:
            self._lingering = max(0, self._lingering - len(data))
            if not self._lingering:
                self.transport.close()
            return
        if self._deadline is None and self._in_headers:
            self._arm(self._limits.header_timeout, "headers")
        self._completed = False
        super().data_received(data)
        # A chunk that ends inside a header block counts whole against it, unless a request
        # ended in it (then part of it was that request's): counted by the next chunk on,
        # the bytes held stay within the limit and one chunk.
        if self._in_headers and not self._completed and not self.transport.is_closing():
            self._header_bytes += len(data)
            if self._header_bytes > self._limits.max_header_bytes:
                self._refuse(
                    431,
                    "Request Header Fields Too Large",
                    "headers_too_large",
                    "the request line and headers must fit in "
                    f"{self._limits.max_header_bytes} bytes",
                )

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_headers = True
        self._header_bytes = 0

    def on_headers_complete(self) -> None:
        self._in_headers = False
        self._arm(self._limits.body_timeout, "body")
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._disarm()
        self._completed = True
        super().on_message_complete()

    def _arm(self, seconds: float, part: str) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, self._too_slow, seconds, part)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self, seconds: float, part: str) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        if self.cycle is not None and self.cycle.response_started:
            self.transport.close()  # answering already: the client stopped sending a body
            return
        self._refuse(
            408,
            "Request Timeout",
            "request_timeout",
            f"the request's {part} did not arrive within {seconds:g} s",
        )

    def _refuse(self, status: int, phrase: str, code: str, detail: str) -> None:
        self._disarm()
        if self.cycle is not None and not self.cycle.response_complete:
            self.cycle.disconnected = True
            self.cycle.message_event.set()
        self.transport.write(_problem(status, phrase, code, detail))
        if not self.transport.can_write_eof():
            self.transport.close()
            return
        # A lingering close, as nginx makes one: closing at once while the client still sends
        # would make the kernel reset the connection, and a reset discards the answer before
        # the client reads it. So the answer is followed by our end of the stream, and what
        # still arrives is read and dropped, for a bounded time and number of bytes.
        self.transport.write_eof()
        self._lingering = LINGER_BYTES
        self.loop.call_later(LINGER_SECONDS, self.transport.close)
