"""The OpenAPI document: its settings, security schemes and the documented problem answers."""

from collections.abc import Sequence
from http import HTTPStatus
from importlib.metadata import version

from litestar.openapi import OpenAPIConfig
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.plugins import RedocRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import (
    Components,
    Example,
    OpenAPI,
    OpenAPIMediaType,
    OpenAPIResponse,
    Reference,
    SecurityScheme,
)

from tracking.domain.errors import FieldError
from tracking.entrypoints.http.problems import MEDIA_TYPE, Problem

VENDOR = "/vendor"
"""Where the documentation pages' scripts are served from: this service (static/vendor/)."""
SWAGGER = f"{VENDOR}/swagger-ui-5.35.0"
NO_ICON = "<link rel='icon' href='data:,'>"
"""Litestar's default icon comes from a CDN; a browser asks for one anyway without this."""


def openapi_config() -> OpenAPIConfig:
    return OpenAPIConfig(
        title="tracking",
        version=version("tracking"),
        description="Records what the users of our clients' applications do, exactly once. "
        "Every /api route takes `Authorization: Bearer <JWT>` or `X-API-Key: <key>`; errors "
        "are application/problem+json (RFC 9457) with a stable `code`.",
        path="/schema",
        render_plugins=[
            RedocRenderPlugin(
                path="/",
                js_url=f"{VENDOR}/redoc-2.5.4/redoc.standalone.js",
                google_fonts=False,
                favicon=NO_ICON,
            ),
            SwaggerRenderPlugin(
                path="/swagger",
                js_url=f"{SWAGGER}/swagger-ui-bundle.js",
                standalone_preset_js_url=f"{SWAGGER}/swagger-ui-standalone-preset.js",
                css_url=f"{SWAGGER}/swagger-ui.css",
                favicon=NO_ICON,
            ),
        ],
        components=Components(
            security_schemes={
                "BearerToken": SecurityScheme(type="http", scheme="bearer", bearer_format="JWT"),
                "ApiKey": SecurityScheme(
                    type="apiKey", name="X-API-Key", security_scheme_in="header"
                ),
            }
        ),
    )


def documented(*statuses: int) -> dict[int, ResponseSpec]:
    """The problem answers a route can give, for its OpenAPI description."""
    return {
        status: ResponseSpec(
            data_container=Problem,
            description=HTTPStatus(status).phrase,
            media_type=MEDIA_TYPE,
            generate_examples=False,
            examples=[Example(summary=_EXAMPLES[status].code, value=_EXAMPLES[status])],
        )
        for status in statuses
    }


def _example(
    status: int, code: str, detail: str, errors: list[FieldError] | None = None
) -> Problem:
    return Problem(
        type=f"urn:tracking:problem:{code}",
        title=HTTPStatus(status).phrase,
        status=status,
        detail=detail,
        code=code,
        request_id="5f0c9e3cf0a44c1c9d0c8c59b2d2d1f4",
        errors=errors,
    )


_EXAMPLES = {
    400: _example(
        400,
        "invalid_action",
        "action must be 1 to 64 characters of A-Z, a-z, 0-9, '_', '.', ':' or '-'",
        [FieldError(field="action", message="must be 1 to 64 characters of ...")],
    ),
    401: _example(401, "invalid_api_key", "the API key is not valid"),
    403: _example(403, "admin_required", "only an admin may register clients"),
    404: _example(404, "client_not_found", "no client 01a1fc8f-df24-74da-a0f6-729d4a872e26"),
    409: _example(409, "client_name_taken", "a client named 'shop' exists"),
    413: _example(413, "payload_too_large", "a batch holds at most 1000 events, not 1200"),
    415: _example(415, "unsupported_media_type", "send the body as Content-Type: application/json"),
    429: _example(429, "rate_limited", "over the limit of 1000 requests per 60 s"),
    500: _example(500, "internal_error", "an unexpected error occurred; quote the request_id"),
    503: _example(503, "database_unavailable", "the database is unavailable; retry shortly"),
}


_EVENT = {
    "id": "0b6c3f0e-5f43-5b2e-9a5a-3c2f4e1d0a11",
    "user_id": "321",
    "action": "page.view",
    "occurred_at": "2026-11-20T10:00:00Z",
    "metadata": {"page": "/hello/world"},
}
_BATCH = {"events": [_EVENT, {"user_id": 321, "action": "checkout.completed"}]}
REQUEST_EXAMPLES: dict[tuple[str, str], object] = {
    ("post", "/api/event"): _EVENT,
    ("post", "/api/events"): _BATCH,
    ("post", "/api/import"): _BATCH,
    ("post", "/api/clients"): {"name": "shop-frontend", "role": "client", "retention_days": 90},
    ("patch", "/api/clients/{client_id}"): {
        "rate_limit_per_minute": 600,
        "events_per_minute": 30000,
        "retention_days": 365,
    },
}
# Every /api operation can meet a bug (500), an outage (503) or a rate limit (429); one with
# a body can be sent one too large (413), of another type (415) or malformed (400).
_ANY_API = (401, 429, 500, 503)
_WITH_BODY = (400, 413, 415)


def complete(openapi: OpenAPI, closed: Sequence[str]) -> None:
    """What the generator leaves out: every status an operation can answer, a request
    example for every body, and `additionalProperties: false` on the `closed` schemas (those
    whose unknown fields are refused)."""
    for path, item in (openapi.paths or {}).items():
        for method in ("get", "post", "put", "patch", "delete"):
            operation = getattr(item, method)
            if operation is None or not path.startswith("/api/"):
                continue
            statuses = [*_ANY_API, *(_WITH_BODY if operation.request_body else ())]
            responses = operation.responses if operation.responses is not None else {}
            for status in statuses:
                responses.setdefault(str(status), _problem(status))
            operation.responses = responses
            example = REQUEST_EXAMPLES.get((method, path))
            body = operation.request_body
            if example is not None and body is not None and not isinstance(body, Reference):
                for media in body.content.values():
                    media.examples = {"example": Example(summary="a typical body", value=example)}
    schemas = openapi.components.schemas if openapi.components else {}
    for name in closed:
        schema = schemas.get(name) if schemas else None
        if schema is not None:
            schema.additional_properties = False


def _problem(status: int) -> OpenAPIResponse:
    example = _EXAMPLES[status]
    return OpenAPIResponse(
        description=HTTPStatus(status).phrase,
        content={
            MEDIA_TYPE: OpenAPIMediaType(
                schema=Reference(ref="#/components/schemas/Problem"),
                examples={example.code: Example(summary=example.code, value=example)},
            )
        },
    )
