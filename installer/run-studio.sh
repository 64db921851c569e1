#!/usr/bin/env bash
# Set up (first time, or after the lock or pyproject.toml changed) and start Dia Studio. A start
# after that needs no network.
set -euo pipefail
cd "$(dirname "$0")/.."
installer/setup.sh
exec .venv/bin/dia-studio "$@"
