"""Kept connections to merchants' servers (platform.outbound), against real HTTP servers on loopback."""
from __future__ import annotations

import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tillkey.platform import urls
from tillkey.platform.outbound import OutboundFailed, OutboundHttp, OutboundTimeout
from tillkey.platform.urls import UnsafeUrl
from tillkey.testing.receiver import Receiver


def post(http, url, body=b"{}", **kw):
    return http.post(url, body, {"content-type": "application/json"}, timeout=kw.pop("timeout", 2.0),
                     max_bytes=kw.pop("max_bytes", 1024))


@pytest.fixture
def http():
    client = OutboundHttp(allow_private=True)
    yield client
    client.close()


def test_calls_to_one_origin_share_one_connection(http):
    with Receiver(keep_alive=True) as merchant:
        answers = [post(http, f"{merchant.url}/hooks/{i}?x=1", f'{{"n": {i}}}'.encode()) for i in range(10)]
        assert [a.status for a in answers] == [200] * 10 and answers[0].body == b'{"ok": true}'
        assert [r.path for r in merchant.snapshot()] == [f"/hooks/{i}?x=1" for i in range(10)]
        assert merchant.snapshot()[3].json() == {"n": 3}
        assert merchant.connections() == 1 and http.connections() == 1


def test_threads_share_the_pool_with_at_most_one_connection_each(http):
    with Receiver(keep_alive=True) as merchant:
        with ThreadPoolExecutor(4) as pool:
            answers = list(pool.map(lambda i: post(http, merchant.url, f'{{"n": {i}}}'.encode()), range(60)))
        assert [a.status for a in answers] == [200] * 60
        assert sorted(r.json()["n"] for r in merchant.snapshot()) == list(range(60))
        assert merchant.connections() <= 4


def test_a_server_closing_the_kept_connection_between_calls_costs_no_failed_call(http):
    with Receiver(keep_alive=True) as merchant:
        for _ in range(3):
            assert post(http, merchant.url).status == 200
            merchant.drop_connections()
        assert post(http, merchant.url).status == 200
        assert len(merchant.snapshot()) == 4 and merchant.connections() == 4


def read_request(conn: socket.socket) -> bytes:
    """The request line of one whole request (headers and Content-Length body), or b"" at EOF."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return b""
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                   if line.lower().startswith(b"content-length:")), 0)
    while len(body) < length:
        body += conn.recv(65536)
    return head.split(b"\r\n", 1)[0]


def test_a_kept_connection_closed_as_the_call_goes_out_is_tried_once_more_on_a_new_one(http):
    # The server reads the second request on the kept connection and closes without answering
    # (its keep-alive timer fired just then): nothing tells the client beforehand.
    seen: list[tuple[int, bytes]] = []
    server = socket.create_server(("127.0.0.1", 0))

    def serve():
        for conn_no in range(2):
            conn, _ = server.accept()
            with conn:
                for request_no in range(2):
                    line = read_request(conn)
                    if not line:
                        break
                    seen.append((conn_no, line))
                    if conn_no == 0 and request_no == 1:
                        break  # close, answering nothing
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")

    threading.Thread(target=serve, daemon=True).start()
    url = f"http://127.0.0.1:{server.getsockname()[1]}/hook"
    try:
        assert post(http, url).body == b"ok"
        assert post(http, url).body == b"ok"
    finally:
        server.close()
    assert [c for c, _ in seen] == [0, 0, 1]


def test_a_fresh_connection_that_breaks_is_not_tried_again(http):
    server = socket.create_server(("127.0.0.1", 0))
    accepted = []

    def serve():
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            accepted.append(read_request(conn))
            conn.close()

    threading.Thread(target=serve, daemon=True).start()
    try:
        with pytest.raises(OutboundFailed, match="RemoteDisconnected"):
            post(http, f"http://127.0.0.1:{server.getsockname()[1]}/")
    finally:
        server.close()
    assert len(accepted) == 1


def test_a_large_answer_read_in_part_does_not_poison_the_next_call(http):
    answers = iter([b"A" * 200_000, b"B" * 10_000, b"C" * 10])
    with Receiver(lambda req: (200, {}, next(answers)), keep_alive=True) as merchant:
        first = post(http, merchant.url)
        assert first.body == b"A" * 1024 and first.read_error is None
        second = post(http, merchant.url)  # on a new connection: the unread rest went with the old one
        assert second.body == b"B" * 1024
        third = post(http, merchant.url)  # a small rest is read to the end: that connection carries on
        assert third.body == b"C" * 10
        peers = [r.peer for r in merchant.snapshot()]
        assert peers[0] != peers[1] and peers[1] == peers[2]


def test_a_timed_out_connection_is_discarded_so_its_late_answer_never_answers_the_next_call(http):
    def respond(req):
        if req.json()["n"] == 1:
            time.sleep(0.6)
            return 200, {}, b"late answer to the first call"
        return 200, {}, b"second"
    with Receiver(respond, keep_alive=True) as merchant:
        with pytest.raises(OutboundTimeout):
            post(http, merchant.url, b'{"n": 1}', timeout=0.3)
        assert post(http, merchant.url, b'{"n": 2}').body == b"second"
        assert merchant.connections() == 2


def test_redirects_are_returned_not_followed(http):
    with Receiver(lambda req: (302, {"Location": "http://169.254.169.254/"}, b""), keep_alive=True) as merchant:
        answer = post(http, merchant.url)
    assert answer.status == 302 and answer.headers["location"] == "http://169.254.169.254/"
    assert len(merchant.snapshot()) == 1


def test_idle_connections_are_closed_and_the_closing_thread_ends():
    http = OutboundHttp(allow_private=True, idle_seconds=0.2)
    with Receiver(keep_alive=True) as merchant:
        post(http, merchant.url)
        assert http.connections() == 1
        deadline = time.monotonic() + 5
        while http.connections() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert http.connections() == 0
        time.sleep(0.2)
        assert http._closer._thread is None  # nothing kept: the closing thread has ended
        assert post(http, merchant.url).status == 200 and merchant.connections() == 2
    http.close()


def test_a_connection_idle_too_long_is_not_reused_even_before_the_sweep():
    now = [0.0]
    http = OutboundHttp(allow_private=True, idle_seconds=60, clock=lambda: now[0])
    with Receiver(keep_alive=True) as merchant:
        post(http, merchant.url)
        now[0] = 30.0
        post(http, merchant.url)
        now[0] = 91.0
        post(http, merchant.url)
        assert merchant.connections() == 2
    http.close()


def test_at_most_max_origins_are_kept(http):
    http = OutboundHttp(allow_private=True, max_origins=2)
    with Receiver(keep_alive=True) as a, Receiver(keep_alive=True) as b, Receiver(keep_alive=True) as c:
        for merchant in (a, b, c, a):
            assert post(http, merchant.url).status == 200
        assert http.connections() == 2  # c and a again; b's connection was closed when a came back
        assert a.connections() == 2 and b.connections() == 1 and c.connections() == 1
    http.close()


def fake_resolver(answer: list[str]):
    return lambda host, port, *_: [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answer[0], port))]


@pytest.mark.parametrize("renew", ["server closed it", "idle too long"])
def test_the_guard_checks_every_new_connection_of_a_kept_origin(monkeypatch, renew):
    # Loopback plays a public address; then the name's answer changes to the metadata service.
    real = urls.forbidden_reason
    monkeypatch.setattr(urls, "forbidden_reason", lambda a: None if a == "127.0.0.1" else real(a))
    answer, now = ["127.0.0.1"], [0.0]
    http = OutboundHttp(allow_private=False, resolver=fake_resolver(answer), clock=lambda: now[0])
    with Receiver(keep_alive=True) as merchant:
        url = f"http://hooks.merchant.example:{merchant.url.rsplit(':', 1)[1]}/"
        assert post(http, url).status == 200 and post(http, url).status == 200
        answer[0] = "169.254.169.254"
        if renew == "server closed it":
            merchant.drop_connections()
            time.sleep(0.05)
        else:
            now[0] = 61.0
        with pytest.raises(UnsafeUrl, match="link-local"):
            post(http, url)
        assert len(merchant.snapshot()) == 2 and merchant.connections() == 1
    http.close()


def test_the_guard_refuses_a_private_address_by_default():
    http = OutboundHttp()
    with Receiver(keep_alive=True) as merchant:
        with pytest.raises(UnsafeUrl, match="loopback"):
            post(http, merchant.url)
        assert merchant.snapshot() == []
    http.close()


def test_an_unreachable_origin_is_a_failed_connection_not_a_timeout(http):
    with pytest.raises(OutboundFailed, match="NewConnectionError"):
        post(http, "http://127.0.0.1:1/")
