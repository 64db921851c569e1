"""The studio window: the timeline in the middle, voices on the left, settings and takes on the
right, generation and playback strips below, and the commands in menus, toolbar and keys.

Widgets only: the application (``app.controller``) connects the commands to the work. Lexicon
files and voice packages dropped on the window are handed on to it (``lexicon_files_dropped``,
``voice_packages_dropped``).
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QSize, Qt, Signal
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (QDockWidget, QFrame, QHBoxLayout, QLabel, QMainWindow, QMenu, QPushButton,
                               QScrollArea, QSplitter, QToolBar, QToolButton, QVBoxLayout, QWidget)

from core.audio.backend import AudioBackend
from core.document.dialogue import Dialogue
from core.document.markup import NONVERBAL_CUES
from core.document.speakers import Speaker
from ui.actions import StudioActions
from ui.generation_progress import GenerationProgress
from ui.help_dialogs import ShortcutsDialog, show_about
from ui.lexicon_dialog import dropped_lexicons
from ui.voice_library_dialog import dropped_packages
from ui.parameters import ParametersPanel
from ui.playback_bar import PlaybackBar
from ui.takes import TakesPanel
from ui.timeline import TimelineView
from ui.voices import VoicesPanel
from ui.waveform import WaveformView

APP_NAME = "Dia Studio"


class ModelBanner(QFrame):
    """A strip above the timeline while no model is loaded, pointing to the model manager."""

    def __init__(self, open_models, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("model_banner")
        self.setStyleSheet("#model_banner { background: #e8f0fe; border: 1px solid #aac4f5; border-radius: 4px; }")
        self.text = QLabel()
        self.text.setWordWrap(True)
        button = QPushButton("Open the model manager")
        button.clicked.connect(open_models)
        layout = QHBoxLayout(self)
        layout.addWidget(self.text, 1)
        layout.addWidget(button)

    def show_message(self, text: str | None) -> None:
        self.text.setText(text or "")
        self.setVisible(bool(text))


class DockScrollArea(QScrollArea):
    """A dock's content, scrolled up and down only: the dock is never narrower than the content
    needs (with room for the scroll bar), so nothing in it is ever cut at the side."""

    def __init__(self, content: QWidget):
        super().__init__()
        self.setWidget(content)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

    def minimumSizeHint(self) -> QSize:
        width = self.widget().minimumSizeHint().width() + self.verticalScrollBar().sizeHint().width()
        return QSize(width, super().minimumSizeHint().height())

    def sizeHint(self) -> QSize:
        return QSize(self.minimumSizeHint().width(), super().sizeHint().height())  # room goes to the timeline

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.widget() and event.type() == QEvent.Type.LayoutRequest:
            self.updateGeometry()  # the content's needs changed (a message, a button shown)
        return super().eventFilter(watched, event)


class MainWindow(QMainWindow):
    close_requested = Signal(QCloseEvent)  # the application decides (unsaved changes, running jobs)
    lexicon_files_dropped = Signal(list)  # paths of .json, .csv, .pls files: into the project's lexicon
    voice_packages_dropped = Signal(list)  # paths of .diavoice files: into the voice library

    def __init__(self, backend: AudioBackend | None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("main_window")
        self.resize(1280, 800)
        self.setAcceptDrops(True)
        self.actions = StudioActions(self)

        self.timeline = TimelineView()
        self.waveform = WaveformView()
        self.generation_progress = GenerationProgress()
        self.playback_bar = PlaybackBar()
        self.banner = ModelBanner(self.actions.models.trigger)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.banner)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setObjectName("timeline_waveform_splitter")  # the layout remembers it by name
        self.splitter.addWidget(self.timeline)
        self.splitter.addWidget(self.waveform)
        self.splitter.setStretchFactor(0, 4)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setSizes([560, 140])
        layout.addWidget(self.splitter, 1)
        layout.addWidget(self.generation_progress)
        layout.addWidget(self.playback_bar)
        self.setCentralWidget(central)

        self.voices = VoicesPanel(backend)
        self.parameters = ParametersPanel()
        self.takes = TakesPanel()
        self.voices_dock = self._dock("Voices", self.voices, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.parameters_dock = self._dock("Settings", self.parameters, Qt.DockWidgetArea.RightDockWidgetArea)
        self.takes_dock = self._dock("Takes", self.takes, Qt.DockWidgetArea.RightDockWidgetArea)
        self.takes.selected_take_changed.connect(
            lambda take: self.parameters.set_selected_take_seed(take.seed if take else None))

        self.cue_menu = QMenu("Insert &cue", self)
        for cue in NONVERBAL_CUES:
            self.cue_menu.addAction(cue, lambda cue=cue: self.timeline.insert_at_cursor(cue))
        self._build_menus()
        self._build_toolbar()
        self._build_status_bar()
        self._connect_editing()
        self._unsubscribe = None

    def _dock(self, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"{widget.objectName()}_dock")  # saveState() restores docks by name
        dock.setWidget(DockScrollArea(widget))
        self.addDockWidget(area, dock)
        return dock

    def _build_menus(self) -> None:
        a = self.actions
        menu_bar = self.menuBar()
        file_menu = menu_bar.addMenu("&File")
        file_menu.addActions([a.new_project, a.open_project])
        self.recent_menu = file_menu.addMenu("Open &recent")
        file_menu.addActions([a.save, a.save_as])
        file_menu.addSeparator()
        file_menu.addActions([a.export, a.models])
        file_menu.addSeparator()
        file_menu.addAction(a.quit)
        edit_menu = menu_bar.addMenu("&Edit")
        edit_menu.addActions([a.undo, a.redo])
        edit_menu.addSeparator()
        edit_menu.addActions([a.add_line, a.insert_line, a.duplicate_line, a.delete_lines])
        edit_menu.addActions([a.move_up, a.move_down, a.merge_lines, a.speaker_1, a.speaker_2])
        edit_menu.addSeparator()
        edit_menu.addMenu(self.cue_menu)
        edit_menu.addAction(a.insert_pause)
        edit_menu.addSeparator()
        edit_menu.addAction(a.lexicon)
        generate_menu = menu_bar.addMenu("&Generate")
        generate_menu.addActions([a.generate, a.generate_selected, a.make_until_good, a.take_checks, a.cancel])
        generate_menu.addSeparator()
        generate_menu.addActions([a.play_pause, a.stop, a.play_while_generating])
        generate_menu.addSeparator()
        generate_menu.addActions([a.speak_as_i_type, a.keep_preview])
        view_menu = menu_bar.addMenu("&View")
        for dock in (self.voices_dock, self.parameters_dock, self.takes_dock):
            view_menu.addAction(dock.toggleViewAction())
        view_menu.addAction(a.reset_layout)
        help_menu = menu_bar.addMenu("&Help")
        help_menu.addActions([a.shortcuts, a.about])
        a.shortcuts.triggered.connect(lambda: ShortcutsDialog(QWidget.actions(self), self).open())
        a.about.triggered.connect(lambda: show_about(self, APP_NAME))

    def _build_toolbar(self) -> None:
        a = self.actions
        toolbar = QToolBar("Main")
        toolbar.setObjectName("main_toolbar")
        toolbar.setIconSize(QSize(16, 16))
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        toolbar.addActions([a.new_project, a.open_project, a.save])
        toolbar.addSeparator()
        toolbar.addActions([a.undo, a.redo])
        toolbar.addSeparator()
        toolbar.addActions([a.add_line, a.delete_lines, a.move_up, a.move_down])
        cue_button = QToolButton()
        cue_button.setText("Cue")
        cue_button.setToolTip("Insert a non-verbal cue, like (laughs), at the cursor")
        cue_button.setMenu(self.cue_menu)
        cue_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        toolbar.addWidget(cue_button)
        toolbar.addAction(a.insert_pause)
        toolbar.addSeparator()
        toolbar.addActions([a.generate, a.generate_selected, a.cancel])
        toolbar.addSeparator()
        toolbar.addActions([a.speak_as_i_type])
        toolbar.addSeparator()
        toolbar.addActions([a.export, a.models])
        self.addToolBar(toolbar)
        # Short toolbar labels; the menus keep the long ones (and Undo's "Undo Edit text").
        for action, text in ((a.undo, "Undo"), (a.redo, "Redo"), (a.add_line, "Add line"),
                             (a.delete_lines, "Delete"), (a.move_up, "Up"), (a.move_down, "Down"),
                             (a.insert_pause, "Pause"), (a.generate_selected, "Generate selected"),
                             (a.cancel, "Cancel"), (a.export, "Export"), (a.models, "Models"),
                             (a.new_project, "New"), (a.open_project, "Open")):
            action.setIconText(text)

    def _build_status_bar(self) -> None:
        self.checks_status = QLabel()  # what the checks flag in the takes kept (app/take_checking.py)
        self.model_status = QLabel()
        self.memory_status = QLabel()
        self.statusBar().addPermanentWidget(self.checks_status)
        self.statusBar().addPermanentWidget(self.model_status)
        self.statusBar().addPermanentWidget(self.memory_status)
        # A message (what just happened) needs the room more than the memory figures, back after it.
        self.statusBar().messageChanged.connect(lambda message: self.memory_status.setVisible(not message))

    def _connect_editing(self) -> None:
        """Editing commands act on the document shown; they need nothing but the widgets."""
        a, timeline = self.actions, self.timeline
        a.undo.triggered.connect(lambda: timeline.dialogue.undo_stack.undo())
        a.redo.triggered.connect(lambda: timeline.dialogue.undo_stack.redo())
        a.add_line.triggered.connect(lambda: timeline.add_line())
        a.insert_line.triggered.connect(lambda: timeline.add_line(above=True))
        a.duplicate_line.triggered.connect(timeline.duplicate_current)
        a.delete_lines.triggered.connect(timeline.delete_selected)
        a.move_up.triggered.connect(lambda: timeline.move_current(-1))
        a.move_down.triggered.connect(lambda: timeline.move_current(1))
        a.merge_lines.triggered.connect(timeline.join_current_with_next)
        a.speaker_1.triggered.connect(lambda: timeline.set_speaker_of_current(Speaker.S1))
        a.speaker_2.triggered.connect(lambda: timeline.set_speaker_of_current(Speaker.S2))
        timeline.notice.connect(lambda message: self.statusBar().showMessage(message, 8000))

    def set_dialogue(self, dialogue: Dialogue) -> None:
        if self._unsubscribe:
            self._unsubscribe()
        self.timeline.set_dialogue(dialogue)
        self.timeline.setFocus()  # a document opens where its lines are typed
        self.voices.set_dialogue(dialogue)
        self.parameters.set_dialogue(dialogue)
        self.takes.set_dialogue(dialogue)
        self._unsubscribe = dialogue.subscribe(lambda change: self._show_undo_state(dialogue))
        self._show_undo_state(dialogue)

    def _show_undo_state(self, dialogue: Dialogue) -> None:
        stack = dialogue.undo_stack
        for action, possible, text, verb in ((self.actions.undo, stack.can_undo, stack.undo_text, "Undo"),
                                             (self.actions.redo, stack.can_redo, stack.redo_text, "Redo")):
            action.setEnabled(possible)
            action.setText(f"&{verb} {text}" if text else f"&{verb}")

    def keep_on_screen(self) -> None:
        """The whole window, its frame and status bar included, on the screen it is on: a size
        saved on a larger screen, or the default 1280×800 on a 1024×768 one, put its edges beyond.
        (Before the window is shown its frame is not known: called again once it is.)"""
        screen = self.screen().availableGeometry()
        frame, inner = self.frameGeometry(), self.geometry()
        border = (frame.width() - inner.width(), frame.height() - inner.height())
        size = inner.size().boundedTo(screen.size() - QSize(*border)).expandedTo(self.minimumSizeHint())
        if size != inner.size():
            self.resize(size)
        left = min(max(frame.left(), screen.left()), screen.right() + 1 - size.width() - border[0])
        top = min(max(frame.top(), screen.top()), screen.bottom() + 1 - size.height() - border[1])
        if (left, top) != (frame.left(), frame.top()):
            self.move(max(left, screen.left()), max(top, screen.top()))

    def show_title(self, project_name: str, modified: bool) -> None:
        self.setWindowTitle(f"{project_name}[*] — {APP_NAME}")
        self.setWindowModified(modified)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.close_requested.emit(event)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if dropped_lexicons(event.mimeData()) or dropped_packages(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        lexicons, packages = dropped_lexicons(event.mimeData()), dropped_packages(event.mimeData())
        if lexicons or packages:
            event.acceptProposedAction()
        if lexicons:
            self.lexicon_files_dropped.emit(lexicons)
        if packages:
            self.voice_packages_dropped.emit(packages)
