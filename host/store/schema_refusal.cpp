#include "store/schema_refusal.h"

#include "base/json_text.h"
#include "schema/schema.h"

namespace graft {

Status schemaRefusal(Store& store, std::string_view table, std::optional<int64_t> id,
                     std::string_view body, const std::string& check_says) {
  const std::string what = id ? std::string(table) + "/" + std::to_string(*id)
                              : "a new document in " + std::string(table);
  std::string reason;
  std::string version = "the schema";
  auto record = store.loadSchema();
  if (record.ok() && *record) {
    version = "schema v" + std::to_string((*record)->version);
    auto schema = parseSchema((*record)->text, version);
    const TableSchema* declared = schema.ok() ? schema->find(table) : nullptr;
    if (declared) {
      auto parsed = parseJson(body, what);
      if (parsed.ok() && parsed->is_object()) {
        if (auto why = validateDocument(declared->document, parsed->get_object())) reason = *why;
      }
    }
  }
  if (reason.empty()) {
    reason = check_says;
    if (size_t colon = reason.find(": ");
        reason.rfind("schema v", 0) == 0 && colon != std::string::npos)
      reason = reason.substr(colon + 2);
  }
  return Status(Code::kSchema, version + " refuses " + what + ": " + reason);
}

}  // namespace graft
