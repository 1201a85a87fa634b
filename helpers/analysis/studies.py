"""The tables and sentences of the three hardware studies (threads, numeric type, runtime), from their stores.

The studies are measured by helpers.measure.studies into ``threads.csv``, ``precision.csv`` and ``runtimes.csv``
(helpers.store.results.STUDY_FILES). A ratio of two points carries a 95 % interval in closed form, each point
log-normal with its own interval; a ranking's Kendall tau one from a bootstrap over the networks. Units: seconds
per image, MB (10**6 bytes).
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from helpers.analysis.evidence import is_left_out, point_table

__all__ = ["study_results", "threads_table", "dtype_table", "runtimes_table", "fastest_runtimes", "runtime_ranking",
           "threads_summary", "dtype_summary", "runtimes_summary", "same_point_table", "same_point_summary"]


def study_results(study: str, root: Path | str | None = None, device_tag: str | None = None,
                  models=None) -> pd.DataFrame:
    """The latest run of every setting of ``study`` ("threads", "precision" or "runtimes") for ``device_tag``;
    only ``models`` (names or presets) where given."""
    from helpers.store.results import load_results
    from helpers.models.zoo import resolve_models

    if study not in ("threads", "precision", "runtimes"):
        raise ValueError(f"unknown study {study!r}: valid studies are threads, precision, runtimes")
    rows = load_results(root, [device_tag] if device_tag else None, study=study)
    if models is not None:
        rows = rows[rows["model"].isin({spec.name for spec in resolve_models(models)})].reset_index(drop=True)
    return rows


def _ratio(num: pd.DataFrame, den: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """den/num of per-image times, row by row, with a 95 % interval in closed form: both points log-normal
    (helpers.analysis.fits.log_sd), so the ratio's log sd is the two summed in quadrature. Each row's interval
    is its own, whatever else the table holds."""
    from scipy import stats

    from helpers.analysis.fits import log_sd
    from helpers.core.stats import CONFIDENCE

    z = stats.norm.ppf((1 + CONFIDENCE) / 2)
    est = den["value"].to_numpy(float) / num["value"].to_numpy(float)
    spread = np.exp(z * np.hypot(log_sd(den["ci_low"], den["ci_high"]), log_sd(num["ci_low"], num["ci_high"])))
    return est, est / spread, est * spread


def _points_by(results: pd.DataFrame, column: str, device_tag: str | None) -> pd.DataFrame:
    frames = []
    for setting, rows in results.groupby(column):
        t = point_table(rows, "latency_per_image", device_tag)
        m = point_table(rows, "memory_peak", device_tag)[["model", "batch_size", "value"]]
        t = t.merge(m.rename(columns={"value": "peak_mb"}), on=["model", "batch_size"], how="left")
        frames.append(t.assign(**{column: setting}))
    if not frames:
        return pd.DataFrame(columns=["model", "batch_size", "value", "ci_low", "ci_high", "n", "flags",
                                     "peak_mb", column])
    return pd.concat(frames, ignore_index=True)


def threads_table(results: pd.DataFrame, device_tag: str | None = None) -> pd.DataFrame:
    """Per model, batch size and thread count: per-image time (s) with its interval, speed-up over
    1 thread with its interval, parallel efficiency (speed-up / threads) and peak memory (MB).

    Points flagged contended or unstable are left out (``attrs["left_out"]`` names them).
    """
    points = _points_by(results, "threads", device_tag)
    columns = ["model", "batch_size", "threads", "time_s", "time_ci_low", "time_ci_high", "n", "speedup",
               "speedup_ci_low", "speedup_ci_high", "efficiency", "peak_mb", "flags"]
    if points.empty:
        return pd.DataFrame(columns=columns)
    points["threads"] = points["threads"].astype(int)
    dropped = points["flags"].map(is_left_out).astype(bool)
    left_out = [f"{r.model}@{r.batch_size} {r.threads} thread(s) ({r.flags})" for r in points[dropped].itertuples()]
    points = points[~dropped]
    out = []
    for (model, batch), rows in points.groupby(["model", "batch_size"]):
        one = rows[rows["threads"] == 1]
        rows = rows.sort_values("threads")
        if one.empty:
            est = lo = hi = np.full(len(rows), np.nan)
        else:
            base = pd.concat([one.iloc[[0]]] * len(rows), ignore_index=True)
            est, lo, hi = _ratio(rows.reset_index(drop=True), base)
            single = rows["threads"].to_numpy() == 1  # the reference itself: exactly 1, no interval
            est, lo, hi = np.where(single, 1.0, est), np.where(single, np.nan, lo), np.where(single, np.nan, hi)
        out.append(pd.DataFrame({
            "model": model, "batch_size": int(batch), "threads": rows["threads"].to_numpy(),
            "time_s": rows["value"].to_numpy(), "time_ci_low": rows["ci_low"].to_numpy(),
            "time_ci_high": rows["ci_high"].to_numpy(), "n": rows["n"].to_numpy(), "speedup": est,
            "speedup_ci_low": lo, "speedup_ci_high": hi, "efficiency": est / rows["threads"].to_numpy(),
            "peak_mb": rows["peak_mb"].to_numpy(), "flags": rows["flags"].to_numpy()}))
    table = pd.concat(out, ignore_index=True)[columns].sort_values(["model", "batch_size", "threads"],
                                                                      ignore_index=True) if out else \
        pd.DataFrame(columns=columns)  # every point left out
    table.attrs["left_out"] = left_out
    return table


def dtype_table(results: pd.DataFrame, device_tag: str | None = None) -> pd.DataFrame:
    """Per model, batch size and precision: status (ok, or why not measured), per-image time (s) with
    its interval, speed-up over fp32 with its interval, peak memory (MB) and its ratio to fp32.

    Every row says "accuracy not re-measured": a faster type may be a less accurate network.
    """
    from helpers.measure.dtypes import DTYPE_NAMES, NOT_RE_MEASURED

    precision_of = {name: precision for precision, name in DTYPE_NAMES.items()}

    columns = ["model", "batch_size", "precision", "status", "reason", "time_s", "time_ci_low", "time_ci_high",
               "n", "speedup", "speedup_ci_low", "speedup_ci_high", "peak_mb", "memory_ratio", "flags", "accuracy"]
    if results.empty:
        return pd.DataFrame(columns=columns)
    rows = results[results["metric"] == "latency_per_image"]
    if device_tag is not None:
        rows = rows[rows["device_tag"] == device_tag]
    status = rows.drop_duplicates(["model", "batch_size", "dtype"], keep="last")[
        ["model", "batch_size", "dtype", "status", "reason"]].copy()
    status["batch_size"] = status["batch_size"].astype(int)
    points = _points_by(results, "dtype", device_tag)
    table = status.merge(points, on=["model", "batch_size", "dtype"], how="left")
    table["flags"] = table["flags"].fillna("").astype(str)
    left = table["flags"].map(is_left_out) & (table["status"] == "ok")
    table.loc[left, ["value", "ci_low", "ci_high"]] = np.nan
    table.loc[left, "status"] = "left out"
    table.loc[left, "reason"] = "flagged " + table.loc[left, "flags"]
    table["precision"] = table["dtype"].map(precision_of).fillna(table["dtype"])
    base = table.loc[table["precision"] == "fp32", ["model", "batch_size", "value", "ci_low", "ci_high", "peak_mb"]]
    table = table.merge(base.add_prefix("fp32_").rename(columns={"fp32_model": "model",
                                                                 "fp32_batch_size": "batch_size"}),
                        on=["model", "batch_size"], how="left")
    est = lo = hi = np.full(len(table), np.nan)
    both = (np.isfinite(table["value"].to_numpy(float)) & np.isfinite(table["fp32_value"].to_numpy(float))
            & (table["precision"] != "fp32").to_numpy())
    if both.any():
        rows = table[both]
        fp32 = rows[["fp32_value", "fp32_ci_low", "fp32_ci_high"]].set_axis(["value", "ci_low", "ci_high"], axis=1)
        est, lo, hi = est.copy(), lo.copy(), hi.copy()
        est[both], lo[both], hi[both] = _ratio(rows, fp32)
    est = np.where(table["precision"] == "fp32", 1.0, est)  # the reference itself: exactly 1, no interval
    mem = (table["peak_mb"] / table["fp32_peak_mb"]).where(table["value"].notna() & table["fp32_value"].notna())
    table = table.assign(time_s=table["value"], time_ci_low=table["ci_low"], time_ci_high=table["ci_high"],
                         speedup=est, speedup_ci_low=lo, speedup_ci_high=hi, memory_ratio=mem,
                         accuracy=NOT_RE_MEASURED)
    table["reason"] = table["reason"].fillna("").astype(str).where(table["status"] != "ok", "")
    table["reason"] = table["reason"].replace({"<NA>": "", "nan": ""})
    order = {p: i for i, p in enumerate(DTYPE_NAMES)}
    table = table.sort_values(["model", "batch_size", "precision"], key=lambda s: s.map(order)
                              if s.name == "precision" else s, ignore_index=True)
    return table[columns]


def runtimes_table(results: pd.DataFrame, device_tag: str | None = None) -> pd.DataFrame:
    """Per model, batch size and runtime (the runtimes study, helpers.measure.runtimes): status (ok, or the
    runtime's reason), per-image time (s) with its interval, speed-up over eager with its interval (both points
    log-normal with their own intervals, in closed form), the conversion time (s; for torch.compile, over the windows whose graph
    Inductor's cache held) and ``conversion_cold_s``, the median of the cold compilations (NaN where none), and
    the output's agreement with eager's (the largest difference over eager's largest output; NaN with
    ``agreement_note`` saying why where it was not compared). Points flagged
    contended or unstable are "left out"."""
    import json

    from helpers.measure.runtimes import RUNTIMES

    columns = ["model", "batch_size", "runtime", "status", "reason", "time_s", "time_ci_low", "time_ci_high", "n",
               "speedup", "speedup_ci_low", "speedup_ci_high", "conversion_s", "conversion_cold_s", "agreement",
               "agreement_note", "flags"]
    if results.empty or "runtime" not in results.columns:
        return pd.DataFrame(columns=columns)
    rows = results if device_tag is None else results[results["device_tag"] == device_tag]
    latency = rows[rows["metric"] == "latency_per_image"].drop_duplicates(["model", "batch_size", "runtime"],
                                                                          keep="last")
    if latency.empty:
        return pd.DataFrame(columns=columns)
    table = latency[["model", "batch_size", "runtime", "status", "reason", "value", "ci_low", "ci_high", "n",
                     "flags"]].copy()
    table["batch_size"] = table["batch_size"].astype(int)
    table["flags"] = table["flags"].fillna("").astype(str)
    details = [json.loads(d) if isinstance(d, str) and d else {} for d in latency["details"]]
    table["agreement"] = [d.get("agreement_max", np.nan) for d in details]
    table.loc[table["runtime"] == "eager", "agreement"] = 0.0  # eager is the reference
    table["agreement_note"] = [d.get("agreement_unchecked", "") for d in details]
    conv = rows[(rows["metric"] == "conversion_time") & (rows["status"] == "ok")]
    conv = conv.drop_duplicates(["model", "batch_size", "runtime"], keep="last")
    cold = [json.loads(d).get("cold_seconds") if isinstance(d, str) and d else None for d in conv["details"]]
    conv = conv.assign(conversion_cold_s=[float(np.median(c)) if c else np.nan for c in cold])[
        ["model", "batch_size", "runtime", "value", "conversion_cold_s"]].rename(columns={"value": "conversion_s"})
    conv["batch_size"] = conv["batch_size"].astype(int)
    table = table.merge(conv, on=["model", "batch_size", "runtime"], how="left")
    left = table["flags"].map(is_left_out) & (table["status"] == "ok")
    table.loc[left, ["value", "ci_low", "ci_high"]] = np.nan
    table.loc[left, "status"] = "left out"
    table.loc[left, "reason"] = "flagged " + table.loc[left, "flags"]
    base = table.loc[(table["runtime"] == "eager") & (table["status"] == "ok"),
                     ["model", "batch_size", "value", "ci_low", "ci_high"]]
    table = table.merge(base.rename(columns={"value": "eager_value", "ci_low": "eager_ci_low",
                                             "ci_high": "eager_ci_high"}), on=["model", "batch_size"], how="left")
    est = np.full(len(table), np.nan)
    lo, hi = est.copy(), est.copy()
    both = (np.isfinite(table["value"].to_numpy(float)) & np.isfinite(table["eager_value"].to_numpy(float))
            & (table["runtime"] != "eager").to_numpy())
    if both.any():
        sub = table[both]
        eager = sub[["eager_value", "eager_ci_low", "eager_ci_high"]].set_axis(["value", "ci_low", "ci_high"], axis=1)
        est[both], lo[both], hi[both] = _ratio(sub, eager)
    est = np.where((table["runtime"] == "eager") & table["value"].notna(), 1.0, est)
    table = table.assign(time_s=table["value"], time_ci_low=table["ci_low"], time_ci_high=table["ci_high"],
                         speedup=est, speedup_ci_low=lo, speedup_ci_high=hi)
    table["reason"] = table["reason"].fillna("").astype(str).where(table["status"] != "ok", "")
    order = {r: i for i, r in enumerate(RUNTIMES)}
    table = table.sort_values(["model", "batch_size", "runtime"], key=lambda c: c.map(order)
                              if c.name == "runtime" else c, ignore_index=True)
    return table[columns]


def fastest_runtimes(table: pd.DataFrame) -> pd.DataFrame:
    """Per model and batch of :func:`runtimes_table`: the fastest runtime, its speed-up over eager, and whether
    its interval lies apart from every other runtime's (``clear``: else the lead is within the noise)."""
    columns = ["model", "batch_size", "fastest", "speedup", "speedup_ci_low", "speedup_ci_high", "clear"]
    if table.empty:
        return pd.DataFrame(columns=columns)
    ok = table[(table["status"] == "ok") & table["time_s"].notna()]
    out = []
    for (model, batch), rows in ok.groupby(["model", "batch_size"]):
        best = rows.loc[rows["time_s"].idxmin()]
        others = rows[rows["runtime"] != best["runtime"]]
        clear = bool(len(others)) and bool((others["time_ci_low"] > best["time_ci_high"]).all())
        out.append({"model": model, "batch_size": int(batch), "fastest": best["runtime"], "speedup": best["speedup"],
                    "speedup_ci_low": best["speedup_ci_low"], "speedup_ci_high": best["speedup_ci_high"],
                    "clear": clear})
    return pd.DataFrame(out, columns=columns)


# --------------------------------------------------------------------------- sentences for the lesson
def _range(values, fmt: str = "{:.2f}") -> str:
    values = [v for v in values if np.isfinite(v)]
    if not values:
        return "-"
    lo, hi = min(values), max(values)
    return fmt.format(lo) if math.isclose(lo, hi) else f"{fmt.format(lo)} to {fmt.format(hi)}"


def threads_summary(table: pd.DataFrame) -> str:
    """What the threads study shows, in sentences computed from :func:`threads_table`."""
    most = table[table["threads"] == table["threads"].max()] if len(table) else table
    if not len(most) or int(most["threads"].iloc[0]) == 1:
        return "The threads study holds no run beyond 1 thread: nothing to say about parallel speed-up."
    n = int(most["threads"].iloc[0])
    parts = []
    for batch, rows in most.groupby("batch_size"):
        slower = rows[rows["speedup_ci_high"] < 1]
        gained = rows[rows["speedup_ci_low"] > 1]
        parts.append(f"at batch {batch}, {n} threads run {_range(rows['speedup'])}x as fast as 1 "
                     f"(parallel efficiency {_range(100 * rows['efficiency'], '{:.0f}')} %; "
                     f"{len(gained)} of {len(rows)} models faster beyond their 95 % interval"
                     + (f", {len(slower)} slower" if len(slower) else "") + ")")
    left = table.attrs.get("left_out") or []
    return "; ".join(parts).capitalize() + "." + (f" Left out as flagged: {', '.join(left)}." if left else "")


def _beyond_one(ok: pd.DataFrame) -> tuple[int, int]:
    """How many speed-ups are above 1 and how many below 1 beyond their 95 % interval."""
    return int((ok["speedup_ci_low"] > 1).sum()), int((ok["speedup_ci_high"] < 1).sum())


def dtype_summary(table: pd.DataFrame) -> str:
    """What the precision study shows, in sentences computed from :func:`dtype_table`: speed-ups of
    each measured type over fp32, its memory, and every type not measured with its reason."""
    if not len(table):
        return "The precision study holds no rows."
    out = []
    others = table[table["precision"] != "fp32"]
    for (prec, batch), rows in others.groupby(["precision", "batch_size"], sort=False):
        ok = rows[(rows["status"] == "ok") & rows["speedup"].notna()]
        if not len(ok):
            continue
        faster, slower = _beyond_one(ok)
        out.append(f"{prec} at batch {batch}: {_range(ok['speedup'])}x the speed of fp32 over {len(ok)} models "
                   f"({faster} faster and {slower} slower beyond their 95 % interval), peak memory "
                   f"{_range(ok['memory_ratio'])} of fp32's.")
    for prec, rows in others[others["status"] != "ok"].groupby("precision", sort=False):
        rows = rows.drop_duplicates("model")
        # a reason that names its network ("no quantisable version of AlexNet") is said once for all of them
        general = [str(r).replace(m, "the network") for r, m in zip(rows["reason"], rows["model"])]
        reasons = rows.assign(reason=general).groupby("reason", sort=False)["model"].apply(list)
        for reason, models in reasons.items():
            shown = ", ".join(models[:5]) + (f" and {len(models) - 5} more" if len(models) > 5 else "")
            out.append(f"{prec} not measured for {shown}: {reason}.")
    out.append("Accuracy is not re-measured in any other type: a faster type may be a less accurate network.")
    return " ".join(out)


#: How the lesson and the summary name each runtime.
RUNTIME_NAMES = {"eager": "PyTorch eager", "compile": "torch.compile", "onnxruntime": "ONNX Runtime",
                 "openvino": "OpenVINO"}


def _tau_b(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Kendall's tau-b of each row of two (draws x networks) matrices (NaN where a row is all ties)."""
    i, j = np.triu_indices(a.shape[1], k=1)
    sa, sb = np.sign(a[:, i] - a[:, j]), np.sign(b[:, i] - b[:, j])
    with np.errstate(divide="ignore", invalid="ignore"):
        return (sa * sb).sum(axis=1) / np.sqrt((sa * sa).sum(axis=1) * (sb * sb).sum(axis=1))


def runtime_ranking(table: pd.DataFrame) -> pd.DataFrame:
    """Does a runtime reorder the networks? Per batch size and runtime other than eager, over the networks measured
    by both: Kendall's tau (tau-b) between their order by per-image time in eager and through the runtime, with the
    central 95 % of 2000 bootstrap resamples of the networks (``tau_ci_low``, ``tau_ci_high``: how much the figure
    depends on which networks were measured); the pairs in the other order (``flipped_pairs``) and how many of
    them lie apart beyond both points' 95 % intervals in eager and through the runtime (``flipped_beyond_noise``:
    reorderings larger than the noise those intervals describe). Columns: batch_size, runtime, n, tau, tau_ci_low, tau_ci_high,
    flipped_pairs, flipped_beyond_noise."""
    from helpers.analysis.fits import RESAMPLES, percentile_interval

    columns = ["batch_size", "runtime", "n", "tau", "tau_ci_low", "tau_ci_high", "flipped_pairs",
               "flipped_beyond_noise"]
    ok = table[(table["status"] == "ok") & table["time_s"].notna()] if len(table) else table
    out = []
    for batch, rows in (ok.groupby("batch_size") if len(ok) else []):
        wide = {c: rows.pivot_table(index="model", columns="runtime", values=c)
                for c in ("time_s", "time_ci_low", "time_ci_high")}
        times = wide["time_s"]
        for runtime in [r for r in times.columns if r != "eager"] if "eager" in times.columns else []:
            pair = times[["eager", runtime]].dropna()
            if len(pair) < 3:
                continue
            a, b = pair["eager"].to_numpy(float), pair[runtime].to_numpy(float)
            lo = {c: wide["time_ci_low"].loc[pair.index, c].to_numpy(float) for c in ("eager", runtime)}
            hi = {c: wide["time_ci_high"].loc[pair.index, c].to_numpy(float) for c in ("eager", runtime)}
            i, j = np.triu_indices(len(a), k=1)
            flipped = (a[i] - a[j]) * (b[i] - b[j]) < 0

            def apart(c):  # the two networks' intervals do not overlap
                return (lo[c][i] > hi[c][j]) | (lo[c][j] > hi[c][i])

            resampled = np.random.default_rng(0).integers(0, len(a), (RESAMPLES, len(a)))
            tau_low, tau_high = percentile_interval(_tau_b(a[resampled], b[resampled]))
            out.append({"batch_size": int(batch), "runtime": runtime, "n": len(pair),
                        "tau": float(_tau_b(a[None, :], b[None, :])[0]), "tau_ci_low": tau_low, "tau_ci_high": tau_high,
                        "flipped_pairs": int(flipped.sum()),
                        "flipped_beyond_noise": int((flipped & apart("eager") & apart(runtime)).sum())})
    return pd.DataFrame(out, columns=columns)


def runtimes_summary(table: pd.DataFrame) -> str:
    """What the runtimes study shows, in sentences computed from :func:`runtimes_table`: each runtime's
    speed-up over eager per batch (how many networks faster or slower beyond their 95 % interval), which
    runtime is fastest, whether the networks' order changes, conversion costs, output agreement, and every
    network a runtime could not take, with its reason."""
    if not len(table) or not (table["runtime"] != "eager").any():
        return "The runtimes study holds no runtime beside eager: nothing to compare."
    name = RUNTIME_NAMES.get
    out = []
    others = table[table["runtime"] != "eager"]
    for (batch, runtime), rows in others.groupby(["batch_size", "runtime"], sort=True):
        ok = rows[(rows["status"] == "ok") & rows["speedup"].notna()]
        if not len(ok):
            continue
        faster, slower = _beyond_one(ok)
        out.append(f"At batch {batch}, {name(runtime, runtime)} ran {_range(ok['speedup'])}x eager's speed over "
                   f"{len(ok)} networks ({faster} faster and {slower} slower beyond their 95 % interval, "
                   f"median {ok['speedup'].median():.2f}x).")
    best = fastest_runtimes(table)
    for batch, rows in best.groupby("batch_size"):
        counts = rows.groupby("fastest", sort=False).agg(n=("model", "size"), clear=("clear", "sum"))
        counts = counts.sort_values("n", ascending=False)
        said = ", ".join(f"{name(r, r)} for {int(c.n)} ({int(c.clear)} beyond every other runtime's interval)"
                         for r, c in counts.iterrows())
        out.append(f"Fastest at batch {batch}: {said}.")
    for r in runtime_ranking(table).itertuples():
        out.append(f"The networks' order by time at batch {r.batch_size} through {name(r.runtime, r.runtime)} "
                   f"against eager's: Kendall's tau {r.tau:.2f} [{r.tau_ci_low:.2f}, {r.tau_ci_high:.2f}] over "
                   f"{r.n} networks, {r.flipped_pairs} of {r.n * (r.n - 1) // 2} pairs in the other order, "
                   f"{r.flipped_beyond_noise} of them beyond both points' intervals.")
    conv = others[others["conversion_s"].notna()]
    for runtime, rows in conv.groupby("runtime", sort=False):
        cold = rows["conversion_cold_s"].dropna()
        out.append(f"{name(runtime, runtime)} took {_range(rows['conversion_s'], '{:.1f}')} s to convert a network"
                   + (f" ({_range(cold, '{:.1f}')} s the first time, before its cache held the graph)"
                      if len(cold) else "") + ".")
    agree = others.loc[others["status"] == "ok", "agreement"].dropna()
    if len(agree):
        out.append(f"Every output it timed was within {agree.max():.1e} of eager's largest output "
                   f"(tolerance {_tolerance():g}).")
    unchecked = others[(others["status"] == "ok") & (others["agreement_note"] != "")]
    for note, rows in unchecked.groupby("agreement_note", sort=False):
        out.append(f"Outputs of {', '.join(dict.fromkeys(rows['model']))} are {note}.")
    for runtime, rows in others[~others["status"].isin(["ok"])].groupby("runtime", sort=False):
        rows = rows.drop_duplicates("model")
        general = [str(r).replace(m, "the network") for r, m in zip(rows["reason"], rows["model"])]
        reasons = rows.assign(reason=general).groupby("reason", sort=False)["model"].apply(list)
        for reason, models in reasons.items():
            shown = ", ".join(models[:5]) + (f" and {len(models) - 5} more" if len(models) > 5 else "")
            out.append(f"{name(runtime, runtime)} has no time for {shown}: {reason}.")
    return " ".join(out)


def _tolerance() -> float:
    from helpers.measure.runtimes import AGREEMENT_TOLERANCE

    return AGREEMENT_TOLERANCE


def same_point_table(sweep: pd.DataFrame, threads: pd.DataFrame, precision: pd.DataFrame, model: str,
                     batch_size: int, n_threads: int, device_tag: str | None = None) -> pd.DataFrame:
    """One point (``model`` at ``batch_size``, fp32, ``n_threads`` threads) as each part of a run measured it:
    the batch sweep (``sweep``, results rows), the threads study and the precision study (their rows).
    Columns: measured_by, value, ci_low, ci_high (s per image), n, flags; a study without the point is left out."""
    sources = (("the batch sweep (Lesson 4)", sweep, None),
               (f"the threads study ({n_threads} threads)", threads, ("threads", n_threads)),
               ("the precision study (fp32)", precision, ("dtype", "float32")))
    rows = []
    for name, frame, setting in sources:
        if frame is None or not len(frame):
            continue
        if setting is not None:
            column, value = setting
            if column not in frame.columns:
                continue
            frame = frame[frame[column].astype(str) == str(value)]
        points = point_table(frame, "latency_per_image", device_tag)
        hit = points[(points["model"] == model) & (points["batch_size"] == batch_size)]
        if len(hit):
            r = hit.iloc[-1]
            rows.append({"measured_by": name, "value": r["value"], "ci_low": r["ci_low"], "ci_high": r["ci_high"],
                         "n": r["n"], "flags": r["flags"]})
    return pd.DataFrame(rows, columns=["measured_by", "value", "ci_low", "ci_high", "n", "flags"])


def same_point_summary(table: pd.DataFrame, model: str, batch_size: int) -> str:
    """What to notice in :func:`same_point_table`: each measurement with its interval, and whether all the
    intervals share a value (one band holds them all) or not."""
    if len(table) < 2:
        return f"{model} at batch {batch_size} was measured once in this run: nothing to compare."
    parts = [f"{1e3 * r.value:.1f} ms [{1e3 * r.ci_low:.1f}, {1e3 * r.ci_high:.1f}] in {r.measured_by}"
             for r in table.itertuples()]
    shared = table["ci_low"].max() <= table["ci_high"].min()
    return (f"{model} at batch {batch_size} was timed {len(table)} times in this run, each a separate measurement "
            f"at another time: {'; '.join(parts)}. "
            + ("One band holds all the intervals: the numbers differ by no more than re-measuring gives."
               if shared else "No single value lies inside every interval: the machine moved between these "
                              "measurements by more than each one's windows saw, so compare numbers from the "
                              "same part of a run."))
