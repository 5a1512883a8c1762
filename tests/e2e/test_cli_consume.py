"""`tracking consume` as real processes against the real broker and PostgreSQL: killed with
SIGKILL mid-stream, stopped with SIGTERM, or sharing a group, every produced event ends up
stored exactly once."""

import asyncio
import json
import signal
import socket
import uuid

import httpx
import msgspec

from tests.e2e.processes import Server, Tracking, one_error_line
from tests.integration.kafka_helpers import count_is, eventually, kafka_settings, new_client
from tests.integration.kafka_helpers import stored as stored_rows
from tests.kafka import SESSION_TIMEOUT_MS, committed, produce
from tracking.bootstrap import Container, shut_down

BATCH = "20"


def consumer_env(database_url: str, bootstrap: str, topic: str, group: str) -> dict[str, str]:
    return {
        "TRACKING_STORAGE": "postgres",
        "TRACKING_DATABASE_URL": database_url,
        "TRACKING_KAFKA_BOOTSTRAP": bootstrap,
        "TRACKING_KAFKA_TOPIC": topic,
        "TRACKING_KAFKA_GROUP": group,
        "TRACKING_KAFKA_SESSION_TIMEOUT_MS": str(SESSION_TIMEOUT_MS),
        "TRACKING_KAFKA_BATCH_MAX": BATCH,
        "TRACKING_KAFKA_BATCH_WAIT_MS": "50",
    }


async def client_in(database_url: str, bootstrap: str, topic: str) -> uuid.UUID:
    container = Container(settings=kafka_settings(database_url, bootstrap, topic))
    try:
        return await new_client(container)
    finally:
        await shut_down(container)


def values(client: uuid.UUID, ids: list[uuid.UUID]) -> list[bytes]:
    """Every other message names no id: the consumer makes one from its place in the log."""
    return [
        msgspec.json.encode(
            {"client_id": str(client), "user_id": f"u{n % 97}", "action": "view"}
            | ({"id": str(i)} if n % 2 else {})
        )
        for n, i in enumerate(ids)
    ]


async def stream(bootstrap: str, topic: str, messages: list[bytes], chunks: int) -> None:
    """Produces the messages a chunk at a time, so consumers meet a stream, not a backlog."""
    size = -(-len(messages) // chunks)
    for start in range(0, len(messages), size):
        part = messages[start : start + size]
        await produce(
            bootstrap, topic, part, keys=[str(start + n).encode() for n in range(len(part))]
        )
        await asyncio.sleep(0.1)


async def metric(server: Server, name: str) -> float:
    async with httpx.AsyncClient() as http:
        text = (await http.get(f"{server.url}/metrics", timeout=5)).text
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not in /metrics:\n{text}")


async def test_a_consumer_killed_mid_stream_and_restarted_leaves_exactly_the_produced_events(
    cli: Tracking, database_url: str, kafka_bootstrap: str, kafka_topic: str
) -> None:
    client = await client_in(database_url, kafka_bootstrap, kafka_topic)
    ids = [uuid.uuid4() for _ in range(6000)]
    messages = values(client, ids)
    env = consumer_env(database_url, kafka_bootstrap, kafka_topic, f"g-{uuid.uuid4().hex}")
    # A backlog, so each kill lands in a busy consumer; then more while it runs.
    await stream(kafka_bootstrap, kafka_topic, messages[:4000], 4)
    producing = asyncio.create_task(stream(kafka_bootstrap, kafka_topic, messages[4000:], 20))

    for stored_before_kill in (1000, 2500):
        consumer = cli.consume(env=env)
        await count_is(database_url, stored_before_kill)
        consumer.process.kill()  # SIGKILL: no graceful anything
        assert consumer.process.wait(timeout=30) == -signal.SIGKILL
    last = cli.consume(env=env)
    await producing
    await count_is(database_url, len(ids), seconds=120)
    await asyncio.sleep(1)  # anything doubled would have shown up by now
    assert last.stop() == 0

    rows = await stored_rows(database_url)
    assert len(rows) == len(ids)
    named = {i for n, i in enumerate(ids) if n % 2}
    assert named <= {row[1] for row in rows}
    assert {row[0] for row in rows} == {client}


async def test_sigterm_finishes_and_commits_the_batch_in_hand_then_exits_0(
    cli: Tracking, database_url: str, kafka_bootstrap: str, kafka_topic: str
) -> None:
    client = await client_in(database_url, kafka_bootstrap, kafka_topic)
    ids = [uuid.uuid4() for _ in range(3000)]
    group = f"g-{uuid.uuid4().hex}"
    env = consumer_env(database_url, kafka_bootstrap, kafka_topic, group)
    producing = asyncio.create_task(stream(kafka_bootstrap, kafka_topic, values(client, ids), 30))

    consumer = cli.consume(env=env)
    await count_is(database_url, 300)
    assert consumer.stop(signal.SIGTERM) == 0
    await producing

    assert "Traceback" not in consumer.stderr()
    offsets = await committed(kafka_bootstrap, group, kafka_topic)
    # Exactly what was stored is committed: no stored batch left uncommitted, nothing
    # committed that is not stored.
    assert sum(offset or 0 for offset in offsets.values()) == len(await stored_rows(database_url))


async def test_two_consumers_in_one_group_split_the_partitions_and_store_everything_once(
    cli: Tracking, database_url: str, kafka_bootstrap: str, kafka_topic: str
) -> None:
    client = await client_in(database_url, kafka_bootstrap, kafka_topic)
    env = consumer_env(database_url, kafka_bootstrap, kafka_topic, f"g-{uuid.uuid4().hex}")
    consumers = [cli.consume(env=env), cli.consume(env=env)]

    async def split() -> bool:
        assigned = [await metric(c, "tracking_consumer_assigned_partitions") for c in consumers]
        return assigned == [2, 2]

    await eventually(split, seconds=60)
    async with httpx.AsyncClient() as http:
        for consumer in consumers:
            assert (await http.get(f"{consumer.url}/health/ready")).status_code == 200
    ids = [uuid.uuid4() for _ in range(2000)]
    await stream(kafka_bootstrap, kafka_topic, values(client, ids), 4)
    await count_is(database_url, len(ids), seconds=120)

    consumed = [await metric(c, "tracking_consumer_messages_total") for c in consumers]
    assert all(count > 0 for count in consumed), consumed
    assert sum(consumed) == len(ids)
    assert [c.stop() for c in consumers] == [0, 0]
    assert len(await stored_rows(database_url)) == len(ids)


def test_consume_refuses_memory_storage_in_one_line(cli: Tracking) -> None:
    result = cli.run("consume", env={"TRACKING_STORAGE": "memory"})
    assert result.returncode == 2
    assert "memory storage" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_bad_topic_name_is_one_line(cli: Tracking) -> None:
    result = cli.run("consume", env={"TRACKING_KAFKA_TOPIC": "no spaces"})
    assert result.returncode == 1
    assert one_error_line(result.stderr).startswith("Error: TRACKING_KAFKA_TOPIC:")


async def test_a_batch_s_log_lines_carry_its_topic_partition_and_offsets(
    cli: Tracking, database_url: str, kafka_bootstrap: str, kafka_topic: str
) -> None:
    client = await client_in(database_url, kafka_bootstrap, kafka_topic)
    env = consumer_env(database_url, kafka_bootstrap, kafka_topic, f"g-{uuid.uuid4().hex}")
    consumer = cli.consume(env=env)
    good = values(client, [uuid.uuid4()])
    await produce(kafka_bootstrap, kafka_topic, [*good, b"{not json"], keys=[b"k", b"k"])
    await count_is(database_url, 1)
    assert consumer.stop() == 0

    lines = [json.loads(line) for line in consumer.stderr().splitlines() if line[:1] == "{"]
    (dead,) = [line for line in lines if str(line["message"]).startswith("dead letter")]
    assert dead["level"] == "WARNING"
    assert dead["topic"] == kafka_topic
    partition, offset = dead["partition"], dead["offset"]
    assert isinstance(partition, int)
    assert offset == 1  # the second message of its partition
    assert f"{partition}:0-1" in str(dead["offsets"]).split(",")


def test_a_health_port_in_use_is_one_line_before_anything_starts(cli: Tracking) -> None:
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        result = cli.run("consume", env={"TRACKING_CONSUMER_PORT": str(port)})
    assert result.returncode == 1
    line = one_error_line(result.stderr)
    expected = f"cannot listen on 127.0.0.1:{port}: address already in use"
    assert line == f"Error: TRACKING_CONSUMER_PORT: {expected}"
    assert "PostgreSQL" not in result.stderr  # the embedded one was never started
