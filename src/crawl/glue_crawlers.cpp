// The Glue API's crawlers: definitions in the catalog file, StartCrawler runs this stage's
// crawler (Infer, then one catalog upsert) over each S3 target on a thread; state READY ->
// RUNNING -> (STOPPING ->) READY, LastCrawl and the metrics kept in the definition.
#include <fmt/format.h>

#include <algorithm>

#include "crawl/crawler.h"
#include "crawl/glue_internal.h"

namespace orderlake::crawl {
using namespace glue;

namespace {

constexpr size_t kMaxTargets = 16;

struct Crawlers {
  GlueApi::Impl& g;

  // The definition members of CreateCrawler/UpdateCrawler into `doc` (only those present
  // when updating).
  std::optional<ApiError> Input(const json& req, json& doc, bool create) {
    std::string s;
    for (const char* key : {"Role", "DatabaseName", "Description", "TablePrefix"}) {
      if (!create && !req.contains(key)) continue;
      if (auto e = GetString(req, key, s, create && std::string_view(key) == "Role", 2048)) return e;
      if ((std::string_view(key) == "DatabaseName" || std::string_view(key) == "TablePrefix") && !s.empty()) {
        if (auto e = CheckName(key, s, true)) return e;
        std::transform(s.begin(), s.end(), s.begin(), ::tolower);  // as the tables' names are
      }
      if (s.empty()) doc.erase(key);
      else doc[key] = s;
    }
    if (req.contains("SchemaChangePolicy")) {
      const json& p = req["SchemaChangePolicy"];
      if (!p.is_object()) return Invalid("SchemaChangePolicy must be an object");
      json policy{{"UpdateBehavior", "UPDATE_IN_DATABASE"}, {"DeleteBehavior", "DEPRECATE_IN_DATABASE"}};
      for (const char* key : {"UpdateBehavior", "DeleteBehavior"}) {
        if (auto e = GetString(p, key, s, false, 64)) return e;
        if (!s.empty()) policy[key] = s;
      }
      doc["SchemaChangePolicy"] = policy;
    } else if (create) {
      doc["SchemaChangePolicy"] = {{"UpdateBehavior", "UPDATE_IN_DATABASE"}, {"DeleteBehavior", "DEPRECATE_IN_DATABASE"}};
    }
    if (!create && !req.contains("Targets")) return std::nullopt;
    auto t = req.find("Targets");
    if (t == req.end() || !t->is_object()) return Invalid("Targets is required");
    json targets = json::array();
    if (t->contains("S3Targets")) {
      const json* list = nullptr;
      if (auto e = GetList(*t, "S3Targets", kMaxTargets, list)) return e;
      for (const auto& st : *list) {
        if (!st.is_object()) return Invalid("S3Targets must be S3Target objects");
        std::string path;
        if (auto e = GetString(st, "Path", path, true, 1024)) return e;
        if (auto r = g.Resolve(path, "S3Targets.Path"); r.index() == 1) return std::get<1>(r);
        json excl = json::array();
        if (st.contains("Exclusions")) {
          const json* ex = nullptr;
          if (auto e = GetList(st, "Exclusions", 64, ex)) return e;
          for (const auto& x : *ex) {
            if (!x.is_string() || x.get_ref<const std::string&>().empty() || x.get_ref<const std::string&>().size() > 256)
              return Invalid("Exclusions must be glob patterns of 1 to 256 characters");
            excl.push_back(x);
          }
        }
        targets.push_back({{"Path", path}, {"Exclusions", excl}});
      }
    }
    for (const char* other : {"JdbcTargets", "MongoDBTargets", "DynamoDBTargets", "CatalogTargets", "DeltaTargets"})
      if (t->contains(other) && !(*t)[other].empty())
        return Invalid(fmt::format("Targets.{} are not supported; only S3Targets", other));
    if (targets.empty()) return Invalid("Targets.S3Targets must name at least one path");
    doc["Targets"] = {{"S3Targets", targets}, {"JdbcTargets", json::array()}, {"CatalogTargets", json::array()}};
    return std::nullopt;
  }

  // The definition with its live state (under g.mu).
  json Shape(json doc) {
    auto run = g.crawling.find(doc.value("Name", ""));
    doc["State"] = run == g.crawling.end() ? "READY" : run->second->state;
    if (run != g.crawling.end()) doc["CrawlElapsedTime"] = NowMs() - run->second->start_ms;
    else doc["CrawlElapsedTime"] = 0;
    doc.erase("Metrics");
    doc["Classifiers"] = json::array();
    return doc;
  }

  std::variant<json, JsonResponse> Load(const std::string& name) {
    auto d = g.cat->GetDocument("crawler", name);
    if (!d.ok()) return Internal(d.status());
    if (!d.value()) return Error("EntityNotFoundException", fmt::format("Crawler entry with name {} does not exist", name));
    return json::parse(*d.value(), nullptr, false);
  }

  JsonResponse Create(const json& req) {
    std::string name;
    GLUE_TRY(GetName(req, "Name", name));
    json doc{{"Name", name}, {"Version", 1}};
    GLUE_TRY(Input(req, doc, true));
    const double now = static_cast<double>(NowMs()) / 1000;
    doc["CreationTime"] = now;
    doc["LastUpdated"] = now;
    std::lock_guard lk(g.mu);
    auto r = g.cat->PutDocument("crawler", name, doc.dump(), true);
    if (!r.ok()) return Internal(r.status());
    if (!r.value())
      return Error("AlreadyExistsException", fmt::format("Crawler with name {} has already been created", name));
    return Ok(json::object());
  }

  JsonResponse Update(const json& req) {
    std::string name;
    GLUE_TRY(GetName(req, "Name", name));
    std::lock_guard lk(g.mu);
    auto d = Load(name);
    if (auto* r = std::get_if<JsonResponse>(&d)) return *r;
    json& doc = std::get<0>(d);
    if (g.crawling.count(name)) return Error("CrawlerRunningException", fmt::format("Crawler with name {} is running", name));
    GLUE_TRY(Input(req, doc, false));
    doc["LastUpdated"] = static_cast<double>(NowMs()) / 1000;
    doc["Version"] = doc.value("Version", 1) + 1;
    auto r = g.cat->PutDocument("crawler", name, doc.dump(), false);
    if (!r.ok()) return Internal(r.status());
    return Ok(json::object());
  }

  JsonResponse Get(const json& req) {
    std::string name;
    GLUE_TRY(GetName(req, "Name", name));
    std::lock_guard lk(g.mu);
    auto d = Load(name);
    if (auto* r = std::get_if<JsonResponse>(&d)) return *r;
    return Ok({{"Crawler", Shape(std::get<0>(std::move(d)))}});
  }

  JsonResponse List(const json& req, bool metrics) {
    Page page;
    GLUE_TRY(GetPage(req, metrics ? 200 : 1000, page));
    std::vector<std::string> only;
    if (metrics && req.contains("CrawlerNameList")) GLUE_TRY(GetValues(req, "CrawlerNameList", only));
    std::lock_guard lk(g.mu);
    auto docs = g.cat->Documents("crawler");
    if (!docs.ok()) return Internal(docs.status());
    std::vector<json> chosen;
    for (auto& [name, text] : *docs)
      if (only.empty() || std::find(only.begin(), only.end(), name) != only.end())
        chosen.push_back(json::parse(text, nullptr, false));
    json list = json::array();
    for (size_t i = page.offset; i < chosen.size() && i < page.offset + page.limit; ++i) {
      if (!metrics) {
        list.push_back(Shape(chosen[i]));
        continue;
      }
      json m = chosen[i].value("Metrics", json::object());
      const bool running = g.crawling.count(chosen[i].value("Name", ""));
      list.push_back({{"CrawlerName", chosen[i].value("Name", "")},
                      {"TimeLeftSeconds", 0},
                      {"StillEstimating", running},
                      {"LastRuntimeSeconds", m.value("LastRuntimeSeconds", 0.0)},
                      {"MedianRuntimeSeconds", m.value("MedianRuntimeSeconds", 0.0)},
                      {"TablesCreated", m.value("TablesCreated", 0)},
                      {"TablesUpdated", m.value("TablesUpdated", 0)},
                      {"TablesDeleted", 0}});
    }
    json body{{metrics ? "CrawlerMetricsList" : "Crawlers", list}};
    SetNextToken(body, page, chosen.size());
    return Ok(body);
  }

  JsonResponse Delete(const json& req) {
    std::string name;
    GLUE_TRY(GetName(req, "Name", name));
    std::lock_guard lk(g.mu);
    if (g.crawling.count(name)) return Error("CrawlerRunningException", fmt::format("Crawler with name {} is running", name));
    auto r = g.cat->DeleteDocument("crawler", name);
    if (!r.ok()) return Internal(r.status());
    if (!r.value()) return Error("EntityNotFoundException", fmt::format("Crawler entry with name {} does not exist", name));
    return Ok(json::object());
  }

  JsonResponse Start(const json& req);
  JsonResponse Stop(const json& req) {
    std::string name;
    GLUE_TRY(GetName(req, "Name", name));
    std::lock_guard lk(g.mu);
    auto d = Load(name);
    if (auto* r = std::get_if<JsonResponse>(&d)) return *r;
    auto it = g.crawling.find(name);
    if (it == g.crawling.end())
      return Error("CrawlerNotRunningException", fmt::format("Crawler with name {} isn't running", name));
    if (it->second->state == "STOPPING")
      return Error("CrawlerStoppingException", fmt::format("Crawler with name {} is stopping", name));
    it->second->state = "STOPPING";
    it->second->stop = true;
    return Ok(json::object());
  }

  // One crawl of every target (on the worker thread). Returns the LastCrawl status.
  void Run(const std::string& name, json doc, std::shared_ptr<GlueApi::Impl::CrawlerRun> run);
};

void Crawlers::Run(const std::string& name, json doc, std::shared_ptr<GlueApi::Impl::CrawlerRun> run) {
  std::string error;
  std::vector<Report> reports;
  const std::string db = doc.value("DatabaseName", "").empty() ? "default" : doc.value("DatabaseName", "");
  for (const auto& target : doc["Targets"].value("S3Targets", json::array())) {
    if (run->stop) break;
    const std::string path = target.value("Path", "");
    auto loc = g.opt.buckets->Resolve(path, "S3Targets.Path");
    if (!loc.ok()) { error = loc.status().message(); break; }
    auto store = g.opt.buckets->OpenStore(loc.value());
    if (!store.ok()) { error = store.status().message(); break; }
    Options o;
    o.database = db;
    o.location_url = loc->url;
    while (o.location_url.size() > 5 && o.location_url.back() == '/') o.location_url.pop_back();
    o.table = doc.value("TablePrefix", "") + TableNameFor(o.location_url);
    for (const auto& x : target.value("Exclusions", json::array())) o.exclusions.push_back(x.get<std::string>());
    auto rep = Infer(*store.value(), o);
    if (!rep.ok()) { error = rep.status().message(); break; }
    reports.push_back(std::move(rep).value());
  }
  const double seconds = static_cast<double>(NowMs() - run->start_ms) / 1000;
  std::lock_guard lk(g.mu);
  std::string status = run->stop ? "CANCELLED" : error.empty() ? "SUCCEEDED" : "FAILED";
  int created = 0, updated = 0;
  if (status == "SUCCEEDED")  // written only when nothing failed and no one asked to stop
    for (const auto& rep : reports) {
      auto change = g.cat->UpsertTable(rep.table, rep.partitions);
      if (!change.ok()) {
        status = "FAILED";
        error = change.status().message();
        break;
      }
      created += change->created;
      updated += !change->created && !change->empty();
    }
  // Re-read: the definition may have been updated while it ran (UpdateCrawler refuses that, but be safe).
  auto cur = g.cat->GetDocument("crawler", name);
  if (cur.ok() && cur.value()) doc = json::parse(*cur.value(), nullptr, false);
  json last{{"Status", status}, {"StartTime", static_cast<double>(run->start_ms) / 1000},
            {"LogGroup", "/aws-glue/crawlers"}, {"LogStream", name}, {"MessagePrefix", name}};
  if (!error.empty()) last["ErrorMessage"] = error;
  doc["LastCrawl"] = last;
  json m = doc.value("Metrics", json::object());
  m["TablesCreated"] = m.value("TablesCreated", 0) + created;
  m["TablesUpdated"] = m.value("TablesUpdated", 0) + updated;
  m["LastRuntimeSeconds"] = seconds;
  m["MedianRuntimeSeconds"] = seconds;  // of the last run: runs are not kept one by one
  doc["Metrics"] = m;
  if (cur.ok() && cur.value()) (void)g.cat->PutDocument("crawler", name, doc.dump(), false);
  g.crawling.erase(name);
}

JsonResponse Crawlers::Start(const json& req) {
  std::string name;
  GLUE_TRY(GetName(req, "Name", name));
  std::lock_guard lk(g.mu);
  auto d = Load(name);
  if (auto* r = std::get_if<JsonResponse>(&d)) return *r;
  if (g.crawling.count(name))
    return Error("CrawlerRunningException", fmt::format("Crawler with name {} has already started", name));
  size_t running = g.crawling.size();
  for (const auto& [job, n] : g.job_running) running += static_cast<size_t>(n);
  if (g.closing || running >= static_cast<size_t>(g.opt.max_concurrent_runs))
    return Error("ResourceNumberLimitExceededException",
                 fmt::format("{} crawlers and job runs are running, the most this endpoint runs at once", running));
  auto run = std::make_shared<GlueApi::Impl::CrawlerRun>();
  run->start_ms = NowMs();
  g.crawling[name] = run;
  g.Spawn([this, name, doc = std::get<0>(std::move(d)), run] { Run(name, doc, run); });
  return Ok(json::object());
}

}  // namespace

void GlueApi::Impl::RegisterCrawlers() {
  auto c = std::make_shared<Crawlers>(Crawlers{*this});
  service.Add("CreateCrawler", [c](const json& r, const aws::JsonCall&) { return c->Create(r); });
  service.Add("UpdateCrawler", [c](const json& r, const aws::JsonCall&) { return c->Update(r); });
  service.Add("GetCrawler", [c](const json& r, const aws::JsonCall&) { return c->Get(r); });
  service.Add("GetCrawlers", [c](const json& r, const aws::JsonCall&) { return c->List(r, false); });
  service.Add("GetCrawlerMetrics", [c](const json& r, const aws::JsonCall&) { return c->List(r, true); });
  service.Add("DeleteCrawler", [c](const json& r, const aws::JsonCall&) { return c->Delete(r); });
  service.Add("StartCrawler", [c](const json& r, const aws::JsonCall&) { return c->Start(r); });
  service.Add("StopCrawler", [c](const json& r, const aws::JsonCall&) { return c->Stop(r); });
}

}  // namespace orderlake::crawl
