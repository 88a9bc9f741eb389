"""The agent's limits (issue 16, defect 10): a filePattern that names a directory is refused
naming the key; a missing directory is waited for, with one warning and a gauge; a line far
longer than maxLineBytes (a 1 GiB sparse line with no newline) is skipped without being held
in memory, counted and logged, and the lines after it are delivered.
Run: ORDERLAKE_BINARY=build/orderlake python3 tests/agent/limits_test.py [test_name ...]"""
import os
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agenttest import (BINARY, FakeFirehose, append, flow, free_port, lines, main, run_once, start, stop,  # noqa: E402
                       wait_for, write_config)


def metric(port, name):
    """The value of a flow's metric; None while the endpoint is not up yet."""
    try:
        body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    except OSError:
        return None
    for line in body.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} not in /metrics:\n{body}")


def vm_hwm_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise AssertionError("no VmHWM")


def test_pattern_naming_a_directory_is_refused(d):
    for pattern, why in (("/", "names a directory"), (d + "/", "names a directory"), (d, "names a directory")):
        cfg = write_config(os.path.join(d, "agent.json"), "http://127.0.0.1:9", [flow(pattern)])
        p = subprocess.run([BINARY, "agent", "--config", cfg, "--once"], capture_output=True, timeout=30)
        err = p.stderr.decode()
        assert p.returncode == 2, (pattern, p.returncode, err)
        assert "flows[0].filePattern" in err and why in err, (pattern, err)


def test_missing_directory_is_waited_for(d):
    fh = FakeFirehose()
    logs = os.path.join(d, "later", "logs")
    port = free_port()
    cfg = write_config(os.path.join(d, "agent.json"), fh.url, [flow(os.path.join(logs, "*.log"))])
    p = start(cfg, extra=["--metrics-listen", f"127.0.0.1:{port}"])
    try:
        wait_for(lambda: metric(port, "orderlake_agent_directory_missing") == 1, what="the gauge")
        time.sleep(0.5)  # several polls: still one warning
        os.makedirs(logs)
        append(os.path.join(logs, "a.log"), lines("A", 0, 5))
        wait_for(lambda: len(fh.got()) == 5, what="the lines of the new directory")
        assert metric(port, "orderlake_agent_directory_missing") == 0
    finally:
        rc, err = stop(p)
    assert rc == 0, err
    assert fh.got() == lines("A", 0, 5)
    warned = [x for x in err.splitlines() if "does not exist" in x]
    assert len(warned) == 1 and os.path.join(d, "later") in warned[0] and "waiting" in warned[0], err


def test_gigabyte_line_without_newline_is_skipped(d):
    fh = FakeFirehose()
    log = os.path.join(d, "a.log")
    append(log, lines("A", 0, 3))
    with open(log, "r+b") as f:  # 1 GiB of NUL bytes, no newline: a sparse file, no disk used
        f.truncate(os.path.getsize(log) + (1 << 30))
    port = free_port()
    cfg = write_config(os.path.join(d, "agent.json"), fh.url, [flow(log)])
    p = start(cfg, extra=["--metrics-listen", f"127.0.0.1:{port}"])
    try:
        wait_for(lambda: len(fh.got()) == 3, what="the lines before the long one")
        wait_for(lambda: metric(port, "orderlake_agent_lines_skipped_total") == 1, timeout=60, what="the skip")
        append(log, [b"\n"] + lines("B", 0, 3))
        wait_for(lambda: len(fh.got()) == 6, what="the lines after the long one")
        hwm = vm_hwm_kib(p.pid)
        assert metric(port, "orderlake_agent_lines_skipped_total") == 1
    finally:
        rc, err = stop(p)
    assert rc == 0, err
    assert fh.got() == lines("A", 0, 3) + lines("B", 0, 3), [x[:40] for x in fh.got()]
    assert hwm < 200 * 1024, f"agent peak RSS {hwm} KiB"
    skipped = [x for x in err.splitlines() if "maxLineBytes" in x]
    assert skipped and "skipped" in skipped[0], err
    assert f"{(1 << 30) + 1} bytes" in err, err  # the whole line, with its newline, once it ended


def test_partial_line_at_the_end_reports_its_real_size(d):
    fh = FakeFirehose()
    log = os.path.join(d, "a.log")
    append(log, lines("A", 0, 2) + [b"z" * 3_000_000])
    cfg = write_config(os.path.join(d, "agent.json"), fh.url, [flow(log, maxLineBytes=1_000_000)])
    rc, out, err = run_once(cfg)
    assert rc == 0, err
    assert fh.got() == lines("A", 0, 2)
    assert "3000000 bytes" in err and "maxLineBytes" in err, err


if __name__ == "__main__":
    main([test_pattern_naming_a_directory_is_refused, test_missing_directory_is_waited_for,
          test_gigabyte_line_without_newline_is_skipped, test_partial_line_at_the_end_reports_its_real_size])
