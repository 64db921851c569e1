"""Whisper transcription of a voice reference, with a timing for every word, for voice cloning.

One :class:`WhisperTranscriber` holds one Whisper model: loaded on first use (downloading a named
model into a cache folder the first time), kept for later references, and freed by ``unload()``.
A download can be stopped (``stop()``, as the studio closes): it is ours, not Whisper's, for that.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import pickle
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from os import PathLike
from pathlib import Path

import numpy as np
import soxr
import torch
import whisper
from tqdm import tqdm  # Whisper's own requirement (openai-whisper is pinned): its download showed this bar
from whisper.audio import SAMPLE_RATE as WHISPER_SAMPLE_RATE
from whisper.model import ModelDimensions
from whisper.tokenizer import LANGUAGES, TO_LANGUAGE_CODE

from core.dia2.own_thread import on_own_thread
from core.dia2.transcript_alignment import TimedWord
from core.errors import DiaStudioError, InvalidParameter

GPU_WHISPER_MODEL = "large-v3"  # the model the reference Dia2 runtime transcribes with
# On a processor large-v3 (a 3 GB download) takes minutes for one voice; small (0.5 GB) takes
# seconds and hears a clear reference well.
CPU_WHISPER_MODEL = "small"


def default_whisper_model(device: str | torch.device | None = None) -> str:
    """The Whisper model used unless the person chose one: large-v3 on a GPU, small on a
    processor. ``device`` as :class:`WhisperTranscriber` takes it (None: CUDA when there is one)."""
    return GPU_WHISPER_MODEL if _checked_device(device).type == "cuda" else CPU_WHISPER_MODEL


def whisper_cache_folder(download_root: str | PathLike[str] | None = None) -> Path:
    """Where named models are downloaded and found: ``download_root``, else Whisper's own cache
    (as ``whisper.load_model`` picks it)."""
    if download_root is not None:
        return Path(download_root)
    return Path(os.getenv("XDG_CACHE_HOME", Path.home() / ".cache")) / "whisper"


def downloaded_models(download_root: str | PathLike[str] | None = None) -> dict[str, int]:
    """The official models already in the cache folder, by name, and the bytes each takes
    (aliases share a file: "large" is "large-v3")."""
    folder = whisper_cache_folder(download_root)
    found = {}
    for name in whisper.available_models():
        try:
            found[name] = (folder / Path(whisper._MODELS[name]).name).stat().st_size
        except OSError:  # not downloaded (or unreadable, which loads no better)
            pass
    return found


def model_on_disk(model: str | None, device: str | torch.device | None = None) -> str | None:
    """The Whisper model transcribing with ``model`` uses (None: the device's default), when it is
    on this computer: a model file, or a named model already downloaded. None when using it would
    download it first: what runs on its own (the studio's checks) never starts a download."""
    name = model or default_whisper_model(device)
    if name in whisper.available_models():
        return name if name in downloaded_models() else None
    return name if Path(name).is_file() else None


class TranscriptionError(DiaStudioError):
    """Transcribing a voice reference failed."""


class TranscriptionModelUnavailable(TranscriptionError):
    """The Whisper model could not be downloaded or loaded."""


class NotAWhisperModel(TranscriptionModelUnavailable):
    """A file chosen as the Whisper model is not a Whisper checkpoint."""


class TranscriptionStopped(TranscriptionError):
    """The speech model's download was stopped (``WhisperTranscriber.stop``)."""


class NoSpeechFound(TranscriptionError):
    """Whisper heard no words in the voice reference."""


class WhisperTranscriber:
    """Transcribes voice references with one Whisper model, loaded on first use and then kept.

    ``model`` is an official model name (see ``whisper.available_models()``: "tiny", "base",
    "small", "medium", "large-v3", "turbo", ...) or the path of a local Whisper checkpoint (.pt);
    None: the default for the device (``default_whisper_model``).
    ``device`` is a torch device such as "cpu" or "cuda"; None picks CUDA when there is one.
    ``download_root`` is the folder named models are downloaded into and found in; None uses
    Whisper's own cache (~/.cache/whisper). ``on_model_load`` is called with ``model`` just before
    the model is loaded, which can take minutes when it must be downloaded.

    One instance may be shared between threads; its transcriptions run one at a time.
    """

    def __init__(
        self,
        model: str | PathLike[str] | None = None,
        *,
        device: str | torch.device | None = None,
        download_root: str | PathLike[str] | None = None,
        on_model_load: Callable[[str], None] | None = None,
    ):
        self._device = _checked_device(device)
        self._model_name = _checked_model_name(default_whisper_model(self._device) if model is None else model)
        self._download_root = None if download_root is None else os.fspath(download_root)
        self._on_model_load = on_model_load
        self._model: whisper.Whisper | None = None
        # One lock for loading and decoding: Whisper hooks into the shared model while it decodes,
        # so two transcriptions at once would mix up each other's caches.
        self._lock = threading.Lock()
        self._stopped = threading.Event()

    @property
    def is_loaded(self) -> bool:
        return self._model is not None

    def load(self) -> None:
        """Load the model now, e.g. on a worker thread before it is needed; no-op once loaded."""
        with self._lock:
            self._loaded_model()

    def unload(self) -> None:
        """Free the model (after any transcription in progress); the next use loads it again."""
        with self._lock:
            self._model = None
            if self._device.type == "cuda":
                torch.cuda.empty_cache()

    def stop(self) -> None:
        """Stop a download of the model in progress, within a moment (the studio is closing): the
        transcription waiting for it raises ``TranscriptionStopped`` and no part of the file stays.
        A model already loaded is unaffected; none is downloaded afterwards."""
        self._stopped.set()

    def transcribe(
        self, audio: np.ndarray, sample_rate: int, *, language: str | None = None
    ) -> list[TimedWord]:
        """Return the words spoken in ``audio`` (mono float samples) with their timings in seconds.

        ``language`` is a language code or name Whisper knows ("en", "german"); None detects it.
        The timings are in order, do not overlap and lie within the clip.
        """
        samples = _whisper_input(audio, sample_rate)
        language_code = _checked_language(language)
        # On a thread of its own: Whisper's word timing (numba's parallel DTW) would leave the
        # caller's thread with every core as its thread count and a team of OpenMP threads.
        result = on_own_thread(self._recognise, samples, language_code, name="whisper")
        words = _timed_words(result, duration_s=len(samples) / WHISPER_SAMPLE_RATE)
        if not words:
            raise NoSpeechFound(
                "No speech was found in the voice reference. Use a recording in which the speaker "
                "talks clearly for a few seconds."
            )
        return words

    def _recognise(self, samples: np.ndarray, language_code: str | None) -> dict:
        with self._lock:
            return self._loaded_model().transcribe(
                samples,
                word_timestamps=True,
                language=language_code,
                fp16=self._device.type == "cuda",  # on a CPU Whisper would warn, then use fp32
            )

    def _loaded_model(self) -> whisper.Whisper:
        """The model, loading it first if needed; the caller holds ``self._lock``."""
        if self._model is None:
            if self._on_model_load is not None:
                self._on_model_load(self._model_name)
            if self._model_name in whisper.available_models():
                self._model = self._load_named_model()
            else:
                self._model = self._load_model_file()
        return self._model

    def _load_named_model(self) -> whisper.Whisper:
        name = self._model_name
        try:
            _download(name, whisper_cache_folder(self._download_root), self._stopped)
            return whisper.load_model(name, device=self._device, download_root=self._download_root)
        except _NETWORK_ERRORS as error:
            where = f" into {self._download_root}" if self._download_root else ""
            raise TranscriptionModelUnavailable(
                f"The Whisper model '{name}' is not on this computer yet and could not be downloaded "
                f"({getattr(error, 'reason', None) or error}). Connect to the internet so it can be "
                f"downloaded once{where}, or choose a local Whisper model file (.pt) instead."
            ) from error
        except OSError as error:  # a full disk, or a cache folder that cannot be written
            raise TranscriptionModelUnavailable(
                f"The Whisper model '{name}' could not be saved in {whisper_cache_folder(self._download_root)} "
                f"({error.strerror or error}). Free some space there, or choose a local Whisper model file "
                "(.pt) instead."
            ) from error
        except RuntimeError as error:  # a damaged download, or no memory left on the device
            raise TranscriptionModelUnavailable(
                f"The Whisper model '{name}' could not be loaded: {error}"
            ) from error

    def _load_model_file(self) -> whisper.Whisper:
        path = self._model_name
        try:
            model = whisper.load_model(path, device=self._device)
        except Exception as error:  # torch.load and Whisper fail in many ways on a file of another kind
            raise TranscriptionModelUnavailable(
                f"The Whisper model file {path} could not be loaded; is it a Whisper checkpoint "
                f"(.pt)? ({error})"
            ) from error
        official = _official_model_name(model.dims, path)
        if official is not None:
            # Whisper's own table of the heads that follow word timing; it only applies it to
            # models loaded by name. Moved to the device afterwards, as whisper.load_model does.
            model.set_alignment_heads(whisper._ALIGNMENT_HEADS[official])
            model.to(self._device)
        # Otherwise Whisper's default stays: every head of the last half of the decoder layers,
        # coarser word timings, but it works for fine-tuned or custom sizes.
        return model


# offline, refused, timed out or cut off part way
_NETWORK_ERRORS = (urllib.error.URLError, TimeoutError, ConnectionError, http.client.HTTPException)
_DOWNLOAD_CHUNK = 256 * 1024  # how often a download looks whether it was stopped


def _download(name: str, folder: Path, stopped: threading.Event) -> None:
    """Fetch the official model ``name`` into ``folder`` under Whisper's own file name, unless a
    file is there already (``whisper.load_model`` checks it, and fetches a damaged one again). The
    file appears whole and checked (the SHA-256 its address names) or not at all."""
    address = whisper._MODELS[name]
    target = folder / Path(address).name
    if target.exists():
        return
    _raise_if_stopped(stopped, name)
    folder.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    digest = hashlib.sha256()
    try:
        with (urllib.request.urlopen(address, timeout=60) as response, open(partial, "wb") as out,
              # on a terminal (the command line), the progress Whisper's own download showed
              tqdm(total=response.length, desc=f"Whisper {name}", unit="B", unit_scale=True,
                   unit_divisor=1024, disable=None) as progress):
            expected = response.length
            while not stopped.is_set() and (chunk := response.read(_DOWNLOAD_CHUNK)):
                digest.update(chunk)
                out.write(chunk)
                progress.update(len(chunk))
            _raise_if_stopped(stopped, name)
            if response.length:  # what was announced and never came: urllib ends such a read quietly
                raise ConnectionError(f"the connection closed after {expected - response.length:,} of "
                                      f"{expected:,} bytes")
        if digest.hexdigest() != address.split("/")[-2]:
            raise TranscriptionModelUnavailable(
                f"The Whisper model '{name}' arrived damaged (its checksum does not match). Try again; "
                "if it keeps failing, choose a local Whisper model file (.pt) instead."
            )
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


def _raise_if_stopped(stopped: threading.Event, name: str) -> None:
    if stopped.is_set():
        raise TranscriptionStopped(f"The download of the Whisper model '{name}' was stopped.")


def check_model_file(path: str | PathLike[str]) -> None:
    """Raise :class:`NotAWhisperModel` unless ``path`` is a Whisper checkpoint (.pt), e.g. before
    the person's choice of a file is kept. Read as Whisper reads it (torch's weights-only loader,
    which runs no code from the file), memory-mapped, so the weights themselves are not read."""
    name = os.fspath(path)
    try:
        checkpoint = torch.load(name, map_location="cpu", weights_only=True, mmap=True)
    except OSError as error:
        reason = f"it cannot be read: {error.strerror or error}"
    except pickle.UnpicklingError:
        reason = "it holds more than model weights, and such files are never opened"
    except Exception:  # torch reports a file of another kind in many ways
        reason = "it is not a PyTorch checkpoint"
    else:
        try:
            ModelDimensions(**checkpoint["dims"])
            reason = None if isinstance(checkpoint["model_state_dict"], dict) else "it has no weights"
        except (KeyError, TypeError):
            reason = "it is a PyTorch checkpoint, but not of a Whisper model"
    if reason is not None:
        raise NotAWhisperModel(f"{Path(name).name} is not a Whisper model file: {reason}. Choose a "
                               "checkpoint saved by Whisper (.pt), like those it downloads into "
                               "~/.cache/whisper.")


def _official_dims(
    n_mels: int, n_vocab: int, width: int, heads: int, audio_layers: int, text_layers: int
) -> ModelDimensions:
    return ModelDimensions(
        n_mels=n_mels,
        n_audio_ctx=1500,
        n_audio_state=width,
        n_audio_head=heads,
        n_audio_layer=audio_layers,
        n_vocab=n_vocab,
        n_text_ctx=448,
        n_text_state=width,
        n_text_head=heads,
        n_text_layer=text_layers,
    )


# The sizes of the official models, which Whisper keeps only inside their checkpoints; used to
# recognise a local copy of one. Oldest first: large-v1 and large-v2 share their sizes, and a
# copy whose file name does not say which gets the heads of the newer one.
_OFFICIAL_DIMS = {
    "tiny.en": _official_dims(80, 51864, 384, 6, 4, 4),
    "tiny": _official_dims(80, 51865, 384, 6, 4, 4),
    "base.en": _official_dims(80, 51864, 512, 8, 6, 6),
    "base": _official_dims(80, 51865, 512, 8, 6, 6),
    "small.en": _official_dims(80, 51864, 768, 12, 12, 12),
    "small": _official_dims(80, 51865, 768, 12, 12, 12),
    "medium.en": _official_dims(80, 51864, 1024, 16, 24, 24),
    "medium": _official_dims(80, 51865, 1024, 16, 24, 24),
    "large-v1": _official_dims(80, 51865, 1280, 20, 32, 32),
    "large-v2": _official_dims(80, 51865, 1280, 20, 32, 32),
    "large-v3": _official_dims(128, 51866, 1280, 20, 32, 32),
    "large-v3-turbo": _official_dims(128, 51866, 1280, 20, 32, 4),
}


def _official_model_name(dims: ModelDimensions, path: str) -> str | None:
    """The official model whose sizes ``dims`` are, preferring the one the file is named after."""
    matches = [name for name, official in _OFFICIAL_DIMS.items() if official == dims]
    if not matches:
        return None
    stem = Path(path).stem
    return stem if stem in matches else matches[-1]


def _checked_model_name(model: str | PathLike[str]) -> str:
    name = os.fspath(model)
    if name in whisper.available_models() or Path(name).is_file():
        return name
    raise InvalidParameter(
        "Whisper model",
        name,
        f"use one of {', '.join(whisper.available_models())}, or the path of a Whisper model file (.pt)",
    )


def _checked_device(device: str | torch.device | None) -> torch.device:
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        return torch.device(device)
    except (RuntimeError, TypeError) as error:
        raise InvalidParameter("device", device, "use a torch device such as 'cpu' or 'cuda'") from error


def _checked_language(language: str | None) -> str | None:
    if language is None:
        return None
    code = TO_LANGUAGE_CODE.get(language.lower(), language.lower())
    if code not in LANGUAGES:
        raise InvalidParameter(
            "language", language, "use a language Whisper knows, by code ('en') or name ('english')"
        )
    return code


def _whisper_input(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """Mono float32 samples at Whisper's rate (16 kHz); Whisper itself only resamples files."""
    samples = np.asarray(audio, dtype=np.float32)
    if samples.ndim != 1:
        raise InvalidParameter(
            "audio", f"an array of shape {samples.shape}", "a voice reference must be mono (one channel)"
        )
    if sample_rate <= 0:
        raise InvalidParameter("sample_rate", sample_rate, "it must be a positive number of Hz")
    if sample_rate != WHISPER_SAMPLE_RATE:
        samples = soxr.resample(samples, sample_rate, WHISPER_SAMPLE_RATE)
    return samples


def _timed_words(result: dict, duration_s: float) -> list[TimedWord]:
    """Whisper's words without spaces inside, in order, not overlapping and within the clip.

    Whisper times words window by window (and glues leading punctuation on with a space), so a
    word can start before the previous one ends or end past the clip.
    """
    words: list[TimedWord] = []
    previous_end = 0.0
    for segment in result["segments"]:
        for word in segment.get("words", []):
            text = "".join(word["word"].split())
            if not text:
                continue
            start = min(max(float(word["start"]), previous_end), duration_s)
            end = min(max(float(word["end"]), start), duration_s)
            words.append(TimedWord(text, start, end))
            previous_end = end
    return words
