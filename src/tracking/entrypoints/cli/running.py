"""What a command runs on, imported only once it runs (never for `--help`): the container
opened in one event loop and closed after, and its failures as one line."""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import click

from tracking.application.handlers import Handlers
from tracking.bootstrap import Container, StartupError, notice, resolved, shut_down
from tracking.domain.errors import TrackingError
from tracking.entrypoints.server import event_loop
from tracking.settings import Settings

log = logging.getLogger(__name__)

T = TypeVar("T")


@contextmanager
def opened(settings: Settings) -> Iterator[tuple[asyncio.Runner, Container]]:
    """A container and the event loop its resources live in; closed, both, on the way out.
    A failure to start, or a use case's error, ends the command with one line."""
    container = Container(settings=settings)
    with event_loop() as loop, one_line_errors():
        try:
            yield loop, container
        finally:
            loop.run(shut_down(container))


def with_handlers(settings: Settings, use: Callable[[Handlers], Awaitable[T]]) -> T:
    """Runs one use case (or a few) on the storage the settings name."""
    with opened(settings) as (loop, container):
        return loop.run(_using(container, use))


async def _using(container: Container, use: Callable[[Handlers], Awaitable[T]]) -> T:
    return await use(await handlers_of(container))


async def handlers_of(container: Container) -> Handlers:
    """The container's handlers, once its storage is ready; says where the data lives."""
    handlers = await resolved(container.handlers())
    announced = notice(container.settings())
    if announced is not None:
        log.warning("%s", announced)
    return handlers


@contextmanager
def one_line_errors() -> Iterator[None]:
    try:
        yield
    except StartupError as error:
        raise click.ClickException(str(error)) from None
    except TrackingError as error:
        raise click.ClickException(error.detail) from None
