"""The client's address for login limits and the audit log. Behind a reverse proxy every TCP connection comes
from the proxy, so its X-Forwarded-For is believed, but only from the proxies the settings trust: from anyone
else the header is the client's own say-so and is ignored."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from fastapi import Request

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def _trusted(address: str, proxies: Sequence[IPNetwork]) -> bool:
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(parsed in network for network in proxies)


def client_address(request: Request, proxies: Sequence[IPNetwork]) -> str:
    """The nearest address in the forwarding chain that is not a trusted proxy. Each proxy appends the address
    it heard from, so the list is read from its end; anything before the first untrusted hop may be forged."""
    peer = request.client.host if request.client else "unknown"
    if not _trusted(peer, proxies):
        return peer
    hops = [hop.strip() for header in request.headers.getlist("x-forwarded-for") for hop in header.split(",")]
    for hop in reversed(hops):
        try:
            address = str(ipaddress.ip_address(hop))
        except ValueError:
            # A hop a trusted proxy passed on that is no address: the proxy is all that can be named.
            return peer
        if not _trusted(address, proxies):
            return address
    return peer
