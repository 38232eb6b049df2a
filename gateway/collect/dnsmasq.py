"""dnsmasq logs (`log-queries`, OpenWrt's resolver): the DNS answers the device received.

dnsmasq logs a query with its client (`query[A] name from 192.168.1.23`), then the answers
without one (`reply name is 192.0.2.7`, `cached name is ...`, `reply name is <CNAME>` followed
by the lines of the CNAME's target). With `log-queries=extra` every line also carries the
client. An answer belongs to the device when the device asked for that name in the last
minute, and the lines that follow a `<CNAME>` belong to the same question. dnsmasq logs no
TTL, so an answer read here names its address for LOG_ANSWER_SECONDS. DHCP lines
(`DHCPACK(br-lan) 192.168.1.23 50:c7:bf:00:c7:03`) tell the device's address from its MAC.

Timestamps: syslog's `Nov 28 06:00:01` (no year: the year that puts it closest before now),
OpenWrt logread's `Sat Nov 28 06:00:01 2026`, or RFC 3339; without a zone they are UTC unless
told otherwise (`--log-utc-offset`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, tzinfo

from .names import LOG_ANSWER_SECONDS, Answer, canonical_name
from .peers import classify

_LINE = re.compile(r"^(?P<stamp>.*?)\s*\S*dnsmasq(?:-dhcp)?\[\d+\]:\s*(?P<message>.*)$")
_EXTRA = re.compile(r"^\d+ (?P<client>[0-9a-fA-F.:]+)/\d+ (?P<rest>.*)$")
_QUERY = re.compile(r"^query\[(?P<type>[A-Z0-9]+)\] (?P<name>\S+) from (?P<client>\S+)$")
_ANSWER = re.compile(r"^(?P<source>reply|cached|config|\S*hosts\S*) (?P<name>\S+) is (?P<value>\S+)$")
_DHCPACK = re.compile(r"^DHCPACK\([^)]*\) (?P<ip>[0-9a-fA-F.:]+) (?P<mac>[0-9a-fA-F:]{17})\b")
_MONTHS = {
    m: i
    for i, m in enumerate(["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"], start=1)
}
_SYSLOG = re.compile(r"(?:\w{3} )?(?P<mon>\w{3}) +(?P<day>\d+) (?P<time>\d\d:\d\d:\d\d)(?: (?P<year>\d{4}))?")
QUESTION_SECONDS = 60.0

Answers = list[Answer]


class LogFormatError(Exception):
    pass


def parse_stamp(text: str, now: datetime | None = None, zone: tzinfo = UTC) -> float | None:
    """Seconds since the epoch; a timestamp without a zone is in `zone`."""
    text = text.strip()
    if not text:
        return None
    first = text.split()[0]
    if first[:4].isdigit() and "T" in first:
        try:
            moment = datetime.fromisoformat(first.replace("Z", "+00:00"))
        except ValueError:
            return None
        return (moment if moment.tzinfo else moment.replace(tzinfo=zone)).timestamp()
    match = _SYSLOG.match(text)
    if not match or match["mon"] not in _MONTHS:
        return None
    hour, minute, second = (int(part) for part in match["time"].split(":"))
    month, day = _MONTHS[match["mon"]], int(match["day"])
    if match["year"]:
        return datetime(int(match["year"]), month, day, hour, minute, second, tzinfo=zone).timestamp()
    now = now or datetime.now(UTC)
    moment = datetime(now.year, month, day, hour, minute, second, tzinfo=zone)
    if moment.timestamp() > now.timestamp() + 86400:
        moment = moment.replace(year=now.year - 1)
    return moment.timestamp()


def read_answers(
    path: str,
    device_ips: set[str],
    device_mac: Callable[[], str | None],
    on_progress: Callable[[int], None] | None = None,
    zone: tzinfo = UTC,
) -> Iterator[tuple[float, Answers]]:
    """(time, the answers the device received) for each answer line of a dnsmasq log."""
    questions: dict[str, float] = {}  # name -> when the device last asked for it
    chain: str | None = None  # the question that the current run of answer lines answers
    chain_client_ok = False
    with open(path, encoding="utf-8", errors="replace") as lines:
        for number, line in enumerate(lines, start=1):
            if on_progress is not None:
                on_progress(len(line))
            match = _LINE.match(line.rstrip("\n"))
            if match is None:
                continue
            ts = parse_stamp(match["stamp"], zone=zone)
            if ts is None:
                raise LogFormatError(f"{path}:{number}: no timestamp this reader knows: {match['stamp']!r}")
            message = match["message"]
            client = None
            extra = _EXTRA.match(message)
            if extra:
                client, message = extra["client"], extra["rest"]
            if message.startswith("DHCPACK"):
                ack = _DHCPACK.match(message)
                mac = device_mac()
                if ack and mac and ack["mac"].lower() == mac:
                    device_ips.add(ack["ip"])
                chain = None
                continue
            query = _QUERY.match(message)
            if query:
                name = canonical_name(query["name"])
                if name and query["client"] in device_ips:
                    questions[name] = ts
                    if len(questions) > 4096:
                        questions = {n: t for n, t in questions.items() if ts - t <= QUESTION_SECONDS}
                chain = None
                continue
            answer = _ANSWER.match(message)
            if answer is None:
                chain = None
                continue
            name = canonical_name(answer["name"])
            if name is None:
                continue
            asked = questions.get(name)
            if asked is not None and ts - asked <= QUESTION_SECONDS:
                chain, chain_client_ok = name, client is None or client in device_ips
            elif client is not None and client in device_ips and chain is None:
                chain, chain_client_ok = name, True
            if chain is None or not chain_client_ok:
                continue
            value = answer["value"]
            try:
                kind = classify(value)
            except ValueError:
                continue  # <CNAME>, NXDOMAIN, NODATA: the chain goes on or ends, no address
            if kind in ("public", "local"):
                yield ts, [Answer(ts, chain, value, ts + LOG_ANSWER_SECONDS)]
