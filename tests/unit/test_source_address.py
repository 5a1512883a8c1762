"""Who a request comes from: the peer, or behind trusted proxies the first address they
did not add; never what an untrusted peer claims."""

import ipaddress
from typing import Any

from tracking.entrypoints.http.limits import source_address

PROXIES = [ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("192.168.1.7")]


def scope(peer: str, *forwarded: str) -> Any:
    return {
        "client": (peer, 50000),
        "headers": [(b"x-forwarded-for", value.encode()) for value in forwarded],
    }


def test_without_trusted_proxies_the_peer_is_the_source() -> None:
    assert source_address(scope("203.0.113.9", "1.2.3.4"), []) == "203.0.113.9"


def test_an_untrusted_peer_cannot_claim_another_address() -> None:
    assert source_address(scope("203.0.113.9", "1.2.3.4"), PROXIES) == "203.0.113.9"


def test_behind_a_trusted_proxy_the_forwarded_address_is_the_source() -> None:
    assert source_address(scope("10.1.2.3", "198.51.100.4"), PROXIES) == "198.51.100.4"


def test_a_forged_hop_before_the_real_one_is_ignored() -> None:
    # The client sent "X-Forwarded-For: 1.2.3.4"; our proxy appended the address it saw.
    forwarded = scope("10.1.2.3", "1.2.3.4, 198.51.100.4")
    assert source_address(forwarded, PROXIES) == "198.51.100.4"


def test_a_chain_of_trusted_proxies_is_walked_back() -> None:
    chained = scope("10.1.2.3", "198.51.100.4", "192.168.1.7")
    assert source_address(chained, PROXIES) == "198.51.100.4"


def test_garbage_in_the_header_stops_at_the_last_trusted_hop() -> None:
    assert source_address(scope("10.1.2.3", "not-an-address"), PROXIES) == "10.1.2.3"


def test_a_request_without_a_peer_has_no_source() -> None:
    no_peer: Any = {"client": None, "headers": []}
    assert source_address(no_peer, PROXIES) is None
