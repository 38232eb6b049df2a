"""Reading dnsmasq's log-queries output."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from gateway.collect.dnsmasq import LogFormatError, parse_stamp, read_answers

DEVICE = "192.168.1.23"


def _answers(tmp_path: Path, text: str, ips: set[str] | None = None, mac: str | None = None) -> list[tuple[str, str]]:
    path = tmp_path / "dnsmasq.log"
    path.write_text(text)
    ips = {DEVICE} if ips is None else ips
    return [(a.name, a.address) for _, answers in read_answers(str(path), ips, lambda: mac) for a in answers]


def test_a_cname_chain_in_the_log_names_the_address_by_the_question(tmp_path: Path) -> None:
    log = """\
Sat Nov 28 06:00:01 2026 daemon.info dnsmasq[812]: query[A] devs.tplinkcloud.com from 192.168.1.23
Sat Nov 28 06:00:01 2026 daemon.info dnsmasq[812]: forwarded devs.tplinkcloud.com to 198.51.100.53
Sat Nov 28 06:00:01 2026 daemon.info dnsmasq[812]: reply devs.tplinkcloud.com is <CNAME>
Sat Nov 28 06:00:01 2026 daemon.info dnsmasq[812]: reply prd-elb.eu-west-1.elb.amazonaws.com is 192.0.2.150
Sat Nov 28 06:00:01 2026 daemon.info dnsmasq[812]: reply prd-elb.eu-west-1.elb.amazonaws.com is 192.0.2.41
Sat Nov 28 06:00:02 2026 daemon.info dnsmasq[812]: query[A] other.example.com from 192.168.1.77
Sat Nov 28 06:00:02 2026 daemon.info dnsmasq[812]: reply other.example.com is 192.0.2.77
Sat Nov 28 06:00:03 2026 daemon.info dnsmasq[812]: query[AAAA] v6.example.com from 192.168.1.23
Sat Nov 28 06:00:03 2026 daemon.info dnsmasq[812]: cached v6.example.com is 2001:db8::6
Sat Nov 28 06:00:04 2026 daemon.info dnsmasq[812]: query[A] gone.example.com from 192.168.1.23
Sat Nov 28 06:00:04 2026 daemon.info dnsmasq[812]: reply gone.example.com is NXDOMAIN
"""
    assert _answers(tmp_path, log) == [
        ("devs.tplinkcloud.com", "192.0.2.150"),
        ("devs.tplinkcloud.com", "192.0.2.41"),
        ("v6.example.com", "2001:db8::6"),
    ]


def test_extra_logging_names_the_client_on_every_line(tmp_path: Path) -> None:
    log = """\
Nov 28 06:00:01 dnsmasq[812]: 17 192.168.1.23/40001 query[A] api.example.com from 192.168.1.23
Nov 28 06:00:01 dnsmasq[812]: 17 192.168.1.23/40001 reply api.example.com is 192.0.2.10
Nov 28 06:00:01 dnsmasq[812]: 18 192.168.1.77/40002 reply api.example.com is 192.0.2.11
"""
    assert _answers(tmp_path, log) == [("api.example.com", "192.0.2.10")]


def test_dhcp_lines_give_the_address_of_the_device_named_by_its_mac(tmp_path: Path) -> None:
    log = """\
2026-11-28T06:00:00+00:00 router dnsmasq-dhcp[812]: DHCPACK(br-lan) 192.168.1.23 50:c7:bf:00:00:17 plug
2026-11-28T06:00:01+00:00 router dnsmasq[812]: query[A] api.example.com from 192.168.1.23
2026-11-28T06:00:01+00:00 router dnsmasq[812]: reply api.example.com is 192.0.2.10
"""
    ips: set[str] = set()
    assert _answers(tmp_path, log, ips, "50:c7:bf:00:00:17") == [("api.example.com", "192.0.2.10")]
    assert ips == {DEVICE}


def test_timestamps_of_syslog_logread_and_rfc3339() -> None:
    expected = datetime(2026, 11, 28, 6, 0, 1, tzinfo=UTC).timestamp()
    assert parse_stamp("Sat Nov 28 06:00:01 2026 daemon.info") == expected
    assert parse_stamp("2026-11-28T07:00:01+01:00 router") == expected
    assert parse_stamp("Nov 28 06:00:01 router", now=datetime(2026, 12, 1, tzinfo=UTC)) == expected
    assert parse_stamp("Sat Nov 28 07:00:01 2026", zone=timezone(timedelta(hours=1))) == expected
    assert parse_stamp("2026-11-28T06:00:01+00:00", zone=timezone(timedelta(hours=1))) == expected  # its own zone
    # No year: the one that does not put the line in the future.
    assert (
        parse_stamp("Dec 31 23:59:59", now=datetime(2027, 1, 1, 0, 1, tzinfo=UTC))
        == datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC).timestamp()
    )


def test_a_line_without_a_readable_timestamp_is_an_error_with_its_line_number(tmp_path: Path) -> None:
    path = tmp_path / "dnsmasq.log"
    path.write_text("yesterday dnsmasq[812]: query[A] a.example.com from 192.168.1.23\n")
    with pytest.raises(LogFormatError, match=r"dnsmasq.log:1: no timestamp"):
        list(read_answers(str(path), {DEVICE}, lambda: None))
