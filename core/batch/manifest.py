"""A batch's manifest → its renders, every entry checked before anything renders.

Three forms, paths inside resolved against the manifest's folder:
- JSON: a list of renders, or ``{"defaults": {...}, "renders": [...]}`` (the defaults under each
  render; ``settings`` and ``audioSettings`` merged key by key). A render has ``script`` or
  ``scriptFile``, ``voices`` (up to two: a path, or ``{"audio", "text", "words"}``), ``output``
  (its format from its extension), ``audioSettings``, and the generation fields as the task API
  names them (``seed``, ``CFGScale``, ``negativePrompt``, ``numberResults``, ``settings``: …),
  checked by the one parameter model; ``bestOf``, ``stems`` (true: each speaker's file beside
  the output) and ``lexicon`` (a lexicon file or a list of them, over the command line's) are the
  render's own.
- CSV with a header row: the same, one render a row, in the columns of ``CSV_COLUMNS``.
- A folder: each ``*.diastudio`` project in it, rendered whole to ``<out dir>/<name>.<format>``.

Every problem is collected, each naming its entry and field; two renders writing one file is one.
An entry with problems refuses the manifest whole, or, when the batch goes on without it
(``skip_bad``), is kept in its place as a ``RefusedRender``.
"""

from __future__ import annotations

import csv
import difflib
import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from core.audio.formats import ExportSettings, format_from_path
from core.batch.jobs import ProjectRender, RefusedRender, ScriptRender
from core.batch.outputs import script_speakers, stem_paths, take_paths
from core.batch.scripts import check_script
from core.dia2.script import SPEAKER_TAGS, UnspeakableScript
from core.document.line_numbers import line_numbers, rows_of
from core.errors import DiaStudioError, InvalidParameter, describe_error
from core.lexicon.errors import LexiconFileError
from core.lexicon.files import read_lexicon
from core.lexicon.lexicon import Lexicon
from core.params import GenerationParams
from core.project.layout import PROJECT_SUFFIX, ProjectFileError, project_name
from core.project.opening import open_project
from core.studio.dialogue_generation import CannotGenerate, lines_to_generate, voices_in_order
from core.studio.exporting import ExportChoice, stem_files
from core.studio.voice_input import VoiceInput

MAX_PROBLEMS_SHOWN = 20
_RENDER_FIELDS = ("script", "scriptFile", "voices", "output", "audioSettings", "bestOf", "stems", "lexicon")
_VOICE_FIELDS = ("audio", "text", "words")
# CSV column → the JSON render's field ("settings.topK": inside "settings"). One name per column:
# the command line's flags, with underscores (--cfg-scale → cfg_scale).
CSV_COLUMNS = {
    "script": "script", "script_file": "scriptFile", "output": "output",
    "voice1": "voices.0.audio", "voice1_text": "voices.0.text", "voice1_words": "voices.0.words",
    "voice2": "voices.1.audio", "voice2_text": "voices.1.text", "voice2_words": "voices.1.words",
    "seed": "seed", "cfg_scale": "CFGScale", "temperature": "settings.temperature",
    "audio_temperature": "settings.audioTemperature", "top_k": "settings.topK",
    "include_prefix": "settings.includePrefix", "negative_prompt": "negativePrompt",
    "number_results": "numberResults", "best_of": "bestOf", "sample_rate": "audioSettings.sampleRate",
    "bitrate": "audioSettings.bitrate", "channels": "audioSettings.channels", "stems": "stems",
    "lexicon": "lexicon",
}
_TEXT_COLUMNS = {"script", "script_file", "output", "voice1", "voice1_text", "voice1_words", "voice2", "voice2_text",
                 "voice2_words", "negative_prompt", "lexicon"}


class ManifestError(DiaStudioError):
    """The manifest cannot be rendered; ``problems`` says each thing wrong, where."""

    def __init__(self, manifest: Path, problems: list[str]):
        self.problems = problems
        shown = "\n  ".join(problems[:MAX_PROBLEMS_SHOWN])
        more = len(problems) - MAX_PROBLEMS_SHOWN
        super().__init__(f"{manifest}: {len(problems)} problem{'s' if len(problems) > 1 else ''}, nothing was "
                         f"rendered:\n  {shown}" + (f"\n  … and {more} more" if more > 0 else ""))


@dataclass(frozen=True)
class FolderOptions:
    """How a folder of projects is rendered (the command line's --out-dir and export flags)."""

    out_dir: Path | None  # None: beside the projects
    settings: ExportSettings
    loudness_lufs: float | None = None  # None: as generated
    stems: bool = False  # also each speaker's stem beside each project's file


def read_manifest(path: Path, model: str, folder: FolderOptions, skip_bad: bool = False,
                  lexicon: Lexicon = Lexicon()) -> list:
    """The renders of the manifest at ``path``; raises ManifestError listing every problem, or
    with ``skip_bad`` only those of the manifest as a whole: each entry with problems is then a
    RefusedRender among the others. ``model``: the model id the generation parameters name
    (``GenerationParams.model``); ``lexicon``: the command line's (``--lexicon``), under a render's
    own, over a project's shared entries."""
    reading = _Reading(path, model, lexicon)
    if path.is_dir():
        jobs = reading.projects(folder)
    elif not path.is_file():
        raise ManifestError(path, ["there is no such file or folder"])
    elif path.suffix.lower() == ".json":
        jobs = reading.json_renders()
    elif path.suffix.lower() == ".csv":
        jobs = reading.csv_renders()
    else:
        raise ManifestError(path, [f"a manifest is a .json or .csv file, or a folder of {PROJECT_SUFFIX} projects"])
    if not jobs:
        raise ManifestError(path, ["there is nothing to render in it"])
    jobs = reading.check_inputs_kept(jobs)
    if reading.problems and not skip_bad:
        raise ManifestError(path, reading.problems)
    return jobs


class _Problem(Exception):
    """One thing wrong with one field (``field``: another than the one being read); ``_Reading``
    puts where it is in front."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class _Reading:
    def __init__(self, path: Path, model: str, lexicon: Lexicon):
        self.path, self.base, self.model, self.lexicon = path, path.parent, model, lexicon
        self._lexicons: dict[Path, tuple[Lexicon, list[str]]] = {}  # each file read once
        self.problems: list[str] = []
        self._voices: dict[tuple, VoiceInput] = {}
        self._writers: dict[Path, str] = {}  # each output, and the render that writes it
        self._inputs: set[Path] = set()  # each file the renders read

    # ---- the forms ----------------------------------------------------------------------------
    def json_renders(self) -> list:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as error:
            raise ManifestError(self.path, [f"cannot be read: {describe_error(error)}"]) from None
        except json.JSONDecodeError as error:
            raise ManifestError(self.path, [f"is not JSON: {error.msg} at line {error.lineno}, column {error.colno}"]) \
                from None
        defaults: dict = {}
        if isinstance(data, dict):
            unknown = [key for key in data if key not in ("defaults", "renders")]
            if unknown:
                raise ManifestError(self.path, [f"{unknown[0]}: a manifest object holds \"defaults\" and \"renders\""])
            defaults, data = data.get("defaults", {}), data.get("renders")
            if not isinstance(defaults, dict):
                raise ManifestError(self.path, ["defaults: give an object of fields every render shares"])
        if not isinstance(data, list):
            raise ManifestError(self.path, ['renders: give a list of renders, such as [{"script": "[S1] Hello.", '
                                            '"output": "hello.mp3"}]'])
        jobs = []
        for number, entry in enumerate(data):
            where = f"renders[{number}]"
            jobs.append(self.script_render(_Place(where), _merged(defaults, entry)) if isinstance(entry, dict)
                        else self.refused(where, "give an object with a script and an output"))
        return jobs

    def csv_renders(self) -> list:
        try:
            with self.path.open(encoding="utf-8-sig", newline="") as file:
                rows = list(_csv_rows(file))
        except (OSError, UnicodeDecodeError, csv.Error) as error:
            raise ManifestError(self.path, [f"cannot be read: {describe_error(error)}"]) from None
        if not rows:
            raise ManifestError(self.path, ["has no header row: name the columns first (script, output, …)"])
        (_, header), rows = rows[0], rows[1:]
        unknown = [name for name in header if name.strip() not in CSV_COLUMNS]
        if unknown:
            raise ManifestError(self.path, [f"line 1: {_unknown(unknown[0], 'column', CSV_COLUMNS)}"])
        header = [name.strip() for name in header]
        columns = {CSV_COLUMNS[name]: name for name in header}
        jobs = []
        for line, cells in rows:
            if not any(cell.strip() for cell in cells):
                continue  # a blank line
            if len(cells) > len(header):
                jobs.append(self.refused(f"line {line}", f"{len(cells)} cells, but the header names {len(header)} "
                                                         "columns"))
                continue
            jobs.append(self.script_render(_Place(f"line {line}", columns), _entry_of_row(dict(zip(header, cells)))))
        return jobs

    def projects(self, options: FolderOptions) -> list:
        folders = sorted(path for path in self.path.iterdir() if path.suffix == PROJECT_SUFFIX and path.is_dir())
        if not folders:
            raise ManifestError(self.path, [f"the folder holds no {PROJECT_SUFFIX} project"])
        out_dir = options.out_dir if options.out_dir is not None else self.path
        jobs = []
        for folder in folders:
            try:
                dialogue = open_project(folder)
                dialogue.use_shared_lexicon(self.lexicon)  # whether a take is current depends on it
                runs = lines_to_generate(dialogue, [line.id for line in dialogue.lines])
                if not any(line.spoken_text for line in dialogue.lines):
                    raise _Problem("the project has no lines to speak")
                if runs:
                    voices_in_order(dialogue)  # unusable voices, refused now
            except (_Problem, ProjectFileError, CannotGenerate) as error:
                jobs.append(self.refused(folder.name, str(error)))
                continue
            path = out_dir / f"{project_name(folder)}{options.settings.format.extension}"
            choice = ExportChoice(options.settings, path, per_line=False, subtitles=False,
                                  loudness_lufs=options.loudness_lufs, stems=options.stems)
            # every line is spoken once the render has generated those without a take
            stems = tuple(file for _, file in stem_files(dialogue, choice, [line for line in dialogue.lines
                                                                             if line.spoken_text]))
            try:
                for output in (path, *stems):
                    self._claim(output, folder.name)
            except _Problem as error:
                jobs.append(self.refused(folder.name, str(error)))
                continue
            untaken = line_numbers(rows_of(dialogue, [line_id for run in runs for line_id in run])) if runs else None
            jobs.append(ProjectRender(folder.name, folder, choice, untaken, stems, self.lexicon))
        return jobs

    # ---- one render ---------------------------------------------------------------------------
    def script_render(self, place: "_Place", entry: dict[str, Any]) -> ScriptRender | RefusedRender:
        before = len(self.problems)

        def checked(field, check):
            try:
                return check()
            except InvalidParameter as error:
                self.problems.append(f"{place.param(error.field)}: {error}")
            except _Said:
                pass
            except _Problem as error:
                self.problems.append(f"{place.field(error.field or field)}: {error}")
            except DiaStudioError as error:
                self.problems.append(f"{place.field(field)}: {error}")

        script = checked("script", lambda: self._script(entry))
        output = checked("output", lambda: self._output(entry))
        voices = checked("voices", lambda: self._voices_of(entry.get("voices", []), place))
        params = checked("", lambda: self._params(entry))
        best_of = checked("bestOf", lambda: self._best_of(entry))
        stems = checked("stems", lambda: self._stems(entry))
        lexicon = checked("lexicon", lambda: self._lexicon(entry))
        files = 1 if best_of else params.number_results if params else 1
        if output is not None:
            speakers = script_speakers(script) if stems and script else ()
            for take in take_paths(output, files):
                for path in (take, *stem_paths(take, speakers)):
                    checked("output", lambda: self._claim(path, place.where))
        settings = checked("audioSettings", lambda: self._settings(entry, output)) if output else None
        if len(self.problems) > before:
            return RefusedRender(place.where, self.problems[before:])
        if best_of:
            params = replace(params, number_results=best_of)
        lexicon, notes = lexicon
        return ScriptRender(place.where, script, params, voices, settings, tuple(take_paths(output, files)), best_of,
                            stems, lexicon, tuple(notes))

    def _best_of(self, entry: dict) -> int | None:
        best_of = entry.get("bestOf")
        if best_of is None:
            return None
        if isinstance(best_of, bool) or not isinstance(best_of, int) or not 2 <= best_of <= 4:
            raise _Problem(f"{best_of!r} is not 2, 3 or 4: give how many takes to choose the best-checked from")
        if "numberResults" in entry:
            raise _Problem("give bestOf or numberResults, not both")
        return best_of

    def _stems(self, entry: dict) -> bool:
        stems = entry.get("stems", False)
        if not isinstance(stems, bool):
            raise _Problem(f"{stems!r} is not true or false: give true for one file per speaker beside the output "
                           "(NAME.S1.EXT, NAME.S2.EXT)")
        return stems

    def _lexicon(self, entry: dict) -> tuple[Lexicon, list[str]]:
        """The render's lexicon files over the command line's (a later file's entries winning),
        and what they left out."""
        files = entry.get("lexicon") or []
        files = [files] if isinstance(files, str) else files
        if not isinstance(files, list):
            raise _Problem('give a lexicon file (.json, .csv or .pls), or a list of them: "names.csv"')
        lexicon, notes = self.lexicon, []
        for file in files:
            path = self._path(file, "lexicon")
            if path not in self._lexicons:
                try:
                    self._lexicons[path] = read_lexicon(path)
                except LexiconFileError as error:
                    raise _Problem(describe_error(error)) from None
            read, left_out = self._lexicons[path]
            lexicon = Lexicon.merged(read, lexicon)
            notes += [f"{path.name}: {problem}" for problem in left_out]
        return lexicon, notes

    def _script(self, entry: dict) -> str:
        script, script_file = entry.get("script"), entry.get("scriptFile")
        if (script is None) == (script_file is None):
            raise _Problem("give the dialogue as script (its text) or scriptFile (a UTF-8 text file), one of them")
        if script_file is not None:
            path = self._path(script_file, "scriptFile")
            try:
                script = path.read_text(encoding="utf-8")
            except FileNotFoundError:
                raise _Problem(self._no_file(script_file), "scriptFile") from None
            except (OSError, UnicodeDecodeError) as error:
                raise _Problem(f"cannot read {script_file}: {describe_error(error)}", "scriptFile") from None
        if not isinstance(script, str) or not script.strip():
            raise _Problem("the script is empty: give the dialogue, such as \"[S1] Hello. [S2] Hi!\"")
        try:
            check_script(script)
        except UnspeakableScript as error:
            raise _Problem(str(error), "scriptFile" if script_file is not None else None) from None
        return script

    def _voices_of(self, voices: Any, place: "_Place") -> tuple[VoiceInput, ...]:
        if not isinstance(voices, list) or len(voices) > len(SPEAKER_TAGS):
            raise _Problem(f"give a list of at most {len(SPEAKER_TAGS)} voices, [S1]'s first")
        found, problems = [], []
        for index, voice in enumerate(voices):
            try:
                found.append(self._voice(voice))
            except (_Problem, DiaStudioError) as error:
                problems.append(f"{place.field(f'voices[{index}]')}: {error}")
        self.problems += problems
        if problems:
            raise _Said()
        return tuple(found)

    def _voice(self, voice: Any) -> VoiceInput:
        if isinstance(voice, str):
            voice = {"audio": voice}
        if not isinstance(voice, dict) or not isinstance(voice.get("audio"), str):
            raise _Problem('give the voice\'s audio file, as "s1.wav" or {"audio": "s1.wav", "text": "what is said"}')
        for key in voice:
            if key not in _VOICE_FIELDS:
                raise _Problem(_unknown(key, "voice field", _VOICE_FIELDS))
        text, words_file = voice.get("text"), voice.get("words")
        if text is not None and (not isinstance(text, str) or not text.strip()):
            raise _Problem("text: give what is said in the clip")
        if text is not None and words_file is not None:
            raise _Problem("give its text or its words (a word list), not both")
        key = (voice["audio"], text, words_file)
        if key not in self._voices:
            audio = self._path(voice["audio"], "audio")
            if not audio.is_file():
                raise _Problem(self._no_file(voice["audio"]))
            words_path = None
            if words_file is not None:
                words_path = self._path(words_file, "words")
                if not words_path.is_file():
                    raise _Problem(f"words: {self._no_file(words_file)}")
            self._voices[key] = VoiceInput.read(audio, words_path, text)
        return self._voices[key]

    def _params(self, entry: dict) -> GenerationParams:
        if "model" in entry:
            raise _Problem("model: a batch renders with one model, given with --model")
        known = _RENDER_FIELDS + tuple(name for name in GenerationParams.API_NAMES if "." not in name) + ("settings",)
        for key in entry:
            if key not in known:
                raise _Problem(_unknown(key, "field of a render", known))
        fields = {key: value for key, value in entry.items() if key not in _RENDER_FIELDS}
        return GenerationParams.from_dict({**fields, "model": self.model}).with_seed()

    def _output(self, entry: dict) -> Path:
        output = entry.get("output")
        if output is None:
            raise _Problem("give the file to write, such as \"scene1.mp3\" (.mp3, .wav, .flac or .ogg)")
        path = self._path(output, "output")
        try:
            format_from_path(path)
        except InvalidParameter:
            raise _Problem(f"{output} does not end in .mp3, .wav, .flac or .ogg, the formats written") from None
        if path.is_dir():
            raise _Problem(f"{output} is a folder: give a file name")
        parent = next((folder for folder in path.parents if folder.exists()), None)
        if parent is not None and not parent.is_dir():
            raise _Problem(f"{parent} is a file, not a folder")
        return path

    def _settings(self, entry: dict, output: Path) -> ExportSettings:
        audio_settings = entry.get("audioSettings")
        if audio_settings is not None and not isinstance(audio_settings, dict):
            raise _Problem('give an object such as {"sampleRate": 44100, "bitrate": 128}')
        return ExportSettings.from_api(format_from_path(output), audio_settings)

    def _path(self, value: Any, field: str) -> Path:
        if not isinstance(value, str) or not value.strip():
            raise _Problem(f"{field}: give a file path")
        path = Path(value).expanduser()
        path = (path if path.is_absolute() else self.base / path).resolve()
        if field != "output":
            self._inputs.add(path)
        return path

    def _no_file(self, value: str) -> str:
        return f"no file {value}" + ("" if Path(value).expanduser().is_absolute() else " beside the manifest")

    def refused(self, where: str, problem: str, job=None) -> RefusedRender:
        """The entry at ``where`` refused for ``problem`` (and for what refused its ``job`` already)."""
        self.problems.append(f"{where}: {problem}")
        earlier = job.problems if isinstance(job, RefusedRender) else []
        return RefusedRender(where, earlier + self.problems[-1:])

    def check_inputs_kept(self, jobs: list) -> list:
        """No render may write over what the batch reads: ``jobs``, with those that would refused."""
        for path, who in self._writers.items():
            if path in self._inputs or path == self.path.resolve():
                problem = (f"writes {path}, which the batch reads (the manifest, a voice, a word list or a script "
                           "file): give another output")
                jobs = [self.refused(who, problem, job) if job.name == who else job for job in jobs]
        return jobs

    def _claim(self, path: Path, who: str) -> None:
        """Two renders writing one file would lose one of them."""
        first = self._writers.setdefault(path, who)
        if first != who:
            raise _Problem(f"{first} writes {path} too: give each render its own output")


class _Said(Exception):
    """The problems were added to the list already, each with where it is."""


class _Place:
    """Where a render is in its manifest, as its problems say it: ``renders[3].voices[0]`` in JSON;
    ``line 4, voice1`` in CSV (``columns``: field → its column)."""

    def __init__(self, where: str, columns: dict[str, str] | None = None):
        self.where, self.columns = where, columns

    def field(self, name: str) -> str:
        if self.columns is None:
            return f"{self.where}.{name}" if name else self.where
        if name.startswith("voices["):
            name = f"voice{int(name[7]) + 1}"
        if not name:
            return self.where
        # A field of several columns (audioSettings) is said by those of them the header has.
        inside = [column for field, column in self.columns.items() if field.startswith(f"{name}.")]
        return f"{self.where}, {self.columns.get(name) or '/'.join(inside) or name}"

    def param(self, name: str) -> str:
        """A generation field: its own name says it in JSON (``CFGScale = 0.5 is not allowed``)."""
        return self.where if self.columns is None else self.field(name)


def _merged(defaults: dict, entry: dict) -> dict:
    merged = {**defaults, **entry}
    for nested in ("settings", "audioSettings"):
        if isinstance(defaults.get(nested), dict) and isinstance(entry.get(nested), dict):
            merged[nested] = {**defaults[nested], **entry[nested]}
    return merged


def _csv_rows(file):
    """(line number where the row starts, cells) of each row."""
    reader = csv.reader(file)
    line = 1
    for cells in reader:
        yield line, cells
        line = reader.line_num + 1


def _entry_of_row(row: dict[str, str]) -> dict[str, Any]:
    """A CSV row as the JSON render it stands for; empty cells are not given."""
    entry: dict[str, Any] = {}
    for column, cell in row.items():
        if not cell.strip():
            continue
        value: Any = cell if column in _TEXT_COLUMNS else _cell_value(cell.strip())
        target, *path = CSV_COLUMNS[column].split(".")
        if target == "voices":
            voices = entry.setdefault("voices", [{}, {}])
            voices[int(path[0])][path[1]] = value
        elif path:
            entry.setdefault(target, {})[path[0]] = value
        else:
            entry[target] = value
    if "voices" in entry:  # a voice2 without voice1 is refused as a first voice without audio
        first, second = entry["voices"]
        entry["voices"] = [first, second] if second else [first]
    return entry


def _cell_value(cell: str) -> Any:
    """A number or a truth value as its type, for the parameter model to check; else the text."""
    lowered = cell.lower()
    if lowered in ("true", "yes"):
        return True
    if lowered in ("false", "no"):
        return False
    for kind in (int, float):
        try:
            return kind(cell)
        except ValueError:
            pass
    return cell


def _unknown(name: str, what: str, known) -> str:
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]}?" if close else f"; known: {', '.join(known)}"
    return f"{name!r} is not a {what}{hint}"
