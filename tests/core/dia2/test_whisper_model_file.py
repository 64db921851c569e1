"""A file the person chooses as the Whisper model is checked before it is kept: a Whisper
checkpoint passes; anything else is refused with the reason, and nothing in it is run."""

from __future__ import annotations

import pytest
import torch

from core.dia2.transcribe import NotAWhisperModel, TranscriptionModelUnavailable, check_model_file
from tests.scripted_whisper import scripted_whisper_checkpoint

ran: list[str] = []


class RunsCodeWhenOpened:
    def __reduce__(self):
        return (ran.append, ("opened",))


def test_a_whisper_checkpoint_passes(tmp_path):
    check_model_file(scripted_whisper_checkpoint(["Hi"], tmp_path / "tiny.pt"))


@pytest.mark.parametrize("make, reason", [
    (lambda path: path.write_text("not a model"), "it is not a PyTorch checkpoint"),
    (lambda path: torch.save({"weights": torch.zeros(3)}, path), "it is a PyTorch checkpoint, but not of a Whisper model"),
    (lambda path: torch.save({"dims": {"n_mels": 80}, "model_state_dict": {}}, path),
     "it is a PyTorch checkpoint, but not of a Whisper model"),
    (lambda path: torch.save(RunsCodeWhenOpened(), path), "it holds more than model weights, and such files are never opened"),
    (lambda path: None, "it cannot be read: No such file or directory"),
])
def test_anything_else_is_refused_with_the_reason(tmp_path, make, reason):
    path = tmp_path / "chosen.pt"
    make(path)
    with pytest.raises(NotAWhisperModel) as raised:
        check_model_file(path)
    assert str(raised.value).startswith(f"chosen.pt is not a Whisper model file: {reason}. Choose a checkpoint")
    assert isinstance(raised.value, TranscriptionModelUnavailable)
    assert ran == []  # nothing in the file ran
