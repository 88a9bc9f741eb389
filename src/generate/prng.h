// Deterministic random numbers for the generator. The output of std:: distributions differs
// between standard libraries, so everything here is written out: splitmix64 (seeding),
// xoshiro256** (the stream) and Walker/Vose alias tables (weighted choice in O(1)).
// The same seed gives the same numbers on every platform and compiler.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace orderlake::generate {

// splitmix64: a 64-bit mixer; used to expand one seed into a xoshiro state and to derive
// independent sub-seeds.
inline uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// xoshiro256**: fast, small state, passes the usual statistical batteries.
class Rng {
 public:
  explicit Rng(uint64_t seed = 0) { reseed(seed); }

  void reseed(uint64_t seed) {
    uint64_t sm = seed;
    for (auto& w : s_) w = splitmix64(sm);
  }

  uint64_t next() {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  // Uniform in [0, n) for n >= 1 (multiply-shift; the bias is below 2^-32 for the sizes
  // used here and, unlike rejection, it always consumes exactly one draw).
  uint32_t below(uint32_t n) {
    return static_cast<uint32_t>(((next() >> 32) * static_cast<uint64_t>(n)) >> 32);
  }

  // Uniform integer in [lo, hi].
  int64_t between(int64_t lo, int64_t hi) {
    const uint64_t span = static_cast<uint64_t>(hi - lo) + 1;
    const unsigned __int128 m = static_cast<unsigned __int128>(next()) * span;
    return lo + static_cast<int64_t>(static_cast<uint64_t>(m >> 64));
  }

  // Uniform double in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

  // True with probability p.
  bool chance(double p) { return uniform() < p; }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

// Weighted choice among n outcomes in O(1) per draw (Vose's alias method). Built once;
// sampling uses one 64-bit draw: the high 32 bits pick a column, the low 32 bits decide
// between the column and its alias.
class AliasTable {
 public:
  AliasTable() = default;
  explicit AliasTable(const std::vector<double>& weights) { build(weights); }

  void build(const std::vector<double>& weights);

  uint32_t sample(Rng& rng) const {
    const uint64_t r = rng.next();
    const uint32_t col = static_cast<uint32_t>(((r >> 32) * n_) >> 32);
    return static_cast<uint32_t>(r) < threshold_[col] ? col : alias_[col];
  }

  size_t size() const { return n_; }
  // Probability of outcome i (for tests and expected values).
  double probability(size_t i) const { return i < prob_.size() ? prob_[i] : 0.0; }

 private:
  uint64_t n_ = 0;
  std::vector<uint32_t> threshold_;  // keep column if low32 < threshold
  std::vector<uint32_t> alias_;
  std::vector<double> prob_;
};

inline void AliasTable::build(const std::vector<double>& weights) {
  n_ = weights.size();
  threshold_.assign(n_, 0);
  alias_.assign(n_, 0);
  prob_.assign(n_, 0.0);
  if (n_ == 0) return;
  double total = 0;
  for (double w : weights) total += w > 0 ? w : 0;
  if (total <= 0) {  // degenerate: uniform
    for (size_t i = 0; i < n_; ++i) prob_[i] = 1.0 / static_cast<double>(n_);
  } else {
    for (size_t i = 0; i < n_; ++i) prob_[i] = (weights[i] > 0 ? weights[i] : 0) / total;
  }
  std::vector<double> scaled(n_);
  std::vector<uint32_t> small, large;
  for (size_t i = 0; i < n_; ++i) {
    scaled[i] = prob_[i] * static_cast<double>(n_);
    (scaled[i] < 1.0 ? small : large).push_back(static_cast<uint32_t>(i));
  }
  auto to_threshold = [](double p) -> uint32_t {
    if (p >= 1.0) return 0xffffffffu;
    if (p <= 0.0) return 0;
    return static_cast<uint32_t>(p * 4294967296.0);
  };
  while (!small.empty() && !large.empty()) {
    const uint32_t s = small.back();
    small.pop_back();
    const uint32_t l = large.back();
    threshold_[s] = to_threshold(scaled[s]);
    alias_[s] = l;
    scaled[l] = (scaled[l] + scaled[s]) - 1.0;
    if (scaled[l] < 1.0) {
      large.pop_back();
      small.push_back(l);
    }
  }
  // Leftovers are (up to rounding) exactly 1: always keep the column.
  for (uint32_t i : large) threshold_[i] = 0xffffffffu, alias_[i] = i;
  for (uint32_t i : small) threshold_[i] = 0xffffffffu, alias_[i] = i;
}

}  // namespace orderlake::generate
