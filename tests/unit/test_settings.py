"""Settings: TRACKING_* variables, checked once, with one-line errors that name the variable."""

import pytest

from tracking.settings import (
    OverrideError,
    Settings,
    SettingsError,
    load_settings,
    unknown_variables,
)

SECRET = "a-secret-that-must-never-be-printed"


def test_no_variables_give_the_defaults() -> None:
    settings = load_settings({})

    assert settings == Settings()
    assert (settings.storage_kind, settings.http_host, settings.http_port) == (
        "embedded",
        "127.0.0.1",
        8000,
    )
    assert (settings.database_url, settings.data_dir) == (None, ".tracking")
    assert (settings.db_pool_size, settings.db_max_overflow, settings.db_connect_retries) == (
        20,
        0,
        10,
    )
    assert settings.db_statement_timeout_ms == 5000
    assert settings.auth_cache_seconds == 1.0
    assert (settings.group_commit_max_events, settings.group_commit_flushes) == (500, 8)
    assert (settings.jwt_issuer, settings.jwt_audience, settings.jwt_ttl_seconds) == (
        "tracking",
        "tracking-api",
        900,
    )
    assert (settings.jwt_secret, settings.admin_api_key) == (None, None)
    assert (settings.log_level, settings.access_log) == ("INFO", False)


def test_variables_are_read_and_converted() -> None:
    settings = load_settings(
        {
            "TRACKING_HTTP_HOST": "10.0.0.1",
            "TRACKING_HTTP_PORT": "9000",
            "TRACKING_JWT_TTL_SECONDS": "60",
            "TRACKING_JWT_SECRET": "j" * 32,
            "TRACKING_LOG_LEVEL": "DEBUG",
            "TRACKING_ACCESS_LOG": "true",
            "OTHER_HTTP_PORT": "1",
        }
    )

    assert (settings.http_host, settings.http_port, settings.jwt_ttl_seconds) == (
        "10.0.0.1",
        9000,
        60,
    )
    assert (settings.jwt_secret, settings.log_level, settings.access_log) == (
        "j" * 32,
        "DEBUG",
        True,
    )


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("TRACKING_HTTP_PORT", "abc"),
        ("TRACKING_HTTP_PORT", "0"),
        ("TRACKING_HTTP_PORT", "65536"),
        ("TRACKING_STORAGE", "x"),
        ("TRACKING_JWT_SECRET", "too-short"),
        ("TRACKING_JWT_TTL_SECONDS", "5"),
        ("TRACKING_JWT_TTL_SECONDS", "86401"),
        ("TRACKING_LOG_LEVEL", "LOUD"),
        ("TRACKING_ACCESS_LOG", "maybe"),
        ("TRACKING_JWT_ISSUER", ""),
    ],
)
def test_a_bad_value_is_an_error_that_starts_with_the_variables_name(
    variable: str, value: str
) -> None:
    with pytest.raises(SettingsError) as refused:
        load_settings({variable: value})

    message = str(refused.value)
    assert message.startswith(f"{variable}: ")
    assert "\n" not in message


def test_a_secret_too_short_is_refused_without_showing_it() -> None:
    short = "short-secret-value"

    with pytest.raises(SettingsError) as refused:
        load_settings({"TRACKING_JWT_SECRET": short})

    assert short not in str(refused.value)


@pytest.mark.parametrize("override", [{"jwt_secret": 12345}, {"admin_api_key": ["trk_abc"]}])
def test_a_secret_of_the_wrong_type_is_refused_without_showing_it(
    override: dict[str, object],
) -> None:
    [(name, value)] = override.items()

    with pytest.raises(SettingsError) as refused:
        load_settings({}, **override)

    assert str(refused.value).startswith(f"TRACKING_{name.upper()}: ")
    assert str(value) not in str(refused.value)
    assert repr(value) not in str(refused.value)


def test_secrets_never_appear_in_another_variables_error() -> None:
    environ = {
        "TRACKING_JWT_SECRET": SECRET,
        "TRACKING_ADMIN_API_KEY": "trk_" + SECRET,
        "TRACKING_HTTP_PORT": "abc",
    }

    with pytest.raises(SettingsError) as refused:
        load_settings(environ)

    assert str(refused.value).startswith("TRACKING_HTTP_PORT: ")
    assert SECRET not in str(refused.value)


def test_overrides_beat_the_environment_and_none_overrides_nothing() -> None:
    environ = {"TRACKING_HTTP_PORT": "9000", "TRACKING_LOG_LEVEL": "ERROR"}

    settings = load_settings(environ, http_port=9100, log_level=None)

    assert (settings.http_port, settings.log_level) == (9100, "ERROR")


def test_a_bad_override_names_the_setting_for_the_caller_to_name_its_flag() -> None:
    with pytest.raises(OverrideError) as refused:
        load_settings({"TRACKING_HTTP_PORT": "9000"}, http_port=0)

    assert refused.value.setting == "http_port"
    assert refused.value.problem == "Expected int >= 1, got 0"
    assert str(refused.value).startswith("TRACKING_HTTP_PORT: ")


def test_a_bad_variable_is_refused_even_when_an_override_stands_in_for_it() -> None:
    with pytest.raises(SettingsError) as refused:
        load_settings({"TRACKING_HTTP_PORT": "abc"}, http_port=9000)

    assert not isinstance(refused.value, OverrideError)
    assert str(refused.value) == "TRACKING_HTTP_PORT: Expected int, got 'abc'"


def test_an_override_that_breaks_a_rule_with_the_environment_is_an_override_error() -> None:
    with pytest.raises(OverrideError) as refused:
        load_settings({}, storage="postgres")

    assert refused.value.setting == "storage"
    assert refused.value.problem == "postgres needs TRACKING_DATABASE_URL"


@pytest.mark.parametrize("key", ["hunter2", "trk_short", "x" * 60, " "])
def test_a_weak_admin_key_is_refused_at_load_without_showing_it(key: str) -> None:
    with pytest.raises(SettingsError) as refused:
        load_settings({"TRACKING_ADMIN_API_KEY": key})

    assert str(refused.value) == (
        "TRACKING_ADMIN_API_KEY: must start with 'trk_' and be at least 47 characters long"
    )


def test_an_admin_key_as_strong_as_a_generated_one_is_taken() -> None:
    key = "trk_" + "K" * 43

    assert load_settings({"TRACKING_ADMIN_API_KEY": key + "\n"}).admin_api_key == key + "\n"


def test_unknown_variables_lists_only_tracking_names_that_are_no_setting() -> None:
    environ = {
        "TRACKING_TYPO": "1",
        "TRACKING_HTTP_PROT": "8000",
        "TRACKING_HTTP_PORT": "8000",
        "TRACKING_TEST_DATABASE_URL": "postgresql://x",
        "HOME": "/root",
    }

    assert unknown_variables(environ) == ["TRACKING_HTTP_PROT", "TRACKING_TYPO"]


def test_a_database_url_selects_postgres_and_memory_still_wins_when_asked() -> None:
    url = "postgresql://tracking:secret@db:5432/tracking"

    assert load_settings({"TRACKING_DATABASE_URL": url}).storage_kind == "postgres"
    assert load_settings({"TRACKING_DATABASE_URL": url}, storage="memory").storage_kind == "memory"


def test_a_database_url_that_is_not_postgres_is_refused_without_echoing_it() -> None:
    with pytest.raises(SettingsError) as refused:
        load_settings({"TRACKING_DATABASE_URL": "mysql://root:hunter2@db/x"})

    assert str(refused.value).startswith("TRACKING_DATABASE_URL:")
    assert "hunter2" not in str(refused.value)


def test_postgres_storage_needs_a_database_url() -> None:
    with pytest.raises(SettingsError, match=r"^TRACKING_STORAGE: postgres needs"):
        load_settings({"TRACKING_STORAGE": "postgres"})


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("TRACKING_DB_POOL_SIZE", "0"),
        ("TRACKING_DB_CONNECT_RETRIES", "-1"),
        ("TRACKING_DB_STATEMENT_TIMEOUT_MS", "soon"),
        ("TRACKING_AUTH_CACHE_SECONDS", "61"),
        ("TRACKING_GROUP_COMMIT_FLUSHES", "0"),
        ("TRACKING_GROUP_COMMIT_MAX_EVENTS", "100000"),
        ("TRACKING_METRICS_WINDOW_HOURS", "5"),
        ("TRACKING_METRICS_WINDOW_HOURS", "0"),
        ("TRACKING_METRICS_SCHEDULE", "hourly"),
        ("TRACKING_METRICS_MAX_WINDOWS", "0"),
    ],
)
def test_a_bad_database_or_ingest_setting_names_itself(variable: str, value: str) -> None:
    with pytest.raises(SettingsError, match=f"^{variable}:"):
        load_settings({variable: value})


def test_kafka_ingest_is_off_and_its_settings_have_their_documented_defaults() -> None:
    settings = load_settings({})

    assert settings.ingest_mode == "direct"
    assert (settings.kafka_bootstrap, settings.kafka_topic, settings.kafka_group) == (
        "localhost:9092",
        "tracking.events",
        "tracking-ingest",
    )
    assert (settings.kafka_batch_max, settings.kafka_batch_wait_ms) == (2000, 100)
    assert settings.consumer_port == 8001


def test_kafka_variables_are_read_and_converted() -> None:
    settings = load_settings(
        {
            "TRACKING_INGEST_MODE": "kafka",
            "TRACKING_KAFKA_BOOTSTRAP": "k1:9092,k2:9092",
            "TRACKING_KAFKA_TOPIC": "acme_prod.events-v2",
            "TRACKING_KAFKA_GROUP": "ingest-2",
            "TRACKING_KAFKA_BATCH_MAX": "500",
            "TRACKING_KAFKA_RETRY_MAX_SECONDS": "2.5",
            "TRACKING_CONSUMER_PORT": "0",
        }
    )

    assert settings.ingest_mode == "kafka"
    assert (settings.kafka_bootstrap, settings.kafka_topic, settings.kafka_group) == (
        "k1:9092,k2:9092",
        "acme_prod.events-v2",
        "ingest-2",
    )
    assert (settings.kafka_batch_max, settings.kafka_retry_max_seconds) == (500, 2.5)
    assert settings.consumer_port == 0


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("TRACKING_INGEST_MODE", "queue"),
        ("TRACKING_INGEST_MODE", "Kafka"),
        ("TRACKING_INGEST_MODE", ""),
        ("TRACKING_KAFKA_TOPIC", ""),
        ("TRACKING_KAFKA_TOPIC", "tracking events"),
        ("TRACKING_KAFKA_TOPIC", "tracking/events"),
        ("TRACKING_KAFKA_TOPIC", "t" * 201),
        ("TRACKING_KAFKA_GROUP", "my group"),
        ("TRACKING_KAFKA_BOOTSTRAP", ""),
        ("TRACKING_KAFKA_BATCH_MAX", "0"),
        ("TRACKING_KAFKA_BATCH_MAX", "many"),
        ("TRACKING_KAFKA_BATCH_WAIT_MS", "-1"),
        ("TRACKING_KAFKA_SESSION_TIMEOUT_MS", "999"),
        ("TRACKING_KAFKA_RETRY_MAX_SECONDS", "0"),
        ("TRACKING_CONSUMER_PORT", "65536"),
        ("TRACKING_CONSUMER_PORT", "-1"),
    ],
)
def test_a_bad_kafka_setting_is_one_line_that_names_itself(variable: str, value: str) -> None:
    with pytest.raises(SettingsError) as refused:
        load_settings({variable: value})

    message = str(refused.value)
    assert message.startswith(f"{variable}: ")
    assert "\n" not in message


def test_kafka_variables_are_settings_and_a_misspelt_one_is_unknown() -> None:
    environ = {
        "TRACKING_INGEST_MODE": "kafka",
        "TRACKING_KAFKA_TOPIC": "t",
        "TRACKING_KAFKA_GROUP": "g",
        "TRACKING_CONSUMER_PORT": "8001",
        "TRACKING_KAFKA_TOPICS": "t",
    }

    assert unknown_variables(environ) == ["TRACKING_KAFKA_TOPICS"]


@pytest.mark.parametrize(
    ("variable", "allowed"),
    [
        ("TRACKING_LOG_LEVEL", "DEBUG, INFO, WARNING, ERROR"),
        ("TRACKING_STORAGE", "embedded, postgres, memory"),
        ("TRACKING_INGEST_MODE", "direct, kafka"),
    ],
)
def test_a_word_that_is_not_one_of_the_choices_is_refused_naming_them(
    variable: str, allowed: str
) -> None:
    with pytest.raises(SettingsError) as refused:
        load_settings({variable: "verbose"})

    assert str(refused.value) == f"{variable}: must be one of {allowed}, got 'verbose'"


def test_redis_and_proxy_settings_are_checked_with_a_precise_message() -> None:
    with pytest.raises(SettingsError, match=r"^TRACKING_REDIS_URL: must be a redis://"):
        load_settings({"TRACKING_REDIS_URL": "http://cache:6379"})
    with pytest.raises(SettingsError, match=r"^TRACKING_REDIS_URL: has a port that is not"):
        load_settings({"TRACKING_REDIS_URL": "redis://cache:abc/0"})
    with pytest.raises(SettingsError, match=r"^TRACKING_REDIS_URL: names a database"):
        load_settings({"TRACKING_REDIS_URL": "rediss://cache:6380/zero"})
    with pytest.raises(SettingsError, match=r"^TRACKING_TRUSTED_PROXIES: must be addresses"):
        load_settings({"TRACKING_TRUSTED_PROXIES": "10.0.0.0/8, proxy.internal"})
    settings = load_settings(
        {"TRACKING_REDIS_URL": "unix:///run/redis.sock", "TRACKING_TRUSTED_PROXIES": "10.0.0.0/8"}
    )
    assert settings.redis_url == "unix:///run/redis.sock"
    assert [str(n) for n in settings.trusted_networks] == ["10.0.0.0/8"]


def test_a_redis_url_is_never_shown_in_an_error() -> None:
    with pytest.raises(SettingsError) as refused:
        load_settings({"TRACKING_REDIS_URL": 5})  # type: ignore[dict-item]
    assert "5" not in str(refused.value).partition(":")[2]


def test_the_prometheus_port_must_differ_from_the_api_s() -> None:
    env = {"TRACKING_PROMETHEUS_PORT": "9100", "TRACKING_HTTP_PORT": "9100"}
    with pytest.raises(SettingsError, match=r"^TRACKING_PROMETHEUS_PORT: must differ"):
        load_settings(env)
    assert load_settings(env | {"TRACKING_HTTP_PORT": "8000"}).prometheus_port == 9100


def test_a_user_hash_key_shorter_than_32_bytes_is_refused_without_echoing_it() -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings({"TRACKING_USER_HASH_KEY": "short-secret"})

    assert str(raised.value).startswith("TRACKING_USER_HASH_KEY: must be at least 32 bytes")
    assert "short-secret" not in str(raised.value)
    assert load_settings({"TRACKING_USER_HASH_KEY": "k" * 32}).user_hash_key == "k" * 32
