"""The embedded default: a real PostgreSQL from the `pgserver` package, in a local directory."""

import logging
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pgserver.postgres_server import PostgresServer


class EmbeddedPostgres:
    """Starts (or joins, when another `tracking` process already runs it) a PostgreSQL server
    whose data lives in `data_dir/postgres`; `stop()` shuts it down once no process uses it."""

    def __init__(self, data_dir: str) -> None:
        self.pgdata = Path(data_dir).resolve() / "postgres"
        self._server: PostgresServer | None = None

    def start(self) -> str:
        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        # pgserver narrates every step at INFO, and platformdirs warns on import when
        # XDG_RUNTIME_DIR is unset (containers, CI): neither is news to an operator.
        logging.getLogger("pgserver").setLevel(logging.WARNING)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from pgserver.postgres_server import get_server  # noqa: PLC0415

            self._server = get_server(self.pgdata, cleanup_mode="stop")
        uri: str = self._server.get_uri()
        return uri

    def stop(self) -> None:
        if self._server is not None:
            self._server.cleanup()
            self._server = None
