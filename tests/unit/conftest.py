"""Unit-test fixtures: a fresh in-memory store per test, and the ports built over it."""

import pytest

from tests.unit.support import ChangesSpy, uow_factory
from tracking.adapters.memory.store import InMemoryStore
from tracking.adapters.system import UuidV7Generator
from tracking.application.ports import UnitOfWorkFactory


@pytest.fixture
def store() -> InMemoryStore:
    return InMemoryStore()


@pytest.fixture
def uow(store: InMemoryStore) -> UnitOfWorkFactory:
    return uow_factory(store)


@pytest.fixture
def ids() -> UuidV7Generator:
    return UuidV7Generator()


@pytest.fixture
def changes(store: InMemoryStore) -> ChangesSpy:
    return ChangesSpy(store)
