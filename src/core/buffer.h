// A growable byte buffer that, unlike std::string, does not zero the bytes it grows by:
// the hot read paths fill them right away.
#pragma once
#include <cstddef>
#include <cstring>
#include <memory>
#include <string_view>

namespace orderlake {

class Buffer {
 public:
  Buffer() = default;
  Buffer(Buffer&&) noexcept = default;
  Buffer& operator=(Buffer&&) noexcept = default;

  char* data() { return data_.get(); }
  const char* data() const { return data_.get(); }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  std::string_view view() const { return std::string_view(data_.get(), size_); }
  void clear() { size_ = 0; }
  void resize_down(size_t n) { size_ = n < size_ ? n : size_; }

  // Makes room for n more bytes and returns where they go; commit(k) keeps k of them.
  char* reserve_tail(size_t n) {
    if (size_ + n > cap_) grow(size_ + n);
    return data_.get() + size_;
  }
  void commit(size_t n) { size_ += n; }
  void append(std::string_view s) {
    if (s.empty()) return;  // before the first allocation data() is null: no memcpy to it
    std::memcpy(reserve_tail(s.size()), s.data(), s.size());
    size_ += s.size();
  }
  // Drops the first n bytes.
  void consume(size_t n) {
    if (n == 0) return;
    std::memmove(data_.get(), data_.get() + n, size_ - n);
    size_ -= n;
  }

 private:
  void grow(size_t need) {
    size_t cap = cap_ ? cap_ : 4096;
    while (cap < need) cap *= 2;
    std::unique_ptr<char[]> d(new char[cap]);
    if (size_) std::memcpy(d.get(), data_.get(), size_);
    data_ = std::move(d);
    cap_ = cap;
  }
  std::unique_ptr<char[]> data_;
  size_t size_ = 0, cap_ = 0;
};

// Number of '\n' bytes in data (SSE2, 16 bytes a step).
size_t count_newlines(const char* data, size_t n);

}  // namespace orderlake
