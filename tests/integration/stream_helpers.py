"""The live stream read as a browser reads it: a real HTTP server (uvicorn, in the test's own
loop) and Server-Sent Events parsed off the wire."""

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn
from litestar import Litestar

from tests.sockets import free_port

WAIT_SECONDS = 10.0
"""How long a test waits for a message it expects (a bound on never, not a speed)."""


@contextlib.asynccontextmanager
async def served(app: Litestar) -> AsyncIterator[str]:
    """`app` behind uvicorn on a loopback port: its base URL."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    running = asyncio.create_task(server.serve())
    while not server.started:
        if running.done():
            running.result()
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await running


@dataclass
class Message:
    event: str = "message"
    id: str | None = None
    data: str = ""

    def json(self) -> Any:
        return json.loads(self.data)


@dataclass
class Stream:
    """One open stream: its messages as they come (comments left out, counted)."""

    response: httpx.Response
    comments: list[str] = field(default_factory=list)
    retry: int | None = None
    _lines: AsyncIterator[str] | None = None

    async def next(self, wait: float = WAIT_SECONDS) -> Message | None:
        """The next message; None when the stream ended."""
        return await asyncio.wait_for(self._read(), wait)

    async def events(self, count: int, wait: float = WAIT_SECONDS) -> list[Message]:
        """The next `count` messages, which must come."""
        messages: list[Message] = []
        for _ in range(count):
            message = await self.next(wait)
            assert message is not None, f"the stream ended after {len(messages)} of {count}"
            messages.append(message)
        return messages

    async def _read(self) -> Message | None:
        if self._lines is None:
            self._lines = self.response.aiter_lines()
        message, seen = Message(), False
        async for line in self._lines:
            if line == "":
                if seen and message.data:  # as a browser: no data, no event dispatched
                    return message
                message, seen = Message(), False
                continue
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "":
                self.comments.append(value)
                continue
            seen = True
            if name == "event":
                message.event = value
            elif name == "id":
                message.id = value
            elif name == "data":
                message.data = value if not message.data else f"{message.data}\n{value}"
            elif name == "retry":
                self.retry = int(value)
        return None


@contextlib.asynccontextmanager
async def opened(
    client: httpx.AsyncClient, path: str = "/api/events/stream", **kwargs: Any
) -> AsyncIterator[Stream]:
    async with client.stream("GET", path, timeout=httpx.Timeout(30, read=None), **kwargs) as got:
        assert got.status_code == 200, (await got.aread()).decode()
        assert got.headers["content-type"].startswith("text/event-stream")
        yield Stream(got)
