"""The streaming player through the fake sound system (a thread with a virtual clock)."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from core.audio.backend import AudioDevice
from core.audio.errors import AudioDeviceError, NoAudioDevice
from core.audio.playback import PlayerState, StreamingPlayer
from tests.fake_sound_card import FakeBackend

RATE = 24000
BLOCK = 240  # 10 ms: positions in these tests fall on whole blocks


def ramp(seconds: float, start: float = 0.0) -> np.ndarray:
    """Distinct sample values, so any reordering or repetition shows."""
    return (np.arange(round(start * RATE), round((start + seconds) * RATE)) / (100 * RATE)).astype(np.float32)


@pytest.fixture
def backend() -> FakeBackend:
    return FakeBackend(speed=None, block_frames=BLOCK)


@pytest.fixture
def player(backend):
    player = StreamingPlayer(backend)
    yield player
    player.stop()


def test_plays_appended_chunks_in_order_on_both_sides_then_ends(backend, player):
    audio = ramp(1.0)
    for start in range(0, len(audio), 1000):  # chunks that do not line up with the blocks
        player.append(audio[start : start + 1000])
    player.finish()
    player.play()
    backend.advance(1.5)
    played = backend.streams[-1].played_audio
    assert played.shape[1] == 2
    assert np.array_equal(played[: len(audio), 0], audio) and np.array_equal(played[:, 0], played[:, 1])
    assert not np.any(played[len(audio) :])
    assert player.state is PlayerState.ENDED
    assert player.position_s == player.duration_s == 1.0
    assert player.underruns == 0
    # the stream stopped by itself after the last block
    assert len(played) == len(audio) + (-len(audio)) % BLOCK


def test_plays_while_another_thread_appends():
    backend = FakeBackend(speed=4.0, block_frames=BLOCK)
    player = StreamingPlayer(backend)
    audio = ramp(2.0)
    player.append(audio[:4800])

    def generate():  # faster than playback, like a generator ahead of real time
        for start in range(4800, len(audio), 2400):
            player.append(audio[start : start + 2400])
        player.finish()

    player.play()
    producer = threading.Thread(target=generate)
    producer.start()
    producer.join()
    assert backend.streams[-1].wait_for_clock(2.5)
    assert player.state is PlayerState.ENDED
    assert np.array_equal(backend.streams[-1].played_audio[: len(audio), 0], audio)
    assert player.underruns == 0


def test_running_out_before_the_end_is_an_underrun_with_silence(backend, player):
    player.play()
    backend.advance(0.2)  # nothing appended yet: waiting to start is not an underrun
    assert player.underruns == 0 and player.is_buffering
    player.append(ramp(0.1))
    backend.advance(0.3)
    assert player.underruns == 1 and player.is_buffering
    assert player.position_s == pytest.approx(0.1)  # the playhead waits with the audio
    player.append(ramp(0.1, start=0.1))
    backend.advance(0.05)
    assert not player.is_buffering
    backend.advance(0.2)
    assert player.underruns == 2
    player.finish()
    backend.advance(0.05)
    assert player.state is PlayerState.ENDED and player.underruns == 2
    played = backend.streams[-1].played_audio[:, 0]
    assert np.array_equal(played[played != 0], np.concatenate([ramp(0.1), ramp(0.1, start=0.1)])[1:])


def test_pause_keeps_the_position_and_play_resumes_there(backend, player):
    player.append(ramp(1.0))
    player.finish()
    player.play()
    backend.advance(0.3)
    player.pause()
    assert player.state is PlayerState.PAUSED
    assert player.position_s == pytest.approx(0.3)
    backend.advance(0.3)
    assert player.position_s == pytest.approx(0.3)
    player.play()
    backend.advance(0.1)
    assert np.array_equal(backend.streams[-1].played_audio[:, 0], ramp(0.1, start=0.3))
    assert player.position_s == pytest.approx(0.4)


def test_seek_moves_the_playhead_within_what_exists(backend, player):
    player.append(ramp(1.0))
    player.seek(0.5)
    assert player.position_s == 0.5
    player.play()
    backend.advance(0.1)
    assert np.array_equal(backend.streams[-1].played_audio[:, 0], ramp(0.1, start=0.5))
    player.seek(0.2)  # while playing
    backend.advance(0.1)
    assert np.array_equal(backend.streams[-1].played_audio[-2400:, 0], ramp(0.1, start=0.2))
    player.seek(5.0)
    assert player.position_s == 1.0  # not past what has been appended
    player.seek(-1.0)
    assert player.position_s == 0.0


def test_stop_rewinds_and_releases_the_device(backend, player):
    player.append(ramp(1.0))
    player.play()
    backend.advance(0.3)
    player.stop()
    assert player.state is PlayerState.STOPPED and player.position_s == 0.0
    frames = backend.streams[-1].frames_done
    backend.advance(0.3)
    assert backend.streams[-1].frames_done == frames


def test_play_after_the_end_starts_again(backend, player):
    player.append(ramp(0.2))
    player.finish()
    player.play()
    backend.advance(0.3)
    assert player.state is PlayerState.ENDED
    player.play()
    backend.advance(0.1)
    assert player.state is PlayerState.PLAYING
    assert np.array_equal(backend.streams[-1].played_audio[:, 0], ramp(0.1))


def test_position_is_what_the_listener_hears():
    backend = FakeBackend(speed=None, block_frames=BLOCK, latency_s=0.1)
    player = StreamingPlayer(backend)
    player.append(ramp(1.0))
    player.play()
    backend.advance(0.5)
    assert player.position_s == pytest.approx(0.4)
    player.pause()  # what was still in the output buffer was never heard: resume before it
    player.play()
    backend.advance(0.1)
    assert np.array_equal(backend.streams[-1].played_audio[:, 0], ramp(0.1, start=0.4))
    player.stop()


def test_a_lost_output_pauses_with_an_error_and_can_play_again():
    backend = FakeBackend(speed=None, block_frames=BLOCK, lose_device_after_s=0.3)
    player = StreamingPlayer(backend)
    player.append(ramp(1.0))
    player.play()
    backend.advance(1.0)
    assert player.state is PlayerState.PAUSED
    assert "sound output 'Fake speakers' stopped working" in str(player.error)
    assert player.position_s == pytest.approx(0.3)
    player.play()
    assert player.error is None and player.state is PlayerState.PLAYING
    player.stop()


def test_no_output_device_is_a_clear_error():
    player = StreamingPlayer(FakeBackend(outputs=()))
    player.append(ramp(0.1))
    with pytest.raises(NoAudioDevice, match="No sound output was found"):
        player.play()
    assert player.state is PlayerState.STOPPED


def test_a_refused_output_is_a_clear_error():
    player = StreamingPlayer(FakeBackend(refuse_open="Could not use the sound output: busy."))
    with pytest.raises(AudioDeviceError, match="busy"):
        player.play()
    assert player.state is PlayerState.STOPPED


def test_a_mono_output_gets_one_channel(backend):
    mono_speaker = AudioDevice("mono", "Mono speaker", 0, 1, 24000)
    player = StreamingPlayer(backend, device=mono_speaker)
    player.append(ramp(0.1))
    player.play()
    backend.advance(0.1)
    assert backend.streams[-1].played_audio.shape == (2400, 1)
    player.stop()


def test_nothing_can_follow_finish(player):
    player.finish()
    assert player.end_of_stream
    with pytest.raises(RuntimeError):
        player.append(ramp(0.1))


def test_ended_only_once_the_device_played_it_out():
    backend = FakeBackend(speed=None, block_frames=BLOCK, latency_s=0.1)
    player = StreamingPlayer(backend)
    player.append(ramp(0.5))
    player.finish()
    player.play()
    backend.advance(0.55)  # every block handed over, the last 0.1 s still in the device
    assert player.state is PlayerState.PLAYING
    assert player.position_s == pytest.approx(0.4)
    backend.advance(0.1)
    assert player.state is PlayerState.ENDED and player.position_s == 0.5
    player.stop()
