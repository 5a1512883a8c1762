"""Metric windows: half-open `[start, start + size)` in UTC, aligned to midnight."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import NamedTuple
from uuid import UUID

from tracking.domain.errors import RuleViolation

HOURS_PER_DAY = 24
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)  # a midnight: every window boundary is a multiple away


@dataclass(frozen=True, slots=True)
class WindowSize:
    hours: int

    def __post_init__(self) -> None:
        if self.hours < 1 or HOURS_PER_DAY % self.hours:
            raise RuleViolation(
                "invalid_window_size",
                "window_hours",
                "must divide 24 (1, 2, 3, 4, 6, 8, 12 or 24)",
            )

    @property
    def length(self) -> timedelta:
        return timedelta(hours=self.hours)

    def window_of(self, at: datetime) -> "Window":
        """The window an instant belongs to; one on a boundary belongs to the later window."""
        steps = (at - _EPOCH) // self.length
        return Window(start=_EPOCH + steps * self.length, size=self)


@dataclass(frozen=True, slots=True)
class Window:
    start: datetime
    size: WindowSize

    @property
    def end(self) -> datetime:
        return self.start + self.size.length

    def next(self) -> "Window":
        return Window(start=self.end, size=self.size)

    def is_due(self, now: datetime, grace: timedelta) -> bool:
        """Closed long enough ago that writes in flight at its end have landed."""
        return self.end + grace <= now

    def is_closed(self, at: datetime) -> bool:
        return self.end <= at


def due_windows(first: "Window", now: datetime, grace: timedelta) -> list[Window]:
    """Every due window from `first` on, oldest first."""
    windows = []
    window = first
    while window.is_due(now, grace):
        windows.append(window)
        window = window.next()
    return windows


class StaleMark(NamedTuple):
    """One client's rows of a window, to be recomputed: a late event of that client landed in
    it. Staleness is per client, so one tenant's late history recomputes its own rows only."""

    client_id: UUID
    window: Window


def late_windows(
    size: WindowSize, occurred: Iterable[tuple[UUID, datetime]], now: datetime
) -> set[StaleMark]:
    """A late event is one stored after its window closed: its client's rows of that window
    may be computed already, so the event marks them stale and the next run recomputes them.
    Judged at the commit (`now`), not at receipt, so a write that waited in a queue past its
    window's end is caught too. Events of the open window are computed later anyway.
    `occurred` is each event's client and time."""
    open_from = size.window_of(now).start
    return {
        StaleMark(client_id, size.window_of(at)) for client_id, at in occurred if at < open_from
    }
