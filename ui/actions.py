"""Every command of the window as a QAction with its shortcut: menus, toolbar and keys share them."""

from __future__ import annotations

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QWidget

Key = QKeySequence.StandardKey


class StudioActions:
    """The commands; the application connects ``triggered`` and sets ``enabled``."""

    def __init__(self, parent: QWidget):
        def action(text: str, shortcut=None, tip: str = "") -> QAction:
            made = QAction(text, parent)
            made.setProperty("command", text.replace("&", "").replace("…", ""))  # its name, whatever it says later
            if isinstance(shortcut, QKeySequence.StandardKey):
                made.setShortcuts(shortcut)  # the platform's own keys, all of them
            elif shortcut is not None:
                made.setShortcut(QKeySequence(shortcut))
            keys = made.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
            made.setToolTip(f"{tip or text.replace('…', '')}" + (f" ({keys})" if keys else ""))
            parent.addAction(made)  # shortcuts work with the menus closed
            return made

        # File
        self.new_project = action("&New", Key.New, "Start an empty dialogue")
        self.open_project = action("&Open…", Key.Open, "Open a project")
        self.save = action("&Save", Key.Save, "Save the project")
        self.save_as = action("Save &As…", Key.SaveAs, "Save the project under a new name")
        self.export = action("&Export…", "Ctrl+E", "Export audio and subtitles")
        self.models = action("&Models…", "Ctrl+Shift+M", "Download, choose and load a Dia2 model")
        self.quit = action("&Quit", Key.Quit)
        # Edit
        self.undo = action("&Undo", Key.Undo)
        self.redo = action("&Redo", Key.Redo)
        self.add_line = action("Add line &below", "Ctrl+Return", "Add a line below the current one")
        self.insert_line = action("Add line &above", "Ctrl+Shift+Return", "Add a line above the current one")
        self.duplicate_line = action("&Duplicate line", "Ctrl+D")
        self.delete_lines = action("De&lete lines", "Ctrl+Delete", "Delete the selected lines")
        self.move_up = action("Move line &up", "Alt+Up")
        self.move_down = action("Move line dow&n", "Alt+Down")
        self.merge_lines = action("&Join with next line", "Ctrl+J", "Join the current line and the next one")
        self.speaker_1 = action("Spoken by speaker &1", "Ctrl+1")
        self.speaker_2 = action("Spoken by speaker &2", "Ctrl+2")
        self.insert_pause = action("Insert &pause…", "Ctrl+Shift+P", "Insert a pause at the cursor")
        self.lexicon = action("Pronunciation le&xicon…", "Ctrl+L", "How names, brands and acronyms are read: "
                              "respellings the model reads in their place")
        # Generate and listen
        self.generate = action("&Generate", "F5", "Generate the whole dialogue")
        self.generate_selected = action("Generate &selected lines", "Shift+F5")
        self.make_until_good = action("Make &until good", "Ctrl+F5", "Generate the selected lines (or every flagged "
                                      "line) again until a take passes its checks, keeping the best")
        self.take_checks = action("Take c&hecks…", None, "How many tries Make until good makes, and the "
                                  "thresholds the checks judge takes by")
        self.cancel = action("&Cancel generation", "Esc", "Stop after the current frame, keeping what was made")
        self.play_pause = action("&Play / pause", "Ctrl+Space")
        self.stop = action("S&top playback", "Ctrl+.")
        self.play_while_generating = action("Play &while generating")
        self.play_while_generating.setCheckable(True)
        self.speak_as_i_type = action("Speak as I t&ype", "F6", "Hear the line being edited while it is typed")
        self.speak_as_i_type.setCheckable(True)
        self.keep_preview = action("&Keep this preview", "Shift+F6", "Keep the line's last preview as a take")
        # View
        self.reset_layout = action("&Reset layout")
        # Help
        self.shortcuts = action("&Keyboard shortcuts", Key.HelpContents, "Every command's keys")
        self.about = action("&About Dia Studio", tip="The version, the model's makers and the licences")
