"""Outbound URLs we call on a merchant's behalf (webhook endpoints, license web services): SSRF guard.

A merchant chooses the URL, so without a guard Tillkey would POST into its own network
(the database, the broker's management port, the cloud metadata service at 169.254.169.254).
Two checks, both needed:
- at registration (`check_url`), so the merchant gets a clear 422 at once;
- at connection time (`guarded_session`, and `tillkey.platform.outbound` which keeps connections
  alive per origin: the check runs for every new connection), because DNS can change after registration
  (DNS rebinding: public at check time, 127.0.0.1 at send time). The adapter resolves the host,
  checks every address, then connects to the checked address itself, so there is no second
  lookup an attacker could answer differently. TLS still verifies the certificate against the
  host name (urllib3 passes the original host for SNI and hostname matching).
`allow_private=True` (ALLOW_PRIVATE_URLS, for development and tests on loopback) skips both.
"""
from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError
from urllib3.util import connection as u3conn

Resolver = Callable[..., list]
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_ULA = ipaddress.ip_network("fc00::/7")
MAX_URL_LENGTH = 2048


class UnsafeUrl(ValueError):
    """The URL is malformed, not http(s), or leads to an address we never call."""


def forbidden_reason(address: str) -> str | None:
    """Why we refuse to connect to this IP address, or None when it is a public address."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if ip.version == 6:
        # An IPv4 address wrapped in IPv6 reaches the IPv4 host: judge the inner address.
        inner = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if inner is not None:
            return forbidden_reason(str(inner))
    checks = (
        (ip.is_unspecified, "unspecified"), (ip.is_loopback, "loopback"),
        (ip.is_link_local, "link-local"), (ip.is_multicast, "multicast"),
        (ip.version == 4 and ip in _CGNAT, "carrier-grade NAT (100.64.0.0/10)"),
        (ip.version == 6 and ip in _ULA, "IPv6 unique local"),
        (ip.is_private, "private"), (ip.is_reserved, "reserved"),
        (not ip.is_global, "non-public"),
    )
    for hit, reason in checks:
        if hit:
            return f"{reason} address {ip}"
    return None


def parse_url(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of an absolute http(s) URL, or UnsafeUrl saying what is wrong."""
    if not isinstance(url, str) or not url or len(url) > MAX_URL_LENGTH:
        raise UnsafeUrl(f"The URL must be 1 to {MAX_URL_LENGTH} characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeUrl(f"The URL is malformed: {exc}.") from None
    if parts.scheme not in ("http", "https"):
        raise UnsafeUrl("The URL must start with http:// or https://.")
    if not parts.hostname:
        raise UnsafeUrl("The URL has no host.")
    if any(c.isspace() for c in url):
        raise UnsafeUrl("The URL must not contain spaces.")
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80)


def resolve_checked(host: str, port: int, resolver: Resolver = socket.getaddrinfo) -> list[str]:
    """Every address `host` resolves to, refusing the lot if any one is forbidden.

    All of them, not just the first: a name with one public and one private address would
    otherwise reach the private one whenever the connection falls back to it.
    """
    try:
        infos = resolver(host, port, 0, socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeUrl(f"The host {host!r} does not resolve ({exc}).") from None
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not addresses:
        raise UnsafeUrl(f"The host {host!r} does not resolve.")
    for address in addresses:
        reason = forbidden_reason(address)
        if reason:
            raise UnsafeUrl(f"The host {host!r} resolves to a {reason}; only public addresses are allowed.")
    return addresses


def check_url(url: str, *, allow_private: bool = False, resolver: Resolver = socket.getaddrinfo) -> None:
    """Registration-time check: raises UnsafeUrl with a message fit for the merchant."""
    _scheme, host, port = parse_url(url)
    if not allow_private:
        resolve_checked(host, port, resolver)


class _PinnedConnectionMixin:
    """Resolve once, check, connect to the checked address (never a second DNS lookup)."""

    resolver: Resolver = staticmethod(socket.getaddrinfo)

    def _new_conn(self):
        addresses = resolve_checked(self._dns_host, self.port, type(self).resolver)
        last: Exception | None = None
        for address in addresses:
            try:
                return u3conn.create_connection((address, self.port), self.timeout,
                                                source_address=self.source_address,
                                                socket_options=self.socket_options)
            except TimeoutError as exc:
                last = ConnectTimeoutError(self, f"Connection to {self.host} timed out.")
                last.__cause__ = exc
            except OSError as exc:
                last = NewConnectionError(self, f"Failed to establish a new connection: {exc}")
        raise last


def guarded_session(*, allow_private: bool = False, resolver: Resolver = socket.getaddrinfo) -> requests.Session:
    """A requests Session that only ever connects to public addresses (unless allow_private).

    Proxies from the environment are ignored: through a proxy the address check would judge
    the proxy, not the destination.
    """
    session = requests.Session()
    session.trust_env = False
    if allow_private:
        return session
    adapter = _GuardedAdapter(resolver)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def guarded_connection_classes(resolver: Resolver = socket.getaddrinfo) -> tuple[type, type]:
    """urllib3 (HTTP, HTTPS) connection classes that check every new connection's address first."""
    attrs = {"resolver": staticmethod(resolver)}
    return (type("GuardedHTTPConnection", (_PinnedConnectionMixin, HTTPConnection), attrs),
            type("GuardedHTTPSConnection", (_PinnedConnectionMixin, HTTPSConnection), attrs))


class _GuardedAdapter(HTTPAdapter):
    def __init__(self, resolver: Resolver):
        http_conn, https_conn = guarded_connection_classes(resolver)
        self._pool_classes = {
            "http": type("GuardedHTTPPool", (HTTPConnectionPool,), {"ConnectionCls": http_conn}),
            "https": type("GuardedHTTPSPool", (HTTPSConnectionPool,), {"ConnectionCls": https_conn}),
        }
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = dict(self._pool_classes)
