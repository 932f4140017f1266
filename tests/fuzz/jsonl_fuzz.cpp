// Fuzzes importJsonLines (host/document/jsonl.h) into an in-memory SQLite store: the
// import takes every line or none, each stored body passes
// checkDocumentBody, and export writes one line per imported document.
#include <algorithm>
#include <sstream>
#include <string>

#include "fuzz_check.h"
#include "base/json_text.h"
#include "document/jsonl.h"
#include "store/sqlite_store.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace graft;
  StoreOptions options;
  options.create = true;
  auto store = SqliteStore::open(":memory:", options);
  fuzz::require(store.ok(), "can not open an in-memory store", store.status().message());
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  int64_t imported = -1;
  Status s = importJsonLines(**store, "docs", in, "fuzz.jsonl", &imported);
  if (!s.ok()) {
    fuzz::requireOneLineError(s, "import: fuzz.jsonl:", {Code::kBadInput});
    fuzz::require(imported == 0, "a failed import reports documents");
    auto exists = (*store)->hasTable("docs");
    fuzz::require(exists.ok() && !*exists, "a failed import left its table");
    return 0;
  }
  int64_t documents = 0;
  Status each = (*store)->forEach("docs", [&](const Document& doc) {
    Status valid = checkDocumentBody(doc.body);
    fuzz::require(valid.ok(), "import stored a body the store refuses", valid.message());
    ++documents;
    return true;
  });
  fuzz::require(each.ok() && documents == imported, "import count differs from the table");
  std::ostringstream out;
  fuzz::require(exportJsonLines(**store, "docs", out).ok(), "export of an import failed");
  const std::string lines = out.str();
  fuzz::require(std::count(lines.begin(), lines.end(), '\n') == imported,
                "export wrote another number of lines");
  return 0;
}
