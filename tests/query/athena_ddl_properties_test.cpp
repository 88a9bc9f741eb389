// ALTER TABLE … SET TBLPROPERTIES and SHOW TBLPROPERTIES on the lake's own Delta table
// through `orderlake query` (issue 13): the properties land in a metaData commit of the
// log, Delta's keys validated, user keys kept, defaults shown for what is not set.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "store/object_store.h"
#include "table/delta.h"
#include "table/properties.h"
#include "test_util.h"

namespace orderlake {
namespace {
namespace fs = std::filesystem;
using json = nlohmann::json;
using ::testing::HasSubstr;
using testing::read_file;
using testing::run_orderlake;
using testing::TempDir;

TEST(AthenaDdlProperties, SetAndShowTblPropertiesOfTheLakeTable) {
  TempDir dir;
  const fs::path lake = dir.path() / "lake";
  auto store = store::OpenLocal(lake.string());
  table::DeltaLog log(store.get(), "orders");
  table::Snapshot s;
  auto first = [] {
    return std::vector<json>{table::protocol_action(),
                             table::metadata_action({{"OrderID", "string"}, {"Country", "string"}}, {"Country"})};
  };
  ASSERT_TRUE(log.Commit(&s, {table::commit_info_action("WRITE", json::object())}, {}, first).ok());
  const std::string catalog = (dir.path() / "catalog.db").string();
  auto q = [&](const std::string& sql) {
    return run_orderlake({"query", "--lake", lake.string(), "--catalog", catalog, "--format", "csv", sql});
  };

  auto set = q("ALTER TABLE orders SET TBLPROPERTIES ('delta.checkpointInterval'='5', "
               "'delta.logRetentionDuration'='interval 1 hours', 'owner'='team-a')");
  ASSERT_EQ(set.exit_code, 0) << set.err;
  EXPECT_THAT(set.err, HasSubstr("properties set at version 1"));
  // One metaData commit, the table's id and schema kept, the configuration as set.
  const json md = json::parse(read_file(lake / "orders" / "_delta_log" / "00000000000000000001.json").substr(
      0, read_file(lake / "orders" / "_delta_log" / "00000000000000000001.json").find('\n')))["metaData"];
  EXPECT_EQ(md["id"], s.metadata["id"]);
  EXPECT_EQ(md["schemaString"], s.metadata["schemaString"]);
  EXPECT_EQ(md["configuration"],
            json({{"delta.checkpointInterval", "5"}, {"delta.logRetentionDuration", "interval 1 hours"}, {"owner", "team-a"}}));
  auto snap = log.Load();
  ASSERT_TRUE(snap.ok());
  EXPECT_EQ(table::TableProperties::Of(snap.value()).checkpoint_interval, 5);
  EXPECT_EQ(table::TableProperties::Of(snap.value()).log_retention_ms, 3600 * 1000);

  auto show = q("SHOW TBLPROPERTIES orders");
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_THAT(show.out, HasSubstr("delta.checkpointInterval,5,set"));
  EXPECT_THAT(show.out, HasSubstr("delta.logRetentionDuration,interval 1 hours,set"));
  EXPECT_THAT(show.out, HasSubstr("owner,team-a,set"));
  EXPECT_THAT(show.out, HasSubstr("delta.deletedFileRetentionDuration,interval 1 hours,default"));

  // The same values again: no new commit.
  auto again = q("ALTER TABLE orders SET TBLPROPERTIES ('delta.checkpointInterval'='5')");
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_THAT(again.err, HasSubstr("already had these values"));
  EXPECT_FALSE(fs::exists(lake / "orders" / "_delta_log" / "00000000000000000002.json"));

  // Refused, with a reason and nothing committed: unknown delta.* keys, values that do not
  // parse, tables that are not the lake's.
  auto unknown = q("ALTER TABLE orders SET TBLPROPERTIES ('delta.appendOnly'='true')");
  EXPECT_NE(unknown.exit_code, 0);
  EXPECT_THAT(unknown.err, HasSubstr("unknown Delta table property 'delta.appendOnly'"));
  auto bad = q("ALTER TABLE orders SET TBLPROPERTIES ('delta.logRetentionDuration'='1 month')");
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_THAT(bad.err, HasSubstr("delta.logRetentionDuration must be an interval such as 'interval 30 days'"));
  auto zero = q("ALTER TABLE orders SET TBLPROPERTIES ('delta.checkpointInterval'='0')");
  EXPECT_NE(zero.exit_code, 0);
  EXPECT_THAT(zero.err, HasSubstr("delta.checkpointInterval must be a whole number"));
  auto other = q("ALTER TABLE nope SET TBLPROPERTIES ('owner'='x')");
  EXPECT_NE(other.exit_code, 0);
  EXPECT_THAT(other.err, HasSubstr("no table default.nope"));
  auto syntax = q("ALTER TABLE orders SET TBLPROPERTIES 'owner'='x'");
  EXPECT_NE(syntax.exit_code, 0);
  EXPECT_THAT(syntax.err, HasSubstr("'(' after SET TBLPROPERTIES"));
  EXPECT_FALSE(fs::exists(lake / "orders" / "_delta_log" / "00000000000000000002.json"));

  // The programmatic way (`up --log-retention`): the same commit.
  auto v = table::SetTableProperties(store.get(), "orders", {{"delta.logRetentionDuration", "interval 2 hours"}});
  ASSERT_TRUE(v.ok()) << v.status().message();
  EXPECT_EQ(v.value(), 2);
  auto props = table::GetTableProperties(store.get(), "orders");
  ASSERT_TRUE(props.ok());
  EXPECT_EQ(props->at("delta.logRetentionDuration"), "interval 2 hours");
  EXPECT_EQ(props->at("owner"), "team-a");
}

}  // namespace
}  // namespace orderlake
