"""The measurement engine: time and memory of every (model, batch) point in one sweep.

Design (the worker side is helpers.measure.worker):

* **Workers.** A ``forkserver`` process imports torch once and has never run a
  forward pass. For each round and model it forks a *worker* that builds the
  model (static memory: peak resident memory after building, above the
  worker's baseline) and then, for each batch size, forks a *point child*
  (CPU) that resets the peak (``/proc/self/clear_refs``), runs the warm-up
  pass (whose peak above the baseline is the batch's peak memory) and the
  timed passes, and reports back. Forking a child per batch from a process
  that has not started an OpenMP pool costs milliseconds where a fresh
  interpreter per point cost seconds, and gives each batch a clean peak. On
  CUDA the worker measures every batch itself (a CUDA context cannot cross a
  fork), with the allocator's peak counters.
* **Rounds and windows.** Each point is visited in at least ``rounds`` rounds;
  every round visits the models, and each model's batch sizes, in an order
  shuffled with a seeded generator, so each visit is a *window*: another
  process at another time of the sweep. Rounds after the planned ones make up
  for windows set aside (and, if asked, for intervals still wider than the
  target), up to ``max_rounds``.
* **Warm-up.** In each process a point first runs ``warmup_s`` seconds of
  passes (at least one): a fresh process's first passes are slow (caches,
  allocator, the back ends' kernel choices). A pass of ``slow_pass_s`` or more
  has one warm-up pass, timed and counted as a sample: start-up costs are a
  few percent of such a pass (``details.first_pass_over_median`` says how
  much, point by point), and three passes per point are what fits the sweep.
* **Intervals.** A sample is one forward pass, or a block of passes of at
  least 20 ms, averaged. A point's value is the geometric mean of its windows'
  medians and its 95 % interval a Student-t interval on their logarithms
  (``helpers.core.stats.window_interval``): what a re-run gives. Beside it, the
  within-window interval of the pooled samples (the instrument's precision):
  order-statistic (``scipy.stats.quantile_test``) from 6 samples, else t on
  the logarithms; the reproducibility interval is never narrower.
* **Check standard.** Every point child times a fixed workload after its
  passes (``helpers.measure.check_standard``); a window whose value is off
  beyond the sweep's usual spread is set aside like a contended one.
* **Contention.** Around each visit's timed passes the point child reads the
  CPU time of every core it may run on (``/proc/stat``) and its own CPU time;
  what other processes used (and a hypervisor's steal) as a share of the
  cores is the visit's contention. A contended visit's samples are set
  aside and the point is measured again in a later round; if too few clean
  samples remain, the contended ones are used and the point is flagged.
* **Flags.** ``unstable``: a sample over 3x the median (as pyperf warns);
  ``imprecise``: the interval is wider than ``imprecise_above`` of the value;
  ``contended``: see above.

Every visit is journalled (``.partial-<fingerprint>.jsonl`` beside the store)
as it returns, so an interrupted sweep resumes without repeating visits; a
point's row is written once its last round is done.
"""
from __future__ import annotations

import json
import math
import os
import random
import signal
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from helpers.core.procfs import CpuReading
from helpers.core.stats import median_interval, window_interval
from helpers.measure.check_standard import check_is_off
from helpers.measure.profiles import EngineSettings
from helpers.measure.worker import MIN_BLOCK_S, _context, _worker

__all__ = ["relative_half_width", "is_unstable", "contention",
           "PointState", "run_sweep"]


# --------------------------------------------------------------------------- statistics
def relative_half_width(median: float, low: float, high: float) -> float:
    """The interval's larger distance from the median, as a fraction of it (inf without an interval)."""
    if not (math.isfinite(low) and math.isfinite(high)) or median <= 0:
        return math.inf
    return max(median - low, high - median) / median


def is_unstable(samples: Iterable[float], factor: float = 3.0) -> bool:
    """Whether any sample exceeds ``factor`` times the median (pyperf's warning)."""
    import statistics

    xs = list(samples)
    return bool(xs) and max(xs) > factor * statistics.median(xs)


# --------------------------------------------------------------------------- contention
def contention(before: dict | CpuReading | None, after: dict | CpuReading | None) -> float:
    """Share of our cores (0-1) that other processes and steal used between two readings; NaN without readings."""
    if before is None or after is None:
        return math.nan
    b = before if isinstance(before, CpuReading) else CpuReading(**before)
    a = after if isinstance(after, CpuReading) else CpuReading(**after)
    wall = a.wall_s - b.wall_s
    if wall <= 0:
        return math.nan
    others = max(0.0, (a.busy_s - b.busy_s) - (a.own_s - b.own_s)) + max(0.0, a.steal_s - b.steal_s)
    return min(1.0, others / (wall * a.cores))


# --------------------------------------------------------------------------- peak memory


# --------------------------------------------------------------------------- one visit


# --------------------------------------------------------------------------- orchestration
@dataclass
class PointState:
    """What the sweep knows of one (model, batch) point: its visits, one per window."""

    model: str
    batch: int
    visits: list[dict] = field(default_factory=list)   # every visit's result, in order
    static: dict | None = None                          # the worker's static memory (latest window)
    statics: list[dict] = field(default_factory=list)   # the static memory of every window's worker

    @property
    def failed(self) -> dict | None:
        """The first visit that did not measure (skipped or error), if any."""
        return next((v for v in self.visits if v.get("status") != "ok"), None)

    @staticmethod
    def set_aside(visit: dict, share: float) -> bool:
        """Whether a visit's window is set aside: contended beyond ``share``, or its check standard off."""
        return bool(visit.get("contended_share", 0) and visit["contended_share"] > share) or \
            bool(visit.get("check_off"))

    def samples(self, share: float, clean_only: bool = True) -> list[float]:
        return [s for v in self.visits if v.get("status") == "ok" and v.get("samples")
                and (not clean_only or not self.set_aside(v, share)) for s in v["samples"]]

    def windows(self, share: float, clean_only: bool = True) -> list[dict]:
        """The ok visits with samples (set-aside windows left out when ``clean_only``), in order."""
        return [v for v in self.visits if v.get("status") == "ok" and v.get("samples")
                and (not clean_only or not self.set_aside(v, share))]

    def timed_s(self) -> float:
        return sum(sum(v["samples"]) * v.get("block", 1) for v in self.visits if v.get("status") == "ok")

    def slow(self, settings: EngineSettings) -> bool:
        """Whether passes take ``slow_pass_s`` or more: from the clean samples' median where there are
        any (a warm-up slowed by another process does not make a point slow), else from the first passes."""
        clean = self.samples(settings.contention_share)
        if clean:
            return sorted(clean)[len(clean) // 2] >= settings.slow_pass_s
        return any(v.get("first_pass_counted") for v in self.visits)

    def planned_rounds(self, settings: EngineSettings) -> int:
        """``rounds_fast`` for passes under ``fast_pass_s`` (known after the first visit), else ``rounds``."""
        firsts = [v["first_pass_s"] for v in self.visits if v.get("status") == "ok" and "first_pass_s" in v]
        if firsts and min(firsts) < settings.fast_pass_s:
            return max(settings.rounds, settings.rounds_fast)
        return settings.rounds

    def summary(self, settings: EngineSettings) -> dict:
        """The point's value and 95 % interval from its windows' medians (``window_interval``: what a
        re-run gives), the within-window interval of the pooled samples beside it (the instrument's
        precision), n (windows) and flags. Set-aside windows are used, and the point flagged
        ``contended``, only where fewer than 2 clean windows or too few clean samples remain."""
        import statistics

        share = settings.contention_share
        clean = self.samples(share)
        minimum = settings.min_passes_slow if self.slow(settings) else settings.min_passes
        flags = []
        samples, windows = clean, self.windows(share)
        if len(clean) < minimum or len(windows) < 2:
            everything = self.samples(share, clean_only=False)
            if len(everything) > len(clean):
                samples, windows = everything, self.windows(share, clean_only=False)
                flags.append("contended")
        median, low, high, method = median_interval(samples, few_samples="t-on-log")
        within_rel = relative_half_width(median, low, high)
        window_medians = [statistics.median(v["samples"]) for v in windows]
        centre, w_low, w_high, w_method = window_interval(window_medians)
        if math.isfinite(w_low) and math.isfinite(low):
            # a few windows can agree by chance: never narrower than the precision within them
            if low < w_low or high > w_high:
                w_method += ", widened to the within-window interval"
            w_low, w_high = min(w_low, low), max(w_high, high)
        rel = relative_half_width(centre, w_low, w_high)
        if is_unstable(samples):
            flags.append("unstable")
        if not rel <= settings.imprecise_above:
            flags.append("imprecise")
        return {"median": centre, "low": w_low, "high": w_high, "ci_method": w_method, "rel_half_width": rel,
                "n": len(windows), "flags": flags, "samples": samples, "window_medians": window_medians,
                "window_rounds": [v.get("round") for v in windows],
                "window_checks": [v.get("check_s") for v in windows],
                "within": {"median": median, "low": low, "high": high, "ci_method": method,
                           "rel_half_width": within_rel, "n": len(samples)}}

    def next_visit(self, settings: EngineSettings, round_index: int) -> dict | None:
        """The visit this point needs in ``round_index`` (budget and minimum samples), or None when done."""
        if self.failed is not None or round_index >= max(settings.max_rounds, self.planned_rounds(settings)):
            return None
        clean = self.samples(settings.contention_share)
        slow = self.slow(settings)
        minimum = settings.min_passes_slow if slow else settings.min_passes
        planned = self.planned_rounds(settings)
        left_rounds = max(1, planned - round_index)
        spent = self.timed_s()
        room = settings.point_cap_s - spent
        if round_index < planned:
            # Whether passes are slow is known after the first visit; plan both minimums until then.
            fast_minimum = settings.min_passes if not slow else minimum
            need_fast = max(1, math.ceil((fast_minimum - len(clean)) / left_rounds))
            need_slow = max(1, math.ceil((settings.min_passes_slow - len(clean)) / left_rounds))
            budget = settings.round_time_s
            if planned > settings.rounds:
                budget = max(settings.round_time_s * settings.rounds / planned, MIN_BLOCK_S)
            return {"budget_s": budget, "min_samples": need_fast, "min_samples_slow": need_slow,
                    "memory": True, "expected_pass_s": self.expected_pass_s(settings)}
        short_of_windows = len(self.windows(settings.contention_share)) < planned
        if len(clean) >= minimum and not short_of_windows:
            # Further rounds only make up for windows set aside (contention, the check standard); an
            # imprecise point at its cap is flagged rather than measured on.
            s = self.summary(settings)
            if s["within"]["rel_half_width"] <= settings.target_rel_ci or not settings.extra_rounds_for_width:
                return None
        if room <= 0 and len(clean) >= minimum and not short_of_windows:
            return None
        per_sample = (sorted(clean)[len(clean) // 2] if clean else 0.0) or settings.round_time_s
        if len(clean) >= 2:
            rel = min(self.summary(settings)["within"]["rel_half_width"], 1.0)
            want = math.ceil(len(clean) * ((rel / settings.target_rel_ci) ** 2 - 1))
        else:
            want = minimum
        want = max(want, minimum - len(clean), 1)
        if slow:
            want = max(minimum - len(clean), min(want, int(room // per_sample)), int(short_of_windows))
            if want <= 0:
                return None
            return {"budget_s": 0.0, "min_samples": want, "min_samples_slow": want, "memory": True,
                    "expected_pass_s": self.expected_pass_s(settings)}
        budget = max(settings.round_time_s / 4, min(want * per_sample, max(room, 0.0)))
        if short_of_windows:
            budget = max(budget, settings.round_time_s)
        return {"budget_s": budget, "min_samples": max(1, minimum - len(clean)), "min_samples_slow": 1,
                "memory": True, "expected_pass_s": self.expected_pass_s(settings)}

    def expected_pass_s(self, settings: EngineSettings) -> float | None:
        """Seconds per pass from the clean samples so far (None before any): a point child decides
        fast or slow from this rather than from its own warm-up pass, which another process may slow."""
        clean = self.samples(settings.contention_share)
        return sorted(clean)[len(clean) // 2] if clean else None


def journal_path(folder: Path, fingerprint_id: str, store: str = "results") -> Path:
    """Where a sweep of ``fingerprint_id`` into the store file named ``store`` (its stem)
    journals its visits, beside the store's files."""
    prefix = "" if store == "results" else f"{store}-"
    return folder / f".partial-{prefix}{fingerprint_id}.jsonl"


def load_journal(path: Path) -> list[dict]:
    """The visits journalled by an interrupted sweep (a cut-short last line is ignored)."""
    if not path.is_file():
        return []
    entries = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            entries.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return entries


def run_sweep(points: list[tuple[str, int]], *, device: str, threads: int, settings: EngineSettings,
              journal: Path, on_point_done: Callable[[PointState], None],
              progress: bool = True,
              desc: str = "measuring", protocol: str = "engine", precision: str = "fp32",
              runtime: str = "eager") -> list[PointState]:
    """Measure ``points`` ((model, batch) pairs) in rounds; call ``on_point_done`` as each one is final.

    ``journal`` keeps every visit of this fingerprint so an interrupted sweep
    resumes without repeating them. ``protocol`` other than "engine" times
    each visit as a comparison protocol does ("bianco": 10 dry and 10 timed
    passes; "bare": one ``blocked_autorange`` median), for the benchmark.
    ``precision`` (helpers.measure.dtypes) is the numeric type of the model and input; ``runtime``
    (helpers.measure.runtimes) what runs it. Returns every point's state.
    """
    if protocol not in ("engine", "bianco", "bare"):
        raise ValueError(f"protocol {protocol!r}: valid protocols are engine, bianco, bare")
    from tqdm.auto import tqdm

    states: dict[tuple[str, int], PointState] = {p: PointState(*p) for p in points}
    statics: dict[str, list[dict]] = {}
    checks: list[float] = []   # the check standard of every window so far, in order
    for entry in load_journal(journal):
        key = (entry.get("model"), entry.get("batch"))
        if entry.get("kind") == "static" and entry.get("model") in {m for m, _ in points}:
            statics.setdefault(entry["model"], []).append(entry)
        elif key in states:
            states[key].visits.append(entry)
        if entry.get("check_s"):
            checks.append(entry["check_s"])
    for state in states.values():
        state.statics = list(statics.get(state.model, []))
        state.static = state.statics[-1] if state.statics else None
    journal.parent.mkdir(parents=True, exist_ok=True)
    models = list(dict.fromkeys(m for m, _ in points))
    done: set[tuple[str, int]] = set()
    expected = len(points) * settings.rounds
    already = sum(min(len(s.visits), settings.rounds) for s in states.values())
    with tqdm(total=expected, initial=already, desc=desc, unit="visit", disable=not progress) as bar, \
            open(journal, "a", encoding="utf-8") as log:
        def record(entry: dict) -> None:
            log.write(json.dumps(entry) + "\n")
            log.flush()
            os.fsync(log.fileno())

        for round_index in range(max(settings.max_rounds, settings.rounds_fast)):
            rng = random.Random(f"{settings.seed}:{round_index}")
            order = models[:]
            rng.shuffle(order)
            for model in order:
                visits = []
                for (m, b), state in states.items():
                    if m != model or (m, b) in done or len(state.visits) > round_index:
                        continue
                    plan = state.next_visit(settings, round_index)
                    if plan is not None:
                        visits.append({"batch": b, **plan})
                if not visits:
                    continue
                random.Random(f"{settings.seed}:{round_index}:{model}").shuffle(visits)
                if round_index >= settings.rounds:
                    bar.total += len(visits)
                    bar.refresh()
                _run_worker(model, visits, device, threads, settings, states, record, bar, round_index,
                            protocol, precision, checks, runtime)
            for key, state in states.items():
                if key not in done and state.next_visit(settings, round_index + 1) is None:
                    done.add(key)
                    on_point_done(state)
        for key, state in states.items():
            if key not in done:
                done.add(key)
                on_point_done(state)
    return list(states.values())


def _run_worker(model, visits, device, threads, settings, states, record, bar, round_index,
                protocol: str = "engine", precision: str = "fp32", checks: list[float] | None = None,
                runtime: str = "eager") -> None:
    checks = [] if checks is None else checks
    ctx = _context()
    parent, child = ctx.Pipe(duplex=False)
    task = {"model": model, "device": device, "threads": threads, "visits": visits,
            "settings": vars(settings), "protocol": protocol, "precision": precision, "runtime": runtime}
    proc = ctx.Process(target=_worker, args=(task, child), daemon=True)
    proc.start()
    child.close()
    seen = set()
    try:
        while True:
            try:
                message = parent.recv()
            except EOFError:
                break
            kind = message.pop("kind")
            if kind == "done":
                break
            if kind == "static":
                entry = {"kind": "static", "model": model, "round": round_index, **message}
                for (m, _), state in states.items():
                    if m == model:
                        state.static = entry
                        state.statics.append(entry)
                record(entry)
                continue
            if kind == "failed":
                for visit in visits:
                    if visit["batch"] not in seen:
                        _add_visit(states[(model, visit["batch"])], {"status": "error", "reason":
                                   f"the worker failed: {message['reason']}", "batch": visit["batch"]},
                                   model, round_index, settings, record, checks)
                        seen.add(visit["batch"])
                        bar.update()
                continue
            seen.add(message["batch"])
            _add_visit(states[(model, message["batch"])], message, model, round_index, settings, record, checks)
            bar.set_postfix_str(f"{model} b={message['batch']} round {round_index + 1}", refresh=False)
            bar.update()
    except BaseException:
        proc.terminate()  # interrupted: end the worker now (its point child dies with it)
        proc.join(timeout=10)
        raise
    finally:
        proc.join(timeout=30)
        if proc.is_alive():
            proc.kill()
            proc.join()
    if proc.exitcode not in (0, None) and len(seen) < len(visits):
        reason = (f"the worker for {model} was killed by signal {-proc.exitcode}"
                  if proc.exitcode < 0 else f"the worker for {model} exited with status {proc.exitcode}")
        status = "skipped" if proc.exitcode == -signal.SIGKILL else "error"
        for visit in visits:
            if visit["batch"] not in seen:
                _add_visit(states[(model, visit["batch"])], {"status": status, "reason": reason,
                                                             "batch": visit["batch"]},
                           model, round_index, settings, record, checks)
                bar.update()


def _add_visit(state: PointState, message: dict, model: str, round_index: int, settings: EngineSettings,
               record: Callable[[dict], None], checks: list[float] | None = None) -> None:
    entry = {"kind": "visit", "model": model, "round": round_index, **message}
    if entry.get("status") == "ok":
        cpu = entry.get("cpu") or [None, None]
        share = contention(cpu[0], cpu[1])
        entry["contended_share"] = None if math.isnan(share) else share
        if entry.get("check_s") and checks is not None:
            entry["check_off"] = check_is_off(entry["check_s"], checks, robust_sds=settings.check_off_sds,
                                              floor=settings.check_off_floor)
            checks.append(entry["check_s"])
    state.visits.append(entry)
    record(entry)
