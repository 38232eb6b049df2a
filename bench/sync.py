"""Benchmark of gateway delivery: a gateway's bootstrap and catch-up with mudhub-sync, and the
export's server memory at two catalogue sizes.

Run: .venv/bin/python bench/sync.py [--models 1000 10000] [--changes 100]
Prints one JSON line on stdout (progress on stderr). Needs PostgreSQL and Redis on 127.0.0.1.

For each size, that many models (each with a latest file of --flows flows) are published into
a scratch database with the real signing (one detached CMS signature per file) and feed
entries, and one gunicorn worker (sync, DEBUG off) serves them on 127.0.0.1:
- export memory: the worker's peak RSS (VmHWM, reset to the current RSS just before) growth
  while it streams /api/v1/export/, and again for ?format=tar, after a warm-up; the ratio of
  the growth at the largest size to the smallest says whether memory grows with the
  catalogue (it must not);
- download baseline: the export read to the end by a bare HTTP client, no verification;
- bootstrap: `python -m gateway.sync` into an empty folder (index, export, feed), timed, with
  its requests and bytes; the ratio to the bare download is what verification costs;
- catch-up: --changes models get a new version (the real publish path), then the same client
  runs again: requests, feed requests, bytes and time (target: the feed in at most 2 requests);
- before/after: the bootstrapped folder is copied and the client of `--before` (git revision)
  runs the same idle run and catch-up on the copy, so the bytes the signed timestamp saves
  (the full index each run, before) are measured in the same run.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as common


def seed(models: int, flows: int, start: int = 0) -> None:
    """Publish `models` models with signed files and feed entries, in bulk, through the same
    emit and sign functions publishing uses."""
    from datetime import UTC, datetime

    from django.conf import settings
    from django.db import transaction

    from profiles.models import Change, ConsensusProfile, DeviceModel, Manufacturer
    from profiles.services.publish import signature_url
    from profiles.services.signing_keys import signing_identity
    from profiles.signing.sign import sign_detached

    identity = signing_identity()
    now = datetime.now(UTC)
    maker, _ = Manufacturer.objects.get_or_create(slug="bench", defaults={"name": "Bench"})
    batch = 500
    for first in range(start, start + models, batch):
        with transaction.atomic():
            made = DeviceModel.objects.bulk_create(
                [
                    DeviceModel(manufacturer=maker, name=f"Model {n}", slug=f"model-{n}")
                    for n in range(first, min(first + batch, start + models))
                ]
            )
            profiles = []
            for device_model in made:
                n = int(device_model.slug.rsplit("-", 1)[1])
                url = f"{settings.MUDHUB_PUBLIC_URL}/mud/bench/{device_model.slug}.json"
                body = _body(n, flows, url, signature_url(url), now)
                signature = sign_detached(body, identity)
                profiles.append(
                    ConsensusProfile(
                        device_model=device_model, scope="latest", version=1, input_digest="0" * 64,
                        params_version="bench", as_of=now, mud_bytes=body, etag=hashlib.sha256(body).hexdigest(),
                        cache_validity_hours=24, allowed_count=flows, computed_at=now, signature=signature,
                        signature_etag=hashlib.sha256(signature).hexdigest(), signer=identity.fingerprint,
                    )
                )  # fmt: skip
            ConsensusProfile.objects.bulk_create(profiles)
            Change.objects.bulk_create(
                [Change(device_model_id=p.device_model_id, scope="latest", profile=p, etag=p.etag) for p in profiles]
            )
        common.log(f"seeded {min(first + batch, start + models)} models")


def _body(n: int, flows: int, url: str, signature: str, now: Any, salt: str = "") -> bytes:
    from profiles import mud

    meta = mud.MudMeta(
        mud_url=url, mud_signature=signature, last_update=now.replace(microsecond=0), cache_validity=24,
        mfg_name="Bench", model_name=f"Model {n}",
    )  # fmt: skip
    peers = [
        mud.Flow(direction="from-device", family="ipv4", peer_kind="dnsname", peer=f"svc{k}{salt}.model{n}.example",
                 protocol=6, dst_port=mud.PortMatch("eq", 443, 443), initiated="from-device")
        for k in range(flows)
    ]  # fmt: skip
    return mud.emit(meta, peers)


def change(count: int, flows: int) -> None:
    """A new version of `count` models through the real publish path (sign, feed, cache), and
    one index rebuild after the burst, as the debounced task does in production."""
    from datetime import UTC, datetime

    from profiles.models import ConsensusProfile
    from profiles.services.publish import index_deferred

    now = datetime.now(UTC)
    current = list(ConsensusProfile.objects.filter(is_current=True).select_related("device_model")[:count])
    with index_deferred():  # tasks run inline in this bench: one rebuild when the block ends
        _publish_all(current, flows, now)


def _publish_all(current: list[Any], flows: int, now: Any) -> None:
    from django.db import transaction

    from profiles.models import ConsensusProfile
    from profiles.services.publish import consensus_publish, signature_url

    for old in current:
        with transaction.atomic():
            ConsensusProfile.objects.filter(pk=old.pk).update(is_current=False)
            n = int(old.device_model.slug.rsplit("-", 1)[1])
            url = old.device_model.mud_url
            new = ConsensusProfile(
                device_model=old.device_model, scope="latest", version=old.version + 1, input_digest="1" * 64,
                params_version="bench", as_of=now, mud_bytes=_body(n, flows, url, signature_url(url), now, "v2"),
                cache_validity_hours=24, allowed_count=flows, computed_at=now,
            )  # fmt: skip
            consensus_publish(profile=new)


def peak_rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as handle:
        return int(re.search(r"VmHWM:\s+(\d+) kB", handle.read()).group(1))  # type: ignore[union-attr]


def rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as handle:
        return int(re.search(r"VmRSS:\s+(\d+) kB", handle.read()).group(1))  # type: ignore[union-attr]


def peak_growth_kb(pid: int, port: int, path: str) -> tuple[int, int, float]:
    """(peak RSS growth of the worker while it serves `path`, bytes, seconds): the peak is reset
    to the current RSS first (Linux: 5 > /proc/PID/clear_refs), so each export is measured alone."""
    with open(f"/proc/{pid}/clear_refs", "w") as handle:
        handle.write("5")
    before = rss_kb(pid)
    size, seconds = download(port, path)
    return peak_rss_kb(pid) - before, size, seconds


def client_before(rev: str, into: Path) -> Path:
    """The mudhub-sync of revision `rev` (gateway/ only; it imports the codec and the signature
    check from this tree): the same catch-up, measured with the client as it was."""
    archive = subprocess.run(["git", "archive", rev, "gateway"], cwd=common.ROOT, capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return into


def worker_pid(master: int) -> int:
    tree = [pid for pid in common.process_tree(master) if pid != master]
    if len(tree) != 1:
        raise RuntimeError(f"expected one gunicorn worker, found {tree}")
    return tree[0]


def download(port: int, path: str) -> tuple[int, float]:
    started = time.perf_counter()
    conn = http.client.HTTPConnection(common.HOST, port, timeout=600)
    conn.request("GET", path)
    response = conn.getresponse()
    size = 0
    while chunk := response.read(256 * 1024):
        size += len(chunk)
    conn.close()
    if response.status != 200:
        raise RuntimeError(f"{path} answered {response.status}")
    return size, time.perf_counter() - started


def run_sync(scratch: common.Scratch, cert: Path, dest: Path, client: Path | None = None) -> dict[str, Any]:
    """One mudhub-sync run; `client`: a folder holding another revision's gateway/ package."""
    env = dict(scratch.env)
    if client is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(client), str(common.ROOT)])
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "gateway.sync", "--server", scratch.base_url, "--cert", str(cert), "--dest", str(dest)],
        cwd=client or common.ROOT, capture_output=True, text=True, timeout=3600, env=env,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"mudhub-sync failed ({done.returncode}): {done.stderr}")
    line = done.stdout.strip().splitlines()[-1]
    found = re.search(r"(\d+) written, (\d+) removed.* (\d+) request\(s\), (\d+) bytes, (\d+) feed request", line)
    if not found:
        raise RuntimeError(f"unexpected mudhub-sync output: {line}")
    written, removed, requests, received, feed = map(int, found.groups())
    return {
        "seconds": round(seconds, 2),
        "written": written,
        "removed": removed,
        "requests": requests,
        "feed_requests": feed,
        "bytes": received,
    }


def measure(models: int, args: argparse.Namespace) -> dict[str, Any]:
    # Tasks inline: the index rebuild after a burst of publishes runs here, not on a broker.
    inline = {"CELERY_TASK_ALWAYS_EAGER": "true"}
    with common.scratch_stack(f"sync_{models}", keep=args.keep, extra_env=inline) as scratch:
        common.django_setup()
        started = time.perf_counter()
        seed(models, args.flows)
        from profiles.services.index import index_publish
        from profiles.services.signing_keys import signing_identity

        index_publish()
        seed_seconds = time.perf_counter() - started
        cert = scratch.var_dir / "pinned.pem"
        cert.write_bytes(signing_identity().certificate_pem)
        with common.children() as started_children:
            server = common.start_gunicorn(scratch, workers=1)
            started_children.append(server)
            common.wait_http(server, scratch.port, "/api/v1/status/")
            worker = worker_pid(server.proc.pid)
            index_bytes, _ = download(scratch.port, "/mud/index.json")  # warm the worker: imports, connection
            download(scratch.port, "/api/v1/changes/?since=0&limit=10")
            download(scratch.port, "/api/v1/export/?format=tar")
            before = peak_rss_kb(worker)
            growth_ndjson, export_bytes, export_seconds = peak_growth_kb(worker, scratch.port, "/api/v1/export/")
            growth_tar, tar_bytes, tar_seconds = peak_growth_kb(worker, scratch.port, "/api/v1/export/?format=tar")
            dest = Path(tempfile.mkdtemp(prefix="mudhub-bench-sync-", dir=scratch.var_dir))
            common.log(f"{models} models: bootstrap")
            bootstrap = run_sync(scratch, cert, dest)
            # The same gateway twice: one keeps this client, one the client of --before (A/B).
            dest_before = dest.with_name(dest.name + "-before")
            shutil.copytree(dest, dest_before, symlinks=True)
            old_client = client_before(args.before, Path(tempfile.mkdtemp(prefix="client-", dir=scratch.var_dir)))
            idle = run_sync(scratch, cert, dest)
            idle_before = run_sync(scratch, cert, dest_before, client=old_client)
            change(args.changes, args.flows)
            common.log(f"{models} models: catch-up after {args.changes} changes")
            catch_up = run_sync(scratch, cert, dest)
            catch_up_before = run_sync(scratch, cert, dest_before, client=old_client)
            if not server.alive():
                raise RuntimeError(f"gunicorn died:\n{server.tail()}")
        files = sum(1 for p in dest.rglob("*.json") if ".mudhub-sync" not in p.parts)
        if files != models:
            raise RuntimeError(f"the gateway holds {files} files, not {models}")
    return {
        "models": models,
        "seed_seconds": round(seed_seconds, 1),
        "export": {
            "ndjson_bytes": export_bytes,
            "ndjson_seconds": round(export_seconds, 2),
            "tar_gz_bytes": tar_bytes,
            "tar_seconds": round(tar_seconds, 2),
            "worker_peak_rss_kb_before": before,
            "worker_peak_rss_growth_kb_ndjson": growth_ndjson,
            "worker_peak_rss_growth_kb_tar": growth_tar,
        },
        "index_bytes": index_bytes,
        "bootstrap": bootstrap,
        "bootstrap_over_bare_download": round(bootstrap["seconds"] / max(export_seconds, 1e-6), 2),
        "catch_up": catch_up,
        "catch_up_bytes_over_bootstrap": round(catch_up["bytes"] / max(bootstrap["bytes"], 1), 4),
        # The client of --before (the full index every run) against this one (the timestamp first).
        "catch_up_before": catch_up_before,
        "catch_up_bytes_before_over_after": round(catch_up_before["bytes"] / max(catch_up["bytes"], 1), 2),
        "idle_run": idle,
        "idle_run_before": idle_before,
        "idle_bytes_before_over_after": round(idle_before["bytes"] / max(idle["bytes"], 1), 1),
    }


def _child(models: int, args: argparse.Namespace) -> dict[str, Any]:
    """Each size in a process of its own: Django binds to one scratch database per process."""
    argv = [sys.executable, __file__, "--one", "--models", str(models), "--changes", str(args.changes),
            "--flows", str(args.flows), "--before", args.before, *(["--keep"] if args.keep else [])]  # fmt: skip
    done = subprocess.run(argv, stdout=subprocess.PIPE, text=True, timeout=7200, check=True)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--changes", type=int, default=100)
    parser.add_argument("--flows", type=int, default=12, help="flows per model (about 4 KB a file)")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument(
        "--before",
        default="d4abaa6",
        help="the git revision whose mudhub-sync the catch-up is compared with (default: the last one without "
        "the signed timestamp)",
    )
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)  # a child run: one size
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.models[0], args)), flush=True)
        return
    load_start = round(os.getloadavg()[0], 2)
    sizes = [_child(models, args) for models in sorted(args.models)]
    small, large = sizes[0], sizes[-1]
    growth_small = max(small["export"]["worker_peak_rss_growth_kb_ndjson"], 1)
    result = {
        "bench": "sync",
        "changes": args.changes,
        "flows_per_model": args.flows,
        "sizes": sizes,
        "export_memory_growth_ratio_largest_over_smallest": round(
            large["export"]["worker_peak_rss_growth_kb_ndjson"] / growth_small, 2
        ),
        "tar_export_memory_growth_ratio_largest_over_smallest": round(
            large["export"]["worker_peak_rss_growth_kb_tar"] / max(small["export"]["worker_peak_rss_growth_kb_tar"], 1),
            2,
        ),
        "models_ratio_largest_over_smallest": large["models"] / small["models"],
        "catch_up_target_met": all(
            s["catch_up"]["feed_requests"] <= 2 and s["catch_up"]["written"] == args.changes for s in sizes
        ),
        "load_average_1min": {"start": load_start, "end": round(os.getloadavg()[0], 2)},
        "python": sys.version.split()[0],
    }
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
