"""`dia-studio render` end to end with the tiny parity checkpoint: real loading, generation,
voice references, encoding, and the file decoded back."""

import json
import subprocess
import sys
from pathlib import Path

import av
import numpy as np
import pytest
import soundfile

from app.main import main
from core.audio.tags import ExportMetadata
from tests.core.dia2.golden import CHECKPOINT
from tests.scripted_whisper import scripted_whisper_checkpoint

VOICES = Path(__file__).parents[1] / "fixtures" / "voices"
REPO = Path(__file__).parents[2]
SCRIPT = "[S1] Hello there. [S2] Hi! (laughs) How are you?"
# A folder no one may write in, root included (sysfs makes no files).
UNWRITABLE = Path("/sys")
needs_unwritable = pytest.mark.skipif(not UNWRITABLE.is_dir(), reason="no /sys on this system")


def _words_file(tmp_path) -> Path:
    path = tmp_path / "s1_words.json"
    path.write_text(json.dumps([["Hello", 0.3, 0.7], ["there.", 0.8, 1.2], ["This", 1.4, 1.6], ["is", 1.7, 1.8]]))
    return path


def _render(*flags: str) -> int:
    return main(["render", "--model", str(CHECKPOINT), "--device", "cpu", *flags])


def _tags(path: Path) -> dict:
    with av.open(str(path)) as container:
        return {key.lower(): value for key, value in container.metadata.items()}


def test_renders_a_dialogue_with_a_voice_through_the_console_command(tmp_path):
    out = tmp_path / "dialogue.mp3"
    codes = tmp_path / "codes.npy"
    command = [sys.executable, "-m", "app.main", "render", "--model", str(CHECKPOINT), "--script", SCRIPT,
               "--s1", str(VOICES / "speaker1_24k_mono.wav"), "--s1-words", str(_words_file(tmp_path)),
               "--seed", "7", "--cfg-scale", "2.5", "--out", str(out), "--codes-out", str(codes),
               "--sample-rate", "44100", "--bitrate", "128", "--channels", "2", "--dtype", "int8", "--threads", "1"]
    finished = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=300,
                              env={**__import__("os").environ, "PYTHONPATH": str(REPO)})
    assert finished.returncode == 0, finished.stderr
    assert "seed 7" in finished.stderr and "frame" in finished.stderr and "(int8)" in finished.stderr
    grid = np.load(codes)
    assert grid.shape[0] == 32 and grid.shape[1] > 10 and grid.max() < 2048
    with av.open(str(out)) as container:
        stream = container.streams.audio[0]
        assert (stream.codec_context.sample_rate, stream.codec_context.channels) == (44100, 2)
        assert stream.codec_context.name.startswith("mp3")
        decoded = np.concatenate([frame.to_ndarray() for frame in container.decode(stream)], axis=1)
    expected_s = grid.shape[1] * 1920 / 24000
    assert abs(decoded.shape[1] / 44100 - expected_s) < 0.1
    assert np.abs(decoded).max() > 0.01  # real audio, not silence
    made_with = ExportMetadata.from_tags(_tags(out))
    assert made_with.seed == 7 and made_with.parameters["CFGScale"] == 2.5
    assert made_with.parameters["model"] == "checkpoint (local folder)"  # the folder loaded, not "dia2-2b"


def test_the_same_seed_gives_the_same_codes_and_takes_get_consecutive_seeds(tmp_path):
    first, second = tmp_path / "a.npy", tmp_path / "b.npy"
    assert _render("--script", SCRIPT, "--seed", "11", "--out", str(tmp_path / "a.wav"), "--codes-out", str(first)) == 0
    assert _render("--script", SCRIPT, "--seed", "11", "--number-results", "2",
                   "--out", str(tmp_path / "b.flac"), "--codes-out", str(second)) == 0
    take1, take2 = np.load(tmp_path / "b_take1.npy"), np.load(tmp_path / "b_take2.npy")
    np.testing.assert_array_equal(np.load(first), take1)
    assert not np.array_equal(take1, take2) or take1.shape != take2.shape
    seeds = [ExportMetadata.from_tags(_tags(tmp_path / f"b_take{i}.flac")).seed for i in (1, 2)]
    assert seeds == [11, 12]
    audio, rate = soundfile.read(tmp_path / "a.wav")
    assert rate == 24000 and audio.ndim == 1 and len(audio) == np.load(first).shape[1] * 1920


def test_a_corrected_transcript_uses_whisper_timings_with_the_users_words(tmp_path, capsys):
    whisper_model = scripted_whisper_checkpoint(["Hello", "world"], tmp_path / "hello.pt")
    out = tmp_path / "take.ogg"
    assert _render("--script", SCRIPT, "--seed", "1", "--s1", str(VOICES / "speaker1_16k.flac"),
                   "--whisper-model", str(whisper_model), "--s1-text", "Hello there", "--out", str(out)) == 0
    assert "words: Hello there" in capsys.readouterr().err
    with av.open(str(out)) as container:
        assert container.streams.audio[0].codec_context.name == "vorbis"


def offline_without_whisper(monkeypatch, tmp_path) -> None:
    """No Whisper model on this computer (an empty cache) and no network to download one."""
    import urllib.request

    def offline(*args, **kwargs):
        raise urllib.error.URLError("no network")

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "empty-cache"))
    monkeypatch.setattr(urllib.request, "urlopen", offline)


def test_a_typed_transcript_needs_no_whisper_as_in_the_window(tmp_path, capsys, monkeypatch):
    offline_without_whisper(monkeypatch, tmp_path)
    text = "Hello there. This is the first speaker"
    out = tmp_path / "take.wav"
    assert _render("--script", SCRIPT, "--seed", "1", "--s1", str(VOICES / "speaker1_24k_mono.wav"),
                   "--whisper-model", "tiny", "--s1-text", text, "--out", str(out)) == 0
    progress = capsys.readouterr().err
    assert "could not be downloaded (no network)" in progress and "spread over the clip" in progress
    assert f"words: {text}" in progress
    assert soundfile.info(out).frames > 0


def test_without_whisper_nor_words_the_error_says_how_to_give_them(tmp_path, capsys, monkeypatch):
    offline_without_whisper(monkeypatch, tmp_path)
    assert _render("--script", SCRIPT, "--s1", str(VOICES / "speaker1_24k_mono.wav"), "--whisper-model", "tiny",
                   "--out", str(tmp_path / "x.wav")) == 2
    error = capsys.readouterr().err
    assert "could not be downloaded" in error and "Traceback" not in error
    assert 'give the words of --s1 with --s1-words FILE.json, or --s1-text "what is said"' in error


@pytest.mark.parametrize("voice, words, message", [
    ("silence_3s.wav", None, "silence_3s.wav' is silent"),
    ("not_audio.wav", None, "not_audio.wav"),
    ("truncated.wav", None, "truncated.wav"),
    ("speaker1_24k_mono.wav", [["Hello", 30.0, 30.5]], "None of the given words falls inside the voice clip"),
    ("speaker1_24k_mono.wav", [["Hello", 0.5, 0.2]], "it ends before it starts"),
])
def test_voice_files_are_checked_before_the_model_loads(tmp_path, capsys, voice, words, message):
    flags = ["--s1", str(VOICES / voice)]
    if words is not None:
        (tmp_path / "words.json").write_text(json.dumps(words))
        flags += ["--s1-words", str(tmp_path / "words.json")]
    # A model folder that does not exist: its error would come first if the model loaded first.
    assert main(["render", "--model", str(tmp_path / "no-model"), "--script", SCRIPT, *flags,
                 "--out", str(tmp_path / "x.wav")]) == 2
    error = capsys.readouterr().err
    assert message in error and "loading" not in error and "Traceback" not in error


@pytest.mark.parametrize("flags, message", [
    (["--cfg-scale", "0.5"], "CFGScale = 0.5 is not allowed: a number from 1 to 30"),
    (["--top-k", "0"], "settings.topK = 0"),
    (["--number-results", "5"], "numberResults = 5"),
    (["--seed", "-1"], "seed = -1"),
    (["--bitrate", "128"], "audioSettings"),  # the output is .wav: lossless takes no settings
    (["--s2", str(VOICES / "speaker2_48k.ogg")], "--s2 needs --s1"),
    (["--s1", str(VOICES / "silence_3s.wav"), "--s1-words", "WORDS"], "silent"),
    (["--s1", str(VOICES / "not_audio.wav"), "--s1-words", "WORDS"], "not_audio.wav"),
    (["--s1", str(VOICES / "missing.wav")], "does not exist"),
    (["--model", "/nonexistent/folder"], "is not a folder"),
    (["--threads", "0"], "--threads 0: give 1 or more"),
    (["--warm-voices-mb", "-1"], "--warm-voices-mb -1: give 0 or more"),
])
def test_bad_input_gives_one_clear_line_and_exit_status_2(tmp_path, capsys, flags, message):
    flags = [str(_words_file(tmp_path)) if flag == "WORDS" else flag for flag in flags]
    out = tmp_path / "out.wav"
    assert _render("--script", SCRIPT, "--out", str(out), *flags) == 2
    error = capsys.readouterr().err
    assert message in error and "Traceback" not in error
    assert not out.exists()


@pytest.mark.parametrize("script, message", [
    ('<break time="1s"/>', "no words to speak"),
    ("Hi [S2]", "[S2] at the end of the script has no words after it"),
    ('[S1] Wait <break time="soon"/> now', "needs a duration in seconds"),
    ("[S3] Hello", "[S3] is not a speaker tag: Dia2 has two speakers, [S1] and [S2]."),
])
def test_an_unspeakable_script_is_refused(tmp_path, capsys, script, message):
    assert _render("--script", script, "--out", str(tmp_path / "x.wav")) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("script, message", [
    ("", "The script has no words to speak."),
    ("[S1] [S2]", "The speaker tag [S2] at the end of the script has no words after it."),
    ("[S3] Hello", "[S3] is not a speaker tag: Dia2 has two speakers, [S1] and [S2]."),
    ('<break time="1s"/> [S1] Hello', "The script starts with a pause"),
])
@pytest.mark.parametrize("given_as", ["--script", "--script-file"])
def test_a_script_the_model_cannot_speak_is_refused_before_it_loads(tmp_path, capsys, script, message, given_as):
    if given_as == "--script-file":
        (tmp_path / "scene.txt").write_text(script, encoding="utf-8")
        script = str(tmp_path / "scene.txt")
    # A model folder that does not exist: its error would come first if the model loaded first.
    assert main(["render", "--model", str(tmp_path / "no-model"), given_as, script,
                 "--out", str(tmp_path / "x.wav")]) == 2
    error = capsys.readouterr().err
    assert error.startswith(f"dia-studio render: error: {message}") and error.count("\n") == 1


@pytest.mark.parametrize("flags, message", [
    (["--loudness", "50"], "--loudness 50: give -70 to 0 LUFS, e.g. -16"),
    (["--loudness", "nan"], "--loudness nan: give -70 to 0 LUFS"),
    pytest.param(["--out", str(UNWRITABLE / "x.wav")], f"the folder {UNWRITABLE} cannot be written to: Permission denied",
                 marks=needs_unwritable),
    (["--codes-out", "missing/codes.npy"], "the folder missing does not exist"),
])
def test_export_flags_are_refused_before_the_model_loads_not_after_the_take(tmp_path, capsys, flags, message):
    assert main(["render", "--model", str(tmp_path / "no-model"), "--script", SCRIPT, "--out", str(tmp_path / "x.wav"),
                 *flags]) == 2
    error = capsys.readouterr().err
    assert message in error and error.count("\n") == 1 and "loading" not in error


def test_a_voice_of_digital_silence_is_called_silent_in_words_not_in_infinite_decibels(tmp_path, capsys):
    soundfile.write(tmp_path / "zeros.wav", np.zeros(48000, np.float32), 24000)
    assert main(["render", "--model", str(tmp_path / "no-model"), "--script", SCRIPT, "--s1", str(tmp_path / "zeros.wav"),
                 "--out", str(tmp_path / "x.wav")]) == 2
    error = capsys.readouterr().err
    assert "'zeros.wav' is silent (every sample is zero); choose or record a clip" in error and "inf" not in error


def test_subtitles_of_a_script_are_written_beside_each_take_from_its_word_timings(tmp_path, capsys):
    out = tmp_path / "scene.wav"
    assert _render("--script", "Hello there.\n[S2] Hi! (laughs) How are you?", "--seed", "3", "--number-results", "2",
                   "--subtitles", "--out", str(out)) == 0
    said = capsys.readouterr().err
    for take in ("scene_take1", "scene_take2"):
        subtitles = tmp_path / f"{take}.srt"
        assert f"wrote {subtitles}" in said
        cues = [cue.split("\n") for cue in subtitles.read_text(encoding="utf-8").strip().split("\n\n")]
        assert [(number, text) for number, _, text in cues] == [
            ("1", "Speaker 1: Hello there."), ("2", "Speaker 2: Hi! (laughs) How are you?")]
        (start, first_end), (second_start, end) = [[_seconds(at) for at in times.split(" --> ")] for _, times, _ in cues]
        assert start == 0 and 0 < first_end == second_start < end
        assert end == pytest.approx(soundfile.info(tmp_path / f"{take}.wav").duration, abs=0.001)


def _seconds(timestamp: str) -> float:
    """An SRT time ("00:01:02,500") in seconds."""
    hours, minutes, seconds = timestamp.replace(",", ".").split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def test_best_of_checks_every_take_and_writes_only_the_best(tmp_path, capsys):
    script = "[S1] Hello there, how are you today? [S2] Fine, thanks."
    assert _render("--script", script, "--seed", "5", "--best-of", "3", "--out", str(tmp_path / "best.wav"),
                   "--codes-out", str(tmp_path / "best.npy")) == 0
    err = capsys.readouterr().err
    said = [line.strip() for line in err.splitlines() if line.strip().startswith(("take 1 (", "take 2 (", "take 3 ("))]
    assert [line.split(" (")[0] for line in said] == ["take 1", "take 2", "take 3"]
    scores = [int(line.split("score ")[1].split(";")[0]) for line in said]
    best = max(range(3), key=lambda index: (scores[index], -index))
    assert f"best of 3: take {best + 1} (score {scores[best]})" in err
    assert sorted(path.name for path in tmp_path.iterdir()) == ["best.npy", "best.wav"]
    # The file is that take, as --number-results writes it.
    assert _render("--script", script, "--seed", "5", "--number-results", "3", "--out", str(tmp_path / "all.wav"),
                   "--codes-out", str(tmp_path / "all.npy")) == 0
    np.testing.assert_array_equal(np.load(tmp_path / "best.npy"), np.load(tmp_path / f"all_take{best + 1}.npy"))


@pytest.mark.parametrize("flags, message", [
    (["--best-of", "5"], "--best-of is 5: give 2, 3 or 4 takes to choose from"),
    (["--best-of", "2", "--number-results", "2"], "give --best-of or --number-results, not both"),
])
def test_best_of_outside_its_range_is_refused(tmp_path, capsys, flags, message):
    assert _render("--script", "[S1] Hi.", *flags, "--out", str(tmp_path / "x.wav")) == 2
    assert message in capsys.readouterr().err


def _int16(path: Path) -> np.ndarray:
    return soundfile.read(path, dtype="int16")[0]


def test_stems_add_up_to_each_take_and_hold_each_speaker_s_lines_with_their_own_subtitles(tmp_path, capsys):
    out = tmp_path / "scene.wav"
    assert _render("--script", "Hello there.\n[S2] Hi! (laughs) How are you?", "--seed", "3", "--stems",
                   "--subtitles", "--number-results", "2", "--out", str(out)) == 0
    said = capsys.readouterr().err
    for take in ("scene_take1", "scene_take2"):
        mix, first, second = (_int16(tmp_path / f"{take}{part}.wav") for part in ("", ".S1", ".S2"))
        assert f"wrote {tmp_path / f'{take}.S1.wav'}" in said and f"wrote {tmp_path / f'{take}.S2.srt'}" in said
        assert len(mix) == len(first) == len(second)
        assert np.array_equal(first.astype(np.int32) + second, mix)
        # where [S2]'s line begins, as the take's subtitles time it: [S1]'s stem before it, [S2]'s after
        cues = (tmp_path / f"{take}.srt").read_text(encoding="utf-8").strip().split("\n\n")
        turn = round(_seconds(cues[1].split("\n")[1].split(" --> ")[0]) * 24000)
        assert 0 < turn < len(mix) and np.abs(mix[:turn]).max() > 0 and np.abs(mix[turn:]).max() > 0
        assert not first[turn:].any() and not second[:turn].any()
        theirs = [(tmp_path / f"{take}.{tag}.srt").read_text(encoding="utf-8") for tag in ("S1", "S2")]
        assert theirs[0] == cues[0] + "\n" and theirs[1].startswith("1\n") and "Speaker 2: Hi!" in theirs[1]
        assert ExportMetadata.from_tags(_tags(tmp_path / f"{take}.S2.wav")).speakers == ("S2",)


def test_lossy_stems_with_loudness_add_up_to_the_normalised_file(tmp_path, capsys):
    out = tmp_path / "scene.mp3"
    assert _render("--script", SCRIPT, "--seed", "3", "--stems", "--loudness", "-20", "--out", str(out)) == 0
    decoded = []
    for path in (out, tmp_path / "scene.S1.mp3", tmp_path / "scene.S2.mp3"):
        with av.open(str(path)) as container:
            decoded.append(np.concatenate([frame.to_ndarray() for frame in container.decode(audio=0)], axis=1))
    mix, first, second = decoded
    assert mix.shape == first.shape == second.shape
    residual = mix - first - second
    assert np.sqrt(np.mean(residual ** 2)) < 0.1 * np.sqrt(np.mean(mix ** 2))  # 20 dB under the sound
    import pyloudnorm

    assert pyloudnorm.Meter(44100).integrated_loudness(mix.T) == pytest.approx(-20, abs=1)


def test_stems_with_one_file_per_line_are_refused_before_anything_loads(tmp_path, capsys):
    assert main(["render", "--model", str(tmp_path / "no-model"), "--project", str(tmp_path / "Talk.diastudio"),
                 "--per-line", "--stems", "--out", str(tmp_path)]) == 2
    error = capsys.readouterr().err
    assert "--stems goes with one file, cut to its length: with --per-line each line is a file of its own" in error
    assert error.count("\n") == 1
