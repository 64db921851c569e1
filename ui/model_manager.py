"""The model manager: which Dia2 models are on this computer (and the room they take), which one
to load, where (in the studio, in a process of its own, on a server); cancelling a download, deleting a downloaded model or forgetting a model folder;
and the speech recognition (Whisper) model that transcribes voices.

It shows what the application tells it (``set_models``, ``set_loading``, ``set_progress``,
``set_loaded``, ``set_speech_models``) and asks with signals; downloading, loading and deleting happen off the GUI
thread elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QFrame,
                               QHBoxLayout, QLabel, QLineEdit, QListWidget, QListWidgetItem, QMessageBox, QProgressBar,
                               QPushButton, QScrollArea, QVBoxLayout, QWidget)

from ui.one_line_label import keep_room_when_hidden

MODEL_ROLE = Qt.ItemDataRole.UserRole + 1
DEVICE_CHOICES = {"auto": "Automatic (GPU if there is one)", "cpu": "CPU", "cuda": "NVIDIA GPU (CUDA)",
                  "mps": "Apple GPU (Metal)"}
PRECISION_CHOICES = {"auto": "Automatic", "float32": "float32 (exact, twice the memory)",
                     "bfloat16": "bfloat16 (half the memory, fast)",
                     "int8": "int8 weights (processor: a quarter of the memory, fast)"}
LOCAL_SPEECH_FILE = "Local file…"
# Where the model runs (EngineKind values), and what each means for the person.
ENGINE_CHOICES = {
    "in-process": ("In the studio", "The model runs inside the studio: nothing in between, but a crash of the "
                                    "model (out of memory, a driver fault) closes the studio with it."),
    "own-process": ("In its own process", "The model runs in a process of its own on this computer: if it "
                                          "crashes, the studio stays open, keeps what was made, and starts it "
                                          "again."),
    "remote": ("On a server", "The model runs on another machine's dia-studio serve, by its address and one "
                              "of its API keys."),
}
# The status keeps the room of this many lines: the list stays put as messages come and go, and a
# longer message scrolls.
STATUS_LINES = 3


@dataclass(frozen=True)
class ModelEntry:
    model: str  # what Dia2Runtime.load takes: a studio model id or a local folder
    label: str
    installed: bool
    detail: str  # where it is, or how big the download is
    size_bytes: int | None = None  # the room it takes on this computer, when known
    local_folder: bool = False  # a folder the person opened: forgotten, never deleted
    sizing: bool = False  # its size is being measured (off the GUI thread); "…" until then


def size_text(size_bytes: int) -> str:
    if size_bytes >= 1e8:
        return f"{size_bytes / 1e9:.2f} GB"
    return f"{size_bytes / 1e6:.1f} MB" if size_bytes >= 1e6 else f"{max(1, round(size_bytes / 1e3))} kB"


LOCAL_INTRO = ("Dia Studio runs Dia2 on this computer. Choose a model: it is downloaded once from the Hugging "
               "Face Hub (a few GB), or open a folder that holds one.")
SERVER_INTRO = ("The model runs on the server: choose one for it to load (the server downloads a model it does "
                "not have, once); nothing is downloaded to this computer.")


class ModelManagerDialog(QDialog):
    load_requested = Signal(str, str, str)  # model, device, precision
    cancel_requested = Signal()  # stop the download in progress
    delete_requested = Signal(str)  # a downloaded model, to delete from the Hub cache
    forget_requested = Signal(str)  # a model folder, to take off the list (its files stay)
    speech_model_chosen = Signal(str)  # a Whisper model name, or the path of a model file
    engine_chosen = Signal(str, str, str)  # where the model runs (an ENGINE_CHOICES key), server URL, API key

    def __init__(self, available_devices: list[str], parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Models")
        self.setObjectName("model_manager")
        self.setMinimumWidth(520)
        self.intro = intro = QLabel(LOCAL_INTRO)
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
        # lines of their own: Qt does not wrap a plain tooltip, which would span the screen
        self.precision.setToolTip("Automatic: bfloat16 on a GPU that has it and on a processor with\n"
                                  "bfloat16 instructions (recent Xeon, AMD Zen 4 or later); float32 elsewhere.\n"
                                  "The status bar says what the loaded model runs in.")
        self.speech_model = QComboBox()
        self.speech_model.setToolTip("Whisper transcribes voice references to find when each word is spoken.\n"
                                     "Larger models hear better and are slower; a named model is downloaded\n"
                                     "the first time it is used. Unless you choose one, the studio uses the\n"
                                     "default: a large model on a GPU, a small one on a processor.")
        self.speech_model.activated.connect(self._speech_model_activated)
        self.speech_model.addItem("…")  # until the application knows Whisper's model names
        self.speech_model.setEnabled(False)
        self.engine = QComboBox()
        for key, (label, about) in ENGINE_CHOICES.items():
            self.engine.addItem(label, key)
            self.engine.setItemData(self.engine.count() - 1, about, Qt.ItemDataRole.ToolTipRole)
        self.engine.activated.connect(self._engine_activated)
        self.server_url = QLineEdit()
        self.server_url.setPlaceholderText("http://gpu-box:8000")
        self.server_key = QLineEdit()
        self.server_key.setEchoMode(QLineEdit.EchoMode.Password)
        self.server_key.setPlaceholderText("one of the server's API keys")
        self.connect_button = QPushButton("Connect")
        self.connect_button.clicked.connect(self._connect_to_server)
        self.server = QWidget()
        server = QHBoxLayout(self.server)
        server.setContentsMargins(0, 0, 0, 0)
        server.addWidget(self.server_url, 3)
        server.addWidget(self.server_key, 2)
        server.addWidget(self.connect_button)
        self.server.hide()
        form = QFormLayout()
        form.addRow("The model runs", self.engine)
        form.addRow("Server", self.server)
        self._server_label = form.labelForField(self.server)
        self._server_label.hide()
        form.addRow("Run on", self.device)
        form.addRow("Precision", self.precision)
        form.addRow("Speech recognition", self.speech_model)

        self.load_button = QPushButton("Load")
        self.load_button.setDefault(True)
        self.load_button.clicked.connect(self._load)
        self.open_folder_button = QPushButton("Open local folder…")
        self.open_folder_button.clicked.connect(self._open_folder)
        self.remove_button = QPushButton("Delete…")
        self.remove_button.clicked.connect(self._remove)
        self.cancel_button = QPushButton("Cancel download")
        self.cancel_button.clicked.connect(self._cancel)
        self.cancel_button.hide()
        buttons = QHBoxLayout()
        buttons.addWidget(self.open_folder_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.load_button)

        self.progress = QProgressBar()
        keep_room_when_hidden(self.progress)
        self.progress.hide()
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)  # to copy an error
        self.status_area = QScrollArea()
        self.status_area.setWidget(self.status)
        self.status_area.setWidgetResizable(True)
        self.status_area.setFrameShape(QFrame.Shape.NoFrame)
        self.status_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.status_area.setFixedHeight(STATUS_LINES * self.status.fontMetrics().lineSpacing()
                                        + 2 * self.status.margin())
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.models)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        layout.addWidget(self.status_area)
        layout.addWidget(close)
        self._loaded: str | None = None
        self._busy = False
        self._speech_model = ""
        self._sizes_problem = ""  # why the models' sizes could not be measured

    def set_models(self, entries: list[ModelEntry], selected: str | None = None) -> None:
        """List ``entries``. The row the person selected stays selected while it is listed (after a
        deletion failed, the message is about it), else ``selected``'s, else the first."""
        chosen = self._current()
        self.models.clear()
        self._sizes_problem = ""
        for entry in entries:
            item = QListWidgetItem()
            self._show_entry(item, entry)
            self.models.addItem(item)
        rows = {entry.model: row for row, entry in enumerate(entries)}
        wanted = (chosen.model if chosen else None, selected)
        self.models.setCurrentRow(next((rows[model] for model in wanted if model in rows), 0))
        self._update_buttons()

    def set_sizes(self, sizes: dict[str, int | None], problem: str = "") -> None:
        """The room each listed model takes, by its ``model``, once measured (missing: unknown);
        ``problem``: why none could be measured."""
        self._sizes_problem = problem
        for row in range(self.models.count()):
            item = self.models.item(row)
            entry = item.data(MODEL_ROLE)
            self._show_entry(item, replace(entry, size_bytes=sizes.get(entry.model), sizing=False))
        self._update_buttons()

    def _show_entry(self, item: QListWidgetItem, entry: ModelEntry) -> None:
        if self._on_server():  # what this computer holds says nothing of the server's models
            loaded = " — loaded on the server" if entry.model == self._loaded else ""
            item.setText(f"{entry.label}{loaded}\n    {entry.detail}")
            item.setToolTip("")
            item.setData(MODEL_ROLE, entry)
            return
        if entry.model == self._loaded:
            state = "loaded"
        elif entry.installed:
            state = "on this computer"
        elif entry.local_folder:
            state = "no model in this folder"
        else:  # a cancelled download leaves the files it finished
            state = "partly downloaded" if entry.size_bytes else "not downloaded"
        if entry.sizing:
            state += ", …"
        elif entry.size_bytes:
            state += f", {size_text(entry.size_bytes)}"
        elif self._sizes_problem:
            state += ", size unknown"
        item.setText(f"{entry.label} — {state}\n    {entry.detail}")
        item.setToolTip(self._sizes_problem)
        item.setData(MODEL_ROLE, entry)

    def set_choice(self, device: str, precision: str) -> None:
        self.device.setCurrentIndex(max(0, self.device.findData(device)))
        self.precision.setCurrentIndex(max(0, self.precision.findData(precision)))

    def set_engine(self, kind: str, url: str, api_key: str) -> None:
        """Where the model runs now (a server with its address and key)."""
        self.engine.setCurrentIndex(max(0, self.engine.findData(kind)))
        self.server_url.setText(url)
        self.server_key.setText(api_key)
        self._show_server_fields()

    def set_speech_models(self, names: list[str], current: str, default: str,
                          downloaded: dict[str, int]) -> None:
        """Whisper's model names, the ``default`` one and those ``downloaded`` (their bytes) marked,
        and "Local file…"; ``current`` is a name or a model file."""
        self._speech_model = current
        self.speech_model.clear()
        for name in names:
            notes = (["default"] if name == default else []) + (
                [f"on this computer, {size_text(downloaded[name])}"] if name in downloaded else [])
            self.speech_model.addItem(f"{name} ({', '.join(notes)})" if notes else name, name)
        if current not in names:
            self.speech_model.addItem(Path(current).name, current)
            self.speech_model.setItemData(self.speech_model.count() - 1, current, Qt.ItemDataRole.ToolTipRole)
        self.speech_model.addItem(LOCAL_SPEECH_FILE, None)
        self.speech_model.setCurrentIndex(self.speech_model.findData(current))
        self.speech_model.setEnabled(self.engine.currentData() != "remote")

    def set_loading(self, model: str, label: str) -> None:
        """A load began: its row is selected, and a model not downloaded yet says at once that it is
        being fetched (the Hub answers before the first byte comes) and can be cancelled."""
        self.select(model)
        entry = self._current()
        downloading = entry is not None and entry.model == model and not entry.installed and not entry.local_folder
        self.set_busy(f"Connecting to the Hugging Face Hub to download {label}…" if downloading
                      else f"Loading {label}…")
        self.cancel_button.setVisible(downloading)

    def select(self, model: str) -> None:
        """Select the row of ``model``, if it is listed."""
        for row in range(self.models.count()):
            if self.models.item(row).data(MODEL_ROLE).model == model:
                self.models.setCurrentRow(row)

    def set_busy(self, message: str | None) -> None:
        """A load or a deletion runs (``message`` says what), or it ended (None)."""
        self._busy = message is not None
        self.progress.setVisible(self._busy)
        self.progress.setRange(0, 0)
        self.cancel_button.setEnabled(True)
        if not self._busy:
            self.cancel_button.hide()
        if message:
            self.status.setText(message)
        self._update_buttons()

    def set_progress(self, done: int, total: int, what: str) -> None:
        self.cancel_button.setVisible(self._busy)
        if total > 0:
            self.progress.setRange(0, 1000)
            self.progress.setValue(round(1000 * done / total))
            self.status.setText(f"Downloading {what}: {done / 1e9:.2f} of {total / 1e9:.2f} GB")
        else:
            self.progress.setRange(0, 0)

    def set_loaded(self, model: str | None, description: str) -> None:
        self._loaded = model
        if not self._busy:  # what runs says more
            self.status.setText(description)

    def show_message(self, message: str) -> None:
        self.status.setText(message)

    def show_error(self, message: str) -> None:
        self.status.setText(f"<span style='color:#c62828'>{message}</span>")

    def confirm_delete(self, model: str) -> bool:
        """Ask before a listed model is deleted; True when the person agrees."""
        entry = next(self.models.item(row).data(MODEL_ROLE) for row in range(self.models.count())
                     if self.models.item(row).data(MODEL_ROLE).model == model)
        size = f" ({size_text(entry.size_bytes)})" if entry.size_bytes else ""
        answer = QMessageBox.question(self, "Delete the model",
                                      f"Delete {entry.label}{size} from this computer? It can be "
                                      "downloaded again later.")
        return answer == QMessageBox.StandardButton.Yes

    def _current(self) -> ModelEntry | None:
        item = self.models.currentItem()
        return item.data(MODEL_ROLE) if item else None

    def _update_buttons(self) -> None:
        entry = self._current()
        self.load_button.setEnabled(_loadable(entry) and not self._busy)
        self.open_folder_button.setEnabled(not self._busy)
        # A folder is never downloaded: without its model it can only be forgotten.
        self.load_button.setText("Load on the server" if self._on_server() else "Download and load"
                                 if entry and not entry.installed and not entry.local_folder else "Load")
        self.remove_button.setText("Forget" if entry and entry.local_folder else "Delete…")
        self.remove_button.setToolTip("Take the folder off this list; its files stay where they are."
                                      if entry and entry.local_folder else
                                      "Delete the downloaded model from this computer.")
        # A model with files in the cache can be deleted, a cancelled download's included.
        deletable = entry is not None and (entry.local_folder or entry.installed or bool(entry.size_bytes))
        self.remove_button.setEnabled(deletable and not self._busy)

    def _cancel(self) -> None:
        self.cancel_button.setEnabled(False)  # once: the download stops at its next piece
        self.status.setText("Cancelling the download…")
        self.cancel_requested.emit()

    def _remove(self) -> None:
        entry = self._current()
        if entry is not None and not self._busy:
            (self.forget_requested if entry.local_folder else self.delete_requested).emit(entry.model)

    def _speech_model_activated(self, index: int) -> None:
        choice = self.speech_model.itemData(index)
        if choice is None:  # "Local file…"
            choice, _ = QFileDialog.getOpenFileName(self, "Choose a Whisper model file", "",
                                                    "Whisper model (*.pt);;All files (*)")
            self.speech_model.setCurrentIndex(self.speech_model.findData(self._speech_model))
            if not choice:
                return
        if choice != self._speech_model:
            self.speech_model_chosen.emit(choice)

    def _on_server(self) -> bool:
        return self.engine.currentData() == "remote"

    def _show_server_fields(self) -> None:
        remote = self._on_server()
        self.server.setVisible(remote)
        self._server_label.setVisible(remote)
        self.intro.setText(SERVER_INTRO if remote else LOCAL_INTRO)
        # A server runs the model on its own device and precision, and transcribes with its own Whisper.
        for choice in (self.device, self.precision, self.speech_model):
            choice.setEnabled(not remote and choice.count() > 1)
        for row in range(self.models.count()):
            self._show_entry(self.models.item(row), self.models.item(row).data(MODEL_ROLE))
        self._update_buttons()

    def _engine_activated(self, index: int) -> None:
        self._show_server_fields()
        if self.engine.itemData(index) != "remote":  # a server is used once its address is given
            self.engine_chosen.emit(self.engine.itemData(index), "", "")
        else:
            self.server_url.setFocus()

    def _connect_to_server(self) -> None:
        self.engine_chosen.emit("remote", self.server_url.text().strip(), self.server_key.text().strip())

    def _load(self) -> None:
        entry = self._current()
        if _loadable(entry) and not self._busy:
            self.load_requested.emit(entry.model, self.device.currentData(), self.precision.currentData())

    def _open_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open a Dia2 model folder (config.json, model.safetensors)")
        if folder:
            self.load_requested.emit(folder, self.device.currentData(), self.precision.currentData())




def _loadable(entry: ModelEntry | None) -> bool:
    """A Hub model loads (downloaded first when needed); a folder only while it holds a model."""
    return entry is not None and (entry.installed or not entry.local_folder)
