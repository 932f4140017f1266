// Fuzzes parseSum (host/plan/sumfile.h): any text gives a sum that formats back
// to text parsing to the same sum, or one error line "<path>:<line>: ...".
#include <string_view>

#include "fuzz_check.h"
#include "plan/manifest.h"
#include "plan/sumfile.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace graft;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto sum = parseSum(text, "fuzz/graft.sum");
  if (!sum.ok()) {
    fuzz::requireOneLineError(sum.status(), "fuzz/graft.sum:", {Code::kBadInput, Code::kDrift});
    return 0;
  }
  for (const auto& entry : sum->entries) {
    fuzz::require(isValidMigrationId(entry.id), "invalid id accepted", entry.id);
    fuzz::require(entry.hash == kPendingDigest || entry.hash.size() == 64, "bad hash accepted",
                  entry.hash);
  }
  const std::string again = formatSum(*sum);
  auto reparsed = parseSum(again, "fuzz/graft.sum");
  fuzz::require(reparsed.ok(), "formatted sum does not parse", again);
  fuzz::require(reparsed->total == sum->total && reparsed->entries.size() == sum->entries.size(),
                "formatted sum parses to another sum", again);
  for (size_t i = 0; i < sum->entries.size(); ++i) {
    fuzz::require(reparsed->entries[i].id == sum->entries[i].id &&
                      reparsed->entries[i].hash == sum->entries[i].hash,
                  "formatted sum parses to another entry", again);
  }
  return 0;
}
