"""Real servers on loopback for the manufacturer tests: dnsmasq (DNS) and an HTTPS server.

Both bind 127.0.0.1 on a free ephemeral port, serve only what the test gives them, and are
stopped by the test's cleanup. dnsmasq comes from the Debian package dnsmasq-base.
"""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.support import require


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def require_dnsmasq() -> str:
    path = shutil.which("dnsmasq") or (shutil.which("dnsmasq", path="/usr/sbin:/sbin"))
    require(path is not None, "dnsmasq is not installed (apt-get install dnsmasq-base)")
    assert path is not None
    return path


@contextmanager
def dnsmasq(*, txt: dict[str, list[str]] | None = None, addresses: dict[str, str] | None = None) -> Iterator[str]:
    """A dnsmasq answering for names under `.test` only; yields its `host:port`.

    `txt`: name -> TXT strings; `addresses`: domain -> IPv4 address (the domain and every name
    under it). Anything else under .test is NXDOMAIN; nothing is forwarded anywhere."""
    binary = require_dnsmasq()
    options = [f"--txt-record={name},{value}" for name, values in (txt or {}).items() for value in values]
    options += [f"--address=/{domain}/{address}" for domain, address in (addresses or {}).items()]
    for _attempt in range(5):
        port = free_udp_port()
        process = subprocess.Popen(
            [binary, "--no-daemon", "--conf-file=/dev/null", f"--port={port}", "--listen-address=127.0.0.1",
             "--bind-interfaces", "--no-resolv", "--no-hosts", "--local=/test/", "--user=root", *options],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        if _answers(port, process):
            break
        process.kill()
        process.wait(timeout=5)
    else:
        raise RuntimeError("dnsmasq did not start on a free port")
    try:
        yield f"127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=5)


def _answers(port: int, process: subprocess.Popen[bytes]) -> bool:
    import dns.exception
    import dns.resolver

    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = ["127.0.0.1"]
    resolver.port = port
    resolver.lifetime = 0.5
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and process.poll() is None:
        try:
            resolver.resolve("probe.test", "A")
        except dns.resolver.NXDOMAIN:
            return True
        except dns.exception.DNSException:
            time.sleep(0.05)
            continue
        return True
    return False


@dataclass
class HttpsServer:
    """What a loopback HTTPS server serves: path -> (status, headers, body); requests seen."""

    port: int = 0
    routes: dict[str, tuple[int, dict[str, str], bytes]] = field(default_factory=dict)
    seen: list[str] = field(default_factory=list)

    def serve(self, path: str, body: bytes, status: int = 200, **headers: str) -> None:
        self.routes[path] = (status, headers, body)


@contextmanager
def https_server(cert: Path, key: Path) -> Iterator[HttpsServer]:
    """An HTTPS server on 127.0.0.1 with the given certificate (made by tests.pki)."""
    state = HttpsServer()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.seen.append(self.path)
            status, headers, body = state.routes.get(self.path, (404, {}, b"not here"))
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name.replace("_", "-"), value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(cert), str(key))
    server.socket = context.wrap_socket(server.socket, server_side=True)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


Serve = Callable[[str, bytes], None]
