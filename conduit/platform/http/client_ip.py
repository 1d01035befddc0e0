"""The client's address, for rate limits and the request log: the peer's, or, behind proxies
listed in ``TRUSTED_PROXIES``, the rightmost ``X-Forwarded-For`` entry that is not one of them.

Only a trusted proxy's header is read: anyone can send ``X-Forwarded-For``, and a client that
could choose its address would choose a new one per request. Entries are walked from the right
because each proxy appends the address it received from, so everything left of the first
untrusted entry was written by the client.
"""

import ipaddress
from functools import cache

from django.conf import settings
from django.http import HttpRequest

type _Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@cache
def _networks(proxies: tuple[str, ...]) -> tuple[_Network, ...]:
    return tuple(ipaddress.ip_network(p.strip(), strict=False) for p in proxies if p.strip())


def _trusted(address: str, networks: tuple[_Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_ip(request: HttpRequest) -> str:
    peer = request.META.get("REMOTE_ADDR") or "unknown"
    networks = _networks(tuple(settings.TRUSTED_PROXIES))
    if not networks or not _trusted(peer, networks):
        return peer
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, networks):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return peer  # a garbled entry: the last trusted hop is what is known
    return hops[0] if hops else peer
