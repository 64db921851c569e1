"""The link to a remote serve cut for real (a TCP proxy between the studio and the server drops
both sides) in the middle of a take: the window lives on and keeps responding, says what
happened, keeps what was streamed as an incomplete take, and the next generation connects again."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from core.document.speakers import Speaker
from core.engine.engine import EngineKind
from core.params import GenerationParams
from core.audio.stored_audio import as_stored
from tests.service.remote_engine import KEY, TcpProxy
from tests.ui.conftest import TINY_CHECKPOINT, generate_past_a_failure, write_dialogue

LINES = ((Speaker.S1, "Hello there, how are you today?"), (Speaker.S2, "Fine, thank you."))  # ~50 chunks

@pytest.fixture
def proxy(remote_engine_server):
    proxy = TcpProxy(remote_engine_server.process.port)
    yield proxy
    proxy.close()

def test_a_cut_link_leaves_a_living_window_the_streamed_take_and_a_working_next_generation(
        make_studio, remote_engine_server, proxy, qtbot, prompts):
    studio = make_studio(engine=EngineKind.IN_PROCESS)
    assert studio.model_controls.choose_engine(EngineKind.REMOTE.value, proxy.url, KEY)
    with qtbot.waitSignal(studio.models.loaded, timeout=60_000):
        studio.model_controls.load(str(TINY_CHECKPOINT), "cpu", "float32")
    write_dialogue(studio, *LINES)
    studio.dialogue.set_params(GenerationParams(seed=12))
    streamed: list[np.ndarray] = []
    studio.generation.chunk.connect(lambda take, samples: streamed.append(samples))
    # The proxy cuts a few chunks into the take (about 9 kB each; the whole take is about 470 kB),
    # at that point of the stream however far behind the window's thread is.
    proxy.cut_after(30_000)
    finished = generate_past_a_failure(studio, qtbot, proxy.cuts)  # the GUI thread still turns after the cut

    assert proxy.cuts and finished == [False] and streamed
    (title, message), = prompts.errors()
    assert title == "Generation failed"
    assert "connection to http://127.0.0.1" in message and "connects again" in message
    (take,) = studio.dialogue.takes
    np.testing.assert_array_equal(take.audio.samples(), as_stored(np.concatenate(streamed), take.audio.sample_rate))
    assert take.seed == 12 and take.source_lines == ()
    assert "lost during the generation" in studio.window.statusBar().currentMessage()
    assert studio.window.actions.generate.isEnabled() and not studio.window.actions.cancel.isEnabled()

    with qtbot.waitSignal(studio.generation.finished, timeout=60_000) as again:
        assert studio.generate()
    assert again.args == [False] and len(prompts.errors()) == 1 and proxy.connections == 2
    newest = studio.dialogue.takes[-1]
    assert newest is not take and len(newest.source_lines) == 2
    # The same seed: the take the cut run was making, now whole.
    np.testing.assert_array_equal(newest.audio.samples()[:len(take.audio.samples())], take.audio.samples())


def test_a_server_gone_while_idle_is_said_once_and_the_window_never_waits_on_it(
        make_studio, remote_engine_server, proxy, qtbot, monkeypatch):
    """The status bar's memory read every 2 s used to ask the server on the GUI thread: with the
    server gone, three connection tries (3.5 s) on every read, an error each time, a window that
    lagged on every key."""
    from core.engine.remote import RemoteEngine

    studio = make_studio(engine=EngineKind.IN_PROCESS)
    assert studio.model_controls.choose_engine(EngineKind.REMOTE.value, proxy.url, KEY)
    with qtbot.waitSignal(studio.models.loaded, timeout=60_000):
        studio.model_controls.load(str(TINY_CHECKPOINT), "cpu", "float32")
    opened_on = []
    real_open = RemoteEngine._open
    monkeypatch.setattr(RemoteEngine, "_open", lambda self: opened_on.append(threading.current_thread()) or
                        real_open(self))
    said = []
    studio.window.statusBar().messageChanged.connect(said.append)
    proxy.close()
    qtbot.waitUntil(lambda: "server out of reach" in studio.window.memory_status.text(), timeout=20_000)
    unreachable = [message for message in said if message.startswith("Nothing answers at 127.0.0.1")]
    assert len(unreachable) == 1
    qtbot.wait(5_000)  # two more reads of the status bar: nothing more said, nothing asked on this thread
    assert [message for message in said if message.startswith("Nothing answers")] == unreachable
    assert threading.main_thread() not in opened_on
