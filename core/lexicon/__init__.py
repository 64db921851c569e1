"""The pronunciation lexicon: how a name, brand or acronym should sound, written once as a
respelling ("Nguyen" → "Win", "SQL" → "sequel") and applied to every line sent to the model, while
the dialogue, takes, highlighting and subtitles keep the written words (docs/lexicon.md).

entry (one written word or phrase and its respelling), lexicon (a set of entries; a project's over
the shared one), matching (where an entry applies in a text), respelling (a text → what the model
reads, and the model's word times back onto the written words), files (read and written by their
ending: json_file, csv_file, pls_file; safe_xml), errors.
"""
