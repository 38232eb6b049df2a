"""Sending the flows to mudhub: the submission body, the collector id, the HTTP request."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

from .collection import Collection, when
from .outputs import native_flows, write_atomically


def default_state_path() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return Path(base) / "mudhub" / "collect.json"


def collector_id(state: Path) -> str:
    """This installation's collector id: made once, then read back from the state file."""
    try:
        saved = json.loads(state.read_text())
        if isinstance(saved, dict) and isinstance(saved.get("collector"), str) and saved["collector"]:
            return str(saved["collector"])
    except FileNotFoundError:
        pass
    except (OSError, ValueError) as exc:
        raise OSError(f"the state file {state} cannot be read: {exc}") from None
    made = f"collect-{uuid.uuid4().hex}"
    state.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(str(state), (json.dumps({"collector": made}) + "\n").encode())
    return made


def submission(
    collection: Collection,
    *,
    manufacturer: str,
    model: str,
    collector: str,
    firmware: str | None = None,
    country: str | None = None,
) -> dict[str, Any]:
    device = {"manufacturer": manufacturer, "model": model}
    if firmware:
        device["firmware"] = firmware
    observation: dict[str, Any] = {"collector": collector}
    if collection.start is not None and collection.end is not None:
        observation["start"], observation["end"] = when(collection.start), when(collection.end)
    if country:
        observation["country"] = country.upper()
    return {"device": device, "observation": observation, "flows": native_flows(collection)}


def post(url: str, token: str, body: dict[str, Any], timeout: float = 60.0) -> tuple[int, bytes]:
    """POST the submission; (HTTP status, the answer's bytes exactly as received)."""
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "Accept": "application/json", "Authorization": f"Token {token}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as answer:
        return answer.code, answer.read()
