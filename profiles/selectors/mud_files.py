"""The served MUD files, read from the cache first: a cache hit costs no database query."""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass
from urllib.parse import quote

from django.conf import settings
from django.core.cache import cache

from profiles.models import LATEST, ConsensusProfile

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServedFile:
    etag: str
    body: bytes
    max_age: int


def served_file_key(manufacturer_slug: str, model_slug: str, scope: str) -> str:
    # A firmware version (and a requested path) may hold any character; the key is kept to
    # printable ASCII under 250 characters, as every cache backend accepts, by quoting it and
    # hashing the rare long one.
    key = "mud-file:" + quote(f"{manufacturer_slug}/{model_slug}/{scope}", safe="/._-+~")
    if len(key) > 200:
        key = "mud-file:sha256:" + hashlib.sha256(key.encode()).hexdigest()
    return key


def served_signature_key(file_key: str) -> str:
    """The cache key of the .p7s beside the file cached under `file_key`."""
    return file_key + ".p7s"


# What a cache holds for a file known not to be served (a region without a variant): the
# fallback to the global file then costs no database query either. Publishing overwrites it.
_ABSENT = ServedFile(etag="", body=b"", max_age=0)

# key -> (monotonic expiry, file): this process's short-lived copy of what it served.
_MEMORY: dict[str, tuple[float, ServedFile]] = {}
_MEMORY_MAX = 4096


def served_file_get(
    *,
    manufacturer_slug: str,
    model_slug: str,
    scope: str = LATEST,
    signature: bool = False,
    remember_absent: bool = False,
) -> ServedFile | None:
    """The served file, or with `signature` its detached signature (the .p7s). With
    `remember_absent` (a regional variant, looked up once its global file is known to exist)
    a file that is not served is remembered as such, like a served one."""
    key = served_file_key(manufacturer_slug, model_slug, scope)
    if signature:
        key = served_signature_key(key)
    ttl = settings.MUDHUB_MUD_FILE_MEMORY_SECONDS
    if ttl > 0:
        held = _MEMORY.get(key)
        if held is not None and held[0] > time.monotonic():
            return held[1] if held[1].etag else None
    served = _shared_get(key, manufacturer_slug, model_slug, scope, signature, remember_absent)
    if served is not None and ttl > 0:
        if len(_MEMORY) >= _MEMORY_MAX:
            _MEMORY.clear()
        _MEMORY[key] = (time.monotonic() + ttl, served)
    return served if served is not None and served.etag else None


def served_file_forget(key: str) -> None:
    """Drop this process's copy (the publishing process sees its own publish at once)."""
    _MEMORY.pop(key, None)


def _shared_get(
    key: str, manufacturer_slug: str, model_slug: str, scope: str, signature: bool, remember_absent: bool = False
) -> ServedFile | None:
    try:
        hit = cache.get(key)
    except Exception:
        log.warning("cache unavailable; serving %s from the database", key, exc_info=True)
        hit = None
    if hit is not None:
        return hit
    row = (
        ConsensusProfile.objects.filter(
            device_model__manufacturer__slug=manufacturer_slug,
            device_model__slug=model_slug,
            scope=scope,
            is_current=True,
        )
        .values_list(*(("signature_etag", "signature") if signature else ("etag", "mud_bytes")), "cache_validity_hours")
        .first()
    )
    if row is None or not row[1]:
        if not remember_absent:
            return None
        served = _ABSENT
    else:
        served = ServedFile(etag=row[0], body=bytes(row[1]), max_age=row[2] * 3600)
    try:
        cache.set(key, served, timeout=settings.MUDHUB_MUD_FILE_CACHE_SECONDS)
    except Exception:
        log.warning("cache unavailable; %s not cached", key, exc_info=True)
    return served
