"""The bad-input corpus, through the API: every invalid MUD example of ../shared, seeded
mutations (fixed seed, bounded count) of the valid examples and of real files, and every
case issue 10 found. Each answer is a 4xx in the documented error shape, nothing is stored
for it, and none takes pathologically long (the 500s the issue found took 6-9 s each).

Every mutation below makes its input invalid whatever it hits (a truncated body, a byte that
is not UTF-8, a member twice, a control character or lone surrogate, nesting past the limit,
a scheme no MUD URI can have, a value out of its YANG range), so a 2xx is always a bug.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps

from tests.helpers import flow, payload
from tests.support import DATASET, MUD_EXAMPLES, require, require_shared

pytestmark = pytest.mark.django_db

SEED = 20261128
REAL_FILES_SAMPLED = 24
MUTATIONS_PER_REAL_FILE = 3
# A guard against pathological slowness, not a speed target: CPU time of this thread (the
# test client runs the view in it), so the load of other processes cannot make it flaky.
CPU_SECONDS_PER_ANSWER = 1.0
DEVICE = {"manufacturer": "Corpus", "model": "Mutant"}


class Pairs(list[tuple[str, Any]]):
    """A JSON object as its member list, so that a mutation can write a member twice."""


def _load(text: bytes) -> Any:
    value = json.loads(text, object_pairs_hook=Pairs)
    if isinstance(value, str):  # the double-encoded real file: mutate the MUD JSON inside
        value = json.loads(value, object_pairs_hook=Pairs)
    return value


def _dump(node: Any) -> str:
    if isinstance(node, Pairs):
        return "{" + ", ".join(f"{json.dumps(k)}: {_dump(v)}" for k, v in node) + "}"
    if isinstance(node, list):
        return "[" + ", ".join(_dump(v) for v in node) + "]"
    return json.dumps(node)


def _containers(node: Any) -> list[Any]:
    found = [node] if isinstance(node, list) else []
    children = [v for _, v in node] if isinstance(node, Pairs) else node if isinstance(node, list) else []
    if isinstance(node, Pairs) and node:
        found.append(node)
    for child in children:
        found += _containers(child)
    return found


def _mud_container(doc: Pairs) -> Pairs:
    for key, value in doc:
        if key == "ietf-mud:mud" and isinstance(value, Pairs):
            return value
    container = Pairs()
    doc.append(("ietf-mud:mud", container))
    return container


def _body(mud_text: str) -> bytes:
    return f'{{"device": {json.dumps(DEVICE)}, "mud": {mud_text}}}'.encode()


def duplicate_member(doc: Any, rng: random.Random) -> bytes:
    objects = [c for c in _containers(doc) if isinstance(c, Pairs)]
    target = rng.choice(objects)
    target.append(rng.choice(target))
    return _body(_dump(doc))


def bad_string(doc: Any, rng: random.Random) -> bytes:
    containers = [c for c in _containers(doc) if c]
    target = rng.choice(containers)
    index = rng.randrange(len(target))
    char = rng.choice(["\x00", "\x1b", "\x7f", "\x85", "\ud800", "\udfff"])
    if isinstance(target, Pairs):
        key, value = target[index]
        target[index] = (key + char, value) if rng.random() < 0.5 else (key, f"x{char}")
    else:
        target[index] = f"x{char}"
    return _body(_dump(doc))


def too_deep(doc: Any, rng: random.Random) -> bytes:
    target = rng.choice([c for c in _containers(doc) if c])
    index = rng.randrange(len(target))
    deep: Any = 1
    for _ in range(40):
        deep = [deep]
    if isinstance(target, Pairs):
        target[index] = (target[index][0], deep)
    else:
        target[index] = deep
    return _body(_dump(doc))


def dangerous_uri(doc: Any, rng: random.Random) -> bytes:
    member = rng.choice(["documentation", "mud-signature"])
    uri = rng.choice(["javascript:alert(1)", "data:text/html;base64,PHNjcmlwdD4=", "file:///etc/passwd"])
    _mud_container(doc).append((member, uri))
    return _body(_dump(doc))


def out_of_range(doc: Any, rng: random.Random) -> bytes:
    member, value = rng.choice(
        [("mud-version", 2**64), ("mud-version", 2), ("cache-validity", 0), ("cache-validity", 169),
         ("is-supported", "true"), ("mud-versoin", 1)]
    )  # fmt: skip
    container = _mud_container(doc)
    container[:] = [(k, v) for k, v in container if k != member] + [(member, value)]
    return _body(_dump(doc))


def truncated(doc: Any, rng: random.Random) -> bytes:
    body = _body(_dump(doc))
    return body[: rng.randrange(1, len(body) - 1)]  # a JSON text cut before its last byte


def not_utf8(doc: Any, rng: random.Random) -> bytes:
    body = _body(_dump(doc))
    at = rng.randrange(len(body))
    return body[:at] + rng.choice([b"\xff", b"\xc3", b"\xed\xa0\x80"]) + body[at:]


MUTATIONS: list[Callable[[Any, random.Random], bytes]] = [
    duplicate_member, bad_string, too_deep, dangerous_uri, out_of_range, truncated, not_utf8,
]  # fmt: skip


def _real_files() -> list[Path]:
    if not DATASET.is_dir():
        return []
    files = sorted(p for p in DATASET.rglob("*.json") if p.is_file())
    return random.Random(SEED).sample(files, min(REAL_FILES_SAMPLED, len(files)))


def _examples(prefix: str) -> list[Path]:
    return sorted(MUD_EXAMPLES.glob(f"{prefix}-*.json")) if MUD_EXAMPLES.is_dir() else []


def mutation_cases() -> list[tuple[str, bytes]]:
    rng = random.Random(SEED)
    cases = []
    for path in _examples("valid"):
        for mutate in MUTATIONS:
            cases.append((f"{path.name}:{mutate.__name__}", mutate(_load(path.read_bytes()), rng)))
    for path in _real_files():
        for mutate in rng.sample(MUTATIONS, MUTATIONS_PER_REAL_FILE):
            name = f"{path.relative_to(DATASET)}:{mutate.__name__}"
            cases.append((name, mutate(_load(path.read_bytes()), rng)))
    return cases


# --- the cases of issue 10, by item ------------------------------------------------------------

SUBMIT = "/api/v1/submissions/"
BIG = str(2**64)


def _issue_cases() -> list[tuple[str, str, str, Any, str]]:
    """(name, method, url, body: bytes | dict | None, who: anon | member | moderator)."""
    good = payload(flow("api.acme.example"))
    raw = json.dumps(good)
    cases: list[tuple[str, str, str, Any, str]] = [
        # 1: lone surrogates, 64-bit overflows, unbounded limit
        ("surrogate in flows", "POST", SUBMIT, raw.replace("api.acme.example", "\\ud800").encode(), "member"),
        ("surrogate as a key", "POST", SUBMIT, raw.replace('"flows"', '"\\udc00", "flows"', 1).encode(), "member"),
        ("surrogate in systeminfo", "POST", SUBMIT, _body('{"ietf-mud:mud": {"systeminfo": "\\ud800"}}'), "member"),
        ("surrogate vote value", "POST", "/api/v1/votes/", b'{"value": "\\ud800"}', "member"),
        ("surrogate decision kind", "POST", "/api/v1/moderation/decisions/", b'{"kind": "\\ud800"}', "moderator"),
        ("limit 2^63", "GET", "/api/v1/device-models/?limit=9223372036854775808", None, "anon"),
        ("limit 2^63-1", "GET", "/api/v1/manufacturers/?limit=9223372036854775807", None, "anon"),
        ("limit beyond 64 bits on submissions", "GET", f"{SUBMIT}?limit={BIG}", None, "anon"),
        ("version beyond 64 bits", "GET", f"/api/v1/device-models/1/versions/{BIG}/diff/1/", None, "anon"),
        ("id beyond 64 bits", "GET", f"/api/v1/device-models/{BIG}/", None, "anon"),
        ("report id beyond 64 bits", "POST", f"/api/v1/submissions/{BIG}/report/", {"reason": "x"}, "member"),
        # 2: a wrong password is a 401 and stores nothing
        ("wrong password", "POST", "/api/v1/auth/token/", {"username": "nobody", "password": "guess"}, "anon"),
        # 3: duplicate keys at any depth
        ("duplicate top-level key", "POST", SUBMIT, (raw[:-1] + ', "flows": []}').encode(), "member"),
        ("duplicate deep key", "POST", SUBMIT, raw.replace('"protocol": 6', '"protocol": 6, "protocol": 6', 1).encode(),
         "member"),
        # 4: errors outside the API views
        *[(f"{m} on a gateway file", m, "/mud/acme/cam-1.json", b"{}", "anon")
          for m in ("POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE")],
        ("POST without the slash", "POST", "/api/v1/votes", {"value": 1}, "member"),
        ("unknown URL", "GET", "/api/v1/nothing-here/", None, "anon"),
        # 5: dangerous values
        ("javascript documentation", "POST", SUBMIT,
         {"device": DEVICE, "mud": {"ietf-mud:mud": {"documentation": "javascript:alert(1)"}}}, "member"),
        ("data: controller", "POST", SUBMIT,
         payload({"direction": "from-device", "peer_kind": "controller", "peer": "data:text/html,x"}), "member"),
        ("file: model", "POST", SUBMIT,
         payload({"direction": "from-device", "peer_kind": "model", "peer": "file:///etc/passwd"}), "member"),
        ("NUL in a name", "POST", SUBMIT, raw.replace('"Acme"', '"Ac\\u0000me"').encode(), "member"),
        ("NUL in a path", "GET", "/api/v1/contributors/a%00b/", None, "anon"),
        ("NUL in a firmware path", "GET", "/mud/acme/cam-1/1%00.json", None, "anon"),
        ("NUL in a query", "GET", "/api/v1/device-models/?q=a%00", None, "anon"),
        ("line break in a model name", "POST", SUBMIT, payload(flow("a.example"), model="Cam\n1"), "member"),
        # 6: loose edges
        ("unknown device member", "POST", SUBMIT, {**good, "device": {**good["device"], "colour": "red"}}, "member"),
        ("unknown observation member", "POST", SUBMIT, {**good, "observation": {"weather": "fine"}}, "member"),
        ("offset=null", "GET", "/api/v1/device-models/?offset=null", None, "anon"),
        ("empty updated_since", "GET", "/api/v1/device-models/?updated_since=", None, "anon"),
        ("unknown ordering", "GET", "/api/v1/device-models/?ordering=password", None, "anon"),
        ("updated_since out of range in UTC", "GET", "/api/v1/device-models/?updated_since=9999-12-31T23:59:59-12:00",
         None, "anon"),
        ("observation end out of range in UTC", "POST", SUBMIT,
         {**good, "observation": {"end": "9999-12-31T23:59:59-12:00"}}, "member"),
        ("reason 0", "POST", "/api/v1/votes/", {"device_model": 1, "flow": "x", "value": 1, "reason": 0}, "member"),
    ]  # fmt: skip
    return cases


# --- the checks -----------------------------------------------------------------------------------


def row_counts() -> dict[str, int]:
    models = [m for label in ("profiles", "auth", "knox") for m in apps.get_app_config(label).get_models()]
    return {m._meta.label: m._default_manager.count() for m in models}


def assert_documented_4xx(response: Any, case: str) -> None:
    assert 400 <= response.status_code < 500, f"{case}: {response.status_code} {response.content[:300]!r}"
    assert response["Content-Type"].split(";")[0] == "application/json", case
    body = response.json()
    assert set(body) <= {"code", "message", "errors", "retry_after"}, case
    assert isinstance(body["code"], str) and body["code"], case
    assert isinstance(body["message"], str) and body["message"], case
    assert isinstance(body["errors"], list), case
    for item in body["errors"]:
        assert set(item) == {"code", "path", "message"}, case
        assert all(isinstance(v, str) for v in item.values()), case
        assert item["path"].startswith("/"), f"{case}: {item}"


@pytest.fixture
def clients(auth_api: Callable[..., Any]) -> dict[str, Any]:
    from rest_framework.test import APIClient

    return {
        "anon": APIClient(),
        "member": auth_api(trust_level=3),  # TL3: 500 submissions a day, more than the corpus sends
        "moderator": auth_api(trust_level=3, is_moderator=True),
    }


@pytest.fixture(autouse=True)
def warm(clients):
    """What a server process pays once (imports, the public suffix list, URL patterns) is not
    what the per-answer bound is about: pay it before measuring."""
    require_shared()
    send(clients["member"], "POST", SUBMIT, _body(next(iter(_examples("valid")), DATASET).read_text()))
    send(clients["anon"], "GET", "/api/v1/device-models/?limit=1", None)


def send(client: Any, method: str, url: str, body: Any) -> Any:
    if body is None:
        return client.generic(method, url)
    if isinstance(body, bytes):
        return client.generic(method, url, body, content_type="application/json")
    return client.generic(method, url, json.dumps(body), content_type="application/json")


def answer(client: Any, case: str, method: str, url: str, body: Any) -> None:
    before = row_counts()
    started = time.thread_time()
    response = send(client, method, url, body)
    spent = time.thread_time() - started
    assert_documented_4xx(response, case)
    assert spent < CPU_SECONDS_PER_ANSWER, f"{case}: {spent:.2f} s of CPU"
    after = row_counts()
    assert after == before, f"{case} stored rows: " + str(
        {k: after[k] - before[k] for k in after if after[k] != before[k]}
    )


def test_every_invalid_mud_example_is_a_documented_4xx(clients):
    examples = _examples("invalid")
    require(bool(examples), f"the invalid MUD examples are not at {MUD_EXAMPLES} (set MUDHUB_SHARED)")
    for path in examples:
        answer(clients["member"], path.name, "POST", SUBMIT, _body(path.read_text()))


def test_seeded_mutations_of_valid_and_real_files_are_documented_4xxs(clients):
    require_shared()
    require(bool(_examples("valid")), f"the valid MUD examples are not at {MUD_EXAMPLES}")
    cases = mutation_cases()
    assert len(cases) == len(_examples("valid")) * len(MUTATIONS) + REAL_FILES_SAMPLED * MUTATIONS_PER_REAL_FILE
    for case, body in cases:
        answer(clients["member"], case, "POST", SUBMIT, body)


def test_every_case_of_the_issue_is_a_documented_4xx(clients):
    for case, method, url, body, who in _issue_cases():
        answer(clients[who], case, method, url, body)


def test_the_unmutated_files_are_accepted_so_the_mutations_are_what_is_refused(clients, settings):
    """The control: the same envelope around the unmutated files is stored, and the row counts
    see it (so an input that was stored by mistake could not pass unnoticed)."""
    settings.CELERY_TASK_ALWAYS_EAGER = True
    for path in [*_examples("valid")[1:], *_real_files()[:4]]:  # the first valid example warmed up
        before = row_counts()
        response = send(clients["member"], "POST", SUBMIT, _body(path.read_text()))
        assert response.status_code == 201, f"{path.name}: {response.content[:300]!r}"
        assert row_counts()["profiles.Submission"] == before["profiles.Submission"] + 1
