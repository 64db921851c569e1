#!/usr/bin/env bash
# Build the one-folder bundle dist/Dia Studio/ (the program: dist/Dia Studio/dia-studio) with
# PyInstaller, from this checkout, in a build environment of its own (.build-venv/, never .venv).
#   installer/build.sh                       the processor build of torch
#   DIA_TORCH=cu128 installer/build.sh       a CUDA build (Linux, Windows): torch from PyTorch's cu128 index
#   DIA_TORCH_INDEX=URL                      where torch comes from (default: PyTorch's index for DIA_TORCH)
#   installer/build.sh --archive             also packs it for a release (dist/dia-studio-VERSION-….tar.gz or .zip)
# Linux needs the libraries of installer/setup.sh on the build host (PortAudio is copied from it).
# Windows: run it in Git Bash. Build on each system for that system, Linux on the oldest glibc to support.
set -euo pipefail
cd "$(dirname "$0")/.."

variant=${DIA_TORCH:-cpu}
torch_index=${DIA_TORCH_INDEX:-https://download.pytorch.org/whl/$variant}
venv=.build-venv
pyinstaller_pins=(pyinstaller==6.22.3 pyinstaller-hooks-contrib==2026.9)

if [ "$(uname)" = Linux ]; then  # what PyInstaller needs from the build host there
    command -v objdump >/dev/null || { echo "build.sh: PyInstaller needs objdump: apt-get install binutils" >&2; exit 3; }
    "${PYTHON:-python3}" -c "import ctypes.util, sys; sys.exit(not ctypes.util.find_library('portaudio'))" \
        || { echo "build.sh: the bundle takes PortAudio from this host: apt-get install libportaudio2" >&2; exit 3; }
fi
started=$SECONDS
[ -d "$venv" ] || "${PYTHON:-python3}" -m venv "$venv"
python=$venv/bin/python
[ -x "$python" ] || python=$venv/Scripts/python.exe  # Windows
"$python" -m pip install -q --upgrade pip
# torch first, in the chosen build: the project's pin with the variant as its local label. What
# pip is set up to reach (a wheel already on this machine) comes first, PyTorch's index second.
torch_pin=$(grep -oE '"torch==[^"]+"' pyproject.toml | tr -d '"')
"$python" -m pip install -q "$torch_pin+$variant" 2>/dev/null \
    || "$python" -m pip install -q "$torch_pin+$variant" --extra-index-url "$torch_index"
"$python" -m pip install -q -e . "${pyinstaller_pins[@]}"
echo "build environment ready in $((SECONDS - started)) s"

chmod -R u+w "dist/Dia Studio" 2>/dev/null || true  # left read-only by an interrupted tests/bundle run
"$python" -m PyInstaller --noconfirm --clean --log-level WARN \
    --workpath build/pyinstaller --distpath dist installer/dia_studio.spec
echo "built dist/Dia Studio/ in $((SECONDS - started)) s: $(du -sh 'dist/Dia Studio' | cut -f1)"

if [ "${1:-}" = "--archive" ]; then
    "$python" - "$variant" <<'PACK'
import platform, shutil, sys
from importlib.metadata import version

system = platform.system().lower()
name = f"dist/dia-studio-{version('dia-studio')}-{system}-{platform.machine().lower()}-{sys.argv[1]}"
print("packed", shutil.make_archive(name, "zip" if system == "windows" else "gztar", "dist", "Dia Studio"))
PACK
fi
