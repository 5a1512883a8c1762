"""The rule that keeps the admin API reachable, for every use case that changes a client."""

from tracking.application.errors import Conflict
from tracking.application.ports import ClientRepository
from tracking.domain.clients import Client


async def keep_an_active_admin(clients: ClientRepository, before: Client, after: Client) -> None:
    """The last active admin cannot be deactivated nor demoted: that would lock every
    operator out of the API. Admins are counted only when this change would end one, since
    counting them locks their rows (two such changes at once then take turns)."""
    ends_one = before.is_active_admin and not after.is_active_admin
    if ends_one and await clients.count_active_admins() <= 1:
        raise Conflict("last_admin", "the last active admin cannot be deactivated nor demoted")
