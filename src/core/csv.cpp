#include "core/csv.h"

#include <cstring>

namespace orderlake::csv {

int split(std::string_view line, std::string_view* fields, int max_fields, std::string& scratch,
          char delimiter, size_t* error_pos) {
  const char* p = line.data();
  const char* end = p + line.size();
  int count = 0;
  auto store = [&](std::string_view f) {
    if (count < max_fields) fields[count] = f;
    ++count;
  };
  if (std::memchr(p, '"', line.size()) == nullptr) {
    // Fast path: no quoting anywhere.
    for (;;) {
      const char* d = static_cast<const char*>(std::memchr(p, delimiter, size_t(end - p)));
      if (!d) {
        store(std::string_view(p, size_t(end - p)));
        return count;
      }
      store(std::string_view(p, size_t(d - p)));
      p = d + 1;
    }
  }
  scratch.clear();
  scratch.reserve(line.size());
  for (;;) {
    if (p < end && *p == '"') {
      const char* start = ++p;
      bool doubled = false;
      for (;;) {
        const char* q = static_cast<const char*>(std::memchr(p, '"', size_t(end - p)));
        if (!q) {
          if (error_pos) *error_pos = size_t(start - 1 - line.data());
          return -1;  // unterminated quote
        }
        if (q + 1 < end && q[1] == '"') {
          doubled = true;
          p = q + 2;
          continue;
        }
        p = q + 1;
        std::string_view raw(start, size_t(q - start));
        if (!doubled) {
          store(raw);
        } else {
          const size_t at = scratch.size();
          for (size_t i = 0; i < raw.size(); ++i) {
            scratch.push_back(raw[i]);
            if (raw[i] == '"') ++i;  // skip the second quote of a pair
          }
          store(std::string_view(scratch.data() + at, scratch.size() - at));
        }
        break;
      }
      if (p == end) return count;
      if (*p != delimiter) {
        if (error_pos) *error_pos = size_t(p - line.data());
        return -1;  // text after the closing quote
      }
      ++p;
      if (p == end) {
        store(std::string_view());
        return count;
      }
      continue;
    }
    const char* d = static_cast<const char*>(std::memchr(p, delimiter, size_t(end - p)));
    const char* stop = d ? d : end;
    // RFC 4180 forbids a quote inside an unquoted field.
    if (std::memchr(p, '"', size_t(stop - p)) != nullptr) {
      if (error_pos) *error_pos = size_t(static_cast<const char*>(std::memchr(p, '"', size_t(stop - p))) - line.data());
      return -1;
    }
    store(std::string_view(p, size_t(stop - p)));
    if (!d) return count;
    p = d + 1;
    if (p == end) {
      store(std::string_view());
      return count;
    }
  }
}

bool needs_quotes(std::string_view field, char delimiter) {
  for (char c : field)
    if (c == delimiter || c == '"' || c == '\n' || c == '\r') return true;
  return false;
}

void append_field(std::string& out, std::string_view field, char delimiter) {
  if (!needs_quotes(field, delimiter)) {
    out.append(field);
    return;
  }
  out.push_back('"');
  for (char c : field) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
}

}  // namespace orderlake::csv
