"""The generation settings, one widget per field of ``FIELD_SPECS`` (its range, default and help).

Each change becomes the document's new ``GenerationParams`` (validated there, undoable there);
a value the model refuses is shown with the model's own message and not applied.
"""

from __future__ import annotations

import random
from dataclasses import replace

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QAbstractSpinBox, QCheckBox, QDoubleSpinBox, QFormLayout, QHBoxLayout, QLabel,
                               QLineEdit, QPushButton, QSpinBox, QVBoxLayout, QWidget)

from core.document.content import Change
from core.document.dialogue import Dialogue
from core.errors import InvalidParameter
from core.params import FIELD_SPECS, SEED_MAX, FieldSpec, GenerationParams

LABELS = {
    "CFGScale": "Guidance (CFG)",
    "settings.temperature": "Text temperature",
    "settings.audioTemperature": "Audio temperature",
    "settings.topK": "Top-k",
    "numberResults": "Takes",
}
DECIMALS = 2
STEP = {"CFGScale": 0.5, "settings.temperature": 0.05, "settings.audioTemperature": 0.05}


def _tooltip(spec: FieldSpec) -> str:
    default = "random" if spec.default is None else f"{spec.default:g}"
    return f"{spec.help}\n\n{spec.name}: {spec.minimum:g} to {spec.maximum:g}, default {default}."


class ParametersPanel(QWidget):
    """Generation settings of the document shown in the window."""

    error_changed = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("parameters")
        self._dialogue: Dialogue | None = None
        self._unsubscribe = None
        self._showing = False  # True while widgets are being set from the document
        self.fields: dict[str, QSpinBox | QDoubleSpinBox] = {}

        form = QFormLayout()
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)  # a narrow dock puts fields under labels
        for name, spec in FIELD_SPECS.items():
            if name == "seed":
                continue
            widget = QSpinBox() if spec.integer else QDoubleSpinBox()
            if not spec.integer:
                widget.setDecimals(DECIMALS)
                widget.setSingleStep(STEP.get(name, 0.1))
            widget.setRange(spec.minimum, spec.maximum)
            widget.setToolTip(_tooltip(spec))
            widget.setObjectName(name)
            widget.setKeyboardTracking(False)  # apply on Enter or focus-out, not per digit typed
            widget.valueChanged.connect(self._apply)
            self.fields[name] = widget
            form.addRow(LABELS[name], widget)

        self.negative_prompt = QLineEdit()
        self.negative_prompt.setObjectName("negativePrompt")
        self.negative_prompt.setPlaceholderText("What to steer away from (optional)")
        self.negative_prompt.setToolTip("A text the audio should not sound like, 2 to 3000 characters. "
                                        "Used only with guidance above 1.")
        self.negative_prompt.editingFinished.connect(self._apply)
        form.addRow("Negative prompt", self.negative_prompt)
        self.include_prefix = QCheckBox("Keep the voice clips at the start")
        self.include_prefix.setObjectName("settings.includePrefix")
        self.include_prefix.setToolTip("Keep the voice reference audio at the start of each take.")
        self.include_prefix.toggled.connect(self._apply)
        form.addRow("", self.include_prefix)

        seed_spec = FIELD_SPECS["seed"]
        self.seed_lock = QCheckBox("Fixed seed")
        self.seed_lock.setToolTip("Off: every generation picks a new random seed (stored with its take).\n"
                                  "On: use this seed, to reproduce or vary one setting at a time.")
        self.seed_lock.toggled.connect(self._apply)
        self.seed = QSpinBox()
        self.seed.setObjectName("seed")
        self.seed.setRange(seed_spec.minimum, seed_spec.maximum)
        self.seed.setToolTip(_tooltip(seed_spec))
        self.seed.setKeyboardTracking(False)
        self.seed.setButtonSymbols(QAbstractSpinBox.ButtonSymbols.NoButtons)
        self.seed.valueChanged.connect(self._apply)
        self.new_seed_button = QPushButton("New random")
        self.new_seed_button.setToolTip("Fix a new random seed")
        self.new_seed_button.clicked.connect(self.use_random_seed)
        self.reuse_seed_button = QPushButton("Seed of selected take")
        self.reuse_seed_button.setToolTip("Fix the seed the selected take was made with")
        self.reuse_seed_button.setEnabled(False)
        self.reuse_seed_button.clicked.connect(lambda: self.use_seed(self._take_seed))
        self._take_seed: int | None = None
        seed_row = QHBoxLayout()
        seed_row.addWidget(self.seed_lock)
        seed_row.addWidget(self.seed, 1)
        seed_buttons = QHBoxLayout()
        seed_buttons.addWidget(self.new_seed_button)
        seed_buttons.addWidget(self.reuse_seed_button)
        form.addRow("Seed", seed_row)
        form.addRow("", seed_buttons)

        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color: #c62828;")
        self.error_label.hide()
        self.reset_button = QPushButton("Reset to defaults")
        self.reset_button.clicked.connect(self.reset_to_defaults)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error_label)
        layout.addWidget(self.reset_button)
        layout.addStretch(1)

    def set_dialogue(self, dialogue: Dialogue) -> None:
        if self._unsubscribe:
            self._unsubscribe()
        self._dialogue = dialogue
        self._unsubscribe = dialogue.subscribe(self._on_change)
        self._show(dialogue.params)

    def set_selected_take_seed(self, seed: int | None) -> None:
        self._take_seed = seed
        self.reuse_seed_button.setEnabled(seed is not None)

    def use_seed(self, seed: int) -> None:
        self._set_params(replace(self._dialogue.params, seed=seed))

    def use_random_seed(self) -> None:
        self.use_seed(random.randint(0, SEED_MAX))

    def reset_to_defaults(self) -> None:
        self._set_params(GenerationParams(model=self._dialogue.params.model))

    # --- document <-> widgets --------------------------------------------------------------------

    def _on_change(self, change: Change) -> None:
        if change & Change.PARAMS:
            self._show(self._dialogue.params)

    def _show(self, params: GenerationParams) -> None:
        self._showing = True
        try:
            for name, widget in self.fields.items():
                widget.setValue(getattr(params, GenerationParams.API_NAMES[name]))
            if self.negative_prompt.text() != (params.negative_prompt or ""):
                self.negative_prompt.setText(params.negative_prompt or "")
            self.negative_prompt.setEnabled(params.guidance_enabled)
            self.include_prefix.setChecked(params.include_prefix)
            self.seed_lock.setChecked(params.seed is not None)
            if params.seed is not None:
                self.seed.setValue(params.seed)
            self.seed.setEnabled(params.seed is not None)
        finally:
            self._showing = False
        self._show_error("")

    def _apply(self) -> None:
        if self._showing or self._dialogue is None:
            return
        values = {GenerationParams.API_NAMES[name]: widget.value() for name, widget in self.fields.items()}
        values["negative_prompt"] = self.negative_prompt.text() or None
        values["include_prefix"] = self.include_prefix.isChecked()
        values["seed"] = self.seed.value() if self.seed_lock.isChecked() else None
        try:
            params = replace(self._dialogue.params, **values)
        except InvalidParameter as error:
            self._show_error(str(error))
            return
        # Not sealed: stepping one field up and down is one undo step (the document merges them).
        self._set_params(params, own_step=False)

    def _set_params(self, params: GenerationParams, own_step: bool = True) -> None:
        self._dialogue.set_params(params)
        if own_step:
            self._dialogue.undo_stack.seal()

    def _show_error(self, message: str) -> None:
        self.error_label.setText(message)
        self.error_label.setVisible(bool(message))
        self.error_changed.emit(message)
