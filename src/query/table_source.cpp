#include "query/table_source.h"

#include <fmt/format.h>
#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <system_error>

#include "core/hive.h"
#include "core/sql.h"

namespace orderlake::query {
namespace fs = std::filesystem;
using catalog::Column;

namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// ---- types ----------------------------------------------------------------------------

// A small reader of normalized Athena type text ("map<string,array<int>>").
class TypeReader {
 public:
  explicit TypeReader(std::string_view s) : s_(s) {}
  Result<std::string> Read() {
    auto t = Type();
    if (!t.ok()) return t;
    Skip();
    if (i_ != s_.size()) return Bad();
    return t;
  }

 private:
  void Skip() {
    while (i_ < s_.size() && s_[i_] == ' ') ++i_;
  }
  bool Accept(char c) {
    Skip();
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  std::string Word() {
    Skip();
    size_t b = i_;
    while (i_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[i_])) || s_[i_] == '_' ||
                              static_cast<unsigned char>(s_[i_]) >= 0x80))
      ++i_;
    return std::string(s_.substr(b, i_ - b));
  }
  Status Bad() const { return Status::Errorf("unknown type '{}'", s_); }
  Result<std::string> Type() {
    const std::string w = Lower(Word());
    if (w == "boolean") return std::string("BOOLEAN");
    if (w == "tinyint") return std::string("TINYINT");
    if (w == "smallint") return std::string("SMALLINT");
    if (w == "int" || w == "integer") return std::string("INTEGER");
    if (w == "bigint") return std::string("BIGINT");
    if (w == "float" || w == "real") return std::string("FLOAT");
    if (w == "double") return std::string("DOUBLE");
    if (w == "string" || w == "varchar" || w == "char") {
      if (Accept('(')) {
        Word();
        if (!Accept(')')) return Bad();
      }
      return std::string("VARCHAR");
    }
    if (w == "date") return std::string("DATE");
    if (w == "timestamp") return std::string("TIMESTAMP");
    if (w == "binary") return std::string("BLOB");
    if (w == "decimal") {
      if (!Accept('(')) return std::string("DECIMAL(10,0)");
      std::string p = Word(), sc = "0";
      if (Accept(',')) sc = Word();
      if (!Accept(')')) return Bad();
      return fmt::format("DECIMAL({},{})", p, sc);
    }
    if (w == "array") {
      if (!Accept('<')) return Bad();
      auto e = Type();
      if (!e.ok()) return e;
      if (!Accept('>')) return Bad();
      return *e + "[]";
    }
    if (w == "map") {
      if (!Accept('<')) return Bad();
      auto k = Type();
      if (!k.ok()) return k;
      if (!Accept(',')) return Bad();
      auto v = Type();
      if (!v.ok()) return v;
      if (!Accept('>')) return Bad();
      return fmt::format("MAP({}, {})", *k, *v);
    }
    if (w == "struct") {
      if (!Accept('<')) return Bad();
      std::string out = "STRUCT(";
      for (bool first = true;; first = false) {
        std::string name = Word();
        if (name.empty() || !Accept(':')) return Bad();
        auto t = Type();
        if (!t.ok()) return t;
        out += (first ? "" : ", ") + sql::ident(name) + " " + *t;
        if (Accept(',')) continue;
        if (!Accept('>')) return Bad();
        return out + ")";
      }
    }
    return Bad();
  }
  std::string_view s_;
  size_t i_ = 0;
};

bool IsComplex(std::string_view duck) { return duck.ends_with("]") || duck.starts_with("MAP(") || duck.starts_with("STRUCT("); }

// ---- files ----------------------------------------------------------------------------

struct DataFile {
  fs::path path;
  FileKinds::Info* info;
};

bool Hidden(const std::string& name) { return name.empty() || name[0] == '.' || name[0] == '_'; }

// Every visible, non-empty file under dir (recursively), sorted.
Result<std::vector<DataFile>> ListFiles(const fs::path& dir, FileKinds& kinds) {
  std::vector<DataFile> out;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;  // a location with nothing yet
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (Hidden(name)) {
      if (it->is_directory(ec)) it.disable_recursion_pending();
      continue;
    }
    if (!it->is_regular_file(ec)) continue;
    const uint64_t size = it->file_size(ec);
    if (ec || size == 0) {
      ec.clear();
      continue;
    }
    const auto mtime = it->last_write_time(ec).time_since_epoch().count();
    auto info = kinds.Get(it->path(), size, static_cast<int64_t>(mtime));
    if (!info.ok()) return info.status();
    out.push_back({it->path(), info.value()});
  }
  if (ec) return Status::Errorf("cannot list {}: {}", dir.string(), ec.message());
  std::sort(out.begin(), out.end(), [](const DataFile& a, const DataFile& b) { return a.path < b.path; });
  return out;
}

std::string KindName(FileKinds::Kind k) {
  switch (k) {
    case FileKinds::Kind::kParquet: return "Parquet";
    case FileKinds::Kind::kJson: return "JSON lines";
    default: return "CSV text";
  }
}

// The first bytes of a gzip stream, inflated.
std::string Inflate(std::string_view data, size_t max_out) {
  z_stream zs{};
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) return {};
  std::string out(max_out, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  inflate(&zs, Z_SYNC_FLUSH);
  out.resize(out.size() - zs.avail_out);
  inflateEnd(&zs);
  return out;
}

// The file's format by its first bytes.
Result<FileKinds::Info> Sniff(const fs::path& file) {
  FileKinds::Info info;
  std::FILE* f = std::fopen(file.c_str(), "rb");
  if (!f) return Status::Errorf("cannot read {}", file.string());
  std::string head(4096, '\0');
  head.resize(std::fread(head.data(), 1, head.size(), f));
  std::fclose(f);
  if (head.starts_with("PAR1")) {
    info.kind = FileKinds::Kind::kParquet;
    return info;
  }
  if (head.size() >= 2 && static_cast<unsigned char>(head[0]) == 0x1f && static_cast<unsigned char>(head[1]) == 0x8b) {
    info.gzip = true;
    head = Inflate(head, 1024);
  }
  // JSON lines: the first line is an object.
  std::string_view text = head;
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
  size_t b = text.find_first_not_of(" \t\r\n");
  if (b != std::string_view::npos && text[b] == '{') {
    size_t eol = text.find('\n', b);
    std::string_view line = text.substr(b, eol == std::string_view::npos ? std::string_view::npos : eol - b);
    size_t e = line.find_last_not_of(" \t\r");
    if (eol == std::string_view::npos || (e != std::string_view::npos && line[e] == '}')) info.kind = FileKinds::Kind::kJson;
  }
  return info;
}

// The table's files must all have its format.
Status CheckFormat(const SourceSpec& spec, const std::vector<DataFile>& files) {
  const FileKinds::Kind want = spec.format == "parquet" ? FileKinds::Kind::kParquet
                               : spec.format == "json"  ? FileKinds::Kind::kJson
                                                        : FileKinds::Kind::kCsv;
  for (const auto& f : files)
    if (f.info->kind != want) {
      std::string rel = f.path.lexically_relative(spec.root).generic_string();
      if (rel.empty() || rel.starts_with("..")) rel = f.path.string();
      return Status::Errorf("table {}: mixed formats under {}: the table is {} but {} is {}{}; a table's files must "
                            "all have its format",
                            spec.table, spec.location, KindName(want), rel, KindName(f.info->kind),
                            f.info->gzip ? " (gzip)" : "");
    }
  return Status::OK();
}

std::string FileList(const std::vector<DataFile>& files) {
  std::string out = "[";
  for (size_t i = 0; i < files.size(); ++i) out += (i ? ", " : "") + sql::literal(files[i].path.string());
  return out + "]";
}

// A SELECT list entry for each partition key.
struct KeyExprs {
  std::vector<std::string> exprs;  // "<expr> AS \"Key\""
  std::string hive_types;          // for read_*: "{'Key': DATE, ...}", empty when none
};

// Keys read from the path by DuckDB (string keys VARCHAR with Hive's NULL directory as NULL).
Result<KeyExprs> HiveKeys(const SourceSpec& spec) {
  KeyExprs k;
  std::vector<std::string> types;
  for (const auto& key : spec.partition_keys) {
    auto duck = DuckDbType(key.type);
    if (!duck.ok()) return Status::Errorf("table {}: partition key {}: {}", spec.table, key.name, duck.status().message());
    if (*duck == "VARCHAR") {
      k.exprs.push_back(fmt::format("NULLIF({}, {}) AS {}", sql::ident(key.name), sql::literal(hive::kDefaultPartition), sql::ident(key.name)));
    } else {
      k.exprs.push_back(fmt::format("{} AS {}", sql::ident(key.name), sql::ident(key.name)));
    }
    types.push_back(fmt::format("{}: {}", sql::literal(key.name), *duck));
  }
  k.hive_types = fmt::format("{{{}}}", fmt::join(types, ", "));
  return k;
}

// Keys as constants: one partition's values.
Result<KeyExprs> ConstantKeys(const SourceSpec& spec, const std::vector<std::string>& values) {
  KeyExprs k;
  for (size_t i = 0; i < spec.partition_keys.size(); ++i) {
    const auto& key = spec.partition_keys[i];
    auto duck = DuckDbType(key.type);
    if (!duck.ok()) return Status::Errorf("table {}: partition key {}: {}", spec.table, key.name, duck.status().message());
    const std::string& v = i < values.size() ? values[i] : std::string(hive::kDefaultPartition);
    if (v == hive::kDefaultPartition)
      k.exprs.push_back(fmt::format("CAST(NULL AS {}) AS {}", *duck, sql::ident(key.name)));
    else
      k.exprs.push_back(fmt::format("TRY_CAST({} AS {}) AS {}", sql::literal(v), *duck, sql::ident(key.name)));
  }
  return k;
}

// One SELECT over a set of files of the table's format, with the key expressions given.
Result<std::string> ReadFiles(const SourceSpec& spec, const std::vector<DataFile>& files, const KeyExprs& keys,
                              bool hive, const ParquetColumnsFn& parquet_columns) {
  std::vector<std::string> select;
  std::vector<std::string> duck_types;
  for (const auto& c : spec.columns) {
    auto d = DuckDbType(c.type);
    if (!d.ok()) return Status::Errorf("table {}: column {}: {}", spec.table, c.name, d.status().message());
    duck_types.push_back(*d);
  }
  const std::string hive_opts =
      hive ? fmt::format("hive_partitioning = true, hive_types = {}", keys.hive_types) : "hive_partitioning = false";
  std::vector<std::string> parts;
  if (spec.format == "parquet") {
    // Columns the first file has, matched without regard to case.
    DataFile first = files.front();
    if (!first.info->parquet_columns) {
      auto cols = parquet_columns(first.path);
      if (!cols.ok()) return Status::Errorf("table {}: {}", spec.table, cols.status().message());
      first.info->parquet_columns = *cols;
    }
    for (size_t i = 0; i < spec.columns.size(); ++i) {
      const auto& have = *first.info->parquet_columns;
      auto it = std::find_if(have.begin(), have.end(), [&](const std::string& n) { return Lower(n) == Lower(spec.columns[i].name); });
      if (it == have.end())
        select.push_back(fmt::format("CAST(NULL AS {}) AS {}", duck_types[i], sql::ident(spec.columns[i].name)));
      else
        select.push_back(fmt::format("CAST({} AS {}) AS {}", sql::ident(*it), duck_types[i], sql::ident(spec.columns[i].name)));
    }
    for (const auto& e : keys.exprs) select.push_back(e);
    return fmt::format("SELECT {} FROM read_parquet({}, {}, binary_as_string = true)", fmt::join(select, ", "),
                       FileList(files), hive_opts);
  }
  // Text: one reader per compression (detected per file, whatever its name).
  std::vector<DataFile> plain, gz;
  for (const auto& f : files) (f.info->gzip ? gz : plain).push_back(f);
  for (const auto* group : {&plain, &gz}) {
    if (group->empty()) continue;
    const std::string compression = group == &gz ? "gzip" : "none";
    std::vector<std::string> sel;
    if (spec.format == "csv") {
      std::vector<std::string> cols;
      for (size_t i = 0; i < spec.columns.size(); ++i) {
        cols.push_back(fmt::format("{}: 'VARCHAR'", sql::literal(fmt::format("c{}", i))));
        std::string field = sql::ident(fmt::format("c{}", i));
        sel.push_back(duck_types[i] == "VARCHAR"
                          ? fmt::format("{} AS {}", field, sql::ident(spec.columns[i].name))
                          : fmt::format("TRY_CAST({} AS {}) AS {}", field, duck_types[i], sql::ident(spec.columns[i].name)));
      }
      for (const auto& e : keys.exprs) sel.push_back(e);
      parts.push_back(fmt::format(
          "SELECT {} FROM read_csv({}, header = {}, delim = {}, quote = '\"', escape = '\"', columns = {{{}}}, "
          "auto_detect = false, null_padding = true, strict_mode = false, nullstr = '\\N', compression = '{}', {})",
          fmt::join(sel, ", "), FileList(*group), spec.has_header ? "true" : "false", sql::literal(spec.delimiter),
          fmt::join(cols, ", "), compression, hive_opts));
    } else {
      // JSON: keys matched without regard to case through a map of the lower-cased keys.
      for (size_t i = 0; i < spec.columns.size(); ++i) {
        std::string v = fmt::format("m[{}]", sql::literal(Lower(spec.columns[i].name)));
        std::string expr = IsComplex(duck_types[i]) ? fmt::format("TRY_CAST({} AS {})", v, duck_types[i])
                           : duck_types[i] == "VARCHAR" ? fmt::format("({} ->> '$')", v)
                                                        : fmt::format("TRY_CAST({} ->> '$' AS {})", v, duck_types[i]);
        sel.push_back(fmt::format("{} AS {}", expr, sql::ident(spec.columns[i].name)));
      }
      for (const auto& e : keys.exprs) sel.push_back(e);
      std::vector<std::string> pass = {
          "map_from_entries(list_transform(map_entries(json_transform(json, '\"MAP(VARCHAR, JSON)\"')), "
          "e -> {k: lower(e.key), v: e.value})) AS m"};
      if (hive)
        for (const auto& key : spec.partition_keys) pass.push_back(sql::ident(key.name));
      parts.push_back(fmt::format("SELECT {} FROM (SELECT {} FROM read_ndjson_objects({}, compression = '{}', {}))",
                                  fmt::join(sel, ", "), fmt::join(pass, ", "), FileList(*group),
                                  group == &gz ? "gzip" : "uncompressed",
                                  hive_opts));
    }
  }
  return fmt::format("{}", fmt::join(parts, " UNION ALL "));
}

// No rows, the table's columns.
Result<std::string> EmptySelect(const SourceSpec& spec) {
  std::vector<std::string> select;
  for (const auto* cols : {&spec.columns, &spec.partition_keys})
    for (const auto& c : *cols) {
      auto d = DuckDbType(c.type);
      if (!d.ok()) return Status::Errorf("table {}: column {}: {}", spec.table, c.name, d.status().message());
      select.push_back(fmt::format("CAST(NULL AS {}) AS {}", *d, sql::ident(c.name)));
    }
  return fmt::format("SELECT {} WHERE false", fmt::join(select, ", "));
}

// True when root/<k1>=*/…/<kn>=*/ holds a visible .parquet file.
bool HasLakeFiles(const fs::path& dir, const std::vector<Column>& keys, size_t depth) {
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (depth == keys.size()) {
      if (!Hidden(name) && name.ends_with(".parquet") && it->is_regular_file(ec)) return true;
    } else if (name.starts_with(keys[depth].name + "=") && it->is_directory(ec) &&
               HasLakeFiles(it->path(), keys, depth + 1)) {
      return true;
    }
    ec.clear();
  }
  return false;
}

// The lake's own table: every key=value/… directory, found by DuckDB at each statement;
// for a Delta table the files of its snapshot.
Result<std::string> LakeSource(const SourceSpec& spec) {
  if (spec.files ? spec.files->empty() : !HasLakeFiles(spec.root, spec.partition_keys, 0)) return EmptySelect(spec);
  std::vector<std::string> select;
  for (const auto& c : spec.columns) {
    auto d = DuckDbType(c.type);
    if (!d.ok()) return d.status();
    select.push_back(fmt::format("CAST({0} AS {1}) AS {0}", sql::ident(c.name), *d));
  }
  auto keys = HiveKeys(spec);
  if (!keys.ok()) return keys.status();
  for (const auto& e : keys->exprs) select.push_back(e);
  std::string source;
  if (spec.files) {
    for (const auto& f : *spec.files) source += (source.empty() ? "[" : ", ") + sql::literal(f.string());
    source += "]";
  } else {
    fs::path glob = spec.root;
    for (const auto& k : spec.partition_keys) glob /= k.name + "=*";
    glob /= "[!._]*.parquet";
    source = sql::literal(glob.string());
  }
  return fmt::format("SELECT {} FROM read_parquet({}, hive_partitioning = true, hive_types = {}, binary_as_string = true)",
                     fmt::join(select, ", "), source, keys->hive_types);
}

}  // namespace

Result<std::string> DuckDbType(std::string_view athena_type) { return TypeReader(athena_type).Read(); }

Result<FileKinds::Info*> FileKinds::Get(const fs::path& file, uint64_t size, int64_t mtime) {
  auto it = entries_.find(file.string());
  if (it != entries_.end() && it->second.size == size && it->second.mtime == mtime) return &it->second.info;
  auto info = Sniff(file);
  if (!info.ok()) return info.status();
  auto& e = entries_[file.string()];
  e = Entry{size, mtime, std::move(info).value()};
  return &e.info;
}

Result<std::string> TableSource(const SourceSpec& spec, FileKinds& kinds, const ParquetColumnsFn& parquet_columns) {
  if (spec.columns.empty()) return Status::Errorf("table {} has no columns", spec.table);
  if (spec.format != "parquet" && spec.format != "csv" && spec.format != "json")
    return Status::Errorf("table {}: unsupported format '{}' (orderlake reads parquet, csv and json)", spec.table, spec.format);
  if (!spec.partitions || spec.files) {
    if (spec.format != "parquet")
      return Status::Errorf("table {}: the lake's own tables and Delta tables are Parquet", spec.table);
    return LakeSource(spec);
  }
  std::vector<std::string> branches;
  if (spec.partition_keys.empty()) {
    auto files = ListFiles(spec.root, kinds);
    if (!files.ok()) return files.status();
    if (files->empty()) return EmptySelect(spec);
    ORDERLAKE_RETURN_IF_ERROR(CheckFormat(spec, *files));
    return ReadFiles(spec, *files, KeyExprs{}, false, parquet_columns);
  }
  // Registered partitions: those whose values DuckDB can read from the path in one reader,
  // each of the others in a reader of its own with its values as constants.
  std::vector<DataFile> hive_files;
  for (const auto& p : *spec.partitions) {
    auto files = ListFiles(p.dir, kinds);
    if (!files.ok()) return files.status();
    if (files->empty()) continue;
    ORDERLAKE_RETURN_IF_ERROR(CheckFormat(spec, *files));
    bool hive = p.hive_layout;
    for (size_t i = 0; i < spec.partition_keys.size() && hive; ++i)
      if (p.values[i] == hive::kDefaultPartition && spec.partition_keys[i].type != "string") hive = false;
    if (hive) {
      hive_files.insert(hive_files.end(), files->begin(), files->end());
      continue;
    }
    auto keys = ConstantKeys(spec, p.values);
    if (!keys.ok()) return keys.status();
    auto sql = ReadFiles(spec, *files, *keys, false, parquet_columns);
    if (!sql.ok()) return sql.status();
    branches.push_back(*sql);
  }
  if (!hive_files.empty()) {
    auto keys = HiveKeys(spec);
    if (!keys.ok()) return keys.status();
    auto sql = ReadFiles(spec, hive_files, *keys, true, parquet_columns);
    if (!sql.ok()) return sql.status();
    branches.insert(branches.begin(), *sql);
  }
  if (branches.empty()) return EmptySelect(spec);
  return fmt::format("{}", fmt::join(branches, " UNION ALL "));
}

}  // namespace orderlake::query
