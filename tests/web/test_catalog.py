"""The catalogue and device model pages, through Django's test client: queries, filters,
errors, the diff fragment and votes (the browser tests cover the same pages end to end)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from profiles.models import ConsensusProfile, DeviceModel, FirmwareVersion, Manufacturer, Vote
from profiles.services.moderation import decision_record
from tests.factories import ContributorFactory
from tests.helpers import flow, payload, settle
from tests.web.data import submit

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def many_models(count: int) -> None:
    now = timezone.now()
    makers = Manufacturer.objects.bulk_create([Manufacturer(name=f"Maker {i}", slug=f"maker-{i}") for i in range(20)])
    models = DeviceModel.objects.bulk_create(
        [DeviceModel(manufacturer=makers[i % 20], name=f"Model {i}", slug=f"model-{i}") for i in range(count)]
    )
    FirmwareVersion.objects.bulk_create(
        [FirmwareVersion(device_model=m, version=v, first_seen=now) for m in models for v in ("unknown", "1.0")]
    )


def queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content[:500]
    return len(captured)


def test_the_catalogue_costs_the_same_queries_at_ten_and_a_thousand_models(client):
    many_models(10)
    few = queries(client, "/")
    now = timezone.now()
    makers = list(Manufacturer.objects.all())
    extra = DeviceModel.objects.bulk_create(
        [DeviceModel(manufacturer=makers[i % 20], name=f"Extra {i}", slug=f"extra-{i}") for i in range(990)]
    )
    FirmwareVersion.objects.bulk_create([FirmwareVersion(device_model=m, version="2.0", first_seen=now) for m in extra])
    assert DeviceModel.objects.count() == 1000
    assert queries(client, "/") == few
    assert queries(client, "/?q=model&order=recent&page=2") <= few
    assert few <= 5


def test_the_catalogue_filters_by_name_manufacturer_and_served_profile(client):
    many_models(30)
    DeviceModel.objects.filter(slug="model-3").update(has_consensus=True)
    page = client.get("/", {"q": "model 1"}).content.decode()
    assert "Model 1<" in page and "Model 13<" in page and "Model 4<" not in page
    page = client.get("/?manufacturer=maker-4").content.decode()
    assert "Model 4<" in page and "Model 24<" in page and "Model 5<" not in page
    page = client.get("/?has_consensus=true").content.decode()
    assert "1 device model<" in page


def test_an_unknown_filter_value_is_a_400_that_says_why(client):
    response = client.get("/?manufacturer=no-such-maker")
    assert response.status_code == 400
    assert "These filters cannot be applied" in response.content.decode()


def test_htmx_search_answers_with_the_results_fragment_only(client):
    many_models(3)
    response = client.get("/?q=model", **HTMX)
    body = response.content.decode()
    assert "<html" not in body and "3 device models" in body


def test_recently_changed_lists_the_newest_change_first_and_filters_by_age(client):
    many_models(3)
    DeviceModel.objects.filter(slug="model-1").update(updated_at=timezone.now() + timedelta(hours=1))
    DeviceModel.objects.filter(slug="model-2").update(updated_at=timezone.now() - timedelta(days=3))
    body = client.get("/?order=recent").content.decode()
    assert body.index("Model 1<") < body.index("Model 0<")
    body = client.get("/?changed=day").content.decode()
    assert "Model 0<" in body and "Model 1<" in body and "Model 2<" not in body
    assert "Model 2<" in client.get("/?changed=week").content.decode()


@pytest.fixture
def camera():
    """Three trusted members agree on two flows; a third flow has one backer."""
    a, b, c = (ContributorFactory(trust_level=3) for _ in range(3))
    submit(a, payload(flow("api.acme.example"), flow("ota.acme.example"), flow("odd.example", 8080), firmware="1.0"))
    submit(b, payload(flow("api.acme.example"), flow("ota.acme.example"), firmware="1.0"))
    submit(c, payload(flow("api.acme.example"), flow("ota.acme.example"), firmware="1.0"))
    model = DeviceModel.objects.get()
    settle(model.pk)
    return model


def test_the_device_page_costs_the_same_queries_for_three_flows_or_sixty(client, camera):
    url = "/devices/acme/cam-1/"
    few = queries(client, url)
    many_models(1000)
    c = ContributorFactory(trust_level=2)
    submit(c, payload(*[flow(f"host{i}.acme.example") for i in range(60)], firmware="1.0"))
    settle(camera.pk)
    body = client.get(url).content.decode()
    assert "host59.acme.example" in body
    assert queries(client, url) == few


def test_the_device_page_shows_flows_with_state_class_support_and_source(client, camera):
    body = client.get("/devices/acme/cam-1/").content.decode()
    assert "Served flows (2)" in body
    assert "api.acme.example" in body and "odd.example" in body
    assert "6.4" not in body  # people read who decided, not rule ids
    assert ">crowd<" in body
    assert 'href="/mud/acme/cam-1.json"' in body
    assert "<svg" in body and "Support of each flow against the bar" in body


def test_the_firmware_selector_offers_the_scopes_not_unknown_firmware(client, camera):
    # An observation that names no firmware counts in `latest`; "unknown" has no file or page.
    submit(ContributorFactory(trust_level=3), payload(flow("api.acme.example")))
    assert set(camera.firmware_versions.values_list("version", flat=True)) == {"1.0", "unknown"}
    body = client.get("/devices/acme/cam-1/").content.decode()
    assert '<option value="1.0">' in body and '<option value="latest" selected>' in body
    assert 'value="unknown"' not in body


def test_an_unknown_model_or_firmware_is_an_html_error_page(client, camera):
    missing = client.get("/devices/acme/no-such-cam/")
    assert missing.status_code == 404
    assert missing["Content-Type"].startswith("text/html")
    wrong = client.get("/devices/acme/cam-1/?firmware=9.9")
    assert wrong.status_code == 400
    assert "is not a known firmware" in wrong.content.decode()


def test_the_diff_fragment_lists_what_changed_between_versions(client, camera):
    # Version 1 was computed before the 24-hour hold had passed; version 2 serves the flows.
    response = client.get("/devices/acme/cam-1/diff/?a=1&b=2", **HTMX)
    body = response.content.decode()
    assert "<html" not in body
    assert "From version 1 to version 2" in body
    added = body[body.index("Added:") :]
    assert "dnsname=api.acme.example" in added and "dnsname=ota.acme.example" in added
    assert "odd.example" not in body


def test_a_member_votes_and_gets_the_row_back_with_the_votes_left(client, camera):
    member = ContributorFactory(trust_level=2)
    client.force_login(member.user)
    key = "from-device ipv4 dnsname=odd.example proto=6 dport=eq8080 init=from-device"
    response = client.post("/devices/acme/cam-1/vote/", {"flow": key, "value": "1", "firmware": "latest"}, **HTMX)
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith("<tr>")
    assert "Vote recorded." in body
    assert 'id="votes-left" class="votes-left" hx-swap-oob="true">You have 29 votes left today.' in body
    assert Vote.objects.get(voter=member).value == 1


def test_below_level_two_the_vote_is_refused_with_the_reason(client, camera):
    basic = ContributorFactory(trust_level=1)
    client.force_login(basic.user)
    key = "from-device ipv4 dnsname=odd.example proto=6 dport=eq8080 init=from-device"
    response = client.post("/devices/acme/cam-1/vote/", {"flow": key, "value": "1"}, **HTMX)
    assert "Voting needs trust level 2" in response.content.decode()
    assert not Vote.objects.exists()


def test_nobody_votes_on_their_own_flow_from_the_page_either(client, camera):
    backer = ContributorFactory(trust_level=2)
    submit(backer, payload(flow("odd.example", 8080), firmware="1.0"))
    client.force_login(backer.user)
    key = "from-device ipv4 dnsname=odd.example proto=6 dport=eq8080 init=from-device"
    response = client.post("/devices/acme/cam-1/vote/", {"flow": key, "value": "-1"}, **HTMX)
    assert "Nobody votes on a flow they reported themselves." in response.content.decode()


def test_a_member_withdraws_a_vote_without_spending_one(client, camera):
    member = ContributorFactory(trust_level=2)
    client.force_login(member.user)
    key = "from-device ipv4 dnsname=odd.example proto=6 dport=eq8080 init=from-device"
    client.post("/devices/acme/cam-1/vote/", {"flow": key, "value": "-1", "firmware": "latest"}, **HTMX)
    assert f'aria-label="Withdraw my vote on {key}"' in client.get("/devices/acme/cam-1/").content.decode()
    response = client.post("/devices/acme/cam-1/vote/", {"flow": key, "value": "withdraw"}, **HTMX)
    body = response.content.decode()
    assert response.status_code == 200 and body.lstrip().startswith("<tr>")
    assert "Vote withdrawn." in body and "Withdraw my vote" not in body
    assert "You have 29 votes left today." in body  # the cast spent one; the withdrawal none
    assert not Vote.objects.exists()
    again = client.post("/devices/acme/cam-1/vote/", {"flow": key, "value": "withdraw"}, **HTMX)
    assert "You have no vote on this flow to withdraw." in again.content.decode()


def test_a_vote_on_a_rejected_flow_comes_back_as_its_row_too(client, camera):
    key = "from-device ipv4 dnsname=odd.example proto=6 dport=eq8080 init=from-device"
    moderator = ContributorFactory(trust_level=3, is_moderator=True)
    decision_record(moderator=moderator, kind="reject", reason="not this camera", device_model=camera, flow_key=key)
    settle(camera.pk)
    member = ContributorFactory(trust_level=2)
    client.force_login(member.user)
    page = client.get("/devices/acme/cam-1/").content.decode()
    assert page.index(f'aria-label="Vote for {key}"') > page.index('id="rejected"')  # listed as rejected
    response = client.post("/devices/acme/cam-1/vote/", {"flow": key, "value": "1"}, **HTMX)
    body = response.content.decode()
    assert body.lstrip().startswith("<tr>") and "<html" not in body  # the row, not a whole page in a row
    assert "Vote recorded." in body and Vote.objects.get(voter=member).value == 1


def test_pages_send_a_strict_content_security_policy(client):
    policy = client.get("/")["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy
    assert "unsafe" not in policy
    assert "frame-ancestors 'none'" in policy


def test_a_regional_variant_is_chosen_by_region_and_an_unknown_one_is_a_400(client, camera):
    latest = camera.consensus_profiles.get(scope="latest", is_current=True)
    variant = ConsensusProfile.objects.create(
        device_model=camera, scope="latest@western-europe", version=1, input_digest="x", etag="e" * 64,
        params_version=latest.params_version, as_of=latest.as_of, mud_bytes=latest.mud_bytes, allowed_count=1,
        computed_at=latest.computed_at,
    )  # fmt: skip
    kept = latest.flows.select_related("flow").get(flow__key__contains="api.acme.example")
    kept.pk, kept.profile = None, variant
    kept.save()
    body = client.get("/devices/acme/cam-1/").content.decode()
    assert '<option value="western-europe">Western Europe</option>' in body
    body = client.get("/devices/acme/cam-1/?region=western-europe").content.decode()
    assert "This is the variant for Western Europe" in body
    assert "Served flows (1)" in body
    response = client.get("/devices/acme/cam-1/?region=atlantis")
    assert response.status_code == 400
    assert "has no regional variant" in response.content.decode()
