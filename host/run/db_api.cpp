#include "run/db_api.h"

#include <boost/json.hpp>

#include <cstring>
#include <exception>

#include "base/json_text.h"
#include "document/patch.h"
#include "schema/schema_check.h"
#include "plugins/step_spec.h"

namespace graft {
namespace {

int32_t fail(char* err, size_t cap, const std::string& message) {
  if (cap > 0) {
    size_t n = message.size() < cap - 1 ? message.size() : cap - 1;
    std::memcpy(err, message.data(), n);
    err[n] = '\0';
  }
  return GRAFT_DB_ERROR;
}

std::string where(const char* table, int64_t id) {
  return std::string(table) + "/" + std::to_string(id);
}

// Runs `body`, turning a Status or an exception into GRAFT_DB_ERROR and text:
// nothing may unwind into plugin code.
template <class F>
int32_t guarded(graft_db* db, char* err, size_t cap, const char* op, F&& body) noexcept {
  DocApi* api = DocApi::from(db);
  if (api->outsideTransaction()) {
    api->noteCalledOutside();
    return fail(err, cap, std::string("ctx.db.") + op + ": retried inside the transaction");
  }
  try {
    return body();
  } catch (const std::exception& e) {
    return fail(err, cap, std::string("ctx.db.") + op + ": " + e.what());
  } catch (...) {
    return fail(err, cap, std::string("ctx.db.") + op + ": unknown error");
  }
}

Status writable(const char* table) { return checkTableName(table ? table : ""); }

int32_t dbGet(graft_db* db, const char* table, int64_t id, const char** doc, size_t* len,
              char* err, size_t cap) {
  return guarded(db, err, cap, "get", [&]() -> int32_t {
    DocApi* api = DocApi::from(db);
    auto found = api->store().get(table, id);
    if (!found.ok()) return fail(err, cap, "ctx.db.get " + where(table, id) + ": " + found.status().message());
    if (!*found) return GRAFT_DB_NOT_FOUND;
    Status valid = checkDocumentBody((*found)->body);
    if (!valid.ok()) return fail(err, cap, "ctx.db.get " + where(table, id) + ": " + valid.message());
    api->out() = documentJson(**found);
    *doc = api->out().data();
    *len = api->out().size();
    return GRAFT_DB_OK;
  });
}

// Hands `found` to the plugin as one JSON array; a document graft itself
// could not read (see checkDocumentBody) fails the call instead.
int32_t returnDocuments(DocApi* api, const char* table, const std::vector<Document>& found,
                        const char** docs, size_t* len, char* err, size_t cap) {
  std::string& out = api->out();
  out.clear();  // not `out = "["`: GCC 12 at -O3 warns falsely (-Wrestrict) on that
  out += '[';
  for (size_t i = 0; i < found.size(); ++i) {
    Status valid = checkDocumentBody(found[i].body);
    if (!valid.ok())
      return fail(err, cap, "ctx.db.query " + where(table, found[i].id) + ": " + valid.message());
    if (i) out += ',';
    out += documentJson(found[i]);
  }
  out += ']';
  *docs = out.data();
  *len = out.size();
  return GRAFT_DB_OK;
}

// ctx.db.query(table).withIndex(range): through the SQLite index behind a
// declared index of the schema in force.
int32_t queryIndex(DocApi* api, const char* table, const boost::json::object& spec,
                   const char** docs, size_t* len, char* err, size_t cap) {
  const std::string what = std::string("ctx.db.query ") + table + " withIndex";
  boost::json::object range_json = spec;
  int64_t limit = -1;
  if (const auto* l = range_json.if_contains("limit")) {
    if (!l->is_int64()) return fail(err, cap, what + ": \"limit\" must be an integer");
    limit = l->get_int64();
    range_json.erase("limit");
  }
  auto range = parseRangeSpec(range_json, what);
  if (!range.ok()) return fail(err, cap, range.status().message());
  auto schema = api->schemaInForce();
  if (!schema.ok()) return fail(err, cap, what + ": " + schema.status().message());
  auto resolved = resolveRange(*range, *schema, table, what);
  if (!resolved.ok()) return fail(err, cap, resolved.status().message());
  auto exists = api->store().hasTable(table);
  if (!exists.ok()) return fail(err, cap, what + ": " + exists.status().message());
  std::vector<Document> found;
  if (*exists) {
    Status s = api->store().scanRange(table, *resolved, Cursor{}, limit, &found);
    if (!s.ok()) return fail(err, cap, what + ": " + s.message());
  }
  return returnDocuments(api, table, found, docs, len, err, cap);
}

int32_t dbQuery(graft_db* db, const char* table, const char* spec_json, const char** docs,
                size_t* len, char* err, size_t cap) {
  return guarded(db, err, cap, "query", [&]() -> int32_t {
    DocApi* api = DocApi::from(db);
    boost::system::error_code ec;
    boost::json::value spec_value =
        boost::json::parse(spec_json ? spec_json : "{}", ec, {}, jsonParseOptions(2));
    if (ec || !spec_value.is_object())
      return fail(err, cap, std::string("ctx.db.query ") + table + ": the query is not a JSON object");
    if (spec_value.get_object().contains("index"))
      return queryIndex(api, table, spec_value.get_object(), docs, len, err, cap);
    QuerySpec spec;
    for (const auto& [key, value] : spec_value.get_object()) {
      if (key == "eq" && value.is_object()) {
        for (const auto& [field, v] : value.get_object()) spec.equals.emplace_back(field, v);
      } else if (key == "after" && value.is_int64()) {
        spec.after_id = value.get_int64();
      } else if (key == "limit" && value.is_int64()) {
        spec.limit = value.get_int64();
      } else {
        return fail(err, cap, std::string("ctx.db.query ") + table + ": unknown or ill-typed key \"" +
                                  std::string(key) + "\"");
      }
    }
    std::vector<Document> found;
    Status s = api->store().query(table, spec, &found);
    if (!s.ok()) return fail(err, cap, std::string("ctx.db.query ") + table + ": " + s.message());
    return returnDocuments(api, table, found, docs, len, err, cap);
  });
}

int32_t dbInsert(graft_db* db, const char* table, const char* doc_json, int64_t* new_id, char* err,
                 size_t cap) {
  return guarded(db, err, cap, "insert", [&]() -> int32_t {
    DocApi* api = DocApi::from(db);
    std::string context = std::string("ctx.db.insert ") + (table ? table : "") + ": ";
    Status ok = writable(table);
    if (!ok.ok()) return fail(err, cap, context + ok.message());
    auto body = newBody(doc_json ? doc_json : "");
    if (!body.ok()) return fail(err, cap, context + body.status().message());
    Status valid = checkMadeBody(*body);
    if (!valid.ok()) return fail(err, cap, context + valid.message());
    auto id = api->store().insert(table, *body);
    if (!id.ok()) return fail(err, cap, context + id.status().message());
    *new_id = *id;
    ++api->counts().inserts;
    ++api->log().by_table[table].inserts;
    if (api->log().wantsExample()) {
      auto inserted = api->store().get(table, *id);
      if (inserted.ok() && *inserted) api->log().example({table, *id, "", documentJson(**inserted)});
    }
    return GRAFT_DB_OK;
  });
}

int32_t dbPatch(graft_db* db, const char* table, int64_t id, const char* patch_json, char* err,
                size_t cap) {
  return guarded(db, err, cap, "patch", [&]() -> int32_t {
    DocApi* api = DocApi::from(db);
    std::string context = "ctx.db.patch " + where(table ? table : "", id) + ": ";
    Status ok = writable(table);
    if (!ok.ok()) return fail(err, cap, context + ok.message());
    auto current = api->store().get(table, id);
    if (!current.ok()) return fail(err, cap, context + current.status().message());
    if (!*current) return fail(err, cap, context + "no such document");
    auto patched = applyPatch((*current)->body, patch_json ? patch_json : "");
    if (!patched.ok()) return fail(err, cap, context + patched.status().message());
    if (patched->changed) {
      Status valid = checkMadeBody(patched->body);
      if (!valid.ok()) return fail(err, cap, context + valid.message());
      auto updated = api->store().update(table, id, patched->body);
      if (!updated.ok()) return fail(err, cap, context + updated.status().message());
      ++api->counts().patches;
      ++api->log().by_table[table].patches;
      if (api->log().wantsExample())
        api->log().example({table, id, documentJson(**current),
                            documentJson(Document{id, (*current)->creation_time, patched->body, {}})});
    }
    return GRAFT_DB_OK;
  });
}

int32_t dbReplace(graft_db* db, const char* table, int64_t id, const char* doc_json, char* err,
                  size_t cap) {
  return guarded(db, err, cap, "replace", [&]() -> int32_t {
    DocApi* api = DocApi::from(db);
    std::string context = "ctx.db.replace " + where(table ? table : "", id) + ": ";
    Status ok = writable(table);
    if (!ok.ok()) return fail(err, cap, context + ok.message());
    auto current = api->store().get(table, id);
    if (!current.ok()) return fail(err, cap, context + current.status().message());
    if (!*current) return fail(err, cap, context + "no such document");
    auto body = newBody(doc_json ? doc_json : "", id, (*current)->creation_time);
    if (!body.ok()) return fail(err, cap, context + body.status().message());
    Status valid = checkMadeBody(*body);
    if (!valid.ok()) return fail(err, cap, context + valid.message());
    auto updated = api->store().update(table, id, *body);
    if (!updated.ok()) return fail(err, cap, context + updated.status().message());
    ++api->counts().replaces;
    ++api->log().by_table[table].replaces;
    if (api->log().wantsExample())
      api->log().example({table, id, documentJson(**current),
                          documentJson(Document{id, (*current)->creation_time, *body, {}})});
    return GRAFT_DB_OK;
  });
}

int32_t dbRemove(graft_db* db, const char* table, int64_t id, char* err, size_t cap) {
  return guarded(db, err, cap, "delete", [&]() -> int32_t {
    DocApi* api = DocApi::from(db);
    std::string context = "ctx.db.delete " + where(table ? table : "", id) + ": ";
    Status ok = writable(table);
    if (!ok.ok()) return fail(err, cap, context + ok.message());
    std::string before;
    if (api->log().wantsExample()) {
      auto current = api->store().get(table, id);
      if (current.ok() && *current) before = documentJson(**current);
    }
    auto removed = api->store().remove(table, id);
    if (!removed.ok()) return fail(err, cap, context + removed.status().message());
    if (!*removed) return GRAFT_DB_NOT_FOUND;
    ++api->counts().deletes;
    ++api->log().by_table[table].deletes;
    if (api->log().wantsExample()) api->log().example({table, id, before, ""});
    return GRAFT_DB_OK;
  });
}

}  // namespace

const graft_db_api* DocApi::table() {
  static const graft_db_api kTable = {sizeof(graft_db_api), &dbGet,     &dbQuery,
                                      &dbInsert,            &dbPatch,   &dbReplace,
                                      &dbRemove};
  return &kTable;
}

Result<const Schema*> DocApi::schemaInForce() {
  auto record = store_.loadSchema();
  if (!record.ok()) return record.status();
  if (!*record) {
    schema_.reset();
    return static_cast<const Schema*>(nullptr);
  }
  if (!schema_ || schema_->record.version != (*record)->version) {
    auto parsed = parseSchemaRecord(std::move(**record));
    if (!parsed.ok()) return parsed.status();
    schema_ = std::move(*parsed);
  }
  return &schema_->schema;
}

}  // namespace graft
