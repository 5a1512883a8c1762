"""Calls made by many requests at once, sent to Redis together, one round at a time.

A call made while a round is in flight waits for the next round, which carries every call
made meanwhile: under load the round trips, and much of the client's work, are shared. Alone,
a call is sent at once, as a plain call would be. What a round sends is the caller's choice
(`send`): the rate limiter sends one script run per client in it."""

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

MAX_PER_ROUND = 256

Call = TypeVar("Call")
Result = TypeVar("Result")


class Rounds(Generic[Call, Result]):
    def __init__(
        self, send: Callable[[Sequence[Call]], Awaitable[Sequence[Result | BaseException]]]
    ) -> None:
        self._send_round = send
        self._waiting: list[tuple[Call, asyncio.Future[Result]]] = []
        self._sending: asyncio.Task[None] | None = None

    async def __call__(self, call: Call) -> Result:
        answer: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._waiting.append((call, answer))
        if self._sending is None:
            self._sending = asyncio.create_task(self._send())
        return await answer

    async def _send(self) -> None:
        try:
            while self._waiting:
                round_ = self._waiting[:MAX_PER_ROUND]
                del self._waiting[:MAX_PER_ROUND]
                results: Sequence[Result | BaseException]
                try:
                    results = await self._send_round([call for call, _ in round_])
                except Exception as error:  # noqa: BLE001 - each caller decides what it means
                    results = [error] * len(round_)
                for (_, answer), result in zip(round_, results, strict=True):
                    if answer.done():  # its caller gave up (a cancelled request)
                        continue
                    if isinstance(result, BaseException):
                        answer.set_exception(result)
                    else:
                        answer.set_result(result)
        finally:
            self._sending = None
