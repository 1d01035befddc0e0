"""What an audit entry says about the request it was written in: its id, the client's address
cut to its network, and a bounded user agent. Read from the request being handled
(``current_request``), so services record without taking the request as an argument."""

import hashlib
import hmac
import ipaddress
from dataclasses import dataclass

from django.conf import settings

from conduit.platform.http.client_ip import client_ip
from conduit.platform.observability.request_id import current_request

USER_AGENT_MAX = 200
IPV4_PREFIX = 24
IPV6_PREFIX = 48


@dataclass(frozen=True)
class Origin:
    request_id: str = ""
    ip_network: str = ""
    user_agent: str = ""


def truncate_ip(address: str) -> str:
    """The network of ``address``, /24 for IPv4 and /48 for IPv6 (as analytics anonymise), so
    the log says where from without naming one machine; "" for anything not an address."""
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return ""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    prefix = IPV4_PREFIX if ip.version == 4 else IPV6_PREFIX
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


def bounded_user_agent(value: str) -> str:
    printable = "".join(c if c.isprintable() else "?" for c in value[:USER_AGENT_MAX])
    return printable.strip()


def current_origin() -> Origin:
    request = current_request()
    if request is None:
        return Origin()
    return Origin(
        request_id=str(getattr(request, "request_id", ""))[:128],
        ip_network=truncate_ip(client_ip(request)),
        user_agent=bounded_user_agent(request.META.get("HTTP_USER_AGENT", "")),
    )


def identifier_hash(identifier: str) -> str:
    """A keyed hash of an attempted sign-in name (an email's identity key): equal names give
    equal hashes, and without ``SECRET_KEY`` the hash cannot be tested against guesses."""
    key = hashlib.sha256(b"conduit.audit.identifier\x00" + settings.SECRET_KEY.encode()).digest()
    return hmac.new(key, identifier.encode(), hashlib.sha256).hexdigest()[:32]
