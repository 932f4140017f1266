// Tests for host/base/sha256.cpp: the digest recorded for every plugin file
// and compared by drift checks and graft.sum, so it must be SHA-256 exactly.
#include "base/sha256.h"

#include <cstdio>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "harness.h"

namespace graft {
namespace {

struct Vector {
  const char* name;
  std::string bytes;
  const char* hex;
};

BOOST_AUTO_TEST_SUITE(sha256)

// FIPS 180-2 examples and NIST's long-message vector.
BOOST_AUTO_TEST_CASE(matches_known_vectors) {
  const std::vector<Vector> cases = {
      {"empty", "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
      {"abc", "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
      {"two blocks", "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
      {"a million a", std::string(1000000, 'a'),
       "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.name) { BOOST_TEST(sha256Hex(c.bytes) == c.hex); }
  }
}

// A plugin file is binary: every byte counts, NUL included, and the length
// is the view's, not strlen's.
BOOST_AUTO_TEST_CASE(hashes_every_byte_of_binary_input) {
  const std::string one_nul(1, '\0');
  BOOST_TEST(sha256Hex(one_nul) ==
             "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
  const std::string with_nul("abc\0def", 7);
  BOOST_TEST(sha256Hex(with_nul) != sha256Hex("abc"));
  BOOST_TEST(sha256Hex(std::string_view(with_nul).substr(0, 3)) == sha256Hex("abc"));
}

BOOST_AUTO_TEST_CASE(is_64_lowercase_hex_digits) {
  const std::string hex = sha256Hex("\xff\xfe graft");
  BOOST_TEST(hex.size() == 64u);
  BOOST_TEST(hex.find_first_not_of("0123456789abcdef") == std::string::npos, hex);
}

// The digest of a file on disk is the one sha256sum prints.
BOOST_AUTO_TEST_CASE(agrees_with_the_digest_of_a_built_plugin_file) {
  const std::string path = test::testPlugin("counter");
  FILE* pipe = popen(("sha256sum '" + path + "'").c_str(), "r");
  BOOST_TEST_REQUIRE(pipe);
  char hex[65] = {0};
  const int read = std::fscanf(pipe, "%64s", hex);
  pclose(pipe);
  BOOST_TEST_REQUIRE(read == 1);
  BOOST_TEST(sha256Hex(test::readBytes(path)) == hex);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace graft
