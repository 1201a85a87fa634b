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

#: name -> "module:attribute" (attribute defaults to the name), grouped by layer.
PUBLIC: dict[str, str] = {
    # core
    "paper_number": "helpers.core.reference",
    # models
    "build_model": "helpers.models.zoo", "example_input": "helpers.models.zoo",
    # counting
    "count_gops": "helpers.counting.ops", "count_table": "helpers.counting.table",
    # store
    "load_results": "helpers.store.results", "not_measured": "helpers.store.results",
    # measure
    "reference_top1": "helpers.models.weights",
    "overview": "helpers.course.lessons",
    "layer_time_share": "helpers.measure.layers",
    "probe_statuses": "helpers.measure.power",
    "measure_points": "helpers.measure.sweep:measure", "interval_width_table": "helpers.measure.sweep",
    "summarise": "helpers.measure.sweep",
    # analysis
    "agreement": "helpers.analysis.claims", "claims_table": "helpers.analysis.claims",
    "at_largest_batch": "helpers.analysis.evidence", "batch_sizes": "helpers.analysis.evidence",
    "devices_with": "helpers.analysis.evidence", "images_per_second": "helpers.analysis.evidence",
    "memory_knees": "helpers.analysis.evidence", "metric_table": "helpers.analysis.evidence",
    "ops_vs_time": "helpers.analysis.evidence", "point_table": "helpers.analysis.evidence",
    "process_baseline_mb": "helpers.analysis.evidence", "run_evidence": "helpers.analysis.evidence",
    "speedups": "helpers.analysis.evidence", "static_vs_parameter_memory": "helpers.analysis.evidence",
    "accuracy_density": "helpers.analysis.fits", "density_ratio": "helpers.analysis.fits",
    "energy_accuracy_bound": "helpers.analysis.fits", "floor_slope_fit": "helpers.analysis.fits",
    "linear_upper_bound": "helpers.analysis.fits",
    "density_ranking": "helpers.analysis.modern", "era": "helpers.analysis.modern",
    "frontiers": "helpers.analysis.modern", "latency_at": "helpers.analysis.modern",
    "lesson_models": "helpers.analysis.modern", "missing_note": "helpers.analysis.modern",
    "reference_accuracy": "helpers.analysis.modern",
    "cache_summary": "helpers.analysis.roofline", "fraction_of_peak_table": "helpers.analysis.roofline",
    "roofline_summary": "helpers.analysis.roofline", "run_roofline": "helpers.course.lessons",
    "study_results": "helpers.analysis.studies", "threads_table": "helpers.analysis.studies",
    "threads_summary": "helpers.analysis.studies", "dtype_table": "helpers.analysis.studies",
    "dtype_summary": "helpers.analysis.studies",
    # report
    "blob_chart": "helpers.report.figures.paper", "cache_chart": "helpers.report.figures.hardware",
    "dtype_chart": "helpers.report.figures.hardware", "fig10_density": "helpers.report.figures.paper",
    "fig1_top1": "helpers.report.figures.paper", "fig6_static_memory": "helpers.report.figures.paper",
    "fig7_ops_vs_time": "helpers.report.figures.paper", "lesson_map": "helpers.course.lessons",
    "memory_label": "helpers.report.labels", "message_figure": "helpers.report.style",
    "paper_power_mark": "helpers.report.figures.paper", "paper_speedup_mark": "helpers.report.figures.paper",
    "pareto_chart": "helpers.report.figures.modern", "roofline_chart": "helpers.report.figures.hardware",
    "scatter_fit": "helpers.report.figures.paper", "side_by_side": "helpers.report.style",
    "step_chart": "helpers.report.figures.paper", "sweep_chart": "helpers.report.figures.paper",
    "threads_chart": "helpers.report.figures.hardware", "top1_label": "helpers.report.labels",
    "top1_provenance": "helpers.report.labels",
    "disagreements": "helpers.report.text", "memory_summary": "helpers.report.text",
    "speedup_summary": "helpers.report.text", "time_outliers": "helpers.report.text",
    "verdict_lines": "helpers.report.text",
    # course
    "setup": "helpers.course.notebook", "solution": "helpers.course.syllabus",
    "exercises": "helpers.course.syllabus", "lesson_end": "helpers.course.syllabus",
    "lesson_table": "helpers.course.syllabus", "teacher_table": "helpers.course.syllabus",
    "measure_for_lesson": "helpers.course.lessons",
}

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
