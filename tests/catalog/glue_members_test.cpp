// The catalog's Glue members (schema version 1): an older file is migrated in place and keeps
// its tables; Glue's members survive DDL and crawler updates; documents and bounded job runs.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "test_util.h"

namespace orderlake::catalog {
namespace {
using testing::TempDir;

Table Csv(const std::string& name) {
  Table t;
  t.name = name;
  t.location = "s3://orderlake-raw/" + name;
  t.format = "csv";
  t.delimiter = "|";
  t.columns = {{"a", "int"}, {"b", "string"}};
  t.partition_keys = {{"dt", "string"}};
  return t;
}

// A catalog file as orderlake wrote it before the Glue API (schema version 0).
void WriteVersion0(const std::filesystem::path& file) {
  std::filesystem::create_directories(file.parent_path());
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(file.c_str(), &db), SQLITE_OK);
  const char* sql = R"(
CREATE TABLE databases (name TEXT PRIMARY KEY NOT NULL);
CREATE TABLE tables (database TEXT NOT NULL, name TEXT NOT NULL, location TEXT NOT NULL, format TEXT NOT NULL,
  compression TEXT NOT NULL, has_header INTEGER NOT NULL, delimiter TEXT NOT NULL, columns TEXT NOT NULL,
  partition_keys TEXT NOT NULL, PRIMARY KEY (database, name));
CREATE TABLE partitions (database TEXT NOT NULL, table_name TEXT NOT NULL, vals TEXT NOT NULL,
  location TEXT NOT NULL, PRIMARY KEY (database, table_name, vals));
INSERT INTO databases VALUES ('default');
INSERT INTO tables VALUES ('default', 'old', 'file:///x/old', 'json', 'gzip', 0, ',', '[["id","bigint"]]', '[["dt","date"]]');
INSERT INTO partitions VALUES ('default', 'old', '["2010-12-01"]', 'file:///x/old/dt=2010-12-01');
)";
  char* err = nullptr;
  ASSERT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
  sqlite3_close(db);
}

TEST(CatalogGlue, OlderFilesAreMigratedAndKeepTheirTables) {
  TempDir tmp;
  const auto file = tmp.path() / "catalog.db";
  WriteVersion0(file);
  for (int round = 0; round < 2; ++round) {  // the second open finds the current version
    auto c = Catalog::Open(file);
    ASSERT_TRUE(c.ok()) << c.status().message();
    auto t = c.value()->GetTable("default", "old");
    ASSERT_TRUE(t.ok() && t.value());
    EXPECT_EQ(t.value()->format, "json");
    EXPECT_EQ(t.value()->compression, "gzip");
    EXPECT_EQ(t.value()->columns, (std::vector<Column>{{"id", "bigint"}}));
    EXPECT_EQ(c.value()->Partitions("default", "old")->size(), 1u);
    auto info = c.value()->GetTableInfo("default", "old");
    ASSERT_TRUE(info.ok() && info.value());
    EXPECT_EQ(info.value()->table_type, "EXTERNAL_TABLE");
    EXPECT_EQ(info.value()->create_time, 0);  // unknown for older files
    auto db = c.value()->GetDatabase("default");
    ASSERT_TRUE(db.ok() && db.value());
    EXPECT_EQ(db.value()->create_time, 0);
    EXPECT_TRUE(c.value()->PutDocument("crawler", "c" + std::to_string(round), "{}", true).value());
  }
  auto c = Catalog::Open(file);
  EXPECT_EQ(c.value()->Documents("crawler")->size(), 2u);
}

TEST(CatalogGlue, NewerSchemaIsRefused) {
  TempDir tmp;
  const auto file = tmp.path() / "catalog.db";
  ASSERT_TRUE(Catalog::Open(file).ok());
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(file.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "PRAGMA user_version = 99", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  auto c = Catalog::Open(file);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("schema version 99"), std::string::npos) << c.status().message();
}

TEST(CatalogGlue, GlueMembersSurviveDdlAndCrawlerUpdates) {
  TempDir tmp;
  auto c = Catalog::Open(tmp.path() / "catalog.db").value();
  TableInfo info;
  info.description = "events";
  info.parameters = {{"classification", "csv"}, {"table_type", "EXTERNAL"}};
  info.serde_library = "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe";
  info.serde_parameters = {{"field.delim", "|"}};
  ASSERT_TRUE(c->PutTable(Csv("e"), info).ok());
  auto first = c->GetTableInfo("default", "e").value().value();
  EXPECT_GT(first.create_time, 0);
  EXPECT_EQ(first.description, "events");
  EXPECT_EQ(first.serde_parameters.at("field.delim"), "|");

  Table ddl = Csv("e");
  ddl.columns.push_back({"c", "double"});
  ASSERT_TRUE(c->PutTable(ddl).ok());  // DDL: Glue's members kept
  Table crawled = ddl;
  crawled.columns.push_back({"d", "string"});
  ASSERT_TRUE(c->UpsertTable(crawled, {{{"2026-01-01"}, "s3://orderlake-raw/e/dt=2026-01-01"}}).ok());
  auto after = c->GetTableInfo("default", "e").value().value();
  EXPECT_EQ(after.description, "events");
  EXPECT_EQ(after.parameters, info.parameters);
  EXPECT_EQ(after.create_time, first.create_time);
  EXPECT_EQ(c->GetTable("default", "e").value()->columns.size(), 4u);

  ASSERT_EQ(c->DropPartitions("default", "e", {{"2026-01-01"}, {"nope"}}).value(), 1u);
  EXPECT_TRUE(c->Partitions("default", "e")->empty());
}

TEST(CatalogGlue, DatabasesCreateUpdateDrop) {
  TempDir tmp;
  auto c = Catalog::Open(tmp.path() / "catalog.db").value();
  Database d;
  d.name = "shop";
  d.description = "the shop";
  d.location_uri = "s3://orderlake-raw/shop";
  d.parameters = {{"k", "v"}};
  Database nope;
  nope.name = "nope";
  EXPECT_TRUE(c->CreateDatabase(d).value());
  EXPECT_FALSE(c->CreateDatabase(d).value());
  d.description = "changed";
  EXPECT_TRUE(c->UpdateDatabase(d).value());
  EXPECT_FALSE(c->UpdateDatabase(nope).value());
  auto got = c->GetDatabase("shop").value().value();
  EXPECT_EQ(got.description, "changed");
  EXPECT_EQ(got.location_uri, "s3://orderlake-raw/shop");
  EXPECT_GT(got.create_time, 0);
  Table t = Csv("t");
  t.database = "shop";
  ASSERT_TRUE(c->PutTable(t).ok());
  ASSERT_EQ(c->AddPartitions("shop", "t", {{{"x"}, "s3://orderlake-raw/t/dt=x"}}).value(), 1u);
  EXPECT_TRUE(c->DropDatabase("shop").value());
  EXPECT_FALSE(c->DropDatabase("shop").value());
  EXPECT_FALSE(c->GetTable("shop", "t").value());
  EXPECT_TRUE(c->Partitions("shop", "t")->empty());
}

TEST(CatalogGlue, JobRunsKeepTheNewest) {
  TempDir tmp;
  auto c = Catalog::Open(tmp.path() / "catalog.db").value();
  ASSERT_TRUE(c->PutDocument("job", "j", "{}", true).value());
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE(c->PutJobRun("j", "r" + std::to_string(i), 1000 + i, "{\"n\":" + std::to_string(i) + "}", 3).ok());
  ASSERT_TRUE(c->PutJobRun("j", "r4", 1004, "{\"n\":44}", 3).ok());  // replaced, not added
  auto runs = c->JobRuns("j").value();
  EXPECT_EQ(runs, (std::vector<std::string>{"{\"n\":44}", "{\"n\":3}", "{\"n\":2}"}));
  EXPECT_FALSE(c->GetJobRun("j", "r0").value());
  EXPECT_EQ(c->GetJobRun("j", "r3").value().value(), "{\"n\":3}");
  EXPECT_TRUE(c->DeleteDocument("job", "j").value());
  EXPECT_TRUE(c->JobRuns("j")->empty());
  EXPECT_FALSE(c->DeleteDocument("job", "j").value());
}

}  // namespace
}  // namespace orderlake::catalog
