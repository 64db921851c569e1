"""The model manager: what is installed and its size, loading a local model off the GUI thread,
errors, cancelling a download, deleting or forgetting models, and the speech recognition model."""

from __future__ import annotations

import errno
import os
import shutil
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import huggingface_hub
import pytest
import torch
import whisper
from huggingface_hub import file_download, try_to_load_from_cache
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from core.dia2.checkpoint import WEIGHTS_FILE
from core.dia2.transcribe import default_whisper_model
from core.document.speakers import Speaker
from core.engine.choice import EngineChoice
from core.engine.engine import EngineKind
from tests.hub_cache import put_in_hub_cache, use_temporary_hub_cache
from tests.local_hub import PIECE, serve_hub
from tests.scripted_whisper import scripted_whisper_checkpoint
from tests.ui.conftest import SPEAKER1_WAV, TINY_CHECKPOINT
from ui import model_manager as model_manager_module
from ui.model_manager import LOCAL_SPEECH_FILE, MODEL_ROLE, size_text


def test_the_hub_models_are_listed_with_where_they_come_from(studio):
    studio.window.actions.models.trigger()
    dialog = studio.model_controls.manager
    assert dialog.isVisible()
    texts = [dialog.models.item(i).text() for i in range(dialog.models.count())]
    assert texts[0].startswith("Dia2 2B — ") and "nari-labs/Dia2-2B" in texts[0]
    assert texts[1].startswith("Dia2 1B — ")
    assert [dialog.device.itemData(i) for i in range(dialog.device.count())][:2] == ["auto", "cpu"]


def test_a_local_model_folder_loads_and_is_remembered(make_studio, qtbot, monkeypatch):
    studio = make_studio()
    studio.model_controls.show_manager()
    dialog = studio.model_controls.manager
    monkeypatch.setattr(model_manager_module.QFileDialog, "getExistingDirectory",
                        lambda *args: str(TINY_CHECKPOINT))
    with qtbot.waitSignal(studio.models.loaded, timeout=30_000):
        dialog.open_folder_button.click()
        assert not dialog.load_button.isEnabled()  # one load at a time

    assert dialog.load_button.isEnabled() and dialog.status.text().startswith("Loaded: ")
    listed = [dialog.models.item(i).text() for i in range(dialog.models.count())]
    assert any(text.startswith("checkpoint — loaded") for text in listed)
    assert dialog.models.currentItem().text().startswith("checkpoint — loaded")
    assert "Model: " in studio.window.model_status.text() and not studio.window.banner.isVisibleTo(studio.window)
    assert "weights" in studio.window.memory_status.text()

    again = make_studio(start=False)
    with qtbot.waitSignal(again.models.loaded, timeout=30_000):
        again.start()  # the last model loads at start
    assert again.models.model == str(TINY_CHECKPOINT)


def test_a_folder_that_is_not_a_model_says_why(studio, qtbot, tmp_path):
    studio.model_controls.show_manager()
    with qtbot.waitSignal(studio.models.failed, timeout=30_000) as failed:
        studio.model_controls.manager.load_requested.emit(str(tmp_path), "cpu", "auto")
    assert "config.json" in failed.args[0]
    assert "config.json" in studio.model_controls.manager.status.text()
    assert studio.models.info is None and studio.window.banner.isVisibleTo(studio.window)


def test_only_a_folder_that_loaded_is_remembered_for_the_next_start(make_studio, qtbot, tmp_path, monkeypatch):
    empty = tmp_path / "empty"
    empty.mkdir()
    damaged = tmp_path / "damaged"
    shutil.copytree(TINY_CHECKPOINT, damaged)
    (damaged / WEIGHTS_FILE).write_bytes(b"cut short")
    studio = make_studio()
    studio.model_controls.show_manager()
    dialog = studio.model_controls.manager
    chosen = []
    monkeypatch.setattr(model_manager_module.QFileDialog, "getExistingDirectory", lambda *args: chosen[-1])
    chosen.append(str(TINY_CHECKPOINT))
    with qtbot.waitSignal(studio.models.loaded, timeout=30_000):
        dialog.open_folder_button.click()
    for bad in (empty, damaged):
        chosen.append(str(bad))
        with qtbot.waitSignal(studio.models.failed, timeout=30_000):
            dialog.open_folder_button.click()
        assert studio.models.model == str(TINY_CHECKPOINT) and studio.models.info is not None

    again = make_studio(start=False)  # the app started again
    with qtbot.waitSignal(again.models.loaded, timeout=30_000):
        again.start()
    assert again.models.model == str(TINY_CHECKPOINT)
    assert again.window.model_status.text().startswith("Model: checkpoint")
    again.model_controls.show_manager()
    listed = sized_row_texts(qtbot, again.model_controls.manager)
    assert [text.split(" — ")[0] for text in listed] == ["Dia2 2B", "Dia2 1B", "checkpoint"]


def test_a_folder_whose_model_is_gone_offers_forget_not_a_download(make_studio, tmp_path):
    gone = tmp_path / "moved-away"
    gone.mkdir()
    studio = make_studio(start=False)
    studio.settings.local_models = [str(gone)]
    studio.model_controls.show_manager()
    dialog = studio.model_controls.manager
    dialog.models.setCurrentRow(2)
    assert row_texts(dialog)[2].startswith("moved-away — no model in this folder")
    assert dialog.load_button.text() == "Load" and not dialog.load_button.isEnabled()
    assert dialog.remove_button.text() == "Forget" and dialog.remove_button.isEnabled()
    dialog.models.itemDoubleClicked.emit(dialog.models.item(2))
    assert not studio.models.is_loading


def test_a_load_error_names_its_model_and_the_list_stays_put(studio, qtbot, tmp_path, monkeypatch):
    empty = tmp_path / "empty"
    empty.mkdir()
    studio.model_controls.show_manager()
    dialog = studio.model_controls.manager
    qtbot.waitExposed(dialog)
    dialog.models.setCurrentRow(1)  # Dia2 1B selected, then a folder opened
    where = dialog.models.geometry()
    monkeypatch.setattr(model_manager_module.QFileDialog, "getExistingDirectory", lambda *args: str(empty))
    with qtbot.waitSignal(studio.models.failed, timeout=30_000):
        dialog.open_folder_button.click()
        assert dialog.progress.isVisible() and dialog.models.geometry() == where

    assert dialog.status.text().startswith("<span style='color:#c62828'>Could not load empty: "
                                           "The model folder has no config.json")
    assert dialog.models.geometry() == where
    long_error = "A reason that goes on. " * 40
    dialog.show_error(long_error)
    assert dialog.models.geometry() == where
    qtbot.waitUntil(lambda: dialog.status_area.verticalScrollBar().maximum() > 0, timeout=5000)  # it scrolls


def test_a_download_says_at_once_that_it_is_connecting_and_can_be_cancelled_before_its_first_byte(
        make_studio, qtbot, hub_cache, tiny_runtime):
    asked, answer = threading.Event(), threading.Event()

    def slow_hub(model, device, dtype, progress):  # the Hub takes its time to answer
        asked.set()
        answer.wait(30)
        progress(0, 4_000_000_000, "nari-labs/Dia2-2B")
        return tiny_runtime

    studio = make_studio(model_loader=slow_hub)
    studio.model_controls.show_manager()
    dialog = studio.model_controls.manager
    dialog.models.setCurrentRow(0)
    dialog.load_button.click()  # Dia2 2B, not downloaded
    assert dialog.status.text() == "Connecting to the Hugging Face Hub to download Dia2 2B…"
    assert dialog.progress.isVisibleTo(dialog) and dialog.cancel_button.isVisibleTo(dialog)
    assert asked.wait(10)
    dialog.cancel_button.click()
    assert dialog.status.text() == "Cancelling the download…" and not dialog.cancel_button.isEnabled()
    with qtbot.waitSignal(studio.models.cancelled, timeout=10_000):
        answer.set()
    assert dialog.status.text().startswith("Download cancelled.") and studio.models.info is None


def test_the_dialog_opened_while_the_last_model_loads_at_start_says_so(make_studio, qtbot, hub_cache, tiny_runtime):
    go_on = threading.Event()
    studio = make_studio(start=False, model_loader=lambda *args, **kwargs: go_on.wait(30) and tiny_runtime)
    studio.settings.model = "dia2-1b"
    studio.start()
    studio.model_controls.show_manager()
    dialog = studio.model_controls.manager
    assert dialog.status.text() == "Loading Dia2 1B…" and dialog.progress.isVisibleTo(dialog)
    assert not dialog.load_button.isEnabled()  # pressing it would do nothing
    assert dialog.models.currentItem().text().startswith("Dia2 1B")
    with qtbot.waitSignal(studio.models.loaded, timeout=30_000):
        go_on.set()
    assert dialog.status.text().startswith("Loaded: ") and dialog.load_button.isEnabled()


def test_download_progress_reaches_the_dialog(make_studio, qtbot, tiny_runtime):
    def downloading_loader(model, device, dtype, progress):
        for done in (0, 2_000_000_000, 4_000_000_000):
            progress(done, 4_000_000_000, "nari-labs/Dia2-2B")
        return tiny_runtime

    studio = make_studio(model_loader=downloading_loader)
    studio.model_controls.show_manager()
    dialog = studio.model_controls.manager
    seen = []  # what the dialog showed at each report (it is told first)
    studio.models.download_progress.connect(
        lambda done, total, what: seen.append((dialog.progress.value(), dialog.status.text())))
    with qtbot.waitSignal(studio.models.loaded, timeout=30_000):
        dialog.load_button.click()  # Dia2 2B, "not downloaded": Download and load
    assert [value for value, _ in seen] == [0, 500, 1000]
    assert seen[-1][1] == "Downloading nari-labs/Dia2-2B: 4.00 of 4.00 GB"
    assert studio.models.model == "dia2-2b" and dialog.status.text().startswith("Loaded: ")


@pytest.fixture
def hub_cache(tmp_path, monkeypatch) -> Path:
    return use_temporary_hub_cache(tmp_path, monkeypatch)


# --- cancelling a download ----------------------------------------------------------------------

@contextmanager
def downloading_2b(make_studio, qtbot, monkeypatch, seconds_per_piece: float):
    """A studio downloading Dia2 2B from a Hub served here, slowly (the real loader, through
    huggingface_hub): (studio, its model manager) once the download shows."""
    hub = serve_hub({"nari-labs/Dia2-2B": {"config.json": b"{}", WEIGHTS_FILE: bytes(500 * PIECE)}},
                    monkeypatch, seconds_per_piece=seconds_per_piece)
    try:
        studio = make_studio()
        studio.model_controls.show_manager()
        dialog = studio.model_controls.manager
        assert not dialog.cancel_button.isVisible()
        dialog.load_button.click()  # Dia2 2B, not downloaded: Download and load
        qtbot.waitUntil(dialog.cancel_button.isVisible, timeout=10_000)
        yield studio, dialog
    finally:
        hub.stop()


def test_a_download_can_be_cancelled_and_the_dialog_returns_to_idle(make_studio, qtbot, hub_cache, monkeypatch):
    with downloading_2b(make_studio, qtbot, monkeypatch, seconds_per_piece=0.02) as (studio, dialog):
        assert not dialog.load_button.isEnabled() and not dialog.remove_button.isEnabled()
        with qtbot.waitSignal(studio.models.cancelled, timeout=10_000):
            dialog.cancel_button.click()

    assert dialog.status.text().startswith("Download cancelled.")
    assert not dialog.cancel_button.isVisible() and not dialog.progress.isVisible()
    assert dialog.load_button.isEnabled() and dialog.load_button.text() == "Download and load"
    assert studio.models.info is None and not studio.models.is_loading
    assert "on this computer" not in dialog.models.item(0).text()
    assert not isinstance(try_to_load_from_cache("nari-labs/Dia2-2B", WEIGHTS_FILE), str)
    assert studio.window.statusBar().currentMessage() == ""  # a choice, not a failure


def test_closing_the_window_stops_a_download_so_the_studio_ends_at_once(make_studio, qtbot, hub_cache,
                                                                         monkeypatch):
    # The studio waits for its background jobs as it ends: a download left running would keep it,
    # windowless, for as long as the download takes (here 25 s).
    from app import workers

    with downloading_2b(make_studio, qtbot, monkeypatch, seconds_per_piece=0.05) as (studio, _):
        assert studio.models.is_loading
        studio.window.close()
        started = time.monotonic()
        workers.wait_for_all()
        assert time.monotonic() - started < 10
    assert not isinstance(try_to_load_from_cache("nari-labs/Dia2-2B", WEIGHTS_FILE), str)


class FillingDisk:
    """The file a download writes into, on a disk that is full after its first piece."""

    def __init__(self, file):
        self._file, self._written = file, 0

    def write(self, data: bytes) -> int:
        if self._written + len(data) > PIECE:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self._written += len(data)
        return self._file.write(data)

    def __getattr__(self, name):
        return getattr(self._file, name)


def test_a_download_that_fills_the_disk_says_so_in_the_dialog(make_studio, qtbot, hub_cache, monkeypatch):
    hub = serve_hub({"nari-labs/Dia2-2B": {"config.json": b"{}", WEIGHTS_FILE: bytes(20 * PIECE)}}, monkeypatch)
    real_get = file_download.http_get
    monkeypatch.setattr(file_download, "http_get",  # the real download, into a file on a full disk
                        lambda url, temp_file, *args, **kwargs: real_get(url, FillingDisk(temp_file), *args, **kwargs))
    try:
        studio = make_studio()
        studio.model_controls.show_manager()
        dialog = studio.model_controls.manager
        with qtbot.waitSignal(studio.models.failed, timeout=30_000) as failed:
            dialog.load_button.click()  # Dia2 2B, not downloaded: Download and load
    finally:
        hub.stop()

    assert os.strerror(errno.ENOSPC) in failed.args[0] and "free disk space" in failed.args[0]
    assert os.strerror(errno.ENOSPC) in dialog.status.text() and "free disk space" in dialog.status.text()
    assert dialog.load_button.isEnabled() and not dialog.progress.isVisible()
    assert studio.models.info is None
    assert not isinstance(try_to_load_from_cache("nari-labs/Dia2-2B", WEIGHTS_FILE), str)  # nothing half-kept


# --- deleting and forgetting models -------------------------------------------------------------
def put_dia2_1b(hub_cache):
    put_in_hub_cache(hub_cache, "nari-labs/Dia2-1B", {"config.json": b"{}", WEIGHTS_FILE: bytes(3_000_000)})
    put_in_hub_cache(hub_cache, "kyutai/mimi", {WEIGHTS_FILE: bytes(1000)})


def row_texts(dialog) -> list[str]:
    return [dialog.models.item(i).text() for i in range(dialog.models.count())]


def sized_row_texts(qtbot, dialog) -> list[str]:
    """The rows once the sizes, measured off the GUI thread, are in."""
    qtbot.waitUntil(lambda: not any(dialog.models.item(i).data(MODEL_ROLE).sizing
                                    for i in range(dialog.models.count())), timeout=10_000)
    return row_texts(dialog)


def test_the_sizes_are_measured_off_the_gui_thread_then_shown(studio, qtbot, hub_cache, monkeypatch):
    put_dia2_1b(hub_cache)
    scanned_on = []

    def scan(*args, **kwargs):  # the real scan, noting the thread it runs on
        scanned_on.append(threading.current_thread())
        return real_scan(*args, **kwargs)

    real_scan = huggingface_hub.scan_cache_dir
    monkeypatch.setattr(huggingface_hub, "scan_cache_dir", scan)
    studio.model_controls.show_manager()
    dialog = studio.model_controls.manager
    assert row_texts(dialog)[1].startswith("Dia2 1B — on this computer, …\n")  # listed before it is measured
    assert dialog.models.currentRow() == 0 and not dialog.remove_button.isEnabled()  # size unknown yet
    assert sized_row_texts(qtbot, dialog)[1].startswith("Dia2 1B — on this computer, 3.0 MB\n")
    assert scanned_on and threading.main_thread() not in scanned_on


def test_a_downloaded_model_shows_its_size_and_is_deleted_after_asking(studio, qtbot, hub_cache, monkeypatch):
    put_dia2_1b(hub_cache)
    studio.model_controls.show_manager()
    dialog = studio.model_controls.manager
    assert sized_row_texts(qtbot, dialog)[1].startswith("Dia2 1B — on this computer, 3.0 MB\n")
    assert row_texts(dialog)[0].startswith("Dia2 2B — not downloaded\n")
    dialog.models.setCurrentRow(0)
    assert not dialog.remove_button.isEnabled()  # nothing to delete

    put_in_hub_cache(hub_cache, "nari-labs/Dia2-2B", {"config.json": bytes(4000)})  # a cancelled download
    studio.model_controls.show_manager()
    assert sized_row_texts(qtbot, dialog)[0].startswith("Dia2 2B — partly downloaded, 4 kB\n")
    assert dialog.remove_button.isEnabled()  # its files can go too
    dialog.models.setCurrentRow(1)
    assert dialog.remove_button.text() == "Delete…"

    asked = []
    answer = QMessageBox.StandardButton.No
    monkeypatch.setattr(model_manager_module.QMessageBox, "question",
                        lambda parent, title, text: asked.append(text) or answer)
    dialog.remove_button.click()
    assert asked == ["Delete Dia2 1B (3.0 MB) from this computer? It can be downloaded again later."]
    assert (hub_cache / "models--nari-labs--Dia2-1B").is_dir()

    answer = QMessageBox.StandardButton.Yes
    dialog.remove_button.click()
    qtbot.waitUntil(lambda: dialog.status.text().startswith("Deleted Dia2 1B"), timeout=10_000)
    assert dialog.status.text() == "Deleted Dia2 1B; 3.0 MB freed."
    assert sized_row_texts(qtbot, dialog)[1].startswith("Dia2 1B — not downloaded\n")
    assert not (hub_cache / "models--nari-labs--Dia2-1B").exists()
    assert (hub_cache / "models--kyutai--mimi").is_dir()


def test_a_deletion_that_fails_says_what_failed(studio, qtbot, hub_cache, monkeypatch):
    put_dia2_1b(hub_cache)
    studio.model_controls.show_manager()
    dialog = studio.model_controls.manager
    sized_row_texts(qtbot, dialog)
    dialog.models.setCurrentRow(1)
    monkeypatch.setattr(model_manager_module.QMessageBox, "question",
                        lambda *args: QMessageBox.StandardButton.Yes)
    shutil.rmtree(hub_cache)
    hub_cache.write_bytes(b"")  # the cache folder became a file meanwhile
    dialog.remove_button.click()
    qtbot.waitUntil(lambda: "failed" in dialog.status.text(), timeout=10_000)
    assert f"Deleting Dia2 1B failed: ValueError: Scan cache expects a directory but found a file: {hub_cache}" \
        in dialog.status.text()
    # The list is measured again, and says why it cannot be, without hiding what failed first,
    # nor moving away from the model the message is about.
    assert sized_row_texts(qtbot, dialog)[1].startswith("Dia2 1B — not downloaded, size unknown\n")
    assert dialog.models.currentRow() == 1
    assert dialog.models.item(1).toolTip().startswith("Measuring the models failed: ValueError: ")
    assert "Deleting Dia2 1B failed" in dialog.status.text()


def test_the_loaded_model_is_not_deleted(make_studio, qtbot, hub_cache, tiny_runtime, monkeypatch):
    put_dia2_1b(hub_cache)
    studio = make_studio(model_loader=lambda model, device, dtype, progress: tiny_runtime)
    studio.model_controls.show_manager()
    dialog = studio.model_controls.manager
    dialog.models.setCurrentRow(1)
    with qtbot.waitSignal(studio.models.loaded, timeout=10_000):
        dialog.load_button.click()
    monkeypatch.setattr(model_manager_module.QMessageBox, "question",
                        lambda *args: pytest.fail("the loaded model must not even be offered for deletion"))
    dialog.models.setCurrentRow(1)
    dialog.remove_button.click()
    assert "Cannot delete Dia2 1B: it is in use. Load another model first." in dialog.status.text()
    assert (hub_cache / "models--nari-labs--Dia2-1B" / "blobs").is_dir()


def test_a_model_folder_is_forgotten_never_deleted(make_studio, qtbot, tmp_path):
    folder = tmp_path / "my-dia2"
    shutil.copytree(TINY_CHECKPOINT, folder)
    studio = make_studio(start=False)
    studio.settings.local_models = [str(folder)]
    studio.settings.model = str(folder)
    studio.model_controls.show_manager()
    dialog = studio.model_controls.manager
    dialog.models.setCurrentRow(2)
    size = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
    assert sized_row_texts(qtbot, dialog)[2].startswith(f"my-dia2 — on this computer, {size_text(size)}\n")
    assert dialog.remove_button.text() == "Forget"

    dialog.remove_button.click()
    assert len(row_texts(dialog)) == 2 and studio.settings.local_models == [] and studio.settings.model == ""
    assert "its files were not touched" in dialog.status.text()
    assert sorted(p.name for p in folder.iterdir()) == sorted(p.name for p in TINY_CHECKPOINT.iterdir())


# --- the speech recognition model ----------------------------------------------------------------

@pytest.fixture(autouse=True)
def whisper_cache(tmp_path, monkeypatch) -> Path:
    """Whisper's cache folder, empty unless a test puts a model in it (not the person's)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "whisper"


def choose_speech_model(qtbot, dialog, choice: str) -> None:
    """Pick a Whisper model by name, or "Local file…", as the person does, once it is offered."""
    qtbot.waitUntil(dialog.speech_model.isEnabled, timeout=10_000)
    box = dialog.speech_model
    index = box.findText(choice) if choice == LOCAL_SPEECH_FILE else box.findData(choice)
    assert index >= 0, f"{choice!r} is not offered"
    box.setCurrentIndex(index)
    box.activated.emit(index)


def test_whisper_is_asked_for_its_model_names_off_the_gui_thread(studio, qtbot, monkeypatch):
    asked_on = []
    real_names = whisper.available_models
    monkeypatch.setattr(whisper, "available_models",
                        lambda: asked_on.append(threading.current_thread()) or real_names())
    studio.settings.whisper_model = "small"
    studio.model_controls.show_manager()
    dialog = studio.model_controls.manager
    assert not dialog.speech_model.isEnabled() and dialog.speech_model.currentText() == "…"
    qtbot.waitUntil(dialog.speech_model.isEnabled, timeout=10_000)
    assert dialog.speech_model.currentData() == "small"  # the saved choice, once the names are in
    assert asked_on and threading.main_thread() not in asked_on


def test_a_named_whisper_model_is_chosen_and_kept(make_studio, qtbot):
    studio = make_studio()
    studio.model_controls.show_manager()
    dialog = studio.model_controls.manager
    qtbot.waitUntil(dialog.speech_model.isEnabled, timeout=10_000)
    offered = [dialog.speech_model.itemData(i) for i in range(dialog.speech_model.count())]
    assert offered == whisper.available_models() + [None]  # and "Local file…"

    choose_speech_model(qtbot, dialog, "medium")
    assert studio.settings.whisper_model == "medium"
    assert studio.voices.transcriber().speech_model == "medium"  # the injected one was dropped; not loaded yet
    assert "Whisper medium" in dialog.status.text()

    again = make_studio()
    again.model_controls.show_manager()
    qtbot.waitUntil(again.model_controls.manager.speech_model.isEnabled, timeout=10_000)
    assert again.model_controls.manager.speech_model.currentData() == "medium"


def test_a_whisper_model_file_is_checked_then_transcribes_the_next_voices(studio, qtbot, tmp_path, monkeypatch):
    studio.model_controls.show_manager()
    dialog = studio.model_controls.manager

    def use_model_file(words: list[str], name: str) -> None:
        model_file = scripted_whisper_checkpoint(words, tmp_path / name)
        monkeypatch.setattr(model_manager_module.QFileDialog, "getOpenFileName",
                            lambda *args: (str(model_file), "Whisper model (*.pt)"))
        choose_speech_model(qtbot, dialog, LOCAL_SPEECH_FILE)
        qtbot.waitUntil(lambda: studio.settings.whisper_model == str(model_file), timeout=10_000)
        assert dialog.speech_model.currentText() == name

    def heard_in_a_voice() -> list[str]:
        with qtbot.waitSignal(studio.voices.prepared, timeout=60_000):
            studio.voices.load(Speaker.S1, str(SPEAKER1_WAV))  # loads the model off the GUI thread
        return [word.text for word in studio.dialogue.speakers[Speaker.S1].voice.words]

    use_model_file(["Hello", "world"], "hello.pt")
    assert heard_in_a_voice() == ["Hello", "world"]
    use_model_file(["Goodbye"], "goodbye.pt")  # the loaded model goes; the next voice loads this one
    assert heard_in_a_voice() == ["Goodbye"]


def speech_model_texts(qtbot, dialog) -> dict[str, str]:
    qtbot.waitUntil(dialog.speech_model.isEnabled, timeout=10_000)
    box = dialog.speech_model
    return {box.itemData(i): box.itemText(i) for i in range(box.count()) if box.itemData(i)}


def test_the_speech_models_on_this_computer_and_the_default_are_shown(studio, qtbot, whisper_cache, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)  # a processor
    whisper_cache.mkdir(parents=True)
    (whisper_cache / "large-v3.pt").write_bytes(bytes(3_000_000))
    studio.model_controls.show_manager()
    dialog = studio.model_controls.manager
    texts = speech_model_texts(qtbot, dialog)
    assert texts["small"] == "small (default)" and dialog.speech_model.currentData() == "small"
    assert texts["large-v3"] == "large-v3 (on this computer, 3.0 MB)"
    assert texts["large"] == "large (on this computer, 3.0 MB)"  # the same file
    assert texts["tiny"] == "tiny"

    (whisper_cache / "small.pt").write_bytes(bytes(5000))  # downloaded by a transcription meanwhile
    dialog.close()
    studio.model_controls.show_manager()
    qtbot.waitUntil(lambda: speech_model_texts(qtbot, dialog)["small"] == "small (default, on this computer, 5 kB)",
                    timeout=10_000)


def test_on_a_gpu_the_default_is_large_v3_and_a_choice_is_kept_on_either(make_studio, qtbot, monkeypatch):
    gpu = True  # what torch finds; nothing runs on it
    monkeypatch.setattr(torch.cuda, "is_available", lambda: gpu)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: gpu)
    studio = make_studio()
    studio.model_controls.show_manager()
    assert speech_model_texts(qtbot, studio.model_controls.manager)["large-v3"] == "large-v3 (default)"
    assert studio.model_controls.manager.speech_model.currentData() == "large-v3"

    choose_speech_model(qtbot, studio.model_controls.manager, "medium")

    gpu = False  # the settings taken to a computer without one
    again = make_studio()
    again.model_controls.show_manager()
    assert speech_model_texts(qtbot, again.model_controls.manager)["small"] == "small (default)"
    assert again.model_controls.manager.speech_model.currentData() == "medium"  # the person's choice stays
    choose_speech_model(qtbot, again.model_controls.manager, "large-v3")  # slow here, but wanted
    assert again.voices.transcriber().speech_model == "large-v3"
    third = make_studio()
    third.model_controls.show_manager()
    speech_model_texts(qtbot, third.model_controls.manager)
    assert third.model_controls.manager.speech_model.currentData() == "large-v3"


def test_a_file_that_is_not_a_whisper_model_is_refused_with_a_reason(studio, qtbot, tmp_path, monkeypatch):
    not_whisper = tmp_path / "notes.pt"
    torch.save({"weights": torch.zeros(3)}, not_whisper)
    studio.model_controls.show_manager()
    dialog = studio.model_controls.manager
    monkeypatch.setattr(model_manager_module.QFileDialog, "getOpenFileName",
                        lambda *args: (str(not_whisper), ""))
    choose_speech_model(qtbot, dialog, LOCAL_SPEECH_FILE)
    qtbot.waitUntil(lambda: "is not a Whisper model file" in dialog.status.text(), timeout=10_000)
    assert "notes.pt is not a Whisper model file: it is a PyTorch checkpoint, but not of a Whisper model" \
        in dialog.status.text()
    assert studio.settings.whisper_model == "" and dialog.speech_model.currentData() == default_whisper_model()


# --- where the model runs -----------------------------------------------------------------------

def test_choosing_its_own_process_moves_the_loaded_model_there_and_is_remembered(make_studio, qtbot):
    studio = make_studio()  # in the studio
    with qtbot.waitSignal(studio.models.loaded, timeout=30_000):
        studio.model_controls.load(str(TINY_CHECKPOINT), "cpu", "float32")
    studio.model_controls.show_manager()
    dialog = studio.model_controls.manager
    assert dialog.engine.currentText() == "In the studio" and not dialog.server.isVisibleTo(dialog)
    dialog.engine.setFocus()
    with qtbot.waitSignal(studio.models.loaded, timeout=60_000):
        qtbot.keyClick(dialog.engine, Qt.Key.Key_Down)  # "In its own process"
    engine = studio.models.engine
    assert engine.kind is EngineKind.OWN_PROCESS and engine.pid is not None and engine.pid != os.getpid()
    assert studio.models.model == str(TINY_CHECKPOINT)
    assert studio.window.model_status.text() == "Model: checkpoint · cpu · float32 · in its own process"
    assert "model's process" in studio.window.memory_status.text()
    assert dialog.status.text() == "Loaded: checkpoint · cpu · float32 · in its own process"

    again = make_studio(start=False, engine=None)  # started again, where the settings say
    assert again.models.choice == EngineChoice(EngineKind.OWN_PROCESS)


def test_a_server_is_used_once_its_address_is_given_and_an_engine_that_cannot_be_had_says_so(
        make_studio, qtbot, monkeypatch):
    monkeypatch.setitem(sys.modules, "core.engine.remote", None)  # a studio built without the remote engine
    studio = make_studio()
    studio.model_controls.show_manager()
    dialog = studio.model_controls.manager
    dialog.engine.setFocus()
    assert dialog.device.isEnabled() and dialog.precision.isEnabled()
    qtbot.keyClick(dialog.engine, Qt.Key.Key_End)  # "On a server": its address first
    assert dialog.server.isVisibleTo(dialog) and studio.models.choice.kind is EngineKind.IN_PROCESS
    # The server decides where and how its model runs, and transcribes voices itself.
    assert not (dialog.device.isEnabled() or dialog.precision.isEnabled() or dialog.speech_model.isEnabled())
    # And it has models of its own: nothing is said of what this computer has downloaded.
    assert dialog.intro.text().startswith("The model runs on the server")
    assert dialog.load_button.text() == "Load on the server"
    texts = [dialog.models.item(row).text() for row in range(dialog.models.count())]
    assert texts and not any("downloaded" in text or "on this computer" in text for text in texts)
    qtbot.mouseClick(dialog.connect_button, Qt.MouseButton.LeftButton)
    assert "Type the address of the server" in dialog.status.text()
    qtbot.keyClicks(dialog.server_url, "http://gpu-box:8000")
    qtbot.keyClicks(dialog.server_key, "secret")
    qtbot.mouseClick(dialog.connect_button, Qt.MouseButton.LeftButton)
    assert dialog.status.text().endswith("On a server is not available in this version of the studio. "
                                         "The model keeps running where it was.</span>")
    # Nothing changed: the model still runs in the studio, and the choice shown says so.
    assert studio.models.choice.kind is EngineKind.IN_PROCESS and studio.settings.engine_kind == ""
    assert dialog.engine.currentText() == "In the studio" and not dialog.server.isVisibleTo(dialog)
    assert dialog.device.isEnabled() and dialog.precision.isEnabled()
    assert dialog.intro.text().startswith("Dia Studio runs Dia2 on this computer") and (
        dialog.load_button.text() in ("Load", "Download and load"))


def test_a_server_chosen_shows_its_model_only_once_loaded_there_and_its_address_is_kept_for_coming_back(
        make_studio, remote_engine_server, qtbot):
    from tests.service.remote_engine import KEY

    studio = make_studio()
    with qtbot.waitSignal(studio.models.loaded, timeout=30_000):
        studio.model_controls.load(str(TINY_CHECKPOINT), "cpu", "float32")
    studio.model_controls.show_manager()
    dialog = studio.model_controls.manager

    def listed() -> str:
        return "\n".join(dialog.models.item(row).text() for row in range(dialog.models.count()))

    with qtbot.waitSignal(studio.models.loaded, timeout=60_000):
        assert studio.model_controls.choose_engine(EngineKind.REMOTE.value, remote_engine_server.url, KEY)
        assert "loaded on the server" not in listed()  # nothing connected yet: said "loaded" before
    assert "loaded on the server" in listed()
    qtbot.waitUntil(lambda: "server " in studio.window.memory_status.text(), timeout=10_000)
    assert "model's process" not in studio.window.memory_status.text()  # the server's figure, named so

    with qtbot.waitSignal(studio.models.loaded, timeout=60_000):
        assert studio.model_controls.choose_engine(EngineKind.IN_PROCESS.value)
    assert (dialog.server_url.text(), dialog.server_key.text()) == (remote_engine_server.url, KEY)
    again = make_studio(start=False, engine=None)  # started again: the address and key are still there
    assert (again.settings.engine_url, again.settings.engine_key) == (remote_engine_server.url, KEY)
    assert again.models.choice == EngineChoice(EngineKind.IN_PROCESS)


def test_a_server_kept_from_before_that_cannot_be_had_at_the_start_leaves_the_model_in_the_studio(
        make_studio, monkeypatch):
    monkeypatch.setitem(sys.modules, "core.engine.remote", None)
    first = make_studio()
    first.settings.engine_kind, first.settings.engine_url = "remote", "http://gpu-box:8000"
    studio = make_studio(engine=None)  # started again, with the server in its settings
    assert studio.models.choice.kind is EngineKind.IN_PROCESS
    assert studio.window.statusBar().currentMessage() == (
        "On a server is not available in this version of the studio. Until then the model runs in the studio.")
    assert studio.settings.engine_kind == "remote"  # kept for when it can be had


def test_lookups_that_end_after_the_dialog_is_gone_are_dropped(studio, qtbot, monkeypatch):
    # The window closed (its dialogs deleted) while the models' sizes and Whisper's model names
    # were still being looked up: their outcome reaches no deleted dialog (a RuntimeError in a slot).
    from app import workers
    from app.model_manager_actions import SpeechModels

    started, finish = [], threading.Event()

    def slowly(outcome):
        def look(*_):
            started.append(look)
            finish.wait(10)
            return outcome
        return look

    monkeypatch.setattr("app.model_session.model_sizes", slowly({}))
    monkeypatch.setattr("app.model_manager_actions._speech_models", slowly(SpeechModels(["tiny"], "tiny", {})))
    studio.model_controls.show_manager()
    qtbot.waitUntil(lambda: len(started) == 2)
    dialog = studio.model_controls.manager
    with qtbot.waitSignal(dialog.destroyed):
        dialog.deleteLater()
    finish.set()
    lookups = {"model sizes", "speech model names"}
    qtbot.waitUntil(lambda: not any(worker._thread.objectName() in lookups for worker in workers._running),
                    timeout=10_000)
