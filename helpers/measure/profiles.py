"""Run profiles: how much to measure, and how long to spend on each point."""
from __future__ import annotations

from dataclasses import dataclass

from helpers.core.lists import split_list

__all__ = ["EngineSettings", "Profile", "PROFILES", "get_profile", "parse_batch_sizes"]


@dataclass(frozen=True)
class EngineSettings:
    """How the measurement engine times a point (seconds; the one place these are set).

    Each point is measured in at least ``rounds`` *windows*: one visit in each
    round of the sweep, each round a fresh worker process per model, visited in
    a seeded shuffled order, so a point's windows lie at different times of the
    sweep. The point's value and its 95 % interval come from the windows'
    medians (``helpers.core.stats.window_interval``): what a re-run gives, not
    only the precision within one window (kept beside it). ``rounds_fast``
    applies to passes under ``fast_pass_s``. Within a window the passes are
    timed until the window's own interval is within ``target_rel_ci`` of its
    median, with at least ``min_passes`` timed samples over the point's windows
    (``min_passes_slow`` for passes of ``slow_pass_s`` or more, whose warm-up
    pass is timed and counted), at most ``point_cap_s`` seconds of timed passes,
    and at most ``max_rounds`` rounds: rounds after the planned ones make up for
    windows set aside. A window is set aside when other processes (and a
    hypervisor's steal) used more than ``contention_share`` of the cores, or
    when its check standard (``helpers.measure.check_standard``) is off by more
    than ``check_off_sds`` robust standard deviations of the sweep's windows and
    more than ``check_off_floor``. A point is flagged ``imprecise`` when its
    interval's half-width exceeds ``imprecise_above`` of its value
    (``memory_imprecise_above`` for memory): targets a quiet run of the
    committed machine meets at most points. A memory interval is at least
    +-``memory_resolution`` of its value: readings identical in every window
    of one run do not show what differs between runs.
    """

    rounds: int = 3
    rounds_fast: int = 3
    fast_pass_s: float = 0.25
    warmup_s: float = 0.25
    max_rounds: int = 4
    target_rel_ci: float = 0.02
    min_passes: int = 5
    min_passes_slow: int = 3
    slow_pass_s: float = 1.0
    round_time_s: float = 0.4
    point_cap_s: float = 2.0
    contention_share: float = 0.15
    seed: int = 0
    point_timeout_s: float = 900.0
    extra_rounds_for_width: bool = False
    imprecise_above: float = 0.30
    memory_imprecise_above: float = 0.15
    memory_resolution: float = 0.01
    check_off_sds: float = 4.0
    check_off_floor: float = 0.05

    def __post_init__(self) -> None:
        checks = {
            "rounds": self.rounds >= 1, "max_rounds": self.max_rounds >= self.rounds,
            "rounds_fast": self.rounds_fast >= 1, "fast_pass_s": 0 < self.fast_pass_s <= self.slow_pass_s,
            "warmup_s": self.warmup_s >= 0,
            "target_rel_ci": 0 < self.target_rel_ci < 1, "min_passes": self.min_passes >= 1,
            "min_passes_slow": self.min_passes_slow >= 1, "slow_pass_s": self.slow_pass_s > 0,
            "round_time_s": self.round_time_s > 0, "point_cap_s": self.point_cap_s > 0,
            "contention_share": 0 < self.contention_share <= 1, "point_timeout_s": self.point_timeout_s > 0,
            "imprecise_above": self.imprecise_above > 0, "memory_imprecise_above": self.memory_imprecise_above > 0,
            "memory_resolution": 0 <= self.memory_resolution < 1,
            "check_off_sds": self.check_off_sds > 0, "check_off_floor": self.check_off_floor >= 0,
        }
        bad = [k for k, ok in checks.items() if not ok]
        if bad:
            raise ValueError(f"bad engine setting {bad[0]}={getattr(self, bad[0])!r} "
                             f"(rounds >= 1, max_rounds >= rounds, 0 < target_rel_ci < 1, counts >= 1, "
                             f"times > 0, 0 < contention_share <= 1)")


#: Windows (fresh processes, one after another) the hardware peaks are measured in by default; their
#: interval is between the windows (helpers.measure.hardware.peaks_in_windows).
PEAK_WINDOWS = 5


@dataclass(frozen=True)
class Profile:
    """Models, batch sizes and the engine's settings for a run (times in seconds)."""

    name: str
    models: tuple[str, ...]
    batch_sizes: tuple[int, ...]
    engine: EngineSettings
    power_window: float       # length of each power window (active and idle)
    description: str
    # the hardware lesson's studies (helpers.measure.studies): models and batch sizes of the threads and precision
    # sweeps, seconds per blocked_autorange call of the peaks and the windows (fresh processes) they are measured in
    # (helpers.measure.hardware)
    threads_models: tuple[str, ...] = ("AlexNet", "VGG-16", "GoogLeNet", "ResNet-50")
    precision_models: tuple[str, ...] = ("paper",)
    study_batch_sizes: tuple[int, ...] = (1, 16)
    peak_run_time_s: float = 1.0
    peak_windows: int = PEAK_WINDOWS
    # the layers study (helpers.measure.layers; claim part C3e): models timed layer type by layer type at the
    # profile's batch 1 and its largest batch up to 64, in this many rounds
    layer_models: tuple[str, ...] = ("AlexNet",)
    layer_windows: int = 5
    # the runtimes study (helpers.measure.runtimes): networks timed through these runtimes at study_batch_sizes
    runtime_models: tuple[str, ...] = ("AlexNet", "GoogLeNet", "ResNet-18", "ENet")
    runtimes: tuple[str, ...] = ("eager", "compile", "onnxruntime", "openvino")

    def layer_batch_sizes(self) -> list[int]:
        """The layers study's batches for this profile's sweep (:func:`layer_batches`)."""
        return layer_batches(self.batch_sizes)


def layer_batches(batch_sizes) -> list[int]:
    """Batch 1 and the largest of ``batch_sizes`` up to 64 (C3's range), or batch 1 alone."""
    above = [int(b) for b in batch_sizes if 1 < int(b) <= 64]
    return [1] + ([max(above)] if above else [])


PROFILES: dict[str, Profile] = {
    "smoke": Profile("smoke", ("smoke",), (1, 2),
                     EngineSettings(round_time_s=0.05, point_cap_s=0.5, max_rounds=3), 0.5,
                     "CI: two small models, batches 1 and 2, seconds; the studies one each (ENet's threads, "
                     "ResNet-18 in every numeric type: torchvision quantises it; ENet's runtimes, torch.compile left to its "
                     "unit test: a cold compilation takes tens of seconds)", threads_models=("ENet",),
                     precision_models=("ResNet-18",), study_batch_sizes=(1, 2), peak_run_time_s=0.05,
                     peak_windows=2, layer_windows=2, runtime_models=("ENet",),
                     runtimes=("eager", "onnxruntime", "openvino")),
    "classroom": Profile("classroom", ("AlexNet", "VGG-16", "ResNet-50", "ENet", "GoogLeNet"), (1, 4, 16),
                         EngineSettings(), 5.0,
                         "a class's worth: a fully connected net (AlexNet), a VGG, a ResNet, an efficient net "
                         "(ENet) and an Inception (GoogLeNet), batches 1, 4 and 16",
                         # lesson 9's studies kept to one network each, and 3 peak windows: a class's run stays
                         # within about 8 minutes on 2 cores, the runtimes study about 3 of them (docs/course.md
                         # gives the measured time)
                         threads_models=("AlexNet",), precision_models=("ResNet-50",), peak_windows=3,
                         runtime_models=("GoogLeNet",)),
    "quick": Profile("quick", ("paper",), (1, 16), EngineSettings(), 5.0,
                     "all paper models, batches 1 and 16, minutes"),
    "modern": Profile("modern", ("modern",), (1, 16), EngineSettings(), 5.0,
                      "20 torchvision networks of the families since 2016 (helpers.models.zoo.MODERN_MODELS, "
                      "torchvision's ResNet-50 as the 2016 anchor), batches 1 and 16: under 10 minutes "
                      "on a 2-core CPU", threads_models=("mobilenet_v3_large", "resnet50", "vit_b_16"),
                      precision_models=("modern",)),
    "full": Profile("full", ("paper",), (1, 2, 4, 8, 16, 32, 64), EngineSettings(), 10.0,
                    "all paper models, batches 1 to 64 (the paper's sweep)"),
}


def get_profile(name: str) -> Profile:
    """The profile called ``name``; an unknown name → ValueError listing the valid ones."""
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown profile {name!r}: valid profiles are {', '.join(PROFILES)}") from None


def parse_batch_sizes(text: str | list[int]) -> list[int]:
    """``"1,2,4"`` → ``[1, 2, 4]``; anything but positive integers → ValueError naming it."""
    sizes = []
    for item in split_list(text):
        try:
            size = int(item)
        except (TypeError, ValueError):
            raise ValueError(f"bad batch size {item!r}: batch sizes are positive integers, e.g. 1,2,4") from None
        if size < 1 or str(item).strip() not in (str(size),):
            raise ValueError(f"bad batch size {item!r}: batch sizes are positive integers, e.g. 1,2,4")
        sizes.append(size)
    if not sizes:
        raise ValueError("no batch sizes given: use e.g. 1,2,4")
    return sorted(dict.fromkeys(sizes))
