"""Ids draw their randomness from the OS in blocks (system.py) or once per process
(request_id.py): a forked child must not repeat what its parent draws next."""

import os
from collections.abc import Callable

import pytest

from tracking.adapters.system import UuidV7Generator
from tracking.entrypoints.http import request_id


def _in_child(draw: Callable[[], str]) -> str:
    reading, writing = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: one id, then gone without running the parent's cleanup
        os.close(reading)
        os.write(writing, draw().encode())
        os._exit(0)
    os.close(writing)
    with os.fdopen(reading) as pipe:
        drawn = pipe.read()
    os.waitpid(pid, 0)
    return drawn


_IDS = UuidV7Generator()


def _uuid7_random_bits() -> str:
    return _IDS.new_id().hex[-15:]


@pytest.mark.parametrize(
    "draw", [_uuid7_random_bits, request_id._new_id], ids=["uuid7 random bits", "request id"]
)
def test_a_forked_child_draws_other_random_bits_than_its_parent(draw: Callable[[], str]) -> None:
    draw()  # the block (or prefix) is drawn before the fork
    child = _in_child(draw)
    assert child
    assert child != draw()
