#!/usr/bin/env bash
# Set up (first time) and run every test, plus the check that core/ never imports Qt.
set -euo pipefail
cd "$(dirname "$0")/.."
installer/setup.sh --test
export QT_QPA_PLATFORM=offscreen
.venv/bin/lint-imports
# triton (which transformers imports) prints nanobind "leak" reports at interpreter exit; they are
# not ours and would bury pytest's summary, so only those lines are dropped from stderr.
.venv/bin/python -m pytest -q "$@" \
    2> >(grep -vE '^(nanobind: | - leaked | - \.\.\. skipped remainder|See https://nanobind)' >&2)
