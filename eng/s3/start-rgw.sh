#!/usr/bin/env bash
# Starts a throwaway single-node Ceph cluster (1 mon, 1 memstore OSD, no mgr) with a RADOS
# Gateway on 127.0.0.1, and an S3 user. Data lives in RAM: stopping it loses everything.
#
# Usage: eng/s3/start-rgw.sh [STATE_DIR]
# Env:   RGW_PORT (default 7480), MON_PORT (default 6789; uses it and +1), RGW_MEMSTORE_BYTES
#        (default 4 GiB), S3_ACCESS_KEY / S3_SECRET_KEY (defaults below).
# Writes STATE_DIR/env with S3_ENDPOINT, S3_ACCESS_KEY, S3_SECRET_KEY, S3_REGION, and PID files.
# Stop with eng/s3/stop-rgw.sh STATE_DIR.
set -euo pipefail

STATE_DIR=${1:-${RGW_STATE_DIR:-/tmp/kafkas3sink-rgw}}
RGW_PORT=${RGW_PORT:-7480}
MON_PORT=${MON_PORT:-6789}
MEMSTORE_BYTES=${RGW_MEMSTORE_BYTES:-4294967296}
ACCESS_KEY=${S3_ACCESS_KEY:-kafkas3sink}
SECRET_KEY=${S3_SECRET_KEY:-kafkas3sink-secret}
FSID=$(cat /proc/sys/kernel/random/uuid)

for bin in ceph-mon ceph-osd radosgw radosgw-admin ceph monmaptool ceph-authtool; do
  command -v "$bin" >/dev/null || { echo "start-rgw: $bin not found; run eng/install-prereqs.sh" >&2; exit 3; }
done

if [ -f "$STATE_DIR/rgw.pid" ] && kill -0 "$(cat "$STATE_DIR/rgw.pid")" 2>/dev/null; then
  echo "start-rgw: already running in $STATE_DIR" >&2
  exit 0
fi

rm -rf "$STATE_DIR"
mkdir -p "$STATE_DIR"/{mon,osd,run,log}
CONF="$STATE_DIR/ceph.conf"
cat > "$CONF" <<CONF
[global]
fsid = $FSID
mon host = v2:127.0.0.1:$MON_PORT,v1:127.0.0.1:$((MON_PORT + 1))
public network = 127.0.0.0/8
ms bind ipv6 = false
auth cluster required = none
auth service required = none
auth client required = none
ms mon client mode = crc
ms client mode = crc
ms service mode = crc
ms cluster mode = crc
osd pool default size = 1
osd pool default min size = 1
mon allow pool size one = true
mon allow pool delete = true
osd pool default pg num = 8
osd pool default pgp num = 8
osd crush chooseleaf type = 0
paxos propose interval = 0.05
mon osd nearfull ratio = 0.97
mon osd backfillfull ratio = 0.98
mon osd full ratio = 0.99
osd failsafe full ratio = 0.995
mon warn on pool no redundancy = false
run dir = $STATE_DIR/run
log file = $STATE_DIR/log/\$name.log
admin socket = $STATE_DIR/run/\$name.asok
keyring = $STATE_DIR/keyring

[mon.a]
mon data = $STATE_DIR/mon

[osd.0]
osd data = $STATE_DIR/osd
osd objectstore = memstore
memstore device bytes = $MEMSTORE_BYTES
osd max object size = 134217728

[client.rgw.a]
rgw frontends = beast endpoint=127.0.0.1:$RGW_PORT
rgw data = $STATE_DIR/rgw
rgw gc obj min wait = 30
rgw gc processor period = 30
rgw dns name = 127.0.0.1
CONF

C=(-c "$CONF")

# On any failure, stop what this script started so no daemon is left behind.
cleanup_on_error() {
  for name in rgw osd mon; do
    [ -f "$STATE_DIR/$name.pid" ] && kill -9 "$(cat "$STATE_DIR/$name.pid")" 2>/dev/null
  done
}
trap 'cleanup_on_error' ERR
ceph-authtool --create-keyring "$STATE_DIR/keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
monmaptool --create --fsid "$FSID" --addv a "[v2:127.0.0.1:$MON_PORT,v1:127.0.0.1:$((MON_PORT + 1))]" "$STATE_DIR/monmap" >/dev/null
ceph-mon "${C[@]}" --mkfs -i a --monmap "$STATE_DIR/monmap" --keyring "$STATE_DIR/keyring"
ceph-mon "${C[@]}" -i a --pid-file "$STATE_DIR/mon.pid"

wait_for() { # seconds, description, command...
  local secs=$1 what=$2; shift 2
  for _ in $(seq 1 $((secs * 10))); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  echo "start-rgw: timed out waiting for $what; logs in $STATE_DIR/log" >&2
  return 1
}

wait_for 30 "monitor" timeout 5 ceph "${C[@]}" mon stat
OSD_UUID=$(cat /proc/sys/kernel/random/uuid)
OSD_ID=$(timeout 20 ceph "${C[@]}" osd new "$OSD_UUID")
ceph-osd "${C[@]}" -i "$OSD_ID" --mkfs --osd-uuid "$OSD_UUID" >/dev/null 2>&1
ceph-osd "${C[@]}" -i "$OSD_ID" --pid-file "$STATE_DIR/osd.pid" 2>"$STATE_DIR/log/osd-start.err"
wait_for 60 "OSD up" bash -c "timeout 5 ceph -c '$CONF' osd dump 2>/dev/null | grep -q '^osd.$OSD_ID up'"

mkdir -p "$STATE_DIR/rgw"
radosgw "${C[@]}" -n client.rgw.a --pid-file "$STATE_DIR/rgw.pid" >/dev/null 2>&1
wait_for 90 "radosgw on port $RGW_PORT" curl -sf "http://127.0.0.1:$RGW_PORT/"

timeout 60 radosgw-admin "${C[@]}" user create --uid kafkas3sink --display-name "KafkaS3Sink tests" \
  --access-key "$ACCESS_KEY" --secret-key "$SECRET_KEY" >/dev/null

# A second user with the credentials of the talk's connector config (tests run that config unchanged).
timeout 60 radosgw-admin "${C[@]}" user create --uid talk --display-name "Talk config" \
  --access-key user --secret-key secret >/dev/null

cat > "$STATE_DIR/env" <<ENV
export S3_ENDPOINT=http://127.0.0.1:$RGW_PORT
export S3_ACCESS_KEY=$ACCESS_KEY
export S3_SECRET_KEY=$SECRET_KEY
export S3_REGION=us-east-1
ENV
echo "start-rgw: S3 ready at http://127.0.0.1:$RGW_PORT (state in $STATE_DIR)"
