#!/usr/bin/env bash
# bench/agent_throughput.sh: `orderlake agent` lines per second from files on disk to
# acknowledged records, beside the cost of just reading the same files (cat > /dev/null).
#
#   bench/agent_throughput.sh                 # 2,000,000 lines, 3 repetitions
#   BENCH_LINES=500000 BENCH_REPS=1 bench/agent_throughput.sh
#
# The delivery stream is `orderlake firehose` on loopback (BENCH_SINK=orderlake, the default:
# acknowledged = in its write-ahead log on disk), or BENCH_SINK=null, a minimal Python
# PutRecordBatch sink (bench/out/agent/sink.py) that acknowledges everything and stores
# nothing, which shows the agent's own cost.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${ORDERLAKE_BINARY:-$ROOT/build/orderlake}
LINES=${BENCH_LINES:-2000000}
# BENCH_AGGREGATE=N: the flow aggregates lines into Firehose records of up to N bytes
# (aggregatedRecordSizeBytes); 0 (default) sends one record per line, the Kinesis Agent's default.
AGGREGATE=""
if [ "${BENCH_AGGREGATE:-0}" != 0 ]; then AGGREGATE=", \"aggregatedRecordSizeBytes\": ${BENCH_AGGREGATE}"; fi
REPS=${BENCH_REPS:-3}
OUT=$ROOT/bench/out/agent
LOGS=$OUT/logs-$LINES
mkdir -p "$OUT/work"
[ -x "$BIN" ] || { echo "no orderlake binary at $BIN (set ORDERLAKE_BINARY or run scripts/build.sh)" >&2; exit 1; }

if [ ! -e "$LOGS.complete" ]; then
  rm -rf "$LOGS"
  "$BIN" generate --out "$LOGS" --count "$LINES" --seed 42 --rotate-size 64M --progress-interval 0 >/dev/null
  touch "$LOGS.complete"
fi
BYTES=$(cat "$LOGS"/*.log | wc -c)

cat > "$OUT/sink.py" <<'PY'
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        n = body.count(b'{"Data"')
        out = b'{"FailedPutCount":0,"Encrypted":false,"RequestResponses":[' + b",".join([b'{"RecordId":"r"}'] * n) + b"]}"
        # One write for head and body (two small writes stall on Nagle and delayed ACKs).
        self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.1\r\nContent-Length: "
                         + str(len(out)).encode() + b"\r\n\r\n" + out)
s = ThreadingHTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
PY
SINK_KIND=${BENCH_SINK:-orderlake}
if [ "$SINK_KIND" = orderlake ]; then
  # orderlake firehose on loopback: WAL on disk before each acknowledgement, delivery to
  # <data-dir>/s3/raw/. A fresh data dir per run of the script.
  rm -rf "$OUT/firehose"
  coproc SINK { exec "$BIN" --log-level warn firehose --listen 127.0.0.1:0 --data-dir "$OUT/firehose"; }
  read -r PORT_LINE <&"${SINK[0]}"
  PORT=$(echo "$PORT_LINE" | grep -o '[0-9]*$')
else
  coproc SINK { exec python3 "$OUT/sink.py"; }
  read -r PORT <&"${SINK[0]}"
fi
trap 'kill $SINK_PID 2>/dev/null || true' EXIT
# A fresh stream per repetition: orderlake firehose remembers each source's byte ranges per
# stream and would drop a second run's batches as replays.
create_stream() {
  [ "$SINK_KIND" = orderlake ] || return 0
  python3 - "$PORT" "$1" <<'PY'
import sys, time, boto3
c = boto3.client("firehose", endpoint_url=f"http://127.0.0.1:{sys.argv[1]}", region_name="us-east-1",
                 aws_access_key_id="AKIDBENCH", aws_secret_access_key="bench")
c.create_delivery_stream(DeliveryStreamName=sys.argv[2], ExtendedS3DestinationConfiguration={
    "RoleARN": "arn:aws:iam::123456789012:role/firehose", "BucketARN": "arn:aws:s3:::raw",
    "BufferingHints": {"SizeInMBs": 64, "IntervalInSeconds": 60}})
while c.describe_delivery_stream(DeliveryStreamName=sys.argv[2])["DeliveryStreamDescription"]["DeliveryStreamStatus"] != "ACTIVE":
    time.sleep(0.1)
PY
}
echo "sink: $SINK_KIND on 127.0.0.1:$PORT"

printf '%-6s %12s %12s %12s %10s\n' rep cat_s agent_s agent_l/s peak_rss
for rep in $(seq 1 "$REPS"); do
  cat "$LOGS"/*.log > /dev/null   # warm page cache, untimed
  t0=$(date +%s.%N); cat "$LOGS"/*.log > /dev/null; t1=$(date +%s.%N)
  CAT_S=$(echo "$t1 - $t0" | bc -l)
  rm -f "$OUT/work/cp.json" "$OUT/work/cp.json.inflight"
  create_stream "bench-$rep"
  cat > "$OUT/work/agent.json" <<JSON
{"firehose.endpoint": "http://127.0.0.1:$PORT", "awsAccessKeyId": "AKIDBENCH", "awsSecretAccessKey": "bench",
 "checkpointFile": "$OUT/work/cp.json",
 "flows": [{"filePattern": "$LOGS/*.log", "deliveryStream": "bench-$rep", "initialPosition": "START_OF_FILE"$AGGREGATE}]}
JSON
  t0=$(date +%s.%N)
  /usr/bin/time -f '%M' -o "$OUT/work/rss" "$BIN" --log-level warn agent --config "$OUT/work/agent.json" --once
  t1=$(date +%s.%N)
  AGENT_S=$(echo "$t1 - $t0" | bc -l)
  RSS_KB=$(tail -1 "$OUT/work/rss")
  printf '%-6s %12.3f %12.3f %12.0f %8d MiB\n' "$rep" "$CAT_S" "$AGENT_S" "$(echo "$LINES / $AGENT_S" | bc -l)" $((RSS_KB / 1024))
  echo "$rep $CAT_S $AGENT_S $RSS_KB" >> "$OUT/work/runs.$$"
done
sort -k3 -n "$OUT/work/runs.$$" | awk -v n="$REPS" -v lines="$LINES" -v bytes="$BYTES" '
  NR == int((n + 1) / 2) { printf "median: %d lines (%.1f MiB): cat %.3f s (%.0f lines/s), agent %.3f s (%.0f lines/s, %.1f MiB/s), agent/cat time ratio %.1fx, peak RSS %d MiB\n",
    lines, bytes / 1048576, $2, lines / $2, $3, lines / $3, bytes / 1048576 / $3, $3 / $2, $4 / 1024 }'
rm -f "$OUT/work/runs.$$"
