"""Publishing: the one place a consensus version (or a variant of one) becomes a signed file.

`consensus_publish` signs the bytes once, stores the version and its change-feed entry, and,
once the transaction commits, puts the file and its signature in the cache, writes both to
MUDHUB_PUBLISH_DIR and refreshes the signed index. `consensus_withdraw` is its inverse: a
feed entry of kind `removed`, the files deleted. Nothing is signed per request.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction

from gateway.sync.store import write_atomically
from profiles.models import LATEST, Change, ConsensusProfile, DeviceModel
from profiles.regions import scope_file_path
from profiles.selectors.mud_files import ServedFile, served_file_forget, served_file_key, served_signature_key
from profiles.services.signing_keys import signing_identity
from profiles.signing.sign import sign_detached

log = logging.getLogger(__name__)

# Any constant: the advisory lock that makes change-feed sequence numbers commit in order.
_FEED_LOCK = 0x6D756468  # "mudh"
WELL_KNOWN_CERT = ".well-known/mudhub/aggregator.pem"


def published_path(*, manufacturer_slug: str, model_slug: str, scope: str) -> str:
    """The file's path relative to the site root, the same under /mud/ and MUDHUB_PUBLISH_DIR
    (a regional variant's too: `mud/<mfg>/<model>@<region slug>.json`)."""
    return scope_file_path(manufacturer_slug=manufacturer_slug, model_slug=model_slug, scope=scope)


def signature_path(path: str) -> str:
    return path.removesuffix(".json") + ".p7s"


def signature_url(mud_url: str) -> str:
    """The `mud-signature` of a file served at `mud_url` (RFC 8520: .json replaced by .p7s)."""
    return mud_url.removesuffix(".json") + ".p7s"


def feed_lock() -> None:
    """Within the caller's transaction: take the feed's lock before a sequence number is drawn.

    PostgreSQL hands out sequence numbers at insert time but they become visible at commit,
    so without the lock seq 11 could commit before seq 10 and a gateway that read up to 11
    would never see 10. Held to commit, the lock makes the order of numbers the order of
    commits. (SQLite runs one writer at a time anyway.)"""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_FEED_LOCK])


def consensus_publish(*, profile: ConsensusProfile) -> Change:
    """Sign and store a new (unsaved) consensus version, and record it in the change feed."""
    identity = signing_identity()
    body = bytes(profile.mud_bytes)
    profile.etag = hashlib.sha256(body).hexdigest()
    profile.signature = sign_detached(body, identity)
    profile.signature_etag = hashlib.sha256(profile.signature).hexdigest()
    profile.signer = identity.fingerprint
    profile.save()
    model = profile.device_model
    feed_lock()
    change = Change.objects.create(device_model=model, scope=profile.scope, profile=profile, etag=profile.etag)
    path = published_path(manufacturer_slug=model.manufacturer.slug, model_slug=model.slug, scope=profile.scope)
    max_age = profile.cache_validity_hours * 3600
    served = ServedFile(etag=profile.etag, body=body, max_age=max_age)
    signed = ServedFile(etag=profile.signature_etag, body=bytes(profile.signature), max_age=max_age)
    key = served_file_key(model.manufacturer.slug, model.slug, profile.scope)

    def after_commit() -> None:
        _cache_set(key, served)
        _cache_set(served_signature_key(key), signed)
        publish_dir_write(signature_path(path), signed.body)
        publish_dir_write(path, body)

    transaction.on_commit(after_commit)
    _index_after_commit()
    return change


def consensus_withdraw(
    *, device_model: DeviceModel, scope: str = LATEST, merged_into: DeviceModel | None = None
) -> Change | None:
    """Stop serving a model's file for one scope: a `removed` feed entry, the files deleted.
    None if nothing was served."""
    with transaction.atomic():
        current = ConsensusProfile.objects.select_for_update().filter(
            device_model=device_model, scope=scope, is_current=True
        )
        if not current.update(is_current=False):
            return None
        feed_lock()
        change = Change.objects.create(
            kind=Change.Kind.REMOVED, device_model=device_model, scope=scope, merged_into=merged_into
        )
        if scope == LATEST:
            DeviceModel.objects.filter(pk=device_model.pk).update(has_consensus=False)
        mfg, model = device_model.manufacturer.slug, device_model.slug
        key = served_file_key(mfg, model, scope)
        path = published_path(manufacturer_slug=mfg, model_slug=model, scope=scope)

        def after_commit() -> None:
            for name in (key, served_signature_key(key)):
                served_file_forget(name)
                try:
                    cache.delete(name)
                except Exception:
                    log.warning("cache unavailable: %s stays until it expires", name, exc_info=True)
            publish_dir_remove(path)
            publish_dir_remove(signature_path(path))

        transaction.on_commit(after_commit)
        _index_after_commit()
    return change


class _IndexHook:
    """The on-commit rebuild of the index, registered once per transaction."""

    def __init__(self) -> None:
        self.done = False

    def __call__(self) -> None:
        self.done = True
        index_schedule()


def _index_after_commit() -> None:
    """One index rebuild after the transaction, however many files it published (a recompute
    publishes every firmware scope of a model at once)."""
    pending = (hook[1] for hook in connection.run_on_commit)
    if not any(isinstance(hook, _IndexHook) and not hook.done for hook in pending):
        transaction.on_commit(_IndexHook())


def _cache_set(key: str, served: ServedFile) -> None:
    served_file_forget(key)
    try:
        cache.set(key, served, timeout=settings.MUDHUB_MUD_FILE_CACHE_SECONDS)
    except Exception:
        log.warning("cache unavailable: %s will be read from the database", key, exc_info=True)


def _publish_root() -> Path | None:
    return Path(settings.MUDHUB_PUBLISH_DIR) if settings.MUDHUB_PUBLISH_DIR else None


def atomic_write(target: Path, data: bytes) -> None:
    """Write `data` to `target` so that a reader sees the old file or the new one, never part:
    a temporary file in the same directory, fsync, rename, fsync of the directory (the same
    writer mudhub-sync uses; a dot-prefixed temporary name, which nginx does not serve)."""
    write_atomically(target, data, prefix=f".{target.name}.")


def publish_dir_write(path: str, data: bytes) -> None:
    root = _publish_root()
    if root is None:
        return
    try:
        atomic_write(root / path, data)
    except OSError:
        # The database holds the file; `manage.py publish` writes the directory again.
        log.error("could not write %s under %s", path, root, exc_info=True)


def publish_dir_remove(path: str) -> None:
    root = _publish_root()
    if root is not None:
        (root / path).unlink(missing_ok=True)


# --- The signed index: built after the publishes of a burst, not after each one ------------

_DEFER = threading.local()


@contextmanager
def index_deferred() -> Iterator[None]:
    """Publish the index once at the end of a block of many publishes (recompute --all)."""
    depth = getattr(_DEFER, "depth", 0)
    _DEFER.depth = depth + 1
    try:
        yield
    finally:
        _DEFER.depth = depth
        if depth == 0 and getattr(_DEFER, "pending", False):
            _DEFER.pending = False
            index_schedule()


def index_schedule() -> None:
    """Queue a rebuild of the signed index (inline in the embedded mode)."""
    if getattr(_DEFER, "depth", 0):
        _DEFER.pending = True
        return
    from profiles.tasks import publish_index

    if settings.CELERY_TASK_ALWAYS_EAGER:
        publish_index.apply(throw=True)
        return
    try:
        # One rebuild per couple of seconds however many models publish meanwhile.
        if cache.add("publish-index-queued", 1, timeout=30):
            publish_index.apply_async(countdown=2, queue=settings.MUDHUB_RECOMPUTE_QUEUE)
    except Exception:  # the periodic refresh catches up
        log.warning("could not queue the index rebuild", exc_info=True)
