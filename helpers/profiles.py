"""Run profiles: how much to measure, and how long to spend on each point."""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Profile", "PROFILES", "get_profile", "parse_batch_sizes"]


@dataclass(frozen=True)
class Profile:
    """Models, batch sizes and time budgets of a run (times in seconds)."""

    name: str
    models: tuple[str, ...]
    batch_sizes: tuple[int, ...]
    min_run_time: float       # timing budget per (model, batch) point
    min_measurements: int     # at least this many timed measurements per point ...
    max_run_time: float       # ... unless their timed total passes this
    power_window: float       # length of each power window (active and idle)
    description: str

    @property
    def timing(self) -> dict:
        """The timing budget as keyword arguments of ``helpers.measure.measure``."""
        return {"min_run_time": self.min_run_time, "min_measurements": self.min_measurements,
                "max_run_time": self.max_run_time}


PROFILES: dict[str, Profile] = {
    "smoke": Profile("smoke", ("smoke",), (1, 2), 0.05, 3, 2.0, 0.5,
                     "CI: two small models, batches 1 and 2, seconds"),
    "quick": Profile("quick", ("paper",), (1, 16), 0.5, 3, 30.0, 5.0,
                     "all paper models, batches 1 and 16, minutes"),
    "full": Profile("full", ("paper",), (1, 2, 4, 8, 16, 32, 64), 0.5, 3, 60.0, 10.0,
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
    items = text if isinstance(text, list) else [t.strip() for t in str(text).split(",") if t.strip()]
    sizes = []
    for item in items:
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
