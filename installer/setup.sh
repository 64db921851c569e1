#!/usr/bin/env bash
# Set up Dia Studio from a source checkout on Debian/Ubuntu: system libraries (when run as root,
# or via sudo when available), then a virtual environment in .venv holding exactly the lock
# (installer/locks/, CONTRIBUTING.md: How installs are pinned) and the project.
#   installer/setup.sh             the app
#   installer/setup.sh --cluster   the app and Ray Serve (serve --ray, batch --ray)
#   installer/setup.sh --test      the app, Ray and what the tests need (PulseAudio, pytest, ...)
#   DIA_TORCH=cu130             torch's CUDA build instead of the processor's
# Once set up, it does nothing until the lock or pyproject.toml changes: no network, no pip.
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}
case "${1:-}" in
    "") environment=app ;;
    --test|--cluster) environment=${1#--} ;;
    *) echo "setup.sh: unknown option $1 (--test or --cluster)" >&2; exit 2 ;;
esac
"$python" installer/lockfiles.py current .venv "$environment" && exit 0
# A checkout set up for the tests (or a cluster) stays so when the studio is started after a new lock.
environment=$("$python" installer/lockfiles.py to-hold .venv "$environment")

# sounddevice needs PortAudio; Qt needs these to draw (offscreen and on X11).
packages=(libportaudio2 libegl1 libgl1 libxkbcommon0 libfontconfig1 libdbus-1-3 libglib2.0-0
          libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1
          libxcb-render-util0 libxcb-shape0)
if [ "$environment" = test ]; then
    # A PulseAudio null sink stands in for a sound card in the tests; exported files are checked
    # by readers other than the writer (ffprobe, ogginfo). A whole run also builds the bundle
    # (PyInstaller reads libraries with binutils' objdump) and opens its window on Xvfb.
    packages+=(pulseaudio libasound2-plugins ffmpeg vorbis-tools binutils xvfb xauth)
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

started=$SECONDS
"$python" installer/lockfiles.py sync .venv "$environment"
echo "set up .venv ($environment, $("$python" installer/lockfiles.py path "$environment")) in $((SECONDS - started)) s"
