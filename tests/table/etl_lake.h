// A lake written by the real etl, batch after batch of generated order lines (the table
// tests' fixture): each AddBatch is one `orderlake generate` and one etl run, so one commit.
#pragma once
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "etl/job.h"
#include "test_util.h"

namespace orderlake::testing {

struct EtlLake {
  TempDir dir;
  uint64_t rows = 0;  // the rows the generator says the batches hold
  std::filesystem::path lake() const { return dir.path() / "lake"; }
  // `count` lines over `days` days from 2010-12-01, then an etl run over every batch's
  // input (the earlier ones already taken).
  void AddBatch(int seed, int count = 120, int days = 1) {
    const std::filesystem::path in = dir.path() / "in" / std::to_string(seed);
    auto g = run_orderlake({"generate", "--count", std::to_string(count), "--seed", std::to_string(seed), "--start",
                            "2010-12-01", "--days", std::to_string(days), "--out", in.string(), "--summary", "-"});
    ASSERT_EQ(g.exit_code, 0) << g.err;
    rows += nlohmann::json::parse(g.out)["expected"]["rows"].get<uint64_t>();
    etl::EtlOptions o;
    o.input = (dir.path() / "in").string();
    o.lake = lake().string();
    o.threads = 1;
    auto r = etl::run_etl(o);
    ASSERT_TRUE(r.ok()) << r.status().message();
  }
};

}  // namespace orderlake::testing
