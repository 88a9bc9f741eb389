// The writer's sinks and column views (see core/parquet_writer.h).
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "core/parquet_writer.h"

namespace orderlake::parquet {

// ---------------------------------------------------------------------------------------
// Sinks

FdSink::FdSink(int fd, size_t buffer_size)
    : fd_(fd),
      buf_(std::make_unique_for_overwrite<char[]>(std::max<size_t>(buffer_size, 4096))),
      buf_cap_(std::max<size_t>(buffer_size, 4096)) {}

FdSink::~FdSink() { (void)Flush(); }

Status FdSink::WriteAll(const char* p, size_t n) {
  return WriteAll2(nullptr, 0, p, n);
}

// Writes a then b (either may be empty) with as few syscalls as possible.
Status FdSink::WriteAll2(const char* a, size_t an, const char* b, size_t bn) {
  while (an + bn > 0) {
    iovec iov[2];
    int cnt = 0;
    if (an > 0) iov[cnt++] = {const_cast<char*>(a), an};
    if (bn > 0) iov[cnt++] = {const_cast<char*>(b), bn};
    const ssize_t w = ::writev(fd_, iov, cnt);
    if (w < 0) {
      if (errno == EINTR) continue;
      return Status::Errorf("parquet: write to fd {} failed after {} bytes: {}", fd_, written_,
                            std::strerror(errno));
    }
    auto done = static_cast<size_t>(w);
    written_ += done;
    const size_t from_a = std::min(done, an);
    a += from_a;
    an -= from_a;
    done -= from_a;
    b += done;
    bn -= done;
  }
  return Status::OK();
}

Status FdSink::Append(std::string_view data) {
  if (data.size() >= buf_cap_ / 4) {
    // Large: one writev of what is buffered plus the data, no copy.
    const size_t used = buf_used_;
    buf_used_ = 0;
    return WriteAll2(buf_.get(), used, data.data(), data.size());
  }
  if (data.size() <= buf_cap_ - buf_used_) {
    std::memcpy(buf_.get() + buf_used_, data.data(), data.size());
    buf_used_ += data.size();
    return Status::OK();
  }
  ORDERLAKE_RETURN_IF_ERROR(Flush());
  std::memcpy(buf_.get(), data.data(), data.size());
  buf_used_ = data.size();
  return Status::OK();
}

Status FdSink::Flush() {
  if (buf_used_ == 0) return Status::OK();
  const size_t n = buf_used_;
  buf_used_ = 0;  // written_ counts what reached the fd
  return WriteAll(buf_.get(), n);
}

// ---------------------------------------------------------------------------------------
// Column views

std::string_view TypeName(Type t) {
  switch (t) {
    case Type::kInt32:
      return "INT32";
    case Type::kInt64:
      return "INT64";
    case Type::kDouble:
      return "DOUBLE";
    case Type::kString:
      return "STRING";
    case Type::kDate:
      return "DATE";
  }
  return "?";
}

namespace {
template <typename Set>
ColumnView make_view(Type type, Set set) {
  ColumnView c;
  c.type = type;
  set(c);
  return c;
}
}  // namespace

ColumnView ColumnView::Int32(std::span<const int32_t> v) {
  return make_view(Type::kInt32, [v](ColumnView& c) { c.i32 = v; });
}
ColumnView ColumnView::Date(std::span<const int32_t> days) {
  return make_view(Type::kDate, [days](ColumnView& c) { c.i32 = days; });
}
ColumnView ColumnView::Int64(std::span<const int64_t> v) {
  return make_view(Type::kInt64, [v](ColumnView& c) { c.i64 = v; });
}
ColumnView ColumnView::Double(std::span<const double> v) {
  return make_view(Type::kDouble, [v](ColumnView& c) { c.f64 = v; });
}
ColumnView ColumnView::String(std::string_view data, std::span<const uint32_t> offsets) {
  return make_view(Type::kString, [data, offsets](ColumnView& c) {
    c.str_data = data;
    c.str_offsets = offsets;
  });
}

size_t ColumnView::size() const {
  switch (type) {
    case Type::kInt32:
    case Type::kDate:
      return i32.size();
    case Type::kInt64:
      return i64.size();
    case Type::kDouble:
      return f64.size();
    case Type::kString:
      return str_offsets.empty() ? 0 : str_offsets.size() - 1;
  }
  return 0;
}

}  // namespace orderlake::parquet
