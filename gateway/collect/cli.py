"""mudhub-collect: a device's traffic (pcap/pcapng, dnsmasq log, conntrack dump) to flows,
a MUD file or a mudhub submission.

Exit status: 0 done; 1 the submission was refused (or could not be sent); 2 bad usage or an
input that cannot be read (the flows read up to the problem are still summarised).
"""

from __future__ import annotations

import argparse
import ipaddress
import re
import sys
from datetime import UTC, timedelta, timezone
from pathlib import Path
from urllib.parse import urlsplit

from .collection import Collection
from .outputs import flows_json, mud_file, summary, write_atomically
from .sources import InputError, collect
from .submit import collector_id, default_state_path, post, submission

_MAC = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")
SUBMISSIONS_PATH = "/api/v1/submissions/"
MAX_FLOWS = 2000  # what the submission API takes


def _mac(text: str) -> str:
    mac = text.strip().lower().replace("-", ":")
    if not _MAC.match(mac):
        raise argparse.ArgumentTypeError(f"{text!r} is not a MAC address (xx:xx:xx:xx:xx:xx)")
    return mac


def _ip(text: str) -> str:
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an IP address") from None


def _country(text: str) -> str:
    if not re.fullmatch(r"[A-Za-z]{2}", text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a two-letter country code")
    return text.upper()


def _utc_offset(text: str) -> timezone:
    match = re.fullmatch(r"([+-])(\d\d):?(\d\d)", text.strip())
    if not match or int(match[2]) > 23 or int(match[3]) > 59:
        raise argparse.ArgumentTypeError(f"{text!r} is not a UTC offset such as +01:00 or -0500")
    minutes = int(match[2]) * 60 + int(match[3])
    return timezone(timedelta(minutes=-minutes if match[1] == "-" else minutes))


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="mudhub-collect",
        description="Turn a device's traffic (pcap or pcapng captures, dnsmasq logs with log-queries, "
        "conntrack dumps) into its flows, a MUD file or a mudhub submission.",
    )
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="capture, dnsmasq log or conntrack dump (any mix)")
    who = p.add_argument_group("the device and its gateway")
    who.add_argument("--device-mac", type=_mac, help="the device's MAC address")
    who.add_argument("--device-ip", type=_ip, action="append", default=[], help="the device's address (repeatable)")
    who.add_argument("--gateway-ip", type=_ip, action="append", default=[], help="the gateway's address (repeatable; "
                     "default: from DHCP and the DNS server the device uses)")  # fmt: skip
    who.add_argument("--gateway-mac", type=_mac, help="the gateway's MAC (default: the device's next hop)")
    who.add_argument(
        "--log-utc-offset", type=_utc_offset, default=UTC, metavar="+HH:MM",
        help="the zone of log timestamps that carry none (default: UTC; west of it: --log-utc-offset=-05:00)",
    )  # fmt: skip
    out = p.add_argument_group("outputs (the summary always goes to stderr)")
    out.add_argument("--mud", metavar="OUT.json", help="write the flows as a MUD file")
    out.add_argument("--mud-url", help="the mud-url written into the MUD file (default: a placeholder)")
    out.add_argument("--flows", metavar="OUT.json", help="write the flows in the native form the API accepts")
    out.add_argument("--submit", metavar="URL", help="send a submission to this mudhub (base URL or endpoint)")
    out.add_argument("--token", help="the API token for --submit")
    out.add_argument("--manufacturer", help="the device's manufacturer (needed by --submit)")
    out.add_argument("--model", help="the device's model (needed by --submit)")
    out.add_argument("--firmware", help="the device's firmware version")
    out.add_argument("--country", type=_country, help="where it was observed (ISO 3166 two-letter code)")
    out.add_argument("--state", type=Path, help=f"the collector state file (default: {default_state_path()})")
    out.add_argument("--partial", action="store_true", help="write outputs even when an input ended in an error")
    bar = p.add_mutually_exclusive_group()
    bar.add_argument(
        "--progress", dest="progress", action="store_const", const=True, default=None,
        help="always show the progress bar (default: on a terminal, for inputs that take a while)",
    )  # fmt: skip
    bar.add_argument("--no-progress", dest="progress", action="store_const", const=False)
    return p


def submission_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"{url!r} is not an http(s) URL")
    if parts.path.rstrip("/").endswith(SUBMISSIONS_PATH.rstrip("/")):
        return url
    return url.rstrip("/") + SUBMISSIONS_PATH


def _outputs(args: argparse.Namespace, collection: Collection) -> int:
    if args.flows:
        write_atomically(args.flows, flows_json(collection))
    if args.mud:
        write_atomically(
            args.mud, mud_file(collection, manufacturer=args.manufacturer, model=args.model, mud_url=args.mud_url)
        )
    if not args.submit:
        return 0
    if len(collection.flows) > MAX_FLOWS:
        print(f"mudhub-collect: {len(collection.flows)} flows, more than the {MAX_FLOWS} a submission takes",
              file=sys.stderr)  # fmt: skip
        return 1
    collector = collector_id(args.state or default_state_path())
    body = submission(
        collection, manufacturer=args.manufacturer, model=args.model, collector=collector,
        firmware=args.firmware, country=args.country,
    )  # fmt: skip
    try:
        status, answer = post(submission_url(args.submit), args.token, body)
    except (OSError, ValueError) as exc:
        print(f"mudhub-collect: the submission could not be sent: {exc}", file=sys.stderr)
        return 1
    sys.stdout.buffer.write(answer)
    if not answer.endswith(b"\n"):
        sys.stdout.buffer.write(b"\n")
    sys.stdout.flush()
    print(f"mudhub-collect: HTTP {status}", file=sys.stderr)
    return 0 if 200 <= status < 300 else 1


def main(argv: list[str] | None = None) -> int:
    p = parser()
    args = p.parse_args(argv)
    if not args.device_mac and not args.device_ip:
        p.error("say which device: --device-mac or --device-ip")
    if args.submit and not (args.token and args.manufacturer and args.model):
        p.error("--submit needs --token, --manufacturer and --model")
    if args.submit:
        try:
            submission_url(args.submit)
        except ValueError as exc:
            p.error(str(exc))
    try:
        collection = collect(
            args.inputs, device_mac=args.device_mac, device_ips=tuple(args.device_ip),
            gateway_ips=tuple(args.gateway_ip), gateway_mac=args.gateway_mac, progress=args.progress,
            log_zone=args.log_utc_offset,
        )  # fmt: skip
    except InputError as exc:
        print(f"mudhub-collect: error: {exc}", file=sys.stderr)
        if exc.partial is None:
            return 2
        print("what was read before the error:", file=sys.stderr)
        sys.stderr.write(summary(exc.partial))
        if args.partial:
            _outputs(args, exc.partial)
        return 2
    sys.stderr.write(summary(collection))
    if not collection.flows and (args.mud or args.flows or args.submit):
        print("mudhub-collect: no flow of the device was found; nothing written", file=sys.stderr)
        return 2
    return _outputs(args, collection)
