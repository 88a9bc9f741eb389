#include "query/script.h"

#include <cctype>

namespace orderlake::query {
namespace {

bool IsIdentChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || static_cast<unsigned char>(c) >= 0x80;
}

std::string Trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

}  // namespace

SplitResult SplitStatements(std::string_view text) {
  SplitResult out;
  const size_t n = text.size();
  int line = 1;
  bool started = false;  // the current statement has a token
  size_t start = 0;
  int start_line = 0;
  std::string title;

  auto finish = [&](size_t end) {
    Statement st;
    st.sql = Trim(text.substr(start, end - start));
    st.title = title;
    st.line = start_line;
    started = false;
    title.clear();
    return st;
  };
  auto begin_token = [&](size_t at) {
    if (!started) {
      started = true;
      start = at;
      start_line = line;
    }
  };
  // Advances i past `len` characters, counting lines.
  auto skip_to = [&](size_t& i, size_t to) {
    for (; i < to && i < n; ++i)
      if (text[i] == '\n') ++line;
  };

  size_t i = 0;
  while (i < n) {
    char c = text[i];
    if (c == '\n') {
      ++line;
      ++i;
    } else if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else if (c == '-' && i + 1 < n && text[i + 1] == '-') {
      size_t eol = text.find('\n', i);
      if (eol == std::string_view::npos) eol = n;
      if (!started) title = Trim(text.substr(i + 2, eol - i - 2));
      i = eol;
    } else if (c == '/' && i + 1 < n && text[i + 1] == '*') {
      size_t close = text.find("*/", i + 2);
      if (close == std::string_view::npos) {
        out.open_quote = true;
        skip_to(i, n);
      } else {
        skip_to(i, close + 2);
      }
    } else if (c == ';') {
      if (started) out.statements.push_back(finish(i));
      title.clear();
      ++i;
      out.rest_offset = i;
    } else if (c == '\'' || c == '"') {
      begin_token(i);
      bool backslash = c == '\'' && i > 0 && (text[i - 1] == 'E' || text[i - 1] == 'e') &&
                       (i < 2 || !IsIdentChar(text[i - 2]));
      size_t j = i + 1;
      bool closed = false;
      while (j < n) {
        if (backslash && text[j] == '\\') {
          j += 2;
        } else if (text[j] == c) {
          if (j + 1 < n && text[j + 1] == c) {
            j += 2;
          } else {
            closed = true;
            ++j;
            break;
          }
        } else {
          ++j;
        }
      }
      if (!closed) out.open_quote = true;
      skip_to(i, j);
    } else if (c == '$' && (i == 0 || !IsIdentChar(text[i - 1])) && i + 1 < n &&
               !std::isdigit(static_cast<unsigned char>(text[i + 1]))) {
      begin_token(i);
      // $tag$ ... $tag$ with an optional identifier tag.
      size_t j = i + 1;
      while (j < n && IsIdentChar(text[j]) && text[j] != '$') ++j;
      if (j < n && text[j] == '$') {
        std::string_view tag = text.substr(i, j - i + 1);
        size_t close = text.find(tag, j + 1);
        if (close == std::string_view::npos) {
          out.open_quote = true;
          skip_to(i, n);
        } else {
          skip_to(i, close + tag.size());
        }
      } else {
        ++i;
      }
    } else {
      begin_token(i);
      ++i;
    }
  }
  if (started) out.unterminated = finish(n);
  return out;
}

std::vector<Statement> ScriptStatements(std::string_view text) {
  SplitResult r = SplitStatements(text);
  if (r.unterminated) r.statements.push_back(std::move(*r.unterminated));
  return std::move(r.statements);
}

std::string OneLine(std::string_view sql, size_t max_chars) {
  std::string out;
  bool space = false;
  for (char c : sql) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  if (out.size() > max_chars) {
    size_t cut = max_chars;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;  // keep UTF-8 whole
    out = out.substr(0, cut) + "...";
  }
  return out;
}

}  // namespace orderlake::query
