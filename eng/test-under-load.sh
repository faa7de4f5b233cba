#!/usr/bin/env bash
# Runs the whole test suite (eng/test.sh) N times in a row with both cores saturated by a CPU hog
# (Debian's stress-ng, installed if missing), then stops the hog. A test that fails only under load
# points at a product bug (a stall, a lost partition) until shown otherwise.
#
# Usage: eng/test-under-load.sh [RUNS] [-- extra dotnet test arguments]   (default 1 run)
# Ends with one line per run and "N passed, N failed" summed over the runs.
set -uo pipefail
cd "$(dirname "$0")/.."

runs=${1:-1}
shift || true
[ "${1:-}" = "--" ] && shift

if ! command -v stress-ng >/dev/null 2>&1; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq stress-ng >/dev/null || { echo "test-under-load: cannot install stress-ng" >&2; exit 3; }
fi

stress-ng --cpu "$(nproc)" --timeout 4h --quiet &
hog=$!
trap 'kill "$hog" 2>/dev/null; wait "$hog" 2>/dev/null' EXIT

total_passed=0; total_failed=0; status=0
for run in $(seq 1 "$runs"); do
  log=$(mktemp)
  bash eng/test.sh "$@" 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -1)
  rm -f "$log"
  echo "test-under-load: run $run of $runs: ${line:-no result} (exit $rc)"
  p=$(echo "$line" | grep -o '^[0-9]*'); f=$(echo "$line" | grep -o '[0-9]* failed' | grep -o '[0-9]*')
  total_passed=$((total_passed + ${p:-0})); total_failed=$((total_failed + ${f:-1}))
  [ "$rc" -ne 0 ] && status=$rc
done
echo "$total_passed passed, $total_failed failed"
exit $status
