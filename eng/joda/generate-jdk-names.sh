#!/usr/bin/env bash
# Regenerates src/KafkaS3Sink/Partitioning/JdkNames.tsv: the month, day, era and zone names Joda-Time prints on this
# machine's JDK (see eng/joda/JdkNames.java). Needs a JDK and Debian's libjoda-time-java (eng/install-prereqs.sh).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
jar=/usr/share/java/joda-time.jar
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
javac -cp "$jar" -d "$work" "$root/eng/joda/JdkNames.java"
java -Duser.timezone=UTC -Duser.language=en -Duser.country=US -cp "$jar:$work" JdkNames > "$root/src/KafkaS3Sink/Partitioning/JdkNames.tsv"
wc -l "$root/src/KafkaS3Sink/Partitioning/JdkNames.tsv"
