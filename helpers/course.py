"""The course: lessons in order, what each teaches, its exercises, and hidden solutions.

Solutions live in ``data/course/solutions.json``, base64-encoded so that
browsing the repository or the notebooks does not spoil them. A student reveals
one on purpose with ``solution("4.1")``; a teacher who wants them out of reach
removes that file from the students' copy (everything else keeps working).
"""
from __future__ import annotations

import base64
import json
from dataclasses import dataclass

import pandas as pd

from helpers.paths import DATA_DIR, NOTEBOOKS_DIR

__all__ = ["Lesson", "LESSONS", "lesson_table", "exercises", "exercise_markdown", "solution", "SOLUTIONS_JSON"]

SOLUTIONS_JSON = DATA_DIR / "course" / "solutions.json"


@dataclass(frozen=True)
class Lesson:
    number: int
    notebook: str
    title: str
    paper: str          # the paper's figures or sections it rebuilds
    learn: str          # what a student learns
    exercises: tuple[str, ...]


LESSONS: tuple[Lesson, ...] = (
    Lesson(1, "01_accuracy.ipynb", "Accuracy", "Figs 1, 2",
           "what single-central-crop top-1 is; why a number needs its source (paper, torchvision V1/V2); "
           "reading a blob chart of accuracy against cost",
           ("Predict where torchvision's ResNet-50 V2 weights (80.9 %) would sit on Fig 2, then add them.",
            "Plot efficientnet_b0's accuracy against its operations with Lesson 2's counter.",
            "Why is single-crop accuracy lower than 10-crop accuracy?")),
    Lesson(2, "02_operations.ipynb", "Counting operations and parameters", "Fig 2, Table",
           "multiply-accumulates against the paper's operations; grouped convolutions; why two "
           "counters disagree and how to check a counter against an outside reference",
           ("Which torchvision model has the most GMACs per parameter?",
            "Count vit_b_16: where do its matrix products come from, and what would 2016's counter miss?",
            "Predict how gmacs changes when the input grows from 224 to 448, then check.",
            "Count efficientnet_b0 with `count_model`: why is its `gops_2016` about 39x its `gops`, and which of the "
            "two belongs on Fig 2?")),
    Lesson(3, "03_parameter_density.ipynb", "Parameter density", "Fig 10",
           "accuracy per parameter as a measure of how well a network uses its capacity",
           ("Do mobilenet_v3_large or efficientnet_b0 beat ENet's density?",
            "Design a metric that rewards accuracy per operation, and compute it.")),
    Lesson(4, "04_inference_time.ipynb", "Inference time against batch size", "Figs 3, 7",
           "timing honestly (warm-up, threads, medians and IQR); why batching helps fully connected layers; "
           "operations as a predictor of time",
           ("Predict, then measure with threads=1: does AlexNet's batch speed-up grow or shrink?",
            "Is mobilenet_v3_large faster than ResNet-18 per image here, with 8x fewer GMACs?",
            "Run `make bench`: how repeatable is a median against a 10-run mean?")),
    Lesson(5, "05_memory.ipynb", "Memory against batch size", "Figs 5, 6",
           "static against activation memory; measuring peak memory in a fresh process; the knee",
           ("Which network has the largest activations per image?",
            "On the committed run Fig 6's small networks sit on the line, not on a 200 MB floor: where did the paper's floor come from?")),
    Lesson(6, "06_power.ipynb", "Power and energy", "Figs 4, 8",
           "net power over idle; energy counters against sampled power; why 'no sensor' is not 0 W",
           ("Run `python -m helpers probes`: which sensors does this machine lack, and why is its power 'not measurable here' rather than 0 W?",
            "Why does energy per image fall with batch size even when power is flat?")),
    Lesson(7, "07_findings.ipynb", "Findings", "Fig 9, Sec 3.7, claims C1-C11",
           "turning a claim into a statistic and a verdict; why hardware changes some verdicts and not others",
           ("Which part is inconclusive on the committed run, and what measurement would decide it?",
            "Does efficientnet_b0 break Fig 9's linear bound?")),
)


def lesson_table() -> pd.DataFrame:
    """One row per lesson: number, notebook, title, the paper's figures, what a student learns."""
    return pd.DataFrame([{"lesson": l.number, "notebook": l.notebook, "title": l.title, "paper": l.paper,
                          "you learn": l.learn} for l in LESSONS])


def exercises() -> pd.DataFrame:
    """Every exercise with its id (``"<lesson>.<n>"``)."""
    return pd.DataFrame([{"id": f"{l.number}.{i}", "lesson": l.title, "exercise": text}
                         for l in LESSONS for i, text in enumerate(l.exercises, 1)])


def exercise_markdown(lesson: int) -> str:
    """A lesson's "Try this" section (Markdown), from ``LESSONS``: the one place its exercises are written."""
    found = [l for l in LESSONS if l.number == lesson]
    if not found:
        raise KeyError(f"no lesson {lesson!r}; valid: {', '.join(str(l.number) for l in LESSONS)}")
    items = "\n".join(f"{i}. {text}" for i, text in enumerate(found[0].exercises, 1))
    return (f"## Try this\n{items}\n\nAfter trying, `from helpers.course import solution; "
            f"print(solution(\"{lesson}.1\"))` shows the first one's solution.")


def _solutions() -> dict[str, str]:
    if not SOLUTIONS_JSON.is_file():
        raise FileNotFoundError(f"{SOLUTIONS_JSON} is not here: your teacher kept the solutions back")
    return json.loads(SOLUTIONS_JSON.read_text(encoding="utf-8"))


def solution(exercise_id: str) -> str:
    """The solution of one exercise (e.g. ``"4.1"``), decoded: ask only when you have tried."""
    encoded = _solutions()
    if exercise_id not in encoded:
        raise KeyError(f"no exercise {exercise_id!r}; valid ids: {', '.join(encoded)}")
    return base64.b64decode(encoded[exercise_id]).decode("utf-8")


def notebooks_exist() -> list[str]:
    """Lesson notebooks missing from notebooks/ (empty when the course is complete)."""
    return [l.notebook for l in LESSONS if not (NOTEBOOKS_DIR / l.notebook).is_file()]
