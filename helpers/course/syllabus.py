"""The course: lessons in order, what each teaches, its exercises, and hidden solutions.

Solutions live in ``data/course/solutions.json``, base64-encoded so that
browsing the repository or the notebooks does not spoil them. A student reveals
one on purpose with ``solution("4.1")``; a teacher who wants them out of reach
removes that file from the students' copy (everything else keeps working).
"""
from __future__ import annotations

import base64
import itertools
import json
from dataclasses import dataclass, replace

import pandas as pd

from helpers.core.paths import DATA_DIR, NOTEBOOKS_DIR

__all__ = ["Lesson", "LESSONS", "lesson_table", "exercises", "exercise_markdown", "lesson_end", "teacher_table", "solution", "SOLUTIONS_JSON", "COURSE_RUN",
           "predict", "PREDICT_BEFORE",
           "CLASS_MINUTES", "meeting_plan"]

SOLUTIONS_JSON = DATA_DIR / "course" / "solutions.json"
#: The recorded run (data/recorded/<tag>) the solutions cite: their numbers are this run's, and tests recompute
#: them from it. A lesson on a machine with nothing stored plots it (helpers.course.notebook.stand_in_tag).
COURSE_RUN = "cpu-amd-epyc-f25m17-2c"


@dataclass(frozen=True)
class Lesson:
    number: int
    notebook: str
    title: str
    paper: str          # the paper's figures or sections it rebuilds
    learn: str          # what a student learns
    exercises: tuple[str, ...]
    objectives: tuple[str, ...] = ()   # what a student can do after it
    prerequisites: str = ""
    summary: str = ""                  # the lesson in one paragraph (no result of any run: those are the lesson's own)
    recall: tuple[str, ...] = ()       # questions a student answers from memory
    minutes: int = 0                   # planned class time (reading, running, discussing, exercises), minutes


LESSONS: tuple[Lesson, ...] = (
    Lesson(1, "01_accuracy.ipynb", "Accuracy", "Figs 1, 2",
           "what single-central-crop top-1 is; why a number needs its source (paper, torchvision V1/V2); "
           "reading a blob chart of accuracy against cost",
           ("Predict where torchvision's ResNet-50 V2 weights (80.9 %) would sit on Fig 2, then add them.",
            "Plot efficientnet_b0's accuracy against its operations with Lesson 2's counter.",
            "Why is single-crop accuracy lower than 10-crop accuracy?"),
           objectives=('say what single-central-crop top-1 measures and what it leaves out', "tell a network's accuracy from its weights' recipe, and name a number's source", 'read a blob chart: position, area and what each encodes'),
           prerequisites='Python and pandas basics; what an image classifier outputs',
           summary=('Top-1 accuracy is a protocol as much as a number: the crop, the resize, the validation set and the training recipe of the weights all move it. A figure that compares architectures must say where each number comes from, and a measured one comes with its interval.'),
           recall=("What does 'single central crop' mean, and why is 10-crop accuracy higher?", 'Why can two checkpoints of one architecture sit at different heights on Fig 2?', "What does a blob's area encode in Fig 2?")),
    Lesson(2, "02_operations.ipynb", "Counting operations and parameters", "Fig 2, Table",
           "multiply-accumulates against the paper's operations; grouped convolutions; why two "
           "counters disagree and how to check a counter against an outside reference",
           ("Which torchvision model has the most GMACs per parameter?",
            "Count vit_b_16: where do its matrix products come from, and what would 2016's counter miss?",
            "Predict how gmacs changes when the input grows from 224 to 448, then check.",
            "Predict how many times efficientnet_b0's `gops_2016` (the 2016 rules) is its `gops` (groups honoured), "
            "then count it with `count_model`: where does the gap come from, and which of the two belongs on Fig 2?",
            "Complete the from-scratch cell: count the convolution's multiply-accumulates by hand. How does your "
            "formula change for a depthwise convolution (groups = channels)?"),
           objectives=("count multiply-accumulates and the paper's operations for any network, and convert between them", 'explain why grouped and depthwise convolutions break a 2016 counter', 'check a counter against an outside reference'),
           prerequisites='Lesson 1; what a convolution and a fully connected layer compute',
           summary=('An operation count is a convention: a multiply and an add are one MAC or two operations, and a counter either honours convolution groups or counts them dense. Stating the convention, and checking the counter against a second one, is what makes a count comparable.'),
           recall=("How many operations does one multiply-accumulate make in the paper's convention?", 'Why does counting a depthwise convolution as dense overstate its cost, and by about how much?', "How do a convolution's MACs change when the input side doubles?")),
    Lesson(3, "03_parameter_density.ipynb", "Parameter density", "Fig 10",
           "accuracy per parameter as a measure of how well a network uses its capacity",
           ("Do mobilenet_v3_large or efficientnet_b0 beat ENet's density?",
            "Design a metric that rewards accuracy per operation, and compute it."),
           objectives=('compute accuracy density and read its ranking', 'say what density rewards and what it ignores'),
           prerequisites='Lessons 1 and 2',
           summary=('Accuracy per parameter rewards networks that reach their accuracy with few weights; it says nothing about operations or time, so a dense network need not be a fast one.'),
           recall=('What is accuracy density, and in what unit?', 'Which kind of network does density favour, and which does it penalise?')),
    Lesson(4, "04_inference_time.ipynb", "Inference time against batch size", "Figs 3, 7",
           "timing honestly (warm-up, threads, medians and IQR); why batching helps fully connected layers; "
           "operations as a predictor of time",
           ("Predict, then measure with threads=1: does AlexNet's batch speed-up grow or shrink?",
            "Is mobilenet_v3_large faster than ResNet-18 per image here, with 8x fewer GMACs?",
            "How repeatable is a median over windows? Compare the recorded run with its second sweep "
            "(`data/recorded/reruns`), then run `make bench` (about 11 minutes) to set it beside a 10-run mean.",
            "Complete the from-scratch cell: time one convolution with `Timer`. How much slower is the first call "
            "than the median, and what does the IQR say that a re-run would not?"),
           objectives=('time a network honestly: warm-up, threads, medians, intervals and flags', 'explain why batching helps fully connected layers more than convolutions', 'judge whether operations predict time on a given machine'),
           prerequisites='Lessons 2 and 3; what a batch is',
           summary=("Per-image time depends on the batch, the machine and the layers: batching turns a fully connected layer's matrix-vector products into matrix-matrix products, while convolutions may already keep a CPU busy at batch 1. A time is a median with an interval over many passes in fresh processes, and a point flagged contended or unstable is left out of a verdict."),
           recall=('Why is a timing taken in a fresh process after a warm-up?', 'What does a 95 % interval of a median say, and when is a point flagged imprecise?', 'Why do fully connected layers gain from batching?')),
    Lesson(5, "05_memory.ipynb", "Memory against batch size", "Figs 5, 6",
           "static against activation memory; measuring peak memory in a fresh process; the knee",
           ("Which network has the largest activations per image?",
            "On the recorded run `cpu-amd-epyc-f25m17-2c` Fig 6's small networks sit on the line, not on a 200 MB floor: "
            "where did the paper's floor come from?",
            "Complete the from-scratch cell: read this process's resident memory before and after building "
            "ResNet-18. Why does it grow by more than its parameters?"),
           objectives=('separate static memory from activation memory and measure both', 'read a memory curve on log axes without seeing a knee that is a line'),
           prerequisites='Lesson 4',
           summary=("Peak memory is the loaded model plus activations that grow with the batch; measured above the process's baseline it is the model's own, while the absolute figure includes the framework's own floor."),
           recall=('What is static memory, and what is it measured above?', 'Why can a straight line look like a knee on log axes?', "Where did the paper's 200 MB floor come from?")),
    Lesson(6, "06_power.ipynb", "Power and energy", "Figs 4, 8",
           "net power over idle; energy counters against sampled power; why 'no sensor' is not 0 W",
           ("Run `python -m helpers probes`: which sensors does this machine lack, and why is its power 'not measurable here' rather than 0 W?",
            "Why does energy per image fall with batch size even when power is flat?"),
           objectives=('measure net power over idle with a counter, and say why no sensor is not 0 W', 'relate energy per image to power and time'),
           prerequisites='Lesson 4',
           summary=('Power is measured over fixed windows of continuous inference, net of an idle window, from the best sensor the machine has; energy per image is net power times time per image. Without a sensor the figure is missing, never zero.'),
           recall=('Why is power reported net of idle?', 'Why is an energy counter better than sampled power?', "Why is 'no sensor' not 0 W?")),
    Lesson(7, "07_findings.ipynb", "Findings", "Fig 9, Sec 3.7, claims C1-C11",
           "turning a claim into a statistic and a verdict; why hardware changes some verdicts and not others",
           ("C8b is inconclusive on the recorded run `cpu-amd-epyc-f25m17-2c`: what does its interval say, and what measurement would decide it?",
            "Does efficientnet_b0 break Fig 9's linear bound?"),
           objectives=('turn a claim into parts, each with a statistic, a threshold and a 95 % interval', 'tell a verdict that holds from one that is inconclusive or not measurable, and why each arises', 'explain which verdicts hardware should change and which it should not'),
           prerequisites='Lessons 1 to 6',
           summary=("A claim becomes testable once it is split into the statements it makes, each with one statistic, a threshold and an interval; a verdict is then holds, does not hold, inconclusive, not measurable here, or the paper's values, on a named device. Only a few parts can be checked on the paper's own numbers: those computed from its table, which could have contradicted its text; a figure the paper states, fed to a threshold built around it, checks nothing."),
           recall=("What makes a verdict inconclusive rather than 'does not hold'?", "Why are C1 and C11 'the paper's values' until accuracy is measured?", "Which claims are about a shape, and which about a TX1's absolute numbers?")),
    Lesson(8, "08_since_2016.ipynb", "Since 2016", "Figs 1, 2, 9, 10; claims C2, C8, C9, C11",
           "what the families after the paper changed (depthwise and grouped convolutions, compound scaling, "
           "attention); reading Pareto frontiers of accuracy against operations, parameters and latency; which "
           "of the paper's claims survive a newer set of networks",
           ("Predict which network since 2016 has the highest accuracy density, and how many times ENet's it is; "
            "then read Fig 10.",
            "C2 says VGG is by far the most expensive network. Which later network breaks it, in which count, and "
            "does C2 still hold in parameters?",
            "Predict, then measure: is efficientnet_b0 faster per image on this machine than ResNet-18, with about "
            "a fifth of its GMACs? (`python -m helpers measure --models efficientnet_b0,ResNet-18 --batch-sizes 1`)"),
           objectives=("place a network published after 2016 on the paper's figures, with its reference top-1 and "
                       "our operation count, and say where each number comes from",
                       "find the Pareto frontier of accuracy against a cost and name the models on it",
                       "re-rule a claim on a new set of networks and tell a ranking claim from a shape claim"),
           prerequisites='Lessons 1 to 7',
           summary=("The paper's trade-offs still frame the networks that came after it, but the networks moved: "
                    "depthwise and grouped convolutions, compound scaling and attention reach the 2016 networks' "
                    "accuracy with a fraction of their parameters and operations. A claim about a ranking (VGG the "
                    "most expensive, ENet the densest) depends on which networks are compared; a claim about a shape "
                    "(operations linear in time, accuracy bounded by throughput) is re-tested on each device and "
                    "model set. Fewer operations need not mean less time, so a frontier in operations is not a "
                    "frontier in latency, and a library's top-1 is a reference value, labelled as such."),
           recall=("What makes a network Pareto-optimal against a cost?",
                   "Why can a network sit on the operations frontier and off the latency frontier?",
                   "Why does a ranking claim (C2, C11) depend on the model set, and a shape claim (C8, C9) on the device?")),
    Lesson(9, "09_hardware.ipynb", "Why the hardware behaves as it does", "Figs 3, 7 (the why); no figure of the paper",
           "a device's measured peaks (matrix-multiply GFLOP/s, memory GB/s) and caches; the roofline: arithmetic "
           "intensity, achieved throughput and its fraction of the peak per model and batch; testing the cache "
           "explanation of a rising per-image time; threads and parallel efficiency; fp32 against bf16, fp16 and "
           "int8, said where a device cannot run them; the same networks through torch.compile, ONNX Runtime "
           "and OpenVINO: speed-up, conversion cost, output agreement, and C3 and C8 ruled per runtime",
           ("Predict, then read the roofline: which paper network gets closest to the fp32 peak at batch 1, and "
            "which is furthest? Explain the furthest with its operations per byte.",
            "Is AlexNet memory-bound at batch 1 on this machine? Give its arithmetic intensity and the ridge point "
            "from the lesson's tables.",
            "Predict, then measure: is ResNet-18's parallel efficiency with 2 threads at batch 1 above or below "
            "ResNet-50's? (`python -m helpers threads --models ResNet-18 ResNet-50`; compare with the lesson's table.)",
            "bf16 halves every parameter's bytes. From the precision table, is peak memory at batch 16 half of "
            "fp32's for every network, and why not?",
            "Predict, then read the runtimes chart: through which runtime is GoogLeNet fastest at batch 1, and is "
            "torch.compile faster than eager? Say whether each lead lies beyond the intervals.",
            "A runtime's conversion is paid once, at start-up. From the runtimes table, after how many images at "
            "batch 1 has OpenVINO's conversion paid for itself against eager on GoogLeNet? What does that mean for "
            "a script that classifies one image and exits?",
            "Read the claims per runtime: does C8a (operations predict time) get the same verdict through every "
            "runtime? Through which runtime do the paper's networks' times follow their operation counts most "
            "closely, and why could a runtime that fuses layers change that?"),
           objectives=("read a device's characterisation: caches, instruction-set features and measured peaks "
                       "with their intervals",
                       "place a network at a batch size on the roofline and say whether it is memory- or "
                       "compute-bound and what fraction of the peak it reaches",
                       "test an explanation (the cache) against the data instead of repeating it",
                       "compare thread counts and numeric types with intervals, and say what a type was not "
                       "measured for",
                       "compare runtimes at one precision: a speed-up with its interval, the conversion's cost, "
                       "the output checked against eager's, and a claim re-ruled per runtime"),
           prerequisites="Lessons 2, 4 and 5",
           summary=("A measured time is the device's as much as the network's. The device's peaks (arithmetic "
                    "and memory bandwidth) bound what any network can reach: an operation per byte moved below "
                    "the ridge point leaves the network waiting on memory, above it on arithmetic. Batching raises "
                    "operations per byte, which helps a device far from its peak and does little for one already "
                    "near it. An explanation such as 'the working set leaves the cache' is a prediction: a batch "
                    "size where time turns up, to be checked network by network. Threads and narrower types are "
                    "further levers, each measured with its interval, and a type the device cannot run natively "
                    "is said, not emulated. So is the runtime: a graph compiler or inference runtime can change a "
                    "network's time, its rank among networks and how much batching pays, at the same fp32 and "
                    "the same function, for a conversion cost paid at start-up."),
           recall=("What is a roofline's ridge point, and what does it mean for a network to sit left of it?",
                   "Why does batching help a GPU at batch 1 more than a CPU already near its peak?",
                   "What would make a precision comparison unfair if the device lacked native bf16?",
                   "Why must a runtime's speed be measured at the precision it claims, with its output checked?")),
)


#: Planned class minutes per lesson (a teacher's plan, not a measurement: reading, running the cells as they
#: are, discussing the figures, two exercises); the computer's part is in docs/course.md, measured.
CLASS_MINUTES = {1: 30, 2: 40, 3: 20, 4: 50, 5: 35, 6: 30, 7: 45, 8: 40, 9: 50}
LESSONS = tuple(replace(lesson, minutes=CLASS_MINUTES[lesson.number]) for lesson in LESSONS)


def meeting_plan(meetings: int) -> pd.DataFrame:
    """The lessons, in order, split into ``meetings`` class meetings of about equal planned minutes
    (:data:`CLASS_MINUTES`; contiguous, so each meeting builds on the last: the split whose longest meeting
    is shortest, then the most even). One row per meeting: meeting,
    lessons ("1-3"), titles, minutes."""
    if not isinstance(meetings, int) or not 1 <= meetings <= len(LESSONS):
        raise ValueError(f"meetings must be an integer from 1 to {len(LESSONS)}, got {meetings!r}")
    minutes = [l.minutes for l in LESSONS]
    best = None
    for cuts in itertools.combinations(range(1, len(LESSONS)), meetings - 1):
        edges = (0, *cuts, len(LESSONS))
        loads = [sum(minutes[a:b]) for a, b in zip(edges, edges[1:])]
        key = (max(loads), max(loads) - min(loads))  # the shortest longest meeting, then the most even
        if best is None or key < best[0]:
            best = (key, edges)
    edges = best[1]
    rows = []
    for i, (a, b) in enumerate(zip(edges, edges[1:]), 1):
        group = LESSONS[a:b]
        span = f"{group[0].number}" if len(group) == 1 else f"{group[0].number}-{group[-1].number}"
        rows.append({"meeting": i, "lessons": span, "titles": "; ".join(l.title for l in group),
                     "minutes": sum(l.minutes for l in group)})
    return pd.DataFrame(rows)


def lesson_table() -> pd.DataFrame:
    """One row per lesson: number, notebook, title, the paper's figures, what a student learns."""
    return pd.DataFrame([{"lesson": l.number, "notebook": l.notebook, "title": l.title, "paper": l.paper,
                          "you learn": l.learn} for l in LESSONS])


def exercises() -> pd.DataFrame:
    """Every exercise with its id (``"<lesson>.<n>"``)."""
    return pd.DataFrame([{"id": f"{l.number}.{i}", "lesson": l.title, "exercise": text}
                         for l in LESSONS for i, text in enumerate(l.exercises, 1)])


def _lesson(number: int) -> Lesson:
    for l in LESSONS:
        if l.number == number:
            return l
    raise KeyError(f"no lesson {number!r}; valid: {', '.join(str(l.number) for l in LESSONS)}")


#: Exercises that ask for a prediction, each with the start of the first code cell of its lesson that shows the
#: answer: the lesson asks the exercise (:func:`predict`) in a cell above that one (tests/test_course.py checks).
PREDICT_BEFORE: dict[str, str] = {
    "2.4": "modern = count_table(",
    "5.2": "from helpers import static_vs_parameter_memory",
    "6.1": "from helpers import probe_statuses",
    "7.1": "from helpers import claims_table",
    "8.1": "from helpers import density_ranking",
    "8.2": "from helpers import era, lesson_models",
    "8.3": "from helpers import frontiers, latency_at",
    "9.1": "from helpers import message_figure, roofline_chart",
    "9.3": "from helpers import threads_chart",
    "9.5": "from helpers import runtimes_chart",
}


def predict(exercise_id: str) -> str:
    """An exercise asked before the cell that answers it (Markdown): the student writes a prediction down
    first; the lesson's "Try this" section lists it again, and ``solution(exercise_id)`` answers it."""
    lesson, _, number = exercise_id.partition(".")
    try:
        text = _lesson(int(lesson)).exercises[int(number) - 1]
    except (ValueError, IndexError):
        raise KeyError(f"no exercise {exercise_id!r}; valid ids: {', '.join(exercises()['id'])}") from None
    return (f"> **Your prediction? (Exercise {exercise_id})** {text}\n>\n"
            f"> Write your answer down before you run the next cell: it shows what this run says.")


def lesson_end(lesson: int) -> str:
    """A lesson's closing (Markdown): its summary, recall questions and exercises."""
    l = _lesson(lesson)
    recall = "\n".join(f"{i}. {q}" for i, q in enumerate(l.recall, 1))
    return f"## Summary\n{l.summary}\n\n## Recall\n{recall}\n\n" + exercise_markdown(lesson)


def teacher_table() -> pd.DataFrame:
    """One row per lesson for a teacher: objectives, prerequisites, the paper's figures, exercises."""
    return pd.DataFrame([{"lesson": l.number, "title": l.title, "paper": l.paper,
                          "objectives": "; ".join(l.objectives), "prerequisites": l.prerequisites,
                          "exercises": len(l.exercises), "class minutes": l.minutes} for l in LESSONS])


def exercise_markdown(lesson: int) -> str:
    """A lesson's "Try this" section (Markdown), from ``LESSONS``: the one place its exercises are written."""
    items = "\n".join(f"{i}. {text}" for i, text in enumerate(_lesson(lesson).exercises, 1))
    return (f"## Try this\n{items}\n\nAfter trying, `from helpers import solution; "
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
