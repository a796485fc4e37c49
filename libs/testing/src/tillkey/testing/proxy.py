"""A TCP proxy that makes "the broker is unreachable" real, for the messaging and end-to-end tests."""
from __future__ import annotations

import socket
import threading
from urllib.parse import urlsplit, urlunsplit


class TcpProxy:
    """Forwards a loopback port to the broker. `stop()` closes the listener and every live
    connection (clients see the stream die, new connects are refused); `start()` listens again
    on the same port; `drop_connections()` kills live connections but keeps listening;
    `pause()` holds every byte in both directions (a peer gone silent) until `resume()`."""

    def __init__(self, target_host: str, target_port: int):
        self.target = (target_host, target_port)
        self.port = 0
        self._listener: socket.socket | None = None
        self._accept_thread: threading.Thread | None = None
        self._pairs: set[tuple[socket.socket, socket.socket]] = set()
        self._lock = threading.Lock()
        self._flowing = threading.Event()
        self._flowing.set()
        self.accepted = 0

    def live(self) -> int:
        """Connections open through the proxy (a client that closed its socket is gone)."""
        with self._lock:
            return len(self._pairs)

    def pause(self) -> None:
        self._flowing.clear()

    def resume(self) -> None:
        self._flowing.set()

    def url(self, amqp_url: str) -> str:
        """`amqp_url` pointed at the proxy: same credentials, same vhost path."""
        parts = urlsplit(amqp_url)
        auth = parts.netloc.rpartition("@")[0]
        netloc = f"{auth}@127.0.0.1:{self.port}" if auth else f"127.0.0.1:{self.port}"
        return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))

    def start(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self._listener = listener
        self._accept_thread = threading.Thread(target=self._accept_loop, args=(listener,),
                                               name=f"proxy-{self.port}", daemon=True)
        self._accept_thread.start()

    def stop(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            _kill(listener)  # shutdown() wakes the blocked accept() on Linux
            if self._accept_thread is not None:  # start() set it together with the listener
                self._accept_thread.join(5)
        self.drop_connections()

    def drop_connections(self) -> None:
        with self._lock:
            pairs, self._pairs = self._pairs, set()
        for client, upstream in pairs:
            _kill(client)
            _kill(upstream)

    def _accept_loop(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                _kill(client)
                continue
            with self._lock:
                if self._listener is not listener:  # stopped while we were connecting
                    _kill(client)
                    _kill(upstream)
                    return
                self._pairs.add((client, upstream))
                self.accepted += 1
            for sock in (client, upstream):  # as pika does: Nagle + delayed ACKs stall small frames ~40 ms
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            pair = (client, upstream)
            for src, dst in (pair, pair[::-1]):
                threading.Thread(target=self._pump, args=(src, dst, pair), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, pair) -> None:
        try:
            while data := src.recv(65536):
                while not self._flowing.wait(0.1):
                    if dst.fileno() == -1:  # dropped while paused
                        raise OSError
                dst.sendall(data)
        except OSError:
            pass
        with self._lock:
            self._pairs.discard(pair)
        _kill(src)
        _kill(dst)


def _kill(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()


def proxy_for(amqp_url: str) -> TcpProxy:
    """A started proxy in front of the broker of `amqp_url`."""
    parts = urlsplit(amqp_url)
    proxy = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 5672)
    proxy.start()
    return proxy
