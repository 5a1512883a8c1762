"""What the contract suites run against: every storage, built through the composition root."""

from dataclasses import dataclass

from tracking.application.ports import ClientReadModel, EventReadModel, UnitOfWorkFactory
from tracking.bootstrap import Container


@dataclass(frozen=True)
class Storage:
    uow: UnitOfWorkFactory
    events: EventReadModel
    clients: ClientReadModel


def storage_of(container: Container) -> Storage:
    return Storage(
        uow=container.uow,
        events=container.event_reads(),
        clients=container.client_reads(),
    )
