// Fuzzes parseManifest (host/plan/manifest.h): any text gives a manifest whose
// ids are valid and unique, or one error line that names the file.
#include <set>
#include <string_view>

#include "fuzz_check.h"
#include "plan/manifest.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace graft;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto manifest = parseManifest(text, "fuzz/manifest.json");
  if (!manifest.ok()) {
    fuzz::requireOneLineError(manifest.status(), "fuzz/manifest.json", {Code::kBadInput});
    return 0;
  }
  fuzz::require(manifest->path == "fuzz/manifest.json", "path not kept");
  std::set<std::string> seen;
  for (const auto& id : manifest->ids) {
    fuzz::require(isValidMigrationId(id), "invalid id accepted", id);
    fuzz::require(seen.insert(id).second, "duplicate id accepted", id);
  }
  return 0;
}
