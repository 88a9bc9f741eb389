#include "agent/checkpoint.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/fs.h"

namespace orderlake::agent {

std::string FileIdentity::source_id() const { return fmt::format("{}:{}:{}-{:016x}", dev, ino, fp_len, fp_hash); }

std::optional<FileIdentity> FileIdentity::FromSourceId(std::string_view id) {
  FileIdentity f;
  auto number = [&id](char end, uint64_t& out, int base) {
    const size_t cut = end ? id.find(end) : id.size();
    if (cut == 0 || cut == std::string_view::npos) return false;
    auto [p, ec] = std::from_chars(id.data(), id.data() + cut, out, base);
    if (ec != std::errc() || p != id.data() + cut) return false;
    id.remove_prefix(end ? cut + 1 : cut);
    return true;
  };
  uint64_t len = 0;
  if (!number(':', f.dev, 10) || !number(':', f.ino, 10) || !number('-', len, 10) || len > UINT32_MAX ||
      id.size() != 16 || !number(0, f.fp_hash, 16))
    return std::nullopt;
  f.fp_len = static_cast<uint32_t>(len);
  return f;
}

namespace {
std::filesystem::path inflight_path(const std::filesystem::path& p) { return p.string() + ".inflight"; }
}  // namespace

CheckpointStore::~CheckpointStore() {
  if (inflight_fd_ >= 0) ::close(inflight_fd_);
}

Result<std::unique_ptr<CheckpointStore>> CheckpointStore::Open(const std::filesystem::path& path) {
  std::unique_ptr<CheckpointStore> s(new CheckpointStore(path));
  std::error_code ec;
  auto finish = [&]() -> Status {
    // Ranges sent by the last run beyond the checkpoint: the boundaries to cut again.
    std::ifstream in(inflight_path(path));
    std::string line;
    while (std::getline(in, line)) {
      std::istringstream ls(line);
      std::string k;
      uint64_t start = 0, end = 0;
      if (!std::getline(ls, k, '\t') || !(ls >> start >> end)) continue;  // a torn last line
      size_t bar = k.rfind('|');
      if (bar == std::string::npos) continue;
      auto it = s->entries_.find(k);
      uint64_t acked = it == s->entries_.end() ? 0 : it->second.offset;
      if (end > acked) s->planned_[k].push_back(end);
    }
    for (auto& [k, v] : s->planned_) {
      std::sort(v.begin(), v.end());
      v.erase(std::unique(v.begin(), v.end()), v.end());
    }
    s->inflight_fd_ = ::open(inflight_path(path).c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_APPEND, 0644);
    if (s->inflight_fd_ < 0)
      return Status::Errorf("cannot write {}: {}", inflight_path(path).string(), std::strerror(errno));
    // Keep the last run's ranges in the new journal until they are covered.
    for (auto& [k, v] : s->planned_) {
      for (uint64_t e : v) {
        std::string rec = fmt::format("{}\t0 {}\n", k, e);
        if (::write(s->inflight_fd_, rec.data(), rec.size()) < 0) break;
      }
    }
    return Status::OK();
  };
  if (!std::filesystem::exists(path, ec)) {
    auto dir = path.parent_path();
    if (!dir.empty()) ORDERLAKE_RETURN_IF_ERROR(fs::create_directories(dir));
    ORDERLAKE_RETURN_IF_ERROR(finish());
    return s;
  }
  auto text = fs::read_file(path);
  if (!text.ok()) return text.status();
  nlohmann::json j = nlohmann::json::parse(text.value(), nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("files") || !j["files"].is_array())
    return Status::Errorf("checkpoint file {}: not an orderlake agent checkpoint file (move it away to start over)",
                          path.string());
  try {
    for (const auto& e : j["files"]) {
      CheckpointEntry c;
      c.flow = e.at("flow").get<std::string>();
      c.id.dev = e.at("dev").get<uint64_t>();
      c.id.ino = e.at("inode").get<uint64_t>();
      c.id.fp_len = e.at("fingerprint_bytes").get<uint32_t>();
      c.id.fp_hash = std::stoull(e.at("fingerprint").get<std::string>(), nullptr, 16);
      c.path = e.value("path", "");
      c.offset = e.at("offset").get<uint64_t>();
      c.retired = e.value("retired", false);
      c.retire_offset = e.value("retire_offset", uint64_t{0});
      s->entries_[key(c.flow, c.id)] = c;
    }
  } catch (const std::exception& ex) {
    return Status::Errorf("checkpoint file {}: malformed entry: {}", path.string(), ex.what());
  }
  ORDERLAKE_RETURN_IF_ERROR(finish());
  return s;
}

void CheckpointStore::begin_send(const std::string& flow, const FileIdentity& id, uint64_t start, uint64_t end) {
  std::lock_guard lk(mu_);
  std::string k = key(flow, id);
  inflight_[k][end] = start;
  if (inflight_fd_ < 0) return;
  std::string rec = fmt::format("{}\t{} {}\n", k, start, end);
  if (::write(inflight_fd_, rec.data(), rec.size()) > 0) inflight_bytes_ += rec.size();
}

std::map<std::string, std::vector<uint64_t>> CheckpointStore::planned_ends(const std::string& flow) const {
  std::lock_guard lk(mu_);
  std::map<std::string, std::vector<uint64_t>> out;
  for (const auto& [k, v] : planned_) {
    if (k.compare(0, flow.size() + 1, flow + "|") == 0) out[k.substr(flow.size() + 1)] = v;
  }
  return out;
}

std::vector<CheckpointEntry> CheckpointStore::entries(const std::string& flow) const {
  std::lock_guard lk(mu_);
  std::vector<CheckpointEntry> out;
  for (const auto& [k, e] : entries_)
    if (e.flow == flow) out.push_back(e);
  return out;
}

void CheckpointStore::maybe_drop(const std::string& k) {
  auto it = entries_.find(k);
  if (it != entries_.end() && it->second.retired && it->second.offset >= it->second.retire_offset) {
    entries_.erase(it);
    ++version_;
  }
}

void CheckpointStore::ack(const std::string& flow, const FileIdentity& id, const std::string& path, uint64_t offset) {
  std::lock_guard lk(mu_);
  std::string k = key(flow, id);
  auto& e = entries_[k];
  if (e.flow.empty()) {
    e.flow = flow;
    e.id = id;
  }
  e.path = path;
  if (offset > e.offset) e.offset = offset;
  ++version_;
  // The range stays in the in-flight journal until a checkpoint on disk covers it (flush).
  maybe_drop(k);
}

void CheckpointStore::track(const std::string& flow, const FileIdentity& id, const std::string& path, uint64_t offset) {
  std::lock_guard lk(mu_);
  std::string k = key(flow, id);
  auto it = entries_.find(k);
  if (it != entries_.end()) {
    if (it->second.path != path) {
      it->second.path = path;
      ++version_;
    }
    return;
  }
  CheckpointEntry e;
  e.flow = flow;
  e.id = id;
  e.path = path;
  e.offset = offset;
  entries_[k] = e;
  ++version_;
}

void CheckpointStore::retire(const std::string& flow, const FileIdentity& id, uint64_t final_offset) {
  std::lock_guard lk(mu_);
  std::string k = key(flow, id);
  auto it = entries_.find(k);
  if (it == entries_.end()) return;
  it->second.retired = true;
  it->second.retire_offset = final_offset;
  ++version_;
  maybe_drop(k);
}

void CheckpointStore::forget(const std::string& flow, const FileIdentity& id) {
  std::lock_guard lk(mu_);
  if (entries_.erase(key(flow, id))) ++version_;
}

uint64_t CheckpointStore::acked(const std::string& flow, const FileIdentity& id) const {
  std::lock_guard lk(mu_);
  auto it = entries_.find(key(flow, id));
  return it == entries_.end() ? 0 : it->second.offset;
}

Status CheckpointStore::flush() {
  std::lock_guard wl(write_mu_);
  nlohmann::json j;
  uint64_t version;
  std::map<std::string, uint64_t> written;  // key -> offset in the checkpoint being written
  {
    std::lock_guard lk(mu_);
    if (version_ == written_version_) return Status::OK();
    version = version_;
    for (const auto& [k, e] : entries_) written[k] = e.offset;
    j["format"] = "orderlake-agent-checkpoints/1";
    j["files"] = nlohmann::json::array();
    for (const auto& [k, e] : entries_) {
      nlohmann::json f;
      f["flow"] = e.flow;
      f["path"] = e.path;
      f["dev"] = e.id.dev;
      f["inode"] = e.id.ino;
      f["fingerprint_bytes"] = e.id.fp_len;
      f["fingerprint"] = fmt::format("{:016x}", e.id.fp_hash);
      f["offset"] = e.offset;
      if (e.retired) {
        f["retired"] = true;
        f["retire_offset"] = e.retire_offset;
      }
      j["files"].push_back(std::move(f));
    }
  }
  ORDERLAKE_RETURN_IF_ERROR(
      fs::write_file_atomic(path_, j.dump(1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n"));
  std::lock_guard lk(mu_);
  written_version_ = version;
  // Ranges the checkpoint now on disk covers leave the journal; a range acknowledged in
  // memory after the checkpoint was serialized stays, so a kill before the next flush still
  // finds its end and cuts the resent batch there. A key no longer tracked (its file
  // finished and dropped) has nothing left to resend.
  for (auto it = inflight_.begin(); it != inflight_.end();) {
    auto w = written.find(it->first);
    const uint64_t covered = w != written.end() ? w->second : entries_.count(it->first) ? 0 : UINT64_MAX;
    it->second.erase(it->second.begin(), it->second.upper_bound(covered));
    it = it->second.empty() ? inflight_.erase(it) : std::next(it);
  }
  if (inflight_bytes_ > (256u << 10) && inflight_fd_ >= 0) {
    // Compact the journal to the ranges still unacknowledged (and the last run's plan).
    std::string text;
    for (const auto& [k, ranges] : inflight_)
      for (const auto& [end, start] : ranges) text += fmt::format("{}\t{} {}\n", k, start, end);
    for (const auto& [k, ends] : planned_) {
      auto it = entries_.find(k);
      uint64_t acked = it == entries_.end() ? 0 : it->second.offset;
      for (uint64_t e : ends)
        if (e > acked) text += fmt::format("{}\t0 {}\n", k, e);
    }
    auto tmp = inflight_path(path_).string() + ".tmp";
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_APPEND, 0644);
    if (fd >= 0 && ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
        ::rename(tmp.c_str(), inflight_path(path_).c_str()) == 0) {
      ::close(inflight_fd_);
      inflight_fd_ = fd;
      inflight_bytes_ = text.size();
    } else if (fd >= 0) {
      ::close(fd);
    }
  }
  return Status::OK();
}

}  // namespace orderlake::agent
