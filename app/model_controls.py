"""The model as the window shows it: the status bar (the model, where it runs, the memory in use),
the banner while none is loaded, and the model manager opened, with a load or a choice of engine
asked there."""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal

from app.generation import GenerationSession
from app.live_preview import LivePreview
from app.model_manager_actions import ModelManagerActions
from app.model_session import ENGINE_LABELS, ModelList, ModelSession, available_devices, describe, model_label
from app.settings import Settings
from core.engine import memory
from core.engine.choice import EngineChoice
from core.engine.engine import EngineKind
from ui.main_window import MainWindow
from ui.model_manager import ModelManagerDialog

STATUS_INTERVAL_MS = 2000
NO_MODEL = ("No model is loaded yet. Open the model manager to download Dia2 (once, a few GB) "
            "or to open a model folder; until then you can write and prepare your dialogue.")


class ModelControls(QObject):
    # The Whisper model chosen in the model manager: the voices transcribe with it from now on.
    speech_model_changed = Signal(str)

    def __init__(self, window: MainWindow, models: ModelSession, settings: Settings,
                 generation: GenerationSession, live_preview: LivePreview, parent: QObject | None = None):
        super().__init__(parent)
        self.window, self._models, self._settings = window, models, settings
        self._generation, self._live_preview = generation, live_preview
        self.manager: ModelManagerDialog | None = None  # made when first shown
        self._said_unavailable: str | None = None  # why the engine's memory is out of reach, once said
        self.status_timer = QTimer(window)  # it updates the window: it goes with it
        self.status_timer.setInterval(STATUS_INTERVAL_MS)
        self.status_timer.timeout.connect(self._show_memory)
        models.loaded.connect(lambda info: self.show_model())
        models.engine_changed.connect(lambda choice: self._engine_changed())
        models.failed.connect(self._failed)
        self.show_model()

    # --- the status bar ----------------------------------------------------------------------------

    def show_model(self) -> None:
        """The banner while no model is loaded, and the status bar's model and memory."""
        info = self._models.info
        self.window.banner.show_message(None if info else NO_MODEL)
        self.window.model_status.setText(f"Model: {self._where(info)}" if info else "No model loaded")
        self._show_memory()

    def _where(self, info) -> str:
        """The model, and where it runs unless in the studio: "Dia2-2B · cuda · bfloat16 · in its own process"."""
        kind = self._models.engine.kind
        return describe(info) + ("" if kind is EngineKind.IN_PROCESS else f" · {ENGINE_LABELS[kind].lower()}")

    def _show_memory(self) -> None:
        info = self._models.info
        parts = []
        if info is not None:
            parts.append(f"weights {info.weights_bytes / 2**20:,.0f} MB")
            engine = self._models.engine.memory()  # never waits: read, or as last reported
            if engine.unavailable:
                parts.append("the model's server out of reach")
                if engine.unavailable != self._said_unavailable:  # said once, not every read
                    self.window.statusBar().showMessage(engine.unavailable, 15000)
            else:
                if engine.device_bytes is not None:
                    parts.append(f"GPU {engine.device_bytes / 2**20:,.0f} MB in use")
                if engine.warm_voices_bytes:
                    parts.append(f"voices kept warm {engine.warm_voices_bytes / 2**20:,.0f} MB")
                if self._models.engine.kind is not EngineKind.IN_PROCESS and engine.process_bytes is not None:
                    process = "server" if self._models.engine.kind is EngineKind.REMOTE else "model's process"
                    parts.append(f"{process} {engine.process_bytes / 2**20:,.0f} MB")
            self._said_unavailable = engine.unavailable
        used = memory.process_bytes()
        if used is not None:
            parts.append(f"app {used / 2**20:,.0f} MB")
        self.window.memory_status.setText("Memory: " + ", ".join(parts) if parts else "")

    # --- the model manager -------------------------------------------------------------------------

    def show_manager(self) -> None:
        if self.manager is None:
            dialog = ModelManagerDialog(available_devices(), self.window)
            dialog.load_requested.connect(self.load)
            dialog.engine_chosen.connect(self.choose_engine)
            self.manager = dialog
            self.model_list = ModelList(dialog, self)
            self.model_actions = ModelManagerActions(dialog, self._models, self._settings,
                                                     self._refresh_manager, self)
            self.model_actions.speech_model_changed.connect(self.speech_model_changed)
        self._refresh_manager()
        self.manager.set_choice(self._settings.device, self._settings.precision)
        self._show_engine_in_manager()
        self.manager.show()
        self.manager.raise_()

    def _show_engine_in_manager(self) -> None:
        """Where the model runs, and the last server's address and key (kept while another engine
        runs it, so coming back to the server needs no retyping)."""
        self.manager.set_engine(self._models.choice.kind.value, self._settings.engine_url,
                                self._settings.engine_key)

    def _refresh_manager(self) -> None:
        dialog = self.manager
        info = self._models.info
        dialog.set_loaded(self._models.model, f"Loaded: {self._where(info)}" if info else "No model loaded.")
        self.model_list.refresh(self._settings.local_models, self._models.model or self._settings.model)
        self.model_actions.list_speech_models()

    def choose_engine(self, kind: str, url: str = "", api_key: str = "") -> bool:
        """Run the model in the studio, in its own process, or on a server from now on (the model
        loaded goes with it); False when it cannot be done now, said in the model manager."""
        choice = EngineChoice(EngineKind(kind), url.strip() or None, api_key.strip() or None)
        if choice.kind is EngineKind.REMOTE and not choice.url:
            problem = "Type the address of the server (its dia-studio serve), e.g. http://gpu-box:8000."
        elif self._generation.is_running or self._models.is_loading:
            problem = "Wait for the generation or the load to end (or cancel it), then choose again."
        else:
            problem = None
        if problem is not None:
            self._say_in_manager(problem)
            return False
        self._live_preview.stop()  # its take is on the engine left
        return self._models.use_engine(choice)

    def _say_in_manager(self, message: str) -> None:
        if self.manager is not None and self.manager.isVisible():
            self._show_engine_in_manager()
            self.manager.show_error(message)
        else:
            self.window.statusBar().showMessage(message, 15000)

    def load(self, model: str, device: str = "auto", precision: str = "auto") -> None:
        self._live_preview.stop()  # the model it speaks with is replaced
        self.window.model_status.setText(f"Loading {model_label(model)}…")
        self._models.load(model, device, precision)

    def _failed(self, message: str) -> None:
        self.show_model()
        if self.manager is not None:  # a choice of engine that failed is undone there
            self._show_engine_in_manager()
        if self.manager is None or not self.manager.isVisible():
            self.window.statusBar().showMessage(message, 15000)

    def _engine_changed(self) -> None:
        """Nothing is loaded on the new engine yet (the model follows it): the window and the model
        manager say so, not "loaded on the server" before any connection."""
        self.show_model()
        if self.manager is not None:
            self._show_engine_in_manager()
            self._refresh_manager()
