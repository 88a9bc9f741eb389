"""Helpers of the dashboard's Python tests (not a test itself): a small lake built with the
orderlake binary, `orderlake serve` on a free loopback port, JSON requests."""
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

BINARY = os.environ.get("ORDERLAKE_BINARY", "")
if not BINARY:
    raise SystemExit("ORDERLAKE_BINARY must be set (ctest sets it)")


def tempdir(name):
    return tempfile.mkdtemp(prefix=f"orderlake-{name}-")


def build_lake(root, count=2000, seed=7):
    """generate + etl: `count` lines into <root>/in, published into <root>/lake."""
    inp, lake = os.path.join(root, "in"), os.path.join(root, "lake")
    for args in (["generate", "--count", str(count), "--seed", str(seed), "--start", "2010-12-01", "--days", "5",
                  "--out", inp], ["etl", "--input", inp, "--lake", lake, "--no-progress"]):
        subprocess.run([BINARY, *args], check=True, capture_output=True, timeout=300)
    return lake


class Server:
    """`orderlake serve --lake LAKE --listen 127.0.0.1:0 EXTRA...`, stopped by stop()."""

    def __init__(self, lake, extra=()):
        self.proc = subprocess.Popen([BINARY, "serve", "--lake", lake, "--listen", "127.0.0.1:0", *extra],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        deadline = time.time() + 20
        line = ""
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            m = re.search(r"dashboard at (http://\S+?)/?\s", line)
            if m:
                self.base = m.group(1)
                return
            if self.proc.poll() is not None:
                break
        self.stop()
        raise RuntimeError(f"serve did not print its URL: {line!r}")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def rss_mb(self, field="VmHWM"):
        """The server's peak (VmHWM) or current (VmRSS) resident size in MB."""
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
        return 0

    def request(self, method, path, body=None, timeout=60, headers=None):
        """(status, headers, parsed JSON or text) of one request."""
        data = body.encode() if isinstance(body, str) else body
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                status, hdrs, raw = r.status, r.headers, r.read()
        except urllib.error.HTTPError as e:
            status, hdrs, raw = e.code, e.headers, e.read()
        text = raw.decode("utf-8", "replace")
        try:
            return status, hdrs, json.loads(text)
        except ValueError:
            return status, hdrs, text

    def sql(self, statement, timeout=60):
        return self.request("POST", "/api/sql", json.dumps({"sql": statement}), timeout,
                            {"Content-Type": "application/json"})


def remove(path):
    shutil.rmtree(path, ignore_errors=True)
