// A table-driven base64 decoder for the PutRecordBatch hot path (standard alphabet, padded,
// as the Firehose API sends Record.Data), appending to an existing buffer.
#pragma once
#include <string>
#include <string_view>

namespace orderlake::firehose {
// Appends the decoded bytes of `text` to `out`; false (out unchanged) on a character outside
// the alphabet, a length not a multiple of 4 or bad padding.
bool base64_decode_append(std::string_view text, std::string& out);
}  // namespace orderlake::firehose
