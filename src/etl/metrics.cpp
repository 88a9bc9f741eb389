#include "etl/metrics.h"

#include "core/clock.h"

namespace orderlake::etl {
namespace {

// A labelled family read from a map under a lock at scrape time.
metrics::Collector by_reason(std::mutex& mu, const std::map<std::string, uint64_t>& m) {
  return [&mu, &m](metrics::Emitter& e) {
    std::lock_guard lock(mu);
    for (const auto& [k, v] : m) e.Sample({{"reason", k}}, static_cast<double>(v));
  };
}

}  // namespace

EtlMetrics::EtlMetrics()
    : runs_(registry_.counter("orderlake_etl_runs_total", "etl runs that committed a batch")),
      runs_nothing_new_(
          registry_.counter("orderlake_etl_runs_nothing_new_total", "etl runs that found no new raw object")),
      errors_(registry_.counter("orderlake_etl_run_errors_total", "etl runs that failed (retried)")),
      objects_(registry_.counter("orderlake_etl_objects_read_total", "Raw objects read")),
      bytes_(registry_.counter("orderlake_etl_bytes_read_total", "Raw bytes read")),
      records_(registry_.counter("orderlake_etl_records_read_total", "Records read (kept + filtered + quarantined)")),
      kept_(registry_.counter("orderlake_etl_records_kept_total", "Records written to the table")),
      reason_families_(RegisterReasonFamilies()),
      files_(registry_.counter("orderlake_etl_files_written_total", "Table files written")),
      last_run_seconds_(registry_.gauge("orderlake_etl_last_run_seconds", "Wall time of the last committed run")),
      last_commit_(registry_.gauge("orderlake_etl_last_commit_timestamp_seconds",
                                   "When the last run committed (Unix time; 0 = none)")),
      table_version_(registry_.gauge("orderlake_etl_table_version",
                                     "The table's Delta log version after the last run (-1: no table yet)")),
      last_listed_(registry_.gauge("orderlake_etl_last_objects_listed",
                                   "Entries the last run's listing of the raw store returned")),
      raw_deleted_(registry_.counter("orderlake_etl_raw_objects_deleted_total",
                                     "Raw objects deleted by the raw retention (--raw-retention)")),
      events_read_(registry_.counter("orderlake_etl_events_read_total",
                                     "Events of the input's event log read (notification discovery)")) {
  table_version_.Set(-1);
  registry_.collect("orderlake_etl_objects_listed_total", metrics::Type::kCounter,
                    "Entries returned by the etl's listings of the raw store (objects named by events, for notification), by discovery (notification, incremental, full)",
                    [this](metrics::Emitter& e) {
                      std::lock_guard lock(mu_);
                      for (const auto& [k, v] : listed_) e.Sample({{"discovery", k}}, static_cast<double>(v));
                    });
  registry_.collect("orderlake_etl_last_run_info", metrics::Type::kGauge, "The last committed run",
                    [this](metrics::Emitter& e) {
                      std::lock_guard lock(mu_);
                      if (!last_run_id_.empty()) e.Sample({{"run_id", last_run_id_}}, 1);
                    });
}

bool EtlMetrics::RegisterReasonFamilies() {
  registry_.collect("orderlake_etl_records_filtered_total", metrics::Type::kCounter,
                    "Records left out by the cleaning rules, by reason", by_reason(mu_, filtered_));
  registry_.collect("orderlake_etl_records_quarantined_total", metrics::Type::kCounter,
                    "Records that could not be parsed, by reason", by_reason(mu_, quarantined_));
  return true;
}

void EtlMetrics::Listed(const RunSummary& s) {
  last_listed_.Set(static_cast<double>(s.objects_listed));
  raw_deleted_.Inc(static_cast<double>(s.raw_deleted));
  events_read_.Inc(static_cast<double>(s.events_read));
  std::lock_guard lock(mu_);
  if (!s.discovery.empty()) listed_[s.discovery] += s.objects_listed;
}

void EtlMetrics::RunCommitted(const RunSummary& s) {
  const int64_t now = clock::unix_ms();
  Listed(s);
  runs_.Inc();
  objects_.Inc(static_cast<double>(s.objects));
  bytes_.Inc(static_cast<double>(s.input_bytes));
  records_.Inc(static_cast<double>(s.records));
  kept_.Inc(static_cast<double>(s.kept));
  files_.Inc(static_cast<double>(s.files));
  last_run_seconds_.Set(s.seconds);
  last_commit_.Set(static_cast<double>(now) / 1000.0);
  table_version_.Set(static_cast<double>(s.version));
  std::lock_guard lock(mu_);
  for (const auto& [k, v] : s.filtered) filtered_[k] += v;
  for (const auto& [k, v] : s.quarantined) quarantined_[k] += v;
  last_run_id_ = s.run_id;
  last_commit_ms_ = last_ok_ms_ = now;
}

void EtlMetrics::NothingNew(const RunSummary& s) {
  runs_nothing_new_.Inc();
  Listed(s);
  table_version_.Set(static_cast<double>(s.version));
  std::lock_guard lock(mu_);
  last_ok_ms_ = clock::unix_ms();
}

void EtlMetrics::RunFailed(const Status& st) {
  errors_.Inc();
  std::lock_guard lock(mu_);
  last_error_ms_ = clock::unix_ms();
  last_error_ = st.message();
}

bool EtlMetrics::failing(std::string* why) const {
  std::lock_guard lock(mu_);
  if (last_error_ms_ == 0 || last_error_ms_ < last_ok_ms_) return false;
  if (why) *why = last_error_;
  return true;
}

HealthReport EtlMetrics::Health() const {
  std::string why;
  if (failing(&why)) return HealthReport::Failing("the last etl run failed: " + why);
  return HealthReport::Healthy();
}

int64_t EtlMetrics::last_commit_ms() const {
  std::lock_guard lock(mu_);
  return last_commit_ms_;
}

uint64_t EtlMetrics::rows_kept() const { return static_cast<uint64_t>(kept_.value()); }

}  // namespace orderlake::etl
