"""Settings from `TRACKING_*` environment variables, typed and checked once at start."""

import ipaddress
import re
from collections.abc import Mapping
from typing import Annotated, Literal, get_args, get_origin
from urllib.parse import urlsplit

import msgspec

from tracking.domain.clients import ApiKey
from tracking.domain.errors import RuleViolation
from tracking.domain.privacy import USER_HASH_KEY_MIN_BYTES

PREFIX = "TRACKING_"
HOURS_PER_DAY = 24
# The test suite's own variables (see tests/conftest.py), not the service's.
_NOT_SETTINGS = re.compile(r"TRACKING_TEST_.*")
JWT_SECRET_MIN_BYTES = 32
MIN_RETENTION_INTERVAL_SECONDS = 60

Storage = Literal["embedded", "postgres", "memory"]
_REDIS_SCHEMES = ("redis://", "rediss://", "unix://")
_POSTGRES_SCHEMES = ("postgres://", "postgresql://", "postgresql+asyncpg://")
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]
# Kafka's own rule for topic names (the group id allows more; we keep it as plain).
KafkaName = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9._-]{1,200}$")]


class SettingsError(ValueError):
    """One line naming the variable and what is wrong with it: `TRACKING_X: problem`."""

    @property
    def variable(self) -> str:
        return str(self).partition(": ")[0]

    @property
    def problem(self) -> str:
        return str(self).partition(": ")[2]


class OverrideError(SettingsError):
    """An override (a command-line flag) is wrong, the environment being right: the caller,
    who knows the flag's name, names it."""

    def __init__(self, message: str, setting: str) -> None:
        super().__init__(message)
        self.setting = setting


class Settings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    storage: Storage | None = None
    database_url: str | None = None
    data_dir: str = ".tracking"
    db_pool_size: Annotated[int, msgspec.Meta(ge=1, le=200)] = 20
    db_max_overflow: Annotated[int, msgspec.Meta(ge=0, le=200)] = 0
    db_pool_timeout_seconds: Annotated[float, msgspec.Meta(gt=0, le=300)] = 5.0
    db_connect_timeout_seconds: Annotated[float, msgspec.Meta(gt=0, le=300)] = 5.0
    db_connect_retries: Annotated[int, msgspec.Meta(ge=0, le=1000)] = 10
    db_statement_timeout_ms: Annotated[int, msgspec.Meta(ge=0, le=3_600_000)] = 5000
    auth_cache_seconds: Annotated[float, msgspec.Meta(ge=0, le=60)] = 1.0
    group_commit_max_events: Annotated[int, msgspec.Meta(ge=1, le=10_000)] = 500
    group_commit_flushes: Annotated[int, msgspec.Meta(ge=1, le=64)] = 8
    group_commit_wait_ms: Annotated[float, msgspec.Meta(ge=0, le=1000)] = 0.0
    http_host: str = "127.0.0.1"
    http_port: Annotated[int, msgspec.Meta(ge=1, le=65535)] = 8000
    http_header_timeout_seconds: Annotated[float, msgspec.Meta(gt=0, le=3600)] = 10.0
    http_body_timeout_seconds: Annotated[float, msgspec.Meta(gt=0, le=3600)] = 30.0
    http_keep_alive_seconds: Annotated[int, msgspec.Meta(ge=1, le=3600)] = 5
    metrics_window_hours: Annotated[int, msgspec.Meta(ge=1, le=24)] = 4
    metrics_grace_seconds: Annotated[int, msgspec.Meta(ge=0, le=86_400)] = 60
    metrics_backfill_days: Annotated[int, msgspec.Meta(ge=1, le=3650)] = 30
    event_max_age_days: Annotated[int, msgspec.Meta(ge=1, le=36_500)] = 30
    metrics_max_windows: Annotated[int, msgspec.Meta(ge=1, le=10_000)] = 42
    metrics_schedule: Literal["off", "internal"] = "off"
    jwt_secret: str | None = None
    user_hash_key: str | None = None
    jwt_issuer: Annotated[str, msgspec.Meta(min_length=1)] = "tracking"
    jwt_audience: Annotated[str, msgspec.Meta(min_length=1)] = "tracking-api"
    jwt_ttl_seconds: Annotated[int, msgspec.Meta(ge=60, le=86_400)] = 900
    admin_api_key: str | None = None
    ingest_mode: Literal["direct", "kafka"] = "direct"
    kafka_bootstrap: Annotated[str, msgspec.Meta(min_length=1)] = "localhost:9092"
    kafka_topic: KafkaName = "tracking.events"
    kafka_group: KafkaName = "tracking-ingest"
    kafka_batch_max: Annotated[int, msgspec.Meta(ge=1, le=100_000)] = 2000
    kafka_batch_wait_ms: Annotated[int, msgspec.Meta(ge=0, le=60_000)] = 100
    kafka_session_timeout_ms: Annotated[int, msgspec.Meta(ge=1000, le=300_000)] = 10_000
    kafka_send_timeout_ms: Annotated[int, msgspec.Meta(ge=100, le=300_000)] = 5000
    kafka_retry_max_seconds: Annotated[float, msgspec.Meta(gt=0, le=600)] = 30.0
    kafka_unexpected_retries: Annotated[int, msgspec.Meta(ge=0, le=100)] = 3
    consumer_port: Annotated[int, msgspec.Meta(ge=0, le=65535)] = 8001
    # 0: the API serves /metrics on its own port; another port: there only, on prometheus_host.
    prometheus_port: Annotated[int, msgspec.Meta(ge=0, le=65535)] = 0
    prometheus_host: Annotated[str, msgspec.Meta(min_length=1)] = "0.0.0.0"  # noqa: S104
    redis_url: str | None = None
    redis_timeout_ms: Annotated[int, msgspec.Meta(ge=10, le=10_000)] = 1000
    rate_limits: bool = True
    rate_limit_per_minute: Annotated[int, msgspec.Meta(ge=1, le=1_000_000)] = 1000
    events_per_minute: Annotated[int, msgspec.Meta(ge=1, le=10_000_000)] = 60_000
    auth_failures_per_minute: Annotated[int, msgspec.Meta(ge=0, le=1_000_000)] = 20
    rate_limit_processes: Annotated[int, msgspec.Meta(ge=1, le=10_000)] = 1
    trusted_proxies: str = ""
    cache_max_entries: Annotated[int, msgspec.Meta(ge=1, le=10_000_000)] = 10_000
    analytics_open_ttl_seconds: Annotated[int, msgspec.Meta(ge=0, le=3600)] = 15
    log_level: LogLevel = "INFO"
    log_format: Literal["auto", "json", "text"] = "auto"
    access_log: bool = False
    request_log: bool = True
    request_log_days: Annotated[int, msgspec.Meta(ge=1, le=3650)] = 30
    request_log_buffer: Annotated[int, msgspec.Meta(ge=1, le=10_000_000)] = 100_000
    event_partition_months_ahead: Annotated[int, msgspec.Meta(ge=1, le=120)] = 2
    # The live stream: the journal's replay horizon, a subscriber's buffer, the heartbeat,
    # and the streams one client may hold open in each process.
    stream_replay_hours: Annotated[int, msgspec.Meta(ge=1, le=8760)] = 24
    stream_buffer_events: Annotated[int, msgspec.Meta(ge=1, le=1_000_000)] = 1000
    stream_heartbeat_seconds: Annotated[float, msgspec.Meta(gt=0, le=300)] = 15.0
    stream_gather_ms: Annotated[int, msgspec.Meta(ge=0, le=1000)] = 40
    stream_max_per_client: Annotated[int, msgspec.Meta(ge=1, le=10_000)] = 5
    # Retention (`tracking retention`): metric rows kept this many days (unset: for ever),
    # rows removed per transaction, and `serve` applying it every so many seconds (0: never).
    metrics_retention_days: Annotated[int, msgspec.Meta(ge=1, le=36_500)] | None = None
    retention_batch_rows: Annotated[int, msgspec.Meta(ge=1, le=1_000_000)] = 10_000
    retention_interval_seconds: Annotated[int, msgspec.Meta(ge=0, le=604_800)] = 0

    @property
    def storage_kind(self) -> Storage:
        """`--storage`/TRACKING_STORAGE when given; else the database URL's Postgres; else
        the embedded one."""
        if self.storage is not None:
            return self.storage
        return "postgres" if self.database_url else "embedded"

    @property
    def trusted_networks(self) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        """The proxies whose X-Forwarded-For is believed (addresses or CIDR blocks)."""
        return [
            ipaddress.ip_network(p.strip()) for p in self.trusted_proxies.split(",") if p.strip()
        ]

    def __post_init__(self) -> None:
        if self.database_url is not None:
            _check_database_url(self.database_url)
        if self.redis_url is not None:
            _check_redis_url(self.redis_url)
        try:
            self.trusted_networks  # noqa: B018 - parsing it is the check
        except ValueError as error:
            raise SettingsError(
                f"{PREFIX}TRUSTED_PROXIES: must be addresses or CIDR blocks separated by "
                f"commas (e.g. 10.0.0.0/8,192.168.1.7): {error}"
            ) from None
        if HOURS_PER_DAY % self.metrics_window_hours:
            raise SettingsError(
                f"{PREFIX}METRICS_WINDOW_HOURS: must divide 24 (1, 2, 3, 4, 6, 8, 12 or 24), "
                f"got {self.metrics_window_hours}"
            )
        if self.prometheus_port and self.prometheus_port == self.http_port:
            raise SettingsError(
                f"{PREFIX}PROMETHEUS_PORT: must differ from {PREFIX}HTTP_PORT "
                f"({self.http_port}), or be 0 to serve /metrics on the API's port"
            )
        if 0 < self.retention_interval_seconds < MIN_RETENTION_INTERVAL_SECONDS:
            raise SettingsError(
                f"{PREFIX}RETENTION_INTERVAL_SECONDS: must be 0 (off) or at least "
                f"{MIN_RETENTION_INTERVAL_SECONDS}, got {self.retention_interval_seconds}"
            )
        if self.storage == "postgres" and self.database_url is None:
            raise SettingsError(f"{PREFIX}STORAGE: postgres needs {PREFIX}DATABASE_URL")
        if self.jwt_secret is not None and len(self.jwt_secret.encode()) < JWT_SECRET_MIN_BYTES:
            raise SettingsError(
                f"{PREFIX}JWT_SECRET: must be at least {JWT_SECRET_MIN_BYTES} bytes long"
            )
        if (
            self.user_hash_key is not None
            and len(self.user_hash_key.encode()) < USER_HASH_KEY_MIN_BYTES
        ):
            raise SettingsError(
                f"{PREFIX}USER_HASH_KEY: must be at least {USER_HASH_KEY_MIN_BYTES} bytes long"
            )
        if self.admin_api_key is not None:
            try:
                ApiKey.given(self.admin_api_key)  # the domain's rule for a key of our choosing
            except RuleViolation as error:
                raise SettingsError(f"{PREFIX}ADMIN_API_KEY: {error.message}") from None


def _check_database_url(url: str) -> None:
    problem = None
    if not url.startswith(_POSTGRES_SCHEMES):
        problem = "must be a postgresql:// URL (e.g. postgresql://user:password@host:5432/db)"
    elif not _port_is_a_number(url):
        problem = _BAD_PORT
    if problem is not None:
        raise SettingsError(f"{PREFIX}DATABASE_URL: {problem}")


def _check_redis_url(url: str) -> None:
    problem = None
    if not url.startswith(_REDIS_SCHEMES):
        problem = "must be a redis://, rediss:// or unix:// URL (e.g. redis://localhost:6379/0)"
    elif not url.startswith("unix://"):
        database = urlsplit(url).path.strip("/")
        if not _port_is_a_number(url):
            problem = _BAD_PORT
        elif database and not database.isdigit():
            problem = "names a database that is not a number (redis://host:6379/0)"
    if problem is not None:
        raise SettingsError(f"{PREFIX}REDIS_URL: {problem}")


_BAD_PORT = "has a port that is not a number from 1 to 65535"


def _port_is_a_number(url: str) -> bool:
    try:
        urlsplit(url).port  # noqa: B018 - parsing it is the check
    except ValueError:
        return False
    return True


_FIELDS = {name.upper(): name for name in Settings.__struct_fields__}


def load_settings(environ: Mapping[str, str], **overrides: object) -> Settings:
    """Reads every `TRACKING_*` variable that names a setting; `overrides` (the CLI's flags)
    win over the environment. The environment is checked on its own first, so a wrong
    variable is reported even when a flag stands in for it; a wrong override is then an
    `OverrideError`."""
    values: dict[str, object] = {
        _FIELDS[key.removeprefix(PREFIX)]: value
        for key, value in environ.items()
        if key.startswith(PREFIX) and key.removeprefix(PREFIX) in _FIELDS
    }
    settings = _converted(values)
    given = {key: value for key, value in overrides.items() if value is not None}
    if not given:
        return settings
    try:
        return _converted({**values, **given})
    except SettingsError as error:
        setting = error.variable.removeprefix(PREFIX).lower()
        if setting not in given:
            raise
        raise OverrideError(str(error), setting) from None


def _converted(values: Mapping[str, object]) -> Settings:
    try:
        return msgspec.convert(values, Settings, strict=False)
    except msgspec.ValidationError as error:
        raise SettingsError(_one_line(str(error), values)) from None


def unknown_variables(environ: Mapping[str, str]) -> list[str]:
    """`TRACKING_*` variables that name no setting: most likely typos, worth a warning.
    (Kubernetes also injects `<SERVICE>_PORT`-style variables for a Service named tracking.)"""
    return sorted(
        key
        for key in environ
        if key.startswith(PREFIX)
        and key.removeprefix(PREFIX) not in _FIELDS
        and not _NOT_SETTINGS.fullmatch(key)
    )


_SECRETS = {"jwt_secret", "admin_api_key", "database_url", "redis_url", "user_hash_key"}


def _one_line(message: str, values: Mapping[str, object]) -> str:
    detail, _, path = message.partition(" - at `$.")
    if not path:
        return message
    field = path.rstrip("`")
    expected = detail.removesuffix(", got `str`").replace("`", "")
    choices = _choices(field)
    if choices and expected.startswith("Invalid enum value"):
        expected = "must be one of " + ", ".join(choices)
    shown = "" if field in _SECRETS else f", got {values.get(field)!r}"
    return f"{PREFIX}{field.upper()}: {expected}{shown}"


def _choices(field: str) -> list[str]:
    """The allowed values of a setting that takes one of a few words."""
    annotation = Settings.__annotations__.get(field)
    for candidate in (annotation, *get_args(annotation)):
        if get_origin(candidate) is Literal:
            return [str(value) for value in get_args(candidate)]
    return []
