"""A generation request → a stream of events: audio chunks as soon as their frames are
complete, word timings as words are taken, progress, and one finished take per seed.

Long scripts: one Dia2 context holds ``max_context_steps`` frames (2 minutes). A longer script
is cut at speaker turns into parts that fit; each part after the first starts from the end of
the audio made so far, replayed as a prefix with its words on the frames where they were spoken,
so voices and pacing carry on. The audio of all parts is one continuous stream.

Selected lines: the request's context (the lines spoken just before them, from their kept takes)
is replayed the same way, after the voice prompts, so the new lines continue the voices and the
conversation; the new take starts with its first new frame.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

import numpy as np
import torch

from core.dia2.frame_loop import FrameLoop, Sampling
from core.dia2.prefix import Prefix, SpokenContext, VoicePrompt, build_prefix
from core.dia2.sampling import SamplingRule
from core.dia2.script import Entry
from core.dia2.state_machine import MAX_PADDING
from core.errors import DiaStudioError
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


@dataclass(frozen=True)
class GenerationRequest:
    script: str
    params: GenerationParams
    voices: tuple[VoicePrompt, ...] = ()
    context: SpokenContext | None = None  # the lines before the script, replayed after the voices


@dataclass(frozen=True)
class TakeStarted:
    take: int
    seed: int


@dataclass(frozen=True)
class AudioChunk:
    take: int
    samples: np.ndarray  # float32 mono at the codec's sample rate
    start_s: float
    # The Mimi codes [codebooks, frames] (int64) the samples were decoded from: whoever relays the
    # stream (another process, a server) can rebuild what was made if the take never finishes.
    codes: np.ndarray | None = None


@dataclass(frozen=True)
class WordTiming:
    take: int
    word: str
    start_s: float


@dataclass(frozen=True)
class Progress:
    take: int
    frames: int  # generation steps run so far in this take
    audio_s: float  # seconds of audio streamed so far
    elapsed_s: float

    @property
    def realtime_factor(self) -> float:
        """Seconds of audio made per second of compute (above 1 is faster than real time)."""
        return self.audio_s / self.elapsed_s if self.elapsed_s > 0 else 0.0


@dataclass
class TakeResult:
    take: int
    seed: int
    params: GenerationParams
    audio: np.ndarray
    sample_rate: int
    codes: np.ndarray | None  # [codebooks, frames] of the audio; None when they were lost (a relay cut)
    words: list[tuple[str, float]]
    complete: bool = True  # False when cancelled: what was made so far
    notices: list[str] = field(default_factory=list)
    # The model that made it, as loaded (a Hub id or a local folder's path); params.model names
    # only the model the request asked for.
    model: str | None = None


class GenerationStalled(DiaStudioError):
    """The model cannot make progress on the script (its context is too small for it)."""


class GenerationBusy(DiaStudioError):
    """The model is generating already: its caches serve one generation at a time."""


class InvalidContext(DiaStudioError):
    """The lines given as context do not fit this model (codes or words that do not match)."""


GenerationEvent = TakeStarted | AudioChunk | WordTiming | Progress | TakeResult


class TakeRenderer:
    """Renders one take (one seed) of a request, part after part, streaming as it goes."""

    def __init__(self, runtime, request: GenerationRequest, take: int, seed: int,
                 cancel: threading.Event | None):
        self.runtime = runtime
        self.request = request
        self.take = take
        self.seed = seed
        self.cancel = cancel or threading.Event()
        self.decoder = runtime.codec.streaming_decoder()
        self.chunks: list[np.ndarray] = []
        self.code_frames: list[torch.Tensor] = []
        self.words: list[tuple[str, float]] = []
        self.notices: list[str] = []
        self.frames_out = 0
        self.steps = 0

    @property
    def audio_seconds(self) -> float:
        return self.frames_out / self.runtime.codec.frame_rate

    def run(self) -> Iterator[GenerationEvent]:
        runtime, params = self.runtime, self.request.params
        generator = torch.Generator(device=runtime.device).manual_seed(self.seed)
        sampling = Sampling(cfg_scale=params.cfg_scale,
                            text=SamplingRule(params.temperature, params.top_k),
                            audio=SamplingRule(params.audio_temperature, params.top_k))
        negative = None
        if params.negative_prompt and params.guidance_enabled:
            negative = runtime.parse(params.negative_prompt, force_first_speaker=False)
        started = time.perf_counter()
        pending = runtime.parse(self.request.script)
        prefix, replays_context = self._first_prefix()
        # The voice prompts can be kept only where nothing comes between them and the new lines.
        keep_prefix = params.include_prefix and not replays_context
        if params.include_prefix and replays_context:
            self.notices.append("The voice references are not kept in this take: the lines before "
                                "the selection come between them and the new lines.")
        first_part = True
        while pending:
            part, pending = self._next_part(pending, prefix)
            loop = FrameLoop(runtime.network, part, sampling, generator, text_bos=runtime.tokenizer.text_bos,
                             prefix=prefix, negative_entries=negative)
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
                    record = loop.step()
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
                pending = self._unspoken(loop, part) + pending
                prefix = self._continuation(loop) if pending else None
            finally:
                del loop
            first_part = False
        yield self._result(complete=True)

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
        runtime, request = self.runtime, self.request
        voices = (build_prefix(request.voices, runtime.tokenizer.encode, runtime.frame_rate)
                  if request.voices else None)
        if request.context is None:
            return voices, False
        voice_frames = voices.frames if voices else 0
        length = min(self._replay_frames(),
                     int(PREFIX_SHARE * runtime.config.max_context_steps) - voice_frames)
        context = self._context_prefix(request.context, length)
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
    def _next_part(self, entries: list[Entry], prefix: Prefix | None) -> tuple[list[Entry], list[Entry]]:
        """Take whole speaker turns while they are estimated to fit the context."""
        runtime = self.runtime
        budget = (runtime.config.max_context_steps - (prefix.frames if prefix else 0)
                  - runtime.config.data.max_delay - MAX_PADDING)
        speaker_ids = set(runtime.tokenizer.speaker_ids.values())
        used, cut = 0, 0
        for index, entry in enumerate(entries):
            starts_turn = bool(entry.tokens) and entry.tokens[0] in speaker_ids
            if starts_turn and index:
                cut = index
            used += entry.hold + 1 if entry.is_break else max(FRAMES_PER_WORD_ESTIMATE, entry.hold + 1)
            if used > budget:
                # Cut at the last turn start; a single turn too long for one part is cut at a word.
                cut = cut or index
                return entries[:max(cut, 1)], self._retag(entries[max(cut, 1):], entries[:max(cut, 1)])
        return entries, []

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

    def _unspoken(self, loop: FrameLoop, part: list[Entry]) -> list[Entry]:
        """Entries the loop never took because the context ran out: they go to the next part."""
        rest = list(loop.machine.entries)
        if len(rest) == len(part):
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
        return TakeResult(take=self.take, seed=self.seed, params=self.request.params.with_seed(self.seed),
                          audio=audio, sample_rate=self.runtime.codec.sample_rate, codes=codes.numpy(),
                          words=sorted(self.words, key=lambda w: w[1]), complete=complete,
                          notices=list(self.notices), model=self.runtime.name)


def generate(runtime, request: GenerationRequest, cancel: threading.Event | None = None) -> Iterator[GenerationEvent]:
    """Every take of ``request``: seeds seed, seed+1, … (a random seed when none is given)."""
    params = request.params.with_seed()
    request = replace(request, params=params)
    # Refused rather than waited for: a paused generator on the same thread would wait forever.
    if not runtime.network.lock.acquire(blocking=False):
        raise GenerationBusy("This model is already generating; finish or cancel that generation first.")
    try:
        for take, seed in enumerate(params.take_seeds()):
            yield TakeStarted(take, seed)
            try:
                for event in TakeRenderer(runtime, request, take, seed, cancel).run():
                    yield event
                    if isinstance(event, TakeResult) and not event.complete:
                        return
            finally:
                # After each take, and when cancelled or abandoned by the caller mid-take.
                runtime.release_memory()
    finally:
        runtime.network.lock.release()

