#!/usr/bin/env python3
"""bench/steady_state.py: does the pipeline's cost stay flat as its history grows?

(a) history: the cost of an incremental `orderlake etl` run, one process per run, over a raw
    store in the Firehose layout (YYYY/MM/DD/HH/<stream>-1-<time>-<uuid>) holding 3,000,
    100,000 and 1,000,000 objects spread over 30 days, all already taken by an earlier run
    and ten more one-object runs (so the table has its first checkpoint, as a table in steady
    state has). Each case: one run that finds nothing new, then three runs that each take one
    new object; the
    best of the three (wall time, max RSS from /usr/bin/time) is the figure, printed with its
    ratio to the 3k case, and the runs' own counters (objects listed, objects read, how the run
    discovered them) beside it.
(b) soak: `orderlake up` at BENCH_RATE orders/s (20,000) for BENCH_MINUTES (30) with short
    retentions, sampling every BENCH_SAMPLE_S (10) seconds: the etl's last run time and objects
    listed, the freshness over the sample's window (p99 as a histogram bucket bound, and the
    mean, from orderlake_up_freshness_seconds), up's RSS, the dashboard's uncached answer time (a filter set no cache holds),
    file counts (raw objects, delivery events not yet consumed, Delta log files, live table files, run records, quarantine
    files, WAL segments), the data dir's disk use and that use less the table's data files
    (which hold every order, so grow by design). Prints each figure's trend over the
    second half of the soak (least-squares slope per hour, and as a share of its mean): a
    flat pipeline shows slopes within noise.

  bench/steady_state.sh                         # both parts, full size (about an hour)
  BENCH_PART=history BENCH_SIZES=3000,100000 bench/steady_state.sh
  BENCH_PART=soak BENCH_RATE=20000 BENCH_MINUTES=5 bench/steady_state.sh
  BENCH_SHORT=1 bench/steady_state.sh           # a quick check: sizes 3k,30k; soak 2 min at 5k/s

Everything is written under bench/out/steady/ (the history stores are kept between runs, in
hist-<N>/raw, and rebuilt when missing). Results also go to bench/out/steady/result.json.
"""
import json, os, random, shutil, signal, socket, statistics, subprocess, sys, time, urllib.request, uuid
from datetime import datetime, timedelta, timezone

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("ORDERLAKE_BUILD_DIR", os.path.join(ROOT, "build"))
BIN = os.path.join(BUILD, "orderlake")
OUT = os.path.join(ROOT, "bench", "out", "steady")
SHORT = os.environ.get("BENCH_SHORT") == "1"
PART = os.environ.get("BENCH_PART", "all")
SIZES = [int(x) for x in os.environ.get("BENCH_SIZES", "3000,30000" if SHORT else "3000,100000,1000000").split(",")]
RATE = float(os.environ.get("BENCH_RATE", "5000" if SHORT else "20000"))
MINUTES = float(os.environ.get("BENCH_MINUTES", "2" if SHORT else "30"))
SAMPLE_S = float(os.environ.get("BENCH_SAMPLE_S", "10"))
LOG_RETENTION = os.environ.get("BENCH_LOG_RETENTION", "5m")
RAW_RETENTION = os.environ.get("BENCH_RAW_RETENTION", "5m")
STREAM = "tbsm-red-fire"
# Where the history stores are kept (BENCH_HIST_DIR=/dev/shm/steady makes writing a million
# small objects fast; the lakes stay under bench/out/steady on disk).
HIST = os.environ.get("BENCH_HIST_DIR", OUT)
WARMUP = int(os.environ.get("BENCH_WARMUP", "10"))


def log(msg):
    print(msg, flush=True)


def order_lines(n, seed=7):
    """n order log lines from `orderlake generate` (the seed profile's line format)."""
    d = os.path.join(OUT, "lines")
    shutil.rmtree(d, ignore_errors=True)
    subprocess.run([BIN, "--log-level", "warn", "generate", "--out", d, "--count", str(n), "--seed", str(seed)],
                   check=True, stdout=subprocess.DEVNULL)
    lines = []
    for name in sorted(os.listdir(d)):
        with open(os.path.join(d, name), "rb") as f:
            lines.extend(l for l in f.read().split(b"\n") if l)
    return lines


def object_key(t, rnd):
    return "{:%Y/%m/%d/%H}/{}-1-{:%Y-%m-%d-%H-%M-%S}-{}".format(t, STREAM, t, uuid.UUID(int=rnd.getrandbits(128)))


def make_history(raw, n, lines):
    """n objects of two lines each, spread evenly over the 30 days before the last hour."""
    rnd = random.Random(n)
    end = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    start = end - timedelta(days=30)
    step = (end - start) / n
    made = set()
    for i in range(n):
        key = object_key(start + step * i, rnd)
        parent = os.path.dirname(key)
        if parent not in made:
            os.makedirs(os.path.join(raw, parent), exist_ok=True)
            made.add(parent)
        with open(os.path.join(raw, key), "wb") as f:
            f.write(lines[(2 * i) % len(lines)] + b"\n" + lines[(2 * i + 1) % len(lines)] + b"\n")
        if i and i % 100000 == 0:
            log(f"  history {n}: {i} objects written")


def timed_etl(raw, lake):
    """One `orderlake etl` process: (wall seconds, max RSS MiB, its JSON summary)."""
    t = os.path.join(OUT, "time.txt")
    cmd = ["/usr/bin/time", "-f", "%e %M", "-o", t, BIN, "--log-level", "warn", "etl", "--input", raw,
           "--lake", lake, "--json", "--no-progress"]
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        sys.exit(f"steady_state: etl failed: {r.stderr[-2000:]}")
    with open(t) as f:
        wall, rss = f.read().split()[-2:]
    return float(wall), int(rss) / 1024, json.loads(r.stdout)


def add_object(raw, rnd, line):
    key = object_key(datetime.now(timezone.utc), rnd)
    os.makedirs(os.path.join(raw, os.path.dirname(key)), exist_ok=True)
    with open(os.path.join(raw, key), "wb") as f:
        f.write(line + b"\n")


def history_case(n, lines):
    base = os.path.join(HIST, f"hist-{n}")
    raw, lake = os.path.join(base, "raw"), os.path.join(OUT, f"lake-{n}")
    if not os.path.exists(os.path.join(base, "complete")):
        shutil.rmtree(base, ignore_errors=True)
        log(f"  history {n}: writing {n} objects over 30 days")
        make_history(raw, n, lines)
        open(os.path.join(base, "complete"), "w").close()
    shutil.rmtree(lake, ignore_errors=True)
    t0 = time.time()
    _, _, first = timed_etl(raw, lake)
    log(f"  history {n}: first run took {first['objects']} objects in {time.time() - t0:.1f} s")
    # A table in steady state has a checkpoint (every delta.checkpointInterval = 10 commits):
    # ten untimed runs of one object each get it there, as any table that ran a minute has.
    rnd = random.Random(n + 1)
    for i in range(WARMUP):
        add_object(raw, rnd, lines[100 + i])
        timed_etl(raw, lake)
    idle = timed_etl(raw, lake)
    runs = []
    for i in range(3):
        add_object(raw, rnd, lines[i])
        runs.append(timed_etl(raw, lake))
    best = min(runs, key=lambda r: r[0])
    row = {"objects": n, "idle_s": idle[0], "idle_rss_mb": idle[1], "idle_listed": idle[2].get("objects_listed"),
           "one_new_s": best[0], "one_new_rss_mb": max(r[1] for r in runs),
           "one_new_listed": best[2].get("objects_listed"), "one_new_read": best[2].get("objects"),
           "discovery": best[2].get("discovery"), "all_runs_s": [r[0] for r in runs]}
    log(f"  history {n}: nothing new {idle[0]:.3f} s {idle[1]:.0f} MiB (listed {row['idle_listed']}); "
        f"one new object best {best[0]:.3f} s of {row['all_runs_s']}, {row['one_new_rss_mb']:.0f} MiB, "
        f"listed {row['one_new_listed']}, read {row['one_new_read']}, discovery {row['discovery']}")
    return row


def history():
    log(f"(a) history: incremental etl runs over {', '.join(str(s) for s in SIZES)} objects of history")
    lines = order_lines(20000)
    rows = [history_case(n, lines) for n in SIZES]
    base = rows[0]
    log("")
    log(f"{'objects':>10} {'one new: wall':>14} {'ratio':>6} {'RSS MiB':>8} {'ratio':>6} {'listed':>8} {'read':>5}"
        f" {'nothing new: wall':>18} {'ratio':>6}")
    for r in rows:
        log(f"{r['objects']:>10} {r['one_new_s']:>12.3f} s {r['one_new_s'] / base['one_new_s']:>6.2f} "
            f"{r['one_new_rss_mb']:>8.0f} {r['one_new_rss_mb'] / base['one_new_rss_mb']:>6.2f} "
            f"{str(r['one_new_listed']):>8} {str(r['one_new_read']):>5} {r['idle_s']:>16.3f} s "
            f"{r['idle_s'] / base['idle_s']:>6.2f}")
    big = rows[-1]
    ok = big["one_new_s"] <= 1.5 * base["one_new_s"] and big["one_new_s"] < 0.150
    log(f"goal (largest case within 1.5x of the smallest and under 150 ms): {'holds' if ok else 'does NOT hold'}")
    return rows


# ---- (b) the soak


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def metrics(port):
    out = {}
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
        for line in r.read().decode().splitlines():
            if line and not line.startswith("#"):
                name, _, value = line.rpartition(" ")
                try:
                    out[name] = float(value)
                except ValueError:
                    pass
    return out


def metric(m, prefix):
    vals = [v for k, v in m.items() if k == prefix or k.startswith(prefix + "{")]
    return max(vals) if vals else float("nan")


def histogram(m, name):
    """(buckets [(le, cumulative count)], sum, count) of one Prometheus histogram."""
    buckets = []
    for k, v in m.items():
        if k.startswith(name + "_bucket{") and 'le="' in k:
            le = k.split('le="', 1)[1].split('"', 1)[0]
            buckets.append((float("inf") if le == "+Inf" else float(le), v))
    return sorted(buckets), m.get(name + "_sum", 0.0), m.get(name + "_count", 0.0)


def window_quantile(now, before, q):
    """The q-quantile (a bucket's upper bound) and the mean of what a histogram observed between
    two samples; NaN when it observed nothing."""
    (b1, s1, c1), (b0, s0, c0) = now, before
    n = c1 - c0
    if n <= 0:
        return float("nan"), float("nan")
    prev = dict(b0)
    for le, cum in b1:
        if cum - prev.get(le, 0.0) >= q * n:
            return le, (s1 - s0) / n
    return float("inf"), (s1 - s0) / n


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def count_files(path, pred=lambda name: True, skip_dirs=()):
    n = size = 0
    for d, dirs, files in os.walk(path):
        dirs[:] = [x for x in dirs if x not in skip_dirs]
        for name in files:
            if pred(name):
                n += 1
                try:
                    size += os.lstat(os.path.join(d, name)).st_size
                except OSError:
                    pass
    return n, size


def dashboard_ms(port, rnd):
    """An uncached answer: a date range no earlier request used."""
    day = datetime(2010, 12, 1) + timedelta(days=rnd.randrange(300))
    url = (f"http://127.0.0.1:{port}/api/summary?from={day:%Y-%m-%d}"
           f"&to={day + timedelta(days=rnd.randrange(1, 60)):%Y-%m-%d}&country=United%20Kingdom,France")
    t = time.perf_counter()
    with urllib.request.urlopen(url, timeout=30) as r:
        r.read()
    return (time.perf_counter() - t) * 1000


def slope(xs, ys):
    pts = [(x, y) for x, y in zip(xs, ys) if y == y]  # drop NaN
    if len(pts) < 3:
        return float("nan"), float("nan")
    mx = statistics.fmean(p[0] for p in pts)
    my = statistics.fmean(p[1] for p in pts)
    sxx = sum((p[0] - mx) ** 2 for p in pts)
    b = sum((p[0] - mx) * (p[1] - my) for p in pts) / sxx if sxx else 0.0
    return b, my


def soak():
    data = os.path.join(OUT, "soak")
    shutil.rmtree(data, ignore_errors=True)
    port, aws = free_port(), free_port()
    log(f"(b) soak: orderlake up at {RATE:.0f} orders/s for {MINUTES:g} min, --log-retention {LOG_RETENTION} "
        f"--raw-retention {RAW_RETENTION}, a sample every {SAMPLE_S:g} s")
    errf = open(os.path.join(OUT, "soak.log"), "w")
    up = subprocess.Popen([BIN, "--log-level", "warn", "up", "--data-dir", data, "--rate", str(RATE), "--port",
                           str(port), "--aws-port", str(aws), "--status-interval", "0", "--log-retention",
                           LOG_RETENTION, "--raw-retention", RAW_RETENTION],
                          stdout=subprocess.PIPE, stderr=errf, text=True)
    try:
        line = up.stdout.readline()
        if "dashboard at" not in line:
            sys.exit(f"steady_state: up did not start: {line}")
        rnd = random.Random(1)
        samples = []
        fresh_before = histogram(metrics(port), "orderlake_up_freshness_seconds")
        start = time.time()
        while time.time() - start < MINUTES * 60:
            time.sleep(SAMPLE_S)
            if up.poll() is not None:
                sys.exit("steady_state: up exited during the soak; see bench/out/steady/soak.log")
            m = metrics(port)
            lake = os.path.join(data, "lake")
            table = count_files(os.path.join(lake, "orders"), lambda n: n.endswith(".parquet"))
            disk = count_files(data)[1]
            fresh = histogram(m, "orderlake_up_freshness_seconds")
            fresh_p99, fresh_mean = window_quantile(fresh, fresh_before, 0.99)
            fresh_before = fresh
            s = {"t_h": (time.time() - start) / 3600,
                 "etl_run_s": metric(m, "orderlake_etl_last_run_seconds"),
                 "etl_listed": metric(m, "orderlake_etl_last_objects_listed"),
                 "freshness_p99_s": fresh_p99,
                 "freshness_mean_s": fresh_mean,
                 "rss_mb": rss_mb(up.pid),
                 "dashboard_ms": dashboard_ms(port, rnd),
                 "raw_objects": count_files(os.path.join(data, "s3", "orderlake-raw"),
                                            lambda n: not n.startswith((".", "_")), ("_orderlake",))[0],
                 "events": count_files(os.path.join(data, "s3", "orderlake-raw", "_orderlake", "events"))[0],
                 "log_files": count_files(os.path.join(lake, "orders", "_delta_log"))[0],
                 "table_files": table[0],
                 "run_records": count_files(os.path.join(lake, "_orderlake", "orders", "runs"))[0],
                 "quarantine_files": count_files(os.path.join(lake, "_quarantine"))[0],
                 "wal_segments": count_files(os.path.join(data, "firehose", "wal"))[0],
                 "disk_mb": disk / 2**20,
                 # Everything but the table's data files (which hold every order ever written, so
                 # grow with the soak): logs, raw objects, WAL, the Delta log, bookkeeping.
                 "disk_not_table_mb": (disk - table[1]) / 2**20}
            samples.append(s)
            log("  " + " ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in s.items()))
    finally:
        up.send_signal(signal.SIGINT)
        try:
            up.wait(timeout=60)
        except subprocess.TimeoutExpired:
            up.kill()
    half = samples[len(samples) // 2:]
    log("")
    log(f"trend over the second half of the soak ({len(half)} samples):")
    trend = {}
    for k in samples[0]:
        if k == "t_h":
            continue
        b, mean = slope([s["t_h"] for s in half], [s[k] for s in half])
        rel = b / mean * 100 if mean else float("nan")
        trend[k] = {"slope_per_h": b, "mean": mean, "pct_of_mean_per_h": rel,
                    "p99": sorted(s[k] for s in half)[int(0.99 * (len(half) - 1))]}
        log(f"  {k:>17}: mean {mean:10.3f}  slope {b:+12.3f}/h  ({rel:+7.1f}% of the mean per hour)  "
            f"p99 {trend[k]['p99']:.3f}")
    return {"samples": samples, "trend": trend}


def main():
    if not os.access(BIN, os.X_OK):
        sys.exit(f"steady_state: {BIN} is not built (scripts/build.sh orderlake)")
    os.makedirs(OUT, exist_ok=True)
    log(f"steady_state: {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}, {datetime.now():%Y-%m-%d %H:%M}")
    result = {}
    if PART in ("all", "history"):
        result["history"] = history()
    if PART in ("all", "soak"):
        result["soak"] = soak()
    with open(os.path.join(OUT, "result.json"), "w") as f:
        json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
