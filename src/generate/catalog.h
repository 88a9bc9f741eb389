// The shop the generator sells from: countries, stock items and customers.
//
// The retail catalog is built from the embedded vocabularies (data/generate_*.txt) with a
// fixed seed, so it is the same shop on every run and every machine: a stock code always has
// the same description and unit price, a customer always lives in the same country. The
// --seed option only changes which orders are drawn from it.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "generate/prng.h"

namespace orderlake::generate {

enum class Profile {
  kRetail,  // like the UCI Online Retail data set (the default)
  kSeed,    // like the original LogGenerator.py: 6 countries, 3 items, 1 line per invoice
};

struct Country {
  std::string name;
  double weight = 0;       // share of order lines
  uint32_t customers = 0;  // customers living there
};

struct Item {
  std::string stock_code;   // "85123A"
  std::string description;  // "WHITE HANGING HEART T-LIGHT HOLDER" (not CSV-escaped)
  int64_t price_cents = 0;  // stable unit price, > 0
  double weight = 0;        // popularity
};

struct Customer {
  uint32_t id = 0;       // 12346..18287
  uint16_t country = 0;  // index into countries
};

class Catalog {
 public:
  // The UCI-like shop: 38 countries, ~4,000 items, ~4,300 customers.
  static Result<Catalog> Retail();
  // The three items and six countries of the original LogGenerator.py.
  static Catalog Seed();
  static Result<Catalog> ForProfile(Profile p) { return p == Profile::kSeed ? Result<Catalog>(Seed()) : Retail(); }

  Profile profile = Profile::kRetail;
  std::vector<Country> countries;
  std::vector<Item> items;
  std::vector<Customer> customers;
  // customers_of[c] = indices into customers of those living in country c.
  std::vector<std::vector<uint32_t>> customers_of;
  // Popularity of customers_of[c][k] (the same few customers order often).
  std::vector<AliasTable> customer_choice;
  AliasTable country_choice;
  AliasTable item_choice;

  int index_of_country(std::string_view name) const;
  int index_of_item(std::string_view stock_code) const;

  // The lowest and highest customer id the retail shop uses.
  static constexpr uint32_t kFirstCustomerId = 12346;
  static constexpr uint32_t kLastCustomerId = 18287;
  static constexpr size_t kRetailItems = 4000;
};

// Parses an embedded vocabulary ("[section]" headers, one entry a line, # comments).
struct Vocabulary {
  std::vector<std::pair<std::string, std::vector<std::string>>> sections;
  const std::vector<std::string>* find(std::string_view section) const;
};
Result<Vocabulary> parse_vocabulary(std::string_view text);

}  // namespace orderlake::generate
