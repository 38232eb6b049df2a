"""One sync run: check the index, bootstrap if there is no cursor, follow the feed.

From a mudhub server: the signed index first (freshness, rollback, announced certificates),
then, without a cursor, the NDJSON export, then the change feed from the export's
`feed_seq`, a page at a time, saving the cursor after each page. From a mirror (any static
copy of the publish directory): the signed index says which files exist and their sha256;
only files whose sha256 differs are fetched, and files it no longer lists are removed.

Every file is verified before it is written; the first one that fails stops the run with its
exit status and leaves every file written so far (all verified) and the cursor of the last
complete page, so the previous good state is never replaced by a bad one.
"""

from __future__ import annotations

import base64
import json
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

from cryptography.hazmat.primitives.serialization import Encoding

from profiles.signing.verify import load_certificate

from .errors import EXIT_BAD_SIGNATURE, EXIT_NETWORK, SyncError
from .fetch import MAX_INDEX_BYTES, Fetcher
from .store import State, Store, signature_of
from .verify import Index, TrustStore, verify_file, verify_index

INDEX_PATH = "mud/index.json"
INDEX_SIGNATURE = "mud/index.p7s"
EXPORT_PATH = "api/v1/export/"
CHANGES_PATH = "api/v1/changes/"


@dataclass
class Summary:
    written: int = 0
    removed: int = 0
    skipped: int = 0
    feed_requests: int = 0
    bootstrapped: bool = False


class Sync:
    def __init__(
        self,
        *,
        base: str,
        mirror: bool,
        store: Store,
        state: State,
        trust: TrustStore,
        fetcher: Fetcher,
        page_size: int = 1000,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        say: Callable[[str], None] = lambda text: None,
    ) -> None:
        self.base = base.rstrip("/") + "/"
        self.mirror = mirror
        self.store = store
        self.state = state
        self.trust = trust
        self.fetcher = fetcher
        self.page_size = page_size
        self.now = now
        self.say = say
        self.summary = Summary()

    def run(self) -> Summary:
        self.store.clean_temporaries()
        if self.state.source and self.state.source != self.base:
            self.state.cursor = None  # another server: its feed numbers mean nothing here
        self.state.source = self.base
        index = self.check_index()
        if self.mirror:
            self.sync_from_index(index)
            return self.summary
        if self.state.cursor is None:
            self.bootstrap()
        self.follow_feed()
        return self.summary

    # --- the index ---------------------------------------------------------------------------

    def check_index(self) -> Index:
        body = self.fetcher.get(self.base + INDEX_PATH, limit=MAX_INDEX_BYTES).body
        signature = self.fetcher.get(self.base + INDEX_SIGNATURE).body
        index = verify_index(
            body=body, signature=signature, trust=self.trust, now=self.now(), newest_seen=self.state.index_version
        )
        self.state.index_version = index.version
        if index.next_certificate is not None and self.trust.announce(index.next_certificate):
            self.state.announced.append(index.next_certificate.public_bytes(Encoding.PEM).decode())
            self.say(f"trusting the announced next signing certificate {index.signer[:16]}...")
        self.state.save()
        return index

    def sync_from_index(self, index: Index) -> None:
        listed = set()
        for entry in index.files:
            listed.add(entry.path)
            if self.store.local(entry.path) is None or self.store.sha256(entry.path) == entry.sha256:
                continue
            body = self.fetcher.get(self.base + entry.path).body
            signature = self.fetcher.get(self.base + entry.signature).body
            verify_file(
                path=entry.path, body=body, signature=signature, trust=self.trust, now=self.now(), sha256=entry.sha256
            )
            self.store.write(entry.path, body, signature)
            self.summary.written += 1
        for path in list(self.store.paths()):
            if path not in listed:
                self.store.remove(path)
                self.summary.removed += 1
        self.store.flush()

    # --- the export and the feed -------------------------------------------------------------

    def bootstrap(self) -> None:
        """Every current file from the export; the cursor is its feed_seq once the end line arrived.

        The export is saved to a temporary file first and verified from there: fetching is
        not held up by verifying, and a download cut short is known before anything is written."""
        with tempfile.TemporaryFile(dir=self.state.path.parent) as spool:
            self.fetcher.save(self.base + EXPORT_PATH, spool)
            spool.seek(0)
            self._bootstrap_from(iter(spool))

    def _bootstrap_from(self, lines: Iterator[bytes]) -> None:
        header = _json_line(next(lines, b""), "the export's header")
        if header.get("mudhub-export") != 1:
            raise SyncError("bad_export", "the export's header is not format 1", EXIT_NETWORK)
        seen: set[str] = set()
        end = None
        for line in lines:
            item = _json_line(line, "an export line")
            if item.get("end"):
                end = item
                break
            path = str(item["path"])
            body = str(item["mud"]).encode("utf-8")
            signature = base64.b64decode(item["signature"])
            verify_file(
                path=path, body=body, signature=signature, trust=self.trust, now=self.now(), sha256=item["sha256"]
            )
            seen.add(path)
            if self.store.write(path, body, signature):
                self.summary.written += 1
        if end is None or end.get("count") != len(seen):
            raise SyncError("truncated_export", "the export ended early; nothing after it was trusted", EXIT_NETWORK)
        for path in list(self.store.paths()):
            if path not in seen:
                self.store.remove(path)
                self.summary.removed += 1
        self.store.flush()
        self.state.cursor = int(header["feed_seq"])
        self.state.save()
        self.summary.bootstrapped = True
        self.say(f"bootstrapped {len(seen)} file(s) at feed_seq {self.state.cursor}")

    def follow_feed(self) -> None:
        while True:
            query = urlencode({"since": self.state.cursor, "limit": self.page_size})
            fetched = self.fetcher.get(f"{self.base}{CHANGES_PATH}?{query}", missing_ok=True)
            self.summary.feed_requests += 1
            if fetched.status == 410:
                self.say("the feed no longer reaches back to our cursor: bootstrapping from the export")
                self.bootstrap()
                continue
            page = _json_line(fetched.body, "a feed page")
            for entry in page["results"]:
                self.apply(entry)
            self.store.flush()
            self.state.cursor = int(page["next"])
            self.state.save()
            if not page["more"]:
                return

    def apply(self, entry: dict[str, Any]) -> None:
        path = urlsplit(str(entry["mud_url"])).path.lstrip("/")
        if entry["kind"] == "removed":
            self.store.remove(path)
            self.summary.removed += 1
            return
        if self.store.local(path) is None:
            return
        body = self.fetcher.get(self.base + path, missing_ok=True)
        signature = self.fetcher.get(self.base + signature_of(path), missing_ok=True)
        if body.status != 200 or signature.status != 200:
            self.summary.skipped += 1  # withdrawn since: the feed's removal entry follows
            return
        # Not checked against the entry's etag: the file may be a newer version already, which
        # a later entry announces; its signature is what makes it good.
        verify_file(path=path, body=body.body, signature=signature.body, trust=self.trust, now=self.now())
        self.store.write(path, body.body, signature.body)
        self.summary.written += 1


def _json_line(data: bytes, what: str) -> dict[str, Any]:
    try:
        value = json.loads(data)
    except ValueError:
        raise SyncError("bad_response", f"{what} is not JSON", EXIT_NETWORK) from None
    if not isinstance(value, dict):
        raise SyncError("bad_response", f"{what} is not a JSON object", EXIT_NETWORK)
    return value


def load_trust(pinned_pem: bytes, state: State) -> TrustStore:
    try:
        pinned = [load_certificate(pinned_pem)]
    except ValueError:
        raise SyncError("bad_certificate", "the pinned certificate cannot be read", EXIT_BAD_SIGNATURE) from None
    return TrustStore(pinned=pinned, announced=[load_certificate(pem.encode()) for pem in state.announced])
