"""Before serving: make sure an operator can reach the admin API."""

import logging

from tracking.application.commands.ensure_admin import AdminChange, EnsureAdmin
from tracking.application.handlers import Handlers
from tracking.settings import Settings

log = logging.getLogger(__name__)


async def ensure_admin(handlers: Handlers, settings: Settings) -> None:
    """Logs a generated admin key, the one time it can be shown (a WARNING, so that the
    default levels show it; in the process's log format, like every line it writes)."""
    ensured = await handlers.ensure_admin(EnsureAdmin(api_key=settings.admin_api_key))
    if ensured.change is AdminChange.CREATED and ensured.new_api_key is not None:
        log.warning(
            "created the admin client; its API key, shown this once:\n  %s", ensured.new_api_key
        )
