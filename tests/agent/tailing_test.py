"""The agent against a recording Firehose: rotation schemes, several flows, globs, header
lines, multi-line records, bad input, partial failures, checkpoints and clean stops.
Run: ORDERLAKE_BINARY=build/orderlake python3 tests/agent/tailing_test.py [test_name ...]"""
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agenttest import (BINARY, FakeFirehose, kill_agent_while_generating, append, flow, free_port, lines, main, run_once, start, stop,  # noqa: E402
                       wait_for, write_config)


def test_rename_and_create_rotation(d):
    fh = FakeFirehose()
    log = os.path.join(d, "app.log")
    append(log, lines("A", 0, 100))
    cfg = write_config(os.path.join(d, "agent.json"), fh.url, [flow(log)])
    p = start(cfg)
    try:
        wait_for(lambda: len(fh.got()) == 100, what="first 100 lines")
        append(log, lines("A", 100, 150))
        os.rename(log, log + ".1")                # rotated away: leaves the pattern
        append(log + ".1", lines("A", 150, 160))  # the writer still had it open
        append(log, lines("B", 0, 40))            # the new file under the old name
        wait_for(lambda: len(fh.got()) == 200, what="200 lines")
        time.sleep(1.5)
    finally:
        rc, err = stop(p)
    got = fh.got()
    assert rc == 0, err
    assert sorted(got) == sorted(lines("A", 0, 160) + lines("B", 0, 40)), "lost or duplicated lines"
    a = [x for x in got if x.startswith(b"A")]
    assert a == lines("A", 0, 160), "the old file's lines are out of order"
    assert "rotated" in err or "finished" in err, err


def test_copy_truncate_rotation(d):
    fh = FakeFirehose()
    log = os.path.join(d, "app.log")
    append(log, lines("A", 0, 100))
    cfg = write_config(os.path.join(d, "agent.json"), fh.url, [flow(log + "*")])
    p = start(cfg)
    try:
        wait_for(lambda: len(fh.got()) == 100, what="first 100 lines")
        append(log, lines("A", 100, 120))
        shutil.copyfile(log, log + ".1")
        with open(log, "r+b") as f:
            f.truncate(0)
        append(log, lines("C", 0, 30))
        wait_for(lambda: len(fh.got()) >= 150, what="150 lines")
        time.sleep(1.5)
    finally:
        rc, err = stop(p)
    assert rc == 0, err
    assert sorted(fh.got()) == sorted(lines("A", 0, 120) + lines("C", 0, 30)), "lost or duplicated lines"


def test_deleted_file_is_finished(d):
    fh = FakeFirehose()
    a = os.path.join(d, "a.log")
    append(a, lines("A", 0, 50))
    cfg = write_config(os.path.join(d, "agent.json"), fh.url, [flow(os.path.join(d, "*.log"))])
    p = start(cfg)
    try:
        wait_for(lambda: len(fh.got()) == 50, what="50 lines")
        # Appended and deleted before the next poll: read through the open descriptor.
        with open(a, "ab") as f:
            for x in lines("A", 50, 60):
                f.write(x)
            f.write(b"no newline at the end")
            f.flush()
            os.unlink(a)
        append(os.path.join(d, "b.log"), lines("B", 0, 10))
        wait_for(lambda: len(fh.got()) == 71, what="71 records")
    finally:
        rc, err = stop(p)
    assert rc == 0, err
    got = fh.got()
    assert sorted(got) == sorted(lines("A", 0, 60) + lines("B", 0, 10) + [b"no newline at the end\n"]), got[-3:]


def test_partial_line_waits_for_newline(d):
    fh = FakeFirehose()
    log = os.path.join(d, "a.log")
    append(log, [b"first\n", b"seco"])
    cfg = write_config(os.path.join(d, "agent.json"), fh.url, [flow(log)])
    p = start(cfg)
    try:
        wait_for(lambda: len(fh.got()) == 1, what="first line")
        time.sleep(1.5)
        assert fh.got() == [b"first\n"], fh.got()
        append(log, [b"nd\n"])
        wait_for(lambda: len(fh.got()) == 2, what="second line")
    finally:
        rc, err = stop(p)
    assert fh.got() == [b"first\n", b"second\n"]
    assert rc == 0, err


def test_globs_new_files_and_several_flows(d):
    fh = FakeFirehose()
    for sub in ("x", "y"):
        os.makedirs(os.path.join(d, sub))
    append(os.path.join(d, "x", "orders-1.log"), lines("X", 0, 20))
    append(os.path.join(d, "other.txt"), lines("T", 0, 5))
    cfg = write_config(os.path.join(d, "agent.json"), fh.url, [
        flow(os.path.join(d, "*", "orders-*.log"), "orders"),
        flow(os.path.join(d, "*.txt"), "text", initialPosition="END_OF_FILE"),
    ])
    p = start(cfg)
    try:
        wait_for(lambda: len(fh.got("orders")) == 20, what="existing file")
        append(os.path.join(d, "y", "orders-2.log"), lines("Y", 0, 30))   # appears while running
        append(os.path.join(d, "x", "orders-3.log"), lines("Z", 0, 5))
        append(os.path.join(d, "x", "ignored.log"), lines("I", 0, 5))     # does not match
        append(os.path.join(d, "other.txt"), lines("T", 5, 8))             # END_OF_FILE: only new lines
        wait_for(lambda: len(fh.got("orders")) == 55 and len(fh.got("text")) == 3, what="new files")
        time.sleep(1.2)
    finally:
        rc, err = stop(p)
    assert rc == 0, err
    assert sorted(fh.got("orders")) == sorted(lines("X", 0, 20) + lines("Y", 0, 30) + lines("Z", 0, 5))
    assert fh.got("text") == lines("T", 5, 8)
    # Batches never mix files and carry the idempotency token of their byte range.
    for stream, header, n, failed in fh.calls:
        src, start_, end = header.split(";")
        assert src.count(":") == 2 and int(end) > int(start_), header


def test_header_lines_and_multi_line_records(d):
    fh = FakeFirehose()
    for name in ("a.csv", "b.csv"):
        append(os.path.join(d, name), [b"InvoiceNo,StockCode\n", b"# exported\n"] + lines(name[0].upper(), 0, 3))
    trace = (b"2024-01-01 10:00:00 ERROR boom\n  at a.b(C.java:1)\n  at d.e(F.java:2)\n"
             b"2024-01-01 10:00:01 INFO fine\n2024-01-01 10:00:02 WARN two\n  more\n")
    append(os.path.join(d, "app.trace"), [trace])
    cfg = write_config(os.path.join(d, "agent.json"), fh.url, [
        flow(os.path.join(d, "*.csv"), "csv", skipHeaderLines=2),
        flow(os.path.join(d, "*.trace"), "ml", multiLineStartPattern=r"\d{4}-\d{2}-\d{2} "),
        flow(os.path.join(d, "*.trace"), "one", multiLineStartPattern=r"\d{4}-",
             dataProcessingOptions=[{"optionName": "SINGLELINE"}]),
    ])
    rc, out, err = run_once(cfg)
    assert rc == 0, err
    assert sorted(fh.got("csv")) == sorted(lines("A", 0, 3) + lines("B", 0, 3)), fh.got("csv")
    assert fh.got("ml") == [b"2024-01-01 10:00:00 ERROR boom\n  at a.b(C.java:1)\n  at d.e(F.java:2)\n",
                            b"2024-01-01 10:00:01 INFO fine\n", b"2024-01-01 10:00:02 WARN two\n  more\n"], fh.got("ml")
    assert fh.got("one")[0] == b"2024-01-01 10:00:00 ERROR boomat a.b(C.java:1)at d.e(F.java:2)\n", fh.got("one")


def test_csvtojson_matches_hand_written_json(d):
    fh = FakeFirehose()
    log = os.path.join(d, "orders.log")
    append(log, [b"536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,12/01/2010 08:26,2.55,17850,United Kingdom\n",
                 b'536366,22633,"HAND WARMER, UNION JACK",6,12/01/2010 08:28,1.85,,France\r\n'])
    with open(os.path.join(SOURCE_DIR, "config", "agent-csvtojson.json")) as f:
        cfg = json.load(f)
    cfg["firehose.endpoint"] = fh.url
    cfg["checkpointFile"] = os.path.join(d, "cp.json")
    cfg["flows"][0]["filePattern"] = log
    cfg["flows"][0]["deliveryStream"] = "s"
    path = os.path.join(d, "agent.json")
    with open(path, "w") as f:
        json.dump(cfg, f)
    rc, out, err = run_once(path)
    assert rc == 0, err
    expected = [
        b'{"InvoiceNo":"536365","StockCode":"85123A","Description":"WHITE HANGING HEART T-LIGHT HOLDER","Quantity":"6",'
        b'"InvoiceDate":"12/01/2010 08:26","UnitPrice":"2.55","CustomerID":"17850","Country":"United Kingdom"}\n',
        b'{"InvoiceNo":"536366","StockCode":"22633","Description":"HAND WARMER, UNION JACK","Quantity":"6",'
        b'"InvoiceDate":"12/01/2010 08:28","UnitPrice":"1.85","CustomerID":"","Country":"France"}\n']
    assert fh.got() == expected, fh.got()


def test_bad_input(d):
    fh = FakeFirehose()
    log = os.path.join(d, "bad.log")
    garbage = bytes(range(256)).replace(b"\n", b"") + b"\n"
    append(log, [b"x" * 1000 + b"\n", b"ok\n", garbage, b"caf\xc3\xa9 \xff\xfe invalid utf-8\n",
                 b"y" * 3_000_000 + b"\n", b"last\n"])
    cfg = write_config(os.path.join(d, "agent.json"), fh.url, [
        flow(log, "small", maxRecordSize=100, truncatedRecordTerminator="...\n"),
        flow(log, "default"),
    ])
    rc, out, err = run_once(cfg)
    assert rc == 0, err
    small = fh.got("small")
    assert small[0] == b"x" * 96 + b"...\n", small[0][:120]
    assert small[1] == b"ok\n"
    assert small[2] == garbage[:96] + b"...\n"
    assert small[3] == b"caf\xc3\xa9 \xff\xfe invalid utf-8\n"
    assert small[4] == b"y" * 96 + b"...\n" and small[5] == b"last\n" and len(small) == 6
    big = fh.got("default")
    assert big[2] == garbage and big[3] == b"caf\xc3\xa9 \xff\xfe invalid utf-8\n"   # byte for byte
    assert big[4] == b"y" * 1_023_999 + b"\n", len(big[4])                           # Firehose's 1,000 KiB
    assert big[5] == b"last\n"
    assert "truncated" in err
    assert not fh.sig_problems, fh.sig_problems[:3]   # strict SigV4 checks, bodies over 1 MiB included


def test_unreadable_file(d):
    fh = FakeFirehose()
    os.chmod(d, 0o777)
    append(os.path.join(d, "a.log"), lines("A", 0, 5))
    secret = os.path.join(d, "secret.log")
    append(secret, lines("S", 0, 5))
    os.chmod(secret, 0)
    cfg = write_config(os.path.join(d, "agent.json"), fh.url, [flow(os.path.join(d, "*.log"))])
    cmd = [BINARY, "agent", "--config", cfg, "--once"]
    if os.geteuid() == 0:  # root reads everything: run the agent as nobody
        cmd = ["setpriv", "--bounding-set=-all", "--inh-caps=-all"] + cmd  # without CAP_DAC_OVERRIDE
    p = subprocess.run(cmd, capture_output=True, timeout=60)
    err = p.stderr.decode()
    assert p.returncode == 0, err
    assert fh.got() == lines("A", 0, 5)
    assert "cannot read " + secret in err and "Permission denied" in err, err


def test_partial_failures_resend_only_failed_records(d):
    fh = FakeFirehose()
    fh.http_error_calls = 1                                      # first call: HTTP 500
    fh.fail_pattern = lambda call, i: call < 4 and i % 3 == 1    # then per-record failures
    log = os.path.join(d, "a.log")
    append(log, lines("A", 0, 1200))
    cfg = write_config(os.path.join(d, "agent.json"), fh.url,
                       [flow(log, retryInitialBackoffMillis=10, retryMaxBackoffMillis=50)])
    rc, out, err = run_once(cfg)
    assert rc == 0, err
    got = fh.got()
    assert sorted(got) == sorted(lines("A", 0, 1200)), "lost or duplicated records"
    assert len(got) == 1200
    # call 0: HTTP 500 (all 500 resent); call 1: 167 of 500 failed; call 2 resends only those 167.
    assert [c[2:] for c in fh.calls[:4]] == [(500, -1), (500, 167), (167, 56), (56, 19)], fh.calls[:5]
    assert len({c[1] for c in fh.calls[:5]}) == 1, "a retry keeps the batch's token"
    # A retry sends exactly the failed records, in file order.
    first = lines("A", 0, 500)
    assert fh.sent[2] == first[1::3]
    assert fh.sent[3] == fh.sent[2][1::3]
    assert sorted(got[:500]) == lines("A", 0, 500)


def test_restart_continues_from_checkpoint(d):
    fh = FakeFirehose()
    log = os.path.join(d, "a.log")
    append(log, lines("A", 0, 300))
    cfg = write_config(os.path.join(d, "agent.json"), fh.url, [flow(log)])
    port = free_port()
    p = start(cfg, extra=["--metrics-listen", f"127.0.0.1:{port}"])
    try:
        wait_for(lambda: len(fh.got()) == 300, what="300 lines")
        body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
        assert 'orderlake_agent_records_sent_total{flow="0",stream="s"' in body and "} 300" in body, body
        assert "orderlake_agent_lag_bytes" in body
    finally:
        rc, err = stop(p, signal.SIGINT)
    assert rc == 0, err
    cp = json.load(open(os.path.join(d, "checkpoints.json")))
    assert cp["files"][0]["offset"] == os.path.getsize(log), cp
    append(log, lines("A", 300, 400))
    rc, out, err = run_once(cfg)
    assert rc == 0, err
    assert fh.got() == lines("A", 0, 400), "a restart must continue where the checkpoint says"


def test_malformed_config_names_the_key(d):
    path = os.path.join(d, "agent.json")
    with open(path, "w") as f:
        f.write('{"flows": [{"filePattern": "/tmp/*.log", "kinesisStream": "k"}]}')
    p = subprocess.run([BINARY, "agent", "--config", path, "--once"], capture_output=True, timeout=30)
    assert p.returncode == 2
    assert p.stderr.decode().strip() == ("orderlake agent: agent.json: flows[0].kinesisStream: Kinesis Data Streams "
                                         "is not supported; use deliveryStream"), p.stderr
    with open(path, "w") as f:
        f.write('{"flows": [{"filePattern": "/tmp/*.log", "deliveryStream": "s", "maxBufferAgeMillis": "soon"}]}')
    p = subprocess.run([BINARY, "agent", "--config", path], capture_output=True, timeout=30)
    assert p.returncode == 2 and "flows[0].maxBufferAgeMillis: expected an integer" in p.stderr.decode(), p.stderr


def test_unreachable_endpoint_fails_in_once_mode(d):
    log = os.path.join(d, "a.log")
    append(log, lines("A", 0, 3))
    cfg = write_config(os.path.join(d, "agent.json"), f"http://127.0.0.1:{free_port()}",
                       [flow(log, retryInitialBackoffMillis=5, retryMaxBackoffMillis=10)])
    rc, out, err = run_once(cfg, extra=["--max-attempts", "3"])
    assert rc == 1 and "failed after 3 attempts" in err, err
    cp = json.load(open(os.path.join(d, "checkpoints.json")))
    assert all(f["offset"] == 0 for f in cp["files"]), cp


def test_kill_9_exactly_once_with_batch_tokens(d):
    """kill -9 at random moments while the generator writes, restart each time; a service
    honouring X-Orderlake-Batch (as orderlake's Firehose does) then holds every line once."""
    import collections
    fh = FakeFirehose(dedupe=True)
    logs = os.path.join(d, "logs")
    os.makedirs(logs)
    cfg = write_config(os.path.join(d, "agent.json"), fh.url,
                       [flow(os.path.join(logs, "*.log"), maxBufferSizeRecords=100)])
    written, kills = kill_agent_while_generating(cfg, logs, seed=5, pauses=(0.2, 0.9), rng_seed=3)
    got = fh.got()
    missing = collections.Counter(written) - collections.Counter(got)
    extra = collections.Counter(got) - collections.Counter(written)
    assert not missing, f"{sum(missing.values())} lines lost"
    assert not extra, f"{sum(extra.values())} duplicates ({fh.overlaps} overlapping batches) after {kills} kills"
    print(f"     {len(written)} lines, {kills} kills, {fh.dropped} replayed batches dropped", flush=True)


def test_clean_stop_within_shutdown_timeout(d):
    fh = FakeFirehose()
    fh.http_error_calls = 10 ** 9   # the service is down
    log = os.path.join(d, "a.log")
    append(log, lines("A", 0, 50))
    cfg = write_config(os.path.join(d, "agent.json"), fh.url, [flow(log, retryMaxBackoffMillis=300)],
                       shutdownTimeoutMillis=1500)
    p = start(cfg)
    wait_for(lambda: len(fh.calls) >= 2, what="retries")
    t0 = time.time()
    rc, err = stop(p)
    assert rc == 0, err
    assert time.time() - t0 < 6, "the stop took much longer than shutdownTimeoutMillis (1.5 s)"
    assert "shutdown timeout reached" in err, err
    cp = json.load(open(os.path.join(d, "checkpoints.json")))
    assert all(f["offset"] == 0 for f in cp["files"]), cp
    # SigV4 with the service name firehose, the batch token sent with every call.
    auth = fh.auth[0]
    assert auth.startswith("AWS4-HMAC-SHA256 Credential=AKIDTEST/") and "/us-east-1/firehose/aws4_request" in auth, auth
    assert not fh.sig_problems, fh.sig_problems[:3]
    fh.http_error_calls = 0            # back up: the next run delivers everything once
    rc, out, err = run_once(cfg)
    assert rc == 0, err
    assert fh.got() == lines("A", 0, 50)


SOURCE_DIR = os.environ.get("ORDERLAKE_SOURCE_DIR") or os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

def test_aggregated_records_carry_the_same_bytes(d):
    """aggregatedRecordSizeBytes: lines are joined into Firehose records of at most that size
    (a longer line goes alone); the bytes delivered are the file's, in order, and a partial
    failure resends only the failed aggregates."""
    fh = FakeFirehose()
    fh.fail_pattern = lambda call, i: call == 0 and i % 3 == 1
    log = os.path.join(d, "app.log")
    items = lines("A", 0, 2000) + [b"L" * 700 + b"\n"] + lines("B", 0, 100)
    append(log, items)
    cfg = write_config(os.path.join(d, "agent.json"), fh.url, [flow(log, aggregatedRecordSizeBytes=512)])
    rc, _, err = run_once(cfg)
    assert rc == 0, err
    got = fh.got()
    data = b"".join(got)
    assert sorted(data.splitlines(keepends=True)) == sorted(items), "lost or duplicated lines"
    assert all(r.endswith(b"\n") for r in got), "an aggregate cut a line"
    assert max(len(r) for r in got if not r.startswith(b"L")) <= 512
    assert any(r == b"L" * 700 + b"\n" for r in got), "the long line did not go alone"
    assert len(got) < len(items) / 5, f"{len(got)} records for {len(items)} lines: not aggregated"
    assert fh.calls[0][3] > 0, "the first call had no failed records"


if __name__ == "__main__":
    main([test_rename_and_create_rotation, test_copy_truncate_rotation, test_deleted_file_is_finished,
          test_partial_line_waits_for_newline, test_globs_new_files_and_several_flows,
          test_header_lines_and_multi_line_records, test_csvtojson_matches_hand_written_json, test_bad_input,
          test_unreadable_file, test_partial_failures_resend_only_failed_records,
          test_restart_continues_from_checkpoint, test_malformed_config_names_the_key,
          test_unreachable_endpoint_fails_in_once_mode, test_kill_9_exactly_once_with_batch_tokens,
          test_clean_stop_within_shutdown_timeout, test_aggregated_records_carry_the_same_bytes])
