// Reads one raw object (plain or gzip, detected by its magic bytes, any size) as a
// sequence of chunks of whole lines, so the etl's workers never see a line cut in two.
// Lines longer than the record limit are not held in memory: they are reported with
// their position and a prefix, and skipped.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/buffer.h"
#include "core/status.h"

namespace orderlake::store {
class ObjectStore;
}

namespace orderlake::etl {

struct OversizedLine {
  uint64_t offset = 0;  // of the line's first byte in the (decompressed) object
  uint64_t line = 0;    // 1-based line number
  uint64_t length = 0;  // bytes, without the terminator
  std::string prefix;   // the first kPrefixBytes bytes
  static constexpr size_t kPrefixBytes = 1024;
};

struct Chunk {
  size_t object = 0;        // index of the object in the run's list
  uint64_t offset = 0;      // offset of data[0] in the (decompressed) object
  uint64_t first_line = 1;  // 1-based line number of data's first line
  uint64_t lines = 0;       // number of lines in data
  Buffer data;              // whole lines; only the object's last line may lack '\n'
  std::vector<OversizedLine> oversized;
  std::string error;        // set when the object turned out corrupt after this data
};

class ObjectReader {
 public:
  // Starts reading at `start_offset` (a line boundary; line number `start_line`).
  static Result<std::unique_ptr<ObjectReader>> Open(const std::string& path, uint64_t start_offset,
                                                    uint64_t start_line, size_t max_record_bytes,
                                                    size_t chunk_bytes);
  // The same for an object of a store (a local store reads the file directly).
  static Result<std::unique_ptr<ObjectReader>> Open(store::ObjectStore& store, const std::string& key,
                                                    uint64_t start_offset, uint64_t start_line,
                                                    size_t max_record_bytes, size_t chunk_bytes);
  virtual ~ObjectReader() = default;
  // Fills *chunk (object index left to the caller); false when the object is exhausted.
  virtual bool Next(Chunk* chunk) = 0;
  // Raw (compressed) bytes consumed so far, for progress.
  virtual uint64_t raw_bytes_read() const = 0;
  // Offset just past the last byte handed out, and the line count so far (for bookmarks).
  virtual uint64_t end_offset() const = 0;
  virtual uint64_t end_line() const = 0;
  virtual bool compressed() const = 0;
};

}  // namespace orderlake::etl
