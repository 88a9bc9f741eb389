// The Glue API's jobs: the etl (etl/job.h, the same code as `orderlake etl`) is the job.
// Definitions and each job's last max_runs_kept runs are documents in the catalog file; a
// run goes on a thread, RUNNING -> SUCCEEDED or FAILED (with the etl's reason).
//
// Arguments (DefaultArguments overridden by a run's Arguments):
//   --input                s3:// (or a path inside a bucket) of the raw objects; default s3://orderlake-raw/
//   --lake                 the lake; default the data directory's lake (s3://orderlake-lake/)
//   --job-bookmark-option  job-bookmark-enable (the default): the etl's bookmark, which is part of
//                          its commit: a run reads only the objects no earlier run committed.
//                          job-bookmark-disable and job-bookmark-pause are refused
//                          (InvalidInputException): reading committed objects again would
//                          duplicate their rows in the table, and a run cannot commit rows
//                          without advancing the bookmark.
// Other arguments are kept with the run and otherwise ignored (there is no script to pass them to).
#include <fmt/format.h>

#include <random>

#include "crawl/glue_internal.h"
#include "etl/job.h"

namespace orderlake::crawl {
using namespace glue;

namespace {

constexpr const char* kDefaultInput = "s3://orderlake-raw/";

std::string NewRunId() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  std::string id = "jr_";
  for (int i = 0; i < 4; ++i) id += fmt::format("{:016x}", rng());
  return id;
}

double Seconds(int64_t ms) { return static_cast<double>(ms) / 1000; }

struct Jobs {
  GlueApi::Impl& g;

  std::variant<json, JsonResponse> Load(const std::string& name) {
    auto d = g.cat->GetDocument("job", name);
    if (!d.ok()) return Internal(d.status());
    if (!d.value()) return Error("EntityNotFoundException", fmt::format("Job with name: {} not found", name));
    return json::parse(*d.value(), nullptr, false);
  }

  JsonResponse Create(const json& req) {
    std::string name, s;
    GLUE_TRY(GetName(req, "Name", name));
    json doc{{"Name", name}};
    for (const char* key : {"Role", "Description", "GlueVersion"}) {
      GLUE_TRY(GetString(req, key, s, std::string_view(key) == "Role", 2048));
      if (!s.empty()) doc[key] = s;
    }
    auto cmd = req.find("Command");
    if (cmd == req.end() || !cmd->is_object()) return Error("InvalidInputException", "Command is required");
    json command;
    for (const char* key : {"Name", "ScriptLocation", "PythonVersion"}) {
      GLUE_TRY(GetString(*cmd, key, s, false, 4096));
      if (!s.empty()) command[key] = s;
    }
    const std::string kind = command.value("Name", "glueetl");
    if (kind != "glueetl" && kind != "pythonshell")
      return Error("InvalidInputException", fmt::format("Command.Name must be glueetl or pythonshell, got {}", kind));
    command["Name"] = kind;
    doc["Command"] = command;
    std::map<std::string, std::string> args;
    GLUE_TRY(GetStringMap(req, "DefaultArguments", args));
    GLUE_TRY(CheckArguments(args));
    doc["DefaultArguments"] = args;
    int max_runs = 1;
    if (auto ep = req.find("ExecutionProperty"); ep != req.end() && ep->is_object() && ep->contains("MaxConcurrentRuns")) {
      const json& m = (*ep)["MaxConcurrentRuns"];
      if (!m.is_number_integer() || m.get<int64_t>() < 1 || m.get<int64_t>() > 1000)
        return Error("InvalidInputException", "ExecutionProperty.MaxConcurrentRuns must be between 1 and 1000");
      max_runs = m.get<int>();
    }
    doc["ExecutionProperty"] = {{"MaxConcurrentRuns", max_runs}};
    doc["MaxRetries"] = 0;
    doc["Timeout"] = 2880;
    doc["CreatedOn"] = doc["LastModifiedOn"] = Seconds(NowMs());
    std::lock_guard lk(g.mu);
    auto r = g.cat->PutDocument("job", name, doc.dump(), true);
    if (!r.ok()) return Internal(r.status());
    if (!r.value()) return Error("AlreadyExistsException", fmt::format("Job with name {} already exists", name));
    return Ok({{"Name", name}});
  }

  // The job arguments this endpoint reads are checked when given (locations at run start).
  static std::optional<ApiError> CheckArguments(const std::map<std::string, std::string>& args) {
    auto b = args.find("--job-bookmark-option");
    if (b != args.end() && b->second != "job-bookmark-enable") {
      if (b->second != "job-bookmark-disable" && b->second != "job-bookmark-pause")
        return Invalid(fmt::format("--job-bookmark-option must be job-bookmark-enable, -disable or -pause, got {}", b->second));
      return Invalid(fmt::format(
          "--job-bookmark-option {} is not supported: the etl's bookmark is part of its commit, so reading "
          "committed objects again would duplicate their rows and rows cannot be committed without advancing "
          "it; use job-bookmark-enable",
          b->second));
    }
    return std::nullopt;
  }

  JsonResponse Get(const json& req) {
    std::string name;
    GLUE_TRY(GetName(req, "JobName", name));
    std::lock_guard lk(g.mu);
    auto d = Load(name);
    if (auto* r = std::get_if<JsonResponse>(&d)) return *r;
    return Ok({{"Job", std::get<0>(d)}});
  }

  JsonResponse List(const json& req) {
    Page page;
    GLUE_TRY(GetPage(req, 1000, page));
    std::lock_guard lk(g.mu);
    auto docs = g.cat->Documents("job");
    if (!docs.ok()) return Internal(docs.status());
    json list = json::array();
    for (size_t i = page.offset; i < docs->size() && i < page.offset + page.limit; ++i)
      list.push_back(json::parse((*docs)[i].second, nullptr, false));
    json body{{"Jobs", list}};
    SetNextToken(body, page, docs->size());
    return Ok(body);
  }

  JsonResponse Delete(const json& req) {
    std::string name;
    GLUE_TRY(GetName(req, "JobName", name));
    std::lock_guard lk(g.mu);
    auto r = g.cat->DeleteDocument("job", name);  // as Glue: no error when there was none
    if (!r.ok()) return Internal(r.status());
    return Ok({{"JobName", name}});
  }

  JsonResponse Start(const json& req);
  void Run(const std::string& job, json run, etl::EtlOptions eo);

  JsonResponse GetRun(const json& req) {
    std::string name, id;
    GLUE_TRY(GetName(req, "JobName", name));
    GLUE_TRY(GetString(req, "RunId", id, true, 255));
    std::lock_guard lk(g.mu);
    auto r = g.cat->GetJobRun(name, id);
    if (!r.ok()) return Internal(r.status());
    if (!r.value()) return Error("EntityNotFoundException", fmt::format("Job run {} of job {} not found", id, name));
    return Ok({{"JobRun", json::parse(*r.value(), nullptr, false)}});
  }

  JsonResponse GetRuns(const json& req) {
    std::string name;
    Page page;
    GLUE_TRY(GetName(req, "JobName", name));
    GLUE_TRY(GetPage(req, 200, page));
    std::lock_guard lk(g.mu);
    auto d = Load(name);
    if (auto* r = std::get_if<JsonResponse>(&d)) return *r;
    auto runs = g.cat->JobRuns(name);
    if (!runs.ok()) return Internal(runs.status());
    json list = json::array();
    for (size_t i = page.offset; i < runs->size() && i < page.offset + page.limit; ++i)
      list.push_back(json::parse((*runs)[i], nullptr, false));
    json body{{"JobRuns", list}};
    SetNextToken(body, page, runs->size());
    return Ok(body);
  }
};

JsonResponse Jobs::Start(const json& req) {
  std::string name;
  GLUE_TRY(GetName(req, "JobName", name));
  std::map<std::string, std::string> given;
  GLUE_TRY(GetStringMap(req, "Arguments", given));
  std::lock_guard lk(g.mu);
  auto d = Load(name);
  if (auto* r = std::get_if<JsonResponse>(&d)) return *r;
  const json& job = std::get<0>(d);
  auto args = job.value("DefaultArguments", json::object()).get<std::map<std::string, std::string>>();
  for (auto& [k, v] : given) args[k] = v;
  GLUE_TRY(CheckArguments(args));
  etl::EtlOptions eo;
  auto input = g.Resolve(args.count("--input") ? args["--input"] : kDefaultInput, "--input");
  if (input.index() == 1) return Fail(std::get<1>(input));
  const auto& in = std::get<0>(input);
  eo.input = in.local ? in.dir.string() : in.url;
  if (args.count("--lake")) {
    auto lake = g.Resolve(args["--lake"], "--lake");
    if (lake.index() == 1) return Fail(std::get<1>(lake));
    const auto& l = std::get<0>(lake);
    eo.lake = l.local ? l.dir.string() : l.url;
  } else {
    eo.lake = g.opt.lake.string();
  }
  if (Status v = eo.Validate(); !v.ok()) return Error("InvalidInputException", v.message());
  const int max_runs = job.value("ExecutionProperty", json::object()).value("MaxConcurrentRuns", 1);
  if (g.job_running[name] >= max_runs)
    return Error("ConcurrentRunsExceededException", fmt::format("Concurrent runs exceeded for {}", name));
  size_t running = g.crawling.size();
  for (const auto& [j, n] : g.job_running) running += static_cast<size_t>(n);
  if (g.closing || running >= static_cast<size_t>(g.opt.max_concurrent_runs))
    return Error("ConcurrentRunsExceededException",
                 fmt::format("{} crawlers and job runs are running, the most this endpoint runs at once", running));
  const int64_t now = NowMs();
  json run{{"Id", NewRunId()},        {"Attempt", 0},           {"JobName", name},
           {"StartedOn", Seconds(now)}, {"LastModifiedOn", Seconds(now)}, {"JobRunState", "RUNNING"},
           {"Arguments", args},        {"PredecessorRuns", json::array()}, {"ExecutionTime", 0},
           {"Timeout", job.value("Timeout", 2880)}, {"GlueVersion", job.value("GlueVersion", "4.0")}};
  if (Status st = g.cat->PutJobRun(name, run["Id"].get<std::string>(), now, run.dump(), static_cast<size_t>(g.opt.max_runs_kept)); !st.ok())
    return Internal(st);
  ++g.job_running[name];
  g.Spawn([this, name, run, eo] { Run(name, run, eo); });
  return Ok({{"JobRunId", run["Id"]}});
}

void Jobs::Run(const std::string& job, json run, etl::EtlOptions eo) {
  auto result = etl::run_etl(eo);
  const int64_t now = NowMs();
  std::lock_guard lk(g.mu);
  if (--g.job_running[job] <= 0) g.job_running.erase(job);
  run["JobRunState"] = result.ok() ? "SUCCEEDED" : "FAILED";
  if (!result.ok()) run["ErrorMessage"] = result.status().message();
  run["CompletedOn"] = run["LastModifiedOn"] = Seconds(now);
  const double started = run.value("StartedOn", 0.0);
  run["ExecutionTime"] = static_cast<int64_t>(Seconds(now) - started + 0.5);
  auto exists = g.cat->GetDocument("job", job);
  if (exists.ok() && exists.value())  // a job deleted meanwhile keeps no runs
    (void)g.cat->PutJobRun(job, run["Id"].get<std::string>(), static_cast<int64_t>(started * 1000), run.dump(),
                           static_cast<size_t>(g.opt.max_runs_kept));
}

}  // namespace

Status GlueApi::Impl::RecoverRuns() {
  auto jobs = cat->Documents("job");
  if (!jobs.ok()) return jobs.status();
  for (const auto& [name, text] : *jobs) {
    auto runs = cat->JobRuns(name);
    if (!runs.ok()) return runs.status();
    for (const auto& r : *runs) {
      json run = json::parse(r, nullptr, false);
      const std::string state = run.is_object() ? run.value("JobRunState", "") : "";
      if (state != "RUNNING" && state != "STARTING" && state != "STOPPING") continue;
      run["JobRunState"] = "FAILED";
      run["ErrorMessage"] = "the endpoint running this job run stopped before it finished";
      const double started = run.value("StartedOn", 0.0);
      ORDERLAKE_RETURN_IF_ERROR(cat->PutJobRun(name, run.value("Id", ""), static_cast<int64_t>(started * 1000),
                                               run.dump(), static_cast<size_t>(opt.max_runs_kept)));
    }
  }
  return Status::OK();
}

void GlueApi::Impl::RegisterJobs() {
  auto j = std::make_shared<Jobs>(Jobs{*this});
  service.Add("CreateJob", [j](const json& r, const aws::JsonCall&) { return j->Create(r); });
  service.Add("GetJob", [j](const json& r, const aws::JsonCall&) { return j->Get(r); });
  service.Add("GetJobs", [j](const json& r, const aws::JsonCall&) { return j->List(r); });
  service.Add("DeleteJob", [j](const json& r, const aws::JsonCall&) { return j->Delete(r); });
  service.Add("StartJobRun", [j](const json& r, const aws::JsonCall&) { return j->Start(r); });
  service.Add("GetJobRun", [j](const json& r, const aws::JsonCall&) { return j->GetRun(r); });
  service.Add("GetJobRuns", [j](const json& r, const aws::JsonCall&) { return j->GetRuns(r); });
}

}  // namespace orderlake::crawl
