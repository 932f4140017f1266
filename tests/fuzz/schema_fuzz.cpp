// Fuzzes the schema file and its two executions (host/schema/schema.h). The input
// is a schema file, optionally followed by a line "---" and documents, one
// JSON object a line. Any schema text gives a schema whose canonical form
// reads back the same, or one error line that names the file. For every
// document that graft could store, the C++ validator and its SQL form (run
// by SQLite, as the triggers run it) must agree, for every declared table.
#include <sqlite3.h>

#include <boost/json.hpp>

#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "base/json_text.h"
#include "schema/schema.h"

namespace {

// An in-memory database, opened once: SQLite's JSON functions need no table.
sqlite3* database() {
  static sqlite3* db = [] {
    sqlite3* d = nullptr;
    graft::fuzz::require(sqlite3_open(":memory:", &d) == SQLITE_OK, "can not open :memory:");
    return d;
  }();
  return db;
}

// The SQL check on `body`: true, false, or aborts on an error or a NULL
// (a check that can come out NULL would let a bad row through a trigger).
bool sqlAccepts(const std::string& expr, const std::string& body) {
  const std::string sql = "SELECT " + expr + " FROM (SELECT ?1 AS body)";
  sqlite3_stmt* stmt = nullptr;
  graft::fuzz::require(sqlite3_prepare_v2(database(), sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK,
                       "generated SQL does not prepare", sqlite3_errmsg(database()) + (" in " + sql));
  sqlite3_bind_text(stmt, 1, body.data(), static_cast<int>(body.size()), SQLITE_TRANSIENT);
  const int rc = sqlite3_step(stmt);
  const bool row = rc == SQLITE_ROW;
  const bool integer = row && sqlite3_column_type(stmt, 0) == SQLITE_INTEGER;
  const bool accepts = integer && sqlite3_column_int64(stmt, 0) != 0;
  const std::string error = sqlite3_errmsg(database());
  sqlite3_finalize(stmt);
  graft::fuzz::require(row, "generated SQL fails", error + " for " + body);
  graft::fuzz::require(integer, "generated SQL gives NULL", body);
  return accepts;
}

// Boost.JSON 1.81 parses some 17-digit decimals one ulp off, so a float
// literal may not read back bit for bit from the canonical text.
bool hasFloatLiteral(const graft::Validator& v) {
  if (v.kind == graft::Validator::Kind::kLiteral && v.literal.is_double()) return true;
  for (const auto& item : v.items)
    if (hasFloatLiteral(item)) return true;
  for (const auto& field : v.fields)
    if (hasFloatLiteral(field.second)) return true;
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace graft;
  const auto [text, documents] = fuzz::splitInput(data, size, "\n---\n");
  auto schema = parseSchema(text, "fuzz/schema.json");
  if (!schema.ok()) {
    fuzz::requireOneLineError(schema.status(), "fuzz/schema.json", {Code::kBadInput});
    return 0;
  }
  const std::string canonical = schemaJson(*schema);
  auto again = parseSchema(canonical, "canonical");
  fuzz::require(again.ok(), "canonical schema does not parse", again.status().message());
  bool floats = false;
  for (const TableSchema& table : schema->tables) floats = floats || hasFloatLiteral(table.document);
  if (!floats)
    fuzz::require(schemaJson(*again) == canonical, "canonical schema does not read back the same",
                  canonical);
  if (!documents) return 0;

  std::string_view rest = *documents;
  while (!rest.empty()) {
    const size_t end = rest.find('\n');
    const std::string line(rest.substr(0, end));
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
    // Only what the store would hold: a JSON object graft can read. A key
    // given twice is read differently by the two sides (SQLite's JSON
    // functions take the first, Boost.JSON the last); checkData refuses it.
    if (!checkDocumentBody(line).ok()) continue;
    auto doc = parseJsonLocated(line, "doc");
    if (!doc.ok() || !doc->value.is_object() || !doc->locator.duplicates().empty()) continue;
    for (const TableSchema& table : schema->tables) {
      const auto why = validateDocument(table.document, doc->value.get_object());
      if (why)
        fuzz::require(why->find('\n') == std::string::npos, "reason of more than one line", *why);
      const bool sql = sqlAccepts(sqlCheckDocument(table.document, "body"), line);
      fuzz::require(sql == !why.has_value(), "C++ and SQL validators disagree",
                    table.name + ": " + line + " (C++: " + why.value_or("ok") + ")");
    }
  }
  return 0;
}
