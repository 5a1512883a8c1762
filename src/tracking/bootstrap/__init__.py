"""The composition root: settings in, handlers out. The only package that names adapters;
entrypoints ask it for what they run, and never import an adapter themselves."""

import inspect
from collections.abc import Awaitable
from typing import TypeVar

from dependency_injector import providers

from tracking.bootstrap.container import Container
from tracking.bootstrap.storage import StartupError, notice

__all__ = ["Container", "StartupError", "notice", "resolved", "shut_down"]

T = TypeVar("T")


async def resolved(provided: T | Awaitable[T]) -> T:
    """What a provider gave: at once, or once its resources are open (a provider that needs
    an async resource, such as the database engine, gives an awaitable)."""
    if inspect.isawaitable(provided):
        return await provided
    return provided


async def shut_down(container: Container) -> None:
    """Closes every resource the container opened, in the loop that opened them, and forgets
    what was built on them, so a later use opens them afresh. The in-memory store is kept: it
    is the installation's data, as a database outlives its connections."""
    # The request log first: its last write needs the database, and the ordered shutdown
    # below sees only direct dependencies, not the engine behind the log's store.
    closing_log = container.request_log.shutdown()
    if inspect.isawaitable(closing_log):
        await closing_log
    closing = container.shutdown_resources()
    if closing is not None:
        await closing
    for singleton in container.traverse(types=[providers.Singleton]):
        if singleton is not container.store:
            singleton.reset()
