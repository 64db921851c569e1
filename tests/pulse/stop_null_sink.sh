#!/bin/sh
# Stop the private PulseAudio server that start_null_sink.sh started in DIA_PULSE_DIR, and wait
# until it is gone. Nothing to do when none runs there. The desktop's own server is never touched.
set -eu

DIA_PULSE_DIR="${DIA_PULSE_DIR:-/tmp/dia-studio-pulse-$(id -u)}"
export XDG_RUNTIME_DIR="$DIA_PULSE_DIR"   # pulseaudio finds its pid file there

command -v pulseaudio >/dev/null 2>&1 || exit 0   # never installed: never started
pulseaudio --check 2>/dev/null || exit 0
pulseaudio --kill
tries=0
while pulseaudio --check 2>/dev/null; do
    tries=$((tries + 1))
    if [ "$tries" -gt 50 ]; then
        echo "stop_null_sink.sh: pulseaudio in $DIA_PULSE_DIR did not stop within 5 s" >&2
        exit 4
    fi
    sleep 0.1
done
