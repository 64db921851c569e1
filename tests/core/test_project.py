"""Project folders on real disk: round trip, atomic saves, validation, migration, recovery, recents."""

import errno
import json
import os
import stat

import numpy as np
import pytest
import soundfile

from core.dia2.transcript_alignment import TimedWord
from core.document.clips import AudioClip
from core.document.content import LineStatus
from core.document.dialogue import Dialogue
from core.document.speakers import Speaker, VoiceReference
from core.document.takes import Take
from core.lexicon.entry import LexiconEntry
from core.lexicon.lexicon import Lexicon
from core.params import GenerationParams
from core.project import layout, migrations, saving
from core.project.layout import ProjectFileError
from core.project.opening import open_project
from core.project.recent import RecentProjects
from core.project.recovery import discard_recovery, find_recoverable, prepare_autosave, recover, write_autosave
from core.project.saving import save_project
from core.take_checks.verdicts import CheckedTake, Flag, LineReport, TakeReport, Verdict
from tests.full_disk import fill_disk

RATE = 24_000


def noise(seconds, seed):
    return np.random.default_rng(seed).uniform(-1, 1, int(seconds * RATE)).astype(np.float32)


def content(dialogue):
    return (dialogue.lines, dict(dialogue.speakers), dialogue.params, dialogue.takes, dict(dialogue.kept_takes))


def new_take(dialogue, seed, seconds=0.5):
    a, b = dialogue.lines[:2]
    audio = AudioClip.from_samples(noise(seconds, seed), RATE)
    return Take(GenerationParams(cfg_scale=2.5, seed=seed), audio, dialogue.lines,
                words=[TimedWord("Hello", 0.0, 0.2), TimedWord("there.", 0.2, 0.3)], line_times={a.id: (0.0, 0.3), b.id: (0.3, seconds)})


@pytest.fixture
def dialogue():
    dialogue = Dialogue.from_script("[S1] Hello there. [S2] Hi! (laughs) Ünïcode ✓ [S1] Bye.")
    dialogue.edit_speaker(Speaker.S2, name="Bea", colour="#123abc")
    dialogue.set_voice(Speaker.S1, VoiceReference(AudioClip.from_samples(noise(0.3, 1), RATE),
                                                  [TimedWord("hello", 0.0, 0.25)], "Hello."))
    dialogue.set_params(GenerationParams(top_k=80, negative_prompt="muffled", number_results=2))
    dialogue.add_takes([new_take(dialogue, 10), new_take(dialogue, 11, seconds=0.7)])
    dialogue.keep_take(dialogue.takes[1].id, [dialogue.lines[0].id])
    return dialogue


def audio_files(folder):
    return sorted(path.name for path in (folder / "audio").iterdir())


def assert_same_audio(saved, opened):
    for before, after in zip(saved, opened):
        assert after.frame_count == before.frame_count
        assert np.abs(after.samples() - before.samples()).max() < 1e-6


# --- round trip -------------------------------------------------------------------------------

def test_round_trip_gives_back_the_document(dialogue, tmp_path):
    folder = tmp_path / "Talk.diastudio"
    save_project(dialogue, folder)
    assert not dialogue.modified
    opened = open_project(folder)
    assert content(opened) == content(dialogue)
    assert not opened.modified and not opened.undo_stack.can_undo
    clips = [dialogue.speakers[Speaker.S1].voice.audio] + [t.audio for t in dialogue.takes]
    assert_same_audio(clips, [opened.speakers[Speaker.S1].voice.audio] + [t.audio for t in opened.takes])
    assert opened.takes[0].created == dialogue.takes[0].created
    assert audio_files(folder) == sorted(f"{clip.id}.flac" for clip in clips)


def test_project_json_is_the_documented_schema(dialogue, tmp_path):
    folder = tmp_path / "Talk.diastudio"
    save_project(dialogue, folder)
    data = json.loads((folder / "project.json").read_text("utf-8"))
    assert data["format_version"] == 4
    assert list(data) == ["format_version", "speakers", "params", "lines", "takes", "kept_takes", "take_checks",
                          "lexicon"]
    assert data["lexicon"] == {"format": "dia-studio-lexicon", "version": 1, "entries": []}
    first, second = dialogue.takes
    assert data["kept_takes"] == {line.id: take.id for line, take in zip(dialogue.lines, (second, first, first))}
    assert data["params"] == {"model": "dia2-2b", "negativePrompt": "muffled", "CFGScale": 3.0,
                              "settings": {"temperature": 0.6, "audioTemperature": 0.8, "topK": 80,
                                           "includePrefix": False}, "numberResults": 2}
    assert data["lines"][1] == {"id": dialogue.lines[1].id, "speaker": "S2",
                                "text": "Hi! (laughs) Ünïcode ✓"}
    take = data["takes"][0]
    assert take["params"]["seed"] == 10
    assert take["audio"] == {"file": f"audio/{dialogue.takes[0].audio.id}.flac", "sample_rate": RATE,
                             "frames": 12_000}
    assert take["words"][0] == ["Hello", 0.0, 0.2]
    assert take["line_times"][dialogue.lines[0].id] == [0.0, 0.3]
    assert take["respelled"] == {}
    assert data["speakers"]["S1"]["voice"]["transcript"] == "Hello."
    assert data["speakers"]["S2"] == {"name": "Bea", "colour": "#123abc", "voice": None}
    info = soundfile.info(str(folder / take["audio"]["file"]))
    assert (info.format, info.subtype, info.channels) == ("FLAC", "PCM_24", 1)


def test_samples_beyond_full_scale_are_clipped(tmp_path):
    dialogue = Dialogue.from_script("[S1] Loud.")
    loud = AudioClip.from_samples(np.array([1.5, -2.0, 0.5], dtype=np.float32), RATE)
    dialogue.add_takes([Take(GenerationParams(seed=1), loud, dialogue.lines)])
    save_project(dialogue, tmp_path / "Loud.diastudio")
    stored = open_project(tmp_path / "Loud.diastudio").takes[0].audio.samples()
    assert np.abs(stored - [1.0, -1.0, 0.5]).max() < 1e-6


def test_saving_again_keeps_stored_audio_and_removes_unused_files(dialogue, tmp_path):
    folder = tmp_path / "Talk.diastudio"
    save_project(dialogue, folder)
    kept = folder / "audio" / f"{dialogue.takes[1].audio.id}.flac"
    kept_inode = kept.stat().st_ino
    dropped = dialogue.takes[0]
    dialogue.delete_take(dropped.id)
    dialogue.clear_voice(Speaker.S1)
    save_project(dialogue, folder)
    assert audio_files(folder) == [kept.name]
    assert kept.stat().st_ino == kept_inode  # not rewritten
    assert content(open_project(folder)) == content(dialogue)


def test_undo_brings_back_a_take_whose_file_was_removed(dialogue, tmp_path):
    folder = tmp_path / "Talk.diastudio"
    save_project(dialogue, folder)
    opened = open_project(folder)
    take = opened.takes[0]
    expected = take.audio.samples()
    opened.delete_take(take.id)
    save_project(opened, folder)
    assert not (folder / "audio" / f"{take.audio.id}.flac").exists()
    opened.undo_stack.undo()
    assert np.array_equal(opened.takes[0].audio.samples(), expected)
    save_project(opened, folder)
    assert np.array_equal(open_project(folder).takes[0].audio.samples(), expected)


def test_save_as_copies_the_audio_to_the_new_project(dialogue, tmp_path):
    save_project(dialogue, tmp_path / "A.diastudio")
    opened = open_project(tmp_path / "A.diastudio")
    save_project(opened, tmp_path / "B.diastudio")
    assert audio_files(tmp_path / "B.diastudio") == audio_files(tmp_path / "A.diastudio")
    assert content(open_project(tmp_path / "B.diastudio")) == content(dialogue)


def test_a_save_removes_temp_files_of_an_interrupted_save(dialogue, tmp_path):
    folder = tmp_path / "Talk.diastudio"
    save_project(dialogue, folder)
    (folder / ".project.json.0123abcd.part").write_text("{half")
    (folder / ".project.json.0123.tmp").write_text("{half")  # as older builds named it
    (folder / "audio" / ".abc.flac.partial").write_bytes(b"half")
    save_project(dialogue, folder)
    assert leftovers(folder) == []


def test_refuses_to_save_into_a_folder_that_is_not_a_project(dialogue, tmp_path):
    (tmp_path / "Documents").mkdir()
    (tmp_path / "Documents" / "letter.txt").write_text("keep me")
    with pytest.raises(ProjectFileError, match="not a Dia Studio project"):
        save_project(dialogue, tmp_path / "Documents")
    assert sorted(p.name for p in (tmp_path / "Documents").iterdir()) == ["letter.txt"]


# --- a crash mid-save leaves the previous save whole --------------------------------------------

def leftovers(folder):
    return [path.name for path in folder.rglob("*") if path.name.startswith(".")]


def test_failure_in_the_json_dump_keeps_the_previous_save(dialogue, tmp_path, monkeypatch):
    folder = tmp_path / "Talk.diastudio"
    save_project(dialogue, folder)
    saved = content(dialogue)
    dialogue.set_text(dialogue.lines[0].id, "Changed.")
    dialogue.add_takes([new_take(dialogue, 12)])

    def crash(*args, **kwargs):
        raise RuntimeError("power cut")

    monkeypatch.setattr(saving.json, "dumps", crash)
    with pytest.raises(RuntimeError, match="power cut"):
        save_project(dialogue, folder)
    monkeypatch.undo()
    assert dialogue.modified
    assert content(open_project(folder)) == saved
    assert leftovers(folder) == []
    save_project(dialogue, folder)  # the next save goes through and tidies up
    assert content(open_project(folder)) == content(dialogue)
    assert len(audio_files(folder)) == 4


def no_space(*args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def no_space_for_files(descriptor):
    """fsync that fails for files (a full disk) but not for folders."""
    if stat.S_ISREG(os.fstat(descriptor).st_mode):
        no_space()


def new_audio_size(dialogue, tmp_path):
    """The bytes the audio of the dialogue's newest take takes on disk (an autosave measures it:
    it leaves the document unsaved)."""
    copy = write_autosave(prepare_autosave(dialogue, None, tmp_path / "scratch"))
    return (copy.folder / "audio" / f"{dialogue.takes[-1].audio.id}.flac").stat().st_size


@pytest.mark.parametrize("fills", ["at once", "within the take's audio", "at project.json"])
def test_a_full_disk_keeps_the_previous_save_as_it_was(dialogue, tmp_path, monkeypatch, fills):
    folder = tmp_path / "disk" / "Talk.diastudio"
    save_project(dialogue, folder)
    saved, files = content(dialogue), audio_files(folder)
    dialogue.add_takes([new_take(dialogue, 12, seconds=2.0)])
    size = new_audio_size(dialogue, tmp_path)
    free = {"at once": 0, "within the take's audio": size // 2, "at project.json": size + 100}[fills]
    fill_disk(monkeypatch, tmp_path / "disk", free)
    with pytest.raises(ProjectFileError) as failure:
        save_project(dialogue, folder)
    assert str(failure.value) == (f"Could not save {folder}: No space left on device. "
                                  "Nothing on disk was changed.")
    assert dialogue.modified
    monkeypatch.undo()
    assert content(open_project(folder)) == saved
    assert audio_files(folder) == files and leftovers(folder) == []  # not even the take's audio
    save_project(dialogue, folder)  # space was freed
    assert content(open_project(folder)) == content(dialogue)


def test_a_new_project_on_a_full_disk_leaves_no_folder_behind(dialogue, tmp_path, monkeypatch):
    fill_disk(monkeypatch, tmp_path / "disk", free=1000)
    with pytest.raises(ProjectFileError, match="No space left on device"):
        save_project(dialogue, tmp_path / "disk" / "New" / "Talk.diastudio")
    assert list((tmp_path / "disk").iterdir()) == []
    assert dialogue.modified


def test_disk_full_while_writing_the_json_keeps_the_previous_save(dialogue, tmp_path, monkeypatch):
    folder = tmp_path / "Talk.diastudio"
    save_project(dialogue, folder)
    saved = content(dialogue)
    dialogue.set_text(dialogue.lines[0].id, "Changed.")  # no new audio: the json is the only write
    monkeypatch.setattr(saving.os, "fsync", no_space_for_files)
    with pytest.raises(ProjectFileError, match="Could not save .*No space left on device"):
        save_project(dialogue, folder)
    monkeypatch.undo()
    assert content(open_project(folder)) == saved
    assert leftovers(folder) == []


# --- opening checks the version and the content --------------------------------------------------

@pytest.fixture
def saved(dialogue, tmp_path):
    folder = tmp_path / "Talk.diastudio"
    save_project(dialogue, folder)
    return folder


def rewrite(folder, change):
    data = json.loads((folder / "project.json").read_text("utf-8"))
    change(data)
    (folder / "project.json").write_text(json.dumps(data), "utf-8")


def test_a_newer_format_asks_to_update(saved):
    rewrite(saved, lambda data: data.update(format_version=layout.FORMAT_VERSION + 1))
    with pytest.raises(ProjectFileError, match="newer Dia Studio .* update Dia Studio"):
        open_project(saved)


def as_format_1(data, picked):
    """What Dia Studio wrote before each line kept its own take: one picked take, or null."""
    data["format_version"] = 1
    del data["kept_takes"]
    data["picked_take"] = picked


def test_a_format_1_project_keeps_its_picked_take_for_its_lines_and_the_newest_for_the_others(saved, dialogue):
    first, second = dialogue.takes
    a, b, c = dialogue.lines
    rewrite(saved, lambda data: (as_format_1(data, first.id), data["takes"][1].update(
        lines=data["takes"][1]["lines"][:1], line_times={a.id: [0.0, 0.3]})))  # the newer take: line 1 only
    opened = open_project(saved)
    assert opened.kept_takes == {a.id: first.id, b.id: first.id, c.id: first.id}
    assert not opened.modified

    rewrite(saved, lambda data: data.update(picked_take=None))
    assert open_project(saved).kept_takes == {a.id: second.id, b.id: first.id, c.id: first.id}

    rewrite(saved, lambda data: data.update(picked_take="nope"))
    with pytest.raises(ProjectFileError, match="picked_take is 'nope', which is not one of the takes"):
        open_project(saved)


def checked_take(depends_on="v1"):
    flag = Flag("speaker", "sounds like Bea (S2): 0.70 to Ann, 0.91 to Bea", Verdict.BAD, 0.31)
    return CheckedTake(depends_on, TakeReport((LineReport(1, "S1", (0.0, 0.3)),
                                                LineReport(2, "S2", (0.3, 0.5), (flag,), ("misheard_words",)),
                                                LineReport(3, "S1", None)), ("No Whisper model.",)))


def test_the_takes_checks_are_saved_and_opened_with_the_project(dialogue, tmp_path):
    first, second = dialogue.takes
    dialogue.set_checks(first.id, checked_take())
    dialogue.set_checks("a-deleted-take", checked_take())
    folder = tmp_path / "Talk.diastudio"
    save_project(dialogue, folder)
    opened = open_project(folder)
    assert dict(opened.checks) == {first.id: checked_take()}
    assert opened.checks[first.id].report.score == 67


def test_a_format_2_project_opens_with_no_checks(saved, dialogue):
    dialogue.set_checks(dialogue.takes[0].id, checked_take())
    rewrite(saved, lambda data: (data.update(format_version=2), data.pop("take_checks")))
    opened = open_project(saved)
    assert dict(opened.checks) == {} and opened.kept_takes == dialogue.kept_takes


@pytest.mark.parametrize("damage", [
    lambda entry: entry.pop("report"),
    lambda entry: entry["report"]["lines"][0].update(verdict="fine", flags=[{"kind": "mystery"}]),
    lambda entry: entry["report"]["lines"][1]["flags"][0].update(kind="mystery"),
    lambda entry: entry["report"].update(lines="not a list of lines"),
])
def test_damaged_checks_are_left_out_and_the_project_opens(dialogue, tmp_path, damage):
    first, second = dialogue.takes
    dialogue.set_checks(first.id, checked_take())
    dialogue.set_checks(second.id, checked_take("v2"))
    folder = tmp_path / "Talk.diastudio"
    save_project(dialogue, folder)
    rewrite(folder, lambda data: damage(data["take_checks"][first.id]))
    assert dict(open_project(folder).checks) == {second.id: checked_take("v2")}


NGUYEN = Lexicon((LexiconEntry("Nguyen", "Win", note="the family name"), LexiconEntry("US", "U S", True)))


def test_the_lexicon_and_what_the_takes_read_are_saved_and_opened_with_the_project(tmp_path):
    dialogue = Dialogue.from_script("[S1] Hello Nguyen. [S2] Fine.")
    dialogue.set_lexicon(NGUYEN)
    first, second = dialogue.lines
    audio = AudioClip.from_samples(noise(0.5, 3), RATE)
    dialogue.add_takes([Take(GenerationParams(seed=3), audio, dialogue.lines, respelled={first.id: "Hello Win."})])
    folder = tmp_path / "Talk.diastudio"
    save_project(dialogue, folder)
    data = json.loads((folder / "project.json").read_text("utf-8"))
    assert data["lexicon"]["entries"] == [
        {"written": "Nguyen", "spoken": "Win", "caseSensitive": False, "note": "the family name"},
        {"written": "US", "spoken": "U S", "caseSensitive": True, "note": ""}]
    assert data["takes"][0]["respelled"] == {first.id: "Hello Win."}
    opened = open_project(folder)
    assert opened.lexicon == NGUYEN and opened.left_out == ()
    assert opened.takes[0].respelled == {first.id: "Hello Win."}
    assert [opened.status(line.id) for line in opened.lines] == [LineStatus.GENERATED] * 2


def test_a_format_3_project_opens_with_no_lexicon_its_takes_read_as_written(saved, dialogue):
    rewrite(saved, lambda data: (data.update(format_version=3), data.pop("lexicon"),
                                 [take.pop("respelled") for take in data["takes"]]))
    opened = open_project(saved)
    assert opened.lexicon == Lexicon() and opened.left_out == ()
    assert [opened.status(line.id) for line in opened.lines] == [dialogue.status(line.id) for line in dialogue.lines]
    assert all(take.respelled == {} for take in opened.takes)


def test_damaged_lexicon_entries_are_left_out_and_said_and_the_project_opens(tmp_path):
    dialogue = Dialogue.from_script("[S1] Hello Nguyen.")
    dialogue.set_lexicon(Lexicon((LexiconEntry("Nguyen", "Win"), LexiconEntry("SQL", "sequel"),
                                  LexiconEntry("Tran", "Chan"))))
    folder = tmp_path / "Talk.diastudio"
    save_project(dialogue, folder)
    rewrite(folder, lambda data: (data["lexicon"]["entries"][1].update(spoken="[S2] sequel"),
                                  data["lexicon"]["entries"].append({"written": "nguyen", "spoken": "Nwin"})))
    opened = open_project(folder)
    assert [entry.written for entry in opened.lexicon.entries] == ["Nguyen", "Tran"]
    damage, twice = opened.left_out
    assert damage.startswith("Part of the project's lexicon cannot be read: entry 2: ")
    assert "speaker tag [S2]" in damage and "the 2 other entries are kept" in damage
    assert "saving the project leaves it out" in damage
    assert twice.startswith('In the project\'s lexicon, entry 4: "nguyen" is already in the lexicon (entry 1)')
    assert opened.respelling(opened.lines[0]).spoken == "Hello Win."


@pytest.mark.parametrize("damage", [
    lambda data: data.update(lexicon="Nguyen=Win"),
    lambda data: data.pop("lexicon"),
    lambda data: data["lexicon"].update(version=9),
    lambda data: data["lexicon"].update(entries={"Nguyen": "Win"}),
])
def test_a_lexicon_that_cannot_be_read_at_all_is_said_and_the_project_opens_without_one(saved, dialogue, damage):
    rewrite(saved, damage)
    opened = open_project(saved)
    (said,) = opened.left_out
    assert said.startswith("The project's lexicon cannot be read: ")
    assert "The project opens without a lexicon" in said
    assert opened.lexicon == Lexicon() and content(opened) == content(dialogue)


def test_migrations_run_in_turn(saved, dialogue, monkeypatch):
    def to_v0(data):  # a made-up v0 that called the picked take "kept_take"
        as_format_1(data, dialogue.takes[1].id)
        data["format_version"] = 0
        data["kept_take"] = data.pop("picked_take")

    def v0_to_v1(data):
        data["picked_take"] = data.pop("kept_take")
        return data

    rewrite(saved, to_v0)
    with pytest.raises(ProjectFileError, match="format_version is 0"):
        open_project(saved)
    monkeypatch.setitem(migrations.MIGRATIONS, 0, v0_to_v1)
    assert open_project(saved).kept_takes == {line.id: dialogue.takes[1].id for line in dialogue.lines}


@pytest.mark.parametrize("text, message", [
    (b'{"format_version": 1, "speakers": {', "project.json is damaged"),
    (b"\xff\xfe garbage", "project.json is damaged"),
    (b"[1, 2]", "the file should be a JSON object"),
    (b'{"speakers": {}}', "format_version is missing"),
    (b'{"format_version": "1"}', "format_version should be a whole number"),
])
def test_a_damaged_file_is_refused_clearly(saved, text, message):
    (saved / "project.json").write_bytes(text)
    with pytest.raises(ProjectFileError, match=message) as error:
        open_project(saved)
    assert str(saved) in str(error.value)


@pytest.mark.parametrize("change, message", [
    (lambda d: d["lines"][1].update(speaker="S3"), r"lines\[1\].speaker is 'S3'"),
    (lambda d: d["lines"][0].pop("text"), r"lines\[0\].text is missing"),
    (lambda d: d["lines"][0].update(text="Hi [S2] there"), r"lines\[0\] is not valid: .*\[S2\]"),
    (lambda d: d["lines"].append(dict(d["lines"][0])), "Two lines have the same id"),
    (lambda d: d["params"].update(CFGScale=99), "params is not valid: CFGScale = 99"),
    (lambda d: d["speakers"]["S2"].update(colour="blue"), r"speakers.S2 is not valid: .*#rrggbb"),
    (lambda d: d["speakers"].pop("S1"), "speakers.S1 is missing"),
    (lambda d: d["takes"][0]["params"].pop("seed"), r"takes\[0\] is not valid: .*seed"),
    (lambda d: d["takes"][0].update(created="yesterday"), r"takes\[0\].created is 'yesterday'"),
    (lambda d: d["takes"][1]["words"].append(["late", 5, 1]), r"takes\[1\] is not valid: Word 3"),
    (lambda d: d["takes"][0]["audio"].update(file="../../etc/passwd"),
     r"takes\[0\].audio.file is '../../etc/passwd'"),
    (lambda d: d["takes"][0]["audio"].update(frames=5),
     r"takes\[0\].audio.file names .* expects 5 mono frames"),
    (lambda d: d["takes"][0]["audio"].update(sample_rate=True), "sample_rate should be a whole number"),
    (lambda d: d["kept_takes"].update({d["lines"][0]["id"]: "nope"}), "take 'nope' kept for line"),
    (lambda d: d["kept_takes"].update({d["lines"][0]["id"]: 3}), r"kept_takes\..* should be text"),
    (lambda d: d.update(kept_takes=None), "kept_takes should be an object"),
])
def test_invalid_content_is_refused_naming_the_place(saved, change, message):
    rewrite(saved, change)
    with pytest.raises(ProjectFileError, match=message):
        open_project(saved)


def test_a_missing_audio_file_is_named(saved, dialogue):
    name = f"{dialogue.takes[1].audio.id}.flac"
    (saved / "audio" / name).unlink()
    message = rf"takes\[1\].audio.file names audio/{name}, which is missing from the project"
    with pytest.raises(ProjectFileError, match=message):
        open_project(saved)


def test_an_unreadable_audio_file_is_named(saved, dialogue):
    name = f"{dialogue.speakers[Speaker.S1].voice.audio.id}.flac"
    (saved / "audio" / name).write_bytes(b"not audio")
    message = rf"speakers.S1.voice.audio.file names audio/{name}, which is not a readable audio file"
    with pytest.raises(ProjectFileError, match=message):
        open_project(saved)


def test_a_folder_without_project_json_is_not_a_project(tmp_path):
    with pytest.raises(ProjectFileError, match="is not a Dia Studio project"):
        open_project(tmp_path)


# --- autosave and recovery ---------------------------------------------------------------------

def set_mtime(path, seconds):
    os.utime(path, (seconds, seconds))


def autosave(dialogue, project, recovery):
    return write_autosave(prepare_autosave(dialogue, project, recovery))


def test_an_autosave_writes_the_document_as_it_was_when_prepared(dialogue, tmp_path):
    pending = prepare_autosave(dialogue, None, tmp_path / "recovery")
    before = content(dialogue)
    dialogue.set_text(dialogue.lines[0].id, "Edited while the copy was being written.")
    dialogue.add_takes([new_take(dialogue, 9)])
    copy = write_autosave(pending)
    assert content(open_project(copy.folder)) == before


def test_an_autosave_keeps_the_files_live_clips_still_read(dialogue, tmp_path):
    recovery = tmp_path / "recovery"
    found = autosave(dialogue, None, recovery)
    recovered = recover(found)
    take = recovered.takes[0]
    assert take.audio.file.parent == found.folder / "audio"
    recovered.delete_take(take.id)
    # Into the copy it came from; off the GUI thread, so it must not touch the window's clips.
    assert autosave(recovered, None, recovery).folder == found.folder
    assert take.audio.file.is_file()
    recovered.undo_stack.undo()
    np.testing.assert_allclose(recovered.takes[0].audio.samples(), take.audio.samples())


def test_an_untitled_document_is_recovered(dialogue, tmp_path):
    recovery = tmp_path / "recovery"
    copy = autosave(dialogue, None, recovery)
    assert dialogue.modified  # autosave is not a save
    dialogue.set_text(dialogue.lines[0].id, "Later.")
    assert autosave(dialogue, None, recovery).folder == copy.folder  # one copy per document
    [found] = find_recoverable(recovery)
    assert found.folder == copy.folder and found.project is None
    recovered = recover(found)
    assert content(recovered) == content(dialogue) and recovered.modified

    discard_recovery(found)
    assert find_recoverable(recovery) == [] and not copy.folder.exists()
    assert_same_audio([t.audio for t in dialogue.takes], [t.audio for t in recovered.takes])


def test_only_copies_newer_than_their_project_are_offered(dialogue, tmp_path):
    folder, recovery = tmp_path / "Talk.diastudio", tmp_path / "recovery"
    save_project(dialogue, folder)
    copy = autosave(dialogue, folder, recovery)
    set_mtime(folder / "project.json", 1_000)
    set_mtime(copy.folder / "project.json", 2_000)
    [found] = find_recoverable(recovery)
    assert found.project == folder.absolute()
    set_mtime(folder / "project.json", 3_000)  # saved after the autosave
    assert find_recoverable(recovery) == []


def test_copies_are_listed_newest_first_and_half_written_ones_skipped(dialogue, tmp_path):
    recovery = tmp_path / "recovery"
    older = autosave(Dialogue.from_script("[S1] Old."), tmp_path / "Old.diastudio", recovery)
    newer = autosave(dialogue, None, recovery)
    set_mtime(older.folder / "project.json", 1_000)
    set_mtime(newer.folder / "project.json", 2_000)
    broken = autosave(Dialogue.from_script("[S1] Broken."), None, recovery)
    (broken.folder / "recovery.json").unlink()
    assert [c.folder for c in find_recoverable(recovery)] == [newer.folder, older.folder]


# --- recent projects -------------------------------------------------------------------------

def make_projects(tmp_path, count):
    folders = [tmp_path / f"P{i}.diastudio" for i in range(count)]
    for folder in folders:
        save_project(Dialogue.from_script("[S1] Hi."), folder)
    return folders


def test_recent_projects_most_recent_first_without_repeats(tmp_path):
    a, b = make_projects(tmp_path, 2)
    recent = RecentProjects(tmp_path / "config")
    assert recent.paths() == []
    recent.add(a)
    recent.add(b)
    recent.add(a)
    assert RecentProjects(tmp_path / "config").paths() == [a, b]
    recent.remove(a)
    assert recent.paths() == [b]


def test_recent_projects_keep_ten_and_forget_missing_ones(tmp_path):
    folders = make_projects(tmp_path, 12)
    recent = RecentProjects(tmp_path / "config")
    for folder in folders:
        recent.add(folder)
    assert recent.paths() == folders[::-1][:10]
    (folders[11] / "project.json").unlink()
    assert recent.paths() == folders[10::-1][:9]


def test_a_damaged_recent_list_is_empty(tmp_path):
    (tmp_path / "recent_projects.json").write_text("{oops")
    assert RecentProjects(tmp_path).paths() == []
