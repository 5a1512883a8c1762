"""What the contract suites run against: every storage, built through the composition root."""

from dataclasses import dataclass

from tracking.application.ports import ClientReadModel, EventReadModel, UnitOfWorkFactory
from tracking.bootstrap import Container, resolved


@dataclass(frozen=True)
class Storage:
    uow: UnitOfWorkFactory
    events: EventReadModel
    clients: ClientReadModel


async def storage_of(container: Container) -> Storage:
    return Storage(
        uow=await resolved(container.uow()),
        events=await resolved(container.event_reads()),
        clients=await resolved(container.client_reads()),
    )
