"""Screenshots of the real window for README.md and docs/studio.md, taken on a display (e.g. under Xvfb):

    xvfb-run -s "-screen 0 1280x800x24" python -m resources.screenshots.take_screenshots

The studio starts as at a first start (fresh settings), so it opens the bundled example. The
"generated" shots use the tiny test checkpoint: its audio is noise, but the window is the real one.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QEventLoop, QSettings, QTimer
from PySide6.QtWidgets import QApplication, QWidget

HERE = Path(__file__).resolve().parent
TINY_CHECKPOINT = HERE.parents[1] / "tests" / "fixtures" / "dia2_parity" / "checkpoint"


def settle(milliseconds: int = 300) -> None:
    """Let layouts and paints finish before a grab."""
    loop = QEventLoop()
    QTimer.singleShot(milliseconds, loop.quit)
    loop.exec()


def shoot(widget: QWidget, name: str) -> None:
    settle()
    widget.grab().save(str(HERE / name))
    print(f"wrote {HERE / name}")


def wait_for(signal, milliseconds: int = 120_000) -> list:
    loop = QEventLoop()
    received = []
    signal.connect(lambda *args: (received.extend(args), loop.quit()))
    QTimer.singleShot(milliseconds, loop.quit)
    loop.exec()
    return received


def main() -> int:
    import torch

    torch.set_num_threads(1)  # the tiny checkpoint's matmuls are too small to share between threads
    application = QApplication(sys.argv[:1])  # noqa: F841 (held: it must outlive the windows)
    from app.controller import StudioController
    from app.settings import Settings, WindowLayout
    from ui.export_dialog import ExportDialog

    folder = Path(tempfile.mkdtemp(prefix="dia-studio-shots-"))
    store = QSettings(str(folder / "settings.ini"), QSettings.Format.IniFormat)
    studio = StudioController(Settings(store), WindowLayout(store), folder, None)
    studio.prompts.save_changes = lambda name: "discard"
    window = studio.window
    studio.start()
    window.resize(1280, 800)  # the window's own default size
    shoot(window, "first-start.png")

    studio.model_controls.show_manager()
    shoot(studio.model_controls.manager, "model-manager.png")
    studio.model_controls.load(str(TINY_CHECKPOINT), "cpu", "float32")
    wait_for(studio.models.loaded)
    studio.model_controls.manager.hide()

    timeline = window.timeline
    timeline.select_line(studio.dialogue.lines[1].id)
    progress_seen = []

    def grab_while_generating(take, words, progress) -> None:
        if words >= 10 and not progress_seen:
            progress_seen.append(True)
            window.grab().save(str(HERE / "generating.png"))
            print(f"wrote {HERE / 'generating.png'}")

    studio.generation.progress.connect(grab_while_generating)
    studio.generate()
    wait_for(studio.generation.finished)
    if not studio.take_checking.settled:
        wait_for(studio.take_checking.idle)  # the take's score in the takes panel
    timeline.select_line(studio.dialogue.lines[2].id)
    studio.dialogue.set_text(studio.dialogue.lines[3].id, studio.dialogue.lines[3].text + " Shall we?")
    shoot(window, "generated.png")

    from core.studio.exporting import summary

    export = ExportDialog(studio.exports.last_choice(), summary(studio.dialogue), parent=window)
    export.show()
    shoot(export, "export.png")
    export.close()
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
