"""profiles/services/fetching.py against a real DNS server (dnsmasq) and a real HTTPS server
with a test CA, both on loopback: the limits a fetch from a manufacturer's server keeps."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from profiles.services.fetching import MAX_BYTES, FetchError, dns_txt, https_get
from tests.pki import Identity, Pki, require_openssl
from tests.servers import HttpsServer, dnsmasq, https_server

pytestmark = pytest.mark.django_db  # settings only; no table is read


@dataclass
class Site:
    server: HttpsServer
    ca: Identity

    def url(self, path: str, host: str = "www.acme.test") -> str:
        return f"https://{host}:{self.server.port}{path}"


@pytest.fixture
def site(tmp_path, settings) -> Iterator[Site]:
    require_openssl()
    pki = Pki(tmp_path)
    ca = pki.ca("Loopback Web CA")
    tls = pki.issue(ca, "acme.test", dns_names=("acme.test", "*.acme.test", "*.elsewhere.test"),
                    key_usage="digitalSignature,keyEncipherment")  # fmt: skip
    names = {"acme.test": "127.0.0.1", "elsewhere.test": "127.0.0.1"}
    with dnsmasq(addresses=names) as resolver, https_server(tls.cert_path, tls.key_path) as server:
        settings.MUDHUB_DNS_RESOLVER = resolver
        settings.MUDHUB_CLAIM_ALLOW_PRIVATE = True
        settings.MUDHUB_FETCH_CA_FILE = str(ca.cert_path)
        settings.MUDHUB_FETCH_TIMEOUT_SECONDS = 2.0
        yield Site(server, ca)


def test_it_fetches_over_https_with_the_trusted_ca(site):
    site.server.serve("/mud/cam.json", b'{"ok": true}', Content_Type="application/json")
    fetched = https_get(site.url("/mud/cam.json"))
    assert fetched.body == b'{"ok": true}'
    assert fetched.content_type == "application/json"
    assert site.server.seen == ["/mud/cam.json"]


def test_it_refuses_a_loopback_address_unless_allowed(site, settings):
    settings.MUDHUB_CLAIM_ALLOW_PRIVATE = False
    site.server.serve("/x", b"x")
    with pytest.raises(FetchError, match="private, loopback"):
        https_get(site.url("/x"))
    with pytest.raises(FetchError, match="private, loopback"):
        https_get(f"https://127.0.0.1:{site.server.port}/x")
    assert site.server.seen == []  # refused before connecting


def test_it_refuses_a_server_certificate_it_does_not_trust(site, settings):
    settings.MUDHUB_FETCH_CA_FILE = ""
    site.server.serve("/x", b"x")
    with pytest.raises(FetchError, match="SSL"):
        https_get(site.url("/x"))


def test_it_refuses_plain_http_and_bad_ports(site):
    with pytest.raises(FetchError, match="not an https URL"):
        https_get(f"http://www.acme.test:{site.server.port}/x")
    with pytest.raises(FetchError, match="no valid port"):
        https_get("https://www.acme.test:99999/x")


def test_it_follows_a_redirect_on_the_same_host_only(site):
    site.server.serve("/old", b"", status=301, Location="/new")
    site.server.serve("/new", b"moved here")
    assert https_get(site.url("/old")).body == b"moved here"
    site.server.serve("/away", b"", status=302, Location=site.url("/new", host="www.elsewhere.test"))
    with pytest.raises(FetchError, match="another host"):
        https_get(site.url("/away"))
    site.server.serve("/loop", b"", status=302, Location="/loop")
    with pytest.raises(FetchError, match="redirects"):
        https_get(site.url("/loop"))


def test_it_reads_at_most_64_kib(site):
    site.server.serve("/exact", b"a" * MAX_BYTES)
    assert len(https_get(site.url("/exact")).body) == MAX_BYTES
    site.server.serve("/big", b"a" * (MAX_BYTES + 1))
    with pytest.raises(FetchError, match="more than 65536 bytes"):
        https_get(site.url("/big"))


def test_an_error_status_is_a_failure(site):
    with pytest.raises(FetchError, match="HTTP 404"):
        https_get(site.url("/missing"))


def test_a_silent_server_times_out(settings, site):
    settings.MUDHUB_FETCH_TIMEOUT_SECONDS = 0.5
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        with pytest.raises(FetchError, match=r"timed out|TimeoutError"):
            https_get(f"https://www.acme.test:{silent.getsockname()[1]}/x")


def test_a_name_that_does_not_resolve_is_a_failure(site):
    with pytest.raises(FetchError, match="does not resolve"):
        https_get("https://nowhere.test/x")


def test_dns_txt_reads_every_record(settings):
    with dnsmasq(txt={"_mudhub-challenge.acme.test": ["one", "two"]}) as resolver:
        settings.MUDHUB_DNS_RESOLVER = resolver
        assert sorted(dns_txt("_mudhub-challenge.acme.test")) == ["one", "two"]
        assert dns_txt("_mudhub-challenge.other.test") == []


def test_dns_txt_reports_an_unreachable_resolver(settings):
    from tests.servers import free_udp_port

    settings.MUDHUB_DNS_RESOLVER = f"127.0.0.1:{free_udp_port()}"
    settings.MUDHUB_FETCH_TIMEOUT_SECONDS = 0.5
    with pytest.raises(FetchError, match="DNS look-up"):
        dns_txt("_mudhub-challenge.acme.test")
