// `orderlake crawl`: the Glue crawler (infers a table at a location into the catalog).
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "catalog/catalog.h"
#include "cli/commands.h"
#include "crawl/crawler.h"
#include "store/object_store.h"

namespace orderlake::cli {
namespace {

struct CrawlArgs {
  std::string location;
  std::string database = "default";
  std::string table;
  std::string catalog;
  std::string data_dir = "./orderlake-data";
};

constexpr const char* kExamples = R"(Examples:
  orderlake crawl ./orderlake-data/lake/orders                 # the curated table -> default.orders
  orderlake crawl ./orderlake-data/s3/raw --table raw_orders    # raw CSV or JSON lines, plain or gzip
  orderlake crawl s3://my-lake/orders --catalog /var/lib/orderlake/catalog.db

Infers format (Parquet, JSON lines, CSV with its delimiter and header), compression, column
types and Hive partitions (key=value directories) as a Glue crawler does, then creates or
updates the table and its partitions in the catalog (default <data-dir>/catalog/catalog.db)
and prints what changed. Crawling unchanged data again changes nothing.)";

int Run(const CrawlArgs& a) {
  crawl::Options opts;
  opts.database = a.database;
  opts.table = a.table;
  if (Status v = opts.Validate(); !v.ok()) {
    std::fprintf(stderr, "orderlake crawl: %s\n", v.message().c_str());
    return 2;
  }
  auto store = store::Open(a.location);
  if (!store.ok()) {
    std::fprintf(stderr, "orderlake crawl: %s\n", store.status().message().c_str());
    return 1;
  }
  const std::filesystem::path cat_path =
      a.catalog.empty() ? catalog::Catalog::DefaultPath(a.data_dir) : std::filesystem::path(a.catalog);
  auto cat = catalog::Catalog::Open(cat_path);
  if (!cat.ok()) {
    std::fprintf(stderr, "orderlake crawl: %s\n", cat.status().message().c_str());
    return 1;
  }
  auto rep = crawl::Crawl(*store.value(), *cat.value(), opts);
  if (!rep.ok()) {
    std::fprintf(stderr, "orderlake crawl: %s\n", rep.status().message().c_str());
    return 1;
  }
  std::printf("%s\n", rep->Describe().c_str());
  return 0;
}

}  // namespace

void add_crawl_command(CLI::App& app) {
  auto a = std::make_shared<CrawlArgs>();
  CLI::App* cmd = app.add_subcommand("crawl", "Infer the table at a location into the catalog (the Glue crawler)");
  cmd->footer(kExamples);
  cmd->add_option("location", a->location, "A local directory, file://… or s3://bucket/prefix")->required();
  cmd->add_option("--database", a->database, "Catalog database")->capture_default_str();
  cmd->add_option("--table", a->table, "Table name (default: the location's last component, Glue-style)");
  auto* c = cmd->add_option("--catalog", a->catalog, "Catalog file (default <data-dir>/catalog/catalog.db)");
  cmd->add_option("--data-dir", a->data_dir, "Root of the embedded defaults")->capture_default_str()->excludes(c);
  cmd->callback([a] { exit_code() = Run(*a); });
}

}  // namespace orderlake::cli
