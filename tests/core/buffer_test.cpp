// Buffer: appending nothing, and consuming nothing, are no-ops, also before the first
// allocation (found by `scripts/test.sh --sanitize`: the etl's line reader appended an
// empty view to an empty Buffer, and memcpy(nullptr, ..., 0) is undefined behaviour that
// UBSan reports; this test fails under UBSan without the fix).
#include "core/buffer.h"

#include <gtest/gtest.h>

namespace orderlake {
namespace {

TEST(Buffer, EmptyAppendsAndConsumesAreNoOpsEvenBeforeTheFirstAllocation) {
  Buffer b;
  b.append({});
  b.consume(0);
  EXPECT_TRUE(b.empty());
  EXPECT_EQ(b.view(), "");
  b.append("line\npartial");
  b.consume(5);
  b.append({});
  EXPECT_EQ(b.view(), "partial");
  b.consume(7);
  EXPECT_TRUE(b.empty());
}

}  // namespace
}  // namespace orderlake
