// Reading `orderlake up`'s banner in the up tests.
#pragma once
#include <string>

#include "test_util.h"

namespace orderlake::testing {

// The dashboard URL `up` printed ("orderlake is up: dashboard at <url>"), waiting up to
// `timeout_s` seconds; empty when it did not come.
inline std::string WaitForDashboardUrl(BackgroundProcess& up, double timeout_s = 60) {
  std::string url;
  wait_for(
      [&] {
        const std::string out = up.out();
        const size_t at = out.find("dashboard at ");
        if (at == std::string::npos || out.find('\n', at) == std::string::npos) return false;
        url = out.substr(at + 13, out.find('\n', at) - at - 13);
        return true;
      },
      timeout_s);
  return url;
}

}  // namespace orderlake::testing
