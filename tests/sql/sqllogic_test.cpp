// Runs plain-text SQL test files (tests/sql/*.test; the format is in tests/sql/README.md)
// against a fresh Engine over the deterministic sample lake of tests/query/lake_fixture.h.
// Usage: test_sqllogic FILE.test... (ctest runs one file per test: sql.<name>).
// A failing record is reported with the file name and the line of its header.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "lake_fixture.h"
#include "query/engine.h"
#include "query/value.h"
#include "test_util.h"

namespace orderlake::query {
namespace {
namespace fs = std::filesystem;

// One record of a test file.
struct Record {
  enum Kind { kEngine, kStatementOk, kStatementNotice, kStatementError, kQuery } kind = kStatementOk;
  int line = 0;               // of its header
  std::string argument;       // engine mode, notice or error substring, or column types
  bool rowsort = false;       // query ... rowsort: rows compared sorted
  std::string sql;
  bool has_expected = false;  // a "----" section was given
  std::vector<std::string> expected;
};

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

bool StartsWith(const std::string& s, std::string_view p) { return s.rfind(p, 0) == 0; }

// Splits a file into records; a parse problem is a test failure naming the line.
std::vector<Record> ParseFile(const std::string& name, const std::string& text) {
  std::vector<Record> out;
  std::istringstream in(text);
  std::string line;
  int n = 0;
  Record* cur = nullptr;
  bool in_expected = false;
  while (std::getline(in, line)) {
    ++n;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (Trim(line).empty()) {  // a blank line ends a record
      cur = nullptr;
      in_expected = false;
      continue;
    }
    if (cur == nullptr) {
      if (line[0] == '#') continue;
      Record r;
      r.line = n;
      std::string head = Trim(line);
      if (head == "engine catalog" || head == "engine read-only") {
        r.kind = Record::kEngine;
        r.argument = head.substr(7);
        out.push_back(r);
        continue;
      }
      if (head == "statement ok") {
        r.kind = Record::kStatementOk;
      } else if (StartsWith(head, "statement notice ")) {
        r.kind = Record::kStatementNotice;
        r.argument = head.substr(17);
      } else if (head == "statement error" || StartsWith(head, "statement error ")) {
        r.kind = Record::kStatementError;
        r.argument = head.size() > 16 ? head.substr(16) : "";
      } else if (StartsWith(head, "query ")) {
        r.kind = Record::kQuery;
        std::istringstream words(head.substr(6));
        words >> r.argument;
        std::string opt;
        while (words >> opt) {
          if (opt == "rowsort") r.rowsort = true;
          else ADD_FAILURE() << name << ":" << n << ": unknown query option '" << opt << "'";
        }
      } else {
        ADD_FAILURE() << name << ":" << n << ": expected a record header (statement ok|notice|error, query, engine), got: "
                      << line;
        continue;
      }
      out.push_back(r);
      cur = &out.back();
      continue;
    }
    if (line == "----") {
      in_expected = true;
      cur->has_expected = true;
    } else if (in_expected) {
      cur->expected.push_back(line);
    } else {
      cur->sql += (cur->sql.empty() ? "" : "\n") + line;
    }
  }
  return out;
}

// A cell as the expected rows write it: NULL, R columns rounded to 6 decimals, else the text.
std::string Cell(const Value& v, char type) {
  if (type == 'R' && v.kind() == Value::Kind::kDouble) return FormatDouble(std::round(v.as_double() * 1e6) / 1e6);
  return v.ToString();
}

std::string Replace(std::string s, const std::string& from, const std::string& to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) s.replace(at, from.size(), to);
  return s;
}

class SqlFileTest : public ::testing::Test {
 public:
  explicit SqlFileTest(fs::path file) : file_(std::move(file)) {}

  void TestBody() override {
    const std::string name = file_.filename().string();
    lake_ = dir_.path() / "lake";
    testing::WriteOrders(lake_, testing::OrdersSelect(testing::SampleRows()));
    ASSERT_NO_FATAL_FAILURE(Open(true));
    std::vector<Record> records = ParseFile(name, orderlake::testing::read_file(file_));
    ASSERT_FALSE(records.empty()) << name << ": no records";
    for (const Record& r : records) {
      SCOPED_TRACE(name + ":" + std::to_string(r.line));
      Run(name + ":" + std::to_string(r.line), r);
    }
  }

 private:
  void Open(bool with_catalog) {
    engine_.reset();
    EngineOptions o;
    if (with_catalog) o.catalog = dir_.path() / ("catalog-" + std::to_string(++opened_) + ".db");
    auto e = Engine::Open(lake_, o);
    ASSERT_TRUE(e.ok()) << e.status().message();
    engine_ = std::move(e).value();
  }

  std::string Sql(const Record& r) const {
    return Replace(Replace(r.sql, "${LAKE}", lake_.string()), "${DIR}", dir_.path().string());
  }

  void Run(const std::string& where, const Record& r) {
    if (r.kind == Record::kEngine) return Open(r.argument == "catalog");
    auto result = engine_->Execute(Sql(r));
    if (r.kind == Record::kStatementError) return CheckError(where, r, result);
    if (!result.ok()) {
      ADD_FAILURE() << where << ": expected success, got: " << result.status().message() << "\n" << r.sql;
      return;
    }
    if (r.kind == Record::kQuery) return CheckRows(where, r, *result);
    // statement notice TEXT, and each line after "----": some notice contains it.
    std::vector<std::string> notices = r.expected;
    if (r.kind == Record::kStatementNotice) notices.insert(notices.begin(), r.argument);
    for (const auto& want : notices) {
      bool found = false;
      for (const auto& n : result->notices) found = found || n.find(want) != std::string::npos;
      EXPECT_TRUE(found) << where << ": no notice contains '" << want << "'; notices:\n  "
                         << ::testing::PrintToString(result->notices);
    }
  }

  void CheckError(const std::string& where, const Record& r, const Result<QueryResult>& result) {
    if (result.ok()) {
      ADD_FAILURE() << where << ": expected an error containing '" << r.argument << "', but the statement succeeded\n"
                    << r.sql;
      return;
    }
    const std::string& msg = result.status().message();
    EXPECT_NE(msg.find(r.argument), std::string::npos) << where << ": error does not contain '" << r.argument
                                                         << "':\n" << msg;
    if (r.has_expected) {
      std::string want;
      for (size_t i = 0; i < r.expected.size(); ++i) want += (i ? "\n" : "") + r.expected[i];
      EXPECT_NE(msg.find(want), std::string::npos) << where << ": error does not contain the expected text:\n"
                                                     << want << "\n--- got:\n" << msg;
    }
  }

  void CheckRows(const std::string& where, const Record& r, const QueryResult& result) {
    const std::string& types = r.argument;
    ASSERT_EQ(result.columns.size(), types.size()) << where << ": the query has " << result.columns.size()
                                                   << " columns, the header names " << types.size() << " types";
    std::vector<std::string> got;
    for (const auto& row : result.rows) {
      std::string line;
      for (size_t c = 0; c < row.size(); ++c) line += (c ? "|" : "") + Cell(row[c], types[c]);
      got.push_back(line);
    }
    std::vector<std::string> want = r.expected;
    if (r.rowsort) {
      std::sort(got.begin(), got.end());
      std::sort(want.begin(), want.end());
    }
    EXPECT_EQ(got, want) << where << ": rows differ\n" << r.sql;
  }

  fs::path file_;
  orderlake::testing::TempDir dir_;
  fs::path lake_;
  std::unique_ptr<Engine> engine_;
  int opened_ = 0;
};

}  // namespace
}  // namespace orderlake::query

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (argc < 2) {
    std::fprintf(stderr, "usage: test_sqllogic FILE.test...\n");
    return 2;
  }
  for (int i = 1; i < argc; ++i) {
    std::filesystem::path file = argv[i];
    ::testing::RegisterTest("SqlFile", file.stem().string().c_str(), nullptr, file.string().c_str(), __FILE__, __LINE__,
                            [file]() -> ::testing::Test* { return new orderlake::query::SqlFileTest(file); });
  }
  return RUN_ALL_TESTS();
}
