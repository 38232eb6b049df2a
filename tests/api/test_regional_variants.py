"""Regional variants end to end through the API (issue 9, cause 4): submissions name the
observer's country; each UN M49 sub-region with observations gets a variant of the model's
consensus that weighs its own observations fully and the others at half, served at
`?region=<country>` (or the region's slug) with its own ETag, versions, signature and
change-feed entries, at its own path in MUDHUB_PUBLISH_DIR, the index and the export; a
region with no observations gets the global file."""

import base64
import hashlib
import io
import json
import tarfile
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from profiles import mud
from profiles.models import Change, ConsensusProfile, DeviceModel, Submission
from tests.delivery import openssl_cms_verify, validate_mud
from tests.helpers import flow, payload, settle

pytestmark = pytest.mark.django_db

COMMON = flow("time.acme-cloud.example", 123, protocol=17)
EUROPE = flow("api.eu.acme-cloud.example")
AMERICA = flow("api.us.acme-cloud.example")
EUROPE_SCOPES = {"latest@western-europe", "1.0@western-europe"}
AMERICA_SCOPES = {"latest@northern-america", "1.0@northern-america"}


def keys(*flows):
    return {f"from-device ipv4 dnsname={f['peer']} proto={f['protocol']} dport=eq{f['dst_port']}" + (
        " init=from-device" if f["protocol"] == 6 else "") for f in flows}  # fmt: skip


def served(api, query: str = "", path: str = "/mud/acme/cam-1.json"):
    response = api.get(path + query)
    assert response.status_code == 200, response.content
    return {f.key for f in mud.parse(response.content).flows}, response["ETag"]


def submit_from(auth_api, submit, countries, *flows, firmware="1.0"):
    for country in countries:
        observation = {"country": country} if country else {}
        body = payload(*flows, firmware=firmware, observation=observation)
        response = submit(auth_api(trust_level=3), body)
        assert response.status_code == 201, response.content


@pytest.fixture
def regional_model(auth_api, submit):
    # Three TL3 observers in Western Europe (DE, FR, de) and three in Northern America (US).
    submit_from(auth_api, submit, ["DE", "FR", "de"], COMMON, EUROPE)
    submit_from(auth_api, submit, ["US", "US", "US"], COMMON, AMERICA)
    device_model = DeviceModel.objects.get()
    settle(device_model.pk)
    return device_model


def test_each_region_is_served_its_own_endpoints_and_the_global_file_what_both_agree_on(regional_model, api):
    assert set(Submission.objects.values_list("country", flat=True)) == {"DE", "FR", "US"}
    europe, europe_etag = served(api, "?region=DE")
    america, america_etag = served(api, "?region=us")
    world, world_etag = served(api)
    assert europe == keys(COMMON, EUROPE)
    assert america == keys(COMMON, AMERICA)
    # What both regions agree on is in the global file; with three full observers each, the
    # regional endpoints have enough support worldwide to be there too.
    assert europe & america == keys(COMMON) and keys(COMMON) <= world
    assert world == keys(COMMON, EUROPE, AMERICA)
    assert len({europe_etag, america_etag, world_etag}) == 3
    # Another country of the same sub-region, and the sub-region's slug, get the same variant.
    assert served(api, "?region=AT") == (europe, europe_etag)
    assert served(api, "?region=western-europe") == (europe, europe_etag)
    # The firmware form too, and each variant at its own path.
    assert served(api, "?region=DE", "/mud/acme/cam-1/1.0.json")[0] == europe
    assert served(api, "", "/mud/acme/cam-1@western-europe.json") == (europe, europe_etag)
    assert served(api, "", "/mud/acme/cam-1/1.0@northern-america.json")[0] == america
    # Revalidation answers 304 for the variant's own ETag.
    assert api.get("/mud/acme/cam-1.json?region=DE", HTTP_IF_NONE_MATCH=europe_etag).status_code == 304
    assert api.get("/mud/acme/cam-1.json?region=US", HTTP_IF_NONE_MATCH=europe_etag).status_code == 200


def test_a_region_without_observations_gets_the_global_file(regional_model, api):
    assert served(api, "?region=JP") == served(api)
    assert served(api, "?region=eastern-asia") == served(api)
    assert served(api, "?region=JP", "/mud/acme/cam-1/1.0.json") == served(api, "", "/mud/acme/cam-1/1.0.json")
    assert api.get("/mud/acme/cam-1.p7s?region=JP").content == api.get("/mud/acme/cam-1.p7s").content
    # A variant's own path serves that variant only: none for a region without one.
    assert api.get("/mud/acme/cam-1@eastern-asia.json").status_code == 404
    assert api.get("/mud/acme/cam-1@de.json").status_code == 404  # the slug, not a country


def test_variants_have_their_own_versions_and_change_feed_entries(regional_model, api):
    scopes = set(ConsensusProfile.objects.filter(is_current=True).values_list("scope", flat=True))
    assert scopes == {"latest", "1.0", *EUROPE_SCOPES, *AMERICA_SCOPES}
    assert set(Change.objects.values_list("scope", flat=True)) == scopes
    variant = ConsensusProfile.objects.get(is_current=True, scope="latest@western-europe")
    document = mud.parse(bytes(variant.mud_bytes), mode="strict")
    # Its own URL, where it is served and what its signature is for; not the global file's.
    own = regional_model.mud_url.removesuffix(".json") + "@western-europe.json"
    assert document.meta.mud_url == own
    assert document.meta.mud_signature == own.removesuffix(".json") + ".p7s"
    assert document.meta.systeminfo.endswith("mudhub consensus for Western Europe")
    firmware = mud.parse(bytes(ConsensusProfile.objects.get(is_current=True, scope="1.0@western-europe").mud_bytes))
    assert firmware.meta.firmware_rev == "1.0"
    feed = api.get("/api/v1/changes/?since=0").json()
    entries = {entry["scope"]: entry for entry in feed["results"]}
    assert entries["latest@western-europe"]["mud_url"] == own
    assert entries["latest@western-europe"]["signature_url"] == own.removesuffix(".json") + ".p7s"
    assert entries["latest@western-europe"]["etag"] == variant.etag
    assert entries["1.0@northern-america"]["mud_url"].endswith("/mud/acme/cam-1/1.0@northern-america.json")


def test_every_variant_is_signed_and_its_mud_signature_serves_its_own_p7s(regional_model, api, tmp_path):
    ca = tmp_path / "ca.pem"
    ca.write_bytes(api.get("/.well-known/mudhub/aggregator.pem").content)
    files = []
    for n, (query, path) in enumerate(
        [("?region=DE", "/mud/acme/cam-1"), ("?region=US", "/mud/acme/cam-1/1.0"), ("", "/mud/acme/cam-1")]
    ):
        body = api.get(path + ".json" + query)
        document = mud.parse(body.content, mode="strict")
        # The URL the file's mud-signature names serves exactly this file's signature.
        named = api.get(urlsplit(document.meta.mud_signature).path)
        asked = api.get(path + ".p7s" + query)
        assert named.status_code == asked.status_code == 200
        assert named.content == asked.content and asked["ETag"] == named["ETag"]
        assert asked["ETag"] == f'"{hashlib.sha256(asked.content).hexdigest()}"' != body["ETag"]
        assert api.get(path + ".p7s" + query, HTTP_IF_NONE_MATCH=asked["ETag"]).status_code == 304
        content, signature = tmp_path / f"{n}.json", tmp_path / f"{n}.p7s"
        content.write_bytes(body.content)
        signature.write_bytes(asked.content)
        assert openssl_cms_verify(signature, content, ca).returncode == 0, path + query
        files.append(content)
    europe = api.get("/mud/acme/cam-1.p7s?region=DE").content
    assert europe != api.get("/mud/acme/cam-1.p7s").content != api.get("/mud/acme/cam-1.p7s?region=US").content
    # One changed byte and openssl refuses it.
    tampered = files[0].read_bytes().replace(b"api.eu.", b"api.ev.")
    files[0].write_bytes(tampered)
    assert openssl_cms_verify(tmp_path / "0.p7s", files[0], ca).returncode != 0
    files[0].write_bytes(api.get("/mud/acme/cam-1.json?region=DE").content)
    checked = validate_mud(*files)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_variants_are_in_the_publish_directory_the_index_and_the_export(auth_api, submit, api, settings, tmp_path):
    settings.MUDHUB_PUBLISH_DIR = str(tmp_path / "site")
    submit_from(auth_api, submit, ["DE", "FR", "DE"], COMMON, EUROPE)
    submit_from(auth_api, submit, ["US", "US", "US"], COMMON, AMERICA)
    settle(DeviceModel.objects.get().pk)
    site = tmp_path / "site"
    for scope in ("latest@western-europe", "1.0@western-europe", "latest@northern-america", "1.0@northern-america"):
        profile = ConsensusProfile.objects.get(scope=scope, is_current=True)
        path = urlsplit(DeviceModel.objects.get().mud_url_for(scope)).path.lstrip("/")
        assert (site / path).read_bytes() == bytes(profile.mud_bytes)
        assert (site / path.replace(".json", ".p7s")).read_bytes() == bytes(profile.signature)
        # The published file is what mudhub serves at the same path.
        assert api.get("/" + path).content == bytes(profile.mud_bytes)
    assert (site / "mud/acme/cam-1@western-europe.json").is_file()
    assert (site / "mud/acme/cam-1/1.0@northern-america.p7s").is_file()

    index = json.loads(api.get("/mud/index.json").content)
    paths = {entry["path"]: entry for entry in index["files"]}
    variant = ConsensusProfile.objects.get(scope="latest@western-europe", is_current=True)
    assert paths["mud/acme/cam-1@western-europe.json"] == {
        "path": "mud/acme/cam-1@western-europe.json",
        "sha256": variant.etag,
        "version": variant.version,
        "signature": "mud/acme/cam-1@western-europe.p7s",
    }
    assert index["regions"]["DE"] == index["regions"]["AT"] == "western-europe"
    assert index["regions"]["US"] == "northern-america" and len(index["regions"]) > 200

    lines = [json.loads(line) for line in b"".join(api.get("/api/v1/export/").streaming_content).splitlines()]
    exported = {line["path"]: line for line in lines[1:-1]}
    assert exported["mud/acme/cam-1@western-europe.json"]["mud"].encode() == bytes(variant.mud_bytes)
    assert base64.b64decode(exported["mud/acme/cam-1@western-europe.json"]["signature"]) == bytes(variant.signature)
    assert set(exported) == {f"mud/acme/{name}.json" for name in (
        "cam-1", "cam-1/1.0", "cam-1@western-europe", "cam-1/1.0@western-europe", "cam-1@northern-america",
        "cam-1/1.0@northern-america")}  # fmt: skip
    tar = api.get("/api/v1/export/?format=tar")
    with tarfile.open(fileobj=io.BytesIO(b"".join(tar.streaming_content)), mode="r:gz") as archive:
        names = set(archive.getnames())
        member = archive.extractfile("mud/acme/cam-1@western-europe.json")
        assert member is not None and member.read() == bytes(variant.mud_bytes)
    assert {"mud/acme/cam-1@western-europe.p7s", "mud/acme/cam-1/1.0@northern-america.json"} <= names


def test_a_region_whose_observations_are_gone_loses_its_variant(
    regional_model, api, auth_api, submit, settings, tmp_path
):
    from django.test import TestCase

    from profiles.services.recompute import consensus_recompute

    settings.MUDHUB_PUBLISH_DIR = str(tmp_path / "site")
    since = Change.objects.order_by("-seq").values_list("seq", flat=True).first()
    Submission.objects.filter(country="US").update(status=Submission.Status.REJECTED)
    (tmp_path / "site/mud/acme").mkdir(parents=True)
    (tmp_path / "site/mud/acme/cam-1@northern-america.json").write_bytes(b"{}")  # as published before
    with TestCase.captureOnCommitCallbacks(execute=True):
        consensus_recompute(device_model_id=regional_model.pk)
    current = set(ConsensusProfile.objects.filter(is_current=True).values_list("scope", flat=True))
    assert current == {"latest", "1.0", *EUROPE_SCOPES}
    removed = api.get(f"/api/v1/changes/?since={since}").json()["results"]
    assert {(e["kind"], e["scope"]) for e in removed if e["kind"] == "removed"} == {
        ("removed", scope) for scope in AMERICA_SCOPES
    }
    assert not (tmp_path / "site/mud/acme/cam-1@northern-america.json").exists()
    assert served(api, "?region=US") == served(api)
    assert api.get("/mud/acme/cam-1@northern-america.json").status_code == 404
    # Evidence from the region again: the variant is back, its versions going on where they stopped.
    last = ConsensusProfile.objects.filter(scope="latest@northern-america").order_by("-version").first()
    submit_from(auth_api, submit, ["CA"], COMMON, AMERICA)
    back = ConsensusProfile.objects.get(scope="latest@northern-america", is_current=True)
    assert back.version == last.version + 1
    assert served(api, "?region=US")[1] == f'"{back.etag}"' != served(api)[1]


def test_a_model_without_regional_evidence_has_no_variant(auth_api, submit, api):
    submit_from(auth_api, submit, [None, None, None], COMMON, firmware=None)
    settle(DeviceModel.objects.get().pk)
    assert set(ConsensusProfile.objects.values_list("scope", flat=True)) == {"latest"}
    assert served(api, "?region=DE") == served(api)
    assert api.get("/mud/acme/cam-1.p7s?region=DE").content == api.get("/mud/acme/cam-1.p7s").content


@pytest.mark.parametrize("region", ["Z9", "ZZ", "", "western", "DEU", "western-europe-x"])
def test_an_unknown_region_is_a_400_listing_where(auth_api, api, submit, region):
    submit_from(auth_api, submit, [None], COMMON, firmware=None)
    for path in ("/mud/acme/cam-1.json", "/mud/acme/cam-1.p7s", "/mud/acme/cam-1/latest.json"):
        response = api.get(path, {"region": region})
        assert response.status_code == 400, path
        body = response.json()
        assert body["code"] == "invalid_input"
        assert [(e["code"], e["path"]) for e in body["errors"]] == [("unknown_region", "/region")]


def test_an_unknown_country_in_a_submission_is_a_400_and_nothing_is_stored(auth_api, submit):
    response = submit(auth_api(trust_level=3), payload(COMMON, observation={"country": "ZZ"}))
    assert response.status_code == 400
    assert [e["path"] for e in response.json()["errors"]] == ["/observation/country"]
    assert Submission.objects.count() == 0


def test_the_publish_layout_keeps_variants_apart_from_every_global_file(tmp_path: Path):
    from profiles.regions import scope_file_path, split_scope

    def where(scope: str) -> str:
        return scope_file_path(manufacturer_slug="acme", model_slug="cam-1", scope=scope)

    assert where("latest") == "mud/acme/cam-1.json"
    assert where("1.0") == "mud/acme/cam-1/1.0.json"
    assert where("latest@western-europe") == "mud/acme/cam-1@western-europe.json"
    assert where("1.0@western-europe") == "mud/acme/cam-1/1.0@western-europe.json"
    # A firmware version that merely holds an `@` is a firmware, not a variant.
    assert split_scope("2.0@beta") == ("2.0@beta", None)
    assert where("2.0@beta") == "mud/acme/cam-1/2.0@beta.json"


def test_the_device_page_offers_the_regions_that_have_a_variant(regional_model, client):
    page = client.get("/devices/acme/cam-1/").content.decode()
    assert '<option value="western-europe">Western Europe</option>' in page
    assert '<option value="northern-america">Northern America</option>' in page
    assert 'value="eastern-asia"' not in page  # no observation from there: no variant to choose
    europe = client.get("/devices/acme/cam-1/?region=western-europe").content.decode()
    assert "This is the variant for Western Europe" in europe
    assert "https://" in europe and "/mud/acme/cam-1@western-europe.json</code>" in europe
    assert 'href="/mud/acme/cam-1@western-europe.p7s"' in europe and 'href="/mud/acme/cam-1.json"' in europe
    served_section = europe.split('id="served"')[1].split("</table>")[0]
    assert "api.eu.acme-cloud.example" in served_section and "api.us.acme-cloud.example" not in served_section
    assert "Served flows (2)" in europe and "Served flows (3)" in client.get("/devices/acme/cam-1/").content.decode()
    firmware = client.get("/devices/acme/cam-1/?firmware=1.0&region=northern-america").content.decode()
    assert "/mud/acme/cam-1/1.0@northern-america.json</code>" in firmware


def test_the_api_reads_a_variants_consensus_versions_and_diffs(regional_model, api):
    base = f"/api/v1/device-models/{regional_model.pk}"
    europe = api.get(f"{base}/consensus/?region=DE").json()
    assert europe["profile"]["scope"] == "latest@western-europe"
    assert europe["mud_url"].endswith("/mud/acme/cam-1@western-europe.json")
    variant = ConsensusProfile.objects.get(scope="latest@western-europe", is_current=True)
    assert europe["profile"]["etag"] == variant.etag and europe["profile"]["signature_etag"] == variant.signature_etag
    assert {f["key"] for f in europe["flows"] if f["state"] == "allowed"} == keys(COMMON, EUROPE)
    firmware = api.get(f"{base}/consensus/?firmware=1.0&region=northern-america").json()
    assert firmware["profile"]["scope"] == "1.0@northern-america"
    versions = api.get(f"{base}/versions/?region=fr").json()["results"]
    assert [v["scope"] for v in versions] == ["latest@western-europe"] * len(versions) and versions
    # A region without a variant reads the global consensus, as gateways are served.
    assert api.get(f"{base}/consensus/?region=JP").json()["profile"]["scope"] == "latest"
    for path in ("consensus/", "versions/", "versions/1/diff/1/"):
        response = api.get(f"{base}/{path}?region=ZZ")
        assert response.status_code == 400, path
        assert [e["path"] for e in response.json()["errors"]] == ["/region"]


def test_a_region_is_served_from_the_cache_without_a_query_variant_or_not(
    regional_model, api, auth_api, submit, django_assert_num_queries
):
    for query in ("?region=DE", "?region=JP", "?region=eastern-asia"):
        first = api.get("/mud/acme/cam-1.json" + query)
        api.get("/mud/acme/cam-1.p7s" + query)
        with django_assert_num_queries(0):
            again = api.get("/mud/acme/cam-1.json" + query)
            signature = api.get("/mud/acme/cam-1.p7s" + query)
        assert again.content == first.content and signature.status_code == 200
    assert served(api, "?region=JP") == served(api)
    # Evidence from Eastern Asia: its variant replaces the remembered absence at once.
    submit_from(auth_api, submit, ["JP"], COMMON)
    asia = ConsensusProfile.objects.get(scope="latest@eastern-asia", is_current=True)
    assert served(api, "?region=JP")[1] == f'"{asia.etag}"' != served(api)[1]
