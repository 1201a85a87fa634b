"""Whether a run's intervals hold on a re-run, and how much the machine itself moved.

* :func:`coverage`: two runs of the same points (two sweeps, or this run and a recorded one): the
  share of points whose difference lies inside the combined 95 % interval, sqrt(hw_a^2 + hw_b^2)
  on the log scale, with the median |a - b| / mean(a, b) and the median half-width. Calibrated
  intervals cover about 95 %. :func:`peak_coverage` does the same for two characterisations' peaks.
* :func:`check_standard_values` and :func:`check_standard_summary`: the check standard
  (helpers.measure.check_standard) of every window of a run, its median (seconds) and spread.
* :func:`compare_with_reference`: this run against a recorded run of the same machine type:
  median difference, coverage and the check standard's ratio, as sentences.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

__all__ = ["Coverage", "coverage", "peak_coverage", "check_standard_values", "check_standard_summary", "CheckStandardSummary",
           "compare_with_reference", "normalised_values", "normalised_summary", "recorded_reference", "run_report", "window_medians",
           "paired_ratio"]


@dataclass(frozen=True)
class Coverage:
    """Two runs of the same points: ``covered`` of ``points`` differences within the combined interval."""

    metric: str
    points: int
    covered: int
    median_abs_diff: float     # median |a - b| / mean(a, b), a fraction
    median_signed_diff: float  # median of a / b - 1 (a slower than b when positive), a fraction
    median_half_width: float   # median over points and runs of the interval's half-width / value

    @property
    def share(self) -> float:
        return self.covered / self.points if self.points else math.nan

    def text(self) -> str:
        if not self.points:
            return f"{self.metric}: no common points with an interval"
        return (f"{self.metric}: the difference lies inside the combined 95 % interval at {self.covered} of "
                f"{self.points} points ({100 * self.share:.0f} %); median |a-b| {100 * self.median_abs_diff:.1f} %, "
                f"median half-width {100 * self.median_half_width:.1f} %")


def _points(rows: pd.DataFrame, metric: str) -> pd.DataFrame:
    ok = rows[(rows["metric"] == metric) & (rows["status"] == "ok")]
    ok = ok.drop_duplicates(["model", "batch_size"], keep="last")
    return ok.set_index(["model", "batch_size"])[["value", "ci_low", "ci_high"]].astype(float)


def coverage(a: pd.DataFrame, b: pd.DataFrame, metric: str = "latency_per_image") -> Coverage:
    """How two runs' ``metric`` rows (results frames) cover each other; points without an interval in
    either run are left out (a zero-width interval counts: it covers only an equal value)."""
    return _coverage(_points(a, metric), _points(b, metric), metric)


def _peaks(frame: pd.DataFrame) -> pd.DataFrame:
    quantity = frame["quantity"].astype(str)
    measured = frame[(frame["status"] == "ok")
                     & (quantity.eq("matmul_peak") | quantity.str.startswith("memory_bandwidth"))]
    return measured.set_index(["quantity", "dtype"])[["value", "ci_low", "ci_high"]].astype(float)


def peak_coverage(a: pd.DataFrame, b: pd.DataFrame) -> Coverage:
    """How two characterisations' measured peaks (helpers.measure.hardware.characterise frames: matmul
    GFLOP/s per dtype, bandwidth GB/s) cover each other, as :func:`coverage` does for points."""
    return _coverage(_peaks(a), _peaks(b), "hardware peaks")


def _coverage(pa: pd.DataFrame, pb: pd.DataFrame, metric: str) -> Coverage:
    import numpy as np

    both = pa.add_suffix("_a").join(pb.add_suffix("_b"), how="inner")
    both = both[(both["value_a"] > 0) & (both["value_b"] > 0)]
    both = both.dropna(subset=["ci_low_a", "ci_high_a", "ci_low_b", "ci_high_b"])
    both = both[(both["ci_low_a"] > 0) & (both["ci_low_b"] > 0)]
    if both.empty:
        return Coverage(metric, 0, 0, math.nan, math.nan, math.nan)
    d = np.log(both["value_a"]) - np.log(both["value_b"])
    hw_a = (np.log(both["ci_high_a"]) - np.log(both["ci_low_a"])) / 2
    hw_b = (np.log(both["ci_high_b"]) - np.log(both["ci_low_b"])) / 2
    covered = int((d.abs() <= np.sqrt(hw_a ** 2 + hw_b ** 2) * (1 + 1e-9)).sum())
    abs_diff = ((both["value_a"] - both["value_b"]).abs() / ((both["value_a"] + both["value_b"]) / 2)).median()
    rel_hw = pd.concat([(both["ci_high_a"] - both["ci_low_a"]) / 2 / both["value_a"],
                        (both["ci_high_b"] - both["ci_low_b"]) / 2 / both["value_b"]])
    return Coverage(metric, len(both), covered, float(abs_diff), float((both["value_a"] / both["value_b"] - 1).median()),
                    float(rel_hw.median()))


def _details(value) -> dict:
    import json

    if isinstance(value, dict):
        return value
    try:
        return json.loads(value) if isinstance(value, str) and value else {}
    except json.JSONDecodeError:
        return {}


def check_standard_values(rows: pd.DataFrame) -> list[float]:
    """The check standard's window medians (seconds) of every ok time point of a run."""
    timing = rows[(rows["metric"] == "latency_per_image") & (rows["status"] == "ok")]
    out = []
    for details in timing["details"]:
        out += [v for v in _details(details).get("window_check_s", []) if v]
    return out


@dataclass(frozen=True)
class CheckStandardSummary:
    """A run's check standard: its median (seconds per call), spread (a fraction) and windows."""

    median_s: float
    spread: float
    windows: int

    def text(self) -> str:
        if not self.windows:
            return "no check standard in this run (measured before it existed)"
        return (f"this machine's speed varied ±{100 * self.spread:.1f} % during the run (the check standard over "
                f"{self.windows} windows: 1.96 robust SDs; median {1e3 * self.median_s:.3f} ms per call)")


def check_standard_summary(rows: pd.DataFrame) -> CheckStandardSummary:
    """The check standard over a run's windows (helpers.measure.check_standard.check_spread)."""
    import statistics

    from helpers.measure.check_standard import check_spread

    values = check_standard_values(rows)
    if not values:
        return CheckStandardSummary(math.nan, math.nan, 0)
    return CheckStandardSummary(statistics.median(values), check_spread(values), len(values))


def normalised_values(rows: pd.DataFrame, metric: str = "latency_per_image") -> pd.DataFrame:
    """The rows with each time point divided by its windows' check standard (the median over windows of
    window median / window check, x the run's median check): a labelled alternative, never the raw value."""
    import statistics

    out = rows.copy()
    checks = check_standard_values(rows)
    if not checks:
        return out.iloc[0:0]
    run_check = statistics.median(checks)
    keep = []
    for i, row in out.iterrows():
        if row["metric"] != metric or row["status"] != "ok":
            continue
        d = _details(row["details"])
        pairs = [(m, c) for m, c in zip(d.get("window_medians_s", []), d.get("window_check_s", [])) if m and c]
        if len(pairs) < 2:
            continue
        from helpers.core.stats import window_interval

        centre, low, high, _ = window_interval([m / c * run_check for m, c in pairs])
        b = row["batch_size"]
        out.loc[i, ["value", "ci_low", "ci_high"]] = [centre / b, low / b, high / b]
        keep.append(i)
    return out.loc[keep]


def normalised_summary(rows: pd.DataFrame, metric: str = "latency_per_image") -> str:
    """One sentence: the median 95 % half-width of ``metric``'s points, raw and normalised by the check
    standard (:func:`normalised_values`), over the points that have both; or why there is no normalised figure."""
    normalised = normalised_values(rows, metric)
    if normalised.empty:
        return ("No normalised figure: this run stored no check standard per window (it was measured before the "
                "check standard existed, or with too few windows).")

    def half_widths(frame: pd.DataFrame) -> pd.Series:
        frame = _points(frame, metric)
        return ((frame["ci_high"] - frame["ci_low"]) / 2 / frame["value"]).dropna()

    raw, norm = half_widths(rows), half_widths(normalised)
    common = raw.index.intersection(norm.index)
    return (f"Normalised by the check standard, the median 95 % half-width of the {len(common)} points is "
            f"+-{100 * norm[common].median():.1f} %, against +-{100 * raw[common].median():.1f} % raw: the share "
            f"of the spread that is the machine's own drift, which a normalised figure takes out and a raw one "
            f"keeps (the raw figure is the one every claim uses).")


def compare_with_reference(rows: pd.DataFrame, reference: pd.DataFrame, reference_name: str) -> list[str]:
    """Sentences comparing this run with a recorded run of the same machine type: the check standard's
    ratio, the median difference of the time points, and both runs' coverage of each other (time, memory)."""
    lines = []
    this, ref = check_standard_summary(rows), check_standard_summary(reference)
    if this.windows and ref.windows:
        ratio = this.median_s / ref.median_s
        way = "slower" if ratio >= 1 else "faster"
        lines.append(f"the machine ran {100 * abs(ratio - 1):.1f} % {way} than for the recorded run {reference_name} "
                     f"(check standard {1e3 * this.median_s:.3f} ms against {1e3 * ref.median_s:.3f} ms)")
    else:
        lines.append(f"no check-standard comparison with {reference_name}: one of the runs has no check standard")
    for metric in ("latency_per_image", "memory_peak"):
        cov = coverage(rows, reference, metric)
        if cov.points:
            signed = "" if metric != "latency_per_image" else (
                f"; this run's times are {100 * abs(cov.median_signed_diff):.1f} % "
                f"{'slower' if cov.median_signed_diff >= 0 else 'faster'} at the median")
            lines.append(f"against {reference_name}, {cov.text()}{signed}")
    return lines


def recorded_reference(device_tag: str, root=None) -> tuple[pd.DataFrame | None, str]:
    """The latest recorded run of the same machine type (the same device tag) under ``root`` (default
    ``helpers.core.paths.RECORDED_DIR``): ``(rows, name)``, or ``(None, "")`` when there is none."""
    from helpers.core.paths import RECORDED_DIR
    from helpers.store.results import load_results

    rows = load_results(root if root is not None else RECORDED_DIR, [device_tag])
    if rows.empty:
        return None, ""
    return rows, f"`{device_tag}` (fingerprint {rows['fingerprint'].iloc[0]})"


def run_report(rows: pd.DataFrame, reference: pd.DataFrame | None = None, reference_name: str = "") -> list[str]:
    """What the command line, ``make reproduce`` and lesson 4 print after a run: its summary
    (helpers.measure.sweep.summarise), the check standard's spread, and the comparison with a recorded
    run of the same machine type where one is given (:func:`recorded_reference`)."""
    from helpers.measure.sweep import summarise

    lines = summarise(rows).lines() + [check_standard_summary(rows).text()]
    if reference is not None and not reference.empty:
        copied = _copied_rows(rows, reference)
        if copied.all():
            lines.append(f"these rows are the recorded run {reference_name} itself: no comparison")
        else:
            if copied.any():
                lines.append(f"{int(copied.sum())} of {len(rows)} rows are copies of the recorded run "
                             f"{reference_name} (the same points with the same timestamps): the comparison uses "
                             f"the other {int((~copied).sum())}")
            lines += compare_with_reference(rows[~copied], reference, reference_name)
    return lines


def _copied_rows(rows: pd.DataFrame, reference: pd.DataFrame) -> pd.Series:
    """Which of ``rows`` are rows of ``reference`` itself (a store copied from a recorded run): the same point
    and metric with the same timestamp. All False where either frame has no timestamps."""
    if "timestamp" not in rows or "timestamp" not in reference:
        return pd.Series(False, index=rows.index)
    key = ["model", "batch_size", "metric", "timestamp"]
    theirs = set(map(tuple, reference[key].astype(str).to_numpy()))
    return pd.Series([tuple(k) in theirs for k in rows[key].astype(str).to_numpy()], index=rows.index)


# --------------------------------------------------------------------------- pairing within a run
def window_medians(rows: pd.DataFrame, metric: str = "latency_per_image") -> dict[tuple[str, int], dict[int, float]]:
    """Per (model, batch_size): {round: that window's median per image} of a run's ok rows of ``metric``
    (empty for rows measured before windows were stored). The last row of a point wins."""
    out: dict[tuple[str, int], dict[int, float]] = {}
    ok = rows[(rows["metric"] == metric) & (rows["status"] == "ok")] if len(rows) else rows
    for r in ok.itertuples():
        d = _details(r.details)
        medians, rounds = d.get("window_medians_s") or [], d.get("window_rounds") or []
        if len(medians) == len(rounds) and medians:
            out[(str(r.model), int(r.batch_size))] = {int(k): float(m) / int(r.batch_size)
                                                      for k, m in zip(rounds, medians) if m and k is not None}
    return out


def paired_ratio(a: dict[int, float], b: dict[int, float]) -> tuple[float, float, float, str] | None:
    """The ratio a / b of two points measured in the same windows (rounds), paired window by window so
    that drift common to both cancels: ``window_interval`` of the per-window ratios, or None with
    fewer than 2 common windows."""
    from helpers.core.stats import window_interval

    common = sorted(set(a) & set(b))
    if len(common) < 2:
        return None
    centre, low, high, method = window_interval([a[k] / b[k] for k in common])
    return centre, low, high, f"paired by window: {method}"
