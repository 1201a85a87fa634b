"""The study's confidence level, its value-with-interval type, and the intervals every layer uses.

* :data:`CONFIDENCE`: every interval in the study is a 95 % interval.
* :class:`Estimate`: a value with its interval, how the interval was obtained,
  and (where known) its n and unit: a claim's statistic, a measured peak.
* :func:`median_interval`: a median and its distribution-free interval (the
  measurement engine's times, the hardware characterisation's peaks).
* :func:`window_interval`: the centre of a few independent windows' values
  (fresh processes at different times) and a Student-t interval on their
  logarithms: what a re-run lands in (the engine's times and memory, the peaks).
* :func:`wilson_interval` (percent: measured accuracies) and :func:`wilson_share`
  (a share k/n as an :class:`Estimate`): Wilson score intervals, both from one
  ``scipy.stats.binomtest(k, n).proportion_ci(method="wilson")``.

numpy and scipy are imported inside the functions: the measurement engine's
forkserver preloads the engine, which imports this module, and its workers'
memory baseline stays without scipy.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable

__all__ = ["CONFIDENCE", "Estimate", "MIN_ORDER_STATISTIC_N", "FEW_SAMPLE_RULES", "median_interval",
           "window_interval", "wilson_interval", "wilson_share"]

#: Every interval in the study is a 95 % interval.
CONFIDENCE = 0.95
#: Fewest samples that :func:`median_interval` gives an order-statistic interval: with 5, no pair of
#: order statistics covers a median with 95 % (the extremes cover it with 1 - 2 / 2^5 = 93.75 %).
MIN_ORDER_STATISTIC_N = 6
#: What :func:`median_interval` does with too few samples for an order-statistic interval.
FEW_SAMPLE_RULES = ("t-on-log", "no interval")


@dataclass(frozen=True)
class Estimate:
    """A statistic with its 95 % interval. ``method`` says how the interval was
    obtained ("bootstrap over 14 models", "Wilson over 14 models", "exact count",
    ...); ``ci_low``/``ci_high`` are NaN where there is none. ``n``: the
    observations behind it (measurements, models) where known; ``unit``: the
    unit of value and bounds ("GFLOP/s", "GB/s"), "" for a ratio or where the
    reader knows it."""

    value: float
    ci_low: float = math.nan
    ci_high: float = math.nan
    method: str = "no interval"
    n: int | None = None
    unit: str = ""

    @property
    def has_interval(self) -> bool:
        """Whether both bounds are finite."""
        return math.isfinite(self.ci_low) and math.isfinite(self.ci_high)

    def text(self, fmt: str = ".3g", unit: str | None = None) -> str:
        """``value unit [low, high]`` (or ``value unit`` without an interval); ``unit``
        defaults to the estimate's own."""
        unit = self.unit if unit is None else unit
        u = f" {unit}" if unit else ""
        if not self.has_interval:
            return f"{self.value:{fmt}}{u}"
        return f"{self.value:{fmt}}{u} [{self.ci_low:{fmt}}, {self.ci_high:{fmt}}]"


# --------------------------------------------------------------------------- the median's interval
def _fewest_for_order_statistics(confidence: float) -> int:
    """Fewest samples, and at least :data:`MIN_ORDER_STATISTIC_N`, whose extremes cover a median
    with ``confidence`` (probability 1 - 2 / 2^n): 6 at 95 %."""
    n = MIN_ORDER_STATISTIC_N
    while 2 * 0.5 ** n >= 1 - confidence:
        n += 1
    return n


def median_interval(samples: Iterable[float], confidence: float = CONFIDENCE, *,
                    few_samples: str) -> tuple[float, float, float, str]:
    """``(median, low, high, method)``: the samples' median and its ``confidence`` interval.

    With at least :data:`MIN_ORDER_STATISTIC_N` samples, and where one exists at
    ``confidence``, the interval is distribution-free: the pair of order
    statistics that covers the population median with at least ``confidence``
    (``scipy.stats.quantile_test(samples, p=0.5).confidence_interval()``).
    Otherwise ``few_samples`` (one of :data:`FEW_SAMPLE_RULES`) decides:

    * ``"t-on-log"`` (the measurement engine's times): for 2 or more samples a
      Student-t interval on log(samples), widened where needed to hold the
      median and the geometric mean; NaN bounds for one sample. Samples must be
      positive. ``method`` is a tag: "order-statistic", "t-on-log" or
      "none (one sample)".
    * ``"no interval"`` (the hardware characterisation's peaks): NaN bounds.
      ``method`` is a sentence naming the interval, or why there is none.

    ValueError for an empty, non-1-D or non-finite sequence (or, under
    "t-on-log", a sample <= 0) and for an unknown rule.
    """
    import numpy as np
    from scipy import stats

    if few_samples not in FEW_SAMPLE_RULES:
        raise ValueError(f"few_samples={few_samples!r}: choose one of {', '.join(map(repr, FEW_SAMPLE_RULES))}")
    t_on_log = few_samples == "t-on-log"
    x = np.asarray(list(samples), dtype=float)
    if x.ndim != 1 or x.size == 0 or not np.all(np.isfinite(x)) or (t_on_log and np.any(x <= 0)):
        need = "positive finite values (the t-on-log rule takes logarithms)" if t_on_log else "finite values"
        raise ValueError(f"median_interval needs a non-empty 1-D sequence of {need}, got {x.tolist()!r}")
    median = float(np.median(x))
    pct = f"{confidence * 100:g} %"
    if x.size >= MIN_ORDER_STATISTIC_N:
        ci = stats.quantile_test(x, p=0.5).confidence_interval(confidence_level=confidence)
        if math.isfinite(ci.low) and math.isfinite(ci.high):
            method = ("order-statistic" if t_on_log else
                      f"median, distribution-free {pct} order-statistic interval (scipy.stats.quantile_test)")
            return median, float(ci.low), float(ci.high), method
    if not t_on_log:
        return median, math.nan, math.nan, (f"median of {x.size} measurements; no {pct} interval (an order-statistic "
                                            f"interval needs n >= {_fewest_for_order_statistics(confidence)})")
    if x.size >= 2:
        logs = np.log(x)
        half = stats.t.ppf(0.5 + confidence / 2, x.size - 1) * logs.std(ddof=1) / math.sqrt(x.size)
        centre = float(np.exp(logs.mean()))
        low, high = float(np.exp(logs.mean() - half)), float(np.exp(logs.mean() + half))
        return median, min(low, median, centre), max(high, median, centre), "t-on-log"
    return median, math.nan, math.nan, "none (one sample)"


# --------------------------------------------------------------------------- windows: what a re-run gives
def window_interval(values: Iterable[float], confidence: float = CONFIDENCE) -> tuple[float, float, float, str]:
    """``(centre, low, high, method)`` of the values of independent windows (each a window's median,
    in any positive unit): the centre is their geometric mean, the interval a Student-t interval on
    their logarithms (k - 1 degrees of freedom), so it holds the variation *between* windows, which a
    re-run's value shows, and not only the precision within one. NaN bounds for one window.

    ValueError for an empty, non-1-D, non-finite or non-positive sequence.
    """
    import numpy as np
    from scipy import stats

    x = np.asarray(list(values), dtype=float)
    if x.ndim != 1 or x.size == 0 or not np.all(np.isfinite(x)) or np.any(x <= 0):
        raise ValueError(f"window_interval needs a non-empty 1-D sequence of positive finite values, "
                         f"got {x.tolist()!r}")
    logs = np.log(x)
    centre = float(np.exp(logs.mean()))
    if x.size < 2:
        return centre, math.nan, math.nan, "one window: no interval"
    half = float(stats.t.ppf(0.5 + confidence / 2, x.size - 1) * logs.std(ddof=1) / math.sqrt(x.size))
    return (centre, float(np.exp(logs.mean() - half)), float(np.exp(logs.mean() + half)),
            f"t interval on the logs of {x.size} windows")


# --------------------------------------------------------------------------- Wilson intervals
def _wilson_bounds(k: int, n: int, confidence: float) -> tuple[float, float]:
    """The Wilson score interval of k / n as fractions (0-1), from scipy."""
    from scipy.stats import binomtest

    ci = binomtest(int(k), int(n)).proportion_ci(confidence_level=confidence, method="wilson")
    return float(ci.low), float(ci.high)


def wilson_interval(k: int, n: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion ``k / n``, in percent.

    ``scipy.stats.binomtest(k, n).proportion_ci(confidence_level, method="wilson")``
    scaled to 0-100 (and clamped so that it contains ``100 * k / n``).
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1 or not 0 <= k <= n:
        raise ValueError(f"k={k!r}, n={n!r}: need integers with 0 <= k <= n and n >= 1")
    low, high = _wilson_bounds(k, n, confidence)
    point = 100.0 * k / n
    return min(100.0 * low, point), max(100.0 * high, point)


def wilson_share(k: int, n: int) -> Estimate:
    """The share k/n (a fraction) with its 95 % Wilson score interval; NaN without models (n <= 0)."""
    if n <= 0:
        return Estimate(math.nan, method="no models")
    low, high = _wilson_bounds(k, n, CONFIDENCE)
    return Estimate(k / n, low, high, f"Wilson over {n} models")
