"""Query budgets of the pages that list things besides the catalogue and the device page
(test_catalog.py): the manufacturer console, the moderation queue and one's submissions cost
the same number of queries for a few rows as for many (no query per row)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from profiles.models import (
    DeviceModel,
    Discrepancy,
    Flow,
    FlowStatement,
    Manufacturer,
    ManufacturerDecision,
    ManufacturerMember,
    ModerationDecision,
    SignedProfile,
    SigningCertificate,
    Submission,
    SubmissionReport,
)
from tests.factories import ContributorFactory
from tests.helpers import flow, payload
from tests.web.data import submit

pytestmark = pytest.mark.django_db


def queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content[:500]
    return len(captured)


def flows(start: int, count: int) -> list[Flow]:
    return Flow.objects.bulk_create(
        [
            Flow(key=f"from-device ipv4 dnsname=f{i}.example proto=6 dport=eq443", spec={})
            for i in range(start, start + count)
        ]
    )


def console_rows(acme: Manufacturer, member, start: int, count: int) -> None:
    """`count` more of everything the console lists: models, members, certificates, signed
    profiles, statements, discrepancies and decisions (rows as the services leave them)."""
    now = timezone.now()
    models = DeviceModel.objects.bulk_create(
        [DeviceModel(manufacturer=acme, name=f"Model {i}", slug=f"model-{i}") for i in range(start, start + count)]
    )
    made = flows(start, count)
    for _ in range(count):
        ManufacturerMember.objects.create(manufacturer=acme, contributor=ContributorFactory(), added_by=member)
    certificates = SigningCertificate.objects.bulk_create(
        [SigningCertificate(manufacturer=acme, der=b"der", fingerprint=f"{i:064x}", subject=f"CN=Cert {i}",
                            not_before=now, not_after=now, pinned_by=member) for i in range(start, start + count)]
    )  # fmt: skip
    profiles = SignedProfile.objects.bulk_create(
        [SignedProfile(manufacturer=acme, device_model=m, mud=b"{}", signature=b"", sha256="0" * 64, certificate=c,
                       signer_subject="CN=Release", uploaded_by=member)
         for m, c in zip(models, certificates, strict=True)]
    )  # fmt: skip
    FlowStatement.objects.bulk_create(
        [FlowStatement(manufacturer=acme, device_model=m, flow=f, verdict="allow", made_by=member)
         for m, f in zip(models, made, strict=True)]
    )  # fmt: skip
    Discrepancy.objects.bulk_create(
        [Discrepancy(device_model=m, scope="latest", flow=f, profile=p, first_seen=now, responded_by=member)
         for m, f, p in zip(models, made, profiles, strict=True)]
    )  # fmt: skip
    ManufacturerDecision.objects.bulk_create(
        [ManufacturerDecision(manufacturer=acme, kind="statement", actor=member, subject=f"s{i}") for i in range(count)]
    )


def test_the_console_costs_the_same_queries_for_two_rows_of_each_or_twenty(client):
    acme = Manufacturer.objects.create(name="Acme", slug="acme")
    member = ContributorFactory()
    ManufacturerMember.objects.create(manufacturer=acme, contributor=member)
    client.force_login(member.user)
    console_rows(acme, member, 0, 2)
    few = queries(client, "/manufacturers/acme/console/")
    console_rows(acme, member, 2, 18)
    body = client.get("/manufacturers/acme/console/").content.decode()
    assert body.count('name="action" value="withdraw"') == 20 and body.count('value="revoke"') == 20
    assert queries(client, "/manufacturers/acme/console/") == few


def test_the_moderation_queue_costs_the_same_queries_for_two_items_of_each_or_twenty(client):
    moderator = ContributorFactory(trust_level=3, is_moderator=True)
    client.force_login(moderator.user)

    def queue(start: int, count: int) -> None:
        for i in range(start, start + count):
            author = ContributorFactory(trust_level=1)
            submit(author, payload(flow(f"api{i}.example"), model=f"Cam {i}"))
            submission = Submission.objects.get(contributor=author)
            SubmissionReport.objects.create(submission=submission, reporter=moderator, reason=f"made up {i}")
            ModerationDecision.objects.create(kind="freeze", moderator=moderator, device_model=submission.device_model,
                                              flow=flows(1000 + i, 1)[0], reason="held")  # fmt: skip
            ModerationDecision.objects.create(kind="withdraw_model", moderator=moderator,
                                              device_model=submission.device_model, reason="curated")  # fmt: skip

    queue(0, 2)
    few = queries(client, "/moderation/")
    queue(2, 18)
    body = client.get("/moderation/").content.decode()
    assert "Frozen flows (20)" in body and "Reported submissions (20)" in body
    assert body.count("stop serving a device model (or one firmware scope)") == 20
    assert queries(client, "/moderation/") == few


def test_ones_submissions_cost_the_same_queries_for_two_or_twenty(client):
    person = ContributorFactory(trust_level=1)
    client.force_login(person.user)
    for i in range(2):
        submit(person, payload(flow(f"api{i}.example"), model=f"Cam {i}"))
    few = queries(client, "/submissions/")
    for i in range(2, 20):
        submit(person, payload(flow(f"api{i}.example"), model=f"Cam {i}"))
    assert queries(client, "/submissions/") == few


def test_the_consoles_long_lists_come_a_page_at_a_time_at_the_same_cost(client):
    """Signed profiles, statements and discrepancies: 25 a page, each list paged on its own (its
    links keep the others where they are), and a page of 30 rows costs what one of 2 rows does."""
    acme = Manufacturer.objects.create(name="Acme", slug="acme")
    member = ContributorFactory()
    ManufacturerMember.objects.create(manufacturer=acme, contributor=member)
    client.force_login(member.user)
    console_rows(acme, member, 0, 2)
    few = queries(client, "/manufacturers/acme/console/")
    console_rows(acme, member, 2, 28)
    url = "/manufacturers/acme/console/"
    assert queries(client, url) == few
    assert queries(client, url + "?statements_page=2&profiles_page=2&discrepancies_page=2") == few

    def shown(body: str) -> dict[str, int]:
        return {
            "profiles": body.count('name="action" value="withdraw"'),
            "statements": body.count("<td><code>from-device ipv4 dnsname="),
            "discrepancies": body.count('name="action" value="respond"'),
        }

    first = client.get(url).content.decode()
    assert shown(first) == {"profiles": 25, "statements": 25, "discrepancies": 25}
    assert "Discrepancies (30)" in first
    for name in ("profiles", "statements", "discrepancies"):
        assert f'<a href="?{name}_page=2#{name}" rel="next">Next</a>' in first
    # The newest first: profile 30's row on page 1, the oldest (the first made) on page 2.
    newest, oldest = SignedProfile.objects.order_by("-id")[0], SignedProfile.objects.order_by("id")[0]
    assert f'Withdraw signed profile {newest.pk}"' in first and f'Withdraw signed profile {oldest.pk}"' not in first
    second = client.get(url + "?statements_page=2").content.decode()
    assert shown(second) == {"profiles": 25, "statements": 5, "discrepancies": 25}
    # Paging another list keeps the statements on their page 2.
    assert '<a href="?profiles_page=2&amp;statements_page=2#profiles" rel="next">Next</a>' in second
    assert '<a href="?statements_page=1#statements" rel="prev">Previous</a>' in second
    last = client.get(url + "?profiles_page=2&discrepancies_page=9").content.decode()  # past the end: the last page
    assert shown(last) == {"profiles": 5, "statements": 25, "discrepancies": 5}
    assert f'Withdraw signed profile {oldest.pk}"' in last
