"""How long exporting two minutes of dialogue takes, per format, on this machine.

    python bench/bench_export.py [--seconds 120] [--repeat 3]

The audio is the test voices looped (real speech: encoders work harder on it than on tones), as
the model makes it (24 kHz mono float32). Each export is the whole path a user triggers: resample,
up-mix, peak safety, encode with tags, fsync and rename. Figures are medians of the repeats; the
CPU seconds of this process are shown beside the wall-clock ones because a busy machine (see the
load average printed first) stretches only the latter.

Beside each lossy format, the anchor: the ``ffmpeg`` command line (when one is on the PATH)
encoding the same audio with the same encoder and settings from a float WAV, and our time as a
ratio of its. Ours goes through PyAV, whose wheel carries its own builds of LAME and libvorbis.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.host import processor_name  # noqa: E402
from core.audio import MODEL_SAMPLE_RATE  # noqa: E402
from core.audio.export import export_audio  # noqa: E402
from core.audio.formats import ExportSettings  # noqa: E402
from core.audio.io import load_voice_clip  # noqa: E402
from core.audio.tags import ExportMetadata  # noqa: E402

VOICES = ROOT / "tests" / "fixtures" / "voices"
CASES = [
    ("MP3 defaults", ExportSettings.create("MP3"), None),
    ("MP3 defaults, loudness -16 LUFS", ExportSettings.create("MP3"), -16.0),
    ("OGG defaults", ExportSettings.create("OGG"), None),
    ("WAV", ExportSettings.create("WAV"), None),
    ("FLAC", ExportSettings.create("FLAC"), None),
]


def machine() -> str:
    cpu = processor_name()
    gpu = "an NVIDIA GPU is present (export does not use it)" if shutil.which("nvidia-smi") else "no GPU"
    system = f"{platform.system()} {platform.release()}, Python {platform.python_version()}"
    return f"{cpu}, {os.cpu_count()} CPU cores, {gpu}; {system}"


def dialogue(seconds: float) -> np.ndarray:
    voices = [load_voice_clip(VOICES / name).samples for name in ("speaker1_24k_mono.wav", "speaker2_44k_stereo.wav")]
    one_round = np.concatenate(voices)
    rounds = int(np.ceil(seconds * MODEL_SAMPLE_RATE / len(one_round)))
    return np.tile(one_round, rounds)[: round(seconds * MODEL_SAMPLE_RATE)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=120.0, help="length of the exported audio")
    parser.add_argument("--repeat", type=int, default=3, help="exports per format (the median is shown)")
    args = parser.parse_args()

    audio = dialogue(args.seconds)
    metadata = ExportMetadata(title="Benchmark", speakers=("S1", "S2"), seed=1, parameters={"CFGScale": 3.0})
    print(f"Machine: {machine()}")
    print("Load average (1, 5, 15 min): " + ", ".join(f"{load:.2f}" for load in os.getloadavg()))
    print(f"Exporting {args.seconds:g} s of 24 kHz mono speech, median of {args.repeat}:")
    anchor = shutil.which("ffmpeg")
    print(f"Anchor: {anchor or 'no ffmpeg command on the PATH: none'}")
    print(f"{'format':<34}{'settings':<21}{'wall s':>8}{'CPU s':>8}{'x real time':>13}{'size':>10}"
          + (f"{'ffmpeg s':>10}{'ours/ffmpeg':>13}" if anchor else ""))
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "source.wav"
        soundfile.write(source, audio, MODEL_SAMPLE_RATE, subtype="FLOAT")
        for name, settings, loudness in CASES:
            path = Path(folder) / f"bench{settings.format.extension}"
            wall, cpu = [], []
            for _ in range(args.repeat):
                wall_start, cpu_start = time.perf_counter(), time.process_time()
                export_audio(audio, path, settings, metadata, loudness_lufs=loudness)
                wall.append(time.perf_counter() - wall_start)
                cpu.append(time.process_time() - cpu_start)
            elapsed = statistics.median(wall)
            described = f"{settings.sample_rate} Hz {settings.channels} ch" + (
                f" {settings.bitrate_kbps}k" if settings.bitrate_kbps else ""
            )
            row = (f"{name:<34}{described:<21}{elapsed:>8.2f}{statistics.median(cpu):>8.2f}"
                   f"{args.seconds / elapsed:>12.0f}x{path.stat().st_size / 1e6:>7.1f} MB")
            if anchor and settings.bitrate_kbps and loudness is None:
                theirs = statistics.median(ffmpeg_seconds(anchor, source, settings, Path(folder))
                                           for _ in range(args.repeat))
                row += f"{theirs:>10.2f}{elapsed / theirs:>12.2f}x"
            print(row)


def ffmpeg_seconds(ffmpeg: str, source: Path, settings: ExportSettings, folder: Path) -> float:
    """The ffmpeg command line's time for the same export: resample, up-mix, encode, write."""
    codec = {"MP3": "libmp3lame", "OGG": "libvorbis"}[settings.format.value]
    command = [ffmpeg, "-loglevel", "error", "-y", "-i", str(source), "-ar", str(settings.sample_rate),
               "-ac", str(settings.channels), "-c:a", codec, "-b:a", f"{settings.bitrate_kbps}k"]
    if settings.format.value == "OGG":  # as the export pins libvorbis to the asked bitrate
        command += ["-minrate", f"{settings.bitrate_kbps}k", "-maxrate", f"{settings.bitrate_kbps}k"]
    command.append(str(folder / f"anchor{settings.format.extension}"))
    started = time.perf_counter()
    subprocess.run(command, check=True)
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
