#!/usr/bin/env bash
# Stops what start-rgw.sh started (by PID) and removes its state.
set -u
STATE_DIR=${1:-${RGW_STATE_DIR:-/tmp/kafkas3sink-rgw}}
for name in rgw osd mon; do
  f="$STATE_DIR/$name.pid"
  if [ -f "$f" ]; then
    pid=$(cat "$f")
    kill "$pid" 2>/dev/null
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null
  fi
done
rm -rf "$STATE_DIR"
