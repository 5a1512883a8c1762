"""The API's documentation pages work with no internet: their scripts come from this service
(`/vendor`), and any request for another host is refused here, as on a closed network."""

from urllib.parse import urlsplit

from playwright.sync_api import Page, Route, expect

from tests.browser.conftest import shot
from tests.e2e.processes import Server


def offline(page: Page, server: Server) -> list[str]:
    """Refuses every request that leaves the service; returns what was asked elsewhere."""
    ours = urlsplit(server.url).netloc
    elsewhere: list[str] = []

    def handle(route: Route) -> None:
        if urlsplit(route.request.url).netloc == ours or route.request.url.startswith("data:"):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    page.route("**/*", handle)
    return elsewhere


def test_swagger_ui_renders_every_route_from_local_assets(page: Page, served: Server) -> None:
    elsewhere = offline(page, served)
    page.goto(f"{served.url}/schema/swagger")
    expect(page.locator(".opblock-summary-path", has_text="/api/events/stream")).to_be_visible()
    assert elsewhere == []
    shot(page, "swagger")


def test_redoc_renders_from_local_assets(page: Page, served: Server) -> None:
    elsewhere = offline(page, served)
    page.goto(f"{served.url}/schema")
    expect(
        page.get_by_role("heading", name="Stream events live (Server-Sent Events)").first
    ).to_be_visible()
    assert elsewhere == []
    shot(page, "redoc")
