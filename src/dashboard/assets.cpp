// The page's files embedded with the assembler's .incbin directive: the bytes go into
// .rodata as they are, at build time, without a conversion step (a 1 MB ECharts would
// take CMake's string functions far longer to turn into a C array). The paths come from
// compile definitions set by CMakeLists.txt, which also names the files as dependencies
// of this object, so editing web/ rebuilds it.
#include "dashboard/assets.h"

#include <iterator>

#ifndef ORDERLAKE_WEB_DIR
#error "ORDERLAKE_WEB_DIR must be defined (CMakeLists.txt, dashboard web assets block)"
#endif
#ifndef ORDERLAKE_SQL_FILE
#error "ORDERLAKE_SQL_FILE must be defined (CMakeLists.txt, dashboard web assets block)"
#endif

// Defines orderlake_asset_<sym>_begin/_end around the bytes of `file`.
#define ORDERLAKE_INCBIN(sym, file)                                  \
  __asm__(".section .rodata\n"                                       \
          ".global orderlake_asset_" #sym "_begin\n"                 \
          ".balign 16\n"                                             \
          "orderlake_asset_" #sym "_begin:\n"                        \
          ".incbin \"" file "\"\n"                                   \
          ".global orderlake_asset_" #sym "_end\n"                   \
          "orderlake_asset_" #sym "_end:\n"                          \
          ".byte 0\n"                                                \
          ".previous\n");                                            \
  extern "C" const char orderlake_asset_##sym##_begin[];             \
  extern "C" const char orderlake_asset_##sym##_end[];

ORDERLAKE_INCBIN(index_html, ORDERLAKE_WEB_DIR "/index.html")
ORDERLAKE_INCBIN(app_js, ORDERLAKE_WEB_DIR "/app.js")
ORDERLAKE_INCBIN(style_css, ORDERLAKE_WEB_DIR "/style.css")
ORDERLAKE_INCBIN(api_md, ORDERLAKE_WEB_DIR "/API.md")
ORDERLAKE_INCBIN(queries_sql, ORDERLAKE_SQL_FILE)
#ifdef ORDERLAKE_ECHARTS_JS
ORDERLAKE_INCBIN(echarts_js, ORDERLAKE_ECHARTS_JS)
#endif

namespace orderlake::dashboard {
namespace {

#define ORDERLAKE_ASSET_VIEW(sym) \
  std::string_view(orderlake_asset_##sym##_begin, static_cast<size_t>(orderlake_asset_##sym##_end - orderlake_asset_##sym##_begin))

const Asset kAssets[] = {
    {"/", "text/html; charset=utf-8", ORDERLAKE_ASSET_VIEW(index_html), false},
    {"/app.js", "text/javascript; charset=utf-8", ORDERLAKE_ASSET_VIEW(app_js), false},
    {"/style.css", "text/css; charset=utf-8", ORDERLAKE_ASSET_VIEW(style_css), false},
    {"/api.md", "text/markdown; charset=utf-8", ORDERLAKE_ASSET_VIEW(api_md), false},
#ifdef ORDERLAKE_ECHARTS_JS
    {"/vendor/echarts.min.js", "text/javascript; charset=utf-8", ORDERLAKE_ASSET_VIEW(echarts_js), true},
#else
    {"/vendor/echarts.min.js", "text/javascript; charset=utf-8", {}, true},
#endif
};

}  // namespace

std::optional<Asset> FindAsset(std::string_view path) {
  if (path == "/index.html") path = "/";
  for (const Asset& a : kAssets)
    if (a.path == path) return a;
  return std::nullopt;
}

std::string_view SampleQueriesSql() { return ORDERLAKE_ASSET_VIEW(queries_sql); }

const Asset* AllAssets(size_t* count) {
  *count = std::size(kAssets);
  return kAssets;
}

}  // namespace orderlake::dashboard
