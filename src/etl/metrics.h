// The etl's counters in continuous mode (`etl --follow`, and the etl thread of `up`), as a
// Prometheus registry: runs, records read/kept/filtered/quarantined (totals since start),
// objects and bytes read, objects listed (by discovery), raw objects expired, files written, the last run's duration, the time of the last
// commit, the table version, and failed runs. Feed it from follow_etl's callbacks; serve
// registry() on /metrics and Health() on /health (503 while the last run failed).
// Thread-safe: the etl thread records, any thread scrapes.
#pragma once
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include "core/metrics.h"
#include "core/metrics_server.h"
#include "core/status.h"
#include "etl/job.h"

namespace orderlake::etl {

class EtlMetrics {
 public:
  EtlMetrics();
  EtlMetrics(const EtlMetrics&) = delete;
  EtlMetrics& operator=(const EtlMetrics&) = delete;

  // A run that read something and committed it.
  void RunCommitted(const RunSummary& s);
  // A run that found nothing new (it still tells the table version).
  void NothingNew(const RunSummary& s);
  // A run that failed (follow_etl retries it).
  void RunFailed(const Status& st);

  // True while the last run failed; *why is its error.
  bool failing(std::string* why = nullptr) const;
  HealthReport Health() const;
  int64_t last_commit_ms() const;  // Unix ms of the last commit; 0 = none since start
  uint64_t rows_kept() const;      // records written to the table since start

  const metrics::Registry& registry() const { return registry_; }
  metrics::Registry& registry() { return registry_; }

 private:
  mutable std::mutex mu_;
  metrics::Registry registry_;
  bool RegisterReasonFamilies();
  // Declared in the order of the exposition text.
  metrics::Counter &runs_, &runs_nothing_new_, &errors_, &objects_, &bytes_, &records_, &kept_;
  bool reason_families_;  // orderlake_etl_records_{filtered,quarantined}_total{reason}
  metrics::Counter& files_;
  metrics::Gauge &last_run_seconds_, &last_commit_, &table_version_;
  // Discovery: orderlake_etl_objects_listed_total{discovery} (entries the listings
  // returned, by how the run discovered), the last run's listing, raw objects expired.
  metrics::Gauge& last_listed_;
  metrics::Counter& raw_deleted_;
  // Notification discovery: events of the input's event log read (etl/notifications.h).
  metrics::Counter& events_read_;
  void Listed(const RunSummary& s);
  std::map<std::string, uint64_t> listed_;                 // by discovery, under mu_
  std::map<std::string, uint64_t> filtered_, quarantined_;  // by reason, under mu_
  std::string last_run_id_, last_error_;
  int64_t last_commit_ms_ = 0, last_ok_ms_ = 0, last_error_ms_ = 0;
};

}  // namespace orderlake::etl
