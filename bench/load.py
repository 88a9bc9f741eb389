#!/usr/bin/env python3
"""bench/load.py: does the load hold? Two bounded load tests on loopback.

  firehose   LOAD_CLIENTS (default 200) concurrent clients, each on its own keep-alive
             connection, send SigV4-signed PutRecordBatch requests (10 records each, one
             every LOAD_THINK_MS, default 50) to `orderlake firehose` for LOAD_SECONDS
             (default 20), while a probe asks GET /health every 100 ms.
  dashboard  `orderlake up` at 200 orders/s (so the table commits and every live page gets
             events), LOAD_BROWSERS (default 50) live browsers each holding GET /api/events
             (SSE) open and reading, LOAD_CONSOLE (default 4) console users running
             POST /api/sql in a loop (an aggregate over the table), and a probe asking the
             visuals' endpoints (/api/summary with a changing filter, so no cache holds it)
             every 200 ms, for LOAD_SECONDS.

Prints, per kind of request: count, errors (non-2xx or connection failures; 429 and 503,
the answers to overload, counted apart), p50/p99/max latency; per SSE browser: events received. Exits 1 when a request failed
(other than a 503 with Retry-After, which is the documented answer to overload), a browser
got no event, or the probe never answered. LOAD_PART=firehose|dashboard|all (default all).
"""
import http.client
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from urllib.parse import quote

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from chaos_parts import free_port, wait_port  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(os.environ.get("ORDERLAKE_BUILD_DIR", os.path.join(ROOT, "build")), "orderlake")
SECONDS = float(os.environ.get("LOAD_SECONDS", "20"))
CLIENTS = int(os.environ.get("LOAD_CLIENTS", "200"))
THINK = float(os.environ.get("LOAD_THINK_MS", "50")) / 1000
BROWSERS = int(os.environ.get("LOAD_BROWSERS", "50"))
CONSOLE = int(os.environ.get("LOAD_CONSOLE", "4"))
KEY, SECRET = "AKIDLOAD", "load-secret"


class Stats:
    def __init__(self, name):
        self.name, self.lat, self.errors, self.unavailable, self.lock = name, [], 0, 0, threading.Lock()
        self.first_error = None

    def add(self, seconds, status, detail=""):
        with self.lock:
            if status is not None and 200 <= status < 300:
                self.lat.append(seconds)
            elif status in (429, 503):  # the documented answers to overload (with Retry-After)
                self.unavailable += 1
            else:
                self.errors += 1
                self.first_error = self.first_error or f"{status} {detail}"[:200]

    def line(self):
        lat = sorted(self.lat)
        if not lat:
            return f"  {self.name:<22} 0 answered, {self.errors} errors, {self.unavailable} x 503 ({self.first_error})"
        p = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] * 1000  # noqa: E731
        return (f"  {self.name:<22} {len(lat):>7} ok  {self.errors} errors  {self.unavailable} x 429/503   "
                f"p50 {p(0.5):7.1f} ms  p99 {p(0.99):7.1f} ms  max {lat[-1] * 1000:7.1f} ms"
                + (f"   first error: {self.first_error}" if self.first_error else ""))


def timed(conn_box, port, method, path, body=None, headers=None, timeout=30):
    """One request on a kept connection (reopened when it broke); (status, body, seconds)."""
    t0 = time.monotonic()
    for attempt in range(2):
        try:
            if conn_box[0] is None:
                conn_box[0] = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
            conn_box[0].request(method, path, body=body, headers=headers or {})
            r = conn_box[0].getresponse()
            data = r.read()
            if r.getheader("Connection", "").lower() == "close":
                conn_box[0].close()
                conn_box[0] = None
            return r.status, data, time.monotonic() - t0
        except (OSError, http.client.HTTPException) as e:
            if conn_box[0] is not None:
                conn_box[0].close()
            conn_box[0] = None
            if attempt == 1:
                return None, str(e).encode(), time.monotonic() - t0
    return None, b"", time.monotonic() - t0


def signed_headers(port, body, target):
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    req = AWSRequest(method="POST", url=f"http://127.0.0.1:{port}/", data=body,
                     headers={"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": target})
    SigV4Auth(Credentials(KEY, SECRET), "firehose", "us-east-1").add_auth(req)
    return dict(req.headers.items())


def probe(port, path_fn, stats, stop, every):
    box = [None]
    while not stop.is_set():
        st, body, dt = timed(box, port, "GET", path_fn(), timeout=30)
        stats.add(dt, st, body[:100].decode(errors="replace"))
        time.sleep(every)


def run_for(threads, stop, join_timeout):
    """Starts the load's threads, lets them run LOAD_SECONDS, stops and joins them."""
    for t in threads:
        t.start()
    time.sleep(SECONDS)
    stop.set()
    for t in threads:
        t.join(join_timeout)


def firehose_part(work):
    port = free_port()
    log = open(os.path.join(work, "firehose.log"), "ab")
    proc = subprocess.Popen([BIN, "--log-level", "warn", "firehose", "--listen", f"127.0.0.1:{port}",
                             "--data-dir", os.path.join(work, "fh"), "--access-key", KEY, "--secret-key", SECRET],
                            stdout=subprocess.DEVNULL, stderr=log)
    try:
        if not wait_port(port, 30):
            print("load: orderlake firehose did not start", file=sys.stderr)
            return False
        body = json.dumps({"DeliveryStreamName": "load", "ExtendedS3DestinationConfiguration": {
            "RoleARN": "arn:aws:iam::123456789012:role/f", "BucketARN": "arn:aws:s3:::load",
            "BufferingHints": {"SizeInMBs": 5, "IntervalInSeconds": 1}}})
        st, data, _ = timed([None], port, "POST", "/", body,
                            signed_headers(port, body, "Firehose_20150804.CreateDeliveryStream"))
        if st != 200:
            print(f"load: CreateDeliveryStream answered {st}: {data[:200]}", file=sys.stderr)
            return False
        puts, health, stop = Stats("PutRecordBatch"), Stats("GET /health"), threading.Event()
        served = [0] * CLIENTS

        def client(i):
            box, rng, n = [None], random.Random(i), 0
            time.sleep(rng.uniform(0, 1))
            while not stop.is_set():
                recs = [{"Data": "TG9hZCByZWNvcmQK"} for _ in range(10)]
                b = json.dumps({"DeliveryStreamName": "load", "Records": recs})
                st, data, dt = timed(box, port, "POST", "/", b,
                                     signed_headers(port, b, "Firehose_20150804.PutRecordBatch"))
                ok = st == 200 and json.loads(data).get("FailedPutCount") == 0
                puts.add(dt, st if (ok or st != 200) else 500, data[:100].decode(errors="replace"))
                served[i] += ok
                n += 1
                time.sleep(THINK)

        threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(CLIENTS)]
        threads.append(threading.Thread(target=probe, args=(port, lambda: "/health", health, stop, 0.1), daemon=True))
        run_for(threads, stop, 60)
        starved = sum(1 for s in served if s == 0)
        print(f"load[firehose]: {CLIENTS} signed clients for {SECONDS:.0f} s, "
              f"{len(puts.lat) / SECONDS:,.0f} acknowledged requests/s, {starved} clients never served")
        print(puts.line())
        print(health.line())
        return puts.errors == 0 and health.errors == 0 and starved == 0 and len(health.lat) > 0
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
        log.close()


def sse_browser(port, events, stop):
    """Holds GET /api/events open and counts `event: version` messages."""
    while not stop.is_set():
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
            conn.request("GET", "/api/events", headers={"Accept": "text/event-stream"})
            r = conn.getresponse()
            while not stop.is_set():
                line = r.fp.readline()
                if not line:
                    break
                if line.startswith(b"event: version"):
                    events[0] += 1
            conn.close()
        except (OSError, http.client.HTTPException):
            time.sleep(0.5)


def dashboard_part(work):
    port = free_port()
    log = open(os.path.join(work, "up.log"), "ab")
    proc = subprocess.Popen([BIN, "--log-level", "warn", "up", "--data-dir", os.path.join(work, "up"),
                             "--rate", "200", "--port", str(port), "--status-interval", "0"],
                            stdout=subprocess.DEVNULL, stderr=log)
    try:
        if not wait_port(port, 60):
            print("load: orderlake up did not start", file=sys.stderr)
            return False
        time.sleep(3)  # the first commits
        stop = threading.Event()
        sql, visuals = Stats("POST /api/sql"), Stats("GET /api/summary")
        counts = [[0] for _ in range(BROWSERS)]
        countries = ["France", "Germany", "USA", "Japan", "Australia", "United Kingdom"]

        def console(i):
            box, n = [None], 0
            while not stop.is_set():
                n += 1  # a new statement each time: no cached answer
                q = (f"SELECT Region, count(*), sum(TotalAmountUSD) FROM orders "
                     f"WHERE TotalAmountUSD > {i}.{n:06d} / 1000 GROUP BY 1")
                st, data, dt = timed(box, port, "POST", "/api/sql", json.dumps({"sql": q}),
                                     {"Content-Type": "application/json"}, timeout=60)
                sql.add(dt, st, data[:100].decode(errors="replace"))
                if st in (429, 503):
                    time.sleep(1)  # Retry-After

        tick = [0]

        def summary_path():
            tick[0] += 1
            return f"/api/summary?country={quote(countries[tick[0] % len(countries)])}&from=2000-01-{1 + tick[0] % 28:02d}"

        threads = [threading.Thread(target=sse_browser, args=(port, counts[i], stop), daemon=True)
                   for i in range(BROWSERS)]
        threads += [threading.Thread(target=console, args=(i,), daemon=True) for i in range(CONSOLE)]
        threads.append(threading.Thread(target=probe, args=(port, summary_path, visuals, stop, 0.2), daemon=True))
        run_for(threads, stop, 30)
        ev = sorted(c[0] for c in counts)
        print(f"load[dashboard]: {BROWSERS} SSE browsers, {CONSOLE} console users, up at 200 orders/s, "
              f"{SECONDS:.0f} s; events per browser min {ev[0]} median {ev[len(ev) // 2]} max {ev[-1]}")
        print(sql.line())
        print(visuals.line())
        return sql.errors == 0 and visuals.errors == 0 and ev[0] > 0 and len(visuals.lat) > 0
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def main():
    if not os.access(BIN, os.X_OK):
        print(f"load: {BIN} not built (./scripts/build.sh)", file=sys.stderr)
        return 2
    part = os.environ.get("LOAD_PART", "all")
    if part not in ("firehose", "dashboard", "all"):
        print(f"load: LOAD_PART must be firehose, dashboard or all, got {part}", file=sys.stderr)
        return 2
    work = tempfile.mkdtemp(prefix="orderlake-load-")
    ok = True
    if part in ("firehose", "all"):
        ok = firehose_part(work) and ok
    if part in ("dashboard", "all"):
        ok = dashboard_part(work) and ok
    if ok:
        subprocess.run(["rm", "-rf", work])
    else:
        print(f"load: FAILED; logs kept in {work}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
