"""The shared SSRF guard (libs/platform urls.py): what is refused, and that the checked address is the one used."""
import http.server
import socket
import threading

import pytest

from tillkey.platform import urls
from tillkey.platform.urls import UnsafeUrl, check_url, forbidden_reason, guarded_session


@pytest.mark.parametrize("address", ["127.0.0.1", "127.8.9.1", "::1", "10.0.0.1", "172.16.5.4", "192.168.0.1",
                                     "169.254.169.254", "100.64.0.1", "100.127.255.254", "fd12::1", "fc00::1",
                                     "0.0.0.0", "::", "224.0.0.1", "ff02::1", "::ffff:10.0.0.1", "fe80::1"])
def test_forbidden_addresses(address):
    assert forbidden_reason(address)


@pytest.mark.parametrize("address", ["8.8.8.8", "93.184.216.34", "100.128.0.1", "2606:4700:4700::1111"])
def test_public_addresses(address):
    assert forbidden_reason(address) is None


def fake_resolver(address):
    def resolve(host, port, *_args):
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        return [(family, socket.SOCK_STREAM, 6, "", (address, port))]
    return resolve


@pytest.mark.parametrize("url, message", [
    ("ftp://m.example/x", "http"), ("m.example/x", "http"), ("http:///x", "no host"),
    ("https://m.example:99999/", "malformed"), ("http://m.exa mple/", "spaces"), ("", "characters"),
])
def test_malformed_urls(url, message):
    with pytest.raises(UnsafeUrl, match=message):
        check_url(url, allow_private=True)


def test_registration_check_resolves_and_refuses_private():
    check_url("https://hooks.m.example/x", resolver=fake_resolver("93.184.216.34"))
    with pytest.raises(UnsafeUrl, match="link-local"):
        check_url("http://hooks.m.example/x", resolver=fake_resolver("169.254.169.254"))
    with pytest.raises(UnsafeUrl, match="loopback"):
        check_url("http://[::1]:8080/x")
    check_url("http://127.0.0.1:8080/x", allow_private=True)


def test_one_private_address_among_public_ones_is_enough_to_refuse():
    def resolve(host, port, *_):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in ("93.184.216.34", "10.0.0.5")]
    with pytest.raises(UnsafeUrl, match="private"):
        check_url("https://m.example/", resolver=resolve)


@pytest.fixture
def loopback_server():
    hits = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            hits.append(self.headers["Host"])
            self.send_response(204)
            self.end_headers()

        def log_message(self, *_):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1], hits
    server.shutdown()


def test_connection_time_check_stops_dns_rebinding(loopback_server):
    port, hits = loopback_server
    # Public at registration, loopback when we connect: the second answer is what the guard judges.
    answers = iter(["93.184.216.34", "127.0.0.1"])
    resolver = lambda host, p, *a: fake_resolver(next(answers))(host, p)
    check_url(f"http://rebind.example:{port}/", resolver=resolver)
    with pytest.raises(UnsafeUrl, match="loopback"):
        guarded_session(resolver=resolver).post(f"http://rebind.example:{port}/", timeout=2)
    with pytest.raises(UnsafeUrl):
        guarded_session().post(f"http://127.0.0.1:{port}/", timeout=2)
    assert hits == []


def test_the_checked_address_is_the_one_connected_to(loopback_server, monkeypatch):
    port, hits = loopback_server
    # Pretend loopback is public for this test: the name below exists only in our resolver,
    # so a response proves the connection used the checked address, not a second lookup.
    monkeypatch.setattr(urls, "forbidden_reason", lambda address: None)
    resp = guarded_session(resolver=fake_resolver("127.0.0.1")).post(f"http://only-in-our-resolver.invalid:{port}/",
                                                                     timeout=2)
    assert resp.status_code == 204 and hits == [f"only-in-our-resolver.invalid:{port}"]


def test_allow_private_skips_the_guard(loopback_server):
    port, hits = loopback_server
    assert guarded_session(allow_private=True).post(f"http://127.0.0.1:{port}/", timeout=2).status_code == 204
