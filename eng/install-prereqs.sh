#!/usr/bin/env bash
# Installs what the demo and the tests need on a fresh Debian 12 machine (idempotent):
# the Ceph packages for the local S3 server (radosgw on a one-node memstore cluster), curl, the JDK and
# Joda-Time (the differential test of Confluent's time partitions), and the NuGet packages of the solution.
# The .NET 10 SDK must already be on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
for pkg_bin in ceph-mon:ceph-mon ceph-osd:ceph-osd radosgw:radosgw ceph-common:ceph curl:curl; do
  pkg=${pkg_bin%%:*}; bin=${pkg_bin##*:}
  command -v "$bin" >/dev/null 2>&1 || need+=("$pkg")
done
command -v javac >/dev/null 2>&1 || need+=(default-jdk-headless)
[ -f /usr/share/java/joda-time.jar ] || need+=(libjoda-time-java)
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "install-prereqs: installing ${need[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

command -v dotnet >/dev/null || { echo "install-prereqs: the .NET 10 SDK (dotnet) is required" >&2; exit 3; }
dotnet restore KafkaS3Sink.sln --verbosity quiet
