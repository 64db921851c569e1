"""The take checks' settings: how many tries Make until good makes, and the thresholds the checks
judge by, each in its range (core.take_checks.verdicts.THRESHOLDS), with the defaults a click away."""

from __future__ import annotations

import math
from dataclasses import fields

from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QDoubleSpinBox, QFormLayout, QLabel, QSpinBox,
                               QVBoxLayout, QWidget)

from core.take_checks.verdicts import THRESHOLDS, CheckSettings, tuned

MOST_TRIES = 10
INTRO = ("The checks judge every take by these thresholds; a change checks the takes again. The defaults "
         "were calibrated on clear speech.")


class TakeChecksDialog(QDialog):
    def __init__(self, settings: CheckSettings, tries: int, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Take checks")
        self.setObjectName("take_checks_dialog")
        self.message = QLabel(INTRO)
        self.message.setWordWrap(True)
        self.tries = QSpinBox()
        self.tries.setRange(1, MOST_TRIES)
        self.tries.setValue(tries)
        self.tries.setToolTip("Make until good generates a line at most this many times")
        form = QFormLayout()
        form.addRow("Make until good: tries per line", self.tries)
        self.thresholds: dict[str, QDoubleSpinBox] = {}
        for field in fields(CheckSettings):
            threshold = THRESHOLDS[field.name]
            box = QDoubleSpinBox()
            box.setObjectName(field.name)
            step = _step(threshold.maximum - threshold.minimum)
            box.setDecimals(max(1, round(-math.log10(step))))
            box.setRange(threshold.minimum, threshold.maximum)
            box.setSingleStep(step)
            box.setSuffix(f" {threshold.unit}" if threshold.unit else "")
            box.setValue(getattr(settings, field.name))
            box.setToolTip(field.name)  # as `dia-studio check --threshold` names it
            form.addRow(threshold.label, box)
            self.thresholds[field.name] = box
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
                                   | QDialogButtonBox.StandardButton.RestoreDefaults)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.restore_defaults = buttons.button(QDialogButtonBox.StandardButton.RestoreDefaults)
        self.restore_defaults.clicked.connect(lambda: self._show(CheckSettings()))
        layout = QVBoxLayout(self)
        layout.addWidget(self.message)
        layout.addLayout(form)
        layout.addWidget(buttons)

    def chosen(self) -> CheckSettings:
        """The thresholds as set (raises ``InvalidThreshold`` for a pair that contradicts itself)."""
        return tuned({name: box.value() for name, box in self.thresholds.items()})

    def accept(self) -> None:
        try:
            self.chosen()
        except ValueError as error:
            self.message.setText(str(error))  # the dialog stays open, saying what to change
            return
        super().accept()

    def _show(self, settings: CheckSettings) -> None:
        for name, box in self.thresholds.items():
            box.setValue(getattr(settings, name))


def _step(span: float) -> float:
    """A step that takes some twenty to a hundred presses across the range."""
    step = 1.0
    while span / step < 20:
        step /= 10
    return step
