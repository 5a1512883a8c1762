"""Each test runs `tracking` in a data directory of its own, and leaves nothing running."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.offline import no_network
from tests.e2e.processes import Tracking

__all__ = ["cli", "no_network"]


@pytest.fixture
def cli(tmp_path: Path) -> Iterator[Tracking]:
    runner = Tracking(tmp_path)
    yield runner
    runner.clean_up()
