"""Logging, configured alike in every process: the CLI's, and each `serve --workers` worker's
(spawned afresh, it inherits none of its master's configuration)."""

import logging
import sys

from tracking.settings import Settings

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(settings: Settings) -> None:
    logging.basicConfig(level=settings.log_level, stream=sys.stderr, format=FORMAT)
    if settings.log_level != "DEBUG":
        # "Context impl PostgresqlImpl." and "Will assume transactional DDL." at every start
        # tell an operator nothing; what migrations ran is said by `tracking migrate` itself.
        logging.getLogger("alembic.runtime.migration").setLevel(logging.WARNING)
