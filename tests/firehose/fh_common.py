"""Shared helpers for the firehose Python tests: start/stop the service, raw API calls."""
import base64
import http.client
import json
import os
import pathlib
import signal
import subprocess
import tempfile
import time

BINARY = os.environ.get("ORDERLAKE_BINARY", "orderlake")
ROLE = "arn:aws:iam::123456789012:role/firehose"


class Service:
    """One `orderlake firehose` process on a free loopback port."""

    def __init__(self, data_dir, extra=()):
        self.data_dir = pathlib.Path(data_dir)
        self.extra = list(extra)
        self.proc = None
        self.port = None

    def start(self, timeout=20):
        self.log = open(self.data_dir.parent / f"{self.data_dir.name}.log", "ab")
        self.proc = subprocess.Popen(
            [BINARY, "--log-level", "info", "firehose", "--listen", "127.0.0.1:0",
             "--data-dir", str(self.data_dir)] + self.extra,
            stdout=subprocess.PIPE, stderr=self.log)
        deadline = time.time() + timeout
        line = self.proc.stdout.readline().decode()
        if not line.startswith("listening on") or time.time() > deadline:
            self.proc.kill()
            raise RuntimeError(f"service did not start: {line!r}")
        self.port = int(line.strip().rsplit(":", 1)[1])
        return self

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._close()

    def kill9(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._close()

    def _close(self):
        if self.proc:
            self.proc.stdout.close()
        if getattr(self, "log", None):
            self.log.close()
            self.log = None
        self.proc = None

    def call(self, action, body, headers=None, raw=None, timeout=30):
        """Unsigned API call; returns (status, parsed JSON body, headers)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        h = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": f"Firehose_20150804.{action}"}
        h.update(headers or {})
        conn.request("POST", "/", body=raw if raw is not None else json.dumps(body), headers=h)
        r = conn.getresponse()
        data = r.read()
        conn.close()
        try:
            doc = json.loads(data) if data else {}
        except ValueError:
            doc = {"raw": data}
        return r.status, doc, dict(r.getheaders())

    def get(self, path):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        conn.request("GET", path)
        r = conn.getresponse()
        data = r.read().decode()
        conn.close()
        return r.status, data

    def metric(self, name, stream):
        _, text = self.get("/metrics")
        for line in text.splitlines():
            if line.startswith(f"orderlake_firehose_{name}{{stream=\"{stream}\"}}"):
                return float(line.split()[-1])
        return None


def records(recs):
    return [{"Data": base64.b64encode(r).decode()} for r in recs]


def s3_config(bucket, size=1, interval=0, **kw):
    c = {"RoleARN": ROLE, "BucketARN": f"arn:aws:s3:::{bucket}",
         "BufferingHints": {"SizeInMBs": size, "IntervalInSeconds": interval}}
    c.update(kw)
    return c


def objects(data_dir, bucket):
    """Visible objects of a bucket (no temporaries, nothing under a '_' directory such as the
    event log _orderlake/events/, as Athena and the crawler see it), sorted by path."""
    root = pathlib.Path(data_dir) / "s3" / bucket
    if not root.exists():
        return []
    return sorted(p for p in root.rglob("*") if p.is_file() and not p.name.startswith(".")
                  and not any(part.startswith("_") for part in p.relative_to(root).parts))


def wait_for(pred, timeout=20, step=0.05):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()


def tempdir():
    return tempfile.TemporaryDirectory(prefix="orderlake-firehose-")
