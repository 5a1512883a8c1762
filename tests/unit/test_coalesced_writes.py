"""A connection's writes within one turn of the loop leave as one, in order, and nothing is
held past a close, the end of the stream or FLUSH_BYTES."""

import asyncio
from collections.abc import Iterable

from tracking.entrypoints.http.coalesced import FLUSH_BYTES, CoalescedWrites


class Recorded(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, list[bytes]]] = []
        self.closing = False

    def writelines(self, list_of_data: Iterable[bytes | bytearray | memoryview]) -> None:
        self.calls.append(("writelines", [bytes(d) for d in list_of_data]))

    def close(self) -> None:
        self.calls.append(("close", []))
        self.closing = True

    def abort(self) -> None:
        self.calls.append(("abort", []))
        self.closing = True

    def write_eof(self) -> None:
        self.calls.append(("write_eof", []))

    def is_closing(self) -> bool:
        return self.closing


async def test_what_one_turn_writes_leaves_as_one_call_at_its_end() -> None:
    transport = Recorded()
    writes = CoalescedWrites(transport, asyncio.get_running_loop())
    writes.write(b"HTTP/1.1 201 Created\r\n\r\n")
    writes.write(b"{}")
    assert transport.calls == []
    await asyncio.sleep(0)
    assert transport.calls == [("writelines", [b"HTTP/1.1 201 Created\r\n\r\n", b"{}"])]
    writes.write(b"next")
    await asyncio.sleep(0)
    assert transport.calls[-1] == ("writelines", [b"next"])


async def test_a_close_or_the_streams_end_sends_what_is_gathered_first() -> None:
    transport = Recorded()
    writes = CoalescedWrites(transport, asyncio.get_running_loop())
    writes.write(b"answer")
    writes.write_eof()
    writes.write(b"more")
    writes.close()
    await asyncio.sleep(0)
    assert transport.calls == [
        ("writelines", [b"answer"]),
        ("write_eof", []),
        ("writelines", [b"more"]),
        ("close", []),
    ]


async def test_a_long_answer_is_not_held_whole_and_an_abort_drops_what_is_gathered() -> None:
    transport = Recorded()
    writes = CoalescedWrites(transport, asyncio.get_running_loop())
    chunk = b"x" * (FLUSH_BYTES // 2)
    writes.write(chunk)
    writes.write(chunk)  # FLUSH_BYTES gathered: sent at once
    assert transport.calls == [("writelines", [chunk, chunk])]
    writes.write(b"dropped")
    writes.abort()
    await asyncio.sleep(0)
    assert transport.calls[-1] == ("abort", [])
