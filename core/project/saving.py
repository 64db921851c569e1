"""Saving a document into a project folder: new audio first, then project.json, then tidying."""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

from core.audio.atomic_write import flush_folder, temporary_files, write_bytes_atomically, write_new_file
from core.audio.stored_audio import encoded_in_memory, flac_bytes
from core.document.clips import AudioClip
from core.document.dialogue import Dialogue
from core.document.lines import DialogueLine
from core.document.speakers import Speaker, SpeakerProfile
from core.document.takes import Take
from core.lexicon.json_file import to_document
from core.lexicon.lexicon import Lexicon
from core.params import GenerationParams
from core.project.clips_on_disk import clips_reading, release
from core.project.layout import (AUDIO_DIR, FORMAT_VERSION, PROJECT_FILE, ProjectFileError, audio_file_name,
                                 codes_file_name, saving)
from core.take_checks.verdicts import CheckedTake


@dataclass(frozen=True)
class DocumentContent:
    """What a save writes, as the document held it at one moment. Lines, speakers, takes and
    their audio are immutable values, so another thread may write it while editing goes on."""

    lines: tuple[DialogueLine, ...]
    speakers: Mapping[Speaker, SpeakerProfile]
    params: GenerationParams
    takes: tuple[Take, ...]
    kept_takes: Mapping[str, str]
    checks: Mapping[str, CheckedTake]
    lexicon: Lexicon = Lexicon()  # the project's own

    @classmethod
    def of(cls, dialogue: Dialogue) -> DocumentContent:
        return cls(dialogue.lines, dialogue.speakers, dialogue.params, dialogue.takes, dialogue.kept_takes,
                   dict(dialogue.checks), dialogue.lexicon)


def save_project(dialogue: Dialogue, folder: Path | str) -> None:
    """Save the document into the project folder (created if needed) and mark it saved."""
    write_project(DocumentContent.of(dialogue), Path(folder))
    dialogue.mark_saved()


def write_project(document: DocumentContent, folder: Path, release_clips: bool = True) -> None:
    if folder.is_dir():
        entries = {entry.name for entry in folder.iterdir()}
        if entries and not entries & {PROJECT_FILE, AUDIO_DIR}:
            raise ProjectFileError(f"Cannot save to {folder}: the folder is not empty and is not "
                                   "a Dia Studio project.")
    clips = {clip.id: clip for clip in _clips_of(document)}
    coded = [take for take in document.takes if take.codes is not None]
    audio_dir = folder / AUDIO_DIR
    created = _outermost_missing(audio_dir)
    written: list[Path] = []
    with saving(folder, " Nothing on disk was changed."):
        try:
            audio_dir.mkdir(parents=True, exist_ok=True)
            for clip in clips.values():
                _write_once(audio_dir / audio_file_name(clip), partial(_clip_bytes, clip), written)
            for take in coded:
                _write_once(audio_dir / codes_file_name(take), partial(_codes_bytes, take.codes), written)
            flush_folder(audio_dir)
            text = json.dumps(_document_json(document), indent=2, ensure_ascii=False)
            # from here on, the new save is the project (its folder is flushed below, once)
            write_bytes_atomically(folder / PROJECT_FILE, text.encode("utf-8"), sync_folder=False)
        except BaseException:
            _take_back(written, created)
            raise
    with saving(folder):
        flush_folder(folder)
    used = {audio_file_name(clip) for clip in clips.values()} | {codes_file_name(take) for take in coded}
    _remove_leftovers(folder, used, release_clips)


def _outermost_missing(path: Path) -> Path | None:
    """The outermost folder of ``path`` that does not exist yet (None: it all exists)."""
    missing = None
    while not path.exists():
        missing, path = path, path.parent
    return missing


def _take_back(written: list[Path], created: Path | None) -> None:
    """Undo a save that failed before its project.json: delete the files it wrote and the folders
    it made, so the previous save stays as it was and a new project leaves no empty folder."""
    for file in written:
        file.unlink(missing_ok=True)
    if created is not None:
        shutil.rmtree(created, ignore_errors=True)


def _clips_of(document: DocumentContent) -> list[AudioClip]:
    voices = [profile.voice.audio for profile in document.speakers.values() if profile.voice]
    return voices + [take.audio for take in document.takes]


def _write_once(target: Path, content: Callable[[], bytes], written: list[Path]) -> None:
    """Write ``target`` with ``content()`` unless it is there already (what a clip or a take's
    codes hold never changes); a file written is added to ``written``."""
    if target.exists():
        return
    partial_file = target.with_name(f".{target.name}.partial")
    try:
        write_new_file(partial_file, content())
        os.replace(partial_file, target)
    finally:
        partial_file.unlink(missing_ok=True)
    written.append(target)


def _clip_bytes(clip: AudioClip) -> bytes:
    if clip.file is not None:
        return clip.file.read_bytes()
    return flac_bytes(clip.samples(), clip.sample_rate)


def _codes_bytes(codes: np.ndarray) -> bytes:
    return encoded_in_memory(partial(np.save, arr=codes, allow_pickle=False))


def _remove_leftovers(folder: Path, used_audio: set[str], release_clips: bool) -> None:
    """Delete audio files the saved project no longer uses, and temp files of interrupted saves.

    Without ``release_clips`` (an autosave, off the GUI thread, which must not change the clips
    the window reads), a file a live clip still reads from is left for a later save."""
    unused = [file for file in (folder / AUDIO_DIR).iterdir() if file.name not in used_audio]
    # ".tmp": what interrupted saves of older Dia Studio builds left
    interrupted = [*temporary_files(folder / PROJECT_FILE), *folder.glob(f".{PROJECT_FILE}.*.tmp")]
    for file in unused + interrupted:
        path = file.resolve()
        try:
            if release_clips:
                release(lambda clip, path=path: clip.file == path)
            elif clips_reading(lambda clip, path=path: clip.file == path):
                continue
            file.unlink()
        except (OSError, ProjectFileError):
            pass  # the save itself succeeded; a later save tries again


def _document_json(document: DocumentContent) -> dict[str, Any]:
    return {
        "format_version": FORMAT_VERSION,
        "speakers": {speaker.value: _speaker_json(document.speakers[speaker]) for speaker in Speaker},
        "params": document.params.to_dict(),
        "lines": [_line_json(line) for line in document.lines],
        "takes": [_take_json(take) for take in document.takes],
        # Only the lines of the document: a deleted line's take matters to undo, not to the file.
        "kept_takes": {line.id: document.kept_takes[line.id] for line in document.lines
                       if line.id in document.kept_takes},
        "take_checks": {take.id: {"depends_on": document.checks[take.id].depends_on,
                                  "report": document.checks[take.id].report.as_json()}
                        for take in document.takes if take.id in document.checks},
        "lexicon": to_document(document.lexicon),
    }


def _speaker_json(profile: SpeakerProfile) -> dict[str, Any]:
    voice = profile.voice
    return {
        "name": profile.name,
        "colour": profile.colour,
        "voice": voice and {"audio": _audio_json(voice.audio), "words": _words_json(voice.words),
                            "transcript": voice.transcript},
    }


def _line_json(line: DialogueLine) -> dict[str, Any]:
    return {"id": line.id, "speaker": line.speaker.value, "text": line.text}


def _take_json(take: Take) -> dict[str, Any]:
    return {
        "id": take.id,
        "created": take.created.isoformat(),
        "params": take.params.to_dict(),
        "audio": _audio_json(take.audio),
        "lines": [_line_json(line) for line in take.source_lines],
        "words": _words_json(take.words),
        "line_times": {line_id: list(span) for line_id, span in take.line_times.items()},
        "codes": None if take.codes is None else {"file": f"{AUDIO_DIR}/{codes_file_name(take)}",
                                                  "codebooks": int(take.codes.shape[0]),
                                                  "frames": int(take.codes.shape[1])},
        "model": take.model,
        "respelled": dict(take.respelled),
    }


def _words_json(words) -> list[list]:
    return [[word.text, word.start_s, word.end_s] for word in words]


def _audio_json(clip: AudioClip) -> dict[str, Any]:
    return {"file": f"{AUDIO_DIR}/{audio_file_name(clip)}", "sample_rate": clip.sample_rate,
            "frames": clip.frame_count}
