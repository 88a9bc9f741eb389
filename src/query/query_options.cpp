#include "query/query_options.h"

#include "query/format.h"

namespace orderlake::query {

Status QueryOptions::Validate() const {
  if (!ParseOutputFormat(format))
    return Status::Errorf("--format must be table, csv, json or jsonl, got '{}'", format);
  if (!file.empty() && !sql.empty())
    return Status::Error("--file and SQL arguments exclude each other: give the statements one way");
  if (lake.empty() && data_dir.empty())
    return Status::Error("--data-dir must not be empty when --lake is not given (the lake is DATA_DIR/lake)");
  return Status::OK();
}

}  // namespace orderlake::query
