"""The model's own process killed for real (SIGKILL) in the middle of a take: the window lives on
and keeps responding, says what happened, keeps what was streamed as an incomplete take, and the
next generation works on a fresh process."""

from __future__ import annotations

import os
import signal

import numpy as np

from core.dia2.events import AudioChunk
from core.document.speakers import Speaker
from core.engine.engine import EngineKind
from core.params import GenerationParams
from core.audio.stored_audio import as_stored
from tests.ui.conftest import TINY_CHECKPOINT, generate_past_a_failure, write_dialogue

LINES = ((Speaker.S1, "Hello there, how are you today?"), (Speaker.S2, "Fine, thank you."))  # ~50 chunks

def test_a_killed_engine_process_leaves_a_living_window_the_streamed_take_and_a_working_next_generation(
        make_studio, qtbot, prompts):
    studio = make_studio(engine=EngineKind.OWN_PROCESS)
    with qtbot.waitSignal(studio.models.loaded, timeout=60_000):
        studio.model_controls.load(str(TINY_CHECKPOINT), "cpu", "float32")
    write_dialogue(studio, *LINES)
    studio.dialogue.set_params(GenerationParams(seed=11))
    engine = studio.models.engine
    streamed: list[np.ndarray] = []
    studio.generation.chunk.connect(lambda take, samples: streamed.append(samples))
    killed = []
    generate = engine.generate

    def generate_and_kill_a_few_chunks_in(request, cancel=None):
        # Killed from the generation's own thread as the third chunk comes out of the pipe: the
        # child is then at most a pipe's buffer ahead, however far behind the window's thread is.
        chunks = 0
        for event in generate(request, cancel):
            chunks += isinstance(event, AudioChunk)
            if chunks == 3 and not killed:
                killed.append(engine.pid)
                os.kill(engine.pid, signal.SIGKILL)
            yield event

    engine.generate = generate_and_kill_a_few_chunks_in
    finished = generate_past_a_failure(studio, qtbot, killed)  # the GUI thread still turns after the crash

    assert killed and finished == [False]
    (title, message), = prompts.errors()
    assert title == "Generation failed"
    assert message.startswith("The model's process was killed by SIGKILL (often: out of memory).")
    (take,) = studio.dialogue.takes
    # What was heard is kept, sample for sample as a project keeps a take's audio (24-bit), as the
    # take of the lines it finished (none yet).
    np.testing.assert_array_equal(take.audio.samples(), as_stored(np.concatenate(streamed), take.audio.sample_rate))
    assert take.seed == 11 and take.source_lines == ()
    status = studio.window.statusBar().currentMessage()
    assert "Cut short: the model's process was killed by SIGKILL" in status
    assert studio.window.actions.generate.isEnabled() and not studio.window.actions.cancel.isEnabled()

    engine.generate = generate
    with qtbot.waitSignal(studio.generation.finished, timeout=60_000) as again:  # a fresh process loads first
        assert studio.generate()
    assert again.args == [False] and len(prompts.errors()) == 1
    assert engine.pid not in (None, killed[0])
    newest = studio.dialogue.takes[-1]
    assert newest is not take and len(newest.source_lines) == 2
    # The same seed as before the crash: the take the first run was making, now whole.
    np.testing.assert_array_equal(newest.audio.samples()[:len(take.audio.samples())], take.audio.samples())
