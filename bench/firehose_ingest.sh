#!/usr/bin/env bash
# Sustained PutRecordBatch ingest into `orderlake firehose` on loopback: CLIENTS concurrent
# keep-alive connections, each sending batches of 500 records of ~100 bytes and waiting for
# the durable acknowledgement (the records are fsynced in the WAL first). Prints records/s,
# MB/s, p50/p99 request latency and the delivery lag (acknowledged records not yet in the
# raw store, and the age of the oldest one) sampled during and after the run.
#
# Usage: bench/firehose_ingest.sh
#   BENCH_CLIENTS=4        concurrent clients (default 4)
#   BENCH_SECONDS=10       duration of the load (default 10)
#   BENCH_RECORDS=500      records per PutRecordBatch (default 500)
#   BENCH_RECORD_BYTES=100 bytes per record (default 100)
#   BENCH_SIZE_MB=16 BENCH_INTERVAL=10   the stream's BufferingHints
#   ORDERLAKE_BUILD_DIR=build           where orderlake and bench/firehose_load are
# The data directory is bench/out/firehose (on disk, not tmpfs, so fsync costs what it costs);
# the result is also written to bench/out/firehose_ingest.json.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${ORDERLAKE_BUILD_DIR:-$root/build}"
clients="${BENCH_CLIENTS:-4}"
seconds="${BENCH_SECONDS:-10}"
records="${BENCH_RECORDS:-500}"
record_bytes="${BENCH_RECORD_BYTES:-100}"
size_mb="${BENCH_SIZE_MB:-16}"
interval="${BENCH_INTERVAL:-10}"
orderlake="$build/orderlake"
load="$build/bench/firehose_load"
out="$root/bench/out"
data="$out/firehose"
for f in "$orderlake" "$load"; do
  [ -x "$f" ] || { echo "firehose_ingest: $f not built (ninja -C $build orderlake firehose_load)" >&2; exit 2; }
done
rm -rf "$data"
mkdir -p "$data"

"$orderlake" --log-level warn firehose --listen 127.0.0.1:0 --data-dir "$data" >"$out/firehose.port" 2>"$out/firehose.log" &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q listening "$out/firehose.port" 2>/dev/null && break; sleep 0.05; done
port="$(sed -n 's/.*:\([0-9]*\)$/\1/p' "$out/firehose.port")"
[ -n "$port" ] || { echo "firehose_ingest: the service did not start" >&2; cat "$out/firehose.log" >&2; exit 1; }
url="http://127.0.0.1:$port"

curl -sf -XPOST "$url/" -H 'X-Amz-Target: Firehose_20150804.CreateDeliveryStream' \
  -H 'Content-Type: application/x-amz-json-1.1' \
  -d "{\"DeliveryStreamName\":\"bench\",\"ExtendedS3DestinationConfiguration\":{\"RoleARN\":\"arn:aws:iam::123456789012:role/f\",\"BucketARN\":\"arn:aws:s3:::bench\",\"BufferingHints\":{\"SizeInMBs\":$size_mb,\"IntervalInSeconds\":$interval}}}" >/dev/null

metric() {  # metric NAME -> value for stream bench
  curl -sf "$url/metrics" | awk -v m="orderlake_firehose_$1{stream=\"bench\"}" '$1 == m {print $2}'
}

echo "firehose_ingest: $clients clients x PutRecordBatch($records x ${record_bytes} B) for ${seconds}s, durable acks, stream buffering ${size_mb} MiB / ${interval} s, load $(cut -d' ' -f1-3 /proc/loadavg)"
"$load" 127.0.0.1 "$port" bench "$clients" "$seconds" "$records" "$record_bytes" >"$out/firehose_load.json" &
lpid=$!
max_lag=0
max_age=0
while kill -0 $lpid 2>/dev/null; do
  sleep 1
  in=$(metric records_in_total); done_=$(metric records_delivered_total); age=$(metric buffer_age_seconds)
  lag=$(( ${in%.*} - ${done_%.*} ))
  (( lag > max_lag )) && max_lag=$lag
  awk -v a="$age" -v m="$max_age" 'BEGIN{exit !(a > m)}' && max_age=$age
done
wait $lpid
result="$(cat "$out/firehose_load.json")"
in=$(metric records_in_total); done_=$(metric records_delivered_total); age=$(metric buffer_age_seconds)
wal=$(curl -sf "$url/metrics" | awk '$1 == "orderlake_firehose_wal_bytes" {print $2}')
t0=$(date +%s.%N)
while [ "$(metric buffered_records)" != "0" ]; do sleep 0.1; done
drain=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b - a}')
objects=$(find "$data/s3/bench" -type f ! -name '.*' | wc -l)
python3 - "$result" "$in" "$done_" "$age" "$max_lag" "$max_age" "$wal" "$drain" "$objects" "$out/firehose_ingest.json" <<'EOF'
import json, sys
r = json.loads(sys.argv[1])
r.update(records_in=int(float(sys.argv[2])), delivered_at_end=int(float(sys.argv[3])),
         lag_records_at_end=int(float(sys.argv[2])) - int(float(sys.argv[3])), oldest_undelivered_s_at_end=float(sys.argv[4]),
         max_lag_records=int(sys.argv[5]), max_oldest_undelivered_s=float(sys.argv[6]), wal_bytes_at_end=int(float(sys.argv[7])),
         drain_seconds=float(sys.argv[8]), objects=int(sys.argv[9]))
print(f"  records/s        {r['records_per_s']:>12,.0f}   ({r['acked_records']:,} acknowledged in {r['seconds']:.1f} s, {r['requests']:,} requests, {r['failed_requests']} failed)")
print(f"  MB/s (payload)   {r['mb_per_s']:>12.1f}")
print(f"  latency p50/p99  {r['p50_ms']:>8.1f} / {r['p99_ms']:.1f} ms")
print(f"  delivery lag     {r['lag_records_at_end']:>12,} records at the end (oldest {r['oldest_undelivered_s_at_end']:.1f} s); "
      f"max sampled {r['max_lag_records']:,} records, oldest {r['max_oldest_undelivered_s']:.1f} s")
print(f"  drained in       {r['drain_seconds']:>12.1f} s after the load; {r['objects']} objects; WAL {r['wal_bytes_at_end']/1e6:.1f} MB at the end")
json.dump(r, open(sys.argv[10], "w"), indent=2)
EOF
