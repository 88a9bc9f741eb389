// GetTables' name pattern and GetPartitions' Expression: a small recursive-descent parser
// (nesting at most 32 deep, the input at most 2,048 characters by the caller) and its evaluator.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>

#include "crawl/glue_internal.h"

namespace orderlake::crawl::glue {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// SQL LIKE (% any run, _ one character) or a glob (* any run), by dynamic programming.
bool Wildcard(std::string_view pattern, std::string_view s, char many, char one) {
  std::vector<char> cur(s.size() + 1, 0), next(s.size() + 1, 0);
  cur[0] = 1;
  for (char c : pattern) {
    std::fill(next.begin(), next.end(), 0);
    for (size_t j = 0; j <= s.size(); ++j) {
      if (c == many) next[j] = cur[j] || (j > 0 && next[j - 1]);
      else if (j > 0 && cur[j - 1]) next[j] = c == one || s[j - 1] == c;
    }
    cur.swap(next);
  }
  return cur[s.size()] != 0;
}

std::optional<double> Number(std::string_view s) {
  if (s.empty()) return std::nullopt;
  double v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

bool NumericType(const std::string& type) {
  for (std::string_view t : {"int", "bigint", "smallint", "tinyint", "double", "float", "decimal", "long"})
    if (type.rfind(t, 0) == 0) return true;
  return false;
}

}  // namespace

bool NameMatches(std::string_view pattern, std::string_view name) {
  const std::string n = Lower(name);
  size_t start = 0;
  for (;;) {
    size_t bar = pattern.find('|', start);
    const std::string given = Lower(pattern.substr(start, bar == std::string_view::npos ? std::string_view::npos : bar - start));
    std::string alt;  // ".*" (regex-style any) is '*'; "**" is '*'
    for (size_t k = 0; k < given.size(); ++k) {
      if (given[k] == '.' && k + 1 < given.size() && given[k + 1] == '*') continue;
      if (given[k] == '*' && !alt.empty() && alt.back() == '*') continue;
      alt += given[k];
    }
    if (Wildcard(alt, n, '*', '\0')) return true;
    if (bar == std::string_view::npos) return false;
    start = bar + 1;
  }
}

struct PartitionFilter::Node {
  enum Kind { kAnd, kOr, kNot, kCmp, kIn, kBetween, kLike } kind = kCmp;
  std::vector<std::unique_ptr<Node>> kids;
  size_t key = 0;
  std::string op;                 // kCmp: = != <> < <= > >=
  std::vector<std::string> lits;  // literals
};

PartitionFilter::~PartitionFilter() = default;

namespace {
using Node = PartitionFilter::Node;

class Parser {
 public:
  Parser(std::string_view s, const std::vector<catalog::Column>& keys) : s_(s), keys_(keys) {}

  Api<std::unique_ptr<Node>> Run() {
    auto n = Or(0);
    if (!err_.empty()) return Invalid(fmt::format("Expression: {} (at character {})", err_, pos_ + 1));
    Skip();
    if (pos_ < s_.size()) return Invalid(fmt::format("Expression: unexpected '{}' at character {}", s_.substr(pos_, 16), pos_ + 1));
    return n;
  }

 private:
  void Skip() {
    while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
  }
  bool Keyword(std::string_view kw) {
    Skip();
    if (s_.size() - pos_ < kw.size() || Lower(s_.substr(pos_, kw.size())) != Lower(kw)) return false;
    size_t end = pos_ + kw.size();
    if (end < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[end])) || s_[end] == '_')) return false;
    pos_ = end;
    return true;
  }
  bool Punct(std::string_view p) {
    Skip();
    if (s_.substr(pos_, p.size()) != p) return false;
    pos_ += p.size();
    return true;
  }
  std::unique_ptr<Node> Fail(std::string why) {
    if (err_.empty()) err_ = std::move(why);
    return nullptr;
  }
  std::unique_ptr<Node> Join(Node::Kind kind, std::unique_ptr<Node> a, std::unique_ptr<Node> b) {
    auto n = std::make_unique<Node>();
    n->kind = kind;
    n->kids.push_back(std::move(a));
    n->kids.push_back(std::move(b));
    return n;
  }
  std::unique_ptr<Node> Or(int depth) {
    auto a = And(depth);
    while (a && Keyword("OR")) {
      auto b = And(depth);
      if (!b) return nullptr;
      a = Join(Node::kOr, std::move(a), std::move(b));
    }
    return a;
  }
  std::unique_ptr<Node> And(int depth) {
    auto a = Not(depth);
    while (a && Keyword("AND")) {
      auto b = Not(depth);
      if (!b) return nullptr;
      a = Join(Node::kAnd, std::move(a), std::move(b));
    }
    return a;
  }
  std::unique_ptr<Node> Not(int depth) {
    if (depth > 32) return Fail("nested more than 32 deep");
    if (Keyword("NOT")) {
      auto a = Not(depth + 1);
      if (!a) return nullptr;
      auto n = std::make_unique<Node>();
      n->kind = Node::kNot;
      n->kids.push_back(std::move(a));
      return n;
    }
    if (Punct("(")) {
      auto a = Or(depth + 1);
      if (!a) return nullptr;
      if (!Punct(")")) return Fail("expected ')'");
      return a;
    }
    return Comparison();
  }
  bool Ident(std::string& out) {
    Skip();
    size_t start = pos_;
    if (pos_ < s_.size() && s_[pos_] == '`') {
      size_t end = s_.find('`', pos_ + 1);
      if (end == std::string_view::npos) return false;
      out = std::string(s_.substr(pos_ + 1, end - pos_ - 1));
      pos_ = end + 1;
      return true;
    }
    while (pos_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '_')) ++pos_;
    out = std::string(s_.substr(start, pos_ - start));
    return !out.empty();
  }
  bool Literal(std::string& out) {
    Skip();
    if (pos_ < s_.size() && s_[pos_] == '\'') {
      out.clear();
      for (size_t i = pos_ + 1; i < s_.size(); ++i) {
        if (s_[i] != '\'') {
          out += s_[i];
        } else if (i + 1 < s_.size() && s_[i + 1] == '\'') {
          out += '\'';
          ++i;
        } else {
          pos_ = i + 1;
          return true;
        }
      }
      return false;
    }
    size_t start = pos_;
    if (pos_ < s_.size() && (s_[pos_] == '-' || s_[pos_] == '+')) ++pos_;
    while (pos_ < s_.size() && (std::isdigit(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '.')) ++pos_;
    out = std::string(s_.substr(start, pos_ - start));
    return Number(out).has_value();
  }
  std::unique_ptr<Node> Comparison() {
    std::string name;
    if (!Ident(name)) return Fail("expected a partition key");
    auto n = std::make_unique<Node>();
    auto it = std::find_if(keys_.begin(), keys_.end(), [&](const auto& k) { return Lower(k.name) == Lower(name); });
    if (it == keys_.end()) return Fail(fmt::format("'{}' is not a partition key of the table", name));
    n->key = static_cast<size_t>(it - keys_.begin());
    const bool negated = Keyword("NOT");
    if (Keyword("IN")) {
      n->kind = Node::kIn;
      if (!Punct("(")) return Fail("expected '(' after IN");
      do {
        std::string lit;
        if (!Literal(lit)) return Fail("expected a literal in the IN list");
        n->lits.push_back(std::move(lit));
      } while (Punct(","));
      if (!Punct(")")) return Fail("expected ')' after the IN list");
    } else if (Keyword("LIKE")) {
      n->kind = Node::kLike;
      std::string pattern;
      if (!Literal(pattern)) return Fail("expected a string after LIKE");
      if (pattern.size() > 256) return Fail("a LIKE pattern has at most 256 characters");
      n->lits.emplace_back();
      for (char c : pattern)  // "%%" is "%": fewer states to match
        if (c != '%' || n->lits[0].empty() || n->lits[0].back() != '%') n->lits[0] += c;
    } else if (!negated && Keyword("BETWEEN")) {
      n->kind = Node::kBetween;
      n->lits.resize(2);
      if (!Literal(n->lits[0]) || !Keyword("AND") || !Literal(n->lits[1])) return Fail("expected BETWEEN x AND y");
    } else if (negated) {
      return Fail("expected IN or LIKE after NOT");
    } else {
      for (std::string_view op : {"<=", ">=", "<>", "!=", "=", "<", ">"})
        if (Punct(op)) {
          n->op = std::string(op);
          break;
        }
      if (n->op.empty()) return Fail("expected a comparison operator");
      n->lits.emplace_back();
      if (!Literal(n->lits[0])) return Fail("expected a literal ('text' or a number)");
    }
    if (!negated) return n;
    auto neg = std::make_unique<Node>();
    neg->kind = Node::kNot;
    neg->kids.push_back(std::move(n));
    return neg;
  }

  std::string_view s_;
  const std::vector<catalog::Column>& keys_;
  size_t pos_ = 0;
  std::string err_;
};

// <0, 0, >0 as value compares to the literal; numerically for numeric keys.
int Compare(const std::string& value, const std::string& lit, bool numeric) {
  if (numeric) {
    auto a = Number(value), b = Number(lit);
    if (a && b) return *a < *b ? -1 : *a > *b ? 1 : 0;
  }
  return value.compare(lit) < 0 ? -1 : value == lit ? 0 : 1;
}

bool Eval(const Node& n, const std::vector<std::string>& values, const std::vector<catalog::Column>& keys) {
  switch (n.kind) {
    case Node::kAnd: return Eval(*n.kids[0], values, keys) && Eval(*n.kids[1], values, keys);
    case Node::kOr: return Eval(*n.kids[0], values, keys) || Eval(*n.kids[1], values, keys);
    case Node::kNot: return !Eval(*n.kids[0], values, keys);
    default: break;
  }
  if (n.key >= values.size()) return false;
  const std::string& v = values[n.key];
  const bool num = NumericType(keys[n.key].type);
  if (n.kind == Node::kIn)
    return std::any_of(n.lits.begin(), n.lits.end(), [&](const auto& l) { return Compare(v, l, num) == 0; });
  if (n.kind == Node::kLike) return Wildcard(n.lits[0], v, '%', '_');
  if (n.kind == Node::kBetween) return Compare(v, n.lits[0], num) >= 0 && Compare(v, n.lits[1], num) <= 0;
  const int c = Compare(v, n.lits[0], num);
  if (n.op == "=") return c == 0;
  if (n.op == "!=" || n.op == "<>") return c != 0;
  if (n.op == "<") return c < 0;
  if (n.op == "<=") return c <= 0;
  if (n.op == ">") return c > 0;
  return c >= 0;
}

}  // namespace

Api<std::shared_ptr<PartitionFilter>> PartitionFilter::Parse(std::string_view expression,
                                                             const std::vector<catalog::Column>& keys) {
  auto root = Parser(expression, keys).Run();
  if (auto* e = std::get_if<ApiError>(&root)) return *e;
  auto f = std::make_shared<PartitionFilter>();
  f->root_ = std::get<0>(std::move(root));
  f->keys_ = keys;
  return f;
}

bool PartitionFilter::Matches(const std::vector<std::string>& values) const {
  return root_ && Eval(*root_, values, keys_);
}

}  // namespace orderlake::crawl::glue
