#!/usr/bin/env bash
# Runs every test: installs what is missing, builds, starts the local S3 server (unless S3_ENDPOINT
# is set), runs `dotnet test` on each test project with TRX results, stops the server, and ends with
# "N passed, N failed". Extra arguments go to `dotnet test` (e.g. --filter Category=Integration).
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

bash eng/install-prereqs.sh || exit $?
dotnet build KafkaS3Sink.sln -c Release --no-restore --verbosity quiet -nologo || exit $?

state="${TMPDIR:-/tmp}/kafkas3sink-rgw-test-$$"
started=""
if [ -z "${S3_ENDPOINT:-}" ]; then
  RGW_PORT=${RGW_PORT:-7480} MON_PORT=${MON_PORT:-6789} bash eng/s3/start-rgw.sh "$state" || exit $?
  started=1
  # shellcheck disable=SC1091
  source "$state/env"
fi
cleanup() { [ -n "$started" ] && bash "$root/eng/s3/stop-rgw.sh" "$state"; }
trap cleanup EXIT

results="$root/.artifacts/test-results"
rm -rf "$results"
# One run per test project, each with its own TRX file (names made from timestamps could collide).
status=0
for proj in tests/*Tests/*.csproj samples/*Tests/*.csproj; do
  name=$(basename "$proj" .csproj)
  # A test that hangs is killed after 10 minutes and named in the output (instead of eating the CI budget).
  dotnet test "$proj" -c Release --no-build --logger "trx;LogFileName=$name.trx" --results-directory "$results" \
    --blame-hang-timeout 10m --blame-hang-dump-type none "$@" || status=$?
done

passed=0; failed=0
for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -1)
  p=$(echo "$counters" | grep -o ' passed="[0-9]*"' | grep -o '[0-9]*')
  f=$(echo "$counters" | grep -o ' failed="[0-9]*"' | grep -o '[0-9]*')
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
done
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  failed=1 # the run itself failed (e.g. a test host crashed): never report green
fi
echo "$passed passed, $failed failed"
exit $status
