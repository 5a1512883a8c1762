"""Which failures of a statement run by itself leave its commit unknown: those after it was
sent and before any answer (the server ending the connection among them), never a refusal
before sending nor the server's cancelling or rolling it back."""

import asyncpg
import pytest

from tracking.adapters.postgres.database import answer_lost


@pytest.mark.parametrize(
    ("error", "lost"),
    [
        (asyncpg.ConnectionDoesNotExistError("closed in the middle of operation"), True),
        (TimeoutError(), True),
        (ConnectionResetError(), True),
        (asyncpg.InterfaceError("connection is closed"), False),  # never sent
        (asyncpg.AdminShutdownError("terminating connection due to administrator"), True),
        (asyncpg.QueryCanceledError("canceling statement due to statement timeout"), False),
        (asyncpg.DeadlockDetectedError("deadlock detected"), False),
        (asyncpg.TooManyConnectionsError("too many clients"), False),
        (asyncpg.UniqueViolationError("duplicate key"), False),
        (ValueError("a bug"), False),
    ],
)
def test_only_an_answer_lost_after_sending_leaves_the_commit_unknown(
    error: BaseException, lost: bool
) -> None:
    assert answer_lost(error) is lost
