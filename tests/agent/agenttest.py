"""Helpers for the agent's end-to-end tests: a recording Firehose (PutRecordBatch only, with
failure injection), running the agent, and waiting for conditions. Not a test itself."""
import base64
import hashlib
import hmac
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BINARY = os.environ.get("ORDERLAKE_BINARY", "")
SOURCE = os.environ.get("ORDERLAKE_SOURCE_DIR", "")


def sigv4_problem(method, path, headers, body, secret="secret"):
    """Verifies an AWS SigV4 Authorization header the way a strict service does; returns None
    when it verifies, else what is wrong."""
    auth = headers.get("Authorization", "")
    if not auth.startswith("AWS4-HMAC-SHA256 "):
        return "no SigV4 Authorization header"
    parts = dict(p.strip().split("=", 1) for p in auth[len("AWS4-HMAC-SHA256 "):].split(","))
    key_id, date, region, service, term = parts["Credential"].split("/")
    signed = parts["SignedHeaders"].split(";")
    for h in signed:
        if headers.get(h) is None:
            return f"signed header {h} was not sent"
    canon_headers = "".join(f"{h}:{' '.join(headers.get(h).split())}\n" for h in signed)
    creq = "\n".join([method, path, "", canon_headers, ";".join(signed), hashlib.sha256(body).hexdigest()])
    amz_date = headers.get("x-amz-date")
    scope = f"{date}/{region}/{service}/{term}"
    sts = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(creq.encode()).hexdigest()])
    k = ("AWS4" + secret).encode()
    for m in (date, region, service, term):
        k = hmac.new(k, m.encode(), hashlib.sha256).digest()
    want = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
    if want != parts["Signature"]:
        return "signature does not match"
    if service != "firehose":
        return "service is " + service
    return None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class FakeFirehose:
    """Records every accepted record per stream, with the X-Orderlake-Batch header of its call.
    fail_pattern(call_no, index) -> True makes that record fail (ServiceUnavailableException)."""

    def __init__(self, dedupe=False):
        """dedupe=True emulates orderlake's Firehose: a call whose X-Orderlake-Batch end is not
        above the highest end accepted for its source is acknowledged and dropped."""
        self.lock = threading.Lock()
        self.dedupe = dedupe
        self.highest = {}   # source id -> highest end accepted
        self.dropped = 0
        self.overlaps = 0   # batches starting below the highest end but ending above it
        self.records = {}   # stream -> [bytes]
        self.calls = []     # (stream, header, n_records, n_failed)
        self.sent = []      # the records of each call, as sent
        self.auth = []      # the Authorization header of each call
        self.sig_problems = []  # SigV4 verification failures
        self.fail_pattern = None
        self.http_error_calls = 0  # answer this many calls with HTTP 500 first
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                target = self.headers.get("X-Amz-Target", "")
                if target != "Firehose_20150804.PutRecordBatch":
                    return self.reply(400, {"__type": "InvalidArgumentException", "message": "bad target " + target})
                req = json.loads(body)
                with fake.lock:
                    call_no = len(fake.calls)
                    fake.auth.append(self.headers.get("Authorization"))
                    problem = sigv4_problem("POST", self.path, self.headers, body)
                    if problem:
                        fake.sig_problems.append(problem)
                    fake.sent.append([base64.b64decode(r["Data"]) for r in req["Records"]])
                    if fake.http_error_calls > 0:
                        fake.http_error_calls -= 1
                        fake.calls.append((req["DeliveryStreamName"], self.headers.get("X-Orderlake-Batch"), len(req["Records"]), -1))
                        return self.reply(500, {"__type": "ServiceUnavailableException", "message": "try later"})
                    out, failed = [], 0
                    token = self.headers.get("X-Orderlake-Batch")
                    if fake.dedupe and token:
                        src, start_, end = token.rsplit(";", 2)
                        high = fake.highest.get(src, -1)
                        if int(end) <= high:
                            fake.dropped += 1
                            fake.calls.append((req["DeliveryStreamName"], token, len(req["Records"]), 0))
                            ok = [{"RecordId": f"{call_no}-{i}"} for i in range(len(req["Records"]))]
                            return self.reply(200, {"FailedPutCount": 0, "RequestResponses": ok})
                        if int(start_) < high:
                            fake.overlaps += 1
                        fake.highest[src] = int(end)
                    for i, r in enumerate(req["Records"]):
                        if fake.fail_pattern and fake.fail_pattern(call_no, i):
                            failed += 1
                            out.append({"ErrorCode": "ServiceUnavailableException", "ErrorMessage": "slow down"})
                        else:
                            fake.records.setdefault(req["DeliveryStreamName"], []).append(base64.b64decode(r["Data"]))
                            out.append({"RecordId": f"{call_no}-{i}"})
                    fake.calls.append((req["DeliveryStreamName"], self.headers.get("X-Orderlake-Batch"), len(req["Records"]), failed))
                self.reply(200, {"FailedPutCount": failed, "Encrypted": False, "RequestResponses": out})

            def reply(self, code, obj):
                data = json.dumps(obj).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/x-amz-json-1.1")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def got(self, stream="s"):
        with self.lock:
            return list(self.records.get(stream, []))

    def close(self):
        self.server.shutdown()


def write_config(path, endpoint, flows, **glob):
    cfg = {"firehose.endpoint": endpoint, "awsAccessKeyId": "AKIDTEST", "awsSecretAccessKey": "secret",
           "checkpointFile": os.path.join(os.path.dirname(path), "checkpoints.json"), "shutdownTimeoutMillis": 5000}
    cfg.update(glob)
    cfg["flows"] = flows
    with open(path, "w") as f:
        json.dump(cfg, f)
    return path


def flow(pattern, stream="s", **kw):
    f = {"filePattern": pattern, "deliveryStream": stream, "initialPosition": "START_OF_FILE",
         "maxBufferAgeMillis": 1000, "minTimeBetweenFilePollsMillis": 50}
    f.update(kw)
    return f


def run_once(config, timeout=60, extra=()):
    p = subprocess.run([BINARY, "agent", "--config", config, "--once", *extra], capture_output=True, timeout=timeout)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def start(config, extra=(), **kw):
    return subprocess.Popen([BINARY, "agent", "--config", config, *extra], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, **kw)


def kill_agent_while_generating(config, logs, seed, pauses, rng_seed):
    """Generates 2,000 lines/s into logs for 5 s (a new file every 2 s) while the agent is
    killed with SIGKILL after a random pause in `pauses` and started again, then runs it
    once to the end. Returns (every line written, in file order, and the number of kills)."""
    import glob
    import random
    gen = subprocess.Popen([BINARY, "generate", "--out", logs, "--rate", "2000", "--duration", "5",
                            "--rotate-interval", "2", "--seed", str(seed), "--progress-interval", "0"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    rng = random.Random(rng_seed)
    kills = 0
    while gen.poll() is None:
        p = start(config)
        time.sleep(rng.uniform(*pauses))
        p.send_signal(signal.SIGKILL)
        p.wait()
        kills += 1
    assert gen.returncode == 0
    rc, out, err = run_once(config, timeout=120)
    assert rc == 0, err
    written = []
    for f in sorted(glob.glob(os.path.join(logs, "*.log"))):
        with open(f, "rb") as fh:
            written += fh.read().splitlines(keepends=True)
    return written, kills


def stop(p, sig=signal.SIGTERM, timeout=20):
    p.send_signal(sig)
    try:
        _, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        raise AssertionError("agent did not stop within %ss" % timeout)
    return p.returncode, err.decode(errors="replace")


def wait_for(cond, timeout=20, what="condition"):
    end = time.time() + timeout
    while time.time() < end:
        if cond():
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


def lines(prefix, a, b):
    return [f"{prefix}{i:06d},85123A,ITEM,6,12/01/2010 08:26,2.55,17850,United Kingdom\n".encode() for i in range(a, b)]


def append(path, items):
    with open(path, "ab") as f:
        for x in items:
            f.write(x)


def main(tests):
    if not BINARY or not os.path.exists(BINARY):
        print("ORDERLAKE_BINARY is not set to the orderlake binary", file=sys.stderr)
        sys.exit(2)
    only = sys.argv[1:]
    failed = []
    for t in tests:
        if only and t.__name__ not in only:
            continue
        with tempfile.TemporaryDirectory(prefix="orderlake-agent-") as d:
            os.chmod(d, 0o755)
            t0 = time.time()
            try:
                t(d)
                print(f"ok   {t.__name__} ({time.time() - t0:.1f} s)", flush=True)
            except Exception:
                failed.append(t.__name__)
                print(f"FAIL {t.__name__} ({time.time() - t0:.1f} s)", flush=True)
                traceback.print_exc()
    if failed:
        print("failed:", ", ".join(failed))
        sys.exit(1)
