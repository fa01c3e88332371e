"""PNG charts of the benchmark figures (matplotlib, no display needed).

Each function writes ``out / filename`` and returns ``filename`` (the Markdown links to it);
with ``out`` ``None`` (a ``--quick`` run without ``--out``) or without matplotlib, nothing is
drawn and it returns ``""``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from importlib.util import find_spec
from pathlib import Path
from typing import Any

HAS_MATPLOTLIB = find_spec("matplotlib") is not None
COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#7f7f7f", "#9467bd", "#ff7f0e")


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(figure: Any, out: Path, filename: str) -> str:
    plt = _pyplot()
    out.mkdir(parents=True, exist_ok=True)
    figure.tight_layout()
    figure.savefig(out / filename, dpi=110)
    plt.close(figure)
    return filename


def bars(
    out: Path | None,
    filename: str,
    title: str,
    items: Sequence[tuple[str, float]],
    unit: str,
    *,
    log: bool = False,
) -> str:
    """A horizontal bar per item, its value written beside it."""
    if out is None or not HAS_MATPLOTLIB:
        return ""
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(8, 0.55 * len(items) + 1.2))
    labels = [label for label, _ in items][::-1]
    values = [value for _, value in items][::-1]
    colors = [COLORS[0] if label.startswith("ours") else COLORS[3] for label in labels]
    axes.barh(labels, values, color=colors)
    if log:
        axes.set_xscale("log")
    for index, value in enumerate(values):
        axes.text(value, index, f" {_label(value)}", va="center", fontsize=8)
    axes.set_xlabel(unit)
    axes.set_title(title)
    axes.margins(x=0.25)
    return _save(figure, out, filename)


def grouped(
    out: Path | None,
    filename: str,
    title: str,
    groups: Sequence[str],
    series: Mapping[str, Sequence[float]],
    unit: str,
    *,
    log: bool = False,
) -> str:
    """Vertical bars: one group per entry of ``groups``, one bar per series within it."""
    if out is None or not HAS_MATPLOTLIB:
        return ""
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(8, 4.2))
    width = 0.8 / max(1, len(series))
    for index, (label, values) in enumerate(series.items()):
        positions = [g + index * width - 0.4 + width / 2 for g in range(len(groups))]
        axes.bar(positions, values, width, label=label, color=COLORS[index % len(COLORS)])
        for x, value in zip(positions, values, strict=True):
            axes.text(x, value, _label(value), ha="center", va="bottom", fontsize=7)
    axes.set_xticks(range(len(groups)), groups)
    if log:
        axes.set_yscale("log")
    axes.set_ylabel(unit)
    axes.set_title(title)
    axes.legend(fontsize=8)
    return _save(figure, out, filename)


def lines(
    out: Path | None,
    filename: str,
    title: str,
    xs: Sequence[float],
    x_labels: Sequence[str],
    series: Mapping[str, Sequence[float]],
    unit: str,
) -> str:
    """One line per series over ``xs`` (log-log), the points labelled with ``x_labels``."""
    if out is None or not HAS_MATPLOTLIB:
        return ""
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(8, 4.5))
    for index, (label, values) in enumerate(series.items()):
        axes.plot(xs, values, marker="o", label=label, color=COLORS[index % len(COLORS)])
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xticks(list(xs), list(x_labels))
    axes.minorticks_off()
    axes.set_xlabel("file size")
    axes.set_ylabel(unit)
    axes.set_title(title)
    axes.grid(True, which="major", alpha=0.3)
    axes.legend(fontsize=8)
    return _save(figure, out, filename)


def link(chart: str) -> str:
    """Return the Markdown image of a chart (nothing when it was not drawn)."""
    return f"\n\n![]({chart})" if chart else ""


def _label(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.3g}"
