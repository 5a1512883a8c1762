"""Helpers for the HTTP tests: register tenants through the API and speak its credentials."""

import base64
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from httpx import Response
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.conftest import JWT_SECRET
from tracking.bootstrap import Container, shut_down
from tracking.entrypoints.http.app import create_app
from tracking.settings import Settings

Http = AsyncTestClient[Litestar]
PROBLEM = "application/problem+json"


@asynccontextmanager
async def two_processes(first: Container, second: Container) -> AsyncIterator[tuple[Http, Http]]:
    """Two API processes' apps over their containers (the second makes no admin), their
    resources closed after."""
    try:
        async with (
            AsyncTestClient(create_app(first)) as one,
            AsyncTestClient(create_app(second, admin=False)) as other,
        ):
            yield one, other
    finally:
        await shut_down(first)
        await shut_down(second)


@dataclass(frozen=True)
class Tenant:
    id: str
    api_key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"X-API-Key": self.api_key}


async def register(
    http: Http, admin_headers: dict[str, str], *, role: str = "client", name: str | None = None
) -> Tenant:
    body = {"name": name or f"tenant-{uuid.uuid4().hex}", "role": role}
    answer = await http.post("/api/clients", headers=admin_headers, json=body)
    assert answer.status_code == 201, answer.text
    return Tenant(id=answer.json()["id"], api_key=answer.json()["api_key"])


async def bearer(http: Http, api_key: str) -> dict[str, str]:
    answer = await http.post("/api/auth/token", headers={"X-API-Key": api_key})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def claims(settings: Settings, subject: str, **changes: Any) -> dict[str, Any]:
    """Claims as the service would issue them, valid for an hour around now unless changed."""
    now = datetime.now(UTC)
    issued: dict[str, Any] = {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "sub": subject,
        "role": "client",
        "iat": now,
        "exp": now + timedelta(hours=1),
        "jti": uuid.uuid4().hex,
    }
    return issued | changes


def signed(payload: dict[str, Any], secret: str = JWT_SECRET) -> dict[str, str]:
    token = jwt.encode(payload, secret, algorithm="HS256")
    return {"Authorization": f"Bearer {token}"}


def segment(data: dict[str, Any]) -> str:
    raw = json.dumps(data, default=lambda value: int(value.timestamp())).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def assert_problem(answer: Response, status: int, code: str) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == PROBLEM
    body: dict[str, Any] = answer.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"] == f"urn:tracking:problem:{code}"
    assert body["title"]
    assert body["detail"]
    assert body["request_id"] == answer.headers["x-request-id"]
    if status == 401:
        assert answer.headers["www-authenticate"].startswith('Bearer realm="tracking"')
    return body


def event(**fields: Any) -> dict[str, Any]:
    return {"user_id": "u-1", "action": "page.view"} | fields
