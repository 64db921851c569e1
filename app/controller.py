"""The studio: the window wired to the document, the model, generation and speak as I type, and
the rooms made here for the rest: what is heard (``listening``), the voices (``voices``), export
(``exports``), the model as the window shows it (``model_controls``), the voice library, the
pronunciation lexicon (``lexicon``).

Each command of the window is one method, here or in its room, readable as a sentence; long work
goes to a worker and its result comes back to the GUI thread (``app.workers``). Questions go
through ``self.prompts``, so tests answer them.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject
from PySide6.QtGui import QCloseEvent

from app.document_session import DocumentSession
from app.export_session import ExportSession
from app.generation import GenerationSession
from app.lexicon_hearing import EntryHearing
from app.lexicon_session import LexiconSession
from app.listening import Listening
from app.live_preview import KEPT as PREVIEW_KEPT, LivePreview
from app.make_until_good import MakeUntilGood
from app.model_controls import NO_MODEL, ModelControls
from app.model_session import ModelSession, settings_choice
from app.playback import Playback
from app.settings import Settings, WindowLayout
from app.take_check_settings import edit_take_checks, thresholds
from app.take_checking import TakeChecking
from app.voice_library_session import VoiceLibrarySession
from app.voice_session import VoiceSession
from core.audio.backend import AudioBackend
from core.document.dialogue import Dialogue
from core.document.speakers import Speaker
from core.engine.choice import EngineChoice, open_engine
from core.engine.engine import Engine, EngineKind
from core.errors import DiaStudioError, describe_error
from core.studio.take_checking import flagged_lines
from core.studio.voice_loading import Transcriber
from core.voice_library import VoiceLibrary
from ui.main_window import MainWindow
from ui.prompts import Prompts
from ui.takes import describe_keeping

EXAMPLE_PROJECT = Path(__file__).resolve().parents[1] / "resources" / "example" / "Example.diastudio"
VOICE_LIBRARY_FOLDER = "voice_library"  # in the studio's data folder, shared by every project


class StudioController(QObject):
    def __init__(self, settings: Settings, layout: WindowLayout, config_dir: Path,
                 backend: AudioBackend | None, transcriber: Transcriber | None = None,
                 model_loader=None, window: MainWindow | None = None, engine: EngineChoice | None = None):
        """``engine``: where the model runs for this run (``--engine``), instead of the settings'
        choice; ``model_loader`` (tests): a stand-in for ``Dia2Runtime.load``, run in the studio's
        process; ``transcriber`` (tests): a stand-in for the engine's speech recognition."""
        super().__init__()
        self.settings = settings
        self.layout = layout
        self._model_loader = model_loader
        # Given: shown already, its layout restored, while this was imported.
        self._own_window = window is None
        self.window = window or MainWindow(backend)
        self.prompts = Prompts(self.window)
        self.document = DocumentSession(config_dir, settings.autosave_seconds, self)
        self.playback = Playback(backend, self)
        self.voices = VoiceSession(self.window.voices, self.document, self.playback, settings,
                                   lambda: self.models.engine, transcriber, self)
        self.models = ModelSession(settings, self._open_engine, engine or settings_choice(settings), self)
        self.generation = GenerationSession(self)
        self.live_preview = LivePreview(self._engine_for_preview, self._preview_blocked, self)
        self.model_controls = ModelControls(self.window, self.models, settings, self.generation, self.live_preview,
                                            self)
        self.exports = ExportSession(self.window, self.document, settings, lambda: self.prompts, self)
        self.voice_library = VoiceLibrarySession(VoiceLibrary(config_dir / VOICE_LIBRARY_FOLDER), self.window.voices,
                                                 self.document, self.playback, self.voices.prepare, self)
        # The shared lexicon's file is in the data folder too; an entry is heard when the model is free.
        hearing = EntryHearing(self._engine_for_preview, self._hearing_blocked, self.playback, self)
        self.lexicon = LexiconSession(self.window, self.document, config_dir, hearing, lambda: self.prompts, self)
        # Made before the wiring below, so a stream has ended before the window says how a job went.
        self.listening = Listening(self.window, self.playback, self.generation, self.live_preview, self.document,
                                   settings, lambda: self.models.info.sample_rate, self)
        self.take_checking = TakeChecking(self.window.checks_status, self._hearing, lambda: thresholds(settings),
                                          self)
        # Before Make until good's: a finished generation's takes are heard before they are judged.
        for busy_or_not in (self.generation.started, self.generation.finished, self.live_preview.take_started,
                            self.live_preview.idle):
            busy_or_not.connect(lambda *_: self.take_checking.set_quiet(
                not self.generation.is_running and not self.live_preview.is_running))
        self.make_until_good = MakeUntilGood(self.generate, self.generation, self.take_checking,
                                             lambda: self.dialogue, self)
        self._generation_waits = False  # a Generate waits for the preview to let go of the model
        self._connect()
        self._show_document(self.document.dialogue)

    @property
    def dialogue(self) -> Dialogue:
        return self.document.dialogue

    # --- wiring ----------------------------------------------------------------------------------

    def _connect(self) -> None:
        w, a = self.window, self.window.actions
        a.new_project.triggered.connect(self.new_project)
        a.open_project.triggered.connect(lambda: self.open_project())
        a.save.triggered.connect(self.save)
        a.save_as.triggered.connect(lambda: self.save_as())
        a.export.triggered.connect(lambda: self.exports.export())
        a.models.triggered.connect(self.model_controls.show_manager)
        a.quit.triggered.connect(w.close)
        a.insert_pause.triggered.connect(self.insert_pause)
        a.generate.triggered.connect(lambda: self.generate())
        a.generate_selected.triggered.connect(lambda: self.generate(w.timeline.selected_line_ids()))
        a.make_until_good.triggered.connect(self.make_lines_until_good)
        a.take_checks.triggered.connect(
            lambda: edit_take_checks(self.settings, w) and self.take_checking.check_what_is_new())
        a.cancel.triggered.connect(self.make_until_good.cancel)  # before the generation's: no next try
        a.cancel.triggered.connect(self.cancel_generation)
        a.play_pause.triggered.connect(self.listening.play_pause)
        a.stop.triggered.connect(self.playback.stop)
        a.play_while_generating.setChecked(self.settings.play_while_generating)
        a.play_while_generating.toggled.connect(
            lambda on: setattr(self.settings, "play_while_generating", on))
        a.speak_as_i_type.setChecked(self.settings.speak_as_i_type)
        self.live_preview.set_on(self.settings.speak_as_i_type)
        a.speak_as_i_type.toggled.connect(self.speak_as_i_type)
        a.keep_preview.triggered.connect(self.keep_preview)
        a.keep_preview.setEnabled(False)
        a.reset_layout.triggered.connect(self._reset_layout)
        w.close_requested.connect(self._close)
        w.generation_progress.cancel_requested.connect(self.cancel_generation)

        self.document.document_replaced.connect(self._show_document)
        self.document.state_changed.connect(self._show_title)
        self.document.autosave_failed.connect(w.statusBar().showMessage)
        self.model_controls.speech_model_changed.connect(self.voices.use_speech_model)
        self.model_controls.speech_model_changed.connect(lambda _: self.take_checking.look_for_hearing())
        self.models.engine_changed.connect(lambda _: self.take_checking.look_for_hearing())
        for shown in (self.models.loaded, self.models.engine_changed, self.models.failed):
            shown.connect(lambda _: self._update_actions())  # after the model controls show the model
        self.generation.started.connect(w.generation_progress.start)
        self.generation.progress.connect(w.generation_progress.report)
        self.generation.finished.connect(self._generation_finished)
        self.generation.failed.connect(lambda message: self.prompts.error("Generation failed", message))
        self.generation.notice.connect(lambda message: w.statusBar().showMessage(message, 8000))
        w.timeline.line_typed.connect(self.live_preview.edited)
        w.timeline.line_left.connect(self.live_preview.left)
        w.timeline.flag_play_requested.connect(self.listening.hear_flag)
        w.voice_packages_dropped.connect(lambda paths: self.voice_library.import_dropped(Speaker.S1, paths))
        self.live_preview.take_finished.connect(lambda result: self._update_actions())
        self.live_preview.said.connect(lambda message: w.statusBar().showMessage(message, 8000))
        self.live_preview.keepable_changed.connect(lambda _: self._update_actions())
        self.live_preview.take_started.connect(lambda *_: self._update_actions())  # Keep may be asked ahead
        self.live_preview.idle.connect(self._update_actions)
        for busy_or_not in (self.generation.started, self.generation.finished, self.live_preview.take_started,
                            self.live_preview.idle, self.models.loaded, self.models.engine_changed):
            busy_or_not.connect(lambda *_: self.lexicon.show_hearing())
        self.playback.failed.connect(lambda message: w.statusBar().showMessage(message, 8000))
        w.takes.said.connect(lambda message: w.statusBar().showMessage(message, 8000))
        self.make_until_good.said.connect(lambda message: w.statusBar().showMessage(message, 15000))
        self.make_until_good.said.connect(lambda _: self._update_actions())
        self.make_until_good.finished.connect(self._update_actions)

    # --- start and end ---------------------------------------------------------------------------

    def start(self) -> None:
        """Show the window: restore its layout, offer recovery, open the example at first start,
        and load the last model."""
        if self._own_window:
            self.layout.restore(self.window)
        self.window.voices.refresh_devices(self.settings.input_device)
        self.listening.show_outputs()
        if self._own_window:
            self.window.show()
        # The hint says "Start typing": the keys go to the lines at once. (The window was disabled
        # while the studio loaded, which took the focus from them.)
        self.window.activateWindow()
        self.window.timeline.setFocus()
        self.model_controls.status_timer.start()
        if not self._offer_recovery() and not self.settings.first_start_done and EXAMPLE_PROJECT.is_dir():
            self.document.open_copy(EXAMPLE_PROJECT)
        self.settings.first_start_done = True
        if self.models.start_problem:
            self.window.statusBar().showMessage(self.models.start_problem, 15000)
        if self.settings.model and self.settings.load_model_on_start:
            self.model_controls.load(self.settings.model, self.settings.device, self.settings.precision)

    def _offer_recovery(self) -> bool:
        copies = self.document.recoverable()
        if not copies:
            return False
        newest = copies[0]
        what = f"“{newest.project.name}”" if newest.project else "an untitled dialogue"
        saved = newest.saved_at.astimezone().strftime("%Y-%m-%d %H:%M")
        answer = self.prompts.recover(f"{what} (autosaved {saved})")
        if answer == "discard":
            self.document.discard_copy(newest)
        if answer != "recover":
            return False
        try:
            self.document.recover(newest)
        except DiaStudioError as error:
            self.prompts.error("Recovery failed", str(error))
            return False
        return True

    def _close(self, event: QCloseEvent) -> None:
        if not self.maybe_save():
            event.ignore()
            return
        self.live_preview.stop()
        self.live_preview.wait()
        self.lexicon.hearing.stop()
        self.lexicon.hearing.wait()
        if self.generation.is_running:
            self.generation.cancel()
            self.generation.worker.wait()
        if self.window.voices.is_recording:
            self.window.voices.cancel_recording()
        self.playback.stop()
        self.take_checking.stop()
        self.model_controls.status_timer.stop()
        self.models.close()
        self.document.close()
        self.layout.save(self.window)
        event.accept()

    def _reset_layout(self) -> None:
        for dock in (self.window.voices_dock, self.window.parameters_dock, self.window.takes_dock):
            dock.setFloating(False)
            dock.show()
        self.window.resize(1280, 800)

    # --- projects --------------------------------------------------------------------------------

    def maybe_save(self) -> bool:
        """Before the document is replaced or closed: True when it may go."""
        if not self.dialogue.modified:
            return True
        answer = self.prompts.save_changes(self.document.name)
        if answer == "save":
            return self.save()
        return answer == "discard"

    def new_project(self) -> None:
        if self.maybe_save():
            self.document.new()

    def open_project(self, path: Path | None = None) -> bool:
        if not self.maybe_save():
            return False
        # Where projects were last opened or saved; before any, the home folder (never the folder the
        # program happened to start in, which for a bundle is its own).
        path = path or self.prompts.open_project_path(self.settings.project_folder or str(Path.home()))
        if path is None:
            return False
        try:
            self.document.open(path)
        except DiaStudioError as error:
            self.prompts.error("Cannot open the project", str(error))
            self.document.recent.remove(path)
            return False
        self.settings.project_folder = str(self.document.path.parent)
        return True

    def save(self) -> bool:
        if self.document.path is None:
            return self.save_as()
        return self._save_to(self.document.path)

    def save_as(self, path: Path | None = None) -> bool:
        folder = Path(self.settings.project_folder or Path.home())
        path = path or self.prompts.save_project_path(folder / f"{self.document.name}.diastudio")
        if path is None:
            return False
        if self._save_to(path):
            self.settings.project_folder = str(path.parent)
            return True
        return False

    def _save_to(self, path: Path) -> bool:
        try:
            self.document.save(path)
        except Exception as error:  # whatever failed, the window stays open with the work in it
            self.prompts.error("Cannot save the project", describe_error(error, f"Saving {path} failed"))
            return False
        self.window.statusBar().showMessage(f"Saved {path}", 5000)
        return True

    def _show_document(self, dialogue: Dialogue) -> None:
        self.listening.show_document(dialogue)
        self.live_preview.stop()
        self.live_preview.dialogue = dialogue
        self.window.set_dialogue(dialogue)
        self.take_checking.set_dialogue(dialogue)
        self._fill_recent_menu()
        self._show_title()

    def _show_title(self) -> None:
        self.window.show_title(self.document.name, self.dialogue.modified)
        self._update_actions()

    def _fill_recent_menu(self) -> None:
        menu = self.window.recent_menu
        menu.clear()
        for path in self.document.recent.paths():
            menu.addAction(str(path), lambda path=path: self.open_project(path))
        menu.setEnabled(not menu.isEmpty())

    # --- the engine ------------------------------------------------------------------------------

    def _open_engine(self, choice: EngineChoice) -> Engine:
        if self._model_loader is not None:
            from core.engine.in_process import InProcessEngine

            engine = InProcessEngine(self._model_loader, on_speech_model_load=self.voices.speech_model_loading.emit,
                                     warm_voices_bytes=self.settings.warm_voices_mb * 2**20)
        else:
            engine = open_engine(choice, on_speech_model_load=self.voices.speech_model_loading.emit,
                                 warm_voices_bytes=self.settings.warm_voices_mb * 2**20)
        engine.speech_model = self.settings.whisper_model or None  # no choice made: the device's default
        return engine

    def _hearing(self) -> tuple[str, object] | None:
        """Off the GUI thread: the Whisper model the checks hear lines with, and what hears with it:
        the engine's (where voices are heard), when it runs on this computer and its model is on
        disk already."""
        if self.models.choice.kind is EngineKind.REMOTE:
            return None  # the server's Whisper is its own affair
        from core.dia2.transcribe import model_on_disk  # imports Whisper: off the GUI thread

        model = model_on_disk(self.settings.whisper_model or None)
        return (model, self.voices.transcriber()) if model else None

    # --- generating -----------------------------------------------------------------------------

    def generate(self, line_ids: list[str] | None = None) -> bool:
        """Generate the lines (default: the whole dialogue); False when it could not start."""
        if self.models.info is None:
            self.prompts.error("No model loaded", NO_MODEL)
            self.model_controls.show_manager()
            return False
        if self._generation_waits:
            return True
        # The generation has the model once a preview, or an entry heard, has let go of it.
        speaking = next((user for user in (self.live_preview, self.lexicon.hearing) if user.is_running), None)
        if speaking is not None:
            self._generation_waits = True
            speaking.stop(lambda: self._start_generation(line_ids))
            self._update_actions()
            return True
        self.live_preview.stop()
        return self._start_generation(line_ids)

    def _start_generation(self, line_ids: list[str] | None) -> bool:
        self._generation_waits = False
        try:
            self.generation.start(self.models.engine, self.dialogue, line_ids)
        except DiaStudioError as error:
            self.prompts.error("Cannot generate", str(error))
            self._update_actions()
            return False
        self._update_actions()
        return True

    def make_lines_until_good(self) -> None:
        """The selected lines, or else every flagged line, generated until a take passes its checks."""
        line_ids = self.window.timeline.selected_line_ids() or flagged_lines(self.dialogue)
        if not line_ids:
            self.window.statusBar().showMessage("No line is flagged: select the lines to make until good.", 8000)
            return
        self.make_until_good.start(line_ids, self.settings.make_until_good_tries)

    def cancel_generation(self) -> None:
        if self.generation.is_running:
            self.generation.cancel()
            self.window.generation_progress.cancelling()

    def _generation_finished(self, cancelled: bool) -> None:
        self.window.generation_progress.hide()
        # What the generation changed (its takes may have been undone since, or be another document's).
        present = {take.id for take in self.dialogue.takes}
        takes = [take for take in self.generation.takes if take.id in present]
        said = [describe_keeping(self.dialogue, takes[0]) if takes else "Nothing was made."] + self.generation.notices
        if cancelled:
            said.insert(0, "Generation cancelled.")
        self.window.statusBar().showMessage(" ".join(said), 15000)
        self._update_actions()

    # --- speak as I type ---------------------------------------------------------------------------

    def speak_as_i_type(self, on: bool) -> None:
        """The line being edited is heard while it is typed (remembered)."""
        self.settings.speak_as_i_type = on
        self.live_preview.set_on(on)
        if on:
            message = ("Speak as I type: the line you edit is heard as you write it (a word once the two "
                       "after it are typed; the rest when you leave the line or press Enter).")
            self.window.statusBar().showMessage(self._preview_blocked() or (
                message if self.models.info else "Speak as I type needs a model: load one in the model "
                "manager (Ctrl+Shift+M)."), 8000)

    def keep_preview(self) -> None:
        if self.live_preview.keep():
            self.window.statusBar().showMessage(PREVIEW_KEPT, 5000)
        elif self.live_preview.keep_when_finished():
            self.window.statusBar().showMessage("The preview is still being made: it is kept as a take of its "
                                                "line once it is finished.", 8000)
        self._update_actions()

    def _engine_for_preview(self):
        info = self.models.info
        return None if info is None or self.models.is_loading else (self.models.engine, info.sample_rate)

    def _preview_blocked(self) -> str | None:
        if self.generation.is_running:
            return "A generation is running: the line is heard as you type once it has ended."
        if self.lexicon.hearing.is_running:
            return "A lexicon entry is being heard: the line is heard as you type once it has ended."
        return None

    def _hearing_blocked(self) -> str | None:
        if self.generation.is_running or self._generation_waits:
            return "Not while a generation runs: hear the entry once it has ended."
        if self.live_preview.is_running:
            return "Not while a typed line is heard (Speak as I type): hear the entry once it has ended."
        return None

    # --- editing helpers that ask something -------------------------------------------------------

    def insert_pause(self) -> None:
        markup = self.prompts.pause_markup()
        if markup:
            self.window.timeline.insert_at_cursor(markup)

    # --- what can be done now ----------------------------------------------------------------------

    def _update_actions(self) -> None:
        a = self.window.actions
        running = self.generation.is_running or self._generation_waits
        making = self.make_until_good.is_running
        for action in (a.generate, a.generate_selected, a.make_until_good):
            action.setEnabled(not running and not making)
        a.cancel.setEnabled(running or making)
        a.keep_preview.setEnabled(self.live_preview.keepable() or self.live_preview.making)

