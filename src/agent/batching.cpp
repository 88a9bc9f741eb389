// Records and batches: lines into records (header lines, footers, multi-line records,
// truncation, processing options) and records into the batches the sender delivers.
#include <algorithm>
#include <cstring>

#include "agent/flow.h"
#include "core/log.h"

namespace orderlake::agent::internal {

void Flow::append_capped(TrackedFile& f, const char* p, size_t n) {
  size_t cap = static_cast<size_t>(cfg_.max_record_size) + 1;
  if (f.line.size() < cap) f.line.append(p, std::min(n, cap - f.line.size()));
  if (f.line.size() >= cap) f.line_overflow = true;
}

// A line over maxLineBytes: from here its bytes are dropped as they are read.
void Flow::start_skip(TrackedFile& f) {
  f.line.clear();
  f.line_overflow = false;
  f.line_skipping = true;
  ++c_.lines_skipped;
  if (c_.lines_skipped <= 10)
    spdlog::warn("agent: {}: the line at offset {} is longer than maxLineBytes ({} bytes); it is skipped up to its "
                 "newline, not sent", f.path, f.line_start, cfg_.max_line_bytes);
}

void Flow::end_skip(TrackedFile& f, uint64_t end) {
  f.line_skipping = false;
  if (c_.lines_skipped <= 10)
    spdlog::warn("agent: {}: skipped the line at offset {}: {} bytes with its newline (over maxLineBytes)", f.path,
                 f.line_start, end - f.line_start);
  if (f.has_batch) f.batch.end = end;
}

void Flow::process_chunk(TrackedFile& f, const char* buf, size_t n) {
  const char* p = buf;
  const char* e = buf + n;
  const uint64_t max_line = static_cast<uint64_t>(cfg_.max_line_bytes);
  while (p < e && !f.footer_seen) {
    uint64_t off = f.pos + static_cast<uint64_t>(p - buf);
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(e - p)));
    if (f.line_skipping) {
      if (!nl) break;  // still inside the skipped line
      end_skip(f, off + static_cast<uint64_t>(nl + 1 - p));
      p = nl + 1;
      continue;
    }
    if (f.line.empty() && !f.line_overflow) f.line_start = off;
    // The line's length so far, without its newline.
    const uint64_t len_so_far = off - f.line_start + static_cast<uint64_t>((nl ? nl : e) - p);
    if (len_so_far > max_line) {
      start_skip(f);
      continue;  // the same bytes again, now skipped
    }
    if (!nl) {
      append_capped(f, p, static_cast<size_t>(e - p));
      break;
    }
    size_t len = static_cast<size_t>(nl + 1 - p);
    uint64_t end = off + len;
    if (f.line.empty() && !f.line_overflow) {
      bool over = len > static_cast<size_t>(cfg_.max_record_size);
      on_line(f, std::string_view(p, len), f.line_start, end, over);
    } else {
      append_capped(f, p, len);
      on_line(f, f.line, f.line_start, end, f.line_overflow || f.line.size() > static_cast<size_t>(cfg_.max_record_size));
      f.line.clear();
      f.line_overflow = false;
    }
    p = nl + 1;
  }
}

void Flow::on_line(TrackedFile& f, std::string_view line, uint64_t start, uint64_t end, bool over) {
  ++c_.records_read;
  if (f.header_left > 0) {
    --f.header_left;
    ++c_.header_lines_skipped;
    return;
  }
  if (footer_re_) {
    std::string_view body = line;
    while (!body.empty() && (body.back() == '\n' || body.back() == '\r')) body.remove_suffix(1);
    body = body.substr(0, kMaxRegexInput);
    if (std::regex_search(body.begin(), body.end(), *footer_re_)) {
      spdlog::info("agent: {}: footer line at offset {}; the rest of the file is not read", f.path, start);
      f.footer_seen = true;
      return;
    }
  }
  if (!start_re_) {
    emit(f, line, start, end, over);
    return;
  }
  std::string_view body = line;
  while (!body.empty() && (body.back() == '\n' || body.back() == '\r')) body.remove_suffix(1);
  body = body.substr(0, kMaxRegexInput);
  bool is_start = std::regex_search(body.begin(), body.end(), *start_re_, std::regex_constants::match_continuous);
  if (is_start || !f.rec_open) {
    emit_pending_rec(f);
    f.rec.assign(line.substr(0, std::min<size_t>(line.size(), cfg_.max_record_size + 1)));
    f.rec_start = start;
    f.rec_end = end;
    f.rec_open = true;
    f.rec_overflow = over;
    return;
  }
  size_t cap = static_cast<size_t>(cfg_.max_record_size) + 1;
  if (f.rec.size() < cap) f.rec.append(line.substr(0, cap - f.rec.size()));
  if (f.rec.size() >= cap) f.rec_overflow = true;
  f.rec_end = end;
}

void Flow::emit_pending_rec(TrackedFile& f) {
  if (!f.rec_open) return;
  f.rec_open = false;
  emit(f, f.rec, f.rec_start, f.rec_end, f.rec_overflow || f.rec.size() > static_cast<size_t>(cfg_.max_record_size));
  f.rec.clear();
}

void Flow::emit(TrackedFile& f, std::string_view raw, uint64_t start, uint64_t end, bool over) {
  std::string_view out = raw;
  if (over) {
    scratch_.assign(raw);
    RecordProcessor::truncate(scratch_, static_cast<size_t>(cfg_.max_record_size), cfg_.truncated_record_terminator);
    ++c_.records_truncated;
    if (c_.records_truncated <= 10)
      spdlog::warn("agent: {}: record at offset {} is longer than {} bytes; truncated", f.path, start,
                   cfg_.max_record_size);
    out = scratch_;
  }
  if (processor_.transforms()) {
    if (!processor_.process(out, processed_)) {
      ++c_.records_rejected;
      if (c_.records_rejected <= 10)
        spdlog::warn("agent: {}: record at offset {} does not match the flow's processing options; skipped",
                     f.path, start);
      if (f.has_batch) f.batch.end = end;
      return;
    }
    if (RecordProcessor::truncate(processed_, std::min<size_t>(kFirehoseMaxRecord, cfg_.max_record_size),
                                  cfg_.truncated_record_terminator))
      ++c_.records_truncated;
    out = processed_;
  }
  // After a restart, cut at the ends the last run used (a replay the service can recognise).
  while (!f.plan.empty() && f.plan.front() <= start) f.plan.pop_front();
  if (f.has_batch && (f.batch.ends.size() + 1 > static_cast<size_t>(cfg_.max_buffer_size_records) ||
                      f.batch.data.size() + out.size() > static_cast<size_t>(cfg_.max_buffer_size_bytes)))
    push_batch(f);
  if (!f.has_batch) {
    f.has_batch = true;
    f.batch = Batch{};
    f.batch.id = f.id;
    f.batch.path = f.path;
    f.batch.start = start;
    f.batch.created = Clock::now();
    f.batch.data.reserve(std::min<size_t>(static_cast<size_t>(cfg_.max_buffer_size_bytes), 1 << 20));
  }
  // Aggregation: the record joins the last one while the two fit the aggregate size (and
  // the batch is not cut at a planned end, which only ever follows a whole record).
  const size_t last_start = f.batch.ends.size() > 1 ? f.batch.ends[f.batch.ends.size() - 2] : 0;
  const bool join = cfg_.aggregated_record_size_bytes > 0 && !f.batch.ends.empty() &&
                    f.batch.data.size() - last_start + out.size() <= static_cast<size_t>(cfg_.aggregated_record_size_bytes);
  f.batch.data.append(out);
  open_bytes_ += out.size();
  if (join)
    f.batch.ends.back() = static_cast<uint32_t>(f.batch.data.size());
  else
    f.batch.ends.push_back(static_cast<uint32_t>(f.batch.data.size()));
  f.batch.end = end;
  if (open_bytes_ > kOpenBatchBudget) {
    push_batch(f);
    return;
  }
  if (!f.plan.empty() && f.plan.front() <= end) {
    bool exact = f.plan.front() == end;
    while (!f.plan.empty() && f.plan.front() <= end) f.plan.pop_front();
    if (exact) {
      push_batch(f);
      return;
    }
  }
  if (f.batch.ends.size() >= static_cast<size_t>(cfg_.max_buffer_size_records)) push_batch(f);
}

void Flow::push_batch(TrackedFile& f) {
  if (!f.has_batch) return;
  f.has_batch = false;
  open_bytes_ -= std::min(open_bytes_, f.batch.data.size());
  last_pushed_end_[f.batch.id.source_id()] = f.batch.end;
  ++c_.queued_batches;
  if (!queue_.push(std::move(f.batch))) --c_.queued_batches;
  f.batch = Batch{};
}

}  // namespace orderlake::agent::internal
