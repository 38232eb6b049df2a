"""Key rotation: the next key, announced in the signed index, becomes the signing key and
every served file is signed again with it.

Gateways learn the next certificate from an index the current key signed, so by the time a
file carries the new key's signature they trust it already. Promote only after every
gateway has fetched such an index: at least MUDHUB_INDEX_EXPIRY_HOURS after `--next`.
"""

from __future__ import annotations

import hashlib
import os

from django.db import transaction

from profiles.models import ConsensusProfile
from profiles.selectors.mud_files import ServedFile, served_file_key, served_signature_key
from profiles.services.index import index_publish
from profiles.services.publish import _cache_set, publish_dir_write, published_path, signature_path
from profiles.services.signing_keys import key_files, signing_identity
from profiles.signing.sign import SigningIdentity, identity_load, sign_detached


def signing_key_promote() -> tuple[SigningIdentity, int]:
    """Make the next key the signing key; returns it and how many files were signed again."""
    upcoming, current = key_files(next_key=True), key_files()
    if not (upcoming.key.exists() and upcoming.certificate.exists()):
        raise FileNotFoundError(f"no next key at {upcoming.key}: run `manage.py create_signing_key --next` first")
    identity_load(upcoming.key.read_bytes(), upcoming.certificate.read_bytes())  # refuse a broken pair
    os.replace(upcoming.key, current.key)
    os.replace(upcoming.certificate, current.certificate)
    identity = signing_identity()
    return identity, _resign_all(identity)


def _resign_all(identity: SigningIdentity) -> int:
    done = 0
    stale = ConsensusProfile.objects.filter(is_current=True).exclude(signer=identity.fingerprint)
    for pk in stale.values_list("pk", flat=True).iterator():
        with transaction.atomic():
            profile = (
                ConsensusProfile.objects.select_for_update().select_related("device_model__manufacturer").get(pk=pk)
            )
            profile.signature = sign_detached(bytes(profile.mud_bytes), identity)
            profile.signature_etag = hashlib.sha256(profile.signature).hexdigest()
            profile.signer = identity.fingerprint
            profile.save(update_fields=["signature", "signature_etag", "signer"])
            model = profile.device_model
            key = served_signature_key(served_file_key(model.manufacturer.slug, model.slug, profile.scope))
            path = published_path(manufacturer_slug=model.manufacturer.slug, model_slug=model.slug, scope=profile.scope)
            signed = ServedFile(profile.signature_etag, bytes(profile.signature), profile.cache_validity_hours * 3600)
            transaction.on_commit(lambda key=key, signed=signed, path=path: _resigned(key, signed, path))
        done += 1
    index_publish()
    return done


def _resigned(key: str, signed: ServedFile, path: str) -> None:
    _cache_set(key, signed)
    publish_dir_write(signature_path(path), signed.body)
