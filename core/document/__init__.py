"""The dialogue document: lines, speakers, takes, and every edit as one undoable step.

Plain Python, no Qt: the studio window, the command line and tests edit the same object. The
document's content is a snapshot of immutable values (lines, speaker profiles, takes); an edit
builds the next snapshot and pushes (before, after) onto the undo stack, so undo is exact and a
"modified" check is an identity test against the snapshot last saved.

Its rooms: ``clips`` (audio and timed words), ``speakers``, ``lines`` (one line and the speaker
tags inside text), ``markup`` (cues and pauses), ``script_text`` (lines to and from a script),
``takes``, ``content`` (one snapshot and the undo command that swaps snapshots) and ``dialogue``
(the undoable document itself).
"""
