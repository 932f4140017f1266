#include "schema/schema_check.h"

#include <boost/json.hpp>

#include "base/json_text.h"
#include "plugins/step_spec.h"

namespace graft {

int64_t SchemaCheck::failed() const {
  int64_t n = 0;
  for (const auto& t : tables) n += t.failed;
  return n;
}

std::string documentsDo(int64_t n) {
  return std::to_string(n) + (n == 1 ? " document does" : " documents do");
}

namespace {

// Counts a document that failed (`why` set), keeping the first `samples`.
void noteFailure(TableCheck* check, int64_t id, const std::optional<std::string>& why,
                 size_t samples) {
  if (!why) return;
  ++check->failed;
  if (check->samples.size() < samples) check->samples.emplace_back(id, *why);
}

Status checkTable(Store& store, const TableSchema* declared, bool refuse_unknown, size_t samples,
                  TableCheck* out) {
  return store.forEach(out->table, [&](const Document& doc) {
    ++out->documents;
    std::optional<std::string> why;
    if (!declared) {
      if (refuse_unknown) why = "table \"" + out->table + "\" is not in the schema";
    } else {
      auto body = parseJsonLocated(doc.body, "body");
      if (!body.ok() || !body->value.is_object()) {
        why = "stored body is not a JSON object";
      } else if (!body->locator.duplicates().empty()) {
        // SQLite's JSON functions (and so the triggers) read the first of
        // two equal keys, Boost.JSON the last: such a document means two
        // things, and no schema can vouch for it.
        const auto& d = body->locator.duplicates().front();
        why = "key " + jsonQuoted(d.key) + " is given twice (at " + d.pointer +
              "; clients may read either value: rewrite the document with it once)";
      } else {
        why = validateDocument(declared->document, body->value.get_object());
      }
    }
    noteFailure(out, doc.id, why, samples);
    return true;
  });
}

}  // namespace

Result<SchemaCheck> checkData(Store& store, const Schema& schema, size_t samples) {
  SchemaCheck check;
  auto names = store.tables();
  if (!names.ok()) return names.status();
  for (const TableSchema& table : schema.tables) {
    TableCheck t;
    t.table = table.name;
    auto exists = store.hasTable(table.name);
    if (!exists.ok()) return exists.status();
    if (*exists && schema.validation)
      GRAFT_RETURN_IF_ERROR(checkTable(store, &table, false, samples, &t));
    check.tables.push_back(std::move(t));
  }
  for (const auto& name : *names) {
    if (schema.find(name)) continue;
    TableCheck t;
    t.table = name;
    t.declared = false;
    if (schema.validation && !schema.allow_unknown_tables)
      GRAFT_RETURN_IF_ERROR(checkTable(store, nullptr, true, samples, &t));
    check.tables.push_back(std::move(t));
  }
  return check;
}

std::string formatCheck(const SchemaCheck& check) {
  std::string out;
  for (const auto& t : check.tables) {
    out += "  " + t.table + ": ";
    if (!t.declared && t.documents == 0 && t.failed == 0) {
      out += "not in the schema (allowed)\n";
      continue;
    }
    if (t.failed == 0) {
      out += std::to_string(t.documents) + (t.documents == 1 ? " document" : " documents") +
             ", all match\n";
      continue;
    }
    out += std::to_string(t.failed) + " of " + std::to_string(t.documents) +
           (t.documents == 1 ? " document does" : " documents do") + " not match\n";
    for (const auto& [id, why] : t.samples)
      out += "    " + t.table + "/" + std::to_string(id) + ": " + why + "\n";
    if (t.failed > static_cast<int64_t>(t.samples.size()))
      out += "    ... and " + std::to_string(t.failed - static_cast<int64_t>(t.samples.size())) +
             " more\n";
  }
  return out;
}

Status pushSchema(Store& store, const Schema& schema, const std::string& user, SchemaCheck* check) {
  GRAFT_RETURN_IF_ERROR(store.begin());
  auto checked = checkData(store, schema);
  Status result;
  if (!checked.ok()) {
    result = checked.status();
  } else {
    *check = std::move(*checked);
    if (check->failed() > 0) {
      result = Status(Code::kSchema, documentsDo(check->failed()) +
                                         " not match the schema; nothing was changed (migrate "
                                         "them first, or relax the schema)");
    } else {
      result = store.installSchema(schema, schemaJson(schema), user);
    }
  }
  if (!result.ok()) {
    (void)store.rollback();
    return result;
  }
  return store.commit();
}

Result<TableCheck> verifyStep(Store& store, const graft_step& step, size_t samples) {
  TableCheck check;
  check.table = step.table;
  std::optional<Validator> fields;
  if (step.verify_json) {
    auto parsed = parseVerifyValidator(step.verify_json, "verify of " + check.table);
    if (!parsed.ok()) return parsed.status();
    fields = std::move(*parsed);
  }
  auto exists = store.hasTable(check.table);
  if (!exists.ok()) return exists.status();
  if (!*exists) return check;
  Status failure;
  Status read = store.forEach(check.table, [&](const Document& doc) {
    ++check.documents;
    std::optional<std::string> why;
    if (fields) {
      boost::system::error_code ec;
      boost::json::value body = boost::json::parse(doc.body, ec);
      if (ec || !body.is_object()) why = "stored body is not a JSON object";
      else why = checkVerifyValidator(*fields, body.get_object());
    }
    if (!why && step.verify_one) {
      const std::string text = documentJson(doc);
      char err[1024];
      err[0] = '\0';
      const int32_t rc = step.verify_one(text.data(), text.size(), err, sizeof err);
      if (rc == GRAFT_VERIFY_FAILS) {
        why = err[0] ? err : "the migration's verify check does not hold";
      } else if (rc != GRAFT_VERIFY_HOLDS) {
        failure = Status(Code::kMigrationFailed,
                         "verify failed on " + check.table + "/" + std::to_string(doc.id) + ": " +
                             (err[0] ? err : "no reason given"));
        return false;
      }
    }
    noteFailure(&check, doc.id, why, samples);
    return true;
  });
  GRAFT_RETURN_IF_ERROR(read);
  GRAFT_RETURN_IF_ERROR(failure);
  return check;
}

std::string describeVerifyFailure(const TableCheck& check) {
  std::string out = std::to_string(check.failed) + " of " + std::to_string(check.documents) +
                    " documents in " + check.table + " do not hold: ";
  for (size_t i = 0; i < check.samples.size() && i < 3; ++i) {
    if (i) out += ", ";
    out += check.table + "/" + std::to_string(check.samples[i].first) + " (" +
           check.samples[i].second + ")";
  }
  if (check.failed > 3) out += ", ...";
  return out;
}

Result<SchemaInForce> parseSchemaRecord(SchemaRecord record) {
  auto schema = parseSchema(record.text, "schema v" + std::to_string(record.version) +
                                             " (recorded in the store)");
  if (!schema.ok()) return Status(Code::kStore, schema.status().message());
  return SchemaInForce{std::move(record), std::move(*schema)};
}

Result<std::optional<SchemaInForce>> loadSchemaInForce(Store& store) {
  auto record = store.loadSchema();
  if (!record.ok()) return record.status();
  if (!*record) return std::optional<SchemaInForce>();
  auto parsed = parseSchemaRecord(std::move(**record));
  if (!parsed.ok()) return parsed.status();
  return std::optional<SchemaInForce>(std::move(*parsed));
}

}  // namespace graft
