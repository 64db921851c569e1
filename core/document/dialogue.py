"""The undoable document: ordered lines, two speaker profiles, the generation settings, the takes
and the project's pronunciation lexicon; every edit one undo step."""

from __future__ import annotations

from dataclasses import fields, replace
from types import MappingProxyType
from typing import Callable, Iterable, Mapping

from core.dia2.script import TAG_LIKE
from core.document.content import CHANGE_OF_FIELD, Change, Content, ContentChange, LineStatus, check_content
from core.document.errors import DialogueError
from core.document.lines import DialogueLine, split_turns
from core.document.script_text import build_script, parse_script
from core.document.speakers import DEFAULT_SPEAKERS, Speaker, SpeakerProfile, VoiceReference
from core.document.takes import Take
from core.lexicon.lexicon import Lexicon
from core.lexicon.respelling import Respelling, respell
from core.params import GenerationParams
from core.take_checks.verdicts import CheckedTake
from core.undo import UndoStack


Listener = Callable[[Change], None]
_RESPELLINGS_KEPT = 4096  # lines' texts whose respelling is kept (typing makes a new text each key)


class Dialogue:
    """The document: ordered lines, two speaker profiles, the generation settings, the takes and
    the project's lexicon.

    Every edit method is one undo step on :attr:`undo_stack` and calls the listeners given to
    :meth:`subscribe`. Lines, profiles and takes are immutable values: read them freely.

    Lines go to the model respelled by the lexicon in use (the project's entries over the shared
    lexicon's, which the studio gives with :meth:`use_shared_lexicon`); a take speaks its line as
    written only while the model would read the line as it read it then.
    """

    def __init__(self, lines: Iterable[DialogueLine] = (),
                 speakers: Mapping[Speaker, SpeakerProfile] = DEFAULT_SPEAKERS,
                 params: GenerationParams | None = None, takes: Iterable[Take] = (),
                 kept_takes: Mapping[str, str] = MappingProxyType({}),
                 checks: Mapping[str, CheckedTake] = MappingProxyType({}),
                 lexicon: Lexicon = Lexicon(), left_out: Iterable[str] = ()):
        """``kept_takes`` maps line ids to the take kept for each; a line that a take speaks but
        that has none there gets the newest take that speaks it. ``checks``: the takes' checks, by
        take id. ``lexicon``: the project's own. ``left_out``: what opening the project could not
        read and left out (damaged lexicon entries), for the window to say."""
        lines, takes = tuple(lines), tuple(takes)
        line_ids = {line.id for line in lines}
        kept = _kept_filled(lines, takes, {line_id: take_id for line_id, take_id in dict(kept_takes).items()
                                           if line_id in line_ids})
        content = Content(lines, MappingProxyType(dict(speakers)), params or GenerationParams(), takes, kept, lexicon)
        check_content(content)
        self._content = content
        self._saved_content: Content | None = content
        self._generating: frozenset[str] = frozenset()
        self._checks = dict(checks)
        self._shared_lexicon = Lexicon()
        # The merged lexicon and the respellings made with it, by a line's text: one value, swapped
        # whole, so a thread reading it (an export) never mixes one lexicon's with another's.
        self._reading: tuple[Lexicon, dict[str, Respelling]] | None = None
        self._listeners: list[Listener] = []
        self.left_out = tuple(left_out)
        self.revision = 0  # counts every change, undo and redo included
        self.undo_stack = UndoStack()

    @classmethod
    def from_script(cls, script: str) -> Dialogue:
        """A new document with the lines of a ``[S1] ... [S2] ...`` script."""
        return cls(parse_script(script))

    # --- reading -------------------------------------------------------------------------

    @property
    def lines(self) -> tuple[DialogueLine, ...]:
        return self._content.lines

    @property
    def speakers(self) -> Mapping[Speaker, SpeakerProfile]:
        return self._content.speakers

    @property
    def params(self) -> GenerationParams:
        return self._content.params

    @property
    def takes(self) -> tuple[Take, ...]:
        return self._content.takes

    @property
    def kept_takes(self) -> Mapping[str, str]:
        """Line id -> the id of the take kept for that line: the one that speaks it."""
        return self._content.kept_takes

    def lines_kept_by(self, take_id: str) -> tuple[str, ...]:
        """The ids of the lines this take is kept for, in dialogue order."""
        return tuple(line.id for line in self.lines if self.kept_takes.get(line.id) == take_id)

    def line(self, line_id: str) -> DialogueLine:
        return self.lines[self.index_of(line_id)]

    def index_of(self, line_id: str) -> int:
        for index, line in enumerate(self.lines):
            if line.id == line_id:
                return index
        raise DialogueError(f"The dialogue has no line {line_id!r}.")

    def take(self, take_id: str) -> Take:
        for take in self.takes:
            if take.id == take_id:
                return take
        raise DialogueError(f"The dialogue has no take {take_id!r}.")

    def take_for(self, line_id: str) -> Take | None:
        """The take that speaks this line: the one kept for it (None while no take has it)."""
        take_id = self.kept_takes.get(line_id)
        return self.take(take_id) if take_id is not None else None

    def status(self, line_id: str) -> LineStatus:
        line = self.line(line_id)
        if line_id in self._generating:
            return LineStatus.GENERATING
        take = self.take_for(line_id)
        if take is None:
            return LineStatus.NOT_GENERATED
        return LineStatus.GENERATED if self.speaks_as_written(take, line) else LineStatus.OUTDATED

    def speaks_as_written(self, take: Take, line: DialogueLine) -> bool:
        """Whether the take was made from the line as it reads now, and the model read it as it
        would read it now (the lexicon in use may have changed how)."""
        return speaks_as_written(take, line, self.respelling(line).spoken)

    def to_script(self, lines: Iterable[DialogueLine] | None = None) -> str:
        """The Dia2 script of all lines, or of the given ones (e.g. the selected lines)."""
        return build_script(self.lines if lines is None else lines)

    # --- the lexicon ---------------------------------------------------------------------------

    @property
    def lexicon(self) -> Lexicon:
        """The project's own lexicon."""
        return self._content.lexicon

    @property
    def shared_lexicon(self) -> Lexicon:
        return self._shared_lexicon

    @property
    def lexicon_in_use(self) -> Lexicon:
        """What lines are respelled with: the project's entries, then the shared lexicon's for
        words the project has no entry for."""
        return self._reading_now()[0]

    def respelling(self, line: DialogueLine) -> Respelling:
        """The line's text (``spoken_text``) as the model reads it with the lexicon in use."""
        lexicon, made = self._reading_now()
        text = line.spoken_text
        found = made.get(text)
        if found is None:
            if len(made) >= _RESPELLINGS_KEPT:  # every text a line had while typed: start again
                made.clear()
            found = made[text] = respell(text, lexicon)
        return found

    def _reading_now(self) -> tuple[Lexicon, dict[str, Respelling]]:
        reading = self._reading
        if reading is None:
            reading = self._reading = (Lexicon.merged(self.lexicon, self._shared_lexicon), {})
        return reading

    def set_lexicon(self, lexicon: Lexicon, description: str = "Edit lexicon") -> None:
        """The project's lexicon becomes ``lexicon`` (one undo step, ``description`` naming it)."""
        if not isinstance(lexicon, Lexicon):
            raise DialogueError(f"A project's lexicon is a Lexicon, not {type(lexicon).__name__}.")
        self._edit(description, lexicon=lexicon)

    def use_shared_lexicon(self, lexicon: Lexicon) -> None:
        """The studio's shared lexicon, as it is now (read at start, or another document shown).
        Not an edit of the document: not undone, not saved with it."""
        if lexicon != self._shared_lexicon:
            self._shared_lexicon = lexicon
            self._lexicon_changed()
            self._notify(Change.LEXICON | Change.TAKES)

    def set_shared_lexicon(self, lexicon: Lexicon, description: str = "Edit shared lexicon") -> None:
        """An edit of the shared lexicon made in this document's window: one step of its undo
        stack (the studio writes the shared lexicon's file when it changes), though not a change
        to save with the project."""
        if lexicon != self._shared_lexicon:
            self.undo_stack.push(SharedLexiconChange(self, description, self._shared_lexicon, lexicon))

    def _lexicon_changed(self) -> None:
        self._reading = None

    # --- unsaved changes, generating, listeners -------------------------------------------

    @property
    def modified(self) -> bool:
        """True when the content differs from what was last saved (undoing back to it counts)."""
        return self._content is not self._saved_content

    def mark_saved(self) -> None:
        self._saved_content = self._content
        self._notify(Change.SAVED)

    def mark_unsaved(self) -> None:
        """Treat the content as never saved, e.g. a document recovered after a crash."""
        self._saved_content = None
        self._notify(Change.SAVED)

    @property
    def generating(self) -> frozenset[str]:
        return self._generating

    def set_generating(self, line_ids: Iterable[str]) -> None:
        """Mark the lines being generated now (empty to clear). Not an edit: not undone, not saved."""
        self._generating = frozenset(line_ids)
        self._notify(Change.GENERATING)

    @property
    def checks(self) -> Mapping[str, CheckedTake]:
        """The takes' checks, by take id (a deleted take's stay, for its undo)."""
        return MappingProxyType(self._checks)

    def set_checks(self, take_id: str, checked: CheckedTake) -> None:
        """A take's checks, made off the GUI thread. Not an edit: not undone; saved with the project."""
        self._checks[take_id] = checked
        self._notify(Change.CHECKS)

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener(change)`` after every change; returns a function that unsubscribes."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def _notify(self, change: Change) -> None:
        for listener in list(self._listeners):
            listener(change)

    def _show(self, content: Content) -> None:
        """Make ``content`` current; only the undo commands call this."""
        before, self._content = self._content, content
        self.revision += 1
        if before.lexicon != content.lexicon:
            self._lexicon_changed()
        change = Change(0)
        for name, flag in CHANGE_OF_FIELD.items():
            if getattr(before, name) != getattr(content, name):
                change |= flag
        self._notify(change)

    def _edit(self, description: str, merge_key: object = None, **changes) -> None:
        after = replace(self._content, **changes)
        if after != self._content:
            self.undo_stack.push(ContentChange(self._show, description, self._content, after, merge_key))

    # --- editing lines ---------------------------------------------------------------------

    def insert_line(self, index: int, speaker: Speaker | None = None, text: str = "") -> DialogueLine:
        """A new line at ``index``; by default spoken by the other speaker than the line before."""
        lines = self.lines
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index <= len(lines):
            raise DialogueError(f"Cannot insert a line at position {index!r}; "
                                f"the dialogue has {len(lines)} lines.")
        if speaker is None:
            speaker = lines[index - 1].speaker.other if index else Speaker.S1
        line = DialogueLine(speaker, text)
        self._edit("Add line", lines=lines[:index] + (line,) + lines[index:])
        return line

    def add_line(self, speaker: Speaker | None = None, text: str = "") -> DialogueLine:
        """A new last line; by default the other speaker than the current last line."""
        return self.insert_line(len(self.lines), speaker, text)

    def duplicate_line(self, line_id: str) -> DialogueLine:
        """A copy of the line (with a new id) right below it."""
        index = self.index_of(line_id)
        original = self.lines[index]
        copy = DialogueLine(original.speaker, original.text)
        self._edit("Duplicate line", lines=self.lines[:index + 1] + (copy,) + self.lines[index + 1:])
        return copy

    def delete_lines(self, line_ids: Iterable[str]) -> None:
        """Delete these lines in one undo step (e.g. the selection)."""
        doomed = set(line_ids)
        for line_id in doomed:
            self.index_of(line_id)
        self._edit("Delete line" if len(doomed) == 1 else "Delete lines",
                   lines=tuple(line for line in self.lines if line.id not in doomed))

    def delete_line(self, line_id: str) -> None:
        self.delete_lines([line_id])

    def move_line(self, line_id: str, index: int) -> None:
        """Move the line so that it ends up at position ``index``."""
        self.move_lines([line_id], index)

    def move_lines(self, line_ids: Iterable[str], index: int) -> None:
        """Move these lines in one undo step (e.g. the selection, dragged): kept in the order they
        have in the dialogue, they end up together, the first of them at position ``index``."""
        moving = set(line_ids)
        for line_id in moving:
            self.index_of(line_id)
        block = tuple(line for line in self.lines if line.id in moving)
        rest = tuple(line for line in self.lines if line.id not in moving)
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index <= len(rest):
            what = "a line" if len(block) == 1 else f"{len(block)} lines"
            raise DialogueError(f"Cannot move {what} to position {index!r}; "
                                f"the dialogue has {len(self.lines)} lines.")
        self._edit("Move line" if len(block) == 1 else "Move lines", lines=rest[:index] + block + rest[index:])

    def set_text(self, line_id: str, text: str) -> None:
        """Change the line's text; consecutive calls for the same line are one undo step."""
        self._replace_line("Edit text", line_id, ("text", line_id), text=text)

    def enter_text(self, line_id: str, text: str, cursor: int) -> tuple[str, int]:
        """Change the line's text as typed or pasted there, the text cursor at ``cursor``.

        Text without speaker tags is :meth:`set_text`. A tag starts a new line spoken by that
        speaker with the text after it, as in a script (a tag at the very start switches the
        line's own speaker), all in one undo step. Returns where the cursor is afterwards: the
        line and the position in its text.
        """
        for tag in TAG_LIKE.finditer(text):  # "[" typed before "S2]": the cursor is after the whole tag
            if tag.start() < cursor < tag.end():
                cursor = tag.end()
        head, before = split_turns(text[:cursor])
        tail, after = split_turns(text[cursor:])
        if not before and not after:
            # A space typed at the very start separates nothing ("[S2] Very loud" typed into a line:
            # the tag goes, and the space after it would have stayed in front of the words).
            leading = len(text) - len(text.lstrip())
            if cursor <= leading:
                text, cursor = text[leading:], 0
            self.set_text(line_id, text)
            return line_id, cursor
        index = self.index_of(line_id)
        line = self.lines[index]
        pieces = [(line.speaker, head), *before]  # the cursor is in the last of these
        at = len(pieces) - 1
        speaker, start = pieces[at]
        pieces[at] = (speaker, start + tail)
        pieces += after
        kept, cursor_at = [], None
        for number, (speaker, piece) in enumerate(pieces):
            # Spaces at a tag go, as at a split; the head keeps the spaces it starts with.
            trimmed = piece.strip() if number else piece.rstrip()
            if number == at:
                cut = len(piece) - len(piece.lstrip()) if number else 0
                cursor_at, cursor = len(kept), min(max(0, len(start) - cut), len(trimmed))
            elif not trimmed:
                continue  # an empty turn, e.g. "[S1][S2] Hi": only the cursor's line may be empty
            kept.append((speaker, trimmed))
        # The first piece kept stays the line itself (its id, so its takes still know it).
        replacement = tuple(replace(line, speaker=speaker, text=words) if number == 0 else DialogueLine(speaker, words)
                            for number, (speaker, words) in enumerate(kept))
        self._edit("Change speaker" if len(kept) == 1 else "Split at speaker tags",
                   lines=self.lines[:index] + replacement + self.lines[index + 1:])
        return replacement[cursor_at].id, cursor

    def set_speaker(self, line_id: str, speaker: Speaker) -> None:
        self._replace_line("Change speaker", line_id, None, speaker=speaker)

    def _replace_line(self, description: str, line_id: str, merge_key: object, **changes) -> None:
        index = self.index_of(line_id)
        lines = self.lines
        self._edit(description, merge_key,
                   lines=lines[:index] + (replace(lines[index], **changes),) + lines[index + 1:])

    def split_line(self, line_id: str, position: int) -> DialogueLine:
        """Split the line's text at character ``position``, like pressing Enter there.

        The line keeps its id and the text before the position; a new line of the same speaker
        gets the rest and is returned. Spaces at the cut are dropped. At the very start (nothing
        but spaces before the position) the new line is an empty one above, and the line itself
        stays untouched.
        """
        index = self.index_of(line_id)
        line = self.lines[index]
        if isinstance(position, bool) or not isinstance(position, int) or not 0 <= position <= len(line.text):
            raise DialogueError(f"Cannot split a line of {len(line.text)} characters "
                                f"at position {position!r}.")
        head, tail = line.text[:position].rstrip(), line.text[position:].lstrip()
        if head:
            new_line = DialogueLine(line.speaker, tail)
            replacement = (replace(line, text=head), new_line)
        else:
            new_line = DialogueLine(line.speaker, "")
            replacement = (new_line, line)
        self._edit("Split line", lines=self.lines[:index] + replacement + self.lines[index + 1:])
        return new_line

    def merge_with_next(self, line_id: str) -> DialogueLine:
        """Append the next line's text to this line (one space between) and delete the next line."""
        index = self.index_of(line_id)
        if index + 1 == len(self.lines):
            raise DialogueError("The last line has no next line to merge with.")
        first, second = self.lines[index], self.lines[index + 1]
        text = " ".join(part for part in (first.text.rstrip(), second.text.lstrip()) if part)
        merged = replace(first, text=text)
        self._edit("Merge lines", lines=self.lines[:index] + (merged,) + self.lines[index + 2:])
        return merged

    # --- speakers and settings ---------------------------------------------------------------

    def edit_speaker(self, speaker: Speaker, *, name: str | None = None, colour: str | None = None) -> None:
        """Rename or recolour a speaker; consecutive edits of one speaker are one undo step."""
        changes = {key: value for key, value in (("name", name), ("colour", colour)) if value is not None}
        self._replace_speaker("Edit speaker", speaker, ("speaker", speaker), **changes)

    def set_voice(self, speaker: Speaker, voice: VoiceReference) -> None:
        self._replace_speaker("Set voice", speaker, None, voice=voice)

    def clear_voice(self, speaker: Speaker) -> None:
        self._replace_speaker("Clear voice", speaker, None, voice=None)

    def _replace_speaker(self, description: str, speaker: Speaker, merge_key: object, **changes) -> None:
        speakers = dict(self.speakers)
        speakers[speaker] = replace(speakers[speaker], **changes)
        self._edit(description, merge_key, speakers=MappingProxyType(speakers))

    def set_params(self, params: GenerationParams) -> None:
        """New generation settings. Consecutive changes of the same fields (a slider being
        dragged) are one undo step."""
        if not isinstance(params, GenerationParams):
            raise DialogueError(f"Generation settings must be GenerationParams, not {type(params).__name__}.")
        changed = frozenset(f.name for f in fields(params)
                            if getattr(params, f.name) != getattr(self.params, f.name))
        self._edit("Change settings", ("params", changed), params=params)

    # --- takes -------------------------------------------------------------------------------

    def add_takes(self, takes: Iterable[Take], regenerated: Iterable[str] = ()) -> None:
        """Add the takes of one generation in one undo step. Each is kept for the lines it speaks
        that have no take yet, or whose take is outdated (made before the line was changed) where
        it speaks the line as it reads now; the first also for the ``regenerated`` lines it speaks
        (the person asked for them again). Every other line keeps its take: the person chose it."""
        new = tuple(takes)
        if not new:
            return
        known = {take.id for take in self.takes}
        for take in new:
            if take.id in known:
                raise DialogueError(f"The dialogue already has a take {take.id!r}.")
            known.add(take.id)
        kept = dict(self.kept_takes)
        again = set(regenerated)
        takes = {take.id: take for take in self.takes + new}
        for number, take in enumerate(new):
            for line in self.lines:
                if take.source_line(line.id) is None:
                    continue
                current = takes.get(kept.get(line.id))
                if (current is None or (number == 0 and line.id in again)
                        or (not self.speaks_as_written(current, line) and self.speaks_as_written(take, line))):
                    kept[line.id] = take.id
        self._edit("Add take" if len(new) == 1 else "Add takes", takes=self.takes + new,
                   kept_takes=MappingProxyType(kept))

    def keep_take(self, take_id: str, line_ids: Iterable[str] | None = None) -> None:
        """Keep this take for these lines (default: every line of the document it speaks), so
        that it speaks them in the timeline, the whole dialogue and the export."""
        take = self.take(take_id)
        if line_ids is None:
            line_ids = [line.id for line in self.lines if take.source_line(line.id) is not None]
        self.keep_takes({line_id: take_id for line_id in line_ids})

    def keep_takes(self, chosen: Mapping[str, str], description: str = "Keep take") -> None:
        """Keep, for each line id of ``chosen``, the take given for it: one undo step."""
        kept = dict(self.kept_takes)
        for line_id, take_id in chosen.items():
            if self.take(take_id).source_line(line_id) is None:
                row = self.index_of(line_id) + 1
                raise DialogueError(f"This take does not speak line {row}, so it cannot be kept for it.")
            kept[line_id] = take_id
        self._edit(description, kept_takes=MappingProxyType(kept))

    def delete_take(self, take_id: str) -> None:
        """Delete a take; the lines it was kept for get the newest other take that speaks them."""
        self.take(take_id)
        takes = tuple(take for take in self.takes if take.id != take_id)
        kept = {line_id: kept_id for line_id, kept_id in self.kept_takes.items() if kept_id != take_id}
        self._edit("Delete take", takes=takes, kept_takes=_kept_filled(self.lines, takes, kept))


class SharedLexiconChange:
    """The undo command of an edit of the shared lexicon: swap one for the other."""

    def __init__(self, dialogue: Dialogue, description: str, before: Lexicon, after: Lexicon):
        self.text = description
        self._dialogue, self._before, self._after = dialogue, before, after

    def redo(self) -> None:
        self._use(self._after)

    def undo(self) -> None:
        self._use(self._before)

    def merge(self, newer) -> bool:
        return False

    def _use(self, lexicon: Lexicon) -> None:
        self._dialogue.use_shared_lexicon(lexicon)


def speaks_as_written(take: Take, line: DialogueLine, read_as: str | None = None) -> bool:
    """Whether the take was made from the line as it reads now (the same speaker and words) and
    the model read what it would read now: ``read_as``, the line respelled by the lexicon in use
    (``Dialogue.speaks_as_written`` gives it; None: the line as written, no lexicon)."""
    made_from = take.source_line(line.id)
    return (made_from is not None
            and (made_from.speaker, made_from.spoken_text) == (line.speaker, line.spoken_text)
            and take.text_read(line.id) == (line.spoken_text if read_as is None else read_as))


def _kept_filled(lines: Iterable[DialogueLine], takes: tuple[Take, ...],
                 kept: Mapping[str, str]) -> Mapping[str, str]:
    """``kept``, with the newest take that speaks it for each line that a take speaks and ``kept``
    has no take for."""
    filled = dict(kept)
    for line in lines:
        if line.id not in filled:
            newest = next((take for take in reversed(takes) if take.source_line(line.id) is not None), None)
            if newest is not None:
                filled[line.id] = newest.id
    return MappingProxyType(filled)
