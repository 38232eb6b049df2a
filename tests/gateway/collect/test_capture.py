"""Reading captures: pcap and pcapng alike, and a clear error for a cut or damaged one."""

from __future__ import annotations

from pathlib import Path

import dpkt
import pytest

from gateway.collect import InputError, collect
from gateway.collect.capture import CaptureError, read_frames
from tests.gateway.collect.helpers import collected
from tests.gateway.collect.traffic import DEVICE_MAC, T0, Traffic


def _traffic() -> Traffic:
    traffic = Traffic()
    traffic.dhcp(T0)
    traffic.dns(T0 + 1, "api.example.com", [("A", "api.example.com", "192.0.2.10", 300)])
    for n in range(20):
        traffic.tcp(T0 + 2 + n, "192.0.2.10", 443)
    return traffic


def test_pcap_and_pcapng_of_the_same_packets_give_the_same_flows_and_tallies(tmp_path: Path) -> None:
    traffic = _traffic()
    pcap = collected(traffic, tmp_path)
    pcapng = collected(traffic, tmp_path, pcapng=True)
    assert pcap.flows == pcapng.flows
    assert pcap.flows and (pcap.start, pcap.end) == (pcapng.start, pcapng.end)


def test_every_frame_is_read_with_its_timestamp(tmp_path: Path) -> None:
    traffic = _traffic()
    path = traffic.write_pcapng(tmp_path / "c.pcapng")
    read = list(read_frames(str(path)))
    assert [(round(ts, 6), frame) for ts, frame in read] == [(round(ts, 6), f) for ts, f in traffic.ordered()]


@pytest.mark.parametrize("pcapng", [False, True])
def test_a_truncated_capture_is_an_error_that_reports_what_was_read(tmp_path: Path, pcapng: bool) -> None:
    traffic = _traffic()
    whole = (traffic.write_pcapng if pcapng else traffic.write_pcap)(tmp_path / "whole")
    cut = tmp_path / "cut"
    cut.write_bytes(whole.read_bytes()[:-25])  # tcpdump killed in the middle of the last record
    with pytest.raises(InputError) as caught:
        collect([str(cut)], device_mac=DEVICE_MAC)
    frames = len(traffic.frames) - 1
    assert f"truncated capture: the last record is cut short (after {frames} complete frame(s)" in str(caught.value)
    partial = caught.value.partial
    assert partial is not None and partial.frames == frames
    assert "from-device ipv4 dnsname=api.example.com proto=6 dport=eq443 init=from-device" in {
        s.flow.key for s in partial.flows
    }


def test_a_capture_cut_right_after_a_record_header_is_truncated_too(tmp_path: Path) -> None:
    traffic = _traffic()
    whole = traffic.write_pcap(tmp_path / "whole.pcap").read_bytes()
    last = len(traffic.ordered()[-1][1])
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(whole[:-last])  # the header of the last record survives, its frame does not
    with pytest.raises(CaptureError, match="truncated"):
        list(read_frames(str(cut)))


def test_a_damaged_record_length_is_an_error_at_its_offset(tmp_path: Path) -> None:
    traffic = _traffic()
    data = bytearray(traffic.write_pcap(tmp_path / "whole.pcap").read_bytes())
    first = 24 + 16 + len(traffic.ordered()[0][1])  # where the second record begins
    data[first + 8 : first + 12] = (0x7FFFFFF0).to_bytes(4, "little")  # its captured length
    damaged = tmp_path / "damaged.pcap"
    damaged.write_bytes(bytes(data))
    with pytest.raises(CaptureError) as caught:
        list(read_frames(str(damaged)))
    assert caught.value.frames == 1 and caught.value.offset == first
    assert "no frame has" in str(caught.value)


def test_a_file_that_is_no_capture_is_refused_by_name(tmp_path: Path) -> None:
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"\x00\x01garbage" * 50)
    with pytest.raises(InputError, match="neither a pcap/pcapng capture"):
        collect([str(junk)], device_mac=DEVICE_MAC)
    fake = tmp_path / "fake.pcap"
    fake.write_bytes(b"\xd4\xc3\xb2\xa1" + b"\x00" * 5)  # a pcap magic and a cut file header
    with pytest.raises(InputError, match="header is damaged"):
        collect([str(fake)], device_mac=DEVICE_MAC)


def test_a_capture_that_is_not_ethernet_says_which_link_type_it_has(tmp_path: Path) -> None:
    path = tmp_path / "raw.pcap"
    with open(path, "wb") as out:
        dpkt.pcap.Writer(out, linktype=dpkt.pcap.DLT_RAW).writepkt(b"\x45" + b"\x00" * 19, ts=T0)
    with pytest.raises(InputError, match=r"link type \d+ is not Ethernet"):
        collect([str(path)], device_mac=DEVICE_MAC)
