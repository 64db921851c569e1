"""What the model manager does besides asking for a load: follow the load (progress, outcome),
cancel a download, delete a downloaded model from the Hub cache, forget a model folder, and choose
the speech recognition (Whisper) model."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from PySide6.QtCore import QObject, Signal

from app.model_session import ModelSession, model_label
from app.settings import Settings
from app.workers import run_in_background
from core.errors import describe_error
from core.params import MODEL_IDS
from ui.model_manager import ModelManagerDialog, size_text


class ModelManagerActions(QObject):
    # The Whisper model to use from now on: the transcriber loaded so far must go.
    speech_model_changed = Signal(str)

    def __init__(self, dialog: ModelManagerDialog, models: ModelSession, settings: Settings,
                 refresh: Callable[[], None], parent: QObject | None = None):
        super().__init__(parent)
        self._dialog, self._models, self._settings, self._refresh = dialog, models, settings, refresh
        self._speech_models = SpeechModels([], "", {})
        self._speech_listings = 0
        dialog.cancel_requested.connect(models.cancel_download)
        dialog.delete_requested.connect(self.delete)
        dialog.forget_requested.connect(self.forget)
        dialog.speech_model_chosen.connect(self.choose_speech_model)
        models.loading.connect(lambda model: dialog.set_loading(model, model_label(model)))
        models.download_progress.connect(dialog.set_progress)
        models.loaded.connect(self._loaded)
        models.failed.connect(self._failed)
        models.cancelled.connect(self._download_cancelled)
        if models.loading_model is not None:  # the dialog opened while the last model loads at start
            dialog.set_loading(models.loading_model, model_label(models.loading_model))

    @property
    def speech_model(self) -> str:
        return self._settings.whisper_model or self._speech_models.default

    # --- Dia2 models -----------------------------------------------------------------------------

    def _loaded(self, info) -> None:
        self._dialog.set_busy(None)
        self._refresh()
        self._dialog.select(self._models.model)  # a folder just opened is listed now

    def _failed(self, message: str) -> None:
        self._dialog.set_busy(None)
        self._dialog.show_error(message)

    def delete(self, model: str) -> None:
        """Delete a downloaded model from the Hub cache, once the person confirms it."""
        from core.dia2.model_cache import delete_from_cache

        label = model_label(model)
        if self._refused(model, label, "delete") or not self._dialog.confirm_delete(model):
            return
        repo = MODEL_IDS.get(model, model)
        self._dialog.set_busy(f"Deleting {label}…")

        def deleted(freed: int) -> None:
            self._dialog.set_busy(None)
            self._refresh()
            self._dialog.show_message(f"Deleted {label}; {size_text(freed)} freed.")

        def failed(error: Exception) -> None:
            self._dialog.set_busy(None)
            self._refresh()
            self._dialog.show_error(describe_error(error, f"Deleting {label} failed"))

        run_in_background(lambda: delete_from_cache(repo), deleted, failed, "model deleting", self,
                          shown_in=self._dialog)

    def forget(self, folder: str) -> None:
        """Take a model folder off the list; its files are the person's and stay."""
        if self._refused(folder, folder, "forget"):
            return
        self._settings.local_models = [kept for kept in self._settings.local_models if kept != folder]
        if self._settings.model == folder:
            self._settings.model = ""  # nothing to load at the next start
        self._refresh()
        self._dialog.show_message(f"{folder} is off the list; its files were not touched.")

    def _refused(self, model: str, label: str, what: str) -> bool:
        """The loaded model, or one being loaded, stays: say so."""
        loaded = self._models.model if self._models.info is not None else None
        in_use = loaded is not None and MODEL_IDS.get(loaded, loaded) == MODEL_IDS.get(model, model)
        if in_use or self._models.is_loading:
            self._dialog.show_error(f"Cannot {what} {label}: it is in use. Load another model first.")
            return True
        return False

    def _download_cancelled(self) -> None:
        self._dialog.set_busy(None)
        self._refresh()
        self._dialog.show_message("Download cancelled. The files already downloaded are kept; "
                                  "downloading again fetches the rest.")

    # --- speech recognition ----------------------------------------------------------------------

    def list_speech_models(self) -> None:
        """Offer Whisper's models, saying which are downloaded and which is the default here; read
        off the GUI thread (importing Whisper takes ~0.4 s, and its cache folder is on disk)."""
        self._speech_listings += 1
        listing = self._speech_listings

        def listed(models: SpeechModels) -> None:
            if listing == self._speech_listings:  # an older look at the cache may end after a newer one
                self._speech_models = models
                self._show_speech_models(self.speech_model)

        run_in_background(_speech_models, listed,
                          lambda error: self._dialog.show_error(
                              describe_error(error, "Listing the speech recognition models failed")),
                          "speech model names", self, shown_in=self._dialog)

    def _show_speech_models(self, current: str) -> None:
        models = self._speech_models
        self._dialog.set_speech_models(models.names, current, models.default, models.downloaded)

    def choose_speech_model(self, choice: str) -> None:
        """Use a Whisper model name, or a model file the person chose once it proves to be one
        (checked off the GUI thread: the file is opened)."""
        if choice in self._speech_models.names:
            self._use_speech_model(choice)
            return
        from core.dia2.transcribe import check_model_file

        def refused(error: Exception) -> None:
            self._show_speech_models(self.speech_model)
            self._dialog.show_error(describe_error(error, f"Checking {choice} failed"))

        self._dialog.show_message(f"Checking {choice}…")
        run_in_background(lambda: check_model_file(choice), lambda _: self._use_speech_model(choice), refused,
                          "speech model check", self, shown_in=self._dialog)

    def _use_speech_model(self, choice: str) -> None:
        self._settings.whisper_model = choice  # the person's choice: kept, even if it is the default
        self._show_speech_models(choice)
        self._dialog.show_message(f"Speech recognition: Whisper {choice}. It is loaded the next time a "
                                  "voice is transcribed.")
        self.speech_model_changed.emit(choice)


class SpeechModels(NamedTuple):
    names: list[str]  # Whisper's official models
    default: str  # the one used on this computer unless the person chooses
    downloaded: dict[str, int]  # those in Whisper's cache folder, and the bytes each takes


def _speech_models() -> SpeechModels:
    """Imports Whisper: off the GUI thread."""
    import whisper

    from core.dia2.transcribe import default_whisper_model, downloaded_models

    return SpeechModels(whisper.available_models(), default_whisper_model(), downloaded_models())
