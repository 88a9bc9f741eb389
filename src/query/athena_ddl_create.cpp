// CREATE EXTERNAL TABLE: its clauses parsed into CreateClauses, then the catalog table made
// of them (columns and partition keys, format and SerDe, delimiter, properties).
#include <map>
#include <set>

#include "query/athena_ddl_parser.h"

namespace orderlake::query::ddl {

// What the clauses after the column list said, with where they were said (for errors).
struct CreateClauses {
  std::vector<std::pair<Column, size_t>> columns;
  std::optional<std::vector<std::pair<Column, size_t>>> keys;
  std::string stored_as, row_format_class, input_format;
  std::optional<std::string> location;
  size_t location_at = 0, stored_at = 0;
  std::vector<std::pair<std::string, std::string>> serde_props, tbl_props;
  std::optional<std::string> delimited_by;
  bool row_format_delimited = false;
  std::set<std::string> seen;  // clauses given once
};

namespace {

// What a SerDe or input format class says about the format.
std::string FormatOfClass(std::string_view cls) {
  std::string l = Lower(cls);
  if (l.find("parquet") != std::string::npos) return "parquet";
  if (l.find("json") != std::string::npos) return "json";
  if (l.find("opencsvserde") != std::string::npos || l.find("lazysimpleserde") != std::string::npos ||
      l.find("textinputformat") != std::string::npos || l.find("multidelimitserde") != std::string::npos)
    return "csv";
  return {};
}

}  // namespace

Result<DdlStatement> Parser::CreateTable() {
  CreateTableDdl d;
  Table& t = d.table;
  // CREATE EXTERNAL TABLE already consumed.
  if (IsWord("IF")) {
    Next();
    ORDERLAKE_RETURN_IF_ERROR(ExpectWord("NOT"));
    ORDERLAKE_RETURN_IF_ERROR(ExpectWord("EXISTS"));
    d.if_not_exists = true;
  }
  auto ref = TableName();
  if (!ref.ok()) return ref.status();
  t.database = ref->database;
  t.name = ref->name;
  CreateClauses c;
  auto cols = ColumnList("column list");
  if (!cols.ok()) return cols.status();
  c.columns = std::move(cols).value();
  while (!AtEnd()) ORDERLAKE_RETURN_IF_ERROR(CreateClause(c, d));
  if (!c.location)
    return ErrorAt(Peek().offset, fmt::format("CREATE EXTERNAL TABLE {} needs a LOCATION 's3://bucket/prefix/' "
                                              "(or a local directory): where the table's files are",
                                              QName(t)));
  ORDERLAKE_RETURN_IF_ERROR(FinishColumns(c, d));
  ORDERLAKE_RETURN_IF_ERROR(FinishFormat(c, d));
  ORDERLAKE_RETURN_IF_ERROR(FinishProperties(c, d));
  t.location = *c.location;
  return DdlStatement(std::move(d));
}

// One clause after the column list.
Status Parser::CreateClause(CreateClauses& c, CreateTableDdl& d) {
  const size_t at = Peek().offset;
  auto once = [&](const std::string& clause) -> Status {
    if (!c.seen.insert(clause).second) return ErrorAt(at, fmt::format("{} given twice", clause));
    return Status::OK();
  };
  if (AcceptWord("COMMENT")) {
    ORDERLAKE_RETURN_IF_ERROR(once("COMMENT"));
    return String("the table's comment as a string").status();
  }
  if (AcceptWord("PARTITIONED")) {
    ORDERLAKE_RETURN_IF_ERROR(once("PARTITIONED BY"));
    ORDERLAKE_RETURN_IF_ERROR(ExpectWord("BY"));
    auto k = ColumnList("PARTITIONED BY list");
    if (!k.ok()) return k.status();
    c.keys = std::move(k).value();
    return Status::OK();
  }
  if (IsWord("CLUSTERED")) return ErrorAt(at, "CLUSTERED BY (bucketed tables) is not supported");
  if (AcceptWord("ROW")) {
    ORDERLAKE_RETURN_IF_ERROR(once("ROW FORMAT"));
    ORDERLAKE_RETURN_IF_ERROR(ExpectWord("FORMAT"));
    return RowFormat(c, d);
  }
  if (IsWord("WITH") && IsWord("SERDEPROPERTIES", 1)) {
    Next();
    Next();
    auto p = Properties("SERDEPROPERTIES");
    if (!p.ok()) return p.status();
    c.serde_props = std::move(p).value();
    return Status::OK();
  }
  if (AcceptWord("STORED")) {
    ORDERLAKE_RETURN_IF_ERROR(once("STORED AS"));
    ORDERLAKE_RETURN_IF_ERROR(ExpectWord("AS"));
    return StoredAs(c);
  }
  if (AcceptWord("LOCATION")) {
    ORDERLAKE_RETURN_IF_ERROR(once("LOCATION"));
    c.location_at = Peek().offset;
    auto l = String("the location as a string, e.g. 's3://bucket/prefix/'");
    if (!l.ok()) return l.status();
    auto norm = NormalizeLocation(*l);
    if (!norm.ok()) return ErrorAt(c.location_at, norm.status().message());
    c.location = *norm;
    return Status::OK();
  }
  if (AcceptWord("TBLPROPERTIES")) {
    ORDERLAKE_RETURN_IF_ERROR(once("TBLPROPERTIES"));
    auto p = Properties("TBLPROPERTIES");
    if (!p.ok()) return p.status();
    c.tbl_props = std::move(p).value();
    return Status::OK();
  }
  return Expected("PARTITIONED BY, ROW FORMAT, STORED AS, LOCATION, TBLPROPERTIES or the end of the statement");
}

// ROW FORMAT (already consumed) DELIMITED … | SERDE 'class' [WITH SERDEPROPERTIES (…)].
Status Parser::RowFormat(CreateClauses& c, CreateTableDdl& d) {
  if (AcceptWord("DELIMITED")) {
    c.row_format_delimited = true;
    for (;;) {
      if (AcceptWord("FIELDS")) {
        ORDERLAKE_RETURN_IF_ERROR(ExpectWord("TERMINATED"));
        ORDERLAKE_RETURN_IF_ERROR(ExpectWord("BY"));
        const size_t dat = Peek().offset;
        auto dl = String("the field delimiter as a string, e.g. ','");
        if (!dl.ok()) return dl.status();
        if (dl->size() != 1) return ErrorAt(dat, fmt::format("the field delimiter must be one character, not '{}'", *dl));
        c.delimited_by = *dl;
        if (AcceptWord("ESCAPED")) {
          ORDERLAKE_RETURN_IF_ERROR(ExpectWord("BY"));
          ORDERLAKE_RETURN_IF_ERROR(String("the escape character as a string").status());
        }
      } else if (AcceptWord("COLLECTION") || AcceptWord("MAP")) {
        if (t_[i_ - 1].upper == "COLLECTION") ORDERLAKE_RETURN_IF_ERROR(ExpectWord("ITEMS"));
        else ORDERLAKE_RETURN_IF_ERROR(ExpectWord("KEYS"));
        ORDERLAKE_RETURN_IF_ERROR(ExpectWord("TERMINATED"));
        ORDERLAKE_RETURN_IF_ERROR(ExpectWord("BY"));
        ORDERLAKE_RETURN_IF_ERROR(String("a delimiter as a string").status());
      } else if (AcceptWord("LINES")) {
        ORDERLAKE_RETURN_IF_ERROR(ExpectWord("TERMINATED"));
        ORDERLAKE_RETURN_IF_ERROR(ExpectWord("BY"));
        const size_t lat = Peek().offset;
        auto x = String("the line terminator as a string");
        if (!x.ok()) return x.status();
        if (*x != "\n") return ErrorAt(lat, "only '\\n' is supported as LINES TERMINATED BY");
      } else if (AcceptWord("NULL")) {
        ORDERLAKE_RETURN_IF_ERROR(ExpectWord("DEFINED"));
        ORDERLAKE_RETURN_IF_ERROR(ExpectWord("AS"));
        ORDERLAKE_RETURN_IF_ERROR(String("the NULL marker as a string").status());
        d.warnings.push_back("warning: NULL DEFINED AS is ignored ('\\N' and empty non-string fields read as NULL)");
      } else {
        return Status::OK();
      }
    }
  }
  if (!AcceptWord("SERDE")) return Expected("DELIMITED or SERDE after ROW FORMAT");
  auto cls = String("the SerDe class name as a string");
  if (!cls.ok()) return cls.status();
  c.row_format_class = *cls;
  if (FormatOfClass(*cls).empty())
    return ErrorAt(t_[i_ - 1].offset, fmt::format("unsupported SerDe '{}': orderlake reads Parquet, CSV "
                                                  "(LazySimpleSerDe, OpenCSVSerde) and JSON (JsonSerDe)", *cls));
  if (IsWord("WITH")) {
    Next();
    ORDERLAKE_RETURN_IF_ERROR(ExpectWord("SERDEPROPERTIES"));
    auto p = Properties("SERDEPROPERTIES");
    if (!p.ok()) return p.status();
    c.serde_props = std::move(p).value();
  }
  return Status::OK();
}

// STORED AS (already consumed) PARQUET|TEXTFILE|JSON | INPUTFORMAT '…' OUTPUTFORMAT '…'.
Status Parser::StoredAs(CreateClauses& c) {
  c.stored_at = Peek().offset;
  if (AcceptWord("INPUTFORMAT")) {
    auto in = String("the input format class as a string");
    if (!in.ok()) return in.status();
    c.input_format = *in;
    ORDERLAKE_RETURN_IF_ERROR(ExpectWord("OUTPUTFORMAT"));
    ORDERLAKE_RETURN_IF_ERROR(String("the output format class as a string").status());
    if (FormatOfClass(c.input_format).empty())
      return ErrorAt(c.stored_at, fmt::format("unsupported INPUTFORMAT '{}': orderlake reads Parquet, text (CSV) and JSON",
                                              c.input_format));
    return Status::OK();
  }
  if (Peek().kind != Token::kWord) return Expected("a file format after STORED AS (PARQUET, TEXTFILE or JSON)");
  c.stored_as = Peek().upper;
  if (c.stored_as != "PARQUET" && c.stored_as != "TEXTFILE" && c.stored_as != "JSON")
    return ErrorAt(c.stored_at, fmt::format("unsupported file format STORED AS {}: orderlake reads PARQUET, "
                                            "TEXTFILE (CSV or JSON lines) and JSON",
                                            Peek().text));
  Next();
  return Status::OK();
}

// Columns, and the quirk of the original project's DDL (columns that are partition keys too).
Status Parser::FinishColumns(const CreateClauses& c, CreateTableDdl& d) {
  Table& t = d.table;
  std::vector<std::string> both;
  for (const auto& [col, at] : c.columns) {
    bool is_key = false;
    if (c.keys)
      for (const auto& [k, kat] : *c.keys)
        if (IEquals(k.name, col.name)) {
          is_key = true;
          both.push_back(col.name +
                         (k.type == col.type ? "" : fmt::format(" ({} as a column, {} as a key)", col.type, k.type)));
        }
    if (!is_key) t.columns.push_back(col);
  }
  if (c.keys)
    for (const auto& [k, at] : *c.keys) t.partition_keys.push_back(k);
  if (!both.empty())
    d.warnings.push_back(fmt::format("warning: {} declared both as columns and as partition keys (Athena rejects "
                                     "this); treated as partition keys",
                                     fmt::join(both, ", ")));
  if (t.columns.empty())
    return ErrorAt(c.location_at, fmt::format("table {} has no columns besides its partition keys", QName(t)));
  return Status::OK();
}

// Format: the container (STORED AS, INPUTFORMAT) and the SerDe together; the CSV delimiter.
Status Parser::FinishFormat(const CreateClauses& c, CreateTableDdl& d) {
  Table& t = d.table;
  const std::string serde = c.row_format_class.empty() ? "" : FormatOfClass(c.row_format_class);
  std::string container;  // parquet, json, text
  if (c.stored_as == "PARQUET") container = "parquet";
  else if (c.stored_as == "JSON") container = "json";
  else if (!c.input_format.empty()) container = FormatOfClass(c.input_format) == "parquet" ? "parquet" : "text";
  else container = serde == "parquet" ? "parquet" : "text";  // TEXTFILE, or nothing said: Hive's default
  if (container == "parquet") {
    if (!serde.empty() && serde != "parquet")
      return ErrorAt(c.stored_at, fmt::format("ROW FORMAT SERDE '{}' reads {}, but the table is stored as Parquet",
                                              c.row_format_class, serde));
    if (c.row_format_delimited) d.warnings.push_back("warning: ROW FORMAT DELIMITED is ignored for Parquet");
    t.format = "parquet";
  } else if (serde == "parquet") {
    return ErrorAt(c.stored_at, fmt::format("ROW FORMAT SERDE '{}' reads Parquet, but the table is stored as text",
                                            c.row_format_class));
  } else {
    t.format = (container == "json" || serde == "json") ? "json" : "csv";
  }
  // The CSV field delimiter: Hive's default is ^A (\001); OpenCSVSerde's is ','.
  const bool open_csv = Lower(c.row_format_class).find("opencsvserde") != std::string::npos;
  t.delimiter = open_csv ? "," : std::string(1, '\x01');
  // Hive reads a delimiter property as a byte number ('1' is \001) or else its first character.
  auto delimiter_of = [&](std::string_view name, const std::string& v) -> Result<std::string> {
    if (IsDigits(v) && v.size() <= 3 && std::stoi(v) < 128) return std::string(1, static_cast<char>(std::stoi(v)));
    if (v.size() == 1) return v;
    return ErrorAt(c.stored_at, fmt::format("SERDEPROPERTIES '{}'='{}': a delimiter is one character", name, v));
  };
  if (c.delimited_by) {
    t.delimiter = *c.delimited_by;
    return Status::OK();
  }
  for (std::string_view name : {"field.delim", "serialization.format", "separatorchar"}) {
    const std::string* v = nullptr;
    for (const auto& [k, value] : c.serde_props)
      if (k == name && !v) v = &value;
    if (!v) continue;
    auto dl = name == "separatorchar" && v->size() == 1 ? Result<std::string>(*v) : delimiter_of(name, *v);
    if (!dl.ok()) return dl.status();
    t.delimiter = *dl;
    break;
  }
  return Status::OK();
}

// TBLPROPERTIES: the header line, compression; what is not supported.
Status Parser::FinishProperties(const CreateClauses& c, CreateTableDdl& d) {
  Table& t = d.table;
  t.compression = "none";
  for (const auto& [k, v] : c.tbl_props) {
    if (k == "skip.header.line.count") {
      if (v != "0" && v != "1")
        return ErrorAt(c.location_at,
                       fmt::format("TBLPROPERTIES 'skip.header.line.count'='{}': only 0 or 1 is supported", v));
      t.has_header = v == "1";
    } else if (k == "compressiontype" || k == "write.compression") {
      if (Lower(v) == "gzip") t.compression = "gzip";
    } else if (k == "projection.enabled" && Lower(v) == "true") {
      d.warnings.push_back("warning: partition projection is not supported: register partitions with MSCK REPAIR "
                           "TABLE or ALTER TABLE ADD PARTITION");
    } else if (k == "table_type") {
      return ErrorAt(c.location_at, fmt::format("TBLPROPERTIES 'table_type'='{}' is not supported: orderlake's "
                                                "external tables are Hive tables", v));
    }
  }
  if (t.format != "csv") {
    t.has_header = false;
    t.delimiter = ",";
  }
  return Status::OK();
}

}  // namespace orderlake::query::ddl
