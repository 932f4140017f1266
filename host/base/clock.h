// clock.h -- wall-clock time as graft records it.
#ifndef GRAFT_HOST_BASE_CLOCK_H_
#define GRAFT_HOST_BASE_CLOCK_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace graft {

// Now, in UTC, ISO 8601 with milliseconds: "2026-11-22T20:52:17.123Z".
std::string utcNow();

// Milliseconds since the Unix epoch of a time utcNow() wrote; none for any
// other text ("" included).
std::optional<int64_t> parseUtcMs(std::string_view text);

// Milliseconds from `started` to `ended`, both as utcNow() writes them; none
// when either is not (a run that has not ended) or `ended` comes first.
std::optional<int64_t> elapsedMs(std::string_view started, std::string_view ended);

}  // namespace graft

#endif  // GRAFT_HOST_BASE_CLOCK_H_
