"""--submit end to end: the collector against a live mudhub on loopback creates the submission."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gateway.collect.collection import when
from tests.gateway.collect.helpers import collected
from tests.gateway.collect.test_cli import run
from tests.gateway.collect.traffic import DEVICE_MAC, T0, Traffic


@pytest.fixture
def token(transactional_db: Any, settings: Any) -> str:
    from knox.models import AuthToken

    from tests.factories import ContributorFactory

    settings.CELERY_TASK_ALWAYS_EAGER = True  # the recompute the submission queues runs in the server
    person = ContributorFactory(trust_level=1)
    return str(AuthToken.objects.create(person.user)[1])


def test_submit_creates_the_submission_and_prints_the_apis_exact_answer(
    live_server: Any, token: str, tmp_path: Path
) -> None:
    from profiles.models import Submission
    from profiles.services.submissions import collector_hash

    traffic = Traffic()
    traffic.dns(T0, "devs.example.com", [("A", "devs.example.com", "192.0.2.10", 300)])
    traffic.tcp(T0 + 1, "192.0.2.10", 50443)
    capture = traffic.write_pcap(tmp_path / "plug.pcap")
    state = tmp_path / "collect.json"
    args = [str(capture), "--device-mac", DEVICE_MAC, "--submit", live_server.url, "--token", token,
            "--manufacturer", "TP-Link", "--model", "HS110", "--firmware", "1.5.4", "--country", "de",
            "--state", str(state)]  # fmt: skip
    done = run(*args)
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    submission = Submission.objects.select_related("device_model", "firmware").get(pk=answer["id"])
    assert answer["flow_count"] == submission.flow_count == len(collected(traffic, tmp_path).flows) == 4
    assert (submission.device_model.name, submission.firmware.version) == ("HS110", "1.5.4")
    sent = json.loads(bytes(submission.raw))
    collector = json.loads(state.read_text())["collector"]
    assert sent["observation"] == {
        "collector": collector, "start": when(T0), "end": when(traffic.ordered()[-1][0]), "country": "DE",
    }  # fmt: skip
    assert submission.collector_hash == collector_hash(collector)
    assert "HTTP 201" in done.stderr

    # The same capture again: the same bytes, so the API answers 200 with the stored submission.
    again = run(*args)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["id"] == answer["id"] and "HTTP 200" in again.stderr
    assert Submission.objects.count() == 1


def test_a_refused_submission_prints_the_apis_error_and_exits_1(live_server: Any, token: str, tmp_path: Path) -> None:
    traffic = Traffic()
    traffic.tcp(T0, "192.0.2.10", 443)
    capture = traffic.write_pcap(tmp_path / "c.pcap")
    done = run(str(capture), "--device-mac", DEVICE_MAC, "--submit", live_server.url + "/api/v1/submissions/",
               "--token", "not-a-token", "--manufacturer", "Acme", "--model", "Cam", "--state",
               str(tmp_path / "s.json"))  # fmt: skip
    assert done.returncode == 1
    assert json.loads(done.stdout)["code"] and "HTTP 401" in done.stderr
