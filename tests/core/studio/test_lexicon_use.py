"""The lexicon where text meets the model: the model's words mapped back onto the written words (in
pieces, after a kept voice prompt's words, in a cut take), the way back for the lines before,
imports merged into a lexicon, the lines an edit changes, and the shared lexicon's file."""

import json

import numpy as np
import pytest

from core.dia2.events import TakeResult
from core.document.dialogue import Dialogue
from core.document.lines import DialogueLine
from core.document.speakers import Speaker
from core.lexicon.entry import LexiconEntry
from core.lexicon.errors import LexiconFileError
from core.lexicon.lexicon import Lexicon
from core.lexicon.respelling import respell, timed_words
from core.params import GenerationParams
from core.studio.lexicon_use import (SHARED_LEXICON_FILE, lines_read_differently, read_shared_lexicon,
                                     spoken_starts, use_shared_lexicon, with_imported, written_result,
                                     written_words, write_shared_lexicon)


def lexicon(*pairs, case_sensitive=False):
    return Lexicon(tuple(LexiconEntry(written, spoken, case_sensitive) for written, spoken in pairs))


LEXICON = lexicon(("Nguyen", "Win"), ("SQL", "S Q L"), ("New York", "Nyork"))


def timed(text, step=0.5, first=0.0):
    return [(word, first + index * step) for index, word in enumerate(timed_words(text))]


def test_the_words_of_each_respelled_piece_become_the_written_words_with_their_starts():
    pieces = [respell("Hello Nguyen.", LEXICON), respell("I use SQL.", LEXICON), respell("Bye.", LEXICON)]
    spoken = " ".join(piece.spoken for piece in pieces)
    assert spoken == "Hello Win. I use S Q L. Bye."
    assert written_words(timed(spoken), pieces) == [("Hello", 0.0), ("Nguyen.", 0.5), ("I", 1.0), ("use", 1.5),
                                                    ("SQL.", 2.0), ("Bye.", 3.5)]


def test_a_kept_voice_prompts_words_come_first_and_stay_as_they_are():
    pieces = [respell("Hello Nguyen.", LEXICON)]
    words = [("prompt", 0.0), ("words", 0.2)] + timed("Hello Win.", first=1.0)
    assert written_words(words, pieces) == [("prompt", 0.0), ("words", 0.2), ("Hello", 1.0), ("Nguyen.", 1.5)]


def test_a_cut_take_gives_starts_only_to_the_written_words_all_of_whose_spoken_words_came():
    pieces = [respell("one SQL", LEXICON), respell("two", LEXICON)]
    assert written_words([("one", 0.0), ("S", 0.5), ("Q", 0.7)], pieces) == [("one", 0.0)]
    assert written_words(timed("one S Q L"), pieces) == [("one", 0.0), ("SQL", 0.5)]
    assert written_words(timed("one S Q L two"), pieces) == [("one", 0.0), ("SQL", 0.5), ("two", 2.0)]


def test_text_no_entry_changes_keeps_the_models_words_and_the_very_same_result():
    pieces = [respell("Hello there.", LEXICON)]
    result = TakeResult(0, 1, GenerationParams(seed=1), np.zeros(10, np.float32), 24000, None,
                        [("Hello", 0.0), ("there.", 0.4)])
    assert written_result(result, pieces) is result


def test_a_whole_script_is_one_piece_its_speaker_tags_untimed():
    script = respell("[S1] Hello Nguyen. [S2] Is it New York?", LEXICON)
    result = TakeResult(0, 1, GenerationParams(seed=1), np.zeros(10, np.float32), 24000, None,
                        timed(script.spoken))
    assert script.spoken == "[S1] Hello Win. [S2] Is it Nyork?"
    assert written_result(result, [script]).words == [("Hello", 0.0), ("Nguyen.", 0.5), ("Is", 1.0), ("it", 1.5),
                                                      ("New", 2.0), ("York?", 2.0)]


def test_the_way_back_gives_each_spoken_word_a_start_for_the_lines_before():
    one_for_one = respell("Hello Nguyen today", LEXICON)
    assert spoken_starts(one_for_one, [0.0, 0.4, 0.9], 1.2) == [0.0, 0.4, 0.9]
    two_as_one = respell("in New York today", LEXICON)
    assert spoken_starts(two_as_one, [0.0, 0.4, 0.7, 1.0], 1.3) == [0.0, 0.4, 1.0]
    one_as_three = respell("use SQL now", LEXICON)
    assert spoken_starts(one_as_three, [0.0, 0.3, 0.9], 1.2) == pytest.approx([0.0, 0.3, 0.5, 0.7, 0.9])
    at_the_end = respell("use SQL", LEXICON)  # up to the end of the line
    assert spoken_starts(at_the_end, [0.0, 0.3], 0.9) == pytest.approx([0.0, 0.3, 0.5, 0.7])
    as_written = respell("nothing to change", LEXICON)
    assert spoken_starts(as_written, [0.0, 0.2, 0.3], 0.5) == [0.0, 0.2, 0.3]


def test_an_import_replaces_the_entries_for_the_same_words_where_they_stand_and_adds_the_others():
    own = lexicon(("Nguyen", "Win"), ("SQL", "sequel"))
    merged, added, replaced = with_imported(own, lexicon(("sql", "S Q L"), ("Ngo", "No"), ("Tran", "Chan")))
    assert [(entry.written, entry.spoken) for entry in merged.entries] == [
        ("Nguyen", "Win"), ("sql", "S Q L"), ("Ngo", "No"), ("Tran", "Chan")]
    assert (added, replaced) == (2, 1)
    assert with_imported(own, Lexicon()) == (own, 0, 0)


def test_the_lines_read_differently_are_those_an_edit_changes():
    lines = [DialogueLine(Speaker.S1, "Hello Nguyen."), DialogueLine(Speaker.S2, "Fine."),
             DialogueLine(Speaker.S1, ""), DialogueLine(Speaker.S2, "nguyen's here")]
    before, after = lexicon(("Nguyen", "Win")), lexicon(("Nguyen", "Nwin"))
    assert lines_read_differently(lines, before, after) == [lines[0].id, lines[3].id]
    assert lines_read_differently(lines, before, before) == []
    assert lines_read_differently(lines, Lexicon(), lexicon(("Fine", "Fyne"))) == [lines[1].id]


def test_the_shared_lexicon_file_is_written_and_read_back(tmp_path):
    folder = tmp_path / "data"
    assert read_shared_lexicon(folder) == (Lexicon(), [])  # none yet
    write_shared_lexicon(folder, LEXICON)
    assert json.loads((folder / SHARED_LEXICON_FILE).read_text("utf-8"))["entries"][0]["written"] == "Nguyen"
    assert read_shared_lexicon(folder) == (LEXICON, [])


def test_a_project_rendered_without_the_window_gets_the_shared_lexicon_under_its_own(tmp_path):
    write_shared_lexicon(tmp_path, lexicon(("Nguyen", "Win"), ("SQL", "sequel")))
    dialogue = Dialogue([DialogueLine(Speaker.S1, "Nguyen likes SQL")], lexicon=lexicon(("SQL", "squeal")))
    assert use_shared_lexicon(dialogue, tmp_path) == []
    assert dialogue.respelling(dialogue.lines[0]).spoken == "Win likes squeal"


def test_a_damaged_shared_lexicon_is_said_and_not_used(tmp_path):
    (tmp_path / SHARED_LEXICON_FILE).write_text("{not json", "utf-8")
    with pytest.raises(LexiconFileError, match="not valid JSON"):
        read_shared_lexicon(tmp_path)
    dialogue = Dialogue([DialogueLine(Speaker.S1, "Nguyen")], lexicon=lexicon(("Nguyen", "Nwin")))
    (note,) = use_shared_lexicon(dialogue, tmp_path)
    assert "not valid JSON" in note and "The project's own lexicon is used alone." in note
    assert dialogue.shared_lexicon == Lexicon() and dialogue.respelling(dialogue.lines[0]).spoken == "Nwin"
    assert (tmp_path / SHARED_LEXICON_FILE).read_text("utf-8") == "{not json"  # left as it was


def test_a_shared_lexicon_that_cannot_be_saved_says_where(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(LexiconFileError, match="cannot be saved"):
        write_shared_lexicon(blocker / "data", LEXICON)
