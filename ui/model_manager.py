"""The model manager: which Dia2 models are on this computer, and which one to load, where.

It shows what the application tells it (``set_models``, ``set_progress``, ``set_loaded``) and asks
for a load with ``load_requested``; downloading and loading happen off the GUI thread elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QHBoxLayout,
                               QLabel, QListWidget, QListWidgetItem, QProgressBar, QPushButton, QVBoxLayout,
                               QWidget)

MODEL_ROLE = Qt.ItemDataRole.UserRole + 1
DEVICE_CHOICES = {"auto": "Automatic (GPU if there is one)", "cpu": "CPU", "cuda": "NVIDIA GPU (CUDA)",
                  "mps": "Apple GPU (Metal)"}
PRECISION_CHOICES = {"auto": "Automatic", "float32": "float32 (exact, twice the memory)",
                     "bfloat16": "bfloat16 (GPU: half the memory)"}


@dataclass(frozen=True)
class ModelEntry:
    model: str  # what Dia2Runtime.load takes: a studio model id or a local folder
    label: str
    installed: bool
    detail: str  # where it is, or how big the download is


class ModelManagerDialog(QDialog):
    load_requested = Signal(str, str, str)  # model, device, precision

    def __init__(self, available_devices: list[str], parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Models")
        self.setObjectName("model_manager")
        self.setMinimumWidth(520)
        intro = QLabel("Dia Studio runs Dia2 on this computer. Choose a model: it is downloaded once "
                       "from the Hugging Face Hub (a few GB), or open a folder that holds one.")
        intro.setWordWrap(True)
        self.models = QListWidget()
        self.models.currentItemChanged.connect(self._update_buttons)
        self.models.itemDoubleClicked.connect(self._load)
        self.device = QComboBox()
        for key in available_devices:
            self.device.addItem(DEVICE_CHOICES[key], key)
        self.precision = QComboBox()
        for key, label in PRECISION_CHOICES.items():
            self.precision.addItem(label, key)
        form = QFormLayout()
        form.addRow("Run on", self.device)
        form.addRow("Precision", self.precision)

        self.load_button = QPushButton("Load")
        self.load_button.setDefault(True)
        self.load_button.clicked.connect(self._load)
        self.open_folder_button = QPushButton("Open local folder…")
        self.open_folder_button.clicked.connect(self._open_folder)
        buttons = QHBoxLayout()
        buttons.addWidget(self.open_folder_button)
        buttons.addStretch(1)
        buttons.addWidget(self.load_button)

        self.progress = QProgressBar()
        self.progress.hide()
        self.status = QLabel()
        self.status.setWordWrap(True)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.models)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(close)
        self._loaded: str | None = None
        self._busy = False

    def set_models(self, entries: list[ModelEntry], selected: str | None = None) -> None:
        self.models.clear()
        for entry in entries:
            state = "loaded" if entry.model == self._loaded else "on this computer" if entry.installed \
                else "not downloaded"
            item = QListWidgetItem(f"{entry.label} — {state}\n    {entry.detail}")
            item.setData(MODEL_ROLE, entry)
            self.models.addItem(item)
            if entry.model == selected:
                self.models.setCurrentItem(item)
        if self.models.currentItem() is None and self.models.count():
            self.models.setCurrentRow(0)
        self._update_buttons()

    def set_choice(self, device: str, precision: str) -> None:
        self.device.setCurrentIndex(max(0, self.device.findData(device)))
        self.precision.setCurrentIndex(max(0, self.precision.findData(precision)))

    def set_busy(self, message: str | None) -> None:
        """A load runs (``message`` says what), or it ended (None)."""
        self._busy = message is not None
        self.progress.setVisible(self._busy)
        self.progress.setRange(0, 0)
        if message:
            self.status.setText(message)
        self._update_buttons()

    def set_progress(self, done: int, total: int, what: str) -> None:
        if total > 0:
            self.progress.setRange(0, 1000)
            self.progress.setValue(round(1000 * done / total))
            self.status.setText(f"Downloading {what}: {done / 1e9:.2f} of {total / 1e9:.2f} GB")
        else:
            self.progress.setRange(0, 0)

    def set_loaded(self, model: str | None, description: str) -> None:
        self._loaded = model
        self.status.setText(description)

    def show_error(self, message: str) -> None:
        self.status.setText(f"<span style='color:#c62828'>{message}</span>")

    def _current(self) -> ModelEntry | None:
        item = self.models.currentItem()
        return item.data(MODEL_ROLE) if item else None

    def _update_buttons(self) -> None:
        entry = self._current()
        self.load_button.setEnabled(entry is not None and not self._busy)
        self.open_folder_button.setEnabled(not self._busy)
        self.load_button.setText("Download and load" if entry and not entry.installed else "Load")

    def _load(self) -> None:
        entry = self._current()
        if entry is not None and not self._busy:
            self.load_requested.emit(entry.model, self.device.currentData(), self.precision.currentData())

    def _open_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open a Dia2 model folder (config.json, model.safetensors)")
        if folder:
            self.load_requested.emit(folder, self.device.currentData(), self.precision.currentData())
