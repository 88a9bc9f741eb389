"""A file first seen with fewer bytes than the fingerprint (1 KiB) and sent, then the agent
dies before its checkpoint names the file (simulated by removing checkpoints.json and keeping
the in-flight journal, which is what a SIGKILL between the send and the checkpoint write
leaves): after the file has grown, the agent resends the lines under the identity it used
before, so `orderlake firehose` recognises the batch it already holds and stores nothing
twice. Found by bench/chaos.py (mode up: 620 lines stored twice in 30 kills).
Run: ORDERLAKE_BINARY=build/orderlake python3 tests/agent/identity_test.py"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agenttest import append, lines, main, run_once, write_config  # noqa: E402
from orderlake_firehose_test import Firehose, check_exactly_once, written_lines  # noqa: E402


def test_short_new_file_resent_without_checkpoint(d):
    fh = Firehose(d)
    try:
        fh.create_stream("orders", "raw")
        logs = os.path.join(d, "logs")
        os.makedirs(logs)
        path = os.path.join(logs, "a.log")
        append(path, lines("A", 0, 8))  # ~550 bytes: below the 1 KiB fingerprint
        assert os.path.getsize(path) < 1024
        cfg = write_config(os.path.join(d, "agent.json"), fh.url,
                           [{"filePattern": os.path.join(logs, "*.log"), "deliveryStream": "orders",
                             "initialPosition": "START_OF_FILE"}])
        rc, _, err = run_once(cfg)
        assert rc == 0, err
        check_exactly_once(fh, written_lines(logs), "first run")
        os.remove(os.path.join(d, "checkpoints.json"))
        assert os.path.exists(os.path.join(d, "checkpoints.json.inflight"))
        append(path, lines("A", 8, 60))  # now well past 1 KiB
        rc, _, err = run_once(cfg)
        assert rc == 0, err
        check_exactly_once(fh, written_lines(logs), "resend after a lost checkpoint")
    finally:
        fh.close()


if __name__ == "__main__":
    main([test_short_new_file_resent_without_checkpoint])
