"""An independent reader of a Delta Lake table, written for the tests from the Delta transaction
log protocol (PROTOCOL.md of delta-io/delta), not from orderlake's writer. Standard library only.

It replays `_delta_log/<version>.json` (JSON commits only: checkpoints are ignored while every
commit from version 0 is there; a log whose first commits were cleaned away raises UnsupportedLog) and checks the rules of the protocol on the way, then checks the data files the
snapshot names against the log: they exist, their size is the logged size, and their rows match
the logged statistics (the Parquet footer and pages are read by the small Parquet reader below).

    snapshot, violations = validate(table_root)          # [] when the table is valid
    old = snapshot_at(table_root, 3)                      # time travel (no file checks)

Each violation is a Violation(rule, version, message). Rules named `protocol.*`, `log.*`,
`action.*`, `metadata.*`, `state.*`, `data.*` and `crc.*` come from the protocol; rules named
`orderlake.*` come from orderlake's contract for its curated table (SPEC §3 and issue 7) and are
only checked when validate() is given that contract (the default; contract=None checks the
protocol alone).

Protocol rules checked:
  log.naming / log.gap      commit files are <20-digit version>.json, contiguous from 0
  log.json / log.action-key UTF-8 newline-delimited JSON, one object per line with exactly one
                            action key, no duplicate keys; v2-checkpoint actions not in commits
  state.no-protocol/-metadata  version 0 holds protocol and metaData; no file action before them
  action.duplicate-*        at most one metaData, protocol, commitInfo per commit; one txn per
                            appId; one add and one remove per path; not add and remove of the
                            same (path, deletion vector)
  protocol.*                reader 1..3, writer 1..7; readerFeatures only and always with reader
                            3, writerFeatures only and always with writer 7; reader 3 needs writer
                            7; reader features also listed as writer features; known feature names;
                            no downgrade; deletion vectors / domainMetadata only with their feature
  metadata.*                id a GUID, format parquet, configuration a string map, schemaString a
                            struct of valid types (primitive names, decimal(p<=38,s<=p), arrays,
                            maps, nested structs; nullable booleans; names unique regardless of
                            case); partitionColumns unique, top-level primitive columns of the
                            schema; the table id never changes
  action.field / .path      required fields and their JSON types; path an RFC 2396 URI relative
                            to the table root that decodes (once) to a non-hidden file under it
  action.partition-values   keys exactly the partition columns; values strings (or null, "" =
                            null) serialized per type (date YYYY-MM-DD, integers in range, ...)
  action.partition-dir      a `col=value` directory in the path is the Hive escape of the value
  action.stats              stats a JSON object; numRecords a count; min/max/nullCount name schema
                            columns with values of the column's type; min <= max; nullCount <=
                            numRecords
  action.path-encoding / action.remove-mismatch  a remove names its add's path the same way and,
                            when it carries them, the same partitionValues and size
  state.remove-unknown      a remove names a file that is in the table (asked for by the tests'
                            brief: reconciliation alone would tolerate a stray tombstone)
  state.duplicate-path      one logical file per path in the snapshot
  state.data-change         dataChange=false adds and removes of a commit hold the same rows per
                            partition: by numRecords, and row by row when the files are on disk
  state.append-only         no data-changing remove when delta.appendOnly is true
  data.missing / data.size  every file of the snapshot exists; every added file still on disk has
                            the logged size (data files are never overwritten)
  data.parquet / data.num-records  the file is Parquet (PAR1, footer, row groups) and numRecords is
                            the footer's num_rows
  data.column / data.column-type  every column of a data file is in the schema, with the Parquet
                            type the Delta type maps to
  data.stats                minValues/maxValues/nullCount are the file's real min, max and null
                            count (tight bounds; strings may be a prefix)
  crc.*                     a version checksum file, when present, agrees with the replay
orderlake contract: protocol (1, 2) without features; SPEC §3 schema and partition columns;
Country=/InvoiceDateOnly= directories; data files hold exactly the non-partition columns in
order; every add has stats with numRecords, minValues, maxValues, nullCount; every commit with
file actions has a commitInfo; every data commit has a txn for orderlake-etl:orders whose
version only grows (Delta itself allows it to go down); removes are compaction removes
(dataChange=false, with deletionTimestamp); a removed path is never added again.
"""
import datetime
import json
import math
import os
import re
import struct
import urllib.parse
import uuid
import zlib
from collections import Counter, defaultdict, namedtuple

LOG_DIR = "_delta_log"
VERSION_FILE = re.compile(r"^(\d{20})\.json$")


class Violation(namedtuple("Violation", "rule version message")):
    """One broken rule; version is the commit it was found in, or None for the table as a whole."""

    def __str__(self):
        where = "table" if self.version is None else f"version {self.version}"
        return f"[{self.rule}] {where}: {self.message}"


class UnsupportedLog(Exception):
    """The log uses something this test reader deliberately does not implement (checkpoints)."""


class ParquetError(Exception):
    """A data file is not a readable Parquet file."""


class UnsupportedParquet(Exception):
    """A Parquet feature this small reader does not decode (the footer checks still ran)."""


# ---- Thrift compact protocol (the encoding of the Parquet footer and page headers) ----------

class _Compact:
    def __init__(self, buf, pos=0):
        self.buf = buf
        self.pos = pos

    def byte(self):
        if self.pos >= len(self.buf):
            raise ParquetError("thrift: truncated")
        b = self.buf[self.pos]
        self.pos += 1
        return b

    def varint(self):
        shift = result = 0
        while True:
            b = self.byte()
            result |= (b & 0x7F) << shift
            if not b & 0x80:
                return result
            shift += 7
            if shift > 70:
                raise ParquetError("thrift: varint too long")

    def zigzag(self):
        n = self.varint()
        return (n >> 1) ^ -(n & 1)

    def value(self, t):
        if t in (1, 2):  # a bool inside a collection is one byte
            return self.byte() == 1
        if t == 3:
            b = self.byte()
            return b - 256 if b > 127 else b
        if t in (4, 5, 6):
            return self.zigzag()
        if t == 7:
            if self.pos + 8 > len(self.buf):
                raise ParquetError("thrift: truncated double")
            v = struct.unpack_from("<d", self.buf, self.pos)[0]
            self.pos += 8
            return v
        if t == 8:
            n = self.varint()
            if self.pos + n > len(self.buf):
                raise ParquetError("thrift: truncated binary")
            v = bytes(self.buf[self.pos:self.pos + n])
            self.pos += n
            return v
        if t in (9, 10):
            h = self.byte()
            size, et = h >> 4, h & 0x0F
            if size == 15:
                size = self.varint()
            if size > len(self.buf) - self.pos:
                raise ParquetError("thrift: list longer than the data")
            return [self.value(et) for _ in range(size)]
        if t == 11:
            size = self.varint()
            if size == 0:
                return {}
            kv = self.byte()
            if size > len(self.buf) - self.pos:
                raise ParquetError("thrift: map longer than the data")
            return {self.value(kv >> 4): self.value(kv & 0x0F) for _ in range(size)}
        if t == 12:
            return self.struct()
        raise ParquetError(f"thrift: unknown compact type {t}")

    def struct(self):
        out, last = {}, 0
        while True:
            b = self.byte()
            if b == 0:
                return out
            t, delta = b & 0x0F, b >> 4
            fid = last + delta if delta else self.zigzag()
            last = fid
            out[fid] = True if t == 1 else False if t == 2 else self.value(t)


# ---- Parquet ---------------------------------------------------------------------------------

PQ_TYPES = {0: "BOOLEAN", 1: "INT32", 2: "INT64", 3: "INT96", 4: "FLOAT", 5: "DOUBLE", 6: "BYTE_ARRAY",
            7: "FIXED_LEN_BYTE_ARRAY"}
PQ_CODECS = {0: "UNCOMPRESSED", 1: "SNAPPY", 2: "GZIP", 3: "LZO", 4: "BROTLI", 5: "LZ4", 6: "ZSTD", 7: "LZ4_RAW"}

ParquetColumn = namedtuple("ParquetColumn", "name physical_type repetition converted_type logical_type type_length")


class ParquetFile:
    """The footer of a Parquet file: num_rows, top-level columns, row groups (raw thrift dicts)."""

    def __init__(self, path):
        with open(path, "rb") as f:
            self.data = f.read()
        d = self.data
        if len(d) < 12 or d[:4] != b"PAR1" or d[-4:] != b"PAR1":
            raise ParquetError("no PAR1 magic at both ends")
        n = struct.unpack_from("<I", d, len(d) - 8)[0]
        if n <= 0 or n > len(d) - 12:
            raise ParquetError(f"footer length {n} does not fit a {len(d)}-byte file")
        meta = _Compact(d, len(d) - 8 - n).struct()
        if 3 not in meta or 2 not in meta:
            raise ParquetError("FileMetaData has no num_rows or no schema")
        self.num_rows = meta[3]
        self.row_groups = meta.get(4, [])
        schema = meta[2]
        root = schema[0]
        self.columns, self.nested = [], []
        i = 1
        for _ in range(root.get(5, 0)):
            if i >= len(schema):
                raise ParquetError("schema has fewer elements than the root's num_children")
            el = schema[i]
            name = el.get(4, b"").decode("utf-8", "replace")
            if el.get(5):  # a group: skip its subtree
                self.nested.append(name)
                i = _skip_subtree(schema, i)
                continue
            self.columns.append(ParquetColumn(name, PQ_TYPES.get(el.get(1), str(el.get(1))), el.get(3, 0),
                                              el.get(6), el.get(10), el.get(2)))
            i += 1
        self.row_group_rows = sum(rg.get(3, 0) for rg in self.row_groups)

    def read_columns(self):
        """{column name: [values, None for null]} for the flat columns; UnsupportedParquet when a
        codec or encoding is one this reader does not decode."""
        if self.nested:
            raise UnsupportedParquet(f"nested columns {self.nested}")
        out = {c.name: [] for c in self.columns}
        for rg in self.row_groups:
            chunks = rg.get(1, [])
            if len(chunks) != len(self.columns):
                raise ParquetError(f"row group has {len(chunks)} column chunks for {len(self.columns)} columns")
            for col, chunk in zip(self.columns, chunks):
                vals = self._read_chunk(col, chunk.get(3, {}))
                if len(vals) != rg.get(3, 0):
                    raise ParquetError(f"column {col.name}: {len(vals)} values in a row group of {rg.get(3)} rows")
                out[col.name].extend(vals)
        return out

    def _read_chunk(self, col, md):
        if col.repetition == 2:
            raise UnsupportedParquet(f"repeated column {col.name}")
        codec = md.get(4, 0)
        num_values = md.get(5, 0)
        start = md.get(9)
        if md.get(11) is not None and 0 < md[11] < start:
            start = md[11]
        max_def = 1 if col.repetition == 1 else 0
        pos, got, dictionary, values = start, 0, None, []
        while got < num_values:
            r = _Compact(self.data, pos)
            hdr = r.struct()
            pos = r.pos
            size = hdr.get(3, 0)
            raw = self.data[pos:pos + size]
            if len(raw) != size:
                raise ParquetError(f"column {col.name}: page runs past the end of the file")
            pos += size
            ptype = hdr.get(1)
            if ptype == 2:  # dictionary page
                page = _decompress(codec, raw, hdr.get(2))
                dictionary = _plain(page, 0, col, hdr.get(7, {}).get(1, 0))
            elif ptype == 0:  # data page v1
                page = _decompress(codec, raw, hdr.get(2))
                h = hdr.get(5, {})
                n, enc, p = h.get(1, 0), h.get(2, 0), 0
                if max_def:
                    ln = struct.unpack_from("<I", page, 0)[0]
                    defs = _rle_hybrid(page, 4, 4 + ln, 1, n)
                    p = 4 + ln
                else:
                    defs = [0] * n
                values += _fill(defs, max_def, _decode(page, p, enc, col, defs.count(max_def), dictionary))
                got += n
            elif ptype == 3:  # data page v2
                h = hdr.get(8, {})
                n, enc, dl, rl = h.get(1, 0), h.get(4, 0), h.get(5, 0), h.get(6, 0)
                defs = _rle_hybrid(raw, rl, rl + dl, 1, n) if max_def else [0] * n
                body = raw[rl + dl:]
                if h.get(7, True):
                    body = _decompress(codec, body, hdr.get(2, 0) - rl - dl)
                values += _fill(defs, max_def, _decode(body, 0, enc, col, defs.count(max_def), dictionary))
                got += n
            # index pages and unknown pages are skipped
        return values


def _skip_subtree(schema, i):
    n = schema[i].get(5, 0)
    i += 1
    for _ in range(n):
        i = _skip_subtree(schema, i) if schema[i].get(5) else i + 1
    return i


def _fill(defs, max_def, vals):
    it = iter(vals)
    return [next(it) if d == max_def else None for d in defs]


def _decompress(codec, raw, size):
    if codec == 0:
        return raw
    if codec == 1:
        return _snappy(raw)
    if codec == 2:
        return zlib.decompress(raw, 47)
    raise UnsupportedParquet(f"codec {PQ_CODECS.get(codec, codec)}")


def _snappy(data):
    """Snappy raw-format decompression (the format is small: literals and back-references)."""
    r = _Compact(data)
    n = r.varint()
    pos, out = r.pos, bytearray()
    while pos < len(data):
        tag = data[pos]
        pos += 1
        kind = tag & 3
        if kind == 0:
            ln = tag >> 2
            if ln >= 60:
                nb = ln - 59
                ln = int.from_bytes(data[pos:pos + nb], "little")
                pos += nb
            ln += 1
            out += data[pos:pos + ln]
            pos += ln
            continue
        if kind == 1:
            ln, off = ((tag >> 2) & 7) + 4, ((tag >> 5) << 8) | data[pos]
            pos += 1
        elif kind == 2:
            ln, off = (tag >> 2) + 1, int.from_bytes(data[pos:pos + 2], "little")
            pos += 2
        else:
            ln, off = (tag >> 2) + 1, int.from_bytes(data[pos:pos + 4], "little")
            pos += 4
        if off == 0 or off > len(out):
            raise ParquetError("snappy: back-reference before the start")
        s = len(out) - off
        if off >= ln:
            out += out[s:s + ln]
        else:
            for k in range(ln):
                out.append(out[s + k])
    if len(out) != n:
        raise ParquetError(f"snappy: {len(out)} bytes, header says {n}")
    return bytes(out)


def _rle_hybrid(buf, pos, end, bit_width, count):
    if bit_width == 0:
        return [0] * count
    out, nbytes, mask = [], (bit_width + 7) // 8, (1 << bit_width) - 1
    r = _Compact(buf, pos)
    while len(out) < count and r.pos < end:
        header = r.varint()
        if header & 1:
            for _ in range(header >> 1):
                chunk = int.from_bytes(buf[r.pos:r.pos + bit_width], "little")
                r.pos += bit_width
                out.extend((chunk >> (k * bit_width)) & mask for k in range(8))
        else:
            v = int.from_bytes(buf[r.pos:r.pos + nbytes], "little")
            r.pos += nbytes
            out.extend([v] * (header >> 1))
    if len(out) < count:
        raise ParquetError(f"RLE run ended after {len(out)} of {count} values")
    return out[:count]


def _decode(page, p, enc, col, n, dictionary):
    if enc == 0:
        return _plain(page, p, col, n)
    if enc in (2, 8):
        if dictionary is None:
            raise ParquetError(f"column {col.name}: dictionary-encoded page without a dictionary page")
        idx = _rle_hybrid(page, p + 1, len(page), page[p], n) if n else []
        try:
            return [dictionary[i] for i in idx]
        except IndexError:
            raise ParquetError(f"column {col.name}: dictionary index out of range") from None
    raise UnsupportedParquet(f"encoding {enc} of column {col.name}")


def _plain(page, p, col, n):
    t = col.physical_type
    fixed = {"INT32": "i", "INT64": "q", "FLOAT": "f", "DOUBLE": "d"}
    if t in fixed:
        size = struct.calcsize("<" + fixed[t])
        if p + size * n > len(page):
            raise ParquetError(f"column {col.name}: page shorter than its values")
        return list(struct.unpack_from(f"<{n}{fixed[t]}", page, p))
    if t == "BYTE_ARRAY":
        out = []
        for _ in range(n):
            ln = struct.unpack_from("<I", page, p)[0]
            b = page[p + 4:p + 4 + ln]
            if len(b) != ln:
                raise ParquetError(f"column {col.name}: byte array past the end of the page")
            out.append(b.decode("utf-8", "surrogateescape") if _is_string(col) else bytes(b))
            p += 4 + ln
        return out
    if t == "BOOLEAN":
        return [bool((page[p + k // 8] >> (k % 8)) & 1) for k in range(n)]
    if t in ("FIXED_LEN_BYTE_ARRAY", "INT96"):
        w = 12 if t == "INT96" else col.type_length
        return [bytes(page[p + k * w:p + (k + 1) * w]) for k in range(n)]
    raise UnsupportedParquet(f"physical type {t}")


def _is_string(col):
    return col.converted_type == 0 or (isinstance(col.logical_type, dict) and 1 in col.logical_type)


def _is_date(col):
    return col.converted_type == 6 or (isinstance(col.logical_type, dict) and 6 in col.logical_type)


# Delta type -> acceptable Parquet physical types (PROTOCOL.md, Delta Data Type to Parquet Type Mappings)
PARQUET_TYPE_FOR = {"integer": {"INT32"}, "short": {"INT32"}, "byte": {"INT32"}, "long": {"INT64"},
                    "float": {"FLOAT"}, "double": {"DOUBLE"}, "boolean": {"BOOLEAN"}, "string": {"BYTE_ARRAY"},
                    "binary": {"BYTE_ARRAY"}, "date": {"INT32"}, "timestamp": {"INT64", "INT96"},
                    "timestamp_ntz": {"INT64"}}


# ---- schema (the Spark StructType JSON of schemaString) --------------------------------------

PRIMITIVES = {"string", "long", "integer", "short", "byte", "float", "double", "boolean", "binary", "date",
              "timestamp", "timestamp_ntz", "variant", "void", "decimal"}
DECIMAL = re.compile(r"^decimal\(\s*(\d+)\s*,\s*(\d+)\s*\)$")
INT_RANGES = {"byte": 8, "short": 16, "integer": 32, "long": 64}


def check_type(t, where, problems):
    """Appends what is wrong with a schema type (string or nested JSON) to problems."""
    if isinstance(t, str):
        m = DECIMAL.match(t)
        if m:
            p, s = int(m.group(1)), int(m.group(2))
            if not (1 <= p <= 38 and 0 <= s <= p):
                problems.append(f"{where}: {t} is out of the precision/scale range (up to 38)")
        elif t not in PRIMITIVES:
            problems.append(f"{where}: {t!r} is not a primitive type name")
        return
    if not isinstance(t, dict):
        problems.append(f"{where}: type is {type(t).__name__}, not a name or an object")
        return
    kind = t.get("type")
    if kind == "struct":
        check_struct(t, where, problems)
    elif kind == "array":
        if not isinstance(t.get("containsNull"), bool):
            problems.append(f"{where}: array without boolean containsNull")
        check_type(t.get("elementType"), where + ".element", problems)
    elif kind == "map":
        if not isinstance(t.get("valueContainsNull"), bool):
            problems.append(f"{where}: map without boolean valueContainsNull")
        check_type(t.get("keyType"), where + ".key", problems)
        check_type(t.get("valueType"), where + ".value", problems)
    else:
        problems.append(f"{where}: unknown complex type {kind!r}")


def check_struct(s, where, problems):
    if not isinstance(s, dict) or s.get("type") != "struct" or not isinstance(s.get("fields"), list):
        problems.append(f"{where}: not a struct type ({{\"type\":\"struct\",\"fields\":[...]}})")
        return
    seen = set()
    for i, f in enumerate(s["fields"]):
        if not isinstance(f, dict) or not isinstance(f.get("name"), str):
            problems.append(f"{where}.fields[{i}]: field without a string name")
            continue
        name = f["name"]
        if name.lower() in seen:
            problems.append(f"{where}: column name {name!r} is not unique regardless of casing")
        seen.add(name.lower())
        if "type" not in f:
            problems.append(f"{where}.{name}: field without type")
        else:
            check_type(f["type"], f"{where}.{name}", problems)
        if not isinstance(f.get("nullable"), bool):
            problems.append(f"{where}.{name}: nullable is not a boolean")
        if "metadata" in f and not isinstance(f["metadata"], dict):
            problems.append(f"{where}.{name}: metadata is not an object")


# ---- partition values and paths ---------------------------------------------------------------

HIVE_ESCAPE = set(chr(c) for c in range(0x20)) | set('"#%\'*/:=?\\\x7f{[]^')
HIVE_NULL = "__HIVE_DEFAULT_PARTITION__"
URI_CHARS = re.compile(r"^(?:[A-Za-z0-9\-_.!~*'();/?:@&=+$,]|%[0-9A-Fa-f]{2})*$")  # RFC 2396
SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")


def hive_escape(value):
    """A partition value as Hive and Spark write it in a directory name."""
    if value is None or value == "":
        return HIVE_NULL
    return "".join(f"%{ord(c):02X}" if c in HIVE_ESCAPE else c for c in value)


def partition_value_problem(value, dtype):
    """What is wrong with a serialized partition value of the given Delta type, or None.
    PROTOCOL.md, Partition Value Serialization: strings; an empty string or null is null."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        return f"{value!r} is a JSON {type(value).__name__}, partition values are strings"
    if dtype in INT_RANGES:
        bits = INT_RANGES[dtype]
        if not re.fullmatch(r"-?\d+", value) or not -(1 << bits - 1) <= int(value) < (1 << bits - 1):
            return f"{value!r} is not a {dtype}"
    elif dtype == "date":
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            return f"{value!r} is not a date serialized as YYYY-MM-DD"
        try:
            datetime.date.fromisoformat(value)
        except ValueError:
            return f"{value!r} is not a calendar date"
    elif dtype in ("timestamp", "timestamp_ntz"):
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z?", value):
            return f"{value!r} is not a timestamp serialization"
    elif dtype == "boolean":
        if value not in ("true", "false"):
            return f"{value!r} is not \"true\" or \"false\""
    elif dtype in ("double", "float"):
        try:
            float(value)
        except ValueError:
            return f"{value!r} is not a number"
    elif isinstance(dtype, str) and dtype.startswith("decimal"):
        if not re.fullmatch(r"-?\d+(\.\d+)?", value):
            return f"{value!r} is not a decimal"
    return None


def decode_path(path):
    """(relative file path, problem): the add/remove path is an RFC 2396 URI relative to the table
    root (or absolute); decoded once it names the file."""
    if not isinstance(path, str) or not path:
        return None, "path is not a non-empty string"
    if not URI_CHARS.match(path):
        bad = sorted(set(c for c in re.sub(r"%[0-9A-Fa-f]{2}", "", path)
                         if not re.match(r"[A-Za-z0-9\-_.!~*'();/?:@&=+$,]", c)))
        return None, f"path {path!r} is not a URI: characters {bad} must be percent-encoded"
    if "?" in path or "#" in path:
        return None, f"path {path!r} has a query or fragment part ('?' and '#' must be encoded in a file name)"
    absolute = bool(SCHEME.match(path)) or path.startswith("/")
    try:
        decoded = urllib.parse.unquote(path, errors="strict")
    except UnicodeDecodeError:
        return None, f"path {path!r} decodes to bytes that are not UTF-8"
    if absolute:
        return None, f"path {path!r} is absolute; this reader resolves relative paths only"
    parts = decoded.split("/")
    if any(p in ("", ".", "..") for p in parts):
        return None, f"path {path!r} (decoded {decoded!r}) has empty, '.' or '..' segments"
    if any(p.startswith(("_", ".")) for p in parts[:-1]):
        return None, f"path {path!r} is in a hidden directory (data files live in non-hidden directories)"
    return decoded, None


# ---- the log ----------------------------------------------------------------------------------

FILE_ACTIONS = ("add", "remove")
KNOWN_ACTIONS = {"add", "remove", "metaData", "protocol", "txn", "commitInfo", "cdc", "domainMetadata"}
CHECKPOINT_ONLY = {"checkpointMetadata", "sidecar"}
READER_WRITER_FEATURES = {"columnMapping", "deletionVectors", "timestampNtz", "v2Checkpoint", "vacuumProtocolCheck",
                          "catalogManaged", "typeWidening", "typeWidening-preview", "variantType",
                          "variantType-preview", "variantShredding", "variantShredding-preview"}
WRITER_FEATURES = READER_WRITER_FEATURES | {
    "appendOnly", "invariants", "checkConstraints", "generatedColumns", "allowColumnDefaults", "changeDataFeed",
    "identityColumns", "rowTracking", "domainMetadata", "icebergCompatV1", "icebergCompatV2", "clustering",
    "inCommitTimestamp"}


class FileEntry:
    """A logical file of a snapshot (an `add` that no later action replaced)."""

    def __init__(self, action, rel_path, version):
        self.action = action
        self.path = action.get("path")              # as written in the log (a URI)
        self.rel_path = rel_path                    # decoded, relative to the table root
        pv = action.get("partitionValues")
        self.partition_values = pv if isinstance(pv, dict) else {}
        self.size = action.get("size")
        self.modification_time = action.get("modificationTime")
        self.data_change = action.get("dataChange")
        self.version = version                      # the commit that added it
        self.stats = None
        self.num_records = None
        s = action.get("stats")
        if isinstance(s, str):
            try:
                self.stats = json.loads(s)
            except ValueError:
                pass
        if isinstance(self.stats, dict) and _is_int(self.stats.get("numRecords")):
            self.num_records = self.stats["numRecords"]

    def __repr__(self):
        return f"FileEntry({self.rel_path!r}, {self.partition_values}, numRecords={self.num_records})"


class Snapshot:
    """The table state at one version, per PROTOCOL.md's Action Reconciliation."""

    def __init__(self):
        self.version = -1
        self.protocol = None
        self.metadata = None
        self.schema = None           # parsed schemaString
        self.files = {}              # (rel_path, dvId) -> FileEntry
        self.tombstones = {}         # (rel_path, dvId) -> (remove action, version)
        self.txns = {}               # appId -> version
        self.commit_info = None
        self.notes = []              # what could not be checked, and why

    @property
    def partition_columns(self):
        pcs = (self.metadata or {}).get("partitionColumns")
        return [c for c in pcs if isinstance(c, str)] if isinstance(pcs, list) else []

    @property
    def columns(self):
        """[(name, type)] of the top-level schema."""
        if not isinstance(self.schema, dict):
            return []
        return [(f.get("name"), f.get("type")) for f in self.schema.get("fields", []) if isinstance(f, dict)]

    @property
    def num_records(self):
        return sum(f.num_records or 0 for f in self.files.values())

    def records_by(self, column):
        """{partition value: rows} summed over the snapshot's files, for a partition column."""
        out = Counter()
        for f in self.files.values():
            out[f.partition_values.get(column)] += f.num_records or 0
        return dict(out)

    def file_paths(self):
        return sorted(f.rel_path for f in self.files.values())


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _hashable(x):
    return x if x is None or isinstance(x, (str, int, float)) else json.dumps(x, sort_keys=True)


def _file_key(action):
    """The logical file's key: (decoded path, deletion vector id), per Action Reconciliation."""
    rel, _ = decode_path(action.get("path"))
    return (rel or _hashable(action.get("path")), _dv_id(action))


def _dv_id(action):
    dv = action.get("deletionVector")
    if not isinstance(dv, dict):
        return None
    uid = f"{dv.get('storageType')}{dv.get('pathOrInlineDv')}"
    return uid if dv.get("offset") is None else f"{uid}@{dv['offset']}"


def _unique_pairs(pairs):
    keys = [k for k, _ in pairs]
    dup = [k for k, n in Counter(keys).items() if n > 1]
    if dup:
        raise ValueError(f"duplicate keys {dup} in one JSON object")
    return dict(pairs)


class Contract:
    """What orderlake promises beyond the protocol for its curated table (SPEC §3, issue 7)."""

    def __init__(self, columns, partition_columns, app_id, protocol=(1, 2)):
        self.columns = columns
        self.partition_columns = partition_columns
        self.app_id = app_id
        self.protocol = protocol


ORDERLAKE = Contract(
    columns=[("CustomerID", "integer"), ("OrderID", "string"), ("InvoiceNo", "string"), ("StockCode", "string"),
             ("Description", "string"), ("Quantity", "integer"), ("UnitPrice", "double"), ("TotalAmount", "double"),
             ("TotalAmountUSD", "double"), ("OrderTag", "string"), ("InvoiceDate", "string"),
             ("InvoiceHour", "integer"), ("Region", "string"), ("Country", "string"), ("InvoiceDateOnly", "date")],
    partition_columns=["Country", "InvoiceDateOnly"],
    app_id="orderlake-etl:orders")


class DeltaTable:
    def __init__(self, root):
        self.root = os.path.abspath(root)
        self.log_dir = os.path.join(self.root, LOG_DIR)

    # -- listing and parsing

    def list_log(self):
        """(versions in order, naming violations). Checkpoints are ignored while every commit from
        version 0 is there (replaying them gives the same snapshot); raises UnsupportedLog when
        the log needs its checkpoint (the first commits were removed by log cleanup)."""
        if not os.path.isdir(self.log_dir):
            raise FileNotFoundError(f"{self.log_dir} does not exist: {self.root} is not a Delta table "
                                    f"(no _delta_log directory)")
        versions, violations, checkpoint = [], [], None
        for name in sorted(os.listdir(self.log_dir)):
            if name == "_last_checkpoint" or ".checkpoint." in name:
                checkpoint = checkpoint or name
                continue
            m = VERSION_FILE.match(name)
            if m:
                versions.append(int(m.group(1)))
            elif re.fullmatch(r"\d+\.json", name):
                violations.append(Violation("log.naming", None, f"{name}: commit files are named with the "
                                                                f"version zero-padded to 20 digits"))
        if checkpoint and (not versions or versions[0] != 0):
            raise UnsupportedLog(f"checkpoints not supported by this test reader, and the commits before "
                                 f"{LOG_DIR}/{checkpoint} are gone")
        if not versions:
            raise FileNotFoundError(f"{self.log_dir} holds no commit file (00000000000000000000.json ...)")
        if versions[0] != 0:
            violations.append(Violation("log.gap", None, f"the log starts at version {versions[0]}, not 0 "
                                                         f"(and there is no checkpoint to start from)"))
        for a, b in zip(versions, versions[1:]):
            if b != a + 1:
                violations.append(Violation("log.gap", None, f"versions jump from {a} to {b}: "
                                                             f"{list(range(a + 1, b))} are missing"))
        return versions, violations

    def read_commit(self, version):
        """([(kind, body)], violations) for one commit file."""
        path = os.path.join(self.log_dir, f"{version:020d}.json")
        with open(path, "rb") as f:
            raw = f.read()
        violations, actions = [], []

        def bad(rule, msg):
            violations.append(Violation(rule, version, msg))
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            bad("log.json", f"not UTF-8: {e}")
            return actions, violations
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        if not lines:
            bad("log.json", "the commit file is empty")
        for no, line in enumerate(lines, 1):
            if line.strip() == "":
                bad("log.json", f"line {no} is empty (one JSON action per line)")
                continue
            try:
                obj = json.loads(line, object_pairs_hook=_unique_pairs)
            except ValueError as e:
                bad("log.json", f"line {no} is not a JSON document: {e}")
                continue
            if not isinstance(obj, dict) or len(obj) != 1:
                keys = list(obj) if isinstance(obj, dict) else type(obj).__name__
                bad("log.action-key", f"line {no} has {keys}, not exactly one action key")
                continue
            (kind, body), = obj.items()
            if kind in CHECKPOINT_ONLY:
                bad("log.action-key", f"line {no}: {kind} is only allowed in v2 checkpoints, not in commits")
                continue
            if kind in KNOWN_ACTIONS and not isinstance(body, dict):
                bad("log.action-key", f"line {no}: {kind} is {type(body).__name__}, not an object")
                continue
            actions.append((kind, body))
        return actions, violations

    # -- replay

    def snapshot_at(self, version=None):
        """The snapshot at a version (default: the latest), replaying the log without checking it."""
        versions, _ = self.list_log()
        if version is None:
            version = versions[-1]
        if version not in versions:
            raise ValueError(f"version {version} is not in the log (versions {versions[0]}..{versions[-1]})")
        snap, _ = self._replay([v for v in versions if v <= version], None, check_files=False)
        return snap

    def validate(self, contract=ORDERLAKE):
        versions, violations = self.list_log()
        snap, more = self._replay(versions, contract, check_files=True)
        return snap, violations + more

    def _replay(self, versions, contract, check_files):
        snap = Snapshot()
        out = []
        ever_added = {}     # key -> (raw path, size, version) of every add seen, for the on-disk checks
        for v in versions:
            actions, vs = self.read_commit(v)
            out += vs
            self._apply(snap, v, actions, contract, out, ever_added)
            if check_files:
                self._check_crc(snap, v, out)
        if check_files:
            self._check_files(snap, contract, out, ever_added)
        return snap, out

    def _apply(self, snap, v, actions, contract, out, ever_added):
        def bad(rule, msg):
            out.append(Violation(rule, v, msg))

        by_kind = defaultdict(list)
        for kind, body in actions:
            by_kind[kind].append(body)
        for kind in by_kind:
            if kind not in KNOWN_ACTIONS:
                snap.notes.append(f"version {v}: unrecognized action {kind!r} ignored (allowed by the protocol)")

        # one of each per commit (Requirements for Writers, Delta Log Entries)
        for kind in ("metaData", "protocol", "commitInfo"):
            if len(by_kind[kind]) > 1:
                bad(f"action.duplicate-{kind}", f"{len(by_kind[kind])} {kind} actions in one commit (at most one)")
        apps = Counter(_hashable(t.get("appId")) for t in by_kind["txn"])
        for app, n in apps.items():
            if n > 1:
                bad("action.duplicate-txn", f"{n} txn actions for appId {app!r} in one commit")

        # protocol
        for p in by_kind["protocol"][:1]:
            self._check_protocol(p, bad)
            if snap.protocol is not None:
                old = (snap.protocol.get("minReaderVersion"), snap.protocol.get("minWriterVersion"))
                new = (p.get("minReaderVersion"), p.get("minWriterVersion"))
                if all(_is_int(x) for x in old + new) and (new[0] < old[0] or new[1] < old[1]):
                    bad("protocol.downgrade", f"protocol goes from {old} down to {new}")
            snap.protocol = p
        # metaData
        for m in by_kind["metaData"][:1]:
            schema = self._check_metadata(m, bad)
            if snap.metadata is not None and m.get("id") != snap.metadata.get("id"):
                bad("metadata.id-changed", f"table id changes from {snap.metadata.get('id')!r} to {m.get('id')!r}")
            snap.metadata, snap.schema = m, schema
        if contract is not None:
            for p in by_kind["protocol"][:1]:
                got = (p.get("minReaderVersion"), p.get("minWriterVersion"))
                if got != tuple(contract.protocol) or p.get("readerFeatures") or p.get("writerFeatures"):
                    bad("orderlake.protocol", f"protocol {p}: orderlake writes reader/writer versions "
                                              f"{tuple(contract.protocol)} without table features")
            for m in by_kind["metaData"][:1]:
                cols = [(n, t) for n, t in snap.columns]
                if cols != contract.columns:
                    bad("orderlake.schema", f"schema columns {cols} are not SPEC §3's {contract.columns}")
                if m.get("partitionColumns") != contract.partition_columns:
                    bad("orderlake.schema", f"partitionColumns {m.get('partitionColumns')} are not "
                                            f"{contract.partition_columns}")
        if v == 0:
            if not by_kind["protocol"]:
                bad("state.no-protocol", "version 0 has no protocol action")
            if not by_kind["metaData"]:
                bad("state.no-metadata", "version 0 has no metaData action")
        has_files = any(by_kind[k] for k in FILE_ACTIONS)
        if has_files and snap.protocol is None:
            bad("state.no-protocol", "file actions before any protocol action")
        if has_files and snap.metadata is None:
            bad("state.no-metadata", "file actions before any metaData action")
        if snap.protocol is not None:
            self._check_features_used(snap, by_kind, bad)

        types = dict(snap.columns)
        pcols = snap.partition_columns
        config = (snap.metadata or {}).get("configuration")
        config = config if isinstance(config, dict) else {}

        # file actions: at most one of each type per path in a commit, none with the same key in both
        keys = {}
        for kind in FILE_ACTIONS:
            seen = Counter()
            for a in by_kind[kind]:
                rel, problem = decode_path(a.get("path"))
                if problem:
                    bad("action.path", f"{kind}: {problem}")
                seen[rel or _hashable(a.get("path"))] += 1
            for p, n in seen.items():
                if n > 1:
                    bad("action.duplicate-path", f"{n} {kind} actions for path {p!r} in one commit")
            keys[kind] = {_file_key(a) for a in by_kind[kind]}
        for k in keys["add"] & keys["remove"]:
            bad("action.duplicate-path", f"add and remove of the same file {k[0]!r} in one commit")

        removed_rows = Counter()   # partition -> rows of dataChange=false removes
        added_rows = Counter()     # partition -> rows of new dataChange=false adds
        compaction_removed, compaction_added = [], []

        # removes: only of files that are in the table before this commit
        for r in by_kind["remove"]:
            self._check_required(r, "remove", {"path": str, "dataChange": bool}, bad)
            if "deletionTimestamp" in r and r["deletionTimestamp"] is not None and not _is_int(r["deletionTimestamp"]):
                bad("action.field", f"remove {r.get('path')!r}: deletionTimestamp is not a long")
            key = _file_key(r)
            live = snap.files.get(key)
            if live is None:
                was = "was already removed" if key in snap.tombstones else "was never added"
                bad("state.remove-unknown", f"remove of {r.get('path')!r}, which {was}")
            else:
                if live.path != r.get("path"):
                    bad("action.path-encoding", f"remove path {r.get('path')!r} is written differently from "
                                                f"its add {live.path!r}")
                if "partitionValues" in r and r["partitionValues"] != live.partition_values:
                    bad("action.remove-mismatch", f"remove {r.get('path')!r}: partitionValues {r['partitionValues']}"
                                                  f" differ from the add's {live.partition_values}")
                if "size" in r and r["size"] != live.size:
                    bad("action.remove-mismatch", f"remove {r.get('path')!r}: size {r['size']} differs from the "
                                                  f"add's {live.size}")
                if r.get("extendedFileMetadata") is True and not ("partitionValues" in r and "size" in r):
                    bad("action.field", f"remove {r.get('path')!r}: extendedFileMetadata without partitionValues "
                                        f"and size")
                if r.get("dataChange") is False:
                    removed_rows[_pkey(live.partition_values, pcols)] += live.num_records or 0
                    compaction_removed.append(live)
            if r.get("dataChange") is True and str(config.get("delta.appendOnly", "")).lower() == "true":
                bad("state.append-only", f"remove {r.get('path')!r} changes data of an append-only table")
            if contract is not None:
                if r.get("dataChange") is False and not _is_int(r.get("deletionTimestamp")):
                    bad("orderlake.remove", f"compaction remove {r.get('path')!r} has no deletionTimestamp")

        # adds
        new_entries = []
        live_by_path = defaultdict(set)
        for k in snap.files:
            live_by_path[k[0]].add(k)
        for a in by_kind["add"]:
            self._check_required(a, "add", {"path": str, "partitionValues": dict, "size": int,
                                            "modificationTime": int, "dataChange": bool}, bad)
            rel, _ = decode_path(a.get("path"))
            entry = FileEntry(a, rel, v)
            key = _file_key(a)
            self._check_add(entry, types, pcols, contract, bad)
            for other_key in live_by_path.get(key[0], ()):
                if other_key != key and other_key not in keys["remove"]:
                    bad("state.duplicate-path", f"add of {a.get('path')!r} with another deletion vector while "
                                                f"the file is in the table and not removed in this commit")
            already = snap.files.get(key)
            if already is not None and already.path != a.get("path"):
                bad("action.path-encoding", f"add path {a.get('path')!r} is written differently from the earlier "
                                            f"{already.path!r}")
            if a.get("dataChange") is False and already is None:
                added_rows[_pkey(entry.partition_values, pcols)] += entry.num_records or 0
                compaction_added.append(entry)
            if contract is not None and key in snap.tombstones:
                bad("orderlake.reused-path", f"{a.get('path')!r} is added again after its removal in version "
                                             f"{snap.tombstones[key][1]} (data files are never reused)")
            new_entries.append((key, entry))

        # dataChange=false: the records of new files must be in removes of the same commit and back
        if compaction_removed or compaction_added:
            for part in set(removed_rows) | set(added_rows):
                if removed_rows[part] != added_rows[part]:
                    bad("state.data-change", f"dataChange=false in partition {dict(part)}: removes hold "
                                             f"{removed_rows[part]} rows, adds hold {added_rows[part]}")
            self._compare_rows(compaction_removed, compaction_added, snap, v, out)

        # reconcile
        for kind, body in actions:
            if kind == "remove":
                key = _file_key(body)
                snap.files.pop(key, None)
                snap.tombstones[key] = (body, v)
        for key, entry in new_entries:
            snap.files[key] = entry
            snap.tombstones.pop(key, None)
            ever_added.setdefault(key, []).append(entry)

        # txn
        for t in by_kind["txn"]:
            if not isinstance(t.get("appId"), str) or not _is_int(t.get("version")):
                bad("action.field", f"txn {t}: appId must be a string and version a long")
                continue
            prev = snap.txns.get(t["appId"])
            if contract is not None and prev is not None and t["version"] <= prev:
                bad("orderlake.txn-order", f"txn version of {t['appId']!r} goes from {prev} to {t['version']} "
                                           f"(exactly-once batches only move forward)")
            snap.txns[t["appId"]] = t["version"]

        snap.commit_info = by_kind["commitInfo"][0] if by_kind["commitInfo"] else None
        snap.version = v

        if contract is not None:
            data_adds = [a for a in by_kind["add"] if a.get("dataChange") is True]
            if data_adds and not any(t.get("appId") == contract.app_id for t in by_kind["txn"]):
                bad("orderlake.txn-missing", f"{len(data_adds)} data adds without a txn for {contract.app_id!r}")
            if has_files and not by_kind["commitInfo"]:
                bad("orderlake.commit-info", "a commit with file actions has no commitInfo")
            for r in by_kind["remove"]:
                if r.get("dataChange") is not False:
                    bad("orderlake.remove", f"remove {r.get('path')!r} has dataChange "
                                            f"{r.get('dataChange')!r}: orderlake only removes to compact")

    # -- per-action checks

    @staticmethod
    def _check_required(a, kind, fields, bad):
        for name, t in fields.items():
            val = a.get(name)
            ok = _is_int(val) if t is int else isinstance(val, t)
            if not ok:
                bad("action.field", f"{kind} {a.get('path')!r}: required field {name} is "
                                    f"{'missing' if name not in a else repr(val)}, not a {t.__name__}")

    @staticmethod
    def _check_protocol(p, bad):
        r, w = p.get("minReaderVersion"), p.get("minWriterVersion")
        if not _is_int(r) or not 1 <= r <= 3:
            bad("protocol.version", f"minReaderVersion {r!r} is not 1, 2 or 3")
        if not _is_int(w) or not 1 <= w <= 7:
            bad("protocol.version", f"minWriterVersion {w!r} is not 1..7")
        rf, wf = p.get("readerFeatures"), p.get("writerFeatures")
        if r == 3 and not isinstance(rf, list):
            bad("protocol.features", "reader version 3 requires a readerFeatures list")
        if r != 3 and rf is not None:
            bad("protocol.features", f"readerFeatures exist only with reader version 3 (version is {r})")
        if w == 7 and not isinstance(wf, list):
            bad("protocol.features", "writer version 7 requires a writerFeatures list")
        if w != 7 and wf is not None:
            bad("protocol.features", f"writerFeatures exist only with writer version 7 (version is {w})")
        if r == 3 and w != 7:
            bad("protocol.features", f"reader version 3 requires writer version 7, not {w}")
        for f in rf or []:
            if f not in READER_WRITER_FEATURES:
                bad("protocol.features", f"{f!r} is not a reader feature")
            if f not in (wf or []):
                bad("protocol.features", f"reader feature {f!r} is not also listed in writerFeatures")
        for f in wf or []:
            if f not in WRITER_FEATURES:
                bad("protocol.features", f"{f!r} is not a known table feature")

    @staticmethod
    def _check_features_used(snap, by_kind, bad):
        w = snap.protocol.get("minWriterVersion")
        wf = snap.protocol.get("writerFeatures") or []
        rf = snap.protocol.get("readerFeatures") or []
        if by_kind["domainMetadata"] and not (w == 7 and "domainMetadata" in wf):
            bad("protocol.features", "domainMetadata actions without the domainMetadata writer feature")
        for kind in FILE_ACTIONS:
            for a in by_kind[kind]:
                if a.get("deletionVector") is not None and "deletionVectors" not in rf:
                    bad("protocol.features", f"{kind} {a.get('path')!r} has a deletion vector without the "
                                             f"deletionVectors feature")

    @staticmethod
    def _check_metadata(m, bad):
        for name, t in (("id", str), ("format", dict), ("schemaString", str), ("partitionColumns", list),
                        ("configuration", dict)):
            if not isinstance(m.get(name), t):
                bad("metadata.field", f"required field {name} is {'missing' if name not in m else repr(m[name])}, "
                                      f"not a {t.__name__}")
        if isinstance(m.get("id"), str):
            try:
                uuid.UUID(m["id"])
            except ValueError:
                bad("metadata.field", f"id {m['id']!r} is not a GUID")
        fmt = m.get("format")
        if isinstance(fmt, dict) and fmt.get("provider") != "parquet":
            bad("metadata.format", f"format provider {fmt.get('provider')!r}: tables are written as parquet")
        if isinstance(fmt, dict) and "options" in fmt and not isinstance(fmt["options"], dict):
            bad("metadata.format", "format options is not a map")
        for k, val in (m.get("configuration") if isinstance(m.get("configuration"), dict) else {}).items():
            if not isinstance(val, str):
                bad("metadata.field", f"configuration {k!r} is {val!r}, not a string")
        if "createdTime" in m and m["createdTime"] is not None and not _is_int(m["createdTime"]):
            bad("metadata.field", f"createdTime {m['createdTime']!r} is not a long")
        schema = None
        if isinstance(m.get("schemaString"), str):
            try:
                schema = json.loads(m["schemaString"])
            except ValueError as e:
                bad("metadata.schema", f"schemaString is not JSON: {e}")
        if schema is not None:
            problems = []
            check_struct(schema, "schema", problems)
            for p in problems:
                bad("metadata.schema", p)
            if problems:
                schema = schema if isinstance(schema, dict) and isinstance(schema.get("fields"), list) else None
        top = {}
        if schema is not None:
            top = {f.get("name"): f.get("type") for f in schema["fields"] if isinstance(f, dict)}
        pcs = m.get("partitionColumns")
        if isinstance(pcs, list):
            if len(set(map(str, pcs))) != len(pcs):
                bad("metadata.partition-columns", f"partitionColumns {pcs} repeat a column")
            for c in pcs:
                if c not in top:
                    bad("metadata.partition-columns", f"partition column {c!r} is not a column of the schema")
                elif not isinstance(top[c], str):
                    bad("metadata.partition-columns", f"partition column {c!r} has a nested type")
            if top and len(pcs) >= len(top):
                bad("metadata.partition-columns", "every column is a partition column: no data columns are left")
        return schema

    @staticmethod
    def _check_add(e, types, pcols, contract, bad):
        a, p = e.action, e.path
        pv = a.get("partitionValues")
        if isinstance(pv, dict):
            if set(pv) != set(pcols):
                bad("action.partition-values", f"add {p!r}: partitionValues keys {sorted(pv)} are not the partition "
                                               f"columns {sorted(pcols)}")
            for c, val in pv.items():
                problem = partition_value_problem(val, types.get(c))
                if problem:
                    bad("action.partition-values", f"add {p!r}: {c}={problem}")
        if _is_int(a.get("size")) and a["size"] < 0:
            bad("action.field", f"add {p!r}: negative size")
        if "stats" in a and a["stats"] is not None:
            if not isinstance(a["stats"], str):
                bad("action.stats", f"add {p!r}: stats is a {type(a['stats']).__name__}, not a JSON string")
            elif not isinstance(e.stats, dict):
                bad("action.stats", f"add {p!r}: stats {a['stats'][:80]!r} is not a JSON object")
            else:
                _check_stats_shape(e, types, bad)
        elif contract is not None:
            bad("orderlake.stats", f"add {p!r} has no stats")
        if contract is not None and isinstance(e.stats, dict):
            for k in ("numRecords", "minValues", "maxValues", "nullCount"):
                if k not in e.stats:
                    bad("orderlake.stats", f"add {p!r}: stats without {k}")
        # the directory names of a Hive layout must say the same values as partitionValues
        if e.rel_path and isinstance(pv, dict):
            dirs = e.rel_path.split("/")[:-1]
            for d in dirs:
                k, sep, val = d.partition("=")
                if sep and k in pv and (pv[k] is None or isinstance(pv[k], str)) and val != hive_escape(pv[k]):
                    bad("action.partition-dir", f"add {p!r}: directory {d!r} says {k}={_hive_unescape(val)!r}, "
                                                f"partitionValues say {pv[k]!r} (Hive-escaped {hive_escape(pv[k])!r})")
            if contract is not None:
                want = [f"{c}={hive_escape(str(pv[c]) if pv.get(c) is not None else None)}"
                        for c in contract.partition_columns]
                if dirs != want:
                    bad("orderlake.layout", f"add {p!r}: directories {dirs}, SPEC §3 layout is {want}")

    # -- files on disk

    def _check_files(self, snap, contract, out, ever_added):
        def bad(rule, msg, version=None):
            out.append(Violation(rule, version, msg))

        rels = Counter(k[0] for k in snap.files)
        for rel, n in rels.items():
            if n > 1:
                bad("state.duplicate-path", f"{rel!r} is in the snapshot {n} times")
        # every file an add named and that is still on disk must still be that file (data files are
        # never overwritten) and hold what the add says; a file of the snapshot must be on disk
        types = dict(snap.columns)
        pcols = set(snap.partition_columns)
        parsed, decoded = {}, {}
        checks = []
        for key, entries in sorted(ever_added.items(), key=lambda kv: str(kv[0])):
            if not isinstance(key[0], str) or entries[-1].rel_path is None:
                continue
            full = os.path.join(self.root, key[0])
            if not os.path.isfile(full):
                if key in snap.files:
                    e = snap.files[key]
                    bad("data.missing", f"{e.path!r} is in the snapshot but {full} does not exist", e.version)
                continue
            actual = os.path.getsize(full)
            for e in entries:
                if _is_int(e.size) and e.size != actual:
                    bad("data.size", f"{e.path!r}: the add says {e.size} bytes, the file has {actual}", e.version)
                checks.append((e, full))
        for e, full in checks:
            if full not in parsed:
                try:
                    parsed[full] = ParquetFile(full)
                except (ParquetError, OSError) as x:
                    parsed[full] = None
                    bad("data.parquet", f"{e.path!r} is not a readable Parquet file: {x}", e.version)
            pq = parsed[full]
            if pq is None:
                continue
            if pq.row_group_rows != pq.num_rows:
                bad("data.parquet", f"{e.path!r}: row groups hold {pq.row_group_rows} rows, the footer says "
                                    f"{pq.num_rows}", e.version)
            if e.num_records is not None and e.num_records != pq.num_rows:
                bad("data.num-records", f"{e.path!r}: stats say numRecords {e.num_records}, the Parquet footer "
                                        f"says {pq.num_rows} rows", e.version)
            for c in pq.columns + [ParquetColumn(n, None, None, None, None, None) for n in pq.nested]:
                if c.name not in types:
                    bad("data.column", f"{e.path!r}: column {c.name!r} of the data file is not in the table schema",
                        e.version)
                elif c.physical_type and isinstance(types[c.name], str) and types[c.name] in PARQUET_TYPE_FOR:
                    want = PARQUET_TYPE_FOR[types[c.name]]
                    ok = c.physical_type in want
                    if types[c.name] == "string" and not _is_string(c):
                        ok = False
                    if types[c.name] == "date" and not _is_date(c):
                        ok = False
                    if not ok:
                        bad("data.column-type", f"{e.path!r}: column {c.name!r} is Parquet {c.physical_type} "
                                                f"(converted type {c.converted_type}), the schema says "
                                                f"{types[c.name]}", e.version)
            if contract is not None:
                want = [n for n, _ in contract.columns if n not in contract.partition_columns]
                got = [c.name for c in pq.columns]
                if got != want:
                    bad("orderlake.file-columns", f"{e.path!r}: columns {got}, SPEC §3 says {want} "
                                                  f"(partition columns live in the path only)", e.version)
            if not isinstance(e.stats, dict):
                continue
            if full not in decoded:
                try:
                    decoded[full] = pq.read_columns()
                except UnsupportedParquet as x:
                    decoded[full] = None
                    snap.notes.append(f"{e.path}: values not checked against the stats ({x})")
                except (ParquetError, struct.error, IndexError, zlib.error) as x:
                    decoded[full] = None
                    bad("data.parquet", f"{e.path!r}: pages do not decode: {x}", e.version)
            values = decoded[full]
            if values is None:
                continue
            for name, vals in values.items():
                if name in pcols:
                    continue
                _check_stats_values(e, name, types.get(name), vals, lambda m: bad("data.stats", m, e.version))

    def _check_crc(self, snap, v, out):
        path = os.path.join(self.log_dir, f"{v:020d}.crc")
        if not os.path.exists(path):
            return
        try:
            with open(path) as f:
                crc = json.load(f)
        except ValueError as x:
            out.append(Violation("crc.json", v, f"{os.path.basename(path)} is not JSON: {x}"))
            return
        want = {"numFiles": len(snap.files), "tableSizeBytes": sum(f.size or 0 for f in snap.files.values()),
                "numMetadata": 1, "numProtocol": 1}
        for k, val in want.items():
            if crc.get(k) != val:
                out.append(Violation("crc.mismatch", v, f"checksum file says {k}={crc.get(k)!r}, the log gives {val}"))
        if isinstance(crc.get("setTransactions"), list):
            got = {t.get("appId"): t.get("version") for t in crc["setTransactions"] if isinstance(t, dict)}
            if got != snap.txns:
                out.append(Violation("crc.mismatch", v, f"checksum setTransactions {got} != {snap.txns}"))

    def _compare_rows(self, removed, added, snap, v, out):
        """dataChange=false rearranges rows: the multiset of rows of the removed files equals that of the
        added ones, per partition, when the removed files are still on disk (within retention)."""
        def rows(entries):
            got = Counter()
            for e in entries:
                full = os.path.join(self.root, e.rel_path or "")
                if not e.rel_path or not os.path.isfile(full):
                    return None
                try:
                    pq = ParquetFile(full)
                    cols = pq.read_columns()
                except (ParquetError, UnsupportedParquet, OSError, struct.error, IndexError, zlib.error):
                    return None
                part = tuple(sorted((str(k), _hashable(v)) for k, v in e.partition_values.items()))
                names = sorted(cols)
                for row in zip(*(cols[n] for n in names)):
                    got[(part, tuple(names), tuple(_canon(x) for x in row))] += 1
            return got
        r, a = rows(removed), rows(added)
        if r is None or a is None:
            snap.notes.append(f"version {v}: rows of the dataChange=false files not compared (a file is gone "
                              f"or does not decode)")
            return
        if r != a:
            only_r, only_a = r - a, a - r
            out.append(Violation("state.data-change", v,
                                 f"dataChange=false changes rows: {sum(only_r.values())} rows only in the removed "
                                 f"files, {sum(only_a.values())} only in the added ones "
                                 f"(e.g. {next(iter(only_r or only_a))[2][:4]}...)"))


def _canon(x):
    if isinstance(x, float) and math.isnan(x):
        return "NaN"
    return x


def _pkey(pv, pcols):
    pv = pv if isinstance(pv, dict) else {}
    return tuple((c, _hashable(pv.get(c))) for c in pcols)


def _hive_unescape(s):
    return re.sub(r"%([0-9A-Fa-f]{2})", lambda m: chr(int(m.group(1), 16)), s)


def _stat_value_problem(val, dtype):
    if val is None:
        return None
    if dtype in INT_RANGES:
        return None if _is_int(val) else f"{val!r} is not an integer"
    if dtype in ("double", "float") or (isinstance(dtype, str) and dtype.startswith("decimal")):
        ok = (isinstance(val, (int, float)) and not isinstance(val, bool)) or val in ("NaN", "Infinity", "-Infinity")
        return None if ok else f"{val!r} is not a number"
    if dtype in ("string", "date", "timestamp", "timestamp_ntz"):
        if not isinstance(val, str):
            return f"{val!r} is not a string"
        if dtype == "date" and partition_value_problem(val, "date"):
            return f"{val!r} is not a date YYYY-MM-DD"
        return None
    if isinstance(dtype, dict) and dtype.get("type") == "struct":
        return None if isinstance(val, dict) else f"{val!r} is not an object (struct column)"
    return None


def _check_stats_shape(e, types, bad):
    s, p = e.stats, e.path
    n = s.get("numRecords")
    if "numRecords" in s and (not _is_int(n) or n < 0):
        bad("action.stats", f"add {p!r}: numRecords {n!r} is not a non-negative long")
    if "tightBounds" in s and not isinstance(s["tightBounds"], bool):
        bad("action.stats", f"add {p!r}: tightBounds is not a boolean")
    for k in ("minValues", "maxValues", "nullCount"):
        if k not in s:
            continue
        if not isinstance(s[k], dict):
            bad("action.stats", f"add {p!r}: {k} is not an object")
            continue
        for col, val in s[k].items():
            if col not in types:
                bad("action.stats", f"add {p!r}: {k} names {col!r}, which is not a column of the schema")
                continue
            if k == "nullCount":
                if isinstance(types[col], dict):
                    continue
                if not _is_int(val) or val < 0 or (_is_int(n) and val > n):
                    bad("action.stats", f"add {p!r}: nullCount.{col}={val!r} is not a count within numRecords {n}")
            else:
                problem = _stat_value_problem(val, types[col])
                if problem:
                    bad("action.stats", f"add {p!r}: {k}.{col}: {problem} (column type {types[col]})")
    mins, maxs = s.get("minValues"), s.get("maxValues")
    if isinstance(mins, dict) and isinstance(maxs, dict):
        for col in set(mins) & set(maxs):
            lo, hi = mins[col], maxs[col]
            if type(lo) is type(hi) and isinstance(lo, (int, float, str)) and not isinstance(lo, bool):
                if lo > hi:
                    bad("action.stats", f"add {p!r}: minValues.{col}={lo!r} > maxValues.{col}={hi!r}")


def _check_stats_values(e, name, dtype, vals, bad):
    """The logged statistics against the decoded values of one column (tight bounds unless the stats
    say tightBounds=false; strings may be cut to a prefix)."""
    s = e.stats
    tight = s.get("tightBounds", True) is not False
    nulls = sum(1 for x in vals if x is None)
    nc = (s.get("nullCount") or {}).get(name) if isinstance(s.get("nullCount"), dict) else None
    if _is_int(nc) and tight and nc != nulls:
        bad(f"{e.path!r}: nullCount.{name}={nc}, the file has {nulls} nulls")
    present = [x for x in vals if x is not None and not (isinstance(x, float) and math.isnan(x))]
    if not present:
        return
    if dtype == "date" and all(_is_int(x) for x in present):
        present = [(datetime.date(1970, 1, 1) + datetime.timedelta(days=x)).isoformat() for x in present]
    lo, hi = min(present), max(present)
    smin = (s.get("minValues") or {}).get(name) if isinstance(s.get("minValues"), dict) else None
    smax = (s.get("maxValues") or {}).get(name) if isinstance(s.get("maxValues"), dict) else None
    if isinstance(lo, str):
        if isinstance(smin, str) and not (smin <= lo and (not tight or lo.startswith(smin))):
            bad(f"{e.path!r}: minValues.{name}={smin!r}, the smallest value is {lo!r}")
        if isinstance(smax, str) and not smax >= hi:
            bad(f"{e.path!r}: maxValues.{name}={smax!r} is below the largest value {hi!r}")
        return
    if isinstance(lo, (int, float)) and not isinstance(lo, bool):
        if isinstance(smin, (int, float)) and not isinstance(smin, bool):
            if (tight and smin != lo) or smin > lo:
                bad(f"{e.path!r}: minValues.{name}={smin!r}, the smallest value is {lo!r}")
        if isinstance(smax, (int, float)) and not isinstance(smax, bool):
            if (tight and smax != hi) or smax < hi:
                bad(f"{e.path!r}: maxValues.{name}={smax!r}, the largest value is {hi!r}")


# ---- module-level entry points --------------------------------------------------------------

def validate(table_root, contract=ORDERLAKE):
    """(latest Snapshot, [Violation]) for the table at table_root."""
    return DeltaTable(table_root).validate(contract)


def snapshot_at(table_root, version=None):
    """The Snapshot at a version (time travel), without the checks."""
    return DeltaTable(table_root).snapshot_at(version)


def data_files_on_disk(table_root):
    """Relative paths of the Parquet files under the table root, outside hidden directories."""
    root = os.path.abspath(table_root)
    out = []
    for d, dirs, files in os.walk(root):
        dirs[:] = [x for x in dirs if not x.startswith(("_", "."))]
        for f in files:
            if f.endswith(".parquet"):
                out.append(os.path.relpath(os.path.join(d, f), root).replace(os.sep, "/"))
    return sorted(out)
