"""Test doubles for the ports that face the world: a clock we set by hand."""

from datetime import UTC, datetime, timedelta

from tracking.application.ports import Clock

T0 = datetime(2025, 10, 23, 12, 0, tzinfo=UTC)


class FixedClock(Clock):
    def __init__(self, now: datetime = T0) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current

    def advance(self, delta: timedelta) -> None:
        self.current += delta
