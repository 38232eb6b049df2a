"""mudhub-collect on a synthetic day of a chatty device, against tshark's field extraction.

A capture of N packets (default 1,000,000 over 24 hours: DNS answers, HTTPS and MQTT
connections to a few cloud names, NTP, SSDP, ARP, a local app using the device's web port)
is generated into a temporary folder. Then, each pinned to one core and in its own process:
- `collect`: gateway.collect reading the file to flows;
- `tshark`: `tshark -r FILE -T fields` with the fields a collector needs (time, addresses,
  ports, TCP flags, DNS names and answers), output thrown away: the baseline;
- `collect` again on the first tenth of the capture, for memory: the peak resident size at
  N/10 and at N packets (memory must not grow with the packet count).
Prints one JSON line: packets/s (wall and CPU) of both, their ratio, and both peak sizes.
Needs tshark (apt-get install tshark) for the baseline; without it the baseline is null.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import dpkt

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEVICE_MAC, GATEWAY_MAC, PHONE_MAC = "50:c7:bf:00:00:17", "00:b5:6d:00:00:01", "3c:22:fb:00:00:05"
DEVICE, GATEWAY, PHONE = "192.168.1.23", "192.168.1.1", "192.168.1.50"
CLOUD = [  # name, address, port: documentation addresses, written to a file only
    ("api.example.com", "192.0.2.10", 443),
    ("mqtt.example.com", "192.0.2.20", 8883),
    ("ota.example.net", "198.51.100.30", 443),
    ("log.example.org", "203.0.113.40", 443),
]
FIELDS = [
    "frame.time_epoch", "eth.src", "eth.dst", "ip.src", "ip.dst", "ipv6.src", "ipv6.dst", "ip.proto",
    "tcp.srcport", "tcp.dstport", "tcp.flags", "udp.srcport", "udp.dstport", "dns.qry.name", "dns.a",
    "dns.aaaa", "dns.cname", "dns.resp.ttl", "frame.len",
]  # fmt: skip


def _mac(text: str) -> bytes:
    return bytes.fromhex(text.replace(":", ""))


def _frame(src_mac: str, dst_mac: str, src: str, dst: str, l4: dpkt.Packet, protocol: int) -> bytes:
    ip = dpkt.ip.IP(src=socket.inet_aton(src), dst=socket.inet_aton(dst), p=protocol, ttl=64, data=l4)
    ip.len = len(bytes(ip))
    return bytes(dpkt.ethernet.Ethernet(src=_mac(src_mac), dst=_mac(dst_mac), type=0x0800, data=ip))


def _dns(name: str, address: str, port: int) -> list[bytes]:
    query = dpkt.dns.DNS(id=port, qd=[dpkt.dns.DNS.Q(name=name)])
    answer = dpkt.dns.DNS(
        id=port, op=0x8180, qd=[dpkt.dns.DNS.Q(name=name)],
        an=[dpkt.dns.DNS.RR(name=name, type=1, cls=1, ttl=300, rdata=socket.inet_aton(address))],
    )  # fmt: skip
    out = dpkt.udp.UDP(sport=port, dport=53, data=bytes(query))
    back = dpkt.udp.UDP(sport=53, dport=port, data=bytes(answer))
    return [
        _frame(DEVICE_MAC, GATEWAY_MAC, DEVICE, GATEWAY, out, 17),
        _frame(GATEWAY_MAC, DEVICE_MAC, GATEWAY, DEVICE, back, 17),
    ]


def _tcp(peer: str, peer_mac: str, device_port: int, peer_port: int, by_device: bool, rounds: int) -> list[bytes]:
    def seg(from_device: bool, flags: int, data: bytes = b"") -> bytes:
        sport, dport = (device_port, peer_port) if from_device else (peer_port, device_port)
        src, dst = (DEVICE, peer) if from_device else (peer, DEVICE)
        macs = (DEVICE_MAC, peer_mac) if from_device else (peer_mac, DEVICE_MAC)
        return _frame(macs[0], macs[1], src, dst, dpkt.tcp.TCP(sport=sport, dport=dport, flags=flags, data=data), 6)

    syn, ack, push, fin = dpkt.tcp.TH_SYN, dpkt.tcp.TH_ACK, dpkt.tcp.TH_PUSH, dpkt.tcp.TH_FIN
    frames = [seg(by_device, syn), seg(not by_device, syn | ack), seg(by_device, ack)]
    for n in range(rounds):
        frames += [seg(by_device, ack | push, b"\x17\x03\x03" + b"q" * (60 + n % 200)),
                   seg(not by_device, ack | push, b"\x17\x03\x03" + b"a" * (400 + n % 900))]  # fmt: skip
    return [*frames, seg(by_device, fin | ack), seg(not by_device, fin | ack), seg(by_device, ack)]


def _session_templates() -> list[list[bytes]]:
    """A few hundred distinct sessions (ports differ), each a list of frames in order."""
    sessions: list[list[bytes]] = []
    port = 40000
    for n in range(240):
        port += 1
        name, address, service = CLOUD[n % len(CLOUD)]
        frames = _dns(name, address, port)
        port += 1
        frames += _tcp(address, GATEWAY_MAC, port, service, True, 6 + n % 12)
        if n % 4 == 0:
            port += 1
            ntp = dpkt.udp.UDP(sport=port, dport=123, data=b"\x23" + b"\x00" * 47)
            back = dpkt.udp.UDP(sport=123, dport=port, data=b"\x24" + b"\x00" * 47)
            frames += [_frame(DEVICE_MAC, GATEWAY_MAC, DEVICE, "198.51.100.123", ntp, 17),
                       _frame(GATEWAY_MAC, DEVICE_MAC, "198.51.100.123", DEVICE, back, 17)]  # fmt: skip
        if n % 6 == 0:
            ssdp = dpkt.udp.UDP(sport=1900, dport=1900, data=b"NOTIFY * HTTP/1.1\r\n" + b"x" * 200)
            frames.append(_frame(DEVICE_MAC, "01:00:5e:7f:ff:fa", DEVICE, "239.255.255.250", ssdp, 17))
        if n % 10 == 0:
            port += 1
            frames += _tcp(PHONE, PHONE_MAC, 80, port + 10000, False, 3)
        if n % 8 == 0:
            arp = dpkt.arp.ARP(op=1, sha=_mac(DEVICE_MAC), spa=socket.inet_aton(DEVICE), tpa=socket.inet_aton(GATEWAY))
            frames.append(bytes(dpkt.ethernet.Ethernet(src=_mac(DEVICE_MAC), dst=b"\xff" * 6, type=0x0806, data=arp)))
        sessions.append(frames)
    return sessions


def write_day(path: Path, packets: int, start: float = 1_790_000_000.0) -> None:
    """`packets` frames spread evenly over a day, the session templates played over and over."""
    sessions = _session_templates()
    gap = 86400.0 / packets
    written = 0
    with open(path, "wb") as out:
        writer = dpkt.pcap.Writer(out)
        while written < packets:
            for frames in sessions:
                for frame in frames:
                    if written == packets:
                        return
                    writer.writepkt(frame, ts=start + written * gap)
                    written += 1


def _pin() -> None:
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})


def _run(command: list[str], stdout: int | None = None) -> tuple[float, float, str]:
    """(wall seconds, CPU seconds of the child, its stdout) for one child on one core."""
    began = time.perf_counter()
    child = subprocess.Popen(command, stdout=stdout if stdout is not None else subprocess.PIPE,
                             stderr=subprocess.DEVNULL, preexec_fn=_pin, text=True)  # fmt: skip
    out = child.stdout.read() if child.stdout is not None else ""
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - began
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{command[0]} failed with status {status}")
    return wall, usage.ru_utime + usage.ru_stime, out


_CHILD = """
import json, sys, time
sys.path.insert(0, {root!r})
from gateway.collect import collect
began = time.perf_counter()
result = collect([{path!r}], device_mac={mac!r})
seconds = time.perf_counter() - began
peak = next(int(line.split()[1]) for line in open('/proc/self/status') if line.startswith('VmHWM:'))
print(json.dumps({{"seconds": seconds, "flows": len(result.flows), "frames": result.frames, "peak_kb": peak}}))
"""


def _collect(path: Path) -> tuple[float, float, dict[str, float]]:
    code = _CHILD.format(root=str(ROOT), path=str(path), mac=DEVICE_MAC)
    wall, cpu, out = _run([sys.executable, "-c", code])
    return wall, cpu, json.loads(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packets", type=int, default=1_000_000, help="packets in the synthetic day")
    args = parser.parse_args()
    load_start = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="mudhub-bench-collect-") as folder:
        day, tenth = Path(folder) / "day.pcap", Path(folder) / "tenth.pcap"
        began = time.perf_counter()
        write_day(day, args.packets)
        write_day(tenth, args.packets // 10)
        print(f"[bench] wrote {args.packets} packets in {time.perf_counter() - began:.1f} s", file=sys.stderr)
        wall, cpu, big = _collect(day)
        print(f"[bench] collect: {wall:.1f} s, {big['flows']} flows", file=sys.stderr)
        _, _, small = _collect(tenth)
        figures: dict[str, object] = {
            "bench": "collect",
            "packets": args.packets,
            "flows": big["flows"],
            "collect_wall_s": round(wall, 2),
            "collect_cpu_s": round(cpu, 2),
            "collect_pps": round(args.packets / wall),
            "collect_pps_cpu": round(args.packets / cpu),
            "peak_rss_mb_tenth": round(small["peak_kb"] / 1024, 1),
            "peak_rss_mb_full": round(big["peak_kb"] / 1024, 1),
            "rss_growth_full_over_tenth": round(big["peak_kb"] / small["peak_kb"], 3),
        }
        tshark = shutil.which("tshark")
        if tshark is None:
            figures["tshark"] = None
            figures["note"] = "tshark is not installed (apt-get install tshark): no baseline"
        else:
            command = [tshark, "-r", str(day), "-n", "-T", "fields", *(arg for f in FIELDS for arg in ("-e", f))]
            with open(os.devnull, "w") as sink:
                t_wall, t_cpu, _ = _run(command, stdout=sink.fileno())
            print(f"[bench] tshark: {t_wall:.1f} s", file=sys.stderr)
            figures.update(
                tshark_wall_s=round(t_wall, 2),
                tshark_cpu_s=round(t_cpu, 2),
                tshark_pps=round(args.packets / t_wall),
                tshark_pps_cpu=round(args.packets / t_cpu),
                speedup_wall=round(t_wall / wall, 2),
                speedup_cpu=round(t_cpu / cpu, 2),
            )
    figures["loadavg"] = [round(load_start, 2), round(os.getloadavg()[0], 2)]
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
