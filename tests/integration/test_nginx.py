"""The publish directory served by nginx (Debian nginx-light) with deploy/nginx-publish.conf,
on a loopback port: the files, their types, Cache-Control, gzip and revalidation."""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.test import TestCase

from tests.delivery import openssl_cms_verify, publish_model
from tests.support import ROOT, require

pytestmark = pytest.mark.django_db

CONFIG = ROOT / "deploy" / "nginx-publish.conf"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def nginx_config(site: Path, port: int, prefix: Path) -> str:
    """The documented server block, pointed at `site` and a loopback port, in a minimal main config."""
    server = CONFIG.read_text()
    assert "listen 80;" in server and "root /srv/mudhub/publish;" in server
    server = server.replace("listen 80;", f"listen 127.0.0.1:{port};").replace(
        "root /srv/mudhub/publish;", f"root {site};"
    )
    temp = {name: prefix / name for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi")}
    for path in temp.values():
        path.mkdir()
    # Workers run as this user (nginx drops root to `nobody`, who cannot read pytest's 0700 folders).
    user = pwd.getpwuid(os.getuid()).pw_name
    group = grp.getgrgid(os.getgid()).gr_name
    return f"""
user {user} {group};
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {temp["body"]};
    proxy_temp_path {temp["proxy"]};
    fastcgi_temp_path {temp["fastcgi"]};
    uwsgi_temp_path {temp["uwsgi"]};
    scgi_temp_path {temp["scgi"]};
    {server}
}}
"""


@pytest.fixture
def nginx(tmp_path):
    """Start nginx on a free loopback port for `site`; yields a function that starts it."""
    binary = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    require(binary is not None, "nginx is not installed (apt-get install nginx-light)")
    processes = []

    def start(site: Path) -> str:
        prefix = tmp_path / "nginx"
        prefix.mkdir()
        port = free_port()
        conf = prefix / "nginx.conf"
        conf.write_text(nginx_config(site, port, prefix))
        process = subprocess.Popen(
            [binary, "-p", str(prefix), "-c", str(conf), "-g", "daemon off;"], stderr=subprocess.PIPE
        )
        processes.append(process)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"nginx exited: {process.stderr.read().decode() if process.stderr else ''}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                return f"http://127.0.0.1:{port}"
            except OSError:
                time.sleep(0.05)
        pytest.fail("nginx did not listen within 10 s")

    yield start
    for process in processes:
        process.terminate()
        process.wait(timeout=10)


def fetch(url: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_nginx_serves_the_published_files_and_revalidates(auth_api, submit, settings, tmp_path, nginx):
    site = tmp_path / "site"
    settings.MUDHUB_PUBLISH_DIR = str(site)
    with TestCase.captureOnCommitCallbacks(execute=True):
        profile = publish_model(auth_api, submit)
    base = nginx(site)

    status, headers, body = fetch(base + "/mud/acme/cam-1.json")
    assert status == 200 and body == bytes(profile.mud_bytes)
    assert headers["Content-Type"] == "application/mud+json"
    assert headers["Cache-Control"] == "public, max-age=86400"
    etag = headers["ETag"]
    assert fetch(base + "/mud/acme/cam-1.json", **{"If-None-Match": etag})[0] == 304
    assert fetch(base + "/mud/acme/cam-1.json", **{"If-None-Match": '"other"'})[0] == 200

    status, headers, signature = fetch(base + "/mud/acme/cam-1.p7s")
    assert status == 200 and headers["Content-Type"] == "application/pkcs7-signature"
    status, _, pem = fetch(base + "/.well-known/mudhub/aggregator.pem")
    assert status == 200
    for name, data in (("x.json", body), ("x.p7s", signature), ("ca.pem", pem)):
        (tmp_path / name).write_bytes(data)
    assert openssl_cms_verify(tmp_path / "x.p7s", tmp_path / "x.json", tmp_path / "ca.pem").returncode == 0

    status, headers, _ = fetch(base + "/mud/index.json", **{"Accept-Encoding": "gzip"})
    assert status == 200 and headers["Cache-Control"] == "public, max-age=60"
    assert headers.get("Content-Encoding") == "gzip"
    for name in ("timestamp.json", "timestamp.p7s"):
        status, headers, _ = fetch(base + f"/mud/{name}")
        assert status == 200 and headers["Cache-Control"] == "public, max-age=60", name
    assert headers["Content-Type"] == "application/pkcs7-signature"
    (site / "mud" / "acme" / ".cam-1.json.abc.tmp").write_bytes(b"{half")
    assert fetch(base + "/mud/acme/.cam-1.json.abc.tmp")[0] == 404


def test_nginx_serves_a_regional_variant_at_its_own_path(auth_api, submit, settings, tmp_path, nginx):
    from profiles.models import ConsensusProfile, DeviceModel
    from tests.helpers import flow, payload, settle

    site = tmp_path / "site"
    settings.MUDHUB_PUBLISH_DIR = str(site)
    with TestCase.captureOnCommitCallbacks(execute=True):
        for country in ("DE", "FR", "NL"):
            body = payload(flow("api.eu.acme.example"), observation={"country": country})
            assert submit(auth_api(trust_level=3), body).status_code == 201
        settle(DeviceModel.objects.get().pk)
    variant = ConsensusProfile.objects.get(scope="latest@western-europe", is_current=True)
    base = nginx(site)
    for path in ("/mud/acme/cam-1@western-europe", "/mud/acme/cam-1%40western-europe"):
        status, headers, body = fetch(base + path + ".json")
        assert status == 200 and body == bytes(variant.mud_bytes), path
        assert headers["Content-Type"] == "application/mud+json"
        assert fetch(base + path + ".json", **{"If-None-Match": headers["ETag"]})[0] == 304
    status, headers, signature = fetch(base + "/mud/acme/cam-1@western-europe.p7s")
    assert status == 200 and headers["Content-Type"] == "application/pkcs7-signature"
    (tmp_path / "v.json").write_bytes(body)
    (tmp_path / "v.p7s").write_bytes(signature)
    (tmp_path / "ca.pem").write_bytes(fetch(base + "/.well-known/mudhub/aggregator.pem")[2])
    assert openssl_cms_verify(tmp_path / "v.p7s", tmp_path / "v.json", tmp_path / "ca.pem").returncode == 0
