"""End-to-end in Chromium: a moderator withdraws a device model's firmware scope, serves it
again, and merges a duplicate model into it, from the model's moderation page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from profiles.models import Change, DeviceModel, ModerationDecision
from tests.factories import ContributorFactory
from tests.helpers import flow, payload, settle
from tests.web.conftest import log_in
from tests.web.data import submit

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_a_moderator_withdraws_restores_and_merges_from_the_pages(web):
    watched, base = web
    page = watched.page
    for _ in range(3):
        submit(ContributorFactory(trust_level=3), payload(flow("api.acme.example"), firmware="1.0"))
    submit(ContributorFactory(trust_level=2), payload(flow("api.acme.example"), model="Cam One"))
    for model in DeviceModel.objects.all():
        settle(model.pk)
    cam1, duplicate = DeviceModel.objects.get(slug="cam-1"), DeviceModel.objects.get(slug="cam-one")
    moderator = ContributorFactory(trust_level=3, is_moderator=True)
    log_in(watched, base, moderator.user.username, "correct horse battery staple")

    page.goto(f"{base}/devices/acme/cam-1/?firmware=1.0")
    page.get_by_role("link", name="Withdraw, restore or merge this model").click()
    page.wait_for_url(f"{base}/moderation/devices/acme/cam-1/")
    watched.check()
    page.get_by_label("What", exact=True).first.select_option(label="only firmware 1.0")
    page.get_by_label("Reason").first.fill("a capture of another device")
    page.get_by_role("button", name="Withdraw").click()
    expect(page.get_by_role("status")).to_contain_text("Cam 1 is withdrawn (its firmware scope 1.0)")
    assert page.request.get(f"{base}/mud/acme/cam-1/1.0.json").status == 410
    assert page.request.get(f"{base}/mud/acme/cam-1.json").status == 200
    watched.check()
    restore = page.get_by_role("region", name="Serve again")
    restore.get_by_label("What").select_option(label="firmware 1.0")
    restore.get_by_label("Reason").fill("checked again: it is this camera")
    restore.get_by_role("button", name="Serve it again").click()
    expect(page.get_by_role("status")).to_contain_text("Its firmware scope 1.0 is served again")
    cam1.refresh_from_db()
    assert cam1.withdrawn_scopes == []
    watched.check()

    page.goto(f"{base}/moderation/devices/acme/cam-one/")
    merge = page.get_by_role("region", name="Merge into the model it duplicates")
    merge.get_by_label("Merge into").select_option(label="Cam 1")
    merge.get_by_label("Reason").fill("the same camera under another name")
    merge.get_by_role("button", name="Merge").click()
    page.wait_for_url(f"{base}/moderation/devices/acme/cam-1/")
    expect(page.get_by_role("status")).to_contain_text("Cam One is merged into Cam 1")
    duplicate.refresh_from_db()
    assert duplicate.merged_into == cam1
    assert Change.objects.filter(kind="removed", device_model=duplicate, merged_into=cam1).exists()
    assert page.request.get(f"{base}/mud/acme/cam-one.json").status == 410
    watched.check()
    page.goto(f"{base}/devices/acme/cam-one/")
    expect(page.get_by_role("note")).to_contain_text("it is merged into Cam 1")
    watched.check()
    page.goto(f"{base}/moderation/")
    curated = page.get_by_role("region", name="Withdrawn, restored and merged models")
    expect(curated.get_by_role("listitem")).to_have_count(3)
    watched.check()
    kinds = list(ModerationDecision.objects.order_by("id").values_list("kind", flat=True))
    assert kinds == ["withdraw_model", "restore_model", "merge_model"]
