#!/usr/bin/env bash
# Write the locks (installer/locks/) from pyproject.toml: the one way they change (CONTRIBUTING.md:
# How installs are pinned). Runs uv from a lock of its own, in .lock-venv/.
#   installer/lock.sh                       lock what pyproject.toml asks for and a lock lacks; keep every other pin
#   installer/lock.sh --upgrade             every package to its newest release inside pyproject.toml's ranges
#   installer/lock.sh --upgrade-package X   X alone
#   DIA_TORCH_WHEELS=DIR                    torch's builds from PyTorch's index taken from a folder of wheels
set -euo pipefail
cd "$(dirname "$0")/.."
"${PYTHON:-python3}" installer/lockfiles.py current .lock-venv lock-tool \
    || "${PYTHON:-python3}" installer/lockfiles.py sync .lock-venv lock-tool
exec .lock-venv/bin/python installer/update_locks.py "$@"
