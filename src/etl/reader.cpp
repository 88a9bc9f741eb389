#include "etl/reader.h"

#include "store/object_store.h"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace orderlake::etl {
namespace {

// A stream of bytes: the file itself, or its gzip decompression.
class Source {
 public:
  virtual ~Source() = default;
  // Reads up to n bytes; 0 at the end; an error when the bytes cannot be had.
  virtual Result<size_t> Read(char* buf, size_t n) = 0;
  virtual uint64_t raw_bytes() const = 0;
};

Result<size_t> read_fd(int fd, char* buf, size_t n, const std::string& path) {
  for (;;) {
    ssize_t got = ::read(fd, buf, n);
    if (got >= 0) return static_cast<size_t>(got);
    if (errno != EINTR) return Status::Errorf("cannot read {}: {}", path, std::strerror(errno));
  }
}

class PlainSource final : public Source {
 public:
  PlainSource(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~PlainSource() override { ::close(fd_); }
  Result<size_t> Read(char* buf, size_t n) override {
    auto r = read_fd(fd_, buf, n, path_);
    if (r.ok()) raw_ += r.value();
    return r;
  }
  uint64_t raw_bytes() const override { return raw_; }

 private:
  int fd_;
  std::string path_;
  uint64_t raw_ = 0;
};

// An object in a store read in ranges of `step` bytes.
class StoreSource final : public Source {
 public:
  StoreSource(store::ObjectStore& store, std::string key, uint64_t offset, size_t step)
      : store_(store), key_(std::move(key)), pos_(offset), step_(step) {}
  Result<size_t> Read(char* buf, size_t n) override {
    if (window_at_ == window_.size()) {
      auto r = store_.Get(key_, pos_, step_);
      if (!r.ok()) return r.status();
      window_ = std::move(r).value();
      window_at_ = 0;
      pos_ += window_.size();
      raw_ += window_.size();
      if (window_.empty()) return size_t{0};
    }
    const size_t k = std::min(n, window_.size() - window_at_);
    std::memcpy(buf, window_.data() + window_at_, k);
    window_at_ += k;
    return k;
  }
  uint64_t raw_bytes() const override { return raw_; }

 private:
  store::ObjectStore& store_;
  std::string key_;
  uint64_t pos_;
  size_t step_;
  std::string window_;
  size_t window_at_ = 0;
  uint64_t raw_ = 0;
};

// Decompresses gzip (one or several members) from a raw source.
class GzipSource final : public Source {
 public:
  GzipSource(std::unique_ptr<Source> raw, std::string path) : raw_src_(std::move(raw)), path_(std::move(path)), in_(1 << 20) {
    std::memset(&zs_, 0, sizeof zs_);
    inflateInit2(&zs_, 15 + 32);
  }
  ~GzipSource() override { inflateEnd(&zs_); }
  Result<size_t> Read(char* buf, size_t n) override {
    if (!pending_error_.ok()) return pending_error_;
    zs_.next_out = reinterpret_cast<Bytef*>(buf);
    zs_.avail_out = static_cast<uInt>(n);
    while (zs_.avail_out > 0) {
      if (zs_.avail_in == 0) {
        auto r = raw_src_->Read(in_.data(), in_.size());
        if (!r.ok()) return Fail(n, r.status());
        raw_ += r.value();
        if (r.value() == 0) {
          if (member_done_ || (raw_ == 0)) break;  // clean end (or an empty file)
          return Fail(n, Status::Errorf("{}: gzip data ends early (truncated object) at compressed byte {}",
                                        path_, raw_));
        }
        zs_.next_in = reinterpret_cast<Bytef*>(in_.data());
        zs_.avail_in = static_cast<uInt>(r.value());
      }
      if (member_done_) {
        // Another gzip member follows (concatenated gzip, as `cat a.gz b.gz` makes).
        inflateReset(&zs_);
        member_done_ = false;
      }
      int rc = inflate(&zs_, Z_NO_FLUSH);
      if (rc == Z_STREAM_END) {
        member_done_ = true;
      } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
        return Fail(n, Status::Errorf("{}: corrupt gzip data near compressed byte {}: {}", path_,
                                      raw_ - zs_.avail_in, zs_.msg ? zs_.msg : "inflate failed"));
      }
    }
    return n - zs_.avail_out;
  }
  uint64_t raw_bytes() const override { return raw_; }

 private:
  // Hands out what was decompressed before the damage; the error comes on the next call.
  Result<size_t> Fail(size_t n, Status error) {
    const size_t produced = n - zs_.avail_out;
    if (produced == 0) return error;
    pending_error_ = std::move(error);
    return produced;
  }

  Status pending_error_;
  std::unique_ptr<Source> raw_src_;
  std::string path_;
  std::vector<char> in_;
  z_stream zs_;
  uint64_t raw_ = 0;
  bool member_done_ = false;
};

class LineReader final : public ObjectReader {
 public:
  LineReader(std::unique_ptr<Source> src, bool gz, uint64_t offset, uint64_t line, size_t max_record,
             size_t chunk_bytes)
      : src_(std::move(src)), gz_(gz), pos_(offset), line_(line), max_record_(max_record),
        chunk_bytes_(std::max<size_t>(chunk_bytes, 4096)) {}

  bool Next(Chunk* c) override {
    c->data.clear();
    c->oversized.clear();
    c->error.clear();
    c->lines = 0;
    for (;;) {
      if (!skipping_ && (pending_.size() >= chunk_bytes_ || eof_)) {
        // (memrchr on the null data() of a Buffer that never allocated is undefined behaviour)
        const char* nlp =
            pending_.empty() ? nullptr : static_cast<const char*>(memrchr(pending_.data(), '\n', pending_.size()));
        if (nlp) {
          Emit(c, static_cast<size_t>(nlp - pending_.data()) + 1);
          return true;
        }
        if (eof_) {
          if (!pending_.empty()) {
            Emit(c, pending_.size());
            return true;
          }
          return !c->oversized.empty() || !c->error.empty();
        }
        if (pending_.size() > max_record_) {
          // One partial line already over the limit: report it and skip to its end.
          skip_ = OversizedLine{pos_, line_, pending_.size(),
                                std::string(pending_.view().substr(0, OversizedLine::kPrefixBytes))};
          pos_ += pending_.size();
          pending_.clear();
          skipping_ = true;
        }
      }
      if (eof_) {
        if (skipping_) {  // an over-long last line without terminator
          c->oversized.push_back(std::move(skip_));
          skipping_ = false;
          line_ += 1;
          continue;
        }
        continue;
      }
      const size_t want = chunk_bytes_;
      char* tail = pending_.reserve_tail(want);
      auto r = src_->Read(tail, want);
      if (!r.ok()) {
        c->error = r.status().message();
        eof_ = true;
        continue;
      }
      pending_.commit(r.value());
      if (r.value() == 0) eof_ = true;
      if (skipping_ && !pending_.empty()) {
        const char* p = static_cast<const char*>(std::memchr(pending_.data(), '\n', pending_.size()));
        if (p) {
          const size_t k = static_cast<size_t>(p - pending_.data());
          skip_.length += k;
          pos_ += k + 1;
          line_ += 1;
          c->oversized.push_back(std::move(skip_));
          pending_.consume(k + 1);
          skipping_ = false;
        } else {
          skip_.length += pending_.size();
          pos_ += pending_.size();
          pending_.clear();
        }
      }
    }
  }

  uint64_t raw_bytes_read() const override { return src_->raw_bytes(); }
  uint64_t end_offset() const override { return pos_; }
  uint64_t end_line() const override { return line_; }
  bool compressed() const override { return gz_; }

 private:
  void Emit(Chunk* c, size_t n) {
    c->offset = pos_;
    c->first_line = line_;
    // The chunk takes the buffer; the partial line after it starts the next one.
    c->data.clear();
    c->data.append(pending_.view().substr(n));
    std::swap(c->data, pending_);
    c->data.resize_down(n);
    uint64_t lines = count_newlines(c->data.data(), n);
    if (n && c->data.data()[n - 1] != '\n') ++lines;
    c->lines = lines;
    pos_ += n;
    line_ += lines;
  }

  std::unique_ptr<Source> src_;
  bool gz_;
  uint64_t pos_;   // offset of pending_[0]
  uint64_t line_;  // line number of pending_[0]
  size_t max_record_;
  size_t chunk_bytes_;
  Buffer pending_;
  bool eof_ = false;
  bool skipping_ = false;
  OversizedLine skip_;
};

}  // namespace

namespace {
Result<std::unique_ptr<ObjectReader>> open_reader(std::unique_ptr<Source> raw, bool gz, const std::string& name,
                                                  uint64_t start_offset, uint64_t start_line,
                                                  size_t max_record_bytes, size_t chunk_bytes) {
  if (gz && start_offset != 0)
    return Status::Errorf("{}: a gzip object cannot be resumed at byte {}", name, start_offset);
  std::unique_ptr<Source> src = gz ? std::make_unique<GzipSource>(std::move(raw), name) : std::move(raw);
  return std::unique_ptr<ObjectReader>(std::make_unique<LineReader>(std::move(src), gz, start_offset, start_line,
                                                                    max_record_bytes, chunk_bytes));
}
}  // namespace

Result<std::unique_ptr<ObjectReader>> ObjectReader::Open(const std::string& path, uint64_t start_offset,
                                                         uint64_t start_line, size_t max_record_bytes,
                                                         size_t chunk_bytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::Errorf("cannot open {}: {}", path, std::strerror(errno));
  unsigned char magic[2] = {0, 0};
  ssize_t n = ::pread(fd, magic, 2, 0);
  const bool gz = n == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
  if (!gz && start_offset && ::lseek(fd, static_cast<off_t>(start_offset), SEEK_SET) < 0) {
    int e = errno;
    ::close(fd);
    return Status::Errorf("cannot seek {} to byte {}: {}", path, start_offset, std::strerror(e));
  }
  return open_reader(std::make_unique<PlainSource>(fd, path), gz, path, start_offset, start_line, max_record_bytes,
                     chunk_bytes);
}

Result<std::unique_ptr<ObjectReader>> ObjectReader::Open(store::ObjectStore& store, const std::string& key,
                                                         uint64_t start_offset, uint64_t start_line,
                                                         size_t max_record_bytes, size_t chunk_bytes) {
  if (!store.local_root().empty())
    return Open(store.local_root() + "/" + key, start_offset, start_line, max_record_bytes, chunk_bytes);
  auto magic = store.Get(key, 0, 2);
  if (!magic.ok()) return magic.status();
  const bool gz = magic->size() == 2 && static_cast<unsigned char>((*magic)[0]) == 0x1f &&
                  static_cast<unsigned char>((*magic)[1]) == 0x8b;
  const std::string name = store.url() + "/" + key;
  return open_reader(std::make_unique<StoreSource>(store, key, gz ? 0 : start_offset, std::max<size_t>(chunk_bytes, 1 << 20)),
                     gz, name, start_offset, start_line, max_record_bytes, chunk_bytes);
}

}  // namespace orderlake::etl
