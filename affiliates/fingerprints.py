"""What a click or a signup leaves of the visitor: keyed hashes only, never an IP address or a cookie in clear.

Each is an HMAC-SHA256 under a key derived from SECRET_KEY (Django's salted_hmac, one salt per kind), so the
hashes of two visits can be compared (a referred signup from an IP or device the affiliate used itself, a burst
from one network: affiliates.fraud) without storing what they were, and a leaked table cannot be reversed by
hashing every IPv4 address.
"""

import ipaddress

from django.conf import settings
from django.http import HttpRequest
from django.utils.crypto import salted_hmac


def client_ip(request: HttpRequest) -> str:
    """The visitor's address, read where the signup's rate limit reads it (RATELIMIT_IP_META_KEY behind a proxy,
    the first address of that header)."""
    meta_key = settings.RATELIMIT_IP_META_KEY or "REMOTE_ADDR"
    return request.META.get(meta_key, "").split(",")[0].strip()


def ip_hash(ip: str) -> str:
    return _hash("affiliates.ip", ip) if ip else ""


def network_hash(ip: str) -> str:
    """The hash of the /24 (IPv4) or /48 (IPv6) network of `ip`: one household or office, roughly."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ""
    prefix = 24 if address.version == 4 else 48
    return _hash("affiliates.network", str(ipaddress.ip_network(f"{address}/{prefix}", strict=False)))


def device_hash(device_token: str) -> str:
    return _hash("affiliates.device", device_token) if device_token else ""


def _hash(salt: str, value: str) -> str:
    return salted_hmac(salt, value, algorithm="sha256").hexdigest()
