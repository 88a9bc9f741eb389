#!/usr/bin/env python3
"""bench/chaos.py (run it through bench/chaos.sh): the pipeline under SIGKILL and faults.

A writer appends numbered order lines (InvoiceNo 0, 1, 2, ... each once, StockCode CHAOS) to
log files while the pipeline ships them, and a killer sends SIGKILL to a random stage at
random moments and starts it again on the same data (what systemd's Restart=always does).
At the end the writer stops, the pipeline is given time to drain, and the table is counted:
every generated line must be in it exactly once.

Modes (CHAOS_MODE):
  stages  the standalone services: `orderlake firehose`, `orderlake agent`, `orderlake etl
          --follow` and `orderlake compact --every`; each kill picks one of them.
  up      `orderlake up --logs DIR` as a whole, killed and started again.
  disk    stages on a small tmpfs (mounted here; needs root) that a filler file fills to the
          last byte for a few seconds, several times, while the services keep running
          (CHAOS_KILLS kills happen as well).
  s3      stages with the lake on S3: moto_server behind a TCP proxy that this script stops
          (every connection cut, the port refusing) and starts again mid-commit, several
          times; CHAOS_KILLS kills as well.
  all     stages, then up, then disk, then s3 (CHAOS_KILLS each).

Environment: CHAOS_KILLS (default 120), CHAOS_RATE lines/s (default 1000), CHAOS_SEED,
CHAOS_DRAIN_SECONDS (default 180), CHAOS_KEEP=1 keeps the work directory,
ORDERLAKE_BUILD_DIR (default build). Only loopback addresses are used.

Prints one line per mode:
  chaos[stages]: kills=120 (agent 30, ...) faults=0 generated=... acknowledged=...
      in_table=... lost=0 duplicated=0 drained_in=...s
and exits 1 if anything was lost or duplicated, a service did not come back, or the
pipeline did not drain.
"""
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from chaos_parts import S3Proxy, free_port, wait_port  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("ORDERLAKE_BUILD_DIR", os.path.join(ROOT, "build"))
BIN = os.path.join(BUILD, "orderlake")
KILLS = int(os.environ.get("CHAOS_KILLS", "120"))
RATE = float(os.environ.get("CHAOS_RATE", "1000"))
SEED = int(os.environ.get("CHAOS_SEED", str(int(time.time()))))
DRAIN = float(os.environ.get("CHAOS_DRAIN_SECONDS", "180"))
KEY, SECRET = "AKIDCHAOS", "chaos-secret"
COUNTRIES = ["United Kingdom", "France", "Germany", "USA", "Japan", "Australia"]


class Writer(threading.Thread):
    """Appends line n (InvoiceNo n) at RATE lines/s, a new file every 3 s."""

    def __init__(self, logs):
        super().__init__(daemon=True)
        self.logs, self.n, self.stop = logs, 0, threading.Event()

    def run(self):
        start, fileno = time.monotonic(), 0
        f = open(os.path.join(self.logs, f"chaos-{fileno:05d}.log"), "a")
        opened = start
        while not self.stop.is_set():
            due = int((time.monotonic() - start) * RATE)
            if due > self.n:
                f.write("".join(f"{i},CHAOS,CHAOS ITEM,2,12/0{1 + i % 9}/2010 08:26,2.50,17850,"
                                f"{COUNTRIES[i % len(COUNTRIES)]}\n" for i in range(self.n, due)))
                f.flush()
                self.n = due
            if time.monotonic() - opened > 3:
                f.close()
                fileno += 1
                f = open(os.path.join(self.logs, f"chaos-{fileno:05d}.log"), "a")
                opened = time.monotonic()
            time.sleep(0.01)
        f.close()


class Service:
    """One restartable process; its stderr goes to <work>/<name>.log."""

    def __init__(self, name, argv, work, env=None, ready_port=None):
        self.name, self.argv, self.env, self.ready_port = name, argv, env, ready_port
        self.log = open(os.path.join(work, f"{name}.log"), "ab")
        self.proc, self.kills, self.starts = None, 0, 0

    def start(self):
        self.log.write(f"--- start {time.strftime('%H:%M:%S')}\n".encode())
        self.log.flush()
        self.proc = subprocess.Popen(self.argv, stdout=subprocess.DEVNULL, stderr=self.log,
                                     env=self.env, start_new_session=True)
        self.starts += 1
        if self.ready_port and not wait_port(self.ready_port, 30):
            raise RuntimeError(f"{self.name} did not listen on {self.ready_port} after a restart")

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.kills += 1

    def check_alive(self):
        """A service that exited by itself did not come back: that is a failure."""
        if self.proc.poll() is not None:
            raise RuntimeError(f"{self.name} exited with {self.proc.returncode} (see its log)")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def create_stream(port):
    import boto3
    fh = boto3.client("firehose", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                      aws_access_key_id=KEY, aws_secret_access_key=SECRET)
    names = fh.list_delivery_streams()["DeliveryStreamNames"]
    if "orders" not in names:
        fh.create_delivery_stream(
            DeliveryStreamName="orders",
            ExtendedS3DestinationConfiguration={
                "RoleARN": "arn:aws:iam::123456789012:role/firehose", "BucketARN": "arn:aws:s3:::raw",
                "BufferingHints": {"SizeInMBs": 1, "IntervalInSeconds": 1}})


def stage_services(work, data, env):
    fh_port = free_port()
    logs = os.path.join(work, "logs")
    os.makedirs(logs, exist_ok=True)
    os.makedirs(os.path.join(data, "agent"), exist_ok=True)
    cfg = {"firehose.endpoint": f"http://127.0.0.1:{fh_port}", "awsAccessKeyId": KEY,
           "awsSecretAccessKey": SECRET, "checkpointFile": os.path.join(data, "agent", "checkpoints.json"),
           "shutdownTimeoutMillis": 5000,
           "flows": [{"filePattern": os.path.join(logs, "*.log"), "deliveryStream": "orders",
                      "initialPosition": "START_OF_FILE", "maxBufferAgeMillis": 1000}]}
    with open(os.path.join(work, "agent.json"), "w") as f:
        json.dump(cfg, f)
    lake = env.get("CHAOS_LAKE", os.path.join(data, "lake"))
    services = {
        "firehose": Service("firehose", [BIN, "--log-level", "warn", "firehose", "--listen", f"127.0.0.1:{fh_port}",
                                         "--data-dir", os.path.join(data, "fh"), "--access-key", KEY,
                                         "--secret-key", SECRET], work, env, fh_port),
        "agent": Service("agent", [BIN, "--log-level", "warn", "agent", "--config", os.path.join(work, "agent.json")],
                         work, env),
        "etl": Service("etl", [BIN, "--log-level", "warn", "etl", "--input", os.path.join(data, "fh", "s3", "raw"),
                               "--lake", lake, "--follow", "--interval-ms", "200", "--compact-every", "0",
                               "--no-progress"], work, env),
        "compact": Service("compact", [BIN, "--log-level", "warn", "compact", "--lake", lake, "--every", "1",
                                       "--min-files", "4", "--retention-minutes", "0.1"], work, env),
    }
    services["firehose"].start()
    create_stream(fh_port)
    for name in ("agent", "etl", "compact"):
        services[name].start()
    return services, logs, lake, os.path.join(data, "fh", "s3", "raw")


def up_services(work, data, env):
    logs = os.path.join(work, "logs")
    os.makedirs(logs, exist_ok=True)
    up = Service("up", [BIN, "--log-level", "warn", "up", "--logs", logs, "--data-dir", data, "--port", "0",
                        "--status-interval", "0", "--compact-every", "1"], work, env)
    up.start()
    return {"up": up}, logs, os.path.join(data, "lake"), os.path.join(data, "s3")


def count_table(lake, env):
    sql = ("SELECT count(*) AS n, count(DISTINCT InvoiceNo) AS d, "
           "coalesce(max(CAST(InvoiceNo AS BIGINT)), -1) AS hi FROM orders")
    p = subprocess.run([BIN, "--log-level", "error", "query", "--lake", lake, "--format", "json", sql],
                       capture_output=True, text=True, env=env, timeout=120)
    if p.returncode != 0:
        if "no table" in p.stderr.lower() or "does not exist" in p.stderr.lower():
            return 0, 0, -1
        raise RuntimeError(f"query failed: {p.stderr.strip()[:400]}")
    row = json.loads(p.stdout)[0] if p.stdout.strip().startswith("[") else json.loads(p.stdout.splitlines()[0])
    return int(row["n"]), int(row["d"]), int(row["hi"])


def raw_distinct(raw):
    """Distinct lines the firehose delivered (what it acknowledged, once drained)."""
    import gzip
    seen = set()
    if raw is None or not os.path.isdir(raw):
        return None
    for dirpath, _, files in os.walk(raw):
        for name in files:
            if name.startswith("."):
                continue
            path = os.path.join(dirpath, name)
            opener = gzip.open if name.endswith(".gz") else open
            with opener(path, "rb") as f:
                seen.update(f.read().splitlines())
    return len(seen)


def fill_disk(mount, seconds, rng):
    """Fills the tmpfs to the last byte, holds it full, frees it."""
    filler = os.path.join(mount, "filler")
    try:
        with open(filler, "wb") as f:
            chunk = b"\0" * (1 << 20)
            while True:
                f.write(chunk)
    except OSError:
        pass
    time.sleep(seconds * rng.uniform(0.5, 1.0))
    os.unlink(filler)


def run_mode(mode, kills):
    if mode == "disk" and os.geteuid() != 0:
        print("chaos[disk]: skipped (mounting the small tmpfs needs root)", flush=True)
        return True
    rng = random.Random(f"{SEED}-{mode}")
    work = tempfile.mkdtemp(prefix=f"orderlake-chaos-{mode}-")
    env = dict(os.environ)
    mount, proxy, moto = None, None, None
    services, writer = {}, None
    faults, passed = 0, False
    try:
        data = os.path.join(work, "data")
        if mode == "disk":
            mount = os.path.join(work, "data")
            os.makedirs(mount)
            subprocess.run(["mount", "-t", "tmpfs", "-o", "size=96m", "tmpfs", mount], check=True)
        if mode == "s3":
            moto_port = free_port()
            moto = subprocess.Popen(["moto_server", "-H", "127.0.0.1", "-p", str(moto_port)],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if not wait_port(moto_port, 30):
                raise RuntimeError("moto_server did not start")
            proxy = S3Proxy(moto_port)
            env.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": "us-east-1", "AWS_ENDPOINT_URL_S3": f"http://127.0.0.1:{proxy.port}",
                        "CHAOS_LAKE": "s3://chaos-lake/lake"})
            import boto3
            boto3.client("s3", endpoint_url=f"http://127.0.0.1:{moto_port}", region_name="us-east-1",
                         aws_access_key_id="testing", aws_secret_access_key="testing").create_bucket(Bucket="chaos-lake")
        services, logs, lake, raw = (up_services if mode == "up" else stage_services)(work, data, env)
        writer = Writer(logs)
        writer.start()
        names = sorted(services)
        fault_every = max(3, kills // 4) if mode in ("disk", "s3") else 0
        for k in range(kills):
            time.sleep(rng.uniform(0.3, 2.0))
            for s in services.values():
                s.check_alive()
            victim = services[rng.choice(names)]
            victim.kill()
            time.sleep(rng.uniform(0, 0.3))
            victim.start()
            if fault_every and k % fault_every == fault_every - 1:
                faults += 1
                if mode == "disk":
                    fill_disk(mount, 4, rng)
                else:
                    proxy.outage(rng.uniform(2, 5))
        if mode in ("disk", "s3") and faults == 0:  # CHAOS_KILLS too small for a fault in the loop
            faults += 1
            fill_disk(mount, 4, rng) if mode == "disk" else proxy.outage(3)
        time.sleep(1)
        writer.stop.set()
        writer.join()
        generated = writer.n
        t0 = time.monotonic()
        n = d = 0
        while time.monotonic() - t0 < DRAIN:
            for s in services.values():
                s.check_alive()
            n, d, hi = count_table(lake, env)
            if d >= generated:
                break
            time.sleep(1)
        drained = time.monotonic() - t0
        time.sleep(2)  # anything still in flight would show up as a duplicate now
        n, d, hi = count_table(lake, env)
        for s in services.values():
            s.stop()
        acked = raw_distinct(raw)
        lost, dup = generated - d, n - d
        per = ", ".join(f"{s.name} {s.kills}" for s in services.values())
        print(f"chaos[{mode}]: kills={sum(s.kills for s in services.values())} ({per}) faults={faults} "
              f"generated={generated} acknowledged={acked if acked is not None else 'n/a'} in_table={n} "
              f"lost={lost} duplicated={dup} drained_in={drained:.1f}s seed={SEED}", flush=True)
        passed = lost == 0 and dup == 0 and hi == generated - 1
        if not passed:
            print(f"chaos[{mode}]: FAILED; logs kept in {work}", flush=True)
        return passed
    except Exception as e:  # a service that did not come back, a query that failed
        print(f"chaos[{mode}]: FAILED: {e}; logs kept in {work}", flush=True)
        return False
    finally:
        # A failed run (a service that exited, a query that failed) stops everything too: no
        # process of the run outlives it.
        if writer:
            writer.stop.set()
        for svc in services.values():
            svc.stop()
        if proxy:
            proxy.close()
        if moto:
            moto.terminate()
            moto.wait()
        if mount:
            subprocess.run(["umount", "-l", mount], check=False)
        if passed and os.environ.get("CHAOS_KEEP") != "1":
            shutil.rmtree(work, ignore_errors=True)


def main():
    if not os.access(BIN, os.X_OK):
        print(f"chaos: {BIN} not built (./scripts/build.sh)", file=sys.stderr)
        return 2
    mode = os.environ.get("CHAOS_MODE", "stages")
    modes = ["stages", "up", "disk", "s3"] if mode == "all" else [mode]
    for m in modes:
        if m not in ("stages", "up", "disk", "s3"):
            print(f"chaos: CHAOS_MODE must be stages, up, disk, s3 or all, got {m}", file=sys.stderr)
            return 2
    results = [run_mode(m, KILLS) for m in modes]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
