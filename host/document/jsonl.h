// jsonl.h -- documents in and out as JSON lines (one JSON object a line).
#ifndef GRAFT_HOST_DOCUMENT_JSONL_H_
#define GRAFT_HOST_DOCUMENT_JSONL_H_

#include <cstdint>
#include <istream>
#include <ostream>
#include <string>

#include "base/status.h"
#include "store/store.h"

namespace graft {

// Inserts every line of `in` into `table` (created if needed), in ONE
// transaction: on any error nothing is imported. Blank lines are skipped, and
// so is a byte order mark before the first line. Each document is stored as
// its line gives it (newBody): numbers, keys and their order as written. A
// key given twice in one object is refused. Errors name "<source>:<line>"
// or "<source>:<line>:<column>" (kBadInput), or the database (kStore).
Status importJsonLines(Store& store, const std::string& table, std::istream& in,
                       const std::string& source, int64_t* imported);

// Writes each document of `table`, in _id order, with _id and _creationTime.
Status exportJsonLines(Store& store, const std::string& table, std::ostream& out);

}  // namespace graft

#endif  // GRAFT_HOST_DOCUMENT_JSONL_H_
