"""The model manager: what is installed, loading a local model off the GUI thread, and errors."""

from __future__ import annotations

from ui import model_manager as model_manager_module
from tests.ui.conftest import TINY_CHECKPOINT


def test_the_hub_models_are_listed_with_where_they_come_from(studio):
    studio.window.actions.models.trigger()
    dialog = studio.model_manager
    assert dialog.isVisible()
    texts = [dialog.models.item(i).text() for i in range(dialog.models.count())]
    assert texts[0].startswith("Dia2 2B — ") and "nari-labs/Dia2-2B" in texts[0]
    assert texts[1].startswith("Dia2 1B — ")
    assert [dialog.device.itemData(i) for i in range(dialog.device.count())][:2] == ["auto", "cpu"]


def test_a_local_model_folder_loads_and_is_remembered(make_studio, qtbot, monkeypatch):
    studio = make_studio()
    studio.show_model_manager()
    dialog = studio.model_manager
    monkeypatch.setattr(model_manager_module.QFileDialog, "getExistingDirectory",
                        lambda *args: str(TINY_CHECKPOINT))
    with qtbot.waitSignal(studio.models.loaded, timeout=30_000):
        dialog.open_folder_button.click()
        assert not dialog.load_button.isEnabled()  # one load at a time

    assert dialog.load_button.isEnabled() and dialog.status.text().startswith("Loaded: ")
    listed = [dialog.models.item(i).text() for i in range(dialog.models.count())]
    assert any(text.startswith("checkpoint — loaded") for text in listed)
    assert "Model: " in studio.window.model_status.text() and not studio.window.banner.isVisibleTo(studio.window)
    assert "weights" in studio.window.memory_status.text()

    again = make_studio(start=False)
    with qtbot.waitSignal(again.models.loaded, timeout=30_000):
        again.start()  # the last model loads at start
    assert again.models.model == str(TINY_CHECKPOINT)


def test_a_folder_that_is_not_a_model_says_why(studio, qtbot, tmp_path):
    studio.show_model_manager()
    with qtbot.waitSignal(studio.models.failed, timeout=30_000) as failed:
        studio.model_manager.load_requested.emit(str(tmp_path), "cpu", "auto")
    assert "config.json" in failed.args[0]
    assert "config.json" in studio.model_manager.status.text()
    assert studio.models.runtime is None and studio.window.banner.isVisibleTo(studio.window)


def test_download_progress_reaches_the_dialog(make_studio, qtbot, tiny_runtime):
    def downloading_loader(model, device, dtype, progress):
        for done in (0, 2_000_000_000, 4_000_000_000):
            progress(done, 4_000_000_000, "nari-labs/Dia2-2B")
        return tiny_runtime

    studio = make_studio(model_loader=downloading_loader)
    studio.show_model_manager()
    dialog = studio.model_manager
    seen = []  # what the dialog showed at each report (it is told first)
    studio.models.download_progress.connect(
        lambda done, total, what: seen.append((dialog.progress.value(), dialog.status.text())))
    with qtbot.waitSignal(studio.models.loaded, timeout=30_000):
        dialog.load_button.click()  # Dia2 2B, "not downloaded": Download and load
    assert [value for value, _ in seen] == [0, 500, 1000]
    assert seen[-1][1] == "Downloading nari-labs/Dia2-2B: 4.00 of 4.00 GB"
    assert studio.models.model == "dia2-2b" and dialog.status.text().startswith("Loaded: ")
