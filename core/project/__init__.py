"""Save and open a dialogue as a project folder: atomic, versioned, validated on the way in.

A project is a folder ``Name.diastudio/``::

    project.json    the document, replaced atomically on every save (schema below)
    audio/          one FLAC file per clip (voice references and takes): <clip id>.flac, and the
                    codes a take was decoded from: <its clip id>.codes.npy

``project.json``, format_version 4 (times in seconds from the start of their clip)::

    {
      "format_version": 4,
      "speakers": {"S1": SPEAKER, "S2": SPEAKER},
      "params": {...},                  GenerationParams.to_dict(): the API's own field names
      "lines": [LINE, ...],             in dialogue order
      "takes": [TAKE, ...],             oldest first
      "kept_takes": {"<line id>": "<take id>", ...}   the take kept for each line (that speaks it)
      "take_checks": {"<take id>": {"depends_on": str, "report": REPORT}, ...},
      "lexicon": LEXICON                the project's pronunciation lexicon
    }
    SPEAKER = {"name": str, "colour": "#rrggbb",
               "voice": null or {"audio": AUDIO, "words": WORDS, "transcript": str}}
    LINE    = {"id": str, "speaker": "S1" or "S2", "text": str}
    TAKE    = {"id": str, "created": ISO 8601 time with zone, "params": {... with "seed"},
               "audio": AUDIO, "lines": [LINE, ...] (the lines as they were when it was made),
               "words": WORDS, "line_times": {"<line id>": [start_s, end_s], ...},
               "codes": CODES (optional: absent in files saved before codes were kept),
               "model": the model that made it, a Hub id or a local folder's path (optional:
               absent in files saved before it was kept, or null),
               "respelled": {"<line id>": str, ...} what the model read for each line a lexicon
               respelled (optional: a line not there, or a file without it, was read as written)}
    AUDIO   = {"file": "audio/<clip id>.flac", "sample_rate": int, "frames": int}
    WORDS   = [[word, start_s, end_s], ...]
    CODES   = null, or {"file": "audio/<take's clip id>.codes.npy", "codebooks": int, "frames": int}:
              the Mimi codes the take's audio was decoded from, an int16 NumPy array [codebooks,
              frames], so that selected lines continue from the lines before them exactly; a
              missing or damaged codes file only loses the codes (the audio is encoded again)

REPORT is a take's checks as ``dia-studio check --json`` prints them (docs/take-checks.md);
``depends_on`` names what they were made from (the take, the voices, the checks' version), so the
studio makes them again when that changes. Checks that cannot be read are left out (the studio
checks that take again): they must never cost the project.

LEXICON is a lexicon file's own JSON (docs/lexicon.md): ``{"format": "dia-studio-lexicon",
"version": 1, "entries": [{"written", "spoken", "caseSensitive", "note"}, ...]}``. An entry that
cannot be read is left out and said (``Dialogue.left_out``), never fatal; so is a lexicon that
cannot be read at all.

Format 3 had no ``lexicon``: it is read as an empty one.
Format 2 had no ``take_checks``: it is read as takes not checked yet.
Format 1 kept one take for the whole dialogue (``"picked_take": "<take id>" or null``): it is read
as that take kept for the lines it speaks, and the newest take that speaks it for every other line.

Audio is FLAC, 24-bit: within 2^-23 (about 1.2e-7) of the model's float32 samples, far below
hearing, at about half the size of float WAV. Samples beyond ±1 are clipped.

A save writes new audio files under new names first, then replaces project.json, and only then
removes audio files nothing refers to, so a crash at any point leaves the previous save (or the
new one) whole. A save that fails before project.json (a full disk) deletes the files and folders
it made, so the previous save is left exactly as it was. Autosave writes the same format into a recovery folder, in two steps so the writing
can happen on another thread: ``prepare_autosave`` takes the document's content (immutable values,
audio included, so it costs no copy) and ``write_autosave`` writes it.

Its rooms: ``layout`` (names, version, the error), ``saving``, ``opening`` (with ``json_fields``
and ``migrations``), ``clips_on_disk`` (clips read from a project's files), ``recovery`` (autosave)
and ``recent``.
"""
