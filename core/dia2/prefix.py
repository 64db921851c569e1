"""Voice prompts → the prefix Dia2 continues from: codes of the reference audio, and its
words placed on the frames where they are spoken, so the model hears who says what. The lines
spoken just before the ones to generate (a ``SpokenContext``) can follow the voice prompts in it.

The placement rules are the reference runtime's (the model was conditioned on them):
a word starts at ``max(previous end + 1, round(t_start · frame_rate))`` (half to even) and ends
``len(tokens)`` frames later; it holds the text stream until the next word starts (or the last
word's end); the text stream takes it at ``start − 1``, plus 3 for speaker 1 (an old BOS
offset the model learned); speaker 2's frames follow speaker 1's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import torch

from core.dia2.script import SPEAKER_TAGS, Entry, normalize
from core.errors import DiaStudioError

SPEAKER1_STEP_OFFSET = 3


class TimedWordLike(Protocol):
    text: str
    start_s: float
    end_s: float


class InvalidVoicePrompt(DiaStudioError):
    """A voice prompt cannot condition the model (no words, no audio)."""


@dataclass(frozen=True)
class VoicePrompt:
    """One speaker's reference: Mimi codes [codebooks, frames] and the words spoken in it."""

    codes: torch.Tensor
    words: Sequence[TimedWordLike]

    @property
    def frames(self) -> int:
        return int(self.codes.shape[1])


@dataclass(frozen=True)
class Prefix:
    codes: torch.Tensor  # [codebooks, frames], speaker 1's then speaker 2's
    entries: list[Entry]
    new_word_steps: list[int]  # warm-up steps whose action is forced to "new word"
    parts: tuple[int, ...] = ()  # where each part (the voices, the lines before) ends, in entries; () = one

    @property
    def frames(self) -> int:
        return int(self.codes.shape[1])

    @property
    def part_ends(self) -> tuple[int, ...]:
        return self.parts or (len(self.entries),)

    def followed_by(self, other: Prefix) -> Prefix:
        """This prefix, then ``other`` (its steps counted from its own start)."""
        return Prefix(codes=torch.cat([self.codes, other.codes.to(self.codes.dtype)], dim=1),
                      entries=self.entries + other.entries,
                      new_word_steps=self.new_word_steps + [step + self.frames for step in other.new_word_steps],
                      parts=self.part_ends + tuple(len(self.entries) + end for end in other.part_ends))


@dataclass(frozen=True)
class SpokenContext:
    """The lines said just before the ones to generate, from their kept takes: the new lines carry
    on from them (the same voices, the same conversation), and their audio is not in the new take."""

    codes: torch.Tensor  # [codebooks, frames] Mimi codes of their audio
    script: str  # what they say: "[S1] … [S2] …"
    word_starts: tuple[float, ...]  # seconds from the context's start: one per word of the script

    @property
    def frames(self) -> int:
        return int(self.codes.shape[1])


def build_prefix(prompts: Sequence[VoicePrompt], encode: Callable[[str], list[int]],
                 frame_rate: float) -> Prefix:
    if not 1 <= len(prompts) <= len(SPEAKER_TAGS):
        raise InvalidVoicePrompt(f"Give one or two voice references, not {len(prompts)}.")
    entries: list[Entry] = []
    steps: list[int] = []
    offset = 0
    for index, prompt in enumerate(prompts):
        if prompt.frames == 0:
            raise InvalidVoicePrompt(f"The voice reference of {SPEAKER_TAGS[index]} has no audio.")
        if not prompt.words:
            raise InvalidVoicePrompt(f"The voice reference of {SPEAKER_TAGS[index]} has no transcribed words; "
                                     "type what is said in it.")
        speaker_entries, starts = _place_words(prompt.words, SPEAKER_TAGS[index], encode, frame_rate)
        shift = offset + (SPEAKER1_STEP_OFFSET if index == 0 else 0)
        entries += speaker_entries
        steps += [start - 1 + shift for start in starts]
        offset += prompt.frames
    codes = torch.cat([prompt.codes.to(torch.long) for prompt in prompts], dim=1)
    return Prefix(codes=codes, entries=entries, new_word_steps=steps)


def _place_words(words: Sequence[TimedWordLike], tag: str, encode: Callable[[str], list[int]],
                 frame_rate: float) -> tuple[list[Entry], list[int]]:
    texts = [normalize(word.text).strip() for word in words]
    tokens = [encode(f"{tag} {text}" if i == 0 else text) for i, text in enumerate(texts)]
    starts: list[int] = []
    previous_end = 0
    for word, word_tokens in zip(words, tokens):
        start = max(previous_end + 1, round(word.start_s * frame_rate))
        starts.append(start)
        previous_end = start + len(word_tokens)
    entries = []
    for i, (text, word_tokens, start) in enumerate(zip(texts, tokens, starts)):
        end = start + len(word_tokens)
        until = round(words[i + 1].start_s * frame_rate) if i + 1 < len(words) else round(words[i].end_s * frame_rate)
        entries.append(Entry(text, tuple(word_tokens), max(end + 1, until) - start - 1))
    return entries, starts
