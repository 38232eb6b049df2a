"""Step 5 helpers against values known in closed form or from the literature."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from profiles.consensus.stats import beta_lower_bound, beta_lower_bounds, wilson_lower_bound


@pytest.mark.parametrize(
    ("alpha", "beta", "expected"),
    [
        (2.0, 1.0, math.sqrt(0.1)),  # Beta(a, 1): F(x) = x^a
        (3.0, 1.0, 0.1 ** (1 / 3)),
        (1.0, 2.0, 1 - math.sqrt(0.9)),  # Beta(1, b): F(x) = 1 - (1 - x)^b
        (1.0, 5.0, 1 - 0.9 ** (1 / 5)),
        (1.0, 1.0, 0.1),  # uniform
    ],
)
def test_beta_lower_bound_matches_closed_forms(alpha: float, beta: float, expected: float) -> None:
    assert beta_lower_bound(alpha, beta, 0.10) == pytest.approx(expected, abs=1e-12)


def test_beta_median_of_a_symmetric_beta_is_one_half() -> None:
    assert beta_lower_bound(4.0, 4.0, 0.5) == pytest.approx(0.5, abs=1e-12)


@given(st.lists(st.tuples(st.floats(1.0, 500.0), st.floats(1.0, 500.0)), min_size=1, max_size=20))
def test_the_scalar_beta_bound_gives_the_same_bits_as_the_vectorised_one(pairs: list[tuple[float, float]]) -> None:
    alpha = np.array([a for a, _ in pairs])
    beta = np.array([b for _, b in pairs])
    vector = beta_lower_bounds(alpha, beta, 0.10)
    assert [beta_lower_bound(a, b, 0.10) for a, b in pairs] == vector.tolist()


@pytest.mark.parametrize(
    ("successes", "n", "z", "expected"),
    [
        (8, 10, 1.96, 0.4902),  # the textbook Wilson interval (0.490, 0.943)
        (10, 10, 1.96, 10 / (10 + 1.96**2)),  # p = 1: n / (n + z^2)
        (50, 100, 1.96, 0.4038),
        (0, 10, 1.2816, 0.0),
        (3, 0, 1.2816, 0.0),  # no exposure
    ],
)
def test_wilson_lower_bound_matches_known_values(successes: float, n: float, z: float, expected: float) -> None:
    assert wilson_lower_bound(successes, n, z) == pytest.approx(expected, abs=5e-5)


@given(st.floats(0.0, 50.0), st.floats(0.01, 500.0), st.floats(0.0, 50.0))
def test_wilson_grows_with_successes_at_fixed_exposure(successes: float, extra_n: float, more: float) -> None:
    n = successes + extra_n
    low = wilson_lower_bound(successes, n + more, 1.2816)
    high = wilson_lower_bound(successes + more, n + more, 1.2816)
    assert high >= low - 1e-12
