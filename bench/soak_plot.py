"""The soak's figures over time as one PNG: a panel per figure, drawn with Qt offscreen (QImage and
QPainter; no plotting library). Each panel shows the windows' values at their middles, the
windows left out of the verdict shaded (warm-up, the kill), the kill -9 as a red line, and the
fitted line of the verdict (one slope, an intercept per life of the server) dashed."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # no display needed

from PySide6.QtCore import QPointF, QRectF, Qt  # noqa: E402
from PySide6.QtGui import QColor, QFont, QGuiApplication, QImage, QPainter, QPen  # noqa: E402

from bench.soak_windows import Verdict, Window  # noqa: E402

COLOURS = ("#1f5fa8", "#d9822b", "#2e8b57", "#8e44ad", "#c0392b", "#7f8c8d", "#b8860b", "#16a085")
PANEL_W, PANEL_H, COLUMNS = 520, 230, 2
MARGIN_L, MARGIN_R, MARGIN_T, MARGIN_B = 62, 14, 28, 30


@dataclass(frozen=True)
class Panel:
    title: str
    series: tuple[tuple[str, str], ...]  # (label, window metric key)
    verdict: Verdict | None = None  # the fitted line drawn for the first series


def draw_png(path: Path, windows: list[Window], kills_min: list[float], panels: list[Panel]) -> None:
    _keep_application()
    rows = (len(panels) + COLUMNS - 1) // COLUMNS
    image = QImage(PANEL_W * COLUMNS, PANEL_H * rows, QImage.Format.Format_RGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    small = QFont()
    small.setPixelSize(11)
    bold = QFont(small)
    bold.setBold(True)
    end_min = max((w.end_s for w in windows), default=60.0) / 60

    for number, panel in enumerate(panels):
        left, top = (number % COLUMNS) * PANEL_W, (number // COLUMNS) * PANEL_H
        plot = QRectF(left + MARGIN_L, top + MARGIN_T, PANEL_W - MARGIN_L - MARGIN_R, PANEL_H - MARGIN_T - MARGIN_B)
        values = [w.value(key) for _, key in panel.series for w in windows if w.value(key) is not None]
        low, high = (min(values), max(values)) if values else (0.0, 1.0)
        if high - low < 1e-9:
            low, high = low - 1, high + 1
        low, high = low - (high - low) * 0.08, high + (high - low) * 0.08

        def x(minute: float) -> float:
            return plot.left() + plot.width() * minute / end_min

        def y(value: float) -> float:
            return plot.bottom() - plot.height() * (value - low) / (high - low)

        for window in windows:  # windows the verdict leaves out
            if window.role:
                painter.fillRect(QRectF(x(window.start_s / 60), plot.top(), x(window.end_s / 60) - x(window.start_s / 60),
                                        plot.height()), QColor("#eeeeee"))
        painter.setPen(QPen(QColor("#888888"), 1))
        painter.setBrush(Qt.BrushStyle.NoBrush)  # the last panel's dots set one
        painter.drawRect(plot)
        painter.setFont(small)
        painter.setPen(QColor("#333333"))
        for value in (low, (low + high) / 2, high):
            painter.drawText(QRectF(left, y(value) - 7, MARGIN_L - 6, 14),
                             Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, f"{value:.3g}")
        for minute in _ticks(end_min):
            painter.drawText(QRectF(x(minute) - 20, plot.bottom() + 3, 40, 14), Qt.AlignmentFlag.AlignHCenter,
                             f"{minute:g}")
        painter.drawText(QRectF(plot.right() - 60, plot.bottom() + 15, 60, 14), Qt.AlignmentFlag.AlignRight, "minutes")
        for minute in kills_min:
            painter.setPen(QPen(QColor("#d62728"), 1.5))
            painter.drawLine(QPointF(x(minute), plot.top()), QPointF(x(minute), plot.bottom()))
        title = panel.title + (f" — {panel.verdict.verdict}" if panel.verdict else "")
        painter.setFont(bold)
        painter.setPen(QColor("#111111"))
        painter.drawText(QRectF(left + 8, top + 6, PANEL_W - 16, 16), Qt.AlignmentFlag.AlignLeft, title)

        for index, (label, key) in enumerate(panel.series):
            colour = QColor(COLOURS[index % len(COLOURS)])
            points = [QPointF(x(w.middle_min), y(w.value(key))) for w in windows if w.value(key) is not None]
            painter.setPen(QPen(colour, 1.6))
            for a, b in zip(points, points[1:]):
                painter.drawLine(a, b)
            painter.setBrush(colour)
            for point in points:
                painter.drawEllipse(point, 2.6, 2.6)
            if len(panel.series) > 1:
                painter.setFont(small)
                painter.drawText(QRectF(plot.left() + 6 + 104 * (index % 4), plot.top() + 3 + 13 * (index // 4), 100, 14),
                                 Qt.AlignmentFlag.AlignLeft, label)
        if panel.verdict is not None and panel.verdict.slope_per_min is not None:
            _draw_fit(painter, windows, panel.series[0][1], panel.verdict.slope_per_min, x, y)
    painter.end()
    if not image.save(str(path), "PNG"):
        raise OSError(f"could not write {path}")


def _keep_application() -> None:
    """Text needs the font database, which needs an application object, kept for the process."""
    if QGuiApplication.instance() is None:
        _APPLICATION.append(QGuiApplication([]))


_APPLICATION: list[QGuiApplication] = []


def _draw_fit(painter: QPainter, windows: list[Window], key: str, slope: float, x, y) -> None:
    """The verdict's line: through each life's judged windows, with the common slope."""
    pen = QPen(QColor("#000000"), 1.2)
    pen.setStyle(Qt.PenStyle.DashLine)
    painter.setPen(pen)
    for life in sorted({w.life for w in windows}):
        judged = [w for w in windows if w.life == life and not w.role and w.value(key) is not None]
        if len(judged) < 2:
            continue
        mean_t = sum(w.middle_min for w in judged) / len(judged)
        mean_v = sum(w.value(key) for w in judged) / len(judged)
        ends = (judged[0].middle_min, judged[-1].middle_min)
        painter.drawLine(QPointF(x(ends[0]), y(mean_v + slope * (ends[0] - mean_t))),
                         QPointF(x(ends[1]), y(mean_v + slope * (ends[1] - mean_t))))


def _ticks(end_min: float) -> list[float]:
    step = next(s for s in (0.1, 0.25, 0.5, 1, 2, 5, 10, 15, 30, 60) if end_min / s <= 8)
    return [i * step for i in range(int(end_min / step) + 1)]
