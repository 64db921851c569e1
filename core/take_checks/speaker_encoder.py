"""Who is speaking: a clip of speech → a unit vector, near for the same voice, far for another.

``SpeakerEncoder`` is the one thing the checks ask of a speaker model, so a stronger one (ECAPA,
WavLM) can replace ours later. Ours, ``LstmVoiceEncoder``, runs the voice encoder whose weights ship
inside the ``resemblyzer`` wheel (Apache-2.0, 17 MB: offline on every machine, in the bundle too):
a 3-layer LSTM over 40-band mel power spectra of 16 kHz audio, its final state projected to 256
dimensions. Only its weights file is read, as tensors (never unpickled objects); the spectra, the
windows and the averaging are ours, as the encoder was trained to see them: 1.6 s windows, about
1.3 a second, their embeddings averaged.
"""

from __future__ import annotations

import pickle  # only for the error torch raises on a damaged file: nothing is unpickled but tensors
import threading
from importlib import metadata
from pathlib import Path
from typing import Protocol

import numpy as np

from core.audio.processing import resample
from core.errors import DiaStudioError

RATE = 16000
WINDOW_SAMPLES, HOP_SAMPLES = 400, 160  # 25 ms windows every 10 ms
MEL_BANDS = 40
PARTIAL_FRAMES = 160  # 1.6 s seen at a time
PARTIALS_PER_S = 1.3
MIN_COVERAGE = 0.75  # a last window shorter than this share of its frames is dropped (unless it is the only one)
HIDDEN, LAYERS = 256, 3
QUIET_DBFS = -30.0  # quieter speech is raised to this level, as in training (never lowered)


class SpeakerModelMissing(DiaStudioError):
    """The speaker encoder's weights cannot be found or read."""


class SpeakerEncoder(Protocol):
    def embed(self, samples: np.ndarray, sample_rate: int) -> np.ndarray:
        """A unit vector for the voice in ``samples`` (mono floats)."""


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine similarity of two embeddings (unit vectors): 1 the same voice, lower further apart."""
    return float(np.dot(a, b))


def weights_path() -> Path:
    """Where the installed ``resemblyzer`` wheel keeps its encoder (found without importing the
    package, whose own code needs libraries the studio does not install)."""
    try:
        path = Path(metadata.distribution("resemblyzer").locate_file("resemblyzer/pretrained.pt"))
    except metadata.PackageNotFoundError:
        path = None
    if path is None or not path.is_file():
        raise SpeakerModelMissing("The speaker check needs the package resemblyzer (its voice encoder's weights); "
                                  "run installer/setup.sh again.")
    return path


def mel_filterbank(bands: int = MEL_BANDS, fft_size: int = WINDOW_SAMPLES, rate: int = RATE) -> np.ndarray:
    """Triangular filters on the Slaney mel scale (linear below 1 kHz, logarithmic above), each
    normalised to unit area: ``bands × (fft_size // 2 + 1)``."""

    def to_mel(hz):
        hz = np.asarray(hz, dtype=np.float64)
        return np.where(hz < 1000, hz * 3 / 200, 15 + 27 * np.log(np.maximum(hz, 1e-9) / 1000) / np.log(6.4))

    def to_hz(mel):
        return np.where(mel < 15, mel * 200 / 3, 1000 * np.exp((mel - 15) * np.log(6.4) / 27))

    edges = to_hz(np.linspace(to_mel(0.0), to_mel(rate / 2), bands + 2))
    bins = np.linspace(0, rate / 2, fft_size // 2 + 1)
    rising = (bins[None, :] - edges[:-2, None]) / (edges[1:-1] - edges[:-2])[:, None]
    falling = (edges[2:, None] - bins[None, :]) / (edges[2:] - edges[1:-1])[:, None]
    filters = np.maximum(0, np.minimum(rising, falling))
    return (filters * (2 / (edges[2:] - edges[:-2]))[:, None]).astype(np.float32)


def mel_frames(samples: np.ndarray) -> np.ndarray:
    """16 kHz samples → mel power spectra, one row per 10 ms (windows centred on their frame)."""
    padded = np.pad(samples.astype(np.float32), WINDOW_SAMPLES // 2)
    count = 1 + (len(padded) - WINDOW_SAMPLES) // HOP_SAMPLES
    starts = np.arange(count)[:, None] * HOP_SAMPLES + np.arange(WINDOW_SAMPLES)[None, :]
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(WINDOW_SAMPLES) / WINDOW_SAMPLES)  # periodic Hann
    power = np.abs(np.fft.rfft(padded[starts] * window, axis=1)) ** 2
    return (power @ _FILTERBANK.T).astype(np.float32)


_FILTERBANK = mel_filterbank()


def partial_starts(frames: int) -> list[int]:
    """Where each 1.6 s window starts, in frames: the windows cover the clip (the last one may run
    past its end, padded with silence) unless that last one would hold too little of it."""
    step = max(1, int(round(RATE / PARTIALS_PER_S / HOP_SAMPLES)))
    starts = list(range(0, max(frames - PARTIAL_FRAMES + step, 1), step))
    if len(starts) > 1 and (frames - starts[-1]) / PARTIAL_FRAMES < MIN_COVERAGE:
        starts.pop()
    return starts


class LstmVoiceEncoder:
    """The encoder, loaded on first use (a fraction of a second) and shared by every encoder of the
    process reading the same weights; safe to use from several threads."""

    def __init__(self, path: Path | None = None):
        self._path = path

    def embed(self, samples: np.ndarray, sample_rate: int) -> np.ndarray:
        import torch

        audio = resample(np.asarray(samples, dtype=np.float32), sample_rate, RATE)
        level = 10 * np.log10(max(float(np.mean(audio ** 2)), 1e-12))
        if level < QUIET_DBFS:
            audio = audio * 10 ** ((QUIET_DBFS - level) / 20)
        frames = mel_frames(audio)
        if len(frames) < PARTIAL_FRAMES:
            frames = np.pad(frames, ((0, PARTIAL_FRAMES - len(frames)), (0, 0)))
        starts = partial_starts(len(frames))
        frames = np.pad(frames, ((0, max(0, starts[-1] + PARTIAL_FRAMES - len(frames))), (0, 0)))
        batch = torch.from_numpy(np.stack([frames[start:start + PARTIAL_FRAMES] for start in starts]))
        lstm, linear = _loaded(self._path or weights_path())
        with torch.inference_mode():
            _, (hidden, _) = lstm(batch)
            partials = torch.nn.functional.normalize(torch.relu(linear(hidden[-1])), dim=1)
        mean = partials.mean(dim=0)
        return (mean / mean.norm()).numpy()


_LOADED: dict[Path, tuple] = {}
_LOADING = threading.Lock()


def _loaded(path: Path) -> tuple:
    """The LSTM and the projection of the weights at ``path``, loaded once a process."""
    import torch

    with _LOADING:
        if path not in _LOADED:
            try:
                state = torch.load(path, map_location="cpu", weights_only=True)["model_state"]
                lstm = torch.nn.LSTM(MEL_BANDS, HIDDEN, LAYERS, batch_first=True)
                linear = torch.nn.Linear(HIDDEN, HIDDEN)
                lstm.load_state_dict({k[len("lstm."):]: v for k, v in state.items() if k.startswith("lstm.")})
                linear.load_state_dict({k[len("linear."):]: v for k, v in state.items() if k.startswith("linear.")})
            except (OSError, RuntimeError, KeyError, TypeError, pickle.UnpicklingError) as error:
                raise SpeakerModelMissing(f"The speaker encoder {path} cannot be read: "
                                          f"{str(error).splitlines()[0]}") from None
            _LOADED[path] = (lstm.eval(), linear.eval())
        return _LOADED[path]
