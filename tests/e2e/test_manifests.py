"""The Kubernetes manifests in deploy/k8s: every document valid against the Kubernetes API's
schemas (bundled with kubernetes-validate, so offline), and the operational promises of
deploy/k8s/README.md held by the objects themselves."""

import copy
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from tests.e2e.offline import NetworkUsedError
from tracking.domain.clients import ApiKey
from tracking.domain.errors import RuleViolation
from tracking.settings import Settings, SettingsError, load_settings, unknown_variables

MANIFESTS = Path(__file__).resolve().parents[2] / "deploy" / "k8s"
KUSTOMIZATION = "kustomization.yaml"
SECRET_EXAMPLE = "secret.example.yaml"
EXPECTED_FILES = {
    "configmap.yaml",
    SECRET_EXAMPLE,
    "deployment-api.yaml",
    "deployment-consumer.yaml",
    "service-api.yaml",
    "pdb-api.yaml",
    "job-migrate.yaml",
    "cronjob-metrics.yaml",
    "cronjob-retention.yaml",
    KUSTOMIZATION,
}
# 1.30: the first release with the preStop `sleep` action on by default; 1.37: the newest
# schemas kubernetes-validate bundles.
KUBERNETES_VERSIONS = ("1.30", "1.37")
CONFIG_MAP = "tracking-config"
SECRET = "tracking-secrets"
SECRET_KEYS = {
    "TRACKING_DATABASE_URL",
    "TRACKING_REDIS_URL",
    "TRACKING_JWT_SECRET",
    "TRACKING_ADMIN_API_KEY",
}
WORKLOADS = {
    ("Deployment", "tracking-api"),
    ("Deployment", "tracking-consumer"),
    ("Job", "tracking-migrate"),
    ("CronJob", "tracking-calculate-metrics"),
    ("CronJob", "tracking-retention"),
}
# `serve` finishes in-flight requests for up to 10 s after SIGTERM.
GRACEFUL_SHUTDOWN_SECONDS = 10
# PostgreSQL's default max_connections, less its superuser_reserved_connections.
POSTGRES_CONNECTIONS = 100 - 3
FOUR_HOURS = 4 * 3600
ALL_INTERFACES = "0.0.0.0"  # noqa: S104 - a pod listens on its own interfaces

Manifest = dict[str, Any]


pytestmark = pytest.mark.usefixtures("no_network")


def documents(path: Path) -> list[Manifest]:
    loaded = [document for document in yaml.safe_load_all(path.read_text()) if document]
    assert all(isinstance(document, dict) for document in loaded), path.name
    return loaded


def manifest_files() -> list[Path]:
    return sorted(path for path in MANIFESTS.glob("*.y*ml") if path.name != KUSTOMIZATION)


def objects() -> dict[tuple[str, str], Manifest]:
    found: dict[tuple[str, str], Manifest] = {}
    for path in manifest_files():
        for document in documents(path):
            key = (document["kind"], document["metadata"]["name"])
            assert key not in found, f"{key} is defined twice"
            found[key] = document
    return found


def pod_spec(workload: Manifest) -> Manifest:
    spec: Manifest = workload["spec"]
    if workload["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    pod: Manifest = spec["template"]["spec"]
    return pod


def only_container(workload: Manifest) -> Manifest:
    containers: list[Manifest] = pod_spec(workload)["containers"]
    assert len(containers) == 1
    return containers[0]


def container_port(container: Manifest, port: int | str) -> int:
    """A port given by number or by name, as a probe or a Service's targetPort gives it."""
    if isinstance(port, int):
        return port
    named = {entry["name"]: entry["containerPort"] for entry in container["ports"]}
    number: int = named[port]
    return number


def test_deploy_k8s_holds_every_expected_file() -> None:
    assert {path.name for path in MANIFESTS.iterdir()} >= EXPECTED_FILES


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_document_is_valid_against_the_kubernetes_schemas(version: str) -> None:
    """Strict schemas: an unknown (misspelt) field is an error too, not ignored."""
    errors: list[str] = []
    validated: set[tuple[str, str]] = set()
    for path in manifest_files():
        for document in documents(path):
            where = f"{path.name}: {document.get('kind')}/{document['metadata']['name']}"
            try:
                kubernetes_validate.validate(document, version, strict=True)
            except kubernetes_validate.ValidationError as error:
                field = ".".join(str(part) for part in error.path)
                errors.append(f"{where}: {field}: {error.message}")
            validated.add((document["kind"], document["metadata"]["name"]))

    assert errors == []
    assert validated >= {
        *WORKLOADS,
        ("ConfigMap", CONFIG_MAP),
        ("Secret", SECRET),
        ("Service", "tracking-api"),
        ("PodDisruptionBudget", "tracking-api"),
    }


def _concurrency_policy_as_int(manifests: dict[tuple[str, str], Manifest]) -> Manifest:
    cron_job = copy.deepcopy(manifests["CronJob", "tracking-calculate-metrics"])
    cron_job["spec"]["concurrencyPolicy"] = 1
    return cron_job


def _deployment_without_selector(manifests: dict[tuple[str, str], Manifest]) -> Manifest:
    deployment = copy.deepcopy(manifests["Deployment", "tracking-api"])
    del deployment["spec"]["selector"]
    return deployment


def _misspelt_env_from(manifests: dict[tuple[str, str], Manifest]) -> Manifest:
    job = copy.deepcopy(manifests["Job", "tracking-migrate"])
    container = only_container(job)
    container["envFrm"] = container.pop("envFrom")
    return job


def _probe_port_as_list(manifests: dict[tuple[str, str], Manifest]) -> Manifest:
    deployment = copy.deepcopy(manifests["Deployment", "tracking-api"])
    only_container(deployment)["livenessProbe"]["httpGet"]["port"] = [8000]
    return deployment


def _config_map_value_as_mapping(manifests: dict[tuple[str, str], Manifest]) -> Manifest:
    config_map = copy.deepcopy(manifests["ConfigMap", CONFIG_MAP])
    config_map["data"]["TRACKING_HTTP_PORT"] = {"port": 8000}
    return config_map


@pytest.mark.parametrize(
    "break_it",
    [
        _concurrency_policy_as_int,
        _deployment_without_selector,
        _misspelt_env_from,
        _probe_port_as_list,
        _config_map_value_as_mapping,
    ],
)
@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_a_broken_document_is_rejected(
    break_it: Callable[[dict[tuple[str, str], Manifest]], Manifest], version: str
) -> None:
    """The validation can fail: the same documents, broken, do not pass."""
    broken = break_it(objects())

    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, version, strict=True)


def test_a_kind_without_a_schema_is_an_error_not_a_pass() -> None:
    unknown = {"apiVersion": "apps/v1", "kind": "Deploymnet", "metadata": {"name": "x"}}

    with pytest.raises(kubernetes_validate.SchemaNotFoundError):
        kubernetes_validate.validate(unknown, KUBERNETES_VERSIONS[-1], strict=True)


def test_the_schemas_are_read_from_the_package_without_the_network() -> None:
    """The autouse fixture refuses any connection; this checks that the refusal works, so the
    validations above really ran offline."""
    with pytest.raises(NetworkUsedError):
        socket.create_connection(("kubernetes.io", 443), timeout=1)
    with pytest.raises(NetworkUsedError):
        socket.getaddrinfo("kubernetes.io", 443)

    deployment = objects()["Deployment", "tracking-api"]
    assert kubernetes_validate.validate(deployment, "1.37", strict=True) == "1.37"


def test_kustomization_lists_every_manifest_but_the_example_secret() -> None:
    (kustomization,) = documents(MANIFESTS / KUSTOMIZATION)
    listed = kustomization["resources"]

    assert len(listed) == len(set(listed))
    assert set(listed) == {path.name for path in manifest_files()} - {SECRET_EXAMPLE}


def test_every_workload_shares_the_config_map_and_the_secret() -> None:
    manifests = objects()
    images = set()
    for key in WORKLOADS:
        workload = manifests[key]
        container = only_container(workload)
        assert container["envFrom"] == [
            {"configMapRef": {"name": CONFIG_MAP}},
            {"secretRef": {"name": SECRET}},
        ], key
        # No setting is given to one workload only, outside the shared configuration.
        assert not any(
            variable["name"].startswith("TRACKING_") for variable in container.get("env", [])
        ), key
        assert container["command"] == ["tracking"], key
        images.add(container["image"])
    assert len(images) == 1


@pytest.mark.parametrize("key", sorted(WORKLOADS))
def test_every_workload_runs_without_service_links_as_non_root_on_a_read_only_root(
    key: tuple[str, str],
) -> None:
    """Service links would inject TRACKING_API_PORT and the like: our prefix, no setting."""
    workload = objects()[key]
    pod = pod_spec(workload)
    container = only_container(workload)

    assert pod["enableServiceLinks"] is False
    assert pod["automountServiceAccountToken"] is False
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] > 0
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]
    assert set(container["resources"]["requests"]) == {"cpu", "memory"}
    assert set(container["resources"]["limits"]) == {"cpu", "memory"}


def test_the_api_deployment_probes_the_health_routes_and_stops_gracefully() -> None:
    deployment = objects()["Deployment", "tracking-api"]
    pod = pod_spec(deployment)
    container = only_container(deployment)

    assert deployment["spec"]["replicas"] == 2
    assert container["args"][0] == "serve"
    assert container_port(container, "http") == 8000
    for probe, path in [
        ("livenessProbe", "/health/live"),
        ("readinessProbe", "/health/ready"),
        ("startupProbe", "/health/live"),
    ]:
        http_get = container[probe]["httpGet"]
        assert http_get["path"] == path, probe
        assert container_port(container, http_get["port"]) == 8000, probe
    pre_stop_sleep = container["lifecycle"]["preStop"]["sleep"]["seconds"]
    assert pre_stop_sleep > 0
    assert pod["terminationGracePeriodSeconds"] > pre_stop_sleep + GRACEFUL_SHUTDOWN_SECONDS
    selector = deployment["spec"]["selector"]["matchLabels"]
    assert selector.items() <= deployment["spec"]["template"]["metadata"]["labels"].items()
    assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0


def test_the_service_and_the_budget_reach_the_api_pods_on_their_http_port() -> None:
    manifests = objects()
    deployment = manifests["Deployment", "tracking-api"]
    service = manifests["Service", "tracking-api"]
    budget = manifests["PodDisruptionBudget", "tracking-api"]
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]

    (port,) = service["spec"]["ports"]
    assert port["port"] == 80
    assert container_port(only_container(deployment), port["targetPort"]) == 8000
    assert service["spec"]["selector"].items() <= pod_labels.items()
    assert budget["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    assert budget["spec"]["minAvailable"] < deployment["spec"]["replicas"]
    # Consumer pods serve no API: the Service sends them nothing, the budget never counts them.
    consumer_labels = manifests["Deployment", "tracking-consumer"]["spec"]["template"]["metadata"][
        "labels"
    ]
    assert not service["spec"]["selector"].items() <= consumer_labels.items()
    assert not budget["spec"]["selector"]["matchLabels"].items() <= consumer_labels.items()


def test_the_consumer_probes_its_own_port_and_finishes_its_batch_on_shutdown() -> None:
    """Probes on the consumer's own port (TRACKING_CONSUMER_PORT), and time after SIGTERM for
    the batch in hand (its store, its dead letters, its offset commit) twice over."""
    deployment = objects()["Deployment", "tracking-consumer"]
    pod = pod_spec(deployment)
    container = only_container(deployment)
    settings = _settings()

    assert container["command"] + container["args"] == ["tracking", "consume"]
    assert deployment["spec"]["replicas"] >= 1
    assert settings.consumer_port > 0
    assert container_port(container, "health") == settings.consumer_port
    for probe, path in [
        ("livenessProbe", "/health/live"),
        ("readinessProbe", "/health/ready"),
        ("startupProbe", "/health/live"),
    ]:
        http_get = container[probe]["httpGet"]
        assert http_get["path"] == path, probe
        assert container_port(container, http_get["port"]) == settings.consumer_port, probe
    batch_seconds = (
        settings.db_statement_timeout_ms
        + settings.kafka_send_timeout_ms
        + settings.kafka_batch_wait_ms
    ) / 1000
    assert pod["terminationGracePeriodSeconds"] >= 2 * batch_seconds
    selector = deployment["spec"]["selector"]["matchLabels"]
    assert selector.items() <= deployment["spec"]["template"]["metadata"]["labels"].items()
    api_labels = objects()["Deployment", "tracking-api"]["spec"]["template"]["metadata"]["labels"]
    assert not selector.items() <= api_labels.items()


def test_the_metrics_cron_job_runs_one_bounded_calculation_per_window() -> None:
    cron_job = objects()["CronJob", "tracking-calculate-metrics"]
    spec = cron_job["spec"]
    job = spec["jobTemplate"]["spec"]
    container = only_container(cron_job)

    assert container["command"] + container["args"] == ["tracking", "calculate-metrics"]
    assert spec["schedule"] == "5 */4 * * *"
    assert spec["timeZone"] == "Etc/UTC"
    assert spec["concurrencyPolicy"] == "Forbid"
    assert 0 < spec["startingDeadlineSeconds"] < FOUR_HOURS
    assert spec["successfulJobsHistoryLimit"] >= 1
    assert spec["failedJobsHistoryLimit"] >= 1
    assert 0 < job["activeDeadlineSeconds"] < FOUR_HOURS
    assert job["backoffLimit"] >= 1
    assert pod_spec(cron_job)["restartPolicy"] in {"OnFailure", "Never"}


def test_the_retention_cron_job_runs_once_a_day_between_two_metrics_runs() -> None:
    cron_job = objects()["CronJob", "tracking-retention"]
    spec = cron_job["spec"]
    job = spec["jobTemplate"]["spec"]
    container = only_container(cron_job)
    minute, hour, *every_day = spec["schedule"].split()
    metrics_minute = objects()["CronJob", "tracking-calculate-metrics"]["spec"]["schedule"]

    assert container["command"] + container["args"] == ["tracking", "retention"]
    assert every_day == ["*", "*", "*"]
    assert int(hour) % 4 != 0 or int(minute) != int(metrics_minute.split()[0])
    assert spec["timeZone"] == "Etc/UTC"
    assert spec["concurrencyPolicy"] == "Forbid"
    assert 0 < spec["startingDeadlineSeconds"] < 24 * 3600
    assert 0 < job["activeDeadlineSeconds"] < 24 * 3600
    assert job["backoffLimit"] >= 1
    assert pod_spec(cron_job)["restartPolicy"] in {"OnFailure", "Never"}
    # Off in serve, so the CronJob is the one that applies it.
    assert _settings().retention_interval_seconds == 0


def test_the_migrate_job_runs_once_and_cleans_up() -> None:
    job = objects()["Job", "tracking-migrate"]
    container = only_container(job)

    assert container["command"] + container["args"] == ["tracking", "migrate"]
    assert job["spec"]["backoffLimit"] >= 1
    assert job["spec"]["ttlSecondsAfterFinished"] > 0
    assert job["spec"]["activeDeadlineSeconds"] > 0
    assert job["spec"].get("parallelism", 1) == 1
    assert pod_spec(job)["restartPolicy"] in {"OnFailure", "Never"}


def _config() -> dict[str, str]:
    data: dict[str, str] = objects()["ConfigMap", CONFIG_MAP]["data"]
    return data


def _example_secret() -> dict[str, str]:
    data: dict[str, str] = objects()["Secret", SECRET]["stringData"]
    return data


# What a real tracking-secrets Secret could hold.
USABLE_SECRET = {
    "TRACKING_DATABASE_URL": "postgresql://tracking:pw@postgres:5432/tracking",
    "TRACKING_JWT_SECRET": "s" * 48,
    "TRACKING_ADMIN_API_KEY": "trk_" + "A" * 43,
}


def _settings() -> Settings:
    """What every workload reads: the ConfigMap and a usable Secret."""
    return load_settings({**_config(), **USABLE_SECRET})


def test_the_config_map_holds_only_known_non_secret_settings_the_service_accepts() -> None:
    config = _config()

    settings = _settings()

    assert unknown_variables(config) == []
    assert not config.keys() & SECRET_KEYS
    assert config["TRACKING_STORAGE"] == "postgres"
    assert settings.storage_kind == "postgres"
    assert (settings.http_host, settings.http_port) == (ALL_INTERFACES, 8000)
    assert settings.log_level == "INFO"
    assert (settings.metrics_window_hours, settings.metrics_grace_seconds) == (4, 60)
    assert settings.db_pool_size == 8
    # Each group commit in flight holds a connection: some must be left for reads.
    assert settings.group_commit_flushes < settings.db_pool_size
    assert settings.ingest_mode == "kafka"
    assert settings.kafka_topic == "tracking.events"


def test_the_example_secret_is_an_obvious_placeholder_that_cannot_run() -> None:
    secret = _example_secret()
    text = (MANIFESTS / SECRET_EXAMPLE).read_text()

    assert set(secret) == SECRET_KEYS
    assert all("REPLACE-ME" in value for value in secret.values())
    assert "EXAMPLE ONLY" in text
    with pytest.raises(SettingsError, match="TRACKING_JWT_SECRET"):
        load_settings({**_config(), **secret})
    with pytest.raises(RuleViolation):
        ApiKey.given(secret["TRACKING_ADMIN_API_KEY"])


def _workers(args: list[str]) -> int:
    arguments: Iterator[str] = iter(args)
    for argument in arguments:
        if argument == "--workers":
            return int(next(arguments))
        if argument.startswith("--workers="):
            return int(argument.partition("=")[2])
    return 1


def _pods_at_the_peak_of_a_rollout(deployment: Manifest) -> int:
    rolling_update = deployment["spec"]["strategy"]["rollingUpdate"]
    surge: int = rolling_update["maxSurge"]
    replicas: int = deployment["spec"]["replicas"]
    return replicas + surge


def test_connections_at_the_peak_of_a_rollout_stay_under_postgres_max_connections() -> None:
    """API pods (replicas plus the rollout's surge) x workers x pool, plus consumer pods x pool
    (one process each), plus one metrics run, one retention run and one migration, each with
    a pool of its own."""
    manifests = objects()
    api = manifests["Deployment", "tracking-api"]
    consumer = manifests["Deployment", "tracking-consumer"]
    config = _config()
    pool = int(config["TRACKING_DB_POOL_SIZE"]) + int(config.get("TRACKING_DB_MAX_OVERFLOW", "0"))
    workers = _workers(only_container(api)["args"])

    peak = (
        _pods_at_the_peak_of_a_rollout(api) * workers * pool
        + _pods_at_the_peak_of_a_rollout(consumer) * pool
        + 3 * pool
    )

    assert workers == 2
    assert _workers(only_container(consumer)["args"]) == 1
    assert peak == 88
    assert peak <= POSTGRES_CONNECTIONS


@pytest.mark.parametrize(
    ("name", "port_name"), [("tracking-api", "http"), ("tracking-consumer", "health")]
)
def test_prometheus_scrapes_each_deployment_where_it_serves_its_metrics(
    name: str, port_name: str
) -> None:
    """The API serves /metrics on its HTTP port unless TRACKING_PROMETHEUS_PORT names another;
    the consumer on TRACKING_CONSUMER_PORT."""
    deployment = objects()["Deployment", name]
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    settings = _settings()
    serving = settings.consumer_port if name == "tracking-consumer" else settings.http_port

    assert annotations["prometheus.io/scrape"] == "true"
    assert annotations["prometheus.io/path"] == "/metrics"
    assert settings.prometheus_port == 0
    assert int(annotations["prometheus.io/port"]) == serving
    assert container_port(only_container(deployment), port_name) == serving
