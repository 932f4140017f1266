// Tests for host/base/clock.cpp: the timestamps every run, state and schema
// row records, which operators read and which sort as text.
#include "base/clock.h"

#include <stdlib.h>
#include <time.h>

#include <cstdlib>
#include <ctime>
#include <regex>
#include <string>

#include <boost/test/unit_test.hpp>

#include "harness.h"

namespace graft {
namespace {

// Seconds since the epoch of "YYYY-MM-DDTHH:MM:SS.mmmZ", read as UTC.
time_t secondsOf(const std::string& text) {
  std::tm tm{};
  BOOST_TEST_REQUIRE(strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm) != nullptr, text);
  return timegm(&tm);
}

// Sets TZ for the life of the object, then restores it.
class LocalZone {
 public:
  explicit LocalZone(const char* zone) {
    if (const char* old = std::getenv("TZ")) saved_ = old, had_ = true;
    setenv("TZ", zone, 1);
    tzset();
  }
  ~LocalZone() {
    if (had_)
      setenv("TZ", saved_.c_str(), 1);
    else
      unsetenv("TZ");
    tzset();
  }
  LocalZone(const LocalZone&) = delete;
  LocalZone& operator=(const LocalZone&) = delete;

 private:
  std::string saved_;
  bool had_ = false;
};

BOOST_AUTO_TEST_SUITE(clock)

BOOST_AUTO_TEST_CASE(is_iso_8601_utc_with_milliseconds) {
  const std::string now = utcNow();
  BOOST_TEST(std::regex_match(now, std::regex(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)")),
             now);
}

BOOST_AUTO_TEST_CASE(is_now) {
  const time_t before = std::time(nullptr);
  const std::string now = utcNow();
  const time_t after = std::time(nullptr);
  BOOST_TEST(secondsOf(now) >= before, now);
  BOOST_TEST(secondsOf(now) <= after, now);
}

// A host in Tokyo and one in New York write the same time into one store.
BOOST_AUTO_TEST_CASE(does_not_depend_on_the_local_time_zone) {
  for (const char* zone : {"Asia/Tokyo", "America/New_York", "UTC"}) {
    BOOST_TEST_CONTEXT(zone) {
      LocalZone local(zone);
      const time_t before = std::time(nullptr);
      const std::string now = utcNow();
      BOOST_TEST(secondsOf(now) >= before, now);
      BOOST_TEST(secondsOf(now) <= std::time(nullptr), now);
    }
  }
}

// Status sorts runs by these strings: later calls never sort earlier.
BOOST_AUTO_TEST_CASE(later_timestamps_sort_after_earlier_ones) {
  std::string previous = utcNow();
  for (int i = 0; i < 2000; ++i) {
    const std::string next = utcNow();
    BOOST_TEST_REQUIRE(next >= previous, previous << " then " << next);
    previous = next;
  }
}

BOOST_AUTO_TEST_CASE(reads_back_what_it_writes_and_nothing_else) {
  BOOST_TEST(parseUtcMs("1970-01-01T00:00:01.250Z").value_or(-1) == 1250);
  BOOST_TEST(parseUtcMs("2026-11-22T20:52:17.123Z").value_or(-1) ==
             static_cast<int64_t>(secondsOf("2026-11-22T20:52:17.123Z")) * 1000 + 123);
  const std::string now = utcNow();
  BOOST_TEST(parseUtcMs(now).has_value(), now);
  for (const char* bad : {"", "2026-11-22T20:52:17Z", "2026-11-22 20:52:17.123Z",
                          "2026-11-22T20:52:17.123+", "x026-11-22T20:52:17.123Z"}) {
    BOOST_TEST(!parseUtcMs(bad).has_value(), bad);
  }
  BOOST_TEST(elapsedMs("2026-11-22T20:52:17.123Z", "2026-11-22T20:54:18.000Z").value_or(-1) ==
             120877);
  BOOST_TEST(!elapsedMs("2026-11-22T20:52:17.123Z", "").has_value());
  BOOST_TEST(!elapsedMs("2026-11-22T20:52:17.123Z", "2026-11-22T20:52:17.122Z").has_value());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace graft
