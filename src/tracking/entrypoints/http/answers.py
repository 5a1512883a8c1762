"""Cached analytics answers as responses: the JSON encoded once, when computed, with its
`ETag` (`If-None-Match` gets 304) and a Cache-Control that tells settled answers from open
ones. Shared by the stats and usage routes."""

from typing import Annotated, Any

from litestar import Response
from litestar.datastructures import ResponseHeader
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import HeaderParameter

from tracking.application.answer_cache import CachedAnswer

IfNoneMatch = Annotated[
    str | None,
    HeaderParameter(
        name="If-None-Match", description="An `ETag` of an earlier answer: 304 if same."
    ),
]
# Tenant-scoped: no shared cache may keep it, and a browser keys it by credential too.
_VARY = "Authorization, X-API-Key"
ANSWER_HEADERS = [
    ResponseHeader(
        name="ETag", documentation_only=True, required=True, description="The answer's version."
    ),
    ResponseHeader(
        name="Cache-Control",
        documentation_only=True,
        required=True,
        description="`private, no-cache` for a settled period (a late write changes it: "
        "revalidate, 304 while unchanged); `private, max-age=N` for one still open.",
    ),
]
NOT_MODIFIED = ResponseSpec(None, description="Not modified: the `If-None-Match` answer")


def answered(answer: CachedAnswer, if_none_match: str | None) -> Response[Any]:
    """The view's JSON as it was encoded once, when computed (and cached): the route's
    annotation documents its shape, Litestar sends the bytes as they are."""
    cache_control = "private, no-cache" if answer.settled else f"private, max-age={answer.max_age}"
    headers = {"ETag": answer.etag, "Cache-Control": cache_control, "Vary": _VARY}
    if if_none_match is not None and _names(if_none_match, answer.etag):
        return Response(b"", status_code=304, headers=headers)
    return Response(answer.body, status_code=200, media_type="application/json", headers=headers)


def _names(if_none_match: str, etag: str) -> bool:
    """RFC 9110's weak comparison, as `If-None-Match` asks: `W/` aside, or `*`."""
    tags = (tag.strip().removeprefix("W/") for tag in if_none_match.split(","))
    return any(tag in {etag, "*"} for tag in tags)
