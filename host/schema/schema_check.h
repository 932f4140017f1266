// schema_check.h -- the data at rest against a schema: check, push, load.
//
// `graft schema push` is check-then-install in ONE write transaction: no
// write can slip in between the check that found every document valid and
// the triggers that keep them valid. Applications' writes wait for it (the
// busy timeout) and are then checked by the new schema.
#ifndef GRAFT_HOST_SCHEMA_SCHEMA_CHECK_H_
#define GRAFT_HOST_SCHEMA_SCHEMA_CHECK_H_

#include <graft/graft.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "schema/schema.h"
#include "base/status.h"
#include "store/store.h"

namespace graft {

struct TableCheck {
  std::string table;
  bool declared = true;   // false: a table the schema does not name
  int64_t documents = 0;  // checked
  int64_t failed = 0;
  std::vector<std::pair<int64_t, std::string>> samples;  // (_id, reason), the first few
};

struct SchemaCheck {
  std::vector<TableCheck> tables;  // declared tables in schema order, then the others
  int64_t failed() const;
};

constexpr size_t kSchemaSamples = 10;

// "1 document does" / "N documents do": how the reports count documents.
std::string documentsDo(int64_t n);

// Reads every document of every table and validates it. With validation
// off nothing is checked (every table reports 0 failed); with unknown
// tables refused, each document of an undeclared table fails.
Result<SchemaCheck> checkData(Store& store, const Schema& schema, size_t samples = kSchemaSamples);

// The report, one line per table plus the samples:
//   users: 3 of 1000 documents do not match
//     users/42: missing required field "role"
std::string formatCheck(const SchemaCheck& check);

// Checks, then installs `schema` as the store's next version, all in one
// transaction. kSchema (nothing changed) when a document does not match;
// `check` is filled either way.
Status pushSchema(Store& store, const Schema& schema, const std::string& user, SchemaCheck* check);

// A migration step's verify (graft.h: verify_json, verify_one) over every
// document of its table; kMigrationFailed when verify_one itself fails.
Result<TableCheck> verifyStep(Store& store, const graft_step& step,
                              size_t samples = kSchemaSamples);

// "3 of 1000 documents in users do not hold: users/4 (missing required
// field "role"), users/9 (...)": the first three samples.
std::string describeVerifyFailure(const TableCheck& check);

// The schema in force, parsed; nullopt when none was pushed.
struct SchemaInForce {
  SchemaRecord record;
  Schema schema;
};
Result<std::optional<SchemaInForce>> loadSchemaInForce(Store& store);
// The same for a record already read (kStore if its text does not parse).
Result<SchemaInForce> parseSchemaRecord(SchemaRecord record);

}  // namespace graft

#endif  // GRAFT_HOST_SCHEMA_SCHEMA_CHECK_H_
