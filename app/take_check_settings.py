"""The take checks' thresholds as the person set them: kept in the settings (the ones apart from
the defaults, as JSON), edited in the Take checks dialog; a change checks the takes again."""

from __future__ import annotations

import json

from PySide6.QtWidgets import QWidget

from app.settings import Settings
from core.take_checks.verdicts import CheckSettings, InvalidThreshold, tuned, tuning
from ui.take_checks_dialog import TakeChecksDialog


def thresholds(settings: Settings) -> CheckSettings:
    """The thresholds set; the defaults where the stored ones are unreadable (a file edited by hand)."""
    try:
        return tuned(json.loads(settings.check_thresholds or "{}"))
    except (ValueError, TypeError, AttributeError, InvalidThreshold):
        return CheckSettings()


def edit_take_checks(settings: Settings, parent: QWidget) -> bool:
    """Show the dialog; True when the thresholds changed."""
    dialog = TakeChecksDialog(thresholds(settings), settings.make_until_good_tries, parent)
    if not dialog.exec():
        return False
    settings.make_until_good_tries = dialog.tries.value()
    before = settings.check_thresholds
    settings.check_thresholds = json.dumps(tuning(dialog.chosen())) if tuning(dialog.chosen()) else ""
    return settings.check_thresholds != before
