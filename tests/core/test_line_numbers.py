"""Lines named as the person counts them, the same in the window, the command line and a batch."""

from core.document.dialogue import Dialogue
from core.document.line_numbers import line_numbers, rows_of


def test_line_numbers_read_as_ranges():
    assert [line_numbers(rows) for rows in ([2], [1, 2, 3], [3, 1], [1, 2, 3, 5, 7, 8])] == [
        "line 2", "lines 1–3", "lines 1, 3", "lines 1–3, 5, 7–8"]


def test_rows_are_counted_from_one_in_the_dialogue_s_order():
    dialogue = Dialogue.from_script("[S1] One. [S2] Two. [S1] Three.")
    first, _, third = (line.id for line in dialogue.lines)
    assert rows_of(dialogue, [third, first]) == [3, 1]
    assert line_numbers(rows_of(dialogue, [third, first])) == "lines 1, 3"
