#!/usr/bin/env bash
# The embedded demo: installs what is missing, then runs samples/KafkaS3Sink.Demo (in-process Kafka,
# a local S3 server, sample order events, the sink with hourly partitions, and a listing of what landed).
set -euo pipefail
cd "$(dirname "$0")/.."
bash eng/install-prereqs.sh
dotnet run --project samples/KafkaS3Sink.Demo -c Release
