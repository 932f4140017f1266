#include "document/jsonl.h"

#include "base/json_text.h"
#include "document/patch.h"

namespace graft {

Status importJsonLines(Store& store, const std::string& table, std::istream& in,
                       const std::string& source, int64_t* imported) {
  *imported = 0;
  GRAFT_RETURN_IF_ERROR(checkTableName(table).prefixed("import"));
  GRAFT_RETURN_IF_ERROR(store.begin());
  auto fail = [&](Status s) {
    (void)store.rollback();
    *imported = 0;
    return s.prefixed("import");
  };
  Status created = store.createTable(table);
  if (!created.ok()) return fail(created);
  std::string line;
  int64_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    // parseJson skips a byte order mark at the start of a file; the body
    // stored must not keep it.
    const size_t bom = number == 1 ? byteOrderMarkSize(line) : 0;
    const std::string_view text = std::string_view(line).substr(bom);
    if (text.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = source + ":" + std::to_string(number);
    auto parsed = parseJsonLocated(line, source, number);
    if (!parsed.ok()) return fail(parsed.status());
    if (!parsed->value.is_object())
      return fail(Status(Code::kBadInput, where + ": not a JSON object (each line is one document)"));
    if (!parsed->locator.duplicates().empty()) {
      const auto& twice = parsed->locator.duplicates().front();
      return fail(Status(Code::kBadInput, twice.where + ": key " + jsonQuoted(twice.key) +
                                              " given twice (first at " + twice.first +
                                              "): a document holds each key once"));
    }
    auto body = newBody(text);
    if (!body.ok()) {
      const bool system_field = body.status().message().rfind("document sets ", 0) == 0;
      return fail(Status(Code::kBadInput,
                         where + ": " + body.status().message() +
                             (system_field ? " (remove _id and _creationTime from the input)"
                                           : " (documents hold float64 and int64 numbers)")));
    }
    auto id = store.insert(table, *body);
    // A document the store refuses (the schema in force) is the input's
    // fault: say which line.
    if (!id.ok() && (id.status().code() == Code::kBadInput || id.status().code() == Code::kSchema))
      return fail(Status(id.status().code(),
                         where + ": " + id.status().message() + "; nothing was imported"));
    if (!id.ok()) return fail(id.status());
    ++*imported;
  }
  if (in.bad()) return fail(Status(Code::kBadInput, source + ": read error"));
  Status committed = store.commit();
  if (!committed.ok()) return fail(committed);
  return Status::Ok();
}

Status exportJsonLines(Store& store, const std::string& table, std::ostream& out) {
  // Each line is checked before it is written: a document another client
  // stored broken stops the export there, named, instead of going out as a
  // line that is not JSON or, spliced, as a different document.
  Status bad;
  Status s = store.forEach(table, [&](const Document& doc) {
    bad = checkDocumentBody(doc.body);
    if (!bad.ok()) {
      bad = Status(Code::kBadInput, "export " + table + "/" + std::to_string(doc.id) + ": " +
                                        bad.message() +
                                        " (another client wrote it: repair or delete that row)");
      return false;
    }
    out << documentJson(doc) << '\n';
    return static_cast<bool>(out);
  });
  if (!s.ok()) return s.prefixed("export");
  if (!bad.ok()) return bad;
  if (!out) return Status(Code::kBadInput, "export: could not write the output");
  return Status::Ok();
}

}  // namespace graft
