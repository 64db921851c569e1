#!/usr/bin/env bash
# Set up (first time) and start Dia Studio.
set -euo pipefail
cd "$(dirname "$0")/.."
installer/setup.sh
exec .venv/bin/dia-studio "$@"
