"""One sync run: the timestamp and the index, a bootstrap if there is no cursor, the feed.

First the signed timestamp (TUF's timestamp role): when it names the index already checked,
the index is not fetched at all. From a mudhub server: the signed index (freshness,
rollback, announced certificates), then, without a cursor, the NDJSON export, then the change feed from the export's
`feed_seq`, a page at a time, saving the cursor after each page. From a mirror (any static
copy of the publish directory): the signed index says which files exist and their sha256;
only files whose sha256 differs are fetched, and files it no longer lists are removed.

Every file is verified before it is written; the first one that fails stops the run with its
exit status and leaves every file written so far (all verified) and the cursor of the last
complete page, so the previous good state is never replaced by a bad one.

Regional variants (`mud/<mfg>/<model>@<region slug>.json`, the firmware form likewise) are
left alone unless a region is asked for (`--region`, a country code or a region slug, the
country looked up in the signed index). Then each file is the region's variant where there
is one and the global file elsewhere, written at the global file's plain path, so the MUD
manager reads one file per model; a variant is verified as fetched, for its own path.
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

from .errors import EXIT_BAD_SIGNATURE, EXIT_NETWORK, EXIT_USAGE, SyncError
from .fetch import MAX_INDEX_BYTES, Fetcher
from .store import State, Store, signature_of
from .verify import Index, IndexEntry, Timestamp, TrustStore, verify_file, verify_index, verify_timestamp

INDEX_PATH = "mud/index.json"
INDEX_SIGNATURE = "mud/index.p7s"
TIMESTAMP_PATH = "mud/timestamp.json"
TIMESTAMP_SIGNATURE = "mud/timestamp.p7s"
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
        region: str | None = None,
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
        self.asked_region = region
        self.region: str | None = None  # the region slug, once the index has resolved what was asked
        self.region_slugs: set[str] = set()
        self.now = now
        self.say = say
        self.summary = Summary()

    def run(self) -> Summary:
        self.store.clean_temporaries()
        if self.state.source and self.state.source != self.base:
            self.state.cursor = None  # another server: its feed numbers mean nothing here
            self.state.index_sha256 = ""
        self.state.source = self.base
        index = self.check_index()
        self.region = self.resolve_region(self.state.regions)
        if self.state.region != (self.region or ""):
            self.state.cursor = None  # the files held are another region's: start over
        self.state.region = self.region or ""
        if self.mirror:
            if index is not None:
                self.sync_from_index(index)
                self.state.index_sha256 = index.sha256  # the files now match it
                self.state.save()
            return self.summary
        if self.state.cursor is None:
            self.bootstrap()
        self.follow_feed()
        return self.summary

    # --- the index ---------------------------------------------------------------------------

    def check_timestamp(self) -> Timestamp | None:
        """The signed timestamp, checked (signature, expiry, never older than one seen); None
        when the server or mirror publishes none (the index is then fetched and checked alone)."""
        fetched = self.fetcher.get(self.base + TIMESTAMP_PATH, missing_ok=True)
        if fetched.status != 200:
            return None
        signature = self.fetcher.get(self.base + TIMESTAMP_SIGNATURE).body
        stamp = verify_timestamp(
            body=fetched.body,
            signature=signature,
            trust=self.trust,
            now=self.now(),
            newest_seen=self.state.timestamp_version,
        )
        self.state.timestamp_version = stamp.version
        return stamp

    def check_index(self) -> Index | None:
        """The index, checked; None when the timestamp says it is not needed: it names the index
        this directory already matches, or (from a server, whose feed says what changed and
        whose files are each verified) an index was read before (its country -> region table
        is kept) and the timestamp announces no next signer this gateway lacks."""
        stamp = self.check_timestamp()
        if stamp is not None:
            unchanged = stamp.index_sha256 == self.state.index_sha256
            announcing = stamp.next_signer is not None and stamp.next_signer not in self.trust.fingerprints()
            read_before = bool(self.state.index_sha256)
            if unchanged or (not self.mirror and read_before and not announcing):
                self.state.save()
                what = "unchanged" if unchanged else "not needed: the feed says what changed"
                self.say(f"the index is {what} (timestamp version {stamp.version})")
                return None
        body = self.fetcher.get(self.base + INDEX_PATH, limit=MAX_INDEX_BYTES).body
        signature = self.fetcher.get(self.base + INDEX_SIGNATURE).body
        index = verify_index(
            body=body, signature=signature, trust=self.trust, now=self.now(), newest_seen=self.state.index_version
        )
        # An index other than the one the timestamp names is acceptable only when newer (one
        # published between the two requests); else a mirror mixes files that do not belong together.
        if stamp is not None and index.sha256 != stamp.index_sha256 and index.version <= stamp.index_version:
            raise SyncError(
                "index_mismatch",
                f"the index (version {index.version}) is not the one the timestamp names "
                f"(version {stamp.index_version})",
                EXIT_BAD_SIGNATURE,
            )
        self.state.index_version = index.version
        self.state.regions = dict(index.regions)
        if not self.mirror:
            self.state.index_sha256 = index.sha256  # a server's feed, not the index, says what changed
        if index.next_certificate is not None and self.trust.announce(index.next_certificate):
            self.state.announced.append(index.next_certificate.public_bytes(Encoding.PEM).decode())
            self.say(f"trusting the announced next signing certificate {index.signer[:16]}...")
        self.state.save()
        return index

    # --- regions ------------------------------------------------------------------------------

    def resolve_region(self, regions: dict[str, str]) -> str | None:
        """The region slug asked for, from the signed index's country -> region table."""
        self.region_slugs = set(regions.values())
        asked = self.asked_region
        if asked is None:
            return None
        slug = regions.get(asked.upper()) if len(asked) == 2 else asked
        if slug not in self.region_slugs:
            raise SyncError(
                "unknown_region",
                f"{asked!r} is neither a country code nor a region slug the index lists",
                EXIT_USAGE,
            )
        return slug

    def split(self, path: str) -> tuple[str, str | None]:
        """(the global file's path, region slug or None) of a served path."""
        folder, _, name = path.rpartition("/")
        base, separator, slug = name.removesuffix(".json").rpartition("@")
        if separator and base and slug in self.region_slugs:
            return f"{folder}/{base}.json", slug
        return path, None

    def target(self, path: str) -> str | None:
        """Where the file served at `path` goes here (a variant of our region: at its global
        file's path), or None when this gateway keeps no such file (another region's)."""
        base, slug = self.split(path)
        if slug is None:
            return path
        return base if slug == self.region else None

    # --- a static mirror ---------------------------------------------------------------------

    def sync_from_index(self, index: Index) -> None:
        chosen: dict[str, IndexEntry] = {}
        for entry in index.files:
            target = self.target(entry.path)
            if target is None:
                continue
            held = chosen.get(target)
            if held is None or self.split(held.path)[1] is None:  # a variant beats the global file
                chosen[target] = entry
        for target, entry in chosen.items():
            if self.store.local(target) is None or self.store.sha256(target) == entry.sha256:
                continue
            body = self.fetcher.get(self.base + entry.path).body
            signature = self.fetcher.get(self.base + entry.signature).body
            verify_file(
                path=entry.path, body=body, signature=signature, trust=self.trust, now=self.now(), sha256=entry.sha256
            )
            self.store.write(target, body, signature)
            self.summary.written += 1
        for path in list(self.store.paths()):
            if path not in chosen:
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
        from_variant: set[str] = set()  # targets written from our region's variant this run
        count = 0
        end = None
        for line in lines:
            item = _json_line(line, "an export line")
            if item.get("end"):
                end = item
                break
            count += 1
            path = str(item["path"])
            target = self.target(path)
            if target is None or target in from_variant:
                continue
            body = str(item["mud"]).encode("utf-8")
            signature = base64.b64decode(item["signature"])
            verify_file(
                path=path, body=body, signature=signature, trust=self.trust, now=self.now(), sha256=item["sha256"]
            )
            seen.add(target)
            if target != path:
                from_variant.add(target)
            if self.store.write(target, body, signature):
                self.summary.written += 1
        if end is None or end.get("count") != count:
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
        target = self.target(path)
        if target is None:
            return  # another region's variant
        if self.region is not None:
            self.refresh(target)
            return
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

    def refresh(self, path: str) -> None:
        """With a region: fetch what the server serves our region at `path` now (its variant,
        or the global file), verify it for the path it names, write it at `path`; remove the
        file when nothing is served any more."""
        if self.store.local(path) is None:
            return
        slug = str(self.region)
        body = self.fetcher.get(f"{self.base}{path}?{urlencode({'region': slug})}", missing_ok=True)
        if body.status == 404:
            if self.store.sha256(path) is not None:
                self.store.remove(path)
                self.summary.removed += 1
            return
        if body.status != 200:
            raise SyncError("bad_response", f"{path} answered {body.status}", EXIT_NETWORK)
        named = _named_path(body.body)
        variant = f"{path.removesuffix('.json')}@{slug}.json"
        if named not in (path, variant):
            raise SyncError("wrong_file", f"{path} holds the signed file of {named}", EXIT_BAD_SIGNATURE)
        signature = self.fetcher.get(self.base + signature_of(named), missing_ok=True)
        if signature.status != 200:
            self.summary.skipped += 1  # withdrawn since: the feed's removal entry follows
            return
        verify_file(path=named, body=body.body, signature=signature.body, trust=self.trust, now=self.now())
        self.store.write(path, body.body, signature.body)
        self.summary.written += 1


def _named_path(body: bytes) -> str:
    """The path a MUD file's mud-url names (verify_file checks it again, with the signature)."""
    try:
        url = json.loads(body)["ietf-mud:mud"]["mud-url"]
    except (ValueError, KeyError, TypeError):
        raise SyncError("invalid_mud", "a served file names no mud-url", EXIT_BAD_SIGNATURE) from None
    return urlsplit(str(url)).path.lstrip("/")


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
