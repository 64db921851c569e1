"""A generation request → a stream of events: audio chunks as soon as their frames are
complete, word timings as words are taken, progress, and one finished take per seed.

The script's text may arrive while the take is made (a live take, ``core.dia2.live_take``):
a ``TextFeed`` parses it into entries as it comes, and the loop waits (``Stalled`` events) when
a word is due whose look-ahead has not arrived. A whole script is the special case where all
the text is there, and its end, before the first frame: one code path for both.

Long scripts: one Dia2 context holds ``max_context_steps`` frames (2 minutes). A longer script
is cut into parts that fit, at a speaker turn or a sentence once most of a part's room is used
(decided word by word as the text arrives, so a take fed in pieces is cut where the whole text
is); each part after the first starts from the end of the audio made so far, replayed as a
prefix with its words on the frames where they were spoken, so voices and pacing carry on. The
audio of all parts is one continuous stream.

Selected lines: the request's context (the lines spoken just before them, from their kept takes)
is replayed the same way, after the voice prompts, so the new lines continue the voices and the
conversation; the new take starts with its first new frame.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator

import numpy as np
import torch

from core.dia2.frame_loop import FrameLoop
from core.dia2.prefix import Prefix, SpokenContext, VoicePrompt, build_prefix
from core.dia2.sampling import Sampling
from core.dia2.events import (STALL_REPORT_S, AudioChunk, GenerationBusy, GenerationEvent,
                              GenerationRequest, GenerationStalled, InvalidContext, Progress,
                              Stalled, TakeResult, TakeStarted, WordTiming)
from core.dia2.script import Entry
from core.dia2.state_machine import MAX_PADDING
from core.dia2.text_feed import TextFeed
from core.params import GenerationParams

# How much audio made before is replayed as a prefix (the previous part of a long script, or the
# lines before the selected ones): long enough to carry both voices (20 s), short enough to leave
# most of the context to new speech.
REPLAY_SECONDS = 20.0
REPLAY_SHARE = 0.25
# Voice prompts and the lines before together fill at most this share of the model's context.
PREFIX_SHARE = 0.5
# A rough upper estimate of the frames a word takes, used only to cut long scripts into parts;
# a part that still overflows hands its unspoken words to the next part.
FRAMES_PER_WORD_ESTIMATE = 7
# Once this share of a part's estimated room is used, the part ends where a turn or a sentence
# begins (so the join falls between sentences), or at any word when the room is full.
PART_SHARE_BEFORE_A_CUT = 0.8
SENTENCE_END = re.compile(r"[.!?…][\"')\]”’»]*$")


class PartPlan:
    """Which entries one part of a take says: decided entry by entry, from an upper estimate of
    the frames each takes, so the cut depends only on the text and never on when it arrived."""

    def __init__(self, room: int, speaker_ids: set[int]):
        self.room = room
        self.speaker_ids = speaker_ids
        self.used = 0
        self.entries: list[Entry] = []
        self.closed = False  # later entries belong to the next part

    def admits(self, entry: Entry) -> bool:
        if self.closed:
            return False
        cost = entry.hold + 1 if entry.is_break else max(FRAMES_PER_WORD_ESTIMATE, entry.hold + 1)
        if self.entries and (self.used + cost > self.room
                             or self.used > PART_SHARE_BEFORE_A_CUT * self.room and self._begins_anew(entry)):
            self.closed = True
            return False
        self.entries.append(entry)
        self.used += cost
        return True

    def _begins_anew(self, entry: Entry) -> bool:
        """The entry starts a speaker turn, or follows the end of a sentence."""
        if entry.tokens[:1] and entry.tokens[0] in self.speaker_ids:
            return True
        last_word = next((e for e in reversed(self.entries) if not e.is_break), None)
        return last_word is not None and bool(SENTENCE_END.search(last_word.text))


class TakeRenderer:
    """Renders one take (one seed), part after part, streaming as it goes, with its text read
    from ``feed`` as it arrives."""

    def __init__(self, runtime, params: GenerationParams, voices: tuple[VoicePrompt, ...],
                 context: SpokenContext | None, take: int, seed: int, feed: TextFeed):
        self.runtime = runtime
        self.params = params
        self.voices = voices
        self.context = context
        self.take = take
        self.seed = seed
        self.feed = feed
        self.cancel = feed.cancel
        self.decoder = runtime.codec.streaming_decoder()
        self.chunks: list[np.ndarray] = []
        self.code_frames: list[torch.Tensor] = []
        self.words: list[tuple[str, float]] = []
        self.notices: list[str] = []
        self.frames_out = 0
        self.steps = 0
        self.admitted: list[Entry] = []  # every entry given to a part so far
        self.later: list[Entry] = []  # entries past the current part's end
        self.text_complete = False
        self.stall_began: float | None = None

    @property
    def audio_seconds(self) -> float:
        return self.frames_out / self.runtime.codec.frame_rate

    def run(self) -> Iterator[GenerationEvent]:
        runtime, params = self.runtime, self.params
        generator = runtime.network.generator(self.seed)
        sampling = Sampling.of(params)
        negative = None
        if params.negative_prompt and params.guidance_enabled:
            negative = runtime.parse(params.negative_prompt, force_first_speaker=False)
        started = time.perf_counter()
        prefix, replays_context = self._first_prefix()
        # The voice prompts can be kept only where nothing comes between them and the new lines.
        keep_prefix = params.include_prefix and not replays_context
        if params.include_prefix and replays_context:
            self.notices.append("The voice references are not kept in this take: the lines before "
                                "the selection come between them and the new lines.")
        first_part = True
        carried: list[Entry] = []
        while True:
            loop = FrameLoop(runtime.network, [], sampling, generator, text_bos=runtime.tokenizer.text_bos,
                             prefix=prefix, negative_entries=negative, text_complete=False,
                             skip_discarded=runtime.skip_discarded_work)
            part = PartPlan(self._room(prefix), set(runtime.tokenizer.speaker_ids.values()))
            self._admit(carried, loop, part)
            crop = self._crop(prefix, first_part, keep_prefix, replays_context)
            prefix_words = len(prefix.entries) if prefix else 0
            emitted = crop
            offset = self.audio_seconds
            try:
                while not loop.finished:
                    if self.cancel.is_set():
                        if loop.ready_frames() > emitted:  # what was made is kept
                            yield self._audio(loop.codes(emitted, loop.ready_frames()))
                        yield self._result(complete=False)
                        return
                    self._admit(self._arrived(), loop, part)
                    record = loop.step()
                    if record is None:
                        yield from self._wait_for_text()
                        continue
                    self.stall_began = None
                    self.steps += 1
                    if record.text.consumed is not None and not record.text.consumed.is_break:
                        # A replayed prefix's last step runs again: a word taken there starts the audio.
                        at = offset + max(0, record.t - crop) / runtime.frame_rate
                        yield from self._word(record.text.consumed.text, at)
                    ready = loop.ready_frames()
                    # The first audio goes out at once; then frames are decoded a few at a time
                    # where decoding one costs a frame's worth of kernel launches (a GPU).
                    if ready > emitted and (self.frames_out == 0 or ready - emitted >= runtime.chunk_frames
                                            or loop.finished):
                        yield self._audio(loop.codes(emitted, ready))
                        emitted = ready
                    yield Progress(self.take, self.steps, self.audio_seconds, time.perf_counter() - started)
                if first_part and keep_prefix and prefix is not None:
                    self._insert_prefix_words(loop, prefix_words)
                carried, self.later = self._unspoken(loop, part) + self.later, []
                if not carried and self.text_complete:
                    break
                prefix = self._continuation(loop)
            finally:
                del loop
            first_part = False
        yield self._result(complete=True)

    # ---- text ---------------------------------------------------------------------------------
    def _arrived(self) -> list[Entry]:
        entries, complete = self.feed.take()
        self.text_complete = complete
        return entries

    def _admit(self, entries: list[Entry], loop: FrameLoop, part: PartPlan) -> None:
        """Entries go to the current part until it is full, the rest to the next part; the
        part's text ends once it is full or the script is."""
        for entry in entries:
            if not part.entries and self.admitted:
                entry = self._retag([entry], self.admitted)[0]  # a part that starts inside a turn
            if part.admits(entry):
                loop.add_text([entry])
                self.admitted.append(entry)
            else:
                self.later.append(entry)
        if part.closed or self.text_complete:
            loop.end_text()

    def _wait_for_text(self) -> Iterator[Stalled]:
        if self.stall_began is None:
            self.stall_began = time.perf_counter()
            yield Stalled(self.take, 0.0)
        while not self.feed.wait(STALL_REPORT_S):
            yield Stalled(self.take, time.perf_counter() - self.stall_began)

    @staticmethod
    def _crop(prefix: Prefix | None, first_part: bool, keep_prefix: bool, replays_context: bool) -> int:
        """Frames at the start of a part's codes that are not output."""
        if prefix is None or (first_part and keep_prefix):
            return 0
        if first_part and not replays_context:
            return prefix.frames - 1  # as the reference: one (re-sampled) voice-prompt frame stays
        return prefix.frames  # replayed audio is followed by its first new frame: the join is seamless

    # ---- prefixes -----------------------------------------------------------------------------
    def _first_prefix(self) -> tuple[Prefix | None, bool]:
        """The voice prompts, then the lines before (the context); and whether the context is in."""
        runtime = self.runtime
        voices = (build_prefix(self.voices, runtime.tokenizer.encode, runtime.frame_rate)
                  if self.voices else None)
        if self.context is None:
            return voices, False
        voice_frames = voices.frames if voices else 0
        length = min(self._replay_frames(),
                     int(PREFIX_SHARE * runtime.config.max_context_steps) - voice_frames)
        context = self._context_prefix(self.context, length)
        if context is None:
            return voices, False
        return (voices.followed_by(context) if voices else context), True

    def _replay_frames(self) -> int:
        config = self.runtime.config
        return min(round(REPLAY_SECONDS * self.runtime.frame_rate), int(REPLAY_SHARE * config.max_context_steps))

    def _context_prefix(self, context: SpokenContext, length: int) -> Prefix | None:
        """The last ``length`` frames (at most) of the lines before, with their words where spoken."""
        runtime = self.runtime
        if context.codes.ndim != 2 or context.codes.shape[0] != runtime.codec.num_codebooks:
            raise InvalidContext(f"The audio of the lines before has codes of shape {tuple(context.codes.shape)}; "
                                 f"this model needs {runtime.codec.num_codebooks} codebooks.")
        entries = ([entry for entry in runtime.parse(context.script) if not entry.is_break]
                   if context.word_starts else [])
        if len(entries) != len(context.word_starts):
            raise InvalidContext(f"The lines before have {len(entries)} words but {len(context.word_starts)} "
                                 "word times.")
        if context.frames == 0:
            return None
        if length <= 0:
            self.notices.append("The lines before the selection were left out: the voice references fill "
                                "the room the model's context has for them.")
            return None
        if context.frames > length:
            fr = runtime.frame_rate
            self.notices.append(f"The new lines follow on from the last {length / fr:.0f} s of the "
                                f"{context.frames / fr:.0f} s of lines before them; the rest was cut.")
        # Every word of the context is forced, so none of it is said again in the new take.
        spoken = [(entry, min(round(start * runtime.frame_rate), context.frames - 1))
                  for entry, start in zip(entries, context.word_starts)]
        return self._replay(context.codes.to(torch.long), spoken, length)

    # ---- parts --------------------------------------------------------------------------------
    def _room(self, prefix: Prefix | None) -> int:
        """Frames a part's words may take: the context, less the prefix and the tail after the end."""
        config = self.runtime.config
        return config.max_context_steps - (prefix.frames if prefix else 0) - config.data.max_delay - MAX_PADDING

    def _retag(self, rest: list[Entry], done: list[Entry]) -> list[Entry]:
        """A part that starts inside a turn gets that turn's speaker tag on its first word."""
        if not rest or rest[0].is_break:
            return rest
        tokenizer = self.runtime.tokenizer
        speaker_ids = set(tokenizer.speaker_ids.values())
        if rest[0].tokens[0] in speaker_ids:
            return rest
        tag = next((t for entry in reversed(done) for t in entry.tokens[:1] if t in speaker_ids), None)
        if tag is None:
            return rest
        name = next(n for n, i in tokenizer.speaker_ids.items() if i == tag)
        tokens = tuple(tokenizer.encode(f"{name} {rest[0].text}"))
        return [Entry(rest[0].text, tokens, len(tokens))] + rest[1:]

    def _unspoken(self, loop: FrameLoop, part: PartPlan) -> list[Entry]:
        """Entries the loop never took because the context ran out: they go to the next part."""
        rest = list(loop.machine.entries)
        if part.entries and len(rest) >= len(part.entries):  # entries are taken in order, the prefix's first
            raise GenerationStalled("The model's context filled before it said a word of this part of the "
                                    "script; shorten the voice references or the lines.")
        if rest:
            self.notices.append("The context filled before a part of the script was spoken; "
                                "the rest was continued in the next part.")
        return rest

    def _continuation(self, loop: FrameLoop) -> Prefix:
        """The last frames made, with the words taken in them, as the next part's prefix."""
        frames = loop.ready_frames()
        return self._replay(loop.codes(0, frames), loop.state.consumed, self._replay_frames())

    def _replay(self, codes: torch.Tensor, spoken: list[tuple[Entry, int]], length: int) -> Prefix:
        """The last ``length`` frames (at most) of ``codes`` with the words ``spoken`` in them
        ((entry, step) in order) as a prefix, starting where a word is taken. A word taken after
        the last frame is not forced: the next part says it again, as its audio was not output."""
        frames = int(codes.shape[1])
        window = [i for i, (entry, step) in enumerate(spoken)
                  if step >= frames - length and not entry.is_break]
        speaker_ids = set(self.runtime.tokenizer.speaker_ids.values())
        # Start the window where a speaker turn starts, so the replayed text begins with a tag;
        # inside one long turn, start at a word and give it the turn's tag.
        turn = next((i for i in window if spoken[i][0].tokens[0] in speaker_ids), None)
        window = [i for i in window if turn is None or i >= turn]
        entries = [spoken[i][0] for i in window]
        if entries and turn is None:
            entries[:1] = self._retag(entries[:1], [entry for entry, _ in spoken[: window[0]]])
        start = spoken[window[0]][1] if window else max(0, frames - length)
        steps: list[int] = []
        for position, index in enumerate(window):
            # A word is taken only once the one before is spelled out (a tag added above lengthens it).
            earliest = steps[-1] + len(entries[position - 1].tokens) if position else 0
            steps.append(max(spoken[index][1] - start, earliest))
        return Prefix(codes=codes[:, start:frames], entries=entries, new_word_steps=steps)

    # ---- events -------------------------------------------------------------------------------
    def _audio(self, codes: torch.Tensor) -> AudioChunk:
        samples = self.decoder.push(codes).detach().cpu().numpy().astype(np.float32, copy=False)
        codes = codes.cpu()
        chunk = AudioChunk(self.take, samples, self.audio_seconds, codes.numpy())
        self.chunks.append(samples)
        self.code_frames.append(codes)
        self.frames_out += codes.shape[1]
        return chunk

    def _word(self, word: str, at: float) -> Iterator[WordTiming]:
        self.words.append((word, at))
        yield WordTiming(self.take, word, at)

    def _insert_prefix_words(self, loop: FrameLoop, count: int) -> None:
        """With the voice prompt kept, its words are part of the output too (they were taken
        during the warm-up, before any word of the script)."""
        fr = self.runtime.frame_rate
        prompt_words = [(entry.text, step / fr) for entry, step in loop.state.consumed[:count]
                        if not entry.is_break]
        self.words[:0] = prompt_words

    def _result(self, complete: bool) -> TakeResult:
        audio = np.concatenate(self.chunks) if self.chunks else np.zeros(0, np.float32)
        codes = (torch.cat(self.code_frames, dim=1) if self.code_frames
                 else torch.zeros(self.runtime.codec.num_codebooks, 0, dtype=torch.long))
        return TakeResult(take=self.take, seed=self.seed, params=self.params.with_seed(self.seed),
                          audio=audio, sample_rate=self.runtime.codec.sample_rate, codes=codes.numpy(),
                          words=sorted(self.words, key=lambda w: w[1]), complete=complete,
                          notices=list(self.notices), model=self.runtime.name)


def generate(runtime, request: GenerationRequest, cancel: threading.Event | None = None) -> Iterator[GenerationEvent]:
    """Every take of ``request``: seeds seed, seed+1, … (a random seed when none is given)."""
    params = request.params.with_seed()
    # Refused rather than waited for: a paused generator on the same thread would wait forever.
    if not runtime.network.lock.acquire(blocking=False):
        raise GenerationBusy("This model is already generating; finish or cancel that generation first.")
    try:
        for take, seed in enumerate(params.take_seeds()):
            yield TakeStarted(take, seed)
            # The whole script and its end before the first frame: a live take's special case.
            feed = TextFeed(runtime.incremental_script(), cancel)
            feed.push(request.script)
            feed.end()
            try:
                for event in TakeRenderer(runtime, params, request.voices, request.context, take, seed, feed).run():
                    if request.takes_only and not isinstance(event, TakeResult):
                        continue
                    yield event
                    if isinstance(event, TakeResult) and not event.complete:
                        return
            finally:
                # After each take, and when cancelled or abandoned by the caller mid-take.
                runtime.release_memory()
    finally:
        runtime.network.lock.release()
