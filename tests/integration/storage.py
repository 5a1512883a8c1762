"""Every storage the contract suites run against, built through the composition root.

Adding an adapter means adding its name here (and the settings that select it)."""

from dataclasses import dataclass

from tracking.application.ports import ClientReadModel, EventReadModel, UnitOfWorkFactory
from tracking.bootstrap import Container, build_container
from tracking.settings import Settings

STORAGES = ["memory"]


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


def build_storage(name: str) -> Storage:
    return storage_of(build_container(Settings(storage=name)))  # type: ignore[arg-type]
