"""Running the ASGI app under uvicorn, ending with 0 after a graceful stop."""

import contextlib
import signal
from collections.abc import Iterator

import uvicorn
from litestar import Litestar

from tracking.settings import Settings

GRACEFUL_SHUTDOWN_SECONDS = 10


class _GracefulServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        """uvicorn re-raises SIGTERM once it has shut down gracefully, so the process ends as
        killed (143). Here a finished graceful stop is a success, and the process exits 0."""
        handled = (signal.SIGINT, signal.SIGTERM)
        original = {sig: signal.signal(sig, self.handle_exit) for sig in handled}
        try:
            yield
        finally:
            for sig, handler in original.items():
                signal.signal(sig, handler)


def serve_http(app: Litestar, settings: Settings) -> None:
    config = uvicorn.Config(
        app,
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        access_log=settings.access_log,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
    )
    server = _GracefulServer(config)
    server.run()
    if not server.started:
        raise SystemExit(1)
