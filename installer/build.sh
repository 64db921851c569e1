#!/usr/bin/env bash
# Build the one-folder bundle dist/Dia Studio/ (the program: dist/Dia Studio/dia-studio) with
# PyInstaller, from this checkout, in a build environment of its own (.build-venv/, never .venv)
# holding exactly installer/locks/requirements-bundle-SYSTEM-MACHINE-BUILD.txt.
#   installer/build.sh                       the processor build of torch
#   DIA_TORCH=cu130 installer/build.sh       the CUDA 13.0 build (Linux, Windows)
#   DIA_TORCH_INDEX=URL                      where PyTorch's own builds come from when pip's usual sources lack them
#   installer/build.sh --archive             also packs it for a release (dist/dia-studio-VERSION-….tar.gz or .zip)
# Linux needs the libraries of installer/setup.sh on the build host (PortAudio is copied from it).
# Windows: run it in Git Bash. Build on each system for that system, Linux on the oldest glibc to support.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(uname)" = Linux ]; then  # what PyInstaller needs from the build host there
    command -v objdump >/dev/null || { echo "build.sh: PyInstaller needs objdump: apt-get install binutils" >&2; exit 3; }
    "${PYTHON:-python3}" -c "import ctypes.util, sys; sys.exit(not ctypes.util.find_library('portaudio'))" \
        || { echo "build.sh: the bundle takes PortAudio from this host: apt-get install libportaudio2" >&2; exit 3; }
fi
started=$SECONDS
# The build environment holds exactly its lock (the app's packages, PyInstaller and its hooks).
python=${PYTHON:-python3}
"$python" installer/lockfiles.py current .build-venv bundle || "$python" installer/lockfiles.py sync .build-venv bundle
python=.build-venv/bin/python
[ -x "$python" ] || python=.build-venv/Scripts/python.exe  # Windows
"$python" installer/lockfiles.py check .build-venv bundle
echo "build environment ready in $((SECONDS - started)) s"

chmod -R u+w "dist/Dia Studio" 2>/dev/null || true  # left read-only by an interrupted tests/bundle run
"$python" -m PyInstaller --noconfirm --clean --log-level WARN \
    --workpath build/pyinstaller --distpath dist installer/dia_studio.spec
rm -rf build/pyinstaller  # PyInstaller's work folder: --clean never reuses it, and it takes 0.25 GB
echo "built dist/Dia Studio/ in $((SECONDS - started)) s: $(du -sh 'dist/Dia Studio' | cut -f1)"

if [ "${1:-}" = "--archive" ]; then
    "$python" - "${DIA_TORCH:-cpu}" <<'PACK'
import platform, shutil, sys
from importlib.metadata import version

system = platform.system().lower()
name = f"dist/dia-studio-{version('dia-studio')}-{system}-{platform.machine().lower()}-{sys.argv[1]}"
print("packed", shutil.make_archive(name, "zip" if system == "windows" else "gztar", "dist", "Dia Studio"))
PACK
fi
