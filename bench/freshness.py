#!/usr/bin/env python3
"""bench/freshness.py: how long a line written to an order log takes to be visible to a
query, under `orderlake up` (agent -> firehose -> etl -> lake -> dashboard's SQL endpoint),
while a generator writes load at a chosen rate into the same log directory.

  bench/freshness.py                      # 10,000 lines/s for 30 s
  BENCH_RATE=100000 BENCH_SECONDS=30 bench/freshness.py

Every half second it appends one marker line (StockCode FRESH, a unique InvoiceNo) to its own
log file and polls POST /api/sql every 50 ms until the marker's row is there; the latency is
the time from the write to the answer that first holds it. Prints p50/p95/p99/max, how many
markers arrived, and the CPU the pipeline used (utime+stime of the `up` process), and that
CPU by stage: `up` names its threads (generate, agent-read, agent-send, firehose, fh-deliver,
fh-wal, etl, compact, dashboard; threads a stage starts inherit its name, DuckDB's included),
sampled every 250 ms from /proc/<pid>/task; CPU of threads that ended between two samples is
shown as "(ended threads)".

BENCH_REPEAT=3 runs the whole measurement three times (a fresh data dir each) and prints
every run, then the p99s side by side.

Then where the time went, per marker, from what the stages leave on disk: write -> the raw
object holding the marker (its mtime: agent + firehose), -> the etl run that took that
object (its run summary's mtime: the commit), -> the first answer holding it (dashboard and
query, plus up to 50 ms of polling). `up`'s own /metrics at the end is kept in
bench/out/freshness/metrics.txt. BENCH_UP_ARGS adds options to `orderlake up`
(e.g. "--etl-min-gap-ms 250").
"""
import json, os, signal, socket, statistics, subprocess, sys, threading, time, urllib.request
from datetime import datetime

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("ORDERLAKE_BUILD_DIR", os.path.join(ROOT, "build"))
BIN = os.path.join(BUILD, "orderlake")
RATE = float(os.environ.get("BENCH_RATE", "10000"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "30"))
REPEAT = int(os.environ.get("BENCH_REPEAT", "1"))
OUT = os.path.join(ROOT, "bench", "out", "freshness")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        parts = f.read().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return (int(parts[11]) + int(parts[12])) / tick


class ThreadCpu:
    """CPU seconds per thread name of one process, sampled from /proc/<pid>/task/*/stat."""

    def __init__(self, pid):
        self.pid, self.tick = pid, os.sysconf("SC_CLK_TCK")
        self.base, self.last, self.names = {}, {}, {}
        self.stop = threading.Event()
        self.base = self.sample()
        self.last = dict(self.base)
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def sample(self):
        out = {}
        try:
            tids = os.listdir(f"/proc/{self.pid}/task")
        except OSError:
            return out
        for tid in tids:
            try:
                with open(f"/proc/{self.pid}/task/{tid}/stat") as f:
                    head, rest = f.read().rsplit(")", 1)
            except OSError:
                continue
            parts = rest.split()
            self.names[tid] = head.split("(", 1)[1]
            out[tid] = (int(parts[11]) + int(parts[12])) / self.tick
        return out

    def loop(self):
        while not self.stop.wait(0.25):
            self.last.update(self.sample())

    def finish(self):
        """{name: cpu seconds} since the start (threads born later counted from zero)."""
        self.stop.set()
        self.thread.join()
        self.last.update(self.sample())
        by = {}
        for tid, t in self.last.items():
            name = self.names.get(tid, "?")
            by[name] = by.get(name, 0.0) + t - self.base.get(tid, 0.0)
        return by


def sql(port, statement):
    req = urllib.request.Request(f"http://127.0.0.1:{port}/api/sql", data=statement.encode(),
                                 headers={"Content-Type": "text/plain"}, method="POST")
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


def stages(data, markers, seen):
    """Where each marker's time went, from what the stages leave on disk: the raw object that
    holds it (its mtime: delivered by the firehose), the etl run that read that object (the
    bookmark names it; the run summary's mtime: committed), then the first answer holding it.
    Returns ({stage: sorted seconds}, one entry per marker); stages whose traces are missing are
    left out."""
    raw = os.path.join(data, "s3", "orderlake-raw")
    delivered = {}  # invoice -> (object path, mtime)
    for d, _, files in os.walk(raw):
        for name in files:
            path = os.path.join(d, name)
            with open(path, "rb") as f:
                body = f.read()
            at = body.find(b",FRESH,")
            while at >= 0:
                start = body.rfind(b"\n", 0, at) + 1
                inv = body[start:at].decode(errors="replace")
                delivered[inv] = (path, os.stat(path).st_mtime)
                at = body.find(b",FRESH,", at + 1)
    meta = os.path.join(data, "lake", "_orderlake", "orders")
    # Which run took each object: the etl's commits carry the bookmark entries of their run
    # (commitInfo.orderlake.bookmark; bookmark.json keeps only the look-back window's objects).
    run_of = {}
    log_dir = os.path.join(data, "lake", "orders", "_delta_log")
    for name in sorted(os.listdir(log_dir)) if os.path.isdir(log_dir) else []:
        if not name.endswith(".json") or name.startswith("_"):
            continue
        try:
            with open(os.path.join(log_dir, name)) as f:
                for action in f:
                    ci = json.loads(action).get("commitInfo")
                    ol = ci.get("orderlake", {}) if ci else {}
                    bm = ol.get("bookmark", {})
                    for obj, b in (bm.get("objects", bm) if isinstance(bm, dict) else {}).items():
                        if isinstance(b, dict) and b.get("run"):
                            run_of[obj] = b["run"]
        except (OSError, ValueError):
            pass
    out = {"write_to_object": [], "object_to_commit": [], "commit_to_answer": []}
    per_marker = []
    for inv, written in sorted(markers.items(), key=lambda kv: kv[1]):
        if inv not in seen or inv not in delivered:
            continue
        path, t_obj = delivered[inv]
        row = {"invoice": inv, "written": written, "visible_s": seen[inv], "write_to_object": t_obj - written}
        out["write_to_object"].append(t_obj - written)
        run = run_of.get(path)
        summary = os.path.join(meta, "runs", f"{run}.json") if run else None
        if summary and os.path.exists(summary):
            t_commit = os.stat(summary).st_mtime
            out["object_to_commit"].append(t_commit - t_obj)
            out["commit_to_answer"].append(written + seen[inv] - t_commit)
            row.update({"object_to_commit": t_commit - t_obj, "commit_to_answer": written + seen[inv] - t_commit})
        per_marker.append(row)
    return {k: sorted(v) for k, v in out.items() if v}, per_marker


def run_once():
    subprocess.run(["rm", "-rf", OUT], check=True)
    logs = os.path.join(OUT, "logs")
    os.makedirs(logs)
    port = free_port()
    print(f"freshness: lines written -> visible to a query under `orderlake up`, load {RATE:,.0f} lines/s "
          f"for {SECONDS:.0f} s, load average {os.getloadavg()[0]:.2f}", flush=True)
    up = subprocess.Popen([BIN, "--log-level", "warn", "up", "--data-dir", os.path.join(OUT, "data"), "--logs", logs,
                           "--port", str(port), "--status-interval", "0"] + os.environ.get("BENCH_UP_ARGS", "").split(),
                          stdout=subprocess.PIPE, stderr=open(os.path.join(OUT, "up.log"), "w"), text=True)
    line = up.stdout.readline()
    if "dashboard at" not in line:
        sys.exit(f"up did not start: {line!r} (see {OUT}/up.log)")
    gen = subprocess.Popen([BIN, "--log-level", "warn", "generate", "--out", logs, "--rate", str(RATE), "--duration",
                            str(SECONDS + 5), "--progress-interval", "0"], stderr=subprocess.DEVNULL)
    cpu0, t0 = cpu_seconds(up.pid), time.time()
    threads = ThreadCpu(up.pid)
    markers = {}  # invoice -> write time
    seen = {}
    next_marker = time.time() + 2  # let the pipeline warm up
    seq = 0
    with open(os.path.join(logs, "markers.log"), "a") as mf:
        end = time.time() + SECONDS
        while time.time() < end or (markers.keys() - seen.keys() and time.time() < end + 15):
            now = time.time()
            if now >= next_marker and now < end:
                seq += 1
                inv = str(900000000 + seq)
                stamp = datetime.now().strftime("%m/%d/%Y %H:%M")
                mf.write(f"{inv},FRESH,freshness marker,1,{stamp},1.00,12346,United Kingdom\n")
                mf.flush()
                markers[inv] = time.time()
                next_marker = now + 0.5
            try:
                rows = sql(port, "SELECT InvoiceNo FROM orders WHERE StockCode = 'FRESH'")["rows"]
            except Exception:
                rows = []
            t = time.time()
            for (inv,) in rows:
                if inv in markers and inv not in seen:
                    seen[inv] = t - markers[inv]
            time.sleep(0.05)
    cpu1, t1 = cpu_seconds(up.pid), time.time()
    by_thread = threads.finish()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
            with open(os.path.join(OUT, "metrics.txt"), "wb") as f:
                f.write(r.read())
    except Exception as e:
        print(f"  (no /metrics: {e})")
    gen.wait()
    up.send_signal(signal.SIGINT)
    up.wait(timeout=120)
    lat = sorted(seen.values())
    if not lat:
        sys.exit("no marker became visible")
    pct = lambda v, p: v[min(len(v) - 1, int(round(p * (len(v) - 1))))]
    q = lambda p: pct(lat, p)
    result = {"rate": RATE, "seconds": SECONDS, "markers": len(markers), "visible": len(lat),
              "p50_s": q(0.5), "p95_s": q(0.95), "p99_s": q(0.99), "max_s": lat[-1],
              "pipeline_cpu_cores": (cpu1 - cpu0) / (t1 - t0)}
    print(f"  markers visible  {len(lat)} of {len(markers)}")
    print(f"  latency p50 {result['p50_s']:.2f} s, p95 {result['p95_s']:.2f} s, p99 {result['p99_s']:.2f} s, "
          f"max {result['max_s']:.2f} s")
    print(f"  pipeline CPU     {result['pipeline_cpu_cores']:.2f} cores (agent, firehose, etl, dashboard; "
          f"the generator not counted)")
    wall = t1 - t0
    ended = (cpu1 - cpu0) - sum(by_thread.values())
    if ended > 0.01:
        by_thread["(ended threads)"] = ended
    result["cpu_cores_by_thread"] = {k: v / wall for k, v in by_thread.items()}
    shown = sorted(((v / wall, k) for k, v in by_thread.items() if v / wall >= 0.005), reverse=True)
    print("  CPU by stage     " + ", ".join(f"{k} {c:.2f}" for c, k in shown) + " cores")
    result["stages"] = {}
    by_stage, result["markers_detail"] = stages(os.path.join(OUT, "data"), markers, seen)
    for stage, v in by_stage.items():
        result["stages"][stage] = {"p50_s": pct(v, 0.5), "p99_s": pct(v, 0.99), "max_s": v[-1]}
        print(f"  {stage:<17}p50 {pct(v, 0.5):.3f} s, p99 {pct(v, 0.99):.3f} s, max {v[-1]:.3f} s")
    return result


def main():
    if not os.environ.get("ORDERLAKE_SKIP_BUILD"):
        subprocess.run([os.path.join(ROOT, "scripts", "build.sh"), "orderlake"], check=True,
                       stdout=subprocess.DEVNULL)
    results = []
    for i in range(REPEAT):
        if REPEAT > 1:
            print(f"run {i + 1} of {REPEAT}", flush=True)
        results.append(run_once())
    if REPEAT > 1:
        print("p99 of each run: " + ", ".join(f"{r['p99_s']:.2f} s" for r in results) +
              "; CPU: " + ", ".join(f"{r['pipeline_cpu_cores']:.2f}" for r in results) + " cores")
    with open(os.path.join(ROOT, "bench", "out", "freshness.json"), "w") as f:
        json.dump(results if REPEAT > 1 else results[0], f, indent=2)


if __name__ == "__main__":
    main()
