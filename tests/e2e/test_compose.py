"""docker-compose.yml and the Dockerfile it builds. The compose file is checked against the
Compose Specification's JSON schema (vendored in tests/e2e/schemas, so offline), and both files
against the promises of the stack: one image, a start in order, a health check on everything that
keeps running, and a configuration the service accepts."""

import copy
import fnmatch
import json
import re
import socket
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from jsonschema import Draft202012Validator

import tracking
from tests.e2e.offline import NetworkUsedError
from tracking.adapters.postgres.migrations import migrations_dir
from tracking.domain.clients import ApiKey
from tracking.settings import load_settings, unknown_variables

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
PYPROJECT = ROOT / "pyproject.toml"
MANIFESTS = ROOT / "deploy" / "k8s"
SCHEMA = Path(__file__).parent / "schemas" / "compose-spec.json"

IMAGE = "tracking:local"
SHARED_ENV = "x-tracking-env"
COMMANDS = {"migrate": ["migrate"], "api": ["serve"], "consumer": ["consume"]}
TRACKING_SERVICES = {*COMMANDS, "metrics"}
# Run once and exit 0; the others keep running.
ONE_SHOT = {"migrate", "kafka-topics"}
HEALTHY = "service_healthy"
COMPLETED = "service_completed_successfully"

Document = dict[str, Any]


pytestmark = pytest.mark.usefixtures("no_network")


def compose() -> Document:
    """A fresh copy each time: YAML anchors share objects between services."""
    loaded = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(loaded, dict)
    return loaded


def services() -> dict[str, Document]:
    found: dict[str, Document] = compose()["services"]
    return found


def shared_env() -> dict[str, str]:
    env: dict[str, str] = compose()[SHARED_ENV]
    return env


def schema_errors(document: Document) -> list[str]:
    schema = json.loads(SCHEMA.read_text())
    Draft202012Validator.check_schema(schema)
    return sorted(
        f"{'.'.join(map(str, error.absolute_path))}: {error.message}"
        for error in Draft202012Validator(schema).iter_errors(document)
    )


def strings(node: object) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from strings(key)
            yield from strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from strings(item)


def test_the_compose_file_is_valid_against_the_compose_specification() -> None:
    assert schema_errors(compose()) == []


def _misspelt_depends_on(document: Document) -> None:
    api = document["services"]["api"]
    api["depends_onn"] = api.pop("depends_on")


def _unknown_condition(document: Document) -> None:
    document["services"]["migrate"]["depends_on"]["postgres"]["condition"] = "service_ready"


def _health_check_as_a_number(document: Document) -> None:
    document["services"]["consumer"]["healthcheck"]["test"] = 8001


def _ports_as_a_mapping(document: Document) -> None:
    document["services"]["api"]["ports"] = {"8000": 8000}


def _unknown_top_level_key(document: Document) -> None:
    document["service"] = document.pop("services")


@pytest.mark.parametrize(
    "break_it",
    [
        _misspelt_depends_on,
        _unknown_condition,
        _health_check_as_a_number,
        _ports_as_a_mapping,
        _unknown_top_level_key,
    ],
)
def test_a_broken_compose_file_is_rejected(break_it: Callable[[Document], None]) -> None:
    """The validation can fail: the same file, broken, does not pass."""
    broken = copy.deepcopy(compose())
    break_it(broken)

    assert schema_errors(broken) != []


def test_the_schema_is_read_from_the_repository_without_the_network() -> None:
    with pytest.raises(NetworkUsedError):
        socket.create_connection(("raw.githubusercontent.com", 443), timeout=1)

    assert schema_errors(compose()) == []


def test_every_tracking_service_runs_the_one_image_built_here() -> None:
    found = services()
    built = {name for name, service in found.items() if "build" in service}

    assert built == TRACKING_SERVICES
    for name in TRACKING_SERVICES:
        assert found[name]["image"] == IMAGE, name
        assert found[name]["build"] == ".", name
    for name, command in COMMANDS.items():
        assert found[name]["command"] == command, name
        assert "entrypoint" not in found[name], name  # the image's: `tracking`
    (loop,) = found["metrics"]["command"]
    assert "tracking calculate-metrics" in loop
    assert "sleep" in loop


def test_every_tracking_process_shares_the_stacks_redis() -> None:
    found = services()
    for name in TRACKING_SERVICES:
        url = load_settings(found[name]["environment"]).redis_url
        assert url is not None, name
        assert urlsplit(url).hostname == "redis", name
    assert "redis" in found


def test_the_stack_starts_in_order() -> None:
    """The schema before anything uses it, the topics before anything publishes or consumes, and
    each server healthy before its clients start."""
    found = services()
    needs_schema = {"postgres": HEALTHY, "migrate": COMPLETED}
    needs_kafka = {"kafka": HEALTHY, "kafka-topics": COMPLETED}
    # Not required (without it each process limits alone), but up first so that limits are
    # shared from the first request.
    needs_redis = {"redis": HEALTHY}
    expected = {
        "migrate": {"postgres": HEALTHY},
        "kafka-topics": {"kafka": HEALTHY},
        "api": needs_schema | needs_kafka | needs_redis,
        "consumer": needs_schema | needs_kafka | needs_redis,
        # The metrics run reads and writes PostgreSQL only.
        "metrics": needs_schema,
    }

    for name, dependencies in expected.items():
        depends_on = found[name]["depends_on"]
        conditions = {dependency: entry["condition"] for dependency, entry in depends_on.items()}
        assert conditions == dependencies, name
    for name, service in found.items():
        for dependency, entry in service.get("depends_on", {}).items():
            wanted = COMPLETED if dependency in ONE_SHOT else HEALTHY
            assert entry["condition"] == wanted, f"{name} -> {dependency}"


def test_every_service_that_keeps_running_has_a_health_check() -> None:
    for name, service in services().items():
        if name in ONE_SHOT:
            assert "healthcheck" not in service, name
            assert service.get("restart", "no") == "no", name
            continue
        check = service["healthcheck"]
        assert check.get("disable") is not True, name
        assert check["test"][0] in {"CMD", "CMD-SHELL"}, name
        assert service["restart"] == "unless-stopped", name


@pytest.mark.parametrize(
    ("name", "port_variable"),
    [("api", "TRACKING_HTTP_PORT"), ("consumer", "TRACKING_CONSUMER_PORT")],
)
def test_the_api_and_the_consumer_are_healthy_when_their_ready_route_says_so(
    name: str, port_variable: str
) -> None:
    """Python asks, since the slim image has no curl; urlopen raises on a 503."""
    service = services()[name]
    port = shared_env()[port_variable]

    command, program, flag, code = service["healthcheck"]["test"]
    assert (command, program, flag) == ("CMD", "python", "-c")
    assert f"urlopen('http://127.0.0.1:{port}/health/ready'" in code
    assert service["ports"] == [f"127.0.0.1:{port}:{port}"]


def test_every_tracking_service_shares_one_configuration_the_service_accepts() -> None:
    found = services()
    env = shared_env()

    for name in TRACKING_SERVICES:
        assert found[name]["environment"] == env, name
    settings = load_settings(env)
    assert settings.storage_kind == "postgres"
    assert settings.ingest_mode == "kafka"
    assert settings.http_host == "0.0.0.0"  # noqa: S104 - a container listens on its own interfaces
    assert settings.database_url is not None
    assert "@postgres:5432/" in settings.database_url
    assert settings.admin_api_key is not None
    ApiKey.given(settings.admin_api_key)


def test_every_tracking_variable_in_the_file_names_a_setting() -> None:
    """An unknown TRACKING_* variable only gets a warning at start: a typo here would go unseen."""
    document = compose()
    environments = [document[SHARED_ENV]] + [
        service.get("environment", {}) for service in document["services"].values()
    ]
    variables = {key for env in environments for key in env if key.startswith("TRACKING_")}

    assert len(variables) > 1
    assert unknown_variables(dict.fromkeys(variables, "")) == []


def test_the_secrets_in_the_file_say_they_are_for_development_only() -> None:
    env = shared_env()

    assert "DEV ONLY" in COMPOSE.read_text()
    for variable in ("TRACKING_JWT_SECRET", "TRACKING_ADMIN_API_KEY"):
        assert "dev-only" in env[variable], variable


def test_kafka_topics_creates_the_topics_the_services_use_and_kafka_creates_none_itself() -> None:
    found = services()
    env = shared_env()
    kafka = found["kafka"]["environment"]
    (script,) = found["kafka-topics"]["command"]
    creates = [line for line in script.splitlines() if "--create" in line]
    topic = env["TRACKING_KAFKA_TOPIC"]

    assert [re.findall(r"--topic (\S+)", line) for line in creates] == [[topic], [f"{topic}.dlq"]]
    assert all("--if-not-exists" in line for line in creates)
    assert all(f"--bootstrap-server {env['TRACKING_KAFKA_BOOTSTRAP']}" in line for line in creates)
    assert kafka["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    # The containers' bootstrap address is one the broker advertises, and the host's is published.
    advertised = {
        name: address
        for name, _, address in (
            listener.partition("://") for listener in kafka["KAFKA_ADVERTISED_LISTENERS"].split(",")
        )
    }
    assert advertised["PLAINTEXT"] == env["TRACKING_KAFKA_BOOTSTRAP"]
    host_port = advertised["PLAINTEXT_HOST"].rpartition(":")[2]
    assert found["kafka"]["ports"] == [f"127.0.0.1:{host_port}:{host_port}"]


def test_no_dollar_sign_is_left_to_compose_interpolation() -> None:
    """Compose replaces $NAME from the host's environment; a shell's own $ must be written $$."""
    for text in strings(compose()):
        assert "$" not in text.replace("$$", ""), text


# The Dockerfile


def instructions(lines: list[str]) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments), with continuation lines joined and comments dropped."""
    found: list[tuple[str, str]] = []
    pending = ""
    for line in lines:
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        keyword, _, arguments = (pending + stripped).partition(" ")
        found.append((keyword.upper(), " ".join(arguments.split())))
        pending = ""
    return found


def stages() -> list[list[tuple[str, str]]]:
    """The instructions of each stage, FROM first."""
    found: list[list[tuple[str, str]]] = []
    for instruction in instructions(DOCKERFILE.read_text().splitlines()):
        if instruction[0] == "FROM":
            found.append([])
        if found:
            found[-1].append(instruction)
    return found


def arguments(stage: list[tuple[str, str]], keyword: str) -> list[str]:
    return [rest for instruction, rest in stage if instruction == keyword]


def run_as_users_of_the_manifests() -> set[int]:
    def walk(node: object) -> Iterator[int]:
        if isinstance(node, dict):
            if isinstance(node.get("runAsUser"), int):
                yield node["runAsUser"]
            for value in node.values():
                yield from walk(value)
        elif isinstance(node, list):
            for item in node:
                yield from walk(item)

    return {
        user
        for path in MANIFESTS.glob("*.yaml")
        for document in yaml.safe_load_all(path.read_text())
        for user in walk(document)
    }


def test_the_image_is_built_in_stages_from_the_lock() -> None:
    builder, *_, final = stages()
    syncs = [command for command in arguments(builder, "RUN") if "uv sync" in command]

    assert syncs
    assert all("--locked" in command and "--no-dev" in command for command in syncs)
    assert "--no-editable" in syncs[-1]
    uv = r"--from=ghcr\.io/astral-sh/uv:\d+\.\d+\.\d+ "  # pinned, never latest
    assert re.search(uv, " ".join(arguments(builder, "COPY")))
    # The virtual environment points at the builder's interpreter: the final stage has the same.
    assert arguments(final, "FROM")[0] == arguments(builder, "FROM")[0].partition(" AS ")[0]
    # Only the built environment reaches the final image, not the sources or the build tools.
    assert arguments(final, "COPY") == ["--from=builder /app/.venv /app/.venv"]


def test_the_image_runs_tracking_as_the_non_root_user_of_the_manifests() -> None:
    final = stages()[-1]
    (user,) = arguments(final, "USER")
    uid, _, gid = user.partition(":")

    assert uid.isdigit()
    assert int(uid) > 0
    assert {int(uid), int(gid or uid)} == run_as_users_of_the_manifests()
    assert json.loads(arguments(final, "ENTRYPOINT")[-1]) == ["tracking"]
    assert json.loads(arguments(final, "CMD")[-1]) == ["serve"]


def _ignored(path: str, patterns: list[str]) -> bool:
    """Docker's rule, closely enough for these patterns: the last pattern matching the path or a
    directory above it decides, and a `!` pattern lets it back in."""
    parts = path.split("/")
    prefixes = ["/".join(parts[: index + 1]) for index in range(len(parts))]
    ignored = False
    for pattern in patterns:
        allowed = pattern.startswith("!")
        glob = pattern.removeprefix("!").rstrip("/")
        if any(fnmatch.fnmatchcase(prefix, glob) for prefix in prefixes):
            ignored = not allowed
    return ignored


def test_the_build_context_holds_what_the_build_needs_and_nothing_local() -> None:
    lines = DOCKERIGNORE.read_text().splitlines()
    patterns = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    needed = [
        "pyproject.toml",
        "uv.lock",
        "README.md",  # the project's readme, read when the wheel is built
        "src/tracking/__init__.py",
        "migrations/env.py",
        "migrations/versions/0001_create_clients_and_events.py",
    ]
    local = [
        ".git/config",
        ".venv/bin/python",
        ".tracking/postgres/PG_VERSION",
        "tests/conftest.py",
        "src/tracking/__pycache__/settings.cpython-312.pyc",
    ]

    assert [path for path in needed if _ignored(path, patterns)] == []
    assert [path for path in local if not _ignored(path, patterns)] == []
    for path in needed:
        assert (ROOT / path).is_file(), path


def test_the_wheel_carries_the_migrations_where_tracking_looks_for_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The image installs tracking as a wheel, without the repository: `migrate`, and the schema
    check of `serve` and `consume`, read the migrations from inside the package."""
    wheel = tomllib.loads(PYPROJECT.read_text())["tool"]["hatch"]["build"]["targets"]["wheel"]
    installed = tmp_path / "site-packages" / "tracking"
    (installed / "_migrations").mkdir(parents=True)
    monkeypatch.setattr(tracking, "__file__", str(installed / "__init__.py"))

    assert wheel["force-include"] == {"migrations": "tracking/_migrations"}
    assert migrations_dir() == installed / "_migrations"
