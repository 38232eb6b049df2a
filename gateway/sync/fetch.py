"""Fetching, and nothing else: bytes from a URL, with a timeout and a size bound. Nothing here
decides whether the bytes are good (verify.py does)."""

from __future__ import annotations

import http.client
import shutil
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import BinaryIO

from .errors import EXIT_NETWORK, SyncError

USER_AGENT = "mudhub-sync/1"
MAX_FILE_BYTES = 4 * 1024 * 1024  # a MUD file or an index; bigger is an attack or a mistake
MAX_INDEX_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True)
class Fetched:
    status: int
    body: bytes
    headers: dict[str, str]


class Fetcher:
    def __init__(self, *, timeout: float = 30.0) -> None:
        self.timeout = timeout
        self.bytes_received = 0
        self.requests = 0

    def _open(self, url: str) -> urllib.request.Request:
        return urllib.request.Request(url, headers={"User-Agent": USER_AGENT, "Accept-Encoding": "identity"})

    def get(self, url: str, *, limit: int = MAX_FILE_BYTES, missing_ok: bool = False) -> Fetched:
        """The body at `url`; a 404 is Fetched(404) when `missing_ok`, every other failure a SyncError."""
        self.requests += 1
        try:
            with urllib.request.urlopen(self._open(url), timeout=self.timeout) as response:
                body = response.read(limit + 1)
                headers = {k.lower(): v for k, v in response.headers.items()}
                status = response.status
        except urllib.error.HTTPError as error:
            body = error.read(64 * 1024)
            self.bytes_received += len(body)
            if missing_ok and error.code in (404, 410):
                return Fetched(error.code, body, {k.lower(): v for k, v in error.headers.items()})
            raise SyncError("http_error", f"GET {url} answered {error.code}", EXIT_NETWORK) from None
        except (urllib.error.URLError, http.client.HTTPException, OSError, TimeoutError) as error:
            raise SyncError("unreachable", f"GET {url} failed: {error!r}", EXIT_NETWORK) from None
        self.bytes_received += len(body)
        if len(body) > limit:
            raise SyncError("too_large", f"{url} is larger than {limit} bytes", EXIT_NETWORK)
        return Fetched(status, body, headers)

    def save(self, url: str, out: BinaryIO) -> int:
        """Stream the body at `url` into `out` (the export: the server is never held waiting
        while files are verified, and memory stays bounded); returns the bytes written."""
        self.requests += 1
        try:
            with urllib.request.urlopen(self._open(url), timeout=self.timeout) as response:
                before = out.tell()
                shutil.copyfileobj(response, out, 256 * 1024)
                size = out.tell() - before
        except urllib.error.HTTPError as error:
            raise SyncError("http_error", f"GET {url} answered {error.code}", EXIT_NETWORK) from None
        except (urllib.error.URLError, http.client.HTTPException, OSError, TimeoutError) as error:
            raise SyncError("unreachable", f"the download of {url} failed: {error!r}", EXIT_NETWORK) from None
        self.bytes_received += size
        return size
