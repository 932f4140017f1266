#include "base/clock.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>

namespace graft {

std::string utcNow() {
  using namespace std::chrono;
  auto now = system_clock::now();
  std::time_t seconds = system_clock::to_time_t(now);
  int millis = static_cast<int>(duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char text[64];
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
  return text;
}

std::optional<int64_t> parseUtcMs(std::string_view text) {
  // Exactly "YYYY-MM-DDTHH:MM:SS.mmmZ": 24 characters.
  if (text.size() != 24) return std::nullopt;
  const std::string copy(text);
  std::tm tm{};
  int millis = 0, used = 0;
  if (std::sscanf(copy.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ%n", &tm.tm_year, &tm.tm_mon,
                  &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &millis, &used) != 7 ||
      used != 24)
    return std::nullopt;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  const std::time_t seconds = timegm(&tm);
  if (seconds == static_cast<std::time_t>(-1)) return std::nullopt;
  return static_cast<int64_t>(seconds) * 1000 + millis;
}

std::optional<int64_t> elapsedMs(std::string_view started, std::string_view ended) {
  const auto from = parseUtcMs(started), to = parseUtcMs(ended);
  if (!from || !to || *to < *from) return std::nullopt;
  return *to - *from;
}

}  // namespace graft
