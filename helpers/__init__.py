"""Canziani, Paszke and Culurciello (2016), reproduced: what the package offers the lessons.

The package is layered; each layer imports only the layers above it in this list::

    core      paths, the paper's published numbers, statistics, /proc readings, lists
    models    the networks (paper-era architectures and the libraries' zoo)
    counting  operations, parameters and bytes of a network, cached per library version
    store     the results store: row schema, runs, machine identity, characterisations
    measure   the instruments: the engine, time, memory, power, peaks, accuracy, studies
    analysis  statistics of the evidence: fits, claims and their verdicts, roofline, since 2016
    report    figures and sentences drawn from the analysis; the gallery
    course    the lessons' syllabus and the glue a notebook calls
    cli       ``python -m helpers ...``

A notebook imports only from here (``from helpers import setup, count_table``); each name is
loaded from its module on first use, so ``import helpers`` costs nothing. ``PUBLIC`` maps each
name to the module that defines it.
"""
from __future__ import annotations

import importlib

#: Each module and the names it offers, by layer; ``name=attribute`` offers the module's ``attribute`` as ``name``.
_OFFERED: dict[str, tuple[str, ...]] = {
    "helpers.core.reference": ("paper_number",),
    "helpers.models.weights": ("reference_top1",),
    "helpers.models.zoo": ("build_model", "example_input"),
    "helpers.counting.ops": ("count_gops",),
    "helpers.counting.table": ("count_table",),
    "helpers.store.results": ("load_results", "not_measured"),
    "helpers.measure.layers": ("layer_time_share", "layer_share_table", "layer_share_summary", "measure_layers",
        "stored_layer_shares"),
    "helpers.measure.profiles": ("layer_batches",),
    "helpers.measure.power": ("probe_statuses",),
    "helpers.measure.sweep": ("measure_points=measure", "interval_width_table", "summarise"),
    "helpers.analysis.claims": ("agreement", "claims_table", "compare_verdicts", "paper_check_summary",
                                "runtime_claims_table"),
    "helpers.analysis.evidence": ("at_largest_batch", "batch_sizes", "devices_with", "images_per_second",
        "memory_knees", "metric_table", "ops_vs_time", "point_table", "process_baseline_mb", "run_evidence",
        "speedups", "static_vs_parameter_memory"),
    "helpers.analysis.fits": ("accuracy_density", "density_ratio", "energy_accuracy_bound", "floor_slope_fit",
        "linear_upper_bound"),
    "helpers.analysis.modern": ("density_ranking", "era", "frontiers", "latency_at", "lesson_models",
        "missing_note", "reference_accuracy", "same_network_pairs"),
    "helpers.analysis.reproducibility": ("check_standard_summary", "coverage", "normalised_values",
                                         "normalised_summary", "recorded_reference", "run_report"),
    "helpers.analysis.roofline": ("cache_summary", "fraction_of_peak_table", "roofline_summary", "runtime_roofline",
                                  "runtime_roofline_summary", "why_time_rises"),
    "helpers.analysis.studies": ("study_results", "threads_table", "threads_summary", "dtype_table",
        "dtype_summary", "runtimes_table", "fastest_runtimes", "runtime_ranking", "runtimes_summary",
        "same_point_table", "same_point_summary"),
    "helpers.report.figures.hardware": ("cache_chart", "dtype_chart", "roofline_chart", "runtimes_chart", "threads_chart"),
    "helpers.report.figures.modern": ("pareto_chart",),
    "helpers.report.figures.power": ("power_trace_chart",),
    "helpers.report.figures.paper": ("blob_chart", "fig10_density", "fig1_top1", "fig6_static_memory",
        "fig7_ops_vs_time", "paper_power_mark", "paper_speedup_mark", "scatter_fit", "step_chart", "sweep_chart"),
    "helpers.report.labels": ("memory_label", "top1_label", "top1_provenance"),
    "helpers.report.style": ("message_figure", "side_by_side"),
    "helpers.report.text": ("disagreements", "memory_summary", "knee_summary", "twins_summary", "verdict_changes", "latency_notice",
        "memory_notice", "density_notice", "fraction_notice", "speedup_summary", "time_outliers", "verdict_lines"),
    "helpers.course.lessons": ("overview", "run_roofline", "run_runtimes", "lesson_map", "measure_for_lesson",
                               "power_results"),
    "helpers.course.notebook": ("setup",),
    "helpers.course.power_demo": ("power_window_demo", "power_demo_summary"),
    "helpers.course.scratch": ("check_conv_count", "scratch_layer", "timing_report", "resident_report"),
    "helpers.course.syllabus": ("solution", "exercises", "lesson_end", "lesson_table", "teacher_table", "predict", "meeting_plan"),
}
#: name -> "module:attribute" (attribute defaults to the name).
PUBLIC: dict[str, str] = {}
for _module, _names in _OFFERED.items():
    for _name in _names:
        _public, _, _attribute = _name.partition("=")
        PUBLIC[_public] = f"{_module}:{_attribute}" if _attribute else _module
del _module, _names, _name, _public, _attribute

__all__ = sorted(PUBLIC)


def __getattr__(name: str):
    """Load a public name from its module on first use (PEP 562)."""
    try:
        target = PUBLIC[name]
    except KeyError:
        raise AttributeError(f"module 'helpers' has no attribute {name!r}; public names: helpers.PUBLIC") from None
    module, _, attribute = target.partition(":")
    value = getattr(importlib.import_module(module), attribute or name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(PUBLIC))
