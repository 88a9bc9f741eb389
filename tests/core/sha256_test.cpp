#include "core/sha256.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <string>

namespace orderlake {
namespace {

std::string openssl_hex(const std::string& s) {
  unsigned char md[32];
  unsigned int n = 0;
  EVP_Digest(s.data(), s.size(), md, &n, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < n; ++i) {
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 15];
  }
  return out;
}

TEST(Sha256, SpecGoldenValue) {
  EXPECT_EQ(sha256_hex("536365-85123A"),
            "c8c9f1dd88e53de9d293fa4fa2d1677a1a9c391d71bf6ada4033da21ddd96829");
}

TEST(Sha256, KnownVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256, MatchesOpenSslAtEveryLengthAroundBlockEdges) {
  std::string s;
  for (int len = 0; len <= 300; ++len) {
    ASSERT_EQ(sha256_hex(s), openssl_hex(s)) << "length " << len;
    s.push_back(static_cast<char>('!' + (len * 7) % 90));
  }
  std::string big(1 << 20, 'x');
  for (size_t i = 0; i < big.size(); i += 97) big[i] = static_cast<char>(i);
  EXPECT_EQ(sha256_hex(big), openssl_hex(big));
}

TEST(Sha256, Utf8BytesAreHashedAsIs) {
  const std::string s = "C536365-Côte d'Ivoire-\xe2\x82\xac";
  EXPECT_EQ(sha256_hex(s), openssl_hex(s));
}

TEST(Sha256, PortablePathAgreesWithTheDispatchedOne) {
  std::string s;
  for (int len = 0; len <= 200; ++len) {
    uint8_t a[32], b[32];
    sha256(s.data(), s.size(), a);
    detail::sha256_portable(s.data(), s.size(), b);
    ASSERT_EQ(std::string(reinterpret_cast<char*>(a), 32), std::string(reinterpret_cast<char*>(b), 32))
        << "length " << len;
    s.push_back(static_cast<char>(len * 13));
  }
}

}  // namespace
}  // namespace orderlake
