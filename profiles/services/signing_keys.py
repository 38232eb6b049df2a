"""Where the aggregator's signing key lives: the configured paths, created there on first use in
development, never silently in production."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from profiles.signing.sign import (
    SigningIdentity,
    certificate_load,
    identity_create,
    identity_load,
    identity_to_pem,
)

_LOCK = threading.Lock()
# (key path, cert path, key mtime, cert mtime) -> identity: one load per process and key file.
_LOADED: dict[tuple[str, str, int, int], SigningIdentity] = {}


@dataclass(frozen=True)
class KeyFiles:
    key: Path
    certificate: Path


def key_files(*, next_key: bool = False) -> KeyFiles:
    if next_key:
        certificate = Path(settings.MUDHUB_SIGNING_NEXT_CERT)
        return KeyFiles(key=certificate.with_suffix(".key"), certificate=certificate)
    return KeyFiles(key=Path(settings.MUDHUB_SIGNING_KEY), certificate=Path(settings.MUDHUB_SIGNING_CERT))


def _write_private(path: Path, data: bytes, mode: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def signing_key_create(
    *, files: KeyFiles, common_name: str = "mudhub aggregator", force: bool = False
) -> SigningIdentity:
    """Write a new key and self-signed certificate; refuses to replace existing ones unless `force`."""
    if not force and (files.key.exists() or files.certificate.exists()):
        raise FileExistsError(f"{files.key} or {files.certificate} exists already")
    identity = identity_create(common_name=common_name, now=timezone.now())
    key_pem, cert_pem = identity_to_pem(identity)
    _write_private(files.key, key_pem, 0o600)
    _write_private(files.certificate, cert_pem, 0o644)
    return identity


def signing_identity() -> SigningIdentity:
    """The key and certificate that sign what is published now."""
    files = key_files()
    with _LOCK:
        if not files.key.exists() and not files.certificate.exists():
            if not settings.MUDHUB_SIGNING_CREATE:
                raise ImproperlyConfigured(
                    f"no signing key at {files.key}: run `manage.py create_signing_key` (or set MUDHUB_SIGNING_KEY "
                    "and MUDHUB_SIGNING_CERT)"
                )
            signing_key_create(files=files)
        stamp = (
            str(files.key),
            str(files.certificate),
            files.key.stat().st_mtime_ns,
            files.certificate.stat().st_mtime_ns,
        )
        identity = _LOADED.get(stamp)
        if identity is None:
            identity = identity_load(files.key.read_bytes(), files.certificate.read_bytes())
            _LOADED.clear()
            _LOADED[stamp] = identity
        return identity


def next_certificate() -> x509.Certificate | None:
    """The certificate announced for the next key, if the operator prepared one."""
    path = key_files(next_key=True).certificate
    if not path.exists():
        return None
    return certificate_load(path.read_bytes())
