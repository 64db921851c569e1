#!/usr/bin/env bash
# Set up (first time) and run every test, plus the check that core/ never imports Qt.
set -euo pipefail
cd "$(dirname "$0")/.."
installer/setup.sh --test
export QT_QPA_PLATFORM=offscreen
.venv/bin/lint-imports
exec .venv/bin/python -m pytest -q "$@"
