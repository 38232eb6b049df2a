"""Writing, and nothing else: files into the directory a MUD manager reads, and the sync
state beside it, always by rename (a temporary file, fsync, rename, fsync of the folder), so
a `kill -9` at any moment leaves the previous good file or the new one, never part of one.

Layouts: `plain` mirrors the URLs (`<mfg>/<model>.json`, `<mfg>/<model>/<firmware>.json`, each
with its `.p7s`); `osmud` is the flat folder osMUD keeps, each file under its URL's last
segment, as osMUD itself names what it downloads (latest profiles only: a firmware file's
last segment is just its version).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

LAYOUTS = ("plain", "osmud")
_TEMP_PREFIX = ".mudhub-sync-"


def write_atomically(target: Path, data: bytes, *, sync_folder: bool = True, prefix: str = _TEMP_PREFIX) -> None:
    """Temporary file, fsync, rename; then fsync the folder, unless the caller does it once
    for many files (Store.flush) before it records them as done. The server's publish folder
    writes through this too, with a temporary name of its own (`prefix`)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=prefix, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    if sync_folder:
        _fsync_folder(target.parent)


def _fsync_folder(folder: Path) -> None:
    handle = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def signature_of(path: str) -> str:
    return path.removesuffix(".json") + ".p7s"


class Store:
    def __init__(self, dest: Path, layout: str = "plain") -> None:
        if layout not in LAYOUTS:
            raise ValueError(f"layout must be one of {LAYOUTS}")
        self.dest = dest
        self.layout = layout
        self._unsynced: set[Path] = set()

    def local(self, path: str) -> Path | None:
        """Where the file served at `path` (mud/<mfg>/<model>.json) lives here; None if this layout keeps none."""
        parts = path.split("/")
        if len(parts) < 3 or parts[0] != "mud" or any(p in ("", ".", "..") for p in parts):
            raise ValueError(f"not a mudhub file path: {path!r}")
        if self.layout == "osmud":
            return self.dest / parts[2] if len(parts) == 3 else None
        return self.dest.joinpath(*parts[1:])

    def sha256(self, path: str) -> str | None:
        local = self.local(path)
        if local is None or not local.is_file():
            return None
        return hashlib.sha256(local.read_bytes()).hexdigest()

    def write(self, path: str, body: bytes, signature: bytes) -> bool:
        """Write a verified file and its signature; False if this layout keeps no such file."""
        local = self.local(path)
        if local is None:
            return False
        # The signature first: a manager that sees the new file finds its signature already.
        write_atomically(local.with_suffix(".p7s"), signature, sync_folder=False)
        write_atomically(local, body, sync_folder=False)
        self._unsynced.add(local.parent)
        return True

    def flush(self) -> None:
        """Make the renames so far durable (a power cut, not only a kill): call before the
        cursor that counts them done is saved."""
        for folder in sorted(self._unsynced):
            if folder.is_dir():
                _fsync_folder(folder)
        self._unsynced.clear()

    def remove(self, path: str) -> None:
        local = self.local(path)
        if local is not None:
            local.unlink(missing_ok=True)
            local.with_suffix(".p7s").unlink(missing_ok=True)
            self._unsynced.add(local.parent)

    def paths(self) -> Iterator[str]:
        """The mudhub paths of the files held here (plain layout; osmud names cannot be mapped back)."""
        if self.layout != "plain" or not self.dest.is_dir():
            return
        for local in sorted(self.dest.rglob("*.json")):
            relative = local.relative_to(self.dest)
            if relative.parts[0].startswith(".") or local.name.startswith("."):
                continue
            yield "mud/" + relative.as_posix()

    def clean_temporaries(self) -> int:
        """Remove what a killed run left half-written (never under a real name)."""
        count = 0
        if self.dest.is_dir():
            for tmp in self.dest.rglob(f"{_TEMP_PREFIX}*.tmp"):
                tmp.unlink(missing_ok=True)
                count += 1
        return count


@dataclass
class State:
    """What a run leaves for the next: the feed cursor, the newest index and timestamp versions
    seen, the index the files match, the certificates verified indexes announced."""

    path: Path
    cursor: int | None = None
    index_version: int = 0
    announced: list[str] = field(default_factory=list)  # PEM
    source: str = ""
    region: str = ""  # the region slug whose variants the files are ("": global files only)
    # The newest timestamp version seen (never accepted older), and the sha256 of the index
    # whose files this directory holds: a timestamp naming it means nothing changed.
    timestamp_version: int = 0
    index_sha256: str = ""
    # The country -> region table of the last index read (a run that needs no index uses it).
    regions: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> State:
        if not path.exists():
            return cls(path=path)
        data: dict[str, Any] = json.loads(path.read_text())
        return cls(
            path=path,
            cursor=data.get("cursor"),
            index_version=int(data.get("index_version", 0)),
            announced=list(data.get("announced", [])),
            source=str(data.get("source", "")),
            region=str(data.get("region", "")),
            timestamp_version=int(data.get("timestamp_version", 0)),
            index_sha256=str(data.get("index_sha256", "")),
            regions={str(k): str(v) for k, v in dict(data.get("regions", {})).items()},
        )

    def save(self) -> None:
        data = {
            "cursor": self.cursor,
            "index_version": self.index_version,
            "announced": self.announced,
            "source": self.source,
            "region": self.region,
            "timestamp_version": self.timestamp_version,
            "index_sha256": self.index_sha256,
            "regions": self.regions,
        }
        write_atomically(self.path, (json.dumps(data, indent=1) + "\n").encode())
