"""Step 5: the two lower bounds. One implementation, used by the engine and by `reproduce`."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from scipy.stats import beta as beta_distribution


def beta_lower_bounds(
    alpha: npt.NDArray[np.float64], beta: npt.NDArray[np.float64], percentile: float
) -> npt.NDArray[np.float64]:
    """The `percentile` quantile of Beta(alpha, beta), for many flows in one scipy call.

    scipy.stats costs ~0.1 ms of argument checking per call; one vectorised call per
    consensus keeps that out of the per-flow cost.
    """
    result: npt.NDArray[np.float64] = np.asarray(beta_distribution.ppf(percentile, alpha, beta), dtype=np.float64)
    return result


def beta_lower_bound(alpha: float, beta: float, percentile: float) -> float:
    """The scalar form, through the same vectorised call, so both give the same bits."""
    bounds = beta_lower_bounds(np.array([alpha], dtype=np.float64), np.array([beta], dtype=np.float64), percentile)
    return float(bounds[0])


def wilson_lower_bound(successes: float, n: float, z: float) -> float:
    """Lower end of the Wilson score interval of `successes` out of `n` (0 when n is 0).

    Support counts are fractional weights, so this takes floats; successes <= n.
    """
    if n <= 0.0:
        return 0.0
    p = min(1.0, successes / n)
    z2 = z * z
    centre = p + z2 / (2.0 * n)
    spread = z * math.sqrt(p * (1.0 - p) / n + z2 / (4.0 * n * n))
    return max(0.0, (centre - spread) / (1.0 + z2 / n))
