"""The studio's settings, declared once with their types and defaults, stored in QSettings.

Person's choices (``Settings``) and window layout (``WindowLayout``) live in separate groups, as
in Picard: resetting the layout never loses a choice. ``SETTINGS_VERSION`` and ``MIGRATIONS``
upgrade values written by an older version instead of ignoring them.
"""

from __future__ import annotations

import json
import logging
import os
import stat
from dataclasses import dataclass
from typing import Any, Callable, Generic, TypeVar

from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtWidgets import QMainWindow, QSplitter

from core.params import DEFAULT_WARM_VOICES_MB

T = TypeVar("T")
log = logging.getLogger(__name__)

SETTINGS_VERSION = 1
# version N -> N + 1, applied in turn to settings written by an older studio.
MIGRATIONS: dict[int, Callable[[QSettings], None]] = {}
_LAYOUT_GROUP = "layout"


@dataclass(frozen=True)
class Setting(Generic[T]):
    """One declared setting: read and written as an attribute of :class:`Settings`."""

    key: str
    default: T
    secret: bool = False  # a credential: its settings file is then readable by its owner only

    def __set_name__(self, owner: type, name: str) -> None:
        owner.declared[name] = self

    def __get__(self, settings: "Settings | None", owner: type) -> T:
        if settings is None:
            return self  # type: ignore[return-value]  # the declaration itself, on the class
        return settings.read(self)

    def __set__(self, settings: "Settings", value: T) -> None:
        settings.write(self, value)


class Settings:
    """Typed access to the stored settings; an unreadable value reads as its default."""

    declared: dict[str, Setting] = {}

    # Model manager
    model: Setting[str] = Setting("model/last", "")  # a model id or a local folder; "" = none yet
    device: Setting[str] = Setting("model/device", "auto")
    precision: Setting[str] = Setting("model/precision", "auto")
    local_models: Setting[list] = Setting("model/local_folders", [])
    load_model_on_start: Setting[bool] = Setting("model/load_on_start", True)
    # Where the model runs: an EngineKind's value ("" = the default of this platform, default_kind),
    # and for a server its address and key.
    engine_kind: Setting[str] = Setting("engine/kind", "")
    engine_url: Setting[str] = Setting("engine/url", "")
    engine_key: Setting[str] = Setting("engine/api_key", "", secret=True)
    # Speech recognition: a Whisper model name or a model file (.pt); "" = Whisper's default for Dia2
    whisper_model: Setting[str] = Setting("speech/whisper_model", "")
    warm_voices_mb: Setting[int] = Setting("model/warm_voices_mb", DEFAULT_WARM_VOICES_MB)
    # Sound
    output_device: Setting[str] = Setting("audio/output_device", "")  # "" = the system default
    input_device: Setting[str] = Setting("audio/input_device", "")
    play_while_generating: Setting[bool] = Setting("audio/play_while_generating", True)
    speak_as_i_type: Setting[bool] = Setting("audio/speak_as_i_type", False)  # the line edited, heard live
    # Make until good: the most generations of a line before it keeps its best take, flagged
    make_until_good_tries: Setting[int] = Setting("generate/make_until_good_tries", 3)
    check_thresholds: Setting[str] = Setting("checks/thresholds", "")  # JSON: those set apart from the defaults
    # Export
    export_format: Setting[str] = Setting("export/format", "MP3")
    export_sample_rate: Setting[int] = Setting("export/sample_rate", 44100)
    export_bitrate: Setting[int] = Setting("export/bitrate", 192)
    export_channels: Setting[int] = Setting("export/channels", 2)
    export_per_line: Setting[bool] = Setting("export/one_file_per_line", False)
    export_subtitles: Setting[bool] = Setting("export/subtitles", False)
    export_stems: Setting[bool] = Setting("export/stems", False)  # also one file per speaker
    export_folder: Setting[str] = Setting("export/folder", "")
    # Projects
    autosave_seconds: Setting[int] = Setting("project/autosave_seconds", 30)
    project_folder: Setting[str] = Setting("project/folder", "")
    first_start_done: Setting[bool] = Setting("app/first_start_done", False)

    def __init__(self, store: QSettings):
        self.store = store
        self._upgrade()
        if any(setting.secret and self.read(setting) for setting in self.declared.values()):
            self._keep_to_owner()  # written by a studio from before keys were kept so

    def read(self, setting: Setting[T]) -> T:
        raw = self.store.value(setting.key)
        if raw is None:
            return setting.default
        try:
            return _decode(raw, setting.default)
        except (TypeError, ValueError):
            return setting.default

    def write(self, setting: Setting[T], value: T) -> None:
        if not isinstance(value, type(setting.default)):
            raise TypeError(f"{setting.key} takes {type(setting.default).__name__}, not {value!r}")
        if setting.secret and value:
            self._keep_to_owner()  # before the key is in it, so it is never on disk for all to read
        self.store.setValue(setting.key, json.dumps(value) if isinstance(value, list) else value)
        if setting.secret and value:
            self.store.sync()

    def _keep_to_owner(self) -> None:
        """An INI file (Linux's settings, or a chosen file) is written with the umask, which
        usually lets every local account read it; a key in it is then closed to all but its owner.
        Qt rewrites the file keeping its permissions. (The Windows registry has no file and is
        per-user already.)"""
        self.store.sync()  # the file exists from here on (it holds at least settings_version)
        path = self.store.fileName()
        try:
            if os.path.isfile(path) and stat.S_IMODE(os.stat(path).st_mode) & 0o077:
                os.chmod(path, 0o600)
        except OSError as error:  # another account's file, a read-only folder: the key still works
            log.warning("could not close %s to other accounts: %s", path, error)

    def _upgrade(self) -> None:
        version = int(self.store.value("settings_version", SETTINGS_VERSION))
        while version < SETTINGS_VERSION:
            MIGRATIONS[version](self.store)
            version += 1
        self.store.setValue("settings_version", SETTINGS_VERSION)


def _decode(raw: Any, default: Any) -> Any:
    """QSettings hands back text from INI files and on some platforms; turn it into the type."""
    if isinstance(default, bool):
        return raw if isinstance(raw, bool) else str(raw).lower() in ("true", "1")
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, list):
        value = json.loads(raw) if isinstance(raw, str) else raw
        if not isinstance(value, list):
            raise ValueError(f"not a list: {value!r}")
        return value
    return str(raw)


class WindowLayout:
    """Saves and restores a main window's geometry, docks, toolbars and splitters, by name."""

    def __init__(self, store: QSettings):
        self.store = store

    def save(self, window: QMainWindow) -> None:
        self.store.setValue(f"{_LAYOUT_GROUP}/geometry", window.saveGeometry())
        self.store.setValue(f"{_LAYOUT_GROUP}/state", window.saveState())
        for splitter in window.findChildren(QSplitter):
            if splitter.objectName():
                self.store.setValue(f"{_LAYOUT_GROUP}/splitter/{splitter.objectName()}", splitter.saveState())

    def restore(self, window: QMainWindow) -> bool:
        """True when a saved layout was applied (False at first start)."""
        geometry = self.store.value(f"{_LAYOUT_GROUP}/geometry")
        if not isinstance(geometry, QByteArray):
            return False
        window.restoreGeometry(geometry)
        state = self.store.value(f"{_LAYOUT_GROUP}/state")
        if isinstance(state, QByteArray):
            window.restoreState(state)
        for splitter in window.findChildren(QSplitter):
            saved = self.store.value(f"{_LAYOUT_GROUP}/splitter/{splitter.objectName()}")
            if splitter.objectName() and isinstance(saved, QByteArray):
                splitter.restoreState(saved)
        return True
