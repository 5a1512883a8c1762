"""TRACKING_METRICS_SCHEDULE=internal: the app computes due windows by itself from its start."""

import asyncio
import time
from datetime import UTC, datetime, timedelta

import msgspec
from litestar.testing import AsyncTestClient

from tests.conftest import ADMIN_KEY
from tracking.application.commands.ensure_admin import EnsureAdmin
from tracking.application.commands.record_events import NewEvent, RecordEvents
from tracking.application.queries.authenticate import Authenticate
from tracking.bootstrap import Container, resolved, shut_down
from tracking.entrypoints.http.app import create_app
from tracking.settings import Settings

YESTERDAY = datetime.now(UTC).replace(hour=1, minute=0, second=0, microsecond=0) - timedelta(days=1)

FIRST_RUN_WITHIN_SECONDS = 120


async def test_serve_catches_up_due_windows_at_start(settings: Settings) -> None:
    container = Container(settings=msgspec.structs.replace(settings, metrics_schedule="internal"))
    handlers = await resolved(container.handlers())
    await handlers.ensure_admin(EnsureAdmin(api_key=ADMIN_KEY))
    admin = await handlers.authenticate(Authenticate(api_key=ADMIN_KEY))
    event = NewEvent(user_id="u-1", action="view", occurred_at=YESTERDAY)
    await handlers.record_events(RecordEvents(client_id=admin.client_id, events=[event]))
    # The app runs on a loop of its own: it opens the container's resources again there.
    await shut_down(container)

    rows: list[dict[str, object]] = []
    async with AsyncTestClient(create_app(container)) as http:
        # The first scheduled run starts with the app; how soon it ends is the machine's
        # business, so the wait is bounded only far beyond any machine's slowness.
        deadline = time.monotonic() + FIRST_RUN_WITHIN_SECONDS
        while time.monotonic() < deadline:
            answer = await http.get("/api/metrics", headers={"X-API-Key": ADMIN_KEY})
            rows = answer.json()["metrics"]
            if rows:
                break
            await asyncio.sleep(0.05)

    assert [(row["window_start"], row["event_count"]) for row in rows] == [
        (YESTERDAY.replace(hour=0).isoformat().replace("+00:00", "Z"), 1)
    ]
