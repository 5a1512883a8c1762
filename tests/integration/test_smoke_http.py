from litestar import Litestar
from litestar.testing import AsyncTestClient


async def test_the_readme_flow_records_an_event_and_lists_it_back(
    http: AsyncTestClient[Litestar], admin_headers: dict[str, str]
) -> None:
    token = (await http.post("/api/auth/token", headers=admin_headers)).json()["access_token"]
    bearer = {"Authorization": f"Bearer {token}"}
    body = {"user_id": 321, "action": "test_action", "metadata": {"page": "/hello/world"}}

    posted = await http.post("/api/event", headers=bearer, json=body)
    listed = await http.get(
        "/api/events",
        headers=bearer,
        params={"user_id": "321", "from": "2000-01-01T00:00:00Z", "till": "2100-01-01T00:00:00Z"},
    )

    assert posted.status_code == 201
    assert [e["id"] for e in listed.json()["events"]] == [posted.json()["id"]]
    assert listed.json()["events"][0]["user_id"] == "321"
