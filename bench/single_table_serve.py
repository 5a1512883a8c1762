"""`tracking serve` on 0007's single `events` table, for bench/partitions.py's baseline: the
code of today with the events' two statements as they were before partitioning (the key
`(client_id, id)` enforced by the table's own primary key), and no monthly partitions to
make. Its database is migrated to 0007 and stamped at head: 0008 changes `events` alone."""

import sys

from tracking.adapters.postgres import event_partitions, events

# Answered as the service's statement answers a batch none of whose users is suppressed: the
# positions of the events stored before (the keys it did not write); no journal, no lookup.
events.INSERT_EVENTS = """
WITH batch AS (
    SELECT (e->>0)::uuid AS client_id, (e->>1)::uuid AS id, e->>2 AS user_id, e->>3 AS action,
           (e->>4)::timestamptz AS occurred_at, (e->>5)::timestamptz AS received_at,
           e->6 AS metadata, n
    FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS b(e, n)
), stored AS (
    INSERT INTO events (client_id, id, user_id, action, occurred_at, received_at, metadata)
    SELECT client_id, id, user_id, action, occurred_at, received_at, metadata
    FROM batch ORDER BY 1, 2
    ON CONFLICT (client_id, id) DO NOTHING
    RETURNING client_id, id
)
SELECT 'stored_before', NULL, b.n, 1 FROM batch AS b
WHERE NOT EXISTS (SELECT FROM stored AS s WHERE s.client_id = b.client_id AND s.id = b.id)
"""


async def _no_partitions(_self: event_partitions.PostgresEventPartitions) -> list[object]:
    return []


event_partitions.PostgresEventPartitions.upkeep = _no_partitions  # type: ignore[assignment,method-assign]

if __name__ == "__main__":
    from tracking.entrypoints.cli import main

    sys.argv[0] = "tracking"
    main()
