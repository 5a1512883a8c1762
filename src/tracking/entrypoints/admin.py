"""Before serving: make sure an operator can reach the admin API."""

import sys

from tracking.application.commands.ensure_admin import AdminChange, EnsureAdmin
from tracking.application.handlers import Handlers
from tracking.settings import Settings


async def ensure_admin(handlers: Handlers, settings: Settings) -> None:
    """Prints a generated admin key, the one time it can be shown."""
    ensured = await handlers.ensure_admin(EnsureAdmin(api_key=settings.admin_api_key))
    if ensured.change is AdminChange.CREATED and ensured.new_api_key is not None:
        sys.stderr.write(
            "tracking: created the admin client; its API key, shown this once:\n"
            f"  {ensured.new_api_key}\n"
        )
