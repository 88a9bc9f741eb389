#include "query/format.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <sstream>

namespace orderlake::query {
namespace {

// Next code point of UTF-8 text at i (advancing i); an invalid byte is returned as is.
char32_t NextCodePoint(std::string_view s, size_t& i) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  int len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
  if (len <= 1 || i + static_cast<size_t>(len) > s.size()) {
    ++i;
    return c;
  }
  char32_t cp = c & (0xFF >> (len + 1));
  for (int k = 1; k < len; ++k) {
    unsigned char cc = static_cast<unsigned char>(s[i + static_cast<size_t>(k)]);
    if ((cc & 0xC0) != 0x80) {
      ++i;
      return c;
    }
    cp = (cp << 6) | (cc & 0x3F);
  }
  i += static_cast<size_t>(len);
  return cp;
}

int CodePointWidth(char32_t cp) {
  if (cp == 0) return 0;
  if ((cp >= 0x0300 && cp <= 0x036F) || (cp >= 0x200B && cp <= 0x200F) || (cp >= 0xFE00 && cp <= 0xFE0F) ||
      (cp >= 0x1AB0 && cp <= 0x1AFF) || (cp >= 0x20D0 && cp <= 0x20FF))
    return 0;  // combining marks, zero-width characters, variation selectors
  if ((cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0x303E) || (cp >= 0x3041 && cp <= 0x33FF) ||
      (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0xA000 && cp <= 0xA4CF) ||
      (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0xFE30 && cp <= 0xFE4F) ||
      (cp >= 0xFF00 && cp <= 0xFF60) || (cp >= 0xFFE0 && cp <= 0xFFE6) || (cp >= 0x1F300 && cp <= 0x1F64F) ||
      (cp >= 0x1F900 && cp <= 0x1F9FF) || (cp >= 0x20000 && cp <= 0x3FFFD))
    return 2;
  return 1;
}

// Table cell text: control characters other than '\n' escaped so they cannot move the
// cursor or break the alignment.
std::string TableText(const Value& v) {
  std::string s = v.ToString();
  if (v.kind() != Value::Kind::kText) return s;
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if (c == '\n' || (u >= 0x20 && u != 0x7F)) {
      out += c;
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else {
      out += fmt::format("\\x{:02X}", u);
    }
  }
  return out;
}

std::vector<std::string> Lines(const std::string& s) {
  std::vector<std::string> out;
  size_t b = 0;
  for (;;) {
    size_t e = s.find('\n', b);
    if (e == std::string::npos) {
      out.push_back(s.substr(b));
      return out;
    }
    out.push_back(s.substr(b, e - b));
    b = e + 1;
  }
}

void Pad(std::string& line, const std::string& text, size_t width, bool right) {
  size_t w = DisplayWidth(text);
  size_t fill = width > w ? width - w : 0;
  if (right) line.append(fill, ' ');
  line += text;
  if (!right) line.append(fill, ' ');
}

void RTrimLine(std::string& s) {
  while (!s.empty() && s.back() == ' ') s.pop_back();
}

class TableWriter final : public RowSink {
 public:
  explicit TableWriter(std::ostream& out) : out_(out) {}

  Status Begin(const std::vector<Column>& columns) override {
    columns_ = columns;
    explain_ = columns.size() == 2 && columns[0].name == "explain_key" && columns[1].name == "explain_value";
    return Status::OK();
  }
  Status Row(const std::vector<Value>& row) override {
    if (explain_) {
      out_ << row[1].ToString() << "\n";
      return Status::OK();
    }
    std::vector<std::string> cells;
    cells.reserve(row.size());
    for (const Value& v : row) cells.push_back(TableText(v));
    rows_.push_back(std::move(cells));
    return Status::OK();
  }
  Status End() override {
    if (explain_ || columns_.empty()) return Status::OK();
    const size_t nc = columns_.size();
    std::vector<size_t> width(nc);
    for (size_t c = 0; c < nc; ++c) width[c] = DisplayWidth(columns_[c].name);
    for (const auto& r : rows_)
      for (size_t c = 0; c < nc; ++c)
        for (const auto& l : Lines(r[c])) width[c] = std::max(width[c], DisplayWidth(l));

    std::string line;
    for (size_t c = 0; c < nc; ++c) {
      line += c ? " | " : " ";
      Pad(line, columns_[c].name, width[c], columns_[c].numeric);
    }
    RTrimLine(line);
    out_ << line << "\n";
    line.clear();
    for (size_t c = 0; c < nc; ++c) {
      if (c) line += '+';
      line.append(width[c] + 2, '-');
    }
    out_ << line << "\n";
    for (const auto& r : rows_) {
      std::vector<std::vector<std::string>> cell_lines(nc);
      size_t height = 1;
      for (size_t c = 0; c < nc; ++c) {
        cell_lines[c] = Lines(r[c]);
        height = std::max(height, cell_lines[c].size());
      }
      for (size_t h = 0; h < height; ++h) {
        line.clear();
        for (size_t c = 0; c < nc; ++c) {
          line += c ? " | " : " ";
          const std::string& text = h < cell_lines[c].size() ? cell_lines[c][h] : std::string();
          Pad(line, text, width[c], columns_[c].numeric);
        }
        RTrimLine(line);
        out_ << line << "\n";
      }
    }
    out_ << (rows_.size() == 1 ? std::string("(1 row)") : fmt::format("({} rows)", rows_.size())) << "\n";
    return Status::OK();
  }

 private:
  std::ostream& out_;
  std::vector<Column> columns_;
  std::vector<std::vector<std::string>> rows_;
  bool explain_ = false;
};

class CsvWriter final : public RowSink {
 public:
  explicit CsvWriter(std::ostream& out) : out_(out) {}
  Status Begin(const std::vector<Column>& columns) override {
    for (size_t c = 0; c < columns.size(); ++c) out_ << (c ? "," : "") << CsvField(columns[c].name);
    out_ << "\n";
    return Status::OK();
  }
  Status Row(const std::vector<Value>& row) override {
    std::string line;
    for (size_t c = 0; c < row.size(); ++c) {
      if (c) line += ',';
      const Value& v = row[c];
      if (v.is_null()) continue;
      if (v.kind() == Value::Kind::kText && v.text().empty())
        line += "\"\"";
      else
        line += CsvField(v.ToString());
    }
    out_ << line << "\n";
    return Status::OK();
  }

 private:
  std::ostream& out_;
};

class AthenaWriter final : public RowSink {
 public:
  AthenaWriter(bool text, std::ostream& out) : text_(text), out_(out) {}
  Status Begin(const std::vector<Column>& columns) override {
    if (text_) return Status::OK();
    for (size_t c = 0; c < columns.size(); ++c) out_ << (c ? "," : "") << Quoted(columns[c].name);
    out_ << "\n";
    return Status::OK();
  }
  Status Row(const std::vector<Value>& row) override {
    std::string line;
    for (size_t c = 0; c < row.size(); ++c) {
      if (c) line += text_ ? '\t' : ',';
      if (!row[c].is_null()) line += text_ ? row[c].ToString() : Quoted(row[c].ToString());
    }
    out_ << line << "\n";
    return Status::OK();
  }

 private:
  static std::string Quoted(std::string_view s) {
    std::string out = "\"";
    for (char ch : s) out += ch == '"' ? std::string("\"\"") : std::string(1, ch);
    return out + "\"";
  }
  bool text_;
  std::ostream& out_;
};

std::string JsonValue(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kNull:
      return "null";
    case Value::Kind::kBool:
    case Value::Kind::kInt:
    case Value::Kind::kNumber:
      return v.ToString();
    case Value::Kind::kDouble:
      return std::isfinite(v.as_double()) ? FormatDouble(v.as_double()) : "null";
    case Value::Kind::kText:
      return JsonString(v.text());
  }
  return "null";
}

class JsonWriter final : public RowSink {
 public:
  JsonWriter(std::ostream& out, bool lines) : out_(out), lines_(lines) {}
  Status Begin(const std::vector<Column>& columns) override {
    keys_.clear();
    for (const Column& c : columns) {
      std::string key = c.name;
      for (int k = 2; std::find(keys_.begin(), keys_.end(), JsonString(key)) != keys_.end(); ++k)
        key = fmt::format("{}_{}", c.name, k);
      keys_.push_back(JsonString(key));
    }
    if (!lines_) out_ << "[";
    return Status::OK();
  }
  Status Row(const std::vector<Value>& row) override {
    std::string obj = "{";
    for (size_t c = 0; c < row.size(); ++c) {
      if (c) obj += ',';
      obj += keys_[c] + ":" + JsonValue(row[c]);
    }
    obj += "}";
    if (lines_) {
      out_ << obj << "\n";
    } else {
      out_ << (rows_ ? ",\n" : "\n") << obj;
    }
    ++rows_;
    return Status::OK();
  }
  Status End() override {
    if (!lines_) out_ << (rows_ ? "\n]\n" : "]\n");
    return Status::OK();
  }

 private:
  std::ostream& out_;
  bool lines_;
  std::vector<std::string> keys_;
  size_t rows_ = 0;
};

}  // namespace

std::optional<OutputFormat> ParseOutputFormat(std::string_view name) {
  if (name == "table") return OutputFormat::kTable;
  if (name == "csv") return OutputFormat::kCsv;
  if (name == "json") return OutputFormat::kJson;
  if (name == "jsonl") return OutputFormat::kJsonLines;
  return std::nullopt;
}

std::string_view OutputFormatName(OutputFormat f) {
  switch (f) {
    case OutputFormat::kTable: return "table";
    case OutputFormat::kCsv: return "csv";
    case OutputFormat::kJson: return "json";
    case OutputFormat::kJsonLines: return "jsonl";
  }
  return "table";
}

std::unique_ptr<RowSink> MakeWriter(OutputFormat f, std::ostream& out) {
  switch (f) {
    case OutputFormat::kCsv: return std::make_unique<CsvWriter>(out);
    case OutputFormat::kJson: return std::make_unique<JsonWriter>(out, false);
    case OutputFormat::kJsonLines: return std::make_unique<JsonWriter>(out, true);
    case OutputFormat::kTable: break;
  }
  return std::make_unique<TableWriter>(out);
}

std::string FormatResult(const QueryResult& r, OutputFormat f) {
  std::ostringstream out;
  auto w = MakeWriter(f, out);
  Status st = w->Begin(r.columns);
  for (const auto& row : r.rows)
    if (st.ok()) st = w->Row(row);
  if (st.ok()) st = w->End();
  return out.str();
}

std::string CsvField(std::string_view s) {
  if (s.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(s);
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string JsonString(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20)
          out += fmt::format("\\u{:04x}", static_cast<unsigned char>(c));
        else
          out += c;
    }
  }
  return out + "\"";
}

size_t DisplayWidth(std::string_view s) {
  size_t w = 0;
  for (size_t i = 0; i < s.size();) w += static_cast<size_t>(CodePointWidth(NextCodePoint(s, i)));
  return w;
}

std::unique_ptr<RowSink> MakeAthenaWriter(bool text, std::ostream& out) {
  return std::make_unique<AthenaWriter>(text, out);
}

}  // namespace orderlake::query
