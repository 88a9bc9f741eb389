// Discovery and reading: which raw objects are new (or grew) since the bookmark, and the
// reader thread and parsing workers that turn them into column buffers, one segment (32 MiB
// of rows, or half the memory budget) at a time.
#include <simdjson.h>

#include <algorithm>
#include <thread>

#include "core/base64.h"
#include "core/clock.h"
#include "core/fs.h"
#include "core/log.h"
#include "etl/job_internal.h"

namespace orderlake::etl::internal {

bool has_hidden_part(std::string_view key) {
  for (size_t at = 0;;) {
    if (at < key.size() && (key[at] == '.' || key[at] == '_')) return true;
    const size_t slash = key.find('/', at);
    if (slash == std::string_view::npos) return false;
    at = slash + 1;
  }
}

namespace {

std::string_view trim_spaces(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

void add_quarantine(Worker& w, const ObjectInfo& obj, uint64_t line, uint64_t offset, Reject reason,
                    std::string_view detail, std::string_view record, bool prefix_only, uint64_t length) {
  json q = {{"source", obj.path}, {"line", line}, {"offset", offset},
            {"reason", reject_name(reason)}, {"detail", detail}};
  if (prefix_only) {
    q["length"] = length;
    q["record_prefix_base64"] = base64_encode(record.substr(0, OversizedLine::kPrefixBytes));
  } else if (reason == Reject::kInvalidUtf8) {
    q["record_base64"] = base64_encode(record);
  } else {
    q["record"] = record;
  }
  w.quarantine += q.dump(-1, ' ', false, json::error_handler_t::replace);
  w.quarantine += '\n';
  w.counts.rejected[static_cast<int>(reason)]++;
  w.counts.records++;
}

}  // namespace

void process_chunk(Worker& w, const Chunk& c, const ObjectInfo& obj, const TransformConfig& cfg) {
  for (const auto& o : c.oversized)
    add_quarantine(w, obj, o.line, o.offset, Reject::kLineTooLong,
                   fmt::format("record of {} bytes is over the limit of {} bytes", o.length, cfg.max_record_bytes),
                   o.prefix, true, o.length);
  const std::string_view data = c.data.view();
  const bool utf8_ok = simdjson::validate_utf8(data.data(), data.size());
  size_t pos = 0;
  uint64_t line_no = c.first_line;
  ParsedOrder order;
  Verdict verdict;
  while (pos < data.size()) {
    const char* nl = static_cast<const char*>(std::memchr(data.data() + pos, '\n', data.size() - pos));
    const size_t end = nl ? static_cast<size_t>(nl - data.data()) : data.size();
    std::string_view line = data.substr(pos, end - pos);
    const uint64_t offset = c.offset + pos;
    pos = end + 1;
    const uint64_t this_line = line_no++;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) {
      w.counts.empty++;
      continue;
    }
    const Outcome out = w.parser.parse(line, utf8_ok, &order, &verdict);
    if (out == Outcome::kRejected) {
      add_quarantine(w, obj, this_line, offset, verdict.reject, verdict.detail, line,
                     verdict.reject == Reject::kLineTooLong, line.size());
      continue;
    }
    w.counts.records++;
    if (out == Outcome::kFiltered) {
      w.counts.filtered[static_cast<int>(verdict.filter)]++;
      continue;
    }
    w.counts.kept++;
    const std::string_view country = trim_spaces(order.country);
    w.key.assign(country);
    w.key.push_back('\0');
    w.key.append(reinterpret_cast<const char*>(&order.days), sizeof order.days);
    PartitionBuf* part = w.last;
    if (!part || w.key != w.last_key) {
      auto it = w.parts.find(w.key);
      if (it == w.parts.end()) {
        auto p = std::make_unique<PartitionBuf>();
        p->country = std::string(country);
        p->days = order.days;
        p->region = std::string(cfg.regions->lookup(country));
        it = w.parts.emplace(w.key, std::move(p)).first;
      }
      part = it->second.get();
      w.last = part;
      w.last_key = w.key;
    }
    part->cols.append(order, part->region, cfg);
  }
  if (!c.error.empty())
    add_quarantine(w, obj, line_no, c.offset + data.size(), Reject::kCorruptObject, c.error, "", false, 0);
  size_t b = 0;
  for (auto& [k, p] : w.parts) b += p->cols.bytes();
  w.bytes.store(b + w.quarantine.size(), std::memory_order_relaxed);
}

// A full listing also learns the layout: every key in the Firehose layout (and at least
// one) lets later runs list incrementally, under the prefixes it saw.
Result<std::vector<store::ObjectInfo>> Job::ListFull() {
  auto listed = input_store_->List("");
  if (!listed.ok()) return Status::Errorf("cannot list input {}: {}", opt_.input, listed.status().message());
  bool layout = false, other = false;
  std::set<std::string> prefixes;
  DiscoveryState names;  // the names seen, for the next incremental listings
  for (const auto& info : listed.value()) {
    if (has_hidden_part(info.key)) continue;
    auto k = parse_layout_key(info.key);
    if (!k) {
      other = true;
      continue;
    }
    layout = true;
    prefixes.insert(k->prefix);
    names.Learn(*k);
    if (min_layout_ms_ < 0 || k->time_ms < min_layout_ms_) min_layout_ms_ = k->time_ms;
  }
  const bool was_layout = disc_.time_layout;
  const std::set<std::string> was_prefixes = disc_.prefixes;
  disc_.time_layout = layout && !other;
  disc_.prefixes = disc_.time_layout ? std::move(prefixes) : std::set<std::string>{};
  disc_.names = disc_.time_layout ? std::move(names.names) : decltype(disc_.names){};
  disc_.too_many_names = names.too_many_names;
  disc_.last_full_ms = clock::unix_ms();
  // Raw retention starts at the earliest hour there is (nothing lies before it).
  if (disc_.time_layout && disc_.raw_cleaned_ms < 0) disc_.raw_cleaned_ms = hour_floor(min_layout_ms_);
  // bookmark.json keeps what the listing learnt (for the layout, when it ran: the next
  // backfill is due from then); any other input's bookmark is not rewritten for it.
  if (disc_.time_layout || was_layout || was_prefixes != disc_.prefixes) disc_dirty_ = true;
  sum_.discovery = "full";
  return listed;
}

// Only what lies after the window start's hour directory, under each prefix and year
// (P/YYYY/ as the listing's prefix: keys of other prefixes that sort after the dates, such
// as an error output, are not listed again; a backfill lists them).
Result<std::vector<store::ObjectInfo>> Job::ListIncremental() {
  std::vector<store::ObjectInfo> all;
  const std::string hour = hour_dir(disc_.closed_ms);
  const int first_year = std::stoi(hour.substr(0, 4));
  const int last_year = std::stoi(hour_dir(std::max(clock::unix_ms(), disc_.mark_ms) + 24 * kHourMs).substr(0, 4));
  auto list = [&](const std::string& prefix, const std::string& after) -> Status {
    auto listed = input_store_->List(prefix, after);
    if (!listed.ok()) return Status::Errorf("cannot list input {}: {}", opt_.input, listed.status().message());
    for (auto& o : listed.value()) all.push_back(std::move(o));
    return Status::OK();
  };
  const std::string from = name_time(disc_.closed_ms);
  for (const auto& p : disc_.prefixes) {
    // The window start's hour from the window start on, name by name (objects of one name
    // sort by time there); then every hour after it. Without names, the whole hour.
    auto names = disc_.names.find(p);
    std::string after = p + hour;
    if (!disc_.too_many_names && names != disc_.names.end() && !names->second.empty()) {
      for (const auto& n : names->second)
        ORDERLAKE_RETURN_IF_ERROR(list(p + hour + "/" + n, p + hour + "/" + n + from));
      after = p + hour + "/~";  // '~' sorts after every character of a name
    }
    for (int y = first_year; y <= last_year; ++y) ORDERLAKE_RETURN_IF_ERROR(list(fmt::format("{}{:04}/", p, y), after));
  }
  for (const auto& o : all)
    if (auto k = parse_layout_key(o.key); k && disc_.Learn(*k)) disc_dirty_ = true;
  std::sort(all.begin(), all.end(), [](auto& a, auto& b) { return a.key < b.key; });
  all.erase(std::unique(all.begin(), all.end(), [](auto& a, auto& b) { return a.key == b.key; }), all.end());
  sum_.discovery = "incremental";
  return all;
}

Status Job::ListObjects(Bookmark& bm) {
  std::error_code ec;
  const std::string root = input_store_->local_root();
  if (!root.empty()) {
    if (!stdfs::exists(input_, ec)) return Status::Errorf("input directory {} does not exist", opt_.input);
    if (!stdfs::is_directory(input_, ec)) return Status::Errorf("input {} is not a directory", opt_.input);
  }
  const int64_t now = clock::unix_ms();
  const bool backfill_due = opt_.full_listing || now - disc_.last_full_ms >= opt_.backfill_ms;
  // Notification: the events first (an object delivered after this listing has an event
  // after the new cursor), then a full listing only when one is due.
  bool has_log = false;
  std::vector<store::ObjectInfo> named;
  if (opt_.discovery == "auto" || opt_.discovery == "notification") {
    auto ev = ReadEvents(&has_log);
    if (!ev.ok()) return ev.status();
    named = std::move(ev).value();
  }
  if (opt_.discovery == "notification" || (opt_.discovery == "auto" && has_log)) {
    events_mode_ = true;
    // Without a full listing that found the layout (or on any other input), the events
    // cannot tell what else is new: list all, as the listing modes do.
    if (!backfill_due && (disc_.time_layout || opt_.discovery == "notification") && disc_.last_full_ms > 0) {
      sum_.discovery = "notification";
      Classify(std::move(named), bm, true);
      return Status::OK();
    }
  }
  const bool incremental = (opt_.discovery == "auto" || opt_.discovery == "listing") && !backfill_due &&
                           disc_.time_layout && disc_.closed_ms >= 0 && !disc_.prefixes.empty();
  auto listed = incremental ? ListIncremental() : ListFull();
  if (!listed.ok()) return listed.status();
  // A full listing may just have found the layout: the window closes behind the mark.
  if (!incremental) PruneBookmark(&bm, now);
  Classify(std::move(listed).value(), bm);
  return Status::OK();
}

// Each listed object against the bookmark: new, grown (read from where the last run
// stopped), unchanged, changed, or closed by the window (taken).
void Job::Classify(std::vector<store::ObjectInfo> listed, const Bookmark& bm, bool named_by_events) {
  const std::string root = input_store_->local_root();
  sum_.objects_listed = listed.size();
  std::vector<ObjectInfo> all;
  for (auto& info : listed) {
    if (has_hidden_part(info.key)) continue;
    ObjectInfo o;
    o.key = std::move(info.key);
    o.path = root.empty() ? input_store_->url() + "/" + o.key : (input_ / o.key).lexically_normal().string();
    o.size = info.size;
    all.push_back(std::move(o));
  }
  std::sort(all.begin(), all.end(), [](auto& a, auto& b) { return a.path < b.path; });
  for (auto& o : all) {
    auto b = bm.find(o.path);
    if (b == bm.end()) {
      auto k = disc_.closed_ms >= 0 ? parse_layout_key(o.key) : std::nullopt;
      if (k && disc_.Closed(k->time_ms) && !named_by_events) {
        sum_.objects_skipped++;  // taken before the window
        continue;
      }
      if (k && disc_.Closed(k->time_ms))
        sum_.warnings.push_back(fmt::format("{} was delivered late (keyed before the look-back window); read from its "
                                            "delivery event",
                                            o.path));
      objects_.push_back(o);
    } else if (b->second.size == o.size) {
      sum_.objects_skipped++;
    } else if (o.size > b->second.size && b->second.offset == b->second.size) {
      // An append-only object (a log file that grew): read only what was added.
      auto magic = input_store_->Get(o.key, 0, 2);
      if (magic.ok() && magic->size() == 2 && static_cast<unsigned char>((*magic)[0]) == 0x1f &&
          static_cast<unsigned char>((*magic)[1]) == 0x8b) {
        sum_.objects_changed++;
        sum_.warnings.push_back(fmt::format("{} changed after it was processed (gzip); not read again", o.path));
        continue;
      }
      o.start_offset = b->second.offset;
      o.start_line = b->second.lines + 1;
      objects_.push_back(o);
    } else {
      sum_.objects_changed++;
      sum_.warnings.push_back(fmt::format("{} changed after it was processed ({} -> {} bytes); not read again",
                                          o.path, b->second.size, o.size));
    }
  }
  for (auto& o : objects_) total_bytes_ += o.size - o.start_offset;
}

Status Job::ProcessAll() {
  const int nthreads = opt_.threads > 0 ? opt_.threads : std::max(1u, std::thread::hardware_concurrency());
  for (int i = 0; i < nthreads; ++i) workers_.push_back(std::make_unique<Worker>(opt_.transform));
  done_.resize(objects_.size());

  size_t obj_idx = 0;
  std::unique_ptr<ObjectReader> reader;
  uint64_t raw_before = 0;
  bool input_done = objects_.empty();
  std::atomic<bool> stop_progress{false};
  std::thread progress;
  if (opt_.progress)
    progress = std::thread([&] {
      while (!stop_progress.load()) {
        for (int i = 0; i < 20 && !stop_progress.load(); ++i)
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
        if (!stop_progress.load()) Progress(false);
      }
    });
  // A segment ends when this much more is buffered: rows go out to the files in row
  // groups, and memory does not grow with the size of an object.
  const size_t segment_bytes = std::min(kRowGroupBytes, opt_.memory_budget / 2);
  Status st;
  while (!input_done && st.ok()) {
    ChunkQueue queue(static_cast<size_t>(nthreads) * 2);
    std::vector<std::thread> threads;
    for (int i = 0; i < nthreads; ++i)
      threads.emplace_back([&, i] {
        Worker& w = *workers_[static_cast<size_t>(i)];
        while (auto c = queue.pop()) {
          process_chunk(w, *c, objects_[c->object], opt_.transform);
          records_seen_.fetch_add(c->lines, std::memory_order_relaxed);
        }
      });
    // Read until the input ends or the buffers reach the memory budget.
    for (;;) {
      if (!reader) {
        if (obj_idx >= objects_.size()) {
          input_done = true;
          break;
        }
        const ObjectInfo& o = objects_[obj_idx];
        auto r = ObjectReader::Open(*input_store_, o.key, o.start_offset, o.start_line,
                                    opt_.transform.max_record_bytes, opt_.chunk_bytes);
        if (!r.ok()) {
          // An unreadable object is reported and left for a later run (not bookmarked).
          sum_.warnings.push_back(r.status().message() + " (skipped; it will be retried next run)");
          spdlog::warn("etl: {}", r.status().message());
          ++obj_idx;
          continue;
        }
        reader = std::move(r).value();
        raw_before = bytes_read_.load();
        sum_.objects++;
      }
      auto c = std::make_unique<Chunk>();
      if (!reader->Next(c.get())) {
        // A file that grew while it was read was read past its listed size: the bookmark
        // says how far, so the next run reads only what was appended after that.
        const uint64_t end = reader->compressed() ? objects_[obj_idx].size : reader->end_offset();
        done_[obj_idx] = BookmarkEntry{std::max(objects_[obj_idx].size, end), end, reader->end_line() - 1, ""};
        bytes_read_.store(raw_before + reader->raw_bytes_read());
        reader.reset();
        ++obj_idx;
        continue;
      }
      c->object = obj_idx;
      bytes_read_.store(raw_before + reader->raw_bytes_read());
      queue.push(std::move(c));
      size_t held = 0;
      for (auto& w : workers_) held += w->bytes.load(std::memory_order_relaxed);
      if (held >= opt_.memory_budget || held >= held_after_write_ + segment_bytes) break;
    }
    queue.close();
    for (auto& t : threads) t.join();
    spdlog::debug("etl: segment {} parsed at {:.3f} s", segment_, Elapsed());
    st = WriteSegment(input_done);
    spdlog::debug("etl: segment {} written at {:.3f} s", segment_ - 1, Elapsed());
  }
  stop_progress.store(true);
  if (progress.joinable()) progress.join();
  if (opt_.progress && st.ok() && !objects_.empty()) Progress(true);
  return st;
}

void Job::Progress(bool final) {
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const uint64_t got = bytes_read_.load(), recs = records_seen_.load();
  const double pct = total_bytes_ ? 100.0 * static_cast<double>(got) / static_cast<double>(total_bytes_) : 100.0;
  fmt::print(stderr, "etl: {}{:5.1f}% of {} read, {} lines, {:.0f} lines/s, {:.1f} s\n", final ? "done " : "",
             std::min(pct, 100.0), fs::human_bytes(static_cast<double>(total_bytes_)), recs,
             secs > 0 ? static_cast<double>(recs) / secs : 0.0, secs);
}

}  // namespace orderlake::etl::internal
