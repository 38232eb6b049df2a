"""mudhub-sync end to end, as its command (`python -m gateway.sync`), against a live mudhub on
loopback and against a static mirror of the publish directory: bootstrap, catch-up, a kill -9
and a resume, tampered files and indexes, a replayed expired index, an unpinned certificate."""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from datetime import timedelta
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.delivery import openssl_cms_verify, published_profile
from tests.support import ROOT

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def inline_tasks(settings: Any) -> None:
    """The index rebuild a publish queues runs in the publishing process, as in the embedded mode."""
    settings.CELERY_TASK_ALWAYS_EAGER = True


def sync(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway.sync", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture
def pinned(tmp_path: Path) -> Path:
    from profiles.services.signing_keys import signing_identity

    path = tmp_path / "aggregator.pem"
    path.write_bytes(signing_identity().certificate_pem)
    return path


@pytest.fixture
def site(settings: Any, tmp_path: Path) -> Path:
    settings.MUDHUB_PUBLISH_DIR = str(tmp_path / "site")
    return tmp_path / "site"


@pytest.fixture
def mirror(tmp_path: Path):
    """A static HTTP server on loopback for a copy of the publish directory; yields (folder, url)."""
    folder = tmp_path / "mirror"
    folder.mkdir()

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield folder, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def served_files(dest: Path) -> dict[str, bytes]:
    return {p.relative_to(dest).as_posix(): p.read_bytes() for p in sorted(dest.rglob("*")) if p.is_file()
            and ".mudhub-sync" not in p.parts}  # fmt: skip


def expected_files() -> dict[str, bytes]:
    """What the database serves now, in the plain layout."""
    from profiles.models import ConsensusProfile
    from profiles.services.publish import published_path

    out = {}
    for p in ConsensusProfile.objects.filter(is_current=True).select_related("device_model__manufacturer"):
        path = published_path(manufacturer_slug=p.device_model.manufacturer.slug, model_slug=p.device_model.slug,
                              scope=p.scope).removeprefix("mud/")  # fmt: skip
        out[path] = bytes(p.mud_bytes)
        out[path.removesuffix(".json") + ".p7s"] = bytes(p.signature)
    return dict(sorted(out.items()))


def state(dest: Path) -> dict[str, Any]:
    return json.loads((dest / ".mudhub-sync" / "state.json").read_text())


def test_it_bootstraps_then_catches_up_in_two_feed_requests(live_server: Any, pinned: Path, tmp_path: Path) -> None:
    from profiles.models import Change, DeviceModel
    from profiles.services.publish import consensus_withdraw

    published_profile("Cam 1", "api.acme.example")
    published_profile("Cam 1", "fw.acme.example", scope="1.0")
    published_profile("Plug", "plug.acme.example", manufacturer="Brand")
    dest = tmp_path / "mud"
    done = sync("--server", live_server.url, "--cert", str(pinned), "--dest", str(dest))
    assert done.returncode == 0, done.stderr
    assert served_files(dest) == expected_files()
    assert set(served_files(dest)) == {"acme/cam-1.json", "acme/cam-1.p7s", "acme/cam-1/1.0.json",
                                       "acme/cam-1/1.0.p7s", "brand/plug.json", "brand/plug.p7s"}  # fmt: skip
    assert openssl_cms_verify(dest / "acme/cam-1.p7s", dest / "acme/cam-1.json", pinned).returncode == 0
    assert state(dest)["cursor"] == Change.objects.order_by("-seq").first().seq

    published_profile("Cam 1", "api.acme.example", "cdn.acme.example")  # a new version
    published_profile("Hub", "hub.acme.example")  # a new model
    consensus_withdraw(device_model=DeviceModel.objects.get(slug="plug"))  # a removal
    again = sync("--server", live_server.url, "--cert", str(pinned), "--dest", str(dest))
    assert again.returncode == 0, again.stderr
    assert served_files(dest) == expected_files()
    assert "brand/plug.json" not in served_files(dest) and "acme/hub.json" in served_files(dest)
    # The signed timestamp (2 requests: it vouches for freshness; the index is not fetched, the
    # feed says what changed), one feed page, each new file with its signature.
    assert "2 written, 1 removed" in again.stdout and "7 request(s)" in again.stdout
    assert "the index is not needed" in again.stderr

    # Nothing changed: the timestamp and one feed request, far less than the index alone.
    from profiles.services.index import index_current

    index_size = len(bytes(index_current().body))
    idle = sync("--server", live_server.url, "--cert", str(pinned), "--dest", str(dest))
    assert idle.returncode == 0, idle.stderr
    assert "0 written, 0 removed" in idle.stdout
    assert "3 request(s)" in idle.stdout and "1 feed request(s)" in idle.stdout
    assert int(re.search(r"(\d+) bytes", idle.stdout).group(1)) < index_size


def test_a_moderators_withdrawal_and_merge_reach_the_gateway(live_server: Any, pinned: Path, tmp_path: Path) -> None:
    from profiles.models import DeviceModel
    from profiles.services.curation import device_model_merge, device_model_withdraw

    published_profile("Cam 1", "api.acme.example")
    published_profile("Cam 1", "fw.acme.example", scope="1.0")
    published_profile("Cam One", "api.acme.example")
    published_profile("Plug", "plug.acme.example", manufacturer="Brand")
    dest = tmp_path / "mud"
    assert sync("--server", live_server.url, "--cert", str(pinned), "--dest", str(dest)).returncode == 0
    assert {"brand/plug.json", "acme/cam-one.json", "acme/cam-1/1.0.json"} <= set(served_files(dest))

    device_model_withdraw(moderator=None, device_model=DeviceModel.objects.get(slug="plug"), reason="fabricated")
    device_model_withdraw(moderator=None, device_model=DeviceModel.objects.get(slug="cam-1"), reason="bad", scope="1.0")
    device_model_merge(moderator=None, source=DeviceModel.objects.get(slug="cam-one"),
                       target=DeviceModel.objects.get(slug="cam-1"), reason="the same camera")  # fmt: skip
    caught_up = sync("--server", live_server.url, "--cert", str(pinned), "--dest", str(dest))
    assert caught_up.returncode == 0, caught_up.stderr
    assert served_files(dest) == expected_files()
    held = set(served_files(dest))
    assert not {"brand/plug.json", "brand/plug.p7s", "acme/cam-one.json", "acme/cam-1/1.0.json"} & held
    assert {"acme/cam-1.json", "acme/cam-1.p7s"} <= held  # the merge's target stays, recomputed
    assert openssl_cms_verify(dest / "acme/cam-1.p7s", dest / "acme/cam-1.json", pinned).returncode == 0
    for path, code in (("mud/brand/plug.json", "withdrawn"), ("mud/acme/cam-one.json", "merged")):
        with pytest.raises(urllib.error.HTTPError) as gone:
            urllib.request.urlopen(f"{live_server.url}/{path}", timeout=30)
        assert gone.value.code == 410 and json.loads(gone.value.read())["code"] == code


def test_a_key_rotation_reaches_the_gateway_through_the_timestamp(
    live_server: Any, settings: Any, tmp_path: Path
) -> None:
    from django.core.management import call_command

    from profiles.services.index import index_refresh
    from profiles.services.signing_keys import signing_identity

    keys = tmp_path / "keys"
    settings.MUDHUB_SIGNING_KEY, settings.MUDHUB_SIGNING_CERT = keys / "aggregator.key", keys / "aggregator.pem"
    settings.MUDHUB_SIGNING_NEXT_CERT = keys / "next.pem"
    call_command("create_signing_key")
    pinned = tmp_path / "pinned.pem"
    pinned.write_bytes(signing_identity().certificate_pem)
    published_profile("Cam 1", "api.acme.example")
    dest = tmp_path / "mud"
    assert sync("--server", live_server.url, "--cert", str(pinned), "--dest", str(dest)).returncode == 0

    call_command("create_signing_key", "--next")
    index_refresh()  # the beat's refresh announces it
    announced = sync("--server", live_server.url, "--cert", str(pinned), "--dest", str(dest))
    assert announced.returncode == 0, announced.stderr
    assert "trusting the announced next signing certificate" in announced.stderr
    assert len(state(dest)["announced"]) == 1

    call_command("create_signing_key", "--promote")
    published_profile("Cam 1", "api.acme.example", "cdn.acme.example")
    rotated = sync("--server", live_server.url, "--cert", str(pinned), "--dest", str(dest))
    assert rotated.returncode == 0, rotated.stderr
    assert served_files(dest) == expected_files()
    (tmp_path / "new.pem").write_bytes(signing_identity().certificate_pem)
    assert openssl_cms_verify(dest / "acme/cam-1.p7s", dest / "acme/cam-1.json", tmp_path / "new.pem").returncode == 0
    # A gateway that never saw the announcement does not take the new key's word for it.
    unseen = sync("--server", live_server.url, "--cert", str(pinned), "--dest", str(tmp_path / "unseen"))
    assert unseen.returncode == 5 and "not pinned" in unseen.stderr


def test_a_kill_9_in_the_middle_leaves_good_files_and_the_next_run_resumes(
    live_server: Any, pinned: Path, tmp_path: Path
) -> None:
    published_profile("Cam 0", "api.acme.example")
    dest = tmp_path / "mud"
    assert sync("--server", live_server.url, "--cert", str(pinned), "--dest", str(dest)).returncode == 0
    start = state(dest)["cursor"]
    for n in range(80):
        published_profile(f"Cam {n}", f"api{n}.acme.example")
    process = subprocess.Popen(
        [sys.executable, "-m", "gateway.sync", "--server", live_server.url, "--cert", str(pinned), "--dest", str(dest),
         "--page-size", "1"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if state(dest)["cursor"] >= start + 5:
                break
        except (OSError, ValueError):
            pass  # never: the state is replaced by rename, so it is always whole
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL, "the run ended before it could be killed"
    middle = state(dest)["cursor"]
    assert start < middle < start + 80
    for json_file in dest.rglob("*.json"):
        if ".mudhub-sync" in json_file.parts:
            continue
        # Every file under a real name is whole and verifies (a half-written one is only ever a temporary).
        assert openssl_cms_verify(json_file.with_suffix(".p7s"), json_file, pinned).returncode == 0, json_file

    resumed = sync("--server", live_server.url, "--cert", str(pinned), "--dest", str(dest))
    assert resumed.returncode == 0, resumed.stderr
    assert served_files(dest) == expected_files()
    assert not list(dest.rglob(".mudhub-sync-*.tmp"))


def test_an_unpinned_certificate_is_refused_and_nothing_written(live_server: Any, tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from profiles.signing.sign import identity_create

    published_profile("Cam 1", "api.acme.example")
    other = tmp_path / "other.pem"
    other.write_bytes(identity_create(common_name="not mudhub", now=datetime.now(UTC)).certificate_pem)
    dest = tmp_path / "mud"
    done = sync("--server", live_server.url, "--cert", str(other), "--dest", str(dest))
    assert done.returncode == 5
    assert "not pinned" in done.stderr
    assert served_files(dest) == {}


def test_trust_on_first_use_pins_the_servers_certificate(live_server: Any, tmp_path: Path) -> None:
    from profiles.services.signing_keys import signing_identity

    published_profile("Cam 1", "api.acme.example")
    cert = tmp_path / "pinned.pem"
    refused = sync("--server", live_server.url, "--cert", str(cert), "--dest", str(tmp_path / "mud"))
    assert refused.returncode == 2 and "no pinned certificate" in refused.stderr
    done = sync(
        "--server", live_server.url, "--cert", str(cert), "--dest", str(tmp_path / "mud"), "--trust-on-first-use"
    )
    assert done.returncode == 0, done.stderr
    assert cert.read_bytes() == signing_identity().certificate_pem


def test_a_mirror_is_trusted_only_through_the_signed_index(site: Path, mirror, pinned: Path, tmp_path: Path) -> None:
    folder, url = mirror
    published_profile("Cam 1", "api.acme.example")
    published_profile("Plug", "plug.acme.example")
    shutil.copytree(site, folder, dirs_exist_ok=True)
    dest = tmp_path / "mud"
    done = sync("--mirror", url, "--cert", str(pinned), "--dest", str(dest))
    assert done.returncode == 0, done.stderr
    assert served_files(dest) == expected_files()
    good = served_files(dest)

    # A new version reaches the mirror, tampered on the way: refused, the old file stays.
    published_profile("Cam 1", "api.acme.example", "cdn.acme.example")
    shutil.copytree(site, folder, dirs_exist_ok=True)
    tampered = folder / "mud/acme/cam-1.json"
    tampered.write_bytes(tampered.read_bytes().replace(b"cdn.acme.example", b"cdn.evil.example"))
    refused = sync("--mirror", url, "--cert", str(pinned), "--dest", str(dest))
    assert refused.returncode == 3, refused.stderr
    assert "mud/acme/cam-1.json" in refused.stderr
    assert served_files(dest) == good

    # The index itself tampered (one file's digest swapped for the tampered file's): refused.
    index = folder / "mud/index.json"
    document = json.loads(index.read_bytes())
    for entry in document["files"]:
        if entry["path"] == "mud/acme/cam-1.json":
            entry["sha256"] = hashlib.sha256(tampered.read_bytes()).hexdigest()
    index.write_bytes((json.dumps(document, indent=1, sort_keys=True) + "\n").encode())
    refused = sync("--mirror", url, "--cert", str(pinned), "--dest", str(dest))
    assert refused.returncode == 3 and "the index" in refused.stderr
    assert served_files(dest) == good

    shutil.copytree(site, folder, dirs_exist_ok=True)  # an honest mirror again
    assert sync("--mirror", url, "--cert", str(pinned), "--dest", str(dest)).returncode == 0
    assert served_files(dest) == expected_files()


def test_a_replayed_index_is_refused_once_expired_or_older(site: Path, mirror, pinned: Path, tmp_path: Path) -> None:
    from django.utils import timezone

    from profiles.services.index import (
        INDEX_PATH,
        INDEX_SIGNATURE_PATH,
        TIMESTAMP_PATH,
        TIMESTAMP_SIGNATURE_PATH,
        index_publish,
    )

    folder, url = mirror
    published_profile("Cam 1", "api.acme.example")
    shutil.copytree(site, folder, dirs_exist_ok=True)
    old_body, old_signature = (folder / INDEX_PATH).read_bytes(), (folder / INDEX_SIGNATURE_PATH).read_bytes()
    old_stamp = {path: (folder / path).read_bytes() for path in (TIMESTAMP_PATH, TIMESTAMP_SIGNATURE_PATH)}
    published_profile("Cam 2", "api2.acme.example")
    shutil.copytree(site, folder, dirs_exist_ok=True)
    dest = tmp_path / "mud"
    assert sync("--mirror", url, "--cert", str(pinned), "--dest", str(dest)).returncode == 0

    # An attacker replays the older index (still unexpired) with its timestamp: a rollback.
    current = {path: (folder / path).read_bytes() for path in (TIMESTAMP_PATH, TIMESTAMP_SIGNATURE_PATH)}
    (folder / INDEX_PATH).write_bytes(old_body)
    (folder / INDEX_SIGNATURE_PATH).write_bytes(old_signature)
    for path, data in old_stamp.items():
        (folder / path).write_bytes(data)
    rollback = sync("--mirror", url, "--cert", str(pinned), "--dest", str(dest))
    assert rollback.returncode == 6 and "older" in rollback.stderr
    # The older index behind the current timestamp, to a gateway that never saw either: the
    # timestamp names another index.
    for path, data in current.items():
        (folder / path).write_bytes(data)
    mixed = sync("--mirror", url, "--cert", str(pinned), "--dest", str(tmp_path / "mixed"))
    assert mixed.returncode == 3 and "not the one the timestamp names" in mixed.stderr
    # Without any timestamp the index alone is checked, as before timestamps existed.
    for path in current:
        (folder / path).unlink()
    rollback = sync("--mirror", url, "--cert", str(pinned), "--dest", str(dest))
    assert rollback.returncode == 6 and "older" in rollback.stderr

    # An index and timestamp that were genuine once but whose expiry passed, to a gateway that
    # never saw a newer one.
    expired = index_publish(now=timezone.now() - timedelta(days=3))
    (folder / INDEX_PATH).write_bytes(bytes(expired.body))
    (folder / INDEX_SIGNATURE_PATH).write_bytes(bytes(expired.signature))
    (folder / TIMESTAMP_PATH).write_bytes(bytes(expired.timestamp))
    (folder / TIMESTAMP_SIGNATURE_PATH).write_bytes(bytes(expired.timestamp_signature))
    fresh = tmp_path / "fresh"
    refused = sync("--mirror", url, "--cert", str(pinned), "--dest", str(fresh))
    assert refused.returncode == 4 and "the timestamp" in refused.stderr and "expired" in refused.stderr
    assert served_files(fresh) == {}


def test_the_client_loads_no_django() -> None:
    program = (
        "import sys, gateway.sync.cli, gateway.sync.client; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in {'django', 'rest_framework', 'celery', 'redis'}))"
    )
    done = subprocess.run([sys.executable, "-c", program], cwd=ROOT, capture_output=True, text=True, check=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})  # fmt: skip
    assert done.stdout.strip() == "[]"
