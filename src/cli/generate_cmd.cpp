// `orderlake generate`: the EC2 log generator (LogGenerator.py) as a subcommand.
#include <signal.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>
#include <random>
#include <string>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "generate/calendar.h"
#include "generate/run.h"

namespace orderlake::cli {
namespace {

using generate::Profile;

std::atomic<bool> g_stop{false};
static_assert(std::atomic<bool>::is_always_lock_free);

extern "C" void on_stop_signal(int) { g_stop.store(true); }

// Installs SIGINT/SIGTERM handlers for the run; a second signal kills the process as usual.
class StopSignals {
 public:
  StopSignals() {
    g_stop.store(false);
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESETHAND;
    sigaction(SIGINT, &sa, &old_int_);
    sigaction(SIGTERM, &sa, &old_term_);
  }
  ~StopSignals() {
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
  }

 private:
  struct sigaction old_int_ {};
  struct sigaction old_term_ {};
};

// "67108864", "64M", "64MiB", "512k", "1G": sizes in bytes, suffixes are powers of 1024.
Result<uint64_t> parse_size(const std::string& text) {
  uint64_t v = 0;
  const char* b = text.data();
  const char* e = b + text.size();
  auto [p, ec] = std::from_chars(b, e, v);
  if (ec != std::errc() || p == b) return Status::Errorf("--rotate-size: '{}' is not a size in bytes", text);
  std::string unit(p, e);
  for (auto& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  uint64_t mult = 1;
  if (unit.empty() || unit == "b") mult = 1;
  else if (unit == "k" || unit == "kb" || unit == "kib") mult = 1ull << 10;
  else if (unit == "m" || unit == "mb" || unit == "mib") mult = 1ull << 20;
  else if (unit == "g" || unit == "gb" || unit == "gib") mult = 1ull << 30;
  else return Status::Errorf("--rotate-size: unknown unit in '{}' (use K, M or G)", text);
  if (v > UINT64_MAX / mult) return Status::Errorf("--rotate-size: '{}' is too large", text);
  return v * mult;
}

struct Args {
  std::string out;
  std::string data_dir;
  uint64_t count = 0;
  double duration = 0;
  double rate = 0;
  uint64_t seed = 0;
  std::string profile = "retail";
  std::string start;
  int64_t days = 1;
  std::string rotate_size = "64MiB";
  double rotate_interval = 0;
  double progress_interval = 5;
  double missing_customer_rate = 0, return_rate = 0, bad_price_rate = 0, malformed_rate = 0;
  std::string summary;

  CLI::Option *out_opt, *count_opt, *duration_opt, *rate_opt, *seed_opt, *days_opt, *start_opt;
  CLI::Option *missing_opt, *return_opt, *bad_price_opt, *malformed_opt;
};

int fail(const std::string& reason) {
  std::fprintf(stderr, "orderlake generate: %s\n", reason.c_str());
  return 1;
}

Status write_summary(const std::string& dest, const std::string& text) {
  if (dest == "-") {
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
    return Status::OK();
  }
  std::ofstream out(dest, std::ios::binary | std::ios::trunc);
  if (out) out << text;
  out.flush();
  if (!out) return Status::Errorf("cannot write summary file '{}': {}", dest, std::strerror(errno));
  return Status::OK();
}

int run(const Args& a) {
  generate::RunOptions o;
  o.out_dir = !a.out.empty() ? a.out : (!a.data_dir.empty() ? a.data_dir + "/logs" : "./orderlake-data/logs");

  const bool have_count = a.count_opt->count() > 0;
  if (have_count && a.count == 0) return fail("--count must be at least 1 (leave it out to run until stopped)");
  if (a.duration_opt->count() > 0 && !(a.duration > 0)) return fail("--duration must be more than 0 seconds");
  o.count = a.count;
  o.duration_s = a.duration;
  // As fast as possible when a count is given, else a gentle live stream.
  o.rate = a.rate_opt->count() > 0 ? a.rate : (have_count ? 0.0 : 50.0);
  auto size = parse_size(a.rotate_size);
  if (!size.ok()) return fail(size.status().message());
  o.rotate_size = size.value();
  o.rotate_interval_s = a.rotate_interval;
  o.progress_interval_s = a.progress_interval;
  auto& g = o.generator;
  g.profile = a.profile == "seed" ? Profile::kSeed : Profile::kRetail;
  g.rates = generate::DirtyRates::ForProfile(g.profile);
  if (a.missing_opt->count() > 0) g.rates.missing_customer = a.missing_customer_rate;
  if (a.return_opt->count() > 0) g.rates.returns = a.return_rate;
  if (a.bad_price_opt->count() > 0) g.rates.bad_price = a.bad_price_rate;
  if (a.malformed_opt->count() > 0) g.rates.malformed = a.malformed_rate;
  if (a.seed_opt->count() > 0) {
    g.seed = a.seed;
  } else {
    std::random_device rd;
    g.seed = (static_cast<uint64_t>(rd()) << 32) ^ rd() ^
             static_cast<uint64_t>(std::chrono::system_clock::now().time_since_epoch().count());
  }
  if (a.days_opt->count() > 0 && a.start_opt->count() == 0)
    return fail("--days needs --start YYYY-MM-DD (the first day of the back-filled range)");
  if (a.start_opt->count() > 0) {
    auto first = generate::parse_iso_date(a.start);
    if (!first.ok()) return fail("--start: " + first.status().message());
    g.backfill = generate::Backfill{first.value(), a.days};
    if (!have_count && a.duration_opt->count() == 0)
      return fail("--start needs --count or --duration (to know how to spread orders over the range)");
  }
  if (Status st = o.Validate(); !st.ok()) return fail(st.message());
  StopSignals signals;
  auto report = generate::run_generate(o, &g_stop);
  if (!report.ok()) return fail(report.status().message());

  int code = 0;
  if (!a.summary.empty()) {
    Status st = write_summary(a.summary, report->to_json().dump(2) + "\n");
    if (!st.ok()) code = fail(st.message());
  }
  std::fprintf(stderr, "orderlake generate: %s\n", report->human_line().c_str());
  return code;
}

}  // namespace

void add_generate_command(CLI::App& app) {
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand(
      "generate",
      "Write order log lines (the EC2 LogGenerator) into rotating files orders-<UTC time>-<seq>.log");
  cmd->footer(R"(Line format (SPEC.md §1), no header:
  InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country
  536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,12/01/2010 08:26,2.55,17850,United Kingdom

Profiles: retail (default) is shaped like the UCI Online Retail data set: ~4,000 items,
~4,300 customers, 38 countries, multi-line invoices, a daily rhythm, and dirty lines at the
given rates (each dirty line is one kind). seed is the original LogGenerator.py: three items,
six countries, one line per invoice, no dirty lines unless asked for.

--summary writes JSON: {"lines", "files", "kinds": {"valid", "missing_customer_id",
"non_positive_quantity", "non_positive_price", "malformed"}, "expected": {"rows",
"total_amount", "by_country", "by_date", "high_orders"}, "seed"}: what the etl should keep.

Examples:
  orderlake generate --out /var/log/orders                        # live, 50 lines/s, until Ctrl-C
  orderlake generate --out logs --count 1000000 --seed 42         # as fast as possible
  orderlake generate --out logs --rate 2000 --duration 60 --rotate-interval 10
  orderlake generate --out logs --count 500000 --seed 7 --start 2010-12-01 --days 30 --summary -
  orderlake generate --profile seed --rate 1 --out /var/log/orders
)");

  cmd->add_option("--out", args->out, "Directory for the log files (created if missing)")
      ->type_name("DIR")
      ->default_str("./orderlake-data/logs");
  cmd->add_option("--data-dir", args->data_dir, "Root of the embedded defaults: writes to DIR/logs unless --out is given")
      ->type_name("DIR");
  args->count_opt = cmd->add_option("--count", args->count, "Stop after N lines (default: run until stopped)")
                        ->type_name("N");
  args->duration_opt =
      cmd->add_option("--duration", args->duration, "Stop after SECS seconds (with --count: whichever comes first)")
          ->type_name("SECS");
  args->rate_opt = cmd->add_option("--rate", args->rate,
                                   "Lines per second, 0 = as fast as possible (default: 0 with --count, else 50)")
                       ->type_name("LINES_PER_S");
  args->seed_opt =
      cmd->add_option("--seed", args->seed, "Seed: same seed, options and --start range => identical files (default: random)")
          ->type_name("N");
  cmd->add_option("--profile", args->profile, "retail (UCI Online Retail-like) or seed (the original 3 items, 6 countries)")
      ->check(CLI::IsMember({"retail", "seed"}))
      ->capture_default_str();
  args->start_opt = cmd->add_option("--start", args->start,
                                    "Back-fill: InvoiceDates from this day on instead of the current local time")
                        ->type_name("YYYY-MM-DD");
  args->days_opt = cmd->add_option("--days", args->days, "Back-fill: number of days of the range (default 1)")
                       ->type_name("N");
  cmd->add_option("--rotate-size", args->rotate_size, "Start a new file before one exceeds this size (K/M/G suffixes; 0 = never)")
      ->type_name("BYTES")
      ->capture_default_str();
  cmd->add_option("--rotate-interval", args->rotate_interval, "Start a new file every SECS seconds (0 = never)")
      ->type_name("SECS")
      ->capture_default_str();
  args->missing_opt = cmd->add_option("--missing-customer-rate", args->missing_customer_rate,
                                      "Fraction of lines with an empty CustomerID (retail default 0.02)")
                          ->type_name("FRACTION");
  args->return_opt = cmd->add_option("--return-rate", args->return_rate,
                                     "Fraction of lines that are returns: InvoiceNo C..., Quantity < 0 (retail default 0.02)")
                         ->type_name("FRACTION");
  args->bad_price_opt = cmd->add_option("--bad-price-rate", args->bad_price_rate,
                                        "Fraction of lines with UnitPrice 0.00 or negative (retail default 0.005)")
                            ->type_name("FRACTION");
  args->malformed_opt = cmd->add_option("--malformed-rate", args->malformed_rate,
                                        "Fraction of lines that cannot be parsed (retail default 0.001)")
                            ->type_name("FRACTION");
  cmd->add_option("--summary", args->summary, "Write a JSON summary of what was written to FILE (- = stdout)")
      ->type_name("FILE");
  cmd->add_option("--progress-interval", args->progress_interval, "Seconds between progress lines on stderr (0 = none)")
      ->type_name("SECS")
      ->capture_default_str();

  cmd->callback([args] { exit_code() = run(*args); });
}

}  // namespace orderlake::cli
