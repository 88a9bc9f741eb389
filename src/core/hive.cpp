#include "core/hive.h"

namespace orderlake::hive {
namespace {
bool must_escape(unsigned char c) {
  if (c < 0x20 || c == 0x7F) return true;
  switch (c) {
    case '"': case '#': case '%': case '\'': case '*': case '/': case ':': case '=':
    case '?': case '\\': case '{': case '[': case ']': case '^':
      return true;
    default:
      return false;
  }
}
int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

std::string escape(std::string_view value) {
  if (value.empty()) return std::string(kDefaultPartition);
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(value.size());
  for (char ch : value) {
    const auto c = static_cast<unsigned char>(ch);
    if (must_escape(c)) {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    } else {
      out.push_back(ch);
    }
  }
  return out;
}

std::string unescape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      const int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

std::string segment(std::string_view key, std::string_view value) {
  std::string out(key);
  out.push_back('=');
  out += escape(value);
  return out;
}

std::optional<std::string> value_in_path(std::string_view path, std::string_view key) {
  for (size_t from = 0; from < path.size();) {
    size_t to = path.find('/', from);
    if (to == std::string_view::npos) to = path.size();
    const std::string_view dir = path.substr(from, to - from);
    from = to + 1;
    if (to == path.size()) break;  // the file name, not a directory
    if (dir.size() > key.size() && dir.starts_with(key) && dir[key.size()] == '=') {
      std::string v = unescape(dir.substr(key.size() + 1));
      if (v == kDefaultPartition) return std::nullopt;
      return v;
    }
  }
  return std::nullopt;
}

}  // namespace orderlake::hive
