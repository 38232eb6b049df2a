"""End-to-end in Chromium: the stories of issue 14, each page checked for console errors,
CSP violations and serious accessibility findings (axe-core)."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from profiles import mud
from profiles.models import (
    ConsensusFlow,
    Contributor,
    DeviceModel,
    Discrepancy,
    ManufacturerDomain,
    ManufacturerMember,
    ModerationDecision,
    Submission,
    SubmissionReport,
    Vote,
)
from profiles.selectors.supporters import supporters_by_flow
from profiles.selectors.trust import moderation_queue_get
from tests.factories import ContributorFactory
from tests.helpers import payload, settle
from tests.manufacturer_helpers import API, DOMAIN, FIRMWARE_SERVER, METRICS, NTP, mud_file, native_keys
from tests.pki import Pki, openssl, require_openssl
from tests.servers import dnsmasq
from tests.support import DATASET, require_shared
from tests.web.conftest import log_in
from tests.web.data import DEMO_PASSWORD, H_KEY, demo, high_risk_flow_waiting, submit

CROWD = (API, NTP, METRICS)
MANUFACTURER = (API, NTP, FIRMWARE_SERVER)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_a_visitor_finds_a_device_and_downloads_its_mud_file(web, tmp_path):
    watched, base = web
    page = watched.page
    require_openssl()
    demo()
    page.goto(base + "/")
    watched.check()
    page.get_by_label("Model or manufacturer").fill("camera")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url("**/?q=camera**")
    assert page.get_by_text("1 device model").is_visible()
    page.get_by_role("link", name="Indoor Camera 2K").click()
    page.wait_for_url("**/devices/vista-cam/indoor-camera-2k/")
    watched.check()
    assert page.get_by_role("heading", name="Indoor Camera 2K").is_visible()
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download the MUD file").click()
    downloaded = json.loads(download_info.value.path().read_bytes())
    served = page.request.get(base + "/mud/vista-cam/indoor-camera-2k.json")
    assert downloaded == served.json()
    assert downloaded["ietf-mud:mud"]["mud-url"] == page.locator("#mud-url").inner_text()
    with page.expect_download() as signature_info:
        page.get_by_role("link", name="its signature").click()
    signature = signature_info.value.path().read_bytes()
    assert signature and signature == page.request.get(base + "/mud/vista-cam/indoor-camera-2k.p7s").body()
    # The signature verifies the downloaded file against the certificate gateways pin, as a
    # gateway checks it (RFC 8520 section 13): openssl, not a comparison of bytes.
    anchor = page.request.get(base + "/.well-known/mudhub/aggregator.pem")
    assert anchor.ok
    (tmp_path / "aggregator.pem").write_bytes(anchor.body())
    download_info.value.save_as(tmp_path / "indoor-camera-2k.json")
    signature_info.value.save_as(tmp_path / "indoor-camera-2k.p7s")
    verified = [
        "cms", "-verify", "-binary", "-inform", "DER", "-in", tmp_path / "indoor-camera-2k.p7s",
        "-content", tmp_path / "indoor-camera-2k.json", "-CAfile", tmp_path / "aggregator.pem", "-purpose", "any",
    ]  # fmt: skip
    assert openssl(*verified, "-out", tmp_path / "verified.json") == b""
    assert (tmp_path / "verified.json").read_bytes() == download_info.value.path().read_bytes()
    # One flipped byte in the file and the same signature no longer verifies it.
    original = download_info.value.path().read_bytes()
    tampered = original.replace(b"from-device", b"frum-device", 1)
    assert tampered != original
    (tmp_path / "indoor-camera-2k.json").write_bytes(tampered)
    with pytest.raises(RuntimeError, match=r"(?i)verification failure|digest failure"):
        openssl(*verified, "-out", tmp_path / "tampered.json")
    # The copy button puts the MUD URL on the clipboard.
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
    page.get_by_role("button", name="Copy").click()
    expect(page.locator("#copy-status")).to_have_text("Copied.")
    assert page.evaluate("navigator.clipboard.readText()") == downloaded["ietf-mud:mud"]["mud-url"]
    watched.check()


def test_a_contributor_signs_up_checks_a_real_mud_file_and_submits_it(web):
    watched, base = web
    page = watched.page
    require_shared()
    page.goto(base + "/accounts/signup/")
    watched.check()
    page.get_by_label("Username").fill("new-contributor")
    page.get_by_label("Email").fill("new@example.org")
    page.get_by_label("Password").fill("a long enough passphrase 42")
    page.get_by_role("button", name="Create the account").click()
    page.wait_for_url("**/contribute/")
    watched.check()
    page.get_by_label("Manufacturer").fill("Philips")
    page.get_by_label("Model", exact=True).fill("Hue Bulb")
    page.get_by_label("Firmware").fill("1.2")
    hue = DATASET / "iot-onboarding-mudfiles/unsw/HueBulbMud.json"
    parsed = mud.parse(hue.read_bytes(), mode="import")
    page.get_by_label("File", exact=True).set_input_files(str(hue))
    page.get_by_role("button", name="Check").click()
    result = page.locator("#check")
    result.get_by_role(
        "heading", name=f"Ready to submit: {len(parsed.flows)} flows from {parsed.ace_count} ACEs"
    ).wait_for()
    assert f"{len(parsed.warnings)} warnings" in result.inner_text()
    assert "urn:ietf:params:mud:gateway is not registered" in result.inner_text()
    assert not Submission.objects.exists()  # checking stores nothing
    watched.check()
    page.get_by_role("button", name="Submit").click()
    page.wait_for_url("**/submissions/*/")
    submission = Submission.objects.get()
    assert submission.contributor.user.username == "new-contributor"
    assert bytes(submission.raw) == hue.read_bytes()
    assert page.get_by_role("heading", name=f"Submission {submission.pk}").is_visible()
    assert page.locator("table tbody tr").count() == len(parsed.flows)
    watched.check()


def maria_on_the_bulb_page(watched, base) -> tuple[Contributor, str]:
    """The demo, with member-maria (TL2) logged in on the Smart Bulb's page; a candidate flow
    of it she has not backed."""
    demo()
    model = DeviceModel.objects.get(slug="smart-bulb-a19")
    maria = Contributor.objects.get(user__username="member-maria")
    backers = supporters_by_flow(model.pk)
    candidates = ConsensusFlow.objects.filter(profile__device_model=model, profile__scope="latest",
                                              profile__is_current=True, state="candidate")  # fmt: skip
    target = next(row.flow.key for row in candidates.select_related("flow") if maria.pk not in backers[row.flow_id])
    log_in(watched, base, "member-maria", DEMO_PASSWORD)
    watched.page.goto(f"{base}/devices/lumen-home/smart-bulb-a19/")
    return maria, target


def test_a_member_votes_without_a_reload(web):
    watched, base = web
    page = watched.page
    maria, target = maria_on_the_bulb_page(watched, base)
    watched.check()
    assert page.locator("#votes-left").inner_text() == "You have 30 votes left today."
    page.evaluate("window.__sameDocument = true")
    button = page.get_by_role("button", name=f"Vote for {target}", exact=True)
    button.click()
    page.get_by_role("button", name=f"Vote for {target}", exact=True).and_(
        page.locator("[aria-pressed=true]")
    ).wait_for()
    expect(page.locator("#votes-left")).to_have_text("You have 29 votes left today.")
    assert page.evaluate("window.__sameDocument") is True  # no reload happened
    vote = Vote.objects.get(voter=maria)
    assert (vote.flow.key, vote.value, vote.firmware) == (target, 1, "")
    watched.check()
    # Withdrawing it: the row comes back unpressed, and no vote is spent.
    page.get_by_role("button", name=f"Withdraw my vote on {target}", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="Vote withdrawn.")).to_be_visible()
    expect(page.get_by_role("button", name=f"Vote for {target}", exact=True)).to_have_attribute("aria-pressed", "false")
    expect(page.locator("#votes-left")).to_have_text("You have 29 votes left today.")
    assert page.evaluate("window.__sameDocument") is True
    assert not Vote.objects.filter(voter=maria).exists()
    watched.check()


def test_the_pages_work_from_the_keyboard(web):
    watched, base = web
    page = watched.page
    maria, target = maria_on_the_bulb_page(watched, base)
    # The first Tab reaches the skip link, visibly; Enter on it puts the next Tab inside <main>.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to the content"
    expect(page.get_by_role("link", name="Skip to the content")).to_be_in_viewport()
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") == "solid"
    page.keyboard.press("Enter")
    page.wait_for_url("**#main")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('main') !== null") is True
    # A vote from the keyboard: focus the button, press Enter; focus stays usable after the swap.
    page.get_by_role("button", name=f"Vote against {target}", exact=True).focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name=f"Vote against {target}", exact=True)).to_have_attribute(
        "aria-pressed", "true"
    )
    assert Vote.objects.get(voter=maria).value == -1
    page.get_by_role("button", name=f"Withdraw my vote on {target}", exact=True).focus()
    page.keyboard.press(" ")
    expect(page.get_by_role("status").filter(has_text="Vote withdrawn.")).to_be_visible()
    assert not Vote.objects.filter(voter=maria).exists()
    watched.check()


def test_a_member_reports_someone_elses_submission(web):
    watched, base = web
    page = watched.page
    demo()
    theirs = Submission.objects.exclude(contributor__user__username="member-maria").first()
    log_in(watched, base, "member-maria", DEMO_PASSWORD)
    page.goto(f"{base}/submissions/{theirs.pk}/")
    watched.check()
    page.evaluate("window.__sameDocument = true")
    page.get_by_label("Why is it fabricated or abusive?").fill("   ")
    page.get_by_role("button", name="Report it to the moderators").click()
    expect(page.get_by_role("alert")).to_contain_text("a report gives its reason")
    watched.check()
    page.get_by_label("Why is it fabricated or abusive?").fill("the camera never talks to this host")
    page.get_by_role("button", name="Report it to the moderators").click()
    expect(page.get_by_role("status")).to_contain_text("It waits in the moderation queue.")
    assert page.evaluate("window.__sameDocument") is True
    report = SubmissionReport.objects.get()
    assert (report.submission, report.reporter.user.username) == (theirs, "member-maria")
    assert [item.submission for item in moderation_queue_get().reported_submissions] == [theirs]
    watched.check()


def test_a_moderator_approves_a_high_risk_flow(web):
    watched, base = web
    page = watched.page
    model = high_risk_flow_waiting()
    assert [item.flow_key for item in moderation_queue_get().high_risk_flows] == [H_KEY, H_KEY]
    demo()  # the demo's moderator account
    log_in(watched, base, "moderator", DEMO_PASSWORD)
    page.goto(f"{base}/moderation/")
    watched.check()
    card = page.locator("article", has_text=H_KEY).first
    card.get_by_role("button", name="Approve").click()
    page.wait_for_url(f"{base}/moderation/")
    decision = ModerationDecision.objects.get(kind="approve")
    assert (decision.device_model, decision.flow.key, decision.moderator.user.username) == (model, H_KEY, "moderator")
    watched.check()


PAGES_SIGNED_OUT = ["/accounts/login/", "/accounts/signup/"]
PAGES = [
    "/",
    "/?q=no-such-device",
    "/devices/lumen-home/smart-bulb-a19/",
    "/devices/vista-cam/indoor-camera-2k/?firmware=5.0.1",
    "/devices/lumen-home/smart-bulb-a19/?a=1&b=2",
    "/contribute/",
    "/submissions/",
    "/submissions/{submission}/",
    "/submissions/{other}/",
    "/accounts/tokens/",
    "/contributors/moderator/",
    "/contributors/newcomer-nia/",
    "/moderation/",
    "/moderation/devices/lumen-home/smart-bulb-a19/",
    "/manufacturers/",
    "/manufacturers/lumen-home/console/",
]
ERROR_PAGES = {"/devices/nobody/nothing/": 404, "/devices/lumen-home/smart-bulb-a19/?firmware=0.0": 400}


@pytest.mark.parametrize("width", [1280, 390])
def test_every_page_is_clean_on_a_desktop_and_a_phone(web, width):
    watched, base = web
    page = watched.page
    page.set_viewport_size({"width": width, "height": 800})
    demo()
    high_risk_flow_waiting()
    for path in PAGES_SIGNED_OUT:
        page.goto(base + path)
        watched.check()
    log_in(watched, base, "moderator", DEMO_PASSWORD)
    page.goto(base + "/accounts/tokens/")
    page.get_by_role("button", name="Create a token").click()
    page.locator("#new-token").wait_for()
    submission = Submission.objects.filter(contributor__user__username="moderator").first()
    other = Submission.objects.exclude(contributor__user__username="moderator").first()
    for path in PAGES:
        page.goto(base + path.format(submission=submission.pk, other=other.pk))
        watched.check()
    for path, status in ERROR_PAGES.items():
        assert page.goto(base + path).status == status
        watched.check(status)


def test_a_manufacturer_claims_a_domain_uploads_a_signed_profile_and_answers_a_discrepancy(web, settings, tmp_path):
    watched, base = web
    page = watched.page
    require_openssl()
    pki = Pki(tmp_path)
    for _ in range(3):  # the crowd saw the device make three flows on firmware 2.0
        submit(ContributorFactory(trust_level=3), payload(*CROWD, firmware="2.0"))
    model = DeviceModel.objects.get()
    settle(model.pk)
    member = ContributorFactory(trust_level=0)
    ManufacturerMember.objects.create(manufacturer=model.manufacturer, contributor=member)
    log_in(watched, base, member.user.username, "correct horse battery staple")

    page.get_by_role("link", name="Manufacturer console").click()
    page.get_by_role("link", name="Acme").click()
    watched.check()
    page.get_by_label("Domain to claim").fill(DOMAIN)
    page.get_by_role("button", name="Claim").click()
    claim = ManufacturerDomain.objects.get(domain=DOMAIN)
    record = page.locator(f"#record-{claim.pk}")
    expect(record).to_have_text(f'_mudhub-challenge.{DOMAIN}. IN TXT "{claim.token}"')
    watched.check()
    with dnsmasq(txt={f"_mudhub-challenge.{DOMAIN}": [claim.token]}) as resolver:
        settings.MUDHUB_DNS_RESOLVER = resolver
        page.get_by_role("button", name=f"Verify {DOMAIN}").click()
        expect(page.get_by_role("status")).to_have_text(f"{DOMAIN} is verified.")

    ca = pki.ca("Acme Devices CA")
    page.get_by_label("Certificate (PEM)").fill(ca.pem.decode())
    page.get_by_role("button", name="Pin the certificate").click()
    expect(page.get_by_role("status")).to_have_text("The certificate is pinned.")
    content = mud_file(*MANUFACTURER)
    (tmp_path / "cam.json").write_bytes(content)
    (tmp_path / "cam.p7s").write_bytes(pki.sign(content, pki.issue(ca, "Acme Release Signing")))
    page.get_by_label("Firmware versions it covers").fill("2.0")
    page.get_by_label("MUD file").set_input_files(str(tmp_path / "cam.json"))
    page.get_by_label("Detached CMS signature (.p7s)").set_input_files(str(tmp_path / "cam.p7s"))
    page.get_by_role("button", name="Upload the signed profile").click()
    expect(page.get_by_role("status")).to_have_text("The signed profile for Cam 1 (2.0) is in force.")
    watched.check()

    settle(model.pk)
    page.reload()
    (metrics,) = native_keys(METRICS)
    card = page.locator("article", has_text=metrics).filter(has_text="(2.0)")
    card.get_by_label("Answer").select_option("disputed")
    card.get_by_label("Comment").fill("metrics are opt-in and off by default")
    card.get_by_role("button", name="Publish the answer").click()
    expect(page.get_by_role("status")).to_have_text("Your answer is published.")
    answered = Discrepancy.objects.get(scope="2.0", flow__key=metrics)
    assert (answered.state, answered.responded_by) == ("disputed", member)
    watched.check()

    page.goto(f"{base}/devices/acme/cam-1/?firmware=2.0")
    served = page.get_by_role("region", name="Flows in the served MUD file")
    assert served.get_by_text("manufacturer profile").count() == len(MANUFACTURER)
    expect(page.get_by_text("metrics are opt-in and off by default")).to_be_visible()
    watched.check()
