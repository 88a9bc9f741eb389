// The SQL console's bounds in ServeOptions and IsolatedOptions: defaults, and errors that
// name the serve flag.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "dashboard/server.h"
#include "query/isolated.h"

namespace orderlake::dashboard {
namespace {

ServeOptions Valid() {
  ServeOptions o;
  o.lake = "/some/lake";
  return o;
}

TEST(ConsoleOptions, Defaults) {
  const ServeOptions o = Valid();
  EXPECT_TRUE(o.Validate().ok());
  EXPECT_EQ(o.sql_memory_mb, 1024u);
  EXPECT_EQ(o.sql_workers, 4);
  EXPECT_EQ(o.sql_per_client, 3);
  EXPECT_EQ(o.sql_threads, 1);
  EXPECT_EQ(o.sql_result_mb, 128u);
  query::IsolatedOptions io;
  io.lake = "/some/lake";
  EXPECT_TRUE(io.Validate().ok());
}

TEST(ConsoleOptions, ErrorsNameTheFlag) {
  ServeOptions o = Valid();
  o.sql_memory_mb = 10;
  EXPECT_EQ(o.Validate().message(), "--sql-memory-mb must be between 64 and 1048576, got 10");
  o = Valid();
  o.sql_workers = 0;
  EXPECT_EQ(o.Validate().message(), "--sql-workers must be between 1 and 64, got 0");
  o = Valid();
  o.sql_per_client = 0;
  EXPECT_EQ(o.Validate().message(), "--sql-per-client must be between 1 and 64, got 0");
  o = Valid();
  o.sql_workers = 2;  // more per client than workers: they wait for one
  EXPECT_TRUE(o.Validate().ok());
  o = Valid();
  o.sql_threads = 0;
  EXPECT_EQ(o.Validate().message(), "--sql-threads must be between 1 and 64, got 0");
  o = Valid();
  o.sql_result_mb = 0;
  EXPECT_EQ(o.Validate().message(), "--sql-result-mb must be between 1 and 4096, got 0");
  query::IsolatedOptions io;
  io.lake = "/some/lake";
  io.nice = 25;
  EXPECT_EQ(io.Validate().message(), "the SQL workers' nice value must be between 0 and 19, got 25");
}

TEST(ConsoleOptions, AWorkerProgramThatCannotRunIsAnErrorAtStart) {
  query::IsolatedOptions io;
  io.lake = "/tmp";
  io.executable = "/no/such/orderlake";
  auto ex = query::IsolatedExecutor::Create(io);
  ASSERT_FALSE(ex.ok());
  EXPECT_THAT(ex.status().message(), ::testing::HasSubstr("cannot run the SQL worker program '/no/such/orderlake'"));
}

}  // namespace
}  // namespace orderlake::dashboard
