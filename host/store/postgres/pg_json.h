// pg_json.h -- a document's body between graft's JSON text and jsonb.
//
// jsonb keeps a document's meaning only in part: it orders an object's
// keys (shorter keys first, then by bytes), keeps the last of two equal
// keys, writes a number as the decimal it is (1E0 as 1, 1.5e3 as 1500),
// drops the sign of a zero (-0.0 as 0.0) and can not hold the character
// U+0000. Boost.JSON, with which graft and every plugin read a body, reads
// a number without a fraction or an exponent as an integer: so 1E0, a
// float64 to graft, would come back an int64. graft's rule, for both
// directions, so that a body means the same after it was stored:
//   - a number with a fraction or an exponent (a float64) is written as a
//     plain decimal with a fraction ("1500.0", "0.00015"), the exact
//     decimal of its shortest round-trip form, which jsonb keeps as it is;
//     and read back in its shortest form with a fraction or an exponent
//     ("1500.0", "1.5e+300"), which reads as the same float64;
//   - an integer is written and read as it is (jsonb keeps every digit);
//   - what jsonb can not keep is refused before the server sees it, in one
//     line: U+0000 in a string, a key given twice, -0.0, a number beyond
//     float64.
// Key order is jsonb's; a body is read back compact (no spaces).
#ifndef GRAFT_HOST_STORE_POSTGRES_PG_JSON_H_
#define GRAFT_HOST_STORE_POSTGRES_PG_JSON_H_

#include <string>
#include <string_view>

#include "base/status.h"

namespace graft {

// The text to hand the server for `body` (a JSON object's text), or why
// jsonb would not keep its meaning (kBadInput: the document is at fault).
Result<std::string> bodyToJsonb(std::string_view body);

// graft's text of a body the server returned: compact, without the
// server's spaces after ':' and ','.
std::string bodyFromJsonb(std::string_view text);

}  // namespace graft

#endif  // GRAFT_HOST_STORE_POSTGRES_PG_JSON_H_
