"""The loaded model: which Dia2 models are on this computer, loading one off the GUI thread
(downloading it first when needed, with byte progress, cancellable), remembering the one that
loaded for the next start, and what the status bar says about it."""

from __future__ import annotations

import gc
import threading
from pathlib import Path
from typing import Callable, Iterator

from PySide6.QtCore import QObject, Qt, Signal

from app.settings import Settings
from app.workers import Worker, run_in_background
from core.engine.choice import EngineChoice, default_kind
from core.engine.engine import Engine, EngineKind, ModelInfo
from core.errors import Cancelled, DiaStudioError, describe_error
from core.params import MODEL_IDS
from ui.model_manager import ModelEntry, ModelManagerDialog

# The studio's own names for the Hub models (the hosted id is an alias of the 2B one).
MODEL_LABELS = {"dia2-2b": "Dia2 2B", "dia2-1b": "Dia2 1B"}


def model_label(model: str) -> str:
    """What the studio calls a model: its name for a Hub model, the folder's name for a folder."""
    return MODEL_LABELS.get(model) or Path(model).name or model


def available_devices() -> list[str]:
    from core.dia2.device import MachineOffers

    offers = MachineOffers.detect()
    return ["auto", "cpu"] + (["cuda"] if offers.cuda else []) + (["mps"] if offers.mps else [])


def model_entries(local_folders: list[str]) -> list[ModelEntry]:
    """The Hub models (downloaded or not) and the local model folders the person opened before;
    the room each takes on disk is measured apart (``model_sizes``): the Hub cache's scan stats
    every file in it."""
    from huggingface_hub import try_to_load_from_cache

    from core.dia2.checkpoint import MIMI_HUB_ID, WEIGHTS_FILE

    codec_cached = isinstance(try_to_load_from_cache(MIMI_HUB_ID, WEIGHTS_FILE), str)
    entries = []
    for model, label in MODEL_LABELS.items():
        repo = MODEL_IDS[model]
        cached = isinstance(try_to_load_from_cache(repo, WEIGHTS_FILE), str)
        entries.append(ModelEntry(model, label, cached and codec_cached, f"{repo} on the Hugging Face Hub",
                                  sizing=True))
    for folder in local_folders:
        path = Path(folder)
        holds_model = all((path / name).is_file() for name in ("config.json", WEIGHTS_FILE))
        entries.append(ModelEntry(folder, model_label(folder), holds_model, folder, sizing=True, local_folder=True))
    return entries


def model_sizes(local_folders: list[str]) -> dict[str, int | None]:
    """The bytes each listed model takes (None: nothing, or unreadable), by the entries' ``model``.
    Slow on a big cache: never on the GUI thread."""
    from core.dia2.model_cache import sizes_on_disk

    cached = sizes_on_disk()
    sizes: dict[str, int | None] = {model: cached.get(MODEL_IDS[model]) for model in MODEL_LABELS}
    sizes.update({folder: _folder_size(Path(folder)) for folder in local_folders})
    return sizes


def _folder_size(folder: Path) -> int | None:
    """A model folder's files and those of its subfolders (the codec's); deeper is not a model's,
    and a folder opened by mistake (a home folder) must not be walked whole."""
    try:
        files = [*folder.glob("*"), *folder.glob("*/*")]
        return sum(file.stat().st_size for file in files if file.is_file())
    except OSError:  # gone, or unreadable: the list says so through "installed"
        return None


class ModelList(QObject):
    """The model manager's list: shown at once, its sizes filled in when measured off the GUI
    thread."""

    def __init__(self, dialog: ModelManagerDialog, parent: QObject | None = None):
        super().__init__(parent)
        self._dialog = dialog
        self._refreshes = 0
        self.measuring: Worker | None = None  # the latest measure of the sizes

    def refresh(self, local_folders: list[str], selected: str | None) -> None:
        self._dialog.set_models(model_entries(local_folders), selected)
        self._refreshes += 1
        refresh = self._refreshes
        folders = list(local_folders)

        def current() -> bool:
            return refresh == self._refreshes  # an older measure may end after a newer one (a deletion)

        def measured(sizes: dict[str, int | None]) -> None:
            if current():
                self._dialog.set_sizes(sizes)

        def failed(error: Exception) -> None:
            if current():  # said on the rows: the status may tell of what failed first
                self._dialog.set_sizes({}, describe_error(error, "Measuring the models failed"))

        self.measuring = run_in_background(lambda: model_sizes(folders), measured, failed, "model sizes", self,
                                           shown_in=self._dialog)


def describe(info) -> str:
    """"Dia2-2B · cuda · bfloat16" for a ``ModelInfo``; a model from a folder is named by the folder."""
    name = Path(info.name).name if Path(info.name).is_dir() else info.name.split("/")[-1]
    return f"{name} · {info.device.partition(':')[0]} · {info.precision}"


# Where the model runs, as the model manager and the status bar say it.
ENGINE_LABELS = {EngineKind.IN_PROCESS: "In the studio", EngineKind.OWN_PROCESS: "In its own process",
                 EngineKind.REMOTE: "On a server"}


def settings_choice(settings: Settings) -> EngineChoice:
    """The engine the settings name (an unknown kind, from a newer studio: the default)."""
    try:
        kind = EngineKind(settings.engine_kind)
    except ValueError:
        kind = default_kind()
    if kind is not EngineKind.REMOTE:  # the server's address is kept for when it is chosen again
        return EngineChoice(kind)
    return EngineChoice(kind, settings.engine_url or None, settings.engine_key or None)


def _unavailable(choice: EngineChoice, error: Exception) -> str:
    if isinstance(error, ImportError):
        return f"{ENGINE_LABELS[choice.kind]} is not available in this version of the studio."
    return str(error)


class ModelSession(QObject):
    loading = Signal(str)  # the model being loaded: an id or a folder
    # bytes done, bytes total, what; object, not int: a model's size overflows a C++ int
    download_progress = Signal(object, object, str)
    loaded = Signal(object)  # the ModelInfo
    failed = Signal(str)  # what failed, naming the model
    cancelled = Signal()  # the person cancelled the download; nothing was loaded
    engine_changed = Signal(object)  # the EngineChoice the model now runs with
    _progress_from_worker = Signal(object, object, str)

    def __init__(self, settings: Settings, open_engine: Callable[[EngineChoice], Engine], choice: EngineChoice,
                 parent: QObject | None = None):
        """``open_engine`` builds the engine of a choice; ``choice`` is the one to start with."""
        super().__init__(parent)
        self._settings = settings
        self._open_engine = open_engine
        self.choice = choice
        self.start_problem: str | None = None  # why the engine chosen could not be had at the start
        try:
            self.engine: Engine = open_engine(choice)
        except (ImportError, DiaStudioError) as error:  # e.g. a server chosen in a studio without the remote engine
            self.choice = EngineChoice(EngineKind.IN_PROCESS)
            self.engine = open_engine(self.choice)
            self.start_problem = f"{_unavailable(choice, error)} Until then the model runs in the studio."
        self.model: str | None = None  # as asked for: a model id or a folder; None until one loads
        # The model loaded, as it loaded (an own-process engine whose process died loads it again).
        self.info: ModelInfo | None = None
        self.worker: Worker | None = None
        self.loading_model: str | None = None  # while a load runs: what it loads
        # Emitted on the worker thread; queued, so the GUI thread reports it.
        self._progress_from_worker.connect(self.download_progress, Qt.ConnectionType.QueuedConnection)

    @property
    def is_loading(self) -> bool:
        return self.worker is not None

    def load(self, model: str, device: str = "auto", precision: str = "auto") -> None:
        if self.worker is not None:
            return
        from core.dia2.checkpoint import DownloadCancelled, cancellable

        engine = self.engine

        def job(cancel: threading.Event) -> Iterator:
            progress = cancellable(self._progress_from_worker.emit, cancel)
            info = engine.load(model, device=device, precision=precision, progress=progress)
            if cancel.is_set():  # pressed after the last chunk: the person still wants no model
                raise DownloadCancelled(f"Download of {model} cancelled.")
            # The model and the libraries loaded for it live as long as the app: out of the garbage
            # collector's sight, a full collection (the runtime runs one per take) takes microseconds
            # instead of ~0.4 s with the GIL held, which would freeze the window.
            gc.freeze()
            yield info

        self.worker = worker = Worker(job, "model loading", self)
        self.loading_model = model
        worker.yielded.connect(lambda info: self._loaded(info, model, device, precision))
        worker.errored.connect(lambda error: self._failed(model, error))
        worker.finished.connect(lambda: self._finished(worker))
        self.loading.emit(model)
        worker.start()

    def cancel_download(self) -> None:
        """Stop the download in progress at its next chunk; what was fetched stays in the cache."""
        if self.worker is not None:
            self.worker.cancel()

    def use_engine(self, choice: EngineChoice) -> bool:
        """Run the model with ``choice`` from now on (remembered), loading the model loaded so far
        there; the engine left is closed off the GUI thread. False, said through ``failed``, when
        that engine cannot be had."""
        if choice == self.choice:
            return True
        try:
            engine = self._open_engine(choice)
        except (ImportError, DiaStudioError) as error:
            self.failed.emit(f"{_unavailable(choice, error)} The model keeps running where it was.")
            return False
        left, model = self.engine, self.model
        self.engine, self.choice, self.model, self.info = engine, choice, None, None
        settings = self._settings
        settings.engine_kind = choice.kind.value
        if choice.kind is EngineKind.REMOTE:  # kept when another engine is chosen, for coming back
            settings.engine_url, settings.engine_key = choice.url or "", choice.api_key or ""
        run_in_background(left.close, lambda _: None, lambda error: None, "engine closing", self)
        self.engine_changed.emit(choice)
        if model is not None:
            self.load(model, settings.device, settings.precision)
        return True

    def close(self) -> None:
        """The studio closes: a download stops (the studio waits for its jobs as it ends, and would
        wait, windowless, for the whole download), and the engine stops (its process, its connection,
        a first download of Whisper that a voice's transcription waits for)."""
        self.cancel_download()
        self.engine.close()

    def _loaded(self, info: ModelInfo, model: str, device: str, precision: str) -> None:
        self._idle()  # done as far as anyone can tell: a new load may start at once
        self.model, self.info = model, info
        self._remember(model, device, precision)
        self.loaded.emit(info)

    def _remember(self, model: str, device: str, precision: str) -> None:
        """The next start loads this model, and a folder is listed from now on: only once it has
        loaded, so a folder opened by mistake or a damaged one never replaces the model that works."""
        settings = self._settings
        if Path(model).is_dir() and model not in settings.local_models:
            settings.local_models = settings.local_models + [model]
        settings.model, settings.device, settings.precision = model, device, precision

    def _failed(self, model: str, error: Exception) -> None:
        self._idle()  # the outcome is known before the thread has wound down
        if isinstance(error, Cancelled):
            self.cancelled.emit()
            return
        # Named: the model that failed is not the one still loaded, nor always the one selected.
        self.failed.emit(f"Could not load {model_label(model)}: {describe_error(error)}")

    def _finished(self, worker: Worker) -> None:
        if self.worker is worker:  # not a later load's
            self._idle()

    def _idle(self) -> None:
        self.worker, self.loading_model = None, None
