// schema_cases.h -- bodies and validators with the verdict and reason the
// C++ validator gives: the table every SQL form of the validators
// (SQLite's in schema_test.cpp, PostgreSQL's in pg_store_test.cpp) must
// agree with.
#ifndef GRAFT_TESTS_UNIT_SCHEMA_CASES_H_
#define GRAFT_TESTS_UNIT_SCHEMA_CASES_H_

#include <string>
#include <vector>

namespace graft::test {

struct SchemaCase {
  const char* fields;    // the document validator's fields
  const char* document;  // the body
  std::string reason;    // "" when valid
};

const std::vector<SchemaCase>& schemaSemanticsCases();

}  // namespace graft::test

#endif  // GRAFT_TESTS_UNIT_SCHEMA_CASES_H_
