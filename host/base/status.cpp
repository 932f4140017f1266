#include "base/status.h"

namespace graft {

int exitCode(Code code) { return static_cast<int>(code); }

}  // namespace graft
