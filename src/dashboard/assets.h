// The page's files, compiled into the binary (see assets.cpp and the "dashboard web
// assets" block of CMakeLists.txt): web/index.html, web/app.js, web/style.css, web/API.md,
// ECharts' dist/echarts.min.js from web/node_modules (installed by scripts/setup.sh from
// web/package-lock.json) and sql/queries.sql (the SQL console's samples).
#pragma once
#include <optional>
#include <string_view>

namespace orderlake::dashboard {

struct Asset {
  std::string_view path;          // URL path: "/", "/app.js", "/vendor/echarts.min.js", ...
  std::string_view content_type;  // "text/html; charset=utf-8", ...
  std::string_view data;          // empty when the build had no copy (see missing_hint)
  bool immutable = false;         // versioned third-party file: may be cached long
};

// The asset served at a URL path, if any.
std::optional<Asset> FindAsset(std::string_view url_path);

// The text of sql/queries.sql as built in.
std::string_view SampleQueriesSql();

// Every built-in asset, for listing and tests.
const Asset* AllAssets(size_t* count);

}  // namespace orderlake::dashboard
