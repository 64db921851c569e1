"""The dialogue document: lines, script, takes, line status, undo/redo of every edit."""

from datetime import datetime

import numpy as np
import pytest

from core.dia2.script import BREAK_TAG
from core.dia2.transcript_alignment import TimedWord
from core.document.clips import AudioClip
from core.document.content import Change, LineStatus
from core.document.dialogue import Dialogue
from core.document.errors import DialogueError, InvalidScript
from core.document.lines import DialogueLine
from core.document.markup import NONVERBAL_CUES, insert_markup, pause_markup
from core.document.script_text import build_script
from core.document.speakers import Speaker, SpeakerProfile, VoiceReference
from core.document.takes import Take
from core.params import GenerationParams
from core.take_checks.verdicts import CheckedTake, TakeReport
from core.undo import UndoStack

RATE = 24_000


def clip(seconds=0.1, value=0.25):
    return AudioClip.from_samples(np.full(int(seconds * RATE), value, dtype=np.float32), RATE)


def take_of(lines, seed=7, **extra):
    return Take(GenerationParams(seed=seed), clip(), lines, **extra)


def content(dialogue):
    return (dialogue.lines, dict(dialogue.speakers), dialogue.params, dialogue.takes, dict(dialogue.kept_takes))


@pytest.fixture
def dialogue():
    return Dialogue.from_script("[S1] Hello there. [S2] Hi! (laughs) [S1] How are you?")


# --- speakers, cues, pauses ---------------------------------------------------------------

def test_speaker_tags_and_other():
    assert [s.tag for s in Speaker] == ["[S1]", "[S2]"]
    assert Speaker.S1.other is Speaker.S2 and Speaker.S2.other is Speaker.S1


def test_cue_palette_has_no_duplicates_and_is_markup():
    assert len(set(NONVERBAL_CUES)) == len(NONVERBAL_CUES)
    assert all(cue.startswith("(") and cue.endswith(")") for cue in NONVERBAL_CUES)
    assert {"(laughs)", "(clears throat)", "(beep)"} <= set(NONVERBAL_CUES)


@pytest.mark.parametrize("seconds, markup", [(1.5, '<break time="1.5s"/>'), (2, '<break time="2s"/>'),
                                             (0.25, '<break time="0.25s"/>'), (10, '<break time="10s"/>')])
def test_pause_markup(seconds, markup):
    assert pause_markup(seconds) == markup
    assert BREAK_TAG.fullmatch(markup)  # the runtime's parser reads it


@pytest.mark.parametrize("seconds", [0, -1, 0.0001, 10.5, float("nan"), float("inf"), True, "1s"])
def test_pause_markup_refuses_non_pauses(seconds):
    with pytest.raises(DialogueError, match="pause"):
        pause_markup(seconds)


def test_speaker_profile_is_checked():
    with pytest.raises(DialogueError, match="name"):
        SpeakerProfile("  ", "#112233")
    with pytest.raises(DialogueError, match="#rrggbb"):
        SpeakerProfile("Ann", "red")


# --- lines and scripts --------------------------------------------------------------------

def test_line_refuses_a_speaker_tag_in_its_text():
    with pytest.raises(DialogueError, match=r"\[S2\]"):
        DialogueLine(Speaker.S1, "Hello [S2] there")


@pytest.mark.parametrize("text", ["Meet [S3] here", "[S0]", "x [S12]"])
def test_line_refuses_a_tag_for_a_speaker_dia2_does_not_have(text):
    with pytest.raises(InvalidScript, match=r"\[S\d+\] is not a speaker tag: Dia2 has two speakers, \[S1\] and \[S2\]"):
        DialogueLine(Speaker.S1, text)


def test_script_tags_only_where_the_speaker_changes():
    lines = [DialogueLine(Speaker.S1, "Hello."), DialogueLine(Speaker.S1, "  Again\n  here. "),
             DialogueLine(Speaker.S2, ""), DialogueLine(Speaker.S2, "Hi <break time=\"1s\"/> (sighs)")]
    assert build_script(lines) == '[S1] Hello. Again here. [S2] Hi <break time="1s"/> (sighs)'


def test_script_of_selected_lines(dialogue):
    first, _, last = dialogue.lines
    assert dialogue.to_script([first, last]) == "[S1] Hello there. How are you?"
    assert dialogue.to_script() == "[S1] Hello there. [S2] Hi! (laughs) [S1] How are you?"


def test_from_script_makes_one_line_per_tag_and_per_text_line():
    dialogue = Dialogue.from_script("\n[S1] One.\nTwo.\n\n[S2]   Three   four.\n[S1][S2] Five.")
    assert [(line.speaker, line.text) for line in dialogue.lines] == [
        (Speaker.S1, "One."), (Speaker.S1, "Two."), (Speaker.S2, "Three four."), (Speaker.S2, "Five.")]
    assert not dialogue.modified and not dialogue.undo_stack.can_undo


def test_script_round_trip(dialogue):
    again = Dialogue.from_script(dialogue.to_script())
    assert [(l.speaker, l.text) for l in again.lines] == [(l.speaker, l.text) for l in dialogue.lines]


@pytest.mark.parametrize("script, message", [("Hello [S1] there", "must start with a speaker tag"),
                                             ("", "no text"), ("[S1]  [S2]\n", "no text"),
                                             ("[S1] Hi [S3] you", r"\[S3\] is not a speaker tag")])
def test_from_script_refuses_unreadable_scripts(script, message):
    with pytest.raises(InvalidScript, match=message):
        Dialogue.from_script(script)


# --- every edit is undoable -----------------------------------------------------------------

def voice():
    return VoiceReference(clip(), [("hello", 0.0, 0.4)], "Hello.")


EDITS = {
    "add line": lambda d: d.add_line(text="New"),
    "insert line": lambda d: d.insert_line(0, Speaker.S2, "First"),
    "duplicate line": lambda d: d.duplicate_line(d.lines[1].id),
    "delete line": lambda d: d.delete_line(d.lines[0].id),
    "delete lines": lambda d: d.delete_lines([d.lines[0].id, d.lines[2].id]),
    "move line": lambda d: d.move_line(d.lines[0].id, 2),
    "move lines": lambda d: d.move_lines([d.lines[2].id, d.lines[0].id], 1),
    "edit text": lambda d: d.set_text(d.lines[0].id, "Changed."),
    "paste a script": lambda d: d.enter_text(d.lines[0].id, "Hello [S2] Hi. [S1] Bye.", 24),
    "change speaker": lambda d: d.set_speaker(d.lines[0].id, Speaker.S2),
    "split line": lambda d: d.split_line(d.lines[0].id, 6),
    "merge with next": lambda d: d.merge_with_next(d.lines[0].id),
    "set params": lambda d: d.set_params(GenerationParams(cfg_scale=5.0)),
    "edit speaker": lambda d: d.edit_speaker(Speaker.S1, name="Ann", colour="#000000"),
    "set voice": lambda d: d.set_voice(Speaker.S2, voice()),
    "clear voice": lambda d: d.clear_voice(Speaker.S1),
    "add takes": lambda d: d.add_takes([take_of(d.lines), take_of(d.lines, seed=8)]),
    "keep take": lambda d: d.keep_take(d.takes[1].id),
    "keep a take for one line": lambda d: d.keep_take(d.takes[1].id, [d.lines[0].id]),
    "delete take": lambda d: d.delete_take(d.takes[0].id),
}


@pytest.mark.parametrize("edit", EDITS)
def test_every_edit_undoes_and_redoes(dialogue, edit):
    dialogue.set_voice(Speaker.S1, voice())
    dialogue.add_takes([take_of(dialogue.lines[:2], seed=1), take_of(dialogue.lines, seed=2)])
    dialogue.mark_saved()
    before = content(dialogue)

    EDITS[edit](dialogue)
    after = content(dialogue)
    assert after != before and dialogue.modified
    steps = 0
    while dialogue.modified and dialogue.undo_stack.can_undo:  # one step back to the saved document
        dialogue.undo_stack.undo()
        steps += 1
    assert steps == 1 and content(dialogue) == before
    dialogue.undo_stack.redo()
    assert content(dialogue) == after and not dialogue.undo_stack.can_redo


def test_an_edit_that_changes_nothing_is_no_undo_step(dialogue):
    dialogue.set_text(dialogue.lines[0].id, dialogue.lines[0].text)
    dialogue.set_params(GenerationParams())
    dialogue.delete_lines([])
    assert not dialogue.undo_stack.can_undo and not dialogue.modified


def test_undo_names_the_edit(dialogue):
    dialogue.merge_with_next(dialogue.lines[0].id)
    assert dialogue.undo_stack.undo_text == "Merge lines"
    dialogue.undo_stack.undo()
    assert dialogue.undo_stack.redo_text == "Merge lines" and dialogue.undo_stack.undo_text == ""


def test_typing_in_one_line_is_one_undo_step(dialogue):
    first, second = dialogue.lines[0].id, dialogue.lines[1].id
    original = dialogue.lines[0].text
    for text in ("H", "He", "Hey"):
        dialogue.set_text(first, text)
    dialogue.undo_stack.undo()
    assert dialogue.line(first).text == original
    dialogue.undo_stack.redo()
    assert dialogue.line(first).text == "Hey"

    dialogue.set_text(second, "A")  # another line: a new step
    dialogue.set_text(first, "Hey!")
    dialogue.undo_stack.undo()
    assert dialogue.line(first).text == "Hey" and dialogue.line(second).text == "A"


def test_typing_after_undo_or_seal_starts_a_new_step(dialogue):
    line = dialogue.lines[0].id
    dialogue.set_text(line, "A")
    dialogue.undo_stack.seal()
    dialogue.set_text(line, "AB")
    dialogue.undo_stack.undo()
    assert dialogue.line(line).text == "A"
    dialogue.set_text(line, "AC")
    dialogue.undo_stack.undo()
    assert dialogue.line(line).text == "A"


def test_dragging_one_setting_is_one_undo_step(dialogue):
    for cfg in (3.5, 4.0, 4.5):
        dialogue.set_params(GenerationParams(cfg_scale=cfg))
    dialogue.set_params(GenerationParams(cfg_scale=4.5, top_k=10))
    dialogue.undo_stack.undo()
    assert dialogue.params == GenerationParams(cfg_scale=4.5)
    dialogue.undo_stack.undo()
    assert dialogue.params == GenerationParams()


def test_typing_after_a_save_is_a_new_step_for_modified(dialogue):
    line = dialogue.lines[0].id
    dialogue.set_text(line, "A")
    dialogue.mark_saved()
    dialogue.set_text(line, "AB")  # merges with the step before the save
    assert dialogue.modified
    dialogue.undo_stack.undo()
    assert dialogue.modified and dialogue.line(line).text == "Hello there."
    dialogue.undo_stack.redo()
    assert dialogue.modified


def test_undo_stack_forgets_the_oldest_steps_past_its_limit(dialogue):
    dialogue.undo_stack = UndoStack(limit=2)
    for speaker in (Speaker.S2, Speaker.S1, Speaker.S2):
        dialogue.set_speaker(dialogue.lines[0].id, speaker)
    dialogue.undo_stack.undo()
    dialogue.undo_stack.undo()
    assert not dialogue.undo_stack.can_undo and dialogue.lines[0].speaker is Speaker.S2


def test_listeners_see_the_undo_state_after_the_step(dialogue):
    stack = dialogue.undo_stack
    seen = []
    dialogue.subscribe(lambda change: seen.append((stack.can_undo, stack.undo_text, stack.can_redo, stack.redo_text)))
    dialogue.set_speaker(dialogue.lines[0].id, Speaker.S2)
    dialogue.set_text(dialogue.lines[0].id, "A")
    dialogue.set_text(dialogue.lines[0].id, "AB")  # merged into the step before
    stack.undo()
    stack.undo()
    stack.redo()
    assert seen == [(True, "Change speaker", False, ""), (True, "Edit text", False, ""),
                    (True, "Edit text", False, ""), (True, "Change speaker", True, "Edit text"),
                    (False, "", True, "Change speaker"), (True, "Change speaker", True, "Edit text")]


def test_a_command_that_fails_is_not_recorded():
    class Failing:
        text = "Fail"

        def redo(self):
            raise RuntimeError("no")

        def undo(self):
            pass

        def merge(self, newer):
            return False

    stack = UndoStack()
    with pytest.raises(RuntimeError):
        stack.push(Failing())
    assert not stack.can_undo and not stack.can_redo


# --- modified, revision, listeners ------------------------------------------------------------

def test_modified_follows_undo_back_to_the_saved_state(dialogue):
    assert not dialogue.modified
    dialogue.add_line(text="More")
    assert dialogue.modified
    dialogue.undo_stack.undo()
    assert not dialogue.modified
    dialogue.undo_stack.redo()
    dialogue.mark_saved()
    assert not dialogue.modified
    dialogue.undo_stack.undo()
    assert dialogue.modified
    dialogue.mark_unsaved()
    dialogue.undo_stack.redo()
    assert dialogue.modified


def test_listeners_hear_what_changed(dialogue):
    heard = []
    unsubscribe = dialogue.subscribe(heard.append)
    revision = dialogue.revision
    dialogue.set_text(dialogue.lines[0].id, "New")
    dialogue.set_params(GenerationParams(top_k=5))
    dialogue.add_takes([take_of(dialogue.lines)])
    dialogue.set_voice(Speaker.S1, voice())
    dialogue.set_generating([dialogue.lines[0].id])
    dialogue.mark_saved()
    dialogue.undo_stack.undo()
    assert heard == [Change.LINES, Change.PARAMS, Change.TAKES, Change.SPEAKERS, Change.GENERATING,
                     Change.SAVED, Change.SPEAKERS]
    assert dialogue.revision == revision + 5
    unsubscribe()
    dialogue.undo_stack.undo()
    assert len(heard) == 7


# --- line edits in detail -----------------------------------------------------------------------

def test_new_lines_alternate_speakers(dialogue):
    assert dialogue.add_line().speaker is Speaker.S2  # the last line is S1
    assert dialogue.insert_line(0).speaker is Speaker.S1
    assert dialogue.insert_line(2).speaker is Speaker.S2  # after an S1 line
    assert Dialogue().add_line().speaker is Speaker.S1


def test_duplicate_move_and_delete(dialogue):
    a, b, c = dialogue.lines
    copy = dialogue.duplicate_line(a.id)
    assert dialogue.lines == (a, copy, b, c) and copy.id != a.id and copy.text == a.text
    dialogue.move_line(c.id, 0)
    assert dialogue.lines == (c, a, copy, b)
    dialogue.delete_lines([a.id, b.id])
    assert dialogue.lines == (c, copy)


def test_moving_several_lines_is_one_undo_step(dialogue):
    a, b, c = dialogue.lines
    d = dialogue.add_line(text="Four")
    dialogue.move_lines([d.id, a.id], 1)  # kept in their order in the dialogue: a, then d
    assert dialogue.lines == (b, a, d, c)
    assert dialogue.undo_stack.undo_text == "Move lines"
    dialogue.undo_stack.undo()
    assert dialogue.lines == (a, b, c, d)
    assert dialogue.undo_stack.undo_text == "Add line"
    dialogue.undo_stack.redo()
    assert dialogue.lines == (b, a, d, c)
    dialogue.move_lines([b.id, c.id], 2)
    assert dialogue.lines == (a, d, b, c)


@pytest.mark.parametrize("call", [lambda d: d.set_text("nope", "x"), lambda d: d.delete_lines(["nope"]),
                                  lambda d: d.move_line(d.lines[0].id, 3),
                                  lambda d: d.move_lines([d.lines[0].id, d.lines[1].id], 2),
                                  lambda d: d.move_lines([d.lines[0].id, "nope"], 0),
                                  lambda d: d.insert_line(4), lambda d: d.keep_take("nope")])
def test_bad_edits_are_refused_and_change_nothing(dialogue, call):
    before = content(dialogue)
    with pytest.raises(DialogueError):
        call(dialogue)
    assert content(dialogue) == before and not dialogue.undo_stack.can_undo


def test_split_in_the_middle_drops_the_spaces_at_the_cut():
    dialogue = Dialogue([DialogueLine(Speaker.S2, "Hello  there friend")])
    line = dialogue.lines[0]
    new = dialogue.split_line(line.id, 6)
    assert [(l.id, l.text) for l in dialogue.lines] == [(line.id, "Hello"), (new.id, "there friend")]
    assert new.speaker is Speaker.S2


def test_split_at_the_start_adds_an_empty_line_above_and_keeps_the_line():
    dialogue = Dialogue([DialogueLine(Speaker.S1, "  Hello")])
    line = dialogue.lines[0]
    new = dialogue.split_line(line.id, 2)
    assert dialogue.lines == (new, line) and new.text == ""


def test_split_at_the_end_adds_an_empty_line_below():
    dialogue = Dialogue([DialogueLine(Speaker.S1, "Hello ")])
    line = dialogue.lines[0]
    new = dialogue.split_line(line.id, 6)
    assert [(l.id, l.text) for l in dialogue.lines] == [(line.id, "Hello"), (new.id, "")]


def test_split_an_empty_line():
    dialogue = Dialogue([DialogueLine(Speaker.S1, "")])
    dialogue.split_line(dialogue.lines[0].id, 0)
    assert [l.text for l in dialogue.lines] == ["", ""]


@pytest.mark.parametrize("position", [-1, 6, True, 1.5])
def test_split_outside_the_text_is_refused(position):
    dialogue = Dialogue([DialogueLine(Speaker.S1, "Hello")])
    with pytest.raises(DialogueError, match="split"):
        dialogue.split_line(dialogue.lines[0].id, position)


def typed(dialogue, text, cursor=None):
    """Enter ``text`` into the first line, the cursor at its end unless given; the lines after."""
    where = dialogue.enter_text(dialogue.lines[0].id, text, len(text) if cursor is None else cursor)
    return [(line.speaker, line.text) for line in dialogue.lines], where


def test_text_without_tags_is_entered_as_it_is():
    dialogue = Dialogue([DialogueLine(Speaker.S1, "Hi")])
    line = dialogue.lines[0]
    assert typed(dialogue, " Hi  there\n", 3) == ([(Speaker.S1, " Hi  there\n")], (line.id, 3))


def test_a_tag_at_the_start_of_a_line_switches_its_speaker():
    dialogue = Dialogue([DialogueLine(Speaker.S1, "Hello"), DialogueLine(Speaker.S1, "Bye")])
    line = dialogue.lines[0]
    assert typed(dialogue, "[S2]Hello", 4) == ([(Speaker.S2, "Hello"), (Speaker.S1, "Bye")], (line.id, 0))
    assert dialogue.lines[0].id == line.id and dialogue.undo_stack.undo_text == "Change speaker"
    assert typed(dialogue, " [S1] Hello", 5) == ([(Speaker.S1, "Hello"), (Speaker.S1, "Bye")], (line.id, 0))


def test_a_tag_typed_inside_a_line_starts_the_other_speakers_line_at_the_cursor():
    dialogue = Dialogue([DialogueLine(Speaker.S1, "Hi there")])
    line = dialogue.lines[0]
    lines, (where, cursor) = typed(dialogue, "Hi [S2]there", 7)
    assert lines == [(Speaker.S1, "Hi"), (Speaker.S2, "there")]
    assert dialogue.lines[0].id == line.id and (where, cursor) == (dialogue.lines[1].id, 0)
    dialogue.undo_stack.undo()  # one step
    assert [line.text for line in dialogue.lines] == ["Hi there"]


def test_a_tag_typed_at_the_end_opens_an_empty_line_for_that_speaker():
    dialogue = Dialogue([DialogueLine(Speaker.S1, "Hi")])
    lines, (where, cursor) = typed(dialogue, "Hi [S2]")
    assert lines == [(Speaker.S1, "Hi"), (Speaker.S2, "")] and (where, cursor) == (dialogue.lines[1].id, 0)


def test_a_tag_completed_before_the_cursor_is_read_whole():
    dialogue = Dialogue([DialogueLine(Speaker.S1, "S2] yes")])  # "[" typed in front of "S2]"
    lines, (where, cursor) = typed(dialogue, "[S2] yes", 1)
    assert lines == [(Speaker.S2, "yes")] and cursor == 0


def test_a_pasted_script_becomes_one_line_per_turn_in_one_undo_step():
    dialogue = Dialogue([DialogueLine(Speaker.S2, "Intro"), DialogueLine(Speaker.S1, "Outro")])
    pasted = "Intro [S1] Hello there.\n[S2] Hi! (laughs)\n[S1][S2] How are you? "
    lines, (where, cursor) = typed(dialogue, pasted)
    assert lines == [(Speaker.S2, "Intro"), (Speaker.S1, "Hello there."), (Speaker.S2, "Hi! (laughs)"),
                     (Speaker.S2, "How are you?"), (Speaker.S1, "Outro")]
    assert (where, cursor) == (dialogue.lines[3].id, len("How are you?"))
    assert dialogue.undo_stack.undo_text == "Split at speaker tags"
    dialogue.undo_stack.undo()
    assert [line.text for line in dialogue.lines] == ["Intro", "Outro"]


def test_a_script_pasted_into_an_empty_line_fills_it_and_the_text_after_the_cursor_stays_there():
    dialogue = Dialogue([DialogueLine(Speaker.S1, "")])
    line = dialogue.lines[0]
    lines, (where, cursor) = typed(dialogue, "[S2] One. [S1] Two, and three", len("[S2] One. [S1] Two,"))
    assert lines == [(Speaker.S2, "One."), (Speaker.S1, "Two, and three")]
    assert dialogue.lines[0].id == line.id and (where, cursor) == (dialogue.lines[1].id, len("Two,"))


def test_entered_text_with_an_unknown_tag_is_refused_and_changes_nothing():
    dialogue = Dialogue([DialogueLine(Speaker.S1, "Hi")])
    with pytest.raises(InvalidScript, match=r"\[S3\] is not a speaker tag"):
        dialogue.enter_text(dialogue.lines[0].id, "Hi [S1] a [S3]", 14)
    assert [line.text for line in dialogue.lines] == ["Hi"] and not dialogue.undo_stack.can_undo


@pytest.mark.parametrize("text, position, result", [
    ("Barely.", 0, ("(laughs) Barely.", 9)),
    ("Well that", 4, ("Well (laughs) that", 13)),
    ("Well that", 5, ("Well (laughs) that", 14)),
    ("Well", 4, ("Well (laughs)", 13)),
    ("Really?", 6, ("Really (laughs)?", 15)),
    ("", 0, ("(laughs)", 8)),
])
def test_a_cue_goes_in_with_a_space_where_it_would_touch_a_word(text, position, result):
    assert insert_markup(text, position, "(laughs)") == result


def test_merge_joins_with_one_space_and_keeps_the_first_speaker_and_id():
    a, b = DialogueLine(Speaker.S1, "Hello "), DialogueLine(Speaker.S2, " there")
    c = DialogueLine(Speaker.S1, "")
    dialogue = Dialogue([a, b, c])
    merged = dialogue.merge_with_next(a.id)
    assert dialogue.lines == (merged, c)
    assert (merged.id, merged.speaker, merged.text) == (a.id, Speaker.S1, "Hello there")
    assert dialogue.merge_with_next(a.id).text == "Hello there"  # an empty next line adds no space
    with pytest.raises(DialogueError, match="last line"):
        dialogue.merge_with_next(a.id)
    dialogue.undo_stack.undo()
    dialogue.undo_stack.undo()
    assert dialogue.lines == (a, b, c)


def test_split_then_merge_gives_back_the_text(dialogue):
    line = dialogue.lines[0]
    dialogue.split_line(line.id, 6)
    assert dialogue.merge_with_next(line.id) == line


# --- takes and line status ------------------------------------------------------------------

def test_status_transitions(dialogue):
    a, b, c = dialogue.lines
    assert {dialogue.status(l.id) for l in dialogue.lines} == {LineStatus.NOT_GENERATED}
    dialogue.set_generating([a.id, b.id])
    assert dialogue.status(a.id) is LineStatus.GENERATING
    assert dialogue.status(c.id) is LineStatus.NOT_GENERATED
    assert not dialogue.modified and not dialogue.undo_stack.can_undo  # generating is no edit

    dialogue.add_takes([take_of([a, b], line_times={a.id: (0.0, 1.0), b.id: (1.0, 2.5)})])
    dialogue.set_generating([])
    assert [dialogue.status(l.id) for l in dialogue.lines] == [
        LineStatus.GENERATED, LineStatus.GENERATED, LineStatus.NOT_GENERATED]

    dialogue.set_text(a.id, "Hello again.")
    assert dialogue.status(a.id) is LineStatus.OUTDATED
    dialogue.undo_stack.undo()
    assert dialogue.status(a.id) is LineStatus.GENERATED

    dialogue.set_speaker(b.id, Speaker.S1)
    assert dialogue.status(b.id) is LineStatus.OUTDATED
    dialogue.set_speaker(b.id, Speaker.S2)  # changed back by hand: the take fits again
    assert dialogue.status(b.id) is LineStatus.GENERATED

    dialogue.set_text(a.id, "  Hello\nthere. ")  # only spacing changed: the script is the same
    assert dialogue.status(a.id) is LineStatus.GENERATED

    dialogue.move_line(a.id, 2)
    assert dialogue.status(a.id) is LineStatus.GENERATED

    dialogue.delete_take(dialogue.takes[0].id)
    assert dialogue.status(a.id) is LineStatus.NOT_GENERATED


def test_split_and_duplicate_lines_need_generating(dialogue):
    line = dialogue.lines[0]
    dialogue.add_takes([take_of(dialogue.lines)])
    copy = dialogue.duplicate_line(line.id)
    new = dialogue.split_line(line.id, 6)
    assert dialogue.status(copy.id) is LineStatus.NOT_GENERATED
    assert dialogue.status(new.id) is LineStatus.NOT_GENERATED
    assert dialogue.status(line.id) is LineStatus.OUTDATED


def test_a_new_take_is_kept_only_for_the_lines_without_one_or_made_again(dialogue):
    a, b, c = dialogue.lines
    for seed in (1, 2, 3):  # line 2 made three times: the first take is kept, the others wait
        dialogue.add_takes([take_of([b], seed=seed)])
    first, _, third = dialogue.takes
    assert dialogue.take_for(b.id) is first
    dialogue.keep_take(third.id)
    assert dialogue.take_for(b.id) is third and dialogue.undo_stack.undo_text == "Keep take"

    whole = take_of(dialogue.lines, seed=4)
    dialogue.add_takes([whole])  # the whole dialogue (F5): line 2 keeps the take chosen for it
    assert [dialogue.take_for(line.id) for line in (a, b, c)] == [whole, third, whole]
    assert dialogue.lines_kept_by(whole.id) == (a.id, c.id) and dialogue.lines_kept_by(third.id) == (b.id,)

    again, variation = take_of([b, c], seed=5), take_of([b, c], seed=6)
    dialogue.add_takes([again, variation], regenerated=[b.id, c.id])  # lines 2 and 3 made again
    assert [dialogue.take_for(line.id) for line in (a, b, c)] == [whole, again, again]
    dialogue.undo_stack.undo()
    assert [dialogue.take_for(line.id) for line in (a, b, c)] == [whole, third, whole]


def test_a_new_take_is_kept_for_a_line_changed_since_its_take(dialogue):
    a, b, c = dialogue.lines
    first = take_of(dialogue.lines, seed=1)
    dialogue.add_takes([first])
    dialogue.set_text(b.id, "Hi again!")
    assert dialogue.status(b.id) is LineStatus.OUTDATED
    stale = take_of(dialogue.lines[:1] + (b,), seed=2)  # made from line 2 as it read before
    dialogue.add_takes([stale])
    assert dialogue.take_for(b.id) is first
    fresh, variation = take_of(dialogue.lines, seed=3), take_of(dialogue.lines, seed=4)
    dialogue.add_takes([fresh, variation])  # the whole dialogue again: only line 2 needed it
    assert [dialogue.take_for(line.id) for line in dialogue.lines] == [first, fresh, first]
    assert dialogue.status(b.id) is LineStatus.GENERATED


def test_a_take_is_kept_for_chosen_lines_it_speaks(dialogue):
    a, b, c = dialogue.lines
    old, new = take_of([a, b], seed=1), take_of([a, b], seed=2)
    dialogue.add_takes([old, new])
    assert dialogue.take_for(a.id) is old and dialogue.take_for(b.id) is old
    dialogue.keep_take(new.id, [b.id])
    assert dialogue.take_for(a.id) is old and dialogue.take_for(b.id) is new
    with pytest.raises(DialogueError, match="does not speak line 3"):
        dialogue.keep_take(new.id, [c.id])
    assert dialogue.take_for(c.id) is None and dialogue.status(c.id) is LineStatus.NOT_GENERATED


def test_a_line_keeps_its_take_through_edits_and_is_outdated_when_changed(dialogue):
    a = dialogue.lines[0]
    old, newer = take_of([a], seed=1), take_of([a], seed=2)
    dialogue.add_takes([old, newer])
    dialogue.set_text(a.id, "Edited.")
    dialogue.add_takes([take_of(dialogue.lines[1:], seed=3)])  # a take without line a
    assert dialogue.take_for(a.id) is old and dialogue.status(a.id) is LineStatus.OUTDATED


def test_deleting_a_kept_take_gives_its_lines_the_newest_other_take(dialogue):
    a, b, _ = dialogue.lines
    older, newer, chosen = take_of([a, b], seed=1), take_of([a], seed=2), take_of([a, b], seed=3)
    dialogue.add_takes([older])
    dialogue.add_takes([newer, chosen])
    dialogue.keep_take(chosen.id)
    dialogue.delete_take(chosen.id)
    assert dialogue.take_for(a.id) is newer and dialogue.take_for(b.id) is older
    dialogue.undo_stack.undo()
    assert dialogue.take_for(a.id) is chosen and dialogue.take_for(b.id) is chosen
    dialogue.delete_take(older.id)
    dialogue.delete_take(newer.id)
    dialogue.delete_take(chosen.id)
    assert dialogue.takes == () and dialogue.kept_takes == {}
    with pytest.raises(DialogueError, match="already has a take"):
        dialogue.add_takes([newer, newer])


def test_several_lines_keep_takes_of_their_own_in_one_undo_step(dialogue):
    a, b, c = dialogue.lines
    first, second = take_of([a, b, c], seed=1), take_of([a, b, c], seed=2)
    dialogue.add_takes([first, second])
    dialogue.keep_takes({a.id: second.id, c.id: second.id}, "Keep the best takes")
    assert [dialogue.take_for(line.id) for line in (a, b, c)] == [second, first, second]
    assert dialogue.undo_stack.undo_text == "Keep the best takes"
    dialogue.undo_stack.undo()
    assert [dialogue.take_for(line.id) for line in (a, b, c)] == [first] * 3
    only_a = take_of([a], seed=3)
    dialogue.add_takes([only_a])
    with pytest.raises(DialogueError, match="does not speak line 2"):
        dialogue.keep_takes({b.id: only_a.id})


def test_checks_arrive_beside_the_edits_not_as_one(dialogue):
    take = take_of(dialogue.lines)
    dialogue.add_takes([take])
    changes = []
    dialogue.subscribe(changes.append)
    checked = CheckedTake("v1", TakeReport(()))
    dialogue.set_checks(take.id, checked)
    assert dialogue.checks == {take.id: checked} and changes == [Change.CHECKS]
    assert dialogue.undo_stack.undo_text == "Add take"


def test_a_document_given_takes_keeps_the_newest_for_lines_without_a_kept_one():
    a, b = DialogueLine(Speaker.S1, "Hi"), DialogueLine(Speaker.S2, "Yes")
    old, new = take_of([a, b], seed=1), take_of([a, b], seed=2)
    dialogue = Dialogue([a, b], takes=[old, new], kept_takes={a.id: old.id, "a deleted line": old.id})
    assert dialogue.kept_takes == {a.id: old.id, b.id: new.id}


def test_take_records_how_it_was_made(dialogue):
    take = take_of(dialogue.lines[:2], seed=42, words=[TimedWord("Hello", 0, 0.5)])
    assert take.seed == 42 and take.params.seed == 42
    assert take.script == "[S1] Hello there. [S2] Hi! (laughs)"
    assert take.duration_s == pytest.approx(0.1) and take.words[0].end_s == 0.5
    assert take.words == (TimedWord("Hello", 0.0, 0.5),)
    assert take.created.tzinfo is not None


@pytest.mark.parametrize("make, message", [
    (lambda lines: Take(GenerationParams(), clip(), lines), "seed"),
    (lambda lines: take_of(lines, line_times={"other": (0, 1)}), "not made from"),
    (lambda lines: take_of(lines, line_times={lines[0].id: (2, 1)}), "start not after the end"),
    (lambda lines: take_of(lines, line_times={lines[0].id: 3}), "expected"),
    (lambda lines: take_of(lines, words=[("a", -1, 0)]), "Word 1"),
    (lambda lines: take_of(lines, words=[("a", 0)]), "Word 1"),
    (lambda lines: take_of(lines, created=datetime(2025, 1, 1)), "time zone"),
])
def test_take_refuses_inconsistent_data(dialogue, make, message):
    with pytest.raises(DialogueError, match=message):
        make(dialogue.lines)


def test_dialogue_refuses_inconsistent_content():
    line = DialogueLine(Speaker.S1, "Hi")
    with pytest.raises(DialogueError, match="same id"):
        Dialogue([line, line])
    with pytest.raises(DialogueError, match="kept for line .* not one of the dialogue's takes"):
        Dialogue([line], kept_takes={line.id: "missing"})
    other = take_of([DialogueLine(Speaker.S2, "Yes")])
    with pytest.raises(DialogueError, match="which it does not speak"):
        Dialogue([line], takes=[other], kept_takes={line.id: other.id})
    with pytest.raises(DialogueError, match="S1 and S2"):
        Dialogue([line], speakers={Speaker.S1: SpeakerProfile("A", "#000000")})


# --- audio clips --------------------------------------------------------------------------

def test_audio_clip_keeps_a_private_read_only_copy():
    samples = np.linspace(-1, 1, 480, dtype=np.float64)
    audio = AudioClip.from_samples(samples, RATE)
    samples[:] = 0
    held = audio.samples()
    assert held.dtype == np.float32 and held[0] == -1 and not held.flags.writeable
    assert audio.frame_count == 480 and audio.duration_s == pytest.approx(0.02)


def test_audio_clip_must_be_mono_with_a_rate():
    with pytest.raises(DialogueError, match="mono"):
        AudioClip.from_samples(np.zeros((10, 2)), RATE)
    with pytest.raises(DialogueError, match="sample rate"):
        AudioClip.from_samples(np.zeros(10), 0)
