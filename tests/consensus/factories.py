"""Small builders for consensus inputs, and hypothesis strategies over them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import strategies as st

from profiles.consensus import (
    ConsensusInput,
    ConsensusResult,
    ContributorSnapshot,
    ManufacturerProfile,
    ManufacturerStatement,
    ModelContext,
    ModeratorDecision,
    Observation,
    Vote,
)
from profiles.mud.flows import Flow, PortMatch

AS_OF = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
OLD = AS_OF - timedelta(days=400)
FIRMWARE = ("1.0", "2.0", "3.0", "4.0")


def tcp(peer: str, port: int, kind: str = "dnsname", direction: str = "from-device") -> Flow:
    return Flow(direction, "ipv4", kind, peer, protocol=6, dst_port=PortMatch.eq(port))


def udp(peer: str, port: int, kind: str = "dnsname") -> Flow:
    return Flow("from-device", "ipv4", kind, peer, protocol=17, dst_port=PortMatch.eq(port))


VENDOR = tcp("api.acme.example.com", 443)
VENDOR_MQTT = tcp("mqtt.acme.example.com", 8883)
LOCAL_MDNS = Flow("from-device", "ipv4", "local-networks", "", protocol=17, dst_port=PortMatch.eq(5353))
THIRD = udp("pool.ntp.org", 123)
THIRD_CDN = tcp("cdn.example.net", 443)
HIGH_IP = tcp("203.0.113.5/32", 8080, kind="network")
HIGH_BUCKET = tcp("acme-fw.s3.amazonaws.com", 443)
POOL: tuple[Flow, ...] = (VENDOR, VENDOR_MQTT, LOCAL_MDNS, THIRD, THIRD_CDN, HIGH_IP, HIGH_BUCKET)

CONTEXT = ModelContext(
    manufacturer_domains=frozenset({"example.com"}),
    domain_first_seen={"ntp.org": OLD, "example.net": OLD, "example.com": OLD},
    firmware_order=FIRMWARE,
)


def member(
    cid: str, level: int = 2, reputation: float = 0.8, group: str | None = None, **kw: bool
) -> ContributorSnapshot:
    return ContributorSnapshot(cid, level, reputation, group if group is not None else f"g-{cid}", **kw)


def seen(
    sid: str,
    cid: str,
    flows: Iterable[Flow],
    firmware: str | None = "4.0",
    age: timedelta = timedelta(0),
    window: float = 168.0,
) -> Observation:
    return Observation(sid, cid, firmware, AS_OF - age, window, frozenset(flows))


def consensus_input(
    contributors: Iterable[ContributorSnapshot],
    observations: Iterable[Observation],
    *,
    firmware: str = "latest",
    as_of: datetime = AS_OF,
    context: ModelContext = CONTEXT,
    **kw: object,
) -> ConsensusInput:
    return ConsensusInput(
        model_id="acme-cam",
        firmware=firmware,
        as_of=as_of,
        context=context,
        contributors=tuple(contributors),
        observations=tuple(observations),
        **kw,  # type: ignore[arg-type]
    )


def long_held(flows: Iterable[Flow], hours: float = 100.0) -> dict[str, datetime]:
    """A previous run's hold state in which every flow's conditions have held for `hours`."""
    return {f.key: AS_OF - timedelta(hours=hours) for f in flows}


def states(result: ConsensusResult) -> dict[str, str]:
    return {row.key: row.state for row in result.decisions}


def numbers(result: ConsensusResult) -> dict[str, tuple[str, str, int, int, int, int]]:
    return {
        row.key: (row.state, row.rule, row.evidence.a_milli, row.evidence.b_milli, row.evidence.k, row.evidence.n_milli)
        for row in result.decisions
    }


def allowed(result: ConsensusResult) -> set[str]:
    return {flow.key for flow in result.allowed_flows}


def profile(
    pid: str, flows: Iterable[Flow], firmware: Iterable[str] | None = None, **kw: object
) -> ManufacturerProfile:
    fields: dict[str, object] = {"signature_valid": True, "certificate_pinned": True, "issued_at": OLD}
    fields.update(kw)
    return ManufacturerProfile(
        pid,
        frozenset(flows),
        None if firmware is None else frozenset(firmware),
        **fields,  # type: ignore[arg-type]
    )


# Hypothesis strategies ------------------------------------------------------------------

flows_st = st.frozensets(st.sampled_from(POOL), min_size=1, max_size=len(POOL))
firmware_st = st.sampled_from(("4.0", "4.0", "4.0", "3.0", "2.0", "1.0", None, "unknown"))
age_st = st.one_of(st.integers(min_value=0, max_value=60), st.integers(min_value=0, max_value=900)).map(
    lambda d: timedelta(days=d, hours=d % 7)
)


@st.composite
def crowds(draw: st.DrawFn, max_contributors: int = 12) -> ConsensusInput:
    """A model's crowd: contributors, observations, votes, moderator decisions, statements."""
    n = draw(st.integers(min_value=1, max_value=max_contributors))
    n_groups = draw(st.integers(min_value=1, max_value=n))
    contributors = [
        ContributorSnapshot(
            f"c{i}",
            draw(st.sampled_from((0, 1, 2, 2, 3, 3))),
            draw(st.sampled_from((0.3, 0.5, 0.7, 0.8, 0.9, 1.0, 1.0))),
            f"g{draw(st.integers(min_value=0, max_value=n_groups - 1))}",
            suspended=draw(st.integers(min_value=0, max_value=9)) == 0,
        )
        for i in range(n)
    ]
    observations = []
    for i in range(n):
        for j in range(draw(st.integers(min_value=0, max_value=2))):
            observations.append(
                Observation(
                    f"s{i}-{j}",
                    f"c{i}",
                    draw(firmware_st),
                    AS_OF - draw(age_st),
                    float(draw(st.sampled_from((12, 24, 168, 400)))),
                    draw(flows_st),
                )
            )
    votes = []
    for i in range(n):
        for flow in draw(st.frozensets(st.sampled_from(POOL), max_size=3)):
            votes.append(
                Vote(
                    f"v{i}-{POOL.index(flow)}",
                    f"c{i}",
                    flow.key,
                    draw(st.sampled_from((1, -1))),
                    draw(st.sampled_from((None, "4.0"))),
                )
            )
    decisions = [
        ModeratorDecision(
            f"d{k}", draw(st.sampled_from(("reject", "approve", "freeze"))), draw(st.sampled_from(POOL)).key
        )
        for k in range(draw(st.sampled_from((0, 0, 0, 1, 2))))
    ]
    statements = [
        ManufacturerStatement(
            f"st{k}", draw(st.sampled_from(POOL)), draw(st.sampled_from(("allow", "reject"))), None, True
        )
        for k in range(draw(st.sampled_from((0, 0, 0, 1))))
    ]
    held = draw(st.frozensets(st.sampled_from(POOL)))
    return consensus_input(
        contributors,
        observations,
        votes=tuple(votes),
        moderator_decisions=tuple(decisions),
        manufacturer_statements=tuple(statements),
        condition_since=long_held(held),
    )


def with_more(inp: ConsensusInput, **extra: tuple[object, ...]) -> ConsensusInput:
    """The same input with more contributors / observations / votes / ... appended."""
    changes = {name: (*getattr(inp, name), *values) for name, values in extra.items()}
    return replace(inp, **changes)  # type: ignore[arg-type]
