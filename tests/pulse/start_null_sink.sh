#!/bin/sh
# Start a private PulseAudio server with a null sink ("nullsink") and a microphone ("loopmic") that
# hears what the sink plays, so sounddevice can play and record on a machine without a sound card.
#
# Idempotent: when the server already answers, nothing is started again. The server lives in its own
# runtime folder (DIA_PULSE_DIR), never in the desktop's, so running the tests on a workstation leaves
# the user's own sound setup alone.
#
# Prints what a client needs as `export NAME=value` lines:   eval "$(tests/pulse/start_null_sink.sh)"
# tests/pulse/stop_null_sink.sh (with the same DIA_PULSE_DIR) stops it.
set -eu

if ! command -v pulseaudio >/dev/null 2>&1 || ! command -v pactl >/dev/null 2>&1; then
    echo "start_null_sink.sh: pulseaudio is not installed;" \
         "run: apt-get install -y pulseaudio libasound2-plugins libportaudio2" >&2
    exit 3
fi

DIA_PULSE_DIR="${DIA_PULSE_DIR:-/tmp/dia-studio-pulse-$(id -u)}"
mkdir -p "$DIA_PULSE_DIR"
chmod 700 "$DIA_PULSE_DIR"   # pulseaudio refuses a runtime folder others can read
export XDG_RUNTIME_DIR="$DIA_PULSE_DIR"
export PULSE_SERVER="unix:$DIA_PULSE_DIR/pulse/native"

if ! pactl info >/dev/null 2>&1; then
    # auth-anonymous: clients with another HOME (no shared cookie) may connect to this test server
    pulseaudio --daemonize=yes --use-pid-file=yes -n --exit-idle-time=-1 --disallow-exit \
        --log-target="file:$DIA_PULSE_DIR/pulseaudio.log" \
        --load="module-native-protocol-unix auth-anonymous=1" \
        --load="module-null-sink sink_name=nullsink rate=48000" \
        --load="module-remap-source master=nullsink.monitor source_name=loopmic source_properties=device.description=LoopMic" \
        --load=module-always-sink
    tries=0
    until pactl info >/dev/null 2>&1; do
        tries=$((tries + 1))
        if [ "$tries" -gt 50 ]; then
            echo "start_null_sink.sh: pulseaudio did not answer within 5 s; see $DIA_PULSE_DIR/pulseaudio.log" >&2
            exit 4
        fi
        sleep 0.1
    done
fi

pactl set-default-sink nullsink
pactl set-default-source loopmic

echo "export XDG_RUNTIME_DIR=$XDG_RUNTIME_DIR"
echo "export PULSE_SERVER=$PULSE_SERVER"
