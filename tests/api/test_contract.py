"""The API keeps the contract its OpenAPI document states: schemathesis against a live server.

Schemathesis (its CLI, as a client would run it) reads /api/schema/ from a live server on the
PostgreSQL test database, seeded with the demo community, and runs every phase (examples,
coverage, fuzzing, stateful through the document's links) with every check, as a trusted
moderator (TL3), so the write operations are exercised and not only their 401s. The moderator
is also a member of a manufacturer (Acme: a verified domain, a pending claim a loopback DNS
server can verify, a pinned certificate, a signed profile, a discrepancy), and the path
parameters of the manufacturer operations are likely to name those rows, so the member-only
operations answer from their own logic and not only 401/403/404. The run is
bounded (a fixed seed and example count); `make fuzz` runs the same test longer
(MUDHUB_FUZZ_EXAMPLES, MUDHUB_FUZZ_SEED). The server counts the requests it answered and
any exception it raised: there must be none, and no check may fail.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.signals import got_request_exception, request_started
from django.db import connection

from tests.manufacturer_helpers import API, DOMAIN, METRICS, mud_file
from tests.pki import Pki, require_openssl
from tests.servers import dnsmasq
from tests.support import require

pytestmark = [pytest.mark.postgres]

EXAMPLES = int(os.environ.get("MUDHUB_FUZZ_EXAMPLES", "8"))
SEED = int(os.environ.get("MUDHUB_FUZZ_SEED", "8520"))
TIMEOUT_SECONDS = int(os.environ.get("MUDHUB_FUZZ_TIMEOUT", "900"))


class ServerTally:
    """Counts the requests the live server handled and the exceptions none of our handlers
    caught (each would have been a 500)."""

    def __init__(self) -> None:
        self.requests = 0
        self.exceptions: list[str] = []
        self._lock = threading.Lock()

    def started(self, sender: Any, **kwargs: Any) -> None:
        with self._lock:
            self.requests += 1

    def failed(self, sender: Any, request: Any = None, **kwargs: Any) -> None:
        with self._lock:
            where = f"{request.method} {request.get_full_path()}" if request is not None else "?"
            self.exceptions.append(f"{where}: {sys.exc_info()[1]!r}")


@pytest.fixture
def tally() -> Any:
    counter = ServerTally()
    request_started.connect(counter.started, weak=False)
    got_request_exception.connect(counter.failed, weak=False)
    yield counter
    request_started.disconnect(counter.started)
    got_request_exception.disconnect(counter.failed)


def _token(username: str) -> str:
    from django.contrib.auth import get_user_model
    from knox.models import AuthToken

    _, token = AuthToken.objects.create(get_user_model().objects.get(username=username))
    return str(token)


@dataclass(frozen=True)
class MemberWorld:
    """The manufacturer the fuzzing moderator is a member of, and the rows its paths may name."""

    slug: str
    ids: list[int]  # the model, the claims, the certificate, the profile
    discrepancies: list[int]
    removable: list[str]  # members the fuzzer may remove (not itself: it would lose its membership)
    txt: dict[str, list[str]]  # the DNS record that verifies the pending claim


def member_world(pki: Pki, username: str) -> MemberWorld:
    """Acme, with the fuzzing user and a seeded contributor as members, a verified domain, a
    pending DNS claim (its record is served), a claim nobody published, a pinned CA, a signed
    profile for firmware 2.0 and an open discrepancy."""
    from django.utils import timezone

    from profiles.models import Contributor, Discrepancy, ManufacturerDomain, ManufacturerMember
    from profiles.services.catalog import device_model_resolve, manufacturer_resolve
    from profiles.services.certificates import certificate_pin
    from profiles.services.domain_claims import dns_name
    from profiles.services.flows import flows_ensure
    from profiles.services.native_flows import flows_from_native
    from profiles.services.signed_profiles import profile_store

    acme = manufacturer_resolve(name="Acme")
    model = device_model_resolve(manufacturer=acme, name="Cam 1")
    fuzzer = Contributor.objects.get(user__username=username)
    other = Contributor.objects.exclude(pk=fuzzer.pk).filter(is_moderator=False).order_by("user__username").first()
    assert other is not None
    for person in (fuzzer, other):
        ManufacturerMember.objects.create(manufacturer=acme, contributor=person)
    ManufacturerDomain.objects.create(manufacturer=acme, domain=DOMAIN, verified_at=timezone.now(), token="verified")
    pending = ManufacturerDomain.objects.create(manufacturer=acme, domain="acme-labs.test", token="contract-token")
    unpublished = ManufacturerDomain.objects.create(manufacturer=acme, domain="acme-old.test", token="never-published")
    ca = pki.ca("Acme Contract CA")
    certificate, _ = certificate_pin(actor=fuzzer, manufacturer=acme, pem=ca.pem.decode())
    content = mud_file(API)
    profile, _ = profile_store(
        actor=fuzzer, manufacturer=acme, device_model=model, content=content,
        signature=pki.sign(content, pki.issue(ca, "Acme Contract Signing")), firmware=["2.0"],
    )  # fmt: skip
    flows, _ = flows_from_native([METRICS])
    (flow_id,) = flows_ensure(flows).values()
    discrepancy = Discrepancy.objects.create(
        device_model=model, scope="2.0", flow_id=flow_id, first_seen=timezone.now()
    )
    return MemberWorld(
        slug=acme.slug,
        ids=sorted({model.pk, pending.pk, unpublished.pk, certificate.pk, profile.pk}),
        discrepancies=[discrepancy.pk],
        removable=[other.user.username],
        txt={dns_name(pending): [pending.token]},
    )


def _toml_string(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid TOML basic string


def write_config(path: Path, *, token: str, logout_token: str, slugs: dict[str, list[str]], world: MemberWorld) -> Path:
    """schemathesis.toml: the moderator's token on every request, a token of its own for
    logout (which revokes the one it is sent with), the seeded slugs as likely values of the
    gateway's path parameters, so its files are found as well as missed, and the member
    world's slug and ids as likely values of the manufacturer operations' path parameters."""
    lines = [
        f"seed = {SEED}",
        "[generation]",
        f"max-examples = {EXAMPLES}",
        # Schema-valid is not always valid: a reference to an object that does not exist, a
        # firmware the model never had, a password too weak are 400s with their reasons, by
        # design (an unknown filter value must not look like an empty result). The fuzzer acts
        # as a moderator and may withdraw or merge a seeded model: its files are then 410 Gone.
        "[checks.positive_data_acceptance]",
        'expected-statuses = ["2xx", "3xx", 400, 401, 403, 404, 409, 410, 429]',
        "[headers]",
        f"Authorization = {_toml_string('Token ' + token)}",
        "[dictionaries.manufacturers]",
        f"values = {json.dumps(slugs['manufacturer'])}",
        "[dictionaries.models]",
        f"values = {json.dumps(slugs['model'])}",
        "[dictionaries.firmware]",
        f"values = {json.dumps(slugs['firmware'])}",
        "[dictionaries.usernames]",
        f"values = {json.dumps(slugs['username'])}",
        "[dictionaries.slugs]",
        f"values = {json.dumps([world.slug])}",
        "[dictionaries.ids]",
        f"values = {json.dumps(world.ids)}",
        "[dictionaries.discrepancies]",
        f"values = {json.dumps(world.discrepancies)}",
        "[dictionaries.removable]",
        f"values = {json.dumps(world.removable)}",
        "[parameters]",
        '"path.slug" = { dictionary = "slugs", probability = 0.8 }',
        '"path.id" = { dictionary = "ids", probability = 0.7 }',
        '"path.discrepancy" = { dictionary = "discrepancies", probability = 0.7 }',
        '"path.username" = { dictionary = "usernames", probability = 0.7 }',
        '"path.manufacturer" = { dictionary = "manufacturers", probability = 0.7 }',
        '"path.model" = { dictionary = "models", probability = 0.7 }',
        '"path.firmware" = { dictionary = "firmware", probability = 0.7 }',
        "[[operations]]",
        'include-path = "/api/v1/auth/logout/"',
        f"headers = {{ Authorization = {_toml_string('Token ' + logout_token)} }}",
        # Removing itself from Acme would leave the fuzzer a stranger to every later operation.
        "[[operations]]",
        'include-path = "/api/v1/manufacturers/{slug}/members/{username}/"',
        'parameters = { "path.username" = { dictionary = "removable", probability = 1.0 } }',
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def run_schemathesis(schema_url: str, config: Path, report: Path) -> subprocess.CompletedProcess[str]:
    # One worker: with several, hypothesis 6.170 on Python 3.11 can fail describing its own
    # strategies from two threads at once ("AST constructor recursion depth mismatch").
    argv = [
        sys.executable, "-m", "schemathesis.cli", "--config-file", str(config), "run", schema_url,
        "--checks", "all",
        "--phases", "examples,coverage,fuzzing,stateful",
        "--workers", "1",
        "--request-timeout", "30",
        "--report", "json", "--report-json-path", str(report),
        "--no-color",
    ]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCHEMATHESIS_")}
    # Run in the report's folder: schemathesis keeps a cache (.schemathesis/) where it runs.
    return subprocess.run(argv, cwd=report.parent, env=env, capture_output=True, text=True, timeout=TIMEOUT_SECONDS)


def test_the_api_keeps_its_openapi_contract_under_schemathesis(live_server, settings, tally, tmp_path):
    require(connection.vendor == "postgresql", "the contract run needs the PostgreSQL test database (DATABASE_URL)")
    # Recomputes run inline in the server thread; the daily limits are lifted so that the
    # fuzzer reaches the logic behind them rather than a 429 (their 429 is tested elsewhere).
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.MUDHUB_SUBMISSIONS_PER_DAY = dict.fromkeys(range(4), 1_000_000)
    settings.MUDHUB_VOTES_PER_DAY = {0: 0, 1: 0, 2: 1_000_000, 3: 1_000_000}
    settings.MUDHUB_SIGNUPS_PER_NETWORK_PER_DAY = 1_000_000
    settings.MUDHUB_FETCH_TIMEOUT_SECONDS = 2.0
    call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115 (closed by the collector)
    require_openssl()
    (tmp_path / "pki").mkdir()
    world = member_world(Pki(tmp_path / "pki"), "moderator")

    from django.contrib.auth import get_user_model

    from profiles.models import DeviceModel, FirmwareVersion

    models = list(DeviceModel.objects.select_related("manufacturer"))
    slugs = {
        "manufacturer": sorted({m.manufacturer.slug for m in models}),
        "model": sorted({m.slug for m in models}),
        "firmware": sorted(set(FirmwareVersion.objects.values_list("version", flat=True)) | {"latest"}),
        "username": sorted(get_user_model().objects.values_list("username", flat=True)),
    }
    config = write_config(
        tmp_path / "schemathesis.toml", token=_token("moderator"), logout_token=_token("moderator"), slugs=slugs,
        world=world,
    )  # fmt: skip
    report = tmp_path / "report.json"
    requests_before = tally.requests

    # Claims are verified against a loopback DNS server that knows only .test names.
    with dnsmasq(txt=world.txt) as resolver:
        settings.MUDHUB_DNS_RESOLVER = resolver
        run = run_schemathesis(f"{live_server.url}/api/schema/", config, report)

    print(run.stdout[-20000:], run.stderr[-5000:], sep="\n")
    assert report.exists(), f"schemathesis wrote no report (exit {run.returncode})"
    result = json.loads(report.read_text())
    served = tally.requests - requests_before
    print(f"contract run: {served} requests served, {result['test_cases']['generated']} test cases, seed {SEED}")
    warned = result.get("warnings", {})
    only_denied, only_missing = warned.get("missing_auth", []), warned.get("missing_test_data", [])
    print("operations answered only 401/403:", only_denied, "only 404:", only_missing, sep="\n")
    assert tally.exceptions == [], "the server raised (a 500) on:\n" + "\n".join(tally.exceptions[:20])
    # The fuzzer is a member of Acme: no manufacturer operation may be stuck at the door.
    assert [label for label in only_denied if "/manufacturers/" in label] == []
    assert result["failures"] == [], "schemathesis found failures (see the output above)"
    assert result["errors"] == [], "schemathesis met errors (see the output above)"
    assert result["operations"]["tested"] == result["operations"]["total"] > 0
    assert run.returncode == 0
    assert served >= result["test_cases"]["generated"] > 0
