"""The pronunciation lexicon in the window: the project's (in the document: saved with it, its edits
undone with Ctrl+Z) and the shared one (every project's: a file in the studio's data folder, read
at start and written at each change; its edits too are steps of the document's undo stack). The
lexicon dialog's requests: entries added, changed and deleted, files imported (also dropped on the
window, into the project's lexicon) and exported, an entry heard (``app.lexicon_hearing``).

Each edit says which lines the model now reads differently: those with a take are marked as
changed since it (``Dialogue.status``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject

from app.document_session import DocumentSession
from app.lexicon_hearing import EntryHearing
from core.document.content import Change
from core.document.dialogue import Dialogue
from core.document.line_numbers import line_numbers, rows_of
from core.document.speakers import Speaker
from core.lexicon.entry import LexiconEntry
from core.lexicon.errors import InvalidLexiconEntry, LexiconFileError
from core.lexicon.files import read_lexicon, write_lexicon
from core.lexicon.lexicon import Lexicon
from core.studio.lexicon_use import lines_read_differently, read_shared_lexicon, with_imported, write_shared_lexicon
from ui.lexicon_dialog import PROJECT, SHARED, LexiconDialog
from ui.main_window import MainWindow
from ui.prompts import Prompts


class LexiconSession(QObject):
    def __init__(self, window: MainWindow, document: DocumentSession, data_folder: Path, hearing: EntryHearing,
                 prompts: Callable[[], Prompts], parent: QObject | None = None):
        """``data_folder``: the studio's, where the shared lexicon's file is; ``prompts()``: the
        studio's, asked at the time (tests put their own in)."""
        super().__init__(parent)
        self._window, self._document, self._folder = window, document, data_folder
        self._prompts = prompts
        self.hearing = hearing
        self.dialog = LexiconDialog(window)
        self.dialog.addActions([window.actions.undo, window.actions.redo])  # Ctrl+Z here too
        self.shared, self._shared_unreadable, shared_problems = self._read_shared()
        self._write_problem: str | None = None  # why the shared lexicon's last change is not in its file
        self._unsubscribe = None
        dialog = self.dialog
        dialog.add_requested.connect(self.add)
        dialog.change_requested.connect(self.change)
        dialog.delete_requested.connect(self.delete)
        dialog.import_requested.connect(self.import_file)
        dialog.export_requested.connect(self.export)
        dialog.hear_requested.connect(self.hear)
        hearing.running_changed.connect(lambda _: self.show_hearing())
        hearing.said.connect(lambda message: dialog.show_message(message))
        window.actions.lexicon.triggered.connect(lambda: self.show())
        window.lexicon_files_dropped.connect(self.import_dropped)
        document.document_replaced.connect(self._show_document)
        self._show_document(document.dialogue, said=False)
        if self._shared_unreadable or shared_problems:
            window.statusBar().showMessage(" ".join([self._shared_unreadable or "", *shared_problems]).strip(), 15000)

    @property
    def dialogue(self) -> Dialogue:
        return self._document.dialogue

    def show(self, scope: str | None = None) -> None:
        """Open the lexicon dialog (on the given lexicon), without blocking the window."""
        if scope is not None:
            self.dialog.show_scope(scope)
        self.show_hearing()
        self.dialog.show()
        self.dialog.raise_()
        self.dialog.activateWindow()
        self.dialog.written.setFocus()  # ready to write an entry

    def show_hearing(self) -> None:
        self.dialog.set_hearing(self.hearing.why_not())

    # --- editing --------------------------------------------------------------------------------

    def add(self, scope: str, entry: LexiconEntry) -> None:
        """Add the entry; the form is then ready for the next one."""
        entries = self._lexicon(scope).entries
        if self._edit(scope, entries + (entry,), f"Add “{entry.written}” to the lexicon", len(entries),
                      f"Added “{entry.written}”, spoken “{entry.spoken}”."):
            self.dialog.new_entry()

    def change(self, scope: str, row: int, entry: LexiconEntry) -> None:
        entries = self._lexicon(scope).entries
        self._edit(scope, entries[:row] + (entry,) + entries[row + 1:], f"Edit “{entry.written}” in the lexicon", row,
                   f"Changed “{entry.written}”: spoken “{entry.spoken}”.")

    def delete(self, scope: str, row: int) -> None:
        entries = self._lexicon(scope).entries
        doomed = entries[row]
        self._edit(scope, entries[:row] + entries[row + 1:], f"Delete “{doomed.written}” from the lexicon",
                   min(row, len(entries) - 2), f"Deleted “{doomed.written}”.")

    def _edit(self, scope: str, entries: tuple[LexiconEntry, ...], description: str, select: int,
              done: str) -> bool:
        """Make the lexicon ``entries`` (one undo step), and say what it changed."""
        dialog = self.dialog
        if scope == SHARED and self._shared_unreadable:
            dialog.show_message(f"{self._shared_unreadable} Repair or remove the file to edit the shared lexicon.")
            return False
        try:
            lexicon = Lexicon(entries)
        except InvalidLexiconEntry as error:
            dialog.show_message(str(error))
            return False
        if lexicon == self._lexicon(scope):
            dialog.show_message("")  # nothing changed (an entry saved as it was)
            return False
        dialogue = self.dialogue
        before = dialogue.lexicon_in_use
        if scope == PROJECT:
            dialogue.set_lexicon(lexicon, description)
        else:
            dialogue.set_shared_lexicon(lexicon, description)
        self._show_lexicons((scope, select))
        changed = lines_read_differently(dialogue.lines, before, dialogue.lexicon_in_use)
        if changed:
            done += (f" {line_numbers(rows_of(dialogue, changed)).capitalize()} "
                     f"{'is' if len(changed) == 1 else 'are'} read differently now: a take made before is marked as "
                     "changed since it.")
        problem = self._write_problem if scope == SHARED else None
        dialog.show_message(problem or done, error=bool(problem))
        return True

    # --- files ----------------------------------------------------------------------------------

    def import_file(self, scope: str, path: str) -> bool:
        """Add the entries of a lexicon file to the project's or the shared lexicon (one undo
        step); what it left out is said in the dialog."""
        try:
            imported, problems = read_lexicon(path)
        except LexiconFileError as error:
            self.dialog.show_message(f"{error} Nothing was imported.")
            return False
        lexicon, added, replaced = with_imported(self._lexicon(scope), imported)
        name = Path(path).name
        counts = [f"{added} added" if added else "", f"{replaced} replaced" if replaced else ""]
        done = f"Imported {name}: " + (", ".join(count for count in counts if count) or "no entries") + "."
        if problems:
            done += " Left out: " + " ".join(problems)
        return self._edit(scope, lexicon.entries, f"Import {name} into the lexicon", len(lexicon.entries) - 1, done)

    def import_dropped(self, paths: list[str]) -> None:
        """Lexicon files dropped on the window: into the project's lexicon, the dialog opened to say how it went."""
        self.show(PROJECT)
        for path in paths:
            self.import_file(PROJECT, path)

    def export(self, scope: str, path: str) -> bool:
        lexicon = self._lexicon(scope)
        try:
            write_lexicon(path, lexicon)
        except LexiconFileError as error:
            self.dialog.show_message(str(error))
            return False
        count = len(lexicon.entries)
        lost = (" A PLS file has no place for notes or case-sensitivity: they are not in it."
                if Path(path).suffix.lower() in (".pls", ".xml") else "")
        self.dialog.show_message(f"Exported {count} {'entry' if count == 1 else 'entries'} to {path}.{lost}",
                                 error=False)
        return True

    # --- hearing --------------------------------------------------------------------------------

    def hear(self, entry: LexiconEntry, speaker: Speaker) -> None:
        why_not = self.hearing.hear(self.dialogue, entry, speaker)
        self.dialog.show_message(why_not or "", error=bool(why_not))
        self.show_hearing()

    # --- the shared lexicon and the document shown ----------------------------------------------

    def _read_shared(self) -> tuple[Lexicon, str | None, list[str]]:
        """The shared lexicon, why it cannot be read (a damaged file: it is then left as it is,
        and not used), and what it had that could not be used."""
        try:
            lexicon, problems = read_shared_lexicon(self._folder)
        except LexiconFileError as error:
            return Lexicon(), f"The shared lexicon is not used: {error}", []
        return lexicon, None, [f"In the shared lexicon, {problem}" for problem in problems]

    def _write_shared(self) -> None:
        """Write the shared lexicon's file if the document's differs (an edit, an undo)."""
        lexicon = self.dialogue.shared_lexicon
        if lexicon is self.shared:
            return
        self.shared = lexicon
        try:
            write_shared_lexicon(self._folder, lexicon)
        except LexiconFileError as error:
            self._write_problem = (f"{error} The change holds until Dia Studio closes, and is saved with the "
                                   "next change.")
            self._window.statusBar().showMessage(self._write_problem, 15000)
            return
        self._write_problem = None

    def _show_document(self, dialogue: Dialogue, said: bool = True) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
        dialogue.use_shared_lexicon(self.shared)
        self._unsubscribe = dialogue.subscribe(self._on_change)
        self._show_lexicons()
        self.dialog.show_message("")
        if said and dialogue.left_out:
            self._prompts().error("Part of the project could not be read", "\n\n".join(dialogue.left_out))

    def _on_change(self, change: Change) -> None:
        if change & Change.LEXICON:
            self._write_shared()  # an undo or a redo of a shared edit
            self._show_lexicons()
            # What was said of the edit before is stale now (an edit says its own afterwards).
            self.dialog.show_message(self._write_problem or "")
        if change & Change.SPEAKERS:
            self._show_speakers()

    def _show_lexicons(self, select: tuple[str, int] | None = None) -> None:
        dialogue = self.dialogue
        self.dialog.set_lexicons(dialogue.lexicon, dialogue.shared_lexicon, select)
        self._show_speakers()

    def _show_speakers(self) -> None:
        self.dialog.set_speakers({speaker: profile.name for speaker, profile in self.dialogue.speakers.items()})

    def _lexicon(self, scope: str) -> Lexicon:
        return self.dialogue.lexicon if scope == PROJECT else self.dialogue.shared_lexicon

