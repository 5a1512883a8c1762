"""The embedded default: a real PostgreSQL from the `pgserver` package, in a local directory."""

import json
import logging
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from tracking.adapters.processes import is_alive

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

            _forget_dead_processes(self.pgdata)
            self._server = get_server(self.pgdata, cleanup_mode="stop")
        uri: str = self._server.get_uri()
        return uri

    def stop(self) -> None:
        if self._server is not None:
            _forget_dead_processes(self.pgdata)
            self._server.cleanup()
            self._server = None


def _forget_dead_processes(pgdata: Path) -> None:
    """pgserver stops the server when the last process using it lets go, counting them in
    `.handle_pids.json`. A process that was killed never lets go, and its pid would keep the
    server running after every later clean stop; so the dead are struck off first."""
    handles = pgdata / ".handle_pids.json"
    if not handles.exists():
        return
    pids = json.loads(handles.read_text() or "[]")
    alive = [pid for pid in pids if is_alive(pid)]
    if alive != pids:
        handles.write_text(json.dumps(alive))
