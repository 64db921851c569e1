"""Errors of the audio room; each message is written for the person using the app."""

from core.errors import DiaStudioError, InvalidParameter


class InvalidExportSettings(InvalidParameter):
    """An export format, sample rate, bitrate or channel count that the format tables forbid."""


class ExportFailed(DiaStudioError):
    """Writing an exported file failed; any earlier file under that name is left as it was."""


class UnusableAudio(DiaStudioError):
    """Audio that cannot serve as a voice reference; the subclasses say why."""


class UnreadableAudio(UnusableAudio):
    """The input is missing, not audio, damaged, or in a format no decoder here knows."""


class SilentAudio(UnusableAudio):
    """The input holds no sound loud enough to be a voice."""


class AudioTooShort(UnusableAudio):
    """After trimming silence, too little sound is left to learn a voice from."""


class AudioDeviceError(DiaStudioError):
    """A microphone or output device could not be opened, or stopped working."""


class NoAudioDevice(AudioDeviceError):
    """There is no device of the kind asked for (no microphone, no output)."""
