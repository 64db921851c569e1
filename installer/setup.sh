#!/usr/bin/env bash
# Set up Dia Studio from a source checkout on Debian/Ubuntu: system libraries (when run as root,
# or via sudo when available), then a virtual environment in .venv with the project installed.
#   installer/setup.sh          the app
#   installer/setup.sh --test   the app and what its tests need (PulseAudio, pytest, ...)
set -euo pipefail
cd "$(dirname "$0")/.."

# sounddevice needs PortAudio; Qt needs these to draw (offscreen and on X11).
packages=(libportaudio2 libegl1 libgl1 libxkbcommon0 libfontconfig1 libdbus-1-3 libglib2.0-0
          libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1
          libxcb-render-util0 libxcb-shape0)
extras=""
if [ "${1:-}" = "--test" ]; then
    # A PulseAudio null sink stands in for a sound card in the tests; exported files are checked
    # by readers other than the writer (ffprobe, ogginfo). A whole run also builds the bundle
    # (PyInstaller reads libraries with binutils' objdump) and opens its window on Xvfb.
    packages+=(pulseaudio libasound2-plugins ffmpeg vorbis-tools binutils xvfb xauth)
    extras="[test,cluster]"
fi

if command -v apt-get >/dev/null 2>&1; then
    missing=()
    for package in "${packages[@]}"; do
        dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        sudo=""
        [ "$(id -u)" -ne 0 ] && sudo="sudo"
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
fi

python=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".${extras}"
