// clock.h -- wall-clock time as graft records it.
#ifndef GRAFT_HOST_BASE_CLOCK_H_
#define GRAFT_HOST_BASE_CLOCK_H_

#include <string>

namespace graft {

// Now, in UTC, ISO 8601 with milliseconds: "2026-11-22T20:52:17.123Z".
std::string utcNow();

}  // namespace graft

#endif  // GRAFT_HOST_BASE_CLOCK_H_
