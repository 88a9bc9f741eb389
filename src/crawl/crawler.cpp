#include "crawl/crawler.h"

#include <duckdb.h>
#include <fmt/format.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>

#include "core/csv.h"
#include "core/hive.h"

namespace orderlake::crawl {
namespace {
using catalog::Column;
using catalog::Partition;
using catalog::Table;
using nlohmann::json;

bool IsDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

// yyyy-MM-dd with a plausible month and day.
bool IsDate(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  if (!IsDigits(s.substr(0, 4)) || !IsDigits(s.substr(5, 2)) || !IsDigits(s.substr(8, 2))) return false;
  int m = (s[5] - '0') * 10 + (s[6] - '0');
  int d = (s[8] - '0') * 10 + (s[9] - '0');
  return m >= 1 && m <= 12 && d >= 1 && d <= 31;
}

// yyyy-MM-dd HH:mm:ss[.f…]
bool IsTimestamp(std::string_view s) {
  if (s.size() < 19 || !IsDate(s.substr(0, 10)) || s[10] != ' ') return false;
  std::string_view t = s.substr(11);
  if (t[2] != ':' || t[5] != ':' || !IsDigits(t.substr(0, 2)) || !IsDigits(t.substr(3, 2)) ||
      !IsDigits(t.substr(6, 2)))
    return false;
  if (t.size() == 8) return true;
  return t[8] == '.' && IsDigits(t.substr(9));
}

std::string IntegerType(std::string_view s) {
  std::string_view digits = s;
  if (!digits.empty() && (digits[0] == '-' || digits[0] == '+')) digits.remove_prefix(1);
  if (!IsDigits(digits)) return {};
  if (digits.size() > 1 && digits[0] == '0') return "string";  // leading zeros are part of an identifier
  int64_t v = 0;
  std::string_view parse = s[0] == '+' ? s.substr(1) : s;
  auto [p, ec] = std::from_chars(parse.data(), parse.data() + parse.size(), v);
  if (ec != std::errc() || p != parse.data() + parse.size()) return "string";
  return (v >= INT32_MIN && v <= INT32_MAX) ? "int" : "bigint";
}

bool IsDouble(std::string_view s) {
  bool digit = false, point_or_exp = false;
  size_t i = 0;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
  for (; i < s.size(); ++i) {
    char c = s[i];
    if (c >= '0' && c <= '9') {
      digit = true;
    } else if (c == '.') {
      point_or_exp = true;
    } else if ((c == 'e' || c == 'E') && digit) {
      point_or_exp = true;
      if (i + 1 < s.size() && (s[i + 1] == '-' || s[i + 1] == '+')) ++i;
      if (i + 1 >= s.size()) return false;
    } else {
      return false;
    }
  }
  if (!digit || !point_or_exp) return false;
  std::string copy(s);
  char* end = nullptr;
  std::strtod(copy.c_str(), &end);
  return end == copy.c_str() + copy.size();
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The partition-key type of one directory value.
std::string PartitionValueType(std::string_view v) {
  if (v == hive::kDefaultPartition) return {};
  if (IsDate(v)) return "date";
  std::string t = IntegerType(v);
  if (t == "int" || t == "bigint") return t;
  return "string";
}

std::string MergePartitionTypes(const std::string& a, const std::string& b) {
  if (a.empty()) return b;
  if (b.empty() || a == b) return a;
  if ((a == "int" && b == "bigint") || (a == "bigint" && b == "int")) return "bigint";
  return "string";
}

std::vector<std::string_view> SplitKey(std::string_view key) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (start <= key.size()) {
    size_t slash = key.find('/', start);
    if (slash == std::string_view::npos) slash = key.size();
    if (slash > start) parts.push_back(key.substr(start, slash - start));
    start = slash + 1;
  }
  return parts;
}

// Lines of a sample; the last one is dropped when the sample was cut inside it.
std::vector<std::string_view> Lines(std::string_view text, bool truncated) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos) {
      if (!truncated) lines.push_back(text.substr(start));
      break;
    }
    std::string_view line = text.substr(start, nl - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    start = nl + 1;
  }
  std::erase_if(lines, [](std::string_view l) { return l.find_first_not_of(" \t\r") == std::string_view::npos; });
  return lines;
}

struct Sample {
  std::string key;
  std::string text;  // decompressed beginning
  bool truncated = false;
  bool gzip = false;
  std::string format;  // parquet, json, csv
};

std::vector<std::string> SplitFields(std::string_view line, char delim, std::string& scratch) {
  std::array<std::string_view, 1024> views;
  int n = csv::split(line, views.data(), static_cast<int>(views.size()), scratch, delim);
  std::vector<std::string> out;
  if (n < 0) return out;
  for (int i = 0; i < std::min<int>(n, static_cast<int>(views.size())); ++i) out.emplace_back(views[i]);
  return out;
}

int CountFields(std::string_view line, char delim, std::string& scratch) {
  std::array<std::string_view, 1> one;
  return csv::split(line, one.data(), 1, scratch, delim);
}

std::string Trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t");
  if (b == std::string_view::npos) return {};
  size_t e = s.find_last_not_of(" \t");
  return std::string(s.substr(b, e - b + 1));
}

Status InferCsv(const std::vector<Sample>& samples, Table& t) {
  // Delimiter: the candidate whose most common field count (> 1) covers most lines.
  const std::array<char, 4> candidates = {',', ';', '\t', '|'};
  std::string scratch;
  char best = ',';
  int best_count = 1;
  size_t best_cover = 0;
  for (char d : candidates) {
    std::map<int, size_t> counts;
    for (const auto& s : samples)
      for (auto line : Lines(s.text, s.truncated)) counts[CountFields(line, d, scratch)]++;
    for (auto [n, c] : counts) {
      if (n < 2) continue;
      if (c > best_cover || (c == best_cover && n > best_count)) {
        best = d;
        best_count = n;
        best_cover = c;
      }
    }
  }
  t.delimiter = std::string(1, best);
  const size_t ncols = static_cast<size_t>(best_count);
  // Rows with the common field count, per object.
  std::vector<std::vector<std::vector<std::string>>> rows(samples.size());
  for (size_t i = 0; i < samples.size(); ++i)
    for (auto line : Lines(samples[i].text, samples[i].truncated)) {
      auto f = SplitFields(line, best, scratch);
      if (f.size() == ncols) rows[i].push_back(std::move(f));
    }
  auto types_of = [&](bool skip_first) {
    std::vector<std::string> types(ncols);
    for (const auto& obj : rows)
      for (size_t r = skip_first ? 1 : 0; r < obj.size(); ++r)
        for (size_t c = 0; c < ncols; ++c) types[c] = MergeTypes(types[c], ValueType(Trim(obj[r][c])));
    for (auto& ty : types)
      if (ty.empty()) ty = "string";
    return types;
  };
  const std::vector<std::string>* first = nullptr;
  for (const auto& obj : rows)
    if (!obj.empty()) {
      first = &obj.front();
      break;
    }
  if (!first) return Status::Errorf("no CSV records in the sampled objects (first: {})", samples.front().key);
  bool first_all_strings = true;
  for (const auto& f : *first) first_all_strings = first_all_strings && ValueType(Trim(f)) == "string";
  std::vector<std::string> body = types_of(true);
  bool body_typed = std::any_of(body.begin(), body.end(), [](const std::string& x) { return x != "string"; });
  t.has_header = first_all_strings && body_typed;
  std::vector<std::string> types = t.has_header ? body : types_of(false);
  t.columns.clear();
  for (size_t c = 0; c < ncols; ++c) {
    std::string name = t.has_header ? Trim((*first)[c]) : "";
    if (name.empty()) name = fmt::format("col{}", c);
    for (const auto& prev : t.columns)
      if (prev.name == name) name += fmt::format("_{}", c);
    t.columns.push_back({name, types[c]});
  }
  return Status::OK();
}

std::string JsonType(const nlohmann::ordered_json& v) {
  using T = nlohmann::ordered_json::value_t;
  switch (v.type()) {
    case T::null: return {};
    case T::boolean: return "boolean";
    case T::number_integer:
    case T::number_unsigned: {
      if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) return "double";
      int64_t x = v.get<int64_t>();
      return (x >= INT32_MIN && x <= INT32_MAX) ? "int" : "bigint";
    }
    case T::number_float: return "double";
    default: return "string";
  }
}

Status InferJson(const std::vector<Sample>& samples, Table& t) {
  std::vector<std::string> order;
  std::map<std::string, std::string> types;
  for (const auto& s : samples)
    for (auto line : Lines(s.text, s.truncated)) {
      // ordered_json keeps the keys in the order of the line (Glue's column order).
      auto j = nlohmann::ordered_json::parse(line, nullptr, false);
      if (!j.is_object()) continue;
      for (const auto& [k, v] : j.items()) {
        auto it = types.find(k);
        if (it == types.end()) {
          order.push_back(k);
          types[k] = JsonType(v);
        } else {
          it->second = MergeTypes(it->second, JsonType(v));
        }
      }
    }
  if (order.empty()) return Status::Errorf("no JSON objects in the sampled objects (first: {})", samples.front().key);
  t.columns.clear();
  for (const auto& k : order) t.columns.push_back({k, types[k].empty() ? "string" : types[k]});
  return Status::OK();
}

std::string AthenaType(std::string duck) {
  for (auto& c : duck) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (duck == "INTEGER") return "int";
  if (duck == "BIGINT") return "bigint";
  if (duck == "SMALLINT") return "smallint";
  if (duck == "TINYINT") return "tinyint";
  if (duck == "DOUBLE") return "double";
  if (duck == "FLOAT") return "float";
  if (duck == "VARCHAR") return "string";
  if (duck == "BOOLEAN") return "boolean";
  if (duck == "DATE") return "date";
  if (duck == "BLOB") return "binary";
  if (duck.starts_with("TIMESTAMP")) return "timestamp";
  if (duck.starts_with("DECIMAL")) return Lower(duck);
  if (duck == "UINTEGER" || duck == "USMALLINT" || duck == "UTINYINT") return "bigint";
  return "string";
}

// The columns of a local Parquet file, through DuckDB.
Status ParquetColumns(const std::string& file, const std::string& name_for_errors, Table& t) {
  duckdb_database db = nullptr;
  duckdb_connection con = nullptr;
  if (duckdb_open(nullptr, &db) != DuckDBSuccess) return Status::Error("cannot start DuckDB");
  if (duckdb_connect(db, &con) != DuckDBSuccess) {
    duckdb_close(&db);
    return Status::Error("cannot connect to DuckDB");
  }
  std::string quoted;
  for (char c : file) {
    quoted += c;
    if (c == '\'') quoted += '\'';
  }
  const std::string sql =
      "DESCRIBE SELECT * FROM read_parquet('" + quoted + "', hive_partitioning = false, filename = false)";
  duckdb_result r{};
  Status st;
  if (duckdb_query(con, sql.c_str(), &r) != DuckDBSuccess) {
    st = Status::Errorf("{}: not a readable Parquet file: {}", name_for_errors, duckdb_result_error(&r));
  } else {
    t.columns.clear();
    idx_t rows = duckdb_row_count(&r);
    for (idx_t i = 0; i < rows; ++i) {
      char* name = duckdb_value_varchar(&r, 0, i);
      char* type = duckdb_value_varchar(&r, 1, i);
      t.columns.push_back({name ? name : "", AthenaType(type ? type : "")});
      duckdb_free(name);
      duckdb_free(type);
    }
  }
  duckdb_destroy_result(&r);
  duckdb_disconnect(&con);
  duckdb_close(&db);
  return st;
}

// A Parquet object in S3 is copied to a temporary file in ranges of kCopyStep bytes (DuckDB
// reads its footer there), so the crawler's memory does not grow with the object.
Status InferParquet(store::ObjectStore& store, const Sample& first, Table& t) {
  std::string root = store.local_root();
  if (!root.empty()) return ParquetColumns((std::filesystem::path(root) / first.key).string(), first.key, t);
  constexpr uint64_t kCopyStep = uint64_t{8} << 20;
  std::string tmpl = (std::filesystem::temp_directory_path() / "orderlake-crawl-XXXXXX").string();
  int fd = mkstemp(tmpl.data());
  if (fd < 0) return Status::Errorf("cannot create a temporary file for {}", first.key);
  Status st;
  for (uint64_t at = 0; st.ok();) {
    auto data = store.Get(first.key, at, kCopyStep);
    if (!data.ok()) {
      st = data.status();
      break;
    }
    const std::string& bytes = data.value();
    for (size_t off = 0; off < bytes.size() && st.ok();) {
      ssize_t n = write(fd, bytes.data() + off, bytes.size() - off);
      if (n <= 0) st = Status::Errorf("cannot write a temporary copy of {}", first.key);
      else off += static_cast<size_t>(n);
    }
    at += bytes.size();
    if (bytes.size() < kCopyStep) break;
  }
  close(fd);
  if (st.ok()) st = ParquetColumns(tmpl, store.url() + "/" + first.key, t);
  unlink(tmpl.c_str());
  return st;
}

std::string Classify(const Sample& s) {
  if (!s.gzip && s.text.starts_with("PAR1")) return "parquet";
  if (s.text.find('\0') != std::string::npos) return "binary";
  size_t b = s.text.find_first_not_of(" \t\r\n");
  if (b != std::string::npos && s.text[b] == '{') {
    auto lines = Lines(s.text, s.truncated);
    if (!lines.empty() && json::parse(lines.front(), nullptr, false).is_object()) return "json";
  }
  return "csv";
}

}  // namespace

std::string TableNameFor(std::string_view location) {
  std::string_view s = location;
  while (!s.empty() && s.back() == '/') s.remove_suffix(1);
  size_t slash = s.rfind('/');
  std::string_view last = slash == std::string_view::npos ? s : s.substr(slash + 1);
  std::string out;
  for (char c : last) {
    char l = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out += ((l >= 'a' && l <= 'z') || (l >= '0' && l <= '9')) ? l : '_';
  }
  return out.empty() ? "table" : out;
}

std::string ValueType(std::string_view f) {
  if (f.empty()) return {};
  if (std::string t = IntegerType(f); !t.empty()) return t;
  if (IsDouble(f)) return "double";
  std::string l = Lower(f);
  if (l == "true" || l == "false") return "boolean";
  if (IsDate(f)) return "date";
  if (IsTimestamp(f)) return "timestamp";
  return "string";
}

std::string MergeTypes(const std::string& a, const std::string& b) {
  if (a.empty()) return b;
  if (b.empty() || a == b) return a;
  auto numeric = [](const std::string& x) { return x == "int" || x == "bigint" || x == "double"; };
  if (numeric(a) && numeric(b)) return (a == "double" || b == "double") ? "double" : "bigint";
  return "string";
}

Result<std::string> GunzipPrefix(std::string_view data, size_t max_out) {
  z_stream zs{};
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) return Status::Error("zlib: cannot initialise inflate");
  std::string out(max_out, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  Status st;
  while (zs.avail_out > 0) {
    int rc = inflate(&zs, Z_NO_FLUSH);
    if (rc == Z_STREAM_END) {
      if (zs.avail_in == 0) break;
      inflateReset(&zs);  // concatenated gzip members
      continue;
    }
    if (rc == Z_BUF_ERROR) break;  // the sample ends here
    if (rc != Z_OK) {
      st = Status::Errorf("corrupt gzip data: {}", zs.msg ? zs.msg : "inflate failed");
      break;
    }
  }
  out.resize(out.size() - zs.avail_out);
  inflateEnd(&zs);
  if (!st.ok()) return st;
  return out;
}

std::string Report::Describe() const {
  std::string name = table.database + "." + table.name;
  if (change.empty()) return fmt::format("table {}: no changes ({} objects)", name, objects);
  std::vector<std::string> parts;
  if (change.created)
    parts.push_back(fmt::format("created: {} columns, {} partition keys, format {}", table.columns.size(),
                                table.partition_keys.size(), table.format));
  if (!change.columns_added.empty()) parts.push_back("columns added: " + fmt::format("{}", fmt::join(change.columns_added, ", ")));
  if (!change.columns_changed.empty())
    parts.push_back("columns changed: " + fmt::format("{}", fmt::join(change.columns_changed, ", ")));
  if (change.partition_keys_changed && !change.created) parts.push_back("partition keys changed (old partitions dropped)");
  if (!change.properties_changed.empty())
    parts.push_back("changed: " + fmt::format("{}", fmt::join(change.properties_changed, ", ")));
  parts.push_back(fmt::format("partitions added {}", change.partitions_added));
  return fmt::format("table {} {}", name, fmt::join(parts, "; "));
}

bool GlobMatch(std::string_view pattern, std::string_view key) {
  // match[j]: pattern[0, i) matches key[0, j); one row per pattern character, O(|p|·|k|).
  std::vector<char> match(key.size() + 1, 0), next(key.size() + 1, 0);
  match[0] = 1;
  for (size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    const bool any = c == '*' && i + 1 < pattern.size() && pattern[i + 1] == '*';
    std::fill(next.begin(), next.end(), 0);
    for (size_t j = 0; j <= key.size(); ++j) {
      if (c == '*') {  // zero characters, or one more (not '/' unless "**")
        next[j] = match[j] || (j > 0 && next[j - 1] && (any || key[j - 1] != '/'));
      } else if (j > 0 && match[j - 1]) {
        next[j] = c == '?' ? key[j - 1] != '/' : key[j - 1] == c;
      }
    }
    if (any) ++i;  // "**" is one token
    match.swap(next);
  }
  return match[key.size()] != 0;
}

Status Options::Validate() const {
  const auto bad_name = [](const std::string& n) {
    return n.find_first_of("./` \t\n\"") != std::string::npos;
  };
  if (database.empty() || bad_name(database))
    return Status::Errorf("--database must be a name without '.', '/', quotes or spaces, got \"{}\"", database);
  if (bad_name(table))
    return Status::Errorf("--table must be a name without '.', '/', quotes or spaces, got \"{}\"", table);
  if (exclusions.size() > 64) return Status::Errorf("at most 64 exclusion patterns, got {}", exclusions.size());
  for (const auto& e : exclusions)
    if (e.empty() || e.size() > 256) return Status::Errorf("an exclusion pattern must have 1 to 256 characters, got \"{}\"", e);
  if (sample_bytes < 1024 || sample_bytes > (size_t{64} << 20))
    return Status::Errorf("the crawler's sample size must be between 1 KiB and 64 MiB, got {} bytes", sample_bytes);
  return Status::OK();
}

namespace {

// The partition keys (key=value directories, else Glue's partition_<i>), their types, and
// the partitions, from the objects' directories; every object must sit under the same keys.
Status InferPartitions(const std::vector<store::ObjectInfo>& objects, Report& rep) {
  Table& t = rep.table;
  std::vector<std::string> key_names;
  std::string key_names_from;
  std::map<std::string, Partition> partitions;  // by directory path
  for (const auto& o : objects) {
    auto parts = SplitKey(o.key);
    std::vector<std::string> names, values;
    std::string dir;
    for (size_t i = 0; i + 1 < parts.size(); ++i) {
      std::string_view p = parts[i];
      size_t eq = p.find('=');
      if (eq != std::string_view::npos && eq > 0) {
        names.emplace_back(p.substr(0, eq));
        values.push_back(hive::unescape(p.substr(eq + 1)));
      } else {
        names.push_back(fmt::format("partition_{}", i));
        values.emplace_back(p);
      }
      dir += std::string(p) + "/";
    }
    if (&o == &objects.front()) {
      key_names = names;
      key_names_from = o.key;
    } else if (names != key_names) {
      return Status::Errorf("{}: objects sit under different partition keys: {} has ({}) but {} has ({})",
                            t.location, key_names_from, fmt::join(key_names, ", "), o.key, fmt::join(names, ", "));
    }
    if (!dir.empty()) {
      dir.pop_back();
      auto& part = partitions[dir];
      part.values = values;
      part.location = t.location + "/" + dir;
    }
  }
  std::vector<std::string> key_types(key_names.size());
  for (const auto& [dir, p] : partitions)
    for (size_t i = 0; i < p.values.size(); ++i)
      key_types[i] = MergePartitionTypes(key_types[i], PartitionValueType(p.values[i]));
  for (size_t i = 0; i < key_names.size(); ++i)
    if (key_names[i] == fmt::format("partition_{}", i)) key_types[i] = "string";  // as Glue types them
  for (size_t i = 0; i < key_names.size(); ++i)
    t.partition_keys.push_back({key_names[i], key_types[i].empty() ? "string" : key_types[i]});
  for (auto& [dir, p] : partitions) rep.partitions.push_back(std::move(p));
  return Status::OK();

}

}  // namespace

Result<Report> Infer(store::ObjectStore& store, const Options& options) {
  ORDERLAKE_RETURN_IF_ERROR(options.Validate());
  Report rep;
  Table& t = rep.table;
  t.database = options.database;
  t.location = options.location_url.empty() ? store.url() : options.location_url;
  while (t.location.size() > 1 && t.location.back() == '/') t.location.pop_back();
  t.name = options.table.empty() ? TableNameFor(t.location) : options.table;

  auto listed = store.List("");
  if (!listed.ok()) return listed.status();
  std::vector<store::ObjectInfo> objects;
  for (auto& o : listed.value()) {
    bool hidden = false;
    for (auto part : SplitKey(o.key)) hidden = hidden || part.starts_with('.') || part.starts_with('_');
    for (const auto& pattern : options.exclusions) hidden = hidden || GlobMatch(pattern, o.key);
    if (!hidden && o.size > 0) objects.push_back(std::move(o));
  }
  if (objects.empty()) return Status::Errorf("{}: no objects to crawl", t.location);
  rep.objects = objects.size();

  ORDERLAKE_RETURN_IF_ERROR(InferPartitions(objects, rep));

  // Sample and classify every object.
  std::vector<Sample> samples;
  size_t gz = 0;
  for (const auto& o : objects) {
    Sample s;
    s.key = o.key;
    uint64_t want = std::min<uint64_t>(o.size, options.sample_bytes);
    auto data = store.Get(o.key, 0, want);
    if (!data.ok()) return data.status();
    std::string& bytes = data.value();
    s.truncated = want < o.size;
    if (bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0x1f && static_cast<unsigned char>(bytes[1]) == 0x8b) {
      s.gzip = true;
      ++gz;
      auto text = GunzipPrefix(bytes, options.sample_bytes);
      if (!text.ok()) return Status::Errorf("{}/{}: {}", t.location, o.key, text.status().message());
      s.truncated = s.truncated || text.value().size() >= options.sample_bytes;
      s.text = std::move(text.value());
    } else {
      s.text = std::move(bytes);
    }
    s.format = Classify(s);
    if (s.format == "binary")
      return Status::Errorf("{}/{}: unknown format (binary data that is neither Parquet nor gzip)", t.location, o.key);
    if (!samples.empty() && s.format != samples.front().format)
      return Status::Errorf("{}: mixed formats: {} is {} but {} is {}", t.location, samples.front().key,
                            samples.front().format, s.key, s.format);
    samples.push_back(std::move(s));
  }
  t.format = samples.front().format;
  t.compression = gz == 0 ? "none" : gz == samples.size() ? "gzip" : "mixed";
  if (t.format == "parquet") {
    ORDERLAKE_RETURN_IF_ERROR(InferParquet(store, samples.front(), t));
  } else if (t.format == "json") {
    ORDERLAKE_RETURN_IF_ERROR(InferJson(samples, t));
  } else {
    Status st = InferCsv(samples, t);
    if (!st.ok()) return Status::Errorf("{}: {}", t.location, st.message());
  }
  if (t.format != "csv") {
    t.has_header = false;
    t.delimiter = ",";
  }
  return rep;
}

Result<Report> Crawl(store::ObjectStore& store, catalog::Catalog& catalog, const Options& options) {
  auto rep = Infer(store, options);
  if (!rep.ok()) return rep.status();
  auto change = catalog.UpsertTable(rep->table, rep->partitions);
  if (!change.ok()) return change.status();
  rep->change = change.value();
  return rep;
}

}  // namespace orderlake::crawl
