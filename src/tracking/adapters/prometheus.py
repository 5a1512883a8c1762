"""The registry of this process's metrics that the adapters keep (dependency outages, rate
limits, group commits, the database pool, the cache). Every process serves it: the API at
`/metrics`, the consumer on its own port.

Under `serve --workers` each worker also writes every value to files of its own in
PROMETHEUS_MULTIPROC_DIR (prometheus_client's multiprocess mode, chosen when the library is
first imported), where the API reads them all at a scrape; a gauge says there how its values
add up across processes (`multiprocess_mode`)."""

from prometheus_client import CollectorRegistry

REGISTRY = CollectorRegistry()
