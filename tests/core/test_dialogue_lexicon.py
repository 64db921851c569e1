"""The document's lexicon: the project's (an undoable edit, saved with it) over the shared one (the
studio's, its edits steps of the same undo stack but not changes to save), and a line's take
current only while the model would read the line as it read it."""

import numpy as np
import pytest

from core.document.clips import AudioClip
from core.document.content import Change, LineStatus
from core.document.dialogue import Dialogue, speaks_as_written
from core.document.errors import DialogueError
from core.document.takes import Take
from core.lexicon.entry import LexiconEntry
from core.lexicon.lexicon import Lexicon
from core.params import GenerationParams

NGUYEN = Lexicon((LexiconEntry("Nguyen", "Win"),))


def take_of(dialogue, *lines, respelled=None):
    """A take made of ``lines`` as they read now, the model having read ``respelled`` (line → text)."""
    audio = AudioClip.from_samples(np.zeros(2400, np.float32), 24000)
    return Take(GenerationParams(seed=1), audio, lines, respelled=respelled or {})


@pytest.fixture
def dialogue():
    dialogue = Dialogue.from_script("[S1] Hello Nguyen. [S2] Fine, thanks. [S1] Nguyen's here.")
    dialogue.add_takes([take_of(dialogue, *dialogue.lines)])  # made with no lexicon
    dialogue.undo_stack = type(dialogue.undo_stack)()
    dialogue.mark_saved()
    return dialogue


def statuses(dialogue):
    return [dialogue.status(line.id) for line in dialogue.lines]


def test_an_entry_that_changes_lines_marks_them_changed_since_their_take_and_leaves_the_others(dialogue):
    changes = []
    dialogue.subscribe(changes.append)
    dialogue.set_lexicon(NGUYEN, "Add “Nguyen” to the lexicon")
    assert statuses(dialogue) == [LineStatus.OUTDATED, LineStatus.GENERATED, LineStatus.OUTDATED]
    assert changes == [Change.LEXICON | Change.TAKES] and dialogue.modified
    assert dialogue.undo_stack.undo_text == "Add “Nguyen” to the lexicon"
    dialogue.undo_stack.undo()
    assert dialogue.lexicon == Lexicon() and statuses(dialogue) == [LineStatus.GENERATED] * 3
    assert not dialogue.modified
    dialogue.undo_stack.redo()
    assert dialogue.lexicon == NGUYEN and statuses(dialogue)[0] is LineStatus.OUTDATED


def test_a_take_made_with_the_respelling_is_current_until_the_respelling_changes(dialogue):
    first, second, third = dialogue.lines
    dialogue.set_lexicon(NGUYEN)
    assert dialogue.respelling(first).spoken == "Hello Win."
    dialogue.add_takes([take_of(dialogue, first, respelled={first.id: "Hello Win."})])
    assert dialogue.status(first.id) is LineStatus.GENERATED  # the new take is kept: it speaks the line as read now
    dialogue.set_lexicon(Lexicon((LexiconEntry("Nguyen", "Nwin"),)))
    assert dialogue.status(first.id) is LineStatus.OUTDATED
    dialogue.set_lexicon(Lexicon())  # back to no lexicon: the first take is the line's as written again
    newer = dialogue.take_for(first.id)
    assert not dialogue.speaks_as_written(newer, first)
    assert dialogue.speaks_as_written(dialogue.takes[0], first)


def test_the_projects_entry_wins_over_the_shared_ones(dialogue):
    first, second, third = dialogue.lines
    dialogue.use_shared_lexicon(Lexicon((LexiconEntry("nguyen", "Nuh-win"), LexiconEntry("thanks", "thanx"))))
    assert dialogue.respelling(first).spoken == "Hello Nuh-win." and dialogue.respelling(second).spoken == \
        "Fine, thanx."
    assert not dialogue.modified and not dialogue.undo_stack.can_undo  # the studio's, not an edit
    dialogue.set_lexicon(NGUYEN)
    assert [dialogue.respelling(line).spoken for line in dialogue.lines] == ["Hello Win.", "Fine, thanx.",
                                                                             "Win's here."]
    assert len(dialogue.lexicon_in_use.entries) == 2


def test_an_edit_of_the_shared_lexicon_is_undone_in_the_documents_stack_but_is_no_change_to_save(dialogue):
    changes = []
    dialogue.subscribe(changes.append)
    dialogue.set_shared_lexicon(NGUYEN, "Add “Nguyen” to the shared lexicon")
    assert dialogue.shared_lexicon == NGUYEN and dialogue.lexicon == Lexicon()
    assert statuses(dialogue)[0] is LineStatus.OUTDATED and not dialogue.modified
    assert changes == [Change.LEXICON | Change.TAKES]
    dialogue.set_text(dialogue.lines[1].id, "Fine.")
    dialogue.undo_stack.undo()
    dialogue.undo_stack.undo()
    assert dialogue.shared_lexicon == Lexicon() and statuses(dialogue) == [LineStatus.GENERATED] * 3
    dialogue.undo_stack.redo()
    assert dialogue.shared_lexicon == NGUYEN
    dialogue.set_shared_lexicon(NGUYEN)  # no change, no step
    assert dialogue.undo_stack.undo_text == "Add “Nguyen” to the shared lexicon"


def test_a_typing_step_does_not_swallow_a_lexicon_edit(dialogue):
    line = dialogue.lines[1]
    dialogue.set_text(line.id, "Fine")
    dialogue.set_shared_lexicon(NGUYEN)
    dialogue.set_text(line.id, "Fine!")
    dialogue.undo_stack.undo()
    assert dialogue.line(line.id).text == "Fine" and dialogue.shared_lexicon == NGUYEN


def test_without_a_lexicon_a_take_speaks_its_line_as_its_text_reads(dialogue):
    first = dialogue.lines[0]
    respelled = take_of(dialogue, first, respelled={first.id: "Hello Win."})
    assert speaks_as_written(dialogue.takes[0], first) and not speaks_as_written(respelled, first)
    assert speaks_as_written(respelled, first, "Hello Win.")
    assert respelled.text_read(first.id) == "Hello Win." and dialogue.takes[0].text_read(first.id) == "Hello Nguyen."
    assert respelled.text_read("another line") is None


def test_a_take_refuses_a_respelling_of_a_line_it_was_not_made_from(dialogue):
    with pytest.raises(DialogueError, match="respelling of line 'x'"):
        take_of(dialogue, dialogue.lines[0], respelled={"x": "Win"})
    with pytest.raises(DialogueError, match="must be text"):
        take_of(dialogue, dialogue.lines[0], respelled={dialogue.lines[0].id: " "})
    with pytest.raises(DialogueError, match="is a Lexicon"):
        dialogue.set_lexicon({"Nguyen": "Win"})
