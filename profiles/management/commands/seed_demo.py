"""Demo data for `make run`: a believable synthetic community. Idempotent.

Contributors of every trust level observe a few synthetic device models the way real
gateways do: each run misses some flows, sees the CDN of its own region, sometimes pins a
raw IP address, and now and then catches a one-off flow nobody else sees. The consensus then
shows ALLOWED flows (seen widely), CANDIDATE ones (high-risk or thinly supported) and flows
left out (seen once).
"""

from __future__ import annotations

import json
import random
from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from profiles.models import Contributor, DeviceModel, PeerDomain, Submission
from profiles.mud.flows import Flow, PortMatch
from profiles.services.recompute import consensus_recompute
from profiles.services.submissions import submission_content_read, submission_create

DEMO_PASSWORD = "mudhub-demo-password"

# (username, trust level, moderator, reputation points r, s)
DEMO_PEOPLE = [
    ("moderator", 3, True, 60.0, 2.0),
    ("trusted-tess", 3, False, 55.0, 3.0),
    ("trusted-tomas", 3, False, 70.0, 4.0),
    *[(f"member-{n}", 2, False, 12.0 + i, 2.0) for i, n in enumerate(["maria", "mike", "mei", "omar", "ines", "lars"])],
    *[(f"basic-{n}", 1, False, 3.0, 1.0) for n in ["bao", "bruno", "bea", "bilal"]],
    *[(f"newcomer-{n}", 0, False, 0.0, 0.0) for n in ["nia", "noah", "nora"]],
]
REGIONS = ["eu", "us", "ap"]
# Where the demo's gateways are (observation.country): each demo region lies in one UN M49
# sub-region (Western Europe, Northern America, Eastern Asia), so `make run` shows a regional
# variant of every model beside its global file.
COUNTRIES = {"eu": ["DE", "FR", "NL"], "us": ["US", "CA"], "ap": ["JP", "KR"]}
# Account age by trust level, in days: the demo stands for an instance that has run for
# months, where members have earned their levels (CONSENSUS.md asks TL2 for 30 days, TL3
# for 90). Only the newcomers are young; there are too few of them to look like a burst of
# fresh accounts, which would freeze the flows they all report for a moderator.
AGE_DAYS = {0: 5, 1: 45, 2: 120, 3: 400}


def out(peer_kind: str, peer: str, protocol: int, port: int) -> Flow:
    initiated = "from-device" if protocol == 6 else None
    return Flow(
        "from-device", "ipv4", peer_kind, peer, protocol=protocol, dst_port=PortMatch.eq(port), initiated=initiated
    )


def back(peer_kind: str, peer: str, protocol: int, port: int) -> Flow:
    return Flow("to-device", "ipv4", peer_kind, peer, protocol=protocol, src_port=PortMatch.eq(port))


def both(peer_kind: str, peer: str, protocol: int, port: int) -> tuple[Flow, Flow]:
    """A conversation: the request and its reply, which a capture sees together or not at all.
    The reply of a TCP request is written as MUDgee writes it (no `initiated`); the import
    pairs it with its request (profiles.mud.replies)."""
    return out(peer_kind, peer, protocol, port), back(peer_kind, peer, protocol, port)


# What a capture sees or misses as a unit: one flow, or a conversation's two halves.
Unit = Flow | tuple[Flow, ...]


def _flows(units: list[Unit]) -> list[Flow]:
    return [flow for unit in units for flow in (unit if isinstance(unit, tuple) else (unit,))]


def device_catalogue() -> list[dict[str, Any]]:
    """Synthetic devices: the flows every unit makes, and the ones that depend on region."""
    ntp = [out("controller", "urn:ietf:params:mud:ntp", 17, 123)]
    dns = [out("controller", "urn:ietf:params:mud:dns", 17, 53)]
    return [
        {
            "manufacturer": "Lumen Home",
            "model": "Smart Bulb A19",
            "firmware": ["2.1.0", "2.2.3"],
            "core": [
                both("dnsname", "api.lumenhome.example", 6, 443),
                both("dnsname", "ota.lumenhome.example", 6, 443),
                *ntp,
                *dns,
                out("local-networks", "", 17, 1900),
            ],
            "regional": {r: [both("dnsname", f"{r}.cdn.lumenhome.example", 6, 443)] for r in REGIONS},
            "rare": [
                both("dnsname", "telemetry.adtrackr.example", 6, 443),
                out("dnsname", "time.lumenhome.example", 17, 123),
            ],
        },
        {
            "manufacturer": "Vista Cam",
            "model": "Indoor Camera 2K",
            "firmware": ["5.0.1"],
            "core": [
                both("dnsname", "device.vistacam.example", 6, 443),
                both("dnsname", "stream.vistacam.example", 6, 8883),
                *ntp,
                *dns,
                both("my-controller", "", 6, 554),
            ],
            "regional": {r: [both("dnsname", f"relay-{r}.vistacam.example", 17, 3478)] for r in REGIONS},
            "rare": [both("dnsname", "p2p.cheapcloud.example", 17, 32100), out("network", "203.0.113.0/24", 6, 8000)],
        },
        {
            "manufacturer": "Plugwell",
            "model": "Energy Plug P2",
            "firmware": ["1.4"],
            "core": [
                both("dnsname", "mqtt.plugwell.example", 6, 8883),
                *ntp,
                *dns,
                out("local-networks", "", 17, 5353),
                back("local-networks", "", 17, 5353),
            ],
            "regional": {r: [both("dnsname", f"{r}.api.plugwell.example", 6, 443)] for r in REGIONS},
            "rare": [out("dnsname", "updates.plugwell-mirror.example", 6, 80)],
        },
    ]


def observe(rng: random.Random, device: dict[str, Any], region: str) -> list[Flow]:
    seen = [u for u in device["core"] if rng.random() < 0.85]  # a day's capture misses some flows
    seen += [u for u in device["regional"][region] if rng.random() < 0.9]
    seen += [u for u in device["rare"] if rng.random() < 0.12]
    if rng.random() < 0.25:  # the resolver answered with an address the collector pinned
        seen.append(out("network", f"198.51.100.{rng.randrange(1, 250)}/32", 6, 443))
    return _flows(seen or device["core"][:1])


def native(flow: Flow) -> dict[str, Any]:
    item: dict[str, Any] = {"direction": flow.direction, "family": flow.family, "peer_kind": flow.peer_kind}
    if flow.peer:
        item["peer"] = flow.peer
    for name in ("protocol", "initiated"):
        if getattr(flow, name) is not None:
            item[name] = getattr(flow, name)
    for name in ("src_port", "dst_port"):
        port = getattr(flow, name)
        if port is not None:
            item[name] = port.lower
    return item


class Command(BaseCommand):
    help = "Create a synthetic community with submissions and consensus profiles. Idempotent."

    def handle(self, *args: Any, **options: Any) -> None:
        people = self._people()
        if Submission.objects.filter(contributor__in=people).exists():
            self.stdout.write(f"seed_demo: the demo community exists ({len(people)} accounts); nothing to do")
            return
        rng = random.Random(8520)  # RFC 8520: the same community every time
        now = timezone.now().replace(microsecond=0)
        created = 0
        with transaction.atomic():
            for device in device_catalogue():
                for index, person in enumerate(people):
                    if rng.random() > 0.8:
                        continue
                    region = REGIONS[index % len(REGIONS)]
                    flows = observe(rng, device, region)
                    end = now - timedelta(days=3 + rng.randrange(0, 20), hours=rng.randrange(0, 24))
                    payload = {
                        "device": {
                            "manufacturer": device["manufacturer"],
                            "model": device["model"],
                            "firmware": rng.choice(device["firmware"]),
                        },
                        "observation": {
                            "start": end - timedelta(hours=rng.choice([6, 24, 72, 168])),
                            "end": end,
                            "country": COUNTRIES[region][index % len(COUNTRIES[region])],
                        },
                        "flows": sorted((native(f) for f in flows), key=lambda item: sorted(item.items())),
                    }
                    content, problems = submission_content_read(payload)
                    if content is None:
                        raise RuntimeError(f"demo data is invalid: {problems}")
                    raw = json.dumps(payload, sort_keys=True, default=str).encode()
                    _, new = submission_create(
                        contributor=person,
                        raw=raw,
                        raw_content_type="application/json",
                        device=payload["device"],
                        observation=payload["observation"],
                        content=content,
                    )
                    created += new
            # The demo stands for an instance that has run for months: the domains its devices
            # use are not new to it (a domain first seen < 30 days ago makes flows high-risk).
            PeerDomain.objects.update(first_seen=now - timedelta(days=180))
            # Two runs, two days apart, so that the 24-hour hold of third-party flows has
            # elapsed and the demo shows them ALLOWED, as a live instance would after a day.
            for model_id in DeviceModel.objects.values_list("pk", flat=True):
                consensus_recompute(device_model_id=model_id, as_of=now - timedelta(days=2))
                consensus_recompute(device_model_id=model_id, as_of=now)
        self.stdout.write(
            f"seed_demo: {len(people)} demo accounts (password {DEMO_PASSWORD!r}), {created} new submission(s)"
        )

    def _people(self) -> list[Contributor]:
        users = get_user_model()
        people = []
        # One hash for every demo account: hashing is deliberately slow, and these share a password.
        hashed = make_password(DEMO_PASSWORD)
        for username, level, moderator, r, s in DEMO_PEOPLE:
            user, new = users.objects.get_or_create(username=username, defaults={"email": f"{username}@demo.invalid"})
            if new:
                user.password = hashed
                user.save(update_fields=["password"])
            person, _ = Contributor.objects.update_or_create(
                user=user,
                defaults={"trust_level": level, "is_moderator": moderator, "reputation_r": r, "reputation_s": s},
            )
            if new:
                joined = timezone.now() - timedelta(days=AGE_DAYS[level])
                users.objects.filter(pk=user.pk).update(date_joined=joined)
                Contributor.objects.filter(pk=person.pk).update(created_at=joined)
                person.created_at = joined
            people.append(person)
        return people
