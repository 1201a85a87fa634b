"""Figures a reader does not misread: intervals drawn as given, legends clear of the data,
blobs inside the axes, model names apart, and axis labels that say where numbers come from."""
import itertools
import json
import math
import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.collections import PathCollection  # noqa: E402
from matplotlib.legend import Legend  # noqa: E402

from helpers.report.figures import hardware as hardware_figures  # noqa: E402
from helpers.report import labels  # noqa: E402
from helpers.report.figures import paper as paper_figures  # noqa: E402
from helpers.report import style  # noqa: E402
from helpers.analysis.evidence import process_baseline_mb  # noqa: E402
from helpers.analysis.fits import LinearFit, floor_slope_fit  # noqa: E402
from helpers.core.reference import PAPER_MODELS, paper_models  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# ------------------------------------------------------------------ helpers of the tests

def _renderer(fig):
    fig.canvas.draw()
    return fig.canvas.get_renderer()


def _overlapping(texts, renderer):
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in texts]
    return [(a, b) for (a, p), (b, q) in itertools.combinations(boxes, 2)
            if min(p.x1, q.x1) - max(p.x0, q.x0) > 0 and min(p.y1, q.y1) - max(p.y0, q.y0) > 0]


def _model_labels(ax, names):
    return [t for t in ax.texts if t.get_text() in set(names)]


def _ci_segments(ax):
    """(x, low, high) of every drawn interval bar, sorted."""
    out = []
    for artist in ax.get_children():
        if artist.get_gid() == style.CI_GID and hasattr(artist, "get_segments"):
            for seg in artist.get_segments():
                (x0, y0), (x1, y1) = seg
                if x0 == x1:  # the bar itself, not a cap
                    out.append((float(x0), float(min(y0, y1)), float(max(y0, y1))))
    return sorted(out)


def _blobs(ax, n):
    """The data blobs: the first scatter with ``n`` points of more than one size or of area > 4."""
    for coll in ax.collections:
        if isinstance(coll, PathCollection) and len(coll.get_offsets()) == n and np.max(coll.get_sizes()) > 4:
            return coll
    raise AssertionError("no blob collection")


def _size_key(ax):
    """The size key of a blob chart (found by its gid)."""
    gid = getattr(paper_figures, "SIZE_KEY_GID", "size_key")
    keys = [a for a in ax.get_children() if a.get_gid() == gid]
    assert len(keys) == 1, "no size key (or more than one)"
    return keys[0]


def _key_texts(key):
    return [t.get_text() for t in key.offsetbox.findobj(matplotlib.text.Text) if t.get_text()]


def _sweep_table():
    batches = [1, 2, 4, 8]
    table = pd.DataFrame({b: [0.010 * (i + 1) / math.sqrt(b) for i in range(3)] for b in batches},
                         index=pd.Index(["AlexNet", "VGG-16", "ResNet-50"], name="model"))
    table.loc["VGG-16", 8] = np.nan  # skipped
    rows = []
    for model, row in table.iterrows():
        for b, v in row.dropna().items():
            rows.append({"model": model, "batch_size": b, "value": v, "ci_low": 0.95 * v, "ci_high": 1.08 * v})
    intervals = pd.DataFrame(rows)
    intervals.loc[(intervals["model"] == "AlexNet") & (intervals["batch_size"] == 2), ["ci_low", "ci_high"]] = np.nan
    return table, intervals


def _accuracy(measured: dict[str, tuple[float, float, float, int]], models) -> pd.DataFrame:
    """A ``top1_for_claims``-shaped frame indexed by model: the paper's top-1, ``measured`` where given."""
    ref = paper_models()
    rows = []
    for m in models:
        if m in measured:
            v, lo, hi, n = measured[m]
            rows.append({"model": m, "top1_pct": v, "ci_low": lo, "ci_high": hi, "n_images": n, "source": "measured"})
        else:
            rows.append({"model": m, "top1_pct": float(ref.at[m, "top1_pct"]), "ci_low": np.nan,
                         "ci_high": np.nan, "n_images": pd.NA, "source": "paper"})
    frame = pd.DataFrame(rows).set_index("model")
    frame["n_images"] = frame["n_images"].astype("Int64")
    return frame


def _fig2_table(accuracy=None):
    ref = paper_models()
    table = pd.DataFrame({"gops": ref["gops_published"], "params_m": ref["params_m_paper"]})
    acc = accuracy if accuracy is not None else _accuracy({}, list(ref.index))
    return table.join(acc[["top1_pct", "ci_low", "ci_high"]])


def _crowded(n=18, seed=1):
    rng = np.random.default_rng(seed)
    names = [f"Network-{i:02d}" for i in range(n)]
    frame = pd.DataFrame({"x": 10 + rng.normal(0, 0.3, n), "y": 50 + rng.normal(0, 0.3, n),
                          "size": rng.uniform(1, 40, n)}, index=names)
    frame.iloc[:4, :2] = [10.0, 50.0]  # four on exactly the same spot
    return frame


# ------------------------------------------------------------------ Figs 3, 4, 5: sweeps

def test_sweep_chart_draws_every_finite_interval_exactly_as_given():
    table, intervals = _sweep_table()
    fig = paper_figures.sweep_chart(table, ylabel="Per-image time [ms]", scale=1000, intervals=intervals)
    ax = fig.axes[0]
    expected = sorted((float(r.batch_size), r.ci_low * 1000, r.ci_high * 1000)
                      for r in intervals.dropna().itertuples())
    drawn = _ci_segments(ax)
    assert len(drawn) == len(expected) == 10  # 11 points, one without an interval
    np.testing.assert_allclose(np.array(drawn), np.array(expected), rtol=1e-12)


def test_sweep_chart_colours_each_interval_like_its_line():
    table, intervals = _sweep_table()
    ax = paper_figures.sweep_chart(table, intervals=intervals).axes[0]
    colours = style.model_colours(table.index)
    bar_colours = {matplotlib.colors.to_hex(a.get_colors()[0]) for a in ax.get_children()
                   if a.get_gid() == style.CI_GID and hasattr(a, "get_colors")}
    assert bar_colours == {matplotlib.colors.to_hex(c) for c in colours.values()}


def test_sweep_chart_without_intervals_draws_no_error_bars():
    table, _ = _sweep_table()
    ax = paper_figures.sweep_chart(table * 1000, ylabel="Peak memory [MB]").axes[0]
    assert _ci_segments(ax) == []


def test_sweep_chart_legend_sits_outside_the_axes_clear_of_every_point():
    table, intervals = _sweep_table()
    fig = paper_figures.sweep_chart(table, scale=1000, intervals=intervals)
    ax = fig.axes[0]
    renderer = _renderer(fig)
    legend = ax.get_legend().get_window_extent(renderer)
    area = ax.get_window_extent(renderer)
    assert legend.x0 >= area.x1, "the legend overlaps the data area"
    for line in ax.lines:
        xy = ax.transData.transform(np.column_stack([line.get_xdata(), line.get_ydata()]).astype(float))
        inside = ((xy[:, 0] >= legend.x0) & (xy[:, 0] <= legend.x1)
                  & (xy[:, 1] >= legend.y0) & (xy[:, 1] <= legend.y1))
        assert not inside.any(), f"{line.get_label()} has a point under the legend"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == list(table.index)


def test_sweep_chart_keeps_the_skipped_markers_and_its_labels():
    table, _ = _sweep_table()
    skipped = pd.DataFrame({"model": ["VGG-16"], "batch_size": [8]})
    ax = paper_figures.sweep_chart(table, ylabel="Per-image time [ms]", skipped=skipped).axes[0]
    crosses = [ln for ln in ax.lines if ln.get_marker() == "x"]
    assert len(crosses) == 1 and list(crosses[0].get_xdata()) == [8]
    assert ax.get_xlabel() == "Batch size [images]" and ax.get_ylabel() == "Per-image time [ms]"


# ------------------------------------------------------------------ Fig 2 and the blob charts

@pytest.mark.parametrize("composed", [False, True], ids=["alone", "beside-the-paper"])
def test_blob_chart_limits_hold_every_blob_whole_vgg19_included(composed):
    table = _fig2_table()
    draw = lambda ax: paper_figures.blob_chart(table, x="gops", y="top1_pct", size="params_m", ax=ax)  # noqa: E731
    fig = (style.side_by_side("paper_fig2_top1_vs_ops", draw, figsize=(15, 6.5)) if composed
           else draw(plt.figure(figsize=(9, 6)).gca()))
    ax = fig.axes[-1]
    _renderer(fig)
    blobs = _blobs(ax, len(table))
    centres = ax.transData.transform(blobs.get_offsets())
    radii = np.sqrt(blobs.get_sizes() / math.pi) * fig.dpi / 72
    area = ax.get_window_extent()
    assert (centres[:, 0] - radii >= area.x0).all() and (centres[:, 0] + radii <= area.x1).all()
    assert (centres[:, 1] + radii <= area.y1).all() and (centres[:, 1] - radii >= area.y0).all()
    vgg = list(table.dropna(subset=["gops"]).index).index("VGG-19")
    assert table.at["VGG-19", "gops"] == pytest.approx(39.3, abs=0.1)
    assert centres[vgg, 0] + radii[vgg] < area.x1 - 5, "VGG-19's blob touches the right edge"
    assert centres[vgg, 0] == pytest.approx(ax.transData.transform((39.3, 70))[0], abs=1)


@pytest.mark.parametrize("composed", [False, True], ids=["alone", "beside-the-paper"])
def test_blob_chart_size_key_lies_outside_the_axes_clear_of_every_data_marker(composed):
    """Figs 2 and 7: the key hangs below the x axis's label, never on the data's axes, so no
    data blob (centre or rim) lies under it; its reference blobs have the data's areas."""
    table = _fig2_table()
    draw = lambda ax: paper_figures.blob_chart(table, x="gops", y="top1_pct", size="params_m", ax=ax,  # noqa: E731
                                               size_title="blob area: parameters [M]")
    fig = (style.side_by_side("paper_fig2_top1_vs_ops", draw, figsize=(15, 6.5)) if composed
           else draw(plt.figure(figsize=(9, 6)).gca()))
    ax = fig.axes[-1]
    renderer = _renderer(fig)
    box = _size_key(ax).get_window_extent(renderer)
    area = ax.get_window_extent(renderer)
    assert box.y1 <= area.y0, "the size key reaches into the data area"
    assert box.y1 <= ax.xaxis.get_tightbbox(renderer).y0, "the size key covers the x axis's labels"
    assert 0 <= box.x0 and box.x1 <= fig.bbox.x1 and 0 <= box.y0, "the size key is cut off by the figure"
    blobs = _blobs(ax, len(table))
    centres = ax.transData.transform(blobs.get_offsets())
    radii = np.sqrt(blobs.get_sizes()) / 2 * fig.dpi / 72
    nearest_x = np.clip(centres[:, 0], box.x0, box.x1)
    nearest_y = np.clip(centres[:, 1], box.y0, box.y1)
    assert (np.hypot(centres[:, 0] - nearest_x, centres[:, 1] - nearest_y) > radii).all(), "a blob under the key"
    circles = _size_key(ax).offsetbox.findobj(matplotlib.patches.Circle)
    diameters = sorted(2 * c.get_radius() for c in circles)  # points, as a scatter marker's sqrt(area)
    np.testing.assert_allclose(diameters, np.sqrt(np.array([5, 35, 65, 95, 125, 155]) * 40.0))
    texts = _key_texts(_size_key(ax))
    assert texts[0] == "blob area: parameters [M]" and texts[1:] == ["5M", "35M", "65M", "95M", "125M", "155M"]


def test_fig7_size_key_lies_below_the_axes_clear_of_every_data_marker():
    ref = paper_models()
    frame = pd.DataFrame({"time_s": ref["gops_published"] / 150 + 0.002, "ops": ref["gops_published"],
                          "params_m": ref["params_m_paper"]})
    fit = LinearFit(slope=150.0, intercept=-0.3, r2=0.987, n=len(frame))
    fig = paper_figures.fig7_ops_vs_time(frame, fit, batch_size=1)
    ax = fig.axes[0]
    renderer = _renderer(fig)
    box = _size_key(ax).get_window_extent(renderer)
    assert box.y1 <= ax.get_window_extent(renderer).y0
    xy = ax.transData.transform(_blobs(ax, len(frame)).get_offsets())
    inside = (xy[:, 0] >= box.x0) & (xy[:, 0] <= box.x1) & (xy[:, 1] >= box.y0) & (xy[:, 1] <= box.y1)
    assert not inside.any()


def test_blob_chart_gives_a_tiny_network_a_visible_blob_and_says_so_in_the_key():
    """A mobile network of 0.06 G-ops would be a 1.5 points² blob, hidden under its white dot:
    it is drawn at the least area, and the key says below which value that happens."""
    frame = pd.DataFrame({"x": [10.0, 40.0, 80.0], "y": [60.0, 70.0, 75.0], "gops": [0.06, 4.1, 20.0]},
                         index=["mobilenet_v3_small", "ResNet-50", "VGG-16"])
    ax = paper_figures.blob_chart(frame, x="x", y="y", size="gops", area_per_unit=25, size_legend=(1, 5, 10),
                                  size_unit=" G-ops", size_title="blob area: operations [G-ops]").axes[0]
    sizes = _blobs(ax, 3).get_sizes()
    assert sizes[0] >= 10 * 4, "the tiny network's blob is hidden under its dot"  # ten times the dot's area
    assert sizes[0] == pytest.approx(paper_figures.MIN_BLOB_AREA)
    np.testing.assert_allclose(sizes[1:], [4.1 * 25, 20.0 * 25])
    title = _key_texts(_size_key(ax))[0]
    floor = paper_figures.MIN_BLOB_AREA / 25
    assert title == f"blob area: operations [G-ops]; below {floor:g} G-ops drawn at {floor:g} G-ops, to stay visible"
    big = paper_figures.blob_chart(frame.assign(gops=[3.0, 4.1, 20.0]), x="x", y="y", size="gops", area_per_unit=25,
                                   size_title="blob area: operations [G-ops]").axes[0]
    assert _key_texts(_size_key(big))[0] == "blob area: operations [G-ops]"  # nothing raised: nothing said


def test_blob_chart_draws_the_wilson_interval_of_measured_models_only():
    acc = _accuracy({"ResNet-50": (76.1, 75.7, 76.5, 50000), "AlexNet": (56.5, 56.1, 56.9, 50000)},
                    list(paper_models().index))
    table = _fig2_table(acc)
    ax = paper_figures.blob_chart(table, x="gops", y="top1_pct", size="params_m", ci=("ci_low", "ci_high")).axes[0]
    expected = sorted((float(table.at[m, "gops"]), acc.at[m, "ci_low"], acc.at[m, "ci_high"])
                      for m in ("ResNet-50", "AlexNet"))
    np.testing.assert_allclose(np.array(_ci_segments(ax)), np.array(expected), rtol=1e-12)


def test_blob_chart_model_names_do_not_overlap_on_a_crowded_example():
    frame = _crowded()
    ax = paper_figures.blob_chart(frame, x="x", y="y", size="size", area_per_unit=10).axes[0]
    labels = _model_labels(ax, frame.index)
    assert sorted(t.get_text() for t in labels) == sorted(frame.index)
    assert _overlapping(labels, _renderer(ax.figure)) == []


def test_blob_chart_names_on_fig2_do_not_overlap():
    table = _fig2_table()
    fig = style.side_by_side("paper_fig2_top1_vs_ops",
                             lambda ax: paper_figures.blob_chart(table, x="gops", y="top1_pct", size="params_m", ax=ax),
                             figsize=(15, 6.5))
    labels = _model_labels(fig.axes[-1], table.index)
    assert len(labels) == len(table)
    assert _overlapping(labels, _renderer(fig)) == []


@pytest.mark.parametrize("shade", [False, True], ids=["line", "bound"])
def test_blob_chart_line_is_drawn_inside_the_data_area_with_its_label_above_the_axes(shade):
    frame = _crowded().assign(x=lambda f: f["x"] * 10)
    line = LinearFit(slope=0.5, intercept=0.0, r2=0.9, n=18)
    ax = paper_figures.blob_chart(frame, x="x", y="y", size="size", line=line, line_label="fit: slope 0.5",
                          shade_above=shade, shade_label="above the bound").axes[0]
    renderer = _renderer(ax.figure)
    drawn = [ln for ln in ax.lines if ln.get_label() == "fit: slope 0.5"][0]
    xs, ys = np.asarray(drawn.get_xdata(), float), np.asarray(drawn.get_ydata(), float)
    ok = np.isfinite(ys)
    assert ok.any()
    np.testing.assert_allclose(ys[ok], 0.5 * xs[ok])
    bottom, top = ax.get_ylim()
    assert (ys[ok] >= bottom).all() and (ys[ok] <= top).all(), "the line runs out of the data area"
    legend = ax.get_legend().get_window_extent(renderer)
    assert legend.y0 >= ax.get_window_extent(renderer).y1
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert texts == (["fit: slope 0.5", "above the bound"] if shade else ["fit: slope 0.5"])
    fills = [c for c in ax.collections if type(c).__name__ in ("PolyCollection", "FillBetweenPolyCollection")]
    assert len(fills) == (1 if shade else 0)


# ------------------------------------------------------------------ Fig 7

def test_fig7_sizes_blobs_by_parameters_and_states_the_fit_and_units():
    ref = paper_models()
    frame = pd.DataFrame({"time_s": ref["gops_published"] / 150 + 0.002, "ops": ref["gops_published"],
                          "params_m": ref["params_m_paper"]})
    fit = LinearFit(slope=150.0, intercept=-0.3, r2=0.987, n=len(frame))
    ax = paper_figures.fig7_ops_vs_time(frame, fit, batch_size=16).axes[0]
    blobs = _blobs(ax, len(frame))
    np.testing.assert_allclose(blobs.get_sizes(),
                               np.maximum(frame["params_m"].to_numpy() * 20, paper_figures.MIN_BLOB_AREA))
    np.testing.assert_allclose(blobs.get_offsets()[:, 0], frame["time_s"].to_numpy() * 1000)
    assert ax.get_xlabel() == "Per-image time at batch 16 [ms]"
    assert ax.get_ylabel() == "Operations per image [G-ops, groups honoured]"
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["least squares: slope 150 G-ops/s, R\u00b2 0.987 (14 models)"]
    line = [ln for ln in ax.lines if ln.get_label() == legend[0]][0]
    xs, ys = np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float)
    ok = np.isfinite(ys)
    np.testing.assert_allclose(ys[ok], 150.0 * xs[ok] / 1000 - 0.3)
    assert _key_texts(_size_key(ax))[0] == "blob area: parameters [M]"
    assert _overlapping(_model_labels(ax, frame.index), _renderer(ax.figure)) == []


# ------------------------------------------------------------------ Figs 5 and 6: memory

def _memory_results(baselines: dict[str, float]) -> pd.DataFrame:
    rows = [{"device_tag": "cpu-x", "model": m, "batch_size": 1, "metric": "memory_static", "value": 10.0,
             "unit": "MB", "status": "ok", "details": json.dumps({"baseline_mb": b})} for m, b in baselines.items()]
    rows.append({"device_tag": "cpu-x", "model": "ENet", "batch_size": 1, "metric": "memory_static", "value": 1.0,
                 "unit": "MB", "status": "skipped", "details": json.dumps({"baseline_mb": 999.0})})
    return pd.DataFrame(rows)


def test_process_baseline_mb_reads_the_ok_static_rows_details():
    base = process_baseline_mb(_memory_results({"AlexNet": 430.0, "VGG-16": 440.0, "ResNet-18": 436.0}))
    assert base.to_dict() == {"AlexNet": 430.0, "VGG-16": 440.0, "ResNet-18": 436.0}
    assert process_baseline_mb(None).empty


def test_memory_labels_name_the_baseline_and_its_median():
    base = pd.Series({"AlexNet": 430.0, "VGG-16": 440.0, "ResNet-18": 436.6})
    label = labels.memory_label("Peak memory [MB]", base, width=200)
    assert label == ("Peak memory [MB] above the process's baseline: interpreter and libraries, median 437 MB")
    assert "not recorded" in labels.memory_label("Peak memory [MB]", pd.Series(dtype=float))


def test_fig6_draws_the_papers_floor_then_slope_and_this_runs_fit_labelled():
    params = pd.Series({"ENet": 1.5, "GoogLeNet": 28.0, "ResNet-18": 46.8, "ResNet-50": 102.0, "AlexNet": 244.0,
                        "VGG-16": 553.0, "VGG-19": 575.0})
    frame = pd.DataFrame({"param_mb": params, "static_mb": params * 1.01 + 3})
    fit = floor_slope_fit(frame["param_mb"], frame["static_mb"])
    base = pd.Series(437.0, index=frame.index)
    ax = paper_figures.fig6_static_memory(frame, fit, base, floor_mb=200, threshold_mb=100, slope=1.30).axes[0]
    lines = {ln.get_label(): ln for ln in ax.lines}
    paper = lines["the paper (TX1): 200 MB floor, then slope 1.30"]
    xs, ys = np.asarray(paper.get_xdata(), float), np.asarray(paper.get_ydata(), float)
    np.testing.assert_allclose(ys[xs < 100], 200.0)
    np.testing.assert_allclose(ys[xs >= 100], 200 + 1.30 * (xs[xs >= 100] - 100))
    assert xs.max() >= params.max()
    ours = f"this run: slope {fit.slope:.2f}, R\u00b2 {fit.r2:.3f} (least squares, {fit.n_linear} models \u2265 100 MB)"
    np.testing.assert_allclose(np.asarray(lines[ours].get_ydata(), float),
                               fit.slope * np.asarray(lines[ours].get_xdata(), float) + fit.intercept)
    assert "1.01" in ours and "R\u00b2 1.000" in ours
    assert ax.get_ylabel().replace("\n", " ") == ("Static memory [MB] above the process's baseline: interpreter and "
                                                  "libraries, median 437 MB")
    assert ax.get_xlabel() == "Parameter memory [MB]: parameters x 4 bytes (float32)"
    renderer = _renderer(ax.figure)
    assert ax.get_legend().get_window_extent(renderer).y0 >= ax.get_window_extent(renderer).y1
    assert _overlapping(_model_labels(ax, frame.index), renderer) == []


def test_fig6_without_a_fitted_line_draws_only_the_paper_and_the_floor():
    frame = pd.DataFrame({"param_mb": [1.5, 28.0], "static_mb": [5.0, 31.0]}, index=["ENet", "GoogLeNet"])
    fit = floor_slope_fit(frame["param_mb"], frame["static_mb"])
    ax = paper_figures.fig6_static_memory(frame, fit, None).axes[0]
    labels = [ln.get_label() for ln in ax.lines if not ln.get_label().startswith("_")]
    assert labels == ["the paper (TX1): 200 MB floor, then slope 1.30",
                      "this run: median of the 2 models < 100 MB: 18 MB"]


# ------------------------------------------------------------------ labels: overlaps

def test_scatter_fit_labels_do_not_overlap_even_on_one_spot():
    frame = pd.DataFrame({"x": [1.0] * 8, "y": [2.0] * 8}, index=[f"Model {i}" for i in range(8)])
    ax = paper_figures.scatter_fit(frame, "x", "y").axes[0]
    labels = _model_labels(ax, frame.index)
    assert len(labels) == 8 and _overlapping(labels, _renderer(ax.figure)) == []


def test_place_labels_ties_a_moved_label_to_its_point():
    frame = _crowded(n=12)
    ax = paper_figures.scatter_fit(frame, "x", "y").axes[0]
    _renderer(ax.figure)
    leaders = [ln for ln in ax.lines if ln.get_label().startswith("_") and len(ln.get_xdata()) == 2]
    starts = {(round(float(ln.get_xdata()[0]), 9), round(float(ln.get_ydata()[0]), 9)) for ln in leaders}
    points = {(round(x, 9), round(y, 9)) for x, y in zip(frame["x"], frame["y"])}
    assert leaders and starts <= points


# ------------------------------------------------------------------ Figs 1, 2, 9, 10: whose top-1

def test_top1_label_says_whose_top1_it_is():
    models = ["AlexNet", "VGG-16", "ResNet-50"]
    assert labels.top1_label(_accuracy({}, models), width=200) == "Top-1 accuracy [%]: the paper's"
    some = _accuracy({"ResNet-50": (76.0, 75.6, 76.4, 50000), "VGG-16": (71.5, 71.1, 71.9, 50000)}, models)
    assert labels.top1_label(some, width=200) == ("Top-1 accuracy [%]: measured (50,000 images) for 2 models, "
                                                  "the paper's for the rest")
    one = _accuracy({"VGG-16": (71.5, 71.1, 71.9, 50000)}, models)
    assert labels.top1_provenance(one) == "measured (50,000 images) for 1 model, the paper's for the rest"
    every = _accuracy({m: (70.0, 69.0, 71.0, n) for m, n in zip(models, (1000, 5000, 50000))}, models)
    assert labels.top1_provenance(every) == "measured (1,000-50,000 images)"
    assert max(len(line) for line in labels.top1_label(some).split("\n")) <= 48


def test_fig1_draws_the_wilson_interval_on_measured_bars_and_says_whose_top1():
    models = list(paper_models().index)
    acc = _accuracy({"ResNet-50": (76.0, 75.6, 76.4, 50000)}, models)
    acc["top1_torchvision"] = acc["top1_pct"] + 1
    acc.loc["ENet", "top1_torchvision"] = np.nan
    fig = paper_figures.fig1_top1(acc, {"top1_pct": "this study", "top1_torchvision": "torchvision"},
                          ci=("ci_low", "ci_high"), ylabel=labels.top1_label(acc))
    ax = fig.axes[0]
    segments = _ci_segments(ax)
    assert len(segments) == 1
    x = models.index("ResNet-50") - 0.2  # the first of two bars per model
    np.testing.assert_allclose(segments[0], (x, 75.6, 76.4))
    assert ax.get_ylabel().replace("\n", " ") == ("Top-1 accuracy [%]: measured (50,000 images) for 1 model, "
                                                  "the paper's for the rest")
    renderer = _renderer(fig)
    assert ax.get_legend().get_window_extent(renderer).y0 >= ax.get_window_extent(renderer).y1
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["this study", "torchvision"]
    assert "n/a" in [t.get_text() for t in ax.texts]
    bottom, top = ax.get_ylim()
    assert bottom <= acc["top1_pct"].min() and top >= acc[["top1_pct", "top1_torchvision"]].max().max()


def test_fig10_states_whose_top1_its_density_is_made_of():
    density = pd.Series({"ENet": 11.7, "GoogLeNet": 10.0, "VGG-19": 0.5})
    label = labels.top1_label(_accuracy({}, list(density.index)), "Top-1 accuracy density [%/M-params]", width=200)
    ax = paper_figures.fig10_density(density, ylabel=label).axes[0]
    assert ax.get_ylabel() == "Top-1 accuracy density [%/M-params]: the paper's"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["VGG-19", "GoogLeNet", "ENet"]


def test_the_papers_speedup_mark_is_drawn_only_where_the_sweep_reaches_its_batch():
    from helpers.report.figures.paper import sweep_chart
    from helpers.report.figures.paper import paper_speedup_mark

    full = pd.DataFrame({1: {"AlexNet": 0.03}, 16: {"AlexNet": 0.02}, 64: {"AlexNet": 0.015}})
    fig = sweep_chart(full, scale=1000)
    assert paper_speedup_mark(fig.gca(), 30.0, 3.0, label="paper 3x")
    line = [l for l in fig.gca().lines if l.get_label() == "paper 3x"][0]
    assert list(line.get_xdata()) == [1, 64] and list(line.get_ydata()) == [30.0, 10.0]
    assert "paper 3x" in [t.get_text() for t in fig.gca().get_legend().get_texts()]
    short = sweep_chart(full[[1, 16]], scale=1000)
    assert not paper_speedup_mark(short.gca(), 30.0, 3.0)
    plt.close("all")


def test_the_papers_power_mark_spans_one_standard_deviation():
    from helpers.report.figures.paper import paper_power_mark

    fig, ax = plt.subplots()
    ax.scatter([10.0, 12.0], [1.0, 2.0])
    paper_power_mark(ax, 11.8, 0.7)
    line = [l for l in ax.lines if "11.8" in l.get_label()][0]
    assert list(line.get_xdata()) == [11.8, 11.8]
    band = ax.patches[-1].get_extents()  # the shaded band, in display units
    x0, x1 = ax.transData.inverted().transform([[band.x0, 0], [band.x1, 0]])[:, 0]
    assert x0 == pytest.approx(11.1, abs=1e-6) and x1 == pytest.approx(12.5, abs=1e-6)
    plt.close(fig)


# ------------------------------------------------------------------ the roofline and the cache explanation

def _roofline_frame():
    """Two models at batches 1, 4, 16: intensity (op/B) and achieved G-ops/s with 95 % intervals."""
    rows = []
    for model, base in (("AlexNet", 5.0), ("ResNet-50", 20.0)):
        for i, b in enumerate((1, 4, 16)):
            achieved = 30.0 * (i + 1)
            rows.append({"model": model, "batch_size": b, "intensity": base * (i + 1), "achieved_gops": achieved,
                         "achieved_ci_low": 0.9 * achieved, "achieved_ci_high": 1.1 * achieved,
                         "latency_s": 1.0 / achieved, "latency_ci_low": 0.95 / achieved,
                         "latency_ci_high": 1.05 / achieved})
    return pd.DataFrame(rows)


def _batch_key(ax):
    """(text, handle) of every legend entry of ``ax`` that names a batch size."""
    out = []
    for legend in (a for a in ax.get_children() if isinstance(a, Legend)):
        out += [(t.get_text(), h) for t, h in zip(legend.get_texts(), legend.legend_handles)
                if t.get_text().startswith("batch ")]
    return out


def _roofline_sweep(batches=(1, 2, 4, 8, 16, 32, 64)):
    """Two models over seven batch sizes, achieved G-ops/s within one decade (where matplotlib
    would label minor log ticks 2x10^1, 6x10^1)."""
    rows = []
    for model, base in (("AlexNet", 4.0), ("ResNet-50", 18.0)):
        for i, b in enumerate(batches):
            achieved = 25.0 + 12.0 * i
            rows.append({"model": model, "batch_size": b, "intensity": base * (1 + 0.4 * i), "achieved_gops": achieved,
                         "achieved_ci_low": 0.93 * achieved, "achieved_ci_high": 1.07 * achieved,
                         "latency_s": 1.0 / achieved, "latency_ci_low": 0.95 / achieved,
                         "latency_ci_high": 1.05 / achieved})
    return pd.DataFrame(rows)


def test_roofline_chart_draws_the_roof_ridge_and_one_line_per_model():
    from helpers.core.stats import Estimate

    peak = Estimate(150.0, 140.0, 160.0, n=10, unit="GFLOP/s")
    triad = Estimate(20.0, 19.0, 21.0, n=10, unit="GB/s")
    frame = _roofline_frame()
    fig = hardware_figures.roofline_chart(frame, peak, triad)
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    roof = [line for line in ax.lines if line.get_gid() == hardware_figures.ROOF_GID]
    assert len(roof) == 1
    xs, ys = np.asarray(roof[0].get_xdata(), float), np.asarray(roof[0].get_ydata(), float)
    ridge = 150.0 / 20.0
    assert xs[1] == pytest.approx(ridge) and ys[1] == pytest.approx(150.0)
    assert ys[-1] == pytest.approx(150.0) and ys[0] == pytest.approx(20.0 * xs[0])  # flat peak, memory slope
    assert xs[0] < frame["intensity"].min() and xs[-1] > frame["intensity"].max()
    model_lines = [line for line in ax.lines if line.get_label() in ("AlexNet", "ResNet-50")]
    assert len(model_lines) == 2
    assert sorted(np.asarray(model_lines[0].get_xdata(), float)) == [5.0, 10.0, 15.0]
    assert len(_ci_segments(ax)) == len(frame)
    assert any(np.allclose(line.get_xdata(), [ridge]) for line in ax.lines if line.get_marker() == "D")
    legend = ax.get_legend()
    labels = [t.get_text() for t in legend.get_texts()]
    assert {"AlexNet", "ResNet-50"} <= set(labels)
    assert {"batch 1", "batch 4", "batch 16"} <= {text for text, _ in _batch_key(ax)}
    renderer = _renderer(fig)
    assert legend.get_window_extent(renderer).x0 >= ax.get_window_extent(renderer).x1  # outside the axes


def test_roofline_chart_of_nothing_says_so():
    fig = hardware_figures.roofline_chart(_roofline_frame().iloc[:0], 150.0, 20.0)
    ax = fig.axes[0]
    assert not ax.axison and "nothing to place" in ax.texts[0].get_text()


def test_cache_chart_lines_relative_to_the_fastest_batch_and_the_cache_line():
    frame = _roofline_frame()
    traffic = pd.DataFrame({"model": frame["model"], "batch_size": frame["batch_size"],
                            "largest_activation_op_bytes": [50, 100, 400, 20, 80, 320]})
    fig = hardware_figures.cache_chart(frame, traffic, llc_bytes=100)
    ax = fig.axes[0]
    assert ax.get_xscale() == "log"
    lines = {line.get_label(): line for line in ax.lines}
    assert set(lines) >= {"AlexNet", "ResNet-50"}
    for model in ("AlexNet", "ResNet-50"):
        ys = np.asarray(lines[model].get_ydata(), float)
        assert ys.min() == pytest.approx(1.0)  # relative to the fastest batch
    assert np.asarray(lines["AlexNet"].get_xdata(), float).tolist() == [0.5, 1.0, 4.0]
    assert np.asarray(lines["AlexNet"].get_ydata(), float).tolist() == pytest.approx([3.0, 1.5, 1.0])
    cache = [line for label, line in lines.items() if label.startswith("leaves the last-level cache")]
    assert len(cache) == 1 and np.allclose(cache[0].get_xdata(), [1.0, 1.0])
    empty = hardware_figures.cache_chart(frame.iloc[:0], traffic, llc_bytes=100)
    assert not empty.axes[0].axison


def test_importing_the_figures_leaves_matplotlib_style_alone():
    """Importing a figure module changes no rc parameter; ``use_style`` (a lesson's setup) applies the look."""
    import subprocess
    import sys

    code = ("import matplotlib; matplotlib.use('Agg'); import matplotlib.pyplot as plt; before = dict(plt.rcParams)\n"
            "import helpers.report.figures.paper, helpers.report.figures.hardware, helpers.report.figures.modern\n"
            "print(sorted(k for k, v in plt.rcParams.items() if before[k] != v))\n"
            "from helpers.report.style import STYLE, use_style; use_style()\n"
            "print(all(plt.rcParams[k] == v for k, v in STYLE.items()))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[0] == "[]" and out[1] == "True"


# ------------------------------------------------------------------ readable figures (the course issue)

def test_lesson_map_titles_fit_their_boxes_and_no_two_texts_overlap():
    """The course guide's map of the real 9 lessons: every title and figure list wrapped inside
    its own box, and no two texts overlapping."""
    from helpers.course.lessons import lesson_map
    from helpers.course.syllabus import lesson_table

    lessons = lesson_table()
    assert len(lessons) == 9
    fig = lesson_map(lessons)
    ax = fig.axes[0]
    renderer = _renderer(fig)
    texts = [t for t in ax.texts if t.get_text()]
    assert len(texts) == 2 * len(lessons)
    assert _overlapping(texts, renderer) == []
    boxes = sorted(ax.patches, key=lambda p: p.get_window_extent(renderer).x0)
    for i, row in enumerate(lessons.itertuples()):
        title, paper = texts[2 * i], texts[2 * i + 1]
        assert " ".join(title.get_text().split()) == f"{row.lesson}. {row.title}"
        assert " ".join(paper.get_text().split()) == " ".join(str(row.paper).split())
        box = boxes[i].get_window_extent(renderer)
        for text in (title, paper):
            inner = text.get_window_extent(renderer)
            assert box.x0 <= inner.x0 and inner.x1 <= box.x1 and box.y0 <= inner.y0 and inner.y1 <= box.y1, \
                f"{text.get_text()!r} spills out of lesson {row.lesson}'s box"


def test_pareto_chart_names_every_point_apart_the_frontier_in_bold():
    """Lesson 8's frontiers: every network is named (not only the frontier's), no two names overlap."""
    from helpers.analysis import modern
    from helpers.report.figures.modern import pareto_chart

    rng = np.random.default_rng(3)
    names = list(PAPER_MODELS) + [f"net_{i:02d}" for i in range(16)]
    cost = pd.Series(10 ** rng.uniform(-1, 1.6, len(names)), index=names)
    accuracy = pd.Series(55 + 30 * rng.random(len(names)), index=names)
    front = modern.frontier(accuracy, cost)
    fig = pareto_chart(front, xlabel="G-ops")
    ax = fig.axes[0]
    labels = _model_labels(ax, names)
    assert sorted(t.get_text() for t in labels) == sorted(names)
    assert _overlapping(labels, _renderer(fig)) == []
    bold = {t.get_text() for t in labels if t.get_fontweight() == "bold"}
    assert bold == set(front.index[front["on_frontier"]]) and 0 < len(bold) < len(names)


def test_fig10_marks_the_era_of_every_bar_with_a_legend():
    """Fig 10 of lesson 8: the paper's 14 plain, the networks since 2016 hatched, names coloured by
    era, and a legend naming both eras; a ranking of the paper's networks alone stays unmarked."""
    from helpers.analysis.modern import ERA_PAPER, ERA_SINCE

    density = pd.Series({"ENet": 11.7, "squeezenet1_1": 47.0, "VGG-19": 0.5, "mobilenet_v2": 20.5, "GoogLeNet": 10.0})
    ax = paper_figures.fig10_density(density).axes[0]
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    assert ticks == ["VGG-19", "GoogLeNet", "ENet", "mobilenet_v2", "squeezenet1_1"]
    bars = list(ax.patches)[:len(ticks)]
    hatched = {name: bool(bar.get_hatch()) for name, bar in zip(ticks, bars)}
    assert hatched == {name: name not in PAPER_MODELS for name in ticks}
    colours = {name: matplotlib.colors.to_hex(t.get_color()) for name, t in zip(ticks, ax.get_xticklabels())}
    assert colours["ENet"] == colours["VGG-19"] != colours["mobilenet_v2"] == colours["squeezenet1_1"]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert len(legend) == 2 and legend[0].startswith(ERA_PAPER) and legend[1].startswith(ERA_SINCE)
    assert "3 networks" in legend[0] and "2 networks" in legend[1]
    renderer = _renderer(ax.figure)
    assert ax.get_legend().get_window_extent(renderer).y0 >= ax.get_window_extent(renderer).y1
    paper_only = paper_figures.fig10_density(density[["ENet", "VGG-19"]]).axes[0]
    assert paper_only.get_legend() is None and not any(b.get_hatch() for b in paper_only.patches)


def test_roofline_ticks_are_plain_numbers():
    """No "2x10^2" or "6x10^1": every labelled tick in view reads as a plain number at its place."""
    from helpers.core.stats import Estimate

    fig = hardware_figures.roofline_chart(_roofline_sweep(), Estimate(150.0, 140.0, 160.0, n=10),
                                          Estimate(20.0, 19.0, 21.0, n=10))
    ax = fig.axes[0]
    _renderer(fig)
    for axis in (ax.yaxis, ax.xaxis):
        lo, hi = sorted(axis.get_view_interval())
        shown = []
        for minor in (False, True):
            for loc, label in zip(axis.get_ticklocs(minor=minor), axis.get_ticklabels(minor=minor)):
                if lo <= loc <= hi and label.get_visible() and label.get_text():
                    shown.append((loc, label.get_text()))
        for loc, text in shown:
            assert re.fullmatch(r"\d+(\.\d+)?", text), f"{axis.axis_name} tick {text!r} is not a plain number"
            assert float(text) == pytest.approx(loc, rel=1e-9)
        assert len(shown) >= 3, f"{axis.axis_name}: fewer than 3 labelled ticks"


def test_roofline_key_shows_every_batch_size_at_its_marker_size():
    """Batch 1 and batch 64 told apart: one key entry per batch size, each the size of the data's
    markers at that batch (growing strictly), in a key above the axes, clear of the data."""
    from helpers.core.stats import Estimate

    batches = (1, 2, 4, 8, 16, 32, 64)
    fig = hardware_figures.roofline_chart(_roofline_sweep(batches), Estimate(150.0, 140.0, 160.0, n=10),
                                          Estimate(20.0, 19.0, 21.0, n=10))
    ax = fig.axes[0]
    key = _batch_key(ax)
    assert [text for text, _ in key] == [f"batch {b}" for b in batches]
    sizes = np.array([h.get_markersize() for _, h in key]) ** 2
    assert (np.diff(sizes) > 0).all() and sizes[-1] >= 4 * sizes[0]
    markers = [c for c in ax.collections if isinstance(c, PathCollection) and len(c.get_offsets()) == len(batches)]
    assert len(markers) == 2
    for coll in markers:
        np.testing.assert_allclose(coll.get_sizes(), sizes)  # the key's marker is the data's at that batch
    renderer = _renderer(fig)
    legend = [a for a in ax.get_children() if a.get_gid() == hardware_figures.BATCH_KEY_GID][0]
    box, area = legend.get_window_extent(renderer), ax.get_window_extent(renderer)
    assert box.y0 >= area.y1 and box.y1 <= fig.bbox.y1, "the batch key is not above the axes, inside the figure"


def test_cache_chart_draws_each_points_95_interval_relative_to_the_same_fastest_batch():
    """The cache test's points carry their intervals (the roofline table's latency_ci_low/high),
    divided by the model's fastest median like the point itself."""
    frame = _roofline_frame()
    ws = [50, 100, 400, 20, 80, 320]
    traffic = pd.DataFrame({"model": frame["model"], "batch_size": frame["batch_size"],
                            "largest_activation_op_bytes": ws})
    ax = hardware_figures.cache_chart(frame, traffic, llc_bytes=100).axes[0]
    expected = []
    for model, rows in frame.assign(ws=ws).groupby("model"):
        fastest = rows["latency_s"].min()
        expected += [(w / 100, lo / fastest, hi / fastest)
                     for w, lo, hi in zip(rows["ws"], rows["latency_ci_low"], rows["latency_ci_high"])]
    drawn = _ci_segments(ax)
    assert len(drawn) == len(frame)
    np.testing.assert_allclose(np.array(drawn), np.array(sorted(expected)), rtol=1e-12)
    assert "95 % interval" in ax.get_ylabel()
