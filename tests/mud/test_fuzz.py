"""Random damage to real files: parse answers with a document or a MudValidationError, nothing else."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from profiles.mud import MudValidationError, emit, parse
from tests.support import DATASET, require_shared

SAMPLES = [
    "iot-onboarding-mudfiles/unsw/amazonEchoMud.json",
    "iot-onboarding-mudfiles/unsw/samsungsmartcamMud.json",
    "mudmaker-examples/same-manufacturer.json",
    "nist-mud-synthetic-tests/unittest/mud-model-test/mudfile-model-test.json",
    "cisco-mud-manager-examples/examples/luminaire/fs/Luminaire_150.json",
    "deepness-lab-iot-mud-locations/ch_imilab_xiaomi_camera/camera_home_2021-04-03_025606.json",
    "osmud-examples/example/MUDFILE.NEST",
]
WEIRD = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False),
    st.text(max_size=20),
    st.sampled_from(["", "0x0800", "*.example.com", "192.0.2.1", "::1/200", "[null]", "eq", "range", "\ud800"]),
    # Fresh objects each draw: a shared constant would be mutated by later mutations, or
    # inserted into itself (a cycle json.dumps and the walker below cannot handle).
    st.builds(lambda: [None]),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
    st.builds(lambda: {"operator": "eq", "port": 1}),
)


def _load(name: str) -> Any:
    value = json.loads((DATASET / name).read_bytes())
    return json.loads(value) if isinstance(value, str) else value


def _containers(node: Any, out: list[Any]) -> list[Any]:
    if isinstance(node, dict | list):
        out.append(node)
        for child in node.values() if isinstance(node, dict) else node:
            _containers(child, out)
    return out


def _check(data: bytes | str) -> None:
    try:
        document = parse(data)
    except MudValidationError as exc:
        assert exc.problems
        assert "internal-error" not in exc.codes, exc.problems
        return
    # Whatever import accepts, emit can write and parse reads back to the same flows.
    assert parse(emit(document.meta, document.flows)).flows == document.flows


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(SAMPLES), st.data())
def test_structural_mutations_never_raise_anything_else(name: str, data: st.DataObject) -> None:
    require_shared()
    document = _load(name)
    for _ in range(data.draw(st.integers(1, 4))):
        containers = _containers(document, [])
        target = data.draw(st.sampled_from(containers))
        if isinstance(target, dict):
            if not target:
                continue
            key = data.draw(st.sampled_from(sorted(target)))
            action = data.draw(st.sampled_from(["delete", "replace", "rename", "wrap"]))
            if action == "delete":
                del target[key]
            elif action == "replace":
                target[key] = data.draw(WEIRD)
            elif action == "rename":
                target[key + data.draw(st.sampled_from(["x", "-acl", ":x"]))] = target.pop(key)
            else:
                target[key] = [target[key]]
        elif target:
            index = data.draw(st.integers(0, len(target) - 1))
            if data.draw(st.booleans()):
                del target[index]
            else:
                target[index] = data.draw(WEIRD)
    try:
        text = json.dumps(document)
    except ValueError:
        return
    _check(text)


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(SAMPLES), st.data())
def test_byte_flips_never_raise_anything_else(name: str, data: st.DataObject) -> None:
    require_shared()
    raw = bytearray((DATASET / name).read_bytes())
    for _ in range(data.draw(st.integers(1, 8))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    _check(bytes(raw))


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300) | st.text(max_size=300))
def test_arbitrary_input_never_raises_anything_else(data: bytes | str) -> None:
    _check(data)
