"""The dashboard as its users see it, in headless Chromium: sign-in, each page showing what the
API answers for seeded data, the live feed, paging a user's events, and what a client may not
see. Assertions are on the data shown, never on pixels."""

from datetime import UTC, datetime, timedelta

import httpx
from playwright.sync_api import Page, expect

from tests.browser.conftest import client_key, shot, sign_in
from tests.e2e.processes import ADMIN_KEY, Server

ADMIN = {"X-API-Key": ADMIN_KEY}


def imported(server: Server, key: str, events: list[dict[str, object]]) -> None:
    answer = httpx.post(
        f"{server.url}/api/import", headers={"X-API-Key": key}, json={"events": events}
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["rejected"] == 0, answer.text


def rows(page: Page, caption: str) -> list[list[str]]:
    table = page.locator("table", has=page.locator("caption", has_text=caption))
    expect(table).to_be_visible()
    return [
        [cell.strip() for cell in row.locator("td").all_inner_texts()]
        for row in table.locator("tbody tr").all()
    ]


def test_a_bad_key_is_told_clearly_and_a_good_one_signs_in_and_out(
    page: Page, served: Server
) -> None:
    sign_in(page, served, "trk_" + "x" * 43)
    expect(page.get_by_role("alert")).to_contain_text("Not signed in: the API key is not valid")
    shot(page, "sign-in-refused")
    sign_in(page, served)
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    assert page.evaluate("() => sessionStorage.length") == 1  # the token, not the key
    assert ADMIN_KEY not in page.evaluate("() => JSON.stringify(sessionStorage)")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_label("API key")).to_be_visible()
    assert page.evaluate("() => sessionStorage.length") == 0


def test_the_overview_shows_the_numbers_the_api_answers(page: Page, served: Server) -> None:
    key = client_key(served, "overview")
    yesterday = datetime.now(UTC).replace(hour=10, minute=0, second=0, microsecond=0)
    yesterday -= timedelta(days=1)
    imported(
        served,
        key,
        [
            {
                "user_id": f"u-{n % 3}",
                "action": "view",
                "occurred_at": yesterday.isoformat(),
                "metadata": {"page": "/pricing"},
            }
            for n in range(7)
        ],
    )
    sign_in(page, served, key)
    shown = rows(page, "Events and unique users by day")
    params = {
        name: page.locator(f"input[name={name}]").input_value() for name in ("from", "till", "tz")
    }
    answer = httpx.get(
        f"{served.url}/api/stats/series",
        headers={"X-API-Key": key},
        params={**params, "interval": "day"},
    ).json()
    assert shown == [
        [p["start"], str(p["events"]), str(p["unique_users"])] for p in answer["points"]
    ]
    assert ["7", "3"] in [row[1:] for row in shown]  # the seeded day
    shot(page, "overview")


def test_an_event_posted_now_appears_in_the_live_feed_within_two_seconds(
    page: Page, served: Server
) -> None:
    sign_in(page, served)
    page.get_by_role("link", name="Live").click()
    expect(page.get_by_role("status")).to_contain_text("Live")
    posted = httpx.post(
        f"{served.url}/api/event",
        headers=ADMIN,
        json={"user_id": "watcher", "action": "live.check", "metadata": {"page": "/now"}},
    )
    assert posted.status_code == 201
    expect(page.locator("#feed li").first).to_contain_text("live.check", timeout=2000)
    expect(page.locator("#feed li").first).to_contain_text("watcher")
    shot(page, "live")


def test_a_users_events_page_by_twenty_with_their_metrics(page: Page, served: Server) -> None:
    start = datetime.now(UTC) - timedelta(days=2)
    imported(
        served,
        ADMIN_KEY,
        [
            {
                "user_id": "pager",
                "action": f"step.{n}",
                "occurred_at": (start + timedelta(minutes=n)).isoformat(),
            }
            for n in range(25)
        ],
    )
    sign_in(page, served)
    page.get_by_role("link", name="User").click()
    page.get_by_label("User id").fill("pager")
    page.get_by_role("button", name="Look up").click()
    first = rows(page, "Events of pager, page 1")
    assert [row[1] for row in first] == [f"step.{n}" for n in range(24, 4, -1)]
    shot(page, "user")
    page.get_by_role("button", name="Older").click()
    second = rows(page, "Events of pager, page 2")
    assert [row[1] for row in second] == [f"step.{n}" for n in range(4, -1, -1)]
    expect(page.get_by_role("button", name="Older")).to_be_disabled()
    page.get_by_role("button", name="Newer").click()
    assert rows(page, "Events of pager, page 1") == first
    expect(page.locator("caption", has_text="Metrics windows of pager")).to_be_visible()


def test_an_admin_sees_every_page_and_manages_clients(page: Page, served: Server) -> None:
    sign_in(page, served)
    page.get_by_role("link", name="Metrics").click()
    page.get_by_role("button", name="Compute now").click()
    expect(page.get_by_role("status").filter(has_text="Computed")).to_be_visible()
    shot(page, "metrics")
    page.get_by_role("link", name="Usage").click()
    expect(page.locator("caption", has_text="Top clients")).to_be_visible()
    assert rows(page, "Requests by day")
    shot(page, "usage")
    page.get_by_role("link", name="Clients").click()
    page.get_by_label("Name").fill("from-the-dashboard")
    page.get_by_role("button", name="Register").click()
    expect(
        page.get_by_role("status").filter(has_text="Registered from-the-dashboard")
    ).to_be_visible()
    new_key = page.locator(".key").inner_text()
    assert (
        httpx.get(f"{served.url}/api/clients/me", headers={"X-API-Key": new_key}).status_code == 200
    )
    expect(page.get_by_role("cell", name="from-the-dashboard", exact=True)).to_be_visible()
    shot(page, "clients")
    page.get_by_role("button", name="Change the limits of from-the-dashboard").click()
    page.get_by_label("Requests per minute of from-the-dashboard").fill("321")
    page.get_by_label("Events per minute of from-the-dashboard").fill("4321")
    page.get_by_role("button", name="Save limits").click()
    expect(page.get_by_role("status").filter(has_text="limits changed")).to_be_visible()
    me = httpx.get(f"{served.url}/api/clients/me", headers={"X-API-Key": new_key}).json()
    assert (me["rate_limit_per_minute"], me["events_per_minute"]) == (321, 4321)
    page.get_by_role("button", name="Deactivate from-the-dashboard").click()
    expect(page.get_by_role("status").filter(has_text="deactivated")).to_be_visible()
    refused = httpx.get(f"{served.url}/api/clients/me", headers={"X-API-Key": new_key})
    assert refused.status_code == 401


def test_a_client_sees_no_admin_page(page: Page, served: Server) -> None:
    sign_in(page, served, client_key(served, "plain"))
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    expect(page.get_by_role("link", name="Clients")).to_be_hidden()
    page.goto(f"{served.url}/dashboard#clients")
    expect(page.get_by_role("alert")).to_contain_text("Only an admin manages clients")
    expect(page.get_by_role("link", name="Metrics")).to_be_hidden()
    page.goto(f"{served.url}/dashboard#metrics")
    expect(page.get_by_role("alert")).to_contain_text("Only an admin reads the metrics run log")
    expect(page.get_by_role("button", name="Compute now")).to_have_count(0)
    page.get_by_role("link", name="Usage").click()
    expect(page.locator("caption", has_text="Requests by day")).to_be_visible()
    expect(page.locator("caption", has_text="Top clients")).to_have_count(0)


def test_every_field_is_labelled_and_a_phone_sized_screen_needs_no_sideways_scroll(
    page: Page, served: Server
) -> None:
    page.set_viewport_size({"width": 375, "height": 740})
    sign_in(page, served)
    for link in ("Overview", "Live", "User", "Metrics", "Usage", "Clients"):
        page.get_by_role("link", name=link).click()
        expect(page.get_by_role("heading", level=2, name=link)).to_be_visible()
        unlabelled = page.evaluate(
            "() => [...document.querySelectorAll('input, select')]"
            ".filter((e) => e.labels.length === 0).map((e) => e.name)"
        )
        assert unlabelled == [], link
        assert page.evaluate("() => document.documentElement.scrollWidth <= innerWidth"), link
    page.reload()  # the keyboard from the top of the page: first, a way past the header
    expect(page.get_by_role("heading", level=2, name="Clients")).to_be_visible()
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.textContent") == "Skip to the page"
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.textContent") == "Overview"
    shot(page, "phone-clients")
