"""The load bench's traffic, run by locust as a library in a process of its own.

Not a benchmark itself: bench/load.py starts it as `python bench/_load_users.py SPEC OUT`
(locust patches the standard library with gevent when imported, so it gets a process
that does nothing else). SPEC (JSON) names the server, the served files, the catalogue ids,
the tokens and the submission bodies; OUT receives the figures per kind of request and the
submissions the server accepted.

Three kinds of users, weighted as a public instance sees them:
- gateways download MUD files, half of them revalidating with If-None-Match (304);
- readers browse the catalogue: lists, filters, a model, its consensus, the change feed;
- contributors submit distinct 20-ACE MUD files, each from the next of many accounts.
"""

from __future__ import annotations

import gevent.monkey

gevent.monkey.patch_all()

import json  # noqa: E402 (after the patch, as locust requires)
import random  # noqa: E402
import sys  # noqa: E402
from collections import deque  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import gevent  # noqa: E402
from locust import FastHttpUser, between, task  # noqa: E402
from locust.env import Environment  # noqa: E402

SPEC: dict[str, Any] = {}
BODIES: deque[bytes] = deque()
ACCEPTED: list[dict[str, Any]] = []
KINDS = ("gateway", "gateway-304", "catalogue", "submission")


class Gateway(FastHttpUser):
    weight = 6
    wait_time = between(0.0, 0.05)

    @task
    def download(self) -> None:
        file = random.choice(SPEC["files"])
        if random.random() < 0.5:
            with self.client.get(file["path"], name="gateway", catch_response=True) as response:
                if response.status_code != 200 or response.headers.get("ETag") != f'"{file["etag"]}"':
                    response.failure(f"{response.status_code}, ETag {response.headers.get('ETag')}")
        else:
            headers = {"If-None-Match": f'"{file["etag"]}"'}
            with self.client.get(file["path"], name="gateway-304", headers=headers, catch_response=True) as response:
                if response.status_code != 304:
                    response.failure(f"{response.status_code}")


class Reader(FastHttpUser):
    weight = 3
    wait_time = between(0.0, 0.1)

    def _get(self, path: str) -> None:
        with self.client.get(path, name="catalogue", catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code}: {(response.text or '')[:200]}")

    @task(3)
    def models(self) -> None:
        manufacturer = random.choice(SPEC["manufacturers"])
        self._get(
            random.choice(["/api/v1/device-models/?limit=20", f"/api/v1/device-models/?manufacturer={manufacturer}"])
        )

    @task(3)
    def model(self) -> None:
        model_id = random.choice(SPEC["model_ids"])
        self._get(random.choice([f"/api/v1/device-models/{model_id}/", f"/api/v1/device-models/{model_id}/consensus/"]))

    @task(1)
    def manufacturers(self) -> None:
        self._get("/api/v1/manufacturers/")

    @task(1)
    def changes(self) -> None:
        self._get("/api/v1/changes/?since=0")


class Contributor(FastHttpUser):
    weight = 1
    wait_time = between(0.0, 0.2)

    @task
    def submit(self) -> None:
        if not BODIES:
            gevent.sleep(0.5)  # nothing left to send: idle, but stay a user
            return
        body = BODIES.popleft()
        # Each submission comes from the next account in turn: many contributors, not a few.
        token = SPEC["tokens"][len(BODIES) % len(SPEC["tokens"])]
        headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
        with self.client.post(
            "/api/v1/submissions/", data=body, headers=headers, name="submission", catch_response=True
        ) as response:
            if response.status_code != 201:
                response.failure(f"{response.status_code}: {(response.text or '')[:200]}")
                return
            answer = json.loads(response.text or "{}")
            ACCEPTED.append({"id": answer.get("id"), "sha256": answer.get("sha256")})


def _figures(env: Environment, seconds: float) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for kind in KINDS:
        entry = next((e for (name, _), e in env.stats.entries.items() if name == kind), None)
        if entry is None or entry.num_requests == 0:
            out[kind] = {"requests": 0}
            continue
        out[kind] = {
            "requests": entry.num_requests,
            "requests_per_s": round(entry.num_requests / seconds, 1),
            "errors": entry.num_failures,
            "latency_ms": {
                "p50": entry.get_response_time_percentile(0.50),
                "p95": entry.get_response_time_percentile(0.95),
                "p99": entry.get_response_time_percentile(0.99),
                "max": round(entry.max_response_time, 1),
            },
        }
    out["error_samples"] = [
        {"name": e.name, "error": str(e.error)[:300], "occurrences": e.occurrences} for e in env.stats.errors.values()
    ][:10]
    return out


def main() -> None:
    if len(sys.argv) != 3:  # `make bench` runs every script: this one only runs for load.py
        print("bench/_load_users.py is run by bench/load.py", file=sys.stderr)
        return
    spec_path, out_path = Path(sys.argv[1]), Path(sys.argv[2])
    SPEC.update(json.loads(spec_path.read_text()))
    BODIES.extend(body.encode() for body in SPEC.pop("bodies"))
    random.seed(SPEC["seed"])
    env = Environment(user_classes=[Gateway, Reader, Contributor], host=SPEC["base_url"])
    runner = env.create_local_runner()
    runner.start(SPEC["users"], spawn_rate=SPEC["spawn_rate"])
    started = gevent.get_hub().loop.now()
    gevent.spawn_later(SPEC["seconds"], runner.quit)
    runner.greenlet.join()
    seconds = gevent.get_hub().loop.now() - started
    result = {"seconds": round(seconds, 2), "kinds": _figures(env, seconds), "accepted": ACCEPTED}
    result["bodies_left"] = len(BODIES)
    out_path.write_text(json.dumps(result))


if __name__ == "__main__":
    main()
