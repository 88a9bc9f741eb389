// The SQL scanner (both dialects) and the Athena DDL parser on any text. Properties of the
// scanner: tokens are in order, inside the text, do not overlap; a scan error points inside
// the text; the scan without comments is the scan with the comments taken out. The DDL
// parser answers "not DDL", a statement, or an error; PositionMessage never fails.
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_util.h"
#include "query/athena_ddl.h"
#include "query/sql_scanner.h"

using namespace orderlake;

namespace {

void CheckScan(std::string_view sql, query::SqlDialect dialect) {
  query::ScanResult all = query::ScanSql(sql, dialect);
  size_t end = 0, comments = 0;
  for (const auto& t : all.tokens) {
    if (t.offset < end || t.end() > sql.size() || t.length == 0) fuzz::Fail("tokens overlap or leave the text");
    if (t.line < 1 || t.column < 1) fuzz::Fail("a token with a line or column below 1");
    end = t.end();
    comments += t.IsComment();
  }
  if (all.error) {
    if (all.error->offset > sql.size()) fuzz::Fail("a scan error outside the text");
    (void)query::PositionMessage(sql, all.error->offset, all.error->message);
  }
  query::ScanResult bare = query::ScanSqlWithoutComments(sql, dialect);
  if (bare.tokens.size() + comments != all.tokens.size()) fuzz::Fail("the scan without comments lost tokens");
  if (bare.error.has_value() != all.error.has_value()) fuzz::Fail("the scan without comments disagrees on errors");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view sql(reinterpret_cast<const char*>(data), size);
  CheckScan(sql, query::SqlDialect::kDuckDb);
  CheckScan(sql, query::SqlDialect::kHive);
  if (auto ddl = query::ParseAthenaDdl(sql)) {
    if (ddl->ok()) {
      (void)query::StatementName(**ddl);
      (void)query::ChangesCatalog(**ddl);
    } else if (ddl->status().message().empty()) {
      fuzz::Fail("a DDL error without a message");
    }
  }
  (void)query::ReferencedNames(sql);
  (void)query::PositionMessage(sql, size / 2, "here");
  return 0;
}
