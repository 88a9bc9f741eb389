"""Unit tests of the independent Delta reader (delta_protocol.py) itself: a valid hand-written log
over real Parquet files (made by `orderlake generate` + `orderlake etl`, which today write the
Hive-partitioned files without a log) reads back without violations, and for each rule a log
that breaks it is caught.
Run: ORDERLAKE_BINARY=build/orderlake python3 tests/table/delta_protocol_unit_test.py [-k name]"""
import copy
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import delta_protocol as dp  # noqa: E402

BINARY = os.environ.get("ORDERLAKE_BINARY", "")
APP = dp.ORDERLAKE.app_id
TABLE_ID = "5b0d6a9e-3c51-4d8e-9a57-0c2f1b7e4d11"


# ---- a minimal Parquet writer (PLAIN, uncompressed, required columns, one row group), for the
# ---- files a compaction would write; only used to make fixtures

class _TW:
    """Thrift compact writer for the few shapes the footer needs."""

    def __init__(self):
        self.b = bytearray()

    def varint(self, n):
        while True:
            if n < 0x80:
                self.b.append(n)
                return
            self.b.append((n & 0x7F) | 0x80)
            n >>= 7

    def zz(self, n):
        self.varint((n << 1) ^ (n >> 63))

    def struct(self, fields):
        """fields: [(id, kind, value)], kind in i32 i64 bin list:<kind> struct."""
        last = 0
        for fid, kind, val in sorted(fields, key=lambda f: f[0]):
            ct = self._ctype(kind)
            d = fid - last
            if 0 < d <= 15:
                self.b.append((d << 4) | ct)
            else:
                self.b.append(ct)
                self.zz(fid)
            last = fid
            self._val(kind, val)
        self.b.append(0)

    @staticmethod
    def _ctype(kind):
        return {"i32": 5, "i64": 6, "bin": 8, "struct": 12}.get(kind, 9)

    def _val(self, kind, val):
        if kind in ("i32", "i64"):
            self.zz(val)
        elif kind == "bin":
            val = val.encode() if isinstance(val, str) else val
            self.varint(len(val))
            self.b += val
        elif kind == "struct":
            self.struct(val)
        else:
            ek = kind.split(":", 1)[1]
            if len(val) < 15:
                self.b.append((len(val) << 4) | self._ctype(ek))
            else:
                self.b.append(0xF0 | self._ctype(ek))
                self.varint(len(val))
            for v in val:
                self._val(ek, v)


PQ_TYPE = {"integer": 1, "double": 5, "string": 6, "long": 2}


def write_parquet(path, columns, rows):
    """columns: [(name, delta type)], rows: [tuple]."""
    out = bytearray(b"PAR1")
    chunks = []
    for i, (name, t) in enumerate(columns):
        vals = [r[i] for r in rows]
        if t == "integer":
            data = struct.pack(f"<{len(vals)}i", *vals)
        elif t == "long":
            data = struct.pack(f"<{len(vals)}q", *vals)
        elif t == "double":
            data = struct.pack(f"<{len(vals)}d", *vals)
        else:
            data = b"".join(struct.pack("<I", len(v.encode())) + v.encode() for v in vals)
        hdr = _TW()
        hdr.struct([(1, "i32", 0), (2, "i32", len(data)), (3, "i32", len(data)),
                    (5, "struct", [(1, "i32", len(vals)), (2, "i32", 0), (3, "i32", 3), (4, "i32", 3)])])
        offset = len(out)
        out += hdr.b + data
        size = len(hdr.b) + len(data)
        chunks.append([(2, "i64", offset), (3, "struct", [
            (1, "i32", PQ_TYPE[t]), (2, "list:i32", [0]), (3, "list:bin", [name]), (4, "i32", 0),
            (5, "i64", len(vals)), (6, "i64", size), (7, "i64", size), (9, "i64", offset)])])
    schema = [[(4, "bin", "schema"), (5, "i32", len(columns))]]
    for name, t in columns:
        el = [(1, "i32", PQ_TYPE[t]), (3, "i32", 0), (4, "bin", name)]
        if t == "string":
            el.append((6, "i32", 0))
        schema.append(el)
    meta = _TW()
    meta.struct([(1, "i32", 1), (2, "list:struct", schema), (3, "i64", len(rows)),
                 (4, "list:struct", [[(1, "list:struct", chunks), (2, "i64", len(out) - 4), (3, "i64", len(rows))]])])
    out += meta.b + struct.pack("<I", len(meta.b)) + b"PAR1"
    with open(path, "wb") as f:
        f.write(out)


# ---- fixtures

DATA_COLUMNS = [(n, t) for n, t in dp.ORDERLAKE.columns if n not in dp.ORDERLAKE.partition_columns]


def schema_string(columns=dp.ORDERLAKE.columns):
    return json.dumps({"type": "struct", "fields": [{"name": n, "type": t, "nullable": True, "metadata": {}}
                                                    for n, t in columns]})


def file_stats(full):
    pq = dp.ParquetFile(full)
    cols = pq.read_columns()
    mins, maxs, nulls = {}, {}, {}
    for name, vals in cols.items():
        present = [v for v in vals if v is not None]
        nulls[name] = len(vals) - len(present)
        if present:
            mins[name], maxs[name] = min(present), max(present)
    return {"numRecords": pq.num_rows, "minValues": mins, "maxValues": maxs, "nullCount": nulls}


class Table:
    """A table directory being built: data files copied in, log written by hand."""

    def __init__(self, root):
        self.root = root
        os.makedirs(os.path.join(root, dp.LOG_DIR), exist_ok=True)

    def place(self, src, country, date, name=None):
        """Copies a Parquet file into the partition directory; returns its relative path."""
        rel = f"Country={dp.hive_escape(country)}/InvoiceDateOnly={date}/{name or os.path.basename(src)}"
        os.makedirs(os.path.dirname(os.path.join(self.root, rel)), exist_ok=True)
        shutil.copyfile(src, os.path.join(self.root, rel))
        return rel

    @staticmethod
    def uri(rel):
        return urllib.parse.quote(rel, safe="/=")

    def add(self, rel, country, date, data_change=True, **over):
        full = os.path.join(self.root, rel)
        a = {"path": self.uri(rel), "partitionValues": {"Country": country, "InvoiceDateOnly": date},
             "size": os.path.getsize(full), "modificationTime": 1700000000000, "dataChange": data_change,
             "stats": json.dumps(file_stats(full))}
        a.update(over)
        return {"add": a}

    def remove(self, rel, data_change=False, **over):
        r = {"path": self.uri(rel), "deletionTimestamp": 1700000001000, "dataChange": data_change}
        r.update(over)
        return {"remove": r}

    @staticmethod
    def protocol(**over):
        p = {"minReaderVersion": 1, "minWriterVersion": 2}
        p.update(over)
        return {"protocol": p}

    @staticmethod
    def metadata(**over):
        m = {"id": TABLE_ID, "format": {"provider": "parquet", "options": {}}, "schemaString": schema_string(),
             "partitionColumns": ["Country", "InvoiceDateOnly"], "configuration": {}, "createdTime": 1700000000000}
        m.update(over)
        return {"metaData": m}

    @staticmethod
    def txn(version, app=APP):
        return {"txn": {"appId": app, "version": version, "lastUpdated": 1700000000000}}

    @staticmethod
    def info(op="WRITE"):
        return {"commitInfo": {"timestamp": 1700000000000, "operation": op}}

    def write(self, commits):
        """commits: {version: [action dict or raw line str]}."""
        for v, actions in commits.items():
            lines = [a if isinstance(a, str) else json.dumps(a) for a in actions]
            with open(os.path.join(self.root, dp.LOG_DIR, f"{v:020d}.json"), "w") as f:
                f.write("".join(line + "\n" for line in lines))


def run(*args):
    p = subprocess.run([BINARY, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=300)
    if p.returncode != 0:
        raise AssertionError(f"orderlake {' '.join(args)} failed ({p.returncode}): {p.stderr[-2000:]}")
    return p.stdout


class ReaderTest(unittest.TestCase):
    """Each test starts from a valid table of four commits:
    v0 protocol+metaData, v1 and v2 two etl batches (txn 1 and 2), v3 a compaction of the two
    United Kingdom files of 2010-12-01 into one; one partition value needs Hive escaping."""

    @classmethod
    def setUpClass(cls):
        if not BINARY or not os.path.exists(BINARY):
            raise unittest.SkipTest("ORDERLAKE_BINARY is not set to the orderlake binary (needed to make Parquet files)")
        cls.tmp = tempfile.mkdtemp(prefix="orderlake-delta-unit-")
        # two etl runs over the same day: two files in the same partition (to compact)
        cls.batches = []
        for i, seed in enumerate((11, 12)):
            logs = os.path.join(cls.tmp, f"logs{i}")
            lake = os.path.join(cls.tmp, f"lake{i}")
            run("generate", "--out", logs, "--count", "120", "--seed", str(seed), "--start", "2010-12-01",
                "--days", str(2 - i), "--progress-interval", "0")
            run("etl", "--input", logs, "--lake", lake, "--no-progress")
            files = []
            for d, _, fs in os.walk(os.path.join(lake, "orders")):
                for f in fs:
                    if f.endswith(".parquet"):
                        parts = os.path.relpath(d, os.path.join(lake, "orders")).split(os.sep)
                        country = dp._hive_unescape(parts[0].split("=", 1)[1])
                        date = parts[1].split("=", 1)[1]
                        files.append((os.path.join(d, f), country, date))
            cls.batches.append(sorted(files))
        uk = [[f for f in b if f[1] == "United Kingdom" and f[2] == "2010-12-01"] for b in cls.batches]
        if not (uk[0] and uk[1]):
            raise AssertionError(f"fixture: expected a United Kingdom 2010-12-01 file in both runs: {cls.batches}")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="table-", dir=self.tmp)
        self.t = Table(os.path.join(self.dir, "orders"))
        t = self.t
        self.rels = [[], []]
        self.commits = {0: [t.protocol(), t.metadata(), t.info("CREATE TABLE")]}
        for i, batch in enumerate(self.batches):
            actions = [t.txn(i + 1), t.info()]
            for src, country, date in batch:
                rel = t.place(src, country, date, name=f"part-b{i}-{os.path.basename(src)}")
                self.rels[i].append((rel, country, date))
                actions.append(t.add(rel, country, date))
            self.commits[i + 1] = actions
        # a partition value that needs escaping both in the directory (Hive) and in the URI
        src, _, date = self.batches[1][0]
        rel = t.place(src, "Côte d'Ivoire: 50%", date, name="part-odd.parquet")
        self.odd = (rel, "Côte d'Ivoire: 50%", date)
        self.commits[2].append(t.add(*self.odd))
        # compaction of the two UK files of 2010-12-01
        self.uk = [next(r for r in self.rels[i] if r[1] == "United Kingdom" and r[2] == "2010-12-01")
                   for i in range(2)]
        rows = []
        for rel, _, _ in self.uk:
            cols = dp.ParquetFile(os.path.join(t.root, rel)).read_columns()
            rows += list(zip(*(cols[n] for n, _ in DATA_COLUMNS)))
        self.merged_rows = rows
        self.merged = "Country=United Kingdom/InvoiceDateOnly=2010-12-01/part-compacted-0001.parquet"
        write_parquet(os.path.join(t.root, self.merged), DATA_COLUMNS, rows)
        self.kept = next(r for r in self.rels[0] if r not in self.uk)   # a file no compaction touches
        self.commits[3] = [t.remove(self.uk[0][0]), t.remove(self.uk[1][0]),
                           t.add(self.merged, "United Kingdom", "2010-12-01", data_change=False), t.info("OPTIMIZE")]

    def check(self, contract=dp.ORDERLAKE):
        self.t.write(self.commits)
        return dp.validate(self.t.root, contract)

    def assertCaught(self, rule, contract=dp.ORDERLAKE, version=None):
        snap, violations = self.check(contract)
        rules = [v.rule for v in violations]
        self.assertIn(rule, rules, f"expected a {rule} violation, got:\n" + "\n".join(map(str, violations)))
        if version is not None:
            self.assertIn(version, [v.version for v in violations if v.rule == rule])
        return snap, violations

    def add_at(self, version, rel):
        """The add action of rel in a commit (to change it)."""
        uri = Table.uri(rel)
        return next(a["add"] for a in self.commits[version] if isinstance(a, dict) and "add" in a
                    and a["add"]["path"] == uri)

    # -- the valid table

    def test_valid_table_has_no_violations(self):
        snap, violations = self.check()
        self.assertEqual(violations, [], "\n".join(map(str, violations)))
        self.assertEqual(snap.version, 3)
        self.assertEqual(snap.txns, {APP: 2})
        self.assertEqual(snap.partition_columns, ["Country", "InvoiceDateOnly"])
        self.assertEqual([n for n, _ in snap.columns], [n for n, _ in dp.ORDERLAKE.columns])
        want = sum(dp.ParquetFile(s).num_rows for b in self.batches for s, _, _ in b)
        want += dp.ParquetFile(self.batches[1][0][0]).num_rows   # the odd partition's copy
        self.assertEqual(snap.num_records, want)
        self.assertIn(self.merged, snap.file_paths())
        self.assertNotIn(self.uk[0][0], snap.file_paths())
        self.assertEqual(sorted(k[0] for k in snap.tombstones), sorted([self.uk[0][0], self.uk[1][0]]))
        odd = next(f for f in snap.files.values() if f.rel_path == self.odd[0])
        self.assertEqual(odd.partition_values["Country"], "Côte d'Ivoire: 50%")
        self.assertIn("Country=C%C3%B4te%20d%2527Ivoire%253A%2050%2525/", odd.path)
        self.assertEqual(snap.commit_info["operation"], "OPTIMIZE")
        # the protocol alone finds nothing either
        self.assertEqual(dp.validate(self.t.root, None)[1], [])

    def test_time_travel(self):
        self.t.write(self.commits)
        s1 = dp.snapshot_at(self.t.root, 1)
        self.assertEqual(s1.version, 1)
        self.assertEqual(sorted(s1.file_paths()), sorted(r for r, _, _ in self.rels[0]))
        self.assertEqual(s1.txns, {APP: 1})
        s2 = dp.snapshot_at(self.t.root, 2)
        s3 = dp.snapshot_at(self.t.root, 3)
        self.assertEqual(s2.num_records, s3.num_records)
        self.assertIn(self.uk[0][0], s2.file_paths())
        self.assertNotIn(self.uk[0][0], s3.file_paths())
        self.assertEqual(dp.snapshot_at(self.t.root).version, 3)
        with self.assertRaises(ValueError):
            dp.snapshot_at(self.t.root, 9)

    def test_untracked_files_are_listed(self):
        self.t.write(self.commits)
        stray = self.t.place(self.batches[0][0][0], "EIRE", "2010-12-01", name="part-stray.parquet")
        snap, _ = dp.validate(self.t.root)
        on_disk = set(dp.data_files_on_disk(self.t.root))
        tomb = {k[0] for k in snap.tombstones}
        self.assertEqual(on_disk - set(snap.file_paths()) - tomb, {stray})

    # -- the log's files

    def test_gap_in_versions(self):
        self.t.write(self.commits)
        os.remove(os.path.join(self.t.root, dp.LOG_DIR, f"{2:020d}.json"))
        _, violations = dp.validate(self.t.root)
        self.assertIn("log.gap", [v.rule for v in violations])

    def test_log_not_starting_at_zero(self):
        self.t.write(self.commits)
        os.remove(os.path.join(self.t.root, dp.LOG_DIR, f"{0:020d}.json"))
        _, violations = dp.validate(self.t.root)
        self.assertIn("log.gap", [v.rule for v in violations])
        self.assertIn("state.no-protocol", [v.rule for v in violations])

    def test_unpadded_commit_name(self):
        self.t.write(self.commits)
        os.rename(os.path.join(self.t.root, dp.LOG_DIR, f"{3:020d}.json"), os.path.join(self.t.root, dp.LOG_DIR, "3.json"))
        _, violations = dp.validate(self.t.root)
        self.assertIn("log.naming", [v.rule for v in violations])

    def test_no_log_fails_clearly(self):
        with self.assertRaisesRegex(FileNotFoundError, "_delta_log"):
            dp.validate(self.t.root)

    def test_checkpoint_fails_clearly(self):
        # With every commit there the checkpoint is not needed: the commits are replayed.
        self.t.write(self.commits)
        with open(os.path.join(self.t.root, dp.LOG_DIR, "_last_checkpoint"), "w") as f:
            f.write('{"version":3,"size":9}')
        _, violations = dp.validate(self.t.root)
        self.assertEqual(violations, [])
        # Once log cleanup removed the first commits, only the checkpoint has the state.
        os.remove(os.path.join(self.t.root, dp.LOG_DIR, f"{0:020d}.json"))
        with self.assertRaisesRegex(dp.UnsupportedLog, "checkpoints not supported by this test reader"):
            dp.validate(self.t.root)

    def test_line_not_json(self):
        self.commits[1].append('{"add": {"path": "x"')
        self.assertCaught("log.json", version=1)

    def test_blank_line_inside_commit(self):
        self.commits[1].insert(1, "")
        self.assertCaught("log.json", version=1)

    def test_two_action_keys_on_one_line(self):
        self.commits[1][0] = json.dumps({**self.commits[1][0], **Table.info()})
        self.assertCaught("log.action-key", version=1)

    def test_duplicate_json_key(self):
        self.commits[1].append('{"txn": {"appId": "a", "version": 1, "version": 2}}')
        self.assertCaught("log.json", version=1)

    def test_checkpoint_action_in_commit(self):
        self.commits[2].append({"checkpointMetadata": {"version": 2}})
        self.assertCaught("log.action-key", version=2)

    # -- protocol and metadata

    def test_add_without_protocol(self):
        self.commits[0] = [Table.metadata()]
        snap, violations = self.assertCaught("state.no-protocol", version=0)
        self.assertIn(1, [v.version for v in violations if v.rule == "state.no-protocol"])

    def test_add_without_metadata(self):
        self.commits[0] = [Table.protocol()]
        self.assertCaught("state.no-metadata", version=0)

    def test_protocol_versions(self):
        self.commits[0][0] = Table.protocol(minReaderVersion=0)
        self.assertCaught("protocol.version", version=0)

    def test_writer_features_need_writer_version_7(self):
        self.commits[0][0] = Table.protocol(writerFeatures=["appendOnly"])
        self.assertCaught("protocol.features", version=0)

    def test_reader_version_3_needs_writer_7(self):
        self.commits[0][0] = Table.protocol(minReaderVersion=3, readerFeatures=[])
        self.assertCaught("protocol.features", version=0)

    def test_orderlake_protocol_contract(self):
        self.commits[0][0] = Table.protocol(minWriterVersion=3)
        self.assertCaught("orderlake.protocol", version=0)

    def test_two_metadata_in_one_commit(self):
        self.commits[0].append(Table.metadata())
        self.assertCaught("action.duplicate-metaData", version=0)

    def test_table_id_must_be_a_guid(self):
        self.commits[0][1] = Table.metadata(id="orders")
        self.assertCaught("metadata.field", version=0)

    def test_schema_with_unknown_type(self):
        cols = [(n, "int" if t == "integer" else t) for n, t in dp.ORDERLAKE.columns]
        self.commits[0][1] = Table.metadata(schemaString=schema_string(cols))
        self.assertCaught("metadata.schema", version=0)

    def test_schema_not_a_struct(self):
        self.commits[0][1] = Table.metadata(schemaString=json.dumps({"type": "array", "elementType": "string",
                                                                     "containsNull": True}))
        self.assertCaught("metadata.schema", version=0)

    def test_schema_names_unique_regardless_of_case(self):
        cols = dp.ORDERLAKE.columns + [("region", "string")]
        self.commits[0][1] = Table.metadata(schemaString=schema_string(cols))
        self.assertCaught("metadata.schema", version=0)

    def test_partition_column_not_in_schema(self):
        self.commits[0][1] = Table.metadata(partitionColumns=["Country", "InvoiceDay"])
        self.assertCaught("metadata.partition-columns", version=0)

    def test_orderlake_schema_contract(self):
        cols = [(n, "long" if n == "Quantity" else t) for n, t in dp.ORDERLAKE.columns]
        self.commits[0][1] = Table.metadata(schemaString=schema_string(cols))
        self.assertCaught("orderlake.schema", version=0)

    # -- add actions

    def test_partition_values_missing_a_column(self):
        del self.add_at(1, self.kept[0])["partitionValues"]["InvoiceDateOnly"]
        self.assertCaught("action.partition-values", version=1)

    def test_partition_values_extra_column(self):
        self.add_at(1, self.kept[0])["partitionValues"]["Region"] = "Europe"
        self.assertCaught("action.partition-values", version=1)

    def test_partition_date_serialization(self):
        self.add_at(1, self.kept[0])["partitionValues"]["InvoiceDateOnly"] = "12/01/2010"
        self.assertCaught("action.partition-values", version=1)

    def test_partition_value_not_a_string(self):
        self.add_at(1, self.kept[0])["partitionValues"]["Country"] = 7
        self.assertCaught("action.partition-values", version=1)

    def test_partition_directory_disagrees(self):
        rel = self.kept[0]
        self.add_at(1, rel)["partitionValues"]["Country"] = "Atlantis"
        self.assertCaught("action.partition-dir", version=1)

    def test_path_not_url_encoded(self):
        rel = self.uk[0][0]
        self.add_at(1, rel)["path"] = rel   # a raw space is not a URI
        self.assertCaught("action.path", version=1)

    def test_path_hive_escape_not_url_encoded(self):
        a = self.add_at(2, self.odd[0])
        a["path"] = a["path"].replace("%253A", "%3A")   # decodes to a name with ':' that is not on disk
        _, violations = self.assertCaught("data.missing")
        self.assertIn("action.partition-dir", [v.rule for v in violations])

    def test_absolute_path(self):
        self.add_at(1, self.kept[0])["path"] = "file://" + Table.uri(os.path.join(self.t.root, self.kept[0]))
        self.assertCaught("action.path", version=1)

    def test_path_escaping_the_table(self):
        self.add_at(1, self.kept[0])["path"] = "../elsewhere/part-0.parquet"
        self.assertCaught("action.path", version=1)

    def test_missing_required_field(self):
        del self.add_at(1, self.kept[0])["modificationTime"]
        self.assertCaught("action.field", version=1)

    def test_data_change_must_be_boolean(self):
        self.add_at(1, self.kept[0])["dataChange"] = "true"
        self.assertCaught("action.field", version=1)

    def test_missing_data_file(self):
        self.t.write(self.commits)
        os.remove(os.path.join(self.t.root, self.kept[0]))
        _, violations = dp.validate(self.t.root)
        self.assertIn("data.missing", [v.rule for v in violations])

    def test_wrong_size(self):
        a = self.add_at(1, self.kept[0])
        a["size"] += 1
        self.assertCaught("data.size", version=1)

    def test_not_parquet(self):
        self.t.write(self.commits)
        full = os.path.join(self.t.root, self.kept[0])
        size = os.path.getsize(full)
        with open(full, "r+b") as f:
            f.seek(size - 4)
            f.write(b"PAR0")
        _, violations = dp.validate(self.t.root)
        self.assertIn("data.parquet", [v.rule for v in violations])

    def test_wrong_num_records(self):
        a = self.add_at(1, self.kept[0])
        s = json.loads(a["stats"])
        s["numRecords"] += 1
        a["stats"] = json.dumps(s)
        self.assertCaught("data.num-records", version=1)

    def test_stats_not_json(self):
        self.add_at(1, self.kept[0])["stats"] = "{numRecords: 3"
        self.assertCaught("action.stats", version=1)

    def test_stats_name_a_column_not_in_schema(self):
        a = self.add_at(1, self.kept[0])
        s = json.loads(a["stats"])
        s["nullCount"]["Discount"] = 0
        a["stats"] = json.dumps(s)
        self.assertCaught("action.stats", version=1)

    def test_stats_value_of_wrong_type(self):
        a = self.add_at(1, self.kept[0])
        s = json.loads(a["stats"])
        s["minValues"]["Quantity"] = "1"
        a["stats"] = json.dumps(s)
        self.assertCaught("action.stats", version=1)

    def test_stats_min_above_max(self):
        a = self.add_at(1, self.kept[0])
        s = json.loads(a["stats"])
        s["minValues"]["UnitPrice"] = s["maxValues"]["UnitPrice"] + 1
        a["stats"] = json.dumps(s)
        self.assertCaught("action.stats", version=1)

    def test_stats_min_not_the_data(self):
        a = self.add_at(1, self.kept[0])
        s = json.loads(a["stats"])
        s["minValues"]["Quantity"] -= 1
        a["stats"] = json.dumps(s)
        self.assertCaught("data.stats", version=1)

    def test_stats_max_below_the_data(self):
        a = self.add_at(1, self.kept[0])
        s = json.loads(a["stats"])
        self.assertLess(s["minValues"]["Description"], s["maxValues"]["Description"])
        s["maxValues"]["Description"] = s["minValues"]["Description"]
        a["stats"] = json.dumps(s)
        self.assertCaught("data.stats", version=1)

    def test_stats_null_count_not_the_data(self):
        a = self.add_at(1, self.kept[0])
        s = json.loads(a["stats"])
        s["nullCount"]["CustomerID"] = 1
        a["stats"] = json.dumps(s)
        self.assertCaught("data.stats", version=1)

    def test_orderlake_stats_required(self):
        del self.add_at(1, self.kept[0])["stats"]
        self.assertCaught("orderlake.stats", version=1)
        self.assertEqual([v for v in dp.validate(self.t.root, None)[1]], [])  # optional in the protocol

    def test_data_file_column_not_in_schema(self):
        rel = self.kept[0]
        cols = dp.ParquetFile(os.path.join(self.t.root, rel)).read_columns()
        rows = list(zip(*(cols[n] for n, _ in DATA_COLUMNS), [1] * len(cols["Region"])))
        write_parquet(os.path.join(self.t.root, rel), DATA_COLUMNS + [("Discount", "integer")], rows)
        self.commits[1][self.commits[1].index({"add": self.add_at(1, rel)})] = self.t.add(rel, *self.kept[1:])
        self.assertCaught("data.column")

    def test_data_file_column_type_not_the_schema(self):
        rel = self.kept[0]
        cols = dp.ParquetFile(os.path.join(self.t.root, rel)).read_columns()
        cols["Quantity"] = [float(q) for q in cols["Quantity"]]
        types = [(n, "double" if n == "Quantity" else t) for n, t in DATA_COLUMNS]
        write_parquet(os.path.join(self.t.root, rel), types, list(zip(*(cols[n] for n, _ in DATA_COLUMNS))))
        self.commits[1][self.commits[1].index({"add": self.add_at(1, rel)})] = self.t.add(rel, *self.kept[1:])
        self.assertCaught("data.column-type")

    def test_orderlake_layout(self):
        src = self.batches[0][0][0]
        rel = "flat-part.parquet"
        shutil.copyfile(src, os.path.join(self.t.root, rel))
        self.commits[1].append(self.t.add(rel, "EIRE", "2010-12-01"))
        _, violations = self.assertCaught("orderlake.layout", version=1)
        self.assertNotIn("orderlake.layout", [v.rule for v in dp.validate(self.t.root, None)[1]])

    # -- remove actions, duplicates, compaction

    def test_remove_of_unknown_path(self):
        self.commits[3].append(self.t.remove("Country=EIRE/InvoiceDateOnly=2010-12-01/part-never.parquet"))
        self.assertCaught("state.remove-unknown", version=3)

    def test_remove_twice(self):
        self.commits[4] = [self.t.remove(self.uk[0][0]), Table.info("OPTIMIZE")]
        self.assertCaught("state.remove-unknown", version=4)

    def test_remove_differs_from_its_add(self):
        r = self.commits[3][0]["remove"]
        r.update(extendedFileMetadata=True, size=1, partitionValues={"Country": "United Kingdom",
                                                                     "InvoiceDateOnly": "2010-12-01"})
        self.assertCaught("action.remove-mismatch", version=3)

    def test_two_adds_of_one_path_in_a_commit(self):
        self.commits[1].append(self.commits[1][-1])
        self.assertCaught("action.duplicate-path", version=1)

    def test_add_and_remove_of_one_path_in_a_commit(self):
        self.commits[3].append(self.t.remove(self.merged))
        self.assertCaught("action.duplicate-path", version=3)

    def test_same_file_twice_in_the_snapshot(self):
        a = dict(self.add_at(1, self.kept[0]))
        a["deletionVector"] = {"storageType": "i", "pathOrInlineDv": "wi5b=000010000siXQKl0rr91000f55c8Xg0@@D72lkbi5=-{L",
                               "sizeInBytes": 40, "cardinality": 6}
        self.commits[4] = [{"add": a}, self.t.txn(3), Table.info()]
        _, violations = self.assertCaught("state.duplicate-path", version=4)
        self.assertIn("protocol.features", [v.rule for v in violations])

    def test_compaction_loses_rows(self):
        write_parquet(os.path.join(self.t.root, self.merged), DATA_COLUMNS, self.merged_rows[:-1])
        self.commits[3][2] = self.t.add(self.merged, "United Kingdom", "2010-12-01", data_change=False)
        self.assertCaught("state.data-change", version=3)

    def test_compaction_changes_a_row(self):
        rows = list(self.merged_rows)
        i = [n for n, _ in DATA_COLUMNS].index("Quantity")
        rows[0] = rows[0][:i] + (rows[0][i] + 1,) + rows[0][i + 1:]
        write_parquet(os.path.join(self.t.root, self.merged), DATA_COLUMNS, rows)
        self.commits[3][2] = self.t.add(self.merged, "United Kingdom", "2010-12-01", data_change=False)
        # the row counts agree: only the comparison of the rows themselves sees it
        _, violations = self.assertCaught("state.data-change", version=3)
        self.assertEqual(len([v for v in violations if v.rule == "state.data-change"]), 1)

    def test_compaction_into_another_partition(self):
        self.commits[3][2] = self.t.add(self.merged, "EIRE", "2010-12-01", data_change=False)
        self.assertCaught("state.data-change", version=3)

    def test_compaction_remove_without_add(self):
        del self.commits[3][2]
        os.remove(os.path.join(self.t.root, self.merged))
        self.assertCaught("state.data-change", version=3)

    def test_orderlake_compaction_remove_has_deletion_timestamp(self):
        del self.commits[3][0]["remove"]["deletionTimestamp"]
        self.assertCaught("orderlake.remove", version=3)

    def test_append_only_table(self):
        self.commits[0][1] = Table.metadata(configuration={"delta.appendOnly": "true"})
        self.commits[3] = [self.t.remove(self.uk[0][0], data_change=True), Table.info("DELETE")]
        self.assertCaught("state.append-only", version=3)

    def test_orderlake_reused_file_name(self):
        self.commits[4] = [self.t.add(*self.uk[0]), self.t.txn(3), Table.info()]
        self.assertCaught("orderlake.reused-path", version=4)

    # -- txn and commitInfo

    def test_txn_version_goes_backwards(self):
        self.commits[2][0] = self.t.txn(1)
        self.assertCaught("orderlake.txn-order", version=2)
        # the protocol itself allows an application's version to go down
        self.assertNotIn("orderlake.txn-order", [v.rule for v in dp.validate(self.t.root, None)[1]])

    def test_two_txns_of_one_app_in_a_commit(self):
        self.commits[2].append(self.t.txn(3))
        self.assertCaught("action.duplicate-txn", version=2)

    def test_txn_fields(self):
        self.commits[2][0] = {"txn": {"appId": APP, "version": "2"}}
        self.assertCaught("action.field", version=2)

    def test_data_commit_without_txn(self):
        del self.commits[2][0]
        self.assertCaught("orderlake.txn-missing", version=2)

    def test_two_commit_infos(self):
        self.commits[1].append(Table.info())
        self.assertCaught("action.duplicate-commitInfo", version=1)

    def test_orderlake_commit_info_required(self):
        self.commits[1] = [a for a in self.commits[1] if "commitInfo" not in a]
        self.assertCaught("orderlake.commit-info", version=1)

    def test_malformed_fields_are_violations_not_crashes(self):
        # a writer bug must show as a violation, never as an exception of the reader
        picks = [(0, 0), (0, 1), (1, 0), (1, 1), (1, 2), (3, 0), (3, 2)]   # protocol, metaData, txn, info, add, ...
        base = copy.deepcopy(self.commits)
        for v, i in picks:
            kind, body = next(iter(base[v][i].items()))
            for field in list(body) + [None]:
                for weird in (None, 7, [1], {"a": [1]}):
                    commits = copy.deepcopy(base)
                    if field is None:
                        commits[v][i] = {kind: weird}
                    else:
                        commits[v][i][kind][field] = weird
                    self.commits = commits
                    with self.subTest(action=kind, field=field, value=weird):
                        _, violations = self.check()
                        self.assertIsInstance(violations, list)

    # -- version checksum files

    def test_version_checksum_mismatch(self):
        self.t.write(self.commits)
        with open(os.path.join(self.t.root, dp.LOG_DIR, f"{1:020d}.crc"), "w") as f:
            json.dump({"tableSizeBytes": 1, "numFiles": 1, "numMetadata": 1, "numProtocol": 1}, f)
        _, violations = dp.validate(self.t.root)
        self.assertIn("crc.mismatch", [v.rule for v in violations])


class PiecesTest(unittest.TestCase):
    """The small pure helpers, without files."""

    def test_hive_escape(self):
        self.assertEqual(dp.hive_escape("United Kingdom"), "United Kingdom")
        self.assertEqual(dp.hive_escape("a/b=c:d%e"), "a%2Fb%3Dc%3Ad%25e")
        self.assertEqual(dp.hive_escape("x\ny{z}^"), "x%0Ay%7Bz}%5E")
        self.assertEqual(dp.hive_escape(None), "__HIVE_DEFAULT_PARTITION__")
        self.assertEqual(dp.hive_escape(""), "__HIVE_DEFAULT_PARTITION__")

    def test_partition_value_serialization(self):
        self.assertIsNone(dp.partition_value_problem("2010-12-01", "date"))
        self.assertIsNone(dp.partition_value_problem(None, "date"))
        self.assertIsNone(dp.partition_value_problem("", "integer"))
        self.assertIsNotNone(dp.partition_value_problem("2010-12-1", "date"))
        self.assertIsNotNone(dp.partition_value_problem("2010-02-30", "date"))
        self.assertIsNotNone(dp.partition_value_problem("2147483648", "integer"))
        self.assertIsNone(dp.partition_value_problem("-2147483648", "integer"))
        self.assertIsNotNone(dp.partition_value_problem("True", "boolean"))
        self.assertIsNone(dp.partition_value_problem("1970-01-01 00:00:00.123456", "timestamp"))

    def test_decode_path(self):
        self.assertEqual(dp.decode_path("Country=United%20Kingdom/d=1/p.parquet"),
                         ("Country=United Kingdom/d=1/p.parquet", None))
        self.assertEqual(dp.decode_path("Country=A%253AB/p.parquet")[0], "Country=A%3AB/p.parquet")
        self.assertIsNotNone(dp.decode_path("Country=United Kingdom/p.parquet")[1])
        self.assertIsNotNone(dp.decode_path("s3://bucket/p.parquet")[1])
        self.assertIsNotNone(dp.decode_path("/abs/p.parquet")[1])
        self.assertIsNotNone(dp.decode_path("_delta_log/p.parquet")[1])
        self.assertIsNotNone(dp.decode_path("a%zz/p.parquet")[1])

    def test_schema_types(self):
        problems = []
        dp.check_type({"type": "map", "keyType": "string", "valueType": "decimal(10,2)", "valueContainsNull": True},
                      "m", problems)
        dp.check_type({"type": "array", "elementType": {"type": "struct", "fields": []}, "containsNull": False},
                      "a", problems)
        self.assertEqual(problems, [])
        dp.check_type("decimal(39,2)", "d", problems)
        dp.check_type("varchar", "v", problems)
        self.assertEqual(len(problems), 2)

    def test_snappy(self):
        # literal "abcd" then a copy of 8 bytes at offset 4 (overlapping): "abcdabcdabcd"
        data = bytes([12, 3 << 2]) + b"abcd" + bytes([((8 - 4) << 2) | 1, 4])
        self.assertEqual(dp._snappy(data), b"abcdabcdabcd")

    def test_rle_hybrid(self):
        # a run of 5 ones, then one bit-packed group of 8 values with width 1
        buf = bytes([5 << 1, 1, (1 << 1) | 1, 0b10100101])
        self.assertEqual(dp._rle_hybrid(buf, 0, len(buf), 1, 13), [1] * 5 + [1, 0, 1, 0, 0, 1, 0, 1])


if __name__ == "__main__":
    unittest.main()
