"""A soak's metrics over time as one PNG, drawn with Qt's QPainter on a QImage (offscreen: no
plotting library is installed, and none is added): a panel per metric, a line per series, what
the verdicts leave out (the warm-up, a kill's window) shaded, events (a kill -9) as red lines, and
the least-squares fits dashed. Both soaks draw with it."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # no display needed

from PySide6.QtCore import QPointF, QRectF, Qt  # noqa: E402
from PySide6.QtGui import QColor, QFont, QGuiApplication, QImage, QPainter, QPen  # noqa: E402

PANEL_W, PANEL_H = 620, 240
HEADER_H = 36  # the title above the panels
LEGEND_COLUMNS = 4
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 70, 16, 30, 34
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2", "#7f7f7f",
           "#bcbd22", "#393b79", "#637939")


@dataclass(frozen=True)
class Fit:
    """A fitted line, dashed from ``from_s`` to ``to_s``: value = slope_per_s × seconds + intercept."""

    from_s: float
    to_s: float
    slope_per_s: float
    intercept: float


@dataclass
class Line:
    """One series: (seconds into the run, value), and its fits (one per life of a server)."""

    label: str
    points: list[tuple[float, float]]
    fits: list[Fit] = field(default_factory=list)
    colour: str | None = None  # default: the panel's next colour


@dataclass
class Panel:
    title: str
    unit: str
    lines: list[Line] = field(default_factory=list)
    shaded: list[tuple[float, float]] = field(default_factory=list)  # (from, to) seconds the verdicts leave out
    marks_s: list[float] = field(default_factory=list)  # events, drawn as red lines


def fitted(points: list[tuple[float, float]], fit: tuple[float, float] | None, from_s: float) -> list[Fit]:
    """A least-squares ``fit`` (slope per second, intercept) as drawn over ``points`` after ``from_s``."""
    if fit is None or not points:
        return []
    return [Fit(from_s, max(x for x, _ in points), *fit)]


def nice_step(span: float, ticks: int = 4) -> float:
    """A round step (1, 2 or 5 times a power of ten) giving about ``ticks`` ticks over ``span``."""
    raw = span / ticks if span > 0 else 1.0
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)


def _label(value: float) -> str:
    return f"{value:.0f}" if abs(value) >= 100 or value == int(value) else f"{value:.3g}"


def draw(panels: list[Panel], path: Path, title: str, columns: int = 2) -> None:
    """Write ``panels`` in a grid of ``columns`` to ``path`` (PNG)."""
    _keep_application()
    rows = max(1, math.ceil(len(panels) / columns))
    image = QImage(PANEL_W * columns, HEADER_H + PANEL_H * rows, QImage.Format.Format_RGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    try:
        font = QFont(painter.font())
        font.setPointSize(12)
        font.setBold(True)
        painter.setFont(font)
        painter.setPen(QColor("black"))
        painter.drawText(QRectF(0, 0, image.width(), HEADER_H), Qt.AlignmentFlag.AlignCenter, title)
        font.setPointSize(8)
        font.setBold(False)
        painter.setFont(font)
        for index, panel in enumerate(panels):
            row, column = divmod(index, columns)
            _draw_panel(painter, panel, QRectF(column * PANEL_W, HEADER_H + row * PANEL_H, PANEL_W, PANEL_H))
    finally:
        painter.end()
    if not image.save(str(path), "PNG"):
        raise OSError(f"Could not write the plot {path}")


def _keep_application() -> None:
    """Text needs the font database, which needs an application object, kept for the process."""
    if QGuiApplication.instance() is None:
        _APPLICATION.append(QGuiApplication([]))


_APPLICATION: list[QGuiApplication] = []


def _draw_panel(painter: QPainter, panel: Panel, box: QRectF) -> None:
    plot = QRectF(box.left() + MARGIN_LEFT, box.top() + MARGIN_TOP, box.width() - MARGIN_LEFT - MARGIN_RIGHT,
                  box.height() - MARGIN_TOP - MARGIN_BOTTOM)
    painter.setPen(QColor("black"))
    painter.drawText(QRectF(box.left(), box.top() + 4, box.width(), 20), Qt.AlignmentFlag.AlignCenter,
                     f"{panel.title} ({panel.unit})" if panel.unit else panel.title)
    points = [point for line in panel.lines for point in line.points]
    if not points:
        painter.drawText(plot, Qt.AlignmentFlag.AlignCenter, "no data")
        return
    x_max = max(max(x for x, _ in points), 1.0) / 60
    y_low, y_high = min(y for _, y in points), max(y for _, y in points)
    if y_high - y_low < 1e-9:
        y_low, y_high = y_low - 1, y_high + 1
    span = y_high - y_low
    legend_rows = math.ceil(len(panel.lines) / LEGEND_COLUMNS)
    y_low, y_high = y_low - 0.08 * span, y_high + (0.08 + 0.1 * legend_rows) * span  # room above for the legend

    def at(x_s: float, y: float) -> QPointF:
        return QPointF(plot.left() + plot.width() * (x_s / 60) / x_max,
                       plot.bottom() - plot.height() * (y - y_low) / (y_high - y_low))

    for start_s, end_s in panel.shaded:
        left, right = at(min(start_s, x_max * 60), 0).x(), at(min(end_s, x_max * 60), 0).x()
        painter.fillRect(QRectF(left, plot.top(), right - left, plot.height()), QColor("#eeeeee"))
    painter.setPen(QPen(QColor("#d62728"), 1.5))
    for mark_s in panel.marks_s:
        x = at(mark_s, 0).x()
        painter.drawLine(QPointF(x, plot.top()), QPointF(x, plot.bottom()))
    painter.setPen(QPen(QColor("#dddddd"), 1))
    step = nice_step(y_high - y_low)
    tick = math.ceil(y_low / step) * step
    while tick <= y_high:
        y = at(0, tick).y()
        painter.setPen(QPen(QColor("#dddddd"), 1))
        painter.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
        painter.setPen(QColor("black"))
        painter.drawText(QRectF(box.left(), y - 8, MARGIN_LEFT - 6, 16),
                         Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, _label(tick))
        tick += step
    x_step = nice_step(x_max, 6)
    minute = 0.0
    while minute <= x_max + 1e-9:
        x = plot.left() + plot.width() * minute / x_max
        painter.drawText(QRectF(x - 20, plot.bottom() + 2, 40, 14), Qt.AlignmentFlag.AlignCenter, _label(minute))
        minute += x_step
    painter.drawText(QRectF(plot.left(), plot.bottom() + 16, plot.width(), 14), Qt.AlignmentFlag.AlignCenter,
                     "minutes")
    painter.drawRect(plot)
    for number, line in enumerate(panel.lines):
        colour = QColor(line.colour or COLOURS[number % len(COLOURS)])
        painter.setPen(QPen(colour, 1.5))
        placed = [at(x, y) for x, y in line.points]
        for start, end in zip(placed, placed[1:]):
            painter.drawLine(start, end)
        for point in placed:
            painter.drawEllipse(point, 1.8, 1.8)
        painter.setPen(QPen(colour, 1, Qt.PenStyle.DashLine))
        for fit in line.fits:
            painter.drawLine(at(fit.from_s, fit.slope_per_s * fit.from_s + fit.intercept),
                             at(fit.to_s, fit.slope_per_s * fit.to_s + fit.intercept))
        # The legend across the top, wrapping: four labels a row.
        row, column = divmod(number, LEGEND_COLUMNS)
        width = (plot.width() - 12) / LEGEND_COLUMNS
        painter.setPen(colour)
        painter.drawText(QRectF(plot.left() + 6 + column * width, plot.top() + 3 + 12 * row, width, 12),
                         Qt.AlignmentFlag.AlignLeft, line.label)
