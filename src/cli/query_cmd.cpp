// `orderlake query`: SQL over the curated lake and the Data Catalog's tables, and Athena's
// DDL over that catalog (the Athena stage).
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "store/buckets.h"
#include "cli/commands.h"
#include "query/lake_mirror.h"
#include "query/engine.h"
#include "query/format.h"
#include "query/isolated.h"
#include "query/query_options.h"
#include "query/script.h"

namespace orderlake::cli {
namespace {
namespace fs = std::filesystem;
using query::Engine;
using query::OutputFormat;
using query::QueryOptions;
using query::Statement;

constexpr const char* kExamples = R"(Examples:
  orderlake query --lake ./orderlake-data/lake "SELECT Region, count(*) FROM orders GROUP BY Region"
  orderlake query --data-dir ./orderlake-data --format csv "SELECT * FROM orders WHERE Country = 'France'"
  orderlake query --lake ./lake -f sql/queries.sql          # every statement, each under its title
  echo "SELECT count(*) FROM tbsm_red_transformed;" | orderlake query --lake ./lake --format json
  orderlake query --lake ./lake                             # interactive prompt (statements end with ';')

  orderlake query --data-dir ./orderlake-data -f ddl.sql    # Athena DDL, then queries over it
  orderlake query "MSCK REPAIR TABLE tbsm_red_transformed"

Tables: orders and its alias tbsm_red_transformed (SPEC.md section 3 columns, then the
partition columns Country and InvoiceDateOnly), and every table of the catalog
(--catalog, default DATA_DIR/catalog/catalog.db, the one `orderlake crawl` fills): a
catalog table of the same name takes the place of the lake's own. With --data-dir and no
DATA_DIR/lake yet, the catalog alone serves (orders is then absent), and s3:// locations of
the data directory's buckets (DATA_DIR/s3/BUCKET/, orderlake-lake) are read from there.
Athena DDL changes the
catalog, never data: CREATE EXTERNAL TABLE ... LOCATION 's3://...' | 'DIR', MSCK REPAIR
TABLE, ALTER TABLE ... ADD PARTITION, SHOW TABLES | DATABASES | PARTITIONS, DESCRIBE
[FORMATTED], DROP TABLE. As in Athena, a partitioned table reads only the partitions in
the catalog (run MSCK REPAIR TABLE after adding directories). Otherwise only queries run:
SELECT, WITH, VALUES, DESCRIBE, SHOW, SUMMARIZE, EXPLAIN [ANALYZE]; files outside the lake
and the catalog tables' locations cannot be read.
Formats: table (aligned, like psql), csv (RFC 4180 with a header line), json (an array of
objects, numbers as numbers), jsonl (one JSON object per line).)";

constexpr const char* kHelp = R"(Statements end with ';' and may span lines. Commands:
  .tables                     list the tables
  .format table|csv|json|jsonl  choose the output format
  .timing on|off              show each statement's run time
  .help                       this text
  .quit, .exit                leave (or end of input)
)";

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return {};
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

class Session {
 public:
  Session(Engine& engine, OutputFormat format, bool timing) : engine_(engine), format_(format), timing_(timing) {}

  // Runs one statement and prints its result; false (after printing why) when it failed.
  // `where` says where the statement came from ("queries.sql:12: statement 3").
  bool Run(const Statement& st, const std::string& where, size_t not_run_after = 0) {
    if (printed_ && (format_ == OutputFormat::kTable || format_ == OutputFormat::kCsv)) std::cout << "\n";
    if (format_ == OutputFormat::kTable && !st.title.empty()) std::cout << st.title << "\n";
    auto writer = query::MakeWriter(format_, std::cout);
    auto r = engine_.Execute(st.sql, *writer);
    std::cout.flush();
    printed_ = true;
    if (!r.ok()) {
      std::string msg = r.status().message();
      std::string rest = not_run_after ? fmt::format(" ({} later statement{} not run)", not_run_after,
                                                     not_run_after == 1 ? "" : "s")
                                       : "";
      // A message of several lines (a syntax error with the statement's line and a caret)
      // already shows the statement.
      const size_t eol = msg.find('\n');
      std::string shown = eol == std::string::npos
                              ? msg + " [SQL: " + query::OneLine(st.sql) + "]" + rest
                              : msg.substr(0, eol) + rest + msg.substr(eol);
      std::cerr << "orderlake query: " << (where.empty() ? "" : where + " failed: ") << shown << std::endl;
      return false;
    }
    for (const auto& n : r->notices) std::cerr << "orderlake query: " << n << "\n";
    if (timing_) std::cerr << fmt::format("Time: {:.3f} ms", r->seconds * 1000) << std::endl;
    return true;
  }

  // Runs every statement of a script, stopping at the first failure.
  bool RunScript(const std::vector<Statement>& statements, const std::string& source) {
    for (size_t i = 0; i < statements.size(); ++i) {
      std::string where;
      if (!source.empty()) where = fmt::format("{}:{}: statement {}", source, statements[i].line, i + 1);
      if (!Run(statements[i], where, statements.size() - i - 1)) return false;
    }
    return true;
  }

  // Reads statements (and dot commands) line by line. Interactive: prompts, and a failed
  // statement does not end the session. Otherwise the first failure ends it.
  bool RunLines(std::istream& in, bool interactive, const std::string& source) {
    if (interactive)
      std::cout << "orderlake query on " << engine_.lake().string()
                << " (read-only; Athena DDL changes the catalog only). Statements end with ';'. Type .help for help.\n";
    std::string buffer, line;
    int line_no = 0, buffer_line = 1;
    size_t count = 0;
    bool ok = true;
    for (;;) {
      if (interactive) {
        std::cout << (Trim(buffer).empty() ? "orderlake> " : "      ...> ") << std::flush;
      }
      if (!std::getline(in, line)) break;
      ++line_no;
      if (Trim(buffer).empty() && !Trim(line).empty() && Trim(line)[0] == '.') {
        buffer.clear();
        Command cmd = DotCommand(Trim(line));
        if (cmd == Command::kQuit) break;
        if (cmd == Command::kFailed && !interactive) return false;
        continue;
      }
      if (Trim(buffer).empty()) {
        buffer.clear();
        buffer_line = line_no;
      }
      buffer += line + "\n";
      query::SplitResult split = query::SplitStatements(buffer);
      for (Statement& st : split.statements) {
        st.line += buffer_line - 1;
        std::string where = interactive ? "" : fmt::format("{}:{}: statement {}", source, st.line, ++count);
        if (!Run(st, where)) {
          ok = false;
          if (!interactive) return false;
        }
      }
      if (!split.statements.empty()) {
        for (size_t i = 0; i < split.rest_offset; ++i)
          if (buffer[i] == '\n') ++buffer_line;
        buffer.erase(0, split.rest_offset);
      }
    }
    if (interactive) std::cout << "\n";
    // End of input: a last statement without ';' still runs.
    auto rest = query::SplitStatements(buffer).unterminated;
    if (rest) {
      rest->line += buffer_line - 1;
      std::string where = interactive ? "" : fmt::format("{}:{}: statement {}", source, rest->line, ++count);
      if (!Run(*rest, where)) return false;
    }
    return interactive || ok;
  }

 private:
  enum class Command { kOk, kQuit, kFailed };

  Command DotCommand(const std::string& line) {
    std::istringstream words(line);
    std::string cmd, arg;
    words >> cmd >> arg;
    if (cmd == ".quit" || cmd == ".exit") return Command::kQuit;
    if (cmd == ".help") {
      std::cout << kHelp;
      return Command::kOk;
    }
    if (cmd == ".tables") {
      auto tables = engine_.Tables();
      if (!tables.ok()) {
        std::cerr << "orderlake query: " << tables.status().message() << std::endl;
        return Command::kFailed;
      }
      for (const auto& t : *tables) std::cout << t << "\n";
      std::cout.flush();
      return Command::kOk;
    }
    if (cmd == ".format") {
      if (arg.empty()) {
        std::cout << query::OutputFormatName(format_) << std::endl;
        return Command::kOk;
      }
      auto f = query::ParseOutputFormat(arg);
      if (!f) {
        std::cerr << "orderlake query: unknown format '" << arg << "': use table, csv, json or jsonl" << std::endl;
        return Command::kFailed;
      }
      format_ = *f;
      printed_ = false;
      return Command::kOk;
    }
    if (cmd == ".timing" && (arg == "on" || arg == "off")) {
      timing_ = arg == "on";
      return Command::kOk;
    }
    std::cerr << "orderlake query: unknown command '" << line << "': type .help for the commands" << std::endl;
    return Command::kFailed;
  }

  Engine& engine_;
  OutputFormat format_;
  bool timing_;
  bool printed_ = false;
};

// The lake's own table in a mirrored lake: its newest Delta snapshot, or (a lake written
// before the table had a log) the Parquet files under orders/.
Status SyncLake(query::LakeMirror& m) {
  const std::string prefix = std::string(query::kOrdersTable) + "/";
  return m.SyncTable(prefix, [](std::string_view key) { return key.ends_with(".parquet"); });
}

// A --lake location: a directory or file://DIR; an s3:// lake is read through a local
// mirror brought up to date before every statement.
Result<fs::path> LakePath(const QueryOptions& o, std::unique_ptr<query::LakeMirror>* mirror) {
  if (o.lake.empty()) return fs::path(o.data_dir) / "lake";
  std::string_view l = o.lake;
  if (l.rfind("s3://", 0) == 0) {
    auto m = query::LakeMirror::Open(o.lake);
    if (!m.ok()) return Status::Errorf("lake '{}': {}", o.lake, m.status().message());
    *mirror = std::move(m).value();
    ORDERLAKE_RETURN_IF_ERROR(SyncLake(**mirror));
    return (*mirror)->local();
  }
  if (l.rfind("file://", 0) == 0) l.remove_prefix(7);
  return fs::path(std::string(l));
}

int RunQuery(const QueryOptions& o) {
  std::unique_ptr<query::LakeMirror> mirror;
  auto lake = LakePath(o, &mirror);
  if (!lake.ok()) {
    std::cerr << "orderlake query: " << lake.status().message() << std::endl;
    return 1;
  }
  query::EngineOptions eo;
  eo.catalog = o.catalog.empty() ? catalog::Catalog::DefaultPath(o.data_dir) : fs::path(o.catalog);
  if (mirror) eo.lake_url = mirror->url();
  std::error_code ec;
  if (o.lake.empty() && fs::is_directory(o.data_dir, ec)) {
    // A data directory: its catalog alone serves when it has no lake yet, and s3:// locations
    // of its buckets (s3/<bucket>/, orderlake-lake) are read from there.
    eo.lake_optional = true;
    store::BucketsOptions bo;
    bo.data_dir = o.data_dir;
    if (auto buckets = store::Buckets::Open(bo); buckets.ok()) eo.local_buckets = buckets->LocalDirs();
  }
  auto engine = Engine::Open(*lake, eo);
  if (engine.ok() && mirror) engine.value()->set_before_statement([m = mirror.get()] { return SyncLake(*m); });
  if (!engine.ok()) {
    std::string hint = o.lake.empty() ? " (pass --lake DIR, or --data-dir DIR for DIR/lake)" : "";
    std::cerr << "orderlake query: " << engine.status().message() << hint << std::endl;
    return 1;
  }
  Session session(**engine, *query::ParseOutputFormat(o.format), o.timing);

  if (!o.sql.empty()) {
    std::string text;
    for (const auto& s : o.sql) text += (text.empty() ? "" : " ") + s;
    auto statements = query::ScriptStatements(text);
    if (statements.empty()) {
      std::cerr << "orderlake query: no SQL statement given" << std::endl;
      return 1;
    }
    return session.RunScript(statements, statements.size() > 1 ? "command line" : "") ? 0 : 1;
  }
  if (!o.file.empty() && o.file != "-") {
    std::ifstream in(o.file, std::ios::binary);
    std::ostringstream text;
    if (in) text << in.rdbuf();
    if (!in || in.bad()) {
      std::cerr << "orderlake query: cannot read SQL file '" << o.file << "': " << std::strerror(errno) << std::endl;
      return 1;
    }
    return session.RunScript(query::ScriptStatements(text.str()), o.file) ? 0 : 1;
  }
  bool interactive = o.file.empty() && isatty(STDIN_FILENO);
  return session.RunLines(std::cin, interactive, "<stdin>") ? 0 : 1;
}

}  // namespace

void add_query_command(CLI::App& app) {
  auto opts = std::make_shared<QueryOptions>();
  auto* cmd = app.add_subcommand("query", "SQL over the curated lake and the catalog, Athena DDL (the Athena stage)");
  cmd->add_option("--lake", opts->lake, "lake directory (or file://DIR); default DATA_DIR/lake");
  cmd->add_option("--data-dir", opts->data_dir,
                  "root of the embedded defaults; the lake is DATA_DIR/lake, the catalog DATA_DIR/catalog/catalog.db")
      ->capture_default_str();
  cmd->add_option("--catalog", opts->catalog,
                  "catalog file (default DATA_DIR/catalog/catalog.db, as for orderlake crawl); created by the first DDL");
  cmd->add_option("--format", opts->format, "output format: table, csv, json or jsonl")
      ->check(CLI::IsMember({"table", "csv", "json", "jsonl"}))
      ->capture_default_str();
  auto* file = cmd->add_option("-f,--file", opts->file,
                               "run the statements in FILE (';'-separated, '--' comments; '-' reads stdin)");
  cmd->add_flag("--timing", opts->timing, "print each statement's run time on stderr");
  auto* sql = cmd->add_option("sql", opts->sql, "SQL to run (several statements separated by ';')");
  file->excludes(sql);
  // Hidden: the worker process of query/isolated.h (one statement, request on stdin).
  auto worker = std::make_shared<bool>(false);
  cmd->add_flag("--isolated-worker", *worker, "run one statement for an isolated executor")->group("");
  cmd->footer(kExamples);
  cmd->callback([opts, worker] {
    if (*worker) {
      exit_code() = query::RunIsolatedWorker();
      return;
    }
    if (Status st = opts->Validate(); !st.ok()) {
      std::cerr << "orderlake query: " << st.message() << std::endl;
      exit_code() = 2;
      return;
    }
    exit_code() = RunQuery(*opts);
  });
}

}  // namespace orderlake::cli
