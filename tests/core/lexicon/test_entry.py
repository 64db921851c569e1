import dataclasses

import pytest

from core.errors import DiaStudioError
from core.lexicon.entry import MAX_LENGTH, LexiconEntry
from core.lexicon.errors import InvalidLexiconEntry
from core.lexicon.lexicon import Lexicon


def test_an_entry_keeps_its_words_with_runs_of_spaces_made_one():
    entry = LexiconEntry("  New \t York ", "Noo  Yawk", note="the city")
    assert (entry.written, entry.spoken, entry.case_sensitive, entry.note) == \
        ("New York", "Noo Yawk", False, "the city")
    assert entry.words == ("New", "York")
    with pytest.raises(dataclasses.FrozenInstanceError):
        entry.spoken = "York"


@pytest.mark.parametrize("written, spoken, message", [
    ("", "Win", "needs its written word; it is empty"),
    ("   ", "Win", "needs its written word; it is empty"),
    ("Nguyen", "", 'The entry for "Nguyen" needs its respelling'),
    ("Nguyen", " \t", 'The entry for "Nguyen" needs its respelling'),
    ("New\nYork", "Noo Yawk", 'The written word "New York" holds a line break'),
    ("Nguyen", "Win\r\n", 'The respelling "Win" of "Nguyen" holds a line break'),
    ("[S1] Bob", "Rob", 'The written word "[S1] Bob" holds the speaker tag [S1]'),
    ("Bob", "Rob [S2]", 'The respelling "Rob [S2]" of "Bob" holds the speaker tag [S2]'),
    ("Bob [S3]", "Rob", "holds the speaker tag [S3]"),
    ('Bob <break time="1s"/>', "Rob", 'holds "<" or ">", which belong to pause tags'),
    ("Bob", "Rob >", 'The respelling "Rob >" of "Bob" holds "<" or ">"'),
    ("x" * (MAX_LENGTH + 1), "ex", f"is {MAX_LENGTH + 1} characters long; an entry holds at most {MAX_LENGTH}"),
    ("ex", "x" * (MAX_LENGTH + 1), f"is {MAX_LENGTH + 1} characters long"),
    ("he (laughs)", "he laughs", "holds the cue (laughs); cues are never respelled"),
    ("...", "dot dot dot", 'The written word "..." has no letter or digit'),
    (3, "three", "The written word must be text, not 3."),
    ("three", None, 'The respelling of "three" must be text, not None.'),
])
def test_an_entry_that_cannot_be_is_refused_with_what_is_wrong(written, spoken, message):
    with pytest.raises(InvalidLexiconEntry) as refused:
        LexiconEntry(written, spoken)
    assert message in str(refused.value)
    assert isinstance(refused.value, DiaStudioError)


def test_the_case_flag_and_the_note_are_checked():
    with pytest.raises(InvalidLexiconEntry, match='Whether "SQL" is case-sensitive must be true or false'):
        LexiconEntry("SQL", "sequel", case_sensitive="yes")
    with pytest.raises(InvalidLexiconEntry, match='The note on "SQL" must be text'):
        LexiconEntry("SQL", "sequel", note=None)
    with pytest.raises(InvalidLexiconEntry, match='The note on "SQL" is 1001 characters long'):
        LexiconEntry("SQL", "sequel", note="n" * 1001)
    assert LexiconEntry("SQL", "sequel", note="a note\nover two lines").note == "a note\nover two lines"


def test_the_longest_allowed_entry_is_accepted():
    assert len(LexiconEntry("x" * MAX_LENGTH, "y" * MAX_LENGTH).written) == MAX_LENGTH


def test_two_entries_for_the_same_words_are_refused_case_apart_unless_both_are_case_sensitive():
    with pytest.raises(InvalidLexiconEntry, match='"nguyen" is in the lexicon twice \\(also as "Nguyen"\\)'):
        Lexicon((LexiconEntry("Nguyen", "Win"), LexiconEntry("nguyen", "Nwin")))
    with pytest.raises(InvalidLexiconEntry, match="twice"):
        Lexicon((LexiconEntry("SQL", "sequel", case_sensitive=True), LexiconEntry("sql", "S Q L")))
    with pytest.raises(InvalidLexiconEntry, match="twice"):  # the same words, however spaced or quoted
        Lexicon((LexiconEntry("New  York", "Noo Yawk"), LexiconEntry("new york", "NY")))
    both_cased = Lexicon((LexiconEntry("SQL", "sequel", case_sensitive=True),
                          LexiconEntry("Sql", "squall", case_sensitive=True)))
    assert len(both_cased.entries) == 2


def test_a_lexicon_holds_only_entries():
    with pytest.raises(InvalidLexiconEntry, match="A lexicon holds entries, not 'Nguyen'"):
        Lexicon(("Nguyen",))
    assert Lexicon([LexiconEntry("Nguyen", "Win")]).entries == (LexiconEntry("Nguyen", "Win"),)


def test_merged_the_projects_entries_win_over_the_shared_lexicons():
    project = Lexicon((LexiconEntry("Nguyen", "Nwen"), LexiconEntry("SQL", "S Q L", case_sensitive=True)))
    shared = Lexicon((LexiconEntry("NGUYEN", "Win"), LexiconEntry("sql", "sequel"), LexiconEntry("Dia", "Dee-a")))
    merged = Lexicon.merged(project, shared)
    assert merged.entries == project.entries + (LexiconEntry("Dia", "Dee-a"),)


def test_merged_keeps_a_shared_entry_the_project_spells_with_other_case_when_both_are_case_sensitive():
    project = Lexicon((LexiconEntry("US", "you ess", case_sensitive=True),))
    shared = Lexicon((LexiconEntry("Us", "uss", case_sensitive=True), LexiconEntry("US", "U.S.", case_sensitive=True)))
    assert Lexicon.merged(project, shared).entries == project.entries + shared.entries[:1]
