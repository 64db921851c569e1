"""A horizontal peak meter in dBFS: green, then yellow near full scale, red when clipping."""

from __future__ import annotations

import math

from PySide6.QtCore import QRectF, QSize
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import QSizePolicy, QWidget

FLOOR_DBFS = -60.0
WARN_DBFS = -12.0
CLIP_DBFS = -1.0
# The bar falls by this much per update, so a short peak stays visible (a meter's ballistics).
FALL_DB_PER_UPDATE = 1.5


class LevelMeter(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._dbfs = FLOOR_DBFS
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setToolTip("Microphone level: keep the loudest words in the yellow, out of the red.")

    @property
    def dbfs(self) -> float:
        return self._dbfs

    def sizeHint(self) -> QSize:
        return QSize(160, 10)

    def set_peak(self, peak: float) -> None:
        """The latest block's peak, 0…1 of full scale."""
        level = 20 * math.log10(peak) if peak > 0 else FLOOR_DBFS
        self._dbfs = max(FLOOR_DBFS, level, self._dbfs - FALL_DB_PER_UPDATE)
        self.update()

    def reset(self) -> None:
        self._dbfs = FLOOR_DBFS
        self.update()

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        rect = QRectF(self.rect())
        painter.fillRect(rect, QColor("#2b2b2b"))
        share = (self._dbfs - FLOOR_DBFS) / -FLOOR_DBFS
        colour = "#e53935" if self._dbfs >= CLIP_DBFS else "#fdd835" if self._dbfs >= WARN_DBFS else "#43a047"
        painter.fillRect(QRectF(rect.left(), rect.top(), rect.width() * share, rect.height()), QColor(colour))
