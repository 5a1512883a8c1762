"""How metrics are computed here: the window size and the run's bounds, from the settings."""

from dataclasses import dataclass
from datetime import timedelta

from tracking.domain.windows import WindowSize


@dataclass(frozen=True, slots=True)
class MetricsPolicy:
    size: WindowSize
    grace: timedelta
    backfill: timedelta
    max_windows: int
