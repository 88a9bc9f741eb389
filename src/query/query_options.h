// The options of `orderlake query` (the Athena stage's command line) and the checks of the
// engine's options (EngineOptions, query/engine.h): defaults in one place, Validate() whose
// errors name the flag as the user knows it. The CLI maps its flags into these structs.
#pragma once
#include <string>
#include <vector>

#include "core/status.h"

namespace orderlake::query {

struct QueryOptions {
  std::string lake;                            // --lake: DIR, file://DIR or s3://bucket/prefix; "" = DATA_DIR/lake
  std::string data_dir = "./orderlake-data";   // --data-dir: root of the embedded defaults
  std::string catalog;                         // --catalog: "" = DATA_DIR/catalog/catalog.db
  std::string format = "table";                // --format: table, csv, json or jsonl
  std::string file;                            // -f/--file: a SQL script ("-" = stdin); "" = none
  std::vector<std::string> sql;                // SQL given as arguments (joined with spaces)
  bool timing = false;                         // --timing: each statement's run time on stderr

  // --format is one of the formats; --file and SQL arguments are not both given; a lake is
  // named (--lake, or --data-dir for DATA_DIR/lake).
  Status Validate() const;
};

}  // namespace orderlake::query
