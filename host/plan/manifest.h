// manifest.h -- the ordered list of migration ids a project applies.
//
// Format (JSON, version 1):
//   {"graft_manifest": 1, "migrations": ["20260101_120000_add_role", ...]}
// The order of "migrations" is the order `graft up` applies them in.
#ifndef GRAFT_HOST_PLAN_MANIFEST_H_
#define GRAFT_HOST_PLAN_MANIFEST_H_

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace graft {

struct Manifest {
  std::string path;
  std::vector<std::string> ids;  // in apply order, unique
};

// Parses manifest text; `path` is only used in messages (kBadInput).
Result<Manifest> parseManifest(std::string_view text, const std::string& path);
Result<Manifest> readManifest(const std::string& path);

// True for ids made of letters, digits, '_', '-' and '.', 1 to 128 long:
// ids end up in file names, messages and SQL text values.
bool isValidMigrationId(std::string_view id);

}  // namespace graft

#endif  // GRAFT_HOST_PLAN_MANIFEST_H_
