"""The voice library as the voices panel uses it: save a speaker's voice under a name, list the
saved voices, hear one, give one to a speaker (no speech recognition: its words are saved with it),
delete one, export one as a voice package (.diavoice) and import packages (from the dialog, or
dropped on a speaker's card: the library then opens for that speaker, the voice imported selected).
Reading and writing audio runs off the GUI thread; what went wrong is said in the library dialog."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from app.document_session import DocumentSession
from app.playback import Playback
from app.workers import run_in_background
from core.document.speakers import Speaker
from core.errors import DiaStudioError, describe_error
from core.voice_library import LibraryListing, LibraryVoice, VoiceLibrary
from ui.voices import VoicesPanel

# (speaker, work returning (voice, notices), busy message): how a voice is set (VoiceSession.prepare)
PrepareVoice = Callable[[Speaker, Callable, str], None]


class VoiceLibrarySession(QObject):
    saved = Signal(object)  # the LibraryVoice written
    save_failed = Signal(str)
    exported = Signal(str)  # the .diavoice file written
    export_failed = Signal(str)
    imported = Signal(object)  # the LibraryVoices imported, once a request is done (none: every one refused)

    def __init__(self, library: VoiceLibrary, panel: VoicesPanel, document: DocumentSession,
                 playback: Playback, prepare_voice: PrepareVoice, parent: QObject | None = None):
        super().__init__(parent)
        self.library = library
        self._panel = panel
        self._document = document
        self._playback = playback
        self._prepare_voice = prepare_voice
        panel.save_to_library_requested.connect(self.save)
        panel.library_requested.connect(self.show)
        panel.packages_dropped.connect(self.import_dropped)
        dialog = panel.library_dialog
        dialog.use_requested.connect(self.use)
        dialog.play_requested.connect(self.play)
        dialog.delete_requested.connect(self.delete)
        dialog.export_requested.connect(self.export)
        dialog.import_requested.connect(self.import_packages)

    def save(self, speaker: Speaker, name: str) -> None:
        """Save a copy of the speaker's voice under ``name`` (numbered if taken)."""
        profile = self._document.dialogue.speakers[speaker]
        if profile.voice is None:
            return
        voice, source = profile.voice, f"{profile.name} in {self._document.name}"
        card = self._panel.cards[speaker]
        card.set_busy("Saving the voice to the library…")

        def done(entry: LibraryVoice) -> None:
            card.set_busy(None)
            card.show_message(f"Saved to the voice library as “{entry.name}”.")
            self.saved.emit(entry)

        def failed(error: Exception) -> None:
            card.set_busy(None)
            card.show_message(describe_error(error, "Could not save the voice"), error=True)
            self.save_failed.emit(str(error))

        run_in_background(lambda: self.library.save(name, voice, source), done, failed, "voice library", self)

    def show(self, speaker: Speaker) -> None:
        """Open the library to pick a voice for ``speaker``."""
        listing, problem = self._listing()
        self._panel.show_library(speaker, listing)
        self._panel.library_dialog.show_message(problem)

    def use(self, speaker: Speaker, entry: LibraryVoice) -> None:
        notice = f"The voice “{entry.name}” from your library."
        self._prepare_voice(speaker, lambda: (self.library.load(entry.id), [notice]),
                            f"Reading “{entry.name}” from the voice library…")

    def play(self, entry: LibraryVoice) -> None:
        dialog = self._panel.library_dialog

        def heard(voice) -> None:
            self._playback.play_samples(voice.audio.samples(), voice.audio.sample_rate,
                                        f"Library voice {entry.name}")

        run_in_background(lambda: self.library.load(entry.id), heard,
                          lambda error: dialog.show_message(describe_error(error, "Could not play the voice")),
                          "voice library", self)

    def delete(self, voice_id: str) -> None:
        dialog = self._panel.library_dialog
        try:
            self.library.delete(voice_id)
        except DiaStudioError as error:
            dialog.show_message(str(error))
            return
        listing, problem = self._listing()
        dialog.set_listing(listing)
        dialog.show_message(problem)

    def export(self, entry: LibraryVoice, path: str) -> None:
        """Write the saved voice as a voice package at ``path``."""
        dialog = self._panel.library_dialog

        def done(_) -> None:
            dialog.show_message(f"Exported “{entry.name}” to {path}.", error=False)
            self.exported.emit(path)

        def failed(error: Exception) -> None:
            message = describe_error(error, f"Could not export “{entry.name}”")
            dialog.show_message(message)
            self.export_failed.emit(message)

        run_in_background(lambda: self.library.export(entry.id, Path(path)), done, failed, "voice library", self)

    def import_dropped(self, speaker: Speaker, paths: list[str]) -> None:
        """Voice packages dropped on a speaker's card (or the window: speaker 1's): the library
        opens for it, then imports them."""
        self.show(speaker)
        self.import_packages(paths)

    def import_packages(self, paths: list[str]) -> None:
        """Import each voice package (a name the library has gets a number); one refused says why
        and keeps nothing of itself, the others are imported all the same."""
        dialog = self._panel.library_dialog

        def work() -> tuple[list[LibraryVoice], list[str]]:
            entries, problems = [], []
            for path in paths:
                try:
                    entries.append(self.library.import_package(Path(path)))
                except DiaStudioError as error:
                    problems.append(str(error))
            return entries, problems

        def done(result: tuple[list[LibraryVoice], list[str]]) -> None:
            entries, problems = result
            listing, problem = self._listing()
            dialog.set_listing(listing, select=entries[-1].id if entries else None)
            names = ", ".join(f"“{entry.name}”" for entry in entries)
            said = [f"Imported {names} into your voice library."] if entries else []
            dialog.show_message(" ".join(said + problems + [problem]).strip(), error=bool(problems or problem))
            self.imported.emit(tuple(entries))

        def failed(error: Exception) -> None:
            dialog.show_message(describe_error(error, "Could not import the voice"))
            self.imported.emit(())

        run_in_background(work, done, failed, "voice library", self)

    def _listing(self) -> tuple[LibraryListing, str]:
        """The library's voices and, when it cannot be read at all, why (shown in the dialog)."""
        try:
            return self.library.listing(), ""
        except DiaStudioError as error:
            return LibraryListing((), ()), str(error)

