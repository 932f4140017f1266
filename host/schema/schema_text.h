// schema_text.h -- JSON text helpers schema.cpp and schema_sql.cpp share;
// not part of the host library's interface.
#ifndef GRAFT_HOST_SCHEMA_SCHEMA_TEXT_H_
#define GRAFT_HOST_SCHEMA_SCHEMA_TEXT_H_

#include <string>
#include <string_view>

namespace graft {

// The shortest text that reads back as `d`, keeping ".0" on whole numbers
// (1.0 is a float, not an int64): "1.5", "1.0", "1e+300".
std::string formatDouble(double d);

// `s` as a JSON string literal, quotes included.
std::string quoteJson(std::string_view s);

}  // namespace graft

#endif  // GRAFT_HOST_SCHEMA_SCHEMA_TEXT_H_
