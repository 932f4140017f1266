// sumfile.h -- graft.sum: the manifest's order and each migration's logic,
// pinned in one small file that teams commit.
//
// Two branches that each add a migration both pass review, and both apply
// cleanly to the manifest in isolation; merged, the order is new and nobody
// reviewed it. graft.sum (the idea of Atlas's atlas.sum) turns that into a
// version-control conflict instead of a deploy-time surprise. Format,
// version 1, beside the manifest (<manifest dir>/graft.sum):
//
//   graft-sum 1
//   total <h_n>
//   <id_1> <h_1>
//   ...
//   <id_n> <h_n>
//
// h_0 = sha256hex("graft-sum 1"), h_i = sha256hex(h_{i-1} "\n" id_i "\n" d_i),
// where d_i is the logic digest of migration i (Plugin::logicDigest(),
// "v1:sha256:<hex>"). Every line carries the chain so far and the total sits
// on line 2, so any two changes to the list touch the same lines and
// conflict, and a change to one migration's logic shows on its own line.
//
// `graft create` appends "<id> pending" (the plugin is not built yet, so
// there is no digest); the chain goes on with d_i = "pending". A pending
// entry never matches: `graft sum`, run after building, replaces it.
//
// `graft up` refuses (kDrift) when graft.sum exists and does not match; with
// no graft.sum it runs as before: the file is opt-in, for teams.
#ifndef GRAFT_HOST_PLAN_SUMFILE_H_
#define GRAFT_HOST_PLAN_SUMFILE_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "plan/catalog.h"
#include "base/status.h"

namespace graft {

inline constexpr std::string_view kSumFileName = "graft.sum";
inline constexpr std::string_view kPendingDigest = "pending";

struct SumEntry {
  std::string id;
  std::string hash;  // h_i, 64 lowercase hex digits; kPendingDigest for a pending entry
};

struct SumFile {
  std::string total;              // h_n
  std::vector<SumEntry> entries;  // in manifest order
};

// One migration as the sum sees it. `plugin_path` is only used in messages.
struct SumInput {
  std::string id;
  std::string logic_digest;
  std::string plugin_path;
};

// <directory of manifest_path>/graft.sum.
std::string sumPathFor(const std::string& manifest_path);

// h_i from h_{i-1}; see the format above.
std::string sumLink(const std::string& previous, const std::string& id, std::string_view digest);

// The sum of `inputs`, in order. Errors (kPlugin) name the first input with
// no logic digest: such a plugin can not be pinned.
Result<SumFile> computeSum(const std::vector<SumInput>& inputs);
// computeSum over the catalog's plugins, in manifest order.
Result<SumFile> computeSum(const Catalog& catalog);

// `sum` with "<id> pending" appended (what graft create writes).
SumFile appendPending(const SumFile& sum, const std::string& id);

// The file's text, "\n"-terminated lines.
std::string formatSum(const SumFile& sum);

// Parses graft.sum text; `path` is used in messages, which read
// "<path>:<line>: <what> (<how to fix>)". kBadInput, except kDrift for an
// unresolved merge conflict (lines of <<<<<<<, =======, >>>>>>>).
Result<SumFile> parseSum(std::string_view text, const std::string& path);
// Reads `path`; std::nullopt when the file does not exist.
Result<std::optional<SumFile>> readSum(const std::string& path);

// ok when `recorded` (read from `path`) equals `computed`; else kDrift naming
// the first entry that differs and how to fix it.
Status compareSum(const SumFile& recorded, const SumFile& computed, const std::string& path);

// What Host::up calls first: ok when there is no graft.sum beside the
// catalog's manifest, or when it matches the catalog; else the error of
// readSum, computeSum or compareSum, prefixed with "sum check".
Status checkSumFile(const Catalog& catalog);

// Writes `sum` to `path` through a temporary file and a rename, so a reader
// never sees half a file. Errors are kBadInput and name the path.
Status writeSum(const SumFile& sum, const std::string& path);

}  // namespace graft

#endif  // GRAFT_HOST_PLAN_SUMFILE_H_
