#!/usr/bin/env bash
# Set up (first time) and run every test, plus the check that core/ never imports Qt.
#   tests/run.sh            everything, then the bundle is built and smoke-tested
#   tests/run.sh --fast     the tests that start no model process, server, Ray, sound server or
#                           command (markers set in tests/conftest.py): a few minutes on 2 cores
#   tests/run.sh PATH/ARGS  chosen tests (pytest's arguments), no bundle
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--fast" ]; then
    shift
    set -- -m "not (process or server or ray or sound or subprocess or slow or bundle)" "$@"
fi
installer/setup.sh --test
# The official Runware SDKs the server is checked against; both are the module `runware`, so each
# gets a folder of its own (tests/service/test_official_sdks.py puts one at a time on the path).
for sdk in runware-sdk runware; do
    .venv/bin/python installer/lockfiles.py current ".sdk/$sdk" "$sdk" \
        || .venv/bin/python installer/lockfiles.py sync ".sdk/$sdk" "$sdk" --into-folder
done
# What is installed is exactly the lock: drift (a package installed or upgraded by hand) is one
# line here, not a failure deep in a test.
.venv/bin/python installer/lockfiles.py check .venv test
for sdk in runware-sdk runware; do .venv/bin/python installer/lockfiles.py check ".sdk/$sdk" "$sdk"; done
export QT_QPA_PLATFORM=offscreen
# The sound tests' PulseAudio server runs in a folder of this run and is stopped when the run
# ends, however it ends (an interrupted or killed pytest included).
DIA_PULSE_DIR="$(mktemp -d "${TMPDIR:-/tmp}/dia-studio-pulse.XXXXXX")"
export DIA_PULSE_DIR
trap 'tests/pulse/stop_null_sink.sh || true; rm -rf "$DIA_PULSE_DIR"' EXIT
.venv/bin/lint-imports
# triton (installed with torch's CUDA builds; transformers imports it) prints nanobind "leak"
# reports at interpreter exit; they are not ours and would bury pytest's summary, so only those
# lines are dropped from stderr.
run_pytest() {
    .venv/bin/python -m pytest -q --durations=15 -n "${DIA_TEST_WORKERS:-auto}" --dist loadgroup "$@" \
        2> >(grep -vE '^(nanobind: | - leaked | - \.\.\. skipped remainder|See https://nanobind)' >&2)
}
if [ $# -gt 0 ]; then
    run_pytest "$@"
else
    # A whole run plays and records real-time audio alone, once the parallel run is over: on a CI
    # machine busy with every other test, PulseAudio's stream went hungry and what the sink heard
    # had gaps in it. Then it builds the one-folder bundle and smoke-tests it as a person runs it
    # (about 7 minutes on 2 cores); a run of chosen tests leaves both out.
    run_pytest -m "not (bundle or sound)"
    run_pytest -m "sound and not bundle" -n 0
    installer/build.sh
    run_pytest tests/bundle -m bundle
fi
