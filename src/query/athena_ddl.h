// Athena DDL that has nothing to do over a local lake, accepted so that the original
// project's scripts run unchanged:
//   CREATE EXTERNAL TABLE [IF NOT EXISTS] [db.]orders|tbsm_red_transformed (...) ...
//     -> accepted, nothing created (the table is always defined over the lake); columns
//        declared both as columns and as partition keys (as the original DDL did with
//        Country and InvoiceDateOnly, which Athena itself rejects) are partition keys,
//        with a warning; columns the lake does not have are reported.
//   MSCK REPAIR TABLE orders|tbsm_red_transformed
//     -> accepted: partitions are found at every query.
// CREATE EXTERNAL TABLE for any other table is refused (the endpoint is read-only).
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace orderlake::query {

// nullopt when `sql` is not one of these statements; otherwise the notices to show the
// user, or the reason it is refused. `location` names where the table's data lives.
std::optional<Result<std::vector<std::string>>> AthenaDdlNoOp(std::string_view sql, std::string_view location);

}  // namespace orderlake::query
