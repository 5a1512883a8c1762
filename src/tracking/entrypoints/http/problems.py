"""The one map from errors to RFC 9457 `application/problem+json` answers."""

import logging
from http import HTTPStatus
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.types import ExceptionHandlersMap, Scope

from tracking.application.errors import RateLimited, Unavailable
from tracking.domain.errors import Category, FieldError, TrackingError
from tracking.entrypoints.http.limits import remember
from tracking.entrypoints.http.request_id import request_id_of

log = logging.getLogger(__name__)

MEDIA_TYPE = "application/problem+json"
WWW_AUTHENTICATE = 'Bearer realm="tracking"'

STATUS_OF = {
    Category.INVALID: HTTPStatus.BAD_REQUEST,
    Category.UNAUTHENTICATED: HTTPStatus.UNAUTHORIZED,
    Category.FORBIDDEN: HTTPStatus.FORBIDDEN,
    Category.NOT_FOUND: HTTPStatus.NOT_FOUND,
    Category.CONFLICT: HTTPStatus.CONFLICT,
    Category.RATE_LIMITED: HTTPStatus.TOO_MANY_REQUESTS,
    Category.UNAVAILABLE: HTTPStatus.SERVICE_UNAVAILABLE,
    Category.INTERNAL: HTTPStatus.INTERNAL_SERVER_ERROR,
}

_CODE_OF_STATUS = {
    400: "invalid_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
    503: "unavailable",
}


class Problem(msgspec.Struct, kw_only=True, omit_defaults=True):
    """An error, as RFC 9457 describes it, with our stable `code` and the `request_id` that
    leads to the server's log."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    request_id: str | None = None
    errors: list[FieldError] | None = None
    limit: str | None = None
    """The limit that refused the request (429 only): requests, events or auth_failures."""


def problem_response(
    request: Request[Any, Any, Any],
    status: int,
    code: str,
    detail: str,
    *,
    errors: list[FieldError] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[Problem]:
    problem = _problem(status, code, detail, request_id_of(request.scope), errors)
    return Response(problem, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def _problem(  # noqa: PLR0917 - a problem's fields, in order
    status: int,
    code: str,
    detail: str,
    request_id: str,
    errors: list[FieldError] | None = None,
    limit: str | None = None,
) -> Problem:
    return Problem(
        type=f"urn:tracking:problem:{code}",
        title=HTTPStatus(status).phrase,
        status=status,
        detail=detail,
        code=code,
        request_id=request_id,
        errors=errors or None,
        limit=limit,
    )


def _application_error(request: Request[Any, Any, Any], error: TrackingError) -> Response[Problem]:
    if error.category is Category.INTERNAL:
        return _unexpected_error(request, error)  # its detail is for the log, not the caller
    if isinstance(error, RateLimited):
        remember(request.scope, error.admission)  # its headers, Retry-After among them
    status, problem, headers = problem_of(error, request_id_of(request.scope))
    return Response(problem, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def problem_of(error: TrackingError, request_id: str) -> tuple[int, Problem, dict[str, str]]:
    """The status, body and headers that answer an error of any category but INTERNAL."""
    headers: dict[str, str] = {}
    if error.category is Category.UNAUTHENTICATED:
        headers["WWW-Authenticate"] = f'{WWW_AUTHENTICATE}, error="invalid_token"'
        if error.code == "missing_credentials":
            headers["WWW-Authenticate"] = WWW_AUTHENTICATE
    if isinstance(error, Unavailable):
        headers["Retry-After"] = str(error.retry_after)
    limit = None
    if isinstance(error, RateLimited):
        refused = error.admission.refused_by
        limit = refused.limit.name if refused is not None else None
    status = STATUS_OF[error.category]
    problem = _problem(status, error.code, error.detail, request_id, list(error.errors), limit)
    return status, problem, headers


def _validation_error(
    request: Request[Any, Any, Any], error: ValidationException
) -> Response[Problem]:
    extra = error.extra if isinstance(error.extra, list) else []
    if any(isinstance(item, dict) and item.get("key") == "data" for item in extra):
        # The framework's way of saying that a route taking a body got none.
        return problem_response(
            request, 400, "malformed_json", "the body is empty: send a JSON object"
        )
    errors = [
        FieldError(
            field=_public_name(request, str(item.get("key", ""))),
            message=str(item.get("message", "")),
        )
        for item in extra
        if isinstance(item, dict)
    ]
    detail = "; ".join(f"{e.field}: {e.message}" for e in errors) or error.detail
    return problem_response(request, 400, "invalid_request", detail, errors=errors)


def _public_name(request: Request[Any, Any, Any], key: str) -> str:
    """Litestar names a bad parameter by its Python name (`occurred_from`); the caller sent it
    by its public one (`from`)."""
    parameter = request.route_handler.parsed_fn_signature.parameters.get(key)
    public = getattr(getattr(parameter, "kwarg_definition", None), "name", None)
    return public if isinstance(public, str) else key


def _http_error(request: Request[Any, Any, Any], error: HTTPException) -> Response[Problem]:
    status = error.status_code
    code = _CODE_OF_STATUS.get(status, f"http_{status}")
    headers = dict(error.headers or {})
    if status == HTTPStatus.UNAUTHORIZED:
        headers.setdefault("WWW-Authenticate", WWW_AUTHENTICATE)
    return problem_response(request, status, code, error.detail, headers=headers)


def _unexpected_error(request: Request[Any, Any, Any], error: Exception) -> Response[Problem]:
    return Response(unexpected(request.scope, error), status_code=500, media_type=MEDIA_TYPE)


def unexpected(scope: Scope, error: Exception) -> Problem:
    """A bug: logged with its traceback and the request id, which the answer quotes."""
    request_id = request_id_of(scope)
    log.error(
        "unexpected error in %s %s (request %s)",
        scope.get("method", ""),
        scope["path"],
        request_id,
        exc_info=error,
    )
    detail = "an unexpected error occurred; quote the request_id when reporting it"
    return _problem(500, "internal_error", detail, request_id)


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    TrackingError: _application_error,
    ValidationException: _validation_error,
    HTTPException: _http_error,
    Exception: _unexpected_error,
}
