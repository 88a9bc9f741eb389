"""Starting and stopping `orderlake up` in the up tests (imported by them)."""
import os
import signal
import subprocess
import time

BINARY = os.environ.get("ORDERLAKE_BINARY", "orderlake")


def start_up(args, err, timeout=60):
    """Starts `orderlake up ARGS` (stderr into the open file `err`) and reads its banner:
    returns (process, dashboard URL without a trailing slash, AWS endpoint URL or None). The
    dashboard URL is None when the banner did not come within `timeout` seconds."""
    up = subprocess.Popen([BINARY, "up"] + list(args), stdout=subprocess.PIPE, stderr=err)
    dashboard = aws = None
    want_aws = "--aws-port" in args
    deadline = time.time() + timeout
    while time.time() < deadline and not (dashboard and (aws or not want_aws)):
        line = up.stdout.readline().decode()
        if not line:
            break
        if "dashboard at " in line:
            dashboard = line.split("dashboard at ", 1)[1].split()[0].rstrip("/")
        if "AWS endpoint at " in line:
            aws = line.split("AWS endpoint at ", 1)[1].split()[0]
    return up, dashboard, aws


def stop(*procs, timeout=60):
    """SIGINT to each process still running, then kill what has not exited within `timeout`."""
    for p in procs:
        if p is not None and p.poll() is None:
            p.send_signal(signal.SIGINT)
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
