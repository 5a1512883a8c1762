"""`tracking serve` on 0007's single `events` table, for bench/partitions.py's baseline: the
code of today with the events' two statements as they were before partitioning (the key
`(client_id, id)` enforced by the table's own primary key), and no monthly partitions to
make. Its database is migrated to 0007 and stamped at head: 0008 changes `events` alone."""

import sys

from tracking.adapters.postgres import event_partitions, events

events.INSERT_EVENTS = """
INSERT INTO events (client_id, id, user_id, action, occurred_at, received_at, metadata)
SELECT (e->>0)::uuid, (e->>1)::uuid, e->>2, e->>3, (e->>4)::timestamptz,
       (e->>5)::timestamptz, e->6
FROM jsonb_array_elements($1::jsonb) AS e
ORDER BY 1, 2
ON CONFLICT (client_id, id) DO NOTHING
"""
events.STORED_BEFORE = """
SELECT b.position
FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS b(e, position)
JOIN events ON events.client_id = (b.e->>0)::uuid AND events.id = (b.e->>1)::uuid
WHERE events.xmin <> pg_current_xact_id()::xid
"""


async def _no_partitions(_self: event_partitions.PostgresEventPartitions) -> list[object]:
    return []


event_partitions.PostgresEventPartitions.upkeep = _no_partitions  # type: ignore[assignment,method-assign]

if __name__ == "__main__":
    from tracking.entrypoints.cli import main

    sys.argv[0] = "tracking"
    main()
