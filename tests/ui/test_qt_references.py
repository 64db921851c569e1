"""The Qt binding keeps Python's reference counts: PySide6 6.12.0 lost a reference to None at
every call of a method returning nothing, and before Python 3.12 that freed None after a few
thousand calls and aborted the studio. (From 3.12 on None is immortal and its count fixed.)"""

import sys

from PySide6.QtWidgets import QLabel


def test_calls_that_return_nothing_leave_none_s_reference_count_alone(qtbot):
    label = QLabel()
    qtbot.addWidget(label)
    before = sys.getrefcount(None)
    for number in range(2000):
        label.setText(str(number))
        label.setEnabled(number % 2 == 0)
    assert sys.getrefcount(None) >= before - 50  # a little give for what the loop itself holds
