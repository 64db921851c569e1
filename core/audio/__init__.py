"""Everything the studio does with sound except generating it.

- ``formats``       the export format tables and validated ``ExportSettings`` (the one source of those facts)
- ``export``        write MP3/WAV/FLAC/OGG files (atomically, with tags) or encode to bytes
- ``atomic_write``  replace a file all at once or not at all (every file the studio keeps)
- ``stored_audio``  audio as a project stores it (24-bit FLAC), and what it sounds like read back
- ``tags``          what a file says about how it was made (title, speakers, seed, parameters)
- ``io``            read any common audio file or clip into a checked 24 kHz mono ``VoiceClip``
- ``processing``    resampling, channel mixing, levels, loudness, silence bounds
- ``backend``       the small interface to a sound system; ``sounddevice_backend`` (the tests' fake sound
                    card is ``tests/fake_sound_card.py``)
- ``capture``       microphone recording into a ``ring`` buffer, with a live level
- ``playback``      a player that plays chunks while they are still being appended
- ``errors``        what can go wrong, as types the GUI and CLI turn into messages

Kept import-light on purpose: importing this package loads no codec or sound library.
"""

# Dia2's codec (Mimi) makes and takes 24 kHz mono; every other rate in the studio is a conversion.
MODEL_SAMPLE_RATE = 24000
