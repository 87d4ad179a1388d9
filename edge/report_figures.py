"""The replay report's figures as PNG bytes, drawn on matplotlib's Agg canvas: no display, no pyplot and its
global state, so they render the same on a headless camera box as anywhere else.

Pictures of the scene are only ever the redacted backdrop the collector kept from the pipeline's ring."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure
from matplotlib.patches import Polygon
from matplotlib.ticker import FormatStrFormatter, MaxNLocator

from edge.drawing import ZONE_COLOURS
from edge.report_data import FrameRow
from models.config.zones import Zone

DPI = 110
JPEG_QUALITY = 85
WIDTH_IN = 9.0
EVENT_COLOURS = {"jaywalking": "#d1495b", "littering": "#7b5ea7"}
STAGE_COLOUR = "#3c6e91"
TEXT = "#1f2933"


@dataclass(frozen=True)
class EventSpan:
    label: str
    type: str
    t_start: float
    t_end: float


def zone_colour(kind: str) -> tuple[float, float, float]:
    """The evidence drawings' colour for a zone kind (stored there as OpenCV BGR), as matplotlib RGB."""
    blue, green, red = ZONE_COLOURS[kind]
    return (red / 255.0, green / 255.0, blue / 255.0)


def _save(figure: Figure, kind: str = "png") -> bytes:
    """PNG for charts; JPEG for pictures of the scene, which PNG stores at several times the size."""
    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    extra: dict[str, Any] = {"pil_kwargs": {"quality": JPEG_QUALITY}} if kind == "jpeg" else {}
    figure.savefig(buffer, format=kind, dpi=DPI, bbox_inches="tight", pad_inches=0.08, facecolor="white", **extra)
    return buffer.getvalue()


def _scene_axes(scene: np.ndarray) -> tuple[Figure, Axes]:
    """A figure whose axes span the frame in normalised coordinates (0..1, y down), sized to its aspect."""
    height, width = scene.shape[:2]
    figure = Figure(figsize=(WIDTH_IN, WIDTH_IN * height / width))
    axes = figure.add_axes((0.0, 0.0, 1.0, 1.0))
    axes.imshow(scene, extent=(0.0, 1.0, 1.0, 0.0), interpolation="antialiased")
    axes.set_xlim(0.0, 1.0)
    axes.set_ylim(1.0, 0.0)
    axes.set_aspect(height / width)
    axes.set_axis_off()
    return figure, axes


def _outline_zones(axes: Axes, zones: Sequence[Zone], *, fill: bool) -> None:
    for zone in zones:
        colour = zone_colour(zone.kind)
        axes.add_patch(
            Polygon(
                list(zone.polygon),
                closed=True,
                facecolor=(*colour, 0.28 if fill else 0.0),
                edgecolor=colour,
                linewidth=2.2,
            )
        )


def _label_zones(axes: Axes, zones: Sequence[Zone]) -> None:
    for zone in zones:
        xs, ys = zip(*zone.polygon, strict=True)
        axes.text(
            sum(xs) / len(xs),
            sum(ys) / len(ys),
            f"{zone.name}\n{zone.kind}",
            ha="center",
            va="center",
            fontsize=10,
            color=TEXT,
            bbox={"boxstyle": "round,pad=0.35", "facecolor": "white", "edgecolor": zone_colour(zone.kind), "lw": 2},
        )


def zones_figure(scene: np.ndarray, zones: Sequence[Zone]) -> bytes:
    """The zones filled and named over the redacted backdrop (RGB)."""
    figure, axes = _scene_axes(scene)
    _outline_zones(axes, zones, fill=True)
    _label_zones(axes, zones)
    return _save(figure, "jpeg")


def heat_figure(scene: np.ndarray, zones: Sequence[Zone], counts: np.ndarray) -> bytes:
    """Foot-point counts per cell over a greyed backdrop, zones outlined, with a colour scale."""
    grey = scene.mean(axis=2, keepdims=True).repeat(3, axis=2) / 255.0
    figure, axes = _scene_axes(0.15 + 0.5 * grey)
    masked = np.ma.masked_equal(counts, 0)
    # A log scale: people waiting at a kerb pile up far more points than those walking, who would vanish.
    scale = LogNorm(vmin=1, vmax=max(int(counts.max(initial=0)), 2))
    image = axes.imshow(
        masked, extent=(0.0, 1.0, 1.0, 0.0), cmap="YlOrRd", norm=scale, alpha=0.9, interpolation="nearest"
    )
    axes.set_xlim(0.0, 1.0)
    axes.set_ylim(1.0, 0.0)
    axes.set_aspect(scene.shape[0] / scene.shape[1])
    _outline_zones(axes, zones, fill=False)
    bar = figure.colorbar(image, ax=axes, fraction=0.025, pad=0.01)
    bar.set_label("person foot points per cell (log scale)", color=TEXT)
    bar.ax.yaxis.set_major_formatter(FormatStrFormatter("%g"))
    return _save(figure, "jpeg")


def timeline_figure(rows: Sequence[FrameRow], events: Sequence[EventSpan]) -> bytes:
    """People detected and person tracks alive per frame over source time; below, one lane per event."""
    lanes = max(len(events), 1)
    figure = Figure(figsize=(WIDTH_IN, 2.8 + 0.32 * lanes))
    grid = figure.add_gridspec(2, 1, height_ratios=(2.6, 0.3 + 0.32 * lanes), hspace=0.08)
    counts = figure.add_subplot(grid[0])
    lane_axes = figure.add_subplot(grid[1], sharex=counts)
    times = [row.t for row in rows]
    counts.fill_between(
        times, [row.persons for row in rows], step="post", color="#7fb2dc", alpha=0.55, lw=0, label="people detected"
    )
    counts.step(
        times, [len(row.tracks) for row in rows], where="post", color="#1f4e79", lw=2.0, label="person tracks alive"
    )
    for event in events:
        colour = EVENT_COLOURS.get(event.type, "#555555")
        counts.axvspan(event.t_start, event.t_end, color=colour, alpha=0.10, lw=0, zorder=0)
    counts.set_ylabel("count", color=TEXT)
    counts.set_ylim(bottom=0)
    # A linear axis's default locator is an AutoLocator, which is a MaxNLocator.
    cast(MaxNLocator, counts.yaxis.get_major_locator()).set_params(integer=True)
    counts.grid(alpha=0.3)
    counts.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), ncol=3, frameon=False, fontsize=9)
    counts.tick_params(labelbottom=False)
    for lane, event in enumerate(events):
        colour = EVENT_COLOURS.get(event.type, "#555555")
        lane_axes.barh(lane, max(event.t_end - event.t_start, 0.05), left=event.t_start, height=0.6, color=colour)
    lane_axes.set_yticks(range(len(events)), [event.label for event in events], fontsize=9)
    lane_axes.set_ylim(lanes - 0.5, -0.5)
    lane_axes.set_xlabel("source time (s)", color=TEXT)
    lane_axes.grid(axis="x", alpha=0.3)
    if times:
        counts.set_xlim(times[0], max(times[-1], times[0] + 1e-3))
    if not events:
        lane_axes.set_yticks([])
        lane_axes.text(0.5, 0.5, "no events", transform=lane_axes.transAxes, ha="center", va="center", color="#777777")
    return _save(figure)


def timing_figure(per_frame_ms: dict[str, float]) -> bytes:
    """Milliseconds per frame for each pipeline stage, with its share of the total."""
    stages = list(per_frame_ms)
    values = [per_frame_ms[stage] for stage in stages]
    total = sum(values) or 1.0
    figure = Figure(figsize=(WIDTH_IN, 0.36 * len(stages) + 0.8))
    axes = figure.add_subplot()
    axes.barh(stages, values, color=STAGE_COLOUR, height=0.6)
    axes.invert_yaxis()
    for position, value in enumerate(values):
        axes.text(value, position, f"  {value:.1f} ms ({value / total:.0%})", va="center", fontsize=9, color=TEXT)
    axes.set_xlim(0, max(values, default=0.0) * 1.25 or 1.0)
    axes.set_xlabel("ms per frame", color=TEXT)
    axes.grid(axis="x", alpha=0.3)
    axes.spines[["top", "right"]].set_visible(False)
    return _save(figure)
