"""The export dialog: what to export (with subtitles, with one file per speaker: stems), the format and
its settings, checked live by ExportSettings.

The lossless formats (WAV, FLAC) take no settings, so theirs are hidden; for MP3 and OGG the sample
rates come from the format table and the bitrate is checked against it as it is typed, with the
table's own message. A change of format, sample rate or channels moves the settings to the nearest
the table allows (coming from WAV or FLAC: the format's defaults), so they are never left invalid.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QButtonGroup, QCheckBox, QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox,
                               QFileDialog, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QLineEdit, QMessageBox,
                               QPushButton, QRadioButton, QSizePolicy, QSpinBox, QStackedWidget, QStyle, QVBoxLayout,
                               QWidget)

from core.audio.errors import InvalidExportSettings
from core.audio.formats import LOUDNESS_RANGE_LUFS, AudioFormat, ExportSettings, allowed_bitrates, allowed_sample_rates, format_from_path
from core.studio.exporting import ExportChoice

DEFAULT_LOUDNESS_LUFS = -16.0  # podcast loudness; broadcast would be -23


class ExportDialog(QDialog):
    def __init__(self, initial: ExportChoice, summary: str, selection: Sequence[str] = (),
                 parent: QWidget | None = None, planned: Callable[[ExportChoice], Sequence[Path]] | None = None):
        """``selection``: the ids of the lines selected in the timeline, offered as a scope.
        ``planned``: the files an export of a choice would write (audio and subtitles), so that Export
        asks before replacing any of them; None: nothing is asked."""
        super().__init__(parent)
        self._planned = planned
        self.setWindowTitle("Export")
        self.setObjectName("export_dialog")
        self.setMinimumWidth(72 * self.fontMetrics().averageCharWidth())  # a folder's path on a line or two
        self._file_name = "dialogue" if initial.per_line else initial.path.stem  # kept while per line

        self.summary = QLabel(summary)
        self.summary.setWordWrap(True)
        self.whole = QRadioButton("The whole dialogue, as one file")
        self._selection = tuple(selection)
        self.selected = QRadioButton(f"The selected lines ({len(self._selection)}), as one file")
        self.selected.setEnabled(bool(self._selection))
        self.selected.setToolTip("Only the lines selected in the timeline, in dialogue order" if self._selection
                                 else "Select lines in the timeline to export only them")
        self.per_line = QRadioButton("One file per line")
        self.per_line.setToolTip("Each line as its own file, numbered in dialogue order")
        what = QButtonGroup(self)
        for scope in (self.whole, self.selected, self.per_line):
            what.addButton(scope)
        (self.per_line if initial.per_line else self.whole).setChecked(True)
        self.subtitles = QCheckBox("Subtitles (.srt) from the word timings")
        self.subtitles.setChecked(initial.subtitles)
        self.stems = QCheckBox("Also export one file per speaker (stems)")
        self.stems.setChecked(initial.stems)
        self.stems_note = QLabel()  # the stems' files, or why there are none
        self.stems_note.setWordWrap(True)
        # under the box's text, not under its box
        self.stems_note.setIndent(self.style().pixelMetric(QStyle.PixelMetric.PM_IndicatorWidth)
                                  + self.style().pixelMetric(QStyle.PixelMetric.PM_CheckBoxLabelSpacing))
        # room for two lines, there with or without them: the dialog does not jump as the box is ticked
        self.stems_note.setMinimumHeight(2 * self.stems_note.fontMetrics().lineSpacing())
        self.stems_note.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.stems_note.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)

        self.format = QComboBox()
        for audio_format in AudioFormat:
            self.format.addItem(audio_format.value, audio_format)
        self.format.setCurrentIndex(self.format.findData(initial.settings.format))
        self.sample_rate = QComboBox()
        self.channels = QComboBox()
        self.channels.addItem("Stereo", 2)
        self.channels.addItem("Mono", 1)
        self.bitrate = QSpinBox()
        self.bitrate.setRange(8, 320)  # the widest table range; the format's own range is checked live
        self.bitrate.setSuffix(" kbps")
        self.bitrate_hint = QLabel()
        self.lossy_settings = QGroupBox("Format settings")
        lossy_form = QFormLayout(self.lossy_settings)
        lossy_form.addRow("Sample rate", self.sample_rate)
        lossy_form.addRow("Channels", self.channels)
        bitrate_row = QHBoxLayout()
        bitrate_row.addWidget(self.bitrate)
        bitrate_row.addWidget(self.bitrate_hint, 1)
        lossy_form.addRow("Bitrate", bitrate_row)
        self.lossless_note = QLabel()
        self.lossless_note.setWordWrap(True)
        # one of the two shows, in the room of the larger: the dialog keeps its size across formats
        self.format_settings = QStackedWidget()
        self.format_settings.addWidget(self.lossy_settings)
        self.format_settings.addWidget(self.lossless_note)

        self.normalise = QCheckBox("Normalise loudness to")
        self.loudness = QDoubleSpinBox()
        self.loudness.setRange(*LOUDNESS_RANGE_LUFS)
        self.loudness.setSuffix(" LUFS")
        self.loudness.setValue(initial.loudness_lufs if initial.loudness_lufs is not None else DEFAULT_LOUDNESS_LUFS)
        self.normalise.setChecked(initial.loudness_lufs is not None)
        loudness_row = QHBoxLayout()
        loudness_row.addWidget(self.normalise)
        loudness_row.addWidget(self.loudness)
        loudness_row.addStretch(1)

        self.path_edit = QLineEdit(str(initial.path))
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        path_row = QHBoxLayout()
        path_row.addWidget(self.path_edit, 1)
        path_row.addWidget(browse)
        self.path_label = QLabel()

        self.error = QLabel()
        self.error.setObjectName("error")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #c62828;")
        self.error.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        # Room for a message of three lines, there with or without one, and a width that is not the
        # message's: the dialog does not jump as messages come and go.
        self.error.setMinimumHeight(3 * self.error.fontMetrics().lineSpacing())
        self.error.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.export_button = self.buttons.addButton("Export", QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        form = QFormLayout()
        form.addRow("Format", self.format)
        form.addRow(self.path_label, path_row)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.whole)
        layout.addWidget(self.selected)
        layout.addWidget(self.per_line)
        layout.addWidget(self.subtitles)
        layout.addWidget(self.stems)
        layout.addWidget(self.stems_note)
        layout.addLayout(form)
        layout.addWidget(self.format_settings)
        layout.addLayout(loudness_row)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)

        self._shown_format = initial.settings.format
        if initial.settings.format.lossy:
            self._show_lossy(initial.settings)
        self.format.currentIndexChanged.connect(self._format_changed)
        for combo in (self.sample_rate, self.channels):
            combo.currentIndexChanged.connect(self._keep_bitrate_allowed)
        for signal in (self.bitrate.valueChanged, self.normalise.toggled, self.path_edit.textChanged,
                       self.selected.toggled, self.stems.toggled, self.subtitles.toggled):
            signal.connect(self._validate)
        self.per_line.toggled.connect(self._target_changed)
        self._format_changed()

    # --- reading the choice ------------------------------------------------------------------

    def settings(self) -> ExportSettings:
        """The settings as they stand; raises InvalidExportSettings when they are not allowed."""
        audio_format: AudioFormat = self.format.currentData()
        if not audio_format.lossy:
            return ExportSettings.create(audio_format)
        return ExportSettings.create(audio_format, sample_rate=self.sample_rate.currentData(),
                                     bitrate=self.bitrate.value(), channels=self.channels.currentData())

    def target(self) -> Path:
        """The folder (one file per line), or the file: a name typed without an audio extension gets the
        format's ("take.v2" → "take.v2.mp3")."""
        path = Path(self.path_edit.text()).expanduser()
        if self.per_line.isChecked() or not path.name or _format_named(path):
            return path
        return path.with_name(path.name + self.format.currentData().extension)

    def choice(self) -> ExportChoice:
        per_line = self.per_line.isChecked()
        return ExportChoice(self.settings(), self.target(), per_line, self.subtitles.isChecked(),
                            self.loudness.value() if self.normalise.isChecked() else None,
                            self._selection if self.selected.isChecked() else None,
                            self.stems.isChecked() and not per_line)

    def accept(self) -> None:
        """Export, once the person agrees to replace the files that are there already."""
        existing = [path for path in self._planned(self.choice()) if path.exists()] if self._planned else []
        if existing and not self._replacing_agreed(existing):
            return
        super().accept()

    def _replacing_agreed(self, existing: list[Path]) -> bool:
        names = [path.name for path in existing]
        if len(names) == 1:
            listed = f"{names[0]} already exists"
        elif len(names) <= 5:
            listed = f"{', '.join(names[:-1])} and {names[-1]} already exist"
        else:
            listed = f"{len(names)} files ({', '.join(names[:5])} and {len(names) - 5} more) already exist"
        box = QMessageBox(QMessageBox.Icon.Warning, "Replace files?",
                          f"{listed} in {existing[0].parent}. Replace {'it' if len(names) == 1 else 'them'}?",
                          parent=self)
        replace = box.addButton("Replace", QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(box.addButton(QMessageBox.StandardButton.Cancel))
        box.exec()
        return box.clickedButton() is replace

    # --- live checks ---------------------------------------------------------------------------

    def _format_changed(self) -> None:
        audio_format: AudioFormat = self.format.currentData()
        self.format_settings.setCurrentWidget(self.lossy_settings if audio_format.lossy else self.lossless_note)
        settings = ExportSettings.create(audio_format)
        self.lossless_note.setText(f"{audio_format.value} is written as the model makes it: "
                                   f"{settings.sample_rate} Hz mono, lossless.")
        if audio_format.lossy and audio_format is not self._shown_format:
            # from WAV or FLAC, whose settings are not these: the format's defaults
            self._show_lossy(self._carried_over(audio_format) if self._shown_format.lossy else settings)
        self._shown_format = audio_format
        self._match_extension()
        self._validate()

    def _carried_over(self, audio_format: AudioFormat) -> ExportSettings:
        """The settings shown, moved to the nearest ``audio_format`` allows (rate, then bitrate)."""
        shown = self.sample_rate.currentData()
        rate = min(allowed_sample_rates(audio_format), key=lambda allowed: (abs(allowed - shown), -allowed))
        channels = self.channels.currentData()
        return ExportSettings.create(audio_format, rate, self._nearest_bitrate(audio_format, rate, channels),
                                     channels)

    def _nearest_bitrate(self, audio_format: AudioFormat, sample_rate: int, channels: int) -> int:
        low, high = allowed_bitrates(audio_format, sample_rate, channels)
        return min(max(self.bitrate.value(), low), high)

    def _show_lossy(self, settings: ExportSettings) -> None:
        for widget in (self.sample_rate, self.channels, self.bitrate):
            widget.blockSignals(True)
        self._fill_sample_rates(settings.sample_rate)
        self.channels.setCurrentIndex(self.channels.findData(settings.channels))
        self.bitrate.setValue(settings.bitrate_kbps)
        for widget in (self.sample_rate, self.channels, self.bitrate):
            widget.blockSignals(False)

    def _keep_bitrate_allowed(self) -> None:
        """A new sample rate or channel count moves the bitrate into its range (a typed one out of range
        is said, not changed)."""
        self.bitrate.blockSignals(True)
        self.bitrate.setValue(self._nearest_bitrate(self.format.currentData(), self.sample_rate.currentData(),
                                                    self.channels.currentData()))
        self.bitrate.blockSignals(False)
        self._validate()

    def _target_changed(self) -> None:
        """One file (whole dialogue or selection): a file; one file per line: the folder it would go in."""
        path = Path(self.path_edit.text()).expanduser()
        if self.per_line.isChecked():
            self._file_name = path.stem or self._file_name
            self.path_edit.setText(str(path.parent))
        else:
            self.path_edit.setText(str(path / f"{self._file_name}{self.format.currentData().extension}"))
        self._validate()

    def _fill_sample_rates(self, selected: int) -> None:
        self.sample_rate.clear()
        for rate in allowed_sample_rates(self.format.currentData()):
            self.sample_rate.addItem(f"{rate} Hz", rate)
        self.sample_rate.setCurrentIndex(self.sample_rate.findData(selected))

    def _match_extension(self) -> None:
        """A new format gives the file its extension (only then: while it is typed, the name is the
        person's)."""
        path = Path(self.path_edit.text())
        audio_format = self.format.currentData()
        if self.per_line.isChecked() or not path.name or _format_named(path) is audio_format:
            return
        renamed = path.with_suffix(audio_format.extension) if _format_named(path) else \
            path.with_name(path.name + audio_format.extension)
        self.path_edit.setText(str(renamed))

    def _validate(self) -> None:
        audio_format: AudioFormat = self.format.currentData()
        per_line = self.per_line.isChecked()
        self.path_label.setText("Folder" if per_line else "File")
        problem = ""
        if audio_format.lossy:
            low, high = allowed_bitrates(audio_format, self.sample_rate.currentData(), self.channels.currentData())
            self.bitrate_hint.setText(f"allowed: {low}–{high} kbps")
        path = self.target()
        folder = path if per_line else path.parent
        try:
            self.settings()
        except InvalidExportSettings as error:  # a typed bitrate: the rest is chosen from what is allowed
            problem = f"Bitrate {error.value} kbps is not allowed: {error.allowed}."
        named = _format_named(path)
        if problem:
            pass  # the bitrate's message stands; the file's come after it is fixed
        elif not self.path_edit.text().strip():
            problem = "Choose where to export."
        elif not per_line and not path.name:
            problem = "Type the file's name."
        elif not folder.is_dir():
            problem = f"The folder {_breakable(folder)} does not exist."
        elif not per_line and named is not audio_format:
            problem = (f"The name ends in {path.suffix}, a {named.value} file's, but the format is "
                       f"{audio_format.value}: change one of them.")
        self.error.setText(problem)
        self.export_button.setEnabled(not problem)
        self._show_stems(problem)

    def _show_stems(self, problem: str) -> None:
        """Stems go with one file; ticked, the files they would be are listed under the box."""
        per_line = self.per_line.isChecked()
        self.stems.setEnabled(not per_line)
        self.stems.setToolTip("Each line is a file of its own already: stems go with one file" if per_line else
                              "Beside the file, one per speaker: as long as the file, that speaker's lines in "
                              "place and silence elsewhere. Together they add up to the file")
        if per_line or not self.stems.isChecked() or problem or self._planned is None:
            self.stems_note.clear()
            return
        choice = self.choice()
        audio = [path for path in self._planned(choice) if path.suffix == choice.settings.format.extension]
        stems = [path.name for path in audio if path not in self._planned(replace(choice, stems=False))]
        self.stems_note.setText(f"Stems: {', '.join(stems)}" if stems else "No line is generated yet: no stems.")

    def _browse(self) -> None:
        current = self.path_edit.text()
        if self.per_line.isChecked():
            path = QFileDialog.getExistingDirectory(self, "Export lines into", current)
        else:
            extension = self.format.currentData().extension
            # Export asks about every file it would replace (the subtitles too), once
            path, _ = QFileDialog.getSaveFileName(self, "Export dialogue as", current,
                                                  f"{self.format.currentText()} (*{extension})",
                                                  options=QFileDialog.Option.DontConfirmOverwrite)
        if path:
            self.path_edit.setText(path)


def _breakable(path: Path) -> str:
    """The path with a place to wrap after each separator (a label wraps only between words)."""
    return str(path).replace(os.sep, os.sep + "\u200b")


def _format_named(path: Path) -> AudioFormat | None:
    """The format whose extension the name ends in, if any."""
    try:
        return format_from_path(path)
    except InvalidExportSettings:
        return None
