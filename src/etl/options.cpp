// The etl's option checks: one rule for the CLI, `up` and tests.
#include <cmath>

#include "core/duration.h"
#include "core/metrics_server.h"
#include "etl/job.h"

namespace orderlake::etl {

Status EtlOptions::Validate() const {
  if (input.empty()) return Status::Error("--input must name the raw objects (a path, file:// or s3:// URL)");
  if (lake.empty()) return Status::Error("--lake must name the lake (a path, file:// or s3:// URL)");
  if (table.empty() || table.find('/') != std::string::npos)
    return Status::Errorf("--table must be a table name without '/', got \"{}\"", table);
  if (!(transform.usd_rate > 0) || !std::isfinite(transform.usd_rate))
    return Status::Errorf("--usd-rate must be a number above 0, got {}", transform.usd_rate);
  if (!std::isfinite(transform.high_threshold))
    return Status::Errorf("--high-threshold must be a finite number, got {}", transform.high_threshold);
  if (transform.regions == nullptr) return Status::Error("--regions: no region mapping given");
  if (transform.max_record_bytes < 64 || transform.max_record_bytes > (size_t{1} << 30))
    return Status::Errorf("--max-record-bytes must be between 64 and 1073741824, got {}", transform.max_record_bytes);
  if (threads < 0 || threads > 256) return Status::Errorf("--threads must be between 0 and 256, got {}", threads);
  // In bytes: the CLI gives at least kMinMemoryMb MiB; tests and callers may give less.
  constexpr size_t kMiB = size_t{1} << 20;
  if (memory_budget < kMiB || memory_budget > kMaxMemoryMb * kMiB)
    return Status::Errorf("--memory-mb must be between 1 and {} MiB, got {} bytes", kMaxMemoryMb, memory_budget);
  if (chunk_bytes == 0) return Status::Error("the etl's read unit (chunk_bytes) must be more than 0");
  if (runs_retention_ms < 0 || runs_retention_ms > kMaxDurationMs)
    return Status::Errorf("--runs-retention must be between 0 and 100 years, got {} ms", runs_retention_ms);
  if (quarantine_retention_ms < 0 || quarantine_retention_ms > kMaxDurationMs)
    return Status::Errorf("--quarantine-retention must be between 0 and 100 years, got {} ms",
                          quarantine_retention_ms);
  if (row_group_rows == 0) return Status::Error("the etl's Parquet row groups must hold at least one row");
  if (discovery != "auto" && discovery != "notification" && discovery != "listing" && discovery != "full")
    return Status::Errorf("--discovery must be auto, notification, listing or full, got \"{}\"", discovery);
  if (lookback_ms < 0 || lookback_ms > kMaxDurationMs)
    return Status::Errorf("--lookback must be a duration between 0 and 100 years, got {} ms", lookback_ms);
  if (backfill_ms < 0 || backfill_ms > kMaxDurationMs)
    return Status::Errorf("--backfill-interval must be a duration between 0 and 100 years, got {} ms", backfill_ms);
  if (raw_retention_ms < 0 || raw_retention_ms > kMaxDurationMs)
    return Status::Errorf("--raw-retention must be a duration between 0 (keep everything) and 100 years, got {} ms",
                          raw_retention_ms);
  return Status::OK();
}

Status FollowOptions::Validate() const {
  if (interval_ms < 10 || interval_ms > 3'600'000)
    return Status::Errorf("--interval-ms must be between 10 and 3600000, got {}", interval_ms);
  if (!(compact_every_s >= 0 && compact_every_s <= 86400))
    return Status::Errorf("--compact-every must be between 0 and 86400 seconds, got {}", compact_every_s);
  return ValidateListenAddress(metrics_listen, "--metrics-listen");
}

}  // namespace orderlake::etl
