#include "generate/catalog.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <unordered_set>

#include "core/embedded.h"

namespace orderlake::generate {
namespace {

// The catalog is the same shop on every run: its randomness has a fixed seed.
constexpr uint64_t kCatalogSeed = 0x0de1a4e5f00d5eedULL;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

template <typename F>
void for_each_line(std::string_view text, F&& f) {
  size_t line_no = 0;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++line_no;
    f(line, line_no);
  }
}

Result<std::string_view> embedded(std::string_view name) {
  auto data = embedded_file(name);
  if (!data) return Status::Errorf("embedded data file '{}' is missing from this build", name);
  return *data;
}

Result<std::vector<Country>> parse_countries(std::string_view text) {
  std::vector<Country> out;
  Status err;
  for_each_line(text, [&](std::string_view raw, size_t line_no) {
    std::string_view line = trim(raw);
    if (line.empty() || line.front() == '#' || !err.ok()) return;
    const size_t t1 = line.find('\t');
    const size_t t2 = t1 == std::string_view::npos ? t1 : line.find('\t', t1 + 1);
    if (t2 == std::string_view::npos) {
      err = Status::Errorf("generate_countries.txt line {}: expected name<TAB>lines<TAB>customers", line_no);
      return;
    }
    Country c;
    c.name = std::string(trim(line.substr(0, t1)));
    std::string_view w = trim(line.substr(t1 + 1, t2 - t1 - 1)), n = trim(line.substr(t2 + 1));
    uint64_t weight = 0;
    auto r1 = std::from_chars(w.data(), w.data() + w.size(), weight);
    auto r2 = std::from_chars(n.data(), n.data() + n.size(), c.customers);
    if (r1.ec != std::errc() || r2.ec != std::errc() || c.name.empty()) {
      err = Status::Errorf("generate_countries.txt line {}: bad numbers", line_no);
      return;
    }
    c.weight = static_cast<double>(weight);
    if (c.customers == 0) c.customers = 1;
    out.push_back(std::move(c));
  });
  if (!err.ok()) return err;
  if (out.empty()) return Status::Error("generate_countries.txt lists no country");
  return out;
}

struct ObjectWord {
  std::string name;
  int64_t base_cents;
};

// Builds descriptions in the style of the UCI gift shop from the vocabulary.
class DescriptionMaker {
 public:
  DescriptionMaker(const Vocabulary& v, Rng& rng) : rng_(rng) {
    auto get = [&](std::string_view s) {
      const auto* p = v.find(s);
      return p ? *p : std::vector<std::string>{};
    };
    colour_ = get("colour");
    motif_ = get("motif");
    material_ = get("material");
    style_ = get("style");
    size_ = get("size");
    pack_ = get("pack");
    phrase_ = get("phrase");
    for (const auto& entry : get("object")) {
      const size_t tab = entry.find('\t');
      ObjectWord o{entry.substr(0, tab), 195};
      if (tab != std::string::npos) {
        std::string_view n = trim(std::string_view(entry).substr(tab + 1));
        int64_t cents = 0;
        if (std::from_chars(n.data(), n.data() + n.size(), cents).ec == std::errc() && cents > 0)
          o.base_cents = cents;
      }
      o.name = std::string(trim(o.name));
      objects_.push_back(std::move(o));
    }
  }

  bool usable() const {
    return !colour_.empty() && !motif_.empty() && !material_.empty() && !style_.empty() &&
           !size_.empty() && !pack_.empty() && !phrase_.empty() && !objects_.empty();
  }

  // A family template: the same words, the colour slot varying between variants.
  struct Recipe {
    int templ = 0;
    size_t object = 0, motif = 0, material = 0, style = 0, size = 0, pack = 0, phrase = 0;
  };

  Recipe recipe(bool family) {
    Recipe r;
    // Template weights (per mille): see make().
    static const int kPlain[] = {220, 140, 90, 80, 70, 80, 60, 60, 60, 60, 40, 25, 8, 7};
    static const int kFamily[] = {350, 250, 0, 200, 0, 0, 0, 0, 0, 200, 0, 0, 0, 0};
    const int* w = family ? kFamily : kPlain;
    int total = 0;
    for (int i = 0; i < 14; ++i) total += w[i];
    int x = static_cast<int>(rng_.below(static_cast<uint32_t>(total)));
    for (int i = 0; i < 14; ++i) {
      if (x < w[i]) {
        r.templ = i;
        break;
      }
      x -= w[i];
    }
    r.object = pick(objects_.size());
    r.motif = pick(motif_.size());
    r.material = pick(material_.size());
    r.style = pick(style_.size());
    r.size = pick(size_.size());
    r.pack = pick(pack_.size());
    r.phrase = pick(phrase_.size());
    return r;
  }

  std::string make(const Recipe& r, size_t colour) const {
    const std::string& c = colour_[colour % colour_.size()];
    const std::string& o = objects_[r.object].name;
    const std::string& m = motif_[r.motif];
    const std::string& mat = material_[r.material];
    const std::string& st = style_[r.style];
    const std::string& sz = size_[r.size];
    const std::string& pk = pack_[r.pack];
    const std::string& ph = phrase_[r.phrase];
    switch (r.templ) {
      case 0: return c + " " + m + " " + o;            // WHITE HANGING HEART T-LIGHT HOLDER
      case 1: return c + " " + mat + " " + o;          // WHITE METAL LANTERN
      case 2: return o + " " + m;                      // HAND WARMER UNION JACK
      case 3: return o + " " + c + " " + m;            // LUNCH BAG RED RETROSPOT
      case 4: return pk + " " + m + " " + o;           // SET OF 6 SPOTTY PAPER CUPS
      case 5: return st + " " + m + " " + o;           // VINTAGE DOILY CAKE CASES
      case 6: return sz + " " + m + " " + o;           // JUMBO STRAWBERRY SHOPPER BAG
      case 7: return st + " " + mat + " " + o;         // ANTIQUE GLASS CANDLE HOLDER
      case 8: return m + " " + mat + " " + o;          // REGENCY PORCELAIN TEAPOT
      case 9: return sz + " " + c + " " + o;           // LARGE CREAM HEART DECORATION
      case 10: return pk + " " + c + " " + m + " " + o;  // SET/6 RED SPOTTY PAPER CUPS
      case 11: return o + ", " + c + " " + m;          // DOORMAT, RED RETROSPOT  (comma)
      case 12: return mat + " " + o + ", " + pk;       // PAPER CUPS, PACK OF 12 (comma)
      default: return o + " \"" + ph + "\"";           // MUG "HOME SWEET HOME" (quote)
    }
  }

  int64_t price(const Recipe& r) {
    double cents = static_cast<double>(objects_[r.object].base_cents);
    if (r.templ == 6 || r.templ == 9) {
      const std::string& sz = size_[r.size];
      if (sz == "JUMBO" || sz == "GIANT" || sz == "LARGE" || sz == "DOUBLE") cents *= 1.4;
      if (sz == "SMALL" || sz == "MINI") cents *= 0.7;
    }
    if (r.templ == 4 || r.templ == 10 || r.templ == 12) cents *= 1.5;
    static const double kJitter[] = {0.8, 0.9, 1.0, 1.0, 1.1, 1.25};
    cents *= kJitter[rng_.below(6)];
    // A few expensive pieces (furniture, large sets).
    if (rng_.chance(0.01)) cents *= 4 + rng_.below(6);
    int64_t c = static_cast<int64_t>(std::llround(cents));
    if (c < 100) {
      static const int64_t kSmall[] = {21, 25, 29, 39, 42, 55, 65, 72, 79, 85, 95};
      int64_t best = kSmall[0];
      for (int64_t s : kSmall)
        if (std::llabs(s - c) < std::llabs(best - c)) best = s;
      return best;
    }
    c = (c + 2) / 5 * 5;
    if (rng_.chance(0.2)) c -= 6;  // 1.75 -> 1.69, 3.45 -> 3.39
    return std::max<int64_t>(c, 29);
  }

  size_t colours() const { return colour_.size(); }
  size_t pick(size_t n) { return n == 0 ? 0 : rng_.below(static_cast<uint32_t>(n)); }

 private:
  Rng& rng_;
  std::vector<std::string> colour_, motif_, material_, style_, size_, pack_, phrase_;
  std::vector<ObjectWord> objects_;
};

// A 5-digit stock code number in the ranges the UCI shop used.
uint32_t draw_code_base(Rng& rng) {
  struct Range {
    uint32_t lo, hi, weight;
  };
  static const Range kRanges[] = {{20600, 23999, 55}, {84000, 85299, 18}, {35000, 37999, 5},
                                  {46000, 48999, 5},  {70000, 79999, 5},  {10000, 17999, 6},
                                  {90000, 90214, 6}};
  uint32_t total = 0;
  for (const auto& r : kRanges) total += r.weight;
  uint32_t x = rng.below(total);
  for (const auto& r : kRanges) {
    if (x < r.weight) return r.lo + rng.below(r.hi - r.lo + 1);
    x -= r.weight;
  }
  return 22000;
}

}  // namespace

const std::vector<std::string>* Vocabulary::find(std::string_view section) const {
  for (const auto& s : sections)
    if (s.first == section) return &s.second;
  return nullptr;
}

Result<Vocabulary> parse_vocabulary(std::string_view text) {
  Vocabulary v;
  Status err;
  for_each_line(text, [&](std::string_view raw, size_t line_no) {
    if (!err.ok()) return;
    std::string_view line = raw;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
    std::string_view t = trim(line);
    if (t.empty() || t.front() == '#') return;
    if (t.front() == '[') {
      if (t.back() != ']' || t.size() < 3) {
        err = Status::Errorf("vocabulary line {}: bad section header '{}'", line_no, t);
        return;
      }
      v.sections.emplace_back(std::string(t.substr(1, t.size() - 2)), std::vector<std::string>{});
      return;
    }
    if (v.sections.empty()) {
      err = Status::Errorf("vocabulary line {}: entry before the first [section]", line_no);
      return;
    }
    v.sections.back().second.emplace_back(t);
  });
  if (!err.ok()) return err;
  return v;
}

int Catalog::index_of_country(std::string_view name) const {
  for (size_t i = 0; i < countries.size(); ++i)
    if (countries[i].name == name) return static_cast<int>(i);
  return -1;
}

int Catalog::index_of_item(std::string_view stock_code) const {
  for (size_t i = 0; i < items.size(); ++i)
    if (items[i].stock_code == stock_code) return static_cast<int>(i);
  return -1;
}

Catalog Catalog::Seed() {
  Catalog c;
  c.profile = Profile::kSeed;
  for (const char* n : {"United Kingdom", "France", "Germany", "USA", "Japan", "Australia"})
    c.countries.push_back(Country{n, 1.0, 0});
  c.items = {
      {"85123A", "WHITE HANGING HEART T-LIGHT HOLDER", 255, 1.0},
      {"71053", "WHITE METAL LANTERN", 339, 1.0},
      {"84406B", "CREAM CUPID HEARTS COAT HANGER", 275, 1.0},
  };
  c.customers_of.resize(c.countries.size());
  c.customer_choice.resize(c.countries.size());
  c.country_choice.build(std::vector<double>(c.countries.size(), 1.0));
  c.item_choice.build(std::vector<double>(c.items.size(), 1.0));
  return c;
}

// Customers: distinct ids from 12346..18287, a block per country, each country's with a
// long-tailed choice (draws from `rng` in a fixed order: same seed, same catalog).
static Status build_customers(Catalog& c, Rng& rng) {
  uint64_t wanted = 0;
  for (const auto& country : c.countries) wanted += country.customers;
  std::vector<uint32_t> ids;
  for (uint32_t id = Catalog::kFirstCustomerId; id <= Catalog::kLastCustomerId; ++id) ids.push_back(id);
  if (wanted > ids.size())
    return Status::Errorf("generate_countries.txt asks for {} customers, at most {} ids exist", wanted,
                          ids.size());
  for (size_t i = ids.size() - 1; i > 0; --i) std::swap(ids[i], ids[rng.below(static_cast<uint32_t>(i + 1))]);
  c.customers_of.resize(c.countries.size());
  c.customer_choice.resize(c.countries.size());
  size_t next_id = 0;
  for (size_t ci = 0; ci < c.countries.size(); ++ci) {
    std::vector<double> w;
    for (uint32_t k = 0; k < c.countries[ci].customers; ++k) {
      c.customers_of[ci].push_back(static_cast<uint32_t>(c.customers.size()));
      c.customers.push_back(Customer{ids[next_id++], static_cast<uint16_t>(ci)});
      // A few customers order far more often than the rest.
      w.push_back(1.0 / std::pow(static_cast<double>(k) + 6.0, 0.9));
    }
    c.customer_choice[ci].build(w);
  }
  return Status::OK();
}

Result<Catalog> Catalog::Retail() {
  Catalog c;
  c.profile = Profile::kRetail;
  Rng rng(kCatalogSeed);

  // Countries.
  auto countries_text = embedded("generate_countries.txt");
  if (!countries_text.ok()) return countries_text.status();
  auto countries = parse_countries(countries_text.value());
  if (!countries.ok()) return countries.status();
  c.countries = std::move(countries.value());
  if (c.countries.size() > 65535) return Status::Error("generate_countries.txt: too many countries");

  ORDERLAKE_RETURN_IF_ERROR(build_customers(c, rng));

  // Items: the three of the original generator, a few special codes, then the vocabulary.
  auto vocab_text = embedded("generate_vocabulary.txt");
  if (!vocab_text.ok()) return vocab_text.status();
  auto vocab = parse_vocabulary(vocab_text.value());
  if (!vocab.ok()) return vocab.status();
  DescriptionMaker maker(vocab.value(), rng);
  if (!maker.usable())
    return Status::Error("generate_vocabulary.txt lacks one of the sections colour, motif, material, "
                         "style, size, pack, phrase, object");

  std::unordered_set<std::string> used_descriptions;
  std::unordered_set<uint32_t> used_bases;
  auto add = [&](std::string code, std::string desc, int64_t cents) {
    used_descriptions.insert(desc);
    c.items.push_back(Item{std::move(code), std::move(desc), cents, 0});
  };
  add("85123A", "WHITE HANGING HEART T-LIGHT HOLDER", 255);
  add("71053", "WHITE METAL LANTERN", 339);
  add("84406B", "CREAM CUPID HEARTS COAT HANGER", 275);
  used_bases.insert(85123);
  used_bases.insert(71053);
  used_bases.insert(84406);
  const size_t first_special = c.items.size();
  add("POST", "POSTAGE", 1800);
  add("DOT", "DOTCOM POSTAGE", 3595);
  add("M", "MANUAL", 295);
  add("C2", "CARRIAGE", 5000);
  const size_t first_generated = c.items.size();

  size_t attempts = 0;
  while (c.items.size() < kRetailItems && attempts++ < 200000) {
    uint32_t base = draw_code_base(rng);
    if (!used_bases.insert(base).second) continue;
    const bool family = rng.chance(0.08);
    const size_t variants = family ? 2 + rng.below(4) : 1;
    auto recipe = maker.recipe(family);
    const int64_t cents = maker.price(recipe);
    size_t colour = maker.pick(maker.colours());
    size_t made = 0;
    for (size_t v = 0; v < variants && c.items.size() < kRetailItems; ++v) {
      std::string desc;
      for (int tries = 0; tries < 8; ++tries) {
        desc = maker.make(recipe, colour + v + static_cast<size_t>(tries) * 7);
        if (desc.size() <= 60 && !used_descriptions.count(desc)) break;
        desc.clear();
      }
      if (desc.empty()) continue;
      std::string code = std::to_string(base);
      if (family) code.push_back(static_cast<char>('A' + made));
      else if (rng.chance(0.02)) code += rng.chance(0.5) ? "L" : "S";
      add(std::move(code), std::move(desc), cents);
      ++made;
    }
  }
  if (c.items.size() < first_generated + 100)
    return Status::Error("generate_vocabulary.txt is too small to build a catalog");

  // Popularity: a long tail, with the original three near the top.
  const size_t n = c.items.size();
  std::vector<size_t> rank(n);
  for (size_t i = 0; i < n; ++i) rank[i] = i;
  for (size_t i = n - 1; i > first_generated; --i)
    std::swap(rank[i], rank[first_generated + rng.below(static_cast<uint32_t>(i - first_generated + 1))]);
  rank[0] = 0;
  rank[1] = 9;
  rank[2] = 4;
  rank[first_special + 0] = 60;    // POST
  rank[first_special + 1] = 400;   // DOT
  rank[first_special + 2] = 250;   // M
  rank[first_special + 3] = 2500;  // C2
  std::vector<double> weights(n);
  for (size_t i = 0; i < n; ++i) {
    weights[i] = 1.0 / std::pow(static_cast<double>(rank[i]) + 20.0, 0.85);
    c.items[i].weight = weights[i];
  }
  c.item_choice.build(weights);

  std::vector<double> cw;
  for (const auto& country : c.countries) cw.push_back(country.weight);
  c.country_choice.build(cw);
  return c;
}

}  // namespace orderlake::generate
