"""compute_scopes: every firmware scope of one model at once, equal to compute scope by scope."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from profiles.consensus import LATEST, compute, compute_scopes
from profiles.consensus.provenance import result_bytes

from .factories import AS_OF, FIRMWARE, POOL, crowds, long_held

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(crowds(), st.lists(st.sampled_from(FIRMWARE), max_size=3), st.data())
def test_compute_scopes_equals_compute_for_each_scope(inp, firmware, data) -> None:
    # "latest" (resolving to 4.0), the firmware scopes, sometimes "4.0" itself with the same
    # hold clocks as "latest" (the shared computation) or with clocks of its own.
    scopes = [LATEST, *dict.fromkeys(firmware)]
    own_clocks = data.draw(st.booleans())
    clocks = long_held(POOL[:3], 30) if own_clocks else inp.condition_since
    inputs = [replace(inp, firmware=s, condition_since=inp.condition_since if s == LATEST else clocks) for s in scopes]
    together = compute_scopes(inputs)
    alone = [compute(one) for one in inputs]
    assert together == alone
    assert [result_bytes(r) for r in together] == [result_bytes(r) for r in alone]
    assert len({r.input_digest for r in together}) == len(scopes)  # the digest names the scope


def test_latest_and_its_firmware_share_decisions_but_not_the_digest() -> None:
    from .factories import consensus_input, member, seen

    inp = consensus_input([member(f"c{i}") for i in range(5)], [seen(f"s{i}", f"c{i}", POOL[:4]) for i in range(5)])
    latest, newest = compute_scopes([inp, replace(inp, firmware="4.0")])
    assert latest.decisions == newest.decisions
    assert (latest.firmware, newest.firmware) == (LATEST, "4.0")
    assert latest.input_digest != newest.input_digest
    assert latest == compute(inp) and newest == compute(replace(inp, firmware="4.0"))


def test_scopes_of_different_inputs_are_refused() -> None:
    from .factories import consensus_input, member, seen

    inp = consensus_input([member("a")], [seen("1", "a", POOL[:2])])
    with pytest.raises(ValueError, match="as_of"):
        compute_scopes([inp, replace(inp, firmware="4.0", as_of=AS_OF.replace(year=AS_OF.year + 1))])
    assert compute_scopes([]) == []
