// The catalog: tables and partitions persist, UpsertTable merges as a Glue crawler does, and
// several connections write at once without losing anything.
#include "catalog/catalog.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "test_util.h"

namespace orderlake::catalog {
namespace {
using testing::TempDir;

Table Sample(const std::string& name) {
  Table t;
  t.database = "default";
  t.name = name;
  t.location = "file:///data/" + name;
  t.format = "csv";
  t.delimiter = ";";
  t.has_header = true;
  t.columns = {{"a", "int"}, {"b", "string"}};
  t.partition_keys = {{"dt", "date"}};
  return t;
}

TEST(Catalog, TablesAndPartitionsPersist) {
  TempDir tmp;
  const auto file = Catalog::DefaultPath(tmp.path());
  EXPECT_EQ(file, tmp.path() / "catalog" / "catalog.db");
  {
    auto c = Catalog::Open(file);
    ASSERT_TRUE(c.ok()) << c.status().message();
    ASSERT_TRUE(c.value()->PutTable(Sample("t1")).ok());
    auto n = c.value()->AddPartitions("default", "t1",
                                      {{{"2010-12-01"}, "file:///data/t1/dt=2010-12-01"},
                                       {{"2010-12-02"}, "file:///data/t1/dt=2010-12-02"}});
    ASSERT_TRUE(n.ok()) << n.status().message();
    EXPECT_EQ(n.value(), 2u);
    auto again = c.value()->AddPartitions("default", "t1", {{{"2010-12-01"}, "file:///data/t1/dt=2010-12-01"}});
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again.value(), 0u);
    EXPECT_FALSE(c.value()->AddPartitions("default", "nope", {}).ok());
  }
  auto c = Catalog::Open(file);
  ASSERT_TRUE(c.ok());
  auto t = c.value()->GetTable("default", "t1");
  ASSERT_TRUE(t.ok());
  ASSERT_TRUE(t.value().has_value());
  EXPECT_EQ(*t.value(), Sample("t1"));
  auto parts = c.value()->Partitions("default", "t1");
  ASSERT_TRUE(parts.ok());
  ASSERT_EQ(parts->size(), 2u);
  EXPECT_EQ(parts.value()[1].values, std::vector<std::string>{"2010-12-02"});
  EXPECT_EQ(parts.value()[1].location, "file:///data/t1/dt=2010-12-02");
  EXPECT_EQ(c.value()->Databases().value(), std::vector<std::string>{"default"});
  EXPECT_EQ(c.value()->Tables("default").value(), std::vector<std::string>{"t1"});
  EXPECT_FALSE(c.value()->GetTable("default", "t2").value().has_value());

  auto dropped = c.value()->DropTable("default", "t1");
  ASSERT_TRUE(dropped.ok());
  EXPECT_TRUE(dropped.value());
  EXPECT_FALSE(c.value()->DropTable("default", "t1").value());
  EXPECT_TRUE(c.value()->Partitions("default", "t1").value().empty());
}

TEST(Catalog, FindPartitionsLooksUpByValues) {
  TempDir tmp;
  auto c = Catalog::Open(Catalog::DefaultPath(tmp.path()));
  ASSERT_TRUE(c.ok()) << c.status().message();
  ASSERT_TRUE(c.value()->PutTable(Sample("t1")).ok());
  ASSERT_TRUE(c.value()
                  ->AddPartitions("default", "t1",
                                  {{{"2010-12-01"}, "file:///data/t1/dt=2010-12-01"},
                                   {{"2010-12-02"}, "file:///data/t1/dt=2010-12-02"},
                                   {{"2010-12-03"}, "file:///data/t1/dt=2010-12-03"}})
                  .ok());
  auto found = c.value()->FindPartitions("default", "t1", {{"2010-12-03"}, {"2011-01-01"}, {"2010-12-01"}, {"2010-12-03"}});
  ASSERT_TRUE(found.ok()) << found.status().message();
  EXPECT_EQ(found.value(), (std::vector<Partition>{{{"2010-12-01"}, "file:///data/t1/dt=2010-12-01"},
                                                   {{"2010-12-03"}, "file:///data/t1/dt=2010-12-03"}}));
  auto none = c.value()->FindPartitions("default", "other", {{"2010-12-01"}});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none.value().empty());
}

TEST(Catalog, UpsertMergesLikeACrawler) {
  TempDir tmp;
  auto c = Catalog::Open(tmp.path() / "c.db");
  ASSERT_TRUE(c.ok()) << c.status().message();
  Catalog& cat = *c.value();
  Table t = Sample("t");
  auto r = cat.UpsertTable(t, {{{"2010-12-01"}, "x"}});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(r->created);
  EXPECT_EQ(r->partitions_added, 1u);

  r = cat.UpsertTable(t, {{{"2010-12-01"}, "x"}});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->empty());

  // A new column and a wider type; a dropped column is kept (as Glue keeps it).
  Table t2 = t;
  t2.columns = {{"a", "bigint"}, {"c", "double"}};
  r = cat.UpsertTable(t2, {{{"2010-12-01"}, "x"}, {{"2010-12-02"}, "y"}});
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->created);
  EXPECT_EQ(r->columns_added, std::vector<std::string>{"c"});
  EXPECT_EQ(r->columns_changed, std::vector<std::string>{"a: int -> bigint"});
  EXPECT_EQ(r->partitions_added, 1u);
  auto got = cat.GetTable("default", "t").value();
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->columns, (std::vector<Column>{{"a", "bigint"}, {"b", "string"}, {"c", "double"}}));

  // Other partition keys: the old partitions go.
  Table t3 = t2;
  t3.partition_keys = {{"country", "string"}};
  r = cat.UpsertTable(t3, {{{"France"}, "z"}});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->partition_keys_changed);
  auto parts = cat.Partitions("default", "t").value();
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_EQ(parts[0].values, std::vector<std::string>{"France"});
}

TEST(Catalog, ConcurrentWritersAllLand) {
  TempDir tmp;
  const auto file = tmp.path() / "c.db";
  constexpr int kWriters = 4, kTables = 25;
  std::vector<std::thread> threads;
  std::vector<std::string> errors(kWriters);
  for (int w = 0; w < kWriters; ++w)
    threads.emplace_back([&, w] {
      auto c = Catalog::Open(file);  // one connection each, as separate processes have
      if (!c.ok()) {
        errors[w] = c.status().message();
        return;
      }
      for (int i = 0; i < kTables; ++i) {
        Table t = Sample("w" + std::to_string(w) + "_" + std::to_string(i));
        auto r = c.value()->UpsertTable(t, {{{"2010-12-01"}, "p"}, {{"2010-12-02"}, "q"}});
        if (!r.ok()) {
          errors[w] = r.status().message();
          return;
        }
      }
    });
  for (auto& t : threads) t.join();
  for (const auto& e : errors) EXPECT_EQ(e, "");
  auto c = Catalog::Open(file);
  ASSERT_TRUE(c.ok());
  auto tables = c.value()->Tables("default");
  ASSERT_TRUE(tables.ok());
  EXPECT_EQ(tables->size(), static_cast<size_t>(kWriters * kTables));
  EXPECT_EQ(c.value()->Partitions("default", "w3_24").value().size(), 2u);
}

TEST(Catalog, UnopenableFileIsAClearError) {
  TempDir tmp;
  testing::write_file(tmp.path() / "file", "x");
  auto c = Catalog::Open(tmp.path() / "file" / "catalog.db");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("catalog.db"), std::string::npos) << c.status().message();
}

}  // namespace
}  // namespace orderlake::catalog
