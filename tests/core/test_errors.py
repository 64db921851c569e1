"""What the person is told about an error: a studio error's own message, anything else with what
was being done and the exception's type."""

from __future__ import annotations

import errno
import os

from core.errors import DiaStudioError, describe_error


def test_a_studio_error_is_told_in_its_own_words():
    error = DiaStudioError("The project file is damaged; open its autosave instead.")
    assert describe_error(error, "Opening the project failed") == str(error)


def test_any_other_error_says_what_failed_and_how():
    error = PermissionError(errno.EACCES, os.strerror(errno.EACCES), "/models/dia2")
    assert describe_error(error, "Deleting Dia2 1B failed") == \
        f"Deleting Dia2 1B failed: PermissionError: [Errno {errno.EACCES}] {os.strerror(errno.EACCES)}: '/models/dia2'"
    assert describe_error(ValueError("no header")) == "ValueError: no header"
