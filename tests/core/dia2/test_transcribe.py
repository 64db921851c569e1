"""Whisper transcription of voice references, corrected transcripts and word lists from JSON.

No Whisper weights can be downloaded where these tests run, so they build tiny Whisper checkpoints
(a random encoder, a decoder set to say a fixed script) and run them through the real loading
and transcription code, word timestamps included.
"""

import base64
import gzip
import random
import threading
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import whisper

from core.dia2.transcribe import (
    _OFFICIAL_DIMS,
    NoSpeechFound,
    TranscriptionModelUnavailable,
    WhisperTranscriber,
    _official_model_name,
    default_whisper_model,
    downloaded_models,
    model_on_disk,
    whisper_cache_folder,
)
from core.dia2.transcript_alignment import (
    InvalidWordTimings,
    TimedWord,
    apply_corrected_text,
    load_words_json,
    words_from_json,
)
from core.errors import DiaStudioError, InvalidParameter
from tests.scripted_whisper import TINY_DIMS, scripted_whisper_checkpoint

VOICES = Path(__file__).parents[2] / "fixtures" / "voices"

@pytest.fixture(scope="module")
def hello_whisper(tmp_path_factory) -> Path:
    return scripted_whisper_checkpoint(["Hello", "world"], tmp_path_factory.mktemp("whisper") / "hello.pt")


@pytest.fixture(scope="module")
def mute_whisper(tmp_path_factory) -> Path:
    return scripted_whisper_checkpoint([], tmp_path_factory.mktemp("whisper") / "mute.pt")


@pytest.fixture(scope="module")
def speaker1() -> tuple[np.ndarray, int]:
    audio, sample_rate = sf.read(VOICES / "speaker1_24k_mono.wav", dtype="float32")
    return audio, sample_rate


def _transcriber(model, **options) -> WhisperTranscriber:
    return WhisperTranscriber(model, device="cpu", **options)  # fp32, so runs match exactly


def _assert_heard_hello_world(words: list[TimedWord], duration_s: float) -> None:
    assert [word.text for word in words] == ["Hello", "world"]
    previous_end = 0.0
    for word in words:
        assert isinstance(word, TimedWord)
        assert isinstance(word.start_s, float) and isinstance(word.end_s, float)
        assert previous_end <= word.start_s <= word.end_s <= duration_s
        previous_end = word.end_s


# --- WhisperTranscriber -------------------------------------------------------------------------


def test_transcribes_a_reference_into_timed_words(hello_whisper, speaker1):
    audio, sample_rate = speaker1
    words = _transcriber(hello_whisper).transcribe(audio, sample_rate)
    _assert_heard_hello_world(words, duration_s=len(audio) / sample_rate)


def test_transcribes_in_a_given_language_at_whispers_own_rate(hello_whisper):
    audio, sample_rate = sf.read(VOICES / "speaker1_16k.flac", dtype="float32")
    words = _transcriber(hello_whisper).transcribe(audio, sample_rate, language="English")
    _assert_heard_hello_world(words, duration_s=len(audio) / sample_rate)


def test_loads_the_model_once_across_calls(hello_whisper, speaker1):
    loads = []
    transcriber = _transcriber(hello_whisper, on_model_load=loads.append)
    assert not transcriber.is_loaded
    first = transcriber.transcribe(*speaker1)
    assert transcriber.transcribe(*speaker1) == first
    assert loads == [str(hello_whisper)]
    assert transcriber.is_loaded


def test_threads_share_one_load_and_do_not_disturb_each_other(hello_whisper, speaker1):
    alone = _transcriber(hello_whisper).transcribe(*speaker1)
    loads = []
    transcriber = _transcriber(hello_whisper, on_model_load=loads.append)
    start = threading.Barrier(2)
    results = []

    def transcribe():
        start.wait()
        results.append(transcriber.transcribe(*speaker1))

    threads = [threading.Thread(target=transcribe) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert loads == [str(hello_whisper)]
    assert results == [alone, alone]


def test_load_unload_and_load_again(hello_whisper):
    loads = []
    transcriber = _transcriber(hello_whisper, on_model_load=loads.append)
    transcriber.load()
    transcriber.load()
    transcriber.unload()
    assert not transcriber.is_loaded
    transcriber.load()
    assert transcriber.is_loaded and len(loads) == 2


def test_no_words_heard_is_a_clear_error(mute_whisper, speaker1):
    with pytest.raises(NoSpeechFound, match="No speech was found in the voice reference"):
        _transcriber(mute_whisper).transcribe(*speaker1)


def test_offline_download_tells_the_user_what_to_do(tmp_path, monkeypatch, speaker1):
    # Whisper's real download, sent through a proxy on a closed local port so that it fails on any
    # machine (urllib reads the proxy settings when this process first opens a URL).
    for variable in ("https_proxy", "HTTPS_PROXY"):
        monkeypatch.setenv(variable, "http://127.0.0.1:9")
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    cache = tmp_path / "whisper-cache"
    transcriber = _transcriber("tiny", download_root=cache)

    with pytest.raises(TranscriptionModelUnavailable) as raised:
        transcriber.transcribe(*speaker1)

    message = str(raised.value)
    assert "'tiny'" in message and "could not be downloaded" in message
    assert "Connect to the internet" in message and str(cache) in message
    assert "local Whisper model file" in message
    assert isinstance(raised.value, DiaStudioError)
    assert not transcriber.is_loaded
    assert list(cache.iterdir()) == []


def test_a_file_that_is_not_a_checkpoint_is_a_clear_error():
    transcriber = _transcriber(VOICES / "not_audio.wav")
    with pytest.raises(TranscriptionModelUnavailable, match="could not be loaded; is it a Whisper checkpoint"):
        transcriber.load()


@pytest.mark.parametrize(
    "options, field",
    [
        ({"model": "huge-v9"}, "Whisper model"),
        ({"model": "/no/such/whisper.pt"}, "Whisper model"),
        ({"model": "tiny", "device": "toaster"}, "device"),
    ],
)
def test_invalid_settings_are_refused_up_front(options, field):
    with pytest.raises(InvalidParameter) as raised:
        WhisperTranscriber(**options)
    assert raised.value.field == field


def test_the_default_model_suits_the_device_and_a_chosen_one_is_kept():
    assert default_whisper_model("cpu") == "small"  # large-v3 would take minutes a voice
    assert default_whisper_model("cuda") == "large-v3"  # the reference runtime's
    assert WhisperTranscriber(device="cpu")._model_name == "small"
    assert WhisperTranscriber(device="cuda")._model_name == "large-v3"  # named, not loaded: no GPU needed
    assert WhisperTranscriber("large-v3", device="cpu")._model_name == "large-v3"


def test_the_downloaded_models_are_found_where_whisper_keeps_them(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert whisper_cache_folder() == tmp_path / "cache" / "whisper"
    assert downloaded_models() == {}
    whisper_cache_folder().mkdir(parents=True)
    scripted_whisper_checkpoint(["Hi"], whisper_cache_folder() / "small.pt")
    (whisper_cache_folder() / "large-v3.pt").write_bytes(bytes(3000))
    size = (whisper_cache_folder() / "small.pt").stat().st_size
    assert downloaded_models() == {"small": size, "large-v3": 3000, "large": 3000}  # "large" is large-v3

    root = tmp_path / "elsewhere"
    root.mkdir()
    (root / "tiny.en.pt").write_bytes(bytes(10))
    assert downloaded_models(root) == {"tiny.en": 10}


def test_a_model_counts_as_on_disk_only_once_downloaded_or_chosen_as_a_file(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert model_on_disk(None, "cpu") is None and model_on_disk("base", "cpu") is None  # would download
    whisper_cache_folder().mkdir(parents=True)
    (whisper_cache_folder() / "small.pt").write_bytes(bytes(10))
    assert model_on_disk(None, "cpu") == "small"  # the processor's default
    assert model_on_disk(None, "cuda") is None  # large-v3 is not there
    assert model_on_disk("base", "cpu") is None
    chosen = tmp_path / "mine.pt"
    assert model_on_disk(str(chosen), "cpu") is None
    chosen.write_bytes(bytes(10))
    assert model_on_disk(str(chosen), "cpu") == str(chosen)


@pytest.mark.parametrize(
    "audio, sample_rate, language, field",
    [
        (np.zeros((2, 24000), np.float32), 24000, None, "audio"),
        (np.zeros(24000, np.float32), 0, None, "sample_rate"),
        (np.zeros(24000, np.float32), 24000, "klingon", "language"),
    ],
)
def test_invalid_input_is_refused_before_loading(hello_whisper, audio, sample_rate, language, field):
    transcriber = _transcriber(hello_whisper)
    with pytest.raises(InvalidParameter) as raised:
        transcriber.transcribe(audio, sample_rate, language=language)
    assert raised.value.field == field
    assert not transcriber.is_loaded


def test_official_sizes_agree_with_whispers_alignment_heads():
    for name, dims in _OFFICIAL_DIMS.items():
        mask = gzip.decompress(base64.b85decode(whisper._ALIGNMENT_HEADS[name]))
        assert len(mask) == dims.n_text_layer * dims.n_text_head, name  # one byte per head


def test_a_local_copy_of_an_official_model_is_recognised():
    large = _OFFICIAL_DIMS["large-v2"]
    assert _official_model_name(_OFFICIAL_DIMS["tiny"], "/models/whatever.pt") == "tiny"
    assert _official_model_name(_OFFICIAL_DIMS["tiny.en"], "/models/whatever.pt") == "tiny.en"
    assert _official_model_name(large, "/cache/large-v1.pt") == "large-v1"
    assert _official_model_name(large, "/models/my-large.pt") == "large-v2"
    assert _official_model_name(TINY_DIMS, "/models/tiny.pt") is None


# --- apply_corrected_text -----------------------------------------------------------------------


def _words(*items: tuple[str, float, float]) -> list[TimedWord]:
    return [TimedWord(*item) for item in items]


def _spans(words: list[TimedWord]) -> list[tuple[str, float, float]]:
    return [(w.text, pytest.approx(w.start_s), pytest.approx(w.end_s)) for w in words]


HEARD = _words(
    ("Hello", 0.3, 0.6), ("there.", 0.7, 1.0), ("This", 1.2, 1.4), ("is", 1.4, 1.5),
    ("the", 1.5, 1.6), ("furst", 1.6, 2.0), ("speaker", 2.0, 2.6),
)


def test_unchanged_text_keeps_every_timing():
    assert apply_corrected_text(HEARD, "Hello there. This is the furst speaker") == HEARD


def test_case_and_punctuation_changes_still_match_and_keep_the_corrected_spelling():
    corrected = apply_corrected_text(HEARD, "hello, THERE this is... the furst speaker!")
    assert [w.text for w in corrected] == ["hello,", "THERE", "this", "is...", "the", "furst", "speaker!"]
    assert [(w.start_s, w.end_s) for w in corrected] == [(w.start_s, w.end_s) for w in HEARD]


def test_a_word_replaced_one_for_one_takes_its_timing():
    corrected = apply_corrected_text(HEARD, "Hello there. This is the first speaker")
    assert corrected[5] == TimedWord("first", 1.6, 2.0)
    assert corrected[:5] == HEARD[:5] and corrected[6:] == HEARD[6:]


def test_replacements_of_another_count_share_the_replaced_span():
    two_for_one = apply_corrected_text(HEARD, "Hello there. This is the very first speaker")
    assert _spans(two_for_one)[5:7] == [("very", 1.6, 1.8), ("first", 1.8, 2.0)]
    one_for_two = apply_corrected_text(HEARD, "Hello there. This is the firstspeaker")
    assert one_for_two[5:] == [TimedWord("firstspeaker", 1.6, 2.6)]


def test_insertions_share_the_gap_between_their_neighbours():
    corrected = apply_corrected_text(HEARD, "Hello my friend there. This is the furst speaker")
    assert _spans(corrected)[:4] == [
        ("Hello", 0.3, 0.6), ("my", 0.6, 0.65), ("friend", 0.65, 0.7), ("there.", 0.7, 1.0),
    ]


def test_an_insertion_between_touching_words_shares_the_previous_word():
    corrected = apply_corrected_text(HEARD, "Hello there. This really is the furst speaker")
    assert _spans(corrected)[2:5] == [("This", 1.2, 1.3), ("really", 1.3, 1.4), ("is", 1.4, 1.5)]


def test_an_insertion_at_the_end_shares_the_last_word():
    corrected = apply_corrected_text(HEARD, "Hello there. This is the furst speaker today")
    assert _spans(corrected)[-2:] == [("speaker", 2.0, 2.3), ("today", 2.3, 2.6)]


def test_an_insertion_at_the_start_takes_the_silence_before_the_first_word():
    corrected = apply_corrected_text(HEARD, "Well, hello there. This is the furst speaker")
    assert _spans(corrected)[:2] == [("Well,", 0.0, 0.3), ("hello", 0.3, 0.6)]


def test_an_insertion_at_the_start_with_no_silence_shares_the_first_word():
    heard = _words(("world", 0.0, 0.4), ("peace", 0.5, 0.9))
    corrected = apply_corrected_text(heard, "hello world peace")
    assert _spans(corrected) == [("hello", 0.0, 0.2), ("world", 0.2, 0.4), ("peace", 0.5, 0.9)]


def test_deleted_words_leave_silence():
    corrected = apply_corrected_text(HEARD, "Hello. This is the furst speaker")
    assert corrected == [TimedWord("Hello.", 0.3, 0.6), *HEARD[2:]]


def test_an_all_new_text_spreads_over_everything_heard():
    corrected = apply_corrected_text(HEARD, "Completely\tdifferent\n words")
    third = (2.6 - 0.3) / 3
    assert _spans(corrected) == [
        ("Completely", 0.3, 0.3 + third), ("different", 0.3 + third, 2.6 - third), ("words", 2.6 - third, 2.6),
    ]


def test_any_correction_keeps_timings_in_order_without_overlap():
    vocabulary = ["hello", "there", "this", "is", "the", "first", "speaker", "new", "words", "!"]
    rng = random.Random(7)
    for _ in range(300):
        corrected = " ".join(rng.choices(vocabulary, k=rng.randint(1, 12)))
        result = apply_corrected_text(HEARD, corrected)
        assert [w.text for w in result] == corrected.split()
        previous_end = 0.0
        for word in result:
            assert previous_end <= word.start_s <= word.end_s <= HEARD[-1].end_s, corrected
            previous_end = word.end_s


def test_an_empty_correction_or_no_heard_words_is_refused():
    with pytest.raises(InvalidParameter, match="at least one word"):
        apply_corrected_text(HEARD, "  \n ")
    with pytest.raises(InvalidParameter, match="needs timed words"):
        apply_corrected_text([], "hello")


def test_heard_words_out_of_order_are_refused():
    with pytest.raises(InvalidWordTimings, match="Word 2"):
        apply_corrected_text(_words(("a", 1.0, 2.0), ("b", 0.5, 0.8)), "a b")


# --- words_from_json / load_words_json ----------------------------------------------------------


def test_words_from_json():
    assert words_from_json('[["Hello", 0, 0.48], ["there", 0.52, 0.9]]') == [
        TimedWord("Hello", 0.0, 0.48), TimedWord("there", 0.52, 0.9),
    ]


@pytest.mark.parametrize(
    "text, message",
    [
        ('[["Hello", 0, 0.5]', "not valid JSON"),
        ('{"Hello": [0, 0.5]}', "non-empty JSON list"),
        ("[]", "non-empty JSON list"),
        ('[["Hello", 0, 0.5], ["there", 0.6]]', r"Word 2 \(\[\"there\", 0.6\]\) must be \[word, start_s, end_s\]"),
        ('[["Hello", "0", 0.5]]', "Word 1 .* must be"),
        ('[["Hello", true, 0.5]]', "Word 1 .* must be"),
        ('[[7, 0, 0.5]]', "Word 1 .* must be"),
        ('[["Hello", 0, 0.5], ["", 0.6, 0.7]]', "Word 2 .*one word"),
        ('[["Hello there", 0, 0.5]]', "Word 1 .*one word"),
        ('[["Hello", -0.1, 0.5]]', "Word 1 .*before 0 s"),
        ('[["Hello", 0, 0.5], ["there", 0.9, 0.7]]', "Word 2 .*ends before it starts"),
        ('[["Hello", 0, 0.5], ["there", 0.4, 0.7]]', "Word 2 .*before the previous word ends"),
        ('[["Hello", 0, NaN]]', "Word 1 .*finite"),
    ],
)
def test_words_from_json_names_what_is_wrong(text, message):
    with pytest.raises(InvalidWordTimings, match=message):
        words_from_json(text)


def test_load_words_json(tmp_path):
    path = tmp_path / "s1-words.json"
    path.write_text('[["Hi", 0.1, 0.3]]', encoding="utf-8")
    assert load_words_json(path) == [TimedWord("Hi", 0.1, 0.3)]
    with pytest.raises(InvalidWordTimings, match="Could not read the word timings file"):
        load_words_json(tmp_path / "missing.json")
