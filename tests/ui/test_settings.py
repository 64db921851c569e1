"""Declared settings over QSettings, and the window layout kept apart from them."""

from __future__ import annotations

import os
import stat

import pytest
from PySide6.QtCore import QSettings

from app import settings as settings_module
from app.settings import Settings

SAMPLE_VALUES = {bool: lambda default: not default, int: lambda default: default + 7,
                 str: lambda default: default + "x", list: lambda default: default + ["/models/a"]}


def store(tmp_path) -> QSettings:
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


def test_every_declared_setting_keeps_its_type_through_the_file(tmp_path):
    written = Settings(store(tmp_path))
    for name, setting in Settings.declared.items():
        value = SAMPLE_VALUES[type(setting.default)](setting.default)
        setattr(written, name, value)
    written.store.sync()

    read = Settings(store(tmp_path))
    for name, setting in Settings.declared.items():
        value = getattr(read, name)
        assert type(value) is type(setting.default)
        assert value == SAMPLE_VALUES[type(setting.default)](setting.default), name


def test_an_unreadable_value_reads_as_the_default_and_a_wrong_type_is_refused(tmp_path):
    values = store(tmp_path)
    values.setValue("project/autosave_seconds", "soon")
    settings = Settings(values)
    assert settings.autosave_seconds == 30
    with pytest.raises(TypeError):
        settings.autosave_seconds = "60"


def test_older_settings_are_migrated_once(tmp_path, monkeypatch):
    values = store(tmp_path)
    values.setValue("settings_version", 1)
    values.setValue("model/name", "dia2-1b")  # how a (made-up) version 1 spelled it
    calls = []

    def rename_model_key(old: QSettings) -> None:
        calls.append(1)
        old.setValue("model/last", old.value("model/name"))
        old.remove("model/name")

    monkeypatch.setattr(settings_module, "SETTINGS_VERSION", 2)
    monkeypatch.setitem(settings_module.MIGRATIONS, 1, rename_model_key)
    assert Settings(values).model == "dia2-1b"
    assert Settings(values).model == "dia2-1b" and calls == [1]


def test_the_window_comes_back_as_it_was_left(make_studio, qtbot):
    studio = make_studio()
    window = studio.window
    window.show()
    qtbot.waitExposed(window)
    window.resize(1000, 700)
    window.takes_dock.hide()
    window.close()

    again = make_studio()
    # The width is not compared: the offscreen screen (800 px) is narrower than the window may be.
    assert again.window.size().height() == 700
    assert again.window.takes_dock.isHidden() and not again.window.voices_dock.isHidden()
    again.window.actions.reset_layout.trigger()
    assert not again.window.takes_dock.isHidden()


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.skipif(os.name == "nt", reason="POSIX permissions")
def test_a_saved_server_key_closes_the_settings_file_to_other_accounts_and_it_stays_closed(tmp_path):
    old_umask = os.umask(0o022)  # the usual one: files readable by every local account
    try:
        settings = Settings(store(tmp_path))
        settings.engine_url = "http://gpu-box:8000"
        settings.store.sync()
        path = settings.store.fileName()
        assert mode(path) == 0o644  # nothing secret in it yet

        settings.engine_key = "sk-secret"
        assert mode(path) == 0o600
        settings.export_bitrate = 256
        settings.store.sync()  # Qt writes a new file in the old one's place
        assert mode(path) == 0o600 and Settings(store(tmp_path)).engine_key == "sk-secret"
    finally:
        os.umask(old_umask)


@pytest.mark.skipif(os.name == "nt", reason="POSIX permissions")
def test_a_key_written_by_an_older_studio_is_closed_to_others_when_the_settings_open(tmp_path):
    older = store(tmp_path)
    older.setValue("engine/api_key", "sk-secret")
    older.sync()
    os.chmod(older.fileName(), 0o644)
    Settings(store(tmp_path))
    assert mode(older.fileName()) == 0o600
