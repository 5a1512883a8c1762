"""`/dashboard`: a web page served by the service itself, its files shipped in the package
(`static/dashboard/`: plain HTML, CSS and JavaScript, no build step, nothing from a CDN). It
uses only the public API, with the signed-in caller's token, so it shows a client only what
that client may read."""

from pathlib import Path

from litestar import Response, get
from litestar.datastructures import CacheControlHeader
from litestar.static_files import create_static_files_router
from litestar.types import ControllerRouterHandler

from tracking.entrypoints.http.openapi import VENDOR

ASSETS = Path(__file__).parent / "static" / "dashboard"
# Scripts, styles, images and connections from this origin only: no inline script, nothing
# from elsewhere, never framed.
POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
_HEADERS = {
    "Content-Security-Policy": POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


@get("/dashboard", include_in_schema=False, cache_control=CacheControlHeader(no_cache=True))
async def dashboard_page() -> Response[bytes]:
    return Response(
        (ASSETS / "index.html").read_bytes(),
        media_type="text/html; charset=utf-8",
        headers=_HEADERS,
    )


def dashboard_routes() -> list[ControllerRouterHandler]:
    """The page, its assets, and the vendored scripts of the API's documentation pages."""
    assets = create_static_files_router(
        path="/dashboard/assets",
        directories=[ASSETS],
        name="dashboard-assets",
        cache_control=CacheControlHeader(no_cache=True),
    )
    vendor = create_static_files_router(
        path=VENDOR,
        directories=[Path(__file__).parent / "static" / "vendor"],
        name="vendor",
        cache_control=CacheControlHeader(max_age=86_400),  # versioned paths: never change
    )
    return [dashboard_page, assets, vendor]
