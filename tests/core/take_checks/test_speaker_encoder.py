"""The speaker encoder: the same voice near, another far, on real speech; its weights read from the
installed package as tensors; a clear error when they are missing or damaged."""

import numpy as np
import pytest

from core.take_checks import speaker_encoder
from core.take_checks.speaker_encoder import LstmVoiceEncoder, SpeakerModelMissing, mel_filterbank, similarity
from tests.core.take_checks.dialogue import RATE, clip


@pytest.fixture(scope="module")
def encoder():
    return LstmVoiceEncoder()


def test_the_same_voice_is_near_and_the_other_far(encoder):
    s1 = [encoder.embed(clip(f"s1-line{n}"), RATE) for n in (1, 3)]
    s2 = [encoder.embed(clip(f"s2-line{n}"), RATE) for n in (1, 3)]
    assert similarity(s1[0], s1[1]) > 0.85 and similarity(s2[0], s2[1]) > 0.85
    assert max(similarity(a, b) for a in s1 for b in s2) < 0.75
    assert np.linalg.norm(s1[0]) == pytest.approx(1.0, abs=1e-5)


def test_any_sample_rate_and_a_clip_shorter_than_a_window(encoder):
    from core.audio.processing import resample

    speech = clip("s1-line1")
    at_48k = encoder.embed(resample(speech, RATE, 48000), 48000)
    assert similarity(at_48k, encoder.embed(speech, RATE)) > 0.98
    assert encoder.embed(speech[: RATE // 2], RATE).shape == (256,)


def test_the_mel_filters_cover_the_band_once():
    filters = mel_filterbank()
    assert filters.shape == (40, 201) and (filters >= 0).all()
    peaks = filters.argmax(axis=1)
    assert (np.diff(peaks) >= 0).all()  # low bands first


def test_missing_or_damaged_weights_are_said_plainly(tmp_path, monkeypatch):
    monkeypatch.setattr(speaker_encoder.metadata, "distribution", _not_installed)
    with pytest.raises(SpeakerModelMissing, match="needs the package resemblyzer"):
        LstmVoiceEncoder().embed(clip("s1-line1"), RATE)
    damaged = tmp_path / "pretrained.pt"
    damaged.write_bytes(b"not a checkpoint")
    with pytest.raises(SpeakerModelMissing, match="cannot be read"):
        LstmVoiceEncoder(damaged).embed(clip("s1-line1"), RATE)


def _not_installed(name):
    raise speaker_encoder.metadata.PackageNotFoundError(name)
