"""The trust-level table and the observation multiplier (step 1)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from profiles.consensus import DEFAULT_PARAMS, ContributorSnapshot, allow_weight, candidate_weight
from profiles.consensus.params import PARAMS_2026_11_1
from profiles.consensus.weights import age_factor, firmware_factor
from tests.consensus.factories import AS_OF, FIRMWARE

POSITION = {fw: i for i, fw in enumerate(FIRMWARE)}


@pytest.mark.parametrize(
    ("level", "reputation", "towards_allowed", "towards_candidate"),
    [(0, 0.9, 0.0, 0.1), (1, 0.8, 0.4, 0.4), (2, 0.8, 0.8, 0.8), (3, 0.86, 1.0, 1.0)],
)
def test_weight_follows_the_trust_level_table(
    level: int, reputation: float, towards_allowed: float, towards_candidate: float
) -> None:
    who = ContributorSnapshot("c", level, reputation, "g")
    assert allow_weight(who, DEFAULT_PARAMS) == pytest.approx(towards_allowed)
    assert candidate_weight(who, DEFAULT_PARAMS) == pytest.approx(towards_candidate)


@pytest.mark.parametrize("level", [0, 1, 2, 3])
def test_a_suspended_account_weighs_nothing(level: int) -> None:
    who = ContributorSnapshot("c", level, 1.0, "g", suspended=True)
    assert allow_weight(who, DEFAULT_PARAMS) == 0.0
    assert candidate_weight(who, DEFAULT_PARAMS) == 0.0


def test_age_halves_support_every_365_days() -> None:
    assert age_factor(AS_OF, AS_OF, DEFAULT_PARAMS) == 1.0
    assert age_factor(AS_OF - timedelta(days=365), AS_OF, DEFAULT_PARAMS) == pytest.approx(0.5)
    assert age_factor(AS_OF - timedelta(days=730), AS_OF, DEFAULT_PARAMS) == pytest.approx(0.25)


def test_an_observation_from_the_future_counts_as_new() -> None:
    assert age_factor(AS_OF + timedelta(days=3), AS_OF, DEFAULT_PARAMS) == 1.0


@pytest.mark.parametrize(
    ("firmware", "target", "factor"),
    [
        ("4.0", "4.0", 1.0),
        ("3.0", "4.0", 0.5),
        ("2.0", "4.0", 0.25),
        ("1.0", "4.0", 0.0),  # older than 2 versions
        ("4.0", "3.0", 0.0),  # newer
        (None, "4.0", 0.5),  # unknown
        (None, None, 1.0),  # unknown, and no firmware known for the scope: nothing better to name
        ("2.0", None, 0.0),
    ],
)
def test_firmware_factor(firmware: str | None, target: str | None, factor: float) -> None:
    assert firmware_factor(firmware, target, POSITION, DEFAULT_PARAMS) == factor


def test_the_first_parameter_set_halves_unknown_firmware_even_where_none_is_known() -> None:
    assert firmware_factor(None, None, POSITION, PARAMS_2026_11_1) == 0.5
    assert firmware_factor(None, "4.0", POSITION, PARAMS_2026_11_1) == 0.5
